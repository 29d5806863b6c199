//! mqdash's keep formats and plans (docs/keep.md), pure and tested
//! natively: NDJSON export and import, CSV export, ISO 8601 times, the
//! replay pacing plan, the recording's bound, topic prefix rewrite.
//!
//! It must not touch the browser (no web-sys, no IndexedDB, no timers):
//! that is `keep-worker`, which only moves bytes between these functions,
//! the page and the store. Nothing here may panic on any input: imported
//! files and stored bytes are untrusted.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod bound;
pub mod csv;
pub mod lines;
pub mod ndjson;
pub mod pace;
pub mod prefix;
pub mod time;

/// The longest import line read (docs/keep.md): 16 MiB.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

#[cfg(test)]
mod tests;
