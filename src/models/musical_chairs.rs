//! The robots of the project's source example ("Example of Microsimulation with Stackless
//! Python"): musical chairs where a chair, once sat on, is taken for good.
//!
//! Each round every robot picks a uniformly random cell and sends a claim to the shard that
//! owns it. The owner grants the first claim on a free cell and denies the rest (first in
//! delivery order: the lower robot id, or under `shuffled` the lower seeded priority); a
//! granted claim is a point. Robots do not wait for answers before the next round, so ten
//! rounds take twelve steps: claims go out in steps 0–9, the last answers arrive in step 11.
//!
//! Who won: the robots with the most points. `winners` counts them, `details.winner_ids`
//! names up to ten (lowest ids first), and the `points` histogram shows the whole field.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::Codec;
use crate::{
    CellCtx, CellSet, Checks, Counter, Ctx, End, Expected, Grid, Mail, Metric, Model, ModelParams,
    Next, Quantity, Report, TaskId, TaskRng, histogram,
};

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Number of robots.
    pub robots: u64,
    /// Arena width, in cells.
    pub width: u64,
    /// Arena height, in cells.
    pub height: u64,
    /// Rounds each robot plays.
    pub rounds: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            robots: 100_000,
            width: 10_000,
            height: 10_000,
            rounds: 10,
        }
    }
}

/// A robot: how far it has played and how it has done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Robot {
    /// Claims sent.
    pub played: u32,
    /// Answers received.
    pub answered: u32,
    /// Claims granted.
    pub points: u32,
}

/// Messages between robots and chairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// A robot asks for the chair in the destination cell.
    Claim,
    /// The chair was free and is now the robot's.
    Granted,
    /// The chair was taken.
    Denied,
}

/// The model's per-step counters.
pub const COUNTERS: &[Quantity] = &[
    Quantity::new("claims_granted", "claims").about("claims on a free chair, now taken"),
    Quantity::new("claims_denied", "claims").about("claims on a chair already taken"),
];
/// The model's metrics.
pub const METRICS: &[Quantity] = &[
    Quantity::count("claims_granted", "claims").about("claims granted over the run"),
    Quantity::count("claims_denied", "claims").about("claims denied over the run"),
    Quantity::count("cells_taken", "cells").about("chairs taken at the end"),
    Quantity::count("max_points", "points").about("the best robot's points"),
    Quantity::count("winners", "robots").about("robots with the best score"),
];
const GRANTED: Counter = Counter::named(COUNTERS, "claims_granted");
const DENIED: Counter = Counter::named(COUNTERS, "claims_denied");
/// The `claims_granted` metric.
pub const CLAIMS_GRANTED: Metric = Metric::named(METRICS, "claims_granted");
/// The `claims_denied` metric.
pub const CLAIMS_DENIED: Metric = Metric::named(METRICS, "claims_denied");
const CELLS_TAKEN: Metric = Metric::named(METRICS, "cells_taken");
const MAX_POINTS: Metric = Metric::named(METRICS, "max_points");
const WINNERS: Metric = Metric::named(METRICS, "winners");

/// The musical chairs model.
#[derive(Clone, Debug)]
pub struct MusicalChairs {
    params: Params,
    grid: Grid,
}

impl MusicalChairs {
    /// A model with these (validated) parameters.
    pub fn new(params: Params) -> Self {
        let grid = Grid::new(params.width, params.height);
        MusicalChairs { params, grid }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Claims made in the whole run.
    pub fn claims(&self) -> u64 {
        self.params.robots * self.params.rounds as u64
    }

    /// The expected number of cells taken: `C · (1 − (1 − 1/C)^n)` for `C` cells and `n`
    /// claims, since a cell is taken exactly when at least one claim lands on it.
    pub fn expected_cells_taken(&self) -> f64 {
        let c = self.grid.cells() as f64;
        let n = self.claims() as f64;
        c * -(n * (-1.0 / c).ln_1p()).exp_m1()
    }
}

impl Model for MusicalChairs {
    type Task = Robot;
    type Msg = Msg;
    type Cells = CellSet;

    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const HISTOGRAMS: &'static [Quantity] =
        &[Quantity::new("points", "robots").about("points per robot")];

