//! Scenario files: a TOML document in two stages, a serde mirror that refuses unknown fields,
//! then checks into typed values. Every error names the file, line, column and field.
//!
//! ```toml
//! [scenario]
//! name = "robots"            # result directory name (default: the file name)
//! model = "musical_chairs"   # `microsim list` shows the built-in models
//!
//! [model]                    # the model's parameters (defaults: `microsim new MODEL`)
//! robots = 100000
//!
//! [run]
//! seed = 42                  # every random number derives from it
//! shards = 16                # results do not depend on it
//! threads = 0                # 0: one per core; results do not depend on it
//!
//! [montecarlo]
//! replications = 10
//! ```
//!
//! Overrides (`--set model.robots=1000`) are applied to the document before stage one, and an
//! error in one is reported against the `--set` that caused it. The resolved scenario (every
//! default filled, overrides applied, seed and shards recorded) reproduces the run exactly.
//!
//! Without `[scenario] name`, the name (and so the result directory) is the file name without
//! `.toml`, made safe: characters other than ASCII letters, digits, '-', '_' and '.' become
//! '_' (`my robots.toml` runs as `my_robots`). A name given explicitly must already be safe.
//!
//! What a file can make the program do is bounded before it is done: a sweep varies at most
//! [`sections::MAX_SWEEP_FIELDS`] fields into at most [`sections::MAX_VARIANTS`] variants
//! (counted in checked arithmetic, before anything is expanded), and each variant is built
//! from the parsed base scenario in time proportional to the fields it sets, never by
//! re-reading text. A variant that fails a check is reported at the `[sweep.grid]` value or
//! `[sweep.sample]` range that produced it.

mod diagnose;
mod error;
mod locate;
mod memory;
mod overrides;
mod plots;
pub mod sections;
mod variants;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use std::fmt;
use std::io;
use std::sync::atomic::AtomicBool;

use crate::engine::scheduler::{Settings, estimate_bytes};
use crate::experiment::montecarlo::{self, Job, Plan, Progress, RunStats, Sink, Target};
use crate::experiment::params::{ModelInfo, ModelParams, PathPart, info};
use crate::experiment::results::Declared;

pub use error::{Detail, ErrorKind, Origin, ScenarioError, line_column};
pub(crate) use locate::key_span;
pub use memory::{
    Bytes, MemoryEstimate, MemorySource, available_memory, parse_bytes, usable_memory,
};
pub use overrides::Override;
pub use plots::PlotKind;
use sections::{Doc, MonteCarloSection, OutputSection, Problem, RunSection, SweepSection};
pub use variants::Variant;

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The scenario's name (names the result directory).
    pub name: String,
    /// Free text from the file.
    pub description: String,
    /// The model and its checked parameters.
    pub(crate) model: Arc<dyn Configured>,
    /// `[run]`, with the shard count filled in.
    pub run: RunSection,
    /// `[montecarlo]`
    pub montecarlo: MonteCarloSection,
    /// `[output]`
    pub output: OutputSection,
    /// `[sweep]`, if this scenario has variants.
    pub sweep: Option<SweepSection>,
    /// The file it came from.
    pub path: PathBuf,
    /// The file's text (shared by a sweep's variants), for positions in messages.
    source: Arc<str>,
    /// The command line's overrides, to blame in messages.
    overrides: Arc<[Override]>,
    /// The resolved scenario as TOML, written when first asked for.
    resolved: Arc<OnceLock<String>>,
    /// Whether the shard count was given (in the file or an override) rather than derived
    /// from the arena, which a sweep variant then derives again from its own.
    explicit_shards: bool,
}

impl Scenario {
    /// What the scenario's model declares (name, metrics, counters).
    pub fn model_info(&self) -> ModelInfo {
        self.model.info()
    }

