//! MQTT 5 session tests driven by a scripted fake broker: the packets a
//! broker sends are written out byte by byte here (not by the codec under
//! test), what the client sends is read back with `mqttbytes::v5`. Test-only.

use super::*;
use crate::error::ProtocolError;
use crate::v5::{ConnectProperties, RetainHandling};
use mqttbytes::v5;

fn opts() -> Options {
    Options {
        client_id: "test5".into(),
        keep_alive_secs: 60,
        protocol: ProtocolVersion::V5,
        ..Options::default()
    }
}

/// MQTT 5 options that let the broker use topic aliases 1 to `max`.
fn allowing_aliases(max: u16) -> Options {
    Options {
        v5: ConnectProperties {
            topic_alias_maximum: max,
            ..ConnectProperties::default()
        },
        ..opts()
    }
}

fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

fn string(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

/// A packet: first byte, then `body`, with the remaining length between.
fn packet(byte1: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![byte1];
    v.extend(varint(body.len()));
    v.extend_from_slice(body);
    v
}

/// A property block: its length, then the properties.
fn props(p: &[u8]) -> Vec<u8> {
    let mut v = varint(p.len());
    v.extend_from_slice(p);
    v
}

fn connack_with(properties: &[u8]) -> Vec<u8> {
    let mut body = vec![0, 0];
    body.extend(props(properties));
    packet(0x20, &body)
}

fn publish5(topic: &str, payload: &[u8], qos: u8, pkid: u16, properties: &[u8]) -> Vec<u8> {
    let mut body = string(topic);
    if qos > 0 {
        body.extend(pkid.to_be_bytes());
    }
    body.extend(props(properties));
    body.extend_from_slice(payload);
    packet(0x30 | (qos << 1), &body)
}

fn ack5(byte1: u8, pkid: u16, code: u8, reason: Option<&str>) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    body.push(code);
    let mut p = Vec::new();
    if let Some(r) = reason {
        p.push(0x1F);
        p.extend(string(r));
    }
    body.extend(props(&p));
    packet(byte1, &body)
}

struct Broker {
    s: Session,
    now: u64,
}

impl Broker {
    fn connected_with(o: Options, connack: &[u8]) -> (Broker, Vec<Event>) {
        let s = match Session::new(o) {
            Ok(s) => s,
            Err(e) => panic!("options refused: {e}"),
        };
        let mut b = Broker { s, now: 1_000 };
        b.s.connect(b.now);
        b.sent();
        b.feed(connack);
        let events = b.events();
        (b, events)
    }

    fn connected(o: Options) -> Broker {
        Broker::connected_with(o, &connack_with(&[])).0
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.s.handle_bytes(self.now, bytes);
    }

    fn sent(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(chunk) = self.s.poll_transmit() {
            all.extend_from_slice(&chunk);
        }
        all
    }

    fn sent_packets(&mut self) -> Vec<v5::Packet> {
        let mut buf = BytesMut::from(&self.sent()[..]);
        let mut out = Vec::new();
        while !buf.is_empty() {
            match v5::read(&mut buf, usize::MAX) {
                Ok(p) => out.push(p),
                Err(e) => panic!("client sent something unreadable: {e:?}"),
            }
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.s.poll_event()).collect()
    }

    fn publish(&mut self, topic: &str, qos: QoS) -> Result<PublishId, SessionError> {
        self.s.publish(self.now, topic, b"x".to_vec(), qos, false)
    }
}

#[test]
fn a_v5_connack_is_reported_as_granted_just_before_connected_with_defaults_filled() {
    let mut p = vec![0x21, 0, 2]; // receive maximum 2
    p.extend([0x22, 0, 3]); // topic alias maximum 3
    p.extend([0x24, 1]); // maximum QoS 1
    p.extend([0x25, 0]); // retain not available
    p.extend([0x13, 0, 5]); // server keep alive 5 s
    p.push(0x12);
    p.extend(string("auto-1")); // assigned client identifier
    let (b, events) = Broker::connected_with(opts(), &connack_with(&p));
    let granted = Granted {
        assigned_client_id: Some("auto-1".into()),
        server_keep_alive: Some(5),
        receive_maximum: 2,
        maximum_qos: QoS::AtLeastOnce,
        retain_available: false,
        topic_alias_maximum: 3,
        ..Granted::default()
    };
    assert_eq!(
        events,
        vec![
            Event::Granted(Box::new(granted.clone())),
            Event::Connected {
                session_present: false
            }
        ]
    );
    assert_eq!(b.s.granted(), Some(&granted));
    assert_eq!(b.s.keep_alive_secs(), 5);
}

