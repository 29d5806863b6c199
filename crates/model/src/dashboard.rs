//! The dashboard: subscriptions, and one panel per concrete topic grouped
//! under the first subscription (in subscription order) whose filter
//! matches it, with everything bounded.
//!
//! Incoming messages are applied in one batch per animation frame with
//! [`Dashboard::apply_batch`]. Per message the work is O(1) amortized: one
//! hash lookup by `&str` (the topic `String` is kept only when it creates a
//! panel), the overlap-copy check against the topic's recent messages,
//! counter and rate updates, a reference-counted `Bytes` pushed to the
//! history, and, when the payload may carry numbers, a place in the panel's
//! queue for series extraction. At the end of the batch each changed panel
//! adds what it counted to the subscriptions its topic matches (a list
//! computed when the panel is created or regrouped, not per message), and at
//! most [`Limits::parses_per_panel_per_batch`] payloads per panel, always
//! the newest, and about [`Limits::parses_per_batch`] in total are parsed
//! for the charts; the rest are counted as skipped (the chart is sampled,
//! the counts and histories stay exact).
//!
//! Bounds, all in [`Limits`]: the number of panels (messages on topics first
//! seen beyond it are counted, not shown), each history by count and bytes,
//! all histories together by bytes (the globally oldest entries go first),
//! the number of series per panel and in total, and the points of all series
//! together (each series keeps a share of the budget, between a minimum and
//! a maximum window).
//!
//! Subscriptions are not decided here: the page's supervisor owns the
//! connection and its subscription list, and the dashboard mirrors that list
//! with [`Dashboard::sync_subscriptions`], the only way subscriptions change.
//! Topic matching is [`mqtt_session::topic::matches`] (the `$` rule and
//! shared subscriptions included). Removing a subscription regroups its
//! panels under the next matching subscription; those no subscription
//! matches any more leave with it unless pinned ([`Dashboard::set_pinned`]).
//! [`Dashboard::clear_panels`] removes them all. Every topic is also a node
//! of the [`TopicTree`] ([`Dashboard::tree`]), kept in step here.
//!
//! Overlap copies: some brokers (rumqttd) deliver one copy of a message per
//! matching subscription, others (mosquitto) one in all. A message is
//! counted once on its topic, and each subscription counts the messages it
//! matched ([`Subscription::matched_count`]). When a panel's topic matches
//! `k >= 2` subscriptions, a message with the same payload bytes and retain
//! flag as one of the topic's recent counted messages (the last
//! [`OVERLAP_RECENT`] within [`OVERLAP_WINDOW_MS`]: a broker may send the
//! copies for one subscription after a whole run of messages for the
//! other), while fewer than `k - 1` copies of that message have been seen,
//! is taken as a copy the broker sent for the overlap: it is counted in [`Panel::overlap_copies`] and
//! [`Stats::overlap_copies`] and nowhere else (not in counts, rates,
//! history or series). QoS is ignored (rumqttd delivers each copy at its
//! subscription's QoS). With `k = 1` nothing is ever a copy. The rule cannot
//! tell a copy from a device that really published the same payload twice
//! within the window on a topic matched by several subscriptions; that
//! repeat is then counted as a copy.
//!
//! Generations: [`Dashboard::generation`] advances with every batch that
//! carried a message, every subscription change and every
//! [`Dashboard::record_not_kept`]; [`crate::Panel::generation`] is the
//! generation at which a panel last changed; [`Dashboard::structure_generation`]
//! advances when panels appear or move between groups or subscriptions
//! change, i.e. when lists must be rebuilt rather than their rows refreshed.

use crate::history::{History, HistoryEntry};
use crate::message::Incoming;
use crate::panel::Panel;
use crate::rate::Rate;
use crate::series::{may_be_numeric, Extractor, SeriesPush};
use crate::tree::{NodeId, TopicTree, TreeFilter};
use mqtt_session::topic::matches;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Subscription colours, assigned in order to new subscriptions (the first
/// one not in use; when all are in use, the least used). Chosen to stay
/// apart from one another on the page's dark background.
pub const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#9d7df0", "#a8d13f",
];

/// How close in time (ms) a repeated message must follow the panel's
/// previous one to be taken as a broker's overlap copy (see the module docs).
pub const OVERLAP_WINDOW_MS: f64 = 2_000.0;

/// How many of a topic's recent messages are remembered for recognising
/// overlap copies (only for topics that two subscriptions or more match).
pub const OVERLAP_RECENT: usize = 256;

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
    #[cfg(test)]
    pub(crate) fn new(index: u32) -> Self {
        PanelId(index)
    }

    /// The panel's index, for keys and element ids.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies a subscription; never reused by a dashboard (a filter removed
/// and added again gets a new id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubId(u32);

impl SubId {
    /// The number, for keys and element ids.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// What the broker answered to a subscription, as the connection owner reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Not connected: the subscription will be made once connected.
    NotConnected,
    /// Sent, no SUBACK yet.
    Pending,
    /// Granted with this QoS (possibly lower than asked).
    Granted(u8),
    /// Refused by the broker (SUBACK return code 0x80).
    Refused,
}

/// One subscription as the connection owner (the page's supervisor) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    /// The topic filter.
    pub filter: String,
    /// The QoS asked for.
    pub qos: u8,
    /// What the broker answered.
    pub grant: Grant,
}

/// One subscription as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    id: SubId,
    filter: String,
    qos: u8,
    grant: Grant,
    colour: &'static str,
    matched_count: u64,
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

    /// The QoS asked for.
    pub fn qos(&self) -> u8 {
        self.qos
    }

    /// What the broker answered.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// The grant in words: `not connected`, `waiting for the broker`,
    /// `granted QoS 2`, `downgraded: asked QoS 2, granted QoS 1` (granted
    /// below what was asked), `refused by the broker`.
    pub fn grant_label(&self) -> String {
        match self.grant {
            Grant::NotConnected => "not connected".to_owned(),
            Grant::Pending => "waiting for the broker".to_owned(),
            Grant::Granted(g) if g < self.qos => {
                format!("downgraded: asked QoS {}, granted QoS {g}", self.qos)
            }
            Grant::Granted(g) => format!("granted QoS {g}"),
            Grant::Refused => "refused by the broker".to_owned(),
        }
    }

    /// Its colour from [`PALETTE`].
    pub fn colour(&self) -> &'static str {
        self.colour
    }

    /// Messages whose topic matches this filter, since it was added (or
    /// since [`Dashboard::clear_panels`]), even on panels grouped under an
    /// earlier subscription. Overlap copies are not counted, nor messages
    /// on new topics beyond the panel cap.
    pub fn matched_count(&self) -> u64 {
        self.matched_count
    }

    /// The same as [`Subscription::matched_count`] (its former name).
    pub fn message_count(&self) -> u64 {
        self.matched_count
    }

    /// The panels grouped under it, sorted by topic.
    pub fn panel_ids(&self) -> &[PanelId] {
        &self.panels
    }
}

