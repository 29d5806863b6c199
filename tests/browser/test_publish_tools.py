"""Issue 13, the publish half ("Keep, replay, repeat"): publish templates with
variables, saved across a reload and sent as their preview shows; a repeat at
50 msg/s for 100 messages delivering exactly 100 with the page's counters
agreeing; the offline queue (a QoS 1 publish made while the broker is down is
queued, shown, and delivered exactly once after the broker restarts; a
cancelled one never is; QoS 0 is refused). Every wait is on an event (a
message received, a text shown), with generous deadlines."""

import json
import queue
import re
import threading
import time
import uuid
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import expect

from brokers import PATIENCE, Mosquitto
from dash import (CONNECTED, HIDDEN_TAB, T, Publisher, Subscriber, assert_clean, button, forget_websocket_failures,
                  open_dash, publish, publish_form, status)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def alert(page):
    return publish_form(page).locator("p.hint[role=alert]")


def until_marker(sub, marker_topic: str, port: int) -> list:
    """Everything `sub` receives before a marker published now by another
    client (QoS 1, so it comes after whatever the broker already took)."""
    p = Publisher(port, client_id="paho-marker")
    p.pub(marker_topic, "m", qos=1)
    p.close()
    got = []
    while (m := sub.get())[0] != marker_topic:
        got.append(m)
    return got


def test_a_template_with_variables_survives_a_reload_and_sends_what_its_preview_shows(page, site, mosquitto):
    sub = Subscriber(mosquitto.tcp_port, ["tpl/#", "mark/#"], qos=1, client_id="paho-tpl")
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill("tpl/{{counter}}")
    f.get_by_label("Payload format").select_option("json")
    f.get_by_label("QoS").select_option("1")
    body = '{"n": {{counter}}, "at": "{{now}}", "ms": {{now_ms}}, "die": {{ random 1 6 }}, "id": "{{uuid}}"}'
    payload = f.get_by_label("Payload", exact=True)

    # A malformed or unknown variable is an error before anything is sent.
    payload.fill(body.replace("{{uuid}}", "{{uuid"))
    expect(alert(page)).to_have_text(
        re.compile(r"^Payload: \{\{ at character \d+ is not closed with \}\} \(write \{\{open\}\} for a literal \{\{\)$"))
    expect(button(page, "Publish")).to_be_disabled()
    payload.fill(body.replace("{{uuid}}", "{{guid}}"))
    expect(alert(page)).to_have_text(
        "Payload: unknown variable {{guid}} at character 87 (known: counter, now, now_ms, random MIN MAX, uuid, open)")
    expect(button(page, "Publish")).to_be_disabled()
    payload.fill(body.replace("{{ random 1 6 }}", "{{random 6 1}}"))
    expect(alert(page)).to_have_text(re.compile(r"^Payload: \{\{random 6 1\}\} at character \d+: MIN \(6\) is above MAX \(1\)$"))
    payload.fill(body)
    expect(alert(page)).to_have_text("")
    # The preview shows the message as it would go now.
    expect(f.locator("p.preview")).to_have_text(re.compile(
        r'^Preview \(the time and random values are drawn again when sent\): tpl/1 ← '
        r'\{"n": 1, "at": "\d{4}-\d\d-\d\dT[0-9:.]+Z", "ms": \d+, "die": [1-6], "id": "[0-9a-f-]{36}"\}$'))

    f.get_by_label("Template name").fill("reading")
    button(page, "Save template").click()
    expect(f.get_by_text('saved template "reading"')).to_be_visible()

    # Kept in the browser: after a reload the form is empty and the template is there.
    page.reload()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    f = publish_form(page)
    expect(f.get_by_label("Topic", exact=True)).to_have_value("")
    f.get_by_role("combobox", name="Template", exact=True).select_option("reading")
    expect(f.get_by_label("Topic", exact=True)).to_have_value("tpl/{{counter}}")
    expect(f.get_by_label("Payload", exact=True)).to_have_value(body)
    expect(f.get_by_label("Payload format")).to_have_value("json")
    expect(f.get_by_label("QoS")).to_have_value("1")

    ids = set()
    for n in (1, 2, 3):
        expect(f.get_by_label("Next counter")).to_have_value(str(n))
        started = time.time() * 1000
        button(page, "Publish").click()
        topic, raw, qos, _ = sub.get()
        assert (topic, qos) == (f"tpl/{n}", 1)
        d = json.loads(raw)
        assert d["n"] == n
        assert ISO.match(d["at"]), d["at"]
        # {{now}} and {{now_ms}} are one clock reading.
        assert round(datetime.fromisoformat(d["at"].replace("Z", "+00:00")).timestamp() * 1000) == d["ms"]
        assert started - 60_000 < d["ms"] < time.time() * 1000 + 60_000
        assert 1 <= d["die"] <= 6
        assert uuid.UUID(d["id"]).version == 4
        ids.add(d["id"])
    assert len(ids) == 3
    expect(f.get_by_label("Next counter")).to_have_value("4")
    assert until_marker(sub, "mark/tpl", mosquitto.tcp_port) == []

    # Rename and delete.
    f.get_by_label("Template name").fill("reading v2")
    button(page, "Rename template").click()
    expect(f.get_by_text('renamed template "reading" to "reading v2"')).to_be_visible()
    expect(f.get_by_role("combobox", name="Template", exact=True).locator("option")).to_have_text(["(saved templates)", "reading v2"])
    button(page, "Delete template").click()
    expect(f.get_by_text('deleted template "reading v2"')).to_be_visible()
    expect(f.get_by_role("combobox", name="Template", exact=True).locator("option")).to_have_text(["(saved templates)"])
    sub.close()
    assert_clean(page)


