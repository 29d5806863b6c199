//! The publish form: topic (no wildcards), payload, format (text, JSON, hex,
//! OneNet `$dp` type 1 and 3), QoS, retain; with MQTT 5 chosen in the
//! connection form, the message properties (content type, payload format
//! indicator, message expiry, response topic, correlation data, any number
//! of user properties); "Clear retained"; and the log of each publish's
//! state until it completes, with the broker's reason code (MQTT 5).
//!
//! Variables (`{{counter}}`, `{{now}}`, …, `model::variables`) in the topic
//! and payload are replaced at each send, with a preview; saved templates
//! (kept with the profiles); a repeat driven by `model::Repeat` from a
//! timer here; and the supervisor's outbox of QoS 1/2 publishes made while
//! reconnecting, each cancellable.

use std::time::Duration;

use leptos::prelude::*;
use model::variables::{has_variables, uses_counter};
use model::{PayloadFormat, PropertiesForm, PublishTemplate, Repeat, RepeatPlan};
use mqtt_session::{ProtocolVersion, QoS};

use crate::actions;
use crate::client::browser::now_ms;
use crate::client::settings::parse_qos;
use crate::client::supervisor::Status;
use crate::components::erased::{handler, keyed, memo, show, Keyed};
use crate::state::{use_app, AppState};

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

/// The saved templates: pick one to fill the form, save the form under a
/// name, rename, delete.
#[component]
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
fn Templates() -> impl IntoView {
    let s = use_app();
    let d = s.draft;
    let name = RwSignal::new(String::new());
    let selected = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let report = move |r: Result<String, String>| message.set(Some(r));
    let on_pick = move |ev| {
        let picked = event_target_value(&ev);
        selected.set(picked.clone());
        let Some(t) = s.profiles.with_untracked(|p| p.template(&picked).cloned()) else {
            return;
        };
        d.topic.set(t.topic);
        d.payload.set(t.payload);
        d.format.set(t.format);
        d.qos.set(QoS::from_u8(t.qos).unwrap_or(QoS::AtMostOnce));
        d.retain.set(t.retain);
        d.props.set(t.properties);
        name.set(picked.clone());
        report(Ok(format!("filled the form from template {picked:?}")));
    };
    let save = move |_| {
        let t = PublishTemplate {
            name: name.get_untracked().trim().to_string(),
            topic: d.topic.get_untracked(),
            format: d.format.get_untracked(),
            payload: d.payload.get_untracked(),
            qos: d.qos.get_untracked().as_u8(),
            retain: d.retain.get_untracked(),
            properties: d.props.form(),
        };
        let n = t.name.clone();
        let r = actions::save_template(s, t);
        if r.is_ok() {
            selected.set(n);
        }
        report(r);
    };
    let rename = move |_| {
        let to = name.get_untracked().trim().to_string();
        let r = actions::rename_template(s, &selected.get_untracked(), &to);
        if r.is_ok() {
            selected.set(to);
        }
        report(r);
    };
    let delete = move |_| {
        let r = actions::delete_template(s, &selected.get_untracked());
        if r.is_ok() {
            selected.set(String::new());
        }
        report(r);
    };
    let nothing_selected = move || selected.get().is_empty();
    let no_name = move || name.get().trim().is_empty();
    view! {
        <fieldset class="props">
            <legend>"Templates"</legend>
            <div class="row">
                <label>"Template"
                    <select on:change=handler(on_pick) prop:value=move || selected.get()>
                        <option value="">"(saved templates)"</option>
                        {keyed(move || {
                            s.profiles.with(|p| p.templates.iter().map(|t| {
                                let n = t.name.clone();
                                Keyed::new(n.clone(), move || view! { <option value=n.clone()>{n.clone()}</option> }.into_any())
                            }).collect())
                        })}
                    </select>
                </label>
                {text_field("Template name", "", "text", "e.g. sensor reading", name)}
                <button type="button" disabled=move || no_name() on:click=handler(save)>"Save template"</button>
                <button type="button" disabled=move || nothing_selected() || no_name() on:click=handler(rename)>"Rename template"</button>
                <button type="button" disabled=move || nothing_selected() on:click=handler(delete)>"Delete template"</button>
            </div>
            <p class="hint" aria-live="polite">{move || message.get().map(|r| r.unwrap_or_else(|e| e))}</p>
        </fieldset>
    }
}

