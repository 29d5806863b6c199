//! The connection form's values, typed where they are read, and what is made
//! of them: a validated connection [`Target`], a saved [`Profile`], and the
//! form filled back from a profile.
//!
//! Pure, so every refusal is tested natively. Nothing here falls back
//! silently: a value that cannot be used is an error sentence naming the field.

use bytes::Bytes;
use model::{mixed_content_error, BrokerUrl, Profile, SavedSubscription};
use mqtt_session::v5::MAX_SUBSCRIPTION_IDENTIFIER;
use mqtt_session::{
    ConnectProperties, LastWill, Options, ProtocolVersion, PublishProperties, QoS, RetainHandling,
};

use super::supervisor::{SubOptions, Target, WantedSubscription};

/// The default for "Message size limit (MiB)": generous, yet a message over
/// it (or one a broker floods with) never grows the page without bound.
pub const DEFAULT_MESSAGE_LIMIT_MIB: u32 = 16;

/// The largest message MQTT can carry is 256 MiB (remaining length 268,435,455).
pub const MAX_MESSAGE_LIMIT_MIB: u32 = 256;

/// MQTT 5: the session expiry used when "Session expiry (s)" is left empty
/// and clean session is off (one hour), so that unticking Clean session
/// keeps the session across reconnects as it does with MQTT 3.1.1. With
/// clean session on, an empty field means 0.
pub const DEFAULT_PERSISTENT_EXPIRY_SECS: u32 = 3600;

/// The "MQTT 5 options" fields, kept as typed (numbers included) so a
/// half-typed value is never replaced; a profile keeps them as they are. An
/// empty number field takes the default its placeholder shows.
pub use model::profile::Mqtt5Settings as Mqtt5Values;

/// Whether any Will property is set.
fn has_will_properties(v: &Mqtt5Values) -> bool {
    [
        &v.will_delay,
        &v.will_content_type,
        &v.will_message_expiry,
        &v.will_response_topic,
        &v.will_correlation_data,
        &v.will_user_properties,
    ]
    .iter()
    .any(|f| !f.trim().is_empty())
        || v.will_payload_utf8
}

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
    /// The MQTT 5 options (used only with MQTT 5).
    pub v5: Mqtt5Values,
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
            v5: Mqtt5Values::default(),
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

/// A number field of the MQTT 5 options: empty gives `None`, otherwise a
/// whole number from `min` to `max` or a sentence naming the field.
fn parse_number(field: &str, text: &str, min: u32, max: u32) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .map(Some)
        .ok_or_else(|| format!("{field} must be a whole number from {min} to {max}"))
}

