//! A short run of the fuzz harness (`tests/fuzz_support`) in every
//! `cargo test`: the same executions as the first ones of a long run
//! (`examples/fuzz.rs`), per decoder, over the committed corpus.

mod fuzz_support;

use fuzz_support::{
    corpus_dir, execution_seed, expected_corpus, load_corpus, run_one, test_schema, Stats, DECODERS,
};

const SEED: u64 = 0x6d71_6461_7368;
const EXECUTIONS: u64 = 3_000;

#[test]
fn the_committed_corpus_is_the_one_the_vectors_make() {
    let dir = corpus_dir();
    let expected = expected_corpus();
    assert!(
        expected.len() >= 100,
        "only {} corpus files",
        expected.len()
    );
    for (sub, name, bytes) in &expected {
        let path = dir.join(sub).join(name);
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run the fuzz example with --write-corpus)",
                path.display()
            )
        });
        assert_eq!(
            &on_disk,
            bytes,
            "{} differs from its vector",
            path.display()
        );
    }
}

#[test]
fn three_thousand_fuzz_executions_per_decoder_pass_every_check() {
    let schema = test_schema();
    for decoder in DECODERS {
        let corpus = load_corpus(&corpus_dir(), decoder);
        assert!(
            corpus.len() >= 10,
            "{decoder}: corpus of {} files",
            corpus.len()
        );
        let mut total = Stats::default();
        for i in 0..EXECUTIONS {
            let seed = execution_seed(SEED, i);
            let result =
                std::panic::catch_unwind(|| run_one(seed, decoder, &schema, &corpus, false));
            match result {
                Ok(s) => total.add(&s),
                Err(_) => panic!(
                    "{decoder}: execution {i} failed; reproduce with cargo run --release -p decoders \
                     --example fuzz -- --decoder {decoder} --seed {SEED:#x} --start {i} --iterations 1 --trace"
                ),
            }
        }
        assert_eq!(total.executions, EXECUTIONS);
        // The mix reaches both outcomes, so the checks on each really ran.
        assert!(
            total.ok > EXECUTIONS / 20,
            "{decoder}: only {} decoded",
            total.ok
        );
        assert!(
            total.errors > EXECUTIONS / 20,
            "{decoder}: only {} errors",
            total.errors
        );
    }
}

/// Schemas come from the user too: mutated descriptor sets and `.proto`
/// texts must load or be refused, never panic.
#[test]
fn mutated_descriptor_sets_and_proto_texts_load_or_are_refused_without_a_panic() {
    let src = fuzz_support::SchemaSources::load();
    let mut total = Stats::default();
    for i in 0..EXECUTIONS {
        let seed = execution_seed(SEED, i);
        match std::panic::catch_unwind(|| fuzz_support::run_schema_load(seed, &src, false)) {
            Ok(s) => total.add(&s),
            Err(_) => panic!(
                "schema load {i} panicked; reproduce with cargo run --release -p decoders \
                 --example fuzz -- --decoder schema_load --seed {SEED:#x} --start {i} --iterations 1 --trace"
            ),
        }
    }
    assert!(
        total.ok > 100 && total.errors > 100,
        "loaded {}, refused {}",
        total.ok,
        total.errors
    );
}
