//! CBOR (RFC 8949) to JSON text, streaming: each data item is written as it
//! is read, so nothing is allocated from a declared length before the bytes
//! behind it have been checked to exist.
//!
//! Written by hand rather than with `ciborium`: its `Value` tree is built
//! first and then walked again, and its string and map readers trust declared
//! lengths for buffer sizes; a single pass straight to JSON text is about as
//! long as the glue code would be, and every bound is visible here. It must
//! not recurse deeper than [`crate::MAX_DEPTH`], and must accept exactly the
//! well-formed CBOR (RFC 8949 appendix C) plus valid UTF-8 in text strings.
//! Conventions: see the crate header.

use crate::json::{big_decimal, big_negative_decimal, f16_to_f64, Out};
use crate::{DecodeError, MAX_DEPTH};

/// The longest bignum (tags 2 and 3) written as a decimal number: the
/// conversion is quadratic in the length, and 1,024 bytes is 2,467 digits.
const MAX_BIGNUM_BYTES: usize = 1024;

/// Decodes a CBOR item (or a CBOR sequence of several, as a JSON array) into
/// compact JSON text; see the crate header for the conventions.
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
    d.item(0)?;
    if d.pos == payload.len() {
        let mut text = d.out.take();
        text.remove(0);
        return Ok(text);
    }
    while d.pos < payload.len() {
        d.out.ch(',')?;
        d.item(0)?;
    }
    d.out.ch(']')?;
    Ok(d.out.take())
}

/// What the additional information of an initial byte says.
enum Arg {
    Value(u64),
    Indefinite,
}

struct Decoder<'a> {
    p: &'a [u8],
    pos: usize,
    out: Out,
}

