//! The connection form: broker URL, client id, credentials, keepalive, clean
//! session, protocol version, Last Will, and saved profiles.

use leptos::prelude::*;

use crate::actions;
use crate::client::supervisor::Status;
use crate::state::use_app;

/// Broker URL the form starts with: the dev broker that `scripts/run.sh` starts.
pub const DEFAULT_BROKER_URL: &str = "ws://127.0.0.1:18083/mqtt";

/// The connection form.
#[component]
pub fn ConnectionForm() -> impl IntoView {
    let s = use_app();
    let f = s.form;
    let profiles = RwSignal::new(actions::load_profiles(s));
    let busy = move || !matches!(s.status.get(), Status::Disconnected { .. });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        actions::connect(s);
        profiles.set(actions::load_profiles(s));
    };
    let on_pick = move |ev| {
        let name = event_target_value(&ev);
        if let Some(p) = profiles.get_untracked().get(&name) {
            actions::apply_profile(s, p);
        }
    };
    let profile_names = move || profiles.get().names().map(String::from).collect::<Vec<_>>();
    view! {
        // novalidate: the page's own sentences (role="alert") explain a bad
        // field, the same way for every field and every browser.
        <form class="connection" on:submit=on_submit aria-label="Connection" novalidate>
            <div class="row">
                <label class="grow">"Broker URL"
                    <input type="text" bind:value=f.broker_url placeholder="ws://host:port/mqtt" spellcheck="false" />
                </label>
                <label>"Client ID" <input type="text" bind:value=f.client_id spellcheck="false" /></label>
                <label>"Username" <input type="text" bind:value=f.username autocomplete="username" /></label>
                <label>"Password" <input type="password" bind:value=f.password autocomplete="current-password" /></label>
                <label class="check"><input type="checkbox" bind:checked=f.remember_password /> "Remember password"</label>
            </div>
            <div class="row">
                <label>"Keep alive" <input type="number" min="0" max="65535" bind:value=f.keepalive class="narrow" /></label>
                <label class="check"><input type="checkbox" bind:checked=f.clean_session /> "Clean session"</label>
                <label>"Protocol"
                    <select prop:value=move || f.protocol.get() on:change=move |ev| f.protocol.set(event_target_value(&ev))>
                        <option value="3.1.1">"MQTT 3.1.1"</option>
                        <option value="3.1">"MQTT 3.1"</option>
                    </select>
                </label>
                <label>"Will topic" <input type="text" bind:value=f.will_topic spellcheck="false" /></label>
                <label>"Will payload" <input type="text" bind:value=f.will_payload /></label>
                <label>"Will QoS"
                    <select prop:value=move || f.will_qos.get() on:change=move |ev| f.will_qos.set(event_target_value(&ev))>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" bind:checked=f.will_retain /> "Will retain"</label>
                <label>"Profile"
                    <select on:change=on_pick>
                        <option value="">"(saved profiles)"</option>
                        <For each=profile_names key=|n| n.clone() let:name>
                            <option value=name.clone()>{name.clone()}</option>
                        </For>
                    </select>
                </label>
            </div>
            <div class="row buttons">
                <button type="submit">"Connect"</button>
                <button type="button" disabled=move || !busy() on:click=move |_| actions::disconnect(s)>"Disconnect"</button>
            </div>
        </form>
    }
}
