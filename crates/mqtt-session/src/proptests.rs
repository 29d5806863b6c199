//! Property tests of the codec seam and the session: random framing of valid
//! packet streams (with PUBLISHes over the size limit among them), a small
//! limit against none, and arbitrary or mutated bytes from a hostile broker.
//! Test-only; must not be compiled into the library.

use bytes::{Bytes, BytesMut};
use mqttbytes::v4;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::codec::{check_header, parse_fixed_header, Ack, Decoder, Incoming, Skipped};
use crate::options::ProtocolVersion;
use crate::{
    ConnectionState, Event, Message, Options, QoS, Session, SessionError, SubscribeResult,
    MAX_OVERSIZED_HEAD_LEN,
};

fn qos_strategy() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn topic_strategy() -> impl Strategy<Value = String> {
    "[a-z$é€]{1,4}(/[a-zA-Z0-9 é日]{0,4}){0,4}"
}

fn ack_bytes(byte1: u8, pkid: u16) -> Vec<u8> {
    let [hi, lo] = pkid.to_be_bytes();
    vec![byte1, 2, hi, lo]
}

/// A packet a broker may send, as bytes (written by mqttbytes where it has a
/// writer) and as what our decoder must make of it.
fn packet_strategy() -> impl Strategy<Value = (Vec<u8>, Incoming)> {
    let publish = (
        topic_strategy(),
        vec(any::<u8>(), 0..300),
        qos_strategy(),
        1u16..,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(topic, payload, qos, pkid, dup, retain)| {
            let pkid = if qos == QoS::AtMostOnce { 0 } else { pkid };
            let dup = dup && qos != QoS::AtMostOnce;
            let p = v4::Publish {
                dup,
                qos: qos.to_mqttbytes(),
                retain,
                topic: topic.clone(),
                pkid,
                payload: Bytes::from(payload.clone()),
            };
            let mut b = BytesMut::new();
            let written = p.write(&mut b);
            assert!(written.is_ok());
            let m = Message {
                topic,
                payload: Bytes::from(payload),
                qos,
                retain,
                dup,
                pkid,
                properties: None,
            };
            (b.to_vec(), Incoming::Publish(m, None))
        });
    let acks = (0usize..5, 1u16..).prop_map(|(kind, pkid)| match kind {
        0 => (
            ack_bytes(0x40, pkid),
            Incoming::PubAck(pkid, Ack::default()),
        ),
        1 => (
            ack_bytes(0x50, pkid),
            Incoming::PubRec(pkid, Ack::default()),
        ),
        2 => (
            ack_bytes(0x62, pkid),
            Incoming::PubRel(pkid, Ack::default()),
        ),
        3 => (
            ack_bytes(0x70, pkid),
            Incoming::PubComp(pkid, Ack::default()),
        ),
        _ => (
            ack_bytes(0xB0, pkid),
            Incoming::UnsubAck {
                pkid,
                codes: Vec::new(),
                reason: None,
            },
        ),
    });
    let suback = (
        1u16..,
        vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(0x80)], 1..6),
    )
        .prop_map(|(pkid, codes)| {
            let ack = v4::SubAck::new(
                pkid,
                codes
                    .iter()
                    .map(|&c| match c {
                        0 => v4::SubscribeReasonCode::Success(mqttbytes::QoS::AtMostOnce),
                        1 => v4::SubscribeReasonCode::Success(mqttbytes::QoS::AtLeastOnce),
                        2 => v4::SubscribeReasonCode::Success(mqttbytes::QoS::ExactlyOnce),
                        _ => v4::SubscribeReasonCode::Failure,
                    })
                    .collect(),
            );
            let mut b = BytesMut::new();
            assert!(ack.write(&mut b).is_ok());
            let results = codes
                .iter()
                .map(|&c| match QoS::from_u8(c) {
                    Some(q) => SubscribeResult::Granted(q),
                    None => SubscribeResult::Refused,
                })
                .collect();
            (
                b.to_vec(),
                Incoming::SubAck {
                    pkid,
                    results,
                    reason: None,
                },
            )
        });
    let connack = (any::<bool>(), 0u8..=5).prop_map(|(sp, code)| {
        (
            vec![0x20, 2, u8::from(sp), code],
            Incoming::ConnAck {
                session_present: sp,
                code,
                granted: None,
            },
        )
    });
    prop_oneof![
        4 => publish,
        3 => acks,
        1 => suback,
        1 => connack,
        1 => Just((vec![0xD0, 0], Incoming::PingResp)),
    ]
}