impl Decoder<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.p.get(self.pos).ok_or_else(|| {
            DecodeError::at(self.pos, "truncated: the payload ends inside an item")
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.p.len())
            .ok_or_else(|| {
                DecodeError::at(
                    self.pos,
                    format!(
                        "truncated: {n} bytes declared but only {} left",
                        self.p.len() - self.pos
                    ),
                )
            })?;
        let s = &self.p[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn remaining(&self) -> usize {
        self.p.len() - self.pos
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        let bytes = self.take(n)?;
        Ok(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }

    /// Reads the argument that follows an initial byte whose additional
    /// information is `ai`.
    fn arg(&mut self, ai: u8, start: usize) -> Result<Arg, DecodeError> {
        Ok(match ai {
            0..=23 => Arg::Value(u64::from(ai)),
            24 => Arg::Value(self.uint(1)?),
            25 => Arg::Value(self.uint(2)?),
            26 => Arg::Value(self.uint(4)?),
            27 => Arg::Value(self.uint(8)?),
            31 => Arg::Indefinite,
            _ => {
                return Err(DecodeError::at(
                    start,
                    format!("reserved additional information {ai}"),
                ))
            }
        })
    }

    /// A length that must be backed by at least `per_unit × len` remaining bytes.
    fn length(
        &self,
        len: u64,
        per_unit: u64,
        start: usize,
        what: &str,
    ) -> Result<usize, DecodeError> {
        match len.checked_mul(per_unit) {
            Some(need) if need <= self.remaining() as u64 => Ok(len as usize),
            _ => Err(DecodeError::at(
                start,
                format!(
                    "{what} of length {len} is longer than the {} bytes left",
                    self.remaining()
                ),
            )),
        }
    }

    fn item(&mut self, depth: usize) -> Result<(), DecodeError> {
        let start = self.pos;
        let ib = self.byte()?;
        let (major, ai) = (ib >> 5, ib & 0x1f);
        match major {
            0 => match self.arg(ai, start)? {
                Arg::Value(v) => self.out.u64(v),
                Arg::Indefinite => Err(DecodeError::at(start, "an integer cannot be indefinite")),
            },
            1 => match self.arg(ai, start)? {
                Arg::Value(v) => self.out.i128(-1 - i128::from(v)),
                Arg::Indefinite => Err(DecodeError::at(start, "an integer cannot be indefinite")),
            },
            2 => {
                let bytes = self.string_bytes(2, ai, start)?;
                self.out.bytes_obj(&bytes)
            }
            3 => {
                let bytes = self.string_bytes(3, ai, start)?;
                // Each chunk was checked on its own; the whole is valid too.
                let text = String::from_utf8(bytes)
                    .map_err(|_| DecodeError::at(start, "text string is not valid UTF-8"))?;
                self.out.string(&text)
            }
            4 => {
                let depth = enter(depth, start)?;
                self.out.ch('[')?;
                match self.arg(ai, start)? {
                    Arg::Value(n) => {
                        let n = self.length(n, 1, start, "array")?;
                        for i in 0..n {
                            if i > 0 {
                                self.out.ch(',')?;
                            }
                            self.item(depth)?;
                        }
                    }
                    Arg::Indefinite => {
                        let mut first = true;
                        while !self.at_break()? {
                            if !first {
                                self.out.ch(',')?;
                            }
                            first = false;
                            self.item(depth)?;
                        }
                    }
                }
                self.out.ch(']')
            }
            5 => {
                let depth = enter(depth, start)?;
                self.out.ch('{')?;
                match self.arg(ai, start)? {
                    Arg::Value(n) => {
                        let n = self.length(n, 2, start, "map")?;
                        for i in 0..n {
                            if i > 0 {
                                self.out.ch(',')?;
                            }
                            self.key(depth)?;
                            self.out.ch(':')?;
                            self.item(depth)?;
                        }
                    }
                    Arg::Indefinite => {
                        let mut first = true;
                        while !self.at_break()? {
                            if !first {
                                self.out.ch(',')?;
                            }
                            first = false;
                            self.key(depth)?;
                            self.out.ch(':')?;
                            if self.at_break()? {
                                return Err(DecodeError::at(
                                    self.pos - 1,
                                    "indefinite map ends after a key without its value",
                                ));
                            }
                            self.item(depth)?;
                        }
                    }
                }
                self.out.ch('}')
            }
            6 => {
                let tag = match self.arg(ai, start)? {
                    Arg::Value(t) => t,
                    Arg::Indefinite => {
                        return Err(DecodeError::at(start, "a tag cannot be indefinite"))
                    }
                };
                let depth = enter(depth, start)?;
                if tag == 2 || tag == 3 {
                    if let Some(text) = self.bignum(tag)? {
                        return self.out.raw(&text);
                    }
                }
                self.out.raw("{\"$tag\":")?;
                self.out.u64(tag)?;
                self.out.raw(",\"value\":")?;
                self.item(depth)?;
                self.out.ch('}')
            }
            _ => self.simple_or_float(ai, start),
        }
    }

    /// Tags 2 and 3 over a byte string no longer than [`MAX_BIGNUM_BYTES`]:
    /// the decimal text (the position moves past the content); anything else
    /// leaves the position on the content and returns `None`.
    fn bignum(&mut self, tag: u64) -> Result<Option<String>, DecodeError> {
        let content = self.pos;
        let Some(&ib) = self.p.get(content) else {
            return Ok(None);
        };
        if ib >> 5 != 2 {
            return Ok(None);
        }
        self.pos += 1;
        let bytes = self.string_bytes(2, ib & 0x1f, content)?;
        if bytes.len() > MAX_BIGNUM_BYTES {
            self.pos = content;
            return Ok(None);
        }
        Ok(Some(if tag == 2 {
            big_decimal(&bytes)
        } else {
            big_negative_decimal(&bytes)
        }))
    }

    /// The content of a byte (major 2) or text (major 3) string, definite or
    /// made of definite chunks of the same major type.
    fn string_bytes(&mut self, major: u8, ai: u8, start: usize) -> Result<Vec<u8>, DecodeError> {
        match self.arg(ai, start)? {
            Arg::Value(n) => {
                let n = self.length(n, 1, start, "string")?;
                let s = self.take(n)?.to_vec();
                if major == 3 && std::str::from_utf8(&s).is_err() {
                    return Err(DecodeError::at(start, "text string is not valid UTF-8"));
                }
                Ok(s)
            }
            Arg::Indefinite => {
                let mut all = Vec::new();
                while !self.at_break()? {
                    let chunk_start = self.pos;
                    let ib = self.byte()?;
                    if ib >> 5 != major || ib & 0x1f == 31 {
                        return Err(DecodeError::at(
                            chunk_start,
                            "a chunk of an indefinite-length string must be a definite string of the same type",
                        ));
                    }
                    let chunk = self.string_bytes(major, ib & 0x1f, chunk_start)?;
                    all.extend_from_slice(&chunk);
                }
                Ok(all)
            }
        }
    }

    /// Consumes a break byte (0xff) if one is next.
    fn at_break(&mut self) -> Result<bool, DecodeError> {
        match self.p.get(self.pos) {
            Some(0xff) => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(DecodeError::at(
                self.pos,
                "truncated: the payload ends inside an indefinite-length item",
            )),
        }
    }

    /// A map key: text keys as they are, any other key as its JSON text.
    fn key(&mut self, depth: usize) -> Result<(), DecodeError> {
        let is_text = self.p.get(self.pos).is_some_and(|b| b >> 5 == 3);
        if is_text {
            return self.item(depth);
        }
        let outer = self.out.take();
        let result = self.item(depth);
        let key = self.out.take();
        self.out.restore(outer);
        result?;
        self.out.string(&key)
    }

    fn simple_or_float(&mut self, ai: u8, start: usize) -> Result<(), DecodeError> {
        match ai {
            20 => self.out.raw("false"),
            21 => self.out.raw("true"),
            22 => self.out.raw("null"),
            23 => self.out.raw("{\"$undefined\":true}"),
            0..=19 => self.simple(u64::from(ai)),
            24 => {
                let v = self.byte()?;
                if v < 32 {
                    return Err(DecodeError::at(
                        start,
                        format!("simple value {v} must be encoded in the initial byte"),
                    ));
                }
                self.simple(u64::from(v))
            }
            25 => {
                let bits = self.uint(2)? as u16;
                self.out.f64(f16_to_f64(bits))
            }
            26 => {
                let bits = self.uint(4)? as u32;
                self.out.f64(f64::from(f32::from_bits(bits)))
            }
            27 => {
                let bits = self.uint(8)?;
                self.out.f64(f64::from_bits(bits))
            }
            31 => Err(DecodeError::at(
                start,
                "break (0xff) outside an indefinite-length item",
            )),
            _ => Err(DecodeError::at(
                start,
                format!("reserved additional information {ai}"),
            )),
        }
    }

    fn simple(&mut self, v: u64) -> Result<(), DecodeError> {
        self.out.raw("{\"$simple\":")?;
        self.out.u64(v)?;
        self.out.ch('}')
    }
}

/// One level deeper, or the depth error at `start`.
pub(crate) fn enter(depth: usize, start: usize) -> Result<usize, DecodeError> {
    if depth >= MAX_DEPTH {
        return Err(DecodeError::at(
            start,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    Ok(depth + 1)
}
