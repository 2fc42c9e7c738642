//! Musical chairs, timed three ways in one process, plus peak memory per task.
//!
//! Run with `cargo bench --bench musical_chairs` (`MICROSIM_BENCH_QUICK=1` for a smoke run).
//!
//! 1. Time: the seed scenario (100,000 robots, 10000×10000 arena, 10 rounds = 1M claims) on
//!    - the engine (`microsim::scheduler::Simulation`) at 1 thread and at all threads;
//!    - the floor: a hand-written single-thread loop doing the same draws and claims, which must
//!      produce exactly the engine's `claims_granted` / `claims_denied` (checked);
//!    - tokio: one task per robot, claims sent over mpsc to 16 shard-owner tasks, answers on
//!      oneshot channels.
//! 2. Memory: 1M and 10M robots × 10 rounds on a 100000×100000 arena, each in a fresh child
//!    process (this binary re-invoked with `MICROSIM_BENCH_MEMORY=<robots>`), so that the peak
//!    RSS (`VmHWM`) is per case.
//!
//! Both tables are printed and written to `outputs/bench/musical_chairs.md`.

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use microsim::Model;
use microsim::models::musical_chairs::{MusicalChairs, Params, Robot};
use microsim::rng::{replication_seed, task_rng};
use microsim::scheduler::{Ending, Order, Settings, Simulation};
use rand::RngExt;

/// The scenario seed of every run here.
const SEED: u64 = 42;
/// Shards for the multi-shard runs and shard-owner tasks for tokio.
const SHARDS: usize = 16;
/// The environment variable that makes this binary a memory child.
const MEMORY_VAR: &str = "MICROSIM_BENCH_MEMORY";
/// The environment variable that asks for a quick smoke run.
const QUICK_VAR: &str = "MICROSIM_BENCH_QUICK";
/// The environment variable that runs the timed variants round-robin instead of one by one.
const INTERLEAVE_VAR: &str = "MICROSIM_BENCH_INTERLEAVE";
/// The environment variable that runs one engine case over and over, for a profiler:
/// `MICROSIM_BENCH_PROFILE=<threads>,<shards>,<repetitions>`.
const PROFILE_VAR: &str = "MICROSIM_BENCH_PROFILE";
/// The prefix of the line a memory child prints for its parent.
const MEMORY_TAG: &str = "MICROSIM_MEMORY_RESULT";

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
        let settings = Settings {
            seed: rep_seed,
            shards,
            order: Order::ById,
            quantum: 1,
            max_steps: 1000,
            histograms,
        };
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

/// Runs only the engine on the seed scenario, `threads,shards,repetitions` times (for `perf`).
fn profile(spec: &str) {
    let n: Vec<usize> = spec
        .split(',')
        .map(|v| v.trim().parse().expect("threads,shards,reps"))
        .collect();
    let [threads, shards, reps] = n[..] else {
        panic!("{PROFILE_VAR}=threads,shards,repetitions")
    };
    let model = MusicalChairs::new(Params::default());
    let settings = Settings {
        seed: replication_seed(SEED, 0),
        shards,
        order: Order::ById,
        quantum: 1,
        max_steps: 1000,
        histograms: true,
    };
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
    let counters = sim.counters();
    let outcome = Outcome {
        granted: counters[0],
        denied: counters[1],
        max_points: Some((report.metrics[3] as u32, report.metrics[4] as u64)),
    };
    black_box(sim);
    (elapsed, outcome)
}

/// The floor: the same draws and claims in a tight single-thread loop.
fn floor(p: &Params, rep_seed: u64) -> (Duration, Outcome) {
    let start = Instant::now();
    let mut rngs: Vec<_> = (0..p.robots).map(|id| task_rng(rep_seed, id)).collect();
    let mut points = vec![0u32; p.robots as usize];
    let mut taken = vec![0u64; (p.width * p.height).div_ceil(64) as usize];
    let (mut granted, mut denied) = (0u64, 0u64);
    for _ in 0..p.rounds {
        for (rng, pts) in rngs.iter_mut().zip(points.iter_mut()) {
            let x = rng.random_range(0..p.width);
            let y = rng.random_range(0..p.height);
            let cell = y * p.width + x;
            let (w, bit) = ((cell / 64) as usize, 1u64 << (cell % 64));
            let fresh = taken[w] & bit == 0;
            taken[w] |= bit;
            granted += fresh as u64;
            denied += !fresh as u64;
            *pts += fresh as u32;
        }
    }
    let elapsed = start.elapsed();
    let max = points.iter().copied().max().unwrap_or(0);
    let winners = points.iter().filter(|&&n| n == max).count() as u64;
    black_box((&rngs, &taken));
    (
        elapsed,
        Outcome {
            granted,
            denied,
            max_points: Some((max, winners)),
        },
    )
}

/// The floor's row name when it prefetches.
const PREFETCH_FLOOR: &str = "floor, prefetching (batches of 16)";

