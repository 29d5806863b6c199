//! The "Record and replay" card and the replay banner, as static markup:
//! the card's controls never change shape, only their text and their
//! disabled/hidden flags, which `crate::keep::render` writes. One delegated
//! click and one change handler serve every control.
//!
//! Why not `view!` for each control: the card was 20 KB of the page's
//! gzipped wasm that way, against a first-load budget with no room (see
//! docs/architecture.md, "Static cards"). The markup here is compile-time
//! constant text with no user data in it; everything dynamic (file names,
//! topics, error sentences) is written with `textContent`, never as HTML.

use leptos::prelude::*;

use crate::components::erased::{effect, handler};
use crate::keep;
use crate::state::use_app;

/// The card's controls; ids are `keep-*`, read and written by `crate::keep`.
const CARD: &str = concat!(
    r#"<h2>Record and replay</h2>"#,
    r#"<p class="hint" id="keep-rec" aria-live="polite">Not recording.</p>"#,
    r#"<div class="row">"#,
    r#"<label>Recording limit (MB)<input id="keep-bound" type="number" class="narrow" min="1" value="50"></label>"#,
    r#"<button type="button" id="keep-record">Record</button>"#,
    r#"<button type="button" class="small" id="keep-clear" disabled>Delete recording</button>"#,
    r#"</div><div class="row">"#,
    r#"<label>Export from<select id="keep-source"><option value="recording">the recording</option>"#,
    r#"<option value="selected">kept history of the selected topics</option></select></label>"#,
    r#"<label class="check"><input type="checkbox" id="keep-fields">CSV: a column per numeric JSON field</label>"#,
    r#"<button type="button" id="keep-ndjson">Export NDJSON</button>"#,
    r#"<button type="button" id="keep-csv">Export CSV</button>"#,
    r#"</div><div class="row">"#,
    r#"<label>Replay pace<select id="keep-pace"><option value="original">original</option>"#,
    r#"<option value="fast">10× faster</option><option value="instant">at once</option></select></label>"#,
    r#"<label class="file">Import NDJSON file<input type="file" id="keep-file" accept=".ndjson,.jsonl,.json,.txt,application/x-ndjson"></label>"#,
    r#"</div><div class="row">"#,
    r#"<label class="grow">Rewrite topic prefix from<input id="keep-from" type="text" spellcheck="false" placeholder="site-a/"></label>"#,
    r#"<label class="grow">Rewrite topic prefix to<input id="keep-to" type="text" spellcheck="false" placeholder="site-b/"></label>"#,
    r#"<button type="button" id="keep-republish" disabled>Re-publish recording</button>"#,
    r#"</div>"#,
    r#"<p class="hint" aria-live="polite"><span id="keep-task"></span> "#,
    r#"<button type="button" class="small" id="keep-cancel" hidden>Cancel</button></p>"#,
    r#"<p class="hint" role="alert" id="keep-outcome"></p>"#,
);

/// The banner's content; `keep-replay-text` is written by `crate::keep`.
const BANNER: &str = concat!(
    r#"<span id="keep-replay-text"></span> "#,
    r#"<button type="button" class="small">Dismiss replay note</button>"#,
);

/// The Keep card.
#[component]
pub fn KeepCard() -> impl IntoView {
    let s = use_app();
    // Re-publishing needs a connection; the rest of the flags are the
    // keep module's own state.
    effect(move || keep::set_connected(s.status.get().is_connected()));
    view! {
        <section class="keep" aria-label="Record and replay" inner_html=CARD
            on:click=handler(move |ev: leptos::ev::MouseEvent| keep::on_click(s, &ev))
            on:change=handler(move |ev: leptos::ev::Event| keep::on_change(&ev))>
        </section>
    }
}

/// "Replay: shown messages include N replayed from x.ndjson, not received
/// from a broker": on screen from the first import until dismissed.
#[component]
pub fn ReplayBanner() -> impl IntoView {
    view! {
        <p class="replay-banner" id="keep-replay" aria-live="polite" hidden inner_html=BANNER
            on:click=handler(move |ev: leptos::ev::MouseEvent| keep::on_banner_click(&ev))>
        </p>
    }
}
