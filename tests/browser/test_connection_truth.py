"""The connection's truth, after the redesign where one supervisor owns the
connection's intent: the status line names the broker actually connected to;
the form is a draft (editing it, or picking a profile, changes nothing until
Connect); buttons are enabled only when they make sense; two tabs from one
link or profile stay side by side; a taken-over chosen client id stops
instead of kicking back; Copy link and link problems; grants read right.

Every wait is on an event (a locator state, a message received, a broker log
line); nothing sleeps and then asserts."""

import json
import queue
import re
import threading
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import expect

from brokers import Mosquitto, wait_until
from conftest import PageErrors, new_page
from dash import (T, Publisher, _client, assert_clean, button, dash_url, edit_connection, open_dash, panel, status,
                  subscribe)

# What mosquitto 2.0 logs when a CONNECT takes over a client id in use.
TAKEOVER_LOG = "already connected, closing old connection"


def connected_to(url: str) -> str:
    return f"connected to {url}"


def row(page, filt: str):
    """The subscription row whose filter is exactly `filt` (dash.sub_row
    matches a substring: "t/#" would also find "secret/#")."""
    exact = re.compile(f"^{re.escape(filt)}$")
    return page.locator("li.sub").filter(has=page.locator("code.filter", has_text=exact))


def filters(page):
    return page.locator("li.sub code.filter")


def grants(page):
    return page.locator("li.sub .grant")


def form_differs(page):
    return page.locator("p.form-differs")


def form_problem(page):
    return page.locator("p.form-problem[role=alert]")


def link_problems(page):
    return page.get_by_role("alert", name="Problems with the link")


def profile_picker(page):
    # The select's accessible name is exactly "Profile" ("Profile name" is the text field).
    return page.get_by_role("combobox", name="Profile", exact=True)


def profile_message(page):
    return page.locator("p.profile-message")


def client_id(page) -> str:
    return page.get_by_label("Client ID").input_value()


def logins(m: Mosquitto, cid: str) -> int:
    """Accepted MQTT connections as `cid` in mosquitto's log
    ("New client connected from 127.0.0.1:P as cid (p2, c1, k60).")."""
    return m.count_in_log(f" as {cid} (")


def save_profile(page, name: str):
    page.get_by_label("Profile name").fill(name)
    button(page, "Save profile").click()
    expect(profile_message(page)).to_have_text(f'saved profile "{name}"', timeout=T)


# 1 ---------------------------------------------------------------------------

def test_the_status_line_names_the_broker_actually_connected_to(page, site, broker):
    open_dash(page, site)
    page.get_by_label("Broker URL").fill(broker.ws_url)
    button(page, "Connect").click()
    expect(status(page)).to_have_text(connected_to(broker.ws_url), timeout=T)
    # Another path on the same host and port is another target, and the
    # status says which one (mosquitto's WebSocket listener serves any path;
    # the embedded broker only /mqtt, so the path is shown on mosquitto).
    if broker.kind == "mosquitto":
        other = f"ws://127.0.0.1:{broker.ws_port}/other/path"
        edit_connection(page)
        page.get_by_label("Broker URL").fill(other)
        button(page, "Connect").click()
        expect(status(page)).to_have_text(connected_to(other), timeout=T)
    assert_clean(page)


# 2 ---------------------------------------------------------------------------

