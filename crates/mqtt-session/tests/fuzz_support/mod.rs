//! Stable-toolchain fuzz harness for the session: a seeded generator of
//! executions (arbitrary broker bytes in arbitrary chunks, timeouts at
//! arbitrary times, and client publishes, subscribes, reconnects, limit
//! changes) and an invariant checker wrapped around `Session`. A third of
//! the executions, chosen from the seed, speak MQTT 5 with a broker that
//! does too (CONNACK properties, message properties, topic aliases both
//! ways, reason codes and reason strings, subscription options and
//! identifiers, DISCONNECT from the broker) and the MQTT 5 hostile table.
//!
//! Shared by `examples/fuzz.rs` (the long release run) and `tests/fuzz.rs`
//! (corpus replay and a short run in every `cargo test`). Each execution is
//! bounded (at most `MAX_OPS` operations, at most a few KiB per delivery), so
//! a hang is a bug. Invariant violations panic with a message; the caller
//! reports the seed and execution index that reproduce it.
//!
//! Nothing here is compiled into the library.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use mqtt_session::hostile::{self, HostileCase};
use mqtt_session::{
    ConnectProperties, ConnectionState, Event, Granted, Message, Options, ProtocolVersion,
    PublishId, PublishProperties, QoS, RetainHandling, Session, Subscription,
    MAX_OVERSIZED_HEAD_LEN,
};

/// Most operations in one execution.
pub const MAX_OPS: usize = 64;

/// A small, fast, seedable generator (splitmix64): reproducible from one u64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A size that is usually small and sometimes large, at most `max`.
    pub fn size(&mut self, max: usize) -> usize {
        let cap = match self.below(10) {
            0..=5 => 8,
            6..=8 => 64,
            _ => max,
        };
        self.below(cap.min(max) as u64 + 1) as usize
    }
}

/// The per-execution seed for execution `index` of a run started from `seed`.
pub fn execution_seed(seed: u64, index: u64) -> u64 {
    Rng::new(seed ^ index.wrapping_mul(0xD134_2543_DE82_EF95)).next_u64()
}

/// Where the corpus lives.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus")
}

/// Every `*.bin` in `dir`, sorted by name.
pub fn load_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                Some((name, fs::read(&p).ok()?))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

// ----- the checked session -----

/// Counters over one or many executions.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Executions run.
    pub executions: u64,
    /// Operations applied.
    pub ops: u64,
    /// Bytes fed to `handle_bytes`.
    pub bytes_in: u64,
    /// Connections that reached `Connected`.
    pub connected: u64,
    /// `Event::Closed` seen (any reason).
    pub closed: u64,
    /// Of those, closed for a protocol violation or an oversize packet.
    pub closed_protocol: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Messages over the size limit, reported not kept.
    pub not_kept: u64,
    /// Publishes completed (PUBACK / PUBCOMP).
    pub completed: u64,
    /// Executions with MQTT 5.
    pub v5_executions: u64,
    /// Of the connections accepted, those with MQTT 5.
    pub v5_connected: u64,
    /// Of the messages delivered, those with MQTT 5.
    pub v5_messages: u64,
}

impl Stats {
    /// Adds another run's counters.
    pub fn add(&mut self, o: &Stats) {
        self.executions += o.executions;
        self.ops += o.ops;
        self.bytes_in += o.bytes_in;
        self.connected += o.connected;
        self.closed += o.closed;
        self.closed_protocol += o.closed_protocol;
        self.messages += o.messages;
        self.not_kept += o.not_kept;
        self.completed += o.completed;
        self.v5_executions += o.v5_executions;
        self.v5_connected += o.v5_connected;
        self.v5_messages += o.v5_messages;
    }
}

/// A `Session` that checks its invariants after every call:
/// - nothing is emitted (events or bytes) after `Event::Closed` until the
///   caller starts over (`connect`, `set_options`), and `Closed` is the last
///   event of its batch; with MQTT 5 the call that closes may write one
///   DISCONNECT, nothing else;
/// - packet ids are never 0 and never two in flight at once; every publish
///   in flight is accounted for by events (`in_flight()` agrees);
/// - after `handle_timeout(now)`, `poll_timeout()` is `None` or after `now`;
/// - buffered input stays under `max_incoming_packet_size` (or under the
///   head of an oversized PUBLISH, `MAX_OVERSIZED_HEAD_LEN`, if larger); an
///   oversized message is reported with consistent sizes; the in-flight
///   window is respected; the events of one call are bounded;
/// - everything written parses as MQTT with nonzero packet ids; with MQTT 5
///   it honours the broker's CONNACK: topic aliases within its maximum, no
///   subscription identifier in PUBLISH, no packet over its maximum size,
///   no QoS above its maximum, no retain where it has none, and a new QoS
///   1/2 publish only while fewer than its receive maximum are in flight;
/// - a QoS 2 message is delivered (kept or not) at most once per packet id
///   until the client answered the broker's PUBREL with PUBCOMP (checked
///   per call, so soundly but not completely: see `Checked::q2_outstanding`).
pub struct Checked {
    /// The session under test.
    pub s: Session,
    /// The fake clock, never going backwards.
    pub now: u64,
    closed: bool,
    in_flight: BTreeSet<u16>,
    publish_pkid: BTreeMap<PublishId, u16>,
    window_cap: Option<usize>,
    /// Per packet id: QoS 2 deliveries not yet released by a PUBCOMP the
    /// client wrote. Kept as a lower bound of the session's own set (within
    /// one call the order of deliveries and PUBCOMPs is not visible), so it
    /// never reports a correct session, and must never exceed 1.
    q2_outstanding: BTreeMap<u16, u32>,
    /// Set when the session must have forgotten its QoS 2 ids.
    q2_reset: bool,
    /// What the client wrote since the last `take_written`.
    written: Vec<u8>,
    /// Every event, when recording (corpus replay); else empty.
    pub events: Vec<Event>,
    record: bool,
    /// Counters.
    pub stats: Stats,
    /// Print every event and every write (for reproducing a failure).
    pub trace: bool,
}

/// A clean session, or with MQTT 5 one whose expiry interval is 0: it
/// ends with its connection (and a broker saying it is present lies).
fn session_ends_with_connection(o: &Options) -> bool {
    o.clean_session || (o.protocol == ProtocolVersion::V5 && o.v5.session_expiry_secs == 0)
}

fn violation(what: &str, detail: impl std::fmt::Debug) -> ! {
    panic!("invariant violated: {what}: {detail:?}")
}

impl Checked {
    /// A checked session with these options; `record` keeps every event.
    pub fn new(options: Options, record: bool) -> Checked {
        let window_cap = match options.max_in_flight {
            0 => None,
            n => Some(usize::from(n)),
        };
        let s = match Session::new(options) {
            Ok(s) => s,
            Err(e) => violation("options from the generator are valid", e),
        };
        Checked {
            s,
            now: 0,
            closed: false,
            in_flight: BTreeSet::new(),
            publish_pkid: BTreeMap::new(),
            window_cap,
            q2_outstanding: BTreeMap::new(),
            q2_reset: false,
            written: Vec::new(),
            events: Vec::new(),
            record,
            stats: Stats::default(),
            trace: false,
        }
    }

    /// Moves the clock forward (never back).
    pub fn advance(&mut self, to: u64) {
        self.now = self.now.max(to);
    }

