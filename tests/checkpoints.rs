//! Checkpoints through the command line: a run checkpointed at step t and resumed (at other
//! thread and shard counts, after Ctrl-C, after `kill -9`) writes the same bytes as a run
//! that was never stopped; damaged, foreign and mismatched checkpoints exit 2 with a message.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::files::{results, run, step_rows};
use common::{Running, arg, microsim, microsim_ok, repo_path};

/// `microsim resume CHECKPOINT args… --quiet --out DIR`, asserting success.
fn resume(tmp: &Path, checkpoint: &Path, out: &str, args: &[&str]) -> PathBuf {
    let dir = tmp.join(out);
    let mut all = vec!["resume", arg(checkpoint), "--quiet"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", arg(&dir)]);
    microsim_ok(tmp, &all);
    dir
}

/// The checkpoints in a result directory, oldest first.
fn checkpoints(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir.join("checkpoints"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == "ckpt"));
    out.sort();
    out
}

/// One replication of `scenario` straight through, and again with a checkpoint every `every`
/// steps resumed from its first checkpoint at 2 threads and 5 shards: the same results.
fn lone_replication_resumes_exactly(scenario: &str, every: &str, sets: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let scenario = repo_path(scenario);
    let mut args = vec!["--replications", "1", "--threads", "1"];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let straight = run(t, &scenario, "straight", &args);
    let every = format!("run.checkpoint_every={every}");
    let mut with = args.clone();
    with.extend_from_slice(&["--set", &every]);
    let checkpointed = run(t, &scenario, "checkpointed", &with);
    let found = checkpoints(&checkpointed);
    assert!(!found.is_empty(), "checkpoints were written");
    let expected = results(&straight);
    assert_eq!(
        results(&checkpointed),
        expected,
        "writing checkpoints changes nothing"
    );
    let resumed = resume(
        t,
        &found[0],
        "resumed",
        &["--threads", "2", "--set", "run.shards=5"],
    );
    assert_eq!(
        results(&resumed),
        expected,
        "resumed from {}",
        found[0].display()
    );
}

#[test]
fn musical_chairs_resumes_to_the_same_bytes() {
    lone_replication_resumes_exactly("scenarios/musical_chairs_small.toml", "2", &[]);
}

#[test]
fn gift_lottery_resumes_to_the_same_bytes() {
    lone_replication_resumes_exactly(
        "scenarios/mamma_mia.toml",
        "1",
        &[
            "model.items=3000",
            "model.bins=1000",
            "model.interaction=0.5",
            "model.max_retries=6",
            "model.weights=\"zipf\"",
        ],
    );
}

#[test]
fn birthday_resumes_to_the_same_bytes() {
    lone_replication_resumes_exactly("scenarios/birthday.toml", "1", &["model.people=400"]);
}

#[test]
fn pi_resumes_to_the_same_bytes() {
    lone_replication_resumes_exactly(
        "scenarios/pi.toml",
        "3",
        &[
            "model.points=100000",
            "model.tasks=10",
            "model.points_per_step=1000",
        ],
    );
}

