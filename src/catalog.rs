//! The built-in models by name: their parameters, checks, metrics and starter scenarios.
//!
//! A scenario names its model as a string; this is the one place that turns the name into a
//! concrete [`Model`] type. Everything downstream is generic over the model, reached through
//! [`Visit`], so adding a model means adding one entry here.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::Model;
use crate::models::gift_lottery::{self, GiftLottery};
use crate::models::musical_chairs::{self, MusicalChairs};
use crate::models::pi::{self, Pi};
use crate::scenario::sections::{
    MAX_CELLS, MAX_SHARDS, Problem, check_positive, check_probability, check_range,
};

/// What `microsim list` shows of a model.
pub struct ModelInfo {
    /// The name a scenario uses.
    pub name: &'static str,
    /// One line on what it simulates.
    pub summary: &'static str,
    /// Scalar metrics, in output order.
    pub metrics: &'static [&'static str],
    /// A commented `[model]` section with the defaults.
    pub starter: &'static str,
}

/// Every built-in model.
pub const MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "musical_chairs",
        summary: "robots claim random cells; a cell once taken stays taken (seed 003)",
        metrics: <MusicalChairs as Model>::METRICS,
        starter: "\
[model]
# Robots (tasks); each plays `rounds` rounds.
robots = 100000
# Arena size in cells; a robot picks a uniform random cell each round.
width = 10000
height = 10000
rounds = 10
",
    },
    ModelInfo {
        name: "gift_lottery",
        summary: "items are given to random bins; how many bins get 1, 2, 3 … (seed 003, Mamma Mia)",
        metrics: <GiftLottery as Model>::METRICS,
        starter: "\
[model]
# Items given away (tasks) and bins they land in (cells): the seed's DVDs and trees.
items = 600000
bins = 2000000
# How likely each bin is: \"uniform\", \"zipf\" (weight of bin i ∝ 1/i^zipf_s) or
# \"lognormal\" (weights exp(lognormal_sigma · z), fixed per bin across replications).
weights = \"uniform\"
zipf_s = 1.0
lognormal_sigma = 1.0
# Probability a buyer keeps the item instead of giving it.
keep_fraction = 0.0
# Probability a buyer who learns the bin already has a copy picks again (a message round
# trip per retry), at most max_retries times.
interaction = 0.0
max_retries = 3
",
    },
    ModelInfo {
        name: "pi",
        summary: "points thrown into the unit square estimate π (seed 000)",
        metrics: <Pi as Model>::METRICS,
        starter: "\
[model]
# Points thrown in all, shared by `tasks` tasks (shares differ by at most one).
points = 10000000
tasks = 1000
# Points a task draws per step at most; 0: its whole share in one step.
points_per_step = 0
",
    },
];

