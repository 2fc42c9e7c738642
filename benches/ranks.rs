//! The honest cost of going distributed: replications of one scenario run by one process and
//! by `mpirun -np N` (N = 1, 2, 4) of the real binary, each rank on one thread, interleaved,
//! whole process (MPI start-up included), plots off. What crosses between ranks is every
//! worker's share of the results (its rows of replications.csv, steps.csv and details.json,
//! and its histograms), gathered by rank 0 once per chunk; the table gives its size and rate.
//!
//! ```sh
//! cargo bench --features mpi --bench ranks
//! ```
//!
//! Needs the `mpi` feature and `mpirun` (Open MPI or MPICH) on the PATH; on a machine with
//! fewer cores than ranks, the ranks share them (`--oversubscribe`).

#[cfg(not(feature = "mpi"))]
fn main() {
    eprintln!("the ranks benchmark needs MPI: cargo bench --features mpi --bench ranks");
}

#[cfg(feature = "mpi")]
fn main() {
    bench::main();
}

#[cfg(feature = "mpi")]
mod bench {
    use std::path::Path;
    use std::process::Command;
    use std::time::{Duration, Instant};

    const RUNS: usize = 3;
    const REPLICATIONS: u64 = 480;

    /// One run into `dir` on `threads` threads per process, by one process (`ranks` = 0) or
    /// by `mpirun -np ranks`.
    fn once(ranks: usize, threads: usize, dir: &Path) -> Duration {
        let _ = std::fs::remove_dir_all(dir);
        let bin = env!("CARGO_BIN_EXE_microsim");
        let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mamma_mia.toml");
        let reps = format!("montecarlo.replications={REPLICATIONS}");
        let threads = threads.to_string();
        let args = [
            "run",
            scenario,
            "--quiet",
            "--threads",
            &threads,
            "--set",
            "output.plots=[]",
            "--set",
            &reps,
            "--out",
            dir.to_str().expect("a UTF-8 path"),
        ];
        let mut c = if ranks == 0 {
            Command::new(bin)
        } else {
            let mut c = Command::new("mpirun");
            c.args(["--oversubscribe", "-np", &ranks.to_string(), bin]);
            c
        };
        c.args(args)
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        let t = Instant::now();
        let out = c.output().expect("the run starts");
        let wall = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        wall
    }

    /// Bytes of the streamed result files of `dir` (what the workers' shares are made of).
    fn result_bytes(dir: &Path) -> u64 {
        ["replications.csv", "steps.csv", "details.json"]
            .iter()
            .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
            .sum()
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    pub fn main() {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // (ranks, threads per rank): one process on 1 thread and on every core, then ranks.
        let configs = [(0usize, 1usize), (0, cores), (1, 1), (2, 1), (4, 1)];
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
        for _ in 0..RUNS {
            for (i, &(ranks, threads)) in configs.iter().enumerate() {
                let dir = tmp.path().join(format!("r{ranks}-{threads}"));
                times[i].push(once(ranks, threads, &dir).as_secs_f64());
            }
        }
        let bytes = result_bytes(&tmp.path().join("r0-1"));
        println!(
            "Mamma Mia (600k gifts, 2M trees), {REPLICATIONS} replications, {cores} cores, \
             median of {RUNS} (whole process, plots off; ranks on 1 thread each)\n"
        );
        println!(
            "| run | wall s | replications/s | vs one process, 1 thread | gathered by rank 0 | gathered/s |"
        );
        println!("|---|---|---|---|---|---|");
        let base = median(times[0].clone());
        for (i, &(ranks, threads)) in configs.iter().enumerate() {
            let t = median(times[i].clone());
            let label = match ranks {
                0 => format!("one process, {threads} thread(s)"),
                n => format!("mpirun -np {n}"),
            };
            // Workers send their shares: all but rank 0's.
            let sent = match ranks {
                0 | 1 => 0,
                n => bytes * (n as u64 - 1) / n as u64,
            };
            println!(
                "| {label} | {t:.2} | {:.1} | {:.2}× | {:.1} KB | {:.1} KB/s |",
                REPLICATIONS as f64 / t,
                base / t,
                sent as f64 / 1e3,
                sent as f64 / t / 1e3
            );
        }
    }
}
