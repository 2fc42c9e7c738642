//! `microsim check FILE`: validate only; print the resolved scenario and the memory estimate.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::Failure;

/// Validate a scenario without running it: print the resolved scenario and memory estimate.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  microsim check scenarios/musical_chairs.toml\n  microsim check robots.toml --set model.robots=10000000"
)]
pub(super) struct Args {
    /// The scenario file.
    file: PathBuf,
    /// Override a field: --set section.key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Refuse scenarios estimated to need more than this (e.g. 4G; default 70% of available).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
}

pub(crate) fn run(args: Args, registry: &crate::Registry) -> Result<ExitCode, Failure> {
    let overrides = super::overrides(&args.set, &[])?;
    let scenario = registry.load(&args.file, &overrides)?;
    scenario.check_checkpoints()?;
    // What `run` would check: each variant of a sweep, else the scenario; the largest shown.
    let runs = match scenario.sweep {
        Some(_) => scenario
            .variants()?
            .into_iter()
            .map(|v| v.scenario.estimate_memory())
            .collect(),
        None => vec![scenario.estimate_memory()],
    };
    let estimate = runs
        .iter()
        .copied()
        .max_by_key(|e| e.total)
        .unwrap_or_else(|| scenario.estimate_memory());
    let limit = super::run::memory_limit(args.max_memory.as_deref())?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", scenario.resolved_toml())?;
    writeln!(
        out,
        "\n# memory estimate: {estimate} (limit {}: {})",
        crate::experiment::scenario::Bytes(limit.bytes),
        limit.source
    )?;
    estimate.check(&scenario, limit.bytes)?;
    writeln!(out, "# ok: {} is valid", args.file.display())?;
    Ok(ExitCode::SUCCESS)
}
