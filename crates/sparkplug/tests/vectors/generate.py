"""Writes the Sparkplug B test vectors of the `sparkplug` crate.

An independent encoder: Eclipse Tahu's `sparkplug_b.proto` (committed in
`crates/sparkplug/proto/`) compiled by protoc from grpcio-tools into a
temporary directory, and payloads built with the generated Python classes of
the `protobuf` package. Each message of one Sparkplug session (births, data
carrying only aliases, commands, deaths, a sequence gap and an out-of-order
message, STATE) is written as `NN-name.bin`; `expected.json` lists them in
order with their topics and what the Rust decoder must show, written here
from what was encoded (values, names behind aliases, sequence verdicts,
online states), never from the Rust output.

Conventions of the expectations (read by `tests/vectors.rs`):
- `{"$f32": x}`: a Float; the decoder's number must equal x as a float32.
- Objects are compared with exact key sets, except that `notes` and
  `warnings` are checked only where listed (`warnings` by substring).

Run from the repository root with the project venv:
    .tools/venv/bin/python crates/sparkplug/tests/vectors/generate.py
"""

import importlib
import json
import math
import os
import struct
import sys
import tempfile

from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))


def load_schema():
    out = tempfile.mkdtemp(prefix="sparkplug_pb2_")
    rc = protoc.main(
        ["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", os.path.join(PROTO_DIR, "sparkplug_b.proto")]
    )
    if rc != 0:
        sys.exit(f"protoc failed with {rc}")
    sys.path.insert(0, out)
    return importlib.import_module("sparkplug_b_pb2")


pb = load_schema()
Payload = pb.Payload
T = pb.DataType  # enum wrapper: T.Value("Int8") == 1


def dt(name):
    return T.Value(name)


def f32(x):
    """The float32 nearest to x, as the decoder must show it."""
    return {"$f32": struct.unpack("<f", struct.pack("<f", x))[0]}


