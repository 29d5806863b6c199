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
//!
//! The form is a static card (docs/architecture.md, "Static cards"):
//! constant markup set with `inner_html`, one delegated `submit`, `input`,
//! `change` and `click` handler, the values owned by the `PublishDraft` and
//! `PropsDraft` signals in the page's state (bound to the controls by
//! `components::dom`, so "Publish again" and a template fill the form) and
//! by the form's own signals. The message properties are hidden, not
//! removed, while the connection form says 3.1.1 or 3.1. The rows that
//! change in number (user properties, the outbox, the log, the template
//! names) are made with `createElement`; topics, payloads and names go in as
//! text, never as HTML.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use model::variables::{has_variables, uses_counter};
use model::{PayloadFormat, PropertiesForm, PublishTemplate, Repeat, RepeatPlan};
use mqtt_session::{ProtocolVersion, QoS};
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::actions;
use crate::client::browser::now_ms;
use crate::client::settings::parse_qos;
use crate::client::supervisor::Status;
use crate::components::dom::{
    self, append, by_id, read_input, set_flag, set_text, set_value, write_back, Bindings, Bound,
};
use crate::components::erased::{effect, handler, memo};
use crate::state::{use_app, AppState};
use crate::wake_timer::WakeTimer;

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

/// The form's controls; ids are `pub-*`, `rep-*` (the repeat), `tpl-*`
/// (templates) and `user-*` (user property rows, made by [`draw_user`]).
/// The format options are `PayloadFormat::ALL` (a test checks they agree).
const CARD: &str = concat!(
    r#"<form class="row" novalidate>"#,
    r#"<label class="grow">Topic<input id="pub-topic" type="text" spellcheck="false" placeholder="devices/dash/cmd" aria-invalid="false"></label>"#,
    r#"<label>Payload format<select id="pub-format"><option value="text">Text</option><option value="json">JSON</option>"#,
    r#"<option value="hex">Hex</option><option value="dp1">OneNet $dp type 1 (datastreams)</option>"#,
    r#"<option value="dp3">OneNet $dp type 3 (flat JSON)</option></select></label>"#,
    r#"<label>Publish QoS<select id="pub-qos"><option value="0">0</option><option value="1">1</option>"#,
    r#"<option value="2">2</option></select></label>"#,
    r#"<label class="check"><input type="checkbox" id="pub-retain">Retain</label>"#,
    r#"<label class="grow wide">Payload<textarea id="pub-payload" rows="3" spellcheck="false"></textarea></label>"#,
    r#"<label>Next counter<input id="pub-counter" type="number" class="narrow" spellcheck="false"></label>"#,
    r#"<fieldset class="props" id="pub-props" hidden><legend>Message properties</legend><div class="row">"#,
    r#"<label>Content type<input id="pub-ct" type="text" spellcheck="false" placeholder="application/json"></label>"#,
    r#"<label class="check"><input type="checkbox" id="pub-utf8">Payload is UTF-8</label>"#,
    r#"<label>Message expiry (s)<input id="pub-expiry" type="number" class="narrow" spellcheck="false"></label>"#,
    r#"<label class="grow">Response topic<input id="pub-rt" type="text" spellcheck="false"></label>"#,
    r#"<label class="grow">Correlation data<input id="pub-corr" type="text" spellcheck="false" placeholder="text, or 0x00ff… for bytes"></label>"#,
    r#"</div><div id="pub-user"></div>"#,
    r#"<button type="button" class="small" id="add-user-prop">Add user property</button></fieldset>"#,
    r#"<div class="buttons"><button type="submit" id="pub-go" disabled>Publish</button>"#,
    r#"<button type="button" id="pub-clear" disabled>Clear retained</button></div></form>"#,
    r#"<p class="hint" role="alert" id="pub-problem"></p>"#,
    r#"<p class="hint preview" aria-live="off" id="pub-preview"></p>"#,
    r#"<p class="hint" id="pub-offline">Connect to publish.</p>"#,
    r#"<p class="hint" aria-live="polite" id="pub-outbox"></p>"#,
    r#"<ul role="list" aria-label="Queued publishes" class="publish-log" id="pub-queued"></ul>"#,
    r#"<fieldset class="props"><legend>Repeat</legend><div class="row">"#,
    r#"<label>Repeat every (ms, or N/s)<input id="rep-every" type="text" spellcheck="false" placeholder="1000 or 50/s"></label>"#,
    r#"<label>Repeat count (empty: until stopped)<input id="rep-count" type="number" class="narrow" spellcheck="false"></label>"#,
    r#"<button type="button" id="rep-start" disabled>Start repeat</button>"#,
    r#"<button type="button" id="rep-stop" disabled>Stop repeat</button></div>"#,
    r#"<p class="hint repeat-counters" aria-live="off" id="rep-text"></p></fieldset>"#,
    r#"<fieldset class="props"><legend>Templates</legend><div class="row">"#,
    r#"<label>Template<select id="tpl-pick"><option value="">(saved templates)</option></select></label>"#,
    r#"<label>Template name<input id="tpl-name" type="text" spellcheck="false" placeholder="e.g. sensor reading"></label>"#,
    r#"<button type="button" id="tpl-save" disabled>Save template</button>"#,
    r#"<button type="button" id="tpl-rename" disabled>Rename template</button>"#,
    r#"<button type="button" id="tpl-delete" disabled>Delete template</button></div>"#,
    r#"<p class="hint" aria-live="polite" id="tpl-message"></p></fieldset>"#,
    r#"<ol class="publish-log" aria-label="Publish log" id="pub-log"></ol>"#,
);

