//! The topic tree: every topic received, as levels (`a/b/c` is `a` › `b` ›
//! `c`), with the messages under each node, their rate, how many retained
//! topics it holds, and when it last received something.
//!
//! The [`Dashboard`](crate::Dashboard) keeps it in step with its panels: a
//! topic's node carries the topic's [`PanelId`]. Recording a message costs
//! O(depth). What the screen shows of the tree (the visible rows, given what
//! is expanded and a filter) is computed on demand by [`TopicTree::rows`],
//! which the views cache until [`TopicTree::generation`] moves; nothing here
//! holds view state such as which nodes are expanded or focused.
//!
//! Node ids are never reused while the tree lives (a removed node is a
//! tombstone), so a view's set of expanded ids cannot point at another node;
//! [`TopicTree::epoch`] moves when the tree is cleared, and views drop their
//! ids then. No IO, no clock, no panics on any topic.

use std::collections::HashSet;
use std::sync::Arc;

use crate::dashboard::PanelId;
use crate::rate::Rate;
use crate::topic::{matches, validate_filter};

/// A node of the tree. The root is [`TopicTree::ROOT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// One level of a topic.
#[derive(Debug, Clone)]
pub struct TreeNode {
    name: Box<str>,
    parent: Option<NodeId>,
    /// Sorted by name.
    children: Vec<NodeId>,
    depth: u16,
    /// The whole topic, when a topic ends at this node.
    topic: Option<Arc<str>>,
    panel: Option<PanelId>,
    topics: u32,
    messages: u64,
    retained_topics: u32,
    retained: bool,
    rate: Rate,
    last_ms: f64,
    alive: bool,
}

impl TreeNode {
    fn new(name: &str, parent: Option<NodeId>, depth: u16) -> Self {
        TreeNode {
            name: name.into(),
            parent,
            children: Vec::new(),
            depth,
            topic: None,
            panel: None,
            topics: 0,
            messages: 0,
            retained_topics: 0,
            retained: false,
            rate: Rate::new(),
            last_ms: f64::NEG_INFINITY,
            alive: true,
        }
    }

    /// The level's name (may be empty: `a//b` has an empty middle level).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Depth below the root (the first level is 1).
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// The parent, `None` for the root.
    pub fn parent(&self) -> Option<NodeId> {
        self.parent
    }

    /// The children, sorted by name.
    pub fn children(&self) -> &[NodeId] {
        &self.children
    }

    /// Whether it has children.
    pub fn has_children(&self) -> bool {
        !self.children.is_empty()
    }

    /// The topic ending at this node, if one does.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// The panel of the topic ending here, if one does.
    pub fn panel(&self) -> Option<PanelId> {
        self.panel
    }

    /// Topics at or under this node.
    pub fn topics(&self) -> u32 {
        self.topics
    }

    /// Messages received at or under this node.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Messages per second at or under this node, at `now_ms`.
    pub fn rate(&self, now_ms: f64) -> f64 {
        self.rate.per_second(now_ms)
    }

    /// Topics at or under this node whose last message came retained.
    pub fn retained_topics(&self) -> u32 {
        self.retained_topics
    }

    /// The topic ending here last came retained (the broker holds it).
    pub fn is_retained(&self) -> bool {
        self.retained
    }

    /// When a message last arrived at or under this node (ms since the
    /// epoch; `-inf` when never).
    pub fn last_ms(&self) -> f64 {
        self.last_ms
    }
}

/// What narrows the tree: an MQTT filter (when the text has `+` or `#`) or
/// a case-insensitive text that the topic must contain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TreeFilter {
    /// Everything.
    #[default]
    None,
    /// Topics matching this MQTT filter.
    Mqtt(String),
    /// Topics containing this text (lowercased).
    Text(String),
}

