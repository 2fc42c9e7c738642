//! The model trait: what a simulation is made of.
//!
//! A model names its task state, its message type and its per-shard cell state, and supplies
//! the behaviour: how a task starts, how it steps, how a cell handles a message (and,
//! optionally, what a shard's cells do once all of a step's messages are in), and what the
//! run's results are. Everything is generic, so the scheduler is monomorphised per model:
//! tasks live in a `Vec` per shard, with no boxing and no dynamic dispatch on the hot path.
//!
//! # Names, not positions
//! A model declares its counters (per-step tallies, one column each in `steps.csv`) and its
//! metrics (one number per replication, summarised over replications) as lists of
//! [`Quantity`]: a name, a unit and a line of description. Code addresses them through typed
//! handles looked up by name **at compile time** ([`Counter::named`], [`Metric::named`]): a
//! misspelt name does not compile, and reordering a list cannot silently swap two columns.
//!
//! ```
//! use microsim::{Counter, Metric, Quantity};
//!
//! const COUNTERS: &[Quantity] = &[
//!     Quantity::new("visits", "visits").about("cell visits made in the step"),
//! ];
//! const METRICS: &[Quantity] = &[
//!     Quantity::new("cells_visited", "cells"),
//!     Quantity::new("peak_visits", "visits").about("the busiest step's visits"),
//! ];
//! const VISITS: Counter = Counter::named(COUNTERS, "visits");
//! const PEAK: Metric = Metric::named(METRICS, "peak_visits");
//! assert_eq!((VISITS.index(), PEAK.index()), (0, 1));
//! ```

use std::ops::Range;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::arena::Grid;
use crate::engine::codec::Codec;
pub(crate) use crate::engine::quantity::{Counter, Metric, Quantity};
use crate::engine::rng::TaskRng;
use crate::engine::space::{Place, Setup, Space};
use crate::engine::stats::StepRow;
use crate::engine::task::{CellCtx, Ctx, Mail, Next, Slot, StepEndCtx, TaskId};

/// A simulation model. `examples/random_walkers.rs` is a complete one, run through the CLI.
///
/// The engine calls `tasks`, `grid` and `estimate_bytes` before anything is allocated, to check
/// the run against the memory budget: building a model must therefore be cheap. Large shared
/// tables (an alias table over a billion bins) belong in `cells` or are built on first use.
///
/// Its parts, in this order below (`METRICS`, `tasks`, `spawn`, `cells`, `step` and `report`
/// are required; the rest have defaults):
/// - **what the model is**: `Task`, `Msg`, `Cells`, `COUNTERS`, `METRICS`, `HISTOGRAMS`,
///   `SERIES`; `tasks`, `max_tasks`, `grid`, `space`;
/// - **a replication's start**: `spawn`, `place`, `cells`, `reset_cells`, `setup_cells`;
/// - **a step**: `step`, `on_cell`, `end_step`, `publish`, `view`, `turn`, `prefetch_cell`;
/// - **the end**: `stop`, `series`, `report`, `expected`;
/// - **before a run**: `messages_per_step`, `mail_per_step`, `estimate_bytes`, `codec`.
pub trait Model: Sync {
    // What the model is: its types, what it declares, how many tasks and where they live.

    /// A task's own state. Serialisable, so that a task can be written out and read back with
    /// its data intact (what checkpoints and tasks that move between shards build on).
    type Task: Send + Sync + Serialize + DeserializeOwned + 'static;
    /// The message type, exchanged between tasks and cells.
    type Msg: Copy + Send + Sync;
    /// One shard's cell state, covering a contiguous block of cells (`()` without an arena).
    type Cells: Send + Sync;

    /// The model's per-step counters, one column each in `steps.csv` (default: none).
    const COUNTERS: &'static [Quantity] = &[];
    /// The model's scalar metrics, one value per replication, set in [`Model::report`].
    const METRICS: &'static [Quantity];
    /// What the model's named histograms ([`Report::histogram`]) measure, for plot labels
    /// (default: none declared; a histogram is then labelled by its name).
    const HISTOGRAMS: &'static [Quantity] = &[];
    /// Per-step quantities derived from a step's numbers (a share, a mean, an order
    /// parameter), computed by [`Model::series`]: one column each in `steps.csv` after the
    /// counters, and a chart of their own (default: none).
    const SERIES: &'static [Quantity] = &[];

