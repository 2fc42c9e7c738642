//! Monte Carlo machinery: replications, sweeps, common random numbers, precision targets.
//! Statistical checks use fixed seeds and stated tolerances.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use microsim::internal::montecarlo::Silent;
use microsim::internal::output::Manifest;
use microsim::internal::runner::{Options, execute};
use microsim::internal::scenario::{Override, Scenario};
use serde_json::Value;

use common::scenario;

/// Runs `s` into `dir` and returns its summary as JSON (what `summary.json` holds).
fn run(s: &Scenario, dir: &Path) -> Value {
    let opts = Options {
        dir: dir.to_path_buf(),
        only: None,
        slice: None,
        manifest: Manifest::default(),
    };
    let outcome = execute(s, &opts, &AtomicBool::new(false), &Silent).unwrap();
    serde_json::to_value(&outcome.summary).expect("the summary serialises")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const LOTTERY_SWEEP: &str = r#"
[scenario]
model = "gift_lottery"
[model]
items = 20000
bins = 60000
[run]
seed = 99
shards = 5
[montecarlo]
replications = 40
[sweep]
compare = ["bins_with_1", "bins_empty"]
[sweep.grid]
"model.keep_fraction" = [0.0, 0.01]
"#;

#[test]
fn sweeps_are_byte_identical_at_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let s1 = run(
        &scenario(LOTTERY_SWEEP, &[Override::new("run.threads", 1)]),
        &one,
    );
    let s2 = run(
        &scenario(LOTTERY_SWEEP, &[Override::new("run.threads", 2)]),
        &two,
    );
    assert_eq!(s1["sweep"], s2["sweep"]);
    assert_eq!(read(&one.join("sweep.csv")), read(&two.join("sweep.csv")));
    for v in ["000", "001"] {
        for f in [
            "replications.csv",
            "details.json",
            "histograms/copies_per_bin.hlog",
            "histograms/messages_per_task.hlog",
        ] {
            let (a, b) = (
                one.join("variants").join(v).join(f),
                two.join("variants").join(v).join(f),
            );
            assert!(
                read(&a) == read(&b),
                "variants/{v}/{f} differs between 1 and 2 threads"
            );
        }
    }
}

#[test]
fn a_sweep_is_one_tidy_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let summary = run(&scenario(LOTTERY_SWEEP, &[]), &dir);
    let text = String::from_utf8(read(&dir.join("results.csv"))).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let variant0 = String::from_utf8(read(&dir.join("variants/000/replications.csv"))).unwrap();
    let variant1 = String::from_utf8(read(&dir.join("variants/001/replications.csv"))).unwrap();
    assert_eq!(
        header,
        format!(
            "variant,model.keep_fraction,{}",
            variant0.lines().next().unwrap()
        ),
        "the swept field is a column, then replications.csv's columns"
    );
    // Every variant's rows, byte for byte, after its index and its value of the field.
    let mut want = Vec::new();
    for (v, value, table) in [(0, "0.0", &variant0), (1, "0.01", &variant1)] {
        want.extend(
            table
                .lines()
                .skip(1)
                .map(|row| format!("{v},{value},{row}")),
        );
    }
    assert_eq!(lines.map(str::to_string).collect::<Vec<_>>(), want);
    assert_eq!(want.len(), 80, "40 replications of 2 variants");
    // The sweep shows the baseline's metrics, and what the model expects of the baseline.
    let file = |f: &str| -> Value { serde_json::from_slice(&read(&dir.join(f))).unwrap() };
    let baseline = file("variants/000/summary.json");
    assert_eq!(file("summary.json")["declared"], baseline["declared"]);
    // Recorded with the other files, so `merge` checks it.
    assert!(
        summary["files"]["results.csv"]["sha256"].is_string(),
        "{summary}"
    );
}

/// The half width of the CI of variant 1 − variant 0 for `metric`.
fn diff_half_width(summary: &Value, metric: &str) -> f64 {
    let d = &summary["sweep"]["variants"][1]["vs_baseline"][metric];
    let ci = d["ci95"].as_array().unwrap();
    (ci[1].as_f64().unwrap() - ci[0].as_f64().unwrap()) / 2.0
}

#[test]
fn common_random_numbers_give_much_tighter_differences() {
    let tmp = tempfile::tempdir().unwrap();
    let crn = run(&scenario(LOTTERY_SWEEP, &[]), &tmp.path().join("crn"));
    let indep = run(
        &scenario(
            LOTTERY_SWEEP,
            &[Override::new("sweep.common_random_numbers", false)],
        ),
        &tmp.path().join("indep"),
    );
    assert_eq!(
        crn["sweep"]["variants"][1]["vs_baseline"]["bins_empty"]["method"],
        "paired"
    );
    assert_eq!(
        indep["sweep"]["variants"][1]["vs_baseline"]["bins_empty"]["method"],
        "welch"
    );
    for m in ["bins_with_1", "bins_empty"] {
        let (p, w) = (diff_half_width(&crn, m), diff_half_width(&indep, m));
        // Keeping 1% of items changes few bins; with the same draws the noise cancels. The
        // paired interval should be several times narrower (observed ~5×; we ask for 2×).
        assert!(p * 2.0 < w, "{m}: paired ±{p:.1} vs independent ±{w:.1}");
    }
    // Keeping 1% of 20,000 items leaves more of the 60,000 bins empty:
    // E[empty] = 60000·(1 − 1/60000)^(n(1−keep)), a difference of about 143.6. Per replication
    // the paired difference has sd ≈ 12, so over 40 replications ±15 is over 7 standard errors.
    let d = &crn["sweep"]["variants"][1]["vs_baseline"]["bins_empty"];
    assert_eq!(d["significant"], true);
    let empty = |n: f64| 60_000.0 * (1.0 - 1.0 / 60_000f64).powf(n);
    let expected = empty(19_800.0) - empty(20_000.0);
    let mean = d["mean"].as_f64().unwrap();
    assert!(
        (mean - expected).abs() < 15.0,
        "bins_empty difference {mean}, expected {expected:.1}"
    );
}

