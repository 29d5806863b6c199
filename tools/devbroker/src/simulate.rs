//! `devbroker simulate`: simulated devices publishing realistic live data.
//!
//! What each device `sensor-<n>` publishes (topics after `--prefix`):
//!
//! | topic | payload | QoS | retain |
//! |---|---|---|---|
//! | `devices/<id>/status` | `online`, once at start (and after a reconnect) | 1 | yes |
//! | `building-<b>/floor-<f>/temp` | plain number, e.g. `21.37` | 0 | no |
//! | `building-<b>/floor-<f>/humidity` | plain number, e.g. `48.2` | 0 | no |
//! | `devices/<id>/telemetry` | `{"temp":21.4,"humidity":48.2,"power":{"volts":229.8,"amps":1.2},"ok":true}` | 1 | no |
//! | `$dp` **and** `onenet/<id>/dp` | OneNet `$dp` type 1 (`0x01`, BE length, datastreams JSON) | 1 | no |
//! | `$dp` **and** `onenet/<id>/dp` | OneNet `$dp` type 3 (`0x03`, BE length, flat JSON) | 1 | no |
//! | `$sys/12555524/<id>/dp/post/json` **and** `onenet/<id>/dp/post/json` | `{"id":…,"dp":{"temp":[{"v":…,"t":…}],…}}` | 1 | no |
//! | `devices/<id>/raw` | 16 random bytes incl. `0x00` and `0xFF` (invalid UTF-8) | 0 | no |
//!
//! Besides these, with no device number (one of each, counted with the data
//! messages; an extra message every third one):
//!
//! | topic | payload | QoS | retain |
//! |---|---|---|---|
//! | `spBv1.0/mqdash/NBIRTH/sim-node` | Sparkplug B NBIRTH: seq 0, `bdSeq`, `Node Control/Rebirth`, `Uptime`, names with aliases | 0 | no |
//! | `spBv1.0/mqdash/DBIRTH/sim-node/pump-1`, `…/tank-2` | DBIRTH: names, aliases, datatypes, first values | 0 | no |
//! | `spBv1.0/mqdash/DDATA/sim-node/pump-1`, `…/tank-2` | DDATA carrying only aliases: Temperature, Pressure, Running, Starts / Level, Flow, ValveOpen | 0 | no |
//! | `spBv1.0/mqdash/NDATA/sim-node` | NDATA: Uptime (alias only) | 0 | no |
//! | `spBv1.0/mqdash/NDEATH/sim-node` | NDEATH with `bdSeq`: the connection's Will, and published on Ctrl-C / SIGTERM | 1 | no |
//! | `cbor/meter-1/telemetry` | CBOR map `{"temp","humidity","power":{"volts","amps"},"count","raw":<4 bytes>}` | 1 | no |
//! | `msgpack/meter-2/telemetry` | MessagePack map of the same shape | 1 | no |
//!
//! The births go out first, again after a reconnect, and whenever an NCMD
//! `Node Control/Rebirth` = true arrives on `spBv1.0/mqdash/NCMD/sim-node`
//! (the simulator subscribes to it). `seq` runs 0..=255 over the node's
//! births and data; `bdSeq` is 0 for the whole run (the Will, which carries
//! it, is fixed at the first CONNECT). A `--prefix` applies to these topics
//! too, which then are no longer in the Sparkplug namespace. Their values
//! come from random walks of their own, so the devices above publish what
//! they did before for the same `--seed`.
//!
//! The `$…` topics are what a real OneNet device publishes, but a `#`
//! subscription never matches topics starting with `$` (MQTT 3.1.1 §4.7.2),
//! and rumqttd refuses subscriptions to `$` filters altogether, so every `$`
//! message is published a second time under the visible `onenet/…` topic.
//! `$` topics are not prefixed. The values are smooth random walks.
//!
//! [`Simulator`] is pure (no IO, time passed in); [`run`] paces and publishes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, LastWill, MqttOptions, Outgoing, QoS,
    Transport,
};
use serde_json::json;
use sparkplug::proto::payload::{metric, Metric};
use sparkplug::proto::{DataType, Payload};
use tokio::time::{timeout_at, Instant};

use crate::onenet;
use crate::target::BrokerUrl;

/// The product id used in `$sys/{pid}/…` topics (the seed's `PRO_ID`).
pub const PRODUCT_ID: &str = "12555524";

/// Flags of `devbroker simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Broker URL: mqtt://host:port or ws://host:port/path.
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    pub broker: String,
    /// Topic prefix for every non-`$` topic; a '/' is appended if missing.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Number of simulated devices.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub devices: u32,
    /// Messages per second, all devices together.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Stop after this many data messages (status messages not counted); default: run until Ctrl-C.
    #[arg(long)]
    pub count: Option<u64>,
    /// MQTT client id [default: devbroker-sim-<pid>].
    #[arg(long)]
    pub client_id: Option<String>,
    /// User name for brokers that require a login (OneNet: the product id).
    #[arg(long)]
    pub username: Option<String>,
    /// Password (OneNet: the device's API key); needs --username.
    #[arg(long, requires = "username")]
    pub password: Option<String>,
    /// Seconds to keep retrying the first connection before giving up.
    #[arg(long, default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Seconds between summary lines on stdout.
    #[arg(long, default_value_t = 5)]
    pub summary_secs: u64,
    /// Seed for the random walks (reproducible payloads).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// One MQTT publish to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Full topic, prefix included.
    pub topic: String,
    /// Payload bytes (not necessarily UTF-8).
    pub payload: Vec<u8>,
    /// QoS 0 or 1.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
}

/// A bounded random walk that drifts back toward its centre.
#[derive(Debug, Clone)]
struct Walk {
    value: f64,
    centre: f64,
    min: f64,
    max: f64,
    step: f64,
}

impl Walk {
    fn new(centre: f64, spread: f64, step: f64, rng: &mut StdRng) -> Walk {
        let value = centre + rng.gen_range(-spread..=spread) * 0.5;
        Walk {
            value,
            centre,
            min: centre - spread,
            max: centre + spread,
            step,
        }
    }

