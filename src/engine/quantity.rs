//! Declared quantities (counters and metrics) and the typed handles that address them by name.

use serde::Serialize;

/// A declared counter or metric: its name (a column, a key in `summary.json`), its unit (on
/// plot axes and in tables) and a line saying what it is.
///
/// For a histogram ([`crate::Model::HISTOGRAMS`]) the unit names what is counted (the y axis
/// of its plot, e.g. `"robots"`) and `about` what is measured (the x axis, e.g. `"points per
/// robot"`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Quantity {
    /// The name: letters, digits and `_`, unique within the model's list.
    pub name: &'static str,
    /// The unit, plural and lower case (`"claims"`, `"cells"`), or `""` for a pure number.
    pub unit: &'static str,
    /// What it is, in a line (may be empty).
    pub about: &'static str,
    /// A value it is known to have on average (π for an estimate of π), drawn as a reference
    /// line on its plots. A value that depends on the parameters comes from
    /// [`crate::Model::expected`] instead.
    pub expected: Option<f64>,
    /// The values it can take (any number, non-negative, a count, a probability): what its
    /// confidence intervals respect (an interval of a count never reaches below 0).
    pub support: Support,
}

/// The values a metric can take, which its intervals respect (see
/// `microsim::results::Interval` for the method each gets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// Any real number.
    #[default]
    Any,
    /// A real number ≥ 0 (an error, a time, a mean of counts).
    NonNegative,
    /// A whole number ≥ 0 (bins, claims, winners).
    Count,
    /// A number from 0 to 1 (a share; a 0/1 outcome per replication).
    Probability,
}

impl Support {
    /// Whether this is [`Support::Any`] (left out of `summary.json`).
    pub fn is_any(&self) -> bool {
        *self == Support::Any
    }
}

impl Quantity {
    /// A quantity with a name and a unit.
    pub const fn new(name: &'static str, unit: &'static str) -> Self {
        Quantity {
            name,
            unit,
            about: "",
            expected: None,
            support: Support::Any,
        }
    }

    /// A quantity that is a whole number ≥ 0 (bins, claims, winners): its intervals never
    /// reach below 0 (a rare count gets the exact Poisson interval).
    pub const fn count(name: &'static str, unit: &'static str) -> Self {
        Quantity::new(name, unit).within(Support::Count)
    }

    /// A quantity that is never negative (an error, a time): its intervals are clipped at 0.
    pub const fn non_negative(name: &'static str, unit: &'static str) -> Self {
        Quantity::new(name, unit).within(Support::NonNegative)
    }

    /// A quantity that is a probability or a share, in [0, 1]: a 0/1 outcome per replication
    /// gets the exact (Clopper–Pearson) interval, other shares one clipped to [0, 1].
    pub const fn share(name: &'static str, unit: &'static str) -> Self {
        Quantity::new(name, unit).within(Support::Probability)
    }

    /// The same quantity with these values possible.
    pub const fn within(self, support: Support) -> Self {
        Quantity { support, ..self }
    }

    /// The same quantity with a known expected value.
    pub const fn expected(self, value: f64) -> Self {
        Quantity {
            expected: Some(value),
            ..self
        }
    }

    /// The same quantity with a description.
    pub const fn about(self, about: &'static str) -> Self {
        Quantity { about, ..self }
    }
}

/// The position of `name` in `list`; a compile error (in a `const`) when it is not there.
const fn position(list: &[Quantity], name: &str) -> usize {
    let mut i = 0;
    while i < list.len() {
        if same(list[i].name.as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("no quantity of that name in the list");
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A handle on one of a model's [`crate::Model::COUNTERS`], for [`crate::Ctx::count`] and
/// [`crate::Tally`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter(usize);

impl Counter {
    /// The counter called `name` in `list`. Use it in a `const`, so that a name missing from
    /// the list is a compile error.
    pub const fn named(list: &[Quantity], name: &str) -> Counter {
        Counter(position(list, name))
    }

    /// Its position in the list.
    pub const fn index(self) -> usize {
        self.0
    }
}

/// A handle on one of a model's [`crate::Model::METRICS`], for [`crate::Report::set`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric(usize);

impl Metric {
    /// The metric called `name` in `list`. Use it in a `const`, so that a name missing from
    /// the list is a compile error.
    pub const fn named(list: &[Quantity], name: &str) -> Metric {
        Metric(position(list, name))
    }

    /// Its position in the list.
    pub const fn index(self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[Quantity] = &[Quantity::new("a", "x"), Quantity::new("bb", "y")];

    #[test]
    fn handles_are_found_by_name() {
        const B: Counter = Counter::named(LIST, "bb");
        assert_eq!(B.index(), 1);
        assert_eq!(Metric::named(LIST, "a").index(), 0);
    }
}