def test_editing_the_form_while_connected_does_not_switch_until_connect_is_pressed(page, site, mosquitto):
    first = mosquitto
    second = Mosquitto()
    pubs = []
    try:
        open_dash(page, site, broker=first.ws_url, subs=["t/#"], qos=1, connect=True)
        expect(status(page)).to_have_text(connected_to(first.ws_url))
        expect(row(page, "t/#").locator(".grant")).to_have_text("granted QoS 1", timeout=T)
        edit_connection(page)
        cid = client_id(page)
        expect(button(page, "Connect")).to_be_disabled()
        expect(form_differs(page)).to_have_count(0)

        page.get_by_label("Broker URL").fill(second.ws_url)

        expect(form_differs(page)).to_have_text(
            "The form differs from the current connection; press Connect to switch to it. "
            "Until then the connection and its subscriptions stay as they are.", timeout=T)
        expect(button(page, "Connect")).to_be_enabled()
        expect(status(page)).to_have_text(connected_to(first.ws_url))
        expect(filters(page)).to_have_text(["t/#"])
        expect(row(page, "t/#").locator(".grant")).to_have_text("granted QoS 1")
        # Messages from the first broker still arrive.
        p1 = Publisher(first.tcp_port, client_id="paho-first")
        pubs.append(p1)
        p1.pub("t/while-editing", "from the first broker", qos=1)
        expect(panel(page, "t/while-editing").locator("pre.payload")).to_have_text("from the first broker",
                                                                                   timeout=T)
        # ... and the page did not go to the second one.
        assert logins(second, cid) == 0, second.log()
        expect(status(page)).to_have_text(connected_to(first.ws_url))

        button(page, "Connect").click()

        expect(status(page)).to_have_text(connected_to(second.ws_url), timeout=T)
        expect(filters(page)).to_have_text(["t/#"])
        expect(row(page, "t/#").locator(".grant")).to_have_text("granted QoS 1", timeout=T)
        edit_connection(page)  # connecting folded the form again
        expect(form_differs(page)).to_have_count(0)
        expect(button(page, "Connect")).to_be_disabled()
        # It left the first broker politely (DISCONNECT), and is on the second.
        first.wait_for_log(f"Client {cid} disconnected.")
        second.wait_for_log(f" as {cid} (")
        p2 = Publisher(second.tcp_port, client_id="paho-second")
        pubs.append(p2)
        p2.pub("t/on-second", "from the second broker", qos=1)
        expect(panel(page, "t/on-second").locator("pre.payload")).to_have_text("from the second broker",
                                                                              timeout=T)
    finally:
        for p in pubs:
            p.close()
        second.close()
    assert_clean(page)


# 3 ---------------------------------------------------------------------------

def test_picking_a_saved_profile_while_connected_waits_for_connect_then_brings_its_subscriptions(
        page, site, mosquitto):
    open_dash(page, site)
    # The profile: this broker, keep alive 30, subscribed to prof/# at QoS 1.
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    page.get_by_label("Keep alive").fill("30")
    page.get_by_label("Topic filter").fill("prof/#")
    page.locator("section.subscriptions").get_by_label("QoS").select_option("1")
    button(page, "Subscribe").click()
    expect(row(page, "prof/#").locator(".grant")).to_have_text("not connected", timeout=T)
    save_profile(page, "plant B")

    # Now connected with other settings and another subscription.
    button(page, "Remove prof/#").click()
    expect(filters(page)).to_have_count(0)
    page.get_by_label("Keep alive").fill("60")
    button(page, "Connect").click()
    expect(status(page)).to_have_text(connected_to(mosquitto.ws_url), timeout=T)
    subscribe(page, "t/#", 0)
    edit_connection(page)
    cid = client_id(page)

    profile_picker(page).select_option("plant B")

    expect(page.get_by_label("Keep alive")).to_have_value("30", timeout=T)  # the form is filled
    expect(profile_message(page)).to_contain_text('loaded profile "plant B" into the form')
    expect(form_differs(page)).to_be_visible()
    expect(button(page, "Connect")).to_be_enabled()
    expect(status(page)).to_have_text(connected_to(mosquitto.ws_url))
    expect(filters(page)).to_have_text(["t/#"])
    expect(row(page, "t/#").locator(".grant")).to_have_text("granted QoS 0")
    pub = Publisher(mosquitto.tcp_port, client_id="paho-profile")
    try:
        pub.pub("t/before", "still the old subscription", qos=1)
        expect(panel(page, "t/before").locator("pre.payload")).to_have_text("still the old subscription",
                                                                            timeout=T)
        assert mosquitto.count_in_log(f"Client {cid} disconnected.") == 0  # connection untouched

        button(page, "Connect").click()

        expect(filters(page)).to_have_text(["prof/#"], timeout=T)
        expect(row(page, "prof/#").locator(".qos")).to_have_text("QoS 1")
        expect(row(page, "prof/#").locator(".grant")).to_have_text("granted QoS 1", timeout=T)
        expect(status(page)).to_have_text(connected_to(mosquitto.ws_url))
        edit_connection(page)  # connecting folded the form again
        expect(form_differs(page)).to_have_count(0)
        expect(button(page, "Connect")).to_be_disabled()
        # The old filter is gone at the broker too: of two messages published
        # in order, only the profile's arrives (the broker keeps one
        # publisher's order, so t/after would have come first).
        pub.pub("t/after", "old filter", qos=1)
        pub.pub("prof/after", "profile filter", qos=1)
        expect(panel(page, "prof/after").locator("pre.payload")).to_have_text("profile filter", timeout=T)
        expect(panel(page, "t/after")).to_have_count(0)
    finally:
        pub.close()
    assert_clean(page)


