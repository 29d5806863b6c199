//! The broker card: what the broker publishes under `$SYS/#` (clients,
//! message rates, dropped messages, uptime, version), shown when that
//! filter is subscribed and something arrived. Read from the panels of the
//! `$SYS` topics; nothing is kept twice.

use leptos::prelude::*;

use crate::components::erased::show;
use crate::state::use_app;

/// The broker statistics card.
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
    view! {
        {show(move || !rows().is_empty(), move || view! {
            <section class="broker-card" aria-label="Broker statistics">
                <h2>"Broker"</h2>
                <dl>
                    {move || rows().into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }.into_any()).collect::<Vec<_>>()}
                </dl>
            </section>
        }.into_any())}
    }
}
