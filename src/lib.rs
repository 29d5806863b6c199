//! mqdash: a browser dashboard for MQTT.
//!
//! Layers, from the wire up (see docs/architecture.md):
//! - `mqtt_session` (crate): the sans-IO MQTT client session;
//! - [`transport`]: the browser WebSocket, bytes only;
//! - [`wake_timer`]: a timer that keeps time in a hidden tab (a worker's);
//! - [`client`]: drives the session over the transport, reconnects, batches events;
//! - `model` (crate): what the screen shows, as plain data;
//! - [`state`], [`actions`], [`components`] and [`app`]: the Leptos view;
//! - [`files`]: downloads made in the page and files the user picks;
//! - [`probe`]: benchmark counters on `window.__mqdash`, only with `?probe=1`.

pub mod actions;
pub mod app;
pub mod client;
pub mod components;
pub mod decoders;
pub mod files;
pub mod keep;
pub mod lag;
pub mod probe;
pub mod state;
pub mod transport;
pub mod wake_timer;
