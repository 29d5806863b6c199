//! Pure chart geometry for the canvas: value range with padding, "nice"
//! value ticks, time ticks with `HH:MM:SS` labels, per-pixel-column min/max
//! decimation, the time window the user chose, per-series normalisation
//! (each series scaled to its own min..max, 0–100 %), and the readout of the
//! values under the pointer (nearest point by time, binary search when the
//! points are in time order).
//!
//! Everything is computed from the points, a time window `[t0, t1]` (ms since
//! the Unix epoch) and a pixel rectangle; the canvas component only strokes
//! what [`layout_sources`] returns. No drawing, no DOM, no clock: the local
//! time zone comes in as a UTC offset in minutes
//! (`-new Date().getTimezoneOffset()`) and "now" as a number. Non-finite
//! values and times are skipped everywhere; nothing panics on an empty
//! series, a flat series, points out of time order, or a degenerate
//! rectangle.

use crate::decimal::{pow10, Exp, Fixed, Shortest};
use crate::series::Series;
use std::collections::VecDeque;

/// Tick counts asked for are clamped to this many.
pub const MAX_TICKS: usize = 1_000;

/// The widest plot, in pixel columns, that decimation will bin into (a
/// guard against absurd widths; wider plots are binned at this resolution).
pub const MAX_COLUMNS: usize = 16_384;

/// A rectangle in canvas pixels; `y` grows downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
}

/// Maps times and values to pixels inside a [`Rect`]: `t0` to the left
/// edge, `t1` to the right, `lo` to the bottom and `hi` to the top.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Start of the time window (ms).
    pub t0: f64,
    /// End of the time window (ms).
    pub t1: f64,
    /// Value at the bottom edge.
    pub lo: f64,
    /// Value at the top edge.
    pub hi: f64,
    /// The plot area.
    pub rect: Rect,
}

impl Scale {
    /// A scale, or `None` when the window or range is empty or not finite.
    pub fn new(t0: f64, t1: f64, lo: f64, hi: f64, rect: Rect) -> Option<Scale> {
        let finite = [t0, t1, lo, hi, rect.x, rect.y, rect.width, rect.height]
            .iter()
            .all(|v| v.is_finite());
        (finite && t1 > t0 && hi > lo).then_some(Scale {
            t0,
            t1,
            lo,
            hi,
            rect,
        })
    }

    /// The x pixel of time `t`.
    pub fn x(&self, t: f64) -> f64 {
        self.rect.x + (t - self.t0) / (self.t1 - self.t0) * self.rect.width
    }

    /// The y pixel of value `v` (larger values are higher, i.e. smaller y).
    pub fn y(&self, v: f64) -> f64 {
        self.rect.y + self.rect.height - (v - self.lo) / (self.hi - self.lo) * self.rect.height
    }

    /// The time under the x pixel `x`, the inverse of [`Scale::x`]; `None`
    /// when `x` is outside the plot (the value labels' margin, say) or not
    /// finite.
    pub fn time_at(&self, x: f64) -> Option<f64> {
        let inside = x >= self.rect.x && x <= self.rect.x + self.rect.width;
        (inside && self.rect.width > 0.0)
            .then(|| self.t0 + (x - self.rect.x) / self.rect.width * (self.t1 - self.t0))
    }
}