def counted_repeat(page, topic: str, every: str, count: str):
    """Fills the publish form for a QoS 1 repeat of `{{counter}}` on `topic`
    (not started); the form."""
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill(topic)
    f.get_by_label("QoS").select_option("1")
    f.get_by_label("Payload", exact=True).fill("{{counter}}")
    f.get_by_label("Repeat every (ms, or N/s)").fill(every)
    f.get_by_label("Repeat count (empty: until stopped)").fill(count)
    return f


def test_repeat_at_fifty_a_second_for_a_hundred_delivers_exactly_a_hundred_and_counts_them(page, site, mosquitto):
    sub = Subscriber(mosquitto.tcp_port, ["rep/#", "mark/#"], qos=1, client_id="paho-rep")
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    f = counted_repeat(page, "rep/seq", "50/s", "100")
    button(page, "Start repeat").click()
    got = [sub.get() for _ in range(100)]
    assert [(t, int(p), q) for t, p, q, _ in got] == [("rep/seq", n, 1) for n in range(1, 101)]
    counters = f.locator("p.repeat-counters")
    expect(counters).to_have_text("Repeat: 100 sent of 100, 100 acknowledged, 0 failed · done", timeout=T)
    expect(button(page, "Stop repeat")).to_be_disabled()
    assert until_marker(sub, "mark/rep", mosquitto.tcp_port) == []

    # Until stopped: what the page counts as sent is exactly what arrives.
    f.get_by_label("Topic", exact=True).fill("rep/open")
    f.get_by_label("Repeat every (ms, or N/s)").fill("20")
    f.get_by_label("Repeat count (empty: until stopped)").fill("")
    button(page, "Start repeat").click()
    for _ in range(5):
        assert sub.get()[0] == "rep/open"
    button(page, "Stop repeat").click()
    expect(counters).to_have_text(
        re.compile(r"^Repeat: (\d+) sent, \1 acknowledged, 0 failed · stopped$"), timeout=T)
    sent = int(re.match(r"Repeat: (\d+)", counters.inner_text()).group(1))
    rest = until_marker(sub, "mark/rep2", mosquitto.tcp_port)
    payloads = [int(p) for t, p, _, _ in rest if t == "rep/open"]
    assert 5 + len(payloads) == sent
    assert payloads == list(range(106, 101 + sent))
    sub.close()
    assert_clean(page)