    /// Bytes the client wrote since the last call.
    pub fn take_written(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.written)
    }

    fn outstanding(&self) -> usize {
        self.in_flight.len() + self.s.queued()
    }

    fn is_up(&self) -> bool {
        matches!(
            self.s.state(),
            ConnectionState::Connecting | ConnectionState::Connected
        )
    }

    /// Drains events and bytes after one call and checks everything.
    fn after(&mut self, what: &str, fed: usize, outstanding_before: usize) {
        self.after_call(what, fed, outstanding_before, false);
    }

    /// Like `after`; `ended` says the connection may have ended in this call.
    fn after_call(&mut self, what: &str, fed: usize, outstanding_before: usize, ended: bool) {
        let mut deliveries: BTreeMap<u16, u32> = BTreeMap::new();
        let mut count = 0usize;
        let mut closed_now = false;
        let mut lost = false;
        while let Some(e) = self.s.poll_event() {
            count += 1;
            if self.trace {
                eprintln!("    event {e:?}");
            }
            if self.closed || closed_now {
                violation("nothing is emitted after Closed", (what, &e));
            }
            self.account(&e);
            match &e {
                Event::Message(Message {
                    qos: QoS::ExactlyOnce,
                    pkid,
                    ..
                })
                | Event::MessageNotKept {
                    qos: QoS::ExactlyOnce,
                    pkid,
                    ..
                } => *deliveries.entry(*pkid).or_default() += 1,
                _ => {}
            }
            if let Event::Connected {
                session_present: false,
            } = &e
            {
                // Deliveries before this CONNACK (none) do not count.
                self.q2_outstanding.clear();
                deliveries.clear();
            }
            if let Event::Closed { error } = &e {
                closed_now = true;
                lost = matches!(error, mqtt_session::SessionError::ConnectionLost(_));
                self.stats.closed += 1;
                if matches!(
                    error,
                    mqtt_session::SessionError::Protocol(_)
                        | mqtt_session::SessionError::PacketTooLarge { .. }
                ) {
                    self.stats.closed_protocol += 1;
                }
            }
            if self.record {
                self.events.push(e);
            }
        }
        let bound = fed + 2 * outstanding_before + 8;
        if count > bound {
            violation("events per call are bounded", (what, count, bound));
        }
        let mut out = Vec::new();
        while let Some(bytes) = self.s.poll_transmit() {
            if bytes.is_empty() {
                violation("poll_transmit never returns an empty chunk", what);
            }
            out.extend_from_slice(&bytes);
        }
        if closed_now {
            self.closed = true;
            // MQTT 5: a session that ends the connection itself says why in
            // a DISCONNECT, its last word.
            let farewell = self.s.options().protocol == ProtocolVersion::V5
                && !lost
                && matches!(out.as_slice(), [0xE0, 0] | [0xE0, 1, _]);
            if !out.is_empty() && !farewell {
                violation("nothing is written once the session closed", (what, out));
            }
            // After `connection_lost` the session is Disconnected; after an
            // error of its own it is Closed and wants the transport closed.
            let expected = if lost {
                ConnectionState::Disconnected
            } else {
                ConnectionState::Closed
            };
            if self.s.state() != expected || self.s.wants_close() == lost {
                violation("Closed leaves the session closed", self.s.state());
            }
        }
        if self.closed && !closed_now && !out.is_empty() {
            violation("nothing is written after Closed", (what, out));
        }
        if self.trace && !out.is_empty() {
            eprintln!("    client -> {out:02x?}");
        }
        let pubcomps = match self.s.options().protocol {
            ProtocolVersion::V5 => check_written_v5(&out, self.s.granted()),
            p => check_written(&out, p),
        };
        self.written.extend_from_slice(&out);
        // QoS 2: deliveries minus releases, per id.
        if self.q2_reset {
            self.q2_outstanding.clear();
            self.q2_reset = false;
        }
        if closed_now {
            // The session drops what it queued when it closes, PUBCOMPs
            // included: the releases of this call are not visible.
            self.q2_outstanding.clear();
            deliveries.clear();
        }
        let mut ids: BTreeSet<u16> = deliveries.keys().copied().collect();
        ids.extend(pubcomps.iter().copied());
        for id in ids {
            let before = i64::from(self.q2_outstanding.get(&id).copied().unwrap_or(0));
            let d = i64::from(deliveries.get(&id).copied().unwrap_or(0));
            let c = pubcomps.iter().filter(|&&p| p == id).count() as i64;
            let now = (before + d - c).max(0);
            if now > 1 {
                violation(
                    "a QoS 2 message is delivered once until PUBREL/PUBCOMP",
                    (what, id, before, d, c),
                );
            }
            self.q2_outstanding.insert(id, now as u32);
        }
        if ended && session_ends_with_connection(self.s.options()) {
            // A clean session forgets its QoS 2 ids when the connection ends.
            self.q2_outstanding.clear();
        }
        let bound = self
            .s
            .options()
            .max_incoming_packet_size
            .max(MAX_OVERSIZED_HEAD_LEN);
        if self.s.buffered_bytes() > bound {
            violation(
                "buffered input stays under max_incoming_packet_size \
                 (or the head of an oversized PUBLISH)",
                self.s.buffered_bytes(),
            );
        }
        if self.publish_pkid.len() != self.s.in_flight() {
            violation(
                "every publish in flight is accounted for by events",
                (self.publish_pkid.len(), self.s.in_flight()),
            );
        }
        if let Some(cap) = self.window_cap {
            if self.s.in_flight() > cap {
                violation("the in-flight window is respected", self.s.in_flight());
            }
        }
    }

    fn start_pkid(&mut self, pkid: u16, what: &str) {
        if pkid == 0 {
            violation("packet ids are never 0", what);
        }
        if !self.in_flight.insert(pkid) {
            violation("a packet id is never two in flight at once", (what, pkid));
        }
    }

    fn end_pkid(&mut self, pkid: u16, what: &str) {
        if !self.in_flight.remove(&pkid) {
            violation(
                "an id completes only once, and only if in flight",
                (what, pkid),
            );
        }
    }

    fn account(&mut self, e: &Event) {
        match e {
            Event::Published { id, pkid, qos, .. } => {
                if *qos == QoS::AtMostOnce {
                    if *pkid != 0 {
                        violation("QoS 0 has no packet id", pkid);
                    }
                } else {
                    if let Some(g) = self.s.granted() {
                        if self.publish_pkid.len() >= usize::from(g.receive_maximum) {
                            violation(
                                "a new publish starts only below the broker's receive maximum",
                                (self.publish_pkid.len(), g.receive_maximum),
                            );
                        }
                    }
                    self.start_pkid(*pkid, "PUBLISH");
                    self.publish_pkid.insert(*id, *pkid);
                }
            }
            Event::PublishComplete { id, pkid, .. } => {
                self.stats.completed += 1;
                if self.publish_pkid.remove(id) != Some(*pkid) {
                    violation("completion matches its publish", (id, pkid));
                }
                self.end_pkid(*pkid, "PublishComplete");
            }
            Event::PublishFailed { id, .. } => {
                if let Some(pkid) = self.publish_pkid.remove(id) {
                    self.end_pkid(pkid, "PublishFailed");
                }
            }
            Event::Subscribed { pkid, .. } | Event::SubscribeFailed { pkid, .. } => {
                self.end_pkid(*pkid, "SUBACK")
            }
            Event::Unsubscribed { pkid, .. } | Event::UnsubscribeFailed { pkid, .. } => {
                self.end_pkid(*pkid, "UNSUBACK")
            }
            Event::Granted(_) | Event::PublishReason { .. } | Event::ServerReason { .. } => {}
            Event::Connected { .. } => {
                self.stats.connected += 1;
                if self.s.options().protocol == ProtocolVersion::V5 {
                    self.stats.v5_connected += 1;
                }
                if self.s.state() != ConnectionState::Connected
                    && self.s.state() != ConnectionState::Closed
                {
                    violation("Connected leaves the session connected", self.s.state());
                }
            }
            Event::Pong { .. } => {} // nothing to account: no packet id, no state
            Event::Message(m) => {
                self.stats.messages += 1;
                if self.s.options().protocol == ProtocolVersion::V5 {
                    self.stats.v5_messages += 1;
                } else if m.properties.is_some() {
                    violation("only MQTT 5 messages have properties", m);
                }
                if m.qos != QoS::AtMostOnce && m.pkid == 0 {
                    violation("a delivered QoS 1/2 message has a packet id", m);
                }
                if mqtt_session::topic::validate_topic_name(&m.topic).is_err() {
                    violation("a delivered topic is a valid topic name", &m.topic);
                }
                if m.payload.len() > self.s.options().max_incoming_packet_size {
                    violation("a kept message is within the limit", m.payload.len());
                }
            }
            Event::MessageNotKept {
                topic,
                size,
                packet_size,
                qos,
                dup,
                pkid,
                limit,
                ..
            } => {
                self.stats.not_kept += 1;
                if (*qos == QoS::AtMostOnce) != (*pkid == 0) || (*dup && *qos == QoS::AtMostOnce) {
                    violation("a message not kept has a packet id exactly with QoS 1/2", e);
                }
                if mqtt_session::topic::validate_topic_name(topic).is_err() {
                    violation("a message not kept has a valid topic name", topic);
                }
                if *limit != self.s.options().max_incoming_packet_size
                    || *packet_size <= *limit
                    || *size >= *packet_size
                    || *packet_size > 268_435_455 + 5
                {
                    violation("a message not kept is over the limit in force", e);
                }
            }
            Event::ConnectionRefused { .. }
            | Event::InFlightDropped { .. }
            | Event::Closed { .. } => {}
        }
    }

    /// `connect` on a new transport.
    pub fn connect(&mut self) {
        let before = self.outstanding();
        self.closed = false;
        self.written.clear();
        if session_ends_with_connection(self.s.options()) {
            self.q2_reset = true;
        }
        self.s.connect(self.now);
        self.after("connect", 0, before);
    }

    /// Bytes from the broker.
    pub fn feed(&mut self, data: &[u8]) {
        let before = self.outstanding();
        self.stats.bytes_in += data.len() as u64;
        self.s.handle_bytes(self.now, data);
        let ended = !self.is_up();
        self.after_call("handle_bytes", data.len(), before, ended);
    }

    /// `handle_timeout` at the current time.
    pub fn timeout(&mut self) {
        let before = self.outstanding();
        self.s.handle_timeout(self.now);
        let ended = !self.is_up();
        self.after_call("handle_timeout", 0, before, ended);
        if let Some(t) = self.s.poll_timeout() {
            if t <= self.now {
                violation(
                    "poll_timeout is never in the past after handle_timeout",
                    (t, self.now, self.s.state()),
                );
            }
        }
    }

    /// A client publish (errors are fine; they must not emit anything).
    pub fn publish(&mut self, topic: &str, payload: Vec<u8>, qos: QoS, retain: bool) {
        let before = self.outstanding();
        let _ = self.s.publish(self.now, topic, payload, qos, retain);
        self.after("publish", 0, before);
    }

    /// A client subscribe.
    pub fn subscribe(&mut self, filters: Vec<(String, QoS)>) {
        let before = self.outstanding();
        if let Ok(pkid) = self.s.subscribe(self.now, filters) {
            self.start_pkid(pkid, "SUBSCRIBE");
        }
        self.after("subscribe", 0, before);
    }

    /// A client publish with MQTT 5 properties.
    pub fn publish_with(
        &mut self,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) {
        let before = self.outstanding();
        let _ = self
            .s
            .publish_with(self.now, topic, payload, qos, retain, properties);
        self.after("publish_with", 0, before);
    }

    /// A client subscribe with options and an identifier.
    pub fn subscribe_with(&mut self, filters: Vec<Subscription>, identifier: Option<u32>) {
        let before = self.outstanding();
        if let Ok(pkid) = self.s.subscribe_with(self.now, filters, identifier) {
            self.start_pkid(pkid, "SUBSCRIBE");
        }
        self.after("subscribe_with", 0, before);
    }

    /// A client unsubscribe.
    pub fn unsubscribe(&mut self, filters: Vec<String>) {
        let before = self.outstanding();
        if let Ok(pkid) = self.s.unsubscribe(self.now, filters) {
            self.start_pkid(pkid, "UNSUBSCRIBE");
        }
        self.after("unsubscribe", 0, before);
    }

    /// The transport closed.
    pub fn lost(&mut self) {
        let before = self.outstanding();
        // After Closed, closing the transport is allowed and must be silent.
        self.s.connection_lost("fuzz: transport closed".into());
        self.after_call("connection_lost", 0, before, true);
    }

    /// The user disconnects.
    pub fn disconnect(&mut self) {
        let before = self.outstanding();
        self.s.disconnect(self.now);
        self.after_call("disconnect", 0, before, true);
    }

    /// New options (only accepted while not connected).
    pub fn set_options(&mut self, options: Options) {
        let before = self.outstanding();
        let cap = match options.max_in_flight {
            0 => None,
            n => Some(usize::from(n)),
        };
        let new_session = options.client_id != self.s.options().client_id
            || options.protocol != self.s.options().protocol;
        if self.s.set_options(options).is_ok() {
            if new_session {
                self.q2_reset = true;
            }
            // A new transport will follow; events for what is dropped are
            // the caller's doing, not the old connection's.
            self.closed = false;
            self.window_cap = match (self.window_cap, cap) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        self.after("set_options", 0, before);
    }
}