/// The minimum and maximum finite value among the points whose time is in
/// `[t0, t1]`; `None` when there is none.
pub fn value_range(
    points: impl IntoIterator<Item = (f64, f64)>,
    t0: f64,
    t1: f64,
) -> Option<(f64, f64)> {
    points
        .into_iter()
        .filter(|&(t, v)| t >= t0 && t <= t1 && v.is_finite())
        .fold(None, |acc, (_, v)| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens `[min, max]` by 5 % on each side so lines do not touch the edges;
/// a flat range becomes `v ± 10 % of |v|` (or `± 1` around zero).
pub fn padded_range(min: f64, max: f64) -> (f64, f64) {
    let (min, max) = if min <= max { (min, max) } else { (max, min) };
    let span = max - min;
    if !span.is_finite() {
        return (min, max);
    }
    if span <= f64::EPSILON * max.abs().max(min.abs()) {
        let pad = if min.abs() > 0.0 {
            min.abs() * 0.1
        } else {
            1.0
        };
        return (min - pad, max + pad);
    }
    (min - span * 0.05, max + span * 0.05)
}

/// The "nice" step (1, 2 or 5 times a power of ten) that divides
/// `[lo, hi]` into about `max_ticks` intervals: the nice number nearest
/// (geometrically) to `span / max_ticks`, so at most about 1.4 × `max_ticks`.
pub fn nice_step(lo: f64, hi: f64, max_ticks: usize) -> Option<f64> {
    let span = hi - lo;
    if !span.is_finite() || span <= 0.0 {
        return None;
    }
    let raw = span / max_ticks.clamp(1, MAX_TICKS) as f64;
    // `as` saturates: raw underflowing to 0 gives -inf, i32::MIN and 0.
    let magnitude = pow10(raw.log10().floor() as i32);
    if !magnitude.is_finite() || magnitude <= 0.0 {
        return None;
    }
    let error = raw / magnitude;
    let factor = if error >= 50f64.sqrt() {
        10.0
    } else if error >= 10f64.sqrt() {
        5.0
    } else if error >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    Some(factor * magnitude)
}

/// Tick values on multiples of a nice step, inside `[lo, hi]`, increasing.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let max_ticks = max_ticks.clamp(1, MAX_TICKS);
    let Some(step) = nice_step(lo, hi, max_ticks) else {
        return if lo.is_finite() && lo == hi {
            vec![lo]
        } else {
            Vec::new()
        };
    };
    let first = (lo / step).ceil();
    let mut ticks = Vec::new();
    for i in 0..=2 * max_ticks + 2 {
        let v = (first + i as f64) * step;
        if v > hi + step * 1e-9 {
            break;
        }
        let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
        ticks.push(v.min(hi).max(lo));
    }
    ticks
}

/// Formats a value tick with as many decimals as its step needs.
pub fn format_value(v: f64, step: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let decimals = if step.is_finite() && step > 0.0 && step < 1.0 {
        (-step.log10().floor()).clamp(0.0, 12.0) as usize
    } else {
        0
    };
    let abs = v.abs();
    if abs != 0.0 && !(1e-12..1e15).contains(&abs) {
        return Exp(v).to_string();
    }
    Fixed(v, decimals).to_string()
}

const TIME_STEPS_MS: [f64; 24] = [
    100.0,
    200.0,
    500.0,
    1e3,
    2e3,
    5e3,
    10e3,
    15e3,
    30e3,
    60e3,
    120e3,
    300e3,
    600e3,
    900e3,
    1_800e3,
    3_600e3,
    7_200e3,
    10_800e3,
    21_600e3,
    43_200e3,
    86_400e3,
    172_800e3,
    604_800e3,
    2_592_000e3,
];

/// Time ticks in `[t0, t1]` on round local times (whole seconds, minutes,
/// hours… in the given UTC offset), at most about `max_ticks` of them.
pub fn time_ticks(t0: f64, t1: f64, max_ticks: usize, utc_offset_minutes: i32) -> Vec<f64> {
    if !(t0.is_finite() && t1.is_finite()) || t1 <= t0 {
        return Vec::new();
    }
    let span = t1 - t0;
    let max_ticks = max_ticks.clamp(1, MAX_TICKS);
    let max = max_ticks as f64;
    let step = TIME_STEPS_MS
        .iter()
        .copied()
        .find(|s| span / s <= max)
        .unwrap_or_else(|| (span / max / 86_400e3).ceil() * 86_400e3);
    let offset = f64::from(utc_offset_minutes) * 60_000.0;
    let first = ((t0 + offset) / step).ceil() * step - offset;
    (0..=max_ticks + 1)
        .map(|i| first + i as f64 * step)
        .take_while(|t| *t <= t1)
        .collect()
}

/// `HH:MM:SS` of `ms` (since the Unix epoch) in the given UTC offset;
/// `--:--:--` for a time that is not finite.
pub fn format_hms(ms: f64, utc_offset_minutes: i32) -> String {
    if !ms.is_finite() {
        return "--:--:--".to_owned();
    }
    let local = ms + f64::from(utc_offset_minutes) * 60_000.0;
    let secs = (local / 1000.0).floor().rem_euclid(86_400.0) as u32;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `HH:MM:SS.mmm`, for message times and sub-second ticks.
pub fn format_hms_millis(ms: f64, utc_offset_minutes: i32) -> String {
    if !ms.is_finite() {
        return "--:--:--.---".to_owned();
    }
    let millis = (ms.floor().rem_euclid(1000.0)) as u32;
    format!("{}.{millis:03}", format_hms(ms, utc_offset_minutes))
}

#[derive(Clone, Copy)]
struct Column {
    min: (usize, f64, f64),
    max: (usize, f64, f64),
}

/// Maps the points in the scale's time window to pixels. When there are
/// more points than pixel columns, keeps per column only the minimum and
/// the maximum (in the order they occurred), so the polyline has at most
/// 2 × width points and every spike stays visible. Points outside the
/// window and non-finite points are skipped.
pub fn decimate(points: impl IntoIterator<Item = (f64, f64)>, scale: &Scale) -> Vec<(f64, f64)> {
    let in_window: Vec<(f64, f64)> = points
        .into_iter()
        .filter(|&(t, v)| t.is_finite() && v.is_finite() && t >= scale.t0 && t <= scale.t1)
        .collect();
    let columns = (scale.rect.width.ceil().max(1.0) as usize).min(MAX_COLUMNS);
    if in_window.len() <= columns {
        return in_window
            .iter()
            .map(|&(t, v)| (scale.x(t), scale.y(v)))
            .collect();
    }
    let mut bins: Vec<Option<Column>> = vec![None; columns];
    let per_ms = columns as f64 / (scale.t1 - scale.t0);
    for (order, &(t, v)) in in_window.iter().enumerate() {
        let col = (((t - scale.t0) * per_ms).floor().max(0.0) as usize).min(columns - 1);
        if let Some(bin) = bins.get_mut(col) {
            match bin {
                None => {
                    *bin = Some(Column {
                        min: (order, t, v),
                        max: (order, t, v),
                    })
                }
                Some(c) => {
                    if v < c.min.2 {
                        c.min = (order, t, v);
                    }
                    if v > c.max.2 {
                        c.max = (order, t, v);
                    }
                }
            }
        }
    }
    let mut out = Vec::with_capacity(columns * 2);
    for c in bins.into_iter().flatten() {
        let (first, second) = if c.min.0 <= c.max.0 {
            (c.min, c.max)
        } else {
            (c.max, c.min)
        };
        out.push((scale.x(first.1), scale.y(first.2)));
        if second.0 != first.0 {
            out.push((scale.x(second.1), scale.y(second.2)));
        }
    }
    out
}

/// One axis tick: where it goes, its value, and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Pixel position along the axis (y for values, x for times).
    pub pos: f64,
    /// The value (or time in ms) it marks.
    pub value: f64,
    /// The label to draw.
    pub label: String,
}

/// One series' polyline, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Index of the series in the input (for its colour and legend entry).
    pub series: usize,
    /// The series' name, for the legend.
    pub name: String,
    /// Its colour from [`SERIES_PALETTE`].
    pub colour: &'static str,
    /// The points to stroke, left to right.
    pub points: Vec<(f64, f64)>,
    /// The newest value (inside the window), for the legend.
    pub last_value: Option<f64>,
    /// When the chart is normalised: the series' real `(min, max)` in the
    /// window, drawn as 0–100 %. `None` when values are drawn as they are.
    pub range: Option<(f64, f64)>,
    /// Whether the series' points were in time order when laid out, so the
    /// readout may binary-search them (see [`nearest_by_time`]).
    pub time_ordered: bool,
}

impl Line {
    /// The value drawn for the real value `v`: `v` itself, or its place in
    /// the series' own range in percent when the chart is normalised.
    pub fn plotted(&self, v: f64) -> f64 {
        match self.range {
            Some(range) => normalise(v, range),
            None => v,
        }
    }
}

