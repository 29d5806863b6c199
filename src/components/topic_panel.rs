//! One topic's panel: a fixed-height card with the last payload (text, JSON,
//! `$dp`, or hex; the start of it), flags, count, rate, a chart when it
//! carries numbers, and buttons to pin it and to open its detail (the whole
//! payload and the full history are there).
//!
//! With MQTT 5, the last message's properties are one compact line under
//! the flags (content type, payload format, expiry, response topic,
//! correlation data, `key = value` user properties, subscription
//! identifiers with the subscription they name).
//!
//! Everything is rendered as text nodes: a payload, topic or property is
//! never HTML.

use leptos::prelude::*;
use model::decimal::Fixed;
use model::{PanelId, PayloadView, PublishProperties};

use crate::components::chart::Chart;
use crate::components::erased::{flag, handler, memo, show, text};
use crate::state::{use_app, AppState};

/// Bytes of a payload shown in the card (the detail shows all of it).
pub const PREVIEW_BYTES: usize = 2_048;

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
    /// The last message's MQTT 5 properties in one line (empty: none).
    props: String,
}

/// The subscriptions a subscription identifier names, as text
/// (`sensors/#`), for [`model::property_lines`].
pub fn identifier_filters(s: AppState) -> impl Fn(u32) -> Option<String> {
    let details = s.client().peek(|sup| sup.subscription_details());
    move |id| {
        let filters = crate::client::supervisor::filters_for_identifier(&details, id);
        (!filters.is_empty()).then(|| filters.join(", "))
    }
}

/// A message's properties as lines of `name: value` text (none without).
pub fn property_lines(
    s: AppState,
    props: Option<&PublishProperties>,
    payload: &[u8],
) -> Vec<(&'static str, String)> {
    match props {
        None => Vec::new(),
        Some(p) if p.subscription_identifiers.is_empty() => {
            model::property_lines(p, payload, &|_| None)
        }
        Some(p) => model::property_lines(p, payload, &identifier_filters(s)),
    }
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
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn TopicPanel(
    /// Which panel.
    id: PanelId,
) -> impl IntoView {
    let s = use_app();
    // The panel's own generation moves only when this panel changed: the
    // reads below follow it (untracked inside), so a busy neighbour does not
    // re-render this panel.
    let generation = memo(move || s.with_panel(id, |p| p.generation()));
    let summary = memo(move || {
        generation.get();
        let limit = PREVIEW_BYTES;
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
                    props: last
                        .map(|l| {
                            model::compact_line(&property_lines(
                                s,
                                l.properties.as_deref(),
                                &l.payload,
                            ))
                        })
                        .unwrap_or_default(),
                }
            })
        })
    });
    let get = move || summary.get();
    let pinned = move || s.live(|d| d.is_pinned(id));
    let topic = move || get().map(|x| x.topic).unwrap_or_default();
    let rate = move || {
        let now = s.clock.get() as f64;
        generation.get();
        untrack(|| s.with_panel(id, |p| format!("{} msg/s", Fixed(p.rate(now), 1))))
    };
    view! {
        <article class="panel" role="region" aria-label=text(topic)>
            <header>
                <h3 class="topic">{text(topic)}</h3>
                <span class="flags">
                    <button type="button" class="small pin" aria-pressed=text(move || pinned().to_string())
                        aria-label=text(move || format!("Pin {}", topic())) on:click=handler(move |_| {
                            let on = !pinned();
                            s.change_model(|d| d.set_pinned(id, on));
                        })>{text(move || String::from(if pinned() { "Unpin" } else { "Pin" }))}</button>
                    <button type="button" class="small" aria-label=text(move || format!("Open {}", topic()))
                        on:click=handler(move |_| s.view.detail.set(Some(id)))>"Open"</button>
                    <span class="flag">{text(move || get().map(|x| format!("QoS {}", x.qos)).unwrap_or_default())}</span>
                    {show(move || get().is_some_and(|x| x.retain), move || view! {<span class="flag retain">"retained"</span>}.into_any())}
                    {show(move || get().is_some_and(|x| x.dup), move || view! {<span class="flag dup">"dup"</span>}.into_any())}
                </span>
            </header>
            <p class="meta">
                <span class="kind">{text(move || get().map(|x| x.kind).unwrap_or_default())}</span>
                " · "<span class="size">{text(move || get().map(|x| format!("{} bytes", x.size)).unwrap_or_default())}</span>
                " · "<span class="count">{text(move || get().map(|x| format!("{} msgs", x.count)).unwrap_or_default())}</span>
                " · "<span class="rate">{text(move || rate().unwrap_or_default())}</span>
                " · "<time>{text(move || get().map(|x| x.received).unwrap_or_default())}</time>
                {show(move || get().is_some_and(|x| x.overlap_copies > 0), move || view! {
                    " · "<span class="overlap" title="copies the broker sent once per matching subscription; not counted again">
                        {text(move || get().map(|x| format!("{} overlap copies", x.overlap_copies)).unwrap_or_default())}
                    </span>
                }.into_any())}
            </p>
            <p class="meta props">{text(move || get().map(|x| x.props).unwrap_or_default())}</p>
            <pre class="payload" class:hex=flag(move || get().is_some_and(|x| x.hex))>{text(move || get().map(|x| x.body).unwrap_or_default())}</pre>
            {show(move || get().is_some_and(|x| x.has_series) && !s.view.compact.get(), move || view! {
                <Chart id=id topic=Signal::derive(topic) />
            }.into_any())}
        </article>
    }
}
