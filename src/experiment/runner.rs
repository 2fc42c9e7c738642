//! Running a scenario into a result directory: one set of replications, or every variant of a
//! `[sweep]` with a sweep table and paired comparisons against the baseline variant.
//!
//! A sweep's directory holds `variants/NNN/` (each a complete result directory of its own),
//! `sweep.csv` and `sweep.json` (variant parameters, metric summaries, differences to the
//! baseline), `scenario.toml` (the resolved scenario with its `[sweep]`) and `summary.json`
//! (the sweep table plus the baseline's metrics under `metrics`).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde_json::{Value, json};

use crate::experiment::montecarlo::{self, Plan, Progress};
use crate::experiment::output::{Manifest, RunWriter, fmt_num, pretty, write_atomic};
use crate::experiment::scenario::{Scenario, Variant};
use crate::experiment::stats::{Difference, Summary};

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The result directory (created if needed).
    pub dir: PathBuf,
    /// Run only this replication (of every variant, in a sweep).
    pub only: Option<u64>,
    /// About the invocation, for the manifest.
    pub manifest: Manifest,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The content of `summary.json`.
    pub summary: Value,
    /// Whether the run was interrupted (results are partial).
    pub partial: bool,
    /// Replications run (over all variants).
    pub replications: u64,
}

