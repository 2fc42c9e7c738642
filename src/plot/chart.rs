//! A small chart description (axes, bars, lines, bands, markers) and its rendering with
//! plotters to PNG (bitmap + the `png` crate) and SVG.
//!
//! Layout: title and an optional note on top, then a legend strip (so the legend never hides
//! data), then the plot. Tick labels are chosen so that they neither overlap nor repeat, and
//! read `1.2M` / `444.5k`. Colours are Okabe–Ito (colour-blind safe).

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Format;
use super::numfmt::{human, tick_formatter};

/// Image size in pixels.
pub const SIZE: (u32, u32) = (1000, 600);

/// The bundled font (DejaVu Sans; see fonts/LICENSE-DejaVu.txt).
pub(super) static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Registers the bundled font as `sans-serif` (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, FONT);
    });
}

/// Okabe–Ito colours.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub const SKY: RGBColor = RGBColor(86, 180, 233);
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
pub const INK: RGBColor = RGBColor(30, 30, 30);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// Series colours in order (yellow last: weak on white).
pub const PALETTE: [RGBColor; 7] = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW];

/// The `i`th series colour.
pub fn series(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const TITLE_PX: u32 = 24;
const NOTE_PX: u32 = 16;
const LEGEND_PX: u32 = 16;
const TICK_PX: u32 = 17;
const DESC_PX: u32 = 18;

/// How tick labels are chosen.
#[derive(Clone, Debug)]
pub enum Ticks {
    /// Nice numbers.
    Auto,
    /// Whole numbers only.
    Integer,
    /// Category `i` sits at `x = i`.
    Categories(Vec<String>),
}

/// An axis.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Ticks,
}

impl Axis {
    /// A linear axis over `lo..hi`.
    pub fn linear(label: impl Into<String>, lo: f64, hi: f64) -> Self {
        Axis {
            label: label.into(),
            lo,
            hi,
            log: false,
            ticks: Ticks::Auto,
        }
    }

    /// This axis with whole-number ticks.
    pub fn integer(mut self) -> Self {
        self.ticks = Ticks::Integer;
        self
    }

    /// This axis on a log scale.
    pub fn log(mut self) -> Self {
        self.log = true;
        self
    }
}

/// A bar from `x0` to `x1`, `y` high.
#[derive(Clone, Copy, Debug)]
pub struct Bar {
    pub x0: f64,
    pub x1: f64,
    pub y: f64,
}

/// Something drawn in the plot.
#[derive(Clone, Debug)]
pub enum Item {
    /// Bars from the axis bottom; `value_labels` writes each bar's height above it.
    Bars {
        bars: Vec<Bar>,
        colour: RGBColor,
        label: Option<String>,
        value_labels: bool,
    },
    /// A polyline.
    Line {
        pts: Vec<(f64, f64)>,
        colour: RGBColor,
        width: u32,
        alpha: f64,
        dash: bool,
        markers: bool,
        label: Option<String>,
    },
    /// A filled band between `lo` and `hi` along x.
    Band {
        pts: Vec<(f64, f64, f64)>,
        colour: RGBColor,
        alpha: f64,
        label: Option<String>,
    },
    /// A vertical line across the plot.
    VLine {
        x: f64,
        colour: RGBColor,
        dash: bool,
        label: Option<String>,
    },
    /// A horizontal line across the plot.
    HLine {
        y: f64,
        colour: RGBColor,
        dash: bool,
        label: Option<String>,
    },
    /// A shaded vertical span.
    VSpan {
        x0: f64,
        x1: f64,
        colour: RGBColor,
        alpha: f64,
        label: Option<String>,
    },
    /// Vertical error bars `(x, lo, hi)` with caps.
    ErrorBars {
        pts: Vec<(f64, f64, f64)>,
        colour: RGBColor,
    },
}

/// A chart.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub note: Option<String>,
    pub x: Axis,
    pub y: Axis,
    pub items: Vec<Item>,
}

/// Renders `chart` to `path`, catching any panic inside the drawing library.
pub fn render_guarded(chart: &Chart, format: Format, path: &Path) -> Result<(), String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(chart, format, path))) {
        Ok(r) => r,
        Err(_) => Err("the drawing library failed".into()),
    }
}

