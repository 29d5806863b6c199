"""Issue 6, hostile brokers: the page pointed at `devbroker hostile` in each of its
modes, and at every case of the hostile-packet table, shows the reason in plain
words, stays responsive, and retries with growing delays, never in a tight loop.

The same brokers are checked natively (tools/devbroker/tests/hostile_broker.rs,
which drives the supervisor); these tests check what a user sees in the page."""

import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from brokers import ROOT, DevbrokerTool
from dash import CONNECTED, T, Publisher, assert_clean, button, connect_with, forget_websocket_failures, open_dash, panel, status


def reconnecting_with(reason):
    """The status while a reconnect waits after `reason`: the whole sentence,
    or a compiled pattern for one with a measured figure in it."""
    pattern = reason.pattern if isinstance(reason, re.Pattern) else re.escape(reason)
    return re.compile(rf"^reconnecting to \S+ in \d+ s: {pattern}$")


def hostile(mode: str, *more: str) -> DevbrokerTool:
    """`devbroker hostile --mode MODE …` on a free port."""
    return DevbrokerTool("hostile", "--ws-port", "0", "--mode", mode, *more)


def wait_for_connects(h: DevbrokerTool, count: int, timeout: float = 60) -> None:
    """Waits until `count` connections have reached the broker; fails with the
    broker's output when they never come."""
    h.wait_for("CONNECT received at", count=count, timeout=timeout)


def connect_times_ms(h: DevbrokerTool) -> list[int]:
    """When each connection's CONNECT arrived, in ms since the hostile broker started."""
    return [int(re.search(r"CONNECT received at (\d+) ms", line).group(1))
            for line in h.matching("CONNECT received at")]


def assert_responsive(page):
    """An animation frame runs and a text field takes typing while the page is
    failing over and over: its main thread is not stuck in a loop."""
    started = time.monotonic()
    page.evaluate("new Promise(r => requestAnimationFrame(() => r(1)))")
    # Generous: a loaded machine delays frames, a stuck main thread stops them.
    assert time.monotonic() - started < 10, "no animation frame within 10 s"
    field = page.get_by_label("Topic filter")
    field.fill("still/typing/#")
    expect(field).to_have_value("still/typing/#")
    field.fill("")


def assert_backing_off(h: DevbrokerTool, at_least: int):
    """At least `at_least` attempts reached the broker, each gap at least the
    backoff's smallest first delay (500 ms) and the gaps growing, so no tight loop."""
    times = connect_times_ms(h)
    assert len(times) >= at_least, h.text()
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= 450 for g in gaps), f"attempts too close together: {gaps} ms\n{h.text()}"
    assert gaps == sorted(gaps) or gaps[-1] > gaps[0], f"delays do not grow: {gaps} ms"


# (mode, extra form setup, the status reason, attempts expected within `watch` seconds)
MODES = [
    ("garbage", None, "the broker sent a packet of reserved type 15", 3),
    ("text-frame", None, "the server sent a text frame; MQTT over WebSocket uses binary frames only", 3),
    ("close-after-connack", None,
     "the broker closed the connection right after accepting it (code 1000: devbroker hostile: close after CONNACK);"
     " is another client using the same client id?", 3),
    # The PINGRESP wait is capped at 40 % of the keep-alive, so the whole
    # detection stays within 1.5 x keep-alive.
    ("no-pingresp", "2", re.compile(r"the broker did not answer a ping within ([4-7]\d\d|800) ms"), 2),
]


@pytest.mark.parametrize("mode,keepalive,reason,attempts", MODES, ids=[m[0] for m in MODES])
def test_hostile_broker_mode_is_explained_and_retried_without_a_tight_loop(page, site, mode, keepalive, reason,
                                                                         attempts):
    h = hostile(mode)
    try:
        open_dash(page, site)
        if keepalive:
            page.get_by_label("Keep alive").fill(keepalive)
        connect_with(page, h.url)
        expect(status(page)).to_have_text(reconnecting_with(reason), timeout=T)
        expect(button(page, "Reconnect now")).to_be_visible()
        assert_responsive(page)
        # Let the automatic retries run: with 0.5-1 s, 1-2 s, 2-4 s delays,
        # `attempts` connections arrive within about 8 s (plus 3 s per attempt
        # for the ping deadline in no-pingresp).
        wait_for_connects(h, attempts)
        assert_backing_off(h, attempts)
        expect(status(page)).to_have_text(reconnecting_with(reason), timeout=T)
        assert_responsive(page)
        seen = len(connect_times_ms(h))
        button(page, "Disconnect").click()
        expect(status(page)).to_have_text("disconnected")
        time.sleep(2)  # longer than the next retry would have been early on: none must come
        assert len(connect_times_ms(h)) <= seen + 1, h.text()  # +1: an attempt already under way
    finally:
        h.close()
    assert_clean(page)