#[test]
fn the_brokers_server_keep_alive_replaces_ours_for_pings() {
    let (mut b, _) = Broker::connected_with(opts(), &connack_with(&[0x13, 0, 5]));
    assert_eq!(b.s.poll_timeout(), Some(1_000 + 5_000));
    b.now = 6_000;
    b.s.handle_timeout(6_000);
    assert_eq!(b.sent(), vec![0xC0, 0]);
}

#[test]
fn never_more_publishes_in_flight_than_the_brokers_receive_maximum() {
    let (mut b, _) = Broker::connected_with(opts(), &connack_with(&[0x21, 0, 2]));
    for _ in 0..3 {
        assert!(b.publish("t", QoS::AtLeastOnce).is_ok());
    }
    assert_eq!(b.s.in_flight(), 2);
    assert_eq!(b.s.queued(), 1);
    let first = b.sent_packets();
    assert_eq!(first.len(), 2);
    b.feed(&ack5(0x40, 1, 0, None));
    assert_eq!(b.s.in_flight(), 2);
    assert_eq!(b.s.queued(), 0);
}

#[test]
fn a_qos_above_the_brokers_maximum_and_retain_it_lacks_are_refused_before_anything_is_sent() {
    let (mut b, _) = Broker::connected_with(opts(), &connack_with(&[0x24, 0, 0x25, 0]));
    let e = b.publish("t", QoS::AtLeastOnce);
    assert!(
        matches!(&e, Err(SessionError::NotAllowedByBroker(why)) if why.contains("QoS 0")),
        "{e:?}"
    );
    let e =
        b.s.publish(b.now, "t", b"x".to_vec(), QoS::AtMostOnce, true);
    assert!(
        matches!(&e, Err(SessionError::NotAllowedByBroker(why)) if why.contains("retained")),
        "{e:?}"
    );
    assert!(b.sent().is_empty());
    assert!(b.publish("t", QoS::AtMostOnce).is_ok());
}

#[test]
fn a_message_over_the_brokers_maximum_packet_size_is_refused_with_its_size() {
    let (mut b, _) = Broker::connected_with(opts(), &connack_with(&[0x27, 0, 0, 0, 40]));
    let ok = b.s.publish(b.now, "t", vec![0; 20], QoS::AtMostOnce, false);
    assert!(ok.is_ok());
    let e = b.s.publish(b.now, "t", vec![0; 40], QoS::AtMostOnce, false);
    assert!(
        matches!(&e, Err(SessionError::NotAllowedByBroker(why)) if why.contains("maximum of 40")),
        "{e:?}"
    );
}

#[test]
fn wildcards_shared_subscriptions_and_identifiers_the_broker_lacks_are_refused() {
    let (mut b, _) = Broker::connected_with(
        opts(),
        &connack_with(&[0x28, 0, 0x29, 0, 0x2A, 0]), // none available
    );
    for (filter, id, says) in [
        ("a/+", None, "wildcard"),
        ("$share/g/a", None, "shared"),
        ("a", Some(7), "identifiers"),
    ] {
        let e =
            b.s.subscribe_with(b.now, vec![Subscription::new(filter, QoS::AtMostOnce)], id);
        assert!(
            matches!(&e, Err(SessionError::NotAllowedByBroker(why)) if why.contains(says)),
            "{filter}: {e:?}"
        );
    }
    assert!(b.sent().is_empty());
}

#[test]
fn subscription_options_and_the_identifier_are_written_in_subscribe() {
    let mut b = Broker::connected(opts());
    let sub = Subscription {
        filter: "a/#".into(),
        qos: QoS::AtLeastOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    };
    assert_eq!(b.s.subscribe_with(b.now, vec![sub], Some(300)), Ok(1));
    let sent = b.sent();
    // SUBSCRIBE, pkid 1, properties: identifier 300 (varint AC 02), then the
    // filter and its options byte: QoS 1 | no local | RAP | RH 2.
    let mut body = vec![0, 1];
    body.extend(props(&[0x0B, 0xAC, 0x02]));
    body.extend(string("a/#"));
    body.push(0b0010_1101);
    assert_eq!(sent, packet(0x82, &body));
}

