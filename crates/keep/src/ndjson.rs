//! NDJSON lines (docs/keep.md, "NDJSON"): a record to one line for export,
//! and a line back to a record for import, in the full shape this module
//! writes or the simple shape any tool can write.
//!
//! A line that cannot be read is a bad line with a sentence saying why,
//! never a panic: serde_json's recursion limit makes nested depth bombs an
//! error, and the topic and properties go through the session's own
//! record writer, which refuses what MQTT cannot carry. This module does
//! not split a file into lines (see `lines`) and keeps no file in memory.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use mqtt_session::record::{self, Record};
use mqtt_session::{PublishProperties, QoS};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The time between lines that carry no time of their own (docs/keep.md).
pub const UNTIMED_STEP_MS: f64 = 100.0;

/// A time in ms as JSON: an integer when it is a whole number a double
/// holds exactly, else the shortest decimal that reads back the same.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Ms {
    Whole(i64),
    Fraction(f64),
}

impl Ms {
    pub(crate) fn of(ms: f64) -> Ms {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if ms.fract() == 0.0 && ms.abs() < EXACT {
            // Whole and below 2^53: the cast is exact.
            Ms::Whole(ms as i64)
        } else {
            Ms::Fraction(ms)
        }
    }
}

#[derive(Serialize)]
struct PropsOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_format: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiry: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_data: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    user: Vec<[&'a str; 2]>,
    #[serde(skip_serializing_if = "<[u32]>::is_empty")]
    subscription_ids: &'a [u32],
}

#[derive(Serialize)]
struct LineOut<'a> {
    time: String,
    ms: Ms,
    topic: &'a str,
    qos: u8,
    retain: bool,
    dup: bool,
    payload: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<PropsOut<'a>>,
}

/// A payload as text: itself when it is UTF-8, else base64 (`true`).
pub(crate) fn payload_text(payload: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(payload) {
        Ok(s) => (s.into(), false),
        Err(_) => (B64.encode(payload).into(), true),
    }
}

/// What a payload decoder made of a record's payload (docs/keep.md,
/// "Decoded payloads"): the decoder's name, and its JSON or why it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedOut<'a> {
    /// The decoder's name (`Sparkplug B`, `CBOR`, …).
    pub decoder: &'a str,
    /// The decoder's JSON text, or the reason it could not read the payload.
    pub result: Result<&'a str, &'a str>,
}

/// Appends `r` as one NDJSON line, `\n` included, with what its decoder
/// made of the payload: `"decoder":…` and `"decoded":{…}` (the decoder's
/// JSON, as it is) or `"decode_error":"…"`. The payload stays as sent.
/// JSON that does not parse (never from mqdash's decoders) is written as
/// a decode error rather than breaking the line.
pub fn write_line_decoded(out: &mut Vec<u8>, r: &Record, decoded: Option<DecodedOut<'_>>) {
    let start = out.len();
    write_line(out, r);
    let Some(d) = decoded else { return };
    // The line ends in `}\n`: reopen the object.
    if out.len() < start + 2 || !out.ends_with(b"}\n") {
        return;
    }
    out.truncate(out.len() - 2);
    out.extend_from_slice(b",\"decoder\":");
    let _ = serde_json::to_writer(&mut *out, d.decoder);
    match d.result {
        Ok(json) => match serde_json::from_str::<&RawValue>(json) {
            Ok(raw) => {
                out.extend_from_slice(b",\"decoded\":");
                out.extend_from_slice(raw.get().as_bytes());
            }
            Err(_) => {
                out.extend_from_slice(b",\"decode_error\":\"the decoder's JSON is not valid\"")
            }
        },
        Err(reason) => {
            out.extend_from_slice(b",\"decode_error\":");
            let _ = serde_json::to_writer(&mut *out, reason);
        }
    }
    out.extend_from_slice(b"}\n");
}

