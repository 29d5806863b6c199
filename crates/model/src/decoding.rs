//! Which decoder reads which topic, and what a decoded payload is.
//!
//! A [`DecoderRule`] maps a topic filter to a [`Decoder`] (Sparkplug B,
//! Protobuf with or without a schema, CBOR, MessagePack); [`DecoderRules`]
//! picks the first rule whose filter matches a topic. The decoders
//! themselves run in a separate wasm module the page loads when a rule
//! first matches (`crates/decoders-wasm`); what they give back is a
//! [`Decoded`]: JSON text, or the reason the payload could not be read.
//! The model carries it with the message, and the pretty view, the diff,
//! the charts and the export use it where they would use a JSON payload.
//!
//! This module must not decode anything itself (the decoders are large and
//! load lazily) and never panics on stored or hostile rules.

use std::sync::Arc;

use bytes::Bytes;

use crate::json::{self, Value};
use crate::topic;

/// A decoder a rule can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoder {
    /// Sparkplug B (Eclipse Tahu's protobuf payload, `spBv1.0/…` topics).
    SparkplugB,
    /// Protobuf: with `message` empty, the raw wire format (like
    /// `protoc --decode_raw`); else that message type of the loaded schema
    /// files.
    Protobuf {
        /// Fully qualified message type, or empty for the raw view.
        message: String,
    },
    /// CBOR (RFC 8949).
    Cbor,
    /// MessagePack.
    MessagePack,
}

impl Decoder {
    /// The name shown beside a decoded payload and in the rule list.
    pub fn label(&self) -> &'static str {
        match self {
            Decoder::SparkplugB => "Sparkplug B",
            Decoder::Protobuf { message } if message.is_empty() => "Protobuf (raw)",
            Decoder::Protobuf { .. } => "Protobuf",
            Decoder::Cbor => "CBOR",
            Decoder::MessagePack => "MessagePack",
        }
    }

    /// The short name used in saved profiles and in the decoder module's
    /// calls: `sparkplug`, `protobuf`, `cbor`, `msgpack`.
    pub fn code(&self) -> &'static str {
        match self {
            Decoder::SparkplugB => "sparkplug",
            Decoder::Protobuf { .. } => "protobuf",
            Decoder::Cbor => "cbor",
            Decoder::MessagePack => "msgpack",
        }
    }

    /// The decoder a short name names (`message` only for `protobuf`).
    pub fn from_code(code: &str, message: &str) -> Option<Decoder> {
        Some(match code {
            "sparkplug" => Decoder::SparkplugB,
            "protobuf" => Decoder::Protobuf {
                message: message.trim().to_owned(),
            },
            "cbor" => Decoder::Cbor,
            "msgpack" => Decoder::MessagePack,
            _ => return None,
        })
    }
}

/// One assignment: messages on topics matching `filter` are read by `decoder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderRule {
    /// An MQTT topic filter (`spBv1.0/#`, `factory/+/telemetry`).
    pub filter: String,
    /// What reads them.
    pub decoder: Decoder,
}

/// The most rules a profile keeps: more is certainly a mistake, and each
/// message is matched against them in order.
pub const MAX_RULES: usize = 64;

/// The rules in order; the first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderRules {
    rules: Vec<DecoderRule>,
}

impl Default for DecoderRules {
    /// The rules of a new profile: Sparkplug B on its topic namespace (3.0's
    /// `spBv1.0/STATE/…` included) and on Sparkplug 2.2's `STATE/…`.
    /// OneNet `$dp` frames need no rule: every payload is checked for them.
    fn default() -> Self {
        DecoderRules {
            rules: vec![DecoderRule {
                filter: "spBv1.0/#".into(),
                decoder: Decoder::SparkplugB,
            }],
        }
    }
}