#[test]
fn a_topic_the_client_publishes_again_goes_out_as_its_alias_within_the_brokers_maximum() {
    let (mut b, _) = Broker::connected_with(opts(), &connack_with(&[0x22, 0, 1]));
    for topic in ["long/topic/name", "long/topic/name", "other"] {
        assert!(b.publish(topic, QoS::AtMostOnce).is_ok());
    }
    let sent = b.sent_packets();
    let got: Vec<(String, Option<u16>)> = sent
        .iter()
        .map(|p| match p {
            v5::Packet::Publish(p) => (
                p.topic.clone(),
                p.properties.as_ref().and_then(|q| q.topic_alias),
            ),
            other => panic!("not a publish: {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("long/topic/name".into(), Some(1)),
            (String::new(), Some(1)),
            ("other".into(), None),
        ]
    );
}

#[test]
fn received_topic_aliases_are_resolved_and_forgotten_with_the_connection() {
    let o = allowing_aliases(2);
    let mut b = Broker::connected(o);
    b.events();
    b.feed(&publish5("dev/1/temp", b"20", 0, 0, &[0x23, 0, 2]));
    b.feed(&publish5("", b"21", 0, 0, &[0x23, 0, 2]));
    let topics: Vec<String> = b
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(format!(
                "{}={}",
                m.topic,
                String::from_utf8_lossy(&m.payload)
            )),
            _ => None,
        })
        .collect();
    assert_eq!(topics, vec!["dev/1/temp=20", "dev/1/temp=21"]);
}

#[test]
fn an_alias_never_set_ends_the_connection_with_disconnect_0x94() {
    let o = allowing_aliases(2);
    let mut b = Broker::connected(o);
    b.events();
    b.feed(&publish5("", b"x", 0, 0, &[0x23, 0, 1]));
    let events = b.events();
    assert_eq!(
        events.last(),
        Some(&Event::Closed {
            error: SessionError::Protocol(ProtocolError::UnknownTopicAlias(1))
        })
    );
    assert_eq!(b.sent(), vec![0xE0, 1, 0x94]);
}

#[test]
fn an_alias_of_0_or_over_our_maximum_is_a_protocol_error() {
    for alias in [0u16, 3] {
        let o = allowing_aliases(2);
        let mut b = Broker::connected(o);
        b.events();
        let [hi, lo] = alias.to_be_bytes();
        b.feed(&publish5("t", b"x", 0, 0, &[0x23, hi, lo]));
        assert_eq!(
            b.events().last(),
            Some(&Event::Closed {
                error: SessionError::Protocol(ProtocolError::TopicAliasInvalid { alias, max: 2 })
            })
        );
    }
}

#[test]
fn more_qos_2_messages_awaiting_release_than_our_receive_maximum_is_a_protocol_error() {
    let o = Options {
        v5: ConnectProperties {
            receive_maximum: 2,
            ..ConnectProperties::default()
        },
        ..opts()
    };
    let mut b = Broker::connected(o);
    b.events();
    b.feed(&publish5("t", b"1", 2, 1, &[]));
    b.feed(&publish5("t", b"2", 2, 2, &[]));
    // A redelivery of one already waiting is not a new one.
    b.feed(&publish5("t", b"2", 2, 2, &[]));
    assert_eq!(b.s.state(), ConnectionState::Connected);
    b.sent();
    b.feed(&publish5("t", b"3", 2, 3, &[]));
    assert_eq!(
        b.events().last(),
        Some(&Event::Closed {
            error: SessionError::Protocol(ProtocolError::ReceiveMaximumExceeded { max: 2 })
        })
    );
    assert_eq!(b.sent(), vec![0xE0, 1, 0x93]);
}

#[test]
fn a_failed_puback_fails_the_publish_with_the_brokers_reason() {
    let mut b = Broker::connected(opts());
    b.events();
    let id = b.publish("t", QoS::AtLeastOnce).unwrap_or(PublishId(0));
    b.sent();
    b.events();
    b.feed(&ack5(0x40, 1, 0x97, Some("daily limit")));
    assert_eq!(
        b.events(),
        vec![Event::PublishFailed {
            id,
            reason: "the broker refused it: quota exceeded (0x97): \"daily limit\"".into()
        }]
    );
    assert_eq!(b.s.in_flight(), 0);
}

