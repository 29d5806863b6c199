//! The page's state: form fields as signals, the view model, the client, and the
//! per-frame loop that applies incoming notices in one batch (and redraws at
//! the pace a [`RenderPacer`] allows).
//!
//! Components reach it through context. Non-`Send` browser objects live in
//! local `StoredValue`s.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use model::{Dashboard, Limits, PanelId};

use crate::client::browser::{now_ms, BrowserClient};
use crate::client::supervisor::{Notice, Status};
use crate::client::updates::{apply_batch, PublishLog, RenderPacer};

/// Notices queued between frames; past this many the queue is applied at once
/// (a hidden tab runs no animation frames, and the queue must stay bounded).
const QUEUE_FLUSH_AT: usize = 20_000;

thread_local! {
    /// When the frame loop lets the views re-read the model.
    static PACER: RefCell<RenderPacer> = RefCell::new(RenderPacer::default());
}

/// Notices waiting for the next frame, each with the time it happened.
pub type NoticeQueue = Rc<RefCell<Vec<(f64, Notice)>>>;

/// The connection form's fields.
#[derive(Clone, Copy)]
pub struct ConnectionFields {
    /// `ws://` or `wss://` URL of the broker.
    pub broker_url: RwSignal<String>,
    /// MQTT client identifier.
    pub client_id: RwSignal<String>,
    /// User name (empty for none).
    pub username: RwSignal<String>,
    /// Password (empty for none).
    pub password: RwSignal<String>,
    /// Store the password with the profile.
    pub remember_password: RwSignal<bool>,
    /// Keepalive in seconds, as typed.
    pub keepalive: RwSignal<String>,
    /// Clean session flag.
    pub clean_session: RwSignal<bool>,
    /// "3.1.1" or "3.1".
    pub protocol: RwSignal<String>,
    /// Last Will topic (empty for no will).
    pub will_topic: RwSignal<String>,
    /// Last Will payload.
    pub will_payload: RwSignal<String>,
    /// Last Will QoS, as typed.
    pub will_qos: RwSignal<String>,
    /// Last Will retain flag.
    pub will_retain: RwSignal<bool>,
}

/// Everything components share.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The connection form.
    pub form: ConnectionFields,
    /// The connection status.
    pub status: RwSignal<Status>,
    /// The last error sentence (protocol error, refusal, bad input), if any.
    pub error: RwSignal<Option<String>>,
    /// The client, while one exists.
    pub client: StoredValue<Option<BrowserClient>, LocalStorage>,
    /// The view model.
    pub dash: StoredValue<Dashboard, LocalStorage>,
    /// Bumped after each applied batch; views re-read the model when it moves.
    pub tick: RwSignal<u64>,
    /// Wall clock in ms, refreshed twice a second (rates, "reconnecting in N s").
    pub clock: RwSignal<u64>,
    /// Recent publishes and their outcomes.
    pub publishes: RwSignal<PublishLog>,
    /// The panels search box.
    pub search: RwSignal<String>,
    /// Notices waiting for the next frame.
    pub queue: StoredValue<NoticeQueue, LocalStorage>,
}

impl AppState {
    /// Fresh state with the given broker URL and client id.
    pub fn new(broker_url: String, client_id: String) -> Self {
        let form = ConnectionFields {
            broker_url: RwSignal::new(broker_url),
            client_id: RwSignal::new(client_id),
            username: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            remember_password: RwSignal::new(false),
            keepalive: RwSignal::new("60".into()),
            clean_session: RwSignal::new(true),
            protocol: RwSignal::new("3.1.1".into()),
            will_topic: RwSignal::new(String::new()),
            will_payload: RwSignal::new(String::new()),
            will_qos: RwSignal::new("0".into()),
            will_retain: RwSignal::new(false),
        };
        Self {
            form,
            status: RwSignal::new(Status::Disconnected { reason: None }),
            error: RwSignal::new(None),
            client: StoredValue::new_local(None),
            dash: StoredValue::new_local(Dashboard::new(Limits::default())),
            tick: RwSignal::new(0),
            clock: RwSignal::new(now_ms()),
            publishes: RwSignal::new(PublishLog::default()),
            search: RwSignal::new(String::new()),
            queue: StoredValue::new_local(Rc::new(RefCell::new(Vec::new()))),
        }
    }

    /// A sink for the client's notices: queue them for the next frame.
    pub fn notice_sink(&self) -> Rc<dyn Fn(f64, Notice)> {
        let queue = self.queue.get_value();
        let state = *self;
        Rc::new(move |at, notice| {
            let len = {
                let mut q = queue.borrow_mut();
                q.push((at, notice));
                q.len()
            };
            if len >= QUEUE_FLUSH_AT {
                state.apply_queue();
            }
        })
    }

    /// Applies every queued notice to the model in one batch, and redraws.
    pub fn apply_pending(&self) {
        if self.apply_queue() {
            self.redraw();
        }
    }

    /// Lets the views re-read the model.
    fn redraw(&self) {
        self.tick.update(|t| *t += 1);
        crate::probe::redrawn();
    }

    /// Applies every queued notice to the model in one batch without
    /// redrawing; whether there was anything to apply.
    fn apply_queue(&self) -> bool {
        let batch = {
            let queue = self.queue.get_value();
            let mut q = queue.borrow_mut();
            if q.is_empty() {
                return false;
            }
            std::mem::take(&mut *q)
        };
        PACER.with(|p| p.borrow_mut().mark_dirty());
        let probe = crate::probe::before_batch(&batch);
        let mut log = self.publishes.get_untracked();
        let outcome = self.dash.try_update_value(|d| {
            let outcome = apply_batch(d, &mut log, batch, js_sys::Date::now());
            crate::probe::after_batch(probe, d.stats());
            outcome
        });
        let Some(outcome) = outcome else { return true };
        if outcome.publishes_changed {
            self.publishes.set(log);
        }
        if let Some(status) = outcome.status {
            if matches!(status, Status::Connected { .. }) {
                self.error.set(None);
            }
            self.status.set(status);
        }
        if let Some(e) = outcome.errors.into_iter().last() {
            self.error.set(Some(e));
        }
        true
    }

    /// Starts the per-frame loop: one batch per animation frame, and a redraw
    /// when the model changed and the pacer allows.
    pub fn start_frame_loop(self) {
        fn frame(state: AppState) {
            request_animation_frame(move || {
                state.apply_queue();
                if PACER.with(|p| p.borrow_mut().frame(js_sys::Date::now())) {
                    state.redraw();
                }
                frame(state);
            });
        }
        frame(self);
        let state = self;
        // The clock only drives seconds-level text; twice a second is plenty.
        let _ = set_interval_with_handle(
            move || state.clock.set(now_ms()),
            std::time::Duration::from_millis(500),
        );
    }

    /// Reads one panel, if it still exists.
    pub fn with_panel<R>(&self, id: PanelId, f: impl FnOnce(&model::Panel) -> R) -> Option<R> {
        self.dash.with_value(|d| d.panel(id).map(f))
    }
}

/// The shared state, from context.
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}
