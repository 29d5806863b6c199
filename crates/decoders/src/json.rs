//! The JSON text writer every decoder writes through: escaping, numbers,
//! `$bytes` objects and the bound on the decoded text's size.
//!
//! It must not produce invalid JSON for any input (text is escaped here and
//! nowhere else) and must not grow past its budget: composite map keys are
//! rendered as escaped JSON text, which can double in size per nesting level.

use std::fmt::Write as _;

use crate::DecodeError;

/// A JSON text under construction with a limit on how many bytes may be
/// written in all (the final text and every temporary key text together).
pub(crate) struct Out {
    pub(crate) buf: String,
    left: usize,
}

impl Out {
    /// A writer for the decoding of a payload of `payload_len` bytes.
    pub(crate) fn for_payload(payload_len: usize) -> Out {
        Out {
            buf: String::new(),
            left: payload_len.saturating_mul(64).saturating_add(1 << 20),
        }
    }

    /// A writer without a size bound, for output that is linear in an
    /// already decoded value (no escaping of escaped text).
    pub(crate) fn unbounded() -> Out {
        Out {
            buf: String::new(),
            left: usize::MAX,
        }
    }

    fn spend(&mut self, n: usize) -> Result<(), DecodeError> {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(DecodeError::whole("decoded text too large")),
        }
    }

    /// Appends text that is already valid JSON (punctuation, numbers).
    pub(crate) fn raw(&mut self, s: &str) -> Result<(), DecodeError> {
        self.spend(s.len())?;
        self.buf.push_str(s);
        Ok(())
    }

    /// Appends one character of punctuation.
    pub(crate) fn ch(&mut self, c: char) -> Result<(), DecodeError> {
        self.spend(c.len_utf8())?;
        self.buf.push(c);
        Ok(())
    }

    /// Appends `s` as a JSON string.
    pub(crate) fn string(&mut self, s: &str) -> Result<(), DecodeError> {
        // Worst case every byte becomes `\u00XX`: spend what is really written.
        let start = self.buf.len();
        self.spend(s.len() + 2)?;
        self.buf.push('"');
        let mut extra = 0usize;
        for c in s.chars() {
            match c {
                '"' => {
                    self.buf.push_str("\\\"");
                    extra += 1;
                }
                '\\' => {
                    self.buf.push_str("\\\\");
                    extra += 1;
                }
                '\n' => {
                    self.buf.push_str("\\n");
                    extra += 1;
                }
                '\r' => {
                    self.buf.push_str("\\r");
                    extra += 1;
                }
                '\t' => {
                    self.buf.push_str("\\t");
                    extra += 1;
                }
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.buf, "\\u{:04x}", c as u32);
                    extra += 5;
                }
                c => self.buf.push(c),
            }
        }
        self.buf.push('"');
        if let Err(e) = self.spend(extra) {
            self.buf.truncate(start);
            return Err(e);
        }
        Ok(())
    }

    /// Appends `{"$bytes":"<hex>"}`.
    pub(crate) fn bytes_obj(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        self.raw("{\"$bytes\":\"")?;
        self.hex(bytes)?;
        self.raw("\"}")
    }

    /// Appends the lowercase hex of `bytes` (no quotes).
    pub(crate) fn hex(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.spend(bytes.len().saturating_mul(2))?;
        self.buf.reserve(bytes.len() * 2);
        for b in bytes {
            self.buf.push(HEX[usize::from(b >> 4)] as char);
            self.buf.push(HEX[usize::from(b & 15)] as char);
        }
        Ok(())
    }

    /// Appends an unsigned integer.
    pub(crate) fn u64(&mut self, v: u64) -> Result<(), DecodeError> {
        self.raw(&v.to_string())
    }

    /// Appends a signed integer (wide enough for CBOR's -2^64).
    pub(crate) fn i128(&mut self, v: i128) -> Result<(), DecodeError> {
        self.raw(&v.to_string())
    }

    /// Appends a float by the crate's convention (see the crate header).
    pub(crate) fn f64(&mut self, v: f64) -> Result<(), DecodeError> {
        if v.is_nan() {
            self.raw("\"NaN\"")
        } else if v.is_infinite() {
            self.raw(if v > 0.0 {
                "\"Infinity\""
            } else {
                "\"-Infinity\""
            })
        } else {
            self.raw(&format!("{v:?}"))
        }
    }

    /// Moves the text written so far out, leaving an empty buffer with the
    /// same remaining budget (for rendering a composite map key on its own).
    pub(crate) fn take(&mut self) -> String {
        std::mem::take(&mut self.buf)
    }

    /// Puts back a buffer taken by [`Out::take`].
    pub(crate) fn restore(&mut self, buf: String) {
        self.buf = buf;
    }
}

/// The value of an IEEE 754 half-precision float, widened exactly.
pub(crate) fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let mant = f64::from(bits & 0x3ff);
    let magnitude = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + mant / 1024.0) * 2f64.powi(e - 15),
    };
    sign * magnitude
}

/// The decimal text of a big-endian unsigned integer of any length (the
/// caller bounds the length: this is quadratic in it).
pub(crate) fn big_decimal(bytes: &[u8]) -> String {
    // Base 10^9 limbs, least significant first.
    let mut limbs: Vec<u32> = Vec::new();
    for &b in bytes {
        let mut carry = u64::from(b);
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * 256 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut s = String::new();
    match limbs.split_last() {
        None => s.push('0'),
        Some((top, rest)) => {
            let _ = write!(s, "{top}");
            for limb in rest.iter().rev() {
                let _ = write!(s, "{limb:09}");
            }
        }
    }
    s
}

/// The decimal text of `-1 - n` for a big-endian unsigned `n` (CBOR tag 3).
pub(crate) fn big_negative_decimal(bytes: &[u8]) -> String {
    // -1 - n = -(n + 1): add one to the big-endian bytes first.
    let mut plus_one = bytes.to_vec();
    let mut carry = true;
    for b in plus_one.iter_mut().rev() {
        if !carry {
            break;
        }
        let (v, overflow) = b.overflowing_add(1);
        *b = v;
        carry = overflow;
    }
    if carry {
        plus_one.insert(0, 1);
    }
    format!("-{}", big_decimal(&plus_one))
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// RFC 3339 UTC text for seconds and nanoseconds since the Unix epoch, or
/// `None` outside years 0000–9999 or with nanoseconds above 999,999,999.
pub(crate) fn rfc3339(seconds: i64, nanos: u32) -> Option<String> {
    if nanos > 999_999_999 {
        return None;
    }
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if nanos != 0 {
        let _ = write!(s, ".{nanos:09}");
    }
    s.push('Z');
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_civil_calendar_agrees_with_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(
            rfc3339(-62_167_219_200, 0).as_deref(),
            Some("0000-01-01T00:00:00Z")
        );
        assert_eq!(rfc3339(253_402_300_800, 0), None);
    }

    #[test]
    fn big_integers_are_written_exactly() {
        assert_eq!(big_decimal(&[]), "0");
        assert_eq!(
            big_decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            "18446744073709551616"
        );
        assert_eq!(big_negative_decimal(&[0xff; 8]), "-18446744073709551616");
    }

    #[test]
    fn a_string_that_would_pass_the_budget_is_refused_and_left_out() {
        let mut out = Out {
            buf: String::new(),
            left: 10,
        };
        assert!(out.string("\u{1}\u{1}\u{1}").is_err());
        assert_eq!(out.buf, "");
    }
}
