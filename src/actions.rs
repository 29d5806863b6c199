//! What the buttons do: connect, disconnect, subscribe, publish, profiles,
//! links. Each is one call on the page's supervisor (the owner of the
//! connection's intent) or on the profile store; what the screen then shows
//! comes back as notices. The decisions live in the pure modules
//! (`client::settings`, `client::supervisor`, `model`); this module only
//! reads the form, calls them and reports their sentences.

use leptos::prelude::*;
use model::{encode, PayloadFormat, ProfileStore, PropertiesForm, PublishTemplate};
use mqtt_session::{ProtocolVersion, PublishId, PublishProperties, QoS};

use crate::client::browser::now_ms;
use crate::client::settings::{self, build, FormValues};
use crate::client::supervisor::{Sent, Target, WantedSubscription};
use crate::files;
use crate::state::AppState;

const PROFILES_KEY: &str = "mqdash.profiles";

fn page_protocol() -> String {
    window().location().protocol().unwrap_or_default()
}

/// The form as a connection target, or why it cannot be one.
pub fn form_target(values: &FormValues) -> Result<Target, String> {
    build(values, &page_protocol())
}

/// A fresh random client id for this tab.
pub fn fresh_client_id() -> String {
    let seed = (js_sys::Math::random() * u64::MAX as f64) as u64;
    model::random_client_id(seed)
}

/// Connect: validate the form and connect the supervisor to it (leaving
/// any current connection). A profile picked while connected brings its
/// subscriptions now.
pub fn connect(s: AppState) {
    let target = match form_target(&s.form.values_untracked()) {
        Ok(t) => t,
        Err(e) => {
            s.error.set(Some(e));
            return;
        }
    };
    let pending = s
        .pending_profile
        .get_untracked()
        .and_then(|name| s.profiles.get_untracked().get(&name).cloned());
    let now = now_ms();
    let result = s.client().with(|sup| {
        if let Some(p) = &pending {
            sup.replace_subscriptions_with(now, settings::profile_subscriptions(p)?)?;
        }
        sup.connect(now, target)
    });
    s.pending_profile.set(None);
    match result {
        Ok(()) => s.error.set(None),
        Err(e) => s.error.set(Some(e)),
    }
    s.apply_pending();
}

/// Disconnect: DISCONNECT, close, and no more reconnects.
pub fn disconnect(s: AppState) {
    s.client().with(|sup| sup.disconnect(now_ms()));
    s.apply_pending();
}

/// "Reconnect now": skip the rest of the reconnect delay.
pub fn reconnect_now(s: AppState) {
    s.client().with(|sup| sup.reconnect_now());
    s.apply_pending();
}

/// Adds a subscription (sent at once when connected, kept for reconnects).
pub fn subscribe(s: AppState, filter: String, qos: QoS) -> Result<(), String> {
    let r = s.client().with(|sup| sup.subscribe(now_ms(), filter, qos));
    s.apply_pending();
    r
}

/// Adds a subscription with MQTT 5 options (sent at once when connected,
/// kept for reconnects); the sentence says why the broker does not allow it.
pub fn subscribe_with(s: AppState, sub: WantedSubscription) -> Result<(), String> {
    let r = s.client().with(|sup| sup.subscribe_with(now_ms(), sub));
    s.apply_pending();
    r
}

/// Removes a subscription (UNSUBSCRIBE when connected).
pub fn unsubscribe(s: AppState, filter: &str) {
    let r = s.client().with(|sup| sup.unsubscribe(now_ms(), filter));
    if let Err(e) = r {
        s.error.set(Some(e));
    }
    s.apply_pending();
}

/// Publishes from the form. Returns the error sentence on refusal.
pub fn publish(
    s: AppState,
    topic: &str,
    payload_text: &str,
    format: PayloadFormat,
    qos: QoS,
    retain: bool,
) -> Result<(), String> {
    publish_with(s, topic, payload_text, format, qos, retain, None).map(|_| ())
}

