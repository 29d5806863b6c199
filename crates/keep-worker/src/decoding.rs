//! Decoded payloads in exports: the page sends its decoder rules and schema
//! files with an export request, and each exported record whose topic a
//! rule matches gets what that decoder made of it (docs/keep.md, "Decoded
//! payloads"). The decoders are `decoders-wasm`'s, the same code the page
//! runs, in this worker's own instance: Sparkplug B's aliases are learnt
//! from the births in the export itself, in order.
//!
//! Must not: change a record, or fail an export because a payload could not
//! be decoded (that is a `decode_error` on its line).

use wasm_bindgen::JsValue;

use crate::js;

/// One rule as the page sends it.
struct Rule {
    filter: String,
    code: String,
    message: String,
    label: String,
}

/// The rules of one export.
pub struct Decoding {
    rules: Vec<Rule>,
}

/// What a decoder made of one payload.
pub struct Outcome {
    /// The decoder's name.
    pub label: String,
    /// The JSON (`Ok`) or why decoding failed (`Err`).
    pub result: Result<String, String>,
    /// The JSON the CSV field columns read (Sparkplug B: its metrics).
    pub chart: Option<String>,
}

impl Decoding {
    /// The request's `decoders` (JSON text: `[{filter, decoder, message,
    /// label}]`) and `schemas` (the schema files as the page keeps them,
    /// JSON text); `None` when there
    /// is no rule. Starts from a fresh Sparkplug B state.
    pub fn from_request(data: &JsValue) -> Option<Decoding> {
        let text = js::get_str(data, "decoders");
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let field = |r: &serde_json::Value, k: &str| {
            r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned()
        };
        let rules: Vec<Rule> = v
            .as_array()?
            .iter()
            .map(|r| Rule {
                filter: field(r, "filter"),
                code: field(r, "decoder"),
                message: field(r, "message"),
                label: field(r, "label"),
            })
            .filter(|r| !r.filter.is_empty())
            .collect();
        if rules.is_empty() {
            return None;
        }
        decoders_wasm::sparkplug_clear();
        // The schema files as the page keeps them (JSON text, hex bytes).
        let files = decoders_wasm::schema_files_from_json(&js::get_str(data, "schemas"));
        if files.is_empty() {
            decoders_wasm::clear_schemas();
        } else {
            // A schema that does not compile leaves its messages as errors.
            let _ = decoders_wasm::set_schemas(&files);
        }
        Some(Decoding { rules })
    }

    /// What the first rule matching `topic` makes of `payload`.
    pub fn decode(&self, topic: &str, payload: &[u8], received_ms: f64) -> Option<Outcome> {
        let rule = self
            .rules
            .iter()
            .find(|r| mqtt_session::topic::matches(topic, &r.filter))?;
        let answer = decoders_wasm::decode(&rule.code, topic, payload, &rule.message, received_ms);
        let (result, chart) = match answer.split_at_checked(1) {
            Some(("o" | "r", rest)) => match rest.split_once('\u{1}') {
                Some((json, chart)) => (Ok(json.to_owned()), Some(chart.to_owned())),
                None => (Ok(rest.to_owned()), Some(rest.to_owned())),
            },
            Some((_, reason)) => (Err(reason.to_owned()), None),
            None => (Err("the decoder gave no answer".to_owned()), None),
        };
        Some(Outcome {
            label: rule.label.clone(),
            result,
            chart,
        })
    }
}
