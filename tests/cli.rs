//! The `microsim` binary end to end: every subcommand's happy path, the result directory
//! contract, reproducibility from the written scenario, interrupts, broken pipes, and a corpus
//! of bad inputs (tests/bad_inputs/) that must each be refused with exit code 2, a message that
//! says what is wrong and where, and nothing written.
//!
//! Every test runs the binary in a fresh temporary directory and writes its results there.

mod common;
#[path = "cli/refusals.rs"]
mod refusals;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use common::files::{
    Csv, TIMING_COLUMNS, check_result_dir, files_under, model_metrics, names_in, read_json,
    read_toml,
};
use common::{Running, arg, bad_input, command, microsim, microsim_ok, small};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------

#[test]
fn run_writes_the_whole_result_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("result");
    let run = microsim_ok(
        tmp.path(),
        &["run", &small(), "--replications", "3", "--out", arg(&out)],
    );
    assert!(
        run.stdout.contains("results:"),
        "the report names the result directory\n{run}"
    );

    let summary = check_result_dir(&out, 3, &model_metrics(tmp.path(), "musical_chairs"));
    assert_eq!(summary["scenario"], "musical_chairs_small");
    assert_eq!(summary["model"], "musical_chairs");
    assert_eq!(summary["seed"], "1", "seeds are strings in JSON");
    assert_eq!(summary["replications"], 3);
    assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        summary["elapsed_seconds"]
            .as_f64()
            .is_some_and(|s| s >= 0.0),
        "{summary}"
    );
    assert!(summary["manifest"].is_object(), "{summary}");
    assert_eq!(summary.get("partial"), Some(&Value::Bool(false)));
}

#[test]
fn run_json_prints_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("result");
    let run = microsim_ok(
        tmp.path(),
        &[
            "run",
            &small(),
            "--replications",
            "2",
            "--json",
            "--out",
            arg(&out),
        ],
    );
    let printed: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{run}"));
    let written = read_json(&out.join("summary.json"));
    assert!(
        printed["metrics"]
            .as_object()
            .is_some_and(|m| !m.is_empty()),
        "{printed}"
    );
    assert_eq!(printed["metrics"], written["metrics"]);
    assert_eq!(
        printed["dir"],
        arg(&out),
        "--json says where the results are"
    );
    let mut printed = printed;
    printed.as_object_mut().unwrap().remove("dir");
    assert_eq!(printed, written, "--json prints summary.json (and `dir`)");
}

#[test]
fn run_without_out_writes_under_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    microsim_ok(
        tmp.path(),
        &["run", &small(), "--replications", "1", "--quiet"],
    );
    let dir = tmp.path().join("outputs").join("musical_chairs_small");
    assert!(
        dir.join("summary.json").is_file(),
        "{:?}",
        files_under(tmp.path())
    );
}

#[test]
fn check_prints_the_resolved_scenario_and_memory_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let check = microsim_ok(
        tmp.path(),
        &["check", &small(), "--set", "model.robots=1234"],
    );
    let resolved: toml::Table =
        toml::from_str(&check.stdout).unwrap_or_else(|e| panic!("not TOML: {e}\n{check}"));
    assert_eq!(
        resolved["model"]["robots"].as_integer(),
        Some(1234),
        "the override is applied"
    );
    assert_eq!(
        resolved["model"]["width"].as_integer(),
        Some(30),
        "the file's values are kept"
    );
    assert_eq!(
        resolved["scenario"]["model"].as_str(),
        Some("musical_chairs")
    );
    assert!(
        resolved["run"].get("seed").is_some(),
        "the seed is recorded"
    );
    assert!(
        resolved["run"].get("shards").is_some(),
        "the shard count is recorded"
    );
    assert!(check.stdout.contains("memory estimate"), "{check}");
    assert_eq!(
        names_in(tmp.path()),
        Vec::<String>::new(),
        "check writes nothing"
    );
}

#[test]
fn list_shows_models_and_their_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let list = microsim_ok(tmp.path(), &["list"]);
    assert!(list.stdout.contains("musical_chairs"), "{list}");
    for metric in model_metrics(tmp.path(), "musical_chairs") {
        assert!(
            list.stdout.contains(&metric),
            "list does not show metric {metric}\n{list}"
        );
    }
}

