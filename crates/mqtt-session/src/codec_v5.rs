//! The MQTT 5 side of the codec seam: checking and decoding what an MQTT 5
//! broker may send a client, and encoding what we send, over
//! `mqttbytes::v5`, with its defects guarded.
//!
//! Decoding: `check_header` checks the packet type, the flags and the
//! minimum remaining length before the body is buffered (AUTH is refused
//! here: we never send an Authentication Method, so a broker may not start
//! an exchange, MQTT 5 §4.12). `decode_frame` then reads the whole packet
//! with a strict decoder of its own (every property: known, allowed in that
//! packet, at most once unless repeatable, a legal value, inside the
//! property length; every string well-formed UTF-8 without U+0000; every
//! reason code one the packet may carry; nothing after the last field).
//! What it reads is what the session gets. `mqttbytes::v5::read` reads every
//! packet a second time only in this crate's tests (`decode_frame` under
//! `cfg(test)`: every unit, property and hostile-table test), which fail if
//! the two readings ever differ: in the page, a second decoding of every
//! message would cost time per message and about 10 KB of the gzipped
//! wasm's 350 KB budget (`mqttbytes::v5::read` and the `Debug` of every
//! packet type), for a reading the strict one has already checked. What
//! `mqttbytes` lets through is listed in docs/architecture.md ("mqttbytes
//! 0.6 defects"), each with a regression test below. These packets, which no
//! check before it can make it read right, are compared with nothing:
//! - DISCONNECT with remaining length 0 or 1 (normal disconnection with
//!   nothing else, or a reason code without properties): `mqttbytes`
//!   refuses the first (`PayloadRequired`) and, for the second, looks for a
//!   property length that MQTT 5 says to assume as 0;
//! - PUBLISH with two or more Subscription Identifiers: `mqttbytes` counts
//!   each identifier byte twice and takes the properties after them for
//!   payload;
//! - CONNACK with remaining length 2 (no property length): not MQTT 5, but
//!   how a broker that only speaks 3.1.1 refuses our level 5 CONNECT
//!   (return code 1, "unacceptable protocol version"); read as a refusal
//!   with default properties. Accepting the connection in that form is
//!   refused: such a broker would go on without property lengths.
//!
//! There is no AUTH packet in `mqttbytes`; we never need one (see above).
//!
//! Encoding validates every string length, every property value and the
//! total size before anything is written (`mqttbytes` truncates long
//! strings silently and leaves partial packets behind on error), then
//! writes the packet itself (the two-byte acks, UNSUBSCRIBE and PINGREQ in
//! `codec`, alike for both protocols). In this crate's tests `mqttbytes`
//! writes every packet but CONNECT a second time and the bytes must be the
//! same (`codec::encode`); it drops an empty user name or password
//! together with its flag in CONNECT.
//!
//! This module must not keep session state (aliases in use, packets in
//! flight): that is `session`. Nothing here may panic on any input.

use bytes::{BufMut, Bytes, BytesMut};
#[cfg(test)]
use mqttbytes::v5 as mb;

#[cfg(test)]
use crate::codec::Outgoing;
use crate::codec::{
    check_pkid, nonzero, publish_byte1, put_header, put_str, put_varint, read_publish_head,
    remaining_len_err, Ack, FixedHeader, Incoming, ENDS_EARLY, MAX_REMAINING_LEN, PAST_THE_END,
};
use crate::error::{ProtocolError, SessionError};
use crate::event::{Message, SubscribeResult};
use crate::options::{Options, QoS};
use crate::topic;
use crate::v5::{Granted, PublishProperties, Subscription, MAX_SUBSCRIPTION_IDENTIFIER};

// ----- property identifiers (MQTT 5 §2.2.2.2) -----

const PAYLOAD_FORMAT: u8 = 0x01;
const MESSAGE_EXPIRY: u8 = 0x02;
const CONTENT_TYPE: u8 = 0x03;
const RESPONSE_TOPIC: u8 = 0x08;
const CORRELATION_DATA: u8 = 0x09;
const SUBSCRIPTION_ID: u8 = 0x0B;
const SESSION_EXPIRY: u8 = 0x11;
const ASSIGNED_CLIENT_ID: u8 = 0x12;
const SERVER_KEEP_ALIVE: u8 = 0x13;
const AUTH_METHOD: u8 = 0x15;
const AUTH_DATA: u8 = 0x16;
const REQUEST_PROBLEM_INFO: u8 = 0x17;
const WILL_DELAY: u8 = 0x18;
const REQUEST_RESPONSE_INFO: u8 = 0x19;
const RESPONSE_INFO: u8 = 0x1A;
const SERVER_REFERENCE: u8 = 0x1C;
const REASON_STRING: u8 = 0x1F;
const RECEIVE_MAXIMUM: u8 = 0x21;
const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
const TOPIC_ALIAS: u8 = 0x23;
const MAXIMUM_QOS: u8 = 0x24;
const RETAIN_AVAILABLE: u8 = 0x25;
const USER_PROPERTY: u8 = 0x26;
const MAXIMUM_PACKET_SIZE: u8 = 0x27;
const WILDCARD_AVAILABLE: u8 = 0x28;
const SUBSCRIPTION_IDS_AVAILABLE: u8 = 0x29;
const SHARED_AVAILABLE: u8 = 0x2A;

// ----- what the decoder says -----

/// A property length that runs past the end of the packet.
const PROPERTIES_PAST_THE_END: &str = "the property length runs past the end of the packet";
/// A property whose value runs past the property length.
const PROPERTY_PAST_LENGTH: &str = "a property runs past the property length";
/// Bytes after the last field of a packet that has no payload.
const TRAILING: &str = "bytes follow the last field of the packet";
/// A Variable Byte Integer of five bytes or more.
const VARINT_TOO_LONG: &str = "a variable byte integer is longer than four bytes";
/// SUBACK or UNSUBACK without a single reason code.
const NO_CODES: &str = "it carries no reason code";
/// Session present on a refused connection [MQTT-3.2.2-6].
const PRESENT_ON_REFUSAL: &str = "session present is set on a refusal";

/// The reason codes a broker may put in CONNACK (MQTT 5 §3.2.2.2).
const CONNACK_CODES: [u8; 22] = [
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
];
/// PUBACK and PUBREC (§3.4.2.1, §3.5.2.1).
const PUBACK_CODES: [u8; 9] = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
/// PUBREL and PUBCOMP (§3.6.2.1, §3.7.2.1).
const PUBREL_CODES: [u8; 2] = [0x00, 0x92];
/// SUBACK (§3.9.3).
const SUBACK_CODES: [u8; 12] = [
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];
/// UNSUBACK (§3.11.3).
const UNSUBACK_CODES: [u8; 7] = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
/// DISCONNECT sent by a server (§3.14.2.1; 0x04, with Will, is the client's).
const SERVER_DISCONNECT_CODES: [u8; 28] = [
    0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96,
    0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
];
/// DISCONNECT sent by a client (§3.14.2.1).
const CLIENT_DISCONNECT_CODES: [u8; 14] = [
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
];

/// The name of an MQTT 5 control packet type number.
fn packet_name(packet_type: u8) -> &'static str {
    match packet_type {
        15 => "AUTH",
        t => crate::codec::packet_name(t),
    }
}

fn malformed(packet: &'static str, detail: &str) -> ProtocolError {
    ProtocolError::Malformed {
        packet,
        detail: detail.into(),
    }
}

/// Checks the packet type, flags and remaining length of an MQTT 5 header
/// a broker sent to a client, before its body is read.
pub(crate) fn check_header(header: &FixedHeader) -> Result<(), ProtocolError> {
    let packet_type = header.packet_type();
    let packet = packet_name(packet_type);
    let flags = header.flags();
    let len = header.remaining_len;
    // (required flags, smallest remaining length, largest)
    let (want, min, max) = match packet_type {
        0 => return Err(ProtocolError::ReservedPacketType(0)),
        // AUTH only continues an exchange that an Authentication Method in
        // CONNECT started, and ours never has one (MQTT 5 §4.12).
        1 | 8 | 10 | 12 | 15 => return Err(ProtocolError::UnexpectedPacket { packet }),
        3 => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(ProtocolError::InvalidQoS(qos));
            }
            if qos == 0 && flags & 0b1000 != 0 {
                return Err(ProtocolError::DupWithQoS0);
            }
            // Topic length (2; the topic may be empty when an alias stands
            // for it), packet id if QoS > 0, property length (1).
            let min = if qos == 0 { 3 } else { 5 };
            if len < min {
                return Err(ProtocolError::BadRemainingLength { packet, len });
            }
            return Ok(());
        }
        // Flags byte and reason code, then properties.
        2 => (0, 2, usize::MAX),
        // Packet id, then an optional reason code and properties.
        4 | 5 | 7 => (0, 2, usize::MAX),
        6 => (0b0010, 2, usize::MAX),
        // Packet id, property length, at least one reason code.
        9 | 11 => (0, 3, usize::MAX),
        13 => (0, 0, 0),
        // Everything optional: no length means normal disconnection.
        14 => (0, 0, usize::MAX),
        _ => return Err(ProtocolError::ReservedPacketType(packet_type)),
    };
    if flags != want {
        return Err(ProtocolError::BadFlags { packet, flags });
    }
    if len < min || len > max {
        return Err(ProtocolError::BadRemainingLength { packet, len });
    }
    Ok(())
}

// ----- the strict reader -----

/// A cursor over the bytes of one packet (or of its properties) that never
/// reads past them (also the MQTT 3.1 / 3.1.1 decoder's).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    packet: &'static str,
    /// What it means when a fixed-size field is cut off.
    short: &'static str,
    /// What it means when a length-prefixed field runs past the end.
    past: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], packet: &'static str) -> Self {
        Reader {
            buf,
            packet,
            short: ENDS_EARLY,
            past: PAST_THE_END,
        }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.buf.get(..n)?;
        self.buf = self.buf.get(n..).unwrap_or_default();
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ProtocolError> {
        match self.take(1) {
            Some(&[b]) => Ok(b),
            _ => Err(malformed(self.packet, self.short)),
        }
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ProtocolError> {
        match self.take(2) {
            Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
            _ => Err(malformed(self.packet, self.short)),
        }
    }

    fn u32(&mut self) -> Result<u32, ProtocolError> {
        match self.take(4) {
            Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
            _ => Err(malformed(self.packet, self.short)),
        }
    }

    /// A Variable Byte Integer (at most 268,435,455).
    fn varint(&mut self) -> Result<u32, ProtocolError> {
        let mut value = 0u32;
        for shift in [0, 7, 14, 21] {
            let b = self.u8()?;
            value |= u32::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed(self.packet, VARINT_TOO_LONG))
    }

    /// Binary Data: a two-byte length and that many bytes.
    pub(crate) fn binary(&mut self) -> Result<&'a [u8], ProtocolError> {
        let n = usize::from(self.u16()?);
        self.take(n)
            .ok_or_else(|| malformed(self.packet, self.past))
    }

    /// A UTF-8 Encoded String: well-formed, without U+0000 (§1.5.4).
    fn string(&mut self) -> Result<String, ProtocolError> {
        let bytes = self.binary()?;
        let s = std::str::from_utf8(bytes).map_err(|_| ProtocolError::InvalidUtf8 {
            packet: self.packet,
        })?;
        if s.contains('\0') {
            return Err(ProtocolError::InvalidUtf8 {
                packet: self.packet,
            });
        }
        Ok(s.to_owned())
    }

    /// The rest must be empty.
    fn end(&self) -> Result<(), ProtocolError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(malformed(self.packet, TRAILING))
        }
    }
}

/// Which packet a property section belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Connack,
    Publish,
    /// PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK.
    Ack,
    Disconnect,
}

/// Whether a broker may send property `id` in this packet to a client that
/// sent no Authentication Method (MQTT 5 §2.2.2.2, table 2-4).
fn allowed(section: Section, id: u8) -> bool {
    match section {
        // Authentication Method and Data are CONNACK properties, but only in
        // answer to a CONNECT with an Authentication Method (§4.12).
        Section::Connack if matches!(id, AUTH_METHOD | AUTH_DATA) => false,
        Section::Connack => matches!(
            id,
            SESSION_EXPIRY
                | ASSIGNED_CLIENT_ID
                | SERVER_KEEP_ALIVE
                | RESPONSE_INFO
                | SERVER_REFERENCE
                | REASON_STRING
                | RECEIVE_MAXIMUM
                | TOPIC_ALIAS_MAXIMUM
                | MAXIMUM_QOS
                | RETAIN_AVAILABLE
                | USER_PROPERTY
                | MAXIMUM_PACKET_SIZE
                | WILDCARD_AVAILABLE
                | SUBSCRIPTION_IDS_AVAILABLE
                | SHARED_AVAILABLE
        ),
        Section::Publish => matches!(
            id,
            PAYLOAD_FORMAT
                | MESSAGE_EXPIRY
                | CONTENT_TYPE
                | RESPONSE_TOPIC
                | CORRELATION_DATA
                | SUBSCRIPTION_ID
                | TOPIC_ALIAS
                | USER_PROPERTY
        ),
        Section::Ack => matches!(id, REASON_STRING | USER_PROPERTY),
        // Session Expiry Interval is the client's alone [MQTT-3.14.2-2].
        Section::Disconnect => matches!(id, REASON_STRING | USER_PROPERTY | SERVER_REFERENCE),
    }
}

/// Every property a broker may send a client, as read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Props {
    payload_format: Option<u8>,
    message_expiry: Option<u32>,
    content_type: Option<String>,
    response_topic: Option<String>,
    correlation_data: Option<Bytes>,
    subscription_ids: Vec<u32>,
    session_expiry: Option<u32>,
    assigned_client_id: Option<String>,
    server_keep_alive: Option<u16>,
    response_info: Option<String>,
    server_reference: Option<String>,
    reason_string: Option<String>,
    receive_maximum: Option<u16>,
    topic_alias_maximum: Option<u16>,
    topic_alias: Option<u16>,
    maximum_qos: Option<u8>,
    retain_available: Option<u8>,
    user_properties: Vec<(String, String)>,
    maximum_packet_size: Option<u32>,
    wildcard_available: Option<u8>,
    subscription_ids_available: Option<u8>,
    shared_available: Option<u8>,
}

fn bad_value(packet: &'static str, detail: String) -> ProtocolError {
    ProtocolError::InvalidPropertyValue { packet, detail }
}

/// A Byte property that can only be 0 or 1.
fn zero_or_one(r: &mut Reader<'_>, name: &str) -> Result<u8, ProtocolError> {
    let v = r.u8()?;
    if v > 1 {
        return Err(bad_value(
            r.packet,
            format!("{name} {v} (only 0 and 1 exist)"),
        ));
    }
    Ok(v)
}