def test_broker_that_never_sends_connack_is_explained_after_the_response_timeout(page, site):
    h = hostile("no-connack")
    try:
        open_dash(page, site)
        connect_with(page, h.url)
        expect(status(page)).to_have_text(re.compile(r"^connecting to "), timeout=T)
        assert_responsive(page)
        expect(status(page)).to_have_text(
            reconnecting_with("the broker did not answer the connection request within 10000 ms"), timeout=20_000)
        # One retry, after the 10 s wait and then its backoff delay (at least
        # 500 ms), not a loop.
        wait_for_connects(h, 2)
        button(page, "Disconnect").click()
        times = connect_times_ms(h)
        assert len(times) == 2, h.text()
        assert times[1] - times[0] >= 10_000 + 450, times
        expect(status(page)).to_have_text("disconnected")
    finally:
        h.close()
    assert_clean(page)


def hostile_cases() -> list[tuple[str, str, str]]:
    """The hostile-packet table as `devbroker hostile --list-cases` prints it:
    (name, rule, the error the session ends with)."""
    exe = ROOT / "target" / "debug" / "devbroker"
    out = subprocess.run([str(exe), "hostile", "--mode", "packet", "--list-cases"], check=True,
                         capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in out.splitlines() if line.strip()]
    return [(r[0], r[1], r[3]) for r in rows]


def test_every_hostile_packet_case_is_shown_with_its_reason_and_the_page_stays_usable(page, site, mosquitto):
    """All cases of the table, one hostile broker each, in one page: each ends
    in its typed error on the status line; afterwards the same page connects
    to a real broker and shows live data."""
    cases = hostile_cases()
    assert len(cases) >= 50, cases
    assert len({rule for _, rule, _ in cases}) >= 11
    open_dash(page, site)
    # The table's size cases are built for the session's 1 MiB limit.
    page.get_by_label("Message size limit (MiB)").fill("1")
    wrong = []
    for name, _rule, error_text in cases:
        h = hostile("packet", "--case", name)
        try:
            connect_with(page, h.url)
            try:
                expect(status(page)).to_have_text(reconnecting_with(error_text), timeout=T)
            except AssertionError:
                wrong.append(f"{name}: expected {error_text!r}, page shows {status(page).inner_text()!r}")
            button(page, "Disconnect").click()
            expect(status(page)).to_have_text("disconnected")
        finally:
            h.close()
    assert wrong == [], "\n".join(wrong)
    assert_responsive(page)

    connect_with(page, mosquitto.ws_url)
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    page.get_by_label("Topic filter").fill("after/#")
    button(page, "Subscribe").click()
    expect(page.locator("li.sub").filter(has_text="after/#")).to_contain_text("granted QoS", timeout=T)
    p = Publisher(mosquitto.tcp_port)
    p.pub("after/hostile", "fine", qos=1)
    p.close()
    expect(panel(page, "after/hostile").locator("pre.payload")).to_have_text("fine", timeout=T)
    assert_clean(page)


def test_reconnect_now_skips_the_wait_but_not_the_backoff(page, site):
    h = hostile("garbage")
    try:
        open_dash(page, site)
        connect_with(page, h.url)
        reason = reconnecting_with("the broker sent a packet of reserved type 15")
        expect(status(page)).to_have_text(reason, timeout=T)
        # Wait for the third automatic attempt: its delay is 2-4 s.
        wait_for_connects(h, 3)
        # Click while at least 2 s of the 2-4 s delay are left, so the
        # automatic attempt cannot beat the click on a loaded machine.
        expect(status(page)).to_have_text(re.compile(r"^reconnecting to \S+ in [34] s: "), timeout=T)
        before = len(connect_times_ms(h))
        button(page, "Reconnect now").click()
        wait_for_connects(h, before + 1)
        assert len(connect_times_ms(h)) == before + 1, h.text()
        # The next automatic delay keeps growing (4-8 s), it does not start over.
        expect(status(page)).to_have_text(re.compile(r"^reconnecting to \S+ in [4-8] s: "), timeout=T)
        button(page, "Disconnect").click()
        expect(button(page, "Reconnect now")).to_have_count(0)
    finally:
        h.close()
    forget_websocket_failures(page, h.url)
    assert_clean(page)
