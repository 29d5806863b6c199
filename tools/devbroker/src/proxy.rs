//! `devbroker proxy`: a fault-injecting MQTT-over-WebSocket proxy for
//! reliability tests, loopback only.
//!
//! Each client WebSocket (subprotocol `mqtt` echoed when offered) gets its
//! own WebSocket to the upstream broker. Between them the proxy reassembles
//! the MQTT byte stream of each direction into packets and
//! - re-chunks it into binary frames of random sizes (from 1 byte up to
//!   several packets per frame), with a random delay between frames;
//! - applies the connection's rule from the plan: when the N-th matching
//!   packet passes in the given direction, cut both connections (without a
//!   WebSocket close: as a network failure would) before or after forwarding
//!   it, or start a blackhole (forward nothing more either way, keep both
//!   sockets open: a dead link).
//!
//! Rules are `DIR:PACKET[:ACTION][@N]`: `DIR` is `up` (client to broker) or
//! `down`; `PACKET` a packet type name (`PUBLISH1` / `PUBLISH2` for one QoS);
//! `ACTION` one of `cut-before` (default), `cut-after`, `blackhole-before`,
//! `blackhole-after`; `N` counts matching packets on that connection (default
//! 1). `pass` is a connection without a rule. Connection *i* (from 0) gets
//! plan item *i*; connections after the plan pass.
//!
//! It prints one line per event to stdout (`proxy: conn 3: cut-after at up
//! PUBLISH qos 2 pkid 5 dup 0`) and, per connection, the packets seen each
//! way and how many PUBLISH carried DUP: the tests read these lines. It does
//! not check MQTT beyond the fixed header and the packet id.

use std::fmt;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Arguments of `devbroker proxy`.
#[derive(clap::Args, Debug, Clone)]
pub struct ProxyArgs {
    /// Address to listen on (port 0 picks a free one; the ready line shows it).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The broker's WebSocket URL.
    #[arg(long)]
    pub upstream: String,
    /// Rules, one per connection in order, comma-separated
    /// (`up:PUBLISH2:cut-after@2,down:PUBREL,pass`).
    #[arg(long, default_value = "")]
    pub plan: String,
    /// Instead of --plan: N connections cut at the stages of the QoS 1 and
    /// QoS 2 flows in both directions, in turn (24 stages), at a random
    /// occurrence from 1 to 3.
    #[arg(long)]
    pub qos_stages: Option<usize>,
    /// Re-chunk frames at random (`random`) or forward each packet as it is
    /// reassembled (`packets`).
    #[arg(long, default_value = "random")]
    pub chunking: String,
    /// Largest random delay between forwarded frames, in ms.
    #[arg(long, default_value_t = 2)]
    pub max_delay_ms: u64,
    /// Seed for chunk sizes, delays and occurrences.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Which way a packet travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to broker.
    Up,
    /// Broker to client.
    Down,
}

impl fmt::Display for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dir::Up => "up",
            Dir::Down => "down",
        })
    }
}

/// What to do when a rule's packet passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Cut both connections; the packet is not forwarded.
    CutBefore,
    /// Forward the packet, then cut both connections.
    CutAfter,
    /// Forward nothing from this packet on; keep the sockets open.
    BlackholeBefore,
    /// Forward the packet, then nothing more.
    BlackholeAfter,
}

impl Act {
    fn name(self) -> &'static str {
        match self {
            Act::CutBefore => "cut-before",
            Act::CutAfter => "cut-after",
            Act::BlackholeBefore => "blackhole-before",
            Act::BlackholeAfter => "blackhole-after",
        }
    }
}

/// One connection's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Direction of the packet to wait for.
    pub dir: Dir,
    /// MQTT packet type (1 to 14).
    pub kind: u8,
    /// For PUBLISH: only this QoS.
    pub qos: Option<u8>,
    /// What to do.
    pub act: Act,
    /// Which matching packet (from 1).
    pub nth: u32,
}

const NAMES: [&str; 15] = [
    "RESERVED",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
];

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = NAMES.get(usize::from(self.kind)).copied().unwrap_or("?");
        let qos = self.qos.map(|q| q.to_string()).unwrap_or_default();
        write!(
            f,
            "{}:{name}{qos}:{}@{}",
            self.dir,
            self.act.name(),
            self.nth
        )
    }
}

