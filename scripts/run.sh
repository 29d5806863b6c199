#!/usr/bin/env bash
# The run command (README): builds the dashboard, starts the embedded broker and
# the device simulator, serves the page with trunk on loopback and prints the URL.
# Ctrl-C stops everything it started.
#
# Ports (override with environment variables):
#   MQDASH_MQTT_PORT (11883)  MQTT over TCP for the embedded broker
#   MQDASH_WS_PORT   (18083)  MQTT over WebSocket, path /mqtt
#   MQDASH_WEB_PORT  (8080)   the page
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MQTT_PORT="${MQDASH_MQTT_PORT:-11883}"
WS_PORT="${MQDASH_WS_PORT:-18083}"
WEB_PORT="${MQDASH_WEB_PORT:-8080}"
LOGDIR="$ROOT/target/run-logs"

step "checking and installing tools"
ensure_rust
ensure_npm_tools
ensure_trunk
ensure_wasm_bindgen
for p in "$MQTT_PORT" "$WS_PORT" "$WEB_PORT"; do port_free "$p"; done

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "building the embedded broker and simulator"
cargo build -p devbroker --locked
mkdir -p "$LOGDIR"

step "starting the embedded broker"
target/debug/devbroker broker --tcp-port "$MQTT_PORT" --ws-port "$WS_PORT" >"$LOGDIR/broker.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  grep -q "listening" "$LOGDIR/broker.log" 2>/dev/null && break
  kill -0 "${PIDS[0]}" 2>/dev/null || die "the embedded broker exited: $(tail -5 "$LOGDIR/broker.log")"
  sleep 0.1
done
grep -q "listening" "$LOGDIR/broker.log" || die "the embedded broker did not start within 10 s: $(tail -5 "$LOGDIR/broker.log")"
cat "$LOGDIR/broker.log"

step "starting the device simulator"
target/debug/devbroker simulate --broker "mqtt://127.0.0.1:$MQTT_PORT" --rate 10 >"$LOGDIR/simulator.log" 2>&1 &
PIDS+=($!)

# The simulator's CBOR and MessagePack devices are read by decoder rules the
# link carries (Sparkplug B topics need none: it is a default rule).
URL="http://127.0.0.1:$WEB_PORT/?broker=ws://127.0.0.1:$WS_PORT/mqtt&sub=%23&connect=1&decode=cbor/%23%7Ccbor&decode=msgpack/%23%7Cmsgpack"
step "building and serving the dashboard (release build; the first build takes a few minutes)"
echo "Open: $URL"
echo "(logs in $LOGDIR; Ctrl-C stops broker, simulator and server)"
trunk serve --release --offline --address 127.0.0.1 --port "$WEB_PORT" &
PIDS+=($!)
wait "${PIDS[2]}"
