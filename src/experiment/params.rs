//! What a model's parameters must provide to enter the experiment layer ([`ModelParams`]),
//! the checks of their values ([`Checks`], [`Problem`]) and what a model declares
//! ([`ModelInfo`]). The lowest module of the layer: it knows the engine and nothing else.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::arena::MAX_CELLS;
use crate::engine::model::{Model, Quantity};

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

    /// `params`' own checks ([`ModelParams::check`]) outside a scenario, for a model's
    /// constructor or a program that builds parameters itself: the first problem, as
    /// `field: what is wrong; what is accepted`. A model that checks its parameters this way
    /// accepts exactly what a scenario accepts.
    pub fn verify<P: ModelParams>(params: &P) -> Result<(), String> {
        let mut checks = Checks::default();
        params.check(&mut checks);
        match checks.problems.first() {
            None => Ok(()),
            Some(p) => {
                let field = p.field.strip_prefix("model.").unwrap_or(&p.field);
                Err(format!("{field}: {}; {}", p.message, p.hint))
            }
        }
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
    /// Per-step series derived from the counters, in `steps.csv` order after the counters.
    pub series: &'static [Quantity],
    /// What the model's histograms measure.
    pub histograms: &'static [Quantity],
}

impl ModelInfo {
    /// The model's own `steps.csv` columns: its counters, then its series.
    pub fn step_columns(&self) -> Vec<&'static str> {
        self.counters
            .iter()
            .chain(self.series)
            .map(|q| q.name)
            .collect()
    }
}

/// What `P`'s model declares.
pub(crate) fn info<P: ModelParams>() -> ModelInfo {
    ModelInfo {
        name: P::NAME,
        summary: P::SUMMARY,
        starter: P::STARTER,
        metrics: <P::Model as Model>::METRICS,
        counters: <P::Model as Model>::COUNTERS,
        series: <P::Model as Model>::SERIES,
        histograms: <P::Model as Model>::HISTOGRAMS,
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

/// A problem found in stage two: which field, what is wrong, what would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `section.key`
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What would be accepted.
    pub hint: String,
    /// Where in the file, when the dotted `field` does not say: a quoted key with dots in it
    /// (`"model.items"` in `[sweep.grid]`) or an element of a list.
    pub(crate) at: Option<Vec<PathPart>>,
}

/// One step of a path into a scenario document: a key (taken whole, dots and all) or the
/// index of a list element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathPart {
    Key(String),
    Index(usize),
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Problem {
            field: field.to_string(),
            message: message.into(),
            hint: hint.into(),
            at: None,
        }
    }

    /// The same problem, found at `steps` in the file rather than at its field's key.
    pub(crate) fn at(mut self, steps: Vec<PathPart>) -> Self {
        self.at = Some(steps);
        self
    }
}

/// Checks that `value` of `field` is within `lo..=hi`.
pub fn check_range(out: &mut Vec<Problem>, field: &str, value: u64, lo: u64, hi: u64) {
    if value < lo || value > hi {
        let what = if value < lo { "too small" } else { "too large" };
        out.push(Problem::new(
            field,
            format!("`{field}` is {what}: {value}"),
            format!("use a whole number from {lo} to {hi}"),
        ));
    }
}

/// Checks that a probability `value` of `field` is in [0, 1].
pub fn check_probability(out: &mut Vec<Problem>, field: &str, value: f64) {
    if !(0.0..=1.0).contains(&value) {
        out.push(Problem::new(
            field,
            format!("`{field}` is not a probability: {value}"),
            "use a number from 0 to 1",
        ));
    }
}

/// Checks that `value` of `field` is in (0, max].
pub fn check_positive(out: &mut Vec<Problem>, field: &str, value: f64, max: f64) {
    if !(value > 0.0 && value <= max) {
        out.push(Problem::new(
            field,
            format!("`{field}` must be positive: {value}"),
            format!("use a number above 0 and at most {max}"),
        ));
    }
}