# 4 ---------------------------------------------------------------------------

def test_connect_disconnect_and_publish_are_enabled_only_when_they_make_sense(page, site, mosquitto):
    open_dash(page, site)
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    # A valid topic to publish to: Publish is then disabled only for being disconnected.
    page.get_by_role("region", name="Publish", exact=True).get_by_label("Topic", exact=True).fill("dash/cmd")
    expect(status(page)).to_have_text("disconnected")
    expect(button(page, "Connect")).to_be_enabled()
    expect(button(page, "Disconnect")).to_be_disabled()
    expect(button(page, "Publish")).to_be_disabled()
    expect(form_problem(page)).to_have_text("")

    page.get_by_label("Keep alive").fill("70000")
    expect(form_problem(page)).to_have_text(
        "Keep alive must be a whole number of seconds from 0 to 65535", timeout=T)
    expect(button(page, "Connect")).to_be_disabled()
    page.get_by_label("Keep alive").fill("60")
    expect(form_problem(page)).to_have_text("")
    expect(button(page, "Connect")).to_be_enabled()

    button(page, "Connect").click()
    expect(status(page)).to_have_text(connected_to(mosquitto.ws_url), timeout=T)
    expect(button(page, "Disconnect")).to_be_enabled()  # the folded bar's
    edit_connection(page)
    expect(button(page, "Connect")).to_be_disabled()  # the form asks for the live connection
    expect(button(page, "Disconnect")).to_be_enabled()
    expect(button(page, "Publish")).to_be_enabled()
    # A change to the form makes Connect meaningful; undoing it does not.
    page.get_by_label("Keep alive").fill("30")
    expect(button(page, "Connect")).to_be_enabled()
    page.get_by_label("Keep alive").fill("60")
    expect(button(page, "Connect")).to_be_disabled()
    # An invalid form cannot be connected to, connected or not.
    page.get_by_label("Keep alive").fill("-1")
    expect(form_problem(page)).to_contain_text("Keep alive", timeout=T)
    expect(button(page, "Connect")).to_be_disabled()
    page.get_by_label("Keep alive").fill("60")

    button(page, "Disconnect").click()
    expect(status(page)).to_have_text("disconnected", timeout=T)
    expect(button(page, "Connect")).to_be_enabled()
    expect(button(page, "Disconnect")).to_be_disabled()
    expect(button(page, "Publish")).to_be_disabled()
    assert_clean(page)


# 5 ---------------------------------------------------------------------------

