//! Sans-IO MQTT 3.1 / 3.1.1 / 5 client session for mqdash: bytes in, bytes and
//! events out, time passed in as milliseconds.
//!
//! This crate must not depend on web-sys, leptos or any clock, and must not
//! panic on anything a broker sends. The page's transport owns the WebSocket
//! and drives a [`Session`] like this:
//!
//! ```
//! use mqtt_session::{Event, Options, QoS, Session};
//!
//! let mut session = Session::new(Options { client_id: "dash-1".into(), ..Options::default() })?;
//! // WebSocket opened:
//! session.connect(0);
//! let connect_bytes = session.poll_transmit(); // write these to the socket
//! assert!(connect_bytes.is_some());
//! // Bytes arrived from the socket (here a CONNACK, accepted):
//! session.handle_bytes(5, &[0x20, 0x02, 0x00, 0x00]);
//! assert_eq!(session.poll_event(), Some(Event::Connected { session_present: false }));
//! let pkid = session.subscribe(6, vec![("sensors/#".into(), QoS::AtLeastOnce)])?;
//! assert_eq!(pkid, 1);
//! // Then, in the event loop: write every `poll_transmit()`, handle every
//! // `poll_event()`, and call `handle_timeout(now)` at `poll_timeout()`.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo
    )
)]

mod codec;
mod codec_v5;
mod error;
mod event;
pub mod hostile;
mod options;
mod packet_id;
pub mod record;
mod session;
pub mod topic;
pub mod v5;

pub use error::{connack_code_sentence, ConfigError, ProtocolError, SessionError};
pub use event::{Event, Message, PublishId, SubscribeResult};
pub use options::{
    LastWill, Options, ProtocolVersion, QoS, MAX_OVERSIZED_HEAD_LEN, MIN_INCOMING_PACKET_SIZE,
    V3_1_MAX_CLIENT_ID_LEN,
};
pub use record::{Record, RecordError};
pub use session::{ConnectionState, Session};
pub use topic::TopicError;
pub use v5::{
    describe_reason, reason_code_sentence, ConnectProperties, Granted, PublishProperties,
    RetainHandling, Subscription,
};

#[cfg(test)]
mod proptests;
