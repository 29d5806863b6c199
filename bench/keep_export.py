"""Keep's large export, measured: the page records N messages from a
`devbroker loadgen` flood into mosquitto, then exports the recording as
NDJSON; prints what was recorded (and what the model counted), the export's
time, its progress lines and the main-thread tasks over 50 ms while it ran.

Usage (after `trunk build --release --offline` and
`cargo build --profile bench-tools -p devbroker`, which bench/run.sh does):
    .tools/venv/bin/python bench/keep_export.py [N]     # default 1,000,000
"""
import sys, time, re, subprocess
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from playwright.sync_api import sync_playwright, expect
from brokers import Mosquitto
import functools, http.server, threading
from conftest import _Handler, CHROMIUM_ARGS
DIST = str(ROOT / "dist")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
m = Mosquitto()
handler = functools.partial(_Handler, directory=DIST)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
site = f"http://127.0.0.1:{server.server_address[1]}"
LT = """window.__lt=[];new PerformanceObserver(l=>{for(const e of l.getEntries())window.__lt.push([e.startTime,e.duration])}).observe({type:'longtask',buffered:true});"""
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
    ctx = b.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    ctx.add_init_script(LT)
    pg = ctx.new_page()
    pg.goto(site + "/?broker=" + m.ws_url + "&sub=load/%23&connect=1")
    expect(pg.get_by_role("status")).to_have_text("connected to " + m.ws_url, timeout=30000)
    keep = pg.get_by_role("region", name="Record and replay")
    keep.get_by_label("Recording limit (MB)").fill("1000")
    pg.get_by_role("button", name="Record", exact=True).click()
    rate = 25000
    subprocess.run([str(ROOT / "target" / "bench-tools" / "devbroker"), "loadgen", "--broker", f"mqtt://127.0.0.1:{m.tcp_port}",
                    "--rate", str(rate), "--topics", "1000", "--payload-size", "100", "--duration-secs", str(N / rate)],
                   check=True, capture_output=True)
    line = keep.locator("#keep-rec")
    t0 = time.time()
    while True:
        txt = line.inner_text()
        mm = re.search(r"([\d,]+) messages", txt)
        n = int(mm.group(1).replace(",", "")) if mm else 0
        if n >= N or time.time() - t0 > 120:
            break
        time.sleep(1)
    print("recorded:", txt)
    print("model stats:", pg.locator("p.stats").first.inner_text())
    pg.get_by_role("button", name="Stop recording", exact=True).click()
    pg.evaluate("window.__lt=[]")
    progress = []
    t1 = time.time()
    with pg.expect_download(timeout=600_000) as dl:
        pg.get_by_role("button", name="Export NDJSON", exact=True).click()
        while True:
            t = keep.locator("#keep-task").inner_text()
            if t: progress.append((round(time.time() - t1, 1), t))
            if not t and progress: break
            if time.time() - t1 > 600: break
            time.sleep(0.5)
    d = dl.value
    path = str(ROOT / "target" / "keep-export.ndjson")
    d.save_as(path)
    took = time.time() - t1
    lines = sum(1 for _ in open(path, "rb"))
    lt = pg.evaluate("window.__lt")
    print(f"export: {lines:,} lines in {took:.1f} s; progress samples {len(progress)}: {progress[:3]} ... {progress[-2:]}")
    print(f"long tasks during export: {len(lt)}, longest {max([d for _, d in lt], default=0):.0f} ms")
    b.close()
m.close()
