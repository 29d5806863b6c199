//! The pure view model of mqdash: what the screen shows, as plain data.
//!
//! Panels keyed by concrete topic and grouped under the subscription that
//! matched them, bounded histories, message rates, numeric series extracted
//! from payloads, payload rendering, chart geometry, and the small parsers
//! and encoders behind the connection and publish forms.
//!
//! Topic validation and matching are the session crate's
//! ([`mqtt_session::topic`], re-exported as [`topic`]): one set of rules and
//! error sentences for the session, the forms and the grouping of panels.
//!
//! This crate must not do IO or read a clock: it has no web-sys, no leptos,
//! and every time is passed in as milliseconds (`now_ms`); its one MQTT
//! dependency, `mqtt-session`, is sans-IO too. It never panics on
//! a payload, a topic, a URL or stored JSON: every input path is checked.
//! Incoming messages are applied in one batch per animation frame with
//! [`Dashboard::apply_batch`], at O(1) amortized cost per message; anything
//! expensive (pretty-printing, hex dumps, chart decimation) is done on demand
//! for what is displayed.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod broker_url;
pub mod chart;
pub mod client_id;
pub mod dashboard;
pub mod decimal;
pub mod decoding;
pub mod diff;
pub mod history;
pub mod json;
pub mod message;
pub mod onenet;
pub mod panel;
pub mod payload_view;
pub mod profile;
pub mod properties;
pub mod publish_format;
pub mod query;
pub mod rate;
pub mod repeat;
pub mod request_response;
pub mod search;
pub mod series;
pub mod sys_stats;
pub mod tree;
pub mod variables;

pub use broker_url::{mixed_content_error, BrokerUrl, BrokerUrlError};
pub use chart::{ChartLayout, Line, Rect, Scale, Tick};
pub use client_id::random_client_id;
pub use dashboard::{
    Dashboard, Grant, Group, Limits, NotKept, PanelId, Stats, SubId, Subscription,
    SubscriptionState, OVERLAP_WINDOW_MS, PALETTE,
};
pub use diff::{diff_payloads, Change, ChangeKind, Diff, LineChange};
pub use history::{History, HistoryEntry};
pub use message::Incoming;
/// The MQTT topic rules (validation with sentence errors, matching with the
/// `$` rule and shared subscriptions): the session crate's module, the one
/// set of rules for the whole page.
pub use mqtt_session::topic::{
    self, matches, validate_filter, validate_topic_name, TopicError, MAX_TOPIC_LEN,
};
/// MQTT 5 message properties, as the session decodes and encodes them.
pub use mqtt_session::PublishProperties;
pub use panel::Panel;
pub use payload_view::{render_payload, PayloadView};
pub use profile::{
    ImportReport, LastWill, Profile, ProfileStore, ProtocolVersion, PublishTemplate,
    SavedSubscription,
};
pub use properties::{compact_line, property_lines, render_entry, render_message, PropertiesForm};
pub use publish_format::{encode, FormatError, PayloadFormat};
pub use query::{parse_query, share_query, QueryParams};
pub use rate::Rate;
pub use repeat::{Repeat, RepeatPlan};
pub use request_response::{Reply, Request, Requests};
pub use search::{matching_indices, payload_contains, Needle};
pub use series::{Series, SeriesSet};
pub use sys_stats::BrokerStats;
pub use tree::{Move, NodeId, Row, TopicTree, TreeFilter, TreeKey, TreeNode};

/// Sorts `order` (distinct indices) stably by `cmp`: the page's one
/// instantiation of the standard sort (each element type and comparator
/// compiles its own, about 1 KB of gzipped wasm each). Ties are broken by
/// index, so the unstable sort (smaller) gives the stable order.
pub fn sort_indices(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering) {
    order.sort_unstable_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
}

/// `v.sort()`, through [`sort_indices`].
pub fn sort_strings(v: &mut Vec<String>) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut order, &|a, b| v.get(a).cmp(&v.get(b)));
    let mut old: Vec<Option<String>> = std::mem::take(v).into_iter().map(Some).collect();
    v.extend(
        order
            .into_iter()
            .filter_map(|i| old.get_mut(i).and_then(Option::take)),
    );
}

