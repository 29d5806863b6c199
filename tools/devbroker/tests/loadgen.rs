//! `devbroker loadgen` against the embedded broker: the JSON report is
//! printed, every QoS 0 / QoS 1 message reaches a subscriber, and each
//! payload starts with a millisecond timestamp.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{run_to_end, Broker, Subscriber, PATIENCE};

async fn run_loadgen(broker: &Broker, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<String> = [
        "loadgen",
        "--broker",
        &broker.mqtt_url(),
        "--rate",
        "2000",
        "--topics",
        "10",
        "--payload-size",
        "40",
        "--duration-secs",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let (status, out, err, _) = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run_to_end(&refs, PATIENCE)
    })
    .await
    .unwrap();
    assert!(status.success(), "loadgen failed: {err}");
    let line = out.lines().last().expect("one JSON line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos0_load_arrives_complete_with_timestamps() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.tcp_port, "test-load-sub", "load/#").await;
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let report = run_loadgen(&broker, &[]).await;
    let sent = report["sent"].as_u64().unwrap() as usize;
    // Paced at 2000/s for 1 s; loose bounds so a loaded CI machine passes.
    assert!((1000..=2100).contains(&sent), "sent {sent}");
    assert!(report["rate"].as_f64().unwrap() > 1000.0, "{report}");
    assert_eq!(report["qos"], 0);

    let got = sub.collect_until(PATIENCE, |all| all.len() >= sent).await;
    assert_eq!(got.len(), sent);
    let first = &got[0];
    assert_eq!(first.topic, "load/0");
    assert_eq!(first.payload.len(), 40);
    let text = std::str::from_utf8(&first.payload).unwrap();
    let (ms, pad) = text.split_once(' ').unwrap();
    let ms: u64 = ms.parse().unwrap();
    assert!(ms >= before && ms < before + 60_000, "timestamp {ms}");
    assert!(pad.bytes().all(|b| b == b'x'));
    let mut topics: Vec<&str> = got.iter().map(|m| m.topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    assert_eq!(topics.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos1_load_is_fully_acknowledged() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.tcp_port, "test-load1-sub", "load/#").await;
    let report = run_loadgen(&broker, &["--qos", "1"]).await;
    let sent = report["sent"].as_u64().unwrap();
    assert_eq!(report["acked"].as_u64().unwrap(), sent, "{report}");
    let got = sub
        .collect_until(PATIENCE, |all| all.len() as u64 >= sent)
        .await;
    assert_eq!(got.len() as u64, sent);
}

#[test]
fn loadgen_refuses_websocket_urls_and_tiny_payloads() {
    let (status, _, err, _) =
        run_to_end(&["loadgen", "--broker", "ws://127.0.0.1:1/mqtt"], PATIENCE);
    assert!(!status.success());
    assert!(err.contains("TCP only"), "stderr: {err}");
    let (status, _, err, _) = run_to_end(&["loadgen", "--payload-size", "5"], PATIENCE);
    assert!(!status.success());
    assert!(err.contains("--payload-size"), "stderr: {err}");
}
