//! The page's side of Keep (docs/keep.md): starts the keep worker the first
//! time it is needed (or at start when a recording exists), posts it the
//! page's requests and, while recording, each frame's messages as records;
//! turns its answers into the signals the Keep card shows, applies replayed
//! records to the model as live messages (at most one batch a frame), and
//! publishes what a re-publish sends back.
//!
//! Must not: format or parse files, touch IndexedDB, or pace a replay (all
//! the worker's, so that none of it is in the page's first load).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use model::{Incoming, NodeId};
use mqtt_session::QoS;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::client::browser::now_ms;
use crate::state::AppState;

/// The worker's loader, written by trunk next to the page (index.html).
const WORKER_URL: &str = "./keep-worker_loader.js";
/// localStorage key set while a recording exists, so a reload starts the
/// worker at once and shows (and goes on with) it.
const RECORDING_KEY: &str = "mqdash.keep.recording";
/// Records re-published per frame at most; the worker sends 500 a batch.
const REPUBLISH_PER_FRAME: usize = 100;

/// The recording as the worker last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Recording {
    /// Messages are being recorded.
    pub on: bool,
    /// The most bytes kept.
    pub bound: f64,
    /// Bytes kept.
    pub bytes: f64,
    /// Messages kept.
    pub count: f64,
    /// Messages the bound dropped (the oldest first).
    pub dropped: f64,
}

/// An export, import or re-publish under way.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Its id in the worker's messages.
    pub id: u32,
    /// What it is, as the card says it ("Exporting recording.ndjson").
    pub what: String,
    /// Done so far and in all (lines, messages or bytes, as the worker counts).
    pub done: f64,
    /// In all; 0 while unknown.
    pub total: f64,
}

/// What the Keep card shows; owned here, written only by this module.
#[derive(Clone, Copy)]
pub struct KeepState {
    /// The recording, once the worker has said.
    pub recording: RwSignal<Option<Recording>>,
    /// The task under way, if any.
    pub task: RwSignal<Option<Task>>,
    /// How the last task ended, as a sentence.
    pub outcome: RwSignal<Option<String>>,
    /// Messages replayed into the page so far, and from which file: the
    /// page says so while any are on screen.
    pub replayed: RwSignal<Option<(String, u64)>>,
}

impl KeepState {
    /// Nothing known yet.
    pub fn new() -> Self {
        KeepState {
            recording: RwSignal::new(None),
            task: RwSignal::new(None),
            outcome: RwSignal::new(None),
            replayed: RwSignal::new(None),
        }
    }
}

impl Default for KeepState {
    fn default() -> Self {
        Self::new()
    }
}

/// The running worker and its message handler (dropped together).
struct Link {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
}

/// A re-publish batch being sent, a few records a frame.
struct Republish {
    id: u32,
    records: VecDeque<Incoming>,
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
    /// Whether the frame loop records (mirrors the worker's status).
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    /// Replayed messages waiting for the next frames.
    static REPLAY: RefCell<VecDeque<Vec<Incoming>>> = const { RefCell::new(VecDeque::new()) };
    static REPUBLISH: RefCell<Option<Republish>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Starts the worker at page start when a recording exists.
pub fn start_if_recorded(s: AppState) {
    if storage()
        .and_then(|st| st.get_item(RECORDING_KEY).ok().flatten())
        .is_some()
    {
        let _ = link(s);
    }
}

/// The worker, started on first use. `Err` is a sentence for the card.
fn link(s: AppState) -> Result<Worker, String> {
    if let Some(w) = LINK.with(|l| l.borrow().as_ref().map(|l| l.worker.clone())) {
        return Ok(w);
    }
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(WORKER_URL, &opts)
        .map_err(|_| "the browser would not start the keep worker".to_string())?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        on_message(s, &e.data());
    });
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        s.keep.task.set(None);
        s.keep.outcome.set(Some(
            "the keep worker failed to load or stopped; reload the page to try again".into(),
        ));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    LINK.with(|l| {
        *l.borrow_mut() = Some(Link {
            worker: worker.clone(),
            _on_message: on_message,
            _on_error: on_error,
        })
    });
    Ok(worker)
}

