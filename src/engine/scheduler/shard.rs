//! One shard: the tasks that live on a block of cells, and their mail. (The block's cell state
//! and its part of the board are kept beside the shards, in the [`super::Simulation`], so that
//! every shard reads every shard's while tasks run.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::engine::arena::Partition;
use crate::engine::channel::{Envelope, Outbox, Route, TaskEnvelope, gather, gather_by_key};
use crate::engine::model::Model;
use crate::engine::rng::{SPAWN, TaskRng, priority, step_key, step_keys};
use crate::engine::space::Setup;
use crate::engine::stats::{Repeats, SmallCounts};
use crate::engine::task::{
    Birth, CellCtx, Ctx, DONE, Here, Mail, Next, Slot, Spot, StepEndCtx, TaskId, WAITING, World,
};

use super::{Order, Settings};

mod arrange;

pub(crate) use arrange::Mover;

/// How many cell messages ahead the engine hints the model to prefetch a cell's memory.
const PREFETCH_AHEAD: usize = 64;

/// Models with at most this many counters count on the stack while a shard steps.
const LOCAL_COUNTERS: usize = 16;

/// A shard with a stop flag looks at it every this many cell messages (and before every task).
pub(crate) const STOP_CHECK_CELLS: usize = 1024;

/// Whether `stop` is there and set.
#[inline(always)]
fn stopped(stop: Option<&AtomicBool>) -> bool {
    stop.is_some_and(|s| s.load(Ordering::Relaxed))
}

/// A claim on a cell of a space with a capacity: a move there ([`crate::Ctx::move_to`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Claim {
    pub(crate) cell: u64,
    pub(crate) point: [f64; 2],
    /// The claimant's order key in the step.
    pub(crate) key: u64,
    pub(crate) slot: u32,
}

/// A shard's state. Its fields are touched only by the thread stepping it, and by the
/// scheduler between steps.
pub(crate) struct Shard<M: Model> {
    pub(crate) first_task: TaskId,
    /// The first cell of this shard's block: envelopes name cells as offsets from it.
    first_cell: u64,
    /// How many cells this shard owns.
    cell_count: u64,
    pub(crate) slots: Vec<Slot<M::Task>>,
    /// The id of each slot's task, once tasks have moved ([`crate::Ctx::move_near`]) or been
    /// born, and always in a model with a space; empty while the shard holds its home block
    /// of ids (slot `i` is task `first_task + i`).
    pub(crate) ids: Vec<TaskId>,
    /// In a model with a space: each slot's cell, and (in a continuous space) its point.
    pub(crate) spots: Vec<u64>,
    pub(crate) points: Vec<[f64; 2]>,
    /// In a model with a space: each slot's order key in the step (its id, or its seeded
    /// priority), from the arrangement at the last boundary.
    pub(crate) keys: Vec<u64>,
    /// Moves asked for this step: (slot, destination shard).
    pub(crate) moves: Vec<(u32, u32)>,
    /// Claims on cells of a space with a capacity, this step.
    pub(crate) claims: Vec<Claim>,
    /// A task run's bookkeeping, and the shard's births this step (not yet numbered).
    here: Here,
    /// The arrangement's scratch buffers.
    scratch: arrange::Scratch,
    pub(crate) out: Outbox<M::Msg>,
    /// What each source shard sent here last step, indexed by source shard.
    pub(crate) in_cells: Vec<Vec<Envelope<M::Msg>>>,
    /// What cells of each source shard sent to cells here last step.
    pub(crate) in_from_cells: Vec<Vec<Envelope<M::Msg>>>,
    pub(crate) in_tasks: Vec<Vec<TaskEnvelope<M::Msg>>>,
    /// Cell messages gathered for sorting (seeded order, moved tasks).
    cell_inbox: Vec<Envelope<M::Msg>>,
    /// Messages from cells, gathered and sorted by source cell.
    from_cell_inbox: Vec<Envelope<M::Msg>>,
    mail: Vec<Mail<M::Msg>>,
    /// After grouping, `ends[i]` is where task `i`'s mail ends in `mail`.
    ends: Vec<u32>,
    pub(crate) done: u64,
    pub(crate) next_due: u32,
    /// This step's numbers, read by the scheduler at the boundary.
    pub(crate) tally: StepTally,
    pub(crate) counters: Vec<u64>,
    pub(crate) sent_per_task: SmallCounts,
    pub(crate) mailbox_depth: SmallCounts,
}

