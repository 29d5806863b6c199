#!/usr/bin/env bash
# The mqdash benchmark (issue 5), one command:
#   bash bench/run.sh [--rate 50000 --topics 1000 --payload-size 100 --duration 60]
# Builds the release page into target/bench-dist, devbroker (loadgen) with the
# bench-tools profile and the codec wasm, then runs bench/flood.py: flood,
# MQTT.js baseline, 1,000 msg/s latency pass and codec, and prints every figure
# with PASS/FAIL per target. `--help` lists the flags. See bench/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_OFFLINE=true
PY="$ROOT/.tools/venv/bin/python"
if [ ! -x "$PY" ]; then
  echo "bench: $PY is missing; run scripts/test.sh once to create the Python environment" >&2
  exit 1
fi
for tool in mosquitto chromium node cargo trunk wasm-bindgen wasm-opt; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing (scripts/test.sh installs the toolchain)" >&2; exit 1; }
done
exec "$PY" "$ROOT/bench/flood.py" "$@"
