//! One replication shared by several processes ("ranks": MPI ranks, or threads in tests).
//!
//! The shards are dealt to the ranks in consecutive blocks ([`share`]); a rank holds only its
//! own shards' tasks and cells, and an empty stand-in for every other shard, so shard
//! indices, the partition and the routing of messages stay global. Each step:
//!
//! 1. every rank steps its own shards (on its threads, as one process does);
//! 2. the outboxes are exchanged between the rank's shards as usual; what went to a stand-in
//!    is mail for another rank: it is encoded (the model's [`crate::Codec`]) and sent in one
//!    all-to-all, and each rank puts what it receives into its shards' inboxes under the
//!    *sending* shard's index — where one process would have put it, so the delivery order,
//!    and every result, is the same;
//! 3. tasks that asked to move ([`crate::Ctx::move_near`]) to a shard of another rank travel
//!    with their state and wake step; every rank learns their new places;
//!    arrivals are taken in in the order one process takes them (source shard, then the order
//!    of the moves), and mail already sent to a task that moved is forwarded;
//! 4. the step's numbers are summed over the ranks, so that every rank sees the same step row
//!    and takes the same decision to go on or stop.
//!
//! At the end, [`Simulation::gather_shards`] brings every shard to rank 0, whose simulation is
//! then whole: its report, tasks and cells are those of one process.

use std::io;
use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::snapshot::{Tasks, codec_of, decode_slots};
use super::{Settings, Shard, Simulation, Snapshot, SnapshotError, arena_cells};
use crate::engine::arena::Partition;
use crate::engine::channel::{Address, Envelope, TaskEnvelope};
use crate::engine::codec::{Codec, from_bytes, to_bytes};
use crate::engine::model::Model;
use crate::engine::stats::{StepRow, hist_bytes, hist_from};
use crate::engine::task::TaskId;

/// The processes one replication (or one run) is shared by: rank `rank()` of `size()`.
/// Collective: every rank calls every method, in the same order.
pub trait Peers: Sync {
    /// This process's rank, from 0.
    fn rank(&self) -> usize;
    /// How many ranks there are.
    fn size(&self) -> usize;
    /// Sends `out[r]` to rank `r` (`out` has one buffer per rank, this one's own included)
    /// and returns what every rank sent here, in rank order.
    fn all_to_all(&self, out: Vec<Vec<u8>>) -> io::Result<Vec<Vec<u8>>>;
}

/// Rank `rank`'s share of `first..first + count` among `size` ranks: consecutive, the shares
/// in rank order, their lengths differing by one at most.
pub fn share(first: u64, count: u64, rank: usize, size: usize) -> Range<u64> {
    let at = |r: usize| first + (count as u128 * r as u128 / size.max(1) as u128) as u64;
    at(rank)..at(rank + 1)
}

/// A simulation's place among the ranks sharing it.
pub(crate) struct Shared<'m> {
    peers: &'m dyn Peers,
    /// The shards this rank owns.
    pub(crate) owned: Range<usize>,
    /// The rank owning each shard.
    owner: Vec<usize>,
    /// (messages in flight, tasks alive, whether a task is due) after the last step, over
    /// every rank.
    pub(crate) outlook: (usize, u64, bool),
    /// Messages sent to other ranks so far, and their bytes.
    pub(crate) sent: (u64, u64),
}

impl<'m> Shared<'m> {
    pub(crate) fn new(peers: &'m dyn Peers, shards: usize) -> Self {
        let (rank, size) = (peers.rank(), peers.size());
        let range = |r: usize| {
            let s = share(0, shards as u64, r, size);
            s.start as usize..s.end as usize
        };
        let mut owner = vec![0; shards];
        for r in 0..size {
            owner[range(r)].iter_mut().for_each(|o| *o = r);
        }
        Shared {
            peers,
            owned: range(rank),
            owner,
            outlook: (0, 0, false),
            sent: (0, 0),
        }
    }

    /// Sends every rank the same `bytes`; returns what each rank sent, in rank order.
    fn all_gather(&self, bytes: Vec<u8>) -> io::Result<Vec<Vec<u8>>> {
        self.all_to_all(vec![bytes; self.peers.size()])
    }

