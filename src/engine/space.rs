//! Where tasks live: a grid of cells, or a continuous box bucketed by a grid, and the
//! geometry of neighbourhoods on it.
//!
//! A model with a [`Space`] ([`crate::Model::space`]) gives every task a place: a cell, or a
//! point in a box whose buckets are the cells of the arena. The engine keeps the places, lives
//! each task on the shard that owns its cell, and publishes what every task shows
//! ([`crate::Model::publish`]) on a board at each step boundary; during the next step any task
//! or cell reads the board around any place ([`crate::Ctx::near`], [`crate::Ctx::within`]).
//!
//! # Guarantees
//! 1. Reads see the board as it was at the end of the last step: nothing a task does in a step
//!    (moving, finishing, being born, changing its state) is seen by others before the next.
//! 2. A neighbourhood is visited in a fixed order: rows from the lowest `dy` up, within a row
//!    columns from the lowest `dx` up, within a cell its tasks in the step's order (by id, or
//!    by the step's seeded priority under [`crate::Order::Shuffled`]). The order depends on
//!    nothing but the places and ids, so sums taken in it (floats included) are the same bytes
//!    at any shard and thread count.
//! 3. On a periodic space a neighbourhood wider than the space visits each cell once.

use crate::engine::arena::{Divisor, Grid};
use crate::engine::rng::{TaskRng, mix};

/// Where a model's tasks live: the cells of a grid, or points in a box. See the module docs.
///
/// ```
/// use microsim::Space;
/// let schelling = Space::grid(40, 40).capacity(1);          // one agent per cell
/// let flock = Space::continuous(100.0, 100.0, 5.0).periodic(); // a torus, 5-unit buckets
/// assert_eq!(flock.cells().width, 20);
/// assert!(schelling.capacity_per_cell() == Some(1) && flock.is_periodic());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Space {
    grid: Grid,
    /// Division by the width, as a multiplication (a cell's row).
    by_width: Divisor,
    /// A continuous box's size (a grid's: its width and height in cells).
    extent: [f64; 2],
    continuous: bool,
    /// A bucket's side, in a continuous box.
    bucket: f64,
    periodic: bool,
    /// The most tasks a cell holds (`u32::MAX`: no limit).
    capacity: u32,
}

/// Where a task is put: a cell of a grid, or a point of a continuous box. A cell given to a
/// continuous space means its bucket's centre; a point given to a grid means the cell it falls
/// in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place {
    /// A cell, by its id (`y · width + x`).
    Cell(u64),
    /// A point `[x, y]`.
    Point([f64; 2]),
}

/// The cells around a place: a Moore (Chebyshev) or von Neumann (Manhattan) neighbourhood of a
/// radius, in cells. Radius 0 is the cell itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hood {
    /// The square of cells at Chebyshev distance up to the radius (8 cells around at radius 1).
    Moore(u32),
    /// The diamond of cells at Manhattan distance up to the radius (4 cells around at radius 1).
    VonNeumann(u32),
}

impl Hood {
    /// The cell itself.
    pub const HERE: Hood = Hood::Moore(0);

    /// The radius.
    pub const fn radius(self) -> u32 {
        match self {
            Hood::Moore(r) | Hood::VonNeumann(r) => r,
        }
    }
}

impl Space {
    /// A `width × height` grid of cells, bounded, with no limit on tasks per cell.
    pub const fn grid(width: u64, height: u64) -> Space {
        Space {
            grid: Grid::new(width, height),
            by_width: Divisor::new(
                if width == 0 { 1 } else { width },
                width.saturating_mul(height),
            ),
            extent: [width as f64, height as f64],
            continuous: false,
            bucket: 1.0,
            periodic: false,
            capacity: u32::MAX,
        }
    }

    /// A `width × height` box of points, bounded, bucketed into cells of side `bucket` (the
    /// arena: `⌈width/bucket⌉ × ⌈height/bucket⌉` cells). A radius query visits the buckets
    /// the circle touches, so a bucket about the size of the usual radius (or a half of it)
    /// keeps queries short.
    pub fn continuous(width: f64, height: f64, bucket: f64) -> Space {
        let cells = |side: f64| (side / bucket).ceil().max(1.0) as u64;
        let (w, h) = (cells(width), cells(height));
        Space {
            grid: Grid::new(w, h),
            by_width: Divisor::new(w, w.saturating_mul(h)),
            extent: [width, height],
            continuous: true,
            bucket,
            periodic: false,
            capacity: u32::MAX,
        }
    }

