//! The connection status line (`role="status"`, so screen readers announce
//! changes) and the last error in plain words.

use leptos::prelude::*;

use crate::actions;
use crate::client::supervisor::Status;
use crate::state::use_app;

/// Shows connecting / connected / reconnecting in N s / disconnected, with the
/// reason, and a "Reconnect now" button while a reconnect is waiting.
#[component]
pub fn StatusLine() -> impl IntoView {
    let s = use_app();
    let text = move || s.status.get().describe(s.clock.get());
    let class = move || match s.status.get() {
        Status::Connected { .. } => "status ok",
        Status::Connecting => "status busy",
        Status::Reconnecting { .. } => "status warn",
        Status::Disconnected { reason: Some(_) } => "status bad",
        Status::Disconnected { reason: None } => "status",
    };
    view! {
        <p class=class role="status" aria-live="polite" title=text><span>{text}</span></p>
        <Show when=move || matches!(s.status.get(), Status::Reconnecting { .. })>
            <button type="button" class="small" on:click=move |_| actions::reconnect_now(s)>"Reconnect now"</button>
        </Show>
        <Show when=move || s.error.get().is_some()>
            <p class="error" role="alert">{move || s.error.get().unwrap_or_default()}</p>
        </Show>
    }
}
