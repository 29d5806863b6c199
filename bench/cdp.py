"""A minimal Chrome DevTools Protocol driver over --remote-debugging-pipe.

Why not Playwright for the benchmark: Playwright enables the Network domain in
every page it drives, so Chromium reports each WebSocket frame to it
(`Network.webSocketFrameReceived`, payload included) through the browser
process and the DevTools pipe. Under a 50,000 msg/s flood that costs more CPU
than the page itself (a trace showed ~23,000 DevTools pipe writes in 5 s on the
browser's threads) and made both mqdash and the MQTT.js baseline look several
times slower than they are. This driver enables nothing but what it uses
(Runtime for evaluation and uncaught exceptions, Page for navigation and the
init script, Profiler on request), so the page runs as it would for a user.

Only the standard library: messages are NUL-separated JSON on fds 3 and 4.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any


class CdpError(RuntimeError):
    pass


class Browser:
    """Chromium with a DevTools pipe. `args` are extra command-line flags."""

    def __init__(self, executable: str, args: list[str]):
        self.profile_dir = tempfile.mkdtemp(prefix="mqdash-bench-chromium-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def plumb():
            # The child reads commands on fd 3 and writes replies on fd 4. Move
            # both ends out of the way first: either may already be 3 or 4.
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            r, w = os.dup2(r, 100), os.dup2(w, 101)
            os.dup2(r, 3)
            os.dup2(w, 4)

        cmd = [executable, *args, "--remote-debugging-pipe", f"--user-data-dir={self.profile_dir}", "about:blank"]
        # subprocess closes every other fd after plumb() runs, keeping 3 and 4.
        self.proc = subprocess.Popen(cmd, pass_fds=(3, 4), preexec_fn=plumb,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._waiting: dict[int, queue.Queue] = {}
        self._listeners: dict[str | None, list] = {}
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.send("Target.setDiscoverTargets", {"discover": False})

    # --- plumbing

    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child_r, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if "id" in msg:
                    q = self._waiting.pop(msg["id"], None)
                    if q is not None:
                        q.put(msg)
                else:
                    for fn in self._listeners.get(msg.get("sessionId"), []):
                        fn(msg)
        for q in list(self._waiting.values()):
            q.put({"error": {"message": "the browser closed the DevTools pipe"}})

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 120.0) -> dict:
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            q: queue.Queue = queue.Queue()
            self._waiting[mid] = q
            msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        try:
            reply = q.get(timeout=timeout)
        except queue.Empty:
            self._waiting.pop(mid, None)
            raise CdpError(f"{method}: no reply within {timeout:.0f} s") from None
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def listen(self, session: str | None, fn) -> None:
        self._listeners.setdefault(session, []).append(fn)

    # --- pages

    def new_page(self, init_script: str | None = None, width: int = 1400, height: int = 1000) -> "Page":
        # A fresh browser context per page: no storage shared between phases.
        context = self.send("Target.createBrowserContext", {"disposeOnDetach": False})["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "width": width, "height": height,
                                                   "browserContextId": context})
        sid = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        page = Page(self, target["targetId"], sid, context)
        self.listen(sid, page._on_event)
        self.send("Runtime.enable", session=sid)
        self.send("Page.enable", session=sid)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=sid)
        if init_script:
            self.send("Page.addScriptToEvaluateOnNewDocument", {"source": init_script}, session=sid)
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except CdpError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child_w, self._from_child_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile_dir, ignore_errors=True)


class Page:
    def __init__(self, browser: Browser, target_id: str, session: str, context: str):
        self.browser = browser
        self.target_id = target_id
        self.session = session
        self.context = context
        self.errors: list[str] = []

    def _on_event(self, msg: dict) -> None:
        if msg.get("method") == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            self.errors.append((d.get("exception") or {}).get("description") or d.get("text", "exception"))
        elif msg.get("method") == "Runtime.consoleAPICalled" and msg["params"].get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))

    def send(self, method: str, params: dict | None = None, timeout: float = 120.0) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def goto(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str, timeout: float = 120.0) -> Any:
        """The value of a JS expression (awaited if it is a promise), as JSON."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError(f"evaluate: {(d.get('exception') or {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def call(self, function_source: str, arg: Any = None, timeout: float = 120.0) -> Any:
        """Calls `(function_source)(arg)` in the page."""
        return self.evaluate(f"({function_source})({json.dumps(arg)})", timeout=timeout)

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                v = self.evaluate(expression)
                if v:
                    return v
            except CdpError as e:  # e.g. during navigation
                last_error = e
            time.sleep(interval)
        raise CdpError(f"timed out after {timeout:.0f} s waiting for {expression}"
                       + (f" (last error: {last_error})" if last_error else "")
                       + (f"; page errors: {self.errors[:3]}" if self.errors else ""))

    def close(self) -> None:
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target_id}, timeout=10)
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context}, timeout=10)
        except CdpError:
            pass
