//! The MQTT client state machine: CONNECT/CONNACK, publish flows at QoS 0, 1
//! and 2 in both directions, SUBSCRIBE/UNSUBSCRIBE, keepalive, session resume;
//! with MQTT 5 also what the broker granted in CONNACK (and honouring it),
//! topic aliases both ways, reason codes, and DISCONNECT both ways.
//!
//! Sans-IO in the style of quinn-proto's `Connection`: methods change state
//! and queue output; the caller feeds bytes (`handle_bytes`) and time
//! (`handle_timeout`, `now_ms` arguments) in, and polls bytes
//! (`poll_transmit`), events (`poll_event`) and the next deadline
//! (`poll_timeout`) out. This module must not do IO, read a clock, log, or
//! touch packet bytes itself: every packet goes through `codec`. Input from
//! the broker can never make it panic; it ends the connection with a typed
//! `Event::Closed` instead.

use std::collections::VecDeque;
use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::codec::{self, Ack, Decoder, Incoming, Outgoing, Skipped};
use crate::error::{connack_code_sentence, ConfigError, ProtocolError, SessionError};
use crate::event::{Event, Message, PublishId, SubscribeResult};
use crate::options::{validate_publish_properties, Options, ProtocolVersion, QoS};
use crate::packet_id::{IdSet, PacketIds};
use crate::topic;
use crate::v5::{
    describe_reason, Granted, PublishProperties, Subscription, MAX_SUBSCRIPTION_IDENTIFIER,
};

mod map;
use map::SortedMap;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// No connection: never connected, `disconnect` was called, or the
    /// transport reported `connection_lost`.
    Disconnected,
    /// `connect` queued CONNECT; waiting for CONNACK.
    Connecting,
    /// CONNACK accepted the connection.
    Connected,
    /// The session gave up on the connection (protocol error, timeout,
    /// refusal) and emitted `Event::Closed`: the caller must close the
    /// transport, then call `connection_lost` or `connect` on a new one.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// QoS 1, PUBLISH sent.
    Qos1Sent,
    /// QoS 2, PUBLISH sent.
    Qos2Sent,
    /// QoS 2, PUBREL sent.
    Released,
}

/// A publish accepted while the in-flight window was full.
#[derive(Debug, Clone)]
struct Waiting {
    id: PublishId,
    topic: String,
    payload: Bytes,
    qos: QoS,
    retain: bool,
    properties: Option<Box<PublishProperties>>,
}

#[derive(Debug, Clone)]
struct OutPublish {
    id: PublishId,
    pkid: u16,
    topic: String,
    payload: Bytes,
    qos: QoS,
    retain: bool,
    properties: Option<Box<PublishProperties>>,
    stage: Stage,
    sent_at_ms: u64,
}

/// MQTT 5 topic aliases of one connection, both ways.
#[derive(Debug, Default)]
struct Aliases {
    /// Ours: topic → alias, assigned first come up to the broker's maximum.
    outgoing: SortedMap<String, u16>,
    /// The broker's: alias → topic.
    incoming: SortedMap<u16, String>,
}

/// A sans-IO MQTT 3.1 / 3.1.1 client session. See the crate docs for the
/// calling pattern.
pub struct Session {
    options: Options,
    state: ConnectionState,
    wants_close: bool,
    decoder: Decoder,
    tx: BytesMut,
    events: VecDeque<Event>,
    ids: PacketIds,
    next_publish_id: u64,
    /// Order key for `outgoing`: resend order on session resume.
    next_seq: u64,
    outgoing: SortedMap<u64, OutPublish>,
    outgoing_by_pkid: SortedMap<u16, u64>,
    waiting: VecDeque<Waiting>,
    pending_subscribes: SortedMap<u16, Vec<Subscription>>,
    pending_unsubscribes: SortedMap<u16, Vec<String>>,
    /// Packet ids of QoS 2 messages delivered and waiting for PUBREL.
    incoming_qos2: IdSet,
    connack_deadline: Option<u64>,
    ping_deadline: Option<u64>,
    /// When the outstanding keepalive PINGREQ was written.
    ping_sent_ms: u64,
    /// When each PINGREQ awaiting its PINGRESP was written, oldest first
    /// (keepalive pings and [`Session::probe_ping`]s; a broker answers in
    /// order).
    pings: VecDeque<u64>,
    last_sent_ms: u64,
    /// When the last whole packet arrived (or the connection started).
    last_received_ms: u64,
    /// MQTT 5: what the broker granted in the CONNACK of this connection.
    granted: Option<Granted>,
    /// MQTT 5: topic aliases of this connection.
    aliases: Aliases,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state)
            .field("client_id", &self.options.client_id)
            .field("in_flight", &self.outgoing.len())
            .field("queued", &self.waiting.len())
            .finish_non_exhaustive()
    }
}

const DROPPED_NOT_RESUMED: &str = "the broker did not resume the session";
const DROPPED_CLEAN: &str = "the connection ended before the broker acknowledged it";

impl Session {
    /// Makes a disconnected session after checking the options.
    pub fn new(options: Options) -> Result<Session, ConfigError> {
        options.validate()?;
        Ok(Session {
            decoder: Decoder::new(options.max_incoming_packet_size, options.protocol),
            options,
            state: ConnectionState::Disconnected,
            wants_close: false,
            tx: BytesMut::new(),
            events: VecDeque::new(),
            ids: PacketIds::new(),
            next_publish_id: 1,
            next_seq: 0,
            outgoing: SortedMap::default(),
            outgoing_by_pkid: SortedMap::default(),
            waiting: VecDeque::new(),
            pending_subscribes: SortedMap::default(),
            pending_unsubscribes: SortedMap::default(),
            incoming_qos2: IdSet::new(),
            connack_deadline: None,
            ping_deadline: None,
            ping_sent_ms: 0,
            pings: VecDeque::new(),
            last_sent_ms: 0,
            last_received_ms: 0,
            granted: None,
            aliases: Aliases::default(),
        })
    }

