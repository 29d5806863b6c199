//! The browser transport: the only code that touches `web_sys::WebSocket`.
//!
//! It moves bytes and nothing else: no MQTT, no UI. The client driver feeds what
//! it receives into the sans-IO session and writes what the session queues.

mod websocket;

pub use websocket::{TransportEvent, WsTransport};
