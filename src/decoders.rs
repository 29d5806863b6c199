//! The page's side of the payload decoders: the rules (which filter is read
//! by which decoder), the decoder module, Protobuf schema files, and the
//! Decoders card (`components::decoders`, static markup) drawn from them.
//!
//! The decoders (Sparkplug B, Protobuf, CBOR, MessagePack) live in their
//! own wasm module, `crates/decoders-wasm`, which is not part of the first
//! load: it is imported the first time a queued message's topic matches a
//! rule (or a schema file is loaded). Until it is ready the frame loop
//! holds the queue ([`hold`]), so no message is applied undecoded and the
//! order of messages is kept; if it cannot load, each such message says so
//! and shows its bytes. Once ready, [`decode`] is one synchronous call per
//! message.
//!
//! Owns: the rules in force (saved with profiles, and in localStorage as
//! the page's current rules), the module's state, and the card's rule list
//! and messages. The module owns the rest of the card (the schema files,
//! kept in localStorage, their message types, and the Sparkplug B node
//! list), so that code is not in the first load. Must not: decode anything
//! itself, or write anything into the page as HTML (text only).

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use js_sys::{Function, Reflect, Uint8Array};
use model::decoding::{Decoded, Decoder, DecoderRules};
use model::json;
use model::Incoming;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::components::dom::{append, by_id, set_text, set_value, value_of};

use crate::client::browser::now_ms;
use crate::state::AppState;
use leptos::prelude::{GetUntracked, Update};
use mqtt_session::QoS;

/// The decoder module's glue, written by trunk next to the page (index.html).
const MODULE_URL: &str = "./decoders-wasm.js";
/// localStorage: the rules in force, as `DecoderRules::to_json` writes them.
const RULES_KEY: &str = "mqdash.decoders";
/// localStorage: the schema files, written and read by the module; the
/// page only hands the text to exports.
const SCHEMAS_KEY: &str = "mqdash.schemas";
/// The Sparkplug B node list is redrawn at most this often.
const NODES_EVERY_MS: f64 = 500.0;
/// An edge node is asked for a rebirth at most this often.
const REBIRTH_EVERY_MS: f64 = 30_000.0;

// The URL is made absolute against the page: a relative `import()` would
// resolve against this snippet's own URL (`snippets/…/inline0.js`).
#[wasm_bindgen(
    inline_js = "export function import_decoders(u){return import(new URL(u,document.baseURI).href).then(async m=>{await m.default();return m;});}"
)]
extern "C" {
    /// `import()` of the module's glue, then its initialisation: resolves
    /// to the module's exports.
    fn import_decoders(url: &str) -> js_sys::Promise;
}

/// Something to do once the module is ready (or failed to load).
type WhenReady = Box<dyn FnOnce(Result<(), String>)>;

/// The decoder module.
enum Module {
    NotLoaded,
    Loading,
    Ready { exports: JsValue, decode: Function },
    Failed(String),
}