impl DecoderRules {
    /// No rules at all.
    pub fn none() -> Self {
        DecoderRules { rules: Vec::new() }
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[DecoderRule] {
        &self.rules
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The decoder of the first rule matching `topic`.
    pub fn pick(&self, topic: &str) -> Option<&Decoder> {
        self.rules
            .iter()
            .find(|r| topic::matches(topic, &r.filter))
            .map(|r| &r.decoder)
    }

    /// Adds a rule at the end, after checking its filter. A filter that
    /// already has a rule gets the new decoder in place.
    pub fn add(&mut self, filter: &str, decoder: Decoder) -> Result<(), String> {
        let filter = filter.trim();
        topic::validate_filter(filter).map_err(|e| e.to_string())?;
        if let Some(r) = self.rules.iter_mut().find(|r| r.filter == filter) {
            r.decoder = decoder;
            return Ok(());
        }
        if self.rules.len() >= MAX_RULES {
            return Err(format!("at most {MAX_RULES} decoder rules"));
        }
        self.rules.push(DecoderRule {
            filter: filter.to_owned(),
            decoder,
        });
        Ok(())
    }

    /// Removes the rule for `filter`; false when there was none.
    pub fn remove(&mut self, filter: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.filter != filter);
        self.rules.len() != before
    }

    /// The rules as JSON (`[{"filter":…,"decoder":…,"message":…}]`), as
    /// profiles save them.
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"filter\":");
            json::write_string(&mut out, &r.filter);
            out.push_str(",\"decoder\":");
            json::write_string(&mut out, r.decoder.code());
            if let Decoder::Protobuf { message } = &r.decoder {
                out.push_str(",\"message\":");
                json::write_string(&mut out, message);
            }
            out.push('}');
        }
        out.push(']');
        out
    }

    /// Rules read back from [`DecoderRules::to_json`]'s shape. Entries that
    /// are not rules (unknown decoder, invalid filter, wrong types) are left
    /// out and counted in the error sentence, so a hand-edited profile never
    /// stops the rest from loading.
    pub fn from_value(v: &Value) -> (DecoderRules, Option<String>) {
        let mut rules = DecoderRules::none();
        let Some(items) = v.as_array() else {
            return (rules, Some("decoders: not a list".into()));
        };
        let mut skipped = 0usize;
        for item in items {
            let filter = item.get("filter").and_then(Value::as_str);
            let code = item.get("decoder").and_then(Value::as_str);
            let message = item.get("message").and_then(Value::as_str).unwrap_or("");
            let decoder = code.and_then(|c| Decoder::from_code(c, message));
            let added = match (filter, decoder) {
                (Some(f), Some(d)) => rules.add(f, d).is_ok(),
                _ => false,
            };
            if !added {
                skipped += 1;
            }
        }
        let note = (skipped > 0).then(|| format!("decoders: {skipped} rule(s) not understood"));
        (rules, note)
    }
}

/// What a decoder made of one payload; shared by the panel's last message
/// and its history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The decoder's label ([`Decoder::label`]).
    pub label: &'static str,
    /// The payload as compact JSON text, or why it could not be read.
    pub result: Result<Bytes, String>,
    /// The JSON the charts read: the whole of `result`, or for Sparkplug B
    /// its `metrics` object (readings by metric name, not sequence numbers
    /// and timestamps).
    pub chart: Option<Bytes>,
}

impl Decoded {
    /// A decoded payload: `json` shown, `chart` charted.
    pub fn ok(label: &'static str, json: Bytes, chart: Bytes) -> Arc<Decoded> {
        Arc::new(Decoded {
            label,
            result: Ok(json),
            chart: Some(chart),
        })
    }

    /// A payload the decoder could not read, and why.
    pub fn failed(label: &'static str, reason: String) -> Arc<Decoded> {
        Arc::new(Decoded {
            label,
            result: Err(reason),
            chart: None,
        })
    }

    /// The JSON text, when decoding worked.
    pub fn json(&self) -> Option<&[u8]> {
        self.result.as_ref().ok().map(|b| &b[..])
    }

