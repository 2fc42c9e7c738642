//! The board: what every placed task showed at the end of the last step, by cell.
//!
//! Each shard builds the part of the board for its own block of cells at the step boundary,
//! once its tasks are in their places and in the step's order: a counting sort by cell gives
//! an offsets array (`offsets[i]..offsets[i + 1]` are the entries of the block's cell `i`) and
//! the entries in cell order, aligned with the shard's task slots (entry `k` is slot `k`).
//! During the next step nothing writes it, so every shard's tasks and cells read every shard's
//! part (guarantee 1 of [`crate::engine::space`]); a neighbourhood is walked as runs of
//! consecutive cells, each a contiguous range of entries.

use crate::engine::arena::Partition;
use crate::engine::space::{Hood, Space, span};

/// A task's id ([`crate::TaskId`]; named here so that the board sits below the tasks).
type TaskId = u32;

/// One shard's part of the board.
#[derive(Debug)]
pub(crate) struct Board<M> {
    /// The shard's first cell.
    pub(crate) first_cell: u64,
    /// `offsets[i]..offsets[i + 1]`: the entries of cell `first_cell + i`.
    pub(crate) offsets: Vec<u32>,
    /// The entries, in cell order: each task's id, cell and record.
    pub(crate) entries: Vec<Entry<M>>,
    /// Per entry, in a continuous space: its point (empty on a grid).
    pub(crate) points: Vec<[f64; 2]>,
}

/// A task on the board.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<M> {
    pub(crate) id: TaskId,
    /// Its cell, as an index into the board part.
    pub(crate) cell: u32,
    /// What it shows (`None`: it shows nothing, but is there).
    pub(crate) msg: Option<M>,
}

impl<M> Board<M> {
    /// An empty part for the block starting at `first_cell`.
    pub(crate) fn new(first_cell: u64) -> Self {
        Board {
            first_cell,
            offsets: Vec::new(),
            entries: Vec::new(),
            points: Vec::new(),
        }
    }

    /// The entries of the block's cell at `local`.
    #[inline]
    pub(crate) fn range(&self, local: usize) -> std::ops::Range<usize> {
        match self.offsets.get(local..local + 2) {
            Some(&[a, b]) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// Bytes it holds per cell and per entry (for the memory budget).
    pub(crate) fn bytes_per(continuous: bool) -> (u64, u64) {
        let entry = std::mem::size_of::<Entry<M>>() + if continuous { 16 } else { 0 };
        (4, entry as u64)
    }
}

/// Every shard's part of the board, as the tasks and cells of a step read it.
pub(crate) struct Boards<'a, M> {
    pub(crate) parts: &'a [Board<M>],
    pub(crate) part: &'a Partition,
    pub(crate) space: &'a Space,
}

impl<M> Clone for Boards<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Boards<'_, M> {}

impl<'a, M> Boards<'a, M> {
    /// The board part holding `cell`, and the cell's index in it.
    #[inline]
    fn locate(&self, cell: u64) -> (&'a Board<M>, usize) {
        let shard = self.part.cell_shard(cell);
        let board = &self.parts[shard];
        (board, (cell - board.first_cell) as usize)
    }

    /// The entries at `cell`: its board part and their range there.
    #[inline]
    pub(crate) fn at(&self, cell: u64) -> (&'a Board<M>, std::ops::Range<usize>) {
        let (board, local) = self.locate(cell);
        (board, board.range(local))
    }

    /// How many tasks were at `cell`.
    #[inline]
    pub(crate) fn occupants(&self, cell: u64) -> u32 {
        self.at(cell).1.len() as u32
    }

    /// The tasks in the cells of `hood` around `cell`.
    #[inline]
    pub(crate) fn near(&self, cell: u64, hood: Hood) -> Near<'a, M> {
        Near {
            boards: *self,
            cell,
            hood,
            walk: None,
        }
    }

