//! A shard's part of the boundary in a model with a space: the dead and the tasks now on
//! another shard's cell leave ([`Shard::sift`]), arrivals and births come in
//! ([`Shard::push_placed`]), and the tasks are put in the next step's order — by cell, then
//! by key (id, or the step's seeded priority) — with the shard's part of the board built from
//! them ([`Shard::arrange`]).

use crate::engine::arena::Partition;
use crate::engine::board::{Board, Entry};
use crate::engine::model::Model;
use crate::engine::rng::priority;
use crate::engine::space::Space;
use crate::engine::task::{DONE, Slot, TaskId};

use super::super::Order;
use super::{Shard, earliest_due};

/// A task on its way to another shard (or just born), with its place.
pub(crate) struct Mover<T> {
    pub(crate) id: TaskId,
    pub(crate) slot: Slot<T>,
    pub(crate) cell: u64,
    pub(crate) point: [f64; 2],
}

/// Buffers the arrangement reuses from step to step.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    cursor: Vec<u32>,
    /// The cells holding more than one task.
    crowded: Vec<u32>,
    order: Vec<u32>,
    ids: Vec<TaskId>,
    spots: Vec<u64>,
    points: Vec<[f64; 2]>,
    keys: Vec<u64>,
}

impl<M: Model> Shard<M> {
    /// Takes out the tasks that finished or were killed (gone for good) and those whose cell
    /// another shard owns (handed to `leave` with that shard's index).
    pub(crate) fn sift(
        &mut self,
        part: Partition,
        me: usize,
        mut leave: impl FnMut(usize, Mover<M::Task>),
    ) {
        self.keys.clear();
        let continuous = !self.points.is_empty();
        let mut i = 0;
        while i < self.slots.len() {
            let dead = self.slots[i].wake == DONE;
            let dest = part.cell_shard(self.spots[i]);
            if !dead && dest == me {
                i += 1;
                continue;
            }
            let slot = self.slots.swap_remove(i);
            let id = self.ids.swap_remove(i);
            let cell = self.spots.swap_remove(i);
            let point = if continuous {
                self.points.swap_remove(i)
            } else {
                [0.0; 2]
            };
            if !dead {
                leave(
                    dest,
                    Mover {
                        id,
                        slot,
                        cell,
                        point,
                    },
                );
            }
        }
        self.done = 0;
    }

    /// Takes in a task that arrived or was born here, with its place (and its point, in a
    /// continuous space).
    pub(crate) fn push_placed(&mut self, m: Mover<M::Task>, continuous: bool) {
        self.slots.push(m.slot);
        self.ids.push(m.id);
        self.spots.push(m.cell);
        if continuous {
            self.points.push(m.point);
        }
    }

    /// Puts the tasks in step `step`'s order — by cell, then by key — and builds the shard's
    /// part of the board from them: offsets per cell, and per task its id, what it shows and
    /// its point.
    pub(crate) fn arrange(
        &mut self,
        model: &M,
        board: &mut Board<M::Msg>,
        space: &Space,
        order: Order,
        seed: u64,
        step: u32,
    ) {
        let n = self.slots.len();
        let cells = self.cell_count() as usize;
        let first = self.first_cell();
        let continuous = space.is_continuous();
        debug_assert!(!continuous || self.points.len() == n);
        let s = &mut self.scratch;
        // Keys.
        self.keys.clear();
        self.keys.extend(self.ids.iter().map(|&id| match order {
            Order::ById => id as u64,
            Order::Shuffled => priority(seed, step, id),
        }));
        // A counting sort by cell: offsets, then each task's position.
        let offsets = &mut board.offsets;
        offsets.clear();
        offsets.resize(cells + 1, 0);
        s.crowded.clear();
        for &c in &self.spots {
            let count = &mut offsets[(c - first) as usize + 1];
            *count += 1;
            if *count == 2 {
                s.crowded.push((c - first) as u32);
            }
        }
        for i in 1..=cells {
            offsets[i] += offsets[i - 1];
        }
        s.cursor.clear();
        s.cursor.extend_from_slice(&offsets[..cells]);
        s.order.clear();
        s.order.resize(n, 0);
        for (i, &c) in self.spots.iter().enumerate() {
            let at = &mut s.cursor[(c - first) as usize];
            s.order[*at as usize] = i as u32;
            *at += 1;
        }
        // Within a cell holding several, by turn and then by key (keys are distinct).
        let keys = &self.keys;
        let slots = &self.slots;
        let turn = |i: u32| (model.turn(&slots[i as usize].state), keys[i as usize]);
        for &c in &s.crowded {
            let (a, b) = (
                offsets[c as usize] as usize,
                offsets[c as usize + 1] as usize,
            );
            s.order[a..b].sort_unstable_by_key(|&i| turn(i));
        }
        if !s.order.iter().enumerate().all(|(j, &i)| j == i as usize) {
            gather(&mut self.ids, &s.order, &mut s.ids);
            gather(&mut self.spots, &s.order, &mut s.spots);
            gather(&mut self.keys, &s.order, &mut s.keys);
            if continuous {
                gather(&mut self.points, &s.order, &mut s.points);
            }
            permute(&mut self.slots, &mut s.order);
        }
        // The board.
        board.first_cell = first;
        board.entries.clear();
        board
            .entries
            .extend(
                self.ids
                    .iter()
                    .zip(&self.spots)
                    .zip(&self.slots)
                    .map(|((&id, &c), t)| Entry {
                        id,
                        cell: (c - first) as u32,
                        msg: model.publish(&t.state),
                    }),
            );
        board.points.clone_from(&self.points);
        self.done = 0;
        self.next_due = earliest_due(&self.slots);
    }
}

/// `column` reordered so that element `j` is the old element `order[j]` (`spare` is swapped
/// in and keeps the old column's memory).
fn gather<T: Copy>(column: &mut Vec<T>, order: &[u32], spare: &mut Vec<T>) {
    spare.clear();
    spare.extend(order.iter().map(|&i| column[i as usize]));
    std::mem::swap(column, spare);
}

/// `v` reordered in place so that element `j` is the old element `order[j]`, by following the
/// permutation's cycles with swaps (no copy of a task, whatever its type). Uses up `order`.
fn permute<T>(v: &mut [T], order: &mut [u32]) {
    const DONE_HERE: u32 = u32::MAX;
    for start in 0..v.len() {
        if order[start] == DONE_HERE {
            continue;
        }
        let mut j = start;
        loop {
            let src = order[j] as usize;
            order[j] = DONE_HERE;
            if src == start {
                break;
            }
            v.swap(j, src);
            j = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_applies_the_order_in_place() {
        let mut v: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let mut order = vec![3, 0, 4, 1, 2];
        permute(&mut v, &mut order);
        assert_eq!(v, ["d", "a", "e", "b", "c"]);
        let mut w = vec![10, 20, 30];
        gather(&mut w, &[2, 1, 0], &mut Vec::new());
        assert_eq!(w, [30, 20, 10]);
    }
}
