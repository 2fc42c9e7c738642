//! The floor: a hand-written loop making the engine's draws, plain and prefetching, and the
//! check that its metrics equal the engine's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use microsim::internal::rng::{replication_seed, scale, step_rng};
use microsim::models::gift_lottery::METRICS;
use microsim::{Metric, Report};
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
    /// interaction; every one of them is set.
    pub fn metrics(&self) -> Metrics {
        let named = |name: &str| Metric::named(METRICS, name);
        let mut report = Report::new(METRICS.len());
        for (k, &n) in self.with.iter().enumerate().skip(1) {
            report.set(named(&format!("bins_with_{k}")), n as f64);
        }
        report
            .set(named("bins_empty"), self.with[0] as f64)
            .set(named("max_per_bin"), self.max as f64)
            .set(named("items_kept"), 0.0)
            .set(named("bins_with_over_10"), self.over_10 as f64)
            .set(named("offers_declined"), 0.0);
        let metrics = report.metrics().to_vec();
        assert!(
            metrics.iter().all(|m| !m.is_nan()),
            "the floor left a metric unset: {metrics:?}"
        );
        metrics
    }
}

/// The floor's draws for one replication: word 1 of each item's step-0 stream picks its bin (words
/// 0 and 2, the keep and interaction decisions, are not needed when nobody keeps or
/// interacts: streams are counter-based, so skipping them changes nothing).
#[inline]
pub fn draw_into(rep_seed: u64, counts: &mut [u32]) {
    let bins = counts.len() as u64;
    for id in 0..ITEMS {
        let bin = scale(step_rng(rep_seed, id as u32, 0).word(1), bins).0;
        counts[bin as usize] += 1;
    }
}

/// The single-stream floor's row name.
pub const SINGLE_STREAM: &str = "single-stream loop (one PCG64 stream per replication)";

/// What a numerical programmer writes without re-creatable per-item streams: one PCG stream
/// per replication, draw a tree, count, count of counts. Different draws from the engine's,
/// so its metrics agree only in distribution (checked by [`check_distribution`]).
#[inline]
pub fn draw_single_stream(rep_seed: u64, counts: &mut [u32]) {
    use rand::SeedableRng;
    let bins = counts.len() as u64;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(rep_seed);
    for _ in 0..ITEMS {
        counts[scale(rng.next_u64(), bins).0 as usize] += 1;
    }
}

/// Panics unless every metric's mean over `other`'s replications is within 5 standard errors
/// of its mean over `reference`'s (for draws that differ but have the same distribution).
pub fn check_distribution(what: &str, other: &[Metrics], reference: &[Metrics]) {
    for (k, q) in METRICS.iter().enumerate() {
        let stats = |rows: &[Metrics]| {
            let n = rows.len() as f64;
            let mean = rows.iter().map(|r| r[k]).sum::<f64>() / n;
            let var = rows.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            (mean, var / n)
        };
        let ((a, va), (b, vb)) = (stats(other), stats(reference));
        let se = (va + vb).sqrt();
        assert!(
            (a - b).abs() <= 5.0 * se + 1e-9 * b.abs().max(1.0),
            "{what}: {} has mean {a}, the engine's draws {b} (5 standard errors: {})",
            q.name,
            5.0 * se
        );
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
            *slot = scale(step_rng(rep_seed, id as u32, 0).word(1), bins).0 as usize;
            microsim::prefetch_read(&counts[*slot]);
        }
        for &bin in &batch[..n as usize] {
            counts[bin] += 1;
        }
    }
}

/// The histogram of `counts`, zeroing them for the next replication. Written as a performance
/// engineer would: `with[v] += 1` on 2M mostly-zero counts makes each increment wait for the
/// last one to the same counter, so blocks of 64 counts below 4 are counted with
/// compare-and-add in registers (vectorised), and only blocks holding a larger count take the
/// plain loop.
#[inline]
pub fn tally_and_clear(counts: &mut [u32]) -> Tally {
    const BLOCK: usize = 64;
    let mut with = [0u64; 12];
    let mut max = 0u32;
    let plain = |v: u32, with: &mut [u64; 12]| with[(v as usize).min(11)] += 1;
    let mut blocks = counts.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        let top = block.iter().fold(0, |m, &v| m.max(v));
        max = max.max(top);
        if top < 4 {
            let count = |k: u32| block.iter().map(|&v| u32::from(v == k)).sum::<u32>() as u64;
            let (z, o, t) = (count(0), count(1), count(2));
            with[0] += z;
            with[1] += o;
            with[2] += t;
            with[3] += BLOCK as u64 - z - o - t;
        } else {
            block.iter().for_each(|&v| plain(v, &mut with));
        }
        block.fill(0);
    }
    for c in blocks.into_remainder() {
        plain(*c, &mut with);
        max = max.max(*c);
        *c = 0;
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
            let diffs: Vec<String> = METRICS
                .iter()
                .zip(e.iter().zip(f))
                .filter(|(_, (a, b))| a != b)
                .map(|(q, (a, b))| format!("{}: engine {a}, floor {b}", q.name))
                .collect();
            panic!(
                "{what}: replication {r} (seed {:#x}) differs from the floor: {}. The floor makes \
                 the same draws per item from the same streams, so every metric must match \
                 exactly.",
                replication_seed(SEED, r as u64),
                diffs.join("; ")
            );
        }
    }
}