/// Renders `chart` to `path` in `format`.
pub fn render(chart: &Chart, format: Format, path: &Path) -> Result<(), String> {
    let (w, h) = SIZE;
    let bytes = match format {
        Format::Png => {
            let mut buf = vec![0u8; (w * h * 3) as usize];
            {
                let root = super::text::Crisp(BitMapBackend::with_buffer(&mut buf, (w, h)))
                    .into_drawing_area();
                draw(chart, &root)?;
                root.present().map_err(|e| e.to_string())?;
            }
            encode_png(&buf, w, h)?
        }
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
                draw(chart, &root)?;
                root.present().map_err(|e| e.to_string())?;
            }
            s.into_bytes()
        }
    };
    crate::output::write_atomic(path, &bytes).map_err(|e| e.to_string())
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        let mut wr = enc.write_header().map_err(|e| e.to_string())?;
        wr.write_image_data(rgb).map_err(|e| e.to_string())?;
        wr.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn font(px: u32) -> TextStyle<'static> {
    (FAMILY, px as f64).into_font().color(&INK)
}

/// Legend entries: label and how its swatch looks.
struct Swatch {
    label: String,
    colour: RGBColor,
    alpha: f64,
    filled: bool,
    dash: bool,
    markers: bool,
}

fn swatches(items: &[Item]) -> Vec<Swatch> {
    items
        .iter()
        .filter_map(|it| {
            let s = |label: &Option<String>, colour, alpha, filled, dash, markers| {
                label.as_ref().map(|l| Swatch {
                    label: l.clone(),
                    colour,
                    alpha,
                    filled,
                    dash,
                    markers,
                })
            };
            match it {
                Item::Bars { colour, label, .. } => s(label, *colour, 1.0, true, false, false),
                Item::Line {
                    colour,
                    label,
                    dash,
                    markers,
                    alpha,
                    ..
                } => s(label, *colour, *alpha, false, *dash, *markers),
                Item::Band {
                    colour,
                    label,
                    alpha,
                    ..
                }
                | Item::VSpan {
                    colour,
                    label,
                    alpha,
                    ..
                } => s(label, *colour, *alpha, true, false, false),
                Item::VLine {
                    colour,
                    label,
                    dash,
                    ..
                }
                | Item::HLine {
                    colour,
                    label,
                    dash,
                    ..
                } => s(label, *colour, 1.0, false, *dash, false),
                Item::ErrorBars { .. } => None,
            }
        })
        .collect()
}

fn text_width<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, text: &str, px: u32) -> u32 {
    root.estimate_text_size(text, &font(px))
        .map(|(w, _)| w)
        .unwrap_or((text.chars().count() as f64 * px as f64 * 0.62) as u32)
}

