"""Issue 14, decoders per topic filter, in the page against Debian's mosquitto:
a Python Sparkplug B edge node (Eclipse Tahu's schema compiled by the
protobuf package, tests/sim/sparkplug_node.py) publishes births and data, and
the page shows named metrics, charts one, and shows a device going offline on
DDEATH; a Protobuf payload decoded with an uploaded .proto (and the raw wire
view without one); CBOR (cbor2) and MessagePack (msgpack) payloads charted by
field; a payload its decoder cannot read, and a decoder module that cannot
load, each shown for that message only."""

import importlib
import re
import urllib.parse
import subprocess
import sys
from pathlib import Path

import cbor2
import msgpack
from playwright.sync_api import expect

from dash import CONNECTED, T, Publisher, assert_clean, button, edit_connection, open_dash, panel, sub_row

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
from sparkplug_node import EdgeNode  # noqa: E402
from conftest import new_page  # noqa: E402

PROTO = """syntax = "proto3";
package acme;
enum Unit { UNIT_UNKNOWN = 0; CELSIUS = 1; KELVIN = 2; }
message Reading {
  double temp = 1;
  Unit unit = 2;
  repeated int32 history = 3;
  Reading previous = 4;
}
"""


def decoders_card(page):
    return page.get_by_role("region", name="Decoders")


def add_rule(page, filt: str, kind: str, message: str = ""):
    card = decoders_card(page)
    card.get_by_label("Decoder rule filter").fill(filt)
    card.get_by_label("Read as").select_option(kind)
    card.get_by_label("Protobuf message type").fill(message)
    button(page, "Add decoder rule").click()
    expect(card.get_by_role("list", name="Decoder rules")).to_contain_text(filt, timeout=T)


def connect(page, site, broker, subs):
    open_dash(page, site, broker=broker.ws_url, subs=subs, connect=True)
    expect(page.get_by_role("status")).to_have_text(CONNECTED, timeout=T)
    for f in subs:
        expect(sub_row(page, f)).to_contain_text("granted QoS", timeout=T)


def legend(page, topic: str):
    return panel(page, topic).locator("ul.legend")


def test_a_sparkplug_edge_node_shows_named_metrics_charts_them_and_a_device_going_offline(
        page, site, mosquitto):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    connect(page, site, mosquitto, subs=["spBv1.0/#"])
    assert not [u for u in fetched if "decoders-wasm" in u], "the decoders are not part of the first load"
    node = EdgeNode("127.0.0.1", mosquitto.tcp_port, "Plant1", "Edge1",
                    devices={"Pump7": {"Temperature": (21.5, "Float"), "Running": True}})
    try:
        node.birth()
        for t in (22.0, 22.5, 23.25):
            node.data("Pump7", {"Temperature": t})
        topic = "spBv1.0/Plant1/DDATA/Edge1/Pump7"
        p = panel(page, topic)
        # The data messages carry aliases only: the names come from the DBIRTH.
        expect(p).to_contain_text('"Temperature": 23.25', timeout=T)
        expect(p).to_contain_text("Sparkplug B", timeout=T)
        expect(legend(page, topic)).to_contain_text("Temperature", timeout=T)
        assert [u for u in fetched if "decoders-wasm" in u], "the decoder module was loaded on first use"
        nodes = decoders_card(page).get_by_role("list", name="Sparkplug B nodes")
        expect(nodes).to_contain_text("Plant1/Edge1: online", timeout=T)
        expect(nodes).to_contain_text("Pump7: online", timeout=T)
        node.device_death("Pump7")
        expect(nodes).to_contain_text("Pump7: offline", timeout=T)
        expect(nodes).to_contain_text("Plant1/Edge1: online")
        node.node_death()
        expect(nodes).to_contain_text("Plant1/Edge1: offline", timeout=T)
    finally:
        node.close()
    assert_clean(page)


def test_a_page_that_missed_the_births_asks_for_a_rebirth_and_then_names_the_metrics(page, site, mosquitto):
    node = EdgeNode("127.0.0.1", mosquitto.tcp_port, "Plant2", "Edge2",
                    devices={"Tank3": {"Level": (40.5, "Double")}})
    try:
        node.birth()  # before the page subscribes: it never sees these births
        connect(page, site, mosquitto, subs=["spBv1.0/#"])
        node.data("Tank3", {"Level": 41.0})
        topic = "spBv1.0/Plant2/DDATA/Edge2/Tank3"
        expect(panel(page, topic)).to_contain_text("unresolved_aliases", timeout=T)
        # The page asks the node for a rebirth, as Sparkplug B asks of a host.
        assert node.wait_rebirth_request(60), "the page sent no rebirth request"
        node.birth()
        node.data("Tank3", {"Level": 42.5})
        expect(panel(page, topic)).to_contain_text('"Level": 42.5', timeout=T)
        expect(legend(page, topic)).to_contain_text("Level", timeout=T)
        # Asking by hand works too.
        button(page, "Request rebirth of Plant2/Edge2").click()
        assert node.wait_rebirth_request(60), "the button sent no rebirth request"
    finally:
        node.close()
    assert_clean(page)


