//! Protobuf wire format without a schema, like `protoc --decode_raw`: an
//! object keyed by field number, with length-delimited fields guessed as a
//! nested message, a string or bytes.
//!
//! It must not panic, recurse deeper than [`crate::MAX_DEPTH`] or allocate
//! from a length it has not checked against the bytes left.
//!
//! # The JSON produced
//!
//! - `{"1": 150, "2": "text", "3": {"1": 1}}`: keys are field numbers, in the
//!   order each number first appears; a number that appears more than once
//!   becomes an array of its values in order (`"4": [1, 2, 3]`).
//! - Varints → unsigned integers (no zigzag or sign guessed: a negative
//!   `int32` shows as its 64-bit two's complement). Fixed64 and fixed32 →
//!   unsigned integers too (not doubles or floats: the bits alone cannot tell,
//!   and an integer stays exact).
//! - Length-delimited, in this order: valid UTF-8 with no control characters
//!   → a string; else, if the bytes parse completely as a message (every field
//!   number from 1 to 2^29 - 1, wire types 0, 1, 2, 3/4 matched, 5, each
//!   length inside the bytes, at most [`crate::MAX_DEPTH`] levels) → that
//!   message; else valid UTF-8 whose only control characters are tab, line
//!   feed and carriage return → a string; else `{"$bytes": hex}`. Packed
//!   repeated numbers therefore usually show as `$bytes`, and an empty field
//!   as `""`. Nesting past the depth limit is shown as a string or bytes, not
//!   an error.
//! - Groups (deprecated wire types 3 and 4) → an object like a nested message;
//!   an end-group without its start, or with another field number, is an
//!   error.
//! - An empty payload is the empty message `{}`. Errors (truncated varints,
//!   field number 0, wire types 6 and 7, lengths past the end) carry the byte
//!   offset in the payload.

use std::collections::BTreeMap;

use crate::json::Out;
use crate::{DecodeError, MAX_DEPTH};

/// Decodes a Protobuf message without its schema into compact JSON text.
pub fn decode(payload: &[u8]) -> Result<String, DecodeError> {
    let fields = parse_message(payload, 0, 0)?;
    let mut out = Out::for_payload(payload.len());
    write_message(&mut out, &fields, 0)?;
    Ok(out.take())
}

