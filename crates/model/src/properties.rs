//! MQTT 5 message properties as the screen shows them, and the publish
//! form's properties as the session takes them.
//!
//! A received message keeps its properties as the session decoded them
//! ([`mqtt_session::PublishProperties`]) behind an `Arc`, shared by the
//! panel's last message and its history entry; MQTT 3.1 and 3.1.1 messages
//! (and MQTT 5 ones without properties) keep `None`, one pointer. Nothing
//! here runs on ingest: [`property_lines`] and [`render_message`] are called
//! for what is displayed.
//!
//! Everything is plain text for the UI to put in the DOM as text: content
//! types, topics, user properties and correlation data come from the
//! network and are never HTML. Nothing here panics on any bytes.

use std::fmt::Write as _;

use mqtt_session::PublishProperties;

use crate::payload_view::{render_payload, PayloadView};

/// Characters of a property value shown before it is cut with `…`.
pub const VALUE_MAX_CHARS: usize = 200;

/// What one entry's properties cost against the history's byte caps,
/// beyond the entry itself: the struct, its strings, pairs and bytes.
pub fn properties_cost(p: &PublishProperties) -> usize {
    let s = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    std::mem::size_of::<PublishProperties>()
        .saturating_add(s(&p.content_type))
        .saturating_add(s(&p.response_topic))
        .saturating_add(p.correlation_data.as_ref().map_or(0, |b| b.len()))
        .saturating_add(p.user_properties.iter().fold(0usize, |n, (k, v)| {
            n.saturating_add(k.len() + v.len() + 2 * std::mem::size_of::<String>())
        }))
        .saturating_add(p.subscription_identifiers.len() * 4)
}

/// A value cut to [`VALUE_MAX_CHARS`] characters, control characters shown
/// as visible symbols (a value is one line of text).
fn one_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(VALUE_MAX_CHARS * 4));
    for (i, c) in value.chars().enumerate() {
        if i == VALUE_MAX_CHARS {
            out.push('…');
            break;
        }
        out.push(visible(c));
    }
    out
}

/// A control character as a visible symbol (C0 as the Unicode control
/// pictures, DEL as ␡, C1 as U+FFFD); anything else as it is.
fn visible(c: char) -> char {
    match c {
        '\0'..='\x1f' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\x7f' => '\u{2421}',
        '\u{80}'..='\u{9f}' => '\u{fffd}',
        c => c,
    }
}

/// Correlation data as text when it is UTF-8 without control characters,
/// else as hex (`0x…`, cut after 64 bytes with the size).
pub fn correlation_text(data: &[u8]) -> String {
    if let Ok(t) = std::str::from_utf8(data) {
        if !t.is_empty() && !t.chars().any(char::is_control) {
            return one_line(t);
        }
    }
    let mut out = String::from("0x");
    for b in data.iter().take(64) {
        let _ = write!(out, "{b:02x}");
    }
    if data.len() > 64 {
        let _ = write!(out, "… ({} bytes)", data.len());
    }
    out
}

/// What the payload format indicator says about this payload: `UTF-8 text`,
/// `unspecified bytes`, or that it declares UTF-8 and the payload is not
/// (with the offset of the first bad byte).
fn payload_format_text(indicator: u8, payload: &[u8]) -> String {
    match indicator {
        0 => "unspecified bytes".to_owned(),
        1 => match std::str::from_utf8(payload) {
            Ok(_) => "UTF-8 text".to_owned(),
            Err(e) => format!(
                "UTF-8 text declared, but the payload is not valid UTF-8 (byte {})",
                e.valid_up_to()
            ),
        },
        n => format!("unknown indicator {n}"),
    }
}

