#!/usr/bin/env python3
"""mqdash flood benchmark (issue 5). Run it through `bash bench/run.sh`, which
sets PATH and uses the project's Python environment.

One command, four phases in one headless Chromium:
  1. flood:    mosquitto on loopback, `devbroker loadgen` publishing --rate msg/s
               over --topics topics with --payload-size bytes for --duration s,
               and the RELEASE build of mqdash subscribed to `#` with `?probe=1`
               (src/probe.rs puts counters and latency samples on window.__mqdash);
  2. baseline: the same load for --baseline-duration s into a page that uses
               MQTT.js (node_modules/mqtt/dist/mqtt.min.js) and only counts;
  3. latency:  mqdash again at --latency-rate msg/s for --latency-duration s;
  4. codec:    PUBLISH decoding alone, mqdash's session core as wasm in
               Chromium vs mqtt-packet in Node on the same bytes;
  and, when asked for:
  --raw:       the browser's ceiling, a page that only counts WebSocket
               frames (in a worker before the flood; after it on the main
               thread, then in a worker again), and --pairs more of that
               worker page and mqdash in turn; the ingest verdict is the
               mean of every mqdash figure over the mean of every worker
               figure of the run;
  --scale:     --scale-topics retained topics in a mosquitto of its own before
               mqdash subscribes: time until all are in the tree, long tasks,
               memory, and frame gaps once it settled.
Then every figure, and each target as PASS/FAIL.

Chromium is driven over a bare DevTools pipe (bench/cdp.py), not Playwright:
Playwright reports every WebSocket frame to itself, which under a flood costs
more than the page does. Page-side instruments (an init script, the same for
both pages): PerformanceObservers for 'longtask' and 'long-animation-frame',
and a requestAnimationFrame loop recording the gap between frames. JS heap is
performance.memory.usedJSHeapSize (Chromium runs with
--enable-precise-memory-info); wasm memory is the byteLength of the module's
memory, which the probe exposes; CPU and renderer memory come from /proc.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from brokers import Mosquitto  # noqa: E402  (owned by tests/browser; used as is)

sys.path.insert(0, str(ROOT / "bench"))
import cdp  # noqa: E402

BENCH_DIST = ROOT / "target" / "bench-dist"
PROFILE_DIST = ROOT / "target" / "bench-profile-dist"
PROFILE_TARGET = ROOT / "target" / "bench-prof-target"
WORK = ROOT / "target" / "bench"
DEVBROKER = ROOT / "target" / "bench-tools" / "devbroker"
CODEC_PKG = WORK / "codec-pkg"

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-precise-memory-info",
]

# Mosquitto's defaults drop QoS 0 messages for a subscriber as soon as 1,000
# are queued for it (max_queued_messages), i.e. after a 20 ms hiccup at
# 50,000 msg/s. These settings let the broker buffer instead, so a shortfall
# shows up in the page's counts, not as silent broker drops. The queue is still
# bounded (by bytes) so a page that cannot keep up cannot exhaust memory.
MOSQUITTO_TUNING = [
    "max_inflight_messages 0",      # QoS 1/2 window: no limit (QoS 0 has none)
    "max_queued_messages 0",        # no per-client message-count limit ...
    "max_queued_bytes 1000000000",  # ... but at most ~1 GB queued per client
    "set_tcp_nodelay true",
    "sys_interval 1",               # $SYS counters every second (BrokerStats)
]

INSTRUMENT_JS = r"""
(() => {
  const b = window.__bench = { gaps: [], longtasks: [], last: 0 };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { b.longtaskError = String(e); }
  // Long animation frames (> 50 ms) split into script, style+layout and the
  // rest of rendering, with the scripts that ran: what the long tasks were.
  b.loaf = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const end = e.startTime + e.duration;
        const scripts = (e.scripts || []).map((s) => [s.invoker || s.invokerType, Math.round(s.duration)]);
        b.loaf.push({
          start: e.startTime, duration: e.duration,
          script: (e.scripts || []).reduce((a, s) => a + s.duration, 0),
          layout: e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0,
          render: e.renderStart ? end - e.renderStart : 0,
          scripts: scripts.sort((a, b) => b[1] - a[1]).slice(0, 4),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch (e) { b.loafError = String(e); }
  const frame = (t) => {
    if (b.last) b.gaps.push(t - b.last);
    b.last = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
"""

SAMPLE_JS = r"""
(kind) => {
  const b = window.__bench || { gaps: [], longtasks: [] };
  const out = {
    t: Date.now(),
    now: performance.now(),
    heap: performance.memory ? performance.memory.usedJSHeapSize : null,
    gaps: b.gaps.splice(0),
    longtasks: b.longtasks.splice(0),
    loaf: (b.loaf || []).splice(0),
  };
  if (kind === 'mqdash') {
    const m = window.__mqdash;
    if (m) {
      out.seen = m.seen || 0; out.applied = m.applied || 0; out.dropped_caps = m.dropped_caps || 0;
      out.dropped_new_topics = m.dropped_new_topics || 0; out.history_dropped = m.history_dropped || 0;
      out.batches = m.batches || 0; out.panels = m.panels || 0;
      out.wasm = m.memory ? m.memory.buffer.byteLength : null;
      // The page's "The page is N s behind the broker…" notice, while shown.
      const behind = document.querySelector('p.behind');
      out.behind = behind ? behind.textContent : null;
      // Samples whose after-paint stamp has landed; the rest stay for next time.
      const done = [];
      while (m.lat.length && m.lat[0].length >= 3) done.push(m.lat.shift());
      out.lat = done;
    } else {
      out.seen = 0; out.applied = 0; out.lat = [];
    }
  } else {
    const s = window.__baseline || {};
    out.seen = s.count || 0; out.applied = out.seen; out.error = s.error || null;
  }
  return out;
}
"""

# What is on screen: element count, tree rows and topic panels rendered (both
# lists are windowed, so these stay small however many topics there are).
DOM_JS = r"""
() => ({
  nodes: document.getElementsByTagName('*').length,
  treeitems: document.querySelectorAll('[role=treeitem]').length,
  panels: document.querySelectorAll('article.panel').length,
})
"""

# One round trip through the page's rendering: from now to the next animation
# frame and the first task after it (the frame has been painted by then).
RAF_JS = r"""
() => new Promise((resolve) => {
  const t = performance.now();
  requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t), 0));
})
"""


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def fmt_num(x, digits=0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def when(longtasks: list, t0: float, most: int = 8) -> str:
    """' at 0.4 s (120 ms), ...': when the longest long tasks began, from the load's start."""
    if not longtasks:
        return ""
    top = sorted(longtasks, key=lambda lt: -lt[1])[:most]
    return "; longest at " + ", ".join(f"{(s - t0) / 1000:.1f} s ({d:.0f} ms)" for s, d in sorted(top))


def loaf_summary(loaf: list[dict], t0: float, most: int = 5) -> str:
    """Where the time of long animation frames went (Chromium's LoAF API):
    tasks before the frame's rendering began (e.g. socket or worker messages),
    requestAnimationFrame callbacks (mqdash applies its batch there), and
    style, layout and paint."""
    if not loaf:
        return "  long frames           none over 50 ms"
    n = len(loaf)
    tot = sum(f["duration"] for f in loaf) or 1.0
    render = sum(f["render"] for f in loaf)
    layout = sum(f["layout"] for f in loaf)
    lines = [f"  long frames > 50 ms   {n}: {1 - render / tot:.0%} tasks before rendering, "
             f"{(render - layout) / tot:.0%} animation-frame callbacks, {layout / tot:.0%} style, layout and paint"]
    for f in sorted(loaf, key=lambda f: -f["duration"])[:most]:
        scripts = ", ".join(f"{name} {ms} ms" for name, ms in f["scripts"])
        lines.append(f"    at {(f['start'] - t0) / 1000:5.1f} s {f['duration']:4.0f} ms: "
                     f"before rendering {f['duration'] - f['render']:.0f}, callbacks {f['render'] - f['layout']:.0f}, "
                     f"style/layout/paint {f['layout']:.0f}; scripts: {scripts or 'none'}")
    return "\n".join(lines)


def mib(x) -> str:
    return "n/a" if x is None else f"{x / (1 << 20):.1f} MiB"


# ---------------------------------------------------------------- profiling


def summarize_profile(profile: dict, top: int = 25) -> str:
    """Self and inclusive time per function from a CDP Profiler profile."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent: dict[int, int] = {}
    for n in profile["nodes"]:
        for c in n.get("children", []):
            parent[c] = n["id"]
    deltas = profile.get("timeDeltas", [])
    self_us: dict[int, float] = {}
    for sid, dt in zip(profile.get("samples", []), deltas[1:] + [0]):
        self_us[sid] = self_us.get(sid, 0.0) + dt

    def name(n: dict) -> str:
        cf = n["callFrame"]
        fn = cf.get("functionName") or "(anonymous)"
        url = cf.get("url", "").rsplit("/", 1)[-1]
        return f"{fn} [{url}]" if url and not fn.startswith("(") else fn

    by_self: dict[str, float] = {}
    by_incl: dict[str, float] = {}
    total = sum(self_us.values()) or 1.0
    for nid, us in self_us.items():
        by_self[name(nodes[nid])] = by_self.get(name(nodes[nid]), 0.0) + us
        seen: set[str] = set()
        cur = nid
        while cur is not None:
            nm = name(nodes[cur])
            if nm not in seen:
                by_incl[nm] = by_incl.get(nm, 0.0) + us
                seen.add(nm)
            cur = parent.get(cur)
    lines = [f"CPU profile of the page's main thread: {total / 1e6:.1f} s sampled"]
    lines.append("  self time:")
    for nm, us in sorted(by_self.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {us / total:6.1%}  {nm[:110]}")
    lines.append("  inclusive time:")
    for nm, us in sorted(by_incl.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {us / total:6.1%}  {nm[:110]}")
    return "\n".join(lines)


# ---------------------------------------------------------------- CPU use


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_times() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of every process, by pid, with a short role name."""
    out: dict[int, tuple[str, float]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        secs = (int(fields[11]) + int(fields[12])) / CLK_TCK
        out[int(d)] = (_role(cmd), secs)
    return out


def _role(cmd: list[bytes]) -> str:
    """A short name for a process from its command line."""
    if len([a for a in cmd if a]) == 1:
        cmd = cmd[0].split(b" ")  # Chromium rewrites its title into one string
    exe = os.path.basename(cmd[0].decode(errors="replace")) if cmd and cmd[0] else ""
    if "chromium" in exe or "chrome" in exe:
        kind = next((a.decode()[7:] for a in cmd if a.startswith(b"--type=")), "browser")
        sub = next((a.decode().split("=", 1)[1] for a in cmd if a.startswith(b"--utility-sub-type=")), "")
        return "chromium " + (sub.rsplit(".", 1)[-1] if sub else kind)
    if exe == "devbroker":  # "devbroker loadgen", "devbroker proxy", ...
        sub = cmd[1].decode(errors="replace") if len(cmd) > 1 and cmd[1] else "loadgen"
        return f"devbroker {sub}"
    return exe or "?"


def _descends_from(pid: str, root: int) -> bool:
    """Whether process `pid` is `root` or one of its descendants."""
    seen = 0
    while pid not in ("0", "1") and seen < 64:
        if pid == str(root):
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            return False
        pid = stat[stat.rindex(")") + 2:].split()[1]
        seen += 1
    return False


def renderer_pids(root: int | None = None) -> list[str]:
    """The pids of Chromium's renderer processes; with `root` (a browser's
    pid), only that browser's: another Chromium on the machine (a test run) is
    left out."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if _role(f.read().split(b"\0")) != "chromium renderer":
                    continue
            if root is None or _descends_from(d, root):
                pids.append(d)
        except OSError:
            continue
    return pids


def renderer_rss(root: int | None = None) -> int:
    """Proportional resident memory (PSS, so memory shared between processes
    is not counted twice) of Chromium's renderer processes (see
    `renderer_pids`): the page, its worker, JS heaps and wasm memory together,
    in bytes."""
    total = 0
    for d in renderer_pids(root):
        try:
            with open(f"/proc/{d}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return total


def _idle_secs() -> float:
    with open("/proc/stat") as f:
        cpu = f.readline().split()
    return (int(cpu[4]) + int(cpu[5])) / CLK_TCK


class CpuMeter:
    """CPU used per role (in cores) between start() and stop(): ours by name,
    everything else on the machine as 'other processes'."""

    OURS = ("chromium", "mosquitto", "devbroker", "python", "node")

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.p0 = _proc_times()
        self.idle0 = _idle_secs()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        p1 = _proc_times()
        idle = (_idle_secs() - self.idle0) / wall
        use: dict[str, float] = {}
        for pid, (role, secs) in p1.items():
            before = self.p0.get(pid, (role, 0.0))[1]
            key = role if role.startswith(self.OURS) else "other processes"
            use[key] = use.get(key, 0.0) + (secs - before) / wall
        use = {k: v for k, v in use.items() if v >= 0.01}
        use["idle"] = idle
        return use


def fmt_cpu(use: dict[str, float]) -> str:
    parts = [f"{k} {v:.2f}" for k, v in sorted(use.items(), key=lambda kv: -kv[1]) if k != "idle"]
    return ", ".join(parts) + f"; idle {use.get('idle', 0):.2f}"


# ----------------------------------------------------------------- building


def run(cmd: list[str], **kw) -> None:
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def build_env() -> dict[str, str]:
    """The environment for the builds: the toolchain on PATH, trunk offline."""
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}:{Path.home() / '.cargo' / 'bin'}:{env['PATH']}"
    env["TRUNK_OFFLINE"] = "true"
    return env


def build_devbroker(env: dict[str, str]) -> None:
    """devbroker (loadgen, proxy) with the bench-tools profile: DEVBROKER."""
    run(["cargo", "build", "--profile", "bench-tools", "-p", "devbroker"], env=env)


def build_page(dist: Path, env: dict[str, str]) -> None:
    """The release page into its own dist directory (never dist/)."""
    run(["trunk", "build", "--release", "--offline", "--dist", str(dist)], env=env)


def build(args) -> None:
    env = build_env()
    build_devbroker(env)
    build_page(BENCH_DIST, env)
    if args.profile:
        # Function names survive only without rustc's debuginfo strip and with
        # wasm-opt -g; trunk's own wasm-opt pass drops them, so its output is
        # replaced by one that keeps them. A separate target dir keeps this
        # from invalidating the normal release build.
        penv = dict(env, CARGO_TARGET_DIR=str(PROFILE_TARGET), CARGO_PROFILE_RELEASE_STRIP="none")
        run(["trunk", "build", "--release", "--offline", "--dist", str(PROFILE_DIST), "bench/profile.html"], env=penv)
        named = PROFILE_TARGET / "wasm-bindgen" / "release" / "mqdash_bg.wasm"
        (shipped,) = PROFILE_DIST.glob("*_bg.wasm")
        run(["wasm-opt", "-Os", "-g", str(named), "-o", str(shipped)], env=env)
    if not args.skip_codec:
        run(["cargo", "build", "--release", "--target", "wasm32-unknown-unknown", "-p", "codec-wasm"], env=env)
        raw = ROOT / "target" / "wasm32-unknown-unknown" / "release" / "codec_wasm.wasm"
        CODEC_PKG.mkdir(parents=True, exist_ok=True)
        run(["wasm-bindgen", "--target", "web", "--no-typescript", "--out-dir", str(CODEC_PKG), str(raw)], env=env)
        # The page's wasm goes through wasm-opt -Os (index.html: data-wasm-opt="s"); so does this.
        bg = CODEC_PKG / "codec_wasm_bg.wasm"
        run(["wasm-opt", "-Os", "--enable-bulk-memory", "--enable-nontrapping-float-to-int",
             "--enable-sign-ext", "--enable-mutable-globals", "--enable-reference-types",
             "--enable-multivalue", str(bg), "-o", str(bg)], env=env)


# ------------------------------------------------------------------ serving


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript"}

    def log_message(self, *args):
        pass


class Site:
    """A directory served on a free loopback port."""

    def __init__(self, directory: Path):
        handler = functools.partial(_Handler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def baseline_dir(tmp: Path) -> Path:
    d = tmp / "baseline"
    d.mkdir()
    for name in ("index.html", "baseline.js"):
        shutil.copy(ROOT / "bench" / "baseline" / name, d / name)
    shutil.copy(ROOT / "node_modules" / "mqtt" / "dist" / "mqtt.min.js", d / "mqtt.min.js")
    return d


def raw_dir(tmp: Path) -> Path:
    d = tmp / "raw"
    shutil.copytree(ROOT / "bench" / "raw", d)
    return d


def codec_dir(tmp: Path) -> Path:
    d = tmp / "codec"
    d.mkdir()
    for name in ("index.html", "codec.js"):
        shutil.copy(ROOT / "bench" / "codec-page" / name, d / name)
    shutil.copy(ROOT / "bench" / "codec-packets.mjs", d / "codec-packets.mjs")
    shutil.copytree(CODEC_PKG, d / "pkg")
    return d


# ------------------------------------------------------------------ brokers


def start_mosquitto(tmp: Path) -> Mosquitto:
    m = Mosquitto()
    m.stop()
    with open(m.conf, "a") as f:
        f.write("\n".join(MOSQUITTO_TUNING) + "\n")
    m.start()
    return m


def paho_client(client_id: str):
    import paho.mqtt.client as paho

    try:
        return paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    except AttributeError:  # paho-mqtt 1.x
        return paho.Client(client_id=client_id)


class BrokerStats:
    """Mosquitto's own counters from $SYS: messages it dropped (its queue
    limits) and its heap. `#` never matches $SYS topics, so the pages do not
    see these."""

    TOPICS = ("$SYS/broker/publish/messages/dropped", "$SYS/broker/heap/current")

    def __init__(self, tcp_port: int):
        self.values: dict[str, float] = {}
        self.client = paho_client("bench-sys")
        self.client.on_message = lambda _c, _u, m: self.values.__setitem__(m.topic, float(m.payload or 0))
        self.client.connect("127.0.0.1", tcp_port, 30)
        for t in self.TOPICS:
            self.client.subscribe(t, 0)
        self.client.loop_start()

    def dropped(self) -> int:
        return int(self.values.get(self.TOPICS[0], 0))

    def heap(self) -> int:
        return int(self.values.get(self.TOPICS[1], 0))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def warm_up(page, kind: str, tcp_port: int, timeout: float = 20.0) -> None:
    """Publishes to bench/warmup until the page has counted a message, so the
    subscription is known to be in place before the load starts."""
    client = paho_client("bench-warmup")
    client.connect("127.0.0.1", tcp_port, 30)
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            client.publish("bench/warmup", b"warm-up", qos=0)
            time.sleep(0.25)
            s = page.call(SAMPLE_JS, kind)
            if s.get("seen", 0) > 0:
                return
        raise RuntimeError(f"the {kind} page counted no message within {timeout:.0f} s "
                           f"(not connected or not subscribed); last sample: {s}")
    finally:
        client.loop_stop()
        client.disconnect()


def loadgen(tcp_port: int, rate: int, topics: int, payload: int, duration: float) -> subprocess.Popen:
    cmd = [str(DEVBROKER), "loadgen", "--broker", f"mqtt://127.0.0.1:{tcp_port}", "--rate", str(rate),
           "--topics", str(topics), "--payload-size", str(payload), "--duration-secs", str(duration)]
    log("$ " + " ".join(cmd))
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def loadgen_report(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed ({proc.returncode}): {err.strip()}")
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"loadgen printed no report: {out!r} {err!r}")


def scale_topic(i: int) -> str:
    """The i-th topic of the scale run: four levels with at most 100 children
    each below the first, `scale/<i // 10000>/<i // 100 % 100>/<i % 100>`, so
    the tree is both wide and deep (100,000 topics: 10 x 100 x 100)."""
    return f"scale/{i // 10_000}/{i // 100 % 100}/{i % 100}"


def _remaining_length(n: int) -> bytes:
    """An MQTT remaining-length varint."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _mqtt_string(b: bytes) -> bytes:
    return len(b).to_bytes(2, "big") + b


def retained_publish(topic: str, payload: bytes) -> bytes:
    """A QoS 0 PUBLISH with the retain flag (MQTT 3.1.1)."""
    body = _mqtt_string(topic.encode()) + payload
    return b"\x31" + _remaining_length(len(body)) + body


def publish_retained(tcp_port: int, n: int, timeout: float = 300.0) -> float:
    """Publishes `n` distinct topics (`scale_topic`) once each, retained,
    QoS 0, with the topic's number as payload, over one plain TCP connection
    written in 64 KiB batches. (`devbroker loadgen` cannot set the retain
    flag, and paho's per-message queue is slower.) Ends with a PINGREQ and
    waits for its PINGRESP: mosquitto handles one connection's packets in
    order, so by then it has stored every retained message. Returns the
    seconds this took."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=timeout) as sock:
        var = _mqtt_string(b"MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big")  # clean session, keep-alive 60 s
        body = var + _mqtt_string(b"bench-scale")
        sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        connack = sock.recv(4)
        if len(connack) < 4 or connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"mosquitto refused the scale publisher: CONNACK {connack!r}")
        buf = bytearray()
        for i in range(n):
            buf += retained_publish(scale_topic(i), str(i).encode())
            if len(buf) >= 1 << 16:
                sock.sendall(buf)
                buf.clear()
        sock.sendall(bytes(buf) + b"\xc0\x00")  # PINGREQ
        got = b""
        while got[-2:] != b"\xd0\x00":
            chunk = sock.recv(16)
            if not chunk:
                raise RuntimeError("mosquitto closed the scale publisher's connection before PINGRESP")
            got += chunk
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    return time.monotonic() - t0


# ------------------------------------------------------------------- phases


def run_load(page, kind: str, broker: Mosquitto, rate: int, topics: int, payload: int, duration: float,
             heap_at: float = 60.0, drain_secs: float = 5.0, profile_secs: float = 0.0) -> dict:
    """Runs one load against an open, subscribed page and collects everything.
    After the generator stops, waits up to `drain_secs` for what is still on
    its way (the broker's queue for the page) and stops measuring then."""
    warm_up(page, kind, broker.tcp_port)
    sys_stats = BrokerStats(broker.tcp_port)
    time.sleep(1.2)
    broker_dropped0 = sys_stats.dropped()
    time.sleep(0.5)
    first = page.call(SAMPLE_JS, kind)  # also clears gaps and long tasks so far
    base_seen, base_applied = first["seen"], first.get("applied", 0)
    base_caps = first.get("dropped_caps", 0)
    gaps: list[float] = []
    longtasks: list[list[float]] = []
    lat: list[list[float]] = []
    loaf: list[dict] = []
    heap: list[tuple[float, int]] = []
    wasm: list[tuple[float, int]] = []
    rss: list[tuple[float, int]] = []
    progress: list[tuple[float, int]] = []
    behind: list[tuple[float, str | None]] = []

    def take(s: dict, since: float) -> None:
        gaps.extend(s["gaps"])
        longtasks.extend(s["longtasks"])
        lat.extend(s.get("lat", []))
        loaf.extend(s.get("loaf", []))
        t = time.monotonic() - since
        if s.get("heap") is not None:
            heap.append((t, s["heap"]))
        if s.get("wasm") is not None:
            wasm.append((t, s["wasm"]))
        rss.append((t, renderer_rss()))
        progress.append((t, s["seen"] - base_seen))
        if kind == "mqdash":
            behind.append((t, s.get("behind")))

    load_before = os.getloadavg()[0]
    meter = CpuMeter()
    meter.start()
    proc = loadgen(broker.tcp_port, rate, topics, payload, duration)
    t0 = time.monotonic()
    profiling = False
    profile_until = 0.0
    profile_text = None
    gc_1m = None
    while proc.poll() is None:
        time.sleep(1.0)
        take(page.call(SAMPLE_JS, kind), t0)
        elapsed = time.monotonic() - t0
        if gc_1m is None and elapsed >= heap_at:
            gc_1m = heap_after_gc(page, kind, elapsed)
        if profile_secs and not profiling and elapsed >= min(5.0, duration / 4):
            profiling = True
            page.send("Profiler.enable")
            page.send("Profiler.setSamplingInterval", {"interval": 250})
            page.send("Profiler.start")
            profile_until = elapsed + profile_secs
            log(f"  profiling the page for {profile_secs:.0f} s")
        if profiling and profile_text is None and elapsed >= profile_until:
            profile_text = summarize_profile(page.send("Profiler.stop")["profile"])
        if len(progress) % 10 == 0:
            log(f"  {kind}: t={progress[-1][0]:.0f}s counted={progress[-1][1]:,}")
    send_end = time.monotonic() - t0
    cpu = meter.stop()
    if profiling and profile_text is None:
        profile_text = summarize_profile(page.send("Profiler.stop")["profile"])
    if profile_text:
        print(profile_text, flush=True)
    report = loadgen_report(proc)
    gc_end = heap_after_gc(page, kind, time.monotonic() - t0)
    at_send_end = page.call(SAMPLE_JS, kind)
    take(at_send_end, t0)
    seen_at_send_end = at_send_end["seen"] - base_seen
    # Let the page take what is still on its way (broker queue, socket buffers).
    last, still = seen_at_send_end, time.monotonic()
    deadline = time.monotonic() + drain_secs
    final = at_send_end
    while time.monotonic() < deadline and last < report["sent"]:
        time.sleep(0.5)
        final = page.call(SAMPLE_JS, kind)
        take(final, t0)
        now_seen = final["seen"] - base_seen
        if now_seen != last:
            last, still = now_seen, time.monotonic()
        elif time.monotonic() - still > 3.0:
            break
    drained_after = time.monotonic() - t0 - send_end
    time.sleep(1.2)  # one more $SYS interval
    broker_dropped = sys_stats.dropped() - broker_dropped0
    broker_heap = sys_stats.heap()
    sys_stats.close()
    seen = final["seen"] - base_seen
    applied = final.get("applied", 0) - base_applied
    # Heap "after 1 minute": the sample nearest to heap_at seconds into the load.
    heap_1m = min(heap, key=lambda h: abs(h[0] - heap_at))[1] if heap else None
    heap_end = heap[-1][1] if heap else None
    return {
        "kind": kind,
        "loadgen": report,
        "seen": seen,
        "applied": applied,
        "seen_at_send_end": seen_at_send_end,
        "dropped_caps": final.get("dropped_caps", 0) - base_caps,
        "dropped_new_topics": final.get("dropped_new_topics", 0) - first.get("dropped_new_topics", 0),
        "history_dropped": final.get("history_dropped", 0) - first.get("history_dropped", 0),
        "panels": final.get("panels"),
        "rate_in_window": seen_at_send_end / report["elapsed_secs"] if report["elapsed_secs"] else 0.0,
        "rate_steady": steady_rate(progress, send_end, seen_at_send_end),
        "drain_secs": drained_after,
        "broker_dropped": broker_dropped,
        "broker_heap": broker_heap,
        "gaps": gaps,
        "longtasks": longtasks,
        "lat": lat,
        "loaf": loaf,
        "heap_1m": heap_1m,
        "heap_1m_at": min(heap, key=lambda h: abs(h[0] - heap_at))[0] if heap else None,
        "heap_end": heap_end,
        "heap_peak": max((h for _, h in heap), default=None),
        "wasm_1m": min(wasm, key=lambda h: abs(h[0] - heap_at))[1] if wasm else None,
        "wasm_end": wasm[-1][1] if wasm else None,
        "gc_1m": gc_1m,
        "gc_end": gc_end,
        "rss_1m": min(rss, key=lambda h: abs(h[0] - heap_at))[1] if rss else None,
        "rss_end": rss[-1][1] if rss else None,
        "rss_peak": max((h for _, h in rss), default=None),
        "progress": progress,
        "behind": behind_notice(behind, send_end),
        "send_secs": send_end,
        "dom": page.call(DOM_JS) if kind == "mqdash" else None,
        "cpu": cpu,
        "page_t0": first["now"],
        "loadavg": (load_before, os.getloadavg()[0]),
    }


# Seconds at the start of a load left out of its steady rate.
STEADY_AFTER = 5.0


def steady_ingest(r: dict) -> float:
    """A load's ingest for the ceiling comparison: its steady rate, or the
    whole window's when the load was too short to have one."""
    return r["rate_steady"] if r.get("rate_steady") else r["rate_in_window"]


def steady_rate(progress: list[tuple[float, int]], send_end: float, seen_at_send_end: int) -> float | None:
    """Messages per second from STEADY_AFTER s into the load to the end of
    sending. The first seconds are a race with the broker's queue: a page
    that keeps up with the whole offered rate for a moment (the count-only
    page sometimes took 50,000 msg/s for 3 s, then ~36,000 once the broker
    had a queue for it) reads higher over the window than its sustained
    rate, so the start says more about that race than about the page.
    The end is counted like the whole-window figure's: the sample taken
    right after sending ended (and the forced GC), over the sending time."""
    start = next(((t, n) for t, n in progress if t >= STEADY_AFTER), None)
    if start is None or send_end - start[0] < 1.0:
        return None
    return (seen_at_send_end - start[1]) / (send_end - start[0])


def heap_after_gc(page, kind: str, at: float, root: int | None = None) -> dict:
    """JS heap and renderer memory right after a full garbage collection, so
    two points in a run compare what is kept, not when V8 last collected.
    `root` (a browser's pid) limits the PSS to that browser's renderers."""
    page.send("HeapProfiler.collectGarbage")
    s = page.call(SAMPLE_JS, kind)
    return {"at": at, "heap": s.get("heap"), "wasm": s.get("wasm"), "pss": renderer_rss(root)}


def behind_seconds(text: str | None) -> float | None:
    """N from the page's notice "The page is N s behind the broker: …"
    (src/lag.rs), or None when no notice was shown."""
    if not text:
        return None
    m = re.search(r"([0-9]+(?:\.[0-9]+)?) s behind", text)
    return float(m.group(1)) if m else None


def behind_notice(samples: list[tuple[float, str | None]], send_end: float) -> dict:
    """How long the page showed its "behind the broker" notice while the
    generator sent, from samples taken about once a second: each sample that
    found the notice counts the time since the previous sample. Also the
    largest N it showed (over the wait after sending too) and whether it was
    still shown at the last sample. A figure, not a target."""
    sending = [(t, x) for t, x in samples if t <= send_end + 0.5]
    shown_secs, prev = 0.0, 0.0
    for t, text in sending:
        if behind_seconds(text) is not None:
            shown_secs += t - prev
        prev = t
    values = [v for v in (behind_seconds(x) for _, x in samples) if v is not None]
    return {
        "samples": len(sending),
        "shown_samples": sum(1 for _, x in sending if behind_seconds(x) is not None),
        "shown_secs": shown_secs,
        "max_behind_secs": max(values, default=None),
        "shown_at_end": bool(samples) and behind_seconds(samples[-1][1]) is not None,
    }


def run_scale(browser: cdp.Browser, site: Site, broker: Mosquitto, n: int, timeout: float,
              settle_secs: float = 2.0, window_secs: float = 5.0) -> dict:
    """The scale run: `n` retained topics are already in `broker`. Opens
    mqdash subscribed to `#` and waits (at most `timeout` s, or 60 s without
    progress) until `__mqdash.panels` reaches `n`, collecting long tasks,
    long frames and frame gaps from navigation on. Then, after `settle_secs`,
    `window_secs` of frame gaps and requestAnimationFrame round trips show
    whether the page stays responsive; last, memory after a forced GC."""
    page = browser.new_page(init_script=INSTRUMENT_JS)
    gaps: list[float] = []
    longtasks: list[list[float]] = []
    loaf: list[dict] = []
    heap_peak = 0
    last: dict = {}

    def take() -> dict:
        nonlocal heap_peak, last
        try:
            s = page.call(SAMPLE_JS, "mqdash")
        except cdp.CdpError:  # the document is still being replaced
            return last
        gaps.extend(s["gaps"])
        longtasks.extend(s["longtasks"])
        loaf.extend(s["loaf"])
        heap_peak = max(heap_peak, s.get("heap") or 0)
        last = s
        return s

    t0 = time.monotonic()
    page.goto(f"{site.url}/?broker={broker.ws_url}&sub=%23&connect=1&probe=1")
    first_at = all_at = None
    best, best_at, next_log = 0, t0, t0 + 10.0
    while time.monotonic() - t0 < timeout and time.monotonic() - best_at < 60.0:
        time.sleep(0.25)
        panels = take().get("panels", 0) or 0
        now = time.monotonic()
        if panels and first_at is None:
            first_at = now - t0
        if panels > best:
            best, best_at = panels, now
        if panels >= n:
            all_at = now - t0
            break
        if now >= next_log:
            log(f"  scale: t={now - t0:.0f}s panels={panels:,}")
            next_log += 10.0
    time.sleep(settle_secs)
    loaded = take()
    load_gaps, load_longtasks, load_loaf = list(gaps), list(longtasks), list(loaf)
    gaps.clear()
    longtasks.clear()
    loaf.clear()
    raf: list[float] = []
    raf_wall: list[float] = []
    w0 = time.monotonic()
    while time.monotonic() - w0 < window_secs:
        c0 = time.monotonic()
        raf.append(page.call(RAF_JS))
        raf_wall.append((time.monotonic() - c0) * 1000)
        time.sleep(0.4)
    take()
    dom = page.call(DOM_JS)
    settled = {"heap": loaded.get("heap"), "wasm": loaded.get("wasm")}
    gc = heap_after_gc(page, "mqdash", time.monotonic() - t0, browser.proc.pid)
    errors = list(page.errors)
    page.close()
    return {
        "topics": n, "panels": loaded.get("panels", 0) or 0, "seen": loaded.get("seen", 0),
        "first_secs": first_at, "all_secs": all_at,
        "load_longtasks": load_longtasks, "load_gaps": load_gaps, "load_loaf": load_loaf,
        "window_gaps": list(gaps), "window_longtasks": list(longtasks),
        "raf_ms": raf, "raf_wall_ms": raf_wall,
        "heap_peak": heap_peak or None, "settled": settled, "gc": gc, "dom": dom, "errors": errors,
    }


def open_mqdash(browser: cdp.Browser, site: Site, broker: Mosquitto, decode: str | None = None) -> cdp.Page:
    page = browser.new_page(init_script=INSTRUMENT_JS)
    # --decode: every flood topic read by that decoder (a rule `#` → it).
    rule = f"&decode=%23%7C{decode}" if decode else ""
    page.goto(f"{site.url}/?broker={broker.ws_url}&sub=%23&connect=1&probe=1{rule}")
    page.wait_for("window.__mqdash !== undefined", timeout=30)
    return page


def open_baseline(browser: cdp.Browser, site: Site, broker: Mosquitto, query: str = "") -> cdp.Page:
    page = browser.new_page(init_script=INSTRUMENT_JS)
    page.goto(f"{site.url}/index.html?broker={broker.ws_url}&sub=%23{query}")
    page.wait_for("window.__baseline && window.__baseline.subscribed", timeout=30)
    return page


def run_pairs(browser: cdp.Browser, site: Site, raw_site: Site, broker: Mosquitto, args) -> list[dict]:
    """--pairs: the raw worker page and mqdash measured in turn under the same
    flood, the first of each pair alternating, so that a machine growing
    busier or quieter over the run weighs on both alike. One measurement of
    the same page varied by up to 10% here from one minute to the next."""
    pairs = []
    for i in range(args.pairs):
        order = ("raw", "mqdash") if i % 2 == 0 else ("mqdash", "raw")
        got: dict = {}
        for who in order:
            log(f"pair {i + 1} of {args.pairs}: {who} under {args.rate:,} msg/s for {args.pair_duration:.0f} s")
            if who == "raw":
                page = open_baseline(browser, raw_site, broker, "&mode=worker")
                kind = "baseline"
            else:
                page = open_mqdash(browser, site, broker, args.decode)
                kind = "mqdash"
            r = run_load(page, kind, broker, args.rate, args.topics, args.payload_size, args.pair_duration)
            if page.errors:
                log(f"page errors: {page.errors[:5]}")
            page.close()
            got[who] = steady_ingest(r)
            got[who + " window"] = r["rate_in_window"]
            if who == "mqdash":
                got["longtasks"] = len(r["longtasks"])
                got["longtasks_when"] = when(r["longtasks"], r["page_t0"])
                got["loaf"] = loaf_summary(r["loaf"], r["page_t0"]) if r["loaf"] else None
                got["gap_p95"] = percentile(r["gaps"], 95)
        got["first"] = order[0]
        pairs.append(got)
    return pairs


def run_codec(browser: cdp.Browser, site: Site, count: int, runs: int) -> dict:
    log("codec: mqtt-packet in Node")
    node = subprocess.run(["node", str(ROOT / "bench" / "codec-node.mjs"), "--count", str(count), "--runs", str(runs)],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    node_res = json.loads(node.stdout.strip().splitlines()[-1])
    log("codec: mqdash's decoder (wasm) in Chromium")
    page = browser.new_page()
    page.goto(f"{site.url}/index.html?count={count}&runs={runs}")
    page.wait_for("window.__codec !== undefined", timeout=300)
    res = page.evaluate("window.__codec")
    page.close()
    if "error" in res:
        raise RuntimeError(f"codec page failed: {res['error']}")
    return {"node": node_res, "wasm": res["result"]}


# ------------------------------------------------------------------ summary


# The keep worker's files (keep-worker.js, keep-worker_bg.wasm,
# keep-worker_loader.js): fetched only when a Keep control is first used (or a
# recording exists), never on a first visit, and not the page's wasm.
KEEP_WORKER_PREFIX = "keep-worker"
# The decoder module (decoders-wasm.js, decoders-wasm_bg.wasm): imported only
# when a decoder rule first matches a message's topic (or a schema is loaded).
DECODERS_PREFIX = "decoders-wasm"
LAZY_PREFIXES = (KEEP_WORKER_PREFIX, DECODERS_PREFIX)


def wasm_sizes() -> tuple[int, int, str]:
    wasms = sorted(w for w in BENCH_DIST.glob("*.wasm") if not w.name.startswith(LAZY_PREFIXES))
    if not wasms:
        raise RuntimeError(f"no .wasm in {BENCH_DIST}: build first")
    w = wasms[-1]
    data = w.read_bytes()
    return len(data), len(gzip.compress(data, 9)), w.name


def first_load_gzip() -> int:
    """What a first visit downloads, each file gzip -9: the wasm, every script
    (the loader and the two workers in public/), the CSS and the HTML. The keep
    worker's files (keep-worker*) are left out: a first visit does not fetch
    them (the page starts that worker only when a Keep control is first used,
    or when a recording exists); nor the decoder module's (decoders-wasm*),
    imported when a decoder rule first matches."""
    files = [
        f
        for f in BENCH_DIST.rglob("*")
        if f.suffix in (".wasm", ".js", ".css", ".html") and not f.name.startswith(LAZY_PREFIXES)
    ]
    return sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)


class Verdicts:
    def __init__(self):
        self.rows: list[tuple[str, bool | None, str]] = []

    def add(self, name: str, ok: bool | None, figure: str) -> None:
        self.rows.append((name, ok, figure))

    def print(self, title: str = "Targets:") -> None:
        print("\n" + title)
        for name, ok, figure in self.rows:
            tag = "PASS" if ok else ("n/a " if ok is None else "FAIL")
            print(f"  [{tag}] {name}: {figure}")


def summarize_scale(args, sc: dict, v: Verdicts) -> dict:
    """Prints the scale run's figures, adds its two targets, and returns its
    figures for --json."""
    n = sc["topics"]
    lts = sc["load_longtasks"]
    over200 = [d for _, d in lts if d > 200]
    worst = max((d for _, d in lts), default=0.0)
    print(f"\nScale: {n:,} retained topics published before the page subscribed to #")
    print(f"  published             {n:,} in {sc['publish_secs']:.1f} s (retained, QoS 0; mosquitto answered "
          f"the PINGREQ after them)")
    took = (f"all {n:,} {sc['all_secs']:.1f} s after opening the page" if sc["all_secs"] is not None
            else f"NOT all: {sc['panels']:,} when the wait ended")
    rate = ""
    if sc["all_secs"] is not None and sc["first_secs"] is not None and sc["all_secs"] > sc["first_secs"]:
        rate = f", {n / (sc['all_secs'] - sc['first_secs']):,.0f} topics/s from the first"
    print(f"  reached the tree      {took} (the first at {fmt_num(sc['first_secs'], 1)} s{rate}); "
          f"{sc['seen']:,} messages handed to the model")
    print(f"  long tasks            {len(over200)} over 200 ms, {len(lts)} over 50 ms (longest {worst:.0f} ms), "
          f"until {args.scale_settle:.0f} s after the last topic{when(lts, 0.0)}")
    print(loaf_summary(sc["load_loaf"], 0.0))
    lg = sc["load_gaps"]
    print(f"  frames while loading  {len(lg):,}; gap p50 {fmt_num(percentile(lg, 50), 1)} ms, "
          f"p95 {fmt_num(percentile(lg, 95), 1)} ms, max {fmt_num(max(lg, default=None), 1)} ms")
    st, gc = sc["settled"], sc["gc"]
    print(f"  JS heap               peak {mib(sc['heap_peak'])} while loading; {mib(st['heap'])} settled; "
          f"{mib(gc['heap'])} after a forced GC")
    print(f"  wasm memory           {mib(gc['wasm'])}")
    print(f"  renderer memory (PSS) {mib(gc['pss'])} after the GC (this browser's renderer processes)")
    dom = sc["dom"]
    print(f"  on screen             {dom['treeitems']:,} tree rows, {dom['panels']:,} topic panels, "
          f"{dom['nodes']:,} elements")
    wg, raf = sc["window_gaps"], sc["raf_ms"]
    wl = sc["window_longtasks"]
    print(f"  responsive after load over {args.scale_window:.0f} s: frame gap p50 {fmt_num(percentile(wg, 50), 1)} ms, "
          f"p95 {fmt_num(percentile(wg, 95), 1)} ms, max {fmt_num(max(wg, default=None), 1)} ms; "
          f"requestAnimationFrame round trip median {fmt_num(percentile(raf, 50), 1)} ms, "
          f"max {fmt_num(max(raf, default=None), 1)} ms ({len(raf)} tries; with DevTools "
          f"{fmt_num(percentile(sc['raf_wall_ms'], 50), 1)} ms); long tasks {len(wl)}"
          + (f" (longest {max(d for _, d in wl):.0f} ms)" if wl else ""))
    if sc["errors"]:
        print(f"  page errors           {sc['errors'][:5]}")
    v.add(f"all {n:,} retained topics reach the tree", sc["all_secs"] is not None,
          f"{sc['panels']:,} of {n:,}" + (f" in {sc['all_secs']:.1f} s" if sc["all_secs"] is not None else ""))
    v.add(f"no task over 200 ms while {n:,} topics load", not over200,
          f"{len(over200)} over 200 ms (longest {worst:.0f} ms)")
    return {
        "topics": n, "panels": sc["panels"], "publish_secs": sc["publish_secs"],
        "first_secs": sc["first_secs"], "all_secs": sc["all_secs"],
        "longtasks_over_200": len(over200), "longtasks_over_50": len(lts), "longest_task": worst,
        "load_gap_p95": percentile(lg, 95), "heap_peak": sc["heap_peak"], "heap_settled": st["heap"],
        "heap_after_gc": gc["heap"], "wasm": gc["wasm"], "pss": gc["pss"], "dom": dom,
        "window_gap_p50": percentile(wg, 50), "window_gap_p95": percentile(wg, 95),
        "window_longtasks": len(wl), "raf_p50": percentile(raf, 50), "raf_max": max(raf, default=None),
        "errors": sc["errors"],
    }


def summarize(args, flood: dict | None, base: dict | None, latency: dict | None, codec: dict | None,
              sizes: tuple[int, int, str], ceiling: dict | None = None, scale: dict | None = None,
              pairs: list[dict] | None = None) -> dict:
    v = Verdicts()
    out: dict = {"args": vars(args)}
    print("\n" + "=" * 78)
    print(f"mqdash flood benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores")
    print("=" * 78)
    raw, gz, name = sizes
    print(f"wasm: {name}  raw {raw / 1024:.1f} KiB  gzip -9 {gz / 1024:.1f} KiB")
    out["wasm_raw"], out["wasm_gzip"] = raw, gz

    if flood:
        lg = flood["loadgen"]
        sent = lg["sent"]
        print(f"\nFlood: {args.rate:,} msg/s target over {args.topics:,} topics, "
              f"{args.payload_size}-byte payloads, {args.duration:.0f} s")
        print(f"  loadgen sent          {sent:,} in {lg['elapsed_secs']:.1f} s ({lg['rate']:,.0f} msg/s)")
        print(f"  reached the model     {flood['seen_at_send_end']:,} while sending = "
              f"{flood['rate_in_window']:,.0f} msg/s (steady from {STEADY_AFTER:.0f} s: "
              f"{fmt_num(flood['rate_steady'])}); {flood['seen']:,} ({flood['seen'] / sent:.1%} of sent) "
              f"when the wait ended {flood['drain_secs']:.0f} s later")
        counted = flood["applied"] + flood["dropped_new_topics"]
        print(f"  counted in the model  {counted:,} = {flood['applied']:,} taken + {flood['dropped_new_topics']:,} "
              f"refused at the panel cap ({'all' if counted == flood['seen'] else 'NOT all'} of what arrived); "
              f"panels {flood['panels']}")
        print(f"  dropped by caps       {flood['dropped_caps']:,} counted (refused at the panel cap "
              f"{flood['dropped_new_topics']:,}; history entries evicted {flood['history_dropped']:,})")
        print(f"  still in the broker   {sent - flood['seen']:,} queued for the page when the wait ended; "
              f"mosquitto dropped {flood['broker_dropped']:,}" + (f"; its heap {mib(flood['broker_heap'])}" if flood['broker_heap'] else ""))
        gaps = flood["gaps"]
        lts = flood["longtasks"]
        worst = max((d for _, d in lts), default=0.0)
        print(f"  frames                {len(gaps):,}; gap p50 {fmt_num(percentile(gaps, 50), 1)} ms, "
              f"p95 {fmt_num(percentile(gaps, 95), 1)} ms, max {fmt_num(max(gaps, default=None), 1)} ms")
        print(f"  long tasks > 50 ms    {len(lts)} (longest {worst:.0f} ms){when(lts, flood['page_t0'])}")
        print(loaf_summary(flood["loaf"], flood["page_t0"]))
        fl = [s[2] - s[0] for s in flood["lat"]]
        print(f"  latency under flood   p50 {fmt_num(percentile(fl, 50))} ms, p99 {fmt_num(percentile(fl, 99))} ms "
              f"({len(fl)} samples)")
        g1, ge = flood["gc_1m"], flood["gc_end"]
        g1_txt = f"{mib(g1['heap'])} at {g1['at']:.0f} s, " if g1 else ""
        print(f"  JS heap               peak {mib(flood['heap_peak'])} (sampled each second); after a forced GC: "
              f"{g1_txt}{mib(ge['heap'])} at the end ({ge['at']:.0f} s)")
        print(f"  wasm memory           {(mib(g1['wasm']) + ' at 1 min, ') if g1 else ''}{mib(ge['wasm'])} at the end")
        print(f"  renderer memory (PSS) {(mib(g1['pss']) + ' at 1 min, ') if g1 else ''}{mib(ge['pss'])} at the end, "
              f"peak {mib(flood['rss_peak'])} (renderer processes: page, worker, heaps, wasm)")
        dom = flood["dom"]
        print(f"  on screen at the end  {dom['treeitems']:,} tree rows, {dom['panels']:,} topic panels, "
              f"{dom['nodes']:,} elements")
        bn = flood["behind"]
        print(f"  'behind' notice       shown {bn['shown_secs']:.0f} s of {flood['send_secs']:.0f} s of sending "
              f"({bn['shown_samples']} of {bn['samples']} samples, about one a second); largest "
              + (f"{bn['max_behind_secs']:.1f} s behind" if bn["max_behind_secs"] is not None else "none")
              + ("; still shown when the wait ended" if bn["shown_at_end"] else ""))
        print(f"  CPU while sending     {fmt_cpu(flood['cpu'])} (cores; load average "
              f"{flood['loadavg'][0]:.1f} before, {flood['loadavg'][1]:.1f} after)")
        out["flood"] = {k: flood[k] for k in flood if k not in ("gaps", "longtasks", "lat", "loaf", "progress")}
        out["flood"].update(gap_p95=percentile(gaps, 95), longtasks=len(lts), longest_task=worst,
                            lat_p50=percentile(fl, 50), lat_p99=percentile(fl, 99))

        all_counted = counted == flood["seen"]
        sustained = flood["rate_in_window"] >= 0.98 * args.rate and lg["rate"] >= 0.98 * args.rate
        v.add(f"{args.rate:,} msg/s sustained, every message counted in the model",
              all_counted and sustained,
              f"{flood['rate_in_window']:,.0f} msg/s reached the model while the generator sent "
              f"{lg['rate']:,.0f} msg/s ({flood['rate_in_window'] / args.rate:.0%} of the target); every message "
              f"that arrived was counted ({'yes' if all_counted else 'NO'}: {flood['applied']:,} taken, "
              f"{flood['dropped_new_topics']:,} refused at the panel cap, {flood['history_dropped']:,} history "
              f"entries evicted and counted)")
        v.add("no long task over 50 ms", len(lts) == 0, f"{len(lts)} (longest {worst:.0f} ms)")
        p95 = percentile(gaps, 95)
        v.add("frame gap p95 <= 17 ms", p95 is not None and p95 <= 17.0, f"{fmt_num(p95, 1)} ms")
        workers = [steady_ingest(r) for m, r in (ceiling or {}).items() if m.startswith("worker")]
        if workers and all(workers) and pairs:
            # Every figure of the run on each side: the flood and each pair's
            # mqdash against every raw worker measurement, each its steady
            # rate (from STEADY_AFTER s into the load to the end of sending).
            ours = [steady_ingest(flood)] + [p["mqdash"] for p in pairs]
            theirs = workers + [p["raw"] for p in pairs]
            share = (sum(ours) / len(ours)) / (sum(theirs) / len(theirs))
            each = [p["mqdash"] / p["raw"] for p in pairs if p["raw"]]
            # The same over whole windows (start included), for comparison.
            ours_w = [flood["rate_in_window"]] + [p["mqdash window"] for p in pairs]
            theirs_w = [r["rate_in_window"] for m, r in ceiling.items() if m.startswith("worker")]
            theirs_w += [p["raw window"] for p in pairs]
            share_w = (sum(ours_w) / len(ours_w)) / (sum(theirs_w) / len(theirs_w))
            v.add("ingest >= 0.95 x the raw WebSocket worker ceiling, tree and panels live", share >= 0.95,
                  f"{share:.2f} x (steady rates from {STEADY_AFTER:.0f} s into each load: mean of {len(ours)} mqdash "
                  f"figures {sum(ours) / len(ours):,.0f} msg/s / mean of {len(theirs)} raw worker figures "
                  f"{sum(theirs) / len(theirs):,.0f} msg/s; pair by pair "
                  + ", ".join(f"{x:.2f}" for x in each) + f", median {statistics.median(each):.2f}; over whole "
                  f"windows, start included: {share_w:.2f} x)")
            out["flood"]["ingest_vs_raw_worker"] = share
        elif workers and all(workers):
            worker_rate = sum(workers) / len(workers)
            share = steady_ingest(flood) / worker_rate
            measured = " and ".join(f"{w:,.0f}" for w in workers)
            v.add("ingest >= 0.95 x the raw WebSocket worker ceiling, tree and panels live", share >= 0.95,
                  f"{share:.2f} x (steady rates: {steady_ingest(flood):,.0f} / {worker_rate:,.0f} msg/s, the mean of "
                  f"the same run's --raw worker page before and after the flood: {measured})")
            out["flood"]["ingest_vs_raw_worker"] = share
        else:
            v.add("ingest >= 0.95 x the raw WebSocket worker ceiling, tree and panels live", None,
                  "run with --raw to judge")
        heap_peak = flood["heap_peak"]
        v.add("JS heap <= 150 MB under the flood", heap_peak is not None and heap_peak <= 150e6,
              f"peak {mib(heap_peak)} ({heap_peak / 1e6 if heap_peak else 0:.0f} MB)")
        if g1 and g1.get("heap") and ge.get("heap") and g1.get("wasm"):
            # Judged on what the page keeps: JS heap after a full GC plus wasm
            # memory. Each part is printed too; the JS heap alone is ~1 MB, so
            # its percentage moves by tens of percent for a few hundred KB.
            total1, total2 = g1["heap"] + g1["wasm"], ge["heap"] + ge["wasm"]
            growth = total2 / total1 - 1
            hgrowth = ge["heap"] / g1["heap"] - 1
            wgrowth = ge["wasm"] / g1["wasm"] - 1
            full = args.duration >= 300
            v.add("memory growth < 5% from minute 1 to the end of a 5-minute run",
                  (growth < 0.05) if full else None,
                  f"{growth:+.1%} ({mib(total1)} -> {mib(total2)}: JS heap after GC {mib(g1['heap'])} -> "
                  f"{mib(ge['heap'])} ({hgrowth:+.0%}), wasm {mib(g1['wasm'])} -> {mib(ge['wasm'])} "
                  f"({wgrowth:+.1%})), {g1['at']:.0f} s to the end of a {args.duration:.0f} s run"
                  + ("" if full else " (run with --duration 300 to judge)"))
            out["flood"]["memory_growth"] = growth
            out["flood"]["heap_growth"] = hgrowth
            out["flood"]["wasm_growth"] = wgrowth
        else:
            v.add("memory growth < 5% from minute 1 to the end of a 5-minute run", None,
                  f"the run is shorter than a minute (run with --duration 300 to judge)")

    if base:
        lg = base["loadgen"]
        print(f"\nMQTT.js baseline (count only), same load for {args.baseline_duration:.0f} s")
        print(f"  loadgen sent          {lg['sent']:,} ({lg['rate']:,.0f} msg/s)")
        print(f"  page counted          {base['seen_at_send_end']:,} while sending = "
              f"{base['rate_in_window']:,.0f} msg/s; mosquitto dropped {base['broker_dropped']:,}")
        gaps = base["gaps"]
        print(f"  frame gap p95         {fmt_num(percentile(gaps, 95), 1)} ms; long tasks {len(base['longtasks'])}")
        print(f"  JS heap               {mib(base['heap_end'])} at the end")
        print(f"  CPU while sending     {fmt_cpu(base['cpu'])} (cores; load average "
              f"{base['loadavg'][0]:.1f} before, {base['loadavg'][1]:.1f} after)")
        out["baseline"] = {k: base[k] for k in base if k not in ("gaps", "longtasks", "lat", "loaf", "progress")}
        if flood:
            ratio = flood["rate_in_window"] / base["rate_in_window"] if base["rate_in_window"] else float("inf")
            print(f"  mqdash / MQTT.js      {ratio:.2f}")
            v.add("mqdash rate / MQTT.js count-only rate >= 1.0", ratio >= 1.0,
                  f"{ratio:.2f} ({flood['rate_in_window']:,.0f} / {base['rate_in_window']:,.0f} msg/s)")
            out["ratio_vs_mqttjs"] = ratio

    if ceiling:
        print(f"\nBrowser ceiling: raw WebSocket, count only, no MQTT ({args.baseline_duration:.0f} s each)")
        labels = {"worker before": "worker, before", "main": "main thread", "worker": "worker thread"}
        for mode, r in ceiling.items():
            print(f"  {labels.get(mode, mode):20s}  {r['rate_in_window']:,.0f} msg/s, steady "
                  f"{fmt_num(r['rate_steady'])}; frame gap p95 "
                  f"{fmt_num(percentile(r['gaps'], 95), 1)} ms; long tasks {len(r['longtasks'])}; "
                  f"CPU {fmt_cpu(r['cpu'])}")
        out["raw"] = {m: {"rate": r["rate_in_window"], "gap_p95": percentile(r["gaps"], 95),
                          "longtasks": len(r["longtasks"])} for m, r in ceiling.items()}

    if pairs:
        print(f"\nPairs: the raw worker page and mqdash in turn, {args.pair_duration:.0f} s each; steady = from "
              f"{STEADY_AFTER:.0f} s into the load to the end of sending")
        for i, p in enumerate(pairs, 1):
            print(f"  pair {i} ({p['first']} first)  steady: raw worker {p['raw']:,.0f} msg/s, mqdash "
                  f"{p['mqdash']:,.0f} msg/s = {p['mqdash'] / p['raw'] if p['raw'] else 0:.2f} x (whole window: "
                  f"{p['raw window']:,.0f} and {p['mqdash window']:,.0f}); mqdash long tasks {p['longtasks']}"
                  f"{p['longtasks_when']}, frame gap p95 {fmt_num(p['gap_p95'], 1)} ms")
            if p["loaf"]:
                print(p["loaf"])
        out["pairs"] = pairs

    if latency:
        lat = [s[2] - s[0] for s in latency["lat"]]
        at_apply = [s[1] - s[0] for s in latency["lat"]]
        gaps = latency["gaps"]
        print(f"\nLatency: {args.latency_rate:,} msg/s for {args.latency_duration:.0f} s")
        print(f"  publish-to-screen     p50 {fmt_num(percentile(lat, 50))} ms, p99 {fmt_num(percentile(lat, 99))} ms, "
              f"max {fmt_num(max(lat, default=None))} ms ({len(lat)} frames sampled)")
        if latency["lat"]:
            first = min(x[0] for x in latency["lat"])
            steady = [x[2] - x[0] for x in latency["lat"] if x[0] >= first + 2000]
            print(f"  after the first 2 s   p50 {fmt_num(percentile(steady, 50))} ms, "
                  f"p99 {fmt_num(percentile(steady, 99))} ms, max {fmt_num(max(steady, default=None))} ms "
                  f"(the first second mounts the panels of 1,000 new topics)")
        print(f"  publish-to-apply      p50 {fmt_num(percentile(at_apply, 50))} ms, "
              f"p99 {fmt_num(percentile(at_apply, 99))} ms (in the animation frame, before paint)")
        print(f"  counted               {latency['seen']:,} of {latency['loadgen']['sent']:,}; frame gap p95 "
              f"{fmt_num(percentile(gaps, 95), 1)} ms; long tasks {len(latency['longtasks'])}"
              f"{when(latency['longtasks'], latency['page_t0'])}")
        print(f"  CPU while sending     {fmt_cpu(latency['cpu'])} (cores)")
        p99 = percentile(lat, 99)
        v.add(f"publish-to-screen p99 <= 50 ms at {args.latency_rate:,} msg/s", p99 is not None and p99 <= 50,
              f"p99 {fmt_num(p99)} ms (p50 {fmt_num(percentile(lat, 50))} ms)")
        out["latency"] = {"p50": percentile(lat, 50), "p99": p99, "samples": len(lat),
                          "apply_p50": percentile(at_apply, 50), "apply_p99": percentile(at_apply, 99),
                          "gap_p95": percentile(gaps, 95), "longtasks": len(latency["longtasks"]),
                          "behind": latency["behind"]}

    first = first_load_gzip()
    out["first_load_gzip"] = first
    v.add("first load (wasm, JS, CSS, HTML) <= 350 KB gzipped", first <= 350_000,
          f"{first / 1000:.1f} KB gzipped; the wasm alone {gz / 1000:.1f} KB gzipped ({raw / 1000:.1f} KB raw)")

    if codec:
        n, w = codec["node"], codec["wasm"]
        print(f"\nCodec: {w['packets']:,} QoS 0 PUBLISH packets of {w['packet_bytes']} bytes, median of {w['runs']} runs")
        print(f"  {w['decoder']}: {w['stream_pps']:,} /s in 64 KiB chunks, {w['per_packet_pps']:,} /s one packet per call")
        print(f"  {n['decoder']}: {n['stream_pps']:,} /s in 64 KiB chunks, {n['per_packet_pps']:,} /s one packet per call")
        rs = w["stream_pps"] / n["stream_pps"]
        rp = w["per_packet_pps"] / n["per_packet_pps"]
        print(f"  ratio                 {rs:.2f}x (64 KiB chunks), {rp:.2f}x (one packet per call)")
        v.add("wasm decode >= 2x mqtt-packet's packets per second", min(rs, rp) >= 2.0,
              f"{rs:.2f}x in 64 KiB chunks, {rp:.2f}x one packet per call")
        out["codec"] = {"node": n, "wasm": w, "ratio_stream": rs, "ratio_per_packet": rp}

    if scale:
        out["scale"] = summarize_scale(args, scale, v)

    v.print()
    out["targets"] = [{"name": a, "pass": b, "figure": c} for a, b, c in v.rows]
    return out


# --------------------------------------------------------------------- main


def scale_phase(browser: cdp.Browser, site: Site, tmp: Path, args) -> dict:
    """The scale run against a mosquitto of its own (tuned as for the flood),
    so its retained topics never reach the other phases. That broker runs
    without persistence: stopping it at the end drops every retained message,
    and closing it removes its directory."""
    log(f"scale: {args.scale_topics:,} retained topics, then mqdash subscribes to #")
    broker = start_mosquitto(tmp)
    try:
        log(f"scale: mosquitto on 127.0.0.1:{broker.tcp_port} (TCP) and {broker.ws_url}")
        secs = publish_retained(broker.tcp_port, args.scale_topics)
        log(f"scale: published {args.scale_topics:,} retained topics in {secs:.1f} s")
        result = run_scale(browser, site, broker, args.scale_topics, args.scale_timeout,
                           args.scale_settle, args.scale_window)
        result["publish_secs"] = secs
        return result
    finally:
        broker.stop()
        log_path = Path(broker.log_path)
        if log_path.exists():
            shutil.copy(log_path, WORK / "mosquitto-scale.log")
            log(f"scale: mosquitto's log: {WORK / 'mosquitto-scale.log'}")
        broker.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=50_000, help="flood: messages per second (default 50000)")
    ap.add_argument("--topics", type=int, default=1000, help="topics (default 1000)")
    ap.add_argument("--payload-size", type=int, default=100, help="payload bytes, at least 14 (default 100)")
    ap.add_argument("--duration", type=float, default=60.0, help="flood seconds (default 60; 300 judges heap growth)")
    ap.add_argument("--baseline-duration", type=float, default=20.0, help="MQTT.js baseline seconds (default 20)")
    ap.add_argument("--latency-rate", type=int, default=1000, help="latency phase msg/s (default 1000)")
    ap.add_argument("--latency-duration", type=float, default=15.0, help="latency phase seconds (default 15)")
    ap.add_argument("--raw", action="store_true",
                    help="also measure the browser's ceiling: a page that only counts WebSocket message events "
                         "(no MQTT), on the main thread and in a worker, for --baseline-duration s each")
    ap.add_argument("--pairs", type=int, default=None, metavar="N",
                    help="with --raw: N more measurements of the raw worker page and mqdash, --pair-duration s "
                         "each, alternating which goes first (ABBA) so the machine's drift cancels; the ingest "
                         "verdict then takes every worker and mqdash figure of the run (default 4 with --raw, "
                         "0 turns them off)")
    ap.add_argument("--pair-duration", type=float, default=20.0, help="seconds of each --pairs load (default 20)")
    ap.add_argument("--scale", action="store_true",
                    help="also the scale run: --scale-topics retained topics published to a broker of its own "
                         "before the page subscribes; times how long until all are in the tree, long tasks, "
                         "memory, and the frame gaps afterwards")
    ap.add_argument("--scale-topics", type=int, default=100_000, help="scale: distinct topics (default 100000)")
    ap.add_argument("--scale-timeout", type=float, default=600.0,
                    help="scale: most seconds to wait for every topic to reach the tree (default 600; it also "
                         "stops after 60 s without a new topic)")
    ap.add_argument("--scale-settle", type=float, default=2.0,
                    help="scale: seconds after the last topic before the responsiveness window (default 2)")
    ap.add_argument("--scale-window", type=float, default=5.0,
                    help="scale: seconds of frame gaps and requestAnimationFrame round trips after it settled "
                         "(default 5)")
    ap.add_argument("--codec-count", type=int, default=200_000, help="codec: packets per run (default 200000)")
    ap.add_argument("--codec-runs", type=int, default=7, help="codec: timed runs, median taken (default 7)")
    ap.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                    help="flood phase: use a build that keeps function names (bench/profile.html) and print "
                         "a CPU profile of SECONDS of the flood")
    ap.add_argument("--decode", choices=["cbor", "msgpack", "protobuf"],
                    help="flood: read every message with this decoder (the on-demand module); the flood's "
                         "payloads are not valid for it, so each message takes the decoder's error path")
    ap.add_argument("--no-build", action="store_true", help="use the existing builds in target/")
    ap.add_argument("--skip-flood", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-codec", action="store_true")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = ap.parse_args()
    if args.pairs is None:
        args.pairs = 4 if args.raw and not args.skip_flood else 0
    if args.pairs and not (args.raw and not args.skip_flood):
        ap.error("--pairs needs --raw and the flood phase")

    if not args.no_build:
        build(args)
    if not DEVBROKER.exists():
        raise SystemExit(f"{DEVBROKER} is missing: run without --no-build")
    sizes = wasm_sizes()
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mqdash-bench-"))
    sites: list[Site] = []
    broker = None
    flood = base = latency = codec = raw = scale = pairs = None
    try:
        site = Site(BENCH_DIST)
        sites.append(site)
        base_site = Site(baseline_dir(tmp))
        sites.append(base_site)
        browser = cdp.Browser("/usr/bin/chromium", CHROMIUM_ARGS)
        try:
            if not args.skip_flood or not args.skip_baseline or not args.skip_latency or args.raw:
                broker = start_mosquitto(tmp)
                log(f"mosquitto on 127.0.0.1:{broker.tcp_port} (TCP) and {broker.ws_url}")
            if args.raw and not args.skip_flood:
                # The worker ceiling is measured before the flood as well as
                # after it, and the flood judged against the mean: the same page
                # varied by a few percent from one measurement to the next on
                # this shared machine, as much as the margin being judged.
                raw_site = Site(raw_dir(tmp))
                sites.append(raw_site)
                raw = {}
                log(f"raw WebSocket count-only page (worker thread, before the flood) under {args.rate:,} msg/s")
                page = open_baseline(browser, raw_site, broker, "&mode=worker")
                raw["worker before"] = run_load(page, "baseline", broker, args.rate, args.topics,
                                                args.payload_size, args.baseline_duration)
                page.close()
            if not args.skip_flood:
                log(f"phase 1: mqdash under {args.rate:,} msg/s for {args.duration:.0f} s")
                flood_site = site
                if args.profile:
                    flood_site = Site(PROFILE_DIST)
                    sites.append(flood_site)
                page = open_mqdash(browser, flood_site, broker, args.decode)
                flood = run_load(page, "mqdash", broker, args.rate, args.topics, args.payload_size,
                                 args.duration, profile_secs=args.profile)
                if page.errors:
                    log(f"page errors: {page.errors[:5]}")
                page.close()
            if not args.skip_baseline:
                log(f"phase 2: MQTT.js baseline under {args.rate:,} msg/s for {args.baseline_duration:.0f} s")
                page = open_baseline(browser, base_site, broker)
                base = run_load(page, "baseline", broker, args.rate, args.topics, args.payload_size,
                                args.baseline_duration)
                if page.errors:
                    log(f"baseline page errors: {page.errors[:5]}")
                page.close()
            if args.raw:
                if raw is None:
                    raw_site = Site(raw_dir(tmp))
                    sites.append(raw_site)
                    raw = {}
                for mode in ("main", "worker"):
                    log(f"raw WebSocket count-only page ({mode} thread) under {args.rate:,} msg/s")
                    page = open_baseline(browser, raw_site, broker, f"&mode={mode}")
                    raw[mode] = run_load(page, "baseline", broker, args.rate, args.topics, args.payload_size,
                                         args.baseline_duration)
                    page.close()
            if args.pairs:
                pairs = run_pairs(browser, site, raw_site, broker, args)
            if not args.skip_latency:
                log(f"phase 3: mqdash latency at {args.latency_rate:,} msg/s for {args.latency_duration:.0f} s")
                page = open_mqdash(browser, site, broker)
                latency = run_load(page, "mqdash", broker, args.latency_rate, args.topics, args.payload_size,
                                   args.latency_duration)
                page.close()
            if not args.skip_codec:
                log("phase 4: codec")
                codec_site = Site(codec_dir(tmp))
                sites.append(codec_site)
                codec = run_codec(browser, codec_site, args.codec_count, args.codec_runs)
            if args.scale:
                scale = scale_phase(browser, site, tmp, args)
        finally:
            browser.close()
    finally:
        if broker:
            broker.stop()
            log_path = Path(broker.dir) / "mosquitto.log"
            if log_path.exists():
                shutil.copy(log_path, WORK / "mosquitto.log")
                log(f"mosquitto's log: {WORK / 'mosquitto.log'}")
            broker.close()
        for s in sites:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)
    out = summarize(args, flood, base, latency, codec, sizes, raw, scale, pairs)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
        log(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
