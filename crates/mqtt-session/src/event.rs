//! What the session tells its caller: events polled with
//! `Session::poll_event`, received messages (and messages too large to keep),
//! and per-filter SUBACK results.
//!
//! Plain data only. It must not refer to the codec's packet types
//! (`mqttbytes`), so the codec can change (MQTT 5) without touching callers.

use bytes::Bytes;

use crate::error::SessionError;
use crate::options::QoS;
use crate::v5::{Granted, PublishProperties};

/// A local handle for one `publish` call, increasing by one per call (QoS 0
/// included), never reused within a `Session`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublishId(pub u64);

/// A message received from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Topic name it was published to.
    pub topic: String,
    /// Payload, a slice of the receive buffer (no copy).
    pub payload: Bytes,
    /// QoS it was delivered with.
    pub qos: QoS,
    /// Retain flag (set for retained messages sent on subscribe).
    pub retain: bool,
    /// DUP flag (the broker says it may have sent this before).
    pub dup: bool,
    /// Packet id (0 for QoS 0).
    pub pkid: u16,
    /// MQTT 5 properties, when the PUBLISH carried any (never with 3.1 or
    /// 3.1.1). A topic alias is already resolved into `topic`.
    pub properties: Option<Box<PublishProperties>>,
}

/// The broker's answer for one filter of a SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscribeResult {
    /// Subscribed, with this maximum QoS.
    Granted(QoS),
    /// Refused (return code 0x80).
    Refused,
    /// MQTT 5: refused with this reason code (0x80 and above; read it with
    /// `reason_code_sentence`).
    RefusedWith(u8),
}

/// Something that happened, in order. Poll them all after each call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// MQTT 5 only, just before `Connected`: what the broker granted in
    /// its CONNACK (also `Session::granted`).
    Granted(Box<Granted>),
    /// CONNACK accepted the connection.
    Connected {
        /// The broker kept our previous session (always false with a clean
        /// session; with MQTT 3.1, which has no such flag, true exactly when
        /// the clean session flag is off).
        session_present: bool,
    },
    /// CONNACK refused the connection (codes 1–5; MQTT 5: 0x80 and above).
    /// A `Closed` event follows.
    ConnectionRefused {
        /// The CONNACK return code.
        code: u8,
        /// The code as a plain sentence, e.g. "bad username or password";
        /// with MQTT 5, followed by the broker's reason string and server
        /// reference if it sent them.
        reason: String,
    },
    /// A PUBLISH from the broker, delivered once per QoS rules.
    Message(Message),
    /// A PINGRESP answered the oldest PINGREQ after `round_trip_ms`. As a
    /// broker answers after everything it queued for this client before the
    /// PINGREQ, this is how far behind the broker the client was.
    Pong {
        /// Time from writing the PINGREQ to reading its PINGRESP.
        round_trip_ms: u64,
    },
    /// A PUBLISH from the broker larger than
    /// `Options::max_incoming_packet_size`, read through without keeping its
    /// payload. It was acknowledged exactly as a kept message is (PUBACK for
    /// QoS 1; PUBREC, then PUBCOMP on PUBREL, for QoS 2) and is reported once
    /// per QoS rules, like `Message`: a redelivered copy of a QoS 2 message
    /// still awaiting PUBREL is acknowledged again but not reported again.
    /// It is reported (and acknowledged) as soon as its topic and packet id
    /// are in; the rest of its payload is dropped as it arrives. The
    /// connection stays up. Shown as "message of `size` bytes on topic
    /// `topic` not kept (limit `limit`)".
    MessageNotKept {
        /// Topic name it was published to (checked like a kept message's).
        topic: String,
        /// Size of the payload that was discarded, in bytes: the message as
        /// its publisher sent it. Not the packet size: see `packet_size`.
        size: usize,
        /// Size of the whole PUBLISH packet, fixed header, topic and packet
        /// id included: what was compared with `limit` (always more than
        /// `limit`).
        packet_size: usize,
        /// QoS it was delivered with.
        qos: QoS,
        /// Retain flag.
        retain: bool,
        /// DUP flag (the broker says it may have sent this before).
        dup: bool,
        /// Packet id (0 for QoS 0).
        pkid: u16,
        /// The `max_incoming_packet_size` in force, in bytes, fixed header
        /// included.
        limit: usize,
    },
    /// Our PUBLISH was written to the outgoing queue. For QoS 0 this is
    /// completion.
    Published {
        /// Local handle returned by `publish`.
        id: PublishId,
        /// Packet id (0 for QoS 0).
        pkid: u16,
        /// QoS it was sent with.
        qos: QoS,
        /// When it was queued.
        sent_at_ms: u64,
    },
    /// PUBACK (QoS 1) or PUBCOMP (QoS 2) arrived.
    PublishComplete {
        /// Local handle returned by `publish`.
        id: PublishId,
        /// Packet id.
        pkid: u16,
        /// When the final acknowledgement arrived.
        acked_at_ms: u64,
        /// `acked_at_ms` minus the time the PUBLISH was first queued.
        round_trip_ms: u64,
    },
    /// MQTT 5: the acknowledgement of a publish carried a reason code other
    /// than success that is not a failure (e.g. 0x10, no matching
    /// subscribers) or a reason string. Comes just before
    /// `PublishComplete`. (A failure code ends the publish with
    /// `PublishFailed`, whose reason says it.)
    PublishReason {
        /// Local handle returned by `publish`.
        id: PublishId,
        /// The reason code.
        code: u8,
        /// The code as a sentence, with the broker's reason string.
        reason: String,
    },
    /// A QoS 1 or 2 publish will never complete.
    PublishFailed {
        /// Local handle returned by `publish`.
        id: PublishId,
        /// Why, as a plain sentence.
        reason: String,
    },
    /// SUBACK arrived.
    Subscribed {
        /// Packet id returned by `subscribe`.
        pkid: u16,
        /// One result per filter, in the order asked for.
        results: Vec<(String, SubscribeResult)>,
    },
    /// A SUBSCRIBE will never be answered (the connection ended first).
    SubscribeFailed {
        /// Packet id returned by `subscribe`.
        pkid: u16,
        /// The filters it asked for.
        filters: Vec<String>,
        /// Why, as a plain sentence.
        reason: String,
    },
    /// UNSUBACK arrived.
    Unsubscribed {
        /// Packet id returned by `unsubscribe`.
        pkid: u16,
        /// The filters that were removed.
        filters: Vec<String>,
    },
    /// An UNSUBSCRIBE will never be answered (the connection ended first),
    /// or, with MQTT 5, the broker refused these of its filters (the
    /// others come in `Unsubscribed`).
    UnsubscribeFailed {
        /// Packet id returned by `unsubscribe`.
        pkid: u16,
        /// The filters it asked to remove.
        filters: Vec<String>,
        /// Why, as a plain sentence.
        reason: String,
    },
    /// MQTT 5: a reason string on an acknowledgement other than PUBACK or
    /// PUBREC (SUBACK, UNSUBACK, PUBREL, PUBCOMP), for the user to read.
    ServerReason {
        /// Packet name.
        packet: &'static str,
        /// Packet id.
        pkid: u16,
        /// The broker's words.
        reason: String,
    },
    /// In-flight outgoing publishes were dropped (clean session ended, or the
    /// broker did not resume the session); each also got `PublishFailed`.
    InFlightDropped {
        /// How many.
        count: usize,
    },
    /// The connection is over. The caller must close the transport if it is
    /// still open (`Session::wants_close` says so too).
    Closed {
        /// Why.
        error: SessionError,
    },
}
