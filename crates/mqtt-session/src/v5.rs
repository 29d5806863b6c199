//! What MQTT 5 adds to the session's vocabulary: message properties, the
//! CONNECT properties we ask for, what the broker granted in CONNACK,
//! subscription options, and reason codes as plain sentences.
//!
//! Plain data only, like `event`: nothing here refers to the codec's packet
//! types, encodes a packet or holds connection state. With MQTT 3.1 and
//! 3.1.1 these types stay empty (defaults) and are never written.

use bytes::Bytes;

use crate::options::QoS;

/// The properties of an MQTT 5 PUBLISH, both ways (and of a Last Will).
/// Topic aliases are not here: the session assigns and resolves them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishProperties {
    /// Payload format indicator: `Some(1)` says the payload is UTF-8 text,
    /// `Some(0)` unspecified bytes; `None` when absent.
    pub payload_format_indicator: Option<u8>,
    /// Message expiry interval in seconds (what is left of it, on receipt).
    pub message_expiry_secs: Option<u32>,
    /// Content type (a MIME type, by convention).
    pub content_type: Option<String>,
    /// Response topic, for request/response.
    pub response_topic: Option<String>,
    /// Correlation data, for request/response (any bytes).
    pub correlation_data: Option<Bytes>,
    /// User properties, in order; a name may repeat.
    pub user_properties: Vec<(String, String)>,
    /// Subscription identifiers of the subscriptions that matched (incoming
    /// only; never sent by a client).
    pub subscription_identifiers: Vec<u32>,
}

impl PublishProperties {
    /// True when no property is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &PublishProperties::default()
    }
}

/// The MQTT 5 properties of our CONNECT (and of its Will). Ignored with 3.1
/// and 3.1.1. Maximum Packet Size is not here: it is
/// `Options::max_incoming_packet_size`, always sent with MQTT 5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectProperties {
    /// Session expiry interval in seconds: how long the broker keeps the
    /// session after the connection ends (0: ends with it; `u32::MAX`:
    /// never expires). With MQTT 5 a persistent session needs this above 0.
    pub session_expiry_secs: u32,
    /// Most QoS 1 and 2 messages the broker may have unacknowledged towards
    /// us at once (1–65535; 65535 is the default and is not sent).
    pub receive_maximum: u16,
    /// Most topic aliases the broker may use towards us (0: none).
    pub topic_alias_maximum: u16,
    /// Ask for response information in CONNACK.
    pub request_response_information: bool,
    /// Let the broker send reason strings and user properties on any packet
    /// (the default); off, only on PUBLISH, CONNACK and DISCONNECT.
    pub request_problem_information: bool,
    /// User properties of CONNECT.
    pub user_properties: Vec<(String, String)>,
    /// Will delay interval in seconds.
    pub will_delay_secs: u32,
    /// Properties of the Last Will message (subscription identifiers are
    /// not allowed there).
    pub will_properties: PublishProperties,
}

impl Default for ConnectProperties {
    /// No session expiry, receive maximum 65535, no topic aliases, problem
    /// information on, nothing else.
    fn default() -> Self {
        ConnectProperties {
            session_expiry_secs: 0,
            receive_maximum: u16::MAX,
            topic_alias_maximum: 0,
            request_response_information: false,
            request_problem_information: true,
            user_properties: Vec::new(),
            will_delay_secs: 0,
            will_properties: PublishProperties::default(),
        }
    }
}

/// What an MQTT 5 broker said about the connection in its CONNACK, with the
/// spec's defaults filled in for what it left out. The session honours every
/// limit here (see `Session::publish_with`, `Session::subscribe_with`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The client id the broker assigned (we sent an empty one).
    pub assigned_client_id: Option<String>,
    /// The keepalive the broker wants instead of ours, in seconds.
    pub server_keep_alive: Option<u16>,
    /// The session expiry interval the broker uses instead of ours.
    pub session_expiry_secs: Option<u32>,
    /// Most QoS 1 and 2 publishes we may have unacknowledged at once.
    pub receive_maximum: u16,
    /// Highest QoS the broker accepts in our PUBLISH.
    pub maximum_qos: QoS,
    /// Whether the broker accepts retained messages.
    pub retain_available: bool,
    /// Largest packet the broker accepts, if it set a limit.
    pub maximum_packet_size: Option<u32>,
    /// Most topic aliases we may use towards the broker (0: none).
    pub topic_alias_maximum: u16,
    /// Whether wildcard filters may be subscribed.
    pub wildcard_subscription_available: bool,
    /// Whether subscription identifiers may be sent.
    pub subscription_identifiers_available: bool,
    /// Whether shared subscriptions (`$share/…`) may be subscribed.
    pub shared_subscription_available: bool,
    /// Response information (asked for with
    /// `ConnectProperties::request_response_information`).
    pub response_information: Option<String>,
    /// Another server to use.
    pub server_reference: Option<String>,
    /// A human-readable reason.
    pub reason_string: Option<String>,
    /// User properties of CONNACK.
    pub user_properties: Vec<(String, String)>,
}

impl Default for Granted {
    /// The spec's defaults for a CONNACK without properties.
    fn default() -> Self {
        Granted {
            assigned_client_id: None,
            server_keep_alive: None,
            session_expiry_secs: None,
            receive_maximum: u16::MAX,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            wildcard_subscription_available: true,
            subscription_identifiers_available: true,
            shared_subscription_available: true,
            response_information: None,
            server_reference: None,
            reason_string: None,
            user_properties: Vec::new(),
        }
    }
}

/// What a broker does with retained messages when we subscribe (MQTT 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at every subscribe.
    #[default]
    SendOnSubscribe,
    /// 1: only if the subscription did not exist before.
    SendIfNew,
    /// 2: never.
    DoNotSend,
}

