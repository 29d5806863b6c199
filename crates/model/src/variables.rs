//! Variables in a publish's topic and payload: `{{counter}}`, `{{now}}`,
//! `{{now_ms}}`, `{{random MIN MAX}}`, `{{uuid}}` (and `{{open}}` for a
//! literal `{{`), replaced each time a message is sent.
//!
//! `{{` always opens a variable and `}}` closes it; spaces inside are
//! ignored (`{{ random 1 6 }}`). A `{{` that is not closed, an unknown name
//! or wrong arguments is an error naming the variable and where it is, so
//! the page refuses to send rather than send the text literally. A single
//! `{` or `}` (JSON) is plain text.
//!
//! Pure: the clock (`now_ms`) and the random source (a function giving
//! numbers in `[0, 1)`, `Math.random` in the page) are passed in, so tests
//! are deterministic.

use std::fmt::Write;

/// One variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// `{{counter}}`: the form's counter (the same value everywhere in one
    /// message).
    Counter,
    /// `{{now}}`: the time as ISO 8601 in UTC with milliseconds.
    Now,
    /// `{{now_ms}}`: the time in ms since the Unix epoch.
    NowMs,
    /// `{{random MIN MAX}}`: a whole number from MIN to MAX, both included.
    Random(i64, i64),
    /// `{{uuid}}`: a random (version 4) UUID.
    Uuid,
    /// `{{open}}`: a literal `{{`.
    Open,
}

/// The names, as the error sentence lists them.
pub const KNOWN: &str = "counter, now, now_ms, random MIN MAX, uuid, open";

/// Text with variables, split into literal text and variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Plain text, sent as it is.
    Text(&'a str),
    /// A variable.
    Var(Var),
}

/// Whether `text` has any `{{`: only then is there anything to replace (or
/// preview).
pub fn has_variables(text: &str) -> bool {
    text.contains("{{")
}

/// Splits `text` into pieces, or says what is wrong (which variable, at
/// which character, counting from 1).
pub fn parse(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest.get(..open).unwrap_or_default()));
        }
        let at = text.get(..offset + open).map_or(0, |s| s.chars().count()) + 1;
        let inner_start = open + 2;
        let after = rest.get(inner_start..).unwrap_or_default();
        let Some(close) = after.find("}}") else {
            return Err(format!(
                "{{{{ at character {at} is not closed with }}}} (write {{{{open}}}} for a literal {{{{)"
            ));
        };
        let inner = after.get(..close).unwrap_or_default();
        pieces.push(Piece::Var(variable(inner, at)?));
        let used = inner_start + close + 2;
        offset += used;
        rest = rest.get(used..).unwrap_or_default();
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

fn variable(inner: &str, at: usize) -> Result<Var, String> {
    let mut words = inner.split_whitespace();
    let name = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let shown = || format!("{{{{{}}}}}", inner.trim());
    let simple = match name {
        "counter" => Some(Var::Counter),
        "now" => Some(Var::Now),
        "now_ms" => Some(Var::NowMs),
        "uuid" => Some(Var::Uuid),
        "open" => Some(Var::Open),
        _ => None,
    };
    if let Some(v) = simple {
        return if args.is_empty() {
            Ok(v)
        } else {
            Err(format!(
                "{} at character {at}: {{{{{name}}}}} takes nothing after its name",
                shown()
            ))
        };
    }
    if name == "random" {
        let bad = || {
            format!(
                "{} at character {at}: write {{{{random MIN MAX}}}} with two whole numbers, e.g. {{{{random 1 100}}}}",
                shown()
            )
        };
        let [min, max] = args.as_slice() else {
            return Err(bad());
        };
        let (Ok(min), Ok(max)) = (min.parse::<i64>(), max.parse::<i64>()) else {
            return Err(bad());
        };
        if min > max {
            return Err(format!(
                "{} at character {at}: MIN ({min}) is above MAX ({max})",
                shown()
            ));
        }
        return Ok(Var::Random(min, max));
    }
    Err(format!(
        "unknown variable {} at character {at} (known: {KNOWN})",
        shown()
    ))
}

