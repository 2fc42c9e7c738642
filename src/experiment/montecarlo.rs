//! Replications: run in parallel on rayon, handed on in replication order.
//!
//! Each worker thread takes the next replication as soon as it is free (each replication's
//! shards then step one after another). A finished replication waits in a small reorder
//! window until those before it are done, and is handed to the [`Sink`] in replication order
//! by the thread that completes the window's head. The sink therefore sees the same sequence
//! at any thread count; no thread waits for a batch's slowest member; and memory stays
//! bounded however many replications are asked for: a worker does not start a replication
//! more than [`Plan::window`] ahead of the next one to be handed on. A single replication runs
//! its shards in parallel instead.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::engine::model::Model;
use crate::engine::rng::replication_seed;
use crate::engine::scheduler::{Ending, Peers, Settings, Simulation, Snapshot, Spare};
use crate::engine::stats::{EngineHistograms, StepRow};
use crate::experiment::stats::Summary;
use crate::experiment::step_log::StepLog;

/// One finished (or interrupted) replication.
#[derive(Debug)]
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
    /// Step statistics (in constant memory: see [`crate::internal::StepLog`]).
    pub steps: StepLog,
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
    /// Replication `replication`'s metrics, as it is written (in replication order).
    fn metrics(&self, replication: u64, values: &[f64]) {
        let _ = (replication, values);
    }
    /// Variant `variant` of a sweep starts (`parameters`: what it sets, as text).
    fn variant(&self, variant: u64, parameters: &str) {
        let _ = (variant, parameters);
    }
    /// Variant `variant` of a sweep ended with these metric means (in the model's order).
    fn variant_done(&self, variant: u64, means: &[f64]) {
        let _ = (variant, means);
    }
}

/// Two progress listeners as one.
pub struct Both<'a>(pub &'a dyn Progress, pub &'a dyn Progress);

impl Progress for Both<'_> {
    fn step(&self, replication: u64, row: &StepRow) {
        self.0.step(replication, row);
        self.1.step(replication, row);
    }
    fn replication_done(&self, replication: u64) {
        self.0.replication_done(replication);
        self.1.replication_done(replication);
    }
    fn metrics(&self, replication: u64, values: &[f64]) {
        self.0.metrics(replication, values);
        self.1.metrics(replication, values);
    }
    fn variant(&self, variant: u64, parameters: &str) {
        self.0.variant(variant, parameters);
        self.1.variant(variant, parameters);
    }
    fn variant_done(&self, variant: u64, means: &[f64]) {
        self.0.variant_done(variant, means);
        self.1.variant_done(variant, means);
    }
}

/// A sink that tells `progress` each replication's metrics before handing it on.
pub struct Told<'a> {
    /// Where replications go.
    pub sink: &'a mut (dyn Sink + Send),
    /// Who hears of them.
    pub progress: &'a dyn Progress,
}

impl Sink for Told<'_> {
    fn replication(&mut self, r: Replication) -> std::io::Result<()> {
        self.progress.metrics(r.index, &r.metrics);
        self.sink.replication(r)
    }
}

/// Where a run of a single replication saves a snapshot every so many steps (and when it is
/// stopped): a checkpoint.
pub trait Checkpoints: Sync {
    /// Steps between snapshots (0: none).
    fn every(&self) -> u32;
    /// Saves replication `index`, at a step boundary, with its step rows so far.
    fn save(&self, index: u64, snapshot: &Snapshot, steps: &mut StepLog) -> std::io::Result<()>;
}

/// Where a run resumed from a checkpoint starts.
#[derive(Debug, Default)]
pub struct Resumed {
    /// Replications of the plan handed on before (they are not run again).
    pub done: u64,
    /// Their values of the target's metric, if the plan has a target.
    pub watched: Vec<f64>,
    /// The replication after them, part-way: its snapshot and its step rows so far.
    pub running: Option<(Snapshot, Vec<StepRow>)>,
}