#[cfg(test)]
mod robustness_tests {
    //! Random and hostile inputs through every parser: nothing may panic.

    use super::*;

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn bytes(&mut self, max_len: usize) -> Vec<u8> {
            let len = (self.next() % (max_len as u64 + 1)) as usize;
            let alphabet = b"{}[]\":,0123456789.-+eE \\u/#%&=xws:@?\x00\x01\x03\xff\xc3\xa9";
            (0..len)
                .map(|_| {
                    let r = self.next();
                    if r.is_multiple_of(4) {
                        r as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect()
        }
    }

    #[test]
    fn sort_indices_is_the_stable_sort() {
        let mut rng = XorShift(11);
        for _ in 0..200 {
            let n = (rng.next() % 40) as usize;
            let keys: Vec<u64> = (0..n).map(|_| rng.next() % 5).collect();
            let mut ours: Vec<usize> = (0..n).collect();
            let mut theirs = ours.clone();
            sort_indices(&mut ours, &|a, b| keys[a].cmp(&keys[b]));
            theirs.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn sort_strings_is_sort() {
        let mut rng = XorShift(7);
        for _ in 0..200 {
            let n = (rng.next() % 12) as usize;
            let v: Vec<String> = (0..n).map(|_| format!("{}", rng.next() % 9)).collect();
            let (mut ours, mut theirs) = (v.clone(), v);
            sort_strings(&mut ours);
            theirs.sort();
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn random_payloads_never_panic_any_parser() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let mut ex = series::Extractor::new();
        for i in 0..20_000 {
            let mut payload = rng.bytes(48);
            if i % 7 == 0 && payload.len() >= 3 {
                let len = (payload.len() - 3) as u16;
                payload[0] = if i % 2 == 0 { 0x01 } else { 0x03 };
                payload[1..3].copy_from_slice(&len.to_be_bytes());
            }
            let view = render_payload(&payload, (rng.next() % 64) as usize);
            assert!(view.body().len() <= 64 * 5 + 200 || view.truncated_from().is_none());
            ex.extract(&payload, 0.0, |name, _, v| {
                assert!(!name.is_empty());
                assert!(v.is_finite());
            });
            let text = String::from_utf8_lossy(&payload);
            let _ = publish_format::encode(PayloadFormat::Hex, &text);
            let _ = publish_format::encode(PayloadFormat::OneNetDp3, &text);
            let _ = parse_query(&text);
            let _ = BrokerUrl::parse(&format!("ws://{text}"));
            let _ = publish_format::encode(PayloadFormat::OneNetDp1, &text);
            let _ = ProfileStore::from_json(&text);
            let _ = ProfileStore::new().import_json(&text);
            let _ = validate_filter(&text);
            let _ = validate_topic_name(&text);
            let _ = matches(&text, "+/#");
            let _ = matches("a/b", &text);
        }
    }

    #[test]
    fn decimation_of_random_unsorted_points_stays_within_two_points_per_column() {
        let mut rng = XorShift(99);
        for _ in 0..50 {
            let width = (rng.next() % 300 + 1) as f64;
            let points: Vec<(f64, f64)> = (0..(rng.next() % 5000))
                .map(|_| {
                    let t = (rng.next() % 10_000) as f64;
                    let v = match rng.next() % 50 {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        _ => (rng.next() % 1000) as f64 - 500.0,
                    };
                    (t, v)
                })
                .collect();
            let rect = Rect {
                x: 0.0,
                y: 0.0,
                width,
                height: 100.0,
            };
            let scale = Scale::new(0.0, 10_000.0, -500.0, 500.0, rect).unwrap();
            let line = chart::decimate(points.iter().copied(), &scale);
            assert!(line.len() <= 2 * width.ceil() as usize);
            assert!(line.iter().all(|(x, y)| x.is_finite() && y.is_finite()));
        }
    }
}