#[test]
fn a_puback_saying_no_matching_subscribers_still_completes_and_says_so() {
    let mut b = Broker::connected(opts());
    b.events();
    let id = b.publish("t", QoS::AtLeastOnce).unwrap_or(PublishId(0));
    b.events();
    b.feed(&ack5(0x40, 1, 0x10, None));
    let events = b.events();
    assert_eq!(
        events.first(),
        Some(&Event::PublishReason {
            id,
            code: 0x10,
            reason: "no matching subscribers (0x10)".into()
        })
    );
    assert!(matches!(events.get(1), Some(Event::PublishComplete { .. })));
}

#[test]
fn a_failed_pubrec_ends_a_qos_2_publish_without_pubrel() {
    let mut b = Broker::connected(opts());
    b.events();
    let id = b.publish("t", QoS::ExactlyOnce).unwrap_or(PublishId(0));
    b.sent();
    b.events();
    b.feed(&ack5(0x50, 1, 0x87, None));
    assert_eq!(
        b.events(),
        vec![Event::PublishFailed {
            id,
            reason: "the broker refused it: not authorized (0x87)".into()
        }]
    );
    assert!(b.sent().is_empty(), "no PUBREL after a failed PUBREC");
}

#[test]
fn a_server_disconnect_closes_with_its_reason_and_nothing_is_sent_back() {
    let mut b = Broker::connected(opts());
    b.events();
    let mut body = vec![0x8E];
    let mut p = vec![0x1F];
    p.extend(string("another client"));
    body.extend(props(&p));
    b.feed(&packet(0xE0, &body));
    let error = SessionError::ServerDisconnected {
        code: 0x8E,
        reason: Some("another client".into()),
        server_reference: None,
    };
    assert_eq!(
        error.to_string(),
        "the broker ended the connection: session taken over (0x8e): \"another client\""
    );
    assert_eq!(b.events(), vec![Event::Closed { error }]);
    assert!(b.s.wants_close());
    assert!(b.sent().is_empty());
}

#[test]
fn a_refusing_v5_connack_reads_as_the_reason_code_and_the_brokers_words() {
    let mut p = vec![0x1F];
    p.extend(string("try later"));
    let mut body = vec![0, 0x86];
    body.extend(props(&p));
    let (_, events) = Broker::connected_with(opts(), &packet(0x20, &body));
    assert_eq!(
        events,
        vec![
            Event::ConnectionRefused {
                code: 0x86,
                reason: "bad user name or password (0x86): \"try later\"".into()
            },
            Event::Closed {
                error: SessionError::ConnectionRefused { code: 0x86 }
            }
        ]
    );
}

#[test]
fn suback_refusals_and_unsuback_codes_are_reported_per_filter() {
    let mut b = Broker::connected(opts());
    b.events();
    let subs = vec![
        Subscription::new("a", QoS::AtLeastOnce),
        Subscription::new("b", QoS::AtLeastOnce),
    ];
    assert_eq!(b.s.subscribe_with(b.now, subs, None), Ok(1));
    let mut body = vec![0, 1];
    body.extend(props(&[]));
    body.extend([0x01, 0x87]);
    b.feed(&packet(0x90, &body));
    assert_eq!(
        b.events(),
        vec![Event::Subscribed {
            pkid: 1,
            results: vec![
                ("a".into(), SubscribeResult::Granted(QoS::AtLeastOnce)),
                ("b".into(), SubscribeResult::RefusedWith(0x87)),
            ]
        }]
    );
    assert_eq!(b.s.unsubscribe(b.now, vec!["a".into(), "b".into()]), Ok(2));
    let mut body = vec![0, 2];
    body.extend(props(&[]));
    body.extend([0x00, 0x87]);
    b.feed(&packet(0xB0, &body));
    assert_eq!(
        b.events(),
        vec![
            Event::UnsubscribeFailed {
                pkid: 2,
                filters: vec!["b".into()],
                reason: "the broker refused: not authorized (0x87)".into()
            },
            Event::Unsubscribed {
                pkid: 2,
                filters: vec!["a".into()]
            }
        ]
    );
}

