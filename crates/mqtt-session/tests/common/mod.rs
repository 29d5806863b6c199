//! Harness for the integration tests against real brokers: starts Debian's
//! mosquitto or the embedded devbroker on free loopback ports, and drives a
//! `Session` over a real WebSocket (tungstenite, subprotocol `mqtt`) with the
//! real clock, which only this harness reads.
//!
//! Waits are always for a condition with a deadline, never a bare sleep, and
//! never on what another thread or process has done "by now": a broker is
//! ready when it says so (mosquitto's "running" line, devbroker's ready
//! line), not when a port answers; a child's output is waited for line by
//! line ([`Lines`]). Deadlines ([`WAIT`]) are generous: they only run out
//! when the awaited thing never happens. Brokers are killed on drop. Nothing
//! here is compiled into the library.

#![allow(dead_code)]

pub mod scenarios;

use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use mqtt_session::{
    ConnectionState, Event, Message, Options, ProtocolVersion, PublishId, PublishProperties, QoS,
    Session, SessionError, SubscribeResult, Subscription,
};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocket;

/// How long any single wait in these tests may take before it fails.
/// Generous on purpose: a loaded machine is slow, not broken; only something
/// that never happens runs into it.
pub const WAIT: Duration = Duration::from_secs(60);

/// How many times a broker is started on fresh ports when the ones it was
/// given were taken by another process between choosing and binding them.
const PORT_RETRIES: u32 = 5;

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

    /// Every line read so far, with the instant each was read.
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

