//! The root component: builds the shared state (its one client included),
//! sets it up from the URL's query and the last used profile, starts the
//! per-frame loop, and lays out the screen.

use leptos::prelude::*;

use crate::actions;
use crate::components::broker_card::BrokerCard;
use crate::components::connection_bar::ConnectionBar;
use crate::components::connection_form::DEFAULT_BROKER_URL;
use crate::components::decoders::DecodersCard;
use crate::components::keep::{KeepCard, ReplayBanner};
use crate::components::panels::Panels;
use crate::components::publish_form::PublishForm;
use crate::components::request_response::RequestResponse;
use crate::components::status::{LinkProblems, StatusLine};
use crate::components::subscriptions::Subscriptions;
use crate::components::theme::ThemeSwitch;
use crate::components::topic_detail::TopicDetail;
use crate::components::topic_tree::TopicTreePane;
use crate::state::AppState;

/// The whole dashboard.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new(DEFAULT_BROKER_URL.to_string(), actions::fresh_client_id());
    provide_context(state);
    state.start();
    actions::start_from_location(state);
    crate::keep::start_if_recorded();
    on_cleanup(move || state.stop());

    view! {
        <header class="top">
            <h1>"mqdash"</h1>
            <StatusLine />
            <ThemeSwitch />
        </header>
        <nav class="jump" aria-label="Parts of the page">
            <a href="#subscriptions">"Subscriptions"</a>
            <a href="#publish">"Publish"</a>
            <a href="#request-response">"Request / response"</a>
            <a href="#keep">"Record and replay"</a>
            <a href="#decoders">"Decoders"</a>
            <a href="#topics">"Topic tree"</a>
            <a href="#panels">"Panels"</a>
        </nav>
        <main>
            <LinkProblems />
            <ReplayBanner />
            <ConnectionBar />
            <div class="workspace">
                <div class="side">
                    <div id="subscriptions"><Subscriptions /></div>
                    <div id="publish"><PublishForm /></div>
                    <div id="request-response"><RequestResponse /></div>
                    <div id="keep"><KeepCard /></div>
                    <div id="decoders"><DecodersCard /></div>
                    <BrokerCard />
                </div>
                <div id="topics" class="tree-column"><TopicTreePane /></div>
                <div id="panels" class="panel-column"><Panels /></div>
            </div>
            <TopicDetail />
        </main>
    }
}