    fn all_to_all(&self, out: Vec<Vec<u8>>) -> io::Result<Vec<Vec<u8>>> {
        self.peers.all_to_all(out).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("the ranks could not exchange a step's data: {e}"),
            )
        })
    }
}

/// The error for bytes from another rank that do not read back as `what`.
fn damaged(what: &'static str) -> impl Fn(String) -> io::Error {
    move |e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} from another rank is damaged: {e}"),
        )
    }
}

/// The error for a value that cannot be written for another rank.
fn unwritable(what: &'static str) -> impl Fn(String) -> io::Error {
    move |e| io::Error::other(format!("{what} cannot be written for another rank: {e}"))
}

/// The model's codec, which a shared simulation has (checked when it was made).
fn codec<M: Model>(model: &M) -> io::Result<Codec<M::Msg, M::Cells>> {
    codec_of(model).map_err(|e| io::Error::other(e.to_string()))
}

/// A run of messages from shard `src` to shard `dest`, as columns.
#[derive(Serialize, Deserialize)]
struct MailRun {
    dest: u32,
    src: u32,
    keys: Vec<u64>,
    to: Vec<u32>,
    msgs: Vec<u8>,
}

/// An envelope of either kind, to a cell or to a task: a key, a destination, a message.
trait Addressed<M>: Sized {
    fn parts(&self) -> (u64, u32, M);
    fn from_parts(key: u64, to: u32, msg: M) -> Self;
}

impl<M: Copy> Addressed<M> for Envelope<M> {
    fn parts(&self) -> (u64, u32, M) {
        (self.key, self.to, self.msg)
    }
    fn from_parts(key: u64, to: u32, msg: M) -> Self {
        Envelope { key, to, msg }
    }
}

impl<M: Copy> Addressed<M> for TaskEnvelope<M> {
    fn parts(&self) -> (u64, u32, M) {
        (self.key, self.to, self.msg)
    }
    fn from_parts(key: u64, to: u32, msg: M) -> Self {
        TaskEnvelope { key, to, msg }
    }
}

impl MailRun {
    fn new<M, E: Addressed<M>>(
        dest: usize,
        src: usize,
        envelopes: &[E],
        encode: fn(&[M]) -> Result<Vec<u8>, String>,
    ) -> io::Result<MailRun> {
        let (mut keys, mut to, mut msgs) = (Vec::new(), Vec::new(), Vec::new());
        for (k, t, m) in envelopes.iter().map(E::parts) {
            keys.push(k);
            to.push(t);
            msgs.push(m);
        }
        let msgs = encode(&msgs).map_err(unwritable("a message"))?;
        Ok(MailRun {
            dest: dest as u32,
            src: src as u32,
            keys,
            to,
            msgs,
        })
    }

    fn envelopes<M, E: Addressed<M>>(
        self,
        decode: fn(&[u8]) -> Result<Vec<M>, String>,
    ) -> io::Result<Vec<E>> {
        let msgs = decode(&self.msgs).map_err(damaged("a message"))?;
        if msgs.len() != self.keys.len() || self.to.len() != self.keys.len() {
            return Err(damaged("a run of messages")(format!(
                "{} keys, {} addresses, {} messages",
                self.keys.len(),
                self.to.len(),
                msgs.len()
            )));
        }
        Ok(self
            .keys
            .into_iter()
            .zip(self.to)
            .zip(msgs)
            .map(|((k, t), m)| E::from_parts(k, t, m))
            .collect())
    }
}

/// What one rank sends another after a step.
#[derive(Serialize, Deserialize, Default)]
struct Parcel {
    /// Whether some task of the sender asked to move this step.
    moved: bool,
    cells: Vec<MailRun>,
    tasks: Vec<MailRun>,
}

/// Tasks moving to another rank's shards: (destination shard, id) and their slots.
#[derive(Serialize, Deserialize, Default)]
struct Movers {
    dests: Vec<u32>,
    ids: Vec<TaskId>,
    slots: Vec<u8>,
}

/// One rank's numbers for a step, summed over the ranks.
#[derive(Serialize, Deserialize)]
struct Numbers {
    /// Its step row ([`StepRow::to_words`]).
    words: Vec<u64>,
    pending: u64,
    due: bool,
    cut_short: bool,
}

