//! The hostile-broker table: byte streams a broker must never send, one or
//! more per protocol rule the session enforces, each with the typed error the
//! session must end the connection with.
//!
//! One table, used everywhere a hostile broker is needed: the session's own
//! tests, the supervisor's tests (close, reason, backoff), the fuzz corpus
//! (`fuzz-corpus/hostile-*.bin` holds exactly these bytes) and
//! `devbroker hostile --mode packet --case NAME`. Each stream is complete: it
//! is what the broker sends after the client's CONNECT, so most start with an
//! accepted CONNACK. The cases assume [`case_options`] (in particular the
//! default 1 MiB `max_incoming_packet_size` and a persistent session).
//!
//! MQTT 5 has a table of its own, [`v5_cases`] with [`case_options_v5`]
//! (case names start with `v5-`, corpus files are `hostile-v5-*.bin`): its
//! streams start with an accepted MQTT 5 CONNACK ([`CONNACK_V5_ACCEPTED`]).
//!
//! Data only: this module must not drive a session itself.

use crate::error::{ProtocolError, SessionError};
use crate::options::{Options, ProtocolVersion};
use crate::topic::TopicError;
use crate::v5::ConnectProperties;

/// CONNACK, connection accepted, no session present.
pub const CONNACK_ACCEPTED: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

/// Rule: fixed-header flags other than the ones the packet type requires.
pub const RULE_FLAGS: &str = "bad fixed-header flags";
/// Rule: a remaining length the packet type cannot have.
pub const RULE_LENGTH: &str = "wrong remaining length";
/// Rule: a packet whose body ends before its fields do.
pub const RULE_TRUNCATED: &str = "truncated packet";
/// Rule: a received topic with a wildcard, U+0000, or nothing at all.
pub const RULE_TOPIC: &str = "wildcard or U+0000 in a received topic";
/// Rule: a string that is not well-formed UTF-8.
pub const RULE_UTF8: &str = "ill-formed UTF-8";
/// Rule: PUBLISH with QoS bits 11, or DUP on QoS 0.
pub const RULE_QOS: &str = "QoS 3 (or DUP with QoS 0)";
/// Rule: packet identifier 0 where one is required.
pub const RULE_PKID_ZERO: &str = "packet id 0";
/// Rule: a packet type a client never receives, or a reserved one.
pub const RULE_UNEXPECTED: &str = "unexpected packet type";
/// Rule: an acknowledgement for a packet id that is not in flight.
pub const RULE_UNKNOWN_ID: &str = "ack for an id not in flight";
/// Rule: a packet other than PUBLISH larger than `max_incoming_packet_size`.
/// (A PUBLISH over the limit is not an error: the session reads it through
/// and reports `Event::MessageNotKept`. The head of an oversized PUBLISH is
/// still checked, so a bad topic or packet id in one is an error: see the
/// `publish-2mib-header` and `publish-1mib-plus-1` cases.)
pub const RULE_OVERSIZE: &str = "oversize packet other than PUBLISH";
/// Rule: a malformed CONNACK or SUBACK body (reserved bits, unknown codes).
pub const RULE_BAD_ACK: &str = "malformed CONNACK or SUBACK";

/// Every rule, in the order of the table.
pub const RULES: [&str; 11] = [
    RULE_FLAGS,
    RULE_LENGTH,
    RULE_TRUNCATED,
    RULE_TOPIC,
    RULE_UTF8,
    RULE_QOS,
    RULE_PKID_ZERO,
    RULE_UNEXPECTED,
    RULE_UNKNOWN_ID,
    RULE_OVERSIZE,
    RULE_BAD_ACK,
];

/// One hostile broker behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostileCase {
    /// Short unique name, usable as a file name (`[a-z0-9-]`).
    pub name: &'static str,
    /// Which rule it breaks (one of [`RULES`]).
    pub rule: &'static str,
    /// Everything the broker sends after CONNECT.
    pub bytes: Vec<u8>,
    /// How the session must end the connection.
    pub error: SessionError,
}

/// The options every case assumes: client id `hostile`, no clean session,
/// everything else default (1 MiB incoming limit, keepalive 60 s).
#[must_use]
pub fn case_options() -> Options {
    Options {
        client_id: "hostile".into(),
        clean_session: false,
        ..Options::default()
    }
}

fn after_connack(body: &[u8]) -> Vec<u8> {
    let mut v = CONNACK_ACCEPTED.to_vec();
    v.extend_from_slice(body);
    v
}

fn protocol(e: ProtocolError) -> SessionError {
    SessionError::Protocol(e)
}

fn flags(packet: &'static str, flags: u8) -> SessionError {
    protocol(ProtocolError::BadFlags { packet, flags })
}

fn length(packet: &'static str, len: usize) -> SessionError {
    protocol(ProtocolError::BadRemainingLength { packet, len })
}