def _two_tabs_side_by_side(a, b, m: Mosquitto):
    """Both pages connected to `m` with different client ids, a message from
    paho reaches both, and the broker took no client id over."""
    for pg in (a, b):
        expect(status(pg)).to_have_text(connected_to(m.ws_url), timeout=T)
        expect(row(pg, "t/#").locator(".grant")).to_have_text("granted QoS 0", timeout=T)
        edit_connection(pg)
    ids = client_id(a), client_id(b)
    assert ids[0] != ids[1], ids
    for cid in ids:
        assert re.fullmatch(r"mqdash-[0-9a-f]+", cid), cid
        m.wait_for_log(f" as {cid} (")
    p = Publisher(m.tcp_port, client_id="paho-both")
    try:
        p.pub("t/both", "to both tabs", qos=1)
    finally:
        p.close()
    for pg in (a, b):
        expect(panel(pg, "t/both").locator("pre.payload")).to_have_text("to both tabs", timeout=T)
        expect(status(pg)).to_have_text(connected_to(m.ws_url))
    assert m.count_in_log(TAKEOVER_LOG) == 0, m.log()
    for cid in ids:
        assert logins(m, cid) == 1, m.log()


def test_two_tabs_opened_from_the_same_link_stay_connected_side_by_side(page, site, mosquitto):
    link = dash_url(site, broker=mosquitto.ws_url, subs=["t/#"], connect=True)
    second = page.context.new_page()  # same context: same localStorage
    second.errors = PageErrors(second)
    page.goto(link)
    second.goto(link)
    _two_tabs_side_by_side(page, second, mosquitto)
    assert_clean(page)
    assert_clean(second)


def test_two_tabs_loading_a_profile_saved_without_a_client_id_stay_connected_side_by_side(
        page, site, mosquitto):
    open_dash(page, site)
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    page.get_by_label("Topic filter").fill("t/#")
    button(page, "Subscribe").click()
    expect(filters(page)).to_have_text(["t/#"], timeout=T)
    save_profile(page, "shared")
    stored = json.loads(page.evaluate("localStorage.getItem('mqdash.profiles')"))
    assert [p["client_id"] for p in stored["profiles"]] == [""], stored

    second = page.context.new_page()  # same context: same localStorage
    second.errors = PageErrors(second)
    open_dash(second, site)
    for pg in (page, second):
        profile_picker(pg).select_option("shared")
        expect(profile_message(pg)).to_have_text('loaded profile "shared"', timeout=T)
        expect(pg.get_by_label("Broker URL")).to_have_value(mosquitto.ws_url)
        button(pg, "Connect").click()
    _two_tabs_side_by_side(page, second, mosquitto)
    assert_clean(page)
    assert_clean(second)


# 6 ---------------------------------------------------------------------------

