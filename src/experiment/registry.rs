//! The open model registry: models by name, for scenarios and every command.
//!
//! A model enters the experiment layer through its **parameters type**: the `[model]` section
//! of a scenario, a serde struct with defaults that implements [`ModelParams`]. That one trait
//! says the model's name, a one-line summary, a commented starter `[model]` section, the checks
//! of its parameters, and how to build the model; the metrics and counters (names and units)
//! come from the model's own [`Model::METRICS`] and [`Model::COUNTERS`]. The built-in models
//! register through exactly this trait ([`Registry::builtin`]), and so does a user's:
//!
//! ```no_run
//! # use microsim::Registry;
//! # type Walkers = microsim::models::pi::Params;
//! fn main() -> std::process::ExitCode {
//!     microsim::cli::main(Registry::builtin().with::<Walkers>())
//! }
//! ```
//!
//! Behind the registry each model is a trait object used once per run (to parse, check,
//! estimate and start it); the run itself is monomorphised, so a registered model pays no
//! dynamic dispatch per task or message.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::model::{Model, Quantity};
use crate::engine::scheduler::{Settings, estimate_bytes};
use crate::experiment::montecarlo::{self, Job, RunStats};
use crate::experiment::scenario::sections::{
    MAX_CELLS, Problem, check_positive, check_probability, check_range,
};
use crate::experiment::scenario::{Override, Scenario, ScenarioError, Source};

/// A model's parameters: the `[model]` section of a scenario, and how it becomes a model.
///
/// Implement it on a serde struct whose `Default` is the model's default parameters (use
/// `#[serde(deny_unknown_fields, default)]`, so a misspelt field is an error and an omitted one
/// takes its default). Checks name fields without the `model.` prefix; errors then point at
/// the file, line and column of the field, or at the `--set` that gave it.
pub trait ModelParams:
    Serialize + DeserializeOwned + Default + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The model these parameters build.
    type Model: Model;
    /// The name a scenario uses (`model = "NAME"`): letters, digits and `_`.
    const NAME: &'static str;
    /// What it simulates, in one line (shown by `microsim list`).
    const SUMMARY: &'static str;
    /// A commented `[model]` section with every field at its default (written by
    /// `microsim new`, shown by `microsim list`).
    const STARTER: &'static str;

    /// Stage-two checks of the values (ranges, relations between fields). Default: none.
    fn check(&self, checks: &mut Checks) {
        let _ = checks;
    }

    /// The model. Called after the checks passed, and before the memory budget is checked:
    /// it must be cheap (no allocation in proportion to the model).
    fn build(&self) -> Self::Model;
}

/// The problems found in a model's parameters; fields are named as in `[model]`.
#[derive(Debug, Default)]
pub struct Checks {
    pub(crate) problems: Vec<Problem>,
}

impl Checks {
    fn field(name: &str) -> String {
        format!("model.{name}")
    }

    /// `field` is wrong: says what is wrong and what would be accepted.
    pub fn problem(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.problems
            .push(Problem::new(&Self::field(field), message, hint));
    }

    /// `field` must be a whole number in `lo..=hi`.
    pub fn range(&mut self, field: &str, value: impl Into<u64>, lo: u64, hi: u64) {
        check_range(
            &mut self.problems,
            &Self::field(field),
            value.into(),
            lo,
            hi,
        );
    }

    /// A `width × height` arena: each side from 1 to 2³¹ and at most [`crate::MAX_CELLS`]
    /// cells in all; a too-large arena is blamed on its longer side.
    pub fn arena(
        &mut self,
        (width_field, width): (&str, u64),
        (height_field, height): (&str, u64),
    ) {
        self.range(width_field, width, 1, 1 << 31);
        self.range(height_field, height, 1, 1 << 31);
        let cells = width.saturating_mul(height);
        if width <= 1 << 31 && height <= 1 << 31 && cells > MAX_CELLS {
            let side = if height > width {
                height_field
            } else {
                width_field
            };
            self.problem(
                side,
                format!(
                    "the arena has {cells} cells ({width} x {height}), more than the \
                     {MAX_CELLS} a run can hold (4096 shards of 2^32 cells)"
                ),
                format!("make {width_field} x {height_field} at most {MAX_CELLS}"),
            );
        }
    }

    /// `field` must be a probability, in `[0, 1]`.
    pub fn probability(&mut self, field: &str, value: f64) {
        check_probability(&mut self.problems, &Self::field(field), value);
    }

    /// `field` must be above 0 and at most `max`.
    pub fn positive(&mut self, field: &str, value: f64, max: f64) {
        check_positive(&mut self.problems, &Self::field(field), value, max);
    }

    /// Whether no problem was found so far.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The models a program knows, by name.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Arc<dyn Entry>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Registry {
    /// A registry with no models.
    pub fn new() -> Self {
        Registry::default()
    }

