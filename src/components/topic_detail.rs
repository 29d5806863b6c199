//! A topic's detail: every kept message (not only the newest few), windowed
//! and searchable by text in payloads; the message picked shown in full
//! with its time (with date), QoS, retain, dup and size, and its MQTT 5
//! properties one per line (each history row has them in one line); copy
//! topic, copy payload, "Publish again" (fills the publish form, properties
//! included); and the diff of the picked message against the one before it
//! on the topic (JSON-aware: changed fields, not changed characters;
//! `model::diff_payloads`).
//!
//! Payloads, topics and properties are text nodes, never HTML.

use leptos::html::Div;
use leptos::prelude::*;
use model::decimal::Shortest;
use model::{
    diff_payloads, render_entry, ChangeKind, Diff, LineChange, Needle, PayloadFormat,
    PropertiesForm,
};
use mqtt_session::QoS;

use crate::components::erased::{effect, handler, keyed, memo, show, Keyed};
use crate::components::topic_panel::property_lines;
use crate::components::windowing::visible_range;
use crate::files::copy_to_clipboard;
use crate::state::use_app;

/// Height of one history row in CSS px (fixed: the list is windowed).
const ROW_HEIGHT: f64 = 48.0;
/// Bytes of the picked payload shown before "Show all".
const SHOWN_BYTES: usize = 64 * 1024;
/// Characters of a payload in its history row.
const ROW_PREVIEW: usize = 120;

/// Date and time with milliseconds, in local time.
fn date_time(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds()
    )
}

