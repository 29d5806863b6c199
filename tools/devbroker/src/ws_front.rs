//! MQTT over WebSocket in front of the broker's TCP listener.
//!
//! Why it exists: rumqttd 0.20's own WebSocket listener echoes
//! `Sec-WebSocket-Protocol: mqtt` on every handshake, but it accepts any
//! request path (its handshake callback never looks at the URI) and answers
//! `mqtt` even to a client that offered no or another subprotocol. This front
//! enforces the path (anything else gets `404`), echoes `mqtt` only when the
//! client offered it (browsers reject the socket otherwise), refuses offers
//! without `mqtt` with `400`, then pipes binary frames both ways to the
//! broker's loopback TCP listener: each WebSocket connection becomes one
//! TCP connection to rumqttd.
//!
//! It does not parse MQTT; bytes are forwarded as they come.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// How long a new connection may take to send its upgrade request.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The only subprotocol served: MQTT 3.1.1 over WebSocket.
pub const SUBPROTOCOL: &str = "mqtt";

/// What to do with one WebSocket upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Complete the handshake, echoing `subprotocol` if `Some`.
    Accept {
        /// The `Sec-WebSocket-Protocol` value to answer with.
        subprotocol: Option<&'static str>,
    },
    /// Answer with an HTTP error instead of upgrading.
    Reject {
        /// HTTP status to answer with.
        status: StatusCode,
        /// Human-readable body (also logged).
        reason: String,
    },
}

/// Decides on an upgrade request from its path (without query) and the
/// values of all its `Sec-WebSocket-Protocol` headers.
pub fn negotiate(path: &str, expected_path: &str, offered: &[&str]) -> Decision {
    if path != expected_path {
        return Decision::Reject {
            status: StatusCode::NOT_FOUND,
            reason: format!(
                "no WebSocket endpoint at {path:?}; MQTT is served at {expected_path:?}"
            ),
        };
    }
    let mut any_offered = false;
    for proto in offered.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if proto.is_empty() {
            continue;
        }
        any_offered = true;
        if proto.eq_ignore_ascii_case(SUBPROTOCOL) {
            return Decision::Accept {
                subprotocol: Some(SUBPROTOCOL),
            };
        }
    }
    if any_offered {
        Decision::Reject {
            status: StatusCode::BAD_REQUEST,
            reason: format!(
                "unsupported WebSocket subprotocol {:?}; this endpoint speaks {SUBPROTOCOL:?}",
                offered.join(", ")
            ),
        }
    } else {
        Decision::Accept { subprotocol: None }
    }
}

/// Accepts WebSocket clients on `listener` forever, bridging each to a new
/// TCP connection to `upstream`.
pub async fn serve(listener: TcpListener, path: String, upstream: SocketAddr, verbose: bool) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                warn!("devbroker: ws: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let path = path.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(stream, &path, upstream).await {
                if verbose {
                    warn!("devbroker: ws: {peer}: {e}");
                }
            }
        });
    }
}

