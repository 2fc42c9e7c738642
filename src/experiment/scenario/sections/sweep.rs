//! Stage-two checks of `[sweep]`: its grid and sampled ranges, counted before anything is
//! expanded.

use super::*;

/// The most variants a sweep may have.
pub const MAX_VARIANTS: u64 = 100_000;
/// The most fields a sweep may vary (grid and sampled ranges together), checked before
/// anything is expanded.
pub const MAX_SWEEP_FIELDS: usize = 16;

fn as_number(v: &toml::Value) -> Option<f64> {
    v.as_float().or(v.as_integer().map(|i| i as f64))
}

/// Where a sweep's variants may differ from the base scenario: the model's parameters and
/// the run settings, but for the seed.
const SWEEPABLE: &str =
    "sweep the model's parameters (\"model.KEY\") or the run settings (\"run.KEY\")";

/// Checks that `key`, swept in `container` (`sweep.grid` or `sweep.sample.ranges`), names a
/// field a variant may change.
fn check_swept_field(out: &mut Vec<Problem>, container: &str, key: &str, at: Vec<PathPart>) {
    let parts: Vec<&str> = key.split('.').collect();
    let word = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let (message, hint) = if parts.len() < 2 || !parts.iter().all(word) {
        (
            format!("`{key}` in [{container}] is not a field; name it as \"section.key\""),
            SWEEPABLE.to_string(),
        )
    } else {
        match (parts[0], parts[1]) {
            ("model", _) => return,
            ("run", "seed") => (
                format!(
                    "a sweep cannot vary `{key}`: with common random numbers every variant \
                     runs the same seeds, without them each variant gets its own"
                ),
                "set common_random_numbers = false in [sweep] for independent seeds".into(),
            ),
            ("run", _) => return,
            ("montecarlo", _) => (
                format!(
                    "a sweep cannot vary `{key}`: variants are compared replication by \
                     replication (replication r with replication r), so every variant runs \
                     the same replications at the same confidence level"
                ),
                "set [montecarlo] once for all variants; to compare replication counts, run \
                 the scenario twice and `microsim compare` the two results"
                    .into(),
            ),
            ("scenario", _) => (
                format!(
                    "a sweep cannot vary `{key}`: its variants are of one scenario and one model"
                ),
                SWEEPABLE.to_string(),
            ),
            ("output", _) => (
                format!(
                    "a sweep cannot vary `{key}`: variants write into variants/NNN/ of the \
                     sweep's result directory"
                ),
                SWEEPABLE.to_string(),
            ),
            ("sweep", _) => (
                format!("a sweep cannot vary its own `{key}`"),
                SWEEPABLE.to_string(),
            ),
            (section, _) => (
                format!("`{key}` in [{container}]: unknown section [{section}]"),
                SWEEPABLE.to_string(),
            ),
        }
    };
    out.push(Problem::new(container, message, hint).at(at));
}

/// Checks one `[sweep.sample] ranges` entry: exactly [low, high], finite numbers, low ≤ high.
fn check_sample_range(out: &mut Vec<Problem>, field: &str, range: &[toml::Value]) {
    let at = |i: Option<usize>| {
        let mut steps = vec![key("sweep"), key("sample"), key("ranges"), key(field)];
        steps.extend(i.map(PathPart::Index));
        steps
    };
    let hint = "give [low, high]: two numbers with low ≤ high, e.g. \"model.zipf_s\" = [0.5, 2.0]";
    let mut problem = |message: String, i: Option<usize>| {
        out.push(Problem::new("sweep.sample.ranges", message, hint).at(at(i)));
    };
    if range.len() != 2 {
        let n = range.len();
        let what = if n == 1 { "value" } else { "values" };
        return problem(
            format!("the range of `{field}` has {n} {what}; a range is [low, high]"),
            (n > 2).then_some(2),
        );
    }
    for (i, v) in range.iter().enumerate() {
        match as_number(v) {
            None => {
                return problem(
                    format!("the range of `{field}` is not numeric: {v}"),
                    Some(i),
                );
            }
            Some(x) if !x.is_finite() => {
                return problem(
                    format!("the range of `{field}` has an end that is not finite: {v}"),
                    Some(i),
                );
            }
            Some(_) => {}
        }
    }
    let (lo, hi) = (as_number(&range[0]), as_number(&range[1]));
    if lo > hi {
        problem(
            format!(
                "the range of `{field}` is [{}, {}]: its low end is above its high end",
                range[0], range[1]
            ),
            None,
        );
    }
}

impl SweepSection {
    /// The grid's points (the product of its value counts), or `None` past `u64::MAX`.
    pub fn grid_points(&self) -> Option<u64> {
        self.grid
            .values()
            .try_fold(1u64, |n, v| n.checked_mul(v.len() as u64))
    }

    /// The variants: grid points × samples, or `None` past `u64::MAX`.
    pub fn variant_count(&self) -> Option<u64> {
        self.grid_points()?
            .checked_mul(self.sample.as_ref().map_or(1, |s| s.count))
    }

