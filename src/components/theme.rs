//! Light and dark themes: the page follows the system setting unless the
//! user picks one here; the choice is kept in localStorage (`mqdash.theme`)
//! and applied as `data-theme` on the root element, which style/main.css
//! reads.

use leptos::prelude::*;

use crate::components::erased::{handler, text};

/// Where the choice is kept.
const THEME_KEY: &str = "mqdash.theme";

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Applies `theme` ("system", "light" or "dark") to the page.
fn apply(theme: &str) {
    let Some(root) = document().document_element() else {
        return;
    };
    let _ = match theme {
        "light" | "dark" => root.set_attribute("data-theme", theme),
        _ => root.remove_attribute("data-theme"),
    };
}

/// The theme switch.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let saved = storage()
        .and_then(|s| s.get_item(THEME_KEY).ok().flatten())
        .filter(|t| t == "light" || t == "dark")
        .unwrap_or_else(|| "system".to_string());
    apply(&saved);
    let theme = RwSignal::new(saved);
    let on_change = move |ev| {
        let t = event_target_value(&ev);
        apply(&t);
        if let Some(st) = storage() {
            let _ = if t == "system" {
                st.remove_item(THEME_KEY)
            } else {
                st.set_item(THEME_KEY, &t)
            };
        }
        theme.set(t);
    };
    view! {
        <label class="theme">"Theme"
            <select prop:value=text(move || theme.get()) on:change={handler(on_change)}>
                <option value="system">"System"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}
