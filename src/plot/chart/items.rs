//! The plot area: the mesh (grid, tick labels, axis descriptions) and every item drawn in
//! it, clamped to the axes; bar values last so that no line crosses them.

use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ticks::Axes;
use super::{Bar, Chart, DESC_PX, GREY, INK, Item, TICK_PX, font};
use crate::experiment::numbers::{human, table_number};

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

/// The plot area's bounds: what is drawn is clamped to them.
struct Bounds {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Bounds {
    fn of(chart: &Chart) -> Self {
        Bounds {
            x0: chart.x.lo,
            x1: chart.x.hi,
            y0: chart.y.lo,
            y1: chart.y.hi,
        }
    }

    fn cx(&self, x: f64) -> f64 {
        x.clamp(self.x0.min(self.x1), self.x0.max(self.x1))
    }

    fn cy(&self, y: f64) -> f64 {
        y.clamp(self.y0.min(self.y1), self.y0.max(self.y1))
    }

    fn has_x(&self, x: f64) -> bool {
        ok(x) && x >= self.x0.min(self.x1) && x <= self.x0.max(self.x1)
    }

    fn has_y(&self, y: f64) -> bool {
        ok(y) && y >= self.y0.min(self.y1) && y <= self.y0.max(self.y1)
    }
}

fn ok(v: f64) -> bool {
    v.is_finite()
}

/// The chart context every item is drawn in.
type Ctx<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;

/// Draws the mesh and every item of `chart`; bar values last, so that no line crosses them.
pub(super) fn body<DB, Y>(
    mut cc: ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    chart: &Chart,
    axes: &Axes,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    mesh(&mut cc, chart, axes)?;
    let b = Bounds::of(chart);
    for it in &chart.items {
        item(&mut cc, &b, it)?;
    }
    for it in &chart.items {
        if let Item::Bars {
            bars,
            value_labels: true,
            ..
        } = it
        {
            bar_values(&mut cc, &b, bars)?;
        }
    }
    Ok(())
}

/// The grid, the tick labels and the axis descriptions.
fn mesh<DB, Y>(cc: &mut Ctx<'_, DB, Y>, chart: &Chart, axes: &Axes) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
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
        .map_err(|e| e.to_string())
}

/// Draws one item.
fn item<DB, Y>(cc: &mut Ctx<'_, DB, Y>, b: &Bounds, it: &Item) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    match it {
        Item::Bars { bars, colour, .. } => draw_bars(cc, b, bars, *colour),
        Item::Line {
            pts,
            colour,
            width,
            alpha,
            dash,
            markers,
            ..
        } => {
            let style = colour.mix(*alpha).stroke_width(*width);
            let marker = markers.then(|| colour.mix(*alpha).filled());
            draw_line(cc, b, pts, style, *dash, marker)
        }
        Item::Band {
            pts, colour, alpha, ..
        } => draw_band(cc, b, pts, colour.mix(*alpha).filled()),
        Item::VLine {
            x, colour, dash, ..
        } => {
            if b.has_x(*x) {
                stroke(
                    cc,
                    vec![(*x, b.y0), (*x, b.y1)],
                    colour.stroke_width(2),
                    *dash,
                )?;
            }
            Ok(())
        }
        Item::HLine {
            y, colour, dash, ..
        } => {
            if b.has_y(*y) {
                stroke(
                    cc,
                    vec![(b.x0, *y), (b.x1, *y)],
                    colour.stroke_width(2),
                    *dash,
                )?;
            }
            Ok(())
        }
        Item::VSpan {
            x0,
            x1,
            colour,
            alpha,
            ..
        } => {
            if ok(*x0) && ok(*x1) {
                cc.draw_series(std::iter::once(Rectangle::new(
                    [(b.cx(*x0), b.y0), (b.cx(*x1), b.y1)],
                    colour.mix(*alpha).filled(),
                )))
                .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Item::ErrorBars { pts, colour } => draw_error_bars(cc, b, pts, colour.stroke_width(2)),
    }
}

/// Bars from the axis bottom, each with a thin white edge that keeps adjacent bins apart.
fn draw_bars<DB, Y>(
    cc: &mut Ctx<'_, DB, Y>,
    b: &Bounds,
    bars: &[Bar],
    colour: RGBColor,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let base = b.y0;
    let shown = || {
        bars.iter()
            .filter(move |r| ok(r.x0) && ok(r.x1) && ok(r.y) && r.y > base)
    };
    let corners = |r: &Bar| [(b.cx(r.x0), base), (b.cx(r.x1), b.cy(r.y))];
    cc.draw_series(shown().map(|r| Rectangle::new(corners(r), colour.filled())))
        .map_err(|e| e.to_string())?;
    cc.draw_series(shown().map(|r| Rectangle::new(corners(r), WHITE.stroke_width(1))))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A polyline, with a marker at each point if given one.
fn draw_line<DB, Y>(
    cc: &mut Ctx<'_, DB, Y>,
    b: &Bounds,
    pts: &[(f64, f64)],
    style: ShapeStyle,
    dash: bool,
    marker: Option<ShapeStyle>,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let pts: Vec<(f64, f64)> = pts
        .iter()
        .filter(|(x, y)| ok(*x) && ok(*y))
        .map(|&(x, y)| (b.cx(x), b.cy(y)))
        .collect();
    stroke(cc, pts.clone(), style, dash)?;
    if let Some(fill) = marker {
        cc.draw_series(pts.iter().map(|&p| Circle::new(p, 4, fill)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A filled band between `lo` and `hi` along x.
fn draw_band<DB, Y>(
    cc: &mut Ctx<'_, DB, Y>,
    b: &Bounds,
    pts: &[(f64, f64, f64)],
    fill: ShapeStyle,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let pts: Vec<&(f64, f64, f64)> = pts
        .iter()
        .filter(|(x, lo, hi)| ok(*x) && ok(*lo) && ok(*hi))
        .collect();
    if pts.len() < 2 {
        return Ok(());
    }
    let mut poly: Vec<(f64, f64)> = pts.iter().map(|&&(x, _, hi)| (b.cx(x), b.cy(hi))).collect();
    poly.extend(pts.iter().rev().map(|&&(x, lo, _)| (b.cx(x), b.cy(lo))));
    cc.draw_series(std::iter::once(Polygon::new(poly, fill)))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Vertical error bars `(x, lo, hi)` with caps.
fn draw_error_bars<DB, Y>(
    cc: &mut Ctx<'_, DB, Y>,
    b: &Bounds,
    pts: &[(f64, f64, f64)],
    style: ShapeStyle,
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    for &(x, lo, hi) in pts
        .iter()
        .filter(|(x, lo, hi)| ok(*x) && ok(*lo) && ok(*hi))
    {
        let (x, lo, hi) = (b.cx(x), b.cy(lo), b.cy(hi));
        cc.draw_series(std::iter::once(PathElement::new(
            vec![(x, lo), (x, hi)],
            style,
        )))
        .map_err(|e| e.to_string())?;
        for yv in [lo, hi] {
            cc.draw_series(std::iter::once(
                EmptyElement::at((x, yv)) + PathElement::new(vec![(-6, 0), (6, 0)], style),
            ))
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Each bar's height above it, on a white patch.
fn bar_values<DB, Y>(cc: &mut Ctx<'_, DB, Y>, b: &Bounds, bars: &[Bar]) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let style = font(13).pos(Pos::new(HPos::Center, VPos::Bottom));
    for r in bars
        .iter()
        .filter(|r| ok(r.x0) && ok(r.x1) && ok(r.y) && r.y > 0.0)
    {
        let text = if r.y < 100_000.0 {
            table_number(r.y)
        } else {
            human(r.y)
        };
        let half = (text.chars().count() as i32 * 8 + 6) / 2;
        let xc = b.cx((r.x0 + r.x1) / 2.0);
        cc.draw_series(std::iter::once(
            EmptyElement::at((xc, b.cy(r.y)))
                + Rectangle::new([(-half, -19), (half, -3)], WHITE.filled())
                + Text::new(text, (0, -3), style.clone()),
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}