thread_local! {
    static RULES: RefCell<DecoderRules> = RefCell::new(stored_rules());
    static MODULE: RefCell<Module> = const { RefCell::new(Module::NotLoaded) };
    /// What waits for the module to be ready (or to fail loading).
    static WHEN_READY: RefCell<Vec<WhenReady>> = const { RefCell::new(Vec::new()) };
    static OUTCOME: RefCell<String> = const { RefCell::new(String::new()) };
    /// A Sparkplug B message was decoded since the node list was drawn.
    static NODES_DIRTY: Cell<bool> = const { Cell::new(false) };
    static NODES_AT: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
    /// Edge nodes (group, node) whose data used aliases no birth defined,
    /// waiting for a rebirth request; and when each was last asked.
    static REBIRTH_DUE: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
    static REBIRTH_ASKED: RefCell<Vec<((String, String), f64)>> = const { RefCell::new(Vec::new()) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn stored_rules() -> DecoderRules {
    storage()
        .and_then(|s| s.get_item(RULES_KEY).ok().flatten())
        .and_then(|t| json::parse(t.as_bytes()).ok())
        .map_or_else(DecoderRules::default, |v| DecoderRules::from_value(&v).0)
}

fn persist_rules() {
    let text = RULES.with(|r| r.borrow().to_json());
    if let Some(s) = storage() {
        let _ = s.set_item(RULES_KEY, &text);
    }
}

/// The rules in force, for a profile being saved.
pub fn rules() -> DecoderRules {
    RULES.with(|r| r.borrow().clone())
}

/// What an export request carries so the keep worker can put decoded
/// payloads in the file: the rules as JSON (`[{filter, decoder, message,
/// label}]`) and the schema files as the module keeps them (JSON text).
pub fn for_export() -> (String, JsValue) {
    let mut rules = String::from("[");
    RULES.with(|r| {
        for (i, rule) in r.borrow().rules().iter().enumerate() {
            if i > 0 {
                rules.push(',');
            }
            rules.push_str("{\"filter\":");
            json::write_string(&mut rules, &rule.filter);
            rules.push_str(",\"decoder\":");
            json::write_string(&mut rules, rule.decoder.code());
            rules.push_str(",\"message\":");
            json::write_string(&mut rules, protobuf_message(&rule.decoder));
            rules.push_str(",\"label\":");
            json::write_string(&mut rules, rule.decoder.label());
            rules.push('}');
        }
    });
    rules.push(']');
    let schemas = storage()
        .and_then(|st| st.get_item(SCHEMAS_KEY).ok().flatten())
        .unwrap_or_default();
    (rules, schemas.into())
}

/// Puts a profile's rules in force (`None`: the defaults).
pub fn set_rules(rules: Option<DecoderRules>) {
    RULES.with(|r| *r.borrow_mut() = rules.unwrap_or_default());
    persist_rules();
    render();
}

/// Whether the frame loop must hold its queue: a rule matches one of
/// `topics` and the decoder module is not loaded yet (its loading is then
/// started). False at once when the module is ready or failed.
pub fn hold<'a>(topics: impl IntoIterator<Item = &'a str>) -> bool {
    let loading = MODULE.with(|m| match *m.borrow() {
        Module::Ready { .. } | Module::Failed(_) => None,
        Module::Loading => Some(true),
        Module::NotLoaded => Some(false),
    });
    let Some(loading) = loading else {
        return false;
    };
    let needed = RULES.with(|r| {
        let r = r.borrow();
        !r.is_empty() && topics.into_iter().any(|t| r.pick(t).is_some())
    });
    if needed && !loading {
        load();
    }
    needed
}

/// Decodes `m` with the decoder of the first rule matching its topic, if
/// any. A payload the decoder cannot read gets the reason; never a panic,
/// and never an effect on other messages.
pub fn decode(m: &mut Incoming) {
    // One borrow of the rules per message, nothing copied out of them.
    let decoded = RULES.with(|r| {
        let rules = r.borrow();
        let d = rules.pick(&m.topic)?;
        let result = MODULE.with(|md| match &*md.borrow() {
            Module::Ready { decode, .. } => call(decode, d.code(), m, protobuf_message(d)),
            Module::Failed(why) => Err(format!("the decoders could not be loaded: {why}")),
            Module::NotLoaded | Module::Loading => Err("the decoders are not loaded".into()),
        });
        Some((d.label(), *d == Decoder::SparkplugB, result))
    });
    let Some((label, sparkplug, result)) = decoded else {
        return;
    };
    if sparkplug {
        NODES_DIRTY.set(true);
        if matches!(result, Ok((_, _, true))) {
            if let Some(node) = edge_node(&m.topic) {
                REBIRTH_DUE.with(|d| {
                    let mut d = d.borrow_mut();
                    if !d.contains(&node) {
                        d.push(node);
                    }
                });
            }
        }
    }
    m.decoded = Some(match result {
        Ok((json, chart, _)) => Decoded::ok(label, json, chart),
        Err(e) => Decoded::failed(label, e),
    });
}

/// The (group, edge node) of a Sparkplug B node or device topic.
fn edge_node(topic: &str) -> Option<(String, String)> {
    let mut parts = topic.split('/');
    (parts.next()? == "spBv1.0").then_some(())?;
    let group = parts.next()?;
    let _kind = parts.next()?;
    let node = parts.next()?;
    Some((group.to_owned(), node.to_owned()))
}

/// Asks the edge node for a rebirth (an NCMD `Node Control/Rebirth` =
/// true, QoS 0), as Sparkplug B asks of a host that meets aliases it does
/// not know. Logged in the publish log like any publish.
fn request_rebirth(s: AppState, group: &str, node: &str) -> Result<(), String> {
    let answer = export(
        "sparkplug_rebirth",
        &[group.into(), node.into(), js_sys::Date::now().into()],
    )
    .ok_or("the decoders are not loaded")?;
    let pair = js_sys::Array::from(&answer);
    let topic = pair.get(0).as_string().ok_or("no rebirth topic")?;
    let payload = Uint8Array::new(&pair.get(1)).to_vec();
    let size = payload.len();
    let pid = s
        .client()
        .with(|sup| {
            sup.publish_with(
                now_ms(),
                &topic,
                payload,
                QoS::AtMostOnce,
                false,
                mqtt_session::PublishProperties::default(),
            )
        })
        .map_err(|e| e.to_string())?;
    s.publishes.update(|log| {
        crate::actions::log_publish(log, pid, &topic, QoS::AtMostOnce, false, size, false);
    });
    s.apply_pending();
    REBIRTH_ASKED.with(|a| {
        let mut a = a.borrow_mut();
        let key = (group.to_owned(), node.to_owned());
        a.retain(|(k, _)| *k != key);
        a.push((key, js_sys::Date::now()));
    });
    Ok(())
}

fn protobuf_message(d: &Decoder) -> &str {
    match d {
        Decoder::Protobuf { message } => message,
        _ => "",
    }
}

/// One call into the module: `decode(code, topic, payload, message,
/// received_ms)` answers `o<json>`, `o<json>\u{1}<chart json>` or
/// `e<reason>` (`r` instead of `o`: a Sparkplug B message with aliases no
/// birth defined, the third value here).
fn call(
    decode: &Function,
    code: &str,
    m: &Incoming,
    message: &str,
) -> Result<(Bytes, Bytes, bool), String> {
    let args = js_sys::Array::of5(
        &code.into(),
        &m.topic.as_str().into(),
        &Uint8Array::from(&m.payload[..]),
        &message.into(),
        &m.received_ms.into(),
    );
    let answer = decode
        .apply(&JsValue::NULL, &args)
        .map_err(|e| format!("the decoder failed: {}", describe(&e)))?
        .as_string()
        .ok_or("the decoder gave no answer")?;
    match answer.split_at_checked(1) {
        Some((tag @ ("o" | "r"), rest)) => {
            let rebirth = tag == "r";
            match rest.split_once('\u{1}') {
                Some((json, chart)) => Ok((
                    Bytes::from(json.to_owned()),
                    Bytes::from(chart.to_owned()),
                    rebirth,
                )),
                None => {
                    let json = Bytes::from(rest.to_owned());
                    Ok((json.clone(), json, rebirth))
                }
            }
        }
        Some(("e", reason)) => Err(reason.to_owned()),
        _ => Err("the decoder gave an answer that is not one".into()),
    }
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Starts importing the module; once it is ready it compiles the kept
/// schema files, and any picked while it loaded.
fn load() {
    MODULE.with(|m| *m.borrow_mut() = Module::Loading);
    render();
    wasm_bindgen_futures::spawn_local(async {
        let done = wasm_bindgen_futures::JsFuture::from(import_decoders(MODULE_URL)).await;
        let module = match done {
            Ok(exports) => match Reflect::get(&exports, &"decode".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
            {
                Some(decode) => Module::Ready { exports, decode },
                None => Module::Failed("the module has no decode function".into()),
            },
            Err(e) => Module::Failed(describe(&e)),
        };
        let outcome = match &module {
            Module::Failed(why) => Err(format!("the decoders could not be loaded: {why}")),
            _ => Ok(()),
        };
        MODULE.with(|m| *m.borrow_mut() = module);
        if outcome.is_ok() {
            let problem = export("restore_schemas", &[]).and_then(|v| v.as_string());
            if let Some(p) = problem.filter(|p| !p.is_empty()) {
                say(p);
            }
        }
        for f in WHEN_READY.with(|w| std::mem::take(&mut *w.borrow_mut())) {
            f(outcome.clone());
        }
        render();
    });
}

/// Runs `f` once the module is ready (at once if it is), loading it if
/// needed; `f` gets the reason when it cannot load.
pub fn when_ready(f: impl FnOnce(Result<(), String>) + 'static) {
    let now = MODULE.with(|m| match &*m.borrow() {
        Module::Ready { .. } => Some(Ok(())),
        Module::Failed(why) => Some(Err(format!("the decoders could not be loaded: {why}"))),
        Module::NotLoaded | Module::Loading => None,
    });
    match now {
        Some(r) => f(r),
        None => {
            WHEN_READY.with(|w| w.borrow_mut().push(Box::new(f)));
            if MODULE.with(|m| matches!(*m.borrow(), Module::NotLoaded)) {
                load();
            }
        }
    }
}

/// A profiles file merged into `current` by the module: the message and
/// the merged store's JSON, or why the file was refused.
pub fn import_profiles(current: &str, file: &str) -> Result<(String, String), String> {
    let answer = export("import_profiles", &[current.into(), file.into()])
        .and_then(|v| v.as_string())
        .ok_or("the profile import could not run")?;
    match answer.split_at_checked(1) {
        Some(("o", rest)) => rest
            .split_once('\u{1}')
            .map(|(m, s)| (m.to_owned(), s.to_owned()))
            .ok_or_else(|| "the profile import gave no profiles".to_owned()),
        Some((_, why)) => Err(why.to_owned()),
        None => Err("the profile import gave no answer".into()),
    }
}

/// Hands picked schema files to the (ready) module, which keeps, compiles
/// and draws them; says what it answers.
fn add_files(files: js_sys::Array) {
    let Some(p) = export("add_schema_files", &[files.into()]) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(p)).await;
        say(answer.ok().and_then(|v| v.as_string()).unwrap_or_default());
    });
}

