//! The connection supervisor: one MQTT session across many WebSocket connections.
//!
//! Pure and sans-IO like the session it wraps: it decides when to open and close
//! sockets, when to reconnect (exponential backoff with jitter, never after a
//! permanent refusal or a user's Disconnect), and restores subscriptions when the
//! broker did not resume the session. The browser glue (`client::browser`) only
//! carries out its [`Action`]s and feeds it transport events and the time.

use std::collections::VecDeque;

use mqtt_session::{Event, Options, PublishId, QoS, Session, SessionError, SubscribeResult};

use super::backoff::Backoff;

/// Where the connection stands, as the status line shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Not connected and not trying; `reason` says why when it was not the user.
    Disconnected { reason: Option<String> },
    /// A socket is opening or CONNECT awaits its CONNACK.
    Connecting,
    /// CONNACK accepted.
    Connected { session_present: bool },
    /// Waiting to try again at `at_ms`, after `reason`.
    Reconnecting { at_ms: u64, reason: String },
}

impl Status {
    /// The status as plain words; `now_ms` turns a reconnect deadline into seconds.
    pub fn describe(&self, now_ms: u64) -> String {
        match self {
            Status::Disconnected { reason: None } => "disconnected".into(),
            Status::Disconnected { reason: Some(r) } => format!("disconnected: {r}"),
            Status::Connecting => "connecting".into(),
            Status::Connected { .. } => "connected".into(),
            Status::Reconnecting { at_ms, reason } => {
                let secs = at_ms.saturating_sub(now_ms).div_ceil(1000);
                format!("reconnecting in {secs} s: {reason}")
            }
        }
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

/// What the page hears about: status changes and the session's own events.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The status changed.
    Status(Status),
    /// A session event (messages, publish outcomes, SUBACKs, …).
    Session(Event),
}

/// How long a connection must last before its loss resets the backoff. A
/// broker that accepts and then drops us at once (a second client with the
/// same client id, an ACL that kicks, a hostile server) must not get a
/// reconnect every second: until a connection proves stable, delays keep
/// growing.
pub const STABLE_CONNECTION_MS: u64 = 30_000;

/// A close this soon after CONNACK is explained as "right after accepting".
const RIGHT_AFTER_CONNACK_MS: u64 = 2_000;

/// Supervises one logical MQTT connection.
pub struct Supervisor {
    url: String,
    session: Session,
    status: Status,
    backoff: Backoff,
    socket_open: bool,
    /// A socket exists (opening or open) that belongs to the current attempt.
    socket_live: bool,
    /// Filters the user wants, restored after a reconnect without a resumed session.
    wanted: Vec<(String, QoS)>,
    /// Filters (with the QoS asked) the broker granted in its current session
    /// for us. A resumed session keeps exactly these: a SUBSCRIBE cut off
    /// before its SUBACK, or one the broker's old session never had (a page
    /// reloaded with clean session off), must be sent again.
    confirmed: Vec<(String, QoS)>,
    /// The last refusal or error, kept to explain a close that follows it.
    last_error: Option<String>,
    /// A refusal that retrying cannot fix (bad credentials, not authorised, …).
    permanent: bool,
    /// When the current connection's CONNACK accepted it.
    connected_at: Option<u64>,
    actions: VecDeque<Action>,
    notices: VecDeque<Notice>,
}

/// CONNACK codes that a retry cannot fix: wrong protocol version, identifier
/// rejected, bad username or password, not authorised. (3, server unavailable,
/// is worth retrying.)
fn is_permanent_refusal(code: u8) -> bool {
    matches!(code, 1 | 2 | 4 | 5)
}

impl Supervisor {
    /// Prepares a connection to `url`; nothing happens until [`Supervisor::start`].
    pub fn new(url: String, options: Options) -> Result<Self, String> {
        let session = Session::new(options).map_err(|e| e.to_string())?;
        Ok(Self {
            url,
            session,
            status: Status::Disconnected { reason: None },
            backoff: Backoff::default(),
            socket_open: false,
            socket_live: false,
            wanted: Vec::new(),
            confirmed: Vec::new(),
            last_error: None,
            permanent: false,
            connected_at: None,
            actions: VecDeque::new(),
            notices: VecDeque::new(),
        })
    }

    /// The current status.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The session, for read-only questions (in-flight count, options).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The user pressed Connect (or the page was opened with `connect=1`).
    pub fn start(&mut self) {
        self.backoff.reset();
        self.permanent = false;
        self.open_socket();
    }

