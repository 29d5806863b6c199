//! The long fuzz run of the session on the stable toolchain (cargo-fuzz needs
//! nightly, which these machines cannot fetch): seeded executions from
//! `tests/fuzz_support` (arbitrary broker bytes, chunking, timeouts and
//! client calls, invariants checked after every call), mutating the corpus
//! in `fuzz-corpus/`.
//!
//! ```sh
//! cargo run --release -p mqtt-session --example fuzz -- --iterations 10000000
//! cargo run --release -p mqtt-session --example fuzz -- --iterations 10000000 --v5-percent 100
//! cargo run --release -p mqtt-session --example fuzz -- --seed S --start I --iterations 1 --trace
//! cargo run --release -p mqtt-session --example fuzz -- --write-corpus
//! ```
//!
//! A panic or a broken invariant stops the run with the seed and execution
//! index that reproduce it (exit status 1); an execution running longer than
//! `--hang-secs` (default 10) is reported as a hang (exit status 2). The
//! summary line is what `docs/reliability.md` records. A third of the
//! executions speak MQTT 5 unless `--v5-percent` says otherwise (replay a
//! reported execution with the same value).

#[path = "../tests/fuzz_support/mod.rs"]
mod fuzz_support;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fuzz_support::{corpus_dir, execution_seed, expected_corpus, load_corpus, run_one_with, Stats};

struct Args {
    iterations: u64,
    seed: u64,
    start: u64,
    trace: bool,
    write_corpus: bool,
    hang_secs: u64,
    progress: u64,
    /// Percent of executions speaking MQTT 5 (the rest 3.1 / 3.1.1).
    v5_percent: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        iterations: 1_000_000,
        seed: 0x6d71_6461_7368,
        start: 0,
        trace: false,
        write_corpus: false,
        hang_secs: 10,
        v5_percent: 33,
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
            "--v5-percent" => a.v5_percent = number("--v5-percent")?.min(100),
            "--trace" => a.trace = true,
            "--write-corpus" => a.write_corpus = true,
            "--help" | "-h" => {
                println!(
                    "fuzz [--iterations N] [--seed S] [--start I] [--trace] [--hang-secs S] \
                     [--progress N] [--v5-percent P] [--write-corpus]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn write_corpus() -> Result<(), String> {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, bytes) in expected_corpus() {
        let path = dir.join(&name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "fuzz: wrote {} corpus files to {}",
        expected_corpus().len(),
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
    let corpus: Vec<Vec<u8>> = load_corpus(&corpus_dir())
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let hostile: Vec<_> = mqtt_session::hostile::cases()
        .into_iter()
        .chain(mqtt_session::hostile::v5_cases())
        .collect();
    println!(
        "fuzz: seed {:#x}, executions {}..{}, corpus {} streams, {} hostile cases",
        args.seed,
        args.start,
        args.start + args.iterations,
        corpus.len(),
        hostile.len()
    );

    // Watchdog: the index of the running execution and when it started.
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let started_ms = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let current = Arc::clone(&current);
        let started_ms = Arc::clone(&started_ms);
        let (seed, hang) = (args.seed, args.hang_secs);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let i = current.load(Ordering::Relaxed);
            let since = started_ms.load(Ordering::Relaxed);
            let now = epoch.elapsed().as_millis() as u64;
            if i != u64::MAX && now.saturating_sub(since) > hang * 1000 {
                // Re-read: the execution may have just finished.
                if current.load(Ordering::Relaxed) == i {
                    eprintln!(
                        "fuzz: HANG: execution {i} ran for over {hang} s; reproduce with \
                         --seed {seed:#x} --start {i} --iterations 1 --trace"
                    );
                    std::process::exit(2);
                }
            }
        });
    }

    let mut total = Stats::default();
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in args.start..args.start + args.iterations {
        started_ms.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        current.store(i, Ordering::Relaxed);
        let one = Instant::now();
        let seed = execution_seed(args.seed, i);
        let result = std::panic::catch_unwind(|| {
            run_one_with(seed, &corpus, &hostile, args.trace, args.v5_percent)
        });
        slowest = slowest.max(one.elapsed());
        match result {
            Ok(stats) => total.add(&stats),
            Err(_) => {
                eprintln!(
                    "fuzz: FAILED at execution {i} after {} executions; reproduce with \
                     --seed {:#x} --start {i} --iterations 1 --trace",
                    total.executions, args.seed
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
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "fuzz: OK: {} executions (seed {:#x}, start {}) in {:.1} s ({:.0}/s), slowest {:.1} ms; \
         {} operations, {} bytes fed, {} connections accepted, {} closed ({} for protocol \
         violations or oversize packets), {} messages delivered, {} publishes completed; \
         of these, MQTT 5: {} executions, {} connections accepted, {} messages delivered; \
         no panic, no invariant broken, no hang",
        total.executions,
        args.seed,
        args.start,
        secs,
        total.executions as f64 / secs.max(1e-9),
        slowest.as_secs_f64() * 1000.0,
        total.ops,
        total.bytes_in,
        total.connected,
        total.closed,
        total.closed_protocol,
        total.messages,
        total.completed,
        total.v5_executions,
        total.v5_connected,
        total.v5_messages
    );
    ExitCode::SUCCESS
}
