//! The result directory, typed: every file name in one place, every file's content as a
//! struct that is serialised once when a run writes it and read back through [`ResultDir`]
//! by `compare`, `plot`, the terminal table and users' own programs.
//!
//! | file | type |
//! |---|---|
//! | `summary.json` | [`RunSummary`] (with [`Summary`] per metric, [`RunManifest`], [`SweepTable`]) |
//! | `replications.csv` | [`ReplicationsTable`] of [`ReplicationRow`] |
//! | `results.csv` | the same rows for every variant, the swept fields as columns |
//! | `steps.csv` | [`StepsTable`] |
//! | `sweep.json`, `sweep.csv` | [`SweepTable`] |
//! | `details.json` | each replication's model details |
//! | `histograms/NAME.hlog` | HdrHistogram interval logs |
//! | `scenario.toml` | the resolved scenario |
//! | `plots/`, `report.html` | drawn by [`crate::plot`] |
//! | `INCOMPLETE` | there only while the run writes, or if it never finished |
//! | `checkpoints/` | snapshots to resume from (`checkpoint_every`, Ctrl-C) |

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::model::Expected;
use crate::engine::model::Quantity;
use crate::engine::quantity::Support;
use crate::engine::scheduler::Ending;
use crate::experiment::params::ModelInfo;
use crate::experiment::stats::{Difference, Summary};

pub(crate) mod seed_text;
mod tables;

pub use tables::{ReplicationRow, ReplicationsTable, StepsTable};

/// A result directory: where a run's files are, and how to read them back.
///
/// A sweep variant's directory (`variants/003`) keeps the directory it is reached from (its
/// anchor, the sweep's), so that what is written into it is reached from there without
/// following a link at any component (see [`crate::experiment::safe_fs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultDir {
    root: PathBuf,
    anchor: PathBuf,
    below: PathBuf,
}

/// Why a file of a result directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is not there or cannot be opened.
    #[error("cannot read {}: {why}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        why: std::io::Error,
    },
    /// The file is there but is not what microsim writes.
    #[error("{}: {why}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where it helps.
        why: String,
    },
    /// The run that wrote the directory did not finish: its results are partial.
    #[error(
        "{}: this run did not finish (killed? out of disk space? still running?), so its results are incomplete ({why})",
        dir.display()
    )]
    Incomplete {
        /// The result directory.
        dir: PathBuf,
        /// How that shows.
        why: String,
    },
}

impl ResultDir {
    /// `summary.json`
    pub const SUMMARY: &'static str = "summary.json";
    /// `scenario.toml`
    pub const SCENARIO: &'static str = "scenario.toml";
    /// `replications.csv`
    pub const REPLICATIONS: &'static str = "replications.csv";
    /// `results.csv`: every (variant, replication) of the run, one row each, with the swept
    /// fields as columns (see `output::tidy`).
    pub const RESULTS: &'static str = "results.csv";
    /// `steps.csv`
    pub const STEPS: &'static str = "steps.csv";
    /// `details.json`
    pub const DETAILS: &'static str = "details.json";
    /// `histograms/`
    pub const HISTOGRAMS: &'static str = "histograms";
    /// `sweep.json`
    pub const SWEEP_JSON: &'static str = "sweep.json";
    /// `sweep.csv`
    pub const SWEEP_CSV: &'static str = "sweep.csv";
    /// `variants/`
    pub const VARIANTS: &'static str = "variants";
    /// `plots/`
    pub const PLOTS: &'static str = "plots";
    /// `report.html`
    pub const REPORT: &'static str = "report.html";
    /// `INCOMPLETE`: written first when a run claims the directory, removed last once
    /// `summary.json` is in place. A directory that still has it did not finish.
    pub const INCOMPLETE: &'static str = "INCOMPLETE";
    /// `checkpoints/`: the checkpoints of a run with `checkpoint_every` (or stopped by Ctrl-C).
    pub const CHECKPOINTS: &'static str = "checkpoints";
    /// The histograms the engine writes for every model; the others are the model's own.
    pub const ENGINE_HISTOGRAMS: [&'static str; 4] = [
        "messages_per_task",
        "mailbox_depth",
        "step_time_us",
        "shard_time_us",
    ];