/// What a run may add to a plan: checkpoints to write, a checkpoint to start from.
#[derive(Default)]
pub struct Extras<'a> {
    /// Save snapshots of a lone replication.
    pub checkpoints: Option<&'a dyn Checkpoints>,
    /// Start where a checkpoint left off.
    pub resumed: Resumed,
    /// Share each replication with these ranks ([`Simulation::new_on`]): every rank runs
    /// the same plan of lone replications, together; rank 0's are the results.
    pub peers: Option<&'a dyn Peers>,
    /// Shared: steps between snapshots, which every rank takes together (rank 0, with
    /// `checkpoints`, saves them); 0 for none.
    pub every: u32,
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
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Where replications with many steps spill their step rows (a temporary file without a
    /// name, gone when closed); `None` keeps them in memory.
    pub spool: Option<PathBuf>,
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
    /// The worker threads the run gets: `threads`, or one per core when it is 0.
    pub fn workers(&self) -> usize {
        match self.threads {
            0 => cores(),
            n => n,
        }
    }

    /// The engine settings of replication `index`.
    pub fn settings(&self, index: u64) -> Settings {
        self.settings.seed(replication_seed(self.seed, index))
    }

    /// Replications in memory at once, at most: those running plus those finished and waiting
    /// for an earlier one to be handed on.
    pub fn window(&self) -> u64 {
        self.threads.max(1) as u64 * 4
    }

    /// The most replications this plan may run.
    pub fn max(&self) -> u64 {
        self.target
            .as_ref()
            .map_or(self.count, |t| t.cap.max(self.count))
    }
}

/// How a precision target ended: whether it was reached, and the half width at the end.
pub type TargetEnd = (bool, Option<f64>);

/// What a call to [`run`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStats {
    /// Replications handed to the sink.
    pub replications: u64,
    /// Whether `stop` cut the run short.
    pub interrupted: bool,
    /// With a target: whether it was reached, and the half width at the end.
    pub target: Option<TargetEnd>,
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
    run_with(plan, model, sink, stop, progress, Extras::default())
}

/// [`run`], writing checkpoints or starting from one (see [`Extras`]).
pub fn run_with(
    plan: &Plan,
    model: &(dyn Fn(Job<'_>) -> std::io::Result<RunStats> + Sync),
    sink: &mut (dyn Sink + Send),
    stop: &AtomicBool,
    progress: &dyn Progress,
    extras: Extras<'_>,
) -> std::io::Result<RunStats> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.workers())
        .build()
        .map_err(std::io::Error::other)?;
    let job = Job {
        plan,
        sink,
        stop,
        progress,
        checkpoints: extras.checkpoints,
        resumed: extras.resumed,
        peers: extras.peers,
        every: extras.every,
    };
    pool.install(|| model(job))
}

/// The threads this machine runs at once (1 when it cannot tell): what "one per core" means.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What [`run`] hands to the model: everything but the model itself.
pub struct Job<'a> {
    plan: &'a Plan,
    sink: &'a mut (dyn Sink + Send),
    stop: &'a AtomicBool,
    progress: &'a dyn Progress,
    checkpoints: Option<&'a dyn Checkpoints>,
    resumed: Resumed,
    peers: Option<&'a dyn Peers>,
    every: u32,
}

impl Job<'_> {
    /// Runs replications `start..start + n`, handing them on in order; returns how many were
    /// handed on (fewer than `n` only when stopped).
    fn chunk<M: Model>(
        &mut self,
        model: &M,
        start: u64,
        n: u64,
        watched: &mut Vec<f64>,
    ) -> std::io::Result<u64> {
        let (plan, stop, progress) = (self.plan, self.stop, self.progress);
        let target = plan.target.as_ref().map(|t| t.metric);
        let threads = (plan.workers() as u64).min(n);
        if threads <= 1 || self.peers.is_some() {
            let cx = Context {
                model,
                plan,
                stop,
                progress,
            };
            let mut spare = None;
            // A lone replication is snapshotted whole; in a run of several, the checkpoints
            // record the replications done instead (see the runner).
            let lone = plan.max() == 1;
            let saver = self.checkpoints.filter(|_| lone);
            for i in 0..n {
                if stop.load(Ordering::Relaxed) {
                    return Ok(i);
                }
                let index = start + i;
                let from = self.resumed.running.take();
                let r = match self.peers {
                    Some(peers) => {
                        let shared = Shared {
                            peers,
                            saver,
                            every: self.every,
                            from,
                        };
                        run_shared(cx, index, shared)?
                    }
                    None => {
                        let begin = Begin {
                            parallel_shards: n == 1,
                            saver,
                            from,
                        };
                        run_one(cx, index, begin, &mut spare)?
                    }
                };
                if let Some(m) = target {
                    watched.push(r.metrics[m]);
                }
                self.sink.replication(r)?;
            }
            return Ok(n);
        }
        let order = Ordered {
            next_index: AtomicU64::new(start),
            end: start + n,
            window: plan.window(),
            state: Mutex::new(Window {
                next: start,
                waiting: BTreeMap::new(),
                sink: &mut *self.sink,
                watched,
                error: None,
            }),
            moved: Condvar::new(),
        };
        rayon::scope(|s| {
            for _ in 0..threads {
                s.spawn(|_| order.work(model, plan, stop, progress, target));
            }
        });
        let state = order.state.into_inner().unwrap_or_else(|p| p.into_inner());
        match state.error {
            Some(e) => Err(e),
            None => Ok(state.next - start),
        }
    }
}

