//! The scheduler: bulk-synchronous steps over shards that run in parallel on rayon.
//!
//! # A step
//! 1. Cells, every shard in parallel: handle the cell messages sent to it last step (in
//!    delivery order, see [`crate::engine::channel`]), then give its cells their end-of-step
//!    call ([`Model::end_step`]).
//! 2. Tasks, every shard in parallel: run its due tasks in slot order (by id; in a model with
//!    a space, by cell and then in the step's order), handing each the mail sent to it last
//!    step. Tasks read every shard's cells ([`Model::view`]) and board, which nothing changes
//!    in this phase. Anything sent goes to the shard's outbox.
//! 3. At the boundary, outboxes are swapped into the destination shards' inboxes; tasks move
//!    ([`crate::Ctx::move_near`], [`crate::Ctx::move_to`]), claims on full cells are settled,
//!    births are numbered, the dead leave, and in a model with a space every shard puts its
//!    tasks in the next step's order and publishes its part of the board
//!    ([`crate::engine::board`]). The step's statistics are gathered from the shards in shard
//!    order (worker statistics stay inside the scheduler; what leaves it is a [`StepRow`]).
//! 4. The run ends when every task has finished and no message is in flight, when the model
//!    says so ([`Model::stop`]; both are [`Ending::Finished`]), when tasks wait for mail that
//!    cannot come ([`Ending::Stalled`]), at `max_steps`, when births would pass the model's
//!    bound on tasks ([`Ending::PopulationLimit`]), or when the caller stops it.
//!
//! # Stopping within a step
//! A step can be long (millions of tasks, or a few tasks that each do a lot). With a stop flag
//! ([`Simulation::set_stop`]), every shard looks at it before each task it runs and every
//! 1024 cell messages, and once it is set leaves the rest of its step undone;
//! the replication then ends [`Ending::Interrupted`] with the step's partial numbers (its
//! results are partial, as after any interruption). So a stop is heard within one task run
//! (or a few thousand cell messages) on every shard. A single task that runs for seconds
//! cannot be preempted: a model should split long work over several runs
//! ([`crate::Next::Continue`]), as the built-in `pi` model does.
//!
//! # Conflicts
//! Two tasks claiming one cell in the same step are settled by delivery order: under
//! [`Order::ById`] the lower task id is handled first; under [`Order::Shuffled`] the task with
//! the lower seeded priority (a fresh random permutation each step, [`crate::engine::rng::priority`]).
//!
//! # Determinism
//! A task's stream depends only on (seed, replication, id); the order in which cells and tasks
//! see messages depends only on keys and seeded priorities. So every task and cell state, every
//! counter and every model result is the same at any thread count and any shard count. What
//! does depend on the shard count is the split of messages into local and cross-shard, and
//! what depends on the machine is wall time; neither feeds back into the simulation.

mod life;
mod memory;
mod ranks;
mod settings;
mod shard;
mod snapshot;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::arena::{Grid, Partition};
use crate::engine::board::{Board, Boards};
use crate::engine::channel::{Address, Envelope, Route, TaskEnvelope, exchange};
use crate::engine::model::{Counts, End, Model, Part, Report, Tally};
use crate::engine::space::{Setup, Space};
use crate::engine::stats::{EngineHistograms, StepRow, TIME_HIGH_US};
use crate::engine::task::{Mail, Slot, TaskId, World};

pub use memory::estimate_bytes;
pub use ranks::{Peers, share};
pub use settings::{Order, Settings};
pub(crate) use shard::Shard;
pub use snapshot::{Snapshot, SnapshotError};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Every task finished and no message is in flight, or the model said the run is over.
    Finished,
    /// Tasks are waiting for mail that will never come.
    Stalled,
    /// `max_steps` was reached.
    StepLimit,
    /// The caller stopped it (Ctrl-C).
    Interrupted,
    /// Births would have passed the model's bound on tasks alive ([`Model::max_tasks`]) or
    /// used up the task ids: the births over it were not born, and the run stopped there.
    PopulationLimit,
}

/// How mail to tasks is sent during a step, and how it is found in the mailboxes: by the home
/// blocks, by the directory `places`, or (in a model with a space, whose tasks move every
/// step) sent on at the boundary and found by the directory rebuilt then (`fresh`).
fn routes(spatial: bool, places: Option<&[Address]>, fresh: bool) -> (Route<'_>, Route<'_>) {
    match (spatial, places) {
        (true, Some(p)) if fresh => (Route::Deferred, Route::Places(p)),
        (true, _) => (Route::Deferred, Route::Deferred),
        (false, Some(p)) => (Route::Places(p), Route::Places(p)),
        (false, None) => (Route::Home, Route::Home),
    }
}