class TakingClient:
    """A paho client with a chosen client id, reconnecting by itself as
    paho's loop_start does, subscribed (again after each connect) to `topic`.
    `ready()` holds once the current connection's SUBACK came."""

    def __init__(self, port: int, cid: str, topic: str):
        self.messages: "queue.Queue[tuple[str, bytes]]" = queue.Queue()
        self._lock = threading.Lock()
        self.connects = 0
        self.subscribed_on = -1
        self.c = _client(cid)
        sent: dict[int, int] = {}  # SUBSCRIBE packet id -> the connection it was sent on

        def on_connect(c, u, flags, rc, props):
            with self._lock:
                self.connects += 1
                n = self.connects
            _, mid = c.subscribe(topic, qos=1)
            with self._lock:
                sent[mid] = n

        def on_subscribe(c, u, mid, rcs, props):
            with self._lock:
                self.subscribed_on = sent.get(mid, -1)

        self.c.on_connect = on_connect
        self.c.on_subscribe = on_subscribe
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()

    def ready(self) -> bool:
        with self._lock:
            return self.c.is_connected() and self.subscribed_on == self.connects > 0

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def test_a_taken_over_chosen_client_id_stops_the_page_instead_of_kicking_back(page, site, mosquitto):
    cid = "dash-taken"
    open_dash(page, site, broker=mosquitto.ws_url, subs=["t/#"], client_id=cid, connect=True)
    expect(status(page)).to_have_text(connected_to(mosquitto.ws_url))
    assert logins(mosquitto, cid) == 1

    taker = TakingClient(mosquitto.tcp_port, cid, "paho/inbox")
    pub = None
    try:
        stopped = re.compile(r'^disconnected: .*another client is probably using the client id "dash-taken"')
        expect(status(page)).to_have_text(stopped, timeout=60_000)
        shown = status(page).inner_text()
        # paho holds the id now: it gets what is published to it.
        wait_until("paho connected and subscribed as dash-taken", taker.ready, timeout=30)
        pub = Publisher(mosquitto.tcp_port, client_id="paho-pub")
        pub.pub("paho/inbox", "first", qos=1)
        assert taker.messages.get(timeout=60) == ("paho/inbox", b"first")
        n = logins(mosquitto, cid)
        assert n <= 4, mosquitto.log()
        # One more round trip: nobody took the id again in between.
        pub.pub("paho/inbox", "second", qos=1)
        assert taker.messages.get(timeout=60) == ("paho/inbox", b"second")
        assert taker.c.is_connected()
        assert logins(mosquitto, cid) == n, mosquitto.log()
        expect(status(page)).to_have_text(shown)
        expect(row(page, "t/#").locator(".grant")).to_have_text("not connected")
        expect(button(page, "Connect")).to_be_enabled()  # to take the id back
    finally:
        taker.close()
        if pub:
            pub.close()
    assert_clean(page)


# 7 ---------------------------------------------------------------------------

