"""Exploring topics (commit e0dda72): the live topic tree (structure, counts,
retained marks, keyboard, filter, windowing), the panels of the node selected
(pins, pause, clear, subtree retained clear), a topic's detail (full history
with search, diff, copy, publish again), chart legends, the $SYS broker card,
themes, and an axe-core audit of the whole screen."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from brokers import ROOT, wait_until
from dash import (T, Publisher, assert_clean, button, open_dash, panel, publish_form, retained_messages,
                  scroll_to_bottom_until,
                  sub_row)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# A row's counts, with the rate the row appends while messages are recent.
RATE = r"( · \d+\.\d/s)?"


# ----- helpers ---------------------------------------------------------------

def tree(page: Page):
    return page.get_by_role("tree", name="Topics", exact=True)


def tree_row(page: Page, name: str):
    """The tree row named `name` (level names repeat across branches: use
    `.nth()` or a unique name)."""
    return tree(page).get_by_role("treeitem", name=name, exact=True)


def row_names(page: Page):
    """The names of the tree rows in the DOM, in order."""
    return tree(page).locator("li[role=treeitem] .node-name")


def tree_hint(page: Page):
    return page.locator("section.tree-pane p.hint")


def expand(page: Page, name: str):
    """Opens a tree row by its twisty (which does not select it)."""
    r = tree_row(page, name)
    expect(r).to_have_attribute("aria-expanded", "false")
    r.locator(".twisty").click()
    expect(r).to_have_attribute("aria-expanded", "true")


def panels_area(page: Page):
    return page.get_by_role("region", name="Panels", exact=True)


def shown_topics(page: Page):
    """The topic headings of the panels in the panel area, in order."""
    return panels_area(page).locator("article.panel h3.topic")


def compact(page: Page):
    """Compact cards (no charts), so the windowed panel area has every panel
    of a small test in the DOM at once."""
    page.get_by_label("Compact panels", exact=True).check()
    expect(panels_area(page).locator(".panel-scroll")).to_have_class(re.compile(r"\bcompact\b"))


def group_names(page: Page):
    """The subscription (or "Pinned") each group heading names, in order."""
    return panels_area(page).locator("h3.group-heading code")


def selection(page: Page):
    return panels_area(page).locator("h2.selection")


def active_row_is(page: Page, name: str, nth: int = 0):
    """The tree's aria-activedescendant names the row `name`."""
    r = tree_row(page, name).nth(nth)
    expect(r).to_have_count(1)
    row_id = r.get_attribute("id")
    assert row_id
    expect(tree(page)).to_have_attribute("aria-activedescendant", row_id)
    expect(r).to_have_class(re.compile(r"\bfocused\b"))


def detail(page: Page, topic: str):
    return page.get_by_role("region", name=f"Detail of {topic}", exact=True)


def open_detail(page: Page, topic: str):
    page.get_by_role("button", name=f"Open {topic}", exact=True).click()
    d = detail(page, topic)
    expect(d).to_be_visible()
    return d


def history_entries(d):
    return d.locator("ol.history-list button.entry")


def publish_all(port: int, messages, qos: int = 1, retain: bool = False):
    p = Publisher(port)
    try:
        for topic, payload in messages:
            p.pub(topic, payload, qos=qos, retain=retain)
    finally:
        p.close()


# ----- the tree --------------------------------------------------------------

