//! The hostile table (`fuzz_support::hostile_cases`): each case ends in its
//! error with its offset, or decodes with what is wrong said in the output;
//! and the state's caps hold against floods of nodes, devices and aliases.

mod fuzz_support;

use fuzz_support::{hostile_cases, ld, nested_templates, vfield};
use serde_json::Value;
use sparkplug::{state, Sparkplug};

fn decode(sp: &mut Sparkplug, topic: &str, payload: &[u8]) -> Value {
    let text = sp
        .decode(topic, payload, 1.0)
        .unwrap_or_else(|e| panic!("{topic}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn every_hostile_case_ends_in_its_error_for_that_message_only() {
    let mut sp = Sparkplug::new();
    let cases = hostile_cases();
    assert!(cases.len() >= 20);
    for case in &cases {
        // A good message before and after: the bad one must not disturb them.
        decode(&mut sp, "spBv1.0/G/NDATA/N", &vfield(1, 5));
        let got = sp.decode(&case.topic, &case.payload, 1.0);
        match (&case.error, &got) {
            (Some((offset, reason)), Err(e)) => {
                assert!(e.reason.contains(reason), "{}: {e}", case.name);
                if offset.is_some() {
                    assert_eq!(e.offset, *offset, "{}: {e}", case.name);
                }
                let shown = e.to_string();
                match e.offset {
                    Some(o) => assert!(shown.starts_with(&format!("at byte {o}: ")), "{shown}"),
                    None => assert_eq!(shown, e.reason),
                }
            }
            (None, Ok(text)) => {
                serde_json::from_str::<Value>(text)
                    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            }
            _ => panic!("{}: {got:?}", case.name),
        }
        decode(&mut sp, "spBv1.0/G/NDATA/N", &vfield(1, 6));
    }
}

#[test]
fn a_truncated_varint_is_an_error_with_its_offset() {
    let e = Sparkplug::new()
        .decode("spBv1.0/G/NDATA/N", &[0x18, 0x01, 0x08, 0xff], 0.0)
        .expect_err("truncated");
    assert_eq!(e.offset, Some(3));
    assert_eq!(
        e.to_string(),
        "at byte 3: truncated varint (Payload.timestamp)"
    );
}

#[test]
fn a_length_of_2_pow_62_is_an_error_not_an_allocation() {
    let mut payload = vec![0x12];
    payload.extend(fuzz_support::varint(1 << 62));
    let e = Sparkplug::new()
        .decode("spBv1.0/G/NDATA/N", &payload, 0.0)
        .expect_err("huge length");
    assert_eq!(e.offset, Some(1));
    assert!(
        e.reason
            .starts_with("length 4611686018427387904 runs past the end"),
        "{e}"
    );
}

#[test]
fn templates_nested_within_prosts_limit_are_shown_to_32_levels_then_cut_with_a_note() {
    let v = decode(
        &mut Sparkplug::new(),
        "spBv1.0/G/NDATA/N",
        &nested_templates(40),
    );
    // Walk down "t39" -> metrics -> "t38" -> ... as far as it is shown.
    let mut node = &v["metrics"]["t39"];
    let mut levels = 0;
    for i in (0..39).rev() {
        let next = &node["metrics"][format!("t{i}")];
        if next.is_null() {
            break;
        }
        node = next;
        levels += 1;
    }
    assert_eq!(levels, 31, "the 32nd template level is the last shown");
    let notes = v["details"]["t39"]["notes"].to_string();
    assert!(notes.contains("nested deeper than 32 levels"), "{notes}");
}

#[test]
fn templates_nested_beyond_prosts_limit_are_an_error() {
    let e = Sparkplug::new()
        .decode("spBv1.0/G/NDATA/N", &nested_templates(60), 0.0)
        .expect_err("too deep");
    assert!(e.reason.contains("nested deeper than 100 messages"), "{e}");
    assert!(e.offset.is_some());
}

#[test]
fn ddata_before_any_birth_shows_its_aliases_unresolved_and_the_device_unknown() {
    let mut sp = Sparkplug::new();
    let p = [vfield(3, 9), ld(2, &[vfield(2, 7), vfield(10, 5)].concat())].concat();
    let v = decode(&mut sp, "spBv1.0/G/DDATA/N/D", &p);
    assert_eq!(v["metrics"]["alias 7"], 5);
    assert_eq!(v["unresolved_aliases"], serde_json::json!([7]));
    assert_eq!(v["sequence"]["status"], "first");
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert!(nodes["nodes"][0]["online"].is_null());
    assert!(nodes["nodes"][0]["devices"][0]["online"].is_null());
    assert_eq!(nodes["nodes"][0]["last_seq"], 9);
}

#[test]
fn an_alias_collision_in_a_birth_keeps_the_first_name_and_says_so() {
    let mut sp = Sparkplug::new();
    let birth = [
        vfield(3, 0),
        ld(
            2,
            &[ld(1, b"A"), vfield(2, 1), vfield(4, 3), vfield(10, 1)].concat(),
        ),
        ld(
            2,
            &[ld(1, b"B"), vfield(2, 1), vfield(4, 3), vfield(10, 2)].concat(),
        ),
    ]
    .concat();
    let v = decode(&mut sp, "spBv1.0/G/NBIRTH/N", &birth);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("alias collision"),
        "{v}"
    );
    assert!(v["details"]["B"]["notes"][0]
        .as_str()
        .unwrap_or_default()
        .contains("already names \"A\""));
    let data = [vfield(3, 1), ld(2, &[vfield(2, 1), vfield(10, 9)].concat())].concat();
    let v = decode(&mut sp, "spBv1.0/G/NDATA/N", &data);
    assert_eq!(v["metrics"]["A"], 9);
    assert_eq!(v["details"]["A"]["datatype"], "Int32");
}

#[test]
fn more_edge_nodes_than_the_cap_are_decoded_but_counted_as_refused() {
    let mut sp = Sparkplug::new();
    for i in 0..=state::MAX_NODES {
        let topic = format!("spBv1.0/G/NBIRTH/n{i}");
        let v = decode(&mut sp, &topic, &vfield(3, 0));
        if i == state::MAX_NODES {
            assert!(v["warnings"][0]
                .as_str()
                .unwrap_or_default()
                .contains("not remembered"));
        }
    }
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert_eq!(
        nodes["nodes"].as_array().map(Vec::len),
        Some(state::MAX_NODES)
    );
    assert_eq!(nodes["refused"]["nodes"], 1);
    sp.clear();
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert_eq!(nodes["nodes"].as_array().map(Vec::len), Some(0));
}

#[test]
fn more_devices_than_the_cap_are_counted_as_refused() {
    let mut sp = Sparkplug::new();
    for i in 0..=state::MAX_DEVICES {
        let topic = format!("spBv1.0/G/DBIRTH/n{}/d{i}", i % 100);
        sp.decode(&topic, &[], 0.0).expect("decodes");
    }
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    let devices: usize = nodes["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["devices"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(devices, state::MAX_DEVICES);
    assert_eq!(nodes["refused"]["devices"], 1);
    // A new NBIRTH forgets a node's devices, which makes room again.
    sp.decode("spBv1.0/G/NBIRTH/n0", &[], 0.0).expect("decodes");
    let v = decode(&mut sp, "spBv1.0/G/DBIRTH/n0/new", &[]);
    assert!(v.get("warnings").is_none(), "{v}");
}

#[test]
fn a_birth_with_more_metrics_than_the_cap_remembers_the_cap_and_counts_the_rest() {
    let mut birth = vfield(3, 0);
    let n = state::MAX_DEFINITIONS / 2 + 10;
    for i in 0..n {
        birth.extend(ld(
            2,
            &[ld(1, format!("m{i}").as_bytes()), vfield(2, i as u64)].concat(),
        ));
    }
    let mut sp = Sparkplug::new();
    let v = decode(&mut sp, "spBv1.0/G/NBIRTH/N", &birth);
    assert!(
        v["warnings"].to_string().contains("not remembered"),
        "{}",
        v["warnings"]
    );
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert_eq!(nodes["refused"]["definitions"], 20);
    assert_eq!(nodes["nodes"][0]["metrics"], state::MAX_DEFINITIONS / 2);
}

#[test]
fn a_stale_ndeath_leaves_the_node_online_and_the_matching_one_takes_it_offline() {
    let mut sp = Sparkplug::new();
    let bd = |v: u64| ld(2, &[ld(1, b"bdSeq"), vfield(4, 4), vfield(11, v)].concat());
    decode(
        &mut sp,
        "spBv1.0/G/NBIRTH/N",
        &[vfield(3, 0), bd(3)].concat(),
    );
    decode(&mut sp, "spBv1.0/G/DBIRTH/N/D", &vfield(3, 1));
    let v = decode(&mut sp, "spBv1.0/G/NDEATH/N", &bd(2));
    assert!(v["warnings"][0]
        .as_str()
        .unwrap_or_default()
        .starts_with("stale NDEATH"));
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert_eq!(nodes["nodes"][0]["online"], true);
    assert_eq!(nodes["nodes"][0]["devices"][0]["online"], true);
    assert_eq!(nodes["nodes"][0]["stale_deaths"], 1);
    decode(&mut sp, "spBv1.0/G/NDEATH/N", &bd(3));
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert_eq!(nodes["nodes"][0]["online"], false);
    assert_eq!(nodes["nodes"][0]["devices"][0]["online"], false);
}

#[test]
fn sequence_numbers_wrap_from_255_to_0_and_128_behind_is_out_of_order() {
    let mut sp = Sparkplug::new();
    let status = |sp: &mut Sparkplug, seq: u64| {
        decode(sp, "spBv1.0/G/NDATA/N", &vfield(3, seq))["sequence"].clone()
    };
    decode(&mut sp, "spBv1.0/G/NBIRTH/N", &vfield(3, 0));
    assert_eq!(status(&mut sp, 1)["status"], "ok");
    assert_eq!(status(&mut sp, 128)["status"], "gap"); // 126 skipped
    assert_eq!(status(&mut sp, 255)["status"], "gap"); // 126 ahead of the expected 129
    assert_eq!(status(&mut sp, 0)["status"], "ok");
    let s = status(&mut sp, 129); // 128 behind 1
    assert_eq!(
        s,
        serde_json::json!({"status":"out of order","expected":1,"got":129})
    );
    assert_eq!(status(&mut sp, 0)["status"], "out of order"); // a duplicate
    assert_eq!(status(&mut sp, 1)["status"], "ok");
    assert_eq!(
        status(&mut sp, 300),
        serde_json::json!({"status":"invalid","got":300})
    );
}

#[test]
fn an_nbirth_not_starting_at_zero_is_a_gap_from_zero() {
    let v = decode(&mut Sparkplug::new(), "spBv1.0/G/NBIRTH/N", &vfield(3, 4));
    assert_eq!(
        v["sequence"],
        serde_json::json!({"status":"gap","expected":0,"got":4})
    );
}

#[test]
fn topics_that_are_not_sparkplug_are_refused() {
    for t in [
        "spBv1.0/G/NDATA/N/D",
        "spBv1.0/G/DDATA/N",
        "spBv1.0/G/XDATA/N",
        "spBv1.0//NDATA/N",
        "spBv1.0/G/NDATA/N/",
        "spAv1.0/G/NDATA/N",
        "STATE",
        "STATE/a/b",
        "devices/x/telemetry",
    ] {
        assert!(!sparkplug::is_sparkplug_topic(t), "{t}");
        assert!(Sparkplug::new().decode(t, &[], 0.0).is_err(), "{t}");
    }
    for t in [
        "spBv1.0/G/NDATA/N",
        "spBv1.0/G/DCMD/N/D",
        "spBv1.0/STATE/h",
        "STATE/h",
    ] {
        assert!(sparkplug::is_sparkplug_topic(t), "{t}");
    }
}

#[test]
fn an_older_state_than_the_last_is_not_applied() {
    let mut sp = Sparkplug::new();
    decode(
        &mut sp,
        "spBv1.0/STATE/h",
        br#"{"online":true,"timestamp":20}"#,
    );
    let v = decode(
        &mut sp,
        "spBv1.0/STATE/h",
        br#"{"online":false,"timestamp":10}"#,
    );
    assert!(v["warnings"][0]
        .as_str()
        .unwrap_or_default()
        .contains("older"));
    let nodes: Value = serde_json::from_str(&sp.nodes_json()).expect("json");
    assert_eq!(nodes["hosts"][0]["online"], true);
}
