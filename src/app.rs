//! The root component: builds the shared state (from the URL's query and the
//! last used profile), starts the per-frame loop, and lays out the screen.

use leptos::prelude::*;

use crate::actions;
use crate::components::connection_form::{ConnectionForm, DEFAULT_BROKER_URL};
use crate::components::panels::Panels;
use crate::components::publish_form::PublishForm;
use crate::components::status::StatusLine;
use crate::components::subscriptions::Subscriptions;
use crate::state::AppState;

/// The whole dashboard.
#[component]
pub fn App() -> impl IntoView {
    let seed = (js_sys::Math::random() * u64::MAX as f64) as u64;
    let state = AppState::new(
        DEFAULT_BROKER_URL.to_string(),
        model::random_client_id(seed),
    );
    provide_context(state);

    let search = window().location().search().unwrap_or_default();
    let query = model::parse_query(&search);
    let store = actions::load_profiles(state);
    // A shared link wins over the last used profile.
    let from_link = query.broker.is_some() || !query.subs.is_empty();
    if !from_link {
        if let Some(p) = store.last_used.as_deref().and_then(|n| store.get(n)) {
            actions::apply_profile(state, p);
        }
    }
    if let Some(b) = query.broker {
        state.form.broker_url.set(b);
    }
    if let Some(c) = query.client_id {
        state.form.client_id.set(c);
    }
    if let Some(u) = query.username {
        state.form.username.set(u);
    }
    let qos = query.qos.unwrap_or(0);
    for sub in query.subs {
        if let Err(e) = actions::subscribe(state, sub.clone(), qos) {
            state
                .error
                .set(Some(format!("subscription {sub:?} from the link: {e}")));
        }
    }
    state.start_frame_loop();
    if query.connect {
        actions::connect(state);
    }
    on_cleanup(move || actions::disconnect(state));

    view! {
        <header class="top">
            <h1>"mqdash"</h1>
            <StatusLine />
        </header>
        <main>
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