/// Checks what the client wrote: whole packets that a broker's reader
/// (mqttbytes) accepts, with nonzero packet ids and no QoS 3. Returns the
/// packet ids of the PUBCOMPs written.
fn check_written(out: &[u8], protocol: ProtocolVersion) -> Vec<u16> {
    let mut pubcomps = Vec::new();
    let mut rest = out;
    while !rest.is_empty() {
        let Some((&byte1, tail)) = rest.split_first() else {
            break;
        };
        let mut len = 0usize;
        let mut header = 1usize;
        let mut done = false;
        for (i, &b) in tail.iter().take(4).enumerate() {
            len |= usize::from(b & 0x7F) << (7 * i);
            header += 1;
            if b & 0x80 == 0 {
                done = true;
                break;
            }
        }
        if !done || rest.len() < header + len {
            violation("the client writes whole packets", rest);
        }
        let (packet, next) = rest.split_at(header + len);
        let kind = byte1 >> 4;
        let body = &packet[header..];
        match kind {
            1 => {
                // CONNECT: mqttbytes cannot read MQTT 3.1's; check the name.
                let name: &[u8] = match protocol {
                    ProtocolVersion::V3_1 => b"\x00\x06MQIsdp",
                    ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => b"\x00\x04MQTT",
                };
                if !body.starts_with(name) {
                    violation("CONNECT carries the protocol name", packet);
                }
            }
            3 | 4 | 5 | 6 | 7 | 8 | 10 | 12 | 14 => {
                let mut buf = BytesMut::from(packet);
                match mqttbytes::v4::read(&mut buf, usize::MAX) {
                    Ok(p) => {
                        let pkid = match &p {
                            mqttbytes::v4::Packet::Publish(p) => {
                                if p.qos == mqttbytes::QoS::AtMostOnce {
                                    if p.dup {
                                        violation("no DUP on QoS 0", packet);
                                    }
                                    None
                                } else {
                                    Some(p.pkid)
                                }
                            }
                            mqttbytes::v4::Packet::PubAck(a) => Some(a.pkid),
                            mqttbytes::v4::Packet::PubRec(a) => Some(a.pkid),
                            mqttbytes::v4::Packet::PubRel(a) => Some(a.pkid),
                            mqttbytes::v4::Packet::PubComp(a) => {
                                pubcomps.push(a.pkid);
                                Some(a.pkid)
                            }
                            mqttbytes::v4::Packet::Subscribe(s) => {
                                if s.filters.is_empty() {
                                    violation("SUBSCRIBE has filters", packet);
                                }
                                Some(s.pkid)
                            }
                            mqttbytes::v4::Packet::Unsubscribe(u) => Some(u.pkid),
                            _ => None,
                        };
                        if pkid == Some(0) {
                            violation("the client never writes packet id 0", packet);
                        }
                    }
                    Err(e) => violation("the client writes readable MQTT", (e, packet)),
                }
            }
            _ => violation("the client writes only client packet types", packet),
        }
        rest = next;
    }
    pubcomps
}

/// Splits what the client wrote into whole packets (first byte, header
/// length, packet).
fn packets(out: &[u8]) -> Vec<(u8, usize, &[u8])> {
    let mut v = Vec::new();
    let mut rest = out;
    while let Some((&byte1, tail)) = rest.split_first() {
        let mut len = 0usize;
        let mut header = 1usize;
        let mut done = false;
        for (i, &b) in tail.iter().take(4).enumerate() {
            len |= usize::from(b & 0x7F) << (7 * i);
            header += 1;
            if b & 0x80 == 0 {
                done = true;
                break;
            }
        }
        if !done || rest.len() < header + len {
            violation("the client writes whole packets", rest);
        }
        let (packet, next) = rest.split_at(header + len);
        v.push((byte1, header, packet));
        rest = next;
    }
    v
}

/// DISCONNECT reason codes a client may send (MQTT 5 §3.14.2.1).
const CLIENT_DISCONNECT_CODES: [u8; 14] = [
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
];

/// `check_written` for MQTT 5, and what the broker granted is honoured.
/// mqttbytes reads every packet but DISCONNECT (it refuses the two-byte
/// normal disconnection) and UNSUBSCRIBE (its reader prints to stderr).
fn check_written_v5(out: &[u8], granted: Option<&Granted>) -> Vec<u16> {
    use mqttbytes::v5::Packet;
    let mut pubcomps = Vec::new();
    for (byte1, header, packet) in packets(out) {
        let body = &packet[header..];
        let pkid = match byte1 >> 4 {
            10 => {
                // Packet id, property length 0 (we send none), filters.
                if body.len() < 3 + 2 || body[2] != 0 {
                    violation("UNSUBSCRIBE is well-formed", packet);
                }
                let mut at = 3;
                while at < body.len() {
                    let n = match (body.get(at), body.get(at + 1)) {
                        (Some(&h), Some(&l)) => usize::from(u16::from_be_bytes([h, l])),
                        _ => violation("UNSUBSCRIBE is well-formed", packet),
                    };
                    at += 2 + n;
                }
                if at != body.len() {
                    violation("UNSUBSCRIBE is well-formed", packet);
                }
                Some(u16::from_be_bytes([body[0], body[1]]))
            }
            14 => {
                let ok = byte1 == 0xE0
                    && (body.is_empty()
                        || (body.len() == 1 && CLIENT_DISCONNECT_CODES.contains(&body[0])));
                if !ok {
                    violation("DISCONNECT is a client's", packet);
                }
                None
            }
            1 | 3 | 4 | 5 | 6 | 7 | 8 | 12 => {
                let mut buf = BytesMut::from(packet);
                let p = match mqttbytes::v5::read(&mut buf, usize::MAX) {
                    Ok(p) => p,
                    Err(e) => violation("the client writes readable MQTT 5", (e, packet)),
                };
                match p {
                    Packet::Connect(c) => {
                        if c.protocol != mqttbytes::Protocol::V5 {
                            violation("CONNECT says level 5", packet);
                        }
                        None
                    }
                    Packet::Publish(p) => {
                        let alias = p.properties.as_ref().and_then(|q| q.topic_alias);
                        if let Some(q) = &p.properties {
                            if !q.subscription_identifiers.is_empty() {
                                violation("a client sends no subscription identifier", packet);
                            }
                        }
                        if p.topic.is_empty() && alias.is_none() {
                            violation("an empty topic comes with an alias", packet);
                        }
                        if let Some(g) = granted {
                            if let Some(a) = alias {
                                if a == 0 || a > g.topic_alias_maximum {
                                    violation("topic aliases stay within the broker's", (a, g));
                                }
                            }
                            // A redelivery (DUP) after a resumed session
                            // keeps its size, QoS and retain flag even when
                            // the new CONNACK lowered what the broker allows
                            // (the session's choice, not checked here).
                            if let Some(max) = g.maximum_packet_size {
                                if !p.dup && packet.len() as u64 > u64::from(max) {
                                    violation("no packet over the broker's maximum", packet.len());
                                }
                            }
                            if !p.dup && p.qos as u8 > g.maximum_qos.as_u8() {
                                violation("no QoS above the broker's maximum", (p.qos, g));
                            }
                            if !p.dup && p.retain && !g.retain_available {
                                violation("no retain when the broker has none", packet);
                            }
                        }
                        if p.qos == mqttbytes::QoS::AtMostOnce {
                            if p.dup {
                                violation("no DUP on QoS 0", packet);
                            }
                            None
                        } else {
                            Some(p.pkid)
                        }
                    }
                    Packet::PubAck(a) => Some(a.pkid),
                    Packet::PubRec(a) => Some(a.pkid),
                    Packet::PubRel(a) => Some(a.pkid),
                    Packet::PubComp(a) => {
                        pubcomps.push(a.pkid);
                        Some(a.pkid)
                    }
                    Packet::Subscribe(s) => {
                        if s.filters.is_empty() {
                            violation("SUBSCRIBE has filters", packet);
                        }
                        if let (Some(g), Some(id)) =
                            (granted, s.properties.as_ref().and_then(|p| p.id))
                        {
                            if !g.subscription_identifiers_available || id == 0 {
                                violation("subscription identifiers as the broker allows", id);
                            }
                        }
                        Some(s.pkid)
                    }
                    Packet::PingReq => None,
                    other => violation("the client writes only client packet types", other),
                }
            }
            _ => violation("the client writes only client packet types", packet),
        };
        if pkid == Some(0) {
            violation("the client never writes packet id 0", packet);
        }
    }
    pubcomps
}

// ----- the generator -----

const TOPICS: [&str; 8] = [
    "t",
    "a/b",
    "sensors/1/temp",
    "$SYS/x",
    "é/日本",
    "a//b",
    "/",
    "x/y/z/w",
];
const BAD_TOPICS: [&str; 4] = ["a/+", "#", "", "a\u{0}b"];
const FILTERS: [&str; 7] = ["#", "a/+", "sensors/#", "t", "$SYS/#", "+/+/+", "é/#"];
const BAD_FILTERS: [&str; 3] = ["a/#/b", "a+", ""];
const SHARED_FILTERS: [&str; 3] = ["$share/g/a/+", "$share/g/#", "$share//t"];
/// The incoming limits the generator uses.
const LIMITS: [usize; 5] = [5, 16, 300, 4096, 1 << 20];