/// The model's arena: its space's grid, or its own.
pub(crate) fn arena<M: Model>(model: &M) -> Option<Grid> {
    model.space().map(|s| s.cells()).or_else(|| model.grid())
}

/// How many cells the model's arena has (0 without one).
pub(crate) fn arena_cells<M: Model>(model: &M) -> u64 {
    arena(model).map_or(0, |g| g.cells())
}

/// The memory of a finished [`Simulation`], for the next one ([`Simulation::reuse`]).
pub struct Spare<M: Model> {
    shards: Vec<Shard<M>>,
    cells: Vec<M::Cells>,
    boards: Vec<Board<M::Msg>>,
    histograms: EngineHistograms,
}

/// One replication in progress.
///
/// ```
/// use microsim::models::musical_chairs::{MusicalChairs, Params};
/// use microsim::{Ending, Settings, Simulation};
///
/// let model = MusicalChairs::new(Params { robots: 100, width: 20, height: 20, rounds: 3 });
/// let mut sim = Simulation::new(&model, Settings::default().seed(1).shards(2));
/// assert_eq!(sim.run(|_| true), Ending::Finished);
/// assert_eq!(sim.steps().len(), 5); // claims in steps 0–2, the last answers read in step 4
/// ```
pub struct Simulation<'m, M: Model> {
    model: &'m M,
    settings: Settings,
    shards: Vec<Shard<M>>,
    /// Each shard's block of cells (kept beside the shards: every shard's tasks read them).
    cells: Vec<M::Cells>,
    /// Each shard's part of the board (a model with a space; empty parts otherwise).
    boards: Vec<Board<M::Msg>>,
    /// The model's space.
    space: Option<Space>,
    /// The id the next task born gets.
    next_id: u64,
    /// Claims per cell while claims are settled (all zero between steps; empty without a
    /// space with a capacity).
    claim_counts: Vec<u32>,
    step: u32,
    parallel: bool,
    /// The model's counters: totals, last values, peaks.
    counts: Counts,
    steps: Vec<StepRow>,
    keep_steps: bool,
    histograms: EngineHistograms,
    stop: Option<&'m AtomicBool>,
    /// Whether the last step was left undone because `stop` was set.
    cut_short: bool,
    /// Where each task lives, once some task has moved ([`crate::Ctx::move_near`]) or been
    /// born; `None` while every task lives at home. In a model with a space it is rebuilt at a
    /// boundary only when mail to tasks is in flight (`places_fresh`).
    places: Option<Vec<Address>>,
    places_fresh: bool,
    /// Its place among the ranks sharing it ([`Simulation::new_on`]); `None` in one process.
    shared: Option<ranks::Shared<'m>>,
    /// Births passed the model's bound on tasks in the last step.
    overpopulated: bool,
    /// Why the ranks sharing the simulation could not finish the last step's exchange.
    failure: Option<std::io::Error>,
}

