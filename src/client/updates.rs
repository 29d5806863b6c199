//! Applies a frame's worth of supervisor notices to the view model in one batch.
//!
//! Pure (no DOM, no signals): the app calls it once per animation frame, so a
//! flood of messages costs one model update and one render per frame. Each
//! message is also offered to the request/response helper's bookkeeping
//! (`model::Requests`), which matches replies by correlation data.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use model::{Dashboard, Incoming, Requests};
use mqtt_session::{Event, PublishId, PublishProperties};

use super::supervisor::{Notice, Status};

/// How many publishes the publish log remembers.
pub const PUBLISH_LOG_LEN: usize = 50;

/// The state of one publish from the form.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishState {
    /// Written to the socket; for QoS 0 that is all there is.
    Sent,
    /// PUBACK (QoS 1) or PUBCOMP (QoS 2) arrived after `round_trip_ms`.
    Acknowledged { round_trip_ms: u64 },
    /// It will never complete.
    Failed { reason: String },
}

/// One row of the publish log.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishRecord {
    /// The session's handle for it.
    pub id: u64,
    /// Topic it went to.
    pub topic: String,
    /// QoS 0, 1 or 2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Payload size in bytes.
    pub size: usize,
    /// Where it stands.
    pub state: PublishState,
    /// MQTT 5: the reason code the broker acknowledged it with, when it was
    /// not plain success (`no matching subscribers (0x10)`).
    pub reason: Option<String>,
    /// It was published with MQTT 5 properties.
    pub with_properties: bool,
}

impl PublishRecord {
    /// The state as the log shows it.
    pub fn describe(&self) -> String {
        let mut s = match &self.state {
            PublishState::Sent if self.qos == 0 => "sent (QoS 0: no acknowledgement)".into(),
            PublishState::Sent => "sent, awaiting acknowledgement".into(),
            PublishState::Acknowledged { round_trip_ms } => {
                let ack = if self.qos == 2 { "PUBCOMP" } else { "PUBACK" };
                format!("acknowledged ({ack}) in {round_trip_ms} ms")
            }
            PublishState::Failed { reason } => format!("failed: {reason}"),
        };
        if let (Some(r), false) = (
            &self.reason,
            matches!(self.state, PublishState::Failed { .. }),
        ) {
            s.push_str(": ");
            s.push_str(r);
        }
        s
    }
}

/// The newest publishes, newest first, bounded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishLog {
    records: VecDeque<PublishRecord>,
}

impl PublishLog {
    /// Records a publish the form just made.
    pub fn record(&mut self, id: PublishId, topic: &str, qos: u8, retain: bool, size: usize) {
        self.records.push_front(PublishRecord {
            id: id.0,
            topic: topic.to_string(),
            qos,
            retain,
            size,
            state: PublishState::Sent,
            reason: None,
            with_properties: false,
        });
        self.records.truncate(PUBLISH_LOG_LEN);
    }

    /// Marks the newest record as published with MQTT 5 properties.
    pub fn mark_properties(&mut self, id: PublishId) {
        if let Some(r) = self.records.iter_mut().find(|r| r.id == id.0) {
            r.with_properties = true;
        }
    }

    fn set_reason(&mut self, id: PublishId, reason: String) -> bool {
        match self.records.iter_mut().find(|r| r.id == id.0) {
            Some(r) => {
                r.reason = Some(reason);
                true
            }
            None => false,
        }
    }

    fn set(&mut self, id: PublishId, state: PublishState) -> bool {
        match self.records.iter_mut().find(|r| r.id == id.0) {
            Some(r) => {
                r.state = state;
                true
            }
            None => false,
        }
    }

    /// The records, newest first.
    pub fn records(&self) -> impl Iterator<Item = &PublishRecord> {
        self.records.iter()
    }
}

