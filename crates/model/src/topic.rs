//! MQTT topic filter matching and validation, as the forms and the grouping
//! of panels need them.
//!
//! The model carries its own small matcher rather than depending on the
//! session crate (or on `mqttbytes::matches`, which panics on a topic that
//! starts with a multi-byte character and gets `$SYS/#` wrong). The rules
//! follow MQTT 3.1.1 §4.7:
//! - `+` matches exactly one level (possibly empty), `#` matches the rest,
//!   including the parent level (`a/#` matches `a`);
//! - a filter that starts with `+` or `#` does not match a topic that starts
//!   with `$`, while `$SYS/#` matches `$SYS/x`.
//!
//! [`matches()`] assumes a filter that [`validate_filter`] accepts; on an
//! invalid filter it still returns a boolean and never panics.

use std::fmt;

/// The longest topic or filter MQTT can carry (a 16-bit length prefix).
pub const MAX_TOPIC_BYTES: usize = 65_535;

/// Whether the concrete `topic` matches the subscription `filter`.
pub fn matches(topic: &str, filter: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    let mut filter_levels = filter.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Why a topic or filter is not acceptable, as a sentence for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// The topic or filter is empty.
    Empty,
    /// Longer than MQTT's 65,535-byte limit.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Contains U+0000, which MQTT forbids in strings.
    Nul,
    /// `#` is not the last level of a filter.
    HashNotLast,
    /// `#` shares a level with other characters (`a#`).
    HashNotWholeLevel,
    /// `+` shares a level with other characters (`a+`).
    PlusNotWholeLevel,
    /// A topic to publish to contains `+` or `#`.
    WildcardInTopic,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Empty => write!(f, "the topic cannot be empty"),
            TopicError::TooLong { len } => write!(
                f,
                "the topic is {len} bytes long; MQTT allows at most 65535"
            ),
            TopicError::Nul => write!(f, "the topic cannot contain the NUL character"),
            TopicError::HashNotLast => write!(f, "# must be the last level"),
            TopicError::HashNotWholeLevel => {
                write!(f, "# must be a whole level (write a/#, not a#)")
            }
            TopicError::PlusNotWholeLevel => {
                write!(f, "+ must be a whole level (write a/+/b, not a+/b)")
            }
            TopicError::WildcardInTopic => write!(
                f,
                "a topic to publish to cannot contain the wildcards + or #"
            ),
        }
    }
}

impl std::error::Error for TopicError {}

fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > MAX_TOPIC_BYTES {
        return Err(TopicError::TooLong { len: s.len() });
    }
    if s.contains('\0') {
        return Err(TopicError::Nul);
    }
    Ok(())
}

/// Checks a subscription filter: non-empty, at most 65,535 bytes, no NUL,
/// `+` and `#` only as whole levels, and `#` only last.
pub fn validate_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') {
            if level != "#" {
                return Err(TopicError::HashNotWholeLevel);
            }
            if levels.peek().is_some() {
                return Err(TopicError::HashNotLast);
            }
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::PlusNotWholeLevel);
        }
    }
    Ok(())
}

/// Checks a topic to publish to: non-empty, at most 65,535 bytes, no NUL,
/// and no wildcards.
pub fn validate_topic(topic: &str) -> Result<(), TopicError> {
    check_common(topic)?;
    if topic.contains(['+', '#']) {
        return Err(TopicError::WildcardInTopic);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_filter_matches_only_the_same_topic() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/c"));
        assert!(!matches("a/b/c", "a/b"));
        assert!(!matches("a", "a/b"));
    }

    #[test]
    fn plus_matches_exactly_one_level_including_an_empty_one() {
        assert!(matches("a/x/c", "a/+/c"));
        assert!(matches("a//c", "a/+/c"));
        assert!(!matches("a/x/y/c", "a/+/c"));
        assert!(!matches("a", "a/+"));
        assert!(matches("a/", "a/+"));
    }

    #[test]
    fn hash_matches_the_parent_level_and_everything_below() {
        assert!(matches("a", "a/#"));
        assert!(matches("a/b", "a/#"));
        assert!(matches("a/b/c/d", "a/#"));
        assert!(!matches("b/a", "a/#"));
        assert!(matches("anything/at/all", "#"));
    }

    #[test]
    fn wildcard_first_level_does_not_match_dollar_topics() {
        assert!(!matches("$SYS/broker/uptime", "#"));
        assert!(!matches("$SYS/x", "+/x"));
        assert!(matches("$SYS/x", "$SYS/#"));
        assert!(matches("$SYS/x", "$SYS/+"));
        assert!(matches("$dp", "$dp"));
    }

    #[test]
    fn topic_starting_with_a_multibyte_character_matches_without_panicking() {
        assert!(matches("温度/1", "温度/+"));
        assert!(matches("温度/1", "#"));
        assert!(!matches("温度/1", "湿度/#"));
    }

    #[test]
    fn validate_filter_explains_each_misplaced_wildcard() {
        assert_eq!(validate_filter("a/#/b"), Err(TopicError::HashNotLast));
        assert_eq!(validate_filter("a#"), Err(TopicError::HashNotWholeLevel));
        assert_eq!(validate_filter("a+/b"), Err(TopicError::PlusNotWholeLevel));
        assert_eq!(validate_filter(""), Err(TopicError::Empty));
        assert_eq!(validate_filter("a\0b"), Err(TopicError::Nul));
        assert_eq!(validate_filter("a/+/#"), Ok(()));
        assert_eq!(
            TopicError::HashNotLast.to_string(),
            "# must be the last level"
        );
    }

    #[test]
    fn validate_filter_rejects_more_than_65535_bytes() {
        let long = "a".repeat(MAX_TOPIC_BYTES + 1);
        assert_eq!(
            validate_filter(&long),
            Err(TopicError::TooLong {
                len: MAX_TOPIC_BYTES + 1
            })
        );
        assert_eq!(validate_filter(&long[1..]), Ok(()));
    }

    #[test]
    fn validate_topic_refuses_wildcards_when_publishing() {
        assert_eq!(validate_topic("a/+"), Err(TopicError::WildcardInTopic));
        assert_eq!(validate_topic("a/#"), Err(TopicError::WildcardInTopic));
        assert_eq!(validate_topic("$dp"), Ok(()));
        assert_eq!(validate_topic(""), Err(TopicError::Empty));
    }
}
