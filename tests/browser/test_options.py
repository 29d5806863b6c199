"""Issue 4, connection form: protocol 3.1 and 3.1.1, keepalive and Last Will
validated with a sentence (Connect disabled meanwhile), and the Last Will
published by the broker with its QoS and retain. Saved profiles are in
test_profiles.py."""

import re

from playwright.sync_api import expect

from conftest import new_page
from dash import (CONNECTED, T, Publisher, Subscriber, assert_clean, button, edit_connection, error, open_dash,
                  panel, retained_messages, status, sub_row)


def test_mqtt_31_and_311_both_connect_to_mosquitto(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["proto/#"])
    for version in ["3.1", "3.1.1"]:
        edit_connection(page)  # folded once connected (the second time round)
        page.get_by_label("Protocol").select_option(version)
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect(sub_row(page, "proto/#")).to_contain_text("granted QoS 0", timeout=T)
        p = Publisher(mosquitto.tcp_port)
        p.pub(f"proto/{version}", "hi")
        p.close()
        expect(panel(page, f"proto/{version}")).to_be_visible(timeout=T)
    # mosquitto logs the protocol level of each CONNECT: p1 is MQTT 3.1 (MQIsdp), p2 is 3.1.1.
    log = open(mosquitto.proc.log_path, errors="replace").read()
    assert re.search(r"New client connected from .* \(p1, c1, k60\)", log), log
    assert re.search(r"New client connected from .* \(p2, c1, k60\)", log), log
    assert_clean(page)


def test_bad_keepalive_and_will_are_refused_with_a_sentence(page, site, mosquitto):
    """A value that cannot be used is explained under the fields as it is
    typed, and Connect stays disabled until it is fixed."""
    open_dash(page, site)
    problem = page.locator("form.connection p.form-problem[role=alert]")
    connect = button(page, "Connect")
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    expect(problem).to_have_text("")
    expect(connect).to_be_enabled()
    page.get_by_label("Keep alive").fill("70000")
    expect(problem).to_have_text("Keep alive must be a whole number of seconds from 0 to 65535", timeout=T)
    expect(connect).to_be_disabled()
    page.get_by_label("Keep alive").fill("30")
    page.get_by_label("Will topic").fill("dash/+/will")
    expect(problem).to_have_text("Last Will topic: a topic to publish to cannot contain the wildcards + or #")
    expect(connect).to_be_disabled()
    page.get_by_label("Will topic").fill("")
    page.get_by_label("Password", exact=True).fill("x")
    expect(problem).to_have_text("MQTT 3.1.1 sends a password only together with a user name")
    expect(connect).to_be_disabled()
    page.get_by_label("Password", exact=True).fill("")
    expect(problem).to_have_text("")
    expect(status(page)).to_have_text("disconnected")
    connect.click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    # mosquitto logs the keepalive it was sent: the corrected 30 s.
    mosquitto.wait_for_log("(p2, c1, k30)")
    expect(error(page)).to_have_count(0)
    assert_clean(page)


def test_last_will_is_published_with_its_qos_and_retain_when_the_page_drops(browser, site, mosquitto):
    watcher = Subscriber(mosquitto.tcp_port, "dash/will/#", qos=2)
    page = new_page(browser)
    open_dash(page, site)
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    page.get_by_label("Will topic").fill("dash/will/alice")
    page.get_by_label("Will payload").fill("offline ✗")
    page.get_by_label("Will QoS").select_option("1")
    page.get_by_label("Will retain").check()
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    assert_clean(page)
    page.context.close()  # the socket goes away without an MQTT DISCONNECT
    assert watcher.get() == ("dash/will/alice", "offline ✗".encode(), 1, False)
    watcher.close()
    assert [m[:4] for m in retained_messages(mosquitto.tcp_port, "dash/will/#")] == \
        [("dash/will/alice", "offline ✗".encode(), 1, True)]