    /// The same space, periodic: what leaves one edge comes back at the other, and
    /// neighbourhoods wrap around.
    pub const fn periodic(self) -> Space {
        Space {
            periodic: true,
            ..self
        }
    }

    /// The same space with at most `n` tasks per cell (at least 1): a move or birth into a
    /// full cell is refused (see [`crate::Ctx::move_to`]).
    pub const fn capacity(self, n: u32) -> Space {
        Space {
            capacity: if n == 0 { 1 } else { n },
            ..self
        }
    }

    /// The grid of cells (for a continuous box, of buckets): the model's arena.
    pub const fn cells(&self) -> Grid {
        self.grid
    }

    /// Whether the space wraps around.
    pub const fn is_periodic(&self) -> bool {
        self.periodic
    }

    /// Whether places are points of a continuous box.
    pub const fn is_continuous(&self) -> bool {
        self.continuous
    }

    /// The box's size (a grid's: its width and height in cells).
    #[inline(always)]
    pub fn extent(&self) -> [f64; 2] {
        self.extent
    }

    /// The most tasks a cell holds, if limited.
    pub const fn capacity_per_cell(&self) -> Option<u32> {
        if self.capacity == u32::MAX {
            None
        } else {
            Some(self.capacity)
        }
    }

    pub(crate) const fn capacity_raw(&self) -> u32 {
        self.capacity
    }

    /// Column and row of `cell`.
    #[inline]
    pub fn xy(&self, cell: u64) -> (u64, u64) {
        let y = self.by_width.divide(cell);
        (cell - y * self.grid.width, y)
    }

    /// The cell `dx` columns and `dy` rows from `cell`: wrapped on a periodic space, `None`
    /// beyond the edge of a bounded one.
    #[inline]
    pub fn offset_cell(&self, cell: u64, dx: i64, dy: i64) -> Option<u64> {
        let (x, y) = self.xy(cell);
        let x = self.coordinate(x as i64 + dx, self.grid.width)?;
        let y = self.coordinate(y as i64 + dy, self.grid.height)?;
        Some(y * self.grid.width + x)
    }

    #[inline]
    fn coordinate(&self, v: i64, side: u64) -> Option<u64> {
        if (0..side as i64).contains(&v) {
            Some(v as u64)
        } else if self.periodic {
            Some(v.rem_euclid(side as i64) as u64)
        } else {
            None
        }
    }

    /// The cell (bucket) a point lies in; points outside the box are first brought in
    /// ([`Space::wrap`]).
    #[inline(always)]
    pub fn cell_of(&self, p: [f64; 2]) -> u64 {
        let p = self.wrap(p);
        let col = ((p[0] / self.bucket) as u64).min(self.grid.width - 1);
        let row = ((p[1] / self.bucket) as u64).min(self.grid.height - 1);
        row * self.grid.width + col
    }

    /// The centre of a cell (of a bucket, in a continuous box).
    pub fn centre(&self, cell: u64) -> [f64; 2] {
        let (x, y) = self.xy(cell);
        let side = self.bucket;
        let e = self.extent();
        [
            ((x as f64 + 0.5) * side).min(e[0] * 0.999_999_999),
            ((y as f64 + 0.5) * side).min(e[1] * 0.999_999_999),
        ]
    }

    /// A point brought into the box: wrapped around a periodic space, stopped at the edge of a
    /// bounded one (a coordinate equal to the box's size is moved just inside). Not-a-number
    /// coordinates become 0.
    #[inline(always)]
    pub fn wrap(&self, p: [f64; 2]) -> [f64; 2] {
        let e = self.extent();
        [self.wrap1(p[0], e[0]), self.wrap1(p[1], e[1])]
    }

    #[inline(always)]
    fn wrap1(&self, v: f64, side: f64) -> f64 {
        if (0.0..side).contains(&v) {
            return v;
        }
        if v.is_nan() {
            return 0.0;
        }
        if self.periodic {
            let w = v.rem_euclid(side);
            // rem_euclid can round up to `side` for a tiny negative `v`.
            if w < side { w } else { 0.0 }
        } else if v < 0.0 {
            0.0
        } else {
            prev_below(side)
        }
    }

