//! Numeric series extracted from payloads, for the charts.
//!
//! What counts as a number (see [`Extractor::extract`]):
//! - a plain number payload: the trimmed text parses as a finite `f64`
//!   (`22.5`, ` -3 `, `1e3`) → one series named [`VALUE_SERIES`];
//! - a JSON object or array: every number in it, named by its dotted path
//!   (`temp`, `power.volts`); array elements are indexed as `name[0]`,
//!   `name[1]`… up to the first [`ARRAY_INDEX_LIMIT`] elements of each array
//!   (the rest are skipped); booleans, strings (even numeric-looking ones)
//!   and `null` are ignored;
//! - OneNet `$dp` type 1 (`0x01`, u16 big-endian length, then
//!   `{"datastreams":[{"id":"wendu","datapoints":[{"at":"…","value":55}]}]}`,
//!   as the seed builds it; the same JSON without the binary frame too): one
//!   series per datastream id. The `at` string carries no time zone, so the
//!   points are stamped with the time the page received them;
//! - OneNet `$dp` type 3 (`0x03`, length, flat object `{"temp":22.1}`): one
//!   series per key (nested objects by dotted path, as above);
//! - OneNet's newer JSON upload `{"id":123,"dp":{"temp":[{"v":30,"t":1552289676}]}}`:
//!   one series per datastream key, timed by `t` when present (a `t` below
//!   1e11 is taken as seconds, otherwise as milliseconds) and by the receive
//!   time otherwise. The message `id` is not charted. Only a `dp` object
//!   whose every value is an array counts as this shape; any other `dp` is
//!   ordinary JSON.
//!
//! A `$dp` frame whose length prefix does not match, or JSON that does not
//! parse completely, yields nothing (no partial series, no panic). Generic
//! JSON is walked with [`crate::json`]'s streaming reader into reusable
//! buffers (in document order, every duplicate key too), so a parsed payload
//! allocates nothing in the steady state; only the OneNet shapes are parsed
//! into a [`crate::json::Value`]. [`may_be_numeric`] is the
//! O(1) fast path that keeps obviously non-numeric payloads away from any
//! parser.
//!
//! [`SeriesSet`] holds a panel's series: at most a fixed number of series,
//! each a bounded window of `(time_ms, value)` points.

use crate::json::{self, Reader, Token, Value};
use crate::onenet::{split_dp, DP_TYPE_DATASTREAMS};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// Name of the series of a plain number payload (and of a JSON document
/// that is itself a number).
pub const VALUE_SERIES: &str = "value";
/// Array elements beyond this index are not charted.
pub const ARRAY_INDEX_LIMIT: usize = 16;
/// Series names are cut to this many bytes (at a character boundary).
pub const MAX_NAME_BYTES: usize = 120;
/// At most this many numbers are taken from one payload.
pub const MAX_POINTS_PER_PAYLOAD: usize = 256;
/// Leading whitespace scanned by [`may_be_numeric`] before giving up.
const MAX_LEADING_WHITESPACE: usize = 64;
/// A plain number payload longer than this (after trimming) is not a number.
const MAX_PLAIN_NUMBER_BYTES: usize = 64;

/// The O(1) fast path: whether a payload could carry numbers at all (a
/// `$dp` frame, or text starting like a number, an object or an array).
/// `false` means [`Extractor::extract`] would certainly find nothing.
pub fn may_be_numeric(payload: &[u8]) -> bool {
    if split_dp(payload).is_some() {
        return true;
    }
    payload
        .iter()
        .take(MAX_LEADING_WHITESPACE)
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'[' | b'-' | b'+' | b'.' | b'0'..=b'9'))
}

/// Parses a plain number payload: trimmed UTF-8 text that is a finite `f64`.
pub fn plain_number(payload: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(payload.trim_ascii()).ok()?;
    if text.len() > MAX_PLAIN_NUMBER_BYTES {
        return None;
    }
    let first = text.bytes().next()?;
    if !matches!(first, b'-' | b'+' | b'.' | b'0'..=b'9') {
        return None;
    }
    crate::decimal::parse_finite(text)
}

