//! `microsim list`: the registered models, their parameters, metrics and counters.

use std::io::Write;
use std::process::ExitCode;

use crate::Quantity;

use super::Failure;

/// List the models with their parameters, defaults, metrics and counters.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  microsim list\n  microsim list --json")]
pub(super) struct Args {
    /// Print the list as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: Args, registry: &crate::Registry) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = registry
            .models()
            .map(|m| {
                serde_json::json!({
                    "name": m.name,
                    "summary": m.summary,
                    "metrics": m.metrics,
                    "counters": m.counters,
                    "parameters": m.starter,
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&list).expect("JSON serialises")
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for m in registry.models() {
        writeln!(out, "{}\n  {}", m.name, m.summary)?;
        writeln!(out, "  metrics: {}", described(m.metrics))?;
        if !m.counters.is_empty() {
            writeln!(out, "  counters (per step): {}", described(m.counters))?;
        }
        writeln!(out, "  parameters (defaults):")?;
        for line in m.starter.lines().filter(|l| !l.starts_with('[')) {
            writeln!(out, "    {line}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Write a starter scenario with `{} new MODEL [FILE]`.",
        super::bin()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `name (unit), …`
fn described(list: &[Quantity]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|q| match q.unit {
            "" => q.name.to_string(),
            unit => format!("{} ({unit})", q.name),
        })
        .collect();
    items.join(", ")
}
