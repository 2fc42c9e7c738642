//! Mamma Mia (gift_lottery: 600,000 items into 2,000,000 bins, uniform, keep 0, interaction 0),
//! timed per replication in one process.
//!
//! Run with `cargo bench --bench mamma_mia` (`MICROSIM_BENCH_QUICK=1` for a smoke run).
//!
//! 1. The engine through the real Monte Carlo path (`Registry::parse` on a TOML text,
//!    `montecarlo::run` with a sink that keeps the metrics), `R` replications (default 100,
//!    quick 10), 16 shards, at 1 thread and at all threads.
//! 2. The floor: a hand-written single-thread loop making the same draws per item (keep word,
//!    bin word, interaction word, from `step_rng(replication_seed(SEED, r), id, 0)`: its stream in step 0) and counting
//!    copies per bin, then the histogram of counts. It must reproduce the engine's metrics
//!    exactly, replication by replication (checked; the bench panics otherwise). Timed as the
//!    median of a few repeats of all `R` replications. Beside it the same floor prefetching:
//!    items in batches of 16 whose bins are drawn and prefetched first (same metrics, checked).
//! 3. Where the time goes: a few replications split with `Instant` (engine at 1 thread:
//!    `Simulation::new`, step 0, step 1, report, drop, and the same replications whole through
//!    `montecarlo::replicate`; floor: seeding and draws, counting, histogram). Every row also
//!    shows the minor page faults per replication (`/proc/self/stat`): the engine allocates its
//!    message buffers afresh in every replication.
//!
//! Everything printed is also written to `outputs/bench/mamma_mia.md`.
//! `MICROSIM_BENCH_PROFILE=<threads>,<replications>` runs only the engine (for `perf record`).

mod floor;
mod split;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use microsim::internal::montecarlo::{Replication, Silent, Sink};
use microsim::internal::scenario::Scenario;
use microsim::models::gift_lottery::{self, GiftLottery};
use microsim::{Ending, ModelParams, Registry, replication_seed};

use floor::{
    PREFETCH_FLOOR, SINGLE_STREAM, check, check_distribution, draw_prefetching, draw_single_stream,
    floor, floor_with,
};
use split::{Mark, Phase, Split, split};

/// The scenario seed.
const SEED: u64 = 42;
/// Items (DVDs) and bins (Christmas trees): the source notes' numbers.
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

/// The allocator the `microsim` binary uses (see `microsim::alloc`).
#[global_allocator]
static ALLOC: microsim::alloc::Allocator = microsim::alloc::Allocator;

fn main() {
    microsim::alloc::keep_freed_pages();
    if let Ok(spec) = std::env::var(PROFILE_VAR) {
        profile(&spec);
        return;
    }
    let quick = std::env::var(QUICK_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    let reps: u64 = if quick { 10 } else { 100 };
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "mamma mia: {ITEMS} items, {BINS} bins, uniform, keep 0, interaction 0; seed {SEED}; \
         {reps} replications; default shards (1) and {SHARDS}; {all} threads available{}",
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
    // The same floor prefetching, and the single-stream loop (its metrics agree in
    // distribution only): medians of as many repeats.
    rows.push(floor_row(PREFETCH_FLOOR, reps, draw_prefetching, |m| {
        check("prefetching floor", m, &reference)
    }));
    rows.push(floor_row(SINGLE_STREAM, reps, draw_single_stream, |m| {
        check_distribution(SINGLE_STREAM, m, &reference)
    }));
    for (threads, shards) in [
        (1, None),
        (all, None),
        (1, Some(SHARDS)),
        (all, Some(SHARDS)),
    ] {
        let before = Mark::now();
        let (total, sink) = engine(threads, reps, shards);
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
            variant: match shards {
                None => "engine (montecarlo::run), default shards (1)".into(),
                Some(n) => format!("engine (montecarlo::run), {n} shards"),
            },
            threads,
            total,
            mean_replicate: Some(mean),
            faults: faults as f64 / reps as f64,
            cores: after.cores_since(&before),
        });
    }

    let split_reps = SPLIT_REPS.min(reps);
    let split = split(split_reps, &reference);
    let scaling = scaling(all, reps);

    let mut md = report(&rows, reps, all, floor_best, &split, split_reps);
    md.push_str(&scaling);
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

