//! How far behind the broker the page is, from two measures:
//!
//! - the round trip of a PINGREQ the supervisor sends every 2 s while
//!   messages keep arriving (`Event::Pong`): the broker answers after
//!   everything it queued for the page before it, so this is the age of the
//!   backlog between broker and page, wherever it waits (the broker, the
//!   network, the socket's worker, the frame queue); and how long a PINGREQ
//!   has waited so far (a lower bound while its answer is stuck);
//! - the longest wait, over the last clock tick, between bytes leaving the
//!   socket's worker and the page reading them, or a notice arriving and its
//!   frame applying it.
//!
//! A page that keeps up sees a few milliseconds; one that cannot sees this
//! grow, and says so on screen while it lasts. No IO here: times come in.

use std::cell::Cell;

use model::decimal::Fixed;

/// A round trip is shown this long after it was measured (the next probe
/// comes 2 s after the answer at the latest while messages flow).
pub const ROUND_TRIP_HOLD_MS: f64 = 5_000.0;

thread_local! {
    static WORST: Cell<f64> = const { Cell::new(0.0) };
    /// The newest round trip and when it was measured.
    static ROUND_TRIP: Cell<(f64, f64)> = const { Cell::new((0.0, f64::NEG_INFINITY)) };
}

/// Records one wait in ms (ignored when not finite or negative).
pub fn observe(wait_ms: f64) {
    if wait_ms.is_finite() && wait_ms > 0.0 {
        WORST.with(|w| w.set(w.get().max(wait_ms)));
    }
}

/// Records a PINGREQ's round trip, measured at `now_ms`.
pub fn observe_round_trip(round_trip_ms: f64, now_ms: f64) {
    if round_trip_ms.is_finite() && round_trip_ms >= 0.0 {
        ROUND_TRIP.with(|r| r.set((round_trip_ms, now_ms)));
    }
}

/// How far behind the page is at `now_ms`: the longest wait since the last
/// call (which starts over), or the newest round trip while it is recent,
/// whichever is more.
pub fn take(now_ms: f64) -> f64 {
    let worst = WORST.with(|w| w.replace(0.0));
    let (rtt, at) = ROUND_TRIP.with(Cell::get);
    if now_ms - at <= ROUND_TRIP_HOLD_MS {
        worst.max(rtt)
    } else {
        worst
    }
}

/// The sentence shown when the page is `behind_ms` behind (nothing under a
/// second: that is ordinary scheduling).
pub fn describe(behind_ms: f64) -> Option<String> {
    (behind_ms >= 1_000.0).then(|| {
        format!(
            "The page is {} s behind the broker: messages arrive faster than it can take them. Every message is still counted.",
            Fixed(behind_ms / 1_000.0, 1)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_wait_is_kept_until_taken() {
        observe(5.0);
        observe(2_500.0);
        observe(f64::NAN);
        observe(-3.0);
        assert_eq!(take(0.0), 2_500.0);
        assert_eq!(take(0.0), 0.0);
    }

    #[test]
    fn a_round_trip_counts_while_it_is_recent() {
        observe_round_trip(3_200.0, 10_000.0);
        observe(40.0);
        assert_eq!(take(10_500.0), 3_200.0);
        assert_eq!(take(14_000.0), 3_200.0);
        assert_eq!(take(15_001.0), 0.0);
    }

    #[test]
    fn only_a_wait_of_a_second_or_more_is_worth_saying() {
        assert_eq!(describe(400.0), None);
        assert!(describe(2_500.0).unwrap().contains("2.5 s behind"));
    }
}