/// Converts OneNet's `t` to milliseconds: seconds below 1e11, else ms.
fn onenet_time_ms(t: f64) -> f64 {
    if t.abs() < 1e11 {
        t * 1000.0
    } else {
        t
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Debug, Clone, Copy)]
struct Found {
    name_start: usize,
    name_end: usize,
    time_ms: f64,
    value: f64,
}

/// Reusable scratch space for extracting numbers: keep one and call
/// [`Extractor::extract`] for each payload.
#[derive(Debug, Default, Clone)]
pub struct Extractor {
    path: String,
    names: String,
    found: Vec<Found>,
}

impl Extractor {
    /// A fresh extractor.
    pub fn new() -> Self {
        Extractor::default()
    }

    /// Finds the numbers in `payload` (see the module docs) and calls
    /// `sink(series_name, time_ms, value)` for each, in document order.
    /// `received_ms` stamps the points that carry no time of their own.
    /// Returns how many points were found; 0 for a payload that is not
    /// numeric, including malformed JSON.
    pub fn extract(
        &mut self,
        payload: &[u8],
        received_ms: f64,
        mut sink: impl FnMut(&str, f64, f64),
    ) -> usize {
        self.names.clear();
        self.found.clear();
        if !self.collect(payload, received_ms) {
            self.found.clear();
        }
        for f in &self.found {
            if let Some(name) = self.names.get(f.name_start..f.name_end) {
                sink(name, f.time_ms, f.value);
            }
        }
        self.found.len()
    }

    /// Convenience: the points of one payload as owned tuples.
    pub fn extract_vec(&mut self, payload: &[u8], received_ms: f64) -> Vec<(String, f64, f64)> {
        let mut out = Vec::new();
        self.extract(payload, received_ms, |n, t, v| {
            out.push((n.to_owned(), t, v))
        });
        out
    }

    /// Fills `found`; returns false when the payload turned out not to be
    /// valid (whatever was found is then discarded).
    fn collect(&mut self, payload: &[u8], t: f64) -> bool {
        if let Some((kind, json)) = split_dp(payload) {
            let allow_onenet = kind == DP_TYPE_DATASTREAMS;
            return self.json(json, t, allow_onenet);
        }
        let trimmed = payload.trim_ascii_start();
        match trimmed.first() {
            Some(b'{' | b'[') => self.json(trimmed, t, true),
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => {
                if let Some(v) = plain_number(trimmed) {
                    self.path.clear();
                    self.emit(t, v);
                }
                true
            }
            _ => true,
        }
    }

    fn json(&mut self, json: &[u8], t: f64, allow_onenet: bool) -> bool {
        if allow_onenet && (contains(json, b"\"datastreams\"") || contains(json, b"\"dp\"")) {
            let Ok(value) = json::parse(json) else {
                return false;
            };
            if self.onenet(&value, t) {
                return true;
            }
            // Not OneNet after all: walk the bytes as ordinary JSON, which
            // keeps the document's key order (a `Value` map may not).
            self.names.clear();
            self.found.clear();
        }
        self.path.clear();
        let mut reader = Reader::new(json);
        self.walk(&mut reader, t).is_ok() && reader.end().is_ok()
    }

    /// Reads one value, recording its numbers under their paths: objects
    /// key by key, the first [`ARRAY_INDEX_LIMIT`] elements of an array
    /// walked and the others only checked (as serde_json's `IgnoredAny`:
    /// the grammar only, so a later element may nest deeper or hold a
    /// number out of range).
    fn walk(&mut self, reader: &mut Reader<'_>, t: f64) -> Result<(), json::Error> {
        match reader.value_start()? {
            Token::Number(n) => {
                if let Some(v) = n.as_f64() {
                    self.emit(t, v);
                }
            }
            Token::Array => {
                let base = self.path.len();
                let mut first = true;
                let mut i = 0usize;
                while reader.next_element(&mut first)? {
                    if i < ARRAY_INDEX_LIMIT {
                        let _ = write!(self.path, "[{i}]");
                        self.walk(reader, t)?;
                        self.path.truncate(base);
                    } else {
                        reader.skip_value()?;
                    }
                    i += 1;
                }
                reader.close();
            }
            Token::Object => {
                let base = self.path.len();
                let mut first = true;
                while let Some(key) = reader.next_key(&mut first)? {
                    self.path.truncate(base);
                    self.push_key(key);
                    reader.colon()?;
                    self.walk(reader, t)?;
                    self.path.truncate(base);
                }
                reader.close();
            }
            Token::Null | Token::Bool(_) | Token::String(_) => {}
        }
        Ok(())
    }

