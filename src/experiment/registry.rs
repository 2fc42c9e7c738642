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
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use crate::experiment::params::{ModelInfo, ModelParams, info};
use crate::experiment::scenario::{self, ErrorKind, Override, Scenario, ScenarioError, Source};

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

/// The largest scenario file read (the largest shipped one is a few kilobytes).
pub(crate) const MAX_SCENARIO_BYTES: u64 = 1 << 20;

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

    /// Reads and validates the scenario at `path`, with `overrides` applied, for one of
    /// these models. Only a regular file of at most [`MAX_SCENARIO_BYTES`] is read: a FIFO, a
    /// device or a directory is refused at once, a larger file before it is read.
    #[doc(hidden)] // not yet part of the API: the crate's tests and benches use it
    pub fn load(&self, path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        let bytes = crate::experiment::safe_fs::read_bounded(path, MAX_SCENARIO_BYTES)
            .map_err(|e| ScenarioError::io(path, &e))?;
        self.parse(&bytes, path, overrides)
    }

    /// Validates scenario text as if read from `path`.
    #[doc(hidden)] // not yet part of the API: the crate's tests and benches use it
    pub fn parse(
        &self,
        bytes: &[u8],
        path: &Path,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        // An override's error says which file it was applied to.
        self.parse_inner(bytes, path, overrides).map_err(|e| {
            e.in_file(path)
                .with_line_of(&String::from_utf8_lossy(bytes))
        })
    }

    fn parse_inner(
        &self,
        bytes: &[u8],
        path: &Path,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let registry = self;
        let src = Source {
            path,
            text: scenario::text_of(bytes, path)?,
        };
        let mut table: toml::Table =
            toml::from_str(src.text).map_err(|e| src.toml_error(&e, ErrorKind::Syntax))?;
        for o in overrides {
            o.apply(&mut table)?;
        }
        let model = scenario::model_name(&src, &table, overrides, &registry.listed())?;
        match registry.find(&model) {
            Some(entry) => entry.load(&src, overrides),
            None => {
                let msg = format!("unknown model `{model}`");
                let err = match overrides.iter().rev().find(|o| o.is("scenario.model")) {
                    Some(o) => o.error(ErrorKind::Schema, msg),
                    None => {
                        let at = scenario::key_span(src.text, &["scenario", "model"]);
                        src.error(ErrorKind::Schema, at, msg)
                    }
                };
                let hint = match EXAMPLE_MODELS.iter().find(|(m, _)| *m == model) {
                    Some((_, example)) => format!(
                        "`{model}` is the model of the example examples/{example}.rs, which is \
                         not built into this program: run the file with its binary, `cargo run \
                         --release --example {example} -- run {}`",
                        path.display()
                    ),
                    None => format!(
                        "the models are {} (`microsim list` describes them)",
                        registry.listed()
                    ),
                };
                Err(err.field("scenario.model").hint(hint))
            }
        }
    }

    /// The names as a list for messages: "`a`, `b`, `c`".
    pub(crate) fn listed(&self) -> String {
        let names: Vec<String> = self.names().iter().map(|n| format!("`{n}`")).collect();
        names.join(", ")
    }
}

/// Models that ship as examples (their scenarios in scenarios/), and the example that has
/// each: what the "unknown model" error of a binary without them names.
const EXAMPLE_MODELS: &[(&str, &str)] = &[
    ("random_walkers", "random_walkers"),
    ("gamblers_ruin", "gamblers_ruin"),
];

/// A registered model, with its parameter type erased.
pub(crate) trait Entry: Send + Sync {
    fn info(&self) -> ModelInfo;
    /// Stages one and two of a scenario whose `[model]` is this model's.
    fn load(&self, src: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError>;
}

struct Typed<P>(PhantomData<fn() -> P>);

impl<P: ModelParams> Entry for Typed<P> {
    fn info(&self) -> ModelInfo {
        info::<P>()
    }