impl std::str::FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Rule, String> {
        let (body, nth) = match s.split_once('@') {
            Some((b, n)) => (
                b,
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(format!("bad occurrence in {s:?}"))?,
            ),
            None => (s, 1),
        };
        let mut parts = body.split(':');
        let dir = match parts.next() {
            Some("up") => Dir::Up,
            Some("down") => Dir::Down,
            _ => return Err(format!("{s:?}: the direction must be up or down")),
        };
        let packet = parts
            .next()
            .ok_or(format!("{s:?}: no packet type"))?
            .to_ascii_uppercase();
        let (name, qos) = match packet.strip_prefix("PUBLISH") {
            Some("") => ("PUBLISH", None),
            Some(q @ ("0" | "1" | "2")) => ("PUBLISH", q.parse().ok()),
            _ => (packet.as_str(), None),
        };
        let kind = NAMES
            .iter()
            .position(|n| *n == name)
            .filter(|k| *k >= 1)
            .ok_or(format!("{s:?}: unknown packet type {packet}"))? as u8;
        let act = match parts.next() {
            None | Some("cut-before") => Act::CutBefore,
            Some("cut-after") => Act::CutAfter,
            Some("blackhole-before") => Act::BlackholeBefore,
            Some("blackhole-after") => Act::BlackholeAfter,
            Some(other) => return Err(format!("{s:?}: unknown action {other}")),
        };
        if parts.next().is_some() {
            return Err(format!("{s:?}: too many parts"));
        }
        Ok(Rule {
            dir,
            kind,
            qos,
            act,
            nth,
        })
    }
}

/// Every stage of the QoS 1 and QoS 2 flows in both directions, cut before
/// and after: 24 rules (occurrence 1).
pub fn qos_stages() -> Vec<Rule> {
    let flows: [(Dir, &str); 12] = [
        // Client publishes.
        (Dir::Up, "PUBLISH1"),
        (Dir::Down, "PUBACK"),
        (Dir::Up, "PUBLISH2"),
        (Dir::Down, "PUBREC"),
        (Dir::Up, "PUBREL"),
        (Dir::Down, "PUBCOMP"),
        // Broker delivers.
        (Dir::Down, "PUBLISH1"),
        (Dir::Up, "PUBACK"),
        (Dir::Down, "PUBLISH2"),
        (Dir::Up, "PUBREC"),
        (Dir::Down, "PUBREL"),
        (Dir::Up, "PUBCOMP"),
    ];
    let mut out = Vec::new();
    for (dir, packet) in flows {
        for act in ["cut-before", "cut-after"] {
            if let Ok(rule) = format!("{dir}:{packet}:{act}").parse() {
                out.push(rule);
            }
        }
    }
    out
}

/// Parses a plan: rules and `pass`, comma-separated (empty: no rules).
pub fn parse_plan(plan: &str) -> Result<Vec<Option<Rule>>, String> {
    plan.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "pass" {
                Ok(None)
            } else {
                s.parse().map(Some)
            }
        })
        .collect()
}

/// Splits a byte stream into MQTT packets by their fixed header.
#[derive(Default)]
pub struct Splitter {
    buf: Vec<u8>,
}

/// A packet's fixed header and id, for matching and reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Packet type.
    pub kind: u8,
    /// PUBLISH QoS (0 for other packets).
    pub qos: u8,
    /// PUBLISH DUP flag.
    pub dup: bool,
    /// Packet id, where the packet has one.
    pub pkid: Option<u16>,
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = NAMES.get(usize::from(self.kind)).copied().unwrap_or("?");
        write!(f, "{name}")?;
        if self.kind == 3 {
            write!(f, " qos {}", self.qos)?;
        }
        if let Some(id) = self.pkid {
            write!(f, " pkid {id}")?;
        }
        if self.kind == 3 {
            write!(f, " dup {}", u8::from(self.dup))?;
        }
        Ok(())
    }
}

