//! Connection profiles: the user's, saved as JSON (in localStorage, by the
//! app), exported to and imported from a file.
//!
//! A profile is everything the connection form holds plus its
//! subscriptions. Profiles are saved only when the user asks, under the
//! name the user gives ([`ProfileStore::save`], [`ProfileStore::rename`]);
//! the names are kept as given (a name that is empty or only whitespace is
//! refused). The password is kept only when the user ticked "Remember
//! password": the writer (`Profile::to_json`) leaves it out otherwise (so no code
//! path, localStorage or export, can write it by mistake), and loading or
//! importing drops a password whose profile does not say to remember it.
//!
//! Reading localStorage ([`ProfileStore::from_json`]) never fails hard:
//! corrupt or foreign JSON gives an empty store and an error sentence to
//! show; a single unreadable profile is skipped and counted in that
//! sentence; unknown fields are ignored and missing ones take their
//! defaults, so older and newer versions of the page can share the storage.
//!
//! Importing a file ([`ProfileStore::import_json`]) is strict instead: it
//! takes the export format (`{"format":"mqdash-profiles","version":1,
//! "profiles":[…]}`, or the localStorage object, or a bare array of
//! profiles), checks every profile (a name, known field types, QoS 0 to 2,
//! valid subscription filters and will topic, a known protocol) and on the
//! first problem refuses the whole file with a sentence naming the profile
//! and the field, leaving the store as it was. Files over
//! [`MAX_IMPORT_BYTES`] are refused before parsing; nesting deeper than
//! [`crate::json::RECURSION_LIMIT`] is a parse error, never a stack
//! overflow.

use crate::decoding::DecoderRules;
use crate::json::{self, Map, Value};
use crate::properties::PropertiesForm;
use crate::publish_format::PayloadFormat;
use crate::topic::{validate_filter, validate_topic_name};

/// The localStorage key the app should use for [`ProfileStore::to_json`].
pub const STORAGE_KEY: &str = "mqdash.profiles";

/// The `format` field of an export file.
pub const EXPORT_FORMAT: &str = "mqdash-profiles";

/// The largest file [`ProfileStore::import_json`] reads: 1 MiB.
pub const MAX_IMPORT_BYTES: usize = 1 << 20;

/// MQTT protocol version of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(serde::Serialize))]
pub enum ProtocolVersion {
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3).
    #[cfg_attr(test, serde(rename = "3.1"))]
    V31,
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    #[default]
    #[cfg_attr(test, serde(rename = "3.1.1"))]
    V311,
    /// MQTT 5 (protocol name `MQTT`, level 5).
    #[cfg_attr(test, serde(rename = "5"))]
    V5,
}

impl ProtocolVersion {
    /// `3.1`, `3.1.1` or `5`, for the form's select.
    pub fn label(self) -> &'static str {
        match self {
            ProtocolVersion::V31 => "3.1",
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5",
        }
    }

    /// The version with this label.
    pub fn from_label(label: &str) -> Option<ProtocolVersion> {
        match label {
            "3.1" => Some(ProtocolVersion::V31),
            "3.1.1" => Some(ProtocolVersion::V311),
            "5" => Some(ProtocolVersion::V5),
            _ => None,
        }
    }
}

/// The Last Will the broker publishes if the connection drops.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct LastWill {
    /// Topic of the will message.
    pub topic: String,
    /// Payload, as text.
    pub payload: String,
    /// QoS 0, 1 or 2.
    pub qos: u8,
    /// Whether the will is retained.
    pub retain: bool,
}

/// A saved subscription. The MQTT 5 options are written only when set, so
/// a plain subscription is stored as before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct SavedSubscription {
    /// The topic filter.
    pub filter: String,
    /// The QoS requested.
    pub qos: u8,
    /// MQTT 5: no local.
    #[cfg_attr(test, serde(skip_serializing_if = "is_false"))]
    pub no_local: bool,
    /// MQTT 5: retain as published.
    #[cfg_attr(test, serde(skip_serializing_if = "is_false"))]
    pub retain_as_published: bool,
    /// MQTT 5: retain handling, 0, 1 or 2.
    #[cfg_attr(test, serde(skip_serializing_if = "is_zero"))]
    pub retain_handling: u8,
    /// MQTT 5: the subscription identifier the user chose; 0 (or absent):
    /// an automatic one.
    #[cfg_attr(test, serde(skip_serializing_if = "is_zero_u32"))]
    pub identifier: u32,
}

#[cfg(test)]
fn is_false(b: &bool) -> bool {
    !b
}

#[cfg(test)]
fn is_zero(n: &u8) -> bool {
    *n == 0
}

#[cfg(test)]
fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// A profile's MQTT 5 connection options exactly as the form's "MQTT 5
/// options" hold them: numbers as typed (empty: the default the form's
/// placeholder shows) and user properties as `key = value` lines, so a
/// profile gives the form back what it was saved from. The page checks them
/// when it saves and when it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct Mqtt5Settings {
    /// Session expiry in seconds; empty: 0 with a clean session, one hour
    /// without.
    pub session_expiry: String,
    /// Receive maximum, 1 to 65535; empty: 65535.
    pub receive_maximum: String,
    /// Topic alias maximum, 0 to 65535; empty: 0.
    pub topic_alias_maximum: String,
    /// Ask for response information in CONNACK.
    pub request_response_information: bool,
    /// Let the broker send reason strings and user properties.
    pub request_problem_information: bool,
    /// CONNECT user properties, one `key = value` a line.
    pub user_properties: String,
    /// Will delay in seconds; empty: 0.
    pub will_delay: String,
    /// Will content type; empty for none.
    pub will_content_type: String,
    /// Will message expiry in seconds; empty for none.
    pub will_message_expiry: String,
    /// Will response topic; empty for none.
    pub will_response_topic: String,
    /// Will correlation data, as text; empty for none.
    pub will_correlation_data: String,
    /// Will user properties, one `key = value` a line.
    pub will_user_properties: String,
    /// The Will payload is UTF-8 text (payload format indicator 1).
    pub will_payload_utf8: bool,
}

impl Mqtt5Settings {
    /// Whether these are the defaults (nothing typed, problem information
    /// requested).
    pub fn is_default(&self) -> bool {
        *self == Mqtt5Settings::default()
    }

    /// The text field stored under `key`.
    fn text_mut(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "session_expiry" => &mut self.session_expiry,
            "receive_maximum" => &mut self.receive_maximum,
            "topic_alias_maximum" => &mut self.topic_alias_maximum,
            "user_properties" => &mut self.user_properties,
            "will_delay" => &mut self.will_delay,
            "will_content_type" => &mut self.will_content_type,
            "will_message_expiry" => &mut self.will_message_expiry,
            "will_response_topic" => &mut self.will_response_topic,
            "will_correlation_data" => &mut self.will_correlation_data,
            "will_user_properties" => &mut self.will_user_properties,
            _ => return None,
        })
    }

    /// The checkbox stored under `key`.
    fn flag_mut(&mut self, key: &str) -> Option<&mut bool> {
        Some(match key {
            "request_response_information" => &mut self.request_response_information,
            "request_problem_information" => &mut self.request_problem_information,
            "will_payload_utf8" => &mut self.will_payload_utf8,
            _ => return None,
        })
    }
}

impl Default for Mqtt5Settings {
    /// Every field empty, problem information requested (MQTT 5's default).
    fn default() -> Self {
        Mqtt5Settings {
            session_expiry: String::new(),
            receive_maximum: String::new(),
            topic_alias_maximum: String::new(),
            request_response_information: false,
            request_problem_information: true,
            user_properties: String::new(),
            will_delay: String::new(),
            will_content_type: String::new(),
            will_message_expiry: String::new(),
            will_response_topic: String::new(),
            will_correlation_data: String::new(),
            will_user_properties: String::new(),
            will_payload_utf8: false,
        }
    }
}

/// One connection profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The name it is listed under.
    pub name: String,
    /// Broker URL (`ws://…` or `wss://…`).
    pub broker_url: String,
    /// MQTT client id. Empty means "a fresh random id per tab": the page
    /// generates one when it connects, so two tabs opened with one profile
    /// do not take over each other's session.
    pub client_id: String,
    /// User name; empty for none.
    pub username: String,
    /// Password; stored only when `remember_password` is set.
    pub password: Option<String>,
    /// Whether to store the password.
    pub remember_password: bool,
    /// Keep alive in seconds.
    pub keepalive_secs: u16,
    /// Clean session flag.
    pub clean_session: bool,
    /// Protocol version.
    pub protocol: ProtocolVersion,
    /// Last Will, if any.
    pub last_will: Option<LastWill>,
    /// Subscriptions to make after connecting.
    pub subscriptions: Vec<SavedSubscription>,
    /// MQTT 5 options; written only when they are not the defaults (a
    /// profile of another protocol keeps the defaults).
    pub mqtt5: Mqtt5Settings,
    /// Which decoder reads which topics; `None` (not written): a new
    /// profile's defaults ([`DecoderRules::default`]).
    pub decoders: Option<DecoderRules>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name: String::new(),
            broker_url: String::new(),
            client_id: String::new(),
            username: String::new(),
            password: None,
            remember_password: false,
            keepalive_secs: 60,
            clean_session: true,
            protocol: ProtocolVersion::V311,
            last_will: None,
            subscriptions: Vec::new(),
            mqtt5: Mqtt5Settings::default(),
            decoders: None,
        }
    }
}

