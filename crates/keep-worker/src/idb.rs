//! The recording's store: IndexedDB database `mqdash-keep`, version 1, with
//! two object stores: `chunks` (key: `[chunk id, piece number]`, numbers;
//! value: a Uint8Array of records; a chunk's records are its pieces in
//! order) and `meta` (key `"state"`: the bookkeeping of
//! `keep::bound::Recording` as JSON).
//!
//! Requests are awaited by giving the promise's resolve and reject
//! functions to the request as its handlers (no closures to keep alive).
//! A write is one transaction whose requests are all made at once, in the
//! same tick as the state change it stores, so writes land in the order
//! the worker made them and a chunk never exists without the state that
//! names it. Nothing here may panic.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbKeyRange, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
};

use crate::js;

const NAME: &str = "mqdash-keep";
const CHUNKS: &str = "chunks";
const META: &str = "meta";
const STATE_KEY: &str = "state";

fn request_done(r: &IdbRequest) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        r.set_onsuccess(Some(&resolve));
        r.set_onerror(Some(&reject));
    }))
}

/// The error a failed request or transaction carries, as a sentence.
fn failure(e: &JsValue) -> String {
    // The handler got an Event; its target is the request or transaction.
    let target = js::get(e, "target");
    let error = js::get(&target, "error");
    if error.is_object() {
        js::describe(&error)
    } else {
        js::describe(e)
    }
}

/// The Web Lock every keep worker takes before it opens the store.
const LOCK: &str = "mqdash-keep";
/// How long a worker waits for another tab's worker to let go of the store
/// (a reload ends the old page's worker first, which takes a moment).
const LOCK_WAIT_MS: f64 = 3000.0;

/// Takes the store for this worker alone, for as long as it lives: two
/// tabs recording into one store would write chunks under the same keys.
/// `Ok(false)` when another tab's worker holds it. Browsers without Web
/// Locks in workers go on without (`Ok(true)`).
pub async fn exclusive() -> Result<bool, String> {
    let navigator = js::get(&js::scope(), "navigator");
    let locks = js::get(&navigator, "locks");
    let Ok(request) = js::get(&locks, "request").dyn_into::<js_sys::Function>() else {
        return Ok(true);
    };
    let answer: std::rc::Rc<std::cell::RefCell<Option<js_sys::Function>>> = Default::default();
    let got = Promise::new(&mut |resolve, _| *answer.borrow_mut() = Some(resolve));
    let say = |v: bool| {
        let answer = answer.clone();
        move || {
            if let Some(resolve) = answer.borrow_mut().take() {
                let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::from_bool(v));
            }
        }
    };
    let granted = say(true);
    let not_granted = say(false);
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        // With ifAvailable, a lock held elsewhere is given as null.
        if lock.is_null() || lock.is_undefined() {
            not_granted();
            return JsValue::UNDEFINED;
        }
        granted();
        // Held until the worker ends: a promise that never settles.
        Promise::new(&mut |_, _| {}).into()
    });
    let options = js_sys::Object::new();
    let abort_signal = js::get(&js_sys::global(), "AbortSignal");
    if let Ok(timeout) = js::get(&abort_signal, "timeout").dyn_into::<js_sys::Function>() {
        if let Ok(signal) = timeout.call1(&abort_signal, &JsValue::from_f64(LOCK_WAIT_MS)) {
            let _ = js_sys::Reflect::set(&options, &"signal".into(), &signal);
        }
    } else {
        let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    }
    let held = request
        .call3(&locks, &JsValue::from_str(LOCK), &options, &callback)
        .map_err(|e| js::describe(&e))?;
    // The request's own promise settles only when the wait is given up
    // (or, with ifAvailable, at once with no lock: the callback got null).
    let refused = say(false);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(Promise::resolve(&held)).await;
        refused();
    });
    Ok(JsFuture::from(got)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false))
}

