//! Subscriptions: add a filter with a QoS (validated as you type), and the list
//! with granted QoS or refusal, colour, message count and a remove button.

use leptos::prelude::*;
use model::{Grant, SubId};

use crate::actions;
use crate::state::use_app;

/// The subscribe form and the list of subscriptions.
#[component]
pub fn Subscriptions() -> impl IntoView {
    let s = use_app();
    let filter = RwSignal::new(String::new());
    let qos = RwSignal::new("0".to_string());
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
        let q = qos.get_untracked().parse().unwrap_or(0);
        match actions::subscribe(s, filter.get_untracked(), q) {
            Ok(()) => filter.set(String::new()),
            Err(e) => s.error.set(Some(e)),
        }
    };
    let ids = move || {
        s.tick.get();
        s.dash
            .with_value(|d| d.subscriptions().iter().map(|x| x.id()).collect::<Vec<_>>())
    };
    view! {
        <section class="subscriptions" aria-label="Subscriptions">
            <form on:submit=on_submit class="row">
                <label class="grow">"Topic filter"
                    <input type="text" bind:value=filter placeholder="sensors/+/temp or #" spellcheck="false"
                        aria-invalid=move || problem().is_some().to_string() />
                </label>
                <label>"QoS"
                    <select prop:value=move || qos.get() on:change=move |ev| qos.set(event_target_value(&ev))>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                <button type="submit" disabled=move || problem().is_some() || filter.get().is_empty()>"Subscribe"</button>
            </form>
            <p class="hint" role="alert">{problem}</p>
            <ul class="sub-list">
                <For each=ids key=|id| *id let:id>
                    <SubscriptionRow id=id />
                </For>
            </ul>
        </section>
    }
}

/// One subscription in the list.
#[component]
fn SubscriptionRow(
    /// Which subscription.
    id: SubId,
) -> impl IntoView {
    let s = use_app();
    let read = move || {
        s.tick.get();
        s.dash.with_value(|d| {
            d.subscription(id).map(|x| {
                (
                    x.filter().to_string(),
                    x.qos(),
                    x.grant(),
                    x.grant_label(),
                    x.colour(),
                    x.message_count(),
                )
            })
        })
    };
    let data = Memo::new(move |_| read());
    let filter = move || data.get().map(|d| d.0).unwrap_or_default();
    view! {
        <li class="sub">
            <span class="swatch" style:background-color=move || data.get().map(|d| d.4).unwrap_or("#888")></span>
            <code class="filter">{filter}</code>
            <span class="qos">{move || data.get().map(|d| format!("QoS {}", d.1))}</span>
            <span class=move || match data.get().map(|d| d.2) {
                Some(Grant::Refused) => "grant refused",
                _ => "grant",
            }>{move || data.get().map(|d| d.3)}</span>
            <span class="count">{move || data.get().map(|d| format!("{} msgs", d.5))}</span>
            <button type="button" class="small" aria-label=move || format!("Remove {}", filter())
                on:click=move |_| actions::unsubscribe(s, filter())>"Remove"</button>
        </li>
    }
}
