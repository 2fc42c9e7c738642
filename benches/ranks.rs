//! The honest cost of going distributed, in two tables.
//!
//! 1. One replication shared by ranks: 1M robots × 10 rounds on 16 shards, stepped by one
//!    process and by `mpirun -np N` (N = 1, 2, 4) copies of this benchmark, one thread per
//!    rank: time per step, and messages (and bytes) sent between ranks per second.
//! 2. Replications shared by ranks: Mamma Mia replications run by one process and by
//!    `mpirun -np N` of the real binary, each rank on one thread, interleaved, whole process
//!    (MPI start-up included), plots off. What crosses between ranks is every worker's share
//!    of the results (its rows of replications.csv, steps.csv and details.json, and its
//!    histograms), gathered by rank 0 once per chunk; the table gives its size and rate.
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
    if std::env::var_os(shared::INNER).is_some() {
        return shared::rank();
    }
    shared::main();
    bench::main();
}

/// One replication shared by ranks: this benchmark, run again under `mpirun`, is the
/// program each rank runs.
#[cfg(feature = "mpi")]
mod shared {
    use std::process::Command;
    use std::time::Instant;

    use microsim::Peers;
    use microsim::internal::team::Team;
    use microsim::internal::team::mpi::MpiTeam;
    use microsim::models::musical_chairs::{MusicalChairs, Params};
    use microsim::{Settings, Simulation};

    /// Set in the ranks' environment: run as a rank.
    pub const INNER: &str = "MICROSIM_BENCH_RANK";
    const RUNS: usize = 3;

    fn model() -> MusicalChairs {
        MusicalChairs::new(Params {
            robots: 1_000_000,
            width: 10_000,
            height: 10_000,
            rounds: 10,
        })
    }

    fn settings() -> Settings {
        Settings::default().seed(2008).shards(16)
    }

    fn one_thread() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool")
    }

    /// A rank (or, outside `mpirun`, one process: the same cold start): steps its shards,
    /// then rank 0 prints the step time and what crossed between ranks.
    pub fn rank() {
        let model = model();
        let Some(team) = MpiTeam::from_launcher().expect("MPI starts") else {
            let (steps, secs) = one_thread().install(|| {
                let mut sim = Simulation::new(&model, settings());
                let t = Instant::now();
                sim.run(|_| true);
                (sim.step_count(), t.elapsed().as_secs_f64())
            });
            println!("RESULT {steps} {secs} 0 0");
            return;
        };
        let (steps, secs, sent) = one_thread().install(|| {
            let mut sim = Simulation::new_on(&model, settings(), &team).expect("a codec");
            let t = Instant::now();
            sim.run(|_| true);
            let secs = t.elapsed().as_secs_f64();
            (sim.step_count(), secs, sim.sent_to_ranks())
        });
        let mine = format!("{} {}", sent.0, sent.1).into_bytes();
        let all = team.gather(&mine).expect("gather");
        if team.rank() == 0 {
            let (mut msgs, mut bytes) = (0u64, 0u64);
            for a in all {
                let text = String::from_utf8(a).expect("text");
                let mut it = text.split(' ').map(|x| x.parse::<u64>().expect("a number"));
                msgs += it.next().unwrap();
                bytes += it.next().unwrap();
            }
            println!("RESULT {steps} {secs} {msgs} {bytes}");
        }
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    pub fn main() {
        let model = model();
        let mut one = Simulation::new(&model, settings());
        one.run(|_| true);
        let steps = one.step_count();
        let messages: u64 = one
            .steps()
            .iter()
            .map(|r| r.messages_local + r.messages_cross)
            .sum();
        drop(one);
        println!(
            "One replication: 1M robots × 10 rounds, 16 shards, {steps} steps, {:.1}M messages \
             in all; 1 thread per rank, each run a fresh process, median of {RUNS} (stepping \
             only)\n",
            messages as f64 / 1e6
        );
        println!(
            "| run | ms per step | vs one process | messages between ranks | between ranks/s | bytes/s |"
        );
        println!("|---|---|---|---|---|---|");
        let mut base = 0.0;
        let exe = std::env::current_exe().expect("the benchmark's path");
        for ranks in [0usize, 1, 2, 4] {
            let mut times = Vec::new();
            let (mut msgs, mut bytes) = (0, 0);
            for _ in 0..RUNS {
                let mut c = match ranks {
                    0 => Command::new(&exe),
                    n => {
                        let mut c = Command::new("mpirun");
                        c.args(["--oversubscribe", "-np", &n.to_string()]).arg(&exe);
                        c
                    }
                };
                let out = c
                    .env(INNER, "1")
                    .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                    .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
                    .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
                    .output()
                    .expect("mpirun starts");
                let text = String::from_utf8_lossy(&out.stdout);
                let line = text
                    .lines()
                    .find(|l| l.starts_with("RESULT "))
                    .unwrap_or_else(|| {
                        panic!("no result: {}", String::from_utf8_lossy(&out.stderr))
                    });
                let f: Vec<f64> = line[7..].split(' ').map(|x| x.parse().unwrap()).collect();
                times.push(f[1] / f[0]);
                (msgs, bytes) = (f[2] as u64, f[3] as u64);
            }
            let t = median(times);
            let run = t * steps as f64;
            if ranks == 0 {
                base = t;
                println!("| one process | {:.1} | 1.00× | 0 | — | — |", t * 1e3);
                continue;
            }
            println!(
                "| mpirun -np {ranks} | {:.1} | {:.2}× | {:.1}M | {:.1}M/s | {:.0} MB/s |",
                t * 1e3,
                base / t,
                msgs as f64 / 1e6,
                msgs as f64 / run / 1e6,
                bytes as f64 / run / 1e6
            );
        }
        println!();
    }
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
