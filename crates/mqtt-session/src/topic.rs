//! MQTT topic names and topic filters (MQTT 3.1.1 section 4.7): validation of
//! what we send and what we receive, and matching a received topic against a
//! filter with the `$` rule.
//!
//! This module is pure string work. It must not call into `mqttbytes`' topic
//! helpers: `mqttbytes::matches` panics on a topic whose first character is
//! multi-byte and gets `$SYS/#` wrong, and its validators accept `a+/b`, empty
//! topics and U+0000 (DESIGN.md section 4). Nothing here may panic on any input.

use core::fmt;

/// The longest topic the MQTT string encoding can carry, in bytes.
pub const MAX_TOPIC_LEN: usize = 65_535;

/// Why a topic name or topic filter is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicError {
    /// The topic or filter is the empty string.
    Empty,
    /// The UTF-8 encoding is longer than 65535 bytes.
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// The topic or filter contains the character U+0000.
    ContainsNul,
    /// A topic name (used to publish) contains `+` or `#`.
    WildcardInTopicName,
    /// `#` appears in a level that is not the last one.
    HashNotLast,
    /// `#` shares its level with other characters (`a/b#`).
    HashNotWholeLevel,
    /// `+` shares its level with other characters (`a+/b`).
    PlusNotWholeLevel,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Empty => f.write_str("topic is empty"),
            TopicError::TooLong { len } => {
                write!(f, "topic is longer than 65535 bytes ({len} bytes)")
            }
            TopicError::ContainsNul => f.write_str("topic contains U+0000"),
            TopicError::WildcardInTopicName => f.write_str("a topic name cannot contain wildcards"),
            TopicError::HashNotLast => f.write_str("# must be the last level"),
            TopicError::HashNotWholeLevel => f.write_str("# must occupy a whole level"),
            TopicError::PlusNotWholeLevel => f.write_str("+ must occupy a whole level"),
        }
    }
}

impl std::error::Error for TopicError {}

fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong { len: s.len() });
    }
    if s.as_bytes().contains(&0) {
        return Err(TopicError::ContainsNul);
    }
    Ok(())
}

/// Checks a topic name, the kind used to publish and carried by a received
/// PUBLISH: not empty, at most 65535 bytes, no U+0000, no `+` or `#`.
pub fn validate_topic_name(topic: &str) -> Result<(), TopicError> {
    check_common(topic)?;
    if topic.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(TopicError::WildcardInTopicName);
    }
    Ok(())
}

/// Checks a topic filter, the kind used to subscribe: the topic name rules
/// except that `+` may fill a whole level and `#` may fill the whole last level.
pub fn validate_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let is_last = levels.peek().is_none();
        if level.contains('#') {
            if level != "#" {
                return Err(TopicError::HashNotWholeLevel);
            }
            if !is_last {
                return Err(TopicError::HashNotLast);
            }
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::PlusNotWholeLevel);
        }
    }
    Ok(())
}

