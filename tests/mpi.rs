//! Runs under `mpirun` (feature `mpi`: `cargo test --features mpi --test mpi`; needs Open MPI
//! or MPICH): replications shared over 2 and 3 ranks, at 1 and 2 threads, write the bytes of
//! one process, for a plain run, a sweep and a precision target; a killed `mpirun` leaves an
//! incomplete directory that no reader takes for a result, and its last checkpoint resumes to
//! the same bytes in one process.

#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::files::results;
use common::{BIN, Outcome, arg, microsim_ok, repo_path, small};

/// `mpirun --oversubscribe -np RANKS microsim args…` in `dir` (as root too, and without the
/// shared-memory single-copy mechanism containers lack).
fn mpirun(dir: &Path, ranks: usize, args: &[&str]) -> Command {
    mpirun_of(BIN, dir, ranks, args)
}

/// `mpirun … bin args…` (as [`mpirun`], with another binary).
fn mpirun_of(bin: &str, dir: &Path, ranks: usize, args: &[&str]) -> Command {
    let mut c = Command::new("mpirun");
    c.current_dir(dir)
        .args(["--oversubscribe", "-np", &ranks.to_string(), bin])
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .stdin(std::process::Stdio::null());
    c
}

fn mpirun_ok(dir: &Path, ranks: usize, args: &[&str]) -> Outcome {
    Outcome::of(mpirun(dir, ranks, args).output().expect("mpirun starts")).ok()
}

/// `run SCENARIO --quiet --set output.plots=[] more… --out DIR`.
fn run_args<'a>(scenario: &'a str, dir: &'a Path, more: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run", scenario, "--quiet", "--set", "output.plots=[]"];
    v.extend_from_slice(more);
    v.extend_from_slice(&["--out", arg(dir)]);
    v
}

#[test]
fn replications_on_two_and_three_ranks_are_the_bytes_of_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for scenario in [small(), repo_path("scenarios/birthday.toml")] {
        let one = t.join("one");
        microsim_ok(t, &run_args(&scenario, &one, &["--force"]));
        for (ranks, threads) in [(2, "1"), (2, "2"), (3, "1"), (3, "2")] {
            let dir = t.join(format!("ranks-{ranks}-{threads}"));
            let args = run_args(&scenario, &dir, &["--threads", threads, "--force"]);
            mpirun_ok(t, ranks, &args);
            assert_eq!(
                results(&dir),
                results(&one),
                "{scenario}: {ranks} ranks × {threads} threads"
            );
            for f in ["replications.csv", "details.json"] {
                assert_eq!(
                    std::fs::read(dir.join(f)).unwrap(),
                    std::fs::read(one.join(f)).unwrap(),
                    "{f}"
                );
            }
        }
    }
}

#[test]
fn a_sweep_and_a_precision_target_on_ranks_are_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sweep = repo_path("scenarios/mamma_mia_whatif.toml");
    let smaller = [
        "--set",
        "model.bins=3000",
        "--set",
        "sweep.grid={\"model.items\"=[1000,2000],\"model.zipf_s\"=[0.01,0.9]}",
        "--set",
        "montecarlo.replications=5",
    ];
    let one = t.join("sweep-one");
    microsim_ok(t, &run_args(&sweep, &one, &smaller));
    let three = t.join("sweep-three");
    mpirun_ok(t, 3, &run_args(&sweep, &three, &smaller));
    for f in ["sweep.csv", "sweep.json"] {
        assert_eq!(
            std::fs::read(three.join(f)).unwrap(),
            std::fs::read(one.join(f)).unwrap(),
            "{f}"
        );
    }
    for v in 0..4 {
        let v = format!("variants/{v:03}");
        assert_eq!(results(&three.join(&v)), results(&one.join(&v)), "{v}");
    }

    let s = small();
    let target = [
        "--set",
        "montecarlo.target={metric=\"claims_denied\",ci_half_width=2.5,batch=3,max_replications=200}",
        "--set",
        "montecarlo.replications=10",
    ];
    let one = t.join("target-one");
    microsim_ok(t, &run_args(&s, &one, &target));
    let two = t.join("target-two");
    mpirun_ok(t, 2, &run_args(&s, &two, &target));
    let summary = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap()).unwrap()
    };
    assert_eq!(summary(&two)["target"], summary(&one)["target"]);
    let n = summary(&one)["replications"].as_u64().unwrap();
    assert!(n > 10, "the target took more than the first chunk: {n}");
    assert_eq!(results(&two), results(&one));
}