/// A saved publish form: topic, payload format, payload, QoS, retain and
/// its MQTT 5 message properties, under a name. Topic and payload are kept
/// as typed, variables (`{{counter}}`, …) included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishTemplate {
    /// The name it is listed under.
    pub name: String,
    /// Topic, as typed.
    pub topic: String,
    /// How the payload text is encoded.
    pub format: PayloadFormat,
    /// Payload, as typed.
    pub payload: String,
    /// QoS 0, 1 or 2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// MQTT 5 message properties; written only when some are set.
    pub properties: PropertiesForm,
}

/// A template read from stored or imported JSON, like [`profile_from_value`].
fn template_from_value(value: &Value) -> Result<PublishTemplate, String> {
    let mut t = PublishTemplate::default();
    for (key, v) in object("template", value)? {
        let k = key.as_str();
        let p = &mut t.properties;
        let field = match k {
            "name" => &mut t.name,
            "topic" => &mut t.topic,
            "payload" => &mut t.payload,
            "format" => {
                t.format = v
                    .as_str()
                    .and_then(PayloadFormat::from_key)
                    .ok_or_else(|| must_be(k, "\"text\", \"json\", \"hex\", \"dp1\" or \"dp3\""))?;
                continue;
            }
            "qos" => {
                t.qos = number(k, v, 2).map_err(|_| must_be(k, "0, 1 or 2"))? as u8;
                continue;
            }
            "retain" => {
                t.retain = flag(k, v)?;
                continue;
            }
            "properties" => {
                for (key, v) in object(k, v)? {
                    let k = key.as_str();
                    let field = match k {
                        "content_type" => &mut p.content_type,
                        "expiry" => &mut p.expiry,
                        "response_topic" => &mut p.response_topic,
                        "correlation" => &mut p.correlation,
                        "utf8" => {
                            p.utf8 = flag(k, v)?;
                            continue;
                        }
                        "user" => {
                            let bad = || must_be(k, "a list of [name, value] pairs of text");
                            p.user.clear();
                            for row in v.as_array().ok_or_else(bad)? {
                                match row.as_array().map(Vec::as_slice) {
                                    Some([Value::String(a), Value::String(b)]) => {
                                        p.user.push((a.clone(), b.clone()))
                                    }
                                    _ => return Err(bad()),
                                }
                            }
                            continue;
                        }
                        _ => continue,
                    };
                    *field = text(k, v)?;
                }
                continue;
            }
            _ => continue,
        };
        *field = text(k, v)?;
    }
    if is_blank(&t.name) {
        return Err("a template needs a name".to_owned());
    }
    Ok(t)
}

/// A profile read from stored or imported JSON. Read by hand rather than
/// derived (a derived reader is several KB of wasm): missing keys take
/// their defaults, unknown ones are ignored, a value of the wrong type is
/// an error naming the key, and a password that is not to be remembered is
/// dropped.
fn profile_from_value(value: &Value) -> Result<Profile, String> {
    let mut p = Profile::default();
    for (key, v) in object("profile", value)? {
        let k = key.as_str();
        match k {
            "name" => p.name = text(k, v)?,
            "broker_url" => p.broker_url = text(k, v)?,
            "client_id" => p.client_id = text(k, v)?,
            "username" => p.username = text(k, v)?,
            "password" => p.password = (!v.is_null()).then(|| text(k, v)).transpose()?,
            "remember_password" => p.remember_password = flag(k, v)?,
            "keepalive_secs" => p.keepalive_secs = number(k, v, u16::MAX.into())? as u16,
            "clean_session" => p.clean_session = flag(k, v)?,
            "protocol" => {
                p.protocol = v
                    .as_str()
                    .and_then(ProtocolVersion::from_label)
                    .ok_or_else(|| must_be(k, "\"3.1\", \"3.1.1\" or \"5\""))?
            }
            "last_will" if !v.is_null() => {
                let mut w = LastWill::default();
                for (key, v) in object(k, v)? {
                    let k = key.as_str();
                    match k {
                        "topic" => w.topic = text(k, v)?,
                        "payload" => w.payload = text(k, v)?,
                        "qos" => w.qos = number(k, v, 255)? as u8,
                        "retain" => w.retain = flag(k, v)?,
                        _ => {}
                    }
                }
                p.last_will = Some(w);
            }
            "subscriptions" => {
                let list = v.as_array().ok_or_else(|| must_be(k, "a list"))?;
                p.subscriptions = list
                    .iter()
                    .map(subscription_from_value)
                    .collect::<Result<_, _>>()?;
            }
            // Rules that are not understood are left out rather than
            // refusing the profile (see `DecoderRules::from_value`).
            "decoders" if v.is_array() => p.decoders = Some(DecoderRules::from_value(v).0),
            "mqtt5" => {
                for (key, v) in object(k, v)? {
                    if let Some(t) = p.mqtt5.text_mut(key) {
                        *t = text(key, v)?;
                    } else if let Some(f) = p.mqtt5.flag_mut(key) {
                        *f = flag(key, v)?;
                    }
                }
            }
            _ => {}
        }
    }
    if !p.remember_password {
        p.password = None;
    }
    Ok(p)
}

fn subscription_from_value(value: &Value) -> Result<SavedSubscription, String> {
    let mut s = SavedSubscription::default();
    for (key, v) in object("subscription", value)? {
        let k = key.as_str();
        match k {
            "filter" => s.filter = text(k, v)?,
            "qos" => s.qos = number(k, v, 255)? as u8,
            "no_local" => s.no_local = flag(k, v)?,
            "retain_as_published" => s.retain_as_published = flag(k, v)?,
            "retain_handling" => s.retain_handling = number(k, v, 255)? as u8,
            "identifier" => s.identifier = number(k, v, u32::MAX.into())? as u32,
            _ => {}
        }
    }
    Ok(s)
}

fn must_be(key: &str, what: &str) -> String {
    format!("\"{key}\" must be {what}")
}

fn object<'a>(key: &str, v: &'a Value) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| must_be(key, "an object"))
}

fn text(key: &str, v: &Value) -> Result<String, String> {
    v.as_str()
        .map(String::from)
        .ok_or_else(|| must_be(key, "text"))
}

fn flag(key: &str, v: &Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| must_be(key, "true or false"))
}

fn number(key: &str, v: &Value, max: u64) -> Result<u64, String> {
    v.as_u64()
        .filter(|n| *n <= max)
        .ok_or_else(|| must_be(key, &format!("a whole number from 0 to {max}")))
}

/// A small JSON writer for profiles, compact (localStorage) or pretty
/// (export), producing exactly what serde_json's `to_string` and
/// `to_string_pretty` made of the derived `Serialize` it replaces (same
/// key order, two-space indent, serde_json's string escaping, tested
/// against serde_json), without serde in the page.
struct Json {
    out: String,
    pretty: bool,
    depth: usize,
    /// Whether the current object or array has no entry yet.
    first: bool,
}

