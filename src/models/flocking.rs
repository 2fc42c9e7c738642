//! Reynolds' boids flocking in a periodic continuous space, as the ABM framework comparison
//! declares it (JuliaDynamics/ABMFrameworksComparison, `Flocking/DECLARATION.md`).
//!
//! `birds` birds start at random points of a `width × height` torus with random velocities.
//! Each step a bird looks at the birds within `vision`: it steers towards their mean position
//! (`cohere`), away from those closer than `separation` (`separate`) and towards their mean
//! velocity (`match`), keeps its velocity a unit vector, and moves `speed` along it. The run
//! lasts `steps` steps.
//!
//! **Simultaneous update.** The declaration activates birds one after another, each seeing the
//! moves made before it in the step; here every bird sees the flock as it was at the step's
//! start (the synchronous update of Reynolds' original and of FLAME GPU's boids). Neighbours are
//! summed in a fixed order, so the floats are the same bytes at any thread and shard count.
//!
//! Counters per step: `alignment` (each bird's agreement with its neighbours' mean heading,
//! in millionths, summed) over `with_neighbours`; series: `local_alignment` (from -1 to 1).
//! Metric `polarization`: the length of the flock's mean velocity at the end (0 random, 1
//! all in one direction).

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::{
    Checks, Codec, Counter, Ctx, End, Mail, Metric, Model, ModelParams, Next, Quantity, Report,
    Space, StepRow, Tally, TaskId, TaskRng,
};

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Width of the torus.
    pub width: f64,
    /// Height of the torus.
    pub height: f64,
    /// Birds.
    pub birds: u64,
    /// How far a bird sees.
    pub vision: f64,
    /// How far a bird moves in a step.
    pub speed: f64,
    /// The distance a bird keeps from others.
    pub separation: f64,
    /// Weight of steering towards the neighbours' mean position.
    pub cohere: f64,
    /// Weight of steering away from birds too close.
    pub separate: f64,
    /// Weight of steering towards the neighbours' mean velocity.
    pub r#match: f64,
    /// Steps to run.
    pub steps: u32,
}

impl Default for Params {
    /// The comparison's small model.
    fn default() -> Self {
        Params {
            width: 100.0,
            height: 100.0,
            birds: 200,
            vision: 5.0,
            speed: 1.0,
            separation: 1.0,
            cohere: 0.03,
            separate: 0.015,
            r#match: 0.05,
            steps: 100,
        }
    }
}

/// A bird: its velocity (its position is its place in the space).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bird {
    /// Velocity, a unit vector once the bird has flown.
    pub vel: [f64; 2],
}

const COUNTERS: &[Quantity] = &[
    Quantity::new("alignment", "millionths")
        .about("agreement with the neighbours' heading, summed"),
    Quantity::new("with_neighbours", "birds").about("birds that saw another bird"),
];
const METRICS: &[Quantity] = &[
    Quantity::new("local_alignment", "").about("mean agreement with the neighbours' heading"),
    Quantity::new("polarization", "").about("length of the mean velocity at the end"),
    Quantity::new("alone", "birds").about("birds that saw no other in the last step"),
];
const SERIES: &[Quantity] = &[Quantity::new("local_alignment", "")
    .about("mean agreement with the neighbours' heading, from -1 to 1")];
const ALIGNMENT: Counter = Counter::named(COUNTERS, "alignment");
const WITH: Counter = Counter::named(COUNTERS, "with_neighbours");

/// The model.
#[derive(Clone, Debug)]
pub struct Flocking {
    p: Params,
}

impl Flocking {
    /// A model with these (checked) parameters.
    pub fn new(p: Params) -> Self {
        Flocking { p }
    }
}

/// The mean local alignment of a step's counters.
fn alignment(sum: u64, birds: u64) -> f64 {
    2.0 * sum as f64 / (1e6 * birds.max(1) as f64) - 1.0
}

impl Model for Flocking {
    type Task = Bird;
    type Msg = [f64; 2]; // what a bird shows: its velocity
    type Cells = ();
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const SERIES: &'static [Quantity] = SERIES;

    fn tasks(&self) -> u64 {
        self.p.birds
    }

    fn space(&self) -> Option<Space> {
        let bucket = (self.p.vision / 1.5).max(self.p.width.max(self.p.height) / 4096.0);
        Some(Space::continuous(self.p.width, self.p.height, bucket).periodic())
    }

    fn spawn(&self, _: TaskId, rng: &mut TaskRng) -> Bird {
        let mut v = || rng.random::<f64>() * 2.0 - 1.0;
        Bird { vel: [v(), v()] }
    }

    fn cells(&self, _: std::ops::Range<u64>, _: usize) {}

