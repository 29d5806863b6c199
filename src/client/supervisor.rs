//! The connection supervisor: the one owner of what the user wants from the
//! connection (the target broker with its options, and the subscriptions with
//! their QoS and what the broker granted), and of one MQTT session across many
//! WebSocket connections.
//!
//! It is created once with the page and lives as long as it. Connect,
//! Disconnect, Subscribe, Unsubscribe and "load a profile" are each one call
//! here; everything the page shows about them (status, subscription list,
//! grants) comes out as [`Notice`]s, so no other part of the page keeps a
//! second copy it would have to keep in step.
//!
//! Pure and sans-IO like the session it wraps: it decides when to open and close
//! sockets, when to reconnect (exponential backoff with jitter, never after a
//! permanent refusal, a user's Disconnect, or a broker that keeps handing our
//! client id to another client), and restores subscriptions the broker's
//! session does not hold. The browser glue (`client::browser`) only carries out
//! its [`Action`]s and feeds it transport events and the time. It must not
//! touch the DOM, signals or the clock.
//!
//! With MQTT 5 it also keeps each subscription's options (no local, retain as
//! published, retain handling, subscription identifier) and the broker's
//! reason for refusing one, acts on the broker's reason codes (a refusal or a
//! server DISCONNECT a retry cannot fix stops; "session taken over" stops and
//! says another client uses the id; transient ones are retried with backoff,
//! see [`V5_RETRY`]), and passes on what the broker granted in CONNACK
//! (`Event::Granted`, then [`Supervisor::granted`] while connected).

use std::collections::VecDeque;

use model::{Grant, SubscriptionState};
use mqtt_session::{
    describe_reason, Event, Granted, Options, ProtocolVersion, PublishId, PublishProperties, QoS,
    RetainHandling, Session, SessionError, SubscribeResult, Subscription,
};

use super::backoff::Backoff;

/// Where to connect: the broker's WebSocket URL and the session options.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `ws://` or `wss://` URL, normalised (`BrokerUrl::to_url`).
    pub url: String,
    /// Client id, credentials, keepalive, clean session, Last Will, limits.
    pub options: Options,
    /// The user (or a link, or a profile) chose the client id. A random id
    /// made for this tab cannot be in use by another client, so only a
    /// chosen one can be taken over.
    pub client_id_chosen: bool,
}

/// Where the connection stands, as the status line shows it. Every state but
/// `Disconnected` names the broker it is about, so the screen always says
/// which broker the page is actually talking to.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Not connected and not trying; `reason` says why when it was not the user.
    Disconnected {
        /// Why, when it was not the user's Disconnect.
        reason: Option<String>,
    },
    /// A socket is opening or CONNECT awaits its CONNACK.
    Connecting {
        /// The broker's URL.
        broker: String,
    },
    /// CONNACK accepted.
    Connected {
        /// The broker's URL.
        broker: String,
        /// The broker resumed our previous session.
        session_present: bool,
    },
    /// Waiting to try again at `at_ms`, after `reason`.
    Reconnecting {
        /// The broker's URL.
        broker: String,
        /// When the next attempt is due (ms since the epoch).
        at_ms: u64,
        /// Why the last connection or attempt ended.
        reason: String,
    },
}

impl Status {
    /// The status as plain words; `now_ms` turns a reconnect deadline into seconds.
    pub fn describe(&self, now_ms: u64) -> String {
        match self {
            Status::Disconnected { reason: None } => "disconnected".into(),
            Status::Disconnected { reason: Some(r) } => format!("disconnected: {r}"),
            Status::Connecting { broker } => format!("connecting to {broker}"),
            Status::Connected { broker, .. } => format!("connected to {broker}"),
            Status::Reconnecting {
                broker,
                at_ms,
                reason,
            } => {
                let secs = at_ms.saturating_sub(now_ms).div_ceil(1000);
                format!("reconnecting to {broker} in {secs} s: {reason}")
            }
        }
    }

    /// Connected (CONNACK accepted).
    pub fn is_connected(&self) -> bool {
        matches!(self, Status::Connected { .. })
    }

    /// Not connected and not trying.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Status::Disconnected { .. })
    }
}

/// What the browser glue must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a WebSocket to this URL, offering subprotocol `mqtt`.
    Open(String),
    /// Write these bytes as one binary frame.
    Send(Vec<u8>),
    /// Close the current socket (and drop its listeners).
    Close,
}

/// What the page hears about: status changes, the subscription list, and the
/// session's own events.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The status changed.
    Status(Status),
    /// The subscription list or a grant changed: the whole list, in order.
    Subscriptions(Vec<SubscriptionState>),
    /// A session event (messages, publish outcomes, SUBACKs, …).
    Session(Event),
}

/// How long a connection must last before its loss resets the backoff. A
/// broker that accepts and then drops us at once (a second client with the
/// same client id, an ACL that kicks, a hostile server) must not get a
/// reconnect every second: until a connection proves stable, delays keep
/// growing.
pub const STABLE_CONNECTION_MS: u64 = 30_000;

/// While messages keep arriving, one PINGREQ this often measures how far
/// behind the broker the page is (a PINGREQ is two bytes; its answer two).
pub const LAG_PROBE_MS: u64 = 2_000;

/// A close this soon after CONNACK is explained as "right after accepting".
const RIGHT_AFTER_CONNACK_MS: u64 = 2_000;

/// The MQTT 5 options of a subscription (not sent with 3.1 and 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubOptions {
    /// The broker does not send us our own publishes on it.
    pub no_local: bool,
    /// Live messages keep the retain flag they were published with.
    pub retain_as_published: bool,
    /// What the broker does with retained messages when we subscribe.
    pub retain_handling: RetainHandling,
    /// The subscription identifier the user chose; `None`: an automatic one
    /// (see [`SubscriptionDetail::identifier`]).
    pub identifier: Option<u32>,
}

/// One subscription as the user wants it: what Subscribe, a profile and
/// [`Supervisor::replace_subscriptions_with`] carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedSubscription {
    /// The topic filter.
    pub filter: String,
    /// The QoS asked for.
    pub qos: QoS,
    /// MQTT 5 options.
    pub options: SubOptions,
}

/// What the page shows of a subscription beyond `model::SubscriptionState`:
/// its MQTT 5 options, the identifier it was sent with, and why the broker
/// refused it. Read with [`Supervisor::subscription_details`] whenever a
/// [`Notice::Subscriptions`] comes (it comes whenever these change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionDetail {
    /// The topic filter.
    pub filter: String,
    /// The QoS asked for.
    pub qos: QoS,
    /// Its MQTT 5 options as the user chose them.
    pub options: SubOptions,
    /// The subscription identifier it was last sent with (MQTT 5 only):
    /// the user's, or an automatic one (each subscription gets its own,
    /// stable for the page's lifetime) when the broker's CONNACK allows
    /// identifiers. Messages carry it in `subscription_identifiers`; see
    /// [`filters_for_identifier`].
    pub identifier: Option<u32>,
    /// Why it is refused, in words, while it is: the broker's SUBACK reason
    /// code and reason string (`not authorized (0x87)`), or why the page did
    /// not send it (the broker's CONNACK does not allow it).
    pub refusal: Option<String>,
}

/// The filters of the subscriptions sent with identifier `id` (several
/// subscriptions may share one the user chose): which subscription a
/// message with `subscription_identifiers` came through.
pub fn filters_for_identifier(details: &[SubscriptionDetail], id: u32) -> Vec<&str> {
    details
        .iter()
        .filter(|d| d.identifier == Some(id))
        .map(|d| d.filter.as_str())
        .collect()
}

/// What a retry can do about an MQTT 5 reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Nothing: the same connection would be refused or ended again.
    Stop,
    /// Try again after the backoff delay: the broker's condition may pass.
    Backoff,
}

/// What a retry can do about each MQTT 5 reason code, in a CONNACK refusal
/// and in a server's DISCONNECT: `(code, after CONNACK, after DISCONNECT)`.
/// A code not listed (or not defined for that packet) is retried with
/// backoff: a broker newer than this page, kept polite by the backoff.
/// 0x8E "session taken over" stops with its own sentence (another client
/// uses the id; reconnecting would kick it off in turn).
pub const V5_RETRY: [(u8, Retry, Retry); 34] = {
    use Retry::{Backoff as B, Stop as S};
    [
        (0x00, B, B), // normal disconnection
        (0x80, S, B), // unspecified error
        (0x81, S, S), // malformed packet
        (0x82, S, S), // protocol error
        (0x83, S, B), // implementation specific error
        (0x84, S, S), // unsupported protocol version
        (0x85, S, S), // client identifier not valid
        (0x86, S, S), // bad user name or password
        (0x87, S, S), // not authorized
        (0x88, B, B), // server unavailable
        (0x89, B, B), // server busy
        (0x8A, S, S), // banned
        (0x8B, B, B), // server shutting down
        (0x8C, S, S), // bad authentication method
        (0x8D, B, B), // keep alive timeout
        (0x8E, S, S), // session taken over
        (0x8F, S, S), // topic filter invalid (it would be subscribed again)
        (0x90, S, S), // topic name invalid (the Will's, or a resent publish)
        (0x93, B, B), // receive maximum exceeded
        (0x94, B, B), // topic alias invalid
        (0x95, S, S), // packet too large
        (0x96, B, B), // message rate too high
        (0x97, B, B), // quota exceeded
        (0x98, S, S), // administrative action
        (0x99, S, B), // payload format invalid (CONNACK: the Will's)
        (0x9A, S, S), // retain not supported
        (0x9B, S, S), // QoS not supported
        (0x9C, S, S), // use another server
        (0x9D, S, S), // server moved
        (0x9E, S, S), // shared subscriptions not supported
        (0x9F, B, B), // connection rate exceeded
        (0xA0, B, B), // maximum connect time
        (0xA1, S, S), // subscription identifiers not supported
        (0xA2, S, S), // wildcard subscriptions not supported
    ]
};

/// What a retry can do after the broker refused the connection (CONNACK)
/// or ended it (DISCONNECT, `after_disconnect`) with MQTT 5 reason `code`.
pub fn v5_retry(code: u8, after_disconnect: bool) -> Retry {
    V5_RETRY.iter().find(|(c, ..)| *c == code).map_or(
        Retry::Backoff,
        |&(_, connack, disconnect)| {
            if after_disconnect {
                disconnect
            } else {
                connack
            }
        },
    )
}

/// MQTT 5's "session taken over".
const SESSION_TAKEN_OVER: u8 = 0x8E;

/// What the broker granted after these notices, given what it granted
/// before them: `Some(Some(g))` when an `Event::Granted` came last,
/// `Some(None)` when a status other than connected came after it (the
/// connection it was about is over), `None` when nothing changed it.
pub fn granted_after<'a>(notices: impl IntoIterator<Item = &'a Notice>) -> Option<Option<Granted>> {
    let mut out = None;
    for n in notices {
        match n {
            Notice::Session(Event::Granted(g)) => out = Some(Some((**g).clone())),
            Notice::Status(s) if !s.is_connected() => out = Some(None),
            _ => {}
        }
    }
    out
}

/// One subscription the user wants.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    filter: String,
    qos: QoS,
    /// MQTT 5 options.
    options: SubOptions,
    /// Its automatic subscription identifier (used when the user chose
    /// none and the broker allows identifiers).
    auto_id: u32,
    /// The identifier it was last sent with (MQTT 5).
    sent_id: Option<u32>,
    /// Why the broker refused it (or the page did not send it), in words.
    refusal: Option<String>,
    /// What the screen shows about it.
    grant: Grant,
    /// What the broker's current session granted for it (with this `qos`),
    /// kept across a cut: a resumed session still holds exactly these. A
    /// SUBSCRIBE cut off before its SUBACK, or one the broker's old session
    /// never had (a page reloaded with clean session off), has `None` and is
    /// sent again.
    in_session: Option<Grant>,
}

/// Supervises one logical MQTT connection for the page's lifetime.
pub struct Supervisor {
    target: Option<Target>,
    session: Option<Session>,
    /// When the last lag probe (a PINGREQ) went out.
    last_probe_ms: u64,
    /// A message arrived since then.
    messages_since_probe: bool,
    status: Status,
    backoff: Backoff,
    socket_open: bool,
    /// A socket exists (opening or open) that belongs to the current attempt.
    socket_live: bool,
    wanted: Vec<Wanted>,
    /// The list last announced in a [`Notice::Subscriptions`].
    announced: Option<Vec<SubscriptionState>>,
    /// The details as they were at that announcement.
    announced_details: Vec<SubscriptionDetail>,
    /// The next automatic subscription identifier to try.
    next_auto_id: u32,
    /// MQTT 5: the reason string of the SUBACK being handled (it comes as
    /// `Event::ServerReason` just before `Event::Subscribed`).
    suback_reason: Option<(u16, String)>,
    /// The last refusal or error, kept to explain a close that follows it.
    last_error: Option<String>,
    /// A refusal that retrying cannot fix (bad credentials, not authorised, …).
    permanent: bool,
    /// When the current connection's CONNACK accepted it.
    connected_at: Option<u64>,
    /// The previous accepted connection was closed from the other end with
    /// no error (not by us, not a protocol error, not a dead link): how a
    /// broker ends a connection when another client takes over its client
    /// id. (MQTT 3.1.1 gives no reason, and mosquitto does not even send a
    /// WebSocket close frame: such a close looks like a cut network.)
    previous_closed_by_peer: bool,
    actions: VecDeque<Action>,
    notices: VecDeque<Notice>,
    /// QoS 1/2 publishes made while reconnecting, sent in order at the next
    /// CONNACK (at most [`OUTBOX_MAX`]).
    outbox: VecDeque<Queued>,
    /// The id the next queued publish gets.
    next_queued: u64,
    /// What became of the publishes sent from the outbox.
    outbox_report: OutboxReport,
    /// Publishes sent from the outbox, awaiting their acknowledgement.
    from_outbox: Vec<u64>,
    /// Publishes whose outcome the page asked to hear about ([`Supervisor::watch`]).
    watched: Vec<u64>,
    /// Their outcomes, until [`Supervisor::take_outcomes`].
    outcomes: Vec<(u64, bool)>,
}