impl Splitter {
    /// Appends bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole packet. A malformed length field passes everything
    /// buffered as one "packet" (the proxy does not judge).
    pub fn next_packet(&mut self) -> Option<(Header, Vec<u8>)> {
        let byte1 = *self.buf.first()?;
        let mut len = 0usize;
        let mut header_len = 1usize;
        let mut complete = false;
        for (i, &b) in self.buf.iter().skip(1).take(4).enumerate() {
            len |= usize::from(b & 0x7F) << (7 * i);
            header_len += 1;
            if b & 0x80 == 0 {
                complete = true;
                break;
            }
        }
        if !complete {
            if self.buf.len() >= 5 {
                let all = std::mem::take(&mut self.buf);
                return Some((describe(byte1, &[]), all));
            }
            return None;
        }
        if self.buf.len() < header_len + len {
            return None;
        }
        let packet: Vec<u8> = self.buf.drain(..header_len + len).collect();
        let body = packet.get(header_len..).unwrap_or_default();
        Some((describe(byte1, body), packet))
    }
}

fn describe(byte1: u8, body: &[u8]) -> Header {
    let kind = byte1 >> 4;
    let qos = if kind == 3 { (byte1 >> 1) & 3 } else { 0 };
    let id_at = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]))
    };
    let pkid = match kind {
        3 if qos > 0 => {
            let topic_len = usize::from(id_at(0).unwrap_or(0));
            id_at(2 + topic_len)
        }
        4..=11 => id_at(0),
        _ => None,
    };
    Header {
        kind,
        qos,
        dup: kind == 3 && byte1 & 0x08 != 0,
        pkid,
    }
}

/// Starts listening; prints the ready line; serves forever.
pub async fn run(args: ProxyArgs) -> Result<(), String> {
    let mut plan = parse_plan(&args.plan)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    if let Some(n) = args.qos_stages {
        let stages = qos_stages();
        plan = (0..n)
            .map(|i| {
                let mut rule = stages[i % stages.len()].clone();
                rule.nth = rng.gen_range(1..=3);
                Some(rule)
            })
            .collect();
    }
    let random_chunks = match args.chunking.as_str() {
        "random" => true,
        "packets" => false,
        other => {
            return Err(format!(
                "--chunking must be random or packets, not {other:?}"
            ))
        }
    };
    let upstream = args.upstream.clone();
    upstream
        .as_str()
        .into_client_request()
        .map_err(|e| format!("bad --upstream {upstream:?}: {e}"))?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?;
    say!(
        "devbroker: proxy listening ws://{local}/mqtt -> {upstream} ({} planned faults)",
        plan.iter().filter(|r| r.is_some()).count()
    );
    crate::ws_front::accept_until_signal(listener, "proxy", |stream, index| {
        let conn = Conn {
            index,
            rule: plan.get(index).cloned().flatten(),
            rng: StdRng::seed_from_u64(args.seed ^ (index as u64).wrapping_mul(0x9E37_79B9)),
            random_chunks,
            max_delay_ms: args.max_delay_ms,
        };
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.serve(stream, &upstream).await {
                say!("proxy: conn {index}: ended: {e}");
            }
        });
    })
    .await;
    Ok(())
}

struct Conn {
    index: usize,
    rule: Option<Rule>,
    rng: StdRng,
    random_chunks: bool,
    max_delay_ms: u64,
}

/// What one direction saw.
#[derive(Default)]
struct Tally {
    packets: u64,
    dup_publishes: u64,
}

enum Verdict {
    Forward,
    Cut,
    Blackhole,
}

impl Conn {
    async fn serve(mut self, stream: TcpStream, upstream: &str) -> Result<(), String> {
        let _ = stream.set_nodelay(true);
        let client = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::accept_hdr_async(stream, crate::ws_front::echo_mqtt),
        )
        .await
        .map_err(|_| "no WebSocket handshake within 10 s".to_string())?
        .map_err(|e| format!("client handshake: {e}"))?;
        let mut request = upstream
            .into_client_request()
            .map_err(|e| format!("upstream url: {e}"))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        let (broker, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| format!("upstream {upstream}: {e}"))?;
        let rule_text = self
            .rule
            .as_ref()
            .map_or("pass".to_string(), |r| r.to_string());
        say!("proxy: conn {}: open, rule {rule_text}", self.index);