    fn publish(&self, bird: &Bird) -> Option<[f64; 2]> {
        Some(bird.vel)
    }

    fn step(&self, bird: &mut Bird, _: &[Mail<[f64; 2]>], ctx: &mut Ctx<'_, [f64; 2]>) -> Next {
        let sep2 = self.p.separation * self.p.separation;
        let (n, cohere, separate, matching) = ctx.within(self.p.vision).fold(
            (0.0, [0.0; 2], [0.0; 2], [0.0; 2]),
            |(n, c, s, m), b| {
                let d = b.offset;
                let s = if b.distance2 < sep2 {
                    [s[0] - d[0], s[1] - d[1]]
                } else {
                    s
                };
                (
                    n + 1.0,
                    [c[0] + d[0], c[1] + d[1]],
                    s,
                    [m[0] + b.msg[0], m[1] + b.msg[1]],
                )
            },
        );
        let p = &self.p;
        let mut vel = [0.0; 2];
        for k in 0..2 {
            let steer = cohere[k] * p.cohere + separate[k] * p.separate + matching[k] * p.r#match;
            vel[k] = bird.vel[k] + steer / f64::max(n, 1.0);
        }
        let norm = (vel[0] * vel[0] + vel[1] * vel[1]).sqrt();
        if norm > 0.0 {
            bird.vel = [vel[0] / norm, vel[1] / norm];
        }
        let heading = (matching[0] * matching[0] + matching[1] * matching[1]).sqrt();
        if n > 0.0 && heading > 0.0 {
            let agree = (bird.vel[0] * matching[0] + bird.vel[1] * matching[1]) / heading;
            ctx.count(ALIGNMENT, ((agree + 1.0) * 5e5).round() as u64);
            ctx.count(WITH, 1);
        }
        ctx.move_by([bird.vel[0] * p.speed, bird.vel[1] * p.speed]);
        Next::Continue
    }

    fn stop(&self, tally: &Tally<'_>) -> bool {
        tally.steps() >= self.p.steps
    }

    fn series(&self, row: &StepRow, _: &Tally<'_>, out: &mut [f64]) {
        out[0] = alignment(row.counters[ALIGNMENT.index()], row.counters[WITH.index()]);
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let (mut sum, mut n) = ([0.0f64; 2], 0u64);
        for (_, bird) in end.tasks() {
            sum = [sum[0] + bird.vel[0], sum[1] + bird.vel[1]];
            n += 1;
        }
        let t = end.tally();
        let mut report = end.report();
        report
            .set(
                Metric::named(METRICS, "local_alignment"),
                alignment(t.last(ALIGNMENT), t.last(WITH)),
            )
            .set(
                Metric::named(METRICS, "polarization"),
                (sum[0] * sum[0] + sum[1] * sum[1]).sqrt() / n.max(1) as f64,
            )
            .set(
                Metric::named(METRICS, "alone"),
                (n - t.last(WITH).min(n)) as f64,
            );
        report
    }

    fn messages_per_step(&self, _: u32) -> u64 {
        0
    }

    fn codec(&self) -> Option<Codec<[f64; 2], ()>> {
        Some(Codec::new())
    }
}

impl ModelParams for Params {
    type Model = Flocking;
    const NAME: &'static str = "flocking";
    const SUMMARY: &'static str = "boids on a torus: cohesion, separation and alignment";
    const STARTER: &'static str = "\
[model]
# A width x height torus of continuous space.
width = 100.0
height = 100.0
birds = 200
# How far a bird sees, and how far it moves in a step.
vision = 5.0
speed = 1.0
# The distance a bird keeps, and the weights of the three rules.
separation = 1.0
cohere = 0.03
separate = 0.015
match = 0.05
steps = 100
";

    fn check(&self, checks: &mut Checks) {
        checks.positive("width", self.width, 1e9);
        checks.positive("height", self.height, 1e9);
        checks.range("birds", self.birds, 1, u32::MAX as u64 - 1);
        checks.positive("vision", self.vision, 1e9);
        checks.positive("speed", self.speed, 1e9);
        checks.positive("separation", self.separation, 1e9);
        for (field, w) in [
            ("cohere", self.cohere),
            ("separate", self.separate),
            ("match", self.r#match),
        ] {
            if !(w.is_finite() && (0.0..=1e6).contains(&w)) {
                checks.problem(
                    field,
                    format!("`model.{field}` is {w}"),
                    "use a number from 0 to 1000000",
                );
            }
        }
        checks.range("steps", self.steps, 1, 1_000_000);
    }

    fn build(&self) -> Flocking {
        Flocking::new(self.clone())
    }
}
