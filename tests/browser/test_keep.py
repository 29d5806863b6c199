"""Issue 13, Keep: record against mosquitto, reload, the recording is still
there; export NDJSON and CSV and check the downloaded files against what was
published (binary payloads included); import the exported file into a fresh
page with no broker and see the same panels, history and chart legend; a file
with bad and hostile lines is reported with line numbers and renders as text;
re-publish a recording with a topic prefix rewrite to a paho subscriber; export
the kept history of the selected tree node without a recording; the
keep worker is not part of the first load."""

import base64
import csv
import json
import re
import time

from playwright.sync_api import expect

from conftest import new_page
from dash import T, Publisher, Subscriber, assert_clean, button, open_dash, panel, publish_log

RECORDING = re.compile(r"^Recording: ")


def keep(page):
    return page.get_by_role("region", name="Record and replay", exact=True)


def recording_line(page):
    return keep(page).locator("p.hint").first


def outcome(page):
    return keep(page).locator("p[role=alert]")


def start_recording(page):
    button(page, "Record").click()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recording: 0 messages"), timeout=T)


def payload_of(row: dict) -> bytes:
    if row.get("encoding") == "base64":
        return base64.b64decode(row["payload"])
    return row["payload"].encode()


def export(page, name: str, into) -> str:
    """Clicks an export button; the downloaded file, saved in `into` under
    the name the page gave it."""
    with page.expect_download(timeout=T) as dl:
        button(page, name).click()
    download = dl.value
    expect(outcome(page)).to_have_text(f"Exported {download.suggested_filename}", timeout=T)
    path = into / download.suggested_filename
    download.save_as(path)
    return str(path)


def history_rows(page, topic: str) -> list[str]:
    page.get_by_role("button", name=f"Open {topic}", exact=True).click()
    d = page.get_by_role("region", name=f"Detail of {topic}", exact=True)
    expect(d).to_be_visible(timeout=T)
    rows = d.locator("ol.history-list button.entry")
    expect(rows.first).to_be_visible(timeout=T)
    # The list is windowed: the heading counts them all, the rows in view
    # (the newest ten here) carry time, QoS, size and payload.
    texts = [d.locator("h3").filter(has_text="History").inner_text()] + [r.inner_text() for r in rows.all()[:10]]
    d.get_by_role("button", name="Close detail").click()
    return texts


SENT = [
    ("rec/text", "21.5 °C".encode(), 0),
    ("rec/json", b'{"t": 21.5, "h": 40}', 1),
    ("rec/bin", bytes([0, 255, 16, 128, 0]), 1),
    ("rec/html", b"<img src=x onerror=\"window.__pwned=1\">", 2),
]


# The keep worker's statuses that say "recording" reach the page 3 s late (a
# slow worker), the others at once; every status is listed in
# window.__keepStatuses as it comes.
SLOW_RECORDING_STATUS = """
(() => {
  const W = window.Worker;
  window.__keepStatuses = [];
  window.Worker = class extends W {
    constructor(url, opts) { super(url, opts); this.__keep = String(url).includes('keep-worker'); }
    set onmessage(f) {
      if (!this.__keep || !f) { super.onmessage = f; return; }
      super.onmessage = (e) => {
        const d = e.data;
        if (d && d.t === 'status') {
          window.__keepStatuses.push(!!d.recording);
          if (d.recording) { setTimeout(() => f.call(this, e), 3000); return; }
        }
        f.call(this, e);
      };
    }
    get onmessage() { return super.onmessage; }
  };
})();
"""


def test_messages_right_after_record_are_kept_while_the_worker_is_slow_to_answer(page, site, mosquitto):
    """The worker's first status ("not recording", posted as it starts)
    comes before its answer to Record: it must not switch recording off for
    the messages that arrive before that answer."""
    page.context.add_init_script(SLOW_RECORDING_STATUS)
    open_dash(page, site, broker=mosquitto.ws_url, subs=["rec/#"], qos=1, connect=True)
    button(page, "Record").click()
    # The page's CSP allows no eval, so this polls instead of wait_for_function.
    deadline = time.monotonic() + T / 1000
    while page.evaluate("window.__keepStatuses.length") == 0:
        assert time.monotonic() < deadline, "the keep worker never posted a status"
        page.wait_for_timeout(50)
    assert page.evaluate("window.__keepStatuses[0]") is False
    p = Publisher(mosquitto.tcp_port)
    for topic, payload, qos in SENT:
        p.pub(topic, payload, qos=qos)
    p.close()
    for topic, _, _ in SENT:
        expect(panel(page, topic)).to_be_visible(timeout=T)
    expect(recording_line(page)).to_have_text(re.compile(r"^Recording: 4 messages"), timeout=T)
    button(page, "Delete recording").click()
    expect(recording_line(page)).to_have_text("Not recording.", timeout=T)
    assert_clean(page)


