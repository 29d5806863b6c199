"""Issue 4, Tests: the page publishes with each QoS, with and without retain, and
a subscriber outside the browser (paho-mqtt) receives exactly that; the publish
log shows each publish's outcome; the payload formats (JSON check, hex, OneNet
`$dp` type 1 and 3) produce exact bytes; "Clear retained" clears."""

import json
import os
import re
import signal

import pytest
from playwright.sync_api import expect

from dash import (T, Publisher, Subscriber, assert_clean, button, dp_frame, forget_websocket_failures,
                  open_dash, publish, publish_form, publish_log, retained_messages)

ACK = {1: r"acknowledged \(PUBACK\) in \d+ ms", 2: r"acknowledged \(PUBCOMP\) in \d+ ms"}


def newest_log_row(page):
    return publish_log(page).locator("li").first


@pytest.mark.parametrize("retain", [False, True], ids=["live", "retained"])
def test_page_publishes_each_qos_and_an_outside_subscriber_receives_exactly_that(page, site, broker, retain):
    live = Subscriber(broker.tcp_port, "out/#", qos=2, client_id="paho-live")
    open_dash(page, site, broker=broker.ws_url, connect=True)
    sent = {}
    for qos in (0, 1, 2):
        topic = f"out/q{qos}"
        payload = f"hello qos {qos} {'retained' if retain else 'live'} ✓"
        publish(page, topic, payload, qos=qos, retain=retain)
        row = newest_log_row(page)
        expect(row).to_contain_text(f"{topic} · QoS {qos}{' retained' if retain else ''} · "
                                    f"{len(payload.encode())} bytes", timeout=T)
        if qos == 0:
            expect(row.locator(".pub-state")).to_have_text("sent (QoS 0: no acknowledgement)")
        else:
            expect(row.locator(".pub-state")).to_have_text(re.compile(ACK[qos]), timeout=T)
        got = live.get()
        # A message forwarded to an existing subscription carries RETAIN 0 (MQTT
        # 3.1.1 §3.3.1.3). rumqttd delivers at the subscription's QoS (2 here)
        # instead of min(published, granted) -- a known rumqttd gap.
        delivered_qos = qos if broker.kind == "mosquitto" else 2
        assert got == (topic, payload.encode(), delivered_qos, False)
        sent[topic] = (payload.encode(), qos)
    expect(publish_log(page).locator("li")).to_have_count(3)
    assert live.nothing_within(0.3) is None, "a publish was delivered twice"
    live.close()

    # A new subscriber sees the retained ones, with RETAIN set and the QoS they were
    # published with (the new subscription asks for QoS 2) -- and nothing if not retained.
    # The sentinel, retained by paho after the page's publishes, marks the end of
    # the retained messages: the broker sends them in filter order.
    received = retained_messages(broker.tcp_port, "out/#")
    if retain:
        expected = {t: (b, q if broker.kind == "mosquitto" else 2, True) for t, (b, q) in sent.items()}
        assert {t: (b, q, r) for t, b, q, r in received} == expected
    else:
        assert received == []
    assert_clean(page)


def test_payload_formats_json_check_hex_and_onenet_dp_arrive_as_exact_bytes(page, site, mosquitto):
    sub = Subscriber(mosquitto.tcp_port, "fmt/#", qos=2)
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    hint = publish_form(page).locator("p.hint[role=alert]")

    # JSON is checked before sending: refused with a sentence, nothing published.
    publish(page, "fmt/json", '{"temp": 22.5,', qos=1, fmt="json")
    expect(hint).to_have_text(re.compile(r"^the payload is not valid JSON: .* at line 1, column \d+$"), timeout=T)
    expect(publish_log(page).locator("li")).to_have_count(0)
    publish(page, "fmt/json", '{"temp": 22.5, "ok": true}', qos=1, fmt="json")
    assert sub.get() == ("fmt/json", b'{"temp": 22.5, "ok": true}', 1, False)
    expect(hint).to_have_text("")

    publish(page, "fmt/hex", "0x01 02:ff,00 7f", qos=1, fmt="hex")
    assert sub.get() == ("fmt/hex", bytes([0x01, 0x02, 0xFF, 0x00, 0x7F]), 1, False)
    publish(page, "fmt/hex", "abc", qos=1, fmt="hex")
    expect(hint).to_contain_text("hex needs two digits per byte, but there are 3 digits", timeout=T)

    # $dp type 1 exactly as the seed's build_payload(0x01, json.dumps(body)).
    body = json.dumps({"datastreams": [{"id": "wendu", "datapoints": [{"at": "2016-08-15T14:47:00", "value": 55}]}]})
    publish(page, "$dp", body, qos=1, fmt="dp1")
    assert sub_get_topic(sub, mosquitto, "$dp") is None  # '#' does not match '$' topics
    dp_sub = Subscriber(mosquitto.tcp_port, "$dp", qos=1, client_id="paho-dp")
    publish(page, "$dp", body, qos=1, fmt="dp1")
    assert dp_sub.get() == ("$dp", dp_frame(0x01, body), 1, False)
    expect(newest_log_row(page).locator(".pub-state")).to_have_text(re.compile(ACK[1]), timeout=T)
    publish(page, "$dp", '{"temp": 22.1, "hum": 40}', qos=1, fmt="dp3")
    assert dp_sub.get() == ("$dp", dp_frame(0x03, '{"temp": 22.1, "hum": 40}'), 1, False)
    publish(page, "$dp", "[1, 2]", qos=1, fmt="dp3")
    expect(hint).to_contain_text("a $dp type 3 payload must be a JSON object", timeout=T)
    dp_sub.close()
    sub.close()
    assert_clean(page)


