//! Payload builders for the OneNet IoT platform formats the simulator sends.
//!
//! - `$dp` **type 1** (the seed article's `build_payload(TYPE_JSON, ...)`): one
//!   type byte `0x01`, the JSON length as a 2-byte big-endian integer, then
//!   the JSON `{"datastreams":[{"id":…,"datapoints":[{"at":…,"value":…}]}]}`.
//! - `$dp` **type 3**: type byte `0x03`, 2-byte big-endian length, then one
//!   flat JSON object of datastream → value.
//! - The newer platform's JSON for `$sys/{pid}/{device}/dp/post/json`:
//!   `{"id":123,"dp":{"temp":[{"v":30,"t":1552289676}]}}`.
//!
//! JSON is written field by field, in the order the OneNet documents show,
//! so the bytes do not depend on serde_json's map ordering features. The
//! seed's Python `json.dumps` would put a space after `:` and `,`; OneNet
//! parses either, and the compact form is what these builders produce.
//!
//! Pure functions only: no IO, no clock (times are passed in).

use std::fmt;

/// `$dp` type byte for the `datastreams` JSON upload (the seed's `TYPE_JSON`).
pub const DP_TYPE_JSON: u8 = 0x01;
/// `$dp` type byte for the flat `{"stream": value, …}` JSON upload.
pub const DP_TYPE_FLAT_JSON: u8 = 0x03;

/// A `$dp` body does not fit the 2-byte length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLong {
    /// Length of the JSON body in bytes.
    pub len: usize,
}

impl fmt::Display for BodyTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$dp body of {} bytes does not fit a 2-byte length (max 65535)",
            self.len
        )
    }
}

impl std::error::Error for BodyTooLong {}

/// Frames a `$dp` body the way the seed's `build_payload(type, payload)` does:
/// `type`, then `struct.pack("!H", len)`, then the UTF-8 body.
pub fn frame_dp(dp_type: u8, json: &str) -> Result<Vec<u8>, BodyTooLong> {
    let len = u16::try_from(json.len()).map_err(|_| BodyTooLong { len: json.len() })?;
    let mut out = Vec::with_capacity(3 + json.len());
    out.push(dp_type);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(json.as_bytes());
    Ok(out)
}

/// The type 1 JSON body for one datapoint of one datastream, e.g.
/// `{"datastreams":[{"id":"wendu","datapoints":[{"at":"2016-08-15T14:47:00","value":55}]}]}`.
pub fn dp_type1_json(stream_id: &str, at: &str, value: &serde_json::Value) -> String {
    format!(
        "{{\"datastreams\":[{{\"id\":{},\"datapoints\":[{{\"at\":{},\"value\":{}}}]}}]}}",
        json_str(stream_id),
        json_str(at),
        value
    )
}

/// A complete type 1 `$dp` payload: `0x01`, length, [`dp_type1_json`].
pub fn dp_type1_payload(
    stream_id: &str,
    at: &str,
    value: &serde_json::Value,
) -> Result<Vec<u8>, BodyTooLong> {
    frame_dp(DP_TYPE_JSON, &dp_type1_json(stream_id, at, value))
}

