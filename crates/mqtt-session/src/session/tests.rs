//! Session tests driven by a scripted fake broker: bytes in, expected bytes
//! out, a fake clock. Test-only; nothing here ships.

use super::*;
use crate::error::ProtocolError;
use crate::options::LastWill;
use crate::topic::TopicError;
use mqttbytes::v4;

struct Broker {
    s: Session,
    now: u64,
}

fn opts() -> Options {
    Options {
        client_id: "test".into(),
        keep_alive_secs: 60,
        ..Options::default()
    }
}

fn persistent() -> Options {
    Options {
        clean_session: false,
        ..opts()
    }
}

fn connack(session_present: bool, code: u8) -> Vec<u8> {
    vec![0x20, 2, u8::from(session_present), code]
}

fn ack(byte1: u8, pkid: u16) -> Vec<u8> {
    let [hi, lo] = pkid.to_be_bytes();
    vec![byte1, 2, hi, lo]
}
fn puback(pkid: u16) -> Vec<u8> {
    ack(0x40, pkid)
}
fn pubrec(pkid: u16) -> Vec<u8> {
    ack(0x50, pkid)
}
fn pubrel(pkid: u16) -> Vec<u8> {
    ack(0x62, pkid)
}
fn pubcomp(pkid: u16) -> Vec<u8> {
    ack(0x70, pkid)
}
fn unsuback(pkid: u16) -> Vec<u8> {
    ack(0xB0, pkid)
}
fn suback(pkid: u16, codes: &[u8]) -> Vec<u8> {
    let [hi, lo] = pkid.to_be_bytes();
    let mut v = vec![0x90, 2 + codes.len() as u8, hi, lo];
    v.extend_from_slice(codes);
    v
}
fn publish(topic: &str, payload: &[u8], qos: u8, pkid: u16, dup: bool, retain: bool) -> Vec<u8> {
    let q = match qos {
        0 => mqttbytes::QoS::AtMostOnce,
        1 => mqttbytes::QoS::AtLeastOnce,
        _ => mqttbytes::QoS::ExactlyOnce,
    };
    let mut p = v4::Publish::new(topic, q, payload.to_vec());
    p.pkid = pkid;
    p.dup = dup;
    p.retain = retain;
    let mut b = BytesMut::new();
    assert!(p.write(&mut b).is_ok());
    b.to_vec()
}
const PINGRESP: [u8; 2] = [0xD0, 0];
const PINGREQ: [u8; 2] = [0xC0, 0];

impl Broker {
    fn new(o: Options) -> Self {
        let s = match Session::new(o) {
            Ok(s) => s,
            Err(e) => panic!("options refused: {e}"),
        };
        Broker { s, now: 1_000 }
    }

    /// A session connected with CONNACK(session_present, 0), outputs drained.
    fn connected(o: Options) -> Self {
        let mut b = Broker::new(o);
        b.s.connect(b.now);
        b.sent();
        b.feed(&connack(false, 0));
        assert_eq!(
            b.events(),
            vec![Event::Connected {
                session_present: false
            }]
        );
        b
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.s.handle_bytes(self.now, bytes);
    }

    fn advance_to(&mut self, t: u64) {
        self.now = t;
        self.s.handle_timeout(t);
    }

    fn sent(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(chunk) = self.s.poll_transmit() {
            all.extend_from_slice(&chunk);
        }
        all
    }

