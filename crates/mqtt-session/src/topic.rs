//! MQTT topic names and topic filters (MQTT 3.1.1 section 4.7): validation of
//! what we send and what we receive, and matching a received topic against a
//! filter. This is the one topic module of mqdash: the view model re-exports
//! it, so the forms, the session and the grouping of panels share one set of
//! rules and one set of error sentences.
//!
//! The rules:
//! - a topic or filter is 1 to 65,535 bytes of UTF-8 without U+0000;
//! - a topic name (to publish to, or carried by a received PUBLISH) has no
//!   `+` or `#`; a name made only of spaces is accepted (a broker may send
//!   one, and it is a valid topic);
//! - in a filter, `+` fills a whole level and matches exactly one level
//!   (possibly empty); `#` fills the whole last level and matches that
//!   level's parent and everything below (`a/#` matches `a`, `a/b`, `a/b/c`);
//!   a filter made only of whitespace is refused (almost always a typing
//!   slip, and brokers disagree about it);
//! - the `$` rule (§4.7.2): a filter whose first level is `+` or `#` does
//!   not match a topic that starts with `$`, so `#` does not match
//!   `$SYS/broker/uptime` while `$SYS/#` does. Topics starting with `$` are
//!   the broker's (or a platform's, like OneNet's `$dp`), not the users';
//! - shared subscriptions (`$share/{group}/{filter}`, MQTT 5 and several
//!   3.1.1 brokers): the group is not empty and has no wildcard, the filter
//!   after it follows the filter rules, and topics are matched against that
//!   filter alone (`$share/g/a/+` matches `a/1`). Nothing else about them
//!   (how a broker spreads messages over a group) is modelled here.
//!
//! This module is pure string work. It must not call into `mqttbytes`' topic
//! helpers: `mqttbytes::matches` panics on a topic whose first character is
//! multi-byte and gets `$SYS/#` wrong, and its validators accept `a+/b`, empty
//! topics and U+0000 (docs/architecture.md, "mqttbytes 0.6 defects"). Nothing here may panic on any input.

use core::fmt;

/// The longest topic the MQTT string encoding can carry, in bytes.
pub const MAX_TOPIC_LEN: usize = 65_535;

/// What starts a shared subscription filter: `$share/{group}/{filter}`.
pub const SHARE_PREFIX: &str = "$share/";

/// Why a topic name or topic filter is not acceptable. `Display` writes a
/// sentence the page can show under the field as it is.
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
    /// A filter made only of whitespace.
    Blank,
    /// `$share//filter`: the group of a shared subscription is empty.
    ShareGroupEmpty,
    /// `$share/a+/filter`: the group of a shared subscription has a wildcard.
    ShareGroupWildcard,
    /// `$share/group` or `$share/group/`: no filter after the group.
    ShareFilterMissing,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Empty => f.write_str("the topic cannot be empty"),
            TopicError::TooLong { len } => write!(
                f,
                "the topic is {len} bytes long; MQTT allows at most 65535"
            ),
            TopicError::ContainsNul => {
                f.write_str("the topic cannot contain the NUL character (U+0000)")
            }
            TopicError::WildcardInTopicName => {
                f.write_str("a topic to publish to cannot contain the wildcards + or #")
            }
            TopicError::HashNotLast => f.write_str("# must be the last level"),
            TopicError::HashNotWholeLevel => {
                f.write_str("# must be a whole level (write a/#, not a#)")
            }
            TopicError::PlusNotWholeLevel => {
                f.write_str("+ must be a whole level (write a/+/b, not a+/b)")
            }
            TopicError::Blank => f.write_str("a topic filter cannot be only spaces"),
            TopicError::ShareGroupEmpty => {
                f.write_str("a shared subscription needs a group name ($share/group/filter)")
            }
            TopicError::ShareGroupWildcard => f.write_str(
                "the group of a shared subscription cannot contain + or # ($share/group/filter)",
            ),
            TopicError::ShareFilterMissing => f.write_str(
                "a shared subscription needs a topic filter after its group ($share/group/filter)",
            ),
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
/// PUBLISH: not empty, at most 65535 bytes, no U+0000, no `+` or `#`. A name
/// made only of spaces is accepted: it is a valid topic, and a broker may
/// deliver one.
pub fn validate_topic_name(topic: &str) -> Result<(), TopicError> {
    check_common(topic)?;
    if topic.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(TopicError::WildcardInTopicName);
    }
    Ok(())
}

