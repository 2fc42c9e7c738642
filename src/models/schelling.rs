//! Schelling's segregation model, as the ABM framework comparison declares it
//! (JuliaDynamics/ABMFrameworksComparison, `Schelling/DECLARATION.md`).
//!
//! `agents` agents of two groups (half each) stand on distinct random cells of a bounded
//! `width × height` grid, one per cell. Each step every agent counts the agents of its own
//! group within Chebyshev distance `radius`; with at least `min_to_be_happy` of them it is
//! happy, otherwise it moves to a random empty cell. The run lasts `steps` steps.
//!
//! **Simultaneous moves.** The declaration activates agents one after another, each seeing
//! the moves made before it in the step. Here every agent decides on the grid as it was at the
//! step's start, and moves happen together at the step's end: an unhappy agent claims an empty
//! cell, and when several claim one, the engine gives it to the first in the step's seeded
//! order; the others stay where they were and try again next step. A cell emptied in a step is
//! free from the next. The outcome agrees in kind with the sequential model (segregation rises
//! until every agent is happy; tested in `tests/abm.rs`), a step or two later.
//!
//! Counters per step: `happy`, `moved`, and the neighbour pairs `same` and `neighbours`; series:
//! `happy_share` and `segregation` (the share of an agent's neighbours in its group).

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::{
    Checks, Codec, Counter, Ctx, End, Hood, Mail, Metric, Model, ModelParams, Next, Place,
    Quantity, Report, Setup, Space, StepRow, Tally, TaskId, TaskRng,
};

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Grid width, in cells.
    pub width: u64,
    /// Grid height, in cells.
    pub height: u64,
    /// Agents (half of each group), at most one per cell.
    pub agents: u64,
    /// How far an agent looks (Chebyshev distance, in cells).
    pub radius: u32,
    /// Neighbours of its own group an agent needs to be happy.
    pub min_to_be_happy: u32,
    /// Steps to run.
    pub steps: u32,
}

impl Default for Params {
    /// The comparison's small model.
    fn default() -> Self {
        Params {
            width: 40,
            height: 40,
            agents: 1000,
            radius: 1,
            min_to_be_happy: 3,
            steps: 20,
        }
    }
}

/// An agent: its group and whether it was happy at its last look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// 0 or 1.
    pub group: u8,
    /// Whether it had enough neighbours of its group.
    pub happy: bool,
}

const COUNTERS: &[Quantity] = &[
    Quantity::new("happy", "agents").about("agents happy where they stood"),
    Quantity::new("moved", "agents").about("unhappy agents that claimed an empty cell"),
    Quantity::new("same", "pairs").about("neighbours of an agent's own group, summed"),
    Quantity::new("neighbours", "pairs").about("neighbours of an agent, summed"),
];
const METRICS: &[Quantity] = &[
    Quantity::new("happy_share", "").about("share of agents happy in the last step"),
    Quantity::new("segregation", "").about("share of neighbours of one's own group, last step"),
    Quantity::new("all_happy", "").about("1 if every agent was happy in the last step"),
    Quantity::new("moves", "moves").about("claims of an empty cell over the run"),
];
const SERIES: &[Quantity] = &[
    Quantity::new("happy_share", "").about("share of agents happy"),
    Quantity::new("segregation", "").about("share of neighbours of one's own group"),
];
const HAPPY: Counter = Counter::named(COUNTERS, "happy");
const MOVED: Counter = Counter::named(COUNTERS, "moved");
const SAME: Counter = Counter::named(COUNTERS, "same");
const NEIGHBOURS: Counter = Counter::named(COUNTERS, "neighbours");

/// The model.
#[derive(Clone, Debug)]
pub struct Schelling {
    p: Params,
}

impl Schelling {
    /// A model with these (checked) parameters.
    pub fn new(p: Params) -> Self {
        Schelling { p }
    }
}

impl Model for Schelling {
    type Task = Agent;
    type Msg = u8; // what an agent shows: its group
    type Cells = ();
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const SERIES: &'static [Quantity] = SERIES;

    fn tasks(&self) -> u64 {
        self.p.agents
    }

