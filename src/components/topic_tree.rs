//! The topic tree: every topic received, as levels, beside the panels.
//!
//! A `role="tree"` named "Topics" whose `treeitem`s are named by their level,
//! with `aria-level`, `aria-expanded` and `aria-selected`. Only the rows in
//! the scrolled viewport are in the DOM (see `windowing`), so 100,000 topics
//! draw like 100. The keyboard works as in the WAI-ARIA tree pattern (arrows,
//! Home/End, type-ahead; Enter or Space selects) with the focus kept on the
//! tree and the active row given by `aria-activedescendant`. What a key does
//! is `model::TopicTree::navigate`; this file only carries it out.

use std::collections::HashSet;

use leptos::html::Div;
use leptos::prelude::*;
use model::decimal::{Fixed, Shortest};
use model::{Move, NodeId, Row, TopicTree, TreeFilter, TreeKey};

use crate::components::erased::{effect, flag, handler, keyed, memo, show, text, Keyed};
use crate::components::windowing::{scroll_to_show, visible_range};
use crate::state::use_app;

/// Height of one row in CSS px (fixed, so the window is arithmetic).
pub const ROW_HEIGHT: f64 = 30.0;
/// How long a node stays marked after it received something.
const FLASH_MS: f64 = 1_500.0;
/// Characters of a leaf's last payload shown in its row.
const PREVIEW_CHARS: usize = 48;
/// Type-ahead keys within this long make one word.
const TYPEAHEAD_MS: f64 = 700.0;

/// What one row shows.
#[derive(Clone, PartialEq)]
struct RowView {
    node: NodeId,
    level: usize,
    name: String,
    expandable: bool,
    expanded: bool,
    counts: String,
    retained: Option<String>,
    preview: String,
    recent: bool,
}

fn element_id(node: NodeId) -> String {
    format!("tree-node-{node:?}").replace(['(', ')'], "")
}

/// The rows on screen: the root ("All topics") and, when it is open, the
/// tree's rows under it.
fn all_rows(tree: &TopicTree, expanded: &HashSet<NodeId>, filter: &TreeFilter) -> Vec<Row> {
    let open = expanded.contains(&TopicTree::ROOT) || !filter.is_none();
    let mut rows = vec![Row {
        node: TopicTree::ROOT,
        expanded: open,
    }];
    if open {
        rows.extend(tree.rows(expanded, filter));
    }
    rows
}

