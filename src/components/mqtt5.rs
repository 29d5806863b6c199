//! The MQTT 5 parts of the connection: the form's "MQTT 5 options" (CONNECT
//! and Will properties, shown when the protocol is MQTT 5), and what the
//! broker granted in CONNACK ("Broker granted", a disclosure under the
//! connection bar while connected with MQTT 5).
//!
//! Plain HTML controls, each with its own visible label; the values are
//! checked by `client::settings`, whose sentence the form shows. The
//! options are a static card (docs/architecture.md, "Static cards"):
//! constant markup, the values owned by `Mqtt5Fields` and bound to the
//! controls by `components::dom`.

use leptos::prelude::*;
use mqtt_session::{Granted, Options};

use crate::client::settings::{persistent_session_hint, Mqtt5Values};
use crate::components::dom::{fill_pairs, set_flag, set_text, write_back, Bindings, Bound};
use crate::components::erased::effect;
use crate::state::use_app;

/// The "MQTT 5 options" fields of the connection form, as typed.
#[derive(Clone, Copy)]
pub struct Mqtt5Fields {
    /// Session expiry (s); empty: automatic.
    pub session_expiry: RwSignal<String>,
    /// Receive maximum; empty: 65535.
    pub receive_maximum: RwSignal<String>,
    /// Topic alias maximum; empty: 0.
    pub topic_alias_maximum: RwSignal<String>,
    /// Request response information.
    pub request_response_information: RwSignal<bool>,
    /// Request problem information.
    pub request_problem_information: RwSignal<bool>,
    /// CONNECT user properties, `key = value` lines.
    pub user_properties: RwSignal<String>,
    /// Will delay (s).
    pub will_delay: RwSignal<String>,
    /// Will content type.
    pub will_content_type: RwSignal<String>,
    /// Will message expiry (s).
    pub will_message_expiry: RwSignal<String>,
    /// Will response topic.
    pub will_response_topic: RwSignal<String>,
    /// Will correlation data (text).
    pub will_correlation_data: RwSignal<String>,
    /// Will user properties, `key = value` lines.
    pub will_user_properties: RwSignal<String>,
    /// The Will payload is UTF-8 text.
    pub will_payload_utf8: RwSignal<bool>,
}

impl Default for Mqtt5Fields {
    fn default() -> Self {
        Self::new()
    }
}

impl Mqtt5Fields {
    /// The fields with their defaults.
    pub fn new() -> Self {
        let d = Mqtt5Values::default();
        Self {
            session_expiry: RwSignal::new(d.session_expiry),
            receive_maximum: RwSignal::new(d.receive_maximum),
            topic_alias_maximum: RwSignal::new(d.topic_alias_maximum),
            request_response_information: RwSignal::new(d.request_response_information),
            request_problem_information: RwSignal::new(d.request_problem_information),
            user_properties: RwSignal::new(d.user_properties),
            will_delay: RwSignal::new(d.will_delay),
            will_content_type: RwSignal::new(d.will_content_type),
            will_message_expiry: RwSignal::new(d.will_message_expiry),
            will_response_topic: RwSignal::new(d.will_response_topic),
            will_correlation_data: RwSignal::new(d.will_correlation_data),
            will_user_properties: RwSignal::new(d.will_user_properties),
            will_payload_utf8: RwSignal::new(d.will_payload_utf8),
        }
    }

    /// The values (tracked).
    pub fn values(&self) -> Mqtt5Values {
        Mqtt5Values {
            session_expiry: self.session_expiry.get(),
            receive_maximum: self.receive_maximum.get(),
            topic_alias_maximum: self.topic_alias_maximum.get(),
            request_response_information: self.request_response_information.get(),
            request_problem_information: self.request_problem_information.get(),
            user_properties: self.user_properties.get(),
            will_delay: self.will_delay.get(),
            will_content_type: self.will_content_type.get(),
            will_message_expiry: self.will_message_expiry.get(),
            will_response_topic: self.will_response_topic.get(),
            will_correlation_data: self.will_correlation_data.get(),
            will_user_properties: self.will_user_properties.get(),
            will_payload_utf8: self.will_payload_utf8.get(),
        }
    }