    /// The user pressed Disconnect: send DISCONNECT, close, and stop reconnecting.
    pub fn stop(&mut self, now_ms: u64) {
        if self.socket_open && self.session.state() == mqtt_session::ConnectionState::Connected {
            self.session.disconnect(now_ms);
            self.flush();
        } else {
            self.session
                .connection_lost("disconnected by the user".into());
        }
        self.drain_session();
        if self.socket_live {
            self.actions.push_back(Action::Close);
        }
        self.socket_open = false;
        self.socket_live = false;
        self.connected_at = None;
        self.set_status(Status::Disconnected { reason: None });
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
            self.fail(
                now_ms,
                format!(
                    "the server at {} accepted the WebSocket but not the mqtt subprotocol \
                     (it answered {:?}); is this the broker's MQTT path?",
                    self.url, protocol
                ),
                true,
            );
            return;
        }
        self.socket_open = true;
        self.session.connect(now_ms);
        self.after_session(now_ms);
    }

    /// Bytes arrived on the socket.
    pub fn on_data(&mut self, now_ms: u64, bytes: &[u8]) {
        if !self.socket_open {
            return;
        }
        self.session.handle_bytes(now_ms, bytes);
        self.after_session(now_ms);
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
        let why = match self.last_error.take() {
            Some(e) => e,
            None if !was_open => format!(
                "could not reach the broker at {} (refused, unreachable, wrong path, \
                 or the server does not speak the mqtt subprotocol)",
                self.url
            ),
            None => {
                let how = if reason.is_empty() {
                    format!("code {code}")
                } else {
                    format!("code {code}: {reason}")
                };
                match self.connected_at {
                    Some(t) if now_ms.saturating_sub(t) < RIGHT_AFTER_CONNACK_MS => format!(
                        "the broker closed the connection right after accepting it ({how}); \
                         is another client using the same client id?"
                    ),
                    _ => format!("the connection closed ({how})"),
                }
            }
        };
        self.session.connection_lost(why.clone());
        self.drain_session();
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
            self.session.handle_timeout(now_ms);
            self.after_session(now_ms);
        }
    }

    /// The next time [`Supervisor::on_timer`] must be called.
    pub fn next_deadline(&self) -> Option<u64> {
        let reconnect = match self.status {
            Status::Reconnecting { at_ms, .. } => Some(at_ms),
            _ => None,
        };
        let session = if self.socket_open {
            self.session.poll_timeout()
        } else {
            None
        };
        match (reconnect, session) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Adds a subscription (kept for restoring after reconnects); sends it now
    /// when connected.
    pub fn subscribe(&mut self, now_ms: u64, filter: String, qos: QoS) -> Result<(), String> {
        mqtt_session::topic::validate_filter(&filter).map_err(|e| e.to_string())?;
        self.wanted.retain(|(f, _)| *f != filter);
        self.wanted.push((filter.clone(), qos));
        if self.is_connected() {
            self.session
                .subscribe(now_ms, vec![(filter, qos)])
                .map_err(|e| e.to_string())?;
            self.after_session(now_ms);
        }
        Ok(())
    }

    /// Removes a subscription; sends UNSUBSCRIBE when connected.
    pub fn unsubscribe(&mut self, now_ms: u64, filter: &str) -> Result<(), String> {
        self.wanted.retain(|(f, _)| f != filter);
        self.confirmed.retain(|(f, _)| f != filter);
        if self.is_connected() {
            self.session
                .unsubscribe(now_ms, vec![filter.to_string()])
                .map_err(|e| e.to_string())?;
            self.after_session(now_ms);
        }
        Ok(())
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
        if !self.is_connected() {
            return Err("not connected".into());
        }
        let id = self
            .session
            .publish(now_ms, topic, payload, qos, retain)
            .map_err(|e| e.to_string())?;
        self.after_session(now_ms);
        Ok(id)
    }

    /// The filters the user asked for, in order.
    pub fn wanted_subscriptions(&self) -> &[(String, QoS)] {
        &self.wanted
    }

    /// Next thing the glue must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Next thing the page should hear about.
    pub fn poll_notice(&mut self) -> Option<Notice> {
        self.notices.pop_front()
    }

    fn is_connected(&self) -> bool {
        self.socket_open && matches!(self.status, Status::Connected { .. })
    }

    fn open_socket(&mut self) {
        if self.socket_live {
            self.actions.push_back(Action::Close);
        }
        self.socket_live = true;
        self.socket_open = false;
        self.last_error = None;
        self.actions.push_back(Action::Open(self.url.clone()));
        self.set_status(Status::Connecting);
    }

    fn fail(&mut self, now_ms: u64, why: String, permanent: bool) {
        self.permanent |= permanent;
        self.session.connection_lost(why.clone());
        self.drain_session();
        self.actions.push_back(Action::Close);
        self.socket_live = false;
        self.socket_open = false;
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
        if self.permanent {
            self.set_status(Status::Disconnected { reason: Some(why) });
            return;
        }
        // The random part of the jitter comes from the clock's low bits: good
        // enough to spread a fleet of pages, and keeps this module pure.
        let random = ((now_ms.wrapping_mul(2_654_435_761)) % 1000) as f64 / 1000.0;
        let delay = self.backoff.next_delay_ms(random);
        self.set_status(Status::Reconnecting {
            at_ms: now_ms + delay,
            reason: why,
        });
    }

    fn after_session(&mut self, now_ms: u64) {
        self.flush();
        while let Some(event) = self.session.poll_event() {
            match &event {
                Event::Connected { session_present } => {
                    self.connected_at = Some(now_ms);
                    self.set_status(Status::Connected {
                        session_present: *session_present,
                    });
                    if !*session_present {
                        self.confirmed.clear();
                    }
                    let missing: Vec<(String, QoS)> = self
                        .wanted
                        .iter()
                        .filter(|w| !self.confirmed.contains(w))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        if let Err(e) = self.session.subscribe(now_ms, missing) {
                            self.last_error = Some(e.to_string());
                        }
                    }
                }
                Event::Subscribed { results, .. } => {
                    for (filter, result) in results {
                        self.confirmed.retain(|(f, _)| f != filter);
                        let asked = self.wanted.iter().find(|(f, _)| f == filter);
                        if let (SubscribeResult::Granted(_), Some(w)) = (result, asked) {
                            self.confirmed.push(w.clone());
                        }
                    }
                }
                Event::ConnectionRefused { code, reason } => {
                    self.permanent |= is_permanent_refusal(*code);
                    self.last_error = Some(format!("the broker refused the connection: {reason}"));
                }
                Event::Closed { error } => {
                    let why = self
                        .last_error
                        .take()
                        .unwrap_or_else(|| describe_close(error));
                    self.notices.push_back(Notice::Session(event.clone()));
                    self.fail(now_ms, why, false);
                    return;
                }
                _ => {}
            }
            self.notices.push_back(Notice::Session(event));
        }
        self.flush();
    }

    fn drain_session(&mut self) {
        // Bytes queued for a socket that is gone are dropped: the session keeps
        // what must be resent (in-flight publishes) for the next connection.
        while self.session.poll_transmit().is_some() {}
        while let Some(event) = self.session.poll_event() {
            self.notices.push_back(Notice::Session(event));
        }
    }

    fn flush(&mut self) {
        if !self.socket_open {
            return;
        }
        while let Some(bytes) = self.session.poll_transmit() {
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
        Supervisor::new("ws://127.0.0.1:1/mqtt".into(), options).expect("valid options")
    }

    fn actions(s: &mut Supervisor) -> Vec<Action> {
        std::iter::from_fn(|| s.poll_action()).collect()
    }

    fn sent_packet_types(actions: &[Action]) -> Vec<u8> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(b) => b.first().map(|t| t >> 4),
                _ => None,
            })
            .collect()
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
        assert_eq!(s.status(), &Status::Connecting);
        s.on_open(0, "mqtt");
        assert_eq!(sent_packet_types(&actions(&mut s)), vec![1]);
        s.on_data(1, &CONNACK_OK);
        assert_eq!(
            s.status(),
            &Status::Connected {
                session_present: false
            }
        );
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
            let Status::Reconnecting { at_ms, reason } = s.status().clone() else {
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
        assert_eq!(s.status(), &Status::Connecting);
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
        assert_eq!(
            s.status(),
            &Status::Connected {
                session_present: true
            }
        );
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
            s.status().describe(0).starts_with("reconnecting in 1 s"),
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
            Status::Reconnecting { at_ms, reason } => (at_ms, at_ms - now, reason),
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
            let mut s = Supervisor::new(URL.into(), mqtt_session::hostile::case_options())
                .expect("valid options");
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
    fn a_broker_that_closes_right_after_connack_is_explained_and_retried_with_growing_delays() {
        let mut s = supervisor(false);
        s.start();
        actions(&mut s);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..6 {
            s.on_open(now, "mqtt");
            s.on_data(now + 2, &CONNACK_OK);
            assert!(matches!(s.status(), Status::Connected { .. }));
            s.on_closed(now + 5, 1000, "");
            let (at_ms, delay, reason) = reconnecting(&s, now + 5);
            assert!(reason.contains("right after accepting"), "{reason}");
            assert!(reason.contains("same client id"), "{reason}");
            delays.push(delay);
            actions(&mut s);
            wait_for_reopen(&mut s, at_ms);
            now = at_ms;
        }
        assert_growing(&delays);
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
        let mut s = Supervisor::new(URL.into(), options).expect("valid options");
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

    #[test]
    fn an_invalid_filter_is_refused_before_anything_is_sent() {
        let mut s = supervisor(true);
        connect(&mut s, &CONNACK_OK);
        assert!(s.subscribe(2, "a/#/b".into(), QoS::AtMostOnce).is_err());
        assert!(actions(&mut s).is_empty());
        assert!(s.wanted_subscriptions().is_empty());
    }
}