/// Replications handed out one at a time and handed on in order.
struct Ordered<'a> {
    /// The next replication to start.
    next_index: AtomicU64,
    end: u64,
    window: u64,
    state: Mutex<Window<'a>>,
    /// Signalled whenever replications are handed on.
    moved: Condvar,
}

/// Replications finished but not yet handed on, and where they go.
struct Window<'a> {
    /// The next replication to hand on.
    next: u64,
    waiting: BTreeMap<u64, Replication>,
    sink: &'a mut (dyn Sink + Send),
    watched: &'a mut Vec<f64>,
    error: Option<std::io::Error>,
}

impl<'a> Ordered<'a> {
    fn work<M: Model>(
        &self,
        model: &M,
        plan: &Plan,
        stop: &AtomicBool,
        progress: &dyn Progress,
        target: Option<usize>,
    ) {
        let mut spare = None;
        loop {
            let index = self.next_index.fetch_add(1, Ordering::Relaxed);
            if index >= self.end {
                return;
            }
            // Wait until the replication is within the window of the next to hand on.
            {
                let mut state = self.lock();
                while index >= state.next + self.window && !self.halted(&state, stop) {
                    // A timeout as well: Ctrl-C sets `stop` without signalling.
                    let tick = Duration::from_millis(50);
                    state = match self.moved.wait_timeout(state, tick) {
                        Ok((s, _)) => s,
                        Err(p) => p.into_inner().0,
                    };
                }
                if self.halted(&state, stop) {
                    // Leave a gap: nothing from here on is handed on.
                    self.next_index.store(self.end, Ordering::Relaxed);
                    self.moved.notify_all();
                    return;
                }
            }
            let r = replicate_reusing(model, index, plan, false, stop, progress, &mut spare);
            let mut state = self.lock();
            state.waiting.insert(index, r);
            let mut moved = false;
            while state.error.is_none() {
                let next = state.next;
                let Some(r) = state.waiting.remove(&next) else {
                    break;
                };
                let w = &mut *state;
                if let Some(m) = target {
                    w.watched.push(r.metrics[m]);
                }
                match w.sink.replication(r) {
                    Ok(()) => w.next += 1,
                    Err(e) => w.error = Some(e),
                }
                moved = true;
            }
            if moved || state.error.is_some() {
                self.moved.notify_all();
            }
        }
    }

    fn halted(&self, state: &Window<'_>, stop: &AtomicBool) -> bool {
        state.error.is_some() || stop.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window<'a>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs the replications of `job` with `model` (in the job's thread pool).
pub fn run_model<M: Model>(model: &M, mut job: Job<'_>) -> std::io::Result<RunStats> {
    job.all(model)
}

impl Job<'_> {
    fn all<M: Model>(&mut self, model: &M) -> std::io::Result<RunStats> {
        let plan = self.plan.clone();
        let watched = std::mem::take(&mut self.resumed.watched);
        let done = self.resumed.done;
        let mut state = (&mut *self, watched);
        let (done, target) = in_chunks(
            &plan,
            done,
            &mut state,
            |(job, watched), first, n| job.chunk(model, first, n, watched),
            |(_, watched)| watched,
            |(job, _)| job.stop.load(Ordering::Relaxed),
        )?;
        Ok(RunStats {
            replications: done,
            interrupted: self.stop.load(Ordering::Relaxed),
            target,
        })
    }
}

