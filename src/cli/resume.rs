//! `microsim resume CHECKPOINT`: go on with a run from one of its checkpoints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::experiment::checkpoint::{self, Checkpoint};
use crate::experiment::output::{Manifest, now_rfc3339};
use crate::experiment::runner::Options;
use crate::experiment::scenario::{NOT_IN_RESULTS, Scenario, differing_fields};

use super::Failure;
use super::out::Out;
use super::run::{Leader, View, launch, memory_limit, work};
use crate::experiment::team::Team;

/// Go on with a run from a checkpoint ([run] checkpoint_every, or Ctrl-C, writes them).
#[derive(clap::Args, Debug)]
#[command(after_help = "\
The run goes on exactly as it would have: the results are the same bytes as a run that was
never stopped, at any thread and shard count. Replications the checkpoint holds are not run
again. Only run.threads, run.shards, run.checkpoint_every and [output] may be changed.

Examples:
  microsim resume outputs/robots/checkpoints/step-000040.ckpt
  microsim resume outputs/robots/checkpoints/step-000040.ckpt --threads 16 --set run.shards=64
  microsim resume outputs/mamma_mia/checkpoints/replications-004000.ckpt --out outputs/mm-resumed

Exit codes: 0 ok, 1 the run failed, 2 bad input (a damaged or foreign checkpoint, an override
that would change the results), 130 interrupted.")]
pub(super) struct Args {
    /// The checkpoint (in a result directory's checkpoints/).
    checkpoint: PathBuf,
    /// Result directory (default: a new one beside the checkpointed run's: DIR-2, DIR-3, …).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a field that does not change the results (repeatable): run.threads,
    /// run.shards, run.checkpoint_every, output.*.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Shorthand for --set run.threads=N (0: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<u64>,
    /// Write into the result directory even if it holds an earlier result (the checkpointed
    /// run's own, too).
    #[arg(long)]
    force: bool,
    /// Refuse runs estimated to need more than this (e.g. 4G; default 70% of available).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    #[command(flatten)]
    view: View,
}

pub(crate) fn run(
    args: Args,
    registry: &crate::Registry,
    command_line: Vec<String>,
    team: &dyn Team,
) -> Result<ExitCode, Failure> {
    let path = &args.checkpoint;
    let ckpt = Checkpoint::read(path).map_err(|e| Failure::Input(e.to_string()))?;
    let model = &ckpt.header.model;
    if registry.model(model).is_none() {
        return Err(Failure::Input(format!(
            "{}: a checkpoint of the model `{model}`, which this program does not have (it has \
             {})\n  hint: resume it with the program that wrote it",
            path.display(),
            registry.listed()
        )));
    }
    let damaged = |why: String| {
        Failure::Input(format!(
            "{}: the checkpoint is damaged ({why}); resume from an earlier one",
            path.display()
        ))
    };
    let source = PathBuf::from(format!("{} (its scenario)", path.display()));
    let original = registry
        .parse(ckpt.scenario.as_bytes(), &source, &[])
        .map_err(|e| damaged(format!("its scenario does not load: {e}")))?;
    if original.model_name() != model {
        return Err(damaged("its scenario is of another model".into()));
    }
    let overrides = super::overrides(&args.set, &[("run.threads", args.threads)])?;
    let live = super::run::listen(args.view.serve.as_deref())?;
    let scenario = registry.parse(ckpt.scenario.as_bytes(), &source, &overrides)?;
    refuse_changes(&original, &scenario, &args.set)?;
    scenario.check_checkpoints()?;
    if team.rank() != 0 {
        return work(team, &scenario, Some(&ckpt));
    }
    let leader = Leader::new(team);
    let plan = scenario.plan(ckpt.only);
    if ckpt.done > plan.max()
        || ckpt
            .running
            .as_ref()
            .is_some_and(|r| r.index != plan.first + ckpt.done || plan.max() != 1)
    {
        return Err(damaged(
            "the replications it holds do not fit its scenario".into(),
        ));
    }

    let limit = memory_limit(args.max_memory.as_deref())?;
    let mut sized = scenario.clone();
    if ckpt.only.is_some() {
        sized.montecarlo.replications = 1;
    }
    let estimate = sized.estimate_memory();
    estimate.check(&scenario, limit.bytes)?;
    if let Some(r) = &ckpt.running
        && r.snapshot.raw_bytes() > limit.bytes
    {
        return Err(Failure::Input(format!(
            "{}: its snapshot holds {} bytes of state, more than the {} bytes allowed ({})\n  \
             hint: raise the limit with --max-memory SIZE",
            path.display(),
            r.snapshot.raw_bytes(),
            limit.bytes,
            limit.source
        )));
    }

    let beside = run_dir_of(path).unwrap_or_else(|| Path::new("outputs").join(&scenario.name));
    let claimed = Out::choose(args.out.as_deref(), None, beside).claimed(args.force)?;
    let dir = claimed.dir.clone();
    if !args.view.quiet && !args.view.json {
        let at = match &ckpt.running {
            Some(r) => format!("replication {} at step {}", r.index, r.snapshot.step()),
            None => format!("{} replication(s) done", ckpt.done),
        };
        eprintln!(
            "resuming {} from {at}, into {}",
            scenario.name,
            dir.display()
        );
    }
    let opts = Options {
        dir,
        only: ckpt.only,
        slice: None,
        manifest: Manifest {
            command_line,
            started_at: now_rfc3339(),
            threads: scenario.threads(),
            memory_estimate_bytes: estimate.total,
            memory_limit_bytes: limit.bytes,
            memory_limit_source: limit.source,
        },
    };
    let at = path.display().to_string();
    let done =
        launch(&scenario, &opts, 1, args.view, Some(ckpt), live, &leader).map_err(|f| match f {
            Failure::Input(m) if !m.contains(&at) => Failure::Input(format!("{at}: {m}")),
            f => f,
        });
    if matches!(done, Err(Failure::Input(_))) && claimed.created {
        // The checkpoint could not be resumed: the directory made for it goes again.
        let _ = std::fs::remove_dir_all(&claimed.dir);
    }
    done
}

/// The result directory a checkpoint was written into (`DIR/checkpoints/NAME.ckpt`).
fn run_dir_of(path: &Path) -> Option<PathBuf> {
    let parent = path.parent()?;
    (parent.file_name()? == checkpoint::DIR)
        .then(|| parent.parent().map(Path::to_path_buf))
        .flatten()
        .filter(|d| !d.as_os_str().is_empty())
}

/// Refuses overrides that change what the checkpointed run computes: its model, seed,
/// replications, order, …
fn refuse_changes(original: &Scenario, changed: &Scenario, sets: &[String]) -> Result<(), Failure> {
    let differing = differing_fields(original.resolved_toml(), changed.resolved_toml());
    let Some(first) = differing.first() else {
        return Ok(());
    };
    let culprit = sets
        .iter()
        .find(|s| {
            s.split('=')
                .next()
                .is_some_and(|k| first.starts_with(k.trim()))
        })
        .map_or_else(|| format!("`{first}`"), |s| format!("--set {s}"));
    let what = if first.starts_with("model.") || first == "model" {
        "changes the model".to_string()
    } else {
        format!("changes `{first}`")
    };
    Err(Failure::Input(format!(
        "{culprit}: {what}, so the run would not go on as it began\n  hint: a resumed run may \
         change only {}; to try other parameters from a checkpoint, branch a sweep from it",
        NOT_IN_RESULTS.join(", ")
    )))
}
