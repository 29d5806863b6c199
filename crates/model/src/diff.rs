//! What changed between two payloads of the same topic, for the "diff" view
//! of the topic detail: field by field when both are JSON, line by line when
//! both are text, and the first differing byte otherwise.
//!
//! Every piece of work is bounded, because the payloads come from the
//! network: payloads over [`MAX_DIFF_BYTES`] are not parsed at all, JSON is
//! walked to [`MAX_DEPTH`] levels (deeper subtrees are compared whole), at
//! most [`MAX_CHANGES`] changes are listed (the rest are counted), each value
//! is shown in at most [`MAX_VALUE_TEXT`] bytes, and the quadratic line
//! diff only runs on at most [`MAX_LCS_LINES`] differing lines a side.
//!
//! This module must not panic on any pair of payloads and must not keep
//! anything: it is called on demand for what is displayed and returns plain
//! data.

use crate::json::{self, Value};
use std::collections::{HashMap, VecDeque};

/// Payloads larger than this (either of them) are compared only by length
/// and first differing byte, without parsing.
pub const MAX_DIFF_BYTES: usize = 1024 * 1024;
/// Levels of JSON nesting walked field by field; a subtree below this depth
/// is reported as one change when it differs.
pub const MAX_DEPTH: usize = 64;
/// Changes (JSON fields or changed text lines) listed; the others are only
/// counted in `more`.
pub const MAX_CHANGES: usize = 500;
/// Bytes of compact JSON kept for an old or new value; a longer value is cut
/// at a character boundary and ends with `…`.
pub const MAX_VALUE_TEXT: usize = 256;
/// A text with more lines than this (either side) is compared as
/// [`Diff::TooLarge`]: splitting it would cost memory out of proportion with
/// what a diff view can show.
pub const MAX_TEXT_LINES: usize = 65_536;
/// The differing middle of two texts (after their common first and last
/// lines) gets a minimal line diff only when both sides have at most this
/// many lines; otherwise all of its old lines are shown removed and all of
/// its new lines added.
pub const MAX_LCS_LINES: usize = 2_000;
/// Unchanged lines kept around each change in a text diff; longer runs of
/// unchanged lines become [`LineChange::Skipped`].
pub const CONTEXT_LINES: usize = 3;

/// The difference between an old and a new payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    /// The payloads are byte for byte the same.
    Same,
    /// Both payloads are JSON: the values that changed, by path. An empty
    /// list means the payloads differ only in formatting (spaces, key
    /// order, duplicate keys).
    Json {
        /// The changes listed, at most [`MAX_CHANGES`].
        changes: Vec<Change>,
        /// How many further changes were found but not listed.
        more: usize,
    },
    /// Both payloads are UTF-8 text (and not both JSON): a line diff, with
    /// long runs of unchanged lines skipped.
    Text {
        /// The diff, in order; at most [`MAX_CHANGES`] added or removed
        /// lines are listed.
        lines: Vec<LineChange>,
        /// How many further added or removed lines were not listed.
        more: usize,
    },
    /// At least one payload is not UTF-8.
    Binary {
        /// Length of the old payload in bytes.
        old_len: usize,
        /// Length of the new payload in bytes.
        new_len: usize,
        /// Offset of the first byte that differs; the shorter length when
        /// one payload is the beginning of the other.
        first_difference: usize,
    },
    /// A payload is larger than [`MAX_DIFF_BYTES`], or a text has more than
    /// [`MAX_TEXT_LINES`] lines: compared without parsing.
    TooLarge {
        /// Length of the old payload in bytes.
        old_len: usize,
        /// Length of the new payload in bytes.
        new_len: usize,
        /// Offset of the first byte that differs; the shorter length when
        /// one payload is the beginning of the other.
        first_difference: usize,
    },
}

/// One changed value in a JSON diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where the value is: `""` for the whole document, `data.temp` for a
    /// field, `list[2]` for an array element. A key that is not made only of
    /// ASCII letters, digits, `_` and `-` is written as a JSON string in
    /// brackets (`a["x.y"]`), so that no path is ambiguous.
    pub path: String,
    /// Whether the value was added, removed or changed.
    pub kind: ChangeKind,
    /// The old value as compact JSON (cut to [`MAX_VALUE_TEXT`] bytes);
    /// `None` when the value was added.
    pub old: Option<String>,
    /// The new value as compact JSON (cut to [`MAX_VALUE_TEXT`] bytes);
    /// `None` when the value was removed.
    pub new: Option<String>,
}

