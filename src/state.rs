//! The page's state: the connection form's fields (typed), the one client
//! (whose supervisor owns the connection's intent), the view model, and the
//! per-frame loop that applies incoming notices in one batch (and redraws at
//! the pace a [`RenderPacer`] allows).
//!
//! Views read the model only through [`AppState::model`], which tracks the
//! redraw signal itself: no view can go stale by forgetting to subscribe to
//! it. Nothing here decides anything about MQTT; that is the supervisor's.
//! Components reach the state through context. Non-`Send` browser objects
//! live in local `StoredValue`s.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use model::{Dashboard, Limits, NodeId, PanelId, ProfileStore};
use mqtt_session::{ProtocolVersion, QoS};

use crate::client::browser::{now_ms, BrowserClient};
use crate::client::settings::{FormValues, DEFAULT_MESSAGE_LIMIT_MIB};
use crate::client::supervisor::{granted_after, Notice, Status, SubscriptionDetail};
use crate::client::updates::{apply_batch, FrameBudget, PublishLog, RenderPacer};

/// Notices queued between frames; past this many the queue is applied at once
/// (a hidden tab runs no animation frames, and the queue must stay bounded).
const QUEUE_FLUSH_AT: usize = 20_000;
/// While the tab is visible the frames take care of the queue: it is
/// applied at once only past this many (memory), not at `QUEUE_FLUSH_AT`.
const QUEUE_HARD_LIMIT: usize = 400_000;
/// Most notices one animation frame applies (fewer when they are costly:
/// [`FrameBudget`]); the rest wait for the next frames. A burst (100,000
/// retained topics arriving on subscribe) is then taken over a few frames
/// instead of one frame of half a second.
const FRAME_BATCH_MAX: usize = 5_000;

thread_local! {
    /// When the frame loop lets the views re-read the model.
    static PACER: RefCell<RenderPacer> = RefCell::new(RenderPacer::default());
    /// How many notices the next frame applies.
    static BUDGET: RefCell<FrameBudget> = RefCell::new(FrameBudget::default());
}

/// A clock for timing work within a frame (`Date.now()` has whole ms only).
fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Notices waiting for the next frame, each with the time it happened.
pub type NoticeQueue = Rc<RefCell<VecDeque<(f64, Notice)>>>;

/// The connection form's fields.
#[derive(Clone, Copy)]
pub struct ConnectionFields {
    /// `ws://` or `wss://` URL of the broker.
    pub broker_url: RwSignal<String>,
    /// MQTT client identifier.
    pub client_id: RwSignal<String>,
    /// The user (or the link) chose the client id; otherwise it is this
    /// tab's own random one.
    pub client_id_typed: RwSignal<bool>,
    /// User name (empty for none).
    pub username: RwSignal<String>,
    /// Password (empty for none).
    pub password: RwSignal<String>,
    /// Store the password with the profile.
    pub remember_password: RwSignal<bool>,
    /// Keepalive in seconds, as typed (checked by `settings::build`).
    pub keepalive: RwSignal<String>,
    /// Clean session flag.
    pub clean_session: RwSignal<bool>,
    /// Protocol version.
    pub protocol: RwSignal<ProtocolVersion>,
    /// Last Will topic (empty for no will).
    pub will_topic: RwSignal<String>,
    /// Last Will payload.
    pub will_payload: RwSignal<String>,
    /// Last Will QoS.
    pub will_qos: RwSignal<QoS>,
    /// Last Will retain flag.
    pub will_retain: RwSignal<bool>,
    /// Largest message kept, in MiB, as typed.
    pub message_limit_mib: RwSignal<String>,
    /// The "MQTT 5 options" fields.
    pub v5: crate::components::mqtt5::Mqtt5Fields,
}

impl ConnectionFields {
    fn new(broker_url: String, client_id: String) -> Self {
        let d = FormValues::default();
        Self {
            broker_url: RwSignal::new(broker_url),
            client_id: RwSignal::new(client_id),
            client_id_typed: RwSignal::new(false),
            username: RwSignal::new(d.username),
            password: RwSignal::new(d.password),
            remember_password: RwSignal::new(d.remember_password),
            keepalive: RwSignal::new(d.keepalive),
            clean_session: RwSignal::new(d.clean_session),
            protocol: RwSignal::new(d.protocol),
            will_topic: RwSignal::new(d.will_topic),
            will_payload: RwSignal::new(d.will_payload),
            will_qos: RwSignal::new(d.will_qos),
            will_retain: RwSignal::new(d.will_retain),
            message_limit_mib: RwSignal::new(DEFAULT_MESSAGE_LIMIT_MIB.to_string()),
            v5: crate::components::mqtt5::Mqtt5Fields::new(),
        }
    }

