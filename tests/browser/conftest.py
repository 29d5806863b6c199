"""Fixtures for the browser tests: the release build served on loopback, headless
Debian Chromium driven by Playwright, and real brokers."""

import functools
import http.server
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from brokers import ROOT, DevBroker, Mosquitto

# Playwright waits 5 s in an `expect(...)` without its own timeout: short for a
# loaded 2-core machine, where a page update the test has just caused can take
# longer. An expectation that holds still returns as soon as it holds; only
# one that never holds waits this long.
expect.set_options(timeout=30_000)

DIST = ROOT / "dist"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".js": "text/javascript"}

    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="session")
def site():
    """Serves dist/ (the release build made by scripts/test.sh) and yields its base URL."""
    if not (DIST / "index.html").exists():
        pytest.fail(f"{DIST}/index.html is missing: run `trunk build --release --offline` first")
    handler = functools.partial(_Handler, directory=str(DIST))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageErrors:
    """Console errors and uncaught page errors seen while a test ran."""

    def __init__(self, page):
        self.console = []
        self.page = []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page.append(str(e)))


# Records every Content-Security-Policy violation the page reports (the event
# fires for blocked scripts, inline styles, eval, connections...). Injected by
# the driver, so the policy itself does not apply to it.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`));
"""


def new_page(browser, **context_args):
    """A page in a fresh context, with CSP violations, console errors and page
    errors recorded (`page.errors`)."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **context_args})
    context.add_init_script(CSP_RECORDER)
    pg = context.new_page()
    pg.errors = PageErrors(pg)
    return pg


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    context = pg.context
    yield pg
    context.close()


@pytest.fixture
def mosquitto():
    m = Mosquitto()
    yield m
    m.close()


@pytest.fixture
def devbroker():
    d = DevBroker()
    yield d
    d.close()


@pytest.fixture(params=["mosquitto", "devbroker"])
def broker(request):
    """Each test using it runs once against mosquitto and once against the embedded
    broker (rumqttd); `broker.kind` says which."""
    b = Mosquitto() if request.param == "mosquitto" else DevBroker()
    b.kind = request.param
    yield b
    b.close()
