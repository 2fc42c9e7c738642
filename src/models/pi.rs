//! Monte Carlo π (the first of the project's source notes): throw points uniformly into the unit square and count those that
//! land inside the quarter circle `x² + y² < 1`; the fraction inside tends to π/4.
//!
//! The points are split over `tasks` tasks, each drawing from its stream for the whole
//! replication ([`crate::Ctx::task_stream`], not a step's stream). Task `i` (of
//! `T = tasks`, `N = points`) draws `⌊N/T⌋` points, plus one more when `i < N mod T`; the
//! shares differ by at most one and add up to exactly `N` (when `T > N` the last tasks draw
//! none). Each point takes one word `w` of the task's stream: `x = hi(w)`, `y = lo(w)` (its
//! upper and lower 32 bits), the centre of a cell of a 2³² × 2³² grid on the unit square,
//! inside when `(2x + 1)² + (2y + 1)² < 2⁶⁶` (exact integer arithmetic; the grid shifts the
//! fraction inside by less than 10⁻⁹, far below any attainable standard error).
//! Hits are counted on the task's shard with a model counter (`inside`), so no messages are
//! sent. With `points_per_step = 0` (the default) a task draws its whole share in step 0 (up
//! to 2²⁰ points, below); with `points_per_step = k > 0` it draws at most `k` per step and runs
//! again next step, so a long run shows progress in `steps.csv` (the result does not depend on
//! `k`: a task's points are the same stream in the same order).
//!
//! Either way a task draws at most [`MAX_POINTS_PER_RUN`] (2²⁰) points each time it runs, and
//! asks to run again ([`Next::Continue`]) for the rest: the engine regains control every few
//! milliseconds, so Ctrl-C is heard even when each task has billions of points to draw. Shares
//! up to 2²⁰ (the shipped scenario's are 1,000) take the steps they always did; a larger share
//! takes `⌈share / 2²⁰⌉` steps (or fewer with a larger `quantum`), which shows in `steps.csv`
//! but changes no metric.
//!
//! The model has no arena: shards only split the tasks.
//!
//! Metrics: `inside`, `pi_estimate = 4 · inside / points`, `abs_error = |pi_estimate − π|`, and
//! `std_error = 4 · sqrt(p (1 − p) / points)` with `p = inside / points`, the estimate's
//! binomial standard error (so `pi_estimate ± 1.96 · std_error` is a 95% interval).

use serde::{Deserialize, Serialize};

use crate::{
    Checks, Counter, Ctx, End, Mail, Metric, Model, ModelParams, Next, Quantity, Report, TaskId,
    TaskRng, histogram,
};
use crate::{Codec, Expected};

/// The largest `tasks` (task ids are `u32`).
pub const MAX_TASKS: u64 = u32::MAX as u64;

/// The most points a task draws each time it runs (2²⁰, a few milliseconds): a larger share,
/// or a larger `points_per_step`, is drawn over several runs.
pub const MAX_POINTS_PER_RUN: u64 = 1 << 20;

/// Draws `n` points from `rng` and counts those inside the quarter circle.
///
/// The words are addressed by position (the stream is counter-based), so the loop carries no
/// dependency from one point to the next and the CPU overlaps them.
#[inline]
pub fn throw(rng: &mut TaskRng, n: u64) -> u64 {
    // (2x + 1)² + (2y + 1)² < 2⁶⁶  ⟺  x(x + 1) + y(y + 1) < 2⁶⁴ (both sides are integers
    // after dividing by 4 and dropping the ½): two products that fit in 64 bits, and a sum
    // that is inside exactly when it does not carry.
    let start = rng.position();
    let mut hits = 0u64;
    for k in 0..n {
        let w = rng.word(start.wrapping_add(k));
        let (x, y) = (w >> 32, w & 0xFFFF_FFFF);
        let (_, carry) = (x * (x + 1)).overflowing_add(y * (y + 1));
        hits += !carry as u64;
    }
    rng.skip(n);
    hits
}

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Points thrown in all, at least 1.
    pub points: u64,
    /// Tasks sharing the points, `1 ..= MAX_TASKS`.
    pub tasks: u64,
    /// Points a task draws per step at most; 0 means its whole share in one step (either way at
    /// most [`MAX_POINTS_PER_RUN`] a run).
    pub points_per_step: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            points: 10_000_000,
            tasks: 1000,
            points_per_step: 0,
        }
    }
}

