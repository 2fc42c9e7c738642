//! Running a scenario into a result directory: one set of replications, or every variant of a
//! `[sweep]` with a sweep table and paired comparisons against the baseline variant.
//!
//! A sweep's directory holds `variants/NNN/` (each a complete result directory of its own),
//! `sweep.csv` and `sweep.json` (variant parameters, metric summaries, differences to the
//! baseline), `scenario.toml` (the resolved scenario with its `[sweep]`) and `summary.json`
//! (the sweep table plus the baseline's metrics under `metrics`).
//!
//! Every result directory (a run's, a sweep's and each variant's) holds an `INCOMPLETE`
//! marker while it is written; `summary.json` is its last file, and the marker goes after it.

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::engine::scheduler::Peers;
use crate::engine::scheduler::Snapshot;
use crate::experiment::checkpoint::{self, Checkpoint, Parts};
use crate::experiment::montecarlo::{
    Checkpoints, Extras, Progress, Replication, Resumed, Sink, Told,
};
use crate::experiment::montecarlo::{Plan, RunStats, in_chunks};
use crate::experiment::output::{Manifest, RunWriter, tidy};
use crate::experiment::results::{
    ResultDir, RunSummary, SliceInfo, SweepTable, SweepVariant, TargetOutcome, fmt_num,
};
use crate::experiment::scenario::{Scenario, Variant, differing_fields};
use crate::experiment::stats::{Difference, Summary};
use crate::experiment::step_log::StepLog;
use crate::experiment::team::{Alone, Command, Reply, Team, decode, encode, share};

mod ranks;
mod saving;

use ranks::Lead;
pub use ranks::work;
use saving::{Keeping, Saving};

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The result directory (created if needed).
    pub dir: PathBuf,
    /// Run only this replication (of every variant, in a sweep).
    pub only: Option<u64>,
    /// Run only these replications (of every variant, in a sweep): a slice of the run, which
    /// `microsim merge` puts together with the others (`--replications A..B`). Not with a
    /// precision target, `only` or checkpoints.
    pub slice: Option<std::ops::Range<u64>>,
    /// About the invocation, for the manifest.
    pub manifest: Manifest,
}