/// What the simulated broker owes the client, learnt from what it wrote.
#[derive(Default)]
struct Owed {
    connack: bool,
    acks: Vec<Vec<u8>>,
    /// Packet ids of QoS 2 messages this broker sent (for PUBREL).
    sent_qos2: Vec<u16>,
    /// MQTT 5: the topic aliases this broker set on this connection.
    aliases: Vec<u16>,
}

/// What the simulated broker knows of the client's options.
#[derive(Debug, Clone, Copy)]
struct Peer {
    v5: bool,
    /// The client's Topic Alias Maximum.
    alias_max: u16,
    /// The client's Receive Maximum.
    receive_max: u16,
    /// The client sent an empty client id.
    no_client_id: bool,
}

impl Peer {
    fn of(o: &Options) -> Peer {
        Peer {
            v5: o.protocol == ProtocolVersion::V5,
            alias_max: o.v5.topic_alias_maximum,
            receive_max: o.v5.receive_maximum,
            no_client_id: o.client_id.is_empty(),
        }
    }
}

fn ack(byte1: u8, pkid: u16) -> Vec<u8> {
    let [hi, lo] = pkid.to_be_bytes();
    vec![byte1, 2, hi, lo]
}

fn put_len(v: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        v.push(b);
        if len == 0 {
            break;
        }
    }
}

/// A PUBLISH as a broker would write it (any QoS bits, any flags).
fn publish_bytes(flags: u8, topic: &[u8], pkid: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    body.extend_from_slice(topic);
    if let Some(id) = pkid {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.extend_from_slice(payload);
    let mut v = vec![0x30 | (flags & 0x0F)];
    put_len(&mut v, body.len());
    v.extend(body);
    v
}

fn learn(owed: &mut Owed, written: &[u8], rng: &mut Rng, peer: Peer) {
    if peer.v5 {
        return learn_v5(owed, written, rng);
    }
    let mut rest = written;
    while rest.len() >= 2 {
        let byte1 = rest[0];
        let mut len = 0usize;
        let mut header = 1usize;
        for (i, &b) in rest[1..].iter().take(4).enumerate() {
            len |= usize::from(b & 0x7F) << (7 * i);
            header += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        if rest.len() < header + len {
            break;
        }
        let body = &rest[header..header + len];
        let pkid_at = |at: usize| -> u16 {
            match (body.get(at), body.get(at + 1)) {
                (Some(&h), Some(&l)) => u16::from_be_bytes([h, l]),
                _ => 0,
            }
        };
        match byte1 >> 4 {
            1 => owed.connack = true,
            3 => {
                let qos = (byte1 >> 1) & 3;
                let topic_len = usize::from(pkid_at(0));
                let pkid = pkid_at(2 + topic_len);
                match qos {
                    1 => owed.acks.push(ack(0x40, pkid)),
                    2 => owed.acks.push(ack(0x50, pkid)),
                    _ => {}
                }
            }
            6 => owed.acks.push(ack(0x70, pkid_at(0))),
            8 => {
                // Count the filters: (len, filter, qos) after the packet id.
                let mut at = 2;
                let mut codes = Vec::new();
                while at + 2 <= body.len() {
                    at += 2 + usize::from(pkid_at(at)) + 1;
                    codes.push(*rng.pick(&[0u8, 1, 2, 0x80]));
                }
                let mut v = vec![0x90];
                put_len(&mut v, 2 + codes.len());
                v.extend_from_slice(&pkid_at(0).to_be_bytes());
                v.extend(codes);
                owed.acks.push(v);
            }
            10 => owed.acks.push(ack(0xB0, pkid_at(0))),
            12 => owed.acks.push(vec![0xD0, 0]),
            _ => {}
        }
        rest = &rest[header + len..];
    }
}

fn mutate(rng: &mut Rng, mut v: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.range(1, 4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len as u64) as usize;
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len as u64) as usize;
                v[i] = rng.next_u64() as u8;
            }
            2 => {
                let i = rng.below(len as u64 + 1) as usize;
                v.insert(i, rng.next_u64() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len as u64) as usize;
                v.remove(i);
            }
            4 if len > 0 => {
                let keep = rng.below(len as u64) as usize;
                v.truncate(keep);
            }
            5 if len > 1 => {
                // Corrupt a likely length byte.
                let i = 1.min(len - 1);
                v[i] = *rng.pick(&[0u8, 1, 2, 3, 0x7F, 0x80, 0xFF]);
            }
            6 if len > 0 => {
                let a = rng.below(len as u64) as usize;
                let b = (a + rng.size(16)).min(len);
                let slice = v[a..b].to_vec();
                let at = rng.below(len as u64 + 1) as usize;
                v.splice(at..at, slice);
            }
            _ => {
                // Flip the first byte's flags.
                if let Some(b) = v.first_mut() {
                    *b ^= rng.below(16) as u8;
                }
            }
        }
    }
    v
}

/// A packet a well-behaved broker could send now.
fn polite_chunk(rng: &mut Rng, owed: &mut Owed, peer: Peer) -> Vec<u8> {
    if peer.v5 {
        return polite_chunk_v5(rng, owed, peer);
    }
    if owed.connack {
        owed.connack = false;
        return vec![0x20, 2, u8::from(rng.chance(30)), 0];
    }
    match rng.below(100) {
        0..=59 if !owed.acks.is_empty() => owed.acks.remove(0),
        0..=89 => {
            let qos = rng.below(3) as u8;
            let dup = qos > 0 && rng.chance(10);
            let flags = (u8::from(dup) << 3) | (qos << 1) | u8::from(rng.chance(10));
            let pkid = (qos > 0).then(|| rng.range(1, 6) as u16);
            if let (2, Some(id)) = (qos, pkid) {
                owed.sent_qos2.push(id);
            }
            let n = rng.size(300);
            let payload = rng.bytes(n);
            publish_bytes(flags, rng.pick(&TOPICS).as_bytes(), pkid, &payload)
        }
        90..=94 if !owed.sent_qos2.is_empty() => ack(0x62, owed.sent_qos2.remove(0)),
        _ => vec![0xD0, 0],
    }
}

/// One broker packet (or garbage) chosen from the broker's situation: a
/// polite one, except with probability `hostility` %.
fn broker_chunk(
    rng: &mut Rng,
    owed: &mut Owed,
    corpus: &[Vec<u8>],
    hostile: &[HostileCase],
    hostility: u64,
    peer: Peer,
) -> Vec<u8> {
    if !rng.chance(hostility) {
        return polite_chunk(rng, owed, peer);
    }
    if peer.v5 {
        let v = hostile_chunk_v5(rng, owed, corpus, hostile, peer);
        return if rng.chance(25) { mutate(rng, v) } else { v };
    }
    let v = match rng.below(100) {
        0..=29 => {
            if owed.connack && rng.chance(70) {
                owed.connack = false;
                let code = if rng.chance(90) {
                    0
                } else {
                    rng.below(7) as u8
                };
                let flags = if rng.chance(95) {
                    rng.below(2) as u8
                } else {
                    rng.next_u64() as u8
                };
                vec![0x20, 2, flags, code]
            } else if !owed.acks.is_empty() {
                let i = rng.below(owed.acks.len() as u64) as usize;
                if rng.chance(85) {
                    owed.acks.remove(i)
                } else {
                    owed.acks[i].clone()
                }
            } else {
                vec![0xD0, 0]
            }
        }
        30..=54 => {
            let qos = *rng.pick(&[0u8, 0, 1, 1, 2, 2, 3]);
            let dup = (qos > 0 && rng.chance(20)) || rng.chance(2);
            let retain = rng.chance(20);
            let flags = (u8::from(dup) << 3) | (qos << 1) | u8::from(retain);
            let topic: Vec<u8> = if rng.chance(92) {
                rng.pick(&TOPICS).as_bytes().to_vec()
            } else if rng.chance(50) {
                rng.pick(&BAD_TOPICS).as_bytes().to_vec()
            } else {
                let n = rng.size(8);
                rng.bytes(n)
            };
            let pkid = if qos == 0 {
                None
            } else {
                let id = if rng.chance(3) {
                    0
                } else {
                    rng.range(1, 6) as u16
                };
                if qos == 2 {
                    owed.sent_qos2.push(id);
                }
                Some(id)
            };
            let n = if rng.chance(3) {
                rng.range(256, 4096) as usize
            } else {
                rng.size(64)
            };
            let payload = rng.bytes(n);
            publish_bytes(flags, &topic, pkid, &payload)
        }
        55..=61 => {
            let id = if !owed.sent_qos2.is_empty() && rng.chance(80) {
                let i = rng.below(owed.sent_qos2.len() as u64) as usize;
                owed.sent_qos2.swap_remove(i)
            } else {
                rng.range(0, 8) as u16
            };
            ack(0x62, id)
        }
        62..=68 => {
            let byte1 = *rng.pick(&[0x40u8, 0x50, 0x62, 0x70, 0xB0]);
            ack(byte1, rng.range(0, 8) as u16)
        }
        69..=72 => vec![0xD0, 0],
        73..=76 => {
            let n = rng.range(1, 4) as usize;
            let mut v = vec![0x90];
            put_len(&mut v, 2 + n);
            v.extend_from_slice(&(rng.range(1, 8) as u16).to_be_bytes());
            for _ in 0..n {
                v.push(*rng.pick(&[0u8, 1, 2, 3, 0x80, 0x81]));
            }
            v
        }
        77..=81 => {
            let n = rng.range(1, 16) as usize;
            rng.bytes(n)
        }
        82..=92 if !corpus.is_empty() => {
            let c = rng.pick(corpus);
            if c.is_empty() || rng.chance(50) {
                c.clone()
            } else {
                let a = rng.below(c.len() as u64) as usize;
                let b = rng.range(a as u64, c.len() as u64) as usize;
                c[a..b].to_vec()
            }
        }
        _ => {
            let case = rng.pick(hostile);
            // Without its leading CONNACK, usually.
            if case.bytes.starts_with(&hostile::CONNACK_ACCEPTED) && rng.chance(70) {
                case.bytes[hostile::CONNACK_ACCEPTED.len()..].to_vec()
            } else {
                case.bytes.clone()
            }
        }
    };
    if rng.chance(25) {
        mutate(rng, v)
    } else {
        v
    }
}