impl TreeFilter {
    /// Reads what the user typed: empty is no filter; text with `+` or `#`
    /// is an MQTT filter and must be a valid one (the error is a sentence);
    /// anything else is text to find in topics.
    pub fn parse(input: &str) -> Result<TreeFilter, String> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(TreeFilter::None);
        }
        if input.contains(['+', '#']) {
            return match validate_filter(input) {
                Ok(()) => Ok(TreeFilter::Mqtt(input.to_string())),
                Err(e) => Err(e.to_string()),
            };
        }
        // ASCII case only: Unicode's case tables cost the page about 10 KB
        // of its gzipped first load, for topics that are almost always ASCII.
        Ok(TreeFilter::Text(input.to_ascii_lowercase()))
    }

    /// Whether `topic` passes.
    pub fn accepts(&self, topic: &str) -> bool {
        match self {
            TreeFilter::None => true,
            TreeFilter::Mqtt(f) => matches(topic, f),
            TreeFilter::Text(t) => contains_ignoring_case(topic, t),
        }
    }

    /// Whether this filters anything.
    pub fn is_none(&self) -> bool {
        matches!(self, TreeFilter::None)
    }
}

/// Whether `hay` contains `needle` (already ASCII-lowercase), ignoring the
/// case of ASCII letters; other characters match as they are.
fn contains_ignoring_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// A row of the tree as displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The node.
    pub node: NodeId,
    /// Whether it shows its children (always, under a filter).
    pub expanded: bool,
}

/// A key pressed on the tree, per the WAI-ARIA tree pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeKey {
    /// Next visible row.
    Down,
    /// Previous visible row.
    Up,
    /// Expand, or go to the first child when expanded.
    Right,
    /// Collapse, or go to the parent when collapsed.
    Left,
    /// First row.
    Home,
    /// Last row.
    End,
    /// Type-ahead: the next row whose name starts with this text.
    Type(String),
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Focus this node.
    Focus(NodeId),
    /// Expand this node (focus stays).
    Expand(NodeId),
    /// Collapse this node (focus stays).
    Collapse(NodeId),
    /// Nothing to do.
    Stay,
}

/// The topic tree.
#[derive(Debug, Clone)]
pub struct TopicTree {
    nodes: Vec<TreeNode>,
    generation: u64,
    epoch: u64,
}

impl Default for TopicTree {
    fn default() -> Self {
        TopicTree::new()
    }
}

impl TopicTree {
    /// The root: every topic is under it.
    pub const ROOT: NodeId = NodeId(0);

    /// An empty tree.
    pub fn new() -> Self {
        TopicTree {
            nodes: vec![TreeNode::new("", None, 0)],
            generation: 0,
            epoch: 0,
        }
    }

    /// Moves when nodes come or go (not when counts change).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Moves when the tree is cleared: node ids from before mean nothing.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Empties the tree.
    pub fn clear(&mut self) {
        let epoch = self.epoch.wrapping_add(1);
        let generation = self.generation.wrapping_add(1);
        *self = TopicTree::new();
        self.epoch = epoch;
        self.generation = generation;
    }

    /// A live node.
    pub fn node(&self, id: NodeId) -> Option<&TreeNode> {
        self.nodes.get(id.index()).filter(|n| n.alive)
    }

    fn node_mut(&mut self, id: NodeId) -> Option<&mut TreeNode> {
        self.nodes.get_mut(id.index()).filter(|n| n.alive)
    }

    /// Topics in the tree.
    pub fn topic_count(&self) -> u32 {
        self.nodes.first().map_or(0, |r| r.topics)
    }

    /// Adds `topic` (with its panel) and the levels leading to it; returns
    /// its node. Adding a topic that is there already only returns it.
    pub fn insert(&mut self, topic: &Arc<str>, panel: PanelId) -> NodeId {
        let mut at = Self::ROOT;
        for (depth, level) in topic.split('/').enumerate() {
            at = self.child_or_insert(at, level, depth.saturating_add(1));
        }
        let mut added = false;
        if let Some(n) = self.node_mut(at) {
            if n.topic.is_none() {
                n.topic = Some(Arc::clone(topic));
                added = true;
            }
            n.panel = Some(panel);
        }
        if added {
            self.walk_up(at, |n| n.topics = n.topics.saturating_add(1));
            self.generation = self.generation.wrapping_add(1);
        }
        at
    }