/// One field's value as read from the wire.
pub(crate) enum Raw<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
    Group(Vec<(u32, Raw<'a>)>),
}

/// Reads a varint at `*pos` of `buf` (`base` is `buf`'s offset in the
/// payload, for the error).
fn varint(buf: &[u8], pos: &mut usize, base: usize) -> Result<u64, DecodeError> {
    let start = *pos;
    let mut v = 0u64;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos) else {
            return Err(DecodeError::at(base + start, "truncated varint"));
        };
        *pos += 1;
        if i == 9 && b > 1 {
            return Err(DecodeError::at(base + start, "varint longer than 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError::at(base + start, "varint longer than 10 bytes"))
}

/// Parses a whole message (or, with `depth` > 0 inside a group, see
/// [`parse_fields`]) at `base` in the payload.
pub(crate) fn parse_message(
    buf: &[u8],
    base: usize,
    depth: usize,
) -> Result<Vec<(u32, Raw<'_>)>, DecodeError> {
    let mut pos = 0;
    let fields = parse_fields(buf, &mut pos, base, depth, None)?;
    Ok(fields)
}

/// Parses fields from `*pos` until the end of `buf` or, when `group` is a
/// field number, until that group's end.
fn parse_fields<'a>(
    buf: &'a [u8],
    pos: &mut usize,
    base: usize,
    depth: usize,
    group: Option<u32>,
) -> Result<Vec<(u32, Raw<'a>)>, DecodeError> {
    let mut fields = Vec::new();
    loop {
        if *pos >= buf.len() {
            return match group {
                None => Ok(fields),
                Some(n) => Err(DecodeError::at(
                    base + *pos,
                    format!("group {n} is not ended"),
                )),
            };
        }
        let start = *pos;
        let key = varint(buf, pos, base)?;
        let number = key >> 3;
        if number == 0 {
            return Err(DecodeError::at(base + start, "field number 0"));
        }
        if number > (1 << 29) - 1 {
            return Err(DecodeError::at(
                base + start,
                format!("field number {number} is above 2^29 - 1"),
            ));
        }
        let number = number as u32;
        let value = match key & 7 {
            0 => Raw::Varint(varint(buf, pos, base)?),
            1 => Raw::Fixed64(fixed(buf, pos, base, 8)?),
            2 => {
                let len_at = *pos;
                let len = varint(buf, pos, base)?;
                let left = buf.len() - *pos;
                if len > left as u64 {
                    return Err(DecodeError::at(
                        base + len_at,
                        format!("length {len} is longer than the {left} bytes left"),
                    ));
                }
                let len = len as usize;
                let bytes = &buf[*pos..*pos + len];
                *pos += len;
                Raw::Len(bytes)
            }
            3 => {
                if depth >= MAX_DEPTH {
                    return Err(DecodeError::at(
                        base + start,
                        format!("nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
                Raw::Group(parse_fields(buf, pos, base, depth + 1, Some(number))?)
            }
            4 => {
                return match group {
                    Some(n) if n == number => Ok(fields),
                    Some(n) => Err(DecodeError::at(
                        base + start,
                        format!("end of group {number} inside group {n}"),
                    )),
                    None => Err(DecodeError::at(
                        base + start,
                        format!("end of group {number} without its start"),
                    )),
                };
            }
            5 => Raw::Fixed32(fixed(buf, pos, base, 4)? as u32),
            wt => {
                return Err(DecodeError::at(
                    base + start,
                    format!("invalid wire type {wt} (field {number})"),
                ))
            }
        };
        fields.push((number, value));
    }
}

fn fixed(buf: &[u8], pos: &mut usize, base: usize, n: usize) -> Result<u64, DecodeError> {
    let Some(bytes) = buf.get(*pos..*pos + n) else {
        return Err(DecodeError::at(
            base + *pos,
            format!("truncated {}-bit fixed value", n * 8),
        ));
    };
    *pos += n;
    Ok(bytes
        .iter()
        .rev()
        .fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// Writes fields as an object keyed by field number, repeated numbers as
/// arrays.
pub(crate) fn write_message(
    out: &mut Out,
    fields: &[(u32, Raw<'_>)],
    depth: usize,
) -> Result<(), DecodeError> {
    // Field number → its values, in order of first appearance.
    let mut index: BTreeMap<u32, usize> = BTreeMap::new();
    let mut groups: Vec<(u32, Vec<&Raw<'_>>)> = Vec::new();
    for (number, value) in fields {
        match index.get(number) {
            Some(&i) => groups[i].1.push(value),
            None => {
                index.insert(*number, groups.len());
                groups.push((*number, vec![value]));
            }
        }
    }
    out.ch('{')?;
    for (i, (number, values)) in groups.iter().enumerate() {
        if i > 0 {
            out.ch(',')?;
        }
        out.string(&number.to_string())?;
        out.ch(':')?;
        if let [one] = values.as_slice() {
            write_value(out, one, depth)?;
        } else {
            out.ch('[')?;
            for (j, v) in values.iter().enumerate() {
                if j > 0 {
                    out.ch(',')?;
                }
                write_value(out, v, depth)?;
            }
            out.ch(']')?;
        }
    }
    out.ch('}')
}

fn write_value(out: &mut Out, value: &Raw<'_>, depth: usize) -> Result<(), DecodeError> {
    match value {
        Raw::Varint(v) | Raw::Fixed64(v) => out.u64(*v),
        Raw::Fixed32(v) => out.u64(u64::from(*v)),
        Raw::Group(fields) => write_message(out, fields, depth + 1),
        Raw::Len(bytes) => write_len(out, bytes, depth),
    }
}

/// A length-delimited value: string, nested message or bytes (see the
/// module header for the order of the guesses).
fn write_len(out: &mut Out, bytes: &[u8], depth: usize) -> Result<(), DecodeError> {
    let text = std::str::from_utf8(bytes).ok();
    if let Some(text) = text {
        if !text.chars().any(char::is_control) {
            return out.string(text);
        }
    }
    if depth < MAX_DEPTH {
        // Offsets inside a guess are never shown: a failed guess is a string.
        if let Ok(fields) = parse_message(bytes, 0, depth + 1) {
            return write_message(out, &fields, depth + 1);
        }
    }
    match text {
        Some(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            out.string(text)
        }
        _ => out.bytes_obj(bytes),
    }
}
