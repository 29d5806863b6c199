//! The keep worker's state and its handling of the page's messages
//! (docs/keep.md, "Messages between the page and the worker").
//!
//! One `Worker` value, owned by this thread, holds the recording's
//! bookkeeping, the records not stored yet and the jobs under way (export,
//! import and replay, republish), each an async task that checks its
//! cancel flag between steps and yields to the event loop between chunks,
//! so `cancel` and `more` are handled while it runs. The borrow of the
//! state is never held across an await. Nothing here may panic.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;
use js_sys::{Array, Function, Object, Promise, Uint8Array};
use keep::bound::{chunk_target, cut, Recording};
use keep::lines::{LineSplitter, Piece};
use keep::ndjson::{Importer, Summary};
use keep::pace::{Pace, Pacer};
use mqtt_session::record::{self, Record, Records};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Blob, BlobPropertyBag, IdbDatabase, MessageEvent};

use crate::idb;
use crate::js::{self, Msg};

/// At most 4 status messages a second while recording.
const STATUS_MS: f64 = 250.0;
/// Import reads the file in slices of this size.
const SLICE: f64 = 1024.0 * 1024.0;
/// Export parts are handed to the Blob at about this size.
const PART: usize = 1024 * 1024;
/// Records handled between yields when exporting given records.
const STEP_RECORDS: usize = 2000;
/// The most records in one `publish` batch (docs/keep.md).
const PUBLISH_BATCH: usize = 500;
/// Progress messages at most this often.
const PROGRESS_MS: f64 = 100.0;

/// A job under way, found by the page's `id`.
struct Job {
    id: JsValue,
    cancelled: Cell<bool>,
    /// Resolves the wait for `more` (republish).
    more: RefCell<Option<Function>>,
}