/// Calls one of the module's exports with `args`; `None` when it is not
/// loaded or the call threw.
fn export(name: &str, args: &[JsValue]) -> Option<JsValue> {
    MODULE.with(|m| match &*m.borrow() {
        Module::Ready { exports, .. } => {
            let f = Reflect::get(exports, &name.into())
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            let a = args.iter().collect::<js_sys::Array>();
            f.apply(&JsValue::NULL, &a).ok()
        }
        _ => None,
    })
}

fn say(text: String) {
    OUTCOME.with(|o| *o.borrow_mut() = text);
    render();
}

fn value(id: &str) -> String {
    by_id(id).map(|e| value_of(&e)).unwrap_or_default()
}

/// Draws the card from the state.
pub fn render() {
    let rules = rules();
    if let Some(ul) = by_id("dec-rules") {
        ul.set_text_content(None);
        if rules.is_empty() {
            append(&ul, "li", "No decoder rules: payloads are shown as sent.");
        }
        for r in rules.rules() {
            let Some(li) = append(&ul, "li", "") else {
                continue;
            };
            let mut what = format!("{} → {}", r.filter, r.decoder.label());
            if let Decoder::Protobuf { message } = &r.decoder {
                if !message.is_empty() {
                    what.push_str(&format!(" ({message})"));
                }
            }
            append(&li, "span", &what);
            if let Some(b) = append(&li, "button", "Remove") {
                let _ = b.set_attribute("type", "button");
                let _ = b.set_attribute("class", "small");
                let _ = b.set_attribute("data-filter", &r.filter);
                let _ = b.set_attribute("aria-label", &format!("Remove decoder rule {}", r.filter));
            }
        }
    }
    let ready = MODULE.with(|m| matches!(*m.borrow(), Module::Ready { .. }));
    let kept = storage().is_some_and(|st| st.get_item(SCHEMAS_KEY).ok().flatten().is_some());
    if kept && !ready {
        set_text(
            "dec-schemas",
            "Protobuf schema files are kept from an earlier visit; they are read when the decoders load.",
        );
    }
    if !ready {
        if let Some(b) = by_id("dec-schema-clear") {
            let _ = b.toggle_attribute_with_force("disabled", !kept);
        }
    }
    let state = MODULE.with(|m| match &*m.borrow() {
        Module::NotLoaded => String::new(),
        Module::Loading => "Loading the decoders…".into(),
        Module::Ready { .. } => "Decoders loaded.".into(),
        Module::Failed(why) => format!("The decoders could not be loaded: {why}"),
    });
    set_text("dec-state", &state);
    set_text("dec-outcome", &OUTCOME.with(|o| o.borrow().clone()));
}