/// The most publishes waiting in the outbox for the connection to come back.
pub const OUTBOX_MAX: usize = 100;

/// A QoS 1/2 publish made while the page was reconnecting, waiting for the
/// connection to come back.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// Its number in the outbox (from 1, never reused).
    pub id: u64,
    /// The topic.
    pub topic: String,
    /// The payload, encoded.
    pub payload: Vec<u8>,
    /// QoS 1 or 2.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// MQTT 5 properties (empty with 3.1 and 3.1.1).
    pub properties: PublishProperties,
}

/// What became of the publishes sent from the outbox when the connection
/// came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxReport {
    /// Sent (handed to the session).
    pub sent: u64,
    /// Acknowledged by the broker.
    pub acknowledged: u64,
    /// Refused by the session or failed later.
    pub failed: u64,
    /// Why the last one failed to be sent, if one did.
    pub last_refusal: Option<String>,
}

impl OutboxReport {
    /// `Sent 2 queued publishes: 1 acknowledged, 1 failed (…)`, or nothing
    /// before any was sent.
    pub fn describe(&self) -> Option<String> {
        if self.sent == 0 && self.failed == 0 {
            return None;
        }
        let mut s = format!(
            "Sent {} queued publish{} when the connection came back: {} acknowledged, {} failed",
            self.sent,
            if self.sent == 1 { "" } else { "es" },
            self.acknowledged,
            self.failed
        );
        if let Some(r) = &self.last_refusal {
            s.push_str(" (");
            s.push_str(r);
            s.push(')');
        }
        Some(s)
    }
}

/// Where a publish went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the session now; its outcome comes as session events.
    Now(PublishId),
    /// Kept in the outbox (this number) until the connection is back.
    Queued(u64),
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

/// CONNACK codes that a retry cannot fix: wrong protocol version, identifier
/// rejected, bad username or password, not authorised. (3, server unavailable,
/// is worth retrying.) MQTT 5's codes (0x80 and above) as [`V5_RETRY`] says.
fn is_permanent_refusal(code: u8) -> bool {
    match code {
        1 | 2 | 4 | 5 => true,
        0x80.. => v5_retry(code, false) == Retry::Stop,
        _ => false,
    }
}

