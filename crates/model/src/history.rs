//! A panel's history of earlier messages: a ring buffer capped both by the
//! number of entries and by the bytes they hold, counting what the caps
//! dropped so the UI can say so.
//!
//! Pushing and evicting are O(1) amortized; the payloads are reference-counted
//! `Bytes`, never copied. Each entry is charged its payload length plus
//! [`ENTRY_OVERHEAD_BYTES`], so that a flood of empty payloads is bounded too,
//! plus what its MQTT 5 properties hold, if any (see
//! [`crate::properties::properties_cost`]). Nothing here renders a payload.

use bytes::Bytes;
use mqtt_session::PublishProperties;
use std::collections::VecDeque;
use std::sync::Arc;

/// What one entry costs beyond its payload (the entry, the `Bytes` handle and
/// its shared header), charged against the byte caps.
pub const ENTRY_OVERHEAD_BYTES: usize = 64;

/// One earlier message of a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The payload, shared with the panel's last message.
    pub payload: Bytes,
    /// When the page received it (ms since the Unix epoch).
    pub received_ms: f64,
    /// QoS it was delivered with.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// DUP flag.
    pub dup: bool,
    /// MQTT 5 properties, if the message carried any (shared with the
    /// panel's last message).
    pub properties: Option<Arc<PublishProperties>>,
    /// The decoded payload, when a decoder rule matched its topic (shared
    /// with the panel's last message).
    pub decoded: Option<Arc<crate::decoding::Decoded>>,
}

impl HistoryEntry {
    /// What the diff and the payload search read: the decoder's JSON when a
    /// decoder read the payload, else the payload itself.
    pub fn readable(&self) -> &[u8] {
        self.decoded
            .as_deref()
            .and_then(|d| d.json())
            .unwrap_or(&self.payload)
    }

    /// The bytes this entry is charged against the caps.
    pub fn cost(&self) -> usize {
        let props = self
            .properties
            .as_deref()
            .map_or(0, crate::properties::properties_cost);
        let decoded = self.decoded.as_deref().map_or(0, |d| d.cost());
        self.payload
            .len()
            .saturating_add(ENTRY_OVERHEAD_BYTES)
            .saturating_add(props)
            .saturating_add(decoded)
    }
}

/// What [`History::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushOutcome {
    /// Whether the new entry was kept (an entry larger than the byte cap on
    /// its own is not, and counts as dropped).
    pub stored: bool,
    /// How many older entries were evicted to make room.
    pub evicted: usize,
    /// The bytes (as charged) released by the eviction, plus the new entry's
    /// cost when it was not stored.
    pub released_bytes: usize,
}

/// A ring buffer of [`HistoryEntry`], capped by count and by bytes.
#[derive(Debug, Clone)]
pub struct History {
    entries: VecDeque<HistoryEntry>,
    max_len: usize,
    max_bytes: usize,
    bytes: usize,
    dropped: u64,
    next_seq: u64,
}

impl History {
    /// An empty history keeping at most `max_len` entries and `max_bytes`
    /// bytes (as charged). A cap of 0 keeps nothing.
    pub fn new(max_len: usize, max_bytes: usize) -> Self {
        History {
            entries: VecDeque::new(),
            max_len,
            max_bytes,
            bytes: 0,
            dropped: 0,
            next_seq: 0,
        }
    }

    /// Appends the newest entry and evicts the oldest ones until both caps
    /// hold again.
    pub fn push(&mut self, entry: HistoryEntry) -> PushOutcome {
        let cost = entry.cost();
        if self.max_len == 0 || cost > self.max_bytes {
            self.dropped = self.dropped.saturating_add(1);
            return PushOutcome {
                stored: false,
                evicted: 0,
                released_bytes: cost,
            };
        }
        self.entries.push_back(entry);
        self.next_seq = self.next_seq.wrapping_add(1);
        self.bytes = self.bytes.saturating_add(cost);
        let mut outcome = PushOutcome {
            stored: true,
            ..PushOutcome::default()
        };
        while self.entries.len() > self.max_len || self.bytes > self.max_bytes {
            match self.pop_oldest() {
                Some(released) => {
                    outcome.evicted += 1;
                    outcome.released_bytes = outcome.released_bytes.saturating_add(released);
                }
                None => break,
            }
        }
        outcome
    }

    /// Evicts the oldest entry (counted as dropped) and returns the bytes it
    /// was charged, or `None` when empty. Used by the dashboard's global cap.
    pub fn pop_oldest(&mut self) -> Option<usize> {
        let old = self.entries.pop_front()?;
        let cost = old.cost();
        // Under the global cap a history can shrink far below its own cap:
        // give back the spare capacity (amortized O(1)).
        let cap = self.entries.capacity();
        if cap > 32 && self.entries.len() < cap / 4 {
            self.entries.shrink_to(cap / 2);
        }
        self.bytes = self.bytes.saturating_sub(cost);
        self.dropped = self.dropped.saturating_add(1);
        Some(cost)
    }

