//! The dashboard: subscriptions, and one panel per concrete topic grouped
//! under the first subscription (in subscription order) whose filter
//! matches it, with everything bounded.
//!
//! Incoming messages are applied in one batch per animation frame with
//! [`Dashboard::apply_batch`]. Per message the work is O(1) amortized: one
//! hash lookup by `&str` (the topic `String` is kept only when it creates a
//! panel), counter and rate updates, a reference-counted `Bytes` pushed to
//! the history, and, when the payload may carry numbers, a place in the
//! panel's queue for series extraction. At the end of the batch at most
//! [`Limits::parses_per_panel_per_batch`] payloads per panel, always the
//! newest, and about [`Limits::parses_per_batch`] in total are parsed for
//! the charts; the rest are counted as skipped (the chart is sampled, the
//! counts and histories stay exact).
//!
//! Bounds, all in [`Limits`]: the number of panels (messages on topics first
//! seen beyond it are counted, not shown), each history by count and bytes,
//! all histories together by bytes (the globally oldest entries go first),
//! the number of series per panel and in total, and the points of all series
//! together (each series keeps a share of the budget, between a minimum and
//! a maximum window).
//!
//! Topic matching uses this crate's own MQTT matcher ([`crate::topic::matches`]),
//! including the `$` rule. Removing a subscription keeps its panels and
//! regroups them under the next matching subscription (or "other");
//! [`Dashboard::clear_panels`] removes them.
//!
//! Generations: [`Dashboard::generation`] advances with every batch that
//! carried a message and with every subscription change;
//! [`crate::Panel::generation`] is the generation at which a panel last
//! changed; [`Dashboard::structure_generation`] advances when panels appear
//! or move between groups or subscriptions change, i.e. when lists must be
//! rebuilt rather than their rows refreshed.

use crate::history::{History, HistoryEntry};
use crate::message::Incoming;
use crate::panel::Panel;
use crate::rate::Rate;
use crate::series::{may_be_numeric, Extractor, SeriesPush};
use crate::topic::matches;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Subscription colours, assigned in order to new subscriptions (the first
/// one not in use).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Panels whose series are trimmed to the current per-series budget at the
/// end of each batch (round robin), so idle series shrink too.
const TRIM_PANELS_PER_BATCH: usize = 64;
/// The global-eviction queue may hold this many records beyond the live
/// history entries before live records are rotated to reach stale ones.
const FIFO_SLACK: usize = 1024;

/// Identifies a panel; stable until [`Dashboard::clear_panels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PanelId(u32);

impl PanelId {
    /// The panel's index, for keys and element ids.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies a subscription; never reused by a dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubId(u32);

impl SubId {
    /// The number, for keys and element ids.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// What the broker answered to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// No SUBACK yet (or the connection was re-established).
    Pending,
    /// Granted with this QoS.
    Granted(u8),
    /// Refused by the broker (SUBACK return code 0x80).
    Refused,
}

/// One subscription as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    id: SubId,
    filter: String,
    qos: u8,
    grant: Grant,
    colour: &'static str,
    message_count: u64,
    panels: Vec<PanelId>,
}

impl Subscription {
    /// Its id.
    pub fn id(&self) -> SubId {
        self.id
    }

    /// The topic filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The QoS requested.
    pub fn qos(&self) -> u8 {
        self.qos
    }

    /// What the broker granted.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// The grant in words: `waiting for the broker`, `granted QoS 1`,
    /// `refused by broker`.
    pub fn grant_label(&self) -> String {
        match self.grant {
            Grant::Pending => "waiting for the broker".to_owned(),
            Grant::Granted(q) => format!("granted QoS {q}"),
            Grant::Refused => "refused by broker".to_owned(),
        }
    }

    /// Its colour from [`PALETTE`].
    pub fn colour(&self) -> &'static str {
        self.colour
    }

    /// Messages received on the panels grouped under it.
    pub fn message_count(&self) -> u64 {
        self.message_count
    }

    /// The panels grouped under it, sorted by topic.
    pub fn panel_ids(&self) -> &[PanelId] {
        &self.panels
    }
}

/// The caps that keep the model bounded. The defaults suit a flood of
/// 50,000 msg/s over 1,000 topics.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Most panels; messages on new topics beyond it are counted as dropped.
    pub max_panels: usize,
    /// Most history entries per panel.
    pub history_len: usize,
    /// Most history bytes per panel (payload plus per-entry overhead).
    pub history_bytes_per_panel: usize,
    /// Most history bytes over all panels; the globally oldest go first.
    pub history_bytes_total: usize,
    /// Most series per panel.
    pub series_per_panel: usize,
    /// Most series over all panels.
    pub series_total: usize,
    /// Most points one series keeps.
    pub points_per_series: usize,
    /// Fewest points a series keeps when the total budget is shared thin.
    pub min_points_per_series: usize,
    /// The points budget shared by all series.
    pub points_total: usize,
    /// Payloads parsed for series per panel per batch (the newest).
    pub parses_per_panel_per_batch: usize,
    /// Payloads parsed for series per batch over all panels (at least one
    /// per panel that received a candidate).
    pub parses_per_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_panels: 5_000,
            history_len: 200,
            history_bytes_per_panel: 1 << 20,
            history_bytes_total: 32 << 20,
            series_per_panel: 16,
            series_total: 8_192,
            points_per_series: 2_000,
            min_points_per_series: 32,
            points_total: 1_000_000,
            parses_per_panel_per_batch: 8,
            parses_per_batch: 2_000,
        }
    }
}

