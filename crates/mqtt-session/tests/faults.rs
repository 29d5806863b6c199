//! Fault injection between our native client (`Session` over tungstenite)
//! and Debian's mosquitto, through `devbroker proxy` (found like the
//! devbroker tests find it: `MQDASH_DEVBROKER`, else
//! `$CARGO_TARGET_DIR/debug/devbroker`): frames re-chunked at random (1 byte
//! up to several packets) with delays, the connection cut at every stage of
//! the QoS 1 and QoS 2 flows in both directions, and blackholes for
//! dead-link detection.
//!
//! With clean session off and mosquitto persistence on, nothing published at
//! QoS 1 or 2 is lost in either direction, no QoS 2 message arrives twice,
//! and every QoS 1 duplicate is explained (client to broker: the message was
//! in flight at a cut, so the session resent it with DUP; broker to client:
//! the copy carries DUP). The normal run does 200 cuts; `MQDASH_FAULT_CYCLES`
//! sets another number for longer runs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{devbroker_path, opts, Broker, Client, Lines, Mosquitto, MosquittoConfig, WAIT};
use mqtt_session::{ConnectionState, Event, Options, PublishId, QoS, SessionError};

/// `devbroker proxy` in front of a broker, killed on drop. Its stdout lines
/// are collected with the instant each was read.
struct Proxy {
    child: Child,
    url: String,
    lines: Lines,
}