/// Appends `r` as one NDJSON line, `\n` included.
pub fn write_line(out: &mut Vec<u8>, r: &Record) {
    let (payload, base64) = payload_text(&r.payload);
    let properties = r.properties.as_deref().map(|p| PropsOut {
        payload_format: p.payload_format_indicator,
        expiry: p.message_expiry_secs,
        content_type: p.content_type.as_deref(),
        response_topic: p.response_topic.as_deref(),
        correlation_data: p.correlation_data.as_ref().map(|c| B64.encode(c)),
        user: p
            .user_properties
            .iter()
            .map(|(n, v)| [n.as_str(), v.as_str()])
            .collect(),
        subscription_ids: &p.subscription_identifiers,
    });
    let line = LineOut {
        time: crate::time::format(r.received_ms),
        ms: Ms::of(r.received_ms),
        topic: &r.topic,
        qos: r.qos.as_u8(),
        retain: r.retain,
        dup: r.dup,
        payload: &payload,
        encoding: base64.then_some("base64"),
        properties,
    };
    // Writing plain strings, numbers and bools into a Vec cannot fail; if it
    // ever did, the line is left out rather than half written.
    let start = out.len();
    if serde_json::to_writer(&mut *out, &line).is_ok() {
        out.push(b'\n');
    } else {
        out.truncate(start);
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PropsIn {
    payload_format: Option<u8>,
    expiry: Option<u32>,
    content_type: Option<String>,
    response_topic: Option<String>,
    correlation_data: Option<String>,
    user: Vec<(String, String)>,
    subscription_ids: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(expecting = "an object with a topic")]
struct LineIn {
    topic: String,
    #[serde(default)]
    payload: Option<Box<RawValue>>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    qos: Option<u8>,
    #[serde(default)]
    retain: Option<bool>,
    #[serde(default)]
    dup: Option<bool>,
    /// Read as text and parsed by Rust's correctly rounded `f64` parser:
    /// serde_json's default float parsing may be off by one unit in the
    /// last place, and an exported time must read back exactly.
    #[serde(default)]
    ms: Option<Box<RawValue>>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    properties: Option<PropsIn>,
}

/// The deepest nesting a JSON payload may have (serde_json's own limit).
pub const MAX_NESTING: usize = 128;

/// How deep arrays and objects nest in JSON text (brackets inside strings
/// not counted).
fn nesting(json: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in json.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// serde_json's sentence without its "at line 1 column N" (every line is
/// line 1 to it), with the column said plainly.
fn json_error(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let what = s.rfind(" at line ").map_or(s.as_str(), |i| &s[..i]);
    if e.is_syntax() || e.is_eof() {
        format!("not valid JSON ({what}, column {})", e.column())
    } else {
        format!("{what} (column {})", e.column())
    }
}

fn base64_field(what: &str, s: &str) -> Result<Bytes, String> {
    B64.decode(s)
        .map(Bytes::from)
        .map_err(|e| format!("the {what} is not valid base64 ({e})"))
}

/// Reads one line (without its line end) as a record. `untimed_ms` is the
/// time to give it when it has none. The error is a sentence for the
/// user, without the line number.
pub fn read_line(line: &[u8], untimed_ms: f64) -> Result<Record, String> {
    let mut buf = Vec::new();
    read_into(line, untimed_ms, &mut buf)?;
    match record::decode(buf).next() {
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("the message could not be kept".into()),
    }
}

/// As [`read_line`], appending the record to `out` (nothing on error) and
/// returning its time.
pub fn read_into(line: &[u8], untimed_ms: f64, out: &mut Vec<u8>) -> Result<f64, String> {
    // A struct also reads from a JSON array; the spec wants an object.
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a JSON object (each line must be one {…} with a topic)".into());
    }
    let l: LineIn = serde_json::from_slice(line).map_err(|e| json_error(&e))?;
    let payload = match (&l.payload, l.encoding.as_deref()) {
        (None, None | Some("base64")) => Bytes::new(),
        (Some(p), Some("base64")) => match serde_json::from_str::<String>(p.get()) {
            Ok(s) => base64_field("payload", &s)?,
            Err(_) => return Err("a base64 payload must be a string".into()),
        },
        (Some(p), None) if p.get().starts_with('"') => {
            let s: String = serde_json::from_str(p.get()).map_err(|e| json_error(&e))?;
            Bytes::from(s)
        }
        (Some(p), None) => {
            // serde_json skips over a raw value without its recursion
            // limit; a payload nested this deep would only hurt whoever
            // parses it next (the page's JSON views).
            if nesting(p.get()) > MAX_NESTING {
                return Err(format!(
                    "the payload nests deeper than {MAX_NESTING} levels"
                ));
            }
            Bytes::copy_from_slice(p.get().as_bytes())
        }
        (_, Some(other)) => {
            let other: String = other.chars().take(40).collect();
            return Err(format!(
                "the encoding {other:?} is unknown (only \"base64\" is)"
            ));
        }
    };
    let qos = match l.qos {
        None => QoS::AtMostOnce,
        Some(q) => QoS::from_u8(q).ok_or_else(|| format!("qos {q} is not 0, 1 or 2"))?,
    };
    let received_ms = match (&l.ms, &l.time) {
        (Some(ms), _) => {
            let text = ms.get();
            let number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
            match text.parse::<f64>() {
                Ok(v) if number && v.is_finite() => v,
                _ => {
                    let text: String = text.chars().take(40).collect();
                    return Err(format!("ms {text} is not a finite number"));
                }
            }
        }
        (None, Some(t)) => crate::time::parse(t).ok_or_else(|| {
            let t: String = t.chars().take(40).collect();
            format!("the time {t:?} is not an ISO 8601 time")
        })?,
        (None, None) => untimed_ms,
    };
    let properties = match l.properties {
        None => None,
        Some(p) => {
            let props = PublishProperties {
                payload_format_indicator: p.payload_format,
                message_expiry_secs: p.expiry,
                content_type: p.content_type,
                response_topic: p.response_topic,
                correlation_data: p
                    .correlation_data
                    .map(|c| base64_field("correlation data", &c))
                    .transpose()?,
                user_properties: p.user,
                subscription_identifiers: p.subscription_ids,
            };
            (!props.is_empty()).then(|| Box::new(props))
        }
    };
    // The session's writer checks the topic and every property (and
    // appends nothing when it refuses).
    record::encode(
        out,
        received_ms,
        &l.topic,
        &payload,
        qos,
        l.retain.unwrap_or(false),
        l.dup.unwrap_or(false),
        properties.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    Ok(received_ms)
}

/// How many bad line numbers and error sentences an import reports.
pub const BAD_LINES_KEPT: usize = 20;
/// See [`BAD_LINES_KEPT`].
pub const ERRORS_KEPT: usize = 5;

/// What an import read, for the `done` message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read, empty ones included.
    pub lines: u64,
    /// Lines that became records.
    pub good: u64,
    /// Lines that could not be read.
    pub bad: u64,
    /// The first [`BAD_LINES_KEPT`] bad line numbers (from 1).
    pub bad_lines: Vec<u64>,
    /// The first [`ERRORS_KEPT`] sentences, each naming its line.
    pub errors: Vec<String>,
}

impl Summary {
    /// Counts a bad line and keeps its number and sentence if there is room.
    pub fn bad(&mut self, line: u64, why: &str) {
        self.bad += 1;
        if self.bad_lines.len() < BAD_LINES_KEPT {
            self.bad_lines.push(line);
        }
        if self.errors.len() < ERRORS_KEPT {
            self.errors.push(format!("line {line}: {why}"));
        }
    }
}

/// Reads an import line by line: numbers the lines, skips empty ones,
/// gives untimed lines a time 100 ms after the one before, and counts.
#[derive(Debug, Clone)]
pub struct Importer {
    summary: Summary,
    last_ms: Option<f64>,
    start_ms: f64,
}

impl Importer {
    /// An import starting at `now_ms` (the time of a first untimed line).
    #[must_use]
    pub fn new(now_ms: f64) -> Importer {
        Importer {
            summary: Summary::default(),
            last_ms: None,
            start_ms: now_ms,
        }
    }

    /// The next line (without `\n`; a `\r` before it is dropped), appended
    /// to `out` as a record when it is good. Returns its time then.
    pub fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<f64> {
        self.summary.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let untimed = self.last_ms.map_or(self.start_ms, |t| t + UNTIMED_STEP_MS);
        match read_into(line, untimed, out) {
            Ok(ms) => {
                self.summary.good += 1;
                self.last_ms = Some(ms);
                Some(ms)
            }
            Err(why) => {
                self.summary.bad(self.summary.lines, &why);
                None
            }
        }
    }

    /// The next line was longer than the limit and was not read.
    pub fn too_long(&mut self, len: u64, limit: usize) {
        self.summary.lines += 1;
        let why = format!("the line is {len} bytes long, over the limit of {limit}");
        self.summary.bad(self.summary.lines, &why);
    }

    /// What was read so far.
    #[must_use]
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}