fn zero(packet: &'static str) -> SessionError {
    protocol(ProtocolError::PacketIdZero { packet })
}

fn unknown(packet: &'static str, pkid: u16) -> SessionError {
    protocol(ProtocolError::UnknownPacketId { packet, pkid })
}

fn unexpected(packet: &'static str) -> SessionError {
    protocol(ProtocolError::UnexpectedPacket { packet })
}

fn malformed(packet: &'static str, detail: &str) -> SessionError {
    protocol(ProtocolError::Malformed {
        packet,
        detail: detail.into(),
    })
}

const PAST_THE_END: &str = "a length field runs past the end of the packet";
const ENDS_EARLY: &str = "the packet ends too early";

/// The whole table.
#[must_use]
pub fn cases() -> Vec<HostileCase> {
    let case = |name, rule, body: &[u8], error| HostileCase {
        name,
        rule,
        bytes: after_connack(body),
        error,
    };
    vec![
        // ----- bad fixed-header flags -----
        case(
            "puback-flags",
            RULE_FLAGS,
            &[0x41, 2, 0, 1],
            flags("PUBACK", 1),
        ),
        case(
            "pubrec-flags",
            RULE_FLAGS,
            &[0x58, 2, 0, 1],
            flags("PUBREC", 8),
        ),
        case(
            "pubrel-flags-0000",
            RULE_FLAGS,
            &[0x60, 2, 0, 1],
            flags("PUBREL", 0),
        ),
        case(
            "pubcomp-flags",
            RULE_FLAGS,
            &[0x74, 2, 0, 1],
            flags("PUBCOMP", 4),
        ),
        case(
            "suback-flags",
            RULE_FLAGS,
            &[0x92, 3, 0, 1, 0],
            flags("SUBACK", 2),
        ),
        case(
            "unsuback-flags",
            RULE_FLAGS,
            &[0xB4, 2, 0, 1],
            flags("UNSUBACK", 4),
        ),
        case(
            "pingresp-flags",
            RULE_FLAGS,
            &[0xD1, 0],
            flags("PINGRESP", 1),
        ),
        case(
            "connack-flags",
            RULE_FLAGS,
            &[0x21, 2, 0, 0],
            flags("CONNACK", 1),
        ),
        // ----- wrong remaining length -----
        case(
            "pingresp-body",
            RULE_LENGTH,
            &[0xD0, 1, 0],
            length("PINGRESP", 1),
        ),
        case(
            "puback-length-3",
            RULE_LENGTH,
            &[0x40, 3, 0, 1, 0],
            length("PUBACK", 3),
        ),
        case(
            "pubrel-length-1",
            RULE_LENGTH,
            &[0x62, 1, 0],
            length("PUBREL", 1),
        ),
        case(
            "unsuback-length-4",
            RULE_LENGTH,
            &[0xB0, 4, 0, 1, 0, 0],
            length("UNSUBACK", 4),
        ),
        case(
            "suback-length-2",
            RULE_LENGTH,
            &[0x90, 2, 0, 1],
            length("SUBACK", 2),
        ),
        case(
            "connack-length-3",
            RULE_LENGTH,
            &[0x20, 3, 0, 0, 0],
            length("CONNACK", 3),
        ),
        case(
            "remaining-length-5-bytes",
            RULE_LENGTH,
            &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            protocol(ProtocolError::MalformedRemainingLength),
        ),
        // ----- truncated packets -----
        case(
            "publish-topic-past-end",
            RULE_TRUNCATED,
            &[0x30, 4, 0, 9, b'a', b'b'],
            malformed("PUBLISH", PAST_THE_END),
        ),
        case(
            "publish-qos1-no-packet-id",
            RULE_TRUNCATED,
            &[0x32, 4, 0, 1, b't', 0],
            length("PUBLISH", 4),
        ),
        case(
            "publish-qos1-half-packet-id",
            RULE_TRUNCATED,
            &[0x32, 5, 0, 2, b't', b'u', 0],
            malformed("PUBLISH", ENDS_EARLY),
        ),
        case(
            "publish-topic-length-only",
            RULE_TRUNCATED,
            &[0x30, 2, 0, 1],
            length("PUBLISH", 2),
        ),
        // ----- received topics -----
        case(
            "topic-plus",
            RULE_TOPIC,
            &[0x30, 6, 0, 3, b'a', b'/', b'+', b'x'],
            protocol(ProtocolError::InvalidTopic(TopicError::WildcardInTopicName)),
        ),
        case(
            "topic-hash",
            RULE_TOPIC,
            &[0x30, 4, 0, 1, b'#', b'x'],
            protocol(ProtocolError::InvalidTopic(TopicError::WildcardInTopicName)),
        ),
        case(
            "topic-nul",
            RULE_TOPIC,
            &[0x30, 5, 0, 2, b'a', 0, b'x'],
            protocol(ProtocolError::InvalidTopic(TopicError::ContainsNul)),
        ),
        case(
            "topic-empty",
            RULE_TOPIC,
            &[0x30, 3, 0, 0, b'x'],
            protocol(ProtocolError::InvalidTopic(TopicError::Empty)),
        ),
        // ----- ill-formed UTF-8 -----
        case(
            "utf8-ff-fe",
            RULE_UTF8,
            &[0x30, 5, 0, 2, 0xFF, 0xFE, b'x'],
            protocol(ProtocolError::InvalidUtf8 { packet: "PUBLISH" }),
        ),
        case(
            "utf8-overlong-slash",
            RULE_UTF8,
            &[0x30, 5, 0, 2, 0xC0, 0xAF, b'x'],
            protocol(ProtocolError::InvalidUtf8 { packet: "PUBLISH" }),
        ),
        case(
            "utf8-surrogate",
            RULE_UTF8,
            &[0x30, 6, 0, 3, 0xED, 0xA0, 0x80, b'x'],
            protocol(ProtocolError::InvalidUtf8 { packet: "PUBLISH" }),
        ),
        case(
            "utf8-cut-sequence",
            RULE_UTF8,
            &[0x30, 5, 0, 2, b'a', 0xE2, b'x'],
            protocol(ProtocolError::InvalidUtf8 { packet: "PUBLISH" }),
        ),
        // ----- QoS -----
        case(
            "publish-qos3",
            RULE_QOS,
            &[0x36, 6, 0, 1, b't', 0, 1, b'x'],
            protocol(ProtocolError::InvalidQoS(3)),
        ),
        case(
            "publish-qos3-dup-retain",
            RULE_QOS,
            &[0x3F, 6, 0, 1, b't', 0, 1, b'x'],
            protocol(ProtocolError::InvalidQoS(3)),
        ),
        case(
            "publish-qos0-dup",
            RULE_QOS,
            &[0x38, 4, 0, 1, b't', b'x'],
            protocol(ProtocolError::DupWithQoS0),
        ),
        // ----- packet id 0 -----
        case(
            "publish-qos1-pkid0",
            RULE_PKID_ZERO,
            &[0x32, 6, 0, 1, b't', 0, 0, b'x'],
            zero("PUBLISH"),
        ),
        case(
            "publish-qos2-pkid0",
            RULE_PKID_ZERO,
            &[0x34, 6, 0, 1, b't', 0, 0, b'x'],
            zero("PUBLISH"),
        ),
        case(
            "puback-pkid0",
            RULE_PKID_ZERO,
            &[0x40, 2, 0, 0],
            zero("PUBACK"),
        ),
        case(
            "pubrec-pkid0",
            RULE_PKID_ZERO,
            &[0x50, 2, 0, 0],
            zero("PUBREC"),
        ),
        case(
            "pubrel-pkid0",
            RULE_PKID_ZERO,
            &[0x62, 2, 0, 0],
            zero("PUBREL"),
        ),
        case(
            "pubcomp-pkid0",
            RULE_PKID_ZERO,
            &[0x70, 2, 0, 0],
            zero("PUBCOMP"),
        ),
        case(
            "suback-pkid0",
            RULE_PKID_ZERO,
            &[0x90, 3, 0, 0, 0],
            zero("SUBACK"),
        ),
        case(
            "unsuback-pkid0",
            RULE_PKID_ZERO,
            &[0xB0, 2, 0, 0],
            zero("UNSUBACK"),
        ),
        // ----- unexpected packet types -----
        case(
            "connect",
            RULE_UNEXPECTED,
            &[0x10, 4, 0, 1, b't', 0],
            unexpected("CONNECT"),
        ),
        case(
            "subscribe",
            RULE_UNEXPECTED,
            &[0x82, 4, 0, 1, b't', 0],
            unexpected("SUBSCRIBE"),
        ),
        case(
            "unsubscribe",
            RULE_UNEXPECTED,
            &[0xA2, 4, 0, 1, b't', 0],
            unexpected("UNSUBSCRIBE"),
        ),
        case(
            "pingreq",
            RULE_UNEXPECTED,
            &[0xC0, 0],
            unexpected("PINGREQ"),
        ),
        case(
            "disconnect",
            RULE_UNEXPECTED,
            &[0xE0, 0],
            unexpected("DISCONNECT"),
        ),
        case(
            "reserved-type-0",
            RULE_UNEXPECTED,
            &[0x00, 0],
            protocol(ProtocolError::ReservedPacketType(0)),
        ),
        case(
            "reserved-type-15",
            RULE_UNEXPECTED,
            &[0xF0, 0],
            protocol(ProtocolError::ReservedPacketType(15)),
        ),
        case(
            "second-connack",
            RULE_UNEXPECTED,
            &CONNACK_ACCEPTED,
            protocol(ProtocolError::DuplicateConnack),
        ),
        HostileCase {
            name: "publish-before-connack",
            rule: RULE_UNEXPECTED,
            bytes: vec![0x30, 3, 0, 1, b't'],
            error: protocol(ProtocolError::PacketBeforeConnack { packet: "PUBLISH" }),
        },
        // ----- acks for ids not in flight -----
        case(
            "puback-unknown",
            RULE_UNKNOWN_ID,
            &[0x40, 2, 0, 7],
            unknown("PUBACK", 7),
        ),
        case(
            "pubrec-unknown",
            RULE_UNKNOWN_ID,
            &[0x50, 2, 0, 7],
            unknown("PUBREC", 7),
        ),
        case(
            "pubcomp-unknown",
            RULE_UNKNOWN_ID,
            &[0x70, 2, 0, 7],
            unknown("PUBCOMP", 7),
        ),
        case(
            "suback-unknown",
            RULE_UNKNOWN_ID,
            &[0x90, 3, 0, 7, 0],
            unknown("SUBACK", 7),
        ),
        case(
            "unsuback-unknown",
            RULE_UNKNOWN_ID,
            &[0xB0, 2, 0xFF, 0xFF],
            unknown("UNSUBACK", 65_535),
        ),
        // ----- oversize -----
        // A PUBLISH over the limit is read through, not refused; only the
        // head it must still get right (topic, packet id) can make it an
        // error, as soon as that head is in, before any payload.
        case(
            "publish-2mib-header",
            RULE_TOPIC,
            // The header of a 2 MiB PUBLISH (remaining length 2_097_152 in
            // four bytes), then its topic `a/+`.
            &[0x30, 0x80, 0x80, 0x80, 0x01, 0, 3, b'a', b'/', b'+'],
            protocol(ProtocolError::InvalidTopic(TopicError::WildcardInTopicName)),
        ),
        case(
            "publish-1mib-plus-1",
            RULE_PKID_ZERO,
            // A QoS 1 PUBLISH of 1 + 3 + 1_048_573 = 1_048_577 bytes, one
            // over the limit, with topic `t` and packet id 0.
            &[0x32, 0xFD, 0xFF, 0x3F, 0, 1, b't', 0, 0],
            zero("PUBLISH"),
        ),
        case(
            "suback-2mib-header",
            RULE_OVERSIZE,
            // The header of a 2 MiB SUBACK: refused from the header alone.
            &[0x90, 0x80, 0x80, 0x80, 0x01],
            SessionError::PacketTooLarge {
                size: 2_097_157,
                max: 1_048_576,
            },
        ),
        case(
            "suback-1mib-plus-1",
            RULE_OVERSIZE,
            // Remaining length 1_048_573 in three bytes: 1 + 3 + 1_048_573
            // = 1_048_577 bytes, one over the limit.
            &[0x90, 0xFD, 0xFF, 0x3F],
            SessionError::PacketTooLarge {
                size: 1_048_577,
                max: 1_048_576,
            },
        ),
        // ----- malformed acks -----
        HostileCase {
            name: "connack-reserved-bits",
            rule: RULE_BAD_ACK,
            bytes: vec![0x20, 2, 0x02, 0],
            error: protocol(ProtocolError::ConnackReservedBits(2)),
        },
        HostileCase {
            name: "connack-code-6",
            rule: RULE_BAD_ACK,
            bytes: vec![0x20, 2, 0, 6],
            error: protocol(ProtocolError::InvalidConnackCode(6)),
        },
        case(
            "suback-code-3",
            RULE_BAD_ACK,
            &[0x90, 3, 0, 1, 3],
            protocol(ProtocolError::InvalidSubAckCode(3)),
        ),
    ]
}

