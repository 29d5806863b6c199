//! How a payload is displayed: text, pretty JSON, a OneNet `$dp` frame, or a
//! hex dump, and only the first `limit` bytes of a large one.
//!
//! This is the expensive part of showing a message, so the model never does
//! it on ingest: the UI calls [`render_payload`] for the panels it shows, when
//! their generation changed. The result is plain text for the UI to put in
//! the DOM as text (never as HTML).
//!
//! JSON is re-indented from its own tokens rather than round-tripped through
//! a [`crate::json::Value`], after [`crate::json::check`] has checked it: a
//! viewer must show the device's key order, duplicate keys and number
//! spellings (`12345678901234567890123`, `1.50`) exactly as sent, which a
//! `Value` would sort, merge and round. The layout is serde_json's pretty
//! layout (two-space indent, `": "`).

use crate::decoding::Decoded;
use crate::onenet::split_dp;
use std::fmt::Write as _;

/// A sensible default for `limit`: enough for a screenful.
pub const DEFAULT_VIEW_LIMIT: usize = 16 * 1024;
/// JSON larger than this is shown as raw text rather than re-indented.
pub const JSON_PRETTY_MAX: usize = 1024 * 1024;
/// Bytes per hex dump line.
pub const HEX_BYTES_PER_LINE: usize = 16;

/// A payload, ready to be shown as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadView {
    /// A zero-length payload (for example a cleared retained message).
    Empty,
    /// UTF-8 text that is not a JSON object or array.
    Text {
        /// The text shown.
        text: String,
        /// `Some(full payload size in bytes)` when only the first part is shown.
        truncated_from: Option<usize>,
    },
    /// A JSON object or array, re-indented.
    Json {
        /// The indented JSON shown.
        pretty: String,
        /// `Some(full payload size in bytes)` when only the first part is shown.
        truncated_from: Option<usize>,
    },
    /// A OneNet `$dp` frame (type byte, 2-byte length, JSON).
    OneNetDp {
        /// The `$dp` type byte (1 or 3).
        dp_type: u8,
        /// The JSON inside, re-indented.
        pretty: String,
        /// `Some(full payload size in bytes)` when only the first part is shown.
        truncated_from: Option<usize>,
    },
    /// A payload a decoder read (Sparkplug B, Protobuf, CBOR, MessagePack):
    /// the JSON it made, indented.
    Decoded {
        /// The decoder's name.
        label: &'static str,
        /// The indented JSON shown.
        pretty: String,
        /// `Some(full JSON size in bytes)` when only the first part is shown.
        truncated_from: Option<usize>,
    },
    /// A payload its decoder could not read: the reason, then a hex dump.
    DecodeFailed {
        /// The decoder's name.
        label: &'static str,
        /// The reason and the hex dump.
        text: String,
        /// `Some(full payload size in bytes)` when only the first part is shown.
        truncated_from: Option<usize>,
    },
    /// Bytes that are not text: a hex dump, 16 bytes a line with offsets.
    Binary {
        /// The hex dump shown.
        hex: String,
        /// The payload's size in bytes.
        size: usize,
        /// `Some(full payload size in bytes)` when only the first part is shown.
        truncated_from: Option<usize>,
    },
}

impl PayloadView {
    /// The full payload size when only part of it is shown, so the UI can
    /// offer "show all" (render again with `limit = usize::MAX`).
    pub fn truncated_from(&self) -> Option<usize> {
        match self {
            PayloadView::Empty => None,
            PayloadView::Text { truncated_from, .. }
            | PayloadView::Json { truncated_from, .. }
            | PayloadView::OneNetDp { truncated_from, .. }
            | PayloadView::Decoded { truncated_from, .. }
            | PayloadView::DecodeFailed { truncated_from, .. }
            | PayloadView::Binary { truncated_from, .. } => *truncated_from,
        }
    }

    /// The text to display.
    pub fn body(&self) -> &str {
        match self {
            PayloadView::Empty => "",
            PayloadView::Text { text, .. } => text,
            PayloadView::Json { pretty, .. }
            | PayloadView::OneNetDp { pretty, .. }
            | PayloadView::Decoded { pretty, .. } => pretty,
            PayloadView::DecodeFailed { text, .. } => text,
            PayloadView::Binary { hex, .. } => hex,
        }
    }