    fn child_or_insert(&mut self, parent: NodeId, name: &str, depth: usize) -> NodeId {
        let pos = {
            let nodes = &self.nodes;
            let Some(p) = nodes.get(parent.index()) else {
                return parent;
            };
            match p
                .children
                .binary_search_by(|c| nodes.get(c.index()).map_or("", |n| &*n.name).cmp(name))
            {
                Ok(i) => return p.children.get(i).copied().unwrap_or(parent),
                Err(i) => i,
            }
        };
        let Ok(raw) = u32::try_from(self.nodes.len()) else {
            return parent;
        };
        let id = NodeId(raw);
        let depth = u16::try_from(depth).unwrap_or(u16::MAX);
        self.nodes.push(TreeNode::new(name, Some(parent), depth));
        if let Some(p) = self.nodes.get_mut(parent.index()) {
            p.children.insert(pos, id);
        }
        self.generation = self.generation.wrapping_add(1);
        id
    }

    fn walk_up(&mut self, from: NodeId, mut f: impl FnMut(&mut TreeNode)) {
        let mut at = Some(from);
        while let Some(id) = at {
            let Some(n) = self.nodes.get_mut(id.index()) else {
                return;
            };
            f(n);
            at = n.parent;
        }
    }

    /// Records one message on the topic of `leaf` received at `t_ms`: the
    /// counts and rates of the node and its ancestors, and the retained mark
    /// (a retained message with a payload sets it; an empty one, which
    /// clears a retained topic at the broker, and a message that came
    /// live both unset it, since a live copy says nothing about the store
    /// but an empty retained one does — see `retain_mark`).
    pub fn record(&mut self, leaf: NodeId, t_ms: f64, retain_mark: Option<bool>) {
        let was = self.node(leaf).is_some_and(|n| n.retained);
        let now_retained = retain_mark.unwrap_or(was);
        if let Some(n) = self.node_mut(leaf) {
            n.retained = now_retained;
        }
        let delta: i64 = match (was, now_retained) {
            (false, true) => 1,
            (true, false) => -1,
            _ => 0,
        };
        self.walk_up(leaf, |n| {
            n.messages = n.messages.saturating_add(1);
            n.rate.record(t_ms);
            if t_ms > n.last_ms {
                n.last_ms = t_ms;
            }
            n.retained_topics = match delta {
                1 => n.retained_topics.saturating_add(1),
                -1 => n.retained_topics.saturating_sub(1),
                _ => n.retained_topics,
            };
        });
    }

    /// Removes the topic of `leaf`: its counts leave its ancestors, and
    /// levels left with no topic under them go.
    pub fn remove(&mut self, leaf: NodeId) {
        let Some(n) = self.node(leaf) else { return };
        if n.topic.is_none() {
            return;
        }
        let (messages, retained) = (n.messages_own(self), n.retained);
        self.walk_up(leaf, |n| {
            n.topics = n.topics.saturating_sub(1);
            n.messages = n.messages.saturating_sub(messages);
            if retained {
                n.retained_topics = n.retained_topics.saturating_sub(1);
            }
        });
        if let Some(n) = self.node_mut(leaf) {
            n.topic = None;
            n.panel = None;
            n.retained = false;
        }
        // Drop the levels that hold nothing any more, from the leaf up.
        let mut at = leaf;
        while at != Self::ROOT {
            let Some(n) = self.node(at) else { break };
            if n.topics > 0 {
                break;
            }
            let parent = n.parent.unwrap_or(Self::ROOT);
            if let Some(n) = self.nodes.get_mut(at.index()) {
                n.alive = false;
                n.children.clear();
            }
            if let Some(p) = self.nodes.get_mut(parent.index()) {
                p.children.retain(|c| *c != at);
            }
            at = parent;
        }
        self.generation = self.generation.wrapping_add(1);
    }

