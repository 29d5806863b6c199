//! Kept messages as bytes: the record format the page and the keep worker
//! exchange and store (docs/keep.md, "Records").
//!
//! A record is the receive time (ms since the Unix epoch, f64 little
//! endian) followed by the message as an MQTT 5 PUBLISH, written and read
//! by the session's own codec (`codec_v5`), so every property survives,
//! subscription identifiers included. A batch is records one after another.
//!
//! This module goes into the page, so it stays small: no second format, no
//! dependency. It must not panic on any bytes: a malformed record is a
//! [`RecordError`], and reading stops there (the framing after it is lost).

use core::fmt;

use bytes::{Bytes, BytesMut};

use crate::codec::parse_fixed_header;
use crate::codec_v5::{read_publish_frame, write_publish_record};
use crate::error::{ProtocolError, SessionError};
use crate::event::Message;
use crate::options::QoS;
use crate::v5::PublishProperties;

/// One kept message and when it was received.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Receive time, ms since the Unix epoch (finite).
    pub received_ms: f64,
    /// Topic name (aliases already resolved).
    pub topic: String,
    /// Payload bytes (a slice of the batch, no copy).
    pub payload: Bytes,
    /// QoS it was delivered with.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// DUP flag (only ever set with QoS 1 or 2).
    pub dup: bool,
    /// MQTT 5 properties, when it had any.
    pub properties: Option<Box<PublishProperties>>,
}

impl Record {
    /// The record as a session message (packet id 0: it is not in flight).
    #[must_use]
    pub fn into_message(self) -> Message {
        Message {
            topic: self.topic,
            payload: self.payload,
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            pkid: 0,
            properties: self.properties,
        }
    }
}

/// Why a record could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// The batch ends inside a record.
    Truncated,
    /// The receive time is not a finite number.
    BadTime,
    /// The bytes after the time are not a well-formed PUBLISH.
    Packet(ProtocolError),
    /// A record carried a topic alias (records have them resolved).
    Alias,
    /// The message cannot be written as a record (topic, property or size).
    Encode(SessionError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Truncated => f.write_str("a kept record is cut off"),
            RecordError::BadTime => f.write_str("a kept record's time is not a number"),
            RecordError::Packet(e) => write!(f, "a kept record is not a valid message: {e}"),
            RecordError::Alias => f.write_str("a kept record carries a topic alias"),
            RecordError::Encode(e) => write!(f, "the message cannot be kept: {e}"),
        }
    }
}

impl std::error::Error for RecordError {}

/// Appends one record to `out`. On error nothing is appended. DUP is kept
/// only with QoS 1 or 2 (MQTT has no DUP with QoS 0); properties that are
/// all absent are written as none.
///
/// # Errors
/// A time that is not finite, or a message the MQTT 5 writer refuses (an
/// invalid topic, a property out of range, over 256 MB).
#[allow(clippy::too_many_arguments)]
pub fn encode(
    out: &mut Vec<u8>,
    received_ms: f64,
    topic: &str,
    payload: &Bytes,
    qos: QoS,
    retain: bool,
    dup: bool,
    properties: Option<&PublishProperties>,
) -> Result<(), RecordError> {
    if !received_ms.is_finite() {
        return Err(RecordError::BadTime);
    }
    let mut packet = BytesMut::new();
    write_publish_record(topic, payload, qos, retain, dup, properties, &mut packet)
        .map_err(RecordError::Encode)?;
    out.reserve(8 + packet.len());
    out.extend_from_slice(&received_ms.to_le_bytes());
    out.extend_from_slice(&packet);
    Ok(())
}

/// Appends a session message as one record (its packet id is not kept).
///
/// # Errors
/// As [`encode`].
pub fn encode_message(
    out: &mut Vec<u8>,
    received_ms: f64,
    message: &Message,
) -> Result<(), RecordError> {
    encode(
        out,
        received_ms,
        &message.topic,
        &message.payload,
        message.qos,
        message.retain,
        message.dup,
        message.properties.as_deref(),
    )
}

/// Reads the records of a batch in order (see [`Records`]).
pub fn decode(batch: impl Into<Bytes>) -> Records {
    Records {
        rest: batch.into(),
        failed: false,
    }
}