impl Job {
    fn wake(&self) {
        if let Some(resolve) = self.more.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

#[derive(Default)]
struct Worker {
    /// `None` until opened, or when the browser refused IndexedDB.
    db: Option<IdbDatabase>,
    /// Messages that came before the store was open.
    early: Option<Vec<JsValue>>,
    rec: Recording,
    /// Records that came while a write was under way, written when it ends
    /// (so writes never queue up behind a slow store).
    pending: Vec<u8>,
    /// Where each record in `pending` ends.
    pending_ends: Vec<usize>,
    /// Writes started and not finished.
    in_flight: u32,
    status_timer: bool,
    jobs: Vec<Rc<Job>>,
    /// Recording commands (start, stop, clear) handled, sent with every
    /// `status`: the page ignores a status that has not seen all it sent,
    /// so one posted before its Record click cannot switch recording off.
    commands: u64,
}

thread_local! {
    static W: RefCell<Worker> = RefCell::new(Worker {
        early: Some(Vec::new()),
        ..Worker::default()
    });
}

fn with<R>(f: impl FnOnce(&mut Worker) -> R) -> R {
    W.with(|w| f(&mut w.borrow_mut()))
}

/// Starts the worker: takes messages (those the loader queued first, see
/// scripts/externalize_loader.py), opens the store, then answers them.
pub fn start() {
    console_error_panic_hook::set_once();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| on_message(e.data()));
    js::scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    handler.forget();
    let global = js_sys::global();
    let queued = js::get(&global, "__keepQueue");
    if let Ok(queued) = queued.dyn_into::<Array>() {
        for e in queued.iter() {
            on_message(js::get(&e, "data"));
        }
        let key = JsValue::from_str("__keepQueue");
        let _ = js_sys::Reflect::delete_property(global.unchecked_ref::<Object>(), &key);
    }
    spawn_local(async {
        let cannot = |e: String| format!("the recording cannot be kept in this browser ({e})");
        let opened = match idb::exclusive().await {
            Ok(true) => match idb::open().await {
                Ok(db) => match idb::load_state(&db).await {
                    Ok(state) => Ok((db, state)),
                    Err(e) => Err(cannot(e)),
                },
                Err(e) => Err(cannot(e)),
            },
            Ok(false) => Err(
                "another mqdash tab is keeping the recording: record, export \
                 or re-publish it there (import and replay work here)"
                    .to_string(),
            ),
            Err(e) => Err(cannot(e)),
        };
        let early = with(|w| {
            match opened {
                Ok((db, state)) => {
                    if let Some(rec) = state.as_deref().and_then(Recording::from_json) {
                        w.rec = rec;
                    }
                    w.db = Some(db);
                }
                Err(e) => js::post_error(&JsValue::UNDEFINED, &e),
            }
            w.early.take().unwrap_or_default()
        });
        status_now();
        for data in early {
            on_message(data);
        }
    });
}

fn on_message(data: JsValue) {
    let queued = with(|w| match &mut w.early {
        Some(q) => {
            q.push(data.clone());
            true
        }
        None => false,
    });
    if queued {
        return;
    }
    let id = js::get(&data, "id");
    let t = js::get_str(&data, "t");
    if matches!(t.as_str(), "record-start" | "record-stop" | "record-clear") {
        with(|w| w.commands += 1);
    }
    match t.as_str() {
        "records" => records(&data),
        "record-start" => record_start(&data),
        "record-stop" => {
            flush();
            with(|w| w.rec.recording = false);
            persist(&[], &[]);
            status_now();
        }
        "record-clear" => {
            let gone = with(|w| {
                w.pending.clear();
                w.pending_ends.clear();
                w.rec.clear()
            });
            persist(&[], &gone);
            status_now();
        }
        "export" => spawn_local(export(data)),
        "import" => spawn_local(import(data)),
        "republish" => spawn_local(republish(data)),
        "more" => {
            if let Some(job) = find_job(&id) {
                job.wake();
            }
        }
        "cancel" => {
            if let Some(job) = find_job(&id) {
                job.cancelled.set(true);
                job.wake();
            }
        }
        other => {
            let other: String = other.chars().take(40).collect();
            js::post_error(&id, &format!("the keep worker does not know {other:?}"));
        }
    }
}

// ----- recording -----

fn record_start(data: &JsValue) {
    let bound = js::get(data, "bound").as_f64();
    let Some(bound) = bound.filter(|b| b.is_finite() && *b > 0.0) else {
        js::post_error(
            &JsValue::UNDEFINED,
            "the recording's size must be a number of bytes above 0",
        );
        return;
    };
    if with(|w| w.db.is_none()) {
        js::post_error(
            &JsValue::UNDEFINED,
            "nothing can be recorded in this tab (the worker said why when it started)",
        );
        status_now();
        return;
    }
    let gone = with(|w| {
        // Checked finite and positive above; saturates at u64::MAX.
        w.rec.set_bound(bound as u64);
        w.rec.recording = true;
        w.rec.trim()
    });
    persist(&[], &gone);
    status_now();
}

fn records(data: &JsValue) {
    if !with(|w| w.rec.recording && w.db.is_some()) {
        return;
    }
    let Ok(buffer) = js::get(data, "b").dyn_into::<js_sys::ArrayBuffer>() else {
        js::post_error(&JsValue::UNDEFINED, "a records message without its buffer");
        return;
    };
    let bytes = Bytes::from(Uint8Array::new(&buffer).to_vec());
    // Count the records, and keep only whole, valid ones: an export must
    // never meet a broken record.
    let mut ends = Vec::new();
    let mut it = record::decode(bytes.clone());
    let mut valid = bytes.len();
    loop {
        let before = it.remaining();
        match it.next() {
            Some(Ok(_)) => ends.push(bytes.len() - it.remaining()),
            Some(Err(e)) => {
                valid = bytes.len() - before;
                js::post_error(
                    &JsValue::UNDEFINED,
                    &format!("{e}; the rest of that frame's messages were not kept"),
                );
                break;
            }
            None => break,
        }
    }
    // Stored at once (a reload right after loses nothing), or as soon as
    // the write under way ends.
    let idle = with(|w| {
        let base = w.pending.len();
        w.pending
            .extend_from_slice(bytes.get(..valid).unwrap_or_default());
        w.pending_ends.extend(ends.iter().map(|e| base + e));
        w.in_flight == 0
    });
    if idle {
        flush();
    }
}

/// Stores the records not stored yet as pieces of the newest chunks (cut
/// so that none is over a chunk's target size), dropping the oldest chunks
/// past the bound.
fn flush() {
    let taken = with(|w| {
        if w.pending.is_empty() {
            return None;
        }
        let bytes = std::mem::take(&mut w.pending);
        let ends = std::mem::take(&mut w.pending_ends);
        let mut puts = Vec::new();
        for (range, count) in cut(&ends, chunk_target(w.rec.bound)) {
            let (id, piece) = w.rec.add_piece(range.len() as u64, count);
            puts.push((id, piece, range));
        }
        let gone = w.rec.trim();
        Some((puts, bytes, gone))
    });
    if let Some((puts, bytes, gone)) = taken {
        let puts: Vec<_> = puts
            .into_iter()
            .map(|(id, piece, range)| (id, piece, bytes.get(range).unwrap_or_default()))
            .collect();
        persist(&puts, &gone);
    }
}

/// Starts the write of the state (with pieces to put and chunks to
/// delete); a failure stops the recording and says why. When it ends,
/// what came meanwhile is written, and the page hears the new status.
fn persist(puts: &[(u64, u32, &[u8])], delete: &[u64]) {
    let started = with(|w| {
        let db = w.db.clone()?;
        let write = idb::write(&db, puts, delete, &w.rec.to_json());
        if write.is_ok() {
            w.in_flight += 1;
        }
        Some(write)
    });
    match started {
        None => {}
        Some(Ok(done)) => spawn_local(async move {
            let result = idb::finish(done).await;
            let more = with(|w| {
                w.in_flight = w.in_flight.saturating_sub(1);
                w.in_flight == 0 && !w.pending.is_empty()
            });
            match result {
                Ok(()) if more => flush(),
                Ok(()) => {}
                Err(e) => store_failed(&e),
            }
            status_soon();
        }),
        Some(Err(e)) => store_failed(&e),
    }
}

fn store_failed(e: &str) {
    let was = with(|w| std::mem::replace(&mut w.rec.recording, false));
    let stopped = if was { "; recording stopped" } else { "" };
    js::post_error(
        &JsValue::UNDEFINED,
        &format!("the browser did not store the recording ({e}){stopped}"),
    );
    status_now();
}

fn status_now() {
    let msg = with(|w| {
        Msg::new("status")
            .set("recording", &JsValue::from_bool(w.rec.recording))
            .num("bound", w.rec.bound as f64)
            .num("bytes", (w.rec.bytes() + w.pending.len() as u64) as f64)
            .num(
                "count",
                (w.rec.count() + w.pending_ends.len() as u64) as f64,
            )
            .num("dropped", w.rec.dropped as f64)
            .num("commands", w.commands as f64)
    });
    msg.post();
}

fn status_soon() {
    if with(|w| std::mem::replace(&mut w.status_timer, true)) {
        return;
    }
    spawn_local(async {
        js::sleep(STATUS_MS).await;
        with(|w| w.status_timer = false);
        status_now();
    });
}

// ----- jobs -----

fn find_job(id: &JsValue) -> Option<Rc<Job>> {
    with(|w| w.jobs.iter().find(|j| Object::is(&j.id, id)).cloned())
}

fn start_job(id: &JsValue) -> Rc<Job> {
    let job = Rc::new(Job {
        id: id.clone(),
        cancelled: Cell::new(false),
        more: RefCell::new(None),
    });
    with(|w| w.jobs.push(job.clone()));
    job
}

fn end_job(job: &Rc<Job>) {
    with(|w| w.jobs.retain(|j| !Rc::ptr_eq(j, job)));
}

fn post_done(id: &JsValue, s: &Summary, cancelled: bool) {
    let bad_lines: Array = s
        .bad_lines
        .iter()
        .map(|&n| JsValue::from_f64(n as f64))
        .collect();
    let errors: Array = s.errors.iter().map(|e| JsValue::from_str(e)).collect();
    Msg::new("done")
        .set("id", id)
        .num("lines", s.lines as f64)
        .num("good", s.good as f64)
        .num("bad", s.bad as f64)
        .set("bad_lines", &bad_lines)
        .set("errors", &errors)
        .set("cancelled", &JsValue::from_bool(cancelled))
        .post();
}

/// Posts progress, at most every [`PROGRESS_MS`] (and always at the end).
struct Progress {
    id: JsValue,
    last: f64,
}

impl Progress {
    fn new(id: &JsValue) -> Progress {
        Progress {
            id: id.clone(),
            last: f64::NEG_INFINITY,
        }
    }

