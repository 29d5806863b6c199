#!/usr/bin/env python3
"""Writes the decoders crate's test vectors with independent encoders.

Each vector is a payload written by a real encoder (cbor2, msgpack, the
Python protobuf package) or, for what those encoders never produce (half
floats, indefinite lengths, duplicate keys, invalid UTF-8), by hand from
the format's specification, together with the JSON the crate must produce,
written here from the Python values that were encoded, never by the crate.

Run with the project venv from the repository root:

    .tools/venv/bin/python crates/decoders/tests/vectors/generate.py

Layout: <decoder>/<name>.bin and <decoder>/<name>.json for cbor, msgpack and
protobuf_raw; schema/<name>.bin, schema/<name>.json and schema/cases.json
(which message type each payload is) plus schema/mqdash_test.desc, the
descriptor set that protoc (from grpcio-tools) compiled from proto/.
"""

import datetime
import importlib
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import cbor2
import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))


# --- the crate's JSON conventions, applied to Python values ----------------


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def rfc3339(seconds, nanos):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    # strftime pads years below 1000 differently per platform: write it out.
    text = "%04d%s" % (t.year, text[text.index("-"):])
    if nanos:
        text += ".%09d" % nanos
    return text + "Z"


def conv(v):
    """A decoded Python value → the JSON value the crate writes for it."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    # Before tuples: ExtType is a named tuple.
    if isinstance(v, msgpack.ExtType):
        return {"$ext": v.code, "$bytes": v.data.hex()}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [conv(x) for x in v]
    if isinstance(v, dict):
        return {key(k): conv(x) for k, x in v.items()}
    if isinstance(v, cbor2.CBORTag):
        return {"$tag": v.tag, "value": conv(v.value)}
    if v is cbor2.undefined:
        return {"$undefined": True}
    if isinstance(v, cbor2.CBORSimpleValue):
        return {"$simple": v.value}
    if isinstance(v, msgpack.Timestamp):
        return {"$timestamp": rfc3339(v.seconds, v.nanoseconds)}
    raise TypeError(repr(v))


def key(k):
    if isinstance(k, str):
        return k
    return compact(conv(k))


# --- output ----------------------------------------------------------------


def reset(sub):
    path = os.path.join(HERE, sub)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(sub, name, payload, expected=None, expected_text=None):
    base = os.path.join(HERE, sub, name)
    with open(base + ".bin", "wb") as f:
        f.write(payload)
    text = expected_text if expected_text is not None else compact(expected)
    # Check the hand-written texts parse too.
    json.loads(text)
    with open(base + ".json", "w", encoding="utf-8") as f:
        f.write(text + "\n")


# --- CBOR -------------------------------------------------------------------


def cbor_vectors():
    reset("cbor")
    values = {
        "uint_small": 0,
        "uint_23": 23,
        "uint_24": 24,
        "uint_255": 255,
        "uint_256": 256,
        "uint_65536": 65536,
        "uint_2_32": 2**32,
        "uint_max": 2**64 - 1,
        "neg_1": -1,
        "neg_25": -25,
        "neg_2_32": -(2**32),
        "neg_min": -(2**64),
        "bignum_2_64": 2**64,
        "bignum_2_200": 2**200,
        "neg_bignum": -(2**64) - 1,
        "neg_bignum_big": -(3**150),
        "bytes": b"\x00\x01\x0a\xff",
        "bytes_empty": b"",
        "text": "temp \u00b0C \u2713 \U0001f600",
        "text_escapes": 'quote " backslash \\ newline \n tab \t ctl \x01 del \x7f',
        "array": [1, -2, "three", [4, [5]], []],
        "map_text_keys": {"temp": 21.5, "power": {"volts": 229.8, "amps": 0.5}, "ok": True},
        "map_int_keys": {1: "one", -2: "minus two", 300: [1]},
        "map_mixed_keys": {b"\x0a": 1, (1, 2): 2, False: 3, None: 4, 1.5: 5},
        "float64": 0.1,
        "float64_big": 1.0e300,
        "float64_tiny": 5e-324,
        "float64_nan": float("nan"),
        "float64_inf": float("inf"),
        "float64_neg_inf": float("-inf"),
        "simple_values": [True, False, None, cbor2.undefined],
        "simple_other": [cbor2.CBORSimpleValue(16), cbor2.CBORSimpleValue(255)],
        "tag_datetime_text": cbor2.CBORTag(0, "2024-01-02T03:04:05Z"),
        "tag_epoch": cbor2.CBORTag(1, 1700000000),
        "tag_epoch_float": cbor2.CBORTag(1, 1700000000.5),
        "tag_uri": cbor2.CBORTag(32, "mqtt://example/a"),
        "tag_nested": cbor2.CBORTag(55799, cbor2.CBORTag(24, b"\x01")),
        "tag_big_number": cbor2.CBORTag(2**64 - 1, [1]),
        "nested_deep_ok": [[[[[[[[[[{"a": [1]}]]]]]]]]]],
    }
    for name, v in values.items():
        write("cbor", name, cbor2.dumps(v), conv(v))

    # Floats in their shorter widths (cbor2 writes float64 unless canonical).
    for name, bits in [("half_one_half", 0x3E00), ("half_max", 0x7BFF), ("half_min_subnormal", 0x0001),
                       ("half_neg_zero", 0x8000), ("half_nan", 0x7E00), ("half_inf", 0x7C00),
                       ("half_neg_inf", 0xFC00)]:
        raw = struct.pack(">H", bits)
        write("cbor", name, b"\xf9" + raw, conv(struct.unpack(">e", raw)[0]))
    for name, x in [("single_pi", 3.14159), ("single_tenth", 0.1), ("single_big", 3.0e38)]:
        raw = struct.pack(">f", x)
        write("cbor", name, b"\xfa" + raw, conv(struct.unpack(">f", raw)[0]))
    # cbor2's canonical mode picks the shortest exact float itself.
    write("cbor", "canonical_floats", cbor2.dumps([1.5, 0.333251953125, 65504.0, 1e10], canonical=True),
          conv([1.5, 0.333251953125, 65504.0, 1e10]))

    # Indefinite lengths (RFC 8949 §3.2.2), which cbor2 does not write.
    write("cbor", "indef_bytes", b"\x5f\x42\x01\x02\x41\x03\x40\xff", conv(b"\x01\x02\x03"))
    write("cbor", "indef_text", b"\x7f\x63abc\x62\xc3\xa9\xff", conv("abc\u00e9"))
    write("cbor", "indef_array", b"\x9f\x01\x9f\x02\xff\x82\x03\x04\xff", conv([1, [2], [3, 4]]))
    write("cbor", "indef_map", b"\xbf\x61a\x01\x61b\x9f\xff\xff", conv({"a": 1, "b": []}))
    write("cbor", "indef_bignum", b"\xc2\x5f\x41\x01\x48" + bytes(8) + b"\xff", conv(2**64))
    # Duplicate keys are kept in order (a Python dict cannot hold them).
    write("cbor", "duplicate_keys", b"\xa2\x01\x61a\x01\x61b", expected_text='{"1":"a","1":"b"}')
    # Simple values in two bytes and the sequence form (RFC 8742).
    write("cbor", "simple_two_bytes", b"\xf8\x20", conv(cbor2.CBORSimpleValue(32)))
    seq = [{"temp": 20}, 2, "three"]
    write("cbor", "sequence", b"".join(cbor2.dumps(x) for x in seq), conv(seq))


# --- MessagePack ---------------------------------------------------------------


def msgpack_vectors():
    reset("msgpack")
    values = {
        "fixint": 127,
        "uint8": 200,
        "uint16": 60000,
        "uint32": 4000000000,
        "uint64": 2**64 - 1,
        "neg_fixint": -32,
        "int8": -100,
        "int16": -30000,
        "int32": -2000000000,
        "int64": -(2**63),
        "nil_bools": [None, True, False],
        "float64": 0.1,
        "float64_nan": float("nan"),
        "float64_inf": [float("inf"), float("-inf")],
        "fixstr": "temp \u00b0C",
        "str8": "x" * 40,
        "str16": "y" * 300,
        "str_escapes": 'a "quoted" \\ \n \x00 end',
        "bin8": b"\x00\xff",
        "bin16": bytes(range(256)) * 2,
        "fixarray": [1, "a", [2.5]],
        "array16": list(range(20)),
        "fixmap": {"temp": 21.5, "power": {"volts": 229.8}},
        "map16": {"k%d" % i: i for i in range(20)},
        "map_int_keys": {1: "one", -5: "minus five"},
        "map_other_keys": {b"\x0a": 1, (1, 2): 2, None: 3},
        "ext_fixext1": msgpack.ExtType(1, b"\x01"),
        "ext_fixext2": msgpack.ExtType(2, b"\x01\x02"),
        "ext_fixext4": msgpack.ExtType(4, b"\x01\x02\x03\x04"),
        "ext_fixext8": msgpack.ExtType(8, bytes(8)),
        "ext_fixext16": msgpack.ExtType(16, bytes(range(16))),
        "ext8": msgpack.ExtType(5, b"abc"),
        "ext16": msgpack.ExtType(6, bytes(300)),
        "timestamp32": msgpack.Timestamp(1700000000, 0),
        "timestamp64": msgpack.Timestamp(1700000000, 123456789),
        "timestamp64_max": msgpack.Timestamp(2**34 - 1, 999999999),
        "timestamp96": msgpack.Timestamp(-1, 500),
        "timestamp96_far": msgpack.Timestamp(253402300799, 1),
        "timestamp96_before_epoch": msgpack.Timestamp(-62135596800, 0),
    }
    for name, v in values.items():
        write("msgpack", name, msgpack.packb(v, use_bin_type=True), conv(v))
    write("msgpack", "float32", msgpack.packb(3.14159, use_single_float=True),
          conv(struct.unpack(">f", struct.pack(">f", 3.14159))[0]))
    # Sizes of the timestamp the encoder chose, checked here so the vectors
    # really cover the 32, 64 and 96-bit forms.
    assert msgpack.packb(values["timestamp32"])[:2] == b"\xd6\xff"
    assert msgpack.packb(values["timestamp64"])[:2] == b"\xd7\xff"
    assert msgpack.packb(values["timestamp96"])[:3] == b"\xc7\x0c\xff"
    # A timestamp extension of another length is an ordinary extension.
    write("msgpack", "timestamp_bad_length", b"\xd5\xff\x00\x01", {"$ext": -1, "$bytes": "0001"})
    # The 32-bit length forms with small contents: the encoder only writes
    # them past 65,535 elements (megabytes of vectors), and a decoder must
    # take a longer header than needed (the spec allows any).
    be32 = lambda n: struct.pack(">I", n)
    write("msgpack", "str32", b"\xdb" + be32(3) + b"abc", conv("abc"))
    write("msgpack", "bin32", b"\xc6" + be32(2) + b"\x01\x02", conv(b"\x01\x02"))
    write("msgpack", "array32", b"\xdd" + be32(2) + msgpack.packb(1) + msgpack.packb("b"), conv([1, "b"]))
    write("msgpack", "map32", b"\xdf" + be32(1) + msgpack.packb("k") + msgpack.packb(-1), conv({"k": -1}))
    write("msgpack", "ext32", b"\xc9" + be32(3) + b"\x7f" + b"xyz", conv(msgpack.ExtType(127, b"xyz")))
    write("msgpack", "ext8_long", msgpack.packb(msgpack.ExtType(9, bytes(range(200)))),
          conv(msgpack.ExtType(9, bytes(range(200)))))
    # Negative (reserved) extension types, which msgpack refuses to write.
    write("msgpack", "ext_negative", b"\xd4\x80\xff", {"$ext": -128, "$bytes": "ff"})
    write("msgpack", "ext_negative_fixext4", b"\xd6\xfc\x01\x02\x03\x04", {"$ext": -4, "$bytes": "01020304"})
    # Old "raw" producers put binary in str: shown as bytes, not refused.
    write("msgpack", "str_not_utf8", b"\xa2\xff\xfe", conv(b"\xff\xfe"))
    write("msgpack", "duplicate_keys", b"\x82\xa1a\x01\xa1a\x02", expected_text='{"a":1,"a":2}')
    seq = [{"temp": 20}, 2, "three"]
    write("msgpack", "sequence", b"".join(msgpack.packb(x) for x in seq), conv(seq))


# --- Protobuf ---------------------------------------------------------------------


def protoc(out_dir):
    from grpc_tools import protoc as grpc_protoc
    import grpc_tools

    proto_dir = os.path.join(HERE, "proto")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    desc = os.path.join(HERE, "schema", "mqdash_test.desc")
    args = ["protoc", "-I" + proto_dir, "-I" + well_known, "--python_out=" + out_dir,
            "--descriptor_set_out=" + desc, "--include_imports",
            "mqdash_test.proto", "common.proto", "raw.proto"]
    if grpc_protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, out_dir)
    return (importlib.import_module("mqdash_test_pb2"), importlib.import_module("raw_pb2"))


def u64(v):
    return v % 2**64


def raw_vectors(raw_pb2):
    reset("protobuf_raw")
    R, Inner = raw_pb2.Raw, raw_pb2.Inner

    m = R(id=150, name="hello world", negative=-1, zigzag=-3, flag=True, real=1.5, single=0.25,
          f64=2**64 - 1, f32=4000000000, highest=7)
    write("protobuf_raw", "scalars", m.SerializeToString(deterministic=True), {
        "1": 150,
        "2": "hello world",
        "6": u64(-1),
        "7": 5,
        "8": 1,
        "9": struct.unpack("<Q", struct.pack("<d", 1.5))[0],
        "10": struct.unpack("<I", struct.pack("<f", 0.25))[0],
        "11": 2**64 - 1,
        "12": 4000000000,
        "536870911": 7,
    })

    m = R(id=1, inner=Inner(a=2, b="two words", deeper=Inner(a=3, deeper=Inner(b="x y z"))))
    write("protobuf_raw", "nested", m.SerializeToString(deterministic=True),
          {"1": 1, "3": {"1": 2, "2": "two words", "3": {"1": 3, "3": {"2": "x y z"}}}})

    m = R(packed=[1, 2, 300, 150000])
    packed = b"".join(varint(x) for x in [1, 2, 300, 150000])
    write("protobuf_raw", "packed_numbers", m.SerializeToString(deterministic=True), {"4": {"$bytes": packed.hex()}})

    m = R(words=["alpha beta", "gamma"], items=[Inner(a=1), Inner(a=2, b="b c")])
    write("protobuf_raw", "repeated", m.SerializeToString(deterministic=True),
          {"13": ["alpha beta", "gamma"], "14": [{"1": 1}, {"1": 2, "2": "b c"}]})

    m = R(name="temp \u00b0C\nline two\ttab \u2713", blob=b"\x00\xff\x10\x80", empty="")
    write("protobuf_raw", "strings_and_bytes", m.SerializeToString(deterministic=True),
          {"2": "temp \u00b0C\nline two\ttab \u2713", "5": {"$bytes": "00ff1080"}, "18": ""})

    m = R(blob=b"\x01\x02\x03")
    write("protobuf_raw", "control_bytes", m.SerializeToString(deterministic=True), {"5": {"$bytes": "010203"}})

    m = R(id=5)
    m.legacy.x = 16
    m.legacy.y = "in a group"
    write("protobuf_raw", "group", m.SerializeToString(deterministic=True), {"1": 5, "15": {"16": 16, "17": "in a group"}})

    write("protobuf_raw", "empty", b"", {})


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def message_json(msg):
    """The crate's schema view of a Python protobuf message, from the fields
    the Python package says are set (ListFields is in field-number order)."""
    from google.protobuf.descriptor import FieldDescriptor as F

    def scalar(fd, v):
        if fd.type == F.TYPE_ENUM:
            ev = fd.enum_type.values_by_number.get(v)
            return ev.name if ev is not None else v
        if fd.type == F.TYPE_BYTES:
            return {"$bytes": v.hex()}
        if fd.type in (F.TYPE_MESSAGE, F.TYPE_GROUP):
            return message_json(v)
        if fd.type in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
            return conv(float(v))
        return v

    out = {}
    for fd, v in msg.ListFields():
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            value_fd = fd.message_type.fields_by_name["value"]
            keys = sorted(v.keys())
            out[fd.name] = {(("true" if k else "false") if isinstance(k, bool) else str(k)):
                            scalar(value_fd, v[k]) for k in keys}
        elif fd.is_repeated:
            out[fd.name] = [scalar(fd, x) for x in v]
        else:
            out[fd.name] = scalar(fd, v)
    return out


def schema_vectors(pb2):
    cases = []

    def case(name, msg, extra=b"", unknown=None):
        payload = msg.SerializeToString(deterministic=True) + extra
        expected = message_json(msg)
        if unknown is not None:
            expected["$unknown"] = unknown
        write("schema", name, payload, expected)
        cases.append({"name": name, "message": msg.DESCRIPTOR.full_name})

    R = pb2.Reading
    full = R(sensor="boiler-1", temp=21.5, humidity=0.1, counter=-(2**63), big=2**64 - 1, delta=-42,
             raw=b"\x00\x01\xff", status=pb2.STATUS_FAULT, power=pb2.Power(volts=229.8, amps=0.5),
             samples=[1, -1, 300], tags=["a", "b c"], note="checked", unit=1,
             history=[pb2.STATUS_OK, pb2.STATUS_FAULT], f64=2**64 - 1, sf32=-7, ok=True,
             zero_with_presence=0)
    full.counts["x"] = 1
    full.counts["a"] = -2
    full.by_id[10].volts = 1.0
    full.by_id[-3].amps = 2.5
    full.by_id[2].volts = 0.0
    full.where.site = "plant"
    full.where.floor = -1
    full.at.seconds = 1700000000
    full.at.nanos = 5
    full.flags[True] = "on"
    full.flags[False] = "off"
    case("reading_full", full)
    case("reading_oneof_code", R(code=7, sensor="s"))
    case("reading_empty", R())
    # An enum number the schema does not define stays a number (open enum).
    case("reading_unknown_enum", R(status=7, history=[1, 9]))
    # Fields the schema does not know: 99 varint, 100 string, 101 fixed32.
    extra = varint(99 << 3) + varint(5) + varint((100 << 3) | 2) + varint(5) + b"hello" \
        + varint((101 << 3) | 5) + struct.pack("<I", 1234)
    case("reading_unknown_fields", R(sensor="s"), extra, {"99": 5, "100": "hello", "101": 1234})

    node = pb2.Node(name="root")
    cur = node
    for i in range(20):
        cur = cur.next
        cur.name = "n%d" % i
    node.children.add(name="leaf", children=[pb2.Node(name="leaf2")])
    case("node_recursive", node)

    with open(os.path.join(HERE, "schema", "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


def main():
    cbor_vectors()
    msgpack_vectors()
    reset("schema")
    with tempfile.TemporaryDirectory() as tmp:
        pb2, raw_pb2 = protoc(tmp)
        raw_vectors(raw_pb2)
        schema_vectors(pb2)
    count = sum(len([f for f in os.listdir(os.path.join(HERE, d)) if f.endswith(".bin")])
                for d in ("cbor", "msgpack", "protobuf_raw", "schema"))
    print("wrote %d vectors" % count)


if __name__ == "__main__":
    main()
