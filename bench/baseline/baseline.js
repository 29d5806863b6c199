// MQTT.js (npm `mqtt`, the browser bundle) subscribed like mqdash: the same
// `?broker=…&sub=…` query, MQTT 3.1.1, clean session, QoS 0. It only counts
// messages (window.__baseline.count); the on-screen counter is refreshed once
// a frame so the DOM costs nothing measurable.
(function () {
  'use strict';
  const q = new URLSearchParams(location.search);
  const state = { count: 0, connected: false, subscribed: false, error: null };
  window.__baseline = state;
  const client = mqtt.connect(q.get('broker'), {
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    clientId: 'mqttjs-baseline-' + Math.random().toString(16).slice(2, 10),
  });
  client.on('connect', function () {
    state.connected = true;
    client.subscribe(q.get('sub') || '#', { qos: 0 }, function (err) {
      if (err) state.error = String(err);
      else state.subscribed = true;
    });
  });
  client.on('message', function () {
    state.count++;
  });
  client.on('error', function (e) { state.error = String(e); });
  const out = document.getElementById('count');
  (function frame() {
    if (out) out.textContent = String(state.count);
    requestAnimationFrame(frame);
  })();
})();
