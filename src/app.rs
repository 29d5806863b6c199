//! The root component: builds the shared state (its one client included),
//! sets it up from the URL's query and the last used profile, starts the
//! per-frame loop, and lays out the screen.

use leptos::prelude::*;

use crate::actions;
use crate::components::connection_form::{ConnectionForm, DEFAULT_BROKER_URL};
use crate::components::panels::Panels;
use crate::components::publish_form::PublishForm;
use crate::components::status::{LinkProblems, StatusLine};
use crate::components::subscriptions::Subscriptions;
use crate::state::AppState;

/// The whole dashboard.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new(DEFAULT_BROKER_URL.to_string(), actions::fresh_client_id());
    provide_context(state);
    state.start();
    actions::start_from_location(state);
    on_cleanup(move || state.stop());

    view! {
        <header class="top">
            <h1>"mqdash"</h1>
            <StatusLine />
        </header>
        <main>
            <LinkProblems />
            <ConnectionForm />
            <div class="columns">
                <div class="side">
                    <Subscriptions />
                    <PublishForm />
                </div>
                <Panels />
            </div>
        </main>
    }
}
