//! One topic's panel: the last message and its flags, counters, rate,
//! history and numeric series.
//!
//! A panel is plain data owned by the [`crate::Dashboard`], which is the only
//! thing that changes it (in `apply_batch`); the UI reads it through the
//! accessors here. Rendering the payload is done on demand with
//! [`Panel::last_view`], never on ingest.

use crate::dashboard::{PanelId, SubId};
use crate::history::{History, HistoryEntry};
use crate::payload_view::PayloadView;
use crate::properties::render_entry;
use crate::rate::Rate;
use crate::series::SeriesSet;
use bytes::Bytes;
use std::sync::Arc;

/// The panel of one concrete topic.
#[derive(Debug, Clone)]
pub struct Panel {
    pub(crate) id: PanelId,
    pub(crate) topic: Arc<str>,
    /// Index into the dashboard's subscriptions of the group it is shown in.
    pub(crate) group: Option<usize>,
    pub(crate) subscription: Option<SubId>,
    pub(crate) last: Option<HistoryEntry>,
    pub(crate) count: u64,
    pub(crate) rate: Rate,
    pub(crate) history: History,
    pub(crate) series: SeriesSet,
    pub(crate) series_skipped: u64,
    pub(crate) generation: u64,
    /// Payloads of this batch waiting for series extraction (newest last).
    pub(crate) pending: Vec<(Bytes, f64)>,
    /// Indices into the dashboard's subscriptions of every one whose filter
    /// matches the topic, in order; computed at creation and regroup.
    pub(crate) matching: Vec<usize>,
    /// Messages counted in the current batch, not yet added to the matching
    /// subscriptions' counts.
    pub(crate) batch_counted: u64,
    /// Messages counted on this topic within the overlap window, oldest
    /// first, with the copies of each seen so far (kept only while the topic
    /// matches two subscriptions or more).
    pub(crate) recent: std::collections::VecDeque<RecentMessage>,
    /// Overlap copies recognised and not counted, over the panel's life.
    pub(crate) overlap_copies: u64,
    /// A subscription matched the topic at the last regroup (its panel
    /// leaves when none does any more).
    pub(crate) was_matched: bool,
    /// Removed (its subscription went); the id stays taken.
    pub(crate) gone: bool,
}

/// A counted message remembered for recognising the copies a broker sends
/// of it once per overlapping subscription.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecentMessage {
    /// A hash of the payload bytes (with its length beside it, a collision
    /// is as unlikely as a repeat within the window).
    pub(crate) hash: u64,
    pub(crate) len: usize,
    pub(crate) retain: bool,
    pub(crate) received_ms: f64,
    pub(crate) copies: usize,
    /// The MQTT 5 subscription identifiers it and its copies carried so far
    /// (empty when it carried none).
    pub(crate) ids: Vec<u32>,
}

impl Panel {
    pub(crate) fn new(id: PanelId, topic: Arc<str>, history: History) -> Panel {
        Panel {
            id,
            topic,
            group: None,
            subscription: None,
            last: None,
            count: 0,
            rate: Rate::new(),
            history,
            series: SeriesSet::new(),
            series_skipped: 0,
            generation: 0,
            pending: Vec::new(),
            matching: Vec::new(),
            batch_counted: 0,
            recent: std::collections::VecDeque::new(),
            overlap_copies: 0,
            was_matched: false,
            gone: false,
        }
    }

    /// The panel's id (stable for the life of the dashboard, or until
    /// [`crate::Dashboard::clear_panels`]).
    pub fn id(&self) -> PanelId {
        self.id
    }

    /// The concrete topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The topic as a shared string, cheap to clone into a view key.
    pub fn topic_arc(&self) -> Arc<str> {
        Arc::clone(&self.topic)
    }

    /// The subscription it is grouped under: the first, in subscription
    /// order, whose filter matches the topic; `None` when none does.
    pub fn subscription(&self) -> Option<SubId> {
        self.subscription
    }

    /// The last message received (payload, time, QoS, retain, dup).
    pub fn last(&self) -> Option<&HistoryEntry> {
        self.last.as_ref()
    }

    /// When the last message was received (ms since the Unix epoch).
    pub fn last_received_ms(&self) -> Option<f64> {
        self.last.as_ref().map(|e| e.received_ms)
    }

    /// The last payload rendered for display, at most about `limit` bytes
    /// (as text when its MQTT 5 payload format indicator says UTF-8 and it
    /// is; see [`crate::properties::render_message`]).
    pub fn last_view(&self, limit: usize) -> Option<PayloadView> {
        self.last.as_ref().map(|e| render_entry(e, limit))
    }

    /// Messages received on this topic (overlap copies not counted).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Copies of a message that the broker sent once per overlapping
    /// subscription, recognised and left out of the count, rate, history
    /// and series (see [`crate::dashboard`]).
    pub fn overlap_copies(&self) -> u64 {
        self.overlap_copies
    }

    /// Messages per second at `now_ms`.
    pub fn rate(&self, now_ms: f64) -> f64 {
        self.rate.per_second(now_ms)
    }

    /// Earlier messages (the last one included), newest first, capped by
    /// count and bytes.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Messages the history caps dropped.
    pub fn dropped(&self) -> u64 {
        self.history.dropped()
    }

    /// Numeric series for the chart; empty when the payloads carry no number.
    pub fn series(&self) -> &SeriesSet {
        &self.series
    }

    /// Payloads not parsed for the chart because of the per-batch sampling
    /// budget (the chart shows a sample; counts and history are exact).
    pub fn series_skipped(&self) -> u64 {
        self.series_skipped
    }

    /// Points refused because the panel already has its maximum number of
    /// series (or the dashboard its maximum in total).
    pub fn series_refused(&self) -> u64 {
        self.series.refused_points()
    }

    /// The dashboard generation at which this panel last changed: compare
    /// with a remembered value to know whether to re-render it.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
