//! `devbroker broker`: an embedded rumqttd 0.20 broker for development.
//!
//! MQTT 3.1.1 over TCP is served by rumqttd itself (configured in code, no
//! config file); MQTT over WebSocket is served by [`crate::ws_front`], which
//! bridges to that TCP listener. Both listen on loopback unless `--host` says
//! otherwise. The ready line is printed only after an MQTT CONNECT/CONNACK
//! round trip succeeded over TCP and over the WebSocket path, so a script may
//! start clients as soon as it reads it.
//!
//! Ports are checked by binding before rumqttd starts, so a port in use is
//! reported by number within milliseconds instead of as a silent listener
//! thread failure inside rumqttd.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use mqttbytes::v4::{self, Packet};
use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::ws_front;

/// Largest packet rumqttd accepts from a client, in bytes of remaining
/// length: MQTT's maximum (268,435,455), so the page's handling of messages
/// over its own limit can be tried with any size a client may publish.
/// (Through the WebSocket front a client's message is also bounded by
/// tungstenite's defaults, 16 MiB per frame and 64 MiB per message; over
/// TCP there is no other limit.)
pub const MAX_PAYLOAD_SIZE: usize = 268_435_455;
/// Size of one in-memory commitlog segment (one log per subscription filter,
/// and per topic nobody subscribed to, because dynamic filters are on).
pub const SEGMENT_SIZE: usize = 1024 * 1024;
/// Segments kept per log: a slow subscriber may lag about this many MiB
/// behind before it skips ahead.
pub const SEGMENT_COUNT: usize = 4;

/// Flags of `devbroker broker`.
#[derive(clap::Args, Debug, Clone)]
pub struct BrokerArgs {
    /// Address to listen on. Loopback by default; 0.0.0.0 exposes the broker to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// MQTT over TCP port (0 picks a free port; the ready line shows it).
    #[arg(long, default_value_t = 1883)]
    pub tcp_port: u16,
    /// MQTT over WebSocket port (0 picks a free port; the ready line shows it).
    #[arg(long, default_value_t = 8083)]
    pub ws_port: u16,
    /// WebSocket request path; other paths get 404.
    #[arg(long, default_value = "/mqtt")]
    pub ws_path: String,
    /// Seconds to wait for both listeners to answer MQTT before giving up.
    #[arg(long, default_value_t = 10)]
    pub ready_timeout_secs: u64,
}

/// Runs the broker until Ctrl-C / SIGTERM (`Ok`) or until it fails (`Err`
/// with a message for the user).
pub async fn run(args: BrokerArgs, verbose: bool) -> Result<(), String> {
    if !args.ws_path.starts_with('/') {
        return Err(format!(
            "--ws-path must start with '/', got {:?}",
            args.ws_path
        ));
    }
    if args.tcp_port != 0 && args.tcp_port == args.ws_port {
        return Err(format!(
            "--tcp-port and --ws-port are both {}; they must differ",
            args.tcp_port
        ));
    }
    let mut shutdown = Box::pin(crate::shutdown_signal());

    // The WebSocket listener is ours: bind it now and keep it.
    let ws_std = bind_listener(args.host, args.ws_port, "WebSocket")?;
    let ws_addr = ws_std
        .local_addr()
        .map_err(|e| format!("WebSocket listener address: {e}"))?;
    ws_std
        .set_nonblocking(true)
        .map_err(|e| format!("WebSocket listener: {e}"))?;
    let ws_listener = tokio::net::TcpListener::from_std(ws_std)
        .map_err(|e| format!("WebSocket listener: {e}"))?;

    // The TCP listener is rumqttd's: check the port is free (or find a free
    // one), release it, and let rumqttd bind it right away.
    let tcp_addr = {
        let probe = bind_listener(args.host, args.tcp_port, "MQTT TCP")?;
        probe
            .local_addr()
            .map_err(|e| format!("TCP listener address: {e}"))?
    };

    let mut broker_stopped = spawn_rumqttd(rumqttd_config(tcp_addr))?;
    let upstream = SocketAddr::new(connectable(args.host), tcp_addr.port());
    tokio::spawn(ws_front::serve(
        ws_listener,
        args.ws_path.clone(),
        upstream,
        verbose,
    ));

    let ws_url = format!(
        "ws://{}{}",
        SocketAddr::new(connectable(args.host), ws_addr.port()),
        args.ws_path
    );
    let deadline = Instant::now() + Duration::from_secs(args.ready_timeout_secs.max(1));
    tokio::select! {
        r = wait_ready(upstream, &ws_url, deadline) => r?,
        _ = &mut broker_stopped => {
            return Err(format!(
                "the embedded broker stopped while starting; is TCP port {} in use? (run with --verbose for rumqttd's log)",
                tcp_addr.port()
            ))
        }
        sig = &mut shutdown => {
            warn!("devbroker: {sig} during start-up, exiting");
            return Ok(());
        }
    }

    say!(
        "devbroker: listening mqtt://{} ws://{}{}",
        tcp_addr,
        ws_addr,
        args.ws_path
    );

    tokio::select! {
        sig = &mut shutdown => {
            warn!("devbroker: {sig}, shutting down");
            Ok(())
        }
        _ = &mut broker_stopped => Err("the embedded broker stopped unexpectedly (run with --verbose for rumqttd's log)".to_owned()),
    }
}

