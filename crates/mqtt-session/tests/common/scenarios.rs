//! Scenarios run against every broker (mosquitto and the devbroker): each
//! takes a running broker and asserts what MQTT 3.1.1 requires.

use std::collections::BTreeMap;

use mqtt_session::{topic, Event, LastWill, Options, QoS, SubscribeResult};

use super::{opts, Broker, Client};

pub const QOS: [QoS; 3] = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];

/// Publishes a QoS 1 marker on `topic` from `publisher` and waits until
/// `subscriber` has it: everything published before it on that topic by that
/// publisher has arrived too (brokers keep per-publisher order).
pub fn sync_marker(publisher: &mut Client, subscriber: &mut Client, topic: &str, tag: &str) {
    let payload = format!("marker-{tag}");
    publisher.publish_complete(topic, payload.as_bytes(), QoS::AtLeastOnce, false);
    let p = payload.clone();
    subscriber.wait_until(&format!("marker {tag} on {topic}"), move |c| {
        c.messages_on(topic)
            .iter()
            .any(|m| m.payload.as_ref() == p.as_bytes())
    });
}

/// What MQTT 3.1.1 requires: delivered at the lower of publish and
/// subscription QoS (MQTT-3.8.4-6 / 4.3).
pub fn spec_delivered_qos(published: QoS, subscribed: QoS) -> QoS {
    published.min(subscribed)
}

/// rumqttd's gap (the devbroker's engine): it delivers at the subscription's
/// QoS even when the message was published at a lower one (a QoS 0 publish
/// reaches a QoS 2 subscriber as QoS 2), against MQTT-3.8.4-6.
pub fn rumqttd_gap_delivers_at_the_subscription_qos(_published: QoS, subscribed: QoS) -> QoS {
    subscribed
}

/// Every publisher QoS × subscriber QoS, from client A to client Z and from Z
/// to A: delivered once, at `delivered_qos(published, subscribed)` (use
/// `spec_delivered_qos` unless the broker has a named gap), payload intact.
pub fn every_qos_pair_in_both_directions(
    broker: &dyn Broker,
    delivered_qos: &dyn Fn(QoS, QoS) -> QoS,
) {
    let mut a = Client::connected(broker, "qos-a", opts("qos-a"));
    let mut z = Client::connected(broker, "qos-z", opts("qos-z"));
    for sub_qos in QOS {
        let s = sub_qos.as_u8();
        let r = a.subscribe(&[(&format!("pairs/to-a/s{s}/+"), sub_qos)]);
        assert_eq!(
            r.first().map(|x| x.1),
            Some(SubscribeResult::Granted(sub_qos))
        );
        let r = z.subscribe(&[(&format!("pairs/to-z/s{s}/+"), sub_qos)]);
        assert_eq!(
            r.first().map(|x| x.1),
            Some(SubscribeResult::Granted(sub_qos))
        );
    }
    // (direction, published, subscribed) -> delivered QoS, compared whole.
    let mut delivered = Vec::new();
    let mut expected = Vec::new();
    for direction in ["to-z", "to-a"] {
        let (from, to) = if direction == "to-z" {
            (&mut a, &mut z)
        } else {
            (&mut z, &mut a)
        };
        for pub_qos in QOS {
            for sub_qos in QOS {
                let (p, s) = (pub_qos.as_u8(), sub_qos.as_u8());
                let topic = format!("pairs/{direction}/s{s}/p{p}");
                let payload = format!("{direction} published at {p}, subscribed at {s}");
                from.publish_complete(&topic, payload.as_bytes(), pub_qos, false);
                let m = to.wait_message(&topic);
                assert_eq!(m.payload.as_ref(), payload.as_bytes(), "{topic}");
                delivered.push((direction, p, s, m.qos.as_u8()));
                expected.push((direction, p, s, delivered_qos(pub_qos, sub_qos).as_u8()));
                assert!(!m.retain, "{topic}: live message flagged retained");
            }
        }
        for sub_qos in QOS {
            let s = sub_qos.as_u8();
            sync_marker(from, to, &format!("pairs/{direction}/s{s}/end"), direction);
            for pub_qos in QOS {
                let topic = format!("pairs/{direction}/s{s}/p{}", pub_qos.as_u8());
                assert_eq!(
                    to.messages_on(&topic).len(),
                    1,
                    "{topic}: delivered more than once"
                );
            }
        }
    }
    assert_eq!(
        delivered,
        expected,
        "{}: delivered QoS per (direction, published, subscribed)",
        broker.name()
    );
    for c in [&mut a, &mut z] {
        assert!(c
            .events
            .iter()
            .all(|e| !matches!(e, Event::Closed { .. } | Event::PublishFailed { .. })));
        c.disconnect();
    }
}

