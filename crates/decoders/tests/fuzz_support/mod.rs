//! The decoders' fuzzer on the stable toolchain (cargo-fuzz needs nightly):
//! seeded executions, each from its own 64-bit seed so any one can be
//! replayed alone, that build a payload (a corpus file, a generated
//! well-formed item or random bytes), mutate it, decode it and check:
//!
//! - no panic (the callers run each execution under `catch_unwind`);
//! - an `Ok` output is JSON that serde_json reads (so the page's reader,
//!   which follows serde_json's rules and depth limit, reads it too);
//! - an `Err` has a reason and, if it names a byte, a byte inside the payload;
//! - decoding the same payload twice gives the same result.
//!
//! Used by `examples/fuzz.rs` (long runs) and `tests/fuzz.rs` (a short run in
//! every `cargo test`). Test support only: it may panic to report a failure.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use decoders::protobuf_schema::Schema;
use decoders::DecodeError;

/// The decoders the fuzzer drives.
pub const DECODERS: [&str; 4] = ["cbor", "msgpack", "protobuf_raw", "protobuf_schema"];

/// Message types of the fixed test schema the schema decoder is fuzzed with.
pub const SCHEMA_TYPES: [&str; 5] = [
    "mqdash.test.Reading",
    "mqdash.test.Node",
    "mqdash.test.Power",
    "mqdash.common.Location",
    "mqdash.raw.Raw",
];

/// The fixed schema: the descriptor set protoc wrote for the vectors.
pub fn test_schema() -> Schema {
    let bytes = include_bytes!("../vectors/schema/mqdash_test.desc");
    match Schema::from_descriptor_set(bytes) {
        Ok(s) => s,
        Err(e) => panic!("the test schema does not load: {e}"),
    }
}

/// SplitMix64: small, fast and good enough to drive mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// The seed of execution `i` of a run seeded with `seed`.
pub fn execution_seed(seed: u64, i: u64) -> u64 {
    let mut r = Rng::new(seed ^ i.wrapping_mul(0xd6e8_feb8_6659_fd93));
    r.next()
}

/// `fuzz-corpus/` of this crate.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus")
}

/// The corpus files for one decoder (`fuzz-corpus/<dir>/*.bin`), sorted by
/// name; the schema decoder shares the raw Protobuf corpus.
pub fn load_corpus(dir: &Path, decoder: &str) -> Vec<Vec<u8>> {
    let sub = if decoder.starts_with("protobuf") {
        "protobuf"
    } else {
        decoder
    };
    let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// What the corpus is made of: the committed vectors of up to 512 bytes,
/// by corpus directory and file name.
pub fn expected_corpus() -> Vec<(String, String, Vec<u8>)> {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut out = Vec::new();
    for (from, to) in [
        ("cbor", "cbor"),
        ("msgpack", "msgpack"),
        ("protobuf_raw", "protobuf"),
        ("schema", "protobuf"),
    ] {
        let Ok(entries) = std::fs::read_dir(vectors.join(from)) else {
            continue;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".bin") {
                continue;
            }
            if let Ok(bytes) = std::fs::read(e.path()) {
                if bytes.len() <= 512 {
                    out.push((to.to_string(), format!("{from}-{name}"), bytes));
                }
            }
        }
    }
    out.sort();
    out
}

// --- generators of well-formed items ------------------------------------------

