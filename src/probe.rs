//! The benchmark probe: counters and latency samples for `bench/` on
//! `window.__mqdash`, switched on only by `?probe=1` in the page's URL.
//!
//! Without the query parameter every hook is one branch on a cached flag: no
//! JS objects, no parsing, no allocation. With it, after each applied batch
//! the probe sets on `window.__mqdash`:
//! - `applied`: messages taken into the model (`Stats::messages`);
//! - `dropped_caps`: `Stats::dropped_by_caps` (new topics past the panel cap
//!   plus history entries evicted), and its parts `dropped_new_topics` and
//!   `history_dropped`;
//! - `seen`: messages handed to the model (taken plus refused at the panel cap);
//! - `batches`: batches applied; `panels`: current panels;
//! - `redraws`: times the views were told to re-read the model;
//! - `lat`: an array the benchmark drains, one sample per redraw: the newest
//!   message applied since the previous redraw whose payload starts with a
//!   send time (ms since the epoch in ASCII digits, as `devbroker loadgen`
//!   writes it). A sample is `[sent_ms, redraw_ms, after_paint_ms]`: when the
//!   redraw was asked for in its animation frame, and when the first task
//!   after that frame ran (`setTimeout(0)` queued from the frame: the frame
//!   has been painted by then, so it is an upper bound of publish-to-screen
//!   time);
//! - `memory`: the module's `WebAssembly.Memory` (its `buffer.byteLength` is
//!   the wasm heap size).
//!
//! It must not change what the page does: it only reads the batch and the
//! model's counters. Nothing here runs in the model or the session.

use std::cell::{Cell, RefCell};

use js_sys::{Array, Object, Reflect};
use model::Stats;
use mqtt_session::Event;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::client::supervisor::Notice;

/// The query parameter that switches the probe on (`?probe=1`).
pub const QUERY_PARAM: &str = "probe";

thread_local! {
    /// `None` until first asked, then whether the URL asked for the probe.
    static ENABLED: Cell<Option<bool>> = const { Cell::new(None) };
    /// `window.__mqdash` and its `lat` array, once created.
    static TARGET: RefCell<Option<(Object, Array)>> = const { RefCell::new(None) };
    /// The newest send time applied since the last redraw.
    static UNDRAWN: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Whether the page was opened with `?probe=1` (read once, then cached).
pub fn enabled() -> bool {
    ENABLED.with(|e| match e.get() {
        Some(on) => on,
        None => {
            let on = web_sys::window()
                .and_then(|w| w.location().search().ok())
                .is_some_and(|q| query_enables(&q));
            e.set(Some(on));
            on
        }
    })
}

/// Whether a `location.search` string carries `probe=1` (or `probe=true`).
pub fn query_enables(search: &str) -> bool {
    search
        .trim_start_matches('?')
        .split('&')
        .any(|kv| matches!(kv, "probe=1" | "probe=true"))
}

/// The send time at the start of a payload: its leading ASCII digits as
/// milliseconds, when there are 10 to 16 of them followed by a space or the
/// end (so an ordinary numeric payload like `21.5` or `42` is not taken for a
/// time).
pub fn leading_ms(payload: &[u8]) -> Option<u64> {
    let digits = payload.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(10..=16).contains(&digits) {
        return None;
    }
    if payload.get(digits).is_some_and(|&b| b != b' ') {
        return None;
    }
    payload.get(..digits)?.iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// What the probe takes from a batch before it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchProbe {
    /// Messages in the batch.
    pub messages: u64,
    /// The send time of the newest message that carries one.
    pub newest_sent_ms: Option<u64>,
}

/// Looks at a batch about to be applied; `None` when the probe is off.
pub fn before_batch(batch: &[(f64, Notice)]) -> Option<BatchProbe> {
    if !enabled() {
        return None;
    }
    Some(scan(batch))
}

/// Counts the messages of a batch and finds the newest send time.
pub fn scan(batch: &[(f64, Notice)]) -> BatchProbe {
    let mut out = BatchProbe::default();
    for (_, notice) in batch.iter().rev() {
        if let Notice::Session(Event::Message(m)) = notice {
            out.messages += 1;
            if out.newest_sent_ms.is_none() {
                out.newest_sent_ms = leading_ms(&m.payload);
            }
        }
    }
    out
}

/// Publishes the counters after a batch was applied and keeps its newest
/// send time for the next redraw; does nothing when `probe` is `None` (the
/// probe is off).
pub fn after_batch(probe: Option<BatchProbe>, stats: Stats) {
    let Some(probe) = probe else { return };
    let Some((target, _)) = target() else {
        return;
    };
    let seen = get_f64(&target, "seen") + probe.messages as f64;
    set(&target, "seen", seen);
    set(&target, "applied", stats.messages as f64);
    set(&target, "dropped_caps", stats.dropped_by_caps() as f64);
    set(
        &target,
        "dropped_new_topics",
        stats.dropped_new_topics as f64,
    );
    set(&target, "history_dropped", stats.history_dropped as f64);
    set(&target, "batches", stats.batches as f64);
    set(&target, "panels", stats.panels as f64);
    if probe.newest_sent_ms.is_some() {
        UNDRAWN.with(|u| u.set(probe.newest_sent_ms));
    }
}

/// The views were told to re-read the model: takes a latency sample of the
/// newest message applied since the last redraw. Does nothing when the probe
/// is off.
pub fn redrawn() {
    if !enabled() {
        return;
    }
    let Some((target, lat)) = target() else {
        return;
    };
    set(&target, "redraws", get_f64(&target, "redraws") + 1.0);
    if let Some(sent) = UNDRAWN.with(|u| u.take()) {
        let sample = Array::of2(&(sent as f64).into(), &js_sys::Date::now().into());
        lat.push(&sample);
        // The first task after this frame: by then the frame is painted.
        // `once_into_js` frees the closure after its one call.
        let stamp = Closure::once_into_js(move || {
            sample.push(&js_sys::Date::now().into());
        });
        if let Some(w) = web_sys::window() {
            let _ =
                w.set_timeout_with_callback_and_timeout_and_arguments_0(stamp.unchecked_ref(), 0);
        }
    }
}

fn target() -> Option<(Object, Array)> {
    TARGET.with(|t| {
        if let Some(pair) = t.borrow().as_ref() {
            return Some(pair.clone());
        }
        let window = web_sys::window()?;
        let obj = Object::new();
        let lat = Array::new();
        let _ = Reflect::set(&obj, &"lat".into(), &lat);
        let _ = Reflect::set(&obj, &"memory".into(), &wasm_bindgen::memory());
        let _ = Reflect::set(&window, &"__mqdash".into(), &obj);
        *t.borrow_mut() = Some((obj.clone(), lat.clone()));
        Some((obj, lat))
    })
}

fn set(target: &Object, key: &str, value: f64) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &JsValue::from_f64(value));
}