/// A broker the scenarios can talk to.
pub trait Broker {
    /// `ws://127.0.0.1:PORT/mqtt`.
    fn ws_url(&self) -> String;
    /// Short name for messages ("mosquitto", "devbroker").
    fn name(&self) -> &'static str;
    /// What the broker logged so far (for failure messages).
    fn log(&self) -> String;
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"))
        .port()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("mqdash-{tag}-{}-{n}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {dir:?}: {e}"));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn read_file(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn terminate(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Settings for a mosquitto instance.
#[derive(Clone, Default)]
pub struct MosquittoConfig {
    /// (user, password) pairs; with any, anonymous clients are refused.
    pub users: Vec<(String, String)>,
    /// Keep sessions and queued messages across restarts.
    pub persistence: bool,
    /// Lines of an ACL file (`user alice`, `topic read a/#`…); with any,
    /// mosquitto checks every publish and subscription against it.
    pub acl: Vec<String>,
    /// Further configuration lines, written after the WebSocket listener so
    /// listener options (`max_qos`, `max_topic_alias`…) apply to it.
    pub extra: Vec<String>,
}

/// The version of the installed mosquitto (`mosquitto -h` says "mosquitto
/// version 2.0.11"), as (major, minor, patch).
pub fn mosquitto_version() -> (u32, u32, u32) {
    let out = Command::new(MOSQUITTO)
        .arg("-h")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {MOSQUITTO} -h: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("mosquitto version "))
        .unwrap_or_else(|| panic!("no version in `mosquitto -h`:\n{text}"));
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// Debian's mosquitto on free loopback ports, killed on drop.
pub struct Mosquitto {
    pub tcp_port: u16,
    pub ws_port: u16,
    dir: TempDir,
    config: MosquittoConfig,
    child: Option<Child>,
    starts: u32,
}

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Two distinct ports that were free a moment ago.
fn two_free_ports() -> (u16, u16) {
    let tcp_port = free_port();
    let mut ws_port = free_port();
    while ws_port == tcp_port {
        ws_port = free_port();
    }
    (tcp_port, ws_port)
}

impl Mosquitto {
    pub fn start(config: MosquittoConfig) -> Mosquitto {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "{MOSQUITTO} is missing: install Debian's mosquitto (apt-get install mosquitto)"
        );
        let dir = TempDir::new("mosquitto");
        if !config.users.is_empty() {
            let file = dir.path().join("passwd");
            for (i, (user, pass)) in config.users.iter().enumerate() {
                let mut cmd = Command::new("mosquitto_passwd");
                cmd.arg("-b");
                if i == 0 {
                    cmd.arg("-c");
                }
                let status = cmd
                    .arg(&file)
                    .arg(user)
                    .arg(pass)
                    .status()
                    .unwrap_or_else(|e| panic!("mosquitto_passwd: {e}"));
                assert!(status.success(), "mosquitto_passwd failed: {status}");
            }
        }
        let (tcp_port, ws_port) = two_free_ports();
        let mut m = Mosquitto {
            tcp_port,
            ws_port,
            dir,
            config,
            child: None,
            starts: 0,
        };
        // The ports were free when chosen; if another process bound one
        // before mosquitto did, start again on fresh ones.
        for attempt in 1..=PORT_RETRIES {
            m.write_config();
            match m.spawn() {
                Ok(()) => return m,
                Err(log) if attempt < PORT_RETRIES && log.contains("Address already in use") => {
                    (m.tcp_port, m.ws_port) = two_free_ports();
                }
                Err(log) => panic!("mosquitto did not start; its stderr:\n{log}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn write_config(&self) {
        let (tcp_port, ws_port) = (self.tcp_port, self.ws_port);
        let mut conf = format!(
            "per_listener_settings false\n\
             listener {tcp_port} 127.0.0.1\n\
             listener {ws_port} 127.0.0.1\n\
             protocol websockets\n\
             socket_domain ipv4\n\
             log_dest stderr\n\
             log_type all\n\
             max_queued_messages 10000\n"
        );
        // Running as root, mosquitto would switch to the `mosquitto` user,
        // which cannot write our temp dir.
        conf.push_str("user root\n");
        if self.config.users.is_empty() {
            conf.push_str("allow_anonymous true\n");
        } else {
            conf.push_str(&format!(
                "allow_anonymous false\npassword_file {}\n",
                self.dir.path().join("passwd").display()
            ));
        }
        if self.config.persistence {
            conf.push_str(&format!(
                "persistence true\npersistence_location {}/\n",
                self.dir.path().display()
            ));
        }
        if !self.config.acl.is_empty() {
            let file = self.dir.path().join("acl");
            fs::write(&file, self.config.acl.join("\n") + "\n")
                .unwrap_or_else(|e| panic!("write acl: {e}"));
            conf.push_str(&format!("acl_file {}\n", file.display()));
        }
        for line in &self.config.extra {
            conf.push_str(line);
            conf.push('\n');
        }
        fs::write(self.dir.path().join("mosquitto.conf"), conf)
            .unwrap_or_else(|e| panic!("write config: {e}"));
    }

    /// Starts mosquitto and waits until it logs that it is running, which
    /// it does once both listeners are open. On an early exit, returns its
    /// log as the error.
    fn spawn(&mut self) -> Result<(), String> {
        self.starts += 1;
        let log = self.dir.path().join(format!("stderr-{}.log", self.starts));
        let stderr = fs::File::create(&log).unwrap_or_else(|e| panic!("log file: {e}"));
        let mut child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {MOSQUITTO}: {e}"));
        let deadline = Instant::now() + WAIT;
        loop {
            // "mosquitto version 2.0.11 running", after "Opening … listen
            // socket on port …" for each listener.
            if read_file(&log)
                .lines()
                .any(|l| l.contains("mosquitto version") && l.ends_with(" running"))
            {
                self.child = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "exited ({status}) while starting:\n{}",
                    read_file(&log)
                ));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "mosquitto did not say it was running within {WAIT:?} (ports {} and {}); its stderr:\n{}",
                    self.tcp_port,
                    self.ws_port,
                    read_file(&log)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops mosquitto with SIGTERM (so it writes its persistence file) and
    /// starts it again on the same ports with the same configuration.
    pub fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, WAIT);
        }
        // Same ports: clients reconnect to them. mosquitto sets SO_REUSEADDR,
        // so connections of the old process in TIME_WAIT do not block them.
        if let Err(log) = self.spawn() {
            panic!("mosquitto did not start again; its stderr:\n{log}");
        }
    }

    /// Everything mosquitto wrote to stderr so far.
    pub fn log(&self) -> String {
        (1..=self.starts)
            .map(|i| read_file(&self.dir.path().join(format!("stderr-{i}.log"))))
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }
}

impl Broker for Mosquitto {
    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/mqtt", self.ws_port)
    }
    fn name(&self) -> &'static str {
        "mosquitto"
    }
    fn log(&self) -> String {
        Mosquitto::log(self)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The embedded broker (`tools/devbroker`), killed on drop.
pub struct DevBroker {
    pub tcp_port: u16,
    pub ws_port: u16,
    child: Child,
    stderr: PathBuf,
    _dir: TempDir,
}

/// Where the devbroker binary is: `MQDASH_DEVBROKER`, else
/// `$CARGO_TARGET_DIR/debug/devbroker`, else `<workspace>/target/debug/devbroker`.
pub fn devbroker_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MQDASH_DEVBROKER") {
        return PathBuf::from(p);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => {
            let t = PathBuf::from(t);
            if t.is_absolute() {
                t
            } else {
                workspace.join(t)
            }
        }
        None => workspace.join("target"),
    };
    target.join("debug").join("devbroker")
}

