//! `<Show>` and `<For>` with type-erased arguments, so that each is compiled
//! once for the whole page instead of once per use.
//!
//! Leptos monomorphizes `Show` (its memo, its children and the rendering of
//! the `Either`) and `For` (the whole keyed diff and its DOM moves) for every
//! combination of closure and view types: about 0.7 KB of wasm per `Show`
//! and 3–4 KB per `For`. These wrappers box the closures and views and call
//! the real components with one set of types; the DOM and the reactivity are
//! theirs, unchanged (a memo over the condition, rows kept by key).
//!
//! For the same reason, reactive text and lists in the views return one of
//! a few types: `String` rather than `&str` (`String::from(if … { "a" } else
//! { "b" })`), and `Vec<AnyView>` rather than `collect_view()`'s typed views;
//! handlers, effects, memos and reactive text and flags are boxed here
//! ([`handler`], [`effect`], [`memo`], [`text`], [`flag`]). The DOM is the
//! same either way.

use std::sync::Arc;

use leptos::prelude::*;

/// `<Show when=when>{children()}</Show>`.
pub fn show(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> AnyView + Send + Sync + 'static,
) -> AnyView {
    show_erased(Arc::new(when), Arc::new(children), ViewFn::default())
}

/// `<Show when=when fallback=fallback>{children()}</Show>`.
pub fn show_or(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> AnyView + Send + Sync + 'static,
    fallback: impl Fn() -> AnyView + Send + Sync + 'static,
) -> AnyView {
    show_erased(Arc::new(when), Arc::new(children), ViewFn::from(fallback))
}

type When = Arc<dyn Fn() -> bool + Send + Sync>;
type Children = Arc<dyn Fn() -> AnyView + Send + Sync>;

fn show_erased(when: When, children: Children, fallback: ViewFn) -> AnyView {
    view! {
        <Show when=move || when() fallback=fallback>{children()}</Show>
    }
    .into_any()
}

/// One item of a [`keyed`] list: its key, and how to build its view (only
/// called when the key is new to the list).
pub struct Keyed {
    key: String,
    view: Box<dyn FnOnce() -> AnyView + Send>,
}

impl Keyed {
    /// An item with this key, built by `view` when it enters the list.
    pub fn new(key: String, view: impl FnOnce() -> AnyView + Send + 'static) -> Self {
        Keyed {
            key,
            view: Box::new(view),
        }
    }
}

/// `<For each=each key=|k| k.key>`: the items `each` returns, in order; an
/// item whose key was already shown keeps its view, the others are built.
pub fn keyed(each: impl Fn() -> Vec<Keyed> + Send + 'static) -> AnyView {
    keyed_erased(Box::new(each))
}

fn keyed_erased(each: Box<dyn Fn() -> Vec<Keyed> + Send>) -> AnyView {
    view! {
        <For each=move || each() key=|item: &Keyed| item.key.clone() children=|item: Keyed| (item.view)() />
    }
    .into_any()
}

/// An event handler as `Box<dyn FnMut(E)>`: `on:click=handler(move |_| …)`.
///
/// Every distinct handler type makes its own copy of the event attribute's
/// code (attach, the type-erased attribute's build, rebuild and clone: about
/// 0.8 KB of wasm each); boxed, all handlers of one event share one copy.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}

/// `Memo::new(move |_| f())` with the closure boxed: the memo's code is
/// compiled once per value type instead of once per closure.
pub fn memo<T: PartialEq + Send + Sync + 'static>(
    f: impl Fn() -> T + Send + Sync + 'static,
) -> Memo<T> {
    memo_erased(Box::new(f))
}

fn memo_erased<T: PartialEq + Send + Sync + 'static>(
    f: Box<dyn Fn() -> T + Send + Sync>,
) -> Memo<T> {
    Memo::new(move |_| f())
}

/// `Effect::new(move |_| f())` with the closure boxed: every effect made
/// here shares one copy of the effect's task (its future and its polling),
/// which `Effect::new` otherwise compiles again for each closure type.
pub fn effect(f: impl FnMut() + 'static) {
    effect_erased(Box::new(f));
}

fn effect_erased(mut f: Box<dyn FnMut()>) {
    Effect::new(move |_| f());
}

/// Reactive text as one type, for attributes (`aria-label=text(move || …)`,
/// `style:height=…`, `prop:value=…`) and children (`{text(move || …)}`).
///
/// With `erase_components` every attribute of a `view!` element becomes an
/// `AnyAttribute`, whose code (build, rebuild, clone, …: about 1 KB of wasm)
/// is compiled once per attribute and value type, and each closure is a type
/// of its own; reactive text children likewise compile their rendering per
/// closure. Boxed, all the uses of one attribute share one copy.
pub type Text = Box<dyn Fn() -> String + Send + Sync>;

/// `move || …` as a [`Text`].
pub fn text(f: impl Fn() -> String + Send + Sync + 'static) -> Text {
    Box::new(f)
}

/// A reactive flag as one type (`class:x=flag(move || …)`), for the same
/// reason as [`Text`].
pub type Flag = Box<dyn Fn() -> bool + Send + Sync>;

/// `move || …` as a [`Flag`].
pub fn flag(f: impl Fn() -> bool + Send + Sync + 'static) -> Flag {
    Box::new(f)
}
