//! The panel area: the pinned panels on top, then the panels of the tree
//! node selected (the root: all), grouped under the subscription that
//! matched them, with the toolbar for the stream (pause, clear, compact,
//! clear retained, a chart of one field across the topics shown).
//!
//! The area is windowed: the layout is computed as rows of fixed-height
//! cards and only the rows in the scrolled viewport are in the DOM, so every
//! panel of a subtree is reachable by scrolling and none costs anything
//! while it is off screen.

use leptos::html::Div;
use leptos::prelude::*;
use model::decimal::Shortest;
use model::{NodeId, PanelId, SubId, TopicTree, TreeFilter};

use crate::components::chart::FieldChart;
use crate::components::erased::{effect, flag, handler, keyed, memo, show, text, Keyed};
use crate::components::stream_controls::StreamControls;
use crate::components::topic_panel::TopicPanel;
use crate::components::windowing::visible_items;
use crate::state::use_app;

/// Card heights (CSS px, matching style/main.css) and the gap between.
pub const CARD_HEIGHT: f64 = 380.0;
/// A compact card: no chart, two payload lines.
pub const COMPACT_CARD_HEIGHT: f64 = 128.0;
const GAP: f64 = 10.0;
const HEADING_HEIGHT: f64 = 40.0;
/// A card is at least this wide; the columns follow the area's width.
const MIN_CARD_WIDTH: f64 = 330.0;

/// One line of the windowed layout.
#[derive(Clone, PartialEq)]
enum Item {
    Heading {
        key: String,
        title: String,
        colour: &'static str,
        count: usize,
    },
    /// A row of cards and the title of the group it belongs to.
    Cards(Vec<PanelId>, String),
}

impl Item {
    fn key(&self) -> String {
        match self {
            // The count is in the key: a heading is drawn once per key.
            Item::Heading { key, count, .. } => format!("{key}-{count}"),
            Item::Cards(ids, group) => format!("cards-{group}-{ids:?}"),
        }
    }
}

/// What the windowed area draws: its items near the viewport, where they
/// start and the height of the whole list.
#[derive(Clone, PartialEq)]
struct Drawn {
    offset: f64,
    total: f64,
    items: Vec<Item>,
}

/// Columns of cards that fit `width` px.
fn columns(width: f64) -> usize {
    if width.is_nan() || width <= 0.0 {
        return 1;
    }
    (((width + GAP) / (MIN_CARD_WIDTH + GAP)).floor() as usize).max(1)
}

/// The pinned panels and the groups under `node`, as headings and rows of
/// `cols` cards.
fn layout(d: &model::Dashboard, node: NodeId, filter: &TreeFilter, cols: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let pinned: Vec<PanelId> = d.pinned().to_vec();
    if !pinned.is_empty() {
        items.push(Item::Heading {
            key: "pinned".into(),
            title: "Pinned".into(),
            colour: "#d29922",
            count: pinned.len(),
        });
        items.extend(
            pinned
                .chunks(cols)
                .map(|c| Item::Cards(c.to_vec(), "Pinned".into())),
        );
    }
    for g in d.groups_under(node, filter) {
        if g.panels.is_empty() {
            continue;
        }
        let (title, colour) = sub_title(d, g.subscription);
        items.push(Item::Heading {
            key: format!("group-{:?}", g.subscription.map(SubId::get)),
            title: title.clone(),
            colour,
            count: g.panels.len(),
        });
        items.extend(
            g.panels
                .chunks(cols)
                .map(|c| Item::Cards(c.to_vec(), title.clone())),
        );
    }
    items
}

fn sub_title(d: &model::Dashboard, sub: Option<SubId>) -> (String, &'static str) {
    match sub.and_then(|id| d.subscription(id)) {
        Some(s) => (s.filter().to_string(), s.colour()),
        None => ("(no subscription matches)".to_string(), "#888"),
    }
}