    /// A short label for the kind of payload: `empty`, `text`, `JSON`,
    /// `$dp type 1`, `binary`.
    pub fn kind_label(&self) -> String {
        match self {
            PayloadView::Empty => "empty".to_owned(),
            PayloadView::Text { .. } => "text".to_owned(),
            PayloadView::Json { .. } => "JSON".to_owned(),
            PayloadView::OneNetDp { dp_type, .. } => format!("$dp type {dp_type}"),
            PayloadView::Decoded { label, .. } => (*label).to_owned(),
            PayloadView::DecodeFailed { label, .. } => format!("{label}: not decoded"),
            PayloadView::Binary { .. } => "binary".to_owned(),
        }
    }
}

/// Renders a payload its decoder read: the decoder's JSON indented (at most
/// about `limit` bytes of it), or, when decoding failed, the reason and a
/// hex dump of the payload's first `limit` bytes.
pub fn render_decoded(decoded: &Decoded, payload: &[u8], limit: usize) -> PayloadView {
    let label = decoded.label;
    match &decoded.result {
        Ok(json) => {
            let (pretty, complete) = if json.len() <= JSON_PRETTY_MAX {
                pretty_json(json, limit)
            } else {
                let shown = json.get(..limit.min(json.len())).unwrap_or(json);
                let text = String::from_utf8_lossy(shown).into_owned();
                (text, shown.len() == json.len())
            };
            PayloadView::Decoded {
                label,
                pretty,
                truncated_from: (!complete).then_some(json.len()),
            }
        }
        Err(reason) => {
            let shown = payload.get(..limit.min(payload.len())).unwrap_or(payload);
            let mut text = format!("could not decode as {label}: {reason}\n\n");
            text.push_str(&hex_dump(shown));
            PayloadView::DecodeFailed {
                label,
                text,
                truncated_from: (shown.len() < payload.len()).then_some(payload.len()),
            }
        }
    }
}

/// Renders `payload` for display, showing at most about `limit` bytes of it
/// (a cut text ends at a character boundary). See [`PayloadView`].
///
/// UTF-8 text containing control characters other than tab, newline and
/// carriage return is shown as binary: it is almost certainly not text.
pub fn render_payload(payload: &[u8], limit: usize) -> PayloadView {
    if payload.is_empty() {
        return PayloadView::Empty;
    }
    let size = payload.len();
    let truncated = |shown_all: bool| (!shown_all).then_some(size);

    if let Some((dp_type, json)) = split_dp(payload) {
        if is_json_container(json) {
            let (pretty, complete) = pretty_json(json, limit);
            return PayloadView::OneNetDp {
                dp_type,
                pretty,
                truncated_from: truncated(complete),
            };
        }
    }

    let shown = payload.get(..limit.min(size)).unwrap_or(payload);
    if let Some(text) = text_prefix(shown, shown.len() < size) {
        if size <= JSON_PRETTY_MAX && is_json_container(payload) {
            let (pretty, complete) = pretty_json(payload, limit);
            return PayloadView::Json {
                pretty,
                truncated_from: truncated(complete),
            };
        }
        return PayloadView::Text {
            text: text.to_owned(),
            truncated_from: truncated(text.len() == size),
        };
    }

    PayloadView::Binary {
        hex: hex_dump(shown),
        size,
        truncated_from: truncated(shown.len() == size),
    }
}

/// The prefix as text, if it is UTF-8 without unusual control characters.
/// When `cut` is set the prefix may end inside a character, which is then
/// left out.
fn text_prefix(prefix: &[u8], cut: bool) -> Option<&str> {
    let text = match std::str::from_utf8(prefix) {
        Ok(t) => t,
        Err(e) if cut && e.error_len().is_none() => {
            std::str::from_utf8(prefix.get(..e.valid_up_to())?).ok()?
        }
        Err(_) => return None,
    };
    let is_text = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    is_text.then_some(text)
}

/// Whether `bytes` is a complete, valid JSON object or array.
fn is_json_container(bytes: &[u8]) -> bool {
    matches!(bytes.trim_ascii_start().first(), Some(b'{' | b'['))
        && crate::json::check(bytes).is_ok()
}

