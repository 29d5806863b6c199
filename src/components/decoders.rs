//! The "Decoders" card, as static markup: the rule list (filter → decoder),
//! the form that adds a rule, Protobuf schema files, and what the Sparkplug B
//! decoder knows of edge nodes and devices. `crate::decoders` owns the state
//! and writes every dynamic part (rules, schema names, node states, errors)
//! with `textContent`, never as HTML; one delegated click and one change
//! handler serve every control.
//!
//! Why static markup: see docs/architecture.md, "Static cards" (the page's
//! first load has no room for a `view!` per control).

use leptos::prelude::*;

use crate::components::erased::handler;
use crate::decoders;
use crate::state::use_app;

/// The card's controls; ids are `dec-*`, read and written by `crate::decoders`.
const CARD: &str = concat!(
    r#"<h2>Decoders</h2>"#,
    r#"<p class="hint">Payloads on topics matching a filter are read by its decoder (the first matching rule wins) and then shown, diffed, charted and exported like JSON. OneNet <code>$dp</code> frames are read without a rule.</p>"#,
    r#"<ul id="dec-rules" class="rules" aria-label="Decoder rules"></ul>"#,
    r#"<div class="row">"#,
    r#"<label class="grow">Decoder rule filter<input id="dec-filter" type="text" spellcheck="false" placeholder="factory/+/telemetry"></label>"#,
    r#"<label>Read as<select id="dec-kind"><option value="sparkplug">Sparkplug B</option>"#,
    r#"<option value="protobuf">Protobuf</option><option value="cbor">CBOR</option>"#,
    r#"<option value="msgpack">MessagePack</option></select></label>"#,
    r#"<label class="grow">Protobuf message type<input id="dec-type" type="text" spellcheck="false" list="dec-types" placeholder="empty: raw wire format"></label>"#,
    r#"<datalist id="dec-types"></datalist>"#,
    r#"<button type="button" id="dec-add">Add decoder rule</button>"#,
    r#"</div><div class="row">"#,
    r#"<label class="file">Load Protobuf schema (.proto files or a descriptor set)<input type="file" id="dec-schema" multiple accept=".proto,.desc,.pb,.binpb,.protoset"></label>"#,
    r#"<button type="button" class="small" id="dec-schema-clear" disabled>Forget schemas</button>"#,
    r#"</div>"#,
    r#"<p class="hint" id="dec-schemas" aria-live="polite">No Protobuf schema loaded.</p>"#,
    r#"<p class="hint" id="dec-state" aria-live="polite"></p>"#,
    r#"<p class="hint" role="alert" id="dec-outcome"></p>"#,
    r#"<h3>Sparkplug B nodes</h3>"#,
    r#"<ul id="dec-nodes" class="nodes" aria-label="Sparkplug B nodes"><li>None seen yet.</li></ul>"#,
);

/// The Decoders card.
#[component]
pub fn DecodersCard() -> impl IntoView {
    // Draw the rule list once the markup is in the document.
    request_animation_frame(decoders::render);
    let s = use_app();
    view! {
        <section class="decoders" aria-label="Decoders" inner_html=CARD
            on:click=handler(move |ev: leptos::ev::MouseEvent| decoders::on_click(s, &ev))
            on:change=handler(move |ev: leptos::ev::Event| decoders::on_change(&ev))>
        </section>
    }
}