/// The case with this name.
#[must_use]
pub fn case(name: &str) -> Option<HostileCase> {
    cases().into_iter().find(|c| c.name == name)
}

// ----- MQTT 5 -----

/// MQTT 5 CONNACK: connection accepted, no session present, no properties.
pub const CONNACK_V5_ACCEPTED: [u8; 5] = [0x20, 0x03, 0x00, 0x00, 0x00];

/// Rule (MQTT 5): a property identifier that does not exist.
pub const RULE_V5_PROPERTY_ID: &str = "MQTT 5: unknown property identifier";
/// Rule (MQTT 5): a property that may appear once appears twice.
pub const RULE_V5_DUPLICATE: &str = "MQTT 5: duplicate property";
/// Rule (MQTT 5): a property the packet cannot carry.
pub const RULE_V5_NOT_ALLOWED: &str = "MQTT 5: property not allowed in that packet";
/// Rule (MQTT 5): a property value the spec forbids (a receive maximum of
/// 0, maximum QoS 2, payload format 2, subscription identifier 0…).
pub const RULE_V5_VALUE: &str = "MQTT 5: property value out of range";
/// Rule (MQTT 5): a property running past the property length, or a
/// property length past the packet.
pub const RULE_V5_PROPERTY_LENGTH: &str = "MQTT 5: property past the property length";
/// Rule (MQTT 5): topic alias 0, above our Topic Alias Maximum, or used
/// before the broker said which topic it stands for.
pub const RULE_V5_ALIAS: &str = "MQTT 5: invalid or unknown topic alias";
/// Rule (MQTT 5): more QoS 2 messages awaiting PUBREL than our Receive
/// Maximum.
pub const RULE_V5_RECEIVE_MAXIMUM: &str = "MQTT 5: receive maximum exceeded";
/// Rule (MQTT 5): a reason code the packet cannot carry.
pub const RULE_V5_REASON_CODE: &str = "MQTT 5: invalid reason code";

