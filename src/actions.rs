//! What the buttons do: connect, disconnect, subscribe, publish, profiles.
//!
//! Kept out of `view!` so components stay declarative; the decisions themselves
//! live in the pure modules (`client::settings`, `client::supervisor`, `model`).

use leptos::prelude::*;
use model::{encode, PayloadFormat, Profile, ProfileStore, ProtocolVersion, SavedSubscription};
use mqtt_session::QoS;

use crate::client::browser::{now_ms, BrowserClient};
use crate::client::settings::{build, FormValues};
use crate::client::supervisor::{Status, Supervisor};
use crate::state::AppState;

const PROFILES_KEY: &str = "mqdash.profiles";

fn form_values(s: &AppState) -> FormValues {
    let f = s.form;
    FormValues {
        broker_url: f.broker_url.get_untracked(),
        client_id: f.client_id.get_untracked(),
        username: f.username.get_untracked(),
        password: f.password.get_untracked(),
        keepalive: f.keepalive.get_untracked(),
        clean_session: f.clean_session.get_untracked(),
        protocol: f.protocol.get_untracked(),
        will_topic: f.will_topic.get_untracked(),
        will_payload: f.will_payload.get_untracked(),
        will_qos: f.will_qos.get_untracked(),
        will_retain: f.will_retain.get_untracked(),
    }
}

fn page_protocol() -> String {
    window().location().protocol().unwrap_or_default()
}

/// Connect: validate the form, replace any previous client, start connecting.
pub fn connect(s: AppState) {
    let (url, options) = match build(&form_values(&s), &page_protocol()) {
        Ok(v) => v,
        Err(e) => {
            s.error.set(Some(e));
            return;
        }
    };
    disconnect(s);
    let mut supervisor = match Supervisor::new(url, options) {
        Ok(sup) => sup,
        Err(e) => {
            s.error.set(Some(e));
            return;
        }
    };
    // Subscriptions already on the page carry over to the new connection.
    let now = now_ms();
    let wanted: Vec<(String, u8)> = s.dash.with_value(|d| {
        d.subscriptions()
            .iter()
            .map(|x| (x.filter().to_string(), x.qos()))
            .collect()
    });
    for (filter, qos) in wanted {
        let _ = supervisor.subscribe(now, filter, QoS::from_u8(qos).unwrap_or(QoS::AtMostOnce));
    }
    s.error.set(None);
    s.dash.update_value(|d| d.reset_grants());
    let client = BrowserClient::new(supervisor, s.notice_sink());
    client.with(|sup| sup.start());
    s.client.set_value(Some(client));
    save_profile(s);
}

/// Disconnect: DISCONNECT, close, and no more reconnects.
pub fn disconnect(s: AppState) {
    if let Some(client) = s.client.try_update_value(|c| c.take()).flatten() {
        client.shutdown();
    }
    s.apply_pending();
    s.status.set(Status::Disconnected { reason: None });
}

/// "Reconnect now": skip the rest of the reconnect delay.
pub fn reconnect_now(s: AppState) {
    if let Some(client) = s.client.get_value() {
        client.with(|sup| sup.reconnect_now());
    }
}

/// Adds a subscription to the page (and to the broker when connected).
pub fn subscribe(s: AppState, filter: String, qos: u8) -> Result<(), String> {
    model::validate_filter(&filter).map_err(|e| e.to_string())?;
    let q = QoS::from_u8(qos).ok_or("QoS must be 0, 1 or 2")?;
    if let Some(client) = s.client.get_value() {
        client.with(|sup| sup.subscribe(now_ms(), filter.clone(), q))?;
    }
    s.dash.update_value(|d| {
        d.subscribe(&filter, qos);
    });
    s.tick.update(|t| *t += 1);
    save_profile(s);
    Ok(())
}

/// Removes a subscription (UNSUBSCRIBE when connected).
pub fn unsubscribe(s: AppState, filter: String) {
    if let Some(client) = s.client.get_value() {
        if let Err(e) = client.with(|sup| sup.unsubscribe(now_ms(), &filter)) {
            s.error.set(Some(e));
        }
    }
    s.dash.update_value(|d| {
        d.unsubscribe(&filter);
    });
    s.tick.update(|t| *t += 1);
    save_profile(s);
}

