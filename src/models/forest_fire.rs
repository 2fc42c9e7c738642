//! The forest fire cellular automaton, as the ABM framework comparison declared it
//! (`ForestFire/DECLARATION.md` in the history of JuliaDynamics/ABMFrameworksComparison).
//!
//! Each cell of a bounded `size × size` grid holds a tree with probability `density`. The
//! trees of the left-most column start burning. Each step every burning tree sets fire to the
//! green trees among its four nearest neighbours and burns out. The run lasts `steps` steps
//! (or until the fire is out: nothing changes after that).
//!
//! The trees are cells, and fire spreads as messages from cell to cell
//! ([`crate::CellCtx::send_to_cell`]): a tree that catches fire in a step sends a spark to its
//! four neighbours, and those sparks are handled in the next step, so the fire front moves one
//! cell a step, as the declaration's synchronous update does. Only burning trees do any work.
//!
//! Counters per step: `burning`; series: `burnt_share`, the share of the trees burnt so far.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::{
    CellCtx, Checks, Codec, Counter, Ctx, End, Grid, Mail, Metric, Model, ModelParams, Next,
    Quantity, Report, Setup, StepEndCtx, StepRow, Tally, TaskId, TaskRng,
};

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The side of the square grid, in cells.
    pub size: u64,
    /// The chance that a cell holds a tree.
    pub density: f64,
    /// Steps to run.
    pub steps: u32,
}

impl Default for Params {
    /// The comparison's small model.
    fn default() -> Self {
        Params {
            size: 100,
            density: 0.7,
            steps: 100,
        }
    }
}

/// A cell's state.
pub const EMPTY: u8 = 0;
/// A green tree.
pub const GREEN: u8 = 1;
/// A tree burning (the left column at the start, before it spreads).
pub const BURNING: u8 = 2;
/// A burnt tree.
pub const BURNT: u8 = 3;

const COUNTERS: &[Quantity] = &[
    Quantity::new("trees", "trees").about("trees at the start (counted in step 0)"),
    Quantity::new("burning", "trees").about("trees that caught fire"),
];
const METRICS: &[Quantity] = &[
    Quantity::new("trees", "trees").about("trees at the start"),
    Quantity::new("burnt", "trees").about("trees burnt at the end"),
    Quantity::new("burnt_share", "").about("share of the trees burnt"),
    Quantity::new("reached_right", "").about("1 if the fire reached the right-most column"),
];
const SERIES: &[Quantity] =
    &[Quantity::new("burnt_share", "").about("share of the trees burnt so far")];
const TREES: Counter = Counter::named(COUNTERS, "trees");
const BURNING_NOW: Counter = Counter::named(COUNTERS, "burning");

/// The model.
#[derive(Clone, Debug)]
pub struct ForestFire {
    p: Params,
    grid: Grid,
}

impl ForestFire {
    /// A model with these (checked) parameters.
    pub fn new(p: Params) -> Self {
        let grid = Grid::new(p.size, p.size);
        ForestFire { p, grid }
    }

    /// Sets fire to the four neighbours of `cell` (those inside the grid).
    fn spread(&self, cell: u64, mut send: impl FnMut(u64)) {
        let (x, y, n) = (cell % self.p.size, cell / self.p.size, self.p.size);
        if x > 0 {
            send(cell - 1);
        }
        if x + 1 < n {
            send(cell + 1);
        }
        if y > 0 {
            send(cell - n);
        }
        if y + 1 < n {
            send(cell + n);
        }
    }
}

impl Model for ForestFire {
    type Task = ();
    type Msg = (); // a spark
    type Cells = Vec<u8>;
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const SERIES: &'static [Quantity] = SERIES;