    /// How many tasks the run starts with.
    fn tasks(&self) -> u64;

    /// The most tasks alive at once, for a model whose tasks are born ([`Ctx::spawn`]): what
    /// the memory budget counts, and a bound the run keeps (births that would pass it are not
    /// born, and the replication ends [`crate::Ending::PopulationLimit`]). Default: the
    /// starting count, [`Model::tasks`].
    fn max_tasks(&self) -> u64 {
        self.tasks()
    }

    /// The arena, if the model has one (default: none; the model then sends no cell messages
    /// and only its tasks are split over shards).
    fn grid(&self) -> Option<Grid> {
        None
    }

    /// Where the model's tasks live, if they live somewhere (default: nowhere). With a space,
    /// every task has a place ([`Model::place`]), lives on the shard that owns its cell, shows
    /// the others what [`Model::publish`] says, and reads what they showed around it
    /// ([`Ctx::near`], [`Ctx::within`]); the space's grid is the arena ([`Model::grid`] need not
    /// be given). See [`crate::Space`].
    fn space(&self) -> Option<Space> {
        None
    }

    // A replication's start: its tasks, their places and its cells.

    /// The state of task `id` at the start; `rng` is its spawn stream ([`crate::step_rng`] at
    /// step [`crate::engine::rng::SPAWN`]), which no step shares.
    fn spawn(&self, id: TaskId, rng: &mut TaskRng) -> Self::Task;

    /// Where task `id` starts, in a model with a space. `rng` is its spawn stream, continued
    /// after [`Model::spawn`]; `setup` has the replication's own layouts (e.g.
    /// [`Setup::shuffled_cell`] for distinct random cells). Default: a uniformly random place
    /// ([`Setup::random_place`]).
    fn place(&self, id: TaskId, task: &Self::Task, rng: &mut TaskRng, setup: &Setup) -> Place {
        let _ = (id, task);
        setup.random_place(rng)
    }

    /// The state of the cells in `range`, owned by one of `shards` shards. A cell is named to
    /// the model by its offset in this range (see [`CellCtx::offset`]), so the state can be a
    /// plain `Vec` indexed from 0.
    fn cells(&self, range: Range<u64>, shards: usize) -> Self::Cells;

    /// Puts `cells`, the state a finished replication left for `range`, back as
    /// [`Model::cells`] would make it, so that the next replication reuses its memory (no
    /// fresh pages to fault in). The default makes new cells; a model whose cells are a big
    /// table overrides it to clear the table in place. The result must equal
    /// `self.cells(range, shards)` exactly.
    fn reset_cells(&self, cells: &mut Self::Cells, range: Range<u64>, shards: usize) {
        *cells = self.cells(range, shards);
    }

    /// Draws the starting state of the cells in `range` (made by [`Model::cells`]) from the
    /// replication's setup streams ([`Setup::cell_rng`]), so that replications start from
    /// different layouts. Default: nothing.
    fn setup_cells(&self, cells: &mut Self::Cells, range: Range<u64>, setup: &Setup) {
        let _ = (cells, range, setup);
    }

    // A step: tasks run, cells handle their mail, and what each shows the others.

    /// Runs a task once: read `mail`, act through `ctx`, say what comes next.
    fn step(
        &self,
        task: &mut Self::Task,
        mail: &[Mail<Self::Msg>],
        ctx: &mut Ctx<'_, Self::Msg>,
    ) -> Next;

    /// Handles one message sent to the cell `ctx.cell()` (at `ctx.offset()` in `cells`).
    /// Default: nothing (a model without an arena sends no cell messages).
    #[inline(always)]
    fn on_cell(
        &self,
        cells: &mut Self::Cells,
        mail: Mail<Self::Msg>,
        ctx: &mut CellCtx<'_, Self::Msg>,
    ) {
        let _ = (cells, mail, ctx);
    }