/// A group of panels for the UI: a subscription (or `None` for topics no
/// subscription matches) and its panels sorted by topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The subscription, or `None` for "other".
    pub subscription: Option<SubId>,
    /// Its panels, sorted by topic.
    pub panels: Vec<PanelId>,
}

/// Counters over the life of the dashboard (not reset by
/// [`Dashboard::clear_panels`], except the current sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Messages taken into the model (counted in a panel).
    pub messages: u64,
    /// Payload bytes of those messages.
    pub payload_bytes: u64,
    /// Messages not taken because their topic was new and the panel cap was
    /// reached.
    pub dropped_new_topics: u64,
    /// History entries dropped by the history caps (per panel and global).
    pub history_dropped: u64,
    /// Payloads not parsed for the charts (sampling under load).
    pub series_skipped: u64,
    /// Points refused because a series cap was reached.
    pub series_refused: u64,
    /// Batches applied.
    pub batches: u64,
    /// Current number of panels.
    pub panels: usize,
    /// Current history entries over all panels.
    pub history_entries: usize,
    /// Current history bytes over all panels (as charged).
    pub history_bytes: usize,
    /// Current number of series.
    pub series: usize,
    /// Current points over all series.
    pub series_points: usize,
}

impl Stats {
    /// Everything the caps dropped: messages on topics beyond the panel cap
    /// plus history entries evicted.
    pub fn dropped_by_caps(&self) -> u64 {
        self.dropped_new_topics.saturating_add(self.history_dropped)
    }
}

/// The whole view model of the message side of the screen.
#[derive(Debug, Clone)]
pub struct Dashboard {
    limits: Limits,
    subs: Vec<Subscription>,
    next_sub: u32,
    panels: Vec<Panel>,
    index: HashMap<Arc<str>, PanelId>,
    other: Vec<PanelId>,
    /// `(panel, history seq)` in arrival order, for the global byte cap.
    fifo: VecDeque<(PanelId, u64)>,
    changed: Vec<PanelId>,
    extractor: Extractor,
    trim_cursor: usize,
    generation: u64,
    structure_generation: u64,
    rate: Rate,
    stats: Stats,
}

impl Default for Dashboard {
    fn default() -> Self {
        Dashboard::new(Limits::default())
    }
}

impl Dashboard {
    /// An empty dashboard with the given caps.
    pub fn new(limits: Limits) -> Self {
        Dashboard {
            limits,
            subs: Vec::new(),
            next_sub: 0,
            panels: Vec::new(),
            index: HashMap::new(),
            other: Vec::new(),
            fifo: VecDeque::new(),
            changed: Vec::new(),
            extractor: Extractor::new(),
            trim_cursor: 0,
            generation: 0,
            structure_generation: 0,
            rate: Rate::new(),
            stats: Stats::default(),
        }
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn bump_structure(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.structure_generation = self.structure_generation.wrapping_add(1);
    }

    // ----- subscriptions -------------------------------------------------

    /// Adds a subscription (or, for a filter already present, updates its
    /// QoS and marks it pending again, as MQTT replaces it) and returns its
    /// id. Panels no earlier subscription claimed move under it.
    pub fn subscribe(&mut self, filter: &str, qos: u8) -> SubId {
        if let Some(s) = self.subs.iter_mut().find(|s| s.filter == filter) {
            s.qos = qos;
            s.grant = Grant::Pending;
            let id = s.id;
            self.bump_structure();
            return id;
        }
        let id = SubId(self.next_sub);
        self.next_sub = self.next_sub.wrapping_add(1);
        let colour = PALETTE
            .iter()
            .copied()
            .find(|c| !self.subs.iter().any(|s| s.colour == *c))
            .or_else(|| PALETTE.get(id.0 as usize % PALETTE.len()).copied())
            .unwrap_or("#4e79a7");
        self.subs.push(Subscription {
            id,
            filter: filter.to_owned(),
            qos,
            grant: Grant::Pending,
            colour,
            message_count: 0,
            panels: Vec::new(),
        });
        self.regroup();
        id
    }

    /// Removes a subscription; its panels stay and move to the next
    /// matching subscription (or "other"). Returns whether it existed.
    pub fn remove_subscription(&mut self, id: SubId) -> bool {
        let before = self.subs.len();
        self.subs.retain(|s| s.id != id);
        if self.subs.len() == before {
            return false;
        }
        self.regroup();
        true
    }

    /// Removes the subscription with this filter; see
    /// [`Dashboard::remove_subscription`].
    pub fn unsubscribe(&mut self, filter: &str) -> bool {
        match self.subs.iter().find(|s| s.filter == filter) {
            Some(s) => {
                let id = s.id;
                self.remove_subscription(id)
            }
            None => false,
        }
    }

    /// Records the broker's answer for a filter. Returns whether the filter
    /// is one of the subscriptions.
    pub fn set_granted(&mut self, filter: &str, grant: Grant) -> bool {
        match self.subs.iter_mut().find(|s| s.filter == filter) {
            Some(s) => {
                s.grant = grant;
                self.bump_structure();
                true
            }
            None => false,
        }
    }

    /// Marks every subscription pending again (after a reconnect, until the
    /// new SUBACKs arrive).
    pub fn reset_grants(&mut self) {
        for s in &mut self.subs {
            s.grant = Grant::Pending;
        }
        self.bump_structure();
    }

    /// The subscriptions, in the order they were added.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subs
    }

