//! The plots a scenario asks for (`[output] plots`): part of the scenario's schema, drawn by
//! [`crate::plot`].

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A kind of plot. The names ([`PlotKind::name`]) are what `microsim plot --kind` and a
/// scenario's `[output] plots = [...]` accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlotKind {
    /// `sweep`: each compared metric against the swept parameter (sweep directories only).
    Sweep,
    /// `distribution`: histogram of each metric over replications, mean and 95% CI marked.
    Distribution,
    /// `cdf`: empirical CDF of each metric over replications.
    Cdf,
    /// `histograms`: the model's HDR histograms (`histograms/*.hlog` other than the engine's).
    Histograms,
    /// `convergence`: running mean of each metric with its 95% CI as replications accumulate.
    Convergence,
    /// `steps`: step-level series (tasks, messages local/cross-shard, step time and imbalance).
    Steps,
}

impl PlotKind {
    /// Every kind, in the order the report shows them.
    pub const ALL: [PlotKind; 6] = [
        PlotKind::Sweep,
        PlotKind::Distribution,
        PlotKind::Cdf,
        PlotKind::Histograms,
        PlotKind::Convergence,
        PlotKind::Steps,
    ];

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            PlotKind::Sweep => "sweep",
            PlotKind::Distribution => "distribution",
            PlotKind::Cdf => "cdf",
            PlotKind::Histograms => "histograms",
            PlotKind::Convergence => "convergence",
            PlotKind::Steps => "steps",
        }
    }

    /// Parses a list of kind names; `"all"` stands for every kind. An empty list gives an
    /// empty list (the caller decides whether that means "no plots").
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<PlotKind>, String> {
        let mut out = BTreeSet::new();
        for n in names {
            if n.as_ref().trim().eq_ignore_ascii_case("all") {
                out.extend(PlotKind::ALL);
            } else {
                out.insert(n.as_ref().parse()?);
            }
        }
        Ok(out.into_iter().collect())
    }
}

impl FromStr for PlotKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "histogram" | "hlog" => "histograms",
            "distributions" | "hist" => "distribution",
            "cdfs" => "cdf",
            "step" => "steps",
            other => other,
        };
        PlotKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown plot kind `{s}` (expected one of: all, {})",
                    PlotKind::ALL.map(PlotKind::name).join(", ")
                )
            })
    }
}

impl fmt::Display for PlotKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
