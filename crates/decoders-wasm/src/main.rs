//! mqdash's decoder module: the page (`src/decoders.rs`) imports it the
//! first time a message's topic matches a decoder rule, then calls
//! [`decoders_wasm::decode`] once per such message, synchronously.
//!
//! Answers are strings, so one call crosses the boundary once: `o<json>`,
//! `o<json>\u{1}<chart json>` (Sparkplug B: the charts read its `metrics`
//! object only; `r` instead of `o` when it used aliases no birth defined) or
//! `e<reason>`. It holds the state that spans messages:
//! Sparkplug B's aliases, sequence numbers and online states, and the
//! Protobuf schemas the user loaded.
//!
//! It must not panic (a panic would end this module, not the page, but
//! every later message would then fail): the decoders are fuzzed in their
//! own crates, and nothing here indexes or unwraps.

#[cfg(target_arch = "wasm32")]
mod card;

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

    /// Called once the page has imported the module: compiles the schema
    /// files kept from earlier visits and draws them; answers a sentence
    /// when they could not be read, else an empty string.
    #[wasm_bindgen]
    pub fn restore_schemas() -> String {
        crate::card::restore().unwrap_or_default()
    }

    /// Adds picked schema files (kept, compiled, drawn); resolves to a
    /// sentence for the card, empty when all went well.
    #[wasm_bindgen]
    pub fn add_schema_files(files: js_sys::Array) -> js_sys::Promise {
        wasm_bindgen_futures::future_to_promise(async move {
            Ok(JsValue::from(crate::card::add_files(files).await))
        })
    }

    /// Forgets every schema file.
    #[wasm_bindgen]
    pub fn forget_schemas() {
        crate::card::forget();
    }

    /// See [`decoders_wasm::import_profiles`].
    #[wasm_bindgen]
    pub fn import_profiles(current: &str, file: &str) -> String {
        decoders_wasm::import_profiles(current, file)
    }

    /// Whether the loaded schemas define message type `name`.
    #[wasm_bindgen]
    pub fn has_message_type(name: &str) -> bool {
        decoders_wasm::has_message_type(name)
    }

    /// Draws the Sparkplug B node list in the card.
    #[wasm_bindgen]
    pub fn render_nodes() {
        crate::card::draw_nodes(&decoders_wasm::sparkplug_nodes());
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
