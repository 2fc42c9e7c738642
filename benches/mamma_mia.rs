//! Mamma Mia (gift_lottery: 600,000 items into 2,000,000 bins, uniform, keep 0, interaction 0),
//! timed per replication in one process.
//!
//! Run with `cargo bench --bench mamma_mia` (`MICROSIM_BENCH_QUICK=1` for a smoke run).
//!
//! 1. The engine through the real Monte Carlo path (`Scenario::from_bytes` on a TOML text,
//!    `montecarlo::run` with a sink that keeps the metrics), `R` replications (default 100,
//!    quick 10), 16 shards, at 1 thread and at all threads.
//! 2. The floor: a hand-written single-thread loop making the same draws per item (keep word,
//!    bin word, interaction word, from `task_rng(replication_seed(SEED, r), id)`) and counting
//!    copies per bin, then the histogram of counts. It must reproduce the engine's metrics
//!    exactly, replication by replication (checked; the bench panics otherwise). Timed as the
//!    median of a few repeats of all `R` replications.
//! 3. Where the time goes: a few replications split with `Instant` (engine at 1 thread:
//!    `Simulation::new`, step 0, step 1, report, drop, and the same replications whole through
//!    `montecarlo::replicate`; floor: seeding and draws, counting, histogram). Every row also
//!    shows the minor page faults per replication (`/proc/self/stat`): the engine allocates its
//!    message buffers afresh in every replication.
//!
//! Everything printed is also written to `outputs/bench/mamma_mia.md`.
//! `MICROSIM_BENCH_PROFILE=<threads>,<replications>` runs only the engine (for `perf record`).

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use microsim::Model;
use microsim::catalog::ModelParams;
use microsim::models::gift_lottery::GiftLottery;
use microsim::montecarlo::{self, Plan, Replication, Silent, Sink};
use microsim::rng::{replication_seed, scale, task_rng};
use microsim::scenario::Scenario;
use microsim::scheduler::{Ending, Simulation};
use rand::Rng;

/// The scenario seed.
const SEED: u64 = 42;
/// Items (DVDs) and bins (Christmas trees): the seed's numbers.
const ITEMS: u64 = 600_000;
const BINS: u64 = 2_000_000;
/// Shards of every engine run.
const SHARDS: usize = 16;
/// Timed repeats of the floor (the median is used).
const FLOOR_REPEATS: usize = 3;
/// Replications split into phases.
const SPLIT_REPS: u64 = 10;
/// The environment variable that asks for a quick smoke run.
const QUICK_VAR: &str = "MICROSIM_BENCH_QUICK";
/// The environment variable that runs only the engine: `<threads>,<replications>`.
const PROFILE_VAR: &str = "MICROSIM_BENCH_PROFILE";

/// The metrics compared with the floor: every one of the model's, in `METRICS` order.
type Metrics = Vec<f64>;

