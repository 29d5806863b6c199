//! The long fuzz run of the Sparkplug decoder on the stable toolchain
//! (cargo-fuzz needs nightly, which these machines cannot fetch): seeded
//! executions from `tests/fuzz_support` (a corpus payload or hostile case
//! mutated by bytes or through the schema, on a random Sparkplug topic),
//! all against one `Sparkplug` state kept across the run, so births,
//! aliases, deaths and sequence numbers of earlier executions shape later
//! ones. Every `Ok` output must be JSON that serde_json reads.
//!
//! ```sh
//! cargo run --release -p sparkplug --example fuzz -- --iterations 10000000
//! cargo run --release -p sparkplug --example fuzz -- --seed S --start I --iterations 1 --trace
//! ```
//!
//! A panic or a failed check stops the run with the seed and execution index
//! that reproduce it (exit status 1; the state then also depends on the
//! executions before it, so replay from `--start 0` with `--iterations I+1`
//! when a single execution does not reproduce it); an execution running
//! longer than `--hang-secs` (default 10) is reported as a hang (exit status
//! 2). The summary line is what `docs/reliability.md` records.

#[path = "../tests/fuzz_support/mod.rs"]
mod fuzz_support;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fuzz_support::{execution_seed, full_corpus, run_one, Stats};
use sparkplug::Sparkplug;

struct Args {
    iterations: u64,
    seed: u64,
    start: u64,
    trace: bool,
    hang_secs: u64,
    progress: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        iterations: 1_000_000,
        seed: 0x0073_7042_7631_2e30,
        start: 0,
        trace: false,
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
            "--help" | "-h" => {
                println!(
                    "fuzz [--iterations N] [--seed S] [--start I] [--trace] [--hang-secs S] \
                     [--progress N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    let corpus = full_corpus();
    println!(
        "fuzz: seed {:#x}, executions {}..{}, corpus {} payloads",
        args.seed,
        args.start,
        args.start + args.iterations,
        corpus.payloads.len()
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
                         --seed {seed:#x} --start 0 --iterations {}",
                        i + 1
                    );
                    std::process::exit(2);
                }
            }
        });
    }

    let mut sp = Sparkplug::new();
    let mut total = Stats::default();
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in args.start..args.start + args.iterations {
        started_ms.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        current.store(i, Ordering::Relaxed);
        let one = Instant::now();
        let seed = execution_seed(args.seed, i);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_one(seed, &corpus, &mut sp, args.trace)
        }));
        slowest = slowest.max(one.elapsed());
        match result {
            Ok(stats) => total.add(&stats),
            Err(_) => {
                eprintln!(
                    "fuzz: FAILED at execution {i} after {} executions; reproduce with \
                     --seed {:#x} --start {i} --iterations 1 --trace (or --start 0 \
                     --iterations {} for the state built before it)",
                    total.executions,
                    args.seed,
                    i + 1
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
         {} decoded, {} errors, {} bytes in, {} bytes of JSON out; {} births, {} with \
         unresolved aliases, {} gaps, {} out of order; no panic, no failed check, no hang",
        total.executions,
        args.seed,
        args.start,
        secs,
        total.executions as f64 / secs.max(1e-9),
        slowest.as_secs_f64() * 1000.0,
        total.ok,
        total.errors,
        total.bytes_in,
        total.bytes_out,
        total.births,
        total.unresolved,
        total.gaps,
        total.out_of_order
    );
    ExitCode::SUCCESS
}
