"""Issue 12, the page's side of MQTT 5 messages, against Debian's mosquitto:
a paho-mqtt v5 publisher sends messages with every PUBLISH property and the
page shows each of them (panel and detail, as text); the page publishes with
every property and a paho v5 subscriber receives exactly those, and the
publish log shows the broker's reason code; the request/response helper
against a paho v5 responder (round trips, typed and generated correlation
data, a timeout and a late reply, unmatched replies)."""

import queue
import re
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from playwright.sync_api import expect

from dash import (CONNECTED, T, Publisher, assert_clean, button, open_dash, panel, publish_form, publish_log,
                  status, sub_row)

PATIENCE = 60.0


def connect_v5(page, site, broker, subs=()):
    """Opens the page with `subs` and connects with protocol MQTT 5; checks
    mosquitto logged protocol level 5 for the page's client."""
    open_dash(page, site, broker=broker.ws_url, subs=subs)
    client_id = page.get_by_label("Client ID").input_value()
    page.get_by_label("Protocol").select_option("5")
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    broker.wait_for_log(f"as {client_id} (p5,")
    for f in subs:
        expect(sub_row(page, f)).to_contain_text("granted QoS", timeout=T)
    return client_id


def v5_client(port: int, client_id: str) -> mqtt.Client:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=mqtt.MQTTv5)
    connected = threading.Event()
    c.on_connect = lambda c, u, flags, rc, props: connected.set()
    c.connect("127.0.0.1", port, keepalive=60)
    c.loop_start()
    if not connected.wait(PATIENCE):
        raise RuntimeError(f"paho v5 client {client_id} did not connect")
    return c


def v5_publish(c: mqtt.Client, topic: str, payload, qos: int = 1, **props):
    p = Properties(PacketTypes.PUBLISH)
    for name, value in props.items():
        setattr(p, name, value)
    info = c.publish(topic, payload, qos=qos, properties=p)
    info.wait_for_publish(PATIENCE)
    assert info.is_published(), f"publish to {topic} did not complete"


def props_of(m) -> dict:
    """Every PUBLISH property a paho message carried, by paho's names."""
    names = ["PayloadFormatIndicator", "MessageExpiryInterval", "ContentType", "ResponseTopic",
             "CorrelationData", "UserProperty", "SubscriptionIdentifier"]
    p = m.properties
    return {n: getattr(p, n) for n in names if p is not None and hasattr(p, n)}


class V5Subscriber:
    """A paho v5 client subscribed to a filter; collects (topic, payload, qos, properties)."""

    def __init__(self, port: int, filt: str, client_id: str):
        self.messages: "queue.Queue[tuple]" = queue.Queue()
        subscribed = threading.Event()
        self.c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload), m.qos, props_of(m)))
        self.c.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()
        self.c.on_connect = lambda c, u, flags, rc, props: c.subscribe(filt, qos=2)
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        if not subscribed.wait(PATIENCE):
            raise RuntimeError(f"paho v5 subscriber did not get a SUBACK for {filt}")

    def get(self):
        return self.messages.get(timeout=PATIENCE)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


