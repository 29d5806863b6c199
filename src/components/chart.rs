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
        s.tick.get();
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
            let newest = series
                .iter()
                .filter_map(|x| x.last().map(|(t, _)| t))
                .fold(f64::MIN, f64::max)
                .max(now);
            let oldest = series
                .iter()
                .filter_map(|x| x.points().front().map(|(t, _)| *t))
                .fold(f64::MAX, f64::min);
            let t0 = oldest
                .max(newest - MAX_WINDOW_MS)
                .min(newest - MIN_WINDOW_MS);
            let plot = Rect {
                x: LEFT,
                y: 6.0,
                width: WIDTH - LEFT - 8.0,
                height: HEIGHT - BOTTOM - 12.0,
            };
            chart::layout(&series, t0, newest, plot, offset, 5, 4)
        });
        draw(&ctx, layout.flatten().as_ref(), &legend);
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

fn draw(
    ctx: &CanvasRenderingContext2d,
    layout: Option<&model::ChartLayout>,
    legend: &RwSignal<Vec<(String, &'static str, String)>>,
) {
    ctx.clear_rect(0.0, 0.0, WIDTH, HEIGHT);
    ctx.set_font("11px system-ui, sans-serif");
    let Some(l) = layout else {
        ctx.set_fill_style_str("#8b949e");
        let _ = ctx.fill_text("no data in this window", LEFT, HEIGHT / 2.0);
        legend.set(Vec::new());
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
    }
    let entries = l
        .lines
        .iter()
        .map(|line| {
            let v = line.last_value.map(|v| format!("{v}")).unwrap_or_default();
            (line.name.clone(), line.colour, v)
        })
        .collect::<Vec<_>>();
    if legend.get_untracked() != entries {
        legend.set(entries);
    }
}