    fn tasks(&self) -> u64 {
        self.params.robots
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn spawn(&self, _id: TaskId, _rng: &mut TaskRng) -> Robot {
        Robot::default()
    }

    fn cells(&self, range: std::ops::Range<u64>, shards: usize) -> CellSet {
        let expected = self.claims().div_ceil(shards as u64);
        CellSet::new(range.end - range.start, expected)
    }

    fn codec(&self) -> Option<Codec<Msg, CellSet>> {
        Some(Codec::new())
    }

    fn reset_cells(&self, cells: &mut CellSet, _range: std::ops::Range<u64>, _shards: usize) {
        cells.clear();
    }

    #[inline(always)]
    fn step(&self, robot: &mut Robot, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        for m in mail {
            robot.answered += 1;
            robot.points += (m.msg == Msg::Granted) as u32;
        }
        if robot.played < self.params.rounds {
            let x = ctx.rng().random_range(0..self.grid.width);
            let y = ctx.rng().random_range(0..self.grid.height);
            ctx.send_to_cell(self.grid.cell(x, y), Msg::Claim);
            robot.played += 1;
            Next::Continue
        } else if robot.answered < robot.played {
            Next::Wait
        } else {
            Next::Done
        }
    }

    #[inline(always)]
    fn prefetch_cell(&self, chairs: &CellSet, offset: usize) {
        chairs.prefetch(offset);
    }

    #[inline(always)]
    fn on_cell(&self, chairs: &mut CellSet, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        debug_assert_eq!(mail.msg, Msg::Claim);
        if chairs.insert(ctx.offset()) {
            ctx.count(GRANTED, 1);
            ctx.send_to_task(mail.from, Msg::Granted);
        } else {
            ctx.count(DENIED, 1);
            ctx.send_to_task(mail.from, Msg::Denied);
        }
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let mut points = histogram(self.params.rounds as u64 + 1);
        let (mut max_points, mut winners, mut winner_ids) = (0u32, 0u64, Vec::new());
        for (id, robot) in end.tasks() {
            points.saturating_record(robot.points as u64);
            if robot.points > max_points {
                (max_points, winners) = (robot.points, 0);
                winner_ids.clear();
            }
            if robot.points == max_points {
                winners += 1;
                if winner_ids.len() < 10 {
                    winner_ids.push(id);
                }
            }
        }
        let cells_taken: u64 = end.cells().map(CellSet::len).sum();
        let mut report = end.report();
        report
            .set(CLAIMS_GRANTED, end.total(GRANTED) as f64)
            .set(CLAIMS_DENIED, end.total(DENIED) as f64)
            .set(CELLS_TAKEN, cells_taken as f64)
            .set(MAX_POINTS, max_points as f64)
            .set(WINNERS, winners as f64)
            .histogram("points", points)
            .details(serde_json::json!({
                "winner_ids": winner_ids,
                "expected_cells_taken": self.expected_cells_taken(),
            }));
        report
    }

    /// Cells taken (and claims granted) `C · (1 − (1 − 1/C)^n)`, and the claims denied,
    /// `n` less that, for `n` claims on `C` cells.
    fn expected(&self) -> Expected {
        let taken = self.expected_cells_taken();
        Expected::new()
            .metric(CELLS_TAKEN, taken)
            .metric(CLAIMS_GRANTED, taken)
            .metric(CLAIMS_DENIED, self.claims() as f64 - taken)
    }

    fn messages_per_step(&self, quantum: u32) -> u64 {
        // A step carries this round's claims and the last round's answers.
        2 * self.params.robots * quantum.min(self.params.rounds) as u64
    }

    fn mail_per_step(&self, quantum: u32) -> u64 {
        // The answers: half of a step's messages.
        self.params.robots * quantum.min(self.params.rounds) as u64
    }

    fn estimate_bytes(&self, shards: usize) -> u64 {
        let tasks = self.params.robots * std::mem::size_of::<Robot>() as u64;
        let per_shard = self.grid.cells().div_ceil(shards as u64);
        let claims = self.claims().div_ceil(shards as u64);
        tasks + shards as u64 * CellSet::estimate_bytes(per_shard, claims)
    }
}

impl ModelParams for Params {
    type Model = MusicalChairs;
    const NAME: &'static str = "musical_chairs";
    const SUMMARY: &'static str =
        "robots claim random cells; a cell once taken stays taken (the source's robots)";
    const STARTER: &'static str = "\
[model]
# Robots (tasks); each plays `rounds` rounds.
robots = 100000
# Arena size in cells; a robot picks a uniform random cell each round.
width = 10000
height = 10000
rounds = 10
";

    fn check(&self, checks: &mut Checks) {
        checks.range("robots", self.robots, 1, u32::MAX as u64);
        checks.arena(("width", self.width), ("height", self.height));
        checks.range("rounds", self.rounds, 1, 1_000_000);
    }

    fn build(&self) -> MusicalChairs {
        MusicalChairs::new(self.clone())
    }
}