/// Runs `plan` from replication `done` on, chunk by chunk, as every run does: the rest of
/// `plan.count`, then, with a target, `batch` more at a time until the target's interval is
/// tight enough, `cap` replications have run or the run `stopped`. The target is checked after
/// `count`, `count + batch`, … replications only (a run resumed between two checks goes on to
/// the next one), so how many run never depends on how they are run. `chunk(state, first, n)`
/// runs replications `first..first + n` and returns how many it handed on; `watched(state)` is
/// the target metric's values so far. Returns how many were handed on and, with a target,
/// whether it was reached and the half width at the end.
pub(crate) fn in_chunks<S>(
    plan: &Plan,
    mut done: u64,
    state: &mut S,
    mut chunk: impl FnMut(&mut S, u64, u64) -> std::io::Result<u64>,
    watched: impl Fn(&S) -> &[f64],
    stopped: impl Fn(&S) -> bool,
) -> std::io::Result<(u64, Option<TargetEnd>)> {
    if done < plan.count {
        done += chunk(state, plan.first + done, plan.count - done)?;
    }
    let Some(t) = &plan.target else {
        return Ok((done, None));
    };
    let batch = t.batch.max(1);
    loop {
        let since = done.saturating_sub(plan.count) % batch;
        let stop = stopped(state);
        if since == 0 || done >= t.cap || stop {
            let values = watched(state);
            let half = (values.len() > 1)
                .then(|| Summary::at(values, plan.confidence).ci_half_width())
                .flatten();
            let reached = half.is_some_and(|h| h <= t.half_width);
            if reached || done >= t.cap || stop {
                return Ok((done, Some((reached, half))));
            }
        }
        let n = (batch - since).min(t.cap - done);
        done += chunk(state, plan.first + done, n)?;
    }
}

/// Runs replication `index` of `plan` to its end (or until `stop`, which is heard within a
/// step: see [`Simulation::set_stop`]).
pub fn replicate<M: Model>(
    model: &M,
    index: u64,
    plan: &Plan,
    parallel_shards: bool,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Replication {
    replicate_reusing(
        model,
        index,
        plan,
        parallel_shards,
        stop,
        progress,
        &mut None,
    )
}

/// [`replicate`], reusing the memory of the worker's previous replication (`spare`, left
/// there for the next one): its pages are not faulted in again.
pub fn replicate_reusing<M: Model>(
    model: &M,
    index: u64,
    plan: &Plan,
    parallel_shards: bool,
    stop: &AtomicBool,
    progress: &dyn Progress,
    spare: &mut Option<Spare<M>>,
) -> Replication {
    let cx = Context {
        model,
        plan,
        stop,
        progress,
    };
    let begin = Begin {
        parallel_shards,
        saver: None,
        from: None,
    };
    run_one(cx, index, begin, spare).expect("a replication without snapshots cannot fail")
}

/// What every replication of a run shares.
struct Context<'a, M> {
    model: &'a M,
    plan: &'a Plan,
    /// Set to stop the run (heard within a step).
    stop: &'a AtomicBool,
    progress: &'a dyn Progress,
}

// References only: copied whatever the model (a derive would ask `M: Copy`).
impl<M> Clone for Context<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Context<'_, M> {}

/// How one replication of a run in one process begins, and where it is saved.
struct Begin<'a> {
    /// Whether its shards step in parallel (not when replications already run in parallel).
    parallel_shards: bool,
    /// Where its snapshots go, if anywhere.
    saver: Option<&'a dyn Checkpoints>,
    /// The snapshot and the step rows before it, when it resumes.
    from: Option<(Snapshot, Vec<StepRow>)>,
}