    /// Every entry of shard `shard`'s part (its block of cells `cells`), as one run.
    pub(crate) fn all_of(&self, shard: usize, cells: std::ops::Range<u64>) -> Near<'a, M> {
        let board = &self.parts[shard];
        let walk = (cells.end > cells.start).then(|| {
            let e1 = board.offsets.last().map_or(0, |&e| e as usize);
            Walk {
                rows: Rows::EMPTY,
                first_cell: board.first_cell,
                piece: Piece {
                    entries: &board.entries[..e1],
                    points: board.points.get(..e1).unwrap_or(&[]),
                },
                k: 0,
            }
        });
        Near {
            boards: *self,
            cell: cells.start,
            hood: Hood::HERE,
            walk: Some(walk.unwrap_or(Walk {
                rows: Rows::EMPTY,
                first_cell: 0,
                piece: Piece::EMPTY,
                k: 0,
            })),
        }
    }

    /// Folds `f` over the entries of the cells `a..=b` (one row), part by part.
    #[inline(always)]
    fn fold_run<B>(
        &self,
        mut a: u64,
        b: u64,
        mut acc: B,
        f: &mut impl FnMut(B, Neighbour<'a, M>) -> B,
    ) -> B {
        loop {
            let board = match self.parts {
                [only] => only,
                parts => &parts[self.part.cell_shard(a)],
            };
            let first = board.first_cell;
            let cells = board.offsets.len().saturating_sub(1) as u64;
            let last = b.min((first + cells).max(a + 1) - 1);
            let (lo, hi) = ((a - first) as usize, (last - first) as usize);
            let (Some(&e0), Some(&e1)) = (board.offsets.get(lo), board.offsets.get(hi + 1)) else {
                return acc;
            };
            let (e0, e1) = (e0 as usize, e1 as usize);
            let entries = &board.entries[e0..e1];
            if board.points.is_empty() {
                for e in entries {
                    if let Some(msg) = &e.msg {
                        let (id, cell, pos) = (e.id, first + e.cell as u64, [0.0; 2]);
                        acc = f(acc, Neighbour { id, cell, msg, pos });
                    }
                }
            } else {
                for (e, &pos) in entries.iter().zip(&board.points[e0..e1]) {
                    if let Some(msg) = &e.msg {
                        let (id, cell) = (e.id, first + e.cell as u64);
                        acc = f(acc, Neighbour { id, cell, msg, pos });
                    }
                }
            }
            if last >= b {
                return acc;
            }
            a = last + 1;
        }
    }

    /// Folds `f` over the tasks of `hood` around `cell`, in the neighbourhood's order: loops
    /// over rows and runs, with nothing kept between calls.
    #[inline(always)]
    fn fold_near<B>(
        &self,
        cell: u64,
        hood: Hood,
        init: B,
        mut f: impl FnMut(B, Neighbour<'a, M>) -> B,
    ) -> B {
        let g = self.space.cells();
        let (w, h) = (g.width as i64, g.height as i64);
        let (x, y) = self.space.xy(cell);
        let (x, y, r) = (x as i64, y as i64, hood.radius() as i64);
        let mut acc = init;
        if !self.space.is_periodic() {
            // A bounded space: each row of the neighbourhood is one run.
            let (y0, y1) = ((y - r).max(0), (y + r).min(h - 1));
            for row in y0..=y1 {
                let half = match hood {
                    Hood::Moore(_) => r,
                    Hood::VonNeumann(_) => r - (row - y).abs(),
                };
                let (x0, x1) = ((x - half).max(0), (x + half).min(w - 1));
                let base = (row * w) as u64;
                acc = self.fold_run(base + x0 as u64, base + x1 as u64, acc, &mut f);
            }
            return acc;
        }
        // A periodic space: rows and columns wrap; a neighbourhood wider than the space takes
        // each row (column) once, in order.
        let wrap = |v: i64, n: i64| {
            if v < 0 {
                v + n
            } else if v >= n {
                v - n
            } else {
                v
            }
        };
        let (rows, first_dy) = if 2 * r + 1 >= h {
            (h, -y)
        } else {
            (2 * r + 1, -r)
        };
        let square = span(x, r, w, true);
        for i in 0..rows {
            let dy = first_dy + i;
            let row = wrap(y + dy, h);
            let cols = match hood {
                Hood::Moore(_) => square,
                Hood::VonNeumann(_) => {
                    let dy = row_offset(row, y, h, true);
                    span(x, r - dy.clamp(-r, r).abs(), w, true)
                }
            };
            let base = (row * w) as u64;
            if let Some((x0, x1)) = cols[0] {
                acc = self.fold_run(base + x0 as u64, base + x1 as u64, acc, &mut f);
            }
            if let Some((x0, x1)) = cols[1] {
                acc = self.fold_run(base + x0 as u64, base + x1 as u64, acc, &mut f);
            }
        }
        acc
    }
}

/// How far row `row` is from row `y` as a neighbourhood sees it (the shorter way round, on a
/// periodic space of `h` rows).
#[inline(always)]
fn row_offset(row: i64, y: i64, h: i64, periodic: bool) -> i64 {
    if periodic {
        let d = (row - y).rem_euclid(h);
        if d > h / 2 { d - h } else { d }
    } else {
        row - y
    }
}

/// The runs of consecutive cells of a neighbourhood, row by row (guarantee 2 of
/// [`crate::engine::space`]), made as they are needed.
#[derive(Clone, Copy)]
struct Rows {
    /// The centre's column and row, the shape.
    x: i64,
    y: i64,
    hood: Hood,
    width: i64,
    height: i64,
    periodic: bool,
    /// The row ranges, and the one being walked.
    rows: [Option<(i64, i64)>; 2],
    row_range: usize,
    row: i64,
    /// The current row's column ranges (a Moore neighbourhood's are every row's), and the
    /// next to take.
    cols: [Option<(i64, i64)>; 2],
    col: usize,
    /// What is left of a run cut at a board's edge.
    rest: Option<(u64, u64)>,
}

impl Rows {
    /// No runs at all.
    const EMPTY: Rows = Rows {
        x: 0,
        y: 0,
        hood: Hood::HERE,
        width: 1,
        height: 1,
        periodic: false,
        rows: [None, None],
        row_range: 0,
        row: 0,
        cols: [None, None],
        col: 2,
        rest: None,
    };

    #[inline]
    fn new(space: &Space, cell: u64, hood: Hood) -> Rows {
        let g = space.cells();
        let (width, height) = (g.width as i64, g.height as i64);
        let (x, y) = space.xy(cell);
        let (x, y) = (x as i64, y as i64);
        let r = hood.radius() as i64;
        let periodic = space.is_periodic();
        let rows = span(y, r, height, periodic);
        let cols = match hood {
            Hood::Moore(_) => span(x, r, width, periodic),
            Hood::VonNeumann(_) => [None, None],
        };
        Rows {
            x,
            y,
            hood,
            width,
            height,
            periodic,
            rows,
            row_range: 0,
            row: rows[0].map_or(0, |r| r.0) - 1,
            cols,
            col: 2,
            rest: None,
        }
    }

    /// The next run of consecutive cells (first and last, inclusive), in one row.
    #[inline]
    fn next_run(&mut self) -> Option<(u64, u64)> {
        loop {
            if self.col < 2
                && let Some((x0, x1)) = self.cols[self.col]
            {
                self.col += 1;
                let base = (self.row * self.width) as u64;
                return Some((base + x0 as u64, base + x1 as u64));
            }
            // The next row.
            let (_, last) = self.rows.get(self.row_range).copied().flatten()?;
            if self.row < last {
                self.row += 1;
            } else {
                self.row_range += 1;
                let (first, _) = self.rows.get(self.row_range).copied().flatten()?;
                self.row = first;
            }
            self.col = 0;
            if let Hood::VonNeumann(r) = self.hood {
                let dy = row_offset(self.row, self.y, self.height, self.periodic);
                let r = r as i64;
                let half = r - dy.clamp(-r, r).abs();
                self.cols = span(self.x, half, self.width, self.periodic);
            }
        }
    }
}

/// A task seen on the board: its id, its cell, what it showed (and, in a continuous space,
/// where it was).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour<'a, M> {
    /// The task's id.
    pub id: TaskId,
    /// Its cell (its bucket, in a continuous space).
    pub cell: u64,
    /// What it showed ([`crate::Model::publish`]).
    pub msg: &'a M,
    /// Its point, in a continuous space (`[0, 0]` on a grid).
    pub pos: [f64; 2],
}