/// What happened to a value at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The path exists only in the new payload.
    Added,
    /// The path exists only in the old payload.
    Removed,
    /// The path exists in both with different values (or different types).
    Changed,
}

/// One line of a text diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineChange {
    /// A line in both payloads, shown as context around a change.
    Same(String),
    /// A line only in the new payload.
    Added(String),
    /// A line only in the old payload.
    Removed(String),
    /// This many unchanged lines, not shown.
    Skipped(usize),
}

/// Compares the previous payload of a topic (`old`) with the latest (`new`).
///
/// Identical payloads are [`Diff::Same`]; two JSON documents are compared
/// value by value ([`Diff::Json`]); two UTF-8 texts line by line
/// ([`Diff::Text`]); anything else by length and first differing byte. Lines
/// are split on `\n` only (a `\r` stays part of its line), and an empty
/// payload has no lines.
pub fn diff_payloads(old: &[u8], new: &[u8]) -> Diff {
    if old == new {
        return Diff::Same;
    }
    let first_difference = first_difference(old, new);
    let too_large = Diff::TooLarge {
        old_len: old.len(),
        new_len: new.len(),
        first_difference,
    };
    if old.len() > MAX_DIFF_BYTES || new.len() > MAX_DIFF_BYTES {
        return too_large;
    }
    // Nesting 128 levels deep is an error (not a stack overflow), which
    // lands here as "not JSON" and falls to text.
    if let (Ok(a), Ok(b)) = (json::parse(old), json::parse(new)) {
        let mut differ = JsonDiffer::default();
        let mut path = String::new();
        differ.walk(&mut path, &a, &b, 0);
        return Diff::Json {
            changes: differ.changes,
            more: differ.more,
        };
    }
    match (std::str::from_utf8(old), std::str::from_utf8(new)) {
        (Ok(a), Ok(b)) => text_diff(a, b).unwrap_or(too_large),
        _ => Diff::Binary {
            old_len: old.len(),
            new_len: new.len(),
            first_difference,
        },
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

// ---------------------------------------------------------------- JSON ----

#[derive(Default)]
struct JsonDiffer {
    changes: Vec<Change>,
    more: usize,
}

impl JsonDiffer {
    /// Records a change at `path`; past the cap it is only counted, so the
    /// path and values are not even formatted.
    fn record(&mut self, path: &str, kind: ChangeKind, old: Option<&Value>, new: Option<&Value>) {
        if self.changes.len() >= MAX_CHANGES {
            self.more = self.more.saturating_add(1);
            return;
        }
        self.changes.push(Change {
            path: path.to_owned(),
            kind,
            old: old.map(compact),
            new: new.map(compact),
        });
    }

    /// Compares two values at `path`. Containers are not compared with `==`
    /// before descending, which would make the walk cost depth × size: each
    /// scalar is compared once, where it is reached.
    fn walk(&mut self, path: &mut String, old: &Value, new: &Value, depth: usize) {
        if depth >= MAX_DEPTH {
            if old != new {
                self.record(path, ChangeKind::Changed, Some(old), Some(new));
            }
            return;
        }
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => {
                let len = path.len();
                for (key, va) in a {
                    push_key(path, key);
                    match b.get(key) {
                        Some(vb) => self.walk(path, va, vb, depth + 1),
                        None => self.record(path, ChangeKind::Removed, Some(va), None),
                    }
                    path.truncate(len);
                }
                for (key, vb) in b {
                    if !a.contains_key(key) {
                        push_key(path, key);
                        self.record(path, ChangeKind::Added, None, Some(vb));
                        path.truncate(len);
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                let len = path.len();
                for (i, va) in a.iter().enumerate() {
                    push_index(path, i);
                    match b.get(i) {
                        Some(vb) => self.walk(path, va, vb, depth + 1),
                        None => self.record(path, ChangeKind::Removed, Some(va), None),
                    }
                    path.truncate(len);
                }
                for (i, vb) in b.iter().enumerate().skip(a.len()) {
                    push_index(path, i);
                    self.record(path, ChangeKind::Added, None, Some(vb));
                    path.truncate(len);
                }
            }
            _ => {
                if old != new {
                    self.record(path, ChangeKind::Changed, Some(old), Some(new));
                }
            }
        }
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        json::write_string(path, key);
        path.push(']');
    }
}

fn push_index(path: &mut String, i: usize) {
    path.push('[');
    path.push_str(&i.to_string());
    path.push(']');
}

/// Compact JSON of `value`, cut to [`MAX_VALUE_TEXT`] bytes (at a
/// character boundary, then `…`); writing stops once past the cut.
fn compact(value: &Value) -> String {
    let mut text = String::new();
    if json::write_compact(&mut text, value, MAX_VALUE_TEXT) {
        return text;
    }
    let mut end = MAX_VALUE_TEXT.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

// ---------------------------------------------------------------- text ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Same,
    Removed,
    Added,
}

fn split_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').collect()
    }
}

/// `None` when a side has more than [`MAX_TEXT_LINES`] lines.
fn text_diff(old: &str, new: &str) -> Option<Diff> {
    let count = |t: &str| t.bytes().filter(|&b| b == b'\n').count() + 1;
    if count(old) > MAX_TEXT_LINES || count(new) > MAX_TEXT_LINES {
        return None;
    }
    let a = split_lines(old);
    let b = split_lines(new);
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let mid_a = a.get(prefix..a.len() - suffix).unwrap_or_default();
    let mid_b = b.get(prefix..b.len() - suffix).unwrap_or_default();

    let middle = if mid_a.len() <= MAX_LCS_LINES && mid_b.len() <= MAX_LCS_LINES {
        lcs_steps(mid_a, mid_b)
    } else {
        let mut steps = vec![Step::Removed; mid_a.len()];
        steps.resize(mid_a.len() + mid_b.len(), Step::Added);
        steps
    };

    let mut out = Renderer::default();
    let (mut i, mut j) = (0, 0);
    let steps = std::iter::repeat_n(Step::Same, prefix)
        .chain(middle)
        .chain(std::iter::repeat_n(Step::Same, suffix));
    for step in steps {
        match step {
            Step::Same => {
                out.same(a.get(i).copied().unwrap_or_default());
                i += 1;
                j += 1;
            }
            Step::Removed => {
                out.change(LineChange::Removed, a.get(i).copied().unwrap_or_default());
                i += 1;
            }
            Step::Added => {
                out.change(LineChange::Added, b.get(j).copied().unwrap_or_default());
                j += 1;
            }
        }
    }
    out.finish();
    Some(Diff::Text {
        lines: out.lines,
        more: out.more,
    })
}

/// `text`'s id in `ids`: the one it has, or the next (`ids.len()`).
pub(crate) fn intern<'a>(ids: &mut HashMap<&'a str, u32>, text: &'a str) -> u32 {
    let next = ids.len() as u32;
    *ids.entry(text).or_insert(next)
}