    /// Recognises the two OneNet JSON shapes; false when it is neither.
    fn onenet(&mut self, value: &Value, t: f64) -> bool {
        let Some(obj) = value.as_object() else {
            return false;
        };
        if let Some(Value::Array(streams)) = obj.get("datastreams") {
            for stream in streams {
                let id = match stream.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => continue,
                };
                let Some(Value::Array(points)) = stream.get("datapoints") else {
                    continue;
                };
                for point in points {
                    if let Some(v) = point.get("value") {
                        self.path.clear();
                        self.path.push_str(&id);
                        self.walk_value(v, t);
                    }
                }
            }
            return true;
        }
        if let Some(Value::Object(dp)) = obj.get("dp") {
            if dp.is_empty() || !dp.values().all(Value::is_array) {
                return false;
            }
            for (key, entries) in dp {
                let Value::Array(list) = entries else {
                    continue;
                };
                for entry in list {
                    let Some(v) = entry.get("v") else {
                        continue;
                    };
                    let time = entry
                        .get("t")
                        .and_then(Value::as_f64)
                        .filter(|t| t.is_finite())
                        .map_or(t, onenet_time_ms);
                    self.path.clear();
                    self.path.push_str(key);
                    self.walk_value(v, time);
                }
            }
            return true;
        }
        false
    }

    fn walk_value(&mut self, value: &Value, t: f64) {
        match value {
            Value::Number(n) => {
                if let Some(v) = n.as_f64() {
                    self.emit(t, v);
                }
            }
            Value::Object(map) => {
                let base = self.path.len();
                for (k, v) in map {
                    self.push_key(k);
                    self.walk_value(v, t);
                    self.path.truncate(base);
                }
            }
            Value::Array(items) => {
                let base = self.path.len();
                for (i, v) in items.iter().take(ARRAY_INDEX_LIMIT).enumerate() {
                    let _ = write!(self.path, "[{i}]");
                    self.walk_value(v, t);
                    self.path.truncate(base);
                }
            }
            Value::Null | Value::Bool(_) | Value::String(_) => {}
        }
    }

    fn push_key(&mut self, key: &str) {
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(key);
    }

    fn emit(&mut self, time_ms: f64, value: f64) {
        if !value.is_finite() || self.found.len() >= MAX_POINTS_PER_PAYLOAD {
            return;
        }
        let name = if self.path.is_empty() {
            VALUE_SERIES
        } else {
            cut_at_char_boundary(&self.path, MAX_NAME_BYTES)
        };
        let name_start = self.names.len();
        self.names.push_str(name);
        self.found.push(Found {
            name_start,
            name_end: self.names.len(),
            time_ms,
            value,
        });
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
pub(crate) fn cut_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// One named series: a bounded window of `(time_ms, value)` points, oldest
/// first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    name: Box<str>,
    points: VecDeque<(f64, f64)>,
}

impl Series {
    /// The series' name (`value`, a dotted JSON path, or a datastream id).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The points, oldest first, as `(time_ms, value)`.
    pub fn points(&self) -> &VecDeque<(f64, f64)> {
        &self.points
    }

    /// The newest point.
    pub fn last(&self) -> Option<(f64, f64)> {
        self.points.back().copied()
    }

    /// Number of points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is held.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// What [`SeriesSet::push`] did with a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesPush {
    /// Appended to an existing series, evicting this many old points.
    Appended {
        /// Old points evicted by the window.
        evicted: usize,
    },
    /// A new series was created for it.
    Created,
    /// Not kept: the set already holds its maximum number of series (or a
    /// new series was not allowed).
    Refused,
}

/// A panel's series, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesSet {
    series: Vec<Series>,
    refused_points: u64,
}