/// The rumqttd configuration: one MQTT 3.1.1 TCP server at `tcp`, no TLS,
/// no auth, no metrics, dynamic filters on (rumqttd otherwise disconnects a
/// client that publishes to a topic nobody subscribed to).
pub fn rumqttd_config(tcp: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        max_payload_size: MAX_PAYLOAD_SIZE,
        // Packets read from one connection per batch.
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = ServerSettings {
        name: "devbroker-tcp".to_owned(),
        listen: tcp,
        tls: None,
        next_connection_delay_ms: 0,
        connections,
    };
    let router = RouterConfig {
        max_connections: 10_000,
        max_outgoing_packet_count: 1_000,
        max_segment_size: SEGMENT_SIZE,
        max_segment_count: SEGMENT_COUNT,
        custom_segment: None,
        initialized_filters: None,
        shared_subscriptions_strategy: Default::default(),
    };
    Config {
        id: 0,
        router,
        v4: Some(HashMap::from([("tcp".to_owned(), server)])),
        ..Default::default()
    }
}

/// Binds `host:port` or explains which port is unavailable.
fn bind_listener(host: IpAddr, port: u16, what: &str) -> Result<std::net::TcpListener, String> {
    std::net::TcpListener::bind((host, port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("{what} port {port} on {host} is already in use ({e}); choose another with --{}-port",
                if what == "WebSocket" { "ws" } else { "tcp" })
        } else {
            format!("cannot listen for {what} on {host} port {port}: {e}")
        }
    })
}

/// Starts rumqttd on its own threads. The returned receiver completes if
/// rumqttd's `start` ever returns, which means its listener(s) died.
fn spawn_rumqttd(config: Config) -> Result<tokio::sync::oneshot::Receiver<String>, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("rumqttd".to_owned())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            let outcome = match broker.start() {
                Ok(()) => "listener stopped".to_owned(),
                Err(e) => e.to_string(),
            };
            let _ = tx.send(outcome);
        })
        .map_err(|e| format!("cannot start broker thread: {e}"))?;
    Ok(rx)
}

