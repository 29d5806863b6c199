//! The connection status line (`role="status"`, so screen readers announce
//! changes) naming the broker the page is actually talking to, the last
//! error in plain words, and what a shared link asked for and could not get.

use leptos::prelude::*;

use crate::actions;
use crate::client::supervisor::Status;
use crate::components::erased::{handler, show, text};
use crate::state::use_app;

/// Shows connecting / connected / reconnecting in N s / disconnected, with the
/// broker and the reason, and a "Reconnect now" button while a reconnect waits.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn StatusLine() -> impl IntoView {
    let s = use_app();
    let line = move || s.status.get().describe(s.clock.get());
    let class = move || match s.status.get() {
        Status::Connected { .. } => "status ok",
        Status::Connecting { .. } => "status busy",
        Status::Reconnecting { .. } => "status warn",
        Status::Disconnected { reason: Some(_) } => "status bad",
        Status::Disconnected { reason: None } => "status",
    };
    view! {
        <p class=text(move || class().to_string()) role="status" aria-live="polite" title=text(line)><span>{text(line)}</span></p>
        {show(move || matches!(s.status.get(), Status::Reconnecting { .. }), move || view! {
            <button type="button" class="small" on:click={handler(move |_| actions::reconnect_now(s))}>"Reconnect now"</button>
        }.into_any())}
        {show(move || s.error.get().is_some(), move || view! {
            <p class="error" role="alert">{move || s.error.get().unwrap_or_default()}</p>
        }.into_any())}
    }
}

/// What the page's link asked for and could not be done; stays until dismissed.
#[component]
pub fn LinkProblems() -> impl IntoView {
    let s = use_app();
    view! {
        {show(move || !s.link_problems.get().is_empty(), move || view! {
            <section class="link-problems" role="alert" aria-label="Problems with the link">
                <ul>
                    {move || s.link_problems.get().into_iter().map(|p| view! { <li>{p}</li> }.into_any()).collect::<Vec<_>>()}
                </ul>
                <button type="button" class="small" on:click={handler(move |_| s.link_problems.set(Vec::new()))}>"Dismiss link problems"</button>
            </section>
        }.into_any())}
    }
}
