//! A one-shot timer that keeps time in a hidden tab.
//!
//! Browsers throttle main-thread timers in hidden tabs (to once a second,
//! then once a minute), which would starve MQTT keepalive and slow a publish
//! repeat to a message a minute. A dedicated worker's timers are not
//! throttled that way, so this timer runs in `public/timer-worker.js`, which
//! posts back when it fires. When the worker cannot run (its script did not
//! load, or workers are not allowed) a main-thread timeout stands in:
//! throttled in a hidden tab, but the owner is still woken.
//!
//! It keeps time and nothing else: its owner decides when to be woken
//! (the supervisor's deadlines, a repeat's next message).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent, Worker};

/// A one-shot timer: [`WakeTimer::set`] arms it (or disarms it), and it calls
/// its callback once when the delay has passed. Dropping it ends its worker.
pub struct WakeTimer(Rc<Inner>);

struct Inner {
    worker: RefCell<Option<Worker>>,
    /// The worker's message and error handlers, kept as long as it runs.
    handlers: RefCell<Option<Handlers>>,
    /// The stand-in once the worker failed. Dropping it cancels it.
    fallback: RefCell<Option<Timeout>>,
    /// When the timer is due (ms since the epoch), so the stand-in can take
    /// over a timer the worker was keeping when it failed.
    due: Cell<Option<f64>>,
    fire: Box<dyn Fn()>,
}

type Handlers = (Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut(Event)>);

impl WakeTimer {
    /// A disarmed timer that calls `fire` each time it goes off.
    pub fn new(fire: impl Fn() + 'static) -> Self {
        let inner = Rc::new(Inner {
            worker: RefCell::new(None),
            handlers: RefCell::new(None),
            fallback: RefCell::new(None),
            due: Cell::new(None),
            fire: Box::new(fire),
        });
        // The worker script is served from our origin (CSP: script-src 'self').
        if let Ok(worker) = Worker::new("/public/timer-worker.js") {
            let weak = Rc::downgrade(&inner);
            let on_tick = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
                if let Some(inner) = weak.upgrade() {
                    inner.due.set(None);
                    (inner.fire)();
                }
            });
            let weak = Rc::downgrade(&inner);
            let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                if let Some(inner) = weak.upgrade() {
                    give_up_worker(&inner);
                }
            });
            worker.set_onmessage(Some(on_tick.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            *inner.worker.borrow_mut() = Some(worker);
            *inner.handlers.borrow_mut() = Some((on_tick, on_error));
        }
        WakeTimer(inner)
    }

    /// Arms the timer to go off in `delay_ms` (replacing any earlier arming),
    /// or disarms it with `None`.
    pub fn set(&self, delay_ms: Option<u64>) {
        let inner = &self.0;
        inner
            .due
            .set(delay_ms.map(|d| js_sys::Date::now() + d as f64));
        if let Some(worker) = inner.worker.borrow().as_ref() {
            let _ = worker.post_message(&delay_ms.map_or(-1.0, |d| d as f64).into());
            return;
        }
        arm_fallback(inner, delay_ms);
    }
}

/// The worker failed (its script did not load, or threw): a main-thread
/// timeout keeps what it was keeping, from now on.
fn give_up_worker(inner: &Rc<Inner>) {
    end_worker(inner);
    let left = inner
        .due
        .get()
        .map(|due| (due - js_sys::Date::now()).max(0.0) as u64);
    arm_fallback(inner, left);
}

fn arm_fallback(inner: &Rc<Inner>, delay_ms: Option<u64>) {
    let weak: Weak<Inner> = Rc::downgrade(inner);
    // Replacing the handle cancels the previous timeout.
    *inner.fallback.borrow_mut() = delay_ms.map(|d| {
        Timeout::new(u32::try_from(d).unwrap_or(u32::MAX), move || {
            if let Some(inner) = weak.upgrade() {
                // This timeout has fired; forgetting its handle cancels nothing.
                drop(inner.fallback.borrow_mut().take());
                inner.due.set(None);
                (inner.fire)();
            }
        })
    });
}

fn end_worker(inner: &Inner) {
    if let Some(w) = inner.worker.borrow_mut().take() {
        w.set_onmessage(None);
        w.set_onerror(None);
        w.terminate();
    }
    // The handlers are not dropped here: this may run inside one of them.
}

impl Drop for Inner {
    fn drop(&mut self) {
        end_worker(self);
    }
}
