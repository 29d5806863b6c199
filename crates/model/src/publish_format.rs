//! The publish form's payload formats: turning what the user typed into the
//! bytes to publish, with an error sentence when that is not possible.
//!
//! - `Text`: the UTF-8 bytes as typed.
//! - `Json`: checked first ([`crate::json::check`], serde_json's rules and
//!   error sentences; the error names the line and column), then sent
//!   exactly as typed (not re-serialized).
//! - `Hex`: hex digits; spaces, tabs, newlines, `:` and `,` separate bytes
//!   freely and a `0x`/`0X` prefix may start any group (`0x01 0x02`,
//!   `01:02`, `0102`). The digits of all groups are read as one string, as
//!   `xxd -r -p` does, so the total must be even.
//! - `OneNetDp1`: `$dp` type 1, wrapped exactly as the seed's
//!   `build_payload(0x01, json)`: byte `0x01`, the JSON's length as 2 bytes
//!   big-endian, the JSON bytes. The JSON must have the datastreams shape
//!   the seed builds: `{"datastreams":[{"id":"…","datapoints":[{"value":…},
//!   …]}, …]}`, at least one datastream, each an object with a non-empty
//!   string `id` and a non-empty `datapoints` list of objects that each have
//!   a `value` (any JSON) and optionally an `at` string; other fields are
//!   left to OneNet. Use [`crate::onenet::datastreams_json`] to build the
//!   seed's document.
//! - `OneNetDp3`: `$dp` type 3, the same framing with `0x03` and a flat JSON
//!   object: at least one key, no empty key, every value a number, a string
//!   or a boolean (no nested object or list, no null).
//!
//! The JSON is sent exactly as typed (checked, not re-serialized). `$dp`
//! JSON over 65,535 bytes cannot be framed and is an error. Every refusal is
//! a [`FormatError`] whose `Display` says what is missing and where.

use crate::json::{self, Map, Value};
pub use crate::onenet::datastreams_json;
use crate::onenet::{wrap_dp, DP_MAX_JSON_BYTES, DP_TYPE_DATASTREAMS, DP_TYPE_FLAT};
use std::fmt;

/// How the publish form's payload text becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PayloadFormat {
    /// UTF-8 text as typed.
    #[default]
    Text,
    /// JSON, checked before sending, sent as typed.
    Json,
    /// Hex digits.
    Hex,
    /// OneNet `$dp` type 1 (datastreams JSON).
    OneNetDp1,
    /// OneNet `$dp` type 3 (flat JSON object).
    OneNetDp3,
}

impl PayloadFormat {
    /// Every format, in the order of the form's select.
    pub const ALL: [PayloadFormat; 5] = [
        PayloadFormat::Text,
        PayloadFormat::Json,
        PayloadFormat::Hex,
        PayloadFormat::OneNetDp1,
        PayloadFormat::OneNetDp3,
    ];

    /// A stable key for the select's `value` and for storage.
    pub fn key(self) -> &'static str {
        match self {
            PayloadFormat::Text => "text",
            PayloadFormat::Json => "json",
            PayloadFormat::Hex => "hex",
            PayloadFormat::OneNetDp1 => "dp1",
            PayloadFormat::OneNetDp3 => "dp3",
        }
    }

    /// The format with this key.
    pub fn from_key(key: &str) -> Option<PayloadFormat> {
        PayloadFormat::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The label shown in the select.
    pub fn label(self) -> &'static str {
        match self {
            PayloadFormat::Text => "Text",
            PayloadFormat::Json => "JSON",
            PayloadFormat::Hex => "Hex",
            PayloadFormat::OneNetDp1 => "OneNet $dp type 1 (datastreams)",
            PayloadFormat::OneNetDp3 => "OneNet $dp type 3 (flat JSON)",
        }
    }
}

