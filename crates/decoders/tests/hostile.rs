//! The hostile table: payloads and schemas built to break a decoder
//! (truncations, huge declared lengths, deep nesting, invalid wire types,
//! garbage schemas, recursive schemas fed deep input). Each must end in the
//! error the table names, at the byte it names, without a panic and without
//! any single allocation larger than the payload could justify (a counting
//! allocator checks that).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use decoders::protobuf_schema::Schema;
use decoders::{cbor, msgpack, protobuf_raw, DecodeError};

/// Records the largest single allocation made by the current thread.
struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(layout.size())));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(new_size)));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn largest_allocation_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|m| m.set(0));
    let r = f();
    (r, LARGEST.with(|m| m.get()))
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn repeat(prefix: &[u8], times: usize, tail: &[u8]) -> Vec<u8> {
    let mut v = prefix.repeat(times);
    v.extend_from_slice(tail);
    v
}

/// (decoder, case, payload, words the reason must contain, offset)
type Case = (
    &'static str,
    &'static str,
    Vec<u8>,
    &'static str,
    Option<usize>,
);

fn table() -> Vec<Case> {
    let two_62 = 1u64 << 62;
    let mut pb_len_2_62 = vec![0x0a];
    pb_len_2_62.extend(varint(two_62));
    let mut cbor_bytes_2_62 = vec![0x5b];
    cbor_bytes_2_62.extend(two_62.to_be_bytes());
    let mut cbor_array_2_62 = vec![0x9b];
    cbor_array_2_62.extend(two_62.to_be_bytes());
    let mut cbor_map_2_62 = vec![0xbb];
    cbor_map_2_62.extend(two_62.to_be_bytes());
    let mut cbor_bignum_2_62 = vec![0xc2, 0x5b];
    cbor_bignum_2_62.extend(two_62.to_be_bytes());
    // Maps whose key is a map whose key is a map...: each level escapes the
    // text of the one inside, doubling its backslashes.
    let mut key_blowup = vec![0xa1; 100];
    key_blowup.extend([0x01, 0x02]);
    key_blowup.extend([0x00; 99]);
    let mut mp_key_blowup = vec![0x81; 100];
    mp_key_blowup.extend([0x01, 0x02]);
    mp_key_blowup.extend([0x00; 99]);
    let mut pb_field_too_big = varint((1u64 << 29) << 3);
    pb_field_too_big.push(0);

    vec![
        ("cbor", "empty payload", vec![], "empty payload", None),
        (
            "cbor",
            "truncated uint16",
            vec![0x19, 0x01],
            "truncated",
            Some(1),
        ),
        (
            "cbor",
            "truncated text",
            vec![0x63, b'a'],
            "string of length 3 is longer than the 1 bytes left",
            Some(0),
        ),
        (
            "cbor",
            "byte string of 2^62 bytes",
            cbor_bytes_2_62,
            "longer than the 0 bytes left",
            Some(0),
        ),
        (
            "cbor",
            "array of 2^62 items",
            cbor_array_2_62,
            "array of length 4611686018427387904",
            Some(0),
        ),
        (
            "cbor",
            "map of 2^62 pairs",
            cbor_map_2_62,
            "map of length",
            Some(0),
        ),
        (
            "cbor",
            "bignum of 2^62 bytes",
            cbor_bignum_2_62,
            "longer than",
            Some(1),
        ),
        (
            "cbor",
            "10,000 nested arrays",
            vec![0x81; 10_000],
            "nested deeper than 100 levels",
            Some(100),
        ),
        (
            "cbor",
            "10,000 nested maps",
            repeat(&[0xa1, 0x01], 10_000, &[]),
            "nested deeper than 100 levels",
            Some(200),
        ),
        (
            "cbor",
            "10,000 nested tags",
            vec![0xc6; 10_000],
            "nested deeper than 100 levels",
            Some(100),
        ),
        (
            "cbor",
            "10,000 nested indefinite arrays",
            vec![0x9f; 10_000],
            "nested deeper than 100 levels",
            Some(100),
        ),
        (
            "cbor",
            "map keys nested 100 deep",
            key_blowup,
            "decoded text too large",
            None,
        ),
        (
            "cbor",
            "indefinite array never closed",
            vec![0x9f, 0x01],
            "indefinite-length",
            Some(2),
        ),
        (
            "cbor",
            "break outside anything",
            vec![0xff],
            "break",
            Some(0),
        ),
        (
            "cbor",
            "reserved additional information",
            vec![0x1c],
            "reserved additional information 28",
            Some(0),
        ),
        (
            "cbor",
            "indefinite integer",
            vec![0x1f],
            "cannot be indefinite",
            Some(0),
        ),
        (
            "cbor",
            "text that is not UTF-8",
            vec![0x62, 0xff, 0xfe],
            "not valid UTF-8",
            Some(0),
        ),
        (
            "cbor",
            "text chunk in indefinite bytes",
            vec![0x5f, 0x61, b'a', 0xff],
            "chunk",
            Some(1),
        ),
        (
            "cbor",
            "nested indefinite chunk",
            vec![0x5f, 0x5f, 0xff, 0xff],
            "chunk",
            Some(1),
        ),
        (
            "cbor",
            "simple value in two bytes below 32",
            vec![0xf8, 0x10],
            "simple value 16",
            Some(0),
        ),
        (
            "cbor",
            "indefinite map ending after a key",
            vec![0xbf, 0x01, 0xff],
            "without its value",
            Some(2),
        ),
        (
            "cbor",
            "truncated second item of a sequence",
            vec![0x01, 0x19],
            "truncated",
            Some(2),
        ),
        ("msgpack", "empty payload", vec![], "empty payload", None),
        (
            "msgpack",
            "never-used byte 0xc1",
            vec![0xc1],
            "never used",
            Some(0),
        ),
        (
            "msgpack",
            "truncated uint32",
            vec![0xce, 0x00],
            "truncated",
            Some(1),
        ),
        (
            "msgpack",
            "str32 of 2^32 - 1 bytes",
            vec![0xdb, 0xff, 0xff, 0xff, 0xff],
            "declared length 4294967295",
            Some(0),
        ),
        (
            "msgpack",
            "bin32 of 2^32 - 1 bytes",
            vec![0xc6, 0xff, 0xff, 0xff, 0xff, 0],
            "declared length",
            Some(0),
        ),
        (
            "msgpack",
            "array32 of 2^32 - 1 items",
            vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0],
            "declared length",
            Some(0),
        ),
        (
            "msgpack",
            "map32 of 2^32 - 1 pairs",
            vec![0xdf, 0xff, 0xff, 0xff, 0xff, 0, 0],
            "declared length",
            Some(0),
        ),
        (
            "msgpack",
            "ext32 of 2^32 - 1 bytes",
            vec![0xc9, 0xff, 0xff, 0xff, 0xff, 1],
            "declared length",
            Some(0),
        ),
        (
            "msgpack",
            "fixext16 cut short",
            vec![0xd8, 0x01, 0x00],
            "truncated",
            Some(2),
        ),
        (
            "msgpack",
            "10,000 nested arrays",
            vec![0x91; 10_000],
            "nested deeper than 100 levels",
            Some(100),
        ),
        (
            "msgpack",
            "10,000 nested maps",
            repeat(&[0x81, 0x01], 10_000, &[]),
            "nested deeper than 100 levels",
            Some(200),
        ),
        (
            "msgpack",
            "map keys nested 100 deep",
            mp_key_blowup,
            "decoded text too large",
            None,
        ),
        (
            "protobuf_raw",
            "truncated varint",
            vec![0x08, 0x96],
            "truncated varint",
            Some(1),
        ),
        (
            "protobuf_raw",
            "truncated key",
            vec![0x80],
            "truncated varint",
            Some(0),
        ),
        (
            "protobuf_raw",
            "varint of 11 bytes",
            repeat(&[0x08], 1, &[0xff; 11]),
            "varint longer than 64 bits",
            Some(1),
        ),
        (
            "protobuf_raw",
            "length of 2^62",
            pb_len_2_62,
            "length 4611686018427387904 is longer",
            Some(1),
        ),
        (
            "protobuf_raw",
            "field number 0",
            vec![0x00, 0x01],
            "field number 0",
            Some(0),
        ),
        (
            "protobuf_raw",
            "field number 0 with a 0 length",
            vec![0x02, 0x00],
            "field number 0",
            Some(0),
        ),
        (
            "protobuf_raw",
            "field number 2^29",
            pb_field_too_big,
            "above 2^29 - 1",
            Some(0),
        ),
        (
            "protobuf_raw",
            "wire type 6",
            vec![0x0e, 0x00],
            "invalid wire type 6",
            Some(0),
        ),
        (
            "protobuf_raw",
            "wire type 7",
            vec![0x08, 0x01, 0x0f],
            "invalid wire type 7",
            Some(2),
        ),
        (
            "protobuf_raw",
            "end group without start",
            vec![0x0c],
            "without its start",
            Some(0),
        ),
        (
            "protobuf_raw",
            "group never ended",
            vec![0x0b, 0x08, 0x01],
            "not ended",
            Some(3),
        ),
        (
            "protobuf_raw",
            "group ended by another number",
            vec![0x0b, 0x14],
            "end of group 2 inside group 1",
            Some(1),
        ),
        (
            "protobuf_raw",
            "10,000 nested groups",
            vec![0x0b; 10_000],
            "nested deeper than 100 levels",
            Some(100),
        ),
        (
            "protobuf_raw",
            "truncated fixed64",
            vec![0x09, 0x01, 0x02],
            "truncated 64-bit",
            Some(1),
        ),
        (
            "protobuf_raw",
            "truncated fixed32",
            vec![0x0d, 0x01],
            "truncated 32-bit",
            Some(1),
        ),
    ]
}

