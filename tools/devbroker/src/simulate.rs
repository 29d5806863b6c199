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
//! The `$…` topics are what a real OneNet device publishes, but a `#`
//! subscription never matches topics starting with `$` (MQTT 3.1.1 §4.7.2),
//! and rumqttd refuses subscriptions to `$` filters altogether, so every `$`
//! message is published a second time under the visible `onenet/…` topic.
//! `$` topics are not prefixed. The values are smooth random walks.
//!
//! [`Simulator`] is pure (no IO, time passed in); [`run`] paces and publishes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Outgoing, QoS, Transport,
};
use serde_json::json;
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
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
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
    let driver = tokio::spawn(drive(
        eventloop,
        client.clone(),
        statuses.clone(),
        qos1_acked.clone(),
    ));

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
                pending.extend(sim.next_batch(unix_now()));
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

/// Drives the connection: counts PUBACKs, reconnects after errors and then
/// re-publishes the retained statuses (the broker may have restarted).
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    statuses: Vec<Message>,
    acked: Arc<AtomicU64>,
) {
    let mut lost = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Event::Incoming(rumqttc::Packet::ConnAck(_))) if lost => {
                lost = false;
                say!("simulate: reconnected");
                let client = client.clone();
                let statuses = statuses.clone();
                tokio::spawn(async move {
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

    #[test]
    fn prefix_normalization() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("a"), "a/");
        assert_eq!(normalize_prefix("a/"), "a/");
    }
}
