//! Connection settings (client id, credentials, keepalive, Last Will, limits)
//! and their validation, plus the small protocol enums they use.
//!
//! Validation happens once, when a `Session` is made or its options replaced,
//! so the session never writes a CONNECT that a broker must refuse for a
//! reason we could have told the user. This module must not encode packets
//! (that is `codec`) nor hold connection state (that is `session`).

use core::fmt;

use crate::error::ConfigError;
use crate::topic;
use crate::v5::{ConnectProperties, PublishProperties};

/// Which MQTT protocol the session speaks. Every protocol difference is
/// decided in `codec` / `codec_v5` and in the few places of `session` that
/// match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtocolVersion {
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3), for old brokers.
    V3_1,
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    #[default]
    V3_1_1,
    /// MQTT 5 (protocol name `MQTT`, level 5).
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte written in CONNECT.
    #[must_use]
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V3_1 => 3,
            ProtocolVersion::V3_1_1 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// The protocol name written in CONNECT.
    #[must_use]
    pub fn protocol_name(self) -> &'static str {
        match self {
            ProtocolVersion::V3_1 => "MQIsdp",
            ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => "MQTT",
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolVersion::V3_1 => f.write_str("MQTT 3.1"),
            ProtocolVersion::V3_1_1 => f.write_str("MQTT 3.1.1"),
            ProtocolVersion::V5 => f.write_str("MQTT 5"),
        }
    }
}

/// Quality of service of a message or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum QoS {
    /// At most once: fire and forget.
    #[default]
    AtMostOnce = 0,
    /// At least once: PUBLISH / PUBACK.
    AtLeastOnce = 1,
    /// Exactly once: PUBLISH / PUBREC / PUBREL / PUBCOMP.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS with this number, or `None` for anything but 0, 1 and 2.
    #[must_use]
    pub fn from_u8(value: u8) -> Option<QoS> {
        match value {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The number of this QoS (0, 1 or 2).
    #[must_use]
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    #[cfg(test)]
    pub(crate) fn to_mqttbytes(self) -> mqttbytes::QoS {
        match self {
            QoS::AtMostOnce => mqttbytes::QoS::AtMostOnce,
            QoS::AtLeastOnce => mqttbytes::QoS::AtLeastOnce,
            QoS::ExactlyOnce => mqttbytes::QoS::ExactlyOnce,
        }
    }

    #[cfg(test)]
    pub(crate) fn from_mqttbytes(qos: mqttbytes::QoS) -> QoS {
        match qos {
            mqttbytes::QoS::AtMostOnce => QoS::AtMostOnce,
            mqttbytes::QoS::AtLeastOnce => QoS::AtLeastOnce,
            mqttbytes::QoS::ExactlyOnce => QoS::ExactlyOnce,
        }
    }
}

impl fmt::Display for QoS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QoS {}", self.as_u8())
    }
}

/// The message a broker publishes for us when our connection ends without a
/// DISCONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastWill {
    /// Topic name (no wildcards).
    pub topic: String,
    /// Payload, at most 65535 bytes.
    pub payload: Vec<u8>,
    /// QoS the broker publishes it with.
    pub qos: QoS,
    /// Whether the broker retains it.
    pub retain: bool,
}

