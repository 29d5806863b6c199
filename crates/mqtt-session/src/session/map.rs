//! A map kept as a vector sorted by key, for the session's few small maps
//! (packets in flight, subscribes and unsubscribes awaiting their ack,
//! topic aliases). It iterates in key order like the `BTreeMap` it
//! replaces, so events come out in the same order; each `BTreeMap` key and
//! value type costs the wasm its own copy of the B-tree code (several KB),
//! this costs a binary search and a vector insert or remove.
//!
//! Nothing here may panic: every index used comes from a binary search of
//! the same vector.

use std::borrow::Borrow;

/// Entries sorted by key, each key at most once.
#[derive(Debug, Clone)]
pub(super) struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Inserts or replaces the value of `key`.
    pub(super) fn insert(&mut self, key: K, value: V) {
        match self.find(&key) {
            Ok(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.1 = value;
                }
            }
            Err(i) => self.entries.insert(i, (key, value)),
        }
    }

    pub(super) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(self.find(key).ok()?).map(|(_, v)| v)
    }

    pub(super) fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.find(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries in key order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Values in key order.
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// Entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn it_behaves_like_a_btreemap() {
        let mut ours = SortedMap::default();
        let mut theirs = BTreeMap::new();
        // A fixed pseudo-random walk of inserts, replaces and removes.
        let mut x = 7u32;
        for _ in 0..2000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = (x >> 16) % 50;
            if x.is_multiple_of(3) {
                assert_eq!(ours.remove(&key), theirs.remove(&key));
            } else {
                ours.insert(key, x);
                theirs.insert(key, x);
            }
            assert_eq!(ours.get(&key), theirs.get(&key));
            assert_eq!(ours.len(), theirs.len());
            assert_eq!(ours.is_empty(), theirs.is_empty());
        }
        assert!(ours.iter().eq(theirs.iter()));
        assert!(ours.values().eq(theirs.values()));
        assert!(ours.clone().into_iter().eq(theirs.clone()));
        ours.clear();
        assert!(ours.is_empty());
    }

    #[test]
    fn string_keys_are_found_by_str() {
        let mut m = SortedMap::default();
        m.insert("b/c".to_owned(), 2u16);
        m.insert("a".to_owned(), 1);
        assert_eq!(m.get("a"), Some(&1));
        assert_eq!(m.get("b/c"), Some(&2));
        assert_eq!(m.get("z"), None);
    }
}
