//! The model trait: what a simulation is made of.
//!
//! A model names its task state, its message type and its per-shard cell state, and supplies
//! four pieces of behaviour: how a task starts, how it steps, how a cell handles a message, and
//! what the run's results are. Everything is generic, so the scheduler is monomorphised per
//! model: tasks live in a `Vec<Slot<Task>>` per shard, with no boxing and no dynamic dispatch
//! on the hot path.

use std::ops::Range;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::arena::Grid;
use crate::rng::TaskRng;
use crate::task::{CellCtx, Ctx, Mail, Next, TaskId};

/// A simulation model. See `examples/` for a custom one.
pub trait Model: Sync {
    /// A task's own state (serialisable, so it can be inspected, checkpointed, moved).
    type Task: Send + Sync + Serialize;
    /// The message type, exchanged between tasks and cells.
    type Msg: Copy + Send + Sync;
    /// One shard's cell state, covering a contiguous block of cells.
    type Cells: Send + Sync;

    /// Names of the model's per-step counters, as they appear in `steps.csv`.
    const COUNTERS: &'static [&'static str];
    /// Names of the model's scalar metrics, in the order [`Model::report`] returns them.
    const METRICS: &'static [&'static str];

    /// How many tasks the run starts with.
    fn tasks(&self) -> u64;

    /// The arena.
    fn grid(&self) -> Grid;

    /// The state of task `id` at the start; `rng` is the task's own stream.
    fn spawn(&self, id: TaskId, rng: &mut TaskRng) -> Self::Task;

    /// The state of the cells in `range`, owned by one of `shards` shards.
    fn cells(&self, range: Range<u64>, shards: usize) -> Self::Cells;

    /// Runs a task once: read `mail`, act through `ctx`, say what comes next.
    fn step(
        &self,
        task: &mut Self::Task,
        mail: &[Mail<Self::Msg>],
        ctx: &mut Ctx<'_, Self::Msg>,
    ) -> Next;

    /// Handles one message sent to `cell` (owned by `cells`).
    fn on_cell(
        &self,
        cells: &mut Self::Cells,
        cell: u64,
        mail: Mail<Self::Msg>,
        ctx: &mut CellCtx<'_, Self::Msg>,
    );

    /// A hint that a message for `cell` will be handled soon (the engine calls it a few
    /// messages ahead). A model whose cell state is a large table can prefetch the cell's
    /// memory here, so that the cache misses of a batch overlap; it must not change state.
    /// Default: nothing.
    #[inline(always)]
    fn prefetch_cell(&self, cells: &Self::Cells, cell: u64) {
        let _ = (cells, cell);
    }

    /// The run's results, from the final task and cell states and the counters' totals.
    fn report(&self, end: &End<'_, Self>) -> Report
    where
        Self: Sized;

    /// Messages in flight in a busy step, about, for the memory budget (default: every task
    /// sends `quantum` messages).
    fn messages_per_step(&self, quantum: u32) -> u64 {
        self.tasks().saturating_mul(quantum as u64)
    }

    /// Bytes the model's own state will take (tasks and cells), for the memory budget.
    fn estimate_bytes(&self, shards: usize) -> u64 {
        let _ = shards;
        self.tasks() * std::mem::size_of::<Self::Task>() as u64
    }
}

/// What a model sees at the end of a run.
pub struct End<'a, M: Model> {
    pub(crate) shards: &'a [crate::scheduler::Shard<M>],
    /// The totals of the model's counters, in [`Model::COUNTERS`] order.
    pub counters: &'a [u64],
}

impl<M: Model> End<'_, M> {
    /// Every task's final state, in id order.
    pub fn tasks(&self) -> impl Iterator<Item = (TaskId, &M::Task)> + '_ {
        self.shards.iter().flat_map(|s| s.tasks())
    }

    /// Every shard's cell state, in cell order.
    pub fn cells(&self) -> impl Iterator<Item = &M::Cells> + '_ {
        self.shards.iter().map(|s| &s.cells)
    }
}

/// A model's results from one run.
#[derive(Clone, Debug)]
pub struct Report {
    /// One value per name in [`Model::METRICS`], in that order.
    pub metrics: Vec<f64>,
    /// Named distributions (e.g. points per robot), merged across replications.
    pub histograms: Vec<(&'static str, Histogram<u64>)>,
    /// Anything else worth keeping (e.g. the ids of the winners), as JSON.
    pub details: serde_json::Value,
}
