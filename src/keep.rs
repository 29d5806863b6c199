//! The page's side of Keep (docs/keep.md): starts the keep worker the first
//! time it is needed (or at start when a recording exists), posts it the
//! page's requests and, while recording, each frame's messages as records;
//! applies replayed records to the model as live messages (at most one
//! batch a frame), publishes what a re-publish sends back, downloads
//! finished exports, and draws the Keep card (`components::keep`, static
//! markup) from the state it owns.
//!
//! Must not: format or parse files, touch IndexedDB, or pace a replay (all
//! the worker's, so that none of it is in the page's first load); write
//! anything into the page as HTML (text only, through `textContent`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::{GetUntracked, Update};
use model::decimal::Shortest;
use model::{Incoming, NodeId};
use mqtt_session::QoS;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, MessageEvent, Worker, WorkerOptions, WorkerType};

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
struct Recording {
    on: bool,
    bound: f64,
    bytes: f64,
    count: f64,
    dropped: f64,
}

/// An export, import or re-publish under way.
#[derive(Debug, Clone, PartialEq)]
struct Task {
    /// Its id in the worker's messages.
    id: u32,
    /// What it is, as the card says it ("Exporting mqdash-recording.ndjson").
    what: String,
    done: f64,
    /// In all; 0 while unknown.
    total: f64,
}

/// What the Keep card shows. Owned here, changed only through [`change`],
/// which draws the card after each change.
#[derive(Debug, Default)]
struct View {
    recording: Option<Recording>,
    task: Option<Task>,
    outcome: Option<String>,
    /// Messages replayed into the page so far, and from which file.
    replayed: Option<(String, u64)>,
    connected: bool,
}

/// The running worker and its handlers (dropped together).
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
    static VIEW: RefCell<View> = RefCell::new(View::default());
    /// Whether the frame loop records (mirrors the worker's status).
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    /// Replayed messages waiting for the next frames.
    static REPLAY: RefCell<VecDeque<Vec<Incoming>>> = const { RefCell::new(VecDeque::new()) };
    static REPUBLISH: RefCell<Option<Republish>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
    /// Recording commands (start, stop, clear) posted to the worker.
    static COMMANDS: Cell<u64> = const { Cell::new(0) };
}

/// Changes what the card shows, then draws it.
fn change(f: impl FnOnce(&mut View)) {
    VIEW.with(|v| f(&mut v.borrow_mut()));
    render();
}