impl Params {
    /// The checks a scenario makes ([`ModelParams::check`]); the error names the first bad
    /// field (as in `[model]`) and what is accepted.
    pub fn validate(&self) -> Result<(), String> {
        Checks::verify(self)
    }

    /// The points task `id` draws: `⌊points/tasks⌋`, plus one if `id < points mod tasks`.
    pub fn share(&self, id: u64) -> u64 {
        self.points / self.tasks + (id < self.points % self.tasks) as u64
    }
}

/// A thrower: points still to draw, and hits so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thrower {
    /// Points not drawn yet.
    pub remaining: u64,
    /// Points that landed inside the quarter circle.
    pub inside: u64,
}

/// The model's per-step counters.
pub const COUNTERS: &[Quantity] = &[
    Quantity::new("inside", "points").about("points inside the quarter circle"),
    Quantity::new("points_drawn", "points").about("points drawn"),
];
const INSIDE: Counter = Counter::named(COUNTERS, "inside");
const DRAWN: Counter = Counter::named(COUNTERS, "points_drawn");

/// The model's metrics.
pub const METRICS: &[Quantity] = &[
    Quantity::count("inside", "points").about("points inside the quarter circle"),
    Quantity::non_negative("pi_estimate", "")
        .about("4 · inside / points")
        .expected(std::f64::consts::PI),
    Quantity::non_negative("abs_error", "").about("|pi_estimate − π|"),
    Quantity::non_negative("std_error", "").about("the estimate's binomial standard error"),
];
const INSIDE_METRIC: Metric = Metric::named(METRICS, "inside");
/// The `pi_estimate` metric.
pub const PI_ESTIMATE: Metric = Metric::named(METRICS, "pi_estimate");
const ABS_ERROR: Metric = Metric::named(METRICS, "abs_error");
const STD_ERROR: Metric = Metric::named(METRICS, "std_error");

/// The Monte Carlo π model.
#[derive(Clone, Debug)]
pub struct Pi {
    params: Params,
}

impl Pi {
    /// A model with these parameters.
    ///
    /// # Panics
    /// If the parameters fail [`Params::validate`].
    pub fn new(params: Params) -> Self {
        if let Err(e) = params.validate() {
            panic!("invalid pi parameters: {e}");
        }
        Pi { params }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
}

impl Model for Pi {
    type Task = Thrower;
    type Msg = ();
    type Cells = ();

    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const HISTOGRAMS: &'static [Quantity] = &[Quantity::new("inside_per_task", "tasks")
        .about("points inside the quarter circle, per task")];

    fn tasks(&self) -> u64 {
        self.params.tasks
    }

    fn spawn(&self, id: TaskId, _rng: &mut TaskRng) -> Thrower {
        Thrower {
            remaining: self.params.share(id as u64),
            inside: 0,
        }
    }

    fn cells(&self, _range: std::ops::Range<u64>, _shards: usize) {}

    fn codec(&self) -> Option<Codec<(), ()>> {
        Some(Codec::new())
    }

    #[inline]
    fn step(&self, t: &mut Thrower, _mail: &[Mail<()>], ctx: &mut Ctx<'_, ()>) -> Next {
        let n = match self.params.points_per_step {
            0 => t.remaining,
            k => k.min(t.remaining),
        }
        .min(MAX_POINTS_PER_RUN);
        // One uninterrupted pass over the task's own stream, however the points are cut
        // into steps: the points drawn so far are where it is.
        let mut rng = ctx.task_stream();
        rng.skip(self.params.share(ctx.id() as u64) - t.remaining);
        let hits = throw(&mut rng, n);
        t.remaining -= n;
        t.inside += hits;
        ctx.count(INSIDE, hits);
        ctx.count(DRAWN, n);
        if t.remaining == 0 {
            Next::Done
        } else {
            Next::Continue
        }
    }