        let (mut client_tx, mut client_rx) = client.split();
        let (mut broker_tx, mut broker_rx) = broker.split();
        let mut split = [Splitter::default(), Splitter::default()];
        let mut tally = [Tally::default(), Tally::default()];
        let mut seen = 0u32;
        let mut blackhole = false;
        let end = loop {
            // One frame from either side, plus whatever else is ready on
            // that side, so that several packets can share a frame.
            let (dir, first) = tokio::select! {
                m = client_rx.next() => (Dir::Up, m),
                m = broker_rx.next() => (Dir::Down, m),
            };
            let mut frames = vec![first];
            for _ in 0..16 {
                let more = match dir {
                    Dir::Up => client_rx.next().now_or_never(),
                    Dir::Down => broker_rx.next().now_or_never(),
                };
                match more {
                    Some(m) => frames.push(m),
                    None => break,
                }
            }
            let side = match dir {
                Dir::Up => 0,
                Dir::Down => 1,
            };
            let mut closed = None;
            for frame in frames {
                match frame {
                    Some(Ok(Message::Binary(data))) => split[side].push(&data),
                    Some(Ok(Message::Text(t))) => {
                        // Passed on as it came (MQTT never uses text frames).
                        if !blackhole {
                            let sent = match dir {
                                Dir::Up => broker_tx.send(Message::Text(t)).await,
                                Dir::Down => client_tx.send(Message::Text(t)).await,
                            };
                            sent.map_err(|e| format!("forward text: {e}"))?;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        closed = Some(format!("{dir} side closed"));
                    }
                    Some(Err(e)) => closed = Some(format!("{dir} side failed: {e}")),
                    Some(Ok(_)) => {}
                }
            }
            let mut out = Vec::new();
            let mut verdict = Verdict::Forward;
            while let Some((header, bytes)) = split[side].next_packet() {
                tally[side].packets += 1;
                if header.kind == 3 && header.dup {
                    tally[side].dup_publishes += 1;
                }
                if blackhole {
                    continue;
                }
                let hit = self.rule.as_ref().is_some_and(|r| {
                    r.dir == dir && r.kind == header.kind && r.qos.is_none_or(|q| q == header.qos)
                });
                if hit {
                    seen += 1;
                }
                let fire = hit && self.rule.as_ref().is_some_and(|r| r.nth == seen);
                if !fire {
                    out.extend_from_slice(&bytes);
                    continue;
                }
                let Some(rule) = self.rule.take() else {
                    continue;
                };
                say!(
                    "proxy: conn {}: {} at {dir} {header}",
                    self.index,
                    rule.act.name()
                );
                if matches!(rule.act, Act::CutAfter | Act::BlackholeAfter) {
                    out.extend_from_slice(&bytes);
                }
                verdict = match rule.act {
                    Act::CutBefore | Act::CutAfter => Verdict::Cut,
                    Act::BlackholeBefore | Act::BlackholeAfter => Verdict::Blackhole,
                };
                break;
            }
            if !out.is_empty() {
                let sent = match dir {
                    Dir::Up => self.forward(&mut broker_tx, out).await,
                    Dir::Down => self.forward(&mut client_tx, out).await,
                };
                if let Err(e) = sent {
                    break format!("forward {dir}: {e}");
                }
            }
            match verdict {
                Verdict::Forward => {}
                Verdict::Cut => break "cut".to_string(),
                Verdict::Blackhole => {
                    blackhole = true;
                    // Whatever else is buffered that way is swallowed too.
                    split[side] = Splitter::default();
                }
            }
            if let Some(why) = closed {
                break why;
            }
        };
        say!(
            "proxy: conn {}: closed ({end}): up {} packets, {} PUBLISH with DUP; \
             down {} packets, {} PUBLISH with DUP",
            self.index,
            tally[0].packets,
            tally[0].dup_publishes,
            tally[1].packets,
            tally[1].dup_publishes
        );
        // Dropping both halves closes the sockets without a close frame.
        Ok(())
    }

