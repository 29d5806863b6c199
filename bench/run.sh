#!/usr/bin/env bash
# The mqdash benchmark (issue 5), one command:
#   bash bench/run.sh [--rate 50000 --topics 1000 --payload-size 100 --duration 60]
# Builds the release page into target/bench-dist, devbroker (loadgen) with the
# bench-tools profile and the codec wasm, then runs bench/flood.py: flood,
# MQTT.js baseline, 1,000 msg/s latency pass and codec (with --raw the browser's
# ceiling, with --scale 100,000 retained topics), and prints every figure
# with PASS/FAIL per target. `--help` lists the flags. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prelude.sh"
bench_prelude bench mosquitto chromium node cargo trunk wasm-bindgen wasm-opt terser
exec "$PY" "$ROOT/bench/flood.py" "$@"
