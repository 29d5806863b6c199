//! Topic prefix rewrite for republishing: `from` at the start of a topic
//! becomes `to`. Plain text, not levels: `plant/` → `test/plant/`. It
//! must never hand back a topic MQTT cannot publish to.

use mqtt_session::topic::validate_topic_name;

/// What the rewrite makes of `topic`: itself when `from` is empty, the
/// rewritten topic when it starts with `from`, an error sentence when it
/// does not or the result is not a topic name. A message whose topic is
/// not under the prefix is not republished (rather than sent unchanged to
/// a topic the user did not name).
pub fn rewrite(topic: &str, from: &str, to: &str) -> Result<String, String> {
    if from.is_empty() {
        return Ok(topic.to_owned());
    }
    let Some(rest) = topic.strip_prefix(from) else {
        return Err(format!("the topic {topic:?} does not start with {from:?}"));
    };
    let new = format!("{to}{rest}");
    validate_topic_name(&new).map_err(|e| format!("{new:?} is not a topic name: {e}"))?;
    Ok(new)
}