impl<M: Model> std::fmt::Debug for Simulation<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("model", &std::any::type_name::<M>())
            .field("step", &self.step)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<'m, M: Model> Simulation<'m, M> {
    /// Builds the shards and spawns every task.
    ///
    /// # Panics
    /// If `settings.shards` is 0, or the arena needs more shards than given (more than 2³²
    /// cells per shard); a scenario is checked for both before it is built.
    pub fn new(model: &'m M, settings: Settings) -> Self {
        let part = Self::partition(model, &settings);
        let build = |s: usize| {
            let cells = Self::new_cells(model, &settings, part, s);
            (Shard::new(model, s, part, &settings), cells)
        };
        let (shards, cells): (Vec<_>, Vec<_>) = if settings.shards == 1 {
            [build(0)].into_iter().unzip()
        } else {
            (0..settings.shards).into_par_iter().map(build).unzip()
        };
        let mut sim =
            Self::with_shards(model, settings, shards, cells, EngineHistograms::compact());
        sim.settle_places(0);
        sim
    }

    /// Shard `s`'s block of cells, made and set up for the replication.
    fn new_cells(model: &M, settings: &Settings, part: Partition, s: usize) -> M::Cells {
        let range = part.cell_range(s, arena_cells(model));
        let mut cells = model.cells(range.clone(), part.shards());
        model.setup_cells(&mut cells, range, &Self::setup_of(model, settings));
        cells
    }

    /// The replication's setup streams.
    fn setup_of(model: &M, settings: &Settings) -> Setup {
        Setup::new(settings.seed, model.space(), arena_cells(model))
    }

    /// How `model`'s cells and tasks split into `settings.shards` shards.
    fn partition(model: &M, settings: &Settings) -> Partition {
        Partition::new(settings.shards, arena_cells(model), model.tasks())
    }

    /// A simulation at step 0 over freshly spawned `shards` and their `cells`.
    fn with_shards(
        model: &'m M,
        settings: Settings,
        shards: Vec<Shard<M>>,
        cells: Vec<M::Cells>,
        histograms: EngineHistograms,
    ) -> Self {
        let boards = shards.iter().map(|s| Board::new(s.first_cell())).collect();
        Simulation {
            model,
            settings,
            shards,
            cells,
            boards,
            space: model.space(),
            next_id: model.tasks(),
            claim_counts: Vec::new(),
            step: 0,
            parallel: true,
            counts: Counts::new(M::COUNTERS.len()),
            steps: Vec::new(),
            keep_steps: true,
            histograms,
            stop: None,
            cut_short: false,
            places: None,
            places_fresh: false,
            shared: None,
            overpopulated: false,
            failure: None,
        }
    }

    /// Like [`Simulation::new`], but reusing the memory of `spare` (what
    /// [`Simulation::into_spare`] left of a finished run of the same model with the same
    /// shard count): tasks are spawned into its slots, its cells are reset in place
    /// ([`Model::reset_cells`]) and its message buffers keep their capacity. The result is
    /// the same as a new simulation's, step for step.
    pub fn reuse(model: &'m M, settings: Settings, spare: Spare<M>) -> Self {
        if spare.shards.len() != settings.shards {
            return Self::new(model, settings);
        }
        let part = Self::partition(model, &settings);
        let (mut shards, mut cells) = (spare.shards, spare.cells);
        let setup = Self::setup_of(model, &settings);
        let reset = |(s, (shard, cells)): (usize, (&mut Shard<M>, &mut M::Cells))| {
            shard.reset(model, s, part, &settings);
            let range = part.cell_range(s, arena_cells(model));
            model.reset_cells(cells, range.clone(), part.shards());
            model.setup_cells(cells, range, &setup);
        };
        if shards.len() == 1 {
            shards
                .iter_mut()
                .zip(cells.iter_mut())
                .enumerate()
                .for_each(reset);
        } else {
            shards
                .par_iter_mut()
                .zip(cells.par_iter_mut())
                .enumerate()
                .for_each(reset);
        }
        let mut sim = Self::with_shards(model, settings, shards, cells, spare.histograms);
        sim.boards = spare.boards;
        sim.settle_places(0);
        sim
    }

    /// What is left of this simulation to reuse ([`Simulation::reuse`]): its shards'
    /// memory. Take the report and statistics first.
    pub fn into_spare(mut self) -> Spare<M> {
        let mut histograms = std::mem::take(&mut self.histograms);
        histograms.clear();
        Spare {
            shards: self.shards,
            cells: self.cells,
            boards: self.boards,
            histograms,
        }
    }

    /// A flag that stops the run within a step: once it is set, each shard leaves the rest of
    /// its step undone (it looks before every task and every 1024 cell messages), and
    /// [`Simulation::run`] returns [`Ending::Interrupted`] after that step. A step cut short
    /// leaves the state as it was then (some tasks ran, some did not), so the model's report
    /// on it is partial.
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// use microsim::models::pi::{Params, Pi};
    /// use microsim::{Ending, Settings, Simulation};
    ///
    /// let model = Pi::new(Params { points: 1000, tasks: 10, points_per_step: 0 });
    /// let stop = AtomicBool::new(true);
    /// let mut sim = Simulation::new(&model, Settings::default());
    /// sim.set_stop(&stop);
    /// assert_eq!(sim.run(|_| true), Ending::Interrupted);
    /// assert_eq!(sim.steps()[0].tasks_run, 0); // stopped before the first task
    /// assert!(sim.was_cut_short());
    /// ```
    pub fn set_stop(&mut self, stop: &'m AtomicBool) {
        self.stop = Some(stop);
    }

    /// Whether the last step was left undone because the stop flag was set (for a caller that
    /// steps with [`Simulation::advance`] itself).
    pub fn was_cut_short(&self) -> bool {
        self.cut_short
    }

    /// Whether shards step in parallel (the default) or one after another (when replications
    /// already run in parallel). Results are the same either way.
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// Whether [`Simulation::steps`] keeps every step's row (the default). A caller that
    /// streams rows as they come (from [`Simulation::run`]'s callback) can turn it off.
    pub fn keep_steps(&mut self, keep: bool) {
        self.keep_steps = keep;
    }

    /// Steps until the run ends, or `keep_going` (called after every step) says stop.
    pub fn run(&mut self, keep_going: impl FnMut(&StepRow) -> bool) -> Ending {
        self.run_until(u32::MAX, keep_going)
            .expect("a run ends by its step limit at the latest")
    }

    /// Like [`Simulation::run`], but pauses once [`Simulation::step_count`] reaches `pause`
    /// (returning `None`; at once if it already has), as a caller that takes a
    /// [`Simulation::snapshot`] every so many steps does. Running on after a pause goes on
    /// exactly as one uninterrupted run.
    pub fn run_until(
        &mut self,
        pause: u32,
        mut keep_going: impl FnMut(&StepRow) -> bool,
    ) -> Option<Ending> {
        loop {
            if self.step >= self.settings.max_steps {
                return Some(Ending::StepLimit);
            }
            if self.step >= pause {
                return None;
            }
            let row = self.advance();
            let go_on = keep_going(&row);
            if self.keep_steps {
                self.steps.push(row);
            }
            if self.cut_short {
                return Some(Ending::Interrupted);
            }
            if self.overpopulated {
                return Some(Ending::PopulationLimit);
            }
            let (pending, alive, due) = self.outlook();
            if (pending == 0 && alive == 0) || self.model.stop(&self.tally()) {
                return Some(Ending::Finished);
            }
            if pending == 0 && !due {
                return Some(Ending::Stalled);
            }
            // Shared by ranks, only what all agree on ends a run: the stop flag, heard within
            // a step and reduced over the ranks (above), not one rank's callback.
            if !go_on && self.shared.is_none() {
                return Some(Ending::Interrupted);
            }
        }
    }

    /// Runs one step and returns its statistics.
    pub fn advance(&mut self) -> StepRow {
        let start = Instant::now();
        self.step_cells();
        self.step_tasks();
        let mine = &self.shards[self.owned()];
        self.cut_short = mine.iter().any(|s| s.tally.cut_short);
        self.exchange();
        let mut row = self.boundary(start);
        self.counts.add(&row.counters);
        if !M::SERIES.is_empty() {
            let mut series = vec![0.0; M::SERIES.len()];
            self.model.series(&row, &self.tally(), &mut series);
            row.series = series;
        }
        self.step += 1;
        row
    }

    /// Step 3, the boundary, once this process's shards have exchanged their mail: settled
    /// here, or (a replication shared by MPI ranks) across the ranks, whose rows are reduced
    /// into one. Returns the step's row.
    fn boundary(&mut self, start: Instant) -> StepRow {
        if self.shared.is_none() {
            self.settle();
            let dropped = self.settle_life(self.step + 1);
            let mut row = self.gather(start.elapsed());
            row.messages_dropped += dropped;
            return row;
        }
        match self.boundary_between_ranks(start) {
            Ok(row) => row,
            Err(e) => {
                // The run ends here (as if stopped); the caller learns why from `failure`.
                self.failure = Some(e);
                self.cut_short = true;
                StepRow::zeroed(self.step, M::COUNTERS.len())
            }
        }
    }

    /// [`Simulation::boundary`] across the ranks sharing the simulation.
    fn boundary_between_ranks(&mut self, start: Instant) -> std::io::Result<StepRow> {
        if self.exchange_between_ranks()? {
            self.settle_between_ranks()?;
        }
        let mut row = self.gather(start.elapsed());
        self.cut_short = self.reduce_step(&mut row)?;
        row.wall_ns = start.elapsed().as_nanos() as u64;
        Ok(row)
    }

    /// Why the run stopped, when the ranks sharing it ([`Simulation::new_on`]) could not
    /// exchange a step's data (a run then ends [`Ending::Interrupted`]); taken once.
    pub fn take_failure(&mut self) -> Option<std::io::Error> {
        self.failure.take()
    }

    /// Step 1 of a step (see the module docs): every shard's cells.
    fn step_cells(&mut self) {
        let (model, step, settings, stop) = (self.model, self.step, self.settings, self.stop);
        let part = Self::partition(model, &settings);
        let owned = self.owned();
        let (send, deliver) = routes(
            self.space.is_some(),
            self.places.as_deref(),
            self.places_fresh,
        );
        let space = self.space.unwrap_or(Space::grid(1, 1));
        let world = World {
            boards: Boards {
                parts: &self.boards,
                part: &part,
                space: &space,
            },
            view: None,
        };
        let pass = shard::Pass {
            model,
            step,
            settings: &settings,
            stop,
            route: send,
            deliver,
            world: self.space.is_some().then_some(&world),
        };
        let shards = &mut self.shards[owned.clone()];
        let cells = &mut self.cells[owned];
        if self.parallel && shards.len() > 1 {
            shards
                .par_iter_mut()
                .zip(cells.par_iter_mut())
                .for_each(|(s, c)| s.step_cells(c, pass));
        } else {
            for (s, c) in shards.iter_mut().zip(cells.iter_mut()) {
                s.step_cells(c, pass);
            }
        }
    }

    /// Step 2: every shard's tasks, reading every shard's cells and board.
    fn step_tasks(&mut self) {
        let (model, step, settings, stop) = (self.model, self.step, self.settings, self.stop);
        let part = Self::partition(model, &settings);
        let owned = self.owned();
        let (send, deliver) = routes(
            self.space.is_some(),
            self.places.as_deref(),
            self.places_fresh,
        );
        let cells = &self.cells;
        let view = move |cell: u64| {
            let (k, offset) = part.locate_cell(cell);
            model.view(&cells[k], offset as usize)
        };
        let space = self.space.unwrap_or(Space::grid(1, 1));
        let world = World {
            boards: Boards {
                parts: &self.boards,
                part: &part,
                space: &space,
            },
            view: Some(&view),
        };
        let pass = shard::Pass {
            model,
            step,
            settings: &settings,
            stop,
            route: send,
            deliver,
            world: self.space.is_some().then_some(&world),
        };
        let shards = &mut self.shards[owned];
        if self.parallel && shards.len() > 1 {
            shards.par_iter_mut().for_each(|s| s.step_tasks(pass));
        } else {
            shards.iter_mut().for_each(|s| s.step_tasks(pass));
        }
    }

    /// Swaps every shard's outboxes into the destination shards' inboxes.
    fn exchange(&mut self) {
        let pairs = self
            .shards
            .iter_mut()
            .map(|s| (&mut s.out.to_cells, &mut s.in_cells))
            .collect();
        exchange(pairs);
        let pairs = self
            .shards
            .iter_mut()
            .map(|s| (&mut s.out.from_cells, &mut s.in_from_cells))
            .collect();
        exchange(pairs);
        let pairs = self
            .shards
            .iter_mut()
            .map(|s| (&mut s.out.to_tasks, &mut s.in_tasks))
            .collect();
        exchange(pairs);
    }

    /// Starts keeping where each task lives, when a task first moves: every task at home,
    /// and each shard this process steps told the ids of the tasks it holds.
    fn start_places(&mut self) {
        if self.places.is_some() {
            return;
        }
        let part = Self::partition(self.model, &self.settings);
        let tasks = self.model.tasks();
        let mut home = vec![Address::default(); self.next_id as usize];
        for k in 0..self.shards.len() {
            for (i, id) in part.task_range(k, tasks).enumerate() {
                home[id as usize] = Address {
                    shard: k as u32,
                    slot: i as u32,
                };
            }
        }
        for k in self.owned() {
            let s = &mut self.shards[k];
            let first = s.first_task;
            s.ids = (0..s.slots.len() as TaskId).map(|i| first + i).collect();
        }
        self.places = Some(home);
    }

    /// Moves the tasks that asked to move this step ([`crate::Ctx::move_near`]) to their new
    /// shards, with their state and stream, and forwards the mail already sent to them. The
    /// order in which slots end up in a shard depends on the shard count; nothing that is
    /// computed does (cell messages are then sorted by key, mail is grouped by task).
    fn settle(&mut self) {
        if self.shards.iter().all(|s| s.moves.is_empty()) {
            return;
        }
        self.start_places();
        let shards = &mut self.shards;
        let places = self
            .places
            .as_mut()
            .expect("places are kept once a task moved");
        let mut arriving = Vec::new();
        for s in shards.iter_mut() {
            s.depart(places, |dest, id, slot| {
                arriving.push((dest as usize, id, slot))
            });
        }
        for (dest, id, slot) in arriving {
            let at = shards[dest].take_in(id, slot);
            places[id as usize] = Address {
                shard: dest as u32,
                slot: at,
            };
        }
        // Mail sent this step went to where its task lived then.
        let n = shards.len();
        let mut forward: Vec<(usize, usize, TaskEnvelope<M::Msg>)> = Vec::new();
        for (k, s) in shards.iter_mut().enumerate() {
            for (src, run) in s.in_tasks.iter_mut().enumerate() {
                run.retain(|e| {
                    let home = places[e.to as usize].shard as usize;
                    if home != k {
                        forward.push((home, src, *e));
                    }
                    home == k
                });
            }
        }
        for (home, src, e) in forward {
            debug_assert!(home < n);
            shards[home].in_tasks[src].push(e);
        }
    }

    /// Collects the step's numbers from the shards (in shard order) and folds their per-task
    /// counts into the histograms.
    fn gather(&mut self, wall: Duration) -> StepRow {
        let owned = self.owned();
        let hists = &mut self.histograms;
        let mut row = StepRow::zeroed(self.step, M::COUNTERS.len());
        row.wall_ns = wall.as_nanos() as u64;
        let mut shard_ns = 0;
        for s in self.shards[owned.clone()].iter_mut() {
            row.tasks_run += s.tally.run;
            row.tasks_finished += s.tally.finished;
            row.messages_dropped += s.tally.dropped;
            row.tasks_alive += s.alive();
            row.messages_local += std::mem::take(&mut s.out.local);
            row.messages_cross += std::mem::take(&mut s.out.cross);
            for (total, n) in row.counters.iter_mut().zip(&s.counters) {
                *total += n;
            }
            row.shard_ns_max = row.shard_ns_max.max(s.tally.nanos);
            shard_ns += s.tally.nanos;
            hists
                .shard_time_us
                .saturating_record((s.tally.nanos / 1000).min(TIME_HIGH_US));
            s.sent_per_task.drain_into(&mut hists.messages_per_task);
            s.mailbox_depth.drain_into(&mut hists.mailbox_depth);
        }
        // Shared by ranks: the sum, divided once summed over the ranks (`reduce_step`).
        row.shard_ns_mean = match self.shared {
            Some(_) => shard_ns,
            None => shard_ns / owned.len().max(1) as u64,
        };
        hists
            .step_time_us
            .saturating_record((row.wall_ns / 1000).min(TIME_HIGH_US));
        row
    }

    /// (messages in flight, tasks alive, whether any alive task is due without mail).
    fn outlook(&self) -> (usize, u64, bool) {
        if let Some(shared) = &self.shared {
            return shared.outlook;
        }
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
            parts: self
                .shards
                .iter()
                .zip(&self.cells)
                .map(|(s, cells)| Part {
                    first_task: s.first_task,
                    slots: &s.slots,
                    ids: &s.ids,
                    cells,
                    spots: &s.spots,
                    points: &s.points,
                })
                .collect(),
            tally: self.tally(),
        }
    }

    /// The model's counters so far (totals, last values and peaks), with the tasks alive and
    /// the messages in flight.
    pub fn tally(&self) -> Tally<'_> {
        let (pending, alive, _) = self.outlook();
        self.counts.tally(alive, pending as u64)
    }

    /// Every step's statistics so far (unless turned off with [`Simulation::keep_steps`]).
    pub fn steps(&self) -> &[StepRow] {
        &self.steps
    }

    /// Takes the step rows and the engine's histograms out (for a caller that keeps them once
    /// the run is over).
    pub fn take_statistics(&mut self) -> (Vec<StepRow>, EngineHistograms) {
        (
            std::mem::take(&mut self.steps),
            std::mem::take(&mut self.histograms),
        )
    }

    /// The engine's histograms so far.
    pub fn histograms(&self) -> &EngineHistograms {
        &self.histograms
    }
}
