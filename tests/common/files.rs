//! Reading what `microsim run` writes: directory listings, CSV, JSON, and the checks every
//! complete result directory must pass.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::microsim_ok;

/// Columns of steps.csv that measure wall time and so differ from run to run.
pub const TIMING_COLUMNS: &[&str] = &["wall_ms", "shard_ms_max", "shard_ms_mean"];

/// The statistics every metric of summary.json carries.
pub const SUMMARY_STATS: &[&str] = &["mean", "std", "ci95", "min", "p50", "max"];

/// The top-level keys of summary.json.
pub const SUMMARY_KEYS: &[&str] = &[
    "scenario",
    "model",
    "seed",
    "replications",
    "elapsed_seconds",
    "version",
    "manifest",
    "metrics",
];

/// Every file under `dir`, recursively, relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .expect("under the root")
                        .to_path_buf(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The names in `dir` (not recursive), sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A CSV file with a header: every row has as many fields as the header, no field is quoted,
/// and the file ends with a newline.
#[derive(Debug, PartialEq)]
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn read(path: &Path) -> Csv {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            text.ends_with('\n'),
            "{}: the last line is cut short",
            path.display()
        );
        assert!(
            !text.contains('"'),
            "{}: quoted fields are not expected",
            path.display()
        );
        let split = |l: &str| l.split(',').map(str::to_string).collect::<Vec<_>>();
        let mut lines = text.lines().map(split);
        let header = lines
            .next()
            .unwrap_or_else(|| panic!("{}: no header", path.display()));
        let rows: Vec<Vec<String>> = lines.collect();
        for (i, row) in rows.iter().enumerate() {
            let at = format!("{} row {}", path.display(), i + 1);
            assert_eq!(
                row.len(),
                header.len(),
                "{at}: {row:?} vs header {header:?}"
            );
        }
        Csv { header, rows }
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> usize {
        let found = self.header.iter().position(|h| h == name);
        found.unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// The values of column `name`.
    pub fn values(&self, name: &str) -> Vec<&str> {
        let i = self.column(name);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }

    /// The rows whose column `name` is `value`, without the columns named in `drop`.
    pub fn rows_where(&self, name: &str, value: &str, drop: &[&str]) -> Vec<Vec<String>> {
        let (i, header) = (self.column(name), &self.header);
        let keep = |j: &usize| !drop.contains(&header[*j].as_str());
        let kept: Vec<usize> = (0..header.len()).filter(keep).collect();
        let selected = self.rows.iter().filter(|r| r[i] == value);
        selected
            .map(|r| kept.iter().map(|&j| r[j].clone()).collect())
            .collect()
    }

    /// Every row, without the columns named in `drop`.
    pub fn without(&self, drop: &[&str]) -> Vec<Vec<String>> {
        let keep: Vec<usize> = (0..self.header.len())
            .filter(|&j| !drop.contains(&self.header[j].as_str()))
            .collect();
        self.rows
            .iter()
            .map(|r| keep.iter().map(|&j| r[j].clone()).collect())
            .collect()
    }
}

/// A result directory's `summary.json`, parsed.
pub fn summary(dir: &Path) -> Value {
    read_json(&dir.join("summary.json"))
}

/// Reads and parses a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not JSON: {e}\n{text}", path.display()))
}

/// Reads and parses a TOML file.
pub fn read_toml(path: &Path) -> toml::Table {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: not TOML: {e}\n{text}", path.display()))
}

/// The metric names of `model`, as `microsim list --json` gives them: each metric is an
/// object with its `name`, its `unit` and a line `about` it.
pub fn model_metrics(dir: &Path, model: &str) -> Vec<String> {
    let out = microsim_ok(dir, &["list", "--json"]);
    let list: Value = serde_json::from_str(&out.stdout).expect("list --json prints JSON");
    let models = list.as_array().expect("list --json prints an array");
    let entry = models.iter().find(|m| m["name"] == model);
    let entry = entry.unwrap_or_else(|| panic!("{model} is not listed: {list}"));
    let names = entry["metrics"].as_array().expect("metrics is an array");
    let metrics: Vec<String> = names
        .iter()
        .map(|m| {
            for field in ["unit", "about"] {
                assert!(m[field].is_string(), "metric {m} has no {field}");
            }
            m["name"].as_str().expect("a name").to_string()
        })
        .collect();
    assert!(!metrics.is_empty(), "{model} lists no metrics");
    metrics
}