/// A repeat in progress: the schedule and counters, and the message as it
/// was when the repeat started (variables replaced for each message).
struct Run {
    repeat: Repeat,
    topic: String,
    payload: String,
    format: PayloadFormat,
    qos: QoS,
    retain: bool,
    props: Option<PropertiesForm>,
    counts: bool,
}

/// The form's counter as typed: the value `{{counter}}` takes next.
fn counter_value(counter: RwSignal<String>) -> Result<u64, String> {
    counter
        .get_untracked()
        .trim()
        .parse()
        .map_err(|_| "Next counter: a whole number, 0 or more".to_string())
}

/// One turn of a repeat's timer: takes the outcomes, sends what is due,
/// shows the counters, and comes back in 10 ms until the repeat is over
/// (or another one replaced it: `generation`).
fn repeat_tick(
    s: AppState,
    run: StoredValue<Option<Run>>,
    generation: StoredValue<u64>,
    mine: u64,
    counter: RwSignal<String>,
    text: RwSignal<String>,
) {
    if generation.try_get_value() != Some(mine) {
        return;
    }
    let outcomes = s.client().with(|sup| sup.take_outcomes());
    let now = now_ms();
    let more = run
        .try_update_value(|r| {
            let Some(r) = r else { return false };
            for (id, ok) in outcomes {
                r.repeat.outcome(id, ok);
            }
            while r.repeat.due(now) {
                let sent = counter_value(counter).and_then(|c| {
                    let (t, p) = actions::expand_message(&r.topic, &r.payload, c)?;
                    let id = actions::publish_repeated(
                        s,
                        &t,
                        &p,
                        r.format,
                        r.qos,
                        r.retain,
                        r.props.as_ref(),
                    )?;
                    Ok((c, id))
                });
                match sent {
                    Ok((c, id)) => {
                        r.repeat.sent(id);
                        if r.counts {
                            counter.set((c + 1).to_string());
                        }
                    }
                    Err(e) => r.repeat.refused(e),
                }
            }
            text.set(r.repeat.describe());
            !r.repeat.finished()
        })
        .unwrap_or(false);
    if more {
        set_timeout(
            move || repeat_tick(s, run, generation, mine, counter, text),
            Duration::from_millis(10),
        );
    } else {
        let _ = generation.try_update_value(|g| *g += 1);
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
    let counter = RwSignal::new("1".to_string());
    // Bumped when the outbox changes here (queued, cancelled).
    let outbox_rev = RwSignal::new(0u64);
    let topic_problem = move || {
        let t = topic.get();
        (!t.is_empty() && !has_variables(&t))
            .then(|| model::validate_topic_name(&t).err().map(|e| e.to_string()))
            .flatten()
    };
    // The message with its variables replaced, for the preview (`None`:
    // no variables), or what is wrong with them.
    let preview = memo(move || -> Result<Option<(String, String)>, String> {
        let (t, p) = (topic.get(), payload.get());
        counter.track();
        if !has_variables(&t) && !has_variables(&p) {
            return Ok(None);
        }
        let (t, p) = actions::expand_message(&t, &p, counter_value(counter)?)?;
        if !t.is_empty() {
            model::validate_topic_name(&t).map_err(|e| format!("Topic: {e}"))?;
        }
        Ok(Some((t, p)))
    });
    let problem = move || topic_problem().or_else(|| preview.get().err());
    let v5 = move || s.form.protocol.get() == ProtocolVersion::V5;
    // "Clear retained" sends an empty retained message with the chosen QoS
    // (and no properties).
    let send = move |clear: bool| {
        let q = qos.get_untracked();
        let (raw_topic, fmt, keep) = (
            topic.get_untracked(),
            format.get_untracked(),
            retain.get_untracked() || clear,
        );
        let raw_payload = if clear {
            String::new()
        } else {
            payload.get_untracked()
        };
        let fmt = if clear { PayloadFormat::Text } else { fmt };
        let counts = uses_counter(&raw_topic) || uses_counter(&raw_payload);
        let props = (!clear && untrack(v5)).then(|| s.draft.props.form());
        let r = counter_value(counter).and_then(|c| {
            let (t, p) = actions::expand_message(&raw_topic, &raw_payload, c)?;
            let done = actions::publish_or_queue(s, &t, &p, fmt, q, keep, props.as_ref())?;
            if counts {
                counter.set((c + 1).to_string());
            }
            Ok(done)
        });
        outbox_rev.update(|n| *n += 1);
        outcome.set(r.unwrap_or_else(Some));
    };
    let on_format = move |ev| match PayloadFormat::from_key(&event_target_value(&ev)) {
        Some(f) => format.set(f),
        None => outcome.set(Some(format!(
            "unknown payload format {:?}",
            event_target_value(&ev)
        ))),
    };
    let connected = move || s.status.get().is_connected();
    let reconnecting = move || {
        matches!(
            s.status.get(),
            Status::Connecting { .. } | Status::Reconnecting { .. }
        )
    };
    let cannot_send =
        move || !(connected() || reconnecting()) || topic.get().is_empty() || problem().is_some();

    // The repeat.
    let every = RwSignal::new("1000".to_string());
    let per_second = RwSignal::new(false);
    let count = RwSignal::new("10".to_string());
    let run: StoredValue<Option<Run>> = StoredValue::new(None);
    let generation = StoredValue::new(0u64);
    let repeat_text = RwSignal::new(String::new());
    let repeating = RwSignal::new(false);
    let start = move |_| {
        let q = qos.get_untracked();
        let receive_maximum = s.granted.get_untracked().map(|g| g.receive_maximum);
        let plan = match RepeatPlan::parse(
            &every.get_untracked(),
            per_second.get_untracked(),
            &count.get_untracked(),
            q.as_u8(),
            receive_maximum,
        ) {
            Ok(p) => p,
            Err(e) => return outcome.set(Some(e)),
        };
        let (t, p) = (topic.get_untracked(), payload.get_untracked());
        run.set_value(Some(Run {
            repeat: Repeat::new(plan, now_ms()),
            counts: uses_counter(&t) || uses_counter(&p),
            topic: t,
            payload: p,
            format: format.get_untracked(),
            qos: q,
            retain: retain.get_untracked(),
            props: untrack(v5).then(|| s.draft.props.form()),
        }));
        outcome.set(None);
        // Outcomes of an earlier repeat are of no use now.
        let _ = s.client().with(|sup| sup.take_outcomes());
        generation.update_value(|g| *g += 1);
        repeating.set(true);
        repeat_tick(
            s,
            run,
            generation,
            generation.get_value(),
            counter,
            repeat_text,
        );
    };
    let stop = move |_| {
        run.update_value(|r| {
            if let Some(r) = r {
                r.repeat.stop();
                repeat_text.set(r.repeat.describe());
            }
        });
    };
    // `repeating` follows the timer: the tick bumps `generation` when done.
    let clock_check = move || {
        s.clock.track();
        repeat_text.track();
        let running = run.with_value(|r| r.as_ref().is_some_and(|r| !r.repeat.finished()));
        if repeating.get_untracked() != running {
            repeating.set(running);
        }
    };
    crate::components::erased::effect(clock_check);

    // The outbox, re-read when the status changes, twice a second (its
    // report's acknowledgements) and when changed from here.
    let outbox = memo(move || {
        s.status.track();
        s.clock.track();
        outbox_rev.track();
        s.client().peek(|sup| {
            let list: Vec<(u64, String)> = sup
                .queued()
                .iter()
                .map(|q| {
                    (
                        q.id,
                        format!(
                            "#{} {} · QoS {}{} · {} bytes",
                            q.id,
                            q.topic,
                            q.qos.as_u8(),
                            if q.retain { " retained" } else { "" },
                            q.payload.len()
                        ),
                    )
                })
                .collect();
            (list, sup.outbox_report().describe())
        })
    });

    view! {
        <section class="publish" aria-label="Publish">
            <form class="row" novalidate on:submit=handler(move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(false); })>
                <label class="grow">"Topic"
                    <input type="text" bind:value=topic spellcheck="false" placeholder="devices/dash/cmd"
                        aria-invalid=move || problem().is_some().to_string() />
                </label>
                <label>"Payload format"
                    <select prop:value=move || format.get().key() on:change=handler(on_format)>
                        {PayloadFormat::ALL.iter().map(|f| view! { <option value=f.key()>{f.label()}</option> }.into_any()).collect::<Vec<_>>()}
                    </select>
                </label>
                {qos_select("Publish QoS", qos, outcome)}
                <label class="check"><input type="checkbox" bind:checked=retain /> "Retain"</label>
                {text_area("Payload", 3, payload)}
                {text_field("Next counter", "", "number", "", counter)}
                {show(v5, || view! { <MessageProperties /> }.into_any())}
                <div class="buttons">
                    <button type="submit" disabled=move || cannot_send()>"Publish"</button>
                    <button type="button" disabled=move || cannot_send() on:click=handler(move |_| send(true))>"Clear retained"</button>
                </div>
            </form>
            <p class="hint" role="alert">{move || problem().or_else(|| outcome.get())}</p>
            {show(move || matches!(preview.get(), Ok(Some(_))), move || view! {
                <p class="hint preview">"Preview (the time and random values are drawn again when sent): "
                    <code class="preview-topic">{move || preview.get().ok().flatten().map(|p| p.0)}</code>
                    " ← "
                    <code class="preview-payload">{move || preview.get().ok().flatten().map(|p| p.1)}</code>
                </p>
            }.into_any())}
            {show(move || !connected(), move || view! {
                <p class="hint">{move || String::from(if reconnecting() {
                    "Not connected yet: QoS 1 and 2 publishes are queued and sent when the connection is back; QoS 0 is refused."
                } else {
                    "Connect to publish."
                })}</p>
            }.into_any())}
            {show(move || outbox.with(|o| !o.0.is_empty() || o.1.is_some()), move || view! {
                <p class="hint">{move || outbox.with(|o| o.1.clone())}</p>
                <ul role="list" aria-label="Queued publishes" class="publish-log">
                    {move || outbox.get().0.into_iter().map(|(id, line)| view! {
                        <li>{line}" "
                            <button type="button" class="small" on:click=handler(move |_| {
                                actions::cancel_queued(s, id);
                                outbox_rev.update(|n| *n += 1);
                            })>{format!("Cancel queued publish #{id}")}</button>
                        </li>
                    }.into_any()).collect::<Vec<_>>()}
                </ul>
            }.into_any())}
            <fieldset class="props">
                <legend>"Repeat"</legend>
                <div class="row">
                    {text_field("Repeat every", "", "number", "", every)}
                    <label>"Repeat unit"
                        <select prop:value=move || String::from(if per_second.get() { "s" } else { "ms" })
                            on:change=handler(move |ev| per_second.set(event_target_value(&ev) == "s"))>
                            <option value="ms">"ms between messages"</option>
                            <option value="s">"messages per second"</option>
                        </select>
                    </label>
                    {text_field("Repeat count (empty: until stopped)", "", "number", "", count)}
                    <button type="button" disabled=move || repeating.get() || !connected() || cannot_send()
                        on:click=handler(start)>"Start repeat"</button>
                    <button type="button" disabled=move || !repeating.get() on:click=handler(stop)>"Stop repeat"</button>
                </div>
                <p class="hint repeat-counters" aria-live="polite">{move || repeat_text.get()}</p>
            </fieldset>
            <Templates />
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