/// A minimal line diff of `a` against `b` (longest common subsequence).
///
/// The lengths table is never stored: it is computed a row at a time from
/// the end, keeping one bit per cell for the direction to take, so two
/// texts of [`MAX_LCS_LINES`] lines cost half a megabyte, not sixteen.
fn lcs_steps<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Step> {
    // Equal lines get equal ids, so the n × m comparisons compare integers.
    let mut ids: HashMap<&'a str, u32> = HashMap::new();
    let mut id_of = |line: &'a str| intern(&mut ids, line);
    let a: Vec<u32> = a.iter().map(|&l| id_of(l)).collect();
    let b: Vec<u32> = b.iter().map(|&l| id_of(l)).collect();
    let (n, m) = (a.len(), b.len());

    // Bit (i, j), for a[i] != b[j]: skipping a[i] keeps at least as long a
    // common subsequence as skipping b[j].
    let mut down = vec![0u64; (n * m).div_ceil(64)];
    let mut below = vec![0u32; m + 1];
    let mut row = vec![0u32; m + 1];
    for (i, &x) in a.iter().enumerate().rev() {
        if let Some(last) = row.get_mut(m) {
            *last = 0;
        }
        for (j, &y) in b.iter().enumerate().rev() {
            let value = if x == y {
                below.get(j + 1).copied().unwrap_or(0) + 1
            } else {
                let skip_a = below.get(j).copied().unwrap_or(0);
                let skip_b = row.get(j + 1).copied().unwrap_or(0);
                if skip_a >= skip_b {
                    let bit = i * m + j;
                    if let Some(word) = down.get_mut(bit / 64) {
                        *word |= 1u64 << (bit % 64);
                    }
                    skip_a
                } else {
                    skip_b
                }
            };
            if let Some(cell) = row.get_mut(j) {
                *cell = value;
            }
        }
        std::mem::swap(&mut row, &mut below);
    }

    let mut steps = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if x == y {
            steps.push(Step::Same);
            i += 1;
            j += 1;
        } else {
            let bit = i * m + j;
            let skip_a = down
                .get(bit / 64)
                .is_some_and(|word| word & (1u64 << (bit % 64)) != 0);
            if skip_a {
                steps.push(Step::Removed);
                i += 1;
            } else {
                steps.push(Step::Added);
                j += 1;
            }
        }
    }
    steps.extend(std::iter::repeat_n(Step::Removed, n - i));
    steps.extend(std::iter::repeat_n(Step::Added, m - j));
    steps
}

