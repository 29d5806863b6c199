# shellcheck shell=bash
# Shared by scripts/run.sh and scripts/test.sh: locate the repo, report clearly,
# and install missing tools idempotently (a second run skips what is there).

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export TRUNK_OFFLINE=true
VENV="$ROOT/.tools/venv"

TRUNK_VERSION="0.21.14"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "installing Debian packages needs root or sudo: $*"; fi
}

ensure_rust() {
  need_cmd rustup "install Rust with rustup (https://rustup.rs) first"
  need_cmd cargo "install Rust with rustup first"
  # rust-toolchain.toml pins the toolchain; add what it names without prompting.
  rustup target add wasm32-unknown-unknown >/dev/null
  rustup component add rustfmt clippy >/dev/null
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock"
}

ensure_trunk() {
  if trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then return; fi
  step "installing trunk $TRUNK_VERSION (about 11 minutes on 2 cores, once per machine)"
  cargo install trunk --version "$TRUNK_VERSION" --locked || die "cargo install trunk $TRUNK_VERSION failed"
}

ensure_wasm_bindgen() {
  local want; want="$(wasm_bindgen_version)"
  [ -n "$want" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then return; fi
  step "installing wasm-bindgen-cli $want (matches Cargo.lock; about 3 minutes)"
  # Without --locked: with it, the registry lacks one locked dependency.
  cargo install wasm-bindgen-cli --version "$want" --force || die "cargo install wasm-bindgen-cli $want failed"
}

ensure_npm_tools() {
  need_cmd node "install Node.js (Debian: apt-get install nodejs npm)"
  need_cmd npm "install npm"
  if ! cmp -s package-lock.json node_modules/.mqdash-installed-lock; then
    step "installing npm packages (wasm-opt from binaryen; MQTT.js and mqtt-packet for the benchmarks)"
    npm ci --no-audit --no-fund || die "npm ci failed"
    cp package-lock.json node_modules/.mqdash-installed-lock
  fi
  wasm-opt --version >/dev/null 2>&1 || die "wasm-opt from npm's binaryen does not run (node_modules/.bin/wasm-opt)"
}

ensure_apt() {
  # args: pairs of command:package
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  need_cmd apt-get "this needs Debian packages: ${missing[*]}"
  step "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" || die "apt-get install ${missing[*]} failed"
}

ensure_python() {
  need_cmd python3 "install Python 3"
  local stamp="$VENV/.requirements"
  if [ -x "$VENV/bin/python" ] && cmp -s tests/requirements.txt "$stamp"; then return; fi
  step "creating the Python test environment in .tools/venv"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q -r tests/requirements.txt || die "pip install -r tests/requirements.txt failed"
  cp tests/requirements.txt "$stamp"
}

# Fail fast, naming the port, if something already listens on it.
port_free() {
  python3 - "$1" <<'PY' || die "port $1 on 127.0.0.1 is already in use; pick another (see README: MQDASH_*_PORT)"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}
