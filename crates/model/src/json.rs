//! JSON for the page: a reader and a writer of our own instead of
//! serde_json, whose `Value` parser, number reading and printing (with
//! their tables) and serializer were 13 KB of the page's gzipped wasm
//! (measured: 335,933 -> 322,704 bytes); the page's first load must stay
//! within 350 KB.
//!
//! It reads and writes exactly what serde_json 1.0.154 (the version in
//! Cargo.lock) did for the page, built without `float_roundtrip`,
//! `arbitrary_precision` or `preserve_order`, and serde_json stays in the
//! tests as its reference: property tests read random documents, random
//! mutations of them, number texts and random bytes with both and require
//! the same values, the same text and the same error at the same line and
//! column. An update of serde_json that reads or prints differently fails
//! them; then decide which behaviour the page keeps.
//!
//! - [`parse`] is `serde_json::from_slice::<Value>` (and `from_str`, the same
//!   on UTF-8): an object's keys are sorted, the last of duplicate keys wins
//!   (serde_json's `BTreeMap`); a number is a `u64`, a negative `i64` or an
//!   `f64` computed as serde_json computes it (not always correctly rounded:
//!   `significand as f64` times or divided by a power of ten); strings must
//!   be UTF-8 without lone surrogates; nesting [`RECURSION_LIMIT`] deep is an
//!   error, not a stack overflow.
//! - [`check`] is `from_slice::<IgnoredAny>`: the grammar only (strings are
//!   not checked for UTF-8 nor numbers for range) at any depth, with its
//!   stack on the heap; its errors differ from [`parse`]'s in places, as
//!   serde_json's do.
//! - The crate's `Reader` is serde_json's streaming deserializer, for the
//!   charts' number walker ([`crate::series`]), which reads a payload
//!   without building a [`Value`].
//! - `Value`'s `Display` and [`write_compact`] are `serde_json::to_string`,
//!   [`write_string`] its string escaping, [`Number`]'s `Display` its number
//!   printing (zmij's layout of the shortest digits, from
//!   [`crate::decimal`]; of two shortest candidates equally close, the even
//!   one, where core's `{}` takes the upper).
//!
//! Nothing here may panic on any input (a panic in wasm kills the page),
//! recurse deeper than [`RECURSION_LIMIT`] while reading, or take more than
//! `n log n` time in the input's length.

use std::fmt;

/// The nesting depth at which [`parse`] and the streaming reader stop with
/// "recursion limit exceeded": serde_json's, so 127 levels are read.
pub const RECURSION_LIMIT: u8 = 128;

/// A JSON value, as serde_json's `Value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, its keys sorted.
    Object(Map<String, Value>),
}

/// A JSON number as serde_json keeps it: a `u64`, a negative `i64`, or a
/// finite `f64` (anything written with a fraction or an exponent, `-0`, or
/// an integer beyond 64 bits). `1` and `1.0` are different numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(N);

#[derive(Debug, Clone, Copy, PartialEq)]
enum N {
    PosInt(u64),
    /// Always negative.
    NegInt(i64),
    /// Always finite.
    Float(f64),
}

/// An object's entries, sorted by key (bytewise), keys unique: what
/// serde_json's `Map<String, Value>` holds. Generic in name only, so that
/// code written for serde_json's map reads the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Map<K, V> {
    entries: Vec<(K, V)>,
}

/// Why a text is not JSON, and where: serde_json's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    reason: &'static str,
    line: usize,
    column: usize,
}

const EOF_LIST: &str = "EOF while parsing a list";
const EOF_OBJECT: &str = "EOF while parsing an object";
const EOF_STRING: &str = "EOF while parsing a string";
const EOF_VALUE: &str = "EOF while parsing a value";
const EXPECTED_COLON: &str = "expected `:`";
const EXPECTED_LIST_COMMA_OR_END: &str = "expected `,` or `]`";
const EXPECTED_OBJECT_COMMA_OR_END: &str = "expected `,` or `}`";
const EXPECTED_IDENT: &str = "expected ident";
const EXPECTED_VALUE: &str = "expected value";
const INVALID_ESCAPE: &str = "invalid escape";
const INVALID_NUMBER: &str = "invalid number";
const NUMBER_OUT_OF_RANGE: &str = "number out of range";
const INVALID_CODE_POINT: &str = "invalid unicode code point";
const CONTROL_CHARACTER: &str = "control character (\\u0000-\\u001F) found while parsing a string";
const KEY_MUST_BE_A_STRING: &str = "key must be a string";
const LONE_SURROGATE: &str = "lone leading surrogate in hex escape";
const TRAILING_COMMA: &str = "trailing comma";
const TRAILING_CHARACTERS: &str = "trailing characters";
const END_OF_HEX_ESCAPE: &str = "unexpected end of hex escape";
const RECURSION_LIMIT_EXCEEDED: &str = "recursion limit exceeded";

type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The 1-based line of the error.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of the error, in bytes: 1-based for a character that was
    /// looked at, 0 for the start of a line.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position (`expected value`).
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.reason, self.line, self.column
        )
    }
}

impl std::error::Error for Error {}

/// Reads one JSON value (surrounded by whitespace only), as
/// `serde_json::from_slice::<Value>`.
pub fn parse(input: &[u8]) -> std::result::Result<Value, Error> {
    let mut reader = Reader::new(input);
    let value = reader.value()?;
    reader.end()?;
    Ok(value)
}

/// Checks that `input` is one JSON value (surrounded by whitespace only),
/// as `serde_json::from_slice::<IgnoredAny>`: the grammar only, at any
/// depth, without building anything.
pub fn check(input: &[u8]) -> std::result::Result<(), Error> {
    let mut reader = Reader::new(input);
    reader.skip_value()?;
    reader.end()
}

impl Value {
    /// The value under `key` when this is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(key))
    }

    /// The map when this is an object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The map, to change, when this is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The items when this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The text when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean when this is `true` or `false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number when it is a `u64` (written without fraction or
    /// exponent).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The number as an `f64` when this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is `true` or `false`.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
}

