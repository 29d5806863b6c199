"""Issue 4, Tests: the connection's life against real brokers -- refused
credentials (the broker's reason, no reconnect loop), a broker killed and
restarted (reconnecting, then live data with subscriptions restored), an
unreachable broker and a refused URL, and a shared link that prefills and
connects."""

import functools
import http.server
import re
import ssl
import subprocess
import threading
import time
from pathlib import Path

from playwright.sync_api import expect

from brokers import Mosquitto, free_port
from conftest import DIST, _Handler, new_page
from dash import (CONNECTED, HIDDEN_TAB, fill_connection, form_problem, T, Publisher, assert_clean, button, connect_with, error, forget_websocket_failures,
                  edit_connection, open_dash, panel, status, sub_row)


def refusals_logged(m: Mosquitto) -> int:
    """Refused WebSocket attempts: mosquitto logs each as "Client <unknown>
    closed its connection." once the refused client has gone."""
    return Path(m.proc.log_path).read_text(errors="replace").count("Client <unknown> closed its connection")


def wait_for_log_count(count, want: int, what: str, timeout: float = 30.0) -> int:
    """Waits until `count()` reaches `want` (the broker writes its log after
    the page has seen the outcome); returns the count then."""
    deadline = time.monotonic() + timeout
    while (n := count()) < want:
        assert time.monotonic() < deadline, f"{what}: {n} logged, expected {want}"
        time.sleep(0.05)
    return n


def test_refused_credentials_show_the_brokers_reason_and_do_not_reconnect(page, site):
    m = Mosquitto(password=("device-1", "s3cret"))
    try:
        open_dash(page, site)
        connect_with(page, m.ws_url, "device-1", "wrong")
        refused = re.compile(r"^disconnected: .*(bad user name or password|bad username or password|not authori[sz]ed)",
                             re.IGNORECASE)
        expect(status(page)).to_have_text(refused, timeout=T)
        expect(error(page)).to_have_text(re.compile("bad user ?name or password|not authori[sz]ed", re.I))
        expect(button(page, "Disconnect")).to_be_disabled()
        first = status(page).inner_text()
        assert wait_for_log_count(lambda: refusals_logged(m), 1, "refused attempts") == 1
        # Absence of a reconnect loop can only be shown over time: the first
        # automatic retry would come after about 1 s (backoff base), so 4 s
        # would see two or three of them.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert status(page).inner_text() == first
            time.sleep(0.25)
        assert refusals_logged(m) == 1, Path(m.proc.log_path).read_text()

        # No credentials at all: refused too, with a reason.
        connect_with(page, m.ws_url)
        expect(status(page)).to_have_text(refused, timeout=T)

        # The right password then connects.
        connect_with(page, m.ws_url, "device-1", "s3cret")
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect(error(page)).to_have_count(0)
    finally:
        m.close()
    assert_clean(page)


def test_broker_restart_shows_reconnecting_then_live_data_with_subscriptions_restored(page, site, broker):
    open_dash(page, site, broker=broker.ws_url, subs=["plant/#"], qos=1, connect=True)
    expect(sub_row(page, "plant/#")).to_contain_text("granted QoS 1", timeout=T)
    p = Publisher(broker.tcp_port)
    p.pub("plant/temp", "20.5", qos=1)
    p.close()
    expect(panel(page, "plant/temp").locator("pre.payload")).to_have_text("20.5", timeout=T)

    broker.stop()
    expect(status(page)).to_have_text(re.compile(r"^reconnecting to \S+ in \d+ s: "), timeout=T)
    broker.start()
    # Backoff is capped at 30 s; after one or two failed attempts the next is
    # within a few seconds.
    expect(status(page)).to_have_text(CONNECTED, timeout=40_000)
    # A fresh broker (no persistence) knows no session: the page must have
    # subscribed again for this to arrive.
    expect(sub_row(page, "plant/#")).to_contain_text("granted QoS 1", timeout=T)
    p = Publisher(broker.tcp_port, client_id="paho-after")
    p.pub("plant/temp", "21.75", qos=1)
    p.pub("plant/new", "after the restart", qos=1)
    p.close()
    expect(panel(page, "plant/temp").locator("pre.payload")).to_have_text("21.75", timeout=T)
    expect(panel(page, "plant/temp").locator(".count")).to_have_text("2 msgs")
    expect(panel(page, "plant/new").locator("pre.payload")).to_have_text("after the restart", timeout=T)
    forget_websocket_failures(page, broker.ws_url)  # attempts while the broker was down
    assert_clean(page)


