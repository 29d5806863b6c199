//! The page's reconnect supervisor (`mqdash::client::supervisor`, with the
//! session inside it) against `devbroker hostile` in each of its modes, over
//! a real WebSocket on loopback: a tiny tungstenite loop plays the browser
//! glue (carries out `Action`s, feeds frames, closes and timers back).
//!
//! Time is virtual: it follows the real clock, and jumps to the
//! supervisor's next deadline once the socket is closed, or once the server
//! has logged every CONNECT and PINGREQ it was sent and the socket has been
//! quiet for a while since (so a slow answer is never jumped over), so
//! backoff delays of seconds cost nothing. Each mode must end
//! every attempt with a clear reason in the status and reconnect with delays
//! that grow per backoff: no tight loop.

mod common;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Lines, BIN, PATIENCE};
use mqdash::client::supervisor::{Action, Notice, Status, Supervisor, Target};
use mqtt_session::Options;
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocket;
use tungstenite::Message;

/// How long any one run of attempts may take before it fails.
const LIMIT: Duration = Duration::from_secs(120);

/// Quiet time on an open socket before virtual time may jump, counted from
/// the last frame in and from the server's last log line, and only once the
/// server has logged every CONNECT and PINGREQ sent to it: whatever it is
/// going to answer, it answers right after logging.
const QUIET: Duration = Duration::from_millis(300);

/// What `devbroker hostile` logs when it reads a CONNECT, and a PINGREQ.
const CONNECT_LOGGED: &str = "CONNECT received";
const PINGREQ_LOGGED: &str = ": PINGREQ at ";

/// `devbroker hostile`, killed on drop.
struct Hostile {
    child: Child,
    url: String,
    lines: Lines,
}

impl Hostile {
    fn start(args: &[&str]) -> Hostile {
        let mut child = Command::new(BIN)
            .args(["hostile", "--ws-port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start devbroker hostile: {e}"));
        let lines = Lines::collect(child.stdout.take().expect("stdout"));
        let mut h = Hostile {
            child,
            url: String::new(),
            lines,
        };
        h.url = h.lines.wait_for("the ready line", PATIENCE, |lines| {
            lines
                .iter()
                .find_map(|(_, s)| s.split(" listening ").nth(1).map(str::to_string))
        });
        h
    }

    /// Waits until the broker has logged `n` CONNECTs (it logs each as it
    /// reads it, before answering).
    fn wait_for_connects(&self, n: usize) {
        self.lines.wait_for_count(CONNECT_LOGGED, n, PATIENCE);
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The MQTT packet types (high nibble of the first byte) in `bytes`, whole
/// packets back to back as the session writes them.
fn packet_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while let Some(&first) = bytes.first() {
        let mut len = 0usize;
        let mut at = 1;
        loop {
            let Some(&b) = bytes.get(at) else {
                return types;
            };
            len |= usize::from(b & 0x7f) << (7 * (at - 1));
            at += 1;
            if b & 0x80 == 0 || at > 4 {
                break;
            }
        }
        types.push(first >> 4);
        bytes = bytes.get(at + len..).unwrap_or_default();
    }
    types
}

/// One failed attempt: the reconnect delay chosen after it, and why it failed.
#[derive(Debug, Clone)]
struct Failure {
    delay_ms: u64,
    reason: String,
}

/// The browser glue, natively.
struct Glue {
    sup: Supervisor,
    ws: Option<WebSocket<TcpStream>>,
    now: u64,
    real: Instant,
    quiet_since: Instant,
    failures: Vec<Failure>,
    opens: usize,
    /// The hostile server's log.
    server: Lines,
    /// CONNECTs and PINGREQs written to the server.
    connects_sent: usize,
    pings_sent: usize,
}

impl Glue {
    /// Connects to `url` as the page's Connect button does. The client id
    /// counts as not chosen (the page's random id), so a broker that keeps
    /// closing the connection is retried, never taken for a takeover.
    fn connect(url: &str, server: Lines, options: Options) -> Glue {
        let mut glue = Glue {
            server,
            connects_sent: 0,
            pings_sent: 0,
            sup: Supervisor::new(),
            ws: None,
            now: 0,
            real: Instant::now(),
            quiet_since: Instant::now(),
            failures: Vec::new(),
            opens: 0,
        };
        let target = Target {
            url: url.into(),
            options,
            client_id_chosen: false,
        };
        let now = glue.now;
        glue.sup
            .connect(now, target)
            .unwrap_or_else(|e| panic!("{e}"));
        glue
    }

