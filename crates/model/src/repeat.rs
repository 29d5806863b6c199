//! Repeating a publish: every N ms (or N a second), for a count or until
//! stopped, with at most a few QoS 1/2 publishes unacknowledged at a time so
//! that a slow broker is not flooded.
//!
//! Pure: the page calls [`Repeat::due`] from its timer with the time, sends
//! one message per `true`, and reports each with [`Repeat::sent`] (or
//! [`Repeat::refused`]) and each acknowledgement or failure with
//! [`Repeat::outcome`]. Message `k` (from 0) is due at `start + k × period`;
//! a page that falls more than [`Repeat::CATCH_UP_MS`] behind (a throttled
//! timer, a full window) moves the schedule on instead of sending a burst.

/// At most this many QoS 1/2 publishes of a repeat unacknowledged at once
/// (fewer when the broker's receive maximum is lower).
pub const MAX_IN_FLIGHT: usize = 10;

/// The fastest repeat: one message a millisecond.
pub const MAX_PER_SECOND: u64 = 1000;

/// What to repeat how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatPlan {
    /// Time between two messages, in µs.
    pub period_us: u64,
    /// How many messages; `None`: until stopped.
    pub count: Option<u64>,
    /// At most this many unacknowledged (QoS 1/2); 0: no acknowledgements
    /// to wait for (QoS 0).
    pub window: usize,
}

impl RepeatPlan {
    /// The plan from the form: `every` is milliseconds between messages, or
    /// messages a second with `per_second`; `count` empty means until
    /// stopped; `receive_maximum` is the broker's (MQTT 5), if it gave one.
    pub fn parse(
        every: &str,
        per_second: bool,
        count: &str,
        qos: u8,
        receive_maximum: Option<u16>,
    ) -> Result<RepeatPlan, String> {
        let every = every.trim();
        let n: u64 = every
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                if per_second {
                    format!("Repeat rate: a whole number of messages a second from 1 to {MAX_PER_SECOND}, not {every:?}")
                } else {
                    format!("Repeat every: a whole number of milliseconds, 1 or more, not {every:?}")
                }
            })?;
        let period_us = if per_second {
            if n > MAX_PER_SECOND {
                return Err(format!(
                    "Repeat rate: at most {MAX_PER_SECOND} messages a second, not {n}"
                ));
            }
            1_000_000 / n
        } else {
            n.saturating_mul(1000)
        };
        let count = count.trim();
        let count = if count.is_empty() {
            None
        } else {
            Some(count.parse::<u64>().ok().filter(|c| *c > 0).ok_or_else(|| {
                format!("Repeat count: a whole number, 1 or more (empty: until stopped), not {count:?}")
            })?)
        };
        let window = if qos == 0 {
            0
        } else {
            receive_maximum.map_or(MAX_IN_FLIGHT, |r| MAX_IN_FLIGHT.min(usize::from(r.max(1))))
        };
        Ok(RepeatPlan {
            period_us,
            count,
            window,
        })
    }
}

/// A running (or ended) repeat and its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    plan: RepeatPlan,
    /// When message 0 was due, in µs.
    start_us: u64,
    sent: u64,
    acked: u64,
    failed: u64,
    /// Ids of the QoS 1/2 messages sent and not acknowledged or failed yet.
    in_flight: Vec<u64>,
    /// Why it stopped before its count, if it did.
    stopped: Option<String>,
}

impl Repeat {
    /// A page more than this late moves its schedule on rather than catch up.
    pub const CATCH_UP_MS: u64 = 1000;

    /// Starts now: the first message is due at once.
    pub fn new(plan: RepeatPlan, now_ms: u64) -> Repeat {
        Repeat {
            plan,
            start_us: now_ms.saturating_mul(1000),
            sent: 0,
            acked: 0,
            failed: 0,
            in_flight: Vec::new(),
            stopped: None,
        }
    }

    /// The plan.
    pub fn plan(&self) -> RepeatPlan {
        self.plan
    }

    /// Whether another message should go now. Call again after each
    /// [`Repeat::sent`] until it says no.
    pub fn due(&mut self, now_ms: u64) -> bool {
        if !self.sending() {
            return false;
        }
        if self.plan.window > 0 && self.in_flight.len() >= self.plan.window {
            return false;
        }
        let now_us = now_ms.saturating_mul(1000);
        let due_us = self.due_us();
        if due_us > now_us {
            return false;
        }
        if now_us - due_us > Self::CATCH_UP_MS * 1000 {
            // Too far behind: this message goes now, the next a period later.
            self.start_us = now_us.saturating_sub(self.sent.saturating_mul(self.plan.period_us));
        }
        true
    }