/// Reads a property length and the properties it covers.
fn read_properties(r: &mut Reader<'_>, section: Section) -> Result<Props, ProtocolError> {
    let packet = r.packet;
    let len = r.varint()?;
    let bytes = usize::try_from(len)
        .ok()
        .and_then(|n| r.take(n))
        .ok_or_else(|| malformed(packet, PROPERTIES_PAST_THE_END))?;
    let mut s = Reader {
        buf: bytes,
        packet,
        short: PROPERTY_PAST_LENGTH,
        past: PROPERTY_PAST_LENGTH,
    };
    let mut p = Props::default();
    let mut seen = 0u64;
    while !s.is_empty() {
        // The identifier is a Variable Byte Integer, but every one defined
        // fits its first byte: anything else is unknown.
        let id = s.u8()?;
        if !allowed(section, id) {
            return Err(ProtocolError::InvalidProperty { packet, id });
        }
        let repeats = id == USER_PROPERTY || (id == SUBSCRIPTION_ID && section == Section::Publish);
        // Every allowed identifier is below 64.
        let bit = 1u64 << (id & 63);
        if !repeats {
            if seen & bit != 0 {
                return Err(ProtocolError::DuplicateProperty { packet, id });
            }
            seen |= bit;
        }
        // Properties of one type share one reading and one store (the
        // wasm holds one copy of each, not one per property); `seen` has
        // made sure each slot is still empty.
        match id {
            // A payload that is not UTF-8 under format 1 is the receiver's
            // to judge (PUBACK 0x99), not a malformed packet.
            PAYLOAD_FORMAT
            | MAXIMUM_QOS
            | RETAIN_AVAILABLE
            | WILDCARD_AVAILABLE
            | SUBSCRIPTION_IDS_AVAILABLE
            | SHARED_AVAILABLE => {
                let (slot, name) = match id {
                    PAYLOAD_FORMAT => (&mut p.payload_format, "payload format indicator"),
                    MAXIMUM_QOS => (&mut p.maximum_qos, "maximum QoS"),
                    RETAIN_AVAILABLE => (&mut p.retain_available, "retain available"),
                    WILDCARD_AVAILABLE => {
                        (&mut p.wildcard_available, "wildcard subscription available")
                    }
                    SUBSCRIPTION_IDS_AVAILABLE => (
                        &mut p.subscription_ids_available,
                        "subscription identifiers available",
                    ),
                    _ => (&mut p.shared_available, "shared subscription available"),
                };
                *slot = Some(zero_or_one(&mut s, name)?);
            }
            CONTENT_TYPE | ASSIGNED_CLIENT_ID | RESPONSE_INFO | SERVER_REFERENCE
            | REASON_STRING => {
                let slot = match id {
                    CONTENT_TYPE => &mut p.content_type,
                    ASSIGNED_CLIENT_ID => &mut p.assigned_client_id,
                    RESPONSE_INFO => &mut p.response_info,
                    SERVER_REFERENCE => &mut p.server_reference,
                    _ => &mut p.reason_string,
                };
                *slot = Some(s.string()?);
            }
            MESSAGE_EXPIRY | SESSION_EXPIRY => {
                let slot = if id == MESSAGE_EXPIRY {
                    &mut p.message_expiry
                } else {
                    &mut p.session_expiry
                };
                *slot = Some(s.u32()?);
            }
            // TOPIC_ALIAS 0 or over our maximum: the session says so (it
            // knows the maximum and which aliases are set).
            SERVER_KEEP_ALIVE | TOPIC_ALIAS_MAXIMUM | TOPIC_ALIAS => {
                let slot = match id {
                    SERVER_KEEP_ALIVE => &mut p.server_keep_alive,
                    TOPIC_ALIAS_MAXIMUM => &mut p.topic_alias_maximum,
                    _ => &mut p.topic_alias,
                };
                *slot = Some(s.u16()?);
            }
            RESPONSE_TOPIC => {
                let t = s.string()?;
                if let Err(e) = topic::validate_topic_name(&t) {
                    return Err(bad_value(
                        packet,
                        format!("a response topic that is not a topic name ({e})"),
                    ));
                }
                p.response_topic = Some(t);
            }
            CORRELATION_DATA => p.correlation_data = Some(Bytes::copy_from_slice(s.binary()?)),
            SUBSCRIPTION_ID => {
                let v = s.varint()?;
                if v == 0 {
                    return Err(bad_value(packet, "subscription identifier 0".into()));
                }
                p.subscription_ids.push(v);
            }
            RECEIVE_MAXIMUM => {
                let v = s.u16()?;
                if v == 0 {
                    return Err(bad_value(packet, "a receive maximum of 0".into()));
                }
                p.receive_maximum = Some(v);
            }
            USER_PROPERTY => {
                let name = s.string()?;
                let value = s.string()?;
                p.user_properties.push((name, value));
            }
            MAXIMUM_PACKET_SIZE => {
                let v = s.u32()?;
                if v == 0 {
                    return Err(bad_value(packet, "a maximum packet size of 0".into()));
                }
                p.maximum_packet_size = Some(v);
            }
            _ => return Err(ProtocolError::InvalidProperty { packet, id }),
        }
    }
    Ok(p)
}

fn check_code(packet: &'static str, code: u8, codes: &[u8]) -> Result<u8, ProtocolError> {
    if codes.contains(&code) {
        Ok(code)
    } else {
        Err(ProtocolError::InvalidReasonCode { packet, code })
    }
}

/// What the broker granted, with the spec's defaults for what it left out.
fn granted(p: Props) -> Granted {
    let d = Granted::default();
    Granted {
        assigned_client_id: p.assigned_client_id,
        server_keep_alive: p.server_keep_alive,
        session_expiry_secs: p.session_expiry,
        receive_maximum: p.receive_maximum.unwrap_or(d.receive_maximum),
        maximum_qos: match p.maximum_qos {
            Some(0) => QoS::AtMostOnce,
            Some(1) => QoS::AtLeastOnce,
            _ => d.maximum_qos,
        },
        retain_available: p.retain_available.map_or(d.retain_available, |v| v == 1),
        maximum_packet_size: p.maximum_packet_size,
        topic_alias_maximum: p.topic_alias_maximum.unwrap_or(d.topic_alias_maximum),
        wildcard_subscription_available: p
            .wildcard_available
            .map_or(d.wildcard_subscription_available, |v| v == 1),
        subscription_identifiers_available: p
            .subscription_ids_available
            .map_or(d.subscription_identifiers_available, |v| v == 1),
        shared_subscription_available: p
            .shared_available
            .map_or(d.shared_subscription_available, |v| v == 1),
        response_information: p.response_info,
        server_reference: p.server_reference,
        reason_string: p.reason_string,
        user_properties: p.user_properties,
    }
}

/// A PUBLISH's properties (`None` when it has none but a topic alias) and
/// its topic alias.
fn publish_properties(p: Props) -> (Option<Box<PublishProperties>>, Option<u16>) {
    let props = PublishProperties {
        payload_format_indicator: p.payload_format,
        message_expiry_secs: p.message_expiry,
        content_type: p.content_type,
        response_topic: p.response_topic,
        correlation_data: p.correlation_data,
        user_properties: p.user_properties,
        subscription_identifiers: p.subscription_ids,
    };
    let props = (!props.is_empty()).then(|| Box::new(props));
    (props, p.topic_alias)
}

fn subscribe_result(code: u8) -> SubscribeResult {
    match code {
        0 => SubscribeResult::Granted(QoS::AtMostOnce),
        1 => SubscribeResult::Granted(QoS::AtLeastOnce),
        2 => SubscribeResult::Granted(QoS::ExactlyOnce),
        c => SubscribeResult::RefusedWith(c),
    }
}

/// How a packet is decoded.
enum Route {
    /// By the strict reader and by `mqttbytes`, which must agree; for a
    /// PUBLISH, the payload length (the payload is the rest of the packet,
    /// so its bytes are the same in both readings when the lengths are).
    Both(Incoming, usize),
    /// By the strict reader alone, `mqttbytes` cannot read it right; for a
    /// PUBLISH, the payload length.
    Ours(Incoming, usize),
}
/// Reads a whole packet body strictly. Never inlined: the session's reader
/// and `crate::record`'s share this one copy (5.8 KB of the page's wasm
/// otherwise compiled twice).
#[inline(never)]
fn read_strict(header: &FixedHeader, body: &[u8]) -> Result<Route, ProtocolError> {
    let packet_type = header.packet_type();
    let packet = packet_name(packet_type);
    let mut r = Reader::new(body, packet);
    let len = body.len();
    let ack = |code: u8, p: Option<Props>| Ack {
        code,
        reason: p.and_then(|p| p.reason_string),
    };
    Ok(match packet_type {
        2 => {
            let flags = r.u8()?;
            if flags & 0xFE != 0 {
                return Err(ProtocolError::ConnackReservedBits(flags));
            }
            let session_present = flags & 1 == 1;
            let code = r.u8()?;
            let three_one_one = len == 2;
            if three_one_one {
                // MQTT 3.1.1's CONNACK: how a broker that does not speak
                // MQTT 5 refuses us. Only a refusal makes sense in it.
                if code == 0 {
                    return Err(ProtocolError::BadRemainingLength { packet, len });
                }
                if !(1..=5).contains(&code) {
                    check_code(packet, code, &CONNACK_CODES)?;
                }
            } else {
                check_code(packet, code, &CONNACK_CODES)?;
            }
            let props = if three_one_one {
                Props::default()
            } else {
                read_properties(&mut r, Section::Connack)?
            };
            r.end()?;
            if session_present && code != 0 {
                return Err(malformed(packet, PRESENT_ON_REFUSAL));
            }
            let incoming = Incoming::ConnAck {
                session_present,
                code,
                granted: Some(Box::new(granted(props))),
            };
            if three_one_one {
                Route::Ours(incoming, 0)
            } else {
                Route::Both(incoming, 0)
            }
        }
        3 => {
            let flags = header.flags();
            let (topic, qos, pkid) = read_publish_head(&mut r, header)?;
            let props = read_properties(&mut r, Section::Publish)?;
            // mqttbytes counts the identifier byte of a Subscription
            // Identifier twice, so after two of them it stops reading
            // properties early and takes the rest for payload. A legal
            // packet: it cannot be guarded, only read here instead.
            let mqttbytes_misreads = props.subscription_ids.len() >= 2;
            let (properties, alias) = publish_properties(props);
            if !(topic.is_empty() && alias.is_some()) {
                topic::validate_topic_name(&topic).map_err(ProtocolError::InvalidTopic)?;
            }
            let message = Message {
                topic,
                payload: Bytes::new(),
                qos,
                retain: flags & 0b0001 != 0,
                dup: flags & 0b1000 != 0,
                pkid,
                properties,
            };
            let incoming = Incoming::Publish(message, alias);
            if mqttbytes_misreads {
                Route::Ours(incoming, r.len())
            } else {
                Route::Both(incoming, r.len())
            }
        }
        4..=7 => {
            let pkid = nonzero(packet, r.u16()?)?;
            let codes: &[u8] = if packet_type <= 5 {
                &PUBACK_CODES
            } else {
                &PUBREL_CODES
            };
            // Remaining length 2: success; 3: a code without properties.
            let code = if r.is_empty() {
                0
            } else {
                check_code(packet, r.u8()?, codes)?
            };
            let props = if r.is_empty() {
                None
            } else {
                Some(read_properties(&mut r, Section::Ack)?)
            };
            r.end()?;
            let a = ack(code, props);
            Route::Both(
                match packet_type {
                    4 => Incoming::PubAck(pkid, a),
                    5 => Incoming::PubRec(pkid, a),
                    6 => Incoming::PubRel(pkid, a),
                    _ => Incoming::PubComp(pkid, a),
                },
                0,
            )
        }
        9 | 11 => {
            let pkid = nonzero(packet, r.u16()?)?;
            let props = read_properties(&mut r, Section::Ack)?;
            let codes = r.take(r.len()).unwrap_or_default();
            if codes.is_empty() {
                return Err(malformed(packet, NO_CODES));
            }
            let allowed = if packet_type == 9 {
                &SUBACK_CODES[..]
            } else {
                &UNSUBACK_CODES[..]
            };
            for &c in codes {
                check_code(packet, c, allowed)?;
            }
            let reason = props.reason_string;
            Route::Both(
                if packet_type == 9 {
                    Incoming::SubAck {
                        pkid,
                        results: codes.iter().map(|&c| subscribe_result(c)).collect(),
                        reason,
                    }
                } else {
                    Incoming::UnsubAck {
                        pkid,
                        codes: codes.to_vec(),
                        reason,
                    }
                },
                0,
            )
        }
        13 => Route::Ours(Incoming::PingResp, 0),
        14 => {
            let code = if r.is_empty() {
                0
            } else {
                check_code(packet, r.u8()?, &SERVER_DISCONNECT_CODES)?
            };
            // Remaining length below 2: property length 0 (§3.14.2.2.1).
            let props = if r.is_empty() {
                Props::default()
            } else {
                read_properties(&mut r, Section::Disconnect)?
            };
            r.end()?;
            let incoming = Incoming::Disconnect {
                code,
                reason: props.reason_string,
                server_reference: props.server_reference,
            };
            // mqttbytes refuses remaining length 0 (`PayloadRequired`) and
            // wants a property length after a lone reason code.
            if len < 2 {
                Route::Ours(incoming, 0)
            } else {
                Route::Both(incoming, 0)
            }
        }
        _ => return Err(ProtocolError::UnexpectedPacket { packet }),
    })
}

/// Reads one whole MQTT 5 PUBLISH frame strictly, for `crate::record`:
/// the message (payload sliced out of `frame`, no copy) and its topic alias.
/// Anything but a PUBLISH is an error.
pub(crate) fn read_publish_frame(
    header: &FixedHeader,
    frame: &Bytes,
) -> Result<(Message, Option<u16>), ProtocolError> {
    check_header(header)?;
    let packet = packet_name(header.packet_type());
    if header.packet_type() != 3 {
        return Err(ProtocolError::UnexpectedPacket { packet });
    }
    let body = frame.get(header.header_len..).unwrap_or_default();
    if body.len() != header.remaining_len {
        return Err(malformed(packet, ENDS_EARLY));
    }
    match read_strict(header, body)? {
        Route::Ours(Incoming::Publish(mut m, alias), payload_len)
        | Route::Both(Incoming::Publish(mut m, alias), payload_len) => {
            m.payload = frame.slice(frame.len().saturating_sub(payload_len)..);
            Ok((m, alias))
        }
        _ => Err(ProtocolError::UnexpectedPacket { packet }),
    }
}