    fn tick_clock(&mut self) {
        let elapsed = self.real.elapsed().as_millis() as u64;
        self.real = Instant::now();
        self.now += elapsed;
    }

    fn open(&mut self, url: &str) {
        self.opens += 1;
        let mut request = url
            .into_client_request()
            .unwrap_or_else(|e| panic!("url {url}: {e}"));
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let opened = TcpStream::connect(&addr)
            .map_err(|e| e.to_string())
            .and_then(|s| tungstenite::client(request, s).map_err(|e| e.to_string()));
        match opened {
            Ok((ws, response)) => {
                let proto = response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                self.ws = Some(ws);
                self.quiet_since = Instant::now();
                self.sup.on_open(self.now, &proto);
            }
            Err(_) => self.sup.on_closed(self.now, 1006, ""),
        }
    }

    fn closed(&mut self, code: u16, reason: &str) {
        self.ws = None;
        self.sup.on_closed(self.now, code, reason);
    }

    /// Carries out actions and records the supervisor's status changes.
    fn settle(&mut self) {
        loop {
            let mut did = false;
            while let Some(action) = self.sup.poll_action() {
                did = true;
                match action {
                    Action::Open(url) => self.open(&url),
                    Action::Send(bytes) => {
                        if self.ws.is_some() {
                            for kind in packet_types(&bytes) {
                                match kind {
                                    1 => self.connects_sent += 1,
                                    12 => self.pings_sent += 1,
                                    _ => {}
                                }
                            }
                        }
                        let failed = match self.ws.as_mut() {
                            Some(ws) => ws.send(Message::Binary(bytes)).is_err(),
                            None => false,
                        };
                        if failed {
                            self.closed(1006, "");
                        }
                    }
                    Action::Close => {
                        if let Some(mut ws) = self.ws.take() {
                            let _ = ws.close(None);
                            let _ = ws.flush();
                        }
                    }
                }
            }
            while let Some(n) = self.sup.poll_notice() {
                did = true;
                if let Notice::Status(Status::Reconnecting { at_ms, reason, .. }) = n {
                    self.failures.push(Failure {
                        delay_ms: at_ms - self.now,
                        reason,
                    });
                }
            }
            if !did {
                return;
            }
        }
    }

