//! Green tasks: small state machines stepped by the scheduler.
//!
//! A task is plain data (the model's `Task` type, serialisable with serde) plus the engine's
//! 4 bytes of bookkeeping: when it next wants to run (its random stream in a step is derived
//! from its id and the step, [`crate::engine::rng::step_rng`], and never stored). Each step the
//! scheduler hands a runnable task its mailbox and a [`Ctx`] through which it sends messages,
//! draws random numbers and bumps the model's counters; the task answers with a [`Next`].
//!
//! # When a task runs
//! 1. A task runs in a step when it is due (it said [`Next::Continue`], or its
//!    [`Next::Sleep`] has run out) **or** when mail arrived for it this step.
//! 2. Mail is delivered only to a task that runs; a waiting task ([`Next::Wait`]) therefore
//!    wakes exactly when mail arrives, and a sleeping one is woken early by mail.
//! 3. Within one step a task runs at most `quantum` times in a row, while it keeps answering
//!    `Continue`; only the first of those runs sees the mailbox.
//! 4. Mail sent to a finished task is dropped and counted (`messages_dropped`).

use crate::engine::channel::{Outbox, Place};
use crate::engine::quantity::Counter;
use crate::engine::rng::{END_OF_STEP, TaskRng, cell_rng};

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
    /// A delivered message with this delivery key.
    #[inline]
    pub(crate) fn keyed(key: u64, msg: M) -> Self {
        Mail {
            from: (key >> 32) as TaskId,
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

/// What a running task may do: draw random numbers, send messages, count.
pub struct Ctx<'a, M> {
    pub(crate) me: TaskId,
    pub(crate) step: u32,
    /// The replication's seed (for [`Ctx::task_stream`]).
    pub(crate) seed: u64,
    pub(crate) rng: &'a mut TaskRng,
    pub(crate) out: &'a mut Outbox<M>,
    pub(crate) counters: &'a mut [u64],
    pub(crate) sent: u32,
    /// Where tasks live, once some have moved.
    pub(crate) places: Option<&'a [Place]>,
    /// The cell near which the task asked to live ([`Ctx::move_near`]).
    pub(crate) near: Option<u64>,
}

impl<M> Ctx<'_, M> {
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
            .push_task(self.places, to, key(self.me, self.sent | DIRECT), msg);
        self.sent += 1;
    }

    /// Moves this task, after this step, to the shard that owns `cell` (nothing happens if it
    /// lives there already), with its state and random stream: a task that keeps sending to
    /// the cells around it then sends to its own shard, and its messages stay local. Where a
    /// task lives changes no result (delivery order is by key, never by shard); it changes
    /// the split of `messages_local` and `messages_cross` in `steps.csv`, and the work of
    /// exchanging messages. The last call in a step counts.
    #[inline]
    pub fn move_near(&mut self, cell: u64) {
        self.near = Some(cell);
    }

    /// Adds `n` to one of the model's counters.
    #[inline]
    pub fn count(&mut self, counter: Counter, n: u64) {
        self.counters[counter.index()] += n;
    }
}

/// What a cell handler may do: know which cell and step it is, draw from the cell's stream,
/// answer tasks and count.
pub struct CellCtx<'a, M> {
    pub(crate) out: &'a mut Outbox<M>,
    pub(crate) places: Option<&'a [Place]>,
    pub(crate) counters: &'a mut [u64],
    /// The ordering key of the message being handled; answers inherit it.
    pub(crate) key: u64,
    pub(crate) first_cell: u64,
    pub(crate) offset: u32,
    pub(crate) step: u32,
    pub(crate) seed: u64,
    pub(crate) rng: Option<TaskRng>,
}

impl<M> CellCtx<'_, M> {
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
        self.out.push_task(self.places, to, self.key, msg);
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
    pub(crate) places: Option<&'a [Place]>,
    pub(crate) counters: &'a mut [u64],
    pub(crate) cells: std::ops::Range<u64>,
    pub(crate) step: u32,
    pub(crate) seed: u64,
}

impl<M> StepEndCtx<'_, M> {
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
        self.out.push_task(self.places, mail.from, mail.key(), msg);
    }

    /// Adds `n` to one of the model's counters.
    #[inline]
    pub fn count(&mut self, counter: Counter, n: u64) {
        self.counters[counter.index()] += n;
    }
}
