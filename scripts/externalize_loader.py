#!/usr/bin/env python3
"""trunk post_build hook: move trunk's inline wasm loader into boot-<hash>.js.

The page runs under `script-src 'self' 'wasm-unsafe-eval'` (no inline script), but
trunk emits `<script type="module">import init ... </script>` inline. This rewrites
the staged index.html to load the same code from a file. Fails loudly if trunk's
output changes shape, so a trunk upgrade cannot silently break the CSP.
"""
import hashlib
import os
import re
import sys

staging = os.environ.get("TRUNK_STAGING_DIR")
if not staging:
    sys.exit("externalize_loader: TRUNK_STAGING_DIR is not set (run me as a trunk hook)")
public_url = os.environ.get("TRUNK_PUBLIC_URL", "/")
index = os.path.join(staging, "index.html")
with open(index, encoding="utf-8") as f:
    html = f.read()

pattern = re.compile(r"<script type=\"module\"(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)
matches = [m for m in pattern.finditer(html) if "import init" in m.group("body")]
if len(matches) != 1:
    sys.exit(f"externalize_loader: expected one inline trunk loader in index.html, found {len(matches)}")
m = matches[0]
body = m.group("body").strip() + "\n"
name = "boot-" + hashlib.sha256(body.encode()).hexdigest()[:16] + ".js"
with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
    f.write(body)
tag = f'<script type="module" src="{public_url}{name}"></script>'
html = html[: m.start()] + tag + html[m.end():]
if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
    sys.exit("externalize_loader: an inline <script> remains in index.html")
with open(index, "w", encoding="utf-8") as f:
    f.write(html)
print(f"externalize_loader: loader moved to {name}")

# Module workers (data-type="worker" data-loader-shim): trunk's shim is
# `import init from './X.js';await init();`. Messages the page posts while the
# wasm compiles would reach no handler and be lost, so the shim keeps them in
# self.__keepQueue until the worker's main takes them (crates/keep-worker,
# worker::start) and sets its own onmessage.
shim = re.compile(r"import init from '\./(?P<js>[\w.-]+\.js)';await init\(\);")
for loader in sorted(os.listdir(staging)):
    if not loader.endswith("_loader.js"):
        continue
    path = os.path.join(staging, loader)
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    found = shim.fullmatch(text)
    if not found:
        sys.exit(f"externalize_loader: {loader} is not the loader shim trunk 0.21 writes: {text[:120]!r}")
    js = found.group("js")
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            f"import init from './{js}';\n"
            "const q = [];\n"
            "self.__keepQueue = q;\n"
            "self.onmessage = (e) => { q.push(e); };\n"
            "await init();\n"
        )
    print(f"externalize_loader: {loader} queues messages until the worker's wasm has started")
