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
//! the page's current rules), the schema files (localStorage, hex), the
//! module's state and the card's text. Must not: decode anything itself, or
//! write anything into the page as HTML (text only, through `textContent`).

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;

use bytes::Bytes;
use js_sys::{Function, Reflect, Uint8Array};
use model::decoding::{Decoded, Decoder, DecoderRules};
use model::json::{self, Value};
use model::Incoming;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::client::browser::now_ms;
use crate::state::AppState;
use leptos::prelude::{GetUntracked, Update};
use mqtt_session::QoS;

/// The decoder module's glue, written by trunk next to the page (index.html).
const MODULE_URL: &str = "./decoders-wasm.js";
/// localStorage: the rules in force, as `DecoderRules::to_json` writes them.
const RULES_KEY: &str = "mqdash.decoders";
/// localStorage: the schema files, `[{"name":…,"hex":…}]`.
const SCHEMAS_KEY: &str = "mqdash.schemas";
/// The most schema bytes kept (in all): a schema is text or a descriptor
/// set, rarely more than a few hundred KB.
const MAX_SCHEMA_BYTES: usize = 2 * 1024 * 1024;
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
    /// Schema files as loaded: name and bytes.
    static SCHEMAS: RefCell<Vec<(String, Vec<u8>)>> = RefCell::new(stored_schemas());
    /// Message types the loaded schemas define.
    static TYPES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
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

fn stored_schemas() -> Vec<(String, Vec<u8>)> {
    let Some(v) = storage()
        .and_then(|s| s.get_item(SCHEMAS_KEY).ok().flatten())
        .and_then(|t| json::parse(t.as_bytes()).ok())
    else {
        return Vec::new();
    };
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    let name = i.get("name")?.as_str()?.to_owned();
                    let bytes = from_hex(i.get("hex")?.as_str()?)?;
                    Some((name, bytes))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            Some((d(*p.first()?)? * 16 + d(*p.get(1)?)?) as u8)
        })
        .collect()
}

fn persist_rules() {
    let text = RULES.with(|r| r.borrow().to_json());
    if let Some(s) = storage() {
        let _ = s.set_item(RULES_KEY, &text);
    }
}

fn persist_schemas() -> Result<(), String> {
    let mut out = String::from("[");
    SCHEMAS.with(|s| {
        for (i, (name, bytes)) in s.borrow().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            json::write_string(&mut out, name);
            out.push_str(",\"hex\":\"");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("\"}");
        }
    });
    out.push(']');
    storage()
        .and_then(|s| s.set_item(SCHEMAS_KEY, &out).ok())
        .ok_or_else(|| {
            "the schemas could not be kept for the next visit (storage full or blocked)".into()
        })
}

/// The rules in force, for a profile being saved.
pub fn rules() -> DecoderRules {
    RULES.with(|r| r.borrow().clone())
}

