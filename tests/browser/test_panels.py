"""Per-topic panels on the tree screen: a large payload shown in part in its
card, in full in the topic's detail; the history capped by count with a
visible count of what the cap dropped, all of it reachable in the detail;
the tree's filter narrowing the panels; every panel of a subtree reachable
by scrolling the windowed panel area, with a bounded number in the DOM."""

import re

from playwright.sync_api import expect

from dash import T, Publisher, assert_clean, open_dash, panel, scroll_to_bottom_until


def open_detail(page, topic: str):
    panel(page, topic).get_by_role("button", name=f"Open {topic}").click()
    d = page.get_by_role("region", name=f"Detail of {topic}", exact=True)
    expect(d).to_be_visible(timeout=T)
    return d


def test_large_payload_shows_part_in_its_card_and_all_of_it_in_the_detail(page, site, broker):
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
    shown = t.locator("pre.payload").inner_text()
    assert 1000 < len(shown) < 10_000, len(shown)
    assert big.startswith(shown)

    d = open_detail(page, "big/text")
    expect(d.locator("p.hint").last).to_contain_text("showing part of 102400 bytes")
    d.get_by_role("button", name="Show all").click()
    expect(d.get_by_role("button", name="Show less")).to_be_visible()
    assert d.locator("pre.payload.full").inner_text().rstrip("\n") == big.rstrip("\n")
    d.get_by_role("button", name="Close detail").click()
    expect(d).to_have_count(0)

    b = panel(page, "big/blob")
    expect(b.locator(".kind")).to_have_text("binary", timeout=T)
    expect(b.locator(".size")).to_have_text("102400 bytes")
    d = open_detail(page, "big/blob")
    d.get_by_role("button", name="Show all").click()
    expect(d.get_by_role("button", name="Show less")).to_be_visible()
    lines = d.locator("pre.payload.full").inner_text().rstrip("\n").split("\n")
    assert len(lines) == 102_400 // 16
    assert lines[-1].startswith("00018ff0  f0 f1 f2")

    # A topic arriving meanwhile leaves the detail as the user left it.
    p = Publisher(broker.tcp_port)
    p.pub("big/later", "new topic", qos=1)
    p.close()
    expect(page.locator("p.stats")).to_contain_text("3 topics", timeout=T)
    expect(d.get_by_role("button", name="Show less")).to_be_visible()
    assert len(d.locator("pre.payload.full").inner_text().rstrip("\n").split("\n")) == 102_400 // 16
    assert_clean(page)


def test_history_is_capped_with_a_visible_count_and_all_of_it_is_in_the_detail(page, site, broker):
    open_dash(page, site, broker=broker.ws_url, subs=["hist/#"], connect=True)
    p = Publisher(broker.tcp_port)
    for i in range(230):
        p.pub("hist/counter", str(i), qos=1)
    p.close()
    h = panel(page, "hist/counter")
    expect(h.locator(".count")).to_have_text("230 msgs", timeout=T)
    expect(page.locator("p.stats")).to_contain_text("30 dropped by caps")
    # The chart keeps all 230 points; its legend shows the newest value.
    expect(h.locator("ul.legend")).to_have_text("value 229")

    d = open_detail(page, "hist/counter")
    expect(d.locator("h3").filter(has_text="History")).to_have_text("History (200 kept, 30 dropped by caps)")
    rows = d.locator("ol.history-list button.entry")
    expect(rows.first.locator(".entry-preview")).to_have_text("229")
    # Windowed: far fewer than 200 rows are in the DOM ...
    assert rows.count() < 60, rows.count()
    # ... and the oldest kept is reached by scrolling.
    oldest = rows.filter(has=page.locator(".entry-preview", has_text=re.compile(r"^30$")))
    scroll_to_bottom_until(page, d.locator(".history-scroll"), oldest)
    expect(rows.last.locator(".entry-preview")).to_have_text("30", timeout=T)
    expect(rows.last.locator(".entry-label")).to_contain_text("#30 · ")
    assert_clean(page)


def test_the_tree_filter_narrows_the_tree_and_the_panels(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["home/#", "farm/#"], connect=True)
    p = Publisher(mosquitto.tcp_port)
    for t in ["home/kitchen/temp", "home/kitchen/humidity", "home/garage/temp", "farm/barn/temp"]:
        p.pub(t, "1")
    p.close()
    panels = page.locator("article.panel h3.topic")
    expect(panels).to_have_count(4, timeout=T)
    search = page.get_by_label("Filter topics")
    search.fill("temp")
    expect(panels).to_have_count(3)
    assert sorted(panels.all_inner_texts()) == ["farm/barn/temp", "home/garage/temp", "home/kitchen/temp"]
    search.fill("home/+/temp")
    expect(panels).to_have_count(2)
    assert sorted(panels.all_inner_texts()) == ["home/garage/temp", "home/kitchen/temp"]
    tree = page.get_by_role("tree", name="Topics")
    expect(tree.get_by_role("treeitem", name="farm", exact=True)).to_have_count(0)
    expect(tree.get_by_role("treeitem", name="garage", exact=True)).to_be_visible()
    search.fill("nothing-like-this")
    expect(panels).to_have_count(0)
    expect(page.locator("section.panels p.hint")).to_have_text("No topic here yet.")
    search.fill("")
    expect(panels).to_have_count(4)
    assert_clean(page)


def test_every_panel_of_many_topics_is_reachable_by_scrolling_with_few_in_the_dom(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["fleet/#"], connect=True)
    p = Publisher(mosquitto.tcp_port)
    for i in range(75):
        p.pub(f"fleet/truck-{i:03d}/speed", str(i))
    p.close()
    expect(page.locator("p.stats")).to_contain_text("75 topics", timeout=T)
    expect(panel(page, "fleet/truck-000/speed")).to_be_visible(timeout=T)
    assert page.locator("article.panel").count() < 40, page.locator("article.panel").count()
    last = panel(page, "fleet/truck-074/speed").locator("pre.payload")
    scroll_to_bottom_until(page, page.locator(".panel-scroll"), last)
    expect(last).to_have_text("74", timeout=T)
    expect(panel(page, "fleet/truck-000/speed")).to_have_count(0)
    assert_clean(page)
