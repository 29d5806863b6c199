//! The page's query string, so a dashboard can be shared as a link:
//! `?broker=ws://host:9001/mqtt&sub=a/%23&sub=b/%2B/c&connect=1`.
//!
//! Parameters: `broker` (URL), `sub` (repeatable topic filter), `qos` (0–2,
//! for those subscriptions), `connect` (`1`/`true`/`yes`/`on` or present
//! without a value: connect at once), `client_id`, `username`, `profile`
//! (a saved profile's name). A `password` parameter is ignored on purpose:
//! links end up in histories, logs and chats. Unknown or ignored keys are
//! listed in [`QueryParams::ignored`].
//!
//! Decoding: `%XX` escapes are decoded as UTF-8 (invalid sequences become
//! U+FFFD) and a `%` not followed by two hex digits is kept as it is; nothing
//! here panics on a malformed query. Unlike HTML form encoding, a literal
//! `+` stays `+` and is NOT read as a space: in MQTT `+` is the single-level
//! wildcard, and people write `sub=a/+/b` by hand far more often than they
//! put spaces in topic filters (a space can still be written `%20`). A `#`
//! cannot appear literally (the browser takes it as the start of the
//! fragment); write `%23`. [`share_query`] builds a link that survives both.

/// What the query string asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryParams {
    /// `broker`: the broker URL to prefill.
    pub broker: Option<String>,
    /// `sub`: topic filters to subscribe to, in order (empty ones skipped).
    pub subs: Vec<String>,
    /// `qos`: the QoS for those subscriptions, when valid (0, 1 or 2).
    pub qos: Option<u8>,
    /// `connect`: connect at once.
    pub connect: bool,
    /// `client_id`: the client id to prefill.
    pub client_id: Option<String>,
    /// `username`: the user name to prefill.
    pub username: Option<String>,
    /// `profile`: a saved profile to select.
    pub profile: Option<String>,
    /// Keys that were not used (unknown, `password`, or a bad `qos`).
    pub ignored: Vec<String>,
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; keeps `+` and malformed `%` as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a value for a query: keeps letters, digits, `-._~/:` and
/// escapes everything else (so `+`, `#`, `&`, `=`, `%` and spaces survive).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn truthy(value: &str) -> bool {
    !matches!(
        value.to_ascii_lowercase().as_str(),
        "0" | "false" | "no" | "off"
    )
}

/// Parses a query string (with or without its leading `?`).
pub fn parse_query(query: &str) -> QueryParams {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut params = QueryParams::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(raw_key);
        let value = percent_decode(raw_value);
        let non_empty = |v: String| (!v.is_empty()).then_some(v);
        match key.as_str() {
            "broker" => params.broker = non_empty(value.trim().to_owned()),
            "sub" => {
                if !value.is_empty() {
                    params.subs.push(value);
                }
            }
            "qos" => match value.trim() {
                "0" => params.qos = Some(0),
                "1" => params.qos = Some(1),
                "2" => params.qos = Some(2),
                _ => params.ignored.push(key),
            },
            "connect" => params.connect = truthy(value.trim()),
            "client_id" => params.client_id = non_empty(value),
            "username" => params.username = non_empty(value),
            "profile" => params.profile = non_empty(value),
            _ => params.ignored.push(key),
        }
    }
    params
}

/// Builds the query string of a share link (starting with `?`).
pub fn share_query(broker: &str, subs: &[&str], connect: bool) -> String {
    let mut out = format!("?broker={}", percent_encode(broker));
    for s in subs {
        out.push_str("&sub=");
        out.push_str(&percent_encode(s));
    }
    if connect {
        out.push_str("&connect=1");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_link_parses_into_broker_subs_and_connect() {
        let q = parse_query("?broker=ws://localhost:9001/mqtt&sub=a/%23&sub=b/%2B/c&connect=1");
        assert_eq!(q.broker.as_deref(), Some("ws://localhost:9001/mqtt"));
        assert_eq!(q.subs, ["a/#", "b/+/c"]);
        assert!(q.connect);
        assert!(q.ignored.is_empty());
    }

    #[test]
    fn a_literal_plus_is_a_wildcard_not_a_space() {
        let q = parse_query("sub=a/+/b&sub=x%20y");
        assert_eq!(q.subs, ["a/+/b", "x y"]);
    }

    #[test]
    fn malformed_escapes_are_kept_literally_without_panicking() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%e6%b8%a9"), "温");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
        assert_eq!(percent_decode("%%41"), "%A");
        let q = parse_query("?sub=%&broker=%E6&&=&connect");
        assert_eq!(q.subs, ["%"]);
        assert_eq!(q.broker.as_deref(), Some("\u{fffd}"));
        assert!(q.connect);
    }

    #[test]
    fn connect_is_false_when_absent_or_explicitly_off() {
        assert!(!parse_query("broker=ws://h/").connect);
        assert!(!parse_query("connect=0").connect);
        assert!(!parse_query("connect=false").connect);
        assert!(parse_query("connect=yes").connect);
    }

    #[test]
    fn passwords_unknown_keys_and_bad_qos_are_ignored_and_listed() {
        let q = parse_query(
            "password=hunter2&qos=7&colour=red&client_id=dev1&username=u&qos=1&profile=p",
        );
        assert_eq!(q.ignored, ["password", "qos", "colour"]);
        assert_eq!(q.qos, Some(1));
        assert_eq!(q.client_id.as_deref(), Some("dev1"));
        assert_eq!(q.username.as_deref(), Some("u"));
        assert_eq!(q.profile.as_deref(), Some("p"));
    }

    #[test]
    fn empty_values_are_skipped() {
        let q = parse_query("broker=&sub=&sub=a");
        assert_eq!(q.broker, None);
        assert_eq!(q.subs, ["a"]);
    }

    #[test]
    fn share_query_round_trips_through_parse_query() {
        let link = share_query("ws://h:9001/mqtt?x=1", &["a/#", "b/+/c", "温 度&="], true);
        assert_eq!(
            &link[..48],
            "?broker=ws://h:9001/mqtt%3Fx%3D1&sub=a/%23&sub=b"
        );
        let q = parse_query(&link);
        assert_eq!(q.broker.as_deref(), Some("ws://h:9001/mqtt?x=1"));
        assert_eq!(q.subs, ["a/#", "b/+/c", "温 度&="]);
        assert!(q.connect);
    }
}