    /// Called once per shard and step, after every cell message of the step was handled and
    /// before the shard's tasks run: here cells can pair up or match everyone who reported
    /// to them this step, answering through [`StepEndCtx::answer`]. Default: nothing.
    #[inline(always)]
    fn end_step(&self, cells: &mut Self::Cells, ctx: &mut StepEndCtx<'_, Self::Msg>) {
        let _ = (cells, ctx);
    }

    /// What a task shows the tasks and cells around it, read during the next step through
    /// [`Ctx::near`] and [`Ctx::within`] (`None`: nothing, though it is there). Called at every
    /// step boundary for every task with a place. Default: nothing.
    #[inline(always)]
    fn publish(&self, task: &Self::Task) -> Option<Self::Msg> {
        let _ = task;
        None
    }

    /// What a task sees of the cell at `offset` in `cells` ([`Ctx::look`]): cells are not
    /// changed while tasks run, so every task of a step sees the same. Default: nothing.
    #[inline(always)]
    fn view(&self, cells: &Self::Cells, offset: usize) -> Option<Self::Msg> {
        let _ = (cells, offset);
        None
    }

    /// In a model with a space, the turn of a task among the tasks of its cell: each step the
    /// tasks of a cell run one after another, lower turns first, and within a turn in the
    /// step's order (by id, or by seeded priority). What lets one kind of agent act before
    /// another (sheep before wolves). Default: 0 for every task.
    #[inline(always)]
    fn turn(&self, task: &Self::Task) -> u8 {
        let _ = task;
        0
    }

    /// A hint that a message for the cell at `offset` in `cells` will be handled soon (the
    /// engine calls it a few messages ahead). A model whose cell state is a large table can
    /// prefetch the cell's memory here ([`crate::prefetch_read`]), so that the cache misses of
    /// a batch overlap; it must not change state. Default: nothing.
    #[inline(always)]
    fn prefetch_cell(&self, cells: &Self::Cells, offset: usize) {
        let _ = (cells, offset);
    }

    // The end: when to stop, what each step and each replication reports, what is expected.

    /// Whether the run is over after the step just ended, judged from the counters, the tasks
    /// alive and the messages in flight (e.g. an epidemic that died out). A run that ends here is recorded as `finished`, like one whose
    /// tasks all finished. Called once per step; default: never.
    fn stop(&self, tally: &Tally<'_>) -> bool {
        let _ = tally;
        false
    }

    /// Fills `out` (one value per [`Model::SERIES`]) from the step just ended: its row
    /// (counters, tasks alive and the engine's other numbers) and the tally so far (this
    /// step's counters included). A pure function of them, so the values are the same bytes
    /// at any shard count. Default: nothing.
    fn series(&self, row: &StepRow, tally: &Tally<'_>, out: &mut [f64]) {
        let _ = (row, tally, out);
    }