def test_copy_link_gives_the_current_broker_and_subscriptions_and_opening_it_reproduces_them(
        page, site, browser, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    subscribe(page, "a/#", 1)
    subscribe(page, "b/+/c", 2)
    # The form may say something else: the link is of the live connection.
    edit_connection(page)
    page.get_by_label("Broker URL").fill("ws://127.0.0.1:1/elsewhere")

    button(page, "Copy link").click()
    shown = page.get_by_label("Shareable link")
    expect(shown).to_have_value(re.compile(r"connect=1"), timeout=T)
    link = shown.input_value()
    parsed = urllib.parse.urlsplit(link)
    assert f"{parsed.scheme}://{parsed.netloc}" == site and parsed.path == "/", link
    pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    assert pairs == [("broker", mosquitto.ws_url), ("sub", "a/#"), ("subqos", "1"),
                     ("sub", "b/+/c"), ("subqos", "2"), ("connect", "1")], link

    fresh = new_page(browser)
    try:
        fresh.goto(link)
        expect(status(fresh)).to_have_text(connected_to(mosquitto.ws_url), timeout=T)
        edit_connection(fresh)
        expect(fresh.get_by_label("Broker URL")).to_have_value(mosquitto.ws_url)
        expect(filters(fresh)).to_have_text(["a/#", "b/+/c"])
        expect(fresh.locator("li.sub .qos")).to_have_text(["QoS 1", "QoS 2"])
        expect(grants(fresh)).to_have_text(["granted QoS 1", "granted QoS 2"], timeout=T)
        assert_clean(fresh)
    finally:
        fresh.context.close()
    assert_clean(page)


# 8 ---------------------------------------------------------------------------

@pytest.mark.parametrize("connect", [True, False], ids=["with-connect", "without-connect"])
def test_a_links_invalid_subscription_is_explained_on_screen(page, site, mosquitto, connect):
    link = f"{site}/?broker={mosquitto.ws_url}&sub=good/%23&sub=bad/%23/x" + ("&connect=1" if connect else "")
    page.goto(link)
    problem = 'The link\'s subscription "bad/#/x" was not added: # must be the last level.'
    expect(link_problems(page)).to_contain_text(problem, timeout=T)
    expect(filters(page)).to_have_text(["good/#"])
    if connect:
        expect(status(page)).to_have_text(connected_to(mosquitto.ws_url), timeout=T)
        expect(row(page, "good/#").locator(".grant")).to_have_text("granted QoS 0", timeout=T)
        # Still explained once connected.
        expect(link_problems(page)).to_contain_text(problem)
    else:
        expect(status(page)).to_have_text("disconnected")
        expect(row(page, "good/#").locator(".grant")).to_have_text("not connected")
        expect(button(page, "Connect")).to_be_enabled()
    button(page, "Dismiss link problems").click()
    expect(link_problems(page)).to_have_count(0)
    assert_clean(page)


# 9 ---------------------------------------------------------------------------

class LimitedMosquitto(Mosquitto):
    """Mosquitto whose WebSocket listener grants at most QoS 1 (`max_qos 1`,
    a per-listener option: written after the WebSocket listener, the last
    one in the file) and which refuses subscriptions to `secret/#` with a
    SUBACK failure (0x80). mosquitto 2.0.11's acl_file does not refuse a
    SUBSCRIBE (it grants it and filters deliveries), its dynamic security
    plugin does."""

    PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"

    def __init__(self):
        if not Path(self.PLUGIN).exists():
            pytest.skip(f"{self.PLUGIN} is missing (Debian's mosquitto ships it)")
        super().__init__()

    def _write_conf(self) -> None:
        dynsec = Path(self.dir) / "dynamic-security.json"
        dynsec.write_text(json.dumps({
            "defaultACLAccess": {"publishClientSend": True, "publishClientReceive": True, "subscribe": True,
                                 "unsubscribe": True},
            "clients": [],
            "groups": [{"groupname": "anonymous", "roles": [{"rolename": "no-secrets"}]}],
            "roles": [{"rolename": "no-secrets", "acls": [
                {"acltype": "subscribePattern", "topic": "secret/#", "priority": 0, "allow": False}]}],
            "anonymousGroup": "anonymous",
        }))
        super()._write_conf()  # ends with the WebSocket listener's settings; chowns the directory
        with open(self.conf, "a") as f:
            f.write("max_qos 1\n"
                    f"plugin {self.PLUGIN}\n"
                    f"plugin_opt_config_file {dynsec}\n")


def test_grants_read_downgraded_refused_and_not_connected(page, site):
    m = LimitedMosquitto()
    try:
        open_dash(page, site, broker=m.ws_url, connect=True)
        subscribe(page, "t/#", 2)
        subscribe(page, "u/#", 1)
        page.get_by_label("Topic filter").fill("secret/#")
        page.locator("section.subscriptions").get_by_label("QoS").select_option("0")
        button(page, "Subscribe").click()
        connected_grants = ["downgraded: asked QoS 2, granted QoS 1", "granted QoS 1", "refused by the broker"]
        expect(filters(page)).to_have_text(["t/#", "u/#", "secret/#"], timeout=T)
        expect(grants(page)).to_have_text(connected_grants, timeout=T)
        expect(row(page, "t/#").locator(".grant")).to_have_class(re.compile(r"\bdowngraded\b"))
        expect(row(page, "secret/#").locator(".grant")).to_have_class(re.compile(r"\brefused\b"))

        button(page, "Disconnect").click()
        expect(status(page)).to_have_text("disconnected", timeout=T)
        expect(grants(page)).to_have_text(["not connected"] * 3)

        button(page, "Connect").click()
        expect(status(page)).to_have_text(connected_to(m.ws_url), timeout=T)
        expect(grants(page)).to_have_text(connected_grants, timeout=T)
        # Granted for real: a QoS 2 message arrives (at QoS 1, the grant).
        p = Publisher(m.tcp_port, client_id="paho-grants")
        try:
            p.pub("t/x", "after reconnecting", qos=2)
        finally:
            p.close()
        expect(panel(page, "t/x").locator("pre.payload")).to_have_text("after reconnecting", timeout=T)
    finally:
        m.close()
    assert_clean(page)