/// An iterator over the records of a batch: each one, or the error that
/// ends the batch (nothing follows an error).
#[derive(Debug, Clone)]
pub struct Records {
    rest: Bytes,
    failed: bool,
}

impl Records {
    /// Bytes not read yet.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn read_one(&mut self) -> Result<Record, RecordError> {
        let time: [u8; 8] = self
            .rest
            .get(..8)
            .and_then(|t| t.try_into().ok())
            .ok_or(RecordError::Truncated)?;
        let received_ms = f64::from_le_bytes(time);
        if !received_ms.is_finite() {
            return Err(RecordError::BadTime);
        }
        let packet = self.rest.slice(8..);
        let header = parse_fixed_header(&packet)
            .map_err(RecordError::Packet)?
            .ok_or(RecordError::Truncated)?;
        let frame_len = header.frame_len();
        if packet.len() < frame_len {
            return Err(RecordError::Truncated);
        }
        let frame = packet.slice(..frame_len);
        let (m, alias) = read_publish_frame(&header, &frame).map_err(RecordError::Packet)?;
        if alias.is_some() {
            return Err(RecordError::Alias);
        }
        self.rest = packet.slice(frame_len..);
        Ok(Record {
            received_ms,
            topic: m.topic,
            payload: m.payload,
            qos: m.qos,
            retain: m.retain,
            dup: m.dup,
            properties: m.properties,
        })
    }
}

