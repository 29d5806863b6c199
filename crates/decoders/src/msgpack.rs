//! MessagePack to JSON text, streaming: each value is written as it is read,
//! so nothing is allocated from a declared length before the bytes behind it
//! have been checked to exist.
//!
//! Written by hand rather than with `rmpv`: its value reader sizes vectors
//! from the declared array, map and string lengths before reading them
//! (gigabytes from a five-byte header), and a single pass straight to JSON is
//! shorter than guarding it. It must not recurse deeper than
//! [`crate::MAX_DEPTH`]. Conventions: see the crate header; a `str` whose
//! bytes are not UTF-8 (old "raw" producers put binary there) is shown as
//! `{"$bytes": hex}` rather than refused.

use crate::cbor::enter;
use crate::json::{rfc3339, Out};
use crate::DecodeError;

/// Decodes a MessagePack value (or several concatenated ones, as a JSON
/// array) into compact JSON text; see the crate header for the conventions.
pub fn decode(payload: &[u8]) -> Result<String, DecodeError> {
    if payload.is_empty() {
        return Err(DecodeError::whole("empty payload"));
    }
    let mut d = Decoder {
        p: payload,
        pos: 0,
        out: Out::for_payload(payload.len()),
    };
    d.out.ch('[')?;
    d.value(0)?;
    if d.pos == payload.len() {
        let mut text = d.out.take();
        text.remove(0);
        return Ok(text);
    }
    while d.pos < payload.len() {
        d.out.ch(',')?;
        d.value(0)?;
    }
    d.out.ch(']')?;
    Ok(d.out.take())
}

