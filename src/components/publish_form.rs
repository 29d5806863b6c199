//! The publish form: topic (no wildcards), payload, format (text, JSON, hex,
//! OneNet `$dp` type 1 and 3), QoS, retain; with MQTT 5 chosen in the
//! connection form, the message properties (content type, payload format
//! indicator, message expiry, response topic, correlation data, any number
//! of user properties); "Clear retained"; and the log of each publish's
//! state until it completes, with the broker's reason code (MQTT 5).

use leptos::prelude::*;
use model::{PayloadFormat, PropertiesForm};
use mqtt_session::ProtocolVersion;

use crate::actions;
use crate::client::settings::parse_qos;
use crate::components::erased::{handler, show};
use crate::state::use_app;

/// The publish form's MQTT 5 properties, in the page's state so that
/// "Publish again" in a topic's detail can fill them.
#[derive(Clone, Copy)]
pub struct PropsDraft {
    /// Content type.
    pub content_type: RwSignal<String>,
    /// "Payload is UTF-8" (payload format indicator 1).
    pub utf8: RwSignal<bool>,
    /// Message expiry in seconds, as typed.
    pub expiry: RwSignal<String>,
    /// Response topic.
    pub response_topic: RwSignal<String>,
    /// Correlation data (text).
    pub correlation: RwSignal<String>,
    /// User properties, in order. Typing changes them untracked: the rows
    /// are rebuilt only when one is added or removed, or the form filled.
    pub user: RwSignal<Vec<(String, String)>>,
}

impl Default for PropsDraft {
    fn default() -> Self {
        Self::new()
    }
}

impl PropsDraft {
    /// Empty properties.
    pub fn new() -> Self {
        PropsDraft {
            content_type: RwSignal::new(String::new()),
            utf8: RwSignal::new(false),
            expiry: RwSignal::new(String::new()),
            response_topic: RwSignal::new(String::new()),
            correlation: RwSignal::new(String::new()),
            user: RwSignal::new(Vec::new()),
        }
    }

    /// The properties as typed (untracked, for actions).
    pub fn form(&self) -> PropertiesForm {
        PropertiesForm {
            content_type: self.content_type.get_untracked(),
            utf8: self.utf8.get_untracked(),
            expiry: self.expiry.get_untracked(),
            response_topic: self.response_topic.get_untracked(),
            correlation: self.correlation.get_untracked(),
            user: self.user.get_untracked(),
        }
    }

    /// Fills every property.
    pub fn set(&self, f: PropertiesForm) {
        self.content_type.set(f.content_type);
        self.utf8.set(f.utf8);
        self.expiry.set(f.expiry);
        self.response_topic.set(f.response_topic);
        self.correlation.set(f.correlation);
        self.user.set(f.user);
    }
}

/// Puts the keyboard in the element with this id after the next render.
fn focus_later(id: String) {
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// A labelled one-line input bound to `value` (one compiled view for every
/// such field of the publish form and the request/response helper).
pub(crate) fn text_field(
    label: &'static str,
    class: &'static str,
    kind: &'static str,
    placeholder: &'static str,
    value: RwSignal<String>,
) -> AnyView {
    let narrow = if kind == "number" { "narrow" } else { "" };
    view! {
        <label class=class>{label}
            <input type=kind bind:value=value class=narrow spellcheck="false" placeholder=placeholder />
        </label>
    }
    .into_any()
}

/// A "… QoS" select bound to `qos`; a value it cannot read goes to `error`.
pub(crate) fn qos_select(
    label: &'static str,
    qos: RwSignal<mqtt_session::QoS>,
    error: RwSignal<Option<String>>,
) -> AnyView {
    view! {
        <label>{label}
            <select prop:value=move || qos.get().as_u8().to_string() on:change=handler(move |ev| match parse_qos(&event_target_value(&ev)) {
                Ok(q) => qos.set(q),
                Err(e) => error.set(Some(e)),
            })>
                <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
            </select>
        </label>
    }
    .into_any()
}

/// A labelled textarea bound to `value`.
pub(crate) fn text_area(label: &'static str, rows: u32, value: RwSignal<String>) -> AnyView {
    view! {
        <label class="grow wide">{label}
            <textarea rows=rows bind:value=value spellcheck="false"></textarea>
        </label>
    }
    .into_any()
}

/// The "Message properties" fieldset (MQTT 5).
#[component]
fn MessageProperties() -> impl IntoView {
    let p = use_app().draft.props;
    let user = p.user;
    let add = move |_| {
        let n = user.try_update(|u| {
            u.push((String::new(), String::new()));
            u.len()
        });
        if let Some(n) = n {
            focus_later(format!("user-prop-{n}"));
        }
    };
    // Rebuilt when a row is added or removed (each value is read once, as
    // the row is built; typing writes untracked).
    let rows = move || {
        user.get()
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| {
                let n = i + 1;
                let edit = move |key: bool, ev| {
                    let text = event_target_value(&ev);
                    user.update_untracked(|u| {
                        if let Some(row) = u.get_mut(i) {
                            if key {
                                row.0 = text;
                            } else {
                                row.1 = text;
                            }
                        }
                    });
                };
                view! {
                    <div class="row">
                        <label>{format!("User property {n} name")}
                            <input type="text" id=format!("user-prop-{n}") prop:value=k spellcheck="false"
                                on:input=handler(move |ev| edit(true, ev)) />
                        </label>
                        <label>{format!("User property {n} value")}
                            <input type="text" prop:value=v spellcheck="false" on:input=handler(move |ev| edit(false, ev)) />
                        </label>
                        <button type="button" class="small" on:click=handler(move |_| {
                            user.update(|u| {
                                if i < u.len() {
                                    u.remove(i);
                                }
                            });
                            focus_later("add-user-prop".into());
                        })>{format!("Remove user property {n}")}</button>
                    </div>
                }
                .into_any()
            })
            .collect::<Vec<_>>()
    };
    view! {
        <fieldset class="props">
            <legend>"Message properties"</legend>
            <div class="row">
                {text_field("Content type", "", "text", "application/json", p.content_type)}
                <label class="check"><input type="checkbox" bind:checked=p.utf8 /> "Payload is UTF-8"</label>
                {text_field("Message expiry (s)", "", "number", "", p.expiry)}
                {text_field("Response topic", "grow", "text", "", p.response_topic)}
                {text_field("Correlation data", "grow", "text", "", p.correlation)}
            </div>
            {move || rows()}
            <button type="button" class="small" id="add-user-prop" on:click=handler(add)>"Add user property"</button>
        </fieldset>
    }
}

