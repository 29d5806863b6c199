//! Live charts on canvas: [`Chart`] draws one panel's numeric series,
//! [`FieldChart`] one field (say `temp`) across several panels, one line per
//! topic. Both are the same figure ([`chart_figure`]): a window select, a
//! "Normalised" toggle, the canvas, a text readout of the values under the
//! pointer, and a legend whose entries show and hide their series.
//!
//! The geometry, the time window, normalisation and the readout are pure in
//! `model::chart`; this file reads the DOM (size, pixel ratio, theme colours)
//! and strokes what the layout says. It must not render any text as HTML
//! (series names and topics come from the broker), panic on a JS call that
//! fails (a wasm panic kills the page), or keep anything alive beyond the
//! component: it registers no listener or observer of its own besides the
//! canvas' event attributes, which go with the element. The chart re-lays
//! out on the clock (twice a second) and when the model changes, reading the
//! canvas' size each time, so a resized container is followed within half a
//! second without a ResizeObserver.

use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use model::chart::{self, ChartLayout, ChartSpec, Readout, Source, WindowChoice};
use model::decimal::Shortest;
use model::{PanelId, Rect, Series};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::components::erased::{effect, handler, keyed, memo, text, Keyed};
use crate::state::use_app;

/// Grid and text colours when the theme does not define `--chart-grid` /
/// `--chart-text` (the dark palette the page had before themes).
const GRID_FALLBACK: &str = "#30363d";
const TEXT_FALLBACK: &str = "#8b949e";
/// 12 CSS px at least, so labels stay legible on a phone.
const FONT: &str = "12px system-ui, sans-serif";
/// Roughly the width of one character of [`FONT`] in a tick label (digits,
/// `.`, `-`, `%`), to size the value labels' margin before drawing.
const LABEL_CHAR_PX: f64 = 7.0;
/// Margins around the plot, in CSS px: the value labels' column grows from
/// `MIN_LEFT` to fit its widest label.
const MIN_LEFT: f64 = 40.0;
const TOP: f64 = 8.0;
const RIGHT: f64 = 8.0;
const BOTTOM: f64 = 20.0;
/// CSS px per time tick and per value tick, so labels do not collide.
const PX_PER_TIME_TICK: f64 = 90.0;
const PX_PER_VALUE_TICK: f64 = 32.0;

/// Calls its argument with the chart's lines, `(legend name, series)`, read
/// from the model through `AppState` (so tracked when called in a reactive
/// scope); does not call it when there is nothing to read (a panel gone).
type ReadSources = Rc<dyn Fn(&mut dyn FnMut(&[(&str, &Series)]))>;

/// The chart of one panel's numeric series.
#[component]
pub fn Chart(
    /// The panel whose series to draw.
    id: PanelId,
    /// The panel's topic, for the chart's accessible names.
    topic: Signal<String>,
) -> impl IntoView {
    let s = use_app();
    let read: ReadSources = Rc::new(move |f| {
        s.with_panel(id, |p| {
            let list: Vec<(&str, &Series)> = p.series().iter().map(|x| (x.name(), x)).collect();
            f(&list);
        });
    });
    chart_figure(topic, None, read)
}

/// One field across several panels: for each panel, its series named
/// `field` as one line named by the panel's topic. Panels without that
/// field (or gone) are left out.
#[component]
pub fn FieldChart(
    /// The series name to draw from each panel (`temp`, `power.volts`).
    field: String,
    /// The panels to draw it from, in legend order.
    panels: Signal<Vec<PanelId>>,
    /// What the chart shows, as a caption and in its accessible names.
    title: Signal<String>,
) -> impl IntoView {
    let s = use_app();
    let read: ReadSources = Rc::new(move |f| {
        let ids = panels.get();
        s.live(|d| {
            let list: Vec<(&str, &Series)> = ids
                .iter()
                .filter_map(|id| d.panel(*id))
                .filter_map(|p| p.series().get(&field).map(|x| (p.topic(), x)))
                .collect();
            f(&list);
        });
    });
    chart_figure(title, Some(title), read)
}

/// One legend entry: a line's name, colour and newest value as text.
#[derive(Debug, Clone, PartialEq)]
struct LegendEntry {
    name: String,
    colour: &'static str,
    value: String,
}