/// Says `outcome` on the card, ending the task under way when `end`.
fn say(outcome: String, end: bool) {
    change(|v| {
        if end {
            v.task = None;
        }
        v.outcome = Some(outcome);
    });
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
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

fn set_flag(id: &str, flag: &str, on: bool) {
    if let Some(e) = element(id) {
        let _ = e.toggle_attribute_with_force(flag, on);
    }
}

/// A control's `value` (input or select).
fn value(id: &str) -> String {
    element(id)
        .and_then(|e| Reflect::get(&e, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn checked(id: &str) -> bool {
    element(id)
        .and_then(|e| Reflect::get(&e, &"checked".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// "2.1 MB".
fn mb(bytes: f64) -> String {
    format!("{} MB", Shortest((bytes / 1e5).round() / 10.0))
}

/// Draws the card and the replay banner from the view.
fn render() {
    VIEW.with(|v| {
        let v = v.borrow();
        let rec = v.recording.filter(|r| r.on || r.count > 0.0);
        let status = match rec {
            Some(r) => {
                let mut t = format!(
                    "{}: {} messages, {} of {}",
                    if r.on { "Recording" } else { "Recorded (stopped)" },
                    Shortest(r.count),
                    mb(r.bytes),
                    mb(r.bound)
                );
                if r.dropped > 0.0 {
                    t.push_str(&format!("; {} oldest dropped by the limit", Shortest(r.dropped)));
                }
                t + "."
            }
            None => "Not recording.".into(),
        };
        set_text("keep-rec", &status);
        let on = rec.is_some_and(|r| r.on);
        set_text("keep-record", if on { "Stop recording" } else { "Record" });
        set_flag("keep-clear", "disabled", rec.is_none());
        let busy = v.task.is_some();
        for id in ["keep-ndjson", "keep-csv", "keep-file"] {
            set_flag(id, "disabled", busy);
        }
        set_flag("keep-republish", "disabled", busy || !v.connected);
        let task = v.task.as_ref().map_or(String::new(), |t| {
            let n = if t.total > 0.0 {
                format!(": {} of {}", Shortest(t.done), Shortest(t.total))
            } else if t.done > 0.0 {
                format!(": {}", Shortest(t.done))
            } else {
                String::new()
            };
            format!("{}{n}…", t.what)
        });
        set_text("keep-task", &task);
        set_flag("keep-cancel", "hidden", !busy);
        set_text("keep-outcome", v.outcome.as_deref().unwrap_or_default());
        set_flag("keep-replay", "hidden", v.replayed.is_none());
        if let Some((file, n)) = &v.replayed {
            set_text(
                "keep-replay-text",
                &format!(
                    "Replay: shown messages include {} replayed from {file}, not received from a broker.",
                    Shortest(*n as f64)
                ),
            );
        }
    });
}

/// The connection came or went (re-publishing needs one).
pub fn set_connected(connected: bool) {
    change(|v| v.connected = connected);
}

/// The card's one click handler: acts on the button clicked.
pub fn on_click(s: AppState, ev: &web_sys::MouseEvent) {
    let id = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest("button").ok().flatten())
        .map(|b| b.id())
        .unwrap_or_default();
    match id.as_str() {
        "keep-record" => toggle_recording(),
        "keep-clear" => clear_recording(),
        "keep-ndjson" | "keep-csv" => {
            let node =
                (value("keep-source") == "selected").then(|| s.view.selected.get_untracked());
            export(s, node, id == "keep-csv", checked("keep-fields"));
        }
        "keep-republish" => republish(&value("keep-from"), &value("keep-to")),
        "keep-cancel" => cancel(),
        _ => {}
    }
}

/// The card's one change handler: a picked file is imported.
pub fn on_change(ev: &web_sys::Event) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .filter(|i| i.id() == "keep-file")
    else {
        return;
    };
    if let Some(file) = input.files().and_then(|f| f.get(0)) {
        import(file, &value("keep-pace"));
    }
    // Picking the same file again must fire `change` again.
    input.set_value("");
}

/// The banner's Dismiss button.
pub fn on_banner_click(ev: &web_sys::MouseEvent) {
    let on_button = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|e| e.tag_name() == "BUTTON");
    if on_button {
        change(|v| v.replayed = None);
    }
}

/// Starts the worker at page start when a recording exists, and records
/// from the first frame: messages that come before the worker's first
/// status are kept if the recording is on (its loader holds them until it
/// has read the stored recording), and that status turns this off if not.
pub fn start_if_recorded() {
    if storage()
        .and_then(|st| st.get_item(RECORDING_KEY).ok().flatten())
        .is_some()
    {
        RECORDING.with(|r| r.set(true));
        let _ = link();
    }
}

/// The worker, started on first use. `Err` is a sentence for the card.
fn link() -> Result<Worker, String> {
    if let Some(w) = LINK.with(|l| l.borrow().as_ref().map(|l| l.worker.clone())) {
        return Ok(w);
    }
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(WORKER_URL, &opts)
        .map_err(|_| "the browser would not start the keep worker".to_string())?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        on_message(&e.data());
    });
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        // Nothing posted now would be kept: stop encoding frames for it.
        RECORDING.with(|r| r.set(false));
        change(|v| v.recording = None);
        say(
            "the keep worker failed to load or stopped; reload the page to try again".into(),
            true,
        );
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

/// Posts a recording command (`record-start`, `record-stop`,
/// `record-clear`), counted so that statuses older than it are ignored.
fn command(t: &str, fields: &[(&str, JsValue)]) {
    if post(&message(t, fields), None) {
        COMMANDS.with(|c| c.set(c.get() + 1));
    }
}

/// Posts `msg`, transferring `buffer` when given; whether it went.
fn post(msg: &Object, buffer: Option<&JsValue>) -> bool {
    let sent = link().and_then(|w| {
        match buffer {
            Some(b) => w.post_message_with_transfer(msg, &Array::of1(b)),
            None => w.post_message(msg),
        }
        .map_err(|_| "the keep worker could not be reached".to_string())
    });
    match sent {
        Ok(()) => true,
        Err(e) => {
            say(e, true);
            false
        }
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

fn new_task(what: String) -> u32 {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    change(|v| {
        v.outcome = None;
        v.task = Some(Task {
            id,
            what,
            done: 0.0,
            total: 0.0,
        });
    });
    id
}

/// Whether the frame loop should hand this frame's messages to [`record`].
pub fn recording() -> bool {
    RECORDING.with(Cell::get)
}

/// Sends one frame's recorded messages to the worker.
pub fn record(records: Vec<u8>) {
    if !records.is_empty() {
        let b = bytes_to_buffer(&records);
        post(&message("records", &[("b", b.clone())]), Some(&b));
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
            decoded: None,
        });
    }
    Ok(out)
}

fn toggle_recording() {
    if VIEW.with(|v| v.borrow().recording.is_some_and(|r| r.on)) {
        RECORDING.with(|r| r.set(false));
        command("record-stop", &[]);
        return;
    }
    let typed = value("keep-bound");
    match typed.trim().parse::<u32>() {
        Ok(mb) if mb >= 1 => {
            if let Some(st) = storage() {
                let _ = st.set_item(RECORDING_KEY, "1");
            }
            // From this frame on, not from the worker's first answer: it
            // may take a moment to start, and its loader keeps what is
            // posted meanwhile, in order. If it cannot record, its status
            // turns this off again.
            RECORDING.with(|r| r.set(true));
            command("record-start", &[("bound", (f64::from(mb) * 1e6).into())]);
        }
        _ => say(
            format!("Recording limit (MB) must be a whole number of at least 1, not {typed:?}"),
            false,
        ),
    }
}

/// Stops recording and deletes the recording.
fn clear_recording() {
    RECORDING.with(|r| r.set(false));
    if let Some(st) = storage() {
        let _ = st.remove_item(RECORDING_KEY);
    }
    command("record-stop", &[]);
    command("record-clear", &[]);
}

/// Exports the recording, or with `node` the kept history of that subtree,
/// as NDJSON or CSV (`fields`: a CSV column per numeric JSON field).
fn export(s: AppState, node: Option<NodeId>, csv: bool, fields: bool) {
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
                                decoded: None,
                            },
                        );
                    }
                }
            });
            if entries == 0 {
                say(
                    "the selected topics hold no messages to export".into(),
                    false,
                );
                return;
            }
            (format!("mqdash-history.{ext}"), Some(out))
        }
    };
    let id = new_task(format!("Exporting {name}"));
    // The worker decodes with the page's rules, so the file holds what the
    // panels show.
    let (decoders, schemas) = crate::decoders::for_export();
    let mut fields_list = vec![
        ("id", JsValue::from(id)),
        ("format", JsValue::from_str(ext)),
        ("fields", JsValue::from_bool(fields)),
        ("name", JsValue::from_str(&name)),
        ("decoders", JsValue::from_str(&decoders)),
        ("schemas", schemas),
    ];
    let buffer = records.map(|r| bytes_to_buffer(&r));
    if let Some(b) = &buffer {
        fields_list.push(("b", b.clone()));
    }
    post(&message("export", &fields_list), buffer.as_ref());
}

