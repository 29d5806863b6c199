//! Sparkplug B for mqdash: decodes the payloads of Eclipse Tahu's protobuf
//! schema (`proto/sparkplug_b.proto`, package `org.eclipse.tahu.protobuf`)
//! on `spBv1.0/…` topics into JSON text, and keeps the state that gives
//! data messages their meaning: metric names and datatypes behind aliases,
//! sequence numbers, and which edge nodes, devices and host applications are
//! online.
//!
//! Pure: no IO, no clock (the caller passes the receive time), no threads,
//! no `std::time`, so it compiles to `wasm32-unknown-unknown` for the page.
//! It must not panic, hang or allocate without bound on any input: a payload
//! that is not valid protobuf is a [`DecodeError`] with the byte offset where
//! it breaks; nesting is bounded (prost refuses more than 100 nested
//! messages, templates and property sets are shown to 32 levels); the state
//! is capped (see [`state`]). Fuzzed by `examples/fuzz.rs`.
//!
//! # Topics
//!
//! `spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|NCMD>/<edge node>`,
//! `spBv1.0/<group>/<DBIRTH|DDATA|DDEATH|DCMD>/<edge node>/<device>`,
//! `spBv1.0/STATE/<host id>` (3.0: `{"online":true,"timestamp":…}`) and
//! `STATE/<host id>` (2.2: `ONLINE` / `OFFLINE`; a 3.0 JSON payload is read
//! there too). No level may be empty; anything else is not Sparkplug.
//!
//! # The JSON of [`Sparkplug::decode`]
//!
//! Compact JSON text, keys in this order; keys marked `?` only when present:
//!
//! ```text
//! {"message_type":"DDATA","group":"G","edge_node":"N","device"?:"D",
//!  "seq"?:5,"timestamp"?:1700000000000,
//!  "metrics":{"Temperature":21.5,"Running":true,"Label":"x"},
//!  "details":{"Temperature":{"alias"?:3,"datatype"?:"Float","timestamp"?:1700000000000,
//!     "is_historical":false,"is_transient":false,"is_null":false,
//!     "metadata"?:{…},"properties"?:{"engUnit":"C"},"notes"?:["…"]}},
//!  "sequence":{"status":"ok"},
//!  "unresolved_aliases"?:[7],"uuid"?:"…","body"?:{"$bytes":"hex"},"warnings"?:["…"]}
//! ```
//!
//! - `metrics` holds every reading and nothing else (the page charts what is
//!   under it by field path). The key is the metric's name; in a data or
//!   command message that carries only an alias, the name that alias got in
//!   the last NBIRTH (N… messages) or DBIRTH (D… messages); `alias N` if no
//!   birth defined it (then N is listed in `unresolved_aliases`); `metric I`
//!   (its index) for a metric with neither. A key met again in the same
//!   message becomes `key#2`, `key#3`, in `metrics` and `details` alike.
//! - Values by datatype (the metric's, else its birth's; without either, by
//!   the wire field): all integer types exact (Int8/16/32 from `int_value`
//!   whether encoded as Tahu's Python does, -1 as 255, or as its Java does,
//!   sign-extended; UInt64 up to 2^64-1); Float and Double as their shortest
//!   text, NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"`;
//!   Boolean; String, Text, UUID as strings; DateTime as integer ms; Bytes
//!   and File as `{"$bytes":"hex"}`; `is_null` as `null`; DataSet as
//!   `{"columns":[…],"types":["Int32",…],"rows":[[…],…]}`; Template as
//!   `{"template_ref"?,"is_definition","version"?,"parameters":{…},"metrics":{…}}`
//!   (nested templates recursively, to 32 levels); the 3.0 array types
//!   (Int8Array … DateTimeArray, packed little-endian in `bytes_value`;
//!   BooleanArray a u32 count then bits high bit first; StringArray
//!   NUL-terminated) as JSON arrays. A value that cannot be read as its
//!   datatype is shown as its wire field says (or `null`) and explained in
//!   the metric's `notes`. Unknown datatypes: `"datatype":"unknown (N)"`.
//! - `details` carries everything else per metric; properties (PropertySet,
//!   PropertySetList) as nested objects and arrays.
//! - `sequence`: `{"status":"ok"}`, `{"status":"first"}`,
//!   `{"status":"gap","expected":4,"got":6}`,
//!   `{"status":"out of order","expected":4,"got":2}`, `{"status":"none"}`,
//!   or `{"status":"invalid","got":300}` for a seq above 255. The rule: seq
//!   runs 0..=255 per edge node over its NBIRTH, NDATA, DBIRTH, DDATA and
//!   DDEATH. NBIRTH starts it: seq 0 is `first`, another seq a `gap` from 0.
//!   Another message with no earlier seq known is `first`; with one, the
//!   expected seq is last + 1 (mod 256): equal is `ok`; 1 to 127 ahead is a
//!   `gap` (and is the new last); 128 to 255 ahead, that is 1 to 128 behind
//!   (a duplicate included), is `out of order` (the last stays). NDEATH,
//!   NCMD and DCMD are outside the sequence (`none`), as is a message
//!   without seq.
//! - `warnings`: what the message did to the state that the reader should
//!   know: a stale NDEATH, an alias collision in a birth, a birth metric
//!   without a name, a cap reached.
//!
//! A STATE message gives
//! `{"message_type":"STATE","host":"H","spec":"3.0"|"2.2","online":true,
//! "timestamp"?:…,"payload":<the payload's JSON, or its text>,"warnings"?:[…]}`.
//!
//! # State
//!
//! NBIRTH: the node is online, its metric definitions are those of the
//! birth, its devices are forgotten, its bdSeq is the birth's `bdSeq`
//! metric and its sequence restarts. NDEATH: the node and all its devices
//! go offline, unless both the NDEATH and the current birth carry a bdSeq
//! and they differ: that death is stale (of an earlier session), counted in
//! `stale_deaths`, said in `warnings` and not applied. DBIRTH: the device is
//! online with the birth's definitions. DDEATH: the device is offline.
//! STATE: the host's online flag, unless its timestamp is older than the
//! last one applied. A node or device seen only in data is `"online":null`.
//!
//! [`Sparkplug::nodes_json`]:
//!
//! ```text
//! {"nodes":[{"group":"G","edge_node":"N","online":true,"bd_seq":0,"last_seq":5,
//!    "gaps":1,"out_of_order":0,"stale_deaths":0,"last_seen_ms":1700000000000.0,"metrics":12,
//!    "devices":[{"device":"D","online":false,"metrics":4,"last_seen_ms":…}]}],
//!  "hosts":[{"host":"H","online":true,"timestamp"?:…,"last_seen_ms":…}],
//!  "refused":{"nodes":0,"devices":0,"definitions":0,"hosts":0}}
//! ```
//!
//! `online`, `bd_seq` and `last_seq` are `null` when unknown; `metrics` is
//! the number of metric names the last birth defined; nodes sorted by group
//! then name, devices and hosts by name. `refused` counts what the caps
//! kept out.

