//! Peak memory per task: 1M and 10M robots, each case in a fresh child process (this binary
//! re-invoked with `MICROSIM_BENCH_MEMORY=<robots>`), so that the peak RSS is per case.

use std::process::Command;
use std::time::Instant;

use microsim::models::musical_chairs::{MusicalChairs, Params, Robot};
use microsim::{Ending, Model, Order, Settings, Simulation, replication_seed};

use crate::{DENIED, QUICK_VAR, SEED, SHARDS};

/// The environment variable that makes this binary a memory child.
pub const MEMORY_VAR: &str = "MICROSIM_BENCH_MEMORY";
/// The prefix of the line a memory child prints for its parent.
const MEMORY_TAG: &str = "MICROSIM_MEMORY_RESULT";

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
pub fn memory_child(robots: u64) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(all)
        .build()
        .expect("a rayon pool");
    // Make sure the workers exist before the baseline.
    pool.broadcast(|_| ());
    let model = MusicalChairs::new(memory_params(robots));
    let settings = Settings::default()
        .seed(replication_seed(SEED, 0))
        .shards(SHARDS)
        .order(Order::ById)
        .quantum(1)
        .max_steps(1000)
        .histograms(true);
    let baseline = proc_status_kb("VmRSS");
    let start = Instant::now();
    let (built, ending, denied) = pool.install(|| {
        let mut sim = Simulation::new(&model, settings);
        let built = proc_status_kb("VmRSS");
        let ending = sim.run(|_| true);
        (built, ending, sim.tally().total(DENIED))
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
pub fn memory_table(quick: bool) -> String {
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
         robots × {} B (Robot) + cell sets (`MusicalChairs::estimate_bytes`). Target ≤ 48.\n",
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
