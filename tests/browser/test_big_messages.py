"""Big messages never break the connection: a message larger than "Message
size limit (MiB)" (default 16) is read through without being kept,
acknowledged as its QoS requires, and reported as "message of N bytes on topic
T not kept (limit L)"; the page stays connected (never "reconnecting") and a
small message published right after arrives in its panel. Smaller ones are
kept. Also when a persistent session redelivers a big message on reconnect.

Against the embedded broker (rumqttd), publishing with paho over TCP.
mosquitto 2.0.11's WebSocket listener is very slow for big messages (measured
here: 300 KB took 7.6 s to reach the page, 2 MB 49 s; 20 MB would take
minutes), so mosquitto gets a single case, a message just over a 1 MiB limit;
the session core's integration test (crates/mqtt-session/tests/big_messages.rs)
covers 2 MB and 20 MB through mosquitto over TCP.

rumqttd delivers at the subscription's QoS whatever the publisher used (a
known rumqttd gap), so each QoS gets its own subscription (`big/qN/#` at QoS
N) and is published at that QoS: each message reaches the page at QoS N."""

import pytest
from playwright.sync_api import expect

from brokers import wait_until
from dash import CONNECTED, T, _client, assert_clean, button, open_dash, panel, status, sub_row, subscribe

KEPT, TOO_BIG = 2_000_000, 20_000_000
DEFAULT_LIMIT = 16 * 1024 * 1024

# Slow, not broken: 20 MB through the broker into a page on a busy 2-core machine.
BIG_T = 120_000