struct Decoder<'a> {
    p: &'a [u8],
    pos: usize,
    out: Out,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.p.len())
            .ok_or_else(|| {
                DecodeError::at(
                    self.pos,
                    format!(
                        "truncated: {n} bytes needed but only {} left",
                        self.p.len() - self.pos
                    ),
                )
            })?;
        let s = &self.p[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        let bytes = self.take(n)?;
        Ok(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }

    /// A declared length, checked against what is left (each unit needing at
    /// least `per_unit` bytes) before anything is sized from it.
    fn length(
        &mut self,
        size_bytes: usize,
        per_unit: u64,
        start: usize,
    ) -> Result<usize, DecodeError> {
        let len = self.uint(size_bytes)?;
        let left = (self.p.len() - self.pos) as u64;
        if len.saturating_mul(per_unit) > left {
            return Err(DecodeError::at(
                start,
                format!("declared length {len} is longer than the {left} bytes left"),
            ));
        }
        Ok(len as usize)
    }

    fn value(&mut self, depth: usize) -> Result<(), DecodeError> {
        let start = self.pos;
        let b = self.take(1)?[0];
        match b {
            0x00..=0x7f => self.out.u64(u64::from(b)),
            0x80..=0x8f => self.map(usize::from(b & 0x0f), depth, start),
            0x90..=0x9f => self.array(usize::from(b & 0x0f), depth, start),
            0xa0..=0xbf => self.str(usize::from(b & 0x1f)),
            0xc0 => self.out.raw("null"),
            0xc1 => Err(DecodeError::at(start, "0xc1 is never used in MessagePack")),
            0xc2 => self.out.raw("false"),
            0xc3 => self.out.raw("true"),
            0xc4..=0xc6 => {
                let n = self.length(1 << (b - 0xc4), 1, start)?;
                let bytes = self.take(n)?;
                let bytes = bytes.to_vec();
                self.out.bytes_obj(&bytes)
            }
            0xc7..=0xc9 => {
                let n = self.length(1 << (b - 0xc7), 1, start)?;
                self.ext(n)
            }
            0xca => {
                let bits = self.uint(4)? as u32;
                self.out.f64(f64::from(f32::from_bits(bits)))
            }
            0xcb => {
                let bits = self.uint(8)?;
                self.out.f64(f64::from_bits(bits))
            }
            0xcc..=0xcf => {
                let v = self.uint(1 << (b - 0xcc))?;
                self.out.u64(v)
            }
            0xd0..=0xd3 => {
                let size = 1usize << (b - 0xd0);
                let raw = self.uint(size)?;
                // Sign-extend from `size` bytes.
                let shift = 64 - 8 * size as u32;
                let v = ((raw << shift) as i64) >> shift;
                self.out.i128(i128::from(v))
            }
            0xd4..=0xd8 => self.ext(1 << (b - 0xd4)),
            0xd9..=0xdb => {
                let n = self.length(1 << (b - 0xd9), 1, start)?;
                self.str(n)
            }
            0xdc | 0xdd => {
                let n = self.length(2 << (b - 0xdc), 1, start)?;
                self.array(n, depth, start)
            }
            0xde | 0xdf => {
                let n = self.length(2 << (b - 0xde), 2, start)?;
                self.map(n, depth, start)
            }
            0xe0..=0xff => self.out.i128(i128::from(b as i8)),
        }
    }

    fn str(&mut self, n: usize) -> Result<(), DecodeError> {
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                let s = s.to_owned();
                self.out.string(&s)
            }
            Err(_) => {
                let bytes = bytes.to_vec();
                self.out.bytes_obj(&bytes)
            }
        }
    }

    fn array(&mut self, n: usize, depth: usize, start: usize) -> Result<(), DecodeError> {
        let depth = enter(depth, start)?;
        self.out.ch('[')?;
        for i in 0..n {
            if i > 0 {
                self.out.ch(',')?;
            }
            self.value(depth)?;
        }
        self.out.ch(']')
    }

    fn map(&mut self, n: usize, depth: usize, start: usize) -> Result<(), DecodeError> {
        let depth = enter(depth, start)?;
        self.out.ch('{')?;
        for i in 0..n {
            if i > 0 {
                self.out.ch(',')?;
            }
            self.key(depth)?;
            self.out.ch(':')?;
            self.value(depth)?;
        }
        self.out.ch('}')
    }

    /// A map key: UTF-8 strings as they are, any other key as its JSON text.
    fn key(&mut self, depth: usize) -> Result<(), DecodeError> {
        let is_str = matches!(self.p.get(self.pos), Some(0xa0..=0xbf | 0xd9..=0xdb));
        let outer = self.out.take();
        let result = self.value(depth);
        let key = self.out.take();
        self.out.restore(outer);
        result?;
        if is_str && key.starts_with('"') {
            // Already a JSON string: the key is that string.
            self.out.raw(&key)
        } else {
            self.out.string(&key)
        }
    }

    /// An extension of `n` data bytes (the type byte comes first).
    fn ext(&mut self, n: usize) -> Result<(), DecodeError> {
        let ty = self.take(1)?[0] as i8;
        let data = self.take(n)?.to_vec();
        if ty == -1 {
            if let Some(text) = timestamp(&data) {
                self.out.raw("{\"$timestamp\":")?;
                self.out.string(&text)?;
                return self.out.ch('}');
            }
        }
        self.out.raw("{\"$ext\":")?;
        self.out.i128(i128::from(ty))?;
        self.out.raw(",\"$bytes\":\"")?;
        self.out.hex(&data)?;
        self.out.raw("\"}")
    }
}

/// The RFC 3339 text of a timestamp extension's data (32, 64 or 96 bits), or
/// `None` when it is not one or is out of the range RFC 3339 can write.
fn timestamp(data: &[u8]) -> Option<String> {
    let be = |b: &[u8]| b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x));
    match data.len() {
        4 => rfc3339(be(data) as i64, 0),
        8 => {
            let v = be(data);
            rfc3339((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        12 => {
            let nanos = be(data.get(..4)?) as u32;
            let secs = be(data.get(4..)?) as i64;
            rfc3339(secs, nanos)
        }
        _ => None,
    }
}
