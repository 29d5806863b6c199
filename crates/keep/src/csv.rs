//! CSV export (docs/keep.md, "CSV"): RFC 4180, CRLF line ends, a header
//! row, and optionally one column per numeric field found in JSON payloads.
//!
//! Field columns take two passes: [`FieldColumns::scan`] over every
//! message first, then [`row`] per message. The number of field columns is
//! bounded so a hostile payload with a million keys cannot blow the header
//! up; fields past the bound are left out, and `FieldColumns::left_out`
//! says how many. It must not hold more than one message's row: the
//! caller streams rows out.

use std::collections::HashMap;

use mqtt_session::record::Record;
use serde_json::Value;

/// The fixed columns.
pub const HEADER: [&str; 8] = [
    "time", "ms", "topic", "qos", "retain", "dup", "encoding", "payload",
];

/// At most this many field columns.
pub const MAX_FIELD_COLUMNS: usize = 500;

/// Appends one field, quoted when it holds a comma, quote, CR or LF.
///
/// Topics, payloads and JSON keys come from the network, and a spreadsheet
/// runs a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula
/// (`=HYPERLINK(…)` in a payload would be a link in the user's sheet). Such a
/// field gets a leading `'`, which spreadsheets show as text, unless it is a
/// plain number (`-5`, `+1.5e3`), which they read as the number it is.
/// NDJSON keeps the exact text.
pub fn field(out: &mut String, s: &str) {
    let formula = runs_as_formula(s);
    if formula || s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Whether a spreadsheet would read `s` as a formula (OWASP's list of
/// leading characters), a plain number aside.
fn runs_as_formula(s: &str) -> bool {
    let number = s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && s.parse::<f64>().is_ok();
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !number
}

/// The numeric fields of a JSON object or array payload, by path
/// (`temp`, `sensors.0.value`), as their JSON text. Other payloads have none.
#[must_use]
pub fn numeric_fields(payload: &[u8]) -> Vec<(String, String)> {
    let starts = payload.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(starts, Some(b'{' | b'[')) {
        return Vec::new();
    }
    // serde_json's recursion limit turns a depth bomb into an error.
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(&v, &mut String::new(), &mut found);
    found
}

fn walk(v: &Value, path: &mut String, found: &mut Vec<(String, String)>) {
    let mut child = |key: &str, v: &Value, path: &mut String| {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        walk(v, path, found);
        path.truncate(len);
    };
    match v {
        Value::Number(n) if !path.is_empty() => found.push((path.clone(), n.to_string())),
        Value::Object(m) => m.iter().for_each(|(k, v)| child(k, v, path)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| child(&i.to_string(), v, path)),
        _ => {}
    }
}

/// The field columns, in the order they were first seen (the keys of one
/// object in sorted order: serde_json keeps no key order).
#[derive(Debug, Clone, Default)]
pub struct FieldColumns {
    paths: Vec<String>,
    index: HashMap<String, usize>,
    left_out: u64,
}

impl FieldColumns {
    /// First pass: adds the numeric fields of one payload.
    pub fn scan(&mut self, payload: &[u8]) {
        for (path, _) in numeric_fields(payload) {
            if self.index.contains_key(&path) {
                continue;
            }
            if self.paths.len() >= MAX_FIELD_COLUMNS {
                self.left_out += 1;
                continue;
            }
            self.index.insert(path.clone(), self.paths.len());
            self.paths.push(path);
        }
    }

    /// The column names.
    #[must_use]
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Field paths seen past [`MAX_FIELD_COLUMNS`] (each time seen).
    #[must_use]
    pub fn left_out(&self) -> u64 {
        self.left_out
    }
}

/// The header row, CRLF included.
#[must_use]
pub fn header(fields: Option<&FieldColumns>) -> String {
    let mut out = String::new();
    let names = HEADER.iter().copied().chain(
        fields
            .into_iter()
            .flat_map(|f| f.paths.iter().map(String::as_str)),
    );
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(&mut out, name);
    }
    out.push_str("\r\n");
    out
}

/// Appends one message's row, CRLF included.
pub fn row(out: &mut String, r: &Record, fields: Option<&FieldColumns>) {
    row_from(out, r, fields, &r.payload);
}

/// [`row`], with the field columns read from `numbers` (a decoded
/// payload's JSON) instead of the payload; the payload column stays as sent.
pub fn row_from(out: &mut String, r: &Record, fields: Option<&FieldColumns>, numbers: &[u8]) {
    let (payload, base64) = crate::ndjson::payload_text(&r.payload);
    let ms = serde_json::to_string(&crate::ndjson::Ms::of(r.received_ms)).unwrap_or_default();
    out.push_str(&crate::time::format(r.received_ms));
    out.push(',');
    out.push_str(&ms);
    out.push(',');
    field(out, &r.topic);
    out.push(',');
    out.push(char::from(b'0' + r.qos.as_u8()));
    out.push_str(if r.retain { ",true" } else { ",false" });
    out.push_str(if r.dup { ",true," } else { ",false," });
    if base64 {
        out.push_str("base64");
    }
    out.push(',');
    field(out, &payload);
    if let Some(f) = fields.filter(|f| !f.paths.is_empty()) {
        let mut cells = vec![None; f.paths.len()];
        for (path, value) in numeric_fields(numbers) {
            if let Some(&i) = f.index.get(&path) {
                if let Some(c) = cells.get_mut(i) {
                    *c = Some(value);
                }
            }
        }
        for c in cells {
            out.push(',');
            if let Some(v) = c {
                out.push_str(&v);
            }
        }
    }
    out.push_str("\r\n");
}