/// Every rule of the MQTT 5 table, in its order (the MQTT 5 rules and the
/// general ones its cases also break).
pub const V5_RULES: [&str; 13] = [
    RULE_V5_PROPERTY_ID,
    RULE_V5_DUPLICATE,
    RULE_V5_NOT_ALLOWED,
    RULE_V5_VALUE,
    RULE_V5_PROPERTY_LENGTH,
    RULE_V5_ALIAS,
    RULE_V5_RECEIVE_MAXIMUM,
    RULE_UTF8,
    RULE_V5_REASON_CODE,
    RULE_UNEXPECTED,
    RULE_PKID_ZERO,
    RULE_OVERSIZE,
    RULE_BAD_ACK,
];

/// The options every MQTT 5 case assumes: client id `hostile-v5`, no clean
/// start, a session expiry of an hour, topic alias maximum 10, receive
/// maximum 5, everything else default (1 MiB incoming limit, sent as
/// Maximum Packet Size).
#[must_use]
pub fn case_options_v5() -> Options {
    Options {
        client_id: "hostile-v5".into(),
        clean_session: false,
        protocol: ProtocolVersion::V5,
        v5: ConnectProperties {
            session_expiry_secs: 3600,
            topic_alias_maximum: 10,
            receive_maximum: 5,
            ..ConnectProperties::default()
        },
        ..Options::default()
    }
}

