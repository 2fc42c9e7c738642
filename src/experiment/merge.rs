//! Slices of a run put together (`microsim merge`). A run cut into slices with
//! `microsim run … --replications A..B` (one per job of a Slurm array, GNU parallel,
//! Kubernetes jobs, or one per MPI rank) gives, merged, the result directory of one run: the
//! same bytes in every deterministic file. The slices must be of one scenario (the same
//! resolved `scenario.toml`, so the same model, parameters and seed, but for the fields that
//! do not change results: threads, shards, output), written by one version of microsim,
//! finished, and together hold every replication exactly once.
//!
//! A run's result directory that is not a slice counts as the slice `0..N` of its `N`
//! replications.

mod verify;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::experiment::output::{Manifest, RunWriter};
use crate::experiment::results::{ResultDir, RunSummary, SliceInfo};
use crate::experiment::runner::{self, Outcome};
use crate::experiment::scenario::{NOT_IN_RESULTS, Scenario, differing_fields};

/// A slice read from its result directory.
#[derive(Clone, Debug)]
pub struct Slice {
    /// Where it is.
    pub dir: ResultDir,
    /// Its `summary.json`.
    pub summary: RunSummary,
    /// Its resolved scenario (`scenario.toml`).
    pub scenario: String,
    /// The replications it holds.
    pub range: SliceInfo,
}