    /// The model's name.
    pub fn model_name(&self) -> &'static str {
        self.model.info().name
    }

    /// What the model declares (names, units, supports) with what it expects of its results
    /// for these parameters ([`crate::Model::expected`]).
    pub fn declared(&self) -> Declared {
        self.model.declared()
    }

    /// The names of the model's metrics, in output order.
    pub fn metric_names(&self) -> Vec<&'static str> {
        self.model.info().metrics.iter().map(|q| q.name).collect()
    }

    /// The seed of the scenario (replication seeds derive from it).
    pub fn seed(&self) -> u64 {
        self.run.seed
    }

    /// The worker thread count: as given, or one per core.
    pub fn threads(&self) -> usize {
        self.run.threads()
    }

    /// The replications to run: the scenario's (with its target), or replication `k` alone.
    pub fn plan(&self, only: Option<u64>) -> Plan {
        let mc = &self.montecarlo;
        let target = mc
            .target
            .as_ref()
            .filter(|_| only.is_none())
            .map(|t| Target {
                metric: self
                    .metric_names()
                    .iter()
                    .position(|m| *m == t.metric)
                    .unwrap_or(0),
                half_width: t.ci_half_width,
                batch: t.batch,
                cap: t.max_replications,
            });
        Plan {
            first: only.unwrap_or(0),
            count: if only.is_some() { 1 } else { mc.replications },
            target,
            confidence: mc.confidence,
            seed: self.run.seed,
            settings: self.settings(0),
            threads: self.threads(),
            spool: None,
        }
    }

    /// Runs the replications of `plan` with this scenario's model, handing each to `sink` in
    /// replication order (see [`montecarlo::run`]).
    pub fn run_replications(
        &self,
        plan: &Plan,
        sink: &mut (dyn Sink + Send),
        stop: &AtomicBool,
        progress: &dyn Progress,
    ) -> io::Result<RunStats> {
        montecarlo::run(plan, &|job| self.model.run(job), sink, stop, progress)
    }

    /// [`Scenario::run_replications`], writing checkpoints or starting from one.
    pub fn run_replications_with(
        &self,
        plan: &Plan,
        sink: &mut (dyn Sink + Send),
        stop: &AtomicBool,
        progress: &dyn Progress,
        extras: montecarlo::Extras<'_>,
    ) -> io::Result<RunStats> {
        montecarlo::run_with(
            plan,
            &|job| self.model.run(job),
            sink,
            stop,
            progress,
            extras,
        )
    }

    /// Whether the model can be snapshotted (it implements [`crate::Model::codec`]), which
    /// checkpoints need.
    pub fn snapshots(&self) -> bool {
        self.model.snapshots()
    }

    /// Whether one replication of the model can be shared by MPI ranks: it can be
    /// snapshotted, and its tasks have no places (a replication of a model with a
    /// [`crate::Space`] runs in one process; replications are still shared out over ranks).
    pub fn shares_a_replication(&self) -> bool {
        self.model.snapshots() && !self.model.has_space()
    }

    /// Refuses `[run] checkpoint_every` where no checkpoint can be written: in a sweep, or for
    /// a model that cannot be snapshotted.
    pub fn check_checkpoints(&self) -> Result<(), ScenarioError> {
        if self.run.checkpoint_every == 0 {
            return Ok(());
        }
        let field = "run.checkpoint_every";
        let (msg, hint) = if self.sweep.is_some() {
            (
                "`run.checkpoint_every` is set, but a sweep does not write checkpoints".to_string(),
                "remove it, or run the variants one by one".to_string(),
            )
        } else if !self.snapshots() {
            (
                format!(
                    "`run.checkpoint_every` is set, but the model `{}` cannot be snapshotted",
                    self.model_name()
                ),
                "its `Model::codec` must return `Some(Codec::new())` (serde messages, cells a \
                 `CellBlock`)"
                    .to_string(),
            )
        } else {
            return Ok(());
        };
        Err(
            ScenarioError::new(ErrorKind::Invalid, self.origin_of(field), msg)
                .field(field)
                .hint(hint),
        )
    }

    /// The engine settings for replication `replication`.
    pub fn settings(&self, replication: u64) -> Settings {
        Settings {
            seed: crate::engine::rng::replication_seed(self.run.seed, replication),
            shards: self.run.shards.unwrap_or(1) as usize,
            order: self.run.order,
            quantum: self.run.quantum as u32,
            max_steps: self.run.max_steps as u32,
            histograms: self.run.histograms,
        }
    }

    /// The resolved scenario as TOML: running it again reproduces this run exactly.
    pub fn resolved_toml(&self) -> &str {
        self.resolved.get_or_init(|| {
            let header = format!(
                "# Resolved by microsim {} from {}: defaults filled in, overrides applied.\n# Running this file again reproduces the results exactly.\n\n",
                env!("CARGO_PKG_VERSION"),
                self.path.display()
            );
            header + &self.model.resolved_body()
        })
    }

    /// Where `section.key` is in the scenario file (or the nearest section above it that is),
    /// for messages about it.
    pub fn origin_of(&self, field: &str) -> Origin {
        let span = locate_field(&self.source, field);
        let path_text = self.path.display().to_string();
        match span {
            Some(span) => {
                let (line, column) = line_column(&self.source, span.start);
                Origin::File {
                    path: path_text,
                    line,
                    column,
                }
            }
            None => Origin::FileOnly { path: path_text },
        }
    }

    /// What the run will need in memory, about.
    pub fn estimate_memory(&self) -> MemoryEstimate {
        MemoryEstimate::of(self)
    }

    /// The scenarios a run of this one runs (its sweep's variants, or itself alone), and the
    /// most memory any of them is estimated to need; refused if that is above `limit`. With
    /// `one` (a single replication re-created), each is counted for one replication.
    pub fn sized_runs(&self, one: bool, limit: u64) -> Result<(Vec<Scenario>, u64), ScenarioError> {
        let runs: Vec<Scenario> = match &self.sweep {
            Some(_) => self.variants()?.into_iter().map(|v| v.scenario).collect(),
            None => vec![self.clone()],
        };
        let mut most = 0;
        for mut sized in runs.iter().cloned() {
            if one {
                sized.montecarlo.replications = 1;
            }
            let e = sized.estimate_memory();
            e.check(self, limit)?;
            most = most.max(e.total);
        }
        Ok((runs, most))
    }
}

