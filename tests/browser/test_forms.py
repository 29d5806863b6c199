"""Issue 4 (subscriptions, profiles) and issue 6 (credentials): topic filters
validated as you type; subscribe and remove while connected; connection
profiles saved in localStorage without the password unless "Remember
password" is ticked, and picked up again on the next visit."""

import json

from playwright.sync_api import expect

from brokers import Mosquitto
from dash import CONNECTED, T, Publisher, assert_clean, button, open_dash, panel, status, sub_row, subscribe

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
    # After the UNSUBSCRIBE, nothing more arrives for it; the marker, published
    # afterwards on a filter still subscribed, shows the broker has moved on.
    p.pub("plant/a/temp", "2", qos=1)
    p.pub("marker/done", "m", qos=1)
    p.close()
    expect(panel(page, "marker/done")).to_be_visible(timeout=T)
    expect(page.locator("article.panel", has=page.locator("h3", has_text="plant/a/temp")).locator(".count"))\
        .to_have_text("1 msgs")
    assert_clean(page)


def stored_profiles(page):
    raw = page.evaluate("localStorage.getItem('mqdash.profiles')")
    assert raw, "no profile was saved"
    return raw, json.loads(raw)


def everything_stored(page) -> str:
    """All of localStorage and sessionStorage as one string."""
    return page.evaluate("""() => JSON.stringify([localStorage, sessionStorage].map(s =>
        Object.fromEntries(Object.keys(s).map(k => [k, s.getItem(k)]))))""")


def test_profile_is_saved_without_the_password_unless_remember_password_is_ticked(page, site):
    secret = "pa55-w0rd!-7f3a"
    m = Mosquitto(password=("alice", secret))
    try:
        open_dash(page, site)
        page.get_by_label("Broker URL").fill(m.ws_url)
        page.get_by_label("Client ID").fill("dash-alice")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password", exact=True).fill(secret)
        page.get_by_label("Will topic").fill("dash/alice/will")
        page.get_by_label("Will payload").fill("gone")
        subscribe_offline(page, "plant/#")
        expect(page.get_by_label("Remember password")).not_to_be_checked()
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect(sub_row(page, "plant/#")).to_contain_text("granted QoS 0", timeout=T)

        raw, store = stored_profiles(page)
        assert secret not in everything_stored(page)
        profile = only_profile(store, "dash-alice")
        assert profile["broker_url"] == m.ws_url
        assert profile["username"] == "alice"
        assert profile.get("password") is None
        assert profile["remember_password"] is False
        assert [s["filter"] for s in profile["subscriptions"]] == ["plant/#"]
        assert profile["last_will"]["topic"] == "dash/alice/will"

        # Next visit: the last used profile fills the form, without a password.
        page.reload()
        expect(page.get_by_label("Broker URL")).to_have_value(m.ws_url, timeout=T)
        expect(page.get_by_label("Client ID")).to_have_value("dash-alice")
        expect(page.get_by_label("Username")).to_have_value("alice")
        expect(page.get_by_label("Password", exact=True)).to_have_value("")
        expect(page.get_by_label("Will topic")).to_have_value("dash/alice/will")
        expect(page.locator("li.sub code.filter")).to_have_text(["plant/#"])
        expect(page.get_by_label("Profile").locator("option")).to_contain_text([f"dash-alice @ {m.ws_url}"])

        # Ticked: the password is stored, and comes back on the next visit.
        page.get_by_label("Password", exact=True).fill(secret)
        page.get_by_label("Remember password").check()
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        _, store = stored_profiles(page)
        profile = only_profile(store, "dash-alice")
        assert profile["password"] == secret and profile["remember_password"] is True
        page.reload()
        expect(page.get_by_label("Password", exact=True)).to_have_value(secret, timeout=T)
        expect(page.get_by_label("Remember password")).to_be_checked()

        # Unticked again: the stored password is gone.
        page.get_by_label("Remember password").uncheck()
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        assert secret not in everything_stored(page)
        assert only_profile(stored_profiles(page)[1], "dash-alice").get("password") is None
    finally:
        m.close()
    assert_clean(page)


def subscribe_offline(page, filt):
    """Adds a subscription before connecting: listed as waiting, sent on connect."""
    page.get_by_label("Topic filter").fill(filt)
    button(page, "Subscribe").click()
    expect(sub_row(page, filt)).to_contain_text("waiting for the broker")


def only_profile(store, client_id):
    found = [p for p in store["profiles"] if p["client_id"] == client_id]
    assert len(found) == 1, store
    return found[0]