/// The tasks around a place, in the neighbourhood's fixed order (rows from the lowest `dy` up,
/// within a row columns from the lowest `dx` up, within a cell the step's order): the iterator
/// [`crate::Ctx::near`] returns. Its `fold` (what `count`, `sum`, `for_each`
/// and `filter(…).count()` use) walks the neighbourhood as nested loops, the fastest way
/// through; `next` keeps where it has got to.
pub struct Near<'a, M> {
    boards: Boards<'a, M>,
    cell: u64,
    hood: Hood,
    /// Where `next` has got to (`None` before its first call).
    walk: Option<Walk<'a, M>>,
}

/// How far [`Near::next`] has got: the runs of cells left, the current run's entries in one
/// board part, and the next entry to give.
struct Walk<'a, M> {
    rows: Rows,
    first_cell: u64,
    piece: Piece<'a, M>,
    k: usize,
}

/// The entries of a run of cells in one board part.
struct Piece<'a, M> {
    entries: &'a [Entry<M>],
    /// Empty on a grid.
    points: &'a [[f64; 2]],
}

impl<M> Clone for Piece<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Piece<'_, M> {}

impl<'a, M> Piece<'a, M> {
    const EMPTY: Self = Piece {
        entries: &[],
        points: &[],
    };

    /// Entry `k` as a neighbour, if it shows something.
    #[inline(always)]
    fn get(&self, first_cell: u64, k: usize) -> Option<Neighbour<'a, M>> {
        let e = &self.entries[k];
        let msg = e.msg.as_ref()?;
        Some(Neighbour {
            id: e.id,
            cell: first_cell + e.cell as u64,
            msg,
            pos: self.points.get(k).copied().unwrap_or([0.0; 2]),
        })
    }
}

