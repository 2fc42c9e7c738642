//! Replications shared over ranks ([`ThreadTeam`]: ranks as threads of one process, speaking
//! the same orders and replies as MPI ranks do) write the same result directory as one
//! process: plain runs, sweeps, precision targets (which stop at the same count), checkpoints
//! written by the leader that a single process resumes, and a rank whose scenario differs is
//! refused. The same runs under `mpirun` are in `tests/mpi.rs` (feature `mpi`).

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::files::results;
use common::scenario;
use microsim::internal::checkpoint::Checkpoint;
use microsim::internal::montecarlo::Silent;
use microsim::internal::output::Manifest;
use microsim::internal::runner::{self, Options, Outcome, execute, execute_from};
use microsim::internal::scenario::{Override, Scenario};
use microsim::internal::team::{Command, Team, ThreadTeam, encode};

fn options(dir: &Path) -> Options {
    Options {
        dir: dir.to_path_buf(),
        only: None,
        slice: None,
        manifest: Manifest::default(),
    }
}

/// Runs `scenarios[r]` on rank `r` of a team of `scenarios.len()` threads, rank 0 writing
/// into `dir`; returns rank 0's outcome (or error) and whether every other rank ended well.
fn on_ranks(scenarios: &[Scenario], dir: &Path) -> (std::io::Result<Outcome>, Vec<bool>) {
    let team = ThreadTeam::new(scenarios.len());
    let stop = AtomicBool::new(false);
    let scratch = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        let mut members = team.into_iter();
        let leader = members.next().unwrap();
        let workers: Vec<_> = members
            .zip(&scenarios[1..])
            .map(|(m, sc)| {
                let (stop, scratch) = (&stop, scratch.path());
                s.spawn(move || runner::work(&m, sc, None, scratch, stop).unwrap())
            })
            .collect();
        let outcome =
            runner::execute_on(&leader, &scenarios[0], &options(dir), &stop, &Silent, None);
        let order = if outcome.is_ok() {
            Command::Done
        } else {
            Command::Abort
        };
        leader.broadcast(&encode(&order).unwrap()).unwrap();
        let ended: Vec<bool> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (outcome, ended)
    })
}

/// `s` run by one process into `dir`.
fn one_process(s: &Scenario, dir: &Path) -> Outcome {
    execute(s, &options(dir), &AtomicBool::new(false), &Silent).unwrap()
}

const ROBOTS: &str = r#"
[scenario]
model = "musical_chairs"
[model]
robots = 300
width = 30
height = 30
rounds = 4
[run]
seed = 5
shards = 3
[montecarlo]
replications = 23
"#;

const LOTTERY_SWEEP: &str = r#"
[scenario]
model = "gift_lottery"
[model]
items = 3000
bins = 9000
[run]
seed = 99
[montecarlo]
replications = 7
[sweep]
compare = ["bins_with_1", "bins_empty"]
[sweep.grid]
"model.keep_fraction" = [0.0, 0.01]
"#;

#[test]
fn replications_on_two_and_three_ranks_are_one_process_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    one_process(&scenario(ROBOTS, &[]), &one);
    for (ranks, threads) in [(2, 1), (3, 2), (5, 1)] {
        let dir = tmp.path().join(format!("ranks-{ranks}"));
        let s = scenario(ROBOTS, &[Override::new("run.threads", threads)]);
        let (outcome, ended) = on_ranks(&vec![s; ranks], &dir);
        let outcome = outcome.unwrap();
        assert!(ended.iter().all(|&e| e), "the workers were told Done");
        assert_eq!(outcome.replications, 23);
        assert_eq!(
            results(&dir),
            results(&one),
            "{ranks} ranks × {threads} threads"
        );
        assert_eq!(
            std::fs::read(dir.join("details.json")).unwrap(),
            std::fs::read(one.join("details.json")).unwrap()
        );
    }
}

#[test]
fn a_sweep_on_ranks_is_the_sweep_of_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    one_process(&scenario(LOTTERY_SWEEP, &[]), &one);
    let dir = tmp.path().join("ranks");
    let (outcome, _) = on_ranks(&vec![scenario(LOTTERY_SWEEP, &[]); 3], &dir);
    outcome.unwrap();
    for f in ["sweep.csv", "sweep.json"] {
        assert_eq!(
            std::fs::read(dir.join(f)).unwrap(),
            std::fs::read(one.join(f)).unwrap(),
            "{f}"
        );
    }
    for v in ["variants/000", "variants/001"] {
        assert_eq!(results(&dir.join(v)), results(&one.join(v)), "{v}");
    }
}

#[test]
fn a_precision_target_stops_at_the_same_count_on_ranks() {
    // Checks after 10, 13, 16, … replications until the half width of `claims_denied` is at
    // most 2.5: the count depends on the values, never on how they were shared out.
    let target = [
        Override::new("montecarlo.replications", 10),
        "montecarlo.target={metric=\"claims_denied\",ci_half_width=2.5,batch=3,max_replications=200}"
            .parse()
            .unwrap(),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let single = one_process(&scenario(ROBOTS, &target), &one);
    let n = single.replications;
    assert!(
        n > 10 && n < 200 && (n - 10).is_multiple_of(3),
        "{n} replications"
    );
    let dir = tmp.path().join("ranks");
    let (outcome, _) = on_ranks(&vec![scenario(ROBOTS, &target); 3], &dir);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.replications, n);
    assert_eq!(outcome.summary.target, single.summary.target);
    assert_eq!(results(&dir), results(&one));
}