    fn due_us(&self) -> u64 {
        self.start_us
            .saturating_add(self.sent.saturating_mul(self.plan.period_us))
    }

    /// The message that [`Repeat::due`] allowed went out; `id` is the
    /// session's handle of a QoS 1/2 publish, whose outcome will come.
    pub fn sent(&mut self, id: Option<u64>) {
        self.sent += 1;
        if let (Some(id), true) = (id, self.plan.window > 0) {
            self.in_flight.push(id);
        }
    }

    /// The message could not be sent: the repeat stops, saying why.
    pub fn refused(&mut self, reason: String) {
        self.stopped = Some(reason);
    }

    /// The user stopped it.
    pub fn stop(&mut self) {
        if self.sending() {
            self.stopped = Some("stopped".into());
        }
    }

    /// A publish was acknowledged (`ok`) or failed; ids not of this repeat
    /// are ignored. Whether it was one of this repeat's.
    pub fn outcome(&mut self, id: u64, ok: bool) -> bool {
        let Some(i) = self.in_flight.iter().position(|x| *x == id) else {
            return false;
        };
        self.in_flight.swap_remove(i);
        if ok {
            self.acked += 1;
        } else {
            self.failed += 1;
        }
        true
    }

    /// Still sending: neither stopped nor at its count.
    pub fn sending(&self) -> bool {
        self.stopped.is_none() && self.plan.count.is_none_or(|c| self.sent < c)
    }

    /// Nothing more will happen: not sending, nothing awaiting an
    /// acknowledgement.
    pub fn finished(&self) -> bool {
        !self.sending() && self.in_flight.is_empty()
    }

    /// Messages sent, acknowledged, failed, and awaiting acknowledgement.
    pub fn counts(&self) -> (u64, u64, u64, usize) {
        (self.sent, self.acked, self.failed, self.in_flight.len())
    }