/// [`replicate_reusing`], saving a snapshot every `saver.every()` steps (and when stopped:
/// the step under way is then finished, not cut short, so that the snapshot is of a step
/// boundary), and starting from `from` (a snapshot and the step rows before it) if given.
fn run_one<M: Model>(
    Context {
        model,
        plan,
        stop,
        progress,
    }: Context<'_, M>,
    index: u64,
    begin: Begin<'_>,
    spare: &mut Option<Spare<M>>,
) -> std::io::Result<Replication> {
    let Begin {
        parallel_shards,
        saver,
        from,
    } = begin;
    let start = Instant::now();
    let settings = plan.settings(index);
    let mut steps =
        StepLog::new(M::COUNTERS.len(), plan.spool.as_deref()).with_series(M::SERIES.len());
    let mut sim = match from {
        Some((snapshot, rows)) => {
            rows.iter().for_each(|r| steps.push(r));
            Simulation::restore(model, &snapshot, settings.shards)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
        }
        None => match spare.take() {
            Some(spare) => Simulation::reuse(model, settings, spare),
            None => Simulation::new(model, settings),
        },
    };
    sim.set_parallel(parallel_shards);
    sim.keep_steps(false);
    let every = saver.map_or(0, |s| s.every());
    if saver.is_none() {
        sim.set_stop(stop);
    }
    let ending = loop {
        let pause = next_pause(sim.step_count(), every);
        let ended = sim.run_until(pause, |row| {
            progress.step(index, row);
            steps.push(row);
            !stop.load(Ordering::Relaxed)
        });
        let stopped = ended == Some(Ending::Interrupted) && !sim.was_cut_short();
        if let Some(saver) = saver.filter(|_| ended.is_none() || stopped) {
            let snapshot = sim
                .snapshot()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            saver.save(index, &snapshot, &mut steps)?;
        }
        if let Some(ending) = ended {
            break ending;
        }
    };
    let report = sim.report();
    progress.replication_done(index);
    let (_, engine) = sim.take_statistics();
    *spare = Some(sim.into_spare());
    Ok(Replication {
        index,
        seed: settings.seed,
        ending,
        metrics: report.metrics,
        histograms: report.histograms,
        details: report.details,
        steps,
        engine,
        elapsed: start.elapsed(),
    })
}

/// How a replication is shared: by whom, saved where (rank 0) every `every` steps (every
/// rank), from which snapshot.
struct Shared<'a> {
    peers: &'a dyn Peers,
    saver: Option<&'a dyn Checkpoints>,
    every: u32,
    from: Option<(Snapshot, Vec<StepRow>)>,
}

/// Replication `index` of `plan` shared by `peers` (every rank calls this together; see
/// [`Simulation::new_on`]). Rank 0 returns the replication; the others return it without
/// results (their part went to rank 0).
fn run_shared<M: Model>(
    Context {
        model,
        plan,
        stop,
        progress,
    }: Context<'_, M>,
    index: u64,
    shared: Shared<'_>,
) -> std::io::Result<Replication> {
    let start = Instant::now();
    let settings = plan.settings(index);
    let peers = shared.peers;
    let invalid = |e: crate::engine::scheduler::SnapshotError| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    };
    let mut steps =
        StepLog::new(M::COUNTERS.len(), plan.spool.as_deref()).with_series(M::SERIES.len());
    let mut sim = match shared.from {
        Some((snapshot, rows)) => {
            rows.iter().for_each(|r| steps.push(r));
            Simulation::restore_on(model, &snapshot, settings.shards, peers).map_err(invalid)?
        }
        None => Simulation::new_on(model, settings, peers).map_err(invalid)?,
    };
    sim.keep_steps(false);
    // The stop flag is heard within a step on every rank and agreed on by all (a stopped
    // shared replication writes no checkpoint: the last one stands).
    sim.set_stop(stop);
    let every = shared.every;
    let ending = loop {
        let pause = next_pause(sim.step_count(), every);
        let ended = sim.run_until(pause, |row| {
            progress.step(index, row);
            steps.push(row);
            true
        });
        if let Some(e) = sim.take_failure() {
            return Err(e);
        }
        if ended.is_none() {
            // Every rank pauses at the same step and snapshots with the others.
            let snapshot = sim.snapshot_shared().map_err(invalid)?;
            if let (Some(snapshot), Some(saver)) = (snapshot, shared.saver) {
                saver.save(index, &snapshot, &mut steps)?;
            }
        }
        if let Some(ending) = ended {
            break ending;
        }
    };
    sim.gather_shards().map_err(invalid)?;
    let lead = peers.rank() == 0;
    let report = lead.then(|| sim.report());
    progress.replication_done(index);
    let (_, engine) = sim.take_statistics();
    Ok(Replication {
        index,
        seed: settings.seed,
        ending,
        metrics: report.as_ref().map_or_else(Vec::new, |r| r.metrics.clone()),
        histograms: report
            .as_ref()
            .map_or_else(Vec::new, |r| r.histograms.clone()),
        details: report.map_or(serde_json::Value::Null, |r| r.details),
        steps,
        engine,
        elapsed: start.elapsed(),
    })
}

/// The step a run at `step` pauses at next to snapshot every `every` steps (never, for 0).
fn next_pause(step: u32, every: u32) -> u32 {
    match every {
        0 => u32::MAX,
        e => (step / e + 1).saturating_mul(e),
    }
}