def test_a_recording_survives_a_reload_and_exports_exactly_what_was_published_as_ndjson_and_csv(
        page, site, mosquitto, tmp_path):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["rec/#"], qos=2, connect=True)
    # Published at once, while the keep worker is still starting: recording
    # begins with the click, not with the worker's first answer.
    button(page, "Record").click()
    p = Publisher(mosquitto.tcp_port)
    for topic, payload, qos in SENT:
        p.pub(topic, payload, qos=qos)
    p.close()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recording: 4 messages"), timeout=T)

    # Kept in the browser: a reload finds it, and recording goes on.
    page.reload()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recording: 4 messages"), timeout=T)
    button(page, "Stop recording").click()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recorded \(stopped\): 4 messages"), timeout=T)

    rows = [json.loads(line) for line in open(export(page, "Export NDJSON", tmp_path), encoding="utf-8").read().splitlines()]
    assert [(r["topic"], payload_of(r), r["qos"], r["retain"]) for r in rows] == [
        (t, b, q, False) for t, b, q in SENT
    ]
    assert rows[2]["encoding"] == "base64" and "encoding" not in rows[0]
    assert all(isinstance(r["ms"], (int, float)) and r["time"].endswith("Z") for r in rows)

    page.get_by_label("CSV: a column per numeric JSON field").check()
    with open(export(page, "Export CSV", tmp_path), newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    header = table[0]
    assert header[:8] == ["time", "ms", "topic", "qos", "retain", "dup", "encoding", "payload"]
    assert "t" in header and "h" in header, header
    by_topic = {r[2]: dict(zip(header, r)) for r in table[1:]}
    assert list(by_topic) == [t for t, _, _ in SENT]
    assert (by_topic["rec/json"]["t"], by_topic["rec/json"]["h"]) == ("21.5", "40")
    assert by_topic["rec/text"]["t"] == ""
    assert by_topic["rec/bin"]["encoding"] == "base64"
    assert base64.b64decode(by_topic["rec/bin"]["payload"]) == SENT[2][1]
    assert by_topic["rec/html"]["payload"] == SENT[3][1].decode()
    assert by_topic["rec/text"]["payload"] == "21.5 °C"

    button(page, "Delete recording").click()
    expect(recording_line(page)).to_have_text("Not recording.", timeout=T)
    assert page.evaluate("window.__pwned") is None
    assert_clean(page)


def test_an_exported_recording_imported_into_a_fresh_page_without_a_broker_shows_the_same_panels_and_history(
        browser, page, site, mosquitto, tmp_path):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["imp/#"], qos=1, connect=True)
    start_recording(page)
    p = Publisher(mosquitto.tcp_port)
    for i in range(20):
        p.pub("imp/counter", str(i), qos=1)
        p.pub("imp/bin", bytes([i, 0, 255]), qos=1)
    p.close()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recording: 40 messages"), timeout=T)
    expect(panel(page, "imp/counter").locator("ul.legend")).to_have_text("value 19", timeout=T)
    live_history = history_rows(page, "imp/counter")
    assert live_history[0].startswith("History (20 kept") and len(live_history) == 11, live_history
    path = export(page, "Export NDJSON", tmp_path)

    fresh = new_page(browser)
    try:
        open_dash(fresh, site)
        keep(fresh).get_by_label("Replay pace").select_option("instant")
        keep(fresh).get_by_label("Import NDJSON file").set_input_files(path)
        expect(outcome(fresh)).to_have_text(re.compile(r"done; 40 messages from 40 lines$"), timeout=T)
        expect(fresh.locator(".replay-banner")).to_contain_text(
            "shown messages include 40 replayed from mqdash-recording.ndjson", timeout=T)
        expect(panel(fresh, "imp/counter").locator(".count")).to_have_text("20 msgs", timeout=T)
        expect(panel(fresh, "imp/bin").locator(".count")).to_have_text("20 msgs")
        expect(panel(fresh, "imp/counter").locator("ul.legend")).to_have_text("value 19")
        assert history_rows(fresh, "imp/counter") == live_history
        assert_clean(fresh)
    finally:
        fresh.context.close()
    assert_clean(page)