impl Options {
    /// The slice of `scenario`'s run these options ask for, if any.
    pub fn slice_info(&self, scenario: &Scenario) -> Option<SliceInfo> {
        self.slice.as_ref().map(|r| SliceInfo {
            from: r.start,
            to: r.end,
            of: scenario.montecarlo.replications,
        })
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The content of `summary.json`.
    pub summary: RunSummary,
    /// Whether the run was interrupted (results are partial).
    pub partial: bool,
    /// Replications run (over all variants).
    pub replications: u64,
    /// The last checkpoint written, if any.
    pub checkpoint: Option<PathBuf>,
}

/// Runs `scenario` into `opts.dir`.
pub fn execute(
    scenario: &Scenario,
    opts: &Options,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> io::Result<Outcome> {
    execute_from(scenario, opts, stop, progress, None)
}

/// [`execute`], going on from `resume` (a checkpoint of a run of this scenario) if given: the
/// replications it holds are written as they were, the one under way goes on from its
/// snapshot, and the rest run as they would have.
pub fn execute_from(
    scenario: &Scenario,
    opts: &Options,
    stop: &AtomicBool,
    progress: &dyn Progress,
    resume: Option<Checkpoint>,
) -> io::Result<Outcome> {
    execute_on(&Alone, scenario, opts, stop, progress, resume)
}

/// [`execute_from`] as rank 0 of `team`: the replications are shared out over the ranks (see
/// [`crate::internal::team`]), whose other members run [`work`]; the result directory is the
/// same bytes as one process writes. A lone replication is shared by the ranks when its
/// model has a codec ([`crate::Simulation::new_on`]), else runs on rank 0. The other ranks are
/// not told that the run is over: the caller tells them ([`Command::Done`], or [`Command::Abort`]
/// after an error).
pub fn execute_on(
    team: &dyn Team,
    scenario: &Scenario,
    opts: &Options,
    stop: &AtomicBool,
    progress: &dyn Progress,
    resume: Option<Checkpoint>,
) -> io::Result<Outcome> {
    let run = Common {
        opts,
        stop,
        progress,
        team,
    };
    if scenario.sweep.is_some() {
        let variants = scenario
            .variants()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        sweep(&run, scenario, &variants, resume.as_ref())
    } else {
        let dir = ResultDir::new(&opts.dir);
        single(&run, scenario, &dir, None, false, resume).map(|(o, _)| o)
    }
}

/// What every part of a run shares.
struct Common<'a> {
    opts: &'a Options,
    stop: &'a AtomicBool,
    progress: &'a dyn Progress,
    team: &'a dyn Team,
}

/// One set of replications (of sweep variant `variant`) into `dir`; also returns each
/// metric's values if `keep_values` (a sweep compares them with the baseline's).
fn single(
    run: &Common<'_>,
    scenario: &Scenario,
    dir: &ResultDir,
    variant: Option<u64>,
    keep_values: bool,
    resume: Option<Checkpoint>,
) -> io::Result<(Outcome, Vec<Vec<f64>>)> {
    let (opts, stop, progress) = (run.opts, run.stop, run.progress);
    let start = Instant::now();
    let confidence = scenario.montecarlo.confidence;
    let mut plan = scenario.plan(opts.only);
    plan.spool = Some(dir.path().to_path_buf());
    let slice = opts.slice_info(scenario);
    if let Some(s) = &slice {
        plan.first = s.from;
        plan.count = s.to - s.from;
        plan.target = None;
    }
    let (mut writer, resumed) = match resume {
        Some(c) => resumed(scenario, dir, &plan, c)?,
        None => (
            RunWriter::create(dir, scenario.model_info(), confidence)?,
            Resumed::default(),
        ),
    };
    if let Some(s) = slice {
        writer.set_slice(s);
    }
    writer.keep_interrupted(plan.max() == 1);
    let saving = Saving::new(scenario, dir, opts.only)?;
    let mode = Mode::of(run, scenario, &plan, saving.as_ref());
    let lone = saving.as_ref().filter(|_| plan.max() == 1);
    let every = lone.map_or(0, |s| s.every());
    if let Mode::Together = mode {
        let order = Command::Replicate {
            variant,
            index: plan.first,
            every,
            scenario: scenario.resolved_toml().to_string(),
        };
        run.team.broadcast(&encode(&order)?)?;
    }
    let extras = Extras {
        checkpoints: lone.map(|s| s as &dyn Checkpoints),
        resumed,
        peers: matches!(mode, Mode::Together).then_some(run.team as &dyn Peers),
        every,
    };
    let stats = match mode {
        Mode::Ranks => {
            let lead = Lead {
                run,
                scenario,
                variant,
                plan: &plan,
                saving: saving.as_ref(),
                since: Default::default(),
            };
            lead.all(&mut writer, extras.resumed.done)?
        }
        Mode::Saved(saving) => {
            let done = extras.resumed.done;
            let mut keeping = Keeping {
                writer: &mut writer,
                saving,
                done,
                since: 0,
                saved: done,
                frozen: false,
            };
            let mut told = Told {
                sink: &mut keeping,
                progress,
            };
            let stats = scenario.run_replications_with(&plan, &mut told, stop, progress, extras)?;
            if stats.interrupted && !keeping.frozen && keeping.done > keeping.saved {
                keeping.save()?;
            }
            stats
        }
        Mode::Together | Mode::Here => {
            let mut told = Told {
                sink: &mut writer,
                progress,
            };
            scenario.run_replications_with(&plan, &mut told, stop, progress, extras)?
        }
    };
    let values = if keep_values {
        writer.values().to_vec()
    } else {
        Vec::new()
    };
    let target = match (&scenario.montecarlo.target, stats.target) {
        (Some(t), Some((reached, half))) if opts.only.is_none() => Some(TargetOutcome {
            metric: t.metric.clone(),
            ci_half_width: t.ci_half_width,
            reached,
            achieved_half_width: half,
            replications: stats.replications,
        }),
        _ => None,
    };
    let summary = writer.finish(
        scenario,
        &opts.manifest,
        start.elapsed(),
        stats.interrupted,
        target,
    )?;
    let outcome = Outcome {
        summary,
        partial: stats.interrupted,
        replications: stats.replications,
        checkpoint: saving.and_then(|s| s.last()),
    };
    Ok((outcome, values))
}

/// How a run's replications are run.
enum Mode<'s> {
    /// Shared out over the MPI ranks, whole replications each (this process leads).
    Ranks,
    /// One replication stepped by every rank together, each its own shards (the model can
    /// cross between processes).
    Together,
    /// Several replications in this process, the ones done saved every so often.
    Saved(&'s Saving<'s>),
    /// In this process (a lone replication may still be snapshotted whole: see [`Extras`]).
    Here,
}