    /// The sequence number the next stored entry will get (stored entries
    /// are numbered from 0 in push order; an entry not stored takes none).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The sequence number of the oldest entry still held (equal to
    /// [`History::next_seq`] when empty).
    pub fn oldest_seq(&self) -> u64 {
        self.next_seq.wrapping_sub(self.entries.len() as u64)
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held, as charged (payload lengths plus per-entry overhead).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many entries the caps dropped since the history was created.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The entry cap.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The byte cap.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The entries, newest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &HistoryEntry> + ExactSizeIterator {
        self.entries.iter().rev()
    }

    /// The `i`-th entry counting from the newest (0 = newest), for a list
    /// that renders only its visible rows.
    pub fn get(&self, i: usize) -> Option<&HistoryEntry> {
        let len = self.entries.len();
        if i >= len {
            return None;
        }
        self.entries.get(len - 1 - i)
    }

    /// The newest entry.
    pub fn newest(&self) -> Option<&HistoryEntry> {
        self.entries.back()
    }

    /// Drops every entry without counting them as dropped by the caps.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(payload: &'static [u8], t: f64) -> HistoryEntry {
        HistoryEntry {
            payload: Bytes::from_static(payload),
            received_ms: t,
            qos: 0,
            retain: false,
            dup: false,
            properties: None,
            decoded: None,
        }
    }

    #[test]
    fn properties_are_charged_against_the_byte_cap() {
        let mut e = entry(b"abc", 0.0);
        assert_eq!(e.cost(), 3 + ENTRY_OVERHEAD_BYTES);
        e.properties = Some(Arc::new(PublishProperties {
            user_properties: vec![("k".repeat(1000), "v".repeat(1000))],
            ..PublishProperties::default()
        }));
        assert!(e.cost() > 2000 + 3 + ENTRY_OVERHEAD_BYTES);
        let mut h = History::new(10, 1500);
        assert!(!h.push(e).stored);
    }

    #[test]
    fn count_cap_evicts_the_oldest_and_counts_it_dropped() {
        let mut h = History::new(2, 1 << 20);
        h.push(entry(b"1", 1.0));
        h.push(entry(b"2", 2.0));
        let out = h.push(entry(b"3", 3.0));
        assert_eq!(out.evicted, 1);
        assert_eq!(h.len(), 2);
        assert_eq!(h.dropped(), 1);
        let order: Vec<&[u8]> = h.iter().map(|e| &e.payload[..]).collect();
        assert_eq!(order, vec![&b"3"[..], &b"2"[..]]);
    }

    #[test]
    fn byte_cap_evicts_until_the_total_fits() {
        let cap = 3 * (ENTRY_OVERHEAD_BYTES + 10);
        let mut h = History::new(100, cap);
        for _ in 0..3 {
            h.push(entry(b"0123456789", 0.0));
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.bytes(), cap);
        let out = h.push(entry(b"0123456789", 1.0));
        assert_eq!(out.evicted, 1);
        assert_eq!(h.len(), 3);
        assert_eq!(h.bytes(), cap);
        let out = h.push(entry(b"0123456789x", 2.0));
        assert_eq!(out.evicted, 2);
        assert_eq!(h.len(), 2);
        assert!(h.bytes() <= cap);
        assert_eq!(h.dropped(), 3);
    }

    #[test]
    fn an_entry_larger_than_the_byte_cap_is_dropped_not_stored() {
        let mut h = History::new(10, ENTRY_OVERHEAD_BYTES + 2);
        h.push(entry(b"ok", 0.0));
        let out = h.push(entry(b"too big", 1.0));
        assert!(!out.stored);
        assert_eq!(h.len(), 1);
        assert_eq!(h.dropped(), 1);
        assert_eq!(h.newest().map(|e| &e.payload[..]), Some(&b"ok"[..]));
    }

    #[test]
    fn get_indexes_from_the_newest_and_returns_none_past_the_end() {
        let mut h = History::new(10, 1 << 20);
        h.push(entry(b"a", 0.0));
        h.push(entry(b"b", 1.0));
        assert_eq!(h.get(0).map(|e| &e.payload[..]), Some(&b"b"[..]));
        assert_eq!(h.get(1).map(|e| &e.payload[..]), Some(&b"a"[..]));
        assert!(h.get(2).is_none());
    }

    #[test]
    fn sequence_numbers_track_the_oldest_entry_held() {
        let mut h = History::new(2, 1 << 20);
        assert_eq!(h.oldest_seq(), 0);
        h.push(entry(b"a", 0.0));
        h.push(entry(b"b", 0.0));
        h.push(entry(b"c", 0.0));
        assert_eq!(h.next_seq(), 3);
        assert_eq!(h.oldest_seq(), 1);
        assert_eq!(h.pop_oldest(), Some(ENTRY_OVERHEAD_BYTES + 1));
        assert_eq!(h.oldest_seq(), 2);
    }

    #[test]
    fn zero_length_cap_keeps_nothing_and_counts_every_push() {
        let mut h = History::new(0, 1 << 20);
        h.push(entry(b"a", 0.0));
        assert!(h.is_empty());
        assert_eq!(h.dropped(), 1);
        assert_eq!(h.bytes(), 0);
    }
}
