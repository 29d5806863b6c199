//! Reconnect delays: exponential backoff with jitter and a cap.
//!
//! Pure: the caller supplies the random number, so tests are deterministic.

/// Exponential backoff state for automatic reconnects.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    base_ms: u64,
    cap_ms: u64,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(1_000, 30_000)
    }
}

impl Backoff {
    /// Delays start near `base_ms` and double per failed attempt up to `cap_ms`.
    pub fn new(base_ms: u64, cap_ms: u64) -> Self {
        Self {
            base_ms: base_ms.max(1),
            cap_ms: cap_ms.max(base_ms.max(1)),
            attempt: 0,
        }
    }

    /// The delay before the next attempt, given `random` in `[0, 1)`.
    ///
    /// "Equal jitter": half the exponential delay is fixed and half is random, so
    /// a fleet of dashboards does not reconnect in lockstep after a broker restart,
    /// yet no delay collapses towards zero (which would make a tight loop).
    pub fn next_delay_ms(&mut self, random: f64) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << self.attempt.min(20))
            .min(self.cap_ms);
        self.attempt = self.attempt.saturating_add(1);
        let r = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        exp / 2 + ((exp / 2) as f64 * r) as u64
    }

    /// A connection succeeded: start again from the base delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_until_the_cap() {
        let mut b = Backoff::new(1_000, 8_000);
        let d: Vec<u64> = (0..6).map(|_| b.next_delay_ms(1.0)).collect();
        assert_eq!(d, vec![1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    }

    #[test]
    fn jitter_keeps_each_delay_between_half_and_full() {
        let mut lo = Backoff::new(1_000, 30_000);
        let mut hi = Backoff::new(1_000, 30_000);
        for _ in 0..10 {
            let a = lo.next_delay_ms(0.0);
            let b = hi.next_delay_ms(0.999);
            assert!(a * 2 >= b.saturating_sub(2) && a < b, "{a} {b}");
        }
    }

    #[test]
    fn reset_returns_to_the_base_delay() {
        let mut b = Backoff::new(500, 30_000);
        b.next_delay_ms(1.0);
        b.next_delay_ms(1.0);
        b.reset();
        assert_eq!(b.next_delay_ms(1.0), 500);
    }

    #[test]
    fn a_nan_random_does_not_panic_or_collapse_the_delay() {
        let mut b = Backoff::new(1_000, 30_000);
        assert_eq!(b.next_delay_ms(f64::NAN), 750);
    }

    #[test]
    fn many_attempts_do_not_overflow() {
        let mut b = Backoff::new(1_000, 30_000);
        for _ in 0..200 {
            assert!(b.next_delay_ms(1.0) <= 30_000);
        }
    }
}
