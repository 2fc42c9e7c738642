//! The variants of a `[sweep]`: a grid (cartesian product) and/or a sample of ranges, each
//! point applied to the base scenario's `[model]` and `[run]` and checked like the file.
//!
//! With `common_random_numbers = true` (the default) every variant keeps the scenario seed, so
//! replication `r` of every variant uses the same seed: differences between variants are then
//! differences of the parameters, not of luck. Otherwise variant `v` is seeded with
//! `mix(seed ^ mix(v + 1)) >> 1`.
//!
//! Points are computed from the variant's index (grid fields in name order, the last fastest;
//! then the samples), so nothing is expanded before it is needed, and a variant costs time in
//! proportion to the fields it sets: its sections are rebuilt from the base scenario's parsed
//! values, never from text. An error in a variant names the variant and points at the
//! `[sweep.grid]` value or `[sweep.sample]` range that produced it.

use std::sync::{Arc, OnceLock};

use rand::RngExt;

use super::error::{ErrorKind, ScenarioError};
use super::sections::{Doc, MAX_VARIANTS, RunSection, SampleMethod, SampleSection, SweepSection};
use super::{Checked, Scenario};
use crate::engine::rng::{mix, task_rng};
use crate::experiment::params::{ModelParams, PathPart, Problem, check_model};

/// One variant of a sweep.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Its index, from 0.
    pub index: u64,
    /// The fields it sets, and their values.
    pub parameters: Vec<(String, toml::Value)>,
    /// The scenario with those values (and no `[sweep]`).
    pub scenario: Scenario,
}

/// The stream the sweep sampler draws from: `task_rng(mix(seed ^ SAMPLE_STREAM), field index)`.
pub(super) const SAMPLE_STREAM: u64 = 0x5EE9_5A3F_1E00_0000;

impl Scenario {
    /// The variants of this scenario's `[sweep]`, or none if it has no sweep.
    pub fn variants(&self) -> Result<Vec<Variant>, ScenarioError> {
        match &self.sweep {
            Some(sweep) => self.model.variants(self, sweep),
            None => Ok(Vec::new()),
        }
    }
}

/// A value a variant sets, and where it came from in the file.
struct Setting {
    field: String,
    value: toml::Value,
    from: Vec<PathPart>,
}

/// The points of a sweep, each computed from its index.
struct Points<'a> {
    grid: Vec<(&'a String, &'a Vec<toml::Value>)>,
    /// Per sample, the value of each range (in `ranges` order).
    samples: Vec<Vec<toml::Value>>,
    ranges: Vec<&'a String>,
    /// Samples per grid point (1 without `[sweep.sample]`).
    per_point: u64,
    len: u64,
}

impl<'a> Points<'a> {
    /// The points of `sweep`; `len` variants, which the caller has counted.
    fn new(sweep: &'a SweepSection, seed: u64, len: u64) -> Self {
        let (samples, ranges, per_point) = match &sweep.sample {
            Some(sample) => (
                sample_points(sample, seed),
                sample.ranges.keys().collect(),
                sample.count,
            ),
            None => (Vec::new(), Vec::new(), 1),
        };
        Points {
            grid: sweep.grid.iter().collect(),
            samples,
            ranges,
            per_point,
            len,
        }
    }

    /// Point `i`: grid point `i / per_point` (last field fastest), sample `i % per_point`.
    fn point(&self, i: u64) -> Vec<Setting> {
        let mut out = Vec::with_capacity(self.grid.len() + self.ranges.len());
        let mut g = i / self.per_point;
        for (field, values) in self.grid.iter().rev() {
            let n = values.len() as u64;
            let at = (g % n) as usize;
            g /= n;
            out.push(Setting {
                field: field.to_string(),
                value: values[at].clone(),
                from: vec![
                    PathPart::Key("sweep".into()),
                    PathPart::Key("grid".into()),
                    PathPart::Key(field.to_string()),
                    PathPart::Index(at),
                ],
            });
        }
        out.reverse();
        if let Some(sample) = self.samples.get((i % self.per_point) as usize) {
            for (field, value) in self.ranges.iter().zip(sample) {
                out.push(Setting {
                    field: field.to_string(),
                    value: value.clone(),
                    from: vec![
                        PathPart::Key("sweep".into()),
                        PathPart::Key("sample".into()),
                        PathPart::Key("ranges".into()),
                        PathPart::Key(field.to_string()),
                    ],
                });
            }
        }
        out
    }
}