    /// The displacement from `from` to `to`: on a periodic space the shortest one (the
    /// minimal image).
    #[inline(always)]
    pub fn displacement(&self, from: [f64; 2], to: [f64; 2]) -> [f64; 2] {
        let mut d = [to[0] - from[0], to[1] - from[1]];
        if self.periodic {
            let e = self.extent();
            for k in 0..2 {
                if d[k] > e[k] * 0.5 {
                    d[k] -= e[k];
                } else if d[k] < -e[k] * 0.5 {
                    d[k] += e[k];
                }
            }
        }
        d
    }

    /// How many buckets a radius reaches from a bucket (at least 1 when the radius is positive).
    pub(crate) fn reach(&self, radius: f64) -> u32 {
        if radius.is_nan() || radius <= 0.0 {
            return 0;
        }
        let side = self.grid.width.max(self.grid.height) as f64;
        (radius / self.bucket).ceil().min(side) as u32
    }

    /// A place as a cell (and, in a continuous box, a point).
    #[inline]
    pub(crate) fn locate(&self, place: Place) -> (u64, [f64; 2]) {
        match (place, self.is_continuous()) {
            (Place::Cell(c), false) => (c.min(self.grid.cells() - 1), [0.0; 2]),
            (Place::Cell(c), true) => {
                let c = c.min(self.grid.cells() - 1);
                (c, self.centre(c))
            }
            (Place::Point(p), false) => {
                let e = self.extent();
                let p = self.wrap(p);
                let (x, y) = (p[0].min(e[0] - 1.0) as u64, p[1].min(e[1] - 1.0) as u64);
                (self.grid.cell(x, y), [0.0; 2])
            }
            (Place::Point(p), true) => {
                let p = self.wrap(p);
                (self.cell_of(p), p)
            }
        }
    }
}

/// The largest float below `v` (for `v > 0`).
fn prev_below(v: f64) -> f64 {
    f64::from_bits(v.to_bits() - 1)
}

/// The coordinates within `half` of `c` on a side of `n`, as up to two inclusive ranges in
/// the order the neighbourhood visits them (from `c - half` up).
#[inline(always)]
pub(crate) fn span(c: i64, half: i64, n: i64, periodic: bool) -> [Option<(i64, i64)>; 2] {
    let (lo, hi) = (c - half, c + half);
    if !periodic {
        let (lo, hi) = (lo.max(0), hi.min(n - 1));
        return [(lo <= hi).then_some((lo, hi)), None];
    }
    if hi - lo + 1 >= n {
        return [Some((0, n - 1)), None];
    }
    let (lo, hi) = (lo.rem_euclid(n), hi.rem_euclid(n));
    if lo <= hi {
        [Some((lo, hi)), None]
    } else {
        [Some((lo, n - 1)), Some((0, hi))]
    }
}

/// What a model's setup draws from: the replication's own streams, for the cells' starting
/// state ([`crate::Model::setup_cells`]) and the tasks' starting places
/// ([`crate::Model::place`]). Every stream here is a pure function of the replication seed and
/// of a cell or an index, so a layout does not depend on the shard count, and replications
/// differ.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    seed: u64,
    space: Option<Space>,
    /// The arena's cells (for a model without a space).
    cells: u64,
    /// The replication's shuffle of the cells.
    shuffle: Permutation,
}

/// Mixed into every setup stream.
const SETUP_STREAM: u64 = 0x5E70_0000_0000_0001;

impl Setup {
    pub(crate) fn new(seed: u64, space: Option<Space>, cells: u64) -> Self {
        let shuffle = Permutation::new(cells, mix(seed ^ SETUP_STREAM ^ 0x9E2));
        Setup {
            seed,
            space,
            cells,
            shuffle,
        }
    }

    /// The replication's setup stream of `cell`: what a cell's starting state is drawn from.
    pub fn cell_rng(&self, cell: u64) -> TaskRng {
        TaskRng::from_key(mix(mix(self.seed ^ SETUP_STREAM) ^ mix(cell)))
    }