    /// The form's values (tracked: a memo over this follows every field).
    pub fn values(&self) -> FormValues {
        FormValues {
            broker_url: self.broker_url.get(),
            client_id: self.client_id.get(),
            client_id_typed: self.client_id_typed.get(),
            username: self.username.get(),
            password: self.password.get(),
            remember_password: self.remember_password.get(),
            keepalive: self.keepalive.get(),
            clean_session: self.clean_session.get(),
            protocol: self.protocol.get(),
            will_topic: self.will_topic.get(),
            will_payload: self.will_payload.get(),
            will_qos: self.will_qos.get(),
            will_retain: self.will_retain.get(),
            message_limit_mib: self.message_limit_mib.get(),
            v5: self.v5.values(),
        }
    }

    /// The form's values without tracking (for actions).
    pub fn values_untracked(&self) -> FormValues {
        untrack(|| self.values())
    }

    /// Fills every field.
    pub fn set(&self, v: FormValues) {
        self.broker_url.set(v.broker_url);
        self.client_id.set(v.client_id);
        self.client_id_typed.set(v.client_id_typed);
        self.username.set(v.username);
        self.password.set(v.password);
        self.remember_password.set(v.remember_password);
        self.keepalive.set(v.keepalive);
        self.clean_session.set(v.clean_session);
        self.protocol.set(v.protocol);
        self.will_topic.set(v.will_topic);
        self.will_payload.set(v.will_payload);
        self.will_qos.set(v.will_qos);
        self.will_retain.set(v.will_retain);
        self.message_limit_mib.set(v.message_limit_mib);
        self.v5.set(v.v5);
    }
}

/// The publish form's fields, shared so that "Publish again" in a topic's
/// detail can fill them.
#[derive(Clone, Copy)]
pub struct PublishDraft {
    /// Topic to publish to.
    pub topic: RwSignal<String>,
    /// Payload as typed.
    pub payload: RwSignal<String>,
    /// How the payload text is encoded.
    pub format: RwSignal<model::PayloadFormat>,
    /// QoS.
    pub qos: RwSignal<QoS>,
    /// Retain flag.
    pub retain: RwSignal<bool>,
    /// MQTT 5 message properties.
    pub props: crate::components::publish_form::PropsDraft,
}

/// What the screen shows of the model: selection, expansion, filters and
/// display choices. View state only; the model never reads it.
#[derive(Clone, Copy)]
pub struct ViewState {
    /// The tree node whose subtree's panels are shown (the root: all).
    pub selected: RwSignal<NodeId>,
    /// The tree nodes shown open.
    pub expanded: RwSignal<HashSet<NodeId>>,
    /// The tree's filter as typed (an MQTT filter or text).
    pub tree_filter: RwSignal<String>,
    /// The panel whose detail is open.
    pub detail: RwSignal<Option<PanelId>>,
    /// Compact panels (no chart, fewer payload lines).
    pub compact: RwSignal<bool>,
    /// The connection form is unfolded (it folds to a bar once connected).
    pub form_open: RwSignal<bool>,
    /// A chart of one field across the topics under a node: `(node, field)`.
    pub field_chart: RwSignal<Option<(NodeId, String)>>,
    /// `Some(messages counted when paused)` while the display is paused.
    pub paused_at: RwSignal<Option<u64>>,
    /// The tree's epoch the node ids above belong to.
    pub epoch: RwSignal<u64>,
}

impl ViewState {
    fn new() -> Self {
        ViewState {
            selected: RwSignal::new(model::TopicTree::ROOT),
            expanded: RwSignal::new(HashSet::from([model::TopicTree::ROOT])),
            tree_filter: RwSignal::new(String::new()),
            detail: RwSignal::new(None),
            compact: RwSignal::new(false),
            form_open: RwSignal::new(true),
            field_chart: RwSignal::new(None),
            paused_at: RwSignal::new(None),
            epoch: RwSignal::new(0),
        }
    }
}

