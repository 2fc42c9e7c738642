//! The serde mirror of a scenario file (stage one) and the checks that turn it into typed
//! values (stage two).

use serde::{Deserialize, Serialize};

use crate::engine::arena::Partition;
use crate::engine::scheduler::Order;
pub use crate::experiment::params::{Problem, check_positive, check_probability, check_range};

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
    /// Names the result directory; defaults to the file name without `.toml`.
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
    /// Shards the arena is split into; results do not depend on it. Default: min(16, cells).
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
}

impl Default for SweepSection {
    fn default() -> Self {
        SweepSection {
            grid: Default::default(),
            sample: None,
            baseline: 0,
            compare: Vec::new(),
            common_random_numbers: true,
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
    /// give whole-number values.
    pub ranges: std::collections::BTreeMap<String, [toml::Value; 2]>,
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

impl OutputSection {
    /// Stage-two checks of `[output]`.
    pub fn check(&self, out: &mut Vec<Problem>) {
        if let Some(plots) = &self.plots
            && let Err(e) = crate::experiment::scenario::PlotKind::parse_list(plots)
        {
            out.push(Problem::new(
                "output.plots",
                e.to_string(),
                "e.g. plots = [\"distribution\", \"histograms\"] or [\"all\"]",
            ));
        }
    }
}

/// The largest thread count accepted.
pub const MAX_THREADS: u64 = 1024;
pub use crate::engine::arena::{MAX_CELLS, MAX_SHARDS};
/// The largest replication count accepted.
pub const MAX_REPLICATIONS: u64 = 10_000_000;

impl RunSection {
    /// Stage-two checks of `[run]` for an arena of `cells` cells (`None`: no arena, and
    /// shards only split the tasks).
    pub fn check(&self, cells: Option<u64>, out: &mut Vec<Problem>) {
        check_range(out, "run.threads", self.threads, 0, MAX_THREADS);
        check_range(out, "run.quantum", self.quantum, 1, u32::MAX as u64);
        check_range(out, "run.max_steps", self.max_steps, 1, u32::MAX as u64 - 2);
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

    /// The shard count: as given, or min(16, cells), raised to the fewest the arena needs
    /// (16 without an arena).
    pub fn shards_for(&self, cells: Option<u64>) -> u64 {
        let Some(cells) = cells else {
            return self.shards.unwrap_or(16);
        };
        let default = 16.min(cells.max(1)).max(Partition::min_shards(cells));
        self.shards.unwrap_or(default)
    }
}

impl MonteCarloSection {
    /// Stage-two checks of `[montecarlo]` for a model with these metrics.
    pub fn check(&self, metrics: &[&str], out: &mut Vec<Problem>) {
        check_range(
            out,
            "montecarlo.replications",
            self.replications,
            1,
            MAX_REPLICATIONS,
        );
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

/// The most variants a sweep may have.
pub const MAX_VARIANTS: u64 = 100_000;

fn as_number(v: &toml::Value) -> Option<f64> {
    v.as_float().or(v.as_integer().map(|i| i as f64))
}

impl SweepSection {
    /// Stage-two checks of `[sweep]` (the variants themselves are checked like `--set`s).
    pub fn check(&self, metrics: &[&str], out: &mut Vec<Problem>) {
        for m in &self.compare {
            check_metric(out, "sweep.compare", m, metrics);
        }
        for (field, values) in &self.grid {
            if values.is_empty() {
                out.push(Problem::new(
                    "sweep.grid",
                    format!("`{field}` has no values"),
                    "give at least one value",
                ));
            }
        }
        if let Some(sample) = &self.sample {
            check_range(out, "sweep.sample", sample.count, 1, MAX_VARIANTS);
            for (field, [lo, hi]) in &sample.ranges {
                if !matches!((as_number(lo), as_number(hi)), (Some(l), Some(h)) if l <= h) {
                    out.push(Problem::new(
                        "sweep.sample",
                        format!("`{field}` needs a numeric range [low, high] with low ≤ high"),
                        "e.g. \"model.zipf_s\" = [0.5, 2.0]",
                    ));
                }
            }
        }
        let variants = self.grid.values().map(|v| v.len() as u64).product::<u64>()
            * self.sample.as_ref().map_or(1, |s| s.count);
        if variants > MAX_VARIANTS {
            out.push(Problem::new(
                "sweep",
                format!("the sweep has {variants} variants"),
                format!("at most {MAX_VARIANTS}"),
            ));
        } else if self.baseline >= variants.max(1) {
            out.push(Problem::new(
                "sweep.baseline",
                format!("there is no variant {}", self.baseline),
                format!("variants are numbered 0 to {}", variants.max(1) - 1),
            ));
        }
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
    fn the_default_shard_count_is_raised_to_what_the_arena_needs() {
        let run = RunSection::default();
        assert_eq!(run.shards_for(Some(4)), 4);
        assert_eq!(run.shards_for(Some(100_000_000)), 16);
        assert_eq!(run.shards_for(None), 16);
        // 10^12 cells: a shard holds at most 2^32, so at least 233.
        assert_eq!(run.shards_for(Some(1_000_000_000_000)), 233);
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
