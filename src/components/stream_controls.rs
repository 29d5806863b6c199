//! Control of the stream and of the selected subtree: pause and resume the
//! display (messages are still taken and counted, and the count of those
//! that arrived is shown), clear panels and counters, compact panels, a
//! chart of one field across the topics shown, and "Clear retained" for the
//! selected node after a confirmation listing what it will clear.

use leptos::prelude::*;
use model::decimal::Fixed;
use model::{PayloadFormat, TopicTree};
use mqtt_session::QoS;

use crate::actions;
use crate::components::erased::{flag, handler, memo, show, text};
use crate::state::use_app;

/// Topics listed by name in the confirmation; the rest are counted.
const LISTED: usize = 20;
/// Panels looked at for the series names a field chart offers.
const FIELDS_SCANNED: usize = 2_000;
/// Series names offered for a field chart.
const FIELDS_OFFERED: usize = 50;

/// A "Clear retained" run: what was asked and what failed at once.
#[derive(Clone, PartialEq)]
struct ClearJob {
    topics: Vec<String>,
    failed: Vec<(String, String)>,
}

/// The toolbar above the panels.
#[component]
pub fn StreamControls() -> impl IntoView {
    let s = use_app();
    let v = s.view;
    let confirm = RwSignal::new(None::<Vec<String>>);
    let job = RwSignal::new(None::<ClearJob>);
    let field = RwSignal::new(String::new());
    let paused_text = move || {
        v.paused_at.get().map(|at| {
            let now = s.model(|d| d.stats().messages);
            format!(
                "Display paused · {} messages arrived since",
                now.saturating_sub(at)
            )
        })
    };
    let toggle_pause = move |_| {
        if v.paused_at.get_untracked().is_some() {
            s.resume();
        } else {
            s.pause();
        }
    };
    let node_name = move || {
        let node = v.selected.get();
        if node == TopicTree::ROOT {
            "all topics".to_string()
        } else {
            s.live(|d| d.tree().path(node))
        }
    };
    let retained_here = move || {
        let node = v.selected.get();
        s.live(|d| d.tree().node(node).map_or(0, |n| n.retained_topics()))
    };
    let ask_clear = move |_| {
        let node = v.selected.get_untracked();
        let topics = s.model_untracked(|d| {
            d.tree()
                .retained_under(node)
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
        });
        confirm.set(Some(topics));
    };
    let do_clear = move |_| {
        let Some(topics) = confirm.get_untracked() else {
            return;
        };
        confirm.set(None);
        let mut failed = Vec::new();
        for t in &topics {
            // QoS 1: the broker acknowledges each clear.
            if let Err(e) = actions::publish(s, t, "", PayloadFormat::Text, QoS::AtLeastOnce, true)
            {
                failed.push((t.clone(), e));
            }
        }
        job.set(Some(ClearJob { topics, failed }));
    };
    // Cleared: the broker echoed the empty retained message back, so the
    // topic lost its retained mark in the tree.
    let job_text = move || {
        job.get().map(|j| {
            let still = s.live(|d| {
                j.topics
                    .iter()
                    .filter(|t| {
                        d.tree()
                            .find(t)
                            .and_then(|n| d.tree().node(n))
                            .is_some_and(|n| n.is_retained())
                    })
                    .count()
            });
            let failed = j.failed.len();
            let cleared = j.topics.len().saturating_sub(still);
            let mut text = format!("Retained messages cleared: {cleared} of {}", j.topics.len());
            if failed > 0 {
                let first = j
                    .failed
                    .first()
                    .map(|(t, e)| format!(" ({t}: {e})"))
                    .unwrap_or_default();
                text.push_str(&format!(" · failed: {failed}{first}"));
            }
            if still > failed {
                text.push_str(&format!(" · waiting for the broker on {}", still - failed));
            }
            text
        })
    };
    // Offered from the first panels under the node (a subtree of 100,000
    // topics must not be scanned each redraw); rebuilt when topics come or go.
    let structure = memo(move || s.live(|d| d.structure_generation()));
    let fields = memo(move || {
        structure.get();
        let node = v.selected.get();
        untrack(|| {
            s.live(|d| {
                let mut names: Vec<String> = Vec::new();
                for id in d.tree().panels_under(node).into_iter().take(FIELDS_SCANNED) {
                    let Some(p) = d.panel(id) else { continue };
                    for series in p.series().iter() {
                        if !names.iter().any(|n| n == series.name()) {
                            names.push(series.name().to_string());
                        }
                    }
                    if names.len() >= FIELDS_OFFERED {
                        break;
                    }
                }
                model::sort_strings(&mut names);
                names
            })
        })
    });
    let fields = move || fields.get();
    let chart_field = move |_| {
        let f = field.get_untracked();
        let f = if f.is_empty() {
            fields().into_iter().next().unwrap_or_default()
        } else {
            f
        };
        if !f.is_empty() {
            v.field_chart.set(Some((v.selected.get_untracked(), f)));
        }
    };
    // Counts go on while the display is paused: read through `model`.
    let stats = move || {
        let now = s.clock.get() as f64;
        s.model(|d| {
            let st = d.stats();
            let mut text = format!(
                "{} topics · {} messages · {} msg/s · {} dropped by caps",
                st.panels,
                st.messages,
                Fixed(d.rate(now), 0),
                st.dropped_by_caps()
            );
            if st.overlap_copies > 0 {
                text.push_str(&format!(" · {} overlap copies", st.overlap_copies));
            }
            if st.not_kept > 0 {
                text.push_str(&format!(" · {} not kept (too large)", st.not_kept));
            }
            text
        })
    };
    let not_kept = move || s.model(|d| d.last_not_kept().map(|n| n.describe()));
    view! {
        <p class="stats" aria-live="off">{text(stats)}</p>
        {show(move || not_kept().is_some(), move || view! {
            <p class="hint not-kept" aria-live="polite">{move || not_kept()}</p>
        }.into_any())}
        <div class="stream-controls row">
            <button type="button" on:click={handler(toggle_pause)} aria-pressed=text(move || v.paused_at.get().is_some().to_string())>
                {text(move || String::from(if v.paused_at.get().is_some() { "Resume display" } else { "Pause display" }))}
            </button>
            <button type="button" class="small" on:click={handler(move |_| s.change_model(|d| d.clear_panels()))}>"Clear panels"</button>
            <label class="check"><input type="checkbox" bind:checked=v.compact />"Compact panels"</label>
            <label>"Field to chart"
                <select on:change={handler(move |ev| field.set(event_target_value(&ev)))} prop:value=text(move || field.get())>
                    {move || fields().into_iter().map(|f| view! { <option value=f.clone()>{f.clone()}</option> }.into_any()).collect::<Vec<_>>()}
                </select>
            </label>
            <button type="button" class="small" on:click={handler(chart_field)} disabled=flag(move || fields().is_empty())>
                "Chart field across topics"
            </button>
            <button type="button" class="small" on:click={handler(ask_clear)} disabled=flag(move || retained_here() == 0 || !s.status.get().is_connected())>
                {text(move || format!("Clear retained under {} ({})", node_name(), retained_here()))}
            </button>
        </div>
        {show(move || crate::lag::describe(s.behind_ms.get()).is_some(), move || view! {
            <p class="behind" aria-live="polite">{move || crate::lag::describe(s.behind_ms.get())}</p>
        }.into_any())}
        {show(move || paused_text().is_some(), move || view! {
            <p class="paused" aria-live="polite">{move || paused_text()}</p>
        }.into_any())}
        {show(move || confirm.get().is_some(), move || view! {
            <div class="confirm" role="alertdialog" aria-label="Confirm clearing retained messages">
                <p>{move || confirm.get().map(|t| format!("Clear {} retained messages under {}?", t.len(), node_name()))}</p>
                <ul class="confirm-list">
                    {move || confirm.get().unwrap_or_default().into_iter().take(LISTED).map(|t| view! { <li><code>{t}</code></li> }.into_any()).collect::<Vec<_>>()}
                </ul>
                <p class="hint">{move || confirm.get().map(|t| t.len().saturating_sub(LISTED)).filter(|n| *n > 0).map(|n| format!("and {n} more"))}</p>
                <div class="buttons">
                    <button type="button" on:click={handler(do_clear)}>"Clear them"</button>
                    <button type="button" class="small" on:click={handler(move |_| confirm.set(None))}>"Cancel"</button>
                </div>
            </div>
        }.into_any())}
        {show(move || job.get().is_some(), move || view! {
            <p class="clear-result" aria-live="polite">{move || job_text()}</p>
        }.into_any())}
    }
}
