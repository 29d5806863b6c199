"""Issue 4, Tests: the page subscribes to wildcard filters on a real broker; a
publisher outside the browser (paho-mqtt) sends numbers, JSON, OneNet `$dp`
type 1 and 3, OneNet's `{"id":…,"dp":…}` upload and binary at QoS 0/1/2, some
retained; each shows in its own panel, grouped under the matching subscription,
with the right flags, binary as hex with its size, and numbers charted."""

import json
import time

from playwright.sync_api import expect

from dash import T, Publisher, assert_clean, dp_frame, open_dash, panel, sub_row

DP1 = json.dumps({"datastreams": [{"id": "wendu", "datapoints": [{"at": "2024-05-01 12:00:00", "value": 55}]}]})
DP3 = json.dumps({"temp": 22.5, "hum": 40})
BINARY = bytes([0x00, 0xFF, 0x10, 0x80]) + bytes(range(16))  # not UTF-8, 20 bytes


def legend(page, topic):
    return panel(page, topic).locator("ul.legend li")


def coloured_pixels(page, topic) -> int:
    """Saturated pixels on the topic's chart: data lines and dots, not the grey
    grid or labels."""
    return page.evaluate("""(topic) => {
        const c = document.querySelector(`canvas[aria-label="Chart of ${CSS.escape(topic)}"]`);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            const [r, g, b, a] = [d[i], d[i+1], d[i+2], d[i+3]];
            if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
        }
        return n;
    }""", topic)


def expect_flags(page, topic, qos, retained):
    p = panel(page, topic)
    expect(p.locator(".flag").first).to_have_text(f"QoS {qos}", timeout=T)
    if retained:
        expect(p.locator(".flag.retain")).to_have_text("retained")
    else:
        expect(p.locator(".flag.retain")).to_have_count(0)


def test_published_payloads_show_in_their_panels_with_flags_and_charts(page, site, broker):
    pub = Publisher(broker.tcp_port)
    # Retained before the page subscribes, so the broker delivers them with RETAIN set.
    pub.pub("lab/json", json.dumps({"power": {"volts": 229.5, "amps": 1.25}, "ok": True, "name": "pump"}),
            qos=1, retain=True)
    pub.pub("lab/bin", BINARY, qos=2, retain=True)

    open_dash(page, site, broker=broker.ws_url, subs=["lab/#", "onenet/+"], qos=2, connect=True)
    expect(sub_row(page, "lab/#")).to_contain_text("granted QoS 2", timeout=T)
    expect(sub_row(page, "onenet/+")).to_contain_text("granted QoS 2", timeout=T)
    expect(panel(page, "lab/json")).to_be_visible(timeout=T)
    expect(panel(page, "lab/bin")).to_be_visible(timeout=T)

    now_s = int(time.time())
    pub.pub("lab/num", "21.5", qos=0)
    pub.pub("onenet/dp1", dp_frame(0x01, DP1), qos=1)
    pub.pub("onenet/dp3", dp_frame(0x03, DP3), qos=2)
    pub.pub("lab/dpjson", json.dumps({"id": 1, "dp": {"temp": [{"v": 30, "t": now_s}]}}), qos=0)
    # OneNet's documented example, verbatim: its `t` is in 2019.
    pub.pub("lab/dpdoc", '{"id":123,"dp":{"temp":[{"v":30,"t":1552289676}]}}', qos=0)

    # Each topic lands in its own panel, under the subscription that matched it.
    lab = page.get_by_role("group", name="Topics matching lab/#")
    one = page.get_by_role("group", name="Topics matching onenet/+")
    for t in ["lab/json", "lab/bin", "lab/num", "lab/dpjson", "lab/dpdoc"]:
        expect(lab.get_by_role("region", name=t, exact=True)).to_be_visible(timeout=T)
    for t in ["onenet/dp1", "onenet/dp3"]:
        expect(one.get_by_role("region", name=t, exact=True)).to_be_visible(timeout=T)
    expect(page.locator("article.panel")).to_have_count(7)

    # Payload views.
    expect(panel(page, "lab/num").locator("pre.payload")).to_have_text("21.5")
    expect(panel(page, "lab/num").locator(".kind")).to_have_text("text")
    expect(panel(page, "lab/json").locator(".kind")).to_have_text("JSON")
    expect(panel(page, "lab/json").locator("pre.payload")).to_contain_text('"volts": 229.5')
    expect(panel(page, "onenet/dp1").locator(".kind")).to_have_text("$dp type 1")
    expect(panel(page, "onenet/dp1").locator("pre.payload")).to_contain_text('"wendu"')
    expect(panel(page, "onenet/dp3").locator(".kind")).to_have_text("$dp type 3")
    b = panel(page, "lab/bin")
    expect(b.locator(".kind")).to_have_text("binary")
    expect(b.locator(".size")).to_have_text("20 bytes")
    expect(b.locator("pre.payload")).to_contain_text("00000000  00 ff 10 80 00 01 02 03  04 05 06 07 08 09 0a 0b")

    # Flags. mosquitto delivers at min(publish QoS, subscription QoS) as MQTT
    # 3.1.1 says; rumqttd (the embedded broker) delivers at the subscription's
    # QoS whatever the publisher used -- a known rumqttd gap, asserted as such.
    def q(published):
        return published if broker.kind == "mosquitto" else 2
    expect_flags(page, "lab/json", q(1), retained=True)
    expect_flags(page, "lab/bin", q(2), retained=True)
    expect_flags(page, "lab/num", q(0), retained=False)
    expect_flags(page, "onenet/dp1", q(1), retained=False)
    expect_flags(page, "onenet/dp3", q(2), retained=False)
    expect_flags(page, "lab/dpjson", q(0), retained=False)

    # Charts: one per numeric panel, with the right series in the legend.
    expected = {
        "lab/num": ["value 21.5"],
        "lab/json": ["power.volts 229.5", "power.amps 1.25"],
        "onenet/dp1": ["wendu 55"],
        "onenet/dp3": ["temp 22.5", "hum 40"],
        "lab/dpjson": ["temp 30"],  # the message id is not a series
        "lab/dpdoc": ["temp 30"],
    }
    for topic, series in expected.items():
        expect(panel(page, topic).get_by_role("img", name=f"Chart of {topic}")).to_be_visible(timeout=T)
        expect(legend(page, topic)).to_have_text(series, timeout=T)
    expect(panel(page, "lab/bin").get_by_role("img")).to_have_count(0)

    # The canvas really shows the data: a single point as a dot, then a line.
    assert coloured_pixels(page, "onenet/dp1") > 0, "a one-point series is invisible"
    # Points stamped long ago are drawn where they are, not an empty chart.
    assert coloured_pixels(page, "lab/dpdoc") > 0, "old OneNet timestamps leave the chart empty"
    single = coloured_pixels(page, "lab/num")
    pub.pub("lab/num", "25", qos=0)
    expect(legend(page, "lab/num")).to_have_text(["value 25"], timeout=T)
    page.wait_for_function("""([topic, before]) => {
        const c = document.querySelector(`canvas[aria-label="Chart of ${topic}"]`);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i+3] > 0 && Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]) > 60) n++;
        return n > before + 20;
    }""", arg=["lab/num", single], timeout=T)

    # Counts per subscription and per panel.
    expect(panel(page, "lab/num").locator(".count")).to_have_text("2 msgs")
    expect(sub_row(page, "onenet/+")).to_contain_text("2 msgs")
    pub.close()
    assert_clean(page)
