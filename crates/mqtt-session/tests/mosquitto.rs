//! Integration tests against Debian's mosquitto (2.0) over a real WebSocket:
//! QoS pairs, retained messages, wildcards and `$SYS`, Last Will, refused
//! credentials, MQTT 3.1, and session resume across a broker restart.

mod common;

use common::scenarios::{self, assert_counts, sync_marker, wait_for_all};
use common::{opts, Client, Mosquitto, MosquittoConfig};
use mqtt_session::{ConnectionState, Event, Options, ProtocolVersion, QoS};

fn mosquitto() -> Mosquitto {
    Mosquitto::start(MosquittoConfig::default())
}

#[test]
fn mosquitto_delivers_every_qos_pair_in_both_directions() {
    scenarios::every_qos_pair_in_both_directions(&mosquitto(), &scenarios::spec_delivered_qos);
}

#[test]
fn mosquitto_keeps_and_clears_retained_messages() {
    scenarios::retained_messages(&mosquitto());
}

#[test]
fn mosquitto_routes_plus_and_hash_wildcard_subscriptions() {
    scenarios::wildcard_subscriptions(&mosquitto());
}

#[test]
fn mosquitto_publishes_the_last_will_when_the_connection_is_cut() {
    scenarios::last_will_on_cut_connection(&mosquitto());
}

#[test]
fn mosquitto_keeps_offline_messages_for_a_persistent_session() {
    scenarios::offline_messages_are_kept_for_a_persistent_session(&mosquitto(), 40);
}

#[test]
fn mosquitto_sys_topics_reach_sys_filters_but_not_hash() {
    let m = mosquitto();
    let mut all = Client::connected(&m, "sys-all", opts("sys-all"));
    all.subscribe(&[("#", QoS::AtMostOnce)]);
    let mut sys = Client::connected(&m, "sys-sys", opts("sys-sys"));
    sys.subscribe(&[("$SYS/broker/version", QoS::AtMostOnce)]);
    let version = sys.wait_message("$SYS/broker/version");
    assert!(String::from_utf8_lossy(&version.payload).contains("mosquitto"));
    let mut p = Client::connected(&m, "sys-pub", opts("sys-pub"));
    sync_marker(&mut p, &mut all, "sys/marker", "sys");
    let dollar: Vec<&str> = all
        .messages()
        .iter()
        .map(|m| m.topic.as_str())
        .filter(|t| t.starts_with('$'))
        .collect();
    assert!(dollar.is_empty(), "# received $ topics: {dollar:?}");
}

