//! Green tasks: small state machines stepped by the scheduler.
//!
//! A task is plain data (the model's `Task` type, serialisable with serde) plus the engine's
//! 4 bytes of bookkeeping: when it next wants to run (its random stream in a step is derived
//! from its id and the step, [`crate::engine::rng::step_rng`], and never stored). Each step the
//! scheduler hands a runnable task its mailbox and a [`Ctx`] through which it sends messages,
//! draws random numbers, bumps the model's counters and, in a model with a space, reads what
//! is around it, moves, gives birth and eats; the task answers with a [`Next`].
//!
//! # When a task runs
//! 1. A task runs in a step when it is due (it said [`Next::Continue`], or its
//!    [`Next::Sleep`] has run out) **or** when mail arrived for it this step.
//! 2. Mail is delivered only to a task that runs; a waiting task ([`Next::Wait`]) therefore
//!    wakes exactly when mail arrives, and a sleeping one is woken early by mail.
//! 3. Within one step a task runs at most `quantum` times in a row, while it keeps answering
//!    `Continue`; only the first of those runs sees the mailbox.
//! 4. Mail sent to a finished task is dropped and counted (`messages_dropped`).
//!
//! # Births and deaths
//! 5. A task born in a step ([`Ctx::spawn`]) runs from the next step. Births are numbered at
//!    the step's end in the order of (parent id, the parent's count of births in the step), so
//!    ids do not depend on shards or threads; ids are never given twice.
//! 6. In a model with a space, a task that finishes ([`Next::Done`]) or is killed
//!    ([`Ctx::kill`]) leaves at the step's end and its storage is reused; without a space a
//!    finished task keeps its final state for the report.
//!
//! # Places (a model with a [`crate::Space`])
//! 7. A task's place changes at the step's end ([`Ctx::move_to`]); during the step it reads,
//!    and is seen, where it was. In a space with a capacity a move or birth into a cell is a
//!    claim: the cell's free room (at the step's start) goes to the claims in the step's order
//!    (by id, or by the seeded priority under [`crate::Order::Shuffled`]); the rest stay put.
//! 8. The tasks at one cell run one after another, by turn ([`crate::Model::turn`]) and then
//!    in the step's order: what one of them does to another there ([`Ctx::kill`],
//!    [`Ctx::claim_here`]) is settled at once, first come first served, the same at any shard
//!    count.

use std::any::Any;

use crate::engine::board::{Boards, Near, Neighbour, Within};
use crate::engine::channel::{Outbox, Route, cell_key};
use crate::engine::quantity::Counter;
use crate::engine::rng::{END_OF_STEP, TaskRng, cell_rng};
use crate::engine::space::{Hood, Place, Space};

/// A task's id: its index in the model's task list, `0..tasks`.
pub type TaskId = u32;

/// What a task wants after it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run again next step (or again in this step, if the quantum allows).
    Continue,
    /// Run again after this many further steps (`Sleep(0)` is `Continue`), or earlier on mail.
    Sleep(u32),
    /// Run again when mail arrives.
    Wait,
    /// Never run again.
    Done,
}

/// A delivered message: who sent it, and what. Serde, so that a model may keep mail in its
/// cells from one step to the next and still be snapshotted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail<M> {
    /// The task that sent it, or, for a cell's answer, the task whose message the cell answered.
    pub from: TaskId,
    /// The payload.
    pub msg: M,
    /// The sender's sequence number: with `from`, the delivery key.
    pub(crate) seq: u32,
}

impl<M> Mail<M> {
    /// The `from` of a message a cell sent to a cell ([`CellCtx::send_to_cell`]): no task sent
    /// it.
    pub const FROM_CELL: TaskId = TaskId::MAX;

    /// A delivered message with this delivery key.
    #[inline]
    pub(crate) fn keyed(key: u64, msg: M) -> Self {
        Mail {
            from: (key >> 32) as TaskId,
            msg,
            seq: key as u32,
        }
    }

    /// A message a cell sent, with this delivery key (a cell's key, see
    /// [`crate::engine::channel`]).
    #[inline]
    pub(crate) fn from_cell(key: u64, msg: M) -> Self {
        Mail {
            from: Self::FROM_CELL,
            msg,
            seq: key as u32,
        }
    }