def clients_connected(m: Mosquitto) -> int:
    """MQTT sessions mosquitto accepted (CONNECT seen), over either listener
    ("New connection from" is only logged for TCP connections)."""
    return Path(m.proc.log_path).read_text(errors="replace").count("New client connected")


def test_disconnect_stops_reconnecting(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, connect=True)
    mosquitto.stop()
    expect(status(page)).to_have_text(re.compile(r"^reconnecting to \S+ in \d+ s: "), timeout=T)
    button(page, "Disconnect").click()
    expect(status(page)).to_have_text("disconnected")
    before = clients_connected(mosquitto)  # the page's session before the stop
    mosquitto.start()
    time.sleep(3)  # longer than the first backoff delays: a live retry would show here
    assert clients_connected(mosquitto) == before
    expect(status(page)).to_have_text("disconnected")
    forget_websocket_failures(page, mosquitto.ws_url)  # attempts while the broker was down
    assert_clean(page)


def test_unreachable_broker_and_refused_urls_are_explained(page, site):
    open_dash(page, site)
    port = free_port()  # nothing listens there
    url = f"ws://127.0.0.1:{port}/mqtt"
    connect_with(page, url)
    reason = re.compile(rf"^reconnecting to \S+ in \d+ s: could not reach the broker at {re.escape(url)}")
    expect(status(page)).to_have_text(reason, timeout=T)
    button(page, "Disconnect").click()
    expect(status(page)).to_have_text("disconnected")

    # A URL the page cannot use: the reason is shown and Connect is not offered.
    fill_connection(page, "mqtt://127.0.0.1:1883")
    expect(form_problem(page)).to_contain_text("ws:// or wss://", timeout=T)
    expect(button(page, "Connect")).to_be_disabled()
    expect(status(page)).to_have_text("disconnected")
    fill_connection(page, "ws://")
    expect(form_problem(page)).to_have_text(re.compile("host"), timeout=T)
    expect(button(page, "Connect")).to_be_disabled()
    expect(status(page)).to_have_text("disconnected")
    fill_connection(page, url)
    expect(form_problem(page)).to_have_text("")
    expect(button(page, "Connect")).to_be_enabled()
    forget_websocket_failures(page, url)
    assert_clean(page)


def test_wrong_path_on_the_embedded_broker_is_explained(page, site, devbroker):
    open_dash(page, site)
    url = f"ws://127.0.0.1:{devbroker.ws_port}/not-mqtt"
    connect_with(page, url)
    expect(status(page)).to_have_text(
        re.compile(rf"could not reach the broker at {re.escape(url)} .*wrong path"), timeout=T)
    forget_websocket_failures(page, url)
    assert_clean(page)


def test_shared_link_prefills_and_connects_with_both_subscriptions_granted(page, site, broker):
    page.goto(f"{site}/?broker={broker.ws_url}&sub=a/%23&sub=b/%2B/c&connect=1")
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    edit_connection(page)
    expect(page.get_by_label("Broker URL")).to_have_value(broker.ws_url)
    expect(page.locator("li.sub code.filter")).to_have_text(["a/#", "b/+/c"])
    expect(sub_row(page, "a/#")).to_contain_text("granted QoS 0", timeout=T)
    expect(sub_row(page, "b/+/c")).to_contain_text("granted QoS 0", timeout=T)
    p = Publisher(broker.tcp_port)
    p.pub("b/x/c", "via b/+/c")
    p.pub("a/deep/er", "via a/#")
    p.close()
    expect(page.get_by_role("group", name="Topics matching b/+/c").get_by_role("region", name="b/x/c"))\
        .to_be_visible(timeout=T)
    expect(page.get_by_role("group", name="Topics matching a/#").get_by_role("region", name="a/deep/er"))\
        .to_be_visible(timeout=T)
    expect(sub_row(page, "b/+/c")).to_contain_text("1 msgs")
    assert_clean(page)