/// `devbroker: listening mqtt://127.0.0.1:<tcp> ws://127.0.0.1:<ws>/mqtt` → ports.
fn parse_ready_line(line: &str) -> Option<(u16, u16)> {
    let rest = line.strip_prefix("devbroker: listening mqtt://127.0.0.1:")?;
    let (tcp, rest) = rest.split_once(" ws://127.0.0.1:")?;
    let (ws, path) = rest.split_once('/')?;
    if path != "mqtt" {
        return None;
    }
    Some((tcp.parse().ok()?, ws.parse().ok()?))
}

impl DevBroker {
    pub fn start() -> DevBroker {
        let bin = devbroker_path();
        assert!(
            bin.exists(),
            "the devbroker binary is missing at {}: build it with `cargo build -p devbroker` \
             (same CARGO_TARGET_DIR) or point MQDASH_DEVBROKER at it",
            bin.display()
        );
        let dir = TempDir::new("devbroker");
        // Port 0: the broker binds free ports itself and names them in its
        // ready line, which it prints once both listeners answer MQTT.
        // rumqttd binds its TCP port a moment after the broker chose it; if
        // another process took it in between, the broker exits and is
        // started again.
        for attempt in 1..=PORT_RETRIES {
            let stderr = dir.path().join(format!("stderr-{attempt}.log"));
            let err_file = fs::File::create(&stderr).unwrap_or_else(|e| panic!("log file: {e}"));
            let mut child = Command::new(&bin)
                // Verbose, so that a failing test can show why the broker dropped
                // a client.
                .args(["--verbose", "broker", "--tcp-port", "0", "--ws-port", "0"])
                .stdout(Stdio::piped())
                .stderr(err_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let out = Lines::collect(child.stdout.take().expect("stdout"));
            let ready = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                out.wait_for("devbroker's ready line", WAIT, |lines| {
                    lines.iter().find_map(|(_, l)| parse_ready_line(l))
                })
            }));
            match ready {
                Ok((tcp_port, ws_port)) => {
                    return DevBroker {
                        tcp_port,
                        ws_port,
                        child,
                        stderr,
                        _dir: dir,
                    };
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = read_file(&stderr);
                    if attempt < PORT_RETRIES && log.contains("in use") {
                        continue;
                    }
                    panic!(
                        "devbroker did not start; stdout:\n{}\nstderr:\n{log}",
                        out.text()
                    );
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    pub fn log(&self) -> String {
        read_file(&self.stderr)
    }
}

impl Broker for DevBroker {
    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/mqtt", self.ws_port)
    }
    fn name(&self) -> &'static str {
        "devbroker"
    }
    fn log(&self) -> String {
        DevBroker::log(self)
    }
}