/// What a shard's pass over one step reads: the model, the step, the run's settings, the stop
/// flag, how mail is sent to tasks and found in their mailboxes, and (in a model with a space)
/// the board and the cells' views.
pub(crate) struct Pass<'a, M: Model> {
    pub(crate) model: &'a M,
    pub(crate) step: u32,
    pub(crate) settings: &'a Settings,
    pub(crate) stop: Option<&'a AtomicBool>,
    pub(crate) route: Route<'a>,
    pub(crate) deliver: Route<'a>,
    pub(crate) world: Option<&'a World<'a, M::Msg>>,
}

impl<M: Model> Clone for Pass<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Model> Copy for Pass<'_, M> {}

/// One shard's numbers for one step.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StepTally {
    pub(crate) run: u64,
    pub(crate) finished: u64,
    pub(crate) dropped: u64,
    pub(crate) nanos: u64,
    /// The step was left undone because the stop flag was set.
    pub(crate) cut_short: bool,
}

impl<M: Model> Shard<M> {
    /// Shard `index` of `part`, with its home block of tasks spawned (and, in a model with a
    /// space, placed: a task placed on another shard's cell moves there before the first step).
    pub(crate) fn new(model: &M, index: usize, part: Partition, settings: &Settings) -> Self {
        let ids = part.task_range(index, model.tasks());
        let keys = step_keys(settings.seed);
        let mut shard = Self::assemble(model, index, part, Vec::new());
        shard.spawn_block(model, keys, ids, settings);
        shard
    }

    /// Spawns the tasks `ids` into the (empty) slots, placing them in a model with a space.
    fn spawn_block(
        &mut self,
        model: &M,
        keys: u64,
        ids: std::ops::Range<u64>,
        settings: &Settings,
    ) {
        let Some(space) = model.space() else {
            self.slots.extend(ids.map(|id| spawn(model, keys, id).0));
            self.next_due = 0;
            return;
        };
        let setup = Setup::new(settings.seed, Some(space), space.cells().cells());
        for id in ids {
            let (slot, mut rng) = spawn(model, keys, id);
            let place = model.place(id as TaskId, &slot.state, &mut rng, &setup);
            let (cell, point) = space.locate(place);
            self.slots.push(slot);
            self.ids.push(id as TaskId);
            self.spots.push(cell);
            if space.is_continuous() {
                self.points.push(point);
            }
        }
        self.next_due = 0;
    }

    /// Shard `index` of `part` holding `slots` (its block of tasks, in id order, each as it
    /// is), with no mail: a new shard, or one restored from a snapshot. What is due and what
    /// has finished is read from the slots.
    pub(crate) fn assemble(
        model: &M,
        index: usize,
        part: Partition,
        slots: Vec<Slot<M::Task>>,
    ) -> Self {
        let ids = part.task_range(index, model.tasks());
        debug_assert!(slots.is_empty() || ids.end - ids.start == slots.len() as u64);
        let block = part.cell_range(index, super::arena_cells(model));
        let n = part.shards();
        let done = slots.iter().filter(|s| s.wake == DONE).count() as u64;
        let next_due = earliest_due(&slots);
        Shard {
            first_task: ids.start as TaskId,
            first_cell: block.start,
            cell_count: block.end - block.start,
            slots,
            ids: Vec::new(),
            spots: Vec::new(),
            points: Vec::new(),
            keys: Vec::new(),
            moves: Vec::new(),
            claims: Vec::new(),
            here: Here::new::<M::Task>(),
            scratch: arrange::Scratch::default(),
            out: Outbox::new(index, part),
            in_cells: (0..n).map(|_| Vec::new()).collect(),
            in_from_cells: (0..n).map(|_| Vec::new()).collect(),
            in_tasks: (0..n).map(|_| Vec::new()).collect(),
            cell_inbox: Vec::new(),
            from_cell_inbox: Vec::new(),
            mail: Vec::new(),
            ends: Vec::new(),
            done,
            next_due,
            tally: StepTally::default(),
            counters: vec![0; M::COUNTERS.len()],
            sent_per_task: SmallCounts::default(),
            mailbox_depth: SmallCounts::default(),
        }
    }

