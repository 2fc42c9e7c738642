//! `microsim compare RUN_A RUN_B`: metrics side by side, with differences and whether each is
//! significant. When both runs used the same replication seeds (common random numbers) the
//! difference is paired, replication by replication; otherwise the means are compared as
//! independent samples (Welch).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::experiment::runner::difference;
use serde_json::Value;

use super::Failure;
use super::run::short;

/// Compare the metrics of two result directories.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  microsim compare outputs/mamma_mia outputs/mamma_mia-2
  microsim compare outputs/a outputs/b --json

Differences are B − A with a 95% confidence interval; * marks those whose interval excludes 0.
Paired (replication by replication) when both runs share replication seeds, Welch otherwise.")]
pub struct Args {
    /// The first result directory (A).
    a: PathBuf,
    /// The second result directory (B).
    b: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

/// A run's replications.csv: seeds and each metric's column.
struct Run {
    model: String,
    seeds: Vec<String>,
    columns: Vec<(String, Vec<f64>)>,
}

fn read(dir: &Path) -> Result<Run, Failure> {
    let bad = |what: String| {
        Failure::Input(format!(
            "{}: {what}\n  hint: give a directory written by `microsim run`",
            dir.display()
        ))
    };
    let summary = std::fs::read_to_string(dir.join("summary.json"))
        .map_err(|e| bad(format!("cannot read summary.json: {e}")))?;
    let summary: Value = serde_json::from_str(&summary)
        .map_err(|e| bad(format!("summary.json is not JSON: {e}")))?;
    if summary.get("sweep").is_some() {
        return Err(bad(
            "this is a sweep; compare two of its variants/NNN directories".into(),
        ));
    }
    let table =
        crate::experiment::output::read_replications(&dir.join("replications.csv")).map_err(bad)?;
    if let Some((row, metric)) = table.first_non_number() {
        return Err(bad(format!(
            "replications.csv line {}: `{metric}` is not a number",
            row + 2
        )));
    }
    let run = Run {
        model: summary["model"].as_str().unwrap_or("?").to_string(),
        seeds: table.seeds,
        columns: table.columns,
    };
    Ok(run)
}

pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    if a.model != b.model {
        return Err(Failure::Input(format!(
            "the runs are of different models: {} and {}",
            a.model, b.model
        )));
    }
    let paired = a.seeds == b.seeds;
    let mut rows = Vec::new();
    for (name, xa) in &a.columns {
        let Some((_, xb)) = b.columns.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
        let d = difference(xa, xb, paired);
        rows.push(
            serde_json::json!({ "metric": name, "a": mean(xa), "b": mean(xb), "difference": d }),
        );
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc =
            serde_json::json!({ "a": args.a, "b": args.b, "paired": paired, "metrics": rows });
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
    writeln!(
        out,
        "A: {}\nB: {}\n{} · differences B − A, 95% CI ({method})",
        args.a.display(),
        args.b.display(),
        a.model
    )?;
    writeln!(
        out,
        "{:<18} {:>14} {:>14} {:>14} {:>32}",
        "metric", "A mean", "B mean", "B − A", "95% CI"
    )?;
    let num = |v: &Value| v.as_f64().map_or("-".to_string(), short);
    for r in &rows {
        let d = &r["difference"];
        let ci = d["ci95"].as_array().map_or("—".into(), |c| {
            format!("[{}, {}]", num(&c[0]), num(&c[1]))
        });
        let sig = if d["significant"].as_bool() == Some(true) {
            " *"
        } else {
            ""
        };
        writeln!(
            out,
            "{:<18} {:>14} {:>14} {:>14} {:>32}{sig}",
            r["metric"].as_str().unwrap_or(""),
            num(&r["a"]),
            num(&r["b"]),
            num(&d["mean"]),
            ci
        )?;
    }
    writeln!(out, "(* significant: the interval excludes 0)")?;
    Ok(ExitCode::SUCCESS)
}