impl<'a, M> Walk<'a, M> {
    /// Moves to the next piece of a run of cells within one board part; false at the end.
    #[inline]
    fn next_piece(&mut self, boards: &Boards<'a, M>) -> bool {
        let (a, b) = match self.rows.rest.take() {
            Some(run) => run,
            None => match self.rows.next_run() {
                Some(run) => run,
                None => return false,
            },
        };
        let board = match boards.parts {
            [only] => only,
            parts => &parts[boards.part.cell_shard(a)],
        };
        let len = board.offsets.len().saturating_sub(1) as u64;
        let end = board.first_cell + len; // one past the part's last cell
        let b_here = if b < end { b } else { end.max(a + 1) - 1 };
        if b_here < b {
            self.rows.rest = Some((b_here + 1, b));
        }
        let (lo, hi) = (
            (a - board.first_cell) as usize,
            (b_here - board.first_cell) as usize,
        );
        let (e0, e1) = match (board.offsets.get(lo), board.offsets.get(hi + 1)) {
            (Some(&e0), Some(&e1)) => (e0 as usize, e1 as usize),
            _ => (0, 0),
        };
        self.first_cell = board.first_cell;
        self.piece = Piece {
            entries: &board.entries[e0..e1],
            points: board.points.get(e0..e1).unwrap_or(&[]),
        };
        self.k = 0;
        true
    }
}

impl<'a, M> Iterator for Near<'a, M> {
    type Item = Neighbour<'a, M>;

    #[inline]
    fn next(&mut self) -> Option<Neighbour<'a, M>> {
        let (boards, cell, hood) = (self.boards, self.cell, self.hood);
        let walk = self.walk.get_or_insert_with(|| Walk {
            rows: Rows::new(boards.space, cell, hood),
            first_cell: 0,
            piece: Piece::EMPTY,
            k: 0,
        });
        loop {
            while walk.k < walk.piece.entries.len() {
                let k = walk.k;
                walk.k += 1;
                if let Some(n) = walk.piece.get(walk.first_cell, k) {
                    return Some(n);
                }
            }
            if !walk.next_piece(&boards) {
                return None;
            }
        }
    }

    #[inline]
    fn fold<B, F: FnMut(B, Neighbour<'a, M>) -> B>(mut self, init: B, mut f: F) -> B {
        let Some(walk) = self.walk.as_mut() else {
            return self.boards.fold_near(self.cell, self.hood, init, f);
        };
        let mut acc = init;
        loop {
            let (piece, first) = (walk.piece, walk.first_cell);
            for k in walk.k..piece.entries.len() {
                if let Some(n) = piece.get(first, k) {
                    acc = f(acc, n);
                }
            }
            walk.k = piece.entries.len();
            if !walk.next_piece(&self.boards) {
                return acc;
            }
        }
    }
}