fn main() {
    if let Ok(spec) = std::env::var(PROFILE_VAR) {
        profile(&spec);
        return;
    }
    let quick = std::env::var(QUICK_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    let reps: u64 = if quick { 10 } else { 100 };
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "mamma mia: {ITEMS} items, {BINS} bins, uniform, keep 0, interaction 0; seed {SEED}; \
         {reps} replications; {SHARDS} shards; {all} threads available{}",
        if quick { "; QUICK" } else { "" }
    );

    // The floor first: its metrics are the reference.
    let mut floor_times = Vec::with_capacity(FLOOR_REPEATS);
    let mut reference: Option<Vec<Metrics>> = None;
    let floor_start = Mark::now();
    for i in 0..FLOOR_REPEATS {
        let (t, m) = floor(reps);
        eprintln!("floor repeat {i}: {:.3} s", t.as_secs_f64());
        floor_times.push(t);
        match &reference {
            None => reference = Some(m),
            Some(r) => assert_eq!(r, &m, "floor repeats disagree"),
        }
    }
    let floor_end = Mark::now();
    let floor_faults = floor_end.faults - floor_start.faults;
    let reference = reference.expect("at least one floor repeat");
    floor_times.sort();
    let floor_median = floor_times[floor_times.len() / 2];
    let floor_best = floor_times[0];

    let mut rows = vec![Row {
        variant: format!("floor (hand-written loop, median of {FLOOR_REPEATS})"),
        threads: 1,
        total: floor_median,
        mean_replicate: None,
        faults: floor_faults as f64 / (FLOOR_REPEATS as u64 * reps) as f64,
        cores: floor_end.cores_since(&floor_start),
    }];
    // The same floor, prefetching: median of as many repeats.
    let before = Mark::now();
    let mut times: Vec<Duration> = (0..FLOOR_REPEATS)
        .map(|_| {
            let (t, m) = floor_with(reps, draw_prefetching);
            check("prefetching floor", &m, &reference);
            t
        })
        .collect();
    let after = Mark::now();
    times.sort();
    rows.push(Row {
        variant: format!("{PREFETCH_FLOOR}, median of {FLOOR_REPEATS}"),
        threads: 1,
        total: times[times.len() / 2],
        mean_replicate: None,
        faults: (after.faults - before.faults) as f64 / (FLOOR_REPEATS as u64 * reps) as f64,
        cores: after.cores_since(&before),
    });
    for threads in [1, all] {
        let before = Mark::now();
        let (total, sink) = engine(threads, reps);
        let after = Mark::now();
        let faults = after.faults - before.faults;
        check(
            &format!("engine @ {threads} threads"),
            &sink.metrics,
            &reference,
        );
        let mean = sink.replicate_wall / reps as u32;
        eprintln!(
            "engine @ {threads} threads: {:.3} s ({:.2} ms/replication; replicate() mean {:.2} ms)",
            total.as_secs_f64(),
            ms(total) / reps as f64,
            ms(mean)
        );
        rows.push(Row {
            variant: "engine (montecarlo::run)".into(),
            threads,
            total,
            mean_replicate: Some(mean),
            faults: faults as f64 / reps as f64,
            cores: after.cores_since(&before),
        });
    }

    let split_reps = SPLIT_REPS.min(reps);
    let split = split(split_reps, &reference);

    let md = report(&rows, reps, all, floor_best, &split, split_reps);
    println!("\n{md}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("outputs/bench");
    std::fs::create_dir_all(&dir).expect("create outputs/bench");
    let path = dir.join("mamma_mia.md");
    std::fs::write(&path, md).expect("write outputs/bench/mamma_mia.md");
    println!("written to {}", path.display());
}

/// One row of the table.
struct Row {
    variant: String,
    threads: usize,
    total: Duration,
    /// The mean of `Replication::elapsed` (engine rows).
    mean_replicate: Option<Duration>,
    /// Minor page faults per replication.
    faults: f64,
    /// CPU cores the process kept busy on average (CPU time / wall time): below the thread
    /// count when the machine is shared and others held the cores.
    cores: f64,
}

/// The scenario text: the seed's lottery, `reps` replications on `threads` threads.
fn scenario_toml(threads: usize, reps: u64) -> String {
    format!(
        "[scenario]\n\
         name = \"mamma_mia_bench\"\n\
         model = \"gift_lottery\"\n\
         \n\
         [model]\n\
         items = {ITEMS}\n\
         bins = {BINS}\n\
         weights = \"uniform\"\n\
         keep_fraction = 0.0\n\
         interaction = 0.0\n\
         \n\
         [run]\n\
         seed = {SEED}\n\
         threads = {threads}\n\
         shards = {SHARDS}\n\
         \n\
         [montecarlo]\n\
         replications = {reps}\n"
    )
}

fn scenario(threads: usize, reps: u64) -> Scenario {
    let text = scenario_toml(threads, reps);
    Scenario::from_bytes(text.as_bytes(), Path::new("mamma_mia_bench.toml"), &[])
        .unwrap_or_else(|e| panic!("the bench scenario does not load: {e}\n{text}"))
}

/// Keeps each replication's metrics (in index order) and the sum of their wall times.
#[derive(Default)]
struct Metered {
    metrics: Vec<Metrics>,
    replicate_wall: Duration,
}

impl Sink for Metered {
    fn replication(&mut self, r: Replication) -> std::io::Result<()> {
        assert_eq!(
            r.index,
            self.metrics.len() as u64,
            "replications out of order"
        );
        assert_eq!(
            r.seed,
            replication_seed(SEED, r.index),
            "replication {} has an unexpected seed",
            r.index
        );
        assert_eq!(
            r.ending,
            Ending::Finished,
            "replication {} did not finish",
            r.index
        );
        self.metrics.push(r.metrics);
        self.replicate_wall += r.elapsed;
        Ok(())
    }
}

/// The engine through the Monte Carlo path. `montecarlo::run` builds its own rayon pool of
/// `run.threads` threads (`ThreadPoolBuilder` + `install`); the time includes that and parsing.
fn engine(threads: usize, reps: u64) -> (Duration, Metered) {
    let start = Instant::now();
    let scenario = scenario(threads, reps);
    assert_eq!(scenario.threads(), threads);
    let plan = Plan::of(&scenario, None);
    let mut sink = Metered::default();
    let stats = montecarlo::run(
        &scenario,
        &plan,
        &mut sink,
        &AtomicBool::new(false),
        &Silent,
    )
    .expect("the Monte Carlo run");
    let total = start.elapsed();
    assert_eq!(stats.replications, reps, "not every replication ran");
    assert!(!stats.interrupted, "the run was interrupted");
    (total, sink)
}

/// Runs only the engine (for a profiler): `threads,replications`.
fn profile(spec: &str) {
    let n: Vec<u64> = spec
        .split(',')
        .map(|v| v.trim().parse().expect("threads,replications"))
        .collect();
    let [threads, reps] = n[..] else {
        panic!("{PROFILE_VAR}=threads,replications")
    };
    let (total, _) = engine(threads as usize, reps);
    println!(
        "engine @ {threads} threads: {reps} replications in {:.3} s ({:.2} ms/replication)",
        total.as_secs_f64(),
        ms(total) / reps as f64
    );
}

/// Bins holding `0 ..= 10` copies, more than 10, and the most in one bin.
struct Tally {
    with: [u64; 11],
    over_10: u64,
    max: u32,
}

impl Tally {
    /// The model's metrics (`GiftLottery::METRICS` order) for these counts, no keeping, no
    /// interaction.
    fn metrics(&self) -> Metrics {
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
fn draw_into(rep_seed: u64, counts: &mut [u32]) {
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
const PREFETCH_FLOOR: &str = "floor, prefetching (batches of 16)";

/// [`draw_into`] as a performance engineer would write it: the same draws and increments in
/// the same order, but in batches of 16 items whose bins are drawn first and prefetched, so
/// that the batch's cache misses overlap (what the engine does when it handles a shard's
/// messages).
#[inline]
fn draw_prefetching(rep_seed: u64, counts: &mut [u32]) {
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
            microsim::prefetch::prefetch_read(&counts[*slot]);
        }
        for &bin in &batch[..n as usize] {
            counts[bin] += 1;
        }
    }
}

/// The histogram of `counts`, zeroing them for the next replication.
#[inline]
fn tally_and_clear(counts: &mut [u32]) -> Tally {
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
fn floor(reps: u64) -> (Duration, Vec<Metrics>) {
    floor_with(reps, draw_into)
}

/// [`floor`] with another way of drawing a replication.
fn floor_with(reps: u64, draw: fn(u64, &mut [u32])) -> (Duration, Vec<Metrics>) {
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
fn check(what: &str, engine: &[Metrics], floor: &[Metrics]) {
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

/// A point in time with the process's minor page faults so far.
#[derive(Clone, Copy)]
struct Mark {
    at: Instant,
    faults: u64,
    /// CPU time (user + system) of the process so far, in clock ticks.
    cpu_ticks: u64,
}

/// Clock ticks per second of `/proc/self/stat` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

impl Mark {
    /// Reads `/proc/self/stat` (fields 10, 14 and 15: minor faults, user and system time;
    /// zeros where it cannot be read), then the clock.
    fn now() -> Mark {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // The fields after the command name (which is in parentheses and may hold spaces),
        // from field 3 on.
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .map(|f| f.parse().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0);
        Mark {
            faults: field(10),
            cpu_ticks: field(14) + field(15),
            at: Instant::now(),
        }
    }

    /// CPU cores busy on average since `earlier` (CPU time / wall time).
    fn cores_since(&self, earlier: &Mark) -> f64 {
        let cpu = (self.cpu_ticks - earlier.cpu_ticks) as f64 / TICKS_PER_SECOND;
        cpu / (self.at - earlier.at).as_secs_f64()
    }
}

/// Time and minor page faults of one phase, summed over the split replications.
#[derive(Clone, Copy, Default)]
struct Phase {
    time: Duration,
    faults: u64,
}

impl Phase {
    fn add(&mut self, from: Mark, to: Mark) {
        self.time += to.at - from.at;
        self.faults += to.faults - from.faults;
    }
}

/// The engine's phases (`new`, step 0, step 1, report, drop), then the floor's (draws without
/// counting, draws with counting, histogram).
#[derive(Default)]
struct Split {
    engine: [Phase; 5],
    /// The same replications through `montecarlo::replicate`, unsplit.
    whole: Phase,
    floor: [Phase; 3],
}

/// Splits the engine at 1 thread (as `montecarlo::run` runs a replication inside a batch: 16
/// shards stepped one after another, histograms on) and the floor into phases. Each engine
/// replication is also run whole through `montecarlo::replicate`, interleaved, to show what
/// the split itself costs.
fn split(reps: u64, reference: &[Metrics]) -> Split {
    let scenario = scenario(1, reps);
    let model = model_of(&scenario);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a rayon pool");
    let mut s = Split::default();
    pool.install(|| {
        for r in 0..reps {
            let settings = scenario.settings(r);
            let m0 = Mark::now();
            let mut sim = Simulation::new(&model, settings);
            sim.set_parallel(false);
            let m1 = Mark::now();
            let mut marks = Vec::new();
            let ending = sim.run(|_| {
                marks.push(Mark::now());
                true
            });
            let report = sim.report();
            let m3 = Mark::now();
            drop(sim);
            let m4 = Mark::now();
            assert_eq!(ending, Ending::Finished);
            assert_eq!(marks.len(), 2, "the seed scenario takes two steps");
            check(
                "engine (split)",
                std::slice::from_ref(&report.metrics),
                &reference[r as usize..=r as usize],
            );
            for (phase, (from, to)) in s.engine.iter_mut().zip([
                (m0, m1),
                (m1, marks[0]),
                (marks[0], marks[1]),
                (marks[1], m3),
                (m3, m4),
            ]) {
                phase.add(from, to);
            }
            // The same replication unsplit, interleaved so that both see the same heap.
            let m0 = Mark::now();
            let rep = montecarlo::replicate(
                &model,
                r,
                scenario.settings(r),
                false,
                &AtomicBool::new(false),
                &Silent,
            );
            let m1 = Mark::now();
            check(
                "engine (replicate)",
                std::slice::from_ref(&rep.metrics),
                &reference[r as usize..=r as usize],
            );
            drop(rep);
            s.whole.add(m0, m1);
        }
    });
    let mut counts = vec![0u32; BINS as usize];
    for r in 0..reps {
        let rep_seed = replication_seed(SEED, r);
        let m0 = Mark::now();
        let mut acc = 0u64;
        for id in 0..ITEMS {
            let mut rng = task_rng(rep_seed, id);
            let _keep = rng.next_u64();
            acc = acc.wrapping_add(scale(rng.next_u64(), BINS).0);
            let _interaction = rng.next_u64();
        }
        black_box(acc);
        let m1 = Mark::now();
        draw_into(rep_seed, &mut counts);
        let m2 = Mark::now();
        let tally = tally_and_clear(&mut counts);
        let m3 = Mark::now();
        assert_eq!(tally.metrics(), reference[r as usize], "floor (split)");
        s.floor[0].add(m0, m1);
        s.floor[1].add(m1, m2);
        s.floor[2].add(m2, m3);
    }
    s
}

/// The model of a gift_lottery scenario, built as the Monte Carlo path builds it.
fn model_of(scenario: &Scenario) -> GiftLottery {
    assert_eq!(scenario.run.shards, Some(SHARDS as u64));
    match &scenario.model {
        ModelParams::GiftLottery(p) => GiftLottery::new(p.clone()),
        other => panic!("the bench scenario is not a gift_lottery: {other:?}"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(
    rows: &[Row],
    reps: u64,
    all: usize,
    floor_best: Duration,
    s: &Split,
    split_reps: u64,
) -> String {
    use std::fmt::Write;
    let per = |d: Duration| ms(d) / reps as f64;
    let floor = per(rows[0].total);
    let engine_at = |threads: usize| {
        rows.iter()
            .rev()
            .find(|r| r.variant.starts_with("engine") && r.threads == threads)
            .map(|r| per(r.total))
            .expect("engine row")
    };
    let e1 = engine_at(1);
    let eall = engine_at(all);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Mamma Mia (gift_lottery): {ITEMS} items, {BINS} bins, uniform, keep 0, interaction 0, \
         seed {SEED}\n"
    );
    let _ = writeln!(
        md,
        "{reps} replications per row, {SHARDS} shards, engine histograms on (the scenario default). \
         Engine = one `montecarlo::run` over a scenario parsed with `Scenario::from_bytes` (parse, \
         pool, every replication, sink). Floor = median of {FLOOR_REPEATS} timed repeats of all \
         {reps} replications (best {:.2} ms/replication); its metrics equal the engine's for every \
         replication (checked). {all} hardware threads. CPU cores busy = process CPU time / wall \
         time (below the thread count when others held the cores of a shared machine).\n",
        per(floor_best)
    );
    let _ = writeln!(
        md,
        "| variant | threads | replications | total (s) | ms/replication | ratio to floor | speed-up vs engine@1 thread | replicate() mean (ms) | minor page faults/replication | CPU cores busy |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {reps} | {:.3} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {:.2} |",
            r.variant,
            r.threads,
            r.total.as_secs_f64(),
            per(r.total),
            per(r.total) / floor,
            e1 / per(r.total),
            r.mean_replicate
                .map_or("-".to_string(), |d| format!("{:.2}", ms(d))),
            r.faults,
            r.cores
        );
    }
    let prefetching = rows
        .iter()
        .find(|r| r.variant.starts_with(PREFETCH_FLOOR))
        .map(|r| per(r.total))
        .expect("prefetching floor row");
    let _ = writeln!(
        md,
        "\nengine@1 thread / floor = {:.2} (target ≤ 2)",
        e1 / floor
    );
    let _ = writeln!(
        md,
        "engine@1 thread / prefetching floor = {:.2}",
        e1 / prefetching
    );
    let _ = writeln!(
        md,
        "speed-up all threads vs 1 thread = {:.2} on {all} cores (target: near-linear)",
        e1 / eall
    );
    let n = split_reps as f64;
    let _ = writeln!(
        md,
        "\n### Where the time goes ({split_reps} replications, 1 thread, per replication)\n"
    );
    let _ = writeln!(
        md,
        "Engine as `montecarlo::replicate` runs it inside a batch ({SHARDS} shards stepped one \
         after another, histograms on), split with `Instant`; minor page faults from \
         `/proc/self/stat`. The floor split the same way.\n"
    );
    let _ = writeln!(
        md,
        "| phase | ms/replication | minor page faults/replication |"
    );
    let _ = writeln!(md, "|---|---:|---:|");
    let sum = |phases: &[Phase]| {
        phases.iter().fold(Phase::default(), |a, p| Phase {
            time: a.time + p.time,
            faults: a.faults + p.faults,
        })
    };
    let engine_names = [
        "engine: `Simulation::new` (600k task streams seeded, slots, 2M bin counts)",
        "engine: step 0 (600k tasks run: 3 words each, one `Place` sent)",
        "engine: step 1 (gather + merge 16 runs per shard, 600k `on_cell`)",
        "engine: `report` (tally 2M bins, histogram, expectations)",
        "engine: drop (free slots, bins, buffers)",
    ];
    let floor_names = [
        "floor: seed + 3 words per item, no counting",
        "floor: seed + 3 words + `counts[bin] += 1`",
        "floor: histogram of 2M counts (and zeroing)",
    ];
    let lines = engine_names
        .iter()
        .zip(&s.engine)
        .map(|(name, p)| (name.to_string(), *p))
        .chain([("**engine: sum**".to_string(), sum(&s.engine))])
        .chain([(
            "engine: whole `montecarlo::replicate`, same replications, unsplit".to_string(),
            s.whole,
        )])
        .chain(
            floor_names
                .iter()
                .zip(&s.floor)
                .map(|(name, p)| (name.to_string(), *p)),
        )
        .chain([(
            "**floor: sum (draws with counting + histogram)**".to_string(),
            sum(&s.floor[1..]),
        )]);
    for (name, p) in lines {
        let _ = writeln!(
            md,
            "| {name} | {:.2} | {:.0} |",
            ms(p.time) / n,
            p.faults as f64 / n
        );
    }
    md
}
