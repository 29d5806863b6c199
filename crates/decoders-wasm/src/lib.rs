//! The decoders' state across messages and their answers, free of
//! wasm-bindgen so they are tested natively (`cargo test -p decoders-wasm`):
//! the page's decoder module (`src/main.rs`) exports them, and the keep
//! worker uses them to put decoded payloads in exports.
//!
//! Answers are strings: `o<json>`, `o<json>\u{1}<chart json>` (Sparkplug
//! B: the charts read its `metrics` object only) or `e<reason>`. Holds
//! Sparkplug B's aliases, sequence numbers and online states, and the
//! Protobuf schemas the user loaded, per thread (a wasm module has one).
//! Must not panic or touch the DOM.

use std::cell::RefCell;

use decoders::protobuf_schema::Schema;
use sparkplug::Sparkplug;

thread_local! {
    static SPARKPLUG: RefCell<Sparkplug> = RefCell::new(Sparkplug::new());
    static SCHEMAS: RefCell<Vec<Schema>> = const { RefCell::new(Vec::new()) };
}

/// Decodes one payload with the decoder `code` (`sparkplug`, `protobuf`,
/// `cbor`, `msgpack`); `message` names the Protobuf message type (empty:
/// the raw wire format). See the crate's header for the answer's shape.
pub fn decode(code: &str, topic: &str, payload: &[u8], message: &str, received_ms: f64) -> String {
    let result = match code {
        "sparkplug" => {
            return match SPARKPLUG.with(|s| s.borrow_mut().decode(topic, payload, received_ms)) {
                Ok(json) => with_chart(json),
                Err(e) => format!("e{e}"),
            }
        }
        "cbor" => decoders::cbor::decode(payload),
        "msgpack" => decoders::msgpack::decode(payload),
        "protobuf" if message.is_empty() => decoders::protobuf_raw::decode(payload),
        "protobuf" => {
            return SCHEMAS.with(|s| {
                let s = s.borrow();
                match s
                    .iter()
                    .find(|x| x.message_names().iter().any(|n| n == message))
                {
                    Some(schema) => match schema.decode(message, payload) {
                        Ok(json) => format!("o{json}"),
                        Err(e) => format!("e{e}"),
                    },
                    None if s.is_empty() => {
                        format!("eno Protobuf schema is loaded for message type {message}")
                    }
                    None => format!("ethe loaded schemas have no message type {message}"),
                }
            })
        }
        other => return format!("eno decoder named {other}"),
    };
    match result {
        Ok(json) => format!("o{json}"),
        Err(e) => format!("e{e}"),
    }
}

/// A Sparkplug B answer: the whole JSON, and its `metrics` object for the
/// charts (sequence numbers and timestamps are not readings). It starts
/// with `r` instead of `o` when the message used aliases no birth defined,
/// so the page can ask its edge node for a rebirth without reading the JSON.
fn with_chart(json: String) -> String {
    let v = serde_json::from_str::<serde_json::Value>(&json).ok();
    let metrics = v
        .as_ref()
        .and_then(|v| v.get("metrics"))
        .map(ToString::to_string);
    let tag = match v.as_ref().and_then(|v| v.get("unresolved_aliases")) {
        Some(_) => 'r',
        None => 'o',
    };
    format!("{tag}{json}\u{1}{}", metrics.as_deref().unwrap_or("{}"))
}

/// Replaces the schemas: every `.proto` file compiled together (imports
/// resolve among them), every other file read as a descriptor set.
pub fn set_schemas(files: &[(String, Vec<u8>)]) -> String {
    let mut protos = Vec::new();
    let mut schemas = Vec::new();
    for (name, bytes) in files {
        if name.ends_with(".proto") {
            match String::from_utf8(bytes.clone()) {
                Ok(text) => protos.push((name.clone(), text)),
                Err(_) => return format!("e{name} is not UTF-8 text"),
            }
        } else {
            match Schema::from_descriptor_set(bytes) {
                Ok(s) => schemas.push(s),
                Err(e) => return format!("e{name}: {e}"),
            }
        }
    }
    if !protos.is_empty() {
        match Schema::from_proto_files(&protos) {
            Ok(s) => schemas.push(s),
            Err(e) => return format!("e{e}"),
        }
    }
    let mut names: Vec<String> = schemas.iter().flat_map(Schema::message_names).collect();
    names.sort();
    names.dedup();
    SCHEMAS.with(|s| *s.borrow_mut() = schemas);
    format!("o{}", names.join("\n"))
}