def special(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


# ---- metric builders: each returns (set_fn, expected_value) -----------------

def add_metric(payload, name, alias, datatype, setter, timestamp=None):
    m = payload.metrics.add()
    if name is not None:
        m.name = name
    if alias is not None:
        m.alias = alias
    if datatype is not None:
        m.datatype = datatype
    if timestamp is not None:
        m.timestamp = timestamp
    if setter is not None:
        setter(m)
    return m


def details(alias=None, datatype=None, timestamp=None, historical=False, transient=False,
            null=False, properties=None, metadata=None):
    d = {}
    if alias is not None:
        d["alias"] = alias
    if datatype is not None:
        d["datatype"] = datatype
    if timestamp is not None:
        d["timestamp"] = timestamp
    d["is_historical"] = historical
    d["is_transient"] = transient
    d["is_null"] = null
    if metadata is not None:
        d["metadata"] = metadata
    if properties is not None:
        d["properties"] = properties
    return d


def signed_to_u32(v, bits):
    """Tahu Python's encoding of a negative IntN in int_value: v + 2^bits."""
    return v + (1 << bits) if v < 0 else v


def packed(fmt, values):
    return struct.pack("<" + fmt * len(values), *values)


def bool_array(values):
    """Tahu's BooleanArray: u32 LE count, then bits, first value in the high bit."""
    out = bytearray(struct.pack("<I", len(values)))
    for i in range(0, len(values), 8):
        byte = 0
        for j, v in enumerate(values[i:i + 8]):
            if v:
                byte |= 0x80 >> j
        out.append(byte)
    return bytes(out)


def string_array(values):
    return b"".join(s.encode("utf-8") + b"\0" for s in values)


GROUP, NODE, DEVICE = "Plant 1", "Edge-1", "Pump-7"
TS = 1700000000000
vectors = []


def emit(name, topic, payload_bytes, expect, received_ms):
    vectors.append({"name": name, "topic": topic, "payload": payload_bytes,
                    "received_ms": received_ms, "expect": expect})


def base(message_type, group, node, device, seq, ts):
    e = {"message_type": message_type, "group": group, "edge_node": node}
    if device is not None:
        e["device"] = device
    if seq is not None:
        e["seq"] = seq
    if ts is not None:
        e["timestamp"] = ts
    return e


# ---- 1. NBIRTH with every datatype -----------------------------------------

p = Payload()
p.timestamp = TS
p.seq = 0
metrics, det = {}, {}
alias = [0]


def node_metric(name, datatype_name, setter, expected, extra_details=None, with_alias=True):
    a = None
    if with_alias:
        alias[0] += 1
        a = alias[0]
    add_metric(p, name, a, dt(datatype_name) if isinstance(datatype_name, str) else datatype_name, setter)
    metrics[name] = expected
    dname = datatype_name if isinstance(datatype_name, str) else f"unknown ({datatype_name})"
    det[name] = details(alias=a, datatype=dname, **(extra_details or {}))
    return a


def setv(field, value):
    return lambda m: setattr(m, field, value)


ALIASES = {}
ALIASES["bdSeq"] = node_metric("bdSeq", "Int64", setv("long_value", 0), 0)
ALIASES["Node Control/Rebirth"] = node_metric("Node Control/Rebirth", "Boolean", setv("boolean_value", False), False)
ALIASES["Int8"] = node_metric("Int8", "Int8", setv("int_value", signed_to_u32(-5, 8)), -5)
node_metric("Int8 sign-extended", "Int8", setv("int_value", 0xFFFFFFFB), -5)
ALIASES["Int16"] = node_metric("Int16", "Int16", setv("int_value", signed_to_u32(-300, 16)), -300)
node_metric("Int32", "Int32", setv("int_value", signed_to_u32(-70000, 32)), -70000)
node_metric("Int64", "Int64", setv("long_value", -5_000_000_000 + (1 << 64)), -5_000_000_000)
node_metric("UInt8", "UInt8", setv("int_value", 200), 200)
node_metric("UInt16", "UInt16", setv("int_value", 60000), 60000)
node_metric("UInt32", "UInt32", setv("int_value", 4_000_000_000), 4_000_000_000)
node_metric("UInt32 in long_value", "UInt32", setv("long_value", 4_000_000_001), 4_000_000_001)
ALIASES["UInt64"] = node_metric("UInt64", "UInt64", setv("long_value", (1 << 64) - 1), (1 << 64) - 1)
node_metric("Float", "Float", setv("float_value", 21.5), f32(21.5))
node_metric("Float 0.1", "Float", setv("float_value", 0.1), f32(0.1))
node_metric("Float +inf", "Float", setv("float_value", math.inf), "Infinity")
ALIASES["Double"] = node_metric("Double", "Double", setv("double_value", math.pi), math.pi)
node_metric("Double NaN", "Double", setv("double_value", math.nan), "NaN")
node_metric("Double -inf", "Double", setv("double_value", -math.inf), "-Infinity")
node_metric("Double tiny", "Double", setv("double_value", 5e-324), 5e-324)
node_metric("Boolean", "Boolean", setv("boolean_value", True), True)
node_metric("String", "String", setv("string_value", 'h\u00e9llo "quoted"\n\ttab \u2603'), 'h\u00e9llo "quoted"\n\ttab \u2603')
node_metric("Text", "Text", setv("string_value", "long text"), "long text")
node_metric("UUID", "UUID", setv("string_value", "123e4567-e89b-12d3-a456-426614174000"),
            "123e4567-e89b-12d3-a456-426614174000")
node_metric("DateTime", "DateTime", setv("long_value", 1700000000123), 1700000000123)
node_metric("Bytes", "Bytes", setv("bytes_value", b"\x00\xff\x10"), {"$bytes": "00ff10"})


def file_setter(m):
    m.bytes_value = b"hello"
    m.metadata.content_type = "text/plain"
    m.metadata.size = 5
    m.metadata.file_name = "hello.txt"
    m.metadata.md5 = "5d41402abc4b2a76b9719d911017c592"


node_metric("File", "File", file_setter, {"$bytes": "68656c6c6f"},
            {"metadata": {"content_type": "text/plain", "size": 5, "file_name": "hello.txt",
                          "md5": "5d41402abc4b2a76b9719d911017c592"}})


def null_setter(m):
    m.is_null = True


node_metric("Null Int32", "Int32", null_setter, None, {"null": True})
node_metric("Unknown type 99", 99, setv("int_value", 5), 5)


def dataset_setter(m):
    ds = m.dataset_value
    ds.num_of_columns = 4
    ds.columns.extend(["id", "label", "level", "ok"])
    ds.types.extend([dt("Int32"), dt("String"), dt("Double"), dt("Boolean")])
    for row in [(-7, "first", 0.5, True), (8, "second", -1.25, False)]:
        r = ds.rows.add()
        e = r.elements.add(); e.int_value = signed_to_u32(row[0], 32)
        e = r.elements.add(); e.string_value = row[1]
        e = r.elements.add(); e.double_value = row[2]
        e = r.elements.add(); e.boolean_value = row[3]


node_metric("DataSet", "DataSet", dataset_setter,
            {"columns": ["id", "label", "level", "ok"], "types": ["Int32", "String", "Double", "Boolean"],
             "rows": [[-7, "first", 0.5, True], [8, "second", -1.25, False]]})


def template_setter(m):
    t = m.template_value
    t.template_ref = "MotorType"
    t.version = "v1"
    t.is_definition = False
    par = t.parameters.add(); par.name = "maxRPM"; par.type = dt("Int32"); par.int_value = 3000
    par = t.parameters.add(); par.name = "vendor"; par.type = dt("String"); par.string_value = "ACME"
    sub = t.metrics.add(); sub.name = "RPM"; sub.datatype = dt("Double"); sub.double_value = 1450.5
    sub = t.metrics.add(); sub.name = "Bearing"; sub.datatype = dt("Template")
    inner = sub.template_value
    inner.template_ref = "BearingType"
    leaf = inner.metrics.add(); leaf.name = "TempC"; leaf.datatype = dt("Float"); leaf.float_value = 40.25


node_metric("Motor", "Template", template_setter,
            {"template_ref": "MotorType", "is_definition": False, "version": "v1",
             "parameters": {"maxRPM": 3000, "vendor": "ACME"},
             "metrics": {"RPM": 1450.5,
                         "Bearing": {"template_ref": "BearingType", "is_definition": False,
                                     "parameters": {}, "metrics": {"TempC": f32(40.25)}}}})


def definition_setter(m):
    t = m.template_value
    t.is_definition = True
    sub = t.metrics.add(); sub.name = "RPM"; sub.datatype = dt("Double"); sub.double_value = 0.0


node_metric("_types_/MotorType", "Template", definition_setter,
            {"is_definition": True, "parameters": {}, "metrics": {"RPM": 0.0}})

ARRAYS = [
    ("Int8Array", "b", [-128, 0, 127]),
    ("Int16Array", "h", [-32768, 1, 32767]),
    ("Int32Array", "i", [-2147483648, 2147483647]),
    ("Int64Array", "q", [-(1 << 63), (1 << 63) - 1]),
    ("UInt8Array", "B", [0, 255]),
    ("UInt16Array", "H", [0, 65535]),
    ("UInt32Array", "I", [0, 4294967295]),
    ("UInt64Array", "Q", [0, (1 << 64) - 1]),
    ("DoubleArray", "d", [0.1, -2.5e300]),
    ("DateTimeArray", "q", [1700000000000, 0]),
]
for name, fmt, values in ARRAYS:
    node_metric(name, name, setv("bytes_value", packed(fmt, values)), values)
node_metric("FloatArray", "FloatArray", setv("bytes_value", packed("f", [1.5, 0.1, -0.25])),
            [f32(1.5), f32(0.1), f32(-0.25)])
BOOLS = [True, False, True, True, False, False, False, False, True]
node_metric("BooleanArray", "BooleanArray", setv("bytes_value", bool_array(BOOLS)), BOOLS)
STRS = ["a", "", "\u00fcn\u00ef"]
node_metric("StringArray", "StringArray", setv("bytes_value", string_array(STRS)), STRS)


def props_setter(m):
    m.float_value = 20.5
    ps = m.properties
    ps.keys.extend(["engUnit", "min", "limits", "history"])
    v = ps.values.add(); v.type = dt("String"); v.string_value = "C"
    v = ps.values.add(); v.type = dt("Int32"); v.int_value = signed_to_u32(-40, 32)
    v = ps.values.add(); v.type = dt("PropertySet")
    v.propertyset_value.keys.append("hi")
    hv = v.propertyset_value.values.add(); hv.type = dt("Double"); hv.double_value = 99.5
    v = ps.values.add(); v.type = dt("PropertySetList")
    a = v.propertysets_value.propertyset.add(); a.keys.append("a")
    av = a.values.add(); av.type = dt("Boolean"); av.boolean_value = True
    b = v.propertysets_value.propertyset.add(); b.keys.append("b")
    bv = b.values.add(); bv.type = dt("Int64"); bv.long_value = (1 << 64) - 1


node_metric("Ambient", "Float", props_setter, f32(20.5),
            {"properties": {"engUnit": "C", "min": -40, "limits": {"hi": 99.5},
                            "history": [{"a": True}, {"b": -1}]}})


def historical_setter(m):
    m.double_value = 1.0
    m.is_historical = True
    m.is_transient = True
    m.timestamp = TS - 1000


node_metric("Historical", "Double", historical_setter, 1.0,
            {"historical": True, "transient": True, "timestamp": TS - 1000})

NODE_METRIC_COUNT = len(metrics)
e = base("NBIRTH", GROUP, NODE, None, 0, TS)
e["metrics"] = metrics
e["details"] = det
e["sequence"] = {"status": "first"}
p.uuid = "spb-test-uuid"
p.body = b"\x01\x02"
e["uuid"] = "spb-test-uuid"
e["body"] = {"$bytes": "0102"}
NBIRTH_TOPIC = f"spBv1.0/{GROUP}/NBIRTH/{NODE}"
emit("nbirth", NBIRTH_TOPIC, p.SerializeToString(), e, 1000.0)

# ---- 2. DBIRTH with aliases -------------------------------------------------

DEV_METRICS = [("Temperature", "Float", 100), ("Running", "Boolean", 101),
               ("Label", "String", 102), ("Count", "UInt32", 103)]
p = Payload(); p.timestamp = TS + 1; p.seq = 1
vals = {"Temperature": 21.5, "Running": True, "Label": "start", "Count": 0}
fields = {"Float": "float_value", "Boolean": "boolean_value", "String": "string_value", "UInt32": "int_value"}
e = base("DBIRTH", GROUP, NODE, DEVICE, 1, TS + 1)
e["metrics"], e["details"] = {}, {}
for name, dtn, a in DEV_METRICS:
    m = add_metric(p, name, a, dt(dtn), setv(fields[dtn], vals[name]))
    if name == "Temperature":
        m.properties.keys.append("engUnit")
        pv = m.properties.values.add(); pv.type = dt("String"); pv.string_value = "C"
    e["metrics"][name] = f32(vals[name]) if dtn == "Float" else vals[name]
    e["details"][name] = details(alias=a, datatype=dtn,
                                 properties={"engUnit": "C"} if name == "Temperature" else None)
e["sequence"] = {"status": "ok"}
emit("dbirth", f"spBv1.0/{GROUP}/DBIRTH/{NODE}/{DEVICE}", p.SerializeToString(), e, 1001.0)


def ddata(name, seq, values, status, received, unresolved=None, ts=None):
    """DDATA carrying only aliases (no names, no datatypes)."""
    p = Payload(); p.timestamp = ts or TS + 10 * seq; p.seq = seq
    e = base("DDATA", GROUP, NODE, DEVICE, seq, ts or TS + 10 * seq)
    e["metrics"], e["details"] = {}, {}
    for alias_, (mname, dtn, field, value, expected) in values.items():
        m = add_metric(p, None, alias_, None, setv(field, value))
        e["metrics"][mname] = expected
        e["details"][mname] = details(alias=alias_, datatype=dtn)
    e["sequence"] = status
    if unresolved:
        e["unresolved_aliases"] = unresolved
    emit(name, f"spBv1.0/{GROUP}/DDATA/{NODE}/{DEVICE}", p.SerializeToString(), e, received)


# ---- 3. DDATA with aliases only --------------------------------------------

ddata("ddata-aliases", 2, {
    100: ("Temperature", "Float", "float_value", 22.25, f32(22.25)),
    101: ("Running", "Boolean", "boolean_value", False, False),
    102: ("Label", "String", "string_value", "x", "x"),
    103: ("Count", "UInt32", "int_value", 7, 7),
}, {"status": "ok"}, 1002.0)

# ---- 4. NDATA with aliases only --------------------------------------------

p = Payload(); p.timestamp = TS + 30; p.seq = 3
e = base("NDATA", GROUP, NODE, None, 3, TS + 30)
e["metrics"], e["details"] = {}, {}
for mname, field, value, expected, dtn in [
    ("Int16", "int_value", signed_to_u32(-2, 16), -2, "Int16"),
    ("UInt64", "long_value", 1 << 63, 1 << 63, "UInt64"),
    ("Double", "double_value", -0.0, -0.0, "Double"),
    ("Int8", "int_value", 0x7F, 127, "Int8"),
]:
    add_metric(p, None, ALIASES[mname], None, setv(field, value))
    e["metrics"][mname] = expected
    e["details"][mname] = details(alias=ALIASES[mname], datatype=dtn)
e["sequence"] = {"status": "ok"}
emit("ndata-aliases", f"spBv1.0/{GROUP}/NDATA/{NODE}", p.SerializeToString(), e, 1003.0)

# ---- 5-7. a gap, an out-of-order message, an unknown alias -----------------

ddata("ddata-gap", 5, {100: ("Temperature", "Float", "float_value", 23.0, f32(23.0))},
      {"status": "gap", "expected": 4, "got": 5}, 1005.0)
ddata("ddata-out-of-order", 4, {100: ("Temperature", "Float", "float_value", 22.5, f32(22.5))},
      {"status": "out of order", "expected": 6, "got": 4}, 1006.0)
p = Payload(); p.timestamp = TS + 60; p.seq = 6
add_metric(p, None, 100, None, setv("float_value", 24.0))
add_metric(p, None, 999, dt("Int32"), setv("int_value", 42))
e = base("DDATA", GROUP, NODE, DEVICE, 6, TS + 60)
e["metrics"] = {"Temperature": f32(24.0), "alias 999": 42}
e["details"] = {"Temperature": details(alias=100, datatype="Float"),
                "alias 999": details(alias=999, datatype="Int32")}
e["sequence"] = {"status": "ok"}
e["unresolved_aliases"] = [999]
emit("ddata-unknown-alias", f"spBv1.0/{GROUP}/DDATA/{NODE}/{DEVICE}", p.SerializeToString(), e, 1007.0)

# ---- 8-9. commands ----------------------------------------------------------

p = Payload(); p.timestamp = TS + 70
add_metric(p, "Node Control/Rebirth", None, dt("Boolean"), setv("boolean_value", True))
e = base("NCMD", GROUP, NODE, None, None, TS + 70)
e["metrics"] = {"Node Control/Rebirth": True}
e["details"] = {"Node Control/Rebirth": details(datatype="Boolean")}
e["sequence"] = {"status": "none"}
emit("ncmd", f"spBv1.0/{GROUP}/NCMD/{NODE}", p.SerializeToString(), e, 1008.0)

p = Payload(); p.timestamp = TS + 80
add_metric(p, None, 101, None, setv("boolean_value", True))
e = base("DCMD", GROUP, NODE, DEVICE, None, TS + 80)
e["metrics"] = {"Running": True}
e["details"] = {"Running": details(alias=101, datatype="Boolean")}
e["sequence"] = {"status": "none"}
emit("dcmd-alias", f"spBv1.0/{GROUP}/DCMD/{NODE}/{DEVICE}", p.SerializeToString(), e, 1009.0)

# ---- 10-11. deaths ----------------------------------------------------------

p = Payload(); p.timestamp = TS + 90; p.seq = 7
e = base("DDEATH", GROUP, NODE, DEVICE, 7, TS + 90)
e["metrics"], e["details"] = {}, {}
e["sequence"] = {"status": "ok"}
emit("ddeath", f"spBv1.0/{GROUP}/DDEATH/{NODE}/{DEVICE}", p.SerializeToString(), e, 1010.0)

p = Payload(); p.timestamp = TS + 100
add_metric(p, "bdSeq", None, dt("Int64"), setv("long_value", 0))
e = base("NDEATH", GROUP, NODE, None, None, TS + 100)
e["metrics"] = {"bdSeq": 0}
e["details"] = {"bdSeq": details(datatype="Int64")}
e["sequence"] = {"status": "none"}
emit("ndeath", f"spBv1.0/{GROUP}/NDEATH/{NODE}", p.SerializeToString(), e, 1011.0)

# ---- 12-14. a second node: a stale NDEATH is not applied, the right one is --

NODE2 = "Edge-2"
p = Payload(); p.timestamp = TS; p.seq = 0
add_metric(p, "bdSeq", 1, dt("UInt64"), setv("long_value", 5))
add_metric(p, "Level", 2, dt("Double"), setv("double_value", 0.75))
e = base("NBIRTH", GROUP, NODE2, None, 0, TS)
e["metrics"] = {"bdSeq": 5, "Level": 0.75}
e["details"] = {"bdSeq": details(alias=1, datatype="UInt64"), "Level": details(alias=2, datatype="Double")}
e["sequence"] = {"status": "first"}
emit("nbirth-2", f"spBv1.0/{GROUP}/NBIRTH/{NODE2}", p.SerializeToString(), e, 2000.0)

for name, bd, stale, received in [("ndeath-2-stale", 4, True, 2001.0), ("ndeath-2", 5, False, 2002.0)]:
    p = Payload(); p.timestamp = TS + 1
    add_metric(p, "bdSeq", None, dt("UInt64"), setv("long_value", bd))
    e = base("NDEATH", GROUP, NODE2, None, None, TS + 1)
    e["metrics"] = {"bdSeq": bd}
    e["details"] = {"bdSeq": details(datatype="UInt64")}
    e["sequence"] = {"status": "none"}
    if stale:
        e["warnings"] = ["stale NDEATH"]
    emit(name, f"spBv1.0/{GROUP}/NDEATH/{NODE2}", p.SerializeToString(), e, received)

# ---- 15-16. STATE of host applications (3.0 JSON, 2.2 text) ----------------

state3 = json.dumps({"online": True, "timestamp": TS}).encode()
emit("state-3.0", "spBv1.0/STATE/scada-1", state3,
     {"message_type": "STATE", "host": "scada-1", "spec": "3.0", "online": True, "timestamp": TS,
      "payload": {"online": True, "timestamp": TS}}, 3000.0)
emit("state-2.2", "STATE/scada-2", b"OFFLINE",
     {"message_type": "STATE", "host": "scada-2", "spec": "2.2", "online": False, "payload": "OFFLINE"}, 3001.0)

# ---- what nodes_json must say after all of them -----------------------------

nodes_after = {
    "nodes": [
        {"group": GROUP, "edge_node": NODE, "online": False, "bd_seq": 0, "last_seq": 7, "gaps": 1,
         "out_of_order": 1, "stale_deaths": 0, "last_seen_ms": 1011.0, "metrics": NODE_METRIC_COUNT,
         "devices": [{"device": DEVICE, "online": False, "metrics": len(DEV_METRICS), "last_seen_ms": 1010.0}]},
        {"group": GROUP, "edge_node": NODE2, "online": False, "bd_seq": 5, "last_seq": 0, "gaps": 0,
         "out_of_order": 0, "stale_deaths": 1, "last_seen_ms": 2002.0, "metrics": 2, "devices": []},
    ],
    "hosts": [
        {"host": "scada-1", "online": True, "timestamp": TS, "last_seen_ms": 3000.0},
        {"host": "scada-2", "online": False, "last_seen_ms": 3001.0},
    ],
    "refused": {"nodes": 0, "devices": 0, "definitions": 0, "hosts": 0},
}

# ---- write ------------------------------------------------------------------

for f in os.listdir(HERE):
    if f.endswith(".bin"):
        os.remove(os.path.join(HERE, f))
listing = []
for i, v in enumerate(vectors, 1):
    file = f"{i:02d}-{v['name']}.bin"
    with open(os.path.join(HERE, file), "wb") as fh:
        fh.write(v["payload"])
    listing.append({"file": file, "topic": v["topic"], "received_ms": v["received_ms"], "expect": v["expect"]})


def clean(x):
    """JSON cannot hold NaN or infinities: they are expected as strings."""
    if isinstance(x, float):
        return special(x)
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [clean(v) for v in x]
    return x


with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as fh:
    json.dump({"generator": "crates/sparkplug/tests/vectors/generate.py",
               "protobuf": __import__("google.protobuf").protobuf.__version__,
               "messages": clean(listing), "nodes_after": clean(nodes_after)},
              fh, indent=1, ensure_ascii=False, allow_nan=False)
    fh.write("\n")
print(f"wrote {len(listing)} vectors to {HERE}")