def test_ws_url_from_an_https_page_is_refused_with_a_sentence(browser, tmp_path):
    """Browsers block ws:// (to anything but loopback) from an https page; the
    page says so instead of failing silently. dist/ is served over https with
    a throwaway self-signed certificate."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(DIST)))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = new_page(browser, ignore_https_errors=True)
    try:
        page.goto(f"https://127.0.0.1:{server.server_address[1]}/")
        expect(status(page)).to_have_text("disconnected", timeout=T)
        fill_connection(page, "ws://broker.example:9001/mqtt")
        expect(form_problem(page)).to_have_text(
            "this page is served over https, so the browser will block ws://; use wss://", timeout=T)
        expect(button(page, "Connect")).to_be_disabled()
        expect(status(page)).to_have_text("disconnected")
        assert_clean(page)
    finally:
        page.context.close()
        server.shutdown()


def test_publish_while_disconnected_is_not_offered_and_says_so(page, site):
    open_dash(page, site)
    f = page.get_by_role("region", name="Publish", exact=True)
    f.get_by_label("Topic", exact=True).fill("devices/d1/cmd")
    expect(button(page, "Publish")).to_be_disabled()
    expect(button(page, "Clear retained")).to_be_disabled()
    expect(f.get_by_text("Connect to publish.")).to_be_visible()
    expect(page.get_by_role("list", name="Publish log").locator("li")).to_have_count(0)
    assert_clean(page)


def test_keepalive_holds_the_connection_while_the_tab_is_hidden(page, site, mosquitto):
    """Keep alive 2 s: mosquitto drops a client silent for 1.5 x 2 s. Hidden (as
    simulated above) for 8 s, the page's PINGREQs still go out."""
    page.context.add_init_script(HIDDEN_TAB)
    open_dash(page, site, broker=mosquitto.ws_url, subs=["bg/#"])
    page.get_by_label("Keep alive").fill("2")
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    page.evaluate("window.__setHidden(true)")
    time.sleep(8)  # four keepalive periods: what is observed is the broker's log
    log = Path(mosquitto.proc.log_path).read_text(errors="replace")
    assert "exceeded timeout" not in log, log
    assert clients_connected(mosquitto) == 1, log
    p = Publisher(mosquitto.tcp_port)
    p.pub("bg/x", "still here", qos=1)
    p.close()
    page.evaluate("window.__setHidden(false)")
    expect(panel(page, "bg/x").locator("pre.payload")).to_have_text("still here", timeout=T)
    expect(status(page)).to_have_text(CONNECTED)
    assert_clean(page)


def test_keepalive_and_reconnects_work_when_the_timer_worker_cannot_load(page, site, mosquitto):
    """The deadlines normally run in public/timer-worker.js. With that script
    missing (404) the page keeps them on the main thread: PINGREQs still go out
    (keep alive 2 s: mosquitto drops a client silent for 3 s) and a restarted
    broker is reconnected to."""
    page.route("**/public/timer-worker.js", lambda route: route.fulfill(status=404, body="gone"))
    open_dash(page, site, broker=mosquitto.ws_url, subs=["tw/#"])
    page.get_by_label("Keep alive").fill("2")
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    time.sleep(7)  # over two keepalive timeouts: what is observed is the broker's log
    log = Path(mosquitto.proc.log_path).read_text(errors="replace")
    assert "exceeded timeout" not in log, log
    assert clients_connected(mosquitto) == 1, log
    expect(status(page)).to_have_text(CONNECTED)

    mosquitto.stop()
    expect(status(page)).to_have_text(re.compile(r"^reconnecting to \S+ in \d+ s: "), timeout=T)
    mosquitto.start()
    expect(status(page)).to_have_text(CONNECTED, timeout=40_000)
    p = Publisher(mosquitto.tcp_port)
    p.pub("tw/x", "timers on the main thread", qos=1)
    p.close()
    expect(panel(page, "tw/x").locator("pre.payload")).to_have_text("timers on the main thread", timeout=T)
    forget_websocket_failures(page, mosquitto.ws_url)
    # The one expected console error: the worker script's 404.
    page.errors.console = [e for e in page.errors.console if "404" not in e]
    assert_clean(page)


def test_a_reloaded_page_with_clean_session_off_subscribes_into_the_brokers_old_session(browser, site, mosquitto):
    """mosquitto keeps the session of a clean-session-off client (with its old
    subscription) and says "session present" when the page comes back. The
    page must still subscribe to what it shows now, not trust the old session."""
    for filt, topic in (("old/#", "old/x"), ("new/#", "new/x")):
        pg = new_page(browser)
        try:
            open_dash(pg, site, broker=mosquitto.ws_url, subs=[filt], qos=1, client_id="mqdash-persist")
            pg.get_by_label("Clean session").uncheck()
            button(pg, "Connect").click()
            expect(status(pg)).to_have_text(CONNECTED, timeout=T)
            expect(sub_row(pg, filt)).to_contain_text("granted QoS 1", timeout=T)
            p = Publisher(mosquitto.tcp_port)
            p.pub(topic, f"via {filt}", qos=1)
            p.close()
            expect(panel(pg, topic).locator("pre.payload")).to_have_text(f"via {filt}", timeout=T)
            assert_clean(pg)
        finally:
            pg.context.close()
    assert "mqdash-persist" in Path(mosquitto.proc.log_path).read_text(errors="replace")