/// An address clients can connect to for a listener bound on `host`.
fn connectable(host: IpAddr) -> IpAddr {
    match host {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// Polls both listeners with a real MQTT CONNECT until both answer CONNACK.
async fn wait_ready(tcp: SocketAddr, ws_url: &str, deadline: Instant) -> Result<(), String> {
    let mut tcp_ok = false;
    let mut ws_ok = false;
    let mut last_err = String::new();
    loop {
        if !tcp_ok {
            match timeout(Duration::from_secs(1), probe_tcp(tcp)).await {
                Ok(Ok(())) => tcp_ok = true,
                Ok(Err(e)) => last_err = format!("mqtt://{tcp}: {e}"),
                Err(_) => last_err = format!("mqtt://{tcp}: no CONNACK within 1s"),
            }
        }
        if tcp_ok && !ws_ok {
            match timeout(Duration::from_secs(1), probe_ws(ws_url)).await {
                Ok(Ok(())) => ws_ok = true,
                Ok(Err(e)) => last_err = format!("{ws_url}: {e}"),
                Err(_) => last_err = format!("{ws_url}: no CONNACK within 1s"),
            }
        }
        if tcp_ok && ws_ok {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("broker did not become ready in time: {last_err}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn connect_packet(client_id: &str) -> Result<BytesMut, String> {
    let mut connect = v4::Connect::new(client_id);
    connect.keep_alive = 10;
    let mut buf = BytesMut::new();
    connect
        .write(&mut buf)
        .map_err(|e| format!("encode CONNECT: {e:?}"))?;
    Ok(buf)
}

fn check_connack(packet: Packet) -> Result<(), String> {
    match packet {
        Packet::ConnAck(ack) if ack.code == v4::ConnectReturnCode::Success => Ok(()),
        Packet::ConnAck(ack) => Err(format!("CONNACK refused: {:?}", ack.code)),
        other => Err(format!("expected CONNACK, got {other:?}")),
    }
}

const DISCONNECT: [u8; 2] = [0xE0, 0x00];

async fn probe_tcp(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let connect = connect_packet(&format!("devbroker-ready-tcp-{}", std::process::id()))?;
    stream
        .write_all(&connect)
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = BytesMut::with_capacity(64);
    loop {
        match v4::read(&mut buf, 1024) {
            Ok(packet) => {
                check_connack(packet)?;
                break;
            }
            Err(mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => return Err(format!("bad reply: {e:?}")),
        }
        if stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
            return Err("connection closed before CONNACK".to_owned());
        }
    }
    let _ = stream.write_all(&DISCONNECT).await;
    Ok(())
}

async fn probe_ws(url: &str) -> Result<(), String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(ws_front::SUBPROTOCOL),
    );
    let (mut ws, _resp) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    let connect = connect_packet(&format!("devbroker-ready-ws-{}", std::process::id()))?;
    ws.send(Message::Binary(connect.to_vec()))
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = BytesMut::new();
    loop {
        match v4::read(&mut buf, 1024) {
            Ok(packet) => {
                check_connack(packet)?;
                break;
            }
            Err(mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => return Err(format!("bad reply: {e:?}")),
        }
        match ws.next().await {
            Some(Ok(Message::Binary(data))) => buf.extend_from_slice(&data),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection closed before CONNACK".to_owned()),
        }
    }
    let _ = ws.send(Message::Binary(DISCONNECT.to_vec())).await;
    let _ = ws.close(None).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_one_tcp_server_with_dynamic_filters_and_large_payloads() {
        let addr: SocketAddr = "127.0.0.1:1883".parse().unwrap();
        let config = rumqttd_config(addr);
        let servers = config.v4.as_ref().unwrap();
        assert_eq!(servers.len(), 1);
        let server = servers.values().next().unwrap();
        assert_eq!(server.listen, addr);
        assert!(server.connections.dynamic_filters);
        assert!(server.connections.max_payload_size >= 1024 * 1024);
        assert!(server.connections.max_inflight_count >= 100);
        assert!(config.ws.is_none() && config.v5.is_none());
        assert!(config.prometheus.is_none() && config.console.is_none());
    }

    #[test]
    fn unspecified_hosts_are_probed_on_loopback() {
        assert_eq!(
            connectable("0.0.0.0".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            connectable("::".parse().unwrap()),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            connectable("127.0.0.2".parse().unwrap()),
            "127.0.0.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn port_in_use_is_reported_by_number() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = bind_listener("127.0.0.1".parse().unwrap(), port, "MQTT TCP").unwrap_err();
        assert!(err.contains(&format!("port {port}")), "{err}");
        assert!(err.contains("already in use"), "{err}");
    }
}