impl fmt::Display for Value {
    /// Compact JSON, as `serde_json::to_string`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_compact(&mut out, self, usize::MAX);
        f.write_str(&out)
    }
}

impl Number {
    /// The number when it is a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::PosInt(u) => Some(u),
            _ => None,
        }
    }

    /// The number as an `f64` (always `Some`, as serde_json's).
    pub fn as_f64(&self) -> Option<f64> {
        Some(match self.0 {
            N::PosInt(u) => u as f64,
            N::NegInt(i) => i as f64,
            N::Float(f) => f,
        })
    }

    fn write(&self, out: &mut String) {
        match self.0 {
            N::PosInt(u) => push_display(out, u),
            N::NegInt(i) => push_display(out, i),
            N::Float(f) => write_f64(out, f),
        }
    }
}

impl fmt::Display for Number {
    /// As serde_json prints it: integers in full, floats as zmij does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

fn push_display(out: &mut String, n: impl fmt::Display) {
    use fmt::Write as _;
    let _ = write!(out, "{n}");
}

impl Map<String, Value> {
    /// Sorts the entries by key, keeping the last of equal keys.
    fn from_entries(entries: Vec<(String, Value)>) -> Self {
        let sorted = entries.windows(2).all(|pair| match pair {
            [a, b] => a.0 < b.0,
            _ => true,
        });
        if sorted {
            return Map { entries };
        }
        let key = |i: usize| entries.get(i).map(|e| e.0.as_str());
        let mut order: Vec<usize> = (0..entries.len()).collect();
        // One sort instantiation for the crate; ties stay in input order, so
        // the last of a run of equal keys is the one written last.
        crate::sort_indices(&mut order, &|a, b| key(a).cmp(&key(b)));
        let keep: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|&(n, &i)| order.get(n + 1).is_none_or(|&j| key(j) != key(i)))
            .map(|(_, &i)| i)
            .collect();
        let mut slots: Vec<Option<(String, Value)>> = entries.into_iter().map(Some).collect();
        Map {
            entries: keep
                .into_iter()
                .filter_map(|i| slots.get_mut(i).and_then(Option::take))
                .collect(),
        }
    }

    fn find(&self, key: &str) -> std::result::Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// Whether there is a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Takes the value under `key` out of the map.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        (i < self.entries.len()).then(|| self.entries.remove(i).1)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map {
            entries: Vec::new(),
        }
    }
}

