//! The connection form's values, typed where they are read, and what is made
//! of them: a validated connection [`Target`], a saved [`Profile`], and the
//! form filled back from a profile.
//!
//! Pure, so every refusal is tested natively. Nothing here falls back
//! silently: a value that cannot be used is an error sentence naming the field.

use model::{mixed_content_error, BrokerUrl, Profile, SavedSubscription, SubscriptionState};
use mqtt_session::{LastWill, Options, ProtocolVersion, QoS};

use super::supervisor::Target;

/// The default for "Message size limit (MiB)": generous, yet a message over
/// it (or one a broker floods with) never grows the page without bound.
pub const DEFAULT_MESSAGE_LIMIT_MIB: u32 = 16;

/// The largest message MQTT can carry is 256 MiB (remaining length 268,435,455).
pub const MAX_MESSAGE_LIMIT_MIB: u32 = 256;

/// The form's values. Selects and checkboxes are already typed; the two
/// number fields are kept as typed so a half-typed value is never replaced,
/// and [`build`] says what is wrong with them.
#[derive(Debug, Clone, PartialEq)]
pub struct FormValues {
    /// Broker URL.
    pub broker_url: String,
    /// Client id (may be empty with a clean session).
    pub client_id: String,
    /// The user (or a link) chose the client id; otherwise it is a random
    /// one made for this tab, and profiles keep it empty.
    pub client_id_typed: bool,
    /// User name; empty for none.
    pub username: String,
    /// Password; empty for none.
    pub password: String,
    /// Keep the password in saved and exported profiles.
    pub remember_password: bool,
    /// Keepalive seconds, as typed.
    pub keepalive: String,
    /// Clean session.
    pub clean_session: bool,
    /// MQTT 3.1.1 or 3.1.
    pub protocol: ProtocolVersion,
    /// Last Will topic; empty for none.
    pub will_topic: String,
    /// Last Will payload.
    pub will_payload: String,
    /// Last Will QoS.
    pub will_qos: QoS,
    /// Last Will retain.
    pub will_retain: bool,
    /// Largest message kept, in MiB, as typed.
    pub message_limit_mib: String,
}

impl Default for FormValues {
    fn default() -> Self {
        Self {
            broker_url: String::new(),
            client_id: String::new(),
            client_id_typed: false,
            username: String::new(),
            password: String::new(),
            remember_password: false,
            keepalive: "60".into(),
            clean_session: true,
            protocol: ProtocolVersion::V3_1_1,
            will_topic: String::new(),
            will_payload: String::new(),
            will_qos: QoS::AtMostOnce,
            will_retain: false,
            message_limit_mib: DEFAULT_MESSAGE_LIMIT_MIB.to_string(),
        }
    }
}

/// A QoS from a select's value (`"0"`, `"1"`, `"2"`).
pub fn parse_qos(key: &str) -> Result<QoS, String> {
    key.trim()
        .parse::<u8>()
        .ok()
        .and_then(QoS::from_u8)
        .ok_or_else(|| format!("QoS must be 0, 1 or 2, not {key:?}"))
}

/// A protocol version from its select value (`"3.1.1"`, `"3.1"` or `"5"`).
pub fn parse_protocol(key: &str) -> Result<ProtocolVersion, String> {
    match key {
        "3.1.1" => Ok(ProtocolVersion::V3_1_1),
        "3.1" => Ok(ProtocolVersion::V3_1),
        "5" => Ok(ProtocolVersion::V5),
        other => Err(format!("unknown protocol version {other:?}")),
    }
}

/// The select value of a protocol version.
pub fn protocol_key(p: ProtocolVersion) -> &'static str {
    match p {
        ProtocolVersion::V3_1_1 => "3.1.1",
        ProtocolVersion::V3_1 => "3.1",
        ProtocolVersion::V5 => "5",
    }
}

/// The keepalive field: whole seconds from 0 to 65535.
pub fn parse_keepalive(text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| "Keep alive must be a whole number of seconds from 0 to 65535".to_string())
}

/// The message size limit field, in MiB, as bytes.
pub fn parse_message_limit(text: &str) -> Result<usize, String> {
    let mib: u32 = text.trim().parse().map_err(|_| {
        format!(
            "Message size limit must be a whole number of MiB from 1 to {MAX_MESSAGE_LIMIT_MIB}"
        )
    })?;
    if !(1..=MAX_MESSAGE_LIMIT_MIB).contains(&mib) {
        return Err(format!(
            "Message size limit must be from 1 to {MAX_MESSAGE_LIMIT_MIB} MiB"
        ));
    }
    Ok(mib as usize * 1024 * 1024)
}

