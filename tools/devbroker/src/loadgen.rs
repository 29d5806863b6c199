//! `devbroker loadgen`: publishes at a fixed rate over many topics and
//! reports what it achieved, for broker and dashboard throughput tests.
//!
//! Speed matters more than generality here, so it speaks MQTT 3.1.1 itself
//! over one blocking TCP socket: CONNECT and CONNACK via mqttbytes, then
//! PUBLISH packets encoded by hand from per-topic pre-encoded headers and
//! written in one batch per ~1 ms tick (a token count derived from elapsed
//! time, so the average rate holds even when a tick runs late). A reader
//! thread counts PUBACKs for `--qos 1`, where at most `--max-inflight`
//! publishes are unacknowledged.
//!
//! Each payload is the send time in milliseconds since the UNIX epoch as
//! ASCII digits, one space, then `x` padding up to `--payload-size`.
//! The result is one JSON line on stdout. TCP (`mqtt://`) only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use mqttbytes::v4::{self, Packet};

use crate::target::BrokerUrl;

/// Flags of `devbroker loadgen`.
#[derive(clap::Args, Debug, Clone)]
pub struct LoadgenArgs {
    /// Broker URL (mqtt://host:port only).
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    pub broker: String,
    /// Target messages per second.
    #[arg(long, default_value_t = 50_000)]
    pub rate: u64,
    /// Number of topics, published round-robin as `<topic-prefix><n>`.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub topics: u32,
    /// Topic prefix.
    #[arg(long, default_value = "load/")]
    pub topic_prefix: String,
    /// Payload size in bytes (at least 14: 13 timestamp digits and a space).
    #[arg(long, default_value_t = 100)]
    pub payload_size: usize,
    /// How long to publish, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub duration_secs: f64,
    /// QoS of the publishes: 0 or 1.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub qos: u8,
    /// QoS 1 only: most unacknowledged publishes at once.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_inflight: u16,
    /// MQTT client id [default: devbroker-load-<pid>].
    #[arg(long)]
    pub client_id: Option<String>,
    /// Seconds to keep retrying the connection before giving up.
    #[arg(long, default_value_t = 10.0)]
    pub connect_timeout: f64,
}

/// What a run achieved; printed as one JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// PUBLISH packets written.
    pub sent: u64,
    /// PUBACKs received (QoS 1).
    pub acked: u64,
    /// Seconds from the first publish to the last.
    pub elapsed_secs: f64,
    /// `sent / elapsed_secs`.
    pub rate: f64,
}

/// Smallest payload: 13 digits of milliseconds and a space.
pub const MIN_PAYLOAD: usize = 14;

/// Encodes an MQTT remaining-length varint.
fn put_remaining_length(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
}

/// Fixed header, topic length and topic of a PUBLISH carrying
/// `payload_size` bytes; for QoS 1 the 2-byte packet id follows it.
pub fn publish_header(topic: &str, qos: u8, payload_size: usize) -> Vec<u8> {
    let id_len = if qos > 0 { 2 } else { 0 };
    let remaining = 2 + topic.len() + id_len + payload_size;
    let mut out = Vec::with_capacity(5 + 2 + topic.len());
    out.push(0x30 | (qos << 1));
    put_remaining_length(&mut out, remaining);
    out.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    out.extend_from_slice(topic.as_bytes());
    out
}

