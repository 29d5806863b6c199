"""Issue 4, connection form: protocol 3.1 and 3.1.1, keepalive and Last Will
validated with a sentence, the Last Will published by the broker with its QoS
and retain, and saved profiles picked again from the Profile list."""

import re

from playwright.sync_api import expect

from conftest import new_page
from dash import (CONNECTED, T, Publisher, Subscriber, assert_clean, button, error, open_dash, panel,
                  retained_messages, status, sub_row)


def test_mqtt_31_and_311_both_connect_to_mosquitto(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["proto/#"])
    for version in ["3.1", "3.1.1"]:
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
    open_dash(page, site)
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    page.get_by_label("Keep alive").fill("70000")
    button(page, "Connect").click()
    expect(error(page)).to_have_text("Keep alive must be a whole number of seconds from 0 to 65535", timeout=T)
    expect(status(page)).to_have_text("disconnected")
    page.get_by_label("Keep alive").fill("30")
    page.get_by_label("Will topic").fill("dash/+/will")
    button(page, "Connect").click()
    expect(error(page)).to_have_text("Last Will topic: a topic name cannot contain wildcards")
    expect(status(page)).to_have_text("disconnected")
    page.get_by_label("Password", exact=True).fill("x")
    page.get_by_label("Will topic").fill("")
    button(page, "Connect").click()
    expect(error(page)).to_have_text("MQTT 3.1.1 sends a password only together with a user name")
    page.get_by_label("Password", exact=True).fill("")
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
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


def save_profile(page, url, client_id, sub, will=""):
    """Fills the form, replaces the subscriptions and connects: the profile
    (named by client id and URL) follows the form and is saved on connect."""
    page.get_by_label("Broker URL").fill(url)
    page.get_by_label("Client ID").fill(client_id)
    page.get_by_label("Will topic").fill(will)
    for old in page.locator("li.sub code.filter").all_inner_texts():
        button(page, f"Remove {old}").click()
    page.get_by_label("Topic filter").fill(sub)
    button(page, "Subscribe").click()
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    expect(sub_row(page, sub)).to_contain_text("granted", timeout=T)


def test_picking_a_saved_profile_restores_its_form_and_subscriptions(page, site, mosquitto):
    open_dash(page, site)
    save_profile(page, mosquitto.ws_url, "dash-a", "a/#", will="dash/a/will")
    save_profile(page, mosquitto.ws_url, "dash-b", "b/#")
    button(page, "Disconnect").click()

    page.reload()
    picker = page.get_by_label("Profile")
    names = [f"dash-a @ {mosquitto.ws_url}", f"dash-b @ {mosquitto.ws_url}"]
    expect(picker.locator("option")).to_have_text(["(saved profiles)", *names], timeout=T)
    # The last used one is loaded.
    expect(page.get_by_label("Client ID")).to_have_value("dash-b")
    expect(page.locator("li.sub code.filter")).to_have_text(["b/#"])

    picker.select_option(names[0])
    expect(page.get_by_label("Client ID")).to_have_value("dash-a")
    expect(page.get_by_label("Will topic")).to_have_value("dash/a/will")
    expect(page.locator("li.sub code.filter")).to_have_text(["a/#"])

    # Back to b: a's Last Will and subscription do not leak into it.
    picker.select_option(names[1])
    expect(page.get_by_label("Client ID")).to_have_value("dash-b")
    expect(page.get_by_label("Will topic")).to_have_value("")
    expect(page.locator("li.sub code.filter")).to_have_text(["b/#"])
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    expect(sub_row(page, "b/#")).to_contain_text("granted QoS 0", timeout=T)

    # Picking while connected changes the broker's subscriptions too.
    picker.select_option(names[0])
    expect(sub_row(page, "a/#")).to_contain_text("granted QoS 0", timeout=T)
    p = Publisher(mosquitto.tcp_port)
    p.pub("b/x", "not wanted any more")
    p.pub("a/x", "wanted")
    p.close()
    expect(panel(page, "a/x")).to_be_visible(timeout=T)
    expect(panel(page, "b/x")).to_have_count(0)
    assert_clean(page)