#[test]
fn a_precision_target_adds_replications_until_reached() {
    let text = r#"
[scenario]
model = "pi"
[model]
points = 20000
tasks = 10
[montecarlo]
replications = 10
target = { metric = "pi_estimate", ci_half_width = 0.004, batch = 10, max_replications = 1000 }
"#;
    let tmp = tempfile::tempdir().unwrap();
    let a = run(
        &scenario(text, &[Override::new("run.threads", 1)]),
        &tmp.path().join("a"),
    );
    let b = run(
        &scenario(text, &[Override::new("run.threads", 2)]),
        &tmp.path().join("b"),
    );
    let t = &a["target"];
    assert_eq!(t["reached"], true);
    let half = t["achieved_half_width"].as_f64().unwrap();
    assert!(half <= 0.004);
    // sd of one estimate ≈ 4·sqrt(p(1−p)/n) ≈ 0.0116, so ~(1.97·0.0116/0.004)² ≈ 33 → 40 reps.
    let n = t["replications"].as_u64().unwrap();
    assert!(
        (20..=80).contains(&n) && n.is_multiple_of(10),
        "took {n} replications"
    );
    assert_eq!(a["replications"].as_u64(), Some(n));
    assert_eq!(
        a["target"], b["target"],
        "the stopping point must not depend on threads"
    );
    assert_eq!(a["metrics"], b["metrics"]);
}

#[test]
fn uniform_lottery_passes_a_chi_square_test_at_the_seed_size() {
    // 600k items in 2M bins, one replication: the counts of bins with 0, 1, 2, 3, 4 and ≥5
    // copies against the binomial expectation. The cells are nearly independent Poisson
    // counts, so χ² with 5 degrees of freedom applies approximately; the 0.1% critical value
    // is 20.52.
    let s = scenario(
        "[scenario]\nmodel = \"gift_lottery\"\n[run]\nseed = 3\n[montecarlo]\nreplications = 1\n",
        &[],
    );
    let tmp = tempfile::tempdir().unwrap();
    let summary = run(&s, tmp.path());
    let m = |k: &str| summary["metrics"][k]["mean"].as_f64().unwrap();
    let (n, bins) = (600_000f64, 2_000_000f64);
    let p = 1.0 / bins;
    let mut expected = vec![bins * (1.0 - p).powf(n)];
    for k in 1..5 {
        let prev = expected[k - 1];
        expected.push(prev * (n - k as f64 + 1.0) / k as f64 * p / (1.0 - p));
    }
    expected.push(bins - expected.iter().sum::<f64>());
    let observed = [
        m("bins_empty"),
        m("bins_with_1"),
        m("bins_with_2"),
        m("bins_with_3"),
        m("bins_with_4"),
        bins - m("bins_empty")
            - m("bins_with_1")
            - m("bins_with_2")
            - m("bins_with_3")
            - m("bins_with_4"),
    ];
    let chi2: f64 = observed
        .iter()
        .zip(&expected)
        .map(|(o, e)| (o - e) * (o - e) / e)
        .sum();
    assert!((expected[1] - 444_491.0).abs() < 1.0 && (expected[4] - 500.0).abs() < 1.0);
    assert!(
        chi2 < 20.52,
        "χ² = {chi2:.2}; observed {observed:?}, expected {expected:?}"
    );
}

#[test]
fn replication_k_alone_matches_replication_k_among_all() {
    let text = "[scenario]\nmodel = \"musical_chairs\"\n[model]\nrobots = 300\nwidth = 20\nheight = 20\nrounds = 4\n[montecarlo]\nreplications = 6\n";
    let s = scenario(text, &[]);
    let tmp = tempfile::tempdir().unwrap();
    run(&s, &tmp.path().join("all"));
    let opts = Options {
        dir: tmp.path().join("one"),
        only: Some(4),
        slice: None,
        manifest: Manifest::default(),
    };
    execute(&s, &opts, &AtomicBool::new(false), &Silent).unwrap();
    let all = String::from_utf8(read(&tmp.path().join("all/replications.csv"))).unwrap();
    let one = String::from_utf8(read(&tmp.path().join("one/replications.csv"))).unwrap();
    assert_eq!(one.lines().nth(1), all.lines().nth(5));
    assert!(one.lines().nth(1).unwrap().starts_with("4,"));
}
