"""Counts stay true with overlapping subscriptions. With `ov/#` and `ov/+/x`
both matching `ov/a/x`, the embedded broker (rumqttd) sends one copy of each
message per matching subscription, mosquitto one in all. Either way the
topic's panel counts each message once, its history holds each once, each
subscription counts what it matched, and the copies rumqttd sent are shown as
"overlap copies" (none with mosquitto). A payload really published twice,
more than the page's 2 s overlap window apart, counts twice.

A batch of messages read by rumqttd at once comes back as all of one
subscription's copies, then all of the other's; the page still recognises
those copies (it remembers a topic's recent messages, not only the last)."""

import socket
import time

import pytest
from playwright.sync_api import expect

from brokers import wait_until
from dash import T, Publisher, assert_clean, open_dash, panel, sub_row

DISTINCT = 8
REPEATED = "the same reading"
N = DISTINCT + 2  # the repeated payload is published twice


def test_overlapping_subscriptions_count_each_message_once(page, site, broker):
    open_dash(page, site, broker=broker.ws_url, subs=["ov/#", "ov/+/x", "end/#"], qos=1, connect=True)
    for f in ["ov/#", "ov/+/x", "end/#"]:
        expect(sub_row(page, f)).to_contain_text("granted QoS 1", timeout=T)
    p = Publisher(broker.tcp_port)
    topic = panel(page, "ov/a/x")
    for i in range(DISTINCT):
        p.pub("ov/a/x", f"reading {i}", qos=1)
    expect(topic.locator(".count")).to_have_text(f"{DISTINCT} msgs", timeout=T)

    # A real repeat: the same payload twice, the second well outside the
    # overlap window after the page received the first.
    p.pub("ov/a/x", REPEATED, qos=1)
    expect(topic.locator(".count")).to_have_text(f"{DISTINCT + 1} msgs", timeout=T)
    time.sleep(3.2)  # spacing the publishes, not waiting for a result
    p.pub("ov/a/x", REPEATED, qos=1)

    # Wait until every delivery is in: with rumqttd, all N copies recognised
    # (a copy miscounted as a message would keep this from ever showing);
    # then a marker on a filter of its own, published last.
    if broker.kind == "devbroker":
        expect(topic.locator(".overlap")).to_have_text(f"{N} overlap copies", timeout=T)
    p.pub("end/marker", "done", qos=1)
    p.close()
    expect(panel(page, "end/marker")).to_be_visible(timeout=T)

    expect(topic.locator(".count")).to_have_text(f"{N} msgs")
    for f in ["ov/#", "ov/+/x"]:
        expect(sub_row(page, f).locator(".count")).to_have_text(f"{N} msgs")
    expect(sub_row(page, "end/#").locator(".count")).to_have_text("1 msgs")
    topic.get_by_role("button", name="Open ov/a/x").click()
    detail = page.get_by_role("region", name="Detail of ov/a/x", exact=True)
    expect(detail.locator("h3").filter(has_text="History")).to_have_text(f"History ({N} kept, 0 dropped by caps)")
    rows = detail.locator("ol.history-list .entry-preview")
    expect(rows).to_have_count(N)
    expect(rows).to_have_text([REPEATED, REPEATED] + [f"reading {i}" for i in reversed(range(DISTINCT))])
    detail.get_by_role("button", name="Close detail").click()

    stats = page.locator("p.stats")
    expect(stats).to_contain_text(f"2 topics · {N + 1} messages")
    if broker.kind == "devbroker":
        expect(topic.locator(".overlap")).to_have_text(f"{N} overlap copies")
        expect(stats).to_contain_text(f" · {N} overlap copies")
        expect(panel(page, "end/marker").locator(".overlap")).to_have_count(0)
    else:
        expect(topic.locator(".overlap")).to_have_count(0)
        expect(stats).not_to_contain_text("overlap")
    assert_clean(page)


def _publish_packet(topic: str, payload: bytes) -> bytes:
    """An MQTT 3.1.1 PUBLISH at QoS 0."""
    t = topic.encode()
    body = len(t).to_bytes(2, "big") + t + payload
    n, length = len(body), b""
    while True:
        n, digit = n // 128, n % 128
        length += bytes([digit | (0x80 if n else 0)])
        if not n:
            break
    return bytes([0x30]) + length + body


def burst(port: int, topic: str, payloads: list) -> None:
    """Publishes every payload at QoS 0 in one TCP write, so the broker reads
    them as one batch (a device that sends a few readings at once)."""
    client_id = b"burst"
    connect = (b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(bytes([0x10, len(connect)]) + connect)
        connack = b""
        while len(connack) < 4:
            chunk = s.recv(4 - len(connack))
            assert chunk, "the broker closed the connection before CONNACK"
            connack += chunk
        assert connack == b"\x20\x02\x00\x00", connack
        s.sendall(b"".join(_publish_packet(topic, p) for p in payloads) + b"\xe0\x00")  # … DISCONNECT


def _number(text: str) -> int:
    return int(text.split()[0])


def test_a_batch_of_messages_under_overlapping_subscriptions_is_counted_once(page, site, devbroker):
    open_dash(page, site, broker=devbroker.ws_url, subs=["ov/#", "ov/+/x"], connect=True)
    for f in ["ov/#", "ov/+/x"]:
        expect(sub_row(page, f)).to_contain_text("granted QoS 0", timeout=T)
    n = 50
    burst(devbroker.tcp_port, "ov/a/x", [f"reading {i}".encode() for i in range(n)])
    topic = panel(page, "ov/a/x")
    expect(topic).to_be_visible(timeout=T)

    # Every delivery in: one per message and matching subscription, whether
    # the page counted it as a message or as an overlap copy.
    def delivered():
        count = _number(topic.locator(".count").inner_text())
        overlap = topic.locator(".overlap")
        copies = _number(overlap.inner_text()) if overlap.count() else 0
        return count + copies >= 2 * n and (count, copies)
    count, copies = wait_until("all 100 deliveries to be shown", delivered, timeout=T / 1000)
    assert (count, copies) == (n, n)
    for f in ["ov/#", "ov/+/x"]:
        expect(sub_row(page, f).locator(".count")).to_have_text(f"{n} msgs")
    assert_clean(page)
