//! The variants of a `[sweep]`: a grid (cartesian product) and/or a sample of ranges, each
//! point turned into overrides of the base scenario and validated like a `--set`.
//!
//! With `common_random_numbers = true` (the default) every variant keeps the scenario seed, so
//! replication `r` of every variant uses the same seed: differences between variants are then
//! differences of the parameters, not of luck. Otherwise variant `v` is seeded with
//! `mix(seed ^ mix(v + 1)) >> 1`.

use rand::RngExt;

use super::sections::{SampleMethod, SweepSection};
use super::{Override, Scenario, ScenarioError};
use crate::engine::rng::{mix, task_rng};

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
pub const SAMPLE_STREAM: u64 = 0x5EE9_5A3F_1E00_0000;

impl Scenario {
    /// The variants of this scenario's `[sweep]`, or none if it has no sweep.
    pub fn variants(&self) -> Result<Vec<Variant>, ScenarioError> {
        let Some(sweep) = &self.sweep else {
            return Ok(Vec::new());
        };
        let mut base: toml::Table =
            toml::from_str(&self.resolved).expect("the resolved scenario is TOML");
        base.remove("sweep");
        let text = toml::to_string(&base).expect("a TOML table serialises");
        points(sweep, self.seed())
            .into_iter()
            .enumerate()
            .map(|(i, parameters)| {
                let mut overrides: Vec<Override> = parameters
                    .iter()
                    .map(|(f, v)| Override::new(f, v.clone()).from_sweep())
                    .collect();
                if !sweep.common_random_numbers {
                    let seed = (mix(self.seed() ^ mix(i as u64 + 1)) >> 1) as i64;
                    overrides.push(Override::new("run.seed", seed).from_sweep());
                }
                let src = super::Source {
                    path: &self.path,
                    text: &text,
                };
                let scenario = self.model.reload(&src, &overrides)?;
                Ok(Variant {
                    index: i as u64,
                    parameters,
                    scenario,
                })
            })
            .collect()
    }
}

/// Every point of the sweep: grid points (last field fastest) × sample points.
fn points(sweep: &SweepSection, seed: u64) -> Vec<Vec<(String, toml::Value)>> {
    let mut grid: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
    for (field, values) in &sweep.grid {
        grid = grid
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((field.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    let Some(sample) = &sweep.sample else {
        return grid;
    };
    let samples = sample_points(sample, seed);
    grid.into_iter()
        .flat_map(|g| {
            samples.iter().map(move |s| {
                let mut q = g.clone();
                q.extend(s.iter().cloned());
                q
            })
        })
        .collect()
}

fn number(v: &toml::Value) -> f64 {
    v.as_float()
        .or(v.as_integer().map(|i| i as f64))
        .unwrap_or(0.0)
}

/// `count` points from the ranges, by uniform draws or by Latin hypercube.
fn sample_points(
    sample: &super::sections::SampleSection,
    seed: u64,
) -> Vec<Vec<(String, toml::Value)>> {
    let n = sample.count as usize;
    let mut points = vec![Vec::new(); n];
    for (d, (field, [lo, hi])) in sample.ranges.iter().enumerate() {
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
            point.push((field.clone(), value));
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
        assert!(msg.starts_with("[sweep] model.keep_fraction=1.5"), "{msg}");
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