    /// What it costs against the history's byte caps.
    pub fn cost(&self) -> usize {
        let shared = match (&self.result, &self.chart) {
            // The chart is a slice of the same buffer when it is the whole.
            (Ok(j), Some(c)) if j.as_ptr() == c.as_ptr() => 0,
            (_, Some(c)) => c.len(),
            _ => 0,
        };
        std::mem::size_of::<Decoded>()
            + match &self.result {
                Ok(j) => j.len(),
                Err(e) => e.len(),
            }
            + shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_profile_reads_sparkplug_topics_with_sparkplug_b() {
        let rules = DecoderRules::default();
        assert_eq!(
            rules.pick("spBv1.0/plant/DDATA/node-1/dev-1"),
            Some(&Decoder::SparkplugB)
        );
        assert_eq!(
            rules.pick("spBv1.0/STATE/scada"),
            Some(&Decoder::SparkplugB)
        );
        assert_eq!(rules.pick("building-a/floor-1/temp"), None);
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let mut rules = DecoderRules::none();
        rules.add("factory/+/telemetry", Decoder::Cbor).unwrap();
        rules.add("factory/#", Decoder::MessagePack).unwrap();
        assert_eq!(rules.pick("factory/a/telemetry"), Some(&Decoder::Cbor));
        assert_eq!(rules.pick("factory/a/status"), Some(&Decoder::MessagePack));
    }

    #[test]
    fn an_invalid_filter_is_refused_with_the_topic_rules_sentence() {
        let mut rules = DecoderRules::none();
        let err = rules.add("a/#/b", Decoder::Cbor).unwrap_err();
        assert!(err.contains('#'), "{err}");
        assert!(rules.is_empty());
    }

    #[test]
    fn adding_a_filter_again_replaces_its_decoder_and_remove_takes_it_out() {
        let mut rules = DecoderRules::none();
        rules.add("x/#", Decoder::Cbor).unwrap();
        rules.add("x/#", Decoder::MessagePack).unwrap();
        assert_eq!(rules.rules().len(), 1);
        assert_eq!(rules.pick("x/1"), Some(&Decoder::MessagePack));
        assert!(rules.remove("x/#"));
        assert!(!rules.remove("x/#"));
        assert_eq!(rules.pick("x/1"), None);
    }

    #[test]
    fn rules_round_trip_through_their_json() {
        let mut rules = DecoderRules::default();
        rules
            .add(
                "m/+/pb",
                Decoder::Protobuf {
                    message: "acme.Reading".into(),
                },
            )
            .unwrap();
        rules
            .add(
                "m/raw",
                Decoder::Protobuf {
                    message: String::new(),
                },
            )
            .unwrap();
        let text = rules.to_json();
        let (back, note) = DecoderRules::from_value(&json::parse(text.as_bytes()).unwrap());
        assert_eq!(back, rules);
        assert_eq!(note, None);
        assert_eq!(
            back.pick("m/raw").map(Decoder::label),
            Some("Protobuf (raw)")
        );
    }

    #[test]
    fn stored_rules_that_are_not_rules_are_skipped_and_counted() {
        let v = json::parse(
            br#"[{"filter":"a/#","decoder":"cbor"},{"filter":"a/#/b","decoder":"cbor"},
                {"filter":"b","decoder":"xml"},{"decoder":"cbor"},7]"#,
        )
        .unwrap();
        let (rules, note) = DecoderRules::from_value(&v);
        assert_eq!(rules.rules().len(), 1);
        assert_eq!(note.as_deref(), Some("decoders: 4 rule(s) not understood"));
    }

    #[test]
    fn no_more_than_the_maximum_number_of_rules_is_kept() {
        let mut rules = DecoderRules::none();
        for i in 0..MAX_RULES {
            rules.add(&format!("t/{i}"), Decoder::Cbor).unwrap();
        }
        assert!(rules.add("t/over", Decoder::Cbor).is_err());
    }