/// What an export request carries so the keep worker can put decoded
/// payloads in the file: the rules as JSON (`[{filter, decoder, message,
/// label}]`) and the schema files (`[[name, bytes], …]`).
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
    let schemas = SCHEMAS.with(|s| {
        s.borrow()
            .iter()
            .map(|(name, bytes)| {
                JsValue::from(js_sys::Array::of2(
                    &name.as_str().into(),
                    &Uint8Array::from(&bytes[..]),
                ))
            })
            .collect::<js_sys::Array>()
    });
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
    let picked = RULES.with(|r| {
        r.borrow()
            .pick(&m.topic)
            .map(|d| (d.label(), d.code(), protobuf_message(d).to_owned()))
    });
    let Some((label, code, message)) = picked else {
        return;
    };
    let result = MODULE.with(|md| match &*md.borrow() {
        Module::Ready { decode, .. } => call(decode, code, m, &message),
        Module::Failed(why) => Err(format!("the decoders could not be loaded: {why}")),
        Module::NotLoaded | Module::Loading => Err("the decoders are not loaded".into()),
    });
    if code == "sparkplug" {
        NODES_DIRTY.set(true);
        let unresolved =
            matches!(&result, Ok((json, _)) if contains(json, b"\"unresolved_aliases\""));
        if unresolved {
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
        Ok((json, chart)) => Decoded::ok(label, json, chart),
        Err(e) => Decoded::failed(label, e),
    });
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
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
/// `e<reason>`.
fn call(
    decode: &Function,
    code: &str,
    m: &Incoming,
    message: &str,
) -> Result<(Bytes, Bytes), String> {
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
        Some(("o", rest)) => match rest.split_once('\u{1}') {
            Some((json, chart)) => {
                Ok((Bytes::from(json.to_owned()), Bytes::from(chart.to_owned())))
            }
            None => {
                let json = Bytes::from(rest.to_owned());
                Ok((json.clone(), json))
            }
        },
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

/// Starts importing the module; on success it gets the schema files.
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
        MODULE.with(|m| *m.borrow_mut() = module);
        give_schemas();
        render();
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

/// Hands every schema file to the module (again): it compiles them as one
/// set, so imports between the files resolve. Says what it made of them.
fn give_schemas() {
    let files = SCHEMAS.with(|s| s.borrow().clone());
    let _ = export("clear_schemas", &[]);
    if files.is_empty() {
        TYPES.with(|t| t.borrow_mut().clear());
        return;
    }
    let names = files
        .iter()
        .map(|(n, _)| JsValue::from(n.as_str()))
        .collect::<js_sys::Array>();
    let blobs = files
        .iter()
        .map(|(_, b)| JsValue::from(Uint8Array::from(&b[..])))
        .collect::<js_sys::Array>();
    let answer = export("set_schemas", &[names.into(), blobs.into()]).and_then(|a| a.as_string());
    match answer.as_deref().and_then(|a| a.split_at_checked(1)) {
        Some(("o", types)) => {
            TYPES.with(|t| {
                *t.borrow_mut() = types.lines().map(str::to_owned).collect();
            });
        }
        Some((_, reason)) => {
            TYPES.with(|t| t.borrow_mut().clear());
            say(format!("The schema could not be read: {reason}"));
        }
        None => {}
    }
}

fn say(text: String) {
    OUTCOME.with(|o| *o.borrow_mut() = text);
    render();
}

fn element(id: &str) -> Option<Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

fn set_text(id: &str, text: &str) {
    if let Some(e) = element(id) {
        if e.text_content().as_deref() != Some(text) {
            e.set_text_content(Some(text));
        }
    }
}

fn value(id: &str) -> String {
    element(id)
        .and_then(|e| Reflect::get(&e, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn set_value(id: &str, v: &str) {
    if let Some(e) = element(id) {
        let _ = Reflect::set(&e, &"value".into(), &v.into());
    }
}

/// Replaces the children of `parent` with elements made by `make`.
fn fill(id: &str, make: impl FnOnce(&web_sys::Document, &Element)) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(parent) = doc.get_element_by_id(id) {
        parent.set_text_content(None);
        make(&doc, &parent);
    }
}

/// An element with `text` as its text.
fn text_el(doc: &web_sys::Document, tag: &str, text: &str) -> Option<Element> {
    let e = doc.create_element(tag).ok()?;
    e.set_text_content(Some(text));
    Some(e)
}

/// Draws the card from the state.
pub fn render() {
    let rules = rules();
    fill("dec-rules", |doc, ul| {
        if rules.is_empty() {
            if let Some(li) = text_el(doc, "li", "No decoder rules: payloads are shown as sent.") {
                let _ = ul.append_child(&li);
            }
        }
        for r in rules.rules() {
            let Some(li) = doc.create_element("li").ok() else {
                continue;
            };
            let mut what = format!("{} → {}", r.filter, r.decoder.label());
            if let Decoder::Protobuf { message } = &r.decoder {
                if !message.is_empty() {
                    what.push_str(&format!(" ({message})"));
                }
            }
            if let Some(span) = text_el(doc, "span", &what) {
                let _ = li.append_child(&span);
            }
            if let Some(b) = text_el(doc, "button", "Remove") {
                let _ = b.set_attribute("type", "button");
                let _ = b.set_attribute("class", "small");
                let _ = b.set_attribute("data-filter", &r.filter);
                let _ = b.set_attribute("aria-label", &format!("Remove decoder rule {}", r.filter));
                let _ = li.append_child(&b);
            }
            let _ = ul.append_child(&li);
        }
    });
    let schemas = SCHEMAS.with(|s| {
        s.borrow()
            .iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
    });
    let types = TYPES.with(|t| t.borrow().clone());
    let ready = MODULE.with(|m| matches!(*m.borrow(), Module::Ready { .. }));
    let schema_text = if schemas.is_empty() {
        "No Protobuf schema loaded.".to_owned()
    } else if ready {
        format!(
            "Protobuf schema: {} ({} message types).",
            schemas.join(", "),
            types.len()
        )
    } else {
        format!(
            "Protobuf schema: {} (read when the decoders load).",
            schemas.join(", ")
        )
    };
    set_text("dec-schemas", &schema_text);
    if let Some(b) = element("dec-schema-clear") {
        let _ = b.toggle_attribute_with_force("disabled", schemas.is_empty());
    }
    fill("dec-types", |doc, list| {
        for t in &types {
            if let Ok(o) = doc.create_element("option") {
                let _ = o.set_attribute("value", t);
                let _ = list.append_child(&o);
            }
        }
    });
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
    let Some(text) = export("sparkplug_nodes", &[]).and_then(|v| v.as_string()) else {
        return;
    };
    let Ok(v) = json::parse(text.as_bytes()) else {
        return;
    };
    fill("dec-nodes", |doc, ul| draw_nodes(doc, ul, &v));
}

fn draw_nodes(doc: &web_sys::Document, ul: &Element, v: &Value) {
    let word = |on: bool| if on { "online" } else { "offline" };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64);
    let mut any = false;
    for n in v
        .get("nodes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        any = true;
        let online = n.get("online").and_then(Value::as_bool).unwrap_or(false);
        let mut line = format!(
            "{}/{}: {}",
            text(n, "group"),
            text(n, "edge_node"),
            word(online)
        );
        if let Some(seq) = num(n, "last_seq") {
            let _ = write!(line, ", seq {seq}");
        }
        for (k, what) in [("gaps", "sequence gap"), ("out_of_order", "out of order")] {
            match num(n, k) {
                Some(0) | None => {}
                Some(c) => {
                    let _ = write!(line, ", {c} {what}");
                }
            }
        }
        let Some(li) = text_el(doc, "li", &line) else {
            continue;
        };
        let _ = li.set_attribute(
            "class",
            if online {
                "node online"
            } else {
                "node offline"
            },
        );
        if let Some(b) = text_el(doc, "button", "Request rebirth") {
            let (g, e) = (text(n, "group"), text(n, "edge_node"));
            let _ = b.set_attribute("type", "button");
            let _ = b.set_attribute("class", "small");
            let _ = b.set_attribute("aria-label", &format!("Request rebirth of {g}/{e}"));
            let _ = b.set_attribute("data-group", &g);
            let _ = b.set_attribute("data-node", &e);
            let _ = li.append_child(&b);
        }
        let devices = n.get("devices").and_then(Value::as_array);
        if let Some(devices) = devices.filter(|d| !d.is_empty()) {
            if let Ok(sub) = doc.create_element("ul") {
                let _ = sub.set_attribute(
                    "aria-label",
                    &format!("Devices of {}", text(n, "edge_node")),
                );
                for d in devices {
                    let on = d.get("online").and_then(Value::as_bool).unwrap_or(false);
                    let t = format!("{}: {}", text(d, "device"), word(on));
                    if let Some(dl) = text_el(doc, "li", &t) {
                        let _ = dl.set_attribute(
                            "class",
                            if on {
                                "device online"
                            } else {
                                "device offline"
                            },
                        );
                        let _ = sub.append_child(&dl);
                    }
                }
                let _ = li.append_child(&sub);
            }
        }
        let _ = ul.append_child(&li);
    }
    for h in v
        .get("hosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        any = true;
        let on = h.get("online").and_then(Value::as_bool).unwrap_or(false);
        if let Some(li) = text_el(
            doc,
            "li",
            &format!("host {}: {}", text(h, "host"), word(on)),
        ) {
            let _ = ul.append_child(&li);
        }
    }
    if !any {
        if let Some(li) = text_el(doc, "li", "None seen yet.") {
            let _ = ul.append_child(&li);
        }
    }
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
            SCHEMAS.with(|s| s.borrow_mut().clear());
            let _ = persist_schemas();
            give_schemas();
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
        let known = TYPES.with(|t| t.borrow().iter().any(|x| x == message));
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
        Err(e) => say(format!("Decoder topic filter: {e}")),
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
    let Some(files) = input.files() else { return };
    let picked: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
    // Picking the same files again must fire `change` again.
    input.set_value("");
    wasm_bindgen_futures::spawn_local(async move {
        let mut read = Vec::new();
        for f in picked {
            let name = f.name();
            match wasm_bindgen_futures::JsFuture::from(f.array_buffer()).await {
                Ok(buf) => read.push((name, Uint8Array::new(&buf).to_vec())),
                Err(_) => return say(format!("{name} could not be read")),
            }
        }
        add_schemas(read);
    });
}

fn add_schemas(files: Vec<(String, Vec<u8>)>) {
    let total: usize = SCHEMAS.with(|s| s.borrow().iter().map(|(_, b)| b.len()).sum::<usize>())
        + files.iter().map(|(_, b)| b.len()).sum::<usize>();
    if total > MAX_SCHEMA_BYTES {
        return say(format!(
            "Schemas over {} KB in all are not kept; forget the loaded ones first.",
            MAX_SCHEMA_BYTES / 1024
        ));
    }
    SCHEMAS.with(|s| {
        let mut s = s.borrow_mut();
        for (name, bytes) in files {
            s.retain(|(n, _)| *n != name);
            s.push((name, bytes));
        }
    });
    let kept = persist_schemas();
    let ready = MODULE.with(|m| matches!(*m.borrow(), Module::Ready { .. }));
    if ready {
        OUTCOME.with(|o| o.borrow_mut().clear());
        give_schemas();
        render();
    } else if MODULE.with(|m| matches!(*m.borrow(), Module::NotLoaded)) {
        // The schema is for decoding: load the decoders now.
        load();
    }
    if let Err(e) = kept {
        say(e);
    }
}