    fn next(&mut self, rng: &mut StdRng) -> f64 {
        let pull = (self.centre - self.value) * 0.05;
        self.value =
            (self.value + pull + rng.gen_range(-self.step..=self.step)).clamp(self.min, self.max);
        self.value
    }
}

#[derive(Debug, Clone)]
struct Device {
    id: String,
    location: String,
    temp: Walk,
    humidity: Walk,
    volts: Walk,
    amps: Walk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Temp,
    Humidity,
    Telemetry,
    DpType1,
    DpType3,
    DpPost,
    Raw,
}

/// Kind-major order: every device sends one kind before the next kind, and
/// every kind appears within the first pass so short runs show everything.
const SCHEDULE: [Kind; 13] = [
    Kind::Temp,
    Kind::Humidity,
    Kind::Telemetry,
    Kind::DpType1,
    Kind::Raw,
    Kind::Temp,
    Kind::Humidity,
    Kind::DpType3,
    Kind::Telemetry,
    Kind::Temp,
    Kind::Humidity,
    Kind::DpPost,
    Kind::Telemetry,
];

/// Generates the simulated messages. Pure: the caller passes the time.
#[derive(Debug)]
pub struct Simulator {
    prefix: String,
    devices: Vec<Device>,
    rng: StdRng,
    slot: u64,
    post_id: u64,
    extra: Extras,
}

/// The Sparkplug B group of the simulated edge node.
pub const SPB_GROUP: &str = "mqdash";
/// The simulated Sparkplug B edge node.
pub const SPB_NODE: &str = "sim-node";
/// Its devices.
pub const SPB_DEVICES: [&str; 2] = ["pump-1", "tank-2"];
/// The CBOR device.
pub const CBOR_DEVICE: &str = "meter-1";
/// The MessagePack device.
pub const MSGPACK_DEVICE: &str = "meter-2";
/// One extra message (Sparkplug, CBOR, MessagePack) after every this many
/// readings of the devices above.
pub const EXTRA_EVERY: u64 = 2;

/// The state of the devices that are not `sensor-<n>`: the Sparkplug edge
/// node and its two devices, the CBOR and MessagePack meters. Their own
/// random generator keeps the `sensor-<n>` readings what they were.
#[derive(Debug)]
struct Extras {
    rng: StdRng,
    seq: u8,
    bd_seq: u64,
    started_ms: Option<u64>,
    slot: u64,
    pump_temp: Walk,
    pump_pressure: Walk,
    pump_starts: u32,
    tank_level: Walk,
    tank_flow: Walk,
    meters: [(Walk, Walk, Walk, Walk, u64); 2],
}

/// Which extra message comes next (one pass shows every kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtraKind {
    Pump,
    Cbor,
    Tank,
    MsgPack,
    NodeData,
}

const EXTRA_SCHEDULE: [ExtraKind; 5] = [
    ExtraKind::Pump,
    ExtraKind::Cbor,
    ExtraKind::Tank,
    ExtraKind::MsgPack,
    ExtraKind::NodeData,
];

/// A Sparkplug metric: in a birth with its name, alias and datatype; in a
/// data message with its alias only.
fn spb_metric(
    name: &str,
    alias: u64,
    datatype: DataType,
    value: metric::Value,
    birth: bool,
    ts: u64,
) -> Metric {
    Metric {
        name: birth.then(|| name.to_owned()),
        alias: Some(alias),
        datatype: birth.then_some(datatype as u32),
        timestamp: birth.then_some(ts),
        value: Some(value),
        ..Metric::default()
    }
}

impl Extras {
    fn new(seed: u64) -> Extras {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5350_4256_312e_3021);
        let meter = |rng: &mut StdRng| {
            (
                Walk::new(22.0, 5.0, 0.2, rng),
                Walk::new(50.0, 20.0, 0.8, rng),
                Walk::new(230.0, 6.0, 0.4, rng),
                Walk::new(2.0, 1.8, 0.08, rng),
                0,
            )
        };
        Extras {
            seq: 0,
            bd_seq: 0,
            started_ms: None,
            slot: 0,
            pump_temp: Walk::new(45.0, 15.0, 0.5, &mut rng),
            pump_pressure: Walk::new(3.2, 1.5, 0.05, &mut rng),
            pump_starts: 0,
            tank_level: Walk::new(60.0, 35.0, 1.0, &mut rng),
            tank_flow: Walk::new(12.0, 8.0, 0.4, &mut rng),
            meters: [meter(&mut rng), meter(&mut rng)],
            rng,
        }
    }

    fn next_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        u64::from(s)
    }

    fn node_metrics(&mut self, birth: bool, ts: u64) -> Vec<Metric> {
        let uptime = ts.saturating_sub(*self.started_ms.get_or_insert(ts)) as i64;
        let mut m = Vec::new();
        if birth {
            m.push(Metric {
                name: Some("bdSeq".to_owned()),
                datatype: Some(DataType::Int64 as u32),
                value: Some(metric::Value::LongValue(self.bd_seq)),
                ..Metric::default()
            });
            m.push(spb_metric(
                "Node Control/Rebirth",
                1,
                DataType::Boolean,
                metric::Value::BooleanValue(false),
                true,
                ts,
            ));
        }
        m.push(spb_metric(
            "Uptime",
            2,
            DataType::Int64,
            metric::Value::LongValue(uptime as u64),
            birth,
            ts,
        ));
        m
    }

    fn pump_metrics(&mut self, birth: bool, ts: u64) -> Vec<Metric> {
        let rng = &mut self.rng;
        let temp = round(self.pump_temp.next(rng), 2) as f32;
        let pressure = round(self.pump_pressure.next(rng), 3);
        let running = temp < 55.0;
        if rng.gen_range(0..20) == 0 {
            self.pump_starts += 1;
        }
        vec![
            spb_metric(
                "Temperature",
                10,
                DataType::Float,
                metric::Value::FloatValue(temp),
                birth,
                ts,
            ),
            spb_metric(
                "Pressure",
                11,
                DataType::Double,
                metric::Value::DoubleValue(pressure),
                birth,
                ts,
            ),
            spb_metric(
                "Running",
                12,
                DataType::Boolean,
                metric::Value::BooleanValue(running),
                birth,
                ts,
            ),
            spb_metric(
                "Starts",
                13,
                DataType::UInt32,
                metric::Value::IntValue(self.pump_starts),
                birth,
                ts,
            ),
        ]
    }

    fn tank_metrics(&mut self, birth: bool, ts: u64) -> Vec<Metric> {
        let rng = &mut self.rng;
        let level = round(self.tank_level.next(rng), 2);
        let flow = round(self.tank_flow.next(rng), 2) as f32;
        vec![
            spb_metric(
                "Level",
                20,
                DataType::Double,
                metric::Value::DoubleValue(level),
                birth,
                ts,
            ),
            spb_metric(
                "Flow",
                21,
                DataType::Float,
                metric::Value::FloatValue(flow),
                birth,
                ts,
            ),
            spb_metric(
                "ValveOpen",
                22,
                DataType::Boolean,
                metric::Value::BooleanValue(flow > 12.0),
                birth,
                ts,
            ),
        ]
    }

    /// The next reading of meter `i`: (temp, humidity, volts, amps, count).
    fn meter(&mut self, i: usize) -> (f64, f64, f64, f64, u64) {
        let rng = &mut self.rng;
        let m = &mut self.meters[i];
        m.4 += 1;
        (
            round(m.0.next(rng), 2),
            round(m.1.next(rng), 1),
            round(m.2.next(rng), 1),
            round(m.3.next(rng), 3),
            m.4,
        )
    }

    fn raw(&mut self) -> Vec<u8> {
        let mut b = [0u8; 4];
        self.rng.fill(&mut b[..]);
        b.to_vec()
    }
}

