// bench/raw, worker mode: counts message events and posts the count to the
// page at most once per task turn (like public/ws-worker.js batches bytes).
'use strict';
let n = 0;
let scheduled = false;
let subscribed = false;
function flush() { scheduled = false; postMessage({ n, subscribed }); n = 0; }
onmessage = (e) => {
  const ws = new WebSocket(e.data.url, 'mqtt');
  ws.binaryType = 'arraybuffer';
  const id = [...'raw-worker'].map((c) => c.charCodeAt(0));
  ws.onopen = () => {
    ws.send(new Uint8Array([0x10, 12 + id.length, 0, 4, 77, 81, 84, 84, 4, 2, 0, 60, 0, id.length, ...id]));
    ws.send(new Uint8Array([0x82, 6, 0, 1, 0, 1, 0x23, 0]));
  };
  ws.onmessage = (ev) => {
    if (!subscribed) {
      if (new Uint8Array(ev.data)[0] === 0x90) { subscribed = true; flush(); }
      return;
    }
    n++;
    if (!scheduled) { scheduled = true; setTimeout(flush, 0); }
  };
};