    /// Shard `index` of `part` as another rank's: no tasks, no cells (an empty block at its
    /// first cell), no mail. It is never stepped; mail sent to it is sent on to its rank.
    pub(crate) fn stand_in(model: &M, index: usize, part: Partition) -> Self {
        let mut s = Self::assemble(model, index, part, Vec::new());
        s.cell_count = 0;
        s
    }

    /// Makes a stand-in the shard another rank holds: its tasks (`ids`: where they came from,
    /// empty while they are the home block).
    pub(crate) fn fill(
        &mut self,
        model: &M,
        part: Partition,
        slots: Vec<Slot<M::Task>>,
        ids: Vec<TaskId>,
    ) {
        let block = part.cell_range(self.out.me(), super::arena_cells(model));
        self.cell_count = block.end - block.start;
        self.done = slots.iter().filter(|s| s.wake == DONE).count() as u64;
        self.next_due = earliest_due(&slots);
        self.slots = slots;
        self.ids = ids;
    }

    /// The first cell of this shard's block.
    pub(crate) fn first_cell(&self) -> u64 {
        self.first_cell
    }

    /// How many cells this shard's block holds.
    pub(crate) fn cell_count(&self) -> u64 {
        self.cell_count
    }

    /// Makes this shard what [`Shard::new`] would make for `settings` (a new seed), reusing
    /// its memory: the slots and every buffer.
    pub(crate) fn reset(&mut self, model: &M, index: usize, part: Partition, settings: &Settings) {
        let ids = part.task_range(index, model.tasks());
        let keys = step_keys(settings.seed);
        debug_assert_eq!(self.first_task, ids.start as TaskId);
        self.slots.clear();
        self.ids.clear();
        self.spots.clear();
        self.points.clear();
        self.keys.clear();
        self.spawn_block(model, keys, ids, settings);
        self.moves.clear();
        self.claims.clear();
        self.births().clear();
        self.here.deeds.reset();
        self.out.clear();
        self.in_cells.iter_mut().for_each(Vec::clear);
        self.in_from_cells.iter_mut().for_each(Vec::clear);
        self.in_tasks.iter_mut().for_each(Vec::clear);
        self.cell_inbox.clear();
        self.from_cell_inbox.clear();
        self.mail.clear();
        self.ends.clear();
        self.done = 0;
        self.tally = StepTally::default();
        self.counters.iter_mut().for_each(|c| *c = 0);
        self.sent_per_task = SmallCounts::default();
        self.mailbox_depth = SmallCounts::default();
    }

    /// The tasks born here this step, not yet numbered.
    pub(crate) fn births(&mut self) -> &mut Vec<Birth<M::Task>> {
        self.here
            .births
            .downcast_mut()
            .expect("a shard's births are of its model's tasks")
    }

    /// The tasks born here this step, to read.
    pub(crate) fn births_ref(&self) -> &Vec<Birth<M::Task>> {
        self.here
            .births
            .downcast_ref()
            .expect("a shard's births are of its model's tasks")
    }

    /// Whether a task was born here this step.
    pub(crate) fn has_births(&self) -> bool {
        !self.births_ref().is_empty()
    }

    /// Recomputes the earliest wake step among the tasks alive here (after tasks moved out).
    pub(crate) fn recount_due(&mut self) {
        self.next_due = earliest_due(&self.slots);
    }

    /// Takes out the tasks that asked to move this step, highest slot first (a
    /// `swap_remove` then never moves a slot still to be taken out), keeping `places` of the
    /// task swapped into each hole; hands each to `leave` as (destination shard, id, slot).
    pub(crate) fn depart(
        &mut self,
        places: &mut [crate::engine::channel::Address],
        mut leave: impl FnMut(u32, TaskId, Slot<M::Task>),
    ) {
        if self.moves.is_empty() {
            return;
        }
        let mut moves = std::mem::take(&mut self.moves);
        moves.sort_unstable_by_key(|m| std::cmp::Reverse(m.0));
        for &(i, dest) in &moves {
            let i = i as usize;
            let slot = self.slots.swap_remove(i);
            let id = self.ids.swap_remove(i);
            if let Some(&moved) = self.ids.get(i) {
                places[moved as usize].slot = i as u32;
            }
            leave(dest, id, slot);
        }
        moves.clear();
        self.moves = moves;
        self.recount_due();
    }

