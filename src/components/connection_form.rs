//! The connection form: broker URL, client id, credentials, keepalive, clean
//! session, protocol version (3.1.1, 3.1 or 5), message size limit, Last
//! Will, and with MQTT 5 its options (`components::mqtt5`); Connect,
//! Disconnect and Copy link; and the saved profiles (save, load, rename,
//! delete, export, import).
//!
//! The form is a static card (docs/architecture.md, "Static cards"):
//! constant markup set with `inner_html`, one delegated `input`, `change`
//! and `click` handler, the values owned by the `ConnectionFields` signals
//! (bound to the controls by `components::dom`: typing writes the signal,
//! an effect writes it back when it changes elsewhere, as when a profile is
//! loaded). Profile names are option elements made with `textContent`,
//! never HTML. Why: built with `view!` per control, the form, its MQTT 5
//! options and the profiles were 1.2 KB more of the gzipped wasm (measured).
//!
//! The form is only the user's draft: editing it while connected changes
//! nothing until Connect is pressed, and the form says so. Values are
//! checked by `client::settings::build`, whose sentence is shown while a
//! value is wrong (and Connect is disabled).

use leptos::prelude::*;
use mqtt_session::ProtocolVersion;
use wasm_bindgen::JsCast;

use crate::actions;
use crate::client::settings::{parse_protocol, parse_qos, protocol_key};
use crate::components::dom::{
    self, by_id, read_input, set_flag, set_text, set_value, write_back, Bindings, Bound,
};
use crate::components::erased::{effect, handler, show};
use crate::components::mqtt5::{self, Mqtt5Options};
use crate::files;
use crate::state::{use_app, AppState};

/// Broker URL the form starts with: the dev broker that `scripts/run.sh` starts.
pub const DEFAULT_BROKER_URL: &str = "ws://127.0.0.1:18083/mqtt";

/// The form's fields before the MQTT 5 options; ids are `cf-*`.
const FIELDS: &str = concat!(
    r#"<div class="row">"#,
    r#"<label class="grow">Broker URL<input id="cf-url" type="text" placeholder="ws://host:port/mqtt" spellcheck="false"></label>"#,
    r#"<label>Client ID<input id="cf-id" type="text" spellcheck="false"></label>"#,
    r#"<label>Username<input id="cf-user" type="text" autocomplete="username"></label>"#,
    r#"<label>Password<input id="cf-pass" type="password" autocomplete="current-password"></label>"#,
    r#"<label class="check"><input type="checkbox" id="cf-remember">Remember password</label>"#,
    r#"</div><div class="row">"#,
    r#"<label>Keep alive<input id="cf-keepalive" type="number" min="0" max="65535" class="narrow"></label>"#,
    r#"<label class="check"><input type="checkbox" id="cf-clean">Clean session</label>"#,
    r#"<label>Protocol<select id="cf-protocol"><option value="3.1.1">MQTT 3.1.1</option>"#,
    r#"<option value="3.1">MQTT 3.1</option><option value="5">MQTT 5</option></select></label>"#,
    r#"<label>Message size limit (MiB)<input id="cf-limit" type="number" min="1" max="256" class="narrow"></label>"#,
    r#"<label>Will topic<input id="cf-will-topic" type="text" spellcheck="false"></label>"#,
    r#"<label>Will payload<input id="cf-will-payload" type="text"></label>"#,
    r#"<label>Will QoS<select id="cf-will-qos"><option value="0">0</option><option value="1">1</option>"#,
    r#"<option value="2">2</option></select></label>"#,
    r#"<label class="check"><input type="checkbox" id="cf-will-retain">Will retain</label>"#,
    r#"</div>"#,
);