/// Validates the form into a connection target. `page_protocol` is
/// `location.protocol` (for the mixed-content check: an `https` page cannot
/// open `ws://`).
pub fn build(values: &FormValues, page_protocol: &str) -> Result<Target, String> {
    let url = BrokerUrl::parse(&values.broker_url).map_err(|e| format!("Broker URL: {e}"))?;
    if let Some(e) = mixed_content_error(page_protocol, &url) {
        return Err(e);
    }
    let keep_alive_secs = parse_keepalive(&values.keepalive)?;
    let max_incoming_packet_size = parse_message_limit(&values.message_limit_mib)?;
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
        Some(LastWill {
            topic: values.will_topic.clone(),
            payload: values.will_payload.clone().into_bytes(),
            qos: values.will_qos,
            retain: values.will_retain,
        })
    };
    let options = Options {
        client_id: values.client_id.trim().to_string(),
        username,
        password,
        keep_alive_secs,
        clean_session: values.clean_session,
        protocol: values.protocol,
        last_will,
        max_incoming_packet_size,
        ..Options::default()
    };
    options.validate().map_err(|e| e.to_string())?;
    Ok(Target {
        url: url.to_url(),
        options,
        client_id_chosen: values.client_id_typed,
    })
}

/// The profile named `name` for these form values and subscriptions. The
/// password is kept only when "Remember password" is ticked; a client id the
/// user did not choose is left empty, so every tab that loads the profile
/// makes its own (two tabs with one id would keep kicking each other off).
pub fn profile_from_form(
    name: &str,
    values: &FormValues,
    subscriptions: &[SubscriptionState],
) -> Result<Profile, String> {
    let keepalive_secs = parse_keepalive(&values.keepalive)?;
    let name = name.trim();
    if name.is_empty() {
        return Err("give the profile a name".into());
    }
    Ok(Profile {
        name: name.to_string(),
        broker_url: values.broker_url.trim().to_string(),
        client_id: if values.client_id_typed {
            values.client_id.trim().to_string()
        } else {
            String::new()
        },
        username: values.username.clone(),
        password: (values.remember_password && !values.password.is_empty())
            .then(|| values.password.clone()),
        remember_password: values.remember_password,
        keepalive_secs,
        clean_session: values.clean_session,
        protocol: match values.protocol {
            ProtocolVersion::V3_1 => model::ProtocolVersion::V31,
            ProtocolVersion::V3_1_1 => model::ProtocolVersion::V311,
            ProtocolVersion::V5 => model::ProtocolVersion::V5,
        },
        last_will: (!values.will_topic.is_empty()).then(|| model::LastWill {
            topic: values.will_topic.clone(),
            payload: values.will_payload.clone(),
            qos: values.will_qos.as_u8(),
            retain: values.will_retain,
        }),
        subscriptions: subscriptions
            .iter()
            .map(|s| SavedSubscription {
                filter: s.filter.clone(),
                qos: s.qos,
            })
            .collect(),
    })
}

/// The form filled from a profile; `fresh_client_id` stands in for a
/// profile without a client id of its own. Fields a profile does not keep
/// (the message size limit) stay as they were in `current`.
pub fn form_from_profile(
    p: &Profile,
    fresh_client_id: &str,
    current: &FormValues,
) -> Result<FormValues, String> {
    let will = p.last_will.clone().unwrap_or_default();
    let will_qos = QoS::from_u8(will.qos).ok_or_else(|| {
        format!(
            "profile {:?}: Last Will QoS {} is not 0, 1 or 2",
            p.name, will.qos
        )
    })?;
    let typed = !p.client_id.trim().is_empty();
    Ok(FormValues {
        broker_url: p.broker_url.clone(),
        client_id: if typed {
            p.client_id.clone()
        } else {
            fresh_client_id.to_string()
        },
        client_id_typed: typed,
        username: p.username.clone(),
        password: p.password.clone().unwrap_or_default(),
        remember_password: p.remember_password,
        keepalive: p.keepalive_secs.to_string(),
        clean_session: p.clean_session,
        protocol: match p.protocol {
            model::ProtocolVersion::V31 => ProtocolVersion::V3_1,
            model::ProtocolVersion::V311 => ProtocolVersion::V3_1_1,
            model::ProtocolVersion::V5 => ProtocolVersion::V5,
        },
        will_topic: will.topic,
        will_payload: will.payload,
        will_qos,
        will_retain: will.retain,
        message_limit_mib: current.message_limit_mib.clone(),
    })
}