/// Opens (and on first use creates) the database.
pub async fn open() -> Result<IdbDatabase, String> {
    let factory = js::scope()
        .indexed_db()
        .ok()
        .flatten()
        .ok_or("this browser gives workers no IndexedDB")?;
    let req: IdbOpenDbRequest = factory
        .open_with_u32(NAME, 1)
        .map_err(|e| js::describe(&e))?;
    let upgrade_req = req.clone();
    let upgrade = Closure::once_into_js(move |_e: JsValue| {
        if let Ok(db) = upgrade_req.result() {
            let db: IdbDatabase = db.unchecked_into();
            for store in [CHUNKS, META] {
                if !db.object_store_names().contains(store) {
                    let _ = db.create_object_store(store);
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    request_done(&req).await.map_err(|e| failure(&e))?;
    let db = req.result().map_err(|e| js::describe(&e))?;
    Ok(db.unchecked_into())
}

fn key(id: u64, piece: u32) -> JsValue {
    // Chunk ids count up from 1; far below 2^53.
    Array::of2(&JsValue::from_f64(id as f64), &JsValue::from(piece)).into()
}

/// Every piece of chunk `id`.
fn pieces(id: u64) -> Result<IdbKeyRange, JsValue> {
    let upper = Array::of2(
        &JsValue::from_f64(id as f64),
        &JsValue::from_f64(f64::INFINITY),
    );
    IdbKeyRange::bound(&key(id, 0), &upper)
}

/// The stored state's JSON, if any.
pub async fn load_state(db: &IdbDatabase) -> Result<Option<String>, String> {
    let tx = db
        .transaction_with_str_and_mode(META, IdbTransactionMode::Readonly)
        .map_err(|e| js::describe(&e))?;
    let store = tx.object_store(META).map_err(|e| js::describe(&e))?;
    let req = store
        .get(&JsValue::from_str(STATE_KEY))
        .map_err(|e| js::describe(&e))?;
    request_done(&req).await.map_err(|e| failure(&e))?;
    Ok(req.result().ok().and_then(|v| v.as_string()))
}

/// One chunk's bytes (`None` when it is gone: dropped or cleared meanwhile).
pub async fn load_chunk(db: &IdbDatabase, id: u64) -> Result<Option<Vec<u8>>, String> {
    let tx = db
        .transaction_with_str_and_mode(CHUNKS, IdbTransactionMode::Readonly)
        .map_err(|e| js::describe(&e))?;
    let store = tx.object_store(CHUNKS).map_err(|e| js::describe(&e))?;
    let range = pieces(id).map_err(|e| js::describe(&e))?;
    let req = store
        .get_all_with_key(&range)
        .map_err(|e| js::describe(&e))?;
    request_done(&req).await.map_err(|e| failure(&e))?;
    let found: Array = req
        .result()
        .ok()
        .and_then(|v| v.dyn_into().ok())
        .unwrap_or_default();
    if found.length() == 0 {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    for piece in found.iter() {
        if let Ok(piece) = piece.dyn_into::<Uint8Array>() {
            let at = bytes.len();
            bytes.resize(at + piece.length() as usize, 0);
            if let Some(dest) = bytes.get_mut(at..) {
                piece.copy_to(dest);
            }
        }
    }
    Ok(Some(bytes))
}

/// Starts one write: the pieces to put (chunk id, piece number, records),
/// the chunks to delete (all their pieces) and the new state, in one
/// transaction made now. Await the result for its completion.
pub fn write(
    db: &IdbDatabase,
    puts: &[(u64, u32, &[u8])],
    delete: &[u64],
    state_json: &str,
) -> Result<JsFuture, String> {
    let stores = Array::of2(&JsValue::from_str(CHUNKS), &JsValue::from_str(META));
    let tx: IdbTransaction = db
        .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readwrite)
        .map_err(|e| js::describe(&e))?;
    let done = JsFuture::from(Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    }));
    let chunks = tx.object_store(CHUNKS).map_err(|e| js::describe(&e))?;
    let meta = tx.object_store(META).map_err(|e| js::describe(&e))?;
    let result = (|| {
        for &(id, piece, bytes) in puts {
            let array = Uint8Array::new_with_length(js::len_u32(bytes.len()));
            array.copy_from(bytes);
            chunks.put_with_key(&array, &key(id, piece))?;
        }
        for &id in delete {
            chunks.delete(&pieces(id)?.into())?;
        }
        meta.put_with_key(
            &JsValue::from_str(state_json),
            &JsValue::from_str(STATE_KEY),
        )?;
        Ok::<(), JsValue>(())
    })();
    if let Err(e) = result {
        let _ = tx.abort();
        return Err(js::describe(&e));
    }
    Ok(done)
}

/// Awaits a write started by [`write`].
pub async fn finish(done: JsFuture) -> Result<(), String> {
    done.await.map(|_| ()).map_err(|e| failure(&e))
}