def test_cbor_and_messagepack_payloads_are_decoded_and_charted_by_field(browser, page, site, mosquitto):
    connect(page, site, mosquitto, subs=["cbor/#", "msgpack/#"])
    add_rule(page, "cbor/#", "cbor")
    add_rule(page, "msgpack/#", "msgpack")
    pub = Publisher(mosquitto.tcp_port, client_id="dec-pub")
    try:
        for i in range(3):
            pub.pub("cbor/dev1/telemetry",
                    cbor2.dumps({"temp": 20 + i, "power": {"volts": 230.5}, "raw": b"\x00\xff"}), qos=1)
            pub.pub("msgpack/dev2/telemetry",
                    msgpack.packb({"temp": 30 + i, "power": {"volts": 12.25}, "raw": b"\x01\x02"}), qos=1)
        c = panel(page, "cbor/dev1/telemetry")
        expect(c).to_contain_text('"temp": 22', timeout=T)
        expect(c).to_contain_text('"$bytes": "00ff"', timeout=T)
        expect(legend(page, "cbor/dev1/telemetry")).to_contain_text("power.volts", timeout=T)
        m = panel(page, "msgpack/dev2/telemetry")
        expect(m).to_contain_text('"temp": 32', timeout=T)
        expect(m).to_contain_text("MessagePack", timeout=T)
        expect(legend(page, "msgpack/dev2/telemetry")).to_contain_text("temp", timeout=T)
        # A payload CBOR cannot read shows why and its bytes, for that message only.
        pub.pub("cbor/dev1/telemetry", b"\xa1\x61", qos=1)
        expect(c).to_contain_text("could not decode as CBOR", timeout=T)
        pub.pub("cbor/dev1/telemetry", cbor2.dumps({"temp": 99}), qos=1)
        expect(c).to_contain_text('"temp": 99', timeout=T)
        # Decoded text is text: markup in a decoded string is shown, never run.
        hostile = "<img src=x onerror=window.__xss=9>"
        pub.pub("msgpack/dev2/telemetry", msgpack.packb({"note": hostile}), qos=1)
        expect(m).to_contain_text(hostile, timeout=T)
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("article img").count() == 0
        expect(page.get_by_role("status")).to_have_text(CONNECTED)
    finally:
        pub.close()
    # The rules travel in a share link, and a page opened from it reads with them.
    edit_connection(page)
    button(page, "Copy link").click()
    shown = page.get_by_label("Shareable link")
    expect(shown).to_have_value(re.compile(r"decode="), timeout=T)
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(shown.input_value()).query)
    assert [v for k, v in query if k == "decode"] == ["spBv1.0/#|sparkplug", "cbor/#|cbor", "msgpack/#|msgpack"]
    other = new_page(browser)
    try:
        other.goto(shown.input_value())
        expect(other.get_by_role("list", name="Decoder rules")).to_contain_text("cbor/# → CBOR", timeout=T)
        expect(other.get_by_role("status")).to_have_text(CONNECTED, timeout=T)
        other.context.close()
    finally:
        if not other.is_closed():
            other.context.close()
    assert_clean(page)


def compile_proto(tmp_path: Path):
    (tmp_path / "acme.proto").write_text(PROTO)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", f"--python_out={tmp_path}",
                    str(tmp_path / "acme.proto")], check=True)
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module("acme_pb2")
    finally:
        sys.path.remove(str(tmp_path))


