//! The small JSON writer behind the decoder's output: strings escaped as
//! JSON requires, numbers in their shortest exact text, bytes as
//! `{"$bytes":"hex"}`, and keys that stay unique within one object.
//!
//! It writes text only; it never reads JSON (the STATE payload is read with
//! serde_json). Output is linear in what it is given: nothing here can
//! amplify a small input into a large output.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Appends `s` as a JSON string.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends an `f64`: the shortest text that reads back to the same value;
/// NaN and the infinities, which JSON cannot spell, as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"`.
pub fn f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        // `{:?}` is Rust's shortest round-trip text, with an exponent for
        // very large or small values ("1e300", "1.5e-7"): valid JSON.
        let _ = write!(out, "{v:?}");
    }
}

/// Appends an `f32` by its own shortest text ("0.1", not the f64 widening
/// "0.10000000149011612").
pub fn f32(out: &mut String, v: f32) {
    if v.is_nan() || v.is_infinite() {
        f64(out, f64::from(v));
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// Appends an integer.
pub fn int(out: &mut String, v: impl std::fmt::Display) {
    let _ = write!(out, "{v}");
}

/// Appends `bytes` as `{"$bytes":"<lower-case hex>"}`.
pub fn bytes(out: &mut String, bytes: &[u8]) {
    out.push_str("{\"$bytes\":\"");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out.push_str("\"}");
}

/// Appends `true` or `false`.
pub fn bool(out: &mut String, v: bool) {
    out.push_str(if v { "true" } else { "false" });
}

/// Writes one JSON object member by member, keeping keys unique: a second
/// `name` becomes `name#2`, a third `name#3`, so no member hides another.
pub struct Object<'a> {
    out: &'a mut String,
    first: bool,
    seen: BTreeMap<String, u32>,
}

impl<'a> Object<'a> {
    /// Opens the object.
    pub fn new(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object {
            out,
            first: true,
            seen: BTreeMap::new(),
        }
    }

    /// Writes the key of the next member (made unique) and returns the
    /// output for its value, which the caller must write.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        let n = self.seen.entry(key.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            string(self.out, key);
        } else {
            let mut k = format!("{key}#{n}");
            // "a#2" may itself be a key given later or earlier: count on.
            while self.seen.contains_key(&k) {
                *self.seen.entry(key.to_owned()).or_insert(0) += 1;
                let n = self.seen.get(key).copied().unwrap_or(0);
                k = format!("{key}#{n}");
            }
            self.seen.insert(k.clone(), 1);
            string(self.out, &k);
        }
        self.out.push(':');
        self.out
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push('}');
    }
}
