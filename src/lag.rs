//! How far behind the broker the page is: the longest wait, over the last
//! clock tick, between bytes leaving the socket's worker and the page
//! reading them, or between a notice arriving and its frame applying it.
//! A page that keeps up sees a few milliseconds; one that cannot sees this
//! grow, and says so on screen while it lasts.

use std::cell::Cell;

thread_local! {
    static WORST: Cell<f64> = const { Cell::new(0.0) };
}

/// Records one wait in ms (ignored when not finite or negative).
pub fn observe(wait_ms: f64) {
    if wait_ms.is_finite() && wait_ms > 0.0 {
        WORST.with(|w| w.set(w.get().max(wait_ms)));
    }
}

/// The longest wait since the last call, and starts over.
pub fn take() -> f64 {
    WORST.with(|w| w.replace(0.0))
}

/// The sentence shown when the page is `behind_ms` behind (nothing under a
/// second: that is ordinary scheduling).
pub fn describe(behind_ms: f64) -> Option<String> {
    (behind_ms >= 1_000.0).then(|| {
        format!(
            "The page is {:.1} s behind the broker: messages arrive faster than it can take them. Every message is still counted.",
            behind_ms / 1_000.0
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
        assert_eq!(take(), 2_500.0);
        assert_eq!(take(), 0.0);
    }

    #[test]
    fn only_a_wait_of_a_second_or_more_is_worth_saying() {
        assert_eq!(describe(400.0), None);
        assert!(describe(2_500.0).unwrap().contains("2.5 s behind"));
    }
}
