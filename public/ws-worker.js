// The page's WebSocket, run in a dedicated worker (src/transport/websocket.rs).
//
// Brokers such as mosquitto send every MQTT packet as its own WebSocket frame,
// and the browser spends tens of microseconds of the receiving thread on each
// one (IPC, a MessageEvent, an ArrayBuffer). On the page's main thread a flood
// of 10,000+ frames a second leaves no time to render. Here that cost lands on
// the worker's thread instead, and the main thread gets the bytes of many
// frames in one message: at most one post per task turn of this worker.
//
// This is a relay and nothing else: no MQTT, no decisions. Order is kept: data
// received before an event is posted before it.
//
// In (from the page):  {op: "open", url, protocol} once, then
//                      {op: "send", data: ArrayBuffer} and {op: "close"}.
// Out (to the page):   {ev: "open", protocol}, {ev: "data", buf: ArrayBuffer},
//                      {ev: "text", text}, {ev: "error"},
//                      {ev: "close", code, reason, wasClean},
//                      {ev: "failed", message} when the URL is refused outright.
"use strict";

let ws = null;
let pending = [];
let pendingBytes = 0;
let scheduled = false;

function flush() {
  scheduled = false;
  if (pending.length === 0) return;
  let buf;
  if (pending.length === 1) {
    buf = pending[0];
  } else {
    const all = new Uint8Array(pendingBytes);
    let at = 0;
    for (const chunk of pending) {
      all.set(new Uint8Array(chunk), at);
      at += chunk.byteLength;
    }
    buf = all.buffer;
  }
  pending = [];
  pendingBytes = 0;
  // `t`: when the bytes left the worker, so the page can tell how far
  // behind the broker it is when it cannot keep up.
  postMessage({ ev: "data", buf, t: Date.now() }, [buf]);
}

function emit(message) {
  flush();
  postMessage(message);
}

function open(url, protocol) {
  try {
    ws = new WebSocket(url, protocol);
  } catch (e) {
    postMessage({ ev: "failed", message: String((e && e.message) || e) });
    self.close();
    return;
  }
  ws.binaryType = "arraybuffer";
  ws.onopen = () => emit({ ev: "open", protocol: ws.protocol });
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      emit({ ev: "text", text: e.data });
      return;
    }
    pending.push(e.data);
    pendingBytes += e.data.byteLength;
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 0);
    }
  };
  ws.onerror = () => emit({ ev: "error" });
  ws.onclose = (e) => {
    emit({ ev: "close", code: e.code, reason: e.reason, wasClean: e.wasClean });
    self.close();
  };
}

onmessage = (e) => {
  const m = e.data;
  if (m.op === "open" && ws === null) {
    open(m.url, m.protocol);
  } else if (m.op === "send" && ws) {
    try {
      ws.send(m.data);
    } catch (err) {
      emit({ ev: "error" });
    }
  } else if (m.op === "close") {
    // The page has let go: close normally (1000) and end the worker once the
    // closing handshake is over, or after two seconds at the latest.
    if (ws) {
      ws.onmessage = null;
      ws.onerror = null;
      ws.onclose = () => self.close();
      ws.close(1000);
      setTimeout(() => self.close(), 2000);
    } else {
      self.close();
    }
  }
};
