//! Text search in the payloads of a topic's history, for the filter box of
//! the topic detail.
//!
//! A payload matches when its text contains the needle, ignoring ASCII case
//! only: `Temp` finds `TEMP` and `temp`, but `É` does not find `é`. The text
//! of a payload that is not UTF-8 is its lossy decoding (each invalid
//! sequence read as U+FFFD), exactly as the detail view displays it.
//!
//! The search runs over whole histories (hundreds of entries of many KB) as
//! the user types, so it must not allocate per payload or decode one: it
//! compares bytes directly (case-folded Boyer–Moore–Horspool). Searching the
//! raw bytes gives the same answer as searching the lossy text, because a
//! needle is valid UTF-8: where it matches, the bytes are whole characters
//! that lossy decoding keeps as they are; only a needle containing U+FFFD
//! itself needs the decoded text. This module must not panic on any payload
//! or needle.

/// A needle prepared once for searching many payloads.
#[derive(Debug, Clone)]
pub struct Needle<'a> {
    bytes: &'a [u8],
    /// How far the window may move when its last byte (case-folded) is the
    /// index; built from the case-folded needle.
    shift: [usize; 256],
    /// The needle contains U+FFFD, which only the decoded text of an
    /// invalid payload contains.
    needs_decoding: bool,
}

impl<'a> Needle<'a> {
    /// Prepares `needle` for searching; this costs a 256-entry table and no
    /// allocation.
    pub fn new(needle: &'a str) -> Self {
        let bytes = needle.as_bytes();
        let len = bytes.len();
        let mut shift = [len.max(1); 256];
        // Every byte but the last tells how far its last occurrence is from
        // the end of the needle.
        for (i, &b) in bytes.iter().enumerate().take(len.saturating_sub(1)) {
            if let Some(entry) = shift.get_mut(usize::from(b.to_ascii_lowercase())) {
                *entry = len - 1 - i;
            }
        }
        Needle {
            bytes,
            shift,
            needs_decoding: needle.contains(char::REPLACEMENT_CHARACTER),
        }
    }

    /// True for the empty needle, which every payload contains.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the text of `payload` contains the needle, ignoring ASCII
    /// case.
    pub fn found_in(&self, payload: &[u8]) -> bool {
        if self.needs_decoding {
            // Borrowed, with no copy, when the payload is valid UTF-8.
            let text = String::from_utf8_lossy(payload);
            return self.search(text.as_bytes());
        }
        self.search(payload)
    }

    fn search(&self, haystack: &[u8]) -> bool {
        let Some(&last) = self.bytes.last() else {
            return true;
        };
        let len = self.bytes.len();
        let last = last.to_ascii_lowercase();
        let mut start = 0;
        while let Some(window) = haystack.get(start..start + len) {
            let Some(&end) = window.last() else {
                return false;
            };
            let end = end.to_ascii_lowercase();
            // The last byte decides most windows without a full compare.
            if end == last && window.eq_ignore_ascii_case(self.bytes) {
                return true;
            }
            start += self.shift.get(usize::from(end)).copied().unwrap_or(1);
        }
        false
    }
}

/// Whether the text of `payload` contains `needle`, ignoring ASCII case
/// (not the case of other letters). A payload that is not UTF-8 is read as
/// its lossy decoding; the empty needle matches every payload. To search
/// many payloads for one needle, [`matching_indices`] or [`Needle`] prepare
/// it once.
pub fn payload_contains(payload: &[u8], needle: &str) -> bool {
    Needle::new(needle).found_in(payload)
}

/// The positions (counted from 0 in iteration order) of the payloads whose
/// text contains `needle`, as [`payload_contains`] decides.
pub fn matching_indices<'p>(
    payloads: impl IntoIterator<Item = &'p [u8]>,
    needle: &str,
) -> Vec<usize> {
    let needle = Needle::new(needle);
    payloads
        .into_iter()
        .enumerate()
        .filter(|(_, payload)| needle.found_in(payload))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_letters_match_in_any_case() {
        assert!(payload_contains(br#"{"Temp": 21}"#, "temp"));
        assert!(payload_contains(b"ALARM raised", "Alarm"));
        assert!(!payload_contains(b"alarm", "alarms"));
    }

    #[test]
    fn letters_outside_ascii_must_match_exactly() {
        assert!(payload_contains("Température".as_bytes(), "pérat"));
        assert!(!payload_contains("TEMPÉRATURE".as_bytes(), "température"));
    }

    #[test]
    fn the_empty_needle_matches_every_payload() {
        assert!(payload_contains(b"", ""));
        assert!(payload_contains(&[0xff, 0x00], ""));
    }

    #[test]
    fn a_needle_longer_than_the_payload_never_matches() {
        assert!(!payload_contains(b"on", "online"));
        assert!(!payload_contains(b"", "x"));
    }

    #[test]
    fn matches_are_found_at_the_start_the_end_and_across_repeats() {
        assert!(payload_contains(b"abcabd", "abd"));
        assert!(payload_contains(b"xyz", "xy"));
        assert!(payload_contains(b"xyz", "yz"));
        assert!(payload_contains(b"aaaaab", "AAB"));
        assert!(!payload_contains(b"aaaaaa", "aab"));
    }

    #[test]
    fn text_around_invalid_bytes_is_still_found() {
        let payload = b"\xff\xfevalue=OK\xc3";
        assert!(payload_contains(payload, "value=ok"));
        assert!(!payload_contains(payload, "value=okay"));
    }

    #[test]
    fn the_replacement_character_matches_where_invalid_bytes_were_decoded() {
        assert!(payload_contains(b"ab\xffcd", "b\u{fffd}c"));
        assert!(!payload_contains(b"abcd", "\u{fffd}"));
        assert!(payload_contains("a\u{fffd}".as_bytes(), "\u{fffd}"));
    }

    #[test]
    fn matching_indices_lists_the_matching_positions_in_order() {
        let history: Vec<&[u8]> = vec![b"on", b"OFF", b"offline", b"\xff", b"Off"];
        assert_eq!(
            matching_indices(history.iter().copied(), "off"),
            vec![1, 2, 4]
        );
        assert_eq!(matching_indices(history.iter().copied(), "").len(), 5);
        assert!(matching_indices(history.iter().copied(), "zzz").is_empty());
    }

    /// The byte search agrees with the obvious definition (decode lossily,
    /// fold ASCII case, look for the substring) on random payloads, valid
    /// and invalid, and random needles.
    #[test]
    fn byte_search_agrees_with_searching_the_lossy_lowercased_text() {
        let mut seed = 0x853c_49e6_748f_ea9b_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bytes: &[u8] = b"aAbB\xc3\xa9\x89\xff\xe2\x82\xac\xef\xbf\xbd";
        let chars = ['a', 'A', 'b', 'B', 'é', 'É', '€', '\u{fffd}'];
        let mut found = 0;
        for _ in 0..20_000 {
            let payload: Vec<u8> = (0..next() % 24)
                .map(|_| bytes[(next() % bytes.len() as u64) as usize])
                .collect();
            let needle: String = (0..next() % 4)
                .map(|_| chars[(next() % chars.len() as u64) as usize])
                .collect();
            let expected = String::from_utf8_lossy(&payload)
                .to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase());
            assert_eq!(
                payload_contains(&payload, &needle),
                expected,
                "{payload:?} {needle:?}"
            );
            found += usize::from(expected);
        }
        // Both answers occur often enough for the comparison to mean something.
        assert!(found > 2_000 && found < 18_000, "{found}");
    }
}