/// Called once a frame: redraws the Sparkplug B node list when a Sparkplug
/// message was decoded (at most every [`NODES_EVERY_MS`]).
pub fn frame(s: AppState, now_ms: f64) {
    let due = REBIRTH_DUE.with(|d| std::mem::take(&mut *d.borrow_mut()));
    if !due.is_empty() && s.status.get_untracked().is_connected() {
        for (group, node) in due {
            let last = REBIRTH_ASKED.with(|a| {
                a.borrow()
                    .iter()
                    .find(|(k, _)| k.0 == group && k.1 == node)
                    .map_or(f64::NEG_INFINITY, |(_, t)| *t)
            });
            if now_ms - last >= REBIRTH_EVERY_MS {
                if let Err(e) = request_rebirth(s, &group, &node) {
                    say(format!(
                        "A rebirth request to {group}/{node} could not be sent: {e}"
                    ));
                }
            }
        }
    }
    if !NODES_DIRTY.get() || now_ms - NODES_AT.get() < NODES_EVERY_MS {
        return;
    }
    NODES_DIRTY.set(false);
    NODES_AT.set(now_ms);
    let _ = export("render_nodes", &[]);
}

/// The card's buttons.
pub fn on_click(s: AppState, ev: &web_sys::MouseEvent) {
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .filter(|e| e.tag_name() == "BUTTON")
    else {
        return;
    };
    if let (Some(g), Some(n)) = (
        button.get_attribute("data-group"),
        button.get_attribute("data-node"),
    ) {
        match request_rebirth(s, &g, &n) {
            Ok(()) => say(format!("Rebirth requested from {g}/{n}.")),
            Err(e) => say(format!(
                "A rebirth request to {g}/{n} could not be sent: {e}"
            )),
        }
        return;
    }
    if let Some(filter) = button.get_attribute("data-filter") {
        RULES.with(|r| r.borrow_mut().remove(&filter));
        persist_rules();
        say(format!("Rule for {filter} removed."));
        return;
    }
    match button.id().as_str() {
        "dec-add" => add_rule(),
        "dec-schema-clear" => {
            if export("forget_schemas", &[]).is_none() {
                if let Some(st) = storage() {
                    let _ = st.remove_item(SCHEMAS_KEY);
                }
                set_text("dec-schemas", "No Protobuf schema loaded.");
            }
            say("Schemas forgotten.".into());
        }
        _ => {}
    }
}