#[test]
fn new_writes_a_valid_scenario_and_never_overwrites_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, file) = (tmp.path(), tmp.path().join("robots.toml"));
    microsim_ok(dir, &["new", "musical_chairs", "robots.toml"]);
    let written = fs::read_to_string(&file).expect("new writes the file");
    microsim_ok(dir, &["check", "robots.toml"]);
    let printed = microsim_ok(dir, &["new", "musical_chairs", "-"]);
    assert_eq!(
        printed.stdout, written,
        "`new MODEL -` prints what `new MODEL FILE` writes"
    );

    fs::write(&file, "# mine\n").unwrap();
    let refused = microsim(dir, &["new", "musical_chairs", "robots.toml"]);
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(
        refused.stderr.contains("robots.toml") && refused.stderr.contains("--force"),
        "{refused}"
    );
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "# mine\n",
        "the file is untouched"
    );

    microsim_ok(dir, &["new", "musical_chairs", "robots.toml", "--force"]);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        written,
        "--force overwrites"
    );
    microsim_ok(dir, &["new", "musical_chairs"]);
    assert_eq!(
        names_in(dir),
        ["musical_chairs.toml", "robots.toml"],
        "MODEL.toml by default; no temp files"
    );
}

#[test]
fn every_help_has_examples() {
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["", "run", "check", "list", "new"] {
        let args: Vec<&str> = [sub, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let help = microsim_ok(tmp.path(), &args);
        assert!(
            help.stdout.contains("Examples"),
            "`microsim {sub} --help` has no examples\n{help}"
        );
        assert!(
            help.stdout.contains(format!("microsim {sub}").trim()),
            "{help}"
        );
    }
    let version = microsim_ok(tmp.path(), &["--version"]);
    assert!(
        version.stdout.contains(env!("CARGO_PKG_VERSION")),
        "{version}"
    );
}

// ---------------------------------------------------------------------------------------------
// The result directory and reproducibility
// ---------------------------------------------------------------------------------------------

#[test]
fn an_earlier_result_is_never_clobbered() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, out) = (small(), tmp.path().join("result"));
    let run = |extra: &[&str]| {
        let args = [
            &[
                "run",
                small.as_str(),
                "--replications",
                "2",
                "--out",
                arg(&out),
            ][..],
            extra,
        ]
        .concat();
        microsim_ok(tmp.path(), &args)
    };
    run(&[]);
    let first = fs::read(out.join("summary.json")).unwrap();

    // Named with --out, a directory that holds a result is refused (exit 2), saying --force.
    let second = microsim(
        tmp.path(),
        &[
            "run",
            &small,
            "--replications",
            "2",
            "--out",
            arg(&out),
            "--seed",
            "5",
            "--json",
        ],
    );
    assert_eq!(second.code, Some(2), "{second}");
    assert!(
        second.stderr.contains(&format!("--out {}", arg(&out)))
            && second.stderr.contains("--force"),
        "{second}"
    );
    assert_eq!(names_in(tmp.path()), ["result"], "nothing else written");
    assert_eq!(
        fs::read(out.join("summary.json")).unwrap(),
        first,
        "the first result is untouched"
    );

    // The default directory goes on to NAME-2, and --json says where the result is.
    for _ in 0..2 {
        microsim_ok(
            tmp.path(),
            &["run", &small, "--replications", "2", "--quiet"],
        );
    }
    let json = microsim_ok(
        tmp.path(),
        &["run", &small, "--replications", "2", "--json"],
    );
    let said: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(said["dir"], "outputs/musical_chairs_small-3", "{json}");
    assert_eq!(
        names_in(&tmp.path().join("outputs")),
        [
            "musical_chairs_small",
            "musical_chairs_small-2",
            "musical_chairs_small-3"
        ]
    );

    run(&["--seed", "6", "--force"]);
    assert_eq!(
        names_in(tmp.path()),
        ["outputs", "result"],
        "--force reuses the directory"
    );
    assert_eq!(
        read_json(&out.join("summary.json"))["seed"],
        "6",
        "--force wrote into result"
    );
}