/// A shard sent to rank 0 (at the end, or for a snapshot).
#[derive(Serialize, Deserialize)]
struct Whole {
    index: u32,
    count: u64,
    slots: Vec<u8>,
    ids: Vec<TaskId>,
    cells: Vec<u8>,
    /// The mail waiting for it, by source shard (for a snapshot only).
    cell_mail: Vec<MailRun>,
    task_mail: Vec<MailRun>,
}

impl<'m, M: Model> Simulation<'m, M> {
    /// Rank `peers.rank()`'s part of the replication `Simulation::new(model, settings)` would
    /// run, shared by `peers.size()` ranks (every rank calls this, and then steps, together):
    /// its own shards (a consecutive block of `settings.shards`) are spawned, the others are
    /// empty stand-ins. Stepped with [`Simulation::run`] or [`Simulation::advance`] on every
    /// rank, it gives every rank the step rows of one process; [`Simulation::gather_shards`]
    /// then makes rank 0's simulation whole. The model must have a [`Model::codec`]: messages
    /// and tasks cross between processes as bytes.
    pub fn new_on(
        model: &'m M,
        settings: Settings,
        peers: &'m dyn Peers,
    ) -> Result<Self, SnapshotError> {
        codec_of(model)?;
        if model.space().is_some() {
            return Err(SnapshotError::Encode(
                "a replication of a model with a space cannot be shared by ranks yet: each \
                 rank runs whole replications"
                    .into(),
            ));
        }
        let part = Self::partition(model, &settings);
        let shared = Shared::new(peers, settings.shards);
        let owned = shared.owned.clone();
        let (shards, cells) = (0..settings.shards)
            .into_par_iter()
            .map(|s| {
                if owned.contains(&s) {
                    let cells = Self::new_cells(model, &settings, part, s);
                    (Shard::new(model, s, part, &settings), cells)
                } else {
                    (
                        Shard::stand_in(model, s, part),
                        stand_in_cells(model, part, s),
                    )
                }
            })
            .unzip();
        let mut sim = Self::with_shards(
            model,
            settings,
            shards,
            cells,
            crate::EngineHistograms::compact(),
        );
        sim.shared = Some(shared);
        Ok(sim)
    }

    /// The shards this process steps: all of them, or its own when shared by ranks.
    pub(crate) fn owned(&self) -> Range<usize> {
        match &self.shared {
            Some(s) => s.owned.clone(),
            None => 0..self.shards.len(),
        }
    }

    /// Messages sent to other ranks so far, and their bytes (zero when not shared).
    pub fn sent_to_ranks(&self) -> (u64, u64) {
        self.shared.as_ref().map_or((0, 0), |s| s.sent)
    }

    /// After the local exchange: sends the mail that went to other ranks' shards, takes in
    /// what they sent here. Returns whether any rank has tasks that move this step.
    pub(crate) fn exchange_between_ranks(&mut self) -> io::Result<bool> {
        let codec = codec(self.model)?;
        let shared = self.shared.as_mut().expect("shared");
        let size = shared.peers.size();
        let owned = shared.owned.clone();
        let moved = self.shards[owned.clone()]
            .iter()
            .any(|s| !s.moves.is_empty());
        let mut parcels: Vec<Parcel> = (0..size).map(|_| Parcel::default()).collect();
        let mut messages = 0u64;
        for (d, &q) in shared.owner.iter().enumerate() {
            if owned.contains(&d) {
                continue;
            }
            for s in owned.clone() {
                let cells = std::mem::take(&mut self.shards[d].in_cells[s]);
                if !cells.is_empty() {
                    messages += cells.len() as u64;
                    parcels[q]
                        .cells
                        .push(MailRun::new(d, s, &cells, codec.msgs_to_bytes)?);
                }
                let tasks = std::mem::take(&mut self.shards[d].in_tasks[s]);
                if !tasks.is_empty() {
                    messages += tasks.len() as u64;
                    parcels[q]
                        .tasks
                        .push(MailRun::new(d, s, &tasks, codec.msgs_to_bytes)?);
                }
            }
        }
        let out: Vec<Vec<u8>> = parcels
            .iter_mut()
            .map(|p| {
                p.moved = moved;
                to_bytes(p).map_err(unwritable("a step's mail"))
            })
            .collect::<io::Result<_>>()?;
        let bytes: u64 = out
            .iter()
            .enumerate()
            .filter(|(r, _)| *r != shared.peers.rank())
            .map(|(_, b)| b.len() as u64)
            .sum();
        shared.sent.0 += messages;
        shared.sent.1 += bytes;
        let mut any_moved = false;
        for bytes in shared.all_to_all(out)? {
            let parcel: Parcel = from_bytes(&bytes).map_err(damaged("a step's mail"))?;
            any_moved |= parcel.moved;
            for run in parcel.cells {
                let (d, s) = self.run_ends(&run, &owned)?;
                self.shards[d].in_cells[s] = run.envelopes(codec.msgs_from_bytes)?;
            }
            for run in parcel.tasks {
                let (d, s) = self.run_ends(&run, &owned)?;
                self.shards[d].in_tasks[s] = run.envelopes(codec.msgs_from_bytes)?;
            }
        }
        Ok(any_moved)
    }