/// Imports an NDJSON file and replays it at `pace` (`original`, `fast`,
/// `instant`).
fn import(file: web_sys::File, pace: &str) {
    let name = file.name();
    let id = new_task(format!("Replaying {name}"));
    change(|v| v.replayed = Some((name, 0)));
    post(
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
fn republish(from: &str, to: &str) {
    let id = new_task("Re-publishing the recording".into());
    post(
        &message(
            "republish",
            &[("id", id.into()), ("from", from.into()), ("to", to.into())],
        ),
        None,
    );
}

/// Stops the task under way.
fn cancel() {
    let Some(t) = VIEW.with(|v| v.borrow().task.clone()) else {
        return;
    };
    REPUBLISH.with(|r| r.borrow_mut().take());
    REPLAY.with(|r| r.borrow_mut().clear());
    post(&message("cancel", &[("id", t.id.into())]), None);
    say(format!("{}: stopped", t.what), true);
}

fn current(id: u32) -> bool {
    VIEW.with(|v| v.borrow().task.as_ref().is_some_and(|t| t.id == id))
}

fn on_message(data: &JsValue) {
    let id = num(data, "id") as u32;
    match text(data, "t").as_str() {
        // A status from before the page's latest recording command (the
        // worker's first one, posted as it starts, is "not recording")
        // would switch recording off between a Record click and its answer.
        "status" if num(data, "commands") < COMMANDS.with(Cell::get) as f64 => {}
        "status" => {
            let r = Recording {
                on: field(data, "recording").as_bool().unwrap_or(false),
                bound: num(data, "bound"),
                bytes: num(data, "bytes"),
                count: num(data, "count"),
                dropped: num(data, "dropped"),
            };
            RECORDING.with(|c| c.set(r.on));
            change(|v| v.recording = Some(r));
        }
        "progress" if current(id) => change(|v| {
            if let Some(t) = v.task.as_mut() {
                t.done = num(data, "done");
                t.total = num(data, "total");
            }
        }),
        "file" => {
            let name = text(data, "name");
            let sent = field(data, "blob")
                .dyn_into::<web_sys::Blob>()
                .map_err(|_| "the export came back without a file".to_string())
                .and_then(|b| crate::files::download_blob(&name, &b));
            say(
                sent.map_or_else(|e| e, |()| format!("Exported {name}")),
                true,
            );
        }
        "replay" if current(id) => match decode(buffer_bytes(data)) {
            Ok(batch) => {
                let n = batch.len() as u64;
                REPLAY.with(|r| r.borrow_mut().push_back(batch));
                change(|v| {
                    if let Some((_, c)) = v.replayed.as_mut() {
                        *c += n;
                    }
                });
            }
            Err(e) => say(e, false),
        },
        "publish" if current(id) => match decode(buffer_bytes(data)) {
            Ok(batch) => REPUBLISH.with(|r| {
                *r.borrow_mut() = Some(Republish {
                    id,
                    records: batch.into(),
                })
            }),
            Err(e) => say(e, false),
        },
        "done" if current(id) => {
            let what = VIEW.with(|v| v.borrow().task.as_ref().map(|t| t.what.clone()));
            say(done_sentence(&what.unwrap_or_default(), data), true);
        }
        "error" => say(text(data, "message"), id != 0 && current(id)),
        _ => {}
    }
}

/// "Replaying x.ndjson: done; 998 messages from 1,001 lines; 3 bad lines
/// (line 2, 5, 9): …".
fn done_sentence(what: &str, data: &JsValue) -> String {
    if field(data, "cancelled").as_bool() == Some(true) {
        return format!("{what}: stopped");
    }
    let bad = num(data, "bad");
    let mut out = format!(
        "{what}: done; {} messages from {} lines",
        Shortest(num(data, "good")),
        Shortest(num(data, "lines"))
    );
    if bad > 0.0 {
        let list = |k: &str| -> Vec<String> {
            Array::from(&field(data, k))
                .iter()
                .map(|v| match v.as_f64() {
                    Some(n) => Shortest(n).to_string(),
                    None => v.as_string().unwrap_or_default(),
                })
                .collect()
        };
        out.push_str(&format!(
            "; {} bad {} (line {}): {}",
            Shortest(bad),
            if bad == 1.0 { "line" } else { "lines" },
            list("bad_lines").join(", "),
            list("errors").join("; ")
        ));
    }
    out
}

/// Called once a frame: applies the next replayed batch to the model and
/// publishes the next few re-published records.
pub fn frame(s: AppState) {
    let held = REPLAY.with(|r| {
        r.borrow()
            .front()
            .is_some_and(|b| crate::decoders::hold(b.iter().map(|m| m.topic.as_str())))
    });
    if let Some(mut b) = (!held)
        .then(|| REPLAY.with(|r| r.borrow_mut().pop_front()))
        .flatten()
    {
        b.iter_mut().for_each(crate::decoders::decode);
        s.change_model_quietly(|d| d.apply_batch(b, js_sys::Date::now()));
    }
    republish_some(s);
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
    // A client never sends subscription identifiers, and a 3.1.1
    // connection no properties at all.
    let v5 = crate::actions::live_v5(s);
    let mut sent = Vec::with_capacity(batch.len());
    let mut failed = None;
    for m in &batch {
        let qos = QoS::from_u8(m.qos).unwrap_or(QoS::AtMostOnce);
        let mut props = match &m.properties {
            Some(p) if v5 => (**p).clone(),
            _ => mqtt_session::PublishProperties::default(),
        };
        props.subscription_identifiers.clear();
        let with_properties = !props.is_empty();
        let r = s.client().with(|sup| {
            sup.publish_with(now_ms(), &m.topic, m.payload.to_vec(), qos, m.retain, props)
        });
        match r {
            Ok(pid) => sent.push((pid, m, qos, with_properties)),
            Err(e) => {
                failed = Some(format!("re-publishing {} failed: {e}", m.topic));
                break;
            }
        }
    }
    // The publish log as for a manual publish, updated once for the batch.
    s.publishes.update(|log| {
        for (pid, m, qos, props) in &sent {
            let size = m.payload.len();
            crate::actions::log_publish(log, *pid, &m.topic, *qos, m.retain, size, *props);
        }
    });
    s.apply_pending();
    if let Some(e) = failed {
        REPUBLISH.with(|r| r.borrow_mut().take());
        post(&message("cancel", &[("id", id.into())]), None);
        say(e, true);
        return;
    }
    change(|v| {
        if let Some(t) = v.task.as_mut().filter(|t| t.id == id) {
            t.done += batch.len() as f64;
        }
    });
    if finished {
        post(&message("more", &[("id", id.into())]), None);
    }
}