    /// `inside`: `points · π/4` (`pi_estimate`'s π is its declaration's).
    fn expected(&self) -> Expected {
        Expected::new().metric(
            INSIDE_METRIC,
            self.params.points as f64 * std::f64::consts::FRAC_PI_4,
        )
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let mut per_task = histogram(self.params.share(0).max(1));
        for (_, t) in end.tasks() {
            per_task.saturating_record(t.inside);
        }
        let inside = end.total(INSIDE);
        let drawn = end.total(DRAWN).max(1) as f64;
        let p = inside as f64 / drawn;
        let estimate = 4.0 * p;
        let mut report = end.report();
        report
            .set(INSIDE_METRIC, inside as f64)
            .set(PI_ESTIMATE, estimate)
            .set(ABS_ERROR, (estimate - std::f64::consts::PI).abs())
            .set(STD_ERROR, 4.0 * (p * (1.0 - p) / drawn).sqrt())
            .histogram("inside_per_task", per_task)
            .details(serde_json::json!({
                "points_drawn": end.total(DRAWN),
                "points_per_task": [self.params.share(self.params.tasks - 1), self.params.share(0)],
            }));
        report
    }

    fn estimate_bytes(&self, _shards: usize) -> u64 {
        self.params.tasks * std::mem::size_of::<Thrower>() as u64
    }
}

impl ModelParams for Params {
    type Model = Pi;
    const NAME: &'static str = "pi";
    const SUMMARY: &'static str = "points thrown into the unit square estimate π";
    const STARTER: &'static str = "\
[model]
# Points thrown in all, shared by `tasks` tasks (shares differ by at most one).
points = 10000000
tasks = 1000
# Points a task draws per step at most; 0: its whole share in one step
# (at most 2^20 = 1048576 a step either way, so Ctrl-C is heard quickly).
points_per_step = 0
";

    fn check(&self, checks: &mut Checks) {
        checks.range("points", self.points, 1, u64::MAX / 2);
        checks.range("tasks", self.tasks, 1, MAX_TASKS);
    }

    fn build(&self) -> Pi {
        Pi::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ending, Order, Settings, Simulation, replication_seed};
    use std::f64::consts::PI;

    fn run(params: Params, seed: u64, shards: usize, quantum: u32) -> (Report, u32) {
        let model = Pi::new(params);
        let settings = Settings::default()
            .seed(seed)
            .shards(shards)
            .order(Order::ById)
            .quantum(quantum)
            .max_steps(1_000_000)
            .histograms(false);
        let mut sim = Simulation::new(&model, settings);
        assert_eq!(sim.run(|_| true), Ending::Finished);
        (sim.report(), sim.step_count())
    }

    #[test]
    fn points_are_split_exactly() {
        for (points, tasks) in [
            (10, 3),
            (10, 10),
            (10, 25),
            (10_000_000, 1000),
            (7, 1),
            (999_999, 1000),
        ] {
            let p = Params {
                points,
                tasks,
                points_per_step: 0,
            };
            let shares: Vec<u64> = (0..tasks).map(|i| p.share(i)).collect();
            assert_eq!(shares.iter().sum::<u64>(), points);
            let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            assert!(hi - lo <= 1);
        }
        let (report, steps) = run(
            Params {
                points: 1001,
                tasks: 10,
                points_per_step: 0,
            },
            1,
            2,
            1,
        );
        assert_eq!(report.details_json()["points_drawn"], 1001);
        assert_eq!(steps, 1);
    }

    #[test]
    fn estimate_is_within_four_standard_errors() {
        for s in 0..3 {
            let (r, _) = run(
                Params {
                    points: 1_000_000,
                    tasks: 100,
                    points_per_step: 0,
                },
                replication_seed(314, s),
                2,
                1,
            );
            let (estimate, err, se) = (
                r.metric(PI_ESTIMATE),
                r.metric(ABS_ERROR),
                r.metric(STD_ERROR),
            );
            // SE of the estimate: 4·sqrt(π/4 (1 − π/4)/n) ≈ 0.00164 for a million points.
            assert!((se - 0.001642).abs() < 1e-5, "{se}");
            assert!(err < 4.0 * se, "{estimate} (seed {s})");
            assert_eq!(r.metric(INSIDE_METRIC) * 4.0 / 1e6, estimate);
        }
    }

    #[test]
    fn same_result_at_any_shard_count_and_step_size() {
        let params = Params {
            points: 200_000,
            tasks: 37,
            points_per_step: 0,
        };
        let seed = replication_seed(1, 2);
        let (one, steps) = run(params.clone(), seed, 1, 1);
        let (five, _) = run(params.clone(), seed, 5, 1);
        assert_eq!(one.metrics(), five.metrics());
        assert_eq!(steps, 1);
        // 200000/37 = 5405.4…: shares of 5406 and 5405, 1000 a step → 6 steps.
        let (slow, steps) = run(
            Params {
                points_per_step: 1000,
                ..params.clone()
            },
            seed,
            5,
            1,
        );
        assert_eq!((slow.metrics(), steps), (one.metrics(), 6));
        let (quick, steps) = run(
            Params {
                points_per_step: 1000,
                ..params
            },
            seed,
            3,
            4,
        );
        assert_eq!((quick.metrics(), steps), (one.metrics(), 2));
    }