    /// The subscription with this id.
    pub fn subscription(&self, id: SubId) -> Option<&Subscription> {
        self.subs.iter().find(|s| s.id == id)
    }

    /// The subscription with this filter.
    pub fn subscription_by_filter(&self, filter: &str) -> Option<&Subscription> {
        self.subs.iter().find(|s| s.filter == filter)
    }

    /// Recomputes every panel's group and every group's sorted panel list.
    fn regroup(&mut self) {
        let mut order: Vec<usize> = (0..self.panels.len()).collect();
        order.sort_by(|&a, &b| {
            let ta = self.panels.get(a).map(|p| &*p.topic);
            let tb = self.panels.get(b).map(|p| &*p.topic);
            ta.cmp(&tb)
        });
        for s in &mut self.subs {
            s.panels.clear();
        }
        self.other.clear();
        for i in order {
            let Some(p) = self.panels.get_mut(i) else {
                continue;
            };
            let group = self.subs.iter().position(|s| matches(&p.topic, &s.filter));
            p.group = group;
            p.subscription = group.and_then(|g| self.subs.get(g)).map(|s| s.id);
            match group.and_then(|g| self.subs.get_mut(g)) {
                Some(s) => s.panels.push(p.id),
                None => self.other.push(p.id),
            }
        }
        self.bump_structure();
    }

    // ----- ingest --------------------------------------------------------

    /// Applies one frame's worth of messages. `now_ms` stands in for a
    /// message's receive time when that is not finite. See the module docs
    /// for the cost per message and the caps.
    pub fn apply_batch<I: IntoIterator<Item = Incoming>>(&mut self, msgs: I, now_ms: f64) {
        let gen = self.generation.wrapping_add(1);
        self.changed.clear();
        let mut count = 0usize;
        for msg in msgs {
            count += 1;
            self.ingest(msg, now_ms, gen);
        }
        if count == 0 {
            return;
        }
        self.generation = gen;
        self.stats.batches += 1;
        self.extract_series();
        self.trim_series_round_robin();
        self.maintain_fifo(count.saturating_mul(2).saturating_add(64));
    }

    fn ingest(&mut self, msg: Incoming, now_ms: f64, gen: u64) {
        let t = if msg.received_ms.is_finite() {
            msg.received_ms
        } else {
            now_ms
        };
        let id = match self.index.get(msg.topic.as_str()) {
            Some(&id) => id,
            None => match self.create_panel(msg.topic) {
                Some(id) => id,
                None => {
                    self.stats.dropped_new_topics += 1;
                    return;
                }
            },
        };
        let Some(panel) = self.panels.get_mut(id.index()) else {
            return;
        };
        self.stats.messages += 1;
        self.stats.payload_bytes += msg.payload.len() as u64;
        self.rate.record(t);
        if panel.generation != gen {
            panel.generation = gen;
            self.changed.push(id);
        }
        panel.count += 1;
        panel.rate.record(t);
        if let Some(s) = panel.group.and_then(|g| self.subs.get_mut(g)) {
            s.message_count += 1;
        }
        if may_be_numeric(&msg.payload) {
            if panel.pending.len() >= self.limits.parses_per_panel_per_batch.max(1) {
                panel.pending.remove(0);
                panel.series_skipped += 1;
                self.stats.series_skipped += 1;
            }
            panel.pending.push((msg.payload.clone(), t));
        }
        let entry = HistoryEntry {
            payload: msg.payload,
            received_ms: t,
            qos: msg.qos,
            retain: msg.retain,
            dup: msg.dup,
        };
        let cost = entry.cost();
        panel.last = Some(entry.clone());
        let seq = panel.history.next_seq();
        let out = panel.history.push(entry);
        if out.stored {
            self.fifo.push_back((id, seq));
            self.stats.history_entries += 1;
            self.stats.history_bytes = self.stats.history_bytes.saturating_add(cost);
            self.stats.history_bytes = self.stats.history_bytes.saturating_sub(out.released_bytes);
        } else {
            self.stats.history_dropped += 1;
        }
        self.stats.history_entries = self.stats.history_entries.saturating_sub(out.evicted);
        self.stats.history_dropped += out.evicted as u64;
        self.enforce_total_history_bytes(gen);
    }

    /// Creates the panel of a new topic, or `None` at the panel cap.
    fn create_panel(&mut self, topic: String) -> Option<PanelId> {
        if self.panels.len() >= self.limits.max_panels {
            return None;
        }
        let id = PanelId(u32::try_from(self.panels.len()).ok()?);
        let topic: Arc<str> = Arc::from(topic);
        let mut panel = Panel::new(
            id,
            Arc::clone(&topic),
            History::new(self.limits.history_len, self.limits.history_bytes_per_panel),
        );
        let group = self.subs.iter().position(|s| matches(&topic, &s.filter));
        panel.group = group;
        panel.subscription = group.and_then(|g| self.subs.get(g)).map(|s| s.id);
        let list = match group.and_then(|g| self.subs.get_mut(g)) {
            Some(s) => &mut s.panels,
            None => &mut self.other,
        };
        let panels = &self.panels;
        let pos =
            list.partition_point(|pid| panels.get(pid.index()).is_some_and(|p| *p.topic < *topic));
        list.insert(pos, id);
        self.index.insert(topic, id);
        self.panels.push(panel);
        self.stats.panels = self.panels.len();
        self.structure_generation = self.structure_generation.wrapping_add(1);
        Some(id)
    }