impl Proxy {
    fn start(upstream: &str, args: &[&str]) -> Proxy {
        let bin = devbroker_path();
        assert!(
            bin.exists(),
            "the devbroker binary is missing at {}: build it with `cargo build -p devbroker` \
             (same CARGO_TARGET_DIR) or point MQDASH_DEVBROKER at it",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .args(["proxy", "--listen", "127.0.0.1:0", "--upstream", upstream])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let lines = Lines::collect(child.stdout.take().expect("stdout"));
        // Killed on drop from here on, also when the wait below fails.
        let mut proxy = Proxy {
            child,
            url: String::new(),
            lines,
        };
        proxy.url = proxy.lines.wait_for(
            &format!(
                "the proxy's ready line (if {} predates the proxy subcommand, rebuild it \
                 with `cargo build -p devbroker`)",
                bin.display()
            ),
            WAIT,
            |lines| {
                lines.iter().find_map(|(_, s)| {
                    s.strip_prefix("devbroker: proxy listening ")
                        .and_then(|r| r.split(' ').next())
                        .map(str::to_string)
                })
            },
        );
        proxy
    }

    /// Waits for a line containing `needle`; returns when it was read.
    fn wait_line(&self, needle: &str) -> Instant {
        self.lines.wait_for_count(needle, 1, WAIT)[0].0
    }
}

impl Broker for Proxy {
    fn ws_url(&self) -> String {
        self.url.clone()
    }
    fn name(&self) -> &'static str {
        "devbroker proxy"
    }
    fn log(&self) -> String {
        self.lines.text()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens a connection through `via` and pumps until CONNACK (true) or until
/// the connection is lost first (false).
fn open_until_connack(c: &mut Client, via: &dyn Broker) -> bool {
    let start = c.events.len();
    c.open(via);
    let deadline = Instant::now() + WAIT;
    loop {
        if c.events[start..]
            .iter()
            .any(|e| matches!(e, Event::Connected { .. }))
        {
            return true;
        }
        if !c.is_open() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "{}: no CONNACK within {WAIT:?}; events {:?}",
            c.name,
            &c.events[start..]
        );
        c.pump(Duration::from_millis(2));
    }
}

fn payload_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn published_ids(c: &Client) -> BTreeSet<PublishId> {
    c.events
        .iter()
        .filter_map(|e| match e {
            Event::Published { id, qos, .. } if *qos != QoS::AtMostOnce => Some(*id),
            _ => None,
        })
        .collect()
}

fn completed_ids(c: &Client) -> BTreeSet<PublishId> {
    c.events
        .iter()
        .filter_map(|e| match e {
            Event::PublishComplete { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// The cut/reconnect cycles. Returns a one-line summary for the report.
fn cut_and_reconnect(cycles: usize) -> String {
    let m = Mosquitto::start(MosquittoConfig {
        persistence: true,
        ..MosquittoConfig::default()
    });
    let cycles_arg = cycles.to_string();
    let proxy = Proxy::start(
        &m.ws_url(),
        &[
            "--qos-stages",
            &cycles_arg,
            "--seed",
            "7",
            "--max-delay-ms",
            "2",
        ],
    );
    // The observer and the feeder talk to mosquitto directly.
    let mut observer = Client::connected(&m, "observer", opts("fault-observer"));
    observer.subscribe(&[("faults/up/#", QoS::ExactlyOnce)]);
    let mut feeder = Client::connected(&m, "feeder", opts("fault-feeder"));
    // The client under test: persistent session, subscribed once directly,
    // then only through the proxy.
    let mut a = Client::new(
        "a",
        Options {
            clean_session: false,
            ..opts("fault-a")
        },
    );
    a.connect(&m);
    a.subscribe(&[("faults/down/#", QoS::ExactlyOnce)]);
    a.disconnect();

    let mut up_sent: BTreeMap<PublishId, (String, QoS)> = BTreeMap::new();
    let mut down_sent: Vec<(String, QoS)> = Vec::new();
    // Publishes of A that were in flight when a connection was lost.
    let mut in_flight_at_cut: BTreeSet<PublishId> = BTreeSet::new();
    let mut losses = 0usize;
    let mut connections = 0usize;
    let mut n_up = 0u64;
    let mut n_down = 0u64;
    // Each connection takes a fraction of a second; a loaded machine may be
    // several times slower. What must not happen is a connection that makes
    // no progress at all: that fails after `WAIT` without a new connection.
    let mut last_progress = (connections, Instant::now());

    // Connections 0..cycles each carry one cut; connection `cycles` passes.
    while connections <= cycles {
        if connections != last_progress.0 {
            last_progress = (connections, Instant::now());
        }
        if !a.is_open() {
            if connections > 0 {
                losses += 1;
                let done = completed_ids(&a);
                in_flight_at_cut.extend(published_ids(&a).difference(&done).copied());
            }
            connections += 1;
            while !open_until_connack(&mut a, &proxy) {
                losses += 1;
                connections += 1;
            }
            continue;
        }
        assert!(
            last_progress.1.elapsed() < WAIT,
            "no new connection within {WAIT:?}: {connections} connections, {losses} losses; \
             A state {:?}; proxy:\n{}",
            a.session.state(),
            proxy.log()
        );
        if a.session.state() == ConnectionState::Connected
            && a.session.in_flight() + a.session.queued() < 4
        {
            for (tag, qos) in [("u1", QoS::AtLeastOnce), ("u2", QoS::ExactlyOnce)] {
                // A write may fail and lose the connection between the two.
                if a.session.state() != ConnectionState::Connected {
                    break;
                }
                let payload = format!("{tag}-{n_up}");
                let id = a.publish(&format!("faults/up/{tag}"), payload.as_bytes(), qos, false);
                up_sent.insert(id, (payload, qos));
            }
            n_up += 1;
        }
        let received_down: BTreeSet<String> = a
            .messages()
            .iter()
            .map(|m| payload_text(&m.payload))
            .collect();
        if down_sent.len() < received_down.len() + 6 {
            for (tag, qos) in [("d1", QoS::AtLeastOnce), ("d2", QoS::ExactlyOnce)] {
                let payload = format!("{tag}-{n_down}");
                feeder.publish(
                    &format!("faults/down/{tag}"),
                    payload.as_bytes(),
                    qos,
                    false,
                );
                down_sent.push((payload, qos));
            }
            n_down += 1;
        }
        a.pump(Duration::from_millis(2));
        feeder.pump(Duration::from_millis(1));
        observer.pump(Duration::from_millis(1));
    }

    // The last connection passes everything: drain.
    let up_payloads: BTreeSet<String> = up_sent.values().map(|(p, _)| p.clone()).collect();
    let down_payloads: BTreeSet<String> = down_sent.iter().map(|(p, _)| p.clone()).collect();
    let drain = Instant::now() + WAIT * 2;
    loop {
        let a_done = completed_ids(&a).len() >= up_sent.len();
        let seen_up: BTreeSet<String> = observer
            .messages_on_prefix("faults/up/")
            .iter()
            .map(|m| payload_text(&m.payload))
            .collect();
        let seen_down: BTreeSet<String> = a
            .messages()
            .iter()
            .map(|m| payload_text(&m.payload))
            .collect();
        if a_done && seen_up.is_superset(&up_payloads) && seen_down.is_superset(&down_payloads) {
            break;
        }
        assert!(
            Instant::now() < drain,
            "not everything arrived after the faults: A completed {}/{}, observer has {}/{}, \
             A has {}/{}; A state {:?}; missing up {:?}; missing down {:?}\nproxy:\n{}\nmosquitto:\n{}",
            completed_ids(&a).len(),
            up_sent.len(),
            seen_up.intersection(&up_payloads).count(),
            up_payloads.len(),
            seen_down.intersection(&down_payloads).count(),
            down_payloads.len(),
            a.session.state(),
            up_payloads.difference(&seen_up).take(5).collect::<Vec<_>>(),
            down_payloads.difference(&seen_down).take(5).collect::<Vec<_>>(),
            proxy.log(),
            m.log().lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
        a.pump(Duration::from_millis(2));
        feeder.pump(Duration::from_millis(1));
        observer.pump(Duration::from_millis(1));
    }

    // Nothing was given up on.
    let failed: Vec<&Event> = a
        .events
        .iter()
        .filter(|e| matches!(e, Event::PublishFailed { .. }))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");

    // Client to broker: each once at QoS 2; QoS 1 duplicates only for
    // publishes in flight at a cut (resent with DUP).
    let mut up_counts: BTreeMap<String, usize> = BTreeMap::new();
    for msg in observer.messages_on_prefix("faults/up/") {
        *up_counts.entry(payload_text(&msg.payload)).or_default() += 1;
    }
    let mut up_dups = 0;
    for (id, (payload, qos)) in &up_sent {
        let n = up_counts.get(payload).copied().unwrap_or(0);
        assert!(n >= 1, "lost client to broker: {payload}");
        if *qos == QoS::ExactlyOnce {
            assert_eq!(
                n, 1,
                "QoS 2 delivered {n} times client to broker: {payload}"
            );
        } else if n > 1 {
            assert!(
                in_flight_at_cut.contains(id),
                "{payload} arrived {n} times but was never in flight at a cut"
            );
            up_dups += n - 1;
        }
    }

    // Broker to client: each once at QoS 2; QoS 1 repeats carry DUP.
    let mut down_copies: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for msg in a.messages() {
        down_copies
            .entry(payload_text(&msg.payload))
            .or_default()
            .push(msg.dup);
    }
    let mut down_dups = 0;
    for (payload, qos) in &down_sent {
        let copies = down_copies.get(payload).cloned().unwrap_or_default();
        assert!(!copies.is_empty(), "lost broker to client: {payload}");
        if *qos == QoS::ExactlyOnce {
            assert_eq!(
                copies.len(),
                1,
                "QoS 2 delivered {} times broker to client: {payload}",
                copies.len()
            );
        } else {
            assert!(
                copies.iter().skip(1).all(|dup| *dup),
                "a repeated QoS 1 message without DUP: {payload} {copies:?}"
            );
            down_dups += copies.len() - 1;
        }
    }

    // Every planned cut happened, at every stage, and each cost A its
    // connection. The proxy prints each cut line before it cuts, so A has
    // seen every loss by now, but the reader thread may not have read every
    // line yet: wait for them. A's last connection is closed politely, so
    // that the proxy reports the DUP resends of every connection.
    proxy.lines.wait_for_count(": cut-", cycles, WAIT);
    a.disconnect();
    proxy.lines.wait_for_count("closed (", connections, WAIT);
    let log = proxy.log();
    let fired: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(": cut-before at ") || l.contains(": cut-after at "))
        .collect();
    assert_eq!(fired.len(), cycles, "proxy:\n{log}");
    assert_eq!(losses, cycles, "proxy:\n{log}");
    if cycles >= 24 {
        let stages: BTreeSet<String> = fired
            .iter()
            .filter_map(|l| {
                let rest = l.split(": ").nth(2)?;
                // "cut-after at up PUBLISH qos 2 pkid 5 dup 0" -> "cut-after up PUBLISH2"
                let w: Vec<&str> = rest.split(' ').collect();
                let qos = if w.get(3) == Some(&"PUBLISH") {
                    w.get(5).copied().unwrap_or("")
                } else {
                    ""
                };
                Some(format!("{} {} {}{qos}", w.first()?, w.get(2)?, w.get(3)?))
            })
            .collect();
        assert_eq!(stages.len(), 24, "{stages:?}");
    }
    let dup_resends: u64 = log
        .lines()
        .filter_map(|l| {
            let up = l.split("up ").nth(1)?;
            let n = up.split(" packets, ").nth(1)?.split(' ').next()?;
            n.parse::<u64>().ok()
        })
        .sum();
    format!(
        "{cycles} cuts survived ({} stages): client to broker {} publishes ({} QoS 2), \
         0 lost, 0 QoS 2 twice, {up_dups} QoS 1 duplicates (all in flight at a cut; \
         {dup_resends} PUBLISH resent with DUP seen by the proxy); broker to client {} \
         messages ({} QoS 2), 0 lost, 0 QoS 2 twice, {down_dups} QoS 1 duplicates, all with DUP",
        if cycles >= 24 { 24 } else { cycles },
        up_sent.len(),
        up_sent
            .values()
            .filter(|(_, q)| *q == QoS::ExactlyOnce)
            .count(),
        down_sent.len(),
        down_sent
            .iter()
            .filter(|(_, q)| *q == QoS::ExactlyOnce)
            .count()
    )
}

trait PrefixMessages {
    fn messages_on_prefix(&self, prefix: &str) -> Vec<&mqtt_session::Message>;
}

impl PrefixMessages for Client {
    fn messages_on_prefix(&self, prefix: &str) -> Vec<&mqtt_session::Message> {
        self.messages()
            .into_iter()
            .filter(|m| m.topic.starts_with(prefix))
            .collect()
    }
}

#[test]
fn two_hundred_cuts_at_every_qos_stage_lose_nothing_and_never_repeat_qos2() {
    let cycles = std::env::var("MQDASH_FAULT_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let started = Instant::now();
    let summary = cut_and_reconnect(cycles);
    println!(
        "fault injection: {summary}; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Connects through a proxy whose plan blackholes the first connection as
/// `rule` says, then measures from the last frame received to the session's
/// PingTimeout.
fn dead_link_detection(keep_alive_secs: u16, rule: &str, publish_every: Option<Duration>) -> u128 {
    let m = Mosquitto::start(MosquittoConfig::default());
    let proxy = Proxy::start(&m.ws_url(), &["--plan", rule, "--max-delay-ms", "0"]);
    let mut a = Client::new(
        "dead",
        Options {
            keep_alive_secs,
            // The default 10 s: the session caps the PINGRESP wait at 40 % of the keepalive.
            response_timeout_ms: 10_000,
            ..opts("dead-link")
        },
    );
    a.connect(&proxy);
    let budget = Duration::from_millis(u64::from(keep_alive_secs) * 1500);
    let deadline = Instant::now() + budget * 4 + WAIT;
    let mut next_publish = publish_every.map(|p| Instant::now() + p);
    let closed_at = loop {
        if let Some(Event::Closed { error }) = a.events.last() {
            let wait = u64::from(keep_alive_secs) * 400;
            assert!(
                matches!(error, SessionError::PingTimeout { waited_ms } if *waited_ms <= wait),
                "{:?}",
                a.events
            );
            break Instant::now();
        }
        if let (Some(at), Some(every)) = (next_publish, publish_every) {
            if Instant::now() >= at && a.session.state() == ConnectionState::Connected {
                a.publish("dead/link", b"still here?", QoS::AtMostOnce, false);
                next_publish = Some(at + every);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the dead link was not detected; events {:?}; proxy:\n{}",
            a.events,
            proxy.log()
        );
        a.pump(Duration::from_millis(20));
    };
    proxy.wait_line("blackhole");
    let last_rx = a.last_rx.unwrap_or_else(|| panic!("nothing was received"));
    let detection = closed_at.duration_since(last_rx);
    // The session aims at 1.4 × keepalive in its own clock; the rest of the
    // 1.5 × is for timers (here the test loop) that wake late.
    assert!(
        detection <= budget,
        "keepalive {keep_alive_secs} s: dead link detected after {detection:?}, bound {budget:?}"
    );
    println!(
        "dead link ({rule}), keepalive {keep_alive_secs} s: detected {} ms after the last \
         frame in (bound {} ms)",
        detection.as_millis(),
        budget.as_millis()
    );
    detection.as_millis()
}

#[test]
fn a_link_blackholed_right_after_a_pingresp_is_declared_dead_within_one_and_a_half_keepalives_of_2_s(
) {
    dead_link_detection(2, "down:PINGRESP:blackhole-after", None);
}

#[test]
fn a_link_blackholed_right_after_a_pingresp_is_declared_dead_within_one_and_a_half_keepalives_of_4_s(
) {
    dead_link_detection(4, "down:PINGRESP:blackhole-after", None);
}

#[test]
fn a_blackholed_link_is_declared_dead_in_time_even_while_the_client_keeps_publishing() {
    dead_link_detection(
        2,
        "up:PUBLISH0:blackhole-before@2",
        Some(Duration::from_millis(300)),
    );
}
