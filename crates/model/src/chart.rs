//! Pure chart geometry for the canvas: value range with padding, "nice"
//! value ticks, time ticks with `HH:MM:SS` labels, and per-pixel-column
//! min/max decimation.
//!
//! Everything is computed from the points, a time window `[t0, t1]` (ms since
//! the Unix epoch) and a pixel rectangle; the canvas component only strokes
//! what [`layout`] returns. No drawing, no DOM, no clock: the local time zone
//! comes in as a UTC offset in minutes (`-new Date().getTimezoneOffset()`).
//! Non-finite values and times are skipped everywhere; nothing panics on an
//! empty series, a flat series, or a degenerate rectangle.

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
    let magnitude = 10f64.powf(raw.log10().floor());
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
        return format!("{v:e}");
    }
    format!("{v:.decimals$}")
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
    /// One polyline per series.
    pub lines: Vec<Line>,
}

/// Line colours for a panel's series, in order (distinct on light and dark
/// backgrounds).
pub const SERIES_PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
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

/// Lays out a chart of `series` over the window `[t0, t1]` in the plot
/// rectangle `plot`: a padded value range, up to `max_value_ticks` value
/// ticks and `max_time_ticks` time ticks with labels, and one decimated
/// polyline per series. `None` when no series has a finite point in the
/// window (the UI then shows "no data in this window").
pub fn layout(
    series: &[&Series],
    t0: f64,
    t1: f64,
    plot: Rect,
    utc_offset_minutes: i32,
    max_value_ticks: usize,
    max_time_ticks: usize,
) -> Option<ChartLayout> {
    let (min, max) = value_range(series.iter().flat_map(|s| points_of(s.points())), t0, t1)?;
    let (lo, hi) = padded_range(min, max);
    let scale = Scale::new(t0, t1, lo, hi, plot)?;
    let step = nice_step(lo, hi, max_value_ticks).unwrap_or(1.0);
    let value_ticks = nice_ticks(lo, hi, max_value_ticks)
        .into_iter()
        .map(|v| Tick {
            pos: scale.y(v),
            value: v,
            label: format_value(v, step),
        })
        .collect();
    let times = time_ticks(t0, t1, max_time_ticks, utc_offset_minutes);
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
                format_hms_millis(t, utc_offset_minutes)
            } else {
                format_hms(t, utc_offset_minutes)
            },
        })
        .collect();
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| Line {
            series: i,
            name: s.name().to_owned(),
            colour: series_colour(i),
            points: decimate(points_of(s.points()), &scale),
            last_value: s
                .points()
                .iter()
                .rev()
                .find(|(t, v)| *t >= t0 && *t <= t1 && v.is_finite())
                .map(|(_, v)| *v),
        })
        .collect();
    Some(ChartLayout {
        scale,
        value_ticks,
        time_ticks,
        lines,
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
}