impl Json {
    fn new(pretty: bool) -> Self {
        Json {
            out: String::new(),
            pretty,
            depth: 0,
            first: true,
        }
    }

    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        }
    }

    /// `{` or `[`.
    fn open(&mut self, c: char) {
        self.out.push(c);
        self.depth += 1;
        self.first = true;
    }

    /// `}` or `]`, on its own line when the object or array has entries.
    fn close(&mut self, c: char) {
        self.depth -= 1;
        if !self.first {
            self.newline();
        }
        self.out.push(c);
        self.first = false;
    }

    /// Starts an array element.
    fn item(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.newline();
    }

    /// Starts an object entry: `"key":` (`"key": ` pretty).
    fn key(&mut self, key: &str) {
        self.item();
        self.string(key);
        self.out.push_str(if self.pretty { ": " } else { ":" });
    }

    fn string(&mut self, s: &str) {
        json::write_string(&mut self.out, s);
    }

    fn text(&mut self, key: &str, s: &str) {
        self.key(key);
        self.string(s);
    }

    fn flag(&mut self, key: &str, b: bool) {
        self.key(key);
        self.out.push_str(if b { "true" } else { "false" });
    }

    fn number(&mut self, key: &str, n: u32) {
        self.key(key);
        self.out.push_str(&n.to_string());
    }

    fn profiles(&mut self, key: &str, profiles: &[Profile]) {
        self.key(key);
        self.open('[');
        for p in profiles {
            self.item();
            self.profile(p);
        }
        self.close(']');
    }

    fn templates(&mut self, templates: &[PublishTemplate]) {
        if templates.is_empty() {
            return;
        }
        self.key("templates");
        self.open('[');
        for t in templates {
            self.item();
            self.open('{');
            self.text("name", &t.name);
            self.text("topic", &t.topic);
            self.text("format", t.format.key());
            self.text("payload", &t.payload);
            self.number("qos", t.qos.into());
            self.flag("retain", t.retain);
            let p = &t.properties;
            if *p != PropertiesForm::default() {
                self.key("properties");
                self.open('{');
                self.text("content_type", &p.content_type);
                self.flag("utf8", p.utf8);
                self.text("expiry", &p.expiry);
                self.text("response_topic", &p.response_topic);
                self.text("correlation", &p.correlation);
                self.key("user");
                self.open('[');
                for (k, v) in &p.user {
                    self.item();
                    self.open('[');
                    self.item();
                    self.string(k);
                    self.item();
                    self.string(v);
                    self.close(']');
                }
                self.close(']');
                self.close('}');
            }
            self.close('}');
        }
        self.close(']');
    }

    /// A profile: the password only if remembered, the MQTT 5 options only
    /// when they are not the defaults.
    fn profile(&mut self, p: &Profile) {
        self.open('{');
        self.text("name", &p.name);
        self.text("broker_url", &p.broker_url);
        self.text("client_id", &p.client_id);
        self.text("username", &p.username);
        if let (true, Some(password)) = (p.remember_password, &p.password) {
            self.text("password", password);
        }
        self.flag("remember_password", p.remember_password);
        self.number("keepalive_secs", p.keepalive_secs.into());
        self.flag("clean_session", p.clean_session);
        self.text("protocol", p.protocol.label());
        self.key("last_will");
        match &p.last_will {
            Some(w) => {
                self.open('{');
                self.text("topic", &w.topic);
                self.text("payload", &w.payload);
                self.number("qos", w.qos.into());
                self.flag("retain", w.retain);
                self.close('}');
            }
            None => self.out.push_str("null"),
        }
        self.key("subscriptions");
        self.open('[');
        for sub in &p.subscriptions {
            self.item();
            self.open('{');
            self.text("filter", &sub.filter);
            self.number("qos", sub.qos.into());
            if sub.no_local {
                self.flag("no_local", true);
            }
            if sub.retain_as_published {
                self.flag("retain_as_published", true);
            }
            if sub.retain_handling != 0 {
                self.number("retain_handling", sub.retain_handling.into());
            }
            if sub.identifier != 0 {
                self.number("identifier", sub.identifier);
            }
            self.close('}');
        }
        self.close(']');
        if !p.mqtt5.is_default() {
            let m = &p.mqtt5;
            self.key("mqtt5");
            self.open('{');
            self.text("session_expiry", &m.session_expiry);
            self.text("receive_maximum", &m.receive_maximum);
            self.text("topic_alias_maximum", &m.topic_alias_maximum);
            self.flag(
                "request_response_information",
                m.request_response_information,
            );
            self.flag("request_problem_information", m.request_problem_information);
            self.text("user_properties", &m.user_properties);
            self.text("will_delay", &m.will_delay);
            self.text("will_content_type", &m.will_content_type);
            self.text("will_message_expiry", &m.will_message_expiry);
            self.text("will_response_topic", &m.will_response_topic);
            self.text("will_correlation_data", &m.will_correlation_data);
            self.text("will_user_properties", &m.will_user_properties);
            self.flag("will_payload_utf8", m.will_payload_utf8);
            self.close('}');
        }
        if let Some(rules) = &p.decoders {
            self.key("decoders");
            self.out.push_str(&rules.to_json());
        }
        self.close('}');
    }
}

impl Profile {
    /// The profile as JSON, without the password unless it is remembered.
    pub fn to_json(&self) -> String {
        let mut w = Json::new(false);
        w.profile(self);
        w.out
    }
}

/// The saved profiles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileStore {
    /// The profiles, in the order they were first saved.
    pub profiles: Vec<Profile>,
    /// The name of the profile used last, to preselect it (the page sets it
    /// when the user saves or loads one).
    pub last_used: Option<String>,
    /// The saved publish templates, in the order they were first saved
    /// (stored and exported with the profiles; absent from older files).
    pub templates: Vec<PublishTemplate>,
}

/// What [`ProfileStore::import_json`] did, by profile name, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Names that were not in the store.
    pub added: Vec<String>,
    /// Names that were, whose profile the file's replaced.
    pub replaced: Vec<String>,
    /// Publish templates that were not in the store.
    pub templates_added: Vec<String>,
    /// Publish templates whose name was, replaced by the file's.
    pub templates_replaced: Vec<String>,
}

impl ImportReport {
    /// "imported profiles: added a, b; replaced c; templates added t" (or
    /// "…: no profiles in the file"), written without `format!`.
    pub fn message(&self) -> String {
        const HEAD: &str = "imported profiles: ";
        let mut message = String::from(HEAD);
        for (word, names) in [
            ("added ", &self.added),
            ("replaced ", &self.replaced),
            ("templates added ", &self.templates_added),
            ("templates replaced ", &self.templates_replaced),
        ] {
            if !names.is_empty() {
                if message.len() > HEAD.len() {
                    message.push_str("; ");
                }
                message.push_str(word);
                message.push_str(&names.join(", "));
            }
        }
        if message.len() == HEAD.len() {
            message.push_str("no profiles in the file");
        }
        message
    }
}

fn is_blank(name: &str) -> bool {
    name.trim().is_empty()
}

const NEEDS_A_NAME: &str = "a profile needs a name";

impl ProfileStore {
    /// An empty store.
    pub fn new() -> Self {
        ProfileStore::default()
    }

    /// The store as JSON for localStorage (passwords only where remembered).
    pub fn to_json(&self) -> String {
        let mut w = Json::new(false);
        w.open('{');
        w.number("version", 1);
        w.key("last_used");
        match &self.last_used {
            Some(name) => w.string(name),
            None => w.out.push_str("null"),
        }
        w.profiles("profiles", &self.profiles);
        w.templates(&self.templates);
        w.close('}');
        w.out
    }

    /// Reads stored JSON. Never fails: returns what could be read and, if
    /// something could not, a sentence saying so. Empty input (nothing
    /// stored yet) is an empty store without error. Accepts the store
    /// object written by [`ProfileStore::to_json`] or a bare array of
    /// profiles.
    pub fn from_json(json: &str) -> (ProfileStore, Option<String>) {
        if json.trim().is_empty() {
            return (ProfileStore::new(), None);
        }
        let value = match json::parse(json.as_bytes()) {
            Ok(v) => v,
            Err(e) => {
                return (
                    ProfileStore::new(),
                    Some(format!(
                        "the saved connection profiles could not be read ({e}), so none are listed"
                    )),
                )
            }
        };
        let mut stored_templates = Vec::new();
        let (items, last_used) = match value {
            Value::Array(items) => (items, None),
            Value::Object(mut map) => {
                let last_used = match map.remove("last_used") {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                if let Some(Value::Array(t)) = map.remove("templates") {
                    stored_templates = t;
                }
                match map.remove("profiles") {
                    Some(Value::Array(items)) => (items, last_used),
                    _ => {
                        return (
                            ProfileStore::new(),
                            Some("the saved connection profiles are in an unknown format, so none are listed".to_owned()),
                        )
                    }
                }
            }
            _ => return (
                ProfileStore::new(),
                Some(
                    "the saved connection profiles are in an unknown format, so none are listed"
                        .to_owned(),
                ),
            ),
        };
        let total = items.len();
        let profiles: Vec<Profile> = items
            .into_iter()
            .filter_map(|v| profile_from_value(&v).ok())
            .collect();
        let skipped = total - profiles.len();
        let mut templates: Vec<PublishTemplate> = Vec::new();
        let mut bad_templates = 0;
        for v in &stored_templates {
            match template_from_value(v) {
                Ok(t) if !templates.iter().any(|x| x.name == t.name) => templates.push(t),
                _ => bad_templates += 1,
            }
        }
        let mut error = (skipped > 0).then(|| {
            format!(
                "{skipped} saved connection profile{} could not be read and {} left out",
                if skipped == 1 { "" } else { "s" },
                if skipped == 1 { "was" } else { "were" }
            )
        });
        if bad_templates > 0 {
            let t =
                format!("{bad_templates} saved publish template(s) could not be read and left out");
            error = Some(match error {
                Some(e) => format!("{e}; {t}"),
                None => t,
            });
        }
        let last_used = last_used.filter(|n| profiles.iter().any(|p| &p.name == n));
        (
            ProfileStore {
                profiles,
                last_used,
                templates,
            },
            error,
        )
    }

    /// Saves a profile under its name: replaces the one with the same name
    /// in place, or adds it at the end. Refuses a name that is empty or only
    /// whitespace.
    pub fn save(&mut self, profile: Profile) -> Result<(), String> {
        if is_blank(&profile.name) {
            return Err(NEEDS_A_NAME.to_owned());
        }
        match self.profiles.iter_mut().find(|p| p.name == profile.name) {
            Some(existing) => *existing = profile,
            None => self.profiles.push(profile),
        }
        Ok(())
    }

    /// Renames the profile `from` to `to` (in place; `last_used` follows).
    /// Refuses when there is no `from`, when `to` is empty or only
    /// whitespace, or when another profile is already named `to`. Renaming
    /// to the same name does nothing.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), String> {
        if is_blank(to) {
            return Err(NEEDS_A_NAME.to_owned());
        }
        if !self.profiles.iter().any(|p| p.name == from) {
            return Err(format!("there is no profile named {}", quoted(from)));
        }
        if from == to {
            return Ok(());
        }
        if self.profiles.iter().any(|p| p.name == to) {
            return Err(format!("a profile named {} already exists", quoted(to)));
        }
        if let Some(p) = self.profiles.iter_mut().find(|p| p.name == from) {
            p.name = to.to_owned();
        }
        if self.last_used.as_deref() == Some(from) {
            self.last_used = Some(to.to_owned());
        }
        Ok(())
    }