    fn say(&mut self, done: f64, total: f64) {
        let now = js::now();
        if now - self.last < PROGRESS_MS && done < total {
            return;
        }
        self.last = now;
        Msg::new("progress")
            .set("id", &self.id)
            .num("done", done)
            .num("total", total)
            .post();
    }
}

/// Where a job's records come from: the page's buffer or the recording's
/// chunks (a snapshot of their ids; a chunk dropped meanwhile is skipped).
enum Source {
    Given(Records),
    Chunks(IdbDatabase, Vec<u64>, usize),
}

/// Reads a source a step at a time; counts what could not be read.
struct Reader {
    source: Source,
    unreadable: u64,
}

impl Reader {
    /// The recording, after storing what was not stored yet.
    fn recording() -> Result<(Reader, u64), String> {
        flush();
        with(|w| {
            let db =
                w.db.clone()
                    .ok_or("there is no recording in this browser")?;
            let ids = w.rec.chunks.iter().map(|c| c.id).collect();
            let source = Source::Chunks(db, ids, 0);
            Ok((
                Reader {
                    source,
                    unreadable: 0,
                },
                w.rec.count(),
            ))
        })
    }

    fn given(bytes: Bytes) -> (Reader, u64) {
        let total = record::decode(bytes.clone()).filter(Result::is_ok).count() as u64;
        let source = Source::Given(record::decode(bytes));
        (
            Reader {
                source,
                unreadable: 0,
            },
            total,
        )
    }