/// Why the payload cannot be encoded in the chosen format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// Not valid JSON.
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The reader's description (serde_json's words), without the
        /// position.
        reason: String,
    },
    /// `$dp` type 3 needs a JSON object.
    NotAnObject,
    /// `$dp` type 1 JSON without the datastreams shape.
    NotDatastreams {
        /// What is missing and where, e.g. `datastreams[0] has no "id"`.
        problem: String,
    },
    /// `$dp` type 3 object that is not a flat object of values.
    NotFlat {
        /// What is wrong and where, e.g. `"temp" holds an object`.
        problem: String,
    },
    /// A character that is neither a hex digit nor a separator.
    InvalidHexDigit {
        /// The character.
        found: char,
        /// Its 1-based position (in characters) in the input.
        position: usize,
    },
    /// An odd number of hex digits.
    OddHexDigits {
        /// How many digits there were.
        digits: usize,
    },
    /// `$dp` JSON longer than its 2-byte length allows.
    TooLongForDp {
        /// The JSON's length in bytes.
        len: usize,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::InvalidJson {
                line,
                column,
                reason,
            } => write!(
                f,
                "the payload is not valid JSON: {reason} at line {line}, column {column}"
            ),
            FormatError::NotAnObject => write!(
                f,
                "a $dp type 3 payload must be a JSON object such as {{\"temp\": 22.1}}"
            ),
            FormatError::NotDatastreams { problem } => write!(
                f,
                "type 1 needs {{\"datastreams\":[{{\"id\":…,\"datapoints\":[{{\"value\":…}}]}}]}}: {problem}"
            ),
            FormatError::NotFlat { problem } => write!(
                f,
                "type 3 needs a flat object of numbers, strings or booleans such as {{\"temp\": 22.1}}: {problem}"
            ),
            FormatError::InvalidHexDigit { found, position } => write!(
                f,
                "{found:?} at position {position} is not a hexadecimal digit"
            ),
            FormatError::OddHexDigits { digits } => write!(
                f,
                "hex needs two digits per byte, but there are {digits} digits (an odd number)"
            ),
            FormatError::TooLongForDp { len } => write!(
                f,
                "the JSON is {len} bytes long; a $dp payload can carry at most {DP_MAX_JSON_BYTES}"
            ),
        }
    }
}

impl std::error::Error for FormatError {}

/// Encodes the publish form's payload text in `format`.
pub fn encode(format: PayloadFormat, input: &str) -> Result<Vec<u8>, FormatError> {
    match format {
        PayloadFormat::Text => Ok(input.as_bytes().to_vec()),
        PayloadFormat::Json => {
            check_json(input)?;
            Ok(input.as_bytes().to_vec())
        }
        PayloadFormat::Hex => decode_hex(input),
        PayloadFormat::OneNetDp1 => {
            check_datastreams(&parse_json(input)?)
                .map_err(|problem| FormatError::NotDatastreams { problem })?;
            dp(DP_TYPE_DATASTREAMS, input)
        }
        PayloadFormat::OneNetDp3 => {
            let Value::Object(map) = parse_json(input)? else {
                return Err(FormatError::NotAnObject);
            };
            check_flat(&map).map_err(|problem| FormatError::NotFlat { problem })?;
            dp(DP_TYPE_FLAT, input)
        }
    }
}

/// A key for an error sentence, in quotes, cut to about 40 characters.
fn key_name(key: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = key.chars().take(MAX_CHARS).collect();
    if key.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}

/// Checks the `$dp` type 1 shape; the error is what is missing and where.
fn check_datastreams(doc: &Value) -> Result<(), String> {
    let Value::Object(doc) = doc else {
        return Err("the payload is not a JSON object".to_owned());
    };
    let streams = match doc.get("datastreams") {
        None => return Err("there is no \"datastreams\"".to_owned()),
        Some(Value::Array(streams)) => streams,
        Some(_) => return Err("\"datastreams\" is not a list".to_owned()),
    };
    if streams.is_empty() {
        return Err("\"datastreams\" is empty".to_owned());
    }
    for (i, stream) in streams.iter().enumerate() {
        let at = format!("datastreams[{i}]");
        let Value::Object(stream) = stream else {
            return Err(format!("{at} is not an object"));
        };
        match stream.get("id") {
            None => return Err(format!("{at} has no \"id\"")),
            Some(Value::String(id)) if !id.is_empty() => {}
            Some(_) => return Err(format!("{at} \"id\" must be a non-empty string")),
        }
        let points = match stream.get("datapoints") {
            None => return Err(format!("{at} has no \"datapoints\"")),
            Some(Value::Array(points)) => points,
            Some(_) => return Err(format!("{at} \"datapoints\" is not a list")),
        };
        if points.is_empty() {
            return Err(format!("{at} \"datapoints\" is empty"));
        }
        for (j, point) in points.iter().enumerate() {
            let at = format!("{at}.datapoints[{j}]");
            let Value::Object(point) = point else {
                return Err(format!("{at} is not an object"));
            };
            if !point.contains_key("value") {
                return Err(format!("{at} has no \"value\""));
            }
            if point.get("at").is_some_and(|t| !t.is_string()) {
                return Err(format!("{at} \"at\" must be a string"));
            }
        }
    }
    Ok(())
}