/// A message for the worker: `{t, ...fields}`.
fn message(t: &str, fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    let _ = Reflect::set(&o, &"t".into(), &t.into());
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

/// Posts `msg`, transferring `buffer` when given.
fn post(s: AppState, msg: &Object, buffer: Option<&JsValue>) {
    let sent = link(s).and_then(|w| {
        match buffer {
            Some(b) => w.post_message_with_transfer(msg, &Array::of1(b)),
            None => w.post_message(msg),
        }
        .map_err(|_| "the keep worker could not be reached".to_string())
    });
    if let Err(e) = sent {
        s.keep.outcome.set(Some(e));
    }
}

fn bytes_to_buffer(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).buffer().into()
}

fn field(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
}

fn num(o: &JsValue, k: &str) -> f64 {
    field(o, k).as_f64().unwrap_or(0.0)
}

fn text(o: &JsValue, k: &str) -> String {
    field(o, k).as_string().unwrap_or_default()
}

fn buffer_bytes(o: &JsValue) -> Vec<u8> {
    Uint8Array::new(&field(o, "b")).to_vec()
}

fn new_task(s: AppState, what: String) -> u32 {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    s.keep.outcome.set(None);
    s.keep.task.set(Some(Task {
        id,
        what,
        done: 0.0,
        total: 0.0,
    }));
    id
}

/// Whether the frame loop should hand this frame's messages to [`record`].
pub fn recording() -> bool {
    RECORDING.with(Cell::get)
}

/// Sends one frame's recorded messages to the worker.
pub fn record(s: AppState, records: Vec<u8>) {
    if !records.is_empty() {
        let b = bytes_to_buffer(&records);
        post(s, &message("records", &[("b", b.clone())]), Some(&b));
    }
}

/// Decodes a batch of records into messages; a bad record ends the batch
/// (the worker wrote them, so this is a bug, reported once).
fn decode(bytes: Vec<u8>) -> Result<Vec<Incoming>, String> {
    let mut out = Vec::new();
    for r in mqtt_session::record::decode(bytes) {
        let r = r.map_err(|e| format!("the keep worker sent a bad record: {e}"))?;
        out.push(Incoming {
            topic: r.topic,
            // A copy, so one message does not keep the whole batch alive
            // (the history's byte cap counts payload sizes).
            payload: Bytes::copy_from_slice(&r.payload),
            qos: r.qos.as_u8(),
            retain: r.retain,
            dup: r.dup,
            received_ms: r.received_ms,
            properties: r.properties.map(Arc::from),
        });
    }
    Ok(out)
}

/// Starts recording, keeping at most `bound_mb` MB.
pub fn start_recording(s: AppState, bound_mb: f64) {
    if let Some(st) = storage() {
        let _ = st.set_item(RECORDING_KEY, "1");
    }
    post(
        s,
        &message("record-start", &[("bound", (bound_mb * 1e6).into())]),
        None,
    );
}

/// Stops recording (what was recorded stays).
pub fn stop_recording(s: AppState) {
    RECORDING.with(|r| r.set(false));
    post(s, &message("record-stop", &[]), None);
}

/// Stops recording and deletes the recording.
pub fn clear_recording(s: AppState) {
    RECORDING.with(|r| r.set(false));
    if let Some(st) = storage() {
        let _ = st.remove_item(RECORDING_KEY);
    }
    post(s, &message("record-stop", &[]), None);
    post(s, &message("record-clear", &[]), None);
}

/// Exports the recording, or with `node` the kept history of that subtree,
/// as NDJSON or CSV (`fields`: a CSV column per numeric JSON field).
pub fn export(s: AppState, node: Option<NodeId>, csv: bool, fields: bool) {
    let ext = if csv { "csv" } else { "ndjson" };
    let (name, records) = match node {
        None => (format!("mqdash-recording.{ext}"), None),
        Some(node) => {
            let mut out = Vec::new();
            let mut entries = 0usize;
            s.model_untracked(|d| {
                for id in d.tree().panels_under(node) {
                    let Some(p) = d.panel(id) else { continue };
                    for e in p.history().iter() {
                        entries += 1;
                        crate::client::updates::record_message(
                            &mut out,
                            &Incoming {
                                topic: p.topic().to_string(),
                                payload: e.payload.clone(),
                                qos: e.qos,
                                retain: e.retain,
                                dup: e.dup,
                                received_ms: e.received_ms,
                                properties: e.properties.clone(),
                            },
                        );
                    }
                }
            });
            if entries == 0 {
                s.keep.outcome.set(Some(
                    "the selected topics hold no messages to export".into(),
                ));
                return;
            }
            (format!("mqdash-history.{ext}"), Some(out))
        }
    };
    let id = new_task(s, format!("Exporting {name}"));
    let mut fields_list = vec![
        ("id", JsValue::from(id)),
        ("format", JsValue::from_str(ext)),
        ("fields", JsValue::from_bool(fields)),
        ("name", JsValue::from_str(&name)),
    ];
    let buffer = records.map(|r| bytes_to_buffer(&r));
    if let Some(b) = &buffer {
        fields_list.push(("b", b.clone()));
    }
    post(s, &message("export", &fields_list), buffer.as_ref());
}

