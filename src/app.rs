//! The root component: lays out the parts of the screen.

use leptos::prelude::*;

use crate::components::connection_form::{ConnectionForm, DEFAULT_BROKER_URL};
use crate::components::status::Status;

/// The whole dashboard.
#[component]
pub fn App() -> impl IntoView {
    let broker_url = RwSignal::new(DEFAULT_BROKER_URL.to_string());
    let status = RwSignal::new("disconnected".to_string());
    view! {
        <header class="top"><h1>"mqdash"</h1></header>
        <main>
            <ConnectionForm broker_url=broker_url />
            <Status text=status />
        </main>
    }
}