    /// The options in use.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// How long a PINGREQ waits for its PINGRESP, in ms, counted from when
    /// it was due: the response timeout, capped at 40 % of the keepalive
    /// interval (when keepalive is on) so that a dead link is noticed within
    /// 1.4 × keepalive, leaving 0.1 × keepalive for late timers before the
    /// 1.5 × keepalive promise is broken.
    #[must_use]
    pub fn ping_wait_ms(&self) -> u64 {
        let cap = u64::from(self.keep_alive_secs()) * 400;
        if cap == 0 {
            self.options.response_timeout_ms
        } else {
            self.options.response_timeout_ms.min(cap)
        }
    }

    /// Bytes received and not yet decoded: at most one partial packet, so
    /// never more than `max_incoming_packet_size`, or than the head (fixed
    /// header, topic, packet id: at most [`crate::MAX_OVERSIZED_HEAD_LEN`]
    /// bytes) of a PUBLISH over that limit, whichever is larger. The payload
    /// of a PUBLISH over the limit is discarded as it arrives and never
    /// counts here, whatever its size; any other packet over the limit is
    /// refused from its fixed header.
    #[must_use]
    pub fn buffered_bytes(&self) -> usize {
        self.decoder.buffered()
    }

    /// Replaces the options; only while `Disconnected` or `Closed`, so they
    /// apply from the next connection (`max_incoming_packet_size` included).
    /// A new client id or protocol starts a new session: in-flight publishes
    /// are dropped and reported.
    pub fn set_options(&mut self, options: Options) -> Result<(), ConfigError> {
        if matches!(
            self.state,
            ConnectionState::Connecting | ConnectionState::Connected
        ) {
            return Err(ConfigError::NotDisconnected);
        }
        options.validate()?;
        let new_session = options.client_id != self.options.client_id
            || options.protocol != self.options.protocol;
        self.decoder
            .set_max_packet_size(options.max_incoming_packet_size);
        self.decoder.set_protocol(options.protocol);
        self.options = options;
        if new_session {
            self.drop_in_flight("the client id or protocol changed", true);
            self.incoming_qos2.clear();
        }
        Ok(())
    }

    /// Where the connection stands.
    #[must_use]
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// MQTT 5: what the broker granted in the CONNACK of the live connection
    /// (`None` before it, and always with 3.1 and 3.1.1).
    #[must_use]
    pub fn granted(&self) -> Option<&Granted> {
        self.granted.as_ref()
    }

    /// The keepalive in force: the broker's Server Keep Alive if it sent
    /// one (MQTT 5), else ours.
    #[must_use]
    pub fn keep_alive_secs(&self) -> u16 {
        self.granted
            .as_ref()
            .and_then(|g| g.server_keep_alive)
            .unwrap_or(self.options.keep_alive_secs)
    }

    /// True when the session wants the transport closed: after it gave up on
    /// the connection (`Event::Closed`) or after `disconnect` (flush
    /// `poll_transmit` first so DISCONNECT goes out).
    #[must_use]
    pub fn wants_close(&self) -> bool {
        self.wants_close
    }