/// Turns a stream of lines into the listed diff: unchanged runs are cut
/// down to [`CONTEXT_LINES`] around each change, and changes past
/// [`MAX_CHANGES`] are counted instead of listed. Lines are borrowed until
/// they are shown, so skipped runs cost no copies.
#[derive(Default)]
struct Renderer<'a> {
    lines: Vec<LineChange>,
    more: usize,
    listed: usize,
    seen_change: bool,
    /// The current run of unchanged lines: how many, its first lines (only
    /// needed after a change) and its last lines.
    run: usize,
    run_head: Vec<&'a str>,
    run_tail: VecDeque<&'a str>,
}

impl<'a> Renderer<'a> {
    fn same(&mut self, line: &'a str) {
        if self.more > 0 {
            // Nothing is listed after the first change left out.
            return;
        }
        self.run += 1;
        if self.seen_change && self.run_head.len() < CONTEXT_LINES {
            self.run_head.push(line);
        } else {
            if self.run_tail.len() == CONTEXT_LINES {
                self.run_tail.pop_front();
            }
            self.run_tail.push_back(line);
        }
    }

    fn change(&mut self, make: fn(String) -> LineChange, line: &str) {
        if self.more > 0 || self.listed >= MAX_CHANGES {
            self.more = self.more.saturating_add(1);
            return;
        }
        self.flush_run();
        self.lines.push(make(line.to_owned()));
        self.listed += 1;
        self.seen_change = true;
    }

    /// Writes out the unchanged run before a change.
    fn flush_run(&mut self) {
        let shown = self.run_head.len() + self.run_tail.len();
        let same = |l: &str| LineChange::Same(l.to_owned());
        self.lines.extend(self.run_head.drain(..).map(same));
        if self.run > shown {
            self.lines.push(LineChange::Skipped(self.run - shown));
        }
        self.lines.extend(self.run_tail.drain(..).map(same));
        self.run = 0;
    }

