//! The publish form: topic (no wildcards), payload, format (text, JSON, hex,
//! OneNet `$dp` type 1 and 3), QoS, retain; "Clear retained"; and the log of
//! each publish's state until it completes.

use leptos::prelude::*;
use model::PayloadFormat;

use crate::actions;
use crate::state::use_app;

/// The publish form and its log.
#[component]
pub fn PublishForm() -> impl IntoView {
    let s = use_app();
    let topic = RwSignal::new(String::new());
    let payload = RwSignal::new(String::new());
    let format = RwSignal::new(PayloadFormat::Text.key().to_string());
    let qos = RwSignal::new("0".to_string());
    let retain = RwSignal::new(false);
    let outcome = RwSignal::new(None::<String>);
    let topic_problem = move || {
        let t = topic.get();
        (!t.is_empty())
            .then(|| model::validate_topic(&t).err().map(|e| e.to_string()))
            .flatten()
    };
    let send = move |clear: bool| {
        let fmt = PayloadFormat::from_key(&format.get_untracked()).unwrap_or_default();
        let q = qos.get_untracked().parse().unwrap_or(0);
        let (text, fmt, keep) = if clear {
            (String::new(), PayloadFormat::Text, true)
        } else {
            (payload.get_untracked(), fmt, retain.get_untracked())
        };
        let r = actions::publish(s, &topic.get_untracked(), &text, fmt, q, keep);
        outcome.set(r.err());
    };
    view! {
        <section class="publish" aria-label="Publish">
            <form class="row" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(false); }>
                <label class="grow">"Topic"
                    <input type="text" bind:value=topic spellcheck="false" placeholder="devices/dash/cmd"
                        aria-invalid=move || topic_problem().is_some().to_string() />
                </label>
                <label>"Payload format"
                    <select prop:value=move || format.get() on:change=move |ev| format.set(event_target_value(&ev))>
                        {PayloadFormat::ALL.iter().map(|f| view! { <option value=f.key()>{f.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"QoS"
                    <select prop:value=move || qos.get() on:change=move |ev| qos.set(event_target_value(&ev))>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" bind:checked=retain /> "Retain"</label>
                <label class="grow wide">"Payload"
                    <textarea rows="3" bind:value=payload spellcheck="false"></textarea>
                </label>
                <div class="buttons">
                    <button type="submit" disabled=move || topic.get().is_empty() || topic_problem().is_some()>"Publish"</button>
                    <button type="button" disabled=move || topic.get().is_empty() || topic_problem().is_some()
                        on:click=move |_| send(true)>"Clear retained"</button>
                </div>
            </form>
            <p class="hint" role="alert">{move || topic_problem().or_else(|| outcome.get())}</p>
            <ol class="publish-log" aria-label="Publish log">
                {move || s.publishes.get().records().take(10).map(|r| {
                    let line = format!("#{} {} · QoS {}{} · {} bytes · ", r.id, r.topic, r.qos,
                        if r.retain { " retained" } else { "" }, r.size);
                    view! { <li>{line}<span class="pub-state">{r.describe()}</span></li> }
                }).collect_view()}
            </ol>
        </section>
    }
}