    /// Outgoing QoS 1 and 2 publishes written and not yet completely
    /// acknowledged (at most `max_in_flight` unless 0; see also `queued`).
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.outgoing.len()
    }

    /// The transport just opened: queue CONNECT and start the CONNACK timer.
    /// Calling it while a connection is up starts over on a new one.
    pub fn connect(&mut self, now_ms: u64) {
        if matches!(
            self.state,
            ConnectionState::Connecting | ConnectionState::Connected
        ) {
            self.end_connection();
        }
        self.decoder.clear();
        self.tx.clear();
        self.wants_close = false;
        self.ping_deadline = None;
        self.pings.clear();
        let result = codec::encode(
            &Outgoing::Connect(&self.options),
            self.options.protocol,
            &mut self.tx,
        );
        self.state = ConnectionState::Connecting;
        self.last_sent_ms = now_ms;
        self.last_received_ms = now_ms;
        self.connack_deadline = Some(now_ms.saturating_add(self.options.response_timeout_ms));
        if let Err(e) = result {
            self.fail(e);
        }
    }

    /// Bytes received from the transport, in any chunking. Errors are not
    /// returned: they become `Event::Closed { error }` and the session stops
    /// reading (state `Closed`, `wants_close()` true). Bytes arriving when no
    /// connection is up are ignored.
    ///
    /// A PUBLISH over `max_incoming_packet_size` does not end the
    /// connection: once its topic and packet id are in, it is acknowledged
    /// as its QoS requires and reported as `Event::MessageNotKept`, and the
    /// rest of its payload is dropped as it arrives (see `buffered_bytes`).
    /// While a packet is still arriving after a PINGREQ, each chunk of it
    /// moves the PINGRESP deadline to at least `ping_wait_ms` from now: the
    /// PINGRESP can only come after that packet, however long it is.
    pub fn handle_bytes(&mut self, now_ms: u64, data: &[u8]) {
        if !self.is_up() {
            return;
        }
        let mut input = data;
        while self.is_up() {
            match self.decoder.next_packet(&mut input) {
                Ok(None) => break,
                Ok(Some(packet)) => {
                    self.last_received_ms = now_ms;
                    if let Err(e) = self.handle_packet(now_ms, packet) {
                        self.fail(e);
                    }
                }
                Err(e) => self.fail(e),
            }
        }
        if self.is_up() && !data.is_empty() && self.decoder.in_packet() {
            if let Some(deadline) = self.ping_deadline {
                let wait = self.ping_wait_ms();
                self.ping_deadline = Some(deadline.max(now_ms.saturating_add(wait)));
            }
        }
    }

    /// Time passed: sends PINGREQ when due and declares the link dead when
    /// CONNACK or PINGRESP is overdue.
    ///
    /// PINGREQ goes out once nothing was sent, or nothing was received, for
    /// the keepalive interval (a client that keeps publishing into a dead
    /// link would otherwise never ping). PINGRESP is awaited until
    /// [`Session::ping_wait_ms`] after the PINGREQ was *due* (a late call
    /// does not stretch the deadline, but still leaves the broker at least
    /// half that wait). The wait is the response timeout capped at 40 % of
    /// the keepalive, so a link that stops carrying anything at time `t` is
    /// declared dead by `t + 1.4 × keepalive` when called on time: timers
    /// that fire up to 0.1 × keepalive late still meet 1.5 × keepalive.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        match self.state {
            ConnectionState::Connecting => {
                if self.connack_deadline.is_some_and(|d| now_ms >= d) {
                    self.fail(SessionError::ConnackTimeout {
                        waited_ms: self.options.response_timeout_ms,
                    });
                }
            }
            ConnectionState::Connected => {
                if let Some(deadline) = self.ping_deadline {
                    if now_ms >= deadline {
                        self.fail(SessionError::PingTimeout {
                            waited_ms: deadline.saturating_sub(self.ping_sent_ms),
                        });
                    }
                } else if let Some(due) = self.keepalive_due().filter(|d| now_ms >= *d) {
                    match self.queue(now_ms, &Outgoing::PingReq) {
                        Ok(()) => {
                            let wait = self.ping_wait_ms();
                            let on_time = due.saturating_add(wait);
                            let late = now_ms.saturating_add((wait / 2).max(1));
                            self.ping_sent_ms = now_ms;
                            self.pings.push_back(now_ms);
                            self.ping_deadline = Some(on_time.max(late));
                        }
                        Err(e) => self.fail(e),
                    }
                }
            }
            ConnectionState::Disconnected | ConnectionState::Closed => {}
        }
    }

    /// Sends a PINGREQ now to measure how far behind the broker the client
    /// is: a broker answers after everything it queued for this client
    /// before it, so the round trip ([`Event::Pong`]) is that backlog's age.
    /// Only while connected and with no ping awaiting its answer (so probes
    /// never pile up); sets no deadline of its own (a slow answer is what it
    /// measures, not a dead link, which keepalive still judges). Whether one
    /// was sent.
    pub fn probe_ping(&mut self, now_ms: u64) -> bool {
        if self.state != ConnectionState::Connected || !self.pings.is_empty() {
            return false;
        }
        match self.queue(now_ms, &Outgoing::PingReq) {
            Ok(()) => {
                self.pings.push_back(now_ms);
                true
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Since when the oldest PINGREQ has waited for its answer, if one is
    /// waiting: a lower bound of how far behind the broker the client is.
    #[must_use]
    pub fn ping_waiting_since(&self) -> Option<u64> {
        self.pings.front().copied()
    }

    /// The absolute time in ms of the next deadline, if any; call
    /// `handle_timeout` then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            ConnectionState::Connecting => self.connack_deadline,
            ConnectionState::Connected => self.ping_deadline.or_else(|| self.keepalive_due()),
            ConnectionState::Disconnected | ConnectionState::Closed => None,
        }
    }

    /// Bytes to write to the transport (all that is queued, possibly several
    /// packets), or `None`.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.tx.is_empty() {
            return None;
        }
        Some(Vec::from(std::mem::take(&mut self.tx)))
    }

    /// The next event, or `None`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Sends SUBSCRIBE for one or more filters; returns its packet id, which
    /// `Event::Subscribed` will carry.
    pub fn subscribe(
        &mut self,
        now_ms: u64,
        filters: Vec<(String, QoS)>,
    ) -> Result<u16, SessionError> {
        let subs = filters
            .into_iter()
            .map(|(f, q)| Subscription::new(f, q))
            .collect();
        self.subscribe_with(now_ms, subs, None)
    }

    /// Sends SUBSCRIBE with subscription options and, with MQTT 5, an
    /// optional subscription identifier (1 to 268,435,455) that the broker
    /// puts on every message these filters match. With MQTT 5, a wildcard,
    /// shared subscription or identifier the broker said it does not support
    /// is refused here (`SessionError::NotAllowedByBroker`). The MQTT 5
    /// options and the identifier are not sent with 3.1 and 3.1.1.
    pub fn subscribe_with(
        &mut self,
        now_ms: u64,
        filters: Vec<Subscription>,
        identifier: Option<u32>,
    ) -> Result<u16, SessionError> {
        self.require_connected()?;
        if filters.is_empty() {
            return Err(SessionError::NoFilters);
        }
        for f in &filters {
            topic::validate_filter(&f.filter)?;
        }
        let v5 = self.options.protocol == ProtocolVersion::V5;
        if v5 {
            self.check_subscribe_allowed(&filters, identifier)?;
        }
        let identifier = identifier.filter(|_| v5);
        let pkid = self
            .ids
            .allocate()
            .ok_or(SessionError::PacketIdsExhausted)?;
        let packet = Outgoing::Subscribe {
            pkid,
            filters: &filters,
            identifier,
        };
        if let Err(e) = self.queue(now_ms, &packet) {
            self.ids.release(pkid);
            return Err(e);
        }
        self.pending_subscribes.insert(pkid, filters);
        Ok(pkid)
    }

    fn check_subscribe_allowed(
        &self,
        filters: &[Subscription],
        identifier: Option<u32>,
    ) -> Result<(), SessionError> {
        let g = self.granted.clone().unwrap_or_default();
        let refuse = |why: String| Err(SessionError::NotAllowedByBroker(why));
        if let Some(id) = identifier {
            if id == 0 || id > MAX_SUBSCRIPTION_IDENTIFIER {
                return Err(SessionError::InvalidRequest(format!(
                    "a subscription identifier is 1 to {MAX_SUBSCRIPTION_IDENTIFIER}, not {id}"
                )));
            }
            if !g.subscription_identifiers_available {
                return refuse("it does not support subscription identifiers".into());
            }
        }
        for f in filters {
            let shared = f.filter.starts_with("$share/");
            if shared && !g.shared_subscription_available {
                return refuse(format!(
                    "it does not support shared subscriptions ({})",
                    f.filter
                ));
            }
            if shared && f.no_local {
                return Err(SessionError::InvalidRequest(format!(
                    "no local cannot be set on a shared subscription ({})",
                    f.filter
                )));
            }
            let wildcard = f.filter.contains(['+', '#']);
            if wildcard && !g.wildcard_subscription_available {
                return refuse(format!(
                    "it does not support wildcard subscriptions ({})",
                    f.filter
                ));
            }
        }
        Ok(())
    }

    /// Sends UNSUBSCRIBE for one or more filters; returns its packet id, which
    /// `Event::Unsubscribed` will carry.
    pub fn unsubscribe(&mut self, now_ms: u64, filters: Vec<String>) -> Result<u16, SessionError> {
        self.require_connected()?;
        if filters.is_empty() {
            return Err(SessionError::NoFilters);
        }
        for f in &filters {
            topic::validate_filter(f)?;
        }
        let pkid = self
            .ids
            .allocate()
            .ok_or(SessionError::PacketIdsExhausted)?;
        let packet = Outgoing::Unsubscribe {
            pkid,
            filters: &filters,
        };
        if let Err(e) = self.queue(now_ms, &packet) {
            self.ids.release(pkid);
            return Err(e);
        }
        self.pending_unsubscribes.insert(pkid, filters);
        Ok(pkid)
    }

    /// Sends PUBLISH with MQTT 5 properties (see `publish`). With MQTT 5 the
    /// broker's CONNACK is honoured: a QoS above its maximum, retain when it
    /// has none, or a packet larger than its maximum packet size is refused
    /// here (`SessionError::NotAllowedByBroker`), and a topic alias is used
    /// when it allows them. The properties must be empty with 3.1 and 3.1.1.
    pub fn publish_with(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) -> Result<PublishId, SessionError> {
        self.require_connected()?;
        let properties = if properties.is_empty() {
            None
        } else {
            if self.options.protocol != ProtocolVersion::V5 {
                return Err(SessionError::InvalidRequest(format!(
                    "message properties need MQTT 5, not {}",
                    self.options.protocol
                )));
            }
            validate_publish_properties("PUBLISH", &properties)
                .map_err(|e| SessionError::InvalidRequest(e.to_string()))?;
            Some(Box::new(properties))
        };
        self.publish_inner(now_ms, topic, payload, qos, retain, properties)
    }

    /// Sends PUBLISH. QoS 1 and 2 are tracked by packet id until PUBACK /
    /// PUBCOMP (`Event::PublishComplete`) or until dropped
    /// (`Event::PublishFailed`). `Event::Published` is queued when the
    /// PUBLISH is written: at once, unless `max_in_flight` QoS 1/2 publishes
    /// are already awaiting acknowledgement, in which case it waits in the
    /// session (`queued()`) and goes out, in order, as acknowledgements arrive.
    /// The topic and size are checked here either way.
    pub fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, SessionError> {
        self.require_connected()?;
        self.publish_inner(now_ms, topic, payload, qos, retain, None)
    }

    fn publish_inner(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
        properties: Option<Box<PublishProperties>>,
    ) -> Result<PublishId, SessionError> {
        topic::validate_topic_name(topic)?;
        codec::check_publish_len(topic, payload.len(), qos)?;
        let payload = Bytes::from(payload);
        if let Some(g) = &self.granted {
            check_publish_allowed(g, qos, retain)?;
            if let Some(max) = g.maximum_packet_size {
                // Measured as written at its largest: the topic in full,
                // plus an alias if aliases are in use (the PUBLISH that sets
                // one carries both). `queue` checks the packet really sent.
                let mut scratch = BytesMut::new();
                let packet = Outgoing::Publish {
                    topic,
                    payload: &payload,
                    qos,
                    retain,
                    dup: false,
                    pkid: 1,
                    properties: properties.as_deref(),
                    alias: (g.topic_alias_maximum > 0).then_some(1),
                };
                codec::encode(&packet, self.options.protocol, &mut scratch)?;
                if scratch.len() > max as usize {
                    return Err(SessionError::NotAllowedByBroker(format!(
                        "the message would be a packet of {} bytes, over its maximum of {max}",
                        scratch.len()
                    )));
                }
            }
        }
        let id = PublishId(self.next_publish_id);
        if qos != QoS::AtMostOnce && (!self.waiting.is_empty() || !self.window_open()) {
            self.waiting.push_back(Waiting {
                id,
                topic: topic.to_owned(),
                payload,
                qos,
                retain,
                properties,
            });
        } else {
            self.send_publish(now_ms, id, topic, &payload, qos, retain, properties)?;
        }
        self.next_publish_id += 1;
        Ok(id)
    }

    /// QoS 1 and 2 publishes accepted by `publish` but not yet written,
    /// waiting for room in the `max_in_flight` window.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.waiting.len()
    }

    fn window_open(&self) -> bool {
        // MQTT 5: never more in flight than the broker's receive maximum.
        let server = self.granted.as_ref().map(|g| g.receive_maximum);
        let window = match (self.options.max_in_flight, server) {
            (0, None) => return true,
            (0, Some(r)) => r,
            (ours, Some(r)) => ours.min(r),
            (ours, None) => ours,
        };
        self.outgoing.len() < usize::from(window)
    }

    /// Writes a PUBLISH now: packet id, encoding, tracking, `Published`.
    /// On error nothing has changed.
    // One argument per PUBLISH field: bundling them would copy the topic of
    // every QoS 0 publish into a struct first.
    #[allow(clippy::too_many_arguments)]
    fn send_publish(
        &mut self,
        now_ms: u64,
        id: PublishId,
        topic: &str,
        payload: &Bytes,
        qos: QoS,
        retain: bool,
        properties: Option<Box<PublishProperties>>,
    ) -> Result<(), SessionError> {
        let pkid = if qos == QoS::AtMostOnce {
            0
        } else {
            self.ids
                .allocate()
                .ok_or(SessionError::PacketIdsExhausted)?
        };
        let (wire_topic, alias) = self.alias_for(topic);
        let packet = Outgoing::Publish {
            topic: wire_topic,
            payload,
            qos,
            retain,
            dup: false,
            pkid,
            properties: properties.as_deref(),
            alias,
        };
        if let Err(e) = self.queue(now_ms, &packet) {
            if pkid != 0 {
                self.ids.release(pkid);
            }
            return Err(e);
        }
        if let (Some(a), false) = (alias, wire_topic.is_empty()) {
            self.aliases.outgoing.insert(topic.to_owned(), a);
        }
        if qos != QoS::AtMostOnce {
            let stage = if qos == QoS::AtLeastOnce {
                Stage::Qos1Sent
            } else {
                Stage::Qos2Sent
            };
            let seq = self.take_seq();
            self.outgoing.insert(
                seq,
                OutPublish {
                    id,
                    pkid,
                    topic: topic.to_owned(),
                    payload: payload.clone(),
                    qos,
                    retain,
                    properties,
                    stage,
                    sent_at_ms: now_ms,
                },
            );
            self.outgoing_by_pkid.insert(pkid, seq);
        }
        self.events.push_back(Event::Published {
            id,
            pkid,
            qos,
            sent_at_ms: now_ms,
        });
        Ok(())
    }

    /// MQTT 5: the topic to write and the alias to send with it: the alias
    /// alone (empty topic) once this connection set it, the topic with a
    /// new alias while the broker's maximum has room, else the topic alone.
    fn alias_for<'t>(&self, topic: &'t str) -> (&'t str, Option<u16>) {
        let max = self.granted.as_ref().map_or(0, |g| g.topic_alias_maximum);
        if max == 0 {
            return (topic, None);
        }
        if let Some(&a) = self.aliases.outgoing.get(topic) {
            return ("", Some(a));
        }
        match u16::try_from(self.aliases.outgoing.len() + 1) {
            Ok(next) if next <= max => (topic, Some(next)),
            _ => (topic, None),
        }
    }

    /// Writes waiting publishes while the window has room.
    fn send_waiting(&mut self, now_ms: u64) {
        while self.state == ConnectionState::Connected && self.window_open() {
            let Some(w) = self.waiting.pop_front() else {
                break;
            };
            // A new CONNACK may allow less than the one they were
            // accepted under.
            if let Some(Err(e)) = self
                .granted
                .as_ref()
                .map(|g| check_publish_allowed(g, w.qos, w.retain))
            {
                self.events.push_back(Event::PublishFailed {
                    id: w.id,
                    reason: e.to_string(),
                });
                continue;
            }
            let properties = w.properties.clone();
            match self.send_publish(
                now_ms, w.id, &w.topic, &w.payload, w.qos, w.retain, properties,
            ) {
                Ok(()) => {}
                Err(SessionError::PacketIdsExhausted) => {
                    // Retried when an acknowledgement frees an id.
                    self.waiting.push_front(w);
                    break;
                }
                Err(e) => self.events.push_back(Event::PublishFailed {
                    id: w.id,
                    reason: e.to_string(),
                }),
            }
        }
    }

    /// Queues DISCONNECT (flush `poll_transmit`, then close the transport) and
    /// goes `Disconnected`. In-flight publishes are kept for the next
    /// connection only without a clean session.
    pub fn disconnect(&mut self, now_ms: u64) {
        if !self.is_up() {
            return;
        }
        if let Err(e) = self.queue(now_ms, &Outgoing::Disconnect(0)) {
            self.fail(e);
            return;
        }
        self.end_connection();
        self.state = ConnectionState::Disconnected;
        self.wants_close = true;
    }

    /// The transport closed under us (socket error or close). Emits
    /// `Event::Closed { ConnectionLost }` (after any `PublishFailed`,
    /// `SubscribeFailed`… for what is dropped) if the connection was up; keeps
    /// in-flight state for resume when the clean session flag is off.
    pub fn connection_lost(&mut self, reason: String) {
        if self.is_up() {
            self.end_connection();
            self.events.push_back(Event::Closed {
                error: SessionError::ConnectionLost(reason),
            });
        }
        self.state = ConnectionState::Disconnected;
        self.wants_close = false;
        self.tx.clear();
    }

    // ----- internals -----

    fn is_up(&self) -> bool {
        matches!(
            self.state,
            ConnectionState::Connecting | ConnectionState::Connected
        )
    }

    fn require_connected(&self) -> Result<(), SessionError> {
        if self.state == ConnectionState::Connected {
            Ok(())
        } else {
            Err(SessionError::NotConnected)
        }
    }

    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    fn keepalive_due(&self) -> Option<u64> {
        let keep_alive = self.keep_alive_secs();
        if keep_alive == 0 {
            return None;
        }
        Some(
            self.last_sent_ms
                .min(self.last_received_ms)
                .saturating_add(u64::from(keep_alive) * 1000),
        )
    }

    /// Whether the broker forgets the session when this connection ends:
    /// with 3.1 and 3.1.1 a clean session; with MQTT 5 a session expiry of
    /// 0 (the broker's, if it set one).
    fn session_ends_with_connection(&self) -> bool {
        match self.options.protocol {
            ProtocolVersion::V5 => {
                let expiry = self
                    .granted
                    .as_ref()
                    .and_then(|g| g.session_expiry_secs)
                    .unwrap_or(self.options.v5.session_expiry_secs);
                expiry == 0
            }
            ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 => self.options.clean_session,
        }
    }

    fn queue(&mut self, now_ms: u64, packet: &Outgoing<'_>) -> Result<(), SessionError> {
        let mark = self.tx.len();
        codec::encode(packet, self.options.protocol, &mut self.tx)?;
        // MQTT 5: nothing larger than the broker's Maximum Packet Size goes
        // out (a SUBSCRIBE of many filters, say); the packet is taken back.
        if let Some(max) = self.granted.as_ref().and_then(|g| g.maximum_packet_size) {
            let size = self.tx.len() - mark;
            if size > max as usize {
                self.tx.truncate(mark);
                return Err(SessionError::NotAllowedByBroker(format!(
                    "the packet would be {size} bytes, over its maximum of {max}"
                )));
            }
        }
        self.last_sent_ms = now_ms;
        Ok(())
    }

    /// Gives up on the connection: events for what is dropped, then
    /// `Event::Closed` (always the last event of a connection), state `Closed`.
    fn fail(&mut self, error: SessionError) {
        // MQTT 5: tell the broker why, when it broke the protocol (flushed
        // by the caller before it closes the transport).
        let code = match &error {
            SessionError::Protocol(e) => Some(e.disconnect_code()),
            SessionError::PacketTooLarge { .. } => Some(0x95),
            _ => None,
        };
        let v5_up = self.options.protocol == ProtocolVersion::V5
            && self.state == ConnectionState::Connected;
        self.end_connection();
        self.events.push_back(Event::Closed { error });
        self.tx.clear();
        if let (Some(code), true) = (code, v5_up) {
            // An encoding error here leaves nothing queued: the close says
            // enough.
            let _ = codec::encode(
                &Outgoing::Disconnect(code),
                self.options.protocol,
                &mut self.tx,
            );
        }
        self.state = ConnectionState::Closed;
        self.wants_close = true;
    }

    /// Clears per-connection state; drops per-session state too when the
    /// session is clean.
    fn end_connection(&mut self) {
        let session_ends = self.session_ends_with_connection();
        self.granted = None;
        self.aliases = Aliases::default();
        self.decoder.clear();
        self.connack_deadline = None;
        self.ping_deadline = None;
        self.pings.clear();
        let subs = std::mem::take(&mut self.pending_subscribes);
        for (pkid, filters) in subs {
            self.ids.release(pkid);
            self.events.push_back(Event::SubscribeFailed {
                pkid,
                filters: filters.into_iter().map(|s| s.filter).collect(),
                reason: DROPPED_CLEAN.into(),
            });
        }
        let unsubs = std::mem::take(&mut self.pending_unsubscribes);
        for (pkid, filters) in unsubs {
            self.ids.release(pkid);
            self.events.push_back(Event::UnsubscribeFailed {
                pkid,
                filters,
                reason: DROPPED_CLEAN.into(),
            });
        }
        if session_ends {
            self.drop_in_flight(DROPPED_CLEAN, true);
            self.incoming_qos2.clear();
        }
    }

    /// Drops in-flight publishes (and, with `waiting_too`, those still
    /// waiting for the window), each with `PublishFailed`, then
    /// `InFlightDropped` if any.
    fn drop_in_flight(&mut self, reason: &str, waiting_too: bool) {
        let dropped = std::mem::take(&mut self.outgoing);
        self.outgoing_by_pkid.clear();
        let mut count = dropped.len();
        for (_, p) in dropped {
            self.ids.release(p.pkid);
            self.events.push_back(Event::PublishFailed {
                id: p.id,
                reason: reason.to_owned(),
            });
        }
        if waiting_too {
            let waiting = std::mem::take(&mut self.waiting);
            count += waiting.len();
            for w in waiting {
                self.events.push_back(Event::PublishFailed {
                    id: w.id,
                    reason: reason.to_owned(),
                });
            }
        }
        if count > 0 {
            self.events.push_back(Event::InFlightDropped { count });
        }
    }

    fn handle_packet(&mut self, now_ms: u64, packet: Incoming) -> Result<(), SessionError> {
        match (self.state, &packet) {
            (ConnectionState::Connecting, Incoming::ConnAck { .. }) => {}
            (ConnectionState::Connecting, p) => {
                return Err(ProtocolError::PacketBeforeConnack { packet: p.name() }.into())
            }
            (_, Incoming::ConnAck { .. }) => return Err(ProtocolError::DuplicateConnack.into()),
            _ => {}
        }
        match packet {
            Incoming::ConnAck {
                session_present,
                code,
                granted,
            } => self.handle_connack(now_ms, session_present, code, granted),
            Incoming::Publish(message, alias) => {
                let message = self.resolve_alias(message, alias)?;
                self.handle_publish(now_ms, message, None)
            }
            Incoming::PublishNotKept(message, skipped) => {
                self.handle_publish(now_ms, message, Some(skipped))
            }
            Incoming::PubAck(pkid, ack) => {
                self.complete(now_ms, pkid, Stage::Qos1Sent, "PUBACK", ack)
            }
            Incoming::PubRec(pkid, ack) => self.handle_pubrec(now_ms, pkid, ack),
            Incoming::PubComp(pkid, ack) => {
                self.complete(now_ms, pkid, Stage::Released, "PUBCOMP", ack)
            }
            Incoming::PubRel(pkid, ack) => {
                self.server_reason("PUBREL", pkid, ack.reason);
                // Frees the id whether or not we knew it: an unknown PUBREL
                // still gets PUBCOMP (the broker may be resending).
                self.incoming_qos2.remove(pkid);
                self.queue(now_ms, &Outgoing::PubComp(pkid))
            }
            Incoming::SubAck {
                pkid,
                results,
                reason,
            } => {
                self.server_reason("SUBACK", pkid, reason);
                self.handle_suback(pkid, results)?;
                self.send_waiting(now_ms);
                Ok(())
            }
            Incoming::UnsubAck {
                pkid,
                codes,
                reason,
            } => {
                let filters = self.pending_unsubscribes.remove(&pkid).ok_or(
                    ProtocolError::UnknownPacketId {
                        packet: "UNSUBACK",
                        pkid,
                    },
                )?;
                self.ids.release(pkid);
                self.server_reason("UNSUBACK", pkid, reason);
                self.handle_unsuback(pkid, filters, &codes)?;
                self.send_waiting(now_ms);
                Ok(())
            }
            Incoming::PingResp => {
                if let Some(sent) = self.pings.pop_front() {
                    self.events.push_back(Event::Pong {
                        round_trip_ms: now_ms.saturating_sub(sent),
                    });
                }
                // The keepalive ping is answered once every ping before it
                // is (answers come in order).
                if self.pings.is_empty() {
                    self.ping_deadline = None;
                }
                Ok(())
            }
            Incoming::Disconnect {
                code,
                reason,
                server_reference,
            } => {
                // The broker closes; nothing more may be sent.
                self.end_connection();
                self.tx.clear();
                self.events.push_back(Event::Closed {
                    error: SessionError::ServerDisconnected {
                        code,
                        reason,
                        server_reference,
                    },
                });
                self.state = ConnectionState::Closed;
                self.wants_close = true;
                Ok(())
            }
        }
    }

    /// MQTT 5: a reason string on an acknowledgement, for the user.
    fn server_reason(&mut self, packet: &'static str, pkid: u16, reason: Option<String>) {
        if let Some(reason) = reason.filter(|r| !r.is_empty()) {
            self.events.push_back(Event::ServerReason {
                packet,
                pkid,
                reason,
            });
        }
    }

    /// MQTT 5: the topic a received alias stands for. A PUBLISH with a topic
    /// and an alias sets it; with an empty topic it uses it.
    fn resolve_alias(
        &mut self,
        mut message: Message,
        alias: Option<u16>,
    ) -> Result<Message, SessionError> {
        let Some(alias) = alias else {
            return Ok(message);
        };
        let max = self.options.v5.topic_alias_maximum;
        if alias == 0 || alias > max {
            return Err(ProtocolError::TopicAliasInvalid { alias, max }.into());
        }
        if message.topic.is_empty() {
            message.topic = self
                .aliases
                .incoming
                .get(&alias)
                .cloned()
                .ok_or(ProtocolError::UnknownTopicAlias(alias))?;
        } else {
            self.aliases.incoming.insert(alias, message.topic.clone());
        }
        Ok(message)
    }

    /// MQTT 5 UNSUBACK: filters with a failure code (0x80 and above) are
    /// reported as `UnsubscribeFailed`, the rest as `Unsubscribed`.
    fn handle_unsuback(
        &mut self,
        pkid: u16,
        filters: Vec<String>,
        codes: &[u8],
    ) -> Result<(), SessionError> {
        if codes.is_empty() {
            self.events.push_back(Event::Unsubscribed { pkid, filters });
            return Ok(());
        }
        if codes.len() != filters.len() {
            return Err(ProtocolError::SubAckCountMismatch {
                expected: filters.len(),
                got: codes.len(),
            }
            .into());
        }
        let mut done = Vec::new();
        for (filter, &code) in filters.into_iter().zip(codes) {
            if code >= 0x80 {
                self.events.push_back(Event::UnsubscribeFailed {
                    pkid,
                    filters: vec![filter],
                    reason: format!("the broker refused: {}", describe_reason(code, None)),
                });
            } else {
                done.push(filter);
            }
        }
        if !done.is_empty() {
            self.events.push_back(Event::Unsubscribed {
                pkid,
                filters: done,
            });
        }
        Ok(())
    }

    fn handle_connack(
        &mut self,
        now_ms: u64,
        session_present: bool,
        code: u8,
        granted: Option<Box<Granted>>,
    ) -> Result<(), SessionError> {
        if code != 0 {
            // MQTT 5 reason codes (0x80 and up) are shown with their number
            // and the broker's reason string, as every other v5 reason is.
            let mut reason = match &granted {
                Some(g) if code >= 0x80 => {
                    crate::v5::describe_reason(code, g.reason_string.as_deref())
                }
                _ => connack_code_sentence(code).to_owned(),
            };
            if let Some(g) = &granted {
                if let Some(r) = &g.server_reference {
                    reason.push_str("; it names another server: ");
                    reason.push_str(r);
                }
            }
            self.events
                .push_back(Event::ConnectionRefused { code, reason });
            self.fail(SessionError::ConnectionRefused { code });
            return Ok(());
        }
        let session_present = match self.options.protocol {
            ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => {
                if session_present && self.options.clean_session {
                    return Err(ProtocolError::SessionPresentOnCleanSession.into());
                }
                session_present
            }
            // MQTT 3.1 has no session-present flag: a 3.1 broker keeps the
            // session exactly when the clean session flag is off.
            ProtocolVersion::V3_1 => !self.options.clean_session,
        };
        self.state = ConnectionState::Connected;
        self.connack_deadline = None;
        if self.options.protocol == ProtocolVersion::V5 {
            let granted = granted.map(|g| *g).unwrap_or_default();
            self.events
                .push_back(Event::Granted(Box::new(granted.clone())));
            self.granted = Some(granted);
        }
        self.events.push_back(Event::Connected { session_present });
        if session_present {
            self.resend_in_flight(now_ms)?;
        } else {
            // Publishes still waiting for the window were never sent: they
            // go out in the new session.
            self.drop_in_flight(DROPPED_NOT_RESUMED, false);
            self.incoming_qos2.clear();
        }
        self.send_waiting(now_ms);
        Ok(())
    }

    /// Session resume: PUBLISH (DUP set, same id) and PUBREL again, in order.
    /// With MQTT 5, a PUBLISH the resumed connection's CONNACK no longer
    /// allows (a lower maximum QoS, no retain) is not sent again: it fails
    /// with the reason (a packet too large fails when `queue`-d below).
    fn resend_in_flight(&mut self, now_ms: u64) -> Result<(), SessionError> {
        if let Some(g) = self.granted.clone() {
            let refused: Vec<(u64, SessionError)> = self
                .outgoing
                .iter()
                .filter(|(_, p)| p.stage != Stage::Released)
                .filter_map(|(seq, p)| {
                    check_publish_allowed(&g, p.qos, p.retain)
                        .err()
                        .map(|e| (*seq, e))
                })
                .collect();
            for (seq, e) in refused {
                if let Some(p) = self.outgoing.remove(&seq) {
                    self.outgoing_by_pkid.remove(&p.pkid);
                    self.ids.release(p.pkid);
                    self.events.push_back(Event::PublishFailed {
                        id: p.id,
                        reason: e.to_string(),
                    });
                }
            }
        }
        for p in self.outgoing.values() {
            let packet = match p.stage {
                // Aliases do not survive a connection: the topic in full.
                Stage::Qos1Sent | Stage::Qos2Sent => Outgoing::Publish {
                    topic: &p.topic,
                    payload: &p.payload,
                    qos: p.qos,
                    retain: p.retain,
                    dup: true,
                    pkid: p.pkid,
                    properties: p.properties.as_deref(),
                    alias: None,
                },
                Stage::Released => Outgoing::PubRel(p.pkid),
            };
            codec::encode(&packet, self.options.protocol, &mut self.tx)?;
        }
        if !self.outgoing.is_empty() {
            self.last_sent_ms = now_ms;
        }
        Ok(())
    }

    /// A PUBLISH from the broker, kept (`skipped` is `None`) or read through
    /// without its payload: both are acknowledged and reported by the same
    /// QoS rules, only the event differs.
    fn handle_publish(
        &mut self,
        now_ms: u64,
        message: Message,
        skipped: Option<Skipped>,
    ) -> Result<(), SessionError> {
        let (qos, pkid) = (message.qos, message.pkid);
        let event = match skipped {
            None => Event::Message(message),
            Some(s) => Event::MessageNotKept {
                topic: message.topic,
                size: s.size,
                packet_size: s.packet_size,
                qos,
                retain: message.retain,
                dup: message.dup,
                pkid,
                limit: s.limit,
            },
        };
        match qos {
            QoS::AtMostOnce => {
                self.events.push_back(event);
                Ok(())
            }
            QoS::AtLeastOnce => {
                self.events.push_back(event);
                self.queue(now_ms, &Outgoing::PubAck(pkid))
            }
            QoS::ExactlyOnce => {
                // MQTT 5: our receive maximum bounds the QoS 2 messages the
                // broker may leave awaiting release (QoS 1 ones are
                // acknowledged at once).
                let max = self.options.v5.receive_maximum;
                if self.options.protocol == ProtocolVersion::V5
                    && !self.incoming_qos2.contains(pkid)
                    && self.incoming_qos2.len() >= usize::from(max)
                {
                    return Err(ProtocolError::ReceiveMaximumExceeded { max }.into());
                }
                // Deliver on the first PUBLISH only; until PUBREL, any PUBLISH
                // with this id is the same message and only gets PUBREC.
                if self.incoming_qos2.insert(pkid) {
                    self.events.push_back(event);
                }
                self.queue(now_ms, &Outgoing::PubRec(pkid))
            }
        }
    }

    fn lookup(&self, pkid: u16, stage: Stage) -> Option<u64> {
        let seq = *self.outgoing_by_pkid.get(&pkid)?;
        let p = self.outgoing.get(&seq)?;
        (p.stage == stage).then_some(seq)
    }

    fn complete(
        &mut self,
        now_ms: u64,
        pkid: u16,
        stage: Stage,
        packet: &'static str,
        ack: Ack,
    ) -> Result<(), SessionError> {
        let unknown = ProtocolError::UnknownPacketId { packet, pkid };
        let seq = self.lookup(pkid, stage).ok_or(unknown.clone())?;
        let p = self.outgoing.remove(&seq).ok_or(unknown)?;
        self.outgoing_by_pkid.remove(&pkid);
        self.ids.release(pkid);
        if ack.code >= 0x80 {
            self.events.push_back(Event::PublishFailed {
                id: p.id,
                reason: format!(
                    "the broker refused it: {}",
                    describe_reason(ack.code, ack.reason.as_deref())
                ),
            });
            self.send_waiting(now_ms);
            return Ok(());
        }
        if ack.code != 0 || ack.reason.as_deref().is_some_and(|r| !r.is_empty()) {
            self.events.push_back(Event::PublishReason {
                id: p.id,
                code: ack.code,
                reason: describe_reason(ack.code, ack.reason.as_deref()),
            });
        }
        self.events.push_back(Event::PublishComplete {
            id: p.id,
            pkid,
            acked_at_ms: now_ms,
            round_trip_ms: now_ms.saturating_sub(p.sent_at_ms),
        });
        self.send_waiting(now_ms);
        Ok(())
    }

    fn handle_pubrec(&mut self, now_ms: u64, pkid: u16, ack: Ack) -> Result<(), SessionError> {
        // A PUBREC repeated while we wait for PUBCOMP is answered with PUBREL
        // again (idempotent); anything else must be waiting for PUBREC.
        if self.lookup(pkid, Stage::Released).is_some() {
            return self.queue(now_ms, &Outgoing::PubRel(pkid));
        }
        let unknown = ProtocolError::UnknownPacketId {
            packet: "PUBREC",
            pkid,
        };
        let seq = self.lookup(pkid, Stage::Qos2Sent).ok_or(unknown.clone())?;
        if ack.code >= 0x80 {
            // MQTT 5: a failed PUBREC ends the exchange; no PUBREL follows.
            return self.complete(now_ms, pkid, Stage::Qos2Sent, "PUBREC", ack);
        }
        if ack.code != 0 || ack.reason.as_deref().is_some_and(|r| !r.is_empty()) {
            if let Some(p) = self.outgoing.get(&seq) {
                self.events.push_back(Event::PublishReason {
                    id: p.id,
                    code: ack.code,
                    reason: describe_reason(ack.code, ack.reason.as_deref()),
                });
            }
        }
        let mut p = self.outgoing.remove(&seq).ok_or(unknown)?;
        p.stage = Stage::Released;
        // PUBRELs are resent in the order their PUBRECs arrived.
        let new_seq = self.take_seq();
        self.outgoing.insert(new_seq, p);
        self.outgoing_by_pkid.insert(pkid, new_seq);
        self.queue(now_ms, &Outgoing::PubRel(pkid))
    }

    fn handle_suback(
        &mut self,
        pkid: u16,
        results: Vec<SubscribeResult>,
    ) -> Result<(), SessionError> {
        let filters =
            self.pending_subscribes
                .remove(&pkid)
                .ok_or(ProtocolError::UnknownPacketId {
                    packet: "SUBACK",
                    pkid,
                })?;
        self.ids.release(pkid);
        if filters.len() != results.len() {
            return Err(ProtocolError::SubAckCountMismatch {
                expected: filters.len(),
                got: results.len(),
            }
            .into());
        }
        let out = filters.into_iter().map(|s| s.filter).zip(results).collect();
        self.events
            .push_back(Event::Subscribed { pkid, results: out });
        Ok(())
    }
}

/// MQTT 5: a QoS above the broker's maximum, or retain when it has none,
/// is refused before anything is sent.
fn check_publish_allowed(g: &Granted, qos: QoS, retain: bool) -> Result<(), SessionError> {
    if qos > g.maximum_qos {
        return Err(SessionError::NotAllowedByBroker(format!(
            "it accepts at most {}, not {qos}",
            g.maximum_qos
        )));
    }
    if retain && !g.retain_available {
        return Err(SessionError::NotAllowedByBroker(
            "it does not keep retained messages".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_v5;
