// Timer ticks from a dedicated worker. Browsers throttle main-thread timers in
// hidden tabs (to once a second, then once a minute), which would starve MQTT
// keepalive; timers in a dedicated worker are not throttled that way.
// Message in: a delay in ms (negative cancels). Message out: 0 when it fires.
let timer = null;
onmessage = (event) => {
  if (timer !== null) {
    clearTimeout(timer);
    timer = null;
  }
  const delay = Number(event.data);
  if (delay >= 0) {
    timer = setTimeout(() => {
      timer = null;
      postMessage(0);
    }, delay);
  }
};