/// Runs `scenario` into `opts.dir`.
pub fn execute(
    scenario: &Scenario,
    opts: &Options,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> io::Result<Outcome> {
    if scenario.sweep.is_some() {
        let variants = scenario
            .variants()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        sweep(scenario, &variants, opts, stop, progress)
    } else {
        single(scenario, &opts.dir, opts, stop, progress).map(|(o, _)| o)
    }
}

/// One set of replications into `dir`; also returns each metric's values.
fn single(
    scenario: &Scenario,
    dir: &Path,
    opts: &Options,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> io::Result<(Outcome, Vec<Vec<f64>>)> {
    let start = Instant::now();
    let info = scenario.model_info();
    let counters: Vec<&str> = info.counters.iter().map(|q| q.name).collect();
    let mut writer = RunWriter::create(dir, scenario.metric_names(), &counters)?;
    let plan = Plan::of(scenario, opts.only);
    let stats = montecarlo::run(scenario, &plan, &mut writer, stop, progress)?;
    let values = writer.values().to_vec();
    let extras = match (&scenario.montecarlo.target, stats.target) {
        (Some(t), Some((reached, half))) if opts.only.is_none() => json!({ "target": {
            "metric": t.metric,
            "ci_half_width": t.ci_half_width,
            "reached": reached,
            "achieved_half_width": half,
            "replications": stats.replications,
        }}),
        _ => json!({}),
    };
    let summary = writer.finish(
        scenario,
        &opts.manifest,
        start.elapsed(),
        stats.interrupted,
        extras,
    )?;
    let outcome = Outcome {
        summary,
        partial: stats.interrupted,
        replications: stats.replications,
    };
    Ok((outcome, values))
}

fn sweep(
    scenario: &Scenario,
    variants: &[Variant],
    opts: &Options,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> io::Result<Outcome> {
    let start = Instant::now();
    let sweep = scenario
        .sweep
        .as_ref()
        .expect("a sweep scenario has [sweep]");
    let metrics = scenario.metric_names();
    let metrics = metrics.as_slice();
    let compare: Vec<&str> = if sweep.compare.is_empty() {
        metrics.to_vec()
    } else {
        sweep.compare.iter().map(String::as_str).collect()
    };
    let mut runs: Vec<(Outcome, Vec<Vec<f64>>)> = Vec::new();
    for v in variants {
        let dir = opts.dir.join("variants").join(format!("{:03}", v.index));
        runs.push(single(&v.scenario, &dir, opts, stop, progress)?);
        if runs.last().is_some_and(|(o, _)| o.partial) {
            break;
        }
    }
    let partial = runs.iter().any(|(o, _)| o.partial) || runs.len() < variants.len();
    let baseline = sweep.baseline as usize;
    let rows: Vec<Value> = runs
        .iter()
        .zip(variants)
        .map(|((outcome, values), v)| {
            let vs_baseline: serde_json::Map<String, Value> = match runs.get(baseline) {
                Some((_, base)) if v.index as usize != baseline => compare
                    .iter()
                    .filter_map(|m| metrics.iter().position(|x| x == m).map(|i| (m, i)))
                    .map(|(m, i)| {
                        let d = difference(&base[i], &values[i], sweep.common_random_numbers);
                        (m.to_string(), serde_json::to_value(d).expect("a difference serialises"))
                    })
                    .collect(),
                _ => Default::default(),
            };
            json!({
                "variant": v.index,
                "parameters": v.parameters.iter().map(|(f, x)| (f.clone(), toml_to_json(x))).collect::<serde_json::Map<_, _>>(),
                "dir": format!("variants/{:03}", v.index),
                "replications": outcome.summary["replications"],
                "metrics": outcome.summary["metrics"],
                "vs_baseline": vs_baseline,
            })
        })
        .collect();
    let fields: Vec<String> = variants.first().map_or(Vec::new(), |v| {
        v.parameters.iter().map(|(f, _)| f.clone()).collect()
    });
    write_atomic(
        &opts.dir.join("sweep.csv"),
        sweep_csv(&rows, &fields, metrics, &compare).as_bytes(),
    )?;
    let table = json!({
        "baseline": baseline,
        "common_random_numbers": sweep.common_random_numbers,
        "compare": compare,
        "variants": rows,
    });
    write_atomic(&opts.dir.join("sweep.json"), pretty(&table).as_bytes())?;
    let replications: u64 = runs.iter().map(|(o, _)| o.replications).sum();
    let summary = json!({
        "scenario": scenario.name,
        "model": scenario.model_name(),
        "seed": scenario.seed(),
        "replications": scenario.montecarlo.replications,
        "partial": partial,
        "elapsed_seconds": start.elapsed().as_secs_f64(),
        "version": env!("CARGO_PKG_VERSION"),
        "metrics": runs.get(baseline).map_or(Value::Null, |(o, _)| o.summary["metrics"].clone()),
        "sweep": table,
        "manifest": {
            "version": env!("CARGO_PKG_VERSION"),
            "git_commit": option_env!("MICROSIM_GIT_COMMIT").unwrap_or("unknown"),
            "command_line": opts.manifest.command_line,
            "started_at": opts.manifest.started_at,
            "threads": opts.manifest.threads,
            "host_threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "variants": variants.len(),
            "memory_estimate_bytes": opts.manifest.memory_estimate_bytes,
            "peak_rss_bytes": crate::experiment::output::peak_rss_bytes(),
        },
    });
    write_atomic(
        &opts.dir.join("scenario.toml"),
        scenario.resolved_toml().as_bytes(),
    )?;
    write_atomic(&opts.dir.join("summary.json"), pretty(&summary).as_bytes())?;
    Ok(Outcome {
        summary,
        partial,
        replications,
    })
}

/// `b − a`: paired with common random numbers, Welch otherwise.
pub fn difference(a: &[f64], b: &[f64], paired: bool) -> Difference {
    if paired {
        Difference::paired(a, b)
    } else if a.is_empty() || b.is_empty() {
        Difference::paired(&[], &[])
    } else {
        Difference::welch(&Summary::of(a), &Summary::of(b))
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn sweep_csv(rows: &[Value], fields: &[String], metrics: &[&str], compare: &[&str]) -> String {
    let mut header = vec!["variant".to_string()];
    header.extend(fields.iter().cloned());
    header.push("replications".into());
    for m in metrics {
        header.extend([
            format!("{m}_mean"),
            format!("{m}_ci_lo"),
            format!("{m}_ci_hi"),
        ]);
    }
    for m in compare {
        header.extend([
            format!("{m}_diff"),
            format!("{m}_diff_lo"),
            format!("{m}_diff_hi"),
            format!("{m}_significant"),
        ]);
    }
    let num = |v: &Value| v.as_f64().map_or(String::new(), fmt_num);
    let mut out = header.join(",") + "\n";
    for r in rows {
        let mut cells = vec![r["variant"].to_string()];
        cells.extend(fields.iter().map(|f| match &r["parameters"][f] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
        cells.push(r["replications"].to_string());
        for m in metrics {
            let s = &r["metrics"][*m];
            cells.extend([num(&s["mean"]), num(&s["ci95"][0]), num(&s["ci95"][1])]);
        }
        for m in compare {
            let d = &r["vs_baseline"][*m];
            let sig = d["significant"]
                .as_bool()
                .map_or(String::new(), |b| b.to_string());
            cells.extend([num(&d["mean"]), num(&d["ci95"][0]), num(&d["ci95"][1]), sig]);
        }
        out += &(cells.join(",") + "\n");
    }
    out
}
