//! Drives the MQTT session over the browser transport.
//!
//! [`supervisor`] is pure (reconnects, backoff, subscription restore) and tested
//! natively; [`browser`] is the thin glue to the WebSocket and timers.

pub mod backoff;
pub mod browser;
pub mod settings;
pub mod supervisor;
pub mod updates;