/// What the variables are replaced with for one message.
pub struct Values<'r> {
    /// The value of `{{counter}}`.
    pub counter: u64,
    /// The time, in ms since the Unix epoch.
    pub now_ms: u64,
    /// Random numbers in `[0, 1)`.
    pub random: &'r mut dyn FnMut() -> f64,
}

/// `text` with its variables replaced, or what is wrong with them.
pub fn expand(text: &str, values: &mut Values<'_>) -> Result<String, String> {
    if !has_variables(text) {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len() + 16);
    for piece in parse(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(Var::Counter) => push_num(&mut out, values.counter),
            Piece::Var(Var::NowMs) => push_num(&mut out, values.now_ms),
            Piece::Var(Var::Now) => out.push_str(&iso8601(values.now_ms)),
            Piece::Var(Var::Random(min, max)) => {
                let n = random_in(min, max, (values.random)());
                let _ = write!(out, "{n}");
            }
            Piece::Var(Var::Uuid) => out.push_str(&uuid_v4(values.random)),
            Piece::Var(Var::Open) => out.push_str("{{"),
        }
    }
    Ok(out)
}

/// Whether `text` uses `{{counter}}` (well-formed text only).
pub fn uses_counter(text: &str) -> bool {
    has_variables(text) && parse(text).is_ok_and(|p| p.contains(&Piece::Var(Var::Counter)))
}

fn push_num(out: &mut String, n: u64) {
    let _ = write!(out, "{n}");
}