def test_a_repeat_keeps_its_pace_while_the_tab_is_hidden(page, site, mosquitto):
    """A hidden tab's main-thread timers fire once a minute at most (HIDDEN_TAB
    clamps them so): a repeat every 100 ms must still send its ten messages
    in order, since its timer runs in a worker. Each is waited for 30 s, far
    below the clamp, so a main-thread timer would fail this at the second."""
    page.context.add_init_script(HIDDEN_TAB)
    sub = Subscriber(mosquitto.tcp_port, ["hid/#"], qos=1, client_id="paho-hidden-rep")
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    f = counted_repeat(page, "hid/seq", "100", "10")
    page.evaluate("window.__setHidden(true)")
    button(page, "Start repeat").click()
    got = [sub.get(timeout=30) for _ in range(10)]
    assert [(t, int(p)) for t, p, _, _ in got] == [("hid/seq", n) for n in range(1, 11)]
    page.evaluate("window.__setHidden(false)")
    expect(f.locator("p.repeat-counters")).to_have_text(
        "Repeat: 10 sent of 10, 10 acknowledged, 0 failed · done", timeout=T)
    sub.close()
    assert_clean(page)


class DurableSubscriber:
    """A paho client with a persistent session (clean session off, QoS 1), so
    that what the broker receives while this client is away, or while the
    broker itself restarts with persistence on, is kept for it. Reconnects
    by itself, every second or two."""

    def __init__(self, port: int, filters: list[str], client_id: str):
        self.messages: "queue.Queue[tuple[str, bytes]]" = queue.Queue()
        self._subscribed = threading.Event()
        self.c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv311, clean_session=False)
        self.c.reconnect_delay_set(1, 2)
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.c.on_subscribe = lambda c, u, mid, rc, props: self._subscribed.set()
        self.c.on_connect = lambda c, u, flags, rc, props: c.subscribe([(f, 1) for f in filters])
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        if not self._subscribed.wait(PATIENCE):
            raise RuntimeError("the durable paho subscriber got no SUBACK")

    def get(self):
        return self.messages.get(timeout=PATIENCE)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def test_a_qos1_publish_made_while_the_broker_is_down_is_queued_and_delivered_once_after_it_restarts(page, site):
    m = Mosquitto(persistence=True)
    sub = None
    try:
        sub = DurableSubscriber(m.tcp_port, ["queue/#", "mark/#"], client_id="paho-durable")
        open_dash(page, site, broker=m.ws_url, connect=True)
        f = publish_form(page)
        m.stop()
        expect(status(page)).to_have_text(re.compile(r"^reconnecting to "), timeout=T)
        expect(f.get_by_text("Not connected yet: QoS 1 and 2 publishes are queued")).to_be_visible()

        queued = page.get_by_role("list", name="Queued publishes")
        publish(page, "queue/kept", "kept once", qos=1)
        expect(alert(page)).to_have_text("not connected: queued as #1, sent when the connection is back")
        publish(page, "queue/cancelled", "never", qos=2)
        expect(alert(page)).to_have_text("not connected: queued as #2, sent when the connection is back")
        expect(queued.locator("li")).to_have_count(2)
        expect(queued.locator("li").nth(0)).to_contain_text("#1 queue/kept · QoS 1 · 9 bytes")
        expect(queued.locator("li").nth(1)).to_contain_text("#2 queue/cancelled · QoS 2 · 5 bytes")
        button(page, "Cancel queued publish #2").click()
        expect(queued.locator("li")).to_have_count(1)
        # QoS 0 is refused, not queued.
        publish(page, "queue/qos0", "lost", qos=0)
        expect(alert(page)).to_have_text(
            "not connected (reconnecting): a QoS 0 message is not queued; "
            "choose QoS 1 or 2 to queue it until the connection is back")
        expect(queued.locator("li")).to_have_count(1)

        m.start()
        deadline = time.monotonic() + PATIENCE
        while not status(page).inner_text().startswith("connected to "):
            assert time.monotonic() < deadline, "the page did not reconnect"
            again = button(page, "Reconnect now")
            if again.count() and again.is_enabled():
                again.click()
            time.sleep(0.1)
        expect(f.get_by_text(
            "Sent 1 queued publish when the connection came back: 1 acknowledged, 0 failed")).to_be_visible(timeout=T)
        expect(queued.locator("li")).to_have_count(0)
        assert sub.get() == ("queue/kept", b"kept once")
        p = Publisher(m.tcp_port, client_id="paho-marker")
        p.pub("mark/queue", "m", qos=1)
        p.close()
        rest = []
        while (msg := sub.get())[0] != "mark/queue":
            rest.append(msg)
        assert rest == [], "delivered twice, or a cancelled or QoS 0 publish was delivered"
        forget_websocket_failures(page, m.ws_url)
        assert_clean(page)
    finally:
        if sub:
            sub.close()
        m.close()


