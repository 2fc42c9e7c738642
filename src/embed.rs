//! `microsim run` as a library call, for a program that embeds microsim: the Python package
//! (`python/`) is one. [`run`] reads and checks a scenario exactly as the command line does
//! (the same file, line and field in every error), runs it with the experiment layer into a
//! result directory chosen as `run` chooses it, and draws the plots: the directory holds the
//! bytes `microsim run` writes. The caller keeps control through a [`Control`]: it stops the
//! run as Ctrl-C does (the steps under way finish, what is done is written and marked
//! partial), and it counts replications and steps for a progress display that reads the
//! counts when it likes, never slowing the run.
//!
//! ```no_run
//! use microsim::embed::{Control, Request, run};
//!
//! let request = Request {
//!     set: vec!["model.items=900000".into()],
//!     replications: Some(100),
//!     ..Request::file("scenarios/mamma_mia.toml")
//! };
//! let control = Control::new();
//! match run(&microsim::Registry::builtin(), &request, &control) {
//!     Ok(done) => println!("results in {}", done.dir.display()),
//!     Err(e) => eprintln!("{e}"),
//! }
//! ```
//!
//! Not here (yet): slices (`--replications A..B`), the live view (`--serve`), sweeps that
//! branch from a checkpoint (`[sweep] from`), and `resume`: those stay with the command line.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::Registry;
use crate::engine::stats::StepRow;
use crate::experiment::montecarlo::Progress;
use crate::experiment::output::{Manifest, Taking, claim_dir, now_rfc3339, unusable_dir};
use crate::experiment::results::ResultDir;
use crate::experiment::runner::{self, Options};
use crate::experiment::safe_fs::refusal;
use crate::experiment::scenario::{
    ErrorKind, MemorySource, Origin, Override, Scenario, ScenarioError, parse_bytes, usable_memory,
};
use crate::plot;

/// What to run: a scenario (a file, or text standing for one) and what the command line's
/// options would say. [`Request::file`] and [`Request::text`] start one with nothing else
/// set.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The scenario file; with `text`, the name the text is read under (errors name it, and
    /// the scenario's default name is its stem).
    pub file: PathBuf,
    /// The scenario's text, instead of reading `file`.
    pub text: Option<String>,
    /// `--set section.key=value` texts, in order.
    pub set: Vec<String>,
    /// `--seed N`.
    pub seed: Option<u64>,
    /// `--threads N` (0: one per core).
    pub threads: Option<u64>,
    /// `--replications N`.
    pub replications: Option<u64>,
    /// `--replication K`: only replication K, exactly as it ran among the others.
    pub replication: Option<u64>,
    /// `--out DIR` (default: `[output] dir`, else `outputs/<scenario name>`, numbered).
    pub out: Option<PathBuf>,
    /// `--force`: write into `out` even if it holds an earlier result.
    pub force: bool,
    /// `--max-memory SIZE` (default: 70% of the memory available).
    pub max_memory: Option<String>,
    /// Whether to draw the plots and `report.html`, as `run` does.
    pub plots: bool,
    /// What the manifest records as the command line.
    pub command_line: Vec<String>,
}

impl Request {
    /// A run of the scenario file `path`, with plots.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Request {
            file: path.into(),
            plots: true,
            ..Default::default()
        }
    }

    /// A run of the scenario `text`, read as if from the file `path`, with plots.
    pub fn text(text: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Request {
            text: Some(text.into()),
            ..Request::file(path)
        }
    }
}

/// Why a request was refused or a run failed. Small to pass around (one pointer); read its
/// [`ErrorDetail`] through `Deref` (`err.kind`, `err.field`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Box<ErrorDetail>);