/// A message the page received but did not keep (larger than the incoming
/// size limit), as [`Dashboard::record_not_kept`] recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotKept {
    /// Its topic.
    pub topic: String,
    /// Its size in bytes.
    pub size: usize,
    /// The limit it exceeded, in bytes.
    pub limit: usize,
    /// When it was received (ms since the Unix epoch).
    pub at_ms: f64,
}

impl NotKept {
    /// A sentence for the status line:
    /// `message of 20000000 bytes on topic big/x not kept (limit 16777216)`.
    pub fn describe(&self) -> String {
        format!(
            "message of {} bytes on topic {} not kept (limit {})",
            self.size, self.topic, self.limit
        )
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
            max_panels: 150_000,
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
    /// Copies of a message a broker sent once per overlapping subscription,
    /// recognised and not counted (see the module docs).
    pub overlap_copies: u64,
    /// Messages received but not kept, larger than the incoming size limit
    /// ([`Dashboard::record_not_kept`]).
    pub not_kept: u64,
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

/// The first colour of [`PALETTE`] not in `in_use`; when all are, the
/// first of the least used.
fn pick_colour(in_use: &[&'static str]) -> &'static str {
    PALETTE
        .iter()
        .copied()
        .min_by_key(|c| in_use.iter().filter(|u| *u == c).count())
        .unwrap_or("#4e79a7")
}

/// FNV-1a over the payload: cheap, and only computed for topics that two
/// subscriptions or more match.
fn payload_hash(payload: &[u8]) -> u64 {
    payload.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether a message is a copy of one of the panel's recent counted messages
/// that the broker sent for another overlapping subscription (see the module
/// docs); remembers it as a counted one when it is not. `t` is the message's
/// receive time; `ids` the MQTT 5 subscription identifiers it carried.
///
/// With identifiers the rule is exact: a copy carries the identifiers of
/// other subscriptions than those the message and its copies carried so far
/// (a broker that sends one copy for all puts every identifier in it; a
/// repeat through the same subscription is a new message).
fn take_overlap_copy(panel: &mut Panel, payload: &[u8], retain: bool, t: f64, ids: &[u32]) -> bool {
    let k = panel.matching.len();
    if k < 2 {
        panel.recent.clear();
        return false;
    }
    while panel
        .recent
        .front()
        .is_some_and(|r| (t - r.received_ms).abs() > OVERLAP_WINDOW_MS)
    {
        panel.recent.pop_front();
    }
    let hash = payload_hash(payload);
    let len = payload.len();
    let copy = panel.recent.iter_mut().find(|r| {
        r.hash == hash
            && r.len == len
            && r.retain == retain
            && if ids.is_empty() || r.ids.is_empty() {
                r.copies < k - 1
            } else {
                !ids.iter().any(|id| r.ids.contains(id))
            }
    });
    if let Some(r) = copy {
        r.copies += 1;
        r.ids.extend_from_slice(ids);
        return true;
    }
    if panel.recent.len() >= OVERLAP_RECENT {
        panel.recent.pop_front();
    }
    panel.recent.push_back(crate::panel::RecentMessage {
        hash,
        len,
        retain,
        received_ms: t,
        copies: 0,
        ids: ids.to_vec(),
    });
    false
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
    last_not_kept: Option<NotKept>,
    /// Every topic as levels; a panel's node is `nodes[panel index]`.
    tree: TopicTree,
    nodes: Vec<NodeId>,
    /// Pinned panels, in the order they were pinned.
    pinned: Vec<PanelId>,
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
            last_not_kept: None,
            tree: TopicTree::new(),
            nodes: Vec::new(),
            pinned: Vec::new(),
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

    /// Makes the dashboard's subscription list exactly `subs` (in that
    /// order): adds new filters (with a new colour and id), updates the QoS
    /// and grant of existing ones (keeping their id, colour and counts),
    /// removes the others (their panels move to the next matching
    /// subscription, or "other"). A filter listed twice is taken once, at
    /// its first place. The only way subscriptions change in the model; a
    /// call that changes nothing bumps no generation.
    pub fn sync_subscriptions(&mut self, subs: &[SubscriptionState]) {
        // Each filter's place in `wanted` (the map type of `diff`'s line ids:
        // one copy of the hash table's code for both).
        let mut place: HashMap<&str, u32> = HashMap::with_capacity(subs.len());
        let wanted: Vec<&SubscriptionState> = subs
            .iter()
            .filter(|s| {
                let next = place.len() as u32;
                crate::diff::intern(&mut place, &s.filter) == next
            })
            .collect();
        let same_filters = wanted.len() == self.subs.len()
            && wanted
                .iter()
                .zip(&self.subs)
                .all(|(w, s)| w.filter == s.filter);
        if same_filters {
            let mut changed = false;
            for (w, s) in wanted.iter().zip(&mut self.subs) {
                if s.qos != w.qos || s.grant != w.grant {
                    s.qos = w.qos;
                    s.grant = w.grant;
                    changed = true;
                }
            }
            if changed {
                self.bump_structure();
            }
            return;
        }
        // The current subscription of each wanted filter, at its place.
        let mut old: Vec<Option<Subscription>> = wanted.iter().map(|_| None).collect();
        for s in std::mem::take(&mut self.subs) {
            if let Some(&i) = place.get(s.filter.as_str()) {
                if let Some(slot) = old.get_mut(i as usize) {
                    *slot = Some(s);
                }
            }
        }
        let mut in_use: Vec<&'static str> = old.iter().flatten().map(|s| s.colour).collect();
        let mut next = Vec::with_capacity(wanted.len());
        for (w, old) in wanted.into_iter().zip(old) {
            let sub = match old {
                Some(mut s) => {
                    s.qos = w.qos;
                    s.grant = w.grant;
                    s
                }
                None => {
                    let id = SubId(self.next_sub);
                    self.next_sub = self.next_sub.wrapping_add(1);
                    let colour = pick_colour(&in_use);
                    in_use.push(colour);
                    Subscription {
                        id,
                        filter: w.filter.clone(),
                        qos: w.qos,
                        grant: w.grant,
                        colour,
                        matched_count: 0,
                        panels: Vec::new(),
                    }
                }
            };
            next.push(sub);
        }
        self.subs = next;
        self.regroup();
        self.drop_unsubscribed();
    }

    /// The subscriptions, in the order the connection owner lists them.
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

    /// The indices of the subscriptions whose filter matches `topic`, in
    /// order (the first is the panel's group).
    fn matching_subs(subs: &[Subscription], topic: &str) -> Vec<usize> {
        subs.iter()
            .enumerate()
            .filter(|(_, s)| matches(topic, &s.filter))
            .map(|(i, _)| i)
            .collect()
    }

    /// Recomputes every panel's group, matching subscriptions and every
    /// group's sorted panel list.
    fn regroup(&mut self) {
        let mut order: Vec<usize> = (0..self.panels.len()).collect();
        crate::sort_indices(&mut order, &|a, b| {
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
            if p.gone {
                continue;
            }
            p.matching = Self::matching_subs(&self.subs, &p.topic);
            let group = p.matching.first().copied();
            p.group = group;
            p.subscription = group.and_then(|g| self.subs.get(g)).map(|s| s.id);
            match group.and_then(|g| self.subs.get_mut(g)) {
                Some(s) => s.panels.push(p.id),
                None => self.other.push(p.id),
            }
        }
        self.bump_structure();
    }

    /// Removes the panels that a subscription matched before and none
    /// matches now, unless pinned: the panels of a removed subscription
    /// leave with it.
    fn drop_unsubscribed(&mut self) {
        let pinned = &self.pinned;
        let gone: Vec<PanelId> = self
            .panels
            .iter()
            .filter(|p| !p.gone && p.matching.is_empty() && p.was_matched)
            .map(|p| p.id)
            .filter(|id| !pinned.contains(id))
            .collect();
        for &id in &gone {
            self.remove_panel(id);
        }
        // No subscription matches them, so `regroup` put them in "other":
        // one pass takes them out (not one pass per panel).
        if !gone.is_empty() {
            let panels = &self.panels;
            self.other
                .retain(|id| panels.get(id.index()).is_some_and(|p| !p.gone));
            self.bump_structure();
        }
        for p in &mut self.panels {
            p.was_matched = !p.matching.is_empty();
        }
    }

    /// Removes one panel that no list holds any more (the caller takes it
    /// out of "other"): its history and series are freed, its topic leaves
    /// the tree, and a later message on the topic makes a new panel. The id
    /// is not reused (until [`Dashboard::clear_panels`]).
    fn remove_panel(&mut self, id: PanelId) {
        let Some(p) = self.panels.get_mut(id.index()) else {
            return;
        };
        if p.gone {
            return;
        }
        p.gone = true;
        self.stats.history_entries = self.stats.history_entries.saturating_sub(p.history.len());
        self.stats.history_bytes = self.stats.history_bytes.saturating_sub(p.history.bytes());
        self.stats.series = self.stats.series.saturating_sub(p.series.len());
        self.stats.series_points = self
            .stats
            .series_points
            .saturating_sub(p.series.points_total());
        p.history.clear();
        p.series = crate::series::SeriesSet::new();
        p.pending.clear();
        p.recent.clear();
        p.last = None;
        let topic = Arc::clone(&p.topic);
        self.index.remove(&*topic);
        if let Some(node) = self.nodes.get(id.index()) {
            self.tree.remove(*node);
        }
        self.stats.panels = self.stats.panels.saturating_sub(1);
    }

    // ----- pins and the tree ---------------------------------------------

    /// Pins or unpins a panel: pinned panels stay on top whatever is
    /// selected, and stay when their subscription is removed.
    pub fn set_pinned(&mut self, id: PanelId, pinned: bool) {
        if self.panel(id).is_none() {
            return;
        }
        let at = self.pinned.iter().position(|x| *x == id);
        match (pinned, at) {
            (true, None) => self.pinned.push(id),
            (false, Some(i)) => {
                self.pinned.remove(i);
            }
            _ => return,
        }
        self.bump_structure();
    }

    /// The pinned panels, in the order they were pinned.
    pub fn pinned(&self) -> &[PanelId] {
        &self.pinned
    }

    /// Whether a panel is pinned.
    pub fn is_pinned(&self, id: PanelId) -> bool {
        self.pinned.contains(&id)
    }

    /// Every topic received, as levels.
    pub fn tree(&self) -> &TopicTree {
        &self.tree
    }

    /// The panels at or under a tree node, grouped as [`Dashboard::groups`]
    /// groups them (subscription order, then "other"), in tree order within
    /// a group, whose topic passes `filter` (the tree's). Pinned panels are
    /// left out (they are shown on their own).
    pub fn groups_under(&self, node: NodeId, filter: &TreeFilter) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .subs
            .iter()
            .map(|s| Group {
                subscription: Some(s.id),
                panels: Vec::new(),
            })
            .collect();
        let mut other = Vec::new();
        for id in self.tree.panels_under(node) {
            if self.pinned.contains(&id) {
                continue;
            }
            let Some(p) = self.panel(id) else { continue };
            if !filter.accepts(&p.topic) {
                continue;
            }
            match p.group.and_then(|g| groups.get_mut(g)) {
                Some(g) => g.panels.push(id),
                None => other.push(id),
            }
        }
        if !other.is_empty() {
            groups.push(Group {
                subscription: None,
                panels: other,
            });
        }
        groups
    }

    // ----- messages not kept ---------------------------------------------

    /// Records a message the page received but did not keep because it was
    /// larger than `limit` bytes: counts it in [`Stats::not_kept`] and keeps
    /// it as [`Dashboard::last_not_kept`] (the newest only). Advances the
    /// generation so views redraw.
    pub fn record_not_kept(&mut self, topic: &str, size: usize, limit: usize, at_ms: f64) {
        self.stats.not_kept += 1;
        self.last_not_kept = Some(NotKept {
            topic: topic.to_owned(),
            size,
            limit,
            at_ms,
        });
        self.generation = self.generation.wrapping_add(1);
    }

    /// The newest message not kept, if any.
    pub fn last_not_kept(&self) -> Option<&NotKept> {
        self.last_not_kept.as_ref()
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
        self.flush_matched_counts();
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
        if panel.generation != gen {
            panel.generation = gen;
            self.changed.push(id);
        }
        let ids = msg
            .properties
            .as_deref()
            .map_or(&[][..], |p| &p.subscription_identifiers[..]);
        if take_overlap_copy(panel, &msg.payload, msg.retain, t, ids) {
            panel.overlap_copies += 1;
            self.stats.overlap_copies += 1;
            return;
        }
        self.stats.messages += 1;
        self.stats.payload_bytes += msg.payload.len() as u64;
        self.rate.record(t);
        // An empty payload is how a retained topic is cleared (and arrives
        // live, without the flag, to those already subscribed).
        let mark = if msg.payload.is_empty() {
            Some(false)
        } else if msg.retain {
            Some(true)
        } else {
            None
        };
        if let Some(node) = self.nodes.get(id.index()) {
            self.tree.record(*node, t, mark);
        }
        panel.count += 1;
        panel.batch_counted += 1;
        panel.rate.record(t);
        // A decoded payload is charted from its decoder's JSON, never from
        // its bytes (a binary payload may look like a number).
        let charted = match &msg.decoded {
            Some(d) => d.chart.clone(),
            None => Some(msg.payload.clone()),
        };
        if let Some(chart) = charted.filter(|c| may_be_numeric(c)) {
            if panel.pending.len() >= self.limits.parses_per_panel_per_batch.max(1) {
                panel.pending.remove(0);
                panel.series_skipped += 1;
                self.stats.series_skipped += 1;
            }
            panel.pending.push((chart, t));
        }
        let entry = HistoryEntry {
            payload: msg.payload,
            received_ms: t,
            qos: msg.qos,
            retain: msg.retain,
            dup: msg.dup,
            properties: msg.properties,
            decoded: msg.decoded,
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
        panel.matching = Self::matching_subs(&self.subs, &topic);
        panel.was_matched = !panel.matching.is_empty();
        let group = panel.matching.first().copied();
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
        let node = self.tree.insert(&topic, id);
        self.nodes.push(node);
        self.index.insert(topic, id);
        self.panels.push(panel);
        self.stats.panels = self.stats.panels.saturating_add(1);
        self.structure_generation = self.structure_generation.wrapping_add(1);
        Some(id)
    }

    /// Adds what each panel changed in this batch counted to every
    /// subscription its topic matches: O(changed panels × matching
    /// subscriptions) per batch, nothing per message.
    fn flush_matched_counts(&mut self) {
        for id in &self.changed {
            let Some(p) = self.panels.get_mut(id.index()) else {
                continue;
            };
            if p.batch_counted == 0 {
                continue;
            }
            for &i in &p.matching {
                if let Some(s) = self.subs.get_mut(i) {
                    s.matched_count += p.batch_counted;
                }
            }
            p.batch_counted = 0;
        }
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
        self.panels.get(id.index()).filter(|p| !p.gone)
    }

    /// The panel of this topic.
    pub fn panel_by_topic(&self, topic: &str) -> Option<&Panel> {
        self.index.get(topic).and_then(|id| self.panel(*id))
    }

    /// All panels, in order of creation.
    pub fn panels(&self) -> impl Iterator<Item = &Panel> {
        self.panels.iter().filter(|p| !p.gone)
    }

    /// Number of panels.
    pub fn panel_count(&self) -> usize {
        self.stats.panels
    }

    /// Every subscription in order with its panels (sorted by topic), then
    /// "other" (topics no subscription matches) if it has any panel.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .subs
            .iter()
            .map(|s| Group {
                subscription: Some(s.id),
                panels: s.panels.clone(),
            })
            .collect();
        if !self.other.is_empty() {
            groups.push(Group {
                subscription: None,
                panels: self.other.clone(),
            });
        }
        groups
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
        self.nodes.clear();
        self.pinned.clear();
        self.tree.clear();
        self.index.clear();
        self.other.clear();
        self.fifo.clear();
        self.changed.clear();
        self.trim_cursor = 0;
        for s in &mut self.subs {
            s.panels.clear();
            s.matched_count = 0;
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
    use std::collections::HashSet;

    fn msg(topic: &str, payload: &str, t: f64) -> Incoming {
        Incoming::new(topic, Bytes::copy_from_slice(payload.as_bytes()), t)
    }

    fn state(filter: &str, qos: u8, grant: Grant) -> SubscriptionState {
        SubscriptionState {
            filter: filter.to_owned(),
            qos,
            grant,
        }
    }

    /// Syncs to these filters, all pending, and returns their ids in order.
    fn sync(d: &mut Dashboard, subs: &[(&str, u8)]) -> Vec<SubId> {
        let states: Vec<SubscriptionState> = subs
            .iter()
            .map(|(f, q)| state(f, *q, Grant::Pending))
            .collect();
        d.sync_subscriptions(&states);
        subs.iter()
            .filter_map(|(f, _)| d.subscription_by_filter(f).map(Subscription::id))
            .collect()
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
        let [s1, s2] = sync(&mut d, &[("sensors/+/temp", 0), ("sensors/#", 1)])[..] else {
            panic!("two subscriptions")
        };
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
        assert_eq!(d.subscription(s1).map(Subscription::matched_count), Some(2));
        assert_eq!(
            d.subscription(s2).map(Subscription::matched_count),
            Some(3),
            "sensors/# matched the temp topics too"
        );
        assert_eq!(
            d.panel_by_topic("sensors/a/hum")
                .and_then(Panel::subscription),
            Some(s2)
        );
    }

    #[test]
    fn removing_a_subscription_regroups_its_panels_under_the_next_match() {
        let mut d = Dashboard::default();
        let [s1, s2] = sync(&mut d, &[("a/+", 0), ("#", 0)])[..] else {
            panic!("two subscriptions")
        };
        d.apply_batch([msg("a/1", "x", 0.0)], 0.0);
        assert_eq!(
            d.panel_by_topic("a/1").and_then(Panel::subscription),
            Some(s1)
        );
        let before = d.structure_generation();
        assert_eq!(sync(&mut d, &[("#", 0)]), [s2]);
        assert!(d.structure_generation() > before);
        assert_eq!(
            d.panel_by_topic("a/1").and_then(Panel::subscription),
            Some(s2)
        );
        assert!(d.subscription(s1).is_none());
        sync(&mut d, &[]);
        assert!(d.panel_by_topic("a/1").is_none());
        assert!(d.groups().is_empty());
        assert!(d.subscriptions().is_empty());
    }

    #[test]
    fn the_panels_of_a_removed_subscription_leave_with_it_unless_pinned() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0), ("b/#", 0)]);
        d.apply_batch(
            [
                msg("a/1", "1", 0.0),
                msg("a/2", "2", 0.0),
                msg("b/1", "3", 0.0),
            ],
            0.0,
        );
        let pinned = d.panel_by_topic("a/2").unwrap().id();
        d.set_pinned(pinned, true);
        let entries = d.stats().history_entries;
        sync(&mut d, &[("b/#", 0)]);
        assert!(d.panel_by_topic("a/1").is_none());
        assert_eq!(d.panel_by_topic("a/2").map(Panel::id), Some(pinned));
        assert_eq!(d.panel_count(), 2);
        assert_eq!(d.stats().history_entries, entries - 1);
        assert_eq!(d.tree().find("a/1"), None);
        assert!(d.tree().find("a/2").is_some());
        assert_eq!(d.pinned(), [pinned]);
        // The topic coming back makes a new panel, in "other".
        d.apply_batch([msg("a/1", "4", 1.0)], 1.0);
        let again = d.panel_by_topic("a/1").unwrap();
        assert_eq!(again.count(), 1);
        assert_eq!(again.subscription(), None);
    }

    #[test]
    fn removing_a_subscription_of_many_topics_removes_them_all_from_every_list() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("many/#", 0), ("keep/#", 0)]);
        let batch: Vec<Incoming> = (0..20_000)
            .map(|i| msg(&format!("many/{i}"), "1", 0.0))
            .chain([msg("keep/x", "1", 0.0)])
            .collect();
        d.apply_batch(batch, 0.0);
        sync(&mut d, &[("keep/#", 0)]);
        assert_eq!(d.panel_count(), 1);
        let groups = d.groups();
        assert_eq!(groups.len(), 1, "no \"other\" group is left behind");
        assert_eq!(topics(&d, &groups[0].panels), ["keep/x"]);
        assert_eq!(d.tree().topic_count(), 1);
    }