/// Waits until `dir` holds a checkpoint (or `limit` passes).
fn wait_for_checkpoint(running: &mut Running, dir: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && running.alive() {
        if !checkpoints(dir).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
#[ignore = "long (a run killed mid-way, resumed and run again whole): CI runs it with cargo test -- --ignored"]
fn a_run_killed_between_checkpoints_resumes_from_the_last_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pi = repo_path("scenarios/pi.toml");
    let killed = t.join("killed");
    let mut args = vec!["run", &pi, "--quiet", "--set", "output.plots=[]"];
    args.extend_from_slice(LONGER_PI);
    args.extend_from_slice(&["--set", "run.checkpoint_every=25", "--out", arg(&killed)]);
    let mut running = Running::start(t, &args);
    let seen = wait_for_checkpoint(&mut running, &killed, Duration::from_secs(60));
    assert!(seen, "a checkpoint appeared");
    std::thread::sleep(Duration::from_millis(30));
    running.child().kill().expect("SIGKILL");
    let _ = running.wait(Duration::from_secs(10));
    assert!(
        killed.join("INCOMPLETE").exists(),
        "the killed run did not finish"
    );
    let last = checkpoints(&killed).pop().unwrap();

    let resumed = resume(
        t,
        &last,
        "resumed",
        &["--threads", "2", "--set", "run.shards=3"],
    );
    let mut straight = LONGER_PI.to_vec();
    straight.extend_from_slice(&["--threads", "1"]);
    let straight = run(t, &pi, "straight", &straight);
    assert_eq!(
        results(&resumed),
        results(&straight),
        "resumed from {}",
        last.display()
    );
}

#[test]
#[ignore = "long (a run killed mid-way, resumed and run again whole): CI runs it with cargo test -- --ignored"]
fn a_killed_run_of_many_replications_resumes_without_running_them_again() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let small = repo_path("scenarios/musical_chairs_small.toml");
    let killed = t.join("killed");
    let common = ["--replications", "3000", "--set", "model.robots=400"];
    let mut args = vec!["run", &small, "--quiet", "--set", "output.plots=[]"];
    args.extend_from_slice(&common);
    args.extend_from_slice(&["--set", "run.checkpoint_every=200", "--out", arg(&killed)]);
    let mut running = Running::start(t, &args);
    assert!(wait_for_checkpoint(
        &mut running,
        &killed,
        Duration::from_secs(60)
    ));
    running.child().kill().expect("SIGKILL");
    let _ = running.wait(Duration::from_secs(10));
    let last = checkpoints(&killed).pop().unwrap();
    let name = last.file_name().unwrap().to_string_lossy().into_owned();
    let done: usize = name["replications-".len()..name.len() - ".ckpt".len()]
        .parse()
        .unwrap();
    assert!(done > 0 && done < 3000, "{name}");

    let first = resume(t, &last, "first", &["--threads", "2"]);
    let second = resume(t, &last, "second", &["--threads", "1"]);
    let straight = run(t, &small, "straight", &common);
    assert_eq!(results(&first), results(&straight));
    assert_eq!(results(&second), results(&straight));
    // The replications the checkpoint holds are copied, not run again: their wall times
    // (the last columns of steps.csv, never the same twice) are the same in both resumed runs.
    let rows = |dir: &Path| -> Vec<String> {
        fs::read_to_string(dir.join("steps.csv"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    let (a, b) = (rows(&first), rows(&second));
    let held = a
        .iter()
        .skip(1)
        .take_while(|l| l.split(',').next().unwrap().parse::<usize>().unwrap() < done)
        .count();
    assert!(held >= done, "every held replication has its rows");
    assert_eq!(a[..=held], b[..=held], "held rows are copied");
    assert_ne!(
        a[held + 1..],
        b[held + 1..],
        "the rest ran again (wall times differ)"
    );
}

/// A long π: 20 tasks × 200 points a step, 40,000 steps (still running when it is stopped).
const LONGER_PI: &[&str] = &[
    "--set",
    "model.points=160000000",
    "--set",
    "model.tasks=20",
    "--set",
    "model.points_per_step=200",
    "--replications",
    "1",
];

#[test]
fn ctrl_c_writes_a_checkpoint_to_resume_from() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pi = repo_path("scenarios/pi.toml");
    let stopped = t.join("stopped");
    let mut args = vec!["run", &pi, "--set", "output.plots=[]"];
    args.extend_from_slice(LONGER_PI);
    // Checkpoints far apart: the one written is Ctrl-C's.
    args.extend_from_slice(&[
        "--set",
        "run.checkpoint_every=1000000",
        "--out",
        arg(&stopped),
    ]);
    let mut running = Running::start(t, &args);
    std::thread::sleep(Duration::from_millis(300));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &running.child().id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = running.wait(Duration::from_secs(30));
    assert_eq!(out.code, Some(130), "{out}");
    assert!(out.stderr.contains("microsim resume"), "{out}");
    let found = checkpoints(&stopped);
    assert_eq!(found.len(), 1, "{found:?}");
    let resumed = resume(t, &found[0], "resumed", &["--set", "run.shards=2"]);
    let mut straight = LONGER_PI.to_vec();
    straight.extend_from_slice(&["--threads", "1"]);
    let straight = run(t, &pi, "straight", &straight);
    assert_eq!(results(&resumed), results(&straight));
}

/// A lone replication of musical_chairs_small with a checkpoint at step 2.
fn a_checkpoint(t: &Path) -> (PathBuf, PathBuf) {
    let small = repo_path("scenarios/musical_chairs_small.toml");
    let dir = run(
        t,
        &small,
        "run",
        &["--replications", "1", "--set", "run.checkpoint_every=2"],
    );
    let first = checkpoints(&dir).remove(0);
    (dir, first)
}

#[test]
fn resuming_never_overwrites_the_run_it_came_from_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (dir, ckpt) = a_checkpoint(t);
    let before = fs::read(dir.join("summary.json")).unwrap();
    let out = microsim_ok(t, &["resume", arg(&ckpt), "--quiet"]);
    assert!(out.stderr.is_empty(), "{out}");
    assert_eq!(fs::read(dir.join("summary.json")).unwrap(), before);
    let beside = t.join("run-2");
    assert_eq!(
        results(&beside),
        results(&dir),
        "the default is a new directory beside it"
    );
    microsim_ok(
        t,
        &[
            "resume",
            arg(&ckpt),
            "--quiet",
            "--force",
            "--out",
            arg(&dir),
        ],
    );
    assert_eq!(results(&dir), results(&beside));
}

#[test]
fn an_override_that_changes_the_results_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (_, ckpt) = a_checkpoint(t);
    for (set, says) in [
        ("model.robots=100", "changes the model"),
        ("run.seed=9", "changes `run.seed`"),
        (
            "montecarlo.replications=5",
            "changes `montecarlo.replications`",
        ),
        ("scenario.model=\"pi\"", "model"),
    ] {
        let out = microsim(t, &["resume", arg(&ckpt), "--set", set]);
        assert_eq!(out.code, Some(2), "{set}\n{out}");
        assert!(out.stderr.contains(says), "{set}\n{out}");
        assert!(!out.stderr.contains("panicked"), "{out}");
    }
    // What does not change the results may change.
    microsim_ok(
        t,
        &[
            "resume",
            arg(&ckpt),
            "--quiet",
            "--set",
            "run.shards=1",
            "--threads",
            "3",
        ],
    );
}

