//! The page's query string, so a dashboard can be shared as a link:
//! `?broker=ws://host:9001/mqtt&sub=a/%23&sub=b/%2B/c&connect=1`.
//!
//! Parameters: `broker` (URL), `sub` (repeatable topic filter), `qos` (0–2,
//! for every subscription that has no `subqos`), `subqos` (0–2, the QoS of
//! the `sub` right before it: `sub=a/%23&subqos=1&sub=b&subqos=2`),
//! `connect` (`1`/`true`/`yes`/`on` or present without a value: connect at
//! once), `client_id`, `username`, `profile` (a saved profile's name),
//! `decode` (repeatable decoder rule, `FILTER|DECODER` or
//! `FILTER|protobuf:MESSAGE.TYPE`, e.g. `decode=cbor/%23|cbor`; see
//! [`crate::decoding`]). A
//! `password` parameter is ignored on purpose: links end up in histories,
//! logs and chats. Unknown or ignored keys (a bad QoS, a `subqos` that does
//! not follow a `sub` directly, or a second one for the same `sub`) are
//! listed in [`QueryParams::ignored`].
//!
//! [`share_query`] writes `qos=` once when every subscription has the same
//! QoS (`?broker=…&sub=a&sub=b&qos=1`, the shape older pages read), and a
//! `subqos=` after each `sub=` otherwise; [`parse_query`] reads both into
//! [`QueryParams::subs_with_qos`].
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
    /// The same filters as `subs`, in order, each with its QoS: its own
    /// `subqos` if it has one, else `qos`, else `None` (the page's default).
    pub subs_with_qos: Vec<(String, Option<u8>)>,
    /// `connect`: connect at once.
    pub connect: bool,
    /// `client_id`: the client id to prefill.
    pub client_id: Option<String>,
    /// `username`: the user name to prefill.
    pub username: Option<String>,
    /// `profile`: a saved profile to select.
    pub profile: Option<String>,
    /// `decode`: decoder rules as (filter, decoder code, Protobuf message
    /// type), in order; checked by the page when it puts them in force.
    pub decoders: Vec<(String, String, String)>,
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

fn parse_qos(value: &str) -> Option<u8> {
    match value.trim() {
        "0" => Some(0),
        "1" => Some(1),
        "2" => Some(2),
        _ => None,
    }
}

/// Parses a query string (with or without its leading `?`).
pub fn parse_query(query: &str) -> QueryParams {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut params = QueryParams::default();
    // The `subqos` of each sub, and whether the previous pair was a sub
    // still waiting for its `subqos`.
    let mut own_qos: Vec<Option<u8>> = Vec::new();
    let mut open_sub = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(raw_key);
        let value = percent_decode(raw_value);
        let non_empty = |v: String| (!v.is_empty()).then_some(v);
        let after_sub = std::mem::take(&mut open_sub);
        match key.as_str() {
            "broker" => params.broker = non_empty(value.trim().to_owned()),
            "sub" => {
                if !value.is_empty() {
                    params.subs.push(value);
                    own_qos.push(None);
                    open_sub = true;
                }
            }
            "subqos" => match (after_sub, parse_qos(&value), own_qos.last_mut()) {
                (true, Some(q), Some(slot)) => *slot = Some(q),
                _ => params.ignored.push(key),
            },
            "qos" => match parse_qos(&value) {
                Some(q) => params.qos = Some(q),
                None => params.ignored.push(key),
            },
            "connect" => params.connect = truthy(value.trim()),
            "client_id" => params.client_id = non_empty(value),
            "username" => params.username = non_empty(value),
            "profile" => params.profile = non_empty(value),
            // The filter may hold anything but the decoder never holds `|`.
            "decode" => match value.rsplit_once('|') {
                Some((filter, spec)) if !filter.is_empty() => {
                    let (code, message) = spec.split_once(':').unwrap_or((spec, ""));
                    params
                        .decoders
                        .push((filter.to_owned(), code.to_owned(), message.to_owned()));
                }
                _ => params.ignored.push(key),
            },
            _ => params.ignored.push(key),
        }
    }
    params.subs_with_qos = params
        .subs
        .iter()
        .zip(own_qos)
        .map(|(f, q)| (f.clone(), q.or(params.qos)))
        .collect();
    params
}