def test_a_file_with_bad_and_hostile_lines_reports_them_by_line_and_shows_the_good_ones_as_text(page, site, tmp_path):
    huge = "x" * (17 * 1024 * 1024)
    lines = [
        json.dumps({"topic": "bad/ok", "payload": "first"}),                         # 1 good
        "<script>window.__pwned = 1</script>",                                       # 2 not JSON
        json.dumps({"topic": 5, "payload": "wrong type"}),                          # 3 wrong type
        json.dumps({"topic": "bad/<b>html</b>", "payload": "<img src=x onerror=\"window.__pwned=1\">"}),  # 4 good
        json.dumps({"topic": "bad/huge", "payload": huge}),                          # 5 over 16 MiB
        "",                                                                          # 6 empty: skipped
        json.dumps({"topic": "bad/ok", "payload": {"n": 2}, "qos": 1}),              # 7 good, JSON payload
        json.dumps({"topic": "bad/#", "payload": "a wildcard is no topic"}),         # 8 invalid topic
    ]
    f = tmp_path / "hostile.ndjson"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    open_dash(page, site)
    keep(page).get_by_label("Replay pace").select_option("instant")
    keep(page).get_by_label("Import NDJSON file").set_input_files(str(f))
    expect(outcome(page)).to_have_text(re.compile(r"done; 3 messages from \d+ lines; 4 bad lines \(line 2, 3, 5, 8\): "),
                                       timeout=60_000)
    html = panel(page, "bad/<b>html</b>")
    expect(html).to_be_visible(timeout=T)
    expect(html.locator("pre.payload")).to_contain_text("<img src=x onerror=")
    expect(panel(page, "bad/ok").locator(".count")).to_have_text("2 msgs")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("b", has_text="html").count() == 0
    assert_clean(page)


def test_a_recording_is_re_published_with_its_topic_prefix_rewritten(page, site, mosquitto):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["site-a/#"], qos=1, connect=True)
    start_recording(page)
    p = Publisher(mosquitto.tcp_port)
    sent = [(f"site-a/m{i}", f"reading {i}".encode()) for i in range(5)] + [("site-a/bin", bytes([1, 0, 254]))]
    for t, b in sent:
        p.pub(t, b, qos=1)
    p.close()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recording: 6 messages"), timeout=T)
    button(page, "Stop recording").click()
    expect(recording_line(page)).to_have_text(re.compile(r"^Recorded \(stopped\): 6 messages"), timeout=T)

    copies = Subscriber(mosquitto.tcp_port, "site-b/#", qos=1, client_id="paho-copies")
    keep(page).get_by_label("Rewrite topic prefix from").fill("site-a/")
    keep(page).get_by_label("Rewrite topic prefix to").fill("site-b/")
    button(page, "Re-publish recording").click()
    got = [copies.get()[:2] for _ in sent]
    assert got == [("site-b/" + t.removeprefix("site-a/"), b) for t, b in sent]
    assert copies.nothing_within(0.5) is None, "a message was re-published twice"
    copies.close()
    expect(outcome(page)).to_have_text(re.compile(r"^Re-publishing the recording: done"), timeout=T)
    # Tracked like manual publishes: a publish log row each, acknowledged.
    rows = publish_log(page).locator("li")
    expect(rows).to_have_count(len(sent), timeout=T)
    expect(rows.first).to_contain_text("site-b/bin · QoS 1 · 3 bytes")
    expect(rows.first.locator(".pub-state")).to_have_text(re.compile(r"acknowledged \(PUBACK\)"), timeout=T)
    assert_clean(page)


def test_the_keep_worker_is_not_loaded_until_a_keep_control_is_used(page, site):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    open_dash(page, site)
    expect(recording_line(page)).to_have_text("Not recording.")
    assert not [u for u in fetched if "keep-worker" in u], fetched
    start_recording(page)
    assert [u for u in fetched if "keep-worker" in u]
    button(page, "Delete recording").click()
    expect(recording_line(page)).to_have_text("Not recording.", timeout=T)
    assert_clean(page)


def test_the_kept_history_of_the_selected_topics_exports_without_a_recording(page, site, mosquitto, tmp_path):
    open_dash(page, site, broker=mosquitto.ws_url, subs=["hx/#", "zz/#"], qos=1, connect=True)
    p = Publisher(mosquitto.tcp_port)
    sent = [("hx/a", b"1"), ("hx/a", b"2"), ("hx/b", bytes([0, 1, 2])), ("zz/c", b"elsewhere")]
    for t, b in sent:
        p.pub(t, b, qos=1)
    p.close()
    expect(page.locator("p.stats").first).to_contain_text("4 messages", timeout=T)
    tree = page.get_by_role("tree", name="Topics", exact=True)
    tree.get_by_role("treeitem", name="hx", exact=True).click()
    expect(tree.get_by_role("treeitem", name="hx", exact=True)).to_have_attribute("aria-selected", "true")
    keep(page).get_by_label("Export from").select_option("selected")
    with open(export(page, "Export NDJSON", tmp_path), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f.read().splitlines()]
    assert sorted((r["topic"], payload_of(r)) for r in rows) == sorted(sent[:3])
    expect(recording_line(page)).to_have_text("Not recording.")
    assert_clean(page)


def test_a_keep_worker_that_cannot_load_is_reported_and_recording_stays_off(page, site):
    page.route("**/keep-worker*", lambda route: route.abort())
    open_dash(page, site)
    button(page, "Record").click()
    expect(outcome(page)).to_have_text(
        "the keep worker failed to load or stopped; reload the page to try again", timeout=T)
    expect(recording_line(page)).to_have_text("Not recording.")
    expect(button(page, "Record")).to_be_visible()
    assert page.errors.page == [], page.errors.page