impl Drop for DevBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `Session` driven over a real WebSocket with the real clock.
pub struct Client {
    pub name: String,
    pub session: Session,
    ws: Option<WebSocket<TcpStream>>,
    /// Every event seen, in order.
    pub events: Vec<Event>,
    /// When the last binary frame arrived (for dead-link timing).
    pub last_rx: Option<Instant>,
    /// With [`Client::record_wire`]: every byte read from the broker, in
    /// order (WebSocket framing removed), to see what it put on the wire.
    pub wire_in: Option<Vec<u8>>,
    /// With [`Client::record_wire`]: every byte written to the broker.
    pub wire_out: Option<Vec<u8>>,
    epoch: Instant,
}

fn options(client_id: &str) -> Options {
    Options {
        client_id: client_id.into(),
        keep_alive_secs: 30,
        response_timeout_ms: 5_000,
        ..Options::default()
    }
}

/// Options with this client id and test-friendly timeouts.
pub fn opts(client_id: &str) -> Options {
    options(client_id)
}

/// [`opts`] with MQTT 5.
pub fn opts_v5(client_id: &str) -> Options {
    Options {
        protocol: ProtocolVersion::V5,
        ..options(client_id)
    }
}

impl Client {
    pub fn new(name: &str, options: Options) -> Client {
        let session = Session::new(options).unwrap_or_else(|e| panic!("{name}: options: {e}"));
        Client {
            name: name.into(),
            session,
            ws: None,
            events: Vec::new(),
            last_rx: None,
            wire_in: None,
            wire_out: None,
            epoch: Instant::now(),
        }
    }

