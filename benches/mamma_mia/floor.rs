//! The floor: a hand-written loop making the engine's draws, plain and prefetching, and the
//! check that its metrics equal the engine's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use microsim::Model;
use microsim::internal::rng::{replication_seed, scale, task_rng};
use microsim::models::gift_lottery::GiftLottery;
use rand::Rng;

use crate::{BINS, ITEMS, Metrics, SEED};

/// Bins holding `0 ..= 10` copies, more than 10, and the most in one bin.
pub struct Tally {
    with: [u64; 11],
    over_10: u64,
    max: u32,
}

impl Tally {
    /// The model's metrics (`GiftLottery::METRICS` order) for these counts, no keeping, no
    /// interaction.
    pub fn metrics(&self) -> Metrics {
        let mut m: Metrics = self.with[1..].iter().map(|&n| n as f64).collect();
        m.push(self.with[0] as f64); // bins_empty
        m.push(self.max as f64); // max_per_bin
        m.push(0.0); // items_kept
        m.push(self.over_10 as f64); // bins_with_over_10
        m.push(0.0); // offers_declined
        m
    }
}

/// The floor's draws for one replication: three words per item, the second picks the bin.
#[inline]
pub fn draw_into(rep_seed: u64, counts: &mut [u32]) {
    let bins = counts.len() as u64;
    for id in 0..ITEMS {
        let mut rng = task_rng(rep_seed, id);
        let _keep = rng.next_u64();
        let bin = scale(rng.next_u64(), bins).0;
        let _interaction = rng.next_u64();
        counts[bin as usize] += 1;
    }
}

/// The floor's row name when it prefetches.
pub const PREFETCH_FLOOR: &str = "floor, prefetching (batches of 16)";

/// [`draw_into`] as a performance engineer would write it: the same draws and increments in
/// the same order, but in batches of 16 items whose bins are drawn first and prefetched, so
/// that the batch's cache misses overlap (what the engine does when it handles a shard's
/// messages).
#[inline]
pub fn draw_prefetching(rep_seed: u64, counts: &mut [u32]) {
    const BATCH: u64 = 16;
    let bins = counts.len() as u64;
    let mut batch = [0usize; BATCH as usize];
    for first in (0..ITEMS).step_by(BATCH as usize) {
        let ids = first..(first + BATCH).min(ITEMS);
        let n = ids.end - ids.start;
        for (id, slot) in ids.zip(batch.iter_mut()) {
            let mut rng = task_rng(rep_seed, id);
            let _keep = rng.next_u64();
            *slot = scale(rng.next_u64(), bins).0 as usize;
            let _interaction = rng.next_u64();
            microsim::prefetch_read(&counts[*slot]);
        }
        for &bin in &batch[..n as usize] {
            counts[bin] += 1;
        }
    }
}

/// The histogram of `counts`, zeroing them for the next replication.
#[inline]
pub fn tally_and_clear(counts: &mut [u32]) -> Tally {
    let mut with = [0u64; 12];
    let mut max = 0u32;
    for c in counts.iter_mut() {
        let v = *c;
        *c = 0;
        with[(v as usize).min(11)] += 1;
        max = max.max(v);
    }
    Tally {
        with: with[..11].try_into().expect("11 entries"),
        over_10: with[11],
        max,
    }
}

/// The floor: `reps` replications in a tight single-thread loop; the time and their metrics.
pub fn floor(reps: u64) -> (Duration, Vec<Metrics>) {
    floor_with(reps, draw_into)
}

/// [`floor`] with another way of drawing a replication.
pub fn floor_with(reps: u64, draw: fn(u64, &mut [u32])) -> (Duration, Vec<Metrics>) {
    let mut counts = vec![0u32; BINS as usize];
    let mut tallies = Vec::with_capacity(reps as usize);
    let start = Instant::now();
    for r in 0..reps {
        draw(replication_seed(SEED, r), &mut counts);
        tallies.push(tally_and_clear(&mut counts));
    }
    let elapsed = start.elapsed();
    black_box(&counts);
    (elapsed, tallies.iter().map(Tally::metrics).collect())
}

/// Panics unless the engine's metrics equal the floor's, replication by replication.
pub fn check(what: &str, engine: &[Metrics], floor: &[Metrics]) {
    assert_eq!(
        engine.len(),
        floor.len(),
        "{what}: {} replications from the engine, {} from the floor",
        engine.len(),
        floor.len()
    );
    for (r, (e, f)) in engine.iter().zip(floor).enumerate() {
        if e != f {
            let diffs: Vec<String> = <GiftLottery as Model>::METRICS
                .iter()
                .zip(e.iter().zip(f))
                .filter(|(_, (a, b))| a != b)
                .map(|(name, (a, b))| format!("{name}: engine {a}, floor {b}"))
                .collect();
            panic!(
                "{what}: replication {r} (seed {:#x}) differs from the floor: {}. The floor makes \
                 the same three draws per item from the same streams, so every metric must match \
                 exactly.",
                replication_seed(SEED, r as u64),
                diffs.join("; ")
            );
        }
    }
}