impl<'s> Mode<'s> {
    fn of(
        run: &Common<'_>,
        scenario: &Scenario,
        plan: &Plan,
        saving: Option<&'s Saving<'s>>,
    ) -> Self {
        let ranks = run.team.size() > 1;
        match (plan.max() > 1, saving) {
            (true, _) if ranks => Mode::Ranks,
            (true, Some(saving)) => Mode::Saved(saving),
            (false, _) if ranks && scenario.shares_a_replication() => Mode::Together,
            _ => Mode::Here,
        }
    }
}

/// The writer and the start of a run resumed from `c`.
fn resumed(
    scenario: &Scenario,
    dir: &ResultDir,
    plan: &Plan,
    c: Checkpoint,
) -> io::Result<(RunWriter, Resumed)> {
    let info = scenario.model_info();
    let confidence = scenario.montecarlo.confidence;
    let writer = match c.writer {
        Some(state) if state.replications() == c.done => {
            RunWriter::resume(dir, info, confidence, state)?
        }
        None if c.done == 0 => RunWriter::create(dir, info, confidence)?,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the checkpoint's results do not match the replications it says are done",
            ));
        }
    };
    let watched = plan
        .target
        .as_ref()
        .map_or_else(Vec::new, |t| writer.values()[t.metric].clone());
    let resumed = Resumed {
        done: c.done,
        watched,
        running: c.running.map(|r| (r.snapshot, r.steps)),
    };
    Ok((writer, resumed))
}

/// Every variant of a sweep into its own directory, then the sweep table. With `from` (a
/// checkpoint of a lone replication: `[sweep] from`), every variant starts from its snapshot,
/// under its own parameters, as that replication.
fn sweep(
    run: &Common<'_>,
    scenario: &Scenario,
    variants: &[Variant],
    from: Option<&Checkpoint>,
) -> io::Result<Outcome> {
    let (opts, progress) = (run.opts, run.progress);
    let start = Instant::now();
    let dir = ResultDir::new(&opts.dir);
    dir.create_dirs()?;
    dir.mark_incomplete()?;
    let mut runs: Vec<(Outcome, Vec<Vec<f64>>)> = Vec::new();
    let mut branch_opts = opts.clone();
    if let Some(r) = from.and_then(|c| c.running.as_ref()) {
        branch_opts.only = Some(r.index);
    }
    for v in variants {
        let vdir = dir.variant(v.index);
        let parameters: Vec<String> = v
            .parameters
            .iter()
            .map(|(f, x)| format!("{f} = {x}"))
            .collect();
        progress.variant(v.index, &parameters.join(", "));
        let branch = Common {
            opts: &branch_opts,
            ..*run
        };
        runs.push(single(
            &branch,
            &v.scenario,
            &vdir,
            Some(v.index),
            true,
            from.cloned(),
        )?);
        if let Some((o, _)) = runs.last() {
            let means: Vec<f64> = scenario
                .metric_names()
                .iter()
                .map(|m| o.summary.metrics.get(*m).map_or(f64::NAN, |s| s.mean))
                .collect();
            progress.variant_done(v.index, &means);
        }
        if runs.last().is_some_and(|(o, _)| o.partial) {
            break;
        }
    }
    let slice = opts.slice_info(scenario);
    write_sweep(
        scenario,
        variants,
        &runs,
        &dir,
        &opts.manifest,
        slice,
        start,
    )
}