/// Builds the query string of a share link (starting with `?`) that
/// [`parse_query`] reads back as `broker`, `subs_with_qos` (every QoS
/// `Some`) and `connect`: `qos=` once when all subscriptions share one QoS,
/// else `subqos=` after each `sub=` (see the module docs). Empty filters
/// are left out (the parser skips them) and a QoS above 2 is written as 2.
pub fn share_query(broker: &str, subs: &[(&str, u8)], connect: bool) -> String {
    let mut out = format!("?broker={}", percent_encode(broker));
    let subs: Vec<(&str, u8)> = subs
        .iter()
        .filter(|(f, _)| !f.is_empty())
        .map(|&(f, q)| (f, q.min(2)))
        .collect();
    let shared = match subs.split_first() {
        Some((&(_, q), rest)) if rest.iter().all(|&(_, r)| r == q) => Some(q),
        _ => None,
    };
    for (filter, qos) in &subs {
        out.push_str("&sub=");
        out.push_str(&percent_encode(filter));
        if shared.is_none() {
            out.push_str(&format!("&subqos={qos}"));
        }
    }
    if let Some(q) = shared {
        out.push_str(&format!("&qos={q}"));
    }
    if connect {
        out.push_str("&connect=1");
    }
    out
}

/// The `&decode=…` pairs of a share link for `rules` (empty for none).
pub fn share_decoders(rules: &crate::decoding::DecoderRules) -> String {
    let mut out = String::new();
    for r in rules.rules() {
        let mut spec = format!("{}|{}", r.filter, r.decoder.code());
        if let crate::decoding::Decoder::Protobuf { message } = &r.decoder {
            if !message.is_empty() {
                spec.push(':');
                spec.push_str(message);
            }
        }
        out.push_str("&decode=");
        out.push_str(&percent_encode(&spec));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_rules_travel_in_a_share_link_and_come_back() {
        use crate::decoding::{Decoder, DecoderRules};
        let mut rules = DecoderRules::none();
        rules.add("cbor/#", Decoder::Cbor).unwrap();
        rules
            .add(
                "pb/+/x",
                Decoder::Protobuf {
                    message: "acme.Reading".into(),
                },
            )
            .unwrap();
        let q = parse_query(&format!("?broker=ws://h/mqtt{}", share_decoders(&rules)));
        assert_eq!(
            q.decoders,
            vec![
                ("cbor/#".to_owned(), "cbor".to_owned(), String::new()),
                (
                    "pb/+/x".to_owned(),
                    "protobuf".to_owned(),
                    "acme.Reading".to_owned()
                ),
            ]
        );
        assert!(q.ignored.is_empty());
        assert_eq!(parse_query("?decode=nodecoder").ignored, ["decode"]);
    }

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
        let link = share_query(
            "ws://h:9001/mqtt?x=1",
            &[("a/#", 1), ("b/+/c", 1), ("温 度&=", 1)],
            true,
        );
        assert!(
            link.starts_with("?broker=ws://h:9001/mqtt%3Fx%3D1&sub=a/%23&sub=b/%2B/c&sub="),
            "{link}"
        );
        assert!(link.ends_with("&qos=1&connect=1"), "{link}");
        let q = parse_query(&link);
        assert_eq!(q.broker.as_deref(), Some("ws://h:9001/mqtt?x=1"));
        assert_eq!(q.subs, ["a/#", "b/+/c", "温 度&="]);
        assert_eq!(q.qos, Some(1));
        assert!(q.connect);
        assert!(q.ignored.is_empty());
    }

    fn round_trip(broker: &str, subs: &[(&str, u8)], connect: bool) {
        let link = share_query(broker, subs, connect);
        let q = parse_query(&link);
        assert_eq!(q.broker.as_deref(), Some(broker), "{link}");
        let expected: Vec<(String, Option<u8>)> = subs
            .iter()
            .map(|&(f, qos)| (f.to_owned(), Some(qos)))
            .collect();
        assert_eq!(q.subs_with_qos, expected, "{link}");
        assert_eq!(q.connect, connect, "{link}");
        assert!(q.ignored.is_empty(), "{link}: {:?}", q.ignored);
    }

    #[test]
    fn share_links_with_one_qos_write_it_once_and_round_trip() {
        let subs = [("a/+/b", 2), ("#", 2), ("with space/x", 2)];
        let link = share_query("wss://broker.example:8084/mqtt", &subs, false);
        assert_eq!(link.matches("qos=").count(), 1, "{link}");
        assert!(!link.contains("subqos"), "{link}");
        round_trip("wss://broker.example:8084/mqtt", &subs, false);
    }

    #[test]
    fn share_links_with_mixed_qos_give_each_subscription_its_own() {
        let subs = [("a/+", 0), ("b/#", 2), ("c", 1)];
        let link = share_query("ws://h/mqtt", &subs, true);
        assert_eq!(
            link,
            "?broker=ws://h/mqtt&sub=a/%2B&subqos=0&sub=b/%23&subqos=2&sub=c&subqos=1&connect=1"
        );
        round_trip("ws://h/mqtt", &subs, true);
    }

    #[test]
    fn share_links_round_trip_plus_hash_spaces_percent_ampersand_and_unicode() {
        round_trip(
            "ws://h/mqtt?a=1&b=%20",
            &[
                ("a/+/b", 0),
                ("#", 1),
                ("with spaces/ x ", 2),
                ("100%/%41%zz", 0),
                ("a&b=c/&sub=x", 1),
                ("温度/+/湿度/#", 2),
                ("emoji/😀", 1),
                ("$share/g/a/+", 0),
                ("+", 2),
                ("?q#frag", 1),
            ],
            true,
        );
        round_trip("ws://h/", &[("温 度", 1), ("a+b", 1)], false);
    }

    #[test]
    fn share_links_leave_out_empty_filters_and_cap_qos_at_two() {
        let link = share_query("ws://h/", &[("", 1), ("a", 7)], false);
        assert_eq!(link, "?broker=ws://h/&sub=a&qos=2");
        assert_eq!(share_query("ws://h/", &[], false), "?broker=ws://h/");
    }

    #[test]
    fn a_single_qos_still_applies_to_every_subscription() {
        let q = parse_query("?sub=a&qos=2&sub=b");
        assert_eq!(
            q.subs_with_qos,
            [("a".to_owned(), Some(2)), ("b".to_owned(), Some(2))]
        );
        let q = parse_query("?sub=a&sub=b");
        assert_eq!(
            q.subs_with_qos,
            [("a".to_owned(), None), ("b".to_owned(), None)]
        );
    }

    #[test]
    fn subqos_overrides_qos_for_the_sub_right_before_it_only() {
        let q = parse_query("sub=a&subqos=0&sub=b&qos=1&subqos=2&sub=c&subqos=1&subqos=2");
        assert_eq!(
            q.subs_with_qos,
            [
                ("a".to_owned(), Some(0)),
                ("b".to_owned(), Some(1)),
                ("c".to_owned(), Some(1)),
            ]
        );
        assert_eq!(q.ignored, ["subqos", "subqos"]);
    }

    #[test]
    fn a_misplaced_or_bad_subqos_is_ignored_and_listed() {
        let q = parse_query("subqos=1&sub=&subqos=1&sub=a&subqos=9");
        assert_eq!(q.subs_with_qos, [("a".to_owned(), None)]);
        assert_eq!(q.ignored, ["subqos", "subqos", "subqos"]);
    }
}