    /// The delivery key: `(from, seq)`.
    #[inline]
    pub(crate) fn key(&self) -> u64 {
        key(self.from, self.seq)
    }
}

/// The engine's bookkeeping for one task, stored beside the model's state.
#[derive(Clone, Debug)]
pub(crate) struct Slot<T> {
    pub(crate) state: T,
    /// The step at which the task is next due; [`WAITING`] or [`DONE`] otherwise.
    pub(crate) wake: u32,
}

/// `Slot::wake` of a task waiting for mail.
pub(crate) const WAITING: u32 = u32::MAX - 1;
/// `Slot::wake` of a finished task.
pub(crate) const DONE: u32 = u32::MAX;

impl<T> Slot<T> {
    /// The wake step after `next`, decided while running at `step`.
    #[inline]
    pub(crate) fn wake_after(next: Next, step: u32) -> u32 {
        match next {
            Next::Continue => step + 1,
            Next::Sleep(n) => step.saturating_add(1).saturating_add(n).min(WAITING - 1),
            Next::Wait => WAITING,
            Next::Done => DONE,
        }
    }
}

/// The ordering key of the `seq`-th message `from` sent in a step. Delivery is in key order.
#[inline]
pub(crate) const fn key(from: TaskId, seq: u32) -> u64 {
    ((from as u64) << 32) | seq as u64
}

/// The sequence bit that marks a direct task-to-task message.
///
/// A mailbox can hold, in one step, a cell's answer and a direct message with the same sender
/// and the same sequence number: the answer inherits the key of a message sent a step before
/// the direct one, and sequence numbers restart every step. Without this bit the two keys tie
/// and their order falls back to the order of the source shards, which depends on the
/// partition. With it, keys in a mailbox are distinct (except several answers to one message,
/// which keep their emission order), and the older one, the answer, comes first.
pub(crate) const DIRECT: u32 = 1 << 31;

/// What the tasks and cells of a step read of places: the board, the cells' views and the
/// space. Shared by every shard during a step; nothing writes it then.
pub(crate) struct World<'a, M> {
    pub(crate) boards: Boards<'a, M>,
    /// What a task sees of a cell ([`crate::Model::view`]), where it is readable (the task
    /// phase).
    pub(crate) view: Option<&'a (dyn Fn(u64) -> Option<M> + Sync + 'a)>,
}

impl<M> World<'_, M> {
    fn space(&self) -> &Space {
        self.boards.space
    }
}

/// A task born in a step, until it is numbered at the step's end.
pub(crate) struct Birth<T> {
    pub(crate) parent: TaskId,
    /// The parent's count of births before this one in the step.
    pub(crate) k: u32,
    pub(crate) state: T,
    pub(crate) cell: u64,
    pub(crate) point: [f64; 2],
    /// The parent's shard (where a child without a place lives).
    pub(crate) shard: u32,
    /// The parent's order key in the step (what settles a claim on a full cell).
    pub(crate) key: u64,
}

/// What the tasks of one shard did to one another during a step (see rule 8).
#[derive(Debug, Default)]
pub(crate) struct Deeds {
    /// Slots killed in the step.
    pub(crate) killed: Vec<u32>,
    /// The cell whose tasks are running, and its slots that finished or were killed so far.
    pub(crate) cell: u64,
    pub(crate) gone: Vec<u32>,
    /// Whether a task of the cell claimed it ([`Ctx::claim_here`]).
    pub(crate) claimed: bool,
}

impl Deeds {
    /// A new cell's tasks start running.
    #[inline]
    pub(crate) fn enter(&mut self, cell: u64) {
        if cell != self.cell {
            self.cell = cell;
            self.gone.clear();
            self.claimed = false;
        }
    }

    /// Clears the step's records.
    pub(crate) fn reset(&mut self) {
        self.killed.clear();
        self.gone.clear();
        self.cell = u64::MAX;
        self.claimed = false;
    }
}

/// A task's place while it runs: where it is (as the board has it) and where it asked to go.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Spot {
    pub(crate) cell: u64,
    pub(crate) point: [f64; 2],
    /// Its slot in its shard (its entry on the board).
    pub(crate) slot: u32,
    /// Where it asked to be at the step's end.
    pub(crate) to: Option<(u64, [f64; 2])>,
}