    /// The counters as the page shows them: `Repeat: 40 sent, 38
    /// acknowledged, 0 failed, 2 awaiting acknowledgement · running`.
    pub fn describe(&self) -> String {
        let mut s = format!("Repeat: {} sent", self.sent);
        if let Some(c) = self.plan.count {
            s.push_str(&format!(" of {c}"));
        }
        if self.plan.window == 0 {
            s.push_str(" (QoS 0: no acknowledgements)");
        } else {
            s.push_str(&format!(
                ", {} acknowledged, {} failed",
                self.acked, self.failed
            ));
            if !self.in_flight.is_empty() {
                s.push_str(&format!(
                    ", {} awaiting acknowledgement",
                    self.in_flight.len()
                ));
            }
        }
        s.push_str(match (&self.stopped, self.sending()) {
            (_, true) => " · running",
            (None, false) if self.in_flight.is_empty() => " · done",
            (None, false) => " · all sent",
            (Some(_), _) => " · ",
        });
        if let Some(why) = &self.stopped {
            s.push_str(why);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(every: &str, per_second: bool, count: &str, qos: u8) -> RepeatPlan {
        RepeatPlan::parse(every, per_second, count, qos, None).unwrap()
    }

    /// Runs the timer every `tick` ms from 0 to `until`, acknowledging each
    /// message `ack_after` ms after it went (never with `None`).
    fn drive(r: &mut Repeat, tick: u64, until: u64, ack_after: Option<u64>) -> Vec<u64> {
        let mut sent_at = Vec::new();
        let mut pending: Vec<(u64, u64)> = Vec::new();
        let mut id = 0;
        let mut now = 0;
        while now <= until {
            if let Some(d) = ack_after {
                pending.retain(|(at, i)| {
                    if *at <= now {
                        r.outcome(*i, true);
                        false
                    } else {
                        true
                    }
                });
                let _ = d;
            }
            while r.due(now) {
                id += 1;
                r.sent(Some(id));
                sent_at.push(now);
                if let Some(d) = ack_after {
                    pending.push((now + d, id));
                }
            }
            now += tick;
        }
        sent_at
    }

    #[test]
    fn the_form_reads_as_a_period_a_count_and_a_window() {
        assert_eq!(
            plan("20", false, "100", 1),
            RepeatPlan {
                period_us: 20_000,
                count: Some(100),
                window: 10
            }
        );
        assert_eq!(plan("50", true, "", 0).period_us, 20_000);
        assert_eq!(plan("3", true, " ", 2).period_us, 333_333);
        assert_eq!(plan(" 3 ", true, "", 2).count, None);
        assert_eq!(plan("1", false, "1", 0).window, 0);
        assert_eq!(
            RepeatPlan::parse("10", false, "", 1, Some(4))
                .unwrap()
                .window,
            4
        );
        assert_eq!(
            RepeatPlan::parse("10", false, "", 1, Some(100))
                .unwrap()
                .window,
            10
        );
        for (every, per_second, count, why) in [
            (
                "0",
                false,
                "",
                "Repeat every: a whole number of milliseconds, 1 or more, not \"0\"",
            ),
            ("x", false, "", "Repeat every"),
            (
                "1001",
                true,
                "",
                "Repeat rate: at most 1000 messages a second, not 1001",
            ),
            ("0", true, "", "Repeat rate: a whole number"),
            ("10", false, "0", "Repeat count: a whole number, 1 or more"),
            ("10", false, "-3", "Repeat count"),
        ] {
            let e = RepeatPlan::parse(every, per_second, count, 1, None).unwrap_err();
            assert!(e.starts_with(why), "{e}");
        }
    }

    #[test]
    fn fifty_a_second_for_a_hundred_sends_exactly_a_hundred_on_schedule() {
        let mut r = Repeat::new(plan("50", true, "100", 1), 0);
        let at = drive(&mut r, 10, 5_000, Some(5));
        assert_eq!(at.len(), 100);
        for (k, t) in at.iter().enumerate() {
            assert_eq!(*t, 20 * k as u64, "message {k}");
        }
        assert!(r.finished());
        assert_eq!(r.counts(), (100, 100, 0, 0));
        assert_eq!(
            r.describe(),
            "Repeat: 100 sent of 100, 100 acknowledged, 0 failed · done"
        );
    }

    #[test]
    fn a_slow_broker_holds_the_repeat_at_its_window() {
        let mut r = Repeat::new(plan("1", false, "", 1), 0);
        let at = drive(&mut r, 10, 1_000, None);
        assert_eq!(at.len(), MAX_IN_FLIGHT);
        assert_eq!(r.counts(), (10, 0, 0, 10));
        assert!(r
            .describe()
            .ends_with("10 awaiting acknowledgement · running"));
        // One acknowledgement lets exactly one more go.
        assert!(r.outcome(3, true));
        assert!(!r.outcome(3, true));
        assert!(!r.outcome(999, false));
        assert!(r.due(1_001));
        r.sent(Some(11));
        assert!(!r.due(1_002));
        // With the broker's receive maximum of 2, two at most.
        let mut r = Repeat::new(RepeatPlan::parse("1", false, "", 2, Some(2)).unwrap(), 0);
        assert_eq!(drive(&mut r, 10, 100, None).len(), 2);
    }

    #[test]
    fn qos_0_has_no_window_and_no_acknowledgements() {
        let mut r = Repeat::new(plan("10", false, "5", 0), 0);
        let at = drive(&mut r, 25, 1_000, None);
        assert_eq!(at, [0, 25, 25, 50, 50]);
        assert!(r.finished());
        assert_eq!(
            r.describe(),
            "Repeat: 5 sent of 5 (QoS 0: no acknowledgements) · done"
        );
    }

    #[test]
    fn a_late_timer_moves_the_schedule_on_instead_of_bursting() {
        let mut r = Repeat::new(plan("100", false, "", 0), 0);
        assert!(r.due(0));
        r.sent(None);
        // The tab was throttled for 10 s: one message now, not a hundred.
        let mut n = 0;
        while r.due(10_000) {
            r.sent(None);
            n += 1;
        }
        assert_eq!(n, 1);
        assert!(!r.due(10_099));
        assert!(r.due(10_100));
    }

    #[test]
    fn stopping_and_refusals_end_it_and_outcomes_still_count() {
        let mut r = Repeat::new(plan("1", false, "", 1), 0);
        assert!(r.due(0));
        r.sent(Some(1));
        r.stop();
        assert!(!r.due(10));
        assert!(!r.finished());
        assert_eq!(
            r.describe(),
            "Repeat: 1 sent, 0 acknowledged, 0 failed, 1 awaiting acknowledgement · stopped"
        );
        r.outcome(1, false);
        assert!(r.finished());
        assert_eq!(r.counts(), (1, 0, 1, 0));
        let mut r = Repeat::new(plan("1", false, "5", 1), 0);
        r.refused("not connected".into());
        assert!(!r.due(0));
        assert!(r.finished());
        assert_eq!(
            r.describe(),
            "Repeat: 0 sent of 5, 0 acknowledged, 0 failed · not connected"
        );
        r.stop();
        assert!(r.describe().ends_with("· not connected"));
    }
}
