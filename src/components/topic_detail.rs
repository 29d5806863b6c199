//! A topic's detail: every kept message (not only the newest few), windowed
//! and searchable by text in payloads; the message picked shown in full
//! with its time (with date), QoS, retain, dup and size, and its MQTT 5
//! properties one per line (each history row has them in one line); copy
//! topic, copy payload, "Publish again" (fills the publish form, properties
//! included); and the diff of the picked message against the one before it
//! on the topic (JSON-aware: changed fields, not changed characters;
//! `model::diff_payloads`).
//!
//! The head and the picked message are static markup (docs/architecture.md,
//! "Static cards": one delegated click handler, the message written by
//! [`draw_shown`] with `textContent`); the windowed history stays `view!`.
//! Payloads, topics and properties are text nodes, never HTML.

use leptos::html::Div;
use leptos::prelude::*;
use model::decimal::Shortest;
use model::{
    diff_payloads, render_entry, ChangeKind, Diff, LineChange, Needle, PayloadFormat,
    PropertiesForm,
};
use mqtt_session::QoS;

use crate::components::dom::{self, append, set_text};
use crate::components::erased::{effect, handler, keyed, memo, show, text, Keyed};
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

/// The detail's head; ids are `td-*`.
const HEAD: &str = concat!(
    r#"<h2><code id="td-topic"></code></h2><div class="buttons">"#,
    r#"<button type="button" class="small" id="td-copy-topic">Copy topic</button>"#,
    r#"<button type="button" class="small" id="td-copy-payload">Copy payload</button>"#,
    r#"<button type="button" class="small" id="td-again">Publish again</button>"#,
    r#"<button type="button" class="small" id="td-close">Close detail</button></div>"#,
);

/// The picked message, written by [`draw_shown`]. `td-more` holds "showing
/// part of N bytes" and Show all / Show less while there is more to show
/// (made only then: the tests find the detail's one other `p.hint`).
const MESSAGE: &str = concat!(
    r#"<h3>Message</h3><p class="meta" id="td-meta"></p>"#,
    r#"<pre class="payload full" tabindex="0" aria-label="Payload of the message" id="td-body"></pre>"#,
    r#"<ul class="props" aria-label="Message properties" id="td-props" hidden></ul>"#,
    r#"<div id="td-more"></div><h3>Diff with the message before</h3>"#,
    r#"<pre class="diff" tabindex="0" aria-label="Diff with the message before" id="td-diff"></pre>"#,
);

/// Writes the picked message (`all`: Show all was pressed) into the
/// detail, as text. The Show all paragraph is made once and kept while it
/// is needed, so its button keeps the keyboard when pressed.
fn draw_shown(x: Option<&Shown>, all: bool) {
    set_text("td-meta", x.map_or("", |x| &x.meta));
    set_text("td-body", x.map_or("", |x| &x.body));
    let props = x.map_or(&[][..], |x| &x.props[..]);
    if let Some(ul) = dom::by_id("td-props") {
        ul.set_text_content(None);
        for line in props {
            append(&ul, "li", line);
        }
        let _ = ul.toggle_attribute_with_force("hidden", props.is_empty());
    }
    let truncated = x.and_then(|x| x.truncated_from);
    if let Some(more) = dom::by_id("td-more") {
        if truncated.is_none() && !all {
            more.set_text_content(None);
        } else if more.child_element_count() == 0 {
            if let Some(p) = append(&more, "p", "") {
                p.set_class_name("hint");
                if let Some(t) = append(&p, "span", "") {
                    t.set_id("td-part");
                }
                if let Some(b) = append(&p, "button", "") {
                    let _ = b.set_attribute("type", "button");
                    b.set_class_name("small");
                    b.set_id("td-all");
                }
            }
        }
    }
    let part = truncated.map(|n| format!("showing part of {n} bytes "));
    set_text("td-part", part.as_deref().unwrap_or(""));
    set_text("td-all", if all { "Show less" } else { "Show all" });
    if let Some(pre) = dom::by_id("td-diff") {
        pre.set_text_content(None);
        for (class, line) in x.map_or(&[][..], |x| &x.diff[..]) {
            if let Some(span) = append(&pre, "span", &format!("{line}\n")) {
                span.set_class_name(class);
            }
        }
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
    let copy_payload = move || {
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
    let publish_again = move || {
        let Some(seq) = current() else { return };
        let t = topic.get_untracked();
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
            let props = e
                .properties
                .as_deref()
                .map(PropertiesForm::from_properties)
                .unwrap_or_default();
            d.props.set(props);
        });
        note.set(Some(
            "The publish form is filled in; check it and press Publish.".into(),
        ));
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
    effect(move || set_text("td-topic", &topic.get()));
    effect(move || {
        let all = show_all.get();
        shown.with(|x| draw_shown(x.as_ref(), all));
    });
    let on_click = move |ev: leptos::ev::MouseEvent| match dom::button_id(&ev).as_str() {
        "td-copy-topic" => {
            copy_to_clipboard(&topic.get_untracked());
            note.set(Some("Topic copied.".into()));
        }
        "td-copy-payload" => copy_payload(),
        "td-again" => publish_again(),
        "td-close" => v.detail.set(None),
        "td-all" => show_all.update(|x| *x = !*x),
        _ => {}
    };
    view! {
        <section class="detail" role="region" aria-label=text(move || format!("Detail of {}", topic.get()))
            on:click=handler(on_click)>
            <header class="detail-head" inner_html=HEAD></header>
            <p class="hint" aria-live="polite">{text(move || note.get().unwrap_or_default())}</p>
            <div class="detail-grid">
                <div class="detail-message" inner_html=MESSAGE></div>
                <div class="detail-history">
                    <h3>{text(history_counts)}</h3>
                    <label>"Search payloads"
                        <input type="search" bind:value=search spellcheck="false" placeholder="text in payloads" />
                    </label>
                    <div class="history-scroll" node_ref=scroller on:scroll=on_scroll>
                        <div style:height=text(move || format!("{}px", Shortest(total())))>
                            <ol class="history-list" aria-label="History" style:transform=text(move || format!("translateY({}px)", Shortest(offset())))>
                                {keyed(move || rows().into_iter().map(|r| Keyed::new(
                                    format!("{} {}:{}{}", r.seq, r.label.len(), r.label, r.preview),
                                    move || view! {
                                    <li>
                                        <button type="button" class="entry"
                                            aria-pressed=text(move || (current() == Some(r.seq)).to_string())
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
