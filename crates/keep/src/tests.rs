//! The keep formats' tests: exports read back exactly, hostile lines are
//! bad lines with a reason and never a panic, and the plans keep their
//! bounds.

use bytes::Bytes;
use mqtt_session::record::{self, Record};
use mqtt_session::{PublishProperties, QoS};
use proptest::prelude::*;

use crate::bound::{chunk_target, cut, Recording};
use crate::csv::{self, FieldColumns};
use crate::lines::{LineSplitter, Piece};
use crate::ndjson::{read_line, write_line, write_line_decoded, DecodedOut, Importer};
use crate::pace::{plan, Pace, MAX_BATCH};
use crate::prefix::rewrite;

fn props() -> impl Strategy<Value = Option<Box<PublishProperties>>> {
    let s = "[a-z\"\\\\/é\t ]{0,10}";
    let t = "[a-z]{1,6}(/[a-z]{1,6}){0,2}";
    (
        proptest::option::of(0u8..=1),
        proptest::option::of(any::<u32>()),
        proptest::option::of(s),
        proptest::option::of(t),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        proptest::collection::vec((s, s), 0..3),
        proptest::collection::vec(1u32..=268_435_455, 0..3),
    )
        .prop_map(|(f, e, ct, rt, cd, user, ids)| {
            let p = PublishProperties {
                payload_format_indicator: f,
                message_expiry_secs: e,
                content_type: ct,
                response_topic: rt,
                correlation_data: cd.map(Bytes::from),
                user_properties: user,
                subscription_identifiers: ids,
            };
            (!p.is_empty()).then(|| Box::new(p))
        })
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "[ -~é\n\r\t\"\\\\]{0,40}".prop_map(String::into_bytes),
        Just(b"{\"t\":21.5}".to_vec()),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop_oneof![
            (0i64..4_000_000_000_000).prop_map(|m| m as f64),
            -1e15f64..1e15,
        ],
        "[a-z0-9$ \"]{1,8}(/[a-zé0-9]{0,8}){0,3}",
        payload(),
        0u8..=2,
        any::<bool>(),
        any::<bool>(),
        props(),
    )
        .prop_map(|(ms, topic, payload, q, retain, dup, properties)| {
            let qos = QoS::from_u8(q).unwrap();
            Record {
                received_ms: ms,
                topic,
                payload: Bytes::from(payload),
                qos,
                retain,
                dup: dup && qos != QoS::AtMostOnce,
                properties,
            }
        })
}

fn line_of(r: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    write_line(&mut out, r);
    out
}

fn bad_reason(line: &str) -> String {
    read_line(line.as_bytes(), 0.0).expect_err(line)
}

