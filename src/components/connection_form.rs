//! The connection form: broker URL, client id, credentials, keepalive, clean
//! session, protocol version (3.1.1, 3.1 or 5), message size limit, Last
//! Will, and with MQTT 5 its options (`components::mqtt5`); Connect,
//! Disconnect and Copy link; and the saved profiles (save, load, rename,
//! delete, export, import).
//!
//! The form is only the user's draft: editing it while connected changes
//! nothing until Connect is pressed, and the form says so. Values are
//! checked by `client::settings::build`, whose sentence is shown while a
//! value is wrong (and Connect is disabled).

use leptos::prelude::*;
use mqtt_session::ProtocolVersion;
use wasm_bindgen::JsCast;

use crate::actions;
use crate::client::settings::{parse_protocol, parse_qos, protocol_key};
use crate::components::erased::{handler, keyed, show, Keyed};
use crate::components::mqtt5::{check, field, Mqtt5Options};
use crate::files;
use crate::state::use_app;

/// Broker URL the form starts with: the dev broker that `scripts/run.sh` starts.
pub const DEFAULT_BROKER_URL: &str = "ws://127.0.0.1:18083/mqtt";

/// The connection form.
#[component]
pub fn ConnectionForm() -> impl IntoView {
    let s = use_app();
    let f = s.form;
    let target = Memo::new(move |_| actions::form_target(&f.values()));
    let problem = move || target.get().err();
    // Whether the form asks for something other than the live connection.
    let differs = Memo::new(move |_| {
        let status = s.status.get();
        if status.is_disconnected() {
            return false;
        }
        let wanted = target.get().ok();
        let current = s.client().peek(|sup| sup.target().cloned());
        wanted != current || s.pending_profile.get().is_some()
    });
    let can_connect =
        move || target.get().is_ok() && (s.status.get().is_disconnected() || differs.get());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        actions::connect(s);
    };
    let link = RwSignal::new(None::<String>);
    let copy_link = move |_| {
        let url = actions::share_link(s);
        files::copy_to_clipboard(&url);
        link.set(Some(url));
    };
    let on_protocol = move |ev| match parse_protocol(&event_target_value(&ev)) {
        Ok(p) => f.protocol.set(p),
        Err(e) => s.error.set(Some(e)),
    };
    let on_will_qos = move |ev| match parse_qos(&event_target_value(&ev)) {
        Ok(q) => f.will_qos.set(q),
        Err(e) => s.error.set(Some(format!("Will {e}"))),
    };
    // The fields, erased so that the form's view type stays small.
    let fields = view! {
            <div class="row">
                <label class="grow">"Broker URL"
                    <input type="text" bind:value=f.broker_url placeholder="ws://host:port/mqtt" spellcheck="false" />
                </label>
                <label>"Client ID"
                    <input type="text" spellcheck="false" prop:value=move || f.client_id.get()
                        on:input=handler(move |ev| { f.client_id.set(event_target_value(&ev)); f.client_id_typed.set(true); }) />
                </label>
                <label>"Username" <input type="text" bind:value=f.username autocomplete="username" /></label>
                <label>"Password" <input type="password" bind:value=f.password autocomplete="current-password" /></label>
                {check("Remember password", f.remember_password)}
            </div>
            <div class="row">
                <label>"Keep alive" <input type="number" min="0" max="65535" bind:value=f.keepalive class="narrow" /></label>
                {check("Clean session", f.clean_session)}
                <label>"Protocol"
                    <select prop:value=move || protocol_key(f.protocol.get()) on:change=handler(on_protocol)>
                        <option value="3.1.1">"MQTT 3.1.1"</option>
                        <option value="3.1">"MQTT 3.1"</option>
                        <option value="5">"MQTT 5"</option>
                    </select>
                </label>
                <label>"Message size limit (MiB)"
                    <input type="number" min="1" max="256" bind:value=f.message_limit_mib class="narrow" />
                </label>
                {field("Will topic", "text", f.will_topic, "")}
                <label>"Will payload" <input type="text" bind:value=f.will_payload /></label>
                <label>"Will QoS"
                    <select prop:value=move || f.will_qos.get().as_u8().to_string() on:change=handler(on_will_qos)>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                {check("Will retain", f.will_retain)}
            </div>
    }
    .into_any();
    view! {
        // novalidate: the page's own sentences (role="alert") explain a bad
        // field, the same way for every field and every browser.
        <form class="connection" on:submit=handler(on_submit) aria-label="Connection" novalidate>
            {fields}
            {show(move || f.protocol.get() == ProtocolVersion::V5, || view! { <Mqtt5Options /> }.into_any())}
            <p class="hint form-problem" role="alert">{move || problem()}</p>
            {show(move || differs.get(), || view! {
                <p class="hint form-differs" aria-live="polite">
                    "The form differs from the current connection; press Connect to switch to it. \
                     Until then the connection and its subscriptions stay as they are."
                </p>
            }.into_any())}
            <div class="row buttons">
                <button type="submit" disabled=move || !can_connect()>"Connect"</button>
                <button type="button" disabled=move || s.status.get().is_disconnected()
                    on:click=handler(move |_| actions::disconnect(s))>"Disconnect"</button>
                <button type="button" on:click=handler(copy_link)>"Copy link"</button>
                {show(move || link.get().is_some(), move || view! {
                    <label class="grow">"Shareable link"
                        <input type="text" readonly prop:value=move || link.get().unwrap_or_default() />
                    </label>
                }.into_any())}
            </div>
            <Profiles />
        </form>
    }
}