fn after_connack_v5(body: &[u8]) -> Vec<u8> {
    let mut v = CONNACK_V5_ACCEPTED.to_vec();
    v.extend_from_slice(body);
    v
}

/// A packet: first byte, remaining length (one byte: these are small),
/// body.
fn packet(byte1: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![byte1, body.len() as u8];
    v.extend_from_slice(body);
    v
}

/// A property section: length (one byte), properties.
fn props(parts: &[&[u8]]) -> Vec<u8> {
    let body = parts.concat();
    let mut v = vec![body.len() as u8];
    v.extend(body);
    v
}

/// A PUBLISH to `topic` with these flags, packet id, properties, payload.
fn publish_v5(flags: u8, topic: &[u8], pkid: Option<u16>, p: &[&[u8]], payload: &[u8]) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(topic);
    if let Some(id) = pkid {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.extend(props(p));
    body.extend_from_slice(payload);
    packet(0x30 | flags, &body)
}

fn invalid_property(packet: &'static str, id: u8) -> SessionError {
    protocol(ProtocolError::InvalidProperty { packet, id })
}

fn duplicate(packet: &'static str, id: u8) -> SessionError {
    protocol(ProtocolError::DuplicateProperty { packet, id })
}

fn bad_value(packet: &'static str, detail: &str) -> SessionError {
    protocol(ProtocolError::InvalidPropertyValue {
        packet,
        detail: detail.into(),
    })
}

fn bad_code(packet: &'static str, code: u8) -> SessionError {
    protocol(ProtocolError::InvalidReasonCode { packet, code })
}

fn utf8(packet: &'static str) -> SessionError {
    protocol(ProtocolError::InvalidUtf8 { packet })
}