    /// Removes the profile with this name; returns whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.profiles.len();
        self.profiles.retain(|p| p.name != name);
        if self.last_used.as_deref() == Some(name) {
            self.last_used = None;
        }
        self.profiles.len() != before
    }

    /// The profile with this name.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The profile names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|p| p.name.as_str())
    }

    /// Saves a publish template under its name: replaces the one with the
    /// same name in place, or adds it at the end. Refuses a blank name.
    pub fn save_template(&mut self, template: PublishTemplate) -> Result<(), String> {
        if is_blank(&template.name) {
            return Err("a template needs a name".to_owned());
        }
        match self.templates.iter_mut().find(|t| t.name == template.name) {
            Some(existing) => *existing = template,
            None => self.templates.push(template),
        }
        Ok(())
    }

    /// Renames the template `from` to `to`, refusing a blank or taken name
    /// or a missing template.
    pub fn rename_template(&mut self, from: &str, to: &str) -> Result<(), String> {
        if is_blank(to) {
            return Err("a template needs a name".to_owned());
        }
        if from != to && self.template(to).is_some() {
            return Err(format!("a template named {} already exists", quoted(to)));
        }
        let t = self
            .templates
            .iter_mut()
            .find(|t| t.name == from)
            .ok_or_else(|| format!("there is no template named {}", quoted(from)))?;
        t.name = to.to_owned();
        Ok(())
    }

    /// Removes the template with this name; whether there was one.
    pub fn remove_template(&mut self, name: &str) -> bool {
        let before = self.templates.len();
        self.templates.retain(|t| t.name != name);
        self.templates.len() != before
    }

    /// The template with this name.
    pub fn template(&self, name: &str) -> Option<&PublishTemplate> {
        self.templates.iter().find(|t| t.name == name)
    }

    /// Every profile as a pretty-printed file to download:
    /// `{"format":"mqdash-profiles","version":1,"profiles":[…]}`, a
    /// profile's password only when its `remember_password` is set.
    pub fn export_json(&self) -> String {
        let mut w = Json::new(true);
        w.open('{');
        w.text("format", EXPORT_FORMAT);
        w.number("version", 1);
        w.profiles("profiles", &self.profiles);
        w.templates(&self.templates);
        w.close('}');
        w.out
    }

    /// Imports a file written by [`ProfileStore::export_json`] (or the
    /// localStorage object, or a bare array of profiles): each profile is
    /// added, or replaces the one with its name in place. Every profile is
    /// checked first (see the module docs); on any problem nothing changes
    /// and the error says which profile and field. Files over
    /// [`MAX_IMPORT_BYTES`] are refused. Never panics.
    pub fn import_json(&mut self, text: &str) -> Result<ImportReport, String> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(format!(
                "the file is {} bytes; profile files of more than 1 MiB ({MAX_IMPORT_BYTES} bytes) are not read",
                text.len()
            ));
        }
        let mut value = json::parse(text.as_bytes())
            .map_err(|e| format!("the file is not valid JSON ({e})"))?;
        let file_templates = match value.as_object_mut().and_then(|m| m.remove("templates")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list,
            Some(_) => return Err("\"templates\" in the file is not a list".to_owned()),
        };
        let mut templates: Vec<PublishTemplate> = Vec::with_capacity(file_templates.len());
        for (i, item) in file_templates.iter().enumerate() {
            let t = template_from_value(item).map_err(|e| format!("template {}: {e}", i + 1))?;
            if templates.iter().any(|x| x.name == t.name) {
                return Err(format!("two templates are named {}", quoted(&t.name)));
            }
            templates.push(t);
        }
        let items = if templates.is_empty() {
            import_items(value)?
        } else {
            // A file of templates alone needs no "profiles".
            match value.as_object().map(|m| m.contains_key("profiles")) {
                Some(false) => Vec::new(),
                _ => import_items(value)?,
            }
        };
        let mut imported: Vec<Profile> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let profile = check_profile(i + 1, item)?;
            if let Some(j) = imported.iter().position(|p| p.name == profile.name) {
                return Err(format!(
                    "profiles {} and {} are both named {}",
                    j + 1,
                    i + 1,
                    quoted(&profile.name)
                ));
            }
            imported.push(profile);
        }
        let mut report = ImportReport::default();
        for profile in imported {
            let name = profile.name.clone();
            match self.profiles.iter_mut().find(|p| p.name == profile.name) {
                Some(existing) => {
                    *existing = profile;
                    report.replaced.push(name);
                }
                None => {
                    self.profiles.push(profile);
                    report.added.push(name);
                }
            }
        }
        for t in templates {
            let name = t.name.clone();
            match self.templates.iter_mut().find(|x| x.name == t.name) {
                Some(existing) => {
                    *existing = t;
                    report.templates_replaced.push(name);
                }
                None => {
                    self.templates.push(t);
                    report.templates_added.push(name);
                }
            }
        }
        Ok(report)
    }
}

/// A name or value in double quotes for an error sentence, cut to about 60
/// characters so that a hostile file cannot make the sentence huge.
fn quoted(s: &str) -> String {
    format!("\"{}\"", cut(s))
}

/// `s` cut to about 60 characters, with `…` when it was longer.
fn cut(s: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out: String = s.chars().take(MAX_CHARS).collect();
    if s.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The list of profiles in an import file.
fn import_items(value: Value) -> Result<Vec<Value>, String> {
    let mut map = match value {
        Value::Array(items) => return Ok(items),
        Value::Object(map) => map,
        _ => {
            return Err(
                "the file is not an mqdash profiles file (expected {\"format\":\"mqdash-profiles\",…} or a list of profiles)"
                    .to_owned(),
            )
        }
    };
    match map.get("format") {
        None => {}
        Some(Value::String(f)) if f == EXPORT_FORMAT => {}
        Some(_) => return Err(
            "the file is not an mqdash profiles file (its \"format\" is not \"mqdash-profiles\")"
                .to_owned(),
        ),
    }
    match map.get("version") {
        None => {}
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) => {
            return Err(format!(
                "the file is version {} of the profiles format; this page reads version 1",
                cut(&v.to_string())
            ))
        }
    }
    match map.remove("profiles") {
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err("\"profiles\" in the file is not a list".to_owned()),
        None => Err("the file has no \"profiles\" list".to_owned()),
    }
}