// The handshake callback's `Result<Response, ErrorResponse>` is tungstenite's
// signature, not ours to shrink.
#[allow(clippy::result_large_err)]
async fn handle(stream: TcpStream, path: &str, upstream: SocketAddr) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let mut rejection: Option<String> = None;
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered: Vec<&str> = req
            .headers()
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        match negotiate(req.uri().path(), path, &offered) {
            Decision::Accept { subprotocol } => {
                if let Some(p) = subprotocol {
                    resp.headers_mut()
                        .insert("sec-websocket-protocol", HeaderValue::from_static(p));
                }
                Ok(resp)
            }
            Decision::Reject { status, reason } => {
                rejection = Some(format!("refused {} ({reason})", req.uri()));
                let mut err = ErrorResponse::new(Some(reason + "\n"));
                *err.status_mut() = status;
                Err(err)
            }
        }
    };
    let handshake = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        tokio_tungstenite::accept_hdr_async(stream, callback),
    );
    let ws = match handshake.await {
        Err(_) => return Err("no WebSocket handshake within 10s".to_owned()),
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            return match rejection {
                // Always reported: a wrong URL in the page is a common mistake.
                Some(r) => {
                    warn!("devbroker: ws: {r}");
                    Ok(())
                }
                None => Err(format!("handshake failed: {e}")),
            };
        }
    };

    let tcp = match TcpStream::connect(upstream).await {
        Ok(tcp) => tcp,
        Err(e) => {
            let mut ws = ws;
            let _ = ws
                .close(Some(CloseFrame {
                    code: CloseCode::Again,
                    reason: "broker unavailable".into(),
                }))
                .await;
            return Err(format!("cannot reach broker TCP listener {upstream}: {e}"));
        }
    };
    let _ = tcp.set_nodelay(true);
    let (mut tcp_rx, mut tcp_tx) = tcp.into_split();
    let (mut ws_tx, mut ws_rx) = ws.split();

    let client_to_broker = async {
        while let Some(msg) = ws_rx.next().await {
            match msg.map_err(|e| format!("websocket read: {e}"))? {
                Message::Binary(data) => tcp_tx
                    .write_all(&data)
                    .await
                    .map_err(|e| format!("broker write: {e}"))?,
                Message::Text(_) => {
                    return Err("text frame received; MQTT needs binary frames".to_owned())
                }
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
        let _ = tcp_tx.shutdown().await;
        Ok::<(), String>(())
    };
    let broker_to_client = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tcp_rx
                .read(&mut buf)
                .await
                .map_err(|e| format!("broker read: {e}"))?;
            if n == 0 {
                break;
            }
            ws_tx
                .send(Message::Binary(buf[..n].to_vec()))
                .await
                .map_err(|e| format!("websocket write: {e}"))?;
        }
        let _ = ws_tx.send(Message::Close(None)).await;
        Ok::<(), String>(())
    };
    tokio::select! {
        r = client_to_broker => r,
        r = broker_to_client => r,
    }
}

/// The accept loop of the test servers (`hostile`, `proxy`): hands each new
/// connection to `on_conn` with its number (from 0) until Ctrl-C or SIGTERM,
/// then prints `NAME: SIGNAL, exiting` and returns.
pub async fn accept_until_signal(
    listener: TcpListener,
    name: &str,
    mut on_conn: impl FnMut(TcpStream, usize),
) {
    let mut index = 0usize;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => {
                        on_conn(stream, index);
                        index += 1;
                    }
                    Err(e) => {
                        // Typically EMFILE: back off instead of spinning.
                        warn!("{name}: accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
            sig = crate::shutdown_signal() => {
                say!("{name}: {sig}, exiting");
                return;
            }
        }
    }
}

/// A handshake callback for the test servers (`hostile`, `proxy`): echoes
/// subprotocol `mqtt` when the client offered it, and accepts either way.
// The handshake callback's `Result<Response, ErrorResponse>` is tungstenite's
// signature, not ours to shrink.
#[allow(clippy::result_large_err)]
pub fn echo_mqtt(req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    let offered = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("mqtt"));
    if offered {
        resp.headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_offer_on_the_right_path_is_echoed() {
        assert_eq!(
            negotiate("/mqtt", "/mqtt", &["mqtt"]),
            Decision::Accept {
                subprotocol: Some("mqtt")
            }
        );
    }

    #[test]
    fn mqtt_is_found_in_a_list_of_offers() {
        assert_eq!(
            negotiate("/mqtt", "/mqtt", &["mqttv3.1, mqtt"]),
            Decision::Accept {
                subprotocol: Some("mqtt")
            }
        );
        assert_eq!(
            negotiate("/mqtt", "/mqtt", &["chat", "MQTT"]),
            Decision::Accept {
                subprotocol: Some("mqtt")
            }
        );
    }

    #[test]
    fn no_offer_is_accepted_without_a_subprotocol() {
        assert_eq!(
            negotiate("/mqtt", "/mqtt", &[]),
            Decision::Accept { subprotocol: None }
        );
    }

    #[test]
    fn wrong_path_is_not_found() {
        match negotiate("/", "/mqtt", &["mqtt"]) {
            Decision::Reject { status, reason } => {
                assert_eq!(status, StatusCode::NOT_FOUND);
                assert!(reason.contains("/mqtt"));
            }
            other => panic!("expected rejection, got {other:?}"),
        }
        assert!(matches!(
            negotiate("/mqtt/", "/mqtt", &["mqtt"]),
            Decision::Reject { .. }
        ));
    }

    #[test]
    fn offers_without_mqtt_are_bad_requests() {
        match negotiate("/mqtt", "/mqtt", &["chat"]) {
            Decision::Reject { status, .. } => assert_eq!(status, StatusCode::BAD_REQUEST),
            other => panic!("expected rejection, got {other:?}"),
        }
    }
}