/// Saved profiles: pick one to load it; save the form under a name; rename,
/// delete, export to a file, import from one.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
fn Profiles() -> impl IntoView {
    let s = use_app();
    let selected = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let report = move |r: Result<String, String>| message.set(Some(r));
    let names = move || {
        s.profiles
            .get()
            .names()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let on_pick = move |ev| {
        let picked = event_target_value(&ev);
        selected.set(picked.clone());
        if picked.is_empty() {
            return;
        }
        name.set(picked.clone());
        report(actions::load_profile(s, &picked));
    };
    let save = move |_| {
        let r = actions::save_profile(s, &name.get_untracked());
        if r.is_ok() {
            selected.set(name.get_untracked().trim().to_string());
        }
        report(r);
    };
    let rename = move |_| {
        let (from, to) = (selected.get_untracked(), name.get_untracked());
        let r = actions::rename_profile(s, &from, &to);
        if r.is_ok() {
            selected.set(to.trim().to_string());
        }
        report(r);
    };
    let delete = move |_| {
        let r = actions::delete_profile(s, &selected.get_untracked());
        if r.is_ok() {
            selected.set(String::new());
        }
        report(r);
    };
    let on_import = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let input2 = input.clone();
        files::read_picked_file(&input, move |text| {
            let r = text.and_then(|t| actions::import_profiles(s, &t));
            report(r.map_err(|e| format!("import failed: {e}")));
            // Picking the same file again must fire `change` again.
            input2.set_value("");
        });
    };
    let nothing_selected = move || selected.get().is_empty();
    view! {
        <fieldset class="profiles">
            <legend>"Profiles"</legend>
            <div class="row">
                <label>"Profile"
                    <select on:change=handler(on_pick) prop:value=move || selected.get()>
                        <option value="">"(saved profiles)"</option>
                        {keyed(move || {
                            names()
                                .into_iter()
                                .map(|n| Keyed::new(n.clone(), move || view! { <option value=n.clone()>{n.clone()}</option> }.into_any()))
                                .collect()
                        })}
                    </select>
                </label>
                <label>"Profile name"
                    <input type="text" bind:value=name spellcheck="false" placeholder="e.g. plant A, staging" />
                </label>
                <button type="button" disabled=move || name.get().trim().is_empty() on:click=handler(save)>"Save profile"</button>
                <button type="button" disabled=move || nothing_selected() || name.get().trim().is_empty()
                    on:click=handler(rename)>"Rename profile"</button>
                <button type="button" disabled=move || nothing_selected() on:click=handler(delete)>"Delete profile"</button>
                <button type="button" disabled=move || s.profiles.with(|p| p.profiles.is_empty() && p.templates.is_empty())
                    on:click=handler(move |_| report(actions::export_profiles(s)))>"Export profiles"</button>
                <label class="file">"Import profiles"
                    <input type="file" accept=".json,application/json" on:change=handler(on_import) />
                </label>
            </div>
            <p class=move || match message.get() { Some(Err(_)) => "hint profile-message bad", _ => "hint profile-message" } aria-live="polite">
                {move || message.get().map(|r| r.unwrap_or_else(|e| e))}
            </p>
        </fieldset>
    }
}