/// Imports an NDJSON file and replays it at `pace` (`original`, `fast`,
/// `instant`).
pub fn import(s: AppState, file: web_sys::File, pace: &str) {
    let name = file.name();
    let id = new_task(s, format!("Replaying {name}"));
    s.keep.replayed.set(Some((name, 0)));
    post(
        s,
        &message(
            "import",
            &[
                ("id", id.into()),
                ("file", file.into()),
                ("pace", pace.into()),
            ],
        ),
        None,
    );
}

/// Re-publishes the recording to the connected broker, replacing the topic
/// prefix `from` with `to` (no rewrite when `from` is empty).
pub fn republish(s: AppState, from: &str, to: &str) {
    if !s.status.get_untracked().is_connected() {
        s.keep
            .outcome
            .set(Some("re-publishing needs a connection to a broker".into()));
        return;
    }
    let id = new_task(s, "Re-publishing the recording".into());
    post(
        s,
        &message(
            "republish",
            &[("id", id.into()), ("from", from.into()), ("to", to.into())],
        ),
        None,
    );
}

/// Stops the task under way.
pub fn cancel(s: AppState) {
    if let Some(t) = s.keep.task.get_untracked() {
        REPUBLISH.with(|r| r.borrow_mut().take());
        REPLAY.with(|r| r.borrow_mut().clear());
        post(s, &message("cancel", &[("id", t.id.into())]), None);
        s.keep.task.set(None);
        s.keep.outcome.set(Some(format!("{}: stopped", t.what)));
    }
}

fn progress(s: AppState, id: u32, done: f64, total: f64) {
    s.keep.task.update(|t| {
        if let Some(t) = t.as_mut().filter(|t| t.id == id) {
            t.done = done;
            t.total = total;
        }
    });
}

fn current(s: AppState, id: u32) -> bool {
    s.keep
        .task
        .with_untracked(|t| t.as_ref().is_some_and(|t| t.id == id))
}

fn on_message(s: AppState, data: &JsValue) {
    let id = num(data, "id") as u32;
    match text(data, "t").as_str() {
        "status" => {
            let r = Recording {
                on: field(data, "recording").as_bool().unwrap_or(false),
                bound: num(data, "bound"),
                bytes: num(data, "bytes"),
                count: num(data, "count"),
                dropped: num(data, "dropped"),
            };
            RECORDING.with(|c| c.set(r.on));
            if s.keep.recording.get_untracked() != Some(r) {
                s.keep.recording.set(Some(r));
            }
        }
        "progress" => progress(s, id, num(data, "done"), num(data, "total")),
        "file" => {
            let name = text(data, "name");
            let sent = field(data, "blob")
                .dyn_into::<web_sys::Blob>()
                .map_err(|_| "the export came back without a file".to_string())
                .and_then(|b| crate::files::download_blob(&name, &b));
            s.keep.task.set(None);
            s.keep.outcome.set(Some(match sent {
                Ok(()) => format!("Exported {name}"),
                Err(e) => e,
            }));
        }
        "replay" if current(s, id) => match decode(buffer_bytes(data)) {
            Ok(batch) => {
                let n = batch.len() as u64;
                REPLAY.with(|r| r.borrow_mut().push_back(batch));
                s.keep
                    .replayed
                    .update(|r| *r = r.take().map(|(f, c)| (f, c + n)));
            }
            Err(e) => s.keep.outcome.set(Some(e)),
        },
        "publish" if current(s, id) => match decode(buffer_bytes(data)) {
            Ok(batch) => REPUBLISH.with(|r| {
                *r.borrow_mut() = Some(Republish {
                    id,
                    records: batch.into(),
                })
            }),
            Err(e) => s.keep.outcome.set(Some(e)),
        },
        "done" if current(s, id) => {
            let what = s
                .keep
                .task
                .get_untracked()
                .map(|t| t.what)
                .unwrap_or_default();
            s.keep.task.set(None);
            s.keep.outcome.set(Some(done_sentence(&what, data)));
        }
        "error" => {
            if id != 0 && current(s, id) {
                s.keep.task.set(None);
            }
            s.keep.outcome.set(Some(text(data, "message")));
        }
        _ => {}
    }
}