/// Everything components share.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The connection form.
    pub form: ConnectionFields,
    /// The connection status, as the supervisor last reported it.
    pub status: RwSignal<Status>,
    /// The last error sentence (protocol error, refusal, bad input), if any.
    pub error: RwSignal<Option<String>>,
    /// What a shared link asked for and could not be done (an invalid
    /// subscription); stays on screen until dismissed, whether or not the
    /// link also connects.
    pub link_problems: RwSignal<Vec<String>>,
    /// The saved profiles, as last read from or written to localStorage.
    pub profiles: RwSignal<ProfileStore>,
    /// A profile picked while connected: its subscriptions wait for Connect,
    /// so the current connection and subscriptions stay as they are until then.
    pub pending_profile: RwSignal<Option<String>>,
    /// The page's one client (its supervisor owns target and subscriptions).
    client: StoredValue<BrowserClient, LocalStorage>,
    /// The view model; views read it through [`AppState::model`].
    dash: StoredValue<Dashboard, LocalStorage>,
    /// Bumped after each applied batch; [`AppState::model`] tracks it.
    tick: RwSignal<u64>,
    /// Wall clock in ms, refreshed twice a second (rates, "reconnecting in N s").
    pub clock: RwSignal<u64>,
    /// How far behind the broker the page was over the last clock tick, in
    /// ms (see `crate::lag`).
    pub behind_ms: RwSignal<f64>,
    /// Recent publishes and their outcomes.
    pub publishes: RwSignal<PublishLog>,
    /// The MQTT 5 side of each subscription (options, identifier sent,
    /// refusal in words), read from the supervisor whenever a batch carries
    /// its subscription list; `client::supervisor::filters_for_identifier`
    /// maps a message's subscription identifier back to its filter.
    pub subscription_details: RwSignal<Vec<SubscriptionDetail>>,
    /// MQTT 5: what the broker granted in the live connection's CONNACK.
    pub granted: RwSignal<Option<mqtt_session::Granted>>,
    /// The request/response helper's requests and the replies matched to
    /// them (updated with each batch, notified only when a reply came).
    pub requests: RwSignal<model::Requests>,
    /// What the screen shows of the model.
    pub view: ViewState,
    /// The publish form's fields.
    pub draft: PublishDraft,
    /// Bumped like `tick`, except while the display is paused; the message
    /// views (tree, panels, detail, charts) track this one.
    live_tick: RwSignal<u64>,
    /// Notices waiting for the next frame.
    queue: StoredValue<NoticeQueue, LocalStorage>,
    /// The frame loop and the clock run while this is set.
    running: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    /// The status clock's timer; dropping it stops the clock.
    clock_timer: StoredValue<Option<Interval>, LocalStorage>,
}

impl AppState {
    /// Fresh state with the given broker URL and client id, and the page's
    /// one client (not connecting yet).
    pub fn new(broker_url: String, client_id: String) -> Self {
        let queue: NoticeQueue = Rc::new(RefCell::new(VecDeque::new()));
        // The sink needs the state (to flush a full queue) and the state
        // holds the client that owns the sink: the cell closes that loop.
        let this: Rc<Cell<Option<AppState>>> = Rc::new(Cell::new(None));
        let client = BrowserClient::new(notice_sink(Rc::clone(&queue), Rc::clone(&this)));
        let state = Self {
            form: ConnectionFields::new(broker_url, client_id),
            status: RwSignal::new(Status::Disconnected { reason: None }),
            error: RwSignal::new(None),
            link_problems: RwSignal::new(Vec::new()),
            profiles: RwSignal::new(ProfileStore::new()),
            pending_profile: RwSignal::new(None),
            client: StoredValue::new_local(client),
            dash: StoredValue::new_local(Dashboard::new(Limits::default())),
            tick: RwSignal::new(0),
            clock: RwSignal::new(now_ms()),
            behind_ms: RwSignal::new(0.0),
            publishes: RwSignal::new(PublishLog::default()),
            subscription_details: RwSignal::new(Vec::new()),
            granted: RwSignal::new(None),
            requests: RwSignal::new(model::Requests::default()),
            view: ViewState::new(),
            draft: PublishDraft {
                topic: RwSignal::new(String::new()),
                payload: RwSignal::new(String::new()),
                format: RwSignal::new(model::PayloadFormat::Text),
                qos: RwSignal::new(QoS::AtMostOnce),
                retain: RwSignal::new(false),
                props: crate::components::publish_form::PropsDraft::new(),
            },
            live_tick: RwSignal::new(0),
            queue: StoredValue::new_local(queue),
            running: StoredValue::new_local(Rc::new(Cell::new(false))),
            clock_timer: StoredValue::new_local(None),
        };
        this.set(Some(state));
        state
    }