def test_the_tree_shows_levels_with_counts_retained_marks_and_previews(page, site, broker):
    # One retained topic before the page subscribes: it arrives with the flag.
    publish_all(broker.tcp_port, [("farm/barn", "hay 12")], retain=True)
    open_dash(page, site, broker=broker.ws_url, subs=["home/#", "farm/#"], connect=True)
    publish_all(broker.tcp_port, [("home/kitchen/temp", "20"), ("home/kitchen/temp", "21"),
                                  ("home/kitchen/temp", "22"), ("home/kitchen/hum", "40"),
                                  ("home/garage/temp", "9"), ("home/garage/temp", "10")])

    root = tree_row(page, "All topics")
    expect(root.locator(".node-counts")).to_have_text(re.compile(rf"^4 topics · 7 msgs{RATE}$"), timeout=T)
    expect(tree_hint(page)).to_have_text("4 topics")
    expect(root).to_have_attribute("aria-expanded", "true")
    expect(root).to_have_attribute("aria-selected", "true")
    # The root is open, its children closed, in name order.
    expect(row_names(page)).to_have_text(["All topics", "farm", "home"])
    expect(tree_row(page, "home")).to_have_attribute("aria-expanded", "false")
    expect(tree_row(page, "home")).to_have_attribute("aria-selected", "false")
    expect(tree_row(page, "home").locator(".node-counts")).to_have_text(re.compile(rf"^3 topics · 6 msgs{RATE}$"))
    expect(tree_row(page, "farm").locator(".node-counts")).to_have_text(re.compile(rf"^1 topics? · 1 msgs?{RATE}$"))
    expect(tree_row(page, "farm").locator(".flag.retain")).to_have_text("1 retained")
    expect(root.locator(".flag.retain")).to_have_text("1 retained")
    expect(tree_row(page, "home").locator(".flag.retain")).to_have_count(0)

    expand(page, "home")
    expect(row_names(page)).to_have_text(["All topics", "farm", "home", "garage", "kitchen"])
    expect(tree_row(page, "kitchen").locator(".node-counts")).to_have_text(re.compile(rf"^2 topics · 4 msgs{RATE}$"))
    expect(tree_row(page, "garage").locator(".node-counts")).to_have_text(re.compile(rf"^1 topics? · 2 msgs{RATE}$"))
    expand(page, "kitchen")
    expand(page, "farm")
    expect(row_names(page)).to_have_text(["All topics", "farm", "barn", "home", "garage", "kitchen", "hum", "temp"])
    # Leaves: their own count, no twisty state, the last payload as a preview.
    temp = tree_row(page, "temp")
    expect(temp.locator(".node-counts")).to_have_text(re.compile(rf"^3 msgs{RATE}$"))
    expect(temp).not_to_have_attribute("aria-expanded", re.compile(".*"))
    expect(temp.locator(".node-preview")).to_have_text("22")
    expect(tree_row(page, "hum").locator(".node-preview")).to_have_text("40")
    barn = tree_row(page, "barn")
    expect(barn.locator(".flag.retain")).to_have_text("retained")
    expect(barn.locator(".node-preview")).to_have_text("hay 12")
    # Closing a node takes its rows away again.
    tree_row(page, "home").locator(".twisty").click()
    expect(row_names(page)).to_have_text(["All topics", "farm", "barn", "home"])
    # The twisty toggled without selecting.
    expect(tree_row(page, "home")).to_have_attribute("aria-selected", "false")
    expect(selection(page)).to_have_text("All topics · 4 topics")
    assert_clean(page)


