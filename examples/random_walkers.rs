//! A model written outside the crate: random walkers that mark the cells they visit.
//!
//! ```text
//!    step t                        step t+1                        step t+2
//!  ┌─────────────┐  Visit   ┌─────────────────────┐  Seen(n)  ┌─────────────────┐
//!  │  walker 17  │ ───────▶ │ shard owning (x, y) │ ────────▶ │    walker 17    │
//!  │ moves ±1 on │          │ visits[offset] = n  │           │ n == 0: a first │
//!  │  the torus  │          │      → n + 1        │           │ visit, counted  │
//!  └─────────────┘          └─────────────────────┘           └─────────────────┘
//! ```
//!
//! Each walker starts in a random cell of a `width × height` torus and takes `steps` unit
//! steps (up, down, left or right; leaving one edge brings it back on the other). At every
//! cell it reaches it tells the cell's owner "I am here"; the cell counts its visitors and
//! answers how many came before. A walker counts its first visits: the answers of 0. Within
//! a step, visits to one cell are handled in delivery order (the lower walker id first, or a
//! seeded order under `order = "shuffled"`), so results are the same at any thread and shard
//! count.
//!
//! Counters (per step, `steps.csv`): `visits` and `new_cells`. Metrics (per replication):
//! `visits` (always `walkers × steps`), `cells_visited`, `first_visits` (always equal to
//! `cells_visited`: every visited cell had exactly one first visitor) and `peak_new_cells`,
//! the most cells found in one step, from the per-step series of `new_cells`. The step it
//! happened in and the busiest cell go to `details.json`; the `first_visits` histogram shows
//! how the finds are spread over the walkers.
//!
//! The whole program is the model, its parameters and a one-line `main` that runs the
//! command line with `registry()`, the built-in models and this one, so every `microsim`
//! command knows it (python/examples/random_walkers makes the same registry a Python module,
//! `import random_walkers`; see docs/python.md):
//!
//! ```text
//! cargo run --release --example random_walkers -- list
//! cargo run --release --example random_walkers -- new random_walkers -
//! cargo run --release --example random_walkers -- check scenarios/random_walkers.toml
//! cargo run --release --example random_walkers -- run scenarios/random_walkers.toml
//! ```

use std::ops::Range;

use microsim::{
    CellCtx, Checks, Codec, Counter, Ctx, End, Grid, Mail, Metric, Model, ModelParams, Next,
    Quantity, Registry, Report, TaskId, TaskRng, histogram,
};
use rand::RngExt;
use serde::{Deserialize, Serialize};

#[global_allocator]
static ALLOC: microsim::alloc::Allocator = microsim::alloc::Allocator;

fn main() -> std::process::ExitCode {
    microsim::cli::main(registry())
}

/// The built-in models and this one: what the command line above knows, and what the Python
/// module of python/examples/random_walkers runs.
pub(crate) fn registry() -> Registry {
    Registry::builtin().with::<WalkersParams>()
}

/// The `[model]` section of a `random_walkers` scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct WalkersParams {
    /// Walkers (tasks).
    walkers: u64,
    /// Torus width, in cells.
    width: u64,
    /// Torus height, in cells.
    height: u64,
    /// Unit steps each walker takes.
    steps: u32,
    /// Whether a walker moves to the shard that owns the cell it is in
    /// ([`microsim::Ctx::move_near`]): the same results, fewer cross-shard messages.
    #[serde(skip_serializing_if = "is_false")]
    settle: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for WalkersParams {
    fn default() -> Self {
        WalkersParams {
            walkers: 20_000,
            width: 300,
            height: 300,
            steps: 50,
            settle: false,
        }
    }
}

impl ModelParams for WalkersParams {
    type Model = Walkers;
    const NAME: &'static str = "random_walkers";
    const SUMMARY: &'static str =
        "walkers step around a torus; cells count their visitors, walkers their first visits";
    const STARTER: &'static str = "\
[model]
# Walkers (tasks); each starts in a random cell and takes `steps` unit steps.
walkers = 20000
# The torus, in cells: a walker leaving one edge comes back on the other.
width = 300
height = 300
# Unit steps per walker; a replication lasts steps + 2 scheduler steps.
steps = 50
# Move each walker to the shard of the cell it is in: the same results, its messages local.
settle = false
";

    fn check(&self, checks: &mut Checks) {
        checks.range("walkers", self.walkers, 1, u32::MAX as u64);
        checks.arena(("width", self.width), ("height", self.height));
        checks.range("steps", self.steps, 1, 1_000_000);
    }

    fn build(&self) -> Walkers {
        Walkers {
            walkers: self.walkers,
            steps: self.steps,
            settle: self.settle,
            grid: Grid::new(self.width, self.height),
        }
    }
}

/// A walker: where it is, how far it has to go, what it found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Walker {
    x: u32,
    y: u32,
    /// Steps still to take.
    left: u32,
    /// Visits not answered yet.
    awaiting: u32,
    /// Answers of 0: cells nobody had visited before.
    firsts: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Msg {
    /// "I am in this cell."
    Visit,
    /// "`n` walkers were here before you."
    Seen(u32),
}

