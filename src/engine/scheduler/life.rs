//! The boundary's work on the tasks' lives and places (step 3 of a step, see the module docs
//! of [`super`]): claims on full cells settled, births numbered, the dead gone, every task on
//! the shard that owns its cell, each shard's tasks in the next step's order with its part of
//! the board, and the mail sent to tasks during the step delivered where they live now.
//!
//! Everything here is decided from ids, keys and places, in orders that do not depend on the
//! shard count: claims by (cell, key), births by (parent, birth index); what a shard holds is
//! then sorted into (cell, key) order before anything reads it.

use rayon::prelude::*;

use super::{Simulation, shard::Mover};
use crate::engine::channel::{Address, TaskEnvelope};
use crate::engine::model::Model;
use crate::engine::space::Space;
use crate::engine::task::{Birth, DONE, Slot, TaskId};

/// A directory entry of a task that is not there (finished, killed, never born).
const NOWHERE: u32 = u32::MAX;

/// A claim on a cell, as [`Simulation::settle_claims`] orders them: its cell, the claimant's
/// key, 0 for a move or 1 + the birth index, and where the claim is kept (shard, index in
/// its list of claims or births).
#[derive(Clone, Copy, Debug)]
struct Claimed {
    cell: u64,
    key: u64,
    sub: u32,
    shard: u32,
    index: u32,
}

impl Claimed {
    fn new(cell: u64, key: u64, sub: u32, shard: usize, index: usize) -> Self {
        Claimed {
            cell,
            key,
            sub,
            shard: shard as u32,
            index: index as u32,
        }
    }
}

impl<'m, M: Model> Simulation<'m, M> {
    /// The boundary's work after a step, for a run in one process: returns the mail dropped
    /// because its task is gone. `next` is the step to come.
    pub(super) fn settle_life(&mut self, next: u32) -> u64 {
        if self.space.is_some() {
            self.settle_places(next);
            return self.route_mail();
        }
        if self.shards.iter().any(|s| s.has_births()) {
            self.settle_births(next);
        }
        0
    }

    /// In a model with a space: claims, births, deaths and moves settled, then every shard's
    /// tasks arranged for step `next` and its part of the board published.
    pub(super) fn settle_places(&mut self, next: u32) {
        let Some(space) = self.space else {
            return;
        };
        if space.capacity_per_cell().is_some() {
            self.settle_claims(&space);
        }
        let born = self.number_births();
        let part = Self::partition(self.model, &self.settings);
        let parallel = self.parallel && self.shards.len() > 1;
        // The dead leave; a task on another shard's cell goes there.
        let sift = |(k, s): (usize, &mut super::Shard<M>)| {
            let mut out = Vec::new();
            s.sift(part, k, |dest, mover| out.push((dest, mover)));
            out
        };
        let leaving: Vec<Vec<(usize, Mover<M::Task>)>> = if parallel {
            self.shards.par_iter_mut().enumerate().map(sift).collect()
        } else if let [one] = &mut self.shards[..] {
            one.sift(part, 0, |_, _| unreachable!("one shard owns every cell"));
            Vec::new()
        } else {
            self.shards.iter_mut().enumerate().map(sift).collect()
        };
        let continuous = space.is_continuous();
        for (dest, m) in leaving.into_iter().flatten() {
            self.shards[dest].push_placed(m, continuous);
        }
        for (id, b) in born {
            let dest = part.cell_shard(b.cell);
            self.shards[dest].push_placed(
                Mover {
                    id,
                    slot: Slot {
                        state: b.state,
                        wake: next,
                    },
                    cell: b.cell,
                    point: b.point,
                },
                continuous,
            );
        }
        let (model, order, seed) = (self.model, self.settings.order, self.settings.seed);
        let arrange = |(s, board): (&mut super::Shard<M>, &mut _)| {
            s.arrange(model, board, &space, order, seed, next);
        };
        if parallel {
            self.shards
                .par_iter_mut()
                .zip(self.boards.par_iter_mut())
                .for_each(arrange);
        } else {
            self.shards
                .iter_mut()
                .zip(self.boards.iter_mut())
                .for_each(arrange);
        }
    }