/// Everything the session needs to know before it connects.
#[derive(Clone, PartialEq, Eq)]
pub struct Options {
    /// Client identifier. Empty only with `clean_session` in 3.1.1, always
    /// allowed in 5 (the broker assigns one); MQTT 3.1 requires 1 to 23
    /// bytes.
    pub client_id: String,
    /// User name, if any.
    pub username: Option<String>,
    /// Password, if any; only together with a user name.
    pub password: Option<String>,
    /// Keepalive interval in seconds; 0 disables PINGREQ.
    pub keep_alive_secs: u16,
    /// Ask the broker to discard any previous session (and drop our in-flight
    /// state when the connection ends). MQTT 5 calls it Clean Start; there a
    /// session outlives its connection only with
    /// `ConnectProperties::session_expiry_secs` above 0.
    pub clean_session: bool,
    /// MQTT 3.1, 3.1.1 or 5.
    pub protocol: ProtocolVersion,
    /// Last Will, if any.
    pub last_will: Option<LastWill>,
    /// Largest incoming packet kept, in bytes, fixed header included.
    ///
    /// A larger PUBLISH, of any size MQTT allows (remaining length up to
    /// 268,435,455 bytes), does not end the connection: it is read through
    /// without being buffered. Its topic and packet id are checked as for
    /// any PUBLISH (an invalid one is still a protocol error), it is
    /// acknowledged as its QoS requires, it is reported as
    /// `Event::MessageNotKept`, and its payload is discarded as it arrives.
    /// So a persistent session is never trapped by a message the broker
    /// redelivers on every reconnect. Any other packet larger than this
    /// closes the connection with `SessionError::PacketTooLarge`, from its
    /// fixed header alone.
    ///
    /// MQTT 5 sends this as Maximum Packet Size, so a broker drops what we
    /// would not keep; a packet over it is then a protocol error (the
    /// session sends DISCONNECT 0x95 and closes), as the spec requires.
    ///
    /// Memory: the session buffers at most this many bytes of input, or
    /// [`MAX_OVERSIZED_HEAD_LEN`] for the head of an oversized PUBLISH,
    /// whichever is larger (`Session::buffered_bytes`). Changed between
    /// connections with `Session::set_options`; at least
    /// [`MIN_INCOMING_PACKET_SIZE`].
    pub max_incoming_packet_size: usize,
    /// How long to wait for CONNACK, and for PINGRESP, before declaring the
    /// link dead. The PINGRESP wait is capped at 40 % of the keepalive
    /// interval (`Session::ping_wait_ms`), so a dead link is noticed within
    /// 1.5 × keepalive whatever this is set to.
    pub response_timeout_ms: u64,
    /// Most QoS 1 and 2 publishes awaiting acknowledgement at once; further
    /// ones wait in the session (`Session::queued`) and go out as
    /// acknowledgements arrive. MQTT 3.1.1 has no flow control, and brokers
    /// enforce a window anyway: mosquitto's default is 20, and past it it
    /// acknowledges QoS 1 publishes and drops them. 0 means no limit.
    pub max_in_flight: u16,
    /// MQTT 5 CONNECT and Will properties; ignored with 3.1 and 3.1.1.
    pub v5: ConnectProperties,
}

/// The smallest accepted `max_incoming_packet_size`: a QoS 0 PUBLISH with a
/// one-byte topic and no payload is 5 bytes.
pub const MIN_INCOMING_PACKET_SIZE: usize = 5;

/// The most bytes buffered for the head of a PUBLISH larger than
/// `max_incoming_packet_size` before its payload is discarded: fixed header
/// (at most 5), topic length (2), topic (at most 65,535) and packet id (2).
pub const MAX_OVERSIZED_HEAD_LEN: usize = 5 + 2 + 65_535 + 2;

/// MQTT 3.1 limit on the client identifier, in bytes.
pub const V3_1_MAX_CLIENT_ID_LEN: usize = 23;

const MAX_STRING_LEN: usize = 65_535;

impl Default for Options {
    /// Keepalive 60 s, clean session, MQTT 3.1.1, 1 MiB incoming limit,
    /// 10 s response timeout, 20 publishes in flight, empty client id (the
    /// broker assigns one).
    fn default() -> Self {
        Options {
            client_id: String::new(),
            username: None,
            password: None,
            keep_alive_secs: 60,
            clean_session: true,
            protocol: ProtocolVersion::V3_1_1,
            last_will: None,
            max_incoming_packet_size: 1024 * 1024,
            response_timeout_ms: 10_000,
            max_in_flight: 20,
            v5: ConnectProperties::default(),
        }
    }
}

impl fmt::Debug for Options {
    /// Like a derived `Debug`, but the password is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("clean_session", &self.clean_session)
            .field("protocol", &self.protocol)
            .field("last_will", &self.last_will)
            .field("max_incoming_packet_size", &self.max_incoming_packet_size)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .field("max_in_flight", &self.max_in_flight)
            .field("v5", &self.v5)
            .finish()
    }
}