/// Checks the `$dp` type 3 shape; the error is what is wrong and where.
fn check_flat(map: &Map<String, Value>) -> Result<(), String> {
    if map.is_empty() {
        return Err("the object is empty".to_owned());
    }
    for (key, value) in map {
        if key.is_empty() {
            return Err("a key is empty".to_owned());
        }
        let kind = match value {
            Value::Number(_) | Value::String(_) | Value::Bool(_) => continue,
            Value::Object(_) => "an object",
            Value::Array(_) => "a list",
            Value::Null => "null",
        };
        return Err(format!("{} holds {kind}", key_name(key)));
    }
    Ok(())
}

fn dp(kind: u8, json: &str) -> Result<Vec<u8>, FormatError> {
    wrap_dp(kind, json.as_bytes()).ok_or(FormatError::TooLongForDp { len: json.len() })
}

/// Checks that `input` is one valid JSON value (grammar only, any depth,
/// as serde_json's `IgnoredAny`).
pub fn check_json(input: &str) -> Result<(), FormatError> {
    json::check(input.as_bytes()).map_err(invalid_json)
}

/// Parses `input` as one JSON value, with the error naming line and column.
fn parse_json(input: &str) -> Result<Value, FormatError> {
    json::parse(input.as_bytes()).map_err(invalid_json)
}

fn invalid_json(e: json::Error) -> FormatError {
    FormatError::InvalidJson {
        line: e.line(),
        column: e.column(),
        reason: e.reason().to_owned(),
    }
}