    /// The (destination, source) shards of a run of mail from another rank: a destination this
    /// rank owns and a source among the shards.
    fn run_ends(&self, run: &MailRun, owned: &Range<usize>) -> io::Result<(usize, usize)> {
        let (d, s) = (run.dest as usize, run.src as usize);
        if !owned.contains(&d) || s >= self.shards.len() {
            return Err(damaged("a step's mail")(format!(
                "a run from shard {s} to shard {d}, which this rank does not own"
            )));
        }
        Ok((d, s))
    }

    /// [`Simulation::settle`] across ranks: tasks leave this rank's shards, travel to their
    /// new shards' ranks and are taken in there in the order one process takes them in; every
    /// rank learns their new places; mail sent to them is forwarded.
    pub(crate) fn settle_between_ranks(&mut self) -> io::Result<()> {
        self.start_places();
        let shared = self.shared.as_ref().expect("shared");
        let (owned, owner, size) = (
            shared.owned.clone(),
            shared.owner.clone(),
            shared.peers.size(),
        );
        let places = self
            .places
            .as_mut()
            .expect("places are kept once a task moved");
        // Departures, in shard order and, within a shard, highest slot first (as `settle`):
        // per destination rank, (destination shard, id) and the slots.
        type Leaving<T> = (Vec<u32>, Vec<TaskId>, Vec<crate::engine::task::Slot<T>>);
        let mut leaving: Vec<Leaving<M::Task>> = (0..size)
            .map(|_| (Vec::new(), Vec::new(), Vec::new()))
            .collect();
        for k in owned.clone() {
            self.shards[k].depart(places, |dest, id, slot| {
                let to = &mut leaving[owner[dest as usize]];
                to.0.push(dest);
                to.1.push(id);
                to.2.push(slot);
            });
        }
        let out: Vec<Vec<u8>> = leaving
            .into_iter()
            .map(|(dests, ids, slots)| {
                let slots = Tasks::Block(&slots)
                    .encode()
                    .map_err(|e| unwritable("a moving task")(e.to_string()))?;
                let movers = Movers { dests, ids, slots };
                to_bytes(&movers).map_err(unwritable("the moving tasks"))
            })
            .collect::<io::Result<_>>()?;
        let got = shared.all_to_all(out)?;
        // Arrivals, in rank order: the order of their source shards.
        let mut arrived: Vec<(TaskId, Address)> = Vec::new();
        for bytes in got {
            let m: Movers = from_bytes(&bytes).map_err(damaged("the moving tasks"))?;
            let slots = decode_slots::<M::Task>(&m.slots, m.ids.len() as u64)
                .map_err(|e| damaged("a moving task")(e.to_string()))?;
            let fits = |&d: &u32| owned.contains(&(d as usize));
            if m.dests.len() != m.ids.len() || !m.dests.iter().all(fits) {
                return Err(damaged("the moving tasks")(
                    "destinations do not match the tasks or this rank's shards".into(),
                ));
            }
            for ((dest, id), slot) in m.dests.into_iter().zip(m.ids).zip(slots) {
                let at = self.shards[dest as usize].take_in(id, slot);
                arrived.push((
                    id,
                    Address {
                        shard: dest,
                        slot: at,
                    },
                ));
            }
        }
        // Every rank learns where every task that moved lives now.
        let news = to_bytes(&arrived).map_err(unwritable("the new places"))?;
        for bytes in shared.all_gather(news)? {
            let list: Vec<(TaskId, Address)> =
                from_bytes(&bytes).map_err(damaged("the new places"))?;
            for (id, p) in list {
                let place = places.get_mut(id as usize).ok_or_else(|| {
                    damaged("the new places")(format!("task {id} does not exist"))
                })?;
                *place = p;
            }
        }
        // Mail sent this step went to where its task lived then: forward it.
        let codec = codec(self.model)?;
        let mut forward: Vec<Vec<MailRun>> = (0..size).map(|_| Vec::new()).collect();
        for k in owned.clone() {
            let n = self.shards[k].in_tasks.len();
            for src in 0..n {
                let run = &mut self.shards[k].in_tasks[src];
                if run
                    .iter()
                    .all(|e| places[e.to as usize].shard as usize == k)
                {
                    continue;
                }
                let mut by_home: std::collections::BTreeMap<usize, Vec<TaskEnvelope<M::Msg>>> =
                    Default::default();
                run.retain(|e| {
                    let home = places[e.to as usize].shard as usize;
                    if home != k {
                        by_home.entry(home).or_default().push(*e);
                    }
                    home == k
                });
                for (home, list) in by_home {
                    forward[owner[home]].push(MailRun::new(home, src, &list, codec.msgs_to_bytes)?);
                }
            }
        }
        let out = forward
            .iter()
            .map(|runs| to_bytes(runs).map_err(unwritable("forwarded mail")))
            .collect::<io::Result<_>>()?;
        for bytes in shared.all_to_all(out)? {
            let runs: Vec<MailRun> = from_bytes(&bytes).map_err(damaged("forwarded mail"))?;
            for run in runs {
                let (home, src) = self.run_ends(&run, &owned)?;
                let mail = run.envelopes::<_, TaskEnvelope<_>>(codec.msgs_from_bytes)?;
                self.shards[home].in_tasks[src].extend(mail);
            }
        }
        Ok(())
    }