#[test]
fn the_written_scenario_reproduces_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, a, b) = (small(), tmp.path().join("a"), tmp.path().join("b"));
    let sets = [
        "--set",
        "model.robots=300",
        "--seed",
        "9",
        "--replications",
        "5",
    ];
    microsim_ok(
        tmp.path(),
        &[
            &["run", small.as_str(), "--quiet", "--out", arg(&a)][..],
            &sets,
        ]
        .concat(),
    );

    let resolved = read_toml(&a.join("scenario.toml"));
    assert_eq!(resolved["model"]["robots"].as_integer(), Some(300));
    assert_eq!(resolved["run"]["seed"].as_integer(), Some(9));
    assert_eq!(resolved["montecarlo"]["replications"].as_integer(), Some(5));

    microsim_ok(
        tmp.path(),
        &[
            "run",
            arg(&a.join("scenario.toml")),
            "--quiet",
            "--out",
            arg(&b),
        ],
    );
    let (sa, sb) = (
        read_json(&a.join("summary.json")),
        read_json(&b.join("summary.json")),
    );
    assert_eq!(sa["metrics"], sb["metrics"], "the same metrics, exactly");
    assert_eq!(sa["seed"], sb["seed"]);
    let same = |f: &str| fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap();
    assert!(
        same("replications.csv"),
        "replications.csv is byte-identical"
    );
    assert!(same("details.json"), "details.json is byte-identical");
    let steps = |d: &Path| Csv::read(&d.join("steps.csv")).without(TIMING_COLUMNS);
    assert_eq!(
        steps(&a),
        steps(&b),
        "steps.csv is the same but for wall times"
    );
    let body = |d: &Path| {
        let text = fs::read_to_string(d.join("scenario.toml")).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        body(&a),
        body(&b),
        "resolving the resolved scenario changes nothing"
    );
}

#[test]
fn results_do_not_depend_on_threads_or_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let small = small();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let args = [
            &[
                "run",
                small.as_str(),
                "--replications",
                "4",
                "--quiet",
                "--out",
                arg(&out),
            ][..],
            extra,
        ];
        microsim_ok(tmp.path(), &args.concat());
        fs::read(out.join("replications.csv")).unwrap()
    };
    let one = run("one", &["--threads", "1", "--set", "run.shards=1"]);
    let many = run("many", &["--threads", "2", "--set", "run.shards=8"]);
    assert!(
        one == many,
        "replications.csv differs between 1 thread/1 shard and 2 threads/8 shards"
    );
}

/// Long replications spill their step rows to a temporary file (past 256 rows); handed out
/// one at a time to 1 or 3 threads, they must still be written whole and in order.
#[test]
fn long_replications_write_the_same_step_rows_at_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let pi = format!("{}/scenarios/pi.toml", env!("CARGO_MANIFEST_DIR"));
    let run = |name: &str, threads: &str| {
        let out = tmp.path().join(name);
        microsim_ok(
            tmp.path(),
            &[
                "run",
                &pi,
                "--replications",
                "7",
                "--quiet",
                "--threads",
                threads,
                "--set",
                "model.points=2000",
                "--set",
                "model.tasks=3",
                "--set",
                "model.points_per_step=2",
                "--set",
                "output.plots=[]",
                "--out",
                arg(&out),
            ],
        );
        // Timing columns (the last three) differ from run to run.
        let steps = fs::read_to_string(out.join("steps.csv")).unwrap();
        let steps: Vec<String> = steps
            .lines()
            .map(|l| l.rsplitn(4, ',').nth(3).unwrap().to_string())
            .collect();
        let reps = fs::read_to_string(out.join("replications.csv")).unwrap();
        // Nothing is left in the result directory but results.
        assert!(
            fs::read_dir(&out).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")),
            "leftovers in {out:?}"
        );
        (steps, reps)
    };
    let (steps1, reps1) = run("one", "1");
    let (steps3, reps3) = run("three", "3");
    // 2000 points, 3 tasks, 2 per step: 334 steps of every replication.
    assert_eq!(
        steps1.len(),
        1 + 7 * 334,
        "header and 334 rows per replication"
    );
    assert!(steps1[1].starts_with("0,0,") && steps1.last().unwrap().starts_with("6,333,"));
    assert_eq!(steps1, steps3, "steps.csv differs between 1 and 3 threads");
    assert_eq!(
        reps1, reps3,
        "replications.csv differs between 1 and 3 threads"
    );
}