/// What a running task may do: draw random numbers, send messages, count; in a model with a
/// space, read what is around it, move, give birth, kill and claim (see the module docs).
pub struct Ctx<'a, M> {
    pub(crate) me: TaskId,
    pub(crate) step: u32,
    /// The replication's seed (for [`Ctx::task_stream`]).
    pub(crate) seed: u64,
    pub(crate) rng: &'a mut TaskRng,
    pub(crate) out: &'a mut Outbox<M>,
    pub(crate) counters: &'a mut [u64],
    pub(crate) sent: u32,
    /// How mail finds tasks.
    pub(crate) route: Route<'a>,
    /// The cell near which the task asked to live ([`Ctx::move_near`]).
    pub(crate) near: Option<u64>,
    /// Places: `None` in a model without a space.
    pub(crate) world: Option<&'a World<'a, M>>,
    pub(crate) spot: Spot,
    pub(crate) deeds: &'a mut Deeds,
    /// The shard's births of the step: a `Vec<Birth<Task>>`.
    pub(crate) births: &'a mut dyn Any,
    pub(crate) born: u32,
    /// The task's order key in the step.
    pub(crate) key: u64,
}

impl<'a, M> Ctx<'a, M> {
    /// This task's id.
    #[inline]
    pub fn id(&self) -> TaskId {
        self.me
    }

    /// The current step, counted from 0.
    #[inline]
    pub fn step(&self) -> u32 {
        self.step
    }

    /// This task's random stream in this step (see [`crate::engine::rng`]): fresh every step,
    /// a pure function of (replication, task, step), and continued across the task's runs
    /// within one step.
    #[inline]
    pub fn rng(&mut self) -> &mut TaskRng {
        self.rng
    }

    /// This task's stream for the whole replication, at position 0: `task_rng(replication
    /// seed, id)`, never the same as a step's stream. For a model whose draws must not depend
    /// on how its work is cut into steps (π throws the same points whatever
    /// `points_per_step`): it keeps how far it has drawn in the task's state and
    /// [`TaskRng::skip`]s there.
    #[inline]
    pub fn task_stream(&self) -> TaskRng {
        crate::engine::rng::task_rng(self.seed, self.me as u64)
    }

    /// Sends `msg` to the owner of `cell`; it is handled at the start of the next step.
    #[inline]
    pub fn send_to_cell(&mut self, cell: u64, msg: M) {
        self.out.push_cell(cell, key(self.me, self.sent), msg);
        self.sent += 1;
    }

    /// Sends `msg` to task `to`; it is in that task's mailbox next step.
    #[inline]
    pub fn send_to_task(&mut self, to: TaskId, msg: M) {
        debug_assert!(self.sent < DIRECT, "2³¹ messages from one task in one step");
        self.out
            .push_task(self.route, to, key(self.me, self.sent | DIRECT), msg);
        self.sent += 1;
    }

    /// Moves this task, after this step, to the shard that owns `cell` (nothing happens if it
    /// lives there already), with its state and random stream: a task that keeps sending to
    /// the cells around it then sends to its own shard, and its messages stay local. Where a
    /// task lives changes no result (delivery order is by key, never by shard); it changes
    /// the split of `messages_local` and `messages_cross` in `steps.csv`, and the work of
    /// exchanging messages. The last call in a step counts. In a model with a space a task
    /// lives where its place is, and this does nothing.
    #[inline]
    pub fn move_near(&mut self, cell: u64) {
        self.near = Some(cell);
    }

    /// Adds `n` to one of the model's counters.
    #[inline]
    pub fn count(&mut self, counter: Counter, n: u64) {
        self.counters[counter.index()] += n;
    }

    /// The world of a model with a space.
    #[inline]
    #[track_caller]
    fn world(&self) -> &'a World<'a, M> {
        self.world
            .expect("this needs a model with a space (`Model::space`)")
    }