/// The floor as a performance engineer would write it: the same draws and claims in the same
/// order, but each round's robots go in batches of 16 whose cells are drawn first and
/// prefetched, so that the batch's cache misses overlap (what the engine does when it handles
/// a shard's claims).
fn floor_prefetching(p: &Params, rep_seed: u64) -> (Duration, Outcome) {
    const BATCH: usize = 16;
    let start = Instant::now();
    let mut rngs: Vec<_> = (0..p.robots).map(|id| task_rng(rep_seed, id)).collect();
    let mut points = vec![0u32; p.robots as usize];
    let mut taken = vec![0u64; (p.width * p.height).div_ceil(64) as usize];
    let (mut granted, mut denied) = (0u64, 0u64);
    let mut cells = [0u64; BATCH];
    for _ in 0..p.rounds {
        for (rngs, pts) in rngs.chunks_mut(BATCH).zip(points.chunks_mut(BATCH)) {
            for (rng, cell) in rngs.iter_mut().zip(cells.iter_mut()) {
                let x = rng.random_range(0..p.width);
                let y = rng.random_range(0..p.height);
                *cell = y * p.width + x;
                microsim::prefetch::prefetch_read(&taken[(*cell / 64) as usize]);
            }
            for (&cell, pts) in cells.iter().zip(pts.iter_mut()) {
                let (w, bit) = ((cell / 64) as usize, 1u64 << (cell % 64));
                let fresh = taken[w] & bit == 0;
                taken[w] |= bit;
                granted += fresh as u64;
                denied += !fresh as u64;
                *pts += fresh as u32;
            }
        }
    }
    let elapsed = start.elapsed();
    let max = points.iter().copied().max().unwrap_or(0);
    let winners = points.iter().filter(|&&n| n == max).count() as u64;
    black_box((&rngs, &taken));
    (
        elapsed,
        Outcome {
            granted,
            denied,
            max_points: Some((max, winners)),
        },
    )
}

/// A claim sent to a shard owner: the cell, and where to send the answer.
type Claim = (u64, tokio::sync::oneshot::Sender<bool>);

/// What a Rust user would write: a tokio task per robot, a task per shard owning its cells.
async fn tokio_version(p: &Params, rep_seed: u64) -> (Duration, Outcome) {
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
                let mut rng = task_rng(rep_seed, id);
                let (mut granted, mut denied) = (0u64, 0u64);
                for _ in 0..rounds {
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

// ---------------------------------------------------------------------------------------------
// Memory

/// A field of `/proc/self/status`, in kB.
fn proc_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The memory case: `robots` robots × 10 rounds on a 100000×100000 arena, 16 shards, all threads.
fn memory_params(robots: u64) -> Params {
    Params {
        robots,
        width: 100_000,
        height: 100_000,
        rounds: 10,
    }
}

/// Runs one memory case in this (fresh) process and prints one line for the parent.
fn memory_child(robots: u64) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(all)
        .build()
        .expect("a rayon pool");
    // Make sure the workers exist before the baseline.
    pool.broadcast(|_| ());
    let model = MusicalChairs::new(memory_params(robots));
    let settings = Settings {
        seed: replication_seed(SEED, 0),
        shards: SHARDS,
        order: Order::ById,
        quantum: 1,
        max_steps: 1000,
        histograms: true,
    };
    let baseline = proc_status_kb("VmRSS");
    let start = Instant::now();
    let (built, ending, denied) = pool.install(|| {
        let mut sim = Simulation::new(&model, settings);
        let built = proc_status_kb("VmRSS");
        let ending = sim.run(|_| true);
        (built, ending, sim.counters()[1])
    });
    let secs = start.elapsed().as_secs_f64();
    let peak = proc_status_kb("VmHWM");
    assert_eq!(ending, Ending::Finished, "memory run did not finish");
    let model_bytes = <MusicalChairs as Model>::estimate_bytes(&model, SHARDS);
    println!(
        "{MEMORY_TAG} robots={robots} baseline_kb={baseline} built_kb={built} peak_kb={peak} \
         model_bytes={model_bytes} secs={secs} denied={denied} threads={all}"
    );
}

/// Runs the memory cases in child processes and formats their table.
fn memory_table(quick: bool) -> String {
    use std::fmt::Write;
    let cases: &[u64] = if quick {
        &[1_000_000]
    } else {
        &[1_000_000, 10_000_000]
    };
    let exe = std::env::current_exe().expect("current_exe");
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Memory: robots × 10 rounds, 100000x100000 arena, {SHARDS} shards, all threads, \
         histograms on (one child process per case)\n"
    );
    let _ = writeln!(
        s,
        "engine bytes per task = (peak RSS − RSS before build − model bytes) / robots; model bytes = \
         robots × {} B (Robot) + cell sets (`MusicalChairs::estimate_bytes`). Target ≤ 64.\n",
        std::mem::size_of::<Robot>()
    );
    let _ = writeln!(
        s,
        "| robots | peak RSS (MiB) | model bytes (MiB) | engine bytes per task | time (s) | RSS after build (MiB) | claims_denied |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|");
    let mib = |b: f64| b / (1024.0 * 1024.0);
    for &robots in cases {
        eprintln!("memory: {robots} robots (child process)...");
        let out = Command::new(&exe)
            .env(MEMORY_VAR, robots.to_string())
            .env_remove(QUICK_VAR)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run the memory child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "memory child for {robots} robots failed: {}\n{stdout}",
            out.status
        );
        let line = stdout
            .lines()
            .find(|l| l.starts_with(MEMORY_TAG))
            .unwrap_or_else(|| panic!("memory child printed no result:\n{stdout}"));
        let field = |name: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        };
        let (baseline, built, peak) = (
            field("baseline_kb") * 1024.0,
            field("built_kb") * 1024.0,
            field("peak_kb") * 1024.0,
        );
        let model_bytes = field("model_bytes");
        let per_task = (peak - baseline - model_bytes) / robots as f64;
        let _ = writeln!(
            s,
            "| {robots} | {:.0} | {:.0} | {:.0} | {:.2} | {:.0} | {} |",
            mib(peak),
            mib(model_bytes),
            per_task,
            field("secs"),
            mib(built),
            field("denied")
        );
    }
    if quick {
        let _ = writeln!(s, "\n(QUICK: the 10M case was skipped.)");
    }
    s
}