/// The row of a hand-written loop drawing replications with `draw`: the median of
/// [`FLOOR_REPEATS`] timed repeats, each repeat's metrics passed to `check`.
fn floor_row(name: &str, reps: u64, draw: fn(u64, &mut [u32]), check: impl Fn(&[Metrics])) -> Row {
    let before = Mark::now();
    let mut times: Vec<Duration> = (0..FLOOR_REPEATS)
        .map(|_| {
            let (t, m) = floor_with(reps, draw);
            check(&m);
            t
        })
        .collect();
    let after = Mark::now();
    times.sort();
    Row {
        variant: format!("{name}, median of {FLOOR_REPEATS}"),
        threads: 1,
        total: times[times.len() / 2],
        mean_replicate: None,
        faults: (after.faults - before.faults) as f64 / (FLOOR_REPEATS as u64 * reps) as f64,
        cores: after.cores_since(&before),
    }
}

/// The scenario text: the source notes' lottery, `reps` replications on `threads` threads,
/// with `shards` shards (`None`: the default, 1 for several replications).
fn scenario_toml(threads: usize, reps: u64, shards: Option<usize>) -> String {
    let shards = shards.map_or(String::new(), |n| format!("shards = {n}\n"));
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
         {shards}\
         \n\
         [montecarlo]\n\
         replications = {reps}\n"
    )
}

fn scenario(threads: usize, reps: u64, shards: Option<usize>) -> Scenario {
    let text = scenario_toml(threads, reps, shards);
    Registry::builtin()
        .parse(text.as_bytes(), Path::new("mamma_mia_bench.toml"), &[])
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
fn engine(threads: usize, reps: u64, shards: Option<usize>) -> (Duration, Metered) {
    let start = Instant::now();
    let scenario = scenario(threads, reps, shards);
    assert_eq!(scenario.threads(), threads);
    let plan = scenario.plan(None);
    let mut sink = Metered::default();
    let stats = scenario
        .run_replications(&plan, &mut sink, &AtomicBool::new(false), &Silent)
        .expect("the Monte Carlo run");
    let total = start.elapsed();
    assert_eq!(stats.replications, reps, "not every replication ran");
    assert!(!stats.interrupted, "the run was interrupted");
    (total, sink)
}

/// Items and bins of the big single replication in the scaling table (ten times the source's).
const BIG_ITEMS: u64 = 6_000_000;
const BIG_BINS: u64 = 20_000_000;

/// The thread-scaling table: at 1, 2, 4, … up to `all` threads, (a) the same `reps`
/// replications (speed-up = 1-thread time / time; ideal = threads) and (b) one big
/// replication (10× the source's numbers, 64 shards) stepped by that many threads.
fn scaling(all: usize, reps: u64) -> String {
    use std::fmt::Write;
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |t| Some(t * 2))
        .take_while(|&t| t < all)
        .collect();
    counts.push(all);
    let mut md = format!(
        "\n### Thread scaling ({all} hardware threads)\n\n\
         Replications: the same {reps} replications at each thread count. One big replication: \
         {BIG_ITEMS} items into {BIG_BINS} bins, 64 shards stepped in parallel. Speed-up = \
         1-thread time / time (ideal: the thread count). CPU cores busy = CPU time / wall time.\n\n\
         | threads | replications (s) | speed-up | cores busy | one big replication (s) | speed-up | cores busy |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n"
    );
    let mut base: Option<(f64, f64)> = None;
    for &t in &counts {
        let before = Mark::now();
        let (total, _) = engine(t, reps, None);
        let after = Mark::now();
        let reps_s = total.as_secs_f64();
        let reps_cores = after.cores_since(&before);
        // Best of two: the first run at a thread count also faults in fresh pages.
        let before = Mark::now();
        let big = big_replication(t).min(big_replication(t));
        let after = Mark::now();
        let big_s = big.as_secs_f64();
        let big_cores = after.cores_since(&before);
        let (r1, b1) = *base.get_or_insert((reps_s, big_s));
        eprintln!("scaling @ {t} threads: replications {reps_s:.3} s, big {big_s:.3} s");
        let _ = writeln!(
            md,
            "| {t} | {reps_s:.3} | {:.2} | {reps_cores:.2} | {big_s:.3} | {:.2} | {big_cores:.2} |",
            r1 / reps_s,
            b1 / big_s
        );
    }
    md
}