/// The payload: `ms` in ASCII, a space, `x` padding to `size` bytes.
pub fn payload(ms: u64, size: usize) -> Vec<u8> {
    let mut out = format!("{ms} ").into_bytes();
    out.resize(size.max(out.len()), b'x');
    out
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs the load generator; Ctrl-C stops early and still reports.
pub async fn run(args: LoadgenArgs) -> Result<(), String> {
    let url = BrokerUrl::parse(&args.broker)?;
    if !matches!(url, BrokerUrl::Tcp { .. }) {
        return Err(format!(
            "loadgen speaks MQTT over TCP only; got {url} (use mqtt://host:port)"
        ));
    }
    if args.rate == 0 {
        return Err("--rate must be at least 1".to_owned());
    }
    if args.payload_size < MIN_PAYLOAD {
        return Err(format!(
            "--payload-size must be at least {MIN_PAYLOAD} (timestamp digits and a space), got {}",
            args.payload_size
        ));
    }
    if !(args.duration_secs.is_finite() && args.duration_secs > 0.0) {
        return Err("--duration-secs must be a positive number".to_owned());
    }
    if !(args.connect_timeout.is_finite() && args.connect_timeout > 0.0) {
        return Err("--connect-timeout must be a positive number of seconds".to_owned());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        let args = args.clone();
        tokio::task::spawn_blocking(move || generate(&args, &url, &stop))
    };
    tokio::pin!(worker);
    let report = tokio::select! {
        r = &mut worker => r,
        sig = crate::shutdown_signal() => {
            warn!("loadgen: {sig}, stopping");
            stop.store(true, Ordering::Relaxed);
            worker.await
        }
    }
    .map_err(|e| format!("load generator thread failed: {e}"))??;
    let line = serde_json::json!({
        "sent": report.sent,
        "acked": report.acked,
        "elapsed_secs": (report.elapsed_secs * 1000.0).round() / 1000.0,
        "rate": report.rate.round(),
        "target_rate": args.rate,
        "topics": args.topics,
        "payload_size": args.payload_size,
        "qos": args.qos,
    });
    say!("{line}");
    Ok(())
}

fn connect(url: &BrokerUrl, client_id: &str, timeout: Duration) -> Result<TcpStream, String> {
    let deadline = Instant::now() + timeout;
    let target = url.socket_addr_string();
    let mut last_err;
    loop {
        let addrs: Vec<SocketAddr> = target
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {target}: {e}"))?
            .collect();
        last_err = format!("no address for {target}");
        for addr in addrs {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(100));
            match TcpStream::connect_timeout(&addr, left) {
                Ok(stream) => return handshake(stream, client_id, url),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    last_err = "connection refused".to_owned()
                }
                Err(e) => last_err = e.to_string(),
            }
        }
        if Instant::now() + Duration::from_millis(250) >= deadline {
            return Err(format!("cannot reach broker at {url}: {last_err}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn handshake(mut stream: TcpStream, client_id: &str, url: &BrokerUrl) -> Result<TcpStream, String> {
    let io = |e: std::io::Error| format!("broker at {url}: {e}");
    stream.set_nodelay(true).map_err(io)?;
    let mut connect = v4::Connect::new(client_id);
    connect.keep_alive = 60;
    let mut buf = BytesMut::new();
    connect
        .write(&mut buf)
        .map_err(|e| format!("encode CONNECT: {e:?}"))?;
    stream.write_all(&buf).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    let mut read = BytesMut::new();
    let mut chunk = [0u8; 256];
    loop {
        match v4::read(&mut read, 1024) {
            Ok(Packet::ConnAck(ack)) if ack.code == v4::ConnectReturnCode::Success => break,
            Ok(Packet::ConnAck(ack)) => {
                return Err(format!(
                    "broker at {url} refused the connection: {:?}",
                    ack.code
                ))
            }
            Ok(other) => return Err(format!("broker at {url}: expected CONNACK, got {other:?}")),
            Err(mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => return Err(format!("broker at {url}: bad CONNACK: {e:?}")),
        }
        let n = stream.read(&mut chunk).map_err(io)?;
        if n == 0 {
            return Err(format!(
                "broker at {url} closed the connection before CONNACK"
            ));
        }
        read.extend_from_slice(&chunk[..n]);
    }
    stream.set_read_timeout(None).map_err(io)?;
    Ok(stream)
}

/// Reads what the broker sends (PUBACK, PINGRESP) until the socket closes.
fn read_acks(mut stream: TcpStream, acked: Arc<AtomicU64>, closed: Arc<AtomicBool>) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        loop {
            match v4::read(&mut buf, 1 << 20) {
                Ok(Packet::PubAck(_)) => {
                    acked.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(mqttbytes::Error::InsufficientBytes(_)) => break,
                Err(_) => {
                    closed.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
    closed.store(true, Ordering::Relaxed);
}

fn generate(args: &LoadgenArgs, url: &BrokerUrl, stop: &AtomicBool) -> Result<Report, String> {
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| format!("devbroker-load-{}", std::process::id()));
    let mut stream = connect(
        url,
        &client_id,
        Duration::from_secs_f64(args.connect_timeout),
    )?;
    let acked = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    let reader = {
        let s = stream
            .try_clone()
            .map_err(|e| format!("socket clone: {e}"))?;
        let (acked, closed) = (acked.clone(), closed.clone());
        std::thread::spawn(move || read_acks(s, acked, closed))
    };

    let headers: Vec<Vec<u8>> = (0..args.topics)
        .map(|n| {
            publish_header(
                &format!("{}{n}", args.topic_prefix),
                args.qos,
                args.payload_size,
            )
        })
        .collect();
    let qos1 = args.qos > 0;
    let duration = Duration::from_secs_f64(args.duration_secs);
    // Up to 50 ms worth per write: enough to catch up after a late tick.
    let max_batch = (args.rate / 20).max(1);
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut sent: u64 = 0;
    let mut pkid: u16 = 0;
    let mut last_write = Instant::now();
    let start = Instant::now();
    let mut failure = None;
    loop {
        let elapsed = start.elapsed();
        if elapsed >= duration || stop.load(Ordering::Relaxed) {
            break;
        }
        if closed.load(Ordering::Relaxed) {
            failure = Some(format!(
                "broker at {url} closed the connection after {sent} messages"
            ));
            break;
        }
        let due = ((elapsed.as_secs_f64() * args.rate as f64) as u64 + 1).saturating_sub(sent);
        let mut batch = due.min(max_batch);
        if qos1 {
            let inflight = sent.saturating_sub(acked.load(Ordering::Relaxed));
            batch = batch.min(u64::from(args.max_inflight).saturating_sub(inflight));
        }
        if batch > 0 {
            buf.clear();
            let body = payload(now_ms(), args.payload_size);
            for _ in 0..batch {
                buf.extend_from_slice(&headers[(sent % u64::from(args.topics)) as usize]);
                if qos1 {
                    pkid = pkid.checked_add(1).unwrap_or(1);
                    buf.extend_from_slice(&pkid.to_be_bytes());
                }
                buf.extend_from_slice(&body);
                sent += 1;
            }
            if let Err(e) = stream.write_all(&buf) {
                failure = Some(format!(
                    "write to broker at {url} failed after {sent} messages: {e}"
                ));
                break;
            }
            last_write = Instant::now();
        } else if last_write.elapsed() > Duration::from_secs(30) {
            let _ = stream.write_all(&[0xC0, 0x00]); // PINGREQ
            last_write = Instant::now();
        }
        if batch < max_batch {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if qos1 && failure.is_none() {
        let deadline = Instant::now() + Duration::from_secs(5);
        while acked.load(Ordering::Relaxed) < sent
            && Instant::now() < deadline
            && !closed.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let _ = stream.write_all(&[0xE0, 0x00]); // DISCONNECT
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = reader.join();
    if let Some(f) = failure {
        return Err(f);
    }
    Ok(Report {
        sent,
        acked: acked.load(Ordering::Relaxed),
        elapsed_secs: elapsed,
        rate: if elapsed > 0.0 {
            sent as f64 / elapsed
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use mqttbytes::QoS;

    fn decode(header: &[u8], pkid: Option<u16>, body: &[u8]) -> v4::Publish {
        let mut bytes = BytesMut::from(header);
        if let Some(id) = pkid {
            bytes.extend_from_slice(&id.to_be_bytes());
        }
        bytes.extend_from_slice(body);
        match v4::read(&mut bytes, 1 << 20).unwrap() {
            Packet::Publish(p) => {
                assert!(
                    bytes.is_empty(),
                    "packet length must cover exactly the bytes"
                );
                p
            }
            other => panic!("not a publish: {other:?}"),
        }
    }

    #[test]
    fn hand_encoded_qos0_publish_decodes_with_mqttbytes() {
        let body = payload(1_700_000_000_123, 100);
        let p = decode(&publish_header("load/7", 0, 100), None, &body);
        assert_eq!(p.topic, "load/7");
        assert_eq!(p.qos, QoS::AtMostOnce);
        assert_eq!(&p.payload[..], &body[..]);
    }

    #[test]
    fn hand_encoded_qos1_publish_carries_the_packet_id() {
        let body = payload(1, 300);
        let p = decode(&publish_header("load/123", 1, 300), Some(513), &body);
        assert_eq!(p.qos, QoS::AtLeastOnce);
        assert_eq!(p.pkid, 513);
        assert_eq!(p.payload.len(), 300);
    }

    #[test]
    fn remaining_length_uses_multibyte_varints() {
        let mut out = Vec::new();
        put_remaining_length(&mut out, 127);
        assert_eq!(out, [0x7F]);
        out.clear();
        put_remaining_length(&mut out, 128);
        assert_eq!(out, [0x80, 0x01]);
        out.clear();
        put_remaining_length(&mut out, 16_384);
        assert_eq!(out, [0x80, 0x80, 0x01]);
        let big = payload(5, 20_000);
        let p = decode(&publish_header("t", 0, 20_000), None, &big);
        assert_eq!(p.payload.len(), 20_000);
    }

    #[test]
    fn payload_starts_with_the_time_and_is_padded() {
        let p = payload(1_700_000_000_123, 20);
        assert_eq!(p, b"1700000000123 xxxxxx");
        assert_eq!(payload(1_700_000_000_123, 14), b"1700000000123 ");
    }
}
