//! Wolf–sheep–grass predation, as the ABM framework comparison declares it
//! (JuliaDynamics/ABMFrameworksComparison, `WolfSheep/DECLARATION.md`).
//!
//! Sheep and wolves (two kinds of agent, two types) walk at random on a bounded grid whose
//! cells grow grass. Each step an animal loses a unit of energy; a sheep eats the grass of its
//! cell if it is grown (the grass then regrows after `grass_regrowth_time` steps), a wolf eats
//! one of the sheep in its cell; an animal whose energy falls below 0 dies, otherwise it gives
//! birth with its kind's probability, halving its energy with its offspring. The run lasts
//! `steps` steps.
//!
//! **Within one step.** Animals eat where they stood at the step's start, then move to a
//! random one of the 8 cells around: the declaration moves first, then eats, the same cycle
//! started half a turn later. So an offspring, which the declaration leaves where its parent
//! ate and moves at the next step before it eats, here starts one random step away. The animals
//! of one cell act one after another, the sheep first (as the declaration's step activates all
//! sheep, then all wolves), each kind in the step's seeded order; so two sheep never eat one
//! patch of grass and two wolves never eat one sheep ([`crate::Ctx::claim_here`],
//! [`crate::Ctx::kill`]).
//!
//! **Against the comparison's Mesa code.** It moves animals to one of the 4 cells beside
//! (`walk = "von_neumann"`), so an animal's `x + y` changes parity every step and half of the
//! wolf–sheep pairs can never meet: its wolves starve more often. With the same walk, the
//! populations here fall within the band of Mesa's runs (`tests/abm.rs`).
//!
//! Counters per step: `sheep`, `wolves` (the animals alive at the step's start), `grass`
//! (cells grown at the step's start), `births`, `starved` and `eaten`.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::{
    CellCtx, Checks, Codec, Counter, Ctx, End, Hood, Mail, Metric, Model, ModelParams, Next, Place,
    Quantity, Report, Setup, Space, StepEndCtx, Tally, TaskId, TaskRng,
};

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Grid width, in cells.
    pub width: u64,
    /// Grid height, in cells.
    pub height: u64,
    /// Sheep at the start.
    pub sheep: u64,
    /// Wolves at the start.
    pub wolves: u64,
    /// A sheep's chance to give birth in a step.
    pub sheep_reproduce: f64,
    /// A wolf's chance to give birth in a step.
    pub wolf_reproduce: f64,
    /// Steps grass takes to grow back once eaten.
    pub grass_regrowth_time: u32,
    /// Energy a sheep gains from grass.
    pub sheep_gain: f64,
    /// Energy a wolf gains from a sheep.
    pub wolf_gain: f64,
    /// Steps to run.
    pub steps: u32,
    /// The most animals alive at once (what the memory budget counts; the run stops if
    /// births would pass it).
    pub max_animals: u64,
    /// Where an animal can step: one of the 8 cells around (`"moore"`, as declared) or one of
    /// the 4 beside (`"von_neumann"`, as the comparison's Mesa code does).
    pub walk: Walk,
}

/// The cells an animal steps to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Walk {
    /// One of the 8 cells around.
    #[default]
    Moore,
    /// One of the 4 cells beside.
    VonNeumann,
}

impl Default for Params {
    /// The comparison's small model.
    fn default() -> Self {
        Params {
            width: 25,
            height: 25,
            sheep: 60,
            wolves: 40,
            sheep_reproduce: 0.2,
            wolf_reproduce: 0.1,
            grass_regrowth_time: 20,
            sheep_gain: 5.0,
            wolf_gain: 13.0,
            steps: 100,
            max_animals: 100_000,
            walk: Walk::Moore,
        }
    }
}

/// A sheep: its energy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sheep {
    /// Energy left.
    pub energy: f64,
}

/// A wolf: its energy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wolf {
    /// Energy left.
    pub energy: f64,
}

/// An animal: a sheep or a wolf.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Animal {
    /// A sheep.
    Sheep(Sheep),
    /// A wolf.
    Wolf(Wolf),
}

/// What an animal shows, what a cell shows, and what a sheep tells the grass it ate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// A sheep is here.
    Sheep,
    /// A wolf is here.
    Wolf,
    /// The grass here is grown.
    Grown,
    /// The grass here was eaten.
    Eaten,
}

const COUNTERS: &[Quantity] = &[
    Quantity::new("sheep", "sheep").about("sheep alive at the step's start"),
    Quantity::new("wolves", "wolves").about("wolves alive at the step's start"),
    Quantity::new("grass", "cells").about("cells with grown grass at the step's start"),
    Quantity::new("births", "animals").about("animals born"),
    Quantity::new("starved", "animals").about("animals whose energy ran out"),
    Quantity::new("eaten", "sheep").about("sheep eaten by wolves"),
    Quantity::new("grazed", "sheep").about("sheep that ate grass"),
];
const METRICS: &[Quantity] = &[
    Quantity::new("sheep", "sheep").about("sheep alive at the end"),
    Quantity::new("wolves", "wolves").about("wolves alive at the end"),
    Quantity::new("peak_sheep", "sheep").about("most sheep alive at once"),
    Quantity::new("peak_wolves", "wolves").about("most wolves alive at once"),
    Quantity::new("wolves_survive", "").about("1 if wolves were alive at the end"),
];
const SHEEP: Counter = Counter::named(COUNTERS, "sheep");
const WOLVES: Counter = Counter::named(COUNTERS, "wolves");
const GRASS: Counter = Counter::named(COUNTERS, "grass");
const BIRTHS: Counter = Counter::named(COUNTERS, "births");
const STARVED: Counter = Counter::named(COUNTERS, "starved");
const EATEN: Counter = Counter::named(COUNTERS, "eaten");
const GRAZED: Counter = Counter::named(COUNTERS, "grazed");

