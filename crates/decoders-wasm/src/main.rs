//! mqdash's decoder module: the page (`src/decoders.rs`) imports it the
//! first time a message's topic matches a decoder rule, then calls
//! [`decoders_wasm::decode`] once per such message, synchronously.
//!
//! Answers are strings, so one call crosses the boundary once: `o<json>`,
//! `o<json>\u{1}<chart json>` (Sparkplug B: the charts read its `metrics`
//! object only) or `e<reason>`. It holds the state that spans messages:
//! Sparkplug B's aliases, sequence numbers and online states, and the
//! Protobuf schemas the user loaded.
//!
//! It must not panic (a panic would end this module, not the page, but
//! every later message would then fail): the decoders are fuzzed in their
//! own crates, and nothing here indexes or unwraps.

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    /// See [`decoders_wasm::decode`].
    #[wasm_bindgen]
    pub fn decode(
        code: &str,
        topic: &str,
        payload: &[u8],
        message: &str,
        received_ms: f64,
    ) -> String {
        decoders_wasm::decode(code, topic, payload, message, received_ms)
    }

    /// Replaces the schema set with these files (names and bytes, in the
    /// same order); answers `o` + message type names, one a line, or `e` +
    /// the compiler's error.
    #[wasm_bindgen]
    pub fn set_schemas(names: js_sys::Array, files: js_sys::Array) -> String {
        let files: Vec<(String, Vec<u8>)> = names
            .iter()
            .zip(files.iter())
            .map(|(n, f)| {
                (
                    n.as_string().unwrap_or_default(),
                    js_sys::Uint8Array::new(&f).to_vec(),
                )
            })
            .collect();
        decoders_wasm::set_schemas(&files)
    }

    /// Forgets every schema.
    #[wasm_bindgen]
    pub fn clear_schemas() {
        decoders_wasm::clear_schemas();
    }

    /// What Sparkplug B knows of edge nodes, devices and hosts (JSON).
    #[wasm_bindgen]
    pub fn sparkplug_nodes() -> String {
        decoders_wasm::sparkplug_nodes()
    }

    /// A rebirth request to an edge node: `[topic, payload]`.
    #[wasm_bindgen]
    pub fn sparkplug_rebirth(group: &str, node: &str, timestamp_ms: f64) -> js_sys::Array {
        let (topic, payload) = decoders_wasm::sparkplug_rebirth(group, node, timestamp_ms);
        js_sys::Array::of2(
            &topic.into(),
            &js_sys::Uint8Array::from(&payload[..]).into(),
        )
    }

    /// Forgets Sparkplug B's state (aliases, sequences, online states).
    #[wasm_bindgen]
    pub fn sparkplug_clear() {
        decoders_wasm::sparkplug_clear();
    }
}

fn main() {}
