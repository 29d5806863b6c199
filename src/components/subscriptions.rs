//! Subscriptions: add a filter with a QoS (validated as you type), and the list
//! with what the broker granted (or refused, or "not connected"), colour,
//! messages matched and a remove button.
//!
//! The list shown is the model's mirror of the supervisor's list; adding and
//! removing are calls on the supervisor.

use leptos::prelude::*;
use model::{Grant, SubId};
use mqtt_session::QoS;

use crate::actions;
use crate::client::settings::parse_qos;
use crate::components::erased::{keyed, Keyed};
use crate::state::use_app;

/// The subscribe form and the list of subscriptions.
#[component]
pub fn Subscriptions() -> impl IntoView {
    let s = use_app();
    let filter = RwSignal::new(String::new());
    let qos = RwSignal::new(QoS::AtMostOnce);
    let problem = move || {
        let f = filter.get();
        if f.is_empty() {
            None
        } else {
            model::validate_filter(&f).err().map(|e| e.to_string())
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match actions::subscribe(s, filter.get_untracked(), qos.get_untracked()) {
            Ok(()) => filter.set(String::new()),
            Err(e) => s.error.set(Some(e)),
        }
    };
    let on_qos = move |ev| match parse_qos(&event_target_value(&ev)) {
        Ok(q) => qos.set(q),
        Err(e) => s.error.set(Some(e)),
    };
    let ids = move || s.model(|d| d.subscriptions().iter().map(|x| x.id()).collect::<Vec<_>>());
    view! {
        <section class="subscriptions" aria-label="Subscriptions">
            <form on:submit=on_submit class="row">
                <label class="grow">"Topic filter"
                    <input type="text" bind:value=filter placeholder="sensors/+/temp or #" spellcheck="false"
                        aria-invalid=move || problem().is_some().to_string() />
                </label>
                <label>"Subscription QoS"
                    <select prop:value=move || qos.get().as_u8().to_string() on:change=on_qos>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                <button type="submit" disabled=move || problem().is_some() || filter.get().is_empty()>"Subscribe"</button>
            </form>
            <p class="hint" role="alert">{move || problem()}</p>
            <ul class="sub-list" aria-label="Subscription list">
                {keyed(move || {
                    ids()
                        .into_iter()
                        .map(|id| Keyed::new(id.get().to_string(), move || view! { <SubscriptionRow id=id /> }.into_any()))
                        .collect()
                })}
            </ul>
        </section>
    }
}

/// One subscription in the list.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
fn SubscriptionRow(
    /// Which subscription.
    id: SubId,
) -> impl IntoView {
    let s = use_app();
    let data = Memo::new(move |_| {
        s.model(|d| {
            d.subscription(id).map(|x| {
                (
                    x.filter().to_string(),
                    x.qos(),
                    x.grant(),
                    x.grant_label(),
                    x.colour(),
                    x.matched_count(),
                )
            })
        })
    });
    let filter = move || data.get().map(|d| d.0).unwrap_or_default();
    let grant_class = move || match data.get().map(|d| (d.1, d.2)) {
        Some((_, Grant::Refused)) => "grant refused",
        Some((asked, Grant::Granted(q))) if q < asked => "grant downgraded",
        Some((_, Grant::Granted(_))) => "grant granted",
        _ => "grant",
    };
    view! {
        <li class="sub">
            <span class="swatch" style:background-color=move || data.get().map(|d| d.4).unwrap_or("#888")></span>
            <code class="filter">{move || filter()}</code>
            <span class="qos">{move || data.get().map(|d| format!("QoS {}", d.1))}</span>
            <span class=move || grant_class()>{move || data.get().map(|d| d.3)}</span>
            <span class="count">{move || data.get().map(|d| format!("{} msgs", d.5))}</span>
            <button type="button" class="small" aria-label=move || format!("Remove {}", filter())
                on:click=move |_| actions::unsubscribe(s, &filter())>"Remove"</button>
        </li>
    }
}