// ----- the MQTT 5 broker -----

/// A length-prefixed string (or binary data).
fn mqtt_str(v: &mut Vec<u8>, x: &[u8]) {
    v.extend_from_slice(&(x.len() as u16).to_be_bytes());
    v.extend_from_slice(x);
}

/// A property section: its length, then `body`.
fn with_len(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    put_len(&mut v, body.len());
    v.extend_from_slice(body);
    v
}

/// A packet: first byte, remaining length, body.
fn frame(byte1: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![byte1];
    put_len(&mut v, body.len());
    v.extend_from_slice(body);
    v
}

/// An MQTT 5 PUBLISH (any flags) with this property section (length
/// included).
fn publish_v5_bytes(
    flags: u8,
    topic: &[u8],
    pkid: Option<u16>,
    props: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    mqtt_str(&mut body, topic);
    if let Some(id) = pkid {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.extend_from_slice(props);
    body.extend_from_slice(payload);
    frame(0x30 | (flags & 0x0F), &body)
}

/// An MQTT 5 ack (PUBACK…PUBCOMP) with a reason code and, sometimes, a
/// reason string.
fn ack_v5(rng: &mut Rng, byte1: u8, pkid: u16, codes: &[u8]) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    match rng.below(10) {
        0..=5 => {}
        6 | 7 => body.push(*rng.pick(codes)),
        _ => {
            body.push(*rng.pick(codes));
            let mut p = vec![0x1F];
            mqtt_str(&mut p, b"because");
            if rng.chance(30) {
                p.push(0x26);
                mqtt_str(&mut p, b"k");
                mqtt_str(&mut p, b"v");
            }
            body.extend(with_len(&p));
        }
    }
    frame(byte1, &body)
}

/// Well-formed PUBLISH properties a broker may send (no topic alias).
fn publish_props_v5(rng: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    if rng.chance(20) {
        p.extend([0x01, rng.below(2) as u8]);
    }
    if rng.chance(15) {
        p.push(0x02);
        p.extend((rng.below(100_000) as u32).to_be_bytes());
    }
    if rng.chance(15) {
        p.push(0x03);
        mqtt_str(&mut p, b"text/plain");
    }
    if rng.chance(10) {
        p.push(0x08);
        mqtt_str(&mut p, b"reply/to");
    }
    if rng.chance(10) {
        p.push(0x09);
        let n = rng.size(16);
        let data = rng.bytes(n);
        mqtt_str(&mut p, &data);
    }
    for _ in 0..rng.below(3) {
        p.push(0x26);
        mqtt_str(&mut p, b"key");
        mqtt_str(&mut p, "välue".as_bytes());
    }
    for _ in 0..rng.below(3) {
        p.push(0x0B);
        put_len(&mut p, rng.range(1, 268_435_455) as usize);
    }
    p
}

/// What an MQTT 5 broker owes for what the client wrote.
fn learn_v5(owed: &mut Owed, written: &[u8], rng: &mut Rng) {
    for (byte1, header, packet) in packets(written) {
        let body = &packet[header..];
        let u16_at = |at: usize| -> u16 {
            match (body.get(at), body.get(at + 1)) {
                (Some(&h), Some(&l)) => u16::from_be_bytes([h, l]),
                _ => 0,
            }
        };
        // The end of a property section starting at `at`.
        let skip_props = |at: usize| -> usize {
            let mut len = 0usize;
            for (i, &b) in body.iter().skip(at).take(4).enumerate() {
                len |= usize::from(b & 0x7F) << (7 * i);
                if b & 0x80 == 0 {
                    return at + i + 1 + len;
                }
            }
            body.len()
        };
        let pkid = u16_at(0);
        match byte1 >> 4 {
            1 => owed.connack = true,
            3 => {
                let qos = (byte1 >> 1) & 3;
                let id = u16_at(2 + usize::from(u16_at(0)));
                match qos {
                    1 => {
                        let a = ack_v5(rng, 0x40, id, &[0, 0, 0x10, 0x80, 0x87, 0x97]);
                        owed.acks.push(a);
                    }
                    2 => {
                        let a = ack_v5(rng, 0x50, id, &[0, 0, 0x10, 0x80, 0x97, 0x99]);
                        owed.acks.push(a);
                    }
                    _ => {}
                }
            }
            6 => {
                let a = ack_v5(rng, 0x70, pkid, &[0, 0, 0, 0x92]);
                owed.acks.push(a);
            }
            8 => {
                let mut at = skip_props(2);
                let mut codes = Vec::new();
                while at + 2 <= body.len() {
                    at += 2 + usize::from(u16_at(at)) + 1;
                    codes.push(*rng.pick(&[0u8, 1, 2, 0x80, 0x87, 0x8F, 0x97, 0xA2]));
                }
                let mut b = pkid.to_be_bytes().to_vec();
                b.push(0);
                b.extend(codes);
                owed.acks.push(frame(0x90, &b));
            }
            10 => {
                let mut at = skip_props(2);
                let mut b = pkid.to_be_bytes().to_vec();
                b.push(0);
                while at + 2 <= body.len() {
                    at += 2 + usize::from(u16_at(at));
                    b.push(*rng.pick(&[0u8, 0, 0x11, 0x80, 0x87]));
                }
                owed.acks.push(frame(0xB0, &b));
            }
            12 => owed.acks.push(vec![0xD0, 0]),
            _ => {}
        }
    }
}

/// An MQTT 5 CONNACK accepting the connection, with what a broker might
/// grant.
fn connack_v5(rng: &mut Rng, peer: Peer) -> Vec<u8> {
    let mut p = Vec::new();
    if peer.no_client_id || rng.chance(5) {
        p.push(0x12);
        mqtt_str(&mut p, b"auto-7f3a");
    }
    if rng.chance(30) {
        p.push(0x21);
        p.extend((rng.range(1, 20) as u16).to_be_bytes());
    }
    if rng.chance(15) {
        p.extend([0x24, rng.below(2) as u8]);
    }
    if rng.chance(15) {
        p.extend([0x25, rng.below(2) as u8]);
    }
    if rng.chance(20) {
        p.push(0x22);
        p.extend((rng.below(11) as u16).to_be_bytes());
    }
    if rng.chance(15) {
        p.push(0x27);
        p.extend((*rng.pick(&[64u32, 300, 4096, 1 << 20])).to_be_bytes());
    }
    if rng.chance(10) {
        p.push(0x13);
        p.extend((*rng.pick(&[0u16, 1, 5, 30])).to_be_bytes());
    }
    if rng.chance(10) {
        p.push(0x11);
        p.extend((rng.below(10_000) as u32).to_be_bytes());
    }
    for id in [0x28u8, 0x29, 0x2A] {
        if rng.chance(10) {
            p.extend([id, rng.below(2) as u8]);
        }
    }
    if rng.chance(10) {
        p.push(0x1F);
        mqtt_str(&mut p, b"welcome");
    }
    let mut body = vec![u8::from(rng.chance(30)), 0];
    body.extend(with_len(&p));
    frame(0x20, &body)
}

/// A packet a well-behaved MQTT 5 broker could send now.
fn polite_chunk_v5(rng: &mut Rng, owed: &mut Owed, peer: Peer) -> Vec<u8> {
    if owed.connack {
        owed.connack = false;
        owed.aliases.clear();
        return connack_v5(rng, peer);
    }
    match rng.below(100) {
        0..=59 if !owed.acks.is_empty() => owed.acks.remove(0),
        0..=89 => {
            let room = owed.sent_qos2.len() < usize::from(peer.receive_max);
            let qos = if room {
                rng.below(3) as u8
            } else {
                rng.below(2) as u8
            };
            let dup = qos > 0 && rng.chance(10);
            let flags = (u8::from(dup) << 3) | (qos << 1) | u8::from(rng.chance(10));
            let pkid = (qos > 0).then(|| rng.range(1, 6) as u16);
            if let (2, Some(id)) = (qos, pkid) {
                owed.sent_qos2.push(id);
            }
            let mut props = publish_props_v5(rng);
            let mut topic = rng.pick(&TOPICS).as_bytes().to_vec();
            if peer.alias_max > 0 && rng.chance(40) {
                if !owed.aliases.is_empty() && rng.chance(60) {
                    // Use an alias set before, without the topic.
                    topic.clear();
                    let a = *rng.pick(&owed.aliases);
                    props.push(0x23);
                    props.extend(a.to_be_bytes());
                } else {
                    let a = rng.range(1, u64::from(peer.alias_max)) as u16;
                    if !owed.aliases.contains(&a) {
                        owed.aliases.push(a);
                    }
                    props.push(0x23);
                    props.extend(a.to_be_bytes());
                }
            }
            let n = rng.size(300);
            let payload = rng.bytes(n);
            publish_v5_bytes(flags, &topic, pkid, &with_len(&props), &payload)
        }
        90..=94 if !owed.sent_qos2.is_empty() => {
            let id = owed.sent_qos2.remove(0);
            ack_v5(rng, 0x62, id, &[0, 0, 0, 0x92])
        }
        95 => {
            // The broker ends the connection.
            let code = *rng.pick(&[0x00u8, 0x8B, 0x8E, 0x98, 0x9C]);
            if rng.chance(50) {
                vec![0xE0, 1, code]
            } else {
                let mut p = vec![0x1F];
                mqtt_str(&mut p, b"bye");
                if code == 0x9C {
                    p.push(0x1C);
                    mqtt_str(&mut p, b"other:1883");
                }
                let mut body = vec![code];
                body.extend(with_len(&p));
                frame(0xE0, &body)
            }
        }
        _ => vec![0xD0, 0],
    }
}