/// The contract's reading of what `mqttbytes` decoded (`None` for a packet
/// a broker never sends, or a value that does not fit).
#[cfg(test)]
fn from_mqttbytes(packet: mb::Packet) -> Option<Incoming> {
    Some(match packet {
        mb::Packet::ConnAck(a) => {
            let mut p = Props::default();
            if let Some(q) = a.properties {
                p.session_expiry = q.session_expiry_interval;
                p.receive_maximum = q.receive_max;
                p.maximum_qos = q.max_qos;
                p.retain_available = q.retain_available;
                p.maximum_packet_size = q.max_packet_size;
                p.assigned_client_id = q.assigned_client_identifier;
                p.topic_alias_maximum = q.topic_alias_max;
                p.reason_string = q.reason_string;
                p.user_properties = q.user_properties;
                p.wildcard_available = q.wildcard_subscription_available;
                p.subscription_ids_available = q.subscription_identifiers_available;
                p.shared_available = q.shared_subscription_available;
                p.server_keep_alive = q.server_keep_alive;
                p.response_info = q.response_information;
                p.server_reference = q.server_reference;
                if q.authentication_method.is_some() || q.authentication_data.is_some() {
                    return None;
                }
            }
            Incoming::ConnAck {
                session_present: a.session_present,
                code: a.code as u8,
                granted: Some(Box::new(granted(p))),
            }
        }
        mb::Packet::Publish(m) => {
            let mut p = Props::default();
            if let Some(q) = m.properties {
                p.payload_format = q.payload_format_indicator;
                p.message_expiry = q.message_expiry_interval;
                p.topic_alias = q.topic_alias;
                p.response_topic = q.response_topic;
                p.correlation_data = q.correlation_data;
                p.user_properties = q.user_properties;
                p.content_type = q.content_type;
                for id in q.subscription_identifiers {
                    p.subscription_ids.push(u32::try_from(id).ok()?);
                }
            }
            let (properties, alias) = publish_properties(p);
            Incoming::Publish(
                Message {
                    topic: m.topic,
                    payload: m.payload,
                    qos: QoS::from_mqttbytes(m.qos),
                    retain: m.retain,
                    dup: m.dup,
                    pkid: m.pkid,
                    properties,
                },
                alias,
            )
        }
        mb::Packet::PubAck(a) => Incoming::PubAck(
            a.pkid,
            Ack {
                code: a.reason as u8,
                reason: a.properties.and_then(|p| p.reason_string),
            },
        ),
        mb::Packet::PubRec(a) => Incoming::PubRec(
            a.pkid,
            Ack {
                code: a.reason as u8,
                reason: a.properties.and_then(|p| p.reason_string),
            },
        ),
        mb::Packet::PubRel(a) => Incoming::PubRel(
            a.pkid,
            Ack {
                code: a.reason as u8,
                reason: a.properties.and_then(|p| p.reason_string),
            },
        ),
        mb::Packet::PubComp(a) => Incoming::PubComp(
            a.pkid,
            Ack {
                code: a.reason as u8,
                reason: a.properties.and_then(|p| p.reason_string),
            },
        ),
        mb::Packet::SubAck(a) => Incoming::SubAck {
            pkid: a.pkid,
            results: a
                .return_codes
                .iter()
                .map(|&c| subscribe_result(c as u8))
                .collect(),
            reason: a.properties.and_then(|p| p.reason_string),
        },
        mb::Packet::UnsubAck(a) => Incoming::UnsubAck {
            pkid: a.pkid,
            codes: a.reasons.iter().map(|&c| c as u8).collect(),
            reason: a.properties.and_then(|p| p.reason_string),
        },
        mb::Packet::PingResp => Incoming::PingResp,
        mb::Packet::Disconnect(d) => {
            let (reason, server_reference) = match d.properties {
                Some(p) => {
                    if p.session_expiry_interval.is_some() {
                        return None;
                    }
                    (p.reason_string, p.server_reference)
                }
                None => (None, None),
            };
            Incoming::Disconnect {
                code: d.reason_code as u8,
                reason,
                server_reference,
            }
        }
        _ => return None,
    })
}

/// Decodes one whole MQTT 5 frame whose header passed `check_header`, with
/// the strict reader (in this crate's tests, checked against `mqttbytes`).
pub(crate) fn decode_frame(
    header: &FixedHeader,
    frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    #[cfg(test)]
    {
        decode_frame_checked(header, frame)
    }
    #[cfg(not(test))]
    {
        decode_frame_strict(header, frame)
    }
}

/// The strict reader's decoding, which the session gets.
#[cfg_attr(test, allow(dead_code))]
fn decode_frame_strict(
    header: &FixedHeader,
    mut frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    let packet = packet_name(header.packet_type());
    let body = frame.get(header.header_len..).unwrap_or_default();
    if body.len() != header.remaining_len {
        return Err(malformed(packet, ENDS_EARLY));
    }
    let (Route::Ours(mut incoming, payload_len) | Route::Both(mut incoming, payload_len)) =
        read_strict(header, body)?;
    if let Incoming::Publish(m, _) = &mut incoming {
        // The payload is the end of the frame.
        let at = frame.len().saturating_sub(payload_len);
        m.payload = frame.split_off(at).freeze();
    }
    Ok(incoming)
}

/// The strict reader's decoding, and `mqttbytes`' reading of the same
/// frame where it can read it right, which must agree (tests only).
#[cfg(test)]
fn decode_frame_checked(
    header: &FixedHeader,
    mut frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    let packet = packet_name(header.packet_type());
    let body = frame.get(header.header_len..).unwrap_or_default();
    if body.len() != header.remaining_len {
        return Err(malformed(packet, ENDS_EARLY));
    }
    let (ours, payload_len) = match read_strict(header, body)? {
        Route::Ours(mut incoming, payload_len) => {
            if let Incoming::Publish(m, _) = &mut incoming {
                // The payload is the end of the frame.
                let at = frame.len().saturating_sub(payload_len);
                m.payload = frame.split_off(at).freeze();
            }
            return Ok(incoming);
        }
        Route::Both(incoming, payload_len) => (incoming, payload_len),
    };
    let disagree = |what: String| {
        malformed(
            packet,
            &format!("mqttbytes reads this well-formed packet otherwise ({what})"),
        )
    };
    let decoded = mb::read(&mut frame, usize::MAX).map_err(|e| disagree(format!("{e:?}")))?;
    let mut theirs = from_mqttbytes(decoded).ok_or_else(|| disagree("another packet".into()))?;
    // The payload is compared by length alone (see `Route::Both`), and
    // kept out of the comparison of the rest.
    let mut payload = None;
    if let Incoming::Publish(t, _) = &mut theirs {
        if t.payload.len() != payload_len {
            return Err(disagree(format!("a payload of {} bytes", t.payload.len())));
        }
        payload = Some(std::mem::take(&mut t.payload));
    }
    if ours != theirs {
        return Err(disagree(format!("{theirs:?}")));
    }
    if let (Incoming::Publish(t, _), Some(p)) = (&mut theirs, payload) {
        t.payload = p;
    }
    Ok(theirs)
}

// ----- encoding -----

fn encode_err(what: &str, why: &str) -> SessionError {
    SessionError::Encode(format!("{what}: {why}"))
}

/// A string we send: at most 65535 bytes, without U+0000.
fn check_string(what: &str, s: &str) -> Result<(), SessionError> {
    check_binary(what, s.as_bytes())?;
    if s.contains('\0') {
        return Err(encode_err(what, "U+0000 is not allowed in an MQTT string"));
    }
    Ok(())
}

/// Binary data we send: at most 65535 bytes.
fn check_binary(what: &str, b: &[u8]) -> Result<(), SessionError> {
    if b.len() > usize::from(u16::MAX) {
        return Err(encode_err(
            what,
            &format!(
                "{} bytes do not fit MQTT's 65535-byte limit on a string",
                b.len()
            ),
        ));
    }
    Ok(())
}

/// How many bytes a Variable Byte Integer takes.
fn varint_len(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// A property section being built; every value is checked as it is added.
#[derive(Default)]
struct PropWriter {
    buf: BytesMut,
}

impl PropWriter {
    fn byte(&mut self, id: u8, v: u8) {
        self.buf.put_u8(id);
        self.buf.put_u8(v);
    }

    fn u16(&mut self, id: u8, v: u16) {
        self.buf.put_u8(id);
        self.buf.put_u16(v);
    }

    fn u32(&mut self, id: u8, v: u32) {
        self.buf.put_u8(id);
        self.buf.put_u32(v);
    }

    fn string(&mut self, id: u8, what: &str, s: &str) -> Result<(), SessionError> {
        check_string(what, s)?;
        self.buf.put_u8(id);
        put_str(&mut self.buf, s.as_bytes());
        Ok(())
    }

    fn binary(&mut self, id: u8, what: &str, b: &[u8]) -> Result<(), SessionError> {
        check_binary(what, b)?;
        self.buf.put_u8(id);
        put_str(&mut self.buf, b);
        Ok(())
    }

    fn pairs(&mut self, pairs: &[(String, String)]) -> Result<(), SessionError> {
        for (name, value) in pairs {
            check_string("user property name", name)?;
            check_string("user property value", value)?;
            self.buf.put_u8(USER_PROPERTY);
            put_str(&mut self.buf, name.as_bytes());
            put_str(&mut self.buf, value.as_bytes());
        }
        Ok(())
    }

    /// The property length and the properties.
    fn encoded_len(&self) -> usize {
        varint_len(self.buf.len()) + self.buf.len()
    }

    fn write_to(&self, out: &mut BytesMut) {
        put_varint(out, self.buf.len());
        out.extend_from_slice(&self.buf);
    }
}

/// Where message properties go: a PUBLISH (with its topic alias), a Will
/// (with its delay) or a kept record (`crate::record`: a PUBLISH as it was
/// received, subscription identifiers included, which a client never
/// sends). The order is `mqttbytes`' for each, so that what we write can be
/// compared with it byte for byte.
enum MessageKind {
    Publish(Option<u16>),
    Will(u32),
    Record,
}

/// Checks and writes PUBLISH or Will properties.
fn message_properties(
    p: &PublishProperties,
    kind: &MessageKind,
) -> Result<PropWriter, SessionError> {
    let mut w = PropWriter::default();
    let record = matches!(kind, MessageKind::Record);
    if !record && !p.subscription_identifiers.is_empty() {
        return Err(SessionError::Encode(
            "a client does not send subscription identifiers in PUBLISH or a Will".into(),
        ));
    }
    if let MessageKind::Will(delay) = kind {
        if *delay != 0 {
            w.u32(WILL_DELAY, *delay);
        }
    }
    if let Some(f) = p.payload_format_indicator {
        if f > 1 {
            return Err(encode_err(
                "payload format indicator",
                &format!("{f} is neither 0 nor 1"),
            ));
        }
        w.byte(PAYLOAD_FORMAT, f);
    }
    if let Some(e) = p.message_expiry_secs {
        w.u32(MESSAGE_EXPIRY, e);
    }
    if let MessageKind::Will(_) = kind {
        if let Some(ct) = &p.content_type {
            w.string(CONTENT_TYPE, "content type", ct)?;
        }
    }
    if let MessageKind::Publish(Some(alias)) = kind {
        if *alias == 0 {
            return Err(encode_err("topic alias", "0 is not a topic alias"));
        }
        w.u16(TOPIC_ALIAS, *alias);
    }
    if let Some(rt) = &p.response_topic {
        topic::validate_topic_name(rt).map_err(|e| encode_err("response topic", &e.to_string()))?;
        w.string(RESPONSE_TOPIC, "response topic", rt)?;
    }
    if let Some(cd) = &p.correlation_data {
        w.binary(CORRELATION_DATA, "correlation data", cd)?;
    }
    w.pairs(&p.user_properties)?;
    if record {
        for &id in &p.subscription_identifiers {
            // The reader refuses 0 and anything over four varint bytes.
            if id == 0 || id > MAX_SUBSCRIPTION_IDENTIFIER {
                return Err(encode_err(
                    "subscription identifier",
                    &format!("{id} is not between 1 and {MAX_SUBSCRIPTION_IDENTIFIER}"),
                ));
            }
            w.buf.put_u8(SUBSCRIPTION_ID);
            put_varint(&mut w.buf, id as usize);
        }
    }
    if let MessageKind::Publish(_) | MessageKind::Record = kind {
        if let Some(ct) = &p.content_type {
            w.string(CONTENT_TYPE, "content type", ct)?;
        }
    }
    Ok(w)
}

/// Writes an MQTT 5 CONNECT (protocol `MQTT`, level 5).
pub(crate) fn write_connect(o: &Options, buf: &mut BytesMut) -> Result<(), SessionError> {
    let v = &o.v5;
    check_string("client id", &o.client_id)?;
    let mut props = PropWriter::default();
    if v.session_expiry_secs != 0 {
        props.u32(SESSION_EXPIRY, v.session_expiry_secs);
    }
    if v.receive_maximum == 0 {
        return Err(encode_err("receive maximum", "0 is not allowed"));
    }
    if v.receive_maximum != u16::MAX {
        props.u16(RECEIVE_MAXIMUM, v.receive_maximum);
    }
    let max_packet = u32::try_from(o.max_incoming_packet_size)
        .ok()
        .filter(|&m| m > 0)
        .ok_or_else(|| {
            encode_err(
                "maximum packet size",
                &format!(
                    "{} does not fit 1 to 4294967295",
                    o.max_incoming_packet_size
                ),
            )
        })?;
    props.u32(MAXIMUM_PACKET_SIZE, max_packet);
    if v.topic_alias_maximum != 0 {
        props.u16(TOPIC_ALIAS_MAXIMUM, v.topic_alias_maximum);
    }
    if v.request_response_information {
        props.byte(REQUEST_RESPONSE_INFO, 1);
    }
    if !v.request_problem_information {
        props.byte(REQUEST_PROBLEM_INFO, 0);
    }
    props.pairs(&v.user_properties)?;

    let name = b"MQTT";
    // Every part was checked to fit its length field, so the sums are far
    // from overflowing; saturating all the same.
    let mut len = (2 + name.len() + 1 + 1 + 2 + 2)
        .saturating_add(props.encoded_len())
        .saturating_add(o.client_id.len());
    let mut flags = 0u8;
    if o.clean_session {
        flags |= 0x02;
    }
    let will = match &o.last_will {
        Some(w) => {
            topic::validate_topic_name(&w.topic)?;
            check_binary("Will payload", &w.payload)?;
            let wp = message_properties(&v.will_properties, &MessageKind::Will(v.will_delay_secs))?;
            len = len
                .saturating_add(wp.encoded_len())
                .saturating_add(4 + w.topic.len() + w.payload.len());
            flags |= 0x04 | (w.qos.as_u8() << 3);
            if w.retain {
                flags |= 0x20;
            }
            Some((w, wp))
        }
        None => None,
    };
    if let Some(u) = &o.username {
        check_string("user name", u)?;
        len = len.saturating_add(2 + u.len());
        flags |= 0x80;
    }
    // MQTT 5 allows a password without a user name (§3.1.2.9).
    if let Some(p) = &o.password {
        check_binary("password", p.as_bytes())?;
        len = len.saturating_add(2 + p.len());
        flags |= 0x40;
    }
    if len > MAX_REMAINING_LEN {
        return Err(remaining_len_err(len));
    }
    buf.reserve(len + 5);
    buf.put_u8(0x10);
    put_varint(buf, len);
    put_str(buf, name);
    buf.put_u8(5);
    buf.put_u8(flags);
    buf.put_u16(o.keep_alive_secs);
    props.write_to(buf);
    put_str(buf, o.client_id.as_bytes());
    if let Some((w, wp)) = &will {
        wp.write_to(buf);
        put_str(buf, w.topic.as_bytes());
        put_str(buf, &w.payload);
    }
    if let Some(u) = &o.username {
        put_str(buf, u.as_bytes());
    }
    if let Some(p) = &o.password {
        put_str(buf, p.as_bytes());
    }
    Ok(())
}

/// Writes an MQTT 5 PUBLISH. The properties are in `mqttbytes`' order, so
/// the tests can compare what it writes byte for byte.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_publish(
    topic: &str,
    payload: &Bytes,
    qos: QoS,
    retain: bool,
    dup: bool,
    pkid: u16,
    properties: Option<&PublishProperties>,
    alias: Option<u16>,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    let kind = MessageKind::Publish(alias);
    write_publish_as(
        topic, payload, qos, retain, dup, pkid, properties, &kind, buf,
    )
}

/// Writes a kept record's PUBLISH (`crate::record`): as `write_publish`
/// without a topic alias, with the subscription identifiers it was received
/// with. Never sent to a broker.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_publish_record(
    topic: &str,
    payload: &Bytes,
    qos: QoS,
    retain: bool,
    dup: bool,
    properties: Option<&PublishProperties>,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    let kind = MessageKind::Record;
    write_publish_as(topic, payload, qos, retain, dup, 1, properties, &kind, buf)
}