/// One replication of the big lottery on `threads` threads (its 64 shards in parallel).
fn big_replication(threads: usize) -> Duration {
    let text = format!(
        "[scenario]\nname = \"big\"\nmodel = \"gift_lottery\"\n\n[model]\nitems = {BIG_ITEMS}\n\
         bins = {BIG_BINS}\n\n[run]\nseed = {SEED}\nthreads = {threads}\nshards = 64\n\n\
         [montecarlo]\nreplications = 1\n"
    );
    let scenario = Registry::builtin()
        .parse(text.as_bytes(), Path::new("big.toml"), &[])
        .unwrap_or_else(|e| panic!("the big scenario does not load: {e}"));
    let start = Instant::now();
    let mut sink = Metered::default();
    scenario
        .run_replications(
            &scenario.plan(None),
            &mut sink,
            &AtomicBool::new(false),
            &Silent,
        )
        .expect("the big replication");
    start.elapsed()
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
    let (total, _) = engine(threads as usize, reps, None);
    println!(
        "engine @ {threads} threads: {reps} replications in {:.3} s ({:.2} ms/replication)",
        total.as_secs_f64(),
        ms(total) / reps as f64
    );
}

/// The model of a gift_lottery scenario, built as the Monte Carlo path builds it: from the
/// `[model]` table of the resolved scenario (every default filled in), through
/// [`ModelParams::build`].
fn model_of(scenario: &Scenario) -> GiftLottery {
    assert_eq!(scenario.run.shards, Some(SHARDS as u64));
    assert_eq!(
        scenario.model_name(),
        <gift_lottery::Params as ModelParams>::NAME,
        "the bench scenario is not a gift_lottery"
    );
    let mut resolved: toml::Table =
        toml::from_str(scenario.resolved_toml()).expect("the resolved scenario is TOML");
    let table = resolved
        .remove("model")
        .expect("the resolved scenario has a [model] table");
    let params: gift_lottery::Params = table
        .try_into()
        .unwrap_or_else(|e| panic!("the bench scenario's [model] is not gift_lottery's: {e}"));
    assert_eq!((params.items, params.bins), (ITEMS, BINS));
    params.build()
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
        "{reps} replications per row, the default shard count (1: replications run in parallel) or {SHARDS} shards, engine histograms on (the scenario default); the ratios below use the default. \
         Engine = one `run_replications` over a scenario parsed with `Registry::parse` (parse, \
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
    let single = rows
        .iter()
        .find(|r| r.variant.starts_with(SINGLE_STREAM))
        .map(|r| per(r.total))
        .expect("single-stream row");
    let _ = writeln!(
        md,
        "engine@1 thread / single-stream loop = {:.2} (target ≤ 1.5)",
        e1 / single
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
        "engine: step 0 (600k tasks run: one word each, one `Place` sent)",
        "engine: step 1 (gather + merge 16 runs per shard, 600k `on_cell`)",
        "engine: `report` (tally 2M bins, histogram, expectations)",
        "engine: drop (free slots, bins, buffers)",
    ];
    let floor_names = [
        "floor: key + word 1 per item, no counting",
        "floor: key + word 1 + `counts[bin] += 1`",
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
