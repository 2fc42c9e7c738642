//! Replications: run in parallel on rayon, handed on in replication order.
//!
//! Replications are run in batches of a few per thread. Within a batch they run in parallel
//! (each replication's shards then step one after another, so at most `threads` replications
//! are in memory at once); a batch's results are handed to the [`Sink`] in replication order
//! before the next batch starts. The sink therefore sees the same sequence at any thread count,
//! and memory stays bounded however many replications are asked for. A single replication runs
//! its shards in parallel instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rayon::prelude::*;

use crate::engine::model::Model;
use crate::engine::rng::replication_seed;
use crate::engine::scheduler::{Ending, Settings, Simulation};
use crate::engine::stats::{EngineHistograms, StepRow};
use crate::experiment::stats::Summary;

/// One finished (or interrupted) replication.
#[derive(Clone, Debug)]
pub struct Replication {
    /// Its index, from 0.
    pub index: u64,
    /// Its seed ([`crate::engine::rng::replication_seed`]).
    pub seed: u64,
    /// How it ended.
    pub ending: Ending,
    /// The model's scalar metrics, in the model's `METRICS` order.
    pub metrics: Vec<f64>,
    /// The model's histograms.
    pub histograms: Vec<(&'static str, Histogram<u64>)>,
    /// The model's other results.
    pub details: serde_json::Value,
    /// Step statistics.
    pub steps: Vec<StepRow>,
    /// The engine's histograms.
    pub engine: EngineHistograms,
    /// Wall time.
    pub elapsed: Duration,
}

/// Receives replications in order.
pub trait Sink {
    /// Takes the next replication (indices arrive in increasing order).
    fn replication(&mut self, r: Replication) -> std::io::Result<()>;
}

/// Hears about progress; called from worker threads, so it must be cheap and thread-safe.
pub trait Progress: Sync {
    /// A step of replication `replication` ended.
    fn step(&self, replication: u64, row: &StepRow) {
        let _ = (replication, row);
    }
    /// Replication `replication` ended.
    fn replication_done(&self, replication: u64) {
        let _ = replication;
    }
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}

/// Which replications to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The first replication's index.
    pub first: u64,
    /// How many to run (with a target: at least this many before the first check).
    pub count: u64,
    /// Keep adding replications until a metric's confidence interval is tight enough.
    pub target: Option<Target>,
    /// The confidence level of the target's interval.
    pub confidence: f64,
    /// The scenario seed: replication `r` runs with `replication_seed(seed, r)`.
    pub seed: u64,
    /// The engine settings of every replication (but their seed).
    pub settings: Settings,
    /// Worker threads.
    pub threads: usize,
}

/// A precision target: add `batch` replications at a time until the CI half width (at the
/// plan's confidence) of
/// metric `metric` (an index into the model's metrics) is at most `half_width`, or `cap`
/// replications have run. Checks happen at `count`, `count + batch`, `count + 2·batch`, … so
/// the number run does not depend on the thread count.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The metric's index in the model's `METRICS`.
    pub metric: usize,
    /// The half width wanted.
    pub half_width: f64,
    /// Replications added between checks.
    pub batch: u64,
    /// The most replications run.
    pub cap: u64,
}

impl Plan {
    /// The engine settings of replication `index`.
    pub fn settings(&self, index: u64) -> Settings {
        self.settings.seed(replication_seed(self.seed, index))
    }

    /// The most replications this plan may run.
    pub fn max(&self) -> u64 {
        self.target
            .as_ref()
            .map_or(self.count, |t| t.cap.max(self.count))
    }
}

/// What a call to [`run`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStats {
    /// Replications handed to the sink.
    pub replications: u64,
    /// Whether `stop` cut the run short.
    pub interrupted: bool,
    /// With a target: whether it was reached, and the half width at the end.
    pub target: Option<(bool, Option<f64>)>,
}

