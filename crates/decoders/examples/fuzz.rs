//! The long fuzz run of the decoders on the stable toolchain (cargo-fuzz
//! needs nightly, which these machines cannot fetch): seeded executions from
//! `tests/fuzz_support` (corpus files from `fuzz-corpus/`, generated
//! well-formed items and random bytes, mutated), each output checked to be
//! JSON that serde_json reads, each error to name a byte inside the payload.
//!
//! ```sh
//! cargo run --release -p decoders --example fuzz -- --decoder cbor --iterations 10000000
//! cargo run --release -p decoders --example fuzz -- --decoder protobuf_schema --seed S --start I --iterations 1 --trace
//! cargo run --release -p decoders --example fuzz -- --write-corpus
//! ```
//!
//! Decoders: `cbor`, `msgpack`, `protobuf_raw`, `protobuf_schema` (with the
//! fixed schema `tests/vectors/schema/mqdash_test.desc`, a message type
//! chosen per execution), and `schema_load` (mutated descriptor sets and
//! `.proto` texts of that schema, loaded; two loads per execution). A panic or a failed check stops the run with the
//! seed and index that reproduce it (exit status 1); an execution running
//! longer than `--hang-secs` (default 10) is reported as a hang (exit status
//! 2). The summary line is what `docs/reliability.md` records.

#[path = "../tests/fuzz_support/mod.rs"]
mod fuzz_support;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fuzz_support::{
    corpus_dir, execution_seed, expected_corpus, load_corpus, reason_kind, run_one_with_reason,
    test_schema, Stats, DECODERS,
};

struct Args {
    decoder: String,
    iterations: u64,
    seed: u64,
    start: u64,
    trace: bool,
    write_corpus: bool,
    hang_secs: u64,
    progress: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        decoder: String::new(),
        iterations: 1_000_000,
        seed: 0x6d71_6461_7368,
        start: 0,
        trace: false,
        write_corpus: false,
        hang_secs: 10,
        progress: 1_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            let v = v.replace('_', "");
            if let Some(hex) = v.strip_prefix("0x") {
                u64::from_str_radix(hex, 16).map_err(|e| format!("{name}: {e}"))
            } else {
                v.parse().map_err(|e| format!("{name}: {e}"))
            }
        };
        match flag.as_str() {
            "--iterations" => a.iterations = number("--iterations")?,
            "--seed" => a.seed = number("--seed")?,
            "--start" => a.start = number("--start")?,
            "--hang-secs" => a.hang_secs = number("--hang-secs")?,
            "--progress" => a.progress = number("--progress")?.max(1),
            "--trace" => a.trace = true,
            "--write-corpus" => a.write_corpus = true,
            "--decoder" => a.decoder = it.next().ok_or("--decoder needs a value")?,
            "--help" | "-h" => {
                println!(
                    "fuzz --decoder cbor|msgpack|protobuf_raw|protobuf_schema|schema_load [--iterations N] [--seed S] \
                     [--start I] [--trace] [--hang-secs S] [--progress N] | --write-corpus"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !a.write_corpus && !DECODERS.contains(&a.decoder.as_str()) && a.decoder != "schema_load" {
        return Err(format!(
            "--decoder must be one of {DECODERS:?} or schema_load"
        ));
    }
    Ok(a)
}

fn write_corpus() -> Result<(), String> {
    let dir = corpus_dir();
    let files = expected_corpus();
    for (sub, name, bytes) in &files {
        let sub = dir.join(sub);
        std::fs::create_dir_all(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
        let path = sub.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "fuzz: wrote {} corpus files to {}",
        files.len(),
        dir.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.write_corpus {
        return match write_corpus() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fuzz: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let corpus = load_corpus(&corpus_dir(), &args.decoder);
    let sources = fuzz_support::SchemaSources::load();
    let schema = test_schema();
    println!(
        "fuzz: decoder {}, seed {:#x}, executions {}..{}, corpus {} files",
        args.decoder,
        args.seed,
        args.start,
        args.start + args.iterations,
        corpus.len()
    );

    // Watchdog: the index of the running execution and when it started.
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let started_ms = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let current = Arc::clone(&current);
        let started_ms = Arc::clone(&started_ms);
        let (seed, hang, decoder) = (args.seed, args.hang_secs, args.decoder.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let i = current.load(Ordering::Relaxed);
            let since = started_ms.load(Ordering::Relaxed);
            let now = epoch.elapsed().as_millis() as u64;
            if i != u64::MAX
                && now.saturating_sub(since) > hang * 1000
                && current.load(Ordering::Relaxed) == i
            {
                eprintln!(
                    "fuzz: HANG: execution {i} ran for over {hang} s; reproduce with \
                     --decoder {decoder} --seed {seed:#x} --start {i} --iterations 1 --trace"
                );
                std::process::exit(2);
            }
        });
    }

    let mut total = Stats::default();
    let mut reasons: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in args.start..args.start + args.iterations {
        started_ms.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        current.store(i, Ordering::Relaxed);
        let one = Instant::now();
        let seed = execution_seed(args.seed, i);
        let result = std::panic::catch_unwind(|| {
            if args.decoder == "schema_load" {
                (
                    fuzz_support::run_schema_load(seed, &sources, args.trace),
                    None,
                )
            } else {
                run_one_with_reason(seed, &args.decoder, &schema, &corpus, args.trace)
            }
        });
        slowest = slowest.max(one.elapsed());
        match result {
            Ok((stats, reason)) => {
                total.add(&stats);
                if let Some(r) = reason {
                    *reasons.entry(reason_kind(&r)).or_default() += 1;
                }
            }
            Err(_) => {
                eprintln!(
                    "fuzz: FAILED at execution {i} after {} executions; reproduce with \
                     --decoder {} --seed {:#x} --start {i} --iterations 1 --trace",
                    total.executions, args.decoder, args.seed
                );
                return ExitCode::FAILURE;
            }
        }
        if (i + 1 - args.start) % args.progress == 0 {
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "fuzz: {} executions, {:.0} s, {:.0}/s",
                total.executions,
                secs,
                total.executions as f64 / secs.max(1e-9)
            );
        }
    }
    current.store(u64::MAX, Ordering::Relaxed);
    let mut kinds: Vec<(String, u64)> = reasons.into_iter().collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    println!("fuzz: {} kinds of error:", kinds.len());
    for (kind, n) in &kinds {
        println!("  {n:>9}  {kind}");
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "fuzz: OK: {} {} executions (seed {:#x}, start {}) in {:.1} s ({:.0}/s), slowest {:.1} ms; \
         {} decoded ({} bytes of JSON), {} errors, {} payload bytes; no panic, no failed check, no hang",
        args.decoder,
        total.executions,
        args.seed,
        args.start,
        secs,
        total.executions as f64 / secs.max(1e-9),
        slowest.as_secs_f64() * 1000.0,
        total.ok,
        total.bytes_out,
        total.errors,
        total.bytes_in
    );
    ExitCode::SUCCESS
}
