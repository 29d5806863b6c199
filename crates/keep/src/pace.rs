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

/// The plan made one record at a time, for a file read in slices: tells
/// for each record whether it starts a new batch, and when that batch is
/// due. [`plan`] is this over a whole list.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// `None` for [`Pace::Instant`].
    speed: Option<f64>,
    first: Option<f64>,
    due: f64,
    batch_at: f64,
    batch_len: usize,
    batches: u64,
}

impl Pacer {
    /// A plan at this pace.
    #[must_use]
    pub fn new(pace: Pace) -> Pacer {
        Pacer {
            speed: match pace {
                Pace::Original => Some(1.0),
                Pace::Fast => Some(10.0),
                Pace::Instant => None,
            },
            first: None,
            due: 0.0,
            batch_at: 0.0,
            batch_len: 0,
            batches: 0,
        }
    }

    /// The next record's time. `Some(at_ms)` when it starts a new batch
    /// (due `at_ms` after the replay's start; the batch before is then
    /// complete), `None` when it joins the current one.
    pub fn push(&mut self, t: f64) -> Option<f64> {
        let Some(speed) = self.speed else {
            if self.batch_len > 0 && self.batch_len < MAX_BATCH {
                self.batch_len += 1;
                return None;
            }
            self.batch_len = 1;
            self.batches += 1;
            return Some((self.batches - 1) as f64 * FRAME_MS);
        };
        let first = *self.first.get_or_insert(t);
        // Never earlier than the record before; a time that is not a
        // number counts as the one before.
        let d = (t - first) / speed;
        if d.is_finite() {
            self.due = self.due.max(d);
        }
        if self.batch_len > 0 && self.batch_len < MAX_BATCH && self.due < self.batch_at + FRAME_MS {
            self.batch_len += 1;
            return None;
        }
        self.batch_at = self.due;
        self.batch_len = 1;
        self.batches += 1;
        Some(self.due)
    }
}

/// The steps for records with these times, in file order.
#[must_use]
pub fn plan(times: &[f64], pace: Pace) -> Vec<Step> {
    let mut pacer = Pacer::new(pace);
    let mut steps: Vec<Step> = Vec::new();
    for (i, &t) in times.iter().enumerate() {
        match pacer.push(t) {
            Some(at_ms) => steps.push(Step { at_ms, end: i + 1 }),
            None => {
                if let Some(s) = steps.last_mut() {
                    s.end = i + 1;
                }
            }
        }
    }
    steps
}