/// The model.
#[derive(Clone, Debug)]
pub struct WolfSheep {
    p: Params,
}

impl WolfSheep {
    /// A model with these (checked) parameters.
    pub fn new(p: Params) -> Self {
        WolfSheep { p }
    }

    /// One of the cells around `cell` ([`Walk`]), at random.
    fn random_walk(&self, cell: u64, ctx: &mut Ctx<'_, Msg>) -> u64 {
        const AROUND: [(i64, i64); 8] = [
            (1, 0),
            (0, 1),
            (-1, 0),
            (0, -1),
            (1, 1),
            (-1, 1),
            (-1, -1),
            (1, -1),
        ];
        let ways = match self.p.walk {
            Walk::Moore => 8,
            Walk::VonNeumann => 4,
        };
        loop {
            let (dx, dy) = AROUND[(ctx.rng().next_u64() >> 61) as usize % ways];
            if let Some(to) = ctx.space().offset_cell(cell, dx, dy) {
                return to;
            }
        }
    }

    /// One of the sheep in this animal's cell, at random, eaten: true if one was left.
    fn eat_a_sheep(&self, ctx: &mut Ctx<'_, Msg>) -> bool {
        let here = ctx.cell();
        let mut sheep = [0; 16];
        let n = ctx.near(here, Hood::HERE).fold(0, |n, a| {
            if *a.msg == Msg::Sheep && n < sheep.len() {
                sheep[n] = a.id;
                return n + 1;
            }
            n
        });
        if n == 0 {
            return false;
        }
        let start = ctx.rng().random_range(0..n);
        (0..n).any(|i| ctx.kill(sheep[(start + i) % n]))
    }
}

impl Model for WolfSheep {
    type Task = Animal;
    type Msg = Msg;
    type Cells = Vec<u32>; // steps until the grass is grown (0: grown)
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;

    fn tasks(&self) -> u64 {
        self.p.sheep + self.p.wolves
    }

    fn max_tasks(&self) -> u64 {
        self.p.max_animals.max(self.tasks())
    }

    fn space(&self) -> Option<Space> {
        Some(Space::grid(self.p.width, self.p.height))
    }

    fn spawn(&self, id: TaskId, rng: &mut TaskRng) -> Animal {
        let sheep = (id as u64) < self.p.sheep;
        let gain = if sheep {
            self.p.sheep_gain
        } else {
            self.p.wolf_gain
        };
        let energy = 1.0 + rng.random::<f64>() * (2.0 * gain - 1.0);
        if sheep {
            Animal::Sheep(Sheep { energy })
        } else {
            Animal::Wolf(Wolf { energy })
        }
    }

    fn cells(&self, range: std::ops::Range<u64>, _: usize) -> Vec<u32> {
        vec![0; (range.end - range.start) as usize]
    }

    fn setup_cells(&self, grass: &mut Vec<u32>, range: std::ops::Range<u64>, setup: &Setup) {
        for (cell, countdown) in range.zip(grass.iter_mut()) {
            let mut rng = setup.cell_rng(cell);
            let grown = rng.random::<bool>();
            *countdown = if grown {
                0
            } else {
                rng.random_range(1..=self.p.grass_regrowth_time)
            };
        }
    }

    fn turn(&self, animal: &Animal) -> u8 {
        matches!(animal, Animal::Wolf(_)) as u8 // sheep first
    }

    fn publish(&self, animal: &Animal) -> Option<Msg> {
        Some(match animal {
            Animal::Sheep(_) => Msg::Sheep,
            Animal::Wolf(_) => Msg::Wolf,
        })
    }

    fn view(&self, grass: &Vec<u32>, offset: usize) -> Option<Msg> {
        (grass[offset] == 0).then_some(Msg::Grown)
    }