    /// Stage-two checks of `[sweep]`, all before anything is expanded: the metrics compared,
    /// which fields are swept and how many, the ranges, the number of variants (in checked
    /// arithmetic) and the baseline. The variants themselves are checked when built.
    pub fn check(&self, metrics: &[&str], out: &mut Vec<Problem>) {
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.compare.iter().enumerate() {
            // One problem at most, however long the list.
            if !metrics.contains(&m.as_str()) {
                check_metric(out, "sweep.compare", m, metrics);
                break;
            }
            if !seen.insert(m) {
                out.push(
                    Problem::new(
                        "sweep.compare",
                        format!("`sweep.compare` lists `{m}` twice"),
                        "list each metric once",
                    )
                    .at(vec![key("sweep"), key("compare"), PathPart::Index(i)]),
                );
                break;
            }
        }
        let ranges = self.sample.as_ref().map_or(0, |s| s.ranges.len());
        let fields = self.grid.len() + ranges;
        if fields > MAX_SWEEP_FIELDS {
            let (field, at) = if self.grid.len() > MAX_SWEEP_FIELDS {
                ("sweep.grid", vec![key("sweep"), key("grid")])
            } else {
                (
                    "sweep.sample.ranges",
                    vec![key("sweep"), key("sample"), key("ranges")],
                )
            };
            out.push(
                Problem::new(
                    field,
                    format!(
                        "the sweep varies {fields} fields, more than the {MAX_SWEEP_FIELDS} allowed"
                    ),
                    "vary a few fields at a time: every variant is a run of its own",
                )
                .at(at),
            );
            return;
        }
        if self.from.is_some() {
            let ranges = self.sample.iter().flat_map(|s| s.ranges.keys());
            if let Some(f) = self
                .grid
                .keys()
                .chain(ranges)
                .find(|f| !f.starts_with("model."))
            {
                out.push(
                    Problem::new(
                        "sweep.from",
                        format!(
                            "a sweep from a checkpoint varies `{f}`; it may vary only `model.*` \
                             fields (the run's settings are the checkpoint's)"
                        ),
                        "vary model parameters only, or drop `from`",
                    )
                    .at(vec![key("sweep"), key("from")]),
                );
            }
        }
        for (field, values) in &self.grid {
            let at = vec![key("sweep"), key("grid"), key(field)];
            check_swept_field(out, "sweep.grid", field, at.clone());
            if values.is_empty() {
                out.push(
                    Problem::new(
                        "sweep.grid",
                        format!("`{field}` has no values"),
                        "give at least one value",
                    )
                    .at(at),
                );
            } else if values.len() as u64 > MAX_VARIANTS {
                out.push(
                    Problem::new(
                        "sweep.grid",
                        format!(
                            "`{field}` has {} values, more than the {MAX_VARIANTS} variants a sweep may have",
                            values.len()
                        ),
                        "give fewer values",
                    )
                    .at(at),
                );
            }
        }
        if let Some(sample) = &self.sample {
            check_known(out, "sweep.sample.count", sample.count);
            for (field, range) in &sample.ranges {
                let at = vec![key("sweep"), key("sample"), key("ranges"), key(field)];
                check_swept_field(out, "sweep.sample.ranges", field, at.clone());
                if self.grid.contains_key(field) {
                    out.push(
                        Problem::new(
                            "sweep.sample.ranges",
                            format!("`{field}` is both in [sweep.grid] and in the sampled ranges"),
                            "sweep each field one way: a grid of values or a sampled range",
                        )
                        .at(at),
                    );
                }
                check_sample_range(out, field, range);
            }
        }
        if !out.is_empty() {
            return;
        }
        let limit = format!("a sweep has at most {MAX_VARIANTS} variants: give fewer values");
        let Some(points) = self.grid_points().filter(|&n| n <= MAX_VARIANTS) else {
            let n = self
                .grid_points()
                .map_or(format!("over {}", u64::MAX), |n| n.to_string());
            out.push(
                Problem::new(
                    "sweep.grid",
                    format!(
                        "the grid's {} fields make {n} variants, more than the {MAX_VARIANTS} allowed",
                        self.grid.len()
                    ),
                    limit,
                )
                .at(vec![key("sweep"), key("grid")]),
            );
            return;
        };
        let variants = match self.variant_count() {
            Some(n) if n <= MAX_VARIANTS => n,
            n => {
                let count = self.sample.as_ref().map_or(1, |s| s.count);
                let n = n.map_or(format!("over {}", u64::MAX), |n| n.to_string());
                out.push(Problem::new(
                    "sweep.sample.count",
                    format!(
                        "{points} grid points × {count} samples make {n} variants, more than the {MAX_VARIANTS} allowed"
                    ),
                    limit,
                ));
                return;
            }
        };
        if self.baseline >= variants.max(1) {
            out.push(Problem::new(
                "sweep.baseline",
                format!("there is no variant {}", self.baseline),
                format!("variants are numbered 0 to {}", variants.max(1) - 1),
            ));
        }
    }
}