/// The publish form and its log.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
pub fn PublishForm() -> impl IntoView {
    let s = use_app();
    let (topic, payload, format, qos, retain) = (
        s.draft.topic,
        s.draft.payload,
        s.draft.format,
        s.draft.qos,
        s.draft.retain,
    );
    let outcome = RwSignal::new(None::<String>);
    let topic_problem = move || {
        let t = topic.get();
        (!t.is_empty())
            .then(|| model::validate_topic_name(&t).err().map(|e| e.to_string()))
            .flatten()
    };
    let v5 = move || s.form.protocol.get() == ProtocolVersion::V5;
    // "Clear retained" sends an empty retained message with the chosen QoS
    // (and no properties).
    let send = move |clear: bool| {
        let q = qos.get_untracked();
        let (text, fmt, keep) = if clear {
            (String::new(), PayloadFormat::Text, true)
        } else {
            (
                payload.get_untracked(),
                format.get_untracked(),
                retain.get_untracked(),
            )
        };
        let props = (!clear && untrack(v5)).then(|| s.draft.props.form());
        let r = actions::publish_with(
            s,
            &topic.get_untracked(),
            &text,
            fmt,
            q,
            keep,
            props.as_ref(),
        );
        outcome.set(r.err());
    };
    let on_format = move |ev| match PayloadFormat::from_key(&event_target_value(&ev)) {
        Some(f) => format.set(f),
        None => outcome.set(Some(format!(
            "unknown payload format {:?}",
            event_target_value(&ev)
        ))),
    };
    let connected = move || s.status.get().is_connected();
    let cannot_send = move || !connected() || topic.get().is_empty() || topic_problem().is_some();
    view! {
        <section class="publish" aria-label="Publish">
            <form class="row" novalidate on:submit=handler(move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(false); })>
                <label class="grow">"Topic"
                    <input type="text" bind:value=topic spellcheck="false" placeholder="devices/dash/cmd"
                        aria-invalid=move || topic_problem().is_some().to_string() />
                </label>
                <label>"Payload format"
                    <select prop:value=move || format.get().key() on:change=handler(on_format)>
                        {PayloadFormat::ALL.iter().map(|f| view! { <option value=f.key()>{f.label()}</option> }.into_any()).collect::<Vec<_>>()}
                    </select>
                </label>
                {qos_select("Publish QoS", qos, outcome)}
                <label class="check"><input type="checkbox" bind:checked=retain /> "Retain"</label>
                {text_area("Payload", 3, payload)}
                {show(v5, || view! { <MessageProperties /> }.into_any())}
                <div class="buttons">
                    <button type="submit" disabled=move || cannot_send()>"Publish"</button>
                    <button type="button" disabled=move || cannot_send() on:click=handler(move |_| send(true))>"Clear retained"</button>
                </div>
            </form>
            <p class="hint" role="alert">{move || topic_problem().or_else(|| outcome.get())}</p>
            {show(move || !connected(), move || view! {
                <p class="hint">"Connect to publish."</p>
            }.into_any())}
            <ol class="publish-log" aria-label="Publish log">
                {move || s.publishes.get().records().take(10).map(|r| {
                    let line = format!("#{} {} · QoS {}{} · {} bytes{} · ", r.id, r.topic, r.qos,
                        if r.retain { " retained" } else { "" }, r.size,
                        if r.with_properties { " · with properties" } else { "" });
                    view! { <li>{line}<span class="pub-state">{r.describe()}</span></li> }.into_any()
                }).collect::<Vec<_>>()}
            </ol>
        </section>
    }
}