    fn step(&self, animal: &mut Animal, _: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        let here = ctx.cell();
        let (energy, chance) = match animal {
            Animal::Sheep(s) => {
                s.energy -= 1.0;
                if ctx.look(here) == Some(Msg::Grown) && ctx.claim_here() {
                    s.energy += self.p.sheep_gain;
                    ctx.send_to_cell(here, Msg::Eaten);
                    ctx.count(GRAZED, 1);
                }
                (&mut s.energy, self.p.sheep_reproduce)
            }
            Animal::Wolf(w) => {
                w.energy -= 1.0;
                if self.eat_a_sheep(ctx) {
                    w.energy += self.p.wolf_gain;
                    ctx.count(EATEN, 1);
                }
                (&mut w.energy, self.p.wolf_reproduce)
            }
        };
        if *energy < 0.0 {
            ctx.count(STARVED, 1);
            return Next::Done;
        }
        if ctx.rng().random::<f64>() < chance {
            *energy /= 2.0;
            // The offspring takes its first step with its parent's (see the module docs).
            let first = self.random_walk(here, ctx);
            ctx.spawn_at(*animal, Place::Cell(first));
            ctx.count(BIRTHS, 1);
        }
        let to = self.random_walk(here, ctx);
        ctx.move_to(to);
        Next::Continue
    }

    fn on_cell(&self, grass: &mut Vec<u32>, _: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        // Eaten last step: it grows back in `grass_regrowth_time` steps from then.
        grass[ctx.offset()] = self.p.grass_regrowth_time + 1;
    }

    fn end_step(&self, grass: &mut Vec<u32>, ctx: &mut StepEndCtx<'_, Msg>) {
        // The animals here at the step's start, by kind.
        let (sheep, wolves) = ctx.published().fold((0, 0), |(s, w), a| match a.msg {
            Msg::Sheep => (s + 1, w),
            _ => (s, w + 1),
        });
        ctx.count(SHEEP, sheep);
        ctx.count(WOLVES, wolves);
        // The grass grows: what the declaration does at the end of each step, done here at
        // the start of the next (after the last step's meals reached the grass).
        let grows = ctx.step() > 0;
        let mut grown = 0;
        for countdown in grass.iter_mut() {
            *countdown = countdown.saturating_sub(grows as u32);
            grown += (*countdown == 0) as u64;
        }
        ctx.count(GRASS, grown);
    }

    fn stop(&self, tally: &Tally<'_>) -> bool {
        tally.steps() >= self.p.steps
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let (mut sheep, mut wolves) = (0u64, 0u64);
        for (_, animal) in end.tasks() {
            match animal {
                Animal::Sheep(_) => sheep += 1,
                Animal::Wolf(_) => wolves += 1,
            }
        }
        let peak = |c| end.tally().peak(c).map_or(0, |p| p.1) as f64;
        let mut report = end.report();
        report
            .set(Metric::named(METRICS, "sheep"), sheep as f64)
            .set(Metric::named(METRICS, "wolves"), wolves as f64)
            .set(Metric::named(METRICS, "peak_sheep"), peak(SHEEP))
            .set(Metric::named(METRICS, "peak_wolves"), peak(WOLVES))
            .set(
                Metric::named(METRICS, "wolves_survive"),
                (wolves > 0) as u8 as f64,
            );
        report
    }

    fn messages_per_step(&self, _: u32) -> u64 {
        self.max_tasks() // a sheep's message to the grass it ate
    }

    fn mail_per_step(&self, _: u32) -> u64 {
        0
    }

    fn estimate_bytes(&self, _: usize) -> u64 {
        self.max_tasks() * std::mem::size_of::<Animal>() as u64
            + 4 * self.p.width.saturating_mul(self.p.height)
    }

    fn codec(&self) -> Option<Codec<Msg, Vec<u32>>> {
        Some(Codec::new())
    }
}

impl ModelParams for Params {
    type Model = WolfSheep;
    const NAME: &'static str = "wolf_sheep";
    const SUMMARY: &'static str = "wolves eat sheep, sheep eat grass; both are born and die";
    const STARTER: &'static str = "\
[model]
# A bounded grid; sheep and wolves start on random cells, half the grass grown.
width = 25
height = 25
sheep = 60
wolves = 40
# A chance per step to give birth (halving the parent's energy with the offspring).
sheep_reproduce = 0.2
wolf_reproduce = 0.1
grass_regrowth_time = 20
# Energy from a meal.
sheep_gain = 5.0
wolf_gain = 13.0
steps = 100
# The most animals alive at once (the memory budget counts this many).
max_animals = 100000
# 'moore': a step to one of the 8 cells around; 'von_neumann': one of the 4 beside.
walk = 'moore'
";

    fn check(&self, checks: &mut Checks) {
        checks.arena(("width", self.width), ("height", self.height));
        checks.range("sheep", self.sheep, 0, u32::MAX as u64 / 2);
        checks.range("wolves", self.wolves, 0, u32::MAX as u64 / 2);
        checks.probability("sheep_reproduce", self.sheep_reproduce);
        checks.probability("wolf_reproduce", self.wolf_reproduce);
        checks.range(
            "grass_regrowth_time",
            self.grass_regrowth_time,
            1,
            1_000_000,
        );
        checks.positive("sheep_gain", self.sheep_gain, 1e9);
        checks.positive("wolf_gain", self.wolf_gain, 1e9);
        checks.range("steps", self.steps, 1, 1_000_000);
        checks.range("max_animals", self.max_animals, 1, u32::MAX as u64 - 1);
    }

    fn build(&self) -> WolfSheep {
        WolfSheep::new(self.clone())
    }
}