/// A whole number from `min` to `max` (both included) picked by `r` in
/// `[0, 1)`; an `r` outside that range is clamped.
pub fn random_in(min: i64, max: i64, r: f64) -> i64 {
    let span = (i128::from(max) - i128::from(min) + 1) as f64;
    let r = if r.is_finite() {
        r.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let step = (r * span) as i128;
    let n = i128::from(min) + step;
    n.clamp(i128::from(min), i128::from(max)) as i64
}

/// A version 4 UUID (lowercase, hyphenated) from 16 random bytes.
pub fn uuid_v4(random: &mut dyn FnMut() -> f64) -> String {
    let mut out = String::with_capacity(36);
    for i in 0..16u8 {
        let mut byte = (random().clamp(0.0, 1.0) * 256.0) as u32 as u8;
        if i == 6 {
            byte = (byte & 0x0f) | 0x40;
        } else if i == 8 {
            byte = (byte & 0x3f) | 0x80;
        }
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// `ms` since the Unix epoch as ISO 8601 in UTC: `2026-11-30T18:08:09.123Z`.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(values: &'static [f64]) -> impl FnMut() -> f64 {
        let mut i = 0;
        move || {
            let v = values[i % values.len()];
            i += 1;
            v
        }
    }

    fn run(text: &str, counter: u64, now_ms: u64, r: &'static [f64]) -> Result<String, String> {
        let mut random = fixed(r);
        expand(
            text,
            &mut Values {
                counter,
                now_ms,
                random: &mut random,
            },
        )
    }

    #[test]
    fn text_without_variables_is_sent_as_it_is_including_json_braces() {
        for t in ["", "plain", "{\"a\":{\"b\":1}}", "a } } b { c", "}}"] {
            assert_eq!(run(t, 1, 0, &[0.5]).as_deref(), Ok(t));
        }
    }

    #[test]
    fn each_variable_is_replaced() {
        let now = 1_764_525_489_123; // 2025-11-30T17:58:09.123Z
        assert_eq!(
            run(
                "{\"n\":{{counter}},\"t\":\"{{now}}\",\"ms\":{{now_ms}}}",
                7,
                now,
                &[0.0]
            )
            .as_deref(),
            Ok("{\"n\":7,\"t\":\"2025-11-30T17:58:09.123Z\",\"ms\":1764525489123}")
        );
        assert_eq!(
            run("d/{{ counter }}/x", 42, 0, &[0.0]).as_deref(),
            Ok("d/42/x")
        );
        assert_eq!(run("{{open}}x}}", 1, 0, &[0.0]).as_deref(), Ok("{{x}}"));
        assert_eq!(run("{{random 1 6}}", 1, 0, &[0.0]).as_deref(), Ok("1"));
        assert_eq!(
            run("{{random 1 6}}", 1, 0, &[0.999_999]).as_deref(),
            Ok("6")
        );
        assert_eq!(run("{{random -5 -5}}", 1, 0, &[0.3]).as_deref(), Ok("-5"));
        assert_eq!(
            run("{{random 1 6}},{{random 1 6}}", 1, 0, &[0.0, 0.5]).as_deref(),
            Ok("1,4")
        );
    }

    #[test]
    fn random_numbers_cover_the_whole_range_evenly() {
        let mut counts = [0u32; 6];
        for i in 0..600 {
            let n = random_in(1, 6, f64::from(i) / 600.0);
            counts[(n - 1) as usize] += 1;
        }
        assert_eq!(counts, [100; 6]);
        assert_eq!(random_in(i64::MIN, i64::MAX, 0.0), i64::MIN);
        assert_eq!(random_in(i64::MIN, i64::MAX, 1.0), i64::MAX);
        assert_eq!(random_in(0, 10, f64::NAN), 0);
        assert_eq!(random_in(0, 10, 7.0), 10);
    }

    #[test]
    fn a_uuid_is_version_4_with_the_rfc_variant() {
        let id = run("{{uuid}}", 1, 0, &[0.0, 0.999, 0.5, 0.25]).unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id, "00ff8040-00ff-4040-80ff-804000ff8040");
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        let a = run("{{uuid}}", 1, 0, &[0.1, 0.2, 0.3]).unwrap();
        let b = run("{{uuid}}", 1, 0, &[0.7, 0.8]).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn iso_dates_match_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(iso8601(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
        assert_eq!(iso8601(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn malformed_or_unknown_variables_are_errors_that_say_where() {
        let err = |t: &str| run(t, 1, 0, &[0.5]).unwrap_err();
        assert_eq!(
            err("ab{{nope}}"),
            "unknown variable {{nope}} at character 3 (known: counter, now, now_ms, random MIN MAX, uuid, open)"
        );
        assert_eq!(
            err("é{{counter"),
            "{{ at character 2 is not closed with }} (write {{open}} for a literal {{)"
        );
        assert_eq!(
            err("{{counter}} {{random 1}}"),
            "{{random 1}} at character 13: write {{random MIN MAX}} with two whole numbers, e.g. {{random 1 100}}"
        );
        assert!(err("{{random a b}}").contains("two whole numbers"));
        assert!(err("{{random 1.5 2}}").contains("two whole numbers"));
        assert_eq!(
            err("{{random 6 1}}"),
            "{{random 6 1}} at character 1: MIN (6) is above MAX (1)"
        );
        assert_eq!(
            err("{{now 3}}"),
            "{{now 3}} at character 1: {{now}} takes nothing after its name"
        );
        assert!(err("{{}}").starts_with("unknown variable {{}} at character 1"));
        assert!(err("{{{{}}").starts_with("unknown variable {{{{}} at character 1"));
    }

    #[test]
    fn uses_counter_only_for_well_formed_text_with_it() {
        assert!(uses_counter("a/{{counter}}"));
        assert!(uses_counter("{{ counter }}"));
        assert!(!uses_counter("a/{{now}}"));
        assert!(!uses_counter("counter"));
        assert!(!uses_counter("{{counter}} {{bad}}"));
    }

    #[test]
    fn hostile_text_never_panics() {
        for t in [
            "{{",
            "{{{",
            "}}{{",
            "{{ }}",
            "{{random}}",
            "{{random 9223372036854775807 9223372036854775807}}",
            "{{random -9223372036854775808 9223372036854775807}}",
            "€{{€}}",
            "{{\u{0}}}",
        ] {
            let _ = run(t, u64::MAX, u64::MAX, &[0.999]);
            let _ = parse(t);
        }
    }
}