/// Runs the replications of `plan` on the scenario's threads, handing each to `sink` in order.
/// Setting `stop` ends the run: the steps under way are left undone after the task each shard
/// is running, the replications in progress are handed on marked [`Ending::Interrupted`],
/// later ones are not started.
///
/// `model` is called once, inside the thread pool, with the job; it builds the model and
/// hands both to [`run_model`] (a scenario's model does this: [`crate::internal::Scenario`]).
pub fn run(
    plan: &Plan,
    model: &(dyn Fn(Job<'_>) -> std::io::Result<RunStats> + Sync),
    sink: &mut (dyn Sink + Send),
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> std::io::Result<RunStats> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.threads)
        .build()
        .map_err(std::io::Error::other)?;
    let job = Job {
        plan,
        sink,
        stop,
        progress,
    };
    pool.install(|| model(job))
}

/// What [`run`] hands to the model: everything but the model itself.
pub struct Job<'a> {
    plan: &'a Plan,
    sink: &'a mut (dyn Sink + Send),
    stop: &'a AtomicBool,
    progress: &'a dyn Progress,
}

impl Job<'_> {
    /// Runs replications `start..start + n`, in parallel chunks, handing them on in order.
    fn chunk<M: Model>(
        &mut self,
        model: &M,
        start: u64,
        n: u64,
        watched: &mut Vec<f64>,
    ) -> std::io::Result<u64> {
        let per_chunk = if n > 1 {
            rayon::current_num_threads() as u64 * 4
        } else {
            1
        };
        let mut done = 0;
        while done < n && !self.stop.load(Ordering::Relaxed) {
            let m = per_chunk.min(n - done);
            let base = start + done;
            let (plan, stop, progress) = (self.plan, self.stop, self.progress);
            let one = |i: u64| {
                let index = base + i;
                replicate(model, index, plan.settings(index), m == 1, stop, progress)
            };
            let results: Vec<Replication> = if m == 1 {
                vec![one(0)]
            } else {
                (0..m).into_par_iter().map(one).collect()
            };
            for r in results {
                if let Some(t) = &self.plan.target {
                    watched.push(r.metrics[t.metric]);
                }
                self.sink.replication(r)?;
            }
            done += m;
        }
        Ok(done)
    }
}

/// Runs the replications of `job` with `model` (in the job's thread pool).
pub fn run_model<M: Model>(model: &M, mut job: Job<'_>) -> std::io::Result<RunStats> {
    job.all(model)
}

impl Job<'_> {
    fn all<M: Model>(&mut self, model: &M) -> std::io::Result<RunStats> {
        let plan = self.plan.clone();
        let mut watched = Vec::new();
        let mut done = self.chunk(model, plan.first, plan.count, &mut watched)?;
        let mut target = None;
        if let Some(t) = &plan.target {
            loop {
                let half = (watched.len() > 1)
                    .then(|| Summary::at(&watched, plan.confidence).ci_half_width())
                    .flatten();
                let reached = half.is_some_and(|h| h <= t.half_width);
                target = Some((reached, half));
                if reached || done >= t.cap || self.stop.load(Ordering::Relaxed) {
                    break;
                }
                let n = t.batch.min(t.cap - done);
                done += self.chunk(model, plan.first + done, n, &mut watched)?;
            }
        }
        Ok(RunStats {
            replications: done,
            interrupted: self.stop.load(Ordering::Relaxed),
            target,
        })
    }
}

/// Runs one replication to its end (or until `stop`, which is heard within a step: see
/// [`Simulation::set_stop`]).
pub fn replicate<M: Model>(
    model: &M,
    index: u64,
    settings: Settings,
    parallel_shards: bool,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Replication {
    let start = Instant::now();
    let mut sim = Simulation::new(model, settings);
    sim.set_parallel(parallel_shards);
    sim.set_stop(stop);
    let ending = sim.run(|row| {
        progress.step(index, row);
        !stop.load(Ordering::Relaxed)
    });
    let report = sim.report();
    progress.replication_done(index);
    let (steps, engine) = sim.take_statistics();
    Replication {
        index,
        seed: settings.seed,
        ending,
        metrics: report.metrics,
        histograms: report.histograms,
        details: report.details,
        steps,
        engine,
        elapsed: start.elapsed(),
    }
}