/// A profile's subscriptions as the supervisor takes them; a QoS over 2 (a
/// hand-edited store) is an error naming the filter, never a silent 0.
pub fn profile_subscriptions(p: &Profile) -> Result<Vec<(String, QoS)>, String> {
    p.subscriptions
        .iter()
        .map(|s| {
            QoS::from_u8(s.qos)
                .map(|q| (s.filter.clone(), q))
                .ok_or_else(|| {
                    format!(
                        "subscription {:?}: QoS {} is not 0, 1 or 2",
                        s.filter, s.qos
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Grant;

    fn values() -> FormValues {
        FormValues {
            broker_url: "ws://127.0.0.1:8083/mqtt".into(),
            client_id: "dash".into(),
            client_id_typed: true,
            ..FormValues::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_a_target() {
        let mut v = values();
        v.username = "u".into();
        v.password = "p".into();
        v.will_topic = "dash/status".into();
        v.will_payload = "gone".into();
        v.will_qos = QoS::AtLeastOnce;
        v.protocol = ProtocolVersion::V3_1;
        v.message_limit_mib = "2".into();
        let t = build(&v, "http:").expect("valid form");
        assert_eq!(t.url, "ws://127.0.0.1:8083/mqtt");
        let o = t.options;
        assert_eq!(o.protocol, ProtocolVersion::V3_1);
        assert_eq!(o.password.as_deref(), Some("p"));
        assert_eq!(o.max_incoming_packet_size, 2 * 1024 * 1024);
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
    fn a_bad_keepalive_message_limit_or_will_is_refused_with_a_reason_never_replaced() {
        for bad in ["70000", "", "sixty", "-1", "1.5"] {
            let mut v = values();
            v.keepalive = bad.into();
            let e = build(&v, "http:").expect_err("refused");
            assert!(e.contains("Keep alive"), "{bad}: {e}");
        }
        for bad in ["0", "257", "x", ""] {
            let mut v = values();
            v.message_limit_mib = bad.into();
            let e = build(&v, "http:").expect_err("refused");
            assert!(e.contains("Message size limit"), "{bad}: {e}");
        }
        let mut v = values();
        v.will_topic = "a/+".into();
        assert!(build(&v, "http:")
            .expect_err("refused")
            .contains("Last Will topic"));
    }

    #[test]
    fn selects_parse_their_values_and_refuse_others() {
        assert_eq!(parse_qos("2"), Ok(QoS::ExactlyOnce));
        assert!(parse_qos("3").is_err());
        assert!(parse_qos("").is_err());
        assert_eq!(parse_protocol("3.1"), Ok(ProtocolVersion::V3_1));
        assert_eq!(
            parse_protocol(protocol_key(ProtocolVersion::V3_1_1)),
            Ok(ProtocolVersion::V3_1_1)
        );
        assert!(parse_protocol("5").is_err());
    }

    #[test]
    fn a_password_without_a_user_name_is_refused() {
        let mut v = values();
        v.password = "p".into();
        assert!(build(&v, "http:").is_err());
    }

    fn subs() -> Vec<SubscriptionState> {
        vec![SubscriptionState {
            filter: "a/#".into(),
            qos: 1,
            grant: Grant::Granted(1),
        }]
    }

    #[test]
    fn a_profile_keeps_the_password_only_when_remember_is_ticked() {
        let mut v = values();
        v.username = "u".into();
        v.password = "secret".into();
        let p = profile_from_form("home", &v, &subs()).expect("valid");
        assert_eq!(p.password, None);
        v.remember_password = true;
        let p = profile_from_form("home", &v, &subs()).expect("valid");
        assert_eq!(p.password.as_deref(), Some("secret"));
        assert_eq!(p.subscriptions.len(), 1);
    }

    #[test]
    fn a_random_client_id_is_not_saved_so_each_tab_makes_its_own() {
        let mut v = values();
        v.client_id = "mqdash-1234abcd".into();
        v.client_id_typed = false;
        let p = profile_from_form("home", &v, &[]).expect("valid");
        assert_eq!(p.client_id, "");
        let back = form_from_profile(&p, "mqdash-fresh", &v).expect("valid");
        assert_eq!(back.client_id, "mqdash-fresh");
        assert!(!back.client_id_typed);
        v.client_id_typed = true;
        let p = profile_from_form("home", &v, &[]).expect("valid");
        let back = form_from_profile(&p, "mqdash-fresh", &v).expect("valid");
        assert_eq!(
            (back.client_id.as_str(), back.client_id_typed),
            ("mqdash-1234abcd", true)
        );
    }

    #[test]
    fn a_profile_round_trips_through_the_form() {
        let mut v = values();
        v.will_topic = "w".into();
        v.will_qos = QoS::ExactlyOnce;
        v.keepalive = "30".into();
        v.clean_session = false;
        let p = profile_from_form("x", &v, &subs()).expect("valid");
        assert_eq!(form_from_profile(&p, "unused", &v), Ok(v));
        assert_eq!(
            profile_subscriptions(&p),
            Ok(vec![("a/#".to_string(), QoS::AtLeastOnce)])
        );
    }

    #[test]
    fn a_profile_needs_a_name_and_a_valid_keepalive() {
        assert!(profile_from_form("  ", &values(), &[]).is_err());
        let mut v = values();
        v.keepalive = "x".into();
        assert!(profile_from_form("a", &v, &[]).is_err());
    }
}
