//! The recording's bookkeeping: its chunks in IndexedDB, oldest first, with
//! their sizes and record counts, the bound the user set, and how many
//! records were dropped to keep within it.
//!
//! Pure: the worker stores the chunks and this state (as JSON, see
//! [`Recording::to_json`]) and deletes the chunks `trim` names. A chunk is
//! stored as pieces (one per write, so records are stored as they come
//! without rewriting what is stored) until it reaches its target size.
//! Dropping is by whole chunks, oldest first; a chunk is at most about an
//! eighth of the bound ([`chunk_target`], plus its last piece), so the
//! recording keeps most of what the bound allows once it is full.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// The smallest bound (a smaller one is raised to it).
pub const MIN_BOUND: u64 = 64 * 1024;
/// The largest chunk.
pub const MAX_CHUNK: usize = 256 * 1024;

/// How many bytes the worker gathers before it stores a chunk.
#[must_use]
pub fn chunk_target(bound: u64) -> usize {
    usize::try_from(bound / 8)
        .unwrap_or(MAX_CHUNK)
        .clamp(4096, MAX_CHUNK)
}

/// Cuts records waiting to be stored, given by where each ends (ascending
/// byte offsets), into pieces of at most `target` bytes at record
/// boundaries (a record larger than that is a piece alone). Returns each
/// piece's byte range and record count. Many records that came together
/// then fill chunks the bound can drop one by one, rather than one piece
/// larger than the bound, which would be dropped whole.
#[must_use]
pub fn cut(ends: &[usize], target: usize) -> Vec<(std::ops::Range<usize>, u64)> {
    let mut out = Vec::new();
    let (mut start, mut last, mut count) = (0usize, 0usize, 0u64);
    for &end in ends {
        if end.saturating_sub(start) > target && count > 0 {
            out.push((start..last, count));
            start = last;
            count = 0;
        }
        last = end;
        count += 1;
    }
    if count > 0 {
        out.push((start..last, count));
    }
    out
}

/// One stored chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Its key in the store.
    pub id: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// Records in it.
    pub count: u64,
    /// Pieces stored under it (numbered from 0).
    #[serde(default)]
    pub pieces: u32,
}

/// The most pieces in one chunk (one per write: a chunk of small writes
/// is closed at this many even below its target size).
pub const MAX_PIECES: u32 = 4096;

/// The recording's state, stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Most bytes kept.
    pub bound: u64,
    /// Whether new records are kept.
    pub recording: bool,
    /// Records dropped to keep within the bound, since the last clear.
    pub dropped: u64,
    /// The next chunk's key.
    pub next_id: u64,
    /// The chunks, oldest first.
    pub chunks: VecDeque<Chunk>,
}

impl Default for Recording {
    fn default() -> Self {
        Recording {
            bound: 16 * 1024 * 1024,
            recording: false,
            dropped: 0,
            next_id: 1,
            chunks: VecDeque::new(),
        }
    }
}

impl Recording {
    /// Sets the bound (at least [`MIN_BOUND`]).
    pub fn set_bound(&mut self, bound: u64) {
        self.bound = bound.max(MIN_BOUND);
    }

    /// Bytes kept.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.bytes).sum()
    }

    /// Records kept.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.chunks.iter().map(|c| c.count).sum()
    }

    /// Adds a chunk of one piece; returns the key to store it under.
    pub fn add(&mut self, bytes: u64, count: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.chunks.push_back(Chunk {
            id,
            bytes,
            count,
            pieces: 1,
        });
        id
    }

    /// Adds a piece of records: to the newest chunk while it is under its
    /// target size, else as a new chunk. Returns the chunk's key and the
    /// piece's number in it, to store it under.
    pub fn add_piece(&mut self, bytes: u64, count: u64) -> (u64, u32) {
        let target = chunk_target(self.bound) as u64;
        if let Some(c) = self.chunks.back_mut() {
            if c.bytes < target && c.pieces < MAX_PIECES {
                c.bytes += bytes;
                c.count += count;
                c.pieces += 1;
                return (c.id, c.pieces - 1);
            }
        }
        (self.add(bytes, count), 0)
    }

    /// Drops the oldest chunks until the rest fit the bound (counting their
    /// records as dropped); returns their keys, to delete.
    pub fn trim(&mut self) -> Vec<u64> {
        let mut total = self.bytes();
        let mut gone = Vec::new();
        while total > self.bound {
            let Some(c) = self.chunks.pop_front() else {
                break;
            };
            total -= c.bytes;
            self.dropped += c.count;
            gone.push(c.id);
        }
        gone
    }

    /// Forgets every chunk and the dropped count; returns the keys.
    pub fn clear(&mut self) -> Vec<u64> {
        self.dropped = 0;
        self.chunks.drain(..).map(|c| c.id).collect()
    }

    /// As stored.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// From what was stored; `None` if it cannot be read.
    #[must_use]
    pub fn from_json(s: &str) -> Option<Recording> {
        serde_json::from_str(s).ok()
    }
}
