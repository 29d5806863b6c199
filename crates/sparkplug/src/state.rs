//! The state across the messages of one connection: per edge node its
//! online state, birth/death sequence (bdSeq), message sequence and metric
//! definitions (names, aliases and datatypes from NBIRTH), per device the
//! same from DBIRTH/DDEATH, and the host applications from STATE.
//!
//! Everything is bounded ([`MAX_NODES`], [`MAX_DEVICES`], [`MAX_DEFINITIONS`]
//! per node or device, [`MAX_TOTAL_DEFINITIONS`], [`MAX_NAME_BYTES`],
//! [`MAX_HOSTS`]): past a cap the message is still decoded but not
//! remembered, and the refusal is counted (in `nodes_json`) and said in the
//! message's `warnings`. Maps are B-trees: no hashing an input could make
//! collide, and a stable order for `nodes_json`. No clock: the caller passes
//! the receive time.

use std::collections::BTreeMap;

use crate::json::{self, Object};
use crate::proto::payload::Metric;
use crate::proto::Payload;
use crate::render::{self, Notes};
use crate::topic::MessageType;

/// Most edge nodes remembered.
pub const MAX_NODES: usize = 10_000;
/// Most devices remembered, all edge nodes together.
pub const MAX_DEVICES: usize = 100_000;
/// Most metric definitions (names, and aliases) of one edge node or device.
pub const MAX_DEFINITIONS: usize = 65_536;
/// Most metric definitions remembered in all.
pub const MAX_TOTAL_DEFINITIONS: usize = 1_000_000;
/// Most bytes of metric names remembered in all.
pub const MAX_NAME_BYTES: usize = 64 << 20;
/// Most host applications remembered (from STATE).
pub const MAX_HOSTS: usize = 1_000;
/// How far behind the expected sequence number a message counts as "out of
/// order"; 1 to 127 ahead is a gap, 128 to 255 "ahead" is 1 to 128 behind.
pub const SEQ_WINDOW: u8 = 128;

/// The metric definitions of a birth.
#[derive(Debug, Default)]
struct Defs {
    by_alias: BTreeMap<u64, (String, Option<u32>)>,
    by_name: BTreeMap<String, Option<u32>>,
    name_bytes: usize,
}

impl Defs {
    fn count(&self) -> usize {
        self.by_alias.len() + self.by_name.len()
    }
}

#[derive(Debug, Default)]
struct Device {
    online: Option<bool>,
    defs: Defs,
    last_seen_ms: f64,
}

#[derive(Debug, Default)]
struct Node {
    online: Option<bool>,
    bd_seq: Option<u64>,
    last_seq: Option<u8>,
    gaps: u64,
    out_of_order: u64,
    stale_deaths: u64,
    last_seen_ms: f64,
    defs: Defs,
    devices: BTreeMap<String, Device>,
}

#[derive(Debug, Default)]
struct Host {
    online: bool,
    timestamp: Option<u64>,
    last_seen_ms: f64,
}

/// Counted refusals past the caps.
#[derive(Debug, Default, Clone, Copy)]
struct Refused {
    nodes: u64,
    devices: u64,
    definitions: u64,
    hosts: u64,
}

/// What the whole state holds, for the global caps.
#[derive(Debug, Default)]
struct Totals {
    devices: usize,
    definitions: usize,
    name_bytes: usize,
    refused: Refused,
}

impl Totals {
    fn forget(&mut self, defs: &Defs) {
        self.definitions = self.definitions.saturating_sub(defs.count());
        self.name_bytes = self.name_bytes.saturating_sub(defs.name_bytes);
    }

    fn forget_device(&mut self, d: &Device) {
        self.forget(&d.defs);
        self.devices = self.devices.saturating_sub(1);
    }
}

/// The sequence verdict of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeqStatus {
    Ok,
    First,
    Gap { expected: u8, got: u64 },
    OutOfOrder { expected: u8, got: u8 },
    Invalid { got: u64 },
    None,
}

impl SeqStatus {
    fn write(self, out: &mut String) {
        let mut o = Object::new(out);
        let status = |o: &mut Object, s: &str| json::string(o.key("status"), s);
        match self {
            SeqStatus::Ok => status(&mut o, "ok"),
            SeqStatus::First => status(&mut o, "first"),
            SeqStatus::None => status(&mut o, "none"),
            SeqStatus::Gap { expected, got } => {
                status(&mut o, "gap");
                json::int(o.key("expected"), expected);
                json::int(o.key("got"), got);
            }
            SeqStatus::OutOfOrder { expected, got } => {
                status(&mut o, "out of order");
                json::int(o.key("expected"), expected);
                json::int(o.key("got"), got);
            }
            SeqStatus::Invalid { got } => {
                status(&mut o, "invalid");
                json::int(o.key("got"), got);
            }
        }
        o.end();
    }
}

