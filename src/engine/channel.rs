//! Channels: per-destination outboxes, swapped at the step boundary, delivered in key order.
//!
//! # Guarantees
//! 1. A message sent in step `t` is seen in step `t + 1`, never earlier, never later.
//! 2. Every message carries a key `(sender id, sequence number within the step)`; a cell's
//!    answer inherits the key of the message it answers. Messages are handled in key order
//!    (or, under the `shuffled` policy, in order of a seeded per-step priority of the sender,
//!    then key), never in order of arrival, shard or thread. When an answer and a direct
//!    message from the same sender with the same sequence number meet in a mailbox, the
//!    answer (whose key is a step older) comes first.
//! 3. Messages whose destination lives on the sender's shard are counted as local, the rest as
//!    cross-shard; the two travel the same way, so the count is the only difference.
//!
//! Because keys and priorities do not depend on the partition, what a cell or a task sees is
//! the same at any shard count.

use crate::engine::arena::Partition;

/// A message in flight to a cell: ordering key, destination, payload.
///
/// Envelopes are most of the engine's memory in a busy step, so they are packed: 13 bytes for
/// a one-byte payload instead of the 16 of the same fields unpacked (tested below). The destination is an offset into the destination
/// shard's block of cells (a shard holds at most [`MAX_CELLS_PER_SHARD`] cells), and fields
/// are read by copy (x86-64 reads unaligned fields at full speed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed)]
pub(crate) struct Envelope<M> {
    /// The ordering key (see the module docs).
    pub key: u64,
    /// The destination cell, as an offset into the destination shard's block.
    pub to: u32,
    /// The payload.
    pub msg: M,
}

/// A message in flight to a task: 13 bytes for a one-byte payload (packed like [`Envelope`];
/// task ids are 32-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed)]
pub(crate) struct TaskEnvelope<M> {
    /// The ordering key (see the module docs).
    pub key: u64,
    /// The destination task.
    pub to: u32,
    /// The payload.
    pub msg: M,
}

/// Where a task lives once tasks have moved ([`crate::Ctx::move_near`]) or been born: its
/// shard and its slot there. Until then every task lives at home (the partition's block of
/// ids) and no directory is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Address {
    /// The shard.
    pub shard: u32,
    /// The slot in the shard.
    pub slot: u32,
}

/// How mail to a task finds the task's shard.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Route<'a> {
    /// Every task lives at home (the partition's block of ids).
    Home,
    /// Where the directory says.
    Places(&'a [Address]),
    /// Not known while the step runs (tasks with places move every step): the mail stays with
    /// the sender's shard and is sent on at the boundary.
    Deferred,
}

/// The key of the `n`-th message a cell sent in one handler call: the cell and `n`, so that
/// messages from cells are ordered by their source cell (a cell's messages all come from one
/// shard, in the order it sent them).
#[inline]
pub(crate) const fn cell_key(cell: u64, n: u32) -> u64 {
    (cell << 20)
        | if n < (1 << 20) {
            n as u64
        } else {
            (1 << 20) - 1
        }
}

/// One shard's outgoing messages, one buffer per destination shard and kind.
pub(crate) struct Outbox<M> {
    me: usize,
    part: Partition,
    pub(crate) to_cells: Vec<Vec<Envelope<M>>>,
    /// Messages cells sent to cells ([`crate::CellCtx::send_to_cell`]), keyed by [`cell_key`].
    pub(crate) from_cells: Vec<Vec<Envelope<M>>>,
    pub(crate) to_tasks: Vec<Vec<TaskEnvelope<M>>>,
    pub(crate) local: u64,
    pub(crate) cross: u64,
}

impl<M> Outbox<M> {
    /// An empty outbox for shard `me` of `part`.
    pub(crate) fn new(me: usize, part: Partition) -> Self {
        let n = part.shards();
        Outbox {
            me,
            part,
            to_cells: (0..n).map(|_| Vec::new()).collect(),
            from_cells: (0..n).map(|_| Vec::new()).collect(),
            to_tasks: (0..n).map(|_| Vec::new()).collect(),
            local: 0,
            cross: 0,
        }
    }

    /// Counts the messages queued this step as local (to this shard) or cross-shard: called
    /// once at the end of a shard's step, when the buffers hold exactly that step's messages
    /// (they are empty when a step starts), instead of a count per message.
    pub(crate) fn count_queued(&mut self) {
        let me = self.me;
        let mine = self.to_cells[me].len() + self.from_cells[me].len() + self.to_tasks[me].len();
        self.local += mine as u64;
        self.cross += (self.pending() - mine) as u64;
    }