/// The tree pane: its filter box and the windowed tree.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn TopicTreePane() -> impl IntoView {
    let s = use_app();
    let v = s.view;
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let height = RwSignal::new(600.0f64);
    let focus = RwSignal::new(TopicTree::ROOT);
    let typed = StoredValue::new((String::new(), 0.0f64));
    let filter = memo(move || TreeFilter::parse(&v.tree_filter.get()));
    let structure = memo(move || s.live(|d| (d.tree().generation(), d.tree().epoch())));
    // Rebuilt only when nodes come or go, or expansion or the filter change:
    // counts moving under a flood do not rebuild the row list.
    let rows = memo(move || {
        structure.get();
        let expanded = v.expanded.get();
        let f = filter.get().unwrap_or_default();
        untrack(|| s.live(|d| all_rows(d.tree(), &expanded, &f)))
    });
    let window = memo(move || {
        let n = rows.with(|r| r.len());
        visible_range(scroll_top.get(), height.get(), ROW_HEIGHT, n)
    });
    // The range is computed here from `rows` itself, not read from
    // `window`: two paths from `rows` into this memo would let it miss a
    // change of `rows` that the other path had already pulled.
    let views = memo(move || {
        let now = s.clock.get() as f64;
        let (top, vh) = (scroll_top.get(), height.get());
        rows.with(|rows| {
            let range = visible_range(top, vh, ROW_HEIGHT, rows.len());
            let slice = rows.get(range).unwrap_or_default();
            s.live(|d| {
                let tree = d.tree();
                slice
                    .iter()
                    .filter_map(|r| {
                        let n = tree.node(r.node)?;
                        let root = r.node == TopicTree::ROOT;
                        let name = if root {
                            "All topics".to_string()
                        } else if n.name().is_empty() {
                            "(empty level)".to_string()
                        } else {
                            n.name().to_string()
                        };
                        let rate = n.rate(now);
                        let mut counts = format!("{} msgs", n.messages());
                        if n.has_children() {
                            counts = format!("{} topics · {counts}", n.topics());
                        }
                        if rate >= 0.05 {
                            counts.push_str(&format!(" · {}/s", Fixed(rate, 1)));
                        }
                        let retained = match (n.is_retained(), n.retained_topics()) {
                            (_, 0) => None,
                            (true, 1) if !n.has_children() => Some("retained".to_string()),
                            (_, k) => Some(format!("{k} retained")),
                        };
                        let preview = n
                            .panel()
                            .and_then(|id| d.panel(id))
                            .and_then(|p| p.last_view(PREVIEW_CHARS * 4))
                            .map(|v| one_line(v.body(), PREVIEW_CHARS))
                            .unwrap_or_default();
                        Some(RowView {
                            node: r.node,
                            level: usize::from(n.depth()) + 1,
                            name,
                            expandable: n.has_children(),
                            expanded: r.expanded,
                            counts,
                            retained,
                            preview,
                            recent: now - n.last_ms() < FLASH_MS,
                        })
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let toggle = move |node: NodeId| {
        v.expanded.update(|e| {
            if !e.remove(&node) {
                e.insert(node);
            }
        });
    };
    let select = move |node: NodeId| {
        focus.set(node);
        v.selected.set(node);
    };
    // Keeps the focused row in view (so `aria-activedescendant` names a row
    // that is in the DOM).
    let reveal = move |node: NodeId| {
        let Some(i) = rows.with_untracked(|r| r.iter().position(|x| x.node == node)) else {
            return;
        };
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = el.scroll_top() as f64;
        if let Some(to) = scroll_to_show(i, top, f64::from(el.client_height()), ROW_HEIGHT) {
            el.set_scroll_top(to as i32);
            scroll_top.set(to);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = match ev.key().as_str() {
            "ArrowDown" => TreeKey::Down,
            "ArrowUp" => TreeKey::Up,
            "ArrowRight" => TreeKey::Right,
            "ArrowLeft" => TreeKey::Left,
            "Home" => TreeKey::Home,
            "End" => TreeKey::End,
            "Enter" | " " => {
                ev.prevent_default();
                select(focus.get_untracked());
                return;
            }
            k if k.chars().count() == 1 && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() => {
                let now = js_sys::Date::now();
                let word = typed.with_value(|(w, at)| {
                    if now - at < TYPEAHEAD_MS {
                        format!("{w}{k}")
                    } else {
                        k.to_string()
                    }
                });
                typed.set_value((word.clone(), now));
                TreeKey::Type(word)
            }
            _ => return,
        };
        ev.prevent_default();
        let mv = rows.with_untracked(|r| {
            s.model_untracked(|d| d.tree().navigate(r, focus.get_untracked(), &key))
        });
        match mv {
            Move::Focus(n) => {
                focus.set(n);
                reveal(n);
            }
            Move::Expand(n) | Move::Collapse(n) => toggle(n),
            Move::Stay => {}
        }
    };
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(el.scroll_top() as f64);
            height.set(f64::from(el.client_height()));
        }
    };
    effect(move || {
        if let Some(el) = scroller.get() {
            height.set(f64::from(el.client_height()).max(ROW_HEIGHT));
        }
    });
    let filter_problem = move || filter.get().err();
    let total = move || rows.with(|r| r.len()) as f64 * ROW_HEIGHT;
    let offset = move || window.get().start as f64 * ROW_HEIGHT;
    let active = move || {
        let f = focus.get();
        let shown = views.with(|vs| vs.iter().any(|r| r.node == f));
        shown.then(|| element_id(f))
    };
    let row_of = move |node: NodeId| views.with(|vs| vs.iter().find(|r| r.node == node).cloned());
    view! {
        <section class="tree-pane" aria-label="Topic tree">
            <label class="tree-filter">"Filter topics"
                <input type="search" bind:value=v.tree_filter spellcheck="false"
                    placeholder="load/+/dev-321/# or text"
                    aria-invalid=text(move || filter_problem().is_some().to_string()) />
            </label>
            <p class="hint" class:bad=flag(move || filter_problem().is_some())>{move || filter_problem().unwrap_or_else(|| {
                let topics = s.live(|d| d.tree().topic_count());
                format!("{topics} topics")
            })}</p>
            <div class="tree-scroll" node_ref=scroller on:scroll={handler(on_scroll)}>
                <div class="tree-spacer" style:height=text(move || format!("{}px", Shortest(total())))>
                    <ul class="tree" role="tree" aria-label="Topics" tabindex="0"
                        aria-activedescendant=move || active() on:keydown={handler(on_key)}
                        style:transform=text(move || format!("translateY({}px)", Shortest(offset())))>
                        {keyed(move || {
                            views.with(|vs| {
                                vs.iter()
                                    .map(|r| {
                                        let node = r.node;
                                        Keyed::new(format!("{node:?}"), move || view! {
                                            <TreeRow node=node row_of=row_of focus=focus select=select toggle=toggle />
                                        }.into_any())
                                    })
                                    .collect()
                            })
                        })}
                    </ul>
                </div>
            </div>
        </section>
    }
}

/// One row of the tree, built once; its counts, preview and marks follow
/// the model.
#[component]
fn TreeRow(
    node: NodeId,
    row_of: impl Fn(NodeId) -> Option<RowView> + Copy + Send + Sync + 'static,
    focus: RwSignal<NodeId>,
    select: impl Fn(NodeId) + Copy + Send + Sync + 'static,
    toggle: impl Fn(NodeId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let v = use_app().view;
    let first = row_of(node);
    let level = first.as_ref().map_or(1, |r| r.level);
    let name = first.map(|r| r.name).unwrap_or_default();
    let label = name.clone();
    let field =
        move |f: fn(&RowView) -> String| move || row_of(node).map(|r| f(&r)).unwrap_or_default();
    let expandable = move || row_of(node).is_some_and(|r| r.expandable);
    let expanded = move || row_of(node).is_some_and(|r| r.expanded);
    view! {
        <li role="treeitem" id=element_id(node) prop:ariaLevel=level.to_string()
            aria-label=label
            aria-expanded=move || expandable().then(|| expanded().to_string())
            aria-selected=text(move || (v.selected.get() == node).to_string())
            class="tree-row" class:focused=flag(move || focus.get() == node)
            class:recent=flag(move || row_of(node).is_some_and(|r| r.recent))
            style:padding-left=format!("{}rem", Fixed(0.2 + 0.9 * (level as f64 - 1.0), 1))
            on:click={handler(move |_| select(node))}>
            <span class="twisty" aria-hidden="true"
                on:click={handler(move |ev: web_sys::MouseEvent| { ev.stop_propagation(); toggle(node); })}>
                {text(move || String::from(if !expandable() { " " } else if expanded() { "▾" } else { "▸" }))}
            </span>
            <span class="node-name">{name}</span>
            <span class="node-counts">{text(field(|r| r.counts.clone()))}</span>
            {show(move || row_of(node).is_some_and(|r| r.retained.is_some()), move || view! {
                <span class="flag retain">{text(field(|r| r.retained.clone().unwrap_or_default()))}</span>
            }.into_any())}
            <span class="node-preview">{text(field(|r| r.preview.clone()))}</span>
        </li>
    }
}

/// The first `max` characters of `text` on one line.
fn one_line(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_one_line_and_says_when_it_is_cut() {
        assert_eq!(one_line("{\n  \"a\": 1\n}", 48), "{   \"a\": 1 }");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