    /// One round: read a frame (or time out), move time, fire timers.
    fn step(&mut self) {
        self.settle();
        let mut idle = true;
        if let Some(ws) = self.ws.as_mut() {
            let _ = ws
                .get_mut()
                .set_read_timeout(Some(Duration::from_millis(20)));
            let read = ws.read();
            self.tick_clock();
            match read {
                Ok(Message::Binary(bytes)) => {
                    idle = false;
                    self.quiet_since = Instant::now();
                    self.sup.on_data(self.now, &bytes);
                }
                Ok(Message::Text(_)) => {
                    idle = false;
                    self.sup.on_text(self.now);
                }
                Ok(Message::Close(frame)) => {
                    idle = false;
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    self.closed(code, &reason);
                }
                Ok(_) => idle = false,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => {
                    idle = false;
                    self.closed(1006, "");
                }
            }
        } else {
            self.tick_clock();
        }
        self.settle();
        // Jump to the next deadline when nothing can happen before it: the
        // socket is closed, or the server has logged everything sent to it
        // (it answers right after logging) and stayed quiet since.
        let server = self.server.snapshot();
        if let Some((read_at, _)) = server.last() {
            self.quiet_since = self.quiet_since.max(*read_at);
        }
        let logged = |needle: &str| server.iter().filter(|(_, l)| l.contains(needle)).count();
        let quiet = self.ws.is_none()
            || (logged(CONNECT_LOGGED) >= self.connects_sent
                && logged(PINGREQ_LOGGED) >= self.pings_sent
                && self.quiet_since.elapsed() >= QUIET);
        if idle && quiet {
            if let Some(d) = self.sup.next_deadline() {
                self.now = self.now.max(d);
                self.quiet_since = Instant::now();
            }
        }
        if self.sup.next_deadline().is_some_and(|d| d <= self.now) {
            self.sup.on_timer(self.now);
        }
    }
}

/// Runs the supervisor against `hostile` until `attempts` attempts failed.
fn attempts_against(hostile: &Hostile, options: Options, attempts: usize) -> Vec<Failure> {
    let mut glue = Glue::connect(&hostile.url, hostile.lines.clone(), options);
    let limit = Instant::now() + LIMIT;
    while glue.failures.len() < attempts {
        assert!(
            Instant::now() < limit,
            "only {} failures after {LIMIT:?}: {:?}; status {:?}",
            glue.failures.len(),
            glue.failures,
            glue.sup.status()
        );
        glue.step();
    }
    // Every failure was a real attempt that reached the server.
    assert!(glue.opens >= attempts, "{} opens", glue.opens);
    glue.failures
}

fn options() -> Options {
    Options {
        client_id: "hostile-test".into(),
        ..Options::default()
    }
}

/// Each failure has the reason; delays grow per backoff.
fn assert_explained_and_backing_off(failures: &[Failure], reason: impl Fn(&str) -> bool) {
    for f in failures {
        assert!(reason(&f.reason), "unexpected reason {:?}", f.reason);
    }
    let delays: Vec<u64> = failures.iter().map(|f| f.delay_ms).collect();
    assert!(delays[0] >= 500, "first delay {delays:?}");
    assert!(
        delays.windows(2).all(|w| w[1] > w[0]),
        "delays do not grow: {delays:?}"
    );
}

#[test]
fn garbage_from_the_broker_is_reported_as_a_protocol_error_and_retried_with_growing_delays() {
    let h = Hostile::start(&["--mode", "garbage"]);
    let failures = attempts_against(&h, options(), 5);
    assert_explained_and_backing_off(&failures, |r| {
        r == "the broker sent a packet of reserved type 15"
    });
    h.wait_for_connects(5);
}

#[test]
fn a_text_frame_is_reported_and_retried_with_growing_delays() {
    let h = Hostile::start(&["--mode", "text-frame"]);
    let failures = attempts_against(&h, options(), 5);
    assert_explained_and_backing_off(&failures, |r| r.contains("text frame"));
    h.wait_for_connects(5);
}

#[test]
fn a_broker_that_never_sends_connack_is_reported_and_retried_with_growing_delays() {
    let h = Hostile::start(&["--mode", "no-connack"]);
    let failures = attempts_against(&h, options(), 4);
    assert_explained_and_backing_off(&failures, |r| {
        r == "the broker did not answer the connection request within 10000 ms"
    });
    h.wait_for_connects(4);
}

#[test]
fn a_broker_that_never_answers_pingreq_is_reported_and_retried_with_growing_delays() {
    let h = Hostile::start(&["--mode", "no-pingresp"]);
    let failures = attempts_against(
        &h,
        Options {
            keep_alive_secs: 2,
            ..options()
        },
        4,
    );
    assert_explained_and_backing_off(&failures, |r| {
        r.starts_with("the broker did not answer a ping within ")
    });
}

#[test]
fn a_broker_that_closes_right_after_connack_is_explained_and_retried_with_growing_delays() {
    let h = Hostile::start(&["--mode", "close-after-connack"]);
    let failures = attempts_against(&h, options(), 5);
    assert_explained_and_backing_off(&failures, |r| {
        r.contains("right after accepting") && r.contains("close after CONNACK")
    });
}

#[test]
fn hostile_table_packets_served_over_websocket_are_reported_with_their_typed_error() {
    for name in [
        "topic-nul",
        "utf8-overlong-slash",
        "publish-qos3",
        "puback-unknown",
        "publish-2mib-header",
        "connack-reserved-bits",
    ] {
        let case = mqtt_session::hostile::case(name).unwrap_or_else(|| panic!("no case {name}"));
        let h = Hostile::start(&["--mode", "packet", "--case", name]);
        let failures = attempts_against(&h, mqtt_session::hostile::case_options(), 4);
        let expected = case.error.to_string();
        assert_explained_and_backing_off(&failures, |r| r == expected);
    }
}