fn get_f64(target: &Object, key: &str) -> f64 {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use mqtt_session::{Message, QoS};

    fn msg(payload: &'static [u8]) -> (f64, Notice) {
        (
            0.0,
            Notice::Session(Event::Message(Message {
                topic: "t".into(),
                payload: Bytes::from_static(payload),
                qos: QoS::AtMostOnce,
                retain: false,
                dup: false,
                pkid: 0,
                properties: None,
            })),
        )
    }

    #[test]
    fn the_loadgen_send_time_is_read_from_the_payload() {
        assert_eq!(leading_ms(b"1763800000123 xxxx"), Some(1_763_800_000_123));
        assert_eq!(leading_ms(b"1763800000123"), Some(1_763_800_000_123));
    }

    #[test]
    fn ordinary_numbers_and_text_are_not_send_times() {
        assert_eq!(leading_ms(b"21.5"), None);
        assert_eq!(leading_ms(b"42"), None);
        assert_eq!(leading_ms(b"1763800000123x"), None);
        assert_eq!(leading_ms(b"{\"t\":1}"), None);
        assert_eq!(leading_ms(b""), None);
        assert_eq!(leading_ms(b"99999999999999999999 "), None);
    }

    #[test]
    fn a_scan_counts_messages_and_takes_the_newest_send_time() {
        let batch = vec![
            msg(b"1700000000001 x"),
            (
                0.0,
                Notice::Status(crate::client::supervisor::Status::Connecting {
                    broker: "ws://b".into(),
                }),
            ),
            msg(b"1700000000002 x"),
            msg(b"not a time"),
        ];
        assert_eq!(
            scan(&batch),
            BatchProbe {
                messages: 3,
                newest_sent_ms: Some(1_700_000_000_002)
            }
        );
    }

    #[test]
    fn only_probe_1_switches_it_on() {
        assert!(query_enables("?broker=ws://x&probe=1"));
        assert!(query_enables("probe=true"));
        assert!(!query_enables("?probe=0"));
        assert!(!query_enables("?xprobe=1"));
        assert!(!query_enables(""));
    }
}
