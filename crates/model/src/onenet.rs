//! OneNet `$dp` datapoint framing, shared by the payload view, the series
//! extraction and the publish form.
//!
//! The seed's `build_payload(type, payload)` writes one type byte, then the
//! UTF-8 JSON's length as a 2-byte big-endian integer, then the JSON:
//! type `0x01` carries `{"datastreams":[{"id":…,"datapoints":[{"at":…,"value":…}]}]}`,
//! type `0x03` a flat object of datastream → value. Nothing here panics on a
//! short or inconsistent frame: it is simply not a `$dp` frame.

use std::fmt::Write as _;

/// `$dp` type 1: the datastreams JSON document (the seed's `TYPE_JSON`).
pub const DP_TYPE_DATASTREAMS: u8 = 0x01;
/// `$dp` type 3: a flat JSON object of datastream id → value.
pub const DP_TYPE_FLAT: u8 = 0x03;
/// The largest JSON a `$dp` frame can carry (2-byte length).
pub const DP_MAX_JSON_BYTES: usize = u16::MAX as usize;

/// Splits a `$dp` frame of type 1 or 3 into its type and JSON bytes, if the
/// length prefix matches the rest of the payload exactly.
pub fn split_dp(payload: &[u8]) -> Option<(u8, &[u8])> {
    let (&kind, rest) = payload.split_first()?;
    if kind != DP_TYPE_DATASTREAMS && kind != DP_TYPE_FLAT {
        return None;
    }
    let (len, json) = rest.split_at_checked(2)?;
    let len = match len {
        [hi, lo] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => return None,
    };
    (len == json.len()).then_some((kind, json))
}

/// Wraps `json` in a `$dp` frame of type `kind`, exactly as the seed's
/// `build_payload` does; `None` when the JSON exceeds 65,535 bytes.
pub fn wrap_dp(kind: u8, json: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(json.len()).ok()?;
    let mut out = Vec::with_capacity(json.len() + 3);
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(json);
    Some(out)
}

/// Builds the seed's datastreams document for one datapoint, formatted as
/// Python's `json.dumps(body)` formats it (`", "` and `": "` separators,
/// non-ASCII escaped as `\uXXXX`), so the bytes match the seed's exactly:
/// `{"datastreams": [{"id": "wendu", "datapoints": [{"at": "2016-08-15T14:47:00", "value": 55}]}]}`.
///
/// `at` may be omitted (OneNet then stamps the point itself). An integral
/// value is written without a fraction, like the seed's `55`; a value that
/// is not finite is written as `null` (JSON has no NaN).
pub fn datastreams_json(id: &str, value: f64, at: Option<&str>) -> String {
    let mut out = String::with_capacity(96);
    out.push_str("{\"datastreams\": [{\"id\": ");
    push_py_json_string(&mut out, id);
    out.push_str(", \"datapoints\": [{");
    if let Some(at) = at {
        out.push_str("\"at\": ");
        push_py_json_string(&mut out, at);
        out.push_str(", ");
    }
    out.push_str("\"value\": ");
    push_py_number(&mut out, value);
    out.push_str("}]}]}");
    out
}

/// Appends `s` as a JSON string the way Python's `json.dumps` writes it
/// with its default `ensure_ascii=True`.
fn push_py_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn push_py_number(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{}", crate::decimal::Shortest(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datastreams_json_matches_python_json_dumps_of_the_seed_body() {
        let body = datastreams_json("wendu", 55.0, Some("2016-08-15T14:47:00"));
        assert_eq!(
            body,
            r#"{"datastreams": [{"id": "wendu", "datapoints": [{"at": "2016-08-15T14:47:00", "value": 55}]}]}"#
        );
    }

    #[test]
    fn datastreams_json_escapes_like_python_and_keeps_fractions() {
        let body = datastreams_json("温\"度", 22.5, None);
        assert_eq!(
            body,
            r#"{"datastreams": [{"id": "\u6e29\"\u5ea6", "datapoints": [{"value": 22.5}]}]}"#
        );
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
        assert!(datastreams_json("x", f64::NAN, None).contains("\"value\": null"));
        assert!(datastreams_json("😀", 1.0, None).contains(r"\ud83d\ude00"));
    }

    #[test]
    fn wrap_then_split_round_trips_and_checks_the_length() {
        let frame = wrap_dp(DP_TYPE_DATASTREAMS, b"{}");
        assert_eq!(frame.as_deref(), Some(&[0x01, 0x00, 0x02, b'{', b'}'][..]));
        assert_eq!(
            split_dp(&[0x03, 0x00, 0x02, b'{', b'}']),
            Some((DP_TYPE_FLAT, &b"{}"[..]))
        );
        assert_eq!(split_dp(&[0x01, 0x00, 0x05, b'{', b'}']), None);
        assert_eq!(split_dp(&[0x02, 0x00, 0x02, b'{', b'}']), None);
        assert_eq!(split_dp(&[0x01, 0x00]), None);
        assert_eq!(split_dp(&[]), None);
    }

    #[test]
    fn wrap_refuses_json_longer_than_65535_bytes() {
        assert!(wrap_dp(DP_TYPE_FLAT, &vec![b' '; DP_MAX_JSON_BYTES + 1]).is_none());
        assert_eq!(
            wrap_dp(DP_TYPE_FLAT, &vec![b' '; DP_MAX_JSON_BYTES]).map(|v| v.len()),
            Some(DP_MAX_JSON_BYTES + 3)
        );
    }
}