fn decode(decoder: &str, payload: &[u8]) -> Result<String, DecodeError> {
    match decoder {
        "cbor" => cbor::decode(payload),
        "msgpack" => msgpack::decode(payload),
        "protobuf_raw" => protobuf_raw::decode(payload),
        other => panic!("no decoder {other}"),
    }
}

#[test]
fn every_hostile_payload_ends_in_its_error_at_its_byte_without_a_large_allocation() {
    let mut failures = Vec::new();
    let cases = table();
    assert!(cases.len() >= 45);
    for (decoder, name, payload, reason, offset) in &cases {
        let (result, largest) = largest_allocation_during(|| decode(decoder, payload));
        // What a payload can justify: its own size many times over, never
        // what a declared length asks for.
        let bound = payload.len() * 64 + (1 << 20);
        if largest > bound {
            failures.push(format!(
                "{decoder} / {name}: allocated {largest} bytes at once (bound {bound})"
            ));
        }
        match result {
            Ok(text) => failures.push(format!("{decoder} / {name}: decoded to {:.80}", text)),
            Err(e) => {
                if !e.reason.contains(reason) || e.offset != *offset {
                    failures.push(format!(
                        "{decoder} / {name}: got {e:?}, wanted {reason:?} at {offset:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn an_error_displays_its_byte_offset_before_the_reason() {
    let e = protobuf_raw::decode(&[0x08, 0x96]).unwrap_err();
    assert_eq!(e.to_string(), "at byte 1: truncated varint");
    let e = cbor::decode(&[]).unwrap_err();
    assert_eq!(e.to_string(), "empty payload");
}

#[test]
fn ten_thousand_nested_length_delimited_messages_show_the_deep_end_as_bytes_not_an_error() {
    let mut inner = vec![0x08, 0x01];
    for _ in 0..10_000 {
        let mut outer = vec![0x0a];
        outer.extend(varint(inner.len() as u64));
        outer.extend(inner);
        inner = outer;
    }
    let text = protobuf_raw::decode(&inner).expect("a deep message decodes");
    // serde_json reads 127 levels, as the page does: the output stays inside.
    let mut v: serde_json::Value =
        serde_json::from_str(&text).expect("valid JSON the page can read");
    let mut objects = 0;
    while let Some(inner) = v.get("1").cloned() {
        objects += 1;
        v = inner;
    }
    assert_eq!(
        objects,
        decoders::MAX_DEPTH + 1,
        "the top message and 100 nested ones"
    );
    let rest = v
        .get("$bytes")
        .and_then(|b| b.as_str())
        .expect("then bytes");
    assert!(rest.starts_with("0a"), "{rest:.20}");
}

// --- schemas ---------------------------------------------------------------

const TEST_PROTO: &str = r#"
syntax = "proto3";
package hostile;
message Node { string name = 1; repeated Node children = 2; Node next = 3; }
message Flat { string s = 1; int64 n = 2; }
"#;

fn schema() -> Schema {
    Schema::from_proto_files(&[("hostile.proto".to_string(), TEST_PROTO.to_string())])
        .expect("compiles")
}

fn nested_next(levels: usize) -> Vec<u8> {
    let mut inner = vec![0x0a, 0x01, b'x'];
    for _ in 0..levels {
        let mut outer = vec![0x1a];
        outer.extend(varint(inner.len() as u64));
        outer.extend(inner);
        inner = outer;
    }
    inner
}

#[test]
fn a_garbage_descriptor_set_is_an_error_not_a_panic() {
    for garbage in [
        &b"\xff\xff\xff\xff"[..],
        b"hello, world",
        b"\x0a\x02\x0a",
        b"\x0a\xff\xff\xff\xff\x0f",
    ] {
        let e = Schema::from_descriptor_set(garbage).unwrap_err();
        assert!(e.reason.starts_with("not a usable descriptor set"), "{e}");
    }
    // A syntax prost-reflect does not know made it panic (0.16.5); refused first.
    for syntax in [&b"ptoto3"[..], b"editions"] {
        let mut file = b"\x0a\x07a.proto\x22\x03\x0a\x01A\x62".to_vec();
        file.push(syntax.len() as u8);
        file.extend_from_slice(syntax);
        let mut set = vec![0x0a, file.len() as u8];
        set.extend(file);
        let e = Schema::from_descriptor_set(&set).unwrap_err();
        assert!(e.reason.contains("has syntax"), "{e}");
    }
    // Valid, but a file named "a.b" with nothing in it: nothing to decode with.
    let e = Schema::from_descriptor_set(b"\x0a\x05\x0a\x03a.b").unwrap_err();
    assert_eq!(e.reason, "the schema defines no message types");
}

#[test]
fn a_proto_file_with_a_syntax_error_reports_the_file_and_line() {
    let files = [(
        "sensors/bad.proto".to_string(),
        "syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n".to_string(),
    )];
    let e = Schema::from_proto_files(&files).unwrap_err();
    assert!(e.reason.starts_with("sensors/bad.proto:3:"), "{e}");
}

#[test]
fn a_missing_import_and_an_unknown_type_are_compile_errors_naming_them() {
    let files = [(
        "a.proto".to_string(),
        "syntax = \"proto3\";\nimport \"b.proto\";\nmessage A { B b = 1; }\n".to_string(),
    )];
    let e = Schema::from_proto_files(&files).unwrap_err();
    assert!(e.reason.contains("b.proto"), "{e}");
    let files = [(
        "a.proto".to_string(),
        "syntax = \"proto3\";\nmessage A { Missing m = 1; }\n".to_string(),
    )];
    let e = Schema::from_proto_files(&files).unwrap_err();
    assert!(
        e.reason.contains("Missing") && e.reason.starts_with("a.proto:2:"),
        "{e}"
    );
}

#[test]
fn a_recursive_schema_decodes_up_to_the_limit_and_deep_input_ends_in_the_depth_error() {
    let s = schema();
    let text = s
        .decode("hostile.Node", &nested_next(90))
        .expect("90 levels decode");
    assert_eq!(text.matches("\"next\":").count(), 90);
    let (result, largest) =
        largest_allocation_during(|| s.decode("hostile.Node", &nested_next(10_000)));
    let e = result.unwrap_err();
    assert!(e.reason.starts_with("nested deeper than 100 levels"), "{e}");
    assert!(largest < 10 << 20, "allocated {largest} bytes at once");
    // Repeated fields are JSON levels too: 60 levels of `children` are 120
    // levels of JSON, past what the page reads.
    let mut children = vec![0x0a, 0x01, b'x'];
    for _ in 0..60 {
        let mut outer = vec![0x12];
        outer.extend(varint(children.len() as u64));
        outer.extend(children);
        children = outer;
    }
    let e = s.decode("hostile.Node", &children).unwrap_err();
    assert_eq!(e.reason, "nested deeper than 100 levels");
}

#[test]
fn hostile_payloads_with_a_schema_end_in_errors() {
    let s = schema();
    let mut len_2_62 = vec![0x0a];
    len_2_62.extend(varint(1 << 62));
    for (name, payload, words) in [
        ("truncated varint", vec![0x10, 0x96], "varint"),
        ("length of 2^62", len_2_62, "buffer underflow"),
        ("wire type 7", vec![0x0f], "wire type"),
        ("field number 0", vec![0x00, 0x01], "invalid tag value: 0"),
        (
            "string that is not UTF-8",
            vec![0x0a, 0x02, 0xff, 0xfe],
            "UTF-8",
        ),
    ] {
        let (result, largest) = largest_allocation_during(|| s.decode("hostile.Flat", &payload));
        let e = result.expect_err(name);
        assert!(
            e.reason.to_lowercase().contains(&words.to_lowercase()),
            "{name}: {e}"
        );
        assert!(
            largest < 1 << 20,
            "{name}: allocated {largest} bytes at once"
        );
    }
}

#[test]
fn an_unknown_message_name_says_how_many_types_the_schema_has() {
    let e = schema().decode("hostile.Nope", b"").unwrap_err();
    assert_eq!(
        e.reason,
        "unknown message type \"hostile.Nope\": the schema has 2 message types"
    );
}