/// Everything the canvas needs to draw one chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLayout {
    /// The mapping used.
    pub scale: Scale,
    /// Value axis ticks, bottom to top.
    pub value_ticks: Vec<Tick>,
    /// Time axis ticks, left to right.
    pub time_ticks: Vec<Tick>,
    /// One polyline per shown series.
    pub lines: Vec<Line>,
    /// Whether each line is scaled to its own range (value axis in %).
    pub normalised: bool,
}

/// Line colours for a chart's series, in order: twelve before any repeats.
/// Each has a contrast of at least 3.2:1 with white and 3.7:1 with the dark
/// theme's panel (`#161b22`), so a line reads on either theme (WCAG's 3:1
/// for graphics), and any two differ by a CIEDE2000 ΔE of at least 19.
/// Yellow and light cyan cannot meet the contrast on white and are left out.
pub const SERIES_PALETTE: [&str; 12] = [
    "#406ce5", "#d9730d", "#358c5a", "#f8374a", "#a335ff", "#0c8186", "#8e7208", "#ff23b4",
    "#0099d5", "#7c9b05", "#a06776", "#7f7f7f",
];

/// The colour of the `i`-th series.
pub fn series_colour(i: usize) -> &'static str {
    SERIES_PALETTE
        .get(i % SERIES_PALETTE.len())
        .copied()
        .unwrap_or("#4e79a7")
}

fn points_of(points: &VecDeque<(f64, f64)>) -> impl Iterator<Item = (f64, f64)> + '_ {
    points.iter().copied()
}

/// Scales `v` to its place in `(min, max)`, in percent: `min` is 0, `max`
/// is 100. A flat range puts every value at 50 (the middle, not the floor,
/// so a constant series stays visible); a non-finite `v` stays non-finite
/// (and is skipped when drawn).
pub fn normalise(v: f64, (min, max): (f64, f64)) -> f64 {
    let span = max - min;
    if span.is_finite() {
        if span > 0.0 {
            (v - min) / span * 100.0
        } else if v.is_finite() {
            50.0
        } else {
            f64::NAN
        }
    } else {
        // A range wider than f64 can hold: halve everything first.
        let half = max * 0.5 - min * 0.5;
        (v * 0.5 - min * 0.5) / half * 100.0
    }
}

/// Whether the points' times never decrease (and are all finite). Points
/// are appended as they arrive, but a payload's own timestamps (OneNet's
/// `t`) can go backwards, so this is checked rather than assumed.
pub fn is_time_ordered(points: &VecDeque<(f64, f64)>) -> bool {
    let mut previous = f64::NEG_INFINITY;
    points.iter().all(|&(t, _)| {
        let ok = t.is_finite() && t >= previous;
        previous = t;
        ok
    })
}

/// The point nearest in time to `t` among those in `[t0, t1]` with a finite
/// time and value; on a tie, the newer one. With `ordered` (the points are
/// in time order, see [`is_time_ordered`]) it binary-searches; otherwise it
/// scans them all. A wrong `ordered` gives a point of the window that may
/// not be the nearest, never a panic.
pub fn nearest_by_time(
    points: &VecDeque<(f64, f64)>,
    t: f64,
    t0: f64,
    t1: f64,
    ordered: bool,
) -> Option<(f64, f64)> {
    if !t.is_finite() {
        return None;
    }
    let usable = |&(pt, v): &(f64, f64)| pt.is_finite() && v.is_finite() && pt >= t0 && pt <= t1;
    // The nearer of two points; on a tie the newer, whichever came first.
    let nearer = |a: Option<(f64, f64)>, b: (f64, f64)| match a {
        Some(a) => {
            let (da, db) = ((a.0 - t).abs(), (b.0 - t).abs());
            Some(if da < db || (da == db && a.0 > b.0) {
                a
            } else {
                b
            })
        }
        None => Some(b),
    };
    if !ordered {
        return points
            .iter()
            .filter(|p| usable(p))
            .fold(None, |best, &p| nearer(best, p));
    }
    let start = points.partition_point(|p| p.0 < t0);
    let end = points.partition_point(|p| p.0 <= t1).max(start);
    let split = points.partition_point(|p| p.0 < t).clamp(start, end);
    let before = (start..split)
        .rev()
        .filter_map(|i| points.get(i))
        .find(|p| usable(p));
    let after = (split..end)
        .filter_map(|i| points.get(i))
        .find(|p| usable(p));
    match (before, after) {
        (Some(&b), Some(&a)) => nearer(Some(b), a),
        (b, a) => b.or(a).copied(),
    }
}

/// One line to chart: the name its legend entry shows, its points, and
/// whether the user has it shown. Its colour is its index in the list given
/// to [`layout_sources`], so hiding a series does not recolour the others.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The legend name (a series name, or a panel's topic).
    pub name: &'a str,
    /// The points.
    pub series: &'a Series,
    /// Drawn and counted in the value range; hidden series are neither.
    pub shown: bool,
}

/// Where and how to lay out a chart: the time window, the plot rectangle,
/// the local time zone, how many ticks fit, and whether to normalise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartSpec {
    /// Start of the time window (ms).
    pub t0: f64,
    /// End of the time window (ms).
    pub t1: f64,
    /// The plot area, in the canvas' CSS pixels.
    pub plot: Rect,
    /// `-new Date().getTimezoneOffset()`, for the time labels.
    pub utc_offset_minutes: i32,
    /// About this many value ticks.
    pub max_value_ticks: usize,
    /// About this many time ticks.
    pub max_time_ticks: usize,
    /// Draw each series scaled to its own min..max in the window (0–100 %).
    pub normalised: bool,
}

/// The time windows a chart offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowChoice {
    /// The last minute.
    OneMinute,
    /// The last ten minutes.
    #[default]
    TenMinutes,
    /// The last hour.
    OneHour,
    /// Every point kept.
    All,
}

/// How long the default window is; also how old the newest point may be
/// before an "all kept" window stops following the clock.
pub const DEFAULT_WINDOW_MS: f64 = 10.0 * 60_000.0;

/// The narrowest window drawn, so a single point gets room around it.
pub const MIN_WINDOW_MS: f64 = 30_000.0;