    /// Takes in a task that moved here (or was born here).
    pub(crate) fn take_in(&mut self, id: TaskId, slot: Slot<M::Task>) -> u32 {
        if slot.wake == DONE {
            self.done += 1;
        }
        self.next_due = self.next_due.min(slot.wake);
        self.slots.push(slot);
        self.ids.push(id);
        (self.slots.len() - 1) as u32
    }

    pub(crate) fn alive(&self) -> u64 {
        self.slots.len() as u64 - self.done
    }

    pub(crate) fn pending(&self) -> usize {
        let cells: usize = self.in_cells.iter().map(Vec::len).sum();
        let from_cells: usize = self.in_from_cells.iter().map(Vec::len).sum();
        let tasks: usize = self.in_tasks.iter().map(Vec::len).sum();
        cells + from_cells + tasks + self.out.pending()
    }

    /// Whether some task will run without being sent mail.
    pub(crate) fn has_due(&self) -> bool {
        self.next_due < WAITING
    }

    /// The first half of this shard's step: groups the mail for its tasks, handles the cell
    /// messages sent here last step (in delivery order), then gives its cells their end-of-step
    /// call. Leaves the rest undone (and says so in `tally.cut_short`) once `stop` is set.
    pub(crate) fn step_cells(&mut self, cells: &mut M::Cells, pass: Pass<'_, M>) {
        let start = Instant::now();
        self.tally = StepTally::default();
        self.counters.iter_mut().for_each(|c| *c = 0);
        self.with_counters(|shard, counters| shard.cells_counting(cells, pass, counters));
        self.tally.nanos = start.elapsed().as_nanos() as u64;
    }

    /// The second half: runs the due tasks (unless the step was cut short).
    pub(crate) fn step_tasks(&mut self, pass: Pass<'_, M>) {
        let start = Instant::now();
        if !self.tally.cut_short && !stopped(pass.stop) {
            self.with_counters(|shard, counters| shard.run_tasks(pass, counters));
        } else {
            self.tally.cut_short = true;
        }
        self.out.count_queued();
        self.tally.nanos += start.elapsed().as_nanos() as u64;
    }

    /// Runs `f` with the model's counters on the stack (where the compiler can keep them in
    /// registers) when there are few: they are bumped once or more per message.
    #[inline(always)]
    fn with_counters(&mut self, f: impl FnOnce(&mut Self, &mut [u64])) {
        let mut counters = std::mem::take(&mut self.counters);
        let mut local = [0u64; LOCAL_COUNTERS];
        match local.get_mut(..counters.len()) {
            Some(local) => {
                local.copy_from_slice(&counters);
                f(self, local);
                counters.copy_from_slice(local);
            }
            None => f(self, &mut counters),
        }
        self.counters = counters;
    }

    /// [`Shard::step_cells`], counting into `counters`.
    #[inline(always)]
    fn cells_counting(&mut self, cells: &mut M::Cells, pass: Pass<'_, M>, counters: &mut [u64]) {
        let (model, step, seed) = (pass.model, pass.step, pass.settings.seed);
        let rank = move |key: u64| priority(seed, step, (key >> 32) as u32);
        let rank: Option<&dyn Fn(u64) -> u64> = match pass.settings.order {
            Order::ById => None,
            Order::Shuffled => Some(&rank),
        };
        // Consume before producing, and hand each consumed incoming buffer to the outgoing
        // side for the same peer: one buffer per shard pair and kind instead of two.
        self.group_mail(rank, pass.deliver);
        recycle(&mut self.in_tasks, &mut self.out.to_tasks);
        gather_by_key(&mut self.in_from_cells, &mut self.from_cell_inbox);
        recycle(&mut self.in_from_cells, &mut self.out.from_cells);
        self.handle_cells(cells, pass, rank, counters);
        recycle(&mut self.in_cells, &mut self.out.to_cells);
        if self.tally.cut_short || stopped(pass.stop) {
            self.tally.cut_short = true;
            return;
        }
        let mut ctx = StepEndCtx {
            out: &mut self.out,
            route: pass.route,
            counters,
            cells: self.first_cell..self.first_cell + self.cell_count,
            step,
            seed,
            sent_cells: 0,
            world: pass.world,
        };
        model.end_step(cells, &mut ctx);
    }