impl Supervisor {
    /// No target and no subscriptions yet; nothing happens until
    /// [`Supervisor::connect`].
    pub fn new() -> Self {
        Self {
            target: None,
            session: None,
            last_probe_ms: 0,
            messages_since_probe: false,
            status: Status::Disconnected { reason: None },
            backoff: Backoff::default(),
            socket_open: false,
            socket_live: false,
            wanted: Vec::new(),
            announced: None,
            announced_details: Vec::new(),
            next_auto_id: 1,
            suback_reason: None,
            last_error: None,
            permanent: false,
            connected_at: None,
            previous_closed_by_peer: false,
            actions: VecDeque::new(),
            notices: VecDeque::new(),
            outbox: VecDeque::new(),
            next_queued: 1,
            outbox_report: OutboxReport::default(),
            from_outbox: Vec::new(),
            watched: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    /// The current status.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The target of the current (or last) connection, if Connect was ever pressed.
    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// The session, for read-only questions (in-flight count, options).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The subscriptions the user wants, in order, with their grant state.
    pub fn subscriptions(&self) -> Vec<SubscriptionState> {
        self.wanted
            .iter()
            .map(|w| SubscriptionState {
                filter: w.filter.clone(),
                qos: w.qos.as_u8(),
                grant: w.grant,
            })
            .collect()
    }

    /// The MQTT 5 side of each subscription, in order: options, the
    /// identifier it was sent with, why it is refused.
    pub fn subscription_details(&self) -> Vec<SubscriptionDetail> {
        self.wanted
            .iter()
            .map(|w| SubscriptionDetail {
                filter: w.filter.clone(),
                qos: w.qos,
                options: w.options,
                identifier: w.sent_id,
                refusal: w.refusal.clone(),
            })
            .collect()
    }

    /// The subscriptions as the user wants them (for a profile).
    pub fn wanted_subscriptions(&self) -> Vec<WantedSubscription> {
        self.wanted
            .iter()
            .map(|w| WantedSubscription {
                filter: w.filter.clone(),
                qos: w.qos,
                options: w.options,
            })
            .collect()
    }

    /// MQTT 5: what the broker granted in the CONNACK of the live
    /// connection; `None` while not connected and always with 3.1 and 3.1.1.
    pub fn granted(&self) -> Option<&Granted> {
        if !self.is_connected() {
            return None;
        }
        self.session.as_ref().and_then(Session::granted)
    }

    /// The user pressed Connect: connect to `target`, leaving any current
    /// connection first (with a DISCONNECT when it is up). The session (and
    /// its in-flight publishes) carries over when the target is the same;
    /// otherwise a new one starts. Subscriptions follow to the new target.
    pub fn connect(&mut self, now_ms: u64, target: Target) -> Result<(), String> {
        let same = self.target.as_ref() == Some(&target) && self.session.is_some();
        if !same {
            let session = Session::new(target.options.clone()).map_err(|e| e.to_string())?;
            self.leave(now_ms);
            if let Some(mut old) = self.session.take() {
                old.connection_lost(
                    "the page connected to another broker or with other options".into(),
                );
                while let Some(event) = old.poll_event() {
                    self.note_outcome(&event);
                    self.notices.push_back(Notice::Session(event));
                }
            }
            // The new session numbers its publishes from 1 again: what the
            // old one still had in flight will never be heard of.
            for id in std::mem::take(&mut self.watched) {
                self.outcomes.push((id, false));
            }
            self.outbox_report.failed += self.from_outbox.len() as u64;
            self.from_outbox.clear();
            self.session = Some(session);
            for w in &mut self.wanted {
                w.in_session = None;
            }
        } else {
            self.leave(now_ms);
        }
        self.target = Some(target);
        self.backoff.reset();
        self.permanent = false;
        self.previous_closed_by_peer = false;
        self.open_socket();
        Ok(())
    }

    /// The user pressed Disconnect: send DISCONNECT, close, and stop reconnecting.
    pub fn disconnect(&mut self, now_ms: u64) {
        self.leave(now_ms);
        self.set_status(Status::Disconnected { reason: None });
    }

    /// Ends the current connection, if any, without deciding what comes next.
    fn leave(&mut self, now_ms: u64) {
        if let Some(session) = self.session.as_mut() {
            if self.socket_open && session.state() == mqtt_session::ConnectionState::Connected {
                session.disconnect(now_ms);
                self.flush();
            } else {
                session.connection_lost("disconnected by the user".into());
            }
        }
        self.drain_session();
        if self.socket_live {
            self.actions.push_back(Action::Close);
        }
        self.socket_open = false;
        self.socket_live = false;
        self.connected_at = None;
        self.set_grants_not_connected();
    }

    /// The user pressed "Reconnect now" while a reconnect was waiting: try at
    /// once instead of at the deadline. The backoff keeps its place, so a
    /// broker that keeps failing still gets growing delays from the automatic
    /// attempts. Does nothing in any other state.
    pub fn reconnect_now(&mut self) {
        if matches!(self.status, Status::Reconnecting { .. }) && !self.socket_live {
            self.open_socket();
        }
    }

    /// The socket opened; `protocol` is the subprotocol the server accepted.
    pub fn on_open(&mut self, now_ms: u64, protocol: &str) {
        if !self.socket_live {
            return;
        }
        if protocol != "mqtt" {
            // A browser normally fails the handshake itself when the server
            // ignores the offered subprotocol; this catches servers that pick
            // another one.
            let why = format!(
                "the server at {} accepted the WebSocket but not the mqtt subprotocol \
                 (it answered {:?}); is this the broker's MQTT path?",
                self.broker(),
                protocol
            );
            self.fail(now_ms, why, true);
            return;
        }
        self.socket_open = true;
        if let Some(session) = self.session.as_mut() {
            session.connect(now_ms);
        }
        self.after_session(now_ms);
    }

    /// Bytes arrived on the socket. While they keep arriving, a PINGREQ
    /// every [`LAG_PROBE_MS`] measures how far behind the broker the page is
    /// (its answer, `Event::Pong`, comes after everything queued before it).
    pub fn on_data(&mut self, now_ms: u64, bytes: &[u8]) {
        if !self.socket_open {
            return;
        }
        if let Some(session) = self.session.as_mut() {
            session.handle_bytes(now_ms, bytes);
        }
        self.after_session(now_ms);
        // Only a connection that keeps receiving messages is worth probing,
        // and not in its first seconds.
        let since = self.last_probe_ms.max(self.connected_at.unwrap_or(now_ms));
        if self.messages_since_probe && now_ms.saturating_sub(since) >= LAG_PROBE_MS {
            if let Some(session) = self.session.as_mut() {
                if session.probe_ping(now_ms) {
                    self.last_probe_ms = now_ms;
                    self.messages_since_probe = false;
                }
            }
            self.after_session(now_ms);
        }
    }

    /// How long the oldest PINGREQ has waited for its answer, if one waits:
    /// at least that far behind the broker.
    pub fn waiting_for_broker_ms(&self, now_ms: u64) -> Option<u64> {
        self.session
            .as_ref()
            .and_then(Session::ping_waiting_since)
            .map(|since| now_ms.saturating_sub(since))
    }

    /// A text frame arrived: MQTT over WebSocket is binary only.
    pub fn on_text(&mut self, now_ms: u64) {
        if self.socket_open {
            self.fail(
                now_ms,
                "the server sent a text frame; MQTT over WebSocket uses binary frames only".into(),
                false,
            );
        }
    }

    /// The socket closed (or failed to open).
    pub fn on_closed(&mut self, now_ms: u64, code: u16, reason: &str) {
        if !self.socket_live {
            return;
        }
        let was_open = self.socket_open;
        self.socket_live = false;
        self.socket_open = false;
        let lasted = self.connected_at.map(|t| now_ms.saturating_sub(t));
        let by_peer = lasted.is_some() && self.last_error.is_none();
        let why = match self.last_error.take() {
            Some(e) => e,
            None if !was_open => format!(
                "could not reach the broker at {} (refused, unreachable, wrong path, \
                 or the server does not speak the mqtt subprotocol)",
                self.broker()
            ),
            None => {
                let how = if reason.is_empty() {
                    format!("code {code}")
                } else {
                    format!("code {code}: {reason}")
                };
                match lasted {
                    Some(t) if t < RIGHT_AFTER_CONNACK_MS => format!(
                        "the broker closed the connection right after accepting it ({how}); \
                         is another client using the same client id?"
                    ),
                    _ => format!("the connection closed ({how})"),
                }
            }
        };
        if let Some(session) = self.session.as_mut() {
            session.connection_lost(why.clone());
        }
        self.drain_session();
        // Two accepted connections in a row closed from the other end, the
        // second one short-lived, with a client id someone chose: another
        // client keeps taking the id over (each reconnect of ours would kick
        // it off in turn). Stop here. With this tab's random id that cannot
        // be, and the same pattern is a flaky network: keep retrying.
        let short = lasted.is_some_and(|t| t < STABLE_CONNECTION_MS);
        let chosen = self.target.as_ref().is_some_and(|t| t.client_id_chosen);
        if by_peer && short && chosen && self.previous_closed_by_peer {
            self.connected_at = None;
            self.previous_closed_by_peer = false;
            self.set_grants_not_connected();
            let id = self
                .target
                .as_ref()
                .map(|t| t.options.client_id.clone())
                .unwrap_or_default();
            self.set_status(Status::Disconnected {
                reason: Some(format!(
                    "the broker closed the connection again soon after accepting it: another \
                     client is probably using the client id {id:?} and takes it over. Not \
                     reconnecting, so that it is not kicked off in turn; press Connect to \
                     take the id back, or pick another client id"
                )),
            });
            return;
        }
        if lasted.is_some() {
            self.previous_closed_by_peer = by_peer;
        }
        self.schedule_reconnect(now_ms, why);
    }

    /// Time passed: keepalive, response timeouts, and a due reconnect.
    pub fn on_timer(&mut self, now_ms: u64) {
        if let Status::Reconnecting { at_ms, .. } = self.status {
            if now_ms >= at_ms && !self.socket_live {
                self.open_socket();
                return;
            }
        }
        if self.socket_open {
            if let Some(session) = self.session.as_mut() {
                session.handle_timeout(now_ms);
            }
            self.after_session(now_ms);
        }
    }

    /// The next time [`Supervisor::on_timer`] must be called.
    pub fn next_deadline(&self) -> Option<u64> {
        let reconnect = match self.status {
            Status::Reconnecting { at_ms, .. } => Some(at_ms),
            _ => None,
        };
        let session = match (&self.session, self.socket_open) {
            (Some(s), true) => s.poll_timeout(),
            _ => None,
        };
        match (reconnect, session) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Adds a subscription (or changes its QoS); sends it now when connected,
    /// and again after every reconnect whose session does not hold it.
    pub fn subscribe(&mut self, now_ms: u64, filter: String, qos: QoS) -> Result<(), String> {
        self.subscribe_with(
            now_ms,
            WantedSubscription {
                filter,
                qos,
                options: SubOptions::default(),
            },
        )
    }

    /// Adds a subscription with MQTT 5 options (or changes its QoS or
    /// options); sends it now when connected, and again after every
    /// reconnect whose session does not hold it. When the live broker's
    /// CONNACK does not allow it (a wildcard, shared subscription or
    /// identifier it does not support) or it cannot be sent as asked (no
    /// local on a shared subscription), nothing changes and the sentence
    /// says why.
    pub fn subscribe_with(&mut self, now_ms: u64, sub: WantedSubscription) -> Result<(), String> {
        mqtt_session::topic::validate_filter(&sub.filter).map_err(|e| e.to_string())?;
        check_identifier(sub.options.identifier)?;
        let before = self.wanted.clone();
        let grant = if self.is_connected() {
            Grant::Pending
        } else {
            Grant::NotConnected
        };
        match self.wanted.iter_mut().find(|w| w.filter == sub.filter) {
            Some(w) => {
                if w.qos != sub.qos || w.options != sub.options {
                    w.in_session = None;
                }
                w.qos = sub.qos;
                w.options = sub.options;
                w.grant = grant;
                w.refusal = None;
            }
            None => {
                let auto_id = self.take_auto_id();
                self.wanted.push(Wanted {
                    filter: sub.filter.clone(),
                    qos: sub.qos,
                    options: sub.options,
                    auto_id,
                    sent_id: None,
                    refusal: None,
                    grant,
                    in_session: None,
                });
            }
        }
        if self.is_connected() {
            let sent = self.send_subscribe(now_ms, &[sub.filter]);
            if sent.is_err() {
                self.wanted = before;
            }
            self.after_session(now_ms);
            self.announce();
            return sent;
        }
        self.announce();
        Ok(())
    }

    /// An automatic subscription identifier no subscription uses.
    fn take_auto_id(&mut self) -> u32 {
        loop {
            let id = self.next_auto_id;
            self.next_auto_id = if id >= mqtt_session::v5::MAX_SUBSCRIPTION_IDENTIFIER {
                1
            } else {
                id + 1
            };
            let used = self
                .wanted
                .iter()
                .any(|w| w.auto_id == id || w.options.identifier == Some(id));
            if !used {
                return id;
            }
        }
    }

    /// Removes a subscription; sends UNSUBSCRIBE when connected.
    pub fn unsubscribe(&mut self, now_ms: u64, filter: &str) -> Result<(), String> {
        let before = self.wanted.len();
        self.wanted.retain(|w| w.filter != filter);
        if self.wanted.len() == before {
            return Err(format!("there is no subscription to {filter:?}"));
        }
        if self.is_connected() {
            self.send_unsubscribe(now_ms, vec![filter.to_string()]);
            self.after_session(now_ms);
        }
        self.announce();
        Ok(())
    }

    /// Makes the subscription list exactly `subs` (a loaded profile): one
    /// UNSUBSCRIBE for the filters that go and one SUBSCRIBE for those that
    /// are new or change QoS, when connected. Every filter is checked first;
    /// on an invalid one nothing changes.
    pub fn replace_subscriptions(
        &mut self,
        now_ms: u64,
        subs: Vec<(String, QoS)>,
    ) -> Result<(), String> {
        let subs = subs
            .into_iter()
            .map(|(filter, qos)| WantedSubscription {
                filter,
                qos,
                options: SubOptions::default(),
            })
            .collect();
        self.replace_subscriptions_with(now_ms, subs)
    }

    /// [`Supervisor::replace_subscriptions`] with MQTT 5 options: a
    /// subscription whose options change is sent again. With MQTT 5,
    /// subscriptions with different identifiers go in separate SUBSCRIBEs
    /// (an identifier belongs to the whole packet); one the broker's CONNACK
    /// does not allow is shown refused, with the reason.
    pub fn replace_subscriptions_with(
        &mut self,
        now_ms: u64,
        subs: Vec<WantedSubscription>,
    ) -> Result<(), String> {
        for s in &subs {
            mqtt_session::topic::validate_filter(&s.filter)
                .map_err(|e| format!("{:?}: {e}", s.filter))?;
            check_identifier(s.options.identifier).map_err(|e| format!("{:?}: {e}", s.filter))?;
        }
        let gone: Vec<String> = self
            .wanted
            .iter()
            .filter(|w| !subs.iter().any(|s| s.filter == w.filter))
            .map(|w| w.filter.clone())
            .collect();
        let same = |w: &Wanted, s: &WantedSubscription| {
            w.filter == s.filter && w.qos == s.qos && w.options == s.options
        };
        let fresh: Vec<String> = subs
            .iter()
            .filter(|s| !self.wanted.iter().any(|w| same(w, s)))
            .map(|s| s.filter.clone())
            .collect();
        let connected = self.is_connected();
        let old = std::mem::take(&mut self.wanted);
        for sub in subs {
            if let Some(w) = old.iter().find(|w| same(w, &sub)) {
                self.wanted.push(w.clone());
                continue;
            }
            // A filter that stays keeps its automatic identifier.
            let auto_id = match old.iter().find(|w| w.filter == sub.filter) {
                Some(w) => w.auto_id,
                None => self.take_auto_id_besides(&old),
            };
            self.wanted.push(Wanted {
                filter: sub.filter,
                qos: sub.qos,
                options: sub.options,
                auto_id,
                sent_id: None,
                refusal: None,
                grant: if connected {
                    Grant::Pending
                } else {
                    Grant::NotConnected
                },
                in_session: None,
            });
        }
        if connected {
            if !gone.is_empty() {
                self.send_unsubscribe(now_ms, gone);
            }
            if !fresh.is_empty() {
                // A refusal is shown on its subscription.
                let _ = self.send_subscribe(now_ms, &fresh);
            }
            self.after_session(now_ms);
        }
        self.announce();
        Ok(())
    }

    /// An automatic identifier used neither by the list being built nor by
    /// `old` (whose filters may still keep theirs).
    fn take_auto_id_besides(&mut self, old: &[Wanted]) -> u32 {
        loop {
            let id = self.take_auto_id();
            if !old.iter().any(|w| w.auto_id == id) {
                return id;
            }
        }
    }

    /// Publishes; the outcome arrives as session events for the returned id.
    pub fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, String> {
        self.publish_with(
            now_ms,
            topic,
            payload,
            qos,
            retain,
            PublishProperties::default(),
        )
    }

    /// Publishes with MQTT 5 properties (empty ones with 3.1 and 3.1.1);
    /// the outcome arrives as session events for the returned id.
    pub fn publish_with(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) -> Result<PublishId, String> {
        if !self.is_connected() {
            return Err("not connected".into());
        }
        let session = self.session.as_mut().ok_or("not connected")?;
        let id = session
            .publish_with(now_ms, topic, payload, qos, retain, properties)
            .map_err(|e| e.to_string())?;
        self.after_session(now_ms);
        Ok(id)
    }

    /// Publishes now when connected. While the page is connecting or
    /// reconnecting, a QoS 1 or 2 publish waits in the outbox (at most
    /// [`OUTBOX_MAX`]) and goes out, in order, right after the next CONNACK;
    /// a QoS 0 one is refused with a sentence, as is any publish while
    /// disconnected.
    pub fn publish_or_queue(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) -> Result<Sent, String> {
        if self.is_connected() {
            return self
                .publish_with(now_ms, topic, payload, qos, retain, properties)
                .map(Sent::Now);
        }
        if self.status.is_disconnected() || self.target.is_none() {
            return Err("not connected: connect first".into());
        }
        if qos == QoS::AtMostOnce {
            return Err(
                "not connected (reconnecting): a QoS 0 message is not queued; \
                        choose QoS 1 or 2 to queue it until the connection is back"
                    .into(),
            );
        }
        if self.outbox.len() >= OUTBOX_MAX {
            return Err(format!(
                "the queue of publishes waiting for the connection is full ({OUTBOX_MAX}): \
                 cancel some or wait for the connection"
            ));
        }
        let id = self.next_queued;
        self.next_queued += 1;
        self.outbox.push_back(Queued {
            id,
            topic: topic.to_owned(),
            payload,
            qos,
            retain,
            properties,
        });
        Ok(Sent::Queued(id))
    }

    /// The publishes waiting for the connection, oldest first.
    pub fn queued(&self) -> &VecDeque<Queued> {
        &self.outbox
    }

    /// Takes a publish out of the outbox: it will never be sent. Whether it
    /// was still there.
    pub fn cancel_queued(&mut self, id: u64) -> bool {
        let before = self.outbox.len();
        self.outbox.retain(|q| q.id != id);
        self.outbox.len() != before
    }

    /// What became of the publishes sent from the outbox.
    pub fn outbox_report(&self) -> &OutboxReport {
        &self.outbox_report
    }

    /// Asks to hear (through [`Supervisor::take_outcomes`]) whether this
    /// QoS 1/2 publish is acknowledged or fails.
    pub fn watch(&mut self, id: PublishId) {
        self.watched.push(id.0);
    }

    /// The outcomes of watched publishes since the last call: `(id, acknowledged)`.
    pub fn take_outcomes(&mut self) -> Vec<(u64, bool)> {
        std::mem::take(&mut self.outcomes)
    }

    /// Counts an acknowledgement or failure of a watched or outbox publish.
    fn note_outcome(&mut self, event: &Event) {
        let (id, ok) = match event {
            Event::PublishComplete { id, .. } => (id.0, true),
            Event::PublishFailed { id, .. } => (id.0, false),
            _ => return,
        };
        if let Some(i) = self.watched.iter().position(|x| *x == id) {
            self.watched.swap_remove(i);
            self.outcomes.push((id, ok));
        } else if let Some(i) = self.from_outbox.iter().position(|x| *x == id) {
            self.from_outbox.swap_remove(i);
            if ok {
                self.outbox_report.acknowledged += 1;
            } else {
                self.outbox_report.failed += 1;
            }
        }
    }

    /// Sends what waited in the outbox, in order (just after CONNACK).
    fn send_outbox(&mut self, now_ms: u64) {
        while let Some(q) = self.outbox.pop_front() {
            let Some(session) = self.session.as_mut() else {
                self.outbox.push_front(q);
                return;
            };
            match session.publish_with(now_ms, &q.topic, q.payload, q.qos, q.retain, q.properties) {
                Ok(id) => {
                    self.outbox_report.sent += 1;
                    self.from_outbox.push(id.0);
                }
                Err(e) => {
                    self.outbox_report.failed += 1;
                    self.outbox_report.last_refusal = Some(format!("{}: {e}", q.topic));
                }
            }
        }
    }

    /// Next thing the glue must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Next thing the page should hear about.
    pub fn poll_notice(&mut self) -> Option<Notice> {
        self.notices.pop_front()
    }

    fn broker(&self) -> String {
        self.target
            .as_ref()
            .map(|t| t.url.clone())
            .unwrap_or_default()
    }

    fn is_connected(&self) -> bool {
        self.socket_open && self.status.is_connected()
    }

    /// Sends SUBSCRIBE for these wanted filters: one packet with MQTT 3.1
    /// and 3.1.1 (exactly as before MQTT 5), one per subscription identifier
    /// with MQTT 5. A packet the session refuses because the broker's
    /// CONNACK does not allow it (or it cannot be sent as asked) marks its
    /// filters refused with the reason, and the first such reason is
    /// returned.
    fn send_subscribe(&mut self, now_ms: u64, filters: &[String]) -> Result<(), String> {
        let mut groups: Vec<(Option<u32>, Vec<Subscription>)> = Vec::new();
        for f in filters {
            let Some(w) = self.wanted.iter().find(|w| w.filter == *f) else {
                continue;
            };
            let id = self.identifier_to_send(w);
            let sub = Subscription {
                filter: w.filter.clone(),
                qos: w.qos,
                no_local: w.options.no_local,
                retain_as_published: w.options.retain_as_published,
                retain_handling: w.options.retain_handling,
            };
            match groups.iter_mut().find(|(g, _)| *g == id) {
                Some((_, list)) => list.push(sub),
                None => groups.push((id, vec![sub])),
            }
        }
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        let mut refused = None;
        for (id, subs) in groups {
            let names: Vec<String> = subs.iter().map(|s| s.filter.clone()).collect();
            let result = session.subscribe_with(now_ms, subs, id);
            let mine = self.wanted.iter_mut().filter(|w| names.contains(&w.filter));
            match result {
                Ok(_) => mine.for_each(|w| w.sent_id = id),
                Err(
                    e @ (SessionError::NotAllowedByBroker(_) | SessionError::InvalidRequest(_)),
                ) => {
                    let why = format!("not sent: {e}");
                    for w in mine {
                        w.grant = Grant::Refused;
                        w.refusal = Some(why.clone());
                        w.in_session = None;
                    }
                    refused.get_or_insert(e.to_string());
                }
                Err(e) => self.last_error = Some(e.to_string()),
            }
        }
        refused.map_or(Ok(()), Err)
    }

    /// The subscription identifier to send `w` with: none with 3.1 and
    /// 3.1.1; with MQTT 5 the user's, else its automatic one when the
    /// broker's CONNACK allows identifiers.
    fn identifier_to_send(&self, w: &Wanted) -> Option<u32> {
        let session = self.session.as_ref()?;
        if session.options().protocol != ProtocolVersion::V5 {
            return None;
        }
        match w.options.identifier {
            Some(id) => Some(id),
            None => session
                .granted()
                .filter(|g| g.subscription_identifiers_available)
                .map(|_| w.auto_id),
        }
    }

    fn send_unsubscribe(&mut self, now_ms: u64, filters: Vec<String>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if let Err(e) = session.unsubscribe(now_ms, filters) {
            self.last_error = Some(e.to_string());
        }
    }

    fn open_socket(&mut self) {
        if self.socket_live {
            self.actions.push_back(Action::Close);
        }
        self.socket_live = true;
        self.socket_open = false;
        self.last_error = None;
        let broker = self.broker();
        self.actions.push_back(Action::Open(broker.clone()));
        self.set_status(Status::Connecting { broker });
    }

    fn fail(&mut self, now_ms: u64, why: String, permanent: bool) {
        self.permanent |= permanent;
        if let Some(session) = self.session.as_mut() {
            session.connection_lost(why.clone());
        }
        self.drain_session();
        self.actions.push_back(Action::Close);
        self.socket_live = false;
        self.socket_open = false;
        self.previous_closed_by_peer = false;
        self.schedule_reconnect(now_ms, why);
    }

    fn schedule_reconnect(&mut self, now_ms: u64, why: String) {
        // Only a connection that lasted resets the backoff (see
        // STABLE_CONNECTION_MS); a failed attempt or a short one keeps it growing.
        if let Some(t) = self.connected_at.take() {
            if now_ms.saturating_sub(t) >= STABLE_CONNECTION_MS {
                self.backoff.reset();
            }
        }
        self.set_grants_not_connected();
        if self.permanent {
            self.set_status(Status::Disconnected { reason: Some(why) });
            return;
        }
        // The random part of the jitter comes from the clock's low bits: good
        // enough to spread a fleet of pages, and keeps this module pure.
        let random = ((now_ms.wrapping_mul(2_654_435_761)) % 1000) as f64 / 1000.0;
        let delay = self.backoff.next_delay_ms(random);
        let broker = self.broker();
        self.set_status(Status::Reconnecting {
            broker,
            at_ms: now_ms + delay,
            reason: why,
        });
    }

    fn after_session(&mut self, now_ms: u64) {
        self.flush();
        loop {
            let Some(event) = self.session.as_mut().and_then(|s| s.poll_event()) else {
                break;
            };
            match &event {
                Event::Connected { session_present } => {
                    self.on_connected(now_ms, *session_present);
                }
                Event::ServerReason {
                    packet: "SUBACK",
                    pkid,
                    reason,
                } => {
                    self.suback_reason = Some((*pkid, reason.clone()));
                }
                Event::Subscribed { pkid, results } => {
                    let words = match self.suback_reason.take() {
                        Some((p, r)) if p == *pkid => Some(r),
                        _ => None,
                    };
                    for (filter, result) in results {
                        let Some(w) = self.wanted.iter_mut().find(|w| w.filter == *filter) else {
                            continue;
                        };
                        w.grant = match result {
                            SubscribeResult::Granted(q) => Grant::Granted(q.as_u8()),
                            SubscribeResult::Refused | SubscribeResult::RefusedWith(_) => {
                                Grant::Refused
                            }
                        };
                        w.refusal = match result {
                            SubscribeResult::RefusedWith(code) => Some(format!(
                                "refused: {}",
                                describe_reason(*code, words.as_deref())
                            )),
                            _ => None,
                        };
                        w.in_session =
                            matches!(result, SubscribeResult::Granted(_)).then_some(w.grant);
                    }
                    self.announce();
                }
                Event::ConnectionRefused { code, reason } => {
                    self.permanent |= is_permanent_refusal(*code);
                    self.last_error = Some(format!("the broker refused the connection: {reason}"));
                }
                Event::Closed { error } => {
                    let (why, permanent) = match error {
                        // MQTT 5: the broker said why; a stale refusal or
                        // subscribe error must not stand in for it.
                        SessionError::ServerDisconnected { code, .. } => {
                            self.last_error = None;
                            let why = if *code == SESSION_TAKEN_OVER {
                                self.taken_over(error)
                            } else {
                                describe_close(error)
                            };
                            (why, v5_retry(*code, true) == Retry::Stop)
                        }
                        _ => (
                            self.last_error
                                .take()
                                .unwrap_or_else(|| describe_close(error)),
                            false,
                        ),
                    };
                    self.notices.push_back(Notice::Session(event.clone()));
                    // MQTT 5: a DISCONNECT with a reason code the session
                    // queued (the broker broke the protocol) goes out
                    // before the socket closes.
                    self.flush();
                    self.fail(now_ms, why, permanent);
                    return;
                }
                Event::Message(_) | Event::MessageNotKept { .. } => {
                    self.messages_since_probe = true;
                }
                Event::PublishComplete { .. } | Event::PublishFailed { .. } => {
                    self.note_outcome(&event);
                }
                _ => {}
            }
            self.notices.push_back(Notice::Session(event));
        }
        self.flush();
    }

    fn on_connected(&mut self, now_ms: u64, session_present: bool) {
        self.connected_at = Some(now_ms);
        let broker = self.broker();
        self.set_status(Status::Connected {
            broker,
            session_present,
        });
        if !session_present {
            for w in &mut self.wanted {
                w.in_session = None;
            }
        }
        let mut missing = Vec::new();
        for w in &mut self.wanted {
            match w.in_session {
                Some(g) => w.grant = g,
                None => {
                    w.grant = Grant::Pending;
                    missing.push(w.filter.clone());
                }
            }
        }
        if !missing.is_empty() {
            // A refusal is shown on its subscription.
            let _ = self.send_subscribe(now_ms, &missing);
        }
        self.announce();
        self.send_outbox(now_ms);
    }

    /// The sentence for a server's "session taken over".
    fn taken_over(&self, error: &SessionError) -> String {
        let id = self
            .target
            .as_ref()
            .map(|t| t.options.client_id.clone())
            .unwrap_or_default();
        format!(
            "another client connected with the client id {id:?} ({error}). Not reconnecting, \
             so that it is not kicked off in turn; press Connect to take the id back, or pick \
             another client id"
        )
    }

    fn set_grants_not_connected(&mut self) {
        for w in &mut self.wanted {
            w.grant = Grant::NotConnected;
            w.refusal = None;
        }
        self.announce();
    }

    /// Tells the page the subscription list, when it (or a subscription's
    /// detail) differs from the last told.
    fn announce(&mut self) {
        let now = self.subscriptions();
        let details = self.subscription_details();
        if self.announced.as_ref() != Some(&now) || self.announced_details != details {
            self.announced = Some(now.clone());
            self.announced_details = details;
            self.notices.push_back(Notice::Subscriptions(now));
        }
    }

    fn drain_session(&mut self) {
        // Bytes queued for a socket that is gone are dropped: the session keeps
        // what must be resent (in-flight publishes) for the next connection.
        let Some(session) = self.session.as_mut() else {
            return;
        };
        while session.poll_transmit().is_some() {}
        let mut events = Vec::new();
        while let Some(event) = session.poll_event() {
            events.push(event);
        }
        for event in events {
            self.note_outcome(&event);
            self.notices.push_back(Notice::Session(event));
        }
    }

    fn flush(&mut self) {
        if !self.socket_open {
            return;
        }
        let Some(session) = self.session.as_mut() else {
            return;
        };
        while let Some(bytes) = session.poll_transmit() {
            self.actions.push_back(Action::Send(bytes));
        }
    }

    fn set_status(&mut self, status: Status) {
        if self.status != status {
            self.status = status.clone();
            self.notices.push_back(Notice::Status(status));
        }
    }
}

fn describe_close(error: &SessionError) -> String {
    error.to_string()
}

/// A subscription identifier the user chose must be 1 to 268,435,455.
fn check_identifier(id: Option<u32>) -> Result<(), String> {
    let max = mqtt_session::v5::MAX_SUBSCRIPTION_IDENTIFIER;
    match id {
        Some(id) if id == 0 || id > max => Err(format!(
            "a subscription identifier is a whole number from 1 to {max}, not {id}"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNACK_OK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];
    const CONNACK_RESUMED: [u8; 4] = [0x20, 0x02, 0x01, 0x00];
    const CONNACK_BAD_CREDENTIALS: [u8; 4] = [0x20, 0x02, 0x00, 0x04];

    fn supervisor(clean_session: bool) -> Supervisor {
        let options = Options {
            client_id: "dash-test".into(),
            clean_session,
            ..Options::default()
        };
        with_options(options)
    }

    /// A supervisor aimed at [`URL`] with `options`, not yet connecting.
    fn with_options(options: Options) -> Supervisor {
        let mut s = Supervisor::new();
        s.session = Some(Session::new(options.clone()).expect("valid options"));
        s.target = Some(Target {
            url: URL.into(),
            options,
            client_id_chosen: false,
        });
        s
    }

    /// Like [`supervisor`], with a client id the user typed.
    fn chosen_id(clean_session: bool) -> Supervisor {
        let mut s = supervisor(clean_session);
        if let Some(t) = s.target.as_mut() {
            t.client_id_chosen = true;
        }
        s
    }

    /// Connect and Disconnect as the page's buttons do, towards the target set up.
    trait Buttons {
        fn start(&mut self);
        fn stop(&mut self, now_ms: u64);
    }

    impl Buttons for Supervisor {
        fn start(&mut self) {
            let target = self.target.clone().expect("a target");
            self.connect(0, target).expect("valid target");
        }

        fn stop(&mut self, now_ms: u64) {
            self.disconnect(now_ms);
        }
    }

    fn connected(session_present: bool) -> Status {
        Status::Connected {
            broker: URL.into(),
            session_present,
        }
    }

    fn connecting() -> Status {
        Status::Connecting { broker: URL.into() }
    }

    fn actions(s: &mut Supervisor) -> Vec<Action> {
        std::iter::from_fn(|| s.poll_action()).collect()
    }

    /// The type of every packet sent, in order (one frame may carry several).
    fn sent_packet_types(actions: &[Action]) -> Vec<u8> {
        let mut types = Vec::new();
        for a in actions {
            let Action::Send(bytes) = a else { continue };
            let mut rest = &bytes[..];
            while let Some(&first) = rest.first() {
                types.push(first >> 4);
                // Remaining length: up to four 7-bit groups.
                let (mut len, mut shift, mut i) = (0usize, 0, 1);
                while let Some(&b) = rest.get(i) {
                    len |= usize::from(b & 0x7f) << shift;
                    shift += 7;
                    i += 1;
                    if b & 0x80 == 0 {
                        break;
                    }
                }
                rest = rest.get(i + len..).unwrap_or(&[]);
            }
        }
        types
    }

    fn connect(s: &mut Supervisor, connack: &[u8]) -> Vec<Action> {
        s.start();
        s.on_open(0, "mqtt");
        s.on_data(1, connack);
        actions(s)
    }

    #[test]
    fn start_opens_a_socket_and_sends_connect_once_it_opens() {
        let mut s = supervisor(true);
        s.start();
        assert_eq!(
            actions(&mut s),
            vec![Action::Open("ws://127.0.0.1:1/mqtt".into())]
        );
        assert_eq!(s.status(), &connecting());
        assert_eq!(s.status().describe(0), format!("connecting to {URL}"));
        s.on_open(0, "mqtt");
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![1]);
        s.on_data(1, &CONNACK_OK);
        assert_eq!(s.status(), &connected(false));
        assert_eq!(s.status().describe(0), format!("connected to {URL}"));
    }

    #[test]
    fn while_messages_keep_arriving_a_ping_every_two_seconds_measures_the_lag() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        notices(&mut s);
        let publish = [0x30, 0x04, 0x00, 0x01, b't', b'x'];
        s.on_data(1_000, &publish);
        assert_eq!(sent_packet_types(&actions(&mut s)), Vec::<u8>::new());
        s.on_data(2_500, &publish);
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![12]); // PINGREQ
        assert_eq!(s.waiting_for_broker_ms(3_000), Some(500));
        // No second probe while the first waits.
        s.on_data(5_000, &publish);
        assert_eq!(sent_packet_types(&actions(&mut s)), Vec::<u8>::new());
        s.on_data(5_700, &[0xD0, 0x00]); // PINGRESP, behind the queued messages
        assert!(notices(&mut s).contains(&Notice::Session(Event::Pong {
            round_trip_ms: 3_200
        })));
        // Messages came meanwhile and 2 s have passed: the next probe goes at once.
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![12]);
        assert_eq!(s.waiting_for_broker_ms(5_800), Some(100));
        s.on_data(5_750, &[0xD0, 0x00]);
        assert_eq!(s.waiting_for_broker_ms(5_800), None);
        // With no message since, nothing more is probed.
        s.on_data(9_000, &[0xD0, 0x00]);
        assert_eq!(sent_packet_types(&actions(&mut s)), Vec::<u8>::new());
        s.on_data(9_100, &publish);
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![12]);
    }