    /// Makes a client and connects it; panics unless CONNACK accepts.
    pub fn connected(broker: &dyn Broker, name: &str, options: Options) -> Client {
        let mut c = Client::new(name, options);
        c.connect(broker);
        c
    }

    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Opens the WebSocket (subprotocol `mqtt`) and queues CONNECT.
    pub fn open(&mut self, broker: &dyn Broker) {
        let url = broker.ws_url();
        let mut request = url
            .as_str()
            .into_client_request()
            .unwrap_or_else(|e| panic!("{}: bad url {url}: {e}", self.name));
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let stream = TcpStream::connect(&addr)
            .unwrap_or_else(|e| panic!("{}: connect {addr}: {e}", self.name));
        let _ = stream.set_nodelay(true);
        let (ws, response) = tungstenite::client(request, stream)
            .unwrap_or_else(|e| panic!("{}: WebSocket handshake with {url}: {e}", self.name));
        let proto = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            proto, "mqtt",
            "{}: broker did not accept subprotocol mqtt",
            self.name
        );
        self.ws = Some(ws);
        let now = self.now();
        self.session.connect(now);
        self.flush();
    }

    /// Opens and waits for CONNACK; returns `Connected` or `ConnectionRefused`.
    pub fn try_connect(&mut self, broker: &dyn Broker) -> Event {
        self.open(broker);
        self.wait_for("CONNACK", |e| {
            matches!(e, Event::Connected { .. } | Event::ConnectionRefused { .. })
        })
    }

    /// Opens and waits for an accepted CONNACK; returns session_present.
    pub fn connect(&mut self, broker: &dyn Broker) -> bool {
        match self.try_connect(broker) {
            Event::Connected { session_present } => session_present,
            other => panic!(
                "{}: connection to {} refused: {other:?}",
                self.name,
                broker.name()
            ),
        }
    }

    pub fn is_open(&self) -> bool {
        self.ws.is_some()
    }

    fn flush(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            let Some(ws) = self.ws.as_mut() else {
                continue;
            };
            if let Some(w) = self.wire_out.as_mut() {
                w.extend_from_slice(&bytes);
            }
            if let Err(e) = ws.send(tungstenite::Message::Binary(bytes)) {
                self.lost(format!("write failed: {e}"));
            }
        }
    }

    fn lost(&mut self, reason: String) {
        self.ws = None;
        self.session.connection_lost(reason);
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.session.poll_event() {
            self.events.push(e);
        }
    }

    /// One round of IO: write what is queued, read for up to `max_wait`,
    /// handle timeouts, collect events.
    pub fn pump(&mut self, max_wait: Duration) {
        self.flush();
        if let Some(ws) = self.ws.as_mut() {
            let now = self.epoch.elapsed().as_millis() as u64;
            let mut wait = max_wait;
            if let Some(deadline) = self.session.poll_timeout() {
                wait = wait.min(Duration::from_millis(deadline.saturating_sub(now)));
            }
            let wait = wait.max(Duration::from_millis(1));
            let _ = ws.get_mut().set_read_timeout(Some(wait));
            match ws.read() {
                Ok(tungstenite::Message::Binary(bytes)) => {
                    self.last_rx = Some(Instant::now());
                    if let Some(w) = self.wire_in.as_mut() {
                        w.extend_from_slice(&bytes);
                    }
                    let now = self.now();
                    self.session.handle_bytes(now, &bytes);
                }
                Ok(tungstenite::Message::Close(frame)) => {
                    self.lost(format!("closed by the broker: {frame:?}"));
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => self.lost(format!("read failed: {e}")),
            }
        }
        let now = self.now();
        self.session.handle_timeout(now);
        self.drain_events();
        if self.session.wants_close() {
            self.flush();
            if let Some(mut ws) = self.ws.take() {
                let _ = ws.close(None);
                let _ = ws.flush();
            }
            if self.session.state() == ConnectionState::Closed {
                self.session.connection_lost("closed after an error".into());
            }
            self.drain_events();
        }
        self.flush();
    }

    /// Pumps until `pred` holds for the client, or panics after `WAIT`.
    pub fn wait_until(&mut self, what: &str, pred: impl Fn(&Client) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !pred(self) {
            if Instant::now() >= deadline {
                panic!(
                    "{}: timed out waiting for {what}; state {:?}; last events: {:?}",
                    self.name,
                    self.session.state(),
                    self.events.iter().rev().take(8).collect::<Vec<_>>()
                );
            }
            self.pump(Duration::from_millis(50));
        }
    }

    /// Pumps until an event after the ones already seen matches; returns it.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let start = self.events.len();
        self.wait_until(what, |c| c.events.iter().skip(start).any(&pred));
        self.events
            .iter()
            .skip(start)
            .find(|e| pred(e))
            .cloned()
            .unwrap_or_else(|| panic!("event vanished"))
    }

    /// Subscribes and waits for SUBACK.
    pub fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Vec<(String, SubscribeResult)> {
        let now = self.now();
        let list = filters.iter().map(|(f, q)| (f.to_string(), *q)).collect();
        let pkid = self
            .session
            .subscribe(now, list)
            .unwrap_or_else(|e| panic!("{}: subscribe: {e}", self.name));
        match self.wait_for(
            "SUBACK",
            |e| matches!(e, Event::Subscribed { pkid: p, .. } if *p == pkid),
        ) {
            Event::Subscribed { results, .. } => results,
            _ => unreachable!(),
        }
    }

    /// Subscribes with subscription options and an optional subscription
    /// identifier (MQTT 5) and waits for SUBACK.
    pub fn subscribe_with(
        &mut self,
        filters: Vec<Subscription>,
        identifier: Option<u32>,
    ) -> Vec<(String, SubscribeResult)> {
        let now = self.now();
        let pkid = self
            .session
            .subscribe_with(now, filters, identifier)
            .unwrap_or_else(|e| panic!("{}: subscribe_with: {e}", self.name));
        match self.wait_for(
            "SUBACK",
            |e| matches!(e, Event::Subscribed { pkid: p, .. } if *p == pkid),
        ) {
            Event::Subscribed { results, .. } => results,
            _ => unreachable!(),
        }
    }

    /// Queues a publish with MQTT 5 properties; returns its id.
    pub fn publish_with(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) -> PublishId {
        let now = self.now();
        let id = self
            .session
            .publish_with(now, topic, payload.to_vec(), qos, retain, properties)
            .unwrap_or_else(|e| panic!("{}: publish_with: {e}", self.name));
        self.flush();
        id
    }

    /// Publishes with properties and waits until it is complete.
    pub fn publish_with_complete(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) {
        let id = self.publish_with(topic, payload, qos, retain, properties);
        self.wait_completed(id, qos);
    }

    /// Waits until a QoS 1 or 2 publish ends: returns `PublishComplete` or
    /// `PublishFailed`, whichever comes.
    pub fn wait_outcome(&mut self, id: PublishId) -> Event {
        let ends = |e: &Event| matches!(e, Event::PublishComplete { id: i, .. } | Event::PublishFailed { id: i, .. } if *i == id);
        self.wait_until("the publish to complete or fail", |c| {
            c.events.iter().any(ends)
        });
        self.events
            .iter()
            .find(|e| ends(e))
            .cloned()
            .unwrap_or_else(|| panic!("event vanished"))
    }

    /// Waits until the connection is over; returns why (the `Closed` event's
    /// error).
    pub fn wait_closed(&mut self) -> SessionError {
        self.wait_until("the connection to close", |c| {
            c.events.iter().any(|e| matches!(e, Event::Closed { .. }))
        });
        self.events
            .iter()
            .find_map(|e| match e {
                Event::Closed { error } => Some(error.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("event vanished"))
    }

    /// From now on, keeps every byte read and written ([`Client::wire_in`],
    /// [`Client::wire_out`]).
    pub fn record_wire(&mut self) {
        self.wire_in = Some(Vec::new());
        self.wire_out = Some(Vec::new());
    }

    /// Queues a publish; returns its id.
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> PublishId {
        let now = self.now();
        let id = self
            .session
            .publish(now, topic, payload.to_vec(), qos, retain)
            .unwrap_or_else(|e| panic!("{}: publish: {e}", self.name));
        self.flush();
        id
    }

    /// Publishes and waits until it is complete (PUBACK/PUBCOMP, or queued
    /// for QoS 0).
    pub fn publish_complete(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) {
        let id = self.publish(topic, payload, qos, retain);
        self.wait_completed(id, qos);
    }

    pub fn wait_completed(&mut self, id: PublishId, qos: QoS) {
        if qos == QoS::AtMostOnce {
            self.wait_until("Published", |c| {
                c.events
                    .iter()
                    .any(|e| matches!(e, Event::Published { id: i, .. } if *i == id))
            });
        } else {
            self.wait_until("PublishComplete", |c| {
                c.events
                    .iter()
                    .any(|e| matches!(e, Event::PublishComplete { id: i, .. } if *i == id))
            });
        }
    }

    /// Messages received so far.
    pub fn messages(&self) -> Vec<&Message> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    pub fn messages_on(&self, topic: &str) -> Vec<&Message> {
        self.messages()
            .into_iter()
            .filter(|m| m.topic == topic)
            .collect()
    }

    /// Waits for at least one message on `topic`; returns the first.
    pub fn wait_message(&mut self, topic: &str) -> Message {
        self.wait_until(&format!("a message on {topic}"), |c| {
            !c.messages_on(topic).is_empty()
        });
        self.messages_on(topic)
            .first()
            .map(|m| (*m).clone())
            .unwrap_or_else(|| panic!("message vanished"))
    }

    /// Cuts the connection without DISCONNECT (as a network failure would).
    pub fn cut(&mut self) {
        if let Some(ws) = self.ws.take() {
            let _ = ws.get_ref().shutdown(Shutdown::Both);
        }
        self.session.connection_lost("cut by the test".into());
        self.drain_events();
    }

    /// Sends DISCONNECT and closes the WebSocket.
    pub fn disconnect(&mut self) {
        let now = self.now();
        self.session.disconnect(now);
        self.flush();
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None);
            // Wait for the broker's close (or EOF) so DISCONNECT was read.
            let deadline = Instant::now() + WAIT;
            let _ = ws
                .get_mut()
                .set_read_timeout(Some(Duration::from_millis(50)));
            while Instant::now() < deadline {
                match ws.read() {
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e))
                        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => break,
                }
            }
        }
        self.session
            .connection_lost("closed after DISCONNECT".into());
        self.drain_events();
    }
}

/// Drains a raw TCP stream until EOF or the deadline (unused bytes ignored).
pub fn drain_until_eof(mut s: TcpStream, deadline: Instant) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}