/// The picked message as shown.
#[derive(Clone, PartialEq)]
struct Shown {
    /// Its label and the kind of payload.
    meta: String,
    body: String,
    truncated_from: Option<usize>,
    /// Its properties, one `name: value` line each.
    props: Vec<String>,
    /// Its diff with the message before: a class and a line each.
    diff: Vec<(&'static str, String)>,
}

/// One history row as shown.
struct EntryRow {
    seq: u64,
    label: String,
    preview: String,
}

/// `#seq · date and time · QoS q · retained · dup · n bytes`.
fn entry_label(seq: u64, e: &model::HistoryEntry) -> String {
    format!(
        "#{seq} · {} · QoS {}{}{} · {} bytes",
        date_time(e.received_ms),
        e.qos,
        if e.retain { " · retained" } else { "" },
        if e.dup { " · dup" } else { "" },
        e.payload.len()
    )
}

/// The diff as lines of text with a class each.
fn diff_lines(d: &Diff) -> Vec<(&'static str, String)> {
    match d {
        Diff::Same => vec![("diff-same", "Same payload as the message before.".into())],
        Diff::Json { changes, more } => {
            let mut out: Vec<(&'static str, String)> = changes
                .iter()
                .map(|c| {
                    let path = if c.path.is_empty() {
                        "(whole payload)"
                    } else {
                        &c.path
                    };
                    let old = c.old.clone().unwrap_or_default();
                    let new = c.new.clone().unwrap_or_default();
                    match c.kind {
                        ChangeKind::Added => ("diff-added", format!("+ {path}: {new}")),
                        ChangeKind::Removed => ("diff-removed", format!("- {path}: {old}")),
                        ChangeKind::Changed => ("diff-changed", format!("~ {path}: {old} → {new}")),
                    }
                })
                .collect();
            if out.is_empty() {
                out.push((
                    "diff-same",
                    "Same JSON value; only formatting differs.".into(),
                ));
            }
            if *more > 0 {
                out.push(("diff-same", format!("… and {more} more changes")));
            }
            out
        }
        Diff::Text { lines, more } => {
            let mut out: Vec<(&'static str, String)> = lines
                .iter()
                .map(|l| match l {
                    LineChange::Same(t) => ("diff-same", format!("  {t}")),
                    LineChange::Added(t) => ("diff-added", format!("+ {t}")),
                    LineChange::Removed(t) => ("diff-removed", format!("- {t}")),
                    LineChange::Skipped(n) => ("diff-same", format!("  … {n} unchanged lines")),
                })
                .collect();
            if *more > 0 {
                out.push(("diff-same", format!("… and {more} more changed lines")));
            }
            out
        }
        Diff::Binary {
            old_len,
            new_len,
            first_difference,
        }
        | Diff::TooLarge {
            old_len,
            new_len,
            first_difference,
        } => vec![(
            "diff-changed",
            format!(
                "{old_len} bytes → {new_len} bytes; first difference at byte {first_difference}"
            ),
        )],
    }
}

/// The detail of the panel in `view.detail`, when one is open.
#[component]
pub fn TopicDetail() -> impl IntoView {
    let s = use_app();
    let v = s.view;
    view! {
        {show(move || v.detail.get().is_some(), move || view! {
            <DetailBody />
        }.into_any())}
    }
}

#[component]
fn DetailBody() -> impl IntoView {
    let s = use_app();
    let v = s.view;
    let id = move || v.detail.get();
    let search = RwSignal::new(String::new());
    let picked = RwSignal::new(None::<u64>);
    let show_all = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    // Another topic opened: start from its newest message.
    effect(move || {
        id();
        picked.set(None);
        show_all.set(false);
    });
    let generation = memo(move || id().and_then(|id| s.with_panel(id, |p| p.generation())));
    let topic = memo(move || {
        id().and_then(|id| s.with_panel(id, |p| p.topic().to_string()))
            .unwrap_or_default()
    });
    // Entries matching the search, newest first, as their sequence numbers.
    let matching = memo(move || {
        generation.get();
        let needle = search.get();
        let Some(id) = id() else { return Vec::new() };
        untrack(|| {
            s.with_panel(id, |p| {
                let h = p.history();
                let next = h.next_seq();
                let n = Needle::new(&needle);
                h.iter()
                    .enumerate()
                    .filter(|(_, e)| n.found_in(e.readable()))
                    .map(|(i, _)| next.wrapping_sub(1).wrapping_sub(i as u64))
                    .collect::<Vec<u64>>()
            })
            .unwrap_or_default()
        })
    });
    let entry = move |seq: u64, f: &mut dyn FnMut(&model::HistoryEntry)| {
        let Some(id) = id() else { return };
        s.with_panel(id, |p| {
            let h = p.history();
            let i = h.next_seq().wrapping_sub(1).wrapping_sub(seq) as usize;
            if let Some(e) = h.get(i) {
                f(e);
            }
        });
    };
    // The rows near the viewport, computed from `matching` itself (no
    // separate window memo: two paths from `matching` into one reader
    // would let it miss a change the other path had already pulled).
    let rows = move || {
        generation.get();
        let top = scroll_top.get();
        let seqs: Vec<u64> = matching.with(|m| {
            let r = visible_range(top, 360.0, ROW_HEIGHT, m.len());
            m.get(r).unwrap_or_default().to_vec()
        });
        untrack(|| {
            seqs.into_iter()
                .filter_map(|seq| {
                    let mut row = None;
                    entry(seq, &mut |e| {
                        let view = render_entry(e, ROW_PREVIEW * 4);
                        let preview: String = view
                            .body()
                            .chars()
                            .map(|c| if c.is_control() { ' ' } else { c })
                            .take(ROW_PREVIEW)
                            .collect();
                        let mut label = entry_label(seq, e);
                        let props = property_lines(s, e.properties.as_deref(), &e.payload);
                        if !props.is_empty() {
                            label.push_str(" · ");
                            label.push_str(&model::compact_line(&props));
                        }
                        row = Some(EntryRow {
                            seq,
                            label,
                            preview,
                        });
                    });
                    row
                })
                .collect::<Vec<_>>()
        })
    };
    // The message picked, or the newest.
    let current = move || {
        picked
            .get()
            .or_else(|| matching.with(|m| m.first().copied()))
    };
    // The picked message as shown, and its diff with the one before.
    let shown = memo(move || {
        generation.get();
        let seq = current()?;
        let limit = if show_all.get() {
            usize::MAX
        } else {
            SHOWN_BYTES
        };
        let mut out = None;
        untrack(|| {
            let mut old = None;
            entry(seq.wrapping_sub(1), &mut |e| {
                old = Some(bytes::Bytes::copy_from_slice(e.readable()))
            });
            entry(seq, &mut |e| {
                let props = e.properties.as_deref();
                let view = render_entry(e, limit);
                out = Some(Shown {
                    meta: format!("{} · {}", entry_label(seq, e), view.kind_label()),
                    body: view.body().to_string(),
                    truncated_from: view.truncated_from(),
                    props: property_lines(s, props, &e.payload)
                        .into_iter()
                        .map(|(name, value)| format!("{name}: {value}"))
                        .collect(),
                    diff: match &old {
                        Some(old) => diff_lines(&diff_payloads(old, e.readable())),
                        None => vec![(
                            "diff-same",
                            "No earlier message on this topic is kept.".to_string(),
                        )],
                    },
                });
            })
        });
        out
    });
    let copy_payload = move |_| {
        let Some(seq) = current() else { return };
        entry(seq, &mut |e| {
            let text = match std::str::from_utf8(&e.payload) {
                Ok(t) => t.to_string(),
                Err(_) => model::payload_view::hex_dump(&e.payload),
            };
            copy_to_clipboard(&text);
        });
        note.set(Some("Payload copied.".into()));
    };
    let publish_again = move |_| {
        let Some(seq) = current() else { return };
        let t = topic.get_untracked();
        let mut binary_correlation = false;
        entry(seq, &mut |e| {
            let (fmt, text) = match std::str::from_utf8(&e.payload) {
                Ok(t) => (PayloadFormat::Text, t.to_string()),
                Err(_) => (
                    PayloadFormat::Hex,
                    e.payload
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                ),
            };
            let d = s.draft;
            d.topic.set(t.clone());
            d.format.set(fmt);
            d.payload.set(text);
            d.qos.set(QoS::from_u8(e.qos).unwrap_or(QoS::AtMostOnce));
            d.retain.set(e.retain);
            let (props, binary) = e
                .properties
                .as_deref()
                .map(PropertiesForm::from_properties)
                .unwrap_or_default();
            binary_correlation = binary;
            d.props.set(props);
        });
        note.set(Some(if binary_correlation {
            "The publish form is filled in, except the binary correlation data (the form takes \
             text); check it and press Publish."
                .into()
        } else {
            "The publish form is filled in; check it and press Publish.".into()
        }));
        if let Some(el) = document().get_element_by_id("publish") {
            el.scroll_into_view();
        }
    };
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(el.scroll_top() as f64);
        }
    };
    let total = move || matching.with(|m| m.len()) as f64 * ROW_HEIGHT;
    let offset = move || {
        let n = matching.with(|m| m.len());
        visible_range(scroll_top.get(), 360.0, ROW_HEIGHT, n).start as f64 * ROW_HEIGHT
    };
    let history_counts = move || {
        id().and_then(|id| s.with_panel(id, |p| (p.history().len(), p.dropped())))
            .map(|(kept, dropped)| {
                let found = matching.with(|m| m.len());
                let mut t = format!("History ({kept} kept, {dropped} dropped by caps)");
                if !search.get().is_empty() {
                    t.push_str(&format!(" · {found} match"));
                }
                t
            })
            .unwrap_or_default()
    };
    view! {
        <section class="detail" role="region" aria-label=move || format!("Detail of {}", topic.get())>
            <header class="detail-head">
                <h2><code>{move || topic.get()}</code></h2>
                <div class="buttons">
                    <button type="button" class="small" on:click=handler(move |_| {
                        copy_to_clipboard(&topic.get_untracked());
                        note.set(Some("Topic copied.".into()));
                    })>"Copy topic"</button>
                    <button type="button" class="small" on:click=handler(copy_payload)>"Copy payload"</button>
                    <button type="button" class="small" on:click=handler(publish_again)>"Publish again"</button>
                    <button type="button" class="small" on:click=handler(move |_| v.detail.set(None))>"Close detail"</button>
                </div>
            </header>
            <p class="hint" aria-live="polite">{move || note.get()}</p>
            <div class="detail-grid">
                <div class="detail-message">
                    <h3>"Message"</h3>
                    <p class="meta">{move || shown.with(|x| x.as_ref().map(|x| x.meta.clone()))}</p>
                    <pre class="payload full" tabindex="0" aria-label="Payload of the message">{move || shown.with(|x| x.as_ref().map(|x| x.body.clone()))}</pre>
                    {show(move || shown.with(|x| x.as_ref().is_some_and(|x| !x.props.is_empty())), move || view! {
                        <ul class="props" aria-label="Message properties">
                            {move || shown.with(|x| x.as_ref().map(|x| x.props.clone())).unwrap_or_default().into_iter()
                                .map(|line| view! { <li>{line}</li> }.into_any()).collect::<Vec<_>>()}
                        </ul>
                    }.into_any())}
                    {show(move || shown.with(|x| x.as_ref().and_then(|x| x.truncated_from).is_some()) || show_all.get(), move || view! {
                        <p class="hint">
                            {move || shown.with(|x| x.as_ref().and_then(|x| x.truncated_from)).map(|n| format!("showing part of {n} bytes "))}
                            <button type="button" class="small" on:click=handler(move |_| show_all.update(|x| *x = !*x))>
                                {move || String::from(if show_all.get() { "Show less" } else { "Show all" })}
                            </button>
                        </p>
                    }.into_any())}
                    <h3>"Diff with the message before"</h3>
                    <pre class="diff" tabindex="0" aria-label="Diff with the message before">
                        {move || shown.with(|x| x.as_ref().map(|x| x.diff.clone())).unwrap_or_default().into_iter().map(|(class, line)| view! {
                            <span class=class>{line}"\n"</span>
                        }.into_any()).collect::<Vec<_>>()}
                    </pre>
                </div>
                <div class="detail-history">
                    <h3>{move || history_counts()}</h3>
                    <label>"Search payloads"
                        <input type="search" bind:value=search spellcheck="false" placeholder="text in payloads" />
                    </label>
                    <div class="history-scroll" node_ref=scroller on:scroll=on_scroll>
                        <div style:height=move || format!("{}px", Shortest(total()))>
                            <ol class="history-list" aria-label="History" style:transform=move || format!("translateY({}px)", Shortest(offset()))>
                                {keyed(move || rows().into_iter().map(|r| Keyed::new(
                                    format!("{} {}:{}{}", r.seq, r.label.len(), r.label, r.preview),
                                    move || view! {
                                    <li>
                                        <button type="button" class="entry"
                                            aria-pressed=move || (current() == Some(r.seq)).to_string()
                                            on:click=handler(move |_| picked.set(Some(r.seq)))>
                                            <span class="entry-label">{r.label.clone()}</span>
                                            <span class="entry-preview">{r.preview.clone()}</span>
                                        </button>
                                    </li>
                                    }.into_any(),
                                )).collect())}
                            </ol>
                        </div>
                    </div>
                </div>
            </div>
        </section>
    }
}