/// The variants of `base`'s `sweep`, built on its resolved document `doc`.
pub(super) fn build<P: ModelParams>(
    doc: &Arc<Doc<P>>,
    base: &Scenario,
    sweep: &SweepSection,
) -> Result<Vec<Variant>, ScenarioError> {
    // Refuse a sweep too large to expand, even one set up after its scenario was checked.
    let Some(len) = sweep.variant_count().filter(|&n| n <= MAX_VARIANTS) else {
        let err = base.error_at(
            None,
            ErrorKind::Invalid,
            "sweep",
            "the sweep has too many variants".into(),
        );
        return Err(err.hint(format!("a sweep has at most {MAX_VARIANTS} variants")));
    };
    let points = Points::new(sweep, base.seed(), len);
    let model_base = table_of(&doc.model);
    let run_base = table_of(&doc.run);
    let mut out = Vec::with_capacity(points.len as usize);
    for i in 0..points.len {
        let settings = points.point(i);
        let fail = |field: &str, kind, message: String, hint: Option<String>| {
            let mut err = base.variant_error(i, &settings, field, kind, message);
            err.hint = hint;
            err
        };
        // Each section a setting touches, rebuilt from the base's values.
        let mut model_table: Option<toml::Table> = None;
        let mut run_table: Option<toml::Table> = None;
        for s in &settings {
            let (section, rest) = s.field.split_once('.').unwrap_or((&s.field, ""));
            let table = match section {
                "model" => model_table.get_or_insert_with(|| model_base.clone()),
                "run" => run_table.get_or_insert_with(|| run_base.clone()),
                _ => {
                    let msg = format!("a sweep varies [model] and [run] only, not `{}`", s.field);
                    return Err(fail(&s.field, ErrorKind::Schema, msg, None));
                }
            };
            if let Err(at) = set(table, rest, s.value.clone()) {
                let field = format!("{section}.{at}");
                let msg = format!("`{field}` is a value, not a section");
                let hint = "name a field of [model] or [run] as \"section.key\"".to_string();
                return Err(fail(&field, ErrorKind::Schema, msg, Some(hint)));
            }
        }
        if !sweep.common_random_numbers {
            let seed = (mix(base.seed() ^ mix(i + 1)) >> 1) as i64;
            run_table
                .get_or_insert_with(|| run_base.clone())
                .insert("seed".into(), toml::Value::Integer(seed));
        }
        let model: P = match model_table {
            Some(t) => typed_section(t, "model", &model_base, &settings)
                .map_err(|(field, d)| fail(&field, ErrorKind::Schema, d.message, d.hint))?,
            None => doc.model.clone(),
        };
        let sets_shards = settings.iter().any(|s| s.field == "run.shards");
        let mut run: RunSection = match run_table {
            Some(t) => typed_section(t, "run", &run_base, &settings)
                .map_err(|(field, d)| fail(&field, ErrorKind::Schema, d.message, d.hint))?,
            None => doc.run.clone(),
        };
        let mut problems = Vec::new();
        let cells = check_model(&model, &mut problems);
        if problems.is_empty() {
            if !base.explicit_shards && !sets_shards {
                // The shard count was derived from the base's arena: derive this one's.
                run.shards = None;
                run.shards = Some(run.shards_for(cells, base.montecarlo.most_replications()));
            }
            run.check(cells, &mut problems);
        }
        if let Some(Problem {
            field,
            message,
            hint,
            ..
        }) = problems.into_iter().next()
        {
            return Err(fail(&field, ErrorKind::Invalid, message, Some(hint)));
        }
        let scenario = Scenario {
            name: base.name.clone(),
            description: base.description.clone(),
            model: Arc::new(Checked {
                doc: doc.clone(),
                model,
                run: run.clone(),
                variant: true,
                declared: OnceLock::new(),
            }),
            run,
            montecarlo: base.montecarlo.clone(),
            output: base.output.clone(),
            sweep: None,
            path: base.path.clone(),
            source: base.source.clone(),
            overrides: base.overrides.clone(),
            resolved: Arc::new(OnceLock::new()),
            explicit_shards: base.explicit_shards || sets_shards,
        };
        out.push(Variant {
            index: i,
            parameters: settings.into_iter().map(|s| (s.field, s.value)).collect(),
            scenario,
        });
    }
    Ok(out)
}

