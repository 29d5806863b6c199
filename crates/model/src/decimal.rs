//! Decimal text to and from `f64` without core's float parsing and
//! formatting code, with the same results as core's.
//!
//! Core's parser carries a 10 KB table of powers of five (Eisel-Lemire) and
//! its formatter Grisu and Dragon4 with their own tables: about 20 KB of the
//! page's gzipped wasm, for a few numbers per message and per frame.
//! [`parse_finite`] takes Clinger's fast path for plain decimals (a few
//! digits, a small exponent: one exact IEEE operation) and rounds anything
//! longer with exact big-integer arithmetic; [`Shortest`], [`Fixed`] and
//! [`Exp`] print the exact decimal expansion of the value with the same
//! rounding rules as `{}`, `{:.N}` and `{:e}`. Slower than core's, which
//! does not matter at the handful of numbers a frame shows; the tests
//! compare every function with core's on many values.

use std::fmt;

/// `text.parse::<f64>().ok().filter(|v| v.is_finite())`: the same grammar
/// (optional sign, digits with an optional point, optional exponent; `inf`
/// and `NaN` give `None` like any value that is not finite) and the same
/// correctly rounded value. For short texts (the callers' are at most a few
/// hundred bytes): the exact path is quadratic in the number of digits.
pub fn parse_finite(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    let int_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (int_part, rest) = rest.split_at(int_len);
    let (frac_part, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let frac_len = after.iter().take_while(|b| b.is_ascii_digit()).count();
            after.split_at(frac_len)
        }
        _ => (&[][..], rest),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exp = -(frac_part.len() as i64);
    match rest.split_first() {
        None => {}
        Some((b'e' | b'E', after)) => {
            let (minus, after) = match after.split_first() {
                Some((b'-', after)) => (true, after),
                Some((b'+', after)) => (false, after),
                _ => (false, after),
            };
            if after.is_empty() || !after.iter().all(u8::is_ascii_digit) {
                return None;
            }
            // Saturates far beyond any finite, non-zero result.
            let e = after
                .iter()
                .fold(0i64, |e, &b| (e * 10 + i64::from(b - b'0')).min(1 << 40));
            exp += if minus { -e } else { e };
        }
        Some(_) => return None,
    }
    // The significant digits: no leading zeros, trailing zeros into `exp`.
    let all = || int_part.iter().chain(frac_part).map(|&b| b - b'0');
    let leading = all().take_while(|&d| d == 0).count();
    let trailing = all().rev().take_while(|&d| d == 0).count();
    let count = (int_part.len() + frac_part.len()).saturating_sub(leading + trailing);
    exp += trailing as i64;
    let digits = || all().skip(leading).take(count);
    let magnitude = magnitude(digits, count as i64, exp)?;
    Some(if negative { -magnitude } else { magnitude })
}

/// `10^k` correctly rounded (0 below the smallest subnormal, infinity above
/// `f64::MAX`), like the literal `1e{k}`: [`parse_finite`] of that text,
/// instead of libm's `pow`, which is 2 KB of wasm and, on wasm, one unit in
/// the last place off for some `k` (1e-5, 1e-11, 1e29, …).
pub fn pow10(k: i32) -> f64 {
    parse_finite(&format!("1e{k}")).unwrap_or(f64::INFINITY)
}