/// Decodes hex digits, skipping separators and `0x` prefixes (see the
/// module docs).
pub fn decode_hex(input: &str) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut high: Option<u8> = None;
    let mut digits = 0usize;
    let mut at_group_start = true;
    let mut chars = input.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || c == ':' || c == ',' {
            at_group_start = true;
            continue;
        }
        if at_group_start && c == '0' && chars.peek().is_some_and(|&(_, n)| n == 'x' || n == 'X') {
            chars.next();
            at_group_start = false;
            continue;
        }
        at_group_start = false;
        let Some(v) = c.to_digit(16) else {
            return Err(FormatError::InvalidHexDigit {
                found: c,
                position: i + 1,
            });
        };
        let v = v as u8;
        digits += 1;
        match high.take() {
            Some(h) => out.push(h << 4 | v),
            None => high = Some(v),
        }
    }
    if high.is_some() {
        return Err(FormatError::OddHexDigits { digits });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_sent_as_its_utf8_bytes() {
        assert_eq!(
            encode(PayloadFormat::Text, "温度 55"),
            Ok("温度 55".as_bytes().to_vec())
        );
        assert_eq!(encode(PayloadFormat::Text, ""), Ok(Vec::new()));
    }

    #[test]
    fn json_is_checked_and_then_sent_exactly_as_typed() {
        assert_eq!(
            encode(PayloadFormat::Json, "{ \"a\" : 1.50 }"),
            Ok(b"{ \"a\" : 1.50 }".to_vec())
        );
        assert_eq!(encode(PayloadFormat::Json, "42"), Ok(b"42".to_vec()));
    }

    #[test]
    fn invalid_json_reports_line_and_column_in_a_sentence() {
        let err = encode(PayloadFormat::Json, "{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        match &err {
            FormatError::InvalidJson { line, column, .. } => assert_eq!((*line, *column), (3, 7)),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "the payload is not valid JSON: expected `:` at line 3, column 7"
        );
        assert!(matches!(
            encode(PayloadFormat::Json, ""),
            Err(FormatError::InvalidJson { .. })
        ));
    }

    #[test]
    fn hex_accepts_spaces_colons_and_0x_prefixes() {
        assert_eq!(
            encode(PayloadFormat::Hex, "00 ff 1A"),
            Ok(vec![0x00, 0xff, 0x1a])
        );
        assert_eq!(
            encode(PayloadFormat::Hex, "de:ad:be:ef"),
            Ok(vec![0xde, 0xad, 0xbe, 0xef])
        );
        assert_eq!(
            encode(PayloadFormat::Hex, "0x01 0X02,0x0a0b"),
            Ok(vec![1, 2, 0x0a, 0x0b])
        );
        assert_eq!(encode(PayloadFormat::Hex, "  \n"), Ok(Vec::new()));
        assert_eq!(encode(PayloadFormat::Hex, "00"), Ok(vec![0]));
    }

    #[test]
    fn hex_errors_name_the_bad_digit_or_the_odd_count() {
        assert_eq!(
            encode(PayloadFormat::Hex, "0g"),
            Err(FormatError::InvalidHexDigit {
                found: 'g',
                position: 2
            })
        );
        assert_eq!(
            encode(PayloadFormat::Hex, "ab c"),
            Err(FormatError::OddHexDigits { digits: 3 })
        );
        assert_eq!(
            FormatError::OddHexDigits { digits: 3 }.to_string(),
            "hex needs two digits per byte, but there are 3 digits (an odd number)"
        );
        assert_eq!(
            FormatError::InvalidHexDigit {
                found: 'é',
                position: 1
            }
            .to_string(),
            "'é' at position 1 is not a hexadecimal digit"
        );
        assert!(matches!(encode(PayloadFormat::Hex, "0x"), Ok(v) if v.is_empty()));
    }

    #[test]
    fn dp_type_1_wraps_the_seed_body_exactly_like_build_payload() {
        let body = datastreams_json("wendu", 55.0, Some("2016-08-15T14:47:00"));
        assert_eq!(body.len(), 94);
        let bytes = encode(PayloadFormat::OneNetDp1, &body).unwrap();
        assert_eq!(&bytes[..3], &[0x01, 0x00, 94]);
        assert_eq!(&bytes[3..], body.as_bytes());
        let minimal = r#"{"datastreams":[{"id":"t","datapoints":[{"value":1}]}]}"#;
        assert_eq!(
            encode(PayloadFormat::OneNetDp1, minimal),
            Ok([&[0x01, 0x00, minimal.len() as u8][..], minimal.as_bytes()].concat())
        );
    }

    #[test]
    fn dp_type_1_refuses_invalid_json() {
        assert!(matches!(
            encode(PayloadFormat::OneNetDp1, "{\"datastreams\":"),
            Err(FormatError::InvalidJson { .. })
        ));
    }

    #[test]
    fn dp_type_3_needs_a_json_object_and_frames_it_with_0x03() {
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, "{\"temp\":22.1}"),
            Ok([&[0x03, 0x00, 13][..], b"{\"temp\":22.1}"].concat())
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, "[1]"),
            Err(FormatError::NotAnObject)
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, "22.1"),
            Err(FormatError::NotAnObject)
        );
    }

    #[test]
    fn dp_json_over_65535_bytes_is_an_error() {
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(70_000));
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, &big),
            Err(FormatError::TooLongForDp { len: big.len() })
        );
        let head = r#"{"datastreams":[{"id":"t","datapoints":[{"value":""#;
        let tail = r#""}]}]}"#;
        let exact = format!(
            "{head}{}{tail}",
            "x".repeat(65_535 - head.len() - tail.len())
        );
        assert_eq!(exact.len(), 65_535);
        assert_eq!(
            encode(PayloadFormat::OneNetDp1, &exact).map(|v| [v[1], v[2]]),
            Ok([0xff, 0xff])
        );
        let over = format!(
            "{head}{}{tail}",
            "x".repeat(65_536 - head.len() - tail.len())
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp1, &over),
            Err(FormatError::TooLongForDp { len: 65_536 })
        );
    }

    fn dp1_problem(input: &str) -> String {
        match encode(PayloadFormat::OneNetDp1, input) {
            Err(FormatError::NotDatastreams { problem }) => problem,
            other => panic!("{input}: expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn dp_type_1_accepts_several_datastreams_and_datapoints_with_optional_at() {
        let doc = r#"{"datastreams":[
            {"id":"temp","datapoints":[{"value":21.5},{"at":"2016-08-15T14:47:00","value":22}]},
            {"id":"door","datapoints":[{"value":"open"}]},
            {"id":"gps","datapoints":[{"value":{"lon":1.5,"lat":2.5}}]}]}"#;
        assert!(encode(PayloadFormat::OneNetDp1, doc).is_ok());
    }

    #[test]
    fn dp_type_1_refuses_json_without_datastreams_and_says_what_is_missing() {
        let cases = [
            ("{}", "there is no \"datastreams\""),
            ("[1]", "the payload is not a JSON object"),
            ("42", "the payload is not a JSON object"),
            (r#"{"temp":1}"#, "there is no \"datastreams\""),
            (r#"{"datastreams":{}}"#, "\"datastreams\" is not a list"),
            (r#"{"datastreams":[]}"#, "\"datastreams\" is empty"),
            (r#"{"datastreams":[1]}"#, "datastreams[0] is not an object"),
            (
                r#"{"datastreams":[{"datapoints":[{"value":1}]}]}"#,
                "datastreams[0] has no \"id\"",
            ),
            (
                r#"{"datastreams":[{"id":"","datapoints":[{"value":1}]}]}"#,
                "datastreams[0] \"id\" must be a non-empty string",
            ),
            (
                r#"{"datastreams":[{"id":7,"datapoints":[{"value":1}]}]}"#,
                "datastreams[0] \"id\" must be a non-empty string",
            ),
            (
                r#"{"datastreams":[{"id":"a","datapoints":[{"value":1}]},{"id":"b"}]}"#,
                "datastreams[1] has no \"datapoints\"",
            ),
            (
                r#"{"datastreams":[{"id":"a","datapoints":{"value":1}}]}"#,
                "datastreams[0] \"datapoints\" is not a list",
            ),
            (
                r#"{"datastreams":[{"id":"a","datapoints":[]}]}"#,
                "datastreams[0] \"datapoints\" is empty",
            ),
            (
                r#"{"datastreams":[{"id":"a","datapoints":[{"value":1},5]}]}"#,
                "datastreams[0].datapoints[1] is not an object",
            ),
            (
                r#"{"datastreams":[{"id":"a","datapoints":[{"at":"2016-08-15T14:47:00"}]}]}"#,
                "datastreams[0].datapoints[0] has no \"value\"",
            ),
            (
                r#"{"datastreams":[{"id":"a","datapoints":[{"value":1,"at":1471272420}]}]}"#,
                "datastreams[0].datapoints[0] \"at\" must be a string",
            ),
        ];
        for (input, problem) in cases {
            assert_eq!(dp1_problem(input), problem, "{input}");
        }
    }

    #[test]
    fn dp_type_1_shape_errors_read_as_one_sentence() {
        let err = encode(
            PayloadFormat::OneNetDp1,
            r#"{"datastreams":[{"datapoints":[{"value":1}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "type 1 needs {\"datastreams\":[{\"id\":…,\"datapoints\":[{\"value\":…}]}]}: datastreams[0] has no \"id\""
        );
    }

    #[test]
    fn dp_type_3_accepts_numbers_strings_and_booleans() {
        let doc = r#"{"temp":22.1,"door":"open","alarm":false,"count":-3}"#;
        let bytes = encode(PayloadFormat::OneNetDp3, doc).unwrap();
        assert_eq!(bytes[0], 0x03);
        assert_eq!(&bytes[3..], doc.as_bytes());
    }

    #[test]
    fn dp_type_3_refuses_nested_values_null_empty_objects_and_empty_keys() {
        let flat = |problem: &str| {
            Err(FormatError::NotFlat {
                problem: problem.to_owned(),
            })
        };
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, "{}"),
            flat("the object is empty")
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, r#"{"gps":{"lat":1}}"#),
            flat("\"gps\" holds an object")
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, r#"{"a":[1,2]}"#),
            flat("\"a\" holds a list")
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, r#"{"a":null}"#),
            flat("\"a\" holds null")
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, r#"{"":1}"#),
            flat("a key is empty")
        );
        assert_eq!(
            encode(PayloadFormat::OneNetDp3, r#"{"a":{}}"#)
                .unwrap_err()
                .to_string(),
            "type 3 needs a flat object of numbers, strings or booleans such as {\"temp\": 22.1}: \"a\" holds an object"
        );
        let long_key = format!("{{\"{}\":[]}}", "k".repeat(500));
        let err = encode(PayloadFormat::OneNetDp3, &long_key)
            .unwrap_err()
            .to_string();
        assert!(err.len() < 200, "{err}");
    }

    #[test]
    fn dp_shapes_are_checked_only_after_the_json_itself() {
        assert!(matches!(
            encode(PayloadFormat::OneNetDp3, "{\"a\":"),
            Err(FormatError::InvalidJson { .. })
        ));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            encode(PayloadFormat::OneNetDp1, &deep),
            Err(FormatError::InvalidJson { .. })
        ));
    }

    #[test]
    fn format_keys_round_trip() {
        for f in PayloadFormat::ALL {
            assert_eq!(PayloadFormat::from_key(f.key()), Some(f));
        }
        assert_eq!(PayloadFormat::from_key("nope"), None);
    }
}
