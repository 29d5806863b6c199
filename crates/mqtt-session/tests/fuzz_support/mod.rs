//! Stable-toolchain fuzz harness for the session: a seeded generator of
//! executions (arbitrary broker bytes in arbitrary chunks, timeouts at
//! arbitrary times, and client publishes, subscribes, reconnects, limit
//! changes) and an invariant checker wrapped around `Session`.
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
    ConnectionState, Event, Message, Options, ProtocolVersion, PublishId, QoS, Session,
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
    }
}

/// A `Session` that checks its invariants after every call:
/// - nothing is emitted (events or bytes) after `Event::Closed` until the
///   caller starts over (`connect`, `set_options`), and `Closed` is the last
///   event of its batch;
/// - packet ids are never 0 and never two in flight at once; every publish
///   in flight is accounted for by events (`in_flight()` agrees);
/// - after `handle_timeout(now)`, `poll_timeout()` is `None` or after `now`;
/// - buffered input stays under `max_incoming_packet_size` (or under the
///   head of an oversized PUBLISH, `MAX_OVERSIZED_HEAD_LEN`, if larger); an
///   oversized message is reported with consistent sizes; the in-flight
///   window is respected; the events of one call are bounded;
/// - everything written parses as MQTT with nonzero packet ids;
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
            if !out.is_empty() {
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
        if self.closed && !out.is_empty() {
            violation("nothing is written after Closed", (what, out));
        }
        let pubcomps = check_written(&out, self.s.options().protocol);
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
        if ended && self.s.options().clean_session {
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
                if self.s.state() != ConnectionState::Connected
                    && self.s.state() != ConnectionState::Closed
                {
                    violation("Connected leaves the session connected", self.s.state());
                }
            }
            Event::Pong { .. } => {} // nothing to account: no packet id, no state
            Event::Message(m) => {
                self.stats.messages += 1;
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
        if self.s.options().clean_session {
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
/// The incoming limits the generator uses.
const LIMITS: [usize; 5] = [5, 16, 300, 4096, 1 << 20];

/// What the simulated broker owes the client, learnt from what it wrote.
#[derive(Default)]
struct Owed {
    connack: bool,
    acks: Vec<Vec<u8>>,
    /// Packet ids of QoS 2 messages this broker sent (for PUBREL).
    sent_qos2: Vec<u16>,
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

fn learn(owed: &mut Owed, written: &[u8], rng: &mut Rng) {
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
fn polite_chunk(rng: &mut Rng, owed: &mut Owed) -> Vec<u8> {
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
) -> Vec<u8> {
    if !rng.chance(hostility) {
        return polite_chunk(rng, owed);
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

fn random_options(rng: &mut Rng) -> Options {
    let protocol = if rng.chance(15) {
        ProtocolVersion::V3_1
    } else {
        ProtocolVersion::V3_1_1
    };
    let clean_session = rng.chance(50);
    let client_id = match rng.below(4) {
        0 if clean_session && protocol == ProtocolVersion::V3_1_1 => String::new(),
        1 => "fuzz-b".into(),
        _ => "fuzz-a".into(),
    };
    Options {
        client_id,
        clean_session,
        protocol,
        keep_alive_secs: *rng.pick(&[0u16, 1, 2, 5, 60, 65_535]),
        response_timeout_ms: *rng.pick(&[1u64, 100, 1_000, 10_000, 1 << 40]),
        max_incoming_packet_size: *rng.pick(&LIMITS),
        max_in_flight: *rng.pick(&[0u16, 1, 2, 5, 20]),
        ..Options::default()
    }
}

/// Runs one bounded execution from `seed`; panics on an invariant violation.
/// With `trace`, prints every operation (for reproducing a failure).
pub fn run_one(seed: u64, corpus: &[Vec<u8>], hostile: &[HostileCase], trace: bool) -> Stats {
    let mut rng = Rng::new(seed);
    let mut c = Checked::new(random_options(&mut rng), false);
    c.now = rng.below(1 << 40);
    let mut owed = Owed::default();
    let ops = rng.range(1, MAX_OPS as u64);
    let hostility = *rng.pick(&[0u64, 1, 5, 20, 60, 100]);
    if rng.chance(90) {
        c.connect();
    }
    for _ in 0..ops {
        let written = c.take_written();
        learn(&mut owed, &written, &mut rng);
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
                        &mut rng, &mut owed, corpus, hostile, hostility,
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
                c.publish(topic, payload, qos, retain);
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
                let o = random_options(&mut rng);
                if trace {
                    eprintln!("[{}] set_options {o:?}", c.now);
                }
                c.set_options(o);
            }
        }
    }
    c.stats.executions = 1;
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
        hostile::cases()
            .into_iter()
            .map(|c| (format!("hostile-{}.bin", c.name), c.bytes)),
    );
    out.sort();
    out
}