/// The correctly rounded value of `digits × 10^exp` (`count` digits without
/// leading or trailing zeros), or `None` when it rounds to infinity.
fn magnitude<I: Iterator<Item = u8>>(digits: impl Fn() -> I, count: i64, exp: i64) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if count == 0 || count + exp < -330 {
        return Some(0.0);
    }
    if count + exp > 310 {
        return None;
    }
    if count <= 19 {
        let small = digits().fold(0u64, |n, d| n * 10 + u64::from(d));
        if small <= 1 << 53 {
            // Clinger's fast path: both operands exact, one rounding.
            if let Some(&pow) = POW10.get(exp.unsigned_abs() as usize) {
                return Some(if exp < 0 {
                    small as f64 / pow
                } else {
                    small as f64 * pow
                });
            }
        }
    }
    // The exact rational numerator / denominator.
    let mut numerator = Big::default();
    for d in digits() {
        numerator.mul_add(10, u32::from(d));
    }
    let mut denominator = Big(vec![1]);
    let scaled = if exp < 0 {
        &mut denominator
    } else {
        &mut numerator
    };
    for _ in 0..exp.unsigned_abs() {
        scaled.mul_add(10, 0);
    }
    // q = floor(numerator / (denominator × 2^e2)) has 53 or 54 bits.
    let mut e2 = numerator.bits() - denominator.bits() - 53;
    if e2 < -1074 {
        e2 = -1074;
    }
    if e2 < 0 {
        numerator = numerator.shl(e2.unsigned_abs());
    } else {
        denominator = denominator.shl(e2.unsigned_abs());
    }
    let mut step = denominator.shl(54);
    let mut q: u64 = 0;
    for bit in (0..54).rev() {
        step.shr1();
        if numerator.at_least(&step) {
            numerator.sub(&step);
            q |= 1 << bit;
        }
    }
    let round_up = if q >= 1 << 53 {
        let half = q & 1 == 1;
        q >>= 1;
        e2 += 1;
        half && (!numerator.is_zero() || q & 1 == 1)
    } else {
        let twice = numerator.shl(1);
        twice.at_least(&denominator) && (q & 1 == 1 || !denominator.at_least(&twice))
    };
    if round_up {
        q += 1;
        if q == 1 << 53 {
            q >>= 1;
            e2 += 1;
        }
    }
    if e2 > 971 {
        return None;
    }
    let bits = if q < 1 << 52 {
        q
    } else {
        ((e2 + 1075) as u64) << 52 | (q & ((1 << 52) - 1))
    };
    Some(f64::from_bits(bits))
}

/// Formats like `format!("{}", self.0)`: the shortest digits that read back
/// as the same `f64`, never in exponent notation. Like [`Fixed`] and [`Exp`],
/// it ignores the formatter's width, fill and precision.
pub struct Shortest(pub f64);

/// Formats like `format!("{:.N}", self.0)` for `N = self.1` decimals: the
/// exact value rounded half to even.
pub struct Fixed(pub f64, pub usize);

/// Formats like `format!("{:e}", self.0)`: the shortest digits in exponent
/// notation (`1.5e-7`).
pub struct Exp(pub f64);

impl fmt::Display for Shortest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if let Some(special) = special(v) {
            return f.write_str(special);
        }
        let sign = if v.is_sign_negative() { "-" } else { "" };
        let (digits, point) = shortest(v);
        let mut out = String::from(sign);
        if digits.is_empty() {
            out.push('0');
        } else if point <= 0 {
            out.push_str("0.");
            push_zeros(&mut out, point.unsigned_abs() as usize);
            push_digits(&mut out, &digits);
        } else {
            let point = point as usize;
            let (int, frac) = digits.split_at(point.min(digits.len()));
            push_digits(&mut out, int);
            push_zeros(&mut out, point.saturating_sub(digits.len()));
            if !frac.is_empty() {
                out.push('.');
                push_digits(&mut out, frac);
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Display for Exp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if let Some(special) = special(v) {
            return f.write_str(special);
        }
        let mut out = String::from(if v.is_sign_negative() { "-" } else { "" });
        let (digits, point) = shortest(v);
        match digits.split_first() {
            None => out.push_str("0e0"),
            Some((first, rest)) => {
                push_digits(&mut out, &[*first]);
                if !rest.is_empty() {
                    out.push('.');
                    push_digits(&mut out, rest);
                }
                out.push('e');
                out.push_str(&(i64::from(point) - 1).to_string());
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fixed(v, decimals) = *self;
        if let Some(special) = special(v) {
            return f.write_str(special);
        }
        let (mant, exp) = integer_decode(v);
        // v × 10^decimals = digits × 10^(decimals - fraction digits).
        let mut digits = exact_digits(mant, exp);
        let fraction = exp.min(0).unsigned_abs() as usize;
        if decimals >= fraction {
            digits.resize(digits.len() + decimals - fraction, 0);
        } else {
            let cut = fraction - decimals;
            let keep = digits.len().checked_sub(cut);
            digits = match keep {
                None => Vec::new(),
                Some(keep) => {
                    let rest = digits.split_off(keep);
                    let last_odd = digits.last().is_some_and(|d| d % 2 == 1);
                    let up = match rest.split_first() {
                        Some((&first, tail)) => {
                            first > 5 || (first == 5 && (last_odd || tail.iter().any(|&d| d != 0)))
                        }
                        None => false,
                    };
                    if up {
                        increment(&mut digits);
                    }
                    digits
                }
            };
        }
        let mut out = String::from(if v.is_sign_negative() { "-" } else { "" });
        if digits.len() <= decimals {
            let mut padded = vec![0; decimals + 1 - digits.len()];
            padded.append(&mut digits);
            digits = padded;
        }
        let (int, frac) = digits.split_at(digits.len() - decimals);
        push_digits(&mut out, int);
        if decimals > 0 {
            out.push('.');
            push_digits(&mut out, frac);
        }
        f.write_str(&out)
    }
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v.is_infinite() {
        Some(if v < 0.0 { "-inf" } else { "inf" })
    } else {
        None
    }
}

fn push_digits(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|&d| char::from(b'0' + d)));
}

