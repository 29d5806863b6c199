//! `devbroker broker` end to end: the WebSocket endpoint as a browser sees
//! it (path, `mqtt` subprotocol echo, MQTT over binary frames), refusal of
//! wrong paths, ports already in use, and clean exit on SIGTERM.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::{run_to_end, wait_exit, Broker, PATIENCE};
use futures_util::{SinkExt, StreamExt};
use mqttbytes::v4::{self, Packet};
use mqttbytes::QoS;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(
    url: &str,
) -> Result<
    (
        Ws,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    WsError,
> {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
    match tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request)).await {
        Ok(handshake) => handshake,
        Err(_) => panic!("no handshake within {PATIENCE:?}"),
    }
}

async fn send_packet(ws: &mut Ws, write: impl FnOnce(&mut BytesMut)) {
    let mut buf = BytesMut::new();
    write(&mut buf);
    ws.send(Message::Binary(buf.to_vec())).await.unwrap();
}

/// Reads binary frames until one whole MQTT packet is buffered.
async fn next_packet(ws: &mut Ws, buf: &mut BytesMut) -> Packet {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match v4::read(buf, 1 << 20) {
            Ok(p) => return p,
            Err(mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => panic!("bad packet from broker: {e:?}"),
        }
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(data)))) => buf.extend_from_slice(&data),
            Ok(Some(Ok(other))) => panic!("unexpected frame {other:?}"),
            Ok(Some(Err(e))) => panic!("websocket error {e}"),
            Ok(None) => panic!("websocket closed"),
            Err(_) => panic!("no MQTT packet within {PATIENCE:?}"),
        }
    }
}

#[test]
fn ready_line_names_both_listeners() {
    let broker = Broker::start();
    assert!(broker
        .ready_line
        .starts_with("devbroker: listening mqtt://127.0.0.1:"));
    assert!(broker.ready_line.ends_with("/mqtt"));
    assert_ne!(broker.tcp_port, broker.ws_port);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_echoes_mqtt_subprotocol_and_carries_mqtt_both_ways() {
    let broker = Broker::start();
    let (mut ws, response) = ws_connect(&broker.ws_url("/mqtt"))
        .await
        .expect("handshake");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("mqtt"),
        "the server must echo the mqtt subprotocol or browsers drop the socket"
    );

    let mut buf = BytesMut::new();
    send_packet(&mut ws, |b| {
        let mut connect = v4::Connect::new("ws-test-client");
        connect.keep_alive = 30;
        connect.write(b).unwrap();
    })
    .await;
    match next_packet(&mut ws, &mut buf).await {
        Packet::ConnAck(ack) => assert_eq!(ack.code, v4::ConnectReturnCode::Success),
        other => panic!("expected CONNACK, got {other:?}"),
    }

    send_packet(&mut ws, |b| {
        let mut sub = v4::Subscribe::new("echo/#", QoS::AtLeastOnce);
        sub.pkid = 1;
        sub.write(b).unwrap();
    })
    .await;
    match next_packet(&mut ws, &mut buf).await {
        Packet::SubAck(ack) => assert_eq!(ack.pkid, 1),
        other => panic!("expected SUBACK, got {other:?}"),
    }

    let payload: Vec<u8> = (0..=255u8).collect();
    let sent = payload.clone();
    send_packet(&mut ws, move |b| {
        v4::Publish::new("echo/bytes", QoS::AtMostOnce, sent)
            .write(b)
            .unwrap();
    })
    .await;
    match next_packet(&mut ws, &mut buf).await {
        Packet::Publish(p) => {
            assert_eq!(p.topic, "echo/bytes");
            assert_eq!(&p.payload[..], &payload[..]);
        }
        other => panic!("expected PUBLISH, got {other:?}"),
    }
    let _ = ws.close(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_on_a_wrong_path_is_refused_with_404() {
    let broker = Broker::start();
    for path in ["/", "/ws", "/mqtt/x"] {
        match ws_connect(&broker.ws_url(path)).await {
            Err(WsError::Http(response)) => assert_eq!(response.status(), 404, "path {path}"),
            Err(other) => panic!("path {path}: expected HTTP 404, got {other}"),
            Ok(_) => panic!("path {path}: handshake unexpectedly succeeded"),
        }
    }
    // The right path still works afterwards.
    assert!(ws_connect(&broker.ws_url("/mqtt")).await.is_ok());
}

#[test]
fn tcp_port_in_use_exits_nonzero_naming_the_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (status, _out, err, took) =
        run_to_end(&["broker", "--tcp-port", &port, "--ws-port", "0"], PATIENCE);
    assert!(!status.success(), "must fail; stderr: {err}");
    assert!(err.contains(&format!("port {port}")), "stderr: {err}");
    assert!(err.contains("already in use"), "stderr: {err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn ws_port_in_use_exits_nonzero_naming_the_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (status, _out, err, took) =
        run_to_end(&["broker", "--tcp-port", "0", "--ws-port", &port], PATIENCE);
    assert!(!status.success(), "must fail; stderr: {err}");
    assert!(
        err.contains(&format!("WebSocket port {port}")),
        "stderr: {err}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn sigterm_stops_the_broker_cleanly() {
    let mut broker = Broker::start();
    let pid = broker.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut broker.child, PATIENCE);
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn bad_ws_path_flag_is_rejected() {
    let (status, _out, err, _) = run_to_end(
        &[
            "broker",
            "--tcp-port",
            "0",
            "--ws-port",
            "0",
            "--ws-path",
            "mqtt",
        ],
        PATIENCE,
    );
    assert!(!status.success());
    assert!(err.contains("--ws-path"), "stderr: {err}");
}
