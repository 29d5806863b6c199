//! A short run of the fuzz harness in every `cargo test` (the 10-million
//! run is `examples/fuzz.rs`), and a replay of every corpus payload on every
//! message type.

mod fuzz_support;

use fuzz_support::{check_output, execution_seed, full_corpus, run_one, Stats};
use sparkplug::Sparkplug;

#[test]
fn five_thousand_seeded_fuzz_executions_on_one_state_break_no_check() {
    let corpus = full_corpus();
    assert!(corpus.vectors >= 16 && corpus.payloads.len() >= 36);
    let mut sp = Sparkplug::new();
    let mut total = Stats::default();
    for i in 0..5_000 {
        let seed = execution_seed(0x5350_4221, i);
        let s = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_one(seed, &corpus, &mut sp, false)
        }))
        .unwrap_or_else(|_| panic!("execution {i} (seed {seed:#x}) panicked"));
        total.add(&s);
    }
    assert_eq!(total.executions, 5_000);
    // The run reaches both outcomes and the state paths.
    assert!(total.ok > 500 && total.errors > 500, "{total:?}");
    assert!(total.births > 50 && total.unresolved > 10, "{total:?}");
    assert!(total.gaps > 10 && total.out_of_order > 10, "{total:?}");
}

#[test]
fn every_corpus_payload_on_every_topic_kind_gives_json_or_an_error() {
    let corpus = full_corpus();
    let mut sp = Sparkplug::new();
    let topics = [
        "spBv1.0/G/NBIRTH/N",
        "spBv1.0/G/NDATA/N",
        "spBv1.0/G/NDEATH/N",
        "spBv1.0/G/NCMD/N",
        "spBv1.0/G/DBIRTH/N/D",
        "spBv1.0/G/DDATA/N/D",
        "spBv1.0/G/DDEATH/N/D",
        "spBv1.0/G/DCMD/N/D",
        "spBv1.0/STATE/h",
        "STATE/h",
    ];
    for p in &corpus.payloads {
        for t in topics {
            let r = sp.decode(t, p, 0.0);
            check_output(t, p, &r);
        }
    }
}