/// Paces how often the views re-read the model (the page's `tick`), so a
/// flood degrades to fewer, sampled redraws instead of frames that never end.
///
/// Every animation frame still applies its batch to the model (counts, caps
/// and histories stay exact); only redrawing is paced. While redraw frames are
/// fast the views follow every frame. When the frame after a redraw comes late
/// (the redraw, or the work around it, took longer than two frames), redraws
/// back off to an interval of a few times that gap, up to
/// [`RenderPacer::MAX_INTERVAL_MS`]; fast redraws bring the interval back down.
///
/// Under a flood (messages since the last redraw arriving faster than
/// [`RenderPacer::FLOOD_RATE`] a second) redraws are at least
/// [`RenderPacer::FLOOD_INTERVAL_MS`] apart even when they are fast: every
/// redraw costs style, layout and paint on the machine's cores, which the
/// broker and the browser's network side need to deliver the flood. The
/// views stay live at that pace; a publish at a human rate still shows on
/// the next frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderPacer {
    interval_ms: f64,
    last_frame_ms: Option<f64>,
    last_render_ms: Option<f64>,
    rendered_last_frame: bool,
    dirty: bool,
    messages: usize,
}

impl RenderPacer {
    /// A frame gap above this after a redraw means redraws are too costly.
    pub const SLOW_FRAME_MS: f64 = 34.0;
    /// The longest wait between redraws while the model keeps changing.
    pub const MAX_INTERVAL_MS: f64 = 500.0;
    /// Messages a second from which the views are redrawn at the flood pace.
    pub const FLOOD_RATE: f64 = 2_000.0;
    /// The shortest time between redraws under a flood.
    pub const FLOOD_INTERVAL_MS: f64 = 100.0;

    /// The model changed; redraw at the next frame the pace allows.
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// `n` messages reached the model (the model changed).
    pub fn mark_messages(&mut self, n: usize) {
        self.dirty = true;
        self.messages = self.messages.saturating_add(n);
    }

    /// The current interval between redraws, in ms (0 = every frame).
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }

    /// Called at the start of each animation frame (`now_ms` on any
    /// monotonic clock): whether the views should re-read the model now.
    pub fn frame(&mut self, now_ms: f64) -> bool {
        if let (Some(prev), true) = (self.last_frame_ms, self.rendered_last_frame) {
            let gap = now_ms - prev;
            self.interval_ms = if gap > Self::SLOW_FRAME_MS {
                (gap * 4.0).max(self.interval_ms).min(Self::MAX_INTERVAL_MS)
            } else {
                (self.interval_ms * 0.75 - 1.0).max(0.0)
            };
        }
        self.last_frame_ms = Some(now_ms);
        let due = self.last_render_ms.is_none_or(|last| {
            let since = now_ms - last;
            let flood = self.messages as f64 * 1000.0 >= Self::FLOOD_RATE * since.max(1.0)
                && self.messages > 1;
            since >= self.interval_ms && (!flood || since >= Self::FLOOD_INTERVAL_MS)
        });
        let render = self.dirty && due;
        if render {
            self.dirty = false;
            self.messages = 0;
            self.last_render_ms = Some(now_ms);
        }
        self.rendered_last_frame = render;
        render
    }
}

/// How many queued notices one animation frame applies: as many as fit
/// [`FrameBudget::BUDGET_MS`] at the recent cost per notice, between
/// [`FrameBudget::MIN`] and the caller's maximum.
///
/// A notice's cost varies by a factor of ten or more: a message on a known
/// topic is a counter and a history entry, one read by a decoder (the
/// on-demand module) is a decode and a JSON text too. A fixed count that
/// suits cheap notices makes long frames of costly ones: 5,000 decoded at
/// once (the queue held while the module loaded) was a 90 ms frame.
/// Until a batch has been timed the frame takes [`FrameBudget::FIRST`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameBudget {
    per_notice_ms: Option<f64>,
}

impl FrameBudget {
    /// The time one frame may spend applying notices.
    pub const BUDGET_MS: f64 = 8.0;
    /// Fewest notices a frame applies, however slow they were.
    pub const MIN: usize = 200;
    /// Notices the first frame applies, before any cost is known. Fewer
    /// than [`FrameBudget::MIN`]: the first frame of a flood is mostly new
    /// topics (tree nodes, panels, their first redraw), the costliest
    /// notices; 500 made a 74 ms frame on a busy machine.
    pub const FIRST: usize = 100;
    /// Batches smaller than this say too little about the cost per notice
    /// (timer resolution, fixed costs).
    const MEASURED_FROM: usize = 50;

    /// The notices the next frame applies, at most `max`.
    pub fn limit(&self, max: usize) -> usize {
        match self.per_notice_ms {
            None => Self::FIRST.min(max),
            Some(c) if c <= 0.0 => max,
            Some(c) => ((Self::BUDGET_MS / c) as usize).clamp(Self::MIN.min(max), max),
        }
    }

