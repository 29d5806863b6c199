//! Browser glue for the [`Supervisor`]: carries out its actions on a real
//! WebSocket, feeds it socket events and the time, and wakes it at deadlines
//! with a worker timer (so keepalive survives background-tab throttling).
//!
//! No decisions live here; they are in the supervisor, which is tested natively.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::supervisor::{Action, Notice, Supervisor};
use crate::transport::{TransportEvent, WsTransport};

/// Milliseconds since the Unix epoch (the clock every `now_ms` uses).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Receives each notice with the time it happened.
pub type NoticeSink = Rc<dyn Fn(f64, Notice)>;

struct Inner {
    supervisor: Supervisor,
    transport: Option<WsTransport>,
    timer: Option<Worker>,
    _on_tick: Option<Closure<dyn FnMut(MessageEvent)>>,
    /// The deadline the worker timer is armed for, so a busy socket does not
    /// post a message to the worker per frame.
    armed: Option<u64>,
    sink: NoticeSink,
}

/// A supervised MQTT connection living in the page.
#[derive(Clone)]
pub struct BrowserClient {
    inner: Rc<RefCell<Inner>>,
}

impl BrowserClient {
    /// Wraps `supervisor`; notices go to `sink`.
    pub fn new(supervisor: Supervisor, sink: NoticeSink) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            supervisor,
            transport: None,
            timer: None,
            _on_tick: None,
            armed: None,
            sink,
        }));
        // The worker script is served from our origin (CSP: script-src 'self').
        if let Ok(worker) = Worker::new("/public/timer-worker.js") {
            let weak = Rc::downgrade(&inner);
            let on_tick = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
                if let Some(inner) = weak.upgrade() {
                    // The timer fired: it is no longer armed.
                    inner.borrow_mut().armed = None;
                }
                with(&weak, |s| s.on_timer(now_ms()));
            });
            worker.set_onmessage(Some(on_tick.as_ref().unchecked_ref()));
            let mut i = inner.borrow_mut();
            i.timer = Some(worker);
            i._on_tick = Some(on_tick);
        }
        Self { inner }
    }

    /// Runs `f` on the supervisor, then carries out what it asked for.
    pub fn with<R>(&self, f: impl FnOnce(&mut Supervisor) -> R) -> R {
        let r = f(&mut self.inner.borrow_mut().supervisor);
        pump(&self.inner);
        r
    }

    /// Reads the supervisor without acting.
    pub fn peek<R>(&self, f: impl FnOnce(&Supervisor) -> R) -> R {
        f(&self.inner.borrow().supervisor)
    }

    /// Stops everything: disconnects, closes the socket, ends the timer worker.
    pub fn shutdown(&self) {
        self.with(|s| s.stop(now_ms()));
        let mut i = self.inner.borrow_mut();
        i.transport = None;
        if let Some(w) = i.timer.take() {
            w.set_onmessage(None);
            w.terminate();
        }
    }
}

fn with(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Supervisor)) {
    if let Some(inner) = weak.upgrade() {
        f(&mut inner.borrow_mut().supervisor);
        pump(&inner);
    }
}

/// Carries out queued actions, re-arms the timer, and hands notices to the sink.
fn pump(inner: &Rc<RefCell<Inner>>) {
    loop {
        let action = inner.borrow_mut().supervisor.poll_action();
        let Some(action) = action else { break };
        match action {
            Action::Open(url) => {
                let weak = Rc::downgrade(inner);
                // Drop the old socket first: its listeners go with it.
                inner.borrow_mut().transport = None;
                let opened = WsTransport::open(&url, move |ev| on_transport(&weak, ev));
                match opened {
                    Ok(t) => inner.borrow_mut().transport = Some(t),
                    Err(e) => {
                        let now = now_ms();
                        inner.borrow_mut().supervisor.on_closed(now, 1006, &e);
                    }
                }
            }
            Action::Send(bytes) => {
                let failed = match inner.borrow().transport.as_ref() {
                    Some(t) => t.send(&bytes).err(),
                    None => Some("no socket".into()),
                };
                if let Some(e) = failed {
                    let now = now_ms();
                    inner.borrow_mut().supervisor.on_closed(now, 1006, &e);
                }
            }
            Action::Close => inner.borrow_mut().transport = None,
        }
    }
    let (deadline, timer) = {
        let mut i = inner.borrow_mut();
        let deadline = i.supervisor.next_deadline();
        let changed = i.armed != deadline;
        i.armed = deadline;
        (deadline, i.timer.clone().filter(|_| changed))
    };
    if let Some(timer) = timer {
        let delay = deadline.map_or(-1.0, |d| d.saturating_sub(now_ms()) as f64);
        let _ = timer.post_message(&delay.into());
    }
    let sink = inner.borrow().sink.clone();
    let now = js_sys::Date::now();
    loop {
        let notice = inner.borrow_mut().supervisor.poll_notice();
        let Some(notice) = notice else { break };
        sink(now, notice);
    }
}

fn on_transport(weak: &Weak<RefCell<Inner>>, event: TransportEvent) {
    let now = now_ms();
    with(weak, |s| match event {
        TransportEvent::Open { protocol } => s.on_open(now, &protocol),
        TransportEvent::Data(bytes) => s.on_data(now, &bytes),
        TransportEvent::Text(_) => s.on_text(now),
        TransportEvent::Closed { code, reason, .. } => s.on_closed(now, code, &reason),
        // The close event that always follows carries what little the browser says.
        TransportEvent::Error => {}
    });
}