mod json;
pub mod proto;
mod render;
pub mod state;
mod topic;
mod wire;

use std::fmt;

pub use state::Sparkplug;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The byte offset in the payload where it goes wrong, when known.
    pub offset: Option<usize>,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "at byte {o}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for DecodeError {}

/// True for a Sparkplug topic: `spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|DBIRTH|DDATA|DDEATH|NCMD|DCMD>/<edge node>[/<device>]`,
/// `spBv1.0/STATE/<host id>` (3.0, JSON payload) and `STATE/<host id>` (2.2,
/// "ONLINE"/"OFFLINE").
pub fn is_sparkplug_topic(topic: &str) -> bool {
    topic::parse(topic).is_some()
}

/// Decodes the protobuf of a Sparkplug B payload (no state involved).
pub fn decode_payload(payload: &[u8]) -> Result<proto::Payload, DecodeError> {
    use prost::Message as _;
    proto::Payload::decode(payload).map_err(|e| match wire::locate(payload) {
        Some((offset, reason)) => DecodeError {
            offset: Some(offset),
            reason,
        },
        None => DecodeError {
            offset: None,
            reason: format!("not a Sparkplug B payload: {e}"),
        },
    })
}

impl Sparkplug {
    /// Decodes one message and updates the state (aliases, sequence,
    /// online). `received_ms`: the page's receive time (ms since the epoch)
    /// for the state's "last seen". A message that cannot be decoded leaves
    /// the state as it was.
    pub fn decode(
        &mut self,
        topic: &str,
        payload: &[u8],
        received_ms: f64,
    ) -> Result<String, DecodeError> {
        match topic::parse(topic) {
            None => Err(DecodeError {
                offset: None,
                reason: format!("not a Sparkplug topic: {topic:?}"),
            }),
            Some(topic::Topic::State { host, v3 }) => self.state(host, v3, payload, received_ms),
            Some(topic::Topic::Message {
                group,
                kind,
                edge_node,
                device,
            }) => {
                let decoded = decode_payload(payload)?;
                Ok(self.message(group, kind, edge_node, device, &decoded, received_ms))
            }
        }
    }

