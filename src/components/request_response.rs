//! The request/response helper (MQTT 5): publish a request with a response
//! topic and correlation data (typed, or generated: a counter and random
//! hex), subscribing to the response topic first when no subscription
//! covers it; list each request with the replies matched to it by
//! correlation data, each with its round trip, and count replies that match
//! no request. The bookkeeping is `model::Requests`, fed by every batch of
//! messages (`client::updates`); this file only reads the form, calls
//! `actions::send_request` and renders the list.
//!
//! The form is a static card (docs/architecture.md, "Static cards"):
//! constant markup, one delegated input, click and submit handler (with the
//! subscribe form, 1.1 KB less gzipped wasm than `view!`, measured).
//! Payloads, topics and correlation data are text nodes, never HTML.

use leptos::prelude::*;

use crate::actions;
use crate::client::settings::parse_qos;
use crate::components::dom::{self, set_flag, set_text};
use crate::components::erased::{effect, handler};
use crate::state::use_app;

/// The helper's fixed part; ids are `rr-*`. The request list stays `view!`.
const FORM: &str = concat!(
    r#"<h2>Request / response</h2><form class="row" novalidate>"#,
    r#"<label class="grow">Request topic<input id="rr-topic" type="text" spellcheck="false" placeholder="devices/d1/get"></label>"#,
    r#"<label>Request QoS<select id="rr-qos"><option value="0">0</option><option value="1" selected>1</option>"#,
    r#"<option value="2">2</option></select></label>"#,
    r#"<label class="grow">Reply topic<input id="rr-reply" type="text" spellcheck="false"></label>"#,
    r#"<label class="grow">Request correlation data<input id="rr-corr" type="text" spellcheck="false" placeholder="generated"></label>"#,
    r#"<label>Reply timeout (s)<input id="rr-timeout" type="number" class="narrow" spellcheck="false" value="30"></label>"#,
    r#"<label class="grow wide">Request payload<textarea id="rr-payload" rows="2" spellcheck="false"></textarea></label>"#,
    r#"<div class="buttons"><button type="submit" id="rr-send" disabled>Send request</button>"#,
    r#"<button type="button" class="small" id="rr-clear">Clear requests</button></div></form>"#,
    r#"<p class="hint" role="alert" id="rr-outcome"></p><p class="hint" id="rr-unmatched"></p>"#,
);

/// A control's value, by id.
fn value(id: &str) -> String {
    dom::by_id(id)
        .map(|e| dom::value_of(&e))
        .unwrap_or_default()
}

/// The request/response helper. Its form is a static card
/// (docs/architecture.md, "Static cards"): the values are read from the
/// controls when Send is pressed; only the request topic is a signal (Send
/// needs one).
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn RequestResponse() -> impl IntoView {
    let s = use_app();
    let topic = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<String>);
    let default_reply = move || format!("mqdash/responses/{}", s.form.client_id.get());
    let send = move || {
        let reply = Some(value("rr-reply"))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| untrack(default_reply));
        let qos = match parse_qos(&value("rr-qos")) {
            Ok(q) => q,
            Err(e) => {
                outcome.set(Some(e));
                return;
            }
        };
        let secs = value("rr-timeout");
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
        let typed = value("rr-corr");
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
            &value("rr-payload"),
            qos,
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
    effect(move || {
        let n = s.requests.with(|r| r.unmatched());
        set_text(
            "rr-unmatched",
            &format!(
                "{n} {} on a reply topic matched no request",
                if n == 1 { "reply" } else { "replies" }
            ),
        );
    });
    effect(move || {
        let p = default_reply();
        if let Some(e) = dom::by_id("rr-reply") {
            let _ = e.set_attribute("placeholder", &p);
        }
    });
    effect(move || set_text("rr-outcome", &outcome.get().unwrap_or_default()));
    effect(move || {
        let off = !s.status.get().is_connected() || topic.with(String::is_empty);
        set_flag("rr-send", "disabled", off);
    });
    let on_input = move |ev: leptos::ev::Event| {
        if let Some(e) = dom::target(&ev).filter(|e| e.id() == "rr-topic") {
            topic.set(dom::value_of(&e));
        }
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if dom::button_id(&ev) == "rr-clear" {
            s.requests.update(|r| r.clear());
        }
    };
    view! {
        <section class="reqres" aria-label="Request / response" on:input=handler(on_input) on:click=handler(on_click)
            on:submit=handler(move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); })>
            <div inner_html=FORM></div>
            <ol class="req-log" aria-label="Requests">{move || list()}</ol>
        </section>
    }
}