class Responder:
    """A paho v5 client that answers each request on `filt` on its response
    topic with the same correlation data and `pong:<payload>`. A request whose
    payload is `slow` is held until `release()`; `stray(topic)` publishes a
    reply with correlation data nobody asked for."""

    def __init__(self, port: int, filt: str):
        self.held: "queue.Queue[tuple]" = queue.Queue()
        self.answered = 0
        self.c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="paho-responder",
                             protocol=mqtt.MQTTv5)
        subscribed = threading.Event()
        self.c.on_message = self._on_request
        self.c.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()
        self.c.on_connect = lambda c, u, flags, rc, props: c.subscribe(filt, qos=1)
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        if not subscribed.wait(PATIENCE):
            raise RuntimeError("the responder did not get a SUBACK")

    def _on_request(self, c, userdata, m):
        reply = (m.properties.ResponseTopic, m.properties.CorrelationData, b"pong:" + bytes(m.payload))
        if m.payload == b"slow":
            self.held.put(reply)
        else:
            self._reply(*reply)

    def _reply(self, topic, correlation, payload):
        p = Properties(PacketTypes.PUBLISH)
        p.CorrelationData = correlation
        self.c.publish(topic, payload, qos=1, properties=p)
        self.answered += 1

    def release(self):
        self._reply(*self.held.get(timeout=PATIENCE))

    def stray(self, topic: str):
        p = Properties(PacketTypes.PUBLISH)
        p.CorrelationData = b"nobody-asked"
        info = self.c.publish(topic, b"stray", qos=1, properties=p)
        info.wait_for_publish(PATIENCE)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def test_a_v5_publishers_properties_are_shown_in_the_panel_and_the_detail(page, site, mosquitto):
    connect_v5(page, site, mosquitto, subs=["v5in/#"])
    pub = v5_client(mosquitto.tcp_port, "paho-v5-pub")
    xss = "<img src=x onerror=window.__xss=1>"
    v5_publish(pub, "v5in/sensor", '{"temp": 21.5}', qos=1,
               ContentType="application/json", PayloadFormatIndicator=1, ResponseTopic="v5in/replies",
               CorrelationData=b"corr-42", MessageExpiryInterval=3600,
               UserProperty=[("unit", "°C"), ("tag", "a"), ("tag", "b"), ("note", xss)])
    card = panel(page, "v5in/sensor")
    props = card.locator("p.props")
    expect(props).to_contain_text("content type: application/json", timeout=T)
    expect(props).to_contain_text("payload format: UTF-8 text")
    expect(props).to_contain_text(re.compile(r"message expiry: 3[56]\d\d s left when received"))
    expect(props).to_contain_text("response topic: v5in/replies")
    expect(props).to_contain_text("correlation data: corr-42")
    # User properties as key = value, a repeated name kept, in order.
    expect(props).to_contain_text(f"unit = °C · tag = a · tag = b · note = {xss}")
    # The page's subscription was made with an identifier: it names the subscription.
    expect(props).to_contain_text(re.compile(r"subscription identifier: \d+ \(v5in/#\)"))
    expect(card.locator("pre.payload")).to_contain_text('"temp": 21.5')

    # The detail lists them one per line, as text.
    card.get_by_role("button", name="Open v5in/sensor").click()
    detail = page.get_by_role("region", name="Detail of v5in/sensor")
    lines = detail.get_by_role("list", name="Message properties").locator("li")
    expect(lines).to_have_text([
        "content type: application/json",
        "payload format: UTF-8 text",
        re.compile(r"^message expiry: 3[56]\d\d s left when received$"),
        "response topic: v5in/replies",
        "correlation data: corr-42",
        "user property: unit = °C",
        "user property: tag = a",
        "user property: tag = b",
        f"user property: note = {xss}",
        re.compile(r"^subscription identifier: \d+ \(v5in/#\)$"),
    ], timeout=T)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert detail.locator("img").count() == 0

    # Binary correlation data reads as hex; the row of each kept message has its properties.
    v5_publish(pub, "v5in/sensor", "second", qos=0, CorrelationData=bytes([0, 1, 0xFF]))
    expect(props).to_contain_text("correlation data: 0x0001ff", timeout=T)
    expect(detail.locator(".entry-label").first).to_contain_text("correlation data: 0x0001ff", timeout=T)
    expect(detail.locator(".entry-label").nth(1)).to_contain_text("content type: application/json")

    # "Publish again" on the first message fills the form, properties included.
    detail.locator("button.entry").nth(1).click()
    expect(lines.first).to_have_text("content type: application/json", timeout=T)
    button(page, "Publish again").click()
    f = publish_form(page)
    expect(f.get_by_label("Topic", exact=True)).to_have_value("v5in/sensor", timeout=T)
    expect(f.get_by_label("Content type", exact=True)).to_have_value("application/json")
    expect(f.get_by_label("Payload is UTF-8", exact=True)).to_be_checked()
    expect(f.get_by_label("Response topic", exact=True)).to_have_value("v5in/replies")
    expect(f.get_by_label("Correlation data", exact=True)).to_have_value("corr-42")
    expect(f.get_by_label("Message expiry (s)", exact=True)).to_have_value(re.compile(r"^3[56]\d\d$"))
    for n, (k, v) in enumerate([("unit", "°C"), ("tag", "a"), ("tag", "b"), ("note", xss)], start=1):
        expect(f.get_by_label(f"User property {n} name", exact=True)).to_have_value(k)
        expect(f.get_by_label(f"User property {n} value", exact=True)).to_have_value(v)

    # A message from an MQTT 3.1.1 publisher has no properties of its own:
    # only the identifier of the page's subscription remains.
    old = Publisher(mosquitto.tcp_port, client_id="paho-311")
    old.pub("v5in/sensor", "plain", qos=1)
    old.close()
    expect(card.locator("pre.payload")).to_have_text("plain", timeout=T)
    expect(props).to_have_text(re.compile(r"^subscription identifier: \d+ \(v5in/#\)$"))
    pub.disconnect()
    pub.loop_stop()
    assert_clean(page)