    /// The result directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        ResultDir {
            anchor: root.clone(),
            root,
            below: PathBuf::new(),
        }
    }

    /// The directory it is reached from, and its path below that (empty but for a sweep's
    /// variants).
    pub fn anchored(&self) -> (&Path, &Path) {
        (&self.anchor, &self.below)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The path of a file in it (one of the names above).
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Histogram `name`'s file, relative to the directory (`histograms/NAME.hlog`).
    pub fn histogram_file(name: &str) -> String {
        format!("{}/{name}.hlog", Self::HISTOGRAMS)
    }

    /// The path of histogram `name` (`histograms/NAME.hlog`).
    pub fn histogram(&self, name: &str) -> PathBuf {
        self.root
            .join(Self::HISTOGRAMS)
            .join(format!("{name}.hlog"))
    }

    /// The names of the histograms written, sorted; the model's own only if `model_only`.
    pub fn histogram_names(&self, model_only: bool) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.root.join(Self::HISTOGRAMS))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("hlog"))
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
            .filter(|n| !model_only || !Self::ENGINE_HISTOGRAMS.contains(&n.as_str()))
            .collect();
        names.sort();
        names
    }

    /// A sweep variant's directory, relative to the sweep's: `variants/003`.
    pub fn variant_path(index: u64) -> String {
        format!("{}/{index:03}", Self::VARIANTS)
    }

    /// A sweep variant's result directory.
    pub fn variant(&self, index: u64) -> ResultDir {
        let rel = Self::variant_path(index);
        ResultDir {
            root: self.root.join(&rel),
            anchor: self.anchor.clone(),
            below: self.below.join(rel),
        }
    }

    /// Why the run that wrote this directory did not finish, if it did not: its `INCOMPLETE`
    /// marker is still there, or (a directory written before the marker existed) it has
    /// results but no `summary.json`, the last file a run writes. `None` for a finished run,
    /// and for a directory that holds no results at all.
    pub fn is_incomplete(&self) -> Option<String> {
        if self.file(Self::INCOMPLETE).exists() {
            return Some(format!("{} is still there", Self::INCOMPLETE));
        }
        let started = [Self::REPLICATIONS, Self::STEPS, Self::VARIANTS]
            .iter()
            .any(|f| self.file(f).exists());
        (started && !self.file(Self::SUMMARY).exists())
            .then(|| format!("it has results but no {}", Self::SUMMARY))
    }

    /// Refuses a directory whose run did not finish ([`ResultDir::is_incomplete`]).
    pub fn check_finished(&self) -> Result<(), ReadError> {
        match self.is_incomplete() {
            Some(why) => Err(ReadError::Incomplete {
                dir: self.root.clone(),
                why,
            }),
            None => Ok(()),
        }
    }

    /// `summary.json`, of a run that finished (refused with [`ReadError::Incomplete`]
    /// otherwise).
    pub fn read_summary(&self) -> Result<RunSummary, ReadError> {
        self.check_finished()?;
        read_json(&self.file(Self::SUMMARY))
    }

    /// `sweep.json`.
    pub fn read_sweep(&self) -> Result<SweepTable, ReadError> {
        read_json(&self.file(Self::SWEEP_JSON))
    }

    /// `replications.csv`.
    pub fn read_replications(&self) -> Result<ReplicationsTable, ReadError> {
        ReplicationsTable::read(&self.file(Self::REPLICATIONS))
    }

    /// `steps.csv`.
    pub fn read_steps(&self) -> Result<StepsTable, ReadError> {
        StepsTable::read(&self.file(Self::STEPS))
    }

    /// The first `reps` replications of `steps.csv`.
    pub fn read_steps_first(&self, reps: usize) -> Result<StepsTable, ReadError> {
        StepsTable::read_first(&self.file(Self::STEPS), reps)
    }
}

/// The most bytes of a JSON file of a result directory read (a summary of a sweep of 100,000
/// variants is well below it).
pub(crate) const MAX_JSON_BYTES: u64 = 1 << 30;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReadError> {
    let text = crate::experiment::safe_fs::read_bounded(path, MAX_JSON_BYTES).map_err(|why| {
        ReadError::Io {
            path: path.to_path_buf(),
            why,
        }
    })?;
    serde_json::from_slice(&text).map_err(|e| ReadError::Format {
        path: path.to_path_buf(),
        why: format!("not what microsim writes (line {}): {e}", e.line()),
    })
}