/// A model with checked parameters, ready to run: what a [`Scenario`] holds. Each method
/// builds the model (cheap by contract) and hands it to generic code.
pub(crate) trait Configured: Send + Sync + fmt::Debug {
    /// What the model declares.
    fn info(&self) -> ModelInfo;
    /// What one replication needs in memory, about.
    fn estimate(&self, settings: &Settings) -> u64;
    /// Runs the replications of `job`.
    fn run(&self, job: Job<'_>) -> io::Result<RunStats>;
    /// Whether the model can be snapshotted.
    fn snapshots(&self) -> bool;
    /// Whether the model's tasks have places (a [`crate::Space`]).
    fn has_space(&self) -> bool;
    /// The resolved scenario document as TOML (without the comment header).
    fn resolved_body(&self) -> String;
    /// What the model declares, with what it expects for these parameters.
    fn declared(&self) -> Declared;
    /// The variants of `base`'s `sweep`, each built and checked.
    fn variants(
        &self,
        base: &Scenario,
        sweep: &SweepSection,
    ) -> Result<Vec<Variant>, ScenarioError>;
}

/// Checked parameters of type `P`, with the resolved document they came from (shared by a
/// sweep's variants, which differ from it in `[model]` and `[run]` only).
#[derive(Debug)]
pub(crate) struct Checked<P> {
    /// The resolved document of the scenario (of the sweep, for a variant).
    pub(crate) doc: Arc<Doc<P>>,
    /// The model's parameters.
    pub(crate) model: P,
    /// `[run]`.
    pub(crate) run: RunSection,
    /// Whether this is a variant of `doc`'s sweep (and so has no `[sweep]` of its own).
    pub(crate) variant: bool,
    /// What the model declares and expects, from the model instance that ran (a model may
    /// build costly state on first use, e.g. gift_lottery's alias table: a second instance
    /// built at the end of a run would build it again, beyond the memory estimate).
    pub(crate) declared: OnceLock<Declared>,
}

impl<P: ModelParams> Configured for Checked<P> {
    fn info(&self) -> ModelInfo {
        info::<P>()
    }

    fn estimate(&self, settings: &Settings) -> u64 {
        estimate_bytes(&self.model.build(), settings)
    }