    /// Evicts the globally oldest history entries while all histories
    /// together exceed their byte cap.
    fn enforce_total_history_bytes(&mut self, gen: u64) {
        while self.stats.history_bytes > self.limits.history_bytes_total {
            let Some((pid, seq)) = self.fifo.pop_front() else {
                break;
            };
            let Some(p) = self.panels.get_mut(pid.index()) else {
                continue;
            };
            if seq < p.history.oldest_seq() {
                continue; // already evicted by the panel's own caps
            }
            if let Some(released) = p.history.pop_oldest() {
                self.stats.history_bytes = self.stats.history_bytes.saturating_sub(released);
                self.stats.history_entries = self.stats.history_entries.saturating_sub(1);
                self.stats.history_dropped += 1;
                if p.generation != gen {
                    p.generation = gen;
                    self.changed.push(pid);
                }
            }
        }
    }

    /// Drops the records of entries their panel's own caps already evicted,
    /// a bounded amount of work per batch (`budget` records), so the queue
    /// stays about as long as the live history and no frame pays for a full
    /// sweep. Stale records at the front are always dropped; if the queue is
    /// still too long, live records at the front are moved to the back to
    /// reach the stale ones behind them (which makes the global eviction
    /// order approximate in that case, never the counts).
    fn maintain_fifo(&mut self, budget: usize) {
        let panels = &self.panels;
        let live = |pid: PanelId, seq: u64| {
            panels
                .get(pid.index())
                .is_some_and(|p| seq >= p.history.oldest_seq())
        };
        for _ in 0..budget {
            let Some(&(pid, seq)) = self.fifo.front() else {
                break;
            };
            if !live(pid, seq) {
                self.fifo.pop_front();
                continue;
            }
            if self.fifo.len() <= self.stats.history_entries + FIFO_SLACK {
                break;
            }
            self.fifo.rotate_left(1);
        }
    }

    /// The window each series keeps now: its share of the points budget,
    /// between the minimum and maximum.
    fn points_cap(&self) -> usize {
        let share = self.limits.points_total / self.stats.series.max(1);
        share
            .max(self.limits.min_points_per_series)
            .min(self.limits.points_per_series)
            .max(1)
    }

    /// Parses the queued payloads of the panels changed in this batch.
    fn extract_series(&mut self) {
        let pending: usize = self
            .changed
            .iter()
            .filter_map(|id| self.panels.get(id.index()))
            .map(|p| p.pending.len())
            .sum();
        if pending == 0 {
            return;
        }
        let quota = if pending <= self.limits.parses_per_batch {
            usize::MAX
        } else {
            (self.limits.parses_per_batch / self.changed.len().max(1)).max(1)
        };
        let cap = self.points_cap();
        let per_panel = self.limits.series_per_panel;
        let total_cap = self.limits.series_total;
        let stats = &mut self.stats;
        for id in &self.changed {
            let Some(panel) = self.panels.get_mut(id.index()) else {
                continue;
            };
            let skip = panel.pending.len().saturating_sub(quota);
            panel.series_skipped += skip as u64;
            stats.series_skipped += skip as u64;
            let series = &mut panel.series;
            for (payload, t) in panel.pending.drain(..).skip(skip) {
                self.extractor.extract(&payload, t, |name, t, v| {
                    let allow_new = stats.series < total_cap;
                    match series.push(name, t, v, cap, per_panel, allow_new) {
                        SeriesPush::Appended { evicted } => {
                            stats.series_points = (stats.series_points + 1).saturating_sub(evicted);
                        }
                        SeriesPush::Created => {
                            stats.series += 1;
                            stats.series_points += 1;
                        }
                        SeriesPush::Refused => stats.series_refused += 1,
                    }
                });
            }
        }
    }

    /// Trims a few panels' series to the current window each batch, so the
    /// points budget holds even for series that stopped receiving.
    fn trim_series_round_robin(&mut self) {
        if self.panels.is_empty() {
            return;
        }
        let cap = self.points_cap();
        for _ in 0..TRIM_PANELS_PER_BATCH.min(self.panels.len()) {
            if self.trim_cursor >= self.panels.len() {
                self.trim_cursor = 0;
            }
            if let Some(p) = self.panels.get_mut(self.trim_cursor) {
                let removed = p.series.trim(cap);
                self.stats.series_points = self.stats.series_points.saturating_sub(removed);
            }
            self.trim_cursor += 1;
        }
    }

    // ----- reading -------------------------------------------------------

    /// The panel with this id.
    pub fn panel(&self, id: PanelId) -> Option<&Panel> {
        self.panels.get(id.index())
    }

    /// The panel of this topic.
    pub fn panel_by_topic(&self, topic: &str) -> Option<&Panel> {
        self.index.get(topic).and_then(|id| self.panel(*id))
    }

    /// All panels, in order of creation.
    pub fn panels(&self) -> impl ExactSizeIterator<Item = &Panel> {
        self.panels.iter()
    }

    /// Number of panels.
    pub fn panel_count(&self) -> usize {
        self.panels.len()
    }

    /// Every subscription in order with its panels (sorted by topic), then
    /// "other" (topics no subscription matches) if it has any panel.
    pub fn groups(&self) -> Vec<Group> {
        self.groups_filtered("")
    }

