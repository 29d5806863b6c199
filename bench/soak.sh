#!/usr/bin/env bash
# The page soak and the reconnect leak check, one command:
#   bash bench/soak.sh [--soak-minutes 30] [--rate 5000] [--reconnect-every-secs 180] [--reconnects 1000]
# Builds the release page into target/soak-dist and devbroker (loadgen, proxy)
# with the bench-tools profile, then runs bench/soak.py: 30 minutes at 5,000
# msg/s through a cutting proxy, then 1,000 reconnects; prints every figure
# and each check as PASS/FAIL, exit status 1 if one fails. `--help` lists the
# flags. See bench/README.md. Not part of scripts/test.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prelude.sh"
bench_prelude soak mosquitto chromium cargo trunk wasm-bindgen wasm-opt terser
exec "$PY" "$ROOT/bench/soak.py" "$@"