    fn run(&self, job: Job<'_>) -> io::Result<RunStats> {
        use crate::engine::model::Model;
        let model = self.model.build();
        let stats = montecarlo::run_model(&model, job);
        self.declared
            .get_or_init(|| Declared::of(&info::<P>(), &model.expected()));
        stats
    }

    fn snapshots(&self) -> bool {
        use crate::engine::model::Model;
        self.model.build().codec().is_some()
    }

    fn has_space(&self) -> bool {
        use crate::engine::model::Model;
        self.model.build().space().is_some()
    }

    fn resolved_body(&self) -> String {
        let mut doc = (*self.doc).clone();
        doc.model = self.model.clone();
        doc.run = self.run.clone();
        if self.variant {
            doc.sweep = None;
        }
        toml::to_string(&doc).expect("a scenario document serialises")
    }

    fn declared(&self) -> Declared {
        use crate::engine::model::Model;
        self.declared
            .get_or_init(|| Declared::of(&info::<P>(), &self.model.build().expected()))
            .clone()
    }

    fn variants(
        &self,
        base: &Scenario,
        sweep: &SweepSection,
    ) -> Result<Vec<Variant>, ScenarioError> {
        variants::build(&self.doc, base, sweep)
    }
}

/// The scenario text and where it came from, for error messages.
pub(crate) struct Source<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    pub(crate) fn error(
        &self,
        kind: ErrorKind,
        span: Option<std::ops::Range<usize>>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        let path = self.path.display().to_string();
        let origin = match span {
            Some(span) => {
                let (line, column) = line_column(self.text, span.start);
                Origin::File { path, line, column }
            }
            None => Origin::FileOnly { path },
        };
        ScenarioError::new(kind, origin, msg)
    }

    /// A parser error, with the field it points at and a hint when one helps.
    pub(crate) fn toml_error(&self, e: &toml::de::Error, kind: ErrorKind) -> ScenarioError {
        let d = diagnose::diagnose(self.text, e.message().trim(), e.span());
        let span = e.span().or(d.at.map(|at| at..at));
        let mut err = self.error(kind, span, d.message);
        // Every error names a field; where the text gives none (a line of garbage before
        // any section), the scenario's one required section.
        err.field = Some(d.field.unwrap_or_else(|| "scenario".into()));
        err.hint = d.hint;
        err
    }
}

/// The text of a scenario file, refusing binary data and invalid UTF-8.
pub(crate) fn text_of<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, ScenarioError> {
    let binary = |offset: usize, what: &str| {
        let text = String::from_utf8_lossy(&bytes[..offset]);
        let (line, column) = line_column(&text, text.len());
        let origin = Origin::File {
            path: path.display().to_string(),
            line,
            column,
        };
        let field = diagnose::line_field(&text, text.len()).unwrap_or_else(|| "scenario".into());
        Err(ScenarioError::new(
            ErrorKind::Syntax,
            origin,
            format!("this is not a scenario file: {what}"),
        )
        .field(field)
        .hint("a scenario is a UTF-8 TOML text file; `microsim new MODEL FILE` writes one"))
    };
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return binary(nul, "it contains binary data (a NUL byte)");
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return binary(e.valid_up_to(), "it is not UTF-8 text"),
    };
    if text.trim().is_empty() {
        let origin = Origin::FileOnly {
            path: path.display().to_string(),
        };
        return Err(ScenarioError::new(ErrorKind::Syntax, origin, "the scenario file is empty")
            .field("scenario.model")
            .hint("a scenario needs at least `[scenario]` with `model = \"...\"`; `microsim new MODEL FILE` writes a starter"));
    }
    Ok(text)
}