    /// The run's results, from the final task and cell states and the counters.
    fn report(&self, end: &End<'_, Self>) -> Report
    where
        Self: Sized;

    /// What the model knows its results should be on average, for these parameters: a
    /// metric's expected value, a histogram's expected count per value in one replication.
    /// Drawn on the plots and shown beside the metric in the terminal and `report.html`
    /// (`declared` in `summary.json`). Called once per run, not per replication. Default:
    /// nothing beyond each [`Quantity::expected`].
    fn expected(&self) -> Expected {
        Expected::default()
    }

    // Before a run: what the memory budget counts; snapshots.

    /// Messages in flight in a busy step, about, for the memory budget (default: every task
    /// sends `quantum` messages).
    fn messages_per_step(&self, quantum: u32) -> u64 {
        self.tasks().saturating_mul(quantum as u64)
    }

    /// Of [`Model::messages_per_step`], those sent to tasks (direct messages and cells'
    /// answers), about: they are grouped into mailboxes, which costs memory the messages to
    /// cells do not. Default: all of them (a bound for any model).
    fn mail_per_step(&self, quantum: u32) -> u64 {
        self.messages_per_step(quantum)
    }

    /// Bytes the model's own state will take (tasks, cells, shared tables), for the memory
    /// budget. Default: the tasks' own size.
    fn estimate_bytes(&self, shards: usize) -> u64 {
        let _ = shards;
        self.tasks()
            .saturating_mul(std::mem::size_of::<Self::Task>() as u64)
    }

    /// Opts the model in to snapshots and checkpoints ([`crate::Simulation::snapshot`],
    /// `[run] checkpoint_every`, `microsim resume`): return `Some(Codec::new())`, which
    /// compiles when the messages are serde and the cells a [`crate::CellBlock`] (serde, and
    /// cut and joined again for a resume at another shard count; `Vec<T>` and `()` are).
    /// Default: `None`; the model runs as ever, and asking it for a snapshot is an error that
    /// says what to add.
    fn codec(&self) -> Option<Codec<Self::Msg, Self::Cells>> {
        None
    }
}

/// What a model expects of its results ([`Model::expected`]): values of metrics, and counts
/// of a histogram's values, per replication.
///
/// ```
/// use microsim::{Expected, Metric, Quantity};
/// const METRICS: &[Quantity] = &[Quantity::count("heads", "flips")];
/// const HEADS: Metric = Metric::named(METRICS, "heads");
/// let flips = 100.0;
/// let e = Expected::new()
///     .metric(HEADS, flips / 2.0)
///     .histogram("streaks", vec![(1, 25.0), (2, 12.5)]);
/// assert_eq!(e.of_metric(HEADS), Some(50.0));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expected {
    metrics: Vec<(Metric, f64)>,
    histograms: Vec<(&'static str, Vec<(u64, f64)>)>,
}

impl Expected {
    /// Nothing expected yet.
    pub fn new() -> Self {
        Expected::default()
    }

    /// `metric` is expected to be `value` on average.
    pub fn metric(mut self, metric: Metric, value: f64) -> Self {
        self.metrics.retain(|(m, _)| *m != metric);
        self.metrics.push((metric, value));
        self
    }

    /// The histogram `name` ([`Report::histogram`]) is expected to count `counts`: `(value,
    /// expected count of it in one replication)`, in any order.
    pub fn histogram(mut self, name: &'static str, counts: Vec<(u64, f64)>) -> Self {
        self.histograms.retain(|(n, _)| *n != name);
        self.histograms.push((name, counts));
        self
    }

    /// The expected value of `metric`, if given.
    pub fn of_metric(&self, metric: Metric) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, v)| *v)
    }

    /// The expected metrics: `(metric, value)`.
    pub fn metrics(&self) -> impl Iterator<Item = (Metric, f64)> + '_ {
        self.metrics.iter().copied()
    }

    /// The expected counts of histogram `name`, if given.
    pub fn of_histogram(&self, name: &str) -> Option<&[(u64, f64)]> {
        self.histograms
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c.as_slice())
    }
}

/// The model's counters so far: per counter its total, its value in the last step and its
/// peak. Kept in constant memory however many steps a run takes (every step's values are in
/// `steps.csv`; a model that needs a step-by-step history keeps it in its own state).
#[derive(Clone, Copy, Debug)]
pub struct Tally<'a> {
    pub(crate) steps: u32,
    pub(crate) totals: &'a [u64],
    pub(crate) last: &'a [u64],
    /// Per counter: the first step at which it was highest, and its value there.
    pub(crate) peaks: &'a [(u32, u64)],
    /// Tasks alive after the last step.
    pub(crate) alive: u64,
    /// Messages in flight after the last step (to be handled in the next).
    pub(crate) in_flight: u64,
}

