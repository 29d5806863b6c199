// See index.html. Exposes window.__baseline = {count, subscribed} like the
// MQTT.js baseline so bench/flood.py reads both the same way.
(function () {
  'use strict';
  const q = new URLSearchParams(location.search);
  const st = (window.__baseline = { count: 0, subscribed: false });
  if ((q.get('mode') || 'main') === 'main') {
    const ws = new WebSocket(q.get('broker'), 'mqtt');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { ws.send(connectPacket('raw-main')); ws.send(subscribeAll()); };
    ws.onmessage = (e) => {
      if (st.subscribed) st.count++;
      else if (new Uint8Array(e.data)[0] === 0x90) st.subscribed = true; // SUBACK
    };
  } else {
    const w = new Worker('raw-worker.js');
    w.onmessage = (e) => { st.count += e.data.n; if (e.data.subscribed) st.subscribed = true; };
    w.postMessage({ url: q.get('broker') });
  }
  const out = document.getElementById('count');
  (function frame() { out.textContent = String(st.count); requestAnimationFrame(frame); })();
})();

function connectPacket(id) {
  const b = [...id].map((c) => c.charCodeAt(0));
  return new Uint8Array([0x10, 12 + b.length, 0, 4, 77, 81, 84, 84, 4, 2, 0, 60, 0, b.length, ...b]);
}
function subscribeAll() {
  return new Uint8Array([0x82, 6, 0, 1, 0, 1, 0x23, 0]); // SUBSCRIBE id 1, "#", QoS 0
}