    /// A frame applied `n` notices in `took_ms`.
    pub fn observe(&mut self, n: usize, took_ms: f64) {
        if n < Self::MEASURED_FROM || !took_ms.is_finite() || took_ms < 0.0 {
            return;
        }
        let cost = took_ms / n as f64;
        // Mostly the last batch (costs change when a decoder starts), a
        // little of the ones before (one slow frame is not a trend).
        self.per_notice_ms = Some(match self.per_notice_ms {
            Some(old) => old * 0.3 + cost * 0.7,
            None => cost,
        });
    }
}

/// What a batch changed besides the dashboard.
#[derive(Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// The newest status in the batch, if it changed.
    pub status: Option<Status>,
    /// The publish log changed.
    pub publishes_changed: bool,
    /// A request/response reply (or an unmatched one) arrived.
    pub requests_changed: bool,
    /// Protocol errors and refusals seen, as sentences, for the page's error
    /// line: only those after the batch's last accepted connection, which
    /// answers any error before it. Whether a drop and the reconnect after it
    /// land in one batch (a hidden tab runs no frames) or in two, the line
    /// then ends the same: empty once connected again.
    pub errors: Vec<String>,
    /// The longest PINGREQ round trip answered in the batch: how far behind
    /// the broker the page was.
    pub behind_ms: Option<u64>,
}

/// A received message's properties as the model keeps them: shared, with
/// correlation data copied out of the WebSocket frame like the payload.
fn kept_properties(p: Option<Box<PublishProperties>>) -> Option<Arc<PublishProperties>> {
    let mut p = p?;
    if let Some(c) = &mut p.correlation_data {
        *c = Bytes::copy_from_slice(c);
    }
    Some(Arc::from(p))
}

/// Encodes a message as a record (docs/keep.md) onto `out`. A message the
/// record codec cannot write (none the session delivered should fail) is
/// left out rather than stopping the frame.
pub fn record_message(out: &mut Vec<u8>, m: &Incoming) {
    let _ = mqtt_session::record::encode(
        out,
        m.received_ms,
        &m.topic,
        &m.payload,
        mqtt_session::QoS::from_u8(m.qos).unwrap_or(mqtt_session::QoS::AtMostOnce),
        m.retain,
        m.dup,
        m.properties.as_deref(),
    );
}

