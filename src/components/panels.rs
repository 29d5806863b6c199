//! The panels area: a search box and one panel per concrete topic, grouped
//! under the subscription that matched it.
//!
//! Only the first [`MAX_RENDERED`] matching panels are in the DOM; the rest are
//! counted on screen and reachable by searching, so a `#` subscription on a
//! busy broker never builds thousands of DOM nodes.

use leptos::prelude::*;
use model::{PanelId, SubId};

use crate::components::topic_panel::TopicPanel;
use crate::state::use_app;

/// Most panels in the DOM at once.
pub const MAX_RENDERED: usize = 60;

/// A group heading plus its rendered panels.
#[derive(Clone, PartialEq)]
struct GroupView {
    sub: Option<SubId>,
    title: String,
    colour: &'static str,
    panels: Vec<PanelId>,
    hidden: usize,
}

/// Reads one field of the group of `sub` from the current groups (tracked);
/// the default when the group is gone.
fn group_field<R: Default>(
    groups: Memo<Vec<GroupView>>,
    sub: Option<SubId>,
    f: impl Fn(&GroupView) -> R,
) -> R {
    groups.with(|gs| gs.iter().find(|g| g.sub == sub).map(f).unwrap_or_default())
}

/// Search box, counters and the grouped panels.
#[component]
pub fn Panels() -> impl IntoView {
    let s = use_app();
    let groups = Memo::new(move |_| {
        let search = s.search.get();
        s.model(|d| {
            let mut budget = MAX_RENDERED;
            d.groups_filtered(&search)
                .into_iter()
                // While searching, a subscription none of whose topics match
                // is only noise; without a search every subscription shows.
                .filter(|g| search.is_empty() || !g.panels.is_empty())
                .map(|g| {
                    let (title, colour) = match g.subscription.and_then(|id| d.subscription(id)) {
                        Some(sub) => (sub.filter().to_string(), sub.colour()),
                        None => ("(no subscription matches)".to_string(), "#888"),
                    };
                    let shown = g.panels.len().min(budget);
                    budget -= shown;
                    GroupView {
                        sub: g.subscription,
                        title,
                        colour,
                        hidden: g.panels.len() - shown,
                        panels: g.panels.into_iter().take(shown).collect(),
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    let stats = move || {
        let now = s.clock.get() as f64;
        s.model(|d| {
            let st = d.stats();
            let mut text = format!(
                "{} topics · {} messages · {:.0} msg/s · {} dropped by caps",
                st.panels,
                st.messages,
                d.rate(now),
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
        <section class="panels" aria-label="Topics">
            <div class="row">
                <label class="grow">"Search topics"
                    <input type="search" bind:value=s.search placeholder="filter panels by topic" />
                </label>
                <p class="stats" aria-live="off">{stats}</p>
            </div>
            <Show when=move || not_kept().is_some()>
                <p class="hint not-kept" aria-live="polite">{not_kept}</p>
            </Show>
            <Show when=move || !s.search.get().is_empty() && groups.get().is_empty()>
                <p class="hint">{move || format!("No topic contains {:?}.", s.search.get())}</p>
            </Show>
            // A group's section is keyed by its subscription only, and its
            // panels by their id: a topic arriving elsewhere must not rebuild
            // (and reset, e.g. "Show all") the panels already on screen.
            <For each=move || groups.get() key=|g| (g.sub, g.title.clone(), g.colour) let:g>
                <section class="group" aria-label=format!("Topics matching {}", g.title)>
                    <h2><span class="swatch" style:background-color=g.colour></span><code>{g.title.clone()}</code></h2>
                    <div class="grid">
                        <For each=move || group_field(groups, g.sub, |x| x.panels.clone()) key=|id| *id let:id>
                            <TopicPanel id=id />
                        </For>
                    </div>
                    <Show when=move || { group_field(groups, g.sub, |x| x.hidden) > 0 }>
                        <p class="hint">{move || format!(
                            "{} more topics not shown; narrow the search to see them",
                            group_field(groups, g.sub, |x| x.hidden)
                        )}</p>
                    </Show>
                </section>
            </For>
        </section>
    }
}