    /// The page's client.
    pub fn client(&self) -> BrowserClient {
        self.client.get_value()
    }

    /// Reads the model for a view. Tracks redraws, so whatever reads the
    /// model through here re-runs when it changes.
    pub fn model<R>(&self, f: impl FnOnce(&Dashboard) -> R) -> R {
        self.tick.track();
        self.dash.with_value(f)
    }

    /// Reads the model without tracking (for event handlers).
    pub fn model_untracked<R>(&self, f: impl FnOnce(&Dashboard) -> R) -> R {
        self.dash.with_value(f)
    }

    /// Reads the model for a view of the messages (tree, panels, detail,
    /// charts): tracked like [`AppState::model`], but frozen while the
    /// display is paused.
    pub fn live<R>(&self, f: impl FnOnce(&Dashboard) -> R) -> R {
        self.live_tick.track();
        self.dash.with_value(f)
    }

    /// Reads one panel for a view (tracked like [`AppState::live`]), if it
    /// still exists.
    pub fn with_panel<R>(&self, id: PanelId, f: impl FnOnce(&model::Panel) -> R) -> Option<R> {
        self.live(|d| d.panel(id).map(f))
    }

    /// Pauses the display: messages are still taken and counted, the
    /// message views stay as they are until [`AppState::resume`].
    pub fn pause(&self) {
        let counted = self.dash.with_value(|d| d.stats().messages);
        self.view.paused_at.set(Some(counted));
    }

    /// Resumes the display: the message views catch up at once.
    pub fn resume(&self) {
        self.view.paused_at.set(None);
        self.live_tick.update(|t| *t += 1);
    }

    /// Changes what the user controls in the model directly (pins, clearing
    /// panels): view-side choices about the message model, not the
    /// connection, so they need not go through the supervisor. Redraws.
    pub fn change_model(&self, f: impl FnOnce(&mut Dashboard)) {
        self.dash.update_value(f);
        self.redraw();
    }

    /// Changes the model as a batch of messages does (replayed ones): the
    /// next frame redraws, as the pacer allows.
    pub fn change_model_quietly(&self, f: impl FnOnce(&mut Dashboard)) {
        self.dash.update_value(f);
        PACER.with(|p| p.borrow_mut().mark_dirty());
    }

    /// Applies every queued notice to the model in one batch, and redraws.
    pub fn apply_pending(&self) {
        if self.apply_queue(usize::MAX) > 0 {
            self.redraw();
        }
    }

    /// Lets the views re-read the model.
    fn redraw(&self) {
        self.tick.update(|t| *t += 1);
        if self.view.paused_at.get_untracked().is_none() {
            self.live_tick.update(|t| *t += 1);
        }
        let epoch = self.dash.with_value(|d| d.tree().epoch());
        if epoch != self.view.epoch.get_untracked() {
            // Node ids of a cleared tree mean nothing now.
            self.view.epoch.set(epoch);
            self.view.selected.set(model::TopicTree::ROOT);
            self.view
                .expanded
                .set(HashSet::from([model::TopicTree::ROOT]));
            self.view.field_chart.set(None);
        }
        crate::probe::redrawn();
    }