/// Puts the keyboard in the element with this id after the next render.
fn focus_later(id: String) {
    request_animation_frame(move || {
        if let Some(el) = by_id(&id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}

/// The number after `prefix` in `id` (`user-prop-3` → 3).
fn numbered(id: &str, prefix: &str) -> Option<usize> {
    id.strip_prefix(prefix)?.parse().ok()
}

/// Empties the element with this id (rows about to be made again).
fn emptied(id: &str) -> Option<Element> {
    let e = by_id(id)?;
    e.set_text_content(None);
    Some(e)
}

/// A text input in `parent` with this id and value (set as the property).
fn text_input(parent: &Element, id: &str, value: &str) {
    if let Some(i) = append(parent, "input", "") {
        let _ = i.set_attribute("type", "text");
        let _ = i.set_attribute("spellcheck", "false");
        i.set_id(id);
        let _ = js_sys::Reflect::set(&i, &"value".into(), &value.into());
    }
}

/// A small button in `parent` with this id and text.
fn small_button(parent: &Element, id: &str, text: &str) {
    if let Some(b) = append(parent, "button", text) {
        let _ = b.set_attribute("type", "button");
        b.set_class_name("small");
        b.set_id(id);
    }
}

/// The user property rows, numbered from 1: "User property N name" (id
/// `user-prop-N`, where Add puts the keyboard), "… value" (`user-val-N`)
/// and "Remove user property N" (`user-del-N`).
fn draw_user(rows: &[(String, String)]) {
    let Some(list) = emptied("pub-user") else {
        return;
    };
    for (i, (k, v)) in rows.iter().enumerate() {
        let n = i + 1;
        let Some(row) = append(&list, "div", "") else {
            return;
        };
        row.set_class_name("row");
        if let Some(l) = append(&row, "label", &format!("User property {n} name")) {
            text_input(&l, &format!("user-prop-{n}"), k);
        }
        if let Some(l) = append(&row, "label", &format!("User property {n} value")) {
            text_input(&l, &format!("user-val-{n}"), v);
        }
        small_button(
            &row,
            &format!("user-del-{n}"),
            &format!("Remove user property {n}"),
        );
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

/// The repeat's state, shared by its buttons and its timer; `generation`
/// tells a timer whether its repeat is still the current one.
#[derive(Clone)]
struct Repeating {
    run: Rc<RefCell<Option<Run>>>,
    generation: Rc<Cell<u64>>,
    counter: RwSignal<String>,
    text: RwSignal<String>,
    active: RwSignal<bool>,
    /// Made at the first repeat and kept: it and the form live as long as
    /// the page.
    timer: Rc<RefCell<Option<WakeTimer>>>,
}

impl Repeating {
    /// Runs the next [`repeat_tick`] in `ms`, by a worker's timer: a
    /// main-thread timer fires once a minute in a hidden tab, and a repeat
    /// must keep its pace while the user looks at another tab.
    fn tick_in(&self, s: AppState, ms: u64) {
        let mut timer = self.timer.borrow_mut();
        let timer = timer.get_or_insert_with(|| {
            let r = self.clone();
            WakeTimer::new(move || repeat_tick(s, r.clone(), r.generation.get()))
        });
        timer.set(Some(ms));
    }
}

/// The form's counter as typed: the value `{{counter}}` takes next.
fn counter_value(counter: RwSignal<String>) -> Result<u64, String> {
    counter
        .get_untracked()
        .trim()
        .parse::<u32>()
        .map(u64::from)
        .map_err(|_| "Next counter: a whole number from 0 to 4294967295".to_string())
}

/// One turn of a repeat's timer: takes the outcomes, sends what is due,
/// shows the counters, and comes back in 10 ms until the repeat is over
/// (or another one replaced it).
fn repeat_tick(s: AppState, r: Repeating, mine: u64) {
    if r.generation.get() != mine {
        return;
    }
    let outcomes = s.client().with(|sup| sup.take_outcomes());
    let now = now_ms();
    let more = {
        let mut guard = r.run.borrow_mut();
        let Some(run) = guard.as_mut() else { return };
        for (id, ok) in outcomes {
            run.repeat.outcome(id, ok);
        }
        while run.repeat.due(now) {
            let sent = counter_value(r.counter).and_then(|c| {
                let (t, p) = actions::expand_message(&run.topic, &run.payload, c)?;
                let id = actions::publish_repeated(
                    s,
                    &t,
                    &p,
                    run.format,
                    run.qos,
                    run.retain,
                    run.props.as_ref(),
                )?;
                Ok((c, id))
            });
            match sent {
                Ok((c, id)) => {
                    run.repeat.sent(id);
                    if run.counts {
                        r.counter.try_set((c + 1).to_string());
                    }
                }
                Err(e) => run.repeat.refused(e),
            }
        }
        r.text.try_set(run.repeat.describe());
        !run.repeat.finished()
    };
    if more {
        r.tick_in(s, 10);
    } else {
        r.active.try_set(false);
    }
}

/// What the form's handlers and effects share; its methods are compiled
/// once however many closures call them.
#[derive(Clone, Copy)]
struct Form {
    s: AppState,
    counter: RwSignal<String>,
    outcome: RwSignal<Option<String>>,
    /// Bumped when the outbox changes here (queued, cancelled).
    outbox_rev: RwSignal<u64>,
    every: RwSignal<String>,
    count: RwSignal<String>,
    /// "Template name", as typed.
    name: RwSignal<String>,
    /// The template picked in the list ("" for none).
    selected: RwSignal<String>,
    /// The last template action's sentence.
    message: RwSignal<Option<Result<String, String>>>,
}

impl Form {
    /// The message with its variables replaced, for the preview (`None`:
    /// no variables), or what is wrong with the topic or the variables.
    #[inline(never)]
    fn preview(self) -> Result<Option<(String, String)>, String> {
        let d = self.s.draft;
        let (t, p) = (d.topic.get(), d.payload.get());
        self.counter.track();
        if !has_variables(&t) && !has_variables(&p) {
            if !t.is_empty() {
                model::validate_topic_name(&t).map_err(|e| e.to_string())?;
            }
            return Ok(None);
        }
        let (t, p) = actions::expand_message(&t, &p, counter_value(self.counter)?)?;
        if !t.is_empty() {
            model::validate_topic_name(&t).map_err(|e| format!("Topic: {e}"))?;
        }
        Ok(Some((t, p)))
    }

    /// Publish (or, with `clear`, an empty retained message with the chosen
    /// QoS and no properties): variables replaced, sent or queued.
    #[inline(never)]
    fn send(self, clear: bool) {
        let (s, d) = (self.s, self.s.draft);
        let q = d.qos.get_untracked();
        let raw_topic = d.topic.get_untracked();
        let (raw_payload, fmt) = if clear {
            (String::new(), PayloadFormat::Text)
        } else {
            (d.payload.get_untracked(), d.format.get_untracked())
        };
        let counts = uses_counter(&raw_topic) || uses_counter(&raw_payload);
        let v5 = s.form.protocol.get_untracked() == ProtocolVersion::V5;
        let props = (!clear && v5).then(|| d.props.form());
        let keep = clear || d.retain.get_untracked();
        let r = counter_value(self.counter).and_then(|c| {
            let (t, p) = actions::expand_message(&raw_topic, &raw_payload, c)?;
            let done = actions::publish_or_queue(s, &t, &p, fmt, q, keep, props.as_ref())?;
            if counts {
                self.counter.set((c + 1).to_string());
            }
            Ok(done)
        });
        self.outbox_rev.update(|n| *n += 1);
        self.outcome.set(r.unwrap_or_else(Some));
    }

    /// The problem line, the preview, the "not connected" line and which
    /// buttons can be pressed (Publish, Clear retained and Start repeat
    /// cannot while disconnected, without a topic or with a problem).
    #[inline(never)]
    fn draw(self, active: RwSignal<bool>) {
        let s = self.s;
        let preview = self.preview();
        let problem = preview.as_ref().err().cloned();
        if let Some(e) = by_id("pub-topic") {
            let bad = if problem.is_some() { "true" } else { "false" };
            let _ = e.set_attribute("aria-invalid", bad);
        }
        let (offline, connected, reconnecting) = s.status.with(|st| match st {
            Status::Connected { .. } => (false, true, false),
            Status::Connecting { .. } | Status::Reconnecting { .. } => (false, false, true),
            Status::Disconnected { .. } => (true, false, false),
        });
        let cannot_send = offline || s.draft.topic.with(String::is_empty) || problem.is_some();
        set_text(
            "pub-problem",
            &problem.or_else(|| self.outcome.get()).unwrap_or_default(),
        );
        let shown = match preview {
            Ok(Some((t, p))) => {
                format!("Preview (the time and random values are drawn again when sent): {t} ← {p}")
            }
            _ => String::new(),
        };
        set_text("pub-preview", &shown);
        set_flag("pub-go", "disabled", cannot_send);
        set_flag("pub-clear", "disabled", cannot_send);
        set_flag(
            "rep-start",
            "disabled",
            active.get() || !connected || cannot_send,
        );
        set_flag("pub-offline", "hidden", connected);
        set_text(
            "pub-offline",
            if reconnecting {
                "Not connected yet: QoS 1 and 2 publishes are queued and sent when the connection is back; QoS 0 is refused."
            } else {
                "Connect to publish."
            },
        );
    }

    /// The outbox (its report and the queued publishes, each with its
    /// Cancel button `pub-cancel-ID`) and the last ten publishes' log.
    #[inline(never)]
    fn draw_outbox(self) {
        let s = self.s;
        s.client().peek(|sup| {
            set_text(
                "pub-outbox",
                &sup.outbox_report().describe().unwrap_or_default(),
            );
            let Some(list) = emptied("pub-queued") else {
                return;
            };
            for q in sup.queued() {
                let line = format!(
                    "#{} {} · QoS {}{} · {} bytes ",
                    q.id,
                    q.topic,
                    q.qos.as_u8(),
                    if q.retain { " retained" } else { "" },
                    q.payload.len()
                );
                if let Some(li) = append(&list, "li", &line) {
                    small_button(
                        &li,
                        &format!("pub-cancel-{}", q.id),
                        &format!("Cancel queued publish #{}", q.id),
                    );
                }
            }
        });
    }

    /// The publish log: the ten latest publishes, each with its state.
    #[inline(never)]
    fn draw_log(self) {
        self.s.publishes.with(|log| {
            let Some(list) = emptied("pub-log") else {
                return;
            };
            for r in log.records().take(10) {
                let line = format!(
                    "#{} {} · QoS {}{} · {} bytes{} · ",
                    r.id,
                    r.topic,
                    r.qos,
                    if r.retain { " retained" } else { "" },
                    r.size,
                    if r.with_properties {
                        " · with properties"
                    } else {
                        ""
                    }
                );
                if let Some(li) = append(&list, "li", &line) {
                    if let Some(state) = append(&li, "span", &r.describe()) {
                        state.set_class_name("pub-state");
                    }
                }
            }
        });
    }

    /// Start repeat: the message as it is now, sent on the plan typed.
    fn start(self, rep: &Repeating) {
        let (s, d) = (self.s, self.s.draft);
        let q = d.qos.get_untracked();
        let receive_maximum = s.granted.get_untracked().map(|g| g.receive_maximum);
        let plan = match RepeatPlan::parse(
            &self.every.get_untracked(),
            &self.count.get_untracked(),
            q.as_u8(),
            receive_maximum,
        ) {
            Ok(p) => p,
            Err(e) => return self.outcome.set(Some(e)),
        };
        let (t, p) = (d.topic.get_untracked(), d.payload.get_untracked());
        let v5 = s.form.protocol.get_untracked() == ProtocolVersion::V5;
        *rep.run.borrow_mut() = Some(Run {
            repeat: Repeat::new(plan, now_ms()),
            counts: uses_counter(&t) || uses_counter(&p),
            topic: t,
            payload: p,
            format: d.format.get_untracked(),
            qos: q,
            retain: d.retain.get_untracked(),
            props: v5.then(|| d.props.form()),
        });
        self.outcome.set(None);
        // Outcomes of an earlier repeat are of no use now.
        let _ = s.client().with(|sup| sup.take_outcomes());
        let mine = rep.generation.get() + 1;
        rep.generation.set(mine);
        rep.active.set(true);
        repeat_tick(s, rep.clone(), mine);
    }

    /// A template picked in the list fills the form.
    fn pick(self, picked: String) {
        let (s, d) = (self.s, self.s.draft);
        self.selected.set(picked.clone());
        let Some(t) = s.profiles.with_untracked(|p| p.template(&picked).cloned()) else {
            return;
        };
        d.topic.set(t.topic);
        d.payload.set(t.payload);
        d.format.set(t.format);
        d.qos.set(QoS::from_u8(t.qos).unwrap_or(QoS::AtMostOnce));
        d.retain.set(t.retain);
        d.props.set(t.properties);
        self.name.set(picked.clone());
        self.message.set(Some(Ok(format!(
            "filled the form from template {picked:?}"
        ))));
    }

    /// Save, rename or delete a template.
    fn template(self, id: &str) {
        let (s, d) = (self.s, self.s.draft);
        let name = self.name.get_untracked().trim().to_string();
        let selected = self.selected.get_untracked();
        let (r, now_selected) = match id {
            "tpl-save" => {
                let t = PublishTemplate {
                    name: name.clone(),
                    topic: d.topic.get_untracked(),
                    format: d.format.get_untracked(),
                    payload: d.payload.get_untracked(),
                    qos: d.qos.get_untracked().as_u8(),
                    retain: d.retain.get_untracked(),
                    properties: d.props.form(),
                };
                (actions::save_template(s, t), name)
            }
            "tpl-rename" => (actions::rename_template(s, &selected, &name), name),
            "tpl-delete" => (actions::delete_template(s, &selected), String::new()),
            _ => return,
        };
        if r.is_ok() {
            self.selected.set(now_selected);
        }
        self.message.set(Some(r));
    }

    /// The template list, its selection, its buttons and its sentence.
    fn draw_templates(self) {
        let s = self.s;
        // The names the list holds (after "(saved templates)").
        let mut shown: Vec<String> = Vec::new();
        effect(move || {
            let names = s
                .profiles
                .with(|p| p.templates.iter().map(|t| t.name.clone()).collect());
            dom::fill_options("tpl-pick", names, &mut shown);
            set_value("tpl-pick", &self.selected.get());
        });
        effect(move || {
            let none = self.selected.with(String::is_empty);
            let no_name = self.name.with(|n| n.trim().is_empty());
            set_flag("tpl-save", "disabled", no_name);
            set_flag("tpl-rename", "disabled", none || no_name);
            set_flag("tpl-delete", "disabled", none);
            let m = self.message.get().map(|r| r.unwrap_or_else(|e| e));
            set_text("tpl-message", &m.unwrap_or_default());
        });
    }

    /// What a click on one of the form's buttons does (Publish is the
    /// form's submit).
    fn click(self, id: &str, rep: &Repeating) {
        let (s, user) = (self.s, self.s.draft.props.user);
        match id {
            "pub-clear" => self.send(true),
            "rep-start" => self.start(rep),
            "rep-stop" => {
                if let Some(run) = rep.run.borrow_mut().as_mut() {
                    run.repeat.stop();
                    rep.text.set(run.repeat.describe());
                }
            }
            "add-user-prop" => {
                let n = user.try_update(|u| {
                    u.push((String::new(), String::new()));
                    u.len()
                });
                if let Some(n) = n {
                    focus_later(format!("user-prop-{n}"));
                }
            }
            _ => {
                if let Some(n) = numbered(id, "user-del-") {
                    user.update(|u| {
                        if (1..=u.len()).contains(&n) {
                            u.remove(n - 1);
                        }
                    });
                    focus_later("add-user-prop".into());
                } else if let Some(q) = id.strip_prefix("pub-cancel-").and_then(|q| q.parse().ok())
                {
                    actions::cancel_queued(s, q);
                    self.outbox_rev.update(|n| *n += 1);
                } else {
                    self.template(id);
                }
            }
        }
    }
}

/// The publish form, its tools and its log: a static card
/// (docs/architecture.md, "Static cards").
#[component]
pub fn PublishForm() -> impl IntoView {
    let s = use_app();
    let d = s.draft;
    let f = Form {
        s,
        counter: RwSignal::new("1".to_string()),
        outcome: RwSignal::new(None),
        outbox_rev: RwSignal::new(0),
        every: RwSignal::new("1000".to_string()),
        count: RwSignal::new("10".to_string()),
        name: RwSignal::new(String::new()),
        selected: RwSignal::new(String::new()),
        message: RwSignal::new(None),
    };
    let rep = Repeating {
        run: Rc::new(RefCell::new(None)),
        generation: Rc::new(Cell::new(0)),
        counter: f.counter,
        text: RwSignal::new(String::new()),
        active: RwSignal::new(false),
        timer: Rc::new(RefCell::new(None)),
    };
    let (active, repeat_text) = (rep.active, rep.text);
    let p = d.props;
    let bindings: Bindings = vec![
        ("pub-topic", Bound::Text(d.topic)),
        ("pub-retain", Bound::Check(d.retain)),
        ("pub-payload", Bound::Text(d.payload)),
        ("pub-counter", Bound::Text(f.counter)),
        ("pub-ct", Bound::Text(p.content_type)),
        ("pub-utf8", Bound::Check(p.utf8)),
        ("pub-expiry", Bound::Text(p.expiry)),
        ("pub-rt", Bound::Text(p.response_topic)),
        ("pub-corr", Bound::Text(p.correlation)),
        ("rep-every", Bound::Text(f.every)),
        ("rep-count", Bound::Text(f.count)),
        ("tpl-name", Bound::Text(f.name)),
    ];
    write_back(&bindings);
    effect(move || set_value("pub-format", d.format.get().key()));
    effect(move || set_value("pub-qos", &d.qos.get().as_u8().to_string()));
    effect(move || {
        set_flag(
            "pub-props",
            "hidden",
            s.form.protocol.get() != ProtocolVersion::V5,
        )
    });
    // Rebuilt when a row is added or removed or the form filled (typing
    // writes untracked).
    effect(move || p.user.with(|u| draw_user(u)));
    effect(move || f.draw(active));
    effect(move || {
        set_text("rep-text", &repeat_text.get());
        set_flag("rep-stop", "disabled", !active.get());
    });
    // The outbox, read again when the supervisor says it changed: checked
    // when the status changes, twice a second (its report's
    // acknowledgements) and when changed from here.
    let outbox = memo(move || {
        s.status.track();
        s.clock.track();
        f.outbox_rev.track();
        s.client().peek(|sup| sup.outbox_generation())
    });
    effect(move || {
        // `get`, not `track`: a memo computes (and subscribes to its own
        // sources) only when read.
        outbox.get();
        f.draw_outbox();
    });
    effect(move || f.draw_log());
    f.draw_templates();

    let on_input = move |ev: leptos::ev::Event| {
        if read_input(&bindings, &ev).is_some() {
            return;
        }
        // A user property row: typing changes it untracked (no rebuild).
        let Some(e) = dom::target(&ev) else { return };
        let id = e.id();
        let (n, key) = match (numbered(&id, "user-prop-"), numbered(&id, "user-val-")) {
            (Some(n), _) => (n, true),
            (_, Some(n)) => (n, false),
            _ => return,
        };
        let text = dom::value_of(&e);
        p.user.update_untracked(|u| {
            if let Some(row) = n.checked_sub(1).and_then(|i| u.get_mut(i)) {
                if key {
                    row.0 = text;
                } else {
                    row.1 = text;
                }
            }
        });
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(e) = dom::target(&ev) else { return };
        let value = dom::value_of(&e);
        match e.id().as_str() {
            "pub-format" => match PayloadFormat::from_key(&value) {
                Some(x) => d.format.set(x),
                None => f
                    .outcome
                    .set(Some(format!("unknown payload format {value:?}"))),
            },
            "pub-qos" => match parse_qos(&value) {
                Ok(q) => d.qos.set(q),
                Err(e) => f.outcome.set(Some(e)),
            },
            "tpl-pick" => f.pick(value),
            _ => {}
        }
    };
    let on_click = move |ev: leptos::ev::MouseEvent| f.click(&dom::button_id(&ev), &rep);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        f.send(false);
    };
    view! {
        <section class="publish" aria-label="Publish" inner_html=CARD on:submit=handler(on_submit)
            on:input=handler(on_input) on:change=handler(on_change) on:click=handler(on_click)>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_options_are_the_payload_formats() {
        for f in PayloadFormat::ALL {
            let option = format!(r#"<option value="{}">{}</option>"#, f.key(), f.label());
            assert!(CARD.contains(&option), "{option} missing");
        }
        assert_eq!(CARD.matches("<option").count(), 5 + 3 + 1);
    }

    #[test]
    fn row_numbers_are_read_from_ids() {
        assert_eq!(numbered("user-prop-3", "user-prop-"), Some(3));
        assert_eq!(numbered("user-val-12", "user-val-"), Some(12));
        assert_eq!(numbered("user-val-x", "user-val-"), None);
        assert_eq!(numbered("pub-topic", "user-prop-"), None);
    }
}
