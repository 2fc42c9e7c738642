//! A run cut into slices (`run --replications A..B`, at any thread and shard count) and put
//! together with `microsim merge` writes the same bytes as one run; slices that do not fit
//! together are refused with exit code 2 and a message naming the directories.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::files::{results, run};
use common::{arg, microsim, microsim_ok, repo_path, small};

/// `microsim merge DIRS… --quiet --out OUT` (no plots), asserting success.
fn merge(tmp: &Path, dirs: &[&Path], out: &str) -> PathBuf {
    let dest = tmp.join(out);
    let mut all = vec!["merge", "--quiet"];
    all.extend(dirs.iter().map(|d| arg(d)));
    all.extend_from_slice(&["--out", arg(&dest)]);
    microsim_ok(tmp, &all);
    dest
}

/// `microsim merge DIRS…`, which must fail with exit code 2 saying `why`.
fn refused(tmp: &Path, dirs: &[&Path], why: &str) {
    let dest = tmp.join("refused");
    let mut all = vec!["merge", "--quiet"];
    all.extend(dirs.iter().map(|d| arg(d)));
    all.extend_from_slice(&["--out", arg(&dest)]);
    let out = microsim(tmp, &all);
    assert_eq!(out.code, Some(2), "{why}: {}", out.stderr);
    assert!(out.stderr.contains(why), "{why} not in: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!tmp.join("refused").join("summary.json").exists());
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn slices_merged_in_any_order_are_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = small();
    let whole = run(t, &s, "whole", &["--threads", "2"]);
    // Uneven slices, each at its own thread and shard count.
    let a = run(t, &s, "a", &["--replications", "0..7", "--threads", "1"]);
    let b = run(
        t,
        &s,
        "b",
        &["--replications", "7..8", "--set", "run.shards=3"],
    );
    let c = run(t, &s, "c", &["--replications", "8..20", "--threads", "2"]);
    assert_eq!(
        summary(&a)["slice"],
        serde_json::json!({"from": 0, "to": 7, "of": 20})
    );
    assert_eq!(summary(&c)["replications"], 12);
    let merged = merge(t, &[&c, &a, &b], "merged");
    assert_eq!(results(&merged), results(&whole));
    for f in ["replications.csv", "details.json"] {
        assert_eq!(
            fs::read(merged.join(f)).unwrap(),
            fs::read(whole.join(f)).unwrap(),
            "{f}"
        );
    }
    // The merged run's scenario is the first slice's (threads and shards as it ran them).
    assert_eq!(
        fs::read(merged.join("scenario.toml")).unwrap(),
        fs::read(a.join("scenario.toml")).unwrap()
    );
    let m = summary(&merged);
    assert!(m.get("slice").is_none(), "the merged run is whole: {m}");
    assert_eq!(m["replications"], 20);
    assert_eq!(m["metrics"], summary(&whole)["metrics"]);
    assert_eq!(m["endings"], summary(&whole)["endings"]);
    assert!(!merged.join("INCOMPLETE").exists());
    // A whole run is the slice 0..N: merged alone it is itself.
    let again = merge(t, &[&whole], "again");
    assert_eq!(results(&again), results(&whole));
}

#[test]
fn a_sweep_cut_into_slices_merges_into_the_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = repo_path("scenarios/mamma_mia_whatif.toml");
    let small = [
        "--set",
        "model.bins=3000",
        "--set",
        "sweep.grid={\"model.items\"=[1000,2000],\"model.zipf_s\"=[0.01,0.9]}",
        "--set",
        "montecarlo.replications=6",
    ];
    let with = |more: &[&'static str]| -> Vec<&'static str> {
        let mut v = small.to_vec();
        v.extend_from_slice(more);
        v
    };
    let whole = run(t, &s, "whole", &with(&[]));
    let a = run(t, &s, "a", &with(&["--replications", "0..4"]));
    let b = run(
        t,
        &s,
        "b",
        &with(&["--replications", "4..6", "--threads", "1"]),
    );
    let merged = merge(t, &[&b, &a], "merged");
    for v in 0..4 {
        let v = format!("variants/{v:03}");
        assert_eq!(results(&merged.join(&v)), results(&whole.join(&v)), "{v}");
    }
    for f in ["sweep.csv", "sweep.json"] {
        assert_eq!(
            fs::read(merged.join(f)).unwrap(),
            fs::read(whole.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(summary(&merged)["metrics"], summary(&whole)["metrics"]);
}

#[test]
fn slices_that_do_not_fit_together_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = small();
    let a = run(t, &s, "a", &["--replications", "0..10"]);
    let b = run(t, &s, "b", &["--replications", "10..20"]);
    let tail = run(t, &s, "tail", &["--replications", "15..20"]);
    let wide = run(t, &s, "wide", &["--replications", "5..15"]);
    refused(t, &[&a], "replications 10..20 (of 0..20) are in none");
    refused(
        t,
        &[&a, &tail],
        "replications 10..15 (of 0..20) are in none",
    );
    refused(
        t,
        &[&a, &wide, &b],
        "overlap: replications 5..10 are in both",
    );
    refused(t, &[&a, &a, &b], "overlap");
    let seed = run(t, &s, "seed", &["--replications", "10..20", "--seed", "9"]);
    refused(t, &[&a, &seed], "seed 9");
    let other = run(
        t,
        &s,
        "other",
        &["--replications", "10..20", "--set", "model.rounds=4"],
    );
    refused(t, &[&a, &other], "ran another scenario");
    let count = run(
        t,
        &s,
        "count",
        &[
            "--replications",
            "10..20",
            "--set",
            "montecarlo.replications=30",
        ],
    );
    refused(t, &[&a, &count], "ran another scenario");

    // Damaged or unfinished slices.
    let old = t.join("old");
    copy_dir(&b, &old);
    let text = fs::read_to_string(old.join("summary.json")).unwrap();
    let version = summary(&b)["version"].as_str().unwrap().to_string();
    fs::write(
        old.join("summary.json"),
        text.replace(&format!("\"{version}\""), "\"0.0.1\""),
    )
    .unwrap();
    refused(t, &[&a, &old], "microsim 0.0.1");
    let unfinished = t.join("unfinished");
    copy_dir(&b, &unfinished);
    fs::write(unfinished.join("INCOMPLETE"), "").unwrap();
    refused(t, &[&a, &unfinished], "did not finish");
    let short = t.join("short");
    copy_dir(&b, &short);
    let rows = fs::read_to_string(short.join("replications.csv")).unwrap();
    let cut: Vec<&str> = rows.lines().take(5).collect();
    fs::write(short.join("replications.csv"), cut.join("\n") + "\n").unwrap();
    refused(
        t,
        &[&a, &short],
        "not the 4 replications of its replications.csv",
    );
    refused(t, &[&a, &t.join("nowhere")], "nowhere");
}

#[test]
fn slices_the_run_cannot_be_cut_into_are_refused_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = small();
    for (args, why) in [
        (vec!["--replications", "5..5"], "empty slice"),
        (vec!["--replications", "9..3"], "empty slice"),
        (
            vec!["--replications", "0..21"],
            "the scenario has 20 replications",
        ),
        (vec!["--replications", "a..3"], "not a whole number"),
        (
            vec!["--replications", "0..3", "--replication", "1"],
            "does not go with a slice",
        ),
        (
            vec!["--replications", "0..3", "--set", "run.checkpoint_every=2"],
            "does not write checkpoints",
        ),
        (
            vec![
                "--replications",
                "0..3",
                "--set",
                "montecarlo.target={metric=\"claims_granted\",ci_half_width=1.0}",
            ],
            "precision target",
        ),
    ] {
        let out_dir = t.join("never");
        let mut all = vec!["run", s.as_str(), "--quiet", "--out", arg(&out_dir)];
        all.extend_from_slice(&args);
        let out = microsim(t, &all);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{why} not in: {}", out.stderr);
        assert!(!out_dir.exists(), "{args:?} wrote nothing");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}