    /// Queues `msg` for the owner of `cell`.
    #[inline]
    pub(crate) fn push_cell(&mut self, cell: u64, key: u64, msg: M) {
        let (dest, to) = self.part.locate_cell(cell);
        self.to_cells[dest].push(Envelope { key, to, msg });
    }

    /// Queues `msg`, sent by a cell, for the owner of `cell` (`key`: a [`cell_key`]).
    #[inline]
    pub(crate) fn push_from_cell(&mut self, cell: u64, key: u64, msg: M) {
        let (dest, to) = self.part.locate_cell(cell);
        self.from_cells[dest].push(Envelope { key, to, msg });
    }

    /// Queues `msg` for task `task`, found by `route`.
    #[inline]
    pub(crate) fn push_task(&mut self, route: Route<'_>, task: u32, key: u64, msg: M) {
        let dest = match route {
            Route::Home => self.part.task_shard(task),
            Route::Places(p) => p[task as usize].shard as usize,
            Route::Deferred => self.me,
        };
        self.to_tasks[dest].push(TaskEnvelope { key, to: task, msg });
    }

    /// The shard this outbox belongs to.
    #[inline]
    pub(crate) fn me(&self) -> usize {
        self.me
    }

    /// The shard that owns `cell`.
    #[inline]
    pub(crate) fn cell_shard(&self, cell: u64) -> usize {
        self.part.cell_shard(cell)
    }

    /// Empties every buffer (keeping its memory) and the counts, for another replication.
    pub(crate) fn clear(&mut self) {
        self.to_cells.iter_mut().for_each(Vec::clear);
        self.from_cells.iter_mut().for_each(Vec::clear);
        self.to_tasks.iter_mut().for_each(Vec::clear);
        self.local = 0;
        self.cross = 0;
    }

    /// Messages queued and not yet exchanged.
    pub(crate) fn pending(&self) -> usize {
        let cells: usize = self.to_cells.iter().map(Vec::len).sum();
        let from_cells: usize = self.from_cells.iter().map(Vec::len).sum();
        cells + from_cells + self.to_tasks.iter().map(Vec::len).sum::<usize>()
    }
}

impl<M> std::fmt::Debug for Outbox<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("me", &self.me)
            .field("pending", &self.pending())
            .field("local", &self.local)
            .field("cross", &self.cross)
            .finish()
    }
}

/// Gathers the runs that arrived from each source shard into `into`, sorted by `(rank(key),
/// key)`: the delivery order of a seeded policy. The sort is stable, so messages with equal
/// keys (one cell's answers to one message) keep their emission order. (Under the by-id order
/// no gathering is needed: see `Shard::handle_cells`.)
pub(crate) fn gather<M: Copy>(
    runs: &mut [Vec<Envelope<M>>],
    into: &mut Vec<Envelope<M>>,
    rank: &dyn Fn(u64) -> u64,
) {
    into.clear();
    for run in runs.iter_mut() {
        into.extend_from_slice(run);
        run.clear();
    }
    into.sort_by_cached_key(|e| (rank(e.key), e.key));
}

/// Gathers the runs into `into` in key order: a stable sort, so that messages with equal keys
/// (from one source cell, which one shard sends in its order) keep the order they were sent.
pub(crate) fn gather_by_key<M: Copy>(runs: &mut [Vec<Envelope<M>>], into: &mut Vec<Envelope<M>>) {
    into.clear();
    for run in runs.iter_mut() {
        into.extend_from_slice(run);
        run.clear();
    }
    if !into.is_sorted_by_key(|e| e.key) {
        into.sort_by_key(|e| e.key);
    }
}

/// One buffer of messages per shard.
pub(crate) type Buffers<T> = Vec<Vec<T>>;