/// Checks one imported profile (`n` counts from 1) and converts it.
fn check_profile(n: usize, value: &Value) -> Result<Profile, String> {
    let Value::Object(map) = value else {
        return Err(format!("profile {n} is not a JSON object"));
    };
    let name = match map.get("name") {
        None | Some(Value::Null) => return Err(format!("profile {n} has no name")),
        Some(Value::String(s)) if is_blank(s) => {
            return Err(format!("profile {n} has an empty name"))
        }
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(format!("profile {n}: \"name\" must be text")),
    };
    let at = format!("profile {n} ({})", quoted(name));
    for key in ["broker_url", "client_id", "username"] {
        check_type(map, key, &at, "text", Value::is_string)?;
    }
    check_type(map, "password", &at, "text", |v| {
        v.is_string() || v.is_null()
    })?;
    for key in ["remember_password", "clean_session"] {
        check_type(map, key, &at, "true or false", Value::is_boolean)?;
    }
    check_type(
        map,
        "keepalive_secs",
        &at,
        "a whole number from 0 to 65535",
        |v| v.as_u64().is_some_and(|k| k <= u64::from(u16::MAX)),
    )?;
    check_type(map, "protocol", &at, "\"3.1\", \"3.1.1\" or \"5\"", |v| {
        v.as_str().and_then(ProtocolVersion::from_label).is_some()
    })?;
    check_type(map, "mqtt5", &at, "an object", Value::is_object)?;
    match map.get("last_will") {
        None | Some(Value::Null) => {}
        Some(Value::Object(will)) => {
            let at = format!("{at}, last will");
            check_type(will, "topic", &at, "text", Value::is_string)?;
            check_type(will, "payload", &at, "text", Value::is_string)?;
            check_type(will, "qos", &at, "0, 1 or 2", is_qos)?;
            check_type(will, "retain", &at, "true or false", Value::is_boolean)?;
            if let Some(topic) = will.get("topic").and_then(Value::as_str) {
                if !topic.is_empty() {
                    validate_topic_name(topic)
                        .map_err(|e| format!("{at}: topic {}: {e}", quoted(topic)))?;
                }
            }
        }
        Some(_) => return Err(format!("{at}: \"last_will\" must be an object or null")),
    }
    match map.get("subscriptions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(subs)) => {
            for (i, sub) in subs.iter().enumerate() {
                let at = format!("{at}, subscription {}", i + 1);
                let Value::Object(sub) = sub else {
                    return Err(format!("{at} is not a JSON object"));
                };
                check_type(sub, "qos", &at, "0, 1 or 2", is_qos)?;
                check_type(sub, "retain_handling", &at, "0, 1 or 2", is_qos)?;
                for key in ["no_local", "retain_as_published"] {
                    check_type(sub, key, &at, "true or false", Value::is_boolean)?;
                }
                check_type(
                    sub,
                    "identifier",
                    &at,
                    "a whole number from 1 to 268435455",
                    |v| v.as_u64().is_some_and(|i| (1..=268_435_455).contains(&i)),
                )?;
                match sub.get("filter") {
                    None | Some(Value::Null) => return Err(format!("{at} has no filter")),
                    Some(Value::String(f)) => validate_filter(f)
                        .map_err(|e| format!("{at}: filter {}: {e}", quoted(f)))?,
                    Some(_) => return Err(format!("{at}: \"filter\" must be text")),
                }
            }
        }
        Some(_) => return Err(format!("{at}: \"subscriptions\" must be a list")),
    }
    profile_from_value(value).map_err(|e| format!("{at}: {e}"))
}

fn is_qos(v: &Value) -> bool {
    v.as_u64().is_some_and(|q| q <= 2)
}