/// Whether the loaded schemas define the message type `name`.
pub fn has_message_type(name: &str) -> bool {
    SCHEMAS.with(|s| {
        s.borrow()
            .iter()
            .any(|x| x.message_names().iter().any(|n| n == name))
    })
}

/// Schema files as the page keeps them (`[{"name":…,"hex":…}]`); entries
/// that are not such pairs are left out.
pub fn schema_files_from_json(text: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let name = i.get("name")?.as_str()?.to_owned();
            let hex = i.get("hex")?.as_str()?.as_bytes();
            let bytes = hex
                .chunks(2)
                .map(|p| match p {
                    [a, b] => {
                        Some(((*a as char).to_digit(16)? * 16 + (*b as char).to_digit(16)?) as u8)
                    }
                    _ => None,
                })
                .collect::<Option<Vec<u8>>>()?;
            Some((name, bytes))
        })
        .collect()
}

/// The files as [`schema_files_from_json`] reads them.
pub fn schema_files_to_json(files: &[(String, Vec<u8>)]) -> String {
    let items: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, bytes)| {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            serde_json::json!({ "name": name, "hex": hex })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Imports a profiles file into the store `current` (both JSON as
/// `model::ProfileStore` writes and reads them): `o<message>\u{1}<merged
/// store>` or `e<why the file was refused>` (nothing is merged then).
pub fn import_profiles(current: &str, file: &str) -> String {
    let (mut store, _) = model::ProfileStore::from_json(current);
    match store.import_json(file) {
        Ok(report) => format!("o{}\u{1}{}", report.message(), store.to_json()),
        Err(e) => format!("e{e}"),
    }
}

/// Forgets every schema.
pub fn clear_schemas() {
    SCHEMAS.with(|s| s.borrow_mut().clear());
}

/// See [`Sparkplug::nodes_json`].
pub fn sparkplug_nodes() -> String {
    SPARKPLUG.with(|s| s.borrow().nodes_json())
}

/// See [`sparkplug::rebirth_request`].
pub fn sparkplug_rebirth(group: &str, node: &str, timestamp_ms: f64) -> (String, Vec<u8>) {
    // Times before 1970 or past u64 are clamped: the request's timestamp
    // is informative only.
    sparkplug::rebirth_request(group, node, timestamp_ms.max(0.0) as u64)
}

/// See [`Sparkplug::clear`].
pub fn sparkplug_clear() {
    SPARKPLUG.with(|s| s.borrow_mut().clear());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_and_messagepack_answers_are_their_json() {
        // {"t": 21.5} in CBOR and in MessagePack, written by hand from RFC 8949 / the msgpack spec.
        let cbor = [0xA1, 0x61, b't', 0xF9, 0x4D, 0x60];
        assert_eq!(decode("cbor", "c", &cbor, "", 0.0), "o{\"t\":21.5}");
        let mp = [0x81, 0xA1, b't', 0xCB, 0x40, 0x35, 0x80, 0, 0, 0, 0, 0];
        assert_eq!(decode("msgpack", "m", &mp, "", 0.0), "o{\"t\":21.5}");
    }

    #[test]
    fn a_payload_a_decoder_cannot_read_answers_its_reason() {
        let a = decode("cbor", "c", &[0xA1], "", 0.0);
        assert!(a.starts_with('e'), "{a}");
        assert_eq!(decode("xml", "c", b"x", "", 0.0), "eno decoder named xml");
    }

    #[test]
    fn a_protobuf_message_type_without_a_schema_is_a_clear_error() {
        clear_schemas();
        assert_eq!(
            decode("protobuf", "p", &[8, 1], "acme.Reading", 0.0),
            "eno Protobuf schema is loaded for message type acme.Reading"
        );
    }

    #[test]
    fn a_proto_file_gives_its_message_types_and_decodes_with_field_names() {
        let proto = "syntax = \"proto3\";\npackage acme;\nmessage Reading { double temp = 1; string unit = 2; }\n";
        let answer = set_schemas(&[("acme.proto".into(), proto.as_bytes().to_vec())]);
        assert_eq!(answer, "oacme.Reading");
        // temp = 21.5 (fixed64 field 1), unit = "C" (field 2)
        let mut payload = vec![0x09];
        payload.extend_from_slice(&21.5f64.to_le_bytes());
        payload.extend_from_slice(&[0x12, 1, b'C']);
        let a = decode("protobuf", "p", &payload, "acme.Reading", 0.0);
        assert!(a.starts_with('o'), "{a}");
        let v: serde_json::Value = serde_json::from_str(&a[1..]).unwrap();
        assert_eq!(v["temp"], 21.5);
        assert_eq!(v["unit"], "C");
        clear_schemas();
    }

    #[test]
    fn schema_files_round_trip_through_their_stored_json_and_bad_entries_are_left_out() {
        let files = vec![
            ("a.proto".to_owned(), b"syntax".to_vec()),
            ("b.desc".to_owned(), vec![0, 255, 16]),
        ];
        assert_eq!(schema_files_from_json(&schema_files_to_json(&files)), files);
        let odd = r#"[{"name":"x","hex":"abc"},{"name":"y","hex":"zz"},{"hex":"00"},{"name":"ok","hex":"0aff"},7]"#;
        assert_eq!(
            schema_files_from_json(odd),
            vec![("ok".to_owned(), vec![10, 255])]
        );
        assert!(schema_files_from_json("not json").is_empty());
    }

    #[test]
    fn a_profiles_file_is_merged_into_the_store_and_a_bad_one_is_refused_whole() {
        let a = import_profiles("", r#"[{"name":"plant","broker_url":"ws://h/mqtt"}]"#);
        let (message, store) = a.strip_prefix('o').unwrap().split_once('\u{1}').unwrap();
        assert_eq!(message, "imported profiles: added plant");
        let (back, problem) = model::ProfileStore::from_json(store);
        assert_eq!(problem, None);
        assert_eq!(back.profiles[0].broker_url, "ws://h/mqtt");
        let bad = import_profiles(store, r#"[{"name":"x","keepalive_secs":"soon"}]"#);
        assert!(
            bad.starts_with('e') && bad.contains("keepalive_secs"),
            "{bad}"
        );
    }

    #[test]
    fn a_broken_proto_file_answers_the_compilers_error() {
        let a = set_schemas(&[("x.proto".into(), b"message {".to_vec())]);
        assert!(a.starts_with('e') && a.len() > 1, "{a}");
    }

    #[test]
    fn sparkplug_data_carrying_aliases_charts_its_metrics_by_the_names_of_the_birth() {
        // Vectors written by the Python protobuf package from Tahu's schema.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sparkplug/tests/vectors/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
        sparkplug_clear();
        for (f, topic) in [
            ("01-nbirth.bin", "spBv1.0/Plant 1/NBIRTH/Edge-1"),
            ("02-dbirth.bin", "spBv1.0/Plant 1/DBIRTH/Edge-1/Pump-7"),
        ] {
            assert!(decode("sparkplug", topic, &read(f), "", 1.0).starts_with('o'));
        }
        let a = decode(
            "sparkplug",
            "spBv1.0/Plant 1/DDATA/Edge-1/Pump-7",
            &read("03-ddata-aliases.bin"),
            "",
            2.0,
        );
        // Named from the birth: no rebirth wanted.
        let rest = a.strip_prefix('o').unwrap();
        let (json, chart) = rest.split_once('\u{1}').unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let c: serde_json::Value = serde_json::from_str(chart).unwrap();
        assert_eq!(v["message_type"], "DDATA");
        assert_eq!(v["metrics"], c);
        assert!(!c.as_object().unwrap().is_empty());
        assert!(
            c.as_object()
                .unwrap()
                .keys()
                .all(|k| !k.starts_with("alias ")),
            "{c}"
        );
        assert!(sparkplug_nodes().contains("Pump-7"));
        // The same data without its birth: tagged for a rebirth request.
        sparkplug_clear();
        let a = decode(
            "sparkplug",
            "spBv1.0/Plant 1/DDATA/Edge-1/Pump-7",
            &read("03-ddata-aliases.bin"),
            "",
            3.0,
        );
        assert!(
            a.starts_with('r') && a.contains("unresolved_aliases"),
            "{a}"
        );
    }
}
