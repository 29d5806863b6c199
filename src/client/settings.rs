//! Turns the connection form's text fields into a validated broker URL and
//! session options, with a plain sentence for whatever is wrong.
//!
//! Pure, so every refusal is tested natively.

use model::{mixed_content_error, BrokerUrl};
use mqtt_session::{LastWill, Options, ProtocolVersion, QoS};

/// The form's values as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormValues {
    /// Broker URL.
    pub broker_url: String,
    /// Client id (may be empty with a clean session).
    pub client_id: String,
    /// User name; empty for none.
    pub username: String,
    /// Password; empty for none.
    pub password: String,
    /// Keepalive seconds as typed.
    pub keepalive: String,
    /// Clean session.
    pub clean_session: bool,
    /// "3.1.1" or "3.1".
    pub protocol: String,
    /// Last Will topic; empty for none.
    pub will_topic: String,
    /// Last Will payload.
    pub will_payload: String,
    /// Last Will QoS as typed.
    pub will_qos: String,
    /// Last Will retain.
    pub will_retain: bool,
}

/// Validates the form. `page_protocol` is `location.protocol` (for the
/// mixed-content check: an `https` page cannot open `ws://`).
pub fn build(values: &FormValues, page_protocol: &str) -> Result<(String, Options), String> {
    let url = BrokerUrl::parse(&values.broker_url).map_err(|e| format!("Broker URL: {e}"))?;
    if let Some(e) = mixed_content_error(page_protocol, &url) {
        return Err(e);
    }
    let keep_alive_secs: u16 =
        values.keepalive.trim().parse().map_err(|_| {
            "Keep alive must be a whole number of seconds from 0 to 65535".to_string()
        })?;
    let protocol = match values.protocol.as_str() {
        "3.1" => ProtocolVersion::V3_1,
        "3.1.1" | "" => ProtocolVersion::V3_1_1,
        other => return Err(format!("unknown protocol version {other:?}")),
    };
    let username = (!values.username.is_empty()).then(|| values.username.clone());
    let password = (!values.password.is_empty()).then(|| values.password.clone());
    if password.is_some() && username.is_none() {
        return Err("MQTT 3.1.1 sends a password only together with a user name".into());
    }
    let last_will = if values.will_topic.is_empty() {
        None
    } else {
        mqtt_session::topic::validate_topic_name(&values.will_topic)
            .map_err(|e| format!("Last Will topic: {e}"))?;
        let qos = values
            .will_qos
            .trim()
            .parse::<u8>()
            .ok()
            .and_then(QoS::from_u8)
            .ok_or_else(|| "Last Will QoS must be 0, 1 or 2".to_string())?;
        Some(LastWill {
            topic: values.will_topic.clone(),
            payload: values.will_payload.clone().into_bytes(),
            qos,
            retain: values.will_retain,
        })
    };
    let options = Options {
        client_id: values.client_id.trim().to_string(),
        username,
        password,
        keep_alive_secs,
        clean_session: values.clean_session,
        protocol,
        last_will,
        ..Options::default()
    };
    options.validate().map_err(|e| e.to_string())?;
    Ok((url.to_url(), options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> FormValues {
        FormValues {
            broker_url: "ws://127.0.0.1:8083/mqtt".into(),
            client_id: "dash".into(),
            keepalive: "60".into(),
            clean_session: true,
            protocol: "3.1.1".into(),
            will_qos: "0".into(),
            ..FormValues::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_options() {
        let mut v = values();
        v.username = "u".into();
        v.password = "p".into();
        v.will_topic = "dash/status".into();
        v.will_payload = "gone".into();
        v.will_qos = "1".into();
        v.protocol = "3.1".into();
        let (url, o) = build(&v, "http:").expect("valid form");
        assert_eq!(url, "ws://127.0.0.1:8083/mqtt");
        assert_eq!(o.protocol, ProtocolVersion::V3_1);
        assert_eq!(o.password.as_deref(), Some("p"));
        let will = o.last_will.expect("a will");
        assert_eq!(
            (will.qos, will.payload),
            (QoS::AtLeastOnce, b"gone".to_vec())
        );
    }

    #[test]
    fn a_non_websocket_url_is_refused_with_a_reason() {
        let mut v = values();
        v.broker_url = "mqtt://host:1883".into();
        let e = build(&v, "http:").expect_err("refused");
        assert!(e.contains("ws://"), "{e}");
    }

    #[test]
    fn ws_from_an_https_page_is_refused_before_the_browser_blocks_it() {
        let mut v = values();
        v.broker_url = "ws://broker.example.com/mqtt".into();
        let e = build(&v, "https:").expect_err("refused");
        assert!(e.contains("wss://"), "{e}");
    }

    #[test]
    fn a_bad_keepalive_or_will_is_refused_with_a_reason() {
        let mut v = values();
        v.keepalive = "70000".into();
        assert!(build(&v, "http:")
            .expect_err("refused")
            .contains("Keep alive"));
        let mut v = values();
        v.will_topic = "a/+".into();
        assert!(build(&v, "http:")
            .expect_err("refused")
            .contains("Last Will topic"));
    }

    #[test]
    fn a_password_without_a_user_name_is_refused() {
        let mut v = values();
        v.password = "p".into();
        assert!(build(&v, "http:").is_err());
    }
}
