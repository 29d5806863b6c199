//! Test support: a small JSON reader that keeps what the comparison needs and
//! `serde_json` drops (object key order, duplicate keys, the exact text of
//! integers of any size), and the comparison of two such trees.
//!
//! Numbers compare exactly when both are integers (by their digits) and by
//! `f64` value otherwise, because Python writes `1.0` where the crate writes
//! `1.0` too but `1e+300` where the crate writes `1e300`.

#![allow(dead_code)]

use std::path::PathBuf;

/// A JSON value with its objects as ordered lists of members.
#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// Parses JSON text strictly (the whole text, RFC 8259 grammar).
pub fn parse(text: &str) -> Result<J, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing text at {}", p.i));
    }
    Ok(v)
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.i))
        }
    }
    fn value(&mut self, depth: usize) -> Result<J, String> {
        if depth > 1000 {
            return Err("too deep".into());
        }
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(J::Obj(members));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.ws();
                    if self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                    } else {
                        self.eat(b'}')?;
                        return Ok(J::Obj(members));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(J::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                    } else {
                        self.eat(b']')?;
                        return Ok(J::Arr(items));
                    }
                }
            }
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b't') => self.word("true", J::Bool(true)),
            Some(b'f') => self.word("false", J::Bool(false)),
            Some(b'n') => self.word("null", J::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(format!("unexpected text at {}", self.i)),
        }
    }
    fn word(&mut self, w: &str, v: J) -> Result<J, String> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }
    fn number(&mut self) -> Result<J, String> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while matches!(p.s.get(p.i), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i > s
        };
        if self.s.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return Err(format!("bad number at {start}"));
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(format!("bad fraction at {start}"));
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(format!("bad exponent at {start}"));
            }
        }
        Ok(J::Num(
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
        ))
    }
    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out: Vec<u16> = Vec::new();
        let mut bytes = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("bad escape")?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let h = std::str::from_utf8(
                                self.s.get(self.i..self.i + 4).ok_or("bad \\u")?,
                            )
                            .map_err(|e| e.to_string())?;
                            let unit = u16::from_str_radix(h, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            flush(&mut bytes, &mut out)?;
                            out.push(unit);
                            continue;
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    };
                    let mut b = [0; 4];
                    bytes.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
                c if c < 0x20 => return Err(format!("raw control character at {}", self.i - 1)),
                c => bytes.push(c),
            }
        }
        flush(&mut bytes, &mut out)?;
        String::from_utf16(&out).map_err(|e| e.to_string())
    }
}

fn flush(bytes: &mut Vec<u8>, out: &mut Vec<u16>) -> Result<(), String> {
    let s = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    out.extend(s.encode_utf16());
    bytes.clear();
    Ok(())
}

fn is_integer(n: &str) -> bool {
    !n.contains(['.', 'e', 'E'])
}

/// Whether two values are the same by the crate's conventions; on a
/// difference, the path where it is.
pub fn same(a: &J, b: &J, path: &str) -> Result<(), String> {
    match (a, b) {
        (J::Null, J::Null) => Ok(()),
        (J::Bool(x), J::Bool(y)) if x == y => Ok(()),
        (J::Str(x), J::Str(y)) if x == y => Ok(()),
        (J::Num(x), J::Num(y)) => {
            let equal = if is_integer(x) && is_integer(y) {
                x == y
            } else {
                // A float on one side must be a float on the other (the
                // crate always writes `.0` or an exponent for floats), and
                // the values must be the same double.
                !is_integer(x)
                    && !is_integer(y)
                    && x.parse::<f64>().ok().map(f64::to_bits)
                        == y.parse::<f64>().ok().map(f64::to_bits)
            };
            if equal {
                Ok(())
            } else {
                Err(format!("{path}: {x} ≠ {y}"))
            }
        }
        (J::Arr(x), J::Arr(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (J::Obj(x), J::Obj(y)) if x.len() == y.len() => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                if k1 != k2 {
                    return Err(format!("{path}: key {k1:?} ≠ {k2:?}"));
                }
                same(v1, v2, &format!("{path}.{k1}"))?;
            }
            Ok(())
        }
        _ => Err(format!("{path}: {a:?} ≠ {b:?}")),
    }
}

/// The vectors directory of this crate.
pub fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// Every `<name>.bin` with its `<name>.json` in `vectors/<sub>`, sorted.
pub fn cases(sub: &str) -> Vec<(String, Vec<u8>, String)> {
    let dir = vectors().join(sub);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".bin"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let bin = std::fs::read(dir.join(format!("{n}.bin"))).expect("payload");
            let json =
                std::fs::read_to_string(dir.join(format!("{n}.json"))).expect("expected JSON");
            (n, bin, json)
        })
        .collect()
}
