"""Helpers shared by the dashboard's browser tests: opening the page, finding its
parts by their accessible names, and MQTT clients outside the browser (paho-mqtt,
as the seed articles use it)."""

import queue
import re
import threading
import time
import urllib.parse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Page, expect

# The status line once connected: it names the broker ("connected to ws://…").
CONNECTED = re.compile(r"^connected to ws")

# Generous enough for a loaded 2-core machine, short enough to fail fast.
T = 30_000

# Note: `page.wait_for_function("expression")` fails on this page once it has
# to poll ("EvalError: … violates the following Content Security Policy"):
# Playwright's poller runs the string through eval, which the CSP forbids (no
# 'unsafe-eval'). Wait with `expect(...)` locators or poll from Python.


def dash_url(site: str, broker: str | None = None, subs=(), qos: int | None = None,
             connect: bool = False, client_id: str | None = None) -> str:
    params = []
    if broker:
        params.append(("broker", broker))
    params += [("sub", s) for s in subs]
    if qos is not None:
        params.append(("qos", str(qos)))
    if client_id:
        params.append(("client_id", client_id))
    if connect:
        params.append(("connect", "1"))
    q = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="/+")
    return f"{site}/?{q}" if q else f"{site}/"


def open_dash(page: Page, site: str, **kw) -> Page:
    """Opens the page; with `connect`, waits until it is connected and the
    broker has answered every subscription of the link (granted or refused),
    so that what a test publishes next is not sent before the page
    subscribed."""
    page.goto(dash_url(site, **kw))
    expect(status(page)).not_to_have_text("", timeout=T)
    if kw.get("connect"):
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        for f in kw.get("subs", ()):
            exact = page.locator("code.filter", has_text=re.compile("^" + re.escape(f) + "$"))
            row = page.locator("li.sub").filter(has=exact)
            # A filter the link could not add has no row (the page says why).
            if row.count() > 0:
                expect(row).to_contain_text(re.compile(r"granted QoS|refused"), timeout=T)
    return page


def status(page: Page):
    return page.get_by_role("status")


def connection_bar(page: Page):
    """The folded connection: once connected, the form folds into this one-line
    bar ("Broker <url>", "Client id <id>", "Edit connection", "Disconnect")."""
    return page.get_by_role("group", name="Connection", exact=True)


def connection_form(page: Page):
    return page.locator("form.connection")


def edit_connection(page: Page):
    """Unfolds the connection form: clicks "Edit connection" when the folded bar
    is shown (connected), does nothing when the form is already open. While
    folded the form's fields and buttons are not in the DOM at all."""
    bar, form = connection_bar(page), connection_form(page)
    expect(bar.or_(form)).to_be_visible(timeout=T)
    if bar.is_visible():
        bar.get_by_role("button", name="Edit connection", exact=True).click()
    expect(form).to_be_visible(timeout=T)
    expect(bar).to_have_count(0)


def connect_with(page: Page, url: str, username: str = "", password: str = ""):
    """Fills the broker URL and credentials and clicks Connect."""
    page.get_by_label("Broker URL").fill(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    button(page, "Connect").click()


def fill_connection(page: Page, url: str, username: str = "", password: str = ""):
    """Fills the broker URL and credentials without connecting."""
    page.get_by_label("Broker URL").fill(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)


def form_problem(page: Page):
    """Why the connection form cannot be used as it is (Connect is disabled then)."""
    return page.locator("form.connection p.form-problem[role=alert]")


def error(page: Page):
    return page.locator("p.error[role=alert]")


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def panel(page: Page, topic: str):
    """The topic panel: `<article role=region>` named exactly by its topic."""
    return page.get_by_role("region", name=topic, exact=True)


def sub_row(page: Page, filt: str):
    return page.locator("li.sub").filter(has=page.locator("code.filter", has_text=filt))


def publish_log(page: Page):
    return page.get_by_role("list", name="Publish log")


def subscribe(page: Page, filt: str, qos: int = 0):
    page.get_by_label("Topic filter").fill(filt)
    page.locator("section.subscriptions").get_by_label("QoS").select_option(str(qos))
    button(page, "Subscribe").click()
    expect(sub_row(page, filt)).to_contain_text("granted QoS", timeout=T)


def assert_clean(page: Page):
    """No CSP violation reported, no console error (CSP violations are console
    errors too) and no uncaught exception."""
    if not page.is_closed():
        assert page.evaluate("window.__cspViolations") == [], "CSP violations"
    assert page.errors.console == [], page.errors.console
    assert page.errors.page == [], page.errors.page


def forget_websocket_failures(page: Page, url: str):
    """Chromium logs every WebSocket that fails to open as a console error
    ("WebSocket connection to 'URL' failed: ..."). While a test keeps a broker
    down or unreachable on purpose, those are expected: drop exactly those."""
    prefix = f"WebSocket connection to '{url}' failed"
    page.errors.console = [e for e in page.errors.console if not e.startswith(prefix)]


def _client(client_id: str, username=None, password=None) -> mqtt.Client:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=mqtt.MQTTv311)
    if username is not None:
        c.username_pw_set(username, password)
    return c


