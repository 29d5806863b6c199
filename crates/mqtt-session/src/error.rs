//! The typed errors of the session core, each with a `Display` written as a
//! plain sentence a user can read in the page.
//!
//! Errors only describe; they must not carry behaviour, IO handles or
//! anything that is not `Clone + Eq` (events that hold them are compared in
//! tests and copied into the UI).

use core::fmt;

use crate::topic::TopicError;

/// Options that cannot be used to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// MQTT 3.1.1: an empty client id needs `clean_session`.
    EmptyClientIdNeedsCleanSession,
    /// MQTT 3.1 has no broker-assigned client ids.
    EmptyClientIdNotAllowedInV3_1,
    /// MQTT 3.1 allows at most 23 bytes of client id.
    ClientIdTooLongForV3_1 {
        /// Length in bytes.
        len: usize,
    },
    /// A string field is longer than MQTT can encode (65535 bytes).
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A string field contains U+0000, which MQTT strings must not.
    ContainsNul {
        /// Which field.
        field: &'static str,
    },
    /// MQTT allows a password only together with a user name.
    PasswordWithoutUsername,
    /// The Last Will topic is not a valid topic name.
    InvalidWillTopic(TopicError),
    /// `max_incoming_packet_size` is below the smallest useful packet.
    MaxPacketSizeTooSmall {
        /// The configured size.
        size: usize,
        /// The smallest accepted size.
        min: usize,
    },
    /// `response_timeout_ms` is 0.
    ZeroResponseTimeout,
    /// Options can only be replaced while disconnected.
    NotDisconnected,
    /// MQTT 5: a receive maximum of 0.
    ZeroReceiveMaximum,
    /// MQTT 5: `max_incoming_packet_size` does not fit Maximum Packet Size
    /// (4 bytes).
    MaxPacketSizeTooLarge {
        /// The configured size.
        size: usize,
    },
    /// MQTT 5: a property we were asked to send is not valid.
    InvalidProperty {
        /// Where (e.g. "Will", "PUBLISH").
        what: &'static str,
        /// What is wrong, as a sentence.
        detail: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::EmptyClientIdNeedsCleanSession => {
                f.write_str("an empty client id is only allowed with a clean session")
            }
            ConfigError::EmptyClientIdNotAllowedInV3_1 => {
                f.write_str("MQTT 3.1 needs a client id (1 to 23 bytes)")
            }
            ConfigError::ClientIdTooLongForV3_1 { len } => write!(
                f,
                "MQTT 3.1 allows a client id of at most 23 bytes, this one has {len}"
            ),
            ConfigError::TooLong { field, len } => {
                write!(f, "the {field} is longer than 65535 bytes ({len} bytes)")
            }
            ConfigError::ContainsNul { field } => write!(f, "the {field} contains U+0000"),
            ConfigError::PasswordWithoutUsername => {
                f.write_str("a password can only be sent together with a user name")
            }
            ConfigError::InvalidWillTopic(e) => write!(f, "Last Will topic: {e}"),
            ConfigError::MaxPacketSizeTooSmall { size, min } => write!(
                f,
                "the maximum incoming packet size ({size} bytes) is below {min} bytes"
            ),
            ConfigError::ZeroResponseTimeout => {
                f.write_str("the response timeout must be more than 0 ms")
            }
            ConfigError::NotDisconnected => {
                f.write_str("options can only be changed while disconnected")
            }
            ConfigError::ZeroReceiveMaximum => {
                f.write_str("the receive maximum must be between 1 and 65535")
            }
            ConfigError::MaxPacketSizeTooLarge { size } => write!(
                f,
                "the maximum incoming packet size ({size} bytes) is over MQTT 5's 4294967295"
            ),
            ConfigError::InvalidProperty { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The broker broke the MQTT protocol. The connection cannot continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// Packet type 0 or 15.
    ReservedPacketType(u8),
    /// A packet a broker never sends to a client (CONNECT, SUBSCRIBE, …).
    UnexpectedPacket {
        /// Packet name.
        packet: &'static str,
    },
    /// The low four bits of the first byte are not what the packet type requires.
    BadFlags {
        /// Packet name.
        packet: &'static str,
        /// The flags received.
        flags: u8,
    },
    /// The remaining length does not fit the packet type.
    BadRemainingLength {
        /// Packet name.
        packet: &'static str,
        /// The remaining length received.
        len: usize,
    },
    /// The remaining length field runs past four bytes.
    MalformedRemainingLength,
    /// The packet body does not parse.
    Malformed {
        /// Packet name.
        packet: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// A PUBLISH with QoS bits 11.
    InvalidQoS(u8),
    /// A QoS 0 PUBLISH with DUP set.
    DupWithQoS0,
    /// A string that is not well-formed UTF-8.
    InvalidUtf8 {
        /// Packet name.
        packet: &'static str,
    },
    /// A received PUBLISH whose topic breaks the topic name rules.
    InvalidTopic(TopicError),
    /// Packet identifier 0 where one is required.
    PacketIdZero {
        /// Packet name.
        packet: &'static str,
    },
    /// An acknowledgement for a packet id that we have not got in flight (or
    /// that waits for another kind of acknowledgement).
    UnknownPacketId {
        /// Packet name.
        packet: &'static str,
        /// The packet id.
        pkid: u16,
    },
    /// CONNACK with reserved bits set in its flags byte.
    ConnackReservedBits(u8),
    /// CONNACK return code outside 0–5.
    InvalidConnackCode(u8),
    /// Session present set although we asked for a clean session.
    SessionPresentOnCleanSession,
    /// A second CONNACK on the same connection.
    DuplicateConnack,
    /// Something other than CONNACK came first.
    PacketBeforeConnack {
        /// Packet name.
        packet: &'static str,
    },
    /// SUBACK return code other than 0, 1, 2 or 0x80.
    InvalidSubAckCode(u8),
    /// SUBACK with a different number of return codes than filters asked for.
    SubAckCountMismatch {
        /// Filters in our SUBSCRIBE.
        expected: usize,
        /// Return codes in SUBACK.
        got: usize,
    },
    /// MQTT 5: a property identifier that does not exist, or is not allowed
    /// in this packet.
    InvalidProperty {
        /// Packet name.
        packet: &'static str,
        /// The property identifier.
        id: u8,
    },
    /// MQTT 5: a property that may appear once appears twice.
    DuplicateProperty {
        /// Packet name.
        packet: &'static str,
        /// The property identifier.
        id: u8,
    },
    /// MQTT 5: a property with a value it cannot have (e.g. a receive
    /// maximum of 0, a payload format of 2).
    InvalidPropertyValue {
        /// Packet name.
        packet: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// MQTT 5: a reason code this packet cannot carry.
    InvalidReasonCode {
        /// Packet name.
        packet: &'static str,
        /// The code.
        code: u8,
    },
    /// MQTT 5: a topic alias of 0 or above the maximum we allowed.
    TopicAliasInvalid {
        /// The alias received.
        alias: u16,
        /// Our topic alias maximum.
        max: u16,
    },
    /// MQTT 5: a PUBLISH with an empty topic and an alias never set on this
    /// connection.
    UnknownTopicAlias(u16),
    /// MQTT 5: more QoS 2 messages awaiting PUBREL than our receive maximum.
    ReceiveMaximumExceeded {
        /// Our receive maximum.
        max: u16,
    },
}

impl ProtocolError {
    /// The MQTT 5 reason code of the DISCONNECT a client sends when it ends
    /// the connection over this error: malformed packet (0x81), topic alias
    /// invalid (0x94), receive maximum exceeded (0x93), otherwise protocol
    /// error (0x82).
    #[must_use]
    pub fn disconnect_code(&self) -> u8 {
        match self {
            ProtocolError::Malformed { .. }
            | ProtocolError::MalformedRemainingLength
            | ProtocolError::BadRemainingLength { .. }
            | ProtocolError::BadFlags { .. }
            | ProtocolError::InvalidUtf8 { .. }
            | ProtocolError::InvalidQoS(_)
            | ProtocolError::InvalidProperty { .. }
            | ProtocolError::DuplicateProperty { .. }
            | ProtocolError::InvalidPropertyValue { .. }
            | ProtocolError::InvalidReasonCode { .. }
            | ProtocolError::ConnackReservedBits(_)
            | ProtocolError::InvalidTopic(_) => 0x81,
            ProtocolError::TopicAliasInvalid { .. } | ProtocolError::UnknownTopicAlias(_) => 0x94,
            ProtocolError::ReceiveMaximumExceeded { .. } => 0x93,
            _ => 0x82,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ReservedPacketType(t) => {
                write!(f, "the broker sent a packet of reserved type {t}")
            }
            ProtocolError::UnexpectedPacket { packet } => {
                write!(f, "the broker sent {packet}, which a client never receives")
            }
            ProtocolError::BadFlags { packet, flags } => {
                write!(
                    f,
                    "the broker sent {packet} with invalid header flags {flags:04b}"
                )
            }
            ProtocolError::BadRemainingLength { packet, len } => {
                write!(
                    f,
                    "the broker sent {packet} with a wrong length ({len} bytes)"
                )
            }
            ProtocolError::MalformedRemainingLength => {
                f.write_str("the broker sent a packet whose length field is malformed")
            }
            ProtocolError::Malformed { packet, detail } => {
                write!(f, "the broker sent a malformed {packet} ({detail})")
            }
            ProtocolError::InvalidQoS(q) => {
                write!(f, "the broker sent PUBLISH with invalid QoS {q}")
            }
            ProtocolError::DupWithQoS0 => {
                f.write_str("the broker sent a QoS 0 PUBLISH with the DUP flag set")
            }
            ProtocolError::InvalidUtf8 { packet } => {
                write!(
                    f,
                    "the broker sent {packet} with text that is not valid UTF-8"
                )
            }
            ProtocolError::InvalidTopic(e) => {
                write!(f, "the broker sent PUBLISH with an invalid topic: {e}")
            }
            ProtocolError::PacketIdZero { packet } => {
                write!(f, "the broker sent {packet} with packet id 0")
            }
            ProtocolError::UnknownPacketId { packet, pkid } => write!(
                f,
                "the broker sent {packet} for packet id {pkid}, which is not waiting for it"
            ),
            ProtocolError::ConnackReservedBits(b) => {
                write!(
                    f,
                    "the broker sent CONNACK with reserved flag bits set ({b:08b})"
                )
            }
            ProtocolError::InvalidConnackCode(c) => {
                write!(f, "the broker sent CONNACK with unknown return code {c}")
            }
            ProtocolError::SessionPresentOnCleanSession => f.write_str(
                "the broker said a session was present although a clean session was asked for",
            ),
            ProtocolError::DuplicateConnack => f.write_str("the broker sent a second CONNACK"),
            ProtocolError::PacketBeforeConnack { packet } => {
                write!(f, "the broker sent {packet} before CONNACK")
            }
            ProtocolError::InvalidSubAckCode(c) => {
                write!(
                    f,
                    "the broker sent SUBACK with invalid return code {c:#04x}"
                )
            }
            ProtocolError::SubAckCountMismatch { expected, got } => write!(
                f,
                "the broker answered {got} results to a subscription of {expected} filters"
            ),
            ProtocolError::InvalidProperty { packet, id } => write!(
                f,
                "the broker sent {packet} with property {id:#04x}, which {packet} cannot carry"
            ),
            ProtocolError::DuplicateProperty { packet, id } => write!(
                f,
                "the broker sent {packet} with property {id:#04x} twice"
            ),
            ProtocolError::InvalidPropertyValue { packet, detail } => {
                write!(f, "the broker sent {packet} with {detail}")
            }
            ProtocolError::InvalidReasonCode { packet, code } => write!(
                f,
                "the broker sent {packet} with reason code {code:#04x}, which {packet} cannot carry"
            ),
            ProtocolError::TopicAliasInvalid { alias, max } => write!(
                f,
                "the broker used topic alias {alias}, outside the 1 to {max} this client allowed"
            ),
            ProtocolError::UnknownTopicAlias(alias) => write!(
                f,
                "the broker used topic alias {alias} without ever saying which topic it stands for"
            ),
            ProtocolError::ReceiveMaximumExceeded { max } => write!(
                f,
                "the broker sent more than {max} QoS 2 messages awaiting release (the receive maximum)"
            ),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// What the session reports: a refused request, or why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// The request needs a connected session.
    NotConnected,
    /// A topic name or filter we were asked to send is invalid.
    InvalidTopic(TopicError),
    /// SUBSCRIBE or UNSUBSCRIBE with no filters.
    NoFilters,
    /// An outgoing packet would exceed MQTT's 256 MiB limit.
    OutgoingTooLarge {
        /// Remaining length the packet would have.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// All 65535 packet ids are in flight.
    PacketIdsExhausted,
    /// The codec failed to encode a packet that passed our checks.
    Encode(String),
    /// The broker broke the protocol.
    Protocol(ProtocolError),
    /// An incoming packet is larger than `max_incoming_packet_size`.
    PacketTooLarge {
        /// Size the packet announced, fixed header included.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// No PINGRESP within the response timeout.
    PingTimeout {
        /// How long we waited, in ms.
        waited_ms: u64,
    },
    /// No CONNACK within the response timeout.
    ConnackTimeout {
        /// How long we waited, in ms.
        waited_ms: u64,
    },
    /// The broker refused the connection (CONNACK return code 1–5).
    ConnectionRefused {
        /// The return code.
        code: u8,
    },
    /// The transport closed under us.
    ConnectionLost(String),
    /// MQTT 5: the broker sent DISCONNECT.
    ServerDisconnected {
        /// Its reason code.
        code: u8,
        /// Its reason string, if any.
        reason: Option<String>,
        /// Another server to use, if it named one.
        server_reference: Option<String>,
    },
    /// A request that cannot be sent as asked (e.g. message properties with
    /// MQTT 3.1.1, a subscription identifier out of range).
    InvalidRequest(String),
    /// MQTT 5: the broker's CONNACK does not allow this request (a QoS
    /// above its maximum, retain when unavailable, a wildcard or shared
    /// subscription it does not support, a packet over its maximum size…).
    NotAllowedByBroker(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::NotConnected => f.write_str("not connected"),
            SessionError::InvalidTopic(e) => e.fmt(f),
            SessionError::NoFilters => f.write_str("no topic filter was given"),
            SessionError::OutgoingTooLarge { size, max } => write!(
                f,
                "the packet would be {size} bytes long, more than MQTT's limit of {max}"
            ),
            SessionError::PacketIdsExhausted => {
                f.write_str("all 65535 packet ids are in use; wait for acknowledgements")
            }
            SessionError::Encode(e) => write!(f, "could not encode the packet: {e}"),
            SessionError::Protocol(e) => e.fmt(f),
            SessionError::PacketTooLarge { size, max } => write!(
                f,
                "the broker sent a packet of {size} bytes, more than the {max} bytes allowed"
            ),
            SessionError::PingTimeout { waited_ms } => {
                write!(f, "the broker did not answer a ping within {waited_ms} ms")
            }
            SessionError::ConnackTimeout { waited_ms } => write!(
                f,
                "the broker did not answer the connection request within {waited_ms} ms"
            ),
            SessionError::ConnectionRefused { code } if *code >= 0x80 => write!(
                f,
                "the broker refused the connection: {}",
                crate::v5::describe_reason(*code, None)
            ),
            SessionError::ConnectionRefused { code } => write!(
                f,
                "the broker refused the connection: {}",
                connack_code_sentence(*code)
            ),
            SessionError::ConnectionLost(reason) => write!(f, "connection lost: {reason}"),
            SessionError::ServerDisconnected {
                code,
                reason,
                server_reference,
            } => {
                write!(
                    f,
                    "the broker ended the connection: {}",
                    crate::v5::describe_reason(*code, reason.as_deref())
                )?;
                if let Some(r) = server_reference {
                    write!(f, "; it names another server: {r}")?;
                }
                Ok(())
            }
            SessionError::InvalidRequest(why) => f.write_str(why),
            SessionError::NotAllowedByBroker(why) => {
                write!(f, "the broker does not allow this: {why}")
            }
        }
    }
}

impl std::error::Error for SessionError {}

impl From<ProtocolError> for SessionError {
    fn from(e: ProtocolError) -> Self {
        SessionError::Protocol(e)
    }
}

impl From<TopicError> for SessionError {
    fn from(e: TopicError) -> Self {
        SessionError::InvalidTopic(e)
    }
}

/// The plain sentence for a CONNACK return code: 0–5 for MQTT 3.1 and
/// 3.1.1, 0x80 and above for MQTT 5's reason codes; anything else is
/// described as unknown.
#[must_use]
pub fn connack_code_sentence(code: u8) -> &'static str {
    match code {
        0x80.. => crate::v5::reason_code_sentence(code),
        0 => "connection accepted",
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad username or password",
        5 => "not authorised",
        _ => "unknown return code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mqtt5_refusal_reads_as_its_sentence_with_its_code() {
        assert_eq!(
            SessionError::ConnectionRefused { code: 0x87 }.to_string(),
            "the broker refused the connection: not authorized (0x87)"
        );
    }

    #[test]
    fn connack_codes_read_as_the_spec_sentences() {
        assert_eq!(connack_code_sentence(1), "unacceptable protocol version");
        assert_eq!(connack_code_sentence(2), "identifier rejected");
        assert_eq!(connack_code_sentence(3), "server unavailable");
        assert_eq!(connack_code_sentence(4), "bad username or password");
        assert_eq!(connack_code_sentence(5), "not authorised");
    }

    #[test]
    fn errors_display_as_sentences_without_debug_noise() {
        let all = [
            SessionError::NotConnected,
            SessionError::PacketTooLarge { size: 10, max: 5 },
            SessionError::PingTimeout { waited_ms: 10 },
            SessionError::Protocol(ProtocolError::DupWithQoS0),
            SessionError::Protocol(ProtocolError::SubAckCountMismatch {
                expected: 2,
                got: 1,
            }),
            SessionError::ConnectionRefused { code: 4 },
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.is_empty());
            assert!(!s.contains('{'), "{s}");
        }
        assert_eq!(
            SessionError::ConnectionRefused { code: 5 }.to_string(),
            "the broker refused the connection: not authorised"
        );
    }
}