    /// Like [`Dashboard::groups`], keeping only the panels whose topic
    /// contains `search`, ignoring case. Every subscription is listed even
    /// when none of its panels match; "other" only when one does.
    pub fn groups_filtered(&self, search: &str) -> Vec<Group> {
        let needle = search.to_lowercase();
        let keep = |id: &PanelId| {
            needle.is_empty()
                || self
                    .panels
                    .get(id.index())
                    .is_some_and(|p| p.topic_lower.contains(needle.as_str()))
        };
        let mut groups: Vec<Group> = self
            .subs
            .iter()
            .map(|s| Group {
                subscription: Some(s.id),
                panels: s.panels.iter().copied().filter(keep).collect(),
            })
            .collect();
        let other: Vec<PanelId> = self.other.iter().copied().filter(keep).collect();
        if !other.is_empty() {
            groups.push(Group {
                subscription: None,
                panels: other,
            });
        }
        groups
    }

    /// The panels whose topic contains `search` (ignoring case), in group
    /// order and by topic within a group.
    pub fn panels_filtered(&self, search: &str) -> Vec<PanelId> {
        self.groups_filtered(search)
            .into_iter()
            .flat_map(|g| g.panels)
            .collect()
    }

    /// The panels that changed in the last batch (received a message or lost
    /// history to the global cap), each once.
    pub fn changed_in_last_batch(&self) -> &[PanelId] {
        &self.changed
    }

    /// Advances with every batch that carried a message and with every
    /// subscription change.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Advances when panels are created or regrouped, subscriptions change,
    /// or panels are cleared: when lists, not just rows, must be rebuilt.
    pub fn structure_generation(&self) -> u64 {
        self.structure_generation
    }

    /// Messages per second over all topics at `now_ms`.
    pub fn rate(&self, now_ms: f64) -> f64 {
        self.rate.per_second(now_ms)
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Removes every panel (subscriptions stay, their counts restart). The
    /// lifetime counters in [`Stats`] are kept.
    pub fn clear_panels(&mut self) {
        self.panels.clear();
        self.index.clear();
        self.other.clear();
        self.fifo.clear();
        self.changed.clear();
        self.trim_cursor = 0;
        for s in &mut self.subs {
            s.panels.clear();
            s.message_count = 0;
        }
        self.stats.panels = 0;
        self.stats.history_entries = 0;
        self.stats.history_bytes = 0;
        self.stats.series = 0;
        self.stats.series_points = 0;
        self.bump_structure();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(topic: &str, payload: &str, t: f64) -> Incoming {
        Incoming::new(topic, Bytes::copy_from_slice(payload.as_bytes()), t)
    }

    fn topics(d: &Dashboard, ids: &[PanelId]) -> Vec<String> {
        ids.iter()
            .filter_map(|id| d.panel(*id))
            .map(|p| p.topic().to_owned())
            .collect()
    }

    #[test]
    fn each_concrete_topic_gets_one_panel_with_its_last_message_and_flags() {
        let mut d = Dashboard::default();
        let mut m = msg("a/1", "x", 10.0);
        m.qos = 1;
        m.retain = true;
        d.apply_batch([m, msg("a/2", "y", 11.0), msg("a/1", "z", 12.0)], 12.0);
        assert_eq!(d.panel_count(), 2);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!(p.count(), 2);
        let last = p.last().unwrap();
        assert_eq!(&last.payload[..], b"z");
        assert_eq!((last.qos, last.retain, last.dup), (0, false, false));
        assert_eq!(p.history().len(), 2);
        assert_eq!(
            p.history().get(1).map(|e| (e.qos, e.retain)),
            Some((1, true))
        );
        assert_eq!(p.last_received_ms(), Some(12.0));
        assert_eq!(d.stats().messages, 3);
    }

    #[test]
    fn panels_are_grouped_under_the_first_matching_subscription() {
        let mut d = Dashboard::default();
        let s1 = d.subscribe("sensors/+/temp", 0);
        let s2 = d.subscribe("sensors/#", 1);
        d.apply_batch(
            [
                msg("sensors/b/temp", "1", 0.0),
                msg("sensors/a/temp", "2", 0.0),
                msg("sensors/a/hum", "3", 0.0),
                msg("other/x", "4", 0.0),
            ],
            0.0,
        );
        let groups = d.groups();
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].subscription, Some(s1));
        assert_eq!(
            topics(&d, &groups[0].panels),
            ["sensors/a/temp", "sensors/b/temp"]
        );
        assert_eq!(groups[1].subscription, Some(s2));
        assert_eq!(topics(&d, &groups[1].panels), ["sensors/a/hum"]);
        assert_eq!(groups[2].subscription, None);
        assert_eq!(topics(&d, &groups[2].panels), ["other/x"]);
        assert_eq!(d.subscription(s1).map(Subscription::message_count), Some(2));
        assert_eq!(d.subscription(s2).map(Subscription::message_count), Some(1));
        assert_eq!(
            d.panel_by_topic("sensors/a/hum")
                .and_then(Panel::subscription),
            Some(s2)
        );
    }

