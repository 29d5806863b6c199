//! mqdash's keep worker (docs/keep.md): a dedicated module worker, its own
//! wasm, started by the page the first time a Keep control is used (or at
//! start when a recording exists). It owns the recording in IndexedDB,
//! writes exports, reads imports and paces their replay, and feeds a
//! republish to the page batch by batch.
//!
//! It must not decide anything about the page's model, and must not panic
//! (a panic kills the worker): the formats and plans are in the `keep`
//! crate, tested natively; this crate only moves bytes between them, the
//! page and the store. On the host the binary is empty.

#[cfg(target_arch = "wasm32")]
mod decoding;
#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod worker;

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::start();
}