/// A retained message reaches later subscribers with RETAIN set, a live one
/// reaches current subscribers with RETAIN clear, and an empty retained
/// message clears it.
pub fn retained_messages(broker: &dyn Broker) {
    let mut p = Client::connected(broker, "ret-pub", opts("ret-pub"));
    p.publish_complete("ret/one", b"kept", QoS::AtLeastOnce, true);

    let mut s = Client::connected(broker, "ret-sub", opts("ret-sub"));
    s.subscribe(&[("ret/+", QoS::AtLeastOnce)]);
    let m = s.wait_message("ret/one");
    assert_eq!(m.payload.as_ref(), b"kept");
    assert!(
        m.retain,
        "retained message delivered on subscribe must have RETAIN set"
    );
    assert_eq!(m.qos, QoS::AtLeastOnce);

    // A retained publish to a topic someone already subscribes to is a live
    // message for them: RETAIN clear (MQTT-3.3.1-9).
    p.publish_complete("ret/two", b"live", QoS::AtLeastOnce, true);
    let m = s.wait_message("ret/two");
    assert!(
        !m.retain,
        "live delivery of a retained publish must clear RETAIN"
    );

    // An empty retained message clears the retained one.
    p.publish_complete("ret/one", b"", QoS::AtLeastOnce, true);
    let mut late = Client::connected(broker, "ret-late", opts("ret-late"));
    late.subscribe(&[("ret/one", QoS::AtLeastOnce)]);
    sync_marker(&mut p, &mut late, "ret/one", "after-clear");
    let got: Vec<&[u8]> = late
        .messages_on("ret/one")
        .iter()
        .map(|m| m.payload.as_ref())
        .collect();
    assert_eq!(
        got,
        vec![&b"marker-after-clear"[..]],
        "cleared retained message came back"
    );
    p.publish_complete("ret/two", b"", QoS::AtLeastOnce, true);
    for c in [&mut p, &mut s, &mut late] {
        c.disconnect();
    }
}

/// `+` and `#` subscriptions receive exactly the topics they match, and our
/// local matcher agrees with the broker.
pub fn wildcard_subscriptions(broker: &dyn Broker) {
    let filters = ["wild/+/temp", "wild/#", "wild/a/#", "+/a/temp"];
    let mut subs: Vec<(String, Client)> = filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut c = Client::connected(broker, &format!("wild-{i}"), opts(&format!("wild-{i}")));
            let r = c.subscribe(&[(f, QoS::AtLeastOnce)]);
            assert_eq!(
                r,
                vec![(f.to_string(), SubscribeResult::Granted(QoS::AtLeastOnce))]
            );
            (f.to_string(), c)
        })
        .collect();
    let mut p = Client::connected(broker, "wild-pub", opts("wild-pub"));
    let topics = [
        "wild/a/temp",
        "wild/b/temp",
        "wild/a/temp/x",
        "wild/a",
        "wild",
        "wild/c/hum",
        "wild//temp",
        "other/a/temp",
    ];
    for t in topics {
        p.publish_complete(t, t.as_bytes(), QoS::AtLeastOnce, false);
    }
    // wild/a/temp is matched by all four filters: a second message on it,
    // published last, marks the end for every subscriber.
    p.publish_complete("wild/a/temp", b"end", QoS::AtLeastOnce, false);
    for (filter, c) in &mut subs {
        c.wait_until(&format!("end marker for {filter}"), |c| {
            c.messages_on("wild/a/temp")
                .iter()
                .any(|m| m.payload.as_ref() == b"end")
        });
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for m in c.messages() {
            if m.payload.as_ref() != b"end" {
                *got.entry(m.topic.clone()).or_default() += 1;
            }
        }
        let expected: BTreeMap<String, usize> = topics
            .iter()
            .filter(|t| topic::matches(t, filter))
            .map(|t| (t.to_string(), 1))
            .collect();
        assert_eq!(
            got,
            expected,
            "{} delivered for filter {filter}",
            broker.name()
        );
    }
    for (_, c) in &mut subs {
        c.disconnect();
    }
    p.disconnect();
}

