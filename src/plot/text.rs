//! Text in bitmaps, placed glyph by glyph with the bundled font.
//!
//! plotters' own `ab_glyph` text drops each glyph's left side bearing, so `10` reads `1 0` and
//! a decimal point floats; [`Crisp`] wraps the bitmap backend and draws text itself (with
//! kerning, bearings, anchors and rotation), delegating everything else.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// The bundled font (DejaVu Sans; see fonts/LICENSE-DejaVu.txt): drawn here, and registered
/// with plotters by [`super::chart::register_fonts`].
pub(super) static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

fn font() -> Option<&'static FontRef<'static>> {
    static F: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(FONT).ok())
        .as_ref()
}

/// A laid-out line of text: glyphs with their pen positions (baseline at the ascent), its
/// width and its line height.
struct Line {
    glyphs: Vec<ab_glyph::Glyph>,
    width: f32,
    height: f32,
}

fn layout(font: &FontRef<'static>, text: &str, size: f64) -> Line {
    let scale = PxScale::from(size as f32);
    let sf = font.as_scaled(scale);
    let ascent = sf.ascent();
    let mut caret = 0.0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            caret += sf.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(caret, ascent)));
        caret += sf.h_advance(id);
        prev = Some(id);
    }
    Line {
        glyphs,
        width: caret,
        height: ascent - sf.descent(),
    }
}

/// A bitmap backend whose text is drawn properly.
pub(super) struct Crisp<'a>(pub BitMapBackend<'a>);

type Err<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for Crisp<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), Err<'a>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), Err<'a>> {
        self.0.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Result<(), Err<'a>> {
        self.0.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Err<'a>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Err<'a>> {
        self.0.draw_rect(ul, br, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Err<'a>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Err<'a>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Err<'a>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Err<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), Err<'a>> {
        match font() {
            Some(f) => {
                let l = layout(f, text, style.size());
                Ok((l.width.ceil() as u32, l.height.ceil() as u32))
            }
            None => self.0.estimate_text_size(text, style),
        }
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Err<'a>> {
        let Some(f) = font() else {
            return self.0.draw_text(text, style, pos);
        };
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let l = layout(f, text, style.size());
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -l.width / 2.0,
            HPos::Right => -l.width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -l.height / 2.0,
            VPos::Bottom => -l.height,
        };
        let (dx, dy) = (dx.round() as i32, dy.round() as i32);
        let trans = style.transform();
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        for g in l.glyphs {
            if let Some(og) = f.outline_glyph(g) {
                let b = og.px_bounds();
                let (bx, by) = (b.min.x as i32, b.min.y as i32);
                og.draw(|x, y, cov| {
                    if cov > 0.0 {
                        pixels.push((bx + x as i32 + dx, by + y as i32 + dy, cov));
                    }
                });
            }
        }
        for (x, y, cov) in pixels {
            let (tx, ty) = trans.transform(x, y);
            self.0.draw_pixel(
                (pos.0 + tx, pos.1 + ty),
                BackendColor {
                    alpha: color.alpha * cov.min(1.0) as f64,
                    rgb: color.rgb,
                },
            )?;
        }
        Ok(())
    }
}
