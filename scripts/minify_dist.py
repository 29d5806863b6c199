#!/usr/bin/env python3
"""trunk post_build hook (release builds): minify the page's JavaScript and CSS.

trunk 0.21 leaves wasm-bindgen's JS glue and the workers as written (about 60 KB,
10 KB gzipped, for the glue alone) and its own CSS minifier saves little; the
page's first load must stay within 350 KB gzipped. This runs terser (npm,
pinned in package.json) on every .js file in the staging directory (ES modules:
the glue and the loader, and the keep worker's glue and loader shim, which
index.html names in no tag; classic scripts: the workers in public/), strips the
comments and the spacing from the CSS, and then rewrites the `integrity`
(sha384) of every tag in index.html that names a file it changed, so Subresource
Integrity keeps holding. Fails loudly: a missing terser or a tag it cannot
match stops the build rather than shipping a page that will not load.
"""
import base64
import hashlib
import os
import re
import subprocess
import sys

staging = os.environ.get("TRUNK_STAGING_DIR")
if not staging:
    sys.exit("minify_dist: TRUNK_STAGING_DIR is not set (run me as a trunk hook)")
if os.environ.get("TRUNK_PROFILE") != "release":
    sys.exit(0)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
terser = os.path.join(root, "node_modules", ".bin", "terser")
if not os.access(terser, os.X_OK):
    sys.exit(f"minify_dist: {terser} is missing (npm ci installs it)")
wasm_opt = os.path.join(root, "node_modules", ".bin", "wasm-opt")
if not os.access(wasm_opt, os.X_OK):
    sys.exit(f"minify_dist: {wasm_opt} is missing (npm ci installs binaryen)")

# The page's wasm is optimised here rather than by trunk (index.html sets its
# data-wasm-opt to 0): trunk always puts its -O level first, and merging
# similar functions (Leptos' many near-identical instantiations) must come
# before the size passes to pay: 0.6 KB gzipped less than -Oz alone. Last,
# the functions are ordered by name: instantiations of one generic function
# share a name prefix and most of their code, so side by side gzip finds
# them in its window (7 KB gzipped less; the code is the same).
# --low-memory-unused: see the root Cargo.toml's [profile.release] comment.
WASM_OPT_PASSES = ["--merge-similar-functions", "-Oz", "--converge", "--low-memory-unused",
                   "--reorder-functions-by-name", "--strip-producers", "--strip-debug"]


def optimise_page_wasm(path: str) -> None:
    done = subprocess.run([wasm_opt, path, *WASM_OPT_PASSES, "-o", path], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"minify_dist: wasm-opt failed on {path}: {done.stderr.strip()}")


def minify_js(path: str, module: bool) -> None:
    args = [terser, path, "--compress", "--mangle", "--output", path]
    if module:
        args.insert(2, "--module")
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"minify_dist: terser failed on {path}: {done.stderr.strip()}")


def minify_css(text: str) -> str:
    # Our own stylesheet: no strings or urls containing comment markers or
    # significant runs of spaces, so comments and spacing can go safely.
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};,>])\s*", r"\1", text)
    return text.replace(";}", "}").strip() + "\n"


changed = []
for dirpath, _, files in os.walk(staging):
    for name in files:
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, staging).replace(os.sep, "/")
        # The page's wasm (the lazily loaded workers and modules have
        # theirs optimised by trunk: they are not the first load).
        if name.endswith("_bg.wasm") and name.startswith("mqdash-") and "/" not in rel:
            optimise_page_wasm(path)
            changed.append(rel)
        elif name.endswith(".js"):
            # Workers are classic scripts; everything else is a module.
            minify_js(path, module=not rel.startswith("public/"))
            changed.append(rel)
        elif name.endswith(".css"):
            with open(path, encoding="utf-8") as f:
                css = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(minify_css(css))
            changed.append(rel)

index = os.path.join(staging, "index.html")
with open(index, encoding="utf-8") as f:
    html = f.read()
# The comments in index.html explain the build to its readers; the page's
# visitors need none of them (0.5 KB of the gzipped first load).
html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
html = re.sub(r"\n\s*\n", "\n", html)
for rel in changed:
    with open(os.path.join(staging, rel), "rb") as f:
        digest = base64.b64encode(hashlib.sha384(f.read()).digest()).decode()
    tag = re.compile(r"<[^>]*\bhref=\"[^\"]*/" + re.escape(rel) + r"\"[^>]*>")
    for m in list(tag.finditer(html)):
        old = m.group(0)
        new = re.sub(r'integrity="sha384-[^"]*"', f'integrity="sha384-{digest}"', old)
        html = html.replace(old, new)
with open(index, "w", encoding="utf-8") as f:
    f.write(html)
print(f"minify_dist: minified or optimised {len(changed)} files: {', '.join(sorted(changed))}")