/// Splits `text` at `sep` into lines no wider than `room` pixels (a part wider than that is
/// split at spaces, and a word wider than that stands alone).
fn wrap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    sep: &str,
    px: u32,
    room: u32,
) -> Vec<String> {
    if text_width(root, text, px) <= room {
        return vec![text.to_string()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let parts: Vec<&str> = text.split(sep).collect();
    for part in parts {
        let candidate = if cur.is_empty() {
            part.to_string()
        } else {
            format!("{cur}{sep}{part}")
        };
        if cur.is_empty() || text_width(root, &candidate, px) <= room {
            cur = candidate;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = part.to_string();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if sep != " " {
        lines = lines
            .into_iter()
            .flat_map(|l| wrap(root, &l, " ", px, room))
            .collect();
    }
    lines
}

/// Ticks for an axis, as the mesh will place them with `n` labels.
fn key_points(axis: &Axis, n: usize) -> Vec<f64> {
    if axis.log {
        let c: plotters::coord::combinators::LogCoord<f64> = (axis.lo..axis.hi).log_scale().into();
        c.key_points(n)
    } else {
        RangedCoordf64::from(axis.lo..axis.hi).key_points(n)
    }
}

/// The tick labeller of an axis for `n` labels.
fn labeller(axis: &Axis, n: usize) -> Box<dyn Fn(f64) -> String> {
    match &axis.ticks {
        Ticks::Categories(names) => {
            let names = names.clone();
            Box::new(move |v: f64| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            })
        }
        Ticks::Integer => {
            let f = tick_formatter(&key_points(axis, n));
            Box::new(move |v: f64| {
                if (v - v.round()).abs() < 1e-6 {
                    f(v.round())
                } else {
                    String::new()
                }
            })
        }
        Ticks::Auto => {
            let f = tick_formatter(&key_points(axis, n));
            Box::new(f)
        }
    }
}

/// Chooses how many labels an axis gets: as many as fit (up to `max`) without overlapping.
fn fit_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    axis: &Axis,
    room_px: u32,
    max: usize,
    along_x: bool,
) -> usize {
    if let Ticks::Categories(names) = &axis.ticks {
        return names.len() + 1;
    }
    let mut n = max;
    if let Ticks::Integer = axis.ticks {
        n = n
            .min(((axis.hi - axis.lo).floor().max(0.0) as usize) + 1)
            .max(2);
    }
    if axis.log {
        let decades = (axis.hi / axis.lo).log10().floor().max(1.0) as usize;
        n = n.min(decades.max(2));
    }
    while n > 2 {
        let ticks = key_points(axis, n);
        let f = labeller(axis, n);
        let size = if along_x {
            ticks
                .iter()
                .map(|&t| text_width(root, &f(t), TICK_PX))
                .max()
                .unwrap_or(0)
                + 24
        } else {
            TICK_PX * 2
        };
        if (ticks.len() as u32) * size <= room_px {
            break;
        }
        n -= 1;
    }
    n
}

/// Draws `chart` on `root`.
pub fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (w, _h) = root.dim_in_pixel();
    let mut y = 12i32;
    let center = |px| font(px).pos(Pos::new(HPos::Center, VPos::Top));
    // Title and note, wrapped to the width (at spaces, and at ` · ` in the note).
    let room = w.saturating_sub(48);
    for line in wrap(root, &chart.title, " ", TITLE_PX, room) {
        root.draw(&Text::new(line, (w as i32 / 2, y), center(TITLE_PX)))
            .map_err(err)?;
        y += (TITLE_PX as f64 * 1.3) as i32;
    }
    y += 2;
    if let Some(note) = &chart.note {
        for line in wrap(root, note, " · ", NOTE_PX, room) {
            root.draw(&Text::new(
                line,
                (w as i32 / 2, y),
                center(NOTE_PX).color(&GREY),
            ))
            .map_err(err)?;
            y += (NOTE_PX as f64 * 1.4) as i32;
        }
    }
    // The legend: rows of swatch + label, centred, wrapped to the width.
    let sw = swatches(&chart.items);
    if !sw.is_empty() {
        y += 4;
        let widths: Vec<i32> = sw
            .iter()
            .map(|s| 30 + text_width(root, &s.label, LEGEND_PX) as i32 + 22)
            .collect();
        let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
        let mut used = 0;
        for (i, wi) in widths.iter().enumerate() {
            if used + wi > w as i32 - 60 && !rows.last().is_none_or(Vec::is_empty) {
                rows.push(Vec::new());
                used = 0;
            }
            rows.last_mut().expect("a row").push(i);
            used += wi;
        }
        for row in rows {
            let total: i32 = row.iter().map(|&i| widths[i]).sum::<i32>() - 22;
            let mut x = (w as i32 - total) / 2;
            let mid = y + LEGEND_PX as i32 / 2 + 1;
            for i in row {
                let s = &sw[i];
                let col = s.colour.mix(s.alpha.max(0.25));
                if s.filled {
                    root.draw(&Rectangle::new(
                        [(x, mid - 7), (x + 22, mid + 7)],
                        col.filled(),
                    ))
                    .map_err(err)?;
                } else if s.dash {
                    for k in 0..3 {
                        root.draw(&PathElement::new(
                            vec![(x + k * 8, mid), (x + k * 8 + 5, mid)],
                            col.stroke_width(2),
                        ))
                        .map_err(err)?;
                    }
                } else {
                    root.draw(&PathElement::new(
                        vec![(x, mid), (x + 22, mid)],
                        col.stroke_width(3),
                    ))
                    .map_err(err)?;
                }
                if s.markers {
                    root.draw(&Circle::new((x + 11, mid), 4, col.filled()))
                        .map_err(err)?;
                }
                root.draw(&Text::new(
                    s.label.clone(),
                    (x + 30, mid),
                    font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
                x += widths[i];
            }
            y += (LEGEND_PX as f64 * 1.5) as i32;
        }
    }
    y += 6;
    let (_, area) = root.split_vertically(y);
    let (aw, ah) = area.dim_in_pixel();

    // Room for the y tick labels: measure the widest.
    let ny = fit_labels(&area, &chart.y, ah.saturating_sub(70), 9, false);
    let fy = labeller(&chart.y, ny);
    let ylabel_w = key_points(&chart.y, ny)
        .iter()
        .map(|&t| text_width(&area, &fy(t), TICK_PX))
        .max()
        .unwrap_or(20);
    let y_area = ylabel_w + DESC_PX + 28;
    let (margin_l, margin_r) = (14u32, 36u32);
    let nx = fit_labels(
        &area,
        &chart.x,
        aw.saturating_sub(y_area + margin_l + margin_r),
        10,
        true,
    );
    let fx = labeller(&chart.x, nx);

    let mut builder = ChartBuilder::on(&area);
    builder
        .margin_left(margin_l)
        .margin_right(margin_r)
        .margin_top(8)
        .margin_bottom(10)
        .x_label_area_size(TICK_PX + DESC_PX + 30)
        .y_label_area_size(y_area);
    let xr = chart.x.lo..chart.x.hi;
    let axes = Axes {
        nx,
        ny,
        fx: &*fx,
        fy: &*fy,
    };
    if chart.y.log {
        let cc = builder
            .build_cartesian_2d(xr, (chart.y.lo..chart.y.hi).log_scale())
            .map_err(err)?;
        body(cc, chart, &axes)
    } else {
        let cc = builder
            .build_cartesian_2d(xr, chart.y.lo..chart.y.hi)
            .map_err(err)?;
        body(cc, chart, &axes)
    }
}

struct Axes<'f> {
    nx: usize,
    ny: usize,
    fx: &'f dyn Fn(f64) -> String,
    fy: &'f dyn Fn(f64) -> String,
}

/// Draws a polyline through `pts`, dashed or solid.
fn stroke<DB, Y>(
    cc: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    pts: Vec<(f64, f64)>,
    style: ShapeStyle,
    dash: bool,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let drawn = if dash {
        cc.draw_series(DashedLineSeries::new(pts, 8, 5, style))
            .map(|_| ())
    } else {
        cc.draw_series(LineSeries::new(pts, style)).map(|_| ())
    };
    drawn.map_err(|e| e.to_string())
}

fn body<DB, Y>(
    mut cc: ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    chart: &Chart,
    axes: &Axes,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let fx = |v: &f64| (axes.fx)(*v);
    let fy = |v: &f64| (axes.fy)(*v);
    cc.configure_mesh()
        .x_desc(chart.x.label.as_str())
        .y_desc(chart.y.label.as_str())
        .x_labels(axes.nx)
        .y_labels(axes.ny)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(DESC_PX))
        .bold_line_style(INK.mix(0.10))
        .light_line_style(WHITE.mix(0.0))
        .axis_style(GREY)
        .draw()
        .map_err(err)?;

    let (x0, x1) = (chart.x.lo, chart.x.hi);
    let (y0, y1) = (chart.y.lo, chart.y.hi);
    let cx = |x: f64| x.clamp(x0.min(x1), x0.max(x1));
    let cy = |y: f64| y.clamp(y0.min(y1), y0.max(y1));
    let ok = |v: f64| v.is_finite();

    for it in &chart.items {
        match it {
            Item::Bars { bars, colour, .. } => {
                let base = y0;
                cc.draw_series(
                    bars.iter()
                        .filter(|b| ok(b.x0) && ok(b.x1) && ok(b.y) && b.y > base)
                        .map(|b| {
                            Rectangle::new([(cx(b.x0), base), (cx(b.x1), cy(b.y))], colour.filled())
                        }),
                )
                .map_err(err)?;
                // A thin white edge keeps adjacent bins apart.
                cc.draw_series(
                    bars.iter()
                        .filter(|b| ok(b.x0) && ok(b.x1) && ok(b.y) && b.y > base)
                        .map(|b| {
                            Rectangle::new(
                                [(cx(b.x0), base), (cx(b.x1), cy(b.y))],
                                WHITE.stroke_width(1),
                            )
                        }),
                )
                .map_err(err)?;
            }
            Item::Line {
                pts,
                colour,
                width,
                alpha,
                dash,
                markers,
                ..
            } => {
                let pts: Vec<(f64, f64)> = pts
                    .iter()
                    .filter(|(x, y)| ok(*x) && ok(*y))
                    .map(|&(x, y)| (cx(x), cy(y)))
                    .collect();
                let style = colour.mix(*alpha).stroke_width(*width);
                stroke(&mut cc, pts.clone(), style, *dash)?;
                if *markers {
                    cc.draw_series(
                        pts.iter()
                            .map(|&p| Circle::new(p, 4, colour.mix(*alpha).filled())),
                    )
                    .map_err(err)?;
                }
            }
            Item::Band {
                pts, colour, alpha, ..
            } => {
                let pts: Vec<&(f64, f64, f64)> = pts
                    .iter()
                    .filter(|(x, lo, hi)| ok(*x) && ok(*lo) && ok(*hi))
                    .collect();
                if pts.len() >= 2 {
                    let mut poly: Vec<(f64, f64)> =
                        pts.iter().map(|&&(x, _, hi)| (cx(x), cy(hi))).collect();
                    poly.extend(pts.iter().rev().map(|&&(x, lo, _)| (cx(x), cy(lo))));
                    cc.draw_series(std::iter::once(Polygon::new(
                        poly,
                        colour.mix(*alpha).filled(),
                    )))
                    .map_err(err)?;
                }
            }
            Item::VLine {
                x, colour, dash, ..
            } => {
                if ok(*x) && *x >= x0.min(x1) && *x <= x0.max(x1) {
                    stroke(
                        &mut cc,
                        vec![(*x, y0), (*x, y1)],
                        colour.stroke_width(2),
                        *dash,
                    )?;
                }
            }
            Item::HLine {
                y, colour, dash, ..
            } => {
                if ok(*y) && *y >= y0.min(y1) && *y <= y0.max(y1) {
                    stroke(
                        &mut cc,
                        vec![(x0, *y), (x1, *y)],
                        colour.stroke_width(2),
                        *dash,
                    )?;
                }
            }
            Item::VSpan {
                x0: a,
                x1: b,
                colour,
                alpha,
                ..
            } => {
                if ok(*a) && ok(*b) {
                    cc.draw_series(std::iter::once(Rectangle::new(
                        [(cx(*a), y0), (cx(*b), y1)],
                        colour.mix(*alpha).filled(),
                    )))
                    .map_err(err)?;
                }
            }
            Item::ErrorBars { pts, colour } => {
                let style = colour.stroke_width(2);
                for &(x, lo, hi) in pts
                    .iter()
                    .filter(|(x, lo, hi)| ok(*x) && ok(*lo) && ok(*hi))
                {
                    let (x, lo, hi) = (cx(x), cy(lo), cy(hi));
                    cc.draw_series(std::iter::once(PathElement::new(
                        vec![(x, lo), (x, hi)],
                        style,
                    )))
                    .map_err(err)?;
                    for yv in [lo, hi] {
                        cc.draw_series(std::iter::once(
                            EmptyElement::at((x, yv))
                                + PathElement::new(vec![(-6, 0), (6, 0)], style),
                        ))
                        .map_err(err)?;
                    }
                }
            }
        }
    }
    // Bar values last, on a white patch, so that no line crosses them.
    for it in &chart.items {
        if let Item::Bars {
            bars,
            value_labels: true,
            ..
        } = it
        {
            let style = font(13).pos(Pos::new(HPos::Center, VPos::Bottom));
            for b in bars
                .iter()
                .filter(|b| ok(b.x0) && ok(b.x1) && ok(b.y) && b.y > 0.0)
            {
                let text = if b.y < 100_000.0 {
                    super::numfmt::table_number(b.y)
                } else {
                    human(b.y)
                };
                let half = (text.chars().count() as i32 * 8 + 6) / 2;
                let xc = cx((b.x0 + b.x1) / 2.0);
                cc.draw_series(std::iter::once(
                    EmptyElement::at((xc, cy(b.y)))
                        + Rectangle::new([(-half, -19), (half, -3)], WHITE.filled())
                        + Text::new(text, (0, -3), style.clone()),
                ))
                .map_err(err)?;
            }
        }
    }
    Ok(())
}

/// A range with some room around `lo..hi` (and never empty).
pub fn padded(lo: f64, hi: f64, frac: f64) -> Range<f64> {
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let span = hi - lo;
    if span <= 0.0 {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - d)..(hi + d);
    }
    (lo - span * frac)..(hi + span * frac)
}