    /// The node of a topic, if it is in the tree.
    pub fn find(&self, topic: &str) -> Option<NodeId> {
        let mut at = Self::ROOT;
        for level in topic.split('/') {
            let n = self.node(at)?;
            let i = n
                .children
                .binary_search_by(|c| self.node(*c).map_or("", |x| &*x.name).cmp(level))
                .ok()?;
            at = *n.children.get(i)?;
        }
        (at != Self::ROOT).then_some(at)
    }

    /// The levels from the first to `id`, joined with `/` (the topic, or the
    /// prefix a node stands for). Empty for the root.
    pub fn path(&self, id: NodeId) -> String {
        let mut names = Vec::new();
        let mut at = Some(id);
        while let Some(i) = at {
            if i == Self::ROOT {
                break;
            }
            let Some(n) = self.node(i) else { break };
            names.push(&*n.name);
            at = n.parent;
        }
        names.reverse();
        names.join("/")
    }

    /// Every node from the root down to `id`'s parent (what must be
    /// expanded for `id` to show).
    pub fn ancestors(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut at = self.node(id).and_then(|n| n.parent);
        while let Some(i) = at {
            out.push(i);
            at = self.node(i).and_then(|n| n.parent);
        }
        out.reverse();
        out
    }

    /// Calls `f` on every live node under `id` (itself included), parents
    /// before children, siblings by name.
    fn each_under(&self, id: NodeId, mut f: impl FnMut(NodeId, &TreeNode)) {
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            let Some(n) = self.node(at) else { continue };
            f(at, n);
            stack.extend(n.children.iter().rev().copied());
        }
    }

    /// The panels of every topic at or under `id`, in tree order.
    pub fn panels_under(&self, id: NodeId) -> Vec<PanelId> {
        let mut out = Vec::new();
        self.each_under(id, |_, n| out.extend(n.panel));
        out
    }

    /// The topics at or under `id` whose last message came retained, in tree
    /// order (what "Clear retained" on that node would clear).
    pub fn retained_under(&self, id: NodeId) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        self.each_under(id, |_, n| {
            if n.retained {
                out.extend(n.topic.clone());
            }
        });
        out
    }

    /// The rows on screen: the root's children and, under each expanded
    /// node, its children, in tree order. Under a filter, only nodes with a
    /// passing topic at or under them show, all expanded.
    pub fn rows(&self, expanded: &HashSet<NodeId>, filter: &TreeFilter) -> Vec<Row> {
        let mut out = Vec::new();
        if filter.is_none() {
            let mut stack: Vec<NodeId> =
                self.children_of(Self::ROOT).iter().rev().copied().collect();
            while let Some(at) = stack.pop() {
                let Some(n) = self.node(at) else { continue };
                let open = n.has_children() && expanded.contains(&at);
                out.push(Row {
                    node: at,
                    expanded: open,
                });
                if open {
                    stack.extend(n.children.iter().rev().copied());
                }
            }
            return out;
        }
        let keep = self.passing(filter);
        let mut stack: Vec<NodeId> = self.children_of(Self::ROOT).iter().rev().copied().collect();
        while let Some(at) = stack.pop() {
            if !keep.get(at.index()).copied().unwrap_or(false) {
                continue;
            }
            let Some(n) = self.node(at) else { continue };
            let open = n.has_children()
                && n.children
                    .iter()
                    .any(|c| keep.get(c.index()).copied().unwrap_or(false));
            out.push(Row {
                node: at,
                expanded: open,
            });
            stack.extend(n.children.iter().rev().copied());
        }
        out
    }

    fn children_of(&self, id: NodeId) -> &[NodeId] {
        self.node(id).map_or(&[], |n| &n.children)
    }

    /// For each node index: whether a topic passing `filter` is at or under it.
    fn passing(&self, filter: &TreeFilter) -> Vec<bool> {
        let mut keep = vec![false; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            let passes = n.alive && n.topic.as_deref().is_some_and(|t| filter.accepts(t));
            if !passes {
                continue;
            }
            let mut at = Some(NodeId(u32::try_from(i).unwrap_or(0)));
            while let Some(id) = at {
                let Some(slot) = keep.get_mut(id.index()) else {
                    break;
                };
                if *slot {
                    break;
                }
                *slot = true;
                at = self.node(id).and_then(|n| n.parent);
            }
        }
        keep
    }

    /// What `key` does with the focus on `focus`, among `rows` (as
    /// [`TopicTree::rows`] gave them).
    pub fn navigate(&self, rows: &[Row], focus: NodeId, key: &TreeKey) -> Move {
        let pos = rows.iter().position(|r| r.node == focus);
        let at = |i: usize| rows.get(i).map_or(Move::Stay, |r| Move::Focus(r.node));
        let Some(pos) = pos else {
            return rows.first().map_or(Move::Stay, |r| Move::Focus(r.node));
        };
        let row = rows.get(pos).copied();
        match key {
            TreeKey::Down => at(pos.saturating_add(1)),
            TreeKey::Up => pos.checked_sub(1).map_or(Move::Stay, at),
            TreeKey::Home => at(0),
            TreeKey::End => rows.len().checked_sub(1).map_or(Move::Stay, at),
            TreeKey::Right => match row {
                Some(r) if r.expanded => at(pos.saturating_add(1)),
                Some(r) if self.node(r.node).is_some_and(|n| n.has_children()) => {
                    Move::Expand(r.node)
                }
                _ => Move::Stay,
            },
            TreeKey::Left => match row {
                Some(r) if r.expanded => Move::Collapse(r.node),
                // To the parent, when it is a row (the root may be one).
                Some(r) => match self.node(r.node).and_then(|n| n.parent) {
                    Some(p) if rows.iter().any(|x| x.node == p) => Move::Focus(p),
                    _ => Move::Stay,
                },
                None => Move::Stay,
            },
            TreeKey::Type(text) => {
                let text = text.to_ascii_lowercase();
                if text.is_empty() {
                    return Move::Stay;
                }
                // From the row after the focus, wrapping; a longer prefix
                // typed fast may still match the focused row itself.
                let start = if text.chars().count() > 1 {
                    pos
                } else {
                    pos + 1
                };
                (0..rows.len())
                    .map(|k| (start + k) % rows.len())
                    .find(|&i| {
                        rows.get(i)
                            .and_then(|r| self.node(r.node))
                            .is_some_and(|n| {
                                n.name
                                    .get(..text.len())
                                    .is_some_and(|p| p.eq_ignore_ascii_case(&text))
                            })
                    })
                    .map_or(Move::Stay, at)
            }
        }
    }
}