/// `summary.json`: what a run did, each metric summarised over its replications, and how it
/// was run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The scenario's name.
    pub scenario: String,
    /// The model's name.
    pub model: String,
    /// The scenario seed (a string in JSON: `results::seed_text`).
    #[serde(with = "seed_text")]
    pub seed: u64,
    /// Replications written (for a sweep: asked of each variant).
    pub replications: u64,
    /// Whether the run was interrupted and the results are partial.
    pub partial: bool,
    /// Wall time of the run.
    pub elapsed_seconds: f64,
    /// The microsim version.
    pub version: String,
    /// The confidence level of every `ci` (`ci95` is always the 95% interval).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// Each metric over the replications that ran to their end (over all, if none did); for
    /// a sweep, the baseline variant's.
    pub metrics: BTreeMap<String, Summary>,
    /// How the replications ended.
    #[serde(default)]
    pub endings: Endings,
    /// With a precision target: whether it was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetOutcome>,
    /// For a slice of a run (`--replications A..B`): which replications it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<SliceInfo>,
    /// For a sweep: the variants and their comparison with the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepTable>,
    /// The model's metrics and counters, with their units, in the model's order.
    #[serde(default)]
    pub declared: Declared,
    /// How, where and when it ran.
    pub manifest: RunManifest,
    /// The SHA-256 of each file the run wrote (by its path in the directory), taken as it
    /// was written: what `microsim merge` checks a slice's files against. It catches a file
    /// damaged, edited, swapped or copied by accident, not a forger, who can recompute it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, FileRecord>,
}

/// What `summary.json` records of a file the run wrote: its length and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Its length in bytes.
    pub bytes: u64,
    /// Its SHA-256, as lower-case hex.
    pub sha256: String,
}

/// The replications a slice of a run holds (`microsim run --replications A..B`):
/// `from..to` (from 0, `to` not included) of the scenario's `of`. `microsim merge` puts
/// slices that cover `0..of` together into the run that holds them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceInfo {
    /// The first replication.
    pub from: u64,
    /// The replication after the last.
    pub to: u64,
    /// The scenario's replications (`montecarlo.replications`).
    pub of: u64,
}

impl fmt::Display for SliceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

fn default_confidence() -> f64 {
    0.95
}

impl RunSummary {
    /// The metric names in the model's order (as declared; else as stored).
    pub fn metric_names(&self) -> Vec<String> {
        if self.declared.metrics.is_empty() {
            self.metrics.keys().cloned().collect()
        } else {
            self.declared
                .metrics
                .iter()
                .map(|q| q.name.clone())
                .collect()
        }
    }

    /// What the model declares about metric (or counter) `name`.
    pub fn declared_metric(&self, name: &str) -> Option<&QuantityInfo> {
        self.declared
            .metrics
            .iter()
            .chain(&self.declared.counters)
            .find(|q| q.name == name)
    }

    /// What the model declares about histogram `name`.
    pub fn declared_histogram(&self, name: &str) -> Option<&QuantityInfo> {
        self.declared.histograms.iter().find(|q| q.name == name)
    }

    /// The unit of metric `name` (`""` if it has none or is not declared).
    pub fn unit(&self, name: &str) -> &str {
        self.declared
            .metrics
            .iter()
            .chain(&self.declared.counters)
            .chain(&self.declared.series)
            .find(|q| q.name == name)
            .map_or("", |q| q.unit.as_str())
    }
}

/// How many replications ended which way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endings {
    /// Ran to their end (or the model ended them).
    pub finished: u64,
    /// Waited for mail that could not come.
    pub stalled: u64,
    /// Reached `max_steps`.
    pub step_limit: u64,
    /// Stopped by the user.
    pub interrupted: u64,
    /// Stopped when births would have passed the model's bound on tasks (written only when
    /// some replication ended so).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub population_limit: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Endings {
    /// Counts `ending`.
    pub fn add(&mut self, ending: Ending) {
        *match ending {
            Ending::Finished => &mut self.finished,
            Ending::Stalled => &mut self.stalled,
            Ending::StepLimit => &mut self.step_limit,
            Ending::Interrupted => &mut self.interrupted,
            Ending::PopulationLimit => &mut self.population_limit,
        } += 1;
    }
}