    fn space(&self) -> Option<Space> {
        Some(Space::grid(self.p.width, self.p.height).capacity(1))
    }

    fn spawn(&self, id: TaskId, _: &mut TaskRng) -> Agent {
        let group = (id as u64 >= self.p.agents / 2) as u8;
        Agent {
            group,
            happy: false,
        }
    }

    fn place(&self, id: TaskId, _: &Agent, _: &mut TaskRng, setup: &Setup) -> Place {
        Place::Cell(setup.shuffled_cell(id as u64)) // distinct random cells
    }

    fn cells(&self, _: std::ops::Range<u64>, _: usize) {}

    fn publish(&self, agent: &Agent) -> Option<u8> {
        Some(agent.group)
    }

    fn step(&self, agent: &mut Agent, _: &[Mail<u8>], ctx: &mut Ctx<'_, u8>) -> Next {
        let (same, all) = ctx
            .neighbours(Hood::Moore(self.p.radius))
            .fold((0, 0), |(s, a), n| {
                (s + (*n.msg == agent.group) as u64, a + 1)
            });
        ctx.count(SAME, same);
        ctx.count(NEIGHBOURS, all);
        agent.happy = same >= self.p.min_to_be_happy as u64;
        if agent.happy {
            ctx.count(HAPPY, 1);
        } else if let Some(cell) = empty_cell(ctx) {
            ctx.move_to(cell);
            ctx.count(MOVED, 1);
        }
        Next::Continue
    }

    fn stop(&self, tally: &Tally<'_>) -> bool {
        tally.steps() >= self.p.steps
    }

    fn series(&self, row: &StepRow, _: &Tally<'_>, out: &mut [f64]) {
        out[0] = row.counters[HAPPY.index()] as f64 / row.tasks_alive.max(1) as f64;
        out[1] = row.counters[SAME.index()] as f64 / row.counters[NEIGHBOURS.index()].max(1) as f64;
    }

    fn codec(&self) -> Option<Codec<u8, ()>> {
        Some(Codec::new())
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let t = end.tally();
        let agents = self.p.agents.max(1) as f64;
        let mut report = end.report();
        report
            .set(
                Metric::named(METRICS, "happy_share"),
                t.last(HAPPY) as f64 / agents,
            )
            .set(
                Metric::named(METRICS, "all_happy"),
                (t.last(HAPPY) == self.p.agents) as u8 as f64,
            )
            .set(
                Metric::named(METRICS, "segregation"),
                t.last(SAME) as f64 / t.last(NEIGHBOURS).max(1) as f64,
            )
            .set(Metric::named(METRICS, "moves"), t.total(MOVED) as f64);
        report
    }
}

/// A cell empty at the step's start, drawn at random (a few tries: on a nearly full grid there
/// may be none to find).
fn empty_cell(ctx: &mut Ctx<'_, u8>) -> Option<u64> {
    let cells = ctx.space().cells().cells();
    (0..64).find_map(|_| {
        let c = ctx.rng().random_range(0..cells);
        (ctx.occupants(c) == 0).then_some(c)
    })
}

impl ModelParams for Params {
    type Model = Schelling;
    const NAME: &'static str = "schelling";
    const SUMMARY: &'static str = "Schelling's segregation: unhappy agents move to empty cells";
    const STARTER: &'static str = "\
[model]
# A bounded grid, at most one agent per cell; half the agents in each group.
width = 40
height = 40
agents = 1000
# An agent is happy with at least `min_to_be_happy` neighbours of its group within `radius`.
radius = 1
min_to_be_happy = 3
steps = 20
";

    fn check(&self, checks: &mut Checks) {
        checks.arena(("width", self.width), ("height", self.height));
        let cells = self.width.saturating_mul(self.height);
        checks.range("agents", self.agents, 1, cells.min(u32::MAX as u64 - 1));
        checks.range("radius", self.radius, 1, 1000);
        checks.range("min_to_be_happy", self.min_to_be_happy, 0, 1_000_000);
        checks.range("steps", self.steps, 1, 1_000_000);
    }

    fn build(&self) -> Schelling {
        Schelling::new(self.clone())
    }
}
