//! A panel's live chart on canvas: time axis, value axis, one line per series
//! (decimated per pixel column by `model::chart`), and a text legend.

use leptos::html::Canvas;
use leptos::prelude::*;
use model::{chart, PanelId, Rect};
use wasm_bindgen::JsCast;
use web_sys::CanvasRenderingContext2d;

use crate::state::use_app;

const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 170.0;
/// Left margin for value labels, bottom margin for time labels.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 18.0;
/// The window shows at most this much history, and at least `MIN_WINDOW_MS`.
const MAX_WINDOW_MS: f64 = 10.0 * 60_000.0;
const MIN_WINDOW_MS: f64 = 30_000.0;

/// The chart of one panel's numeric series.
#[component]
pub fn Chart(
    /// The panel whose series to draw.
    id: PanelId,
    /// The panel's topic, for the chart's accessible name.
    topic: Signal<String>,
) -> impl IntoView {
    let s = use_app();
    let canvas = NodeRef::<Canvas>::new();
    let legend = RwSignal::new(Vec::<(String, &'static str, String)>::new());
    Effect::new(move |_| {
        let now = s.clock.get() as f64;
        let Some(el) = canvas.get() else { return };
        let ctx = el
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
        let Some(ctx) = ctx else { return };
        let offset = -(js_sys::Date::new_0().get_timezone_offset() as i32);
        let layout = s.with_panel(id, |p| {
            let series: Vec<&model::Series> = p.series().iter().collect();
            let (t0, t1) = window(&series, now);
            let plot = Rect {
                x: LEFT,
                y: 6.0,
                width: WIDTH - LEFT - 8.0,
                height: HEIGHT - BOTTOM - 12.0,
            };
            let entries = legend_entries(&series);
            (chart::layout(&series, t0, t1, plot, offset, 5, 4), entries)
        });
        let Some((layout, entries)) = layout else {
            return;
        };
        if legend.get_untracked() != entries {
            legend.set(entries);
        }
        draw(&ctx, layout.as_ref());
    });
    view! {
        <figure class="chart">
            <canvas node_ref=canvas width=WIDTH height=HEIGHT role="img"
                aria-label=move || format!("Chart of {}", topic.get())></canvas>
            <figcaption>
                <ul class="legend">
                    {move || legend.get().into_iter().map(|(name, colour, value)| view! {
                        <li><span class="swatch" style:background-color=colour></span>{name}" "<b>{value}</b></li>
                    }).collect_view()}
                </ul>
            </figcaption>
        </figure>
    }
}

/// The time window `(t0, t1)` to draw. It follows the clock while the data
/// is recent; data stamped long ago (a device clock that is off, or OneNet's
/// `t` replayed from the documentation) is shown where it is instead of
/// leaving an empty chart.
fn window(series: &[&model::Series], now: f64) -> (f64, f64) {
    let newest_point = series
        .iter()
        .filter_map(|x| x.last().map(|(t, _)| t))
        .fold(f64::MIN, f64::max);
    let oldest = series
        .iter()
        .filter_map(|x| x.points().front().map(|(t, _)| *t))
        .fold(f64::MAX, f64::min);
    let newest = if newest_point < now - MAX_WINDOW_MS {
        newest_point
    } else {
        newest_point.max(now)
    };
    let t0 = oldest
        .max(newest - MAX_WINDOW_MS)
        .min(newest - MIN_WINDOW_MS);
    (t0, newest)
}

/// The legend: every series with its colour and newest value, whether or not
/// its points fall inside the drawn window.
fn legend_entries(series: &[&model::Series]) -> Vec<(String, &'static str, String)> {
    series
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let value = x.last().map(|(_, v)| format!("{v}")).unwrap_or_default();
            (x.name().to_string(), chart::series_colour(i), value)
        })
        .collect()
}

fn draw(ctx: &CanvasRenderingContext2d, layout: Option<&model::ChartLayout>) {
    ctx.clear_rect(0.0, 0.0, WIDTH, HEIGHT);
    ctx.set_font("11px system-ui, sans-serif");
    let Some(l) = layout else {
        ctx.set_fill_style_str("#8b949e");
        let _ = ctx.fill_text("no data in this window", LEFT, HEIGHT / 2.0);
        return;
    };
    ctx.set_stroke_style_str("#30363d");
    ctx.set_fill_style_str("#8b949e");
    ctx.set_line_width(1.0);
    for t in &l.value_ticks {
        ctx.begin_path();
        ctx.move_to(LEFT, t.pos.round() + 0.5);
        ctx.line_to(WIDTH - 8.0, t.pos.round() + 0.5);
        ctx.stroke();
        let _ = ctx.fill_text(&t.label, 2.0, t.pos + 4.0);
    }
    for t in &l.time_ticks {
        let _ = ctx.fill_text(&t.label, (t.pos - 22.0).max(LEFT), HEIGHT - 4.0);
    }
    ctx.set_line_width(1.5);
    for line in &l.lines {
        ctx.set_stroke_style_str(line.colour);
        ctx.begin_path();
        let mut pts = line.points.iter();
        if let Some((x, y)) = pts.next() {
            ctx.move_to(*x, *y);
            for (x, y) in pts {
                ctx.line_to(*x, *y);
            }
        }
        ctx.stroke();
        // A dot on the newest point: a series with a single point has no
        // line to stroke and would otherwise be invisible.
        if let Some((x, y)) = line.points.last() {
            ctx.set_fill_style_str(line.colour);
            ctx.fill_rect(x - 2.0, y - 2.0, 4.0, 4.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::SeriesSet;

    fn set(points: &[(&str, f64, f64)]) -> SeriesSet {
        let mut s = SeriesSet::new();
        for (name, t, v) in points {
            let _ = s.push(name, *t, *v, 100, 16, true);
        }
        s
    }

    #[test]
    fn recent_data_is_drawn_in_a_window_that_follows_the_clock() {
        let now = 1_000_000_000.0;
        let s = set(&[("v", now - 5_000.0, 1.0), ("v", now - 1_000.0, 2.0)]);
        let series: Vec<_> = s.iter().collect();
        assert_eq!(window(&series, now), (now - MIN_WINDOW_MS, now));
    }

    #[test]
    fn data_stamped_long_ago_is_drawn_where_it_is() {
        let now = 1_800_000_000_000.0;
        let t = 1_552_289_676_000.0;
        let s = set(&[("temp", t, 30.0)]);
        let series: Vec<_> = s.iter().collect();
        let (t0, t1) = window(&series, now);
        assert_eq!(t1, t);
        assert!(t0 < t);
    }

    #[test]
    fn the_legend_lists_every_series_with_its_newest_value() {
        let s = set(&[
            ("hum", 2_000.0, 40.0),
            ("temp", 1.0, 30.0),
            ("hum", 3_000.0, 41.5),
        ]);
        let series: Vec<_> = s.iter().collect();
        assert_eq!(
            legend_entries(&series),
            vec![
                (
                    "hum".to_string(),
                    chart::series_colour(0),
                    "41.5".to_string()
                ),
                (
                    "temp".to_string(),
                    chart::series_colour(1),
                    "30".to_string()
                ),
            ]
        );
    }
}