    /// Sends `bytes` as binary frames of random sizes with random delays.
    async fn forward<S>(&mut self, sink: &mut S, bytes: Vec<u8>) -> Result<(), String>
    where
        S: futures_util::Sink<Message> + Unpin,
        S::Error: fmt::Display,
    {
        if !self.random_chunks {
            return sink
                .send(Message::Binary(bytes))
                .await
                .map_err(|e| e.to_string());
        }
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = match self.rng.gen_range(0..10) {
                0..=3 => self.rng.gen_range(1..=4),
                4..=6 => self.rng.gen_range(5..=64),
                _ => rest.len(),
            }
            .min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            sink.send(Message::Binary(chunk.to_vec()))
                .await
                .map_err(|e| e.to_string())?;
            rest = tail;
            if self.max_delay_ms > 0 && self.rng.gen_bool(0.3) {
                let ms = self.rng.gen_range(0..=self.max_delay_ms);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_with_direction_packet_qos_action_and_occurrence() {
        let r: Rule = "up:PUBLISH2:cut-after@3".parse().expect("valid");
        assert_eq!(
            r,
            Rule {
                dir: Dir::Up,
                kind: 3,
                qos: Some(2),
                act: Act::CutAfter,
                nth: 3
            }
        );
        assert_eq!(r.to_string(), "up:PUBLISH2:cut-after@3");
        let r: Rule = "down:pubrel".parse().expect("valid");
        assert_eq!((r.kind, r.act, r.nth), (6, Act::CutBefore, 1));
        assert!("sideways:PUBACK".parse::<Rule>().is_err());
        assert!("up:PUBLISH3".parse::<Rule>().is_err());
        assert!("up:PUBACK:explode".parse::<Rule>().is_err());
        assert!("up:PUBACK@0".parse::<Rule>().is_err());
    }

    #[test]
    fn a_plan_mixes_rules_and_pass() {
        let plan = parse_plan("pass, down:PINGRESP:blackhole-after ,up:CONNECT").expect("valid");
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[0], None);
        assert_eq!(plan[1].as_ref().map(|r| r.act), Some(Act::BlackholeAfter));
        assert!(parse_plan("").expect("empty").is_empty());
    }

    #[test]
    fn the_qos_stages_cover_both_flows_both_ways_before_and_after() {
        let stages = qos_stages();
        assert_eq!(stages.len(), 24);
        for kind in [3u8, 4, 5, 6, 7] {
            for dir in [Dir::Up, Dir::Down] {
                assert!(stages.iter().any(|r| r.kind == kind && r.dir == dir));
            }
        }
        assert_eq!(stages.iter().filter(|r| r.act == Act::CutAfter).count(), 12);
    }

    #[test]
    fn the_splitter_finds_packets_in_any_chunking_with_their_ids() {
        // PUBLISH qos 1 "a" id 7 dup, PUBREL 9, PINGRESP.
        let stream = [0x3A, 5, 0, 1, b'a', 0, 7, 0x62, 2, 0, 9, 0xD0, 0];
        for chunk in 1..=stream.len() {
            let mut s = Splitter::default();
            let mut found = Vec::new();
            for piece in stream.chunks(chunk) {
                s.push(piece);
                while let Some((h, bytes)) = s.next_packet() {
                    found.push((h, bytes.len()));
                }
            }
            assert_eq!(
                found,
                vec![
                    (
                        Header {
                            kind: 3,
                            qos: 1,
                            dup: true,
                            pkid: Some(7)
                        },
                        7
                    ),
                    (
                        Header {
                            kind: 6,
                            qos: 0,
                            dup: false,
                            pkid: Some(9)
                        },
                        4
                    ),
                    (
                        Header {
                            kind: 13,
                            qos: 0,
                            dup: false,
                            pkid: None
                        },
                        2
                    ),
                ],
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn a_malformed_length_is_passed_on_instead_of_stalling() {
        let mut s = Splitter::default();
        s.push(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]);
        let (_, bytes) = s.next_packet().expect("passed on");
        assert_eq!(bytes.len(), 7);
        assert!(s.next_packet().is_none());
    }
}
