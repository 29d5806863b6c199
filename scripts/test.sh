#!/usr/bin/env bash
# The test command (README): format, lints for host and wasm32, native unit tests,
# integration tests against real brokers (mosquitto, the embedded broker), the
# release wasm build, and browser tests in headless Chromium. Installs what is
# missing first; a second run skips what is there. `.ci/run` calls exactly this.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

step "checking and installing tools"
ensure_rust
ensure_apt mosquitto:mosquitto mosquitto_pub:mosquitto-clients chromium:chromium chromedriver:chromium-driver
ensure_npm_tools
ensure_python
ensure_trunk
ensure_wasm_bindgen

step "cargo fmt --check"
cargo fmt --all -- --check || die "code is not formatted: run cargo fmt --all"

step "clippy (host, warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (wasm32-unknown-unknown, warnings denied)"
cargo clippy -p mqdash -p mqtt-session -p model -p keep -p keep-worker \
  -p decoders -p sparkplug -p decoders-wasm --target wasm32-unknown-unknown --locked -- -D warnings

step "building the embedded broker and simulator"
cargo build -p devbroker --locked
export MQDASH_DEVBROKER="$ROOT/target/debug/devbroker"

step "unit and integration tests (cargo test)"
cargo test --workspace --locked

step "release wasm build (trunk)"
trunk build --release --offline

step "browser tests (headless Chromium)"
"$VENV/bin/python" -m pytest -q tests/browser

step "all tests passed"