def test_the_page_publishes_every_property_and_a_v5_subscriber_receives_them_exactly(page, site, mosquitto):
    sub = V5Subscriber(mosquitto.tcp_port, "v5out/#", client_id="paho-v5-sub")
    connect_v5(page, site, mosquitto)
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill("v5out/cmd")
    f.get_by_label("QoS").select_option("1")
    f.get_by_label("Payload", exact=True).fill('{"on": true}')
    f.get_by_label("Content type", exact=True).fill("application/json")
    f.get_by_label("Payload is UTF-8", exact=True).check()
    f.get_by_label("Message expiry (s)", exact=True).fill("120")
    f.get_by_label("Response topic", exact=True).fill("v5out/reply")
    f.get_by_label("Correlation data", exact=True).fill("corr-page-1")
    rows = [("k", "1"), ("x", "dropped"), ("k", "2"), ("ünï", "✓ = yes")]
    for n, (k, v) in enumerate(rows, start=1):
        button(page, "Add user property").click()
        # The new row's name field takes the keyboard.
        expect(f.get_by_label(f"User property {n} name", exact=True)).to_be_focused(timeout=T)
        page.keyboard.type(k)
        f.get_by_label(f"User property {n} value", exact=True).fill(v)
    button(page, "Remove user property 2").click()
    # The rows after it are numbered again; their values stay.
    expect(f.get_by_label("User property 2 name", exact=True)).to_have_value("k", timeout=T)
    expect(f.get_by_label("User property 3 value", exact=True)).to_have_value("✓ = yes")
    expect(f.get_by_label("User property 4 name", exact=True)).to_have_count(0)
    button(page, "Publish").click()

    topic, payload, qos, props = sub.get()
    assert (topic, payload, qos) == ("v5out/cmd", b'{"on": true}', 1)
    expiry = props.pop("MessageExpiryInterval")
    assert 118 <= expiry <= 120, expiry  # what is left of it when mosquitto forwards it
    # Exactly what was typed: no property lost, added or reordered (paho's
    # subscriber asked for no subscription identifier, so none comes).
    assert props == {
        "PayloadFormatIndicator": 1,
        "ContentType": "application/json",
        "ResponseTopic": "v5out/reply",
        "CorrelationData": b"corr-page-1",
        "UserProperty": [("k", "1"), ("k", "2"), ("ünï", "✓ = yes")],
    }
    row = publish_log(page).locator("li").first
    expect(row).to_contain_text("v5out/cmd · QoS 1 · 12 bytes · with properties", timeout=T)
    expect(row.locator(".pub-state")).to_have_text(re.compile(r"^acknowledged \(PUBACK\) in \d+ ms$"), timeout=T)

    # The broker's reason code: nobody subscribes to this topic (0x10).
    f.get_by_label("Topic", exact=True).fill("nobody/listens")
    button(page, "Publish").click()
    row = publish_log(page).locator("li").first
    expect(row).to_contain_text("nobody/listens", timeout=T)
    expect(row.locator(".pub-state")).to_have_text(
        re.compile(r"^acknowledged \(PUBACK\) in \d+ ms: no matching subscribers \(0x10\)$"), timeout=T)

    # Binary correlation data, typed as 0x and hex, arrives as those bytes.
    f.get_by_label("Topic", exact=True).fill("v5out/bin")
    f.get_by_label("Correlation data", exact=True).fill("0x00ff10")
    button(page, "Publish").click()
    topic, _, _, props = sub.get()
    assert (topic, props["CorrelationData"]) == ("v5out/bin", b"\x00\xff\x10")

    # A property the page cannot send is refused with a sentence naming it.
    f.get_by_label("Message expiry (s)", exact=True).fill("-5")
    button(page, "Publish").click()
    expect(f.locator("p.hint[role=alert]")).to_contain_text("Message expiry (s) must be a whole number",
                                                            timeout=T)
    expect(publish_log(page).locator("li")).to_have_count(3)
    sub.close()
    assert_clean(page)