    /// Applies up to `limit` queued notices (the oldest) to the model in one
    /// batch without redrawing; how many it applied.
    fn apply_queue(&self, limit: usize) -> usize {
        let batch = {
            let Some(queue) = self.queue.try_get_value() else {
                return 0;
            };
            let mut q = queue.borrow_mut();
            if q.is_empty() {
                return 0;
            }
            // A message of this frame's batch for a decoder that is still
            // loading: keep the whole queue (and its order) until the
            // decoders are ready. Only the batch is looked at: under a flood
            // the queue behind it can be long, and later frames look at theirs.
            let n = q.len().min(limit);
            let topics = q.iter().take(n).filter_map(|(_, n)| match n {
                Notice::Session(mqtt_session::Event::Message(m)) => Some(m.topic.as_str()),
                _ => None,
            });
            if crate::decoders::hold(topics) {
                return 0;
            }
            q.drain(..n).collect::<Vec<_>>()
        };
        let batch_len = batch.len();
        PACER.with(|p| p.borrow_mut().mark_messages(batch_len));
        if let Some((at, _)) = batch.first() {
            crate::lag::observe(js_sys::Date::now() - at);
        }
        let probe = crate::probe::before_batch(&batch);
        let granted = granted_after(batch.iter().map(|(_, n)| n));
        let subscriptions_changed = batch
            .iter()
            .any(|(_, n)| matches!(n, Notice::Subscriptions(_)));
        let mut log = self.publishes.get_untracked();
        let mut requests = self
            .requests
            .try_update_untracked(std::mem::take)
            .unwrap_or_default();
        let mut records = crate::keep::recording().then(Vec::new);
        let outcome = self.dash.try_update_value(|d| {
            let outcome = apply_batch(
                d,
                &mut log,
                &mut requests,
                records.as_mut(),
                &mut crate::decoders::decode,
                batch,
                js_sys::Date::now(),
            );
            crate::probe::after_batch(probe, d.stats());
            outcome
        });
        if let Some(r) = records {
            crate::keep::record(r);
        }
        self.requests.try_update_untracked(|r| *r = requests);
        let Some(outcome) = outcome else {
            return batch_len;
        };
        if let Some(g) = granted {
            self.granted.set(g);
        }
        if subscriptions_changed {
            if let Some(c) = self.client.try_get_value() {
                self.subscription_details
                    .set(c.peek(|sup| sup.subscription_details()));
            }
        }
        if outcome.requests_changed {
            self.requests.notify();
        }
        if outcome.publishes_changed {
            self.publishes.set(log);
        }
        if let Some(status) = outcome.status {
            if status.is_connected() {
                self.error.set(None);
            }
            self.status.set(status);
        }
        if let Some(rtt) = outcome.behind_ms {
            crate::lag::observe_round_trip(rtt as f64, js_sys::Date::now());
        }
        if let Some(e) = outcome.errors.into_iter().last() {
            self.error.set(Some(e));
        }
        batch_len
    }

    /// Starts the per-frame loop (one batch per animation frame, and a
    /// redraw when the model changed and the pacer allows) and the status
    /// clock. Both stop on [`AppState::stop`].
    pub fn start(self) {
        let running = self.running.get_value();
        running.set(true);
        fn frame(state: AppState, running: Rc<Cell<bool>>) {
            request_animation_frame(move || {
                if !running.get() {
                    return;
                }
                let limit = BUDGET.with(|b| b.borrow().limit(FRAME_BATCH_MAX));
                let started = perf_now();
                let applied = state.apply_queue(limit);
                BUDGET.with(|b| b.borrow_mut().observe(applied, perf_now() - started));
                crate::keep::frame(state);
                crate::decoders::frame(state, js_sys::Date::now());
                if PACER.with(|p| p.borrow_mut().frame(js_sys::Date::now())) {
                    state.redraw();
                }
                frame(state, running);
            });
        }
        frame(self, running);
        let state = self;
        // The clock only drives seconds-level text; twice a second is plenty.
        let timer = Interval::new(500, move || {
            state.clock.try_set(now_ms());
            let now = js_sys::Date::now();
            if let Some(waiting) = state
                .client
                .try_get_value()
                .and_then(|c| c.peek(|sup| sup.waiting_for_broker_ms(now as u64)))
            {
                crate::lag::observe(waiting as f64);
            }
            let behind = crate::lag::take(now);
            if state.behind_ms.try_get_untracked() != Some(behind) {
                state.behind_ms.try_set(behind);
            }
        });
        self.clock_timer.set_value(Some(timer));
    }

    /// Stops the frame loop and the clock, and shuts the client down.
    pub fn stop(self) {
        if let Some(r) = self.running.try_get_value() {
            r.set(false);
        }
        let _ = self.clock_timer.try_update_value(|t| *t = None);
        if let Some(c) = self.client.try_get_value() {
            c.shutdown();
        }
    }
}

/// A sink for the client's notices: queue them for the next frame, or apply
/// them at once when the queue is full (a hidden tab runs no frames).
fn notice_sink(queue: NoticeQueue, state: Rc<Cell<Option<AppState>>>) -> Rc<dyn Fn(f64, Notice)> {
    Rc::new(move |at, notice| {
        let len = {
            let mut q = queue.borrow_mut();
            q.push_back((at, notice));
            q.len()
        };
        if len >= QUEUE_FLUSH_AT && (len >= QUEUE_HARD_LIMIT || document().hidden()) {
            if let Some(s) = state.get() {
                s.apply_queue(usize::MAX);
            }
        }
    })
}

/// The shared state, from context.
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}