/// Cuts `bytes` at the given points (taken modulo its length).
fn chunks(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| if bytes.is_empty() { 0 } else { c % bytes.len() })
        .collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .filter_map(|w| bytes.get(w[0]..w[1]).map(<[u8]>::to_vec))
        .collect()
}

/// The incoming limit of `connected_session`.
const LIMIT: usize = 4096;

fn connected_session() -> Session {
    let mut s = match Session::new(Options {
        client_id: "prop".into(),
        max_incoming_packet_size: LIMIT,
        ..Options::default()
    }) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    s.connect(0);
    s.handle_bytes(0, &[0x20, 2, 0, 0]);
    s
}

/// Feeds chunks; checks the session either is still up with no `Closed`
/// event, or closed with exactly one `Closed` event as its last.
fn feed_and_check(mut s: Session, chunks: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let bound = s
        .options()
        .max_incoming_packet_size
        .max(MAX_OVERSIZED_HEAD_LEN);
    for c in chunks {
        s.handle_bytes(1, c);
        let _ = s.poll_transmit();
        prop_assert!(s.buffered_bytes() <= bound, "{}", s.buffered_bytes());
    }
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    let closed = events
        .iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .count();
    match s.state() {
        ConnectionState::Closed => {
            prop_assert_eq!(closed, 1);
            let last_is_closed = matches!(events.last(), Some(Event::Closed { .. }));
            prop_assert!(last_is_closed);
            prop_assert!(s.wants_close());
        }
        ConnectionState::Connected | ConnectionState::Connecting => prop_assert_eq!(closed, 0),
        ConnectionState::Disconnected => prop_assert!(false, "unexpected state"),
    }
    Ok(())
}

/// One packet of a stream for the oversize property: bytes, the event the
/// session must report, and the acknowledgement it must write.
type Item = (Vec<u8>, Event, Vec<u8>);

fn ack_for(qos: QoS, pkid: u16) -> Vec<u8> {
    match qos {
        QoS::AtMostOnce => Vec::new(),
        QoS::AtLeastOnce => ack_bytes(0x40, pkid),
        QoS::ExactlyOnce => ack_bytes(0x50, pkid),
    }
}

fn put_len(v: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        v.push(b);
        if len == 0 {
            break;
        }
    }
}

