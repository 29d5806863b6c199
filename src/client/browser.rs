//! Browser glue for the [`Supervisor`]: carries out its actions on a real
//! WebSocket, feeds it socket events and the time, and wakes it at deadlines
//! with a [`WakeTimer`] (so keepalive survives background-tab throttling).
//!
//! No decisions live here; they are in the supervisor, which is tested natively.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::supervisor::{Action, Notice, Supervisor};
use crate::transport::{TransportEvent, WsTransport};
use crate::wake_timer::WakeTimer;

/// Milliseconds since the Unix epoch (the clock every `now_ms` uses).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Receives each notice with the time it happened.
pub type NoticeSink = Rc<dyn Fn(f64, Notice)>;

struct Inner {
    supervisor: Supervisor,
    transport: Option<WsTransport>,
    /// Wakes the supervisor at its deadlines, in a hidden tab too.
    timer: Option<WakeTimer>,
    /// The deadline the timer is armed for, so a busy socket does not post a
    /// message to the timer's worker per frame.
    armed: Option<u64>,
    sink: NoticeSink,
}

/// The page's supervised MQTT connection: created once with the page, it
/// lives as long as the page (Connect and Disconnect are calls on its
/// [`Supervisor`], not new clients).
#[derive(Clone)]
pub struct BrowserClient {
    inner: Rc<RefCell<Inner>>,
}

impl BrowserClient {
    /// A client with no target yet; notices go to `sink`.
    pub fn new(sink: NoticeSink) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            supervisor: Supervisor::new(),
            transport: None,
            timer: None,
            armed: None,
            sink,
        }));
        let weak = Rc::downgrade(&inner);
        let timer = WakeTimer::new(move || {
            if let Some(inner) = weak.upgrade() {
                // The timer fired: it is no longer armed.
                inner.borrow_mut().armed = None;
            }
            with(&weak, |s| s.on_timer(now_ms()));
        });
        inner.borrow_mut().timer = Some(timer);
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

    /// The page is going away: disconnects, closes the socket and ends the
    /// timer.
    pub fn shutdown(&self) {
        self.with(|s| s.disconnect(now_ms()));
        let mut i = self.inner.borrow_mut();
        i.transport = None;
        i.timer = None;
    }
}

/// Arms the timer for `deadline` (`None`: disarm).
fn arm(inner: &Rc<RefCell<Inner>>, deadline: Option<u64>) {
    let delay = deadline.map(|d| d.saturating_sub(now_ms()));
    if let Some(t) = inner.borrow().timer.as_ref() {
        t.set(delay);
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
    let (deadline, changed) = {
        let mut i = inner.borrow_mut();
        let deadline = i.supervisor.next_deadline();
        let changed = i.armed != deadline;
        i.armed = deadline;
        (deadline, changed)
    };
    if changed {
        arm(inner, deadline);
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