#[test]
fn received_properties_reach_the_message() {
    let mut b = Broker::connected(opts());
    b.events();
    let mut p = vec![0x01, 1, 0x02, 0, 0, 0, 60, 0x03];
    p.extend(string("application/json"));
    p.push(0x08);
    p.extend(string("reply/here"));
    p.extend([0x09, 0, 2, 0xBE, 0xEF]);
    for (k, v) in [("k", "1"), ("k", "2")] {
        p.push(0x26);
        p.extend(string(k));
        p.extend(string(v));
    }
    p.extend([0x0B, 5]);
    b.feed(&publish5("t", b"{}", 1, 9, &p));
    let expected = PublishProperties {
        payload_format_indicator: Some(1),
        message_expiry_secs: Some(60),
        content_type: Some("application/json".into()),
        response_topic: Some("reply/here".into()),
        correlation_data: Some(Bytes::from_static(&[0xBE, 0xEF])),
        user_properties: vec![("k".into(), "1".into()), ("k".into(), "2".into())],
        subscription_identifiers: vec![5],
    };
    match b.events().first() {
        Some(Event::Message(m)) => assert_eq!(m.properties.as_deref(), Some(&expected)),
        other => panic!("no message: {other:?}"),
    }
}

#[test]
fn message_properties_need_mqtt_5() {
    let s = Session::new(Options {
        protocol: ProtocolVersion::V3_1_1,
        ..opts()
    });
    let Ok(mut s) = s else {
        panic!("options refused")
    };
    s.connect(0);
    s.handle_bytes(1, &[0x20, 2, 0, 0]);
    let props = PublishProperties {
        content_type: Some("text/plain".into()),
        ..PublishProperties::default()
    };
    let e = s.publish_with(2, "t", vec![], QoS::AtMostOnce, false, props);
    assert!(
        matches!(&e, Err(SessionError::InvalidRequest(why)) if why.contains("MQTT 5")),
        "{e:?}"
    );
}

#[test]
fn with_session_expiry_0_in_flight_publishes_end_with_the_connection_even_without_clean_start() {
    let o = Options {
        clean_session: false,
        ..opts()
    };
    let mut b = Broker::connected(o);
    b.events();
    let id = b.publish("t", QoS::AtLeastOnce).unwrap_or(PublishId(0));
    b.events();
    b.s.connection_lost("cut".into());
    let events = b.events();
    assert!(
        events.contains(&Event::PublishFailed {
            id,
            reason: DROPPED_CLEAN.into()
        }),
        "{events:?}"
    );
}

#[test]
fn with_session_expiry_in_flight_publishes_are_resent_with_dup_into_a_resumed_session() {
    let o = Options {
        clean_session: false,
        v5: ConnectProperties {
            session_expiry_secs: 3600,
            ..ConnectProperties::default()
        },
        ..opts()
    };
    let (mut b, _) = Broker::connected_with(o, &connack_with(&[0x22, 0, 5]));
    assert!(b.publish("some/topic", QoS::AtLeastOnce).is_ok());
    assert!(b.publish("some/topic", QoS::AtLeastOnce).is_ok());
    b.sent();
    b.s.connection_lost("cut".into());
    b.events();
    b.s.connect(b.now);
    b.sent();
    let mut body = vec![1, 0];
    body.extend(props(&[]));
    b.feed(&packet(0x20, &body));
    let resent: Vec<(bool, String, Option<u16>)> = b
        .sent_packets()
        .into_iter()
        .map(|p| match p {
            v5::Packet::Publish(p) => (p.dup, p.topic, p.properties.and_then(|q| q.topic_alias)),
            other => panic!("not a publish: {other:?}"),
        })
        .collect();
    // In full: aliases do not survive the connection.
    assert_eq!(
        resent,
        vec![
            (true, "some/topic".into(), None),
            (true, "some/topic".into(), None)
        ]
    );
}

#[test]
fn connect_carries_maximum_packet_size_and_the_asked_properties() {
    let o = Options {
        max_incoming_packet_size: 4096,
        v5: ConnectProperties {
            session_expiry_secs: 60,
            receive_maximum: 10,
            topic_alias_maximum: 4,
            user_properties: vec![("app".into(), "mqdash".into())],
            ..ConnectProperties::default()
        },
        ..opts()
    };
    let Ok(mut s) = Session::new(o) else {
        panic!("options refused")
    };
    s.connect(0);
    let bytes = s.poll_transmit().unwrap_or_default();
    let mut buf = BytesMut::from(&bytes[..]);
    match v5::read(&mut buf, usize::MAX) {
        Ok(v5::Packet::Connect(c)) => {
            let p = c.properties.unwrap_or_else(|| panic!("no properties"));
            assert_eq!(p.session_expiry_interval, Some(60));
            assert_eq!(p.receive_maximum, Some(10));
            assert_eq!(p.max_packet_size, Some(4096));
            assert_eq!(p.topic_alias_max, Some(4));
            assert_eq!(p.user_properties, vec![("app".into(), "mqdash".into())]);
            assert_eq!(c.client_id, "test5");
        }
        other => panic!("not a CONNECT: {other:?}"),
    }
}

