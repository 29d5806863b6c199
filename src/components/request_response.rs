//! The request/response helper (MQTT 5): publish a request with a response
//! topic and correlation data (typed, or generated: a counter and random
//! hex), subscribing to the response topic first when no subscription
//! covers it; list each request with the replies matched to it by
//! correlation data, each with its round trip, and count replies that match
//! no request. The bookkeeping is `model::Requests`, fed by every batch of
//! messages (`client::updates`); this file only reads the form, calls
//! `actions::send_request` and renders the list.
//!
//! Payloads, topics and correlation data are text nodes, never HTML.

use leptos::prelude::*;

use crate::actions;
use crate::components::erased::handler;
use crate::components::publish_form::{qos_select, text_area, text_field};
use crate::state::use_app;

/// The request/response helper.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn RequestResponse() -> impl IntoView {
    let s = use_app();
    let topic = RwSignal::new(String::new());
    let payload = RwSignal::new(String::new());
    let qos = RwSignal::new(mqtt_session::QoS::AtLeastOnce);
    let reply_topic = RwSignal::new(String::new());
    let correlation = RwSignal::new(String::new());
    let timeout = RwSignal::new("30".to_string());
    let outcome = RwSignal::new(None::<String>);
    let default_reply = move || format!("mqdash/responses/{}", s.form.client_id.get());
    let send = move || {
        let reply = Some(reply_topic.get_untracked())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| untrack(default_reply));
        let secs = timeout.get_untracked();
        let Some(timeout_ms) = secs
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|t| *t > 0)
            .map(|t| f64::from(t) * 1000.0)
        else {
            outcome.set(Some(format!(
                "Reply timeout (s) must be a whole number of seconds above 0, not {secs:?}"
            )));
            return;
        };
        let typed = correlation.get_untracked();
        let corr = if typed.is_empty() {
            let random = (js_sys::Math::random() * u64::MAX as f64) as u64;
            s.requests
                .with_untracked(|r| r.generate_correlation(random))
        } else {
            typed
        };
        let r = actions::send_request(
            s,
            &topic.get_untracked(),
            &payload.get_untracked(),
            qos.get_untracked(),
            &reply,
            &corr,
            timeout_ms,
        );
        outcome.set(Some(r.unwrap_or_else(|e| e)));
    };
    // Re-read with the clock (twice a second) for "waiting (N s)" and
    // timeouts, and whenever a reply arrives.
    let list = move || {
        let now = s.clock.get() as f64;
        s.requests.with(|r| {
            r.iter()
                .map(|q| {
                    let head = format!(
                        "#{} {} → {} · correlation data {} · {}",
                        q.number,
                        q.topic,
                        q.response_topic,
                        q.correlation_text(),
                        q.state(now)
                    );
                    let replies = q
                        .replies
                        .iter()
                        .map(|re| {
                            view! {
                                <li class:late=re.late>{format!("{}: {}", re.describe(q.timeout_ms), re.payload)}</li>
                            }
                            .into_any()
                        })
                        .collect::<Vec<_>>();
                    view! { <li>{head}<ul class="replies">{replies}</ul></li> }.into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    let unmatched = move || {
        let n = s.requests.with(|r| r.unmatched());
        format!(
            "{n} {} on a reply topic matched no request",
            if n == 1 { "reply" } else { "replies" }
        )
    };
    let connected = move || s.status.get().is_connected();
    view! {
        <section class="reqres" aria-label="Request / response">
            <h2>"Request / response"</h2>
            <form class="row" novalidate on:submit=handler(move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); })>
                {text_field("Request topic", "grow", "text", "devices/d1/get", topic)}
                {qos_select("Request QoS", qos, outcome)}
                <label class="grow">"Reply topic"
                    <input type="text" bind:value=reply_topic spellcheck="false" placeholder=move || default_reply() />
                </label>
                {text_field("Request correlation data", "grow", "text", "generated", correlation)}
                {text_field("Reply timeout (s)", "", "number", "", timeout)}
                {text_area("Request payload", 2, payload)}
                <div class="buttons">
                    <button type="submit" disabled=move || !connected() || topic.get().is_empty()>"Send request"</button>
                    <button type="button" class="small" on:click=handler(move |_| s.requests.update(|r| r.clear()))>"Clear requests"</button>
                </div>
            </form>
            <p class="hint" role="alert">{move || outcome.get()}</p>
            <p class="hint">{move || unmatched()}</p>
            <ol class="req-log" aria-label="Requests">{move || list()}</ol>
        </section>
    }
}