impl SeriesSet {
    /// An empty set.
    pub fn new() -> Self {
        SeriesSet::default()
    }

    /// Appends a point to the series `name`, creating it if `allow_new` and
    /// fewer than `max_series` exist; keeps each series to `max_points`.
    pub fn push(
        &mut self,
        name: &str,
        time_ms: f64,
        value: f64,
        max_points: usize,
        max_series: usize,
        allow_new: bool,
    ) -> SeriesPush {
        if let Some(s) = self.series.iter_mut().find(|s| &*s.name == name) {
            s.points.push_back((time_ms, value));
            let mut evicted = 0;
            while s.points.len() > max_points.max(1) {
                s.points.pop_front();
                evicted += 1;
            }
            return SeriesPush::Appended { evicted };
        }
        if !allow_new || self.series.len() >= max_series {
            self.refused_points = self.refused_points.saturating_add(1);
            return SeriesPush::Refused;
        }
        let mut points = VecDeque::new();
        points.push_back((time_ms, value));
        self.series.push(Series {
            name: name.into(),
            points,
        });
        SeriesPush::Created
    }

    /// Evicts the oldest points of every series beyond `max_points` and
    /// releases spare capacity; returns how many points were evicted.
    pub fn trim(&mut self, max_points: usize) -> usize {
        let mut evicted = 0;
        for s in &mut self.series {
            while s.points.len() > max_points.max(1) {
                s.points.pop_front();
                evicted += 1;
            }
            // Give back memory a once-larger window left behind.
            if s.points.capacity() > 2 * s.points.len() + 64 {
                s.points.shrink_to(s.points.len() + s.points.len() / 2 + 16);
            }
        }
        evicted
    }