/// The model a scenario names (`[scenario] model`, or the `--set` that overrides it);
/// `models` lists the known ones for the hint.
pub(crate) fn model_name(
    src: &Source,
    table: &toml::Table,
    overrides: &[Override],
    models: &str,
) -> Result<String, ScenarioError> {
    let hint = format!("add `model = \"...\"` under [scenario]; the models are {models}");
    let section = match table.get("scenario") {
        Some(toml::Value::Table(t)) => t,
        Some(_) => {
            let at = locate::key_span(src.text, &["scenario"]);
            return Err(src
                .error(
                    ErrorKind::Schema,
                    at,
                    "`scenario` must be a table ([scenario])",
                )
                .field("scenario"));
        }
        None => {
            return Err(src
                .error(ErrorKind::Schema, None, "missing section [scenario]")
                .field("scenario.model")
                .hint(hint));
        }
    };
    match section.get("model") {
        Some(toml::Value::String(name)) => Ok(name.clone()),
        Some(other) => {
            let err = match overrides.iter().find(|o| o.is("scenario.model")) {
                Some(o) => o.error(
                    ErrorKind::Schema,
                    format!("the model must be a name, not {}", other.type_str()),
                ),
                None => src.error(
                    ErrorKind::Schema,
                    locate::key_span(src.text, &["scenario", "model"]),
                    format!(
                        "`scenario.model` must be a string, not {}",
                        other.type_str()
                    ),
                ),
            };
            Err(err.field("scenario.model").hint(hint))
        }
        None => {
            let at = locate::key_span(src.text, &["scenario"]);
            Err(src
                .error(ErrorKind::Schema, at, "missing field `model` in [scenario]")
                .field("scenario.model")
                .hint(hint))
        }
    }
}

/// Stages one and two for a model whose parameters are `P`.
pub(crate) fn typed<P: ModelParams>(
    src: &Source,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    // Stage one on the file alone, so its errors point into the file ...
    let file_doc: Doc<P> =
        toml::from_str(src.text).map_err(|e| src.toml_error(&e, ErrorKind::Schema))?;
    // ... then with the overrides, blaming the first one that breaks it.
    let doc = if overrides.is_empty() {
        file_doc
    } else {
        overrides::apply_typed::<Doc<P>>(src, overrides)?
    };
    let mut problems = Vec::new();
    let cells = crate::experiment::params::check_model(&doc.model, &mut problems);
    if let Some(p) = problems.into_iter().next() {
        return Err(problem_error(src, overrides, p));
    }
    let mut problems = Vec::new();
    doc.run.check(cells, &mut problems);
    let metrics: Vec<&str> = <P::Model as crate::Model>::METRICS
        .iter()
        .map(|q| q.name)
        .collect();
    let metrics = metrics.as_slice();
    doc.montecarlo.check(metrics, &mut problems);
    doc.output.check(&mut problems);
    let description = doc.scenario.description.chars().count();
    if description > sections::MAX_DESCRIPTION_CHARS {
        problems.push(Problem::new(
            "scenario.description",
            format!(
                "`scenario.description` is {description} characters long, more than the {} allowed",
                sections::MAX_DESCRIPTION_CHARS
            ),
            "keep it to a line or a short paragraph; longer notes belong in # comments",
        ));
    }
    if let Some(sweep) = &doc.sweep {
        sweep.check(metrics, &mut problems);
        if sweep.from.is_some()
            && (doc.montecarlo.replications != 1 || doc.montecarlo.target.is_some())
        {
            problems.push(Problem::new(
                "montecarlo.replications",
                "a sweep from a checkpoint runs the checkpoint's one replication per variant",
                "set montecarlo.replications = 1 (and no target); for replications of the \
                 branch, sweep from several checkpoints",
            ));
        }
        if sweep.common_random_numbers && doc.montecarlo.target.is_some() {
            problems.push(Problem::new(
                "montecarlo.target",
                "a precision target in a sweep with common random numbers: variants would stop at \
                 different replication counts and be paired on their first replications only",
                "set montecarlo.replications for every variant and drop the target, or set \
                 common_random_numbers = false in [sweep] (independent comparisons)",
            ));
        }
    }
    let name = match &doc.scenario.name {
        Some(n) => n.clone(),
        None => sections::default_name(src.path),
    };
    sections::check_name(&name, &mut problems);
    if let Some(p) = problems.into_iter().next() {
        return Err(problem_error(src, overrides, p));
    }
    let explicit_shards = doc.run.shards.is_some();
    let mut resolved = doc;
    resolved.scenario.name = Some(name.clone());
    // A branch point is recorded as found from here, so that the resolved scenario (written
    // into the result directory) reproduces the run from anywhere.
    if let Some(from) = resolved.sweep.as_mut().and_then(|s| s.from.as_mut())
        && Path::new(from.as_str()).is_relative()
    {
        let base = src.path.parent().unwrap_or(Path::new(""));
        let joined = base.join(from.as_str());
        let full = std::path::absolute(&joined).unwrap_or(joined);
        *from = full.to_string_lossy().into_owned();
    }
    let most = resolved.montecarlo.most_replications();
    resolved.run.shards = Some(resolved.run.shards_for(cells, most));
    let doc = Arc::new(resolved);
    let scenario = Scenario {
        name,
        description: doc.scenario.description.clone(),
        model: Arc::new(Checked {
            doc: doc.clone(),
            model: doc.model.clone(),
            run: doc.run.clone(),
            variant: false,
            declared: OnceLock::new(),
        }),
        run: doc.run.clone(),
        montecarlo: doc.montecarlo.clone(),
        output: doc.output.clone(),
        sweep: doc.sweep.clone(),
        path: src.path.to_path_buf(),
        source: Arc::from(src.text),
        overrides: Arc::from(overrides),
        resolved: Arc::new(OnceLock::new()),
        explicit_shards,
    };
    if scenario.sweep.is_some() {
        scenario.variants()?;
    }
    Ok(scenario)
}