#[test]
fn the_leaders_checkpoints_resume_in_one_process() {
    let every = [Override::new("run.checkpoint_every", 1)];
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    one_process(&scenario(ROBOTS, &[]), &one);
    let dir = tmp.path().join("ranks");
    let (outcome, _) = on_ranks(&vec![scenario(ROBOTS, &every); 2], &dir);
    let ckpt = outcome
        .unwrap()
        .checkpoint
        .expect("the leader wrote checkpoints");
    let c = Checkpoint::read(&ckpt).unwrap();
    assert_eq!(c.done, 23, "the last checkpoint holds every replication");
    // What the leader gathered from every rank, resumed by one process, is the whole run.
    let resumed = tmp.path().join("resumed");
    let out = execute_from(
        &scenario(ROBOTS, &every),
        &options(&resumed),
        &AtomicBool::new(false),
        &Silent,
        Some(c),
    )
    .unwrap();
    assert_eq!(out.replications, 23);
    assert_eq!(results(&resumed), results(&one));
    assert_eq!(results(&dir), results(&one));
}

#[test]
fn a_rank_whose_scenario_differs_fails_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ranks");
    let other = scenario(ROBOTS, &[Override::new("model.rounds", 3)]);
    let (outcome, ended) = on_ranks(&[scenario(ROBOTS, &[]), other], &dir);
    let e = outcome.expect_err("rank 1 refuses").to_string();
    assert!(e.contains("rank 1") && e.contains("model.rounds"), "{e}");
    assert_eq!(ended, vec![false], "rank 1 was told to abort");
    assert!(
        dir.join("INCOMPLETE").exists(),
        "nothing half-written is taken for a result"
    );
}

#[test]
fn one_replication_shared_by_ranks_writes_one_process_bytes() {
    let lone = [
        Override::new("montecarlo.replications", 1),
        Override::new("run.shards", 5),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    one_process(&scenario(ROBOTS, &lone), &one);
    for ranks in [2, 3] {
        let dir = tmp.path().join(format!("ranks-{ranks}"));
        let (outcome, ended) = on_ranks(&vec![scenario(ROBOTS, &lone); ranks], &dir);
        outcome.unwrap();
        assert!(ended.iter().all(|&e| e));
        assert_eq!(results(&dir), results(&one), "{ranks} ranks");
    }
}

/// [`on_ranks`], going on from checkpoint `from` (every rank reads it, as under `mpirun`).
fn resumed_on_ranks(s: &Scenario, ranks: usize, from: &Path, dir: &Path) -> Outcome {
    let team = ThreadTeam::new(ranks);
    let stop = AtomicBool::new(false);
    let scratch = tempfile::tempdir().unwrap();
    std::thread::scope(|sc| {
        let mut members = team.into_iter();
        let leader = members.next().unwrap();
        let workers: Vec<_> = members
            .map(|m| {
                let (stop, scratch) = (&stop, scratch.path());
                sc.spawn(move || {
                    let c = Checkpoint::read(from).unwrap();
                    runner::work(&m, s, Some(&c), scratch, stop).unwrap()
                })
            })
            .collect();
        let c = Checkpoint::read(from).unwrap();
        let outcome = runner::execute_on(&leader, s, &options(dir), &stop, &Silent, Some(c));
        let order = if outcome.is_ok() {
            Command::Done
        } else {
            Command::Abort
        };
        leader.broadcast(&encode(&order).unwrap()).unwrap();
        for w in workers {
            assert!(w.join().unwrap());
        }
        outcome.unwrap()
    })
}

#[test]
fn a_replication_shared_by_ranks_checkpoints_and_resumes_on_ranks_or_in_one_process() {
    let lone = [
        Override::new("montecarlo.replications", 1),
        Override::new("run.shards", 5),
        Override::new("model.rounds", 8),
    ];
    let every = [
        Override::new("montecarlo.replications", 1),
        Override::new("run.shards", 5),
        Override::new("model.rounds", 8),
        Override::new("run.checkpoint_every", 3),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    one_process(&scenario(ROBOTS, &lone), &one);
    let dir = tmp.path().join("ranks");
    let (outcome, _) = on_ranks(&vec![scenario(ROBOTS, &every); 3], &dir);
    outcome.unwrap();
    assert_eq!(
        results(&dir),
        results(&one),
        "checkpointing changed nothing"
    );
    let ckpts: Vec<_> = std::fs::read_dir(dir.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        ckpts.len() >= 2,
        "rank 0 saved the shared replication: {ckpts:?}"
    );
    let first = ckpts.iter().min().unwrap();
    // The first checkpoint (step 3), in one process and on two ranks.
    let alone = tmp.path().join("alone");
    let c = Checkpoint::read(first).unwrap();
    assert_eq!(c.running.as_ref().unwrap().snapshot.step(), 3);
    execute_from(
        &scenario(ROBOTS, &every),
        &options(&alone),
        &AtomicBool::new(false),
        &Silent,
        Some(c),
    )
    .unwrap();
    assert_eq!(results(&alone), results(&one), "resumed in one process");
    let two = tmp.path().join("two");
    resumed_on_ranks(&scenario(ROBOTS, &every), 2, first, &two);
    assert_eq!(results(&two), results(&one), "resumed on two ranks");
}
