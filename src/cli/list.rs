//! `microsim list`: the built-in models, their parameters and metrics.

use std::io::Write;
use std::process::ExitCode;

use microsim::catalog::MODELS;

use super::Failure;

/// List the built-in models with their parameters, defaults and metrics.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  microsim list\n  microsim list --json")]
pub struct Args {
    /// Print the list as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = MODELS
            .iter()
            .map(|m| serde_json::json!({ "name": m.name, "summary": m.summary, "metrics": m.metrics, "parameters": m.starter }))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&list).expect("JSON serialises")
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for m in MODELS {
        writeln!(
            out,
            "{}\n  {}\n  metrics: {}\n  parameters (defaults):",
            m.name,
            m.summary,
            m.metrics.join(", ")
        )?;
        for line in m.starter.lines().filter(|l| !l.starts_with('[')) {
            writeln!(out, "    {line}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Write a starter scenario with `microsim new MODEL [FILE]`."
    )?;
    Ok(ExitCode::SUCCESS)
}