impl TreeNode {
    /// Messages counted at this node's own topic: its count minus its
    /// children's.
    fn messages_own(&self, tree: &TopicTree) -> u64 {
        let under: u64 = self
            .children
            .iter()
            .filter_map(|c| tree.node(*c))
            .map(|c| c.messages)
            .sum();
        self.messages.saturating_sub(under)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(topics: &[&str]) -> (TopicTree, Vec<NodeId>) {
        let mut t = TopicTree::new();
        let ids = topics
            .iter()
            .enumerate()
            .map(|(i, topic)| t.insert(&Arc::from(*topic), PanelId::new(i as u32)))
            .collect();
        (t, ids)
    }

    fn names(t: &TopicTree, rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                let n = t.node(r.node).unwrap();
                format!("{}{}", "  ".repeat(n.depth() as usize - 1), n.name())
            })
            .collect()
    }

    fn all_expanded(t: &TopicTree) -> HashSet<NodeId> {
        (0..t.nodes.len() as u32).map(NodeId).collect()
    }

    #[test]
    fn topics_become_levels_sorted_by_name_with_topic_counts() {
        let (t, _) = tree_of(&["b/x", "a/z", "a/y/1", "a/y"]);
        let rows = t.rows(&all_expanded(&t), &TreeFilter::None);
        assert_eq!(names(&t, &rows), ["a", "  y", "    1", "  z", "b", "  x"]);
        let a = t.find("a").unwrap();
        assert_eq!(t.node(a).unwrap().topics(), 3);
        assert_eq!(t.topic_count(), 4);
        // `a/y` is both a topic and a level with children.
        let y = t.find("a/y").unwrap();
        assert_eq!(t.node(y).unwrap().topic(), Some("a/y"));
        assert!(t.node(y).unwrap().has_children());
    }

    #[test]
    fn only_the_children_of_expanded_nodes_are_rows() {
        let (t, _) = tree_of(&["a/b/c", "a/d", "e"]);
        let none = t.rows(&HashSet::new(), &TreeFilter::None);
        assert_eq!(names(&t, &none), ["a", "e"]);
        assert!(!none[0].expanded);
        let a: HashSet<_> = [t.find("a").unwrap()].into();
        assert_eq!(
            names(&t, &t.rows(&a, &TreeFilter::None)),
            ["a", "  b", "  d", "e"]
        );
    }

    #[test]
    fn a_message_counts_at_its_node_and_every_ancestor_with_a_rate() {
        let (mut t, ids) = tree_of(&["a/b", "a/c"]);
        t.record(ids[0], 10_000.0, Some(false));
        t.record(ids[0], 10_100.0, Some(false));
        t.record(ids[1], 10_200.0, Some(false));
        let a = t.node(t.find("a").unwrap()).unwrap();
        assert_eq!(a.messages(), 3);
        assert_eq!(a.last_ms(), 10_200.0);
        assert!(a.rate(10_500.0) > 0.0);
        assert_eq!(t.node(ids[0]).unwrap().messages(), 2);
        assert_eq!(t.node(TopicTree::ROOT).unwrap().messages(), 3);
    }

    #[test]
    fn retained_marks_are_counted_up_the_tree_and_cleared_by_an_empty_retained_message() {
        let (mut t, ids) = tree_of(&["a/b", "a/c", "d"]);
        t.record(ids[0], 1.0, Some(true));
        t.record(ids[1], 1.0, Some(true));
        t.record(ids[2], 1.0, Some(false));
        let a = t.find("a").unwrap();
        assert_eq!(t.node(a).unwrap().retained_topics(), 2);
        assert_eq!(&*t.retained_under(a)[0], "a/b");
        assert_eq!(t.retained_under(TopicTree::ROOT).len(), 2);
        // A second retained copy does not count twice.
        t.record(ids[0], 2.0, Some(true));
        assert_eq!(t.node(a).unwrap().retained_topics(), 2);
        t.record(ids[0], 3.0, Some(false));
        assert_eq!(t.node(a).unwrap().retained_topics(), 1);
        // No news about the store keeps the mark.
        t.record(ids[1], 4.0, None);
        assert_eq!(t.node(a).unwrap().retained_topics(), 1);
    }

    #[test]
    fn removing_a_topic_drops_its_counts_and_the_levels_left_empty() {
        let (mut t, ids) = tree_of(&["a/b/c", "a/d"]);
        t.record(ids[0], 1.0, Some(true));
        t.record(ids[1], 1.0, Some(false));
        let gen = t.generation();
        t.remove(ids[0]);
        assert!(t.generation() != gen);
        assert_eq!(t.find("a/b"), None);
        assert!(t.node(ids[0]).is_none());
        let a = t.node(t.find("a").unwrap()).unwrap();
        assert_eq!((a.topics(), a.messages(), a.retained_topics()), (1, 1, 0));
        t.remove(ids[1]);
        assert_eq!(t.find("a"), None);
        assert_eq!(t.topic_count(), 0);
        // A topic coming back gets a fresh node.
        let again = t.insert(&Arc::from("a/d"), PanelId::new(9));
        assert_ne!(again, ids[1]);
        assert_eq!(t.node(again).unwrap().panel(), Some(PanelId::new(9)));
    }

    #[test]
    fn removing_a_topic_that_has_children_keeps_the_level_for_them() {
        let (mut t, ids) = tree_of(&["a", "a/b"]);
        t.record(ids[0], 1.0, Some(false));
        t.record(ids[1], 1.0, Some(false));
        t.remove(ids[0]);
        let a = t.find("a").unwrap();
        assert_eq!(t.node(a).unwrap().topic(), None);
        assert_eq!(t.node(a).unwrap().messages(), 1);
        assert_eq!(t.find("a/b"), Some(ids[1]));
    }

    #[test]
    fn the_panels_under_a_node_are_exactly_its_subtree_in_tree_order() {
        let (t, _) = tree_of(&["x/2", "x/1", "y/1", "x"]);
        let x = t.find("x").unwrap();
        assert_eq!(
            t.panels_under(x),
            [PanelId::new(3), PanelId::new(1), PanelId::new(0)]
        );
        assert_eq!(t.panels_under(TopicTree::ROOT).len(), 4);
    }

    #[test]
    fn an_mqtt_filter_shows_matching_topics_with_their_levels_expanded() {
        let (t, _) = tree_of(&[
            "load/a/dev-321/t",
            "load/b/dev-321/x/y",
            "load/a/dev-1/t",
            "z",
        ]);
        let f = TreeFilter::parse("load/+/dev-321/#").unwrap();
        let rows = t.rows(&HashSet::new(), &f);
        assert_eq!(
            names(&t, &rows),
            [
                "load",
                "  a",
                "    dev-321",
                "      t",
                "  b",
                "    dev-321",
                "      x",
                "        y"
            ]
        );
        assert!(rows[0].expanded);
        assert!(!rows[3].expanded);
    }

    #[test]
    fn a_text_filter_finds_topics_containing_it_ignoring_case() {
        let (t, _) = tree_of(&["Plant/Boiler/temp", "plant/pump", "office/TEMP"]);
        let rows = t.rows(&HashSet::new(), &TreeFilter::parse("temp").unwrap());
        assert_eq!(
            names(&t, &rows),
            ["Plant", "  Boiler", "    temp", "office", "  TEMP"]
        );
        let rows = t.rows(&HashSet::new(), &TreeFilter::parse("nothing").unwrap());
        assert!(rows.is_empty());
    }

    #[test]
    fn a_text_filter_matches_non_ascii_text_as_typed() {
        let (t, _) = tree_of(&["工厂/温度", "Café/Temp"]);
        let rows = t.rows(&HashSet::new(), &TreeFilter::parse("温度").unwrap());
        assert_eq!(names(&t, &rows), ["工厂", "  温度"]);
        // ASCII letters ignore case; others match as typed.
        let rows = t.rows(&HashSet::new(), &TreeFilter::parse("CAFé").unwrap());
        assert_eq!(names(&t, &rows), ["Café", "  Temp"]);
        let rows = t.rows(&HashSet::new(), &TreeFilter::parse("CAFÉ").unwrap());
        assert!(rows.is_empty());
    }

    #[test]
    fn an_invalid_mqtt_filter_is_refused_with_a_sentence() {
        let e = TreeFilter::parse("a/#/b").unwrap_err();
        assert!(e.contains('#'), "{e}");
        assert_eq!(TreeFilter::parse("  ").unwrap(), TreeFilter::None);
    }

    #[test]
    fn arrow_keys_move_expand_and_collapse_as_in_the_aria_tree_pattern() {
        let (t, _) = tree_of(&["a/b", "a/c", "d"]);
        let a = t.find("a").unwrap();
        let b = t.find("a/b").unwrap();
        let d = t.find("d").unwrap();
        let closed = t.rows(&HashSet::new(), &TreeFilter::None);
        assert_eq!(t.navigate(&closed, a, &TreeKey::Down), Move::Focus(d));
        assert_eq!(t.navigate(&closed, a, &TreeKey::Up), Move::Stay);
        assert_eq!(t.navigate(&closed, a, &TreeKey::Right), Move::Expand(a));
        assert_eq!(t.navigate(&closed, d, &TreeKey::Right), Move::Stay);
        let open = t.rows(&[a].into(), &TreeFilter::None);
        assert_eq!(t.navigate(&open, a, &TreeKey::Right), Move::Focus(b));
        assert_eq!(t.navigate(&open, b, &TreeKey::Left), Move::Focus(a));
        assert_eq!(t.navigate(&open, a, &TreeKey::Left), Move::Collapse(a));
        assert_eq!(t.navigate(&open, b, &TreeKey::End), Move::Focus(d));
        assert_eq!(t.navigate(&open, d, &TreeKey::Home), Move::Focus(a));
    }

    #[test]
    fn typing_moves_to_the_next_row_whose_name_starts_with_the_text() {
        let (t, _) = tree_of(&["alpha", "beta", "bravo", "charlie"]);
        let rows = t.rows(&HashSet::new(), &TreeFilter::None);
        let id = |s| t.find(s).unwrap();
        assert_eq!(
            t.navigate(&rows, id("alpha"), &TreeKey::Type("b".into())),
            Move::Focus(id("beta"))
        );
        assert_eq!(
            t.navigate(&rows, id("beta"), &TreeKey::Type("b".into())),
            Move::Focus(id("bravo"))
        );
        assert_eq!(
            t.navigate(&rows, id("bravo"), &TreeKey::Type("B".into())),
            Move::Focus(id("beta"))
        );
        assert_eq!(
            t.navigate(&rows, id("beta"), &TreeKey::Type("be".into())),
            Move::Focus(id("beta"))
        );
        assert_eq!(
            t.navigate(&rows, id("beta"), &TreeKey::Type("z".into())),
            Move::Stay
        );
    }

    #[test]
    fn odd_topics_with_empty_levels_and_a_leading_slash_have_their_levels() {
        let (t, _) = tree_of(&["/a", "a//b", "$SYS/broker/uptime"]);
        assert_eq!(t.path(t.find("/a").unwrap()), "/a");
        assert_eq!(t.path(t.find("a//b").unwrap()), "a//b");
        assert_eq!(t.node(t.find("a/").unwrap()).unwrap().name(), "");
        assert_eq!(t.ancestors(t.find("a//b").unwrap()).len(), 3);
    }

    #[test]
    fn clearing_moves_the_epoch_so_views_drop_their_node_ids() {
        let (mut t, _) = tree_of(&["a"]);
        let e = t.epoch();
        t.clear();
        assert_ne!(t.epoch(), e);
        assert_eq!(t.topic_count(), 0);
        assert_eq!(t.find("a"), None);
    }

    #[test]
    fn a_hundred_thousand_topics_cost_nothing_to_list_while_collapsed() {
        let mut t = TopicTree::new();
        for i in 0..100_000u32 {
            t.insert(
                &Arc::from(format!("site-{}/dev-{i}/temp", i % 10)),
                PanelId::new(i),
            );
        }
        assert_eq!(t.topic_count(), 100_000);
        assert_eq!(t.rows(&HashSet::new(), &TreeFilter::None).len(), 10);
        let site = t.find("site-3").unwrap();
        assert_eq!(t.node(site).unwrap().topics(), 10_000);
    }
}