fn check_string(field: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.len() > MAX_STRING_LEN {
        return Err(ConfigError::TooLong {
            field,
            len: value.len(),
        });
    }
    if value.as_bytes().contains(&0) {
        return Err(ConfigError::ContainsNul { field });
    }
    Ok(())
}

impl Options {
    /// Checks these options against the MQTT rules for the chosen protocol.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_string("client id", &self.client_id)?;
        match self.protocol {
            ProtocolVersion::V3_1 => {
                if self.client_id.is_empty() {
                    return Err(ConfigError::EmptyClientIdNotAllowedInV3_1);
                }
                if self.client_id.len() > V3_1_MAX_CLIENT_ID_LEN {
                    return Err(ConfigError::ClientIdTooLongForV3_1 {
                        len: self.client_id.len(),
                    });
                }
            }
            ProtocolVersion::V3_1_1 => {
                if self.client_id.is_empty() && !self.clean_session {
                    return Err(ConfigError::EmptyClientIdNeedsCleanSession);
                }
            }
            ProtocolVersion::V5 => self.validate_v5()?,
        }
        if let Some(username) = &self.username {
            check_string("user name", username)?;
        }
        if let Some(password) = &self.password {
            // MQTT 5 allows a password alone; 3.1 and 3.1.1 do not.
            if self.username.is_none() && self.protocol != ProtocolVersion::V5 {
                return Err(ConfigError::PasswordWithoutUsername);
            }
            check_string("password", password)?;
        }
        if let Some(will) = &self.last_will {
            topic::validate_topic_name(&will.topic).map_err(ConfigError::InvalidWillTopic)?;
            if will.payload.len() > MAX_STRING_LEN {
                return Err(ConfigError::TooLong {
                    field: "Last Will payload",
                    len: will.payload.len(),
                });
            }
        }
        if self.max_incoming_packet_size < MIN_INCOMING_PACKET_SIZE {
            return Err(ConfigError::MaxPacketSizeTooSmall {
                size: self.max_incoming_packet_size,
                min: MIN_INCOMING_PACKET_SIZE,
            });
        }
        if self.response_timeout_ms == 0 {
            return Err(ConfigError::ZeroResponseTimeout);
        }
        Ok(())
    }

    fn validate_v5(&self) -> Result<(), ConfigError> {
        let p = &self.v5;
        if p.receive_maximum == 0 {
            return Err(ConfigError::ZeroReceiveMaximum);
        }
        if u32::try_from(self.max_incoming_packet_size).is_err() {
            return Err(ConfigError::MaxPacketSizeTooLarge {
                size: self.max_incoming_packet_size,
            });
        }
        check_pairs("CONNECT user property", &p.user_properties)?;
        validate_publish_properties("Will", &p.will_properties)
    }
}

fn check_pairs(field: &'static str, pairs: &[(String, String)]) -> Result<(), ConfigError> {
    for (k, v) in pairs {
        check_string(field, k)?;
        check_string(field, v)?;
    }
    Ok(())
}