    /// A stream of the replication's own, for the model's setup as a whole (e.g. a shared
    /// table drawn once); `n` tells several apart.
    pub fn rng(&self, n: u64) -> TaskRng {
        TaskRng::from_key(mix(mix(self.seed ^ SETUP_STREAM ^ 0xA11) ^ mix(!n)))
    }

    /// The replication's random permutation of the arena's cells: `shuffled_cell(i)` for
    /// `i = 0, 1, …` are distinct cells in random order (what places tasks on distinct random
    /// cells). Computed from `i` alone, in a few nanoseconds, with no table.
    pub fn shuffled_cell(&self, i: u64) -> u64 {
        self.shuffle.at(i)
    }

    /// A uniformly random place of the space (a cell, or a point of the box), drawn from `rng`.
    pub fn random_place(&self, rng: &mut TaskRng) -> Place {
        use rand::RngExt;
        match self.space {
            Some(s) if s.is_continuous() => {
                let e = s.extent();
                let p = [rng.random::<f64>() * e[0], rng.random::<f64>() * e[1]];
                Place::Point(s.wrap(p))
            }
            _ => Place::Cell(rng.random_range(0..self.cells.max(1))),
        }
    }

    /// The model's space, if it has one.
    pub fn space(&self) -> Option<&Space> {
        self.space.as_ref()
    }
}

/// A pseudo-random permutation of `0..n` (a keyed Feistel network on the smallest even power
/// of two at least `n`, walked until it lands below `n`): a bijection, computed in O(1) memory.
#[derive(Clone, Copy, Debug)]
pub struct Permutation {
    n: u64,
    half_bits: u32,
    /// One key per round of the network.
    keys: [u64; 4],
}

impl Permutation {
    /// The permutation of `0..n` keyed by `key`.
    pub fn new(n: u64, key: u64) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [1u64, 2, 3, 4].map(|r| mix(key ^ mix(r)));
        Permutation { n, half_bits, keys }
    }

    /// The element at position `i` (`i < n`; other positions wrap around `n`).
    pub fn at(&self, i: u64) -> u64 {
        if self.n <= 1 {
            return 0;
        }
        let mut v = i % self.n;
        loop {
            v = self.round_trip(v);
            if v < self.n {
                return v;
            }
        }
    }

    /// One pass of the Feistel network over the domain `2^(2·half_bits)`: four rounds, each
    /// mixing one half into the other with a keyed multiply (the high bits of the product).
    #[inline]
    fn round_trip(&self, v: u64) -> u64 {
        let (bits, mask) = (self.half_bits, (1u64 << self.half_bits) - 1);
        let (mut l, mut r) = (v >> bits, v & mask);
        for k in self.keys {
            let x = (r ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let f = (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> (64 - bits);
            (l, r) = (r, l ^ f);
        }
        (l << bits) | r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_wrap_or_stop_at_the_edge_and_displacements_take_the_short_way() {
        let torus = Space::continuous(10.0, 10.0, 2.0).periodic();
        assert_eq!(torus.wrap([-1.0, 12.5]), [9.0, 2.5]);
        assert_eq!(torus.displacement([9.5, 0.5], [0.5, 9.5]), [1.0, -1.0]);
        assert_eq!(torus.cell_of([9.9, 0.1]), 4);
        let boxed = Space::continuous(10.0, 10.0, 2.0);
        let p = boxed.wrap([11.0, -3.0]);
        assert!(p[0] < 10.0 && p[0] > 9.99 && p[1] == 0.0);
        assert_eq!(boxed.displacement([9.5, 0.5], [0.5, 9.5]), [-9.0, 9.0]);
        assert_eq!(boxed.reach(3.0), 2);
    }

    #[test]
    fn a_permutation_is_a_bijection() {
        for n in [1u64, 2, 3, 10, 1000, 4097] {
            let p = Permutation::new(n, 42);
            let mut seen: Vec<u64> = (0..n).map(|i| p.at(i)).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
        let (a, b) = (Permutation::new(1000, 1), Permutation::new(1000, 2));
        assert_ne!(
            (0..10).map(|i| a.at(i)).collect::<Vec<_>>(),
            (0..10).map(|i| b.at(i)).collect::<Vec<_>>()
        );
    }
}