proptest! {
    #[test]
    fn an_exported_message_imports_back_exactly(r in record()) {
        let line = line_of(&r);
        prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        prop_assert_eq!(line.last(), Some(&b'\n'));
        let back = read_line(&line[..line.len() - 1], 0.0).unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn a_whole_export_split_in_random_slices_imports_back_exactly(
        records in proptest::collection::vec(record(), 0..12),
        slice in 1usize..64,
    ) {
        let mut file = Vec::new();
        for r in &records {
            write_line(&mut file, r);
        }
        let mut imp = Importer::new(0.0);
        let mut out = Vec::new();
        let mut split = LineSplitter::new(crate::MAX_LINE);
        for part in file.chunks(slice) {
            split.push(part, |p| match p {
                Piece::Line(l) => { imp.line(l, &mut out); }
                Piece::TooLong(n) => imp.too_long(n, crate::MAX_LINE),
            });
        }
        split.finish(|p| match p {
            Piece::Line(l) => { imp.line(l, &mut out); }
            Piece::TooLong(n) => imp.too_long(n, crate::MAX_LINE),
        });
        let back: Vec<Record> = record::decode(out).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(back, records.clone());
        prop_assert_eq!(imp.summary().bad, 0);
        prop_assert_eq!(imp.summary().good, records.len() as u64);
    }

    #[test]
    fn any_bytes_as_a_line_are_a_record_or_a_reason_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Err(why) = read_line(&bytes, 0.0) {
            prop_assert!(!why.is_empty());
        }
    }

    #[test]
    fn any_json_looking_text_is_a_record_or_a_reason(s in "\\{(\"(topic|payload|qos|ms|time|retain|encoding|properties)\":(\"[a-z/#+]{0,5}\"|-?[0-9]{1,3}|true|null|\\[\\]|\\{\\}),?){0,6}\\}") {
        let _ = read_line(s.as_bytes(), 0.0);
    }

    #[test]
    fn the_line_splitter_gives_the_same_lines_whatever_the_slices(text in "[a-z\n]{0,200}", slice in 1usize..50, max in 1usize..20) {
        let expect: Vec<Piece<'_>> = {
            let mut v: Vec<&str> = text.split('\n').collect();
            if v.last() == Some(&"") { v.pop(); }
            v.into_iter().map(|l| if l.len() > max { Piece::TooLong(l.len() as u64) } else { Piece::Line(l.as_bytes()) }).collect()
        };
        let expect: Vec<String> = expect.iter().map(|p| format!("{p:?}")).collect();
        let mut got = Vec::new();
        let mut split = LineSplitter::new(max);
        for part in text.as_bytes().chunks(slice) {
            split.push(part, |p| got.push(format!("{p:?}")));
            prop_assert!(split.held() <= max);
        }
        split.finish(|p| got.push(format!("{p:?}")));
        prop_assert_eq!(got, expect);
    }

    #[test]
    fn a_replay_plan_covers_every_record_in_order_in_bounded_batches(
        times in proptest::collection::vec(prop_oneof![0.0f64..100_000.0, Just(f64::NAN)], 0..3000),
        pace in prop_oneof![Just(Pace::Original), Just(Pace::Fast), Just(Pace::Instant)],
    ) {
        let steps = plan(&times, pace);
        let mut start = 0;
        let mut at = 0.0f64;
        for s in &steps {
            prop_assert!(s.end > start && s.end - start <= MAX_BATCH);
            prop_assert!(s.at_ms >= at);
            at = s.at_ms;
            start = s.end;
        }
        prop_assert_eq!(start, times.len());
    }

    #[test]
    fn records_that_came_together_are_cut_into_pieces_within_the_target(
        sizes in proptest::collection::vec(1usize..3000, 0..200),
        target in 1usize..5000,
    ) {
        let ends: Vec<usize> = sizes.iter().scan(0, |at, n| { *at += n; Some(*at) }).collect();
        let pieces = cut(&ends, target);
        let mut at = 0;
        let mut count = 0;
        for (range, n) in &pieces {
            prop_assert_eq!(range.start, at);
            prop_assert!(range.len() <= target || *n == 1);
            prop_assert!(*n > 0);
            at = range.end;
            count += n;
        }
        prop_assert_eq!(at, ends.last().copied().unwrap_or(0));
        prop_assert_eq!(count, ends.len() as u64);
    }

    #[test]
    fn the_recording_never_keeps_more_than_its_bound_and_counts_what_it_dropped(
        bound in 65_536u64..1_000_000,
        chunks in proptest::collection::vec((1u64..100_000, 1u64..500), 0..60),
    ) {
        let mut rec = Recording::default();
        rec.set_bound(bound);
        let mut added = 0;
        for (bytes, count) in chunks {
            let bytes = bytes.min(chunk_target(bound) as u64);
            rec.add_piece(bytes, count);
            added += count;
            rec.trim();
            prop_assert!(rec.bytes() <= rec.bound);
            prop_assert_eq!(rec.count() + rec.dropped, added);
        }
        prop_assert_eq!(Recording::from_json(&rec.to_json()), Some(rec));
    }
}

#[test]
fn a_decoded_payload_is_written_beside_the_payload_and_its_fields_become_columns() {
    let r = Record {
        received_ms: 1_796_061_600_123.0,
        topic: "cbor/dev1".into(),
        payload: Bytes::from_static(&[0xA1, 0x61, b't', 0x18, 21]),
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        properties: None,
    };
    let ok = DecodedOut {
        decoder: "CBOR",
        result: Ok("{\"t\":21}"),
    };
    let mut out = Vec::new();
    write_line_decoded(&mut out, &r, Some(ok));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["decoder"], "CBOR");
    assert_eq!(v["decoded"]["t"], 21);
    assert_eq!(v["encoding"], "base64");
    // The line still reads back as the record it was.
    assert_eq!(read_line(&out, 0.0).unwrap(), r);
    let failed = DecodedOut {
        decoder: "CBOR",
        result: Err("at byte 1: truncated"),
    };
    out.clear();
    write_line_decoded(&mut out, &r, Some(failed));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["decode_error"], "at byte 1: truncated");
    assert!(v.get("decoded").is_none());
    // CSV: the columns come from the decoded JSON.
    let mut cols = FieldColumns::default();
    cols.scan(b"{\"t\":21}");
    let mut row = String::new();
    csv::row_from(&mut row, &r, Some(&cols), b"{\"t\":21}");
    assert!(row.ends_with(",21\r\n"), "{row}");
}