/// The entries of a [`Map`] in key order, as `(&String, &Value)` like
/// serde_json's.
pub struct Iter<'a>(std::slice::Iter<'a, (String, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a Map<String, Value> {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

// ------------------------------------------------------------- writing ----

/// Appends `s` as a JSON string, escaped as serde_json escapes it: `"`,
/// `\` and the control characters (`\b \t \n \f \r`, the others as
/// `\u00XX` in lower case); nothing else.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => '"',
            b'\\' => '\\',
            0x08 => 'b',
            0x0c => 'f',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            0..=0x1f => 'u',
            _ => continue,
        };
        // `i` is at an ASCII byte, so both cuts are character boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push('\\');
        out.push(escape);
        if escape == 'u' {
            out.push_str("00");
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

fn hex_digit(d: u8) -> char {
    char::from_digit(u32::from(d), 16).unwrap_or('0')
}

/// Appends `value` as compact JSON (`serde_json::to_string`), stopping as
/// soon as `out` is longer than `limit` bytes. Returns whether it wrote the
/// whole value; when it did not, `out` holds at least its first `limit`
/// bytes (more, possibly ending inside a character).
pub fn write_compact(out: &mut String, value: &Value, limit: usize) -> bool {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => n.write(out),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_compact(out, item, limit) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                if !write_compact(out, item, limit) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    out.len() <= limit
}

/// Appends a finite `f64` as serde_json 1.0.154 prints it (zmij's layout):
/// the shortest digits that read back as `v` (of two as close, the even
/// one); `.0` after an integer below 10^16; plain decimals from 10^-5 on;
/// otherwise `d.ddde±x` (`1e-7`, `1.5e+300`, `-0.0`).
pub fn write_f64(out: &mut String, v: f64) {
    if v.is_sign_negative() {
        out.push('-');
    }
    let (digits, point) = crate::decimal::shortest_digits(v, true);
    let push = |out: &mut String, digits: &[u8]| {
        out.extend(digits.iter().map(|&d| char::from(b'0'.saturating_add(d))));
    };
    let zeros = |out: &mut String, n: i32| {
        out.extend(std::iter::repeat_n('0', n.max(0).unsigned_abs() as usize));
    };
    let Some((first, rest)) = digits.split_first() else {
        out.push_str("0.0");
        return;
    };
    // v = digits × 10^(point - len), 10^(point-1) <= v < 10^point.
    let len = digits.len() as i32;
    if len <= point && point <= 16 {
        push(out, &digits);
        zeros(out, point - len);
        out.push_str(".0");
    } else if 0 < point && point <= 16 {
        let (int, frac) = digits.split_at((point as usize).min(digits.len()));
        push(out, int);
        out.push('.');
        push(out, frac);
    } else if -5 < point && point <= 0 {
        out.push_str("0.");
        zeros(out, -point);
        push(out, &digits);
    } else {
        push(out, &[*first]);
        if !rest.is_empty() {
            out.push('.');
            push(out, rest);
        }
        out.push('e');
        if point > 0 {
            out.push('+');
        }
        push_display(out, point - 1);
    }
}

// ------------------------------------------------------------- reading ----

/// The start of a value as [`Reader::value_start`] reads it: a whole
/// scalar, or the opening bracket of an array or object, whose contents
/// are read next with [`Reader::next_element`] or [`Reader::next_key`].
pub(crate) enum Token<'r> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string, unescaped.
    String(&'r str),
    /// `[`, read.
    Array,
    /// `{`, read.
    Object,
}

/// serde_json's streaming reader over a byte slice, with its positions and
/// errors. Each method reads what serde_json's deserializer reads at the
/// same step, so a walker built on it accepts and refuses what one built on
/// serde_json's `Deserializer` did.
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    at: usize,
    depth_left: u8,
    /// Unescaped string contents; the container stack of `skip_value`.
    scratch: Vec<u8>,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `input`.
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader {
            input,
            at: 0,
            depth_left: RECURSION_LIMIT,
            scratch: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    fn peek_or_null(&self) -> u8 {
        self.peek().unwrap_or(0)
    }

    /// Steps over the byte `peek` returned.
    fn eat(&mut self) {
        self.at = (self.at + 1).min(self.input.len());
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        self.eat();
        b
    }

    /// An error at byte offset `at`: serde_json's line (1-based) and column
    /// (bytes since the last newline before `at`).
    fn error_at(&self, at: usize, reason: &'static str) -> Error {
        let before = self.input.get(..at).unwrap_or(self.input);
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let line = 1 + before
            .iter()
            .take(line_start)
            .filter(|&&b| b == b'\n')
            .count();
        Error {
            reason,
            line,
            column: before.len().saturating_sub(line_start),
        }
    }

    /// An error about a byte already read.
    fn error(&self, reason: &'static str) -> Error {
        self.error_at(self.at, reason)
    }

    /// An error about the byte `peek` returns (counted as read).
    fn peek_error(&self, reason: &'static str) -> Error {
        self.error_at((self.at + 1).min(self.input.len()), reason)
    }

    /// Skips whitespace; the next byte, not read.
    fn whitespace(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.eat();
        }
        self.peek()
    }

    /// After the whole value: only whitespace may follow.
    pub(crate) fn end(&mut self) -> Result<()> {
        match self.whitespace() {
            Some(_) => Err(self.peek_error(TRAILING_CHARACTERS)),
            None => Ok(()),
        }
    }

    fn ident(&mut self, rest: &[u8]) -> Result<()> {
        for &expected in rest {
            match self.next() {
                None => return Err(self.error(EOF_VALUE)),
                Some(b) if b != expected => return Err(self.error(EXPECTED_IDENT)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Reads the start of a value (serde_json's `deserialize_any`): a
    /// scalar whole, a container's opening bracket (one level deeper).
    pub(crate) fn value_start(&mut self) -> Result<Token<'_>> {
        let Some(peek) = self.whitespace() else {
            return Err(self.peek_error(EOF_VALUE));
        };
        Ok(match peek {
            b'n' => {
                self.eat();
                self.ident(b"ull")?;
                Token::Null
            }
            b't' => {
                self.eat();
                self.ident(b"rue")?;
                Token::Bool(true)
            }
            b'f' => {
                self.eat();
                self.ident(b"alse")?;
                Token::Bool(false)
            }
            b'-' => {
                self.eat();
                Token::Number(self.integer(false)?)
            }
            b'0'..=b'9' => Token::Number(self.integer(true)?),
            b'"' => {
                self.eat();
                Token::String(self.string()?)
            }
            b'[' | b'{' => {
                self.depth_left = self.depth_left.saturating_sub(1);
                if self.depth_left == 0 {
                    return Err(self.peek_error(RECURSION_LIMIT_EXCEEDED));
                }
                self.eat();
                if peek == b'[' {
                    Token::Array
                } else {
                    Token::Object
                }
            }
            _ => return Err(self.peek_error(EXPECTED_VALUE)),
        })
    }

    /// Whether the array has another element (then read it); `first`
    /// starts true for each array.
    pub(crate) fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        let Some(peek) = self.whitespace() else {
            return Err(self.peek_error(EOF_LIST));
        };
        if peek == b']' {
            Ok(false)
        } else if *first {
            *first = false;
            Ok(true)
        } else if peek == b',' {
            self.eat();
            match self.whitespace() {
                Some(b']') => Err(self.peek_error(TRAILING_COMMA)),
                Some(_) => Ok(true),
                None => Err(self.peek_error(EOF_VALUE)),
            }
        } else {
            Err(self.peek_error(EXPECTED_LIST_COMMA_OR_END))
        }
    }

    /// The object's next key, if any (then call [`Reader::colon`] and
    /// read the value); `first` starts true for each object.
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<Option<&str>> {
        let Some(peek) = self.whitespace() else {
            return Err(self.peek_error(EOF_OBJECT));
        };
        if peek == b'}' {
            return Ok(None);
        }
        if *first {
            *first = false;
            if peek != b'"' {
                return Err(self.peek_error(KEY_MUST_BE_A_STRING));
            }
        } else if peek == b',' {
            self.eat();
            match self.whitespace() {
                Some(b'"') => {}
                Some(b'}') => return Err(self.peek_error(TRAILING_COMMA)),
                Some(_) => return Err(self.peek_error(KEY_MUST_BE_A_STRING)),
                None => return Err(self.peek_error(EOF_VALUE)),
            }
        } else {
            return Err(self.peek_error(EXPECTED_OBJECT_COMMA_OR_END));
        }
        self.eat();
        self.string().map(Some)
    }

    /// The `:` between a key and its value.
    pub(crate) fn colon(&mut self) -> Result<()> {
        match self.whitespace() {
            Some(b':') => {
                self.eat();
                Ok(())
            }
            Some(_) => Err(self.peek_error(EXPECTED_COLON)),
            None => Err(self.peek_error(EOF_OBJECT)),
        }
    }

    /// Reads the `]` or `}` that `next_element` or `next_key` found (one
    /// level up).
    pub(crate) fn close(&mut self) {
        self.eat();
        self.depth_left = self.depth_left.saturating_add(1);
    }

    /// Reads a whole value into a [`Value`] (serde_json's `Value`
    /// visitor). Recursion is bounded by [`RECURSION_LIMIT`].
    fn value(&mut self) -> Result<Value> {
        Ok(match self.value_start()? {
            Token::Null => Value::Null,
            Token::Bool(b) => Value::Bool(b),
            Token::Number(n) => Value::Number(n),
            Token::String(s) => Value::String(s.to_owned()),
            Token::Array => {
                let mut items = Vec::new();
                let mut first = true;
                while self.next_element(&mut first)? {
                    items.push(self.value()?);
                }
                self.close();
                Value::Array(items)
            }
            Token::Object => {
                let mut entries = Vec::new();
                let mut first = true;
                while let Some(key) = self.next_key(&mut first)? {
                    let key = key.to_owned();
                    self.colon()?;
                    entries.push((key, self.value()?));
                }
                self.close();
                Value::Object(Map::from_entries(entries))
            }
        })
    }

    // ------------------------------------------------------- numbers ----

    /// serde_json's `parse_integer`, after the sign.
    fn integer(&mut self, positive: bool) -> Result<Number> {
        let Some(first) = self.next() else {
            return Err(self.error(EOF_VALUE));
        };
        match first {
            b'0' => match self.peek_or_null() {
                b'0'..=b'9' => Err(self.peek_error(INVALID_NUMBER)),
                _ => self.number(positive, 0),
            },
            b'1'..=b'9' => {
                let mut significand = u64::from(first - b'0');
                loop {
                    match self.peek_or_null() {
                        c @ b'0'..=b'9' => {
                            let digit = u64::from(c - b'0');
                            if overflows(significand, digit) {
                                let f = self.long_integer(positive, significand)?;
                                return Ok(Number(N::Float(f)));
                            }
                            self.eat();
                            significand = significand * 10 + digit;
                        }
                        _ => return self.number(positive, significand),
                    }
                }
            }
            _ => Err(self.error(INVALID_NUMBER)),
        }
    }

    fn number(&mut self, positive: bool, significand: u64) -> Result<Number> {
        let n = match self.peek_or_null() {
            b'.' => N::Float(self.decimal(positive, significand, 0)?),
            b'e' | b'E' => N::Float(self.exponent(positive, significand, 0)?),
            _ if positive => N::PosInt(significand),
            _ => {
                let negative = (significand as i64).wrapping_neg();
                // `-0` and integers below i64::MIN are floats, as in serde_json.
                if negative >= 0 {
                    N::Float(-(significand as f64))
                } else {
                    N::NegInt(negative)
                }
            }
        };
        Ok(Number(n))
    }

    fn decimal(&mut self, positive: bool, significand: u64, exponent_before: i32) -> Result<f64> {
        self.eat();
        let mut significand = significand;
        let mut exponent_after = 0i32;
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            let digit = u64::from(c - b'0');
            if overflows(significand, digit) {
                let exponent = exponent_before.saturating_add(exponent_after);
                return self.decimal_overflow(positive, significand, exponent);
            }
            self.eat();
            significand = significand * 10 + digit;
            exponent_after = exponent_after.saturating_sub(1);
        }
        if exponent_after == 0 {
            return Err(match self.peek() {
                Some(_) => self.peek_error(INVALID_NUMBER),
                None => self.peek_error(EOF_VALUE),
            });
        }
        let exponent = exponent_before.saturating_add(exponent_after);
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.scaled(positive, significand, exponent),
        }
    }

    fn exponent(&mut self, positive: bool, significand: u64, starting: i32) -> Result<f64> {
        self.eat();
        let positive_exp = match self.peek_or_null() {
            b'+' => {
                self.eat();
                true
            }
            b'-' => {
                self.eat();
                false
            }
            _ => true,
        };
        let Some(next) = self.next() else {
            return Err(self.error(EOF_VALUE));
        };
        let mut exp = match next {
            b'0'..=b'9' => i32::from(next - b'0'),
            _ => return Err(self.error(INVALID_NUMBER)),
        };
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            self.eat();
            let digit = i32::from(c - b'0');
            if exp >= i32::MAX / 10 && (exp > i32::MAX / 10 || digit > i32::MAX % 10) {
                return self.exponent_overflow(positive, significand == 0, positive_exp);
            }
            exp = exp * 10 + digit;
        }
        let exponent = if positive_exp {
            starting.saturating_add(exp)
        } else {
            starting.saturating_sub(exp)
        };
        self.scaled(positive, significand, exponent)
    }

    /// More integer digits than a `u64` holds: the rest only scale it.
    fn long_integer(&mut self, positive: bool, significand: u64) -> Result<f64> {
        let mut exponent = 0i32;
        loop {
            match self.peek_or_null() {
                b'0'..=b'9' => {
                    self.eat();
                    exponent = exponent.saturating_add(1);
                }
                b'.' => return self.decimal(positive, significand, exponent),
                b'e' | b'E' => return self.exponent(positive, significand, exponent),
                _ => return self.scaled(positive, significand, exponent),
            }
        }
    }

    /// More fraction digits than a `u64` holds: the rest are ignored.
    fn decimal_overflow(&mut self, positive: bool, significand: u64, exponent: i32) -> Result<f64> {
        while let b'0'..=b'9' = self.peek_or_null() {
            self.eat();
        }
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.scaled(positive, significand, exponent),
        }
    }

    fn exponent_overflow(&mut self, positive: bool, zero: bool, positive_exp: bool) -> Result<f64> {
        if !zero && positive_exp {
            return Err(self.error(NUMBER_OUT_OF_RANGE));
        }
        while let b'0'..=b'9' = self.peek_or_null() {
            self.eat();
        }
        Ok(if positive { 0.0 } else { -0.0 })
    }

    /// serde_json's `f64_from_parts`: `significand as f64` times or
    /// divided by one power of ten (two roundings, so not always the
    /// nearest `f64`, which is the point: the same value as serde_json).
    fn scaled(&mut self, positive: bool, significand: u64, exponent: i32) -> Result<f64> {
        let mut f = significand as f64;
        let mut exponent = exponent;
        loop {
            match pow10(exponent.unsigned_abs()) {
                Some(pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.error(NUMBER_OUT_OF_RANGE));
                        }
                    } else {
                        f /= pow;
                    }
                    break;
                }
                None => {
                    if f == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.error(NUMBER_OUT_OF_RANGE));
                    }
                    f /= 1e308;
                    exponent = exponent.saturating_add(308);
                }
            }
        }
        Ok(if positive { f } else { -f })
    }

    // ------------------------------------------------------- strings ----

    /// Moves to the next `"`, `\` or control character of a string.
    fn skip_to_escape(&mut self) {
        let rest = self.input.get(self.at..).unwrap_or_default();
        self.at += rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(rest.len());
    }

    /// Reads a string after its opening quote, unescaped; it must be UTF-8
    /// (checked at its end, as serde_json does).
    fn string(&mut self) -> Result<&str> {
        self.scratch.clear();
        let input = self.input;
        let mut start = self.at;
        loop {
            self.skip_to_escape();
            let Some(b) = self.peek() else {
                return Err(self.error(EOF_STRING));
            };
            let run = input.get(start..self.at).unwrap_or_default();
            match b {
                b'"' => {
                    self.eat();
                    let bytes = if self.scratch.is_empty() {
                        run
                    } else {
                        self.scratch.extend_from_slice(run);
                        &self.scratch
                    };
                    return match std::str::from_utf8(bytes) {
                        Ok(s) => Ok(s),
                        Err(e) => {
                            // At the first bad byte, counted from the closing
                            // quote (approximate when there were escapes).
                            let mut error = self.error(INVALID_CODE_POINT);
                            error.column = error
                                .column
                                .saturating_sub(bytes.len().saturating_sub(e.valid_up_to()));
                            Err(error)
                        }
                    };
                }
                b'\\' => {
                    self.scratch.extend_from_slice(run);
                    self.eat();
                    self.escape()?;
                    start = self.at;
                }
                _ => {
                    self.eat();
                    return Err(self.error(CONTROL_CHARACTER));
                }
            }
        }
    }

    /// An escape after its `\`, unescaped into `scratch`.
    fn escape(&mut self) -> Result<()> {
        let Some(c) = self.next() else {
            return Err(self.error(EOF_STRING));
        };
        let byte = match c {
            b'"' | b'\\' | b'/' => c,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.error(INVALID_ESCAPE)),
        };
        self.scratch.push(byte);
        Ok(())
    }

    /// `\uXXXX` after its `u`; a surrogate must be a leading one followed
    /// by `\u` and a trailing one.
    fn unicode_escape(&mut self) -> Result<()> {
        let n = self.hex4()?;
        let code = match n {
            0xDC00..=0xDFFF => return Err(self.error(LONE_SURROGATE)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    let Some(b) = self.peek() else {
                        return Err(self.error(EOF_STRING));
                    };
                    self.eat();
                    if b != expected {
                        return Err(self.error(END_OF_HEX_ESCAPE));
                    }
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error(LONE_SURROGATE));
                }
                0x1_0000 + ((u32::from(n) - 0xD800) << 10 | (u32::from(low) - 0xDC00))
            }
            _ => u32::from(n),
        };
        let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0; 4];
        self.scratch
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Result<u16> {
        let Some(digits) = self.input.get(self.at..self.at.saturating_add(4)) else {
            self.at = self.input.len();
            return Err(self.error(EOF_STRING));
        };
        self.at += 4;
        let mut n = 0u16;
        for &d in digits {
            match char::from(d).to_digit(16) {
                Some(v) => n = n << 4 | v as u16,
                None => return Err(self.error(INVALID_ESCAPE)),
            }
        }
        Ok(n)
    }

    // ------------------------------------------------------ skipping ----

    /// Skips one value as serde_json's `ignore_value` does: the grammar
    /// only, any depth (the open containers are kept in `scratch`).
    pub(crate) fn skip_value(&mut self) -> Result<()> {
        self.scratch.clear();
        let mut enclosing: Option<u8> = None;
        loop {
            let Some(peek) = self.whitespace() else {
                return Err(self.peek_error(EOF_VALUE));
            };
            let opened = match peek {
                b'n' => {
                    self.eat();
                    self.ident(b"ull")?;
                    None
                }
                b't' => {
                    self.eat();
                    self.ident(b"rue")?;
                    None
                }
                b'f' => {
                    self.eat();
                    self.ident(b"alse")?;
                    None
                }
                b'-' => {
                    self.eat();
                    self.skip_number()?;
                    None
                }
                b'0'..=b'9' => {
                    self.skip_number()?;
                    None
                }
                b'"' => {
                    self.eat();
                    self.skip_string()?;
                    None
                }
                b'[' | b'{' => {
                    self.scratch.extend(enclosing.take());
                    self.eat();
                    Some(peek)
                }
                _ => return Err(self.peek_error(EXPECTED_VALUE)),
            };
            let (mut accept_comma, mut frame) = match opened {
                Some(frame) => (false, frame),
                None => match enclosing.take().or_else(|| self.scratch.pop()) {
                    Some(frame) => (true, frame),
                    None => return Ok(()),
                },
            };
            loop {
                match self.whitespace() {
                    Some(b',') if accept_comma => {
                        self.eat();
                        break;
                    }
                    Some(b']') if frame == b'[' => {}
                    Some(b'}') if frame == b'{' => {}
                    Some(_) if accept_comma => {
                        return Err(self.peek_error(if frame == b'[' {
                            EXPECTED_LIST_COMMA_OR_END
                        } else {
                            EXPECTED_OBJECT_COMMA_OR_END
                        }))
                    }
                    Some(_) => break,
                    None => {
                        return Err(self.peek_error(if frame == b'[' {
                            EOF_LIST
                        } else {
                            EOF_OBJECT
                        }))
                    }
                }
                self.eat();
                frame = match self.scratch.pop() {
                    Some(frame) => frame,
                    None => return Ok(()),
                };
                accept_comma = true;
            }
            if frame == b'{' {
                match self.whitespace() {
                    Some(b'"') => self.eat(),
                    Some(_) => return Err(self.peek_error(KEY_MUST_BE_A_STRING)),
                    None => return Err(self.peek_error(EOF_OBJECT)),
                }
                self.skip_string()?;
                self.colon()?;
            }
            enclosing = Some(frame);
        }
    }

    /// Skips digits; how many.
    fn skip_digits(&mut self) -> usize {
        let rest = self.input.get(self.at..).unwrap_or_default();
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.at += n;
        n
    }

    /// serde_json's `ignore_integer`, after the sign: the grammar only.
    fn skip_number(&mut self) -> Result<()> {
        match self.next() {
            Some(b'0') => {
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.peek_error(INVALID_NUMBER));
                }
            }
            Some(b'1'..=b'9') => {
                self.skip_digits();
            }
            _ => return Err(self.error(INVALID_NUMBER)),
        }
        if self.peek() == Some(b'.') {
            self.eat();
            if self.skip_digits() == 0 {
                return Err(self.peek_error(INVALID_NUMBER));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.eat();
            if let Some(b'+' | b'-') = self.peek() {
                self.eat();
            }
            match self.next() {
                Some(b'0'..=b'9') => {
                    self.skip_digits();
                }
                _ => return Err(self.error(INVALID_NUMBER)),
            }
        }
        Ok(())
    }

    /// serde_json's `ignore_str`: escapes and control characters are
    /// checked, UTF-8 is not.
    fn skip_string(&mut self) -> Result<()> {
        loop {
            self.skip_to_escape();
            match self.peek() {
                None => return Err(self.error(EOF_STRING)),
                Some(b'"') => {
                    self.eat();
                    return Ok(());
                }
                Some(b'\\') => {
                    self.eat();
                    match self.next() {
                        None => return Err(self.error(EOF_STRING)),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            self.hex4()?;
                        }
                        Some(_) => return Err(self.error(INVALID_ESCAPE)),
                    }
                }
                // Unlike `string`, the position is the control character's.
                Some(_) => return Err(self.error(CONTROL_CHARACTER)),
            }
        }
    }
}

