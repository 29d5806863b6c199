"""Takes docs/screenshot.png: the release build (dist/) connected to the embedded
broker while the device simulator publishes: the topic tree open on the
devices, their live panels and charts.

    .tools/venv/bin/python tests/browser/make_screenshot.py [out.png]

Not a test (pytest collects only test_*.py)."""

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from brokers import ROOT, DevBroker  # noqa: E402
from conftest import CHROMIUM_ARGS, DIST, _Handler  # noqa: E402
from dash import CONNECTED, dash_url, panel  # noqa: E402


def main(out: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(DIST)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    broker = DevBroker()
    sim = None
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(dash_url(site, broker=broker.ws_url, subs=["devices/+/telemetry", "building-a/#", "onenet/+/dp", "devices/#"],
                               qos=1, connect=True, client_id="mqdash-demo"))
            expect(page.get_by_role("status")).to_have_text(CONNECTED, timeout=15000)
            sim = subprocess.Popen([broker.exe, "simulate", "--broker", f"mqtt://127.0.0.1:{broker.tcp_port}",
                                    "--rate", "20", "--seed", "7"], stdout=subprocess.DEVNULL)
            expect(panel(page, "devices/sensor-1/telemetry").locator("canvas")).to_be_visible(timeout=15000)
            tree = page.get_by_role("tree", name="Topics")
            for name in ["devices", "building-a", "floor-1"]:
                row = tree.get_by_role("treeitem", name=name, exact=True).first
                row.locator(".twisty").click()
                expect(row).to_have_attribute("aria-expanded", "true")
            tree.get_by_role("treeitem", name="devices", exact=True).click()
            page.wait_for_timeout(28000)  # let the charts fill their 30 s window
            page.screenshot(path=str(out), full_page="--full" in sys.argv)
            b.close()
    finally:
        if sim:
            sim.terminate()
            sim.wait()
        broker.close()
        server.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else ROOT / "docs" / "screenshot.png")
