//! Soak: does memory grow with the number of replications?
//!
//! Runs a small gift lottery (Mamma Mia in miniature: 2,000 items into 6,000 bins, one shard)
//! for many replications through the real run path — `Registry::parse` on a TOML text, then
//! `runner::execute` into a temporary result directory, with every file streamed as `microsim
//! run` streams it — and samples the resident memory (`VmRSS` in `/proc/self/status`) every
//! `N` replications. It prints the table of RSS over replications and the slope of a
//! least-squares line through the samples after warm-up (the first quarter is left out: the
//! allocator, the thread pool and the writers' buffers settle there), in bytes per replication.
//! A run whose memory does not grow with replications has a slope near 0; a result kept in
//! memory per replication shows as its size.
//!
//! ```sh
//! cargo bench --bench soak                  # 20,000 replications
//! cargo bench --bench soak -- 100000        # or MICROSIM_SOAK_REPLICATIONS=100000
//! ```
//!
//! Linux only (it reads `/proc/self/status`); elsewhere it prints that it cannot measure.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use microsim::Registry;
use microsim::internal::montecarlo::Progress;
use microsim::internal::{Manifest, Options, execute};

/// Replications by default.
const DEFAULT_REPLICATIONS: u64 = 20_000;
/// The environment variable that sets the number of replications.
const REPLICATIONS_VAR: &str = "MICROSIM_SOAK_REPLICATIONS";
/// Samples taken over the run (one every `replications / SAMPLES` replications).
const SAMPLES: u64 = 20;

/// The resident memory now (`VmRSS`), in bytes.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Samples RSS when every `every`-th replication is done (called from worker threads).
struct Sampler {
    every: u64,
    samples: Mutex<Vec<(u64, u64)>>,
}

impl Progress for Sampler {
    fn replication_done(&self, replication: u64) {
        let done = replication + 1;
        if done.is_multiple_of(self.every)
            && let Some(rss) = rss_bytes()
        {
            self.samples.lock().expect("not poisoned").push((done, rss));
        }
    }
}

/// The least-squares slope of `y` over `x`.
fn slope(points: &[(u64, u64)]) -> f64 {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let sxy: f64 = points
        .iter()
        .map(|p| (p.0 as f64 - mx) * (p.1 as f64 - my))
        .sum();
    let sxx: f64 = points.iter().map(|p| (p.0 as f64 - mx).powi(2)).sum();
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

fn main() {
    let from_arg = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok());
    let from_env = std::env::var(REPLICATIONS_VAR)
        .ok()
        .and_then(|v| v.parse().ok());
    let reps: u64 = from_arg
        .or(from_env)
        .unwrap_or(DEFAULT_REPLICATIONS)
        .max(SAMPLES);
    if rss_bytes().is_none() {
        println!("soak: /proc/self/status has no VmRSS here; nothing to measure");
        return;
    }
    let text = format!(
        "[scenario]\nname = \"soak\"\nmodel = \"gift_lottery\"\n\
         [model]\nitems = 2000\nbins = 6000\n\
         [run]\nseed = 7\nshards = 1\n\
         [montecarlo]\nreplications = {reps}\n\
         [output]\nplots = []\n"
    );
    let scenario = Registry::builtin()
        .parse(text.as_bytes(), Path::new("soak.toml"), &[])
        .expect("the soak scenario is valid");
    let tmp = std::env::temp_dir().join(format!("microsim-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("a temporary directory");
    let opts = Options {
        dir: tmp.join("soak"),
        only: None,
        slice: None,
        manifest: Manifest {
            command_line: vec!["soak".into()],
            started_at: String::new(),
            threads: scenario.threads(),
            ..Manifest::default()
        },
    };
    let sampler = Sampler {
        every: reps / SAMPLES,
        samples: Mutex::new(Vec::new()),
    };
    let stop = AtomicBool::new(false);
    let before = rss_bytes().unwrap_or(0);
    let start = Instant::now();
    let outcome = execute(&scenario, &opts, &stop, &sampler).expect("the soak run writes");
    let elapsed = start.elapsed();
    let after = rss_bytes().unwrap_or(0);
    let details = std::fs::metadata(opts.dir.join("details.json")).map_or(0, |m| m.len());
    let _ = std::fs::remove_dir_all(&tmp);

    let mut samples = sampler.samples.into_inner().expect("not poisoned");
    samples.sort();
    println!(
        "soak: gift_lottery 2000 items, 6000 bins, 1 shard, {} replications, {} threads, {:.1} s; \
         details.json {:.1} MB ({:.0} bytes per replication)",
        outcome.replications,
        scenario.threads(),
        elapsed.as_secs_f64(),
        details as f64 / 1e6,
        details as f64 / outcome.replications.max(1) as f64,
    );
    println!(
        "{:>12} {:>12} {:>14}",
        "replications", "RSS (MiB)", "Δ start (KiB)"
    );
    let base = samples.first().map_or(before, |s| s.1);
    for (n, rss) in &samples {
        println!(
            "{n:>12} {:>12.2} {:>14}",
            *rss as f64 / (1 << 20) as f64,
            (*rss as i64 - base as i64) / 1024
        );
    }
    let settled = &samples[samples.len() / 4..];
    println!(
        "RSS before the run {:.2} MiB, after it {:.2} MiB (summary, histograms written)",
        before as f64 / (1 << 20) as f64,
        after as f64 / (1 << 20) as f64
    );
    println!(
        "slope after warm-up ({} samples from replication {}): {:.1} bytes per replication",
        settled.len(),
        settled.first().map_or(0, |s| s.0),
        slope(settled)
    );
}
