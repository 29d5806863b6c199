#!/usr/bin/env python3
"""Soak of the mqdash PAGE, and a reconnect leak check. Run it through
`bash bench/soak.sh`, which checks the tools and uses the project's Python
environment. Not part of scripts/test.sh: it takes ~40 minutes.

Why: the native soak (docs/reliability.md) runs the session core and the
supervisor for 30 minutes, but not the browser side: the worker relay, the
closures the transport owns, the Leptos views, the model's caps in wasm
memory, the timers. A leak there shows only in a real page, over time or
over many reconnects.

Two phases, each in its own headless Chromium driven over the bare DevTools
pipe of bench/cdp.py (not Playwright: see cdp.py), against Debian's mosquitto
(tuned as in bench/flood.py) on loopback:

  1. soak:       `devbroker loadgen` publishes --rate msg/s (QoS 0, 1,000
                 topics, 100-byte payloads) straight to mosquitto; the release
                 page, subscribed to `#`, is connected THROUGH `devbroker proxy`,
                 whose plan cuts connection i at its N-th downstream QoS 0
                 PUBLISH (N = rate x --reconnect-every-secs), so the page
                 reconnects on its own every few minutes. Every minute, after
                 a forced GC: messages applied, JS heap, wasm memory, renderer
                 memory, DOM nodes, status, live workers.
  2. reconnects: the page through a proxy that cuts every connection right
                 after CONNACK, --reconnects times; the script presses the
                 page's "Reconnect now" button after each cut (the automatic
                 backoff would grow to 30 s). JS heap, wasm memory, DOM nodes
                 and event listeners, live workers and renderer memory are
                 compared after a warm-up of 20 cycles and after the last one.

Exceptions, console messages and browser log entries are all recorded and
printed. At the end every figure, and each check as PASS/FAIL; the exit status
is 1 when a check fails. The bounds and their reasons are in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import cdp  # noqa: E402
from flood import (  # noqa: E402
    CHROMIUM_ARGS, DEVBROKER, CpuMeter, Site, Verdicts, build_devbroker, build_env, build_page,
    fmt_cpu, loadgen, loadgen_report, mib, percentile, renderer_pids, renderer_rss, start_mosquitto, warm_up,
)

SOAK_DIST = ROOT / "target" / "soak-dist"
WORK = ROOT / "target" / "soak"
MIB = 1 << 20

# The soak's memory bound: JS heap after GC (and wasm memory) at the end may
# exceed the baseline by at most this fraction plus this many bytes.
SOAK_GROWTH_FRACTION = 0.25
SOAK_GROWTH_BYTES = 2 * MIB
# The reconnect check's bounds, over all cycles after the warm-up.
CYCLE_HEAP_BYTES = 1 * MIB
CYCLE_WASM_BYTES = 0
CYCLE_DOM_SLACK = 5

# Page-side instruments, installed before the page's own scripts:
# - the status line's transitions (connecting / connected / reconnecting /
#   disconnected), recorded by a MutationObserver on `[role=status]`, so a
#   short "reconnecting" is not missed between two polls: a count of
#   reconnects (connected after reconnecting) and the last 30 changes;
# - every Worker the page creates is counted, and its `error` events (an
#   uncaught exception inside the worker) are recorded. The listener does not
#   cancel the event, so the page sees what it would see anyway.
INSTRUMENT_JS = r"""
(() => {
  const s = window.__soak = { changes: [], last: null, reconnects: 0, pending: false, created: 0, workerErrors: [] };
  const kind = (t) => {
    for (const k of ['reconnecting', 'connecting', 'connected', 'disconnected']) if (t.startsWith(k)) return k;
    return 'other';
  };
  const look = () => {
    const el = document.querySelector('[role=status]');
    const text = el ? el.textContent : '';
    const k = el ? kind(text) : 'none';
    if (k !== s.last) {
      s.last = k;
      if (k === 'reconnecting') s.pending = true;
      if (k === 'connected' && s.pending) { s.reconnects++; s.pending = false; }
      // Only the last 30 changes are kept: the instrument must not grow.
      s.changes.push([Date.now(), k, text.slice(0, 300)]);
      if (s.changes.length > 30) s.changes.shift();
    }
    return el;
  };
  let watched = null;
  const observer = new MutationObserver(look);
  const attach = () => {
    const el = look();
    if (el && el !== watched) {
      observer.disconnect();
      observer.observe(el, { childList: true, characterData: true, subtree: true });
      watched = el;
    }
  };
  setInterval(attach, 250);
  document.addEventListener('DOMContentLoaded', attach);
  const Base = window.Worker;
  window.Worker = class extends Base {
    constructor(url, options) {
      super(url, options);
      s.created++;
      this.addEventListener('error', (e) => s.workerErrors.push(`${url}: ${e.message || e.type}`));
    }
  };
})();
"""

# One look at the page: the probe's counters, the status, the DOM.
SNAPSHOT_JS = r"""
() => {
  const m = window.__mqdash || {};
  const s = window.__soak || {};
  const el = document.querySelector('[role=status]');
  let nodes = 0;
  const walk = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
  while (walk.nextNode()) nodes++;
  return {
    applied: m.applied || 0, seen: m.seen || 0, panels: m.panels || 0,
    dropped_caps: m.dropped_caps || 0,
    probe_wasm: m.memory ? m.memory.buffer.byteLength : null,
    heap: performance.memory ? performance.memory.usedJSHeapSize : null,
    status: el ? el.textContent : null,
    nodes, elements: document.getElementsByTagName('*').length,
    workers_created: s.created || 0, worker_errors: (s.workerErrors || []).slice(),
    time_origin: performance.timeOrigin,
  };
}
"""

# The probe's latency samples (src/probe.rs pushes one per redraw onto
# window.__mqdash.lat): taken out so the array does not grow for 30 minutes
# (which would show as a leak that is the harness's own), and reported.
DRAIN_LAT_JS = r"""
() => {
  const m = window.__mqdash;
  const done = [];
  if (m && m.lat) while (m.lat.length && m.lat[0].length >= 3) done.push(m.lat.shift());
  return done.map((x) => x[2] - x[0]);
}
"""

# Waits in the page (up to `ms`) until the status says "reconnecting" and the
# "Reconnect now" button is there; clicks it when asked. Returns what it saw.
RECONNECT_NOW_JS = r"""
async ({ ms, click }) => {
  const end = Date.now() + ms;
  const find = () => [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Reconnect now');
  for (;;) {
    const el = document.querySelector('[role=status]');
    const status = el ? el.textContent : '';
    const button = find();
    if (status.startsWith('reconnecting') && button) {
      if (click) button.click();
      return { ready: true, status };
    }
    if (Date.now() > end) return { ready: false, status };
    await new Promise((r) => setTimeout(r, 5));
  }
}
"""


def log(msg: str) -> None:
    print(f"[soak] {msg}", flush=True)


# ------------------------------------------------------------------ the proxy


class Proxy:
    """`devbroker proxy` with a plan, its stdout read in a thread: counts of
    connections opened and cut, every line kept in a log file."""

    OPEN = re.compile(r"^proxy: conn (\d+): open")
    CUT = re.compile(r"^proxy: conn (\d+): cut-(?:before|after) at ")
    CLOSED = re.compile(r"^proxy: conn (\d+): (?:closed|ended)")
    READY = re.compile(r"^devbroker: proxy listening (ws://\S+)")

    def __init__(self, upstream: str, plan: list[str], chunking: str, log_path: Path):
        cmd = [str(DEVBROKER), "proxy", "--upstream", upstream, "--chunking", chunking, "--plan", ",".join(plan)]
        shown = plan[0] if len(set(plan)) == 1 else "…"
        log(f"$ {DEVBROKER} proxy --upstream {upstream} --chunking {chunking} --plan {shown} (x{len(plan)})")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.log_file = open(log_path, "w")
        self.url: str | None = None
        self.opens = self.cuts = self.closes = 0
        self.other: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(15) or not self.url:
            self.close()
            raise RuntimeError(f"devbroker proxy did not start; see {log_path}")

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.log_file.write(f"{time.time():.3f} {line}\n")
            if m := self.READY.match(line):
                self.url = m.group(1)
                self._ready.set()
            elif self.OPEN.match(line):
                self.opens += 1
            elif self.CUT.match(line):
                self.cuts += 1
            elif self.CLOSED.match(line):
                self.closes += 1
            else:
                self.other.append(line)
        self.log_file.flush()
        self._ready.set()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.1)
        self.log_file.close()


def wait_until(pred, timeout: float, what: str, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------ the page


class Console:
    """Everything the page reports over DevTools: uncaught exceptions, console
    calls of every type, browser log entries (network, security, ...), and a
    renderer crash. Nothing is filtered; the summary prints it all."""

    def __init__(self, browser: cdp.Browser, page: cdp.Page):
        self.exceptions: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.log: list[tuple[str, str, str]] = []
        self.crashed = False
        browser.listen(page.session, self._on_event)
        page.send("Log.enable")
        page.send("Inspector.enable")

    def _on_event(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text", "exception")
            where = f" ({d.get('url', '')}:{d.get('lineNumber', '')})" if d.get("url") else ""
            self.exceptions.append(text + where)
        elif method == "Runtime.consoleAPICalled":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p.get("type", "?"), args))
        elif method == "Log.entryAdded":
            e = p["entry"]
            self.log.append((e.get("level", "?"), e.get("source", "?"), e.get("text", "")))
        elif method == "Inspector.targetCrashed":
            self.crashed = True

    def errors(self) -> list[str]:
        """Console errors and assertions (the page's only console.error is
        the panic hook's 'panicked at ...')."""
        return [t for k, t in self.console if k in ("error", "assert")]

    def panics(self) -> list[str]:
        return [t for t in self.exceptions + self.errors() if "panicked" in t or "unreachable" in t]

    def figures(self) -> dict:
        return {"exceptions": self.exceptions, "console": self.console, "log": self.log, "crashed": self.crashed}


def open_page(browser: cdp.Browser, site: Site, broker_url: str) -> tuple[cdp.Page, Console]:
    page = browser.new_page(init_script=INSTRUMENT_JS)
    console = Console(browser, page)
    page.goto(f"{site.url}/?broker={broker_url}&sub=%23&connect=1&probe=1")
    page.wait_for("document.querySelector('[role=status]') !== null", timeout=30)
    return page, console


def status(page: cdp.Page) -> str:
    return page.evaluate("(document.querySelector('[role=status]') || {}).textContent || ''")


def wasm_memories(page: cdp.Page) -> list[int]:
    """byteLength of every WebAssembly.Memory in the page, found through the
    heap (Runtime.queryObjects), so it needs no probe. The handles are released
    before returning so they do not keep anything alive for the next GC."""
    group = "soak-wasm"
    try:
        proto = page.send("Runtime.evaluate", {"expression": "WebAssembly.Memory.prototype",
                                               "objectGroup": group})["result"]["objectId"]
        found = page.send("Runtime.queryObjects", {"prototypeObjectId": proto, "objectGroup": group})
        r = page.send("Runtime.callFunctionOn", {
            "objectId": found["objects"]["objectId"], "returnByValue": True,
            "functionDeclaration": "function () { return this.map((m) => m.buffer.byteLength); }"})
        return r["result"]["value"]
    finally:
        page.send("Runtime.releaseObjectGroup", {"objectGroup": group})


def live_workers(browser: cdp.Browser, page: cdp.Page) -> int:
    """Dedicated workers alive in the page's browser context (Target.getTargets
    lists them once target discovery is on; their URL stays empty unless
    DevTools attaches to them, which this script does not)."""
    infos = browser.send("Target.getTargets")["targetInfos"]
    return sum(1 for t in infos if t["type"] == "worker" and t.get("browserContextId") == page.context)


def worker_threads(browser_pid: int) -> int:
    """Threads named DedicatedWorker in this browser's renderer processes
    (a cross-check of live_workers that does not go through DevTools)."""
    n = 0
    for d in renderer_pids(browser_pid):
        try:
            for t in os.listdir(f"/proc/{d}/task"):
                with open(f"/proc/{d}/task/{t}/comm") as f:
                    n += f.read().startswith("DedicatedWorker")
        except OSError:
            continue
    return n


def measure(browser: cdp.Browser, page: cdp.Page, at: float) -> dict:
    """Everything the page keeps, right after two forced full GCs."""
    latency = page.call(DRAIN_LAT_JS)
    wasm = wasm_memories(page)
    page.send("HeapProfiler.collectGarbage")
    page.send("HeapProfiler.collectGarbage")
    snap = page.call(SNAPSHOT_JS)
    counters = page.send("Memory.getDOMCounters")
    workers = live_workers(browser, page)
    return {
        "at": at, **snap, "latency": latency, "wasm": max(wasm, default=None), "wasm_memories": wasm,
        "dom_nodes": counters.get("nodes"), "listeners": counters.get("jsEventListeners"),
        "documents": counters.get("documents"), "workers": workers,
        "worker_threads": worker_threads(browser.proc.pid), "pss": renderer_rss(browser.proc.pid),
    }


def transitions(page: cdp.Page) -> tuple[int, list[list]]:
    """Reconnects the status line showed ('connected' after 'reconnecting'),
    and its last 30 changes."""
    t = page.evaluate("window.__soak ? { n: window.__soak.reconnects, changes: window.__soak.changes } : null")
    return (t["n"], t["changes"]) if t else (0, [])


def new_browser() -> cdp.Browser:
    browser = cdp.Browser("/usr/bin/chromium", CHROMIUM_ARGS)
    browser.send("Target.setDiscoverTargets", {"discover": True})
    return browser


# ------------------------------------------------------------- phase 1: soak


def soak_cuts(soak_secs: float, every: float) -> int:
    """How many cuts fit with 20 s to spare at the end (to be back connected)."""
    return max(0, int((soak_secs - 20) // every)) if every > 0 else 0


def run_soak(args, site: Site, broker) -> dict:
    secs = args.soak_minutes * 60
    cuts = soak_cuts(secs, args.reconnect_every_secs)
    nth = int(args.rate * args.reconnect_every_secs)
    plan = [f"down:PUBLISH0:cut-before@{nth}"] * cuts
    proxy = Proxy(broker.ws_url, plan, args.chunking, WORK / "soak-proxy.log")
    browser = new_browser()
    try:
        page, console = open_page(browser, site, proxy.url)
        page.wait_for("document.querySelector('[role=status]').textContent.startsWith('connected to ')", timeout=30)
        warm_up(page, "mqdash", broker.tcp_port)
        return soak_loop(args, browser, page, console, broker, proxy, secs, cuts, nth)
    finally:
        browser.close()
        proxy.close()


def soak_loop(args, browser, page, console, broker, proxy, secs, cuts, nth) -> dict:
    log(f"phase 1: soak, {args.rate:,} msg/s for {secs / 60:.0f} min through the proxy, "
        f"{cuts} cuts (each connection at its {nth:,}th QoS 0 PUBLISH)")
    samples = [measure(browser, page, 0.0)]
    meter = CpuMeter()
    meter.start()
    gen = loadgen(broker.tcp_port, args.rate, args.topics, args.payload_size, secs)
    t0 = time.monotonic()
    next_sample = 60.0
    crashed = None
    cpu = None
    while gen.poll() is None:
        time.sleep(0.5)
        elapsed = time.monotonic() - t0
        if cpu is None and elapsed >= secs - 2:
            cpu = meter.stop()  # while the generator still runs, so that it is counted
        if elapsed >= next_sample and elapsed < secs - 5:
            try:
                samples.append(measure(browser, page, elapsed))
            except cdp.CdpError as e:
                crashed = str(e)
                log(f"the page stopped answering: {e}")
                break
            s = samples[-1]
            log(f"  {elapsed / 60:4.1f} min: applied {s['applied']:,}, heap {mib(s['heap'])}, wasm {mib(s['wasm'])}, "
                f"renderer {mib(s['pss'])}, nodes {s['nodes']}, workers {s['workers']}, status {s['status'][:40]!r}; "
                f"proxy: {proxy.opens} opened, {proxy.cuts} cut")
            next_sample += 60.0
    cpu = cpu or meter.stop()
    if crashed:
        gen.kill()
    report = loadgen_report(gen) if not crashed else {"sent": 0, "rate": 0, "elapsed_secs": 0}
    samples.append(measure(browser, page, time.monotonic() - t0))
    time.sleep(3)  # the last messages in flight; then the final state
    final_status = status(page)
    reconnects, changes = transitions(page)
    return {
        "secs": secs, "planned_cuts": cuts, "cut_at_publish": nth, "loadgen": report, "samples": samples,
        "changes": changes, "reconnects": reconnects, "final_status": final_status,
        "proxy_opens": proxy.opens, "proxy_cuts": proxy.cuts, "proxy_other": proxy.other[-20:],
        "cpu": cpu, "crashed": crashed, **console.figures(),
        "panics": console.panics(), "console_errors": console.errors(),
    }


# ------------------------------------------------------- phase 2: reconnects


def run_reconnects(args, site: Site, broker) -> dict:
    n = args.reconnects
    warm = 20 if n > 40 else max(1, n // 2)
    proxy = Proxy(broker.ws_url, ["down:CONNACK:cut-after"] * n, "random", WORK / "reconnect-proxy.log")
    browser = new_browser()
    try:
        page, console = open_page(browser, site, proxy.url)
        log(f"phase 2: {n:,} connections cut right after CONNACK, 'Reconnect now' pressed after each "
            f"(measured after cycle {warm} and after cycle {n})")
        t0 = time.monotonic()
        before, after, clicks = cycle(browser, page, proxy, n, warm, t0)
        page.wait_for("document.querySelector('[role=status]').textContent.startsWith('connected to ')", timeout=60)
        took = time.monotonic() - t0
        delivered = check_delivery(page, broker.tcp_port)
        time.sleep(3)  # no further connection may come
        connected = measure(browser, page, time.monotonic() - t0)
        return {
            "cycles": n, "warm_up": warm, "before": before, "after": after, "connected": connected,
            "clicks": clicks, "secs": took, "proxy_opens": proxy.opens, "proxy_cuts": proxy.cuts,
            "proxy_other": proxy.other[-20:], "delivered_after": delivered, "final_status": status(page),
            "reconnects_seen": transitions(page)[0], **console.figures(),
            "panics": console.panics(), "console_errors": console.errors(),
        }
    finally:
        browser.close()
        proxy.close()


def cycle(browser, page, proxy: Proxy, n: int, warm: int, t0: float) -> tuple[dict, dict, int]:
    """For each of the n cuts: wait for it, wait for the page to offer
    "Reconnect now", measure at the warm-up cycle and the last one (the page is
    in the same state both times: waiting to reconnect), press the button."""
    before = after = None
    clicks = 0
    for k in range(1, n + 1):
        wait_until(lambda: proxy.cuts >= k, 60, f"cut {k} at the proxy")
        seen = page.call(RECONNECT_NOW_JS, {"ms": 45_000, "click": False}, timeout=60)
        if not seen["ready"]:
            raise RuntimeError(f"cycle {k}: no 'Reconnect now' within 45 s; status {seen['status']!r}")
        if k == warm:
            before = measure(browser, page, time.monotonic() - t0)
        if k == n:
            after = measure(browser, page, time.monotonic() - t0)
        clicks += bool(page.call(RECONNECT_NOW_JS, {"ms": 0, "click": True})["ready"])
        if k % 100 == 0:
            log(f"  {k:,} cycles in {time.monotonic() - t0:.0f} s; proxy: {proxy.opens} opened, {proxy.cuts} cut")
    return before, after, clicks


def check_delivery(page: cdp.Page, tcp_port: int, timeout: float = 15.0) -> bool:
    """After the last reconnect the subscription must be back: a message
    published to the broker reaches the page's model (the page saw none before
    in this phase, so any counted message is one published now)."""
    try:
        warm_up(page, "mqdash", tcp_port, timeout)
    except RuntimeError:
        return False
    return True


# ------------------------------------------------------------------ summary


def pct(a: float | None, b: float | None) -> str:
    return "n/a" if not a or b is None else f"{b / a - 1:+.1%}"


def delta(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None else f"{(b - a) / 1024:+,.0f} KiB"


def fmt_ms(x: float | None, unit: str = " ms") -> str:
    return "n/a" if x is None else f"{x:,.0f}{unit}"


def minute_rates(samples: list[dict]) -> list[float]:
    """Messages applied per second over each interval between samples."""
    rates = []
    for a, b in zip(samples, samples[1:]):
        if b["at"] - a["at"] >= 30:
            rates.append((b["applied"] - a["applied"]) / (b["at"] - a["at"]))
    return rates


def baseline_sample(samples: list[dict], secs: float) -> dict:
    """The sample at 2 minutes (at 1 minute in runs shorter than 4 minutes):
    by then 1,000 topics exist and their histories are full."""
    at = 120.0 if secs >= 240 else 60.0
    later = [s for s in samples[1:-1] if s["at"] >= at - 5]
    return later[0] if later else samples[-1]


def print_messages(c: dict, indent: str = "  ") -> None:
    for what, items in (("uncaught exceptions", c["exceptions"]), ("console messages", c["console"]),
                        ("browser log entries", c["log"])):
        print(f"{indent}{what:22s}{len(items)}")
        for item in items[:10]:
            print(f"{indent}    {item if isinstance(item, str) else ' | '.join(item)}"[:300])
        if len(items) > 10:
            print(f"{indent}    ... and {len(items) - 10} more (all in --json)")


def summarize_soak(args, s: dict, v: Verdicts) -> dict:
    samples = s["samples"]
    first, last = samples[0], samples[-1]
    base = baseline_sample(samples, s["secs"])
    rates = minute_rates(samples)
    lg = s["loadgen"]
    print(f"\nSoak: {s['secs'] / 60:.0f} min at {args.rate:,} msg/s ({args.topics:,} topics, "
          f"{args.payload_size}-byte payloads), proxy chunking {args.chunking!r}")
    print(f"  loadgen sent          {lg['sent']:,} in {lg['elapsed_secs']:.0f} s ({lg['rate']:,.0f} msg/s)")
    applied = last["applied"] - first["applied"]
    print(f"  messages applied      {applied:,} ({applied / lg['sent'] if lg['sent'] else 0:.2%} of sent; "
          f"QoS 0 sent while a connection is down is not delivered); panels {last['panels']}")
    if rates:
        print(f"  applied per minute    min {min(rates):,.0f} msg/s, median {statistics.median(rates):,.0f} msg/s "
              f"(per interval: {', '.join(f'{r:,.0f}' for r in rates)})")
    print(f"  reconnects            {s['reconnects']} seen on the page (reconnecting -> connected); "
          f"{s['planned_cuts']} planned cuts, {s['proxy_cuts']} made; {s['proxy_opens']} connections opened")
    print(f"  final status          {s['final_status']!r}")
    print(f"  JS heap after GC      {mib(base['heap'])} at {base['at'] / 60:.1f} min -> {mib(last['heap'])} at the end "
          f"({pct(base['heap'], last['heap'])}, {delta(base['heap'], last['heap'])}); {mib(first['heap'])} before the load")
    print(f"  wasm memory           {mib(base['wasm'])} -> {mib(last['wasm'])} "
          f"({pct(base['wasm'], last['wasm'])}, {delta(base['wasm'], last['wasm'])})")
    print(f"  renderer memory (PSS) {mib(base['pss'])} -> {mib(last['pss'])} ({pct(base['pss'], last['pss'])})")
    print(f"  DOM nodes             {base['nodes']} -> {last['nodes']} (live in the document); "
          f"DOM counters {base['dom_nodes']} -> {last['dom_nodes']}, listeners {base['listeners']} -> {last['listeners']}")
    print(f"  live workers          {base['workers']} -> {last['workers']} (DedicatedWorker threads "
          f"{base['worker_threads']} -> {last['worker_threads']}); created by the page {last['workers_created']}")
    lat = [ms for x in samples for ms in x["latency"]]
    print(f"  publish-to-screen     p50 {fmt_ms(percentile(lat, 50))}, p99 {fmt_ms(percentile(lat, 99))}, "
          f"max {fmt_ms(max(lat, default=None))} ({len(lat):,} redraws sampled by the probe)")
    print("  per minute             min    applied      heap      wasm  renderer  nodes  p50/p99 ms  status")
    for x in samples:
        p50, p99 = percentile(x["latency"], 50), percentile(x["latency"], 99)
        print(f"                      {x['at'] / 60:5.1f} {x['applied']:>10,} {mib(x['heap']):>9} {mib(x['wasm']):>9} "
              f"{mib(x['pss']):>9} {x['nodes']:>6} {fmt_ms(p50, ''):>5}/{fmt_ms(p99, ''):<5}  {x['status'][:40]}")
    print(f"  CPU while sending     {fmt_cpu(s['cpu'])} (cores)")
    print_messages(s)
    if s["proxy_other"]:
        print(f"  proxy also said       {s['proxy_other'][:5]}")

    errors = s["exceptions"] + s["console_errors"] + [f"worker: {e}" for e in last["worker_errors"]]
    v.add("soak: no uncaught exception, panic or console error", not errors and not s["crashed"],
          f"{len(s['exceptions'])} exceptions, {len(s['console_errors'])} console errors "
          f"({len(s['panics'])} panics), {len(last['worker_errors'])} worker errors"
          + (f"; page stopped answering: {s['crashed']}" if s["crashed"] else ""))
    v.add("soak: the page ends connected", s["final_status"].startswith("connected to "), repr(s["final_status"]))
    v.add("soak: reconnects seen = planned cuts",
          s["reconnects"] == s["planned_cuts"] == s["proxy_cuts"] and s["proxy_opens"] == s["planned_cuts"] + 1,
          f"{s['reconnects']} seen, {s['planned_cuts']} planned, {s['proxy_cuts']} cut, "
          f"{s['proxy_opens']} connections opened")
    if rates:
        med = statistics.median(rates)
        v.add(f"soak: median applied rate >= 95% of {args.rate:,} msg/s", med >= 0.95 * args.rate,
              f"median {med:,.0f}, min {min(rates):,.0f} msg/s")
    for key, name in (("heap", "JS heap after GC"), ("wasm", "wasm memory")):
        a, b = base[key], last[key]
        bound = a * (1 + SOAK_GROWTH_FRACTION) + SOAK_GROWTH_BYTES if a else None
        v.add(f"soak: {name} bounded (end <= {SOAK_GROWTH_FRACTION:.0%} + {SOAK_GROWTH_BYTES // MIB} MiB "
              f"over minute {base['at'] / 60:.0f})", bound is not None and b is not None and b <= bound,
              f"{mib(a)} -> {mib(b)} ({pct(a, b)}, {delta(a, b)})")
    return {**s, "baseline_at": base["at"], "rates": rates,
            "rate_min": min(rates, default=None), "rate_median": statistics.median(rates) if rates else None}


def summarize_reconnects(r: dict, v: Verdicts) -> dict:
    b, a, c = r["before"], r["after"], r["connected"]
    n, warm = r["cycles"], r["warm_up"]
    per = n - warm
    print(f"\nReconnects: {n:,} connections cut right after CONNACK; 'Reconnect now' pressed {r['clicks']:,} times; "
          f"{r['secs']:.0f} s ({r['secs'] / n * 1000:.0f} ms per cycle)")
    print(f"  connections at proxy  {r['proxy_opens']:,} opened, {r['proxy_cuts']:,} cut (expected {n + 1:,} and {n:,})")
    print(f"  after the last cycle  status {r['final_status']!r}; a message published then "
          f"{'reached' if r['delivered_after'] else 'did NOT reach'} the model")
    print(f"  measured              after cycle {warm} -> after cycle {n} ({per} cycles), both while "
          f"waiting to reconnect, after two forced GCs")
    print(f"  JS heap after GC      {mib(b['heap'])} -> {mib(a['heap'])} ({pct(b['heap'], a['heap'])}, "
          f"{delta(b['heap'], a['heap'])}, {(a['heap'] - b['heap']) / per:+.0f} bytes per cycle)")
    print(f"  wasm memory           {mib(b['wasm'])} -> {mib(a['wasm'])} ({delta(b['wasm'], a['wasm'])})")
    print(f"  DOM nodes             {b['nodes']} -> {a['nodes']} in the document; DOM counters "
          f"{b['dom_nodes']} -> {a['dom_nodes']}; event listeners {b['listeners']} -> {a['listeners']}")
    print(f"  live workers          {b['workers']} -> {a['workers']} (DedicatedWorker threads {b['worker_threads']} "
          f"-> {a['worker_threads']}); once connected {c['workers']} ({c['worker_threads']} threads); "
          f"created by the page {c['workers_created']:,}")
    print(f"  renderer memory (PSS) {mib(b['pss'])} -> {mib(a['pss'])} ({pct(b['pss'], a['pss'])})")
    print(f"  status line           showed 'connected' after 'reconnecting' {r['reconnects_seen']:,} times (the page "
          f"applies its notices once per animation frame: a connection cut within the frame of its CONNACK "
          f"never shows 'connected')")
    print_messages(r)

    errors = r["exceptions"] + r["console_errors"] + [f"worker: {e}" for e in c["worker_errors"]]
    v.add("reconnects: no uncaught exception, panic or console error", not errors and not r["crashed"],
          f"{len(r['exceptions'])} exceptions, {len(r['console_errors'])} console errors "
          f"({len(r['panics'])} panics), {len(c['worker_errors'])} worker errors")
    v.add("reconnects: exactly the expected connections reached the proxy",
          r["proxy_opens"] == n + 1 and r["proxy_cuts"] == n,
          f"{r['proxy_opens']:,} opened (expected {n + 1:,}), {r['proxy_cuts']:,} cut (expected {n:,})")
    v.add("reconnects: connected at the end, subscription restored",
          r["final_status"].startswith("connected to ") and r["delivered_after"],
          f"{r['final_status']!r}, message {'delivered' if r['delivered_after'] else 'NOT delivered'}")
    v.add("reconnects: no leaked worker", a["workers"] == b["workers"] and c["workers"] == b["workers"] + 1
          and a["worker_threads"] == b["worker_threads"],
          f"{b['workers']} -> {a['workers']} waiting, {c['workers']} connected; threads "
          f"{b['worker_threads']} -> {a['worker_threads']}")
    grow = a["heap"] - b["heap"]
    v.add(f"reconnects: JS heap after GC grew < {CYCLE_HEAP_BYTES // MIB} MiB over {per} cycles",
          grow < CYCLE_HEAP_BYTES, f"{delta(b['heap'], a['heap'])} ({grow / per:+.0f} bytes per cycle)")
    v.add("reconnects: wasm memory did not grow", a["wasm"] - b["wasm"] <= CYCLE_WASM_BYTES,
          f"{mib(b['wasm'])} -> {mib(a['wasm'])}")
    dom_ok = all(abs(a[k] - b[k]) <= CYCLE_DOM_SLACK for k in ("nodes", "dom_nodes", "listeners"))
    v.add(f"reconnects: DOM nodes and event listeners unchanged (+-{CYCLE_DOM_SLACK})", dom_ok,
          f"nodes {b['nodes']} -> {a['nodes']}, DOM counter {b['dom_nodes']} -> {a['dom_nodes']}, "
          f"listeners {b['listeners']} -> {a['listeners']}")
    return r


def commit_info() -> dict:
    def git(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "src", "public", "index.html", "style", "crates", "Cargo.lock")
    return {"commit": git("rev-parse", "--short", "HEAD"), "page_sources_dirty": bool(dirty)}


def summarize(args, info: dict, soak: dict | None, rec: dict | None) -> tuple[dict, bool]:
    """Prints every figure and the checks; `info` is commit_info() from when the page was built."""
    v = Verdicts()
    print("\n" + "=" * 78)
    built = "HEAD (--no-build: the page is an earlier build)" if args.no_build else "built at commit"
    print(f"mqdash page soak · {time.strftime('%Y-%m-%d %H:%M')} · {built} {info['commit']}"
          f"{' (page sources modified)' if info['page_sources_dirty'] else ''} · {os.cpu_count()} cores · "
          f"load average {os.getloadavg()[0]:.1f}")
    print("=" * 78)
    out: dict = {"args": {k: str(x) for k, x in vars(args).items()}, **info, "date": time.strftime("%Y-%m-%d %H:%M")}
    if soak:
        out["soak"] = summarize_soak(args, soak, v)
    if rec:
        out["reconnects"] = summarize_reconnects(rec, v)
    v.print("Checks:")
    out["checks"] = [{"name": a, "pass": b, "figure": c} for a, b, c in v.rows]
    return out, all(ok is not False for _, ok, _ in v.rows)


# --------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--soak-minutes", type=float, default=30.0, help="phase 1 length (default 30; 0 skips it)")
    ap.add_argument("--rate", type=int, default=5000, help="phase 1 messages per second (default 5000)")
    ap.add_argument("--topics", type=int, default=1000, help="phase 1 topics (default 1000)")
    ap.add_argument("--payload-size", type=int, default=100, help="phase 1 payload bytes (default 100)")
    ap.add_argument("--reconnect-every-secs", type=float, default=180.0,
                    help="phase 1: the proxy cuts each connection after rate x this many messages (default 180)")
    ap.add_argument("--chunking", choices=("random", "packets"), default="random",
                    help="phase 1 proxy: re-chunk frames at random with delays (default; at 5,000 msg/s it cost "
                         "no more CPU than 'packets') or forward whole packets")
    ap.add_argument("--reconnects", type=int, default=1000, help="phase 2 cycles (default 1000; 0 skips it)")
    ap.add_argument("--no-build", action="store_true", help="use the existing builds in target/")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    info = commit_info()  # what the page is built from (HEAD may move during a 40-minute run)
    if not args.no_build:
        env = build_env()
        build_devbroker(env)
        build_page(SOAK_DIST, env)
    if not DEVBROKER.exists() or not any(SOAK_DIST.glob("*.wasm")):
        raise SystemExit(f"{DEVBROKER} or {SOAK_DIST} is missing: run without --no-build")
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mqdash-soak-"))
    site = Site(SOAK_DIST)
    broker = start_mosquitto(tmp)
    soak = rec = None
    try:
        log(f"mosquitto on 127.0.0.1:{broker.tcp_port} (TCP) and {broker.ws_url}; page from {SOAK_DIST}")
        if args.soak_minutes > 0:
            soak = run_soak(args, site, broker)
        if args.reconnects > 0:
            rec = run_reconnects(args, site, broker)
    finally:
        broker.stop()
        log_path = Path(broker.dir) / "mosquitto.log"
        if log_path.exists():
            shutil.copy(log_path, WORK / "mosquitto.log")
        broker.close()
        site.close()
        shutil.rmtree(tmp, ignore_errors=True)
    out, ok = summarize(args, info, soak, rec)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str))
        log(f"figures written to {args.json}")
    log(f"proxy logs and mosquitto's log in {WORK}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