class Publisher:
    """A paho client that publishes and waits for each publish to complete."""

    def __init__(self, port: int, client_id: str = "paho-pub", **auth):
        self.c = _client(client_id, **auth)
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        deadline = time.monotonic() + 60
        while not self.c.is_connected():
            if time.monotonic() > deadline:
                raise RuntimeError("paho publisher did not connect")
            time.sleep(0.02)

    def pub(self, topic: str, payload, qos: int = 0, retain: bool = False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(60)
        assert info.is_published(), f"publish to {topic} did not complete"

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


class Subscriber:
    """A paho client subscribed to a filter; collects (topic, payload, qos, retain)."""

    def __init__(self, port: int, filt, qos: int = 2, client_id: str = "paho-sub"):
        """`filt` is one filter or a list of them (sent in one SUBSCRIBE, in order)."""
        filters = [(filt, qos)] if isinstance(filt, str) else [(f, qos) for f in filt]
        self.messages: "queue.Queue[tuple[str, bytes, int, bool]]" = queue.Queue()
        self._subscribed = threading.Event()
        self.c = _client(client_id)
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload), m.qos, bool(m.retain)))
        self.c.on_subscribe = lambda c, u, mid, rc, props: self._subscribed.set()
        self.c.on_connect = lambda c, u, flags, rc, props: c.subscribe(filters)
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        if not self._subscribed.wait(60):
            raise RuntimeError(f"paho subscriber did not get a SUBACK for {filt}")

    def get(self, timeout: float = 60.0):
        return self.messages.get(timeout=timeout)

    def nothing_within(self, seconds: float):
        try:
            m = self.messages.get(timeout=seconds)
        except queue.Empty:
            return None
        return m

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def dp_frame(kind: int, json_text: str) -> bytes:
    """OneNet `$dp` framing as the seed's build_payload: type byte, u16 BE length, JSON."""
    body = json_text.encode()
    return bytes([kind]) + len(body).to_bytes(2, "big") + body


def publish_form(page: Page):
    return page.get_by_role("region", name="Publish", exact=True)


def publish(page: Page, topic: str, payload: str, qos: int = 0, retain: bool = False, fmt: str = "text",
            click_timeout: float | None = None):
    """Fills the publish form and clicks Publish (fmt: text, json, hex, dp1, dp3).
    Publish is enabled only while connected: the click waits for that."""
    f = publish_form(page)
    f.get_by_label("Topic", exact=True).fill(topic)
    f.get_by_label("Payload format").select_option(fmt)
    f.get_by_label("QoS").select_option(str(qos))
    f.get_by_label("Retain", exact=True).set_checked(retain)
    f.get_by_label("Payload", exact=True).fill(payload)
    button(page, "Publish").click(timeout=click_timeout)


def retained_messages(port: int, filt: str) -> list:
    """What a brand-new subscriber to `filt` receives as retained messages.

    A retained sentinel published just before marks the end: the broker sends
    retained messages in the SUBSCRIBE's filter order. Everything is QoS 2 so
    the QoS 2 handshake cannot reorder a message after the sentinel."""
    p = Publisher(port, client_id="paho-sentinel")
    p.pub("zz/sentinel", "end", qos=2, retain=True)
    p.close()
    s = Subscriber(port, [filt, "zz/sentinel"], qos=2, client_id="paho-retained")
    got = []
    try:
        while (m := s.get())[0] != "zz/sentinel":
            got.append(m)
    finally:
        s.close()
    return got


# Headless Chromium under Playwright never hides a tab (and Playwright turns
# background throttling off), so this stands in for it on the main thread:
# document.visibilityState reads "hidden", timers set while hidden wait at least
# a minute (Chrome's intensive throttling of hidden tabs), and animation frames
# stop until the tab is shown again. Dedicated workers are left alone, as in
# Chrome.
HIDDEN_TAB = """
(() => {
  const st = window.setTimeout.bind(window), si = window.setInterval.bind(window);
  const raf = window.requestAnimationFrame.bind(window);
  let hidden = false;
  const frames = [];
  window.__throttled = 0;
  const clamp = (ms) => { if (!hidden) return ms; window.__throttled++; return Math.max(ms || 0, 60000); };
  window.setTimeout = (f, ms, ...a) => st(f, clamp(ms), ...a);
  window.setInterval = (f, ms, ...a) => si(f, clamp(ms), ...a);
  window.requestAnimationFrame = (cb) => { if (hidden) { frames.push(cb); return 0; } return raf(cb); };
  Object.defineProperty(document, 'visibilityState', { get: () => hidden ? 'hidden' : 'visible' });
  Object.defineProperty(document, 'hidden', { get: () => hidden });
  window.__setHidden = (h) => {
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
    if (!h) frames.splice(0).forEach((cb) => raf(cb));
  };
})();
"""


def scroll_to_bottom_until(page: Page, scroller, target, timeout_ms: int = T):
    """Scrolls the windowed list `scroller` to its bottom until `target` is in
    the DOM. A windowed list's height follows its rows a frame or more after
    they change, so scrolling once may stop short of a height still growing;
    this keeps scrolling (every 100 ms) and fails only when `target` never
    appears within the deadline."""
    deadline = time.monotonic() + timeout_ms / 1000
    while target.count() == 0 and time.monotonic() < deadline:
        scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(100)
    expect(target).not_to_have_count(0, timeout=1)