/// What the drawing effect needs from one layout: the layout itself (or why
/// there is none), the canvas' CSS size and pixel ratio, and the theme's
/// colours.
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    layout: Option<ChartLayout>,
    empty: &'static str,
    width: f64,
    height: f64,
    ratio: f64,
    grid: String,
    text: String,
}

/// The figure both charts share. `label` names the chart in the controls'
/// accessible names (many charts share a page); `caption` is shown above the
/// legend when given.
fn chart_figure(
    label: Signal<String>,
    caption: Option<Signal<String>>,
    read: ReadSources,
) -> impl IntoView {
    let s = use_app();
    let read = StoredValue::new_local(read);
    let canvas = NodeRef::<Canvas>::new();
    let legend = RwSignal::new(Vec::<LegendEntry>::new());
    let hidden = RwSignal::new(Vec::<String>::new());
    let window = RwSignal::new(WindowChoice::default());
    let normalised = RwSignal::new(false);
    let pointer = RwSignal::new(None::<f64>);
    let frame = RwSignal::new(None::<Frame>);

    // Layout: on the clock, on model changes and on the controls.
    effect(move || {
        let now = s.clock.get() as f64;
        let choice = window.get();
        let normalised = normalised.get();
        let hidden = hidden.get();
        let Some(el) = canvas.get() else { return };
        let size = css_size(&el);
        let offset = utc_offset();
        let mut entries = Vec::new();
        let mut next = None;
        read.with_value(|read| {
            read(&mut |list| {
                entries = legend_entries(list);
                let Some((width, height)) = size else { return };
                let sources: Vec<Source<'_>> = list
                    .iter()
                    .map(|&(name, series)| Source {
                        name,
                        series,
                        shown: !hidden.iter().any(|h| h == name),
                    })
                    .collect();
                let layout = chart::time_window(
                    sources.iter().filter(|x| x.shown).map(|x| x.series),
                    now,
                    choice,
                )
                .and_then(|(t0, t1)| {
                    let spec = |left| ChartSpec {
                        t0,
                        t1,
                        plot: plot_rect(width, height, left),
                        utc_offset_minutes: offset,
                        max_value_ticks: value_ticks_for(height),
                        max_time_ticks: time_ticks_for(width - left - RIGHT),
                        normalised,
                    };
                    let first = chart::layout_sources(&sources, &spec(MIN_LEFT))?;
                    // Value labels depend on the height only, so a second
                    // pass with a wider margin has the same labels.
                    let left = left_margin(&first, width);
                    if left > MIN_LEFT {
                        chart::layout_sources(&sources, &spec(left))
                    } else {
                        Some(first)
                    }
                });
                let empty = if list.is_empty() {
                    "no data yet"
                } else if sources.iter().all(|x| !x.shown) {
                    "every series is hidden"
                } else {
                    "no data in this window"
                };
                next = Some((layout, empty, width, height));
            })
        });
        if legend.get_untracked() != entries {
            legend.set(entries);
        }
        let Some((layout, empty, width, height)) = next else {
            return;
        };
        let (grid, text) = theme_colours(&el);
        frame.set(Some(Frame {
            layout,
            empty,
            width,
            height,
            ratio: pixel_ratio(),
            grid,
            text,
        }));
    });

    // The readout follows the pointer and each new layout; it reads the
    // model untracked because every model change already brings a new frame.
    let readout = memo(move || {
        let x = pointer.get()?;
        frame.with(|f| {
            let layout = f.as_ref()?.layout.as_ref()?;
            let mut out = None;
            untrack(|| {
                read.with_value(|read| {
                    read(&mut |list| {
                        let sources: Vec<Source<'_>> = list
                            .iter()
                            .map(|&(name, series)| Source {
                                name,
                                series,
                                shown: true,
                            })
                            .collect();
                        out = chart::readout(layout, &sources, x);
                    })
                })
            });
            out
        })
    });

    // Drawing: each frame, and the guide line as the pointer moves (without
    // laying out again).
    effect(move || {
        let Some(el) = canvas.get() else { return };
        frame.with(|f| {
            if let Some(f) = f {
                readout.with(|r| draw(&el, f, r.as_ref()));
            }
        });
    });

    let readout_text =
        move || readout.with(|r| r.as_ref().map(|r| r.text(utc_offset())).unwrap_or_default());
    let on_window = move |ev| {
        if let Some(choice) = WindowChoice::from_key(&event_target_value(&ev)) {
            window.set(choice);
        }
    };
    let on_pointer = move |ev: web_sys::PointerEvent| pointer.set(Some(f64::from(ev.offset_x())));
    view! {
        <figure class="chart">
            <div class="chart-controls">
                <label class="chart-window">"Window"
                    <select aria-label=text(move || format!("Chart window for {}", label.get()))
                        prop:value=text(move || window.get().key().to_string()) on:change={handler(on_window)}>
                        {WindowChoice::ALL.into_iter().map(|c| view! {
                            <option value=c.key() selected={c == WindowChoice::default()}>{c.label()}</option>
                        }.into_any()).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="check chart-normalised">
                    <input type="checkbox" bind:checked=normalised
                        aria-label=text(move || format!("Normalised chart of {}", label.get())) />
                    "Normalised"
                </label>
            </div>
            <canvas node_ref=canvas role="img"
                aria-label=text(move || format!("Chart of {}", label.get()))
                on:pointermove={handler(on_pointer)} on:pointerdown={handler(on_pointer)}
                on:pointerleave={handler(move |_| pointer.set(None))}
                on:pointercancel={handler(move |_| pointer.set(None))}></canvas>
            <p class="readout">{text(readout_text)}</p>
            <figcaption>
                {caption.map(|c| view! { <span class="chart-title">{move || c.get()}</span> })}
                <ul class="legend">
                    {keyed(move || {
                        legend
                            .get()
                            .into_iter()
                            .map(|e| Keyed::new(e.name.clone(), move || legend_button(e.name, legend, hidden).into_any()))
                            .collect()
                    })}
                </ul>
            </figcaption>
        </figure>
    }
}

/// One legend entry as a toggle: pressed while its series is shown. Its
/// accessible name is the series name alone, which is unique in the chart
/// and does not change with every value.
// `move || f()` in attributes is on purpose: `view!` erases only closures
// written out (see `components::erased`).
#[allow(clippy::redundant_closure)]
fn legend_button(
    name: String,
    legend: RwSignal<Vec<LegendEntry>>,
    hidden: RwSignal<Vec<String>>,
) -> impl IntoView {
    let entry = {
        let name = name.clone();
        move |f: fn(&LegendEntry) -> String| {
            legend.with(|l| l.iter().find(|e| e.name == name).map(f).unwrap_or_default())
        }
    };
    let colour = {
        let entry = entry.clone();
        move || entry(|e| e.colour.to_owned())
    };
    let value = move || entry(|e| e.value.clone());
    let shown = {
        let name = name.clone();
        move || !hidden.with(|h| h.contains(&name))
    };
    let toggle = {
        let name = name.clone();
        move |_| hidden.update(|h| toggle_hidden(h, &name))
    };
    let accessible_name = name.clone();
    view! {
        <li>
            <button type="button" class="series" aria-pressed=text(move || shown().to_string())
                aria-label=accessible_name on:click={handler(toggle)}>
                <span class="swatch" style:background-color=text(colour)></span>
                <span class="series-name">{name}</span>" "<b class="series-value">{text(value)}</b>
            </button>
        </li>
    }
}

/// Hides `name` if shown, shows it if hidden.
fn toggle_hidden(hidden: &mut Vec<String>, name: &str) {
    if let Some(i) = hidden.iter().position(|h| h == name) {
        hidden.remove(i);
    } else {
        hidden.push(name.to_owned());
    }
}

/// The legend: every line with its colour and newest value, whether or not
/// its points fall inside the drawn window, and whether or not it is shown.
fn legend_entries(list: &[(&str, &Series)]) -> Vec<LegendEntry> {
    list.iter()
        .enumerate()
        .map(|(i, (name, series))| LegendEntry {
            name: (*name).to_owned(),
            colour: chart::series_colour(i),
            value: series
                .last()
                .map(|(_, v)| Shortest(v).to_string())
                .unwrap_or_default(),
        })
        .collect()
}

/// The plot inside a canvas of `width` × `height` CSS px with a value label
/// column `left` px wide.
fn plot_rect(width: f64, height: f64, left: f64) -> Rect {
    Rect {
        x: left,
        y: TOP,
        width: (width - left - RIGHT).max(1.0),
        height: (height - TOP - BOTTOM).max(1.0),
    }
}

/// How many time ticks fit in a plot this wide.
fn time_ticks_for(plot_width: f64) -> usize {
    (plot_width / PX_PER_TIME_TICK).clamp(2.0, 8.0) as usize
}

/// How many value ticks fit in a canvas this high.
fn value_ticks_for(height: f64) -> usize {
    ((height - TOP - BOTTOM) / PX_PER_VALUE_TICK).clamp(2.0, 8.0) as usize
}

/// The value labels' column: wide enough for the widest label, but never
/// more than a third of the canvas.
fn left_margin(layout: &ChartLayout, width: f64) -> f64 {
    let widest = layout
        .value_ticks
        .iter()
        .map(|t| t.label.chars().count())
        .max()
        .unwrap_or(0);
    (widest as f64 * LABEL_CHAR_PX + 10.0)
        .min(width / 3.0)
        .max(MIN_LEFT)
}

/// The canvas' size in CSS px, `None` while it is not laid out (hidden).
fn css_size(el: &HtmlCanvasElement) -> Option<(f64, f64)> {
    let (w, h) = (el.client_width(), el.client_height());
    (w > 0 && h > 0).then(|| (f64::from(w), f64::from(h)))
}

fn pixel_ratio() -> f64 {
    web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(1.0)
        .min(4.0)
}

/// `-new Date().getTimezoneOffset()`: the local zone for time labels.
fn utc_offset() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// The theme's `--chart-grid` and `--chart-text`, or the fallbacks.
fn theme_colours(el: &HtmlCanvasElement) -> (String, String) {
    let style = web_sys::window().and_then(|w| w.get_computed_style(el).ok().flatten());
    let read = |name: &str, fallback: &str| {
        style
            .as_ref()
            .and_then(|s| s.get_property_value(name).ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| fallback.to_owned())
    };
    (
        read("--chart-grid", GRID_FALLBACK),
        read("--chart-text", TEXT_FALLBACK),
    )
}

fn context(el: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    el.get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
}

/// Strokes one frame in CSS px on a bitmap of CSS size × pixel ratio (crisp
/// text on dense screens), plus the pointer's guide line and markers.
fn draw(el: &HtmlCanvasElement, f: &Frame, readout: Option<&Readout>) {
    let (bw, bh) = (
        (f.width * f.ratio).round() as u32,
        (f.height * f.ratio).round() as u32,
    );
    // Setting the size clears the bitmap even when unchanged: only on change.
    if el.width() != bw {
        el.set_width(bw);
    }
    if el.height() != bh {
        el.set_height(bh);
    }
    let Some(ctx) = context(el) else { return };
    let _ = ctx.set_transform(f.ratio, 0.0, 0.0, f.ratio, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, f.width, f.height);
    ctx.set_font(FONT);
    ctx.set_fill_style_str(&f.text);
    let Some(l) = &f.layout else {
        ctx.set_text_align("center");
        let _ = ctx.fill_text(f.empty, f.width / 2.0, f.height / 2.0);
        return;
    };
    let plot = l.scale.rect;
    let right = plot.x + plot.width;
    ctx.set_stroke_style_str(&f.grid);
    ctx.set_line_width(1.0);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for t in &l.value_ticks {
        let y = t.pos.round() + 0.5;
        ctx.begin_path();
        ctx.move_to(plot.x, y);
        ctx.line_to(right, y);
        ctx.stroke();
        let _ = ctx.fill_text(&t.label, plot.x - 4.0, t.pos);
    }
    ctx.set_text_align("center");
    ctx.set_text_baseline("alphabetic");
    for t in &l.time_ticks {
        // Keep edge labels inside the canvas rather than cut in half.
        let half = ctx
            .measure_text(&t.label)
            .map(|m| m.width() / 2.0)
            .unwrap_or(30.0);
        let (lo, hi) = (half + 1.0, (f.width - half - 1.0).max(half + 1.0));
        // Not `f64::clamp`: its panic message formats floats with `Debug`,
        // which alone keeps core's float formatting in the wasm (and a NaN
        // width would panic).
        let x = if t.pos < lo {
            lo
        } else if t.pos > hi {
            hi
        } else {
            t.pos
        };
        let _ = ctx.fill_text(&t.label, x, f.height - 5.0);
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
    if let Some(r) = readout {
        ctx.set_stroke_style_str(&f.text);
        ctx.set_line_width(1.0);
        ctx.begin_path();
        let x = r.x.round() + 0.5;
        ctx.move_to(x, plot.y);
        ctx.line_to(x, plot.y + plot.height);
        ctx.stroke();
        for v in &r.values {
            if let Some((x, y)) = v.pos {
                ctx.set_fill_style_str(v.colour);
                ctx.begin_path();
                if ctx.arc(x, y, 3.5, 0.0, std::f64::consts::TAU).is_ok() {
                    ctx.fill();
                }
            }
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
    fn the_legend_lists_every_series_with_its_newest_value() {
        let s = set(&[
            ("hum", 2_000.0, 40.0),
            ("temp", 1.0, 30.0),
            ("hum", 3_000.0, 41.5),
        ]);
        let list: Vec<(&str, &Series)> = s.iter().map(|x| (x.name(), x)).collect();
        let got: Vec<_> = legend_entries(&list)
            .into_iter()
            .map(|e| (e.name, e.colour, e.value))
            .collect();
        assert_eq!(
            got,
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

    #[test]
    fn legend_entries_can_be_named_by_topic_instead_of_series_name() {
        let s = set(&[("temp", 1.0, 20.0)]);
        let temp = s.get("temp").unwrap();
        let list = [("home/kitchen", temp), ("home/garage", temp)];
        let names: Vec<_> = legend_entries(&list).into_iter().map(|e| e.name).collect();
        assert_eq!(names, vec!["home/kitchen", "home/garage"]);
    }

    #[test]
    fn toggling_a_series_twice_shows_it_again() {
        let mut hidden = vec!["a".to_string()];
        toggle_hidden(&mut hidden, "b");
        assert_eq!(hidden, vec!["a", "b"]);
        toggle_hidden(&mut hidden, "a");
        assert_eq!(hidden, vec!["b"]);
        toggle_hidden(&mut hidden, "a");
        assert_eq!(hidden, vec!["b", "a"]);
    }

    #[test]
    fn a_phone_wide_canvas_gets_fewer_time_ticks_than_a_desktop_one() {
        assert_eq!(time_ticks_for(280.0), 3);
        assert_eq!(time_ticks_for(900.0), 8);
        assert_eq!(time_ticks_for(50.0), 2);
        assert_eq!(value_ticks_for(180.0), 4);
    }

    #[test]
    fn the_plot_leaves_room_for_labels_and_never_collapses() {
        assert_eq!(
            plot_rect(400.0, 180.0, 50.0),
            Rect {
                x: 50.0,
                y: TOP,
                width: 400.0 - 50.0 - RIGHT,
                height: 180.0 - TOP - BOTTOM,
            }
        );
        let tiny = plot_rect(10.0, 10.0, 40.0);
        assert!(tiny.width >= 1.0 && tiny.height >= 1.0);
    }

    #[test]
    fn the_value_label_column_widens_for_long_labels_up_to_a_third_of_the_canvas() {
        let s = set(&[("v", 0.0, 123_456_789.0), ("v", 1.0, 123_456_790.5)]);
        let series: Vec<&Series> = s.iter().collect();
        let l = chart::layout(
            &series,
            0.0,
            1.0,
            plot_rect(600.0, 180.0, MIN_LEFT),
            0,
            4,
            3,
        )
        .unwrap();
        let widest = l.value_ticks.iter().map(|t| t.label.len()).max().unwrap();
        assert!(left_margin(&l, 600.0) >= widest as f64 * LABEL_CHAR_PX);
        assert_eq!(left_margin(&l, 90.0), MIN_LEFT);
    }
}