/// The properties of a message, one `(name, value)` per line, in the
/// spec's order: content type, payload format, message expiry, response
/// topic, correlation data, each user property (`key = value`, repeats and
/// order kept), each subscription identifier with the filter of the
/// subscription it names when `filter_of` knows it (`3 (sensors/#)`).
pub fn property_lines(
    p: &PublishProperties,
    payload: &[u8],
    filter_of: &dyn Fn(u32) -> Option<String>,
) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if let Some(ct) = &p.content_type {
        lines.push(("content type", one_line(ct)));
    }
    if let Some(pfi) = p.payload_format_indicator {
        lines.push(("payload format", payload_format_text(pfi, payload)));
    }
    if let Some(secs) = p.message_expiry_secs {
        lines.push(("message expiry", format!("{secs} s left when received")));
    }
    if let Some(rt) = &p.response_topic {
        lines.push(("response topic", one_line(rt)));
    }
    if let Some(cd) = &p.correlation_data {
        lines.push(("correlation data", correlation_text(cd)));
    }
    for (k, v) in &p.user_properties {
        lines.push((
            "user property",
            format!("{} = {}", one_line(k), one_line(v)),
        ));
    }
    for id in &p.subscription_identifiers {
        let text = match filter_of(*id) {
            Some(f) => format!("{id} ({})", one_line(&f)),
            None => id.to_string(),
        };
        lines.push(("subscription identifier", text));
    }
    lines
}

/// The lines as one compact line for a panel: `content type: x · unit = C
/// · …` (user properties without their name).
pub fn compact_line(lines: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    for (name, value) in lines {
        if !out.is_empty() {
            out.push_str(" · ");
        }
        if *name != "user property" {
            out.push_str(name);
            out.push_str(": ");
        }
        out.push_str(value);
    }
    out
}

/// Renders a payload for display like [`render_payload`], except that a
/// payload whose format indicator says UTF-8 is shown as text whenever it
/// is valid UTF-8 (control characters as visible symbols) rather than as a
/// hex dump. One that is not valid UTF-8 is shown as bytes, and
/// [`property_lines`] says so.
pub fn render_message(
    payload: &[u8],
    props: Option<&PublishProperties>,
    limit: usize,
) -> PayloadView {
    let view = render_payload(payload, limit);
    let utf8 = props.is_some_and(|p| p.payload_format_indicator == Some(1));
    if !utf8 || !matches!(view, PayloadView::Binary { .. }) {
        return view;
    }
    let Ok(text) = std::str::from_utf8(payload) else {
        return view;
    };
    let mut shown = String::with_capacity(text.len().min(limit.saturating_add(4)));
    let mut cut = false;
    for c in text.chars() {
        if shown.len() >= limit {
            cut = true;
            break;
        }
        shown.push(if matches!(c, '\t' | '\n' | '\r') {
            c
        } else {
            visible(c)
        });
    }
    PayloadView::Text {
        text: shown,
        truncated_from: cut.then_some(payload.len()),
    }
}

/// Renders a kept message for display: what its decoder made of it when a
/// decoder rule matched its topic, else as [`render_message`] does.
pub fn render_entry(entry: &crate::history::HistoryEntry, limit: usize) -> PayloadView {
    match entry.decoded.as_deref() {
        Some(d) => crate::payload_view::render_decoded(d, &entry.payload, limit),
        None => render_message(&entry.payload, entry.properties.as_deref(), limit),
    }
}

/// The publish form's "Message properties" as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertiesForm {
    /// Content type (empty: none).
    pub content_type: String,
    /// "Payload is UTF-8": payload format indicator 1 (else none sent).
    pub utf8: bool,
    /// Message expiry in seconds as typed (empty: none).
    pub expiry: String,
    /// Response topic (empty: none).
    pub response_topic: String,
    /// Correlation data as typed (empty: none): `0x` and an even number of
    /// hex digits is those bytes (binary correlation data), anything else
    /// is sent as its UTF-8 bytes.
    pub correlation: String,
    /// User properties in order (rows with an empty name and value are
    /// left out).
    pub user: Vec<(String, String)>,
}