fn cbor_head(out: &mut Vec<u8>, major: u8, v: u64, r: &mut Rng) {
    // Sometimes a longer head than needed (well-formed, not canonical).
    let width = if r.chance(10) { r.below(4) as u8 } else { 9 };
    let m = major << 5;
    if v < 24 && width == 9 {
        out.push(m | v as u8);
    } else if v <= 0xff && (width == 9 || width == 0) {
        out.extend([m | 24, v as u8]);
    } else if v <= 0xffff && (width == 9 || width <= 1) {
        out.push(m | 25);
        out.extend((v as u16).to_be_bytes());
    } else if v <= 0xffff_ffff && width != 3 {
        out.push(m | 26);
        out.extend((v as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend(v.to_be_bytes());
    }
}

fn small(r: &mut Rng) -> u64 {
    match r.below(4) {
        0 => r.below(24),
        1 => r.below(256),
        2 => r.below(70_000),
        _ => r.next() >> r.below(64),
    }
}

/// A random well-formed CBOR item.
pub fn gen_cbor(r: &mut Rng, out: &mut Vec<u8>, depth: u32) {
    let leaf = depth == 0 || r.chance(40);
    match if leaf { r.below(6) } else { 6 + r.below(4) } {
        0 => cbor_head(out, 0, small(r), r),
        1 => cbor_head(out, 1, small(r), r),
        2 => {
            let n = r.below(20);
            cbor_head(out, 2, n, r);
            out.extend((0..n).map(|_| r.byte()));
        }
        3 => {
            let s = ["", "a", "temp", "\u{e9}\u{2713}", "\"\\\n\u{1}"][r.below(5) as usize];
            cbor_head(out, 3, s.len() as u64, r);
            out.extend(s.as_bytes());
        }
        4 => match r.below(4) {
            0 => {
                out.push(0xf9);
                out.extend((r.next() as u16).to_be_bytes());
            }
            1 => {
                out.push(0xfa);
                out.extend((r.next() as u32).to_be_bytes());
            }
            2 => {
                out.push(0xfb);
                out.extend(r.next().to_be_bytes());
            }
            _ => out.push(0xe0 | r.below(24) as u8),
        },
        5 => {
            // Indefinite byte or text string.
            let major = 2 + r.below(2) as u8;
            out.push(major << 5 | 31);
            for _ in 0..r.below(4) {
                out.push(major << 5 | 1);
                out.push(b'a' + r.below(26) as u8);
            }
            out.push(0xff);
        }
        6 => {
            let n = r.below(5);
            let indefinite = r.chance(20);
            if indefinite {
                out.push(0x9f);
            } else {
                cbor_head(out, 4, n, r);
            }
            for _ in 0..n {
                gen_cbor(r, out, depth - 1);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        7 => {
            let n = r.below(4);
            let indefinite = r.chance(20);
            if indefinite {
                out.push(0xbf);
            } else {
                cbor_head(out, 5, n, r);
            }
            for _ in 0..2 * n {
                gen_cbor(r, out, depth - 1);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        8 => {
            let tag = [0, 1, 2, 3, 24, 32, 55799, r.next()][r.below(8) as usize];
            cbor_head(out, 6, tag, r);
            gen_cbor(r, out, depth - 1);
        }
        _ => {
            // A chain of nested arrays, sometimes past the depth limit.
            let n = r.below(130) as usize;
            out.extend(std::iter::repeat_n(0x81, n));
            gen_cbor(r, out, 0);
        }
    }
}

/// A random well-formed MessagePack value.
pub fn gen_msgpack(r: &mut Rng, out: &mut Vec<u8>, depth: u32) {
    let leaf = depth == 0 || r.chance(40);
    match if leaf { r.below(8) } else { 8 + r.below(3) } {
        0 => out.push(r.below(0x80) as u8),
        1 => out.push(0xe0 | r.below(32) as u8),
        2 => {
            let b = 0xcc + r.below(8) as u8;
            out.push(b);
            let n = 1usize << ((b - 0xcc) % 4);
            out.extend((0..n).map(|_| r.byte()));
        }
        3 => out.push([0xc0, 0xc2, 0xc3][r.below(3) as usize]),
        4 => {
            if r.chance(50) {
                out.push(0xca);
                out.extend((r.next() as u32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend(r.next().to_be_bytes());
            }
        }
        5 => {
            let n = r.below(40) as usize;
            if n < 32 && r.chance(70) {
                out.push(0xa0 | n as u8);
            } else {
                out.extend([0xd9, n as u8]);
            }
            out.extend((0..n).map(|_| {
                if r.chance(90) {
                    b'a' + r.below(26) as u8
                } else {
                    r.byte()
                }
            }));
        }
        6 => {
            let n = r.below(20) as usize;
            out.extend([0xc4, n as u8]);
            out.extend((0..n).map(|_| r.byte()));
        }
        7 => {
            // Extensions, timestamps (type -1) half of the time.
            let ty = if r.chance(50) { 0xff } else { r.byte() };
            match r.below(3) {
                0 => {
                    out.extend([0xd6, ty]);
                    out.extend((0..4).map(|_| r.byte()));
                }
                1 => {
                    out.extend([0xd7, ty]);
                    out.extend((0..8).map(|_| r.byte()));
                }
                _ => {
                    let n = [12u8, 3, 0][r.below(3) as usize];
                    out.extend([0xc7, n, ty]);
                    out.extend((0..n).map(|_| r.byte()));
                }
            }
        }
        8 => {
            let n = r.below(5);
            out.push(0x90 | n as u8);
            for _ in 0..n {
                gen_msgpack(r, out, depth - 1);
            }
        }
        9 => {
            let n = r.below(4);
            if r.chance(20) {
                out.push(0xde);
                out.extend((n as u16).to_be_bytes());
            } else {
                out.push(0x80 | n as u8);
            }
            for _ in 0..2 * n {
                gen_msgpack(r, out, depth - 1);
            }
        }
        _ => {
            let n = r.below(130) as usize;
            out.extend(std::iter::repeat_n(0x91, n));
            gen_msgpack(r, out, 0);
        }
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A random well-formed Protobuf message (field numbers small enough to
/// hit the test schema's fields often).
pub fn gen_protobuf(r: &mut Rng, out: &mut Vec<u8>, depth: u32) {
    for _ in 0..r.below(6) {
        let number = if r.chance(90) {
            1 + r.below(25)
        } else {
            1 + r.below((1 << 29) - 1)
        };
        let wt = if depth == 0 {
            [0, 1, 5][r.below(3) as usize]
        } else {
            [0, 1, 2, 2, 2, 3, 5][r.below(7) as usize]
        };
        varint(out, number << 3 | wt);
        match wt {
            0 => varint(out, small(r)),
            1 => out.extend(r.next().to_le_bytes()),
            5 => out.extend((r.next() as u32).to_le_bytes()),
            3 => {
                gen_protobuf(r, out, depth - 1);
                varint(out, number << 3 | 4);
            }
            _ => {
                let mut inner = Vec::new();
                match r.below(4) {
                    0 => inner.extend(b"hello world"),
                    1 => inner.extend((0..r.below(12)).map(|_| r.byte())),
                    2 if r.chance(10) => {
                        // Deep chains of nested messages (recursive types).
                        let mut chain = vec![0x0a, 0x01, b'x'];
                        for _ in 0..r.below(120) {
                            let mut outer = vec![0x1a];
                            varint(&mut outer, chain.len() as u64);
                            outer.extend(chain);
                            chain = outer;
                        }
                        inner = chain;
                    }
                    _ => gen_protobuf(r, &mut inner, depth - 1),
                }
                varint(out, inner.len() as u64);
                out.extend(inner);
            }
        }
    }
}

// --- mutation -------------------------------------------------------------------

const INTERESTING: [u8; 16] = [
    0x00, 0x01, 0x7f, 0x80, 0xff, 0x18, 0x1b, 0x1f, 0x5f, 0x9f, 0xbf, 0xc1, 0xdb, 0xdd, 0xdf, 0x0f,
];

fn mutate(r: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..r.below(8) {
        let len = data.len() as u64;
        match r.below(10) {
            0 if len > 0 => {
                let i = r.below(len) as usize;
                data[i] ^= 1 << r.below(8);
            }
            1 if len > 0 => {
                let i = r.below(len) as usize;
                data[i] = INTERESTING[r.below(16) as usize];
            }
            2 => {
                let i = r.below(len + 1) as usize;
                let n = 1 + r.below(8) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| r.byte()).collect();
                data.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let a = r.below(len) as usize;
                let b = (a + 1 + r.below(16) as usize).min(data.len());
                data.drain(a..b);
            }
            4 => {
                let n = r.below(len + 1) as usize;
                data.truncate(n);
            }
            5 if len > 0 => {
                // Duplicate a slice (repeated fields, nested structure).
                let a = r.below(len) as usize;
                let b = (a + 1 + r.below(32) as usize).min(data.len());
                let slice = data[a..b].to_vec();
                let at = r.below(data.len() as u64 + 1) as usize;
                data.splice(at..at, slice);
            }
            6 if !corpus.is_empty() => {
                // Splice in part of another corpus file.
                let other = &corpus[r.below(corpus.len() as u64) as usize];
                if !other.is_empty() {
                    let a = r.below(other.len() as u64) as usize;
                    let b = a + r.below((other.len() - a) as u64 + 1) as usize;
                    let at = r.below(data.len() as u64 + 1) as usize;
                    data.splice(at..at, other[a..b].iter().copied());
                }
            }
            7 => {
                // A large length: the bytes of a big varint or big-endian number.
                let at = r.below(len + 1) as usize;
                let big: Vec<u8> = match r.below(3) {
                    0 => vec![0xff, 0xff, 0xff, 0xff, 0x0f],
                    1 => (1u64 << 62).to_be_bytes().to_vec(),
                    _ => vec![0xff; 4],
                };
                data.splice(at..at, big);
            }
            8 if len > 0 => {
                let i = r.below(len) as usize;
                data[i] = data[i].wrapping_add(1 + r.below(4) as u8);
            }
            _ => {
                let n = r.below(4) as usize;
                data.extend((0..n).map(|_| r.byte()));
            }
        }
    }
}

/// The inputs of the schema-loading fuzz: the test descriptor set and the
/// two `.proto` files it was compiled from.
pub struct SchemaSources {
    pub descriptor_set: Vec<u8>,
    pub proto: String,
    pub common: String,
}

impl SchemaSources {
    pub fn load() -> SchemaSources {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
        let read = |p: &str| std::fs::read(dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        SchemaSources {
            descriptor_set: read("schema/mqdash_test.desc"),
            proto: String::from_utf8_lossy(&read("proto/mqdash_test.proto")).into_owned(),
            common: String::from_utf8_lossy(&read("proto/common.proto")).into_owned(),
        }
    }
}

/// One execution of the schema-loading fuzz: a mutated descriptor set and a
/// mutated `.proto` text (with its import intact) must load or be refused,
/// never panic; a loaded schema decodes a small payload for every type.
pub fn run_schema_load(seed: u64, src: &SchemaSources, trace: bool) -> Stats {
    let mut r = Rng::new(seed);
    let mut stats = Stats::default();
    let mut bytes = src.descriptor_set.clone();
    mutate(&mut r, &mut bytes, &[]);
    let mut text = src.proto.clone().into_bytes();
    mutate(&mut r, &mut text, &[]);
    let text = String::from_utf8_lossy(&text).into_owned();
    if trace {
        println!("descriptor set: {bytes:02x?}\nproto:\n{text}");
    }
    let files = [
        ("mqdash_test.proto".to_string(), text),
        ("common.proto".to_string(), src.common.clone()),
    ];
    for schema in [
        Schema::from_descriptor_set(&bytes),
        Schema::from_proto_files(&files),
    ] {
        stats.executions += 1;
        match schema {
            Ok(schema) => {
                stats.ok += 1;
                for name in schema.message_names() {
                    let _ = schema.decode(&name, &[0x08, 0x01, 0x12, 0x01, 0x61, 0x1a, 0x00]);
                }
            }
            Err(e) => {
                assert!(!e.reason.is_empty(), "a schema error without a reason");
                stats.errors += 1;
            }
        }
    }
    stats
}

/// Builds the payload of one execution for `decoder`.
pub fn payload(r: &mut Rng, decoder: &str, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = match r.below(10) {
        0 => (0..r.below(64)).map(|_| r.byte()).collect(),
        1..=4 if !corpus.is_empty() => corpus[r.below(corpus.len() as u64) as usize].clone(),
        _ => {
            let mut out = Vec::new();
            let depth = r.below(6) as u32;
            match decoder {
                "cbor" => gen_cbor(r, &mut out, depth),
                "msgpack" => gen_msgpack(r, &mut out, depth),
                _ => gen_protobuf(r, &mut out, depth),
            }
            out
        }
    };
    if r.chance(85) {
        mutate(r, &mut data, corpus);
    }
    data
}

/// What one execution did, for the summary line.
#[derive(Default, Clone, Copy)]
pub struct Stats {
    pub executions: u64,
    pub ok: u64,
    pub errors: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.executions += o.executions;
        self.ok += o.ok;
        self.errors += o.errors;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
    }
}

fn run_decoder(decoder: &str, schema: &Schema, ty: &str, p: &[u8]) -> Result<String, DecodeError> {
    match decoder {
        "cbor" => decoders::cbor::decode(p),
        "msgpack" => decoders::msgpack::decode(p),
        "protobuf_raw" => decoders::protobuf_raw::decode(p),
        _ => schema.decode(ty, p),
    }
}

/// An error's reason with its numbers left out, to count errors by kind.
pub fn reason_kind(reason: &str) -> String {
    let mut kind = String::new();
    for c in reason.chars() {
        if !c.is_ascii_digit() {
            kind.push(c);
        } else if !kind.ends_with('#') {
            kind.push('#');
        }
    }
    kind.chars().take(70).collect()
}

/// Runs one execution; panics (with what is wrong) if a check fails.
pub fn run_one(
    seed: u64,
    decoder: &str,
    schema: &Schema,
    corpus: &[Vec<u8>],
    trace: bool,
) -> Stats {
    run_one_with_reason(seed, decoder, schema, corpus, trace).0
}

/// [`run_one`], also giving the error's reason when the payload was refused.
pub fn run_one_with_reason(
    seed: u64,
    decoder: &str,
    schema: &Schema,
    corpus: &[Vec<u8>],
    trace: bool,
) -> (Stats, Option<String>) {
    let mut r = Rng::new(seed);
    let data = payload(&mut r, decoder, corpus);
    let ty = SCHEMA_TYPES[r.below(SCHEMA_TYPES.len() as u64) as usize];
    if trace {
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        println!("payload ({} bytes, type {ty}): {hex}", data.len());
    }
    let first = run_decoder(decoder, schema, ty, &data);
    let again = run_decoder(decoder, schema, ty, &data);
    assert!(first == again, "two decodings of the same payload differ");
    if trace {
        println!("result: {first:?}");
    }
    let mut stats = Stats {
        executions: 1,
        bytes_in: data.len() as u64,
        ..Stats::default()
    };
    let mut reason = None;
    match first {
        Ok(text) => {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                panic!("output is not JSON serde_json reads ({e}): {text:.300}");
            }
            stats.ok = 1;
            stats.bytes_out = text.len() as u64;
        }
        Err(e) => {
            assert!(!e.reason.is_empty(), "an error without a reason");
            if let Some(at) = e.offset {
                assert!(
                    at <= data.len(),
                    "error offset {at} past the payload's {} bytes",
                    data.len()
                );
            }
            stats.errors = 1;
            reason = Some(e.reason);
        }
    }
    (stats, reason)
}