impl Tally<'_> {
    /// Steps recorded so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Tasks alive after the last step (not finished, not killed).
    pub fn alive(&self) -> u64 {
        self.alive
    }

    /// Messages sent in the last step, to be handled in the next.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// The counter's total over all steps so far.
    pub fn total(&self, c: Counter) -> u64 {
        self.totals[c.index()]
    }

    /// The counter's value in the last step (0 before the first).
    pub fn last(&self, c: Counter) -> u64 {
        self.last[c.index()]
    }

    /// The step at which the counter was highest (the first such step) and its value there;
    /// `None` before the first step.
    pub fn peak(&self, c: Counter) -> Option<(u32, u64)> {
        (self.steps > 0).then(|| self.peaks[c.index()])
    }
}

/// What [`Tally`] reads: kept by the scheduler, updated once per step.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Counts {
    steps: u32,
    totals: Vec<u64>,
    last: Vec<u64>,
    peaks: Vec<(u32, u64)>,
}

impl Counts {
    pub(crate) fn new(width: usize) -> Self {
        Counts {
            steps: 0,
            totals: vec![0; width],
            last: vec![0; width],
            peaks: vec![(0, 0); width],
        }
    }

    /// Adds step `self.steps`'s values.
    pub(crate) fn add(&mut self, values: &[u64]) {
        let first = self.steps == 0;
        for (k, &v) in values.iter().enumerate() {
            self.totals[k] += v;
            self.last[k] = v;
            if first || v > self.peaks[k].1 {
                self.peaks[k] = (self.steps, v);
            }
        }
        self.steps += 1;
    }

    /// How many counters.
    pub(crate) fn width(&self) -> usize {
        self.totals.len()
    }

    /// The tally, with the tasks alive and messages in flight after the last step.
    pub(crate) fn tally(&self, alive: u64, in_flight: u64) -> Tally<'_> {
        Tally {
            steps: self.steps,
            totals: &self.totals,
            last: &self.last,
            peaks: &self.peaks,
            alive,
            in_flight,
        }
    }
}

/// One shard's part of the final state.
pub(crate) struct Part<'a, M: Model> {
    pub(crate) first_task: TaskId,
    pub(crate) slots: &'a [Slot<M::Task>],
    /// The id of each slot's task once tasks have moved; empty while slot `i` is task
    /// `first_task + i`.
    pub(crate) ids: &'a [TaskId],
    pub(crate) cells: &'a M::Cells,
    /// Each slot's cell and point, in a model with a space (empty otherwise).
    pub(crate) spots: &'a [u64],
    pub(crate) points: &'a [[f64; 2]],
}

/// A task with its place, as [`End::placed`] gives it.
#[derive(Clone, Copy, Debug)]
pub struct Placed<'a, T> {
    /// The task's id.
    pub id: TaskId,
    /// Its cell (its bucket, in a continuous space).
    pub cell: u64,
    /// Its point, in a continuous space (`[0, 0]` on a grid).
    pub pos: [f64; 2],
    /// Its state.
    pub task: &'a T,
}

/// What a model sees at the end of a run (or whenever [`crate::Simulation::report`] is
/// called): every task, every shard's cells, the counters.
pub struct End<'a, M: Model> {
    pub(crate) parts: Vec<Part<'a, M>>,
    pub(crate) tally: Tally<'a>,
}

impl<'a, M: Model> End<'a, M> {
    /// Every task's final state, in id order (wherever tasks moved).
    pub fn tasks(&self) -> Box<dyn Iterator<Item = (TaskId, &'a M::Task)> + '_> {
        if self.parts.iter().all(|p| p.ids.is_empty()) {
            return Box::new(self.parts.iter().flat_map(|p| {
                p.slots
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| (p.first_task + i as TaskId, &s.state))
            }));
        }
        let mut all: Vec<(TaskId, &'a M::Task)> = self
            .parts
            .iter()
            .flat_map(|p| p.ids.iter().zip(p.slots).map(|(&id, s)| (id, &s.state)))
            .collect();
        all.sort_unstable_by_key(|t| t.0);
        Box::new(all.into_iter())
    }

    /// In a model with a space, every task alive with its place, in id order (empty without
    /// a space).
    pub fn placed(&self) -> Vec<Placed<'a, M::Task>> {
        let mut all: Vec<Placed<'a, M::Task>> = self
            .parts
            .iter()
            .flat_map(|p| {
                (0..p.spots.len()).map(move |i| Placed {
                    id: p.ids[i],
                    cell: p.spots[i],
                    pos: p.points.get(i).copied().unwrap_or([0.0; 2]),
                    task: &p.slots[i].state,
                })
            })
            .collect();
        all.sort_unstable_by_key(|t| t.id);
        all
    }