/// User properties, one `key = value` a line (spaces around `=` are
/// dropped; empty lines are skipped; a name may repeat). `field` names the
/// field in the sentence for a line that is not `key = value`.
pub fn parse_user_properties(field: &str, text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("{field}, line {}: write key = value", i + 1))?;
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// User properties as the form shows them: `key = value` lines.
pub fn user_properties_text(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The subscription identifier field: empty for an automatic one, else a
/// whole number from 1 to 268,435,455.
pub fn parse_subscription_identifier(text: &str) -> Result<Option<u32>, String> {
    parse_number(
        "Subscription identifier",
        text,
        1,
        MAX_SUBSCRIPTION_IDENTIFIER,
    )
}

/// A retain handling from its select value (`"0"`, `"1"`, `"2"`).
pub fn parse_retain_handling(key: &str) -> Result<RetainHandling, String> {
    key.trim()
        .parse::<u8>()
        .ok()
        .and_then(RetainHandling::from_u8)
        .ok_or_else(|| format!("Retain handling must be 0, 1 or 2, not {key:?}"))
}

/// What the MQTT 5 options say to send in CONNECT (and with the Will).
pub fn connect_properties(values: &FormValues) -> Result<ConnectProperties, String> {
    let v = &values.v5;
    let session_expiry_secs = parse_number("Session expiry", &v.session_expiry, 0, u32::MAX)?
        .unwrap_or(if values.clean_session {
            0
        } else {
            DEFAULT_PERSISTENT_EXPIRY_SECS
        });
    let receive_maximum = parse_number(
        "Receive maximum",
        &v.receive_maximum,
        1,
        u32::from(u16::MAX),
    )?
    .map_or(u16::MAX, |n| n as u16);
    let topic_alias_maximum = parse_number(
        "Topic alias maximum",
        &v.topic_alias_maximum,
        0,
        u32::from(u16::MAX),
    )?
    .map_or(0, |n| n as u16);
    let user_properties = parse_user_properties("Connection user properties", &v.user_properties)?;
    if values.will_topic.is_empty() && has_will_properties(v) {
        return Err(
            "The Will delay, content type, message expiry, response topic, correlation \
                    data, user properties and UTF-8 flag belong to a Last Will: fill in Will \
                    topic, or clear them"
                .into(),
        );
    }
    let will_response_topic = v.will_response_topic.trim();
    if !will_response_topic.is_empty() {
        mqtt_session::topic::validate_topic_name(will_response_topic)
            .map_err(|e| format!("Will response topic: {e}"))?;
    }
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(ConnectProperties {
        session_expiry_secs,
        receive_maximum,
        topic_alias_maximum,
        request_response_information: v.request_response_information,
        request_problem_information: v.request_problem_information,
        user_properties,
        will_delay_secs: parse_number("Will delay", &v.will_delay, 0, u32::MAX)?.unwrap_or(0),
        will_properties: PublishProperties {
            payload_format_indicator: v.will_payload_utf8.then_some(1),
            message_expiry_secs: parse_number(
                "Will message expiry",
                &v.will_message_expiry,
                0,
                u32::MAX,
            )?,
            content_type: text(v.will_content_type.trim()),
            response_topic: text(will_response_topic),
            correlation_data: (!v.will_correlation_data.is_empty())
                .then(|| Bytes::from(v.will_correlation_data.clone().into_bytes())),
            user_properties: parse_user_properties(
                "Will user properties",
                &v.will_user_properties,
            )?,
            subscription_identifiers: Vec::new(),
        },
    })
}

/// MQTT 5: a persistent session needs a session expiry above 0. With clean
/// session off and "Session expiry (s)" set to 0 the broker forgets the
/// session when the connection ends; this says so (the form still connects:
/// resuming a session that ends with this connection is allowed).
pub fn persistent_session_hint(
    protocol: ProtocolVersion,
    clean_session: bool,
    session_expiry: &str,
) -> Option<&'static str> {
    (protocol == ProtocolVersion::V5
        && !clean_session
        && parse_number("", session_expiry, 0, u32::MAX) == Ok(Some(0)))
    .then_some(
        "With MQTT 5 and Session expiry 0 the broker forgets the session as soon as the \
         connection ends, clean session or not: set Session expiry above 0 (or leave it empty \
         for one hour) to keep it across reconnects.",
    )
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
    let v5 = if values.protocol == ProtocolVersion::V5 {
        connect_properties(values)?
    } else {
        ConnectProperties::default()
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
        v5,
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
/// The MQTT 5 options are saved with an MQTT 5 profile only (and must then
/// be valid).
pub fn profile_from_form(
    name: &str,
    values: &FormValues,
    subscriptions: &[WantedSubscription],
) -> Result<Profile, String> {
    let keepalive_secs = parse_keepalive(&values.keepalive)?;
    let name = name.trim();
    if name.is_empty() {
        return Err("give the profile a name".into());
    }
    let mqtt5 = match values.protocol {
        ProtocolVersion::V5 => {
            connect_properties(values)?;
            values.v5.clone()
        }
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 => Mqtt5Values::default(),
    };
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
                qos: s.qos.as_u8(),
                no_local: s.options.no_local,
                retain_as_published: s.options.retain_as_published,
                retain_handling: s.options.retain_handling.as_u8(),
                identifier: s.options.identifier.unwrap_or(0),
            })
            .collect(),
        mqtt5,
        // The decoder rules are the page's (`crate::decoders`); the caller
        // puts them in.
        decoders: None,
    })
}

/// The form filled from a profile; `fresh_client_id` stands in for a
/// profile without a client id of its own. Fields a profile does not keep
/// (the message size limit, and the MQTT 5 options of a profile that is not
/// MQTT 5) stay as they were in `current`.
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
        v5: match p.protocol {
            model::ProtocolVersion::V5 => p.mqtt5.clone(),
            model::ProtocolVersion::V31 | model::ProtocolVersion::V311 => current.v5.clone(),
        },
    })
}