def test_a_protobuf_payload_is_decoded_with_an_uploaded_schema_and_raw_without_one(
        page, site, mosquitto, tmp_path):
    acme = compile_proto(tmp_path)
    connect(page, site, mosquitto, subs=["pb/#"])
    card = decoders_card(page)
    card.get_by_label("Load Protobuf schema (.proto files or a descriptor set)").set_input_files(
        str(tmp_path / "acme.proto"))
    expect(card).to_contain_text("acme.proto (1 message types)", timeout=T)
    add_rule(page, "pb/typed/#", "protobuf", "acme.Reading")
    add_rule(page, "pb/raw/#", "protobuf", "")
    r = acme.Reading(temp=21.5, unit=acme.KELVIN, history=[1, 2, 3])
    r.previous.temp = 20.25
    pub = Publisher(mosquitto.tcp_port, client_id="pb-pub")
    try:
        pub.pub("pb/typed/a", r.SerializeToString(), qos=1)
        pub.pub("pb/raw/a", r.SerializeToString(), qos=1)
        typed = panel(page, "pb/typed/a")
        expect(typed).to_contain_text('"unit": "KELVIN"', timeout=T)
        expect(typed).to_contain_text('"temp": 20.25', timeout=T)
        expect(legend(page, "pb/typed/a")).to_contain_text("previous.temp", timeout=T)
        raw = panel(page, "pb/raw/a")
        expect(raw).to_contain_text("Protobuf (raw)", timeout=T)
        expect(raw).to_contain_text('"2": 2', timeout=T)
    finally:
        pub.close()
    # The rules are saved with a profile and come back with it.
    edit_connection(page)
    page.get_by_label("Profile name").fill("pb plant")
    button(page, "Save profile").click()
    expect(page.locator(".profile-message")).to_contain_text("saved profile", timeout=T)
    rules = card.get_by_role("list", name="Decoder rules")
    card.get_by_role("button", name="Remove decoder rule pb/typed/#").click()
    expect(rules).not_to_contain_text("pb/typed/#", timeout=T)
    page.get_by_role("combobox", name="Profile", exact=True).select_option("pb plant")
    expect(rules).to_contain_text("pb/typed/# → Protobuf (acme.Reading)", timeout=T)
    assert_clean(page)


def test_a_decoder_module_that_cannot_load_is_said_and_the_page_goes_on(page, site, mosquitto):
    page.route("**/decoders-wasm*", lambda route: route.abort())
    connect(page, site, mosquitto, subs=["cbor/#", "plain/#"])
    add_rule(page, "cbor/#", "cbor")
    pub = Publisher(mosquitto.tcp_port, client_id="dec-pub2")
    try:
        pub.pub("cbor/x", cbor2.dumps({"temp": 1}), qos=1)
        pub.pub("plain/x", b"42", qos=1)
        expect(panel(page, "cbor/x")).to_contain_text("could not decode as CBOR: the decoders could not be loaded",
                                                      timeout=T)
        expect(panel(page, "plain/x")).to_contain_text("42", timeout=T)
        expect(decoders_card(page)).to_contain_text("The decoders could not be loaded", timeout=T)
    finally:
        pub.close()
    # The aborted fetch is a console error of the browser's own; nothing else.
    page.errors.console[:] = [e for e in page.errors.console if "decoders-wasm" not in e
                              and "Failed to fetch dynamically imported module" not in e
                              and "net::ERR_FAILED" not in e]
    assert_clean(page)


def test_exports_carry_the_decoded_payloads_and_csv_columns_from_them(page, site, mosquitto, tmp_path):
    import csv
    import json

    from test_keep import export, keep, start_recording

    connect(page, site, mosquitto, subs=["cbor/#", "spBv1.0/#"])
    add_rule(page, "cbor/#", "cbor")
    start_recording(page)
    node = EdgeNode("127.0.0.1", mosquitto.tcp_port, "Plant3", "Edge3",
                    devices={"Pump9": {"Temperature": (21.5, "Float")}})
    pub = Publisher(mosquitto.tcp_port, client_id="dec-pub3")
    try:
        node.birth()
        node.data("Pump9", {"Temperature": 30.5})
        pub.pub("cbor/e/t", cbor2.dumps({"temp": 7.25}), qos=1)
        pub.pub("cbor/e/t", b"\xff\xff", qos=1)
        # 2 births + 1 data + 2 CBOR messages.
        expect(keep(page).locator("p.hint").first).to_have_text(re.compile(r"^Recording: 5 messages"), timeout=T)
    finally:
        pub.close()
        node.close()
    lines = [json.loads(x) for x in open(export(page, "Export NDJSON", tmp_path))]
    by_topic = {}
    for row in lines:
        by_topic.setdefault(row["topic"], []).append(row)
    ddata = by_topic["spBv1.0/Plant3/DDATA/Edge3/Pump9"][0]
    assert ddata["decoder"] == "Sparkplug B"
    assert ddata["decoded"]["metrics"] == {"Temperature": 30.5}
    good, bad = by_topic["cbor/e/t"]
    assert good["decoder"] == "CBOR" and good["decoded"] == {"temp": 7.25}
    assert "decoded" not in bad and bad["decode_error"]
    keep(page).get_by_label("CSV: a column per numeric JSON field").check()
    rows = list(csv.DictReader(open(export(page, "Export CSV", tmp_path), newline="")))
    assert "temp" in rows[0] and "Temperature" in rows[0], rows[0].keys()
    assert [r["temp"] for r in rows if r["topic"] == "cbor/e/t"] == ["7.25", ""]
    assert [r["Temperature"] for r in rows if r["topic"].endswith("DDATA/Edge3/Pump9")] == ["30.5"]
    assert_clean(page)
