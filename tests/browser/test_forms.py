"""Issue 4, subscriptions: topic filters validated as you type; subscribe and
remove while connected. Connection profiles (issue 4) and the password kept
only with "Remember password" (issue 6) are in test_profiles.py."""

from playwright.sync_api import expect

from dash import T, Publisher, assert_clean, button, open_dash, panel, sub_row, subscribe

FILTER_REASONS = {
    "a/#/b": "# must be the last level",
    "a#": "# must be a whole level (write a/#, not a#)",
    "a/b#": "# must be a whole level (write a/#, not a#)",
    "a+/b": "+ must be a whole level (write a/+/b, not a+/b)",
}


def test_topic_filter_is_validated_as_you_type(page, site):
    open_dash(page, site)
    box = page.get_by_label("Topic filter")
    hint = page.locator("section.subscriptions p.hint[role=alert]")
    for filt, reason in FILTER_REASONS.items():
        box.fill(filt)
        expect(hint).to_have_text(reason)
        expect(button(page, "Subscribe")).to_be_disabled()
        expect(box).to_have_attribute("aria-invalid", "true")
    # Typing it character by character shows the reason as soon as it applies.
    box.fill("")
    box.press_sequentially("a/#/")
    expect(hint).to_have_text("# must be the last level")
    for ok in ["a/+/#", "#", "+", "sensors/+/temp", "$dp"]:
        box.fill(ok)
        expect(hint).to_have_text("")
        expect(button(page, "Subscribe")).to_be_enabled()
        expect(box).to_have_attribute("aria-invalid", "false")
    box.fill("")
    expect(button(page, "Subscribe")).to_be_disabled()
    assert_clean(page)


def test_subscribe_and_remove_while_connected(page, site, broker):
    open_dash(page, site, broker=broker.ws_url, connect=True)
    subscribe(page, "plant/+/temp", qos=1)
    subscribe(page, "marker/#", qos=0)
    expect(sub_row(page, "plant/+/temp")).to_contain_text("granted QoS 1")
    expect(page.get_by_label("Topic filter")).to_have_value("")
    p = Publisher(broker.tcp_port)
    p.pub("plant/a/temp", "1", qos=1)
    expect(panel(page, "plant/a/temp").locator(".count")).to_have_text("1 msgs", timeout=T)

    button(page, "Remove plant/+/temp").click()
    expect(sub_row(page, "plant/+/temp")).to_have_count(0)
    # Its panel leaves with it (it was not pinned), and the tree forgets it.
    expect(panel(page, "plant/a/temp")).to_have_count(0)
    tree = page.get_by_role("tree", name="Topics")
    expect(tree.get_by_role("treeitem", name="plant", exact=True)).to_have_count(0)
    # After the UNSUBSCRIBE, nothing more arrives for it; the marker, published
    # afterwards on a filter still subscribed, shows the broker has moved on.
    p.pub("plant/a/temp", "2", qos=1)
    p.pub("marker/done", "m", qos=1)
    p.close()
    expect(panel(page, "marker/done")).to_be_visible(timeout=T)
    expect(panel(page, "plant/a/temp")).to_have_count(0)
    expect(page.locator("p.stats")).to_contain_text("1 topics · 2 messages")
    assert_clean(page)