/// Checks a topic filter, the kind used to subscribe: the topic name rules
/// except that `+` may fill a whole level and `#` the whole last level; not
/// only whitespace; and for `$share/{group}/{filter}`, a group that is not
/// empty and has no wildcard followed by a valid filter.
pub fn validate_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    if is_blank(filter) {
        return Err(TopicError::Blank);
    }
    let Some(rest) = filter.strip_prefix(SHARE_PREFIX) else {
        return check_levels(filter);
    };
    let Some((group, inner)) = rest.split_once('/') else {
        return Err(if rest.is_empty() {
            TopicError::ShareGroupEmpty
        } else {
            TopicError::ShareFilterMissing
        });
    };
    if group.is_empty() {
        return Err(TopicError::ShareGroupEmpty);
    }
    if group.contains(['+', '#']) {
        return Err(TopicError::ShareGroupWildcard);
    }
    if inner.is_empty() {
        return Err(TopicError::ShareFilterMissing);
    }
    if is_blank(inner) {
        return Err(TopicError::Blank);
    }
    check_levels(inner)
}

fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// `+` and `#` only as whole levels, `#` only last.
fn check_levels(filter: &str) -> Result<(), TopicError> {
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

/// Splits a shared subscription filter `$share/{group}/{filter}` into its
/// group and the filter that topics are matched against. `None` for any
/// other filter, including `$share/group` with nothing after the group.
pub fn split_shared(filter: &str) -> Option<(&str, &str)> {
    filter.strip_prefix(SHARE_PREFIX)?.split_once('/')
}

/// Whether a topic name matches a topic filter.
///
/// `+` matches exactly one level, `#` matches the parent level and any number
/// of levels below it (`a/#` matches `a`, `a/b` and `a/b/c`). A filter that
/// starts with a wildcard does not match a topic starting with `$`
/// (`#` does not match `$SYS/x`; `$SYS/#` does). A shared subscription
/// `$share/{group}/{filter}` matches as its `{filter}`.
///
/// Neither argument is validated here (validate once, match often); any input,
/// valid or not, gives an answer and never panics.
pub fn matches(topic: &str, filter: &str) -> bool {
    let filter = split_shared(filter).map_or(filter, |(_, inner)| inner);
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
            " a",
            "a/ /b",
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
            TopicError::HashNotWholeLevel.to_string(),
            "# must be a whole level (write a/#, not a#)"
        );
        assert_eq!(
            TopicError::PlusNotWholeLevel.to_string(),
            "+ must be a whole level (write a/+/b, not a+/b)"
        );
        assert_eq!(
            TopicError::WildcardInTopicName.to_string(),
            "a topic to publish to cannot contain the wildcards + or #"
        );
        assert_eq!(TopicError::Empty.to_string(), "the topic cannot be empty");
        assert_eq!(
            TopicError::ContainsNul.to_string(),
            "the topic cannot contain the NUL character (U+0000)"
        );
        assert_eq!(
            TopicError::TooLong { len: 70_000 }.to_string(),
            "the topic is 70000 bytes long; MQTT allows at most 65535"
        );
        assert_eq!(
            TopicError::Blank.to_string(),
            "a topic filter cannot be only spaces"
        );
        for e in [
            TopicError::ShareGroupEmpty,
            TopicError::ShareGroupWildcard,
            TopicError::ShareFilterMissing,
        ] {
            assert!(e.to_string().ends_with("($share/group/filter)"), "{e}");
        }
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
        assert!(!matches("a", "$share/"));
        assert!(matches("$share/g", "$share/g"));
    }

    // The view model's former tests, on the merged names.

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
        assert_eq!(validate_filter("a\0b"), Err(TopicError::ContainsNul));
        assert_eq!(validate_filter("a/+/#"), Ok(()));
        assert_eq!(
            TopicError::HashNotLast.to_string(),
            "# must be the last level"
        );
    }

    #[test]
    fn validate_filter_rejects_more_than_65535_bytes() {
        let long = "a".repeat(MAX_TOPIC_LEN + 1);
        assert_eq!(
            validate_filter(&long),
            Err(TopicError::TooLong {
                len: MAX_TOPIC_LEN + 1
            })
        );
        assert_eq!(validate_filter(&long[1..]), Ok(()));
    }

    #[test]
    fn validate_topic_name_refuses_wildcards_when_publishing() {
        assert_eq!(
            validate_topic_name("a/+"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(
            validate_topic_name("a/#"),
            Err(TopicError::WildcardInTopicName)
        );
        assert_eq!(validate_topic_name("$dp"), Ok(()));
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
    }

    // Blank filters.

    #[test]
    fn a_filter_made_only_of_whitespace_is_refused_as_blank() {
        for f in [" ", "   ", "\t", " \n ", "\u{3000}"] {
            assert_eq!(validate_filter(f), Err(TopicError::Blank), "{f:?}");
        }
    }

    #[test]
    fn a_filter_with_spaces_around_real_levels_is_still_accepted() {
        assert_eq!(validate_filter(" a "), Ok(()));
        assert_eq!(validate_filter(" /+"), Ok(()));
        assert_eq!(validate_filter("/ "), Ok(()));
    }

    #[test]
    fn a_blank_but_nonempty_topic_name_from_a_broker_is_still_accepted() {
        assert_eq!(validate_topic_name(" "), Ok(()));
        assert_eq!(validate_topic_name("\t \t"), Ok(()));
        assert!(matches(" ", "+"));
        assert!(matches(" ", "#"));
    }

    // Shared subscriptions.

    #[test]
    fn a_shared_subscription_matches_as_the_filter_after_its_group() {
        assert!(matches("a/1", "$share/group/a/+"));
        assert!(!matches("a/1/x", "$share/group/a/+"));
        assert!(!matches("b/1", "$share/group/a/+"));
        assert!(matches("a", "$share/g/a/#"));
        assert!(matches("x/y/z", "$share/g/#"));
    }

    #[test]
    fn a_shared_wildcard_filter_keeps_the_dollar_rule() {
        assert!(!matches("$SYS/x", "$share/g/#"));
        assert!(!matches("$SYS/x", "$share/g/+/x"));
        assert!(matches("$SYS/x", "$share/g/$SYS/#"));
    }

    #[test]
    fn a_shared_subscription_is_valid_with_a_plain_group_and_a_valid_filter() {
        for f in [
            "$share/g/a/+",
            "$share/group-1/#",
            "$share/g/$SYS/#",
            "$share/é/x",
        ] {
            assert_eq!(validate_filter(f), Ok(()), "{f}");
        }
        assert_eq!(split_shared("$share/g/a/+"), Some(("g", "a/+")));
        assert_eq!(split_shared("$share/g"), None);
        assert_eq!(split_shared("a/+"), None);
    }

    #[test]
    fn a_shared_subscription_with_an_empty_group_is_refused() {
        assert_eq!(
            validate_filter("$share//a"),
            Err(TopicError::ShareGroupEmpty)
        );
        assert_eq!(validate_filter("$share/"), Err(TopicError::ShareGroupEmpty));
    }

    #[test]
    fn a_shared_subscription_whose_group_has_a_wildcard_is_refused() {
        assert_eq!(
            validate_filter("$share/+/a"),
            Err(TopicError::ShareGroupWildcard)
        );
        assert_eq!(
            validate_filter("$share/g#/a"),
            Err(TopicError::ShareGroupWildcard)
        );
        assert_eq!(
            validate_filter("$share/a+b/x"),
            Err(TopicError::ShareGroupWildcard)
        );
    }

    #[test]
    fn a_shared_subscription_without_a_filter_after_its_group_is_refused() {
        assert_eq!(
            validate_filter("$share/g"),
            Err(TopicError::ShareFilterMissing)
        );
        assert_eq!(
            validate_filter("$share/g/"),
            Err(TopicError::ShareFilterMissing)
        );
        assert_eq!(validate_filter("$share/g/ "), Err(TopicError::Blank));
    }

    #[test]
    fn a_shared_subscription_with_an_invalid_filter_reports_the_filter_error() {
        assert_eq!(
            validate_filter("$share/g/a+/b"),
            Err(TopicError::PlusNotWholeLevel)
        );
        assert_eq!(
            validate_filter("$share/g/#/a"),
            Err(TopicError::HashNotLast)
        );
    }

    #[test]
    fn a_filter_that_only_looks_like_share_is_an_ordinary_filter() {
        assert_eq!(validate_filter("$share"), Ok(()));
        assert_eq!(validate_filter("$shared/g/a"), Ok(()));
        assert!(matches("$shared/g/a", "$shared/g/+"));
        assert!(!matches("a", "$shared/g/a"));
    }
}