impl WindowChoice {
    /// Every choice, in the order the select lists them.
    pub const ALL: [WindowChoice; 4] = [
        WindowChoice::OneMinute,
        WindowChoice::TenMinutes,
        WindowChoice::OneHour,
        WindowChoice::All,
    ];

    /// How much history it shows; `None` for every point kept.
    pub fn span_ms(self) -> Option<f64> {
        match self {
            WindowChoice::OneMinute => Some(60_000.0),
            WindowChoice::TenMinutes => Some(DEFAULT_WINDOW_MS),
            WindowChoice::OneHour => Some(3_600_000.0),
            WindowChoice::All => None,
        }
    }

    /// The `<option>` value.
    pub fn key(self) -> &'static str {
        match self {
            WindowChoice::OneMinute => "1m",
            WindowChoice::TenMinutes => "10m",
            WindowChoice::OneHour => "1h",
            WindowChoice::All => "all",
        }
    }

    /// The `<option>` text.
    pub fn label(self) -> &'static str {
        match self {
            WindowChoice::OneMinute => "1 min",
            WindowChoice::TenMinutes => "10 min",
            WindowChoice::OneHour => "1 h",
            WindowChoice::All => "all kept",
        }
    }

    /// The choice whose [`WindowChoice::key`] is `key`.
    pub fn from_key(key: &str) -> Option<WindowChoice> {
        WindowChoice::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// The time window `(t0, t1)` to draw `series` in at time `now`, or `None`
/// when they hold no finite point. It ends at `now` while the data is
/// recent, so the chart follows the clock; when the newest point is older
/// than the window's span (10 min for "all kept"), it ends at that point
/// instead: data stamped long ago (a device clock that is off, OneNet's `t`
/// replayed from the documentation) or a sensor gone quiet is shown where it
/// is rather than leaving an empty chart. It starts a span before its end
/// (or at the oldest point, for "all kept", or when the data is younger),
/// and is never narrower than [`MIN_WINDOW_MS`].
pub fn time_window<'a>(
    series: impl IntoIterator<Item = &'a Series>,
    now: f64,
    choice: WindowChoice,
) -> Option<(f64, f64)> {
    let (oldest, newest_point) = series
        .into_iter()
        .flat_map(|s| s.points().iter().map(|&(t, _)| t))
        .filter(|t| t.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, t| match acc {
            None => Some((t, t)),
            Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
        })?;
    let stale_after = choice.span_ms().unwrap_or(DEFAULT_WINDOW_MS);
    let newest = if newest_point < now - stale_after || !now.is_finite() {
        newest_point
    } else {
        newest_point.max(now)
    };
    let start = match choice.span_ms() {
        Some(span) => oldest.max(newest - span),
        None => oldest,
    };
    Some((start.min(newest - MIN_WINDOW_MS), newest))
}

/// The values under the pointer: the time at its x, and for each shown
/// series its point nearest that time (real values, even when normalised).
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    /// The pointer's x, in the layout's pixels (for the guide line).
    pub x: f64,
    /// The time under the pointer (ms).
    pub time: f64,
    /// One entry per drawn line, in legend order.
    pub values: Vec<ReadoutValue>,
}

/// One series' entry in a [`Readout`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReadoutValue {
    /// The legend name.
    pub name: String,
    /// The line's colour.
    pub colour: &'static str,
    /// The nearest point in the window, `(time_ms, real value)`.
    pub point: Option<(f64, f64)>,
    /// Where that point is drawn, in pixels (for a marker).
    pub pos: Option<(f64, f64)>,
}