/// The buttons and the saved profiles; ids are `cf-*` and `pf-*`.
const BUTTONS: &str = concat!(
    r#"<div class="row buttons">"#,
    r#"<button type="submit" id="cf-connect">Connect</button>"#,
    r#"<button type="button" id="cf-disconnect">Disconnect</button>"#,
    r#"<button type="button" id="cf-copy">Copy link</button>"#,
    r#"<label class="grow" id="cf-link-label" hidden>Shareable link<input id="cf-link" type="text" readonly></label>"#,
    r#"</div>"#,
    r#"<fieldset class="profiles"><legend>Profiles</legend><div class="row">"#,
    r#"<label>Profile<select id="pf-pick"><option value="">(saved profiles)</option></select></label>"#,
    r#"<label>Profile name<input id="pf-name" type="text" spellcheck="false" placeholder="e.g. plant A, staging"></label>"#,
    r#"<button type="button" id="pf-save">Save profile</button>"#,
    r#"<button type="button" id="pf-rename">Rename profile</button>"#,
    r#"<button type="button" id="pf-delete">Delete profile</button>"#,
    r#"<button type="button" id="pf-export">Export profiles</button>"#,
    r#"<label class="file">Import profiles<input id="pf-import" type="file" accept=".json,application/json"></label>"#,
    r#"</div><p class="hint profile-message" aria-live="polite" id="pf-message"></p></fieldset>"#,
);