/// A user property whose name and value are these bytes.
fn user_property(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut v = vec![0x26];
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

const PROPERTY_PAST_LENGTH: &str = "a property runs past the property length";
const PROPERTIES_PAST_THE_END: &str = "the property length runs past the end of the packet";
const TRAILING: &str = "bytes follow the last field of the packet";
const PRESENT_ON_REFUSAL: &str = "session present is set on a refusal";

/// The MQTT 5 table (with [`case_options_v5`]).
#[must_use]
pub fn v5_cases() -> Vec<HostileCase> {
    let case = |name, rule, body: &[u8], error| HostileCase {
        name,
        rule,
        bytes: after_connack_v5(body),
        error,
    };
    // A QoS 2 PUBLISH to `t` with packet id `id`, no properties, no payload.
    let qos2 = |id: u8| publish_v5(0b0100, b"t", Some(u16::from(id)), &[], b"");
    let reason = |r: &[u8]| {
        let mut v = vec![0x1F];
        v.extend_from_slice(&(r.len() as u16).to_be_bytes());
        v.extend_from_slice(r);
        v
    };
    vec![
        // ----- unknown property identifiers -----
        case(
            "v5-publish-property-0",
            RULE_V5_PROPERTY_ID,
            &publish_v5(0, b"t", None, &[&[0x00, 0x00]], b"x"),
            invalid_property("PUBLISH", 0),
        ),
        case(
            "v5-publish-property-0x04",
            RULE_V5_PROPERTY_ID,
            &publish_v5(0, b"t", None, &[&[0x04, 0x00]], b"x"),
            invalid_property("PUBLISH", 4),
        ),
        HostileCase {
            name: "v5-connack-property-0x2b",
            rule: RULE_V5_PROPERTY_ID,
            bytes: packet(0x20, &[&[0, 0][..], &props(&[&[0x2B, 0x00]])].concat()),
            error: invalid_property("CONNACK", 0x2B),
        },
        case(
            "v5-puback-property-0x80",
            RULE_V5_PROPERTY_ID,
            &packet(0x40, &[&[0, 1, 0][..], &props(&[&[0x80, 0x01]])].concat()),
            invalid_property("PUBACK", 0x80),
        ),
        // ----- duplicate properties -----
        case(
            "v5-publish-payload-format-twice",
            RULE_V5_DUPLICATE,
            &publish_v5(0, b"t", None, &[&[0x01, 1], &[0x01, 1]], b"x"),
            duplicate("PUBLISH", 0x01),
        ),
        case(
            "v5-publish-topic-alias-twice",
            RULE_V5_DUPLICATE,
            &publish_v5(0, b"t", None, &[&[0x23, 0, 1], &[0x23, 0, 2]], b"x"),
            duplicate("PUBLISH", 0x23),
        ),
        HostileCase {
            name: "v5-connack-receive-maximum-twice",
            rule: RULE_V5_DUPLICATE,
            bytes: packet(
                0x20,
                &[&[0, 0][..], &props(&[&[0x21, 0, 5], &[0x21, 0, 5]])].concat(),
            ),
            error: duplicate("CONNACK", 0x21),
        },
        case(
            "v5-puback-reason-string-twice",
            RULE_V5_DUPLICATE,
            &packet(
                0x40,
                &[&[0, 1, 0x10][..], &props(&[&reason(b"a"), &reason(b"b")])].concat(),
            ),
            duplicate("PUBACK", 0x1F),
        ),
        // ----- properties not allowed in that packet -----
        case(
            "v5-publish-receive-maximum",
            RULE_V5_NOT_ALLOWED,
            &publish_v5(0, b"t", None, &[&[0x21, 0, 1]], b"x"),
            invalid_property("PUBLISH", 0x21),
        ),
        case(
            "v5-publish-reason-string",
            RULE_V5_NOT_ALLOWED,
            &publish_v5(0, b"t", None, &[&reason(b"r")], b"x"),
            invalid_property("PUBLISH", 0x1F),
        ),
        HostileCase {
            name: "v5-connack-topic-alias",
            rule: RULE_V5_NOT_ALLOWED,
            bytes: packet(0x20, &[&[0, 0][..], &props(&[&[0x23, 0, 1]])].concat()),
            error: invalid_property("CONNACK", 0x23),
        },
        HostileCase {
            // We never send an Authentication Method.
            name: "v5-connack-authentication-method",
            rule: RULE_V5_NOT_ALLOWED,
            bytes: packet(
                0x20,
                &[&[0, 0][..], &props(&[&[0x15, 0, 5], b"SCRAM"])].concat(),
            ),
            error: invalid_property("CONNACK", 0x15),
        },
        case(
            "v5-suback-content-type",
            RULE_V5_NOT_ALLOWED,
            &packet(
                0x90,
                &[&[0, 1][..], &props(&[&[0x03, 0, 1, b'a']]), &[0]].concat(),
            ),
            invalid_property("SUBACK", 0x03),
        ),
        case(
            // Session Expiry Interval in DISCONNECT is the client's alone.
            "v5-disconnect-session-expiry",
            RULE_V5_NOT_ALLOWED,
            &packet(
                0xE0,
                &[&[0x8B][..], &props(&[&[0x11, 0, 0, 0, 1]])].concat(),
            ),
            invalid_property("DISCONNECT", 0x11),
        ),
        // ----- property values -----
        HostileCase {
            name: "v5-connack-receive-maximum-0",
            rule: RULE_V5_VALUE,
            bytes: packet(0x20, &[&[0, 0][..], &props(&[&[0x21, 0, 0]])].concat()),
            error: bad_value("CONNACK", "a receive maximum of 0"),
        },
        HostileCase {
            name: "v5-connack-maximum-qos-2",
            rule: RULE_V5_VALUE,
            bytes: packet(0x20, &[&[0, 0][..], &props(&[&[0x24, 2]])].concat()),
            error: bad_value("CONNACK", "maximum QoS 2 (only 0 and 1 exist)"),
        },
        HostileCase {
            name: "v5-connack-maximum-packet-size-0",
            rule: RULE_V5_VALUE,
            bytes: packet(
                0x20,
                &[&[0, 0][..], &props(&[&[0x27, 0, 0, 0, 0]])].concat(),
            ),
            error: bad_value("CONNACK", "a maximum packet size of 0"),
        },
        case(
            "v5-publish-payload-format-2",
            RULE_V5_VALUE,
            &publish_v5(0, b"t", None, &[&[0x01, 2]], b"x"),
            bad_value("PUBLISH", "payload format indicator 2 (only 0 and 1 exist)"),
        ),
        case(
            "v5-publish-subscription-identifier-0",
            RULE_V5_VALUE,
            &publish_v5(0, b"t", None, &[&[0x0B, 0]], b"x"),
            bad_value("PUBLISH", "subscription identifier 0"),
        ),
        // ----- property lengths -----
        case(
            "v5-publish-property-past-length",
            RULE_V5_PROPERTY_LENGTH,
            // Property length 1, then a Message Expiry Interval (5 bytes).
            &packet(0x30, &[0, 1, b't', 1, 0x02, 0, 0, 0, 9, b'x']),
            malformed("PUBLISH", PROPERTY_PAST_LENGTH),
        ),
        case(
            "v5-publish-properties-past-end",
            RULE_V5_PROPERTY_LENGTH,
            &packet(0x30, &[0, 1, b't', 9, 0x01, 1]),
            malformed("PUBLISH", PROPERTIES_PAST_THE_END),
        ),
        case(
            "v5-puback-bytes-after-properties",
            RULE_V5_PROPERTY_LENGTH,
            &[0x40, 5, 0, 1, 0, 0, 0x11],
            malformed("PUBACK", TRAILING),
        ),
        // ----- topic aliases (the session's rules) -----
        case(
            "v5-topic-alias-0",
            RULE_V5_ALIAS,
            &publish_v5(0, b"t", None, &[&[0x23, 0, 0]], b"x"),
            protocol(ProtocolError::TopicAliasInvalid { alias: 0, max: 10 }),
        ),
        case(
            "v5-topic-alias-11",
            RULE_V5_ALIAS,
            &publish_v5(0, b"t", None, &[&[0x23, 0, 11]], b"x"),
            protocol(ProtocolError::TopicAliasInvalid { alias: 11, max: 10 }),
        ),
        case(
            "v5-topic-alias-never-set",
            RULE_V5_ALIAS,
            &publish_v5(0, b"", None, &[&[0x23, 0, 3]], b"x"),
            protocol(ProtocolError::UnknownTopicAlias(3)),
        ),
        // ----- receive maximum (the session's rule) -----
        case(
            "v5-receive-maximum-exceeded",
            RULE_V5_RECEIVE_MAXIMUM,
            // Six QoS 2 messages, none released, with receive maximum 5.
            &[qos2(1), qos2(2), qos2(3), qos2(4), qos2(5), qos2(6)].concat(),
            protocol(ProtocolError::ReceiveMaximumExceeded { max: 5 }),
        ),
        // ----- ill-formed UTF-8 in strings and string pairs -----
        case(
            "v5-user-property-name-ill-formed",
            RULE_UTF8,
            &publish_v5(0, b"t", None, &[&user_property(&[0xC3, 0x28], b"v")], b"x"),
            utf8("PUBLISH"),
        ),
        case(
            "v5-user-property-value-surrogate",
            RULE_UTF8,
            &publish_v5(
                0,
                b"t",
                None,
                &[&user_property(b"k", &[0xED, 0xA0, 0x80])],
                b"x",
            ),
            utf8("PUBLISH"),
        ),
        case(
            "v5-user-property-value-nul",
            RULE_UTF8,
            &packet(
                0x50,
                &[&[0, 1, 0x10][..], &props(&[&user_property(b"k", b"a\0")])].concat(),
            ),
            utf8("PUBREC"),
        ),
        case(
            "v5-reason-string-overlong",
            RULE_UTF8,
            &packet(
                0xE0,
                &[&[0x8B][..], &props(&[&reason(&[0xC0, 0xAF])])].concat(),
            ),
            utf8("DISCONNECT"),
        ),
        // ----- reason codes -----
        HostileCase {
            name: "v5-connack-code-1",
            rule: RULE_V5_REASON_CODE,
            bytes: vec![0x20, 3, 0, 0x01, 0],
            error: bad_code("CONNACK", 0x01),
        },
        case(
            "v5-puback-code-1",
            RULE_V5_REASON_CODE,
            &[0x40, 3, 0, 1, 0x01],
            bad_code("PUBACK", 0x01),
        ),
        case(
            "v5-pubrel-code-0x10",
            RULE_V5_REASON_CODE,
            &[0x62, 3, 0, 1, 0x10],
            bad_code("PUBREL", 0x10),
        ),
        case(
            "v5-suback-code-3",
            RULE_V5_REASON_CODE,
            &[0x90, 4, 0, 1, 0, 0x03],
            bad_code("SUBACK", 0x03),
        ),
        case(
            "v5-unsuback-code-2",
            RULE_V5_REASON_CODE,
            &[0xB0, 4, 0, 1, 0, 0x02],
            bad_code("UNSUBACK", 0x02),
        ),
        case(
            // 0x04 (disconnect with Will) is a client's code.
            "v5-disconnect-code-4",
            RULE_V5_REASON_CODE,
            &[0xE0, 1, 0x04],
            bad_code("DISCONNECT", 0x04),
        ),
        // ----- AUTH: we never send an Authentication Method -----
        case("v5-auth", RULE_UNEXPECTED, &[0xF0, 0], unexpected("AUTH")),
        case(
            "v5-auth-continue",
            RULE_UNEXPECTED,
            &[0xF0, 2, 0x18, 0],
            unexpected("AUTH"),
        ),
        // ----- oversize: MQTT 5 told the broker our maximum -----
        case(
            "v5-publish-1mib-plus-1",
            RULE_PKID_ZERO,
            // A QoS 1 PUBLISH of 1 + 3 + 1_048_573 = 1_048_577 bytes, one
            // over the Maximum Packet Size we sent, with topic `t` and packet
            // id 0. Read through like 3.1.1's (mosquitto 2.0 sends one byte
            // over), so its head is still checked.
            &[0x32, 0xFD, 0xFF, 0x3F, 0, 1, b't', 0, 0],
            zero("PUBLISH"),
        ),
        case(
            "v5-suback-1mib-plus-1",
            RULE_OVERSIZE,
            // Any other packet over the Maximum Packet Size we sent is
            // refused from its header.
            &[0x90, 0xFD, 0xFF, 0x3F],
            SessionError::PacketTooLarge {
                size: 1_048_577,
                max: 1_048_576,
            },
        ),
        // ----- malformed CONNACK -----
        HostileCase {
            name: "v5-connack-reserved-bits",
            rule: RULE_BAD_ACK,
            bytes: vec![0x20, 3, 0x02, 0, 0],
            error: protocol(ProtocolError::ConnackReservedBits(2)),
        },
        HostileCase {
            name: "v5-connack-session-present-refused",
            rule: RULE_BAD_ACK,
            bytes: vec![0x20, 3, 0x01, 0x87, 0],
            error: malformed("CONNACK", PRESENT_ON_REFUSAL),
        },
        HostileCase {
            // A 3.1.1 CONNACK accepting a level 5 CONNECT.
            name: "v5-connack-without-property-length",
            rule: RULE_BAD_ACK,
            bytes: vec![0x20, 2, 0, 0],
            error: length("CONNACK", 2),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v5_table_covers_every_v5_rule_with_unique_file_names() {
        let cases = v5_cases();
        for rule in V5_RULES {
            assert!(
                cases.iter().any(|c| c.rule == rule),
                "no MQTT 5 case for {rule:?}"
            );
        }
        let all: Vec<HostileCase> = cases.iter().cloned().chain(super::cases()).collect();
        for c in &cases {
            assert!(V5_RULES.contains(&c.rule), "{}", c.name);
            assert!(c.name.starts_with("v5-"), "{}", c.name);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.name
            );
            assert_eq!(
                all.iter().filter(|d| d.name == c.name).count(),
                1,
                "{}",
                c.name
            );
            assert!(!c.error.to_string().contains('{'), "{}", c.name);
        }
        // Every case but the CONNACK ones starts with an accepted CONNACK.
        for c in &cases {
            assert!(
                c.bytes.starts_with(&CONNACK_V5_ACCEPTED) || c.name.starts_with("v5-connack-"),
                "{}",
                c.name
            );
        }
        assert!(super::cases().iter().all(|c| !c.name.starts_with("v5-")));
        assert!(cases.len() >= 40, "{}", cases.len());
    }

    #[test]
    fn every_v5_case_the_codec_decides_ends_in_its_error_from_the_decoder_alone() {
        use crate::codec::Decoder;
        let o = case_options_v5();
        for c in v5_cases() {
            // The session's own rules (aliases, receive maximum) are beyond
            // the decoder.
            if matches!(c.rule, RULE_V5_ALIAS | RULE_V5_RECEIVE_MAXIMUM) {
                continue;
            }
            let mut d = Decoder::new(o.max_incoming_packet_size, ProtocolVersion::V5);
            let mut input = &c.bytes[..];
            let mut got = Ok(None);
            for _ in 0..8 {
                got = d.next_packet(&mut input);
                if !matches!(got, Ok(Some(_))) {
                    break;
                }
            }
            assert_eq!(got.err(), Some(c.error.clone()), "{}", c.name);
        }
    }
}
