//! Property tests of the codec seam and the session: random framing of valid
//! packet streams, and arbitrary or mutated bytes from a hostile broker.
//! Test-only; must not be compiled into the library.

use bytes::{Bytes, BytesMut};
use mqttbytes::v4;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::codec::{Decoder, Incoming};
use crate::{ConnectionState, Event, Message, Options, QoS, Session, SubscribeResult};

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
            };
            (b.to_vec(), Incoming::Publish(m))
        });
    let acks = (0usize..5, 1u16..).prop_map(|(kind, pkid)| match kind {
        0 => (ack_bytes(0x40, pkid), Incoming::PubAck(pkid)),
        1 => (ack_bytes(0x50, pkid), Incoming::PubRec(pkid)),
        2 => (ack_bytes(0x62, pkid), Incoming::PubRel(pkid)),
        3 => (ack_bytes(0x70, pkid), Incoming::PubComp(pkid)),
        _ => (ack_bytes(0xB0, pkid), Incoming::UnsubAck(pkid)),
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
            (b.to_vec(), Incoming::SubAck { pkid, results })
        });
    let connack = (any::<bool>(), 0u8..=5).prop_map(|(sp, code)| {
        (
            vec![0x20, 2, u8::from(sp), code],
            Incoming::ConnAck {
                session_present: sp,
                code,
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

fn connected_session() -> Session {
    let mut s = match Session::new(Options {
        client_id: "prop".into(),
        max_incoming_packet_size: 4096,
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
    for c in chunks {
        s.handle_bytes(1, c);
        let _ = s.poll_transmit();
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_valid_packet_sequence_split_anywhere_decodes_to_the_same_packets(
        packets in vec(packet_strategy(), 1..20),
        cuts in vec(any::<usize>(), 0..30),
    ) {
        let stream: Vec<u8> = packets.iter().flat_map(|(b, _)| b.clone()).collect();
        let expected: Vec<Incoming> = packets.into_iter().map(|(_, p)| p).collect();
        let mut decoder = Decoder::new(usize::MAX);
        let mut got = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            decoder.push(&chunk);
            loop {
                match decoder.next_packet() {
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
}