/// Checks a complete result directory of `replications` replications whose model has
/// `metrics`: every file there and well-formed, and every metric summarised.
pub fn check_result_dir(out: &Path, replications: u64, metrics: &[String]) -> Value {
    for file in [
        "scenario.toml",
        "summary.json",
        "replications.csv",
        "steps.csv",
        "details.json",
    ] {
        assert!(
            out.join(file).is_file(),
            "{file} is missing: {:?}",
            files_under(out)
        );
    }
    read_toml(&out.join("scenario.toml"));
    check_hlogs(&out.join("histograms"));
    check_finished(out);

    let summary = read_json(&out.join("summary.json"));
    for key in SUMMARY_KEYS {
        assert!(
            summary.get(key).is_some(),
            "summary.json has no {key}: {summary}"
        );
    }
    let got = summary["metrics"]
        .as_object()
        .expect("metrics is an object");
    let mut got_names: Vec<&String> = got.keys().collect();
    let mut want: Vec<&String> = metrics.iter().collect();
    got_names.sort();
    want.sort();
    assert_eq!(
        got_names, want,
        "summary.json's metrics are the model's metrics"
    );
    for name in metrics {
        check_metric_summary(name, &got[name.as_str()]);
    }

    assert_eq!(
        fs::read(out.join("results.csv")).ok(),
        fs::read(out.join("replications.csv")).ok(),
        "a run that is not a sweep: results.csv holds replications.csv's rows"
    );
    let reps = Csv::read(&out.join("replications.csv"));
    assert_eq!(
        reps.rows.len() as u64,
        replications,
        "one row per replication"
    );
    for m in metrics {
        reps.column(m);
    }
    assert!(
        reps.values("ending").iter().all(|e| *e == "finished"),
        "{reps:?}"
    );
    assert!(
        !Csv::read(&out.join("steps.csv")).rows.is_empty(),
        "steps.csv has no steps"
    );
    let details = read_json(&out.join("details.json"));
    assert_eq!(
        details.as_array().map(|d| d.len() as u64),
        Some(replications),
        "details.json: one per replication"
    );
    summary
}

/// A result directory that is finished: no `INCOMPLETE` marker and no temporary file
/// (`.NAME.PID.partial`) anywhere under it.
pub fn check_finished(out: &Path) {
    assert!(
        !out.join("INCOMPLETE").exists(),
        "{}: still marked INCOMPLETE",
        out.display()
    );
    let partial = partial_files(out);
    assert!(partial.is_empty(), "temporary files left: {partial:?}");
}

/// The temporary files (`.NAME.PID.partial`) under `dir`.
pub fn partial_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with('.') && name.ends_with(".partial")
        })
        .collect()
}

/// The histograms: at least one HdrHistogram interval log, each with a histogram in it.
fn check_hlogs(dir: &Path) {
    let hlogs: Vec<_> = names_in(dir)
        .into_iter()
        .filter(|n| n.ends_with(".hlog"))
        .collect();
    assert!(!hlogs.is_empty(), "no histograms/*.hlog");
    for h in &hlogs {
        let text = fs::read_to_string(dir.join(h)).unwrap();
        assert!(
            text.starts_with('#') && text.contains("HIST"),
            "{h} is not an HdrHistogram log:\n{text}"
        );
    }
}

/// One metric's summary over several replications: every statistic present and consistent.
fn check_metric_summary(name: &str, m: &Value) {
    for stat in SUMMARY_STATS {
        assert!(!m[stat].is_null(), "metric {name} has no {stat}: {m}");
    }
    let num = |s: &str| {
        m[s].as_f64()
            .unwrap_or_else(|| panic!("{name}.{s} is not a number: {m}"))
    };
    let (min, p50, max, mean) = (num("min"), num("p50"), num("max"), num("mean"));
    assert!(
        min <= p50 && p50 <= max && min <= mean && mean <= max,
        "{name}: {m}"
    );
    assert!(num("std") >= 0.0, "{name}: {m}");
    let ci = m["ci95"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}.ci95 is not a pair: {m}"));
    assert_eq!(ci.len(), 2, "{name}.ci95: {m}");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(
        lo <= mean && mean <= hi,
        "{name}: the mean lies in its CI: {m}"
    );
}

/// The deterministic content of a result directory: replications.csv, details.json, the
/// metrics of summary.json, the deterministic columns of steps.csv (not the shard split of
/// the messages, not the wall times) and the deterministic histograms.
pub fn results(dir: &Path) -> String {
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    let steps = step_rows(dir);
    let summary: serde_json::Value = serde_json::from_str(&read("summary.json")).unwrap();
    let mut hists: Vec<String> = fs::read_dir(dir.join("histograms"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.contains("time_us"))
        .collect();
    hists.sort();
    let hists: Vec<String> = hists
        .iter()
        .map(|n| format!("{n}: {}", read(&format!("histograms/{n}"))))
        .collect();
    assert!(
        !dir.join("INCOMPLETE").exists(),
        "{} is complete",
        dir.display()
    );
    format!(
        "{}\n{}\n{}\n{}\n{}",
        read("replications.csv"),
        read("details.json"),
        summary["metrics"],
        steps.join("\n"),
        hists.join("\n")
    )
}

/// The deterministic columns of steps.csv (not the shard split of the messages, not the wall
/// times), one string per row, header first.
pub fn step_rows(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("steps.csv"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            let keep: Vec<&str> = cols[..cols.len() - 3]
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 5 && *i != 6) // messages_local, messages_cross
                .map(|(_, c)| *c)
                .collect();
            keep.join(",")
        })
        .collect()
}

/// `microsim run SCENARIO args… --quiet --out DIR` (no plots), asserting success.
pub fn run(tmp: &Path, scenario: &str, out: &str, args: &[&str]) -> PathBuf {
    let dir = tmp.join(out);
    let mut all = vec!["run", scenario, "--quiet", "--set", "output.plots=[]"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", super::arg(&dir)]);
    super::microsim_ok(tmp, &all);
    dir
}
