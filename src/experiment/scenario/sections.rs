//! The serde mirror of a scenario file (stage one) and the checks that turn it into typed
//! values (stage two).

use serde::{Deserialize, Serialize};

use crate::engine::arena::Partition;
use crate::engine::scheduler::Order;
use crate::experiment::params::PathPart;
pub use crate::experiment::params::{Problem, check_positive, check_probability, check_range};

mod sweep;

pub use sweep::{MAX_SWEEP_FIELDS, MAX_VARIANTS};

/// A whole scenario document, generic over the model's parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Doc<P> {
    /// `[scenario]`
    pub scenario: ScenarioSection,
    /// `[model]`: the model's parameters.
    #[serde(default)]
    pub model: P,
    /// `[run]`
    #[serde(default)]
    pub run: RunSection,
    /// `[montecarlo]`
    #[serde(default)]
    pub montecarlo: MonteCarloSection,
    /// `[output]`
    #[serde(default)]
    pub output: OutputSection,
    /// `[sweep]`: variants of this scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSection>,
}

/// `[scenario]`: what this is.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    /// Names the result directory; defaults to the file name without `.toml`, made safe
    /// ([`default_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The model to run (`microsim list` shows the registered ones).
    pub model: String,
}

/// `[run]`: how each replication runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    /// The scenario seed; every random number derives from it.
    pub seed: u64,
    /// Shards the arena is split into; results do not depend on it. Default: for one
    /// replication one per thread, at least 16; for several, the fewest the arena needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u64>,
    /// Worker threads; 0 means one per core. Results do not depend on it.
    pub threads: u64,
    /// Message order within a step: "by_id" or "shuffled".
    pub order: Order,
    /// How many times a task may run in a row within one step.
    pub quantum: u64,
    /// A replication stops after this many steps.
    pub max_steps: u64,
    /// Whether to record per-task histograms (messages per task, mailbox depth).
    pub histograms: bool,
    /// Write a checkpoint into the result directory's `checkpoints/` every this many steps
    /// (0: none; the default). A run of one replication is snapshotted whole every this many
    /// steps; a run of several records the replications done, after every replication that
    /// brings this many more steps. Ctrl-C then writes one too. `microsim resume` goes on
    /// from any of them.
    #[serde(skip_serializing_if = "is_zero")]
    pub checkpoint_every: u64,
    /// How many of a lone replication's step checkpoints to keep (default
    /// [`DEFAULT_CHECKPOINT_KEEP`]): once a newer one is safely written (synced and renamed
    /// into place), the older ones beyond this many are removed.
    #[serde(skip_serializing_if = "is_default_keep")]
    pub checkpoint_keep: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The step checkpoints a run keeps unless `[run] checkpoint_keep` says otherwise.
pub const DEFAULT_CHECKPOINT_KEEP: u64 = 3;

fn is_default_keep(n: &u64) -> bool {
    *n == DEFAULT_CHECKPOINT_KEEP
}

/// The seed used when a scenario names none (recorded in the resolved scenario).
pub const DEFAULT_SEED: u64 = 2008;

impl Default for RunSection {
    fn default() -> Self {
        RunSection {
            seed: DEFAULT_SEED,
            shards: None,
            threads: 0,
            order: Order::ById,
            quantum: 1,
            max_steps: 1_000_000,
            histograms: true,
            checkpoint_every: 0,
            checkpoint_keep: DEFAULT_CHECKPOINT_KEEP,
        }
    }
}

/// `[montecarlo]`: how many replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonteCarloSection {
    /// Independent replications, each seeded from the scenario seed (with a `target`: the
    /// replications run before the target is first checked).
    pub replications: u64,
    /// The confidence level of every interval (summaries, targets, differences, plots):
    /// 0.95 by default; 0.90, 0.99 or any level in [0.5, 0.9999].
    pub confidence: f64,
    /// Keep adding replications until a metric's confidence interval is this tight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSection>,
}

impl Default for MonteCarloSection {
    fn default() -> Self {
        MonteCarloSection {
            replications: 1,
            confidence: 0.95,
            target: None,
        }
    }
}

/// `[montecarlo] target = { metric = "...", ci_half_width = ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// The metric whose confidence interval (at `[montecarlo] confidence`) is watched.
    pub metric: String,
    /// Stop when the interval's half width is at most this.
    pub ci_half_width: f64,
    /// Replications added between checks (default: 10).
    #[serde(default = "default_batch")]
    pub batch: u64,
    /// Stop here even if the target is not reached (default: 10,000).
    #[serde(default = "default_cap")]
    pub max_replications: u64,
}

fn default_batch() -> u64 {
    10
}

fn default_cap() -> u64 {
    10_000
}

