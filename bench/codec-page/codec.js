// Codec benchmark, Chromium side: PUBLISH packets per second decoded by
// mqdash's session core compiled to wasm (bench/codec-wasm), from the same
// bytes and in the same chunkings as codec-node.mjs. The result lands on
// window.__codec for bench/flood.py to read.
import init, { Packets } from './pkg/codec_wasm.js';
import { makePackets, packetSize, median } from './codec-packets.mjs';

const params = new URLSearchParams(location.search);
const count = Number(params.get('count') || 200000);
const runs = Number(params.get('runs') || 7);

function measure(packets, chunk) {
  for (let i = 0; i < 2; i++) packets.decode(chunk); // warm up (tier-up)
  const rates = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const n = Number(packets.decode(chunk));
    const ms = performance.now() - t0;
    if (n !== count) throw new Error(`decoded ${n} of ${count}`);
    rates.push(n / (ms / 1000));
  }
  return Math.round(median(rates));
}

try {
  await init();
  const packets = new Packets(makePackets(count));
  const result = {
    decoder: 'mqdash mqtt-session (wasm32) in ' + navigator.userAgent.match(/(Headless)?Chrom(e|ium)\/[\d.]+/)?.[0],
    packets: count,
    packet_bytes: packetSize(),
    runs,
    stream_pps: measure(packets, 65536),
    per_packet_pps: measure(packets, packetSize()),
  };
  packets.free();
  window.__codec = { result };
  document.getElementById('out').textContent = JSON.stringify(result);
} catch (e) {
  window.__codec = { error: String(e && e.stack || e) };
  document.getElementById('out').textContent = 'error: ' + e;
}