/// The state across messages of one connection (see the crate docs).
#[derive(Debug, Default)]
pub struct Sparkplug {
    nodes: BTreeMap<(String, String), Node>,
    hosts: BTreeMap<String, Host>,
    totals: Totals,
}

/// The bdSeq metric of a birth or death, if it has one with a number.
fn bd_seq(payload: &Payload) -> Option<u64> {
    use crate::proto::payload::metric::Value;
    payload
        .metrics
        .iter()
        .find(|m| m.name.as_deref() == Some("bdSeq"))
        .and_then(|m| match m.value {
            Some(Value::LongValue(v)) => Some(v),
            Some(Value::IntValue(v)) => Some(u64::from(v)),
            _ => None,
        })
}

/// Builds the definitions of a birth, within the caps; says what it refused
/// or found contradictory.
fn build_defs(
    metrics: &[Metric],
    totals: &mut Totals,
    warnings: &mut Vec<String>,
    conflicts: &mut BTreeMap<usize, String>,
) -> Defs {
    let mut defs = Defs::default();
    let mut refused = 0u64;
    for (i, m) in metrics.iter().enumerate() {
        let Some(name) = &m.name else {
            warnings.push(format!("birth metric {i} has no name"));
            continue;
        };
        let fits = |defs: &Defs, totals: &Totals, extra: usize| {
            defs.count() < MAX_DEFINITIONS
                && totals.definitions < MAX_TOTAL_DEFINITIONS
                && totals.name_bytes + extra <= MAX_NAME_BYTES
        };
        if !defs.by_name.contains_key(name) {
            if fits(&defs, totals, name.len()) {
                defs.by_name.insert(name.clone(), m.datatype);
                defs.name_bytes += name.len();
                totals.definitions += 1;
                totals.name_bytes += name.len();
            } else {
                refused += 1 + u64::from(m.alias.is_some());
                continue;
            }
        }
        let Some(alias) = m.alias else { continue };
        match defs.by_alias.get(&alias) {
            Some((other, _)) if other != name => {
                let say = format!("alias {alias} already names {other:?} in this birth; kept that");
                warnings.push(format!(
                    "alias collision: {name:?} and {other:?} both use alias {alias}"
                ));
                conflicts.insert(i, say);
            }
            Some(_) => {}
            None => {
                if fits(&defs, totals, name.len()) {
                    defs.by_alias.insert(alias, (name.clone(), m.datatype));
                    defs.name_bytes += name.len();
                    totals.definitions += 1;
                    totals.name_bytes += name.len();
                } else {
                    refused += 1;
                }
            }
        }
    }
    if refused > 0 {
        totals.refused.definitions += refused;
        warnings.push(format!(
            "{refused} metric definitions not remembered: at most {MAX_DEFINITIONS} per node or \
             device and {MAX_TOTAL_DEFINITIONS} in all"
        ));
    }
    defs
}

/// The name, datatype and unresolved alias of a metric of a data or command
/// message, using the definitions of its node or device.
fn resolve(m: &Metric, index: usize, defs: Option<&Defs>) -> (String, Option<u32>, Option<u64>) {
    if let Some(name) = &m.name {
        let birth = defs.and_then(|d| d.by_name.get(name).copied().flatten());
        return (name.clone(), m.datatype.or(birth), None);
    }
    if let Some(alias) = m.alias {
        if let Some((name, dt)) = defs.and_then(|d| d.by_alias.get(&alias)) {
            return (name.clone(), m.datatype.or(*dt), None);
        }
        return (format!("alias {alias}"), m.datatype, Some(alias));
    }
    (format!("metric {index}"), m.datatype, None)
}

impl Sparkplug {
    /// An empty state.
    pub fn new() -> Sparkplug {
        Sparkplug::default()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self = Sparkplug::default();
    }