/// "Replaying x.ndjson: done; 998 messages from 1,001 lines; 3 bad lines
/// (2, 5, 9): line 2: …".
fn done_sentence(what: &str, data: &JsValue) -> String {
    let good = num(data, "good");
    let bad = num(data, "bad");
    let mut out = format!(
        "{what}: done; {} messages from {} lines",
        model::decimal::Shortest(good),
        model::decimal::Shortest(num(data, "lines"))
    );
    if bad > 0.0 {
        let lines: Vec<String> = Array::from(&field(data, "bad_lines"))
            .iter()
            .filter_map(|v| v.as_f64())
            .map(|n| model::decimal::Shortest(n).to_string())
            .collect();
        let errors: Vec<String> = Array::from(&field(data, "errors"))
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        out.push_str(&format!(
            "; {} bad {} (line {}): {}",
            model::decimal::Shortest(bad),
            if bad == 1.0 { "line" } else { "lines" },
            lines.join(", "),
            errors.join("; ")
        ));
    }
    out
}

/// Called once a frame: applies the next replayed batch to the model and
/// publishes the next few re-published records. Whether the model changed.
pub fn frame(s: AppState) -> bool {
    let batch = REPLAY.with(|r| r.borrow_mut().pop_front());
    let changed = match batch {
        Some(b) => {
            s.change_model_quietly(|d| d.apply_batch(b, js_sys::Date::now()));
            true
        }
        None => false,
    };
    republish_some(s);
    changed
}

fn republish_some(s: AppState) {
    let Some((id, batch, finished)) = REPUBLISH.with(|r| {
        let mut r = r.borrow_mut();
        let rp = r.as_mut()?;
        let n = rp.records.len().min(REPUBLISH_PER_FRAME);
        let batch: Vec<Incoming> = rp.records.drain(..n).collect();
        let finished = rp.records.is_empty();
        let id = rp.id;
        if finished {
            *r = None;
        }
        Some((id, batch, finished))
    }) else {
        return;
    };
    let mut failed = None;
    // A client never sends subscription identifiers, and a 3.1.1
    // connection no properties at all.
    let v5 = crate::actions::live_v5(s);
    for m in &batch {
        let qos = QoS::from_u8(m.qos).unwrap_or(QoS::AtMostOnce);
        let mut props = match &m.properties {
            Some(p) if v5 => (**p).clone(),
            _ => mqtt_session::PublishProperties::default(),
        };
        props.subscription_identifiers.clear();
        let size = m.payload.len();
        let r = s.client().with(|sup| {
            sup.publish_with(now_ms(), &m.topic, m.payload.to_vec(), qos, m.retain, props)
        });
        match r {
            Ok(pid) => s
                .publishes
                .update(|log| log.record(pid, &m.topic, m.qos, m.retain, size)),
            Err(e) => {
                failed = Some(format!("re-publishing {} failed: {e}", m.topic));
                break;
            }
        }
    }
    if let Some(e) = failed {
        REPUBLISH.with(|r| r.borrow_mut().take());
        post(s, &message("cancel", &[("id", id.into())]), None);
        s.keep.task.set(None);
        s.keep.outcome.set(Some(e));
        return;
    }
    s.keep.task.update(|t| {
        if let Some(t) = t.as_mut().filter(|t| t.id == id) {
            t.done += batch.len() as f64;
        }
    });
    if finished {
        post(s, &message("more", &[("id", id.into())]), None);
    }
}