/// A PUBLISH kept (payload up to 300 bytes) or over `LIMIT` (up to 30,000),
/// with packet id `pkid` when QoS > 0.
fn item_strategy(pkid: u16) -> impl Strategy<Value = Item> {
    (
        topic_strategy(),
        qos_strategy(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![0usize..300, LIMIT..30_000],
        any::<u8>(),
    )
        .prop_map(move |(topic, qos, dup, retain, payload_len, fill)| {
            let pkid = if qos == QoS::AtMostOnce { 0 } else { pkid };
            let dup = dup && qos != QoS::AtMostOnce;
            let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
            let mut b = vec![0x30 | (u8::from(dup) << 3) | (qos.as_u8() << 1) | u8::from(retain)];
            put_len(&mut b, 2 + topic.len() + id_len + payload_len);
            b.extend_from_slice(&(topic.len() as u16).to_be_bytes());
            b.extend_from_slice(topic.as_bytes());
            if pkid != 0 {
                b.extend_from_slice(&pkid.to_be_bytes());
            }
            b.resize(b.len() + payload_len, fill);
            let event = if b.len() > LIMIT {
                Event::MessageNotKept {
                    topic,
                    size: payload_len,
                    packet_size: b.len(),
                    qos,
                    retain,
                    dup,
                    pkid,
                    limit: LIMIT,
                }
            } else {
                Event::Message(Message {
                    topic,
                    payload: Bytes::from(vec![fill; payload_len]),
                    qos,
                    retain,
                    dup,
                    pkid,
                    properties: None,
                })
            };
            (b, event, ack_for(qos, pkid))
        })
}

/// 1 to 12 PUBLISHes, at least one over `LIMIT`, each with its own packet id
/// (so no QoS 2 message is a redelivery of another).
fn items_strategy() -> impl Strategy<Value = Vec<Item>> {
    (1usize..12)
        .prop_flat_map(|n| {
            let items: Vec<_> = (1..=n as u16).map(item_strategy).collect();
            (items, any::<usize>(), 5_000usize..20_000)
        })
        .prop_map(|(mut items, at, big)| {
            if !items.iter().any(|(b, _, _)| b.len() > LIMIT) {
                // Make one of them oversized.
                let i = at % items.len();
                if let Some(item) = items.get_mut(i) {
                    let mut b = vec![0x30];
                    put_len(&mut b, 2 + 1 + big);
                    b.extend_from_slice(&[0, 1, b'z']);
                    b.resize(b.len() + big, 0);
                    let event = Event::MessageNotKept {
                        topic: "z".into(),
                        size: big,
                        packet_size: b.len(),
                        qos: QoS::AtMostOnce,
                        retain: false,
                        dup: false,
                        pkid: 0,
                        limit: LIMIT,
                    };
                    *item = (b, event, Vec::new());
                }
            }
            items
        })
}

/// Feeds `chunks` to a connected session; returns its events and what it wrote.
fn run_session(chunks: &[Vec<u8>]) -> Result<(Vec<Event>, Vec<u8>), TestCaseError> {
    let mut s = connected_session();
    let _ = s.poll_transmit();
    let _ = s.poll_event();
    let mut sent = Vec::new();
    for c in chunks {
        s.handle_bytes(1, c);
        while let Some(b) = s.poll_transmit() {
            sent.extend(b);
        }
        prop_assert!(s.buffered_bytes() <= LIMIT, "{}", s.buffered_bytes());
    }
    prop_assert_eq!(s.state(), ConnectionState::Connected);
    prop_assert_eq!(s.buffered_bytes(), 0);
    Ok((std::iter::from_fn(|| s.poll_event()).collect(), sent))
}

/// What a decoder with `limit` must make of a packet that a decoder without
/// limit decoded from `frame_len` bytes.
fn expected_with_limit(
    limit: usize,
    frame_len: usize,
    p: Incoming,
) -> Result<Option<Incoming>, SessionError> {
    if frame_len <= limit {
        return Ok(Some(p));
    }
    match p {
        Incoming::Publish(m, _) => {
            let size = m.payload.len();
            Ok(Some(Incoming::PublishNotKept(
                Message {
                    payload: Bytes::new(),
                    ..m
                },
                Skipped {
                    size,
                    packet_size: frame_len,
                    limit,
                },
            )))
        }
        _ => Err(SessionError::PacketTooLarge {
            size: frame_len,
            max: limit,
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_valid_packet_sequence_split_anywhere_decodes_to_the_same_packets(
        packets in vec(packet_strategy(), 1..20),
        cuts in vec(any::<usize>(), 0..30),
    ) {
        let stream: Vec<u8> = packets.iter().flat_map(|(b, _)| b.clone()).collect();
        let expected: Vec<Incoming> = packets.into_iter().map(|(_, p)| p).collect();
        let mut decoder = Decoder::new(usize::MAX, ProtocolVersion::V3_1_1);
        let mut got = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            let mut input = &chunk[..];
            loop {
                match decoder.next_packet(&mut input) {
                    Ok(Some(p)) => got.push(p),
                    Ok(None) => break,
                    Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
                }
            }
        }
        prop_assert_eq!(decoder.buffered(), 0);
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn any_bytes_from_the_broker_end_in_events_or_a_typed_error_never_a_panic(
        data in vec(any::<u8>(), 0..600),
        cuts in vec(any::<usize>(), 0..8),
        after_connack in any::<bool>(),
    ) {
        let s = if after_connack {
            connected_session()
        } else {
            let mut s = match Session::new(Options::default()) {
                Ok(s) => s,
                Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
            };
            s.connect(0);
            s
        };
        feed_and_check(s, &chunks(&data, &cuts))?;
    }

    #[test]
    fn mutated_valid_streams_end_in_events_or_a_typed_error_never_a_panic(
        packets in vec(packet_strategy(), 1..10),
        mutations in vec((any::<usize>(), any::<u8>()), 1..6),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let mut stream: Vec<u8> = packets.iter().flat_map(|(b, _)| b.clone()).collect();
        for (at, value) in mutations {
            let len = stream.len();
            if let Some(b) = stream.get_mut(at % len) {
                *b = value;
            }
        }
        feed_and_check(connected_session(), &chunks(&stream, &cuts))?;
    }

    #[test]
    fn a_stream_with_oversized_publishes_between_kept_ones_gives_the_same_events_in_any_chunking(
        items in items_strategy(),
        cuts in vec(any::<usize>(), 0..40),
        small_cuts in vec(0usize..64, 0..40),
    ) {
        let mut stream: Vec<u8> = items.iter().flat_map(|(b, _, _)| b.clone()).collect();
        stream.extend_from_slice(&[0xD0, 0]);
        let expected_events: Vec<Event> = items.iter().map(|(_, e, _)| e.clone()).collect();
        let expected_sent: Vec<u8> = items.iter().flat_map(|(_, _, a)| a.clone()).collect();
        let whole = run_session(&[stream.clone()])?;
        prop_assert_eq!(&whole.0, &expected_events);
        prop_assert_eq!(&whole.1, &expected_sent);
        let split = run_session(&chunks(&stream, &cuts))?;
        prop_assert_eq!(&split, &whole);
        // Many small chunks around the first packet boundaries too.
        let small = run_session(&chunks(&stream, &small_cuts))?;
        prop_assert_eq!(&small, &whole);
    }

    #[test]
    fn a_decoder_with_a_small_limit_agrees_with_one_without_but_drops_oversized_payloads(
        packets in vec(packet_strategy(), 1..10),
        mutations in vec((any::<usize>(), any::<u8>()), 0..4),
        limit in 5usize..400,
    ) {
        let mut stream: Vec<u8> = packets.iter().flat_map(|(b, _)| b.clone()).collect();
        for (at, value) in mutations {
            let len = stream.len();
            if let Some(b) = stream.get_mut(at % len) {
                *b = value;
            }
        }
        let mut full = Decoder::new(usize::MAX, ProtocolVersion::V3_1_1);
        let mut small = Decoder::new(limit, ProtocolVersion::V3_1_1);
        let mut a = &stream[..];
        let mut b = &stream[..];
        loop {
            let before = a;
            let got_full = full.next_packet(&mut a);
            let got_small = small.next_packet(&mut b);
            match got_full {
                Ok(None) => {
                    // The last packet is incomplete: with a limit it may
                    // still come out (an oversized PUBLISH whose head is in),
                    // or fail from its header or head.
                    if let Ok(Some(p)) = got_small {
                        prop_assert!(matches!(p, Incoming::PublishNotKept(..)), "{:?}", p);
                    }
                    break;
                }
                Ok(Some(p)) => {
                    let frame_len = before.len() - a.len();
                    let expected = expected_with_limit(limit, frame_len, p);
                    let stop = expected.is_err();
                    prop_assert_eq!(got_small, expected);
                    if stop {
                        break;
                    }
                }
                Err(e) => {
                    // A packet other than PUBLISH over the limit is refused
                    // from its header; anything else fails alike.
                    let expected = match parse_fixed_header(before) {
                        Ok(Some(h))
                            if check_header(&h).is_ok()
                                && h.frame_len() > limit
                                && h.packet_type() != 3 =>
                        {
                            SessionError::PacketTooLarge { size: h.frame_len(), max: limit }
                        }
                        _ => e,
                    };
                    prop_assert_eq!(got_small, Err(expected));
                    break;
                }
            }
        }
    }
}

// ----- MQTT 5: valid streams, written here byte by byte -----

fn v5_varint(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return;
        }
    }
}

fn v5_string(s: &str, out: &mut Vec<u8>) {
    out.extend((s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn v5_packet(byte1: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![byte1];
    v5_varint(body.len(), &mut v);
    v.extend_from_slice(body);
    v
}

fn v5_properties_bytes(p: &crate::PublishProperties) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(f) = p.payload_format_indicator {
        out.extend([0x01, f]);
    }
    if let Some(e) = p.message_expiry_secs {
        out.push(0x02);
        out.extend(e.to_be_bytes());
    }
    if let Some(ct) = &p.content_type {
        out.push(0x03);
        v5_string(ct, &mut out);
    }
    if let Some(rt) = &p.response_topic {
        out.push(0x08);
        v5_string(rt, &mut out);
    }
    if let Some(cd) = &p.correlation_data {
        out.push(0x09);
        out.extend((cd.len() as u16).to_be_bytes());
        out.extend_from_slice(cd);
    }
    for (k, v) in &p.user_properties {
        out.push(0x26);
        v5_string(k, &mut out);
        v5_string(v, &mut out);
    }
    for id in &p.subscription_identifiers {
        out.push(0x0B);
        v5_varint(*id as usize, &mut out);
    }
    out
}

fn v5_properties_strategy() -> impl Strategy<Value = Option<Box<crate::PublishProperties>>> {
    (
        proptest::option::of(0u8..=1),
        proptest::option::of(any::<u32>()),
        proptest::option::of("[a-z/+]{0,12}"),
        proptest::option::of(topic_strategy()),
        proptest::option::of(vec(any::<u8>(), 0..20)),
        vec(("[a-zé]{0,5}", "[ -~é日]{0,8}"), 0..4),
        vec(1u32..=268_435_455, 0..3),
    )
        .prop_map(|(f, e, ct, rt, cd, up, ids)| {
            let p = crate::PublishProperties {
                payload_format_indicator: f,
                message_expiry_secs: e,
                content_type: ct,
                response_topic: rt,
                correlation_data: cd.map(Bytes::from),
                user_properties: up,
                subscription_identifiers: ids,
            };
            (!p.is_empty()).then(|| Box::new(p))
        })
}

/// A packet an MQTT 5 broker may send, as bytes and as what our decoder
/// must make of it.
fn v5_packet_strategy() -> impl Strategy<Value = (Vec<u8>, Incoming)> {
    let publish = (
        topic_strategy(),
        vec(any::<u8>(), 0..200),
        qos_strategy(),
        any::<bool>(),
        1u16..,
        v5_properties_strategy(),
    )
        .prop_map(|(topic, payload, qos, retain, id, properties)| {
            let pkid = if qos == QoS::AtMostOnce { 0 } else { id };
            let mut body = Vec::new();
            v5_string(&topic, &mut body);
            if qos != QoS::AtMostOnce {
                body.extend(pkid.to_be_bytes());
            }
            let props = properties
                .as_deref()
                .map(v5_properties_bytes)
                .unwrap_or_default();
            v5_varint(props.len(), &mut body);
            body.extend(props);
            body.extend_from_slice(&payload);
            let byte1 = 0x30 | (qos.as_u8() << 1) | u8::from(retain);
            let m = Message {
                topic,
                payload: Bytes::from(payload),
                qos,
                retain,
                dup: false,
                pkid,
                properties,
            };
            (v5_packet(byte1, &body), Incoming::Publish(m, None))
        });
    let acks = (
        0usize..4,
        1u16..,
        prop_oneof![Just(0u8), Just(0x10), Just(0x80), Just(0x97)],
        proptest::option::of("[ -~]{0,10}"),
        0usize..3,
    )
        .prop_map(|(kind, pkid, code, reason, form)| {
            let (byte1, code) = match kind {
                0 => (0x40, code),
                1 => (0x50, code),
                2 => (0x62, 0),
                _ => (0x70, 0),
            };
            let mut body = pkid.to_be_bytes().to_vec();
            // The three forms: 2 bytes (success), code only, code and
            // properties.
            let (code, reason) = match (form, code) {
                (0, 0) => (0, None),
                (0, _) | (1, _) => {
                    body.push(code);
                    (code, None)
                }
                _ => {
                    body.push(code);
                    let mut p = Vec::new();
                    if let Some(r) = &reason {
                        p.push(0x1F);
                        v5_string(r, &mut p);
                    }
                    v5_varint(p.len(), &mut body);
                    body.extend(p);
                    (code, reason)
                }
            };
            let ack = Ack { code, reason };
            let incoming = match kind {
                0 => Incoming::PubAck(pkid, ack),
                1 => Incoming::PubRec(pkid, ack),
                2 => Incoming::PubRel(pkid, ack),
                _ => Incoming::PubComp(pkid, ack),
            };
            (v5_packet(byte1, &body), incoming)
        });
    let suback = (
        1u16..,
        vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(0x87)], 1..5),
    )
        .prop_map(|(pkid, codes)| {
            let mut body = pkid.to_be_bytes().to_vec();
            body.push(0);
            body.extend(&codes);
            let results = codes
                .iter()
                .map(|&c| match QoS::from_u8(c) {
                    Some(q) => SubscribeResult::Granted(q),
                    None => SubscribeResult::RefusedWith(c),
                })
                .collect();
            (
                v5_packet(0x90, &body),
                Incoming::SubAck {
                    pkid,
                    results,
                    reason: None,
                },
            )
        });
    prop_oneof![
        4 => publish,
        3 => acks,
        1 => suback,
        1 => Just((vec![0xD0, 0], Incoming::PingResp)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_valid_v5_packet_sequence_split_anywhere_decodes_to_the_same_packets(
        packets in vec(v5_packet_strategy(), 1..20),
        cuts in vec(any::<usize>(), 0..30),
    ) {
        let stream: Vec<u8> = packets.iter().flat_map(|(b, _)| b.clone()).collect();
        let expected: Vec<Incoming> = packets.into_iter().map(|(_, p)| p).collect();
        let mut decoder = Decoder::new(usize::MAX, ProtocolVersion::V5);
        let mut got = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            let mut input = &chunk[..];
            loop {
                match decoder.next_packet(&mut input) {
                    Ok(Some(p)) => got.push(p),
                    Ok(None) => break,
                    Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
                }
            }
        }
        prop_assert_eq!(decoder.buffered(), 0);
        prop_assert_eq!(got, expected);
    }
}