    /// The model's space.
    ///
    /// # Panics
    /// In a model without a space ([`crate::Model::space`]), as every method about places.
    #[inline]
    #[track_caller]
    pub fn space(&self) -> &'a Space {
        self.world().boards.space
    }

    /// This task's cell (its bucket, in a continuous space), where it was at the step's start.
    #[inline]
    #[track_caller]
    pub fn cell(&self) -> u64 {
        self.world();
        self.spot.cell
    }

    /// This task's point in a continuous space, where it was at the step's start (on a grid:
    /// `[0, 0]`).
    #[inline]
    #[track_caller]
    pub fn pos(&self) -> [f64; 2] {
        self.world();
        self.spot.point
    }

    /// The tasks in the cells of `hood` around `cell` as they were at the step's start, this
    /// task included if it is there: what each showed ([`crate::Model::publish`]), in the
    /// neighbourhood's fixed order (see [`crate::Space`]).
    #[inline]
    #[track_caller]
    pub fn near(&self, cell: u64, hood: Hood) -> Near<'a, M> {
        self.world().boards.near(cell, hood)
    }

    /// The other tasks in the cells of `hood` around this task's cell: [`Ctx::near`] without
    /// this task.
    #[inline]
    #[track_caller]
    pub fn neighbours(&self, hood: Hood) -> impl Iterator<Item = Neighbour<'a, M>> + use<'a, M> {
        let me = self.me;
        self.near(self.spot.cell, hood).filter(move |n| n.id != me)
    }

    /// In a continuous space, the other tasks within `radius` of this task's point, with their
    /// displacement from it (the shortest, on a periodic space).
    #[inline]
    #[track_caller]
    pub fn within(&self, radius: f64) -> Within<'a, M> {
        Within::new(self.world().boards, self.spot.point, radius, Some(self.me))
    }

    /// In a continuous space, every task within `radius` of `point`.
    #[inline]
    #[track_caller]
    pub fn within_of(&self, point: [f64; 2], radius: f64) -> Within<'a, M> {
        Within::new(self.world().boards, point, radius, None)
    }

    /// How many tasks were at `cell` at the step's start.
    #[inline]
    #[track_caller]
    pub fn occupants(&self, cell: u64) -> u32 {
        self.world().boards.occupants(cell)
    }

    /// What this task sees of `cell` ([`crate::Model::view`]): its state as the step's cell
    /// messages left it (cells do not change while tasks run).
    #[inline]
    #[track_caller]
    pub fn look(&self, cell: u64) -> Option<M> {
        let view = self.world().view.expect("cells are read while tasks run");
        view(cell)
    }

    /// Moves this task to `cell` at the step's end (the last call in a step counts). In a space
    /// with a capacity the move is a claim, settled as the module docs say (rule 7).
    #[inline]
    #[track_caller]
    pub fn move_to(&mut self, cell: u64) {
        let place = self.space().locate(Place::Cell(cell));
        self.spot.to = Some(place);
    }

    /// Moves this task to `point` at the step's end, wrapped (periodic) or stopped at the edge.
    #[inline]
    #[track_caller]
    pub fn move_to_pos(&mut self, point: [f64; 2]) {
        let space = self.space();
        let place = if space.is_continuous() {
            let p = space.wrap(point);
            (space.cell_of(p), p)
        } else {
            space.locate(Place::Point(point))
        };
        self.spot.to = Some(place);
    }

    /// Moves this task by `delta` from where it is (or from where it already asked to go this
    /// step) at the step's end.
    #[inline]
    #[track_caller]
    pub fn move_by(&mut self, delta: [f64; 2]) {
        let from = self.spot.to.map_or(self.spot.point, |t| t.1);
        self.move_to_pos([from[0] + delta[0], from[1] + delta[1]]);
    }

    /// Gives birth to a task in state `child`, at this task's place (where it was at the step's
    /// start); it runs from the next step, with an id given at the step's end (rule 5).
    ///
    /// # Panics
    /// If `child` is not of the model's task type (`Model::Task`).
    #[inline]
    #[track_caller]
    pub fn spawn<T: 'static>(&mut self, child: T) {
        let (cell, point) = (self.spot.cell, self.spot.point);
        self.born_at(child, cell, point);
    }

    /// Gives birth to a task in state `child` at `place` (see [`Ctx::spawn`]).
    #[inline]
    #[track_caller]
    pub fn spawn_at<T: 'static>(&mut self, child: T, place: Place) {
        let (cell, point) = self.space().locate(place);
        self.born_at(child, cell, point);
    }

    #[track_caller]
    fn born_at<T: 'static>(&mut self, state: T, cell: u64, point: [f64; 2]) {
        let Some(births) = self.births.downcast_mut::<Vec<Birth<T>>>() else {
            panic!(
                "`Ctx::spawn` takes the model's task type (`Model::Task`), not `{}`",
                std::any::type_name::<T>()
            );
        };
        births.push(Birth {
            parent: self.me,
            k: self.born,
            state,
            cell,
            point,
            shard: self.out.me() as u32,
            key: self.key,
        });
        self.born += 1;
    }

    /// Ends task `id`, which was at this task's cell at the step's start: it does not run
    /// again (if it has not run yet this step, it does not run at all) and leaves at the step's
    /// end. Returns whether it was there and still alive: of several tasks killing one, the
    /// first in the step's order succeeds (rule 8).
    #[track_caller]
    pub fn kill(&mut self, id: TaskId) -> bool {
        let (board, range) = self.world().boards.at(self.spot.cell);
        let Some(k) = range.clone().find(|&k| board.entries[k].id == id) else {
            return false;
        };
        let k = k as u32;
        if k == self.spot.slot || self.deeds.gone.contains(&k) {
            return false;
        }
        self.deeds.gone.push(k);
        self.deeds.killed.push(k);
        true
    }

    /// Whether this task is the first at its cell to claim the cell this step: the tasks at a
    /// cell run one after another in the step's order, and the first to ask gets `true` (what
    /// a sheep eating the grass it stands on asks).
    #[inline]
    pub fn claim_here(&mut self) -> bool {
        !std::mem::replace(&mut self.deeds.claimed, true)
    }
}

