//! Packet identifier bookkeeping: a set of the 65535 usable ids (1..=65535)
//! and an allocator that hands out the next free one, wrapping past 65535 and
//! never giving 0 or an id still in use.
//!
//! It must not know what the ids are used for (PUBLISH, SUBSCRIBE, …); the
//! session keeps that. A fixed 8 KiB bitmap, no hashing, no panics.

/// A set of packet ids, stored as a 65536-bit bitmap.
#[derive(Clone)]
pub(crate) struct IdSet {
    bits: Vec<u64>,
    len: usize,
}

impl IdSet {
    pub(crate) fn new() -> Self {
        IdSet {
            bits: vec![0; 1024],
            len: 0,
        }
    }

    fn slot(id: u16) -> (usize, u64) {
        (usize::from(id >> 6), 1u64 << (id & 63))
    }

    /// Whether `id` is in the set.
    pub(crate) fn contains(&self, id: u16) -> bool {
        let (word, mask) = Self::slot(id);
        self.bits.get(word).is_some_and(|w| w & mask != 0)
    }

    /// Adds `id`; returns false if it was already there.
    pub(crate) fn insert(&mut self, id: u16) -> bool {
        let (word, mask) = Self::slot(id);
        match self.bits.get_mut(word) {
            Some(w) if *w & mask == 0 => {
                *w |= mask;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Removes `id`; returns false if it was not there.
    pub(crate) fn remove(&mut self, id: u16) -> bool {
        let (word, mask) = Self::slot(id);
        match self.bits.get_mut(word) {
            Some(w) if *w & mask != 0 => {
                *w &= !mask;
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn clear(&mut self) {
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.len = 0;
    }
}

/// Hands out outgoing packet ids.
#[derive(Clone)]
pub(crate) struct PacketIds {
    in_use: IdSet,
    /// The id tried first by the next allocation.
    next: u16,
}

impl PacketIds {
    pub(crate) fn new() -> Self {
        PacketIds {
            in_use: IdSet::new(),
            next: 1,
        }
    }

    /// The next free id after the last one handed out, or `None` when all
    /// 65535 are in use.
    pub(crate) fn allocate(&mut self) -> Option<u16> {
        if self.in_use.len() >= usize::from(u16::MAX) {
            return None;
        }
        let mut id = self.next;
        loop {
            if id != 0 && self.in_use.insert(id) {
                self.next = id.wrapping_add(1);
                return Some(id);
            }
            id = id.wrapping_add(1);
        }
    }

    /// Frees `id`; returns false if it was not in use.
    pub(crate) fn release(&mut self, id: u16) -> bool {
        self.in_use.remove(id)
    }

    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_ids_start_at_1_and_never_give_0() {
        let mut ids = PacketIds::new();
        assert_eq!(ids.allocate(), Some(1));
        assert_eq!(ids.allocate(), Some(2));
    }

    #[test]
    fn packet_ids_wrap_past_65535_to_1_skipping_ids_in_use() {
        let mut ids = PacketIds::new();
        ids.next = 65_534;
        assert_eq!(ids.allocate(), Some(65_534));
        assert_eq!(ids.allocate(), Some(65_535));
        assert_eq!(ids.allocate(), Some(1));
        ids.next = 65_534;
        // 65534, 65535 and 1 are still in flight: next free is 2.
        assert_eq!(ids.allocate(), Some(2));
    }

    #[test]
    fn packet_ids_are_never_two_in_flight_at_once_and_exhaust_cleanly() {
        let mut ids = PacketIds::new();
        let mut seen = IdSet::new();
        for _ in 0..65_535 {
            let id = ids.allocate();
            let Some(id) = id else {
                panic!("ran out early")
            };
            assert_ne!(id, 0);
            assert!(seen.insert(id), "id {id} handed out twice");
        }
        assert_eq!(ids.allocate(), None);
        assert!(ids.release(4242));
        assert!(!ids.release(4242));
        assert_eq!(ids.allocate(), Some(4242));
        assert_eq!(ids.allocate(), None);
        assert_eq!(ids.in_use(), 65_535);
    }

    #[test]
    fn id_set_counts_members() {
        let mut s = IdSet::new();
        assert!(s.insert(0));
        assert!(s.insert(65_535));
        assert!(!s.insert(65_535));
        assert_eq!(s.len(), 2);
        assert!(s.contains(65_535));
        assert!(s.remove(0));
        assert!(!s.contains(0));
        s.clear();
        assert_eq!(s.len(), 0);
        assert!(!s.contains(65_535));
    }
}