/// A precision target's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetOutcome {
    /// The metric watched.
    pub metric: String,
    /// The half width asked for.
    pub ci_half_width: f64,
    /// Whether it was reached.
    pub reached: bool,
    /// The half width at the end.
    pub achieved_half_width: Option<f64>,
    /// Replications run.
    pub replications: u64,
}

/// A declared quantity, as written to `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantityInfo {
    /// Its name.
    pub name: String,
    /// Its unit (`""` for a pure number).
    pub unit: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub about: String,
    /// The value it is known to have on average, if the model declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    /// The values it can take, which its intervals respect (`any` is left out).
    #[serde(default, skip_serializing_if = "Support::is_any")]
    pub support: Support,
    /// For a histogram: the model's expected count of each value in one replication,
    /// `[value, count]` in value order ([`crate::Model::expected`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_counts: Vec<[f64; 2]>,
}

impl From<&Quantity> for QuantityInfo {
    fn from(q: &Quantity) -> Self {
        QuantityInfo {
            name: q.name.to_string(),
            unit: q.unit.to_string(),
            about: q.about.to_string(),
            expected: q.expected,
            support: q.support,
            expected_counts: Vec::new(),
        }
    }
}

/// What the model declares: metrics, counters and histograms, in its order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Declared {
    /// Scalar metrics.
    pub metrics: Vec<QuantityInfo>,
    /// Per-step counters.
    pub counters: Vec<QuantityInfo>,
    /// What the histograms measure.
    #[serde(default)]
    pub histograms: Vec<QuantityInfo>,
    /// Per-step series derived from the counters (written only when the model has some).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<QuantityInfo>,
}

impl Declared {
    /// What `info` declares, with what the model `expects` for its parameters
    /// ([`crate::Model::expected`]) in place of a quantity's own `expected`.
    pub fn of(info: &ModelInfo, expects: &Expected) -> Self {
        let mut metrics: Vec<QuantityInfo> = info.metrics.iter().map(QuantityInfo::from).collect();
        for (m, v) in expects.metrics() {
            if let Some(q) = metrics.get_mut(m.index()) {
                q.expected = Some(v);
            }
        }
        let histograms = info
            .histograms
            .iter()
            .map(|q| {
                let mut h = QuantityInfo::from(q);
                if let Some(counts) = expects.of_histogram(q.name) {
                    let mut c: Vec<[f64; 2]> = counts.iter().map(|&(v, n)| [v as f64, n]).collect();
                    c.sort_by(|a, b| a[0].total_cmp(&b[0]));
                    h.expected_counts = c;
                }
                h
            })
            .collect();
        Declared {
            metrics,
            counters: info.counters.iter().map(QuantityInfo::from).collect(),
            histograms,
            series: info.series.iter().map(QuantityInfo::from).collect(),
        }
    }
}

/// How, where and when a run ran. Not deterministic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// The microsim version.
    pub version: String,
    /// The git commit microsim was built from (`unknown` outside a checkout).
    pub git_commit: String,
    /// The command line.
    pub command_line: Vec<String>,
    /// Cores the host offers.
    pub host_threads: usize,
    /// Worker threads used.
    pub threads: usize,
    /// Shards per replication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u64>,
    /// Sweep variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<u64>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time.
    pub elapsed_seconds: f64,
    /// Time spent in replications, added over threads.
    #[serde(default)]
    pub replication_seconds_total: f64,
    /// The memory budget's estimate.
    pub memory_estimate_bytes: u64,
    /// The memory budget the estimate was checked against.
    #[serde(default)]
    pub memory_limit_bytes: u64,
    /// Where the budget comes from: `--max-memory`, 70% of the machine's available memory, or
    /// 70% of the room under a cgroup's memory limit.
    #[serde(default)]
    pub memory_limit_source: String,
    /// The measured peak resident memory, where the OS reports it.
    pub peak_rss_bytes: Option<u64>,
}

/// `sweep.json` (and `summary.json`'s `sweep`): every variant, summarised and compared with
/// the baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepTable {
    /// The baseline variant.
    pub baseline: u64,
    /// Whether variants share replication seeds (paired differences).
    pub common_random_numbers: bool,
    /// The metrics compared with the baseline.
    pub compare: Vec<String>,
    /// The confidence level of the intervals.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// The variants, in order.
    pub variants: Vec<SweepVariant>,
}