    /// Fills every field.
    pub fn set(&self, v: Mqtt5Values) {
        self.session_expiry.set(v.session_expiry);
        self.receive_maximum.set(v.receive_maximum);
        self.topic_alias_maximum.set(v.topic_alias_maximum);
        self.request_response_information
            .set(v.request_response_information);
        self.request_problem_information
            .set(v.request_problem_information);
        self.user_properties.set(v.user_properties);
        self.will_delay.set(v.will_delay);
        self.will_content_type.set(v.will_content_type);
        self.will_message_expiry.set(v.will_message_expiry);
        self.will_response_topic.set(v.will_response_topic);
        self.will_correlation_data.set(v.will_correlation_data);
        self.will_user_properties.set(v.will_user_properties);
        self.will_payload_utf8.set(v.will_payload_utf8);
    }
}

/// The "MQTT 5 options" section's controls; ids are `m5-*`, bound to
/// [`Mqtt5Fields`] by [`bindings`].
const OPTIONS: &str = concat!(
    r#"<legend>MQTT 5 options</legend><div class="row">"#,
    r#"<label>Session expiry (s)<input id="m5-expiry" type="number" class="narrow" placeholder="auto" spellcheck="false"></label>"#,
    r#"<label>Receive maximum<input id="m5-recv" type="number" class="narrow" placeholder="65535" spellcheck="false"></label>"#,
    r#"<label>Topic alias maximum<input id="m5-alias" type="number" class="narrow" placeholder="0" spellcheck="false"></label>"#,
    r#"<label class="check"><input type="checkbox" id="m5-rri">Request response information</label>"#,
    r#"<label class="check"><input type="checkbox" id="m5-rpi">Request problem information</label>"#,
    r#"<label class="grow">Connection user properties<textarea id="m5-props" rows="2" spellcheck="false" placeholder="key = value, one a line"></textarea></label>"#,
    r#"</div><p class="hint expiry-hint" aria-live="polite" id="m5-hint"></p><div class="row">"#,
    r#"<label>Will delay (s)<input id="m5-will-delay" type="number" class="narrow" placeholder="0" spellcheck="false"></label>"#,
    r#"<label>Will message expiry (s)<input id="m5-will-expiry" type="number" class="narrow" placeholder="none" spellcheck="false"></label>"#,
    r#"<label>Will content type<input id="m5-will-type" type="text" placeholder="text/plain" spellcheck="false"></label>"#,
    r#"<label>Will response topic<input id="m5-will-resp" type="text" spellcheck="false"></label>"#,
    r#"<label>Will correlation data<input id="m5-will-corr" type="text" spellcheck="false"></label>"#,
    r#"<label class="check"><input type="checkbox" id="m5-will-utf8">Will is UTF-8 text</label>"#,
    r#"<label class="grow">Will user properties<textarea id="m5-will-props" rows="2" spellcheck="false" placeholder="key = value, one a line"></textarea></label>"#,
    r#"</div>"#,
);

/// The section's controls and the fields owning their values (the
/// connection form's delegated `input` handler reads them).
pub fn bindings(v: Mqtt5Fields) -> Bindings {
    vec![
        ("m5-expiry", Bound::Text(v.session_expiry)),
        ("m5-recv", Bound::Text(v.receive_maximum)),
        ("m5-alias", Bound::Text(v.topic_alias_maximum)),
        ("m5-rri", Bound::Check(v.request_response_information)),
        ("m5-rpi", Bound::Check(v.request_problem_information)),
        ("m5-props", Bound::Text(v.user_properties)),
        ("m5-will-delay", Bound::Text(v.will_delay)),
        ("m5-will-expiry", Bound::Text(v.will_message_expiry)),
        ("m5-will-type", Bound::Text(v.will_content_type)),
        ("m5-will-resp", Bound::Text(v.will_response_topic)),
        ("m5-will-corr", Bound::Text(v.will_correlation_data)),
        ("m5-will-utf8", Bound::Check(v.will_payload_utf8)),
        ("m5-will-props", Bound::Text(v.will_user_properties)),
    ]
}

/// The connection form's "MQTT 5 options" section: static markup (see
/// docs/architecture.md, "Static cards"; with the rest of the connection
/// form this saved 1.2 KB of gzipped wasm over `view!` per control). Typing
/// is read by the form's one `input` handler; these effects write the
/// fields back (a loaded profile) and the session expiry hint.
#[component]
pub fn Mqtt5Options() -> impl IntoView {
    let f = use_app().form;
    let v = f.v5;
    write_back(&bindings(v));
    effect(move || {
        let typed = v.session_expiry.get();
        let auto = typed.trim().is_empty().then_some(
            "Session expiry left empty (auto): 0 with a clean session, one hour (3600 s) without.",
        );
        let hint =
            persistent_session_hint(f.protocol.get(), f.clean_session.get(), &typed).or(auto);
        set_text("m5-hint", hint.unwrap_or_default());
    });
    view! { <fieldset class="mqtt5" inner_html=OPTIONS></fieldset> }
}

