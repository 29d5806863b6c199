// Codec benchmark, Node side: PUBLISH packets per second decoded by
// mqtt-packet (the codec MQTT.js uses) from the same bytes the wasm side
// decodes (codec-packets.mjs), in the same two chunkings:
//   stream:     64 KiB per parse() call (several packets per call);
//   per-packet: one packet per parse() call (one packet per WebSocket frame,
//               which is how mosquitto sends them).
// Prints one JSON line. Usage: node bench/codec-node.mjs [--count N] [--runs N]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { makePackets, packetSize, median } from './codec-packets.mjs';

const require = createRequire(import.meta.url);
const mqttPacket = require('mqtt-packet');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const count = arg('--count', 200000);
const runs = arg('--runs', 7);
const bytes = Buffer.from(makePackets(count).buffer);

function decode(chunk) {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let n = 0;
  let failed = null;
  parser.on('packet', (p) => {
    if (p.cmd === 'publish' && p.topic.length > 0 && p.payload.length > 0) n++;
  });
  parser.on('error', (e) => { failed = e; });
  for (let o = 0; o < bytes.length; o += chunk) {
    parser.parse(bytes.subarray(o, Math.min(o + chunk, bytes.length)));
  }
  if (failed) throw failed;
  return n;
}

function measure(chunk) {
  for (let i = 0; i < 2; i++) decode(chunk); // warm up the JIT
  const rates = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const n = decode(chunk);
    const ms = performance.now() - t0;
    if (n !== count) throw new Error(`decoded ${n} of ${count}`);
    rates.push(n / (ms / 1000));
  }
  return Math.round(median(rates));
}

const result = {
  decoder: `mqtt-packet ${require('mqtt-packet/package.json').version} on Node ${process.version}`,
  packets: count,
  packet_bytes: packetSize(),
  runs,
  stream_pps: measure(65536),
  per_packet_pps: measure(packetSize()),
};
console.log(JSON.stringify(result));