/// Publishes from the form. Returns the error sentence on refusal.
pub fn publish(
    s: AppState,
    topic: &str,
    payload_text: &str,
    format: PayloadFormat,
    qos: u8,
    retain: bool,
) -> Result<(), String> {
    model::validate_topic(topic).map_err(|e| format!("Topic: {e}"))?;
    let payload = encode(format, payload_text).map_err(|e| e.to_string())?;
    let q = QoS::from_u8(qos).ok_or("QoS must be 0, 1 or 2")?;
    let client = s.client.get_value().ok_or("not connected")?;
    let size = payload.len();
    let id = client.with(|sup| sup.publish(now_ms(), topic, payload, q, retain))?;
    s.publishes
        .update(|log| log.record(id, topic, qos, retain, size));
    // The "sent" state may already have moved on within this call.
    s.apply_pending();
    Ok(())
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Loads the saved profiles (an unreadable store is reported and treated as empty).
pub fn load_profiles(s: AppState) -> ProfileStore {
    let text = storage().and_then(|st| st.get_item(PROFILES_KEY).ok().flatten());
    match text {
        Some(t) => {
            let (store, err) = ProfileStore::from_json(&t);
            if let Some(e) = err {
                s.error
                    .set(Some(format!("saved profiles could not be read: {e}")));
            }
            store
        }
        None => ProfileStore::new(),
    }
}

/// Saves the current form and subscriptions as the profile named after the
/// broker URL and client id. The password is kept only if the user asked.
pub fn save_profile(s: AppState) {
    let v = form_values(&s);
    let remember = s.form.remember_password.get_untracked();
    let subscriptions = s.dash.with_value(|d| {
        d.subscriptions()
            .iter()
            .map(|x| SavedSubscription {
                filter: x.filter().to_string(),
                qos: x.qos(),
            })
            .collect()
    });
    let profile = Profile {
        name: profile_name(&v.broker_url, &v.client_id),
        broker_url: v.broker_url,
        client_id: v.client_id,
        username: v.username,
        password: (remember && !v.password.is_empty()).then_some(v.password),
        remember_password: remember,
        keepalive_secs: v.keepalive.trim().parse().unwrap_or(60),
        clean_session: v.clean_session,
        protocol: if v.protocol == "3.1" {
            ProtocolVersion::V31
        } else {
            ProtocolVersion::V311
        },
        last_will: (!v.will_topic.is_empty()).then(|| model::LastWill {
            topic: v.will_topic,
            payload: v.will_payload,
            qos: v.will_qos.trim().parse().unwrap_or(0),
            retain: v.will_retain,
        }),
        subscriptions,
    };
    let mut store = load_profiles(s);
    store.last_used = Some(profile.name.clone());
    store.upsert(profile);
    if let Some(st) = storage() {
        let _ = st.set_item(PROFILES_KEY, &store.to_json());
    }
}

/// The name a profile is saved under.
pub fn profile_name(broker_url: &str, client_id: &str) -> String {
    format!("{client_id} @ {broker_url}")
}

/// Fills the form and the subscriptions from a saved profile: the form shows
/// exactly the profile (no Last Will left over from another one) and the
/// subscription list becomes the profile's, on the broker too when connected.
/// Nothing is saved: connecting saves.
pub fn apply_profile(s: AppState, p: &Profile) {
    let f = s.form;
    f.broker_url.set(p.broker_url.clone());
    f.client_id.set(p.client_id.clone());
    f.username.set(p.username.clone());
    f.password.set(p.password.clone().unwrap_or_default());
    f.remember_password.set(p.remember_password);
    f.keepalive.set(p.keepalive_secs.to_string());
    f.clean_session.set(p.clean_session);
    f.protocol.set(p.protocol.label().to_string());
    let will = p.last_will.clone().unwrap_or_default();
    f.will_topic.set(will.topic);
    f.will_payload.set(will.payload);
    f.will_qos.set(will.qos.to_string());
    f.will_retain.set(will.retain);

    let current: Vec<(String, u8)> = s.dash.with_value(|d| {
        d.subscriptions()
            .iter()
            .map(|x| (x.filter().to_string(), x.qos()))
            .collect()
    });
    let client = s.client.get_value();
    let now = now_ms();
    for (filter, _) in &current {
        if p.subscriptions.iter().any(|w| w.filter == *filter) {
            continue;
        }
        if let Some(c) = &client {
            if let Err(e) = c.with(|sup| sup.unsubscribe(now, filter)) {
                s.error.set(Some(e));
            }
        }
        s.dash.update_value(|d| {
            d.unsubscribe(filter);
        });
    }
    for sub in &p.subscriptions {
        if current
            .iter()
            .any(|(f, q)| *f == sub.filter && *q == sub.qos)
        {
            continue;
        }
        if let (Some(c), Some(q)) = (&client, QoS::from_u8(sub.qos)) {
            if let Err(e) = c.with(|sup| sup.subscribe(now, sub.filter.clone(), q)) {
                s.error.set(Some(e));
            }
        }
        s.dash.update_value(|d| {
            d.subscribe(&sub.filter, sub.qos);
        });
    }
    s.tick.update(|t| *t += 1);
}
