//! One incoming PUBLISH as the model takes it.
//!
//! The app converts the session's message event into an [`Incoming`] (the
//! model uses the session crate for its topic rules and, with MQTT 5, the
//! properties a message carries). Nothing here parses or copies the payload.

use std::sync::Arc;

use bytes::Bytes;
use mqtt_session::PublishProperties;

use crate::decoding::Decoded;

/// A message received from the broker, ready to be applied to the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The concrete topic the message was published to (no wildcards).
    pub topic: String,
    /// The payload. Hand over a buffer that owns its bytes (for example
    /// `Bytes::copy_from_slice` when one WebSocket frame held several
    /// packets), or the history's byte cap undercounts what it keeps alive.
    pub payload: Bytes,
    /// The QoS the message was delivered with (0, 1 or 2).
    pub qos: u8,
    /// The retain flag: a retained message replayed by the broker.
    pub retain: bool,
    /// The DUP flag: a redelivery of a QoS 1/2 message.
    pub dup: bool,
    /// When the page received it, in milliseconds since the Unix epoch
    /// (the same clock as every other `now_ms` given to the model).
    pub received_ms: f64,
    /// MQTT 5 properties, when the message carried any; `None` (one
    /// pointer) for MQTT 3.1 and 3.1.1. Shared, never copied, by the
    /// panel's last message and its history entry. As with the payload,
    /// hand over correlation data that owns its bytes.
    pub properties: Option<Arc<PublishProperties>>,
    /// What the decoder assigned to this topic made of the payload (see
    /// [`crate::decoding`]); `None` when no rule matches.
    pub decoded: Option<Arc<Decoded>>,
}

impl Incoming {
    /// Builds a message with QoS 0 and no flags, handy for tests and demos.
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>, received_ms: f64) -> Self {
        Incoming {
            topic: topic.into(),
            payload: payload.into(),
            qos: 0,
            retain: false,
            dup: false,
            received_ms,
            properties: None,
            decoded: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_builds_a_qos0_message_without_flags() {
        let m = Incoming::new("a/b", &b"hi"[..], 5.0);
        assert_eq!(m.topic, "a/b");
        assert_eq!(&m.payload[..], b"hi");
        assert_eq!((m.qos, m.retain, m.dup), (0, false, false));
        assert_eq!(m.received_ms, 5.0);
        assert!(m.properties.is_none());
    }
}
