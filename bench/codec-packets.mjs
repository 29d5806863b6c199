// The codec benchmark's input, shared by Node (codec-node.mjs) and the
// Chromium page (codec-page/codec.js) so both decode the very same bytes:
// `count` MQTT 3.1.1 QoS 0 PUBLISH packets over 1,000 topics `load/000` ..
// `load/999` (fixed width, so every packet has the same size and a
// per-packet chunking is exact), each with a 100-byte payload shaped like
// devbroker loadgen's (13 digits of milliseconds, a space, `x` padding).

export const TOPICS = 1000;
export const PAYLOAD_SIZE = 100;

export function packetSize() {
  const topicLen = 'load/000'.length;
  const remaining = 2 + topicLen + PAYLOAD_SIZE;
  return 1 + 1 + remaining; // remaining < 128: one length byte
}

export function makePackets(count) {
  const size = packetSize();
  const buf = new Uint8Array(count * size);
  const enc = new TextEncoder();
  const payload = enc.encode(('1763800000000 ' + 'x'.repeat(PAYLOAD_SIZE)).slice(0, PAYLOAD_SIZE));
  let o = 0;
  for (let i = 0; i < count; i++) {
    const topic = enc.encode('load/' + String(i % TOPICS).padStart(3, '0'));
    buf[o++] = 0x30;
    buf[o++] = size - 2;
    buf[o++] = 0;
    buf[o++] = topic.length;
    buf.set(topic, o);
    o += topic.length;
    buf.set(payload, o);
    o += payload.length;
  }
  return buf;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