/// The connection form.
#[component]
pub fn ConnectionForm() -> impl IntoView {
    let s = use_app();
    let f = s.form;
    let target = Memo::new(move |_| actions::form_target(&f.values()));
    // Whether the form asks for something other than the live connection.
    let differs = Memo::new(move |_| {
        let status = s.status.get();
        if status.is_disconnected() {
            return false;
        }
        let wanted = target.get().ok();
        let current = s.client().peek(|sup| sup.target().cloned());
        wanted != current || s.pending_profile.get().is_some()
    });
    let p = Profiles::new();
    let bindings: Bindings = [
        ("cf-url", Bound::Text(f.broker_url)),
        ("cf-id", Bound::Text(f.client_id)),
        ("cf-user", Bound::Text(f.username)),
        ("cf-pass", Bound::Text(f.password)),
        ("cf-remember", Bound::Check(f.remember_password)),
        ("cf-keepalive", Bound::Text(f.keepalive)),
        ("cf-clean", Bound::Check(f.clean_session)),
        ("cf-limit", Bound::Text(f.message_limit_mib)),
        ("cf-will-topic", Bound::Text(f.will_topic)),
        ("cf-will-payload", Bound::Text(f.will_payload)),
        ("cf-will-retain", Bound::Check(f.will_retain)),
        ("pf-name", Bound::Text(p.name)),
    ]
    .into_iter()
    .chain(mqtt5::bindings(f.v5))
    .collect();
    write_back(&bindings[..12]);
    effect(move || set_value("cf-protocol", protocol_key(f.protocol.get())));
    effect(move || set_value("cf-will-qos", &f.will_qos.get().as_u8().to_string()));
    effect(move || {
        let problem = target
            .with(|t| t.as_ref().err().cloned())
            .unwrap_or_default();
        set_text("cf-problem", &problem);
    });
    effect(move || {
        let can_connect =
            target.with(Result::is_ok) && (s.status.get().is_disconnected() || differs.get());
        set_flag("cf-connect", "disabled", !can_connect);
    });
    effect(move || {
        set_flag(
            "cf-disconnect",
            "disabled",
            s.status.get().is_disconnected(),
        )
    });
    p.draw(s);
    let on_input = move |ev: leptos::ev::Event| {
        if read_input(&bindings, &ev) == Some("cf-id") {
            f.client_id_typed.set(true);
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(e) = dom::target(&ev) else { return };
        let value = dom::value_of(&e);
        match e.id().as_str() {
            "cf-protocol" => match parse_protocol(&value) {
                Ok(p) => f.protocol.set(p),
                Err(e) => s.error.set(Some(e)),
            },
            "cf-will-qos" => match parse_qos(&value) {
                Ok(q) => f.will_qos.set(q),
                Err(e) => s.error.set(Some(format!("Will {e}"))),
            },
            "pf-pick" => p.pick(s, value),
            "pf-import" => p.import(s, &ev),
            _ => {}
        }
    };
    let on_click = move |ev: leptos::ev::MouseEvent| match dom::button_id(&ev).as_str() {
        "cf-disconnect" => actions::disconnect(s),
        "cf-copy" => {
            let url = actions::share_link(s);
            files::copy_to_clipboard(&url);
            set_value("cf-link", &url);
            set_flag("cf-link-label", "hidden", false);
        }
        id => p.click(s, id),
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        actions::connect(s);
    };
    view! {
        // novalidate: the page's own sentences (role="alert") explain a bad
        // field, the same way for every field and every browser.
        <form class="connection" on:submit=handler(on_submit) aria-label="Connection" novalidate
            on:input=handler(on_input) on:change=handler(on_change) on:click=handler(on_click)>
            <div inner_html=FIELDS></div>
            {show(move || f.protocol.get() == ProtocolVersion::V5, || view! { <Mqtt5Options /> }.into_any())}
            <p class="hint form-problem" role="alert" id="cf-problem"></p>
            {show(move || differs.get(), || view! {
                <p class="hint form-differs" aria-live="polite">
                    "The form differs from the current connection; press Connect to switch to it. \
                     Until then the connection and its subscriptions stay as they are."
                </p>
            }.into_any())}
            <div inner_html=BUTTONS></div>
        </form>
    }
}

/// Saved profiles: pick one to load it; save the form under a name; rename,
/// delete, export to a file, import from one. Part of the form's static
/// markup (`BUTTONS`); the form's handlers call these.
#[derive(Clone, Copy)]
struct Profiles {
    /// The profile picked in the list ("" for none).
    selected: RwSignal<String>,
    /// "Profile name", as typed.
    name: RwSignal<String>,
    /// The last action's sentence.
    message: RwSignal<Option<Result<String, String>>>,
}

impl Profiles {
    fn new() -> Self {
        Self {
            selected: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            message: RwSignal::new(None),
        }
    }

    fn report(self, r: Result<String, String>) {
        self.message.set(Some(r));
    }

    /// The effects drawing the list, the buttons' flags and the sentence.
    fn draw(self, s: AppState) {
        // The names the list holds (after "(saved profiles)").
        let mut shown: Vec<String> = Vec::new();
        effect(move || {
            let names: Vec<String> = s.profiles.with(|p| p.names().map(String::from).collect());
            dom::fill_options("pf-pick", names, &mut shown);
            set_value("pf-pick", &self.selected.get());
        });
        effect(move || {
            let none = self.selected.with(String::is_empty);
            let no_name = self.name.with(|n| n.trim().is_empty());
            set_flag("pf-save", "disabled", no_name);
            set_flag("pf-rename", "disabled", none || no_name);
            set_flag("pf-delete", "disabled", none);
            set_flag(
                "pf-export",
                "disabled",
                s.profiles
                    .with(|p| p.profiles.is_empty() && p.templates.is_empty()),
            );
        });
        effect(move || {
            let m = self.message.get();
            if let Some(e) = by_id("pf-message") {
                let class = match m {
                    Some(Err(_)) => "hint profile-message bad",
                    _ => "hint profile-message",
                };
                let _ = e.set_attribute("class", class);
            }
            set_text(
                "pf-message",
                &m.map(|r| r.unwrap_or_else(|e| e)).unwrap_or_default(),
            );
        });
    }

    /// A profile picked in the list is loaded.
    fn pick(self, s: AppState, picked: String) {
        self.selected.set(picked.clone());
        if picked.is_empty() {
            return;
        }
        self.name.set(picked.clone());
        self.report(actions::load_profile(s, &picked));
    }

    fn click(self, s: AppState, id: &str) {
        let (selected, name) = (self.selected, self.name);
        match id {
            "pf-save" => {
                let r = actions::save_profile(s, &name.get_untracked());
                if r.is_ok() {
                    selected.set(name.get_untracked().trim().to_string());
                }
                self.report(r);
            }
            "pf-rename" => {
                let (from, to) = (selected.get_untracked(), name.get_untracked());
                let r = actions::rename_profile(s, &from, &to);
                if r.is_ok() {
                    selected.set(to.trim().to_string());
                }
                self.report(r);
            }
            "pf-delete" => {
                let r = actions::delete_profile(s, &selected.get_untracked());
                if r.is_ok() {
                    selected.set(String::new());
                }
                self.report(r);
            }
            "pf-export" => self.report(actions::export_profiles(s)),
            _ => {}
        }
    }

    fn import(self, s: AppState, ev: &web_sys::Event) {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let input2 = input.clone();
        files::read_picked_file(&input, move |text| {
            // Picking the same file again must fire `change` again.
            input2.set_value("");
            match text {
                Ok(t) => actions::import_profiles(s, t, move |r| {
                    self.report(r.map_err(|e| format!("import failed: {e}")));
                }),
                Err(e) => self.report(Err(format!("import failed: {e}"))),
            }
        });
    }
}
