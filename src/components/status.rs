//! The connection status line (`role="status"`, so screen readers announce changes).

use leptos::prelude::*;

/// Shows the connection state and its reason in plain words.
#[component]
pub fn Status(
    /// The sentence to show, e.g. "connected" or "disconnected: bad username or password".
    #[prop(into)]
    text: Signal<String>,
) -> impl IntoView {
    view! {
        <p class="status" role="status" aria-live="polite">{move || text.get()}</p>
    }
}