    fn load(&self, src: &Source, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        scenario::typed::<P>(src, overrides)
    }
}

/// A complete, commented starter scenario for model `m`: every field there is, each set to
/// its default (those without one commented out), so that the file documents what a
/// scenario can say and runs as is.
pub(crate) fn starter_scenario(m: &ModelInfo) -> String {
    use crate::experiment::scenario::sections::{
        DEFAULT_CHECKPOINT_KEEP, DEFAULT_SEED, MonteCarloSection, RunSection,
    };
    let run = RunSection::default();
    let mc = MonteCarloSection::default();
    format!(
        "\
# A microsim scenario: {summary}.
# Run it with `microsim run FILE`; check it with `microsim check FILE`.
# Every field below is at its default; uncomment or change what you need.

[scenario]
# Names the result directory outputs/<name>/ (default: this file's name).
name = \"{name}\"
description = \"\"
model = \"{name}\"

{model}
[run]
# Every random number derives from the seed: the same seed gives the same results.
seed = {seed}
# Shards split the arena; threads run them. Neither changes the results.
# shards = 16        # default: one per thread (at least 16) for one replication, else the fewest
threads = {threads}          # 0: one per core
order = \"by_id\"      # conflicts go to the lower task id; \"shuffled\": a seeded random order
quantum = {quantum}          # times a task may run in a row within a step
max_steps = {max_steps}  # a replication stops here even if tasks are alive
histograms = {histograms}    # record messages per task and mailbox depth
checkpoint_every = {checkpoint_every}   # write a checkpoint every N steps (0: none); `microsim resume` goes on
checkpoint_keep = {keep}    # step checkpoints of a lone replication kept

[montecarlo]
replications = {replications}
confidence = {confidence}   # the level of every interval (summaries, differences, plots)
# Add replications until an interval is this tight:
# target = {{ metric = \"METRIC\", ci_half_width = 0.01, batch = 10, max_replications = 10000 }}

[output]
# dir = \"outputs/{name}\"
# plots = [\"all\"]    # any of distribution, cdf, histograms, convergence, steps, sweep; [] for none

# A sweep runs a variant per combination of values and compares each with the baseline:
# [sweep]
# baseline = 0
# compare = []                   # metrics to compare (default: all)
# common_random_numbers = true   # variants reuse the replication seeds: paired differences
# [sweep.grid]
# \"model.FIELD\" = [1, 2, 3]
",
        name = m.name,
        summary = m.summary,
        model = m.starter,
        seed = DEFAULT_SEED,
        threads = run.threads,
        quantum = run.quantum,
        max_steps = run.max_steps,
        histograms = run.histograms,
        checkpoint_every = run.checkpoint_every,
        keep = DEFAULT_CHECKPOINT_KEEP,
        replications = mc.replications,
        confidence = mc.confidence,
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
            let s = registry
                .parse(text.as_bytes(), path, &[])
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_eq!(s.model_name(), m.name);
            // At its defaults: the same run as a file that names only the model.
            let bare = format!("[scenario]\nname = \"{0}\"\nmodel = \"{0}\"\n", m.name);
            let bare = registry.parse(bare.as_bytes(), path, &[]).unwrap();
            let mut run = s.run.clone();
            run.shards = bare.run.shards;
            assert_eq!(run, bare.run, "{}: [run] at its defaults", m.name);
            assert_eq!(s.montecarlo, bare.montecarlo);
            assert_eq!(s.output, bare.output);
            for field in [
                "checkpoint_every",
                "confidence",
                "target",
                "plots",
                "[sweep]",
            ] {
                assert!(text.contains(field), "{}: {field} is not shown", m.name);
            }
        }
    }

    #[test]
    fn a_file_name_with_a_space_gives_a_safe_default_name() {
        let text = "[scenario]\nmodel = \"pi\"\n[model]\npoints = 100\ntasks = 10\n";
        let path = std::path::Path::new("dir/my robots.toml");
        let s = Registry::builtin()
            .parse(text.as_bytes(), path, &[])
            .unwrap();
        assert_eq!(s.name, "my_robots");
        assert!(s.resolved_toml().contains("name = \"my_robots\""));
        // A name given explicitly is checked as written.
        let named = "[scenario]\nname = \"my robots\"\nmodel = \"pi\"\n";
        let e = Registry::builtin()
            .parse(named.as_bytes(), path, &[])
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("scenario.name"));
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_name_cannot_be_registered_twice() {
        let _ = Registry::builtin().with::<crate::models::pi::Params>();
    }
}