fn add_rule() {
    let filter = value("dec-filter");
    let Some(decoder) = Decoder::from_code(&value("dec-kind"), &value("dec-type")) else {
        return;
    };
    if let Decoder::Protobuf { message } = &decoder {
        // Checked once the module is loaded; before, the messages say it.
        let known = export("has_message_type", &[message.as_str().into()])
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if !message.is_empty() && !known {
            say(format!(
                "Protobuf message type {message:?} is not in the loaded schemas; load its .proto file or descriptor set first, or leave it empty for the raw wire format."
            ));
            return;
        }
    }
    let label = decoder.label();
    match RULES.with(|r| r.borrow_mut().add(&filter, decoder)) {
        Ok(()) => {
            persist_rules();
            set_value("dec-filter", "");
            say(format!(
                "Topics matching {} are read as {label}.",
                filter.trim()
            ));
        }
        Err(e) => say(format!("Decoder rule filter: {e}")),
    }
}

/// The schema file input.
pub fn on_change(ev: &web_sys::Event) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .filter(|i| i.id() == "dec-schema")
    else {
        return;
    };
    let Some(list) = input.files() else { return };
    let files: js_sys::Array = (0..list.length())
        .filter_map(|i| list.get(i))
        .map(JsValue::from)
        .collect();
    // Picking the same files again must fire `change` again.
    input.set_value("");
    if files.length() == 0 {
        return;
    }
    // The schema is for decoding: load the decoders now, then read it.
    when_ready(move |ready| match ready {
        Ok(()) => add_files(files),
        Err(e) => say(e),
    });
}