#[test]
fn a_text_payload_is_written_as_text_and_a_binary_one_as_base64_saying_so() {
    let mut r = Record {
        received_ms: 1_796_061_600_123.0,
        topic: "plant/line1/temp".into(),
        payload: Bytes::from_static(b"{\"t\":21.5}"),
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        properties: None,
    };
    assert_eq!(
        String::from_utf8(line_of(&r)).unwrap(),
        "{\"time\":\"2026-11-30T18:00:00.123Z\",\"ms\":1796061600123,\"topic\":\"plant/line1/temp\",\"qos\":1,\"retain\":false,\"dup\":false,\"payload\":\"{\\\"t\\\":21.5}\"}\n"
    );
    r.payload = Bytes::from_static(&[0, 1, 2, 255]);
    let line = String::from_utf8(line_of(&r)).unwrap();
    assert!(
        line.contains("\"payload\":\"AAEC/w==\",\"encoding\":\"base64\""),
        "{line}"
    );
}

#[test]
fn mqtt5_properties_are_written_with_the_spec_names() {
    let r = Record {
        received_ms: 0.5,
        topic: "a".into(),
        payload: Bytes::new(),
        qos: QoS::AtMostOnce,
        retain: true,
        dup: false,
        properties: Some(Box::new(PublishProperties {
            payload_format_indicator: Some(1),
            message_expiry_secs: Some(30),
            content_type: Some("text/plain".into()),
            response_topic: Some("r/1".into()),
            correlation_data: Some(Bytes::from_static(b"\x00\xff")),
            user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
            subscription_identifiers: vec![7],
        })),
    };
    let line = String::from_utf8(line_of(&r)).unwrap();
    assert!(line.contains("\"ms\":0.5"), "{line}");
    assert!(line.contains("\"properties\":{\"payload_format\":1,\"expiry\":30,\"content_type\":\"text/plain\",\"response_topic\":\"r/1\",\"correlation_data\":\"AP8=\",\"user\":[[\"k\",\"v\"],[\"k\",\"w\"]],\"subscription_ids\":[7]}"), "{line}");
}

