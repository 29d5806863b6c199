//! `devbroker hostile`: a WebSocket server that accepts MQTT clients
//! (subprotocol `mqtt` echoed) and then misbehaves in one chosen way, so
//! tests (native, and the page's browser tests) can check that a client
//! explains the failure and does not reconnect in a tight loop.
//!
//! Modes, each applied to every connection once its CONNECT has arrived:
//! - `garbage`: bytes that are no MQTT packet (`FF FF FF FF` then text);
//! - `text-frame`: a WebSocket text frame instead of CONNACK;
//! - `no-connack`: never answers;
//! - `no-pingresp`: CONNACK (accepted), SUBACK/PUBACK as asked, but never
//!   PINGRESP;
//! - `close-after-connack`: CONNACK (accepted), then a WebSocket close;
//! - `packet`: the bytes of one case of the hostile-packet table
//!   (`mqtt_session::hostile`, `--case NAME`; `--list-cases` prints them).
//!
//! It prints one line per connection (`hostile: conn 3: CONNECT received,
//! sending garbage`), so a test can count attempts and their spacing. It is
//! not a broker: it routes nothing.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::proxy::Splitter;

/// How the server misbehaves.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes that are no MQTT packet.
    Garbage,
    /// A text frame instead of CONNACK.
    TextFrame,
    /// Never answers CONNECT.
    NoConnack,
    /// Accepts, but never answers PINGREQ.
    NoPingresp,
    /// Accepts, then closes the WebSocket at once.
    CloseAfterConnack,
    /// Sends one case of the hostile-packet table (`--case`).
    Packet,
}

/// Arguments of `devbroker hostile`.
#[derive(clap::Args, Debug, Clone)]
pub struct HostileArgs {
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// WebSocket port (0 picks a free one; the ready line shows it).
    #[arg(long, default_value_t = 0)]
    pub ws_port: u16,
    /// How to misbehave.
    #[arg(long, value_enum, default_value = "garbage")]
    pub mode: Mode,
    /// With `--mode packet`: the case name from the hostile-packet table.
    #[arg(long)]
    pub case: Option<String>,
    /// Print the hostile-packet table (name, rule, bytes, expected error) and exit.
    #[arg(long)]
    pub list_cases: bool,
}

/// The bytes sent in `garbage` mode.
pub const GARBAGE: &[u8] = b"\xFF\xFF\xFF\xFFthis is not MQTT";

/// Serves until Ctrl-C / SIGTERM.
pub async fn run(args: HostileArgs) -> Result<(), String> {
    if args.list_cases {
        for c in mqtt_session::hostile::cases() {
            let hex: Vec<String> = c.bytes.iter().map(|b| format!("{b:02x}")).collect();
            say!("{}\t{}\t{}\t{}", c.name, c.rule, hex.join(" "), c.error);
        }
        return Ok(());
    }
    let packet = match (args.mode, &args.case) {
        (Mode::Packet, Some(name)) => Some(
            mqtt_session::hostile::case(name)
                .ok_or(format!(
                    "no hostile case {name:?}; see devbroker hostile --list-cases"
                ))?
                .bytes,
        ),
        (Mode::Packet, None) => return Err("--mode packet needs --case NAME".into()),
        (_, Some(_)) => return Err("--case goes with --mode packet".into()),
        _ => None,
    };
    let listener = TcpListener::bind((args.host.as_str(), args.ws_port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.ws_port))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?;
    let mode_name = match (&args.case, args.mode) {
        (Some(c), _) => format!("packet {c}"),
        (None, m) => format!("{m:?}"),
    };
    say!("devbroker: hostile broker ({mode_name}) listening ws://{local}/mqtt");
    let epoch = Instant::now();
    let mode = args.mode;
    crate::ws_front::accept_until_signal(listener, "hostile", |stream, i| {
        let packet = packet.clone();
        tokio::spawn(async move {
            let end = serve(stream, i, mode, packet, epoch).await;
            say!("hostile: conn {i}: ended: {end}");
        });
    })
    .await;
    Ok(())
}

const CONNACK: [u8; 4] = [0x20, 2, 0, 0];

async fn serve(
    stream: TcpStream,
    i: usize,
    mode: Mode,
    packet: Option<Vec<u8>>,
    epoch: Instant,
) -> String {
    let _ = stream.set_nodelay(true);
    let handshake = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::accept_hdr_async(stream, crate::ws_front::echo_mqtt),
    )
    .await;
    let mut ws = match handshake {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => return format!("handshake failed: {e}"),
        Err(_) => return "no handshake within 10 s".into(),
    };
    let mut split = Splitter::default();
    loop {
        let data = match ws.next().await {
            Some(Ok(Message::Binary(d))) => d,
            Some(Ok(Message::Close(_))) | None => return "the client closed".into(),
            Some(Err(e)) => return format!("read failed: {e}"),
            Some(Ok(_)) => continue,
        };
        split.push(&data);
        while let Some((header, _)) = split.next_packet() {
            let reply: Vec<Message> = match (header.kind, mode) {
                (1, _) => {
                    say!(
                        "hostile: conn {i}: CONNECT received at {} ms, mode {mode:?}",
                        epoch.elapsed().as_millis()
                    );
                    match mode {
                        Mode::Garbage => vec![Message::Binary(GARBAGE.to_vec())],
                        Mode::TextFrame => vec![Message::Text("CONNACK".into())],
                        Mode::NoConnack => vec![],
                        Mode::NoPingresp => vec![Message::Binary(CONNACK.to_vec())],
                        Mode::CloseAfterConnack => vec![
                            Message::Binary(CONNACK.to_vec()),
                            Message::Close(Some(CloseFrame {
                                code: CloseCode::Normal,
                                reason: "devbroker hostile: close after CONNACK".into(),
                            })),
                        ],
                        Mode::Packet => vec![Message::Binary(packet.clone().unwrap_or_default())],
                    }
                }
                // Only the polite part of no-pingresp answers anything else.
                (8, Mode::NoPingresp) => {
                    let id = header.pkid.unwrap_or(1).to_be_bytes();
                    vec![Message::Binary(vec![0x90, 3, id[0], id[1], 0])]
                }
                (3, Mode::NoPingresp) if header.qos == 1 => {
                    let id = header.pkid.unwrap_or(1).to_be_bytes();
                    vec![Message::Binary(vec![0x40, 2, id[0], id[1]])]
                }
                (12, _) => {
                    say!(
                        "hostile: conn {i}: PINGREQ at {} ms, not answered",
                        epoch.elapsed().as_millis()
                    );
                    vec![]
                }
                _ => vec![],
            };
            for m in reply {
                let closing = matches!(m, Message::Close(_));
                if let Err(e) = ws.send(m).await {
                    return format!("write failed: {e}");
                }
                if closing {
                    // Wait briefly for the client's close, then drop.
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while let Some(Ok(_)) = ws.next().await {}
                    })
                    .await;
                    return "closed after CONNACK".into();
                }
            }
        }
    }
}
