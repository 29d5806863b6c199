//! The publish form: topic (no wildcards), payload, format (text, JSON, hex,
//! OneNet `$dp` type 1 and 3), QoS, retain; "Clear retained"; and the log of
//! each publish's state until it completes.

use leptos::prelude::*;
use model::PayloadFormat;

use crate::actions;
use crate::client::settings::parse_qos;
use crate::components::erased::show;
use crate::state::use_app;

/// The publish form and its log.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn PublishForm() -> impl IntoView {
    let s = use_app();
    let (topic, payload, format, qos, retain) = (
        s.draft.topic,
        s.draft.payload,
        s.draft.format,
        s.draft.qos,
        s.draft.retain,
    );
    let outcome = RwSignal::new(None::<String>);
    let topic_problem = move || {
        let t = topic.get();
        (!t.is_empty())
            .then(|| model::validate_topic_name(&t).err().map(|e| e.to_string()))
            .flatten()
    };
    // "Clear retained" sends an empty retained message with the chosen QoS.
    let send = move |clear: bool| {
        let q = qos.get_untracked();
        let (text, fmt, keep) = if clear {
            (String::new(), PayloadFormat::Text, true)
        } else {
            (
                payload.get_untracked(),
                format.get_untracked(),
                retain.get_untracked(),
            )
        };
        let r = actions::publish(s, &topic.get_untracked(), &text, fmt, q, keep);
        outcome.set(r.err());
    };
    let on_format = move |ev| match PayloadFormat::from_key(&event_target_value(&ev)) {
        Some(f) => format.set(f),
        None => outcome.set(Some(format!(
            "unknown payload format {:?}",
            event_target_value(&ev)
        ))),
    };
    let on_qos = move |ev| match parse_qos(&event_target_value(&ev)) {
        Ok(q) => qos.set(q),
        Err(e) => outcome.set(Some(e)),
    };
    let connected = move || s.status.get().is_connected();
    let cannot_send = move || !connected() || topic.get().is_empty() || topic_problem().is_some();
    view! {
        <section class="publish" aria-label="Publish">
            <form class="row" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(false); }>
                <label class="grow">"Topic"
                    <input type="text" bind:value=topic spellcheck="false" placeholder="devices/dash/cmd"
                        aria-invalid=move || topic_problem().is_some().to_string() />
                </label>
                <label>"Payload format"
                    <select prop:value=move || format.get().key() on:change=on_format>
                        {PayloadFormat::ALL.iter().map(|f| view! { <option value=f.key()>{f.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Publish QoS"
                    <select prop:value=move || qos.get().as_u8().to_string() on:change=on_qos>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" bind:checked=retain /> "Retain"</label>
                <label class="grow wide">"Payload"
                    <textarea rows="3" bind:value=payload spellcheck="false"></textarea>
                </label>
                <div class="buttons">
                    <button type="submit" disabled=move || cannot_send()>"Publish"</button>
                    <button type="button" disabled=move || cannot_send() on:click=move |_| send(true)>"Clear retained"</button>
                </div>
            </form>
            <p class="hint" role="alert">{move || topic_problem().or_else(|| outcome.get())}</p>
            {show(move || !connected(), move || view! {
                <p class="hint">"Connect to publish."</p>
            }.into_any())}
            <ol class="publish-log" aria-label="Publish log">
                {move || s.publishes.get().records().take(10).map(|r| {
                    let line = format!("#{} {} · QoS {}{} · {} bytes · ", r.id, r.topic, r.qos,
                        if r.retain { " retained" } else { "" }, r.size);
                    view! { <li>{line}<span class="pub-state">{r.describe()}</span></li> }.into_any()
                }).collect::<Vec<_>>()}
            </ol>
        </section>
    }
}