    /// What the client sent, parsed by mqttbytes (a broker's reader).
    fn sent_packets(&mut self) -> Vec<v4::Packet> {
        let mut buf = BytesMut::from(&self.sent()[..]);
        let mut out = Vec::new();
        while !buf.is_empty() {
            match v4::read(&mut buf, usize::MAX) {
                Ok(p) => out.push(p),
                Err(e) => panic!("client sent something unreadable: {e:?}"),
            }
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.s.poll_event()).collect()
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> PublishId {
        match self
            .s
            .publish(self.now, topic, payload.to_vec(), qos, false)
        {
            Ok(id) => id,
            Err(e) => panic!("publish refused: {e}"),
        }
    }

    fn assert_closed_with(&mut self, error: SessionError) {
        let events = self.events();
        assert_eq!(events.last(), Some(&Event::Closed { error }), "{events:?}");
        assert_eq!(self.s.state(), ConnectionState::Closed);
        assert!(self.s.wants_close());
        assert_eq!(self.s.poll_transmit(), None);
    }
}

fn protocol(e: ProtocolError) -> SessionError {
    SessionError::Protocol(e)
}

fn message(topic: &str, payload: &'static [u8], qos: QoS, pkid: u16) -> Message {
    Message {
        topic: topic.into(),
        payload: Bytes::from_static(payload),
        qos,
        retain: false,
        dup: false,
        pkid,
        properties: None,
    }
}

// ----- CONNECT / CONNACK -----

#[test]
fn connect_writes_client_id_credentials_keepalive_clean_session_and_will_at_level_4() {
    let mut b = Broker::new(Options {
        client_id: "c1".into(),
        username: Some("u".into()),
        password: Some("p".into()),
        keep_alive_secs: 30,
        clean_session: false,
        last_will: Some(LastWill {
            topic: "w".into(),
            payload: b"bye".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: true,
        }),
        ..Options::default()
    });
    b.s.connect(b.now);
    assert_eq!(b.s.state(), ConnectionState::Connecting);
    let expected = vec![
        0x10, 28, 0, 4, b'M', b'Q', b'T', b'T', 4, 0xEC, 0, 30, 0, 2, b'c', b'1', 0, 1, b'w', 0, 3,
        b'b', b'y', b'e', 0, 1, b'u', 0, 1, b'p',
    ];
    let sent = b.sent();
    assert_eq!(sent, expected);
    // And a broker's reader agrees field by field.
    let mut buf = BytesMut::from(&sent[..]);
    let Ok(v4::Packet::Connect(c)) = v4::read(&mut buf, usize::MAX) else {
        panic!("not a CONNECT")
    };
    assert_eq!(c.client_id, "c1");
    assert_eq!(c.keep_alive, 30);
    assert!(!c.clean_session);
    assert_eq!(
        c.login,
        Some(v4::Login {
            username: "u".into(),
            password: "p".into()
        })
    );
    let will = c.last_will.unwrap_or_else(|| panic!("no will"));
    assert_eq!((will.topic.as_str(), &will.message[..]), ("w", &b"bye"[..]));
    assert_eq!(will.qos, mqttbytes::QoS::AtLeastOnce);
    assert!(will.retain);
}

#[test]
fn connect_for_mqtt_3_1_writes_mqisdp_level_3_with_every_field() {
    let mut b = Broker::new(Options {
        client_id: "c".into(),
        username: Some("u".into()),
        password: Some("p".into()),
        keep_alive_secs: 120,
        clean_session: true,
        protocol: ProtocolVersion::V3_1,
        last_will: Some(LastWill {
            topic: "w".into(),
            payload: b"x".to_vec(),
            qos: QoS::ExactlyOnce,
            retain: false,
        }),
        ..Options::default()
    });
    b.s.connect(b.now);
    let expected = vec![
        0x10, 27, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 0xD6, 0, 120, 0, 1, b'c', 0, 1,
        b'w', 0, 1, b'x', 0, 1, b'u', 0, 1, b'p',
    ];
    assert_eq!(b.sent(), expected);
}

#[test]
fn connack_accepted_reports_connected_with_session_present() {
    let mut b = Broker::new(persistent());
    b.s.connect(b.now);
    b.feed(&connack(true, 0));
    assert_eq!(
        b.events(),
        vec![Event::Connected {
            session_present: true
        }]
    );
    assert_eq!(b.s.state(), ConnectionState::Connected);
    assert!(!b.s.wants_close());
}

#[test]
fn connack_refusal_codes_1_to_5_are_reported_as_sentences_and_close_the_session() {
    let sentences = [
        "unacceptable protocol version",
        "identifier rejected",
        "server unavailable",
        "bad username or password",
        "not authorised",
    ];
    for (code, sentence) in (1u8..=5).zip(sentences) {
        let mut b = Broker::new(opts());
        b.s.connect(b.now);
        b.sent();
        b.feed(&connack(false, code));
        assert_eq!(
            b.events(),
            vec![
                Event::ConnectionRefused {
                    code,
                    reason: sentence.into()
                },
                Event::Closed {
                    error: SessionError::ConnectionRefused { code }
                }
            ]
        );
        assert_eq!(b.s.state(), ConnectionState::Closed);
        assert!(b.s.wants_close());
    }
}

#[test]
fn connack_with_an_unknown_return_code_is_a_protocol_error() {
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    b.feed(&connack(false, 6));
    b.assert_closed_with(protocol(ProtocolError::InvalidConnackCode(6)));
}

#[test]
fn connack_with_reserved_bits_set_is_a_protocol_error() {
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    b.feed(&[0x20, 2, 0x03, 0]);
    b.assert_closed_with(protocol(ProtocolError::ConnackReservedBits(3)));
}

#[test]
fn a_second_connack_is_a_protocol_error() {
    let mut b = Broker::connected(opts());
    b.feed(&connack(false, 0));
    b.assert_closed_with(protocol(ProtocolError::DuplicateConnack));
}

#[test]
fn anything_before_connack_is_a_protocol_error() {
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    b.feed(&publish("a", b"x", 0, 0, false, false));
    b.assert_closed_with(protocol(ProtocolError::PacketBeforeConnack {
        packet: "PUBLISH",
    }));
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    b.feed(&PINGRESP);
    b.assert_closed_with(protocol(ProtocolError::PacketBeforeConnack {
        packet: "PINGRESP",
    }));
}

#[test]
fn session_present_on_a_clean_session_is_a_protocol_error() {
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    b.feed(&connack(true, 0));
    b.assert_closed_with(protocol(ProtocolError::SessionPresentOnCleanSession));
}

#[test]
fn mqtt_3_1_reports_session_present_from_the_clean_session_flag() {
    for clean in [true, false] {
        let mut b = Broker::new(Options {
            protocol: ProtocolVersion::V3_1,
            clean_session: clean,
            ..opts()
        });
        b.s.connect(b.now);
        b.feed(&connack(false, 0));
        assert_eq!(
            b.events(),
            vec![Event::Connected {
                session_present: !clean
            }]
        );
    }
}

#[test]
fn no_connack_within_the_response_timeout_closes_the_session() {
    let mut b = Broker::new(Options {
        response_timeout_ms: 5_000,
        ..opts()
    });
    b.s.connect(1_000);
    assert_eq!(b.s.poll_timeout(), Some(6_000));
    b.advance_to(5_999);
    assert_eq!(b.s.state(), ConnectionState::Connecting);
    b.advance_to(6_000);
    b.assert_closed_with(SessionError::ConnackTimeout { waited_ms: 5_000 });
    assert_eq!(b.s.poll_timeout(), None);
}

#[test]
fn options_can_only_change_while_disconnected() {
    let mut b = Broker::connected(opts());
    assert_eq!(b.s.set_options(opts()), Err(ConfigError::NotDisconnected));
    b.s.disconnect(b.now);
    let new = Options {
        client_id: "other".into(),
        ..opts()
    };
    assert_eq!(b.s.set_options(new), Ok(()));
    assert_eq!(b.s.options().client_id, "other");
    assert_eq!(
        Session::new(Options {
            client_id: String::new(),
            clean_session: false,
            ..opts()
        })
        .err(),
        Some(ConfigError::EmptyClientIdNeedsCleanSession)
    );
}

// ----- SUBSCRIBE / UNSUBSCRIBE -----

#[test]
fn subscribe_with_several_filters_reports_granted_qos_per_filter_and_refusals() {
    let mut b = Broker::connected(opts());
    let filters = vec![
        ("a/+".to_string(), QoS::AtMostOnce),
        ("b/#".to_string(), QoS::AtLeastOnce),
        ("c".to_string(), QoS::ExactlyOnce),
        ("$SYS/#".to_string(), QoS::ExactlyOnce),
    ];
    let pkid = b.s.subscribe(b.now, filters).unwrap_or(0);
    assert_eq!(pkid, 1);
    let expected = vec![
        0x82, 27, 0, 1, 0, 3, b'a', b'/', b'+', 0, 0, 3, b'b', b'/', b'#', 1, 0, 1, b'c', 2, 0, 6,
        b'$', b'S', b'Y', b'S', b'/', b'#', 2,
    ];
    assert_eq!(b.sent(), expected);
    b.feed(&suback(1, &[0, 1, 1, 0x80]));
    assert_eq!(
        b.events(),
        vec![Event::Subscribed {
            pkid: 1,
            results: vec![
                ("a/+".into(), SubscribeResult::Granted(QoS::AtMostOnce)),
                ("b/#".into(), SubscribeResult::Granted(QoS::AtLeastOnce)),
                ("c".into(), SubscribeResult::Granted(QoS::AtLeastOnce)),
                ("$SYS/#".into(), SubscribeResult::Refused),
            ]
        }]
    );
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn suback_with_a_different_number_of_results_is_a_protocol_error() {
    let mut b = Broker::connected(opts());
    let filters = vec![
        ("a".to_string(), QoS::AtMostOnce),
        ("b".to_string(), QoS::AtMostOnce),
    ];
    assert_eq!(b.s.subscribe(b.now, filters), Ok(1));
    b.feed(&suback(1, &[0]));
    b.assert_closed_with(protocol(ProtocolError::SubAckCountMismatch {
        expected: 2,
        got: 1,
    }));
}

#[test]
fn suback_with_an_invalid_return_code_is_a_protocol_error() {
    let mut b = Broker::connected(opts());
    assert_eq!(
        b.s.subscribe(b.now, vec![("a".into(), QoS::AtMostOnce)]),
        Ok(1)
    );
    b.feed(&suback(1, &[3]));
    b.assert_closed_with(protocol(ProtocolError::InvalidSubAckCode(3)));
}

#[test]
fn empty_subscribe_and_unsubscribe_are_refused_locally_and_send_nothing() {
    let mut b = Broker::connected(opts());
    assert_eq!(b.s.subscribe(b.now, vec![]), Err(SessionError::NoFilters));
    assert_eq!(b.s.unsubscribe(b.now, vec![]), Err(SessionError::NoFilters));
    assert_eq!(b.s.poll_transmit(), None);
}

#[test]
fn subscribe_with_an_invalid_filter_is_refused_locally_and_sends_nothing() {
    let mut b = Broker::connected(opts());
    for (filter, err) in [
        ("a/#/b", TopicError::HashNotLast),
        ("a+/b", TopicError::PlusNotWholeLevel),
        ("", TopicError::Empty),
        ("a\0", TopicError::ContainsNul),
    ] {
        let r = b.s.subscribe(
            b.now,
            vec![
                ("ok".into(), QoS::AtMostOnce),
                (filter.into(), QoS::AtMostOnce),
            ],
        );
        assert_eq!(r, Err(SessionError::InvalidTopic(err)), "{filter:?}");
    }
    assert_eq!(b.s.poll_transmit(), None);
    // No packet id was used up by the refusals.
    assert_eq!(
        b.s.subscribe(b.now, vec![("ok".into(), QoS::AtMostOnce)]),
        Ok(1)
    );
}

#[test]
fn unsubscribe_with_several_filters_is_acknowledged_with_its_filters() {
    let mut b = Broker::connected(opts());
    let filters: Vec<(String, QoS)> = ["a", "b", "c"]
        .iter()
        .map(|f| (f.to_string(), QoS::AtLeastOnce))
        .collect();
    assert_eq!(b.s.subscribe(b.now, filters), Ok(1));
    b.feed(&suback(1, &[1, 1, 1]));
    b.sent();
    b.events();
    assert_eq!(b.s.unsubscribe(b.now, vec!["a".into(), "c".into()]), Ok(2));
    assert_eq!(b.sent(), vec![0xA2, 8, 0, 2, 0, 1, b'a', 0, 1, b'c']);
    b.feed(&unsuback(2));
    assert_eq!(
        b.events(),
        vec![Event::Unsubscribed {
            pkid: 2,
            filters: vec!["a".into(), "c".into()]
        }]
    );
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn suback_or_unsuback_for_an_unknown_id_is_a_protocol_error() {
    let mut b = Broker::connected(opts());
    b.feed(&suback(9, &[0]));
    b.assert_closed_with(protocol(ProtocolError::UnknownPacketId {
        packet: "SUBACK",
        pkid: 9,
    }));
    let mut b = Broker::connected(opts());
    b.feed(&unsuback(9));
    b.assert_closed_with(protocol(ProtocolError::UnknownPacketId {
        packet: "UNSUBACK",
        pkid: 9,
    }));
}

#[test]
fn requests_while_not_connected_are_refused() {
    let mut b = Broker::new(opts());
    assert_eq!(
        b.s.publish(b.now, "a", vec![], QoS::AtMostOnce, false),
        Err(SessionError::NotConnected)
    );
    b.s.connect(b.now);
    b.sent();
    assert_eq!(
        b.s.subscribe(b.now, vec![("a".into(), QoS::AtMostOnce)]),
        Err(SessionError::NotConnected)
    );
    assert_eq!(
        b.s.unsubscribe(b.now, vec!["a".into()]),
        Err(SessionError::NotConnected)
    );
    assert_eq!(b.s.poll_transmit(), None);
}

// ----- PUBLISH out -----

#[test]
fn qos0_publish_is_complete_once_queued() {
    let mut b = Broker::connected(opts());
    let id = b.publish("t", b"hi", QoS::AtMostOnce);
    assert_eq!(id, PublishId(1));
    assert_eq!(b.sent(), vec![0x30, 5, 0, 1, b't', b'h', b'i']);
    assert_eq!(
        b.events(),
        vec![Event::Published {
            id,
            pkid: 0,
            qos: QoS::AtMostOnce,
            sent_at_ms: 1_000
        }]
    );
    assert_eq!(b.s.in_flight(), 0);
    assert_eq!(b.publish("t", b"", QoS::AtMostOnce), PublishId(2));
}

#[test]
fn qos1_publish_is_tracked_until_puback_and_reports_the_round_trip() {
    let mut b = Broker::connected(opts());
    let id = b.publish("t", b"x", QoS::AtLeastOnce);
    assert_eq!(b.sent(), vec![0x32, 6, 0, 1, b't', 0, 1, b'x']);
    assert_eq!(b.s.in_flight(), 1);
    b.events();
    b.now = 1_250;
    b.feed(&puback(1));
    assert_eq!(
        b.events(),
        vec![Event::PublishComplete {
            id,
            pkid: 1,
            acked_at_ms: 1_250,
            round_trip_ms: 250
        }]
    );
    assert_eq!(b.s.in_flight(), 0);
    assert_eq!(b.s.poll_transmit(), None);
}

#[test]
fn qos2_publish_goes_through_pubrec_pubrel_pubcomp() {
    let mut b = Broker::connected(opts());
    let id =
        b.s.publish(b.now, "t", b"x".to_vec(), QoS::ExactlyOnce, true);
    let Ok(id) = id else { panic!("refused") };
    assert_eq!(b.sent(), vec![0x35, 6, 0, 1, b't', 0, 1, b'x']);
    b.events();
    b.feed(&pubrec(1));
    assert_eq!(b.sent(), pubrel(1));
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.in_flight(), 1);
    b.now += 40;
    b.feed(&pubcomp(1));
    assert_eq!(
        b.events(),
        vec![Event::PublishComplete {
            id,
            pkid: 1,
            acked_at_ms: 1_040,
            round_trip_ms: 40
        }]
    );
    assert_eq!(b.s.in_flight(), 0);
}

#[test]
fn a_repeated_pubrec_while_waiting_for_pubcomp_gets_pubrel_again() {
    let mut b = Broker::connected(opts());
    b.publish("t", b"x", QoS::ExactlyOnce);
    b.feed(&pubrec(1));
    b.sent();
    b.feed(&pubrec(1));
    assert_eq!(b.sent(), pubrel(1));
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn publishing_to_an_invalid_topic_is_refused_locally_and_sends_nothing() {
    let mut b = Broker::connected(opts());
    let long = "a".repeat(65_536);
    for (topic, err) in [
        ("a/+", TopicError::WildcardInTopicName),
        ("a/#", TopicError::WildcardInTopicName),
        ("", TopicError::Empty),
        ("a\0b", TopicError::ContainsNul),
        (long.as_str(), TopicError::TooLong { len: 65_536 }),
    ] {
        assert_eq!(
            b.s.publish(b.now, topic, b"x".to_vec(), QoS::AtLeastOnce, false),
            Err(SessionError::InvalidTopic(err))
        );
    }
    assert_eq!(b.s.poll_transmit(), None);
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.in_flight(), 0);
    // Nothing leaked: the next publish gets packet id 1 and PublishId 1.
    assert_eq!(b.publish("ok", b"", QoS::AtLeastOnce), PublishId(1));
    assert_eq!(b.sent(), vec![0x32, 6, 0, 2, b'o', b'k', 0, 1]);
}

#[test]
fn the_wrong_kind_of_ack_for_a_publish_is_a_protocol_error() {
    let mut b = Broker::connected(opts());
    b.publish("t", b"x", QoS::ExactlyOnce);
    b.feed(&puback(1));
    b.assert_closed_with(protocol(ProtocolError::UnknownPacketId {
        packet: "PUBACK",
        pkid: 1,
    }));
    let mut b = Broker::connected(opts());
    b.publish("t", b"x", QoS::AtLeastOnce);
    b.feed(&pubrec(1));
    b.assert_closed_with(protocol(ProtocolError::UnknownPacketId {
        packet: "PUBREC",
        pkid: 1,
    }));
    let mut b = Broker::connected(opts());
    b.publish("t", b"x", QoS::ExactlyOnce);
    b.feed(&pubcomp(1));
    b.assert_closed_with(protocol(ProtocolError::UnknownPacketId {
        packet: "PUBCOMP",
        pkid: 1,
    }));
}

#[test]
fn an_ack_for_an_id_not_in_flight_is_a_protocol_error() {
    for (bytes, packet) in [
        (puback(5), "PUBACK"),
        (pubrec(5), "PUBREC"),
        (pubcomp(5), "PUBCOMP"),
    ] {
        let mut b = Broker::connected(opts());
        b.feed(&bytes);
        b.assert_closed_with(protocol(ProtocolError::UnknownPacketId { packet, pkid: 5 }));
    }
    // An id that was in flight but is complete is no longer acceptable.
    let mut b = Broker::connected(opts());
    b.publish("t", b"x", QoS::AtLeastOnce);
    b.feed(&puback(1));
    b.feed(&puback(1));
    b.assert_closed_with(protocol(ProtocolError::UnknownPacketId {
        packet: "PUBACK",
        pkid: 1,
    }));
}

// ----- PUBLISH in -----

#[test]
fn incoming_qos0_publish_is_delivered_without_an_ack() {
    let mut b = Broker::connected(opts());
    b.feed(&publish("a/b", b"hello", 0, 0, false, true));
    let mut m = message("a/b", b"hello", QoS::AtMostOnce, 0);
    m.retain = true;
    assert_eq!(b.events(), vec![Event::Message(m)]);
    assert_eq!(b.s.poll_transmit(), None);
}

#[test]
fn incoming_qos1_publish_is_delivered_and_acked_each_time() {
    let mut b = Broker::connected(opts());
    b.feed(&publish("t", b"1", 1, 7, false, false));
    assert_eq!(b.sent(), puback(7));
    b.feed(&publish("t", b"1", 1, 7, true, false));
    assert_eq!(b.sent(), puback(7));
    let mut dup = message("t", b"1", QoS::AtLeastOnce, 7);
    dup.dup = true;
    assert_eq!(
        b.events(),
        vec![
            Event::Message(message("t", b"1", QoS::AtLeastOnce, 7)),
            Event::Message(dup)
        ]
    );
}

#[test]
fn incoming_qos2_duplicate_publish_is_acked_but_not_delivered_twice() {
    let mut b = Broker::connected(opts());
    b.feed(&publish("t", b"once", 2, 9, false, false));
    assert_eq!(b.sent(), pubrec(9));
    assert_eq!(
        b.events(),
        vec![Event::Message(message("t", b"once", QoS::ExactlyOnce, 9))]
    );
    b.feed(&publish("t", b"once", 2, 9, true, false));
    assert_eq!(b.sent(), pubrec(9));
    assert_eq!(b.events(), vec![]);
    b.feed(&pubrel(9));
    assert_eq!(b.sent(), pubcomp(9));
    assert_eq!(b.events(), vec![]);
}

#[test]
fn incoming_pubrel_frees_the_id_for_a_new_message() {
    let mut b = Broker::connected(opts());
    b.feed(&publish("t", b"1", 2, 9, false, false));
    b.feed(&pubrel(9));
    b.feed(&publish("t", b"2", 2, 9, false, false));
    assert_eq!(
        b.events(),
        vec![
            Event::Message(message("t", b"1", QoS::ExactlyOnce, 9)),
            Event::Message(message("t", b"2", QoS::ExactlyOnce, 9)),
        ]
    );
    let mut expected = pubrec(9);
    expected.extend(pubcomp(9));
    expected.extend(pubrec(9));
    assert_eq!(b.sent(), expected);
}

#[test]
fn an_unknown_pubrel_gets_pubcomp() {
    let mut b = Broker::connected(opts());
    b.feed(&pubrel(300));
    assert_eq!(b.sent(), pubcomp(300));
    assert_eq!(b.s.state(), ConnectionState::Connected);
    assert_eq!(b.events(), vec![]);
}

#[test]
fn incoming_qos2_state_survives_a_resumed_session_but_not_a_new_one() {
    let mut b = Broker::connected(persistent());
    b.feed(&publish("t", b"x", 2, 4, false, false));
    b.events();
    b.s.connection_lost("gone".into());
    b.s.connect(b.now);
    b.feed(&connack(true, 0));
    b.sent();
    b.events();
    // The broker did not get our PUBREC and resends: no second delivery.
    b.feed(&publish("t", b"x", 2, 4, true, false));
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.sent(), pubrec(4));
    // A new session forgets it.
    b.s.connection_lost("gone".into());
    b.s.connect(b.now);
    b.feed(&connack(false, 0));
    b.events();
    b.feed(&publish("t", b"x", 2, 4, false, false));
    assert_eq!(
        b.events(),
        vec![Event::Message(message("t", b"x", QoS::ExactlyOnce, 4))]
    );
}

// ----- packet ids -----

#[test]
fn packet_ids_are_shared_by_publish_and_subscribe_and_freed_by_acks() {
    let mut b = Broker::connected(opts());
    b.publish("t", b"", QoS::AtLeastOnce);
    assert_eq!(
        b.s.subscribe(b.now, vec![("s".into(), QoS::AtMostOnce)]),
        Ok(2)
    );
    assert_eq!(b.s.unsubscribe(b.now, vec!["s".into()]), Ok(3));
    b.publish("t", b"", QoS::AtMostOnce);
    b.publish("t", b"", QoS::ExactlyOnce);
    let ids: Vec<u16> = b
        .sent_packets()
        .iter()
        .map(|p| match p {
            v4::Packet::Publish(p) => p.pkid,
            v4::Packet::Subscribe(s) => s.pkid,
            v4::Packet::Unsubscribe(u) => u.pkid,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 0, 4]);
}

#[test]
fn packet_ids_wrap_past_65535_and_skip_ids_still_in_flight() {
    let mut b = Broker::connected(Options {
        keep_alive_secs: 0,
        max_in_flight: 0,
        ..opts()
    });
    // Id 1 stays in flight the whole time.
    b.publish("t", b"", QoS::AtLeastOnce);
    for expected in 2..=65_535u16 {
        b.publish("t", b"", QoS::AtLeastOnce);
        b.feed(&puback(expected));
    }
    b.sent();
    b.events();
    assert_eq!(b.s.state(), ConnectionState::Connected);
    b.publish("t", b"", QoS::AtLeastOnce);
    let packets = b.sent_packets();
    let [v4::Packet::Publish(p)] = &packets[..] else {
        panic!("{packets:?}")
    };
    assert_eq!(p.pkid, 2, "wrapped past 65535, skipped 0 and the busy 1");
}

#[test]
fn running_out_of_packet_ids_is_an_error_until_one_is_acked() {
    let mut b = Broker::connected(Options {
        keep_alive_secs: 0,
        max_in_flight: 0,
        ..opts()
    });
    for _ in 0..65_535 {
        b.publish("t", b"", QoS::AtLeastOnce);
    }
    b.sent();
    b.events();
    assert_eq!(
        b.s.publish(b.now, "t", vec![], QoS::AtLeastOnce, false),
        Err(SessionError::PacketIdsExhausted)
    );
    assert_eq!(
        b.s.subscribe(b.now, vec![("s".into(), QoS::AtMostOnce)]),
        Err(SessionError::PacketIdsExhausted)
    );
    // QoS 0 needs no id.
    assert!(b
        .s
        .publish(b.now, "t", vec![], QoS::AtMostOnce, false)
        .is_ok());
    assert_eq!(b.s.poll_transmit(), Some(vec![0x30, 3, 0, 1, b't']));
    b.feed(&puback(777));
    assert_eq!(
        b.s.subscribe(b.now, vec![("s".into(), QoS::AtMostOnce)]),
        Ok(777)
    );
}

// ----- keepalive -----

#[test]
fn pingreq_is_sent_when_nothing_was_sent_for_the_keepalive_interval() {
    let mut b = Broker::connected(opts());
    // CONNECT went out at 1_000; keepalive 60 s.
    assert_eq!(b.s.poll_timeout(), Some(61_000));
    b.advance_to(60_999);
    assert_eq!(b.s.poll_transmit(), None);
    b.advance_to(61_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    // Now waiting for PINGRESP, at most the response timeout (10 s).
    assert_eq!(b.s.poll_timeout(), Some(71_000));
    b.now = 61_020;
    b.feed(&PINGRESP);
    assert_eq!(b.s.poll_timeout(), Some(121_000));
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn traffic_both_ways_postpones_the_pingreq() {
    let mut b = Broker::connected(opts());
    b.now = 30_000;
    b.publish("t", b"", QoS::AtMostOnce);
    b.feed(&publish("in", b"x", 0, 0, false, false));
    assert_eq!(b.s.poll_timeout(), Some(90_000));
    b.advance_to(61_000);
    b.sent();
    b.advance_to(89_999);
    assert_eq!(b.s.poll_transmit(), None);
    b.advance_to(90_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
}

#[test]
fn a_client_that_keeps_sending_but_hears_nothing_still_pings_within_the_keepalive() {
    let mut b = Broker::connected(opts());
    // CONNACK arrived at 1_000; publishing every 10 s does not postpone the
    // PINGREQ, because nothing comes back.
    for t in (11_000..=61_000).step_by(10_000) {
        b.advance_to(t - 1);
        b.publish("t", b"", QoS::AtMostOnce);
    }
    b.sent();
    assert_eq!(b.s.poll_timeout(), Some(61_000));
    b.advance_to(61_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    b.advance_to(71_000);
    b.assert_closed_with(SessionError::PingTimeout { waited_ms: 10_000 });
}

#[test]
fn the_pingresp_wait_is_capped_at_40_percent_of_the_keepalive() {
    // Keepalive 4 s with the default 10 s response timeout: waiting 10 s
    // for PINGRESP would notice a dead link only after 14 s.
    let mut b = Broker::connected(Options {
        keep_alive_secs: 4,
        ..opts()
    });
    assert_eq!(b.s.ping_wait_ms(), 1_600);
    b.advance_to(5_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    assert_eq!(b.s.poll_timeout(), Some(6_600));
    b.advance_to(6_599);
    assert_eq!(b.s.state(), ConnectionState::Connected);
    b.advance_to(6_600);
    b.assert_closed_with(SessionError::PingTimeout { waited_ms: 1_600 });
    // A shorter response timeout is kept as it is; keepalive 0 leaves it whole.
    let short = Broker::new(Options {
        keep_alive_secs: 4,
        response_timeout_ms: 700,
        ..opts()
    });
    assert_eq!(short.s.ping_wait_ms(), 700);
    let off = Broker::new(Options {
        keep_alive_secs: 0,
        ..opts()
    });
    assert_eq!(off.s.ping_wait_ms(), 10_000);
    // The defaults: keepalive 60 s keeps the 10 s response timeout.
    let default = Broker::new(opts());
    assert_eq!(default.s.ping_wait_ms(), 10_000);
}

#[test]
fn a_late_pingreq_does_not_stretch_the_pingresp_deadline_but_leaves_half_the_wait() {
    // PINGREQ due at 5_000, sent 300 ms late: the deadline stays at 6_600.
    let mut b = Broker::connected(Options {
        keep_alive_secs: 4,
        ..opts()
    });
    b.advance_to(5_300);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    assert_eq!(b.s.poll_timeout(), Some(6_600));
    b.advance_to(6_600);
    b.assert_closed_with(SessionError::PingTimeout { waited_ms: 1_300 });
    // Sent 4 s late (a throttled timer): the broker still gets 800 ms.
    let mut b = Broker::connected(Options {
        keep_alive_secs: 4,
        ..opts()
    });
    b.advance_to(9_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    assert_eq!(b.s.poll_timeout(), Some(9_800));
    b.now = 9_500;
    b.feed(&PINGRESP);
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn a_link_that_goes_silent_is_declared_dead_within_1_4_keepalives_when_timers_are_on_time() {
    // Whatever the last traffic was, and whatever the response timeout, the
    // PingTimeout comes at most 1.4 × keepalive after the last packet in
    // (0.1 × keepalive to spare for late timers before the 1.5 × promise).
    for keep_alive_secs in [1u16, 2, 4, 10, 60, 600] {
        for response_timeout_ms in [1u64, 500, 10_000, 1_000_000] {
            for client_sends_every in [0u64, 300, 1_000, 7_000] {
                let mut b = Broker::connected(Options {
                    keep_alive_secs,
                    response_timeout_ms,
                    ..opts()
                });
                let keepalive_ms = u64::from(keep_alive_secs) * 1000;
                // Some traffic, then the link goes silent after one last PINGRESP.
                b.advance_to(b.now + keepalive_ms);
                b.sent();
                b.now += 5;
                b.feed(&PINGRESP);
                let silent_from = b.now;
                let mut next_send = silent_from + client_sends_every;
                let mut closed_at = None;
                for _ in 0..10_000 {
                    let mut t = b.s.poll_timeout().unwrap_or(u64::MAX);
                    if client_sends_every > 0 {
                        t = t.min(next_send);
                    }
                    if t == u64::MAX {
                        break;
                    }
                    b.advance_to(t);
                    if client_sends_every > 0 && t == next_send {
                        let _ = b.s.publish(t, "t", vec![], QoS::AtMostOnce, false);
                        next_send += client_sends_every;
                    }
                    b.sent();
                    if b.events().iter().any(|e| matches!(e, Event::Closed { .. })) {
                        closed_at = Some(t);
                        break;
                    }
                }
                let what = format!(
                    "keepalive {keep_alive_secs} s, response timeout {response_timeout_ms} ms, \
                     sending every {client_sends_every} ms"
                );
                let Some(closed_at) = closed_at else {
                    panic!("{what}: never declared dead");
                };
                assert!(
                    closed_at - silent_from <= keepalive_ms * 14 / 10,
                    "{what}: dead after {} ms",
                    closed_at - silent_from
                );
            }
        }
    }
}

#[test]
fn no_pingresp_within_the_response_timeout_closes_with_ping_timeout() {
    let mut b = Broker::connected(opts());
    b.advance_to(61_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    b.advance_to(70_999);
    assert_eq!(b.s.state(), ConnectionState::Connected);
    b.advance_to(71_000);
    b.assert_closed_with(SessionError::PingTimeout { waited_ms: 10_000 });
    assert_eq!(b.s.poll_timeout(), None);
}

#[test]
fn keepalive_zero_disables_pingreq() {
    let mut b = Broker::connected(Options {
        keep_alive_secs: 0,
        ..opts()
    });
    assert_eq!(b.s.poll_timeout(), None);
    b.advance_to(u64::MAX / 2);
    assert_eq!(b.s.poll_transmit(), None);
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

// ----- session resume -----

/// Three publishes in flight at different stages: 1 (QoS 1), 2 (QoS 2,
/// PUBREC received), 3 (QoS 2, no PUBREC).
fn session_with_three_in_flight() -> (Broker, [PublishId; 3]) {
    let mut b = Broker::connected(persistent());
    let a = b.publish("a", b"1", QoS::AtLeastOnce);
    let c = b.publish("b", b"2", QoS::ExactlyOnce);
    let d = b.publish("c", b"3", QoS::ExactlyOnce);
    b.feed(&pubrec(2));
    b.sent();
    b.events();
    (b, [a, c, d])
}

#[test]
fn session_resume_resends_unacked_publish_with_dup_and_pubrel_in_original_order() {
    let (mut b, _) = session_with_three_in_flight();
    b.s.connection_lost("network down".into());
    assert_eq!(
        b.events(),
        vec![Event::Closed {
            error: SessionError::ConnectionLost("network down".into())
        }]
    );
    assert_eq!(b.s.state(), ConnectionState::Disconnected);
    assert_eq!(b.s.in_flight(), 3);
    b.s.connect(b.now);
    b.sent();
    b.feed(&connack(true, 0));
    let mut expected = vec![0x3A, 6, 0, 1, b'a', 0, 1, b'1'];
    expected.extend([0x3C, 6, 0, 1, b'c', 0, 3, b'3']);
    expected.extend(pubrel(2));
    assert_eq!(b.sent(), expected);
    // They complete normally afterwards.
    b.feed(&puback(1));
    b.feed(&pubcomp(2));
    b.feed(&pubrec(3));
    b.feed(&pubcomp(3));
    let completed = b
        .events()
        .iter()
        .filter(|e| matches!(e, Event::PublishComplete { .. }))
        .count();
    assert_eq!(completed, 3);
    assert_eq!(b.s.in_flight(), 0);
}

#[test]
fn session_not_present_drops_in_flight_and_reports_each_publish() {
    let (mut b, ids) = session_with_three_in_flight();
    b.s.connection_lost("network down".into());
    b.s.connect(b.now);
    b.sent();
    b.events();
    b.feed(&connack(false, 0));
    let reason = "the broker did not resume the session".to_string();
    assert_eq!(
        b.events(),
        vec![
            Event::Connected {
                session_present: false
            },
            Event::PublishFailed {
                id: ids[0],
                reason: reason.clone()
            },
            Event::PublishFailed {
                id: ids[2],
                reason: reason.clone()
            },
            Event::PublishFailed { id: ids[1], reason },
            Event::InFlightDropped { count: 3 },
        ]
    );
    assert_eq!(b.s.poll_transmit(), None);
    assert_eq!(b.s.in_flight(), 0);
    // The ids are free again.
    assert_eq!(
        b.s.subscribe(b.now, vec![("s".into(), QoS::AtMostOnce)]),
        Ok(4)
    );
}

#[test]
fn clean_session_drops_in_flight_when_the_connection_is_lost() {
    let mut b = Broker::connected(opts());
    let id = b.publish("t", b"x", QoS::AtLeastOnce);
    assert_eq!(
        b.s.subscribe(b.now, vec![("s".into(), QoS::AtMostOnce)]),
        Ok(2)
    );
    b.events();
    b.s.connection_lost("closed by peer".into());
    let events = b.events();
    assert_eq!(
        events,
        vec![
            Event::SubscribeFailed {
                pkid: 2,
                filters: vec!["s".into()],
                reason: "the connection ended before the broker acknowledged it".into()
            },
            Event::PublishFailed {
                id,
                reason: "the connection ended before the broker acknowledged it".into()
            },
            Event::InFlightDropped { count: 1 },
            Event::Closed {
                error: SessionError::ConnectionLost("closed by peer".into())
            },
        ]
    );
    assert_eq!(b.s.in_flight(), 0);
    // A second report of the same loss says nothing more.
    b.s.connection_lost("again".into());
    assert_eq!(b.events(), vec![]);
}

#[test]
fn disconnect_sends_disconnect_and_keeps_in_flight_without_clean_session() {
    let (mut b, _) = session_with_three_in_flight();
    b.s.disconnect(b.now);
    assert_eq!(b.sent(), vec![0xE0, 0]);
    assert_eq!(b.s.state(), ConnectionState::Disconnected);
    assert!(b.s.wants_close());
    assert_eq!(b.s.in_flight(), 3);
    assert_eq!(b.events(), vec![]);
    // Bytes after disconnect are ignored.
    b.feed(&puback(1));
    assert_eq!(b.s.in_flight(), 3);
}

#[test]
fn disconnect_with_clean_session_drops_in_flight() {
    let mut b = Broker::connected(opts());
    let id = b.publish("t", b"x", QoS::ExactlyOnce);
    b.events();
    b.sent();
    b.s.disconnect(b.now);
    assert_eq!(b.sent(), vec![0xE0, 0]);
    assert_eq!(
        b.events(),
        vec![
            Event::PublishFailed {
                id,
                reason: "the connection ended before the broker acknowledged it".into()
            },
            Event::InFlightDropped { count: 1 }
        ]
    );
}

// ----- framing -----

#[test]
fn packets_split_across_chunks_byte_by_byte_are_decoded() {
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    let mut stream = connack(false, 0);
    stream.extend(publish("a/b", &[7u8; 300], 1, 3, false, false));
    stream.extend(PINGRESP);
    for byte in &stream {
        b.feed(std::slice::from_ref(byte));
    }
    let events = b.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let Some(Event::Message(m)) = events.get(1) else {
        panic!("{events:?}")
    };
    assert_eq!((m.topic.as_str(), m.payload.len(), m.pkid), ("a/b", 300, 3));
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn several_packets_in_one_chunk_are_all_handled() {
    let mut b = Broker::new(opts());
    b.s.connect(b.now);
    b.sent();
    let mut stream = connack(false, 0);
    for i in 1..=5u16 {
        stream.extend(publish("t", &[i as u8], 1, i, false, false));
    }
    b.feed(&stream);
    let messages = b
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count();
    assert_eq!(messages, 5);
    let acks: Vec<u8> = (1..=5).flat_map(puback).collect();
    assert_eq!(b.sent(), acks);
}

#[test]
fn an_incoming_packet_other_than_publish_larger_than_the_limit_is_refused_from_its_header() {
    let mut b = Broker::connected(Options {
        max_incoming_packet_size: 1_000,
        ..opts()
    });
    let pkid =
        b.s.subscribe(b.now, vec![("t".into(), QoS::AtMostOnce)])
            .unwrap_or(0);
    // A SUBACK of 1 + 2 + 998 = 1_001 bytes is refused as soon as its
    // fixed header is in.
    let mut over = vec![0x90, 0xE6, 0x07];
    over.extend_from_slice(&pkid.to_be_bytes());
    b.feed(&over[..3]);
    b.assert_closed_with(SessionError::PacketTooLarge {
        size: 1_001,
        max: 1_000,
    });
}

// ----- a broker that breaks the protocol -----

#[test]
fn every_hostile_case_ends_in_its_typed_error_and_a_closed_session() {
    for case in crate::hostile::cases() {
        let what = case.name;
        // Whole, byte by byte, and in chunks of three.
        for chunk in [usize::MAX, 1, 3] {
            let mut b = Broker::new(crate::hostile::case_options());
            b.s.connect(b.now);
            b.sent();
            for piece in case.bytes.chunks(chunk.min(case.bytes.len()).max(1)) {
                b.feed(piece);
            }
            let events = b.events();
            assert_eq!(
                events.last(),
                Some(&Event::Closed {
                    error: case.error.clone()
                }),
                "{what} (chunks of {chunk}): {events:?}"
            );
            assert_eq!(
                events
                    .iter()
                    .filter(|e| matches!(e, Event::Closed { .. }))
                    .count(),
                1,
                "{what}"
            );
            assert_eq!(b.s.state(), ConnectionState::Closed, "{what}");
            assert!(b.s.wants_close(), "{what}");
            assert_eq!(b.s.poll_transmit(), None, "{what}: wrote after closing");
            assert!(!case.error.to_string().is_empty());
            assert!(!case.error.to_string().contains('{'), "{what}");
            // Nothing more happens on that connection.
            b.feed(&publish("t", b"x", 0, 0, false, false));
            assert_eq!(b.events(), vec![], "{what}");
            b.advance_to(u64::MAX / 2);
            assert_eq!(b.events(), vec![], "{what}");
            assert_eq!(b.s.poll_timeout(), None, "{what}");
        }
    }
}

#[test]
fn the_hostile_table_has_a_case_for_every_rule_and_unique_file_names() {
    let cases = crate::hostile::cases();
    for rule in crate::hostile::RULES {
        assert!(
            cases.iter().any(|c| c.rule == rule),
            "no hostile case for rule {rule:?}"
        );
    }
    for c in &cases {
        assert!(crate::hostile::RULES.contains(&c.rule), "{}", c.name);
        assert!(
            c.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}",
            c.name
        );
        assert_eq!(
            cases.iter().filter(|d| d.name == c.name).count(),
            1,
            "{}",
            c.name
        );
    }
    assert!(cases.len() >= 50, "{}", cases.len());
    assert_eq!(
        crate::hostile::case("puback-unknown").map(|c| c.rule),
        Some(crate::hostile::RULE_UNKNOWN_ID)
    );
}

#[test]
fn a_closed_session_can_connect_again_on_a_new_transport() {
    let mut b = Broker::connected(opts());
    b.feed(&[0xF0, 0]);
    b.events();
    b.s.connection_lost("closed".into());
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.state(), ConnectionState::Disconnected);
    b.s.connect(b.now);
    assert_eq!(b.sent().first(), Some(&0x10));
    b.feed(&connack(false, 0));
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

// ----- in-flight window -----

#[test]
fn publishes_beyond_the_in_flight_window_wait_and_go_out_in_order_as_acks_arrive() {
    let mut b = Broker::connected(Options {
        max_in_flight: 2,
        ..opts()
    });
    let ids: Vec<PublishId> = (0..5u8)
        .map(|i| {
            let qos = if i % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            b.publish("t", &[i], qos)
        })
        .collect();
    assert_eq!(ids, (1..=5).map(PublishId).collect::<Vec<_>>());
    let mut expected = vec![0x32, 6, 0, 1, b't', 0, 1, 0];
    expected.extend([0x34, 6, 0, 1, b't', 0, 2, 1]);
    assert_eq!(b.sent(), expected);
    assert_eq!((b.s.in_flight(), b.s.queued()), (2, 3));
    // QoS 0 needs no window and is not held back.
    b.publish("t", b"q0", QoS::AtMostOnce);
    assert_eq!(b.sent(), vec![0x30, 5, 0, 1, b't', b'q', b'0']);
    let published: Vec<PublishId> = b
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Published { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(published, vec![ids[0], ids[1], PublishId(6)]);
    // PUBACK 1 opens one slot: the third goes out.
    b.feed(&puback(1));
    assert_eq!(b.sent(), vec![0x32, 6, 0, 1, b't', 0, 3, 2]);
    // A QoS 2 half-way (PUBREC) still holds its slot.
    b.feed(&pubrec(2));
    assert_eq!(b.sent(), pubrel(2));
    b.feed(&pubcomp(2));
    assert_eq!(b.sent(), vec![0x34, 6, 0, 1, b't', 0, 4, 3]);
    b.feed(&puback(3));
    b.feed(&pubrec(4));
    b.feed(&pubcomp(4));
    b.feed(&puback(5));
    assert_eq!((b.s.in_flight(), b.s.queued()), (0, 0));
    let completed = b
        .events()
        .iter()
        .filter(|e| matches!(e, Event::PublishComplete { .. }))
        .count();
    assert_eq!(completed, 5);
}

#[test]
fn waiting_publishes_are_sent_in_a_new_session_and_dropped_with_a_clean_one() {
    let mut b = Broker::connected(Options {
        max_in_flight: 1,
        ..persistent()
    });
    let first = b.publish("t", b"1", QoS::AtLeastOnce);
    let second = b.publish("t", b"2", QoS::AtLeastOnce);
    b.sent();
    b.events();
    b.s.connection_lost("gone".into());
    b.s.connect(b.now);
    b.sent();
    b.feed(&connack(false, 0));
    let events = b.events();
    assert!(events.contains(&Event::PublishFailed {
        id: first,
        reason: "the broker did not resume the session".into()
    }));
    assert!(events.contains(&Event::InFlightDropped { count: 1 }));
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Published { id, .. } if *id == second)));
    // A fresh id (the allocator moves on; id 1 was freed by the drop).
    assert_eq!(b.sent(), vec![0x32, 6, 0, 1, b't', 0, 2, b'2']);

    let mut b = Broker::connected(Options {
        max_in_flight: 1,
        ..opts()
    });
    b.publish("t", b"1", QoS::AtLeastOnce);
    b.publish("t", b"2", QoS::AtLeastOnce);
    b.events();
    b.s.connection_lost("gone".into());
    let events = b.events();
    assert!(
        events.contains(&Event::InFlightDropped { count: 2 }),
        "{events:?}"
    );
    assert_eq!(b.s.queued(), 0);
}

#[test]
fn a_publish_too_large_for_mqtt_is_refused_even_when_it_would_wait() {
    let mut b = Broker::connected(Options {
        max_in_flight: 1,
        ..opts()
    });
    b.publish("t", b"", QoS::AtLeastOnce);
    let huge = vec![0u8; 268_435_455];
    assert!(matches!(
        b.s.publish(b.now, "t", huge, QoS::AtLeastOnce, false),
        Err(SessionError::OutgoingTooLarge { .. })
    ));
    assert_eq!(b.s.queued(), 0);
}

#[test]
fn a_new_client_id_starts_a_new_session_and_drops_what_was_in_flight() {
    let (mut b, ids) = session_with_three_in_flight();
    b.s.connection_lost("gone".into());
    b.events();
    let o = Options {
        client_id: "someone-else".into(),
        ..persistent()
    };
    assert_eq!(b.s.set_options(o), Ok(()));
    let failed: Vec<PublishId> = b
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::PublishFailed { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 3);
    assert!(ids.iter().all(|id| failed.contains(id)));
    assert_eq!(b.s.in_flight(), 0);
}

#[test]
fn connect_while_connected_starts_over_on_the_new_transport() {
    let mut b = Broker::connected(opts());
    b.feed(&[0x30]); // half a packet from the old transport
    b.s.connect(b.now);
    assert_eq!(b.s.state(), ConnectionState::Connecting);
    assert_eq!(b.sent().first(), Some(&0x10));
    // The old half packet is gone: a CONNACK parses cleanly.
    b.feed(&connack(false, 0));
    assert_eq!(
        b.events(),
        vec![Event::Connected {
            session_present: false
        }]
    );
}

#[test]
fn an_unsolicited_pingresp_is_harmless() {
    let mut b = Broker::connected(opts());
    b.feed(&PINGRESP);
    assert_eq!(b.s.state(), ConnectionState::Connected);
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.poll_timeout(), Some(61_000));
}

// ----- messages over the size limit -----

/// The head of a PUBLISH whose payload will be `payload_len` bytes: fixed
/// header, topic and (QoS > 0) packet id, as a broker writes them.
fn publish_head(
    topic: &[u8],
    qos: u8,
    pkid: u16,
    dup: bool,
    retain: bool,
    payload_len: usize,
) -> Vec<u8> {
    let id_len = if qos == 0 { 0 } else { 2 };
    let mut len = 2 + topic.len() + id_len + payload_len;
    let mut v = vec![0x30 | (u8::from(dup) << 3) | (qos << 1) | u8::from(retain)];
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        v.push(byte);
        if len == 0 {
            break;
        }
    }
    v.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    v.extend_from_slice(topic);
    if qos > 0 {
        v.extend_from_slice(&pkid.to_be_bytes());
    }
    v
}

/// A whole PUBLISH with a payload of `payload_len` bytes of 0xAB.
fn big_publish(topic: &str, qos: u8, pkid: u16, dup: bool, payload_len: usize) -> Vec<u8> {
    let mut v = publish_head(topic.as_bytes(), qos, pkid, dup, false, payload_len);
    v.resize(v.len() + payload_len, 0xAB);
    v
}

#[allow(clippy::too_many_arguments)]
fn not_kept(
    topic: &str,
    size: usize,
    packet_size: usize,
    qos: QoS,
    pkid: u16,
    dup: bool,
    retain: bool,
    limit: usize,
) -> Event {
    Event::MessageNotKept {
        topic: topic.into(),
        size,
        packet_size,
        qos,
        retain,
        dup,
        pkid,
        limit,
    }
}

fn limited(limit: usize) -> Options {
    Options {
        max_incoming_packet_size: limit,
        ..opts()
    }
}

#[test]
fn a_publish_over_the_limit_is_reported_not_kept_and_the_connection_stays_up() {
    let mut b = Broker::connected(limited(1_000));
    // Exactly at the limit is kept.
    let at_limit = publish("t", &[0u8; 994], 0, 0, false, false);
    assert_eq!(at_limit.len(), 1_000);
    b.feed(&at_limit);
    assert!(matches!(b.events().as_slice(), [Event::Message(m)] if m.payload.len() == 994));
    // One byte more is read through, and what follows it in the same chunk
    // is decoded as usual.
    let mut stream = publish("t", &[0u8; 995], 0, 0, false, true);
    assert_eq!(stream.len(), 1_001);
    stream.extend(publish("after", b"small", 0, 0, false, false));
    stream.extend(PINGRESP);
    b.feed(&stream);
    assert_eq!(
        b.events(),
        vec![
            not_kept("t", 995, 1_001, QoS::AtMostOnce, 0, false, true, 1_000),
            Event::Message(message("after", b"small", QoS::AtMostOnce, 0)),
        ]
    );
    assert_eq!(b.s.poll_transmit(), None, "QoS 0 is not acknowledged");
    assert_eq!(b.s.state(), ConnectionState::Connected);
    assert_eq!(b.s.buffered_bytes(), 0);
}

#[test]
fn an_oversized_message_is_reported_as_soon_as_its_topic_and_packet_id_are_in() {
    let mut b = Broker::connected(limited(1_000));
    let packet = big_publish("a/b", 1, 3, false, 5_000);
    let head_len = publish_head(b"a/b", 1, 3, false, false, 5_000).len();
    b.feed(&packet[..head_len - 1]);
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.poll_transmit(), None);
    b.feed(&packet[head_len - 1..head_len]);
    assert_eq!(
        b.events(),
        vec![not_kept(
            "a/b",
            5_000,
            packet.len(),
            QoS::AtLeastOnce,
            3,
            false,
            false,
            1_000
        )]
    );
    assert_eq!(b.sent(), puback(3));
    // The payload is dropped as it arrives: nothing is buffered.
    b.feed(&packet[head_len..head_len + 2_000]);
    assert_eq!(b.s.buffered_bytes(), 0);
    b.feed(&packet[head_len + 2_000..]);
    b.feed(&PINGRESP);
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn oversized_messages_are_acked_as_their_qos_requires_like_kept_ones() {
    let mut b = Broker::connected(limited(1_000));
    // QoS 0: nothing to send.
    b.feed(&big_publish("q/0", 0, 0, false, 2_000));
    assert_eq!(b.sent(), Vec::<u8>::new());
    // QoS 1: PUBACK, each time (a DUP copy is reported and acked again).
    b.feed(&big_publish("q/1", 1, 11, false, 2_000));
    assert_eq!(b.sent(), puback(11));
    b.feed(&big_publish("q/1", 1, 11, true, 2_000));
    assert_eq!(b.sent(), puback(11));
    // QoS 2: PUBREC, then PUBCOMP for the PUBREL.
    b.feed(&big_publish("q/2", 2, 12, false, 2_000));
    assert_eq!(b.sent(), pubrec(12));
    b.feed(&pubrel(12));
    assert_eq!(b.sent(), pubcomp(12));
    let size = |topic: &str, qos: u8| big_publish(topic, qos, 1, false, 2_000).len();
    assert_eq!(
        b.events(),
        vec![
            not_kept(
                "q/0",
                2_000,
                size("q/0", 0),
                QoS::AtMostOnce,
                0,
                false,
                false,
                1_000
            ),
            not_kept(
                "q/1",
                2_000,
                size("q/1", 1),
                QoS::AtLeastOnce,
                11,
                false,
                false,
                1_000
            ),
            not_kept(
                "q/1",
                2_000,
                size("q/1", 1),
                QoS::AtLeastOnce,
                11,
                true,
                false,
                1_000
            ),
            not_kept(
                "q/2",
                2_000,
                size("q/2", 2),
                QoS::ExactlyOnce,
                12,
                false,
                false,
                1_000
            ),
        ]
    );
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn a_dup_redelivery_of_a_skipped_qos2_message_is_acked_but_not_reported_twice() {
    let mut b = Broker::connected(limited(1_000));
    b.feed(&big_publish("t", 2, 9, false, 3_000));
    assert_eq!(b.sent(), pubrec(9));
    assert_eq!(b.events().len(), 1);
    // The broker missed our PUBREC and sends it again, whole or kept-size:
    // PUBREC again, no second event.
    b.feed(&big_publish("t", 2, 9, true, 3_000));
    assert_eq!(b.sent(), pubrec(9));
    b.feed(&publish("t", b"x", 2, 9, true, false));
    assert_eq!(b.sent(), pubrec(9));
    assert_eq!(b.events(), vec![]);
    // PUBREL frees the id: the next message with it is a new one.
    b.feed(&pubrel(9));
    assert_eq!(b.sent(), pubcomp(9));
    b.feed(&big_publish("t", 2, 9, false, 3_000));
    assert_eq!(b.events().len(), 1);
    assert_eq!(b.sent(), pubrec(9));
}

#[test]
fn a_skipped_qos2_message_redelivered_in_a_resumed_session_is_not_reported_twice() {
    let mut b = Broker::connected(Options {
        clean_session: false,
        ..limited(1_000)
    });
    // The connection is cut halfway through the payload, before our PUBREC
    // reached the broker.
    let packet = big_publish("t", 2, 4, false, 50_000);
    b.feed(&packet[..20_000]);
    assert_eq!(b.events().len(), 1);
    b.s.connection_lost("cut".into());
    b.events();
    b.s.connect(b.now);
    b.sent();
    b.feed(&connack(true, 0));
    b.events();
    // The broker resends it with DUP: acknowledged, not reported again.
    b.feed(&big_publish("t", 2, 4, true, 50_000));
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.sent(), pubrec(4));
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn an_oversized_publish_with_a_bad_topic_or_packet_id_is_still_a_protocol_error() {
    let pkid_past_end = {
        // QoS 1, 9 bytes remaining: topic length, 7 topic bytes, no room for
        // the packet id.
        let mut v = vec![0x32, 9, 0, 7];
        v.extend_from_slice(b"abcdefg");
        v
    };
    let cases: Vec<(&str, Vec<u8>, SessionError)> = vec![
        (
            "wildcard",
            publish_head(b"a/+", 0, 0, false, false, 5_000),
            protocol(ProtocolError::InvalidTopic(TopicError::WildcardInTopicName)),
        ),
        (
            "U+0000",
            publish_head(b"a\0b", 1, 1, false, false, 5_000),
            protocol(ProtocolError::InvalidTopic(TopicError::ContainsNul)),
        ),
        (
            "empty topic",
            publish_head(b"", 0, 0, false, false, 5_000),
            protocol(ProtocolError::InvalidTopic(TopicError::Empty)),
        ),
        (
            "ill-formed UTF-8",
            publish_head(&[0xC0, 0xAF], 2, 1, false, false, 5_000),
            protocol(ProtocolError::InvalidUtf8 { packet: "PUBLISH" }),
        ),
        (
            "packet id 0",
            publish_head(b"t", 2, 0, false, false, 5_000),
            protocol(ProtocolError::PacketIdZero { packet: "PUBLISH" }),
        ),
        (
            "QoS 3",
            vec![0x36, 0x80, 0x40, 0, 1, b't', 0, 1],
            protocol(ProtocolError::InvalidQoS(3)),
        ),
        (
            "topic past the end",
            vec![0x30, 6, 0, 9, b'a', b'b', b'c', b'd'],
            protocol(ProtocolError::Malformed {
                packet: "PUBLISH",
                detail: "a length field runs past the end of the packet".into(),
            }),
        ),
        (
            "packet id past the end",
            pkid_past_end,
            protocol(ProtocolError::Malformed {
                packet: "PUBLISH",
                detail: "the packet ends too early".into(),
            }),
        ),
    ];
    for (what, head, error) in cases {
        for chunk in [usize::MAX, 1] {
            // Limit 5: every one of these is oversized.
            let mut b = Broker::connected(limited(5));
            for piece in head.chunks(chunk.min(head.len())) {
                b.feed(piece);
            }
            let events = b.events();
            assert_eq!(
                events.last(),
                Some(&Event::Closed {
                    error: error.clone()
                }),
                "{what}, in chunks of {chunk}: {events:?}"
            );
            assert_eq!(b.s.state(), ConnectionState::Closed, "{what}");
            assert_eq!(b.s.poll_transmit(), None, "{what}");
        }
    }
}

#[test]
fn an_oversized_publish_before_connack_is_a_protocol_error() {
    let mut b = Broker::new(limited(1_000));
    b.s.connect(b.now);
    b.sent();
    b.feed(&publish_head(b"t", 0, 0, false, false, 5_000));
    b.assert_closed_with(protocol(ProtocolError::PacketBeforeConnack {
        packet: "PUBLISH",
    }));
}

#[test]
fn the_limit_can_be_changed_between_connections_with_set_options() {
    let mut b = Broker::connected(limited(1_000));
    let packet = big_publish("t", 1, 1, false, 500);
    b.feed(&packet);
    assert!(matches!(b.events().as_slice(), [Event::Message(_)]));
    assert_eq!(
        b.s.set_options(limited(100)),
        Err(ConfigError::NotDisconnected)
    );
    b.s.disconnect(b.now);
    assert_eq!(b.s.set_options(limited(100)), Ok(()));
    assert_eq!(b.s.options().max_incoming_packet_size, 100);
    b.s.connect(b.now);
    b.sent();
    b.feed(&connack(false, 0));
    b.events();
    b.feed(&packet);
    assert_eq!(
        b.events(),
        vec![not_kept(
            "t",
            500,
            packet.len(),
            QoS::AtLeastOnce,
            1,
            false,
            false,
            100
        )]
    );
    // And back up: kept again on the next connection.
    b.s.disconnect(b.now);
    assert_eq!(b.s.set_options(limited(1_000)), Ok(()));
    b.s.connect(b.now);
    b.feed(&connack(false, 0));
    b.events();
    b.feed(&packet);
    assert!(matches!(b.events().as_slice(), [Event::Message(_)]));
}

#[test]
fn memory_stays_below_the_limit_plus_64_kib_while_a_20_mb_publish_streams_through_in_64_kib_chunks()
{
    let limit = 1 << 20;
    let mut b = Broker::connected(Options {
        clean_session: false,
        ..limited(limit)
    });
    let mut stream = publish("before", b"1", 1, 1, false, false);
    stream.extend(big_publish("big/20mb", 1, 2, false, 20_000_000));
    stream.extend(publish("after", b"2", 1, 3, false, false));
    let mut peak = 0;
    for chunk in stream.chunks(64 * 1024) {
        b.feed(chunk);
        peak = peak.max(b.s.buffered_bytes());
        assert_eq!(b.s.state(), ConnectionState::Connected);
    }
    assert!(peak < limit + 64 * 1024, "peak {peak}");
    assert!(peak <= 64 * 1024, "peak {peak}: more than a chunk was kept");
    assert_eq!(b.s.buffered_bytes(), 0);
    assert_eq!(
        b.events(),
        vec![
            Event::Message(message("before", b"1", QoS::AtLeastOnce, 1)),
            not_kept(
                "big/20mb",
                20_000_000,
                20_000_000 + 2 + 8 + 2 + 5,
                QoS::AtLeastOnce,
                2,
                false,
                false,
                limit
            ),
            Event::Message(message("after", b"2", QoS::AtLeastOnce, 3)),
        ]
    );
    let mut acks = puback(1);
    acks.extend(puback(2));
    acks.extend(puback(3));
    assert_eq!(b.sent(), acks);
}

#[test]
fn a_publish_of_the_largest_size_mqtt_allows_is_read_through_with_nothing_buffered() {
    let mut b = Broker::connected(opts());
    let remaining = crate::codec::MAX_REMAINING_LEN;
    let payload_len = remaining - 2 - 1 - 2;
    let head = publish_head(b"t", 2, 77, false, false, payload_len);
    assert_eq!(head.get(1..5), Some(&[0xFF, 0xFF, 0xFF, 0x7F][..]));
    b.feed(&head);
    assert_eq!(
        b.events(),
        vec![not_kept(
            "t",
            payload_len,
            remaining + 5,
            QoS::ExactlyOnce,
            77,
            false,
            false,
            1 << 20
        )]
    );
    assert_eq!(b.sent(), pubrec(77));
    let zeros = vec![0u8; 1 << 20];
    let mut left = payload_len;
    while left > 0 {
        let n = left.min(zeros.len());
        b.feed(&zeros[..n]);
        assert_eq!(b.s.buffered_bytes(), 0);
        left -= n;
    }
    b.feed(&pubrel(77));
    assert_eq!(b.sent(), pubcomp(77));
    assert_eq!(b.events(), vec![]);
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn the_head_of_an_oversized_publish_is_buffered_up_to_a_65535_byte_topic_and_no_further() {
    let mut b = Broker::connected(limited(crate::MIN_INCOMING_PACKET_SIZE));
    let topic = vec![b'x'; 65_535];
    let mut packet = publish_head(&topic, 1, 5, false, false, 100_000);
    let head_len = packet.len();
    // A 3-byte remaining length: one byte under the 4-byte maximum.
    assert_eq!(head_len, crate::MAX_OVERSIZED_HEAD_LEN - 1);
    packet.resize(head_len + 100_000, 0);
    let mut peak = 0;
    for chunk in packet.chunks(1_000) {
        b.feed(chunk);
        peak = peak.max(b.s.buffered_bytes());
    }
    assert!(peak < head_len, "peak {peak}");
    assert!(peak <= crate::MAX_OVERSIZED_HEAD_LEN);
    assert_eq!(b.s.buffered_bytes(), 0);
    let events = b.events();
    assert!(
        matches!(events.as_slice(), [Event::MessageNotKept { topic: t, size: 100_000, .. }] if t.len() == 65_535),
        "{events:?}"
    );
}

#[test]
fn a_pingresp_stuck_behind_a_long_oversized_publish_does_not_time_out_the_link() {
    let mut b = Broker::connected(limited(1_000));
    // The broker starts a 10 MB message just before our PINGREQ is due
    // (61_000) and it takes 30 s to arrive; its PINGRESP comes after it.
    let packet = big_publish("slow", 0, 0, false, 10_000_000);
    let chunks: Vec<&[u8]> = packet.chunks(packet.len() / 300 + 1).collect();
    let mut t = 60_000;
    for (i, chunk) in chunks.iter().enumerate() {
        b.advance_to(t);
        b.sent();
        b.feed(chunk);
        assert_eq!(b.s.state(), ConnectionState::Connected, "chunk {i} at {t}");
        t += 100;
    }
    b.advance_to(t);
    b.feed(&PINGRESP);
    b.advance_to(t + 1);
    assert_eq!(b.s.state(), ConnectionState::Connected);
    assert!(matches!(
        b.events().as_slice(),
        [
            Event::MessageNotKept {
                size: 10_000_000,
                ..
            },
            Event::Pong { .. }
        ]
    ));
    // The wait is still bounded: a packet that stops halfway is a dead link.
    b.feed(&big_publish("stalled", 0, 0, false, 10_000)[..500]);
    let stalled_at = b.now;
    b.advance_to(stalled_at + 60_000);
    b.sent();
    let due = b.s.poll_timeout().unwrap_or(0);
    assert!(due <= stalled_at + 60_000 + 10_000, "{due}");
    b.advance_to(due);
    assert!(matches!(
        b.events().last(),
        Some(Event::Closed {
            error: SessionError::PingTimeout { .. }
        })
    ));
}

// ----- lag probes -----

#[test]
fn a_probe_ping_measures_the_round_trip_through_the_brokers_queue() {
    let mut b = Broker::connected(opts());
    b.now = 5_000;
    assert!(b.s.probe_ping(b.now));
    assert_eq!(b.sent(), PINGREQ.to_vec());
    assert_eq!(b.s.ping_waiting_since(), Some(5_000));
    // No second probe while one waits: probes never pile up.
    assert!(!b.s.probe_ping(5_100));
    assert_eq!(b.s.poll_transmit(), None);
    // Messages queued before the PINGRESP arrive first.
    b.now = 7_500;
    b.feed(&publish("t", b"x", 0, 0, false, false));
    b.feed(&PINGRESP);
    let events = b.events();
    assert!(matches!(events[0], Event::Message(_)), "{events:?}");
    assert_eq!(
        events[1],
        Event::Pong {
            round_trip_ms: 2_500
        }
    );
    assert_eq!(b.s.ping_waiting_since(), None);
}

#[test]
fn a_slow_answer_to_a_probe_is_measured_not_taken_for_a_dead_link() {
    let mut b = Broker::connected(opts());
    assert!(b.s.probe_ping(2_000));
    b.sent();
    // The probe sets no deadline: the next one is keepalive's (nothing was
    // received since the CONNACK at 1_000).
    assert_eq!(b.s.poll_timeout(), Some(61_000));
    b.now = 30_000;
    b.feed(&publish("t", b"x", 0, 0, false, false));
    assert_eq!(b.s.poll_timeout(), Some(62_000));
    b.advance_to(50_000);
    assert_eq!(b.s.state(), ConnectionState::Connected);
    b.now = 50_000;
    b.feed(&PINGRESP);
    assert!(b.events().contains(&Event::Pong {
        round_trip_ms: 48_000
    }));
}

#[test]
fn the_keepalive_deadline_is_met_only_by_the_answer_to_its_own_ping() {
    let mut b = Broker::connected(opts());
    // A probe at 1_000 (its answer is late), then the keepalive ping is due
    // at 61_000 (nothing was sent since the probe).
    assert!(b.s.probe_ping(1_000));
    b.sent();
    b.advance_to(61_000);
    assert_eq!(b.sent(), PINGREQ.to_vec());
    assert_eq!(b.s.poll_timeout(), Some(71_000));
    // The first PINGRESP answers the probe; the keepalive ping still waits.
    b.now = 62_000;
    b.feed(&PINGRESP);
    assert_eq!(
        b.events(),
        vec![Event::Pong {
            round_trip_ms: 61_000
        }]
    );
    assert_eq!(b.s.poll_timeout(), Some(71_000));
    b.now = 62_500;
    b.feed(&PINGRESP);
    assert_eq!(
        b.events(),
        vec![Event::Pong {
            round_trip_ms: 1_500
        }]
    );
    // Answered: the next ping is keepalive's again (from the PINGREQ sent).
    assert_eq!(b.s.poll_timeout(), Some(121_000));
}

#[test]
fn no_probe_is_sent_before_the_connection_is_accepted() {
    let mut b = Broker::new(opts());
    assert!(!b.s.probe_ping(1_000));
    b.s.connect(1_000);
    b.sent();
    assert!(!b.s.probe_ping(1_100));
    assert_eq!(b.s.poll_transmit(), None);
}
