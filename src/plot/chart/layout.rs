//! Where things go: the title and note on top, the legend strip under them (so the legend
//! never hides data), then the plot area with room measured for the tick labels.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::items::body;
use super::ticks::{Axes, fit_labels, key_points, labeller};
use super::{Chart, DESC_PX, GREY, Item, LEGEND_PX, NOTE_PX, TICK_PX, TITLE_PX, font, text_width};

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

/// Draws `chart` on `root`.
pub(crate) fn draw<DB: DrawingBackend>(
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