#[test]
fn every_v5_hostile_case_ends_in_its_typed_error_and_at_most_a_disconnect_with_its_reason() {
    for case in crate::hostile::v5_cases() {
        let what = case.name;
        for chunk in [usize::MAX, 1, 3] {
            let Ok(mut s) = Session::new(crate::hostile::case_options_v5()) else {
                panic!("options refused")
            };
            s.connect(0);
            while s.poll_transmit().is_some() {}
            for piece in case.bytes.chunks(chunk.min(case.bytes.len()).max(1)) {
                s.handle_bytes(1, piece);
            }
            let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
            assert_eq!(
                events.last(),
                Some(&Event::Closed {
                    error: case.error.clone()
                }),
                "{what} (chunks of {chunk}): {events:?}"
            );
            assert_eq!(s.state(), ConnectionState::Closed, "{what}");
            assert!(s.wants_close(), "{what}");
            // After the error: nothing, or one DISCONNECT saying why (once
            // CONNACK was accepted).
            let written = s.poll_transmit();
            if let Some(bytes) = written {
                let code = match &case.error {
                    SessionError::Protocol(e) => e.disconnect_code(),
                    SessionError::PacketTooLarge { .. } => 0x95,
                    other => panic!("{what}: DISCONNECT after {other}"),
                };
                assert_eq!(bytes, vec![0xE0, 1, code], "{what}");
            }
            s.handle_bytes(2, &publish5("t", b"x", 0, 0, &[]));
            assert_eq!(s.poll_event(), None, "{what}");
        }
    }
}

#[test]
fn a_publish_over_our_maximum_packet_size_is_read_through_acknowledged_and_not_kept() {
    // mosquitto 2.0 sends PUBLISHes one byte over the size we announce.
    let o = Options {
        max_incoming_packet_size: 64,
        ..opts()
    };
    let mut b = Broker::connected(o);
    b.events();
    let big = publish5("big", &[7; 80], 1, 3, &[0x03, 0, 1, b'x']);
    b.feed(&big);
    let events = b.events();
    assert!(
        matches!(
            events.first(),
            Some(Event::MessageNotKept { topic, qos: QoS::AtLeastOnce, limit: 64, .. })
                if topic == "big"
        ),
        "{events:?}"
    );
    assert_eq!(b.sent(), vec![0x40, 2, 0, 3], "PUBACK");
    b.feed(&publish5("small", b"ok", 0, 0, &[]));
    assert!(matches!(b.events().first(), Some(Event::Message(m)) if m.topic == "small"));
    assert_eq!(b.s.state(), ConnectionState::Connected);
}

#[test]
fn publishes_waiting_for_the_window_are_checked_against_the_connack_they_go_out_under() {
    let o = Options {
        clean_session: false,
        max_in_flight: 1,
        v5: ConnectProperties {
            session_expiry_secs: 60,
            ..ConnectProperties::default()
        },
        ..opts()
    };
    let mut b = Broker::connected(o);
    let first = b.publish("t", QoS::ExactlyOnce).unwrap_or(PublishId(0));
    let waiting = b.publish("t", QoS::ExactlyOnce).unwrap_or(PublishId(0));
    assert_eq!(b.s.queued(), 1);
    b.s.connection_lost("cut".into());
    b.events();
    b.s.connect(b.now);
    b.sent();
    // The broker resumes the session but now allows QoS 1 at most.
    let mut body = vec![1, 0];
    body.extend(props(&[0x24, 1]));
    b.feed(&packet(0x20, &body));
    let events = b.events();
    for id in [first, waiting] {
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::PublishFailed { id: i, reason } if *i == id && reason.contains("QoS 1")
            )),
            "{id:?}: {events:?}"
        );
    }
    assert!(b.sent().is_empty(), "nothing above QoS 1 went out");
    assert_eq!(b.s.in_flight(), 0);
}

#[test]
fn mqtt_5_allows_a_password_without_a_user_name_and_3_1_1_does_not() {
    let o = Options {
        password: Some("secret".into()),
        ..opts()
    };
    assert_eq!(o.validate(), Ok(()));
    let o = Options {
        protocol: ProtocolVersion::V3_1_1,
        ..o
    };
    assert_eq!(
        o.validate(),
        Err(crate::error::ConfigError::PasswordWithoutUsername)
    );
}
