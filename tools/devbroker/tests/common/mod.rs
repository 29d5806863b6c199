//! Shared helpers for the devbroker integration tests: start the real
//! binary on free ports (`--tcp-port 0 --ws-port 0`, ports read back from the
//! ready line), collect a child's output lines and wait for the lines
//! themselves ([`Lines`]), wait for child processes with deadlines, and a `#`
//! subscriber that records what it receives. No fixed ports, no sleeps
//! standing in for conditions, no counting of what another thread has read
//! so far: every wait is for the event, with a deadline ([`PATIENCE`]) that
//! only runs out when the event never comes.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

/// How long a test waits for something that should happen (a line, a
/// message, an exit) before it fails. Generous on purpose: a loaded machine
/// is slow, not broken; only an event that never comes runs into it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `cond` until it holds; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[derive(Default)]
struct LinesState {
    /// Each line with the instant the reader thread read it.
    lines: Vec<(Instant, String)>,
    /// The stream ended (the process closed it or exited).
    ended: bool,
}

/// The lines a child process writes to one stream, collected by a reader
/// thread. Waits block on the reader's notifications, so a test asserts on
/// lines it has seen arrive, never on however many the thread had read at
/// some arbitrary moment.
#[derive(Clone)]
pub struct Lines(Arc<(Mutex<LinesState>, Condvar)>);

impl Lines {
    /// Starts a thread reading `stream` line by line until it ends.
    pub fn collect(stream: impl Read + Send + 'static) -> Lines {
        let lines = Lines(Arc::new((Mutex::default(), Condvar::new())));
        let shared = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let (state, cv) = &*shared.0;
                if let Ok(mut s) = state.lock() {
                    s.lines.push((Instant::now(), line));
                }
                cv.notify_all();
            }
            let (state, cv) = &*shared.0;
            if let Ok(mut s) = state.lock() {
                s.ended = true;
            }
            cv.notify_all();
        });
        lines
    }

    /// Waits until `find` returns `Some` for the lines read so far; panics
    /// after `limit`, or as soon as the stream ended without it.
    pub fn wait_for<T>(
        &self,
        what: &str,
        limit: Duration,
        mut find: impl FnMut(&[(Instant, String)]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        let (state, cv) = &*self.0;
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(found) = find(&s.lines) {
                return found;
            }
            let now = Instant::now();
            if s.ended || now >= deadline {
                let why = if s.ended {
                    "the output ended"
                } else {
                    "timed out"
                };
                let all: Vec<&str> = s.lines.iter().map(|(_, l)| l.as_str()).collect();
                panic!(
                    "{why} waiting for {what} (limit {limit:?}); lines:\n{}",
                    all.join("\n")
                );
            }
            s = cv
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until at least `n` lines contain `needle`; returns the first `n`
    /// of them, each with the instant it was read.
    pub fn wait_for_count(
        &self,
        needle: &str,
        n: usize,
        limit: Duration,
    ) -> Vec<(Instant, String)> {
        self.wait_for(&format!("{n} lines with {needle:?}"), limit, |lines| {
            let hits: Vec<(Instant, String)> = lines
                .iter()
                .filter(|(_, l)| l.contains(needle))
                .take(n)
                .cloned()
                .collect();
            (hits.len() == n).then_some(hits)
        })
    }

    /// Lines containing `needle` read so far (for conditions checked at a
    /// known point, e.g. after [`Lines::wait_for_count`]).
    pub fn count(&self, needle: &str) -> usize {
        self.snapshot()
            .iter()
            .filter(|(_, l)| l.contains(needle))
            .count()
    }

    /// Every line read so far.
    pub fn snapshot(&self) -> Vec<(Instant, String)> {
        let (state, _) = &*self.0;
        state.lock().map(|s| s.lines.clone()).unwrap_or_default()
    }

    /// Every line read so far, joined (for failure messages).
    pub fn text(&self) -> String {
        self.snapshot()
            .into_iter()
            .map(|(_, l)| l)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_devbroker");

/// A running `devbroker broker`, killed on drop.
pub struct Broker {
    pub child: Child,
    pub tcp_port: u16,
    pub ws_port: u16,
    pub ready_line: String,
}

impl Broker {
    /// Starts the broker on free loopback ports and waits for its ready line.
    pub fn start() -> Broker {
        let mut child = Command::new(BIN)
            .args(["broker", "--tcp-port", "0", "--ws-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn devbroker broker");
        let stdout = Lines::collect(child.stdout.take().expect("stdout"));
        // Drained so the broker never blocks on a full pipe; shown on failure.
        let stderr = Lines::collect(child.stderr.take().expect("stderr"));
        // Killed on drop from here on, also when the wait below fails.
        let mut broker = Broker {
            child,
            tcp_port: 0,
            ws_port: 0,
            ready_line: String::new(),
        };
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stdout.wait_for("the ready line", PATIENCE, |lines| {
                lines.first().map(|(_, l)| l.clone())
            })
        }));
        let line = found.unwrap_or_else(|_| {
            panic!("devbroker broker did not start; stderr:\n{}", stderr.text())
        });
        let (tcp_port, ws_port) =
            parse_ready_line(&line).unwrap_or_else(|| panic!("unexpected ready line {line:?}"));
        broker.tcp_port = tcp_port;
        broker.ws_port = ws_port;
        broker.ready_line = line;
        broker
    }

    pub fn mqtt_url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.tcp_port)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.ws_port, path)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `devbroker: listening mqtt://127.0.0.1:<tcp> ws://127.0.0.1:<ws>/mqtt` → ports.
pub fn parse_ready_line(line: &str) -> Option<(u16, u16)> {
    let rest = line.strip_prefix("devbroker: listening mqtt://127.0.0.1:")?;
    let (tcp, rest) = rest.split_once(" ws://127.0.0.1:")?;
    let (ws, path) = rest.split_once('/')?;
    if path != "mqtt" {
        return None;
    }
    Some((tcp.parse().ok()?, ws.parse().ok()?))
}

/// Waits for `child` to exit, killing it and failing after `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("process still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the binary with `args` to completion (at most `limit`), returning
/// its status, stdout and stderr.
pub fn run_to_end(args: &[&str], limit: Duration) -> (ExitStatus, String, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn devbroker");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = wait_exit(&mut child, limit);
    let took = started.elapsed();
    (
        status,
        out_thread.join().unwrap(),
        err_thread.join().unwrap(),
        took,
    )
}

/// A port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// An MQTT subscriber whose messages arrive on a channel.
pub struct Subscriber {
    pub client: AsyncClient,
    pub rx: tokio::sync::mpsc::UnboundedReceiver<Received>,
}

impl Subscriber {
    /// Connects to the broker's TCP port and subscribes to `filter`,
    /// returning once the SUBACK arrived.
    pub async fn start(port: u16, client_id: &str, filter: &str) -> Subscriber {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(4 << 20, 4 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 100);
        client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (subacked_tx, subacked_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut subacked_tx = Some(subacked_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(t) = subacked_tx.take() {
                            let _ = t.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(Received {
                            topic: p.topic.clone(),
                            payload: p.payload.to_vec(),
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        tokio::time::timeout(PATIENCE, subacked_rx)
            .await
            .unwrap_or_else(|_| panic!("no SUBACK within {PATIENCE:?}"))
            .expect("subscriber event loop ended before SUBACK");
        Subscriber { client, rx }
    }

    /// Collects messages until `done(&all)` holds or `limit` passes.
    pub async fn collect_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut all = Vec::new();
        while !done(&all) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => all.push(m),
                Ok(None) | Err(_) => break,
            }
        }
        all
    }
}
