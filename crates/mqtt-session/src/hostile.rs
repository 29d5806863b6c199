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
//! Data only: this module must not drive a session itself.

use crate::error::{ProtocolError, SessionError};
use crate::options::Options;
use crate::topic::TopicError;

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