    /// Claims on the cells of a space with a capacity (moves and births), settled in the
    /// order of (claimant's key, birth index) per cell: each cell's free room at the step's
    /// start goes to its first claims. A refused move stays put; a refused birth is not born.
    /// Cells claimed no more than their room allows need no ordering; only the contested ones
    /// are sorted.
    fn settle_claims(&mut self, space: &Space) {
        let mut all: Vec<Claimed> = Vec::new();
        for (k, s) in self.shards.iter().enumerate() {
            for (j, c) in s.claims.iter().enumerate() {
                if s.slots[c.slot as usize].wake != DONE {
                    all.push(Claimed::new(c.cell, c.key, 0, k, j));
                }
            }
            let births = s.births_ref();
            for (j, b) in births.iter().enumerate() {
                all.push(Claimed::new(b.cell, b.key, 1 + b.k, k, j));
            }
        }
        if all.is_empty() {
            return;
        }
        let part = Self::partition(self.model, &self.settings);
        let boards = &self.boards;
        let room = |c: u64| {
            let board = &boards[part.cell_shard(c)];
            let here = board.range((c - board.first_cell) as usize).len() as u32;
            space.capacity_raw().saturating_sub(here)
        };
        // Claims per cell, counted in a table of every cell (kept all zero between steps).
        let counts = &mut self.claim_counts;
        counts.resize(space.cells().cells() as usize, 0);
        for c in &all {
            counts[c.cell as usize] += 1;
        }
        let (mut granted, mut contested) = (Vec::new(), Vec::new());
        for c in &all {
            if counts[c.cell as usize] <= room(c.cell) {
                granted.push(*c);
            } else {
                contested.push(*c);
            }
        }
        for c in &all {
            counts[c.cell as usize] = 0;
        }
        contested.sort_unstable_by_key(|c| (c.cell, c.key, c.sub));
        let mut at = 0;
        while at < contested.len() {
            let cell = contested[at].cell;
            let end = at
                + contested[at..]
                    .iter()
                    .take_while(|c| c.cell == cell)
                    .count();
            let free = room(cell) as usize;
            granted.extend_from_slice(&contested[at..end.min(at + free)]);
            for c in &mut contested[(at + free).min(end)..end] {
                c.cell = u64::MAX; // refused
            }
            at = end;
        }
        let mut refused: Vec<Vec<u32>> = vec![Vec::new(); self.shards.len()];
        for c in granted {
            let s = &mut self.shards[c.shard as usize];
            if c.sub == 0 {
                let claim = s.claims[c.index as usize];
                s.spots[claim.slot as usize] = claim.cell;
                if let Some(p) = s.points.get_mut(claim.slot as usize) {
                    *p = claim.point;
                }
            }
        }
        for c in contested.iter().filter(|c| c.cell == u64::MAX && c.sub > 0) {
            refused[c.shard as usize].push(c.index);
        }
        for (s, mut gone) in self.shards.iter_mut().zip(refused) {
            s.claims.clear();
            gone.sort_unstable();
            for j in gone.into_iter().rev() {
                s.births().swap_remove(j as usize);
            }
        }
    }

    /// Takes every shard's births and numbers them in (parent, birth index) order from the
    /// next free id, keeping only as many as the model's bound on tasks alive (and the id
    /// space) allows; returns them in id order.
    fn number_births(&mut self) -> Vec<(TaskId, Birth<M::Task>)> {
        let mut all: Vec<Birth<M::Task>> = Vec::new();
        for s in self.shards.iter_mut() {
            all.append(s.births());
        }
        if all.is_empty() {
            return Vec::new();
        }
        all.sort_unstable_by_key(|b| (b.parent, b.k));
        let alive: u64 = self.shards.iter().map(|s| s.alive()).sum();
        let room = self.model.max_tasks().saturating_sub(alive);
        let ids_left = (TaskId::MAX as u64).saturating_sub(self.next_id);
        let keep = room.min(ids_left);
        if all.len() as u64 > keep {
            all.truncate(keep as usize);
            self.overpopulated = true;
        }
        let first = self.next_id;
        self.next_id += all.len() as u64;
        (first..)
            .zip(all)
            .map(|(id, b)| (id as TaskId, b))
            .collect()
    }

