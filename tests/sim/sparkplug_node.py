"""A Sparkplug B edge node simulation for the browser tests (and by hand).

Self-contained: at import it compiles Eclipse Tahu's `sparkplug_b.proto`
(committed in `crates/sparkplug/proto/`) with grpcio-tools' bundled protoc
into a temporary directory and builds payloads with the generated classes of
the `protobuf` package, an encoder independent of the Rust decoder. paho-mqtt
2.1 publishes them.

    from sparkplug_node import EdgeNode
    node = EdgeNode("127.0.0.1", 1883, "Plant 1", "Edge-1",
                    devices={"Pump-7": {"Temperature": (21.5, "Float"), "Running": True}})
    node.birth()                                # NBIRTH, then a DBIRTH per device, with aliases
    node.data("Pump-7", {"Temperature": 22.0})  # DDATA carrying only aliases
    node.device_death("Pump-7")                 # DDEATH
    node.node_death()                           # NDEATH (explicitly; it is also the Will)
    node.close()

What it does, as Sparkplug B 3.0 says:
- The connection's Will is an NDEATH carrying the `bdSeq` metric; NBIRTH
  carries the same `bdSeq`, which goes up by one for each new connection.
- `seq` runs 0..255 over the node's NBIRTH, NDATA, DBIRTH, DDATA and DDEATH;
  NBIRTH resets it to 0.
- Aliases are unique within the node (node metrics first, then each device's
  in order); births carry names, aliases and datatypes; data messages carry
  aliases only (no name, no datatype).
- Every publish waits for its completion (the PUBACK at QoS 1, the default,
  which the browser tests rely on: the broker has the message before the
  test looks at the page), never a sleep. The spec wants QoS 0 for births
  and data; pass `qos=0` for that.

Datatypes of metrics: given as `(value, "Float")`, or inferred from the
value: bool -> Boolean, int -> Int64, float -> Double, str -> String.

CLI (pacing with --interval is the only sleep):
    python tests/sim/sparkplug_node.py --broker mqtt://127.0.0.1:1883 \
        --group "Plant 1" --node Edge-1 --device Pump-7 --device Motor-2 --count 20 --interval 0.5 \
        [--ddeath Pump-7] [--ndeath]
"""

import argparse
import queue
import threading
import importlib
import math
import os
import sys
import tempfile
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from grpc_tools import protoc
from paho.mqtt.enums import CallbackAPIVersion

_HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(_HERE, "..", "..", "crates", "sparkplug", "proto"))


def _compile_schema():
    out = tempfile.mkdtemp(prefix="sparkplug_node_pb2_")
    rc = protoc.main(["protoc", f"-I{PROTO_DIR}", f"--python_out={out}",
                      os.path.join(PROTO_DIR, "sparkplug_b.proto")])
    if rc != 0:
        raise RuntimeError(f"protoc could not compile {PROTO_DIR}/sparkplug_b.proto ({rc})")
    sys.path.insert(0, out)
    try:
        return importlib.import_module("sparkplug_b_pb2")
    finally:
        sys.path.remove(out)


pb = _compile_schema()
DataType = pb.DataType

# Which value field each scalar datatype uses (Sparkplug B 3.0, 6.4.16).
_FIELD = {
    "Int8": "int_value", "Int16": "int_value", "Int32": "int_value",
    "UInt8": "int_value", "UInt16": "int_value", "UInt32": "int_value",
    "Int64": "long_value", "UInt64": "long_value", "DateTime": "long_value",
    "Float": "float_value", "Double": "double_value", "Boolean": "boolean_value",
    "String": "string_value", "Text": "string_value", "UUID": "string_value",
    "Bytes": "bytes_value",
}
_BITS = {"Int8": 8, "Int16": 16, "Int32": 32, "Int64": 64}
TIMEOUT = 60.0


def now_ms() -> int:
    return int(time.time() * 1000)