fn push_zeros(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('0', n));
}

/// Adds one to a decimal digit string (`999` becomes `1000`).
fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

/// `|v| = mant × 2^exp`, as core's `integer_decode` (a subnormal's mantissa
/// is doubled).
fn integer_decode(v: f64) -> (u64, i32) {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    if biased == 0 {
        (frac << 1, -1075)
    } else {
        (frac | 1 << 52, biased - 1075)
    }
}

/// The decimal digits of `mant × 2^exp` times `10^max(0, -exp)` (an
/// integer), most significant first, without leading zeros (none for 0).
fn exact_digits(mant: u64, exp: i32) -> Vec<u8> {
    let mut big = Big(vec![mant as u32, (mant >> 32) as u32]);
    big.trim();
    if exp >= 0 {
        big = big.shl(u64::from(exp.unsigned_abs()));
    } else {
        // × 5^-exp, in steps of 5^13 (the largest power of five in a u32).
        let mut left = exp.unsigned_abs();
        while left > 0 {
            let step = left.min(13);
            big.mul_add(5u32.pow(step), 0);
            left -= step;
        }
    }
    let mut chunks = Vec::new();
    while !big.is_zero() {
        chunks.push(big.div_small(1_000_000_000));
    }
    let mut digits = Vec::with_capacity(chunks.len() * 9);
    for chunk in chunks.iter().rev() {
        let mut c = *chunk;
        let mut nine = [0u8; 9];
        for d in nine.iter_mut().rev() {
            *d = (c % 10) as u8;
            c /= 10;
        }
        digits.extend_from_slice(&nine);
    }
    let leading = digits.iter().take_while(|&&d| d == 0).count();
    digits.split_off(leading)
}

/// The shortest digits `d` (no trailing zeros) and the point `k` with
/// `0.d × 10^k` reading back as `|v|`, the closest such to `|v|` (ties
/// round up): what core's Grisu and Dragon4 shortest modes produce.
fn shortest(v: f64) -> (Vec<u8>, i32) {
    shortest_digits(v, false)
}