/// A client whose connection is cut (no DISCONNECT) has its Last Will
/// published; one that disconnects cleanly does not.
pub fn last_will_on_cut_connection(broker: &dyn Broker) {
    let mut observer = Client::connected(broker, "will-observer", opts("will-observer"));
    observer.subscribe(&[("will/#", QoS::AtLeastOnce)]);
    let will = |topic: &str| -> Options {
        Options {
            last_will: Some(LastWill {
                topic: topic.into(),
                payload: b"gone".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: false,
            }),
            ..opts(topic.trim_start_matches("will/"))
        }
    };
    let mut polite = Client::connected(broker, "will-polite", will("will/polite"));
    polite.disconnect();
    let mut cut = Client::connected(broker, "will-cut", will("will/cut"));
    cut.cut();
    let m = observer.wait_message("will/cut");
    assert_eq!(m.payload.as_ref(), b"gone");
    assert_eq!(m.qos, QoS::AtLeastOnce);
    let mut p = Client::connected(broker, "will-marker", opts("will-marker"));
    sync_marker(&mut p, &mut observer, "will/marker", "will");
    assert!(
        observer.messages_on("will/polite").is_empty(),
        "Last Will published although the client sent DISCONNECT"
    );
    observer.disconnect();
    p.disconnect();
}

/// A subscriber with clean session off goes offline (DISCONNECT); QoS 1 and 2
/// messages published meanwhile arrive when it reconnects with
/// session-present set: none lost, QoS 2 none duplicated. Returns after the
/// subscriber has disconnected again.
pub fn offline_messages_are_kept_for_a_persistent_session(broker: &dyn Broker, n: usize) {
    let sub_opts = Options {
        clean_session: false,
        ..opts("offline-sub")
    };
    let mut s = Client::connected(broker, "offline-sub", sub_opts.clone());
    s.subscribe(&[("offline/#", QoS::ExactlyOnce)]);
    s.disconnect();

    let mut p = Client::connected(broker, "offline-pub", opts("offline-pub"));
    for i in 0..n {
        p.publish(&format!("offline/q1/{i}"), b"x", QoS::AtLeastOnce, false);
        p.publish(&format!("offline/q2/{i}"), b"x", QoS::ExactlyOnce, false);
    }
    p.wait_until("all acknowledged", |c| {
        c.session.in_flight() == 0 && c.session.queued() == 0
    });

    let present = s.connect(broker);
    assert!(present, "{}: session not resumed", broker.name());
    wait_for_all(&mut s, "offline", n, broker);
    sync_marker(&mut p, &mut s, "offline/marker", "offline");
    assert_counts(&s, "offline", n, broker.name());
    s.disconnect();
    p.disconnect();
}

/// Topics `<prefix>/q1/<i>` and `<prefix>/q2/<i>`, i in 0..n, not received yet.
pub fn missing(s: &Client, prefix: &str, n: usize) -> Vec<String> {
    let got: std::collections::BTreeSet<&str> =
        s.messages().iter().map(|m| m.topic.as_str()).collect();
    (0..n)
        .flat_map(|i| [format!("{prefix}/q1/{i}"), format!("{prefix}/q2/{i}")])
        .filter(|t| !got.contains(t.as_str()))
        .collect()
}

/// Pumps `s` until every `<prefix>/q1|q2/<i>` arrived; on timeout, fails
/// listing the lost ones. (Brokers may reorder queued messages against new
/// ones after a reconnect, so a marker alone cannot prove nothing is lost.)
pub fn wait_for_all(s: &mut Client, prefix: &str, n: usize, broker: &dyn Broker) {
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let lost = missing(s, prefix, n);
        if lost.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: messages lost (none arrived within {:?}): {lost:?}; state {:?}, last events {:?}\nbroker log:\n{}",
            broker.name(),
            super::WAIT,
            s.session.state(),
            s.events.iter().rev().take(5).collect::<Vec<_>>(),
            broker.log()
        );
        s.pump(std::time::Duration::from_millis(50));
    }
}

/// Asserts QoS 1 messages `<prefix>/q1/<i>` arrived at least once and QoS 2
/// `<prefix>/q2/<i>` exactly once, for i in 0..n.
pub fn assert_counts(s: &Client, prefix: &str, n: usize, broker: &str) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for m in s.messages() {
        *counts.entry(m.topic.clone()).or_default() += 1;
    }
    let lost_q1: Vec<usize> = (0..n)
        .filter(|i| !counts.contains_key(&format!("{prefix}/q1/{i}")))
        .collect();
    let lost_q2: Vec<usize> = (0..n)
        .filter(|i| !counts.contains_key(&format!("{prefix}/q2/{i}")))
        .collect();
    let dup_q2: Vec<usize> = (0..n)
        .filter(|i| {
            counts
                .get(&format!("{prefix}/q2/{i}"))
                .is_some_and(|&c| c > 1)
        })
        .collect();
    assert!(
        lost_q1.is_empty(),
        "{broker}: QoS 1 messages lost: {lost_q1:?}"
    );
    assert!(
        lost_q2.is_empty(),
        "{broker}: QoS 2 messages lost: {lost_q2:?}"
    );
    assert!(
        dup_q2.is_empty(),
        "{broker}: QoS 2 messages duplicated: {dup_q2:?}"
    );
}