/// Whether a topic name matches a topic filter.
///
/// `+` matches exactly one level, `#` matches the parent level and any number
/// of levels below it (`a/#` matches `a`, `a/b` and `a/b/c`). A filter that
/// starts with a wildcard does not match a topic starting with `$`
/// (`#` does not match `$SYS/x`; `$SYS/#` does).
///
/// Neither argument is validated here (validate once, match often); any input,
/// valid or not, gives an answer and never panics.
pub fn matches(topic: &str, filter: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for f in filter.split('/') {
        if f == "#" {
            return true;
        }
        match topic_levels.next() {
            None => return false,
            Some(t) => {
                if f != "+" && f != t {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_filters_are_accepted() {
        for f in [
            "#",
            "+",
            "a",
            "a/b",
            "a/+",
            "a/#",
            "+/+",
            "/",
            "a//b",
            "/+",
            "+/#",
            "$SYS/#",
            "sport/tennis/+/score",
            "é/ü",
        ] {
            assert_eq!(validate_filter(f), Ok(()), "{f}");
        }
    }

    #[test]
    fn plus_sharing_a_level_is_refused_unlike_mqttbytes() {
        assert!(mqttbytes::valid_filter("a+/b"), "mqttbytes defect is gone");
        assert_eq!(validate_filter("a+/b"), Err(TopicError::PlusNotWholeLevel));
        assert_eq!(validate_filter("a/+b"), Err(TopicError::PlusNotWholeLevel));
        assert_eq!(validate_filter("++"), Err(TopicError::PlusNotWholeLevel));
    }

    #[test]
    fn hash_must_be_last_and_alone_in_its_level() {
        assert_eq!(validate_filter("a/#/b"), Err(TopicError::HashNotLast));
        assert_eq!(validate_filter("#/a"), Err(TopicError::HashNotLast));
        assert_eq!(validate_filter("a/b#"), Err(TopicError::HashNotWholeLevel));
        assert_eq!(validate_filter("a/##"), Err(TopicError::HashNotWholeLevel));
        assert_eq!(
            validate_filter("a/#b/c"),
            Err(TopicError::HashNotWholeLevel)
        );
    }

    #[test]
    fn empty_topics_are_refused_unlike_mqttbytes() {
        assert!(mqttbytes::valid_topic(""), "mqttbytes defect is gone");
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_filter(""), Err(TopicError::Empty));
    }

    #[test]
    fn topics_containing_nul_are_refused_unlike_mqttbytes() {
        assert!(mqttbytes::valid_topic("a\0b"), "mqttbytes defect is gone");
        assert!(mqttbytes::valid_filter("a\0b"), "mqttbytes defect is gone");
        assert_eq!(validate_topic_name("a\0b"), Err(TopicError::ContainsNul));
        assert_eq!(validate_filter("a/\0"), Err(TopicError::ContainsNul));
    }

    #[test]
    fn topics_longer_than_65535_bytes_are_refused() {
        let ok = "a".repeat(65_535);
        assert_eq!(validate_topic_name(&ok), Ok(()));
        let long = "a".repeat(65_536);
        assert_eq!(
            validate_topic_name(&long),
            Err(TopicError::TooLong { len: 65_536 })
        );
        assert_eq!(
            validate_filter(&long),
            Err(TopicError::TooLong { len: 65_536 })
        );
        // Multi-byte characters count in bytes, not characters.
        let wide = "é".repeat(32_768);
        assert_eq!(
            validate_topic_name(&wide),
            Err(TopicError::TooLong { len: 65_536 })
        );
    }

    #[test]
    fn topic_names_cannot_contain_wildcards() {
        assert_eq!(
            validate_topic_name("a/+"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(
            validate_topic_name("a/#"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(
            validate_topic_name("a+b"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(validate_topic_name("a/b c/$d"), Ok(()));
        assert_eq!(validate_topic_name("/"), Ok(()));
    }

    #[test]
    fn topic_errors_read_as_plain_sentences() {
        assert_eq!(
            TopicError::HashNotLast.to_string(),
            "# must be the last level"
        );
        assert_eq!(
            TopicError::PlusNotWholeLevel.to_string(),
            "+ must occupy a whole level"
        );
        assert_eq!(
            TopicError::WildcardInTopicName.to_string(),
            "a topic name cannot contain wildcards"
        );
        assert_eq!(TopicError::Empty.to_string(), "topic is empty");
        assert_eq!(TopicError::ContainsNul.to_string(), "topic contains U+0000");
        assert!(TopicError::TooLong { len: 70_000 }
            .to_string()
            .starts_with("topic is longer than 65535 bytes"));
    }

    #[test]
    fn matching_follows_the_spec_examples() {
        let cases = [
            ("sport/tennis/player1", "sport/tennis/player1/#", true),
            (
                "sport/tennis/player1/ranking",
                "sport/tennis/player1/#",
                true,
            ),
            (
                "sport/tennis/player1/score/wimbledon",
                "sport/tennis/player1/#",
                true,
            ),
            ("sport", "sport/#", true),
            ("sport/", "sport/#", true),
            ("anything/at/all", "#", true),
            ("sport/tennis/player1", "sport/tennis/+", true),
            ("sport/tennis/player1/ranking", "sport/tennis/+", false),
            ("sport", "sport/+", false),
            ("sport/", "sport/+", true),
            ("/finance", "+/+", true),
            ("/finance", "/+", true),
            ("/finance", "+", false),
            ("a/b", "a/b", true),
            ("a/b", "a/c", false),
            ("a/b", "a", false),
            ("a", "a/b", false),
            ("a//b", "a/+/b", true),
            ("a/b/c", "+/+/+", true),
            ("a/b/c", "+/+", false),
        ];
        for (topic, filter, expected) in cases {
            assert_eq!(matches(topic, filter), expected, "{topic} vs {filter}");
        }
    }

    #[test]
    fn dollar_topics_match_only_filters_that_do_not_start_with_a_wildcard() {
        assert!(!matches("$SYS/x", "#"));
        assert!(!matches("$SYS/x", "+/x"));
        assert!(!matches("$SYS/monitor/Clients", "+/monitor/Clients"));
        assert!(matches("$SYS/x", "$SYS/#"));
        assert!(matches("$SYS/x", "$SYS/+"));
        assert!(matches("$SYS/monitor/Clients", "$SYS/monitor/+"));
        assert!(matches("$SYS", "$SYS/#"));
        // `$` not at the start is ordinary.
        assert!(matches("a/$b", "+/+"));
    }

    #[test]
    fn sys_hash_matches_sys_topics_unlike_mqttbytes() {
        assert!(
            !mqttbytes::matches("$SYS/x", "$SYS/#"),
            "mqttbytes defect is gone"
        );
        assert!(matches("$SYS/x", "$SYS/#"));
        assert!(matches("$SYS/broker/uptime", "$SYS/broker/#"));
    }

    #[test]
    fn matching_a_topic_starting_with_a_multibyte_character_does_not_panic() {
        let panicked = std::panic::catch_unwind(|| mqttbytes::matches("éa/b", "#")).is_err();
        assert!(panicked, "mqttbytes defect is gone");
        assert!(matches("éa/b", "#"));
        assert!(matches("€/b", "€/+"));
        assert!(matches("日本/温度", "+/温度"));
        assert!(!matches("日本/温度", "日本/湿度"));
    }

    #[test]
    fn matching_invalid_input_answers_without_panicking() {
        assert!(!matches("", "a"));
        assert!(matches("", "+"));
        assert!(matches("", "#"));
        assert!(matches("a/b", "a/#/c"));
        assert!(!matches("a", ""));
    }
}
