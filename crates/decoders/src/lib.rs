//! Decoders that turn binary MQTT payloads (CBOR, MessagePack, Protobuf with
//! or without a user schema) into **compact JSON text**, so the page can show,
//! diff, chart and export them exactly as it does JSON payloads.
//!
//! Pure logic: no wasm-bindgen, no web-sys, no clock, no threads, no file
//! system. It must never panic, hang or allocate from an input length that the
//! input does not back: every hostile payload ends in a [`DecodeError`] for that
//! message only.
//!
//! # The JSON produced
//!
//! The same conventions hold in every decoder:
//!
//! - Output is compact RFC 8259 JSON; object keys come in the payload's order
//!   (Protobuf with a schema: in field-number order, see
//!   [`protobuf_schema`]); duplicate keys are kept, in order.
//! - Byte strings → `{"$bytes": "0a0bff"}` (lowercase hex of the whole value,
//!   never truncated).
//! - CBOR tags → `{"$tag": 1, "value": <decoded>}`; CBOR bignums (tags 2 and
//!   3) → the exact integer as a JSON number of any length (a bignum longer
//!   than 1,024 bytes stays a tag, to keep the decimal conversion bounded).
//! - MessagePack extensions → `{"$ext": <type, -128..127>, "$bytes": "hex"}`,
//!   except the timestamp extension (type -1, 4, 8 or 12 bytes) which becomes
//!   `{"$timestamp": "1970-01-01T00:00:01.000000500Z"}`: RFC 3339 in UTC,
//!   with exactly nine fraction digits when the nanoseconds are not zero and
//!   none when they are. A timestamp outside years 0000–9999 or with
//!   nanoseconds above 999,999,999 stays `{"$ext": -1, "$bytes": ...}`.
//! - Map keys that are not text strings (CBOR and MessagePack allow any)
//!   become their own compact JSON text as the key: integer 1 → `"1"`, a
//!   byte-string key → `"{\"$bytes\":\"0a\"}"`.
//! - Integers exactly (the full u64 and i64 ranges, as JSON numbers). Finite
//!   floats → JSON numbers written by Rust's `{:?}` for `f64` (the shortest
//!   text that reads back to the same value, always with a `.0` or an
//!   exponent, so a float stays distinguishable from an integer); half and
//!   single floats are widened to `f64` exactly first. NaN and the infinities
//!   → the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
//! - CBOR `undefined` → `{"$undefined": true}`; other CBOR simple values →
//!   `{"$simple": n}`.
//! - Nesting deeper than [`MAX_DEPTH`] (100) levels → the error "nested deeper
//!   than 100 levels" (so the JSON text never nests more than 102 levels, which
//!   the page's serde_json-compatible reader takes); a declared length longer than what is left of the
//!   payload → an error before anything of that length is allocated.
//! - A CBOR or MessagePack payload holding more than one complete item one
//!   after the other (a CBOR sequence, RFC 8742, or concatenated MessagePack
//!   values) → a JSON array of the items; a single item is itself, not an array
//!   of one. An empty payload → the error "empty payload".
//!
//! The decoded text may be at most `64 × payload length + 1 MiB` bytes (a
//! payload whose map keys nest composite keys could otherwise double its text
//! at every level of escaping): past that, the error "decoded text too large".

#![forbid(unsafe_code)]

pub mod cbor;
pub mod msgpack;
pub mod protobuf_raw;
pub mod protobuf_schema;

mod json;

use std::fmt;

/// The deepest nesting any decoder follows (arrays, maps, tags, messages,
/// groups; with a schema, JSON levels); deeper input is an error instead of a
/// deep recursion.
///
/// 100 rather than more: the page reads JSON with serde_json's rules, which
/// stop at 128 levels, and the output adds up to two levels to the payload's
/// own (a sequence's array, a `$bytes` or `$undefined` object); `prost`, which
/// decodes schema payloads, stops at 100 too, so every decoder says the same.
pub const MAX_DEPTH: usize = 100;

/// Why a payload (or a schema) could not be decoded; the one error type of the
/// crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The byte of the payload where the problem was found, when it is known.
    pub offset: Option<usize>,
    /// What is wrong, as a sentence fragment for the user ("truncated varint").
    pub reason: String,
}

impl DecodeError {
    /// An error found at byte `offset` of the payload.
    pub(crate) fn at(offset: usize, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: Some(offset),
            reason: reason.into(),
        }
    }

    /// An error that belongs to no one byte (a schema, a whole payload).
    pub(crate) fn whole(reason: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "at byte {offset}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for DecodeError {}