    #[test]
    fn removing_a_subscription_regroups_its_panels_under_the_next_match() {
        let mut d = Dashboard::default();
        let s1 = d.subscribe("a/+", 0);
        let s2 = d.subscribe("#", 0);
        d.apply_batch([msg("a/1", "x", 0.0)], 0.0);
        assert_eq!(
            d.panel_by_topic("a/1").and_then(Panel::subscription),
            Some(s1)
        );
        let before = d.structure_generation();
        assert!(d.remove_subscription(s1));
        assert!(d.structure_generation() > before);
        assert_eq!(
            d.panel_by_topic("a/1").and_then(Panel::subscription),
            Some(s2)
        );
        assert!(d.unsubscribe("#"));
        assert_eq!(d.panel_by_topic("a/1").and_then(Panel::subscription), None);
        assert_eq!(d.groups().len(), 1);
        assert!(!d.unsubscribe("#"));
    }

    #[test]
    fn a_later_subscription_claims_panels_from_other() {
        let mut d = Dashboard::default();
        d.apply_batch([msg("x/1", "x", 0.0)], 0.0);
        assert_eq!(d.groups()[0].subscription, None);
        let s = d.subscribe("x/#", 0);
        assert_eq!(d.groups().len(), 1);
        assert_eq!(d.groups()[0].subscription, Some(s));
    }

    #[test]
    fn dollar_topics_are_not_grouped_under_a_hash_subscription() {
        let mut d = Dashboard::default();
        d.subscribe("#", 0);
        let sys = d.subscribe("$SYS/#", 0);
        d.apply_batch([msg("$SYS/broker/uptime", "5", 0.0)], 0.0);
        assert_eq!(
            d.panel_by_topic("$SYS/broker/uptime")
                .and_then(Panel::subscription),
            Some(sys)
        );
    }

    #[test]
    fn subscribing_again_updates_qos_and_resets_the_grant() {
        let mut d = Dashboard::default();
        let id = d.subscribe("a/#", 0);
        assert!(d.set_granted("a/#", Grant::Granted(0)));
        assert_eq!(d.subscribe("a/#", 2), id);
        let s = d.subscription(id).unwrap();
        assert_eq!((s.qos(), s.grant()), (2, Grant::Pending));
        assert!(!d.set_granted("nope", Grant::Refused));
        d.set_granted("a/#", Grant::Refused);
        assert_eq!(
            d.subscription(id).unwrap().grant_label(),
            "refused by broker"
        );
        d.reset_grants();
        assert_eq!(d.subscription(id).unwrap().grant(), Grant::Pending);
    }

    #[test]
    fn subscriptions_get_distinct_colours_and_reuse_freed_ones() {
        let mut d = Dashboard::default();
        let a = d.subscribe("a", 0);
        let b = d.subscribe("b", 0);
        let ca = d.subscription(a).unwrap().colour();
        assert_ne!(ca, d.subscription(b).unwrap().colour());
        d.remove_subscription(a);
        let c = d.subscribe("c", 0);
        assert_eq!(d.subscription(c).unwrap().colour(), ca);
    }

    #[test]
    fn search_filters_panels_by_case_insensitive_substring() {
        let mut d = Dashboard::default();
        d.apply_batch(
            [
                msg("Home/Kitchen/Temp", "1", 0.0),
                msg("home/garage/door", "1", 0.0),
                msg("office/temp", "1", 0.0),
            ],
            0.0,
        );
        let found = d.panels_filtered("TEMP");
        assert_eq!(topics(&d, &found), ["Home/Kitchen/Temp", "office/temp"]);
        assert_eq!(d.panels_filtered("").len(), 3);
        assert!(d.panels_filtered("nothing").is_empty());
        assert!(d.groups_filtered("nothing").is_empty());
    }

    #[test]
    fn new_topics_beyond_the_panel_cap_are_counted_as_dropped() {
        let mut d = Dashboard::new(Limits {
            max_panels: 2,
            ..Limits::default()
        });
        d.apply_batch(
            [
                msg("a", "1", 0.0),
                msg("b", "1", 0.0),
                msg("c", "1", 0.0),
                msg("a", "2", 0.0),
                msg("d", "1", 0.0),
            ],
            0.0,
        );
        assert_eq!(d.panel_count(), 2);
        let s = d.stats();
        assert_eq!(s.messages, 3);
        assert_eq!(s.dropped_new_topics, 2);
        assert_eq!(s.dropped_by_caps(), 2);
        assert!(d.panel_by_topic("c").is_none());
    }

    #[test]
    fn the_total_history_byte_cap_evicts_the_globally_oldest_entries() {
        let entry = crate::history::ENTRY_OVERHEAD_BYTES + 10;
        let mut d = Dashboard::new(Limits {
            history_bytes_total: 3 * entry,
            ..Limits::default()
        });
        d.apply_batch(
            [
                msg("a", "0123456789", 1.0),
                msg("b", "0123456789", 2.0),
                msg("a", "0123456789", 3.0),
                msg("b", "0123456789", 4.0),
            ],
            4.0,
        );
        let s = d.stats();
        assert_eq!(s.history_bytes, 3 * entry);
        assert_eq!(s.history_entries, 3);
        assert_eq!(s.history_dropped, 1);
        let a = d.panel_by_topic("a").unwrap();
        assert_eq!(a.history().len(), 1);
        assert_eq!(a.history().newest().map(|e| e.received_ms), Some(3.0));
        assert_eq!(a.dropped(), 1);
        assert_eq!(d.panel_by_topic("b").unwrap().history().len(), 2);
        assert_eq!(a.count(), 2);
    }