/// Publishes with MQTT 5 properties as typed (`None`: without). Returns the
/// session's handle, or the error sentence on refusal (a bad topic,
/// payload or property).
pub fn publish_with(
    s: AppState,
    topic: &str,
    payload_text: &str,
    format: PayloadFormat,
    qos: QoS,
    retain: bool,
    props: Option<&PropertiesForm>,
) -> Result<PublishId, String> {
    let (payload, props) = prepare(s, topic, payload_text, format, props)?;
    let (size, with_properties) = (payload.len(), !props.is_empty());
    let id = s
        .client()
        .with(|sup| sup.publish_with(now_ms(), topic, payload, qos, retain, props))?;
    logged(s, id, topic, qos, retain, size, with_properties);
    Ok(id)
}

/// The payload encoded and the properties built, or why they cannot be.
fn prepare(
    s: AppState,
    topic: &str,
    payload_text: &str,
    format: PayloadFormat,
    props: Option<&PropertiesForm>,
) -> Result<(Vec<u8>, PublishProperties), String> {
    model::validate_topic_name(topic).map_err(|e| format!("Topic: {e}"))?;
    let payload = encode(format, payload_text).map_err(|e| e.to_string())?;
    let props = match props {
        Some(p) => p.build(&payload)?,
        None => PublishProperties::default(),
    };
    if !props.is_empty() && !live_v5(s) {
        return Err(
            "message properties need an MQTT 5 connection: connect with MQTT 5, \
                    or leave the properties empty"
                .into(),
        );
    }
    Ok((payload, props))
}

/// Records a publish just made in the publish log.
fn logged(
    s: AppState,
    id: PublishId,
    topic: &str,
    qos: QoS,
    retain: bool,
    size: usize,
    with_properties: bool,
) {
    s.publishes
        .update(|log| log_publish(log, id, topic, qos, retain, size, with_properties));
    // The "sent" state may already have moved on within this call.
    s.apply_pending();
}

/// One row of the publish log for a publish handed to the session (with
/// the "properties" mark when it carried MQTT 5 properties).
pub(crate) fn log_publish(
    log: &mut crate::client::updates::PublishLog,
    id: PublishId,
    topic: &str,
    qos: QoS,
    retain: bool,
    size: usize,
    with_properties: bool,
) {
    log.record(id, topic, qos.as_u8(), retain, size);
    if with_properties {
        log.mark_properties(id);
    }
}

/// `text` with its variables replaced: `{{counter}}` by `counter`, the
/// time from the page's clock, random values from `Math.random`.
pub fn expand_variables(text: &str, counter: u64, now: u64) -> Result<String, String> {
    let mut random = js_sys::Math::random;
    model::variables::expand(
        text,
        &mut model::variables::Values {
            counter,
            now_ms: now,
            random: &mut random,
        },
    )
}

/// Topic and payload text with their variables replaced (one clock reading
/// and one counter value for both), or which of them is wrong and why.
pub fn expand_message(
    topic: &str,
    payload: &str,
    counter: u64,
) -> Result<(String, String), String> {
    let now = now_ms();
    Ok((
        expand_variables(topic, counter, now).map_err(|e| format!("Topic: {e}"))?,
        expand_variables(payload, counter, now).map_err(|e| format!("Payload: {e}"))?,
    ))
}

/// Publishes from the publish form (variables already replaced): now when
/// connected; while reconnecting a QoS 1/2 publish waits in the
/// supervisor's outbox. Returns what to tell the user when it was queued.
pub fn publish_or_queue(
    s: AppState,
    topic: &str,
    payload_text: &str,
    format: PayloadFormat,
    qos: QoS,
    retain: bool,
    props: Option<&PropertiesForm>,
) -> Result<Option<String>, String> {
    let (payload, props) = prepare(s, topic, payload_text, format, props)?;
    let (size, with_properties) = (payload.len(), !props.is_empty());
    let sent = s
        .client()
        .with(|sup| sup.publish_or_queue(now_ms(), topic, payload, qos, retain, props))?;
    match sent {
        Sent::Now(id) => {
            logged(s, id, topic, qos, retain, size, with_properties);
            Ok(None)
        }
        Sent::Queued(n) => Ok(Some(format!(
            "not connected: queued as #{n}, sent when the connection is back"
        ))),
    }
}

