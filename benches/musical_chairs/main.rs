//! Musical chairs, timed four ways in one process, plus peak memory per task.
//!
//! Run with `cargo bench --bench musical_chairs` (`MICROSIM_BENCH_QUICK=1` for a smoke run).
//!
//! 1. Time: the source example's scenario (100,000 robots, 10000×10000 arena, 10 rounds = 1M claims) on
//!    - the engine (`microsim::Simulation`) at 1 thread and at all threads;
//!    - the floor: a hand-written single-thread loop doing the same draws and claims, which must
//!      produce exactly the engine's `claims_granted` / `claims_denied` (checked);
//!    - the same floor prefetching: robots in batches of 16 whose cells are drawn and
//!      prefetched first (the best a hand-written loop does; same results, checked);
//!    - tokio: one task per robot, claims sent over mpsc to 16 shard-owner tasks, answers on
//!      oneshot channels.
//! 2. Memory: 1M and 10M robots × 10 rounds on a 100000×100000 arena, each in a fresh child
//!    process (this binary re-invoked with `MICROSIM_BENCH_MEMORY=<robots>`), so that the peak
//!    RSS (`VmHWM`) is per case.
//!
//! Both tables are printed and written to `outputs/bench/musical_chairs.md`.

mod baselines;
mod memory;

use std::hint::black_box;
use std::time::{Duration, Instant};

use microsim::models::musical_chairs::{self, MusicalChairs, Params};
use microsim::{Counter, Ending, Metric, Order, Settings, Simulation, replication_seed};

use baselines::{PREFETCH_FLOOR, floor, floor_prefetching, tokio_version};
use memory::{MEMORY_VAR, memory_child, memory_table};

/// The scenario seed of every run here.
const SEED: u64 = 42;
/// Shards for the multi-shard runs and shard-owner tasks for tokio.
const SHARDS: usize = 16;
/// The environment variable that asks for a quick smoke run.
const QUICK_VAR: &str = "MICROSIM_BENCH_QUICK";
/// The environment variable that runs the timed variants round-robin instead of one by one.
const INTERLEAVE_VAR: &str = "MICROSIM_BENCH_INTERLEAVE";
/// The environment variable that runs one engine case over and over, for a profiler:
/// `MICROSIM_BENCH_PROFILE=<threads>,<shards>,<repetitions>`.
const PROFILE_VAR: &str = "MICROSIM_BENCH_PROFILE";

/// The model's counters and metrics the engine runs are read through.
const GRANTED: Counter = Counter::named(musical_chairs::COUNTERS, "claims_granted");
const DENIED: Counter = Counter::named(musical_chairs::COUNTERS, "claims_denied");
const MAX_POINTS: Metric = Metric::named(musical_chairs::METRICS, "max_points");
const WINNERS: Metric = Metric::named(musical_chairs::METRICS, "winners");

/// The result of one musical-chairs run, whichever way it was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outcome {
    granted: u64,
    denied: u64,
    /// The most points any robot got, and how many robots got that many (not known for tokio).
    max_points: Option<(u32, u64)>,
}

/// One row of the time table.
struct Row {
    variant: String,
    threads: usize,
    shards: String,
    times: Vec<Duration>,
    outcome: Outcome,
}

impl Row {
    fn best(&self) -> Duration {
        *self.times.iter().min().expect("at least one repetition")
    }

    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() / 2]
    }
}

