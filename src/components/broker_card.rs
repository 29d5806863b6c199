//! The broker card: what the broker publishes under `$SYS/#` (clients,
//! message rates, dropped messages, uptime, version), shown when that
//! filter is subscribed and something arrived. Read from the panels of the
//! `$SYS` topics; nothing is kept twice. Static markup; the rows are
//! written as text (`components::dom::fill_pairs`).

use leptos::prelude::*;

use crate::components::dom::{fill_pairs, set_flag};
use crate::components::erased::effect;
use crate::state::use_app;

/// The card's fixed part; the rows are written by `dom::fill_pairs`, as text.
const CARD: &str = r#"<h2>Broker</h2><dl id="broker-stats"></dl>"#;

/// The broker statistics card: a static card (docs/architecture.md,
/// "Static cards"), hidden while there is nothing to show. Why: with
/// "Broker granted" done the same way, 0.9 KB less gzipped wasm (measured).
#[component]
pub fn BrokerCard() -> impl IntoView {
    let s = use_app();
    let rows = move || {
        s.live(|d| {
            let mut stats = model::BrokerStats::default();
            for id in d
                .tree()
                .find("$SYS")
                .map(|n| d.tree().panels_under(n))
                .unwrap_or_default()
            {
                if let Some(p) = d.panel(id) {
                    if let Some(last) = p.last() {
                        stats.record(p.topic(), &last.payload);
                    }
                }
            }
            stats
                .rows()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Vec<_>>()
        })
    };
    // The rows last drawn: the card is redrawn only when they change.
    let mut shown: Option<Vec<(String, String)>> = None;
    effect(move || {
        let rows = rows();
        if shown.as_ref() != Some(&rows) {
            set_flag("broker-card", "hidden", rows.is_empty());
            fill_pairs("broker-stats", &rows);
            shown = Some(rows);
        }
    });
    view! { <section class="broker-card" id="broker-card" aria-label="Broker statistics" hidden inner_html=CARD></section> }
}