#[test]
fn every_bad_checkpoint_of_the_corpus_exits_2_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_checkpoints");
    let mut files: Vec<PathBuf> = fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus has {} files", files.len());
    let expected: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(corpus.join("expected.json")).unwrap()).unwrap();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let out = microsim(tmp.path(), &["resume", arg(f), "--quiet"]);
        assert_eq!(out.code, Some(2), "{name}\n{out}");
        assert!(!out.stderr.contains("panicked"), "{name}\n{out}");
        let says = expected[&name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in expected.json"));
        assert!(
            out.stderr.contains(says),
            "{name} should say {says:?}\n{out}"
        );
        assert!(
            out.stderr.contains(&name),
            "{name}: the message names the file\n{out}"
        );
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{name}: nothing written"
        );
    }
}

#[test]
fn checkpoints_where_none_can_be_written_are_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whatif = repo_path("scenarios/mamma_mia_whatif.toml");
    // A sweep writes no checkpoints (yet): said by `check` and `run`, before anything runs.
    for command in ["check", "run"] {
        let out = microsim(
            tmp.path(),
            &[command, &whatif, "--set", "run.checkpoint_every=5"],
        );
        assert_eq!(out.code, Some(2), "{out}");
        assert!(out.stderr.contains("run.checkpoint_every"), "{out}");
        assert!(out.stderr.contains("mamma_mia_whatif.toml"), "{out}");
    }
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn a_sweep_branches_every_variant_from_one_checkpoint() {
    use microsim::models::musical_chairs::{MusicalChairs, Params};
    use microsim::{Settings, Simulation, replication_seed};
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = "[scenario]\nname = \"warm\"\nmodel = \"musical_chairs\"\n\n[model]\nrobots = 300\n\
                width = 30\nheight = 30\nrounds = 8\n\n[run]\nseed = 5\nshards = 4\n\n\
                [montecarlo]\nreplications = 1\n\n[output]\nplots = []\n";
    fs::write(t.join("warm.toml"), base).unwrap();
    let warm = run(
        t,
        arg(&t.join("warm.toml")),
        "warm",
        &["--set", "run.checkpoint_every=3"],
    );
    let sweep = format!(
        "{base}\n[sweep]\nfrom = \"warm/checkpoints/step-000003.ckpt\"\n\n[sweep.grid]\n\
         \"model.rounds\" = [8, 12]\n"
    )
    .replace("name = \"warm\"", "name = \"branched\"");
    fs::write(t.join("branched.toml"), sweep).unwrap();
    let branched = run(
        t,
        arg(&t.join("branched.toml")),
        "branched",
        &["--threads", "2"],
    );

    // Variant 0 keeps the warm-up's parameters: it is the warm-up run.
    let v0 = branched.join("variants/000");
    assert_eq!(results(&v0), results(&warm));
    // Variant 1 begins as the warm-up did (the same three steps) and differs after them.
    let v1 = branched.join("variants/001");
    let (a, b) = (step_rows(&warm), step_rows(&v1));
    assert_eq!(
        a[..4],
        b[..4],
        "the header and the first three steps are the warm-up's"
    );
    assert_ne!(a[4..], b[4..], "the variants differ after step 3");
    assert!(b.len() > a.len(), "12 rounds take longer than 8");
    // … and equals the warm-up to step 3, the parameter change, and the rest, in the library.
    let params = Params {
        robots: 300,
        width: 30,
        height: 30,
        rounds: 8,
    };
    let before = MusicalChairs::new(params.clone());
    let after = MusicalChairs::new(Params {
        rounds: 12,
        ..params
    });
    let settings = Settings::default().seed(replication_seed(5, 0)).shards(4);
    let mut sim = Simulation::new(&before, settings);
    sim.run_until(3, |_| true);
    let mut rest = Simulation::restore(&after, &sim.snapshot().unwrap(), 2).unwrap();
    rest.run(|_| true);
    let expected: Vec<String> = rest
        .report()
        .metrics()
        .iter()
        .map(|m| microsim::results::fmt_num(*m))
        .collect();
    let row = fs::read_to_string(v1.join("replications.csv")).unwrap();
    let row: Vec<&str> = row.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[row.len() - expected.len()..], expected[..], "{row:?}");
    // The resolved scenario names the checkpoint wherever it is run from.
    let resolved: toml::Table =
        toml::from_str(&fs::read_to_string(branched.join("scenario.toml")).unwrap()).unwrap();
    let from = resolved["sweep"]["from"].as_str().unwrap();
    assert!(
        Path::new(from).is_absolute() && Path::new(from).is_file(),
        "{from}"
    );
    // The sweep compares the two, paired.
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(branched.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["sweep"]["variants"].as_array().unwrap().len(), 2);
}