/// Whether `a * 10 + b` overflows a `u64` (serde_json's `overflow!`).
fn overflows(a: u64, b: u64) -> bool {
    a >= u64::MAX / 10 && (a > u64::MAX / 10 || b > u64::MAX % 10)
}

/// `10^k` for `k <= 308`, the same `f64` as the literal `1e{k}` in
/// serde_json's table (carried by no table here): exact products up to
/// 10^22, correctly rounded by [`crate::decimal::pow10`] beyond.
fn pow10(k: u32) -> Option<f64> {
    match k {
        0..=22 => Some((0..k).fold(1.0, |p, _| p * 10.0)),
        23..=308 => Some(crate::decimal::pow10(k as i32)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! serde_json is the reference: every test reads or writes the same
    //! input with both and requires the same result.

    use super::*;
    use proptest::prelude::*;
    use proptest::sample::select;
    use serde::de::IgnoredAny;

    /// Our value as serde_json's, to compare with `==`.
    pub(crate) fn to_serde(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(Number(N::PosInt(u))) => (*u).into(),
            Value::Number(Number(N::NegInt(i))) => (*i).into(),
            Value::Number(Number(N::Float(f))) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
            Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect(),
            ),
        }
    }

    /// serde_json's value as ours (the inverse of [`to_serde`]).
    pub(crate) fn from_serde(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                Value::Number(Number(match (n.as_u64(), n.as_i64(), n.as_f64()) {
                    (Some(u), _, _) => N::PosInt(u),
                    (None, Some(i), _) => N::NegInt(i),
                    (None, None, f) => N::Float(f.unwrap()),
                }))
            }
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::Array(items.iter().map(from_serde).collect()),
            serde_json::Value::Object(map) => Value::Object(Map {
                entries: map
                    .iter()
                    .map(|(k, v)| (k.clone(), from_serde(v)))
                    .collect(),
            }),
        }
    }

    /// `parse` and `serde_json::from_slice::<Value>` agree on `input`: the
    /// same value (and the same compact text, which also tells `-0.0` from
    /// `0.0`), or the same error at the same place.
    fn same_parse(input: &[u8]) -> std::result::Result<(), TestCaseError> {
        let ours = parse(input);
        let theirs = serde_json::from_slice::<serde_json::Value>(input);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(
                    &to_serde(a),
                    b,
                    "input {:?}",
                    String::from_utf8_lossy(input)
                );
                prop_assert_eq!(a.to_string(), b.to_string());
            }
            (Err(a), Err(b)) => {
                prop_assert_eq!(
                    a.to_string(),
                    b.to_string(),
                    "input {:?}",
                    String::from_utf8_lossy(input)
                );
                prop_assert_eq!((a.line(), a.column()), (b.line(), b.column()));
            }
            _ => prop_assert!(
                false,
                "input {:?}: ours {:?}, serde_json {:?}",
                String::from_utf8_lossy(input),
                ours,
                theirs
            ),
        }
        Ok(())
    }

    /// `check` and `serde_json::from_slice::<IgnoredAny>` agree on `input`.
    fn same_check(input: &[u8]) -> std::result::Result<(), TestCaseError> {
        let ours = check(input).map_err(|e| e.to_string());
        let theirs = serde_json::from_slice::<IgnoredAny>(input)
            .map(|_| ())
            .map_err(|e| e.to_string());
        prop_assert_eq!(ours, theirs, "input {:?}", String::from_utf8_lossy(input));
        Ok(())
    }

    fn same_everything(input: &[u8]) -> std::result::Result<(), TestCaseError> {
        same_parse(input)?;
        same_check(input)
    }

    /// Number texts, valid and not: long, signed, with fractions and
    /// exponents of any size, leading zeros, missing digits.
    fn number_text() -> impl Strategy<Value = String> {
        (
            select(vec!["", "-", "+", "--"]),
            prop_oneof![
                Just(String::from("0")),
                "[1-9][0-9]{0,3}",
                "[1-9][0-9]{14,24}",
                "0[0-9]{1,2}",
                Just(String::new()),
            ],
            prop_oneof![
                Just(String::new()),
                "\\.[0-9]{0,4}",
                "\\.[0-9]{15,30}",
                "\\.0{0,330}[1-9]{1,3}",
            ],
            prop_oneof![
                Just(String::new()),
                "[eE][+-]?[0-9]{1,3}",
                "[eE][+-]?[0-9]{9,12}",
                "[eE][+-]?",
            ],
        )
            .prop_map(|(sign, int, frac, exp)| format!("{sign}{int}{frac}{exp}"))
    }

    /// String bodies with every kind of escape, valid and not.
    fn string_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z é温😀/]{0,6}",
            select(vec![
                "\\\"",
                "\\\\",
                "\\/",
                "\\b",
                "\\f",
                "\\n",
                "\\r",
                "\\t",
                "\\u0041",
                "\\u00e9",
                "\\ud83d\\ude00",
                "\\ud83d",
                "\\ude00",
                "\\ud83dx",
                "\\ud83d\\n",
                "\\ud83d\\u0041",
                "\\uZZZZ",
                "\\x",
                "\\u12",
                "\u{1}",
                "\t",
                "\u{7f}",
            ])
            .prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..5).prop_map(|p| p.concat())
    }

    /// JSON texts (mostly valid): nested arrays and objects with repeated
    /// keys, odd whitespace, and the numbers and strings above.
    pub(crate) fn json_text() -> impl Strategy<Value = String> {
        let ws = select(vec!["", " ", "\n", "\t ", "\r\n  "]);
        let leaf = prop_oneof![
            select(vec!["null", "true", "false", "nul", "tru"]).prop_map(String::from),
            number_text(),
            string_text().prop_map(|s| format!("\"{s}\"")),
        ];
        let tree = leaf.prop_recursive(5, 48, 6, move |inner| {
            let key = prop_oneof![
                select(vec!["a", "b", "temp", "", "é", "a\\u0062"]).prop_map(String::from),
                string_text(),
            ];
            prop_oneof![
                (proptest::collection::vec(inner.clone(), 0..6), ws.clone())
                    .prop_map(|(items, w)| format!("[{w}{}{w}]", items.join(&format!("{w},{w}")))),
                (proptest::collection::vec((key, inner), 0..6), ws.clone()).prop_map(
                    |(entries, w)| {
                        let body: Vec<String> = entries
                            .into_iter()
                            .map(|(k, v)| format!("\"{k}\"{w}:{w}{v}"))
                            .collect();
                        format!("{{{w}{}{w}}}", body.join(","))
                    }
                ),
            ]
        });
        (ws_text(), tree, ws_text()).prop_map(|(a, t, b)| format!("{a}{t}{b}"))
    }

    fn ws_text() -> impl Strategy<Value = String> {
        select(vec!["", " ", "\n\n", " \t\r\n"]).prop_map(String::from)
    }

    /// A document with a few bytes inserted, removed or replaced.
    pub(crate) fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let edit = (
            any::<prop::sample::Index>(),
            0u8..3,
            select(b"{}[]\",:-+.eE0123456789 \n\\utrnfals\x00\x1f\xc3\xa9\xff".to_vec()),
        );
        (json_text(), proptest::collection::vec(edit, 1..4)).prop_map(|(text, edits)| {
            let mut bytes = text.into_bytes();
            for (at, kind, b) in edits {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 => bytes.insert(i, b),
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ if i < bytes.len() => bytes[i] = b,
                    _ => bytes.push(b),
                }
            }
            bytes
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_documents_read_the_same_as_serde_json(text in json_text()) {
            same_everything(text.as_bytes())?;
        }

        #[test]
        fn mutated_documents_read_or_fail_the_same_as_serde_json(bytes in mutated()) {
            same_everything(&bytes)?;
        }

        #[test]
        fn number_texts_read_as_the_same_numbers_or_errors_as_serde_json(text in number_text()) {
            same_everything(text.as_bytes())?;
            same_everything(format!("[{text}]").as_bytes())?;
            same_everything(format!("{{\"n\":{text}}}").as_bytes())?;
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_fail_the_same_as_serde_json(
            bytes in proptest::collection::vec(any::<u8>(), 0..48)
        ) {
            same_everything(&bytes)?;
        }

        #[test]
        fn json_alphabet_soup_reads_the_same_as_serde_json(
            bytes in proptest::collection::vec(
                select(b"{}[]\",:-.e0123456789 \\unlt\xff".to_vec()), 0..32)
        ) {
            same_everything(&bytes)?;
        }

        #[test]
        fn any_finite_f64_prints_as_serde_json_prints_it_and_reads_back(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let mut ours = String::new();
            write_f64(&mut ours, v);
            let theirs = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(&ours, &theirs);
            same_everything(theirs.as_bytes())?;
            same_everything(format!("{v:e}").as_bytes())?;
            same_everything(format!("{v}").as_bytes())?;
        }

        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in "\\PC*|[\\x00-\\x7f]*") {
            let mut ours = String::new();
            write_string(&mut ours, &s);
            prop_assert_eq!(&ours, &serde_json::to_string(&s).unwrap());
            let back = parse(ours.as_bytes()).unwrap();
            prop_assert_eq!(back.as_str(), Some(s.as_str()));
        }

        #[test]
        fn compact_text_is_cut_only_past_the_limit_and_is_a_prefix_of_the_whole(
            text in json_text(),
            limit in 0usize..64,
        ) {
            if let Ok(value) = parse(text.as_bytes()) {
                let whole = value.to_string();
                let mut cut = String::new();
                let complete = write_compact(&mut cut, &value, limit);
                prop_assert_eq!(complete, whole.len() <= limit);
                prop_assert!(whole.starts_with(&cut));
                prop_assert!(cut.len() >= limit.min(whole.len()));
            }
        }
    }

    #[test]
    fn nesting_127_deep_reads_and_128_deep_is_the_recursion_limit_error() {
        for depth in [126, 127, 128, 129, 300] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            same_everything(text.as_bytes()).unwrap();
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            same_everything(objects.as_bytes()).unwrap();
        }
        assert!(parse(format!("{}{}", "[".repeat(127), "]".repeat(127)).as_bytes()).is_ok());
        let err = parse(format!("{}{}", "[".repeat(128), "]".repeat(128)).as_bytes()).unwrap_err();
        assert_eq!(err.reason(), "recursion limit exceeded");
    }

    #[test]
    fn check_reads_any_depth_without_recursing() {
        let depth = 200_000;
        let text = format!("{}0{}", "[{\"k\":".repeat(depth), "}]".repeat(depth));
        assert_eq!(check(text.as_bytes()), Ok(()));
        same_check(text.as_bytes()).unwrap();
        let unclosed = "[".repeat(depth);
        same_check(unclosed.as_bytes()).unwrap();
        assert!(parse(text.as_bytes()).is_err());
    }

    #[test]
    fn numbers_keep_serde_json_kinds_and_its_rounding() {
        for text in [
            "0",
            "-0",
            "1",
            "-1",
            "1.0",
            "1e2",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "0.1",
            "1e-400",
            "-1e-400",
            "1e400",
            "0e999999999999",
            "1e999999999999",
            "123456789012345678901234567890e-10",
            "18446744073709551616.5",
            "2.2250738585072011e-308",
            "9007199254740993",
            "0.30000000000000004",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "5e-324",
            "4.9406564584124654e-324",
            "1e-350",
            "1.5e-7",
            "123e-20",
            "1e23",
        ] {
            same_everything(text.as_bytes()).unwrap();
        }
        let kind = |text: &str| match parse(text.as_bytes()) {
            Ok(Value::Number(Number(n))) => n,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(kind("5"), N::PosInt(5));
        assert_eq!(kind("-5"), N::NegInt(-5));
        assert!(matches!(kind("-0"), N::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(matches!(kind("5.0"), N::Float(f) if f == 5.0));
        assert_ne!(parse(b"1"), parse(b"1.0"));
    }

    #[test]
    fn powers_of_ten_are_the_literals_of_serde_json_table() {
        for k in 0..=308u32 {
            let literal: f64 = format!("1e{k}").parse().unwrap();
            assert_eq!(pow10(k), Some(literal), "10^{k}");
        }
        assert_eq!(pow10(309), None);
        assert_eq!(pow10(u32::MAX), None);
    }

    #[test]
    fn floats_print_as_serde_json_prints_them_over_every_magnitude() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if !v.is_finite() {
                continue;
            }
            let mut ours = String::new();
            write_f64(&mut ours, v);
            assert_eq!(ours, serde_json::to_string(&v).unwrap());
        }
        for v in [
            0.0,
            -0.0,
            1.0,
            0.1,
            1e15,
            1e16,
            1e17,
            1.5e16,
            123456789012345680.0,
            1e-5,
            1e-4,
            1.5e-5,
            1e21,
            1e22,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            9007199254740993.0,
        ] {
            let mut ours = String::new();
            write_f64(&mut ours, v);
            assert_eq!(ours, serde_json::to_string(&v).unwrap(), "{v:e}");
        }
    }

    #[test]
    fn of_two_shortest_digits_equally_close_the_even_one_is_printed() {
        // Between 2^49 and 2^50 floats are 0.125 apart, so k + 0.25 lies
        // exactly halfway between k.2 and k.3 (and k + 0.75 between k.7 and
        // k.8): serde_json prints the even one, core's `{}` rounds up.
        let mut k = 1u64 << 49;
        for _ in 0..3000 {
            k = k
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                % (1 << 49)
                + (1 << 49);
            for frac in [0.25, 0.75] {
                let v = k as f64 + frac;
                let mut ours = String::new();
                write_f64(&mut ours, v);
                assert_eq!(ours, serde_json::to_string(&v).unwrap());
            }
        }
        let v = parse(b"1000000000044365.1").unwrap();
        assert_eq!(v.to_string(), "1000000000044365.2");
        assert_eq!(format!("{}", v.as_f64().unwrap()), "1000000000044365.3");
    }

    #[test]
    fn subnormal_floats_print_as_serde_json_prints_them() {
        let mut bits = 1u64;
        for _ in 0..5000 {
            bits = bits
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = f64::from_bits(bits & ((1 << 52) - 1));
            let mut ours = String::new();
            write_f64(&mut ours, v);
            assert_eq!(ours, serde_json::to_string(&v).unwrap());
        }
    }

    #[test]
    fn objects_are_sorted_and_the_last_duplicate_key_wins() {
        let text = br#"{"b":1,"a":2,"b":3,"c":{"z":1,"y":2},"a":4}"#;
        same_parse(text).unwrap();
        let v = parse(text).unwrap();
        assert_eq!(v.to_string(), r#"{"a":4,"b":3,"c":{"y":2,"z":1}}"#);
        let map = v.as_object().unwrap();
        assert_eq!(map.get("a").and_then(Value::as_u64), Some(4));
        assert!(map.contains_key("c") && !map.contains_key("d"));
        let keys: Vec<&str> = map.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let mut map = map.clone();
        assert_eq!(map.remove("b").and_then(|v| v.as_u64()), Some(3));
        assert_eq!(map.remove("b"), None);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn errors_name_the_line_and_column_as_serde_json() {
        for text in [
            "",
            " ",
            "{\n  \"a\": 1,\n  \"b\" 2\n}",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "\"abc",
            "\"\\q\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\u{1}b\"",
            "[",
            "{",
            "nul",
            "nulx",
            "tru",
            "-",
            "01",
            "1.",
            "1.e5",
            "1e",
            "1e+",
            "[1]x",
            "{\"a\":1}  }",
            "\n\n  @",
        ] {
            same_everything(text.as_bytes()).unwrap();
        }
        same_everything(b"\"\xff\"").unwrap();
        same_everything(b"[\"ok\", \"a\\n\xc3\"]").unwrap();
        let e = parse(b"{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!((e.line(), e.column(), e.reason()), (3, 7, "expected `:`"));
        assert_eq!(e.to_string(), "expected `:` at line 3 column 7");
    }

    #[test]
    fn check_accepts_what_only_parse_refuses_as_serde_json_does() {
        for text in [
            &b"1e400"[..],
            b"\"\xff\"",
            b"\"\\udc00\"",
            b"[1e999, \"\\ud800\"]",
        ] {
            assert!(check(text).is_ok());
            assert!(parse(text).is_err());
            same_everything(text).unwrap();
        }
    }
}
