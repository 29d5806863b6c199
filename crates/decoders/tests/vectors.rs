//! Every decoder against the vectors in `tests/vectors/`, written by
//! independent encoders (Python cbor2, msgpack, protobuf; protoc from
//! grpcio-tools) with the expected JSON written by the Python side from the
//! values it encoded (`tests/vectors/generate.py`).

mod common;

use common::{cases, parse, same, vectors};
use decoders::protobuf_schema::Schema;
use decoders::DecodeError;

fn check_all(sub: &str, decode: impl Fn(&[u8]) -> Result<String, DecodeError>, at_least: usize) {
    let all = cases(sub);
    assert!(all.len() >= at_least, "{sub}: only {} vectors", all.len());
    let mut failures = Vec::new();
    for (name, payload, expected) in &all {
        let expected = parse(expected).unwrap_or_else(|e| panic!("{sub}/{name}.json: {e}"));
        match decode(payload) {
            Err(e) => failures.push(format!("{name}: error {e}")),
            Ok(text) => match parse(&text) {
                Err(e) => failures.push(format!("{name}: invalid JSON ({e}): {text}")),
                Ok(got) => {
                    if let Err(d) = same(&got, &expected, "$") {
                        failures.push(format!("{name}: {d}"));
                    }
                }
            },
        }
    }
    assert!(
        failures.is_empty(),
        "{sub}: {} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn cbor_written_by_cbor2_and_by_hand_decodes_to_the_expected_json() {
    check_all("cbor", decoders::cbor::decode, 50);
}

#[test]
fn msgpack_written_by_the_msgpack_package_decodes_to_the_expected_json() {
    check_all("msgpack", decoders::msgpack::decode, 45);
}

#[test]
fn protobuf_written_by_the_python_package_decodes_raw_to_the_expected_json() {
    check_all("protobuf_raw", decoders::protobuf_raw::decode, 8);
}

fn schema_cases() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(vectors().join("schema/cases.json")).expect("cases.json");
    let common::J::Arr(items) = parse(&text).expect("cases.json parses") else {
        panic!("cases.json is not an array");
    };
    items
        .into_iter()
        .map(|item| {
            let common::J::Obj(members) = item else {
                panic!("case is not an object")
            };
            let get = |k: &str| match members.iter().find(|(n, _)| n == k) {
                Some((_, common::J::Str(s))) => s.clone(),
                _ => panic!("case without {k}"),
            };
            (get("name"), get("message"))
        })
        .collect()
}

fn check_schema(schema: &Schema) {
    let kinds = schema_cases();
    assert!(kinds.len() >= 6);
    let all = cases("schema");
    assert_eq!(
        all.len(),
        kinds.len(),
        "every payload is listed in cases.json"
    );
    let mut failures = Vec::new();
    for (name, payload, expected) in &all {
        let message = &kinds
            .iter()
            .find(|(n, _)| n == name)
            .expect("case listed")
            .1;
        let expected = parse(expected).expect("expected JSON parses");
        match schema.decode(message, payload) {
            Err(e) => failures.push(format!("{name}: error {e}")),
            Ok(text) => match parse(&text) {
                Err(e) => failures.push(format!("{name}: invalid JSON ({e}): {text}")),
                Ok(got) => {
                    if let Err(d) = same(&got, &expected, "$") {
                        failures.push(format!("{name}: {d}\n  got {text}"));
                    }
                }
            },
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn proto_sources() -> Vec<(String, String)> {
    ["mqdash_test.proto", "common.proto"]
        .iter()
        .map(|n| {
            let text =
                std::fs::read_to_string(vectors().join("proto").join(n)).expect("proto file");
            (n.to_string(), text)
        })
        .collect()
}

#[test]
fn protobuf_decodes_with_the_descriptor_set_protoc_wrote() {
    let desc = std::fs::read(vectors().join("schema/mqdash_test.desc")).expect("descriptor set");
    let schema = Schema::from_descriptor_set(&desc).expect("descriptor set loads");
    check_schema(&schema);
}

#[test]
fn protobuf_decodes_with_the_proto_text_compiled_in_rust_and_an_import_between_two_files() {
    let schema = Schema::from_proto_files(&proto_sources()).expect("proto files compile");
    check_schema(&schema);
}

#[test]
fn message_names_are_fully_qualified_sorted_and_leave_out_map_entries() {
    let schema = Schema::from_proto_files(&proto_sources()).expect("proto files compile");
    let names = schema.message_names();
    for expected in [
        "mqdash.common.Location",
        "mqdash.test.Node",
        "mqdash.test.Power",
        "mqdash.test.Reading",
        "google.protobuf.Timestamp",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.ends_with("Entry")), "{names:?}");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}