/// Applies `batch` (each notice with the ms-since-epoch it happened) to the
/// model, and offers each message to the request/response bookkeeping.
/// With `record`, each message is also appended to it as a record (the
/// recording, docs/keep.md).
pub fn apply_batch(
    dash: &mut Dashboard,
    log: &mut PublishLog,
    requests: &mut Requests,
    mut record: Option<&mut Vec<u8>>,
    decode: &mut dyn FnMut(&mut Incoming),
    batch: impl IntoIterator<Item = (f64, Notice)>,
    now_ms: f64,
) -> BatchOutcome {
    let mut out = BatchOutcome::default();
    let mut messages = Vec::new();
    for (at, notice) in batch {
        match notice {
            Notice::Status(s) => {
                if s.is_connected() {
                    out.errors.clear();
                }
                out.status = Some(s);
            }
            // The supervisor owns the list; the model mirrors it. Messages
            // before this notice were matched against the old list.
            Notice::Subscriptions(list) => {
                if !messages.is_empty() {
                    dash.apply_batch(std::mem::take(&mut messages), now_ms);
                }
                dash.sync_subscriptions(&list);
            }
            Notice::Session(Event::Message(m)) => {
                if requests.listens_on(&m.topic) {
                    let correlation = m
                        .properties
                        .as_ref()
                        .and_then(|p| p.correlation_data.as_deref());
                    out.requests_changed |=
                        requests.on_message(&m.topic, correlation, &m.payload, at);
                }
                let mut incoming = Incoming {
                    topic: m.topic,
                    // A copy, so one small payload does not keep a whole WebSocket
                    // frame alive in the history (its byte cap counts payload sizes).
                    payload: Bytes::copy_from_slice(&m.payload),
                    qos: m.qos.as_u8(),
                    retain: m.retain,
                    dup: m.dup,
                    received_ms: at,
                    properties: kept_properties(m.properties),
                    decoded: None,
                };
                decode(&mut incoming);
                if let Some(out) = record.as_deref_mut() {
                    record_message(out, &incoming);
                }
                messages.push(incoming);
            }
            Notice::Session(Event::MessageNotKept {
                topic, size, limit, ..
            }) => dash.record_not_kept(&topic, size, limit, at),
            Notice::Session(Event::PublishComplete {
                id, round_trip_ms, ..
            }) => {
                out.publishes_changed |= log.set(id, PublishState::Acknowledged { round_trip_ms });
            }
            Notice::Session(Event::PublishReason { id, reason, .. }) => {
                out.publishes_changed |= log.set_reason(id, reason);
            }
            Notice::Session(Event::PublishFailed { id, reason }) => {
                out.publishes_changed |= log.set(id, PublishState::Failed { reason });
            }
            Notice::Session(Event::ConnectionRefused { reason, .. }) => {
                out.errors
                    .push(format!("the broker refused the connection: {reason}"));
            }
            Notice::Session(Event::Closed { error }) => out.errors.push(error.to_string()),
            Notice::Session(Event::Pong { round_trip_ms }) => {
                out.behind_ms = out.behind_ms.max(Some(round_trip_ms));
            }
            Notice::Session(_) => {}
        }
    }
    if !messages.is_empty() {
        dash.apply_batch(messages, now_ms);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Grant, Limits, SubscriptionState};
    use mqtt_session::{Message, QoS};

    fn subs(list: &[(&str, u8, Grant)]) -> Notice {
        Notice::Subscriptions(
            list.iter()
                .map(|(f, q, g)| SubscriptionState {
                    filter: f.to_string(),
                    qos: *q,
                    grant: *g,
                })
                .collect(),
        )
    }

    fn message(topic: &str, payload: &'static [u8], qos: QoS, retain: bool) -> Notice {
        Notice::Session(Event::Message(Message {
            topic: topic.into(),
            payload: Bytes::from_static(payload),
            qos,
            retain,
            dup: false,
            pkid: 1,
            properties: None,
        }))
    }

    #[test]
    fn the_longest_ping_round_trip_of_a_batch_says_how_far_behind_the_page_is() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let pong = |ms| Notice::Session(Event::Pong { round_trip_ms: ms });
        let out = apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            vec![(0.0, pong(40)), (1.0, pong(2_300)), (2.0, pong(90))],
            2.0,
        );
        assert_eq!(out.behind_ms, Some(2_300));
        let out = apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            vec![(0.0, message("a", b"1", QoS::AtMostOnce, false))],
            2.0,
        );
        assert_eq!(out.behind_ms, None);
    }

    #[test]
    fn messages_in_a_batch_land_in_their_panels_with_their_flags() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let batch = vec![
            (0.0, subs(&[("a/#", 1, Grant::Pending)])),
            (1.0, message("a/x", b"1", QoS::AtLeastOnce, false)),
            (2.0, message("a/x", b"2", QoS::ExactlyOnce, true)),
            (3.0, message("a/y", b"{\"t\":3}", QoS::AtMostOnce, false)),
        ];
        apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            batch,
            3.0,
        );
        let x = dash.panel_by_topic("a/x").expect("panel for a/x");
        assert_eq!(x.count(), 2);
        let last = x.last().expect("a last message");
        assert_eq!((last.qos, last.retain), (2, true));
        assert_eq!(dash.stats().messages, 3);
    }

    #[test]
    fn the_supervisors_subscription_list_is_what_the_model_shows() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let batch = vec![
            (
                0.0,
                subs(&[("a/#", 2, Grant::Pending), ("b", 1, Grant::Pending)]),
            ),
            (1.0, message("a/x", b"1", QoS::AtMostOnce, false)),
            (
                2.0,
                subs(&[("a/#", 2, Grant::Granted(1)), ("b", 1, Grant::Refused)]),
            ),
        ];
        apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            batch,
            2.0,
        );
        let a = dash.subscription_by_filter("a/#").expect("a/#");
        assert_eq!(a.grant(), Grant::Granted(1));
        assert!(
            a.grant_label().contains("downgraded"),
            "{}",
            a.grant_label()
        );
        assert_eq!(
            dash.subscription_by_filter("b").map(|s| s.grant()),
            Some(Grant::Refused)
        );
        apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            vec![(3.0, subs(&[("b", 1, Grant::NotConnected)]))],
            3.0,
        );
        assert!(dash.subscription_by_filter("a/#").is_none());
        assert_eq!(dash.subscriptions().len(), 1);
    }

    #[test]
    fn while_recording_each_message_of_a_batch_is_appended_as_a_record_with_its_time() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let mut records = Vec::new();
        let batch = vec![
            (5.0, message("a/x", b"1", QoS::AtLeastOnce, true)),
            (6.0, message("a/y", b"\xff\x00", QoS::AtMostOnce, false)),
        ];
        apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            Some(&mut records),
            &mut |_| {},
            batch,
            6.0,
        );
        let got: Vec<_> = mqtt_session::record::decode(records)
            .map(|r| {
                let r = r.expect("a valid record");
                (r.received_ms, r.topic, r.payload.to_vec(), r.qos, r.retain)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    5.0,
                    "a/x".to_string(),
                    b"1".to_vec(),
                    QoS::AtLeastOnce,
                    true
                ),
                (
                    6.0,
                    "a/y".to_string(),
                    vec![0xff, 0],
                    QoS::AtMostOnce,
                    false
                ),
            ]
        );
        assert_eq!(
            dash.stats().messages,
            2,
            "recording does not take the messages away"
        );
    }

    #[test]
    fn a_message_not_kept_is_recorded_with_its_size_topic_and_limit() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let n = Notice::Session(Event::MessageNotKept {
            topic: "big/x".into(),
            size: 20_000_000,
            packet_size: 20_000_009,
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: false,
            pkid: 3,
            limit: 16_777_216,
        });
        apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            vec![(5.0, n)],
            5.0,
        );
        assert_eq!(dash.stats().not_kept, 1);
        assert_eq!(
            dash.last_not_kept().map(|n| n.describe()),
            Some("message of 20000000 bytes on topic big/x not kept (limit 16777216)".into())
        );
    }

    #[test]
    fn publish_outcomes_update_the_log_with_the_round_trip() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        log.record(PublishId(7), "t", 2, false, 3);
        log.record(PublishId(8), "t", 1, true, 3);
        let batch = vec![
            (
                0.0,
                Notice::Session(Event::PublishComplete {
                    id: PublishId(7),
                    pkid: 1,
                    acked_at_ms: 10,
                    round_trip_ms: 4,
                }),
            ),
            (
                0.0,
                Notice::Session(Event::PublishFailed {
                    id: PublishId(8),
                    reason: "session not resumed".into(),
                }),
            ),
        ];
        let out = apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            batch,
            0.0,
        );
        assert!(out.publishes_changed);
        let texts: Vec<String> = log.records().map(|r| r.describe()).collect();
        assert_eq!(
            texts,
            vec![
                "failed: session not resumed".to_string(),
                "acknowledged (PUBCOMP) in 4 ms".to_string()
            ]
        );
    }

    fn v5_message(topic: &str, payload: &'static [u8], props: PublishProperties) -> Notice {
        Notice::Session(Event::Message(Message {
            topic: topic.into(),
            payload: Bytes::from_static(payload),
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: false,
            pkid: 2,
            properties: Some(Box::new(props)),
        }))
    }

    #[test]
    fn a_messages_properties_reach_its_panel_and_history() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let props = PublishProperties {
            content_type: Some("text/plain".into()),
            correlation_data: Some(Bytes::from_static(b"c-1")),
            user_properties: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
            ..PublishProperties::default()
        };
        let batch = vec![
            (1.0, v5_message("p/x", b"hi", props.clone())),
            (2.0, message("p/y", b"old", QoS::AtMostOnce, false)),
        ];
        apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            batch,
            2.0,
        );
        let x = dash.panel_by_topic("p/x").expect("panel p/x");
        assert_eq!(x.last().and_then(|l| l.properties.as_deref()), Some(&props));
        let y = dash.panel_by_topic("p/y").expect("panel p/y");
        assert!(y.last().is_some_and(|l| l.properties.is_none()));
    }

    #[test]
    fn replies_are_matched_to_requests_by_correlation_data() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let mut requests = Requests::default();
        requests.record(
            "dev/get",
            "resp/me",
            Bytes::from_static(b"c-1"),
            100.0,
            30_000.0,
        );
        let reply = |c: &'static [u8]| {
            v5_message(
                "resp/me",
                b"pong",
                PublishProperties {
                    correlation_data: Some(Bytes::from_static(c)),
                    ..PublishProperties::default()
                },
            )
        };
        let batch = vec![
            (120.0, reply(b"c-1")),
            (130.0, reply(b"other")),
            (
                140.0,
                message("resp/me", b"no props", QoS::AtMostOnce, false),
            ),
            (150.0, message("elsewhere", b"x", QoS::AtMostOnce, false)),
        ];
        let out = apply_batch(
            &mut dash,
            &mut log,
            &mut requests,
            None,
            &mut |_| {},
            batch,
            150.0,
        );
        assert!(out.requests_changed);
        let req = requests.iter().next().expect("the request");
        assert_eq!(req.replies.len(), 1);
        assert_eq!(req.replies[0].round_trip_ms, 20.0);
        assert_eq!(req.replies[0].payload, "pong");
        assert_eq!(requests.unmatched(), 2);
        // The replies are messages like any other.
        assert_eq!(dash.panel_by_topic("resp/me").map(|p| p.count()), Some(3));
    }

    #[test]
    fn a_publish_shows_the_brokers_reason_code() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        log.record(PublishId(1), "t", 1, false, 3);
        log.record(PublishId(2), "t", 1, false, 3);
        log.mark_properties(PublishId(2));
        let batch = vec![
            (
                0.0,
                Notice::Session(Event::PublishReason {
                    id: PublishId(1),
                    code: 0x10,
                    reason: "no matching subscribers (0x10)".into(),
                }),
            ),
            (
                0.0,
                Notice::Session(Event::PublishComplete {
                    id: PublishId(1),
                    pkid: 1,
                    acked_at_ms: 5,
                    round_trip_ms: 5,
                }),
            ),
            (
                0.0,
                Notice::Session(Event::PublishFailed {
                    id: PublishId(2),
                    reason: "the broker refused it: quota exceeded (0x97)".into(),
                }),
            ),
        ];
        let out = apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            batch,
            0.0,
        );
        assert!(out.publishes_changed);
        let texts: Vec<String> = log.records().map(|r| r.describe()).collect();
        assert_eq!(
            texts,
            [
                "failed: the broker refused it: quota exceeded (0x97)",
                "acknowledged (PUBACK) in 5 ms: no matching subscribers (0x10)",
            ]
        );
        assert!(log.records().next().is_some_and(|r| r.with_properties));
    }

    #[test]
    fn fast_redraws_follow_every_changed_frame_and_idle_frames_draw_nothing() {
        let mut p = RenderPacer::default();
        let mut drawn = Vec::new();
        for i in 0..10 {
            if i % 3 != 2 {
                p.mark_dirty();
            }
            drawn.push(p.frame(f64::from(i) * 16.7));
        }
        let expected: Vec<bool> = (0..10).map(|i| i % 3 != 2).collect();
        assert_eq!(drawn, expected);
        assert_eq!(p.interval_ms(), 0.0);
    }

    #[test]
    fn slow_redraws_back_off_then_recover_when_frames_are_fast_again() {
        let mut p = RenderPacer::default();
        let mut t = 0.0;
        p.mark_dirty();
        assert!(p.frame(t));
        // The redraw took 100 ms: the next frame comes late, redraws back off.
        t += 100.0;
        p.mark_dirty();
        assert!(!p.frame(t), "too soon after a slow redraw");
        assert_eq!(p.interval_ms(), 400.0);
        // The model keeps changing and every redraw keeps costing 100 ms:
        // about one redraw per 400 ms interval, the frames between stay fast.
        let (mut redraws, mut frames, start) = (0, 0, t);
        let mut drew = false;
        while t - start < 2_000.0 {
            t += if drew { 100.0 } else { 16.7 };
            p.mark_dirty();
            drew = p.frame(t);
            redraws += usize::from(drew);
            frames += 1;
        }
        assert!((4..=5).contains(&redraws), "{redraws} redraws in 2 s");
        assert!(frames > 90, "{frames} frames in 2 s");
        // Redraws are fast again: the interval decays to every frame.
        for _ in 0..600 {
            t += 16.7;
            p.mark_dirty();
            p.frame(t);
        }
        assert_eq!(p.interval_ms(), 0.0);
        p.mark_dirty();
        assert!(p.frame(t + 16.7));
    }

    #[test]
    fn a_flood_is_redrawn_at_the_flood_pace_and_a_human_rate_on_every_frame() {
        // Frames of 16.7 ms for one second, `per_frame` messages in each.
        let redraws = |per_frame: usize| {
            let mut p = RenderPacer::default();
            (0..60)
                .filter(|&i| {
                    p.mark_messages(per_frame);
                    p.frame(f64::from(i) * 16.7)
                })
                .count()
        };
        // 40,000 msg/s: about one redraw per 100 ms.
        let flood = redraws(668);
        assert!((9..=11).contains(&flood), "{flood} redraws in 1 s");
        // 1,000 msg/s, 17 a frame: every frame, so a publish shows at once.
        assert_eq!(redraws(17), 60);
        // One message after a quiet spell draws on the next frame.
        let mut p = RenderPacer::default();
        p.mark_messages(668);
        assert!(p.frame(0.0));
        p.mark_messages(1);
        assert!(p.frame(16.7));
    }

    #[test]
    fn a_frame_applies_what_fits_its_budget_at_the_cost_it_measured() {
        let mut b = FrameBudget::default();
        assert_eq!(b.limit(5_000), FrameBudget::FIRST, "nothing timed yet");
        assert_eq!(b.limit(40), 40, "never more than the caller asks");
        // Cheap notices (1 µs each): the caller's maximum.
        b.observe(500, 0.5);
        assert_eq!(b.limit(5_000), 5_000);
        // Decoded ones (20 µs each): about what fits 8 ms (400) two frames
        // after the change, the cheap past almost forgotten.
        b.observe(5_000, 100.0);
        b.observe(1_000, 20.0);
        let n = b.limit(5_000);
        assert!((400..=450).contains(&n), "{n}");
        // Very slow ones still make progress.
        b.observe(400, 400.0);
        b.observe(200, 200.0);
        assert_eq!(b.limit(5_000), FrameBudget::MIN);
        // A batch too small to say anything, or a clock gone wrong, changes nothing.
        b.observe(3, 90.0);
        b.observe(300, f64::NAN);
        b.observe(300, -5.0);
        assert_eq!(b.limit(5_000), FrameBudget::MIN);
        // Cheap again: back to the maximum within a few frames.
        for _ in 0..8 {
            b.observe(200, 0.2);
        }
        assert_eq!(b.limit(5_000), 5_000);
    }

    #[test]
    fn the_interval_is_capped() {
        let mut p = RenderPacer::default();
        p.mark_dirty();
        assert!(p.frame(0.0));
        p.mark_dirty();
        p.frame(5_000.0);
        assert_eq!(p.interval_ms(), RenderPacer::MAX_INTERVAL_MS);
    }

    #[test]
    fn the_publish_log_is_bounded() {
        let mut log = PublishLog::default();
        for i in 0..(PUBLISH_LOG_LEN as u64 + 10) {
            log.record(PublishId(i), "t", 0, false, 0);
        }
        assert_eq!(log.records().count(), PUBLISH_LOG_LEN);
        assert_eq!(
            log.records().next().map(|r| r.id),
            Some(PUBLISH_LOG_LEN as u64 + 9)
        );
    }

    #[test]
    fn a_refusal_is_reported_as_an_error_sentence() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let n = Notice::Session(Event::ConnectionRefused {
            code: 5,
            reason: "not authorised".into(),
        });
        let out = apply_batch(
            &mut dash,
            &mut log,
            &mut Requests::default(),
            None,
            &mut |_| {},
            vec![(0.0, n)],
            0.0,
        );
        assert_eq!(
            out.errors,
            vec!["the broker refused the connection: not authorised"]
        );
    }

    #[test]
    fn a_reconnect_in_the_same_batch_answers_the_drop_before_it_but_not_an_error_after_it() {
        let refused = || {
            Notice::Session(Event::ConnectionRefused {
                code: 5,
                reason: "not authorised".into(),
            })
        };
        let connected = || {
            Notice::Status(Status::Connected {
                broker: "ws://b/mqtt".into(),
                session_present: false,
            })
        };
        let run = |batch: Vec<Notice>| {
            apply_batch(
                &mut Dashboard::new(Limits::default()),
                &mut PublishLog::default(),
                &mut Requests::default(),
                None,
                &mut |_| {},
                batch.into_iter().map(|n| (0.0, n)),
                0.0,
            )
        };
        let out = run(vec![refused(), connected()]);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert!(out.status.is_some_and(|s| s.is_connected()));
        let out = run(vec![connected(), refused()]);
        assert_eq!(
            out.errors,
            vec!["the broker refused the connection: not authorised"]
        );
    }
}