    #[test]
    fn global_cap_skips_records_of_entries_the_panel_cap_already_evicted() {
        let entry = crate::history::ENTRY_OVERHEAD_BYTES + 1;
        let mut d = Dashboard::new(Limits {
            history_len: 1,
            history_bytes_total: 2 * entry,
            ..Limits::default()
        });
        let batch: Vec<Incoming> = (0..10).map(|i| msg("a", "x", f64::from(i))).collect();
        d.apply_batch(batch, 10.0);
        d.apply_batch([msg("b", "y", 11.0), msg("c", "z", 12.0)], 12.0);
        let s = d.stats();
        assert_eq!(s.history_entries, 2);
        assert_eq!(s.history_bytes, 2 * entry);
        assert!(d.panel_by_topic("a").unwrap().history().is_empty());
        assert_eq!(d.panel_by_topic("b").unwrap().history().len(), 1);
        assert_eq!(d.panel_by_topic("c").unwrap().history().len(), 1);
    }

    #[test]
    fn the_eviction_queue_stays_bounded_when_only_panel_caps_evict() {
        let mut d = Dashboard::new(Limits {
            history_len: 2,
            ..Limits::default()
        });
        for round in 0..50 {
            let batch: Vec<Incoming> = (0..100)
                .map(|i| msg("t", "v", f64::from(round * 100 + i)))
                .collect();
            d.apply_batch(batch, 0.0);
        }
        assert!(d.fifo.len() <= d.stats().history_entries + FIFO_SLACK + 100);
        assert_eq!(d.stats().history_entries, 2);
    }

    #[test]
    fn the_eviction_queue_stays_bounded_behind_a_quiet_topic() {
        let mut d = Dashboard::new(Limits {
            history_len: 2,
            ..Limits::default()
        });
        d.apply_batch([msg("quiet", "q", 0.0)], 0.0);
        for round in 0..100 {
            let batch: Vec<Incoming> = (0..100)
                .map(|i| msg("busy", "v", f64::from(round * 100 + i)))
                .collect();
            d.apply_batch(batch, 0.0);
            assert!(d.fifo.len() <= d.stats().history_entries + FIFO_SLACK + 200);
        }
        assert_eq!(d.panel_by_topic("quiet").unwrap().history().len(), 1);
        assert_eq!(d.stats().history_entries, 3);
    }