#[test]
fn one_replication_is_recreated_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, all, one) = (small(), tmp.path().join("all"), tmp.path().join("one"));
    let base = [
        "run",
        small.as_str(),
        "--replications",
        "6",
        "--quiet",
        "--out",
    ];
    microsim_ok(tmp.path(), &[&base[..], &[arg(&all)]].concat());
    microsim_ok(
        tmp.path(),
        &[&base[..], &[arg(&one), "--replication", "4"]].concat(),
    );

    let (every, single) = (
        Csv::read(&all.join("replications.csv")),
        Csv::read(&one.join("replications.csv")),
    );
    assert_eq!(every.header, single.header);
    assert_eq!(
        every.values("replication"),
        ["0", "1", "2", "3", "4", "5"],
        "rows in replication order"
    );
    assert_eq!(
        single.rows.len(),
        1,
        "--replication runs one replication: {single:?}"
    );
    assert_eq!(
        single.rows[0], every.rows[4],
        "replication 4 alone equals replication 4 among six"
    );

    let steps_of =
        |d: &Path| Csv::read(&d.join("steps.csv")).rows_where("replication", "4", TIMING_COLUMNS);
    let steps = steps_of(&one);
    assert!(!steps.is_empty(), "steps.csv has replication 4's steps");
    assert_eq!(steps_of(&all), steps, "its steps match too");
}

// ---------------------------------------------------------------------------------------------
// Interrupts, pipes, colour
// ---------------------------------------------------------------------------------------------

#[test]
fn an_interrupted_run_keeps_partial_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, out) = (small(), tmp.path().join("long"));
    // Two million robots on 900 cells for 200 rounds: minutes in a debug build.
    let sets = [
        "--set",
        "model.robots=2000000",
        "--set",
        "model.rounds=200",
        "--replications",
        "1",
    ];
    let mut running = Running::start(
        tmp.path(),
        &[&["run", &small, "--quiet", "--out", arg(&out)][..], &sets].concat(),
    );

    // The result directory appears once the run is set up; then let it step for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !out.is_dir() {
        assert!(running.alive(), "the run ended before it started stepping");
        assert!(
            Instant::now() < deadline,
            "the run did not start within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        running.alive(),
        "the run finished before the interrupt; make it bigger"
    );

    let pid = running.child().id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill runs")
            .success()
    );
    let done = running.wait(Duration::from_secs(15));

    assert_eq!(done.code, Some(130), "an interrupted run exits 130\n{done}");
    assert!(!done.stderr.contains("panicked"), "{done}");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(
        summary["partial"], true,
        "summary.json is marked partial: {summary}"
    );
    let reps = Csv::read(&out.join("replications.csv"));
    assert!(
        reps.values("ending").iter().all(|e| *e == "interrupted"),
        "{reps:?}"
    );
    Csv::read(&out.join("steps.csv"));
    let hidden: Vec<_> = files_under(&out)
        .into_iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "temporary files were left behind: {hidden:?}"
    );
}

#[test]
fn a_closed_pipe_after_one_line_is_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut running = Running::start(tmp.path(), &["list"]);
    let mut first = String::new();
    {
        let mut reader = BufReader::new(running.child().stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
    } // `head -1` has read its line and gone
    assert!(first.contains("musical_chairs"), "{first}");
    let done = running.wait(Duration::from_secs(10));
    assert!(!done.stderr.contains("panicked"), "{done}");
    assert_eq!(done.code, Some(0), "{done}");
}