/// The tasks within a radius of a point in a continuous space, with their displacement from
/// it: the iterator [`crate::Ctx::within`] returns.
pub struct Within<'a, M> {
    near: Near<'a, M>,
    reach: Reach<'a>,
}

/// What makes a task on the board one within the radius.
#[derive(Clone, Copy)]
struct Reach<'a> {
    space: &'a Space,
    from: [f64; 2],
    radius2: f64,
    except: Option<TaskId>,
}

impl Reach<'_> {
    /// `n` as a task within the radius, if it is one.
    #[inline(always)]
    fn keep<'a, M>(&self, n: Neighbour<'a, M>) -> Option<Nearby<'a, M>> {
        if Some(n.id) == self.except {
            return None;
        }
        let offset = self.space.displacement(self.from, n.pos);
        let distance2 = offset[0] * offset[0] + offset[1] * offset[1];
        (distance2 <= self.radius2).then_some(Nearby {
            id: n.id,
            pos: n.pos,
            offset,
            distance2,
            msg: n.msg,
        })
    }
}

/// A task within a radius ([`crate::Ctx::within`]): what [`Neighbour`] says, and the
/// displacement from the point asked about to it (the shortest one on a periodic space) and
/// its square length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearby<'a, M> {
    /// The task's id.
    pub id: TaskId,
    /// Its point.
    pub pos: [f64; 2],
    /// `pos` minus the point asked about (on a periodic space, the shortest such vector).
    pub offset: [f64; 2],
    /// The squared length of `offset`.
    pub distance2: f64,
    /// What it showed.
    pub msg: &'a M,
}

impl<'a, M> Within<'a, M> {
    pub(crate) fn new(
        boards: Boards<'a, M>,
        from: [f64; 2],
        radius: f64,
        except: Option<TaskId>,
    ) -> Self {
        let space = boards.space;
        let from = space.wrap(from);
        let reach = space.reach(radius);
        Within {
            near: boards.near(space.cell_of(from), Hood::Moore(reach)),
            reach: Reach {
                space,
                from,
                radius2: if radius > 0.0 { radius * radius } else { 0.0 },
                except,
            },
        }
    }
}

impl<'a, M> Iterator for Within<'a, M> {
    type Item = Nearby<'a, M>;

    #[inline]
    fn next(&mut self) -> Option<Nearby<'a, M>> {
        loop {
            let n = self.near.next()?;
            if let Some(n) = self.reach.keep(n) {
                return Some(n);
            }
        }
    }

    #[inline]
    fn fold<B, F: FnMut(B, Nearby<'a, M>) -> B>(self, init: B, mut f: F) -> B {
        let reach = self.reach;
        self.near.fold(init, |acc, n| match reach.keep(n) {
            Some(n) => f(acc, n),
            None => acc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(space: &Space, cell: u64, hood: Hood) -> Vec<u64> {
        let mut rows = Rows::new(space, cell, hood);
        let mut out = Vec::new();
        while let Some((a, b)) = rows.next_run() {
            out.extend(a..=b);
        }
        out
    }

    #[test]
    fn moore_and_von_neumann_neighbourhoods_in_a_bounded_grid() {
        let s = Space::grid(5, 4);
        let c = s.cells().cell(2, 1);
        assert_eq!(cells(&s, c, Hood::Moore(1)).len(), 9);
        assert_eq!(cells(&s, c, Hood::VonNeumann(1)), vec![2, 6, 7, 8, 12]);
        assert_eq!(cells(&s, 0, Hood::Moore(1)), vec![0, 1, 5, 6]); // the corner
        assert_eq!(cells(&s, c, Hood::HERE), vec![c]);
    }

    #[test]
    fn periodic_neighbourhoods_wrap_and_visit_each_cell_once() {
        let s = Space::grid(5, 4).periodic();
        // From the lowest dy and dx up: the row above wraps to the last row, the column left to the last.
        assert_eq!(
            cells(&s, 0, Hood::Moore(1)),
            vec![19, 15, 16, 4, 0, 1, 9, 5, 6]
        );
        let mut all = cells(&s, 7, Hood::Moore(10));
        assert_eq!(all.len(), 20);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 20);
        assert_eq!(cells(&s, 0, Hood::VonNeumann(1)).len(), 5);
    }
}
