//! The few DOM helpers the static cards share (docs/architecture.md,
//! "Static cards"): find a control by id, write its text, a flag or its
//! value, add elements and options (as text), and bind a control to the
//! signal that owns its value.
//!
//! A bound control's signal stays the one owner of the value: the card's
//! delegated `input` handler writes the signal ([`read_input`]), and an
//! effect per control ([`write_back`]) writes the signal's value back into
//! the control when it changes from elsewhere (loading a profile, a link).
//! Nothing here writes HTML: text goes through `textContent`, values through
//! the `value` and `checked` properties.

use js_sys::Reflect;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

use crate::components::erased::effect;

/// The element with this id.
pub fn by_id(id: &str) -> Option<Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// Writes `text` as the element's text (only when it differs).
pub fn set_text(id: &str, text: &str) {
    if let Some(e) = by_id(id) {
        if e.text_content().as_deref() != Some(text) {
            e.set_text_content(Some(text));
        }
    }
}

/// Sets or removes the boolean attribute `flag` (`disabled`, `hidden`).
pub fn set_flag(id: &str, flag: &str, on: bool) {
    if let Some(e) = by_id(id) {
        let _ = e.toggle_attribute_with_force(flag, on);
    }
}

fn prop(e: &Element, name: &str) -> JsValue {
    Reflect::get(e, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// A control's `value` (input, select or text area).
pub fn value_of(e: &Element) -> String {
    prop(e, "value").as_string().unwrap_or_default()
}

/// Writes a control's `value` property, only when it differs (so typing
/// keeps its caret).
pub fn set_value(id: &str, value: &str) {
    if let Some(e) = by_id(id) {
        if value_of(&e) != value {
            let _ = Reflect::set(&e, &"value".into(), &value.into());
        }
    }
}

/// The element an event happened on.
pub fn target(ev: &web_sys::Event) -> Option<Element> {
    ev.target().and_then(|t| t.dyn_into::<Element>().ok())
}

/// The id of the button an event happened in ("" when none).
pub fn button_id(ev: &web_sys::Event) -> String {
    target(ev)
        .and_then(|e| e.closest("button").ok().flatten())
        .map(|b| b.id())
        .unwrap_or_default()
}

/// The signal owning a bound control's value.
#[derive(Clone, Copy)]
pub enum Bound {
    /// A text, number or password input or a text area (`value`).
    Text(RwSignal<String>),
    /// A checkbox (`checked`).
    Check(RwSignal<bool>),
}

/// Controls by id and the signals owning their values.
pub type Bindings = Vec<(&'static str, Bound)>;

/// Writes the value of the control an `input` event came from into its
/// signal; the control's id when it is one of `bindings`.
pub fn read_input(bindings: &[(&'static str, Bound)], ev: &web_sys::Event) -> Option<&'static str> {
    let e = target(ev)?;
    let id = e.id();
    let &(id, bound) = bindings.iter().find(|(b, _)| *b == id)?;
    match bound {
        Bound::Text(s) => s.set(value_of(&e)),
        Bound::Check(s) => s.set(prop(&e, "checked").as_bool().unwrap_or(false)),
    }
    Some(id)
}

/// One effect per control: writes its signal's value into it now and
/// whenever the signal changes.
pub fn write_back(bindings: &[(&'static str, Bound)]) {
    for &(id, bound) in bindings {
        effect(move || match bound {
            Bound::Text(s) => set_value(id, &s.get()),
            Bound::Check(s) => {
                let on = s.get();
                if let Some(e) = by_id(id) {
                    if prop(&e, "checked").as_bool() != Some(on) {
                        let _ = Reflect::set(&e, &"checked".into(), &on.into());
                    }
                }
            }
        });
    }
}

/// Appends a new `tag` element with `text` as its text to `parent`.
pub fn append(parent: &Element, tag: &str, text: &str) -> Option<Element> {
    let e = parent.owner_document()?.create_element(tag).ok()?;
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    parent.append_child(&e).ok()?;
    Some(e)
}

/// Makes the options of the select with this id, after its first one,
/// `names` (each its own value and text), when they differ from `shown`
/// (the names it holds, updated here).
pub fn fill_options(id: &str, names: Vec<String>, shown: &mut Vec<String>) {
    if names == *shown {
        return;
    }
    let Some(select) = by_id(id) else { return };
    while select.child_element_count() > 1 {
        if let Some(last) = select.last_element_child() {
            last.remove();
        }
    }
    for n in &names {
        if let Some(o) = append(&select, "option", n) {
            let _ = o.set_attribute("value", n);
        }
    }
    *shown = names;
}

/// Fills the `dl` with this id with one `dt`/`dd` pair a row, as text.
pub fn fill_pairs(id: &str, rows: &[(String, String)]) {
    let Some(dl) = by_id(id) else { return };
    dl.set_text_content(None);
    for (k, v) in rows {
        append(&dl, "dt", k);
        append(&dl, "dd", v);
    }
}