    /// The series, in order of first appearance.
    pub fn iter(&self) -> std::slice::Iter<'_, Series> {
        self.series.iter()
    }

    /// The series as a slice.
    pub fn as_slice(&self) -> &[Series] {
        &self.series
    }

    /// The series named `name`.
    pub fn get(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| &*s.name == name)
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether the panel has no numeric series (no chart).
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Total points held over all series.
    pub fn points_total(&self) -> usize {
        self.series.iter().map(Series::len).sum()
    }

    /// Points refused because the series cap was reached.
    pub fn refused_points(&self) -> u64 {
        self.refused_points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod serde_json_oracle {
        //! The walker as it was on serde_json's streaming deserializer, the
        //! reference for `Extractor::json` on `crate::json::Reader`: the same
        //! documents accepted, the same numbers under the same names.

        use super::super::*;
        use crate::json::tests::{from_serde, json_text, mutated};
        use proptest::prelude::*;
        use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
        use std::fmt;

        /// `Extractor::json` as it was, with serde_json.
        fn old_json(ex: &mut Extractor, json: &[u8], t: f64, allow_onenet: bool) -> bool {
            if allow_onenet && (contains(json, b"\"datastreams\"") || contains(json, b"\"dp\"")) {
                let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
                    return false;
                };
                if ex.onenet(&from_serde(&value), t) {
                    return true;
                }
                ex.names.clear();
                ex.found.clear();
            }
            ex.path.clear();
            let mut de = serde_json::Deserializer::from_slice(json);
            let walked = Walk {
                ex: &mut *ex,
                time_ms: t,
            }
            .deserialize(&mut de);
            walked.is_ok() && de.end().is_ok()
        }

        struct Walk<'a> {
            ex: &'a mut Extractor,
            time_ms: f64,
        }

        impl<'de> DeserializeSeed<'de> for Walk<'_> {
            type Value = ();

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
                deserializer.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for Walk<'_> {
            type Value = ();

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_bool<E>(self, _: bool) -> Result<(), E> {
                Ok(())
            }

            fn visit_i64<E>(self, v: i64) -> Result<(), E> {
                self.ex.emit(self.time_ms, v as f64);
                Ok(())
            }

            fn visit_u64<E>(self, v: u64) -> Result<(), E> {
                self.ex.emit(self.time_ms, v as f64);
                Ok(())
            }

            fn visit_f64<E>(self, v: f64) -> Result<(), E> {
                self.ex.emit(self.time_ms, v);
                Ok(())
            }

            fn visit_str<E>(self, _: &str) -> Result<(), E> {
                Ok(())
            }

            fn visit_unit<E>(self) -> Result<(), E> {
                Ok(())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let base = self.ex.path.len();
                while map
                    .next_key_seed(Key {
                        ex: &mut *self.ex,
                        base,
                    })?
                    .is_some()
                {
                    map.next_value_seed(Walk {
                        ex: &mut *self.ex,
                        time_ms: self.time_ms,
                    })?;
                    self.ex.path.truncate(base);
                }
                Ok(())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let base = self.ex.path.len();
                let mut i = 0usize;
                loop {
                    if i < ARRAY_INDEX_LIMIT {
                        let _ = write!(self.ex.path, "[{i}]");
                        let more = seq
                            .next_element_seed(Walk {
                                ex: &mut *self.ex,
                                time_ms: self.time_ms,
                            })?
                            .is_some();
                        self.ex.path.truncate(base);
                        if !more {
                            break;
                        }
                    } else if seq.next_element::<IgnoredAny>()?.is_none() {
                        break;
                    }
                    i += 1;
                }
                Ok(())
            }
        }

        struct Key<'a> {
            ex: &'a mut Extractor,
            base: usize,
        }

        impl<'de> DeserializeSeed<'de> for Key<'_> {
            type Value = ();

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
                deserializer.deserialize_str(self)
            }
        }

        impl<'de> Visitor<'de> for Key<'_> {
            type Value = ();

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_str<E>(self, key: &str) -> Result<(), E> {
                self.ex.path.truncate(self.base);
                self.ex.push_key(key);
                Ok(())
            }
        }

        /// Whether a walker accepted the document, and its points (name,
        /// time, value bits).
        type Walked = (bool, Vec<(String, f64, u64)>);

        /// Both walkers on `json`: the new one's result, then the old one's.
        fn both(json: &[u8], allow_onenet: bool) -> [Walked; 2] {
            let run = |new: bool| {
                let mut ex = Extractor::new();
                let ok = if new {
                    ex.json(json, 5.0, allow_onenet)
                } else {
                    old_json(&mut ex, json, 5.0, allow_onenet)
                };
                let points = ex
                    .found
                    .iter()
                    .map(|f| {
                        let name = ex.names.get(f.name_start..f.name_end).unwrap().to_owned();
                        (name, f.time_ms, f.value.to_bits())
                    })
                    .collect();
                (ok, points)
            };
            [run(true), run(false)]
        }

        /// Wraps a document in the OneNet shapes, so that both branches run.
        fn shapes(doc: &str) -> [String; 3] {
            [
                doc.to_owned(),
                format!(r#"{{"datastreams":[{{"id":"s","datapoints":[{{"value":{doc}}}]}}]}}"#),
                format!(r#"{{"id":1,"dp":{{"temp":[{{"v":{doc},"t":2}}]}}}}"#),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn random_documents_give_the_same_points_as_the_serde_json_walker(doc in json_text()) {
                for text in shapes(&doc) {
                    for allow_onenet in [true, false] {
                        let [new, old] = both(text.as_bytes(), allow_onenet);
                        prop_assert_eq!(new, old, "{}", text);
                    }
                }
            }

            #[test]
            fn mutated_documents_give_the_same_points_as_the_serde_json_walker(bytes in mutated()) {
                let [new, old] = both(&bytes, true);
                prop_assert_eq!(new, old, "{}", String::from_utf8_lossy(&bytes));
            }
        }

        #[test]
        fn elements_past_the_index_limit_are_only_checked_as_serde_json_did() {
            let filler = "0,".repeat(ARRAY_INDEX_LIMIT);
            for tail in [
                "1e400", "\"\\udc00\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "1e", "\"\\x\"",
            ] {
                let text = format!("[{filler}{tail}]");
                let [new, old] = both(text.as_bytes(), true);
                assert_eq!(new, old, "{text}");
            }
            let accepted = format!("[{filler}1e400]");
            assert!(both(accepted.as_bytes(), true)[0].0);
            let refused = format!("[{}1e400]", "0,".repeat(ARRAY_INDEX_LIMIT - 1));
            assert!(!both(refused.as_bytes(), true)[0].0);
        }
    }

    fn extract(payload: &[u8]) -> Vec<(String, f64, f64)> {
        Extractor::new().extract_vec(payload, 1000.0)
    }

    fn named(payload: &[u8]) -> Vec<(String, f64)> {
        extract(payload)
            .into_iter()
            .map(|(n, _, v)| (n, v))
            .collect()
    }

    #[test]
    fn plain_number_payload_becomes_the_value_series() {
        assert_eq!(named(b" 22.5\n"), vec![("value".to_owned(), 22.5)]);
        assert_eq!(named(b"-3"), vec![("value".to_owned(), -3.0)]);
        assert_eq!(named(b"1e3"), vec![("value".to_owned(), 1000.0)]);
    }

    #[test]
    fn text_that_only_starts_like_a_number_is_not_numeric() {
        assert!(named(b"12 apples").is_empty());
        assert!(named(b"inf").is_empty());
        assert!(named(b"NaN").is_empty());
        assert!(named(b"1e999").is_empty());
        assert!(named(b"hello").is_empty());
        assert!(named(b"").is_empty());
    }

    #[test]
    fn json_object_fields_become_series_by_dotted_path() {
        let got = named(
            br#"{"temp":21.5,"ok":true,"name":"x","power":{"volts":230,"amps":-1.5},"n":null}"#,
        );
        assert_eq!(
            got,
            vec![
                ("temp".to_owned(), 21.5),
                ("power.volts".to_owned(), 230.0),
                ("power.amps".to_owned(), -1.5),
            ]
        );
    }

    #[test]
    fn arrays_are_indexed_up_to_the_limit() {
        let got = named(br#"{"accel":[0.1,0.2,{"z":9.8}]}"#);
        assert_eq!(
            got,
            vec![
                ("accel[0]".to_owned(), 0.1),
                ("accel[1]".to_owned(), 0.2),
                ("accel[2].z".to_owned(), 9.8),
            ]
        );
        let long: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let payload = format!("[{}]", long.join(","));
        let got = named(payload.as_bytes());
        assert_eq!(got.len(), ARRAY_INDEX_LIMIT);
        assert_eq!(got.last(), Some(&("[15]".to_owned(), 15.0)));
    }

    #[test]
    fn malformed_json_yields_nothing_even_after_a_valid_prefix() {
        assert!(named(br#"{"a":1,"b":"#).is_empty());
        assert!(named(br#"{"a":1} trailing"#).is_empty());
        assert!(named(br#"[1,2"#).is_empty());
    }

    #[test]
    fn escaped_keys_are_unescaped_in_the_series_name() {
        assert_eq!(named(br#"{"t\u00e9mp":3}"#), vec![("témp".to_owned(), 3.0)]);
    }

    #[test]
    fn onenet_dp_type_1_as_the_seed_builds_it_gives_one_series_per_datastream() {
        let body = br#"{"datastreams": [{"id": "wendu", "datapoints": [{"at": "2016-08-15T14:47:00", "value": 55}]}]}"#;
        let mut frame = vec![0x01, 0x00, body.len() as u8];
        frame.extend_from_slice(body);
        assert_eq!(extract(&frame), vec![("wendu".to_owned(), 1000.0, 55.0)]);
    }

    #[test]
    fn onenet_datastreams_without_the_binary_frame_are_recognised_too() {
        let got = named(br#"{"datastreams":[{"datapoints":[{"value":1},{"value":2}],"id":"a"},{"id":"b","datapoints":[{"value":{"lon":1.5}}]}]}"#);
        assert_eq!(
            got,
            vec![
                ("a".to_owned(), 1.0),
                ("a".to_owned(), 2.0),
                ("b.lon".to_owned(), 1.5)
            ]
        );
    }

    #[test]
    fn onenet_dp_type_3_flat_object_gives_one_series_per_key() {
        let body = br#"{"temp":22.1,"hum":40}"#;
        let mut frame = vec![0x03, 0x00, body.len() as u8];
        frame.extend_from_slice(body);
        assert_eq!(
            named(&frame),
            vec![("temp".to_owned(), 22.1), ("hum".to_owned(), 40.0)]
        );
    }

    #[test]
    fn onenet_dp_with_a_wrong_length_prefix_is_not_numeric() {
        let body = br#"{"temp":22.1}"#;
        let mut frame = vec![0x03, 0x00, body.len() as u8 + 1];
        frame.extend_from_slice(body);
        assert!(named(&frame).is_empty());
        assert!(!may_be_numeric(&frame));
        assert!(named(&[0x01]).is_empty());
        assert!(named(&[0x01, 0xff]).is_empty());
    }

    #[test]
    fn onenet_new_json_upload_uses_t_seconds_as_the_time() {
        let mut got = extract(br#"{"id":123,"dp":{"temp":[{"v":30,"t":1552289676},{"v":31}],"hum":[{"v":50,"t":1552289676123}]}}"#);
        got.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        assert_eq!(
            got,
            vec![
                ("hum".to_owned(), 1_552_289_676_123.0, 50.0),
                ("temp".to_owned(), 1000.0, 31.0),
                ("temp".to_owned(), 1_552_289_676_000.0, 30.0),
            ]
        );
    }

    #[test]
    fn a_dp_key_that_is_not_onenet_shaped_is_walked_generically() {
        let got = named(br#"{"id":1,"dp":{"x":5}}"#);
        assert_eq!(got, vec![("id".to_owned(), 1.0), ("dp.x".to_owned(), 5.0)]);
        let got = named(br#"{"dp":3,"other":4}"#);
        assert_eq!(got, vec![("dp".to_owned(), 3.0), ("other".to_owned(), 4.0)]);
    }

    #[test]
    fn fast_path_rejects_obvious_text_and_accepts_candidates() {
        assert!(may_be_numeric(b"  {\"a\":1}"));
        assert!(may_be_numeric(b"-1"));
        assert!(may_be_numeric(&[0x03, 0x00, 0x02, b'{', b'}']));
        assert!(!may_be_numeric(b"hello"));
        assert!(!may_be_numeric(b"\"quoted\""));
        assert!(!may_be_numeric(&[0xff, 0x00]));
        assert!(!may_be_numeric(b""));
    }

    #[test]
    fn deeply_nested_json_is_rejected_without_overflowing_the_stack() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(named(deep.as_bytes()).is_empty());
    }

    #[test]
    fn long_series_names_are_cut_at_a_char_boundary() {
        let key = "é".repeat(100);
        let payload = format!("{{\"{key}\":1}}");
        let got = named(payload.as_bytes());
        assert_eq!(got.len(), 1);
        assert!(got[0].0.len() <= MAX_NAME_BYTES);
        assert!(got[0].0.chars().all(|c| c == 'é'));
    }

    #[test]
    fn series_set_caps_points_per_series_and_the_number_of_series() {
        let mut set = SeriesSet::new();
        for i in 0..5 {
            set.push("a", f64::from(i), f64::from(i), 3, 2, true);
        }
        assert_eq!(set.get("a").map(Series::len), Some(3));
        assert_eq!(set.get("a").and_then(Series::last), Some((4.0, 4.0)));
        assert_eq!(set.push("b", 0.0, 0.0, 3, 2, true), SeriesPush::Created);
        assert_eq!(set.push("c", 0.0, 0.0, 3, 2, true), SeriesPush::Refused);
        assert_eq!(set.push("d", 0.0, 0.0, 3, 5, false), SeriesPush::Refused);
        assert_eq!(set.refused_points(), 2);
        assert_eq!(set.len(), 2);
        assert_eq!(set.trim(1), 2);
        assert_eq!(set.points_total(), 2);
    }

    #[test]
    fn extractor_reuses_its_buffers_between_payloads() {
        let mut ex = Extractor::new();
        assert_eq!(ex.extract_vec(br#"{"a":1}"#, 0.0).len(), 1);
        assert_eq!(
            ex.extract_vec(b"7", 5.0),
            vec![("value".to_owned(), 5.0, 7.0)]
        );
        assert!(ex.extract_vec(b"{", 0.0).is_empty());
    }
}