    #[test]
    fn a_decoded_payload_costs_its_text_once_when_the_chart_is_the_whole() {
        let json = Bytes::from_static(b"{\"a\":1}");
        let d = Decoded::ok("CBOR", json.clone(), json);
        assert_eq!(d.cost(), std::mem::size_of::<Decoded>() + 7);
        let s = Decoded::ok(
            "Sparkplug B",
            Bytes::from_static(b"{\"metrics\":{\"a\":1}}"),
            Bytes::from_static(b"{\"a\":1}"),
        );
        assert_eq!(s.cost(), std::mem::size_of::<Decoded>() + 19 + 7);
    }

    fn decoded_message(topic: &str, payload: &'static [u8], d: Arc<Decoded>) -> crate::Incoming {
        let mut m = crate::Incoming::new(topic, payload, 1000.0);
        m.decoded = Some(d);
        m
    }

    #[test]
    fn a_decoded_payload_is_charted_from_its_chart_json_and_shown_as_its_json() {
        let mut dash = crate::Dashboard::new(crate::Limits::default());
        let d = Decoded::ok(
            "Sparkplug B",
            Bytes::from_static(b"{\"seq\":4,\"metrics\":{\"Temperature\":21.5}}"),
            Bytes::from_static(b"{\"Temperature\":21.5}"),
        );
        dash.apply_batch(
            [decoded_message("spBv1.0/g/DDATA/n/d", b"\x08\x01", d)],
            1000.0,
        );
        let panel = dash.panel_by_topic("spBv1.0/g/DDATA/n/d").unwrap();
        let names: Vec<&str> = panel.series().iter().map(|s| s.name()).collect();
        assert_eq!(names, vec!["Temperature"]);
        let view = crate::render_entry(panel.last().unwrap(), 1 << 16);
        assert_eq!(view.kind_label(), "Sparkplug B");
        assert!(
            view.body().contains("\"Temperature\": 21.5"),
            "{}",
            view.body()
        );
    }

    #[test]
    fn a_payload_its_decoder_could_not_read_shows_why_and_its_bytes_and_charts_nothing() {
        let mut dash = crate::Dashboard::new(crate::Limits::default());
        let d = Decoded::failed("CBOR", "at byte 1: truncated".into());
        // The bytes would read as a number if they were charted as text.
        dash.apply_batch([decoded_message("c/1", b"42", d)], 1000.0);
        let panel = dash.panel_by_topic("c/1").unwrap();
        assert_eq!(panel.series().iter().count(), 0);
        let view = crate::render_entry(panel.last().unwrap(), 1 << 16);
        assert_eq!(view.kind_label(), "CBOR: not decoded");
        assert!(view
            .body()
            .starts_with("could not decode as CBOR: at byte 1: truncated"));
        assert!(view.body().contains("34 32"), "{}", view.body());
    }

    #[test]
    fn the_diff_and_the_search_read_a_decoded_payload_as_its_json() {
        let mut dash = crate::Dashboard::new(crate::Limits::default());
        let json =
            |t: &'static [u8]| Decoded::ok("CBOR", Bytes::from_static(t), Bytes::from_static(t));
        dash.apply_batch(
            [
                decoded_message("c/1", b"\xa1\x61t\x01", json(b"{\"t\":1,\"u\":\"C\"}")),
                decoded_message("c/1", b"\xa1\x61t\x02", json(b"{\"t\":2,\"u\":\"C\"}")),
            ],
            1000.0,
        );
        let h = dash.panel_by_topic("c/1").unwrap().history();
        let (new, old) = (h.get(0).unwrap(), h.get(1).unwrap());
        assert_eq!(new.readable(), b"{\"t\":2,\"u\":\"C\"}");
        match crate::diff_payloads(old.readable(), new.readable()) {
            crate::Diff::Json { changes, more } => {
                assert_eq!(more, 0);
                let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
                assert_eq!(paths, ["t"], "{changes:?}");
            }
            other => panic!("not a JSON diff: {other:?}"),
        }
        // The search finds text that is only in the decoded JSON.
        assert!(crate::search::Needle::new("\"u\":\"C\"").found_in(new.readable()));
        assert!(!crate::search::Needle::new("\"u\"").found_in(&new.payload));
    }
}