/// `[sweep]`: a grid and/or a sample of parameter values; each combination is a variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepSection {
    /// Values per field (`"model.zipf_s" = [1.0, 1.2]`); every combination is a variant, with
    /// fields taken in name order and the last varying fastest.
    pub grid: std::collections::BTreeMap<String, Vec<toml::Value>>,
    /// Sampled values of numeric ranges, combined with every grid point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleSection>,
    /// The variant the others are compared with (its index, from 0).
    pub baseline: u64,
    /// Metrics to compare with the baseline (default: all).
    pub compare: Vec<String>,
    /// Whether variants reuse the same replication seeds (common random numbers), which makes
    /// paired differences far more precise. Default true.
    pub common_random_numbers: bool,
    /// A checkpoint of a lone replication (relative to the scenario file's directory; the
    /// resolved scenario records it as an absolute path) that
    /// every variant starts from: a warm-up run once, then variants that differ only after its
    /// step. Only `model.*` fields may be swept; each variant runs the checkpoint's
    /// replication, with its seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl Default for SweepSection {
    fn default() -> Self {
        SweepSection {
            grid: Default::default(),
            sample: None,
            baseline: 0,
            compare: Vec::new(),
            common_random_numbers: true,
            from: None,
        }
    }
}

/// `[sweep.sample]`: `count` points from `ranges`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSection {
    /// "random" (independent uniform draws) or "latin_hypercube" (one draw per stratum).
    #[serde(default)]
    pub method: SampleMethod,
    /// Points drawn.
    pub count: u64,
    /// `"model.zipf_s" = [0.5, 2.0]`: a field and its [low, high] range. Whole-number ends
    /// give whole-number values. (A list, so that a range of another length is refused in
    /// stage two, by name, rather than cut short.)
    pub ranges: std::collections::BTreeMap<String, Vec<toml::Value>>,
}

/// How a sweep samples ranges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleMethod {
    /// Independent uniform draws.
    #[default]
    Random,
    /// Latin hypercube: each range cut into `count` strata, each stratum used once.
    LatinHypercube,
}

/// `[output]`: where results go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSection {
    /// The result directory; default `outputs/<scenario name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Which plots a run draws: any of "distribution", "cdf", "histograms", "convergence",
    /// "steps", "sweep", or "all" (the default); `[]` draws none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plots: Option<Vec<String>>,
}

/// The longest `[output] dir` accepted, in bytes.
pub const MAX_DIR_BYTES: usize = 1024;
/// The longest `[scenario] description` accepted, in characters (every sweep variant carries
/// a copy; longer notes belong in `#` comments).
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

fn key(k: &str) -> PathPart {
    PathPart::Key(k.to_string())
}