    /// Sums this rank's step row and outlook with every other rank's, so that every rank
    /// holds the step row of one process; returns whether the step was cut short anywhere.
    pub(crate) fn reduce_step(&mut self, row: &mut StepRow) -> io::Result<bool> {
        let owned = self.owned();
        let pending: usize = self.shards.iter().map(Shard::pending).sum();
        let due = self.shards[owned].iter().any(Shard::has_due);
        // The row as words (its mean shard time is still this rank's sum: see `gather`).
        let mut words = Vec::new();
        row.to_words(&mut words);
        let mine = Numbers {
            words,
            pending: pending as u64,
            due,
            cut_short: self.cut_short,
        };
        let shared = self.shared.as_mut().expect("shared");
        let all = shared.all_gather(to_bytes(&mine).map_err(unwritable("a step's numbers"))?)?;
        let mut total = Numbers {
            words: vec![0; mine.words.len()],
            pending: 0,
            due: false,
            cut_short: false,
        };
        for bytes in all {
            let n: Numbers = from_bytes(&bytes).map_err(damaged("a step's numbers"))?;
            if n.words.len() != total.words.len() {
                return Err(damaged("a step's numbers")(format!(
                    "{} words where this rank has {}",
                    n.words.len(),
                    total.words.len()
                )));
            }
            // Every number adds up over the ranks but the step (the same on every rank) and
            // the slowest shard's time (the slowest of all).
            for (i, (t, v)) in total.words.iter_mut().zip(&n.words).enumerate() {
                *t = match i {
                    StepRow::STEP_WORD => *v,
                    StepRow::SHARD_NS_MAX_WORD => (*t).max(*v),
                    _ => t.wrapping_add(*v),
                };
            }
            total.pending += n.pending;
            total.due |= n.due;
            total.cut_short |= n.cut_short;
        }
        row.read_words(&total.words, row.counters.len());
        row.shard_ns_mean /= self.shards.len().max(1) as u64;
        shared.outlook = (total.pending as usize, row.tasks_alive, total.due);
        Ok(total.cut_short)
    }

