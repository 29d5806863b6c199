//! Messages per second over a sliding window: one-second buckets over the
//! last five seconds, O(1) to record and to read.
//!
//! Time is passed in (ms since the Unix epoch); nothing here reads a clock.
//! The rate is read at a given `now_ms`, so it decays to zero while no
//! message arrives without anyone having to "tick" it. The oldest bucket is
//! weighted by how much of it is still inside the window, which keeps the
//! figure smooth from frame to frame.

/// Length of the window the rate is averaged over, in seconds.
pub const WINDOW_SECONDS: i64 = 5;
const BUCKETS: usize = WINDOW_SECONDS as usize + 1;

/// A sliding-window message rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// `(second, count)`, indexed by `second mod BUCKETS`.
    buckets: [(i64, u32); BUCKETS],
    first_ms: Option<f64>,
    latest_sec: i64,
}

impl Default for Rate {
    fn default() -> Self {
        Rate::new()
    }
}

fn second_of(ms: f64) -> Option<i64> {
    if ms.is_finite() {
        Some((ms / 1000.0).floor() as i64)
    } else {
        None
    }
}

impl Rate {
    /// A rate with no message recorded.
    pub fn new() -> Self {
        Rate {
            buckets: [(i64::MIN, 0); BUCKETS],
            first_ms: None,
            latest_sec: i64::MIN,
        }
    }

    /// Records one message received at `t_ms`. A time that is not finite,
    /// or older than the window of the newest message, is ignored.
    pub fn record(&mut self, t_ms: f64) {
        self.record_n(t_ms, 1);
    }

    /// Records `n` messages received at `t_ms`.
    pub fn record_n(&mut self, t_ms: f64, n: u32) {
        let Some(sec) = second_of(t_ms) else {
            return;
        };
        if sec <= self.latest_sec.saturating_sub(BUCKETS as i64) {
            return;
        }
        self.latest_sec = self.latest_sec.max(sec);
        let idx = sec.rem_euclid(BUCKETS as i64) as usize;
        let Some(bucket) = self.buckets.get_mut(idx) else {
            return;
        };
        if bucket.0 != sec {
            if sec < bucket.0 {
                return;
            }
            *bucket = (sec, 0);
        }
        bucket.1 = bucket.1.saturating_add(n);
        self.first_ms = Some(match self.first_ms {
            Some(first) if first <= t_ms => first,
            _ => t_ms,
        });
    }

    /// Messages per second at `now_ms`, averaged over the last
    /// [`WINDOW_SECONDS`] seconds (or since the first message, when that is
    /// more recent, but over at least one second).
    pub fn per_second(&self, now_ms: f64) -> f64 {
        let (Some(cur), Some(first)) = (second_of(now_ms), self.first_ms) else {
            return 0.0;
        };
        let count_at = |sec: i64| -> f64 {
            self.buckets
                .iter()
                .find(|(s, _)| *s == sec)
                .map_or(0.0, |(_, c)| f64::from(*c))
        };
        let full: f64 = (0..WINDOW_SECONDS)
            .map(|back| count_at(cur.saturating_sub(back)))
            .sum();
        let oldest = count_at(cur.saturating_sub(WINDOW_SECONDS));
        let elapsed = now_ms - first;
        if elapsed < (WINDOW_SECONDS * 1000) as f64 {
            return (full + oldest) / (elapsed / 1000.0).max(1.0);
        }
        let frac = (now_ms - (cur as f64) * 1000.0) / 1000.0;
        (full + oldest * (1.0 - frac).clamp(0.0, 1.0)) / WINDOW_SECONDS as f64
    }

    /// Forgets every recorded message.
    pub fn clear(&mut self) {
        *self = Rate::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_ten_per_second_reads_as_ten() {
        let mut r = Rate::new();
        for i in 0..100 {
            r.record(1_000_000.0 + f64::from(i) * 100.0);
        }
        let rate = r.per_second(1_000_000.0 + 9_950.0);
        assert!((rate - 10.0).abs() < 0.5, "rate {rate}");
    }

    #[test]
    fn rate_decays_to_zero_once_messages_stop() {
        let mut r = Rate::new();
        for i in 0..50 {
            r.record(10_000.0 + f64::from(i) * 20.0);
        }
        assert!(r.per_second(11_000.0) > 0.0);
        assert_eq!(r.per_second(10_000.0 + 7_000.0), 0.0);
    }

    #[test]
    fn a_burst_right_after_the_first_message_is_averaged_over_one_second() {
        let mut r = Rate::new();
        r.record_n(5_000.0, 30);
        assert_eq!(r.per_second(5_100.0), 30.0);
        assert_eq!(r.per_second(8_000.0), 10.0);
    }

    #[test]
    fn non_finite_and_stale_times_are_ignored() {
        let mut r = Rate::new();
        r.record(f64::NAN);
        assert_eq!(r.per_second(1000.0), 0.0);
        r.record(100_000.0);
        r.record(1_000.0);
        r.record(94_000.0);
        assert_eq!(r.per_second(100_500.0), 1.0);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut r = Rate::new();
        r.record(-1e300);
        r.record(1e300);
        assert!(r.per_second(-1e300).is_finite());
        assert!(r.per_second(1e300).is_finite());
    }

    #[test]
    fn a_new_rate_reads_zero() {
        assert_eq!(Rate::new().per_second(123.0), 0.0);
    }
}