impl Iterator for Records {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let r = self.read_one();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn props() -> impl Strategy<Value = Option<Box<PublishProperties>>> {
        let s = "[a-z/é ]{0,12}";
        let t = "[a-z]{1,6}(/[a-z]{1,6}){0,2}";
        (
            proptest::option::of(0u8..=1),
            proptest::option::of(any::<u32>()),
            proptest::option::of(s),
            proptest::option::of(t),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
            proptest::collection::vec((s, s), 0..3),
            proptest::collection::vec(1u32..=268_435_455, 0..4),
        )
            .prop_map(|(f, e, ct, rt, cd, user, ids)| {
                let p = PublishProperties {
                    payload_format_indicator: f,
                    message_expiry_secs: e,
                    content_type: ct,
                    response_topic: rt,
                    correlation_data: cd.map(Bytes::from),
                    user_properties: user,
                    subscription_identifiers: ids,
                };
                (!p.is_empty()).then(|| Box::new(p))
            })
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            -1e15f64..1e15,
            "[a-z0-9$ ]{1,8}(/[a-zé0-9]{0,8}){0,3}",
            proptest::collection::vec(any::<u8>(), 0..300),
            0u8..=2,
            any::<bool>(),
            any::<bool>(),
            props(),
        )
            .prop_map(|(ms, topic, payload, q, retain, dup, properties)| {
                let qos = QoS::from_u8(q).unwrap();
                Record {
                    received_ms: ms,
                    topic,
                    payload: Bytes::from(payload),
                    qos,
                    retain,
                    dup: dup && qos != QoS::AtMostOnce,
                    properties,
                }
            })
    }

    fn write(out: &mut Vec<u8>, r: &Record) -> Result<(), RecordError> {
        encode(
            out,
            r.received_ms,
            &r.topic,
            &r.payload,
            r.qos,
            r.retain,
            r.dup,
            r.properties.as_deref(),
        )
    }

    proptest! {
        #[test]
        fn random_batches_of_records_read_back_exactly(records in proptest::collection::vec(record(), 0..8)) {
            let mut out = Vec::new();
            for r in &records {
                write(&mut out, r).unwrap();
            }
            let back: Vec<Record> = decode(out).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(back, records);
        }

        #[test]
        fn a_batch_cut_anywhere_reads_its_whole_records_then_an_error(records in proptest::collection::vec(record(), 1..4), cut in any::<prop::sample::Index>()) {
            let mut out = Vec::new();
            let mut ends = Vec::new();
            for r in &records {
                write(&mut out, r).unwrap();
                ends.push(out.len());
            }
            let at = cut.index(out.len());
            let whole = ends.iter().filter(|&&e| e <= at).count();
            let read: Vec<_> = decode(out[..at].to_vec()).collect();
            prop_assert!(read.iter().take(whole).all(Result::is_ok));
            if ends.contains(&at) || at == 0 {
                prop_assert_eq!(read.len(), whole);
            } else {
                prop_assert_eq!(read.len(), whole + 1);
                prop_assert!(read.last().unwrap().is_err());
            }
        }

        #[test]
        fn random_bytes_give_records_or_an_error_and_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let n = bytes.len();
            let read: Vec<_> = decode(bytes).collect();
            // Every record takes at least 8 + 5 bytes, and reading stops at the first error.
            prop_assert!(read.len() <= n / 13 + 1);
            prop_assert!(read.iter().rev().skip(1).all(Result::is_ok));
        }
    }

    #[test]
    fn a_truncated_record_is_an_error_that_ends_the_batch() {
        let mut out = Vec::new();
        encode(
            &mut out,
            1.0,
            "a/b",
            &Bytes::from_static(b"xyz"),
            QoS::AtLeastOnce,
            false,
            false,
            None,
        )
        .unwrap();
        out.pop();
        let read: Vec<_> = decode(out).collect();
        assert_eq!(read, vec![Err(RecordError::Truncated)]);
    }

    #[test]
    fn a_time_that_is_not_a_number_is_refused_both_ways() {
        let mut out = Vec::new();
        let e = encode(
            &mut out,
            f64::NAN,
            "a",
            &Bytes::new(),
            QoS::AtMostOnce,
            false,
            false,
            None,
        );
        assert_eq!(e, Err(RecordError::BadTime));
        assert!(out.is_empty());
        encode(
            &mut out,
            5.0,
            "a",
            &Bytes::new(),
            QoS::AtMostOnce,
            false,
            false,
            None,
        )
        .unwrap();
        out[..8].copy_from_slice(&f64::INFINITY.to_le_bytes());
        assert_eq!(decode(out).next(), Some(Err(RecordError::BadTime)));
    }

    #[test]
    fn a_wildcard_topic_cannot_be_kept_and_nothing_is_written() {
        let mut out = vec![7];
        let e = encode(
            &mut out,
            1.0,
            "a/#",
            &Bytes::new(),
            QoS::AtMostOnce,
            false,
            false,
            None,
        );
        assert!(matches!(e, Err(RecordError::Encode(_))));
        assert_eq!(out, vec![7]);
    }

    #[test]
    fn a_packet_that_is_not_a_publish_is_an_error() {
        let mut out = 1.0f64.to_le_bytes().to_vec();
        out.extend_from_slice(&[0x20, 0x03, 0x00, 0x00, 0x00]); // CONNACK
        assert!(matches!(
            decode(out).next(),
            Some(Err(RecordError::Packet(_)))
        ));
    }

    #[test]
    fn a_topic_alias_in_a_record_is_an_error() {
        // PUBLISH QoS 0, topic "a", properties: topic alias 1, payload "x".
        let mut out = 1.0f64.to_le_bytes().to_vec();
        out.extend_from_slice(&[0x30, 0x08, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x01, b'x']);
        assert_eq!(decode(out).next(), Some(Err(RecordError::Alias)));
    }

    #[test]
    fn subscription_identifiers_survive_a_record() {
        let p = PublishProperties {
            subscription_identifiers: vec![1, 300, 268_435_455],
            ..PublishProperties::default()
        };
        let mut out = Vec::new();
        encode(
            &mut out,
            2.5,
            "s/t",
            &Bytes::from_static(b"p"),
            QoS::ExactlyOnce,
            true,
            true,
            Some(&p),
        )
        .unwrap();
        let r = decode(out).next().unwrap().unwrap();
        assert_eq!(r.properties.as_deref(), Some(&p));
        assert_eq!(
            (r.qos, r.retain, r.dup, r.received_ms),
            (QoS::ExactlyOnce, true, true, 2.5)
        );
        let zero = PublishProperties {
            subscription_identifiers: vec![0],
            ..PublishProperties::default()
        };
        let e = encode(
            &mut Vec::new(),
            2.5,
            "s",
            &Bytes::new(),
            QoS::AtMostOnce,
            false,
            false,
            Some(&zero),
        );
        assert!(matches!(e, Err(RecordError::Encode(_))));
    }
}
