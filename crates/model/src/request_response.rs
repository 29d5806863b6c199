//! The request/response helper's bookkeeping (MQTT 5): requests sent with a
//! response topic and correlation data, the replies matched to them by
//! correlation data, round trips, timeouts and replies nobody asked for.
//!
//! Pure: the page records each request it publishes ([`Requests::record`]),
//! offers every received message to [`Requests::on_message`] (a message on a
//! topic no request listens on costs one comparison per response topic in
//! use, usually one), and reads [`Requests::rows`] with the time to show
//! where each stands. A reply is matched when it arrives on the request's
//! response topic with the request's correlation data; one that comes after
//! the timeout is still listed, marked late. Replies on a response topic in
//! use whose correlation data matches no request (or that carry none) are
//! counted as unmatched. Everything is bounded: [`MAX_REQUESTS`] requests
//! (the oldest go), [`MAX_REPLIES`] replies each (later ones are counted).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::payload_view::render_payload;
use crate::properties::correlation_text;

/// Requests kept (the oldest are forgotten, with their replies).
pub const MAX_REQUESTS: usize = 50;
/// Replies listed per request; more are counted.
pub const MAX_REPLIES: usize = 20;
/// Bytes of a reply's payload kept as text.
pub const REPLY_PREVIEW_BYTES: usize = 1_024;
/// The default reply timeout.
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;

/// One reply to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// When it arrived (ms since the Unix epoch).
    pub received_ms: f64,
    /// From sending the request to receiving this reply, in ms.
    pub round_trip_ms: f64,
    /// It came after the request's timeout.
    pub late: bool,
    /// The payload as text (a hex dump when it is not text), cut after
    /// [`REPLY_PREVIEW_BYTES`].
    pub payload: String,
}

/// One request sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Its number, from 1.
    pub number: u64,
    /// The topic it was published to.
    pub topic: String,
    /// Where replies are expected.
    pub response_topic: String,
    /// Its correlation data.
    pub correlation: Bytes,
    /// When it was sent (ms since the Unix epoch).
    pub sent_ms: f64,
    /// How long a reply is waited for, in ms.
    pub timeout_ms: f64,
    /// Replies matched to it, in order of arrival (at most [`MAX_REPLIES`]).
    pub replies: Vec<Reply>,
    /// Replies beyond [`MAX_REPLIES`], counted only.
    pub more_replies: u64,
}

impl Request {
    /// Where it stands at `now_ms`: `waiting for a reply (3 s)`,
    /// `no reply after 30 s`, `1 reply`, `2 replies (1 late)`.
    pub fn state(&self, now_ms: f64) -> String {
        let n = self.replies.len() as u64 + self.more_replies;
        if n == 0 {
            let waited = now_ms - self.sent_ms;
            return if waited >= self.timeout_ms {
                format!("no reply after {} s", secs(self.timeout_ms))
            } else {
                format!("waiting for a reply ({} s)", secs(waited.max(0.0)))
            };
        }
        let late = self.replies.iter().filter(|r| r.late).count();
        let mut s = if n == 1 {
            "1 reply".to_owned()
        } else {
            format!("{n} replies")
        };
        if late > 0 {
            s.push_str(&format!(" ({late} late)"));
        }
        s
    }

    /// The correlation data as text, or hex when it is not text.
    pub fn correlation_text(&self) -> String {
        correlation_text(&self.correlation)
    }
}

/// Whole seconds, rounded down.
fn secs(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        (ms / 1000.0) as u64
    } else {
        0
    }
}

impl Reply {
    /// `reply in 12 ms` or `late reply in 31250 ms (after the 30 s timeout)`.
    pub fn describe(&self, timeout_ms: f64) -> String {
        let rtt = self.round_trip_ms.max(0.0).round() as u64;
        if self.late {
            format!(
                "late reply in {rtt} ms (after the {} s timeout)",
                secs(timeout_ms)
            )
        } else {
            format!("reply in {rtt} ms")
        }
    }
}

/// The requests sent from the helper and their replies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requests {
    requests: VecDeque<Request>,
    next_number: u64,
    unmatched: u64,
    /// The response topics of the requests held, each once.
    topics: Vec<String>,
    generation: u64,
}

impl Requests {
    /// Correlation data for the next request: a counter and 8 hex digits
    /// from `random`, like `req-3-5f0c9a1e` (unique in a tab, and unlikely
    /// to collide with another tab's).
    pub fn generate_correlation(&self, random: u64) -> String {
        let mixed = random.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        format!("req-{}-{:08x}", self.next_number + 1, mixed as u32)
    }

