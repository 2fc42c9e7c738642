//! Tick labels: where an axis's ticks fall, what they read, and how many fit without
//! overlapping.

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{Axis, TICK_PX, Ticks, text_width};
use crate::experiment::numbers::tick_formatter;

/// The tick labels chosen for both axes: how many, and how each reads.
pub(super) struct Axes<'f> {
    pub(super) nx: usize,
    pub(super) ny: usize,
    pub(super) fx: &'f dyn Fn(f64) -> String,
    pub(super) fy: &'f dyn Fn(f64) -> String,
}

/// Ticks for an axis, as the mesh will place them with `n` labels.
pub(super) fn key_points(axis: &Axis, n: usize) -> Vec<f64> {
    if axis.log {
        let c: plotters::coord::combinators::LogCoord<f64> = (axis.lo..axis.hi).log_scale().into();
        c.key_points(n)
    } else {
        RangedCoordf64::from(axis.lo..axis.hi).key_points(n)
    }
}

/// The tick labeller of an axis for `n` labels.
pub(super) fn labeller(axis: &Axis, n: usize) -> Box<dyn Fn(f64) -> String> {
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
pub(super) fn fit_labels<DB: DrawingBackend>(
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