/// A random property section: well-formed properties, sometimes with
/// identifiers, values or strings a broker must not send.
fn random_props_v5(rng: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    for _ in 0..rng.below(4) {
        let id = if rng.chance(80) {
            *rng.pick(&[
                0x01u8, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x17, 0x1C, 0x1F,
                0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
            ])
        } else {
            rng.next_u64() as u8
        };
        p.push(id);
        match id {
            0x01 | 0x17 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => p.push(*rng.pick(&[0u8, 1, 1, 2])),
            0x02 | 0x11 | 0x27 => p.extend((*rng.pick(&[0u32, 1, 300, u32::MAX])).to_be_bytes()),
            0x13 | 0x21 | 0x22 | 0x23 => {
                p.extend((*rng.pick(&[0u16, 1, 3, 10, 11, 65_535])).to_be_bytes())
            }
            0x0B => put_len(&mut p, *rng.pick(&[0usize, 1, 127, 128, 268_435_455])),
            0x26 => {
                let keys: [&[u8]; 3] = [b"k", b"\xC3\x28", b"a\0"];
                let k = *rng.pick(&keys);
                mqtt_str(&mut p, k);
                mqtt_str(&mut p, b"v");
            }
            _ => {
                let values: [&[u8]; 4] = [b"text", b"r/+", b"", b"\xED\xA0\x80"];
                let v = *rng.pick(&values);
                mqtt_str(&mut p, v);
            }
        }
    }
    p
}

/// A packet (or garbage) a hostile MQTT 5 broker could send now.
fn hostile_chunk_v5(
    rng: &mut Rng,
    owed: &mut Owed,
    corpus: &[Vec<u8>],
    hostile: &[HostileCase],
    peer: Peer,
) -> Vec<u8> {
    match rng.below(100) {
        0..=24 => {
            if owed.connack && rng.chance(70) {
                owed.connack = false;
                owed.aliases.clear();
                if rng.chance(60) {
                    return connack_v5(rng, peer);
                }
                let flags = if rng.chance(90) {
                    rng.below(2) as u8
                } else {
                    rng.next_u64() as u8
                };
                let code = *rng.pick(&[0u8, 0, 0, 1, 0x80, 0x86, 0x87, 0x9C, 0x04]);
                let mut body = vec![flags, code];
                body.extend(with_len(&random_props_v5(rng)));
                frame(0x20, &body)
            } else if !owed.acks.is_empty() {
                let i = rng.below(owed.acks.len() as u64) as usize;
                if rng.chance(85) {
                    owed.acks.remove(i)
                } else {
                    owed.acks[i].clone()
                }
            } else {
                vec![0xD0, 0]
            }
        }
        25..=49 => {
            let qos = *rng.pick(&[0u8, 0, 1, 1, 2, 2, 3]);
            let dup = (qos > 0 && rng.chance(20)) || rng.chance(2);
            let flags = (u8::from(dup) << 3) | (qos << 1) | u8::from(rng.chance(20));
            let topic: Vec<u8> = match rng.below(100) {
                0..=79 => rng.pick(&TOPICS).as_bytes().to_vec(),
                80..=89 => Vec::new(),
                90..=94 => rng.pick(&BAD_TOPICS).as_bytes().to_vec(),
                _ => {
                    let n = rng.size(8);
                    rng.bytes(n)
                }
            };
            let pkid = (qos > 0).then(|| {
                let id = if rng.chance(3) {
                    0
                } else {
                    rng.range(1, 8) as u16
                };
                if qos == 2 {
                    owed.sent_qos2.push(id);
                }
                id
            });
            let mut props = if rng.chance(70) {
                publish_props_v5(rng)
            } else {
                random_props_v5(rng)
            };
            if rng.chance(40) {
                let a = if rng.chance(80) && !owed.aliases.is_empty() {
                    *rng.pick(&owed.aliases)
                } else {
                    rng.range(0, u64::from(peer.alias_max) + 2) as u16
                };
                if !topic.is_empty() && !owed.aliases.contains(&a) {
                    owed.aliases.push(a);
                }
                props.push(0x23);
                props.extend(a.to_be_bytes());
            }
            let n = if rng.chance(3) {
                rng.range(256, 4096) as usize
            } else {
                rng.size(64)
            };
            let payload = rng.bytes(n);
            let section = if rng.chance(97) {
                with_len(&props)
            } else {
                // A property length that lies.
                let mut v = Vec::new();
                put_len(
                    &mut v,
                    (props.len() + rng.range(0, 2) as usize).saturating_sub(1),
                );
                v.extend(props);
                v
            };
            publish_v5_bytes(flags, &topic, pkid, &section, &payload)
        }
        50..=56 => {
            let id = if !owed.sent_qos2.is_empty() && rng.chance(80) {
                let i = rng.below(owed.sent_qos2.len() as u64) as usize;
                owed.sent_qos2.swap_remove(i)
            } else {
                rng.range(0, 8) as u16
            };
            ack_v5(rng, 0x62, id, &[0, 0, 0x92, 0x10])
        }
        57..=63 => {
            let byte1 = *rng.pick(&[0x40u8, 0x50, 0x62, 0x70, 0x90, 0xB0]);
            let mut body = (rng.range(0, 8) as u16).to_be_bytes().to_vec();
            if rng.chance(70) {
                if byte1 < 0x90 {
                    body.push(*rng.pick(&[0u8, 0x10, 0x80, 0x92, 0x97, 0x01]));
                }
                body.extend(with_len(&random_props_v5(rng)));
                if byte1 >= 0x90 {
                    body.push(*rng.pick(&[0u8, 1, 2, 0x11, 0x80, 0x87, 0x03]));
                }
            }
            frame(byte1, &body)
        }
        64..=67 => vec![0xD0, 0],
        68..=71 => {
            // DISCONNECT from the broker, any code, any properties.
            let code = *rng.pick(&[0u8, 0x04, 0x80, 0x8B, 0x8E, 0x9C, 0xA2, 0x05]);
            match rng.below(3) {
                0 => vec![0xE0, 0],
                1 => vec![0xE0, 1, code],
                _ => {
                    let mut body = vec![code];
                    body.extend(with_len(&random_props_v5(rng)));
                    frame(0xE0, &body)
                }
            }
        }
        72..=73 => vec![0xF0, 2, *rng.pick(&[0x00u8, 0x18, 0x19]), 0],
        74..=78 => {
            let n = rng.range(1, 16) as usize;
            rng.bytes(n)
        }
        79..=89 if !corpus.is_empty() => {
            let c = rng.pick(corpus);
            if c.is_empty() || rng.chance(50) {
                c.clone()
            } else {
                let a = rng.below(c.len() as u64) as usize;
                let b = rng.range(a as u64, c.len() as u64) as usize;
                c[a..b].to_vec()
            }
        }
        _ => {
            let v5: Vec<&HostileCase> = hostile
                .iter()
                .filter(|c| c.name.starts_with("v5-"))
                .collect();
            let case = if !v5.is_empty() && rng.chance(85) {
                *rng.pick(&v5)
            } else {
                rng.pick(hostile)
            };
            if case.bytes.starts_with(&hostile::CONNACK_V5_ACCEPTED) && rng.chance(70) {
                case.bytes[hostile::CONNACK_V5_ACCEPTED.len()..].to_vec()
            } else {
                case.bytes.clone()
            }
        }
    }
}

fn random_options(rng: &mut Rng, v5: bool) -> Options {
    let protocol = if v5 {
        ProtocolVersion::V5
    } else if rng.chance(15) {
        ProtocolVersion::V3_1
    } else {
        ProtocolVersion::V3_1_1
    };
    let clean_session = rng.chance(50);
    let client_id = match rng.below(4) {
        0 if (clean_session && protocol == ProtocolVersion::V3_1_1) || v5 => String::new(),
        1 => "fuzz-b".into(),
        _ => "fuzz-a".into(),
    };
    let mut o = Options {
        client_id,
        clean_session,
        protocol,
        keep_alive_secs: *rng.pick(&[0u16, 1, 2, 5, 60, 65_535]),
        response_timeout_ms: *rng.pick(&[1u64, 100, 1_000, 10_000, 1 << 40]),
        max_incoming_packet_size: *rng.pick(&LIMITS),
        max_in_flight: *rng.pick(&[0u16, 1, 2, 5, 20]),
        ..Options::default()
    };
    if v5 {
        o.v5 = ConnectProperties {
            session_expiry_secs: *rng.pick(&[0u32, 0, 60, 3600, u32::MAX]),
            receive_maximum: *rng.pick(&[1u16, 2, 5, 65_535]),
            topic_alias_maximum: *rng.pick(&[0u16, 0, 1, 10]),
            request_response_information: rng.chance(10),
            request_problem_information: !rng.chance(10),
            user_properties: if rng.chance(20) {
                vec![("app".into(), "fuzz".into())]
            } else {
                Vec::new()
            },
            will_delay_secs: *rng.pick(&[0u32, 0, 5]),
            will_properties: if rng.chance(50) {
                random_publish_properties(rng)
            } else {
                PublishProperties::default()
            },
        };
        if rng.chance(15) {
            o.last_will = Some(mqtt_session::LastWill {
                topic: "fuzz/will".into(),
                payload: b"gone".to_vec(),
                qos: *rng.pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]),
                retain: rng.chance(20),
            });
        }
        if rng.chance(10) {
            o.username = Some(if rng.chance(50) { "user" } else { "" }.into());
            o.password = Some(if rng.chance(50) { "secret" } else { "" }.into());
        }
    }
    o
}