def test_request_response_matches_replies_by_correlation_data_with_round_trips(page, site, mosquitto):
    responder = Responder(mosquitto.tcp_port, "rr/req/#")
    client_id = connect_v5(page, site, mosquitto)
    rr = page.get_by_role("region", name="Request / response", exact=True)
    requests = rr.get_by_role("list", name="Requests").locator(":scope > li")
    hint = rr.locator("p.hint[role=alert]")

    # Generated correlation data, the default reply topic, subscribed on the way.
    reply_topic = f"mqdash/responses/{client_id}"
    rr.get_by_label("Request topic", exact=True).fill("rr/req/dev1")
    rr.get_by_label("Request payload", exact=True).fill("ping")
    rr.get_by_label("Request QoS").select_option("1")
    button(page, "Send request").click()
    expect(hint).to_have_text(f"subscribed to {reply_topic}; sent request #1", timeout=T)
    expect(sub_row(page, reply_topic)).to_contain_text("granted QoS 1", timeout=T)
    first = requests.first
    expect(first).to_contain_text(re.compile(
        rf"^#1 rr/req/dev1 → {re.escape(reply_topic)} · correlation data req-1-[0-9a-f]{{8}} · 1 reply"), timeout=T)
    expect(first.locator("li")).to_have_text([re.compile(r"^reply in \d+ ms: pong:ping$")])

    # Typed correlation data and another reply topic; a second request on the
    # covered reply topic does not subscribe again.
    rr.get_by_label("Reply topic", exact=True).fill("rr/replies/x")
    rr.get_by_label("Request correlation data", exact=True).fill("my-corr-7")
    rr.get_by_label("Request payload", exact=True).fill("hello")
    button(page, "Send request").click()
    expect(hint).to_have_text("subscribed to rr/replies/x; sent request #2", timeout=T)
    expect(requests.first).to_contain_text("#2 rr/req/dev1 → rr/replies/x · correlation data my-corr-7 · 1 reply",
                                           timeout=T)
    expect(requests.first.locator("li")).to_have_text([re.compile(r"^reply in \d+ ms: pong:hello$")])
    rr.get_by_label("Request correlation data", exact=True).fill("my-corr-8")
    button(page, "Send request").click()
    expect(hint).to_have_text("sent request #3", timeout=T)
    expect(requests.first).to_contain_text("correlation data my-corr-8 · 1 reply", timeout=T)

    # A reply on a reply topic in use that matches no request is counted apart.
    responder.stray("rr/replies/x")
    expect(rr).to_contain_text("1 reply on a reply topic matched no request", timeout=T)

    # No reply within the timeout is reported; a reply after it is shown late.
    rr.get_by_label("Reply timeout (s)", exact=True).fill("1")
    rr.get_by_label("Request correlation data", exact=True).fill("")
    rr.get_by_label("Request payload", exact=True).fill("slow")
    button(page, "Send request").click()
    expect(requests.first).to_contain_text("#4 rr/req/dev1 → rr/replies/x", timeout=T)
    expect(requests.first).to_contain_text("no reply after 1 s", timeout=T)
    responder.release()
    expect(requests.first).to_contain_text("1 reply (1 late)", timeout=T)
    expect(requests.first.locator("li")).to_have_text(
        [re.compile(r"^late reply in \d+ ms \(after the 1 s timeout\): pong:slow$")])
    # The earlier requests kept their replies; the stray one stayed unmatched.
    expect(requests).to_have_count(4)
    expect(rr).to_contain_text("1 reply on a reply topic matched no request")
    assert responder.answered == 4
    responder.close()
    assert_clean(page)