    fn state(
        &mut self,
        host: &str,
        v3: bool,
        payload: &[u8],
        received_ms: f64,
    ) -> Result<String, DecodeError> {
        let text = std::str::from_utf8(payload).map_err(|e| DecodeError {
            offset: Some(e.valid_up_to()),
            reason: "STATE payload is not UTF-8".to_owned(),
        })?;
        let (online, timestamp, shown) = match text.trim() {
            "ONLINE" => (true, None, None),
            "OFFLINE" => (false, None, None),
            _ => {
                let value: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| DecodeError {
                        offset: Some(json_offset(text, e.line(), e.column())),
                        reason: format!(
                            "STATE payload is neither ONLINE, OFFLINE nor JSON: {}",
                            e.to_string().split(" at line ").next().unwrap_or_default()
                        ),
                    })?;
                let Some(online) = value.get("online").and_then(|v| v.as_bool()) else {
                    return Err(DecodeError {
                        offset: None,
                        reason: "STATE payload has no boolean \"online\"".to_owned(),
                    });
                };
                let timestamp = value.get("timestamp").and_then(|v| v.as_u64());
                (online, timestamp, Some(value.to_string()))
            }
        };
        let warning = self.host_state(host, online, timestamp, received_ms);
        let mut out = String::new();
        out.push_str("{\"message_type\":\"STATE\",\"host\":");
        json::string(&mut out, host);
        out.push_str(if v3 {
            ",\"spec\":\"3.0\""
        } else {
            ",\"spec\":\"2.2\""
        });
        out.push_str(",\"online\":");
        json::bool(&mut out, online);
        if let Some(t) = timestamp {
            out.push_str(",\"timestamp\":");
            json::int(&mut out, t);
        }
        out.push_str(",\"payload\":");
        match shown {
            Some(v) => out.push_str(&v),
            None => json::string(&mut out, text.trim()),
        }
        if let Some(w) = warning {
            out.push_str(",\"warnings\":");
            state::write_strings(&mut out, &[w]);
        }
        out.push('}');
        Ok(out)
    }
}

/// The byte offset of serde_json's (1-based) line and column in `text`.
fn json_offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// The topic and payload of a rebirth request to the edge node `node` of
/// `group`: an NCMD with the boolean metric `Node Control/Rebirth` = true,
/// which Sparkplug B edge nodes answer with a new NBIRTH and DBIRTHs (so a
/// host that missed the births learns the aliases).
pub fn rebirth_request(group: &str, node: &str, timestamp_ms: u64) -> (String, Vec<u8>) {
    use prost::Message as _;
    let metric = proto::payload::Metric {
        name: Some("Node Control/Rebirth".into()),
        timestamp: Some(timestamp_ms),
        datatype: Some(proto::DataType::Boolean as u32),
        value: Some(proto::payload::metric::Value::BooleanValue(true)),
        ..Default::default()
    };
    let payload = proto::Payload {
        timestamp: Some(timestamp_ms),
        metrics: vec![metric],
        ..Default::default()
    };
    (
        format!("spBv1.0/{group}/NCMD/{node}"),
        payload.encode_to_vec(),
    )
}

#[cfg(test)]
mod rebirth_tests {
    use super::*;

    #[test]
    fn a_rebirth_request_is_an_ncmd_that_decodes_as_node_control_rebirth_true() {
        let (topic, payload) = rebirth_request("Plant 1", "Edge-1", 1_700_000_000_000);
        assert_eq!(topic, "spBv1.0/Plant 1/NCMD/Edge-1");
        let json = Sparkplug::new().decode(&topic, &payload, 0.0).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["message_type"], "NCMD");
        assert_eq!(v["metrics"]["Node Control/Rebirth"], true);
    }
}