    #[test]
    fn every_topic_is_a_tree_node_counting_its_messages_and_retained_marks() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("#", 0)]);
        let mut retained = msg("plant/boiler/temp", "71", 5.0);
        retained.retain = true;
        d.apply_batch(
            [
                retained,
                msg("plant/boiler/temp", "72", 6.0),
                msg("plant/pump", "on", 7.0),
            ],
            7.0,
        );
        let t = d.tree();
        let plant = t.node(t.find("plant").unwrap()).unwrap();
        assert_eq!(
            (plant.topics(), plant.messages(), plant.retained_topics()),
            (2, 3, 1)
        );
        assert_eq!(plant.last_ms(), 7.0);
        // A cleared retained topic (empty payload) loses its mark.
        d.apply_batch([msg("plant/boiler/temp", "", 8.0)], 8.0);
        let t = d.tree();
        assert_eq!(
            t.node(t.find("plant").unwrap()).unwrap().retained_topics(),
            0
        );
    }

    #[test]
    fn a_nodes_panels_are_grouped_by_subscription_with_pinned_ones_left_out() {
        let mut d = Dashboard::default();
        let subs = sync(&mut d, &[("x/+", 0), ("#", 0)]);
        d.apply_batch(
            [
                msg("x/b", "1", 0.0),
                msg("x/a", "1", 0.0),
                msg("x/a/deep", "1", 0.0),
                msg("y", "1", 0.0),
            ],
            0.0,
        );
        let x = d.tree().find("x").unwrap();
        let ids: HashMap<String, PanelId> = d
            .panels()
            .map(|p| (p.topic().to_string(), p.id()))
            .collect();
        let id = |t: &str| ids[t];
        let groups = d.groups_under(x, &TreeFilter::None);
        assert_eq!(groups[0].subscription, Some(subs[0]));
        assert_eq!(groups[0].panels, [id("x/a"), id("x/b")]);
        assert_eq!(groups[1].panels, [id("x/a/deep")]);
        let xa = id("x/a");
        d.set_pinned(xa, true);
        assert_eq!(d.groups_under(x, &TreeFilter::None)[0].panels, [id("x/b")]);
        let deep = TreeFilter::parse("deep").unwrap();
        assert_eq!(d.groups_under(x, &deep)[1].panels, [id("x/a/deep")]);
        assert!(d.groups_under(x, &deep)[0].panels.is_empty());
        assert_eq!(
            d.groups_under(TopicTree::ROOT, &TreeFilter::None)[1].panels,
            [id("x/a/deep"), id("y")]
        );
        d.clear_panels();
        assert!(d.pinned().is_empty());
        assert_eq!(d.tree().topic_count(), 0);
    }

    #[test]
    fn a_later_subscription_claims_panels_from_other() {
        let mut d = Dashboard::default();
        d.apply_batch([msg("x/1", "x", 0.0)], 0.0);
        assert_eq!(d.groups()[0].subscription, None);
        let s = sync(&mut d, &[("x/#", 0)])[0];
        assert_eq!(d.groups().len(), 1);
        assert_eq!(d.groups()[0].subscription, Some(s));
    }

    #[test]
    fn dollar_topics_are_not_grouped_under_a_hash_subscription() {
        let mut d = Dashboard::default();
        let sys = sync(&mut d, &[("#", 0), ("$SYS/#", 0)])[1];
        d.apply_batch([msg("$SYS/broker/uptime", "5", 0.0)], 0.0);
        assert_eq!(
            d.panel_by_topic("$SYS/broker/uptime")
                .and_then(Panel::subscription),
            Some(sys)
        );
    }

    #[test]
    fn a_shared_subscription_groups_the_topics_of_its_filter() {
        let mut d = Dashboard::default();
        let s = sync(&mut d, &[("$share/g/a/+", 1)])[0];
        d.apply_batch([msg("a/1", "x", 0.0)], 0.0);
        assert_eq!(
            d.panel_by_topic("a/1").and_then(Panel::subscription),
            Some(s)
        );
    }

    #[test]
    fn sync_adds_updates_and_removes_to_match_the_owner_exactly() {
        let mut d = Dashboard::default();
        let ids = sync(&mut d, &[("a/#", 0), ("b", 1)]);
        d.apply_batch([msg("a/1", "x", 0.0)], 0.0);
        let colour_a = d.subscription(ids[0]).unwrap().colour();
        d.sync_subscriptions(&[
            state("c", 2, Grant::NotConnected),
            state("a/#", 1, Grant::Granted(1)),
        ]);
        let filters: Vec<&str> = d.subscriptions().iter().map(|s| s.filter()).collect();
        assert_eq!(filters, ["c", "a/#"]);
        let a = d.subscription_by_filter("a/#").unwrap();
        assert_eq!(a.id(), ids[0], "kept its id");
        assert_eq!(a.colour(), colour_a, "kept its colour");
        assert_eq!(a.matched_count(), 1, "kept its count");
        assert_eq!((a.qos(), a.grant()), (1, Grant::Granted(1)));
        assert!(d.subscription_by_filter("b").is_none());
        let c = d.subscription_by_filter("c").unwrap();
        assert_ne!(c.id(), ids[1], "a new filter gets a new id");
        assert_eq!((c.qos(), c.grant()), (2, Grant::NotConnected));
    }

    #[test]
    fn sync_takes_a_filter_listed_twice_once_at_its_first_place() {
        let mut d = Dashboard::default();
        d.sync_subscriptions(&[
            state("a", 0, Grant::Pending),
            state("b", 1, Grant::Pending),
            state("a", 2, Grant::Refused),
        ]);
        let got: Vec<(&str, u8)> = d
            .subscriptions()
            .iter()
            .map(|s| (s.filter(), s.qos()))
            .collect();
        assert_eq!(got, [("a", 0), ("b", 1)]);
    }

    #[test]
    fn sync_of_grants_alone_keeps_panels_and_bumps_the_generation_only_on_change() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 2)]);
        d.apply_batch([msg("a/1", "x", 0.0)], 0.0);
        let g = d.structure_generation();
        sync(&mut d, &[("a/#", 2)]);
        assert_eq!(d.structure_generation(), g, "nothing changed");
        d.sync_subscriptions(&[state("a/#", 2, Grant::Granted(1))]);
        assert!(d.structure_generation() > g);
        assert_eq!(d.groups()[0].panels.len(), 1);
        assert_eq!(d.subscriptions()[0].grant(), Grant::Granted(1));
    }

    #[test]
    fn reordering_subscriptions_regroups_panels_under_the_new_first_match() {
        let mut d = Dashboard::default();
        let ids = sync(&mut d, &[("a/+", 0), ("a/#", 0)]);
        d.apply_batch([msg("a/1", "x", 0.0)], 0.0);
        assert_eq!(sync(&mut d, &[("a/#", 0), ("a/+", 0)]), [ids[1], ids[0]]);
        assert_eq!(
            d.panel_by_topic("a/1").and_then(Panel::subscription),
            Some(ids[1])
        );
    }

    #[test]
    fn grant_labels_say_what_the_broker_answered() {
        let mut d = Dashboard::default();
        let label = |d: &mut Dashboard, qos: u8, grant: Grant| {
            d.sync_subscriptions(&[state("a", qos, grant)]);
            d.subscriptions()[0].grant_label()
        };
        assert_eq!(label(&mut d, 1, Grant::NotConnected), "not connected");
        assert_eq!(label(&mut d, 1, Grant::Pending), "waiting for the broker");
        assert_eq!(label(&mut d, 2, Grant::Granted(2)), "granted QoS 2");
        assert_eq!(label(&mut d, 0, Grant::Granted(1)), "granted QoS 1");
        assert_eq!(
            label(&mut d, 2, Grant::Granted(1)),
            "downgraded: asked QoS 2, granted QoS 1"
        );
        assert_eq!(label(&mut d, 1, Grant::Refused), "refused by the broker");
    }

    #[test]
    fn subscriptions_get_distinct_colours_and_reuse_freed_ones() {
        let mut d = Dashboard::default();
        let [a, b] = sync(&mut d, &[("a", 0), ("b", 0)])[..] else {
            panic!("two subscriptions")
        };
        let ca = d.subscription(a).unwrap().colour();
        assert_ne!(ca, d.subscription(b).unwrap().colour());
        let c = sync(&mut d, &[("b", 0), ("c", 0)])[1];
        assert_eq!(d.subscription(c).unwrap().colour(), ca);
    }

    #[test]
    fn twelve_subscriptions_get_twelve_different_colours() {
        let mut d = Dashboard::default();
        let names: Vec<String> = (0..13).map(|i| format!("t/{i}")).collect();
        let subs: Vec<(&str, u8)> = names.iter().map(|n| (n.as_str(), 0)).collect();
        sync(&mut d, &subs[..12]);
        let colours: HashSet<&str> = d.subscriptions().iter().map(|s| s.colour()).collect();
        assert_eq!(colours.len(), 12);
        assert!(PALETTE.len() >= 12);
        sync(&mut d, &subs);
        assert_eq!(d.subscriptions()[12].colour(), PALETTE[0]);
    }

    #[test]
    fn palette_colours_are_distinct_hex_colours() {
        let set: HashSet<&str> = PALETTE.iter().copied().collect();
        assert_eq!(set.len(), PALETTE.len());
        for c in PALETTE {
            assert!(
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit()),
                "{c}"
            );
        }
    }

    #[test]
    fn matched_count_counts_every_filter_a_topic_matches() {
        let mut d = Dashboard::default();
        let ids = sync(&mut d, &[("a/+", 0), ("a/#", 0), ("b/#", 0)]);
        d.apply_batch(
            [
                msg("a/1", "1", 0.0),
                msg("a/1/x", "2", 0.0),
                msg("b", "3", 0.0),
            ],
            0.0,
        );
        let counts: Vec<u64> = ids
            .iter()
            .map(|id| d.subscription(*id).unwrap().matched_count())
            .collect();
        assert_eq!(counts, [1, 2, 1]);
        assert_eq!(d.subscription(ids[0]).unwrap().panel_ids().len(), 1);
        assert_eq!(d.subscription(ids[1]).unwrap().panel_ids().len(), 1);
        assert_eq!(d.subscription(ids[1]).unwrap().message_count(), 2);
    }

    // ----- overlap copies ---------------------------------------------------

    #[test]
    fn two_copies_from_two_overlapping_subscriptions_are_counted_once() {
        let mut d = Dashboard::default();
        let ids = sync(&mut d, &[("a/#", 0), ("a/+", 1)]);
        let mut copy = msg("a/1", "21.5", 1_010.0);
        copy.qos = 1;
        d.apply_batch([msg("a/1", "21.5", 1_000.0), copy], 1_010.0);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!(p.count(), 1);
        assert_eq!(p.overlap_copies(), 1);
        assert_eq!(p.history().len(), 1);
        assert_eq!(p.series().points_total(), 1);
        for id in &ids {
            assert_eq!(d.subscription(*id).unwrap().matched_count(), 1);
        }
        let s = d.stats();
        assert_eq!((s.messages, s.overlap_copies), (1, 1));
        assert_eq!(s.payload_bytes, 4);
    }

    #[test]
    fn copies_sent_after_a_whole_run_of_messages_are_still_recognised() {
        // rumqttd reading 50 publishes at once sends them all for the first
        // subscription, then all again for the second.
        let mut d = Dashboard::default();
        let ids = sync(&mut d, &[("ov/#", 0), ("ov/+/x", 0)]);
        let texts: Vec<String> = (0..50).map(|i| format!("r{i}")).collect();
        let run = |d: &mut Dashboard, at: f64| {
            let batch: Vec<Incoming> = texts.iter().map(|s| msg("ov/a/x", s, at)).collect();
            d.apply_batch(batch, at);
        };
        run(&mut d, 1_000.0);
        run(&mut d, 1_050.0);
        let p = d.panel_by_topic("ov/a/x").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (50, 50));
        assert_eq!(p.history().len(), 50);
        for id in &ids {
            assert_eq!(d.subscription(*id).unwrap().matched_count(), 50);
        }
        // A third run is no copy: two subscriptions allow one copy each.
        run(&mut d, 1_100.0);
        let p = d.panel_by_topic("ov/a/x").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (100, 50));
    }

    #[test]
    fn a_topic_remembers_a_bounded_number_of_recent_messages() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0), ("a/+", 0)]);
        let batch: Vec<Incoming> = (0..OVERLAP_RECENT + 10)
            .map(|i| msg("a/1", &i.to_string(), 1_000.0))
            .collect();
        d.apply_batch(batch, 1_000.0);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!(p.recent.len(), OVERLAP_RECENT);
        // The oldest have been forgotten: their copies count as messages.
        d.apply_batch([msg("a/1", "0", 1_001.0)], 1_001.0);
        assert_eq!(d.panel_by_topic("a/1").unwrap().overlap_copies(), 0);
    }

    #[test]
    fn the_same_payload_again_after_three_seconds_is_counted() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0), ("a/+", 0)]);
        d.apply_batch([msg("a/1", "on", 1_000.0)], 1_000.0);
        d.apply_batch([msg("a/1", "on", 4_000.0)], 4_000.0);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (2, 0));
        assert_eq!(d.stats().messages, 2);
    }

    #[test]
    fn with_one_matching_subscription_identical_payloads_are_all_counted() {
        let mut d = Dashboard::default();
        let s = sync(&mut d, &[("a/#", 0), ("b/#", 0)])[0];
        d.apply_batch(
            [
                msg("a/1", "on", 0.0),
                msg("a/1", "on", 1.0),
                msg("a/1", "on", 2.0),
            ],
            2.0,
        );
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (3, 0));
        assert_eq!(d.subscription(s).unwrap().matched_count(), 3);
        assert_eq!(d.stats().overlap_copies, 0);
    }

    #[test]
    fn no_more_than_k_minus_one_copies_of_a_message_are_recognised() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0), ("a/+", 0), ("+/1", 0)]);
        let batch: Vec<Incoming> = (0..4).map(|i| msg("a/1", "x", f64::from(i))).collect();
        d.apply_batch(batch, 4.0);
        let p = d.panel_by_topic("a/1").unwrap();
        // k = 3: the original, two copies, then the fourth is a new message.
        assert_eq!((p.count(), p.overlap_copies()), (2, 2));
    }

    #[test]
    fn a_different_payload_or_retain_flag_is_not_a_copy() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0), ("a/+", 0)]);
        let mut retained = msg("a/1", "x", 2.0);
        retained.retain = true;
        d.apply_batch([msg("a/1", "x", 0.0), msg("a/1", "y", 1.0), retained], 2.0);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (3, 0));
    }

    fn with_ids(topic: &str, payload: &str, t: f64, ids: &[u32]) -> Incoming {
        let mut m = msg(topic, payload, t);
        m.properties = Some(Arc::new(crate::PublishProperties {
            subscription_identifiers: ids.to_vec(),
            ..crate::PublishProperties::default()
        }));
        m
    }

    #[test]
    fn subscription_identifiers_tell_copies_from_repeats_exactly() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0), ("a/+", 0)]);
        // One copy per subscription, each with its identifier: the second is
        // a copy. The device then really publishes the same payload again
        // (identifier 1 again): a message, and its copy for 2 a copy.
        d.apply_batch(
            [
                with_ids("a/1", "x", 0.0, &[1]),
                with_ids("a/1", "x", 1.0, &[2]),
                with_ids("a/1", "x", 2.0, &[1]),
                with_ids("a/1", "x", 3.0, &[2]),
            ],
            3.0,
        );
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (2, 2));
        // A broker that sends one copy for both (mosquitto) names both
        // identifiers: each repeat is a message, never a copy.
        let batch: Vec<Incoming> = (0..3)
            .map(|i| with_ids("a/2", "y", f64::from(i), &[1, 2]))
            .collect();
        d.apply_batch(batch, 3.0);
        let p = d.panel_by_topic("a/2").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (3, 0));
        // The count rule alone would have taken the second of these for a copy.
        d.apply_batch(
            [
                with_ids("a/3", "z", 0.0, &[1]),
                with_ids("a/3", "z", 1.0, &[1]),
            ],
            1.0,
        );
        let p = d.panel_by_topic("a/3").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (2, 0));
    }

    #[test]
    fn properties_are_kept_with_the_message_in_the_history_and_the_last() {
        let mut d = Dashboard::default();
        let mut m = with_ids("p/1", "hello", 1.0, &[4]);
        if let Some(p) = m.properties.as_mut().and_then(Arc::get_mut) {
            p.content_type = Some("text/plain".into());
            p.user_properties = vec![("k".into(), "v".into()), ("k".into(), "w".into())];
        }
        d.apply_batch([m, msg("p/1", "plain", 2.0)], 2.0);
        let p = d.panel_by_topic("p/1").unwrap();
        assert!(p.last().unwrap().properties.is_none());
        let first = p.history().get(1).unwrap();
        let props = first.properties.as_deref().unwrap();
        assert_eq!(props.content_type.as_deref(), Some("text/plain"));
        assert_eq!(props.user_properties.len(), 2);
        assert_eq!(props.subscription_identifiers, vec![4]);
        // Charged for what they hold.
        assert!(d.stats().history_bytes > 2 * crate::history::ENTRY_OVERHEAD_BYTES + 10);
    }

    #[test]
    fn retained_copies_for_two_subscriptions_are_counted_once() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("s/#", 0), ("s/+", 2)]);
        let mut first = msg("s/x", "online", 5.0);
        first.retain = true;
        let mut second = first.clone();
        second.qos = 2;
        second.received_ms = 6.0;
        d.apply_batch([first], 5.0);
        d.apply_batch([second], 6.0);
        let p = d.panel_by_topic("s/x").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (1, 1));
        assert_eq!(d.stats().overlap_copies, 1);
    }

    #[test]
    fn the_matching_count_follows_subscription_changes() {
        let mut d = Dashboard::default();
        sync(&mut d, &[("a/#", 0)]);
        d.apply_batch([msg("a/1", "x", 0.0), msg("a/1", "x", 1.0)], 1.0);
        assert_eq!(d.panel_by_topic("a/1").unwrap().count(), 2);
        // A second matching subscription: a message then its copy.
        sync(&mut d, &[("a/#", 0), ("a/+", 0)]);
        d.apply_batch([msg("a/1", "x", 2.0), msg("a/1", "x", 2.5)], 2.5);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (3, 1));
        // Back to one: a repeat is a message again.
        sync(&mut d, &[("a/+", 0)]);
        d.apply_batch([msg("a/1", "x", 3.0)], 3.0);
        let p = d.panel_by_topic("a/1").unwrap();
        assert_eq!((p.count(), p.overlap_copies()), (4, 1));
    }

    // ----- messages not kept ------------------------------------------------

    #[test]
    fn a_message_not_kept_is_counted_described_and_redrawn() {
        let mut d = Dashboard::default();
        assert!(d.last_not_kept().is_none());
        let g = d.generation();
        d.record_not_kept("big/x", 20_000_000, 16_777_216, 5.0);
        assert!(d.generation() > g);
        d.record_not_kept("big/y", 17_000_000, 16_777_216, 6.0);
        assert_eq!(d.stats().not_kept, 2);
        let last = d.last_not_kept().unwrap();
        assert_eq!(last.topic, "big/y");
        assert_eq!(last.at_ms, 6.0);
        let first = NotKept {
            topic: "big/x".into(),
            size: 20_000_000,
            limit: 16_777_216,
            at_ms: 5.0,
        };
        assert_eq!(
            first.describe(),
            "message of 20000000 bytes on topic big/x not kept (limit 16777216)"
        );
        assert_eq!(d.stats().messages, 0);
    }

    #[test]
    fn the_tree_filter_narrows_a_nodes_panels_by_case_insensitive_text() {
        let mut d = Dashboard::default();
        d.apply_batch(
            [
                msg("Home/Kitchen/Temp", "1", 0.0),
                msg("home/garage/door", "1", 0.0),
                msg("office/temp", "1", 0.0),
            ],
            0.0,
        );
        let under = |f: &str| -> Vec<PanelId> {
            let filter = TreeFilter::parse(f).unwrap();
            d.groups_under(TopicTree::ROOT, &filter)
                .into_iter()
                .flat_map(|g| g.panels)
                .collect()
        };
        assert_eq!(
            topics(&d, &under("TEMP")),
            ["Home/Kitchen/Temp", "office/temp"]
        );
        assert_eq!(under("").len(), 3);
        assert!(under("nothing").is_empty());
        assert!(d
            .groups_under(TopicTree::ROOT, &TreeFilter::parse("nothing").unwrap())
            .is_empty());
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
        let s = sync(&mut d, &[("#", 0)])[0];
        d.apply_batch([msg("a", "1", 0.0)], 0.0);
        d.clear_panels();
        assert_eq!(d.panel_count(), 0);
        assert!(d.panel_by_topic("a").is_none());
        assert_eq!(d.subscription(s).unwrap().matched_count(), 0);
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
        sync(&mut d, &[("+/#", 0), ("t/#", 0)]);
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
        assert_eq!(s.messages + s.dropped_new_topics + s.overlap_copies, 5000);
        assert!(s.history_bytes <= 4096);
    }
}