    #[test]
    fn a_big_share_is_drawn_over_several_runs_with_the_same_result() {
        // 2.5 · 2^20 points for one task: three runs of at most 2^20 points.
        let points = MAX_POINTS_PER_RUN * 5 / 2;
        let params = Params {
            points,
            tasks: 1,
            points_per_step: 0,
        };
        let seed = replication_seed(3, 1);
        let (stepped, steps) = run(params.clone(), seed, 1, 1);
        assert_eq!(steps, 3);
        let (at_once, steps) = run(params, seed, 1, 3);
        assert_eq!((stepped.metrics(), steps), (at_once.metrics(), 1));
        // The same points as one uninterrupted pass over the task's stream.
        use rand::Rng;
        let mut rng = crate::task_rng(seed, 0);
        // (Independently of `throw`: in floating point, each point from one drawn word.)
        let inside = (0..points)
            .filter(|_| {
                let w = rng.next_u64();
                let x = ((w >> 32) as f64 + 0.5) / 2f64.powi(32);
                let y = ((w & 0xFFFF_FFFF) as f64 + 0.5) / 2f64.powi(32);
                x * x + y * y < 1.0
            })
            .count();
        assert_eq!(stepped.metric(INSIDE_METRIC), inside as f64);
    }

    #[test]
    fn a_stop_is_heard_within_a_step() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::{Duration, Instant};
        // Ten billion points in one step, were it not for the engine's stop checks and the
        // model's bounded runs.
        let model = Pi::new(Params {
            points: 10_000_000_000,
            tasks: 4,
            points_per_step: 0,
        });
        let stop = AtomicBool::new(false);
        let start = Instant::now();
        let (ending, row) = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(200));
                stop.store(true, Ordering::Relaxed);
            });
            let mut sim = Simulation::new(&model, Settings::default().shards(2));
            sim.set_stop(&stop);
            let ending = sim.run(|_| true);
            (ending, sim.steps().last().cloned())
        });
        assert_eq!(ending, Ending::Interrupted);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        let row = row.expect("the steps run are recorded");
        assert!(row.counters[1] < 10_000_000_000, "{row:?}");
    }

    #[test]
    fn confidence_intervals_cover_pi_about_95_percent() {
        let reps = 400;
        let covered = (0..reps)
            .filter(|&r| {
                let (report, _) = run(
                    Params {
                        points: 10_000,
                        tasks: 10,
                        points_per_step: 0,
                    },
                    replication_seed(2009, r),
                    1,
                    1,
                );
                let (estimate, se) = (report.metric(PI_ESTIMATE), report.metric(STD_ERROR));
                (estimate - 1.96 * se..=estimate + 1.96 * se).contains(&PI)
            })
            .count();
        let frac = covered as f64 / reps as f64;
        // Nominal 0.95; its binomial SD over 400 replications is 0.011, so ±0.03 is ≈ 2.7σ.
        assert!((0.92..=0.98).contains(&frac), "{frac}");
    }

    #[test]
    fn validation() {
        assert!(Params::default().validate().is_ok());
        assert!(
            Params {
                points: 0,
                ..Params::default()
            }
            .validate()
            .unwrap_err()
            .starts_with("points")
        );
        assert!(
            Params {
                tasks: 0,
                ..Params::default()
            }
            .validate()
            .unwrap_err()
            .starts_with("tasks")
        );
        // The constructor accepts what a scenario accepts (it once took points up to
        // u64::MAX where a scenario stops at half that).
        let huge = Params {
            points: u64::MAX,
            ..Params::default()
        };
        assert!(huge.validate().unwrap_err().starts_with("points"));
        assert!(toml::from_str::<Params>("points = 5\nthreads = 2").is_err());
        let p: Params = toml::from_str("points = 5").unwrap();
        assert_eq!(
            p,
            Params {
                points: 5,
                ..Params::default()
            }
        );
    }
}
