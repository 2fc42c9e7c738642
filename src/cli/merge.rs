//! `microsim merge DIR…`: put slices of a run together into the run's result directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::experiment::merge::{self, Slice};
use crate::experiment::output::{Manifest, now_rfc3339};
use crate::experiment::results::ResultDir;

use super::Failure;
use super::out::Out;
use super::run::{View, draw_plots, plots_failure, show};

/// Put slices of a run (`run --replications A..B`) together into one result directory.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
The merged directory holds the same bytes, in every deterministic file, as one run of all the
replications. The slices must come from one scenario (with the same --set overrides), one seed
and one microsim version, be finished, and hold every replication exactly once.

Examples:
  # a Slurm job array of 10 tasks, 100 replications each:
  #   microsim run study.toml --replications $((i*100))..$((i*100+100)) --out slices/$i
  microsim merge slices/* --out outputs/study
  microsim merge outputs/part-a outputs/part-b

Exit codes: 0 ok, 1 the merge failed (I/O), 2 bad input (slices that do not fit together).")]
pub(super) struct Args {
    /// The slices' result directories (in any order).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Result directory (default: [output] dir of the scenario, else outputs/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write into the result directory even if it holds an earlier result.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    view: View,
}

pub(crate) fn run(
    args: Args,
    registry: &crate::Registry,
    command_line: Vec<String>,
) -> Result<ExitCode, Failure> {
    if args.view.serve.is_some() {
        return Err(Failure::Input(
            "--serve: a merge runs nothing to watch\n  hint: serve the merged result with \
             `microsim serve DIR`"
                .into(),
        ));
    }
    let mut slices = merge::read_all(&args.dirs).map_err(Failure::Input)?;
    merge::check(&mut slices).map_err(Failure::Input)?;
    let first: &Slice = &slices[0];
    let model = &first.summary.model;
    if registry.model(model).is_none() {
        return Err(Failure::Input(format!(
            "{}: results of the model `{model}`, which this program does not have (it has {})\n  \
             hint: merge them with the program that wrote them",
            first.dir.path().display(),
            registry.listed()
        )));
    }
    // Resolved again from where the slices' scenario was (its scenario.toml says the same).
    let source = merge::resolved_from(&first.scenario)
        .unwrap_or_else(|| first.dir.file(ResultDir::SCENARIO));
    let scenario = registry
        .parse(first.scenario.as_bytes(), &source, &[])
        .map_err(|e| Failure::Input(format!("{}: {e}", source.display())))?;
    merge::verify_all(&scenario, &slices).map_err(Failure::Input)?;
    let out = Out::choose(
        args.out.as_deref(),
        scenario.output.dir.as_deref(),
        Path::new("outputs").join(&scenario.name),
    );
    let base = out.path();
    if slices.iter().any(|s| same_dir(s.dir.path(), base)) {
        return Err(Failure::Input(format!(
            "--out {}: is one of the slices\n  hint: merge into a new directory",
            base.display()
        )));
    }
    let dir = out.claim(args.force)?;
    let manifest = Manifest {
        command_line,
        started_at: now_rfc3339(),
        threads: 1,
        ..Manifest::default()
    };
    let outcome = merge::merge(&scenario, &slices, &dir, &manifest).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            return Failure::Input(format!("cannot merge: {e}"));
        }
        Failure::Run(format!(
            "{}: cannot write the merged results: {e}\n  the directory is marked incomplete \
             ({})",
            dir.display(),
            ResultDir::INCOMPLETE
        ))
    })?;
    let quiet = args.view.quiet || args.view.json;
    if !quiet {
        eprintln!(
            "merged {} slice(s), {} replications, into {}",
            slices.len(),
            outcome.replications,
            dir.display()
        );
    }
    let plots = draw_plots(&scenario, &dir, quiet);
    show(&scenario, &dir, &outcome.summary, &plots, &args.view)?;
    if !plots.failed.is_empty() {
        return Err(Failure::Run(plots_failure(&plots, &dir)));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `a` and `b` name the same existing directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