impl Slice {
    /// Reads the slice (or whole run) at `path`; refuses a directory that is not a finished
    /// result directory, an interrupted run, and a run with a precision target (how many
    /// replications it ran depended on all of them: it is no slice).
    pub fn read(path: &Path) -> Result<Slice, String> {
        let dir = ResultDir::new(path);
        if !path.is_dir() {
            return Err(format!("{}: no such directory", path.display()));
        }
        let summary = dir.read_summary().map_err(|e| e.to_string())?;
        if summary.partial {
            return Err(format!(
                "{}: its run was interrupted (summary.json says partial)\n  hint: run that \
                 slice again",
                path.display()
            ));
        }
        if summary.target.is_some() {
            return Err(format!(
                "{}: a run with a precision target, which cannot be a slice (how many \
                 replications it ran depended on all of them)",
                path.display()
            ));
        }
        let at = dir.file(ResultDir::SCENARIO);
        let limit = crate::experiment::registry::MAX_SCENARIO_BYTES;
        let scenario = crate::experiment::safe_fs::read_bounded(&at, limit)
            .map_err(|e| format!("{}: {e}", at.display()))
            .and_then(|b| {
                String::from_utf8(b).map_err(|_| format!("{}: not UTF-8", at.display()))
            })?;
        let range = summary.slice.unwrap_or(SliceInfo {
            from: 0,
            to: summary.replications,
            of: summary.replications,
        });
        Ok(Slice {
            dir,
            summary,
            scenario,
            range,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Orders `slices` by their first replication and refuses a set that is not one run cut
/// into pieces: slices of other scenarios (model, parameters, seed), of other microsim
/// versions, that overlap, or that leave replications out.
pub fn check(slices: &mut [Slice]) -> Result<(), String> {
    let Some(first) = slices.first() else {
        return Err("no result directory given".into());
    };
    let ours = env!("CARGO_PKG_VERSION");
    if first.summary.version != ours {
        return Err(format!(
            "{}: written by microsim {}; this is microsim {ours}\n  hint: merge with the \
             version that wrote the slices (results may differ between versions)",
            first.path().display(),
            first.summary.version
        ));
    }
    for s in &slices[1..] {
        let (a, b) = (first.path().display(), s.path().display());
        if s.summary.version != first.summary.version {
            return Err(format!(
                "{b}: written by microsim {}, {a} by {}\n  hint: merge slices of one version",
                s.summary.version, first.summary.version
            ));
        }
        if s.summary.model != first.summary.model {
            return Err(format!(
                "{b}: a run of the model `{}`, {a} of `{}`",
                s.summary.model, first.summary.model
            ));
        }
        if s.summary.seed != first.summary.seed {
            return Err(format!(
                "{b}: run with seed {}, {a} with seed {}\n  hint: slices of one run share its seed",
                s.summary.seed, first.summary.seed
            ));
        }
        let differing = differing_fields(&first.scenario, &s.scenario);
        if !differing.is_empty() {
            let fields: Vec<String> = differing.iter().take(3).map(|f| format!("`{f}`")).collect();
            return Err(format!(
                "{b}: ran another scenario than {a} (its scenario.toml differs in {}{})\n  hint: \
                 every slice must be run from the same scenario with the same --set overrides \
                 (only {} may differ)",
                fields.join(", "),
                if differing.len() > 3 { ", …" } else { "" },
                NOT_IN_RESULTS.join(", ")
            ));
        }
    }
    slices.sort_by_key(|s| (s.range.from, s.range.to));
    let of = slices[0].range.of;
    let mut next = 0;
    let mut previous: Option<&Slice> = None;
    for s in slices.iter() {
        let r = s.range;
        if r.of != of || r.from >= r.to || r.to > of {
            return Err(format!(
                "{}: its summary.json holds a slice {r} of {} replications, which does not fit \
                 the run's {of}",
                s.path().display(),
                r.of
            ));
        }
        if let Some(p) = previous.filter(|_| r.from < next) {
            return Err(format!(
                "{} ({}) and {} ({r}) overlap: replications {}..{} are in both\n  hint: give each \
                 replication once",
                p.path().display(),
                p.range,
                s.path().display(),
                r.from,
                next.min(r.to)
            ));
        }
        if r.from > next {
            return Err(missing(next, r.from, &slices[0]));
        }
        next = r.to;
        previous = Some(s);
    }
    if next < of {
        return Err(missing(next, of, &slices[0]));
    }
    Ok(())
}

fn missing(from: u64, to: u64, any: &Slice) -> String {
    let scenario = resolved_from(&any.scenario)
        .map_or_else(|| "SCENARIO".to_string(), |p| p.display().to_string());
    format!(
        "replications {from}..{to} (of 0..{}) are in none of the directories given\n  hint: run \
         them with `microsim run {scenario} --replications {from}..{to}` (and the same --set \
         overrides) and merge again",
        any.range.of
    )
}

/// Checks every slice before anything is merged: its files are those its run wrote (lengths
/// and SHA-256 that its `summary.json` records), and its replications, seeds, step rows and
/// details are those of its slice (see `merge/verify.rs`). Errors name the slice and file.
pub fn verify_all(scenario: &Scenario, slices: &[Slice]) -> Result<(), String> {
    for s in slices {
        if scenario.sweep.is_none() {
            verify::run(&s.dir, &s.summary, s.range)?;
            continue;
        }
        verify::files(&s.dir, &s.summary)?;
        for v in scenario.variants().map_err(|e| e.to_string())? {
            let vdir = s.dir.variant(v.index);
            let summary = vdir.read_summary().map_err(|e| e.to_string())?;
            verify::run(&vdir, &summary, s.range)?;
        }
    }
    Ok(())
}

/// The first line of a resolved scenario, which names the file it was resolved from.
const RESOLVED_FROM: &str = "# Resolved by microsim ";

/// The scenario file a resolved scenario was resolved from, as its first line names it.
pub fn resolved_from(text: &str) -> Option<PathBuf> {
    let first = text.lines().next()?.strip_prefix(RESOLVED_FROM)?;
    let (_, rest) = first.split_once(" from ")?;
    let path = rest.strip_suffix(": defaults filled in, overrides applied.")?;
    Some(PathBuf::from(path))
}

/// Merges `slices` (checked by [`check`], in order) of a run of `scenario` into `out`
/// (claimed by the caller): a run's files, or for a sweep every variant's and then the sweep
/// table, as one run of the whole would have written them.
pub fn merge(
    scenario: &Scenario,
    slices: &[Slice],
    out: &Path,
    manifest: &Manifest,
) -> io::Result<Outcome> {
    let start = Instant::now();
    let part = |s: &Slice, dir: ResultDir| -> io::Result<Part> {
        let summary = dir
            .read_summary()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(Part {
            dir,
            seconds: summary.manifest.replication_seconds_total,
            range: s.range,
        })
    };
    if scenario.sweep.is_none() {
        let parts = slices
            .iter()
            .map(|s| part(s, s.dir.clone()))
            .collect::<io::Result<Vec<_>>>()?;
        let root = ResultDir::new(out);
        return merge_run(scenario, &parts, &root, manifest, start).map(|(o, _)| o);
    }
    let variants = scenario
        .variants()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let root = ResultDir::new(out);
    root.create_dirs()?;
    root.mark_incomplete()?;
    let mut runs = Vec::with_capacity(variants.len());
    for v in &variants {
        let parts = slices
            .iter()
            .map(|s| part(s, s.dir.variant(v.index)))
            .collect::<io::Result<Vec<_>>>()?;
        let vdir = root.variant(v.index);
        runs.push(merge_run(&v.scenario, &parts, &vdir, manifest, start)?);
    }
    runner::write_sweep(scenario, &variants, &runs, &root, manifest, None, start)
}

/// One result directory's share of a merge.
struct Part {
    dir: ResultDir,
    seconds: f64,
    range: SliceInfo,
}

/// The parts of one run (or one sweep variant) into `out`.
fn merge_run(
    scenario: &Scenario,
    parts: &[Part],
    out: &ResultDir,
    manifest: &Manifest,
    start: Instant,
) -> io::Result<(Outcome, Vec<Vec<f64>>)> {
    let info = scenario.model_info();
    let mut writer = RunWriter::create(out, info, scenario.montecarlo.confidence)?;
    for p in parts {
        let n = writer.append_dir(&p.dir, p.seconds)?;
        if n != p.range.to - p.range.from {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: holds {n} replications, but its summary.json says it is the slice {}",
                    p.dir.path().display(),
                    p.range
                ),
            ));
        }
    }
    let values = writer.values().to_vec();
    let summary = writer.finish(scenario, manifest, start.elapsed(), false, None)?;
    let outcome = Outcome {
        replications: summary.replications,
        summary,
        partial: false,
        checkpoint: None,
    };
    Ok((outcome, values))
}

/// The directories given, read as slices (the first unreadable one refused).
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Slice>, String> {
    paths.iter().map(|p| Slice::read(p)).collect()
}