    /// Handles the cell messages sent here last step, in delivery order: those tasks sent,
    /// then those cells sent (by source cell).
    ///
    /// Under [`Order::ById`] the runs from the source shards are already in key order (each
    /// shard holds a contiguous block of task ids, and runs arrive in shard order), so they are
    /// handled where they lie, without a copy. A seeded order needs one gather and sort.
    #[inline(always)]
    fn handle_cells(
        &mut self,
        cells: &mut M::Cells,
        pass: Pass<'_, M>,
        rank: Option<&dyn Fn(u64) -> u64>,
        counters: &mut [u64],
    ) {
        let Pass {
            model,
            step,
            settings,
            stop,
            route,
            world,
            ..
        } = pass;
        let mut ctx = CellCtx {
            out: &mut self.out,
            route,
            counters,
            key: 0,
            first_cell: self.first_cell,
            offset: 0,
            step,
            seed: settings.seed,
            rng: None,
            sent_cells: 0,
            from_cell: false,
            world,
        };
        // Once tasks have moved, a source shard's run is no longer a block of ids: the runs
        // are gathered and sorted by key, as under a seeded order.
        let done = if let Some(rank) = rank {
            gather(&mut self.in_cells, &mut self.cell_inbox, rank);
            let runs = std::slice::from_ref(&self.cell_inbox);
            handle_runs(model, cells, runs, &mut ctx, stop, 0)
        } else if !matches!(route, Route::Home) {
            gather_by_key(&mut self.in_cells, &mut self.cell_inbox);
            let runs = std::slice::from_ref(&self.cell_inbox);
            handle_runs(model, cells, runs, &mut ctx, stop, 0)
        } else {
            debug_assert!(
                self.in_cells.iter().flatten().is_sorted_by_key(|e| e.key),
                "cell messages arrive in key order"
            );
            let done = handle_runs(model, cells, &self.in_cells, &mut ctx, stop, 0);
            self.in_cells.iter_mut().for_each(Vec::clear);
            done
        };
        if !done {
            self.tally.cut_short = true;
            return;
        }
        if !self.from_cell_inbox.is_empty() {
            let runs = std::slice::from_ref(&self.from_cell_inbox);
            self.tally.cut_short = !handle_runs(model, cells, runs, &mut ctx, stop, FROM_CELL_SALT);
        }
    }

    /// Groups the mail sent to this shard's tasks by destination, straight from the runs the
    /// source shards sent (a stable counting sort), into `mail`, with `ends[i]` marking where
    /// task `i`'s mail ends. A task whose mail came from several runs (or was mixed from cell
    /// answers and task messages) has its own few messages sorted by delivery key; no global
    /// merge is needed.
    fn group_mail(&mut self, rank: Option<&dyn Fn(u64) -> u64>, route: Route<'_>) {
        self.mail.clear();
        self.ends.clear();
        let total: usize = self.in_tasks.iter().map(Vec::len).sum();
        let Some(first) = self.in_tasks.iter().find_map(|r| r.first()) else {
            return;
        };
        let filler = Mail::keyed(0, first.msg);
        let base = self.first_task;
        let index = |to: u32| match route {
            Route::Home => (to - base) as usize,
            Route::Places(p) => p[to as usize].slot as usize,
            Route::Deferred => unreachable!("mail is routed before it is grouped"),
        };
        self.ends.resize(self.slots.len(), 0);
        for e in self.in_tasks.iter().flatten() {
            self.ends[index(e.to)] += 1;
        }
        let mut start = 0;
        for end in &mut self.ends {
            (*end, start) = (start, start + *end);
        }
        self.mail.resize(total, filler);
        for run in self.in_tasks.iter_mut() {
            for e in run.iter() {
                let slot = &mut self.ends[index(e.to)];
                self.mail[*slot as usize] = Mail::keyed(e.key, e.msg);
                *slot += 1;
            }
            run.clear();
        }
        let mut lo = 0;
        for &hi in &self.ends {
            let group = &mut self.mail[lo..hi as usize];
            lo = hi as usize;
            if group.len() < 2 {
                continue;
            }
            match rank {
                None if !group.is_sorted_by_key(Mail::key) => group.sort_by_key(Mail::key),
                Some(rank) => group.sort_by_key(|m| (rank(m.key()), m.key())),
                None => {}
            }
        }
    }