/// What an [`Error`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorDetail {
    /// `io`, `syntax`, `schema`, `invalid` or `too_large` for a scenario that cannot run (as
    /// `microsim check` says), `usage` for another bad request (a result directory that
    /// cannot be used, a replication beyond the scenario's), `run` for a run that failed.
    pub kind: &'static str,
    /// What is wrong, with where and a hint: the command line's message.
    pub message: String,
    /// The scenario file, or what stands for it.
    pub file: Option<String>,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// 1-based column in the file, when known.
    pub column: Option<usize>,
    /// The field to blame, as `section.key`.
    pub field: Option<String>,
    /// The override to blame (`model.items=…`), when one is.
    pub set: Option<String>,
    /// What would be accepted, or how to fix it.
    pub hint: Option<String>,
}

impl std::ops::Deref for Error {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl Error {
    /// An error of `kind` (see [`ErrorDetail::kind`]) saying `message`, about no file or
    /// field.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorDetail {
            kind,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            field: None,
            set: None,
            hint: None,
        }))
    }

    /// Whether the input is at fault (exit code 2 on the command line), not the run (1).
    pub fn is_input(&self) -> bool {
        self.kind != "run"
    }

    fn usage(message: String) -> Self {
        Error::new("usage", message)
    }

    fn run(message: String) -> Self {
        Error::new("run", message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<ScenarioError> for Error {
    fn from(e: ScenarioError) -> Self {
        let kind = match e.kind {
            ErrorKind::Io => "io",
            ErrorKind::Syntax => "syntax",
            ErrorKind::Schema => "schema",
            ErrorKind::TooLarge => "too_large",
            _ => "invalid",
        };
        let (file, line, column, set) = match &e.origin {
            Origin::File { path, line, column } => {
                (Some(path.clone()), Some(*line), Some(*column), None)
            }
            Origin::FileOnly { path } => (Some(path.clone()), None, None, None),
            Origin::Override { text, file, .. } => (file.clone(), None, None, Some(text.clone())),
        };
        Error(Box::new(ErrorDetail {
            kind,
            message: e.to_string(),
            file,
            line,
            column,
            field: e.field.clone(),
            set,
            hint: e.hint.clone(),
        }))
    }
}

/// Stops a run and counts what it did; shared between the caller and the run (by reference,
/// or in an `Arc` when the run is on another thread). Counting is a relaxed atomic add per
/// step and per replication: reading the counts never waits for the run, nor the run for
/// the reader.
#[derive(Debug, Default)]
pub struct Control {
    stop: AtomicBool,
    total: AtomicU64,
    done: AtomicU64,
    steps: AtomicU64,
}

impl Control {
    /// A control that has not stopped anything.
    pub fn new() -> Self {
        Control::default()
    }

    /// Stops the run as a first Ctrl-C does: the steps under way finish, the replications
    /// done are written, and the result directory is marked partial.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether [`Control::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Replications the run will do at most (over every variant of a sweep); 0 until it
    /// starts.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Replications finished so far.
    pub fn replications_done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Steps finished so far, over all replications.
    pub fn steps_done(&self) -> u64 {
        self.steps.load(Ordering::Relaxed)
    }
}

impl Progress for Control {
    fn step(&self, _replication: u64, _row: &StepRow) {
        self.steps.fetch_add(1, Ordering::Relaxed);
    }

    fn replication_done(&self, _replication: u64) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a run wrote.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The result directory.
    pub dir: PathBuf,
    /// Whether the run was stopped ([`Control::stop`]): the results are partial, and
    /// `summary.json` says so.
    pub partial: bool,
    /// Replications run (over all variants).
    pub replications: u64,
    /// The last checkpoint written, if any.
    pub checkpoint: Option<PathBuf>,
    /// What the command line would print as notes (plots with nothing to draw).
    pub notes: Vec<String>,
}

/// A scenario read and checked, not run.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The scenario's name.
    pub name: String,
    /// The model's name.
    pub model: &'static str,
    /// The resolved scenario (what `scenario.toml` would hold).
    pub resolved_toml: String,
    /// Sweep variants (1 without a sweep).
    pub variants: u64,
    /// Replications per variant at most.
    pub replications: u64,
    /// The memory estimate (the largest variant's), in bytes.
    pub memory_estimate_bytes: u64,
    /// The memory budget it was checked against, in bytes.
    pub memory_limit_bytes: u64,
    /// Where the budget comes from.
    pub memory_limit_source: String,
}

/// Reads and checks the scenario of `request` as `microsim run` does before it runs: the
/// scenario and its overrides, the replication asked for, every variant's memory estimate.
pub fn check(registry: &Registry, request: &Request) -> Result<Checked, Error> {
    prepare(registry, request).map(|p| p.checked)
}

/// Runs `request` with the models of `registry` as `microsim run` does, into the result
/// directory it would choose; stops when `control` says so.
pub fn run(registry: &Registry, request: &Request, control: &Control) -> Result<Finished, Error> {
    let Prepared {
        scenario,
        checked,
        per_variant,
    } = prepare(registry, request)?;
    let out = choose_out(request, &scenario)?;
    let opts = Options {
        dir: out,
        only: request.replication,
        slice: None,
        manifest: Manifest {
            command_line: request.command_line.clone(),
            started_at: now_rfc3339(),
            threads: scenario.threads(),
            memory_estimate_bytes: checked.memory_estimate_bytes,
            memory_limit_bytes: checked.memory_limit_bytes,
            memory_limit_source: checked.memory_limit_source.clone(),
        },
    };
    control
        .total
        .store(checked.variants * per_variant, Ordering::Relaxed);
    let dir = opts.dir.clone();
    let outcome = runner::execute(&scenario, &opts, &control.stop, control).map_err(|e| {
        Error::run(format!(
            "{}: cannot write results: {e}\n  the directory is marked incomplete ({}); what \
             was written there is partial\n  hint: free some space (or fix what the message \
             names) and run again",
            dir.display(),
            ResultDir::INCOMPLETE
        ))
    })?;
    let mut notes = Vec::new();
    if request.plots {
        let failed = draw_plots(&scenario, &dir, &mut notes);
        if let Some(first) = failed.first() {
            return Err(Error::run(format!(
                "{}: the results are complete, but the plots could not all be written: \
                 {first}\n  hint: free some space (or fix what the message names), then draw \
                 them again with `microsim plot {}`",
                dir.display(),
                dir.display()
            )));
        }
    }
    Ok(Finished {
        dir,
        partial: outcome.partial,
        replications: outcome.replications,
        checkpoint: outcome.checkpoint,
        notes,
    })
}

struct Prepared {
    scenario: Scenario,
    checked: Checked,
    per_variant: u64,
}

fn prepare(registry: &Registry, request: &Request) -> Result<Prepared, Error> {
    let mut overrides: Vec<Override> = request
        .set
        .iter()
        .map(|s| s.parse())
        .collect::<Result<_, ScenarioError>>()?;
    for (flag, field, value) in [
        ("--seed", "run.seed", request.seed),
        ("--threads", "run.threads", request.threads),
        (
            "--replications",
            "montecarlo.replications",
            request.replications,
        ),
    ] {
        if let Some(v) = value {
            overrides.push(Override::flag(flag, field, v)?);
        }
    }
    let scenario = match &request.text {
        Some(text) => registry.parse(text.as_bytes(), &request.file, &overrides)?,
        None => registry.load(&request.file, &overrides)?,
    };
    scenario.check_checkpoints()?;
    if scenario.sweep.as_ref().is_some_and(|s| s.from.is_some()) {
        return Err(Error::usage(format!(
            "{}: a sweep that branches from a checkpoint (`sweep.from`) runs from the command \
             line only\n  hint: `microsim run {}`",
            request.file.display(),
            request.file.display()
        )));
    }
    let n = scenario.plan(None).max();
    if let Some(k) = request.replication
        && k >= n
    {
        return Err(Error::usage(format!(
            "replication {k}: the scenario has {n} replication{} (0 to {})\n  hint: to \
             re-create a replication of a longer run, also give the replications",
            if n == 1 { "" } else { "s" },
            n - 1
        )));
    }
    let (limit, source) = memory_limit(request.max_memory.as_deref())?;
    let (variants, estimate) = scenario.sized_runs(request.replication.is_some(), limit)?;
    let per_variant = if request.replication.is_some() { 1 } else { n };
    let checked = Checked {
        name: scenario.name.clone(),
        model: scenario.model_name(),
        resolved_toml: scenario.resolved_toml().to_string(),
        variants: variants.len() as u64,
        replications: per_variant,
        memory_estimate_bytes: estimate,
        memory_limit_bytes: limit,
        memory_limit_source: source,
    };
    Ok(Prepared {
        scenario,
        checked,
        per_variant,
    })
}

/// The memory budget as `run` sets it: `max_memory`, else 70% of what this process may use.
fn memory_limit(arg: Option<&str>) -> Result<(u64, String), Error> {
    match arg {
        Some(text) => {
            let bytes = parse_bytes(text).ok_or_else(|| {
                Error::usage(format!(
                    "max_memory {text}: not a size\n  hint: use a number with an optional \
                     unit, e.g. 512M, 4G, 1.5GiB"
                ))
            })?;
            if let Some((room, source @ MemorySource::Cgroup(_))) = usable_memory()
                && bytes > room
            {
                return Err(Error::usage(format!(
                    "max_memory {text}: more than this process may use ({room} bytes under \
                     {source})"
                )));
            }
            Ok((bytes, "--max-memory".into()))
        }
        None => Ok(match usable_memory() {
            Some((room, source)) => (room / 10 * 7, format!("70% of {source}")),
            None => (
                4 << 30,
                "a default of 4 GiB (this system reports no available memory)".into(),
            ),
        }),
    }
}

/// The result directory, claimed as `run` claims it: `out` (refused if it holds a result,
/// unless `force`), else `[output] dir`, else `outputs/<name>` (or the next free `-2`, …).
fn choose_out(request: &Request, scenario: &Scenario) -> Result<PathBuf, Error> {
    let (path, how, named) = match (&request.out, &scenario.output.dir) {
        (Some(out), _) => (out.clone(), Taking::Named, format!("out {}", out.display())),
        (None, Some(dir)) => (
            PathBuf::from(dir),
            Taking::Named,
            format!("`output.dir` ({dir})"),
        ),
        (None, None) => {
            let p = Path::new("outputs").join(&scenario.name);
            let named = p.display().to_string();
            (p, Taking::Numbered, named)
        }
    };
    if let Some(why) = unusable_dir(&path) {
        return Err(Error::usage(format!("{named}: {why}")));
    }
    let how = if request.force { Taking::Forced } else { how };
    claim_dir(&path, how).map(|c| c.dir).map_err(|e| {
        if let Some(r) = refusal(&e) {
            return Error::usage(format!("{named}: {r}"));
        }
        use io::ErrorKind::*;
        let msg = format!("{named}: cannot be the result directory: {e}");
        match e.kind() {
            PermissionDenied | NotADirectory | ReadOnlyFilesystem | InvalidFilename
            | AlreadyExists | InvalidInput => Error::usage(msg),
            _ => Error::run(msg),
        }
    })
}

/// Draws the plots and report.html as `run` does ([`plot::draw_run`]); returns the files
/// that could not be written, and adds each note (a plot with nothing to draw) to `notes`.
fn draw_plots(scenario: &Scenario, dir: &Path, notes: &mut Vec<String>) -> Vec<String> {
    let noted = std::cell::RefCell::new(Vec::new());
    let drawn = plot::draw_run(scenario, dir, &|what: &str| {
        noted.borrow_mut().push(what.to_string())
    });
    notes.extend(noted.into_inner());
    drawn.failed
}