/// A profile's subscriptions as the supervisor takes them; a QoS over 2, a
/// retain handling over 2 or an identifier out of range (a hand-edited
/// store) is an error naming the filter, never a silent default.
pub fn profile_subscriptions(p: &Profile) -> Result<Vec<WantedSubscription>, String> {
    p.subscriptions
        .iter()
        .map(|s| {
            let at = |what: String| format!("subscription {:?}: {what}", s.filter);
            let qos =
                QoS::from_u8(s.qos).ok_or_else(|| at(format!("QoS {} is not 0, 1 or 2", s.qos)))?;
            let retain_handling = RetainHandling::from_u8(s.retain_handling).ok_or_else(|| {
                at(format!(
                    "retain handling {} is not 0, 1 or 2",
                    s.retain_handling
                ))
            })?;
            let identifier = match s.identifier {
                0 => None,
                id => parse_subscription_identifier(&id.to_string()).map_err(at)?,
            };
            Ok(WantedSubscription {
                filter: s.filter.clone(),
                qos,
                options: SubOptions {
                    no_local: s.no_local,
                    retain_as_published: s.retain_as_published,
                    retain_handling,
                    identifier,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse_protocol("5"), Ok(ProtocolVersion::V5));
        assert!(parse_protocol("6").is_err());
        assert_eq!(parse_retain_handling("2"), Ok(RetainHandling::DoNotSend));
        assert!(parse_retain_handling("3").is_err());
    }

    #[test]
    fn a_password_without_a_user_name_is_refused() {
        let mut v = values();
        v.password = "p".into();
        assert!(build(&v, "http:").is_err());
    }

    fn subs() -> Vec<WantedSubscription> {
        vec![WantedSubscription {
            filter: "a/#".into(),
            qos: QoS::AtLeastOnce,
            options: SubOptions::default(),
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
        assert_eq!(profile_subscriptions(&p), Ok(subs()));
    }

    #[test]
    fn a_profile_needs_a_name_and_a_valid_keepalive() {
        assert!(profile_from_form("  ", &values(), &[]).is_err());
        let mut v = values();
        v.keepalive = "x".into();
        assert!(profile_from_form("a", &v, &[]).is_err());
    }

    fn v5_values() -> FormValues {
        let mut v = values();
        v.protocol = ProtocolVersion::V5;
        v
    }

    #[test]
    fn mqtt5_options_become_connect_and_will_properties() {
        let mut v = v5_values();
        v.will_topic = "dash/status".into();
        v.will_payload = "gone".into();
        v.v5 = Mqtt5Values {
            session_expiry: "600".into(),
            receive_maximum: "10".into(),
            topic_alias_maximum: "5".into(),
            request_response_information: true,
            request_problem_information: false,
            user_properties: "site = plant A\n\n  team=ops  \nsite = B".into(),
            will_delay: "30".into(),
            will_content_type: "text/plain".into(),
            will_message_expiry: "120".into(),
            will_response_topic: "dash/reply".into(),
            will_correlation_data: "abc".into(),
            will_user_properties: "k = v".into(),
            will_payload_utf8: true,
        };
        let p = build(&v, "http:").expect("valid form").options.v5;
        assert_eq!(
            (
                p.session_expiry_secs,
                p.receive_maximum,
                p.topic_alias_maximum
            ),
            (600, 10, 5)
        );
        assert!(p.request_response_information && !p.request_problem_information);
        assert_eq!(
            p.user_properties,
            vec![
                ("site".to_string(), "plant A".to_string()),
                ("team".into(), "ops".into()),
                ("site".into(), "B".into())
            ]
        );
        assert_eq!(p.will_delay_secs, 30);
        let w = p.will_properties;
        assert_eq!(w.payload_format_indicator, Some(1));
        assert_eq!(w.message_expiry_secs, Some(120));
        assert_eq!(w.content_type.as_deref(), Some("text/plain"));
        assert_eq!(w.response_topic.as_deref(), Some("dash/reply"));
        assert_eq!(w.correlation_data.as_deref(), Some(&b"abc"[..]));
        assert_eq!(w.user_properties, vec![("k".to_string(), "v".to_string())]);
    }

    #[test]
    fn empty_mqtt5_fields_take_their_defaults_and_session_expiry_follows_clean_session() {
        let mut v = v5_values();
        let p = build(&v, "http:").expect("valid").options.v5;
        assert_eq!(p, ConnectProperties::default());
        v.clean_session = false;
        let p = build(&v, "http:").expect("valid").options.v5;
        assert_eq!(p.session_expiry_secs, DEFAULT_PERSISTENT_EXPIRY_SECS);
        assert_eq!(persistent_session_hint(v.protocol, false, ""), None);
        v.v5.session_expiry = "0".into();
        assert_eq!(
            build(&v, "http:")
                .expect("valid")
                .options
                .v5
                .session_expiry_secs,
            0
        );
        let hint = persistent_session_hint(v.protocol, false, "0").expect("a hint");
        assert!(hint.contains("Session expiry"), "{hint}");
        assert_eq!(persistent_session_hint(v.protocol, true, "0"), None);
        assert_eq!(
            persistent_session_hint(ProtocolVersion::V3_1_1, false, "0"),
            None
        );
    }

    #[test]
    fn bad_mqtt5_values_are_refused_with_a_sentence_naming_the_field() {
        type Case = (fn(&mut Mqtt5Values), &'static str);
        let cases: [Case; 8] = [
            (|m| m.session_expiry = "-1".into(), "Session expiry"),
            (|m| m.receive_maximum = "0".into(), "Receive maximum"),
            (|m| m.receive_maximum = "70000".into(), "Receive maximum"),
            (
                |m| m.topic_alias_maximum = "x".into(),
                "Topic alias maximum",
            ),
            (
                |m| m.user_properties = "no equals sign".into(),
                "Connection user properties, line 1",
            ),
            (
                |m| m.user_properties = "a = 1\n= 2".into(),
                "Connection user properties, line 2",
            ),
            (|m| m.will_delay = "1.5".into(), "Will delay"),
            (
                |m| m.will_message_expiry = "soon".into(),
                "Will message expiry",
            ),
        ];
        for (set, field) in cases {
            let mut v = v5_values();
            v.will_topic = "w".into();
            set(&mut v.v5);
            let e = build(&v, "http:").expect_err("refused");
            assert!(e.contains(field), "{field}: {e}");
        }
        let mut v = v5_values();
        v.will_topic = "w".into();
        v.v5.will_response_topic = "a/#".into();
        let e = build(&v, "http:").expect_err("refused");
        assert!(e.starts_with("Will response topic"), "{e}");
        let mut v = v5_values();
        v.v5.will_delay = "5".into();
        let e = build(&v, "http:").expect_err("a Will property without a Will");
        assert!(e.contains("fill in Will topic"), "{e}");
    }

    #[test]
    fn mqtt5_fields_are_ignored_with_3_1_1_exactly_as_before() {
        let mut v = values();
        v.v5.receive_maximum = "nonsense".into();
        let t = build(&v, "http:").expect("3.1.1 ignores the MQTT 5 options");
        assert_eq!(t.options.v5, ConnectProperties::default());
        let p = profile_from_form("x", &v, &[]).expect("valid");
        assert!(p.mqtt5.is_default());
    }

    #[test]
    fn an_mqtt5_profile_round_trips_through_the_form_with_its_subscription_options() {
        let mut v = v5_values();
        v.will_topic = "w".into();
        v.clean_session = false;
        v.v5 = Mqtt5Values {
            session_expiry: "600".into(),
            receive_maximum: String::new(),
            topic_alias_maximum: "4".into(),
            request_response_information: true,
            request_problem_information: true,
            user_properties: "a = 1\nb = two words".into(),
            will_delay: String::new(),
            will_content_type: "text/plain".into(),
            will_message_expiry: "9".into(),
            will_response_topic: "r".into(),
            will_correlation_data: "id-1".into(),
            will_user_properties: "k = v".into(),
            will_payload_utf8: true,
        };
        let subs = vec![WantedSubscription {
            filter: "a/#".into(),
            qos: QoS::ExactlyOnce,
            options: SubOptions {
                no_local: true,
                retain_as_published: true,
                retain_handling: RetainHandling::SendIfNew,
                identifier: Some(42),
            },
        }];
        let p = profile_from_form("x", &v, &subs).expect("valid");
        assert_eq!(form_from_profile(&p, "unused", &values()), Ok(v));
        assert_eq!(profile_subscriptions(&p), Ok(subs));
    }

    #[test]
    fn a_hand_edited_profile_subscription_with_bad_options_is_an_error_naming_it() {
        let mut p = profile_from_form("x", &values(), &subs()).expect("valid");
        p.subscriptions[0].retain_handling = 3;
        let e = profile_subscriptions(&p).expect_err("refused");
        assert!(
            e.contains("\"a/#\"") && e.contains("retain handling 3"),
            "{e}"
        );
        p.subscriptions[0].retain_handling = 0;
        p.subscriptions[0].identifier = 268_435_456;
        assert!(profile_subscriptions(&p).is_err());
    }

    #[test]
    fn user_properties_read_and_write_as_key_value_lines() {
        let pairs = parse_user_properties("X", "a=1\n b = 2 = 3 \n\n").expect("valid");
        assert_eq!(
            pairs,
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".into(), "2 = 3".into())
            ]
        );
        assert_eq!(user_properties_text(&pairs), "a = 1\nb = 2 = 3");
        assert_eq!(parse_subscription_identifier(""), Ok(None));
        assert_eq!(parse_subscription_identifier("7"), Ok(Some(7)));
        assert!(parse_subscription_identifier("0").is_err());
        assert!(parse_subscription_identifier("268435456").is_err());
    }
}