const COUNTERS: &[Quantity] = &[
    Quantity::new("visits", "visits").about("visits handled by the cells in the step"),
    Quantity::new("new_cells", "cells").about("cells visited for the first time in the step"),
];
const METRICS: &[Quantity] = &[
    Quantity::new("visits", "visits").about("visits over the run (walkers x steps)"),
    Quantity::new("cells_visited", "cells").about("cells visited at least once"),
    Quantity::new("first_visits", "visits").about("walkers' first visits to a cell, summed"),
    Quantity::new("peak_new_cells", "cells").about("the most cells found in one step"),
];
const VISITS: Counter = Counter::named(COUNTERS, "visits");
const NEW_CELLS: Counter = Counter::named(COUNTERS, "new_cells");
const TOTAL_VISITS: Metric = Metric::named(METRICS, "visits");
const CELLS_VISITED: Metric = Metric::named(METRICS, "cells_visited");
const FIRST_VISITS: Metric = Metric::named(METRICS, "first_visits");
const PEAK_NEW_CELLS: Metric = Metric::named(METRICS, "peak_new_cells");

/// The model: built from checked parameters, cheaply (cells are allocated per shard later).
struct Walkers {
    walkers: u64,
    steps: u32,
    settle: bool,
    grid: Grid,
}

impl Model for Walkers {
    type Task = Walker;
    type Msg = Msg;
    /// Visits per cell of one shard's block, indexed by the cell's offset in the block.
    type Cells = Vec<u32>;

    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const HISTOGRAMS: &'static [Quantity] =
        &[Quantity::new("first_visits", "walkers").about("first visits per walker")];

    fn tasks(&self) -> u64 {
        self.walkers
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn spawn(&self, _id: TaskId, rng: &mut TaskRng) -> Walker {
        Walker {
            x: rng.random_range(0..self.grid.width) as u32,
            y: rng.random_range(0..self.grid.height) as u32,
            left: self.steps,
            ..Walker::default()
        }
    }

    /// Checkpoints and `microsim resume` work for this model: its messages are serde and its
    /// cells a `Vec`.
    fn codec(&self) -> Option<Codec<Msg, Vec<u32>>> {
        Some(Codec::new())
    }

    fn cells(&self, range: Range<u64>, _shards: usize) -> Vec<u32> {
        vec![0; (range.end - range.start) as usize]
    }

    fn step(&self, w: &mut Walker, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        for m in mail {
            w.awaiting -= 1;
            w.firsts += (m.msg == Msg::Seen(0)) as u32;
        }
        if w.left == 0 {
            // An answer comes two steps after its visit: finish when none is outstanding.
            return if w.awaiting == 0 {
                Next::Done
            } else {
                Next::Wait
            };
        }
        let (width, height) = (self.grid.width as u32, self.grid.height as u32);
        match ctx.rng().random_range(0..4u8) {
            0 => w.x = if w.x + 1 == width { 0 } else { w.x + 1 },
            1 => w.x = if w.x == 0 { width - 1 } else { w.x - 1 },
            2 => w.y = if w.y + 1 == height { 0 } else { w.y + 1 },
            _ => w.y = if w.y == 0 { height - 1 } else { w.y - 1 },
        }
        w.left -= 1;
        w.awaiting += 1;
        let cell = self.grid.cell(w.x as u64, w.y as u64);
        ctx.send_to_cell(cell, Msg::Visit);
        if self.settle {
            ctx.move_near(cell);
        }
        Next::Continue
    }

    fn on_cell(&self, visits: &mut Vec<u32>, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        let n = &mut visits[ctx.offset()];
        ctx.send_to_task(mail.from, Msg::Seen(*n));
        ctx.count(VISITS, 1);
        ctx.count(NEW_CELLS, (*n == 0) as u64);
        *n = n.saturating_add(1);
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let mut firsts = histogram(self.steps as u64);
        let mut first_visits = 0u64;
        for (_, w) in end.tasks() {
            firsts.saturating_record(w.firsts as u64);
            first_visits += w.firsts as u64;
        }
        // Shards' blocks come in cell order, so the running index is the cell's id.
        let (mut cells_visited, mut busiest) = (0u64, (0u64, 0u32));
        for (cell, &n) in end.cells().flatten().enumerate() {
            cells_visited += (n > 0) as u64;
            if n > busiest.1 {
                busiest = (cell as u64, n);
            }
        }
        let (peak_step, peak) = end.tally().peak(NEW_CELLS).unwrap_or((0, 0));
        let mut report = end.report();
        report
            .set(TOTAL_VISITS, end.total(VISITS) as f64)
            .set(CELLS_VISITED, cells_visited as f64)
            .set(FIRST_VISITS, first_visits as f64)
            .set(PEAK_NEW_CELLS, peak as f64)
            .histogram("first_visits", firsts)
            .details(serde_json::json!({
                "peak_new_cells_step": peak_step,
                "busiest_cell": {
                    "x": busiest.0 % self.grid.width,
                    "y": busiest.0 / self.grid.width,
                    "visits": busiest.1,
                },
            }));
        report
    }

    fn messages_per_step(&self, quantum: u32) -> u64 {
        // A step carries this step's visits and the answers to the last step's.
        2 * self.walkers * quantum.min(self.steps) as u64
    }

    fn mail_per_step(&self, quantum: u32) -> u64 {
        // The answers: half of a step's messages.
        self.walkers * quantum.min(self.steps) as u64
    }

    fn estimate_bytes(&self, _shards: usize) -> u64 {
        self.walkers * std::mem::size_of::<Walker>() as u64 + self.grid.cells() * 4
    }
}
