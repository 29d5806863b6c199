//! Which rows of a long list are in the DOM: the ones inside the scrolled
//! viewport plus a few either side. Pure arithmetic, so the tree and the
//! panel area can hold 100,000 entries and draw only a screenful.

use std::ops::Range;

/// Rows kept in the DOM above and below the viewport, so a small scroll
/// shows rows that are already there.
pub const OVERSCAN: usize = 6;

/// The scroll position and viewport height to use: a scroll that is not a
/// finite number counts as the top, and a height that is not a positive
/// finite number as `fallback_height`.
fn viewport(scroll_top: f64, height: f64, fallback_height: f64) -> (f64, f64) {
    let top = if scroll_top.is_finite() {
        scroll_top.max(0.0)
    } else {
        0.0
    };
    let height = if height.is_finite() && height > 0.0 {
        height
    } else {
        fallback_height
    };
    (top, height)
}

/// The rows `[start, end)` of `count` rows of `row_height` px each that a
/// viewport `height` px tall, scrolled `scroll_top` px down, shows (with
/// [`OVERSCAN`] rows either side). Anything odd (a zero or non-finite
/// height, a scroll past the end) gives a range inside `0..count`.
pub fn visible_range(scroll_top: f64, height: f64, row_height: f64, count: usize) -> Range<usize> {
    if count == 0 || row_height.is_nan() || row_height <= 0.0 {
        return 0..0;
    }
    let (top, height) = viewport(scroll_top, height, row_height * 20.0);
    let first = ((top / row_height).floor() as usize).min(count.saturating_sub(1));
    let shown = (height / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(OVERSCAN);
    let end = first
        .saturating_add(shown)
        .saturating_add(OVERSCAN)
        .min(count);
    start..end
}

/// The scroll position that brings row `index` into a viewport `height` px
/// tall now scrolled to `scroll_top`, or `None` when it is already in view.
pub fn scroll_to_show(index: usize, scroll_top: f64, height: f64, row_height: f64) -> Option<f64> {
    let top = index as f64 * row_height;
    if top < scroll_top {
        Some(top)
    } else if top + row_height > scroll_top + height {
        Some((top + row_height - height).max(0.0))
    } else {
        None
    }
}

/// The items `[start, end)` of a list whose item `i` starts at `tops[i]`
/// px (ascending; `tops` has one more entry, the total height) that a
/// viewport `height` px tall scrolled `scroll_top` down shows, with one
/// item of overscan either side. For lists whose items differ in height.
pub fn visible_items(tops: &[f64], scroll_top: f64, height: f64) -> Range<usize> {
    let count = tops.len().saturating_sub(1);
    if count == 0 {
        return 0..0;
    }
    let (top, height) = viewport(scroll_top, height, 1_000.0);
    // The first item whose bottom is below the viewport's top.
    let first = tops
        .partition_point(|t| *t <= top)
        .saturating_sub(1)
        .min(count - 1);
    let last = tops.partition_point(|t| *t < top + height).min(count);
    first.saturating_sub(1)..last.saturating_add(1).min(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_different_heights_are_drawn_only_near_the_viewport() {
        // Ten items of 100 px, then a heading of 30 px, then ten more.
        let mut tops = vec![0.0];
        for i in 0..21 {
            let h = if i == 10 { 30.0 } else { 100.0 };
            tops.push(tops[i] + h);
        }
        assert_eq!(visible_items(&tops, 0.0, 250.0), 0..4);
        assert_eq!(visible_items(&tops, 1_000.0, 100.0), 9..13);
        assert_eq!(visible_items(&tops, 1e9, 100.0).end, 21);
        assert_eq!(visible_items(&[0.0], 0.0, 100.0), 0..0);
    }

    #[test]
    fn only_a_screenful_of_a_hundred_thousand_rows_is_drawn() {
        let r = visible_range(280_000.0, 600.0, 28.0, 100_000);
        assert_eq!(r.start, 10_000 - OVERSCAN);
        assert!(r.len() <= 600 / 28 + 2 + 2 * OVERSCAN, "{r:?}");
    }

    #[test]
    fn the_range_stays_inside_the_list_whatever_the_scroll() {
        assert_eq!(visible_range(0.0, 600.0, 28.0, 3), 0..3);
        assert_eq!(visible_range(1e12, 600.0, 28.0, 50).end, 50);
        assert_eq!(visible_range(f64::NAN, f64::NAN, 28.0, 50).start, 0);
        assert_eq!(visible_range(0.0, 600.0, 0.0, 50), 0..0);
        assert_eq!(visible_range(0.0, 600.0, 28.0, 0), 0..0);
    }

    #[test]
    fn scrolling_to_a_row_moves_only_as_far_as_needed() {
        assert_eq!(scroll_to_show(5, 0.0, 280.0, 28.0), None);
        assert_eq!(
            scroll_to_show(20, 0.0, 280.0, 28.0),
            Some(21.0 * 28.0 - 280.0)
        );
        assert_eq!(scroll_to_show(2, 280.0, 280.0, 28.0), Some(56.0));
    }
}
