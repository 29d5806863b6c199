//! The codec benchmark's wasm side: feeds a buffer of concatenated PUBLISH
//! packets to an `mqtt_session::Session` that has just accepted a CONNACK,
//! in chunks of a given size, and counts the `Event::Message`s it reports.
//!
//! This is the page's exact decode path (fixed-header checks, `mqttbytes`
//! decode, topic validation, the event queue), without the WebSocket and the
//! model. Timing is done by the caller (`bench/codec-page/codec.js`) so the
//! wasm has no clock. Never part of the page.

use mqtt_session::{Event, Options, Session};
use wasm_bindgen::prelude::*;

/// An accepted CONNACK (no session present).
const CONNACK_OK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

/// A packet buffer copied into wasm memory once, so that timing
/// [`Packets::decode`] measures decoding, not the copy from JS.
#[wasm_bindgen]
pub struct Packets {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl Packets {
    /// Copies `bytes` into wasm memory.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Packets {
        Packets {
            bytes: bytes.to_vec(),
        }
    }

    /// [`decode_publishes`] on the held bytes.
    pub fn decode(&self, chunk: usize) -> i64 {
        decode_publishes(&self.bytes, chunk)
    }
}

/// Feeds `packets` to a fresh connected session, `chunk` bytes per
/// `handle_bytes` call (0 means all at once), draining the events after each
/// call; returns how many messages it decoded, or -1 if the session failed.
#[wasm_bindgen]
pub fn decode_publishes(packets: &[u8], chunk: usize) -> i64 {
    let options = Options {
        client_id: "codec-bench".into(),
        max_incoming_packet_size: 1 << 20,
        ..Options::default()
    };
    let Ok(mut session) = Session::new(options) else {
        return -1;
    };
    session.connect(0);
    while session.poll_transmit().is_some() {}
    session.handle_bytes(0, &CONNACK_OK);
    if !matches!(session.poll_event(), Some(Event::Connected { .. })) {
        return -1;
    }
    let chunk = if chunk == 0 {
        packets.len().max(1)
    } else {
        chunk
    };
    let mut messages = 0i64;
    for part in packets.chunks(chunk) {
        session.handle_bytes(0, part);
        while let Some(event) = session.poll_event() {
            match event {
                Event::Message(m) => {
                    // Touch the result so nothing is optimised away.
                    messages += i64::from(!m.topic.is_empty() && !m.payload.is_empty());
                }
                Event::Closed { .. } => return -1,
                _ => {}
            }
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(topic: &str, payload: &[u8]) -> Vec<u8> {
        let len = 2 + topic.len() + payload.len();
        assert!(len < 128);
        let mut out = vec![0x30, len as u8];
        out.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        out.extend_from_slice(topic.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn every_publish_is_counted_whatever_the_chunking() {
        let mut buf = Vec::new();
        for i in 0..100 {
            buf.extend(publish(&format!("load/{i}"), b"1700000000000 xxxx"));
        }
        for chunk in [0, 1, 7, 64, 65_536] {
            assert_eq!(decode_publishes(&buf, chunk), 100, "chunk {chunk}");
        }
    }

    #[test]
    fn a_malformed_stream_reports_failure() {
        let mut buf = publish("a/#", b"x");
        buf.extend(publish("a", b"x"));
        assert_eq!(decode_publishes(&buf, 0), -1);
    }
}
