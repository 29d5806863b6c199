//! The fuzz corpus and a short fuzz run in every `cargo test`: each stream in
//! `fuzz-corpus/` is replayed in several chunkings and option sets with the
//! invariant checker of `fuzz_support`; the hostile streams must end in their
//! exact typed error; and the corpus on disk must match the table it was
//! written from. The 10-million-execution run is `examples/fuzz.rs`.

mod fuzz_support;

use fuzz_support::{
    corpus_dir, execution_seed, expected_corpus, load_corpus, replay, replay_options, run_one,
    Stats, REPLAY_CHUNKS,
};
use mqtt_session::{hostile, Event};

#[test]
fn the_corpus_on_disk_holds_every_seed_stream_and_every_hostile_case() {
    let on_disk = load_corpus(&corpus_dir());
    let expected = expected_corpus();
    for (name, bytes) in &expected {
        match on_disk.iter().find(|(n, _)| n == name) {
            Some((_, b)) => assert_eq!(
                b, bytes,
                "{name} is stale: rewrite the corpus with \
                 `cargo run -p mqtt-session --example fuzz -- --write-corpus`"
            ),
            None => panic!(
                "{name} is missing: write it with \
                 `cargo run -p mqtt-session --example fuzz -- --write-corpus`"
            ),
        }
    }
    assert!(on_disk.len() >= 50, "{} files", on_disk.len());
}

#[test]
fn every_corpus_stream_replays_in_any_chunking_without_breaking_an_invariant() {
    let corpus = load_corpus(&corpus_dir());
    assert!(
        !corpus.is_empty(),
        "no corpus in {}",
        corpus_dir().display()
    );
    let mut replays = 0;
    for (name, bytes) in &corpus {
        for options in replay_options() {
            for chunk in REPLAY_CHUNKS {
                let events = std::panic::catch_unwind(|| replay(bytes, options.clone(), chunk))
                    .unwrap_or_else(|_| {
                        panic!("{name}: replay in chunks of {chunk} with {options:?} failed")
                    });
                let closed = events
                    .iter()
                    .filter(|e| matches!(e, Event::Closed { .. }))
                    .count();
                assert!(closed <= 1, "{name}: {events:?}");
                replays += 1;
            }
        }
    }
    assert_eq!(
        replays,
        corpus.len() * replay_options().len() * REPLAY_CHUNKS.len()
    );
}

#[test]
fn every_hostile_corpus_stream_ends_in_its_typed_error_in_any_chunking() {
    for case in hostile::cases() {
        for chunk in REPLAY_CHUNKS {
            let events = replay(&case.bytes, hostile::case_options(), chunk);
            assert_eq!(
                events.last(),
                Some(&Event::Closed {
                    error: case.error.clone()
                }),
                "{} in chunks of {chunk}: {events:?}",
                case.name
            );
        }
    }
}

#[test]
fn every_hostile_v5_corpus_stream_ends_in_its_typed_error_in_any_chunking() {
    for case in hostile::v5_cases() {
        for chunk in REPLAY_CHUNKS {
            let events = replay(&case.bytes, hostile::case_options_v5(), chunk);
            assert_eq!(
                events.last(),
                Some(&Event::Closed {
                    error: case.error.clone()
                }),
                "{} in chunks of {chunk}: {events:?}",
                case.name
            );
        }
    }
}

#[test]
fn two_thousand_seeded_fuzz_executions_break_no_invariant() {
    let corpus: Vec<Vec<u8>> = load_corpus(&corpus_dir())
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let hostile: Vec<_> = hostile::cases()
        .into_iter()
        .chain(hostile::v5_cases())
        .collect();
    let seed = 0x7e57;
    let mut total = Stats::default();
    for i in 0..2_000 {
        let result =
            std::panic::catch_unwind(|| run_one(execution_seed(seed, i), &corpus, &hostile, false));
        match result {
            Ok(s) => total.add(&s),
            Err(_) => panic!(
                "execution {i} failed; reproduce with `cargo run --release -p mqtt-session \
                 --example fuzz -- --seed {seed:#x} --start {i} --iterations 1 --trace`"
            ),
        }
    }
    assert_eq!(total.executions, 2_000);
    // The generator reaches deep states, not just refusals of garbage.
    assert!(total.connected > 500, "{total:?}");
    assert!(total.messages > 500, "{total:?}");
    assert!(total.completed > 50, "{total:?}");
    assert!(total.closed_protocol > 200, "{total:?}");
    // Oversized PUBLISHes are read through, not just refused.
    assert!(total.not_kept > 500, "{total:?}");
    // A third speak MQTT 5, and reach deep states too.
    assert!(total.v5_executions > 500, "{total:?}");
    assert!(total.v5_connected > 150, "{total:?}");
    assert!(total.v5_messages > 150, "{total:?}");
}