/// The readout at the x pixel `x` of a chart laid out by [`layout_sources`]
/// from `sources`; `None` outside the plot. Sources are matched to lines by
/// index and name, so a list that changed since the layout yields no value
/// for a line it no longer has, not the wrong one.
pub fn readout(layout: &ChartLayout, sources: &[Source<'_>], x: f64) -> Option<Readout> {
    let scale = &layout.scale;
    let time = scale.time_at(x)?;
    let values = layout
        .lines
        .iter()
        .map(|line| {
            let source = sources
                .get(line.series)
                .filter(|s| s.name == line.name)
                .or_else(|| sources.iter().find(|s| s.name == line.name));
            let point = source.and_then(|s| {
                nearest_by_time(
                    s.series.points(),
                    time,
                    scale.t0,
                    scale.t1,
                    line.time_ordered,
                )
            });
            ReadoutValue {
                name: line.name.clone(),
                colour: line.colour,
                point,
                pos: point.map(|(t, v)| (scale.x(t), scale.y(line.plotted(v)))),
            }
        })
        .collect();
    Some(Readout { x, time, values })
}

impl Readout {
    /// The readout as one line of text: `12:34:56 · temp 21.5 · hum none`.
    pub fn text(&self, utc_offset_minutes: i32) -> String {
        let mut out = format_hms(self.time, utc_offset_minutes);
        for v in &self.values {
            out.push_str(" · ");
            out.push_str(&v.name);
            match v.point {
                Some((_, value)) => out.push_str(&format!(" {}", Shortest(value))),
                None => out.push_str(" none"),
            }
        }
        out
    }
}

/// Lays out a chart of `series` (all shown, named by their own names, not
/// normalised) over the window `[t0, t1]` in the plot rectangle `plot`; see
/// [`layout_sources`].
pub fn layout(
    series: &[&Series],
    t0: f64,
    t1: f64,
    plot: Rect,
    utc_offset_minutes: i32,
    max_value_ticks: usize,
    max_time_ticks: usize,
) -> Option<ChartLayout> {
    let sources: Vec<Source<'_>> = series
        .iter()
        .map(|s| Source {
            name: s.name(),
            series: s,
            shown: true,
        })
        .collect();
    layout_sources(
        &sources,
        &ChartSpec {
            t0,
            t1,
            plot,
            utc_offset_minutes,
            max_value_ticks,
            max_time_ticks,
            normalised: false,
        },
    )
}

/// Lays out a chart of the shown `sources` as `spec` says: a padded value
/// range over the shown series (0–100 % when normalised), value ticks, time
/// ticks with labels, and one decimated polyline per shown series. `None`
/// when no shown series has a finite point in the window (the UI then says
/// so instead of drawing).
pub fn layout_sources(sources: &[Source<'_>], spec: &ChartSpec) -> Option<ChartLayout> {
    let (t0, t1) = (spec.t0, spec.t1);
    let shown = || sources.iter().enumerate().filter(|(_, s)| s.shown);
    let (min, max) = value_range(
        shown().flat_map(|(_, s)| points_of(s.series.points())),
        t0,
        t1,
    )?;
    let (lo, hi) = if spec.normalised {
        padded_range(0.0, 100.0)
    } else {
        padded_range(min, max)
    };
    let scale = Scale::new(t0, t1, lo, hi, spec.plot)?;
    let step = nice_step(lo, hi, spec.max_value_ticks).unwrap_or(1.0);
    let value_ticks = nice_ticks(lo, hi, spec.max_value_ticks)
        .into_iter()
        .filter(|v| !spec.normalised || (0.0..=100.0).contains(v))
        .map(|v| Tick {
            pos: scale.y(v),
            value: v,
            label: if spec.normalised {
                format!("{} %", format_value(v, step))
            } else {
                format_value(v, step)
            },
        })
        .collect();
    let offset = spec.utc_offset_minutes;
    let times = time_ticks(t0, t1, spec.max_time_ticks, offset);
    let sub_second = match (times.first(), times.get(1)) {
        (Some(a), Some(b)) => b - a < 1000.0,
        _ => false,
    };
    let time_ticks = times
        .into_iter()
        .map(|t| Tick {
            pos: scale.x(t),
            value: t,
            label: if sub_second {
                format_hms_millis(t, offset)
            } else {
                format_hms(t, offset)
            },
        })
        .collect();
    let lines = shown()
        .map(|(i, s)| {
            let points = s.series.points();
            let range = if spec.normalised {
                value_range(points_of(points), t0, t1)
            } else {
                None
            };
            let drawn = match range {
                Some(r) => decimate(points_of(points).map(|(t, v)| (t, normalise(v, r))), &scale),
                None => decimate(points_of(points), &scale),
            };
            Line {
                series: i,
                name: s.name.to_owned(),
                colour: series_colour(i),
                points: drawn,
                last_value: points
                    .iter()
                    .rev()
                    .find(|(t, v)| *t >= t0 && *t <= t1 && v.is_finite())
                    .map(|(_, v)| *v),
                range,
                time_ordered: is_time_ordered(points),
            }
        })
        .collect();
    Some(ChartLayout {
        scale,
        value_ticks,
        time_ticks,
        lines,
        normalised: spec.normalised,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::SeriesSet;

    const RECT: Rect = Rect {
        x: 10.0,
        y: 20.0,
        width: 100.0,
        height: 50.0,
    };

    #[test]
    fn scaling_maps_min_to_bottom_and_max_to_top() {
        let s = Scale::new(0.0, 1000.0, -5.0, 15.0, RECT).unwrap();
        assert_eq!(s.y(-5.0), 70.0);
        assert_eq!(s.y(15.0), 20.0);
        assert_eq!(s.y(5.0), 45.0);
        assert_eq!(s.x(0.0), 10.0);
        assert_eq!(s.x(1000.0), 110.0);
    }

    #[test]
    fn degenerate_scales_are_refused() {
        assert!(Scale::new(0.0, 0.0, 0.0, 1.0, RECT).is_none());
        assert!(Scale::new(0.0, 1.0, 1.0, 1.0, RECT).is_none());
        assert!(Scale::new(0.0, f64::NAN, 0.0, 1.0, RECT).is_none());
    }

    #[test]
    fn value_range_skips_non_finite_values_and_points_outside_the_window() {
        let pts = [
            (0.0, 100.0),
            (5.0, f64::NAN),
            (6.0, 2.0),
            (7.0, f64::INFINITY),
            (8.0, -1.0),
            (20.0, -50.0),
        ];
        assert_eq!(value_range(pts, 1.0, 10.0), Some((-1.0, 2.0)));
        assert_eq!(value_range([(1.0, f64::NAN)], 0.0, 10.0), None);
        assert_eq!(value_range([], 0.0, 10.0), None);
    }

    #[test]
    fn padding_widens_the_range_and_opens_up_a_flat_series() {
        assert_eq!(padded_range(0.0, 10.0), (-0.5, 10.5));
        assert_eq!(padded_range(20.0, 20.0), (18.0, 22.0));
        assert_eq!(padded_range(0.0, 0.0), (-1.0, 1.0));
        assert_eq!(padded_range(-20.0, -20.0), (-22.0, -18.0));
    }

    #[test]
    fn nice_ticks_are_monotone_round_and_inside_the_range() {
        for &(lo, hi, n) in &[
            (-0.5, 10.5, 5),
            (0.013, 0.0171, 4),
            (-1234.0, 98765.0, 6),
            (18.0, 22.0, 5),
            (1e-9, 3e-9, 3),
        ] {
            let ticks = nice_ticks(lo, hi, n);
            assert!(!ticks.is_empty(), "no ticks for {lo}..{hi}");
            assert!(
                ticks.len() * 2 <= n * 3 + 2,
                "{} ticks for {lo}..{hi}",
                ticks.len()
            );
            assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{ticks:?}");
            assert!(
                ticks.iter().all(|t| *t >= lo && *t <= hi),
                "{ticks:?} outside {lo}..{hi}"
            );
        }
        assert_eq!(
            nice_ticks(-0.5, 10.5, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
    }

    #[test]
    fn nice_ticks_of_an_empty_or_broken_range_do_not_loop_or_panic() {
        assert_eq!(nice_ticks(3.0, 3.0, 5), vec![3.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(5.0, 1.0, 5).is_empty());
        assert!(nice_ticks(-f64::MAX, f64::MAX, 5).len() <= 7);
    }

    #[test]
    fn absurd_tick_counts_are_clamped() {
        assert!(nice_ticks(0.0, 1.0, usize::MAX).len() <= 2 * MAX_TICKS + 3);
        assert!(time_ticks(0.0, 1e12, usize::MAX, 0).len() <= MAX_TICKS + 2);
    }

    #[test]
    fn value_labels_carry_the_decimals_the_step_needs() {
        assert_eq!(format_value(2.0, 2.0), "2");
        assert_eq!(format_value(0.015, 0.005), "0.015");
        assert_eq!(format_value(0.25, 0.05), "0.25");
        assert_eq!(format_value(-3.5, 0.5), "-3.5");
    }

    #[test]
    fn time_labels_are_hh_mm_ss_in_the_given_offset() {
        let t = 1_552_289_676_000.0; // 2019-03-11T07:34:36Z
        assert_eq!(format_hms(t, 0), "07:34:36");
        assert_eq!(format_hms(t, 480), "15:34:36");
        assert_eq!(format_hms(t, -480), "23:34:36");
        assert_eq!(format_hms_millis(t + 7.0, 0), "07:34:36.007");
        assert_eq!(format_hms(f64::NAN, 0), "--:--:--");
    }

    #[test]
    fn time_ticks_fall_on_round_local_times_inside_the_window() {
        let t0 = 1_552_289_676_123.0;
        let t1 = t0 + 60_000.0;
        let ticks = time_ticks(t0, t1, 6, 330);
        assert!(!ticks.is_empty() && ticks.len() <= 7);
        assert!(ticks.windows(2).all(|w| w[0] < w[1]));
        assert!(ticks.iter().all(|t| *t >= t0 && *t <= t1));
        assert!(ticks.iter().all(|t| format_hms(*t, 330).ends_with('0')));
        assert!(time_ticks(t1, t0, 6, 0).is_empty());
    }

    #[test]
    fn decimation_keeps_the_global_min_and_max_and_at_most_two_points_per_column() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| {
                let v = match i {
                    4321 => 1000.0,
                    8765 => -1000.0,
                    _ => (f64::from(i) * 0.01).sin(),
                };
                (f64::from(i), v)
            })
            .collect();
        let scale = Scale::new(0.0, 10_000.0, -1000.0, 1000.0, RECT).unwrap();
        let out = decimate(pts.iter().copied(), &scale);
        assert!(out.len() <= 2 * RECT.width as usize, "{} points", out.len());
        let top = scale.y(1000.0);
        let bottom = scale.y(-1000.0);
        assert!(out.iter().any(|p| (p.1 - top).abs() < 1e-9));
        assert!(out.iter().any(|p| (p.1 - bottom).abs() < 1e-9));
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn few_points_are_mapped_one_to_one() {
        let scale = Scale::new(0.0, 10.0, 0.0, 10.0, RECT).unwrap();
        let out = decimate(
            [(0.0, 0.0), (5.0, f64::NAN), (10.0, 10.0), (11.0, 3.0)],
            &scale,
        );
        assert_eq!(out, vec![(10.0, 70.0), (110.0, 20.0)]);
    }

    #[test]
    fn layout_builds_ticks_and_one_line_per_series() {
        let mut set = SeriesSet::new();
        for i in 0..500 {
            set.push("a", f64::from(i) * 100.0, f64::from(i % 7), 2000, 16, true);
            set.push("b", f64::from(i) * 100.0, 3.0, 2000, 16, true);
        }
        let refs: Vec<&Series> = set.iter().collect();
        let chart = layout(&refs, 0.0, 50_000.0, RECT, 0, 5, 4).unwrap();
        assert_eq!(chart.lines.len(), 2);
        assert_eq!(chart.lines[1].name, "b");
        assert_eq!(chart.lines[0].last_value, Some(f64::from(499 % 7)));
        assert!(chart.lines.iter().all(|l| l.points.len() <= 200));
        assert!(chart.value_ticks.windows(2).all(|w| w[0].pos > w[1].pos));
        assert!(chart.time_ticks.iter().all(|t| t.label.len() == 8));
        assert!(layout(&refs, 1e9, 2e9, RECT, 0, 5, 4).is_none());
    }

    fn set_of(points: &[(&str, f64, f64)]) -> SeriesSet {
        let mut set = SeriesSet::new();
        for (name, t, v) in points {
            set.push(name, *t, *v, 5_000, 16, true);
        }
        set
    }

    fn deque(points: &[(f64, f64)]) -> VecDeque<(f64, f64)> {
        points.iter().copied().collect()
    }

    fn spec(t0: f64, t1: f64, normalised: bool) -> ChartSpec {
        ChartSpec {
            t0,
            t1,
            plot: RECT,
            utc_offset_minutes: 0,
            max_value_ticks: 5,
            max_time_ticks: 4,
            normalised,
        }
    }

    fn sources<'a>(set: &'a SeriesSet, hidden: &[&str]) -> Vec<Source<'a>> {
        set.iter()
            .map(|s| Source {
                name: s.name(),
                series: s,
                shown: !hidden.contains(&s.name()),
            })
            .collect()
    }

    #[test]
    fn the_palette_has_twelve_distinct_colours_before_it_repeats() {
        let first: Vec<&str> = (0..12).map(series_colour).collect();
        let mut unique = first.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 12, "{first:?}");
        assert_eq!(series_colour(12), series_colour(0));
        assert_eq!(series_colour(23), series_colour(11));
    }

    #[test]
    fn every_palette_colour_is_a_six_digit_hex_colour() {
        for c in SERIES_PALETTE {
            assert!(c.len() == 7 && c.starts_with('#'), "{c}");
            assert!(c[1..].chars().all(|d| d.is_ascii_hexdigit()), "{c}");
        }
    }

    #[test]
    fn time_at_undoes_x_and_refuses_pixels_outside_the_plot() {
        let s = Scale::new(1000.0, 2000.0, 0.0, 1.0, RECT).unwrap();
        assert_eq!(s.time_at(s.x(1250.0)), Some(1250.0));
        assert_eq!(s.time_at(10.0), Some(1000.0));
        assert_eq!(s.time_at(110.0), Some(2000.0));
        assert_eq!(s.time_at(9.0), None);
        assert_eq!(s.time_at(111.0), None);
        assert_eq!(s.time_at(f64::NAN), None);
    }

    #[test]
    fn normalising_maps_the_range_to_0_to_100_percent() {
        assert_eq!(normalise(10.0, (10.0, 20.0)), 0.0);
        assert_eq!(normalise(20.0, (10.0, 20.0)), 100.0);
        assert_eq!(normalise(12.5, (10.0, 20.0)), 25.0);
        assert_eq!(normalise(-1.0, (-3.0, 1.0)), 50.0);
    }

    #[test]
    fn a_flat_series_normalises_to_the_middle_and_non_finite_values_stay_non_finite() {
        assert_eq!(normalise(7.0, (7.0, 7.0)), 50.0);
        assert!(normalise(f64::NAN, (0.0, 1.0)).is_nan());
        assert!(normalise(f64::INFINITY, (7.0, 7.0)).is_nan());
    }

    #[test]
    fn a_range_wider_than_f64_still_normalises_to_finite_percentages() {
        let range = (-f64::MAX, f64::MAX);
        assert_eq!(normalise(0.0, range), 50.0);
        assert_eq!(normalise(f64::MAX, range), 100.0);
        assert_eq!(normalise(-f64::MAX, range), 0.0);
    }

    #[test]
    fn time_order_is_checked_not_assumed() {
        assert!(is_time_ordered(&deque(&[])));
        assert!(is_time_ordered(&deque(&[
            (1.0, 0.0),
            (1.0, 5.0),
            (3.0, 1.0)
        ])));
        assert!(!is_time_ordered(&deque(&[
            (1.0, 0.0),
            (3.0, 5.0),
            (2.0, 1.0)
        ])));
        assert!(!is_time_ordered(&deque(&[(1.0, 0.0), (f64::NAN, 5.0)])));
    }

    #[test]
    fn the_nearest_point_by_time_is_found_by_binary_search_in_ordered_points() {
        let pts = deque(&[(0.0, 1.0), (10.0, 2.0), (20.0, 3.0), (30.0, 4.0)]);
        assert_eq!(
            nearest_by_time(&pts, 12.0, 0.0, 30.0, true),
            Some((10.0, 2.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 18.0, 0.0, 30.0, true),
            Some((20.0, 3.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 15.0, 0.0, 30.0, true),
            Some((20.0, 3.0))
        );
        assert_eq!(
            nearest_by_time(&pts, -50.0, 0.0, 30.0, true),
            Some((0.0, 1.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 99.0, 0.0, 30.0, true),
            Some((30.0, 4.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 20.0, 0.0, 30.0, true),
            Some((20.0, 3.0))
        );
    }

    #[test]
    fn the_nearest_point_stays_inside_the_window_and_skips_non_finite_values() {
        let pts = deque(&[(0.0, 1.0), (10.0, f64::NAN), (20.0, 3.0), (30.0, 4.0)]);
        assert_eq!(
            nearest_by_time(&pts, 9.0, 0.0, 30.0, true),
            Some((0.0, 1.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 1.0, 5.0, 25.0, true),
            Some((20.0, 3.0))
        );
        assert_eq!(nearest_by_time(&pts, 1.0, 21.0, 25.0, true), None);
        assert_eq!(nearest_by_time(&deque(&[]), 1.0, 0.0, 9.0, true), None);
        assert_eq!(nearest_by_time(&pts, f64::NAN, 0.0, 30.0, true), None);
    }

    #[test]
    fn points_out_of_time_order_are_scanned_for_the_true_nearest() {
        let pts = deque(&[(30.0, 4.0), (0.0, 1.0), (21.0, 3.0), (10.0, 2.0)]);
        assert!(!is_time_ordered(&pts));
        assert_eq!(
            nearest_by_time(&pts, 19.0, 0.0, 30.0, false),
            Some((21.0, 3.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 4.0, 0.0, 30.0, false),
            Some((0.0, 1.0))
        );
        assert_eq!(
            nearest_by_time(&pts, 4.0, 5.0, 30.0, false),
            Some((10.0, 2.0))
        );
        let tie = deque(&[(12.0, 1.0), (8.0, 2.0)]);
        assert_eq!(
            nearest_by_time(&tie, 10.0, 0.0, 30.0, false),
            Some((12.0, 1.0))
        );
        let tie = deque(&[(8.0, 2.0), (12.0, 1.0)]);
        assert_eq!(
            nearest_by_time(&tie, 10.0, 0.0, 30.0, true),
            Some((12.0, 1.0))
        );
    }

    #[test]
    fn binary_search_and_a_full_scan_agree_on_ordered_points() {
        let mut seed = 0x9e37_79b9_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let mut t = 0.0;
            let pts: VecDeque<(f64, f64)> = (0..next() % 40)
                .map(|i| {
                    t += (next() % 3) as f64;
                    (t, if next() % 9 == 0 { f64::NAN } else { i as f64 })
                })
                .collect();
            let at = (next() % 90) as f64 - 10.0;
            let (t0, t1) = ((next() % 20) as f64, 20.0 + (next() % 60) as f64);
            let fast = nearest_by_time(&pts, at, t0, t1, true);
            let slow = nearest_by_time(&pts, at, t0, t1, false);
            let dist = |p: Option<(f64, f64)>| p.map(|(pt, _)| (pt - at).abs());
            assert_eq!(dist(fast), dist(slow), "{pts:?} at {at} in {t0}..{t1}");
        }
    }

    #[test]
    fn window_choices_round_trip_through_their_keys_and_default_to_ten_minutes() {
        for c in WindowChoice::ALL {
            assert_eq!(WindowChoice::from_key(c.key()), Some(c));
        }
        assert_eq!(WindowChoice::from_key("2h"), None);
        assert_eq!(WindowChoice::default(), WindowChoice::TenMinutes);
        assert_eq!(WindowChoice::default().span_ms(), Some(600_000.0));
        assert_eq!(WindowChoice::All.span_ms(), None);
    }

    #[test]
    fn recent_data_is_drawn_in_a_window_that_follows_the_clock() {
        let now = 1_000_000_000.0;
        let set = set_of(&[("v", now - 5_000.0, 1.0), ("v", now - 1_000.0, 2.0)]);
        let w = time_window(set.iter(), now, WindowChoice::TenMinutes);
        assert_eq!(w, Some((now - MIN_WINDOW_MS, now)));
    }

    #[test]
    fn data_stamped_long_ago_is_drawn_where_it_is() {
        let now = 1_800_000_000_000.0;
        let t = 1_552_289_676_000.0;
        let set = set_of(&[("temp", t, 30.0)]);
        let (t0, t1) = time_window(set.iter(), now, WindowChoice::default()).unwrap();
        assert_eq!(t1, t);
        assert!(t0 < t);
    }

    #[test]
    fn the_chosen_span_limits_how_far_back_the_window_reaches() {
        let now = 10_000_000.0;
        let set = set_of(&[("v", now - 7_200_000.0, 1.0), ("v", now - 1_000.0, 2.0)]);
        let start = |c| time_window(set.iter(), now, c).map(|w| w.0);
        assert_eq!(start(WindowChoice::OneMinute), Some(now - 60_000.0));
        assert_eq!(start(WindowChoice::TenMinutes), Some(now - 600_000.0));
        assert_eq!(start(WindowChoice::OneHour), Some(now - 3_600_000.0));
        assert_eq!(start(WindowChoice::All), Some(now - 7_200_000.0));
    }

    #[test]
    fn a_window_needs_a_point_and_finds_the_extremes_of_unordered_points() {
        let empty = SeriesSet::new();
        assert_eq!(time_window(empty.iter(), 0.0, WindowChoice::All), None);
        let now = 1_000_000.0;
        let set = set_of(&[("v", now - 1_000.0, 1.0), ("v", now - 200_000.0, 2.0)]);
        let w = time_window(set.iter(), now, WindowChoice::All);
        assert_eq!(w, Some((now - 200_000.0, now)));
    }

    #[test]
    fn hidden_series_are_neither_drawn_nor_counted_in_the_value_range() {
        let set = set_of(&[
            ("small", 0.0, 1.0),
            ("big", 0.0, 1000.0),
            ("small", 10.0, 2.0),
        ]);
        let all = layout_sources(&sources(&set, &[]), &spec(0.0, 10.0, false)).unwrap();
        assert_eq!(all.lines.len(), 2);
        assert!(all.scale.hi > 1000.0);
        let some = layout_sources(&sources(&set, &["big"]), &spec(0.0, 10.0, false)).unwrap();
        assert_eq!(some.lines.len(), 1);
        assert_eq!(some.lines[0].name, "small");
        assert!(some.scale.hi < 3.0, "{:?}", some.scale);
        assert!(
            layout_sources(&sources(&set, &["big", "small"]), &spec(0.0, 10.0, false)).is_none()
        );
    }

    #[test]
    fn hiding_a_series_does_not_recolour_the_others() {
        let set = set_of(&[("a", 0.0, 1.0), ("b", 0.0, 2.0), ("c", 0.0, 3.0)]);
        let l = layout_sources(&sources(&set, &["a"]), &spec(0.0, 10.0, false)).unwrap();
        let colours: Vec<_> = l.lines.iter().map(|x| (x.series, x.colour)).collect();
        assert_eq!(colours, vec![(1, series_colour(1)), (2, series_colour(2))]);
    }

    #[test]
    fn normalised_series_of_different_magnitudes_each_span_the_whole_height() {
        let set = set_of(&[
            ("volts", 0.0, 230.0),
            ("amps", 0.0, 0.5),
            ("volts", 10.0, 240.0),
            ("amps", 10.0, 1.5),
        ]);
        let l = layout_sources(&sources(&set, &[]), &spec(0.0, 10.0, true)).unwrap();
        assert!(l.normalised);
        let (bottom, top) = (l.scale.y(0.0), l.scale.y(100.0));
        for line in &l.lines {
            let ys: Vec<f64> = line.points.iter().map(|p| p.1).collect();
            assert_eq!(ys, vec![bottom, top], "{}", line.name);
        }
        assert_eq!(l.lines[0].range, Some((230.0, 240.0)));
        assert_eq!(l.lines[1].last_value, Some(1.5));
        assert!(l.value_ticks.iter().all(|t| t.label.ends_with(" %")));
        assert!(l
            .value_ticks
            .iter()
            .all(|t| (0.0..=100.0).contains(&t.value)));
    }

    #[test]
    fn the_readout_gives_real_values_nearest_the_pointer_even_when_normalised() {
        let set = set_of(&[
            ("volts", 0.0, 230.0),
            ("amps", 0.0, 0.5),
            ("volts", 10.0, 240.0),
            ("amps", 10.0, 1.5),
        ]);
        let src = sources(&set, &[]);
        let l = layout_sources(&src, &spec(0.0, 10.0, true)).unwrap();
        let r = readout(&l, &src, l.scale.x(8.0)).unwrap();
        assert_eq!(r.time, 8.0);
        let points: Vec<_> = r.values.iter().map(|v| v.point).collect();
        assert_eq!(points, vec![Some((10.0, 240.0)), Some((10.0, 1.5))]);
        assert_eq!(r.values[0].pos, Some((l.scale.x(10.0), l.scale.y(100.0))));
        assert_eq!(r.text(0), "00:00:00 · volts 240 · amps 1.5");
        assert!(readout(&l, &src, RECT.x - 1.0).is_none());
    }

    #[test]
    fn the_readout_leaves_out_hidden_series_and_names_a_series_with_no_point() {
        let set = set_of(&[("a", 0.0, 1.0), ("b", 0.0, 2.0), ("c", 0.0, 3.0)]);
        let src = sources(&set, &["b"]);
        let l = layout_sources(&src, &spec(0.0, 10.0, false)).unwrap();
        let names: Vec<_> = readout(&l, &src, 50.0)
            .unwrap()
            .values
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(names, vec!["a", "c"]);
        let stale = &src[..1];
        let r = readout(&l, stale, 50.0).unwrap();
        assert_eq!(r.values[1].point, None);
        assert!(r.text(0).ends_with("c none"), "{}", r.text(0));
    }

    #[test]
    fn the_layout_notes_which_series_are_out_of_time_order() {
        let set = set_of(&[
            ("a", 0.0, 1.0),
            ("a", 5.0, 2.0),
            ("b", 5.0, 1.0),
            ("b", 2.0, 2.0),
        ]);
        let l = layout_sources(&sources(&set, &[]), &spec(0.0, 10.0, false)).unwrap();
        assert!(l.lines[0].time_ordered);
        assert!(!l.lines[1].time_ordered);
    }
}