impl PropertiesForm {
    /// The properties to publish with, or a sentence naming the field that
    /// is wrong. `payload` is the encoded payload: with "Payload is UTF-8"
    /// it must be valid UTF-8 (a broker may refuse it otherwise).
    pub fn build(&self, payload: &[u8]) -> Result<PublishProperties, String> {
        let mut p = PublishProperties::default();
        if !self.content_type.is_empty() {
            p.content_type = Some(self.content_type.clone());
        }
        if self.utf8 {
            if let Err(e) = std::str::from_utf8(payload) {
                return Err(format!(
                    "Payload is UTF-8 is checked, but the payload is not valid UTF-8 (byte {})",
                    e.valid_up_to()
                ));
            }
            p.payload_format_indicator = Some(1);
        }
        let expiry = self.expiry.trim();
        if !expiry.is_empty() {
            let secs = expiry.parse::<u32>().map_err(|_| {
                format!(
                    "Message expiry (s) must be a whole number of seconds from 0 to {}, not {expiry:?}",
                    u32::MAX
                )
            })?;
            p.message_expiry_secs = Some(secs);
        }
        if !self.response_topic.is_empty() {
            mqtt_session::topic::validate_topic_name(&self.response_topic)
                .map_err(|e| format!("Response topic: {e}"))?;
            p.response_topic = Some(self.response_topic.clone());
        }
        if !self.correlation.is_empty() {
            let bytes = correlation_hex(&self.correlation)
                .unwrap_or_else(|| self.correlation.clone().into_bytes());
            p.correlation_data = Some(bytes::Bytes::from(bytes));
        }
        for (i, (k, v)) in self.user.iter().enumerate() {
            if k.is_empty() && v.is_empty() {
                continue;
            }
            if k.is_empty() {
                return Err(format!("User property {} has a value but no name", i + 1));
            }
            p.user_properties.push((k.clone(), v.clone()));
        }
        Ok(p)
    }

    /// The form filled from a received message's properties ("Publish
    /// again"): correlation data as text when it is UTF-8 that would not
    /// read as hex, else as `0x` and its bytes in hex.
    pub fn from_properties(p: &PublishProperties) -> PropertiesForm {
        let correlation = p
            .correlation_data
            .as_ref()
            .map(|b| match std::str::from_utf8(b) {
                Ok(t) if correlation_hex(t).is_none() => t.to_owned(),
                _ => {
                    let mut s = String::from("0x");
                    for byte in b.iter() {
                        let _ = write!(s, "{byte:02x}");
                    }
                    s
                }
            });
        PropertiesForm {
            content_type: p.content_type.clone().unwrap_or_default(),
            utf8: p.payload_format_indicator == Some(1),
            expiry: p
                .message_expiry_secs
                .map(|s| s.to_string())
                .unwrap_or_default(),
            response_topic: p.response_topic.clone().unwrap_or_default(),
            correlation: correlation.unwrap_or_default(),
            user: p.user_properties.clone(),
        }
    }
}

