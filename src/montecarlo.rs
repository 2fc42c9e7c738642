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

use crate::catalog::Visit;
use crate::model::Model;
use crate::scenario::Scenario;
use crate::scheduler::{Ending, Settings, Simulation};
use crate::stats::{EngineHistograms, StepRow};

/// One finished (or interrupted) replication.
#[derive(Clone, Debug)]
pub struct Replication {
    /// Its index, from 0.
    pub index: u64,
    /// Its seed ([`crate::rng::replication_seed`]).
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

/// What a call to [`run`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Replications handed to the sink.
    pub replications: u64,
    /// Whether `stop` cut the run short.
    pub interrupted: bool,
}

/// Runs replications `first..first + count` of `scenario` on `threads` threads, handing each to
/// `sink` in order. Setting `stop` ends the run after the steps under way: the replications in
/// progress are handed on marked [`Ending::Interrupted`], later ones are not started.
pub fn run(
    scenario: &Scenario,
    first: u64,
    count: u64,
    sink: &mut (dyn Sink + Send),
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> std::io::Result<RunStats> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(scenario.threads())
        .build()
        .map_err(std::io::Error::other)?;
    let job = Job {
        scenario,
        first,
        count,
        sink,
        stop,
        progress,
    };
    pool.install(|| scenario.model.visit(job))
}

struct Job<'a> {
    scenario: &'a Scenario,
    first: u64,
    count: u64,
    sink: &'a mut (dyn Sink + Send),
    stop: &'a AtomicBool,
    progress: &'a dyn Progress,
}

impl Visit for Job<'_> {
    type Out = std::io::Result<RunStats>;

    fn visit<M: Model + Sync>(self, model: &M) -> Self::Out {
        let threads = rayon::current_num_threads() as u64;
        let batch = if self.count > 1 { threads * 4 } else { 1 };
        let mut done = 0;
        while done < self.count && !self.stop.load(Ordering::Relaxed) {
            let n = batch.min(self.count - done);
            let start = self.first + done;
            let one = |i: u64| {
                let index = start + i;
                replicate(
                    model,
                    index,
                    self.scenario.settings(index),
                    n == 1,
                    self.stop,
                    self.progress,
                )
            };
            let results: Vec<Replication> = if n == 1 {
                vec![one(0)]
            } else {
                (0..n).into_par_iter().map(one).collect()
            };
            for r in results {
                self.sink.replication(r)?;
            }
            done += n;
        }
        Ok(RunStats {
            replications: done,
            interrupted: self.stop.load(Ordering::Relaxed),
        })
    }
}

/// Runs one replication to its end (or until `stop`).
pub fn replicate<M: Model + Sync>(
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
    let ending = sim.run(|row| {
        progress.step(index, row);
        !stop.load(Ordering::Relaxed)
    });
    let report = sim.report();
    progress.replication_done(index);
    Replication {
        index,
        seed: settings.seed,
        ending,
        metrics: report.metrics,
        histograms: report.histograms,
        details: report.details,
        steps: std::mem::take(&mut sim.steps),
        engine: std::mem::take(&mut sim.histograms),
        elapsed: start.elapsed(),
    }
}