/// What the broker granted, one `(name, value)` a row, in words. `asked`
/// are the options we connected with (the broker's values stand in for
/// ours where it sent them).
pub fn granted_rows(g: &Granted, asked: &Options) -> Vec<(&'static str, String)> {
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    let yes_no = |b: bool| String::from(if b { "available" } else { "not available" });
    let pairs = |p: &[(String, String)]| {
        if p.is_empty() {
            "none".to_string()
        } else {
            p.iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    vec![
        (
            "Assigned client id",
            g.assigned_client_id
                .clone()
                .unwrap_or_else(|| "none (ours is used)".into()),
        ),
        (
            "Server keep alive",
            match g.server_keep_alive {
                Some(k) => format!("{k} s (the broker's)"),
                None => format!("{} s (as asked)", asked.keep_alive_secs),
            },
        ),
        ("Receive maximum", g.receive_maximum.to_string()),
        ("Maximum QoS", g.maximum_qos.as_u8().to_string()),
        ("Retain", yes_no(g.retain_available)),
        (
            "Maximum packet size",
            g.maximum_packet_size
                .map_or_else(|| "no limit".into(), |n| format!("{n} bytes")),
        ),
        ("Topic alias maximum", g.topic_alias_maximum.to_string()),
        (
            "Wildcard subscriptions",
            yes_no(g.wildcard_subscription_available),
        ),
        (
            "Subscription identifiers",
            yes_no(g.subscription_identifiers_available),
        ),
        (
            "Shared subscriptions",
            yes_no(g.shared_subscription_available),
        ),
        (
            "Session expiry",
            match g.session_expiry_secs {
                Some(s) => format!("{s} s (the broker's)"),
                None => format!("{} s (as asked)", asked.v5.session_expiry_secs),
            },
        ),
        ("Response information", or_none(&g.response_information)),
        ("Server reference", or_none(&g.server_reference)),
        ("Reason string", or_none(&g.reason_string)),
        ("User properties", pairs(&g.user_properties)),
    ]
}

/// "Broker granted"'s fixed part; the rows are written as text.
const GRANTED: &str = concat!(
    r#"<summary>Broker granted</summary>"#,
    r#"<dl aria-label="What the broker granted" id="granted-rows"></dl>"#,
);

/// "Broker granted": what the broker's CONNACK said (MQTT 5), while
/// connected. Static markup, hidden otherwise.
#[component]
pub fn BrokerGranted() -> impl IntoView {
    let s = use_app();
    effect(move || {
        let shown = s.granted.get().filter(|_| s.status.get().is_connected());
        let Some(g) = shown else {
            // Hidden, and closed again as a new disclosure would be.
            set_flag("granted", "hidden", true);
            set_flag("granted", "open", false);
            return;
        };
        let asked = s
            .client()
            .peek(|sup| sup.target().map(|t| t.options.clone()))
            .unwrap_or_default();
        let rows: Vec<(String, String)> = granted_rows(&g, &asked)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        fill_pairs("granted-rows", &rows);
        set_flag("granted", "hidden", false);
    });
    view! { <details class="granted" id="granted" hidden inner_html=GRANTED></details> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_session::QoS;

    #[test]
    fn what_the_broker_granted_reads_in_words_with_ours_where_it_left_a_value_out() {
        let g = Granted {
            receive_maximum: 20,
            topic_alias_maximum: 10,
            maximum_qos: QoS::AtLeastOnce,
            retain_available: false,
            assigned_client_id: Some("auto-1".into()),
            user_properties: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            ..Granted::default()
        };
        let rows = granted_rows(&g, &Options::default());
        let get = |k: &str| {
            rows.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no row {k}"))
        };
        assert_eq!(get("Assigned client id"), "auto-1");
        assert_eq!(get("Receive maximum"), "20");
        assert_eq!(get("Topic alias maximum"), "10");
        assert_eq!(get("Maximum QoS"), "1");
        assert_eq!(get("Retain"), "not available");
        assert_eq!(get("Server keep alive"), "60 s (as asked)");
        assert_eq!(get("Maximum packet size"), "no limit");
        assert_eq!(get("Wildcard subscriptions"), "available");
        assert_eq!(get("Session expiry"), "0 s (as asked)");
        assert_eq!(get("Server reference"), "none");
        assert_eq!(get("User properties"), "a = 1; b = 2");
        assert_eq!(rows.len(), 15);
    }
}