def test_tree_items_carry_their_aria_level(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["lv/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("lv/one/two", "x")])
    expect(tree_row(page, "lv")).to_be_visible(timeout=T)
    expand(page, "lv")
    expand(page, "one")
    # The rows are drawn: their attributes are there now or never.
    expect(tree_row(page, "All topics")).to_have_attribute("aria-level", "1", timeout=10_000)
    expect(tree_row(page, "lv")).to_have_attribute("aria-level", "2")
    expect(tree_row(page, "one")).to_have_attribute("aria-level", "3")
    expect(tree_row(page, "two")).to_have_attribute("aria-level", "4")


def test_the_keyboard_moves_expands_finds_by_typing_and_selects_with_enter(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["#"], connect=True)
    publish_all(mosquitto.tcp_port, [("alpha/one", "1"), ("alpha/two", "2"), ("beta/x", "3"),
                                     ("bravo/y", "4"), ("bravo/z", "5"), ("charlie/w", "6")])
    expect(tree_hint(page)).to_have_text("6 topics", timeout=T)
    expect(row_names(page)).to_have_text(["All topics", "alpha", "beta", "bravo", "charlie"])
    t = tree(page)
    t.focus()
    active_row_is(page, "All topics")
    t.press("ArrowDown")
    active_row_is(page, "alpha")
    t.press("ArrowRight")  # expands, focus stays
    expect(tree_row(page, "alpha")).to_have_attribute("aria-expanded", "true")
    expect(row_names(page)).to_have_text(["All topics", "alpha", "one", "two", "beta", "bravo", "charlie"])
    active_row_is(page, "alpha")
    t.press("ArrowRight")  # already open: to the first child
    active_row_is(page, "one")
    t.press("ArrowDown")
    active_row_is(page, "two")
    t.press("ArrowLeft")  # a leaf: to its parent
    active_row_is(page, "alpha")
    t.press("ArrowLeft")  # open: closes
    expect(tree_row(page, "alpha")).to_have_attribute("aria-expanded", "false")
    expect(row_names(page)).to_have_text(["All topics", "alpha", "beta", "bravo", "charlie"])
    t.press("End")
    active_row_is(page, "charlie")
    t.press("Home")
    active_row_is(page, "All topics")
    t.press("ArrowUp")  # nothing above the first row
    active_row_is(page, "All topics")
    # Type-ahead: "br" typed quickly is one word and finds bravo (not beta,
    # which "b" alone would).
    page.keyboard.type("br")
    active_row_is(page, "bravo")
    # A word ends after 700 ms without a key (TYPEAHEAD_MS): wait that out on
    # purpose, then one letter goes to the next row starting with it, wrapping.
    page.wait_for_timeout(1_000)
    t.press("b")
    active_row_is(page, "beta")
    page.wait_for_timeout(1_000)
    t.press("b")
    active_row_is(page, "bravo")
    # Moving the focus selects nothing; Enter does.
    expect(tree_row(page, "All topics")).to_have_attribute("aria-selected", "true")
    expect(tree_row(page, "bravo")).to_have_attribute("aria-selected", "false")
    t.press("Enter")
    expect(tree_row(page, "bravo")).to_have_attribute("aria-selected", "true")
    expect(tree_row(page, "All topics")).to_have_attribute("aria-selected", "false")
    expect(selection(page)).to_have_text("bravo · 2 topics")
    expect(shown_topics(page)).to_have_text(["bravo/y", "bravo/z"])
    # Space selects too.
    t.press("Home")
    t.press("ArrowDown")
    active_row_is(page, "alpha")
    t.press(" ")
    expect(tree_row(page, "alpha")).to_have_attribute("aria-selected", "true")
    expect(shown_topics(page)).to_have_text(["alpha/one", "alpha/two"])
    expect(selection(page)).to_have_text("alpha · 2 topics")
    assert_clean(page)


def test_the_filter_narrows_the_tree_by_mqtt_wildcards_or_text_and_rejects_an_invalid_filter(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["#"], connect=True)
    publish_all(mosquitto.tcp_port, [("plant/line1/dev-1/temp", "1"), ("plant/line1/dev-2/temp", "2"),
                                     ("plant/line2/dev-1/temp", "3"), ("plant/line2/dev-1/hum", "4"),
                                     ("office/Dev-9/temp", "5")])
    expect(tree_hint(page)).to_have_text("5 topics", timeout=T)
    box = page.get_by_label("Filter topics")

    box.fill("plant/+/dev-1/#")
    # Everything that passes is shown open; dev-2 and office are gone.
    expect(row_names(page)).to_have_text(
        ["All topics", "plant", "line1", "dev-1", "temp", "line2", "dev-1", "hum", "temp"])
    expect(box).to_have_attribute("aria-invalid", "false")

    box.fill("+/+/+/hum")
    expect(row_names(page)).to_have_text(["All topics", "plant", "line2", "dev-1", "hum"])

    # Text: case-insensitive, anywhere in the topic.
    box.fill("DEV-9")
    expect(row_names(page)).to_have_text(["All topics", "office", "Dev-9", "temp"])
    box.fill("line1")
    expect(row_names(page)).to_have_text(["All topics", "plant", "line1", "dev-1", "temp", "dev-2", "temp"])
    box.fill("nothing-like-this")
    expect(row_names(page)).to_have_text(["All topics"])

    # An invalid MQTT filter: said so, marked invalid, the tree unfiltered.
    box.fill("plant/#/temp")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(tree_hint(page)).to_have_class(re.compile(r"\bbad\b"))
    expect(tree_hint(page)).not_to_have_text("5 topics")
    expect(tree_hint(page)).to_contain_text("#")
    expect(row_names(page)).to_have_text(["All topics", "office", "plant"])
    box.fill("pl+nt/#")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(tree_hint(page)).to_have_class(re.compile(r"\bbad\b"))

    box.fill("")
    expect(box).to_have_attribute("aria-invalid", "false")
    expect(tree_hint(page)).to_have_text("5 topics")
    expect(tree_hint(page)).not_to_have_class(re.compile(r"\bbad\b"))
    expect(row_names(page)).to_have_text(["All topics", "office", "plant"])
    assert_clean(page)


def test_selecting_a_node_shows_exactly_the_panels_of_its_subtree(page, site, devbroker):
    open_dash(page, site, broker=devbroker.ws_url, subs=["site/#", "other/#"], connect=True)
    publish_all(devbroker.tcp_port, [("site/a/1", "a1"), ("site/a/2", "a2"), ("site/b/1", "b1"),
                                     ("other/x", "x")])
    expect(tree_hint(page)).to_have_text("4 topics", timeout=T)
    compact(page)
    expect(shown_topics(page)).to_have_text(["site/a/1", "site/a/2", "site/b/1", "other/x"])
    headings = group_names(page)
    expect(headings).to_have_text(["site/#", "other/#"])
    expect(selection(page)).to_have_text("All topics · 4 topics")

    expand(page, "site")
    tree_row(page, "a").click()
    expect(tree_row(page, "a")).to_have_attribute("aria-selected", "true")
    expect(selection(page)).to_have_text("site/a · 2 topics")
    expect(shown_topics(page)).to_have_text(["site/a/1", "site/a/2"])
    expect(headings).to_have_text(["site/#"])
    expect(panel(page, "site/a/2").locator("pre.payload")).to_have_text("a2")

    tree_row(page, "site").click()
    expect(selection(page)).to_have_text("site · 3 topics")
    expect(shown_topics(page)).to_have_text(["site/a/1", "site/a/2", "site/b/1"])

    tree_row(page, "other").click()
    expect(shown_topics(page)).to_have_text(["other/x"])
    expect(headings).to_have_text(["other/#"])

    # A new topic under the selected node joins its panels; one elsewhere does not.
    publish_all(devbroker.tcp_port, [("other/y", "y"), ("site/b/2", "b2")])
    expect(shown_topics(page)).to_have_text(["other/x", "other/y"])
    expect(tree_hint(page)).to_have_text("6 topics")
    expect(shown_topics(page)).to_have_text(["other/x", "other/y"])

    tree_row(page, "All topics").click()
    expect(shown_topics(page)).to_have_text(["site/a/1", "site/a/2", "site/b/1", "site/b/2", "other/x", "other/y"])
    assert_clean(page)


def test_a_pinned_panel_stays_whatever_is_selected_and_outlives_its_subscription(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["pin/#", "misc/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("pin/keep", "kept"), ("pin/go", "gone"), ("misc/x", "x")])
    expect(tree_hint(page)).to_have_text("3 topics", timeout=T)
    compact(page)
    expect(shown_topics(page)).to_have_text(["pin/go", "pin/keep", "misc/x"])

    pin = page.get_by_role("button", name="Pin pin/keep", exact=True)
    expect(pin).to_have_text("Pin")
    expect(pin).to_have_attribute("aria-pressed", "false")
    pin.click()
    expect(pin).to_have_text("Unpin")
    expect(pin).to_have_attribute("aria-pressed", "true")
    headings = group_names(page)
    expect(headings).to_have_text(["Pinned", "pin/#", "misc/#"])
    expect(shown_topics(page)).to_have_text(["pin/keep", "pin/go", "misc/x"])

    # Another node selected: the pinned panel is still first.
    tree_row(page, "misc").click()
    expect(selection(page)).to_have_text(re.compile(r"^misc · 1 topics?$"))
    expect(shown_topics(page)).to_have_text(["pin/keep", "misc/x"])
    expect(headings).to_have_text(["Pinned", "misc/#"])

    # Removing pin/#: its unpinned panel and tree node leave, the pinned one stays.
    page.get_by_role("button", name="Remove pin/#", exact=True).click()
    expect(sub_row(page, "pin/#")).to_have_count(0)
    expect(panel(page, "pin/go")).to_have_count(0)
    expect(shown_topics(page)).to_have_text(["pin/keep", "misc/x"])
    expect(headings).to_have_text(["Pinned", "misc/#"])
    tree_row(page, "All topics").click()
    expect(shown_topics(page)).to_have_text(["pin/keep", "misc/x"])
    expect(tree_hint(page)).to_have_text("2 topics")
    expand(page, "pin")
    expect(row_names(page)).to_have_text(["All topics", "misc", "pin", "keep"])
    expect(panel(page, "pin/keep").locator("pre.payload")).to_have_text("kept")
    assert_clean(page)


def test_a_group_headings_count_follows_its_group(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["grp/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("grp/a", "1"), ("grp/b", "2")])
    expect(tree_hint(page)).to_have_text("2 topics", timeout=T)
    compact(page)
    headings = panels_area(page).locator("h3.group-heading")
    expect(headings).to_have_text(["grp/# 2 topics"])
    publish_all(mosquitto.tcp_port, [("grp/c", "3")])
    expect(shown_topics(page)).to_have_text(["grp/a", "grp/b", "grp/c"])
    # Drawn with grp/c's card: the count has no later frame to wait for.
    expect(headings).to_have_text(["grp/# 3 topics"], timeout=10_000)
    page.get_by_role("button", name="Pin grp/a", exact=True).click()
    expect(shown_topics(page)).to_have_text(["grp/a", "grp/b", "grp/c"])
    expect(headings).to_have_text(["Pinned 1 topic", "grp/# 2 topics"])


# ----- a topic's detail ------------------------------------------------------

def test_the_detail_keeps_the_full_history_searchable_and_scrollable_to_the_oldest(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["hist/#"], qos=1, connect=True)
    msgs = [("hist/t", f"alarm {i}" if i % 10 == 0 else f"reading {i}") for i in range(30)]
    publish_all(mosquitto.tcp_port, msgs, qos=1)
    expect(panel(page, "hist/t").locator(".count")).to_have_text("30 msgs", timeout=T)

    d = open_detail(page, "hist/t")
    heading = d.locator(".detail-history h3")
    expect(heading).to_have_text("History (30 kept, 0 dropped by caps)")
    entries = history_entries(d)
    # Newest first; windowed, so not all 30 are in the DOM.
    expect(entries.first.locator(".entry-label")).to_have_text(
        re.compile(r"^#29 · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} · QoS 1 · 10 bytes$"))
    expect(entries.first.locator(".entry-preview")).to_have_text("reading 29")
    expect(entries.first).to_have_attribute("aria-pressed", "true")
    assert 0 < entries.count() < 30, entries.count()
    expect(d.locator("pre.payload.full")).to_have_text("reading 29")

    search = d.get_by_label("Search payloads")
    search.fill("alarm")
    expect(heading).to_have_text("History (30 kept, 0 dropped by caps) · 3 match")
    expect(entries.locator(".entry-preview")).to_have_text(["alarm 20", "alarm 10", "alarm 0"])
    search.fill("reading 2")
    expect(heading).to_have_text(re.compile(r" · 10 match$"))  # reading 2, 21..29 minus alarm 20
    search.fill("no such payload")
    expect(heading).to_have_text(re.compile(r" · 0 match$"))
    expect(entries).to_have_count(0)
    search.fill("")
    expect(heading).to_have_text("History (30 kept, 0 dropped by caps)")

    # The oldest is reachable by scrolling the windowed list.
    expect(d.locator("ol.history-list").get_by_text("alarm 0", exact=True)).to_have_count(0)
    oldest = entries.filter(has_text=re.compile(r"^#0 · "))
    scroll_to_bottom_until(page, d.locator(".history-scroll"), oldest)
    expect(oldest).to_have_count(1)
    expect(oldest.locator(".entry-preview")).to_have_text("alarm 0")
    expect(entries.last.locator(".entry-label")).to_have_text(re.compile(r"^#0 · "))
    oldest.click()
    expect(oldest).to_have_attribute("aria-pressed", "true")
    expect(d.locator("pre.payload.full")).to_have_text("alarm 0")
    expect(d.locator("pre.diff")).to_have_text("No earlier message on this topic is kept.")

    d.get_by_role("button", name="Close detail", exact=True).click()
    expect(d).to_have_count(0)
    assert_clean(page)


def test_the_diff_of_json_messages_names_the_changed_field_only(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["diff/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("diff/t", json.dumps({"temp": 20, "hum": 40})),
                                     ("diff/t", json.dumps({"temp": 21, "hum": 40}))])
    expect(panel(page, "diff/t").locator(".count")).to_have_text("2 msgs", timeout=T)
    d = open_detail(page, "diff/t")
    diff = d.locator("pre.diff")
    lines = diff.locator("span")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("temp")
    expect(lines.first).to_contain_text("20 → 21")
    expect(lines.first).to_have_text("~ temp: 20 → 21\n")
    expect(lines.first).to_have_class("diff-changed")
    expect(diff).not_to_contain_text("hum")

    # Fields added and removed.
    publish_all(mosquitto.tcp_port, [("diff/t", json.dumps({"temp": 21, "wind": 3}))])
    expect(d.locator(".detail-history h3")).to_have_text("History (3 kept, 0 dropped by caps)")
    expect(lines).to_have_text(["- hum: 40\n", "+ wind: 3\n"])
    expect(diff).not_to_contain_text("temp")

    # The message picked is diffed against the one before it.
    history_entries(d).filter(has_text=re.compile(r"^#1 · ")).click()
    expect(lines).to_have_text(["~ temp: 20 → 21\n"])
    assert_clean(page)


def test_copy_topic_and_copy_payload_put_them_on_the_clipboard(page, site, mosquitto):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    open_dash(page, site, broker=mosquitto.ws_url, subs=["copy/#"], connect=True)
    payload = '{"name": "ünïcode ✓", "n": 7}'
    publish_all(mosquitto.tcp_port, [("copy/deep/topic", "older"), ("copy/deep/topic", payload)])
    expect(panel(page, "copy/deep/topic").locator(".count")).to_have_text("2 msgs", timeout=T)
    d = open_detail(page, "copy/deep/topic")
    d.get_by_role("button", name="Copy topic", exact=True).click()
    expect(d.locator("p.hint")).to_have_text("Topic copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "copy/deep/topic"
    d.get_by_role("button", name="Copy payload", exact=True).click()
    expect(d.locator("p.hint")).to_have_text("Payload copied.")
    assert page.evaluate("navigator.clipboard.readText()") == payload
    # The payload of the message picked, not the newest.
    history_entries(d).filter(has_text=re.compile(r"^#0 · ")).click()
    d.get_by_role("button", name="Copy payload", exact=True).click()
    wait_until("the older payload on the clipboard",
               lambda: page.evaluate("navigator.clipboard.readText()") == "older", timeout=30)
    assert_clean(page)


def test_publish_again_fills_the_publish_form(page, site, mosquitto):
    publish_all(mosquitto.tcp_port, [("again/cfg", '{"mode": "eco"}')], qos=1, retain=True)
    open_dash(page, site, broker=mosquitto.ws_url, subs=["again/#"], qos=1, connect=True)
    expect(panel(page, "again/cfg").locator(".count")).to_have_text(re.compile(r"^1 msgs?$"), timeout=T)
    d = open_detail(page, "again/cfg")
    expect(history_entries(d).first.locator(".entry-label")).to_have_text(
        re.compile(r"^#0 · .* · QoS 1 · retained · 15 bytes$"))
    f = publish_form(page)
    expect(f.get_by_label("Topic", exact=True)).to_have_value("")
    d.get_by_role("button", name="Publish again", exact=True).click()
    expect(d.locator("p.hint")).to_have_text("The publish form is filled in; check it and press Publish.")
    expect(f.get_by_label("Topic", exact=True)).to_have_value("again/cfg")
    expect(f.get_by_label("Payload", exact=True)).to_have_value('{"mode": "eco"}')
    expect(f.get_by_label("QoS")).to_have_value("1")
    expect(f.get_by_label("Retain", exact=True)).to_be_checked()
    assert_clean(page)


# ----- charts ----------------------------------------------------------------

def test_legend_entries_show_and_hide_their_series(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["chart/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("chart/env", json.dumps({"temp": 20 + i, "hum": 40 - i})) for i in range(3)])
    p = panel(page, "chart/env")
    expect(p.locator(".count")).to_have_text("3 msgs", timeout=T)
    temp = p.get_by_role("button", name="temp", exact=True)
    hum = p.get_by_role("button", name="hum", exact=True)
    expect(temp).to_have_attribute("aria-pressed", "true")
    expect(hum).to_have_attribute("aria-pressed", "true")
    expect(temp.locator(".series-value")).to_have_text("22")
    temp.click()
    expect(temp).to_have_attribute("aria-pressed", "false")
    expect(hum).to_have_attribute("aria-pressed", "true")
    hum.click()
    expect(hum).to_have_attribute("aria-pressed", "false")
    temp.click()
    expect(temp).to_have_attribute("aria-pressed", "true")
    expect(hum).to_have_attribute("aria-pressed", "false")
    expect(p.get_by_label("Chart window for chart/env", exact=True)).to_be_visible()
    assert_clean(page)


# ----- the stream controls ---------------------------------------------------

def test_pause_freezes_the_display_and_counts_what_arrives_until_resume(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["pause/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("pause/t", "old")])
    p = panel(page, "pause/t")
    expect(p.locator("pre.payload")).to_have_text("old", timeout=T)
    pause = button(page, "Pause display")
    pause.click()
    resume = button(page, "Resume display")
    expect(resume).to_have_attribute("aria-pressed", "true")
    paused = page.locator("p.paused")
    expect(paused).to_have_text("Display paused · 0 messages arrived since")

    publish_all(mosquitto.tcp_port, [("pause/t", f"new {i}") for i in range(5)] + [("pause/other", "x")])
    expect(paused).to_have_text("Display paused · 6 messages arrived since", timeout=T)
    expect(p.locator("pre.payload")).to_have_text("old")
    expect(p.locator(".count")).to_have_text(re.compile(r"^1 msgs?$"))
    expect(panel(page, "pause/other")).to_have_count(0)
    expect(tree_hint(page)).to_have_text(re.compile(r"^1 topics?$"))

    resume.click()
    expect(paused).to_have_count(0)
    expect(button(page, "Pause display")).to_have_attribute("aria-pressed", "false")
    expect(p.locator("pre.payload")).to_have_text("new 4")
    expect(p.locator(".count")).to_have_text("6 msgs")
    expect(panel(page, "pause/other").locator("pre.payload")).to_have_text("x")
    expect(tree_hint(page)).to_have_text("2 topics")
    assert_clean(page)


def test_clear_panels_empties_the_tree_and_new_messages_fill_it_again(page, site, devbroker):
    open_dash(page, site, broker=devbroker.ws_url, subs=["clr/#"], connect=True)
    publish_all(devbroker.tcp_port, [("clr/a", "1"), ("clr/b/c", "2"), ("clr/b/d", "3")])
    expect(tree_hint(page)).to_have_text("3 topics", timeout=T)
    expand(page, "clr")
    tree_row(page, "b").click()
    expect(selection(page)).to_have_text("clr/b · 2 topics")

    button(page, "Clear panels").click()
    expect(tree_hint(page)).to_have_text("0 topics")
    expect(shown_topics(page)).to_have_count(0)
    expect(row_names(page)).to_have_text(["All topics"])
    expect(selection(page)).to_have_text("All topics · 0 topics")
    expect(panels_area(page).locator("p.hint")).to_have_text("No topic here yet.")

    publish_all(devbroker.tcp_port, [("clr/b/c", "again")])
    expect(tree_hint(page)).to_have_text(re.compile(r"^1 topics?$"), timeout=T)
    expect(shown_topics(page)).to_have_text(["clr/b/c"])
    expect(panel(page, "clr/b/c").locator(".count")).to_have_text(re.compile(r"^1 msgs?$"))
    assert_clean(page)


def test_clear_retained_under_a_node_clears_exactly_its_retained_topics_at_the_broker(page, site, mosquitto):
    publish_all(mosquitto.tcp_port, [("keep/a", "1"), ("keep/b/c", "2"), ("keep/d", "3"), ("other/x", "4")],
                retain=True)
    open_dash(page, site, broker=mosquitto.ws_url, subs=["#"], connect=True)
    expect(tree_hint(page)).to_have_text("4 topics", timeout=T)
    expect(tree_row(page, "All topics").locator(".flag.retain")).to_have_text("4 retained")
    tree_row(page, "keep").click()
    expect(selection(page)).to_have_text("keep · 3 topics")
    clear = button(page, "Clear retained under keep (3)")
    clear.click()
    dialog = page.get_by_role("alertdialog", name="Confirm clearing retained messages")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Clear 3 retained messages under keep?")
    expect(dialog.locator("li code")).to_have_text(["keep/a", "keep/b/c", "keep/d"])
    # Cancel first: nothing happens.
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(page.locator("p.clear-result")).to_have_count(0)

    clear.click()
    dialog.get_by_role("button", name="Clear them", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(page.locator("p.clear-result")).to_have_text("Retained messages cleared: 3 of 3", timeout=T)
    expect(tree_row(page, "keep").locator(".flag.retain")).to_have_count(0)
    expect(tree_row(page, "other").locator(".flag.retain")).to_have_text("1 retained")
    expect(button(page, "Clear retained under keep (0)")).to_be_disabled()

    assert retained_messages(mosquitto.tcp_port, "keep/#") == []
    others = retained_messages(mosquitto.tcp_port, "other/#")
    assert [(t, p) for t, p, _, _ in others] == [("other/x", b"4")]
    assert_clean(page)


# ----- broker card, theme ----------------------------------------------------

def test_the_broker_card_shows_mosquittos_sys_figures(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["$SYS/#"], connect=True)
    card = page.get_by_role("region", name="Broker statistics", exact=True)
    # Mosquitto sends its retained $SYS topics at once and the rest every 10 s.
    expect(card).to_be_visible(timeout=60_000)
    version = card.locator("dt", has_text=re.compile(r"^Version$")).locator("xpath=following-sibling::dd[1]")
    expect(version).to_contain_text("mosquitto", timeout=60_000)
    clients = card.locator("dt", has_text=re.compile(r"^Clients connected$")).locator(
        "xpath=following-sibling::dd[1]")
    expect(clients).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=60_000)
    assert_clean(page)


def test_light_and_dark_themes_set_data_theme_and_change_the_background(page, site):
    open_dash(page, site)
    html = page.locator("html")
    theme = page.locator("label.theme").get_by_role("combobox")
    bg = lambda: page.evaluate("getComputedStyle(document.body).backgroundColor")  # noqa: E731
    theme.select_option("light")
    expect(html).to_have_attribute("data-theme", "light")
    light = bg()
    theme.select_option("dark")
    expect(html).to_have_attribute("data-theme", "dark")
    dark = bg()
    assert light != dark, (light, dark)
    # Kept across a reload.
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(theme).to_have_value("dark")
    theme.select_option("system")
    expect(html).not_to_have_attribute("data-theme", re.compile(".*"))
    assert_clean(page)


# ----- accessibility ---------------------------------------------------------

@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_axe_finds_no_violation_on_the_live_screen_with_the_tree_open_and_a_detail(page, site, mosquitto,
                                                                                    width, height):
    page.set_viewport_size({"width": width, "height": height})
    open_dash(page, site, broker=mosquitto.ws_url, subs=["lab/#"], connect=True)
    publish_all(mosquitto.tcp_port, [(f"lab/room{i}/env", json.dumps({"temp": 20 + i, "hum": 50 - i}))
                                     for i in range(3)] + [("lab/door", "7"), ("lab/door", "8")])
    expect(tree_hint(page)).to_have_text("4 topics", timeout=T)
    expand(page, "lab")
    expand(page, "room0")
    open_detail(page, "lab/door")
    expect(detail(page, "lab/door").locator("pre.diff")).to_have_text("~ (whole payload): 7 → 8\n")
    expect(panel(page, "lab/room0/env").locator("button.series")).to_have_count(2)
    page.evaluate(AXE.read_text())
    theme = page.locator("label.theme").get_by_role("combobox")
    found = {}
    for name in ["light", "dark"]:
        theme.select_option(name)
        expect(page.locator("html")).to_have_attribute("data-theme", name)
        found[name] = page.evaluate(
            "axe.run(document).then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)})))")
    assert found == {"light": [], "dark": []}, json.dumps(found, indent=1)
    assert_clean(page)


# ----- a big tree ------------------------------------------------------------

def test_thousands_of_topics_keep_a_bounded_number_of_tree_rows_in_the_dom(page, site, mosquitto):
    # Mosquitto's default max_queued_messages (1,000) would drop most of the
    # retained messages it sends the page at once on subscribing.
    mosquitto.stop()
    with open(mosquitto.conf, "a") as f:
        f.write("max_queued_messages 0\nmax_queued_bytes 100000000\n")
    mosquitto.start()
    groups, per = 30, 100
    p = Publisher(mosquitto.tcp_port)
    try:
        for i in range(groups * per):
            p.c.publish(f"fleet/g{i // per:02d}/dev-{i:04d}", str(i), qos=0, retain=True)
        # In order on one connection: once this one is acknowledged, the broker has them all.
        p.pub("fleet/zz/last", "end", qos=1, retain=True)
    finally:
        p.close()
    total = groups * per + 1
    open_dash(page, site, broker=mosquitto.ws_url, subs=["fleet/#"], connect=True)
    expect(tree_hint(page)).to_have_text(f"{total} topics", timeout=60_000)
    root = tree_row(page, "All topics")
    expect(root.locator(".node-counts")).to_have_text(re.compile(rf"^{total} topics · {total} msgs{RATE}$"))
    expect(root.locator(".flag.retain")).to_have_text(f"{total} retained")

    # Open everything from the keyboard: fleet, then each group from the last up.
    t = tree(page)
    t.focus()
    t.press("Home")
    t.press("ArrowDown")
    active_row_is(page, "fleet")
    t.press("ArrowRight")
    expect(tree_row(page, "fleet")).to_have_attribute("aria-expanded", "true")
    t.press("End")
    active_row_is(page, "zz")
    t.press("ArrowRight")
    expect(tree_row(page, "zz")).to_have_attribute("aria-expanded", "true")
    for g in reversed(range(groups)):
        t.press("ArrowUp")
        active_row_is(page, f"g{g:02d}")
        t.press("ArrowRight")
        expect(tree_row(page, f"g{g:02d}")).to_have_attribute("aria-expanded", "true")
    rows = 2 + (groups + 1) + total  # root, fleet, the groups and zz, the leaves
    expect(page.locator(".tree-spacer")).to_have_attribute("style", re.compile(rf"height: {rows * 30}px"))
    items = t.get_by_role("treeitem")
    assert 0 < items.count() <= 80, items.count()

    # The last leaf is reachable and shown; still only a window of rows.
    t.press("End")
    active_row_is(page, "last")
    expect(tree_row(page, "last")).to_be_in_viewport()
    assert 0 < items.count() <= 80, items.count()
    expect(tree_row(page, "All topics")).to_have_count(0)
    t.press("Home")
    active_row_is(page, "All topics")
    expect(tree_row(page, "dev-0000")).to_be_visible()
    assert 0 < items.count() <= 80, items.count()
    # Type-ahead among thousands: "d" goes to the next dev- row after the focus.
    t.press("d")
    active_row_is(page, "dev-0000")
    assert_clean(page)


def test_every_control_outside_the_per_topic_parts_has_a_unique_name(page, site, mosquitto):
    """Form controls and buttons of the page's fixed parts (connection, subscriptions,
    publish, tree, panel toolbar) are each named once; the per-topic parts (panels,
    charts, detail) name theirs after their topic."""
    open_dash(page, site, broker=mosquitto.ws_url, subs=["u/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("u/a", '{"t": 1}'), ("u/b", '{"t": 2}')])
    expect(panel(page, "u/b")).to_be_visible(timeout=T)
    page.get_by_role("button", name="Edit connection").click()
    names = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(el => !el.closest('article.panel, section.detail') && el.offsetParent !== null)
        .map(el => {
            const label = el.labels && el.labels[0];
            return (el.getAttribute('aria-label') || (label ? label.textContent : el.textContent)).trim();
        })""")
    assert names, "no controls found"
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert dupes == [], dupes
    assert "Publish QoS" in " ".join(names) and "Subscription QoS" in " ".join(names), names
    # Per-topic controls carry their topic.
    for topic in ["u/a", "u/b"]:
        expect(panel(page, topic).get_by_role("button", name=f"Open {topic}")).to_have_count(1)
        expect(panel(page, topic).get_by_role("combobox", name=f"Chart window for {topic}")).to_have_count(1)


def test_a_field_is_charted_across_the_topics_under_a_node_and_another_field_replaces_it(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["bld/#"], connect=True)
    publish_all(mosquitto.tcp_port, [("bld/r1", '{"temp": 20.5, "hum": 41}'),
                                     ("bld/r2", '{"temp": 22, "hum": 43}'),
                                     ("elsewhere/x", "1")])
    expect(panel(page, "bld/r2")).to_be_visible(timeout=T)
    tree_row(page, "bld").click()
    expect(selection(page)).to_have_text("bld · 2 topics")
    area = panels_area(page)
    area.get_by_label("Field to chart").select_option("temp")
    area.get_by_role("button", name="Chart field across topics").click()
    chart = area.get_by_role("img", name="Chart of temp of bld/…")
    expect(chart).to_be_visible(timeout=T)
    legend = area.locator(".field-chart button.series")
    expect(legend).to_have_count(2)
    expect(area.locator(".field-chart").get_by_role("button", name="bld/r1", exact=True)).to_contain_text("20.5")
    expect(area.locator(".field-chart").get_by_role("button", name="bld/r2", exact=True)).to_contain_text("22")
    # Another field: the chart is rebuilt for it, not left on the first one.
    area.get_by_label("Field to chart").select_option("hum")
    area.get_by_role("button", name="Chart field across topics").click()
    expect(area.get_by_role("img", name="Chart of hum of bld/…")).to_be_visible(timeout=T)
    expect(area.locator(".field-chart").get_by_role("button", name="bld/r1", exact=True)).to_contain_text("41")
    expect(area.get_by_role("img", name="Chart of temp of bld/…")).to_have_count(0)
    area.get_by_role("button", name="Close field chart").click()
    expect(area.locator(".field-chart")).to_have_count(0)
    assert_clean(page)