/// Completes a sweep's directory `dir` from its variants' `runs` (each variant's outcome and
/// its metrics' values), in order, all but the last complete: `sweep.csv`, `sweep.json`,
/// `scenario.toml`, then `summary.json`; the `INCOMPLETE` marker goes last.
pub(crate) fn write_sweep(
    scenario: &Scenario,
    variants: &[Variant],
    runs: &[(Outcome, Vec<Vec<f64>>)],
    dir: &ResultDir,
    manifest: &Manifest,
    slice: Option<SliceInfo>,
    start: Instant,
) -> io::Result<Outcome> {
    let section = scenario
        .sweep
        .as_ref()
        .expect("a sweep scenario has [sweep]");
    let partial = runs.iter().any(|(o, _)| o.partial) || runs.len() < variants.len();
    let table = sweep_table(scenario, variants, runs);
    let fields: Vec<String> = variants.first().map_or(Vec::new(), |v| {
        v.parameters.iter().map(|(f, _)| f.clone()).collect()
    });
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        ResultDir::SWEEP_CSV.to_string(),
        write_sweep_csv(dir, &table, &fields, scenario)?,
    );
    files.insert(
        ResultDir::SWEEP_JSON.to_string(),
        dir.write_json(ResultDir::SWEEP_JSON, &table)?,
    );
    files.insert(
        ResultDir::RESULTS.to_string(),
        tidy::write(dir, &fields, &tidy_sources(dir, &table, &fields))?,
    );
    let replications: u64 = runs.iter().map(|(o, _)| o.replications).sum();
    let compute: f64 = runs
        .iter()
        .map(|(o, _)| o.summary.manifest.replication_seconds_total)
        .sum();
    let baseline = runs.get(section.baseline as usize);
    let summary = RunSummary {
        scenario: scenario.name.clone(),
        model: scenario.model_name().to_string(),
        seed: scenario.seed(),
        replications: scenario.montecarlo.replications,
        partial,
        elapsed_seconds: start.elapsed().as_secs_f64(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        confidence: scenario.montecarlo.confidence,
        metrics: baseline.map_or_else(Default::default, |(o, _)| o.summary.metrics.clone()),
        endings: Default::default(),
        target: None,
        slice,
        sweep: Some(table),
        // The metrics shown are the baseline's, so what is expected of them is too (the
        // scenario's own parameters, before the sweep sets them, may be no variant's).
        declared: baseline.map_or_else(|| scenario.declared(), |(o, _)| o.summary.declared.clone()),
        manifest: manifest.record(
            scenario.run.shards,
            Some(variants.len() as u64),
            start.elapsed(),
            compute,
        ),
        files: Default::default(),
    };
    let mut summary = summary;
    summary.files = files;
    summary.files.insert(
        ResultDir::SCENARIO.to_string(),
        dir.write_file(ResultDir::SCENARIO, scenario.resolved_toml().as_bytes())?,
    );
    dir.write_json(ResultDir::SUMMARY, &summary)?;
    dir.mark_complete()?;
    Ok(Outcome {
        summary,
        partial,
        replications,
        checkpoint: None,
    })
}

