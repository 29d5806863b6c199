//! Shared helpers for the devbroker integration tests: start the real
//! binary on free ports (`--tcp-port 0 --ws-port 0`, ports read back from the
//! ready line), wait for child processes with deadlines, and a `#`
//! subscriber that records what it receives. No fixed ports, no sleeps
//! standing in for conditions.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

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
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("no ready line within 20s; stderr: {err}");
            }
        };
        let (tcp_port, ws_port) =
            parse_ready_line(&line).unwrap_or_else(|| panic!("unexpected ready line {line:?}"));
        Broker {
            child,
            tcp_port,
            ws_port,
            ready_line: line,
        }
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
        tokio::time::timeout(Duration::from_secs(10), subacked_rx)
            .await
            .expect("SUBACK within 10s")
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