    /// The next records (`None` at the end).
    async fn next(&mut self) -> Result<Option<Vec<Record>>, String> {
        let mut out = Vec::new();
        match &mut self.source {
            Source::Given(records) => {
                for r in records.by_ref().take(STEP_RECORDS) {
                    match r {
                        Ok(r) => out.push(r),
                        Err(_) => self.unreadable += 1,
                    }
                }
                Ok((!out.is_empty()).then_some(out))
            }
            Source::Chunks(db, ids, at) => loop {
                let Some(&id) = ids.get(*at) else {
                    return Ok(None);
                };
                *at += 1;
                let Some(bytes) = idb::load_chunk(db, id).await? else {
                    continue;
                };
                for r in record::decode(bytes) {
                    match r {
                        Ok(r) => out.push(r),
                        Err(_) => self.unreadable += 1,
                    }
                }
                return Ok(Some(out));
            },
        }
    }
}

/// An export's bytes, handed to JS in parts of about [`PART`] bytes.
struct Parts {
    parts: Array,
    buf: Vec<u8>,
}

impl Parts {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= PART {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        if !self.buf.is_empty() {
            let array = Uint8Array::new_with_length(js::len_u32(self.buf.len()));
            array.copy_from(&self.buf);
            self.parts.push(&array);
            self.buf.clear();
        }
    }

