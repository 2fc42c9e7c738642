//! `microsim compare RUN_A RUN_B`: metrics side by side, with differences and whether each is
//! significant. When both runs used the same replication seeds (common random numbers) the
//! difference is paired, replication by replication; otherwise the means are compared as
//! independent samples (Welch).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use crate::experiment::results::{ReplicationsTable, ResultDir, RunSummary};
use crate::experiment::runner::difference;
use crate::experiment::stats::Difference;

use super::Failure;
use super::show::level;
use super::table::Table;
use crate::experiment::numbers::estimate;

/// Compare the metrics of two result directories.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  microsim compare outputs/mamma_mia outputs/mamma_mia-2
  microsim compare outputs/a outputs/b --json
  microsim compare outputs/a outputs/b --confidence 0.99

Differences are B − A with a confidence interval (at A's confidence level unless --confidence
says otherwise); * marks those whose interval excludes 0. Paired (replication by replication)
when both runs share replication seeds, Welch otherwise.")]
pub(super) struct Args {
    /// The first result directory (A).
    a: PathBuf,
    /// The second result directory (B).
    b: PathBuf,
    /// The confidence level of the intervals (default: run A's, usually 0.95).
    #[arg(long, value_name = "LEVEL")]
    confidence: Option<f64>,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

/// A run's summary and replications.
struct Saved {
    summary: RunSummary,
    table: ReplicationsTable,
}

fn read(path: &std::path::Path) -> Result<Saved, Failure> {
    let bad = |what: String| {
        Failure::Input(format!(
            "{}: {what}\n  hint: give a directory written by `microsim run`",
            path.display()
        ))
    };
    let dir = ResultDir::new(path);
    if let Some(why) = dir.is_incomplete() {
        return Err(super::plot::unfinished(path, &why));
    }
    let summary = dir.read_summary().map_err(|e| bad(e.to_string()))?;
    if summary.sweep.is_some() {
        return Err(bad(
            "this is a sweep; compare two of its variants/NNN directories".into(),
        ));
    }
    let table = dir.read_replications().map_err(|e| bad(e.to_string()))?;
    Ok(Saved { summary, table })
}

/// One metric compared.
#[derive(Serialize)]
struct Row {
    metric: String,
    a: f64,
    b: f64,
    difference: Difference,
}

pub(super) fn run(args: Args) -> Result<ExitCode, Failure> {
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    if a.summary.model != b.summary.model {
        return Err(Failure::Input(format!(
            "the runs are of different models: {} and {}",
            a.summary.model, b.summary.model
        )));
    }
    let confidence = args.confidence.unwrap_or(a.summary.confidence);
    if !(0.5..=0.9999).contains(&confidence) {
        return Err(Failure::Input(format!(
            "--confidence {confidence}: not a confidence level\n  hint: use a level from 0.5 to 0.9999, e.g. 0.95"
        )));
    }
    let seeds = |r: &Saved| r.table.rows.iter().map(|x| x.seed).collect::<Vec<_>>();
    let paired = seeds(&a) == seeds(&b);
    let mut rows = Vec::new();
    for name in &a.table.metrics {
        let (Some(xa), Some(xb)) = (a.table.column(name), b.table.column(name)) else {
            continue;
        };
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
        rows.push(Row {
            metric: name.clone(),
            a: mean(&xa),
            b: mean(&xb),
            difference: difference(&xa, &xb, paired, confidence),
        });
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "a": args.a, "b": args.b, "paired": paired, "confidence": confidence, "metrics": rows,
        });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON serialises")
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let method = if paired {
        "paired: both runs used the same replication seeds"
    } else {
        "Welch: independent replications"
    };
    let ci_label = format!("{} CI", level(confidence));
    writeln!(
        out,
        "A: {}\nB: {}\n{} · differences B − A, {ci_label} ({method})",
        args.a.display(),
        args.b.display(),
        a.summary.model
    )?;
    let mut t = Table::new(["metric", "A mean", "B mean", "B − A", ci_label.as_str(), ""]).left(5);
    for r in &rows {
        let d = &r.difference;
        let de = estimate(d.mean, d.ci);
        // Each mean to the precision of the difference's interval.
        let at = |x: f64| {
            estimate(
                x,
                d.ci.map(|[lo, hi]| [x - (d.mean - lo), x + (hi - d.mean)]),
            )
            .mean
        };
        t.row([
            r.metric.clone(),
            at(r.a),
            at(r.b),
            de.mean.clone(),
            de.interval_or("—"),
            if d.significant {
                "*".into()
            } else {
                String::new()
            },
        ]);
    }
    t.write(&mut out)?;
    writeln!(out, "(* significant: the interval excludes 0)")?;
    Ok(ExitCode::SUCCESS)
}