/// `value` as a TOML table (a section of a resolved document always is one).
fn table_of<T: serde::Serialize>(value: &T) -> toml::Table {
    match toml::Value::try_from(value) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

/// Sets `path` (`key` or `key.inner`) in `table` to `value`, making tables as needed; the
/// part of the path that is a value rather than a table, if one is.
fn set(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, inner) = parts.split_last().expect("split gives at least one part");
    let mut t = table;
    for (i, part) in inner.iter().enumerate() {
        let entry = t
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            _ => return Err(parts[..=i].join(".")),
        };
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// `section` of a variant, deserialised from `table`; on failure, the field to blame and what
/// to say, found by setting the variant's values one at a time on `base` (only on this path).
fn typed_section<T: serde::de::DeserializeOwned>(
    table: toml::Table,
    section: &str,
    base: &toml::Table,
    settings: &[Setting],
) -> Result<T, (String, super::diagnose::Diagnosis)> {
    let err = match table.try_into::<T>() {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut t = base.clone();
    let prefix = format!("{section}.");
    for s in settings {
        let Some(rest) = s.field.strip_prefix(&prefix) else {
            continue;
        };
        let _ = set(&mut t, rest, s.value.clone());
        if let Err(e) = t.clone().try_into::<T>() {
            return Err((
                s.field.clone(),
                super::overrides::diagnose_setting(&s.field, &s.value, e.message()),
            ));
        }
    }
    let d = super::diagnose::diagnose("", err.message().trim(), None);
    Err((section.to_string(), d))
}

impl Scenario {
    /// An error in variant `i`, which sets `settings`, about `field`: at the `[sweep]` entry
    /// that set the field (or a section above it); else at the command line's override of it,
    /// or at the field in the file; else at the variant's first entry.
    fn variant_error(
        &self,
        i: u64,
        settings: &[Setting],
        field: &str,
        kind: ErrorKind,
        message: String,
    ) -> ScenarioError {
        let related = |s: &&Setting| {
            s.field == field
                || field.starts_with(&format!("{}.", s.field))
                || s.field.starts_with(&format!("{field}."))
        };
        let values: Vec<String> = settings
            .iter()
            .map(|s| format!("{}={}", s.field, s.value))
            .collect();
        let message = if values.is_empty() {
            format!("variant {i}: {message}")
        } else {
            format!("variant {i} ({}): {message}", values.join(", "))
        };
        let from = settings
            .iter()
            .find(related)
            .or_else(|| {
                let elsewhere = super::override_of(&self.overrides, field).is_some()
                    || super::key_span(&self.source, &field.split('.').collect::<Vec<_>>())
                        .is_some();
                (!elsewhere).then(|| settings.first()).flatten()
            })
            .map(|s| s.from.as_slice());
        self.error_at(from, kind, field, message)
    }

    /// An error about `field` at `steps` in the file (if given and found there), else at the
    /// command line's override of it, else at the field (or its section) in the file.
    pub(super) fn error_at(
        &self,
        steps: Option<&[PathPart]>,
        kind: ErrorKind,
        field: &str,
        message: String,
    ) -> ScenarioError {
        let src = super::Source {
            path: &self.path,
            text: &self.source,
        };
        let at = steps.and_then(|s| super::span_of(&self.source, s));
        // Steps not in the file were set on the command line (`--set sweep.grid=...`).
        let keys = steps.map(|steps| {
            let keys: Vec<&str> = steps
                .iter()
                .filter_map(|s| match s {
                    PathPart::Key(k) => Some(k.as_str()),
                    PathPart::Index(_) => None,
                })
                .collect();
            keys.join(".")
        });
        let blamed = keys
            .and_then(|k| super::override_of(&self.overrides, &k))
            .or_else(|| super::override_of(&self.overrides, field));
        let err = match (at, blamed) {
            (Some(span), _) => src.error(kind, Some(span), message),
            (None, Some(o)) => o.error(kind, message).in_file(&self.path),
            (None, None) => src.error(kind, super::locate_field(&self.source, field), message),
        };
        err.field(field)
    }
}

fn number(v: &toml::Value) -> f64 {
    v.as_float()
        .or(v.as_integer().map(|i| i as f64))
        .unwrap_or(0.0)
}

/// `count` points from the ranges, by uniform draws or by Latin hypercube.
fn sample_points(sample: &SampleSection, seed: u64) -> Vec<Vec<toml::Value>> {
    let n = sample.count as usize;
    let mut points = vec![Vec::with_capacity(sample.ranges.len()); n];
    for (d, range) in sample.ranges.values().enumerate() {
        let mut rng = task_rng(mix(seed ^ SAMPLE_STREAM), d as u64);
        let strata: Vec<usize> = match sample.method {
            SampleMethod::Random => Vec::new(),
            SampleMethod::LatinHypercube => {
                let mut perm: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    perm.swap(i, rng.random_range(0..=i));
                }
                perm
            }
        };
        let (lo, hi) = match range.as_slice() {
            [lo, hi] => (lo, hi),
            _ => (&toml::Value::Integer(0), &toml::Value::Integer(0)),
        };
        let (l, h) = (number(lo), number(hi));
        let integer = lo.is_integer() && hi.is_integer();
        for (i, point) in points.iter_mut().enumerate() {
            let u: f64 = rng.random();
            let x = match sample.method {
                SampleMethod::Random => u,
                SampleMethod::LatinHypercube => (strata[i] as f64 + u) / n as f64,
            };
            let value = if integer {
                // Whole numbers: each of the (h − l + 1) values equally likely.
                toml::Value::Integer(((l + x * (h - l + 1.0)).floor()).min(h) as i64)
            } else {
                toml::Value::Float(l + x * (h - l))
            };
            point.push(value);
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;
    use std::path::Path;

    fn scenario(sweep: &str) -> Result<Scenario, ScenarioError> {
        let text = format!(
            "[scenario]\nmodel = \"gift_lottery\"\n[model]\nitems = 100\nbins = 1000\n[montecarlo]\nreplications = 3\n{sweep}"
        );
        Registry::builtin().parse(text.as_bytes(), Path::new("s.toml"), &[])
    }

    #[test]
    fn a_grid_is_the_cartesian_product_in_field_order() {
        let s = scenario(
            "[sweep.grid]\n\"model.items\" = [10, 20]\n\"model.bins\" = [100, 200, 300]\n",
        )
        .unwrap();
        let v = s.variants().unwrap();
        assert_eq!(v.len(), 6);
        // Fields in name order: model.bins, then model.items (fastest).
        let first: Vec<String> = v[0]
            .parameters
            .iter()
            .map(|(f, x)| format!("{f}={x}"))
            .collect();
        assert_eq!(first, ["model.bins=100", "model.items=10"]);
        assert_eq!(v[1].parameters[1].1, toml::Value::Integer(20));
        assert!(
            v.iter()
                .all(|x| x.scenario.seed() == s.seed() && x.scenario.sweep.is_none())
        );
    }

    #[test]
    fn a_latin_hypercube_uses_every_stratum_once() {
        let s = scenario("[sweep.sample]\nmethod = \"latin_hypercube\"\ncount = 20\nranges = { \"model.zipf_s\" = [1.0, 3.0] }\n").unwrap();
        let mut strata: Vec<usize> = s
            .variants()
            .unwrap()
            .iter()
            .map(|v| ((v.parameters[0].1.as_float().unwrap() - 1.0) / 2.0 * 20.0) as usize)
            .collect();
        strata.sort();
        assert_eq!(strata, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_bad_variant_is_blamed_on_the_sweep() {
        let e = scenario("[sweep.grid]\n\"model.keep_fraction\" = [0.5, 1.5]\n").unwrap_err();
        let msg = e.to_string();
        // At the value in [sweep.grid] (line 9, column 31), naming the variant and the field.
        assert!(
            msg.starts_with("s.toml:9:31: variant 1 (model.keep_fraction=1.5): "),
            "{msg}"
        );
        assert!(msg.contains("field: model.keep_fraction"), "{msg}");
    }

    #[test]
    fn a_grid_of_a_hundred_thousand_keys_is_refused_at_once() {
        // Expanding it took quadratic time (5k keys 0.3 s, 20k 4.9 s, 100k over a minute).
        let keys: String = (0..100_000)
            .map(|i| format!("\"model.k{i}\" = [1]\n"))
            .collect();
        let start = std::time::Instant::now();
        let e = scenario(&format!("[sweep.grid]\n{keys}")).unwrap_err();
        let took = start.elapsed();
        assert!(e.to_string().contains("100000 fields"), "{e}");
        assert!(took.as_secs() < 10, "refusing took {took:?}");
    }

    #[test]
    fn the_largest_sweep_is_built_in_linear_time() {
        // 100,000 variants (the most allowed): each is built from the parsed base scenario.
        let items: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
        let bins: Vec<String> = (1000..1100).map(|i| i.to_string()).collect();
        let sweep = format!(
            "[sweep.grid]\n\"model.items\" = [{}]\n\"model.bins\" = [{}]\n",
            items.join(", "),
            bins.join(", ")
        );
        let start = std::time::Instant::now();
        let s = scenario(&sweep).unwrap();
        let v = s.variants().unwrap();
        let took = start.elapsed();
        assert_eq!(v.len(), 100_000);
        assert_eq!(v[99_999].parameters[1].1, toml::Value::Integer(1000));
        assert!(took.as_secs() < 60, "building took {took:?}");
    }

    #[test]
    fn a_variant_derives_its_own_shard_count_unless_one_is_given() {
        // Several replications: each variant gets the default of one shard per replication
        // (one replication would get 16, or one per cell for a variant of 4 cells: see
        // `RunSection::shards_for`), derived for its own arena and written down.
        let s = scenario("[sweep.grid]\n\"model.bins\" = [1000, 4]\n").unwrap();
        let v = s.variants().unwrap();
        assert_eq!(v[0].scenario.run.shards, Some(1));
        assert_eq!(v[1].scenario.run.shards, Some(1));
        assert!(v[1].scenario.resolved_toml().contains("shards = 1"));
        // A varied shard count is taken as given.
        let s = scenario("[sweep.grid]\n\"run.shards\" = [2, 4]\n").unwrap();
        let v = s.variants().unwrap();
        assert_eq!(v[1].scenario.run.shards, Some(4));
        // Given in the file, it is kept, and a variant it does not fit is refused there.
        let e =
            scenario("[run]\nshards = 16\n[sweep.grid]\n\"model.bins\" = [1000, 4]\n").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("s.toml:9:1: variant 1 (model.bins=4): "),
            "{msg}"
        );
    }

    #[test]
    fn a_sampled_variant_is_blamed_on_its_range() {
        let e = scenario(
            "[sweep.sample]\ncount = 50\nranges = { \"model.keep_fraction\" = [0.5, 1.5] }\n",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("s.toml:10:12: variant "), "{msg}");
        assert!(msg.contains("field: model.keep_fraction"), "{msg}");
    }

    #[test]
    fn without_common_random_numbers_variants_get_their_own_seeds() {
        let s = scenario(
            "[sweep]\ncommon_random_numbers = false\n[sweep.grid]\n\"model.items\" = [10, 20]\n",
        )
        .unwrap();
        let v = s.variants().unwrap();
        assert_ne!(v[0].scenario.seed(), v[1].scenario.seed());
    }
}