    /// At the end of a shared run (every rank calls it): every rank sends its shards and its
    /// histograms to rank 0, whose simulation is then whole (its report, tasks and cells are
    /// one process's); the others keep nothing. Not shared: nothing to do.
    pub fn gather_shards(&mut self) -> Result<(), SnapshotError> {
        if self.shared.is_none() {
            return Ok(());
        }
        let theirs = self.collect(false)?;
        for hists in theirs {
            // Rank 0's step times stand for the run's.
            for ((name, acc), bytes) in self.histograms.named_mut().into_iter().zip(&hists) {
                if name != "step_time_us" {
                    add_hist(acc, bytes)?;
                }
            }
        }
        Ok(())
    }

    /// [`Simulation::snapshot`] of a shared simulation (every rank calls it, at the same
    /// step): the ranks send rank 0 a copy of their shards, with the mail waiting for them, and
    /// their histograms; rank 0 snapshots the whole and empties the other ranks' shards again.
    /// Rank 0 gets the snapshot, the others `None`. Not shared: the snapshot.
    pub fn snapshot_shared(&mut self) -> Result<Option<Snapshot>, SnapshotError> {
        if self.shared.is_none() {
            return self.snapshot().map(Some);
        }
        let theirs = self.collect(true)?;
        let shared = self.shared.take().expect("shared");
        let snapshot = if shared.peers.rank() == 0 {
            let mut whole = self.histograms.clone();
            for hists in &theirs {
                for ((_, acc), bytes) in whole.named_mut().into_iter().zip(hists) {
                    add_hist(acc, bytes)?;
                }
            }
            let own = std::mem::replace(&mut self.histograms, whole);
            let snapshot = self.snapshot();
            self.histograms = own;
            let part = Self::partition(self.model, &self.settings);
            for k in (0..self.shards.len()).filter(|k| !shared.owned.contains(k)) {
                self.shards[k] = Shard::stand_in(self.model, k, part);
                self.cells[k] = stand_in_cells(self.model, part, k);
            }
            Some(snapshot?)
        } else {
            None
        };
        self.shared = Some(shared);
        Ok(snapshot)
    }

    /// The simulation `snapshot` holds ([`Simulation::restore`]), as rank `peers.rank()` of
    /// `peers.size()` sharing it (every rank calls this): each rank restores it and keeps only
    /// its own shards; the histograms so far stay with rank 0.
    pub fn restore_on(
        model: &'m M,
        snapshot: &Snapshot,
        shards: usize,
        peers: &'m dyn Peers,
    ) -> Result<Self, SnapshotError> {
        let mut sim = Self::restore(model, snapshot, shards)?;
        let shared = Shared::new(peers, shards);
        let part = Self::partition(model, &sim.settings);
        for k in (0..shards).filter(|k| !shared.owned.contains(k)) {
            sim.shards[k] = Shard::stand_in(model, k, part);
            sim.cells[k] = stand_in_cells(model, part, k);
        }
        if peers.rank() != 0 {
            sim.histograms.clear();
        }
        sim.shared = Some(shared);
        Ok(sim)
    }