def test_templates_are_exported_and_imported_with_the_profiles(browser, page, site):
    from conftest import new_page
    open_dash(page, site)
    page.get_by_label("Profile name").fill("plant")
    button(page, "Save profile").click()
    profile_message = page.locator("p.profile-message")
    expect(profile_message).to_have_text('saved profile "plant"')
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill("plant/{{counter}}/set")
    f.get_by_label("Payload format").select_option("hex")
    f.get_by_label("QoS").select_option("2")
    f.get_by_label("Retain", exact=True).check()
    f.get_by_label("Payload", exact=True).fill("01 {{random 10 99}}")
    f.get_by_label("Template name").fill("setpoint")
    button(page, "Save template").click()
    expect(f.get_by_text('saved template "setpoint"')).to_be_visible()

    with page.expect_download(timeout=T) as dl:
        button(page, "Export profiles").click()
    text = open(dl.value.path(), encoding="utf-8").read()
    expect(profile_message).to_have_text(
        "exported 1 profiles and 1 publish templates to mqdash-profiles.json")
    data = json.loads(text)
    assert [p["name"] for p in data["profiles"]] == ["plant"]
    assert data["templates"] == [{"name": "setpoint", "topic": "plant/{{counter}}/set", "format": "hex",
                                  "payload": "01 {{random 10 99}}", "qos": 2, "retain": True}]

    other = new_page(browser)
    try:
        open_dash(other, site)
        other.get_by_label("Import profiles").set_input_files(
            files=[{"name": "mqdash-profiles.json", "mimeType": "application/json", "buffer": text.encode()}])
        expect(other.locator("p.profile-message")).to_have_text(
            "imported profiles: added plant; templates added setpoint")
        g = publish_form(other)
        g.get_by_role("combobox", name="Template", exact=True).select_option("setpoint")
        expect(g.get_by_label("Topic", exact=True)).to_have_value("plant/{{counter}}/set")
        expect(g.get_by_label("Payload", exact=True)).to_have_value("01 {{random 10 99}}")
        expect(g.get_by_label("Payload format")).to_have_value("hex")
        expect(g.get_by_label("QoS")).to_have_value("2")
        expect(g.get_by_label("Retain", exact=True)).to_be_checked()
        # An older file, without templates, still imports.
        old = {"format": "mqdash-profiles", "version": 1, "profiles": [{"name": "old"}]}
        other.get_by_label("Import profiles").set_input_files(
            files=[{"name": "old.json", "mimeType": "application/json", "buffer": json.dumps(old).encode()}])
        expect(other.locator("p.profile-message")).to_have_text("imported profiles: added old")
        expect(g.get_by_role("combobox", name="Template", exact=True).locator("option")).to_have_text(
            ["(saved templates)", "setpoint"])
        assert_clean(other)
    finally:
        other.context.close()
    assert_clean(page)