/// A Sparkplug B payload as bytes.
fn spb_payload(seq: Option<u64>, ts: u64, metrics: Vec<Metric>) -> Vec<u8> {
    Payload {
        timestamp: Some(ts),
        metrics,
        seq,
        ..Payload::default()
    }
    .encode_to_vec()
}

/// True for an NCMD to the simulated node asking for a rebirth
/// (`Node Control/Rebirth` = true), whatever the prefix.
pub fn is_rebirth_request(prefix: &str, topic: &str, payload: &[u8]) -> bool {
    let want = format!(
        "{}spBv1.0/{SPB_GROUP}/NCMD/{SPB_NODE}",
        normalize_prefix(prefix)
    );
    if topic != want {
        return false;
    }
    let Ok(p) = Payload::decode(payload) else {
        return false;
    };
    p.metrics.iter().any(|m| {
        let named = m.name.as_deref() == Some("Node Control/Rebirth") || m.alias == Some(1);
        named && m.value == Some(metric::Value::BooleanValue(true))
    })
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// `--prefix` as used in topics: empty, or ending with exactly one '/'.
pub fn normalize_prefix(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

impl Simulator {
    /// A simulator for `devices` devices under `prefix`, seeded for reproducibility.
    pub fn new(prefix: &str, devices: u32, seed: u64) -> Simulator {
        let mut rng = StdRng::seed_from_u64(seed);
        let devices = (0..devices)
            .map(|i| {
                let building = i / 10;
                let building = if building < 26 {
                    char::from(b'a' + building as u8).to_string()
                } else {
                    (building + 1).to_string()
                };
                Device {
                    id: format!("sensor-{}", i + 1),
                    location: format!("building-{building}/floor-{}", i % 10 + 1),
                    temp: Walk::new(21.5, 6.0, 0.15, &mut rng),
                    humidity: Walk::new(45.0, 25.0, 0.6, &mut rng),
                    volts: Walk::new(230.0, 6.0, 0.4, &mut rng),
                    amps: Walk::new(1.5, 1.4, 0.05, &mut rng),
                }
            })
            .collect();
        Simulator {
            prefix: normalize_prefix(prefix),
            devices,
            rng,
            slot: 0,
            post_id: 0,
            extra: Extras::new(seed),
        }
    }

    /// The retained `online` status of every device.
    pub fn status_messages(&self) -> Vec<Message> {
        self.devices
            .iter()
            .map(|d| Message {
                topic: format!("{}devices/{}/status", self.prefix, d.id),
                payload: b"online".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
            })
            .collect()
    }

    fn spb_topic(&self, kind: &str, device: Option<&str>) -> String {
        let p = &self.prefix;
        match device {
            Some(d) => format!("{p}spBv1.0/{SPB_GROUP}/{kind}/{SPB_NODE}/{d}"),
            None => format!("{p}spBv1.0/{SPB_GROUP}/{kind}/{SPB_NODE}"),
        }
    }

    /// The Sparkplug births: NBIRTH (seq 0, bdSeq) then a DBIRTH per device,
    /// each metric with its name, alias, datatype and current value.
    pub fn sparkplug_births(&mut self, unix_ms: u64) -> Vec<Message> {
        self.extra.seq = 0;
        let x = &mut self.extra;
        let nbirth = {
            let seq = x.next_seq();
            let metrics = x.node_metrics(true, unix_ms);
            spb_payload(Some(seq), unix_ms, metrics)
        };
        let pump = {
            let seq = x.next_seq();
            let metrics = x.pump_metrics(true, unix_ms);
            spb_payload(Some(seq), unix_ms, metrics)
        };
        let tank = {
            let seq = x.next_seq();
            let metrics = x.tank_metrics(true, unix_ms);
            spb_payload(Some(seq), unix_ms, metrics)
        };
        let msg = |topic, payload| Message {
            topic,
            payload,
            qos: QoS::AtMostOnce,
            retain: false,
        };
        vec![
            msg(self.spb_topic("NBIRTH", None), nbirth),
            msg(self.spb_topic("DBIRTH", Some(SPB_DEVICES[0])), pump),
            msg(self.spb_topic("DBIRTH", Some(SPB_DEVICES[1])), tank),
        ]
    }

    /// The node's NDEATH (its `bdSeq`, no seq): the Will, and what a clean
    /// shutdown publishes.
    pub fn sparkplug_ndeath(&self, unix_ms: u64) -> Message {
        let bd = Metric {
            name: Some("bdSeq".to_owned()),
            datatype: Some(DataType::Int64 as u32),
            value: Some(metric::Value::LongValue(self.extra.bd_seq)),
            ..Metric::default()
        };
        Message {
            topic: self.spb_topic("NDEATH", None),
            payload: spb_payload(None, unix_ms, vec![bd]),
            qos: QoS::AtLeastOnce,
            retain: false,
        }
    }

    /// The next message of the devices that are not `sensor-<n>`, in turn:
    /// DDATA of pump-1, CBOR meter, DDATA of tank-2, MessagePack meter,
    /// NDATA. Sparkplug data carry aliases only.
    pub fn next_extra(&mut self, unix_ms: u64) -> Vec<Message> {
        let kind = EXTRA_SCHEDULE[(self.extra.slot % EXTRA_SCHEDULE.len() as u64) as usize];
        self.extra.slot += 1;
        let spb = |topic: String, payload: Vec<u8>| Message {
            topic,
            payload,
            qos: QoS::AtMostOnce,
            retain: false,
        };
        let x = &mut self.extra;
        match kind {
            ExtraKind::Pump | ExtraKind::Tank | ExtraKind::NodeData => {
                let seq = x.next_seq();
                let (metrics, device) = match kind {
                    ExtraKind::Pump => (x.pump_metrics(false, unix_ms), Some(SPB_DEVICES[0])),
                    ExtraKind::Tank => (x.tank_metrics(false, unix_ms), Some(SPB_DEVICES[1])),
                    _ => (x.node_metrics(false, unix_ms), None),
                };
                let payload = spb_payload(Some(seq), unix_ms, metrics);
                let kind = if device.is_some() { "DDATA" } else { "NDATA" };
                vec![spb(self.spb_topic(kind, device), payload)]
            }
            ExtraKind::Cbor => {
                let (temp, humidity, volts, amps, count) = x.meter(0);
                let raw = x.raw();
                use ciborium::Value as C;
                let text = |s: &str| C::Text(s.to_owned());
                let body = C::Map(vec![
                    (text("temp"), C::Float(temp)),
                    (text("humidity"), C::Float(humidity)),
                    (
                        text("power"),
                        C::Map(vec![
                            (text("volts"), C::Float(volts)),
                            (text("amps"), C::Float(amps)),
                        ]),
                    ),
                    (text("count"), C::Integer(count.into())),
                    (text("raw"), C::Bytes(raw)),
                ]);
                let mut payload = Vec::new();
                // Writing into a Vec cannot fail.
                let _ = ciborium::into_writer(&body, &mut payload);
                vec![Message {
                    topic: format!("{}cbor/{CBOR_DEVICE}/telemetry", self.prefix),
                    payload,
                    qos: QoS::AtLeastOnce,
                    retain: false,
                }]
            }
            ExtraKind::MsgPack => {
                let (temp, humidity, volts, amps, count) = x.meter(1);
                let raw = x.raw();
                use rmpv::Value as M;
                let body = M::Map(vec![
                    (M::from("temp"), M::F64(temp)),
                    (M::from("humidity"), M::F64(humidity)),
                    (
                        M::from("power"),
                        M::Map(vec![
                            (M::from("volts"), M::F64(volts)),
                            (M::from("amps"), M::F64(amps)),
                        ]),
                    ),
                    (M::from("count"), M::from(count)),
                    (M::from("raw"), M::Binary(raw)),
                ]);
                let mut payload = Vec::new();
                // Writing into a Vec cannot fail.
                let _ = rmpv::encode::write_value(&mut payload, &body);
                vec![Message {
                    topic: format!("{}msgpack/{MSGPACK_DEVICE}/telemetry", self.prefix),
                    payload,
                    qos: QoS::AtLeastOnce,
                    retain: false,
                }]
            }
        }
    }

    /// The next reading of the next device: one message, or two for the
    /// OneNet `$` topics (the `$` original, then its visible copy).
    pub fn next_batch(&mut self, unix_secs: u64) -> Vec<Message> {
        let n = self.devices.len() as u64;
        let kind = SCHEDULE[((self.slot / n) % SCHEDULE.len() as u64) as usize];
        let idx = (self.slot % n) as usize;
        self.slot += 1;
        let p = self.prefix.clone();
        let rng = &mut self.rng;
        let dev = &mut self.devices[idx];
        let plain = |topic: String, payload: Vec<u8>, qos: QoS| {
            vec![Message {
                topic,
                payload,
                qos,
                retain: false,
            }]
        };
        let twice = |original: String, copy: String, payload: Vec<u8>| {
            vec![
                Message {
                    topic: original,
                    payload: payload.clone(),
                    qos: QoS::AtLeastOnce,
                    retain: false,
                },
                Message {
                    topic: copy,
                    payload,
                    qos: QoS::AtLeastOnce,
                    retain: false,
                },
            ]
        };
        match kind {
            Kind::Temp => {
                let v = dev.temp.next(rng);
                plain(
                    format!("{p}{}/temp", dev.location),
                    format!("{v:.2}").into_bytes(),
                    QoS::AtMostOnce,
                )
            }
            Kind::Humidity => {
                let v = dev.humidity.next(rng);
                plain(
                    format!("{p}{}/humidity", dev.location),
                    format!("{v:.1}").into_bytes(),
                    QoS::AtMostOnce,
                )
            }
            Kind::Telemetry => {
                let temp = round(dev.temp.next(rng), 1);
                let humidity = round(dev.humidity.next(rng), 1);
                let volts = round(dev.volts.next(rng), 1);
                let amps = round(dev.amps.next(rng), 2);
                let body = json!({
                    "temp": temp,
                    "humidity": humidity,
                    "power": {"volts": volts, "amps": amps},
                    "ok": temp < 26.0 && humidity < 70.0,
                });
                plain(
                    format!("{p}devices/{}/telemetry", dev.id),
                    body.to_string().into_bytes(),
                    QoS::AtLeastOnce,
                )
            }
            Kind::DpType1 => {
                let value = json!(round(dev.temp.next(rng), 1));
                let at = onenet::iso_seconds(unix_secs);
                let payload = onenet::dp_type1_payload("wendu", &at, &value).unwrap_or_default();
                twice(
                    "$dp".to_owned(),
                    format!("{p}onenet/{}/dp", dev.id),
                    payload,
                )
            }
            Kind::DpType3 => {
                let temp = json!(round(dev.temp.next(rng), 1));
                let hum = json!(dev.humidity.next(rng).round() as i64);
                let payload =
                    onenet::dp_type3_payload(&[("temp", temp), ("hum", hum)]).unwrap_or_default();
                twice(
                    "$dp".to_owned(),
                    format!("{p}onenet/{}/dp", dev.id),
                    payload,
                )
            }
            Kind::DpPost => {
                self.post_id += 1;
                let temp = json!(round(dev.temp.next(rng), 1));
                let humidity = json!(round(dev.humidity.next(rng), 1));
                let body = onenet::dp_post_json(
                    self.post_id,
                    unix_secs,
                    &[("temp", temp), ("humidity", humidity)],
                );
                twice(
                    onenet::dp_post_topic(PRODUCT_ID, &dev.id),
                    format!("{p}onenet/{}/dp/post/json", dev.id),
                    body.into_bytes(),
                )
            }
            Kind::Raw => {
                let mut bytes = [0u8; 16];
                rng.fill(&mut bytes[..]);
                let zero = rng.gen_range(0..16);
                let ff = (zero + rng.gen_range(1..16)) % 16;
                bytes[zero] = 0x00;
                bytes[ff] = 0xFF;
                plain(
                    format!("{p}devices/{}/raw", dev.id),
                    bytes.to_vec(),
                    QoS::AtMostOnce,
                )
            }
        }
    }
}

fn unix_now() -> u64 {
    unix_ms() / 1000
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Builds client options for `url`.
pub fn mqtt_options(url: &BrokerUrl, client_id: &str) -> MqttOptions {
    let mut options = match url {
        BrokerUrl::Tcp { host, port } => MqttOptions::new(client_id, host.clone(), *port),
        BrokerUrl::Ws { port, .. } => {
            let mut o = MqttOptions::new(client_id, url.to_string(), *port);
            o.set_transport(Transport::Ws);
            o
        }
    };
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        .set_max_packet_size(2 * 1024 * 1024, 2 * 1024 * 1024);
    options
}

/// Polls `eventloop` until the broker accepts the connection, retrying
/// failed attempts until `deadline`.
pub async fn wait_connected(
    eventloop: &mut EventLoop,
    url: &BrokerUrl,
    deadline: Instant,
) -> Result<(), String> {
    let mut last_error: Option<String> = None;
    loop {
        let fail = |why: String| format!("cannot reach broker at {url}: {why}");
        match timeout_at(deadline, eventloop.poll()).await {
            Err(_) => {
                return Err(fail(last_error.unwrap_or_else(|| {
                    "no CONNACK before --connect-timeout".to_owned()
                })))
            }
            Ok(Ok(Event::Incoming(rumqttc::Packet::ConnAck(ack)))) => {
                return match ack.code {
                    ConnectReturnCode::Success => Ok(()),
                    code => Err(format!("broker at {url} refused the connection: {code:?}")),
                };
            }
            Ok(Ok(_)) => {}
            Ok(Err(rumqttc::ConnectionError::ConnectionRefused(code))) => {
                return Err(format!("broker at {url} refused the connection: {code:?}"));
            }
            Ok(Err(e)) => {
                let why = describe(&e);
                if Instant::now() + Duration::from_millis(250) >= deadline {
                    return Err(fail(why));
                }
                last_error = Some(why);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// A short lower-case description of a connection error.
pub fn describe(e: &rumqttc::ConnectionError) -> String {
    let io = |io: &std::io::Error| match io.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        _ => io.to_string(),
    };
    match e {
        rumqttc::ConnectionError::Io(e) => io(e),
        rumqttc::ConnectionError::MqttState(rumqttc::StateError::Io(e)) => io(e),
        other => other.to_string(),
    }
}

/// Runs the simulator until `--count` messages were sent or Ctrl-C / SIGTERM.
pub async fn run(args: SimulateArgs) -> Result<(), String> {
    let url = BrokerUrl::parse(&args.broker)?;
    if !(args.rate.is_finite() && args.rate > 0.0) {
        return Err(format!(
            "--rate must be a positive number, got {}",
            args.rate
        ));
    }
    if !(args.connect_timeout.is_finite() && args.connect_timeout > 0.0) {
        return Err("--connect-timeout must be a positive number of seconds".to_owned());
    }
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| format!("devbroker-sim-{}", std::process::id()));
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut sim = Simulator::new(&args.prefix, args.devices, seed);
    let mut shutdown = Box::pin(crate::shutdown_signal());

    let mut options = mqtt_options(&url, &client_id);
    if let Some(user) = &args.username {
        options.set_credentials(user.clone(), args.password.clone().unwrap_or_default());
    }
    // The Sparkplug node's death certificate, sent by the broker if we vanish.
    let will = sim.sparkplug_ndeath(unix_ms());
    options.set_last_will(LastWill::new(
        will.topic,
        will.payload,
        will.qos,
        will.retain,
    ));
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    let deadline = Instant::now() + Duration::from_secs_f64(args.connect_timeout);
    tokio::select! {
        r = wait_connected(&mut eventloop, &url, deadline) => r?,
        sig = &mut shutdown => {
            warn!("simulate: {sig} before connecting");
            return Ok(());
        }
    }
    say!(
        "simulate: connected to {url} as {client_id}; {} devices, {} msg/s, topic prefix {:?}",
        args.devices,
        args.rate,
        normalize_prefix(&args.prefix)
    );

    let statuses = sim.status_messages();
    let qos1_sent = Arc::new(AtomicU64::new(0));
    let qos1_acked = Arc::new(AtomicU64::new(0));
    let rebirth = Arc::new(AtomicBool::new(false));
    let ncmd = format!(
        "{}spBv1.0/{SPB_GROUP}/NCMD/{SPB_NODE}",
        normalize_prefix(&args.prefix)
    );
    let driver = tokio::spawn(drive(
        eventloop,
        client.clone(),
        statuses.clone(),
        qos1_acked.clone(),
        Rebirth {
            prefix: args.prefix.clone(),
            ncmd: ncmd.clone(),
            requested: rebirth.clone(),
        },
    ));
    client
        .subscribe(ncmd, QoS::AtLeastOnce)
        .await
        .map_err(|e| format!("subscribe failed: {e}"))?;

    let publish = |m: Message| {
        let client = client.clone();
        let qos1_sent = qos1_sent.clone();
        async move {
            if m.qos != QoS::AtMostOnce {
                qos1_sent.fetch_add(1, Ordering::Relaxed);
            }
            client
                .publish(m.topic, m.qos, m.retain, m.payload)
                .await
                .map_err(|e| format!("publish failed: {e}"))
        }
    };

    for m in statuses {
        publish(m).await?;
    }

    let start = Instant::now();
    let burst = (args.rate * 0.25).max(2.0);
    let mut tokens = 1.0f64;
    let mut last = start;
    let mut pending = std::collections::VecDeque::new();
    // The Sparkplug births go first, counted with the data messages.
    pending.extend(sim.sparkplug_births(unix_ms()));
    let mut batches: u64 = 0;
    let mut sent: u64 = 0;
    let mut sent_dollar: u64 = 0;
    let mut sent_at_summary: u64 = 0;
    let mut last_summary = start;
    let summary_every = Duration::from_secs(args.summary_secs.max(1));
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let stop_reason = 'outer: loop {
        if args.count.is_some_and(|c| sent >= c) {
            break "done";
        }
        tokio::select! {
            _ = tick.tick() => {}
            sig = &mut shutdown => break sig,
        }
        let now = Instant::now();
        tokens = (tokens + now.duration_since(last).as_secs_f64() * args.rate).min(burst);
        last = now;
        while tokens >= 1.0 && args.count.is_none_or(|c| sent < c) {
            if pending.is_empty() {
                if rebirth.swap(false, Ordering::Relaxed) {
                    pending.extend(sim.sparkplug_births(unix_ms()));
                } else if batches % (EXTRA_EVERY + 1) == EXTRA_EVERY {
                    pending.extend(sim.next_extra(unix_ms()));
                    batches += 1;
                } else {
                    pending.extend(sim.next_batch(unix_now()));
                    batches += 1;
                }
            }
            let Some(m) = pending.pop_front() else { break };
            let dollar = m.topic.starts_with('$');
            tokio::select! {
                r = publish(m) => r?,
                sig = &mut shutdown => break 'outer sig,
            }
            tokens -= 1.0;
            sent += 1;
            sent_dollar += u64::from(dollar);
        }
        if now.duration_since(last_summary) >= summary_every {
            let secs = now.duration_since(last_summary).as_secs_f64();
            say!(
                "simulate: {sent} messages sent ({:.1} msg/s) to {url}",
                (sent - sent_at_summary) as f64 / secs
            );
            last_summary = now;
            sent_at_summary = sent;
        }
    };

    // A node that leaves on purpose says so (a run that reached --count just
    // disconnects, so that it publishes exactly what it counted).
    if stop_reason != "done" {
        let death = sim.sparkplug_ndeath(unix_ms());
        qos1_sent.fetch_add(1, Ordering::Relaxed);
        let _ = client
            .publish(death.topic, death.qos, death.retain, death.payload)
            .await;
    }
    // Let QoS 1 publishes be acknowledged, then disconnect cleanly.
    let ack_deadline = Instant::now() + Duration::from_secs(5);
    while qos1_acked.load(Ordering::Relaxed) < qos1_sent.load(Ordering::Relaxed)
        && Instant::now() < ack_deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), driver).await;
    say!(
        "simulate: {stop_reason}; {sent} messages sent ({sent_dollar} to $ topics) in {:.1}s ({} QoS 1 acknowledged)",
        start.elapsed().as_secs_f64(),
        qos1_acked.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Where rebirth requests for the Sparkplug node come from and go to.
struct Rebirth {
    prefix: String,
    ncmd: String,
    requested: Arc<AtomicBool>,
}

/// Drives the connection: counts PUBACKs, turns a Sparkplug rebirth NCMD
/// into births, reconnects after errors and then re-publishes the retained
/// statuses, subscribes to the NCMD again and asks for births (the broker may
/// have restarted).
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    statuses: Vec<Message>,
    acked: Arc<AtomicU64>,
    rebirth: Rebirth,
) {
    let mut lost = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Event::Incoming(rumqttc::Packet::Publish(p))) => {
                if is_rebirth_request(&rebirth.prefix, &p.topic, &p.payload) {
                    say!("simulate: rebirth requested on {}", p.topic);
                    rebirth.requested.store(true, Ordering::Relaxed);
                }
            }
            Ok(Event::Incoming(rumqttc::Packet::ConnAck(_))) if lost => {
                lost = false;
                say!("simulate: reconnected");
                rebirth.requested.store(true, Ordering::Relaxed);
                let client = client.clone();
                let statuses = statuses.clone();
                let ncmd = rebirth.ncmd.clone();
                tokio::spawn(async move {
                    let _ = client.subscribe(ncmd, QoS::AtLeastOnce).await;
                    for m in statuses {
                        let _ = client.publish(m.topic, m.qos, m.retain, m.payload).await;
                    }
                });
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(e) => {
                if !lost {
                    warn!("simulate: connection lost: {}; reconnecting", describe(&e));
                }
                lost = true;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_pass(devices: u32) -> Vec<Message> {
        let mut sim = Simulator::new("", devices, 1);
        let mut out = Vec::new();
        for _ in 0..SCHEDULE.len() as u32 * devices {
            out.extend(sim.next_batch(1_552_289_676));
        }
        out
    }

    #[test]
    fn one_pass_covers_every_kind_for_every_device() {
        let msgs = first_pass(3);
        for d in 1..=3 {
            let has = |t: &str| msgs.iter().any(|m| m.topic == t);
            assert!(has(&format!("devices/sensor-{d}/telemetry")));
            assert!(has(&format!("devices/sensor-{d}/raw")));
            assert!(has(&format!("onenet/sensor-{d}/dp")));
            assert!(has(&format!("onenet/sensor-{d}/dp/post/json")));
            assert!(has(&format!("$sys/12555524/sensor-{d}/dp/post/json")));
        }
        assert!(msgs.iter().any(|m| m.topic == "building-a/floor-2/temp"));
        assert!(msgs
            .iter()
            .any(|m| m.topic == "building-a/floor-3/humidity"));
        assert!(msgs.iter().any(|m| m.topic == "$dp"));
    }

    #[test]
    fn plain_readings_are_numbers_in_text() {
        for m in first_pass(2) {
            if m.topic.ends_with("/temp") || m.topic.ends_with("/humidity") {
                let text = std::str::from_utf8(&m.payload).unwrap();
                assert!(text.parse::<f64>().is_ok(), "{text}");
            }
        }
    }

    #[test]
    fn telemetry_has_nested_numeric_fields() {
        let msgs = first_pass(1);
        let m = msgs
            .iter()
            .find(|m| m.topic.ends_with("/telemetry"))
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        assert!(v["temp"].is_f64());
        assert!(v["humidity"].is_number());
        assert!(v["power"]["volts"].is_number());
        assert!(v["power"]["amps"].is_number());
        assert!(v["ok"].is_boolean());
    }

    #[test]
    fn dp_messages_come_in_pairs_with_equal_payloads() {
        let msgs = first_pass(2);
        for (i, m) in msgs.iter().enumerate() {
            if m.topic == "$dp" {
                let copy = &msgs[i + 1];
                assert!(copy.topic.starts_with("onenet/") && copy.topic.ends_with("/dp"));
                assert_eq!(copy.payload, m.payload);
                assert_eq!(m.qos, QoS::AtLeastOnce);
                assert!(m.payload[0] == 0x01 || m.payload[0] == 0x03);
                let len = u16::from_be_bytes([m.payload[1], m.payload[2]]) as usize;
                assert_eq!(len, m.payload.len() - 3);
                let body: serde_json::Value = serde_json::from_slice(&m.payload[3..]).unwrap();
                if m.payload[0] == 0x01 {
                    assert_eq!(body["datastreams"][0]["id"], "wendu");
                    assert_eq!(
                        body["datastreams"][0]["datapoints"][0]["at"],
                        "2019-03-11T07:34:36"
                    );
                } else {
                    assert!(body["temp"].is_number() && body["hum"].is_i64());
                }
            }
        }
    }

    #[test]
    fn raw_payload_is_16_bytes_of_invalid_utf8_with_00_and_ff() {
        for m in first_pass(4).iter().filter(|m| m.topic.ends_with("/raw")) {
            assert_eq!(m.payload.len(), 16);
            assert!(m.payload.contains(&0x00) && m.payload.contains(&0xFF));
            assert!(std::str::from_utf8(&m.payload).is_err());
        }
    }

    #[test]
    fn statuses_are_retained_online_and_prefixed() {
        let sim = Simulator::new("lab", 2, 0);
        let s = sim.status_messages();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].topic, "lab/devices/sensor-1/status");
        assert_eq!(s[0].payload, b"online");
        assert!(s[0].retain);
    }

    #[test]
    fn prefix_applies_to_visible_topics_only() {
        let mut sim = Simulator::new("lab/", 1, 0);
        let all: Vec<Message> = (0..SCHEDULE.len())
            .flat_map(|_| sim.next_batch(0))
            .collect();
        for m in &all {
            assert!(
                m.topic.starts_with("lab/") || m.topic.starts_with('$'),
                "{}",
                m.topic
            );
        }
        assert!(all.iter().any(|m| m.topic == "$dp"));
    }

    #[test]
    fn walks_stay_in_range_and_move_smoothly() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut w = Walk::new(21.5, 6.0, 0.15, &mut rng);
        let mut prev = w.value;
        for _ in 0..10_000 {
            let v = w.next(&mut rng);
            assert!((15.5..=27.5).contains(&v));
            assert!((v - prev).abs() <= 0.15 + 0.05 * 12.0);
            prev = v;
        }
    }

    #[test]
    fn same_seed_gives_same_messages() {
        let a: Vec<Message> = {
            let mut s = Simulator::new("", 3, 42);
            (0..50).flat_map(|_| s.next_batch(5)).collect()
        };
        let b: Vec<Message> = {
            let mut s = Simulator::new("", 3, 42);
            (0..50).flat_map(|_| s.next_batch(5)).collect()
        };
        assert_eq!(a, b);
    }

    fn decode_all(sp: &mut sparkplug::Sparkplug, msgs: &[Message]) -> Vec<serde_json::Value> {
        msgs.iter()
            .map(|m| {
                let text = sp.decode(&m.topic, &m.payload, 0.0).unwrap();
                serde_json::from_str(&text).unwrap()
            })
            .collect()
    }

    #[test]
    fn sparkplug_births_carry_names_aliases_and_bdseq_and_bring_the_node_online() {
        let mut sim = Simulator::new("", 1, 3);
        let births = sim.sparkplug_births(1_700_000_000_000);
        let topics: Vec<&str> = births.iter().map(|m| m.topic.as_str()).collect();
        assert_eq!(
            topics,
            [
                "spBv1.0/mqdash/NBIRTH/sim-node",
                "spBv1.0/mqdash/DBIRTH/sim-node/pump-1",
                "spBv1.0/mqdash/DBIRTH/sim-node/tank-2"
            ]
        );
        let nbirth = Payload::decode(&births[0].payload[..]).unwrap();
        assert_eq!(nbirth.seq, Some(0));
        assert!(nbirth
            .metrics
            .iter()
            .any(|m| m.name.as_deref() == Some("bdSeq")));
        let dbirth = Payload::decode(&births[1].payload[..]).unwrap();
        assert!(dbirth
            .metrics
            .iter()
            .all(|m| m.name.is_some() && m.alias.is_some() && m.datatype.is_some()));
        let mut sp = sparkplug::Sparkplug::new();
        let out = decode_all(&mut sp, &births);
        assert_eq!(out[1]["sequence"]["status"], "ok");
        let nodes: serde_json::Value = serde_json::from_str(&sp.nodes_json()).unwrap();
        assert_eq!(nodes["nodes"][0]["online"], true);
        assert_eq!(nodes["nodes"][0]["devices"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn sparkplug_data_carry_only_aliases_which_the_decoder_names_from_the_births() {
        let mut sim = Simulator::new("", 1, 3);
        let mut sp = sparkplug::Sparkplug::new();
        decode_all(&mut sp, &sim.sparkplug_births(1_000));
        let mut seen = std::collections::BTreeSet::new();
        let mut last_temp = None;
        let mut temps_differ = false;
        for i in 0..50 {
            for m in sim.next_extra(2_000 + i) {
                if !m.topic.starts_with("spBv1.0/") {
                    continue;
                }
                let raw = Payload::decode(&m.payload[..]).unwrap();
                assert!(raw
                    .metrics
                    .iter()
                    .all(|x| x.name.is_none() && x.alias.is_some()));
                let v = &decode_all(&mut sp, std::slice::from_ref(&m))[0];
                assert_eq!(v["sequence"]["status"], "ok", "{v}");
                assert!(v.get("unresolved_aliases").is_none(), "{v}");
                for (k, val) in v["metrics"].as_object().unwrap() {
                    seen.insert(k.clone());
                    if k == "Temperature" {
                        assert!(val.is_number());
                        temps_differ |= last_temp.is_some_and(|t| t != *val);
                        last_temp = Some(val.clone());
                    }
                }
            }
        }
        for name in [
            "Temperature",
            "Pressure",
            "Running",
            "Starts",
            "Level",
            "Flow",
            "ValveOpen",
            "Uptime",
        ] {
            assert!(seen.contains(name), "{name} in {seen:?}");
        }
        assert!(temps_differ, "the readings vary");
    }

    #[test]
    fn cbor_and_messagepack_devices_publish_small_maps_with_numbers_and_bytes() {
        let mut sim = Simulator::new("", 1, 3);
        let msgs: Vec<Message> = (0..EXTRA_SCHEDULE.len() as u64)
            .flat_map(|i| sim.next_extra(i))
            .collect();
        let cbor = msgs
            .iter()
            .find(|m| m.topic == "cbor/meter-1/telemetry")
            .unwrap();
        let v: ciborium::Value = ciborium::from_reader(&cbor.payload[..]).unwrap();
        let map = v.as_map().unwrap();
        let get = |k: &str| {
            map.iter()
                .find(|(key, _)| key.as_text() == Some(k))
                .map(|(_, v)| v)
        };
        assert!(get("temp").unwrap().is_float());
        assert!(get("power").unwrap().is_map());
        assert!(get("count").unwrap().is_integer());
        assert_eq!(get("raw").unwrap().as_bytes().unwrap().len(), 4);
        let mp = msgs
            .iter()
            .find(|m| m.topic == "msgpack/meter-2/telemetry")
            .unwrap();
        let v = rmpv::decode::read_value(&mut &mp.payload[..]).unwrap();
        assert!(v["temp"].is_f64());
        assert!(v["power"]["volts"].is_f64());
        assert!(v["count"].is_u64());
        assert_eq!(v["raw"].as_slice().unwrap().len(), 4);
        assert_eq!(cbor.qos, QoS::AtLeastOnce);
    }

    #[test]
    fn the_sensor_devices_publish_what_they_did_before_whatever_the_extras() {
        let plain: Vec<Message> = {
            let mut s = Simulator::new("", 3, 42);
            (0..40).flat_map(|_| s.next_batch(5)).collect()
        };
        let mixed: Vec<Message> = {
            let mut s = Simulator::new("", 3, 42);
            let mut out = Vec::new();
            s.sparkplug_births(1);
            for _ in 0..40 {
                out.extend(s.next_batch(5));
                s.next_extra(6);
            }
            out
        };
        assert_eq!(plain, mixed);
    }

    #[test]
    fn a_rebirth_ncmd_is_recognised_and_nothing_else_is() {
        let ncmd = |name: &str, v: bool| {
            Payload {
                metrics: vec![Metric {
                    name: Some(name.to_owned()),
                    datatype: Some(DataType::Boolean as u32),
                    value: Some(metric::Value::BooleanValue(v)),
                    ..Metric::default()
                }],
                ..Payload::default()
            }
            .encode_to_vec()
        };
        let t = "spBv1.0/mqdash/NCMD/sim-node";
        assert!(is_rebirth_request(
            "",
            t,
            &ncmd("Node Control/Rebirth", true)
        ));
        assert!(!is_rebirth_request(
            "",
            t,
            &ncmd("Node Control/Rebirth", false)
        ));
        assert!(!is_rebirth_request("", t, &ncmd("Other", true)));
        assert!(!is_rebirth_request("", t, &[0xff, 0xff]));
        assert!(!is_rebirth_request(
            "",
            "spBv1.0/mqdash/NCMD/other",
            &ncmd("Node Control/Rebirth", true)
        ));
        assert!(is_rebirth_request(
            "lab",
            &format!("lab/{t}"),
            &ncmd("Node Control/Rebirth", true)
        ));
    }

    #[test]
    fn the_ndeath_carries_the_births_bdseq_and_no_seq() {
        let mut sim = Simulator::new("", 1, 3);
        let births = sim.sparkplug_births(1);
        let death = sim.sparkplug_ndeath(2);
        assert_eq!(death.topic, "spBv1.0/mqdash/NDEATH/sim-node");
        let mut sp = sparkplug::Sparkplug::new();
        decode_all(&mut sp, &births);
        let v = &decode_all(&mut sp, &[death])[0];
        assert!(v.get("seq").is_none());
        assert!(v.get("warnings").is_none(), "not stale: {v}");
        let nodes: serde_json::Value = serde_json::from_str(&sp.nodes_json()).unwrap();
        assert_eq!(nodes["nodes"][0]["online"], false);
    }

    #[test]
    fn the_prefix_applies_to_the_extra_devices_too() {
        let mut sim = Simulator::new("lab", 1, 0);
        let mut all = sim.sparkplug_births(0);
        for i in 0..10 {
            all.extend(sim.next_extra(i));
        }
        assert!(all.iter().all(|m| m.topic.starts_with("lab/")));
        assert!(all.iter().any(|m| m.topic == "lab/cbor/meter-1/telemetry"));
    }

    #[test]
    fn prefix_normalization() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("a"), "a/");
        assert_eq!(normalize_prefix("a/"), "a/");
    }
}