/// If `map` has `key`, its value must pass `ok`; `what` says what it must be.
fn check_type(
    map: &Map<String, Value>,
    key: &str,
    at: &str,
    what: &str,
    ok: fn(&Value) -> bool,
) -> Result<(), String> {
    match map.get(key) {
        Some(v) if !ok(v) => Err(format!("{at}: \"{key}\" must be {what}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {

    /// The derived serialization the hand-written writer replaced, kept
    /// as the oracle its output must equal byte for byte.
    mod derived {
        use super::super::*;
        use serde::{Serialize, Serializer};

        #[derive(Serialize)]
        struct ProfileOut<'a> {
            name: &'a str,
            broker_url: &'a str,
            client_id: &'a str,
            username: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            password: Option<&'a str>,
            remember_password: bool,
            keepalive_secs: u16,
            clean_session: bool,
            protocol: ProtocolVersion,
            last_will: Option<&'a LastWill>,
            subscriptions: &'a [SavedSubscription],
            #[serde(skip_serializing_if = "Mqtt5Settings::is_default")]
            mqtt5: &'a Mqtt5Settings,
        }

        pub struct P<'a>(pub &'a Profile);

        impl Serialize for P<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let p = self.0;
                ProfileOut {
                    name: &p.name,
                    broker_url: &p.broker_url,
                    client_id: &p.client_id,
                    username: &p.username,
                    password: if p.remember_password {
                        p.password.as_deref()
                    } else {
                        None
                    },
                    remember_password: p.remember_password,
                    keepalive_secs: p.keepalive_secs,
                    clean_session: p.clean_session,
                    protocol: p.protocol,
                    last_will: p.last_will.as_ref(),
                    subscriptions: &p.subscriptions,
                    mqtt5: &p.mqtt5,
                }
                .serialize(serializer)
            }
        }

        #[derive(Serialize)]
        struct StoreOut<'a> {
            version: u32,
            last_used: Option<&'a str>,
            profiles: Vec<P<'a>>,
        }

        #[derive(Serialize)]
        struct ExportOut<'a> {
            format: &'static str,
            version: u32,
            profiles: Vec<P<'a>>,
        }

        pub fn store(s: &ProfileStore) -> String {
            serde_json::to_string(&StoreOut {
                version: 1,
                last_used: s.last_used.as_deref(),
                profiles: s.profiles.iter().map(P).collect(),
            })
            .unwrap()
        }

        pub fn export(s: &ProfileStore) -> String {
            serde_json::to_string_pretty(&ExportOut {
                format: EXPORT_FORMAT,
                version: 1,
                profiles: s.profiles.iter().map(P).collect(),
            })
            .unwrap()
        }
    }

    #[test]
    fn the_writer_writes_exactly_what_the_derived_serialization_wrote() {
        let odd = "quote \" backslash \\ slash / nl \n cr \r tab \t nul \u{0} bell \u{7} esc \u{1b} del \u{7f} é ü 漢字 😀 \u{2028}";
        let mut a = sample(true);
        a.name = format!("A {odd}");
        a.password = Some(odd.to_owned());
        a.username = odd.to_owned();
        let mut b = mqtt5_sample();
        b.name = "B".to_owned();
        b.mqtt5.user_properties = odd.to_owned();
        b.subscriptions.push(SavedSubscription {
            filter: odd.to_owned(),
            qos: 2,
            identifier: 268_435_455,
            ..SavedSubscription::default()
        });
        let mut c = sample(false);
        c.name = "C".to_owned();
        c.last_will = None;
        c.subscriptions.clear();
        c.keepalive_secs = u16::MAX;
        c.protocol = ProtocolVersion::V31;
        let d = Profile {
            name: "D".to_owned(),
            ..Profile::default()
        };
        let stores = [
            ProfileStore::default(),
            ProfileStore {
                profiles: vec![d.clone()],
                last_used: None,
                templates: Vec::new(),
            },
            ProfileStore {
                profiles: vec![a, b, c, d],
                last_used: Some(odd.to_owned()),
                templates: Vec::new(),
            },
        ];
        for store in &stores {
            assert_eq!(store.to_json(), derived::store(store));
            assert_eq!(store.export_json(), derived::export(store));
            for p in &store.profiles {
                assert_eq!(p.to_json(), serde_json::to_string(&derived::P(p)).unwrap());
            }
        }
    }

    use super::*;

    #[test]
    fn the_import_message_names_what_was_added_and_replaced() {
        let report = |added: &[&str], replaced: &[&str]| ImportReport {
            added: added.iter().map(|s| s.to_string()).collect(),
            replaced: replaced.iter().map(|s| s.to_string()).collect(),
            ..ImportReport::default()
        };
        assert_eq!(
            report(&[], &[]).message(),
            "imported profiles: no profiles in the file"
        );
        assert_eq!(
            report(&["a", "b "], &[]).message(),
            "imported profiles: added a, b "
        );
        assert_eq!(
            report(&[], &["c"]).message(),
            "imported profiles: replaced c"
        );
        assert_eq!(
            report(&["a"], &["b", "c"]).message(),
            "imported profiles: added a; replaced b, c"
        );
        let mut r = report(&[], &["p"]);
        r.templates_added = vec!["t".into()];
        r.templates_replaced = vec!["u".into(), "v".into()];
        assert_eq!(
            r.message(),
            "imported profiles: replaced p; templates added t; templates replaced u, v"
        );
    }

    fn sample(remember: bool) -> Profile {
        Profile {
            name: "onenet".into(),
            broker_url: "wss://broker.example/mqtt".into(),
            client_id: "29455901".into(),
            username: "12555524".into(),
            password: Some("JHFDJF55586jhk".into()),
            remember_password: remember,
            keepalive_secs: 120,
            clean_session: true,
            protocol: ProtocolVersion::V311,
            last_will: Some(LastWill {
                topic: "dev/status".into(),
                payload: "offline".into(),
                qos: 1,
                retain: true,
            }),
            subscriptions: vec![SavedSubscription {
                filter: "dev/#".into(),
                qos: 1,
                ..SavedSubscription::default()
            }],
            mqtt5: Mqtt5Settings::default(),
            decoders: None,
        }
    }

    #[test]
    fn serializing_drops_the_password_unless_it_is_remembered() {
        let json = sample(false).to_json();
        assert!(!json.contains("JHFDJF55586jhk"), "{json}");
        assert!(!json.contains("\"password\""), "{json}");
        let json = sample(true).to_json();
        assert!(json.contains("\"password\":\"JHFDJF55586jhk\""), "{json}");
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        assert!(!store.to_json().contains("JHFDJF55586jhk"));
    }

    #[test]
    fn a_store_round_trips_through_json() {
        let mut store = ProfileStore::new();
        store.save(sample(true)).unwrap();
        let mut other = sample(false);
        other.name = "local".into();
        other.protocol = ProtocolVersion::V31;
        store.save(other).unwrap();
        store.last_used = Some("local".into());
        let (back, err) = ProfileStore::from_json(&store.to_json());
        assert_eq!(err, None);
        let mut expected = store.clone();
        expected.profiles[1].password = None;
        assert_eq!(back, expected);
        assert!(store.to_json().contains("\"protocol\":\"3.1\""));
    }

    #[test]
    fn loading_drops_a_stored_password_that_was_not_to_be_remembered() {
        let (store, err) = ProfileStore::from_json(
            r#"{"profiles":[{"name":"x","password":"secret","remember_password":false}]}"#,
        );
        assert_eq!(err, None);
        assert_eq!(store.profiles[0].password, None);
    }

    #[test]
    fn corrupt_json_gives_an_empty_store_and_an_error() {
        for bad in ["{not json", "42", "{\"profiles\":3}", "\"x\""] {
            let (store, err) = ProfileStore::from_json(bad);
            assert!(store.profiles.is_empty(), "{bad}");
            assert!(err.is_some(), "{bad}");
        }
        assert_eq!(ProfileStore::from_json("  "), (ProfileStore::new(), None));
    }

    #[test]
    fn unreadable_profiles_are_skipped_and_counted() {
        let (store, err) = ProfileStore::from_json(
            r#"[{"name":"ok","keepalive_secs":30,"future_field":true},{"name":"bad","keepalive_secs":"soon"},7]"#,
        );
        assert_eq!(store.names().collect::<Vec<_>>(), ["ok"]);
        assert_eq!(store.profiles[0].keepalive_secs, 30);
        assert!(
            store.profiles[0].clean_session,
            "missing fields take defaults"
        );
        assert_eq!(
            err.as_deref(),
            Some("2 saved connection profiles could not be read and were left out")
        );
    }

    #[test]
    fn save_replaces_by_name_and_remove_forgets_last_used() {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        let mut changed = sample(false);
        changed.keepalive_secs = 5;
        store.save(changed).unwrap();
        assert_eq!(store.profiles.len(), 1);
        assert_eq!(store.get("onenet").map(|p| p.keepalive_secs), Some(5));
        store.last_used = Some("onenet".into());
        assert!(store.remove("onenet"));
        assert!(!store.remove("onenet"));
        assert_eq!(store.last_used, None);
    }

    #[test]
    fn save_refuses_an_empty_or_whitespace_name() {
        let mut store = ProfileStore::new();
        for name in ["", "   ", "\t\n"] {
            let mut p = sample(false);
            p.name = name.into();
            assert_eq!(store.save(p), Err("a profile needs a name".to_owned()));
        }
        assert!(store.profiles.is_empty());
    }

    #[test]
    fn save_keeps_the_order_of_first_save_and_replaces_in_place() {
        let mut store = ProfileStore::new();
        for name in ["a", "b", "c"] {
            let mut p = sample(false);
            p.name = name.into();
            store.save(p).unwrap();
        }
        let mut b = sample(false);
        b.name = "b".into();
        b.broker_url = "ws://other/mqtt".into();
        store.save(b).unwrap();
        assert_eq!(store.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(
            store.get("b").map(|p| p.broker_url.as_str()),
            Some("ws://other/mqtt")
        );
    }

    #[test]
    fn an_empty_client_id_is_saved_and_loaded_as_empty() {
        let mut store = ProfileStore::new();
        let mut p = sample(false);
        p.client_id = String::new();
        store.save(p).unwrap();
        let (back, _) = ProfileStore::from_json(&store.to_json());
        assert_eq!(back.get("onenet").map(|p| p.client_id.as_str()), Some(""));
    }

    #[test]
    fn rename_moves_the_profile_and_last_used_to_the_new_name() {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        store.last_used = Some("onenet".into());
        assert_eq!(store.rename("onenet", "plant"), Ok(()));
        assert_eq!(store.names().collect::<Vec<_>>(), ["plant"]);
        assert_eq!(store.last_used.as_deref(), Some("plant"));
        assert_eq!(store.rename("plant", "plant"), Ok(()));
    }

    #[test]
    fn rename_refuses_a_missing_source_an_empty_target_or_a_taken_name() {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        let mut other = sample(false);
        other.name = "local".into();
        store.save(other).unwrap();
        assert_eq!(
            store.rename("nope", "x"),
            Err("there is no profile named \"nope\"".to_owned())
        );
        assert_eq!(
            store.rename("onenet", " "),
            Err("a profile needs a name".to_owned())
        );
        assert_eq!(
            store.rename("onenet", "local"),
            Err("a profile named \"local\" already exists".to_owned())
        );
        assert_eq!(store.names().collect::<Vec<_>>(), ["onenet", "local"]);
    }

    #[test]
    fn remove_says_whether_there_was_such_a_profile() {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        assert!(!store.remove("other"));
        assert!(store.remove("onenet"));
        assert!(store.profiles.is_empty());
    }

    #[test]
    fn export_is_pretty_json_in_the_documented_format() {
        let mut store = ProfileStore::new();
        store.save(sample(true)).unwrap();
        let text = store.export_json();
        assert!(text.contains('\n'), "pretty-printed");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["format"], "mqdash-profiles");
        assert_eq!(v["version"], 1);
        assert_eq!(v["profiles"][0]["name"], "onenet");
        assert_eq!(v["profiles"][0]["password"], "JHFDJF55586jhk");
        assert_eq!(v["profiles"][0]["subscriptions"][0]["filter"], "dev/#");
    }

    #[test]
    fn export_never_contains_a_password_that_is_not_remembered() {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        let mut other = sample(false);
        other.name = "other".into();
        other.password = Some("s3cr3t-pw".into());
        store.save(other).unwrap();
        let text = store.export_json();
        assert!(!text.contains("JHFDJF55586jhk"), "{text}");
        assert!(!text.contains("s3cr3t-pw"), "{text}");
        assert!(!text.contains("\"password\""), "{text}");
        assert!(!store.to_json().contains("s3cr3t-pw"));
    }

    #[test]
    fn export_then_import_round_trips_into_an_empty_store() {
        let mut store = ProfileStore::new();
        store.save(sample(true)).unwrap();
        let mut other = sample(false);
        other.name = "local".into();
        other.protocol = ProtocolVersion::V31;
        other.last_will = None;
        store.save(other).unwrap();
        let mut fresh = ProfileStore::new();
        let report = fresh.import_json(&store.export_json()).unwrap();
        assert_eq!(report.added, ["onenet", "local"]);
        assert!(report.replaced.is_empty());
        let mut expected = store.profiles.clone();
        expected[1].password = None;
        assert_eq!(fresh.profiles, expected);
    }

    #[test]
    fn import_replaces_profiles_of_the_same_name_and_reports_which() {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        let report = store
            .import_json(
                r#"{"format":"mqdash-profiles","version":1,"profiles":[
                    {"name":"onenet","broker_url":"ws://new/mqtt"},
                    {"name":"fresh"}]}"#,
            )
            .unwrap();
        assert_eq!(report.replaced, ["onenet"]);
        assert_eq!(report.added, ["fresh"]);
        assert_eq!(store.names().collect::<Vec<_>>(), ["onenet", "fresh"]);
        assert_eq!(store.get("onenet").unwrap().broker_url, "ws://new/mqtt");
        assert_eq!(store.get("fresh").unwrap().keepalive_secs, 60);
    }

    #[test]
    fn import_accepts_a_bare_array_and_the_local_storage_object() {
        let mut store = ProfileStore::new();
        let report = store.import_json(r#"[{"name":"a"}]"#).unwrap();
        assert_eq!(report.added, ["a"]);
        let local = r#"{"version":1,"last_used":"b","profiles":[{"name":"b"}]}"#;
        assert_eq!(store.import_json(local).unwrap().added, ["b"]);
        assert_eq!(store.last_used, None, "import does not touch last_used");
    }

    #[test]
    fn import_drops_a_password_that_is_not_to_be_remembered() {
        let mut store = ProfileStore::new();
        store
            .import_json(r#"[{"name":"a","password":"pw","remember_password":false}]"#)
            .unwrap();
        assert_eq!(store.get("a").unwrap().password, None);
    }

    fn import_error(text: &str) -> String {
        let mut store = ProfileStore::new();
        store.save(sample(false)).unwrap();
        let before = store.clone();
        let err = store.import_json(text).unwrap_err();
        assert_eq!(store, before, "the store changed on error: {err}");
        err
    }

    #[test]
    fn import_refuses_a_whole_file_when_any_profile_is_invalid() {
        let cases = [
            (r#"[{"name":"ok"},{"broker_url":"ws://h/"}]"#, "profile 2 has no name"),
            (r#"[{"name":"  "}]"#, "profile 1 has an empty name"),
            (r#"[{"name":5}]"#, "profile 1: \"name\" must be text"),
            (r#"[7]"#, "profile 1 is not a JSON object"),
            (
                r#"[{"name":"a","keepalive_secs":"soon"}]"#,
                "profile 1 (\"a\"): \"keepalive_secs\" must be a whole number from 0 to 65535",
            ),
            (
                r#"[{"name":"a","keepalive_secs":70000}]"#,
                "profile 1 (\"a\"): \"keepalive_secs\" must be a whole number from 0 to 65535",
            ),
            (
                r#"[{"name":"a","protocol":"6"}]"#,
                "profile 1 (\"a\"): \"protocol\" must be \"3.1\", \"3.1.1\" or \"5\"",
            ),
            (
                r#"[{"name":"a","mqtt5":[]}]"#,
                "profile 1 (\"a\"): \"mqtt5\" must be an object",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"filter":"x","retain_handling":3}]}]"#,
                "profile 1 (\"a\"), subscription 1: \"retain_handling\" must be 0, 1 or 2",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"filter":"x","identifier":0}]}]"#,
                "profile 1 (\"a\"), subscription 1: \"identifier\" must be a whole number from 1 to 268435455",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"filter":"x","no_local":1}]}]"#,
                "profile 1 (\"a\"), subscription 1: \"no_local\" must be true or false",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"filter":"x","qos":3}]}]"#,
                "profile 1 (\"a\"), subscription 1: \"qos\" must be 0, 1 or 2",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"filter":"ok"},{"filter":"a+/b"}]}]"#,
                "profile 1 (\"a\"), subscription 2: filter \"a+/b\": + must be a whole level (write a/+/b, not a+/b)",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"qos":1}]}]"#,
                "profile 1 (\"a\"), subscription 1 has no filter",
            ),
            (
                r#"[{"name":"a","subscriptions":[{"filter":"  "}]}]"#,
                "profile 1 (\"a\"), subscription 1: filter \"  \": a topic filter cannot be only spaces",
            ),
            (
                r#"[{"name":"a","subscriptions":{"filter":"x"}}]"#,
                "profile 1 (\"a\"): \"subscriptions\" must be a list",
            ),
            (
                r#"[{"name":"a","last_will":{"topic":"x/#"}}]"#,
                "profile 1 (\"a\"), last will: topic \"x/#\": a topic to publish to cannot contain the wildcards + or #",
            ),
            (
                r#"[{"name":"a","last_will":{"topic":"x","qos":-1}}]"#,
                "profile 1 (\"a\"), last will: \"qos\" must be 0, 1 or 2",
            ),
            (
                r#"[{"name":"a","clean_session":"yes"}]"#,
                "profile 1 (\"a\"): \"clean_session\" must be true or false",
            ),
            (
                r#"[{"name":"a","password":1234}]"#,
                "profile 1 (\"a\"): \"password\" must be text",
            ),
            (
                r#"[{"name":"a"},{"name":"a"}]"#,
                "profiles 1 and 2 are both named \"a\"",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(import_error(text), expected, "{text}");
        }
    }

    #[test]
    fn import_refuses_files_that_are_not_profile_files() {
        assert!(import_error("{not json").starts_with("the file is not valid JSON ("));
        assert!(import_error("").starts_with("the file is not valid JSON ("));
        assert!(import_error("42").starts_with("the file is not an mqdash profiles file"));
        assert_eq!(
            import_error(r#"{"format":"other","profiles":[]}"#),
            "the file is not an mqdash profiles file (its \"format\" is not \"mqdash-profiles\")"
        );
        assert_eq!(
            import_error(r#"{"format":"mqdash-profiles","version":2,"profiles":[]}"#),
            "the file is version 2 of the profiles format; this page reads version 1"
        );
        assert_eq!(
            import_error(r#"{"format":"mqdash-profiles","version":1}"#),
            "the file has no \"profiles\" list"
        );
        assert_eq!(
            import_error(r#"{"format":"mqdash-profiles","profiles":{}}"#),
            "\"profiles\" in the file is not a list"
        );
    }

    #[test]
    fn import_refuses_more_than_one_mebibyte_before_parsing() {
        let big = format!("[{{\"name\":\"{}\"}}]", "x".repeat(MAX_IMPORT_BYTES));
        let err = import_error(&big);
        assert!(err.contains("more than 1 MiB"), "{err}");
    }

    #[test]
    fn hostile_import_files_are_refused_without_panicking() {
        let deep_arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        let deep_inside = format!(
            "[{{\"name\":\"a\",\"extra\":{}{}}}]",
            "[".repeat(5_000),
            "]".repeat(5_000)
        );
        let huge_name = format!(
            "[{{\"name\":\"a\",\"protocol\":\"{}\"}}]",
            "é".repeat(300_000)
        );
        let huge_bad_name = format!(
            "[{{\"name\":\"{}\",\"qos_bad\":1,\"keepalive_secs\":-1}}]",
            "n".repeat(500_000)
        );
        for text in [
            deep_arrays.as_str(),
            deep_objects.as_str(),
            deep_inside.as_str(),
            huge_name.as_str(),
            huge_bad_name.as_str(),
            "[null]",
            "[[]]",
            "{\"profiles\":[{\"name\":\"a\",\"last_will\":[]}]}",
            "[{\"name\":\"a\",\"subscriptions\":[null]}]",
            "[{\"name\":\"a\",\"keepalive_secs\":1e400}]",
            "[{\"name\":\"a\",\"keepalive_secs\":1.5}]",
            "\u{feff}[]",
            "[\"\\ud800\"]",
        ] {
            let err = import_error(text);
            assert!(!err.is_empty());
            assert!(
                err.len() < 400,
                "the sentence stays short: {} bytes",
                err.len()
            );
        }
    }

    #[test]
    fn an_empty_import_list_changes_nothing_and_reports_nothing() {
        let mut store = ProfileStore::new();
        assert_eq!(store.import_json("[]"), Ok(ImportReport::default()));
    }

    #[test]
    fn protocol_labels_round_trip() {
        for v in [
            ProtocolVersion::V31,
            ProtocolVersion::V311,
            ProtocolVersion::V5,
        ] {
            assert_eq!(ProtocolVersion::from_label(v.label()), Some(v));
        }
        assert_eq!(ProtocolVersion::from_label("6"), None);
    }

    fn mqtt5_sample() -> Profile {
        let mut p = sample(true);
        p.protocol = ProtocolVersion::V5;
        p.mqtt5 = Mqtt5Settings {
            session_expiry: "600".into(),
            receive_maximum: "10".into(),
            request_response_information: true,
            request_problem_information: false,
            user_properties: "site = plant A\nsite = B".into(),
            will_delay: "5".into(),
            will_content_type: "text/plain".into(),
            will_message_expiry: "60".into(),
            will_response_topic: "dev/reply".into(),
            will_correlation_data: "abc".into(),
            will_user_properties: "k = v".into(),
            will_payload_utf8: true,
            ..Mqtt5Settings::default()
        };
        p.subscriptions = vec![SavedSubscription {
            filter: "dev/#".into(),
            qos: 2,
            no_local: true,
            retain_as_published: true,
            retain_handling: 2,
            identifier: 7,
        }];
        p
    }

    #[test]
    fn mqtt5_options_and_subscription_options_are_saved_loaded_exported_and_imported() {
        let mut store = ProfileStore::new();
        store.save(mqtt5_sample()).unwrap();
        let (back, err) = ProfileStore::from_json(&store.to_json());
        assert_eq!(err, None);
        assert_eq!(back, store);
        let mut fresh = ProfileStore::new();
        fresh.import_json(&store.export_json()).unwrap();
        assert_eq!(fresh.profiles, store.profiles);
        let v: serde_json::Value = serde_json::from_str(&store.to_json()).unwrap();
        assert_eq!(v["profiles"][0]["protocol"], "5");
        assert_eq!(
            v["profiles"][0]["mqtt5"]["user_properties"],
            "site = plant A
site = B"
        );
        assert_eq!(v["profiles"][0]["subscriptions"][0]["identifier"], 7);
    }

    #[test]
    fn decoder_rules_are_saved_loaded_exported_and_imported_with_the_profile() {
        use crate::decoding::Decoder;
        let mut p = Profile {
            name: "plant".into(),
            ..Profile::default()
        };
        let mut rules = crate::decoding::DecoderRules::default();
        rules
            .add(
                "m/+/pb",
                Decoder::Protobuf {
                    message: "acme.Reading".into(),
                },
            )
            .unwrap();
        rules.add("c/#", Decoder::Cbor).unwrap();
        p.decoders = Some(rules);
        let mut store = ProfileStore::new();
        store.save(p).unwrap();
        let (back, err) = ProfileStore::from_json(&store.to_json());
        assert_eq!(err, None);
        assert_eq!(back, store);
        let mut fresh = ProfileStore::new();
        fresh.import_json(&store.export_json()).unwrap();
        assert_eq!(fresh.profiles, store.profiles);
        let v: serde_json::Value = serde_json::from_str(&store.to_json()).unwrap();
        assert_eq!(v["profiles"][0]["decoders"][1]["message"], "acme.Reading");
        // A profile saved before decoders existed keeps the defaults.
        let (old, _) = ProfileStore::from_json(r#"[{"name":"a"}]"#);
        assert_eq!(old.profiles[0].decoders, None);
    }

    #[test]
    fn mqtt5_options_read_missing_keys_as_defaults_ignore_unknown_ones_and_refuse_wrong_types() {
        let (store, err) = ProfileStore::from_json(
            r#"[{"name":"a","protocol":"5","mqtt5":{"receive_maximum":"7","future":[1],
                "request_problem_information":false}}]"#,
        );
        assert_eq!(err, None);
        let m = &store.profiles[0].mqtt5;
        assert_eq!(m.receive_maximum, "7");
        assert!(!m.request_problem_information);
        assert_eq!(m.session_expiry, "");
        let (store, err) =
            ProfileStore::from_json(r#"[{"name":"a","mqtt5":{"receive_maximum":7}}]"#);
        assert!(store.profiles.is_empty());
        assert!(err.is_some());
        let mut store = ProfileStore::new();
        let e = store
            .import_json(r#"[{"name":"a","mqtt5":{"will_payload_utf8":"yes"}}]"#)
            .unwrap_err();
        assert!(e.starts_with("profile 1 (\"a\"): "), "{e}");
    }

    #[test]
    fn a_profile_saved_before_mqtt5_loads_with_defaults_and_is_written_as_before() {
        let old = r#"{"version":1,"last_used":"old","profiles":[{"name":"old",
            "broker_url":"ws://h/mqtt","client_id":"c","username":"","remember_password":false,
            "keepalive_secs":30,"clean_session":false,"protocol":"3.1.1","last_will":null,
            "subscriptions":[{"filter":"a/#","qos":1}]}]}"#;
        let (store, err) = ProfileStore::from_json(old);
        assert_eq!(err, None);
        let p = store.get("old").unwrap();
        assert!(p.mqtt5.is_default());
        assert_eq!(p.subscriptions[0].identifier, 0);
        assert!(!p.subscriptions[0].no_local);
        let json = store.to_json();
        assert!(!json.contains("mqtt5"), "{json}");
        assert!(
            json.contains(r#""subscriptions":[{"filter":"a/#","qos":1}]"#),
            "{json}"
        );
        assert!(ProfileStore::new().import_json(old).is_ok());
    }
    fn template(name: &str) -> PublishTemplate {
        PublishTemplate {
            name: name.to_owned(),
            topic: "plant/{{counter}}".to_owned(),
            format: PayloadFormat::Json,
            payload: "{\"n\":{{counter}},\"t\":\"{{now}}\"}".to_owned(),
            qos: 1,
            retain: true,
            properties: PropertiesForm::default(),
        }
    }

    #[test]
    fn templates_are_saved_renamed_removed_and_round_trip_through_storage_and_export() {
        let mut store = ProfileStore::new();
        store.save(sample(true)).unwrap();
        store.save_template(template("a")).unwrap();
        let mut b = template("b");
        b.format = PayloadFormat::Hex;
        b.qos = 2;
        b.retain = false;
        b.properties = PropertiesForm {
            content_type: "text/plain".into(),
            utf8: true,
            expiry: "30".into(),
            response_topic: "r/t".into(),
            correlation: "c \" 1".into(),
            user: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
        };
        store.save_template(b.clone()).unwrap();
        assert_eq!(
            store.save_template(template(" ")).unwrap_err(),
            "a template needs a name"
        );
        let mut a2 = template("a");
        a2.topic = "other".into();
        store.save_template(a2.clone()).unwrap();
        assert_eq!(store.templates, [a2.clone(), b.clone()]);

        let (back, err) = ProfileStore::from_json(&store.to_json());
        assert_eq!(err, None);
        assert_eq!(back, store);
        let mut fresh = ProfileStore::new();
        let report = fresh.import_json(&store.export_json()).unwrap();
        assert_eq!(report.templates_added, ["a", "b"]);
        assert_eq!(fresh.templates, store.templates);
        let report = fresh.import_json(&store.export_json()).unwrap();
        assert_eq!(report.templates_replaced, ["a", "b"]);
        assert_eq!(fresh.templates.len(), 2);

        assert_eq!(
            store.rename_template("a", "b").unwrap_err(),
            "a template named \"b\" already exists"
        );
        assert!(store.rename_template("zz", "y").is_err());
        assert!(store.rename_template("a", "  ").is_err());
        store.rename_template("a", "c").unwrap();
        assert_eq!(store.template("c").unwrap().topic, "other");
        assert!(store.remove_template("c"));
        assert!(!store.remove_template("c"));
        assert_eq!(store.templates, [b]);
    }

    #[test]
    fn a_store_or_file_without_templates_reads_as_before_and_is_written_as_before() {
        let mut store = ProfileStore::new();
        store.save(sample(true)).unwrap();
        assert!(!store.to_json().contains("templates"));
        assert!(!store.export_json().contains("templates"));
        let old = r#"{"format":"mqdash-profiles","version":1,"profiles":[{"name":"x"}]}"#;
        let mut fresh = ProfileStore::new();
        let report = fresh.import_json(old).unwrap();
        assert_eq!(report.added, ["x"]);
        assert!(fresh.templates.is_empty());
        // Templates alone need no profiles.
        let report = fresh
            .import_json(r#"{"format":"mqdash-profiles","version":1,"templates":[{"name":"t","topic":"a"}]}"#)
            .unwrap();
        assert_eq!(report.templates_added, ["t"]);
        assert!(report.added.is_empty());
        assert_eq!(fresh.template("t").unwrap().format, PayloadFormat::Text);
    }

    #[test]
    fn bad_templates_refuse_an_import_and_are_skipped_in_storage() {
        for (file, why) in [
            (
                r#"{"profiles":[],"templates":{}}"#,
                "\"templates\" in the file is not a list",
            ),
            (
                r#"{"profiles":[],"templates":[{"topic":"a"}]}"#,
                "template 1: a template needs a name",
            ),
            (
                r#"{"profiles":[],"templates":[{"name":"t","qos":3}]}"#,
                "template 1: \"qos\" must be 0, 1 or 2",
            ),
            (
                r#"{"profiles":[],"templates":[{"name":"t","format":"xml"}]}"#,
                "template 1: \"format\" must be",
            ),
            (
                r#"{"profiles":[],"templates":[{"name":"t"},{"name":"t"}]}"#,
                "two templates are named \"t\"",
            ),
            (
                r#"{"profiles":[],"templates":[{"name":"t","properties":{"user":[["a"]]}}]}"#,
                "template 1: \"user\" must be",
            ),
            (
                r#"{"profiles":[],"templates":[{"name":"t","retain":1}]}"#,
                "template 1: \"retain\" must be true or false",
            ),
        ] {
            let mut store = ProfileStore::new();
            store.save_template(template("keep")).unwrap();
            let before = store.clone();
            let e = store.import_json(file).unwrap_err();
            assert!(e.starts_with(why), "{file}: {e}");
            assert_eq!(store, before);
        }
        let (store, err) = ProfileStore::from_json(
            r#"{"version":1,"profiles":[],"templates":[{"name":"ok"},{"qos":"x"},7]}"#,
        );
        assert_eq!(store.templates.len(), 1);
        assert_eq!(
            err.as_deref(),
            Some("2 saved publish template(s) could not be read and left out")
        );
    }
}
