//! A native soak of the session: Debian's mosquitto on a free loopback
//! port, one `Session` publishing at a fixed rate (every tenth message at
//! QoS 1, the rest at QoS 0) and one subscribed `Session` (persistent
//! session, QoS 1 subscription) whose connection is cut and resumed every few
//! minutes. Both run over real WebSockets (tungstenite), in this process, so
//! its resident memory is the session's and the harness's.
//!
//! ```sh
//! cargo run --release -p mqtt-session --example soak -- --minutes 30 --rate 5000 --reconnect-secs 180
//! ```
//!
//! It fails (exit status 1) on a panic, a lost QoS 1 message, or memory that
//! keeps growing: the peak resident set of the second half of the run must
//! stay within 20 % (+ 2 MiB) of the first half's. QoS 0 messages published
//! while the subscriber is cut off are dropped by mosquitto, as MQTT allows;
//! they are counted, not failed. This covers the native session, not the
//! page (the browser soak is separate).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::{Client, Mosquitto, MosquittoConfig};
use mqtt_session::{Event, Options, QoS};

struct Args {
    minutes: f64,
    rate: u64,
    reconnect_secs: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        minutes: 30.0,
        rate: 5_000,
        reconnect_secs: 180,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--minutes" => a.minutes = value()?.parse().map_err(|e| format!("--minutes: {e}"))?,
            "--rate" => a.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--reconnect-secs" => {
                a.reconnect_secs = value()?
                    .parse()
                    .map_err(|e| format!("--reconnect-secs: {e}"))?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

/// Resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A growable bitmap of QoS 1 sequence numbers received.
#[derive(Default)]
struct Seen(Vec<u64>);

impl Seen {
    fn insert(&mut self, n: u64) -> bool {
        let (w, b) = ((n / 64) as usize, n % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        let fresh = self.0[w] & (1 << b) == 0;
        self.0[w] |= 1 << b;
        fresh
    }

    fn contains(&self, n: u64) -> bool {
        self.0
            .get((n / 64) as usize)
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }
}

/// What the subscriber received.
#[derive(Default)]
struct Counts {
    q0: u64,
    q1: u64,
    dup_q1: u64,
    seen: Seen,
}

impl Counts {
    /// Counts and drops the client's events.
    fn tally(&mut self, c: &mut Client) {
        for e in c.events.drain(..) {
            if let Event::Message(msg) = e {
                let text = String::from_utf8_lossy(&msg.payload);
                if let Some(n) = text.strip_prefix("q1-").and_then(|n| n.parse().ok()) {
                    if self.seen.insert(n) {
                        self.q1 += 1;
                    } else {
                        self.dup_q1 += 1;
                    }
                } else {
                    self.q0 += 1;
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let m = Mosquitto::start(MosquittoConfig::default());
    let mut publisher = Client::connected(
        &m,
        "soak-pub",
        Options {
            keep_alive_secs: 30,
            ..common::opts("soak-pub")
        },
    );
    let mut sub = Client::connected(
        &m,
        "soak-sub",
        Options {
            clean_session: false,
            keep_alive_secs: 30,
            ..common::opts("soak-sub")
        },
    );
    sub.subscribe(&[("soak/#", QoS::AtLeastOnce)]);
    println!(
        "soak: {} min at {} msg/s, subscriber cut every {} s, mosquitto ws port {}",
        args.minutes, args.rate, args.reconnect_secs, m.ws_port
    );

    let run = Duration::from_secs_f64(args.minutes * 60.0);
    let start = Instant::now();
    let mut next_cut = start + Duration::from_secs(args.reconnect_secs);
    let mut next_report = start + Duration::from_secs(10);
    let (mut sent, mut sent_q1) = (0u64, 0u64);
    let mut counts = Counts::default();
    let mut reconnects = 0u64;
    let mut samples: Vec<(f64, u64)> = Vec::new();
    while start.elapsed() < run {
        // Publish what is due, in slices.
        let due = (start.elapsed().as_secs_f64() * args.rate as f64) as u64;
        let mut burst = 0;
        while sent < due && burst < 500 {
            let (qos, payload) = if sent % 10 == 0 {
                sent_q1 += 1;
                (QoS::AtLeastOnce, format!("q1-{}", sent / 10))
            } else {
                (QoS::AtMostOnce, format!("q0-{sent}"))
            };
            publisher.publish(
                &format!("soak/{}", sent % 100),
                payload.as_bytes(),
                qos,
                false,
            );
            sent += 1;
            burst += 1;
        }
        for _ in 0..200 {
            let before = publisher.last_rx;
            publisher.pump(Duration::from_millis(1));
            if publisher.last_rx == before {
                break;
            }
        }
        publisher.events.clear();
        for _ in 0..200 {
            let before = sub.last_rx;
            sub.pump(Duration::from_millis(1));
            if sub.last_rx == before {
                break;
            }
        }
        counts.tally(&mut sub);
        if !sub.is_open() || Instant::now() >= next_cut {
            sub.cut();
            counts.tally(&mut sub);
            sub.connect(&m);
            reconnects += 1;
            next_cut = Instant::now() + Duration::from_secs(args.reconnect_secs);
        }
        if Instant::now() >= next_report {
            let secs = start.elapsed().as_secs_f64();
            let rss = rss_kib();
            samples.push((secs, rss));
            println!(
                "soak: {secs:.0} s: sent {sent} ({:.0}/s), received {} ({} QoS 1), \
                 {reconnects} reconnects, publisher backlog {}, rss {rss} KiB",
                sent as f64 / secs,
                counts.q0 + counts.q1,
                counts.q1,
                publisher.session.queued()
            );
            next_report += Duration::from_secs(10);
        }
    }

    // Drain: every QoS 1 message must arrive.
    let drain = Instant::now() + Duration::from_secs(60);
    while counts.q1 < sent_q1 && Instant::now() < drain {
        publisher.pump(Duration::from_millis(1));
        publisher.events.clear();
        sub.pump(Duration::from_millis(5));
        counts.tally(&mut sub);
    }
    let lost_q1: Vec<u64> = (0..sent_q1).filter(|n| !counts.seen.contains(*n)).collect();
    let half = run.as_secs_f64() / 2.0;
    let first = samples
        .iter()
        .filter(|(t, _)| *t <= half)
        .map(|(_, r)| *r)
        .max()
        .unwrap_or(0);
    let second = samples
        .iter()
        .filter(|(t, _)| *t > half)
        .map(|(_, r)| *r)
        .max()
        .unwrap_or(0);
    let bounded = second <= first + first / 5 + 2048;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "soak: {}: {secs:.0} s, sent {sent} ({:.0}/s; {sent_q1} QoS 1), received {} QoS 0 \
         and {} QoS 1 ({} QoS 1 duplicates), {} QoS 1 lost, {} QoS 0 dropped \
         while cut off, {reconnects} reconnects; rss peak {first} KiB in the first half, \
         {second} KiB in the second",
        if lost_q1.is_empty() && bounded {
            "OK"
        } else {
            "FAILED"
        },
        sent as f64 / secs,
        counts.q0,
        counts.q1,
        counts.dup_q1,
        lost_q1.len(),
        (sent - sent_q1).saturating_sub(counts.q0),
    );
    if !lost_q1.is_empty() {
        eprintln!(
            "soak: lost QoS 1 messages, first: {:?}",
            &lost_q1[..lost_q1.len().min(10)]
        );
        return ExitCode::FAILURE;
    }
    if !bounded {
        eprintln!("soak: memory kept growing");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