/// PUBLISH properties a client may send.
fn random_publish_properties(rng: &mut Rng) -> PublishProperties {
    PublishProperties {
        payload_format_indicator: rng.chance(30).then(|| rng.below(2) as u8),
        message_expiry_secs: rng.chance(20).then(|| rng.below(100_000) as u32),
        content_type: rng.chance(30).then(|| "application/json".into()),
        response_topic: rng.chance(20).then(|| "reply/fuzz".into()),
        correlation_data: rng.chance(20).then(|| {
            let n = rng.size(16);
            bytes::Bytes::from(rng.bytes(n))
        }),
        user_properties: (0..rng.below(3))
            .map(|i| (format!("k{i}"), "v".into()))
            .collect(),
        subscription_identifiers: Vec::new(),
    }
}

/// Runs one bounded execution from `seed`; panics on an invariant violation.
/// With `trace`, prints every operation (for reproducing a failure).
pub fn run_one(seed: u64, corpus: &[Vec<u8>], hostile: &[HostileCase], trace: bool) -> Stats {
    run_one_with(seed, corpus, hostile, trace, 33)
}

/// One execution, speaking MQTT 5 with a chance of `v5_percent` (100: only
/// MQTT 5, for a long run of the v5 decoder and session).
pub fn run_one_with(
    seed: u64,
    corpus: &[Vec<u8>],
    hostile: &[HostileCase],
    trace: bool,
    v5_percent: u64,
) -> Stats {
    let mut rng = Rng::new(seed);
    let v5 = rng.chance(v5_percent);
    let mut c = Checked::new(random_options(&mut rng, v5), false);
    c.trace = trace;
    c.now = rng.below(1 << 40);
    let mut owed = Owed::default();
    let ops = rng.range(1, MAX_OPS as u64);
    let hostility = *rng.pick(&[0u64, 1, 5, 20, 60, 100]);
    if rng.chance(90) {
        c.connect();
    }
    for _ in 0..ops {
        let written = c.take_written();
        let peer = Peer::of(c.s.options());
        learn(&mut owed, &written, &mut rng, peer);
        let up = matches!(
            c.s.state(),
            ConnectionState::Connecting | ConnectionState::Connected
        );
        let roll = rng.below(100);
        if !up && roll < 50 {
            if trace {
                eprintln!("[{}] connect", c.now);
            }
            owed = Owed::default();
            c.lost();
            c.connect();
            continue;
        }
        match roll {
            0..=44 => {
                let mut stream = Vec::new();
                for _ in 0..rng.range(1, 4) {
                    stream.extend(broker_chunk(
                        &mut rng, &mut owed, corpus, hostile, hostility, peer,
                    ));
                }
                // Arbitrary chunking, sometimes with time passing in between.
                let mut rest = &stream[..];
                while !rest.is_empty() {
                    let n = match rng.below(4) {
                        0 => 1,
                        1 => rng.range(1, 8) as usize,
                        _ => rest.len(),
                    }
                    .min(rest.len());
                    let (chunk, tail) = rest.split_at(n);
                    if trace {
                        eprintln!("[{}] broker -> {chunk:02x?}", c.now);
                    }
                    c.feed(chunk);
                    rest = tail;
                    if rng.chance(10) {
                        c.advance(c.now + rng.below(3_000));
                        c.timeout();
                    }
                }
            }
            45..=59 => {
                let to = match rng.below(5) {
                    0 => c.s.poll_timeout().unwrap_or(c.now),
                    1 => c.s.poll_timeout().map_or(c.now, |t| t.saturating_sub(1)),
                    2 => c.now + rng.below(1 << 24),
                    _ => c.now + rng.below(3_000),
                };
                c.advance(to);
                if trace {
                    eprintln!("[{}] timeout", c.now);
                }
                c.timeout();
            }
            60..=74 => {
                let topic = if rng.chance(95) {
                    rng.pick(&TOPICS)
                } else {
                    rng.pick(&BAD_TOPICS)
                };
                let qos = *rng.pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]);
                let n = rng.size(300);
                if trace {
                    eprintln!("[{}] publish {topic:?} {qos:?} {n} bytes", c.now);
                }
                let payload = rng.bytes(n);
                let retain = rng.chance(10);
                if v5 && rng.chance(50) {
                    let mut p = random_publish_properties(&mut rng);
                    if rng.chance(3) {
                        // Not a client's to send: refused, nothing written.
                        p.subscription_identifiers = vec![1];
                    }
                    if trace {
                        eprintln!("[{}] with {p:?}", c.now);
                    }
                    c.publish_with(topic, payload, qos, retain, p);
                } else {
                    c.publish(topic, payload, qos, retain);
                }
            }
            75..=80 if v5 && rng.chance(50) => {
                let filters = (0..rng.range(1, 3))
                    .map(|_| {
                        let f = if rng.chance(85) {
                            rng.pick(&FILTERS)
                        } else if rng.chance(50) {
                            rng.pick(&SHARED_FILTERS)
                        } else {
                            rng.pick(&BAD_FILTERS)
                        };
                        let q = *rng.pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]);
                        Subscription {
                            no_local: rng.chance(20),
                            retain_as_published: rng.chance(20),
                            retain_handling: *rng.pick(&[
                                RetainHandling::SendOnSubscribe,
                                RetainHandling::SendIfNew,
                                RetainHandling::DoNotSend,
                            ]),
                            ..Subscription::new(*f, q)
                        }
                    })
                    .collect::<Vec<_>>();
                let identifier = match rng.below(10) {
                    0..=5 => None,
                    6..=8 => Some(rng.range(1, 268_435_455) as u32),
                    _ => Some(*rng.pick(&[0u32, 268_435_456, u32::MAX])),
                };
                if trace {
                    eprintln!("[{}] subscribe {filters:?} id {identifier:?}", c.now);
                }
                c.subscribe_with(filters, identifier);
            }
            75..=80 => {
                let filters = (0..rng.range(1, 3))
                    .map(|_| {
                        let f = if rng.chance(90) {
                            rng.pick(&FILTERS)
                        } else {
                            rng.pick(&BAD_FILTERS)
                        };
                        let q = *rng.pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]);
                        (f.to_string(), q)
                    })
                    .collect::<Vec<_>>();
                if trace {
                    eprintln!("[{}] subscribe {filters:?}", c.now);
                }
                c.subscribe(filters);
            }
            81..=83 => {
                let filters = vec![rng.pick(&FILTERS).to_string()];
                if trace {
                    eprintln!("[{}] unsubscribe {filters:?}", c.now);
                }
                c.unsubscribe(filters);
            }
            84..=85 => {
                // Only the incoming limit changes (accepted only while not
                // connected): the next connection reads with it.
                let o = Options {
                    max_incoming_packet_size: *rng.pick(&LIMITS),
                    ..c.s.options().clone()
                };
                if trace {
                    eprintln!(
                        "[{}] set_options limit {}",
                        c.now, o.max_incoming_packet_size
                    );
                }
                c.set_options(o);
            }
            86..=91 => {
                if trace {
                    eprintln!("[{}] reconnect", c.now);
                }
                owed = Owed::default();
                if rng.chance(50) {
                    c.lost();
                }
                c.connect();
            }
            92..=95 => {
                if trace {
                    eprintln!("[{}] connection lost", c.now);
                }
                c.lost();
            }
            96..=97 => {
                if trace {
                    eprintln!("[{}] disconnect", c.now);
                }
                c.disconnect();
            }
            _ => {
                let o = random_options(&mut rng, v5);
                if trace {
                    eprintln!("[{}] set_options {o:?}", c.now);
                }
                c.set_options(o);
            }
        }
    }
    c.stats.executions = 1;
    c.stats.v5_executions = u64::from(v5);
    c.stats.ops = ops;
    c.stats
}

/// How a corpus stream is cut into chunks for replay.
pub const REPLAY_CHUNKS: [usize; 7] = [usize::MAX, 1, 2, 3, 7, 64, 1000];

/// Replays one stream as everything a broker sends after CONNECT, cut into
/// chunks of `chunk` bytes with 1 ms and a `handle_timeout` between chunks.
/// Returns the events of that connection.
pub fn replay(stream: &[u8], options: Options, chunk: usize) -> Vec<Event> {
    let mut c = Checked::new(options, true);
    c.connect();
    for piece in stream.chunks(chunk.clamp(1, stream.len().max(1))) {
        c.feed(piece);
        c.advance(c.now + 1);
        c.timeout();
    }
    c.events
}

/// The option sets every corpus stream is replayed with.
pub fn replay_options() -> Vec<Options> {
    vec![
        hostile::case_options(),
        Options {
            client_id: "replay-small".into(),
            keep_alive_secs: 1,
            response_timeout_ms: 3,
            max_incoming_packet_size: 64,
            max_in_flight: 1,
            ..Options::default()
        },
        Options {
            client_id: "replay31".into(),
            protocol: ProtocolVersion::V3_1,
            ..Options::default()
        },
        hostile::case_options_v5(),
        Options {
            client_id: "replay-v5-small".into(),
            protocol: ProtocolVersion::V5,
            keep_alive_secs: 1,
            response_timeout_ms: 3,
            max_incoming_packet_size: 64,
            max_in_flight: 1,
            v5: ConnectProperties {
                receive_maximum: 1,
                topic_alias_maximum: 2,
                ..ConnectProperties::default()
            },
            ..Options::default()
        },
    ]
}

// ----- the corpus -----