    #[test]
    fn refused_credentials_are_reported_and_never_retried() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_BAD_CREDENTIALS);
        s.on_closed(2, 1000, "");
        match s.status() {
            Status::Disconnected { reason: Some(r) } => {
                assert!(r.contains("bad username or password"), "{r}")
            }
            other => panic!("expected disconnected, got {other:?}"),
        }
        assert_eq!(s.next_deadline(), None);
        s.on_timer(1_000_000);
        assert!(!actions(&mut s).contains(&Action::Open("ws://127.0.0.1:1/mqtt".into())));
    }

    #[test]
    fn a_lost_connection_reconnects_after_a_growing_delay() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        let mut now = 10;
        let mut delays = Vec::new();
        for _ in 0..4 {
            s.on_closed(now, 1006, "");
            let Status::Reconnecting { at_ms, reason, .. } = s.status().clone() else {
                panic!("expected reconnecting, got {:?}", s.status());
            };
            assert!(
                reason.contains("1006") || reason.contains("could not reach"),
                "{reason}"
            );
            assert_eq!(s.next_deadline(), Some(at_ms));
            delays.push(at_ms - now);
            s.on_timer(at_ms - 1);
            assert!(actions(&mut s).is_empty(), "reopened before the deadline");
            s.on_timer(at_ms);
            assert_eq!(
                actions(&mut s),
                vec![Action::Open("ws://127.0.0.1:1/mqtt".into())]
            );
            now = at_ms + 5;
        }
        assert!(delays.windows(2).all(|w| w[1] > w[0]), "{delays:?}");
        assert!(delays[0] >= 500 && delays[0] <= 1_000, "{delays:?}");
    }

    #[test]
    fn reconnect_now_opens_at_once_and_keeps_the_backoff_growing() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        s.reconnect_now();
        assert!(actions(&mut s).is_empty(), "connected: nothing to do");
        s.on_closed(10, 1006, "");
        let (_, first, _) = reconnecting(&s, 10);
        s.reconnect_now();
        assert_eq!(actions(&mut s), vec![Action::Open(URL.into())]);
        assert_eq!(s.status(), &connecting());
        s.reconnect_now();
        assert!(
            actions(&mut s).is_empty(),
            "already connecting: no second socket"
        );
        s.on_closed(20, 1006, "");
        let (_, second, _) = reconnecting(&s, 20);
        assert!(second > first, "{first} then {second}");
        s.stop(30);
        actions(&mut s);
        s.reconnect_now();
        assert!(actions(&mut s).is_empty(), "after Disconnect it stays down");
    }

    #[test]
    fn subscriptions_are_restored_after_a_reconnect_without_a_resumed_session() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        s.subscribe(2, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![8]);
        s.on_closed(3, 1006, "");
        let Status::Reconnecting { at_ms, .. } = s.status().clone() else {
            panic!("expected reconnecting");
        };
        s.on_timer(at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 1, &CONNACK_OK);
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![1, 8]);
    }

    /// Reconnects after a cut at `now` and feeds `connack`; what was sent.
    fn reconnect(s: &mut Supervisor, now: u64, connack: &[u8]) -> Vec<Action> {
        s.on_closed(now, 1006, "");
        let (at_ms, _, _) = reconnecting(s, now);
        s.on_timer(at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 1, connack);
        actions(s)
    }

    /// The SUBACK granting QoS 1 to the SUBSCRIBE among `sent`.
    fn suback_for(sent: &[Action]) -> Vec<u8> {
        let id = sent
            .iter()
            .find_map(|a| match a {
                Action::Send(b) if b.first() == Some(&0x82) => Some([b[2], b[3]]),
                _ => None,
            })
            .expect("a SUBSCRIBE was sent");
        vec![0x90, 0x03, id[0], id[1], 0x01]
    }

    #[test]
    fn a_subscribe_cut_off_before_its_suback_is_sent_again_into_a_resumed_session() {
        let mut s = supervisor(false);
        connect(&mut s, &CONNACK_OK);
        s.subscribe(2, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![8]);
        // No SUBACK before the cut: the broker may never have seen it.
        let sent = reconnect(&mut s, 3, &CONNACK_RESUMED);
        assert_eq!(sent_packet_types(&sent), vec![1, 8]);
        s.on_data(5_000, &suback_for(&sent));
        let sent = reconnect(&mut s, 6_000, &CONNACK_RESUMED);
        assert_eq!(
            sent_packet_types(&sent),
            vec![1],
            "granted: the resumed session has it"
        );
    }

    #[test]
    fn a_first_connection_into_an_old_session_subscribes_what_the_page_wants() {
        let mut s = supervisor(false);
        s.subscribe(0, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        assert_eq!(
            sent_packet_types(&connect(&mut s, &CONNACK_RESUMED)),
            vec![1, 8]
        );
    }

    #[test]
    fn subscriptions_are_not_resent_when_the_broker_resumed_the_session() {
        let mut s = supervisor(false);
        connect(&mut s, &CONNACK_OK);
        s.subscribe(2, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        let sent = actions(&mut s);
        s.on_data(3, &suback_for(&sent));
        s.on_closed(3, 1006, "");
        let Status::Reconnecting { at_ms, .. } = s.status().clone() else {
            panic!("expected reconnecting");
        };
        s.on_timer(at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 1, &CONNACK_RESUMED);
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![1]);
        assert_eq!(s.status(), &connected(true));
    }

    #[test]
    fn disconnect_sends_disconnect_closes_and_stops_reconnecting() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        s.stop(5);
        let acts = actions(&mut s);
        assert_eq!(sent_packet_types(&acts), vec![14]);
        assert_eq!(acts.last(), Some(&Action::Close));
        s.on_closed(6, 1000, "");
        s.on_timer(1_000_000);
        assert!(actions(&mut s).is_empty());
        assert_eq!(s.status(), &Status::Disconnected { reason: None });
    }

    #[test]
    fn a_server_that_picks_another_subprotocol_is_explained_and_not_retried() {
        let mut s = supervisor(true);
        s.start();
        actions(&mut s);
        s.on_open(0, "chat");
        assert_eq!(actions(&mut s), vec![Action::Close]);
        match s.status() {
            Status::Disconnected { reason: Some(r) } => {
                assert!(r.contains("mqtt subprotocol"), "{r}")
            }
            other => panic!("expected disconnected, got {other:?}"),
        }
    }

    #[test]
    fn an_unreachable_broker_is_explained_while_retrying() {
        let mut s = supervisor(true);
        s.start();
        s.on_closed(0, 1006, "");
        match s.status() {
            Status::Reconnecting { reason, .. } => {
                assert!(reason.contains("could not reach"), "{reason}")
            }
            other => panic!("expected reconnecting, got {other:?}"),
        }
        assert!(
            s.status()
                .describe(0)
                .starts_with(&format!("reconnecting to {URL} in 1 s")),
            "{}",
            s.status().describe(0)
        );
    }

    #[test]
    fn a_text_frame_closes_the_connection_with_a_reason() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        s.on_text(3);
        assert!(actions(&mut s).contains(&Action::Close));
        match s.status() {
            Status::Reconnecting { reason, .. } => {
                assert!(reason.contains("text frame"), "{reason}")
            }
            other => panic!("expected reconnecting, got {other:?}"),
        }
    }

    #[test]
    fn a_protocol_error_from_the_broker_closes_the_socket_and_reports_it() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        // PINGREQ (0xC0) is a packet a client never receives.
        s.on_data(4, &[0xC0, 0x00]);
        assert!(actions(&mut s).contains(&Action::Close));
        assert!(matches!(s.status(), Status::Reconnecting { .. }));
        let notices: Vec<Notice> = std::iter::from_fn(|| s.poll_notice()).collect();
        assert!(notices
            .iter()
            .any(|n| matches!(n, Notice::Session(Event::Closed { .. }))));
    }

    fn notices(s: &mut Supervisor) -> Vec<Notice> {
        std::iter::from_fn(|| s.poll_notice()).collect()
    }

    /// Takes the `Reconnecting` status; returns the delay from `now` and the reason.
    fn reconnecting(s: &Supervisor, now: u64) -> (u64, u64, String) {
        match s.status().clone() {
            Status::Reconnecting { at_ms, reason, .. } => (at_ms, at_ms - now, reason),
            other => panic!("expected reconnecting, got {other:?}"),
        }
    }

    /// Lets the reconnect deadline pass: nothing before it, one Open at it.
    fn wait_for_reopen(s: &mut Supervisor, at_ms: u64) {
        s.on_timer(at_ms - 1);
        assert!(actions(s).is_empty(), "reopened before the deadline");
        s.on_timer(at_ms);
        assert_eq!(actions(s), vec![Action::Open(URL.into())]);
    }

    const URL: &str = "ws://127.0.0.1:1/mqtt";

    /// Delays grow per backoff (no tight loop): each longer than the one
    /// before, the first at least half the base delay.
    fn assert_growing(delays: &[u64]) {
        assert!(delays.len() >= 4, "{delays:?}");
        assert!(delays[0] >= 500, "{delays:?}");
        assert!(delays.windows(2).all(|w| w[1] > w[0]), "{delays:?}");
    }

    #[test]
    fn every_hostile_case_closes_the_socket_shows_its_reason_and_retries_with_growing_delays() {
        let cases = mqtt_session::hostile::cases();
        assert!(cases.len() >= 50);
        for case in cases {
            let what = case.name;
            let mut s = with_options(mqtt_session::hostile::case_options());
            s.start();
            assert_eq!(actions(&mut s), vec![Action::Open(URL.into())], "{what}");
            let mut now = 0;
            let mut delays = Vec::new();
            for _ in 0..5 {
                s.on_open(now, "mqtt");
                assert_eq!(sent_packet_types(&actions(&mut s)), vec![1], "{what}");
                notices(&mut s);
                now += 3;
                s.on_data(now, &case.bytes);
                let acts = actions(&mut s);
                assert_eq!(acts.last(), Some(&Action::Close), "{what}: {acts:?}");
                let (at_ms, delay, reason) = reconnecting(&s, now);
                assert_eq!(reason, case.error.to_string(), "{what}");
                assert!(
                    notices(&mut s).contains(&Notice::Session(Event::Closed {
                        error: case.error.clone()
                    })),
                    "{what}"
                );
                delays.push(delay);
                // The socket the glue closes reports its close later: ignored.
                s.on_closed(now + 1, 1006, "");
                assert_eq!(reconnecting(&s, now).0, at_ms, "{what}");
                wait_for_reopen(&mut s, at_ms);
                now = at_ms;
            }
            assert_growing(&delays);
        }
    }

    #[test]
    fn a_chosen_client_id_closed_right_after_connack_twice_is_explained_and_not_retried() {
        let mut s = chosen_id(false);
        s.start();
        actions(&mut s);
        s.on_open(0, "mqtt");
        s.on_data(2, &CONNACK_OK);
        assert!(s.status().is_connected());
        s.on_closed(5, 1006, "");
        let (at_ms, _, reason) = reconnecting(&s, 5);
        assert!(reason.contains("right after accepting"), "{reason}");
        assert!(reason.contains("same client id"), "{reason}");
        actions(&mut s);
        wait_for_reopen(&mut s, at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 2, &CONNACK_OK);
        s.on_closed(at_ms + 5, 1006, "");
        match s.status() {
            Status::Disconnected { reason: Some(r) } => {
                assert!(r.contains("another client"), "{r}");
                assert!(r.contains("\"dash-test\""), "{r}");
                assert!(r.contains("Not reconnecting"), "{r}");
            }
            other => panic!("expected disconnected, got {other:?}"),
        }
        assert_eq!(s.next_deadline(), None);
        s.on_timer(10_000_000);
        assert!(actions(&mut s)
            .iter()
            .all(|a| !matches!(a, Action::Open(_))));
    }

    #[test]
    fn a_takeover_after_a_long_connection_reconnects_once_and_stops_when_kicked_again() {
        let mut s = chosen_id(true);
        s.start();
        actions(&mut s);
        s.on_open(0, "mqtt");
        s.on_data(1, &CONNACK_OK);
        actions(&mut s);
        // An hour later another client takes the id over: we try once more.
        let hour = 3_600_000;
        s.on_closed(hour, 1006, "");
        let (at_ms, _, reason) = reconnecting(&s, hour);
        assert!(
            reason.contains("the connection closed (code 1006)"),
            "{reason}"
        );
        wait_for_reopen(&mut s, at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 1, &CONNACK_OK);
        // The other client reconnects and takes it back ten seconds later.
        s.on_closed(at_ms + 10_000, 1006, "");
        assert!(
            matches!(s.status(), Status::Disconnected { reason: Some(r) } if r.contains("another client")),
            "{:?}",
            s.status()
        );
    }

    #[test]
    fn with_a_random_client_id_cuts_right_after_connack_keep_being_retried_with_growing_delays() {
        let mut s = supervisor(false);
        s.start();
        actions(&mut s);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..6 {
            s.on_open(now, "mqtt");
            s.on_data(now + 2, &CONNACK_OK);
            assert!(s.status().is_connected());
            s.on_closed(now + 5, 1006, "");
            let (at_ms, delay, reason) = reconnecting(&s, now + 5);
            assert!(reason.contains("right after accepting"), "{reason}");
            delays.push(delay);
            actions(&mut s);
            wait_for_reopen(&mut s, at_ms);
            now = at_ms;
        }
        assert_growing(&delays);
    }

    fn last_subscriptions(s: &mut Supervisor) -> Option<Vec<SubscriptionState>> {
        notices(s)
            .into_iter()
            .filter_map(|n| match n {
                Notice::Subscriptions(list) => Some(list),
                _ => None,
            })
            .last()
    }

    fn grants(list: &[SubscriptionState]) -> Vec<(&str, u8, Grant)> {
        list.iter()
            .map(|x| (x.filter.as_str(), x.qos, x.grant))
            .collect()
    }

    #[test]
    fn grants_follow_the_connection_and_a_downgrade_reads_as_granted_lower() {
        let mut s = supervisor(true);
        s.subscribe(0, "a/#".into(), QoS::ExactlyOnce)
            .expect("valid filter");
        let list = last_subscriptions(&mut s).expect("announced");
        assert_eq!(grants(&list), vec![("a/#", 2, Grant::NotConnected)]);
        let sent = connect(&mut s, &CONNACK_OK);
        assert_eq!(
            grants(&last_subscriptions(&mut s).expect("announced")),
            vec![("a/#", 2, Grant::Pending)]
        );
        // SUBACK grants QoS 1 to the QoS 2 request.
        s.on_data(2, &suback_for(&sent));
        assert_eq!(
            grants(&last_subscriptions(&mut s).expect("announced")),
            vec![("a/#", 2, Grant::Granted(1))]
        );
        s.stop(3);
        assert_eq!(
            grants(&last_subscriptions(&mut s).expect("announced")),
            vec![("a/#", 2, Grant::NotConnected)],
            "after a disconnect nothing reads as granted"
        );
    }

    #[test]
    fn a_cut_shows_every_filter_as_not_connected_until_the_resumed_session_confirms_it() {
        let mut s = supervisor(false);
        connect(&mut s, &CONNACK_OK);
        s.subscribe(2, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        let sent = actions(&mut s);
        s.on_data(3, &suback_for(&sent));
        notices(&mut s);
        s.on_closed(4, 1006, "");
        assert_eq!(
            grants(&last_subscriptions(&mut s).expect("announced")),
            vec![("a/#", 1, Grant::NotConnected)]
        );
        let (at_ms, ..) = reconnecting(&s, 4);
        s.on_timer(at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 1, &CONNACK_RESUMED);
        assert_eq!(
            grants(&last_subscriptions(&mut s).expect("announced")),
            vec![("a/#", 1, Grant::Granted(1))]
        );
    }

    #[test]
    fn connecting_to_another_broker_leaves_the_current_one_and_takes_the_subscriptions_along() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        s.subscribe(2, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        actions(&mut s);
        let other = Target {
            url: "ws://127.0.0.1:2/other".into(),
            options: Options {
                client_id: "dash-other".into(),
                ..Options::default()
            },
            client_id_chosen: false,
        };
        s.connect(5, other).expect("valid target");
        let acts = actions(&mut s);
        assert_eq!(
            sent_packet_types(&acts),
            vec![14],
            "DISCONNECT to the old broker"
        );
        assert_eq!(
            acts.iter()
                .filter(|a| !matches!(a, Action::Send(_)))
                .cloned()
                .collect::<Vec<_>>(),
            vec![Action::Close, Action::Open("ws://127.0.0.1:2/other".into())]
        );
        assert_eq!(
            s.status(),
            &Status::Connecting {
                broker: "ws://127.0.0.1:2/other".into()
            }
        );
        s.on_open(6, "mqtt");
        s.on_data(7, &CONNACK_OK);
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![1, 8]);
        assert_eq!(
            s.status().describe(7),
            "connected to ws://127.0.0.1:2/other"
        );
    }

    #[test]
    fn replacing_the_subscriptions_unsubscribes_what_goes_and_subscribes_what_is_new() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        s.subscribe(2, "a/#".into(), QoS::AtLeastOnce)
            .expect("valid filter");
        s.subscribe(2, "b".into(), QoS::AtMostOnce)
            .expect("valid filter");
        actions(&mut s);
        s.replace_subscriptions(
            3,
            vec![
                ("b".into(), QoS::AtMostOnce),
                ("c/+".into(), QoS::ExactlyOnce),
            ],
        )
        .expect("valid filters");
        assert_eq!(
            sent_packet_types(&actions(&mut s)),
            vec![10, 8],
            "{:?}",
            s.last_error
        );
        let list = s.subscriptions();
        assert_eq!(
            list.iter().map(|x| x.filter.as_str()).collect::<Vec<_>>(),
            vec!["b", "c/+"]
        );
        assert!(s
            .replace_subscriptions(
                4,
                vec![
                    ("ok".into(), QoS::AtMostOnce),
                    ("x/#/y".into(), QoS::AtMostOnce)
                ]
            )
            .is_err());
        assert_eq!(s.subscriptions(), list, "an invalid list changes nothing");
    }

    #[test]
    fn unsubscribing_an_unknown_filter_is_an_error() {
        let mut s = supervisor(true);
        assert!(s.unsubscribe(0, "nope").is_err());
    }

    #[test]
    fn only_a_connection_that_lasted_resets_the_backoff() {
        let mut s = supervisor(true);
        s.start();
        actions(&mut s);
        // Three short connections: the delay grows past 2 s.
        let mut now = 0;
        for _ in 0..3 {
            s.on_open(now, "mqtt");
            s.on_data(now + 1, &CONNACK_OK);
            s.on_closed(now + 100, 1006, "");
            let (at_ms, ..) = reconnecting(&s, now + 100);
            actions(&mut s);
            wait_for_reopen(&mut s, at_ms);
            now = at_ms;
        }
        s.on_open(now, "mqtt");
        s.on_data(now + 1, &CONNACK_OK);
        s.on_closed(now + 1 + STABLE_CONNECTION_MS - 1, 1006, "");
        let (at_ms, delay, reason) = reconnecting(&s, now + STABLE_CONNECTION_MS);
        assert!(delay >= 4_000, "{delay}");
        assert!(
            reason.contains("the connection closed (code 1006)"),
            "{reason}"
        );
        actions(&mut s);
        wait_for_reopen(&mut s, at_ms);
        // This one lasts: the next delay starts from the base again.
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 1, &CONNACK_OK);
        let end = at_ms + 1 + STABLE_CONNECTION_MS;
        s.on_closed(end, 1006, "");
        let (_, delay, _) = reconnecting(&s, end);
        assert!((500..=1_000).contains(&delay), "{delay}");
    }

    #[test]
    fn a_broker_that_never_answers_pingreq_is_dropped_with_a_reason_and_retried_with_growing_delays(
    ) {
        let options = Options {
            client_id: "dash-test".into(),
            keep_alive_secs: 2,
            ..Options::default()
        };
        let mut s = with_options(options);
        s.start();
        actions(&mut s);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..5 {
            s.on_open(now, "mqtt");
            s.on_data(now + 1, &CONNACK_OK);
            actions(&mut s);
            // Follow the deadlines: PINGREQ at keepalive, then the timeout.
            let mut closed = false;
            for _ in 0..10 {
                let Some(t) = s.next_deadline() else { break };
                s.on_timer(t);
                let acts = actions(&mut s);
                if acts.contains(&Action::Close) {
                    closed = true;
                    now = t;
                    break;
                }
                assert_eq!(sent_packet_types(&acts), vec![12], "{acts:?}");
            }
            assert!(closed, "never gave up on the silent broker");
            let (at_ms, delay, reason) = reconnecting(&s, now);
            assert_eq!(reason, "the broker did not answer a ping within 800 ms");
            delays.push(delay);
            wait_for_reopen(&mut s, at_ms);
            now = at_ms;
        }
        assert_growing(&delays);
    }

    #[test]
    fn a_broker_that_never_sends_connack_is_dropped_with_a_reason_and_retried_with_growing_delays()
    {
        let mut s = supervisor(true);
        s.start();
        actions(&mut s);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..5 {
            s.on_open(now, "mqtt");
            actions(&mut s);
            let t = s.next_deadline().expect("a CONNACK deadline");
            assert_eq!(t, now + 10_000);
            s.on_timer(t);
            assert!(actions(&mut s).contains(&Action::Close));
            let (at_ms, delay, reason) = reconnecting(&s, t);
            assert_eq!(
                reason,
                "the broker did not answer the connection request within 10000 ms"
            );
            delays.push(delay);
            wait_for_reopen(&mut s, at_ms);
            now = at_ms;
        }
        assert_growing(&delays);
    }

    #[test]
    fn a_server_that_sends_text_frames_is_retried_with_growing_delays() {
        let mut s = supervisor(true);
        s.start();
        actions(&mut s);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..5 {
            s.on_open(now, "mqtt");
            s.on_text(now + 1);
            assert!(actions(&mut s).contains(&Action::Close));
            let (at_ms, delay, reason) = reconnecting(&s, now + 1);
            assert!(reason.contains("text frame"), "{reason}");
            delays.push(delay);
            wait_for_reopen(&mut s, at_ms);
            now = at_ms;
        }
        assert_growing(&delays);
    }

    #[test]
    fn publishing_while_disconnected_is_refused_with_a_reason() {
        let mut s = supervisor(true);
        assert_eq!(
            s.publish(0, "a", b"x".to_vec(), QoS::AtMostOnce, false),
            Err("not connected".into())
        );
    }

    /// A PUBACK for packet id `pkid`.
    fn puback(pkid: u8) -> [u8; 4] {
        [0x40, 0x02, 0x00, pkid]
    }

    /// Connected, then the connection is lost: reconnecting, with the
    /// time of the next attempt.
    fn lost(s: &mut Supervisor) -> u64 {
        connect(s, &CONNACK_OK);
        s.on_closed(10, 1006, "");
        actions(s);
        notices(s);
        match s.status() {
            Status::Reconnecting { at_ms, .. } => *at_ms,
            other => panic!("not reconnecting: {other:?}"),
        }
    }

    fn queue(s: &mut Supervisor, topic: &str, qos: QoS) -> Result<Sent, String> {
        s.publish_or_queue(
            11,
            topic,
            topic.as_bytes().to_vec(),
            qos,
            false,
            PublishProperties::default(),
        )
    }

    #[test]
    fn qos_1_and_2_publishes_made_while_reconnecting_wait_and_go_out_in_order_after_connack() {
        let mut s = supervisor(true);
        let at = lost(&mut s);
        assert_eq!(queue(&mut s, "q/1", QoS::AtLeastOnce), Ok(Sent::Queued(1)));
        assert_eq!(queue(&mut s, "q/2", QoS::ExactlyOnce), Ok(Sent::Queued(2)));
        assert_eq!(queue(&mut s, "q/3", QoS::AtLeastOnce), Ok(Sent::Queued(3)));
        let e = queue(&mut s, "q/0", QoS::AtMostOnce).unwrap_err();
        assert!(e.contains("a QoS 0 message is not queued"), "{e}");
        assert!(s.cancel_queued(2));
        assert!(!s.cancel_queued(2));
        assert_eq!(s.queued().iter().map(|q| q.id).collect::<Vec<_>>(), [1, 3]);
        assert!(
            actions(&mut s).is_empty(),
            "nothing goes out while reconnecting"
        );
        assert_eq!(s.outbox_report().describe(), None);

        s.on_timer(at);
        s.on_open(at, "mqtt");
        s.on_data(at + 1, &CONNACK_OK);
        let sent = actions(&mut s);
        assert_eq!(sent_packet_types(&sent), [1, 3, 3]);
        let bytes: Vec<u8> = sent
            .iter()
            .flat_map(|a| match a {
                Action::Send(b) => b.clone(),
                _ => Vec::new(),
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let (one, three) = (text.find("q/1").unwrap(), text.rfind("q/3").unwrap());
        assert!(one < three, "in order");
        assert!(!text.contains("q/2"), "the cancelled one never goes");
        assert!(s.queued().is_empty());
        s.on_data(at + 2, &puback(1));
        assert_eq!(
            s.outbox_report().describe().as_deref(),
            Some("Sent 2 queued publishes when the connection came back: 1 acknowledged, 0 failed")
        );
        s.on_data(at + 3, &puback(2));
        assert_eq!(s.outbox_report().acknowledged, 2);
        // Connected, a publish goes at once.
        assert!(matches!(
            queue(&mut s, "q/4", QoS::AtMostOnce),
            Ok(Sent::Now(_))
        ));
    }

    #[test]
    fn publishing_while_disconnected_is_refused_and_the_outbox_is_bounded() {
        let mut s = supervisor(true);
        assert_eq!(
            queue(&mut s, "a", QoS::AtLeastOnce),
            Err("not connected: connect first".into())
        );
        lost(&mut s);
        for i in 0..OUTBOX_MAX {
            assert_eq!(
                queue(&mut s, "a", QoS::AtLeastOnce),
                Ok(Sent::Queued(i as u64 + 1))
            );
        }
        let e = queue(&mut s, "a", QoS::AtLeastOnce).unwrap_err();
        assert!(e.contains("is full (100)"), "{e}");
        assert!(s.cancel_queued(50));
        assert_eq!(queue(&mut s, "a", QoS::AtLeastOnce), Ok(Sent::Queued(101)));
        // Disconnect keeps them (they go at the next connection) but
        // refuses new ones.
        s.stop(20);
        assert_eq!(s.queued().len(), OUTBOX_MAX);
        assert_eq!(
            queue(&mut s, "a", QoS::ExactlyOnce),
            Err("not connected: connect first".into())
        );
    }

    #[test]
    fn watched_publishes_report_each_outcome_once() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        let a = s
            .publish(2, "w/a", b"1".to_vec(), QoS::AtLeastOnce, false)
            .unwrap();
        let b = s
            .publish(2, "w/b", b"2".to_vec(), QoS::AtLeastOnce, false)
            .unwrap();
        let unwatched = s
            .publish(2, "w/c", b"3".to_vec(), QoS::AtLeastOnce, false)
            .unwrap();
        s.watch(a);
        s.watch(b);
        assert!(s.take_outcomes().is_empty());
        s.on_data(3, &puback(1));
        s.on_data(3, &puback(3));
        assert_eq!(s.take_outcomes(), [(a.0, true)]);
        assert!(s.take_outcomes().is_empty());
        // Clean session: what is in flight fails with the connection.
        s.on_closed(4, 1006, "");
        assert_eq!(s.take_outcomes(), [(b.0, false)]);
        let _ = unwatched;
    }

    #[test]
    fn an_invalid_filter_is_refused_before_anything_is_sent() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        assert!(s.subscribe(2, "a/#/b".into(), QoS::AtMostOnce).is_err());
        assert!(actions(&mut s).is_empty());
        assert!(s.subscriptions().is_empty());
    }

    // ----- MQTT 5 -------------------------------------------------------

    /// CONNACK accepted, no properties (MQTT 5: flags, code, property length).
    const CONNACK_V5_OK: [u8; 5] = [0x20, 0x03, 0x00, 0x00, 0x00];
    /// CONNACK accepted with what mosquitto 2.0 sends: receive maximum 20,
    /// topic alias maximum 10.
    const CONNACK_V5_MOSQUITTO: [u8; 11] = [
        0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x14, 0x22, 0x00, 0x0a,
    ];

    fn connack_v5_refused(code: u8) -> [u8; 5] {
        [0x20, 0x03, 0x00, code, 0x00]
    }

    /// CONNACK accepted with one byte property `id` = `value` (e.g. 0x28
    /// wildcard subscription available, 0x29 subscription identifiers).
    fn connack_v5_with(id: u8, value: u8) -> [u8; 7] {
        [0x20, 0x05, 0x00, 0x00, 0x02, id, value]
    }

    /// The broker's DISCONNECT with this reason code.
    fn server_disconnect(code: u8) -> [u8; 4] {
        [0xE0, 0x02, code, 0x00]
    }

    fn v5_options() -> Options {
        Options {
            client_id: "dash-test".into(),
            protocol: ProtocolVersion::V5,
            ..Options::default()
        }
    }

    fn v5_supervisor() -> Supervisor {
        with_options(v5_options())
    }

    fn varint(bytes: &[u8]) -> (u32, usize) {
        let (mut value, mut shift) = (0u32, 0);
        for (i, &b) in bytes.iter().enumerate().take(4) {
            value |= u32::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return (value, i + 1);
            }
        }
        panic!("bad variable byte integer {bytes:?}");
    }

    /// Every packet sent, as (first byte, body).
    fn sent_packets(actions: &[Action]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        for a in actions {
            let Action::Send(bytes) = a else { continue };
            let mut rest = &bytes[..];
            while let Some(&first) = rest.first() {
                let (len, n) = varint(&rest[1..]);
                let body = rest[1 + n..1 + n + len as usize].to_vec();
                out.push((first, body));
                rest = &rest[1 + n + len as usize..];
            }
        }
        out
    }

    /// The MQTT 5 SUBSCRIBEs sent: packet id, subscription identifier, and
    /// each filter with its options byte.
    /// Packet id, subscription identifier, filters with their options byte.
    type SentSubscribe = (u16, Option<u32>, Vec<(String, u8)>);

    fn v5_subscribes(actions: &[Action]) -> Vec<SentSubscribe> {
        sent_packets(actions)
            .into_iter()
            .filter(|(first, _)| *first == 0x82)
            .map(|(_, body)| {
                let pkid = u16::from_be_bytes([body[0], body[1]]);
                let (plen, n) = varint(&body[2..]);
                let props = &body[2 + n..2 + n + plen as usize];
                let id = match props.first() {
                    Some(0x0B) => Some(varint(&props[1..]).0),
                    None => None,
                    other => panic!("unexpected SUBSCRIBE property {other:?}"),
                };
                let mut rest = &body[2 + n + plen as usize..];
                let mut filters = Vec::new();
                while !rest.is_empty() {
                    let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                    let f = String::from_utf8(rest[2..2 + len].to_vec()).expect("UTF-8");
                    filters.push((f, rest[2 + len]));
                    rest = &rest[3 + len..];
                }
                (pkid, id, filters)
            })
            .collect()
    }

    /// A v5 SUBACK for `pkid` with these reason codes and, if given, a
    /// reason string.
    fn suback_v5(pkid: u16, codes: &[u8], reason: Option<&str>) -> Vec<u8> {
        let mut props = Vec::new();
        if let Some(r) = reason {
            props.push(0x1F);
            props.extend_from_slice(&(r.len() as u16).to_be_bytes());
            props.extend_from_slice(r.as_bytes());
        }
        let mut body = pkid.to_be_bytes().to_vec();
        body.push(props.len() as u8);
        body.extend(props);
        body.extend_from_slice(codes);
        let mut p = vec![0x90, body.len() as u8];
        p.extend(body);
        p
    }

    fn details(s: &Supervisor, filter: &str) -> SubscriptionDetail {
        s.subscription_details()
            .into_iter()
            .find(|d| d.filter == filter)
            .expect("a subscription")
    }

    fn stopped_reason(s: &Supervisor) -> String {
        match s.status() {
            Status::Disconnected { reason: Some(r) } => r.clone(),
            other => panic!("expected disconnected with a reason, got {other:?}"),
        }
    }

    fn never_reopens(s: &mut Supervisor) {
        assert_eq!(s.next_deadline(), None);
        s.on_timer(100_000_000);
        assert!(actions(s).iter().all(|a| !matches!(a, Action::Open(_))));
    }

    #[test]
    fn the_retry_table_lists_each_code_once_stops_on_permanent_codes_and_retries_transient_ones() {
        let mut codes: Vec<u8> = V5_RETRY.iter().map(|(c, ..)| *c).collect();
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n, "a code listed twice");
        for (code, _, _) in V5_RETRY {
            assert_ne!(
                mqtt_session::reason_code_sentence(code),
                "unknown reason code",
                "{code:#04x} is not an MQTT 5 reason code"
            );
        }
        for code in [
            0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C, 0x90, 0x95, 0x9A, 0x9B,
            0x9C, 0x9D,
        ] {
            assert_eq!(v5_retry(code, false), Retry::Stop, "CONNACK {code:#04x}");
        }
        for code in [0x88, 0x89, 0x97, 0x9F] {
            assert_eq!(v5_retry(code, false), Retry::Backoff, "CONNACK {code:#04x}");
        }
        for code in [
            0x81, 0x82, 0x87, 0x8A, 0x8E, 0x95, 0x98, 0x9A, 0x9B, 0x9C, 0x9D,
        ] {
            assert_eq!(v5_retry(code, true), Retry::Stop, "DISCONNECT {code:#04x}");
        }
        for code in [0x00, 0x80, 0x88, 0x89, 0x8B, 0x8D, 0x97, 0x9F, 0xA0] {
            assert_eq!(
                v5_retry(code, true),
                Retry::Backoff,
                "DISCONNECT {code:#04x}"
            );
        }
        // A code this page does not know: a newer broker; retried politely.
        assert_eq!(v5_retry(0xC0, false), Retry::Backoff);
        assert_eq!(v5_retry(0xC0, true), Retry::Backoff);
    }

    #[test]
    fn mqtt5_what_the_broker_granted_comes_before_connected_and_is_readable_while_connected() {
        let mut s = v5_supervisor();
        let sent = connect(&mut s, &CONNACK_V5_MOSQUITTO);
        assert_eq!(sent_packet_types(&sent), vec![1]);
        let all = notices(&mut s);
        let granted_at = all
            .iter()
            .position(|n| matches!(n, Notice::Session(Event::Granted(_))))
            .expect("Granted announced");
        let connected_at = all
            .iter()
            .position(|n| matches!(n, Notice::Status(Status::Connected { .. })))
            .expect("Connected announced");
        assert!(granted_at < connected_at, "{all:?}");
        let g = s.granted().expect("granted while connected").clone();
        assert_eq!((g.receive_maximum, g.topic_alias_maximum), (20, 10));
        assert_eq!(granted_after(&all), Some(Some(g)));
        s.on_closed(5, 1006, "");
        assert_eq!(s.granted(), None);
        assert_eq!(granted_after(&notices(&mut s)), Some(None));
    }

    #[test]
    fn with_mqtt_3_1_1_nothing_is_granted_and_nothing_announces_it() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        assert_eq!(s.granted(), None);
        assert!(!notices(&mut s)
            .iter()
            .any(|n| matches!(n, Notice::Session(Event::Granted(_)))));
    }

    #[test]
    fn a_session_taken_over_by_another_client_stops_and_says_another_client_uses_the_id() {
        // Even with this tab's random id: the broker says so outright.
        let mut s = v5_supervisor();
        connect(&mut s, &CONNACK_V5_OK);
        notices(&mut s);
        s.on_data(10, &server_disconnect(0x8E));
        assert_eq!(actions(&mut s).last(), Some(&Action::Close));
        let r = stopped_reason(&s);
        assert!(r.contains("another client"), "{r}");
        assert!(r.contains("\"dash-test\""), "{r}");
        assert!(r.contains("session taken over (0x8e)"), "{r}");
        assert!(r.contains("Not reconnecting"), "{r}");
        assert!(notices(&mut s).contains(&Notice::Session(Event::Closed {
            error: SessionError::ServerDisconnected {
                code: 0x8E,
                reason: None,
                server_reference: None,
            }
        })));
        // The socket the glue closes reports its close later: nothing changes.
        s.on_closed(11, 1000, "");
        assert_eq!(stopped_reason(&s), r);
        never_reopens(&mut s);
        // Connect takes the id back.
        s.start();
        assert_eq!(actions(&mut s), vec![Action::Open(URL.into())]);
    }

    #[test]
    fn a_server_disconnect_a_retry_cannot_fix_stops_with_its_reason_in_words() {
        // (0x8A banned is a CONNACK code only; a DISCONNECT with it is a
        // protocol error.)
        for code in [0x81, 0x82, 0x87, 0x95, 0x98, 0x9A, 0x9B, 0x9C, 0x9D] {
            let mut s = v5_supervisor();
            connect(&mut s, &CONNACK_V5_OK);
            s.on_data(10, &server_disconnect(code));
            let r = stopped_reason(&s);
            let words = mqtt_session::reason_code_sentence(code);
            assert!(
                r.starts_with("the broker ended the connection: ") && r.contains(words),
                "{code:#04x}: {r}"
            );
            never_reopens(&mut s);
        }
    }

    #[test]
    fn a_server_disconnect_that_names_another_server_says_which() {
        let mut s = v5_supervisor();
        connect(&mut s, &CONNACK_V5_OK);
        let other = b"ws://other:8083/mqtt";
        let mut body = vec![0x9C, (3 + other.len()) as u8, 0x1C, 0x00, other.len() as u8];
        body.extend_from_slice(other);
        let mut packet = vec![0xE0, body.len() as u8];
        packet.extend(body);
        s.on_data(10, &packet);
        let r = stopped_reason(&s);
        assert!(r.contains("use another server (0x9c)"), "{r}");
        assert!(r.contains("ws://other:8083/mqtt"), "{r}");
    }

    #[test]
    fn a_transient_server_disconnect_is_retried_with_growing_delays() {
        for code in [0x8B, 0x89, 0x8D, 0x96, 0x97, 0x9F, 0xA0] {
            let mut s = v5_supervisor();
            s.start();
            actions(&mut s);
            let mut now = 0;
            let mut delays = Vec::new();
            for _ in 0..5 {
                s.on_open(now, "mqtt");
                s.on_data(now + 1, &CONNACK_V5_OK);
                s.on_data(now + 2, &server_disconnect(code));
                assert_eq!(actions(&mut s).last(), Some(&Action::Close), "{code:#04x}");
                let (at_ms, delay, reason) = reconnecting(&s, now + 2);
                assert!(
                    reason.contains(mqtt_session::reason_code_sentence(code)),
                    "{code:#04x}: {reason}"
                );
                delays.push(delay);
                wait_for_reopen(&mut s, at_ms);
                now = at_ms;
            }
            assert_growing(&delays);
        }
    }

    #[test]
    fn mqtt5_connack_refusals_stop_or_retry_as_the_table_says() {
        for code in [
            0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C, 0x90, 0x95, 0x9A, 0x9B,
            0x9C, 0x9D,
        ] {
            let mut s = v5_supervisor();
            connect(&mut s, &connack_v5_refused(code));
            let r = stopped_reason(&s);
            assert!(
                r.starts_with("the broker refused the connection: ")
                    && r.contains(mqtt_session::reason_code_sentence(code)),
                "{code:#04x}: {r}"
            );
            never_reopens(&mut s);
        }
        for code in [0x88, 0x89, 0x97, 0x9F] {
            let mut s = v5_supervisor();
            connect(&mut s, &connack_v5_refused(code));
            let (_, _, reason) = reconnecting(&s, 1);
            assert!(
                reason.contains(mqtt_session::reason_code_sentence(code)),
                "{code:#04x}: {reason}"
            );
        }
    }

    #[test]
    fn under_mqtt5_a_protocol_error_sends_disconnect_with_its_reason_code_before_closing() {
        let mut s = v5_supervisor();
        connect(&mut s, &CONNACK_V5_OK);
        // PINGREQ is a packet a client never receives: a protocol error.
        s.on_data(4, &[0xC0, 0x00]);
        let acts = actions(&mut s);
        assert_eq!(acts.last(), Some(&Action::Close), "{acts:?}");
        let sent = sent_packets(&acts);
        assert_eq!(sent.len(), 1, "{acts:?}");
        assert_eq!(sent[0].0, 0xE0, "DISCONNECT");
        assert_eq!(sent[0].1.first(), Some(&0x82), "protocol error");
        assert!(matches!(s.status(), Status::Reconnecting { .. }));
    }

    #[test]
    fn subscription_options_go_on_the_wire_and_different_identifiers_go_in_separate_subscribes() {
        let mut s = v5_supervisor();
        let chosen = SubOptions {
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
            identifier: Some(7),
        };
        s.subscribe_with(
            0,
            WantedSubscription {
                filter: "a/#".into(),
                qos: QoS::AtLeastOnce,
                options: chosen,
            },
        )
        .expect("valid");
        s.subscribe(0, "b".into(), QoS::AtMostOnce).expect("valid");
        s.subscribe_with(
            0,
            WantedSubscription {
                filter: "c".into(),
                qos: QoS::ExactlyOnce,
                options: SubOptions {
                    identifier: Some(7),
                    ..SubOptions::default()
                },
            },
        )
        .expect("valid");
        let sent = connect(&mut s, &CONNACK_V5_OK);
        let subs = v5_subscribes(&sent);
        let auto = details(&s, "b")
            .identifier
            .expect("an automatic identifier");
        assert_ne!(auto, 7);
        assert_eq!(
            subs.iter()
                .map(|(_, id, f)| (*id, f.clone()))
                .collect::<Vec<_>>(),
            vec![
                // QoS 1 | no local 0x04 | retain as published 0x08 | handling 2 << 4
                (
                    Some(7),
                    vec![("a/#".to_string(), 0x2D), ("c".to_string(), 0x02)]
                ),
                (Some(auto), vec![("b".to_string(), 0x00)]),
            ]
        );
        assert_eq!(details(&s, "a/#").options, chosen);
        assert_eq!(details(&s, "a/#").identifier, Some(7));
        assert_eq!(
            filters_for_identifier(&s.subscription_details(), 7),
            vec!["a/#", "c"]
        );
        assert_eq!(
            filters_for_identifier(&s.subscription_details(), auto),
            vec!["b"]
        );
        // Changing only the options sends it again.
        s.subscribe_with(
            5,
            WantedSubscription {
                filter: "b".into(),
                qos: QoS::AtMostOnce,
                options: SubOptions {
                    no_local: true,
                    ..SubOptions::default()
                },
            },
        )
        .expect("valid");
        let again = v5_subscribes(&actions(&mut s));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].1, Some(auto), "it keeps its automatic identifier");
        assert_eq!(again[0].2, vec![("b".to_string(), 0x04)]);
    }

    #[test]
    fn an_automatic_identifier_is_sent_only_when_the_broker_allows_identifiers() {
        let mut s = v5_supervisor();
        s.subscribe(0, "a".into(), QoS::AtMostOnce).expect("valid");
        let sent = connect(&mut s, &connack_v5_with(0x29, 0));
        assert_eq!(
            v5_subscribes(&sent)
                .into_iter()
                .map(|(_, id, f)| (id, f))
                .collect::<Vec<_>>(),
            vec![(None, vec![("a".to_string(), 0x00)])]
        );
        assert_eq!(details(&s, "a").identifier, None);
        // One the user chose is not: the broker refuses it, and says so.
        let e = s
            .subscribe_with(
                5,
                WantedSubscription {
                    filter: "b".into(),
                    qos: QoS::AtMostOnce,
                    options: SubOptions {
                        identifier: Some(3),
                        ..SubOptions::default()
                    },
                },
            )
            .expect_err("refused");
        assert!(e.contains("subscription identifiers"), "{e}");
        assert!(actions(&mut s).is_empty());
        assert_eq!(s.subscriptions().len(), 1, "nothing changed");
    }

    #[test]
    fn a_suback_refusal_with_a_reason_code_reads_in_words_in_the_list() {
        let mut s = v5_supervisor();
        connect(&mut s, &CONNACK_V5_OK);
        s.subscribe(2, "secret/#".into(), QoS::AtLeastOnce)
            .expect("valid");
        s.subscribe(2, "open/#".into(), QoS::AtLeastOnce)
            .expect("valid");
        let subs = v5_subscribes(&actions(&mut s));
        s.on_data(3, &suback_v5(subs[0].0, &[0x87], Some("ACL")));
        s.on_data(3, &suback_v5(subs[1].0, &[0x01], None));
        let list = last_subscriptions(&mut s).expect("announced");
        assert_eq!(
            grants(&list),
            vec![
                ("secret/#", 1, Grant::Refused),
                ("open/#", 1, Grant::Granted(1))
            ]
        );
        assert_eq!(
            details(&s, "secret/#").refusal.as_deref(),
            Some("refused: not authorized (0x87): \"ACL\"")
        );
        assert_eq!(details(&s, "open/#").refusal, None);
        // While not connected nothing reads as refused either.
        s.on_closed(4, 1006, "");
        assert_eq!(details(&s, "secret/#").refusal, None);
    }

    #[test]
    fn a_subscription_the_broker_does_not_allow_is_refused_where_the_user_acted() {
        let mut s = v5_supervisor();
        s.subscribe(0, "kept/#".into(), QoS::AtMostOnce)
            .expect("valid");
        // The broker says it has no wildcard subscriptions.
        connect(&mut s, &connack_v5_with(0x28, 0));
        // Restored without a user action: the list says why it was not sent.
        assert_eq!(
            grants(&last_subscriptions(&mut s).expect("announced")),
            vec![("kept/#", 0, Grant::Refused)]
        );
        let why = details(&s, "kept/#").refusal.expect("a reason");
        assert!(
            why.starts_with("not sent: the broker does not allow this"),
            "{why}"
        );
        assert!(why.contains("wildcard"), "{why}");
        // Typed by the user: refused with the sentence, and nothing changes.
        let e = s
            .subscribe(5, "new/+".into(), QoS::AtMostOnce)
            .expect_err("refused");
        assert!(e.contains("wildcard"), "{e}");
        assert!(actions(&mut s).is_empty());
        assert_eq!(s.subscriptions().len(), 1);
        // A plain topic is fine.
        s.subscribe(6, "plain".into(), QoS::AtMostOnce)
            .expect("allowed");
        assert_eq!(v5_subscribes(&actions(&mut s)).len(), 1);
        // No local on a shared subscription cannot be sent as asked.
        let e = s
            .subscribe_with(
                7,
                WantedSubscription {
                    filter: "$share/g/plain".into(),
                    qos: QoS::AtMostOnce,
                    options: SubOptions {
                        no_local: true,
                        ..SubOptions::default()
                    },
                },
            )
            .expect_err("refused");
        assert!(e.contains("no local"), "{e}");
    }

    #[test]
    fn an_identifier_out_of_range_is_refused_before_anything_is_sent() {
        let mut s = v5_supervisor();
        connect(&mut s, &CONNACK_V5_OK);
        for id in [0, mqtt_session::v5::MAX_SUBSCRIPTION_IDENTIFIER + 1] {
            let e = s
                .subscribe_with(
                    2,
                    WantedSubscription {
                        filter: "a".into(),
                        qos: QoS::AtMostOnce,
                        options: SubOptions {
                            identifier: Some(id),
                            ..SubOptions::default()
                        },
                    },
                )
                .expect_err("refused");
            assert!(e.contains("subscription identifier"), "{e}");
        }
        assert!(actions(&mut s).is_empty());
        assert!(s.subscriptions().is_empty());
    }

    #[test]
    fn with_mqtt_3_1_1_options_are_not_sent_and_all_filters_go_in_one_subscribe_as_before() {
        let mut s = supervisor(true);
        for (filter, qos) in [("a/#", QoS::AtLeastOnce), ("b", QoS::AtMostOnce)] {
            s.subscribe_with(
                0,
                WantedSubscription {
                    filter: filter.into(),
                    qos,
                    options: SubOptions {
                        no_local: true,
                        retain_as_published: true,
                        retain_handling: RetainHandling::DoNotSend,
                        identifier: Some(9),
                    },
                },
            )
            .expect("valid");
        }
        let sent = connect(&mut s, &CONNACK_OK);
        let subscribe: Vec<u8> = [
            &[0x82, 0x0C, 0x00, 0x01][..],
            &[0x00, 0x03, b'a', b'/', b'#', 0x01],
            &[0x00, 0x01, b'b', 0x00],
        ]
        .concat();
        assert_eq!(
            sent.iter()
                .filter_map(|a| match a {
                    Action::Send(b) if b.first() == Some(&0x82) => Some(b.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            vec![subscribe]
        );
        assert_eq!(details(&s, "a/#").identifier, None);
    }

    #[test]
    fn with_mqtt5_a_chosen_client_id_closed_right_after_connack_twice_stops_as_with_3_1_1() {
        // mosquitto 2.0 sends no DISCONNECT when another client takes the id
        // over, even with MQTT 5: the close-twice rule still applies.
        let mut s = v5_supervisor();
        if let Some(t) = s.target.as_mut() {
            t.client_id_chosen = true;
        }
        s.start();
        actions(&mut s);
        s.on_open(0, "mqtt");
        s.on_data(2, &CONNACK_V5_OK);
        s.on_closed(5, 1006, "");
        let (at_ms, ..) = reconnecting(&s, 5);
        actions(&mut s);
        wait_for_reopen(&mut s, at_ms);
        s.on_open(at_ms, "mqtt");
        s.on_data(at_ms + 2, &CONNACK_V5_OK);
        s.on_closed(at_ms + 5, 1006, "");
        assert!(stopped_reason(&s).contains("another client"));
    }

    #[test]
    fn a_profile_with_options_replaces_the_list_and_sends_only_what_changed() {
        let mut s = v5_supervisor();
        connect(&mut s, &CONNACK_V5_OK);
        s.subscribe(1, "a".into(), QoS::AtMostOnce).expect("valid");
        s.subscribe(1, "b".into(), QoS::AtMostOnce).expect("valid");
        actions(&mut s);
        let a_id = details(&s, "a").identifier;
        let profile = vec![
            WantedSubscription {
                filter: "a".into(),
                qos: QoS::AtMostOnce,
                options: SubOptions::default(),
            },
            WantedSubscription {
                filter: "b".into(),
                qos: QoS::AtMostOnce,
                options: SubOptions {
                    retain_handling: RetainHandling::SendIfNew,
                    ..SubOptions::default()
                },
            },
        ];
        s.replace_subscriptions_with(2, profile.clone())
            .expect("valid");
        let subs = v5_subscribes(&actions(&mut s));
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].2, vec![("b".to_string(), 0x10)]);
        assert_eq!(details(&s, "a").identifier, a_id);
        assert_eq!(s.wanted_subscriptions(), profile);
    }
}