    /// Decodes an edge node or device message (already parsed from protobuf)
    /// and updates the state; returns the JSON text.
    pub(crate) fn message(
        &mut self,
        group: &str,
        kind: MessageType,
        edge_node: &str,
        device: Option<&str>,
        payload: &Payload,
        received_ms: f64,
    ) -> String {
        let mut warnings: Vec<String> = Vec::new();
        let mut conflicts: BTreeMap<usize, String> = BTreeMap::new();
        let Sparkplug { nodes, totals, .. } = self;

        // The node, created on first sight within the cap.
        let key = (group.to_owned(), edge_node.to_owned());
        if !nodes.contains_key(&key) {
            if nodes.len() < MAX_NODES {
                nodes.insert(key.clone(), Node::default());
            } else {
                totals.refused.nodes += 1;
                warnings.push(format!(
                    "edge node not remembered: {MAX_NODES} edge nodes already are"
                ));
            }
        }
        let mut node = nodes.get_mut(&key);

        // Sequence numbers (see the crate docs for the rule).
        let status = match (kind, payload.seq) {
            (MessageType::NDeath | MessageType::NCmd | MessageType::DCmd, _) => SeqStatus::None,
            (MessageType::NBirth, None) => {
                if let Some(n) = node.as_deref_mut() {
                    n.last_seq = None;
                }
                SeqStatus::None
            }
            (_, None) => SeqStatus::None,
            (_, Some(s)) if s > 255 => SeqStatus::Invalid { got: s },
            (MessageType::NBirth, Some(s)) => {
                if let Some(n) = node.as_deref_mut() {
                    n.last_seq = Some(s as u8);
                    if s != 0 {
                        n.gaps += 1;
                    }
                }
                if s == 0 {
                    SeqStatus::First
                } else {
                    SeqStatus::Gap {
                        expected: 0,
                        got: s,
                    }
                }
            }
            (_, Some(s)) => match node.as_deref_mut() {
                None => SeqStatus::First,
                Some(n) => match n.last_seq {
                    None => {
                        n.last_seq = Some(s as u8);
                        SeqStatus::First
                    }
                    Some(last) => {
                        let expected = last.wrapping_add(1);
                        let ahead = (s as u8).wrapping_sub(expected);
                        if ahead == 0 {
                            n.last_seq = Some(s as u8);
                            SeqStatus::Ok
                        } else if ahead < SEQ_WINDOW {
                            n.last_seq = Some(s as u8);
                            n.gaps += 1;
                            SeqStatus::Gap { expected, got: s }
                        } else {
                            n.out_of_order += 1;
                            SeqStatus::OutOfOrder {
                                expected,
                                got: s as u8,
                            }
                        }
                    }
                },
            },
        };
        if let SeqStatus::Invalid { got } = status {
            warnings.push(format!("seq {got} is not within 0..=255"));
        }

        // Births, deaths, and the device entry.
        if let Some(n) = node.as_deref_mut() {
            n.last_seen_ms = received_ms;
            match kind {
                MessageType::NBirth => {
                    for d in n.devices.values() {
                        totals.forget_device(d);
                    }
                    n.devices.clear();
                    totals.forget(&n.defs);
                    n.defs = build_defs(&payload.metrics, totals, &mut warnings, &mut conflicts);
                    n.online = Some(true);
                    n.bd_seq = bd_seq(payload);
                }
                MessageType::NDeath => {
                    let death = bd_seq(payload);
                    match (n.bd_seq, death) {
                        (Some(birth), Some(death)) if birth != death => {
                            n.stale_deaths += 1;
                            warnings.push(format!(
                                "stale NDEATH: bdSeq {death}, the current birth has bdSeq \
                                 {birth}; not applied"
                            ));
                        }
                        _ => {
                            n.online = Some(false);
                            for d in n.devices.values_mut() {
                                d.online = Some(false);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let defs: Option<&Defs> = match (node, device) {
            (None, _) => None,
            (Some(n), None) => Some(&n.defs),
            (Some(n), Some(name)) => {
                if !n.devices.contains_key(name) {
                    if totals.devices < MAX_DEVICES {
                        n.devices.insert(name.to_owned(), Device::default());
                        totals.devices += 1;
                    } else {
                        totals.refused.devices += 1;
                        warnings.push(format!(
                            "device not remembered: {MAX_DEVICES} devices already are"
                        ));
                    }
                }
                if let Some(d) = n.devices.get_mut(name) {
                    d.last_seen_ms = received_ms;
                    match kind {
                        MessageType::DBirth => {
                            totals.forget(&d.defs);
                            d.defs =
                                build_defs(&payload.metrics, totals, &mut warnings, &mut conflicts);
                            d.online = Some(true);
                        }
                        MessageType::DDeath => d.online = Some(false),
                        _ => {}
                    }
                }
                n.devices.get(name).map(|d| &d.defs)
            }
        };

        // The output.
        let mut out = String::with_capacity(256);
        let mut o = Object::new(&mut out);
        json::string(o.key("message_type"), kind.name());
        json::string(o.key("group"), group);
        json::string(o.key("edge_node"), edge_node);
        if let Some(d) = device {
            json::string(o.key("device"), d);
        }
        if let Some(s) = payload.seq {
            json::int(o.key("seq"), s);
        }
        if let Some(t) = payload.timestamp {
            json::int(o.key("timestamp"), t);
        }
        let mut metrics = String::new();
        let mut details = String::new();
        let mut unresolved: Vec<u64> = Vec::new();
        {
            let mut mo = Object::new(&mut metrics);
            let mut dobj = Object::new(&mut details);
            for (i, m) in payload.metrics.iter().enumerate() {
                let (key, datatype, missing) = resolve(m, i, defs);
                if let Some(a) = missing {
                    if !unresolved.contains(&a) && unresolved.len() < 1000 {
                        unresolved.push(a);
                    }
                }
                let mut notes = Notes::default();
                if let Some(c) = conflicts.remove(&i) {
                    notes.add(c);
                }
                let raw = m.value.as_ref().map(render::metric_raw);
                render::value(
                    mo.key(&key),
                    datatype,
                    raw,
                    m.is_null.unwrap_or(false),
                    0,
                    &mut notes,
                );
                render::details(dobj.key(&key), m, datatype, &mut notes);
            }
            mo.end();
            dobj.end();
        }
        o.key("metrics").push_str(&metrics);
        o.key("details").push_str(&details);
        status.write(o.key("sequence"));
        if !unresolved.is_empty() {
            let u = o.key("unresolved_aliases");
            u.push('[');
            for (i, a) in unresolved.iter().enumerate() {
                if i > 0 {
                    u.push(',');
                }
                json::int(u, a);
            }
            u.push(']');
        }
        if let Some(uuid) = &payload.uuid {
            json::string(o.key("uuid"), uuid);
        }
        if let Some(body) = &payload.body {
            json::bytes(o.key("body"), body);
        }
        if !warnings.is_empty() {
            write_strings(o.key("warnings"), &warnings);
        }
        o.end();
        out
    }

    /// Records a host application's STATE; returns the warning if it was
    /// not applied.
    pub(crate) fn host_state(
        &mut self,
        host: &str,
        online: bool,
        timestamp: Option<u64>,
        received_ms: f64,
    ) -> Option<String> {
        if !self.hosts.contains_key(host) {
            if self.hosts.len() >= MAX_HOSTS {
                self.totals.refused.hosts += 1;
                return Some(format!(
                    "host not remembered: {MAX_HOSTS} host applications already are"
                ));
            }
            self.hosts.insert(host.to_owned(), Host::default());
        }
        let h = self.hosts.get_mut(host)?;
        if let (Some(known), Some(t)) = (h.timestamp, timestamp) {
            if t < known {
                return Some(format!(
                    "STATE older than the last one (timestamp {t} < {known}); not applied"
                ));
            }
        }
        h.online = online;
        h.timestamp = timestamp.or(h.timestamp);
        h.last_seen_ms = received_ms;
        None
    }

    /// Every edge node, device and host seen, as JSON (see the crate docs).
    pub fn nodes_json(&self) -> String {
        let mut out = String::from("{\"nodes\":[");
        for (i, ((group, name), n)) in self.nodes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut o = Object::new(&mut out);
            json::string(o.key("group"), group);
            json::string(o.key("edge_node"), name);
            write_opt_bool(o.key("online"), n.online);
            match n.bd_seq {
                Some(b) => json::int(o.key("bd_seq"), b),
                None => o.key("bd_seq").push_str("null"),
            }
            match n.last_seq {
                Some(s) => json::int(o.key("last_seq"), s),
                None => o.key("last_seq").push_str("null"),
            }
            json::int(o.key("gaps"), n.gaps);
            json::int(o.key("out_of_order"), n.out_of_order);
            json::int(o.key("stale_deaths"), n.stale_deaths);
            json::f64(o.key("last_seen_ms"), n.last_seen_ms);
            json::int(o.key("metrics"), n.defs.by_name.len());
            let d = o.key("devices");
            d.push('[');
            for (j, (dname, dev)) in n.devices.iter().enumerate() {
                if j > 0 {
                    d.push(',');
                }
                let mut od = Object::new(d);
                json::string(od.key("device"), dname);
                write_opt_bool(od.key("online"), dev.online);
                json::int(od.key("metrics"), dev.defs.by_name.len());
                json::f64(od.key("last_seen_ms"), dev.last_seen_ms);
                od.end();
            }
            d.push(']');
            o.end();
        }
        out.push_str("],\"hosts\":[");
        for (i, (host, h)) in self.hosts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut o = Object::new(&mut out);
            json::string(o.key("host"), host);
            json::bool(o.key("online"), h.online);
            if let Some(t) = h.timestamp {
                json::int(o.key("timestamp"), t);
            }
            json::f64(o.key("last_seen_ms"), h.last_seen_ms);
            o.end();
        }
        out.push_str("],\"refused\":");
        let r = self.totals.refused;
        let mut o = Object::new(&mut out);
        json::int(o.key("nodes"), r.nodes);
        json::int(o.key("devices"), r.devices);
        json::int(o.key("definitions"), r.definitions);
        json::int(o.key("hosts"), r.hosts);
        o.end();
        out.push('}');
        out
    }
}

fn write_opt_bool(out: &mut String, v: Option<bool>) {
    match v {
        Some(b) => json::bool(out, b),
        None => out.push_str("null"),
    }
}

/// Appends a JSON array of strings.
pub fn write_strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(out, s);
    }
    out.push(']');
}
