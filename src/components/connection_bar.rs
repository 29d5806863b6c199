//! The connection, folded: once connected, the form folds into one line
//! (broker, client id, Edit connection, Disconnect) so the topic tree and
//! panels take the screen; "Edit connection" unfolds the form again. With
//! MQTT 5, "Broker granted" below it shows what the broker's CONNACK said
//! (and the client id it assigned, if it did).

use leptos::prelude::*;

use crate::actions;
use crate::client::supervisor::Status;
use crate::components::connection_form::ConnectionForm;
use crate::components::erased::{effect, handler, show, show_or};
use crate::components::mqtt5::BrokerGranted;
use crate::state::use_app;

/// The connection bar, or the form while unfolded.
#[component]
pub fn ConnectionBar() -> impl IntoView {
    let s = use_app();
    let v = s.view;
    // Connecting folds the form; ending up disconnected unfolds it (there
    // is nothing else to do then but edit and connect).
    // The previous run's `connected` is kept in the closure (None before
    // the first run), so the effect goes through the shared erased one.
    let mut was_connected: Option<bool> = None;
    effect(move || {
        let status = s.status.get();
        let connected = status.is_connected();
        if connected && was_connected != Some(true) {
            v.form_open.set(false);
        }
        if matches!(status, Status::Disconnected { .. }) {
            v.form_open.set(true);
        }
        was_connected = Some(connected);
    });
    let broker = move || {
        s.client()
            .peek(|sup| sup.target().map(|t| t.url.clone()))
            .unwrap_or_default()
    };
    let client_id = move || {
        s.status.get();
        let assigned = s.granted.get().and_then(|g| g.assigned_client_id);
        let ours = s
            .client()
            .peek(|sup| sup.target().map(|t| t.options.client_id.clone()))
            .unwrap_or_default();
        match assigned {
            Some(id) => format!("{id} (assigned by the broker)"),
            None => ours,
        }
    };
    view! {
        {show_or(move || v.form_open.get(), move || view! {
            <ConnectionForm />
            {show(move || !s.status.get().is_disconnected(), move || view! {
                <button type="button" class="small fold" on:click=handler(move |_| v.form_open.set(false))>"Fold connection form"</button>
            }.into_any())}
        }.into_any(), move || view! {
            <div class="connection-bar" role="group" aria-label="Connection">
                <span class="bar-broker"><span class="muted">"Broker "</span><code>{move || { s.status.get(); broker() }}</code></span>
                <span class="bar-client"><span class="muted">"Client id "</span><code>{move || client_id()}</code></span>
                <button type="button" class="small" on:click=handler(move |_| v.form_open.set(true))>"Edit connection"</button>
                <button type="button" class="small" on:click=handler(move |_| actions::disconnect(s))>"Disconnect"</button>
            </div>
        }.into_any())}
        <BrokerGranted />
    }
}