/// The hand-written seed streams of the corpus (`seed-<name>.bin`), each
/// everything a broker sends after CONNECT.
pub fn seed_streams() -> Vec<(&'static str, Vec<u8>)> {
    let connack = hostile::CONNACK_ACCEPTED.to_vec();
    let with = |parts: &[Vec<u8>]| -> Vec<u8> {
        let mut v = connack.clone();
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    };
    let q0 = |topic: &str, payload: &[u8]| publish_bytes(0, topic.as_bytes(), None, payload);
    let q1 = |topic: &str, id: u16, payload: &[u8]| {
        publish_bytes(0b0010, topic.as_bytes(), Some(id), payload)
    };
    let q2 = |topic: &str, id: u16, dup: bool, payload: &[u8]| {
        let flags = 0b0100 | (u8::from(dup) << 3);
        publish_bytes(flags, topic.as_bytes(), Some(id), payload)
    };
    let mut out = vec![
        ("empty", Vec::new()),
        ("connack-accepted", connack.clone()),
        ("connack-session-present", vec![0x20, 2, 1, 0]),
        ("connack-refused-1-protocol", vec![0x20, 2, 0, 1]),
        ("connack-refused-2-identifier", vec![0x20, 2, 0, 2]),
        ("connack-refused-3-unavailable", vec![0x20, 2, 0, 3]),
        ("connack-refused-4-credentials", vec![0x20, 2, 0, 4]),
        ("connack-refused-5-not-authorised", vec![0x20, 2, 0, 5]),
        (
            "publish-every-qos",
            with(&[
                q0("a/b", b"zero"),
                q1("a/b", 1, b"one"),
                q2("a/b", 2, false, b"two"),
                ack(0x62, 2),
            ]),
        ),
        (
            "qos2-duplicate-then-pubrel",
            with(&[
                q2("t", 7, false, b"x"),
                q2("t", 7, true, b"x"),
                ack(0x62, 7),
                q2("t", 7, false, b"new message, same id"),
            ]),
        ),
        (
            "qos1-redelivered-with-dup",
            with(&[q1("t", 3, b"x"), publish_bytes(0b1010, b"t", Some(3), b"x")]),
        ),
        ("resumed-session-redelivery", {
            let mut v = vec![0x20, 2, 1, 0];
            v.extend(publish_bytes(0b1010, b"a", Some(1), b"again"));
            v.extend(ack(0x62, 2));
            v.extend(publish_bytes(0b1100, b"b", Some(3), b"again"));
            v
        }),
        (
            "many-small-packets",
            with(
                &(0..40)
                    .map(|i| {
                        if i % 2 == 0 {
                            vec![0xD0, 0]
                        } else {
                            q0("t", &[i as u8])
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        ("payload-3000-bytes", with(&[q0("big", &[0xAB; 3000])])),
        (
            // Over the limit of the small replay options (64 bytes): read
            // through between small packets, acknowledged, the QoS 2 one
            // redelivered with DUP before its PUBREL.
            "payload-over-small-limit-every-qos",
            with(&[
                q0("small", b"before"),
                q0("big/0", &[0xA0; 700]),
                q1("big/1", 1, &[0xA1; 700]),
                vec![0xD0, 0],
                q2("big/2", 2, false, &[0xA2; 700]),
                q2("big/2", 2, true, &[0xA2; 700]),
                ack(0x62, 2),
                q1("small", 3, b"after"),
            ]),
        ),
        ("payload-empty", with(&[q0("e", b""), q1("e", 9, b"")])),
        (
            "pingresp-non-minimal-length",
            with(&[vec![0xD0, 0x80, 0x00]]),
        ),
        ("topic-multibyte", with(&[q0("é/日本/€", "ü".as_bytes())])),
        (
            "topic-sys",
            with(&[q0("$SYS/broker/uptime", b"12 seconds")]),
        ),
        ("topic-slashes-only", with(&[q0("/", b"x"), q0("//", b"y")])),
        (
            "retained-burst",
            with(
                &(0..10)
                    .map(|i| publish_bytes(1, format!("r/{i}").as_bytes(), None, b"kept"))
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "pubrel-unknown-gets-pubcomp",
            with(&[ack(0x62, 44), ack(0x62, 45)]),
        ),
        (
            "suback-every-code",
            with(&[vec![0x90, 6, 0, 1, 0, 1, 2, 0x80]]),
        ),
        (
            "pingresp-unsolicited",
            with(&[vec![0xD0, 0], vec![0xD0, 0]]),
        ),
        ("mqtt-3-1-connack", vec![0x20, 2, 0, 0, 0x30, 3, 0, 1, b'x']),
    ];
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// Every corpus file the repository must hold: `seed-*.bin` from
/// [`seed_streams`] and `hostile-*.bin` from the hostile table.
pub fn expected_corpus() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = seed_streams()
        .into_iter()
        .map(|(n, b)| (format!("seed-{n}.bin"), b))
        .collect();
    out.extend(
        seed_streams_v5()
            .into_iter()
            .map(|(n, b)| (format!("seed-{n}.bin"), b)),
    );
    out.extend(
        hostile::cases()
            .into_iter()
            .chain(hostile::v5_cases())
            .map(|c| (format!("hostile-{}.bin", c.name), c.bytes)),
    );
    out.sort();
    out
}

/// The hand-written MQTT 5 seed streams (`seed-v5-<name>.bin`): names
/// start with `v5-`; each is everything an MQTT 5 broker sends after
/// CONNECT.
pub fn seed_streams_v5() -> Vec<(&'static str, Vec<u8>)> {
    let connack = hostile::CONNACK_V5_ACCEPTED.to_vec();
    let with = |parts: &[Vec<u8>]| -> Vec<u8> {
        let mut v = connack.clone();
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    };
    let string = |x: &[u8]| {
        let mut v = Vec::new();
        mqtt_str(&mut v, x);
        v
    };
    let prop_str = |id: u8, x: &[u8]| [vec![id], string(x)].concat();
    let user = |k: &[u8], v: &[u8]| [vec![0x26], string(k), string(v)].concat();
    let alias = |a: u16| [vec![0x23], a.to_be_bytes().to_vec()].concat();
    let publish = |flags: u8, topic: &[u8], id: Option<u16>, props: &[Vec<u8>], payload: &[u8]| {
        publish_v5_bytes(flags, topic, id, &with_len(&props.concat()), payload)
    };
    let every_property = [
        vec![0x01, 1],
        vec![0x02, 0, 0, 0x0E, 0x10],
        prop_str(0x03, b"application/json"),
        prop_str(0x08, b"reply/1"),
        [vec![0x09], string(&[0, 1, 2, 0xFF])].concat(),
        user(b"k", b"v"),
        user(b"k", "日本".as_bytes()),
        vec![0x0B, 0x2A],
    ];
    let mut out = vec![
        ("v5-connack-accepted", connack.clone()),
        ("v5-connack-session-present", vec![0x20, 3, 1, 0, 0]),
        (
            "v5-connack-every-property",
            frame(
                0x20,
                &[
                    vec![0, 0],
                    with_len(
                        &[
                            vec![0x11, 0, 0, 0x0E, 0x10],
                            prop_str(0x12, b"auto-1"),
                            vec![0x13, 0, 30],
                            prop_str(0x1A, b"resp/"),
                            prop_str(0x1C, b"other:1883"),
                            prop_str(0x1F, b"welcome"),
                            vec![0x21, 0, 5],
                            vec![0x22, 0, 5],
                            vec![0x24, 1],
                            vec![0x25, 0],
                            user(b"region", b"eu"),
                            vec![0x27, 0, 0, 0x10, 0],
                            vec![0x28, 1],
                            vec![0x29, 1],
                            vec![0x2A, 0],
                        ]
                        .concat(),
                    ),
                ]
                .concat(),
            ),
        ),
        (
            "v5-connack-refused-with-reason",
            frame(
                0x20,
                &[vec![0, 0x86], with_len(&prop_str(0x1F, b"wrong password"))].concat(),
            ),
        ),
        ("v5-connack-refused-by-3-1-1-broker", vec![0x20, 2, 0, 1]),
        (
            "v5-publish-every-qos-with-properties",
            with(&[
                publish(0, b"a/b", None, &every_property, b"zero"),
                publish(0b0010, b"a/b", Some(1), &every_property, b"one"),
                publish(0b0100, b"a/b", Some(2), &every_property, b"two"),
                ack(0x62, 2),
            ]),
        ),
        (
            "v5-topic-aliases",
            with(&[
                publish(0, b"sensors/1", None, &[alias(1)], b"set"),
                publish(0, b"", None, &[alias(1)], b"use"),
                publish(0b0010, b"sensors/2", Some(3), &[alias(1)], b"reset"),
                publish(
                    0b0010,
                    b"",
                    Some(4),
                    &[alias(1), user(b"k", b"v")],
                    b"use again",
                ),
                publish(0, b"other", None, &[alias(10)], b"the maximum"),
                publish(0, b"", None, &[alias(10)], b""),
            ]),
        ),
        (
            "v5-subscription-identifiers-then-more-properties",
            with(&[publish(
                0,
                b"t",
                None,
                &[
                    vec![0x0B, 1],
                    vec![0x0B, 0xFF, 0xFF, 0xFF, 0x7F],
                    vec![0x01, 1],
                ],
                b"x",
            )]),
        ),
        (
            "v5-qos2-released-with-reason",
            with(&[
                publish(0b0100, b"t", Some(7), &[], b"x"),
                frame(
                    0x62,
                    &[vec![0, 7, 0x92], with_len(&prop_str(0x1F, b"not found"))].concat(),
                ),
                publish(0b0100, b"t", Some(8), &[], b"y"),
                vec![0x62, 3, 0, 8, 0x00],
            ]),
        ),
        (
            "v5-server-disconnect-with-reference",
            with(&[
                publish(0, b"t", None, &[], b"last"),
                frame(
                    0xE0,
                    &[
                        vec![0x9C],
                        with_len(&[prop_str(0x1F, b"moving"), prop_str(0x1C, b"b:1883")].concat()),
                    ]
                    .concat(),
                ),
            ]),
        ),
        ("v5-server-disconnect-short", with(&[vec![0xE0, 0]])),
        (
            "v5-server-disconnect-code-only",
            with(&[vec![0xE0, 1, 0x8E]]),
        ),
        (
            "v5-pingresp-and-small-publishes",
            with(
                &(0..20)
                    .map(|i| {
                        if i % 2 == 0 {
                            vec![0xD0, 0]
                        } else {
                            publish(0, b"t", None, &[], &[i as u8])
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "v5-payload-over-small-limit",
            with(&[
                publish(0, b"small", None, &[], b"before"),
                publish(0, b"big", None, &[], &[0xA0; 700]),
            ]),
        ),
    ];
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}
