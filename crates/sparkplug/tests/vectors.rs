//! The decoder against vectors from an independent encoder: Eclipse Tahu's
//! schema compiled by protoc and filled by the Python protobuf package
//! (`tests/vectors/generate.py`), one Sparkplug session in order (births,
//! alias-only data, commands, a gap, an out-of-order message, deaths, a
//! stale death, STATE). The expectations were written by the generator from
//! what it encoded; see its docstring for their conventions.

use serde_json::Value;
use sparkplug::Sparkplug;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

/// Compares `actual` with `expected` (see the generator's conventions),
/// collecting every difference with its path.
fn compare(expected: &Value, actual: &Value, path: &str, diffs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), _) if e.contains_key("$f32") => {
            let want = e["$f32"].as_f64().expect("$f32 number") as f32;
            match actual.as_f64() {
                Some(got) if got as f32 == want => {}
                _ => diffs.push(format!("{path}: expected float32 {want:?}, got {actual}")),
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    None => diffs.push(format!("{p}: missing")),
                    Some(av) if k == "warnings" => {
                        for w in ev.as_array().into_iter().flatten() {
                            let w = w.as_str().unwrap_or_default();
                            let found = av.as_array().is_some_and(|l| {
                                l.iter().any(|x| x.as_str().is_some_and(|x| x.contains(w)))
                            });
                            if !found {
                                diffs.push(format!("{p}: no warning containing {w:?} in {av}"));
                            }
                        }
                    }
                    Some(av) => compare(ev, av, &p, diffs),
                }
            }
            for k in a.keys() {
                if !e.contains_key(k) && k != "notes" && k != "warnings" {
                    diffs.push(format!("{path}.{k}: not expected ({})", a[k]));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                diffs.push(format!(
                    "{path}: {} items expected, {} got",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, &format!("{path}[{i}]"), diffs);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            let same = match (e.as_u64(), a.as_u64(), e.as_i64(), a.as_i64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => e.as_f64() == a.as_f64() && e.is_f64() == a.is_f64(),
            };
            if !same {
                diffs.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        _ => {
            if expected != actual {
                diffs.push(format!("{path}: expected {expected}, got {actual}"));
            }
        }
    }
}

#[test]
fn every_vector_decodes_to_what_the_python_encoder_put_in_it_in_session_order() {
    let all = expected();
    let messages = all["messages"].as_array().expect("messages");
    assert!(messages.len() >= 16, "{} vectors", messages.len());
    let mut sp = Sparkplug::new();
    let mut diffs = Vec::new();
    for m in messages {
        let file = m["file"].as_str().expect("file");
        let topic = m["topic"].as_str().expect("topic");
        assert!(sparkplug::is_sparkplug_topic(topic), "{topic}");
        let payload = std::fs::read(dir().join(file)).expect(file);
        let received = m["received_ms"].as_f64().expect("received_ms");
        let text = sp
            .decode(topic, &payload, received)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let actual: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}: {text}"));
        compare(&m["expect"], &actual, file, &mut diffs);
    }
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("nodes_json is JSON");
    compare(&all["nodes_after"], &nodes, "nodes_json", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn data_messages_carrying_only_aliases_show_the_names_their_birth_gave() {
    let all = expected();
    let messages = all["messages"].as_array().expect("messages");
    let mut sp = Sparkplug::new();
    let mut checked = 0;
    for m in messages {
        let file = m["file"].as_str().unwrap_or_default();
        let payload = std::fs::read(dir().join(file)).expect(file);
        let topic = m["topic"].as_str().unwrap_or_default();
        let text = sp.decode(topic, &payload, 0.0).expect(file);
        // The wire holds no names in these: check that independently of
        // expected.json by decoding the payload with prost.
        if file.contains("aliases") {
            let raw = sparkplug::decode_payload(&payload).expect(file);
            assert!(raw
                .metrics
                .iter()
                .all(|x| x.name.is_none() && x.alias.is_some()));
            let v: Value = serde_json::from_str(&text).expect("json");
            let names: Vec<&String> = v["metrics"].as_object().expect("metrics").keys().collect();
            assert!(!names.is_empty());
            assert!(names.iter().all(|n| !n.starts_with("alias ")), "{names:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "the DDATA and the NDATA carrying only aliases");
}

#[test]
fn the_same_data_message_without_its_birth_shows_unresolved_aliases() {
    let all = expected();
    let m = all["messages"]
        .as_array()
        .and_then(|l| {
            l.iter().find(|m| {
                m["file"]
                    .as_str()
                    .is_some_and(|f| f.contains("ddata-aliases"))
            })
        })
        .expect("ddata vector");
    let payload = std::fs::read(dir().join(m["file"].as_str().unwrap_or_default())).expect("bin");
    let text = Sparkplug::new()
        .decode(m["topic"].as_str().unwrap_or_default(), &payload, 0.0)
        .expect("decodes");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        v["unresolved_aliases"],
        serde_json::json!([100, 101, 102, 103])
    );
    assert_eq!(v["metrics"]["alias 102"], "x");
    assert_eq!(v["sequence"]["status"], "first");
}

#[test]
fn the_top_level_keys_come_in_the_documented_order() {
    let all = expected();
    let mut sp = Sparkplug::new();
    let order = [
        "message_type",
        "group",
        "edge_node",
        "device",
        "seq",
        "timestamp",
        "metrics",
        "details",
        "sequence",
        "unresolved_aliases",
        "uuid",
        "body",
        "warnings",
    ];
    for m in all["messages"].as_array().expect("messages") {
        let file = m["file"].as_str().unwrap_or_default();
        let topic = m["topic"].as_str().unwrap_or_default();
        let payload = std::fs::read(dir().join(file)).expect(file);
        let text = sp.decode(topic, &payload, 0.0).expect(file);
        if topic.contains("STATE") {
            continue;
        }
        let keys = top_level_keys(&text);
        assert!(keys.len() >= 6, "{file}: {keys:?}");
        let mut last = 0;
        for k in &keys {
            let i = order
                .iter()
                .position(|o| o == k)
                .unwrap_or_else(|| panic!("{file}: unknown key {k}"));
            assert!(i >= last, "{file}: {k} out of order in {keys:?}");
            last = i;
        }
        assert!(text.starts_with("{\"message_type\":"), "{file}");
    }
}

/// The keys of the outermost object of compact JSON `text`, in text order
/// (serde_json's `Value` sorts them).
fn top_level_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    let mut current = String::new();
    let mut expecting_key = false;
    let mut reading_key = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                if reading_key {
                    keys.push(std::mem::take(&mut current));
                    reading_key = false;
                }
                continue;
            }
            if reading_key {
                current.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                reading_key = depth == 1 && expecting_key;
                expecting_key = false;
            }
            '{' | '[' => {
                depth += 1;
                expecting_key = depth == 1;
            }
            '}' | ']' => depth -= 1,
            ',' => expecting_key = depth == 1,
            _ => {}
        }
    }
    keys
}

#[test]
fn the_vectors_cover_every_shape_the_python_edge_node_simulation_publishes() {
    // tests/sim/sparkplug_node.py publishes: NBIRTH with a bdSeq metric and
    // named, aliased, typed metrics; DBIRTHs likewise; DDATA and NDATA with
    // aliases only (no name, no datatype); DDEATH with a seq; NDEATH with
    // bdSeq and no seq. Each shape must be among the decoder's vectors.
    let all = expected();
    let mut shapes = std::collections::BTreeSet::new();
    for m in all["messages"].as_array().expect("messages") {
        let topic = m["topic"].as_str().unwrap_or_default();
        if topic.contains("STATE") {
            continue;
        }
        let file = m["file"].as_str().unwrap_or_default();
        let p =
            sparkplug::decode_payload(&std::fs::read(dir().join(file)).expect(file)).expect(file);
        let kind = topic.split('/').nth(2).unwrap_or_default();
        let bd_seq = p.metrics.iter().any(|x| x.name.as_deref() == Some("bdSeq"));
        let others: Vec<_> = p
            .metrics
            .iter()
            .filter(|x| x.name.as_deref() != Some("bdSeq"))
            .collect();
        let named_aliased_typed = !others.is_empty()
            && others
                .iter()
                .all(|x| x.name.is_some() && x.alias.is_some() && x.datatype.is_some());
        let aliases_only = !others.is_empty()
            && others
                .iter()
                .all(|x| x.name.is_none() && x.alias.is_some() && x.datatype.is_none());
        match kind {
            "NBIRTH" if bd_seq && named_aliased_typed && p.seq == Some(0) => {
                shapes.insert("NBIRTH")
            }
            "DBIRTH" if named_aliased_typed && p.seq.is_some() => shapes.insert("DBIRTH"),
            "DDATA" if aliases_only && p.seq.is_some() => shapes.insert("DDATA"),
            "NDATA" if aliases_only && p.seq.is_some() => shapes.insert("NDATA"),
            "DDEATH" if p.seq.is_some() => shapes.insert("DDEATH"),
            "NDEATH" if bd_seq && p.seq.is_none() => shapes.insert("NDEATH"),
            _ => false,
        };
    }
    let want = ["DBIRTH", "DDATA", "DDEATH", "NBIRTH", "NDATA", "NDEATH"];
    assert_eq!(shapes.into_iter().collect::<Vec<_>>(), want);
}
