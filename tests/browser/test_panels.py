"""Issue 4, per-topic panels: a large payload shown in part with its full size
and a way to see it all; the history capped by count with a visible count of
what the cap dropped; the search box filtering panels."""

import re

from playwright.sync_api import expect

from dash import T, Publisher, assert_clean, open_dash, panel


def test_large_payload_shows_part_with_its_size_and_show_all_shows_everything(page, site, broker):
    open_dash(page, site, broker=broker.ws_url, subs=["big/#"], connect=True)
    big = "".join(f"line {i:05d} of a large payload..\n" for i in range(3200))  # 102,400 bytes
    assert len(big) == 102_400
    blob = bytes(range(256)) * 400  # 102,400 bytes of binary
    p = Publisher(broker.tcp_port)
    p.pub("big/text", big, qos=1)
    p.pub("big/blob", blob, qos=1)
    p.close()

    t = panel(page, "big/text")
    expect(t.locator(".size")).to_have_text("102400 bytes", timeout=T)
    expect(t.locator("p.hint")).to_contain_text("showing part of 102400 bytes")
    shown = len(t.locator("pre.payload").inner_text())
    assert 1000 < shown < 10_000, shown
    assert big.startswith(t.locator("pre.payload").inner_text())
    t.get_by_role("button", name="Show all").click()
    expect(t.get_by_role("button", name="Show less")).to_be_visible()
    assert t.locator("pre.payload").inner_text().rstrip("\n") == big.rstrip("\n")
    t.get_by_role("button", name="Show less").click()
    expect(t.get_by_role("button", name="Show all")).to_be_visible()
    assert len(t.locator("pre.payload").inner_text()) == shown

    b = panel(page, "big/blob")
    expect(b.locator(".kind")).to_have_text("binary", timeout=T)
    expect(b.locator(".size")).to_have_text("102400 bytes")
    expect(b.locator("p.hint")).to_contain_text("showing part of 102400 bytes")
    b.get_by_role("button", name="Show all").click()
    lines = b.locator("pre.payload").inner_text().rstrip("\n").split("\n")
    assert len(lines) == 102_400 // 16
    assert lines[-1].startswith("00018ff0  f0 f1 f2")

    # A topic arriving in the same group must not rebuild the panels on
    # screen: "Show all" stays as the user left it.
    p = Publisher(broker.tcp_port)
    p.pub("big/later", "new topic", qos=1)
    p.close()
    expect(panel(page, "big/later").locator("pre.payload")).to_have_text("new topic", timeout=T)
    expect(b.get_by_role("button", name="Show less")).to_be_visible()
    assert len(b.locator("pre.payload").inner_text().rstrip("\n").split("\n")) == 102_400 // 16
    assert_clean(page)


def test_history_is_capped_with_a_visible_count_of_what_was_dropped(page, site, broker):
    open_dash(page, site, broker=broker.ws_url, subs=["hist/#"], connect=True)
    p = Publisher(broker.tcp_port)
    for i in range(230):
        p.pub("hist/counter", str(i), qos=1)
    p.close()
    h = panel(page, "hist/counter")
    expect(h.locator(".count")).to_have_text("230 msgs", timeout=T)
    history = h.get_by_role("button", name=re.compile(r"^History"))
    expect(history).to_have_text("History (200 kept, 30 dropped by caps)")
    expect(history).to_have_attribute("aria-expanded", "false")
    history.click()
    expect(history).to_have_attribute("aria-expanded", "true")
    rows = h.locator("ol.history-list li")
    expect(rows).to_have_count(20)  # the newest few are rendered, not all 200
    expect(h.locator(".history p.hint")).to_have_text("newest 20 shown")
    expect(rows.first.locator("pre")).to_have_text("229")
    expect(rows.nth(19).locator("pre")).to_have_text("210")
    expect(page.locator("p.stats")).to_contain_text("30 dropped by caps")
    # The chart keeps all 230 points; its legend shows the newest value.
    expect(h.locator("ul.legend")).to_have_text("value 229")
    assert_clean(page)


def test_search_box_filters_panels_by_topic(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["home/#", "farm/#"], connect=True)
    p = Publisher(mosquitto.tcp_port)
    for t in ["home/kitchen/temp", "home/kitchen/humidity", "home/garage/temp", "farm/barn/temp"]:
        p.pub(t, "1")
    p.close()
    panels = page.locator("article.panel h3.topic")
    expect(panels).to_have_count(4, timeout=T)
    search = page.get_by_label("Search topics")
    search.fill("temp")
    expect(panels).to_have_count(3)
    assert sorted(panels.all_inner_texts()) == ["farm/barn/temp", "home/garage/temp", "home/kitchen/temp"]
    search.fill("kitchen")
    expect(panels).to_have_count(2)
    assert sorted(panels.all_inner_texts()) == ["home/kitchen/humidity", "home/kitchen/temp"]
    expect(page.get_by_role("region", name="Topics matching farm/#")).to_have_count(0)
    search.fill("nothing-like-this")
    expect(panels).to_have_count(0)
    expect(page.locator("section.panels p.hint")).to_have_text('No topic contains "nothing-like-this".')
    search.fill("")
    expect(panels).to_have_count(4)
    expect(page.get_by_role("region", name="Topics matching farm/#")).to_be_visible()
    assert_clean(page)


def test_many_topics_render_a_bounded_number_of_panels_and_search_reaches_the_rest(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["fleet/#"], connect=True)
    p = Publisher(mosquitto.tcp_port)
    for i in range(75):
        p.pub(f"fleet/truck-{i:03d}/speed", str(i))
    p.close()
    expect(page.locator("p.stats")).to_contain_text("75 topics", timeout=T)
    expect(page.locator("article.panel")).to_have_count(60)
    expect(page.locator("section.group p.hint")).to_have_text(
        "15 more topics not shown; narrow the search to see them")
    page.get_by_label("Search topics").fill("truck-07")
    expect(page.locator("article.panel")).to_have_count(5)
    expect(panel(page, "fleet/truck-074/speed").locator("pre.payload")).to_have_text("74")
    expect(page.locator("section.group p.hint")).to_have_count(0)
    assert_clean(page)
