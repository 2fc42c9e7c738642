//! The scheduler: bulk-synchronous steps over shards that run in parallel on rayon.
//!
//! # A step
//! 1. Every shard, in parallel: handle the cell messages sent to it last step (in delivery
//!    order, see [`crate::channel`]), then run its due tasks in id order, handing each the mail
//!    sent to it last step. Anything sent goes to the shard's outbox.
//! 2. At the boundary, outboxes are swapped into the destination shards' inboxes, and the
//!    step's statistics are gathered from the shards in shard order.
//!
//! # Conflicts
//! Two tasks claiming one cell in the same step are settled by delivery order: under
//! [`Order::ById`] the lower task id is handled first; under [`Order::Shuffled`] the task with
//! the lower seeded priority (a fresh random permutation each step, [`crate::rng::priority`]).
//!
//! # Determinism
//! A task's stream depends only on (seed, replication, id); the order in which cells and tasks
//! see messages depends only on keys and seeded priorities. So every task and cell state, every
//! counter and every model result is the same at any thread count and any shard count. What
//! does depend on the shard count is the split of messages into local and cross-shard, and
//! what depends on the machine is wall time; neither feeds back into the simulation.

mod shard;

use std::time::Instant;

use rayon::prelude::*;

use crate::arena::Partition;
use crate::channel::{Envelope, TaskEnvelope, exchange};
use crate::model::{End, Model, Report};
use crate::stats::{EngineHistograms, StepRow};
use crate::task::{Mail, Slot};

pub use shard::Shard;

/// The order in which a step's messages are handled, which settles conflicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// By sender id, then by the order the sender sent them.
    #[default]
    ById,
    /// By a seeded per-step priority of the sender, then as `ById`.
    Shuffled,
}

/// How one replication is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The replication's seed ([`crate::rng::replication_seed`]).
    pub seed: u64,
    /// The number of shards.
    pub shards: usize,
    /// Message order within a step.
    pub order: Order,
    /// How many times a task may run in a row within one step.
    pub quantum: u32,
    /// The run stops after this many steps even if tasks are still alive.
    pub max_steps: u32,
    /// Whether to record the per-task histograms (messages per task, mailbox depth).
    pub histograms: bool,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Every task finished and no message is in flight.
    Finished,
    /// Tasks are waiting for mail that will never come.
    Stalled,
    /// `max_steps` was reached.
    StepLimit,
    /// The caller stopped it (Ctrl-C).
    Interrupted,
}

/// What one replication of `model` needs in memory, about: the model's own state, the engine's
/// bookkeeping per task, a busy step's message buffers, and each shard's fixed costs.
///
/// Counted generously, as an upper bound: a message is held once in its buffer (a consumed
/// incoming buffer becomes the outgoing one), once more if a seeded order gathers it, and once
/// as grouped mail; that is taken as three envelopes plus the mail, and buffers may have grown
/// to twice their contents.
pub fn estimate_bytes<M: Model>(model: &M, settings: &Settings) -> u64 {
    use std::mem::size_of;
    let slot = size_of::<Slot<M::Task>>().saturating_sub(size_of::<M::Task>()) as u64 + 4;
    let envelope = size_of::<Envelope<M::Msg>>().max(size_of::<TaskEnvelope<M::Msg>>()) as u64;
    let per_message = 3 * envelope + size_of::<Mail<M::Msg>>() as u64;
    let messages = model.messages_per_step(settings.quantum);
    let shards = settings.shards as u64;
    model
        .estimate_bytes(settings.shards)
        .saturating_add(model.tasks().saturating_mul(slot))
        .saturating_add(messages.saturating_mul(per_message).saturating_mul(2))
        .saturating_add(shards * shards * 2 * 48 + shards * 4096)
}

/// One replication in progress.
pub struct Simulation<'m, M: Model> {
    model: &'m M,
    settings: Settings,
    shards: Vec<Shard<M>>,
    step: u32,
    parallel: bool,
    counters: Vec<u64>,
    /// Step-level statistics so far, one row per step.
    pub steps: Vec<StepRow>,
    /// The engine's histograms so far.
    pub histograms: EngineHistograms,
}

impl<'m, M: Model> Simulation<'m, M> {
    /// Builds the shards and spawns every task.
    pub fn new(model: &'m M, settings: Settings) -> Self {
        let cells = model.grid().cells();
        let part = Partition::new(settings.shards, cells, model.tasks());
        let shards = (0..settings.shards)
            .into_par_iter()
            .map(|s| Shard::new(model, s, part, &settings))
            .collect();
        Simulation {
            model,
            settings,
            shards,
            step: 0,
            parallel: true,
            counters: vec![0; M::COUNTERS.len()],
            steps: Vec::new(),
            histograms: EngineHistograms::new(),
        }
    }

    /// Whether shards step in parallel (the default) or one after another (when replications
    /// already run in parallel). Results are the same either way.
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// Steps until the run ends, or `keep_going` (called after every step) says stop.
    pub fn run(&mut self, mut keep_going: impl FnMut(&StepRow) -> bool) -> Ending {
        loop {
            if self.step >= self.settings.max_steps {
                return Ending::StepLimit;
            }
            let row = self.advance();
            let go_on = keep_going(&row);
            let (pending, alive, due) = self.outlook();
            self.steps.push(row);
            if pending == 0 && alive == 0 {
                return Ending::Finished;
            }
            if pending == 0 && !due {
                return Ending::Stalled;
            }
            if !go_on {
                return Ending::Interrupted;
            }
        }
    }

    /// Runs one step and returns its statistics.
    pub fn advance(&mut self) -> StepRow {
        let (model, step, settings) = (self.model, self.step, self.settings);
        let start = Instant::now();
        if self.parallel {
            self.shards
                .par_iter_mut()
                .for_each(|s| s.step(model, step, &settings));
        } else {
            self.shards
                .iter_mut()
                .for_each(|s| s.step(model, step, &settings));
        }
        let pairs = self
            .shards
            .iter_mut()
            .map(|s| (&mut s.out.to_cells, &mut s.in_cells))
            .collect();
        exchange(pairs);
        let pairs = self
            .shards
            .iter_mut()
            .map(|s| (&mut s.out.to_tasks, &mut s.in_tasks))
            .collect();
        exchange(pairs);
        let wall = start.elapsed();
        let row = StepRow::gather(step, wall, &mut self.shards, &mut self.histograms);
        for (total, n) in self.counters.iter_mut().zip(&row.counters) {
            *total += n;
        }
        self.step += 1;
        row
    }

    /// (messages in flight, tasks alive, whether any alive task is due without mail).
    fn outlook(&self) -> (usize, u64, bool) {
        let pending = self.shards.iter().map(Shard::pending).sum();
        let alive = self.shards.iter().map(Shard::alive).sum();
        let due = self.shards.iter().any(Shard::has_due);
        (pending, alive, due)
    }

    /// The steps run so far.
    pub fn step_count(&self) -> u32 {
        self.step
    }

    /// The model's results from the current state.
    pub fn report(&self) -> Report {
        self.model.report(&self.end())
    }

    /// The current state, as the model sees it at the end.
    pub fn end(&self) -> End<'_, M> {
        End {
            shards: &self.shards,
            counters: &self.counters,
        }
    }

    /// The totals of the model's counters so far.
    pub fn counters(&self) -> &[u64] {
        &self.counters
    }
}