/// What a cell handler may do: know which cell and step it is, draw from the cell's stream,
/// answer tasks and count.
pub struct CellCtx<'a, M> {
    pub(crate) out: &'a mut Outbox<M>,
    pub(crate) route: Route<'a>,
    pub(crate) counters: &'a mut [u64],
    /// The ordering key of the message being handled; answers inherit it.
    pub(crate) key: u64,
    pub(crate) first_cell: u64,
    pub(crate) offset: u32,
    pub(crate) step: u32,
    pub(crate) seed: u64,
    pub(crate) rng: Option<TaskRng>,
    /// Messages sent to cells in this call.
    pub(crate) sent_cells: u32,
    /// Whether the message handled came from a cell (its answers then name no task).
    pub(crate) from_cell: bool,
    pub(crate) world: Option<&'a World<'a, M>>,
}

impl<'a, M> CellCtx<'a, M> {
    /// The cell the message was sent to (its id in the whole arena).
    #[inline]
    pub fn cell(&self) -> u64 {
        self.first_cell + self.offset as u64
    }

    /// The cell's offset in this shard's block (the range given to [`crate::Model::cells`]).
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset as usize
    }

    /// The current step, counted from 0.
    #[inline]
    pub fn step(&self) -> u32 {
        self.step
    }

    /// A random stream for handling this message: a pure function of (replication seed,
    /// step, cell, the message's key), see [`crate::engine::rng::cell_rng`]. It does not
    /// depend on the shard count, and two messages never share a stream.
    #[inline]
    pub fn rng(&mut self) -> &mut TaskRng {
        let (seed, step, cell, key) = (self.seed, self.step, self.cell(), self.key);
        self.rng
            .get_or_insert_with(|| cell_rng(seed, step, cell, key))
    }

    /// Sends `msg` to task `to`; it is in that task's mailbox next step, ordered by the key of
    /// the message being handled.
    #[inline]
    pub fn send_to_task(&mut self, to: TaskId, msg: M) {
        let key = if self.from_cell {
            key(Mail::<M>::FROM_CELL, self.key as u32)
        } else {
            self.key
        };
        self.out.push_task(self.route, to, key, msg);
    }

    /// Sends `msg` to `cell` (any cell, this one included): it is handled at the start of the
    /// next step, after the messages tasks sent, with `from` [`Mail::FROM_CELL`]. Messages from
    /// cells are handled in the order of their source cell, then of sending (what a cellular
    /// automaton spreading to its neighbours uses).
    #[inline]
    pub fn send_to_cell(&mut self, cell: u64, msg: M) {
        let key = cell_key(self.cell(), self.sent_cells);
        self.out.push_from_cell(cell, key, msg);
        self.sent_cells += 1;
    }

    /// In a model with a space, the tasks in the cells of `hood` around `cell` as they were at
    /// the step's start (see [`Ctx::near`]).
    #[track_caller]
    pub fn near(&self, cell: u64, hood: Hood) -> Near<'a, M> {
        let world = self
            .world
            .expect("this needs a model with a space (`Model::space`)");
        world.boards.near(cell, hood)
    }

    /// The model's space, if it has one.
    pub fn space(&self) -> Option<&'a Space> {
        self.world.map(World::space)
    }

    /// Adds `n` to one of the model's counters.
    #[inline]
    pub fn count(&mut self, counter: Counter, n: u64) {
        self.counters[counter.index()] += n;
    }
}

