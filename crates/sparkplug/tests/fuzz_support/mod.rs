//! Stable-toolchain fuzz harness for the Sparkplug decoder, and its hostile
//! table: a seeded generator of executions (a corpus payload or hostile
//! case, mutated at the byte level or through the schema, published on a
//! random Sparkplug topic) run against one `Sparkplug` state that persists
//! across executions, so births, deaths, aliases and sequence numbers of
//! earlier executions shape later ones.
//!
//! Shared by `examples/fuzz.rs` (the long release run) and `tests/fuzz.rs`
//! (a short run in every `cargo test`); `tests/hostile.rs` checks each
//! hostile case's outcome. The corpus is `tests/vectors/*.bin` (from the
//! Python encoder) plus the hostile payloads. Every execution is bounded
//! (payloads of at most a few KiB), so a hang is a bug. A broken check
//! panics with a message; the caller reports the seed and execution index.
//!
//! Nothing here is compiled into the library.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use prost::Message as _;
use sparkplug::proto::{payload, Payload};
use sparkplug::Sparkplug;

/// A small, fast, seedable generator (splitmix64): reproducible from one u64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The seed of execution `index` of a run started from `seed`.
pub fn execution_seed(seed: u64, index: u64) -> u64 {
    let mut r = Rng::new(seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
    r.next_u64()
}

// ---- a hand encoder for hostile inputs (the inputs, never expectations) ----

/// A varint.
pub fn varint(mut v: u64) -> Vec<u8> {
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

/// A field key.
pub fn key(field: u32, wire: u8) -> Vec<u8> {
    varint((u64::from(field) << 3) | u64::from(wire))
}

/// A length-delimited field.
pub fn ld(field: u32, body: &[u8]) -> Vec<u8> {
    let mut out = key(field, 2);
    out.extend(varint(body.len() as u64));
    out.extend_from_slice(body);
    out
}

/// A varint field.
pub fn vfield(field: u32, v: u64) -> Vec<u8> {
    let mut out = key(field, 0);
    out.extend(varint(v));
    out
}

/// A payload with one metric nested `levels` templates deep.
pub fn nested_templates(levels: usize) -> Vec<u8> {
    // The innermost metric: name "leaf", Double 1.5.
    let mut metric = ld(1, b"leaf");
    metric.extend(vfield(4, 10));
    metric.extend(key(13, 1));
    metric.extend(1.5f64.to_le_bytes());
    for i in 0..levels {
        let template = ld(2, &metric); // Template.metrics
        metric = ld(1, format!("t{i}").as_bytes());
        metric.extend(vfield(4, 19)); // datatype Template
        metric.extend(ld(18, &template)); // template_value
    }
    let mut p = vfield(3, 0); // seq 0
    p.extend(ld(2, &metric));
    p
}

/// One hostile case: a topic, a payload, and what must come of it.
pub struct Hostile {
    /// File-name-safe name.
    pub name: &'static str,
    /// The topic it is published on.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// An error at this offset whose reason contains the text, or `None`
    /// for a payload that must decode.
    pub error: Option<(Option<usize>, &'static str)>,
}

const T_NDATA: &str = "spBv1.0/G/NDATA/N";

/// The hostile table: one case per rule of the decoder.
pub fn hostile_cases() -> Vec<Hostile> {
    let mut cases = Vec::new();
    let mut add = |name, topic: &str, payload: Vec<u8>, error| {
        cases.push(Hostile {
            name,
            topic: topic.to_owned(),
            payload,
            error,
        })
    };
    // Payload.timestamp whose varint never ends.
    add(
        "truncated-varint",
        T_NDATA,
        [vec![0x08], vec![0xff, 0xff, 0xff]].concat(),
        Some((Some(1), "truncated varint")),
    );
    // A truncated key right after a good field.
    add(
        "truncated-key",
        T_NDATA,
        [vfield(3, 1), vec![0x80]].concat(),
        Some((Some(2), "truncated varint")),
    );
    add(
        "varint-longer-than-64-bits",
        T_NDATA,
        [vec![0x08], vec![0xff; 10], vec![0x01]].concat(),
        Some((Some(1), "longer than 64 bits")),
    );
    // Payload.metrics with a length of 2^62.
    add(
        "length-2-pow-62",
        T_NDATA,
        [key(2, 2), varint(1 << 62), vec![0; 8]].concat(),
        Some((Some(1), "runs past the end")),
    );
    // A metric name with a length of 2^62 inside a good metric length.
    let inner = [key(1, 2), varint(1 << 62), b"abc".to_vec()].concat();
    add(
        "nested-length-2-pow-62",
        T_NDATA,
        [key(2, 2), varint(inner.len() as u64), inner].concat(),
        Some((Some(3), "runs past the end")),
    );
    add(
        "length-max-u64",
        T_NDATA,
        [key(5, 2), varint(u64::MAX)].concat(),
        Some((Some(1), "runs past the end")),
    );
    add(
        "template-nesting-200-deep",
        T_NDATA,
        nested_templates(200),
        Some((None, "nested deeper than 100")),
    );
    add(
        "invalid-utf8-in-a-name",
        T_NDATA,
        ld(2, &ld(1, b"ok\xff")),
        Some((Some(6), "invalid UTF-8 in Metric.name")),
    );
    add(
        "wrong-wire-type-for-a-known-field",
        T_NDATA,
        ld(2, &vfield(1, 7)),
        Some((Some(2), "Metric.name has wire type varint")),
    );
    add(
        "field-number-zero",
        T_NDATA,
        vec![0x00, 0x01],
        Some((Some(0), "field number 0")),
    );
    add(
        "unexpected-end-group",
        T_NDATA,
        key(9, 4),
        Some((Some(0), "end-group")),
    );
    add(
        "truncated-double",
        T_NDATA,
        ld(2, &[key(13, 1), vec![0; 3]].concat()),
        Some((Some(3), "truncated 64-bit value")),
    );
    add(
        "state-that-is-not-json",
        "spBv1.0/STATE/host",
        b"{\"online\":tru".to_vec(),
        Some((Some(12), "neither ONLINE, OFFLINE nor JSON")),
    );
    add(
        "state-without-online",
        "spBv1.0/STATE/host",
        b"{\"timestamp\":1}".to_vec(),
        Some((None, "no boolean \"online\"")),
    );
    // Decodes, with what is wrong said in the output.
    add(
        "template-nesting-40-deep",
        T_NDATA,
        nested_templates(40),
        None,
    );
    add(
        "ddata-before-any-birth",
        "spBv1.0/G/DDATA/N/D",
        [vfield(3, 9), ld(2, &[vfield(2, 7), vfield(10, 5)].concat())].concat(),
        None,
    );
    add(
        "alias-collision-in-a-birth",
        "spBv1.0/G/NBIRTH/N",
        [
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
        .concat(),
        None,
    );
    add(
        "boolean-array-count-beyond-its-bits",
        T_NDATA,
        ld(
            2,
            &[
                ld(1, b"b"),
                vfield(4, 32),
                ld(16, &[0xff, 0xff, 0, 0, 0x01]),
            ]
            .concat(),
        ),
        None,
    );
    add("empty-payload", T_NDATA, Vec::new(), None);
    add("seq-above-255", T_NDATA, vfield(3, 300), None);
    cases
}

/// The directory of the seed corpus (the Python encoder's vectors).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// The seed corpus: every `.bin` in `dir`, sorted by name.
pub fn load_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    std::fs::read(e.path()).ok().map(|b| (name, b))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Counts of one run.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub executions: u64,
    pub ok: u64,
    pub errors: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub births: u64,
    pub unresolved: u64,
    pub gaps: u64,
    pub out_of_order: u64,
}

impl Stats {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &Stats) {
        self.executions += o.executions;
        self.ok += o.ok;
        self.errors += o.errors;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.births += o.births;
        self.unresolved += o.unresolved;
        self.gaps += o.gaps;
        self.out_of_order += o.out_of_order;
    }
}

const KINDS: [&str; 8] = [
    "NBIRTH", "NDATA", "NDEATH", "NCMD", "DBIRTH", "DDATA", "DDEATH", "DCMD",
];

/// A random Sparkplug topic among few groups, nodes and devices, so the
/// state's entries are hit again and again; now and then a STATE topic or
/// one that is not Sparkplug.
fn topic(r: &mut Rng) -> String {
    let group = *r.pick(&["G", "Plant 1"]);
    let node = *r.pick(&["N", "Edge-1", "Edge-2"]);
    let device = *r.pick(&["D", "Pump-7", "Motor 2"]);
    match r.below(100) {
        0..=2 => format!("spBv1.0/STATE/{}", r.pick(&["h1", "h2"])),
        3 => format!("STATE/{}", r.pick(&["h1", "h2"])),
        4 => "spBv1.0/G/NDATA".to_owned(),
        _ => {
            let kind = *r.pick(&KINDS);
            if kind.starts_with('D') {
                format!("spBv1.0/{group}/{kind}/{node}/{device}")
            } else {
                format!("spBv1.0/{group}/{kind}/{node}")
            }
        }
    }
}

const INTERESTING: [u64; 12] = [
    0,
    1,
    127,
    128,
    255,
    256,
    0xFFFF_FFFF,
    1 << 32,
    1 << 62,
    u64::MAX,
    u64::MAX - 1,
    0x7FFF_FFFF_FFFF_FFFF,
];

/// Byte-level mutations (flips, sets, inserts, deletes, duplications,
/// splices, truncations, interesting varints).
fn mutate_bytes(r: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=r.below(3) {
        let len = data.len() as u64;
        match r.below(9) {
            0 if len > 0 => {
                let i = r.below(len) as usize;
                data[i] ^= 1 << r.below(8);
            }
            1 if len > 0 => {
                let i = r.below(len) as usize;
                data[i] = *r.pick(&[0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x12, 0x0a]);
            }
            2 => {
                let i = r.below(len + 1) as usize;
                let n = r.below(8) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
                data.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = r.below(len) as usize;
                let n = (r.below(16) as usize).min(data.len() - i);
                data.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = r.below(len) as usize;
                let n = (r.below(64) as usize).min(data.len() - i);
                let copy = data[i..i + n].to_vec();
                let at = r.below(data.len() as u64 + 1) as usize;
                data.splice(at..at, copy);
            }
            5 => {
                let other = r.pick(corpus);
                if !other.is_empty() {
                    let i = r.below(other.len() as u64) as usize;
                    let n = (r.below(128) as usize).min(other.len() - i);
                    let at = r.below(data.len() as u64 + 1) as usize;
                    data.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            6 if len > 0 => data.truncate(r.below(len) as usize),
            7 => {
                let i = r.below(len + 1) as usize;
                let v = varint(*r.pick(&INTERESTING));
                data.splice(i..i, v);
            }
            _ => {
                // A whole new field with an interesting number and length.
                let at = r.below(len + 1) as usize;
                let field = r.below(21) as u32;
                let mut f = key(field, r.below(8) as u8);
                f.extend(varint(*r.pick(&INTERESTING)));
                data.splice(at..at, f);
            }
        }
        if data.len() > 16 * 1024 {
            data.truncate(16 * 1024);
        }
    }
}

/// Mutations through the schema: decoded, changed, encoded again, so that
/// valid payloads reach the renderer with odd datatypes, missing names,
/// odd aliases and sequence numbers.
fn mutate_schema(r: &mut Rng, data: &[u8]) -> Option<Vec<u8>> {
    let mut p = Payload::decode(data).ok()?;
    if r.chance(30) {
        p.seq = match r.below(4) {
            0 => None,
            1 => Some(r.below(256)),
            2 => Some(*r.pick(&INTERESTING)),
            _ => p.seq.map(|s| s.wrapping_add(1 + r.below(3))),
        };
    }
    for m in p.metrics.iter_mut() {
        if r.chance(15) {
            m.datatype = Some(r.below(40) as u32);
        }
        if r.chance(20) {
            m.name = None;
        }
        if r.chance(10) {
            m.alias = Some(r.below(8));
        }
        if r.chance(5) {
            m.is_null = Some(true);
        }
        if r.chance(10) {
            use payload::metric::Value;
            m.value = Some(match r.below(7) {
                0 => Value::IntValue(r.next_u64() as u32),
                1 => Value::LongValue(*r.pick(&INTERESTING)),
                2 => Value::FloatValue(f32::from_bits(r.next_u64() as u32)),
                3 => Value::DoubleValue(f64::from_bits(r.next_u64())),
                4 => Value::BooleanValue(r.chance(50)),
                5 => Value::StringValue("s\u{0}\u{1f}\"\\é".to_owned()),
                _ => Value::BytesValue((0..r.below(20)).map(|_| r.next_u64() as u8).collect()),
            });
        }
    }
    if r.chance(10) && !p.metrics.is_empty() {
        let i = r.below(p.metrics.len() as u64) as usize;
        let m = p.metrics[i].clone();
        p.metrics.push(m);
    }
    Some(p.encode_to_vec())
}

/// The inputs of one execution.
pub fn input(seed: u64, corpus: &Corpus) -> (String, Vec<u8>) {
    let mut r = Rng::new(seed);
    // Mostly the encoder's vectors (valid Sparkplug), else a hostile case.
    let from = if r.chance(80) && corpus.vectors > 0 {
        &corpus.payloads[..corpus.vectors]
    } else {
        &corpus.payloads[..]
    };
    let mut data = r.pick(from).clone();
    let corpus = &corpus.payloads[..];
    match r.below(10) {
        0 => {}
        1..=4 => {
            if let Some(d) = mutate_schema(&mut r, &data) {
                data = d;
            }
        }
        5 => {
            if let Some(d) = mutate_schema(&mut r, &data) {
                data = d;
            }
            mutate_bytes(&mut r, &mut data, corpus);
        }
        _ => mutate_bytes(&mut r, &mut data, corpus),
    }
    (topic(&mut r), data)
}

/// Checks one output: JSON that serde_json reads, an object.
pub fn check_output(topic: &str, payload: &[u8], result: &Result<String, sparkplug::DecodeError>) {
    match result {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("output is not JSON ({e}): {text}"));
            assert!(v.is_object(), "output is not an object: {text}");
            assert!(v.get("message_type").is_some(), "{text}");
        }
        Err(e) => {
            assert!(!e.reason.is_empty(), "{topic}: empty reason");
            if let Some(o) = e.offset {
                assert!(
                    o <= payload.len(),
                    "{topic}: offset {o} beyond {} bytes",
                    payload.len()
                );
            }
            assert!(!e.to_string().is_empty());
        }
    }
}

/// Runs one execution against the persistent state `sp`.
pub fn run_one(seed: u64, corpus: &Corpus, sp: &mut Sparkplug, trace: bool) -> Stats {
    let (topic, payload) = input(seed, corpus);
    if trace {
        eprintln!(
            "topic {topic:?}, payload {} bytes: {payload:02x?}",
            payload.len()
        );
    }
    let result = sp.decode(&topic, &payload, seed as f64);
    if trace {
        eprintln!("-> {result:?}");
    }
    check_output(&topic, &payload, &result);
    let mut s = Stats {
        executions: 1,
        bytes_in: payload.len() as u64,
        ..Stats::default()
    };
    match &result {
        Ok(text) => {
            s.ok = 1;
            s.bytes_out = text.len() as u64;
            s.births = u64::from(
                text.starts_with("{\"message_type\":\"NBIRTH\"")
                    || text.starts_with("{\"message_type\":\"DBIRTH\""),
            );
            s.unresolved = u64::from(text.contains("\"unresolved_aliases\":"));
            s.gaps = u64::from(text.contains("\"status\":\"gap\""));
            s.out_of_order = u64::from(text.contains("\"status\":\"out of order\""));
        }
        Err(_) => s.errors = 1,
    }
    if seed.is_multiple_of(64) {
        let nodes = sp.nodes_json();
        let v: serde_json::Value =
            serde_json::from_str(&nodes).unwrap_or_else(|e| panic!("nodes_json: {e}: {nodes}"));
        assert!(v["nodes"].is_array() && v["hosts"].is_array(), "{nodes}");
    }
    s
}

/// The corpus of a run: the vectors, then the hostile payloads.
pub struct Corpus {
    /// Every payload.
    pub payloads: Vec<Vec<u8>>,
    /// How many of them (the first) are the encoder's vectors.
    pub vectors: usize,
}

/// The corpus of a run: the vectors and the hostile payloads.
pub fn full_corpus() -> Corpus {
    let mut payloads: Vec<Vec<u8>> = load_corpus(&corpus_dir())
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let vectors = payloads.len();
    payloads.extend(hostile_cases().into_iter().map(|h| h.payload));
    Corpus { payloads, vectors }
}