/// The panel area.
#[component]
pub fn Panels() -> impl IntoView {
    let s = use_app();
    let v = s.view;
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let height = RwSignal::new(800.0f64);
    // Set only when the number of columns changes (not on every resize).
    let cols = RwSignal::new(columns(1000.0));
    let structure = memo(move || s.live(|d| d.structure_generation()));
    let items = memo(move || {
        structure.get();
        let node = v.selected.get();
        let c = cols.get();
        // The panels follow the tree's filter too (a filter that does not
        // parse filters nothing; the tree says what is wrong with it).
        let filter = TreeFilter::parse(&v.tree_filter.get()).unwrap_or_default();
        untrack(|| s.live(|d| layout(d, node, &filter, c)))
    });
    let card = move || {
        if v.compact.get() {
            COMPACT_CARD_HEIGHT
        } else {
            CARD_HEIGHT
        }
    };
    // One memo reads the items and yields what is drawn: a second path from
    // `items` to the list (through a separate geometry memo) would let the
    // list miss a change of `items` that the other path had already pulled.
    let drawn = memo(move || {
        let h = card() + GAP;
        let (top, vh) = (scroll_top.get(), height.get());
        items.with(|items| {
            let mut tops = Vec::with_capacity(items.len() + 1);
            let mut y = 0.0;
            tops.push(y);
            for it in items {
                y += match it {
                    Item::Heading { .. } => HEADING_HEIGHT,
                    Item::Cards(..) => h,
                };
                tops.push(y);
            }
            // A viewport's height of cards above and below stays in the
            // DOM, so a scroll finds its neighbours there already.
            let r = visible_items(&tops, top - vh, 3.0 * vh);
            Drawn {
                offset: tops.get(r.start).copied().unwrap_or(0.0),
                total: y,
                items: items.get(r).unwrap_or_default().to_vec(),
            }
        })
    });
    let shown = move || drawn.with(|d| d.items.clone());
    let offset = move || drawn.with(|d| d.offset);
    let total = move || drawn.with(|d| d.total);
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(el.scroll_top() as f64);
            height.set(f64::from(el.client_height()));
            let c = columns(f64::from(el.client_width()));
            if cols.get_untracked() != c {
                cols.set(c);
            }
        }
    };
    effect(move || {
        if scroller.get().is_some() {
            measure();
        }
    });
    let on_resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || on_resize.remove());
    // A new selection starts at the top.
    effect(move || {
        v.selected.get();
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
            scroll_top.set(0.0);
        }
    });
    let selection = move || {
        let node = v.selected.get();
        s.live(|d| {
            let t = d.tree();
            let name = if node == TopicTree::ROOT {
                "All topics".to_string()
            } else {
                t.path(node)
            };
            let n = t.node(node).map_or(0, |n| n.topics());
            format!("{name} · {n} topics")
        })
    };
    let field_chart_title = move || {
        v.field_chart.get().map(|(node, field)| {
            let under = untrack(|| s.model_untracked(|d| d.tree().path(node)));
            let under = if under.is_empty() {
                "all topics".to_string()
            } else {
                format!("{under}/…")
            };
            format!("{field} of {under}")
        })
    };
    // Walked again only when topics come or go, not on every redraw.
    let field_panels = memo(move || {
        structure.get();
        let node = v.field_chart.get().map(|(n, _)| n);
        node.map(|n| untrack(|| s.live(|d| d.tree().panels_under(n))))
            .unwrap_or_default()
    });
    let field_panels = Signal::from(field_panels);
    view! {
        <section class="panels" aria-label="Panels">
            <StreamControls />
            <h2 class="selection">{text(selection)}</h2>
            // Rebuilt whenever another node or field is charted (the chart
            // takes its field once, when it is made).
            {move || v.field_chart.get().map(|(_, field)| view! {
                <div class="field-chart">
                    <FieldChart
                        field=field
                        panels=field_panels
                        title=Signal::derive(move || field_chart_title().unwrap_or_default()) />
                    <button type="button" class="small" on:click=handler(move |_| v.field_chart.set(None))>"Close field chart"</button>
                </div>
            }.into_any())}
            <div class="panel-scroll" node_ref=scroller on:scroll=handler(move |_| measure())
                class:compact=flag(move || v.compact.get())>
                <div class="panel-spacer" style:height=text(move || format!("{}px", Shortest(total())))>
                    <div class="panel-window" style:transform=text(move || format!("translateY({}px)", Shortest(offset())))>
                        {keyed(move || shown().into_iter().map(|it| Keyed::new(it.key(), move || {match it {
                                Item::Heading { title, colour, count, .. } => view! {
                                    <h3 class="group-heading"><span class="swatch" style:background-color=colour></span>
                                        <code>{title}</code>" "<span class="count">{if count == 1 { "1 topic".to_string() } else { format!("{count} topics") }}</span></h3>
                                }.into_any(),
                                Item::Cards(ids, group) => view! {
                                    <div class="card-row" role="group" aria-label=format!("Topics matching {group}") style:grid-template-columns=text(move || format!("repeat({}, minmax(0, 1fr))", cols.get()))>
                                        {ids.into_iter().map(|id| view! { <TopicPanel id=id /> }.into_any()).collect::<Vec<_>>()}
                                    </div>
                                }.into_any(),
                            }})).collect())}
                    </div>
                </div>
            </div>
            {show(move || items.with(|i| i.is_empty()), move || view! {
                <p class="hint">"No topic here yet."</p>
            }.into_any())}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_many_columns_as_cards_fit_and_at_least_one() {
        assert_eq!(columns(320.0), 1);
        assert_eq!(columns(700.0), 2);
        assert_eq!(columns(1400.0), 4);
        assert_eq!(columns(f64::NAN), 1);
    }
}