impl RetainHandling {
    /// The option's number (0, 1, 2).
    #[must_use]
    pub fn as_u8(self) -> u8 {
        match self {
            RetainHandling::SendOnSubscribe => 0,
            RetainHandling::SendIfNew => 1,
            RetainHandling::DoNotSend => 2,
        }
    }

    /// The option with this number, or `None` for anything but 0, 1, 2.
    #[must_use]
    pub fn from_u8(value: u8) -> Option<RetainHandling> {
        match value {
            0 => Some(RetainHandling::SendOnSubscribe),
            1 => Some(RetainHandling::SendIfNew),
            2 => Some(RetainHandling::DoNotSend),
            _ => None,
        }
    }
}

/// One filter of a SUBSCRIBE with its options. The MQTT 5 options are
/// ignored with 3.1 and 3.1.1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    /// The topic filter (`$share/group/filter` for a shared subscription).
    pub filter: String,
    /// Maximum QoS asked for.
    pub qos: QoS,
    /// MQTT 5: do not send us our own publishes.
    pub no_local: bool,
    /// MQTT 5: keep the retain flag as published (instead of clearing it on
    /// live messages).
    pub retain_as_published: bool,
    /// MQTT 5: what to do with retained messages on subscribe.
    pub retain_handling: RetainHandling,
}

impl Subscription {
    /// A filter with this QoS and the default options.
    #[must_use]
    pub fn new(filter: impl Into<String>, qos: QoS) -> Subscription {
        Subscription {
            filter: filter.into(),
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendOnSubscribe,
        }
    }
}

/// The largest subscription identifier (a variable byte integer).
pub const MAX_SUBSCRIPTION_IDENTIFIER: u32 = 268_435_455;

/// An MQTT 5 reason code as a plain sentence, as the spec names it (its
/// meaning in CONNACK, PUBACK, SUBACK, DISCONNECT… is the same). Codes the
/// spec does not define read as "unknown reason code".
#[must_use]
pub fn reason_code_sentence(code: u8) -> &'static str {
    match code {
        0x00 => "success",
        0x01 => "granted QoS 1",
        0x02 => "granted QoS 2",
        0x04 => "disconnect with Will message",
        0x10 => "no matching subscribers",
        0x11 => "no subscription existed",
        0x18 => "continue authentication",
        0x19 => "re-authenticate",
        0x80 => "unspecified error",
        0x81 => "malformed packet",
        0x82 => "protocol error",
        0x83 => "implementation specific error",
        0x84 => "unsupported protocol version",
        0x85 => "client identifier not valid",
        0x86 => "bad user name or password",
        0x87 => "not authorized",
        0x88 => "server unavailable",
        0x89 => "server busy",
        0x8A => "banned",
        0x8B => "server shutting down",
        0x8C => "bad authentication method",
        0x8D => "keep alive timeout",
        0x8E => "session taken over",
        0x8F => "topic filter invalid",
        0x90 => "topic name invalid",
        0x91 => "packet identifier in use",
        0x92 => "packet identifier not found",
        0x93 => "receive maximum exceeded",
        0x94 => "topic alias invalid",
        0x95 => "packet too large",
        0x96 => "message rate too high",
        0x97 => "quota exceeded",
        0x98 => "administrative action",
        0x99 => "payload format invalid",
        0x9A => "retain not supported",
        0x9B => "QoS not supported",
        0x9C => "use another server",
        0x9D => "server moved",
        0x9E => "shared subscriptions not supported",
        0x9F => "connection rate exceeded",
        0xA0 => "maximum connect time",
        0xA1 => "subscription identifiers not supported",
        0xA2 => "wildcard subscriptions not supported",
        _ => "unknown reason code",
    }
}

/// The reason code, its sentence and the broker's reason string, if any, as
/// one sentence: `quota exceeded (0x97): "daily limit"`.
#[must_use]
pub fn describe_reason(code: u8, reason_string: Option<&str>) -> String {
    let mut s = format!("{} ({code:#04x})", reason_code_sentence(code));
    if let Some(r) = reason_string.filter(|r| !r.is_empty()) {
        s.push_str(": \"");
        s.push_str(r);
        s.push('"');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_read_as_the_spec_names_them() {
        assert_eq!(reason_code_sentence(0x8E), "session taken over");
        assert_eq!(reason_code_sentence(0x97), "quota exceeded");
        assert_eq!(reason_code_sentence(0x87), "not authorized");
        assert_eq!(reason_code_sentence(0x99), "payload format invalid");
        assert_eq!(reason_code_sentence(0x10), "no matching subscribers");
        assert_eq!(reason_code_sentence(0x7F), "unknown reason code");
    }

    #[test]
    fn a_reason_reads_with_its_code_and_the_brokers_words() {
        assert_eq!(
            describe_reason(0x97, Some("daily limit")),
            "quota exceeded (0x97): \"daily limit\""
        );
        assert_eq!(describe_reason(0x87, None), "not authorized (0x87)");
        assert_eq!(describe_reason(0x87, Some("")), "not authorized (0x87)");
    }

    #[test]
    fn retain_handling_numbers_round_trip_and_3_is_refused() {
        for n in 0..3 {
            assert_eq!(
                RetainHandling::from_u8(n).map(RetainHandling::as_u8),
                Some(n)
            );
        }
        assert_eq!(RetainHandling::from_u8(3), None);
    }

    #[test]
    fn empty_properties_are_empty_and_any_field_makes_them_not() {
        assert!(PublishProperties::default().is_empty());
        let p = PublishProperties {
            content_type: Some("text/plain".into()),
            ..PublishProperties::default()
        };
        assert!(!p.is_empty());
    }
}