/// What a shard's cells may do at the end of a step ([`crate::Model::end_step`]): answer the
/// messages they kept, draw from a cell's stream, count.
pub struct StepEndCtx<'a, M> {
    pub(crate) out: &'a mut Outbox<M>,
    pub(crate) route: Route<'a>,
    pub(crate) counters: &'a mut [u64],
    pub(crate) cells: std::ops::Range<u64>,
    pub(crate) step: u32,
    pub(crate) seed: u64,
    /// Messages sent to cells in this call.
    pub(crate) sent_cells: u32,
    pub(crate) world: Option<&'a World<'a, M>>,
}

impl<'a, M> StepEndCtx<'a, M> {
    /// The cells this shard owns (offset `i` is cell `cells().start + i`).
    pub fn cells(&self) -> std::ops::Range<u64> {
        self.cells.clone()
    }

    /// The current step, counted from 0.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// The end-of-step random stream of the cell at `offset`: a pure function of (replication
    /// seed, step, cell), see [`crate::engine::rng::cell_rng`].
    pub fn rng(&self, offset: usize) -> TaskRng {
        cell_rng(
            self.seed,
            self.step,
            self.cells.start + offset as u64,
            END_OF_STEP,
        )
    }

    /// Answers `mail` (a message this shard's cells received this step) with `msg`: it goes to
    /// `mail.from`, ordered in its mailbox by the key of the message it answers, exactly as an
    /// answer sent from [`crate::Model::on_cell`] would be.
    #[inline]
    pub fn answer(&mut self, mail: &Mail<M>, msg: M) {
        debug_assert!(
            mail.from != Mail::<M>::FROM_CELL,
            "a message from a cell is answered"
        );
        self.out.push_task(self.route, mail.from, mail.key(), msg);
    }

    /// Sends `msg` to `cell`, as the cell at `from` (an offset in this shard's block) would
    /// ([`CellCtx::send_to_cell`]).
    #[inline]
    pub fn send_to_cell(&mut self, from: usize, cell: u64, msg: M) {
        let key = cell_key(self.cells.start + from as u64, self.sent_cells);
        self.out.push_from_cell(cell, key, msg);
        self.sent_cells += 1;
    }

    /// In a model with a space, the tasks in the cells of `hood` around `cell` as they were at
    /// the step's start (see [`Ctx::near`]).
    #[track_caller]
    pub fn near(&self, cell: u64, hood: Hood) -> Near<'a, M> {
        let world = self
            .world
            .expect("this needs a model with a space (`Model::space`)");
        world.boards.near(cell, hood)
    }

    /// In a model with a space, every task on this shard's cells as it was at the step's
    /// start, in cell order: what a model counts its agents by kind with.
    #[track_caller]
    pub fn published(&self) -> Near<'a, M> {
        let world = self
            .world
            .expect("this needs a model with a space (`Model::space`)");
        world.boards.all_of(self.out.me(), self.cells.clone())
    }

    /// Adds `n` to one of the model's counters.
    #[inline]
    pub fn count(&mut self, counter: Counter, n: u64) {
        self.counters[counter.index()] += n;
    }
}
