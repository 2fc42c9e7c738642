//! The baselines the engine is timed against: the floor (a hand-written loop making the same
//! draws and claims), the same floor prefetching, and one tokio task per robot.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use microsim::internal::rng::{TaskRng, step_key, step_keys, step_rng};
use microsim::models::musical_chairs::Params;
use rand::RngExt;

use crate::{Outcome, SHARDS};

/// What both floors keep: the replication's stream keys (a robot draws round `r` from its
/// stream of step `r`), every robot's points, the chair bitmap, the tallies.
struct Floor {
    keys: u64,
    points: Vec<u32>,
    taken: Vec<u64>,
    granted: u64,
    denied: u64,
}

impl Floor {
    fn new(p: &Params, rep_seed: u64) -> Self {
        Floor {
            keys: step_keys(rep_seed),
            points: vec![0u32; p.robots as usize],
            taken: vec![0u64; (p.width * p.height).div_ceil(64) as usize],
            granted: 0,
            denied: 0,
        }
    }

    /// The outcome, and the time since `start`, taken before the outcome is counted.
    fn finish(self, start: Instant) -> (Duration, Outcome) {
        let elapsed = start.elapsed();
        let max = self.points.iter().copied().max().unwrap_or(0);
        let winners = self.points.iter().filter(|&&n| n == max).count() as u64;
        black_box(&self.taken);
        let max_points = Some((max, winners));
        let (granted, denied) = (self.granted, self.denied);
        (
            elapsed,
            Outcome {
                granted,
                denied,
                max_points,
            },
        )
    }
}

/// A robot's claim on a uniformly random cell: its two draws, as the model makes them.
#[inline(always)]
fn draw(rng: &mut TaskRng, p: &Params) -> u64 {
    let x = rng.random_range(0..p.width);
    let y = rng.random_range(0..p.height);
    y * p.width + x
}

/// Sits on `cell` if it is free: true (a point) the first time, false after.
#[inline(always)]
fn claim(taken: &mut [u64], granted: &mut u64, denied: &mut u64, cell: u64) -> bool {
    let (w, bit) = ((cell / 64) as usize, 1u64 << (cell % 64));
    let fresh = taken[w] & bit == 0;
    taken[w] |= bit;
    *granted += fresh as u64;
    *denied += !fresh as u64;
    fresh
}

/// The floor: the same draws and claims in a tight single-thread loop.
pub fn floor(p: &Params, rep_seed: u64) -> (Duration, Outcome) {
    let start = Instant::now();
    let mut f = Floor::new(p, rep_seed);
    let (taken, granted, denied) = (&mut f.taken, &mut f.granted, &mut f.denied);
    for round in 0..p.rounds {
        for (id, pts) in (0..).zip(f.points.iter_mut()) {
            let cell = draw(&mut TaskRng::from_key(step_key(f.keys, id, round)), p);
            *pts += claim(taken, granted, denied, cell) as u32;
        }
    }
    f.finish(start)
}

/// The floor's row name when it prefetches.
pub const PREFETCH_FLOOR: &str = "floor, prefetching (batches of 16)";

/// The floor as a performance engineer would write it: the same draws and claims in the same
/// order, but each round's robots go in batches of 16 whose cells are drawn first and
/// prefetched, so that the batch's cache misses overlap (what the engine does when it handles
/// a shard's claims).
pub fn floor_prefetching(p: &Params, rep_seed: u64) -> (Duration, Outcome) {
    const BATCH: usize = 16;
    let start = Instant::now();
    let mut f = Floor::new(p, rep_seed);
    let (taken, granted, denied) = (&mut f.taken, &mut f.granted, &mut f.denied);
    let mut cells = [0u64; BATCH];
    for round in 0..p.rounds {
        for (first, pts) in (0..).step_by(BATCH).zip(f.points.chunks_mut(BATCH)) {
            for (id, cell) in (first..).zip(cells.iter_mut().take(pts.len())) {
                *cell = draw(&mut TaskRng::from_key(step_key(f.keys, id, round)), p);
                microsim::prefetch_read(&taken[(*cell / 64) as usize]);
            }
            for (&cell, pts) in cells.iter().zip(pts.iter_mut()) {
                *pts += claim(taken, granted, denied, cell) as u32;
            }
        }
    }
    f.finish(start)
}

/// A claim sent to a shard owner: the cell, and where to send the answer.
type Claim = (u64, tokio::sync::oneshot::Sender<bool>);

/// What a Rust user would write: a tokio task per robot, a task per shard owning its cells.
pub async fn tokio_version(p: &Params, rep_seed: u64) -> (Duration, Outcome) {
    use tokio::sync::{mpsc, oneshot};
    let cells = p.width * p.height;
    let per_shard = cells.div_ceil(SHARDS as u64);
    let start = Instant::now();
    let mut senders = Vec::with_capacity(SHARDS);
    let mut owners = Vec::with_capacity(SHARDS);
    for s in 0..SHARDS as u64 {
        let (tx, mut rx) = mpsc::channel::<Claim>(1024);
        senders.push(tx);
        let base = s * per_shard;
        let len = per_shard.min(cells.saturating_sub(base));
        owners.push(tokio::spawn(async move {
            let mut taken = vec![0u64; len.div_ceil(64) as usize];
            while let Some((cell, reply)) = rx.recv().await {
                let i = cell - base;
                let (w, bit) = ((i / 64) as usize, 1u64 << (i % 64));
                let fresh = taken[w] & bit == 0;
                taken[w] |= bit;
                let _ = reply.send(fresh);
            }
        }));
    }
    let senders: Arc<[mpsc::Sender<Claim>]> = senders.into();
    let (width, height, rounds) = (p.width, p.height, p.rounds);
    let robots: Vec<_> = (0..p.robots)
        .map(|id| {
            let senders = Arc::clone(&senders);
            tokio::spawn(async move {
                let (mut granted, mut denied) = (0u64, 0u64);
                for round in 0..rounds {
                    let mut rng = step_rng(rep_seed, id as u32, round);
                    let x = rng.random_range(0..width);
                    let y = rng.random_range(0..height);
                    let cell = y * width + x;
                    let (tx, rx) = oneshot::channel();
                    senders[(cell / per_shard) as usize]
                        .send((cell, tx))
                        .await
                        .expect("owner alive");
                    if rx.await.expect("owner answers") {
                        granted += 1;
                    } else {
                        denied += 1;
                    }
                }
                (granted, denied)
            })
        })
        .collect();
    let (mut granted, mut denied) = (0, 0);
    for r in robots {
        let (g, d) = r.await.expect("robot task");
        granted += g;
        denied += d;
    }
    let elapsed = start.elapsed();
    drop(senders);
    for o in owners {
        o.await.expect("owner task");
    }
    (
        elapsed,
        Outcome {
            granted,
            denied,
            max_points: None,
        },
    )
}
