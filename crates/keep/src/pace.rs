//! The replay plan: which records go to the page in one `replay` message,
//! and when, at the original pace, ten times faster, or at once.
//!
//! Records due within one frame (16 ms) of a batch's first go with it, and
//! no batch holds more than [`MAX_BATCH`] records, so the page never gets
//! more than it can apply in a frame or two. "At once" still sends one
//! batch per frame. Times that go backwards are replayed in file order
//! (never earlier than the record before). Pure: the worker owns the timer.

/// The most records in one `replay` message.
pub const MAX_BATCH: usize = 5000;
/// One frame, the window of records sent together.
pub const FRAME_MS: f64 = 16.0;

/// How fast a replay goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As the times in the file say.
    Original,
    /// Ten times faster.
    Fast,
    /// One batch per frame, regardless of the times.
    Instant,
}

impl Pace {
    /// Reads the message's `pace` (`"original"`, `"fast"`, `"instant"`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Pace> {
        match s {
            "original" => Some(Pace::Original),
            "fast" => Some(Pace::Fast),
            "instant" => Some(Pace::Instant),
            _ => None,
        }
    }
}

/// One `replay` message: records up to (not including) `end`, sent
/// `at_ms` after the replay starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// When, in ms after the start.
    pub at_ms: f64,
    /// The index after its last record.
    pub end: usize,
}

/// The steps for records with these times, in file order.
#[must_use]
pub fn plan(times: &[f64], pace: Pace) -> Vec<Step> {
    let speed = match pace {
        Pace::Original => 1.0,
        Pace::Fast => 10.0,
        Pace::Instant => {
            let mut steps = Vec::new();
            let mut end = 0;
            while end < times.len() {
                end = (end + MAX_BATCH).min(times.len());
                steps.push(Step {
                    at_ms: steps.len() as f64 * FRAME_MS,
                    end,
                });
            }
            return steps;
        }
    };
    let Some(&first) = times.first() else {
        return Vec::new();
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut due = 0.0f64;
    let mut batch_start_at = f64::NEG_INFINITY;
    let mut batch_len = 0usize;
    for (i, &t) in times.iter().enumerate() {
        // Never earlier than the record before; a time that is not a
        // number counts as "now".
        let d = (t - first) / speed;
        due = if d.is_finite() { due.max(d) } else { due };
        let joins = batch_len > 0 && batch_len < MAX_BATCH && due < batch_start_at + FRAME_MS;
        if joins {
            batch_len += 1;
            if let Some(s) = steps.last_mut() {
                s.end = i + 1;
            }
        } else {
            batch_start_at = due;
            batch_len = 1;
            steps.push(Step {
                at_ms: due,
                end: i + 1,
            });
        }
    }
    steps
}