/// Checks PUBLISH (or Will) properties we are about to send: strings within
/// 65535 bytes and without U+0000, a payload format of 0 or 1, a response
/// topic that is a valid topic name, and no subscription identifiers (a
/// client never sends them in PUBLISH).
pub(crate) fn validate_publish_properties(
    what: &'static str,
    p: &PublishProperties,
) -> Result<(), ConfigError> {
    if let Some(f) = p.payload_format_indicator {
        if f > 1 {
            return Err(ConfigError::InvalidProperty {
                what,
                detail: format!("payload format indicator {f} (only 0 and 1 exist)"),
            });
        }
    }
    if let Some(ct) = &p.content_type {
        check_string("content type", ct)?;
    }
    if let Some(rt) = &p.response_topic {
        topic::validate_topic_name(rt).map_err(|e| ConfigError::InvalidProperty {
            what,
            detail: format!("response topic: {e}"),
        })?;
    }
    if let Some(cd) = &p.correlation_data {
        if cd.len() > MAX_STRING_LEN {
            return Err(ConfigError::TooLong {
                field: "correlation data",
                len: cd.len(),
            });
        }
    }
    check_pairs("user property", &p.user_properties)?;
    if !p.subscription_identifiers.is_empty() {
        return Err(ConfigError::InvalidProperty {
            what,
            detail: "a client does not send subscription identifiers in PUBLISH".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicError;

    fn opts() -> Options {
        Options {
            client_id: "c".into(),
            ..Options::default()
        }
    }

    #[test]
    fn default_options_are_valid_and_sane() {
        let o = Options::default();
        assert_eq!(o.validate(), Ok(()));
        assert_eq!(o.keep_alive_secs, 60);
        assert!(o.clean_session);
        assert_eq!(o.protocol, ProtocolVersion::V3_1_1);
        assert_eq!(o.max_incoming_packet_size, 1 << 20);
        assert_eq!(o.response_timeout_ms, 10_000);
        assert_eq!(o.max_in_flight, 20);
    }

    #[test]
    fn empty_client_id_is_accepted_only_with_clean_session() {
        let mut o = Options::default();
        assert_eq!(o.validate(), Ok(()));
        o.clean_session = false;
        assert_eq!(
            o.validate(),
            Err(ConfigError::EmptyClientIdNeedsCleanSession)
        );
    }

    #[test]
    fn mqtt_3_1_client_id_must_be_1_to_23_bytes() {
        let mut o = opts();
        o.protocol = ProtocolVersion::V3_1;
        o.client_id = "x".repeat(23);
        assert_eq!(o.validate(), Ok(()));
        o.client_id = "x".repeat(24);
        assert_eq!(
            o.validate(),
            Err(ConfigError::ClientIdTooLongForV3_1 { len: 24 })
        );
        o.client_id.clear();
        assert_eq!(
            o.validate(),
            Err(ConfigError::EmptyClientIdNotAllowedInV3_1)
        );
    }

    #[test]
    fn password_without_username_is_refused() {
        let mut o = opts();
        o.password = Some("p".into());
        assert_eq!(o.validate(), Err(ConfigError::PasswordWithoutUsername));
        o.username = Some(String::new());
        assert_eq!(o.validate(), Ok(()));
    }

    #[test]
    fn will_topic_must_be_a_valid_topic_name() {
        let mut o = opts();
        o.last_will = Some(LastWill {
            topic: "a/+".into(),
            ..LastWill::default()
        });
        assert_eq!(
            o.validate(),
            Err(ConfigError::InvalidWillTopic(
                TopicError::WildcardInTopicName
            ))
        );
        o.last_will = Some(LastWill::default());
        assert_eq!(
            o.validate(),
            Err(ConfigError::InvalidWillTopic(TopicError::Empty))
        );
    }

    #[test]
    fn strings_longer_than_65535_bytes_or_with_nul_are_refused() {
        let mut o = opts();
        o.username = Some("u".repeat(65_536));
        assert_eq!(
            o.validate(),
            Err(ConfigError::TooLong {
                field: "user name",
                len: 65_536
            })
        );
        o.username = Some("u\0".into());
        assert_eq!(
            o.validate(),
            Err(ConfigError::ContainsNul { field: "user name" })
        );
        let mut o = opts();
        o.last_will = Some(LastWill {
            topic: "w".into(),
            payload: vec![0; 65_536],
            ..LastWill::default()
        });
        assert!(matches!(o.validate(), Err(ConfigError::TooLong { .. })));
    }

    #[test]
    fn limits_must_be_usable() {
        let mut o = opts();
        o.max_incoming_packet_size = 4;
        assert!(matches!(
            o.validate(),
            Err(ConfigError::MaxPacketSizeTooSmall { .. })
        ));
        let mut o = opts();
        o.response_timeout_ms = 0;
        assert_eq!(o.validate(), Err(ConfigError::ZeroResponseTimeout));
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let mut o = opts();
        o.username = Some("user".into());
        o.password = Some("hunter2".into());
        let shown = format!("{o:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn qos_from_u8_accepts_only_0_1_2() {
        assert_eq!(QoS::from_u8(0), Some(QoS::AtMostOnce));
        assert_eq!(QoS::from_u8(1), Some(QoS::AtLeastOnce));
        assert_eq!(QoS::from_u8(2), Some(QoS::ExactlyOnce));
        assert_eq!(QoS::from_u8(3), None);
        assert_eq!(QoS::from_u8(0x80), None);
    }
}
