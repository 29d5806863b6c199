//! `devbroker simulate` against the embedded broker: a `#` subscriber sees
//! every visible message (exactly), the binary payload and the OneNet `$dp`
//! copy; a late subscriber gets the retained statuses; the WebSocket
//! transport works; an unreachable broker fails fast with a clear message.

mod common;

use std::time::Duration;

use common::{free_port, run_to_end, Broker, Received, Subscriber, PATIENCE};

const DEVICES: u64 = 3;

/// `simulate: done; 60 messages sent (9 to $ topics) in …` → (60, 9).
fn parse_done_line(stdout: &str) -> (u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("simulate: done;"))
        .unwrap_or_else(|| panic!("no done line in {stdout:?}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let sent = words[2].parse().unwrap();
    let dollar = words[5].trim_start_matches('(').parse().unwrap();
    (sent, dollar)
}

fn is_dp_type1(m: &Received) -> bool {
    let p = &m.payload;
    if p.len() < 3 || p[0] != 0x01 {
        return false;
    }
    let len = u16::from_be_bytes([p[1], p[2]]) as usize;
    if len != p.len() - 3 {
        return false;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&p[3..]) else {
        return false;
    };
    v["datastreams"][0]["id"] == "wendu"
        && v["datastreams"][0]["datapoints"][0]["value"].is_number()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_subscriber_sees_every_visible_message_binary_and_dp_copy() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.tcp_port, "test-hash-sub", "#").await;

    let url = broker.mqtt_url();
    let (status, out, err, _) = tokio::task::spawn_blocking(move || {
        run_to_end(
            &[
                "simulate",
                "--broker",
                &url,
                "--devices",
                "3",
                "--rate",
                "400",
                "--count",
                "80",
                "--seed",
                "7",
            ],
            PATIENCE,
        )
    })
    .await
    .unwrap();
    assert!(status.success(), "simulate failed: {err}");
    let (sent, dollar) = parse_done_line(&out);
    assert_eq!(sent, 80);
    assert!(dollar > 0, "some messages go to $ topics");
    // Statuses are extra; `$` topics never match `#`.
    let expected = (sent - dollar + DEVICES) as usize;

    let got = sub
        .collect_until(PATIENCE, |all| all.len() >= expected)
        .await;
    assert_eq!(got.len(), expected, "visible messages received");
    // Nothing more arrives.
    let extra = sub
        .collect_until(Duration::from_millis(300), |all| !all.is_empty())
        .await;
    assert!(extra.is_empty(), "unexpected extra messages: {extra:?}");

    assert!(got.iter().all(|m| !m.topic.starts_with('$')));
    let raw: Vec<&Received> = got.iter().filter(|m| m.topic.ends_with("/raw")).collect();
    assert!(!raw.is_empty(), "binary payload seen");
    for m in &raw {
        assert_eq!(m.payload.len(), 16);
        assert!(m.payload.contains(&0x00) && m.payload.contains(&0xFF));
        assert!(std::str::from_utf8(&m.payload).is_err());
    }
    assert!(
        got.iter().any(|m| m.topic.starts_with("onenet/sensor-")
            && m.topic.ends_with("/dp")
            && is_dp_type1(m)),
        "OneNet $dp type 1 copy seen"
    );
    assert!(got.iter().any(|m| m.topic == "devices/sensor-1/telemetry"
        && serde_json::from_slice::<serde_json::Value>(&m.payload).unwrap()["power"]["volts"]
            .is_number()));
    assert!(got.iter().any(|m| m.topic == "building-a/floor-1/temp"
        && std::str::from_utf8(&m.payload)
            .unwrap()
            .parse::<f64>()
            .is_ok()));

    // A subscriber arriving later gets the statuses as retained messages.
    let mut late = Subscriber::start(broker.tcp_port, "test-late-sub", "devices/+/status").await;
    let statuses = late
        .collect_until(PATIENCE, |all| all.len() >= DEVICES as usize)
        .await;
    assert_eq!(statuses.len(), DEVICES as usize);
    for m in &statuses {
        assert!(m.retain, "{} must arrive retained", m.topic);
        assert_eq!(m.payload, b"online");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_publishes_over_websocket_with_a_prefix() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.tcp_port, "test-ws-sub", "lab/#").await;
    let url = broker.ws_url("/mqtt");
    let (status, out, err, _) = tokio::task::spawn_blocking(move || {
        run_to_end(
            &[
                "simulate", "--broker", &url, "--prefix", "lab", "--rate", "400", "--count", "20",
            ],
            PATIENCE,
        )
    })
    .await
    .unwrap();
    assert!(status.success(), "simulate over ws failed: {err}");
    let (sent, dollar) = parse_done_line(&out);
    let expected = (sent - dollar + DEVICES) as usize;
    let got = sub
        .collect_until(PATIENCE, |all| all.len() >= expected)
        .await;
    assert_eq!(got.len(), expected);
    assert!(got.iter().all(|m| m.topic.starts_with("lab/")));
}

#[test]
fn unreachable_broker_fails_fast_with_a_clear_message() {
    let port = free_port().to_string();
    let url = format!("mqtt://127.0.0.1:{port}");
    let (status, _out, err, took) = run_to_end(
        &["simulate", "--broker", &url, "--connect-timeout", "2"],
        PATIENCE,
    );
    assert!(!status.success());
    assert!(
        err.contains(&format!("cannot reach broker at {url}: connection refused")),
        "stderr: {err}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn bad_broker_url_is_rejected() {
    let (status, _out, err, _) = run_to_end(
        &["simulate", "--broker", "mqtts://127.0.0.1:8883"],
        PATIENCE,
    );
    assert!(!status.success());
    assert!(err.contains("TLS"), "stderr: {err}");
}