/// `0x` and an even, non-zero number of hex digits as bytes.
fn correlation_hex(typed: &str) -> Option<Vec<u8>> {
    let digits = typed
        .strip_prefix("0x")
        .or_else(|| typed.strip_prefix("0X"))?
        .as_bytes();
    if digits.is_empty() || digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let d = |c: u8| char::from(c).to_digit(16);
            match pair {
                [a, b] => Some((d(*a)? * 16 + d(*b)?) as u8),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn full() -> PublishProperties {
        PublishProperties {
            payload_format_indicator: Some(1),
            message_expiry_secs: Some(60),
            content_type: Some("application/json".into()),
            response_topic: Some("replies/7".into()),
            correlation_data: Some(Bytes::from_static(b"req-1")),
            user_properties: vec![
                ("unit".into(), "C".into()),
                ("tag".into(), "a".into()),
                ("tag".into(), "b".into()),
            ],
            subscription_identifiers: vec![3, 9],
        }
    }

    #[test]
    fn every_property_has_its_line_in_the_specs_order_with_repeats_kept() {
        let filters = |id: u32| (id == 3).then(|| "sensors/#".to_string());
        let lines = property_lines(&full(), b"{}", &filters);
        let text: Vec<String> = lines.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        assert_eq!(
            text,
            [
                "content type: application/json",
                "payload format: UTF-8 text",
                "message expiry: 60 s left when received",
                "response topic: replies/7",
                "correlation data: req-1",
                "user property: unit = C",
                "user property: tag = a",
                "user property: tag = b",
                "subscription identifier: 3 (sensors/#)",
                "subscription identifier: 9",
            ]
        );
        assert_eq!(
            compact_line(lines.get(4..6).unwrap_or_default()),
            "correlation data: req-1 · unit = C"
        );
        assert!(property_lines(&PublishProperties::default(), b"", &|_| None).is_empty());
    }

    #[test]
    fn binary_correlation_data_reads_as_hex_and_long_data_is_cut() {
        assert_eq!(correlation_text(&[0, 1, 0xff]), "0x0001ff");
        assert_eq!(correlation_text(b"a\nb"), "0x610a62");
        assert_eq!(correlation_text(b""), "0x");
        let long = vec![0xabu8; 100];
        let t = correlation_text(&long);
        assert!(
            t.starts_with("0xabab") && t.ends_with("… (100 bytes)"),
            "{t}"
        );
        assert_eq!(correlation_text("réponse".as_bytes()), "réponse");
    }

    #[test]
    fn a_payload_declared_utf8_that_is_not_says_so_and_shows_bytes() {
        let mut p = full();
        p.payload_format_indicator = Some(1);
        let payload = [b'o', b'k', 0xff, 0xfe];
        let lines = property_lines(&p, &payload, &|_| None);
        assert_eq!(
            lines.get(1).map(|l| l.1.as_str()),
            Some("UTF-8 text declared, but the payload is not valid UTF-8 (byte 2)")
        );
        assert!(matches!(
            render_message(&payload, Some(&p), 100),
            PayloadView::Binary { .. }
        ));
        p.payload_format_indicator = Some(0);
        assert_eq!(
            property_lines(&p, &payload, &|_| None)
                .get(1)
                .map(|l| l.1.as_str()),
            Some("unspecified bytes")
        );
    }

    #[test]
    fn a_utf8_payload_with_control_characters_is_text_when_declared_utf8() {
        let payload = "a\u{1}b\tc".as_bytes();
        assert!(matches!(
            render_message(payload, None, 100),
            PayloadView::Binary { .. }
        ));
        let p = PublishProperties {
            payload_format_indicator: Some(1),
            ..PublishProperties::default()
        };
        let view = render_message(payload, Some(&p), 100);
        assert_eq!(view.body(), "a\u{2401}b\tc");
        assert_eq!(view.kind_label(), "text");
        // Cut at the limit on a character boundary.
        let long = "é\u{1}".repeat(100);
        let view = render_message(long.as_bytes(), Some(&p), 10);
        assert_eq!(view.truncated_from(), Some(long.len()));
        assert!(view.body().len() <= 14);
    }

    #[test]
    fn random_bytes_as_properties_never_panic() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bytes: Vec<u8> = (0..(x % 40) as usize)
                .map(|i| (x >> (i % 8 * 8)) as u8)
                .collect();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let p = PublishProperties {
                payload_format_indicator: Some((x % 3) as u8),
                content_type: Some(text.clone()),
                correlation_data: Some(Bytes::from(bytes.clone())),
                user_properties: vec![(text.clone(), text)],
                ..PublishProperties::default()
            };
            let _ = property_lines(&p, &bytes, &|_| None);
            let _ = render_message(&bytes, Some(&p), (x % 16) as usize);
            assert!(properties_cost(&p) >= bytes.len());
        }
    }

    #[test]
    fn the_form_builds_exact_properties() {
        let form = PropertiesForm {
            content_type: "text/plain".into(),
            utf8: true,
            expiry: " 120 ".into(),
            response_topic: "replies/1".into(),
            correlation: "abc".into(),
            user: vec![
                ("k".into(), "1".into()),
                (String::new(), String::new()),
                ("k".into(), "2".into()),
            ],
        };
        let p = form.build(b"hello").unwrap();
        assert_eq!(p.content_type.as_deref(), Some("text/plain"));
        assert_eq!(p.payload_format_indicator, Some(1));
        assert_eq!(p.message_expiry_secs, Some(120));
        assert_eq!(p.response_topic.as_deref(), Some("replies/1"));
        assert_eq!(p.correlation_data.as_deref(), Some(&b"abc"[..]));
        assert_eq!(
            p.user_properties,
            vec![("k".into(), "1".into()), ("k".into(), "2".into())]
        );
        assert!(PropertiesForm::default().build(b"").unwrap().is_empty());
    }

    #[test]
    fn the_form_names_what_is_wrong() {
        let bad = |f: PropertiesForm, payload: &[u8]| f.build(payload).unwrap_err();
        let e = bad(
            PropertiesForm {
                expiry: "soon".into(),
                ..PropertiesForm::default()
            },
            b"",
        );
        assert!(
            e.starts_with("Message expiry (s) must be a whole number"),
            "{e}"
        );
        let e = bad(
            PropertiesForm {
                response_topic: "a/+".into(),
                ..PropertiesForm::default()
            },
            b"",
        );
        assert!(e.starts_with("Response topic: "), "{e}");
        let e = bad(
            PropertiesForm {
                user: vec![("a".into(), "1".into()), (String::new(), "x".into())],
                ..PropertiesForm::default()
            },
            b"",
        );
        assert_eq!(e, "User property 2 has a value but no name");
        let e = bad(
            PropertiesForm {
                utf8: true,
                ..PropertiesForm::default()
            },
            &[0xff],
        );
        assert!(e.contains("not valid UTF-8 (byte 0)"), "{e}");
    }

    #[test]
    fn publish_again_fills_the_form_with_text_or_hex_correlation_data() {
        let form = PropertiesForm::from_properties(&full());
        assert_eq!(form.correlation, "req-1");
        assert_eq!(form.expiry, "60");
        assert!(form.utf8);
        assert_eq!(form.user.len(), 3);
        let again = form.build(b"{}").unwrap();
        let mut expected = full();
        expected.subscription_identifiers.clear();
        assert_eq!(again, expected);
        let mut p = full();
        p.correlation_data = Some(Bytes::from_static(&[0xff, 0x00, 0x7f]));
        let form = PropertiesForm::from_properties(&p);
        assert_eq!(form.correlation, "0xff007f");
        assert_eq!(
            form.build(b"{}").unwrap().correlation_data,
            p.correlation_data
        );
        // Text that would read as hex is itself given as hex, so it round-trips.
        p.correlation_data = Some(Bytes::from_static(b"0xab"));
        let form = PropertiesForm::from_properties(&p);
        assert_eq!(form.correlation, "0x30786162");
        assert_eq!(
            form.build(b"{}").unwrap().correlation_data,
            p.correlation_data
        );
    }

    #[test]
    fn typed_correlation_data_is_hex_bytes_after_0x_and_text_otherwise() {
        let built = |c: &str| {
            PropertiesForm {
                correlation: c.into(),
                ..PropertiesForm::default()
            }
            .build(b"")
            .unwrap()
            .correlation_data
        };
        assert_eq!(built("0x00ff"), Some(Bytes::from_static(&[0, 255])));
        assert_eq!(built("0X0A"), Some(Bytes::from_static(&[10])));
        // Not hex: odd digits, no digits, not digits: the text itself.
        for text in ["0xabc", "0x", "0xzz", "req-1"] {
            assert_eq!(
                built(text),
                Some(Bytes::from(text.as_bytes().to_vec())),
                "{text}"
            );
        }
        assert_eq!(built(""), None);
    }
}