/// The span of `field`'s key in `text`, or of the nearest section above it that is there.
pub(crate) fn locate_field(text: &str, field: &str) -> Option<std::ops::Range<usize>> {
    let path: Vec<&str> = field.split('.').collect();
    (1..=path.len())
        .rev()
        .find_map(|n| locate::key_span(text, &path[..n]))
}

/// The command-line override that set `field` or a section above it, if one did.
pub(crate) fn override_of<'a>(overrides: &'a [Override], field: &str) -> Option<&'a Override> {
    overrides.iter().rev().find(|o| {
        let f = o.field();
        f == field || field.starts_with(&format!("{f}."))
    })
}

fn problem_error(src: &Source, overrides: &[Override], p: Problem) -> ScenarioError {
    let err = match override_of(overrides, &p.field) {
        Some(o) => o.error(ErrorKind::Invalid, p.message),
        None => {
            let span =
                p.at.as_deref()
                    .and_then(|steps| locate::span_of(src.text, steps))
                    .or_else(|| locate_field(src.text, &p.field));
            src.error(ErrorKind::Invalid, span, p.message)
        }
    };
    err.field(p.field).hint(p.hint)
}

/// Where `steps` are in the scenario `text`, for a message about them.
pub(crate) fn span_of(text: &str, steps: &[PathPart]) -> Option<std::ops::Range<usize>> {
    locate::span_of(text, steps)
}

/// Fields of a scenario that do not change its results (the deterministic files): a resumed
/// run may change them, and slices of one run may differ in them.
pub const NOT_IN_RESULTS: &[&str] = &[
    "run.threads",
    "run.shards",
    "run.checkpoint_every",
    "run.checkpoint_keep",
    "output",
];

/// The dotted names of the fields in which two resolved scenarios (as
/// [`Scenario::resolved_toml`] writes them) differ, but for those in [`NOT_IN_RESULTS`];
/// sorted. Text that is not TOML differs as a whole (`""`).
pub fn differing_fields(a: &str, b: &str) -> Vec<String> {
    let (Ok(a), Ok(b)) = (a.parse::<toml::Table>(), b.parse::<toml::Table>()) else {
        return vec![String::new()];
    };
    let mut out = Vec::new();
    diff("", &a, &b, &mut out);
    out.retain(|f| {
        !NOT_IN_RESULTS
            .iter()
            .any(|m| f == m || f.starts_with(&format!("{m}.")))
    });
    out
}

/// The dotted names of the fields that differ between `a` and `b`.
fn diff(prefix: &str, a: &toml::Table, b: &toml::Table, out: &mut Vec<String>) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (a.get(k), b.get(k)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => diff(&name, x, y, out),
            (x, y) if x != y => out.push(name),
            _ => {}
        }
    }
}