#[test]
fn output_into_a_closed_pipe_exits_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, out) = (small(), tmp.path().join("result"));
    let cases: &[&[&str]] = &[
        &["list"],
        &["list", "--json"],
        &["new", "musical_chairs", "-"],
        &["check", &small],
        &[
            "run",
            &small,
            "--replications",
            "2",
            "--json",
            "--out",
            arg(&out),
        ],
        &["run", "--help"],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // every write to stdout fails with EPIPE
        let done = command(tmp.path(), args)
            .stdout(writer)
            .output()
            .expect("the binary starts");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(done.status.code(), Some(0), "{args:?}: {stderr}");
    }
    assert!(
        out.join("summary.json").is_file(),
        "the run still wrote its results"
    );
}

#[test]
fn no_color_means_no_escape_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, bad) = (small(), bad_input("unknown_field_in_model.toml"));
    for args in [
        vec!["run", &small, "--replications", "2", "--out", "r"],
        vec!["run", &bad],
        vec!["new", "musical_chairs", "n.toml"],
    ] {
        let done = command(tmp.path(), &args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            done.stdout.len() + done.stderr.len() > 0,
            "{args:?} says nothing"
        );
        for (name, stream) in [("stdout", &done.stdout), ("stderr", &done.stderr)] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !stream.contains(&0x1b),
                "{args:?}: ANSI escape on {name}: {text}"
            );
        }
    }
}

#[test]
fn colour_is_asked_for_and_notes_are_not_red() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = bad_input("unknown_field_in_model.toml");
    // --color always colours even off a terminal: an error red, a note bold, never red.
    let err = microsim(tmp.path(), &["check", &bad, "--color", "always"]);
    assert!(err.stderr.contains("\x1b[1;31merror:\x1b[0m"), "{err}");
    let noted = microsim(
        tmp.path(),
        &[
            "run",
            &small(),
            "--replications",
            "1",
            "--color",
            "always",
            "--out",
            "one",
        ],
    );
    assert!(noted.stderr.contains("\x1b[1mnote:\x1b[0m"), "{noted}");
    assert!(!noted.stderr.contains("\x1b[1;31mnote:"), "{noted}");
    let never = microsim(tmp.path(), &["check", &bad, "--color", "never"]);
    assert!(!never.stderr.contains('\x1b'), "{never}");
}

#[test]
fn a_sweep_from_the_command_line_is_one_tidy_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("swept");
    let args = [
        "run",
        &small(),
        "--sweep",
        "model.robots=100,200",
        "--sweep",
        "model.rounds=2,3",
        "--replications",
        "3",
        "--quiet",
        "--out",
        arg(&out),
    ];
    microsim_ok(tmp.path(), &args);
    let table = Csv::read(&out.join("results.csv"));
    assert_eq!(table.rows.len(), 12, "4 variants × 3 replications");
    let robots = table.values("model.robots");
    let rounds = table.values("model.rounds");
    assert_eq!(robots[0], "100");
    assert_eq!(rounds[3], "3");
    assert_eq!(robots[11], "200");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(
        summary["sweep"]["variants"].as_array().map(Vec::len),
        Some(4)
    );
}

#[test]
fn new_writes_every_field_at_its_true_default() {
    let tmp = tempfile::tempdir().unwrap();
    let printed = microsim_ok(tmp.path(), &["new", "pi", "-"]).stdout;
    for line in [
        "seed = 2008",
        "checkpoint_every = 0",
        "confidence = 0.95",
        "# target = ",
        "# plots = ",
        "# [sweep]",
    ] {
        assert!(printed.contains(line), "no `{line}` in\n{printed}");
    }
}

#[test]
fn version_names_the_commit_and_completions_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let v = microsim_ok(tmp.path(), &["--version"]).stdout;
    assert!(
        v.starts_with(&format!("microsim {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let bash = microsim_ok(tmp.path(), &["completions", "bash"]).stdout;
    assert!(
        bash.contains("_microsim()") && bash.contains("--sweep"),
        "{bash}"
    );
}

#[test]
fn an_error_shows_its_line_with_a_caret() {
    let tmp = tempfile::tempdir().unwrap();
    let done = microsim(
        tmp.path(),
        &["check", &bad_input("unknown_field_in_model.toml")],
    );
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.contains("7 | robts = 5\n  | ^^^^^"),
        "{}",
        done.stderr
    );
}