/// [`shortest`], or with `ties_even` what zmij and ryu (serde_json's
/// number printers, laid out by [`crate::json`]) produce: the same except
/// that of two shortest candidates exactly as close to `|v|`, the even one
/// (`1000000000044365.25` is `…365.2`, where core prints `…365.3`).
pub(crate) fn shortest_digits(v: f64, ties_even: bool) -> (Vec<u8>, i32) {
    let (raw, raw_exp) = integer_decode(v);
    if raw == 0 {
        return (Vec::new(), 0);
    }
    // As core's `flt2dec::decode`: the value and the midpoints to its
    // neighbours as integers times one power of two.
    let even = raw & 1 == 0;
    let (mant, minus, plus, exp) = if raw_exp == -1075 {
        (raw, 1, 1, raw_exp)
    } else if raw == 1 << 52 {
        (raw << 2, 1, 2, raw_exp - 2)
    } else {
        (raw << 1, 1, 1, raw_exp - 1)
    };
    let value = exact_digits(mant, exp);
    let low = exact_digits(mant - minus, exp);
    let high = exact_digits(mant + plus, exp);
    // All three carry the same number of fraction digits.
    let fraction = exp.min(0).unsigned_abs() as i32;
    let len = value.len();
    for p in 1..=len {
        let (head, rest) = value.split_at(p);
        let cut = len - p;
        // floor = head × 10^cut, ceil = (head + 1) × 10^cut.
        let floor_cmp = compare_scaled(head, cut, &low);
        let down = floor_cmp == std::cmp::Ordering::Greater
            || (even && floor_cmp == std::cmp::Ordering::Equal);
        let mut ceil = head.to_vec();
        increment(&mut ceil);
        let ceil_cmp = compare_scaled(&ceil, cut, &high);
        let up =
            ceil_cmp == std::cmp::Ordering::Less || (even && ceil_cmp == std::cmp::Ordering::Equal);
        if !(down || up) {
            continue;
        }
        // Round up when only up fits, or both fit and the rest is at least
        // half a unit.
        let half = rest.first().is_some_and(|&d| d >= 5);
        let tie = rest
            .split_first()
            .is_some_and(|(&d, tail)| d == 5 && tail.iter().all(|&d| d == 0));
        let odd = head.last().is_some_and(|&d| d % 2 == 1);
        let round_up = up && (!down || (half && !(ties_even && tie && !odd)));
        let (mut digits, mut point) = (head.to_vec(), len as i32 - fraction);
        if round_up {
            if ceil.len() > head.len() {
                point += 1;
            }
            digits = ceil;
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        return (digits, point);
    }
    (value, len as i32 - fraction)
}

/// Compares `head × 10^zeros` with `other` (digit strings without leading
/// zeros).
fn compare_scaled(head: &[u8], zeros: usize, other: &[u8]) -> std::cmp::Ordering {
    let len = head.len() + zeros;
    len.cmp(&other.len()).then_with(|| {
        let padded = head.iter().copied().chain(std::iter::repeat(0));
        padded
            .zip(other.iter().copied())
            .map(|(a, b)| a.cmp(&b))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

/// An unsigned big integer, little-endian 32-bit limbs, no high zero limbs.
#[derive(Default)]
struct Big(Vec<u32>);

impl Big {
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn bits(&self) -> i64 {
        match self.0.last() {
            Some(&top) => 32 * self.0.len() as i64 - i64::from(top.leading_zeros()),
            None => 0,
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn shl(&self, n: u64) -> Big {
        let (words, bits) = ((n / 32) as usize, (n % 32) as u32);
        let mut out = vec![0; words];
        let mut carry = 0u32;
        for &limb in &self.0 {
            if bits == 0 {
                out.push(limb);
            } else {
                out.push(limb << bits | carry);
                carry = limb >> (32 - bits);
            }
        }
        if carry != 0 {
            out.push(carry);
        }
        let mut big = Big(out);
        big.trim();
        big
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let next = *limb << 31;
            *limb = *limb >> 1 | carry;
            carry = next;
        }
        self.trim();
    }

    /// `self >= other`.
    fn at_least(&self, other: &Big) -> bool {
        if self.0.len() != other.0.len() {
            return self.0.len() > other.0.len();
        }
        for (a, b) in self.0.iter().rev().zip(other.0.iter().rev()) {
            if a != b {
                return a > b;
            }
        }
        true
    }

    /// `self -= other`, for `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = false;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let o = other.0.get(i).copied().unwrap_or(0);
            let (v, b1) = limb.overflowing_sub(o);
            let (v, b2) = v.overflowing_sub(u32::from(borrow));
            *limb = v;
            borrow = b1 || b2;
        }
        self.trim();
    }

    /// `self /= d`, returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = rem << 32 | u64::from(*limb);
            *limb = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_finite, pow10};

    #[test]
    fn powers_of_ten_are_the_literals() {
        for k in -400..=400 {
            let literal: f64 = format!("1e{k}").parse().unwrap();
            assert_eq!(pow10(k).to_bits(), literal.to_bits(), "1e{k}");
        }
        assert_eq!(pow10(i32::MIN), 0.0);
        assert_eq!(pow10(i32::MAX), f64::INFINITY);
    }

    fn std_parse(text: &str) -> Option<f64> {
        text.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    fn check(text: &str) {
        let (ours, theirs) = (parse_finite(text), std_parse(text));
        assert_eq!(
            ours.map(f64::to_bits),
            theirs.map(f64::to_bits),
            "{text:?}: {ours:?} vs {theirs:?}"
        );
    }

    #[test]
    fn grammar_and_special_values_match_std() {
        for text in [
            "", "+", "-", ".", "+.", "e5", "1e", "1e+", "1e-", "1.5.2", "1..2", " 1", "1 ", "1_0",
            "0x10", "inf", "-inf", "infinity", "NaN", "nan", "1,5", "--1", "+-1", "1e5.5", "1ee5",
            "0", "-0", "+0", "0.0", "-0.0", "00", "007", "1.", ".5", "-.5", "+.5e-3", "1E3",
            "1e+03", "1e-0", "0e999999999999999999999", "1e999999999999999999999",
            "1e-999999999999999999999", "-1e-400", "22.1", "1013.25", "-40.125", "3.14159",
            "1700000000.123", "1700000000123456", "9007199254740993", "9007199254740992.5",
            "0.30000000000000004", "0.1", "0.2", "0.3", "1e22", "1e23", "1e-22", "1e-23",
            "123456789012345678901234567890", "1.7976931348623157e308", "1.7976931348623158e308",
            "1.7976931348623159e308", "1.797693134862315807e308", "1.797693134862315808e308",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "2.2250738585072012e-308",
            "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
            "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
            "1e-324", "1e-323", "5e-324", "3e-324", "1e308", "1e309", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
            "0.000000000000000000000000000000000000000000001e300", "000000123.4560000e0003",
        ] {
            check(text);
        }
    }

    #[test]
    fn random_decimals_match_std() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..40_000 {
            let r = next();
            let digits = 1 + (r % 30) as usize;
            let mut text = String::new();
            if r >> 8 & 1 == 1 {
                text.push('-');
            }
            let point = (r >> 9) as usize % (digits + 2);
            for k in 0..digits {
                if k == point {
                    text.push('.');
                }
                let d = next() % 10;
                text.push(char::from(b'0' + d as u8));
            }
            if r >> 20 & 1 == 1 {
                let e = (next() % 700) as i64 - 350;
                text.push_str(&format!("e{e}"));
            }
            check(&text);
        }
    }

    #[test]
    fn every_f64_printed_shortest_or_long_comes_back() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if !v.is_finite() {
                continue;
            }
            check(&format!("{v}"));
            check(&format!("{v:e}"));
            check(&format!("{v:.20e}"));
            check(&format!("{v:.40e}"));
        }
    }

    /// Adds two non-negative fixed-point decimals with the same number of
    /// fraction digits (`{:.N}` output).
    fn add_fixed(a: &str, b: &str) -> String {
        let width = a.len().max(b.len()) + 1;
        let (a, b) = (format!("{a:0>width$}"), format!("{b:0>width$}"));
        let mut out = Vec::new();
        let mut carry = 0;
        for (x, y) in a.bytes().rev().zip(b.bytes().rev()) {
            if x == b'.' {
                out.push(b'.');
                continue;
            }
            let s = (x - b'0') + (y - b'0') + carry;
            out.push(b'0' + s % 10);
            carry = s / 10;
        }
        out.reverse();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn exact_halfway_points_round_to_even_and_their_neighbours_do_not() {
        let mut state: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Positive values from about 2^-40 to 2^50.
            let bits = (state & ((1 << 52) - 1)) | ((983 + (state >> 52) % 90) << 52);
            let v = f64::from_bits(bits);
            let half_ulp = f64::from_bits(((bits >> 52) - 53) << 52);
            let mid = add_fixed(&format!("{v:.200}"), &format!("{half_ulp:.200}"));
            check(&mid);
            check(&format!("{mid}1"));
            let below = mid.trim_end_matches('0');
            let last = below.len() - 1;
            let lowered = below.as_bytes()[last] - 1;
            check(&format!("{}{}9", &below[..last], char::from(lowered)));
        }
    }

    fn check_format(v: f64) {
        use super::{Exp, Fixed, Shortest};
        assert_eq!(Shortest(v).to_string(), format!("{v}"), "{v:e}");
        assert_eq!(Exp(v).to_string(), format!("{v:e}"), "{v:e}");
        for decimals in [0, 1, 2, 3, 5, 12, 17, 30] {
            assert_eq!(
                Fixed(v, decimals).to_string(),
                format!("{v:.decimals$}"),
                "{v:e} .{decimals}"
            );
        }
    }

    #[test]
    fn formatting_matches_std_on_special_values() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            0.05,
            0.25,
            0.35,
            0.125,
            -0.04,
            0.1,
            0.2,
            0.3,
            0.1 + 0.2,
            22.1,
            1013.25,
            99.95,
            9.995,
            0.9999,
            999.9999,
            1e15,
            1e16,
            1e21,
            1e22,
            1e23,
            1e-7,
            1e-5,
            123456789.123,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            1e-323,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            9007199254740992.0,
            4503599627370496.5,
            0.000_001_5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            check_format(v);
        }
        for e in -1074..1024 {
            check_format(2f64.powi(e));
        }
        for e in -330..310 {
            check_format(format!("1e{e}").parse().unwrap());
            check_format(format!("5e{e}").parse().unwrap());
        }
    }

    #[test]
    fn formatting_matches_std_on_random_values() {
        let mut state: u64 = 0x0123_4567_89ab_cdef;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            // Any bit pattern, then everyday magnitudes with few digits.
            check_format(f64::from_bits(next()));
            let r = next();
            let digits = (r % 1_000_000) as f64;
            let scale = 10f64.powi((r >> 32) as i32 % 8);
            check_format(digits / scale);
            check_format(-(digits / scale) * 1e-3);
        }
    }
}