fn main() {
    if let Ok(robots) = std::env::var(MEMORY_VAR) {
        let robots: u64 = robots
            .parse()
            .expect("MICROSIM_BENCH_MEMORY is a number of robots");
        memory_child(robots);
        return;
    }
    if let Ok(spec) = std::env::var(PROFILE_VAR) {
        profile(&spec);
        return;
    }
    let quick = std::env::var(QUICK_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let interleave = std::env::var(INTERLEAVE_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    let (reps, tokio_reps) = if quick { (2, 1) } else { (5, 3) };

    let params = Params::default();
    let model = MusicalChairs::new(params.clone());
    let rep_seed = replication_seed(SEED, 0);
    println!(
        "musical chairs: {} robots, {}x{} arena, {} rounds ({} claims); seed {SEED}; {all} threads available{}",
        params.robots,
        params.width,
        params.height,
        params.rounds,
        model.claims(),
        if quick { "; QUICK" } else { "" },
    );

    // Built before the variants that borrow it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(all)
        .build()
        .expect("a tokio runtime");

    // Every variant: its row, its number of timed repetitions, and one run of it.
    type Run<'a> = Box<dyn FnMut() -> (Duration, Outcome) + 'a>;
    let row = |variant: &str, threads: usize, shards: &str| Row {
        variant: variant.into(),
        threads,
        shards: shards.into(),
        times: Vec::new(),
        outcome: Outcome {
            granted: 0,
            denied: 0,
            max_points: None,
        },
    };
    let mut variants: Vec<(Row, usize, Run<'_>)> = vec![
        (
            row("floor (hand-written loop)", 1, "-"),
            reps,
            Box::new(|| floor(&params, rep_seed)),
        ),
        (
            row(PREFETCH_FLOOR, 1, "-"),
            reps,
            Box::new(|| floor_prefetching(&params, rep_seed)),
        ),
    ];
    let engine_cases = [
        ("engine", 1, 1, true),
        ("engine", 1, SHARDS, true),
        ("engine, histograms off", 1, 1, false),
        ("engine", all, SHARDS, true),
    ];
    let model = &model;
    for (variant, threads, shards, histograms) in engine_cases {
        let settings = Settings::default()
            .seed(rep_seed)
            .shards(shards)
            .order(Order::ById)
            .quantum(1)
            .max_steps(1000)
            .histograms(histograms);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool");
        variants.push((
            row(variant, threads, &shards.to_string()),
            reps,
            Box::new(move || pool.install(|| engine(model, settings))),
        ));
    }
    variants.push((
        row(
            "tokio (task per robot, mpsc + oneshot)",
            all,
            &SHARDS.to_string(),
        ),
        tokio_reps,
        Box::new(|| runtime.block_on(tokio_version(&params, rep_seed))),
    ));

    // Each variant: one untimed warm-up run, then its timed runs back to back. With
    // MICROSIM_BENCH_INTERLEAVE=1 the runs go round-robin instead (warm-up round, then rounds
    // that run every variant once), which spreads slow drifts of a shared machine over all
    // variants but lets one variant's threads and heap state disturb the next.
    let rounds = reps.max(tokio_reps);
    let order: Vec<(usize, usize)> = if interleave {
        (0..=rounds)
            .flat_map(|r| (0..variants.len()).map(move |v| (v, r)))
            .collect()
    } else {
        (0..variants.len())
            .flat_map(|v| (0..=rounds).map(move |r| (v, r)))
            .collect()
    };
    for (v, round) in order {
        let (row, n, run) = &mut variants[v];
        if round > *n {
            continue;
        }
        let (t, o) = run();
        if round == 0 {
            row.outcome = o;
            continue;
        }
        row.times.push(t);
        // Deterministic variants must repeat exactly; tokio must answer every claim.
        if o.max_points.is_some() {
            assert_eq!(o, row.outcome, "{}: repetitions disagree", row.variant);
        } else {
            assert_eq!(
                o.granted + o.denied,
                model.claims(),
                "{}: claims lost",
                row.variant
            );
        }
        if round == *n {
            eprintln!(
                "{} @ {} threads: best {:?}",
                row.variant,
                row.threads,
                row.best()
            );
        }
    }
    let rows: Vec<Row> = variants.into_iter().map(|(row, _, _)| row).collect();
    let reference = rows[0].outcome;
    for r in rows.iter().filter(|r| !r.variant.starts_with("tokio")) {
        check(
            &format!("{} @ {} threads, {} shards", r.variant, r.threads, r.shards),
            r.outcome,
            reference,
        );
    }
    let tokio = rows.last().expect("the tokio row").outcome;
    assert_eq!(
        tokio.granted + tokio.denied,
        model.claims(),
        "tokio: every claim must be answered ({} granted + {} denied)",
        tokio.granted,
        tokio.denied
    );

    let mut md = String::new();
    md.push_str(&time_table(
        &rows,
        &params,
        all,
        (reps, tokio_reps),
        interleave,
    ));
    md.push('\n');
    md.push_str(&memory_table(quick));
    println!("\n{md}");

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("outputs/bench");
    std::fs::create_dir_all(&dir).expect("create outputs/bench");
    let path = dir.join("musical_chairs.md");
    std::fs::write(&path, md).expect("write outputs/bench/musical_chairs.md");
    println!("written to {}", path.display());
}

/// Runs only the engine on the source example's scenario, `threads,shards,repetitions` times (for `perf`).
fn profile(spec: &str) {
    let n: Vec<usize> = spec
        .split(',')
        .map(|v| v.trim().parse().expect("threads,shards,reps"))
        .collect();
    let [threads, shards, reps] = n[..] else {
        panic!("{PROFILE_VAR}=threads,shards,repetitions")
    };
    let model = MusicalChairs::new(Params::default());
    let settings = Settings::default()
        .seed(replication_seed(SEED, 0))
        .shards(shards)
        .order(Order::ById)
        .quantum(1)
        .max_steps(1000)
        .histograms(true);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool");
    let (times, outcome) = repeat(reps, || pool.install(|| engine(&model, settings)));
    let best = times.iter().min().expect("at least one repetition");
    println!("engine @ {threads} threads, {shards} shards: best {best:?} of {reps}; {outcome:?}");
}

/// Runs `f` once untimed (warm-up: caches, page faults, clock) and then `n` times; returns the
/// `n` times and the (identical) outcome. Used by the profiling mode.
fn repeat(n: usize, mut f: impl FnMut() -> (Duration, Outcome)) -> (Vec<Duration>, Outcome) {
    let mut times = Vec::with_capacity(n);
    let mut first = None;
    for i in 0..=n {
        let (t, o) = f();
        if i > 0 {
            times.push(t);
        }
        match first {
            None => first = Some(o),
            // Deterministic variants must repeat exactly; tokio must at least answer every claim.
            Some(f) if f.max_points.is_some() => assert_eq!(f, o, "repetitions disagree"),
            Some(f) => assert_eq!(
                f.granted + f.denied,
                o.granted + o.denied,
                "repetitions disagree"
            ),
        }
    }
    (times, first.expect("at least one repetition"))
}

/// Panics unless an engine run made exactly the floor's claims.
fn check(what: &str, got: Outcome, floor: Outcome) {
    if got != floor {
        panic!(
            "{what}: the engine and the floor disagree: engine granted {} denied {} max_points {:?}, \
             floor granted {} denied {} max_points {:?} (same seed, same draws, claims settled in \
             robot-id order; they must match exactly)",
            got.granted, got.denied, got.max_points, floor.granted, floor.denied, floor.max_points
        );
    }
}

/// The engine: build the simulation, run it to the end, read the counters.
fn engine(model: &MusicalChairs, settings: Settings) -> (Duration, Outcome) {
    let start = Instant::now();
    let mut sim = Simulation::new(model, settings);
    let ending = sim.run(|_| true);
    let elapsed = start.elapsed();
    assert_eq!(ending, Ending::Finished, "the engine run did not finish");
    let report = sim.report();
    let tally = sim.tally();
    let outcome = Outcome {
        granted: tally.total(GRANTED),
        denied: tally.total(DENIED),
        max_points: Some((
            report.metric(MAX_POINTS) as u32,
            report.metric(WINNERS) as u64,
        )),
    };
    black_box(sim);
    (elapsed, outcome)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn time_table(
    rows: &[Row],
    p: &Params,
    all: usize,
    (reps, tokio_reps): (usize, usize),
    interleave: bool,
) -> String {
    use std::fmt::Write;
    let floor = rows
        .iter()
        .find(|r| r.variant.starts_with("floor"))
        .expect("floor row")
        .best();
    let find = |threads: usize, shards: &str| {
        rows.iter()
            .find(|r| r.variant == "engine" && r.threads == threads && r.shards == shards)
            .expect("engine row")
            .best()
    };
    let prefetching = rows
        .iter()
        .find(|r| r.variant == PREFETCH_FLOOR)
        .expect("prefetching floor row")
        .best();
    let tokio = rows
        .iter()
        .find(|r| r.variant.starts_with("tokio"))
        .expect("tokio row")
        .best();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Musical chairs: {} robots, {}x{} arena, {} rounds ({} claims), seed {SEED}\n",
        p.robots,
        p.width,
        p.height,
        p.rounds,
        p.robots * p.rounds as u64
    );
    let _ = writeln!(
        s,
        "Time = best of {reps} (engine, floor) / best of {tokio_reps} (tokio), build + run, after one \
         untimed warm-up; median alongside. {all} hardware threads. Runs {}.\n",
        if interleave {
            "interleaved round-robin"
        } else {
            "one variant after another"
        }
    );
    let _ = writeln!(
        s,
        "| variant | threads | shards | time (ms) | median (ms) | ratio to floor | claims_denied |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {} |",
            r.variant,
            r.threads,
            r.shards,
            ms(r.best()),
            ms(r.median()),
            r.best().as_secs_f64() / floor.as_secs_f64(),
            r.outcome.denied
        );
    }
    let e1 = find(1, "1");
    let e1_16 = find(1, &SHARDS.to_string());
    let eall = find(all, &SHARDS.to_string());
    let _ = writeln!(
        s,
        "\nengine@1 thread / floor = {:.2} (target ≤ 2) [1 shard; {:.2} with {SHARDS} shards]",
        e1.as_secs_f64() / floor.as_secs_f64(),
        e1_16.as_secs_f64() / floor.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "engine@1 thread / prefetching floor = {:.2} [1 shard; {:.2} with {SHARDS} shards]",
        e1.as_secs_f64() / prefetching.as_secs_f64(),
        e1_16.as_secs_f64() / prefetching.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "tokio / engine@all threads = {:.2} (target ≥ 15) [{all} threads, {SHARDS} shards]",
        tokio.as_secs_f64() / eall.as_secs_f64()
    );
    s
}
