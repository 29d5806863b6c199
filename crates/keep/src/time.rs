//! ISO 8601 UTC times (`2026-11-30T18:00:00.123Z`) to and from ms since the
//! Unix epoch, for the `time` field of NDJSON and CSV.
//!
//! Pure arithmetic on the proleptic Gregorian calendar (no clock, no time
//! zone database): a time with an offset is converted to UTC. It must not
//! panic on any input; what it cannot read is `None`.

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The earliest and latest ms [`format`] writes with a four-digit year.
pub const MIN_MS: f64 = -62_167_219_200_000.0; // 0000-01-01T00:00:00.000Z
/// See [`MIN_MS`].
pub const MAX_MS: f64 = 253_402_300_799_999.0; // 9999-12-31T23:59:59.999Z

/// `ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (whole milliseconds, rounded down;
/// outside years 0–9999, and for a time that is not a number, the nearest
/// end of that range: the exact time is in the `ms` field beside it).
#[must_use]
pub fn format(ms: f64) -> String {
    let ms = if ms.is_nan() {
        0.0
    } else {
        ms.clamp(MIN_MS, MAX_MS)
    };
    // Within the clamp the value fits an i64 exactly.
    let ms = ms.floor() as i64;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Digits at `s[at..at + n]` as a number.
fn digits(s: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a space may stand for
/// `T`, `z` for `Z`; `±HHMM` and `±HH` offsets too) as ms since the epoch.
/// Fractions finer than a millisecond are kept as a fraction of a ms.
#[must_use]
pub fn parse(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (h, mi, sec) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let mut at = 19;
    let mut frac_ms = 0.0f64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        let mut scale = 100.0;
        while let Some(c) = b.get(at).filter(|c| c.is_ascii_digit()) {
            frac_ms += f64::from(c - b'0') * scale;
            scale /= 10.0;
            at += 1;
        }
        if at == start || at - start > 9 {
            return None;
        }
    }
    let offset_min = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, at + 1, 2)?;
            let rest = b.get(at + 3..)?;
            let om = match rest {
                [] => 0,
                [b':', ..] if rest.len() == 3 => digits(b, at + 4, 2)?,
                _ if rest.len() == 2 => digits(b, at + 3, 2)?,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs as f64 * 1000.0 + frac_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_spec_example_formats_and_parses() {
        assert_eq!(format(1_796_061_600_123.0), "2026-11-30T18:00:00.123Z");
        assert_eq!(parse("2026-11-30T18:00:00.123Z"), Some(1_796_061_600_123.0));
    }

    #[test]
    fn the_epoch_leap_days_and_times_before_1970_are_right() {
        assert_eq!(format(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(-1.0), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse("2024-02-29T00:00:00Z"), Some(1_709_164_800_000.0));
        assert_eq!(parse("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse("1900-02-29T00:00:00Z"), None);
        assert_eq!(parse("2000-02-29T00:00:00Z"), Some(951_782_400_000.0));
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let utc = parse("2026-11-30T18:00:00Z");
        assert_eq!(parse("2026-11-30T19:30:00+01:30"), utc);
        assert_eq!(parse("2026-11-30T13:00:00-0500"), utc);
        assert_eq!(parse("2026-11-30 20:00:00+02"), utc);
    }

    #[test]
    fn malformed_times_are_none() {
        for s in [
            "",
            "2026-11-30",
            "2026-13-01T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T18:00:00",
            "2026-11-30T18:00:00.Z",
            "2026-11-30T18:00:00.1234567890Z",
            "2026-11-30T18:00:00Zjunk",
            "2026-11-30T18:00:00+25:00",
            "２０２６-11-30T18:00:00Z",
            "+2026-11-30T18:00:00Z",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }

    #[test]
    fn times_out_of_range_or_not_a_number_are_clamped_not_a_panic() {
        assert_eq!(format(f64::INFINITY), "9999-12-31T23:59:59.999Z");
        assert_eq!(format(f64::NEG_INFINITY), "0000-01-01T00:00:00.000Z");
        assert_eq!(format(f64::NAN), "1970-01-01T00:00:00.000Z");
    }

    proptest! {
        #[test]
        fn every_whole_ms_in_range_round_trips(ms in -62_167_219_200_000i64..253_402_300_799_999) {
            prop_assert_eq!(parse(&format(ms as f64)), Some(ms as f64));
        }

        #[test]
        fn any_string_parses_or_is_none_without_panic(s in ".{0,40}") {
            let _ = parse(&s);
        }
    }
}