#[allow(clippy::too_many_arguments)]
fn write_publish_as(
    topic: &str,
    payload: &Bytes,
    qos: QoS,
    retain: bool,
    dup: bool,
    pkid: u16,
    properties: Option<&PublishProperties>,
    kind: &MessageKind,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    let alias = match kind {
        MessageKind::Publish(alias) => *alias,
        _ => None,
    };
    // Empty topics (but with an alias), wildcards, U+0000, topic alias 0
    // and strings over 65535 bytes are refused before anything is written.
    if !(topic.is_empty() && alias.is_some()) {
        topic::validate_topic_name(topic)?;
    }
    let id_len = if qos == QoS::AtMostOnce {
        0
    } else {
        check_pkid(pkid)?;
        2
    };
    let empty = PublishProperties::default();
    let props = message_properties(properties.unwrap_or(&empty), kind)?;
    let len = 2usize
        .saturating_add(topic.len())
        .saturating_add(id_len)
        .saturating_add(props.encoded_len())
        .saturating_add(payload.len());
    put_header(buf, publish_byte1(qos, retain, dup), len)?;
    put_str(buf, topic.as_bytes());
    if qos != QoS::AtMostOnce {
        buf.put_u16(pkid);
    }
    props.write_to(buf);
    buf.extend_from_slice(payload);
    Ok(())
}

/// Writes an MQTT 5 SUBSCRIBE, with its subscription identifier if any.
pub(crate) fn write_subscribe(
    pkid: u16,
    filters: &[Subscription],
    identifier: Option<u32>,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    check_pkid(pkid)?;
    if filters.is_empty() {
        return Err(SessionError::NoFilters);
    }
    let mut len = 2usize;
    for s in filters {
        topic::validate_filter(&s.filter)?;
        // [MQTT-3.8.3-4]
        if s.no_local && topic::split_shared(&s.filter).is_some() {
            return Err(encode_err(
                &s.filter,
                "no local cannot be set on a shared subscription",
            ));
        }
        len += 2 + s.filter.len() + 1;
    }
    let id = match identifier {
        Some(id) => {
            if id == 0 || id > MAX_SUBSCRIPTION_IDENTIFIER {
                return Err(encode_err(
                    "subscription identifier",
                    &format!("{id} is not within 1 to {MAX_SUBSCRIPTION_IDENTIFIER}"),
                ));
            }
            let id = usize::try_from(id)
                .map_err(|e| encode_err("subscription identifier", &e.to_string()))?;
            len += 1 + 1 + varint_len(id);
            Some(id)
        }
        None => {
            len += 1;
            None
        }
    };
    put_header(buf, 0x82, len)?;
    buf.put_u16(pkid);
    match id {
        // The property length (at most 5, one byte), the identifier.
        Some(id) => {
            put_varint(buf, 1 + varint_len(id));
            buf.put_u8(SUBSCRIPTION_ID);
            put_varint(buf, id);
        }
        None => buf.put_u8(0),
    }
    for s in filters {
        put_str(buf, s.filter.as_bytes());
        buf.put_u8(
            s.qos.as_u8()
                | (u8::from(s.no_local) << 2)
                | (u8::from(s.retain_as_published) << 3)
                | (s.retain_handling.as_u8() << 4),
        );
    }
    Ok(())
}

/// Writes an MQTT 5 DISCONNECT: `E0 00` for a normal disconnection,
/// otherwise `E0 01 code` (the property length may be left out,
/// §3.14.2.2.1).
pub(crate) fn write_disconnect(code: u8, buf: &mut BytesMut) -> Result<(), SessionError> {
    if !CLIENT_DISCONNECT_CODES.contains(&code) {
        return Err(encode_err(
            "DISCONNECT",
            &format!("a client cannot send reason code {code:#04x}"),
        ));
    }
    if code == 0 {
        buf.put_slice(&[0xE0, 0]);
    } else {
        buf.put_slice(&[0xE0, 1, code]);
    }
    Ok(())
}