/// One variant of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepVariant {
    /// Its index.
    pub variant: u64,
    /// The fields it sets and their values.
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Its result directory, relative to the sweep's.
    pub dir: String,
    /// Replications run.
    pub replications: u64,
    /// Each metric summarised.
    pub metrics: BTreeMap<String, Summary>,
    /// Each compared metric's difference to the baseline (empty for the baseline).
    pub vs_baseline: BTreeMap<String, Difference>,
}

/// The name an ending has in files (`finished`, `stalled`, `step_limit`, `interrupted`,
/// `population_limit`).
pub fn ending_name(e: Ending) -> &'static str {
    match e {
        Ending::Finished => "finished",
        Ending::Stalled => "stalled",
        Ending::StepLimit => "step_limit",
        Ending::Interrupted => "interrupted",
        Ending::PopulationLimit => "population_limit",
    }
}

/// The ending [`ending_name`] names.
pub(crate) fn parse_ending(s: &str) -> Option<Ending> {
    [
        Ending::Finished,
        Ending::Stalled,
        Ending::StepLimit,
        Ending::Interrupted,
        Ending::PopulationLimit,
    ]
    .into_iter()
    .find(|e| ending_name(*e) == s)
}

/// Formats a number for the result files: integers without a fraction, others in the
/// shortest form that reads back exactly. The one formatter of machine-read numbers.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl fmt::Display for ResultDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.display().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_exactly() {
        assert_eq!(fmt_num(4983.0), "4983");
        assert_eq!(fmt_num(1.25), "1.25");
        assert_eq!(fmt_num(-2.0), "-2");
        assert_eq!(fmt_num(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn a_replications_table_reads_back_what_was_written() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("replications.csv");
        let rows = vec![
            ReplicationRow {
                replication: 0,
                seed: 17,
                ending: Ending::Finished,
                steps: 12,
                metrics: vec![1.5, 4.0],
            },
            ReplicationRow {
                replication: 1,
                seed: 99,
                ending: Ending::Interrupted,
                steps: 3,
                metrics: vec![f64::NAN, 2.0],
            },
        ];
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record(ReplicationsTable::header(&["a", "b"]))
            .unwrap();
        for r in &rows {
            w.write_record(ReplicationsTable::record(r)).unwrap();
        }
        w.flush().unwrap();
        let t = ReplicationsTable::read(&path).unwrap();
        assert_eq!(t.metrics, ["a", "b"]);
        assert_eq!(t.rows[0], rows[0]);
        assert!(t.rows[1].metrics[0].is_nan());
        assert_eq!(t.column("b"), Some(vec![4.0, 2.0]));
        assert_eq!(t.summarised().len(), 1);
    }

    #[test]
    fn a_run_that_did_not_finish_is_refused_as_such() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultDir::new(tmp.path());
        assert_eq!(
            dir.is_incomplete(),
            None,
            "an empty directory is just empty"
        );
        fs::write(
            dir.file(ResultDir::REPLICATIONS),
            "replication,seed,ending,steps\n",
        )
        .unwrap();
        let why = dir.is_incomplete().expect("results without a summary");
        assert!(why.contains(ResultDir::SUMMARY), "{why}");
        fs::write(dir.file(ResultDir::SUMMARY), "{}").unwrap();
        assert_eq!(dir.is_incomplete(), None);
        fs::write(dir.file(ResultDir::INCOMPLETE), "").unwrap();
        let e = dir.read_summary().unwrap_err();
        assert!(matches!(e, ReadError::Incomplete { .. }), "{e}");
        assert!(e.to_string().contains("did not finish (killed?"), "{e}");
    }

    #[test]
    fn a_damaged_table_is_refused_with_its_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("replications.csv");
        fs::write(&path, "replication,seed,ending,steps,a\n0,1,finished,2,x\n").unwrap();
        let e = ReplicationsTable::read(&path).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("`a`"), "{e}");
        fs::write(&path, "replication,seed,ending,steps,a\n0,1,finished,2\n").unwrap();
        assert!(ReplicationsTable::read(&path).is_err());
    }
}