    fn blob(mut self, mime: &str) -> Result<Blob, String> {
        self.hand_over();
        let options = BlobPropertyBag::new();
        options.set_type(mime);
        Blob::new_with_u8_array_sequence_and_options(&self.parts, &options)
            .map_err(|e| js::describe(&e))
    }
}

async fn export(data: JsValue) {
    let id = js::get(&data, "id");
    let job = start_job(&id);
    match run_export(&data, &job).await {
        Ok(Some(blob)) => Msg::new("file")
            .set("id", &id)
            .set("blob", &blob)
            .set("name", &JsValue::from_str(&js::get_str(&data, "name")))
            .post(),
        Ok(None) => post_done(&id, &Summary::default(), true),
        Err(e) => js::post_error(&id, &format!("the export failed: {e}")),
    }
    end_job(&job);
}

fn source_of(data: &JsValue) -> Result<(Reader, u64), String> {
    match js::get(data, "b").dyn_into::<js_sys::ArrayBuffer>() {
        Ok(b) => Ok(Reader::given(Bytes::from(Uint8Array::new(&b).to_vec()))),
        Err(_) => Reader::recording(),
    }
}

async fn run_export(data: &JsValue, job: &Job) -> Result<Option<Blob>, String> {
    let csv = match js::get_str(data, "format").as_str() {
        "ndjson" => false,
        "csv" => true,
        other => {
            let other: String = other.chars().take(40).collect();
            return Err(format!("{other:?} is not a format (ndjson or csv)"));
        }
    };
    let with_fields = csv && js::get(data, "fields").as_bool().unwrap_or(false);
    let decoding = crate::decoding::Decoding::from_request(data);
    let mut progress = Progress::new(&job.id);
    let (mut reader, total) = source_of(data)?;
    let passes = if with_fields { 2.0 } else { 1.0 };
    let total_work = total as f64 * passes;
    let mut done = 0.0;
    // First pass (CSV field columns only): which fields exist.
    let mut fields = keep::csv::FieldColumns::default();
    if with_fields {
        while let Some(records) = reader.next().await? {
            for r in &records {
                match decoding
                    .as_ref()
                    .and_then(|d| d.decode(&r.topic, &r.payload, r.received_ms))
                {
                    Some(o) => fields.scan(o.chart.as_deref().unwrap_or("").as_bytes()),
                    None => fields.scan(&r.payload),
                }
            }
            done += records.len() as f64;
            progress.say(done, total_work);
            js::sleep(0.0).await;
            if job.cancelled.get() {
                return Ok(None);
            }
        }
        reader = source_of(data)?.0;
        // The second pass learns Sparkplug B's aliases again, from the start.
        decoders_wasm::sparkplug_clear();
    }
    let mut parts = Parts {
        parts: Array::new(),
        buf: Vec::with_capacity(PART + 64 * 1024),
    };
    let fields = with_fields.then_some(&fields);
    if csv {
        parts.push(keep::csv::header(fields).as_bytes());
    }
    let mut line = String::new();
    let mut bytes = Vec::new();
    while let Some(records) = reader.next().await? {
        for r in &records {
            let decoded = decoding
                .as_ref()
                .and_then(|d| d.decode(&r.topic, &r.payload, r.received_ms));
            if csv {
                line.clear();
                match decoded.as_ref().and_then(|o| o.chart.as_deref()) {
                    Some(chart) => keep::csv::row_from(&mut line, r, fields, chart.as_bytes()),
                    None if decoded.is_some() => keep::csv::row_from(&mut line, r, fields, b""),
                    None => keep::csv::row(&mut line, r, fields),
                }
                parts.push(line.as_bytes());
            } else {
                bytes.clear();
                let out = decoded.as_ref().map(|o| keep::ndjson::DecodedOut {
                    decoder: &o.label,
                    result: o.result.as_deref().map_err(String::as_str),
                });
                keep::ndjson::write_line_decoded(&mut bytes, r, out);
                parts.push(&bytes);
            }
        }
        done += records.len() as f64;
        progress.say(done, total_work);
        js::sleep(0.0).await;
        if job.cancelled.get() {
            return Ok(None);
        }
    }
    progress.say(total_work, total_work);
    if reader.unreadable > 0 {
        js::post_error(
            &job.id,
            &format!(
                "{} kept records could not be read and are not in the export",
                reader.unreadable
            ),
        );
    }
    parts
        .blob(if csv {
            "text/csv"
        } else {
            "application/x-ndjson"
        })
        .map(Some)
}

/// An import's records as they are read, cut into replay batches. Only
/// the batches of the slice just read are held: the file is replayed as it
/// is read, so its size does not matter.
struct Imported {
    importer: Importer,
    pacer: Pacer,
    /// One record, just read.
    one: Vec<u8>,
    /// The batch being filled, and when it is due.
    open: Option<(f64, Vec<u8>)>,
    /// Complete batches, due at their time.
    ready: VecDeque<(f64, Vec<u8>)>,
}

impl Imported {
    fn piece(&mut self, p: Piece<'_>) {
        match p {
            Piece::Line(line) => {
                self.one.clear();
                let Some(ms) = self.importer.line(line, &mut self.one) else {
                    return;
                };
                if let Some(at) = self.pacer.push(ms) {
                    if let Some(done) = self.open.take() {
                        self.ready.push_back(done);
                    }
                    self.open = Some((at, Vec::new()));
                }
                if let Some((_, batch)) = &mut self.open {
                    batch.extend_from_slice(&self.one);
                }
            }
            Piece::TooLong(len) => self.importer.too_long(len, keep::MAX_LINE),
        }
    }
}

async fn import(data: JsValue) {
    let id = js::get(&data, "id");
    let job = start_job(&id);
    if let Err(e) = run_import(&data, &job).await {
        js::post_error(&id, &e);
    }
    end_job(&job);
}

async fn run_import(data: &JsValue, job: &Job) -> Result<(), String> {
    let file = js::get(data, "file")
        .dyn_into::<Blob>()
        .map_err(|_| "the import has no file".to_string())?;
    let pace_name = js::get_str(data, "pace");
    let pace = Pace::parse(&pace_name).ok_or_else(|| {
        let p: String = pace_name.chars().take(40).collect();
        format!("{p:?} is not a pace (original, fast or instant)")
    })?;
    let size = file.size();
    let mut progress = Progress::new(&job.id);
    let mut got = Imported {
        importer: Importer::new(js::now()),
        pacer: Pacer::new(pace),
        one: Vec::new(),
        open: None,
        ready: VecDeque::new(),
    };
    let mut split = LineSplitter::new(keep::MAX_LINE);
    // When the replay started (its first batch was sent).
    let mut t0 = None;
    let mut at = 0.0;
    let mut end_of_file = size <= 0.0;
    loop {
        if at < size {
            let end = (at + SLICE).min(size);
            let slice = file
                .slice_with_f64_and_f64(at, end)
                .map_err(|e| format!("the file could not be read ({})", js::describe(&e)))?;
            let buffer = JsFuture::from(slice.array_buffer())
                .await
                .map_err(|e| format!("the file could not be read ({})", js::describe(&e)))?;
            let bytes = Uint8Array::new(&buffer).to_vec();
            split.push(&bytes, |p| got.piece(p));
            at = end;
            progress.say(at, size);
        }
        if at >= size && !end_of_file {
            end_of_file = true;
            split.finish(|p| got.piece(p));
            if let Some(last) = got.open.take() {
                got.ready.push_back(last);
            }
        }
        if job.cancelled.get() {
            post_done(&job.id, got.importer.summary(), true);
            return Ok(());
        }
        while let Some((due, batch)) = got.ready.pop_front() {
            let start = *t0.get_or_insert_with(js::now);
            loop {
                let wait = start + due - js::now();
                // Short sleeps, so a cancel is seen within a quarter second.
                js::sleep(wait.min(250.0)).await;
                if job.cancelled.get() {
                    post_done(&job.id, got.importer.summary(), true);
                    return Ok(());
                }
                if wait <= 250.0 {
                    break;
                }
            }
            Msg::new("replay")
                .set("id", &job.id)
                .post_with_bytes(&batch);
        }
        if end_of_file {
            break;
        }
        // Let `cancel` in between slices even when nothing was due.
        js::sleep(0.0).await;
    }
    post_done(&job.id, got.importer.summary(), false);
    Ok(())
}

async fn republish(data: JsValue) {
    let id = js::get(&data, "id");
    let job = start_job(&id);
    if let Err(e) = run_republish(&data, &job).await {
        js::post_error(&id, &format!("the republish failed: {e}"));
    }
    end_job(&job);
}

/// Posts one `publish` batch and waits for `more` (or a cancel).
async fn publish(job: &Job, batch: &[u8]) {
    let wait = Promise::new(&mut |resolve, _| {
        *job.more.borrow_mut() = Some(resolve);
    });
    Msg::new("publish")
        .set("id", &job.id)
        .post_with_bytes(batch);
    let _ = JsFuture::from(wait).await;
}

async fn run_republish(data: &JsValue, job: &Job) -> Result<(), String> {
    let from = js::get_str(data, "from");
    let to = js::get_str(data, "to");
    let (mut reader, total) = Reader::recording()?;
    let mut progress = Progress::new(&job.id);
    let mut summary = Summary::default();
    let mut batch = Vec::new();
    let mut in_batch = 0;
    while let Some(records) = reader.next().await? {
        for r in records {
            summary.lines += 1;
            let topic = match keep::prefix::rewrite(&r.topic, &from, &to) {
                Ok(t) => t,
                Err(e) => {
                    summary.bad(summary.lines, &e);
                    continue;
                }
            };
            // A client never sends subscription identifiers: they were
            // the broker's, for our subscriptions.
            let properties = r.properties.map(|mut p| {
                p.subscription_identifiers.clear();
                p
            });
            let properties = properties.filter(|p| !p.is_empty());
            let written = record::encode(
                &mut batch,
                r.received_ms,
                &topic,
                &r.payload,
                r.qos,
                r.retain,
                false,
                properties.as_deref(),
            );
            match written {
                Ok(()) => {
                    summary.good += 1;
                    in_batch += 1;
                }
                Err(e) => summary.bad(summary.lines, &e.to_string()),
            }
            if in_batch == PUBLISH_BATCH {
                publish(job, &batch).await;
                batch.clear();
                in_batch = 0;
                progress.say(summary.lines as f64, total as f64);
                if job.cancelled.get() {
                    post_done(&job.id, &summary, true);
                    return Ok(());
                }
            }
        }
        js::sleep(0.0).await;
        if job.cancelled.get() {
            post_done(&job.id, &summary, true);
            return Ok(());
        }
    }
    if in_batch > 0 {
        publish(job, &batch).await;
    }
    if reader.unreadable > 0 {
        summary.bad += reader.unreadable;
        summary.errors.push(format!(
            "{} kept records could not be read",
            reader.unreadable
        ));
    }
    post_done(&job.id, &summary, job.cancelled.get());
    Ok(())
}