/// The names of the built-in models, for messages.
pub fn names() -> String {
    MODELS
        .iter()
        .map(|m| format!("`{}`", m.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Looks a model up by name.
pub fn find(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| m.name == name)
}

/// A model's validated parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModelParams {
    /// `musical_chairs`
    MusicalChairs(musical_chairs::Params),
    /// `gift_lottery`
    GiftLottery(gift_lottery::Params),
    /// `pi`
    Pi(pi::Params),
}

/// Something done with a concrete model (Rust has no generic closures).
pub trait Visit {
    /// The result.
    type Out;
    /// Does it.
    fn visit<M: Model + Sync>(self, model: &M) -> Self::Out;
}

/// A model's parameter type: parsed from `[model]`, checked, turned into the model.
pub trait Params: DeserializeOwned + Serialize + Default + Clone {
    /// Stage-two checks; fields are named `model.<key>`.
    fn check(&self, out: &mut Vec<Problem>);
    /// Cells in the arena these parameters describe (for the shard check).
    fn cells(&self) -> u64;
    /// Wraps these parameters.
    fn wrap(self) -> ModelParams;
}

impl Params for musical_chairs::Params {
    fn check(&self, out: &mut Vec<Problem>) {
        check_range(out, "model.robots", self.robots, 1, u32::MAX as u64);
        check_range(out, "model.width", self.width, 1, 1 << 31);
        check_range(out, "model.height", self.height, 1, 1 << 31);
        check_range(out, "model.rounds", self.rounds as u64, 1, 1_000_000);
        let cells = self.cells();
        if self.width <= 1 << 31 && self.height <= 1 << 31 && cells > MAX_CELLS {
            // Blame the longer side: the one most likely to be the mistake.
            let side = if self.height > self.width {
                "model.height"
            } else {
                "model.width"
            };
            out.push(Problem::new(
                side,
                format!(
                    "the arena has {cells} cells ({} x {}), more than the {MAX_CELLS} a run \
                     can hold ({MAX_SHARDS} shards of 2^32 cells)",
                    self.width, self.height
                ),
                format!("make width x height at most {MAX_CELLS}"),
            ));
        }
    }
    fn cells(&self) -> u64 {
        self.width.saturating_mul(self.height)
    }
    fn wrap(self) -> ModelParams {
        ModelParams::MusicalChairs(self)
    }
}

impl Params for gift_lottery::Params {
    fn check(&self, out: &mut Vec<Problem>) {
        check_range(out, "model.items", self.items, 1, gift_lottery::MAX_ITEMS);
        check_range(out, "model.bins", self.bins, 1, gift_lottery::MAX_BINS);
        check_positive(out, "model.zipf_s", self.zipf_s, gift_lottery::MAX_ZIPF_S);
        check_positive(
            out,
            "model.lognormal_sigma",
            self.lognormal_sigma,
            gift_lottery::MAX_SIGMA,
        );
        check_probability(out, "model.keep_fraction", self.keep_fraction);
        check_probability(out, "model.interaction", self.interaction);
        check_range(
            out,
            "model.max_retries",
            self.max_retries as u64,
            0,
            gift_lottery::MAX_RETRIES as u64,
        );
    }
    fn cells(&self) -> u64 {
        self.bins
    }
    fn wrap(self) -> ModelParams {
        ModelParams::GiftLottery(self)
    }
}

impl Params for pi::Params {
    fn check(&self, out: &mut Vec<Problem>) {
        check_range(out, "model.points", self.points, 1, u64::MAX / 2);
        check_range(out, "model.tasks", self.tasks, 1, pi::MAX_TASKS);
    }
    fn cells(&self) -> u64 {
        self.tasks
    }
    fn wrap(self) -> ModelParams {
        ModelParams::Pi(self)
    }
}

impl ModelParams {
    /// The model's name.
    pub fn name(&self) -> &'static str {
        match self {
            ModelParams::MusicalChairs(_) => "musical_chairs",
            ModelParams::GiftLottery(_) => "gift_lottery",
            ModelParams::Pi(_) => "pi",
        }
    }

    /// Builds the model and hands it to `v`.
    pub fn visit<V: Visit>(&self, v: V) -> V::Out {
        match self {
            ModelParams::MusicalChairs(p) => v.visit(&MusicalChairs::new(p.clone())),
            ModelParams::GiftLottery(p) => v.visit(&GiftLottery::new(p.clone())),
            ModelParams::Pi(p) => v.visit(&Pi::new(p.clone())),
        }
    }

    /// The model's scalar metric names.
    pub fn metrics(&self) -> &'static [&'static str] {
        find(self.name()).map_or(&[], |m| m.metrics)
    }
}

/// Calls `f` with the parameter type of model `name`, or returns `None` for an unknown name.
#[macro_export]
#[doc(hidden)]
macro_rules! with_params_type {
    ($name:expr, $f:ident ( $($arg:expr),* )) => {
        match $name {
            "musical_chairs" => Some($f::<$crate::models::musical_chairs::Params>($($arg),*)),
            "gift_lottery" => Some($f::<$crate::models::gift_lottery::Params>($($arg),*)),
            "pi" => Some($f::<$crate::models::pi::Params>($($arg),*)),
            _ => None,
        }
    };
}

/// A complete, commented starter scenario for model `name`.
pub fn starter(name: &str) -> Option<String> {
    let m = find(name)?;
    Some(format!(
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
        summary = m.summary,
        model = m.starter,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn every_starter_scenario_is_valid() {
        for m in MODELS {
            let text = starter(m.name).unwrap();
            let s =
                Scenario::from_bytes(text.as_bytes(), std::path::Path::new("starter.toml"), &[])
                    .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_eq!(s.model.name(), m.name);
        }
    }
}
