//! The broker statistics card: the figures mosquitto publishes under
//! `$SYS/broker/…` (with a subscription to `$SYS/#`), kept as plain values
//! and turned into labelled rows for the card.
//!
//! The topic names and payload formats are those of mosquitto 2.0 (checked
//! against a running 2.0.11 and its man page, mosquitto(8)): counters are
//! decimal integers (`42`), the uptime is `12345 seconds`, the load figures
//! are decimals with two places (`1.90`), and the version is text
//! (`mosquitto version 2.0.11`). Other brokers that follow the same names
//! fill the same fields.
//!
//! This module must not panic or keep a malformed value: a payload that
//! does not parse is ignored and the previous value stays. It does no IO
//! and reads no clock; the uptime is the broker's own figure.

use crate::decimal::Fixed;

/// Payloads longer than this are not `$SYS` figures; they are ignored
/// without being decoded.
const MAX_VALUE_LEN: usize = 256;

/// The latest figures from a broker's `$SYS` topics; a field is `None`
/// until its topic has brought a value that parses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerStats {
    /// `$SYS/broker/version`, e.g. `mosquitto version 2.0.11`.
    pub version: Option<String>,
    /// `$SYS/broker/uptime`, in seconds.
    pub uptime_seconds: Option<u64>,
    /// `$SYS/broker/clients/connected` (or, from brokers that publish only
    /// the older name, `$SYS/broker/clients/active`).
    pub clients_connected: Option<u64>,
    /// `$SYS/broker/subscriptions/count`: subscriptions active on the
    /// broker, for all clients.
    pub subscriptions: Option<u64>,
    /// `$SYS/broker/load/messages/received/1min` divided by 60. Mosquitto
    /// publishes a moving average of MQTT packets of every type (not only
    /// PUBLISH) received per minute, over one minute; the card shows it per
    /// second, so it lags a change in traffic by about a minute.
    pub messages_received_per_second: Option<f64>,
    /// `$SYS/broker/load/messages/sent/1min` divided by 60, like
    /// [`messages_received_per_second`](Self::messages_received_per_second).
    pub messages_sent_per_second: Option<f64>,
    /// `$SYS/broker/messages/received`: MQTT packets of every type received
    /// since the broker started.
    pub messages_received: Option<u64>,
    /// `$SYS/broker/messages/sent`: MQTT packets of every type sent since
    /// the broker started.
    pub messages_sent: Option<u64>,
    /// `$SYS/broker/publish/messages/dropped`: PUBLISH messages dropped
    /// because of in-flight or queue limits, since the broker started.
    pub messages_dropped: Option<u64>,
    /// `$SYS/broker/load/bytes/received/1min` divided by 60 (a one-minute
    /// moving average, like the message rates).
    pub bytes_received_per_second: Option<f64>,
    /// `$SYS/broker/load/bytes/sent/1min` divided by 60.
    pub bytes_sent_per_second: Option<f64>,
    /// Whether `clients_connected` came from the current topic name, so the
    /// deprecated one (which mosquitto 2.0 still publishes alongside) can
    /// no longer overwrite it.
    clients_from_current_topic: bool,
}

impl BrokerStats {
    /// No figure known yet.
    pub fn new() -> Self {
        BrokerStats::default()
    }

    /// Takes one `$SYS` message. Returns true when the topic is one of the
    /// card's and its value parsed (the field then holds it); false, with
    /// nothing changed, for any other topic or a malformed value.
    pub fn record(&mut self, topic: &str, payload: &[u8]) -> bool {
        let Some(text) = value_text(payload) else {
            return false;
        };
        match topic {
            "$SYS/broker/version" => {
                if text.is_empty() {
                    return false;
                }
                self.version = Some(text.to_owned());
                true
            }
            "$SYS/broker/uptime" => set(&mut self.uptime_seconds, parse_uptime(text)),
            "$SYS/broker/clients/connected" => {
                let parsed = set(&mut self.clients_connected, parse_count(text));
                self.clients_from_current_topic |= parsed;
                parsed
            }
            "$SYS/broker/clients/active" => {
                let Some(n) = parse_count(text) else {
                    return false;
                };
                if !self.clients_from_current_topic {
                    self.clients_connected = Some(n);
                }
                true
            }
            "$SYS/broker/subscriptions/count" => set(&mut self.subscriptions, parse_count(text)),
            "$SYS/broker/load/messages/received/1min" => {
                set(&mut self.messages_received_per_second, per_second(text))
            }
            "$SYS/broker/load/messages/sent/1min" => {
                set(&mut self.messages_sent_per_second, per_second(text))
            }
            "$SYS/broker/messages/received" => set(&mut self.messages_received, parse_count(text)),
            "$SYS/broker/messages/sent" => set(&mut self.messages_sent, parse_count(text)),
            "$SYS/broker/publish/messages/dropped" => {
                set(&mut self.messages_dropped, parse_count(text))
            }
            "$SYS/broker/load/bytes/received/1min" => {
                set(&mut self.bytes_received_per_second, per_second(text))
            }
            "$SYS/broker/load/bytes/sent/1min" => {
                set(&mut self.bytes_sent_per_second, per_second(text))
            }
            _ => false,
        }
    }