/// What `mqttbytes::v5` writes for a packet we wrote (tests only; `None`
/// for CONNECT, which it writes wrong).
#[cfg(test)]
pub(crate) fn written_by_mqttbytes(packet: &Outgoing<'_>) -> Option<Vec<u8>> {
    use crate::codec::encode_error;
    let mut buf = BytesMut::new();
    let written = match *packet {
        Outgoing::Connect(_) => return None,
        Outgoing::Publish {
            topic,
            payload,
            qos,
            retain,
            dup,
            pkid,
            properties,
            alias,
        } => {
            let empty = PublishProperties::default();
            let p = properties.unwrap_or(&empty);
            mb::Publish {
                dup: dup && qos != QoS::AtMostOnce,
                qos: qos.to_mqttbytes(),
                retain,
                topic: topic.to_owned(),
                pkid: if qos == QoS::AtMostOnce { 0 } else { pkid },
                properties: Some(mb::PublishProperties {
                    payload_format_indicator: p.payload_format_indicator,
                    message_expiry_interval: p.message_expiry_secs,
                    topic_alias: alias,
                    response_topic: p.response_topic.clone(),
                    correlation_data: p.correlation_data.clone(),
                    user_properties: p.user_properties.clone(),
                    subscription_identifiers: Vec::new(),
                    content_type: p.content_type.clone(),
                }),
                payload: payload.clone(),
            }
            .write(&mut buf)
        }
        Outgoing::PubAck(pkid) => mb::PubAck::new(pkid).write(&mut buf),
        Outgoing::PubRec(pkid) => mb::PubRec::new(pkid).write(&mut buf),
        Outgoing::PubRel(pkid) => mb::PubRel::new(pkid).write(&mut buf),
        Outgoing::PubComp(pkid) => mb::PubComp::new(pkid).write(&mut buf),
        Outgoing::Subscribe {
            pkid,
            filters,
            identifier,
        } => mb::Subscribe {
            pkid,
            filters: filters
                .iter()
                .map(|s| mb::SubscribeFilter {
                    path: s.filter.clone(),
                    qos: s.qos.to_mqttbytes(),
                    nolocal: s.no_local,
                    preserve_retain: s.retain_as_published,
                    retain_forward_rule: match s.retain_handling {
                        crate::v5::RetainHandling::SendOnSubscribe => {
                            mb::RetainForwardRule::OnEverySubscribe
                        }
                        crate::v5::RetainHandling::SendIfNew => {
                            mb::RetainForwardRule::OnNewSubscribe
                        }
                        crate::v5::RetainHandling::DoNotSend => mb::RetainForwardRule::Never,
                    },
                })
                .collect(),
            properties: identifier.map(|id| mb::SubscribeProperties {
                id: usize::try_from(id).ok(),
                user_properties: Vec::new(),
            }),
        }
        .write(&mut buf),
        Outgoing::Unsubscribe { pkid, filters } => mb::Unsubscribe {
            pkid,
            filters: filters.to_vec(),
            properties: None,
        }
        .write(&mut buf),
        Outgoing::PingReq => mb::PingReq.write(&mut buf),
        Outgoing::Disconnect(code) => mb::Disconnect {
            reason_code: mb::DisconnectReasonCode::try_from(code)
                .map_err(encode_error)
                .ok()?,
            properties: None,
        }
        .write(&mut buf),
    };
    assert!(written.is_ok(), "mqttbytes refuses {packet:?}");
    Some(buf.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode, parse_fixed_header, Decoder};
    use crate::options::{LastWill, ProtocolVersion};
    use crate::topic::TopicError;
    use crate::v5::{ConnectProperties, RetainHandling};

    // ----- helpers -----

    fn varint(v: &mut Vec<u8>, mut n: usize) {
        loop {
            let mut b = (n % 128) as u8;
            n /= 128;
            if n > 0 {
                b |= 0x80;
            }
            v.push(b);
            if n == 0 {
                break;
            }
        }
    }

    /// A packet: first byte, remaining length, body.
    fn packet(byte1: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![byte1];
        varint(&mut v, body.len());
        v.extend_from_slice(body);
        v
    }

    /// A property section: its length, then the properties.
    fn props(parts: &[&[u8]]) -> Vec<u8> {
        let body: Vec<u8> = parts.concat();
        let mut v = Vec::new();
        varint(&mut v, body.len());
        v.extend(body);
        v
    }

    /// A length-prefixed string (or binary data).
    fn s(x: &[u8]) -> Vec<u8> {
        let mut v = (x.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(x);
        v
    }

    fn user(k: &[u8], val: &[u8]) -> Vec<u8> {
        [vec![USER_PROPERTY], s(k), s(val)].concat()
    }

    fn reason(r: &[u8]) -> Vec<u8> {
        [vec![REASON_STRING], s(r)].concat()
    }

    /// A PUBLISH with these flags, topic, packet id, properties and payload.
    fn publish(flags: u8, topic: &[u8], pkid: Option<u16>, p: &[&[u8]], payload: &[u8]) -> Vec<u8> {
        let mut body = s(topic);
        if let Some(id) = pkid {
            body.extend_from_slice(&id.to_be_bytes());
        }
        body.extend(props(p));
        body.extend_from_slice(payload);
        packet(0x30 | flags, &body)
    }

    /// CONNACK accepting the connection, with these properties.
    fn connack(p: &[&[u8]]) -> Vec<u8> {
        packet(0x20, &[vec![0, 0], props(p)].concat())
    }

    /// Decodes exactly one whole packet.
    fn dec(bytes: &[u8]) -> Result<Incoming, ProtocolError> {
        let header = match parse_fixed_header(bytes) {
            Ok(Some(h)) => h,
            Ok(None) => return Err(malformed("test", "header incomplete")),
            Err(e) => return Err(e),
        };
        assert_eq!(header.frame_len(), bytes.len(), "{bytes:02x?}");
        check_header(&header)?;
        decode_frame(&header, BytesMut::from(bytes))
    }

    /// What mqttbytes makes of the same bytes.
    fn theirs(bytes: &[u8]) -> Result<mb::Packet, mqttbytes::Error> {
        mb::read(&mut BytesMut::from(bytes), usize::MAX)
    }

    fn enc(p: &Outgoing<'_>) -> Result<Vec<u8>, SessionError> {
        let mut b = BytesMut::new();
        encode(p, ProtocolVersion::V5, &mut b)?;
        Ok(b.to_vec())
    }

    fn options() -> Options {
        Options {
            client_id: "c".into(),
            protocol: ProtocolVersion::V5,
            ..Options::default()
        }
    }

    fn message(topic: &str, payload: &'static [u8]) -> Message {
        Message {
            topic: topic.into(),
            payload: Bytes::from_static(payload),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            pkid: 0,
            properties: None,
        }
    }

    fn publish_out<'a>(
        topic: &'a str,
        payload: &'a Bytes,
        qos: QoS,
        pkid: u16,
        properties: Option<&'a PublishProperties>,
        alias: Option<u16>,
    ) -> Outgoing<'a> {
        Outgoing::Publish {
            topic,
            payload,
            qos,
            retain: false,
            dup: false,
            pkid,
            properties,
            alias,
        }
    }

    fn invalid(packet: &'static str, id: u8) -> Result<Incoming, ProtocolError> {
        Err(ProtocolError::InvalidProperty { packet, id })
    }

    fn duplicate(packet: &'static str, id: u8) -> Result<Incoming, ProtocolError> {
        Err(ProtocolError::DuplicateProperty { packet, id })
    }

    fn bad_code(packet: &'static str, code: u8) -> Result<Incoming, ProtocolError> {
        Err(ProtocolError::InvalidReasonCode { packet, code })
    }

    fn mal(packet: &'static str, detail: &str) -> Result<Incoming, ProtocolError> {
        Err(malformed(packet, detail))
    }

    // ----- headers -----

    #[test]
    fn packets_a_client_never_receives_are_refused_and_auth_with_them() {
        for (byte1, name) in [
            (0x10u8, "CONNECT"),
            (0x82, "SUBSCRIBE"),
            (0xA2, "UNSUBSCRIBE"),
            (0xC0, "PINGREQ"),
            (0xF0, "AUTH"),
        ] {
            assert_eq!(
                dec(&[byte1, 0]),
                Err(ProtocolError::UnexpectedPacket { packet: name })
            );
        }
        // AUTH with a body (continue authentication, no properties).
        assert_eq!(
            dec(&[0xF0, 2, 0x18, 0]),
            Err(ProtocolError::UnexpectedPacket { packet: "AUTH" })
        );
        assert_eq!(dec(&[0x00, 0]), Err(ProtocolError::ReservedPacketType(0)));
        // mqttbytes has no AUTH packet at all.
        assert!(matches!(
            theirs(&[0xF0, 0]),
            Err(mqttbytes::Error::InvalidPacketType(15))
        ));
    }

    #[test]
    fn header_flags_are_checked_as_in_3_1_1() {
        let cases: Vec<(Vec<u8>, ProtocolError)> = vec![
            (
                vec![0x60, 2, 0, 1],
                ProtocolError::BadFlags {
                    packet: "PUBREL",
                    flags: 0,
                },
            ),
            (
                vec![0x41, 2, 0, 1],
                ProtocolError::BadFlags {
                    packet: "PUBACK",
                    flags: 1,
                },
            ),
            (
                vec![0x28, 3, 0, 0, 0],
                ProtocolError::BadFlags {
                    packet: "CONNACK",
                    flags: 8,
                },
            ),
            (
                vec![0x92, 3, 0, 1, 0],
                ProtocolError::BadFlags {
                    packet: "SUBACK",
                    flags: 2,
                },
            ),
            (
                vec![0xE1, 0],
                ProtocolError::BadFlags {
                    packet: "DISCONNECT",
                    flags: 1,
                },
            ),
            (
                vec![0xD1, 0],
                ProtocolError::BadFlags {
                    packet: "PINGRESP",
                    flags: 1,
                },
            ),
            (
                vec![0x36, 6, 0, 1, b't', 0, 1, 0],
                ProtocolError::InvalidQoS(3),
            ),
            (vec![0x38, 4, 0, 1, b't', 0], ProtocolError::DupWithQoS0),
        ];
        for (bytes, e) in cases {
            assert_eq!(dec(&bytes), Err(e), "{bytes:02x?}");
        }
        // mqttbytes reads the ack with flags 0001 all the same.
        assert!(theirs(&[0x41, 2, 0, 1]).is_ok(), "mqttbytes defect is gone");
    }

    #[test]
    fn remaining_lengths_below_the_mqtt_5_minimum_are_refused_from_the_header() {
        for (byte1, len, name) in [
            (0x20u8, 1usize, "CONNACK"),
            (0x40, 1, "PUBACK"),
            (0x50, 0, "PUBREC"),
            (0x62, 1, "PUBREL"),
            (0x70, 1, "PUBCOMP"),
            (0x90, 2, "SUBACK"),
            (0xB0, 2, "UNSUBACK"),
            (0x30, 2, "PUBLISH"),
            (0x32, 4, "PUBLISH"),
        ] {
            let h = FixedHeader {
                byte1,
                header_len: 2,
                remaining_len: len,
            };
            assert_eq!(
                check_header(&h),
                Err(ProtocolError::BadRemainingLength { packet: name, len }),
                "{name} {len}"
            );
        }
        assert_eq!(
            dec(&[0xD0, 1, 0]),
            Err(ProtocolError::BadRemainingLength {
                packet: "PINGRESP",
                len: 1
            })
        );
        // The smallest legal ones pass the header check.
        for (byte1, len) in [
            (0x20u8, 2usize),
            (0x40, 2),
            (0x90, 3),
            (0xE0, 0),
            (0x30, 3),
            (0x32, 5),
        ] {
            let h = FixedHeader {
                byte1,
                header_len: 2,
                remaining_len: len,
            };
            assert_eq!(check_header(&h), Ok(()), "{byte1:#x} {len}");
        }
    }

    // ----- CONNACK -----

    #[test]
    fn a_connack_without_properties_grants_the_spec_defaults() {
        assert_eq!(
            dec(&[0x20, 3, 0, 0, 0]),
            Ok(Incoming::ConnAck {
                session_present: false,
                code: 0,
                granted: Some(Box::default()),
            })
        );
        assert_eq!(
            dec(&[0x20, 3, 1, 0, 0]),
            Ok(Incoming::ConnAck {
                session_present: true,
                code: 0,
                granted: Some(Box::default()),
            })
        );
    }

    #[test]
    fn every_connack_property_written_by_mqttbytes_is_read_into_granted() {
        let mut p = mb::ConnAckProperties::new();
        p.session_expiry_interval = Some(3600);
        p.receive_max = Some(10);
        p.max_qos = Some(1);
        p.retain_available = Some(0);
        p.max_packet_size = Some(4096);
        p.assigned_client_identifier = Some("auto-1".into());
        p.topic_alias_max = Some(5);
        p.reason_string = Some("welcome".into());
        p.user_properties = vec![("a".into(), "1".into()), ("a".into(), "2".into())];
        p.wildcard_subscription_available = Some(0);
        p.subscription_identifiers_available = Some(0);
        p.shared_subscription_available = Some(0);
        p.server_keep_alive = Some(30);
        p.response_information = Some("resp/".into());
        p.server_reference = Some("other:1883".into());
        let mut ack = mb::ConnAck::new(mb::ConnectReturnCode::Success, true);
        ack.properties = Some(p);
        let mut bytes = BytesMut::new();
        assert!(ack.write(&mut bytes).is_ok());
        let expected = Granted {
            assigned_client_id: Some("auto-1".into()),
            server_keep_alive: Some(30),
            session_expiry_secs: Some(3600),
            receive_maximum: 10,
            maximum_qos: QoS::AtLeastOnce,
            retain_available: false,
            maximum_packet_size: Some(4096),
            topic_alias_maximum: 5,
            wildcard_subscription_available: false,
            subscription_identifiers_available: false,
            shared_subscription_available: false,
            response_information: Some("resp/".into()),
            server_reference: Some("other:1883".into()),
            reason_string: Some("welcome".into()),
            user_properties: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
        };
        assert_eq!(
            dec(&bytes),
            Ok(Incoming::ConnAck {
                session_present: true,
                code: 0,
                granted: Some(Box::new(expected)),
            })
        );
        // Maximum QoS 0, and the flags at 1.
        let bytes = connack(&[
            &[MAXIMUM_QOS, 0],
            &[RETAIN_AVAILABLE, 1],
            &[SHARED_AVAILABLE, 1],
        ]);
        let Ok(Incoming::ConnAck {
            granted: Some(g), ..
        }) = dec(&bytes)
        else {
            panic!("{:?}", dec(&bytes));
        };
        assert_eq!(g.maximum_qos, QoS::AtMostOnce);
        assert!(g.retain_available && g.shared_subscription_available);
    }

    #[test]
    fn connack_reason_codes_are_those_of_the_spec_table() {
        for code in 0..=255u8 {
            let got = dec(&[0x20, 3, 0, code, 0]);
            if CONNACK_CODES.contains(&code) {
                assert!(
                    matches!(got, Ok(Incoming::ConnAck { code: c, .. }) if c == code),
                    "{code:#x}: {got:?}"
                );
            } else {
                assert_eq!(got, bad_code("CONNACK", code), "{code:#x}");
            }
        }
        // A refusal keeps its properties (reason string, server reference).
        let bytes = packet(
            0x20,
            &[
                vec![0, 0x9C],
                props(&[&[SERVER_REFERENCE], &s(b"b:1883"), &reason(b"go")]),
            ]
            .concat(),
        );
        let Ok(Incoming::ConnAck {
            code: 0x9C,
            granted: Some(g),
            ..
        }) = dec(&bytes)
        else {
            panic!("{:?}", dec(&bytes));
        };
        assert_eq!(g.server_reference.as_deref(), Some("b:1883"));
        assert_eq!(g.reason_string.as_deref(), Some("go"));
    }

    #[test]
    fn connack_reserved_bits_and_session_present_on_a_refusal_are_refused_which_mqttbytes_accepts()
    {
        for bytes in [vec![0x20, 3, 0x02, 0, 0], vec![0x20, 3, 0x81, 0, 0]] {
            assert!(theirs(&bytes).is_ok(), "mqttbytes defect is gone");
        }
        assert_eq!(
            dec(&[0x20, 3, 0x02, 0, 0]),
            Err(ProtocolError::ConnackReservedBits(2))
        );
        assert_eq!(
            dec(&[0x20, 3, 0x81, 0, 0]),
            Err(ProtocolError::ConnackReservedBits(0x81))
        );
        let refused_present = [0x20, 3, 1, 0x87, 0];
        assert!(theirs(&refused_present).is_ok(), "mqttbytes defect is gone");
        assert_eq!(dec(&refused_present), mal("CONNACK", PRESENT_ON_REFUSAL));
    }

    #[test]
    fn a_3_1_1_broker_refusing_level_5_is_read_as_its_refusal_which_mqttbytes_cannot_read() {
        // A broker that does not speak MQTT 5 answers with a 3.1.1 CONNACK:
        // no property length, return code 1.
        let bytes = [0x20, 2, 0, 1];
        assert!(theirs(&bytes).is_err(), "mqttbytes reads it now");
        assert_eq!(
            dec(&bytes),
            Ok(Incoming::ConnAck {
                session_present: false,
                code: 1,
                granted: Some(Box::default()),
            })
        );
        for code in 2..=5 {
            assert!(
                matches!(dec(&[0x20, 2, 0, code]), Ok(Incoming::ConnAck { code: c, .. }) if c == code)
            );
        }
        assert!(matches!(
            dec(&[0x20, 2, 0, 0x87]),
            Ok(Incoming::ConnAck { code: 0x87, .. })
        ));
        assert_eq!(dec(&[0x20, 2, 0, 6]), bad_code("CONNACK", 6));
        // Accepting the connection that way is not MQTT 5.
        assert_eq!(
            dec(&[0x20, 2, 0, 0]),
            Err(ProtocolError::BadRemainingLength {
                packet: "CONNACK",
                len: 2
            })
        );
    }

    #[test]
    fn an_authentication_method_in_connack_is_refused_as_we_never_send_one() {
        let bytes = connack(&[&[AUTH_METHOD], &s(b"SCRAM")]);
        assert!(theirs(&bytes).is_ok());
        assert_eq!(dec(&bytes), invalid("CONNACK", AUTH_METHOD));
        let bytes = connack(&[&[AUTH_DATA], &s(b"x")]);
        assert_eq!(dec(&bytes), invalid("CONNACK", AUTH_DATA));
    }

    // ----- properties -----

    #[test]
    fn property_values_the_spec_forbids_are_refused_although_mqttbytes_accepts_them() {
        let value = |packet, detail: &str| -> Result<Incoming, ProtocolError> {
            Err(ProtocolError::InvalidPropertyValue {
                packet,
                detail: detail.into(),
            })
        };
        let cases: Vec<(Vec<u8>, Result<Incoming, ProtocolError>)> = vec![
            (
                connack(&[&[RECEIVE_MAXIMUM, 0, 0]]),
                value("CONNACK", "a receive maximum of 0"),
            ),
            (
                connack(&[&[MAXIMUM_PACKET_SIZE, 0, 0, 0, 0]]),
                value("CONNACK", "a maximum packet size of 0"),
            ),
            (
                connack(&[&[MAXIMUM_QOS, 2]]),
                value("CONNACK", "maximum QoS 2 (only 0 and 1 exist)"),
            ),
            (
                connack(&[&[RETAIN_AVAILABLE, 2]]),
                value("CONNACK", "retain available 2 (only 0 and 1 exist)"),
            ),
            (
                connack(&[&[WILDCARD_AVAILABLE, 7]]),
                value(
                    "CONNACK",
                    "wildcard subscription available 7 (only 0 and 1 exist)",
                ),
            ),
            (
                connack(&[&[SUBSCRIPTION_IDS_AVAILABLE, 2]]),
                value(
                    "CONNACK",
                    "subscription identifiers available 2 (only 0 and 1 exist)",
                ),
            ),
            (
                connack(&[&[SHARED_AVAILABLE, 0xFF]]),
                value(
                    "CONNACK",
                    "shared subscription available 255 (only 0 and 1 exist)",
                ),
            ),
            (
                publish(0, b"t", None, &[&[PAYLOAD_FORMAT, 2]], b"x"),
                value("PUBLISH", "payload format indicator 2 (only 0 and 1 exist)"),
            ),
            (
                publish(0, b"t", None, &[&[SUBSCRIPTION_ID, 0]], b"x"),
                value("PUBLISH", "subscription identifier 0"),
            ),
            (
                publish(0, b"t", None, &[&[RESPONSE_TOPIC], &s(b"r/+")], b"x"),
                value(
                    "PUBLISH",
                    &format!(
                        "a response topic that is not a topic name ({})",
                        TopicError::WildcardInTopicName
                    ),
                ),
            ),
        ];
        for (bytes, expected) in cases {
            assert!(theirs(&bytes).is_ok(), "mqttbytes now refuses {bytes:02x?}");
            assert_eq!(dec(&bytes), expected, "{bytes:02x?}");
        }
        // Topic alias 0 is the session's to refuse (it knows the maximum).
        let bytes = publish(0, b"t", None, &[&[TOPIC_ALIAS, 0, 0]], b"x");
        assert_eq!(
            dec(&bytes),
            Ok(Incoming::Publish(message("t", b"x"), Some(0)))
        );
    }

    #[test]
    fn a_property_that_may_appear_once_is_refused_twice_although_mqttbytes_keeps_the_last() {
        let twice = |p: &[u8]| [p, p].concat();
        let cases: Vec<(Vec<u8>, Result<Incoming, ProtocolError>)> = vec![
            (
                connack(&[&twice(&[RECEIVE_MAXIMUM, 0, 5])]),
                duplicate("CONNACK", RECEIVE_MAXIMUM),
            ),
            (
                connack(&[&twice(&reason(b"r"))]),
                duplicate("CONNACK", REASON_STRING),
            ),
            (
                publish(0, b"t", None, &[&twice(&[PAYLOAD_FORMAT, 1])], b"x"),
                duplicate("PUBLISH", PAYLOAD_FORMAT),
            ),
            (
                publish(0, b"t", None, &[&twice(&[TOPIC_ALIAS, 0, 1])], b"x"),
                duplicate("PUBLISH", TOPIC_ALIAS),
            ),
            (
                publish(0, b"t", None, &[&twice(&[CORRELATION_DATA, 0, 1, 7])], b"x"),
                duplicate("PUBLISH", CORRELATION_DATA),
            ),
            (
                packet(
                    0x40,
                    &[vec![0, 1, 0], props(&[&twice(&reason(b"r"))])].concat(),
                ),
                duplicate("PUBACK", REASON_STRING),
            ),
            (
                packet(
                    0x90,
                    &[vec![0, 1], props(&[&twice(&reason(b"r"))]), vec![0]].concat(),
                ),
                duplicate("SUBACK", REASON_STRING),
            ),
            (
                packet(
                    0xE0,
                    &[vec![0x8B], props(&[&twice(&reason(b"r"))])].concat(),
                ),
                duplicate("DISCONNECT", REASON_STRING),
            ),
        ];
        for (bytes, expected) in cases {
            assert!(theirs(&bytes).is_ok(), "mqttbytes now refuses {bytes:02x?}");
            assert_eq!(dec(&bytes), expected, "{bytes:02x?}");
        }
    }

    #[test]
    fn user_properties_and_subscription_identifiers_in_publish_may_repeat() {
        let bytes = publish(
            0,
            b"t",
            None,
            &[
                &user(b"k", b"1"),
                &user(b"k", b"2"),
                &[SUBSCRIPTION_ID, 1],
                &[SUBSCRIPTION_ID, 0xFF, 0xFF, 0xFF, 0x7F],
            ],
            b"x",
        );
        let mut m = message("t", b"x");
        m.properties = Some(Box::new(PublishProperties {
            user_properties: vec![("k".into(), "1".into()), ("k".into(), "2".into())],
            subscription_identifiers: vec![1, MAX_SUBSCRIPTION_IDENTIFIER],
            ..PublishProperties::default()
        }));
        assert_eq!(dec(&bytes), Ok(Incoming::Publish(m, None)));
    }

    #[test]
    fn a_publish_with_two_subscription_identifiers_is_read_here_as_mqttbytes_misreads_it() {
        // Two identifiers, then a payload format indicator; payload "x".
        let bytes = publish(
            0,
            b"t",
            None,
            &[
                &[SUBSCRIPTION_ID, 1],
                &[SUBSCRIPTION_ID, 2],
                &[PAYLOAD_FORMAT, 1],
            ],
            b"x",
        );
        // mqttbytes counts each identifier byte twice and stops early: the
        // payload format indicator becomes payload.
        let Ok(mb::Packet::Publish(p)) = theirs(&bytes) else {
            panic!("{:?}", theirs(&bytes));
        };
        assert_eq!(
            &p.payload[..],
            &[PAYLOAD_FORMAT, 1, b'x'],
            "mqttbytes defect is gone"
        );
        assert_eq!(p.properties.and_then(|p| p.payload_format_indicator), None);

        let mut m = message("t", b"x");
        m.properties = Some(Box::new(PublishProperties {
            payload_format_indicator: Some(1),
            subscription_identifiers: vec![1, 2],
            ..PublishProperties::default()
        }));
        assert_eq!(dec(&bytes), Ok(Incoming::Publish(m, None)));
        // Past two identifiers, an unknown property is still found, though
        // mqttbytes takes it for payload.
        let bad = publish(
            0,
            b"t",
            None,
            &[&[SUBSCRIPTION_ID, 1], &[SUBSCRIPTION_ID, 2], &[0x70, 0]],
            b"",
        );
        assert!(theirs(&bad).is_ok(), "mqttbytes defect is gone");
        assert_eq!(dec(&bad), invalid("PUBLISH", 0x70));
    }

    #[test]
    fn properties_not_allowed_in_a_packet_or_unknown_are_refused() {
        let cases: Vec<(Vec<u8>, Result<Incoming, ProtocolError>)> = vec![
            // Unknown identifiers.
            (
                publish(0, b"t", None, &[&[0x00, 0]], b""),
                invalid("PUBLISH", 0),
            ),
            (
                publish(0, b"t", None, &[&[0x04, 0]], b""),
                invalid("PUBLISH", 4),
            ),
            (connack(&[&[0x2B, 0]]), invalid("CONNACK", 0x2B)),
            (connack(&[&[0x80, 0x01]]), invalid("CONNACK", 0x80)),
            // Known, but not in that packet.
            (
                publish(0, b"t", None, &[&[RECEIVE_MAXIMUM, 0, 1]], b""),
                invalid("PUBLISH", RECEIVE_MAXIMUM),
            ),
            (
                publish(0, b"t", None, &[&reason(b"r")], b""),
                invalid("PUBLISH", REASON_STRING),
            ),
            (
                connack(&[&[TOPIC_ALIAS, 0, 1]]),
                invalid("CONNACK", TOPIC_ALIAS),
            ),
            (
                connack(&[&[REQUEST_PROBLEM_INFO, 1]]),
                invalid("CONNACK", REQUEST_PROBLEM_INFO),
            ),
            (
                connack(&[&[WILL_DELAY, 0, 0, 0, 1]]),
                invalid("CONNACK", WILL_DELAY),
            ),
            (
                packet(
                    0x40,
                    &[vec![0, 1, 0], props(&[&[CONTENT_TYPE], &s(b"a")])].concat(),
                ),
                invalid("PUBACK", CONTENT_TYPE),
            ),
            (
                packet(
                    0xB0,
                    &[vec![0, 1], props(&[&[SERVER_REFERENCE], &s(b"a")]), vec![0]].concat(),
                ),
                invalid("UNSUBACK", SERVER_REFERENCE),
            ),
            (
                packet(
                    0x62,
                    &[vec![0, 1, 0], props(&[&[TOPIC_ALIAS, 0, 1]])].concat(),
                ),
                invalid("PUBREL", TOPIC_ALIAS),
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(dec(&bytes), expected, "{bytes:02x?}");
        }
        // A server may not send Session Expiry Interval in DISCONNECT
        // [MQTT-3.14.2-2]; mqttbytes reads it.
        let bytes = packet(
            0xE0,
            &[vec![0x8B], props(&[&[SESSION_EXPIRY, 0, 0, 0, 1]])].concat(),
        );
        assert!(theirs(&bytes).is_ok(), "mqttbytes defect is gone");
        assert_eq!(dec(&bytes), invalid("DISCONNECT", SESSION_EXPIRY));
    }

    #[test]
    fn a_property_running_past_the_property_length_is_refused_although_mqttbytes_reads_on() {
        // Property length 1, then a Message Expiry Interval (5 bytes): its
        // value would come out of the payload.
        let mut body = s(b"t");
        body.extend_from_slice(&[1, MESSAGE_EXPIRY, 0, 0, 0, 9, b'x']);
        let bytes = packet(0x30, &body);
        let Ok(mb::Packet::Publish(p)) = theirs(&bytes) else {
            panic!("{:?}", theirs(&bytes));
        };
        assert_eq!(
            p.properties.and_then(|p| p.message_expiry_interval),
            Some(9),
            "mqttbytes defect is gone"
        );
        assert_eq!(&p.payload[..], b"x");
        assert_eq!(dec(&bytes), mal("PUBLISH", PROPERTY_PAST_LENGTH));
        // A user property cut off by the property length, in a PUBACK.
        let bytes = packet(0x40, &[vec![0, 1, 0, 4], user(b"k", b"v")].concat());
        assert!(theirs(&bytes).is_ok(), "mqttbytes defect is gone");
        assert_eq!(dec(&bytes), mal("PUBACK", PROPERTY_PAST_LENGTH));
        // A property length beyond the packet.
        assert_eq!(
            dec(&packet(0x30, &[s(b"t"), vec![9, 1, 1]].concat())),
            mal("PUBLISH", PROPERTIES_PAST_THE_END)
        );
        // A property length of five bytes.
        assert_eq!(
            dec(&packet(0x20, &[0, 0, 0x80, 0x80, 0x80, 0x80, 0x01])),
            mal("CONNACK", VARINT_TOO_LONG)
        );
        // A subscription identifier of five bytes.
        assert_eq!(
            dec(&publish(
                0,
                b"t",
                None,
                &[&[SUBSCRIPTION_ID, 0x80, 0x80, 0x80, 0x80, 1]],
                b""
            )),
            mal("PUBLISH", VARINT_TOO_LONG)
        );
    }

    #[test]
    fn strings_with_u0000_are_refused_although_mqttbytes_accepts_them() {
        let cases = [
            publish(0, b"t", None, &[&user(b"k\0", b"v")], b""),
            publish(0, b"t", None, &[&[CONTENT_TYPE], &s(b"text/\0")], b""),
            connack(&[&[ASSIGNED_CLIENT_ID], &s(b"\0")]),
            packet(
                0x50,
                &[vec![0, 1, 0x10], props(&[&reason(b"a\0b")])].concat(),
            ),
            packet(
                0xE0,
                &[vec![0x8E], props(&[&[SERVER_REFERENCE], &s(b"\0")])].concat(),
            ),
        ];
        for bytes in cases {
            assert!(theirs(&bytes).is_ok(), "mqttbytes now refuses {bytes:02x?}");
            assert!(
                matches!(dec(&bytes), Err(ProtocolError::InvalidUtf8 { .. })),
                "{bytes:02x?}: {:?}",
                dec(&bytes)
            );
        }
    }

    #[test]
    fn ill_formed_utf8_in_a_user_property_is_refused_in_name_or_value() {
        for pair in [user(&[0xC3, 0x28], b"v"), user(b"k", &[0xED, 0xA0, 0x80])] {
            let bytes = publish(0, b"t", None, &[&pair], b"");
            assert_eq!(
                dec(&bytes),
                Err(ProtocolError::InvalidUtf8 { packet: "PUBLISH" })
            );
            let bytes = packet(0x70, &[vec![0, 1, 0], props(&[&pair])].concat());
            assert_eq!(
                dec(&bytes),
                Err(ProtocolError::InvalidUtf8 { packet: "PUBCOMP" })
            );
        }
    }

    #[test]
    fn bytes_after_the_last_field_are_refused_although_mqttbytes_ignores_them() {
        for (bytes, name) in [
            (vec![0x20, 4, 0, 0, 0, 0xF2], "CONNACK"),
            (vec![0x40, 5, 0, 3, 0, 0, 0x11], "PUBACK"),
            (vec![0x50, 5, 0, 3, 0x80, 0, 0], "PUBREC"),
            (vec![0x62, 5, 0, 3, 0, 0, 0], "PUBREL"),
            (vec![0x70, 5, 0, 3, 0, 0, 1], "PUBCOMP"),
            (vec![0xE0, 3, 0x8B, 0, 0x9B], "DISCONNECT"),
        ] {
            assert!(theirs(&bytes).is_ok(), "mqttbytes now refuses {bytes:02x?}");
            assert_eq!(dec(&bytes), mal(name, TRAILING), "{bytes:02x?}");
        }
    }

    // ----- PUBLISH -----

    #[test]
    fn a_publish_with_every_property_written_by_mqttbytes_is_read_in_full() {
        let mut p = mb::Publish::new("a/b", mqttbytes::QoS::ExactlyOnce, "hello");
        p.pkid = 9;
        p.retain = true;
        p.dup = true;
        p.properties = Some(mb::PublishProperties {
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(60),
            topic_alias: Some(3),
            response_topic: Some("reply/1".into()),
            correlation_data: Some(Bytes::from_static(&[0, 1, 0xFF])),
            user_properties: vec![("k".into(), "v".into())],
            subscription_identifiers: vec![200_000],
            content_type: Some("text/plain".into()),
        });
        let mut bytes = BytesMut::new();
        assert!(p.write(&mut bytes).is_ok());
        let expected = Message {
            topic: "a/b".into(),
            payload: Bytes::from_static(b"hello"),
            qos: QoS::ExactlyOnce,
            retain: true,
            dup: true,
            pkid: 9,
            properties: Some(Box::new(PublishProperties {
                payload_format_indicator: Some(1),
                message_expiry_secs: Some(60),
                content_type: Some("text/plain".into()),
                response_topic: Some("reply/1".into()),
                correlation_data: Some(Bytes::from_static(&[0, 1, 0xFF])),
                user_properties: vec![("k".into(), "v".into())],
                subscription_identifiers: vec![200_000],
            })),
        };
        assert_eq!(dec(&bytes), Ok(Incoming::Publish(expected, Some(3))));
    }

    #[test]
    fn a_publish_whose_only_property_is_a_topic_alias_has_no_properties() {
        assert_eq!(
            dec(&publish(0, b"t", None, &[&[TOPIC_ALIAS, 0, 7]], b"x")),
            Ok(Incoming::Publish(message("t", b"x"), Some(7)))
        );
        assert_eq!(
            dec(&publish(0, b"t", None, &[], b"x")),
            Ok(Incoming::Publish(message("t", b"x"), None))
        );
    }

    #[test]
    fn an_empty_topic_is_legal_only_with_a_topic_alias() {
        assert_eq!(
            dec(&publish(0, b"", None, &[&[TOPIC_ALIAS, 0, 2]], b"x")),
            Ok(Incoming::Publish(message("", b"x"), Some(2)))
        );
        let bytes = publish(0, b"", None, &[], b"x");
        assert!(theirs(&bytes).is_ok(), "mqttbytes defect is gone");
        assert_eq!(
            dec(&bytes),
            Err(ProtocolError::InvalidTopic(TopicError::Empty))
        );
        // The smallest PUBLISH: empty topic, no properties, no payload.
        assert_eq!(
            dec(&[0x30, 3, 0, 0, 0]),
            Err(ProtocolError::InvalidTopic(TopicError::Empty))
        );
    }

    #[test]
    fn received_topics_and_packet_ids_are_checked_as_in_3_1_1() {
        let cases: Vec<(Vec<u8>, ProtocolError)> = vec![
            (
                publish(0, b"a/+", None, &[], b""),
                ProtocolError::InvalidTopic(TopicError::WildcardInTopicName),
            ),
            (
                publish(0, b"#", None, &[&[TOPIC_ALIAS, 0, 1]], b""),
                ProtocolError::InvalidTopic(TopicError::WildcardInTopicName),
            ),
            (
                publish(0, b"a\0", None, &[], b""),
                ProtocolError::InvalidTopic(TopicError::ContainsNul),
            ),
            (
                publish(0, &[0xFF, 0xFE], None, &[], b""),
                ProtocolError::InvalidUtf8 { packet: "PUBLISH" },
            ),
            (
                publish(0b0010, b"t", Some(0), &[], b""),
                ProtocolError::PacketIdZero { packet: "PUBLISH" },
            ),
            (
                packet(0x30, &[0, 9, b'a', b'b', 0]),
                malformed("PUBLISH", PAST_THE_END),
            ),
            (
                packet(0x32, &[0, 2, b'a', b'b', 0]),
                malformed("PUBLISH", ENDS_EARLY),
            ),
        ];
        for (bytes, e) in cases {
            assert_eq!(dec(&bytes), Err(e), "{bytes:02x?}");
        }
    }

    // ----- acks -----

    #[test]
    fn acks_of_two_three_and_more_bytes_carry_their_code_and_reason() {
        let with = |code, reason: Option<&str>| Ack {
            code,
            reason: reason.map(str::to_owned),
        };
        assert_eq!(
            dec(&[0x40, 2, 0, 1]),
            Ok(Incoming::PubAck(1, with(0, None)))
        );
        assert_eq!(
            dec(&[0x50, 3, 0, 2, 0x10]),
            Ok(Incoming::PubRec(2, with(0x10, None)))
        );
        assert_eq!(
            dec(&[0x62, 4, 0, 3, 0x92, 0]),
            Ok(Incoming::PubRel(3, with(0x92, None)))
        );
        let bytes = packet(
            0x40,
            &[
                vec![0, 4, 0x97],
                props(&[&reason(b"daily limit"), &user(b"k", b"v")]),
            ]
            .concat(),
        );
        assert_eq!(
            dec(&bytes),
            Ok(Incoming::PubAck(4, with(0x97, Some("daily limit"))))
        );
        let bytes = packet(0x70, &[vec![0, 5, 0], props(&[&reason(b"ok")])].concat());
        assert_eq!(dec(&bytes), Ok(Incoming::PubComp(5, with(0, Some("ok")))));
    }

    #[test]
    fn ack_reason_codes_are_those_each_packet_may_carry() {
        let tables: [(u8, &'static str, &[u8]); 4] = [
            (0x40, "PUBACK", &PUBACK_CODES),
            (0x50, "PUBREC", &PUBACK_CODES),
            (0x62, "PUBREL", &PUBREL_CODES),
            (0x70, "PUBCOMP", &PUBREL_CODES),
        ];
        for (byte1, name, codes) in tables {
            for code in 0..=255u8 {
                let got = dec(&[byte1, 3, 0, 1, code]);
                if codes.contains(&code) {
                    assert!(got.is_ok(), "{name} {code:#x}: {got:?}");
                } else {
                    assert_eq!(got, bad_code(name, code), "{name} {code:#x}");
                }
            }
        }
        for code in 0..=255u8 {
            let got = dec(&[0x90, 4, 0, 1, 0, code]);
            if SUBACK_CODES.contains(&code) {
                assert!(got.is_ok(), "SUBACK {code:#x}");
            } else {
                assert_eq!(got, bad_code("SUBACK", code));
            }
            let got = dec(&[0xB0, 4, 0, 1, 0, code]);
            if UNSUBACK_CODES.contains(&code) {
                assert!(got.is_ok(), "UNSUBACK {code:#x}");
            } else {
                assert_eq!(got, bad_code("UNSUBACK", code));
            }
            let got = dec(&[0xE0, 1, code]);
            if SERVER_DISCONNECT_CODES.contains(&code) {
                assert!(got.is_ok(), "DISCONNECT {code:#x}");
            } else {
                assert_eq!(got, bad_code("DISCONNECT", code));
            }
        }
    }

    #[test]
    fn packet_id_0_in_acks_is_refused_although_mqttbytes_accepts_it() {
        for (bytes, name) in [
            (vec![0x40, 2, 0, 0], "PUBACK"),
            (vec![0x50, 2, 0, 0], "PUBREC"),
            (vec![0x62, 2, 0, 0], "PUBREL"),
            (vec![0x70, 2, 0, 0], "PUBCOMP"),
            (vec![0x90, 4, 0, 0, 0, 0], "SUBACK"),
            (vec![0xB0, 4, 0, 0, 0, 0], "UNSUBACK"),
        ] {
            assert!(theirs(&bytes).is_ok(), "mqttbytes now refuses {bytes:02x?}");
            assert_eq!(
                dec(&bytes),
                Err(ProtocolError::PacketIdZero { packet: name })
            );
        }
    }

    #[test]
    fn suback_and_unsuback_give_one_result_per_filter_with_the_reason_string() {
        let bytes = packet(
            0x90,
            &[
                vec![0, 7],
                props(&[&reason(b"partly")]),
                vec![0, 1, 2, 0x87, 0xA2],
            ]
            .concat(),
        );
        assert_eq!(
            dec(&bytes),
            Ok(Incoming::SubAck {
                pkid: 7,
                results: vec![
                    SubscribeResult::Granted(QoS::AtMostOnce),
                    SubscribeResult::Granted(QoS::AtLeastOnce),
                    SubscribeResult::Granted(QoS::ExactlyOnce),
                    SubscribeResult::RefusedWith(0x87),
                    SubscribeResult::RefusedWith(0xA2),
                ],
                reason: Some("partly".into()),
            })
        );
        assert_eq!(
            dec(&[0xB0, 5, 0, 8, 0, 0x00, 0x11]),
            Ok(Incoming::UnsubAck {
                pkid: 8,
                codes: vec![0, 0x11],
                reason: None,
            })
        );
        // Properties but no code.
        let bytes = packet(0x90, &[vec![0, 7], props(&[&reason(b"r")])].concat());
        assert_eq!(dec(&bytes), mal("SUBACK", NO_CODES));
    }

    // ----- DISCONNECT -----

    #[test]
    fn a_disconnect_of_0_or_1_bytes_is_read_here_as_mqttbytes_refuses_it() {
        assert!(
            matches!(theirs(&[0xE0, 0]), Err(mqttbytes::Error::PayloadRequired)),
            "mqttbytes defect is gone"
        );
        assert!(
            theirs(&[0xE0, 1, 0x8E]).is_err(),
            "mqttbytes defect is gone"
        );
        assert_eq!(
            dec(&[0xE0, 0]),
            Ok(Incoming::Disconnect {
                code: 0,
                reason: None,
                server_reference: None
            })
        );
        assert_eq!(
            dec(&[0xE0, 1, 0x8E]),
            Ok(Incoming::Disconnect {
                code: 0x8E,
                reason: None,
                server_reference: None
            })
        );
    }

    #[test]
    fn a_disconnect_carries_its_reason_string_and_server_reference() {
        let bytes = packet(
            0xE0,
            &[
                vec![0x9D],
                props(&[
                    &reason(b"moving"),
                    &[SERVER_REFERENCE],
                    &s(b"b:8883"),
                    &user(b"k", b"v"),
                ]),
            ]
            .concat(),
        );
        assert_eq!(
            dec(&bytes),
            Ok(Incoming::Disconnect {
                code: 0x9D,
                reason: Some("moving".into()),
                server_reference: Some("b:8883".into()),
            })
        );
        // 0x04 (with Will) is a client's code; mqttbytes reads it.
        assert!(
            theirs(&[0xE0, 2, 0x04, 0]).is_ok(),
            "mqttbytes defect is gone"
        );
        assert_eq!(dec(&[0xE0, 2, 0x04, 0]), bad_code("DISCONNECT", 4));
    }

    // ----- the stream -----

    #[test]
    fn a_v5_stream_decodes_alike_in_any_chunking() {
        let mut stream = connack(&[&[TOPIC_ALIAS_MAXIMUM, 0, 10]]);
        stream.extend(publish(
            0b0010,
            b"a/b",
            Some(1),
            &[&[TOPIC_ALIAS, 0, 1], &user(b"k", b"v")],
            b"one",
        ));
        stream.extend(publish(0, b"", None, &[&[TOPIC_ALIAS, 0, 1]], b"two"));
        stream.extend([0x40, 3, 0, 9, 0x10]);
        stream.extend([0xD0, 0]);
        stream.extend([0xE0, 0]);
        let run = |n: usize| {
            let mut d = Decoder::new(1 << 20, ProtocolVersion::V5);
            let mut got = Vec::new();
            for mut chunk in stream.chunks(n) {
                while let Ok(Some(p)) = d.next_packet(&mut chunk) {
                    got.push(p);
                }
            }
            got
        };
        let whole = run(stream.len());
        assert_eq!(whole.len(), 6, "{whole:?}");
        assert!(
            matches!(&whole[2], Incoming::Publish(m, Some(1)) if m.topic.is_empty() && &m.payload[..] == b"two")
        );
        assert!(matches!(&whole[5], Incoming::Disconnect { code: 0, .. }));
        for n in [1, 2, 3, 7, 64] {
            assert_eq!(run(n), whole, "chunks of {n}");
        }
    }

    #[test]
    fn a_v5_publish_over_the_limit_is_read_through_as_in_3_1_1_from_its_head() {
        // mosquitto 2.0 sends PUBLISHes one byte over the Maximum Packet
        // Size we announce; refusing them would trap a persistent session.
        let mut d = Decoder::new(100, ProtocolVersion::V5);
        let mut input: &[u8] = &[0x30, 0xC8, 0x01, 0, 1, b't', 0, 7, 7];
        let got = d.next_packet(&mut input);
        assert!(
            matches!(
                &got,
                Ok(Some(Incoming::PublishNotKept(m, s)))
                    if m.topic == "t" && s.packet_size == 203 && s.limit == 100
            ),
            "{got:?}"
        );
        // The rest (properties and payload) is discarded as it arrives.
        assert_eq!(d.next_packet(&mut input), Ok(None));
        assert!(input.is_empty());
        assert!(d.in_packet());
    }

    /// A small generator for the differential test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }

        fn pick(&mut self, items: &[u8]) -> u8 {
            items[self.below(items.len() as u64) as usize]
        }
    }

    /// A random property section with identifiers from `ids`.
    fn random_props(r: &mut Rng, ids: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for _ in 0..r.below(9) {
            let id = r.pick(ids);
            body.push(id);
            match id {
                PAYLOAD_FORMAT
                | MAXIMUM_QOS
                | RETAIN_AVAILABLE
                | WILDCARD_AVAILABLE
                | SUBSCRIPTION_IDS_AVAILABLE
                | SHARED_AVAILABLE => body.push(r.below(2) as u8),
                MESSAGE_EXPIRY | SESSION_EXPIRY | MAXIMUM_PACKET_SIZE => {
                    body.extend((r.below(100_000) as u32 + 1).to_be_bytes())
                }
                SERVER_KEEP_ALIVE | RECEIVE_MAXIMUM | TOPIC_ALIAS_MAXIMUM | TOPIC_ALIAS => {
                    body.extend((r.below(20) as u16 + 1).to_be_bytes())
                }
                SUBSCRIPTION_ID => {
                    let max =
                        [127, 300, u64::from(MAX_SUBSCRIPTION_IDENTIFIER)][r.below(3) as usize];
                    varint(&mut body, r.below(max) as usize + 1);
                }
                RESPONSE_TOPIC => body.extend(s(b"re/sp")),
                USER_PROPERTY => body.extend([s(b"k"), s(b"val")].concat()),
                CORRELATION_DATA => body.extend(s(&[1, 2, 3])),
                _ => {
                    let n = if r.below(5) == 0 {
                        r.below(300)
                    } else {
                        r.below(8)
                    };
                    body.extend(s(&vec![b'x'; n as usize]));
                }
            }
        }
        let mut v = Vec::new();
        varint(&mut v, body.len());
        v.extend(body);
        v
    }

    const CONNACK_IDS: [u8; 15] = [
        0x11, 0x12, 0x13, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
    ];
    const PUBLISH_IDS: [u8; 8] = [0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26];

    /// A random well-formed packet a broker may send.
    fn random_packet(r: &mut Rng) -> Vec<u8> {
        match r.below(8) {
            0 => {
                let mut b = vec![r.below(2) as u8, 0];
                b.extend(random_props(r, &CONNACK_IDS));
                packet(0x20, &b)
            }
            1 | 2 => {
                let qos = r.below(3) as u8;
                let mut b = s(b"a/b");
                if qos > 0 {
                    b.extend([0, 7]);
                }
                b.extend(random_props(r, &PUBLISH_IDS));
                b.extend_from_slice(b"payload");
                packet(0x30 | qos << 1 | r.below(2) as u8, &b)
            }
            3 => {
                let byte1 = r.pick(&[0x40, 0x50, 0x62, 0x70]);
                let mut b = vec![0, 9];
                if r.below(3) > 0 {
                    b.push(0);
                    if r.below(2) > 0 {
                        b.extend(random_props(r, &[REASON_STRING, USER_PROPERTY]));
                    }
                }
                packet(byte1, &b)
            }
            4 => {
                let mut b = vec![0, 3];
                b.extend(random_props(r, &[REASON_STRING, USER_PROPERTY]));
                b.extend([0, 1, 2, 0x80]);
                packet(r.pick(&[0x90, 0xB0]), &b)
            }
            5 => vec![0xD0, 0],
            _ => {
                let mut b = Vec::new();
                if r.below(3) > 0 {
                    b.push(0x8B);
                    if r.below(2) > 0 {
                        b.extend(random_props(
                            r,
                            &[REASON_STRING, USER_PROPERTY, SERVER_REFERENCE],
                        ));
                    }
                }
                packet(0xE0, &b)
            }
        }
    }

    /// Flips, replaces, inserts or removes a few bytes after the fixed
    /// header, and mostly fixes the remaining length up.
    fn mutate(r: &mut Rng, v: Vec<u8>) -> Vec<u8> {
        let Ok(Some(h)) = parse_fixed_header(&v) else {
            return v;
        };
        let byte1 = v[0];
        let mut body = v[h.header_len..].to_vec();
        for _ in 0..=r.below(3) {
            let len = body.len() as u64;
            match r.below(5) {
                0 if len > 0 => body[r.below(len) as usize] ^= 1 << r.below(8),
                1 if len > 0 => body[r.below(len) as usize] = r.next() as u8,
                2 => body.insert(r.below(len + 1) as usize, r.next() as u8),
                3 if len > 0 => {
                    body.remove(r.below(len) as usize);
                }
                _ if len > 0 => body[r.below(len) as usize] = r.pick(&[0, 1, 2, 0x7F, 0x80, 0xFF]),
                _ => {}
            }
        }
        if r.below(10) == 0 {
            // Keep the old remaining length (cut or padded to it).
            body.resize(h.remaining_len, 0);
        }
        packet(byte1, &body)
    }

    #[test]
    fn no_packet_the_strict_decoder_accepts_is_read_otherwise_or_refused_by_mqttbytes() {
        // The differential fuzz that found the defects above, kept short:
        // well-formed packets and mutations of them, read both ways. Every
        // packet we accept through mqttbytes was read alike by both (else
        // `decode_frame` says so); the packets we read alone are the known
        // defects; nothing panics.
        let mut r = Rng(0x6d71_7474_7635);
        let (mut accepted, mut refused, mut ours_alone) = (0, 0, 0);
        for i in 0..20_000 {
            let v = random_packet(&mut r);
            let v = if i % 8 == 0 { v } else { mutate(&mut r, v) };
            let ours = dec(&v);
            let mb = theirs(&v);
            match &ours {
                Ok(_) => {
                    accepted += 1;
                    if mb.is_err() {
                        ours_alone += 1;
                        let known = matches!(v[0], 0xE0 if v.len() <= 3)
                            || matches!(v[0], 0x20 if v.len() == 4);
                        assert!(known, "mqttbytes refuses {v:02x?}: {mb:?}");
                    }
                }
                Err(ProtocolError::Malformed { detail, .. }) => {
                    assert!(!detail.contains("mqttbytes"), "{v:02x?}: {detail}");
                    refused += 1;
                }
                Err(_) => refused += 1,
            }
        }
        assert!(accepted > 5_000 && refused > 5_000, "{accepted} {refused}");
        assert!(ours_alone > 100, "{ours_alone}");
    }

    // ----- encoding -----

    #[test]
    fn connect_5_matches_mqttbytes_byte_for_byte_where_mqttbytes_is_right() {
        let o = Options {
            client_id: "dev-1".into(),
            username: Some("user".into()),
            password: Some("pass".into()),
            keep_alive_secs: 120,
            clean_session: false,
            last_will: Some(LastWill {
                topic: "dev/1/status".into(),
                payload: b"offline".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
            }),
            protocol: ProtocolVersion::V5,
            max_incoming_packet_size: 65_536,
            v5: ConnectProperties {
                session_expiry_secs: 3600,
                receive_maximum: 10,
                topic_alias_maximum: 5,
                request_response_information: true,
                request_problem_information: false,
                user_properties: vec![("app".into(), "mqdash".into())],
                will_delay_secs: 30,
                will_properties: PublishProperties {
                    payload_format_indicator: Some(1),
                    message_expiry_secs: Some(600),
                    content_type: Some("text/plain".into()),
                    response_topic: Some("dev/1/ack".into()),
                    correlation_data: Some(Bytes::from_static(b"\x01\x02")),
                    user_properties: vec![("w".into(), "1".into())],
                    subscription_identifiers: Vec::new(),
                },
            },
            ..Options::default()
        };
        let ours = enc(&Outgoing::Connect(&o)).map_err(|e| e.to_string());
        let mut c = mb::Connect::new("dev-1");
        c.keep_alive = 120;
        c.clean_session = false;
        c.properties = Some(mb::ConnectProperties {
            session_expiry_interval: Some(3600),
            receive_maximum: Some(10),
            max_packet_size: Some(65_536),
            topic_alias_max: Some(5),
            request_response_info: Some(1),
            request_problem_info: Some(0),
            user_properties: vec![("app".into(), "mqdash".into())],
            authentication_method: None,
            authentication_data: None,
        });
        let mut will = mb::LastWill::new(
            "dev/1/status",
            b"offline".to_vec(),
            mqttbytes::QoS::AtLeastOnce,
            true,
        );
        will.properties = Some(mb::WillProperties {
            delay_interval: Some(30),
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(600),
            content_type: Some("text/plain".into()),
            response_topic: Some("dev/1/ack".into()),
            correlation_data: Some(Bytes::from_static(b"\x01\x02")),
            user_properties: vec![("w".into(), "1".into())],
        });
        c.last_will = Some(will);
        c.set_login("user", "pass");
        let mut bytes = BytesMut::new();
        assert!(c.write(&mut bytes).is_ok());
        assert_eq!(ours, Ok(bytes.to_vec()));
        // And mqttbytes reads ours back.
        let Ok(mb::Packet::Connect(back)) = theirs(&bytes) else {
            panic!("{:?}", theirs(&bytes));
        };
        assert_eq!(back, c);
    }

    #[test]
    fn connect_5_with_default_options_sends_only_the_maximum_packet_size() {
        let o = options();
        let bytes = enc(&Outgoing::Connect(&o)).unwrap_or_default();
        let expected = [
            0x10,
            19,
            0,
            4,
            b'M',
            b'Q',
            b'T',
            b'T',
            5,
            0x02,
            0,
            60,
            5,
            MAXIMUM_PACKET_SIZE,
            0,
            0x10,
            0,
            0,
            0,
            1,
            b'c',
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn connect_5_keeps_an_empty_user_name_and_password_that_mqttbytes_drops() {
        let o = Options {
            username: Some(String::new()),
            password: Some(String::new()),
            ..options()
        };
        let bytes = enc(&Outgoing::Connect(&o)).unwrap_or_default();
        // flags: user name, password, clean start
        assert_eq!(bytes.get(9), Some(&0xC2));
        assert!(bytes.ends_with(&[0, 1, b'c', 0, 0, 0, 0]));
        let mut theirs = BytesMut::new();
        let mut c = mb::Connect::new("c");
        c.set_login("", "");
        assert!(c.write(&mut theirs).is_ok());
        assert_eq!(theirs.get(9), Some(&0x02), "mqttbytes defect is gone");
        assert!(theirs.ends_with(&[0, 1, b'c']));
    }

    #[test]
    fn connect_5_sends_a_password_without_a_user_name() {
        let o = Options {
            password: Some("secret".into()),
            ..options()
        };
        let bytes = enc(&Outgoing::Connect(&o)).unwrap_or_default();
        assert_eq!(bytes.get(9), Some(&0x42));
        assert!(bytes.ends_with(&[0, 6, b's', b'e', b'c', b'r', b'e', b't']));
        let Ok(mb::Packet::Connect(c)) = theirs(&bytes) else {
            panic!("{:?}", theirs(&bytes));
        };
        assert_eq!(c.login.map(|l| l.password), Some("secret".into()));
    }

    #[test]
    fn connect_5_refuses_what_it_cannot_send() {
        let zero = Options {
            v5: ConnectProperties {
                receive_maximum: 0,
                ..ConnectProperties::default()
            },
            ..options()
        };
        assert!(matches!(
            enc(&Outgoing::Connect(&zero)),
            Err(SessionError::Encode(_))
        ));
        let huge = Options {
            max_incoming_packet_size: usize::MAX,
            ..options()
        };
        assert!(matches!(
            enc(&Outgoing::Connect(&huge)),
            Err(SessionError::Encode(_))
        ));
        let long = Options {
            v5: ConnectProperties {
                user_properties: vec![("k".into(), "v".repeat(65_536))],
                ..ConnectProperties::default()
            },
            ..options()
        };
        assert!(matches!(
            enc(&Outgoing::Connect(&long)),
            Err(SessionError::Encode(_))
        ));
        let sub_id = Options {
            last_will: Some(LastWill {
                topic: "w".into(),
                payload: Vec::new(),
                qos: QoS::AtMostOnce,
                retain: false,
            }),
            v5: ConnectProperties {
                will_properties: PublishProperties {
                    subscription_identifiers: vec![1],
                    ..PublishProperties::default()
                },
                ..ConnectProperties::default()
            },
            ..options()
        };
        assert!(matches!(
            enc(&Outgoing::Connect(&sub_id)),
            Err(SessionError::Encode(_))
        ));
    }

    #[test]
    fn publish_5_goes_through_mqttbytes_and_reads_back_alike() {
        let payload = Bytes::from_static(b"{\"t\":21}");
        let p = PublishProperties {
            payload_format_indicator: Some(1),
            message_expiry_secs: Some(30),
            content_type: Some("application/json".into()),
            response_topic: Some("reply/me".into()),
            correlation_data: Some(Bytes::from_static(b"req-1")),
            user_properties: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
            subscription_identifiers: Vec::new(),
        };
        let bytes = enc(&publish_out(
            "s/1",
            &payload,
            QoS::AtLeastOnce,
            4,
            Some(&p),
            Some(2),
        ))
        .unwrap_or_default();
        let Ok(mb::Packet::Publish(back)) = theirs(&bytes) else {
            panic!("{bytes:02x?}");
        };
        assert_eq!(
            (back.topic.as_str(), back.pkid, &back.payload),
            ("s/1", 4, &payload)
        );
        let q = back.properties.unwrap_or_else(|| panic!("no properties"));
        assert_eq!(q.topic_alias, Some(2));
        assert_eq!(q.content_type.as_deref(), Some("application/json"));
        assert_eq!(q.user_properties, p.user_properties);
        // And our own decoder reads what we wrote.
        let Ok(Incoming::Publish(m, Some(2))) = dec(&bytes) else {
            panic!("{:?}", dec(&bytes));
        };
        assert_eq!(m.properties.as_deref(), Some(&p));
        // Without properties: property length 0.
        let bytes =
            enc(&publish_out("t", &payload, QoS::AtMostOnce, 0, None, None)).unwrap_or_default();
        assert_eq!(bytes.get(..6), Some(&[0x30, 12, 0, 1, b't', 0][..]));
    }

    #[test]
    fn with_a_topic_alias_the_topic_may_be_empty_and_alias_0_is_refused() {
        let payload = Bytes::from_static(b"x");
        assert_eq!(
            enc(&publish_out(
                "",
                &payload,
                QoS::AtMostOnce,
                0,
                None,
                Some(3)
            )),
            Ok(vec![0x30, 7, 0, 0, 3, TOPIC_ALIAS, 0, 3, b'x'])
        );
        assert_eq!(
            enc(&publish_out("", &payload, QoS::AtMostOnce, 0, None, None)),
            Err(SessionError::InvalidTopic(TopicError::Empty))
        );
        assert!(matches!(
            enc(&publish_out(
                "t",
                &payload,
                QoS::AtMostOnce,
                0,
                None,
                Some(0)
            )),
            Err(SessionError::Encode(_))
        ));
        // mqttbytes writes alias 0.
        let mut p = mb::Publish::new("t", mqttbytes::QoS::AtMostOnce, "x");
        p.properties = Some(mb::PublishProperties {
            payload_format_indicator: None,
            message_expiry_interval: None,
            topic_alias: Some(0),
            response_topic: None,
            correlation_data: None,
            user_properties: Vec::new(),
            subscription_identifiers: Vec::new(),
            content_type: None,
        });
        assert!(
            p.write(&mut BytesMut::new()).is_ok(),
            "mqttbytes defect is gone"
        );
        assert_eq!(
            enc(&publish_out(
                "a/#",
                &payload,
                QoS::AtMostOnce,
                0,
                None,
                Some(1)
            )),
            Err(SessionError::InvalidTopic(TopicError::WildcardInTopicName))
        );
    }

    #[test]
    fn a_property_string_longer_than_65535_bytes_is_refused_not_truncated() {
        let long = "a".repeat(65_536);
        let mut p = mb::Publish::new("t", mqttbytes::QoS::AtMostOnce, "x");
        p.properties = Some(mb::PublishProperties {
            payload_format_indicator: None,
            message_expiry_interval: None,
            topic_alias: None,
            response_topic: None,
            correlation_data: None,
            user_properties: Vec::new(),
            subscription_identifiers: Vec::new(),
            content_type: Some(long.clone()),
        });
        let mut bytes = BytesMut::new();
        assert!(p.write(&mut bytes).is_ok(), "mqttbytes defect is gone");
        // Header 0x30 + 3 length bytes, topic (3), property length (3),
        // content type id, then its length: 65536 truncated to 0.
        assert_eq!(
            bytes.get(11..13),
            Some(&[0u8, 0][..]),
            "mqttbytes truncates"
        );

        let payload = Bytes::from_static(b"x");
        let props = PublishProperties {
            content_type: Some(long.clone()),
            ..PublishProperties::default()
        };
        let mut buf = BytesMut::from(&b"keep"[..]);
        let r = encode(
            &publish_out("t", &payload, QoS::AtMostOnce, 0, Some(&props), None),
            ProtocolVersion::V5,
            &mut buf,
        );
        assert!(matches!(r, Err(SessionError::Encode(_))), "{r:?}");
        assert_eq!(&buf[..], b"keep");
        let props = PublishProperties {
            correlation_data: Some(Bytes::from(long.clone().into_bytes())),
            ..PublishProperties::default()
        };
        assert!(matches!(
            enc(&publish_out(
                "t",
                &payload,
                QoS::AtMostOnce,
                0,
                Some(&props),
                None
            )),
            Err(SessionError::Encode(_))
        ));
        assert_eq!(
            enc(&publish_out(
                &long,
                &payload,
                QoS::AtMostOnce,
                0,
                None,
                None
            )),
            Err(SessionError::InvalidTopic(TopicError::TooLong {
                len: 65_536
            }))
        );
    }

    #[test]
    fn qos1_publish_with_packet_id_0_leaves_no_bytes_behind() {
        let mut theirs = BytesMut::new();
        let mut p = mb::Publish::new("a", mqttbytes::QoS::AtLeastOnce, "x");
        p.pkid = 0;
        assert!(p.write(&mut theirs).is_err());
        assert!(!theirs.is_empty(), "mqttbytes defect is gone");
        let payload = Bytes::from_static(b"x");
        let mut buf = BytesMut::from(&b"keep"[..]);
        let r = encode(
            &publish_out("a", &payload, QoS::AtLeastOnce, 0, None, None),
            ProtocolVersion::V5,
            &mut buf,
        );
        assert!(matches!(r, Err(SessionError::Encode(_))));
        assert_eq!(&buf[..], b"keep");
    }

    #[test]
    fn a_client_never_sends_subscription_identifiers_or_bad_property_values_in_publish() {
        let payload = Bytes::from_static(b"x");
        for p in [
            PublishProperties {
                subscription_identifiers: vec![1],
                ..PublishProperties::default()
            },
            PublishProperties {
                payload_format_indicator: Some(2),
                ..PublishProperties::default()
            },
            PublishProperties {
                response_topic: Some("r/+".into()),
                ..PublishProperties::default()
            },
            PublishProperties {
                user_properties: vec![("k\0".into(), "v".into())],
                ..PublishProperties::default()
            },
        ] {
            assert!(
                matches!(
                    enc(&publish_out(
                        "t",
                        &payload,
                        QoS::AtMostOnce,
                        0,
                        Some(&p),
                        None
                    )),
                    Err(SessionError::Encode(_))
                ),
                "{p:?}"
            );
        }
    }

    #[test]
    fn a_packet_larger_than_256_mib_is_refused_before_encoding() {
        let payload = Bytes::from(vec![0u8; MAX_REMAINING_LEN - 3]);
        let mut buf = BytesMut::new();
        // Topic (3) + property length (1) + payload = one byte too many.
        let r = encode(
            &publish_out("t", &payload, QoS::AtMostOnce, 0, None, None),
            ProtocolVersion::V5,
            &mut buf,
        );
        assert!(
            matches!(r, Err(SessionError::OutgoingTooLarge { .. })),
            "{r:?}"
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn subscribe_5_writes_each_filters_options_and_the_identifier() {
        let filters = [
            Subscription::new("a/+", QoS::AtLeastOnce),
            Subscription {
                filter: "b/#".into(),
                qos: QoS::ExactlyOnce,
                no_local: true,
                retain_as_published: true,
                retain_handling: RetainHandling::DoNotSend,
            },
            Subscription {
                filter: "$share/g/c".into(),
                qos: QoS::AtMostOnce,
                no_local: false,
                retain_as_published: false,
                retain_handling: RetainHandling::SendIfNew,
            },
        ];
        let bytes = enc(&Outgoing::Subscribe {
            pkid: 5,
            filters: &filters,
            identifier: Some(300),
        })
        .unwrap_or_default();
        let expected = [
            vec![0x82, 31, 0, 5, 3, SUBSCRIPTION_ID, 0xAC, 0x02],
            s(b"a/+"),
            vec![0b0000_0001],
            s(b"b/#"),
            vec![0b0010_1110],
            s(b"$share/g/c"),
            vec![0b0001_0000],
        ]
        .concat();
        assert_eq!(bytes, expected);
        let Ok(mb::Packet::Subscribe(back)) = theirs(&bytes) else {
            panic!("{:?}", theirs(&bytes));
        };
        assert_eq!(back.properties.and_then(|p| p.id), Some(300));
        assert_eq!(back.filters.len(), 3);
        // Without an identifier: property length 0.
        let bytes = enc(&Outgoing::Subscribe {
            pkid: 5,
            filters: &filters[..1],
            identifier: None,
        })
        .unwrap_or_default();
        assert_eq!(bytes, [vec![0x82, 9, 0, 5, 0], s(b"a/+"), vec![1]].concat());
    }

    #[test]
    fn a_subscription_identifier_of_0_or_over_the_maximum_is_refused_which_mqttbytes_writes() {
        let mut s0 = mb::Subscribe::new("t", mqttbytes::QoS::AtMostOnce);
        s0.pkid = 1;
        s0.properties = Some(mb::SubscribeProperties {
            id: Some(0),
            user_properties: Vec::new(),
        });
        assert!(
            s0.write(&mut BytesMut::new()).is_ok(),
            "mqttbytes defect is gone"
        );
        s0.properties = Some(mb::SubscribeProperties {
            id: Some(268_435_456),
            user_properties: Vec::new(),
        });
        let mut partial = BytesMut::new();
        assert!(s0.write(&mut partial).is_err());
        assert!(!partial.is_empty(), "mqttbytes defect is gone");

        let filters = [Subscription::new("t", QoS::AtMostOnce)];
        for id in [0, MAX_SUBSCRIPTION_IDENTIFIER + 1, u32::MAX] {
            let mut buf = BytesMut::from(&b"keep"[..]);
            let r = encode(
                &Outgoing::Subscribe {
                    pkid: 1,
                    filters: &filters,
                    identifier: Some(id),
                },
                ProtocolVersion::V5,
                &mut buf,
            );
            assert!(matches!(r, Err(SessionError::Encode(_))), "{id}");
            assert_eq!(&buf[..], b"keep");
        }
        assert!(enc(&Outgoing::Subscribe {
            pkid: 1,
            filters: &filters,
            identifier: Some(MAX_SUBSCRIPTION_IDENTIFIER),
        })
        .is_ok());
    }

    #[test]
    fn shared_subscriptions_are_written_and_no_local_on_one_is_refused() {
        let shared = Subscription {
            no_local: true,
            ..Subscription::new("$share/g/a/#", QoS::AtLeastOnce)
        };
        assert!(matches!(
            enc(&Outgoing::Subscribe {
                pkid: 1,
                filters: &[shared],
                identifier: None
            }),
            Err(SessionError::Encode(_))
        ));
        assert_eq!(
            enc(&Outgoing::Subscribe {
                pkid: 1,
                filters: &[Subscription::new("$share//a", QoS::AtMostOnce)],
                identifier: None
            }),
            Err(SessionError::InvalidTopic(TopicError::ShareGroupEmpty))
        );
        assert_eq!(
            enc(&Outgoing::Subscribe {
                pkid: 1,
                filters: &[],
                identifier: None
            }),
            Err(SessionError::NoFilters)
        );
        assert_eq!(
            enc(&Outgoing::Subscribe {
                pkid: 1,
                filters: &[Subscription::new("a/#/b", QoS::AtMostOnce)],
                identifier: None
            }),
            Err(SessionError::InvalidTopic(TopicError::HashNotLast))
        );
    }

    #[test]
    fn unsubscribe_acks_ping_and_disconnect_5_are_written_in_their_shortest_forms() {
        assert_eq!(
            enc(&Outgoing::Unsubscribe {
                pkid: 2,
                filters: &["a/+".into()],
            }),
            Ok([vec![0xA2, 8, 0, 2, 0], s(b"a/+")].concat())
        );
        assert_eq!(
            enc(&Outgoing::Unsubscribe {
                pkid: 2,
                filters: &[],
            }),
            Err(SessionError::NoFilters)
        );
        assert_eq!(enc(&Outgoing::PubAck(7)), Ok(vec![0x40, 2, 0, 7]));
        assert_eq!(enc(&Outgoing::PubRec(7)), Ok(vec![0x50, 2, 0, 7]));
        assert_eq!(enc(&Outgoing::PubRel(7)), Ok(vec![0x62, 2, 0, 7]));
        assert_eq!(enc(&Outgoing::PubComp(7)), Ok(vec![0x70, 2, 0, 7]));
        assert!(matches!(
            enc(&Outgoing::PubAck(0)),
            Err(SessionError::Encode(_))
        ));
        assert_eq!(enc(&Outgoing::PingReq), Ok(vec![0xC0, 0]));
        assert_eq!(enc(&Outgoing::Disconnect(0)), Ok(vec![0xE0, 0]));
        assert_eq!(enc(&Outgoing::Disconnect(0x94)), Ok(vec![0xE0, 1, 0x94]));
        assert_eq!(enc(&Outgoing::Disconnect(0x04)), Ok(vec![0xE0, 1, 0x04]));
        // Codes only a server sends.
        for code in [0x8E, 0x8B, 0x01] {
            assert!(matches!(
                enc(&Outgoing::Disconnect(code)),
                Err(SessionError::Encode(_))
            ));
        }
    }
}
