//! The "Record and replay" card: record what the page takes (bounded, kept
//! in the browser), export the recording or the selected topics' kept
//! history as NDJSON or CSV, import an NDJSON file and replay it, re-publish
//! the recording; and the banner that marks replayed messages on screen.
//! Everything it does goes through `crate::keep`; this file only reads the
//! fields and renders `KeepState`.
//!
//! File names, topics and error sentences are text nodes, never HTML.

use leptos::prelude::*;
use model::decimal::Shortest;
use wasm_bindgen::JsCast;

use crate::components::erased::handler;
use crate::components::publish_form::text_field;
use crate::keep;
use crate::state::use_app;

/// MB with one decimal ("2.1 MB").
fn mb(bytes: f64) -> String {
    format!("{} MB", Shortest((bytes / 1e5).round() / 10.0))
}

/// The Keep card.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn KeepCard() -> impl IntoView {
    let s = use_app();
    let k = s.keep;
    let bound = RwSignal::new("50".to_string());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let source = RwSignal::new("recording".to_string());
    let fields = RwSignal::new(false);
    let pace = RwSignal::new("original".to_string());
    let recording_on = move || k.recording.get().is_some_and(|r| r.on);
    let status = move || match k.recording.get() {
        Some(r) if r.on || r.count > 0.0 => {
            let mut t = format!(
                "{}: {} messages, {} of {}",
                if r.on {
                    "Recording"
                } else {
                    "Recorded (stopped)"
                },
                Shortest(r.count),
                mb(r.bytes),
                mb(r.bound)
            );
            if r.dropped > 0.0 {
                t.push_str(&format!(
                    "; {} oldest dropped by the limit",
                    Shortest(r.dropped)
                ));
            }
            t.push('.');
            t
        }
        _ => "Not recording.".to_string(),
    };
    let toggle = move || {
        if recording_on() {
            keep::stop_recording(s);
            return;
        }
        match bound.get_untracked().trim().parse::<f64>() {
            Ok(mb) if mb.is_finite() && mb >= 1.0 => keep::start_recording(s, mb),
            _ => k.outcome.set(Some(format!(
                "Recording limit (MB) must be a number of at least 1, not {:?}",
                bound.get_untracked()
            ))),
        }
    };
    let export = move |csv: bool| {
        let node = (source.get_untracked() == "selected").then(|| s.view.selected.get_untracked());
        keep::export(s, node, csv, fields.get_untracked());
    };
    let on_import = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            keep::import(s, file, &pace.get_untracked());
        }
        // Picking the same file again must fire `change` again.
        input.set_value("");
    };
    let busy = move || k.task.get().is_some();
    let task = move || {
        k.task.get().map(|t| {
            let n = if t.total > 0.0 {
                format!(": {} of {}", Shortest(t.done), Shortest(t.total))
            } else if t.done > 0.0 {
                format!(": {}", Shortest(t.done))
            } else {
                String::new()
            };
            format!("{}{n}…", t.what)
        })
    };
    view! {
        <section class="keep" aria-label="Record and replay">
            <h2>"Record and replay"</h2>
            <p class="hint" aria-live="polite">{move || status()}</p>
            <div class="row">
                {text_field("Recording limit (MB)", "", "number", "50", bound)}
                <button type="button" on:click=handler(move |_| toggle())>
                    {move || if recording_on() { "Stop recording" } else { "Record" }}
                </button>
                <button type="button" class="small" disabled=move || k.recording.get().is_none_or(|r| r.count == 0.0 && !r.on)
                    on:click=handler(move |_| keep::clear_recording(s))>"Delete recording"</button>
            </div>
            <div class="row">
                <label>"Export from"
                    <select prop:value=move || source.get() on:change=handler(move |ev| source.set(event_target_value(&ev)))>
                        <option value="recording">"the recording"</option>
                        <option value="selected">"kept history of the selected topics"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" bind:checked=fields />"CSV: a column per numeric JSON field"</label>
                <button type="button" disabled=move || busy() on:click=handler(move |_| export(false))>"Export NDJSON"</button>
                <button type="button" disabled=move || busy() on:click=handler(move |_| export(true))>"Export CSV"</button>
            </div>
            <div class="row">
                <label>"Replay pace"
                    <select prop:value=move || pace.get() on:change=handler(move |ev| pace.set(event_target_value(&ev)))>
                        <option value="original">"original"</option>
                        <option value="fast">"10× faster"</option>
                        <option value="instant">"at once"</option>
                    </select>
                </label>
                <label class="file">"Import NDJSON file"
                    <input type="file" accept=".ndjson,.jsonl,.json,.txt,application/x-ndjson" disabled=move || busy() on:change=handler(on_import) />
                </label>
            </div>
            <div class="row">
                {text_field("Rewrite topic prefix from", "grow", "text", "site-a/", from)}
                {text_field("Rewrite topic prefix to", "grow", "text", "site-b/", to)}
                <button type="button" disabled=move || busy() || !s.status.get().is_connected()
                    on:click=handler(move |_| keep::republish(s, &from.get_untracked(), &to.get_untracked()))>"Re-publish recording"</button>
            </div>
            <p class="hint" aria-live="polite">
                {move || task()}
                <button type="button" class="small" hidden=move || !busy() on:click=handler(move |_| keep::cancel(s))>"Cancel"</button>
            </p>
            <p class="hint" role="alert">{move || k.outcome.get()}</p>
        </section>
    }
}

/// "Replay: shown messages include N replayed from x.ndjson": on screen
/// from the first import until dismissed.
#[component]
#[allow(clippy::redundant_closure)]
pub fn ReplayBanner() -> impl IntoView {
    let s = use_app();
    let text = move || {
        s.keep.replayed.get().map(|(file, n)| {
            format!(
                "Replay: shown messages include {} replayed from {file}, not received from a broker.",
                Shortest(n as f64)
            )
        })
    };
    view! {
        <p class="replay-banner" aria-live="polite" hidden=move || text().is_none()>
            {move || text()}
            <button type="button" class="small" on:click=handler(move |_| s.keep.replayed.set(None))>"Dismiss replay note"</button>
        </p>
    }
}