#[test]
fn a_killed_mpirun_leaves_no_result_and_its_checkpoint_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = small();
    let many = ["--set", "montecarlo.replications=2000"];
    let one = t.join("one");
    microsim_ok(t, &run_args(&s, &one, &many));
    let killed = t.join("killed");
    let mut args = run_args(&s, &killed, &many);
    args.extend_from_slice(&["--set", "run.checkpoint_every=100"]);
    let last = killed_after_a_checkpoint(t, &args, &killed);
    let resumed = t.join("resumed");
    microsim_ok(
        t,
        &["resume", arg(&last), "--quiet", "--out", arg(&resumed)],
    );
    assert_eq!(results(&resumed), results(&one));
}

/// Runs `mpirun -np 2 microsim args…` (writing into `killed`) until its first checkpoint
/// appears, kills `mpirun` (which takes its ranks with it), checks that the run did not finish
/// and says so, and returns the newest checkpoint (a later one may have replaced the first).
fn killed_after_a_checkpoint(t: &Path, args: &[&str], killed: &Path) -> std::path::PathBuf {
    let mut child = mpirun(t, 2, args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mpirun starts");
    let checkpoints = killed.join("checkpoints");
    let newest = || {
        std::fs::read_dir(&checkpoints)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ckpt"))
            .max()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while newest().is_none() {
        assert!(Instant::now() < deadline, "no checkpoint within 2 minutes");
        assert!(child.try_wait().unwrap().is_none(), "mpirun ended too soon");
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("summary.json").exists() && killed.join("INCOMPLETE").exists(),
        "the killed run did not finish, and says so"
    );
    newest().expect("a checkpoint")
}

/// The random_walkers example (a model written outside the crate) built with the `mpi`
/// feature, beside this test's binary.
fn walkers_binary() -> std::path::PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--features",
            "mpi",
            "--example",
            "random_walkers",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the example builds");
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().and_then(Path::parent).unwrap();
    profile.join("examples").join("random_walkers")
}

#[test]
fn one_replication_shared_by_two_and_three_ranks_is_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Robots (the built-in binary) and walkers that move between shards, so between ranks
    // (the example's binary), one replication each, over 6 shards.
    let walkers = walkers_binary();
    let cases: [(&str, String, &[&str]); 2] = [
        ("robots", small(), &["--set", "montecarlo.replications=1"]),
        (
            "walkers",
            repo_path("scenarios/random_walkers.toml"),
            &[
                "--set",
                "montecarlo.replications=1",
                "--set",
                "model.settle=true",
            ],
        ),
    ];
    for (name, scenario, more) in cases {
        let bin = if name == "walkers" {
            walkers.to_str().unwrap()
        } else {
            BIN
        };
        let one = t.join(format!("{name}-one"));
        let mut args = run_args(&scenario, &one, more);
        args.extend_from_slice(&["--set", "run.shards=6"]);
        let out = Command::new(bin)
            .current_dir(t)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (ranks, threads) in [(2, "1"), (2, "2"), (3, "1"), (3, "2")] {
            let dir = t.join(format!("{name}-{ranks}-{threads}"));
            let mut args = run_args(&scenario, &dir, more);
            args.extend_from_slice(&["--set", "run.shards=6", "--threads", threads]);
            let out = mpirun_of(bin, t, ranks, &args).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                every_result(&dir),
                every_result(&one),
                "{name}: {ranks} ranks × {threads} threads"
            );
        }
    }
}

/// [`results`] of a run, or of every variant of a sweep.
fn every_result(dir: &Path) -> String {
    let variants = dir.join("variants");
    if !variants.is_dir() {
        return results(dir);
    }
    let mut names: Vec<_> = std::fs::read_dir(&variants)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    names
        .iter()
        .map(|v| results(v))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_shared_replication_killed_resumes_on_other_ranks_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = small();
    let long = [
        "--set",
        "montecarlo.replications=1",
        "--set",
        "model.robots=20000",
        "--set",
        "model.width=400",
        "--set",
        "model.height=400",
        "--set",
        "model.rounds=1000",
        "--set",
        "run.shards=6",
    ];
    let one = t.join("one");
    microsim_ok(t, &run_args(&s, &one, &long));
    let killed = t.join("killed");
    let mut args = run_args(&s, &killed, &long);
    args.extend_from_slice(&["--set", "run.checkpoint_every=20"]);
    let last = killed_after_a_checkpoint(t, &args, &killed);
    // Three ranks now, and one process: both to the bytes of the run never stopped.
    let three = t.join("three");
    mpirun_ok(
        t,
        3,
        &["resume", arg(&last), "--quiet", "--out", arg(&three)],
    );
    assert_eq!(results(&three), results(&one), "resumed on 3 ranks");
    let alone = t.join("alone");
    microsim_ok(t, &["resume", arg(&last), "--quiet", "--out", arg(&alone)]);
    assert_eq!(results(&alone), results(&one), "resumed in one process");
}