    /// Whether a request still waiting at `now_ms` (sent, no reply, within
    /// its timeout) uses this correlation data on this response topic:
    /// a second one would make their replies indistinguishable.
    pub fn waiting_with(&self, response_topic: &str, correlation: &[u8], now_ms: f64) -> bool {
        self.requests.iter().any(|r| {
            r.response_topic == response_topic
                && r.correlation == correlation
                && r.replies.is_empty()
                && now_ms - r.sent_ms < r.timeout_ms
        })
    }

    /// Records a request just published; returns its number.
    pub fn record(
        &mut self,
        topic: &str,
        response_topic: &str,
        correlation: Bytes,
        sent_ms: f64,
        timeout_ms: f64,
    ) -> u64 {
        self.next_number += 1;
        if self.requests.len() >= MAX_REQUESTS {
            self.requests.pop_front();
        }
        self.requests.push_back(Request {
            number: self.next_number,
            topic: topic.to_owned(),
            response_topic: response_topic.to_owned(),
            correlation,
            sent_ms,
            timeout_ms,
            replies: Vec::new(),
            more_replies: 0,
        });
        self.topics.clear();
        for r in &self.requests {
            if !self.topics.contains(&r.response_topic) {
                self.topics.push(r.response_topic.clone());
            }
        }
        self.generation += 1;
        self.next_number
    }

    /// Whether any request listens on `topic` (cheap: call it for every
    /// message).
    pub fn listens_on(&self, topic: &str) -> bool {
        self.topics.iter().any(|t| t == topic)
    }

    /// Offers a received message: a reply to the newest request with this
    /// response topic and correlation data, or, on a response topic in use,
    /// an unmatched one. Returns whether anything changed.
    pub fn on_message(
        &mut self,
        topic: &str,
        correlation: Option<&[u8]>,
        payload: &[u8],
        received_ms: f64,
    ) -> bool {
        if !self.listens_on(topic) {
            return false;
        }
        self.generation += 1;
        let found = correlation.and_then(|c| {
            self.requests
                .iter_mut()
                .rev()
                .find(|r| r.response_topic == topic && r.correlation == c)
        });
        let Some(req) = found else {
            self.unmatched += 1;
            return true;
        };
        if req.replies.len() >= MAX_REPLIES {
            req.more_replies += 1;
            return true;
        }
        let round_trip_ms = received_ms - req.sent_ms;
        req.replies.push(Reply {
            received_ms,
            round_trip_ms,
            late: round_trip_ms > req.timeout_ms,
            payload: render_payload(payload, REPLY_PREVIEW_BYTES)
                .body()
                .to_owned(),
        });
        true
    }

