//! The plot area: the mesh (grid, tick labels, axis descriptions) and every item drawn in
//! it, clamped to the axes; bar values last so that no line crosses them.

use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ticks::Axes;
use super::{Chart, DESC_PX, GREY, INK, Item, TICK_PX, font};
use crate::plot::numfmt::{human, table_number};

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

pub(super) fn body<DB, Y>(
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
                    table_number(b.y)
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