impl OutputSection {
    /// Stage-two checks of `[output]`: known plot kinds, each once; a result directory that
    /// can be one (not empty, not an existing file or device, nor inside one).
    pub fn check(&self, out: &mut Vec<Problem>) {
        if let Some(plots) = &self.plots {
            if let Err(e) = crate::experiment::scenario::PlotKind::parse_list(plots) {
                out.push(Problem::new(
                    "output.plots",
                    e.to_string(),
                    "e.g. plots = [\"distribution\", \"histograms\"] or [\"all\"]",
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for (i, name) in plots.iter().enumerate() {
                let kind = match name.trim().to_ascii_lowercase().as_str() {
                    "all" => "all".to_string(),
                    other => other
                        .parse::<crate::experiment::scenario::PlotKind>()
                        .map_or(other.to_string(), |k| k.name().to_string()),
                };
                if !seen.insert(kind) {
                    out.push(
                        Problem::new(
                            "output.plots",
                            format!("`output.plots` names the plot `{}` twice", name.trim()),
                            "name each plot kind once",
                        )
                        .at(vec![
                            key("output"),
                            key("plots"),
                            PathPart::Index(i),
                        ]),
                    );
                    break;
                }
            }
        }
        if let Some(dir) = &self.dir {
            check_dir(dir, out);
        }
    }
}

/// Checks `[output] dir` against the file system as it is now.
fn check_dir(dir: &str, out: &mut Vec<Problem>) {
    let hint =
        "name a directory (created if missing), or leave `dir` out for outputs/<scenario name>";
    let mut problem = |message: String| out.push(Problem::new("output.dir", message, hint));
    if dir.trim().is_empty() {
        return problem(
            "`output.dir` is empty: results would land in the current directory".into(),
        );
    }
    if dir.contains('\0') {
        return problem("`output.dir` contains a NUL character, which no path can".into());
    }
    if dir.len() > MAX_DIR_BYTES {
        return problem(format!(
            "`output.dir` is {} bytes long, more than the {MAX_DIR_BYTES} allowed",
            dir.len()
        ));
    }
    if let Some(why) = crate::experiment::output::unusable_dir(std::path::Path::new(dir)) {
        problem(format!("`output.dir` is {dir:?}: {why}"));
    }
}

/// The largest thread count accepted.
pub const MAX_THREADS: u64 = 1024;
pub use crate::engine::arena::{MAX_CELLS, MAX_SHARDS};
/// The largest replication count accepted.
pub const MAX_REPLICATIONS: u64 = 10_000_000;

/// The whole numbers a field of `[run]`, `[montecarlo]` or `[sweep]` accepts (`None` for other
/// fields, whose checks are the model's): what messages about a value out of range say.
pub fn accepted_range(field: &str) -> Option<(u64, u64)> {
    Some(match field {
        "run.seed" => (0, i64::MAX as u64),
        "run.threads" => (0, MAX_THREADS),
        "run.shards" => (1, MAX_SHARDS),
        "run.quantum" => (1, u32::MAX as u64),
        "run.max_steps" => (1, u32::MAX as u64 - 2),
        "run.checkpoint_every" => (0, u32::MAX as u64 - 2),
        "run.checkpoint_keep" => (1, 1_000_000),
        "montecarlo.replications" => (1, MAX_REPLICATIONS),
        "sweep.baseline" => (0, MAX_VARIANTS - 1),
        "sweep.sample.count" => (1, MAX_VARIANTS),
        _ => return None,
    })
}

/// The names a field of `[run]` or `[sweep]` accepts (`None` for other fields).
pub fn accepted_names(field: &str) -> Option<&'static [&'static str]> {
    Some(match field {
        "run.order" => &["\"by_id\"", "\"shuffled\""],
        "sweep.sample.method" => &["\"random\"", "\"latin_hypercube\""],
        _ => return None,
    })
}

/// Checks `value` of `field` against [`accepted_range`].
fn check_known(out: &mut Vec<Problem>, field: &str, value: u64) {
    let (lo, hi) = accepted_range(field).expect("a field with a known range");
    check_range(out, field, value, lo, hi);
}

impl RunSection {
    /// The worker thread count: as given, or one per core.
    pub fn threads(&self) -> usize {
        match self.threads {
            0 => crate::experiment::montecarlo::cores(),
            n => n as usize,
        }
    }

    /// Stage-two checks of `[run]` for an arena of `cells` cells (`None`: no arena, and
    /// shards only split the tasks).
    pub fn check(&self, cells: Option<u64>, out: &mut Vec<Problem>) {
        check_known(out, "run.seed", self.seed);
        check_known(out, "run.threads", self.threads);
        check_known(out, "run.quantum", self.quantum);
        check_known(out, "run.max_steps", self.max_steps);
        check_known(out, "run.checkpoint_every", self.checkpoint_every);
        check_known(out, "run.checkpoint_keep", self.checkpoint_keep);
        let Some(cells) = cells else {
            if let Some(shards) = self.shards {
                check_range(out, "run.shards", shards, 1, MAX_SHARDS);
            }
            return;
        };
        // Arenas too large for MAX_SHARDS shards are refused by the model's own checks.
        let fewest = Partition::min_shards(cells);
        if let Some(shards) = self.shards.filter(|&s| s >= 1 && s < fewest) {
            out.push(Problem::new(
                "run.shards",
                format!(
                    "`run.shards` is {shards}, but the arena's {cells} cells need at least \
                     {fewest} (a shard holds at most 2^32 cells)"
                ),
                format!("use {fewest} to {MAX_SHARDS}, or leave `shards` out"),
            ));
        }
        if let Some(shards) = self.shards {
            if shards > cells && shards <= MAX_SHARDS {
                out.push(Problem::new(
                    "run.shards",
                    format!("`run.shards` is {shards}, more than the arena's {cells} cells"),
                    format!("a shard owns at least one cell: use 1 to {cells}"),
                ));
            } else {
                check_range(out, "run.shards", shards, 1, MAX_SHARDS.min(cells.max(1)));
            }
        }
    }

    /// The shard count: as given; else, for a run of one replication, one per worker thread
    /// and at least 16 (shards are how one replication keeps every core busy), and for a run
    /// of several, the fewest the arena needs (usually 1: replications already run in
    /// parallel, one per thread, and every extra shard costs a little); at most one per cell.
    /// Results do not depend on it.
    pub fn shards_for(&self, cells: Option<u64>, replications: u64) -> u64 {
        let wanted = if replications > 1 {
            1
        } else {
            (self.threads() as u64).clamp(16, MAX_SHARDS)
        };
        let Some(cells) = cells else {
            return self.shards.unwrap_or(wanted);
        };
        let default = wanted.min(cells.max(1)).max(Partition::min_shards(cells));
        self.shards.unwrap_or(default)
    }
}

impl MonteCarloSection {
    /// The most replications a run may take (with a target: its cap).
    pub fn most_replications(&self) -> u64 {
        self.target.as_ref().map_or(self.replications, |t| {
            t.max_replications.max(self.replications)
        })
    }

    /// Stage-two checks of `[montecarlo]` for a model with these metrics.
    pub fn check(&self, metrics: &[&str], out: &mut Vec<Problem>) {
        check_known(out, "montecarlo.replications", self.replications);
        if !(0.5..=0.9999).contains(&self.confidence) {
            out.push(Problem::new(
                "montecarlo.confidence",
                format!(
                    "`montecarlo.confidence` is {}, not a confidence level",
                    self.confidence
                ),
                "use a level from 0.5 to 0.9999, e.g. 0.90, 0.95 (the default) or 0.99",
            ));
        }
        if let Some(t) = &self.target {
            check_metric(out, "montecarlo.target", &t.metric, metrics);
            check_positive(out, "montecarlo.target", t.ci_half_width, f64::MAX);
            check_range(out, "montecarlo.target", t.batch, 1, MAX_REPLICATIONS);
            check_range(
                out,
                "montecarlo.target",
                t.max_replications,
                self.replications.max(2),
                MAX_REPLICATIONS,
            );
        }
    }
}

/// Checks that `metric` is one of `metrics`.
pub fn check_metric(out: &mut Vec<Problem>, field: &str, metric: &str, metrics: &[&str]) {
    if !metrics.contains(&metric) {
        out.push(Problem::new(
            field,
            format!("unknown metric `{metric}`"),
            format!("the model's metrics are {}", metrics.join(", ")),
        ));
    }
}

/// The name of a scenario that gives none: its file name without `.toml`, with every character
/// but ASCII letters, digits, '-', '_' and '.' replaced by '_' and cut to 100 characters
/// (`my robots.toml` is `my_robots`); `scenario` if that leaves nothing usable.
pub fn default_name(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    match name.as_str() {
        "" | "." | ".." => "scenario".to_string(),
        _ => name,
    }
}

/// Checks a scenario name, which becomes a directory name.
pub fn check_name(name: &str, out: &mut Vec<Problem>) {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        out.push(Problem::new(
            "scenario.name",
            format!("`scenario.name` {name:?} cannot name a result directory"),
            "use letters, digits, '-', '_' and '.', at most 100 characters",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_from_the_file_name_is_made_safe() {
        let name = |p: &str| default_name(std::path::Path::new(p));
        assert_eq!(name("dir/my robots.toml"), "my_robots");
        assert_eq!(name("café au lait.toml"), "caf__au_lait");
        assert_eq!(name("plain.toml"), "plain");
        assert_eq!(name("..toml"), "scenario");
        assert_eq!(name(&format!("{}.toml", "x".repeat(300))).len(), 100);
        for n in ["my robots.toml", "ü.toml", "a/b c.d.toml", "  .toml"] {
            let mut problems = Vec::new();
            check_name(&name(n), &mut problems);
            assert!(problems.is_empty(), "{n}: {problems:?}");
        }
    }

    #[test]
    fn variant_counts_never_wrap() {
        let values = vec![toml::Value::Integer(1), toml::Value::Integer(2)];
        let grid = (0..64).map(|i| (format!("model.f{i:02}"), values.clone()));
        let mut sweep = SweepSection {
            grid: grid.collect(),
            ..SweepSection::default()
        };
        assert_eq!(sweep.grid_points(), None);
        assert_eq!(sweep.variant_count(), None);
        let mut problems = Vec::new();
        sweep.check(&[], &mut problems);
        assert_eq!(problems[0].field, "sweep.grid");
        // 16 fields of 16 values: 2^64, one past u64::MAX, within the field limit.
        let sixteen: Vec<toml::Value> = (0..16).map(toml::Value::Integer).collect();
        sweep.grid = (0..16)
            .map(|i| (format!("model.f{i:02}"), sixteen.clone()))
            .collect();
        assert_eq!(sweep.variant_count(), None);
        let mut problems = Vec::new();
        sweep.check(&[], &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("over 18446744073709551615"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_default_shard_count_is_raised_to_what_the_arena_needs() {
        let run = RunSection::default();
        assert_eq!(run.shards_for(Some(4), 1), 4);
        assert_eq!(run.shards_for(Some(100_000_000), 1), 16);
        assert_eq!(run.shards_for(None, 1), 16);
        assert_eq!(run.shards_for(Some(100_000_000), 2), 1);
        assert_eq!(
            run.shards_for(Some(10_000_000_000), 2),
            3,
            "2^32 cells a shard at most"
        );
        // 10^12 cells: a shard holds at most 2^32, so at least 233.
        assert_eq!(run.shards_for(Some(1_000_000_000_000), 1), 233);
        let mut problems = Vec::new();
        run.check(Some(1_000_000_000_000), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let explicit = RunSection {
            shards: Some(16),
            ..RunSection::default()
        };
        explicit.check(Some(1_000_000_000_000), &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "run.shards");
    }
}