def sub_get_topic(sub, broker, topic):
    """Whatever `sub` got for `topic` by the time a marker published after it arrives."""
    marker = Publisher(broker.tcp_port, client_id="paho-marker")
    marker.pub("fmt/marker", "m", qos=1)
    marker.close()
    found = None
    while True:
        m = sub.get()
        if m[0] == "fmt/marker":
            return found
        if m[0] == topic:
            found = m


def test_publish_topic_with_a_wildcard_is_refused_as_you_type(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill("devices/+/cmd")
    expect(f.locator("p.hint[role=alert]")).to_have_text(
        "a topic to publish to cannot contain the wildcards + or #", timeout=T)
    expect(button(page, "Publish")).to_be_disabled()
    expect(button(page, "Clear retained")).to_be_disabled()
    expect(f.get_by_label("Topic", exact=True)).to_have_attribute("aria-invalid", "true")
    f.get_by_label("Topic", exact=True).fill("devices/#")
    expect(button(page, "Publish")).to_be_disabled()
    f.get_by_label("Topic", exact=True).fill("devices/d1/cmd")
    expect(button(page, "Publish")).to_be_enabled()
    expect(f.locator("p.hint[role=alert]")).to_have_text("")
    assert_clean(page)


def test_clear_retained_leaves_a_new_subscriber_nothing(page, site, broker):
    p = Publisher(broker.tcp_port)
    p.pub("plant/setpoint", "42", qos=1, retain=True)
    p.close()
    assert [m[:2] for m in retained_messages(broker.tcp_port, "plant/setpoint")] == [("plant/setpoint", b"42")]
    open_dash(page, site, broker=broker.ws_url, connect=True)
    publish_form(page).get_by_label("Topic", exact=True).fill("plant/setpoint")
    publish_form(page).get_by_label("QoS").select_option("1")
    button(page, "Clear retained").click()
    row = newest_log_row(page)
    expect(row).to_contain_text("plant/setpoint · QoS 1 retained · 0 bytes", timeout=T)
    expect(row.locator(".pub-state")).to_have_text(re.compile(ACK[1]), timeout=T)
    assert retained_messages(broker.tcp_port, "plant/setpoint") == []
    assert_clean(page)


def test_publish_log_shows_awaiting_then_acknowledged_or_failed(page, site, mosquitto):
    """Each publish shows its state until complete. A broker paused with SIGSTOP
    holds its acknowledgements; resumed, they arrive; killed, the publish fails
    with the reason."""
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    rows = publish_log(page).locator("li .pub-state")
    try:
        os.kill(mosquitto.proc.pid, signal.SIGSTOP)
        publish(page, "held/q1", "one", qos=1)
        publish(page, "held/q2", "two", qos=2)
        expect(rows).to_have_text(["sent, awaiting acknowledgement"] * 2, timeout=T)
        os.kill(mosquitto.proc.pid, signal.SIGCONT)
        expect(rows).to_have_text([re.compile(ACK[2]), re.compile(ACK[1])], timeout=T)

        os.kill(mosquitto.proc.pid, signal.SIGSTOP)
        publish(page, "lost/q1", "three", qos=1)
        expect(rows.first).to_have_text("sent, awaiting acknowledgement", timeout=T)
        os.kill(mosquitto.proc.pid, signal.SIGKILL)
        mosquitto.proc.wait()
        expect(rows.first).to_have_text("failed: the connection ended before the broker acknowledged it",
                                        timeout=T)
        expect(page.get_by_role("status")).to_have_text(re.compile(r"^reconnecting to \S+ in \d+ s: "), timeout=T)
    finally:
        if mosquitto.proc.poll() is None:
            os.kill(mosquitto.proc.pid, signal.SIGCONT)
    forget_websocket_failures(page, mosquitto.ws_url)  # reconnect attempts to the killed broker
    assert_clean(page)


DP1_NEEDS = 'type 1 needs {"datastreams":[{"id":…,"datapoints":[{"value":…}]}]}: '
DP3_NEEDS = 'type 3 needs a flat object of numbers, strings or booleans such as {"temp": 22.1}: '


def test_onenet_dp_payloads_of_the_wrong_shape_are_refused_and_nothing_is_published(page, site, mosquitto):
    """The $dp forms check the JSON's shape, not only that it parses: type 1
    must be the seed's datastreams document, type 3 a flat object. A refused
    payload leaves the publish log empty and reaches no subscriber; the first
    thing a subscriber gets is the valid one published after, framed as the
    seed's build_payload frames it."""
    dp_sub = Subscriber(mosquitto.tcp_port, "$dp", qos=1, client_id="paho-dp")
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    hint = publish_form(page).locator("p.hint[role=alert]")
    refused = [
        ("dp1", '{"temp": 22.5, "hum": 40}', DP1_NEEDS + 'there is no "datastreams"'),
        ("dp1", '{"datastreams": {"id": "wendu"}}', DP1_NEEDS + '"datastreams" is not a list'),
        ("dp1", '{"datastreams": [{"id": "wendu"}]}', DP1_NEEDS + 'datastreams[0] has no "datapoints"'),
        ("dp1", '{"datastreams": [{"id": "wendu", "datapoints": [{"at": "2016-08-15T14:47:00"}]}]}',
         DP1_NEEDS + 'datastreams[0].datapoints[0] has no "value"'),
        ("dp1", "[1, 2]", DP1_NEEDS + "the payload is not a JSON object"),
        ("dp3", '{"temp": {"value": 22.1}}', DP3_NEEDS + '"temp" holds an object'),
        ("dp3", '{"temp": 22.1, "history": [21.9, 22.0]}', DP3_NEEDS + '"history" holds a list'),
        ("dp3", '{}', DP3_NEEDS + "the object is empty"),
    ]
    for fmt, body, sentence in refused:
        publish(page, "$dp", body, qos=1, fmt=fmt)
        expect(hint, f"{fmt} {body}").to_have_text(sentence, timeout=T)
        expect(publish_log(page).locator("li")).to_have_count(0)

    body = json.dumps({"datastreams": [{"id": "wendu", "datapoints": [{"at": "2016-08-15T14:47:00", "value": 55}]}]})
    publish(page, "$dp", body, qos=1, fmt="dp1")
    expect(hint).to_have_text("", timeout=T)
    expect(newest_log_row(page).locator(".pub-state")).to_have_text(re.compile(ACK[1]), timeout=T)
    expect(publish_log(page).locator("li")).to_have_count(1)
    # The first (and only) message the subscriber got is the valid one: none of
    # the refused payloads went out before it on the page's connection.
    assert dp_sub.get() == ("$dp", dp_frame(0x01, body), 1, False)
    dp_sub.close()
    assert_clean(page)


def test_a_topic_filter_made_only_of_spaces_is_refused_in_the_subscribe_form(page, site):
    open_dash(page, site)
    box = page.get_by_label("Topic filter")
    hint = page.locator("section.subscriptions p.hint[role=alert]")
    for blank in [" ", "   ", "\t  "]:
        box.fill(blank)
        expect(hint).to_have_text("a topic filter cannot be only spaces")
        expect(button(page, "Subscribe")).to_be_disabled()
        expect(box).to_have_attribute("aria-invalid", "true")
    box.press("Enter")  # the form is not submitted with its button disabled
    # A filter with spaces and something else is fine; it is the only one added.
    box.fill(" a b/+/c ")
    expect(hint).to_have_text("")
    expect(button(page, "Subscribe")).to_be_enabled()
    button(page, "Subscribe").click()
    expect(page.locator("li.sub code.filter")).to_have_text([" a b/+/c "], timeout=T)
    assert page.locator("li.sub code.filter").text_content() == " a b/+/c "
    assert_clean(page)


def test_clear_retained_sends_the_empty_retained_message_with_the_chosen_qos(page, site, mosquitto):
    """A live subscriber at QoS 2 gets each message at the QoS it was
    published with (mosquitto delivers min(published, granted); a retained
    message sent to a NEW subscriber would come at min(retained, asked)
    instead, so the subscriber is live before the page clears)."""
    live = Subscriber(mosquitto.tcp_port, "plant/#", qos=2, client_id="paho-live")
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill("plant/setpoint")
    f.get_by_label("Payload", exact=True).fill("ignored by Clear retained")
    for qos in (1, 2, 0):
        f.get_by_label("QoS").select_option(str(qos))
        button(page, "Clear retained").click()
        row = newest_log_row(page)
        expect(row).to_contain_text(f"plant/setpoint · QoS {qos} retained · 0 bytes", timeout=T)
        if qos:
            expect(row.locator(".pub-state")).to_have_text(re.compile(ACK[qos]), timeout=T)
        # Forwarded to a live subscription, RETAIN reads 0 (MQTT 3.1.1 §3.3.1.3).
        assert live.get() == ("plant/setpoint", b"", qos, False)
    live.close()
    assert retained_messages(mosquitto.tcp_port, "plant/#") == []
    assert_clean(page)