    /// Every rank sends its shards (tasks, ids, cells and, if `mail`, the mail waiting for
    /// them) and its engine histograms to rank 0, which puts the shards in place of its
    /// stand-ins; the senders keep theirs. Returns, on rank 0, each other rank's histograms.
    fn collect(&mut self, mail: bool) -> Result<Vec<Vec<Vec<u8>>>, SnapshotError> {
        let codec: Codec<M::Msg, M::Cells> = codec_of(self.model)?;
        let shared = self.shared.as_ref().expect("shared");
        let (rank, size) = (shared.peers.rank(), shared.peers.size());
        let mut out = vec![Vec::new(); size];
        if rank != 0 {
            let runs =
                |s: &Shard<M>, k: usize| -> Result<(Vec<MailRun>, Vec<MailRun>), SnapshotError> {
                    if !mail {
                        return Ok((Vec::new(), Vec::new()));
                    }
                    let enc = codec.msgs_to_bytes;
                    let encode = |e: io::Error| SnapshotError::Encode(e.to_string());
                    let cells = (s.in_cells.iter().enumerate())
                        .filter(|(_, r)| !r.is_empty())
                        .map(|(src, r)| MailRun::new(k, src, r, enc).map_err(encode))
                        .collect::<Result<_, _>>()?;
                    let tasks = (s.in_tasks.iter().enumerate())
                        .filter(|(_, r)| !r.is_empty())
                        .map(|(src, r)| MailRun::new(k, src, r, enc).map_err(encode))
                        .collect::<Result<_, _>>()?;
                    Ok((cells, tasks))
                };
            let wholes: Vec<Whole> = self.shards[shared.owned.clone()]
                .iter()
                .zip(&self.cells[shared.owned.clone()])
                .enumerate()
                .map(|(i, (s, cells))| {
                    let k = shared.owned.start + i;
                    let (cell_mail, task_mail) = runs(s, k)?;
                    Ok(Whole {
                        index: k as u32,
                        count: s.slots.len() as u64,
                        slots: Tasks::Block(&s.slots).encode()?,
                        ids: s.ids.clone(),
                        cells: (codec.cells_to_bytes)(cells).map_err(SnapshotError::Encode)?,
                        cell_mail,
                        task_mail,
                    })
                })
                .collect::<Result<_, SnapshotError>>()?;
            let hists: Vec<Vec<u8>> = self
                .histograms
                .named()
                .iter()
                .map(|(_, h)| hist_bytes(h))
                .collect();
            out[0] = to_bytes(&(wholes, hists)).map_err(SnapshotError::Encode)?;
        }
        let got = shared
            .all_to_all(out)
            .map_err(|e| SnapshotError::Exchange(e.to_string()))?;
        if rank != 0 {
            return Ok(Vec::new());
        }
        let mut theirs = Vec::new();
        let part = Self::partition(self.model, &self.settings);
        let shards = self.shards.len();
        let run_damaged = |e: io::Error| SnapshotError::Damaged(e.to_string());
        let out_of_range = |what: &str, k: usize| {
            SnapshotError::Damaged(format!("{what} {k} from another rank: there are {shards}"))
        };
        for bytes in got.into_iter().skip(1) {
            let (wholes, hists): (Vec<Whole>, Vec<Vec<u8>>) =
                from_bytes(&bytes).map_err(SnapshotError::Damaged)?;
            for w in wholes {
                let s = (self.shards.get_mut(w.index as usize))
                    .ok_or_else(|| out_of_range("shard", w.index as usize))?;
                let slots = decode_slots(&w.slots, w.count)?;
                let cells = (codec.cells_from_bytes)(&w.cells).map_err(SnapshotError::Damaged)?;
                s.fill(self.model, part, slots, w.ids);
                self.cells[w.index as usize] = cells;
                for run in w.cell_mail {
                    let src = run.src as usize;
                    let into = (s.in_cells.get_mut(src))
                        .ok_or_else(|| out_of_range("mail from shard", src))?;
                    *into = run.envelopes(codec.msgs_from_bytes).map_err(run_damaged)?;
                }
                for run in w.task_mail {
                    let src = run.src as usize;
                    let into = (s.in_tasks.get_mut(src))
                        .ok_or_else(|| out_of_range("mail from shard", src))?;
                    *into = run.envelopes(codec.msgs_from_bytes).map_err(run_damaged)?;
                }
            }
            theirs.push(hists);
        }
        // Where every task lives now, as the whole simulation has it.
        if let Some(places) = self.places.as_mut() {
            for (k, s) in self.shards.iter().enumerate() {
                let ids: Box<dyn Iterator<Item = TaskId>> = if s.ids.is_empty() {
                    Box::new((0..s.slots.len() as TaskId).map(|i| s.first_task + i))
                } else {
                    Box::new(s.ids.iter().copied())
                };
                for (i, id) in ids.enumerate() {
                    places[id as usize] = Address {
                        shard: k as u32,
                        slot: i as u32,
                    };
                }
            }
        }
        Ok(theirs)
    }
}

/// The cells of a stand-in for another rank's shard `k`: an empty block at its first cell.
fn stand_in_cells<M: Model>(model: &M, part: Partition, k: usize) -> M::Cells {
    let block = part.cell_range(k, arena_cells(model));
    model.cells(block.start..block.start, part.shards())
}

/// Adds the histogram of `bytes` ([`hist_bytes`]) to `acc`.
fn add_hist(acc: &mut hdrhistogram::Histogram<u64>, bytes: &[u8]) -> Result<(), SnapshotError> {
    let h = hist_from(bytes).map_err(SnapshotError::Damaged)?;
    acc.add(&h)
        .map_err(|e| SnapshotError::Damaged(format!("{e:?}")))
}