/// Moves every shard's outgoing buffers to the destination shards' incoming buffers.
///
/// `outs[s][d]` (sent by `s` to `d`) becomes `ins[d][s]`; the emptied incoming buffers go back
/// to the senders, so no buffer is allocated in steady state.
pub(crate) fn exchange<T>(mut pairs: Vec<(&mut Buffers<T>, &mut Buffers<T>)>) {
    let n = pairs.len();
    if n == 1 {
        let (out, ins) = &mut pairs[0];
        std::mem::swap(&mut out[0], &mut ins[0]);
        return;
    }
    for s in 0..n {
        for d in 0..n {
            let sent = std::mem::take(&mut pairs[s].0[d]);
            let spare = std::mem::replace(&mut pairs[d].1[s], sent);
            debug_assert!(spare.is_empty());
            pairs[s].0[d] = spare;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(to: u32, key: u64) -> Envelope<u8> {
        Envelope { key, to, msg: 0 }
    }

    #[test]
    fn gather_merges_sorted_runs_in_key_order() {
        let mut runs = vec![
            vec![env(0, 1), env(0, 5)],
            vec![env(0, 2), env(0, 3)],
            vec![],
        ];
        let mut into = Vec::new();
        gather(&mut runs, &mut into, &|k| k);
        let keys: Vec<u64> = into.iter().map(|e| e.key).collect();
        assert_eq!(keys, vec![1, 2, 3, 5]);
        assert!(runs.iter().all(Vec::is_empty));
    }

    #[test]
    fn gather_keeps_equal_keys_in_emission_order() {
        // A cell answering one message twice: both answers share the key.
        let mut runs = vec![vec![env(7, 4), env(8, 4)], vec![env(9, 3)]];
        let mut into = Vec::new();
        gather(&mut runs, &mut into, &|k| k);
        let tos: Vec<u32> = into.iter().map(|e| e.to).collect();
        assert_eq!(tos, vec![9, 7, 8]);
    }

    proptest! {
        /// However the same messages are split into sorted runs (that is, whatever the shard
        /// count), the delivered order is the same.
        #[test]
        fn delivery_order_does_not_depend_on_the_split(
            mut keys in proptest::collection::vec(0u64..1000, 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            keys.sort();
            keys.dedup();
            let whole = {
                let mut runs = vec![keys.iter().map(|&k| env(k as u32, k)).collect::<Vec<_>>()];
                let mut into = Vec::new();
                gather(&mut runs, &mut into, &|k| k);
                into
            };
            // Deal the keys round-robin into runs by cut index, each run sorted.
            let n = cuts.len().max(1);
            let mut runs: Vec<Vec<Envelope<u8>>> = vec![Vec::new(); n];
            for (i, &k) in keys.iter().enumerate() {
                runs[cuts.get(i % n).copied().unwrap_or(0) % n].push(env(k as u32, k));
            }
            let mut into = Vec::new();
            gather(&mut runs, &mut into, &|k| k);
            prop_assert_eq!(into, whole);
        }

        /// Under a seeded priority, the order is a function of the keys alone.
        #[test]
        fn priority_order_is_a_function_of_keys(keys in proptest::collection::btree_set(0u64..10_000, 0..100)) {
            let rank = |k: u64| crate::engine::rng::mix(k ^ 99);
            let fwd: Vec<_> = keys.iter().map(|&k| env(k as u32, k)).collect();
            let mut a = Vec::new();
            gather(&mut [fwd.clone()], &mut a, &rank);
            let mut halves = vec![fwd[..fwd.len() / 2].to_vec(), fwd[fwd.len() / 2..].to_vec()];
            let mut b = Vec::new();
            gather(&mut halves, &mut b, &rank);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn envelopes_are_packed() {
        assert_eq!(std::mem::size_of::<Envelope<u8>>(), 13);
        assert_eq!(std::mem::size_of::<TaskEnvelope<u8>>(), 13);
        #[allow(dead_code)]
        struct Unpacked(u64, u32, u8);
        assert_eq!(
            std::mem::size_of::<Unpacked>(),
            16,
            "what the docs say packing saves"
        );
    }

    #[test]
    fn exchange_transposes_buffers() {
        let mut outs = [
            vec![vec![env(0, 0)], vec![env(1, 0)]],
            vec![vec![env(2, 0)], vec![]],
        ];
        let mut ins: Vec<Vec<Vec<Envelope<u8>>>> = vec![vec![vec![], vec![]], vec![vec![], vec![]]];
        let pairs = outs.iter_mut().zip(ins.iter_mut()).collect();
        exchange(pairs);
        assert_eq!(ins[0][0], vec![env(0, 0)]);
        assert_eq!(ins[1][0], vec![env(1, 0)]);
        assert_eq!(ins[0][1], vec![env(2, 0)]);
        assert!(outs.iter().flatten().all(Vec::is_empty));
    }
}