#[test]
fn the_simple_shape_needs_only_a_topic_and_takes_any_json_payload() {
    let r = read_line(br#"{"topic":"a/b"}"#, 42.0).unwrap();
    assert_eq!(
        (
            r.topic.as_str(),
            r.payload.as_ref(),
            r.qos,
            r.retain,
            r.received_ms
        ),
        ("a/b", &b""[..], QoS::AtMostOnce, false, 42.0)
    );
    let r = read_line(
        br#"{"topic":"a","payload":{"t": [1, 2.5]},"qos":2,"retain":true}"#,
        0.0,
    )
    .unwrap();
    assert_eq!(r.payload.as_ref(), br#"{"t": [1, 2.5]}"#);
    assert_eq!((r.qos, r.retain), (QoS::ExactlyOnce, true));
    let r = read_line(
        br#"{"topic":"a","payload":21.5,"time":"2026-11-30T18:00:00.123Z"}"#,
        0.0,
    )
    .unwrap();
    assert_eq!(
        (r.payload.as_ref(), r.received_ms),
        (&b"21.5"[..], 1_796_061_600_123.0)
    );
    let r = read_line(
        br#"{"topic":"a","payload":"<script>alert(1)</script>"}"#,
        0.0,
    )
    .unwrap();
    assert_eq!(r.payload.as_ref(), b"<script>alert(1)</script>");
}

#[test]
fn lines_without_a_time_are_100_ms_apart_from_the_line_before() {
    let mut imp = Importer::new(1000.0);
    let mut out = Vec::new();
    assert_eq!(imp.line(br#"{"topic":"a"}"#, &mut out), Some(1000.0));
    assert_eq!(
        imp.line(br#"{"topic":"a","ms":5000}"#, &mut out),
        Some(5000.0)
    );
    assert_eq!(imp.line(b"", &mut out), None);
    assert_eq!(imp.line(br#"{"topic":"a"}"#, &mut out), Some(5100.0));
    assert_eq!(imp.summary().lines, 4);
    assert_eq!((imp.summary().good, imp.summary().bad), (3, 0));
}

#[test]
fn hostile_lines_are_bad_lines_with_a_reason() {
    for (line, says) in [
        ("<html><script>alert(1)</script>", "not a JSON object"),
        ("{<html>", "not valid JSON"),
        ("[1,2,3]", "not a JSON object"),
        ("\"topic\"", "not a JSON object"),
        (r#"{"payload":"x"}"#, "missing field `topic`"),
        (r#"{"topic":5}"#, "invalid type"),
        (r#"{"topic":"a/#"}"#, "cannot be kept"),
        (r#"{"topic":""}"#, "cannot be kept"),
        (r#"{"topic":"a\u0000b"}"#, "cannot be kept"),
        (r#"{"topic":"a","qos":3}"#, "qos 3 is not 0, 1 or 2"),
        (r#"{"topic":"a","qos":-1}"#, "invalid value"),
        (r#"{"topic":"a","retain":"yes"}"#, "invalid type"),
        (r#"{"topic":"a","ms":1e999}"#, "not a finite number"),
        (r#"{"topic":"a","ms":"5"}"#, "not a finite number"),
        (
            r#"{"topic":"a","time":"yesterday"}"#,
            "not an ISO 8601 time",
        ),
        (
            r#"{"topic":"a","payload":"%%%","encoding":"base64"}"#,
            "not valid base64",
        ),
        (
            r#"{"topic":"a","payload":5,"encoding":"base64"}"#,
            "must be a string",
        ),
        (r#"{"topic":"a","encoding":"rot13"}"#, "unknown"),
        (
            r#"{"topic":"a","properties":{"payload_format":2}}"#,
            "cannot be kept",
        ),
        (
            r#"{"topic":"a","properties":{"subscription_ids":[0]}}"#,
            "cannot be kept",
        ),
        (
            r#"{"topic":"a","properties":{"response_topic":"r/+"}}"#,
            "cannot be kept",
        ),
        (
            r#"{"topic":"a","properties":{"user":[["a"]]}}"#,
            "invalid length",
        ),
        (r#"{"topic":"a","topic":"b"}"#, "duplicate field"),
        (r#"{"topic":"a","payload":"\ud800"}"#, "escape"),
        ("{\"topic\":\"a\"} trailing", "trailing characters"),
    ] {
        let why = bad_reason(line);
        assert!(why.contains(says), "{line} → {why}");
    }
    let topic_too_long = format!(r#"{{"topic":"{}"}}"#, "a".repeat(70_000));
    assert!(bad_reason(&topic_too_long).contains("cannot be kept"));
}

#[test]
fn a_nested_depth_bomb_is_a_bad_line_not_a_stack_overflow() {
    let bomb = format!(
        r#"{{"topic":"a","payload":{}1{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(bad_reason(&bomb).contains("nests deeper than 128"));
    let ok = format!(
        r#"{{"topic":"a","payload":{}"[[[["{}}}"#,
        "[".repeat(128),
        "]".repeat(128)
    );
    assert_eq!(read_line(ok.as_bytes(), 0.0).err(), None);
    // An unknown field is skipped by serde_json without recursing: no
    // stack to overflow, and nothing of it is kept.
    let bomb_elsewhere = format!(
        r#"{{"topic":"a","x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        read_line(bomb_elsewhere.as_bytes(), 0.0)
            .unwrap()
            .payload
            .len(),
        0
    );
}

#[test]
fn invalid_utf8_and_nul_bytes_are_bad_lines() {
    assert!(read_line(b"{\"topic\":\"a\xff\"}", 0.0).is_err());
    assert!(read_line(b"{\"topic\":\"a\0\"}", 0.0).is_err());
    assert!(read_line(b"\0\0\0", 0.0).is_err());
}

#[test]
fn the_importer_numbers_bad_lines_and_keeps_the_first_twenty_and_five_reasons() {
    let mut imp = Importer::new(0.0);
    let mut out = Vec::new();
    for i in 0..30 {
        if i % 2 == 0 {
            imp.line(b"nope\r", &mut out);
        } else {
            imp.line(br#"{"topic":"ok"}"#, &mut out);
        }
    }
    imp.too_long(20_000_000, crate::MAX_LINE);
    let s = imp.summary();
    assert_eq!((s.lines, s.good, s.bad), (31, 15, 16));
    assert_eq!(s.bad_lines.len(), 16);
    assert_eq!(&s.bad_lines[..3], &[1, 3, 5]);
    assert_eq!(*s.bad_lines.last().unwrap(), 31);
    assert_eq!(s.errors.len(), 5);
    assert!(
        s.errors[0].starts_with("line 1: not a JSON object"),
        "{}",
        s.errors[0]
    );
    assert_eq!(record::decode(out).count(), 15);
}

#[test]
fn a_line_over_the_limit_is_reported_with_its_length_and_never_held() {
    let mut split = LineSplitter::new(10);
    let mut got = Vec::new();
    split.push(b"short\n0123456789", |p| got.push(format!("{p:?}")));
    split.push(b"0123456789", |p| got.push(format!("{p:?}")));
    assert_eq!(split.held(), 0);
    split.push(b"xx\nlast", |p| got.push(format!("{p:?}")));
    split.finish(|p| got.push(format!("{p:?}")));
    assert_eq!(
        got,
        vec![
            format!("{:?}", Piece::Line(b"short")),
            format!("{:?}", Piece::TooLong(22)),
            format!("{:?}", Piece::Line(b"last")),
        ]
    );
}

#[test]
fn csv_quotes_what_needs_quoting_and_ends_lines_with_crlf() {
    let r = Record {
        received_ms: 1_796_061_600_123.0,
        topic: "a,b".into(),
        payload: Bytes::from_static(b"say \"hi\"\nthere"),
        qos: QoS::AtMostOnce,
        retain: true,
        dup: false,
        properties: None,
    };
    let mut out = csv::header(None);
    csv::row(&mut out, &r, None);
    assert_eq!(
        out,
        "time,ms,topic,qos,retain,dup,encoding,payload\r\n2026-11-30T18:00:00.123Z,1796061600123,\"a,b\",0,true,false,,\"say \"\"hi\"\"\nthere\"\r\n"
    );
    let mut out = String::new();
    let bin = Record {
        payload: Bytes::from_static(&[0xff]),
        topic: "t".into(),
        ..r
    };
    csv::row(&mut out, &bin, None);
    assert!(out.ends_with(",base64,/w==\r\n"), "{out}");
}

#[test]
fn csv_cells_a_spreadsheet_would_run_as_formulas_start_with_a_quote_and_numbers_stay_numbers() {
    let cell = |s: &str| {
        let mut out = String::new();
        csv::field(&mut out, s);
        out
    };
    assert_eq!(
        cell("=HYPERLINK(\"http://x\")"),
        "\"'=HYPERLINK(\"\"http://x\"\")\""
    );
    assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
    assert_eq!(cell("+w=="), "\"'+w==\"");
    assert_eq!(cell("-cmd|' /C calc'!A0"), "\"'-cmd|' /C calc'!A0\"");
    assert_eq!(cell("\tx"), "\"'\tx\"");
    assert_eq!(cell("\rx"), "\"'\rx\"");
    assert_eq!(cell("-inf"), "\"'-inf\"");
    for number in ["-5", "+1.5e3", "-0.25", "42"] {
        assert_eq!(cell(number), number);
    }
    assert_eq!(cell("a=b"), "a=b");
    // A topic, a payload and a JSON key in a whole export.
    let r = Record {
        received_ms: 0.0,
        topic: "=t".into(),
        payload: Bytes::from_static(b"{\"=k\": 1}"),
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        properties: None,
    };
    let mut cols = csv::FieldColumns::default();
    cols.scan(&r.payload);
    let mut out = csv::header(Some(&cols));
    csv::row(&mut out, &r, Some(&cols));
    assert!(
        out.starts_with("time,ms,topic,qos,retain,dup,encoding,payload,\"'=k\"\r\n"),
        "{out}"
    );
    assert!(out.contains(",\"'=t\",0,"), "{out}");
}

#[test]
fn csv_field_columns_are_named_by_path_and_empty_where_a_message_has_none() {
    let rec = |p: &'static [u8]| Record {
        received_ms: 0.0,
        topic: "t".into(),
        payload: Bytes::from_static(p),
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        properties: None,
    };
    let a = rec(br#"{"temp":21.5,"name":"x","sensors":[{"value":3}]}"#);
    let b = rec(br#"{"hum":40}"#);
    let c = rec(b"not json");
    let mut fields = FieldColumns::default();
    for r in [&a, &b, &c] {
        fields.scan(&r.payload);
    }
    // First seen first; the keys of one object in sorted order.
    assert_eq!(fields.paths(), &["sensors.0.value", "temp", "hum"]);
    let mut out = csv::header(Some(&fields));
    assert!(out.ends_with(",payload,sensors.0.value,temp,hum\r\n"));
    out.clear();
    csv::row(&mut out, &a, Some(&fields));
    assert!(out.ends_with(",3,21.5,\r\n"), "{out}");
    out.clear();
    csv::row(&mut out, &c, Some(&fields));
    assert!(out.ends_with(",not json,,,\r\n"), "{out}");
}

#[test]
fn csv_field_columns_stop_at_their_bound() {
    let many: String = format!(
        "{{{}}}",
        (0..600)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut fields = FieldColumns::default();
    fields.scan(many.as_bytes());
    assert_eq!(fields.paths().len(), csv::MAX_FIELD_COLUMNS);
    assert_eq!(fields.left_out(), 100);
}

#[test]
fn an_original_replay_groups_records_within_a_frame_and_keeps_the_gaps() {
    let steps = plan(&[1000.0, 1005.0, 1020.0, 2000.0, 1500.0], Pace::Original);
    let got: Vec<(f64, usize)> = steps.iter().map(|s| (s.at_ms, s.end)).collect();
    assert_eq!(got, vec![(0.0, 2), (20.0, 3), (1000.0, 5)]);
    let fast: Vec<(f64, usize)> = plan(&[0.0, 1000.0], Pace::Fast)
        .iter()
        .map(|s| (s.at_ms, s.end))
        .collect();
    assert_eq!(fast, vec![(0.0, 1), (100.0, 2)]);
}

#[test]
fn an_instant_replay_sends_at_most_5000_records_a_frame() {
    let steps = plan(&vec![0.0; 12_001], Pace::Instant);
    let got: Vec<(f64, usize)> = steps.iter().map(|s| (s.at_ms, s.end)).collect();
    assert_eq!(got, vec![(0.0, 5000), (16.0, 10_000), (32.0, 12_001)]);
    assert!(plan(&[], Pace::Original).is_empty());
    assert_eq!(Pace::parse("fast"), Some(Pace::Fast));
    assert_eq!(Pace::parse("slow"), None);
}

#[test]
fn the_recording_drops_its_oldest_chunks_over_the_bound() {
    let mut rec = Recording::default();
    rec.set_bound(100_000);
    let a = rec.add(40_000, 10);
    let b = rec.add(40_000, 20);
    assert!(rec.trim().is_empty());
    rec.add(40_000, 30);
    assert_eq!(rec.trim(), vec![a]);
    assert_eq!((rec.bytes(), rec.count(), rec.dropped), (80_000, 50, 10));
    rec.set_bound(1);
    assert_eq!(rec.bound, crate::bound::MIN_BOUND);
    assert_eq!(rec.trim(), vec![b]);
    assert_eq!(rec.clear().len(), 1);
    assert_eq!((rec.bytes(), rec.count(), rec.dropped), (0, 0, 0));
    assert_eq!(Recording::from_json("{not json"), None);
}

#[test]
fn pieces_fill_the_newest_chunk_up_to_its_target_then_start_another() {
    let mut rec = Recording::default();
    rec.set_bound(1_000_000);
    let target = chunk_target(1_000_000) as u64;
    assert_eq!(rec.add_piece(target - 1, 3), (1, 0));
    assert_eq!(rec.add_piece(10, 2), (1, 1));
    assert_eq!(rec.add_piece(10, 1), (2, 0));
    assert_eq!(rec.chunks[0].count, 5);
    assert_eq!(rec.chunks[0].pieces, 2);
    assert_eq!((rec.bytes(), rec.count()), (target + 19, 6));
    let mut tiny = Recording::default();
    for i in 0..crate::bound::MAX_PIECES {
        assert_eq!(tiny.add_piece(1, 1), (1, i));
    }
    assert_eq!(tiny.add_piece(1, 1), (2, 0));
}

#[test]
fn a_prefix_rewrite_moves_topics_under_it_and_refuses_the_rest() {
    assert_eq!(
        rewrite("plant/a", "plant/", "test/plant/"),
        Ok("test/plant/a".into())
    );
    assert_eq!(rewrite("plant/a", "", "ignored/"), Ok("plant/a".into()));
    assert!(rewrite("other/a", "plant/", "x/")
        .unwrap_err()
        .contains("does not start with"));
    assert!(rewrite("plant/a", "plant/", "x/#/")
        .unwrap_err()
        .contains("not a topic name"));
    assert!(rewrite("plant", "plant", "").is_err());
}
