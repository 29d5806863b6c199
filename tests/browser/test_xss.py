"""Issue 6, XSS: topics, payloads, Last Will fields, client ids, filters and URLs
holding HTML or script render as text -- verbatim, with no element created from
them and no script run -- and the page stays clean under its CSP."""

import json

from playwright.sync_api import expect

from conftest import new_page
from dash import (CONNECTED, T, Publisher, assert_clean, button, connection_bar, edit_connection, open_dash, panel,
                  status, sub_row)

HOSTILE = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=2</script>",
    "javascript:window.__xss=3",
    "{{7*7}}",
    "<svg onload=window.__xss=4>",
    "\"><iframe src=javascript:window.__xss=5>",
]


# The page's own links: the jump links to its parts (same-document fragments).
JUMP_LINKS = ["#subscriptions", "#publish", "#request-response", "#keep", "#decoders", "#topics", "#panels"]


def assert_no_script_ran(page):
    assert page.evaluate("typeof window.__xss") == "undefined"
    jump = page.get_by_role("navigation", name="Parts of the page").locator("a[href]")
    assert [a.get_attribute("href") for a in jump.all()] == JUMP_LINKS
    assert page.locator("body img, body svg, body iframe, body a[href]").count() == len(JUMP_LINKS)
    # Only the loader's scripts (from files) exist; none was added from data.
    assert page.evaluate("[...document.scripts].every(s => s.src)")


def test_hostile_topics_payloads_and_will_render_as_literal_text(browser, page, site, mosquitto):
    filt = "xss/#"
    open_dash(page, site, broker=mosquitto.ws_url, subs=[filt, "<b>{{7*7}}</b>/+"], connect=True)
    expect(sub_row(page, "<b>{{7*7}}</b>/+")).to_contain_text("granted QoS 0", timeout=T)

    p = Publisher(mosquitto.tcp_port)
    topics = [f"xss/{i}/{h}" for i, h in enumerate(HOSTILE)]
    for topic, payload in zip(topics, HOSTILE):
        p.pub(topic, payload, qos=1)
    p.pub("xss/json", json.dumps({"html": HOSTILE[0], "n": 7}), qos=1)
    p.pub("<b>{{7*7}}</b>/x", HOSTILE[1], qos=1)

    # A Last Will full of markup, published by the broker when another page's
    # connection drops without DISCONNECT.
    other = new_page(browser)
    open_dash(other, site)
    other.get_by_label("Broker URL").fill(mosquitto.ws_url)
    other.get_by_label("Will topic").fill("xss/will/" + HOSTILE[0])
    other.get_by_label("Will payload").fill(HOSTILE[1] + HOSTILE[2])
    button(other, "Connect").click()
    expect(status(other)).to_have_text(CONNECTED, timeout=T)
    assert_clean(other)
    other.context.close()

    for topic, payload in zip(topics, HOSTILE):
        expect(panel(page, topic).locator("h3.topic")).to_have_text(topic, timeout=T)
        expect(panel(page, topic).locator("pre.payload")).to_have_text(payload)
    expect(panel(page, "xss/json").locator("pre.payload")).to_contain_text(json.dumps(HOSTILE[0]), timeout=T)
    expect(panel(page, "<b>{{7*7}}</b>/x").locator("pre.payload")).to_have_text(HOSTILE[1], timeout=T)
    will = "xss/will/" + HOSTILE[0]
    expect(panel(page, will).locator("pre.payload")).to_have_text(HOSTILE[1] + HOSTILE[2], timeout=T)
    # {{…}} is not evaluated by anything (the exact texts above would show 49).
    expect(page.locator("section.panels h3.group-heading code")).to_contain_text(["<b>{{7*7}}</b>/+"])
    # History rows and the chart legend are text too.
    panel(page, "xss/json").get_by_role("button", name="Open xss/json").click()
    detail = page.get_by_role("region", name="Detail of xss/json", exact=True)
    expect(detail.locator("ol.history-list .entry-preview").first).to_contain_text(HOSTILE[0][:40])
    expect(detail.locator("pre.payload.full")).to_contain_text(json.dumps(HOSTILE[0]))
    detail.get_by_role("button", name="Close detail").click()
    expect(panel(page, "xss/json").locator("ul.legend")).to_have_text("n 7")
    p.close()
    assert_no_script_ran(page)
    assert_clean(page)


def test_hostile_client_id_url_and_publish_log_render_as_text(page, site, mosquitto):
    client_id = "<img src=x onerror=window.__xss=9>"
    open_dash(page, site, broker=mosquitto.ws_url, client_id=client_id, connect=True)
    # Folded once connected: the bar shows the client id as text.
    expect(connection_bar(page).locator("code")).to_have_text([mosquitto.ws_url, client_id])
    assert_no_script_ran(page)
    edit_connection(page)
    expect(page.get_by_label("Client ID")).to_have_value(client_id)
    # A profile saved under a name full of markup is listed in the picker as text.
    page.get_by_label("Profile name").fill(client_id)
    button(page, "Save profile").click()
    expect(page.locator("p.profile-message")).to_have_text(f'saved profile "{client_id}"', timeout=T)
    page.reload()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)  # the link connects again
    edit_connection(page)
    expect(page.get_by_role("combobox", name="Profile", exact=True).locator("option").nth(1))\
        .to_have_text(client_id, timeout=T)

    # The publish log echoes the topic.
    f = page.get_by_role("region", name="Publish", exact=True)
    topic = "out/" + HOSTILE[1]
    f.get_by_label("Topic", exact=True).fill(topic)
    f.get_by_label("Payload", exact=True).fill(HOSTILE[0])
    button(page, "Publish").click()
    expect(page.get_by_role("list", name="Publish log").locator("li").first).to_contain_text(topic, timeout=T)

    # An error sentence quoting a hostile URL (shown as it is typed; Connect stays disabled).
    page.get_by_label("Broker URL").fill("ws://<b>bold<b>:1/mqtt")
    problem = page.locator("form.connection p.form-problem[role=alert]")
    expect(problem).to_contain_text('"<b>bold<b>" is not a valid host', timeout=T)
    expect(problem.locator("b")).to_have_count(0)
    expect(button(page, "Connect")).to_be_disabled()
    assert_no_script_ran(page)
    assert_clean(page)