#[test]
fn a_sweep_from_a_checkpoint_that_does_not_fit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (_, ckpt) = a_checkpoint(t);
    let small = fs::read_to_string(repo_path("scenarios/musical_chairs_small.toml")).unwrap();
    let cases = [
        (
            "replications = 20",
            "[sweep]\nfrom = \"CK\"\n[sweep.grid]\n\"model.rounds\" = [5, 6]\n",
            "montecarlo.replications",
        ),
        (
            "replications = 1",
            "[sweep]\nfrom = \"CK\"\n[sweep.grid]\n\"run.order\" = [\"by_id\", \"shuffled\"]\n",
            "model.*",
        ),
        (
            "replications = 1",
            "[sweep]\nfrom = \"nowhere.ckpt\"\n[sweep.grid]\n\"model.rounds\" = [5, 6]\n",
            "nowhere.ckpt",
        ),
        (
            "replications = 1\n[run]\nseed = 3",
            "[sweep]\nfrom = \"CK\"\n[sweep.grid]\n\"model.rounds\" = [5, 6]\n",
            "run.seed = 1",
        ),
    ];
    for (i, (mc, sweep, says)) in cases.iter().enumerate() {
        let text = small.replace("replications = 20", mc).replace(
            "[run]\nseed = 1\nshards = 4\n",
            if mc.contains("seed") {
                ""
            } else {
                "[run]\nseed = 1\nshards = 4\n"
            },
        );
        let file = t.join(format!("case{i}.toml"));
        fs::write(
            &file,
            format!("{text}\n{}", sweep.replace("CK", arg(&ckpt))),
        )
        .unwrap();
        let out = microsim(
            t,
            &[
                "run",
                arg(&file),
                "--quiet",
                "--out",
                arg(&t.join(format!("o{i}"))),
            ],
        );
        assert_eq!(out.code, Some(2), "case {i}\n{out}");
        assert!(
            out.stderr.contains(says),
            "case {i} should say {says}\n{out}"
        );
        assert!(
            !t.join(format!("o{i}")).exists(),
            "case {i}: nothing written"
        );
    }
}
