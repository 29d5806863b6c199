//! Integration tests against the embedded broker (`tools/devbroker`, built on
//! rumqttd) over a real WebSocket at `/mqtt`. The binary is found through
//! `MQDASH_DEVBROKER`, else `$CARGO_TARGET_DIR/debug/devbroker`, else
//! `<workspace>/target/debug/devbroker`; a missing binary fails the tests.
//! Where rumqttd falls short of MQTT 3.1.1 the gap has its own test, named
//! for it, instead of a weaker assertion in the shared scenarios.

mod common;

use common::scenarios;
use common::DevBroker;

#[test]
fn devbroker_delivers_every_qos_pair_in_both_directions() {
    scenarios::every_qos_pair_in_both_directions(&DevBroker::start());
}

#[test]
fn devbroker_keeps_and_clears_retained_messages() {
    scenarios::retained_messages(&DevBroker::start());
}

#[test]
fn devbroker_routes_plus_and_hash_wildcard_subscriptions() {
    scenarios::wildcard_subscriptions(&DevBroker::start());
}

#[test]
fn devbroker_publishes_the_last_will_when_the_connection_is_cut() {
    scenarios::last_will_on_cut_connection(&DevBroker::start());
}

#[test]
fn devbroker_keeps_offline_messages_for_a_persistent_session() {
    scenarios::offline_messages_are_kept_for_a_persistent_session(&DevBroker::start(), 40);
}