    /// This registry and the model whose parameters are `P`.
    ///
    /// # Panics
    /// If a model of the same name is registered already: two models cannot share a name.
    pub fn with<P: ModelParams>(mut self) -> Self {
        assert!(
            self.find(P::NAME).is_none(),
            "a model named `{}` is registered twice",
            P::NAME
        );
        self.entries.push(Arc::new(Typed::<P>(PhantomData)));
        self
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.info().name).collect()
    }

    /// What every registered model declares, in registration order.
    pub fn models(&self) -> impl Iterator<Item = ModelInfo> + '_ {
        self.entries.iter().map(|e| e.info())
    }

    /// What model `name` declares, if it is registered.
    pub fn model(&self, name: &str) -> Option<ModelInfo> {
        self.find(name).map(|e| e.info())
    }

    pub(crate) fn find(&self, name: &str) -> Option<&dyn Entry> {
        self.entries
            .iter()
            .find(|e| e.info().name == name)
            .map(|e| e.as_ref())
    }

    /// The names as a list for messages: "`a`, `b`, `c`".
    pub(crate) fn listed(&self) -> String {
        let names: Vec<String> = self.names().iter().map(|n| format!("`{n}`")).collect();
        names.join(", ")
    }
}

/// What a registered model declares about itself.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ModelInfo {
    /// The name scenarios use.
    pub name: &'static str,
    /// One line on what it simulates.
    pub summary: &'static str,
    /// The commented starter `[model]` section.
    pub starter: &'static str,
    /// Scalar metrics, in output order.
    pub metrics: &'static [Quantity],
    /// Per-step counters, in `steps.csv` order.
    pub counters: &'static [Quantity],
    /// What the model's histograms measure.
    pub histograms: &'static [Quantity],
}

/// A registered model, with its parameter type erased.
pub(crate) trait Entry: Send + Sync {
    fn info(&self) -> ModelInfo;
    /// Stages one and two of a scenario whose `[model]` is this model's.
    fn load(&self, src: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError>;
}

struct Typed<P>(PhantomData<fn() -> P>);

fn info<P: ModelParams>() -> ModelInfo {
    ModelInfo {
        name: P::NAME,
        summary: P::SUMMARY,
        starter: P::STARTER,
        metrics: <P::Model as Model>::METRICS,
        counters: <P::Model as Model>::COUNTERS,
        histograms: <P::Model as Model>::HISTOGRAMS,
    }
}

impl<P: ModelParams> Entry for Typed<P> {
    fn info(&self) -> ModelInfo {
        info::<P>()
    }

    fn load(&self, src: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        crate::experiment::scenario::typed::<P>(src, overrides)
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
    /// Loads scenario text with the same model type (for sweep variants).
    fn reload(&self, src: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError>;
}

/// Checked parameters of type `P`.
#[derive(Debug)]
pub(crate) struct Checked<P>(pub(crate) P);

impl<P: ModelParams> Configured for Checked<P> {
    fn info(&self) -> ModelInfo {
        info::<P>()
    }

    fn estimate(&self, settings: &Settings) -> u64 {
        estimate_bytes(&self.0.build(), settings)
    }

    fn run(&self, job: Job<'_>) -> io::Result<RunStats> {
        montecarlo::run_model(&self.0.build(), job)
    }

    fn reload(&self, src: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        crate::experiment::scenario::typed::<P>(src, overrides)
    }
}

/// The checks every model gets, whatever its own: task ids are 32-bit, and an arena holds
/// at most [`MAX_CELLS`] cells.
pub(crate) fn check_model<P: ModelParams>(params: &P, out: &mut Vec<Problem>) -> Option<u64> {
    let mut checks = Checks::default();
    params.check(&mut checks);
    out.append(&mut checks.problems);
    if !out.is_empty() {
        return None;
    }
    let model = params.build();
    let tasks = model.tasks();
    if tasks > u32::MAX as u64 {
        out.push(Problem::new(
            "model",
            format!(
                "the model has {tasks} tasks, more than the {} a run can hold",
                u32::MAX
            ),
            "task ids are 32-bit: use fewer tasks",
        ));
    }
    let cells = model.grid().map(|g| g.cells());
    if let Some(cells) = cells.filter(|&c| c > MAX_CELLS) {
        out.push(Problem::new(
            "model",
            format!("the arena has {cells} cells, more than the {MAX_CELLS} a run can hold"),
            format!("make the arena at most {MAX_CELLS} cells"),
        ));
    }
    cells
}

/// A complete, commented starter scenario for model `m`.
pub(crate) fn starter_scenario(m: &ModelInfo) -> String {
    format!(
        "\
# A microsim scenario: {summary}.
# Run it with `microsim run FILE`; check it with `microsim check FILE`.

[scenario]
# Names the result directory outputs/<name>/ (default: this file's name).
name = \"{name}\"
description = \"\"
model = \"{name}\"

{model}
[run]
# Every random number derives from the seed: the same seed gives the same results.
seed = 1
# Shards split the arena; threads run them. Neither changes the results.
shards = 16
threads = 0          # 0: one per core
order = \"by_id\"      # conflicts go to the lower task id; \"shuffled\": a seeded random order
quantum = 1          # times a task may run in a row within a step
max_steps = 1000000  # a replication stops here even if tasks are alive
histograms = true    # record messages per task and mailbox depth

[montecarlo]
replications = 1

[output]
# dir = \"outputs/{name}\"
",
        name = m.name,
        summary = m.summary,
        model = m.starter,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_starter_scenario_is_valid() {
        let registry = Registry::builtin();
        for m in registry.models() {
            let text = starter_scenario(&m);
            let path = std::path::Path::new("starter.toml");
            let s = Scenario::from_bytes(&registry, text.as_bytes(), path, &[])
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_eq!(s.model_name(), m.name);
        }
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_name_cannot_be_registered_twice() {
        let _ = Registry::builtin().with::<crate::models::pi::Params>();
    }
}