# Every text the status line shows, in order (injected before the page's own
# scripts, so nothing before the first render is missed).
STATUS_RECORDER = """
window.__statuses = [];
new MutationObserver(() => {
  const el = document.querySelector('[role=status]');
  const text = el ? el.textContent : null;
  if (text !== null && window.__statuses[window.__statuses.length - 1] !== text) window.__statuses.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


class BigPublisher:
    """paho over TCP, with a deadline fit for 20 MB."""

    def __init__(self, port: int, client_id: str = "paho-big"):
        self.c = _client(client_id)
        self.c.connect("127.0.0.1", port, keepalive=120)
        self.c.loop_start()
        wait_until("paho publisher to connect", self.c.is_connected, timeout=30)

    def pub(self, topic: str, payload: bytes, qos: int):
        info = self.c.publish(topic, payload, qos=qos)
        info.wait_for_publish(BIG_T / 1000)
        assert info.is_published(), f"publish of {len(payload)} bytes to {topic} did not complete"

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def statuses(page) -> list:
    return page.evaluate("window.__statuses")


def assert_never_reconnected(page):
    seen = statuses(page)
    assert not [s for s in seen if s.startswith("reconnecting")], seen
    assert not [s for s in seen if s.startswith("disconnected") and s != "disconnected"], seen


def not_kept(page):
    return page.locator("p.not-kept")


def stats(page):
    return page.locator("p.stats")


def set_clean_session(page, clean: bool):
    page.get_by_label("Clean session").set_checked(clean)


def connect(page, url: str, client_id: str | None = None):
    page.get_by_label("Broker URL").fill(url)
    if client_id:
        page.get_by_label("Client ID").fill(client_id)
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)


def expect_kept(page, topic: str, size: int, qos: int):
    p = panel(page, topic)
    expect(p.locator(".size")).to_have_text(f"{size} bytes", timeout=BIG_T)
    expect(p.locator(".count")).to_have_text("1 msgs")
    expect(p.locator(".flag").first).to_have_text(f"QoS {qos}")


def expect_not_kept(page, topic: str, size: int, limit: int, count: int):
    expect(not_kept(page)).to_have_text(f"message of {size} bytes on topic {topic} not kept (limit {limit})",
                                        timeout=BIG_T)
    expect(stats(page)).to_contain_text(f" · {count} not kept (too large)")
    expect(panel(page, topic)).to_have_count(0)


def expect_small_arrives(page, pub: BigPublisher, topic: str, qos: int):
    payload = f"small after, QoS {qos}"
    pub.pub(topic, payload.encode(), qos)
    expect(panel(page, topic).locator("pre.payload")).to_have_text(payload, timeout=T)


@pytest.mark.parametrize("clean", [True, False], ids=["clean-session", "persistent-session"])
def test_big_messages_at_each_qos_are_kept_or_reported_and_the_connection_stays(page, site, devbroker, clean):
    page.add_init_script(STATUS_RECORDER)
    open_dash(page, site)
    set_clean_session(page, clean)
    connect(page, devbroker.ws_url, client_id=None if clean else "dash-big-persistent")
    for q in (0, 1, 2):
        subscribe(page, f"big/q{q}/#", qos=q)
        expect(sub_row(page, f"big/q{q}/#")).to_contain_text(f"granted QoS {q}")
    pub = BigPublisher(devbroker.tcp_port)
    try:
        for q in (0, 1, 2):
            pub.pub(f"big/q{q}/2mb", b"k" * KEPT, q)
            expect_kept(page, f"big/q{q}/2mb", KEPT, q)

            pub.pub(f"big/q{q}/20mb", b"n" * TOO_BIG, q)
            expect_not_kept(page, f"big/q{q}/20mb", TOO_BIG, DEFAULT_LIMIT, count=q + 1)
            expect(status(page)).to_have_text(CONNECTED)

            expect_small_arrives(page, pub, f"big/q{q}/small", q)
            # Each big message was reported once: a small one after it does not
            # bring another report.
            expect(stats(page)).to_contain_text(f" · {q + 1} not kept (too large)")
    finally:
        pub.close()
    expect(status(page)).to_have_text(CONNECTED)
    assert_never_reconnected(page)
    assert [s for s in statuses(page) if s.startswith("connected")] == [f"connected to {devbroker.ws_url}"], \
        statuses(page)
    assert_clean(page)


def test_a_lower_message_size_limit_applies_to_the_connection(page, site, devbroker):
    page.add_init_script(STATUS_RECORDER)
    open_dash(page, site)
    page.get_by_label("Message size limit (MiB)").fill("1")
    connect(page, devbroker.ws_url)
    subscribe(page, "lim/#", qos=1)
    pub = BigPublisher(devbroker.tcp_port)
    try:
        pub.pub("lim/2mb", b"x" * KEPT, 1)
        expect_not_kept(page, "lim/2mb", KEPT, 1024 * 1024, count=1)
        pub.pub("lim/900k", b"y" * 900_000, 1)  # under 1 MiB: kept
        expect_kept(page, "lim/900k", 900_000, 1)
        expect_small_arrives(page, pub, "lim/small", 1)
    finally:
        pub.close()
    expect(status(page)).to_have_text(CONNECTED)
    assert_never_reconnected(page)
    assert_clean(page)


def test_a_big_message_redelivered_by_a_persistent_session_is_reported_once_without_a_reconnect_loop(
        page, site, devbroker):
    page.add_init_script(STATUS_RECORDER)
    open_dash(page, site)
    set_clean_session(page, False)
    connect(page, devbroker.ws_url, client_id="dash-away")
    subscribe(page, "away/#", qos=1)
    button(page, "Disconnect").click()
    expect(status(page)).to_have_text("disconnected", timeout=T)
    expect(sub_row(page, "away/#").locator(".grant")).to_have_text("not connected")

    # While the page is away, the broker queues a 20 MB QoS 1 message for its session.
    pub = BigPublisher(devbroker.tcp_port)
    try:
        pub.pub("away/20mb", b"q" * TOO_BIG, 1)
        page.evaluate("window.__statuses = []")
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect_not_kept(page, "away/20mb", TOO_BIG, DEFAULT_LIMIT, count=1)
        expect_small_arrives(page, pub, "away/small", 1)
        # Once only, and still on the first connection after Connect.
        expect(stats(page)).to_contain_text(" · 1 not kept (too large)")
        expect(status(page)).to_have_text(CONNECTED)
        assert_never_reconnected(page)
        assert [s for s in statuses(page) if s.startswith("connected")] == \
            [f"connected to {devbroker.ws_url}"], statuses(page)

        # It was acknowledged: leaving and coming back once more does not bring it again.
        button(page, "Disconnect").click()
        expect(status(page)).to_have_text("disconnected", timeout=T)
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect_small_arrives(page, pub, "away/again", 1)
    finally:
        pub.close()
    expect(stats(page)).to_contain_text(" · 1 not kept (too large)")
    assert_never_reconnected(page)
    assert_clean(page)


def test_a_message_over_the_limit_through_mosquitto_is_reported_and_the_connection_stays(page, site, mosquitto):
    """One case through mosquitto, whose WebSocket listener hands a big
    message over in many small pieces (and slowly: about 40 KB/s here), so it
    is kept small: 1,100,000 bytes over a 1 MiB limit, at QoS 1."""
    page.add_init_script(STATUS_RECORDER)
    open_dash(page, site)
    page.get_by_label("Message size limit (MiB)").fill("1")
    connect(page, mosquitto.ws_url)
    subscribe(page, "mq/#", qos=1)
    pub = BigPublisher(mosquitto.tcp_port)
    try:
        pub.pub("mq/big", b"m" * 1_100_000, 1)
        expect_not_kept(page, "mq/big", 1_100_000, 1024 * 1024, count=1)
        expect_small_arrives(page, pub, "mq/small", 1)
    finally:
        pub.close()
    expect(stats(page)).to_contain_text(" · 1 not kept (too large)")
    expect(status(page)).to_have_text(CONNECTED)
    assert_never_reconnected(page)
    assert_clean(page)