/// Re-indents valid JSON in serde_json's pretty layout, keeping every token
/// as written. Stops after about `limit` bytes of output (at a character
/// boundary); returns the text and whether it is complete.
fn pretty_json(json: &[u8], limit: usize) -> (String, bool) {
    let mut out: Vec<u8> =
        Vec::with_capacity(json.len().saturating_mul(2).min(limit.saturating_add(8)));
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut iter = json.iter().copied().peekable();
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut complete = true;
    while let Some(b) = iter.next() {
        if out.len() > limit {
            complete = false;
            break;
        }
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                out.push(b);
                while iter.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                if let Some(close) = iter.next_if(|c| matches!(c, b'}' | b']')) {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            other => out.push(other),
        }
    }
    if out.len() > limit {
        complete = false;
    }
    let text = match String::from_utf8(out) {
        Ok(t) => t,
        Err(e) => {
            // Only possible when the output was cut inside a character.
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    };
    if complete {
        (text, true)
    } else {
        (
            crate::series::cut_at_char_boundary(&text, limit).to_owned(),
            false,
        )
    }
}

/// A `hexdump -C` style dump: offset, 16 bytes in two groups of 8, and the
/// printable ASCII characters between bars.
pub fn hex_dump(bytes: &[u8]) -> String {
    let lines = bytes.len().div_ceil(HEX_BYTES_PER_LINE);
    let mut out = String::with_capacity(lines * 80);
    for (n, chunk) in bytes.chunks(HEX_BYTES_PER_LINE).enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{:08x} ", n * HEX_BYTES_PER_LINE);
        for i in 0..HEX_BYTES_PER_LINE {
            if i % 8 == 0 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str(" |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push('|');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_payload_is_empty() {
        assert_eq!(render_payload(b"", 100), PayloadView::Empty);
    }

    #[test]
    fn utf8_text_is_shown_as_text() {
        assert_eq!(
            render_payload("温度 22.5 °C\n".as_bytes(), 100),
            PayloadView::Text {
                text: "温度 22.5 °C\n".to_owned(),
                truncated_from: None
            }
        );
    }

    #[test]
    fn json_object_is_pretty_printed_keeping_key_order_and_numbers() {
        let view = render_payload(
            br#"{"z":1.50,"a":[1,2],"e":{},"big":12345678901234567890123}"#,
            1000,
        );
        assert_eq!(
            view,
            PayloadView::Json {
                pretty: "{\n  \"z\": 1.50,\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": {},\n  \"big\": 12345678901234567890123\n}".to_owned(),
                truncated_from: None
            }
        );
    }

    #[test]
    fn pretty_json_matches_serde_json_layout_for_ordinary_documents() {
        let src = r#" { "a" : [ { "b" : "x,y:{" } , [ ] , null , true ] , "c\"d" : -2 } "#;
        let value: serde_json::Value = serde_json::from_str(src).unwrap();
        let (pretty, complete) = pretty_json(src.as_bytes(), usize::MAX);
        assert!(complete);
        assert_eq!(pretty, serde_json::to_string_pretty(&value).unwrap());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        #[test]
        fn any_serde_json_document_is_shown_in_serde_json_pretty_layout(
            text in crate::json::tests::json_text()
        ) {
            // serde_json's compact text of the document (keys sorted, one of
            // each, numbers as it prints them) is shown as it pretty-prints
            // the same value; anything serde_json refuses is shown as such.
            // (Text with control characters such as U+007F is shown as
            // binary, JSON or not.)
            let texty = |t: &str| t.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            let view = render_payload(text.as_bytes(), usize::MAX);
            let container = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
            if !texty(&text) {
                proptest::prop_assert!(matches!(view, PayloadView::Binary { .. }), "{:?} shown as {:?}", text, view);
            }
            if let Ok(value) = theirs {
                let compact = value.to_string();
                let shown = render_payload(compact.as_bytes(), usize::MAX);
                let is_container = value.is_object() || value.is_array();
                if is_container && texty(&compact) {
                    proptest::prop_assert_eq!(
                        shown.body(),
                        serde_json::to_string_pretty(&value).unwrap()
                    );
                }
                if is_container && texty(&text) {
                    proptest::prop_assert!(matches!(view, PayloadView::Json { .. }), "{:?} shown as {:?}", text, view);
                }
                if !is_container {
                    proptest::prop_assert!(!matches!(view, PayloadView::Json { .. }), "{:?} shown as {:?}", text, view);
                }
            } else if container && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_err() {
                proptest::prop_assert!(!matches!(view, PayloadView::Json { .. }), "{:?} shown as {:?}", text, view);
            }
        }
    }

    #[test]
    fn json_scalars_and_invalid_json_stay_text() {
        assert!(matches!(
            render_payload(b"42", 100),
            PayloadView::Text { .. }
        ));
        assert!(matches!(
            render_payload(b"\"hi\"", 100),
            PayloadView::Text { .. }
        ));
        assert!(matches!(
            render_payload(b"{not json", 100),
            PayloadView::Text { .. }
        ));
    }

    #[test]
    fn non_utf8_payload_is_a_hex_dump_with_its_size() {
        let view = render_payload(&[0x00, 0xff, 0x1a, b'A'], 100);
        assert_eq!(
            view,
            PayloadView::Binary {
                hex: "00000000  00 ff 1a 41                                       |...A|"
                    .to_owned(),
                size: 4,
                truncated_from: None
            }
        );
    }

    #[test]
    fn hex_dump_puts_16_bytes_a_line_with_offsets() {
        let bytes: Vec<u8> = (0u8..20).collect();
        let dump = hex_dump(&bytes);
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
        );
        assert!(lines[1].starts_with("00000010  10 11 12 13 "));
        assert_eq!(lines[0].len(), lines[1].len() + 12);
    }

    #[test]
    fn text_with_nul_is_shown_as_binary() {
        assert!(matches!(
            render_payload(b"a\0b", 100),
            PayloadView::Binary { size: 3, .. }
        ));
    }

    #[test]
    fn large_text_is_cut_at_a_char_boundary_with_the_full_size() {
        let text = "é".repeat(10);
        let view = render_payload(text.as_bytes(), 5);
        assert_eq!(
            view,
            PayloadView::Text {
                text: "éé".to_owned(),
                truncated_from: Some(20)
            }
        );
        assert_eq!(view.truncated_from(), Some(20));
    }

    #[test]
    fn large_binary_shows_only_the_first_limit_bytes() {
        let bytes = vec![0xffu8; 100];
        let view = render_payload(&bytes, 32);
        match view {
            PayloadView::Binary {
                hex,
                size,
                truncated_from,
            } => {
                assert_eq!(hex.lines().count(), 2);
                assert_eq!(size, 100);
                assert_eq!(truncated_from, Some(100));
            }
            other => panic!("expected binary, got {other:?}"),
        }
    }

    #[test]
    fn large_json_is_pretty_printed_in_part_and_whole_with_no_limit() {
        let items: Vec<String> = (0..200).map(|i| format!("{{\"n\":{i}}}")).collect();
        let json = format!("[{}]", items.join(","));
        let part = render_payload(json.as_bytes(), 64);
        match &part {
            PayloadView::Json {
                pretty,
                truncated_from,
            } => {
                assert!(pretty.len() <= 64);
                assert!(pretty.starts_with("[\n  {\n    \"n\": 0"));
                assert_eq!(*truncated_from, Some(json.len()));
            }
            other => panic!("expected JSON, got {other:?}"),
        }
        let whole = render_payload(json.as_bytes(), usize::MAX);
        assert_eq!(whole.truncated_from(), None);
        assert!(whole.body().ends_with("\"n\": 199\n  }\n]"));
    }

    #[test]
    fn onenet_dp_frame_is_shown_as_its_type_and_pretty_json() {
        let body = br#"{"temp":22.1}"#;
        let mut frame = vec![0x03, 0x00, body.len() as u8];
        frame.extend_from_slice(body);
        let view = render_payload(&frame, 1000);
        assert_eq!(
            view,
            PayloadView::OneNetDp {
                dp_type: 3,
                pretty: "{\n  \"temp\": 22.1\n}".to_owned(),
                truncated_from: None
            }
        );
        assert_eq!(view.kind_label(), "$dp type 3");
    }

    #[test]
    fn dp_frame_with_a_bad_length_is_shown_as_binary() {
        let view = render_payload(&[0x01, 0x00, 0x09, b'{', b'}'], 1000);
        assert!(matches!(view, PayloadView::Binary { size: 5, .. }));
    }

    #[test]
    fn a_zero_limit_shows_nothing_but_reports_the_size() {
        let view = render_payload(b"hello", 0);
        assert_eq!(view.body(), "");
        assert_eq!(view.truncated_from(), Some(5));
    }
}