    #[test]
    fn numeric_payloads_build_series_and_text_payloads_do_not() {
        let mut d = Dashboard::default();
        d.apply_batch(
            [
                msg("n", "1.5", 1000.0),
                msg("n", "2.5", 2000.0),
                msg("j", r#"{"t":20,"h":{"v":3}}"#, 1000.0),
                msg("s", "hello", 1000.0),
            ],
            2000.0,
        );
        let n = d.panel_by_topic("n").unwrap();
        let pts: Vec<(f64, f64)> = n
            .series()
            .get("value")
            .unwrap()
            .points()
            .iter()
            .copied()
            .collect();
        assert_eq!(pts, vec![(1000.0, 1.5), (2000.0, 2.5)]);
        let j = d.panel_by_topic("j").unwrap();
        let names: Vec<&str> = j.series().iter().map(|s| s.name()).collect();
        assert_eq!(names, ["t", "h.v"]);
        assert!(d.panel_by_topic("s").unwrap().series().is_empty());
        assert_eq!(d.stats().series, 3);
        assert_eq!(d.stats().series_points, 4);
    }

    #[test]
    fn under_load_only_the_newest_payloads_per_panel_are_parsed_and_the_rest_counted() {
        let mut d = Dashboard::new(Limits {
            parses_per_panel_per_batch: 3,
            ..Limits::default()
        });
        let batch: Vec<Incoming> = (0..10)
            .map(|i| msg("n", &i.to_string(), f64::from(i)))
            .collect();
        d.apply_batch(batch, 10.0);
        let p = d.panel_by_topic("n").unwrap();
        let values: Vec<f64> = p
            .series()
            .get("value")
            .unwrap()
            .points()
            .iter()
            .map(|p| p.1)
            .collect();
        assert_eq!(values, vec![7.0, 8.0, 9.0]);
        assert_eq!(p.series_skipped(), 7);
        assert_eq!(p.count(), 10);
        assert_eq!(d.stats().series_skipped, 7);
    }

    #[test]
    fn the_per_batch_parse_budget_is_shared_between_panels() {
        let mut d = Dashboard::new(Limits {
            parses_per_batch: 10,
            ..Limits::default()
        });
        let mut batch = Vec::new();
        for i in 0..8 {
            for t in ["a", "b", "c", "d", "e"] {
                batch.push(msg(t, &i.to_string(), f64::from(i)));
            }
        }
        d.apply_batch(batch, 8.0);
        for t in ["a", "b", "c", "d", "e"] {
            let p = d.panel_by_topic(t).unwrap();
            let values: Vec<f64> = p
                .series()
                .get("value")
                .unwrap()
                .points()
                .iter()
                .map(|p| p.1)
                .collect();
            assert_eq!(values, vec![6.0, 7.0], "topic {t}");
            assert_eq!(p.series_skipped(), 6);
        }
    }

    #[test]
    fn series_windows_shrink_to_share_the_points_budget() {
        let mut d = Dashboard::new(Limits {
            points_total: 100,
            points_per_series: 80,
            min_points_per_series: 10,
            parses_per_panel_per_batch: 1000,
            parses_per_batch: 100_000,
            ..Limits::default()
        });
        let batch: Vec<Incoming> = (0..200).map(|i| msg("a", "1", f64::from(i))).collect();
        d.apply_batch(batch, 0.0);
        assert_eq!(d.stats().series_points, 80);
        let mut batch = Vec::new();
        for t in ["b", "c", "d"] {
            for i in 0..5 {
                batch.push(msg(t, "2", f64::from(i)));
            }
        }
        d.apply_batch(batch, 0.0);
        // Four series now share 100 points: 25 each; "a" is trimmed too.
        assert_eq!(d.panel_by_topic("a").unwrap().series().points_total(), 25);
        assert!(d.stats().series_points <= 100);
        assert_eq!(
            d.stats().series_points,
            d.panels().map(|p| p.series().points_total()).sum::<usize>()
        );
    }

    #[test]
    fn the_total_series_cap_refuses_new_series_and_counts_their_points() {
        let mut d = Dashboard::new(Limits {
            series_total: 2,
            ..Limits::default()
        });
        d.apply_batch([msg("a", r#"{"x":1,"y":2,"z":3}"#, 0.0)], 0.0);
        assert_eq!(d.panel_by_topic("a").unwrap().series().len(), 2);
        assert_eq!(d.panel_by_topic("a").unwrap().series_refused(), 1);
        assert_eq!(d.stats().series_refused, 1);
    }

    #[test]
    fn generations_tell_what_changed_in_a_batch() {
        let mut d = Dashboard::default();
        d.apply_batch(
            [msg("a", "1", 0.0), msg("b", "1", 0.0), msg("a", "2", 0.0)],
            0.0,
        );
        let g1 = d.generation();
        let s1 = d.structure_generation();
        assert_eq!(d.changed_in_last_batch().len(), 2);
        d.apply_batch([msg("b", "3", 1.0)], 1.0);
        assert!(d.generation() > g1);
        assert_eq!(d.structure_generation(), s1);
        assert_eq!(topics(&d, d.changed_in_last_batch()), ["b"]);
        assert_eq!(d.panel_by_topic("a").unwrap().generation(), g1);
        assert_eq!(d.panel_by_topic("b").unwrap().generation(), d.generation());
        let g2 = d.generation();
        d.apply_batch(Vec::new(), 2.0);
        assert_eq!(d.generation(), g2);
        assert!(d.changed_in_last_batch().is_empty());
        d.apply_batch([msg("c", "1", 0.0)], 0.0);
        assert!(d.structure_generation() > s1);
    }

    #[test]
    fn non_finite_receive_times_fall_back_to_now() {
        let mut d = Dashboard::default();
        d.apply_batch([msg("a", "1", f64::NAN)], 42.0);
        assert_eq!(
            d.panel_by_topic("a").unwrap().last_received_ms(),
            Some(42.0)
        );
    }

    #[test]
    fn rates_are_reported_per_panel_and_overall() {
        let mut d = Dashboard::default();
        let batch: Vec<Incoming> = (0..50)
            .map(|i| msg("a", "x", 10_000.0 + f64::from(i) * 100.0))
            .collect();
        d.apply_batch(batch, 15_000.0);
        let r = d.panel_by_topic("a").unwrap().rate(15_000.0);
        assert!((r - 10.0).abs() < 0.5, "rate {r}");
        assert!((d.rate(15_000.0) - r).abs() < 1e-9);
    }

    #[test]
    fn clear_panels_keeps_subscriptions_and_lifetime_counters() {
        let mut d = Dashboard::default();
        let s = d.subscribe("#", 0);
        d.apply_batch([msg("a", "1", 0.0)], 0.0);
        d.clear_panels();
        assert_eq!(d.panel_count(), 0);
        assert!(d.panel_by_topic("a").is_none());
        assert_eq!(d.subscription(s).unwrap().message_count(), 0);
        assert_eq!(d.stats().messages, 1);
        assert_eq!(d.stats().history_bytes, 0);
        d.apply_batch([msg("a", "2", 1.0)], 1.0);
        assert_eq!(d.panel_by_topic("a").unwrap().count(), 1);
        assert_eq!(d.groups()[0].panels.len(), 1);
    }

    #[test]
    fn the_dashboard_can_live_in_a_send_and_sync_signal() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Dashboard>();
        assert_send_sync::<crate::PayloadView>();
        assert_send_sync::<crate::ChartLayout>();
    }

    #[test]
    fn arbitrary_binary_payloads_and_topics_never_panic() {
        let mut d = Dashboard::new(Limits {
            max_panels: 64,
            history_bytes_total: 4096,
            ..Limits::default()
        });
        d.subscribe("+/#", 0);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut batch = Vec::new();
        for i in 0..5000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let mut payload: Vec<u8> = (0..len).map(|k| (x >> (k % 8 * 8)) as u8).collect();
            if i % 3 == 0 {
                payload.insert(0, b'{');
            }
            if i % 5 == 0 && payload.len() > 3 {
                payload[0] = 0x01;
            }
            let topic = format!("t/{}/é", x % 100);
            batch.push(Incoming::new(topic, payload, f64::from(i)));
            if batch.len() == 500 {
                d.apply_batch(std::mem::take(&mut batch), f64::from(i));
                for id in d.changed_in_last_batch() {
                    let _ = d.panel(*id).and_then(|p| p.last_view(64));
                }
            }
        }
        let s = d.stats();
        assert_eq!(s.messages + s.dropped_new_topics, 5000);
        assert!(s.history_bytes <= 4096);
    }
}