/// Every variant run so far, summarised and compared with the baseline.
fn sweep_table(
    scenario: &Scenario,
    variants: &[Variant],
    runs: &[(Outcome, Vec<Vec<f64>>)],
) -> SweepTable {
    let section = scenario.sweep.as_ref().expect("a sweep has [sweep]");
    let metrics = scenario.metric_names();
    let compare: Vec<String> = if section.compare.is_empty() {
        metrics.iter().map(|m| m.to_string()).collect()
    } else {
        section.compare.clone()
    };
    let confidence = scenario.montecarlo.confidence;
    let baseline = section.baseline as usize;
    let rows = runs
        .iter()
        .zip(variants)
        .map(|((outcome, values), v)| {
            let vs_baseline = match runs.get(baseline) {
                Some((_, base)) if v.index as usize != baseline => compare
                    .iter()
                    .filter_map(|m| metrics.iter().position(|x| x == m).map(|i| (m, i)))
                    .map(|(m, i)| {
                        let paired = section.common_random_numbers;
                        let d = difference(&base[i], &values[i], paired, confidence);
                        (m.clone(), d)
                    })
                    .collect(),
                _ => Default::default(),
            };
            SweepVariant {
                variant: v.index,
                parameters: v
                    .parameters
                    .iter()
                    .map(|(f, x)| (f.clone(), toml_to_json(x)))
                    .collect(),
                dir: ResultDir::variant_path(v.index),
                replications: outcome.summary.replications,
                metrics: outcome.summary.metrics.clone(),
                vs_baseline,
            }
        })
        .collect();
    SweepTable {
        baseline: section.baseline,
        common_random_numbers: section.common_random_numbers,
        compare,
        confidence,
        variants: rows,
    }
}

/// `b − a` at `confidence`: paired with common random numbers, Welch otherwise.
pub fn difference(a: &[f64], b: &[f64], paired: bool, confidence: f64) -> Difference {
    if paired {
        Difference::paired(a, b, confidence)
    } else if a.is_empty() || b.is_empty() {
        Difference::paired(&[], &[], confidence)
    } else {
        Difference::welch(
            &Summary::at(a, confidence),
            &Summary::at(b, confidence),
            confidence,
        )
    }
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Where a sweep's `results.csv` takes its rows: each variant's directory, with its values of
/// the swept `fields` written as in `sweep.csv`.
fn tidy_sources(dir: &ResultDir, table: &SweepTable, fields: &[String]) -> Vec<tidy::Source> {
    table
        .variants
        .iter()
        .map(|v| tidy::Source {
            variant: Some(v.variant),
            parameters: fields
                .iter()
                .map(|f| param_cell(v.parameters.get(f)))
                .collect(),
            dir: dir.variant(v.variant),
        })
        .collect()
}

/// A swept field's value in a CSV cell: a string as itself, anything else as JSON.
fn param_cell(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `sweep.csv`: one row per variant with its parameters, each metric's mean and interval, and
/// each compared metric's difference to the baseline.
fn write_sweep_csv(
    dir: &ResultDir,
    table: &SweepTable,
    fields: &[String],
    scenario: &Scenario,
) -> io::Result<crate::experiment::results::FileRecord> {
    let metrics = scenario.metric_names();
    let mut header = vec!["variant".to_string()];
    header.extend(fields.iter().cloned());
    header.push("replications".into());
    for m in &metrics {
        header.extend([
            format!("{m}_mean"),
            format!("{m}_ci_lo"),
            format!("{m}_ci_hi"),
        ]);
    }
    for m in &table.compare {
        header.extend([
            format!("{m}_diff"),
            format!("{m}_diff_lo"),
            format!("{m}_diff_hi"),
            format!("{m}_significant"),
        ]);
    }
    let mut w = csv::Writer::from_writer(dir.create_file(ResultDir::SWEEP_CSV)?);
    w.write_record(&header)?;
    let num = |v: Option<f64>| v.map_or(String::new(), fmt_num);
    for v in &table.variants {
        let mut cells = vec![v.variant.to_string()];
        cells.extend(fields.iter().map(|f| param_cell(v.parameters.get(f))));
        cells.push(v.replications.to_string());
        for m in &metrics {
            let s = v.metrics.get(*m);
            let ci = s.and_then(|s| s.ci);
            cells.extend([
                num(s.map(|s| s.mean)),
                num(ci.map(|c| c[0])),
                num(ci.map(|c| c[1])),
            ]);
        }
        for m in &table.compare {
            let d = v.vs_baseline.get(m);
            let ci = d.and_then(|d| d.ci);
            cells.extend([
                num(d.map(|d| d.mean)),
                num(ci.map(|c| c[0])),
                num(ci.map(|c| c[1])),
                d.map_or(String::new(), |d| d.significant.to_string()),
            ]);
        }
        w.write_record(&cells)?;
    }
    w.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?
        .commit()
}