    /// Runs the due tasks in slot order (in a model with a space: by cell, then in the step's
    /// order), each with its mail. Once `stop` is set (looked at before every task run), the
    /// rest are left undone and the step is marked cut short.
    #[inline(always)]
    fn run_tasks(&mut self, pass: Pass<'_, M>, counters: &mut [u64]) {
        let has_mail = !self.ends.is_empty();
        if !has_mail && self.next_due > pass.step {
            // No mail, and no task is due before `next_due` (the earliest wake step among the
            // tasks alive, from the last pass): nothing would run, and nothing changes.
            return;
        }
        self.here.deeds.reset();
        let next_due = if pass.world.is_some() {
            self.run_each::<true>(pass, counters)
        } else {
            self.run_each::<false>(pass, counters)
        };
        for &k in &self.here.deeds.killed {
            let slot = &mut self.slots[k as usize];
            if slot.wake != DONE {
                slot.wake = DONE;
                self.tally.finished += 1;
                self.done += 1;
            }
        }
        let step = pass.step;
        self.next_due = if self.has_births() {
            next_due.min(step + 1)
        } else {
            next_due
        };
    }

    /// [`Shard::run_tasks`]' loop, for a model with places (`PLACED`) or without; returns the
    /// earliest wake step of the tasks that did not finish.
    #[inline(always)]
    fn run_each<const PLACED: bool>(&mut self, pass: Pass<'_, M>, counters: &mut [u64]) -> u32 {
        let Pass {
            model,
            step,
            settings,
            stop,
            route,
            world,
            ..
        } = pass;
        let has_mail = !self.ends.is_empty();
        let keys = step_keys(settings.seed);
        let capacity =
            PLACED && world.is_some_and(|w| w.boards.space.capacity_per_cell().is_some());
        let mut lo = 0usize;
        let mut next_due = WAITING;
        let (mut sent, mut depth) = (Repeats::default(), Repeats::default());
        for (i, slot) in self.slots.iter_mut().enumerate() {
            // `ends` is monotone: task i's mail is mail[ends[i-1]..ends[i]].
            let hi = if has_mail { self.ends[i] as usize } else { lo };
            let mail = &self.mail[lo..hi];
            lo = hi;
            if PLACED {
                let here = &mut self.here;
                here.spot = Spot {
                    cell: self.spots[i],
                    point: self.points.get(i).copied().unwrap_or_default(),
                    slot: i as u32,
                    to: None,
                };
                here.key = self.keys[i];
                here.deeds.enter(here.spot.cell);
                if !here.deeds.gone.is_empty() && here.deeds.gone.contains(&(i as u32)) {
                    continue; // killed before its turn
                }
            }
            if slot.wake == DONE {
                self.tally.dropped += mail.len() as u64;
                continue;
            }
            if slot.wake > step && mail.is_empty() {
                next_due = next_due.min(slot.wake);
                continue;
            }
            if stopped(stop) {
                // The tasks from here on did not run: still due.
                self.tally.cut_short = true;
                next_due = next_due.min(step);
                break;
            }
            let me = if self.ids.is_empty() {
                self.first_task + i as TaskId
            } else {
                self.ids[i]
            };
            self.here.born = 0;
            let mut rng = TaskRng::from_key(step_key(keys, me, step));
            let mut ctx = Ctx {
                me,
                step,
                seed: settings.seed,
                rng: &mut rng,
                out: &mut self.out,
                counters: &mut *counters,
                sent: 0,
                route,
                near: None,
                world,
                here: &mut self.here,
            };
            let mut next = model.step(&mut slot.state, mail, &mut ctx);
            let mut runs = 1;
            while next == Next::Continue && runs < settings.quantum {
                next = model.step(&mut slot.state, &[], &mut ctx);
                runs += 1;
            }
            if settings.histograms {
                sent.record(ctx.sent as u64, &mut self.sent_per_task);
                depth.record(mail.len() as u64, &mut self.mailbox_depth);
            }
            let near = ctx.near;
            if !PLACED {
                if let Some(cell) = near {
                    let dest = self.out.cell_shard(cell);
                    if dest != self.out.me() && next != Next::Done {
                        self.moves.push((i as u32, dest as u32));
                    }
                }
            } else if let Some((cell, point)) = self.here.spot.to {
                if capacity {
                    if cell != self.spots[i] {
                        self.claims.push(Claim {
                            cell,
                            point,
                            key: self.here.key,
                            slot: i as u32,
                        });
                    }
                } else {
                    self.spots[i] = cell;
                    if let Some(p) = self.points.get_mut(i) {
                        *p = point;
                    }
                }
            }
            slot.wake = Slot::<M::Task>::wake_after(next, step);
            self.tally.run += 1;
            if slot.wake == DONE {
                self.tally.finished += 1;
                self.done += 1;
                if PLACED {
                    self.here.deeds.gone.push(i as u32);
                }
            } else {
                next_due = next_due.min(slot.wake);
            }
        }
        sent.flush(&mut self.sent_per_task);
        depth.flush(&mut self.mailbox_depth);
        next_due
    }
}