    /// In a model without a space: births numbered, each on its parent's shard, found
    /// through the directory of places from now on.
    fn settle_births(&mut self, next: u32) {
        self.start_places();
        let born = self.number_births();
        let places = self
            .places
            .as_mut()
            .expect("places are kept once a task is born");
        places.resize(self.next_id as usize, Address::default());
        for (id, b) in born {
            let shard = b.shard as usize;
            let slot = self.shards[shard].take_in(
                id,
                Slot {
                    state: b.state,
                    wake: next,
                },
            );
            places[id as usize] = Address {
                shard: shard as u32,
                slot,
            };
        }
    }

    /// The directory of where every task lives, from the shards' ids (or home blocks).
    pub(super) fn rebuild_places(&mut self) {
        let mut places = vec![Address::default(); self.next_id as usize];
        for (k, s) in self.shards.iter_mut().enumerate() {
            if s.ids.is_empty() {
                let first = s.first_task;
                s.ids = (0..s.slots.len() as TaskId).map(|i| first + i).collect();
            }
            for (i, &id) in s.ids.iter().enumerate() {
                places[id as usize] = Address {
                    shard: k as u32,
                    slot: i as u32,
                };
            }
        }
        self.places = Some(places);
    }

    /// Mail restored from a snapshot (all in shard 0's first inbox) sent to its tasks' shards.
    pub(super) fn deliver_restored_mail(&mut self, part: crate::engine::arena::Partition) {
        let mail = std::mem::take(&mut self.shards[0].in_tasks[0]);
        if self.space.is_some() {
            self.shards[0].in_tasks[0] = mail;
            self.route_mail();
            return;
        }
        for e in mail {
            let shard = match &self.places {
                Some(p) => p[e.to as usize].shard as usize,
                None => part.task_shard(e.to),
            };
            self.shards[shard].in_tasks[0].push(e);
        }
    }

    /// In a model with a space, mail to tasks waits at its sender's shard until the boundary:
    /// if there is any, the directory of where every task lives is rebuilt and the mail sent
    /// on. Returns the mail dropped because its task is gone.
    fn route_mail(&mut self) -> u64 {
        self.places_fresh = false;
        if self
            .shards
            .iter()
            .all(|s| s.in_tasks.iter().all(Vec::is_empty))
        {
            return 0;
        }
        let mut places = self.places.take().unwrap_or_default();
        places.clear();
        let nowhere = Address {
            shard: NOWHERE,
            slot: 0,
        };
        places.resize(self.next_id as usize, nowhere);
        for (k, s) in self.shards.iter().enumerate() {
            for (i, &id) in s.ids.iter().enumerate() {
                places[id as usize] = Address {
                    shard: k as u32,
                    slot: i as u32,
                };
            }
        }
        let mut dropped = 0;
        let mut forward: Vec<(usize, usize, TaskEnvelope<M::Msg>)> = Vec::new();
        for (k, s) in self.shards.iter_mut().enumerate() {
            for (src, run) in s.in_tasks.iter_mut().enumerate() {
                run.retain(|e| {
                    let home = places.get(e.to as usize).map_or(NOWHERE, |a| a.shard);
                    if home == NOWHERE {
                        dropped += 1;
                    } else if home as usize != k {
                        forward.push((home as usize, src, *e));
                    }
                    home as usize == k
                });
            }
        }
        for (home, src, e) in forward {
            let from = &mut self.shards[src].out;
            from.local = from.local.saturating_sub(1);
            from.cross += 1;
            self.shards[home].in_tasks[src].push(e);
        }
        self.places = Some(places);
        self.places_fresh = true;
        dropped
    }
}