def _typed(value):
    """(value, datatype name) from a plain value or a (value, "Type") pair."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, bool):
        return value, "Boolean"
    if isinstance(value, int):
        return value, "Int64"
    if isinstance(value, float):
        return value, "Double"
    if isinstance(value, str):
        return value, "String"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value), "Bytes"
    raise TypeError(f"no Sparkplug datatype for {value!r}")


def set_value(metric, datatype: str, value):
    """Puts `value` in the field its datatype uses (negative IntN as Tahu's Python does: + 2^N)."""
    field = _FIELD.get(datatype)
    if field is None:
        raise ValueError(f"datatype {datatype} is not a scalar this simulation writes")
    if datatype in _BITS and value < 0:
        value += 1 << _BITS[datatype]
    setattr(metric, field, value)


class EdgeNode:
    """One Sparkplug B edge node with its devices, connected to a broker."""

    def __init__(self, host: str, port: int, group: str, node: str, devices=(), node_metrics=None,
                 client_id: str | None = None, qos: int = 1, bd_seq: int = 0):
        """`devices`: a list of device names (each gets Temperature/Float, Running/Boolean,
        Label/String, Count/UInt32) or a dict name -> {metric: value or (value, "Type")}.
        `node_metrics`: the node's own metrics besides bdSeq and Node Control/Rebirth."""
        self.group, self.node, self.qos = group, node, qos
        if not isinstance(devices, dict):
            devices = {d: {"Temperature": (21.5, "Float"), "Running": True, "Label": "ok",
                           "Count": (0, "UInt32")} for d in devices}
        self.bd_seq = bd_seq
        self.seq = 0
        # name -> (alias, datatype, value); node metrics first, then devices', aliases unique.
        self._next_alias = 1
        self.node_metrics = {}
        self._define(self.node_metrics, "Node Control/Rebirth", (False, "Boolean"))
        for name, value in (node_metrics or {"Uptime": (0, "Int64")}).items():
            self._define(self.node_metrics, name, value)
        self.devices = {}
        for dev, metrics in devices.items():
            self.devices[dev] = {}
            for name, value in metrics.items():
                self._define(self.devices[dev], name, value)
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"spb-{node}-{os.getpid()}",
                                  protocol=mqtt.MQTTv311)
        self._connect(host, port)

    def _define(self, table, name, value):
        v, datatype = _typed(value)
        table[name] = (self._next_alias, datatype, v)
        self._next_alias += 1

    def topic(self, kind: str, device: str | None = None) -> str:
        t = f"spBv1.0/{self.group}/{kind}/{self.node}"
        return f"{t}/{device}" if device is not None else t

    def _bd_seq_payload(self) -> bytes:
        p = pb.Payload()
        p.timestamp = now_ms()
        m = p.metrics.add()
        m.name, m.datatype, m.long_value = "bdSeq", DataType.Value("Int64"), self.bd_seq
        return p.SerializeToString()

    def _connect(self, host, port):
        # The Will: this session's NDEATH, tied to the coming NBIRTH by bdSeq.
        self.client.will_set(self.topic("NDEATH"), self._bd_seq_payload(), qos=1, retain=False)
        # NCMD `Node Control/Rebirth` = true requests are collected for the caller
        # (answering from paho's network thread would wait on itself).
        self.rebirth_requests: "queue.Queue[int]" = queue.Queue()
        subscribed = threading.Event()
        self.client.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()
        self.client.on_message = self._on_command
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + TIMEOUT
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise RuntimeError(f"edge node {self.node} did not connect to {host}:{port}")
            time.sleep(0.02)
        self.client.subscribe(self.topic("NCMD"), qos=1)
        if not subscribed.wait(TIMEOUT):
            raise RuntimeError(f"edge node {self.node} got no SUBACK for its NCMD topic")

    def _on_command(self, client, userdata, msg):
        p = pb.Payload()
        try:
            p.ParseFromString(msg.payload)
        except Exception:  # a command that is not a Sparkplug payload is ignored
            return
        for m in p.metrics:
            if m.name == "Node Control/Rebirth" and m.boolean_value:
                self.rebirth_requests.put(now_ms())

    def wait_rebirth_request(self, timeout: float = TIMEOUT) -> bool:
        """Whether a host asked for a rebirth (NCMD Node Control/Rebirth = true) within
        `timeout` seconds; the caller answers with birth()."""
        try:
            self.rebirth_requests.get(timeout=timeout)
            return True
        except queue.Empty:
            return False

    def _next_seq(self) -> int:
        s = self.seq
        self.seq = (self.seq + 1) % 256
        return s

    def publish(self, topic: str, payload: bytes, qos: int | None = None):
        """Publishes and waits until it is complete (PUBACK at QoS 1)."""
        info = self.client.publish(topic, payload, qos=self.qos if qos is None else qos, retain=False)
        info.wait_for_publish(TIMEOUT)
        if not info.is_published():
            raise RuntimeError(f"publish to {topic} did not complete")

    def _payload(self, seq: int | None) -> "pb.Payload":
        p = pb.Payload()
        p.timestamp = now_ms()
        if seq is not None:
            p.seq = seq
        return p

    def _birth_metrics(self, p, table):
        for name, (alias, datatype, value) in table.items():
            m = p.metrics.add()
            m.name, m.alias, m.datatype = name, alias, DataType.Value(datatype)
            m.timestamp = p.timestamp
            set_value(m, datatype, value)

    def birth(self):
        """NBIRTH (seq 0, bdSeq, names with aliases), then a DBIRTH per device."""
        self.seq = 0
        p = self._payload(self._next_seq())
        m = p.metrics.add()
        m.name, m.datatype, m.long_value = "bdSeq", DataType.Value("Int64"), self.bd_seq
        self._birth_metrics(p, self.node_metrics)
        self.publish(self.topic("NBIRTH"), p.SerializeToString())
        for dev in self.devices:
            self.device_birth(dev)

    def device_birth(self, device: str):
        """DBIRTH of one device (names, aliases, datatypes, current values)."""
        p = self._payload(self._next_seq())
        self._birth_metrics(p, self.devices[device])
        self.publish(self.topic("DBIRTH", device), p.SerializeToString())

    def _data(self, kind, device, table, values, seq):
        if seq is not None:
            self.seq = seq % 256  # the counter goes on after a forced seq
        p = self._payload(self._next_seq())
        for name, value in values.items():
            alias, datatype, _ = table[name]
            m = p.metrics.add()
            m.alias = alias  # aliases only: no name, no datatype
            set_value(m, datatype, value)
            table[name] = (alias, datatype, value)
        self.publish(self.topic(kind, device), p.SerializeToString())

    def data(self, device: str, values: dict, seq: int | None = None):
        """DDATA carrying only aliases. `seq`: force a sequence number (a gap when ahead,
        out of order when behind); the node's counter goes on from it."""
        self._data("DDATA", device, self.devices[device], values, seq)

    def node_data(self, values: dict, seq: int | None = None):
        """NDATA carrying only aliases."""
        self._data("NDATA", None, self.node_metrics, values, seq)

    def device_death(self, device: str):
        """DDEATH of one device."""
        p = self._payload(self._next_seq())
        self.publish(self.topic("DDEATH", device), p.SerializeToString())

    def node_death(self):
        """Publishes NDEATH (with this session's bdSeq) explicitly, as a node does before a
        clean disconnect; the connection stays open until close()."""
        self.publish(self.topic("NDEATH"), self._bd_seq_payload(), qos=1)

    def close(self):
        """Disconnects cleanly (the broker then does not send the Will)."""
        self.client.disconnect()
        self.client.loop_stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Sparkplug B edge node simulation")
    ap.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    ap.add_argument("--group", default="mqdash")
    ap.add_argument("--node", default="py-node")
    ap.add_argument("--device", action="append", default=[], help="a device (repeatable)")
    ap.add_argument("--count", type=int, default=10, help="DDATA rounds after the births")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
    ap.add_argument("--ddeath", action="append", default=[], help="DDEATH this device at the end")
    ap.add_argument("--ndeath", action="store_true", help="publish NDEATH at the end")
    ap.add_argument("--qos", type=int, default=1, choices=[0, 1])
    args = ap.parse_args(argv)
    url = urlparse(args.broker)
    if url.scheme != "mqtt":
        ap.error("--broker must be mqtt://host:port")
    node = EdgeNode(url.hostname or "127.0.0.1", url.port or 1883, args.group, args.node,
                    devices=args.device or ["device-1"], qos=args.qos)
    node.birth()
    print(f"sparkplug_node: births of {args.node} and {list(node.devices)} published", flush=True)
    for i in range(args.count):
        for j, dev in enumerate(node.devices):
            node.data(dev, {"Temperature": round(21.5 + 3 * math.sin((i + j) / 5), 2),
                            "Count": i, "Running": i % 7 != 6})
        node.node_data({"Uptime": i})
        if i + 1 < args.count:
            time.sleep(args.interval)
    for dev in args.ddeath:
        node.device_death(dev)
    if args.ndeath:
        node.node_death()
    node.close()
    print(f"sparkplug_node: {args.count} rounds published", flush=True)


if __name__ == "__main__":
    main()