    fn tasks(&self) -> u64 {
        0
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn spawn(&self, _: TaskId, _: &mut TaskRng) {}

    fn step(&self, _: &mut (), _: &[Mail<()>], _: &mut Ctx<'_, ()>) -> Next {
        Next::Done
    }

    fn cells(&self, range: std::ops::Range<u64>, _: usize) -> Vec<u8> {
        vec![EMPTY; (range.end - range.start) as usize]
    }

    fn setup_cells(&self, cells: &mut Vec<u8>, range: std::ops::Range<u64>, setup: &Setup) {
        for (cell, state) in range.zip(cells.iter_mut()) {
            let tree = setup.cell_rng(cell).random::<f64>() < self.p.density;
            *state = match (tree, cell % self.p.size == 0) {
                (false, _) => EMPTY,
                (true, false) => GREEN,
                (true, true) => BURNING,
            };
        }
    }

    fn end_step(&self, cells: &mut Vec<u8>, ctx: &mut StepEndCtx<'_, ()>) {
        if ctx.step() > 0 {
            return;
        }
        // Step 0: the trees are counted, and the left column's spread their fire.
        let trees = cells.iter().filter(|&&c| c != EMPTY).count();
        ctx.count(TREES, trees as u64);
        let first = ctx.cells().start;
        let lo = first.next_multiple_of(self.p.size);
        for cell in (lo..ctx.cells().end).step_by(self.p.size as usize) {
            let i = (cell - first) as usize;
            if cells[i] == BURNING {
                cells[i] = BURNT;
                ctx.count(BURNING_NOW, 1);
                self.spread(cell, |to| ctx.send_to_cell(i, to, ()));
            }
        }
    }

    fn on_cell(&self, cells: &mut Vec<u8>, _: Mail<()>, ctx: &mut CellCtx<'_, ()>) {
        let tree = &mut cells[ctx.offset()];
        if *tree == GREEN {
            *tree = BURNT;
            ctx.count(BURNING_NOW, 1);
            self.spread(ctx.cell(), |to| ctx.send_to_cell(to, ()));
        }
    }

    fn stop(&self, tally: &Tally<'_>) -> bool {
        tally.steps() >= self.p.steps
    }

    fn series(&self, _: &StepRow, tally: &Tally<'_>, out: &mut [f64]) {
        out[0] = tally.total(BURNING_NOW) as f64 / tally.total(TREES).max(1) as f64;
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let (mut trees, mut burnt, mut right) = (0u64, 0u64, false);
        let mut cell = 0u64;
        for block in end.cells() {
            for &state in block {
                trees += (state != EMPTY) as u64;
                burnt += (state == BURNT) as u64;
                right |= state == BURNT && cell % self.p.size == self.p.size - 1;
                cell += 1;
            }
        }
        let mut report = end.report();
        report
            .set(Metric::named(METRICS, "trees"), trees as f64)
            .set(Metric::named(METRICS, "burnt"), burnt as f64)
            .set(
                Metric::named(METRICS, "burnt_share"),
                burnt as f64 / trees.max(1) as f64,
            )
            .set(Metric::named(METRICS, "reached_right"), right as u8 as f64);
        report
    }

    fn messages_per_step(&self, _: u32) -> u64 {
        // A fire front crosses the grid: at most four sparks per cell of a few columns.
        4 * self.p.size * 4
    }

    fn estimate_bytes(&self, _: usize) -> u64 {
        self.grid.cells()
    }

    fn codec(&self) -> Option<Codec<(), Vec<u8>>> {
        Some(Codec::new())
    }
}

impl ModelParams for Params {
    type Model = ForestFire;
    const NAME: &'static str = "forest_fire";
    const SUMMARY: &'static str = "a fire spreads from the left through a random forest";
    const STARTER: &'static str = "\
[model]
# A size x size grid; each cell holds a tree with this chance; the left column starts burning.
size = 100
density = 0.7
steps = 100
";

    fn check(&self, checks: &mut Checks) {
        checks.arena(("size", self.size), ("size", self.size));
        checks.probability("density", self.density);
        checks.range("steps", self.steps, 1, 1_000_000);
    }

    fn build(&self) -> ForestFire {
        ForestFire::new(self.clone())
    }
}
