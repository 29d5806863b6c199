//! One topic's panel: last payload (text, JSON, `$dp`, or hex), flags, count,
//! rate, history with what the caps dropped, and a chart when it carries numbers.
//!
//! Everything is rendered as text nodes: a payload or topic is never HTML.

use leptos::prelude::*;
use model::{render_payload, PanelId, PayloadView};

use crate::components::chart::Chart;
use crate::state::use_app;

/// Bytes of a payload shown before "Show all".
pub const PREVIEW_BYTES: usize = 2_048;
/// History rows shown when the history is open.
pub const HISTORY_ROWS: usize = 20;

#[derive(Clone, PartialEq)]
struct Summary {
    topic: String,
    kind: String,
    /// Shown as a hex dump (kept unwrapped so its columns line up).
    hex: bool,
    body: String,
    truncated_from: Option<usize>,
    size: usize,
    received: String,
    qos: u8,
    retain: bool,
    dup: bool,
    count: u64,
    history_len: usize,
    dropped: u64,
    has_series: bool,
    overlap_copies: u64,
}

fn clock_text(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds()
    )
}

/// A topic panel (`role="region"` named by its topic).
#[component]
pub fn TopicPanel(
    /// Which panel.
    id: PanelId,
) -> impl IntoView {
    let s = use_app();
    let show_all = RwSignal::new(false);
    let show_history = RwSignal::new(false);
    // The panel's own generation moves only when this panel changed: the
    // reads below follow it (untracked inside), so a busy neighbour does not
    // re-render this panel.
    let generation = Memo::new(move |_| s.with_panel(id, |p| p.generation()));
    let summary = Memo::new(move |_| {
        generation.get();
        let limit = if show_all.get() {
            usize::MAX
        } else {
            PREVIEW_BYTES
        };
        untrack(|| {
            s.with_panel(id, |p| {
                let last = p.last();
                let view = p.last_view(limit);
                Summary {
                    topic: p.topic().to_string(),
                    kind: view.as_ref().map(|v| v.kind_label()).unwrap_or_default(),
                    hex: matches!(view, Some(PayloadView::Binary { .. })),
                    body: view
                        .as_ref()
                        .map(|v| v.body().to_string())
                        .unwrap_or_default(),
                    truncated_from: view.as_ref().and_then(|v| v.truncated_from()),
                    size: last.map_or(0, |l| l.payload.len()),
                    received: p.last_received_ms().map(clock_text).unwrap_or_default(),
                    qos: last.map_or(0, |l| l.qos),
                    retain: last.is_some_and(|l| l.retain),
                    dup: last.is_some_and(|l| l.dup),
                    count: p.count(),
                    history_len: p.history().len(),
                    dropped: p.dropped(),
                    has_series: !p.series().is_empty(),
                    overlap_copies: p.overlap_copies(),
                }
            })
        })
    });
    let get = move || summary.get();
    let topic = move || get().map(|x| x.topic).unwrap_or_default();
    let rate = move || {
        let now = s.clock.get() as f64;
        generation.get();
        untrack(|| s.with_panel(id, |p| format!("{:.1} msg/s", p.rate(now))))
    };
    let history = move || {
        if !show_history.get() {
            return Vec::new();
        }
        generation.get();
        untrack(|| {
            s.with_panel(id, |p| {
                // `History::iter` is newest first: the rows are the newest few.
                p.history()
                    .iter()
                    .take(HISTORY_ROWS)
                    .map(|e| {
                        let v = render_payload(&e.payload, 200);
                        let flags = format!(
                            "QoS {}{}{}",
                            e.qos,
                            if e.retain { " retained" } else { "" },
                            if e.dup { " dup" } else { "" }
                        );
                        (clock_text(e.received_ms), flags, v.body().to_string())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .unwrap_or_default()
    };
    view! {
        <article class="panel" role="region" aria-label=topic>
            <header>
                <h3 class="topic">{topic}</h3>
                <span class="flags">
                    <span class="flag">{move || get().map(|x| format!("QoS {}", x.qos))}</span>
                    <Show when=move || get().is_some_and(|x| x.retain)><span class="flag retain">"retained"</span></Show>
                    <Show when=move || get().is_some_and(|x| x.dup)><span class="flag dup">"dup"</span></Show>
                </span>
            </header>
            <p class="meta">
                <span class="kind">{move || get().map(|x| x.kind)}</span>
                " · "<span class="size">{move || get().map(|x| format!("{} bytes", x.size))}</span>
                " · "<span class="count">{move || get().map(|x| format!("{} msgs", x.count))}</span>
                " · "<span class="rate">{rate}</span>
                " · "<time>{move || get().map(|x| x.received)}</time>
                <Show when=move || get().is_some_and(|x| x.overlap_copies > 0)>
                    " · "<span class="overlap" title="copies the broker sent once per matching subscription; not counted again">
                        {move || get().map(|x| format!("{} overlap copies", x.overlap_copies))}
                    </span>
                </Show>
            </p>
            <pre class="payload" class:hex=move || get().is_some_and(|x| x.hex)>{move || get().map(|x| x.body)}</pre>
            <Show when=move || get().and_then(|x| x.truncated_from).is_some() || show_all.get()>
                <p class="hint">
                    {move || get().and_then(|x| x.truncated_from).map(|n| format!("showing part of {n} bytes "))}
                    <button type="button" class="small" on:click=move |_| show_all.update(|v| *v = !*v)>
                        {move || if show_all.get() { "Show less" } else { "Show all" }}
                    </button>
                </p>
            </Show>
            <Show when=move || get().is_some_and(|x| x.has_series)>
                <Chart id=id topic=Signal::derive(topic) />
            </Show>
            <div class="history">
                <button type="button" class="small" on:click=move |_| show_history.update(|v| *v = !*v)
                    aria-expanded=move || show_history.get().to_string()>
                    {move || get().map(|x| format!("History ({} kept, {} dropped by caps)", x.history_len, x.dropped))}
                </button>
                <Show when=move || show_history.get() && get().is_some_and(|x| x.history_len > HISTORY_ROWS)>
                    <p class="hint">{format!("newest {HISTORY_ROWS} shown")}</p>
                </Show>
                <ol class="history-list">
                    {move || history().into_iter().map(|(t, flags, body)| view! {
                        <li><time>{t}</time>" "<span class="flag">{flags}</span><pre>{body}</pre></li>
                    }).collect_view()}
                </ol>
            </div>
        </article>
    }
}