    /// The requests held, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Request> {
        self.requests.iter().rev()
    }

    /// Replies on a response topic in use that matched no request.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }

    /// Advances whenever a request or a reply is recorded.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Forgets every request and the unmatched count (the numbering goes on).
    pub fn clear(&mut self) {
        self.requests.clear();
        self.topics.clear();
        self.unmatched = 0;
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn a_reply_matches_its_request_by_correlation_data_with_its_round_trip() {
        let mut r = Requests::default();
        let a = r.record("dev/get", "resp/me", bytes("c1"), 1_000.0, 30_000.0);
        let b = r.record("dev/get", "resp/me", bytes("c2"), 1_100.0, 30_000.0);
        assert_eq!((a, b), (1, 2));
        assert!(r.on_message("resp/me", Some(b"c1"), b"first", 1_012.0));
        assert!(r.on_message("resp/me", Some(b"c2"), b"{\"ok\":true}", 1_150.0));
        let list: Vec<&Request> = r.iter().collect();
        assert_eq!(list.len(), 2);
        let (newest, oldest) = (list[0], list[1]);
        assert_eq!(oldest.replies.len(), 1);
        assert_eq!(oldest.replies[0].round_trip_ms, 12.0);
        assert_eq!(oldest.replies[0].payload, "first");
        assert_eq!(oldest.replies[0].describe(30_000.0), "reply in 12 ms");
        assert_eq!(newest.replies[0].round_trip_ms, 50.0);
        assert!(newest.replies[0].payload.contains("\"ok\": true"));
        assert_eq!(oldest.state(2_000.0), "1 reply");
        assert_eq!(r.unmatched(), 0);
    }

    #[test]
    fn messages_elsewhere_are_ignored_and_unknown_correlation_is_unmatched() {
        let mut r = Requests::default();
        assert!(!r.on_message("resp/me", Some(b"c1"), b"x", 0.0));
        r.record("dev/get", "resp/me", bytes("c1"), 0.0, 30_000.0);
        let g = r.generation();
        assert!(!r.on_message("other", Some(b"c1"), b"x", 1.0));
        assert_eq!(r.generation(), g);
        assert!(r.on_message("resp/me", Some(b"zzz"), b"x", 1.0));
        assert!(r.on_message("resp/me", None, b"x", 1.0));
        assert_eq!(r.unmatched(), 2);
        assert!(r.iter().all(|q| q.replies.is_empty()));
        // The same correlation data on another response topic is not a match.
        r.record("dev/get", "resp/other", bytes("c9"), 0.0, 30_000.0);
        assert!(r.on_message("resp/me", Some(b"c9"), b"x", 2.0));
        assert_eq!(r.unmatched(), 3);
    }

    #[test]
    fn a_request_times_out_and_a_later_reply_is_shown_late() {
        let mut r = Requests::default();
        r.record("dev/get", "resp/me", bytes("c1"), 10_000.0, 30_000.0);
        let state = |r: &Requests, now| r.iter().next().map(|q| q.state(now)).unwrap();
        assert_eq!(state(&r, 13_500.0), "waiting for a reply (3 s)");
        assert!(r.waiting_with("resp/me", b"c1", 13_500.0));
        assert_eq!(state(&r, 40_000.0), "no reply after 30 s");
        assert!(!r.waiting_with("resp/me", b"c1", 40_000.0));
        r.on_message("resp/me", Some(b"c1"), b"sorry", 41_250.0);
        assert_eq!(state(&r, 42_000.0), "1 reply (1 late)");
        let reply = &r.iter().next().unwrap().replies[0];
        assert!(reply.late);
        assert_eq!(
            reply.describe(30_000.0),
            "late reply in 31250 ms (after the 30 s timeout)"
        );
    }

    #[test]
    fn requests_and_replies_are_bounded_and_counted() {
        let mut r = Requests::default();
        for i in 0..(MAX_REQUESTS + 5) {
            r.record("t", &format!("resp/{i}"), bytes("c"), 0.0, 1.0);
        }
        assert_eq!(r.iter().count(), MAX_REQUESTS);
        assert_eq!(r.iter().last().map(|q| q.number), Some(6));
        // The response topics of forgotten requests are not listened on.
        assert!(!r.listens_on("resp/0"));
        assert!(r.listens_on("resp/54"));
        for _ in 0..(MAX_REPLIES + 3) {
            r.on_message("resp/54", Some(b"c"), b"r", 1.0);
        }
        let q = r.iter().next().unwrap();
        assert_eq!(q.replies.len(), MAX_REPLIES);
        assert_eq!(q.more_replies, 3);
        assert_eq!(q.state(2.0), format!("{} replies", MAX_REPLIES + 3));
        r.clear();
        assert_eq!(r.iter().count(), 0);
        assert!(!r.listens_on("resp/54"));
        assert_eq!(r.record("t", "x", bytes("c"), 0.0, 1.0), 56);
    }

    #[test]
    fn generated_correlation_data_counts_and_differs_by_random() {
        let mut r = Requests::default();
        let a = r.generate_correlation(1);
        assert!(
            a.starts_with("req-1-") && a.len() == "req-1-".len() + 8,
            "{a}"
        );
        assert_ne!(a, r.generate_correlation(2));
        r.record("t", "x", bytes(&a), 0.0, 1.0);
        assert!(r.generate_correlation(1).starts_with("req-2-"));
    }

    #[test]
    fn binary_replies_read_as_hex_and_non_finite_times_do_not_panic() {
        let mut r = Requests::default();
        r.record("t", "x", Bytes::from_static(&[0, 0xff]), f64::NAN, 1.0);
        r.on_message("x", Some(&[0, 0xff]), &[0, 1, 2, 0xff], 5.0);
        let q = r.iter().next().unwrap();
        assert_eq!(q.correlation_text(), "0x00ff");
        assert!(q.replies[0].payload.contains("00 01 02 ff"));
        let _ = q.state(f64::INFINITY);
        let _ = q.replies[0].describe(f64::NAN);
    }
}
