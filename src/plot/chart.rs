//! A small chart description (axes, bars, lines, bands, markers) and its rendering with
//! plotters to PNG (bitmap + the `png` crate) and SVG.
//!
//! Layout: title and an optional note on top, then a legend strip (so the legend never hides
//! data), then the plot. Tick labels are chosen so that they neither overlap nor repeat, and
//! read `1.2M` / `444.5k`. Colours are Okabe–Ito (colour-blind safe).
//!
//! This file holds the description, the palette and the rendering to bytes; the drawing is in
//! `layout` (title, note, legend, room for the plot), `ticks` (how many tick labels fit and
//! what they read) and `items` (the mesh and every item in the plot area).

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Format;
use super::text::FONT;

mod items;
mod layout;
mod ticks;

pub(super) use layout::draw;

/// Image size in pixels.
pub(super) const SIZE: (u32, u32) = (1000, 600);

const FAMILY: &str = "sans-serif";

/// Registers the bundled font as `sans-serif` (once per process).
pub(super) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, FONT);
    });
}

/// Okabe–Ito colours.
pub(super) const BLUE: RGBColor = RGBColor(0, 114, 178);
pub(super) const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub(super) const GREEN: RGBColor = RGBColor(0, 158, 115);
pub(super) const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub(super) const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub(super) const SKY: RGBColor = RGBColor(86, 180, 233);
pub(super) const YELLOW: RGBColor = RGBColor(240, 228, 66);
pub(super) const INK: RGBColor = RGBColor(30, 30, 30);
pub(crate) const GREY: RGBColor = RGBColor(90, 90, 90);
/// Marks that stay in the background (a swept value's true position).
pub(crate) const LIGHT: RGBColor = RGBColor(205, 205, 205);

/// Series colours in order (yellow last: weak on white).
pub(super) const PALETTE: [RGBColor; 7] = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW];

/// The `i`th series colour.
pub(super) fn series(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const TITLE_PX: u32 = 24;
const NOTE_PX: u32 = 16;
const LEGEND_PX: u32 = 16;
const TICK_PX: u32 = 17;
const DESC_PX: u32 = 18;

/// How tick labels are chosen.
#[derive(Clone, Debug)]
pub(crate) enum Ticks {
    /// Nice numbers.
    Auto,
    /// Whole numbers only.
    Integer,
    /// Category `i` sits at `x = i`.
    Categories(Vec<String>),
}

/// An axis.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    pub label: String,
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Ticks,
}

impl Axis {
    /// A linear axis over `lo..hi`.
    pub(crate) fn linear(label: impl Into<String>, lo: f64, hi: f64) -> Self {
        Axis {
            label: label.into(),
            lo,
            hi,
            log: false,
            ticks: Ticks::Auto,
        }
    }

    /// This axis with whole-number ticks.
    pub(crate) fn integer(mut self) -> Self {
        self.ticks = Ticks::Integer;
        self
    }

    /// This axis on a log scale.
    pub(crate) fn log(mut self) -> Self {
        self.log = true;
        self
    }
}

/// A bar from `x0` to `x1`, `y` high.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bar {
    pub x0: f64,
    pub x1: f64,
    pub y: f64,
}

/// Something drawn in the plot.
#[derive(Clone, Debug)]
pub(crate) enum Item {
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
pub(crate) struct Chart {
    pub title: String,
    pub note: Option<String>,
    pub x: Axis,
    pub y: Axis,
    pub items: Vec<Item>,
}

/// Renders `chart` to `path`, catching any panic inside the drawing library.
pub(super) fn render_guarded(chart: &Chart, format: Format, path: &Path) -> Result<(), String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(chart, format, path))) {
        Ok(r) => r,
        Err(_) => Err("the drawing library failed".into()),
    }
}

/// Renders `chart` to `path` in `format`.
pub(super) fn render(chart: &Chart, format: Format, path: &Path) -> Result<(), String> {
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
    crate::experiment::output::write_atomic(path, &bytes).map_err(|e| e.to_string())
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

fn text_width<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, text: &str, px: u32) -> u32 {
    root.estimate_text_size(text, &font(px))
        .map(|(w, _)| w)
        .unwrap_or((text.chars().count() as f64 * px as f64 * 0.62) as u32)
}

/// A range with some room around `lo..hi` (and never empty).
pub(super) fn padded(lo: f64, hi: f64, frac: f64) -> Range<f64> {
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