/// Salt of the keys of messages from cells in a cell's random stream, so that they never share
/// a stream with a message from a task.
const FROM_CELL_SALT: u64 = 0xF00D_CE11_0000_0000;

/// The earliest wake step among the tasks of `slots` still alive ([`WAITING`] if none is due).
pub(crate) fn earliest_due<T>(slots: &[Slot<T>]) -> u32 {
    slots
        .iter()
        .filter(|s| s.wake != DONE)
        .map(|s| s.wake)
        .min()
        .unwrap_or(WAITING)
}

/// Task `id`, spawned from its stream of step [`SPAWN`] (`keys`: the replication's
/// [`step_keys`]), due at step 0; and that stream, where spawning left it.
#[inline(always)]
fn spawn<M: Model>(model: &M, keys: u64, id: u64) -> (Slot<M::Task>, TaskRng) {
    let mut rng = TaskRng::from_key(step_key(keys, id as TaskId, SPAWN));
    let state = model.spawn(id as TaskId, &mut rng);
    (Slot { state, wake: 0 }, rng)
}

/// Handles the cell messages of `runs`, one run after another, in order. The model is hinted
/// to prefetch each message's cell [`PREFETCH_AHEAD`] messages before it is handled (the
/// lookahead runs across run boundaries), so that a batch's cache misses overlap. Returns
/// false if `stop` was set (looked at every [`STOP_CHECK_CELLS`] messages) and the rest were
/// left unhandled. Messages from cells (`salt` not 0) come from no task.
#[inline(always)]
fn handle_runs<M: Model>(
    model: &M,
    cells: &mut M::Cells,
    runs: &[Vec<Envelope<M::Msg>>],
    ctx: &mut CellCtx<'_, M::Msg>,
    stop: Option<&AtomicBool>,
    salt: u64,
) -> bool {
    let mut ahead = runs.iter().flatten().skip(PREFETCH_AHEAD);
    let mut handled = 0usize;
    for run in runs {
        for e in run {
            if handled.is_multiple_of(STOP_CHECK_CELLS) && stopped(stop) {
                return false;
            }
            handled += 1;
            if let Some(a) = ahead.next() {
                model.prefetch_cell(cells, a.to as usize);
            }
            ctx.key = e.key ^ salt;
            ctx.offset = e.to;
            ctx.rng = None;
            ctx.sent_cells = 0;
            ctx.from_cell = salt != 0;
            let mail = if salt == 0 {
                Mail::keyed(e.key, e.msg)
            } else {
                Mail::from_cell(e.key, e.msg)
            };
            model.on_cell(cells, mail, ctx);
        }
    }
    true
}

/// Moves each consumed (empty) incoming buffer's capacity to the outgoing buffer for the same
/// peer, dropping the spare. In steady state the spare has no capacity (the peer did the same
/// last step), so nothing is allocated or freed: each shard pair keeps one buffer per kind.
fn recycle<T>(ins: &mut [Vec<T>], outs: &mut [Vec<T>]) {
    for (incoming, outgoing) in ins.iter_mut().zip(outs.iter_mut()) {
        debug_assert!(incoming.is_empty());
        if outgoing.is_empty() && incoming.capacity() > outgoing.capacity() {
            std::mem::swap(incoming, outgoing);
        }
        *incoming = Vec::new();
    }
}