    /// Writes out the trailing unchanged run: its first lines only.
    fn finish(&mut self) {
        if self.more > 0 {
            return;
        }
        let shown: Vec<&str> = self
            .run_head
            .drain(..)
            .chain(self.run_tail.drain(..))
            .take(CONTEXT_LINES)
            .collect();
        let hidden = self.run - shown.len();
        self.lines
            .extend(shown.into_iter().map(|l| LineChange::Same(l.to_owned())));
        if hidden > 0 {
            self.lines.push(LineChange::Skipped(hidden));
        }
        self.run = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(old: &str, new: &str) -> (Vec<Change>, usize) {
        match diff_payloads(old.as_bytes(), new.as_bytes()) {
            Diff::Json { changes, more } => (changes, more),
            other => panic!("expected a JSON diff, got {other:?}"),
        }
    }

    fn text(old: &str, new: &str) -> (Vec<LineChange>, usize) {
        match diff_payloads(old.as_bytes(), new.as_bytes()) {
            Diff::Text { lines, more } => (lines, more),
            other => panic!("expected a text diff, got {other:?}"),
        }
    }

    fn same(s: &str) -> LineChange {
        LineChange::Same(s.to_owned())
    }
    fn added(s: &str) -> LineChange {
        LineChange::Added(s.to_owned())
    }
    fn removed(s: &str) -> LineChange {
        LineChange::Removed(s.to_owned())
    }

    #[test]
    fn identical_payloads_are_the_same() {
        assert_eq!(diff_payloads(b"{\"a\":1}", b"{\"a\":1}"), Diff::Same);
        assert_eq!(diff_payloads(b"", b""), Diff::Same);
        assert_eq!(diff_payloads(&[0xff, 0], &[0xff, 0]), Diff::Same);
    }

    #[test]
    fn a_changed_nested_field_is_listed_by_its_path() {
        let (changes, more) = json(
            r#"{"data":{"temp":21.5,"unit":"C"},"id":7}"#,
            r#"{"data":{"temp":22,"unit":"C"},"id":7}"#,
        );
        assert_eq!(more, 0);
        assert_eq!(
            changes,
            vec![Change {
                path: "data.temp".into(),
                kind: ChangeKind::Changed,
                old: Some("21.5".into()),
                new: Some("22".into()),
            }]
        );
    }

    #[test]
    fn added_and_removed_keys_carry_only_the_value_they_have() {
        let (changes, _) = json(r#"{"a":1,"b":[1,2]}"#, r#"{"a":1,"c":{"x":null}}"#);
        assert_eq!(changes.len(), 2);
        let b = changes.iter().find(|c| c.path == "b").unwrap();
        assert_eq!(b.kind, ChangeKind::Removed);
        assert_eq!(b.old.as_deref(), Some("[1,2]"));
        assert_eq!(b.new, None);
        let c = changes.iter().find(|c| c.path == "c").unwrap();
        assert_eq!(c.kind, ChangeKind::Added);
        assert_eq!(c.old, None);
        assert_eq!(c.new.as_deref(), Some(r#"{"x":null}"#));
    }

    #[test]
    fn arrays_are_compared_element_by_element_by_index() {
        let (changes, _) = json(r#"{"list":[1,{"v":2},3]}"#, r#"{"list":[1,{"v":5},3,4]}"#);
        let paths: Vec<(&str, ChangeKind)> =
            changes.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            paths,
            vec![
                ("list[1].v", ChangeKind::Changed),
                ("list[3]", ChangeKind::Added)
            ]
        );
    }

    #[test]
    fn a_shorter_array_lists_each_missing_element_as_removed() {
        let (changes, _) = json("[1,2,3]", "[1]");
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["[1]", "[2]"]);
        assert!(changes.iter().all(|c| c.kind == ChangeKind::Removed));
    }

    #[test]
    fn a_change_of_type_is_one_change_at_that_path() {
        let (changes, _) = json(r#"{"v":{"x":1}}"#, r#"{"v":[1]}"#);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "v");
        assert_eq!(changes[0].kind, ChangeKind::Changed);
        assert_eq!(changes[0].old.as_deref(), Some(r#"{"x":1}"#));
        assert_eq!(changes[0].new.as_deref(), Some("[1]"));
    }

    #[test]
    fn a_changed_scalar_document_is_a_change_at_the_root() {
        let (changes, _) = json("41", "\"forty-two\"");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "");
        assert_eq!(changes[0].new.as_deref(), Some("\"forty-two\""));
    }

    #[test]
    fn keys_with_dots_or_odd_characters_are_quoted_in_brackets() {
        let (changes, _) = json(
            r#"{"a":{"x.y":1,"":2,"q\"[":3,"ok_key-1":4}}"#,
            r#"{"a":{"x.y":9,"":9,"q\"[":9,"ok_key-1":9}}"#,
        );
        let mut paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            vec![r#"a.ok_key-1"#, r#"a[""]"#, r#"a["q\"["]"#, r#"a["x.y"]"#]
        );
    }

    #[test]
    fn an_odd_key_at_the_root_is_quoted_without_a_leading_dot() {
        let (changes, _) = json(r#"{"a b":1}"#, r#"{"a b":2}"#);
        assert_eq!(changes[0].path, r#"["a b"]"#);
    }

    #[test]
    fn json_differing_only_in_formatting_has_no_changes() {
        let (changes, more) = json(r#"{"a":1,"b":2}"#, "{ \"b\": 2,\n  \"a\": 1 }");
        assert!(changes.is_empty());
        assert_eq!(more, 0);
    }

    #[test]
    fn changes_past_the_cap_are_counted_not_listed() {
        let old: Vec<u32> = (0..700).collect();
        let new: Vec<u32> = (1000..1700).collect();
        let (changes, more) = json(
            &serde_json::to_string(&old).unwrap(),
            &serde_json::to_string(&new).unwrap(),
        );
        assert_eq!(changes.len(), MAX_CHANGES);
        assert_eq!(more, 700 - MAX_CHANGES);
        assert_eq!(changes[0].path, "[0]");
    }

    #[test]
    fn nesting_past_the_depth_cap_is_compared_as_one_value() {
        let deep = |leaf: &str| format!("{}{}{}", "[".repeat(100), leaf, "]".repeat(100));
        let (changes, _) = json(&deep("1"), &deep("2"));
        assert_eq!(changes.len(), 1);
        let path = &changes[0].path;
        assert_eq!(path, &"[0]".repeat(MAX_DEPTH));
        assert!(changes[0].old.as_deref().unwrap().contains('1'));
    }

    #[test]
    fn nesting_beyond_the_json_recursion_limit_falls_back_to_a_text_diff() {
        let deep = |leaf: &str| format!("{}{}{}", "[".repeat(500), leaf, "]".repeat(500));
        let (lines, _) = text(&deep("1"), &deep("2"));
        assert_eq!(lines, vec![removed(&deep("1")), added(&deep("2"))]);
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary_with_an_ellipsis() {
        let long = "é".repeat(400);
        let (changes, _) = json(r#"{"s":"x"}"#, &format!(r#"{{"s":"{long}"}}"#));
        let new = changes[0].new.as_deref().unwrap();
        assert!(new.ends_with('…'));
        assert!(new.len() <= MAX_VALUE_TEXT + '…'.len_utf8());
        assert!(new.starts_with("\"éé"));
    }

    #[test]
    fn a_changed_line_is_shown_with_its_neighbours() {
        let (lines, more) = text("a\nb\nc", "a\nB\nc");
        assert_eq!(more, 0);
        assert_eq!(lines, vec![same("a"), removed("b"), added("B"), same("c")]);
    }

    #[test]
    fn line_diff_is_minimal_around_insertions_and_deletions() {
        let (lines, _) = text("x\na\nb\nc\ny", "x\nb\nc\nd\ny");
        assert_eq!(
            lines,
            vec![
                same("x"),
                removed("a"),
                same("b"),
                same("c"),
                added("d"),
                same("y")
            ]
        );
    }

    #[test]
    fn long_unchanged_runs_are_skipped_beyond_the_context() {
        let old: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
        let mut new = old.clone();
        new[10] = "changed".into();
        let (lines, _) = text(&old.join("\n"), &new.join("\n"));
        assert_eq!(
            lines.first(),
            Some(&LineChange::Skipped(10 - CONTEXT_LINES))
        );
        assert_eq!(lines.last(), Some(&LineChange::Skipped(9 - CONTEXT_LINES)));
        assert!(lines.contains(&removed("line 10")));
        assert!(lines.contains(&added("changed")));
        assert_eq!(lines.len(), 2 + 2 * CONTEXT_LINES + 2);
    }

    #[test]
    fn a_long_run_between_two_changes_keeps_context_on_both_sides() {
        let old: Vec<String> = (0..30).map(|i| i.to_string()).collect();
        let mut new = old.clone();
        new[2] = "A".into();
        new[25] = "B".into();
        let (lines, _) = text(&old.join("\n"), &new.join("\n"));
        let skipped: Vec<usize> = lines
            .iter()
            .filter_map(|l| match l {
                LineChange::Skipped(n) => Some(*n),
                _ => None,
            })
            .collect();
        // Between lines 2 and 25: 22 unchanged, 3 shown after, 3 before.
        assert_eq!(skipped, vec![22 - 2 * CONTEXT_LINES, 4 - CONTEXT_LINES]);
        let shown_same = lines
            .iter()
            .filter(|l| matches!(l, LineChange::Same(_)))
            .count();
        assert_eq!(shown_same, 2 + 2 * CONTEXT_LINES + CONTEXT_LINES);
    }

    #[test]
    fn an_empty_payload_has_no_lines() {
        let (lines, _) = text("", "hello");
        assert_eq!(lines, vec![added("hello")]);
        let (lines, _) = text("hello", "");
        assert_eq!(lines, vec![removed("hello")]);
    }

    #[test]
    fn a_new_trailing_newline_shows_as_an_added_empty_line() {
        let (lines, _) = text("on", "on\n");
        assert_eq!(lines, vec![same("on"), added("")]);
    }

    #[test]
    fn changed_lines_past_the_cap_are_counted() {
        let old: Vec<String> = (0..400).map(|i| format!("old {i}")).collect();
        let new: Vec<String> = (0..400).map(|i| format!("new {i}")).collect();
        let (lines, more) = text(&old.join("\n"), &new.join("\n"));
        let listed = lines
            .iter()
            .filter(|l| matches!(l, LineChange::Added(_) | LineChange::Removed(_)))
            .count();
        assert_eq!(listed, MAX_CHANGES);
        assert_eq!(listed + more, 800);
    }

    #[test]
    fn unchanged_lines_after_the_cap_are_not_counted_as_changes() {
        let mut old: Vec<String> = (0..600).map(|i| format!("old {i}")).collect();
        let mut new: Vec<String> = (0..600).map(|i| format!("new {i}")).collect();
        // A common line in the middle of the changed region, after the cap.
        old[550] = "common".into();
        new[550] = "common".into();
        let (lines, more) = text(&old.join("\n"), &new.join("\n"));
        let listed = lines
            .iter()
            .filter(|l| matches!(l, LineChange::Added(_) | LineChange::Removed(_)))
            .count();
        assert_eq!(listed + more, 1198);
    }

    #[test]
    fn texts_with_a_large_differing_middle_fall_back_to_removed_then_added() {
        let old: Vec<String> = (0..3000).map(|i| format!("a{i}")).collect();
        let mut new: Vec<String> = (0..3000).map(|i| format!("b{i}")).collect();
        new[0] = old[0].clone();
        new[2999] = old[2999].clone();
        let (lines, more) = text(&old.join("\n"), &new.join("\n"));
        assert_eq!(lines[0], same("a0"));
        assert_eq!(lines[1], removed("a1"));
        assert_eq!(more, 2 * 2998 - MAX_CHANGES);
        // All listed changes are removals, in order: the additions come after.
        assert!(lines[1..]
            .iter()
            .all(|l| matches!(l, LineChange::Removed(_))));
    }

    #[test]
    fn a_middle_at_the_line_limit_still_gets_a_minimal_diff() {
        let old: Vec<String> = (0..MAX_LCS_LINES).map(|i| format!("l{i}")).collect();
        // Every third line rewritten, and the first and last too, so that
        // no common line can be trimmed off the ends.
        let new: Vec<String> = (0..MAX_LCS_LINES)
            .map(|i| {
                if i % 3 == 0 || i == MAX_LCS_LINES - 1 {
                    format!("n{i}")
                } else {
                    format!("l{i}")
                }
            })
            .collect();
        let rewritten = MAX_LCS_LINES.div_ceil(3) + 1;
        let (lines, more) = text(&old.join("\n"), &new.join("\n"));
        let listed = lines
            .iter()
            .filter(|l| matches!(l, LineChange::Added(_) | LineChange::Removed(_)))
            .count();
        assert_eq!(listed + more, 2 * rewritten);
        assert_eq!(lines[0], removed("l0"));
        assert_eq!(lines[1], added("n0"));
        assert_eq!(lines[2], same("l1"));
    }

    #[test]
    fn a_small_change_in_a_large_text_is_found_by_trimming_common_lines() {
        let old: Vec<String> = (0..50_000).map(|i| format!("row {i}")).collect();
        let mut new = old.clone();
        new[30_000] = "edited".into();
        let (lines, more) = text(&old.join("\n"), &new.join("\n"));
        assert_eq!(more, 0);
        assert!(lines.contains(&removed("row 30000")));
        assert!(lines.contains(&added("edited")));
        assert_eq!(lines.len(), 2 + 2 * CONTEXT_LINES + 2);
    }

    #[test]
    fn payloads_over_the_size_cap_are_compared_without_parsing() {
        let old = vec![b'a'; MAX_DIFF_BYTES + 1];
        let mut new = old.clone();
        new[70] = b'b';
        assert_eq!(
            diff_payloads(&old, &new),
            Diff::TooLarge {
                old_len: MAX_DIFF_BYTES + 1,
                new_len: MAX_DIFF_BYTES + 1,
                first_difference: 70
            }
        );
    }

    #[test]
    fn texts_with_too_many_lines_are_compared_without_splitting() {
        let old = "\n".repeat(MAX_TEXT_LINES);
        let new = format!("{old}x");
        assert!(matches!(
            diff_payloads(old.as_bytes(), new.as_bytes()),
            Diff::TooLarge { first_difference, .. } if first_difference == MAX_TEXT_LINES
        ));
    }

    #[test]
    fn non_utf8_payloads_are_binary_with_the_first_difference() {
        assert_eq!(
            diff_payloads(&[1, 2, 0xff], &[1, 3, 0xff, 4]),
            Diff::Binary {
                old_len: 3,
                new_len: 4,
                first_difference: 1
            }
        );
        assert_eq!(
            diff_payloads(b"abc", &[b'a', b'b', b'c', 0xfe]),
            Diff::Binary {
                old_len: 3,
                new_len: 4,
                first_difference: 3
            }
        );
    }

    #[test]
    fn json_against_plain_text_is_a_text_diff() {
        let (lines, _) = text(r#"{"a":1}"#, "offline");
        assert_eq!(lines, vec![removed(r#"{"a":1}"#), added("offline")]);
    }

    /// Applies a text diff's visible lines back: removed and same lines must
    /// rebuild the old text's shown part, added and same the new one's.
    #[test]
    fn random_texts_give_a_diff_consistent_with_both_sides() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut make = || -> Vec<String> {
                (0..next() % 40)
                    .map(|_| ["a", "b", "c", "d", ""][(next() % 5) as usize].to_owned())
                    .collect()
            };
            let (o, n) = (make().join("\n"), make().join("\n"));
            let (old, new) = (split_lines(&o), split_lines(&n));
            let diff = diff_payloads(o.as_bytes(), n.as_bytes());
            if o == n {
                assert_eq!(diff, Diff::Same);
                continue;
            }
            let Diff::Text { lines, more } = diff else {
                panic!("expected text, got {diff:?}");
            };
            assert_eq!(more, 0);
            let (mut old_count, mut new_count, mut changed) = (0, 0, 0);
            for line in &lines {
                match line {
                    LineChange::Same(_) | LineChange::Skipped(_) => {
                        let k = if let LineChange::Skipped(k) = line {
                            *k
                        } else {
                            1
                        };
                        old_count += k;
                        new_count += k;
                    }
                    LineChange::Removed(_) => {
                        old_count += 1;
                        changed += 1;
                    }
                    LineChange::Added(_) => {
                        new_count += 1;
                        changed += 1;
                    }
                }
            }
            // Every line of each side is accounted for, except a trailing
            // unchanged run, which is cut after its context.
            assert!(old_count <= old.len() && new_count <= new.len());
            assert_eq!(old.len() - old_count, new.len() - new_count);
            // The diff is minimal: changed lines are exactly what the longest
            // common subsequence leaves over.
            assert_eq!(changed, old.len() + new.len() - 2 * naive_lcs(&old, &new));
        }
    }

    fn naive_lcs(a: &[&str], b: &[&str]) -> usize {
        let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                t[i][j] = if a[i] == b[j] {
                    t[i + 1][j + 1] + 1
                } else {
                    t[i + 1][j].max(t[i][j + 1])
                };
            }
        }
        t[0][0]
    }

    #[test]
    fn random_payloads_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"{}[]\":,0123456789.-e \n\xff\xc3\xa9ab";
        for _ in 0..5_000 {
            let mut make = || -> Vec<u8> {
                (0..next() % 40)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let (a, b) = (make(), make());
            let diff = diff_payloads(&a, &b);
            assert_eq!(diff == Diff::Same, a == b);
        }
    }
}