/// One message of a repeat: sent now (never queued, not in the publish
/// log). Returns the handle of a QoS 1/2 publish, whose outcome the
/// supervisor reports through `take_outcomes`.
pub fn publish_repeated(
    s: AppState,
    topic: &str,
    payload_text: &str,
    format: PayloadFormat,
    qos: QoS,
    retain: bool,
    props: Option<&PropertiesForm>,
) -> Result<Option<u64>, String> {
    let (payload, props) = prepare(s, topic, payload_text, format, props)?;
    s.client().with(|sup| {
        let id = sup.publish_with(now_ms(), topic, payload, qos, retain, props)?;
        if qos == QoS::AtMostOnce {
            return Ok(None);
        }
        sup.watch(id);
        Ok(Some(id.0))
    })
}

/// Cancels a publish waiting in the outbox.
pub fn cancel_queued(s: AppState, id: u64) -> bool {
    s.client().with(|sup| sup.cancel_queued(id))
}

/// Whether the live connection (or the one being made) speaks MQTT 5.
pub fn live_v5(s: AppState) -> bool {
    s.client().peek(|sup| {
        sup.target()
            .is_some_and(|t| t.options.protocol == ProtocolVersion::V5)
    })
}

/// Sends a request from the request/response helper: subscribes to the
/// response topic first when no granted or pending subscription covers it
/// (shared ones do not: they get only some of the messages), publishes the
/// request with the response topic and correlation data, and records it so
/// that replies are matched. Returns what was done, as a sentence.
pub fn send_request(
    s: AppState,
    topic: &str,
    payload_text: &str,
    qos: QoS,
    response_topic: &str,
    correlation: &str,
    timeout_ms: f64,
) -> Result<String, String> {
    model::validate_topic_name(response_topic).map_err(|e| format!("Reply topic: {e}"))?;
    if !live_v5(s) {
        return Err(
            "request/response needs an MQTT 5 connection (response topic and \
                    correlation data are MQTT 5 properties)"
                .into(),
        );
    }
    if correlation.is_empty() {
        return Err("Request correlation data is empty".into());
    }
    let now = js_sys::Date::now();
    if s.requests
        .with_untracked(|r| r.waiting_with(response_topic, correlation.as_bytes(), now))
    {
        return Err(format!(
            "a request with correlation data {correlation:?} is still waiting for its reply"
        ));
    }
    model::validate_topic_name(topic).map_err(|e| format!("Request topic: {e}"))?;
    let covered = s.model_untracked(|d| {
        d.subscriptions().iter().any(|sub| {
            !sub.filter().starts_with("$share/")
                && !matches!(sub.grant(), model::Grant::Refused)
                && model::matches(response_topic, sub.filter())
        })
    });
    let mut done = String::new();
    if !covered {
        subscribe(s, response_topic.to_owned(), qos)?;
        done = format!("subscribed to {response_topic}; ");
    }
    let form = PropertiesForm {
        response_topic: response_topic.to_owned(),
        correlation: correlation.to_owned(),
        ..PropertiesForm::default()
    };
    publish_with(
        s,
        topic,
        payload_text,
        PayloadFormat::Text,
        qos,
        false,
        Some(&form),
    )?;
    let n = s.requests.try_update(|r| {
        r.record(
            topic,
            response_topic,
            bytes::Bytes::copy_from_slice(correlation.as_bytes()),
            now,
            timeout_ms,
        )
    });
    done.push_str(&format!("sent request #{}", n.unwrap_or_default()));
    Ok(done)
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Reads the saved profiles into the page (an unreadable store is reported
/// and treated as empty, and left as it is in localStorage).
pub fn load_profiles(s: AppState) {
    let text = storage().and_then(|st| st.get_item(PROFILES_KEY).ok().flatten());
    let store = match text {
        Some(t) => {
            let (store, err) = ProfileStore::from_json(&t);
            if let Some(e) = err {
                s.error
                    .set(Some(format!("saved profiles could not be read: {e}")));
            }
            store
        }
        None => ProfileStore::new(),
    };
    s.profiles.set(store);
}

/// Writes the profile store, reporting a failure (a full or blocked storage).
fn persist(s: AppState, store: ProfileStore) -> Result<(), String> {
    let st = storage().ok_or("this browser does not allow saving (no localStorage)")?;
    st.set_item(PROFILES_KEY, &store.to_json())
        .map_err(|_| "the profiles could not be saved (storage full or blocked)".to_string())?;
    s.profiles.set(store);
    Ok(())
}

/// Saves the form and the current subscriptions as the profile `name`
/// (replacing one of that name). The password only with "Remember password".
pub fn save_profile(s: AppState, name: &str) -> Result<String, String> {
    let subs = s.client().peek(|sup| sup.wanted_subscriptions());
    let mut profile = settings::profile_from_form(name, &s.form.values_untracked(), &subs)?;
    profile.decoders = Some(crate::decoders::rules());
    let saved = profile.name.clone();
    let mut store = s.profiles.get_untracked();
    store.save(profile)?;
    store.last_used = Some(saved.clone());
    persist(s, store)?;
    Ok(format!("saved profile {saved:?}"))
}

/// Renames a saved profile.
pub fn rename_profile(s: AppState, from: &str, to: &str) -> Result<String, String> {
    let mut store = s.profiles.get_untracked();
    store.rename(from, to)?;
    let to = to.trim().to_string();
    if store.last_used.as_deref() == Some(from) {
        store.last_used = Some(to.clone());
    }
    persist(s, store)?;
    Ok(format!("renamed profile {from:?} to {to:?}"))
}

/// Deletes a saved profile.
pub fn delete_profile(s: AppState, name: &str) -> Result<String, String> {
    let mut store = s.profiles.get_untracked();
    if !store.remove(name) {
        return Err(format!("there is no profile named {name:?}"));
    }
    if store.last_used.as_deref() == Some(name) {
        store.last_used = None;
    }
    persist(s, store)?;
    Ok(format!("deleted profile {name:?}"))
}

/// Fills the form from a saved profile. Disconnected, its subscriptions
/// replace the current ones at once; otherwise they wait for Connect, and the
/// current connection and its subscriptions stay as they are until then.
pub fn load_profile(s: AppState, name: &str) -> Result<String, String> {
    let mut store = s.profiles.get_untracked();
    let p = store
        .get(name)
        .cloned()
        .ok_or_else(|| format!("there is no profile named {name:?}"))?;
    let subs = settings::profile_subscriptions(&p)?;
    let current = s.form.values_untracked();
    s.form.set(settings::form_from_profile(
        &p,
        &fresh_client_id(),
        &current,
    )?);
    store.last_used = Some(p.name.clone());
    // Decoder rules read what arrives from now on, connected or not.
    crate::decoders::set_rules(p.decoders.clone());
    // Remembering which profile was last used is a convenience: a storage
    // that refuses it must not undo the load.
    let _ = persist(s, store);
    if s.status.get_untracked().is_disconnected() {
        s.pending_profile.set(None);
        s.client()
            .with(|sup| sup.replace_subscriptions_with(now_ms(), subs))?;
        s.apply_pending();
        Ok(format!("loaded profile {name:?}"))
    } else {
        s.pending_profile.set(Some(p.name.clone()));
        Ok(format!(
            "loaded profile {name:?} into the form: press Connect to switch to it \
             (the current connection and its subscriptions stay until then)"
        ))
    }
}

/// Saves the publish form as the template `t.name` (replacing one of that
/// name), kept with the profiles.
pub fn save_template(s: AppState, t: PublishTemplate) -> Result<String, String> {
    let mut store = s.profiles.get_untracked();
    let name = t.name.clone();
    store.save_template(t)?;
    persist(s, store)?;
    Ok(format!("saved template {name:?}"))
}

/// Renames a saved template.
pub fn rename_template(s: AppState, from: &str, to: &str) -> Result<String, String> {
    let mut store = s.profiles.get_untracked();
    store.rename_template(from, to)?;
    persist(s, store)?;
    Ok(format!("renamed template {from:?} to {to:?}"))
}

/// Deletes a saved template.
pub fn delete_template(s: AppState, name: &str) -> Result<String, String> {
    let mut store = s.profiles.get_untracked();
    if !store.remove_template(name) {
        return Err(format!("there is no template named {name:?}"));
    }
    persist(s, store)?;
    Ok(format!("deleted template {name:?}"))
}

/// Downloads every profile as a JSON file (passwords only where remembered).
pub fn export_profiles(s: AppState) -> Result<String, String> {
    let store = s.profiles.get_untracked();
    let (n, t) = (store.profiles.len(), store.templates.len());
    files::download(
        "mqdash-profiles.json",
        "application/json",
        &store.export_json(),
    )?;
    if t == 0 {
        return Ok(format!("exported {n} profiles to mqdash-profiles.json"));
    }
    Ok(format!(
        "exported {n} profiles and {t} publish templates to mqdash-profiles.json"
    ))
}

/// Merges profiles from an exported JSON file's text into the store.
pub fn import_profiles(
    s: AppState,
    text: String,
    done: impl FnOnce(Result<String, String>) + 'static,
) {
    // The file's strict checks (every key, every type, with sentences) run
    // in the on-demand module (`crates/decoders-wasm`), so their code is
    // not in the first load; the page reads back the merged store.
    crate::decoders::when_ready(move |ready| {
        let merged = ready.and_then(|()| {
            let current = s.profiles.get_untracked().to_json();
            crate::decoders::import_profiles(&current, &text)
        });
        done(merged.and_then(|(message, store_json)| {
            let (store, problem) = ProfileStore::from_json(&store_json);
            if let Some(p) = problem {
                return Err(format!("the merged profiles could not be read back: {p}"));
            }
            persist(s, store)?;
            Ok(message)
        }));
    });
}

/// The shareable link of the current broker (the connection's, else the
/// form's) and the current subscriptions, opening connected.
pub fn share_link(s: AppState) -> String {
    let (target, subs) = s
        .client()
        .peek(|sup| (sup.target().map(|t| t.url.clone()), sup.subscriptions()));
    let broker = target.unwrap_or_else(|| s.form.broker_url.get_untracked());
    let subs: Vec<(&str, u8)> = subs.iter().map(|x| (x.filter.as_str(), x.qos)).collect();
    let loc = window().location();
    let base = format!(
        "{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default()
    );
    // Decoder rules travel unless they are a new profile's defaults, so a
    // link of a page that has not touched them reads as before.
    let rules = crate::decoders::rules();
    let decoders = if rules == model::decoding::DecoderRules::default() {
        String::new()
    } else {
        model::query::share_decoders(&rules)
    };
    format!(
        "{base}{}{decoders}",
        model::share_query(&broker, &subs, true)
    )
}

/// Sets the page up from the URL's query and the last used profile: a
/// shared link wins over the profile. An invalid subscription in the link
/// is explained on screen (and stays there), whether or not it connects.
pub fn start_from_location(s: AppState) {
    let search = window().location().search().unwrap_or_default();
    let query = model::parse_query(&search);
    load_profiles(s);
    let from_link = query.broker.is_some() || !query.subs.is_empty();
    if !from_link {
        let last = s.profiles.get_untracked().last_used.clone();
        if let Some(name) = last {
            if let Err(e) = load_profile(s, &name) {
                s.error.set(Some(e));
            }
        }
    }
    if let Some(b) = query.broker {
        s.form.broker_url.set(b);
    }
    if let Some(c) = query.client_id {
        s.form.client_id.set(c);
        s.form.client_id_typed.set(true);
    }
    if let Some(u) = query.username {
        s.form.username.set(u);
    }
    let mut problems = Vec::new();
    for (filter, qos) in query.subs_with_qos {
        let qos = match qos.map(QoS::from_u8) {
            None => Some(QoS::AtMostOnce),
            Some(q) => q,
        };
        let Some(qos) = qos else {
            problems.push(format!(
                "The link's subscription {filter:?} was not added: its QoS is not 0, 1 or 2."
            ));
            continue;
        };
        if let Err(e) = subscribe(s, filter.clone(), qos) {
            problems.push(format!(
                "The link's subscription {filter:?} was not added: {e}."
            ));
        }
    }
    // The link's decoder rules go before the ones in force (the first
    // matching rule wins).
    if !query.decoders.is_empty() {
        let mut rules = model::decoding::DecoderRules::none();
        for (filter, code, message) in &query.decoders {
            let added = model::decoding::Decoder::from_code(code, message)
                .ok_or_else(|| format!("{code:?} is not a decoder"))
                .and_then(|d| rules.add(filter, d));
            if let Err(e) = added {
                problems.push(format!(
                    "The link's decoder rule for {filter:?} was not added: {e}."
                ));
            }
        }
        for r in crate::decoders::rules().rules() {
            if !rules.rules().iter().any(|x| x.filter == r.filter) {
                let _ = rules.add(&r.filter, r.decoder.clone());
            }
        }
        crate::decoders::set_rules(Some(rules));
    }
    s.link_problems.set(problems);
    if query.connect {
        connect(s);
    }
}