#[test]
fn mosquitto_refused_credentials_are_reported_as_code_4_or_5() {
    let m = Mosquitto::start(MosquittoConfig {
        users: vec![("alice".into(), "secret".into())],
        ..MosquittoConfig::default()
    });
    let attempts = [
        ("wrong password", Some("alice"), Some("nope")),
        ("unknown user", Some("mallory"), Some("secret")),
        ("anonymous", None, None),
    ];
    for (what, user, pass) in attempts {
        let mut c = Client::new(
            what,
            Options {
                username: user.map(String::from),
                password: pass.map(String::from),
                ..opts("cred")
            },
        );
        match c.try_connect(&m) {
            Event::ConnectionRefused { code, reason } => {
                assert!(code == 4 || code == 5, "{what}: code {code}");
                let expected = if code == 4 {
                    "bad username or password"
                } else {
                    "not authorised"
                };
                assert_eq!(reason, expected, "{what}");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
        c.wait_until("the refused connection to close", |c| !c.is_open());
        assert_eq!(c.session.state(), ConnectionState::Disconnected);
    }
    let mut ok = Client::new(
        "right",
        Options {
            username: Some("alice".into()),
            password: Some("secret".into()),
            ..opts("cred-ok")
        },
    );
    assert!(matches!(ok.try_connect(&m), Event::Connected { .. }));
}

#[test]
fn mosquitto_speaks_mqtt_3_1_with_a_3_1_client() {
    let m = mosquitto();
    let v31 = |id: &str| Options {
        protocol: ProtocolVersion::V3_1,
        ..opts(id)
    };
    let mut old = Client::connected(&m, "v31", v31("v31-client"));
    let mut new = Client::connected(&m, "v311", opts("v311-client"));
    old.subscribe(&[("v31/to-old", QoS::ExactlyOnce)]);
    new.subscribe(&[("v31/to-new", QoS::ExactlyOnce)]);
    old.publish_complete("v31/to-new", b"from 3.1", QoS::ExactlyOnce, false);
    new.publish_complete("v31/to-old", b"from 3.1.1", QoS::ExactlyOnce, false);
    assert_eq!(new.wait_message("v31/to-new").payload.as_ref(), b"from 3.1");
    let got = old.wait_message("v31/to-old");
    assert_eq!(got.payload.as_ref(), b"from 3.1.1");
    assert_eq!(got.qos, QoS::ExactlyOnce);
    // A 3.1 client id longer than 23 bytes never reaches the broker.
    assert!(mqtt_session::Session::new(v31("a-client-id-of-24-bytes!")).is_err());
}

#[test]
fn mosquitto_session_resume_across_a_restart_loses_nothing_and_duplicates_no_qos2() {
    let n = 30;
    let mut m = Mosquitto::start(MosquittoConfig {
        persistence: true,
        ..MosquittoConfig::default()
    });
    let persistent = |id: &str| Options {
        clean_session: false,
        ..opts(id)
    };
    let mut s = Client::connected(&m, "resume-sub", persistent("resume-sub"));
    s.subscribe(&[("resume/#", QoS::ExactlyOnce)]);
    let mut p = Client::connected(&m, "resume-pub", persistent("resume-pub"));

    // First half while the subscriber is online; it is cut mid-flight, after
    // reading only some of them.
    for i in 0..n / 2 {
        p.publish(&format!("resume/q1/{i}"), b"x", QoS::AtLeastOnce, false);
        p.publish(&format!("resume/q2/{i}"), b"x", QoS::ExactlyOnce, false);
    }
    p.wait_until("first half acknowledged", |c| c.session.in_flight() == 0);
    s.wait_until("a few messages", |c| c.messages().len() >= 3);
    s.cut();
    let before_cut = s.messages().len();
    assert!(
        before_cut < n,
        "the subscriber was not cut mid-flight ({before_cut} of {n} in)"
    );

    // Second half while the subscriber is away; the publisher is cut right
    // after writing them, before any acknowledgement is read.
    for i in n / 2..n {
        p.publish(&format!("resume/q1/{i}"), b"x", QoS::AtLeastOnce, false);
        p.publish(&format!("resume/q2/{i}"), b"x", QoS::ExactlyOnce, false);
    }
    assert_eq!(p.session.in_flight() + p.session.queued(), n);
    assert!(p.session.in_flight() > 0);
    p.cut();
    assert_eq!(
        p.session.in_flight() + p.session.queued(),
        n,
        "in-flight and queued publishes kept for resume"
    );

    m.restart();

    // The publisher resumes: DUP resend of its unacknowledged publishes.
    assert!(
        p.connect(&m),
        "publisher session not resumed; log:\n{}",
        m.log()
    );
    p.wait_until("resent and queued publishes acknowledged", |c| {
        c.session.in_flight() == 0 && c.session.queued() == 0
    });
    assert!(p.events.iter().all(|e| !matches!(
        e,
        Event::PublishFailed { .. } | Event::InFlightDropped { .. }
    )));

    // The broker saw our resends as duplicates (DUP set).
    let log = m.log();
    assert!(
        log.lines()
            .any(|l| l.contains("Received PUBLISH from resume-pub (d1, q2")),
        "no DUP resend from the publisher reached mosquitto; log:\n{log}"
    );

    // The subscriber resumes and gets everything.
    assert!(
        s.connect(&m),
        "subscriber session not resumed; log:\n{}",
        m.log()
    );
    wait_for_all(&mut s, "resume", n, &m);
    sync_marker(&mut p, &mut s, "resume/marker", "resume");
    assert_counts(&s, "resume", n, "mosquitto");
}
