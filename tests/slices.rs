//! A run cut into slices (`run --replications A..B`, at any thread and shard count) and put
//! together with `microsim merge` writes the same bytes as one run; slices that do not fit
//! together are refused with exit code 2 and a message naming the directories.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::files::{results, run, summary};
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
    assert!(!dest.exists(), "{why}: nothing written");
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
    refused(t, &[&a, &short], "short/replications.csv: is");
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

/// Records `file`'s length and SHA-256 in `dir`'s summary.json again, as a forger who
/// recomputes them would: what the self-consistency checks must catch without the hashes.
fn reseal(dir: &Path, file: &str) {
    use sha2::{Digest, Sha256};
    let bytes = fs::read(dir.join(file)).unwrap();
    let mut s = summary(dir);
    let hash: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    s["files"][file] = serde_json::json!({ "bytes": bytes.len(), "sha256": hash });
    fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&s).unwrap(),
    )
    .unwrap();
}

/// Edits the lines of `dir/file` with `edit`.
fn edit_lines(dir: &Path, file: &str, edit: impl Fn(&mut Vec<String>)) {
    let text = fs::read_to_string(dir.join(file)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    edit(&mut lines);
    fs::write(dir.join(file), lines.join("\n") + "\n").unwrap();
}

/// A `replications.csv` field of row `row` (from 1) replaced.
fn set_field(lines: &mut [String], row: usize, col: usize, value: &str) {
    let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
    cells[col] = value.to_string();
    lines[row] = cells.join(",");
}

#[test]
fn tampered_slices_are_refused_naming_the_slice_and_file_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = small();
    let ten = ["--set", "montecarlo.replications=10"];
    let a = run(
        t,
        &s,
        "a",
        &[&["--replications", "0..5"][..], &ten].concat(),
    );
    let b = run(
        t,
        &s,
        "b",
        &[&["--replications", "5..10"][..], &ten].concat(),
    );
    type Tamper = fn(&Path, &Path);
    let cases: &[(&str, Tamper, &str, &str)] = &[
        // Accidents: the recorded lengths and hashes catch them.
        (
            "metric_edited",
            |a, _| {
                edit_lines(a, "replications.csv", |l| {
                    let v: String = l[2].split(',').next_back().unwrap().to_string();
                    let other = if v == "1" { "2" } else { "1" };
                    let n = l[2].split(',').count();
                    set_field(l, 2, n - 1, &format!("{other:0>w$}", w = v.len()));
                })
            },
            "replications.csv",
            "SHA-256",
        ),
        (
            "rows_swapped",
            |a, _| edit_lines(a, "replications.csv", |l| l.swap(1, 2)),
            "replications.csv",
            "SHA-256",
        ),
        (
            "index_999",
            |a, _| edit_lines(a, "replications.csv", |l| set_field(l, 3, 0, "999")),
            "replications.csv",
            "bytes long",
        ),
        (
            "seed_changed",
            |a, _| edit_lines(a, "replications.csv", |l| set_field(l, 1, 1, "12345")),
            "replications.csv",
            "bytes long",
        ),
        (
            "row_duplicated",
            |a, _| {
                edit_lines(a, "replications.csv", |l| {
                    let r = l[1].clone();
                    l.insert(2, r)
                })
            },
            "replications.csv",
            "bytes long",
        ),
        (
            "rows_of_another_slice",
            |a, b| {
                fs::copy(b.join("replications.csv"), a.join("replications.csv")).unwrap();
            },
            "replications.csv",
            "its run wrote",
        ),
        (
            "step_row_deleted",
            |a, _| {
                edit_lines(a, "steps.csv", |l| {
                    l.remove(3);
                })
            },
            "steps.csv",
            "bytes long",
        ),
        (
            "all_step_rows_deleted",
            |a, _| edit_lines(a, "steps.csv", |l| l.truncate(1)),
            "steps.csv",
            "bytes long",
        ),
        (
            "steps_of_another_slice",
            |a, b| {
                fs::copy(b.join("steps.csv"), a.join("steps.csv")).unwrap();
            },
            "steps.csv",
            "its run wrote",
        ),
        (
            "details_of_another_slice",
            |a, b| {
                fs::copy(b.join("details.json"), a.join("details.json")).unwrap();
            },
            "details.json",
            "its run wrote",
        ),
        (
            "histogram_of_another_slice",
            |a, b| {
                fs::copy(
                    b.join("histograms/points.hlog"),
                    a.join("histograms/points.hlog"),
                )
                .unwrap();
            },
            "histograms/points.hlog",
            "its run wrote",
        ),
        (
            "model_histogram_deleted",
            |a, _| fs::remove_file(a.join("histograms/points.hlog")).unwrap(),
            "histograms/points.hlog",
            "is missing",
        ),
        (
            "engine_histogram_deleted",
            |a, _| fs::remove_file(a.join("histograms/mailbox_depth.hlog")).unwrap(),
            "histograms/mailbox_depth.hlog",
            "is missing",
        ),
        (
            "hashes_not_recorded",
            |a, _| {
                let mut s = summary(a);
                s.as_object_mut().unwrap().remove("files");
                fs::write(a.join("summary.json"), s.to_string()).unwrap();
            },
            "summary.json",
            "records no lengths and hashes",
        ),
        // Forged, hashes recomputed: the slice is checked against itself.
        (
            "from_to_swapped",
            |a, b| {
                for (d, from, to) in [(a, 5, 10), (b, 0, 5)] {
                    let mut s = summary(d);
                    s["slice"]["from"] = from.into();
                    s["slice"]["to"] = to.into();
                    fs::write(d.join("summary.json"), s.to_string()).unwrap();
                }
            },
            "replications.csv",
            "where 0 belongs",
        ),
        (
            "forged_index",
            |a, _| {
                edit_lines(a, "replications.csv", |l| set_field(l, 3, 0, "999"));
                reseal(a, "replications.csv")
            },
            "replications.csv",
            "where 2 belongs",
        ),
        (
            "forged_seed",
            |a, _| {
                edit_lines(a, "replications.csv", |l| set_field(l, 1, 1, "12345"));
                reseal(a, "replications.csv")
            },
            "replications.csv",
            "seed of replication 0",
        ),
        (
            "forged_duplicate",
            |a, _| {
                edit_lines(a, "replications.csv", |l| {
                    let r = l[5].clone();
                    l.push(r)
                });
                reseal(a, "replications.csv")
            },
            "replications.csv",
            "past the slice",
        ),
        (
            "forged_missing_steps",
            |a, _| {
                edit_lines(a, "steps.csv", |l| {
                    l.pop();
                });
                reseal(a, "steps.csv")
            },
            "steps.csv",
            "are missing",
        ),
        (
            "forged_foreign_steps",
            |a, b| {
                fs::copy(b.join("steps.csv"), a.join("steps.csv")).unwrap();
                reseal(a, "steps.csv")
            },
            "steps.csv",
            "a row of replication",
        ),
        (
            "forged_foreign_details",
            |a, b| {
                fs::copy(b.join("details.json"), a.join("details.json")).unwrap();
                reseal(a, "details.json")
            },
            "details.json",
            "where 0 belongs",
        ),
    ];
    for (name, tamper, file, says) in cases {
        let (ta, tb) = (t.join(format!("{name}-a")), t.join(format!("{name}-b")));
        copy_dir(&a, &ta);
        copy_dir(&b, &tb);
        tamper(&ta, &tb);
        let dest = t.join(format!("{name}-merged"));
        let out = microsim(
            t,
            &["merge", "--quiet", arg(&ta), arg(&tb), "--out", arg(&dest)],
        );
        assert_eq!(out.code, Some(2), "{name}: {out}");
        let named = [&ta, &tb]
            .iter()
            .any(|d| out.stderr.contains(arg(&d.join(file))));
        assert!(
            named && out.stderr.contains(says),
            "{name}: should name the slice's {file} and say {says:?}\n{out}"
        );
        assert!(!dest.exists(), "{name}: nothing written");
    }
    // Untampered, the same slices merge.
    merge(t, &[&a, &b], "fine");
}
