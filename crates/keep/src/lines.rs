//! Splitting a file read in slices into lines, never holding more than
//! one line of at most `max` bytes: a longer line is skipped as it streams
//! by and reported with its length, not read into memory whole. It must
//! not judge what a line holds (that is `ndjson`).

/// One piece of the file.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A line, without its `\n`.
    Line(&'a [u8]),
    /// A line longer than the limit, of this many bytes (without `\n`).
    TooLong(u64),
}

/// Splits slices of a file into lines.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
    /// While skipping a line too long: its length so far.
    skipping: Option<u64>,
}

impl LineSplitter {
    /// Lines of at most `max` bytes are given whole.
    #[must_use]
    pub fn new(max: usize) -> LineSplitter {
        LineSplitter {
            buf: Vec::new(),
            max,
            skipping: None,
        }
    }

    /// Bytes held for a line not finished yet.
    #[must_use]
    pub fn held(&self) -> usize {
        self.buf.len()
    }

    /// Feeds the next slice; `f` gets every line it completes.
    pub fn push(&mut self, mut data: &[u8], mut f: impl FnMut(Piece<'_>)) {
        while !data.is_empty() {
            let nl = data.iter().position(|&b| b == b'\n');
            let (seg, rest) = match nl {
                Some(i) => (data.get(..i).unwrap_or_default(), data.get(i + 1..)),
                None => (data, None),
            };
            let ends = nl.is_some();
            self.take(seg, ends, &mut f);
            data = rest.unwrap_or_default();
        }
    }

    fn take(&mut self, seg: &[u8], ends: bool, f: &mut impl FnMut(Piece<'_>)) {
        if let Some(n) = &mut self.skipping {
            *n += seg.len() as u64;
            if ends {
                f(Piece::TooLong(*n));
                self.skipping = None;
            }
            return;
        }
        let len = self.buf.len() + seg.len();
        if len > self.max {
            self.skipping = Some(len as u64);
            // Give the memory back: this line is not kept.
            self.buf = Vec::new();
            if ends {
                f(Piece::TooLong(len as u64));
                self.skipping = None;
            }
            return;
        }
        if !ends {
            self.buf.extend_from_slice(seg);
        } else if self.buf.is_empty() {
            f(Piece::Line(seg));
        } else {
            self.buf.extend_from_slice(seg);
            f(Piece::Line(&self.buf));
            self.buf.clear();
        }
    }

    /// The end of the file: the last line if it had no `\n`.
    pub fn finish(&mut self, mut f: impl FnMut(Piece<'_>)) {
        if let Some(n) = self.skipping.take() {
            f(Piece::TooLong(n));
        } else if !self.buf.is_empty() {
            f(Piece::Line(&self.buf));
        }
        self.buf = Vec::new();
    }
}
