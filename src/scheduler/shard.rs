//! One shard: a block of cells, the tasks that live there, and their mail.

use std::time::Instant;

use crate::arena::Partition;
use crate::channel::{Envelope, Outbox, gather};
use crate::model::Model;
use crate::rng::{priority, task_rng};
use crate::stats::SmallCounts;
use crate::task::{CellCtx, Ctx, DONE, Mail, Next, Slot, TaskId, WAITING};

use super::{Order, Settings};

/// A shard's state. Its fields are touched only by the thread stepping it, and by the
/// scheduler between steps.
pub struct Shard<M: Model> {
    first_task: TaskId,
    slots: Vec<Slot<M::Task>>,
    pub(crate) cells: M::Cells,
    pub(crate) out: Outbox<M::Msg>,
    /// What each source shard sent here last step, indexed by source shard.
    pub(crate) in_cells: Vec<Vec<Envelope<M::Msg>>>,
    pub(crate) in_tasks: Vec<Vec<Envelope<M::Msg>>>,
    cell_inbox: Vec<Envelope<M::Msg>>,
    task_inbox: Vec<Envelope<M::Msg>>,
    mail: Vec<Mail<M::Msg>>,
    /// After grouping, `ends[i]` is where task `i`'s mail ends in `mail`.
    ends: Vec<u32>,
    done: u64,
    next_due: u32,
    /// This step's numbers, read by the scheduler at the boundary.
    pub(crate) tally: Tally,
    pub(crate) counters: Vec<u64>,
    pub(crate) sent_per_task: SmallCounts,
    pub(crate) mailbox_depth: SmallCounts,
}

/// One shard's numbers for one step.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    pub(crate) run: u64,
    pub(crate) finished: u64,
    pub(crate) dropped: u64,
    pub(crate) nanos: u64,
}

impl<M: Model> Shard<M> {
    pub(crate) fn new(model: &M, index: usize, part: Partition, settings: &Settings) -> Self {
        let ids = part.task_range(index, model.tasks());
        let cells = part.cell_range(index, model.grid().cells());
        let slots = ids
            .clone()
            .map(|id| {
                let mut rng = task_rng(settings.seed, id);
                let state = model.spawn(id as TaskId, &mut rng);
                Slot {
                    state,
                    rng,
                    wake: 0,
                }
            })
            .collect();
        let n = part.shards();
        Shard {
            first_task: ids.start as TaskId,
            slots,
            cells: model.cells(cells, n),
            out: Outbox::new(index, part),
            in_cells: (0..n).map(|_| Vec::new()).collect(),
            in_tasks: (0..n).map(|_| Vec::new()).collect(),
            cell_inbox: Vec::new(),
            task_inbox: Vec::new(),
            mail: Vec::new(),
            ends: Vec::new(),
            done: 0,
            next_due: 0,
            tally: Tally::default(),
            counters: vec![0; M::COUNTERS.len()],
            sent_per_task: SmallCounts::default(),
            mailbox_depth: SmallCounts::default(),
        }
    }

    /// Every task's state with its id, in id order.
    pub fn tasks(&self) -> impl Iterator<Item = (TaskId, &M::Task)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| (self.first_task + i as TaskId, &s.state))
    }

    pub(crate) fn alive(&self) -> u64 {
        self.slots.len() as u64 - self.done
    }

    pub(crate) fn pending(&self) -> usize {
        self.in_cells
            .iter()
            .chain(&self.in_tasks)
            .map(Vec::len)
            .sum::<usize>()
            + self.out.pending()
    }

    /// Whether some task will run without being sent mail.
    pub(crate) fn has_due(&self) -> bool {
        self.next_due < WAITING
    }

    /// Runs this shard's part of step `step`.
    pub(crate) fn step(&mut self, model: &M, step: u32, settings: &Settings) {
        let start = Instant::now();
        self.tally = Tally::default();
        self.counters.iter_mut().for_each(|c| *c = 0);
        let seed = settings.seed;
        let rank = move |key: u64| priority(seed, step, (key >> 32) as u32);
        let rank: Option<&dyn Fn(u64) -> u64> = match settings.order {
            Order::ById => None,
            Order::Shuffled => Some(&rank),
        };
        self.handle_cells(model, rank);
        gather(&mut self.in_tasks, &mut self.task_inbox, rank);
        self.group_mail();
        self.run_tasks(model, step, settings);
        self.tally.nanos = start.elapsed().as_nanos() as u64;
    }

    fn handle_cells(&mut self, model: &M, rank: Option<&dyn Fn(u64) -> u64>) {
        gather(&mut self.in_cells, &mut self.cell_inbox, rank);
        let mut ctx = CellCtx {
            out: &mut self.out,
            counters: &mut self.counters,
            key: 0,
        };
        for e in &self.cell_inbox {
            ctx.key = e.key;
            let mail = Mail {
                from: (e.key >> 32) as TaskId,
                msg: e.msg,
            };
            model.on_cell(&mut self.cells, e.to, mail, &mut ctx);
        }
    }

    /// Groups the task inbox by destination (a stable counting sort, so each task's mail stays
    /// in delivery order) into `mail`, with `ends` marking where each task's mail ends.
    fn group_mail(&mut self) {
        self.mail.clear();
        self.ends.clear();
        let Some(first) = self.task_inbox.first() else {
            return;
        };
        let filler = Mail {
            from: 0,
            msg: first.msg,
        };
        self.ends.resize(self.slots.len(), 0);
        for e in &self.task_inbox {
            self.ends[(e.to - self.first_task as u64) as usize] += 1;
        }
        let mut start = 0;
        for end in &mut self.ends {
            let count = *end;
            *end = start;
            start += count;
        }
        self.mail.resize(self.task_inbox.len(), filler);
        for e in &self.task_inbox {
            let slot = &mut self.ends[(e.to - self.first_task as u64) as usize];
            self.mail[*slot as usize] = Mail {
                from: (e.key >> 32) as TaskId,
                msg: e.msg,
            };
            *slot += 1;
        }
    }

    fn run_tasks(&mut self, model: &M, step: u32, settings: &Settings) {
        let has_mail = !self.ends.is_empty();
        let mut lo = 0usize;
        let mut next_due = WAITING;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let hi = if has_mail { self.ends[i] as usize } else { 0 };
            let mail = &self.mail[lo..hi.max(lo)];
            lo = hi.max(lo);
            if slot.wake == DONE {
                self.tally.dropped += mail.len() as u64;
                continue;
            }
            if slot.wake > step && mail.is_empty() {
                next_due = next_due.min(slot.wake);
                continue;
            }
            let mut ctx = Ctx {
                me: self.first_task + i as TaskId,
                step,
                rng: &mut slot.rng,
                out: &mut self.out,
                counters: &mut self.counters,
                sent: 0,
            };
            let mut next = model.step(&mut slot.state, mail, &mut ctx);
            let mut runs = 1;
            while next == Next::Continue && runs < settings.quantum {
                next = model.step(&mut slot.state, &[], &mut ctx);
                runs += 1;
            }
            if settings.histograms {
                self.sent_per_task.record(ctx.sent as u64);
                self.mailbox_depth.record(mail.len() as u64);
            }
            slot.wake = Slot::<M::Task>::wake_after(next, step);
            self.tally.run += 1;
            if slot.wake == DONE {
                self.tally.finished += 1;
                self.done += 1;
            } else {
                next_due = next_due.min(slot.wake);
            }
        }
        self.next_due = next_due;
    }
}