    /// Every shard's cell state, in cell order.
    pub fn cells(&self) -> impl Iterator<Item = &'a M::Cells> + '_ {
        self.parts.iter().map(|p| p.cells)
    }

    /// The counters: totals, last values and peaks.
    pub fn tally(&self) -> &Tally<'a> {
        &self.tally
    }

    /// A counter's total over the run.
    pub fn total(&self, c: Counter) -> u64 {
        self.tally.total(c)
    }

    /// An empty report for this model: every metric unset (NaN) until [`Report::set`].
    pub fn report(&self) -> Report {
        Report::new(M::METRICS.len())
    }
}

/// A model's results from one run: its metrics (in [`Model::METRICS`] order), named
/// histograms that merge across replications, and free-form details.
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) metrics: Vec<f64>,
    pub(crate) histograms: Vec<(&'static str, Histogram<u64>)>,
    pub(crate) details: serde_json::Value,
}

impl Report {
    /// A report with `metrics` unset metrics (NaN), no histograms and no details.
    pub fn new(metrics: usize) -> Self {
        Report {
            metrics: vec![f64::NAN; metrics],
            histograms: Vec::new(),
            details: serde_json::Value::Null,
        }
    }

    /// Sets a metric.
    pub fn set(&mut self, metric: Metric, value: f64) -> &mut Self {
        self.metrics[metric.index()] = value;
        self
    }

    /// Adds a named distribution (e.g. points per robot); histograms of the same name merge
    /// across replications. Names become file names (`histograms/NAME.hlog`).
    pub fn histogram(&mut self, name: &'static str, h: Histogram<u64>) -> &mut Self {
        self.histograms.push((name, h));
        self
    }

    /// Sets the details: anything else worth keeping (e.g. the ids of the winners), as JSON.
    pub fn details(&mut self, details: serde_json::Value) -> &mut Self {
        self.details = details;
        self
    }

    /// A metric's value (NaN if it was never set).
    pub fn metric(&self, metric: Metric) -> f64 {
        self.metrics[metric.index()]
    }

    /// Every metric, in [`Model::METRICS`] order.
    pub fn metrics(&self) -> &[f64] {
        &self.metrics
    }

    /// The histograms, by name.
    pub fn histograms(&self) -> &[(&'static str, Histogram<u64>)] {
        &self.histograms
    }

    /// The details.
    pub fn details_json(&self) -> &serde_json::Value {
        &self.details
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[Quantity] = &[Quantity::new("a", "x"), Quantity::new("bb", "y")];

    #[test]
    fn a_tally_gives_totals_last_values_and_peaks() {
        let mut counts = Counts::new(2);
        let (a, b) = (Counter::named(LIST, "a"), Counter::named(LIST, "bb"));
        assert_eq!(counts.tally(0, 0).peak(a), None);
        assert_eq!(
            (counts.tally(0, 0).last(a), counts.tally(0, 0).steps()),
            (0, 0)
        );
        for step in [[1, 10], [5, 20], [5, 30], [0, 0]] {
            counts.add(&step);
        }
        let t = counts.tally(7, 3);
        assert_eq!((t.alive(), t.in_flight()), (7, 3));
        assert_eq!(t.steps(), 4);
        assert_eq!(
            (t.last(a), t.last(b), t.total(a), t.total(b)),
            (0, 0, 11, 60)
        );
        assert_eq!(t.peak(a), Some((1, 5))); // the first step at the highest value
        assert_eq!(t.peak(b), Some((2, 30)));
        let mut zeros = Counts::new(1);
        zeros.add(&[0]);
        assert_eq!(zeros.tally(0, 0).peak(a), Some((0, 0)));
    }
}