    /// True when no figure is known, so the card can stay hidden.
    pub fn is_empty(&self) -> bool {
        self.rows().is_empty()
    }

    /// The uptime for people: the two largest units, e.g. `3 h 25 min`,
    /// `2 d 4 h`, `5 min 7 s`, `42 s` (a zero second unit is left out:
    /// `3 h`).
    pub fn uptime_text(&self) -> Option<String> {
        self.uptime_seconds.map(duration_text)
    }

    /// The card's rows, `(label, value)`, in a fixed order, for the known
    /// figures only: Version, Uptime, Clients connected, Subscriptions,
    /// Messages received/s, Messages sent/s, Messages received, Messages
    /// sent, Messages dropped, Data received, Data sent.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let count = |n: &Option<u64>| n.map(|n| n.to_string());
        let rate = |r: &Option<f64>| r.map(rate_text);
        let bytes = |r: &Option<f64>| r.map(bytes_rate_text);
        [
            ("Version", self.version.clone()),
            ("Uptime", self.uptime_text()),
            ("Clients connected", count(&self.clients_connected)),
            ("Subscriptions", count(&self.subscriptions)),
            (
                "Messages received/s",
                rate(&self.messages_received_per_second),
            ),
            ("Messages sent/s", rate(&self.messages_sent_per_second)),
            ("Messages received", count(&self.messages_received)),
            ("Messages sent", count(&self.messages_sent)),
            ("Messages dropped", count(&self.messages_dropped)),
            ("Data received", bytes(&self.bytes_received_per_second)),
            ("Data sent", bytes(&self.bytes_sent_per_second)),
        ]
        .into_iter()
        .filter_map(|(label, value)| value.map(|v| (label, v)))
        .collect()
    }
}

/// Stores `value` when it parsed; says whether it did.
fn set<T>(field: &mut Option<T>, value: Option<T>) -> bool {
    match value {
        Some(v) => {
            *field = Some(v);
            true
        }
        None => false,
    }
}

fn value_text(payload: &[u8]) -> Option<&str> {
    if payload.len() > MAX_VALUE_LEN {
        return None;
    }
    std::str::from_utf8(payload).ok().map(str::trim)
}

fn parse_count(text: &str) -> Option<u64> {
    // `u64::from_str` accepts a leading `+`; a counter never has one.
    if text.starts_with('+') {
        return None;
    }
    text.parse().ok()
}

/// `12345 seconds` (mosquitto) or a bare number of seconds.
fn parse_uptime(text: &str) -> Option<u64> {
    let number = text.strip_suffix("seconds").unwrap_or(text).trim_end();
    parse_count(number)
}

/// A per-minute load figure as a per-second rate.
fn per_second(text: &str) -> Option<f64> {
    // `f64::from_str` also accepts `inf`, `NaN` and exponents; a load is a
    // plain non-negative decimal.
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    crate::decimal::parse_finite(text).map(|per_minute| per_minute / 60.0)
}

fn duration_text(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")];
    let mut parts = Vec::with_capacity(2);
    let mut rest = seconds;
    for (size, name) in UNITS {
        let n = rest / size;
        rest %= size;
        if !parts.is_empty() {
            // The second unit: shown unless zero.
            if n > 0 {
                parts.push(format!("{n} {name}"));
            }
            break;
        }
        if n > 0 || size == 1 {
            parts.push(format!("{n} {name}"));
        }
    }
    parts.join(" ")
}

/// A rate with as many decimals as its size deserves: `0`, `< 0.01`,
/// `0.03`, `1.03`, `12.4`, `350`.
fn rate_text(per_second: f64) -> String {
    if per_second <= 0.0 {
        "0".to_owned()
    } else if per_second < 0.005 {
        "< 0.01".to_owned()
    } else if per_second < 10.0 {
        Fixed(per_second, 2).to_string()
    } else if per_second < 100.0 {
        Fixed(per_second, 1).to_string()
    } else {
        Fixed(per_second, 0).to_string()
    }
}