/// The type 3 flat JSON body, keys in the order given, e.g. `{"temp":22.1,"hum":40}`.
pub fn dp_type3_json(values: &[(&str, serde_json::Value)]) -> String {
    let fields: Vec<String> = values
        .iter()
        .map(|(k, v)| format!("{}:{}", json_str(k), v))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A complete type 3 `$dp` payload: `0x03`, length, [`dp_type3_json`].
pub fn dp_type3_payload(values: &[(&str, serde_json::Value)]) -> Result<Vec<u8>, BodyTooLong> {
    frame_dp(DP_TYPE_FLAT_JSON, &dp_type3_json(values))
}

/// The newer platform's property post, one point per datastream with time
/// `t` (seconds, as in OneNet's example), e.g.
/// `{"id":123,"dp":{"temp":[{"v":30,"t":1552289676}]}}`.
pub fn dp_post_json(id: u64, t: u64, values: &[(&str, serde_json::Value)]) -> String {
    let streams: Vec<String> = values
        .iter()
        .map(|(k, v)| format!("{}:[{{\"v\":{},\"t\":{}}}]", json_str(k), v, t))
        .collect();
    format!("{{\"id\":{},\"dp\":{{{}}}}}", id, streams.join(","))
}

/// The newer platform's upload topic `$sys/{pid}/{device}/dp/post/json`.
pub fn dp_post_topic(product_id: &str, device: &str) -> String {
    format!("$sys/{product_id}/{device}/dp/post/json")
}

/// Formats seconds since the UNIX epoch as `YYYY-MM-DDTHH:MM:SS` (UTC, no
/// zone suffix), the shape of the seed's `"at":"2016-08-15T14:47:00"`.
pub fn iso_seconds(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day)
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type1_payload_matches_the_seed_bytes() {
        let payload = dp_type1_payload("wendu", "2016-08-15T14:47:00", &json!(55)).unwrap();
        let body = br#"{"datastreams":[{"id":"wendu","datapoints":[{"at":"2016-08-15T14:47:00","value":55}]}]}"#;
        let mut expected = vec![0x01, 0x00, body.len() as u8];
        expected.extend_from_slice(body);
        assert_eq!(payload, expected);
        assert_eq!(body.len(), 87);
        assert_eq!(&payload[..3], &[0x01, 0x00, 0x57]);
    }

    #[test]
    fn type1_json_parses_back_to_the_documented_shape() {
        let text = dp_type1_json("wendu", "2024-01-02T03:04:05", &json!(21.5));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["datastreams"][0]["id"], "wendu");
        assert_eq!(
            v["datastreams"][0]["datapoints"][0]["at"],
            "2024-01-02T03:04:05"
        );
        assert_eq!(v["datastreams"][0]["datapoints"][0]["value"], 21.5);
    }

    #[test]
    fn type3_payload_is_flat_json_with_type_3_and_big_endian_length() {
        let payload = dp_type3_payload(&[("temp", json!(22.1)), ("hum", json!(40))]).unwrap();
        let body = br#"{"temp":22.1,"hum":40}"#;
        let mut expected = vec![0x03, 0x00, body.len() as u8];
        expected.extend_from_slice(body);
        assert_eq!(payload, expected);
    }

    #[test]
    fn length_field_is_big_endian_above_255_bytes() {
        let long = "x".repeat(300);
        let payload = frame_dp(DP_TYPE_JSON, &long).unwrap();
        assert_eq!(&payload[..3], &[0x01, 0x01, 0x2c]);
        assert_eq!(payload.len(), 303);
    }

    #[test]
    fn body_longer_than_u16_is_refused() {
        let long = "x".repeat(65_536);
        assert_eq!(
            frame_dp(DP_TYPE_JSON, &long),
            Err(BodyTooLong { len: 65_536 })
        );
        assert!(frame_dp(DP_TYPE_JSON, &long[..65_535]).is_ok());
    }

    #[test]
    fn stream_ids_are_json_escaped() {
        let text = dp_type1_json("a\"b", "t", &json!(1));
        assert!(text.contains(r#""id":"a\"b""#));
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }

    #[test]
    fn post_json_matches_the_documented_example() {
        let text = dp_post_json(123, 1_552_289_676, &[("temp", json!(30))]);
        assert_eq!(
            text,
            r#"{"id":123,"dp":{"temp":[{"v":30,"t":1552289676}]}}"#
        );
        let two = dp_post_json(7, 1, &[("temp", json!(30.5)), ("hum", json!(41))]);
        assert_eq!(
            two,
            r#"{"id":7,"dp":{"temp":[{"v":30.5,"t":1}],"hum":[{"v":41,"t":1}]}}"#
        );
    }

    #[test]
    fn post_topic_has_the_sys_shape() {
        assert_eq!(
            dp_post_topic("12555524", "sensor-1"),
            "$sys/12555524/sensor-1/dp/post/json"
        );
    }

    #[test]
    fn iso_seconds_formats_known_instants() {
        assert_eq!(iso_seconds(0), "1970-01-01T00:00:00");
        // The seed's example instant, read as UTC.
        assert_eq!(iso_seconds(1_471_272_420), "2016-08-15T14:47:00");
        assert_eq!(iso_seconds(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(iso_seconds(1_552_289_676), "2019-03-11T07:34:36");
    }
}