/// Bytes per second in decimal units: `0.4 B/s`, `412 B/s`, `1.5 kB/s`,
/// `2.3 MB/s`, `1.0 GB/s`.
fn bytes_rate_text(per_second: f64) -> String {
    if per_second < 10.0 {
        format!("{} B/s", Fixed(per_second, 1))
    } else if per_second < 1_000.0 {
        format!("{} B/s", Fixed(per_second, 0))
    } else if per_second < 1e6 {
        format!("{} kB/s", Fixed(per_second / 1e3, 1))
    } else if per_second < 1e9 {
        format!("{} MB/s", Fixed(per_second / 1e6, 1))
    } else {
        format!("{} GB/s", Fixed(per_second / 1e9, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Topics and payloads as mosquitto 2.0.11 published them to
    /// `mosquitto_sub -v -t '$SYS/#'`, one client connected.
    const MOSQUITTO_2_0_11: &[(&str, &str)] = &[
        ("$SYS/broker/version", "mosquitto version 2.0.11"),
        ("$SYS/broker/uptime", "6 seconds"),
        ("$SYS/broker/clients/active", "1"),
        ("$SYS/broker/clients/connected", "1"),
        ("$SYS/broker/clients/maximum", "1"),
        ("$SYS/broker/subscriptions/count", "1"),
        ("$SYS/broker/messages/received", "2"),
        ("$SYS/broker/messages/sent", "131"),
        ("$SYS/broker/publish/messages/dropped", "0"),
        ("$SYS/broker/load/messages/received/1min", "1.84"),
        ("$SYS/broker/load/messages/sent/1min", "64.91"),
        ("$SYS/broker/load/messages/sent/5min", "13.79"),
        ("$SYS/broker/load/bytes/received/1min", "24.84"),
        ("$SYS/broker/load/bytes/sent/1min", "5241.00"),
        ("$SYS/broker/retained messages/count", "40"),
        ("$SYS/broker/heap/current", "33272"),
    ];

    fn from_mosquitto() -> BrokerStats {
        let mut stats = BrokerStats::new();
        for (topic, payload) in MOSQUITTO_2_0_11 {
            stats.record(topic, payload.as_bytes());
        }
        stats
    }

    #[test]
    fn a_real_mosquitto_capture_fills_every_field_of_the_card() {
        let stats = from_mosquitto();
        assert_eq!(stats.version.as_deref(), Some("mosquitto version 2.0.11"));
        assert_eq!(stats.uptime_seconds, Some(6));
        assert_eq!(stats.clients_connected, Some(1));
        assert_eq!(stats.subscriptions, Some(1));
        assert_eq!(stats.messages_received, Some(2));
        assert_eq!(stats.messages_sent, Some(131));
        assert_eq!(stats.messages_dropped, Some(0));
        let sent = stats.messages_sent_per_second.unwrap();
        assert!((sent - 64.91 / 60.0).abs() < 1e-9);
        let bytes = stats.bytes_sent_per_second.unwrap();
        assert!((bytes - 5241.0 / 60.0).abs() < 1e-9);
    }

    #[test]
    fn the_rows_come_in_the_card_order_with_readable_values() {
        let rows = from_mosquitto().rows();
        let expected: Vec<(&str, String)> = vec![
            ("Version", "mosquitto version 2.0.11".into()),
            ("Uptime", "6 s".into()),
            ("Clients connected", "1".into()),
            ("Subscriptions", "1".into()),
            ("Messages received/s", "0.03".into()),
            ("Messages sent/s", "1.08".into()),
            ("Messages received", "2".into()),
            ("Messages sent", "131".into()),
            ("Messages dropped", "0".into()),
            ("Data received", "0.4 B/s".into()),
            ("Data sent", "87 B/s".into()),
        ];
        assert_eq!(rows, expected);
    }

    #[test]
    fn rows_list_only_the_known_figures() {
        let mut stats = BrokerStats::new();
        assert!(stats.is_empty());
        assert!(stats.rows().is_empty());
        assert!(stats.record("$SYS/broker/messages/sent", b"17"));
        assert!(!stats.is_empty());
        assert_eq!(stats.rows(), vec![("Messages sent", "17".to_owned())]);
    }

    #[test]
    fn topics_outside_the_card_are_not_recorded() {
        let mut stats = BrokerStats::new();
        assert!(!stats.record("$SYS/broker/heap/current", b"33272"));
        assert!(!stats.record("$SYS/broker/load/messages/sent/5min", b"1.00"));
        assert!(!stats.record("sensors/version", b"1.0"));
        assert!(!stats.record("$SYS/broker/uptime/extra", b"5 seconds"));
        assert!(stats.is_empty());
    }

    #[test]
    fn the_uptime_is_read_with_or_without_its_unit() {
        let mut stats = BrokerStats::new();
        assert!(stats.record("$SYS/broker/uptime", b"12345 seconds"));
        assert_eq!(stats.uptime_seconds, Some(12_345));
        assert!(stats.record("$SYS/broker/uptime", b"99\n"));
        assert_eq!(stats.uptime_seconds, Some(99));
    }

    #[test]
    fn the_uptime_text_shows_the_two_largest_units() {
        let text = |s: u64| duration_text(s);
        assert_eq!(text(0), "0 s");
        assert_eq!(text(42), "42 s");
        assert_eq!(text(307), "5 min 7 s");
        assert_eq!(text(12_345), "3 h 25 min");
        assert_eq!(text(3 * 3_600), "3 h");
        assert_eq!(text(2 * 86_400 + 4 * 3_600 + 59), "2 d 4 h");
        assert_eq!(text(86_400 + 30), "1 d");
        assert!(text(u64::MAX).ends_with(" h"));
        let mut stats = BrokerStats::new();
        assert_eq!(stats.uptime_text(), None);
        stats.record("$SYS/broker/uptime", b"12345 seconds");
        assert_eq!(stats.uptime_text().as_deref(), Some("3 h 25 min"));
    }

    #[test]
    fn malformed_values_are_ignored_and_the_previous_value_stays() {
        let mut stats = BrokerStats::new();
        assert!(stats.record("$SYS/broker/clients/connected", b"3"));
        for bad in [
            &b""[..],
            b"-1",
            b"+4",
            b"three",
            b"3.5",
            b"18446744073709551616",
            b"\xff\xfe",
        ] {
            assert!(
                !stats.record("$SYS/broker/clients/connected", bad),
                "{bad:?}"
            );
        }
        assert_eq!(stats.clients_connected, Some(3));

        assert!(stats.record("$SYS/broker/load/messages/sent/1min", b"6.00"));
        for bad in [&b"NaN"[..], b"inf", b"-6.0", b"1e400", b"6,00", b""] {
            assert!(
                !stats.record("$SYS/broker/load/messages/sent/1min", bad),
                "{bad:?}"
            );
        }
        assert_eq!(stats.messages_sent_per_second, Some(0.1));

        assert!(!stats.record("$SYS/broker/version", b"  "));
        assert!(!stats.record("$SYS/broker/version", &[b'v'; MAX_VALUE_LEN + 1]));
        assert!(!stats.record("$SYS/broker/uptime", b"seconds"));
        assert_eq!(stats.version, None);
        assert_eq!(stats.uptime_seconds, None);
    }

    #[test]
    fn the_deprecated_client_count_is_used_only_until_the_current_one_arrives() {
        let mut old_broker = BrokerStats::new();
        assert!(old_broker.record("$SYS/broker/clients/active", b"4"));
        assert_eq!(old_broker.clients_connected, Some(4));

        let mut stats = BrokerStats::new();
        stats.record("$SYS/broker/clients/connected", b"2");
        assert!(stats.record("$SYS/broker/clients/active", b"9"));
        assert_eq!(stats.clients_connected, Some(2));
    }

    #[test]
    fn rates_get_as_many_decimals_as_their_size_deserves() {
        assert_eq!(rate_text(0.0), "0");
        assert_eq!(rate_text(0.001), "< 0.01");
        assert_eq!(rate_text(1.9 / 60.0), "0.03");
        assert_eq!(rate_text(12.44), "12.4");
        assert_eq!(rate_text(350.2), "350");
        assert_eq!(bytes_rate_text(0.0), "0.0 B/s");
        assert_eq!(bytes_rate_text(412.0), "412 B/s");
        assert_eq!(bytes_rate_text(1_500.0), "1.5 kB/s");
        assert_eq!(bytes_rate_text(2.3e6), "2.3 MB/s");
        assert_eq!(bytes_rate_text(4.0e9), "4.0 GB/s");
    }
}
