//! Reading a saved result directory: what the plots are drawn from, all of it through
//! [`ResultDir`] and its types.
//!
//! Only `summary.json` is required. Every other file is optional: one that is missing or
//! unreadable leaves its plots out, with a note saying why.

use std::path::Path;

use hdrhistogram::Histogram;

use super::PlotError;
pub(super) use crate::experiment::output::read_hlog;
use crate::experiment::results::{
    ReplicationsTable, ResultDir, RunSummary, StepsTable, SweepTable,
};
use crate::experiment::stats::{Difference, Summary};

/// A run's saved results.
pub(super) struct SavedRun {
    /// Where they are.
    pub dir: ResultDir,
    /// `summary.json`.
    pub summary: RunSummary,
    /// `replications.csv`, or why it is not there.
    pub reps: Result<Replications, String>,
    /// `steps.csv`, or why it is not there.
    pub steps: Result<StepsTable, String>,
    /// Model histograms (`histograms/*.hlog` other than the engine's), sorted by name.
    pub hlogs: Vec<(String, Result<Histogram<u64>, String>)>,
    /// `sweep.json` (else `summary.json`'s `sweep`), for a sweep.
    pub sweep: Option<SweepTable>,
    /// The metrics in file order when the summary does not declare them (a result directory
    /// written before declarations): a sweep variant's `replications.csv` header.
    metric_order: Vec<String>,
}

/// Metric columns of `replications.csv`, over the rows a summary is made of
/// ([`ReplicationsTable::summarised`]).
pub(super) struct Replications {
    pub columns: Vec<(String, Vec<f64>)>,
    /// Rows left out because the replication was interrupted.
    pub interrupted: usize,
}

impl Replications {
    fn of(table: &ReplicationsTable) -> Self {
        let rows = table.summarised();
        let columns = table
            .metrics
            .iter()
            .enumerate()
            .map(|(k, name)| (name.clone(), rows.iter().map(|r| r.metrics[k]).collect()))
            .collect();
        Replications {
            columns,
            interrupted: table.rows.len() - rows.len(),
        }
    }
}

impl SavedRun {
    /// The metric names in the model's order (as declared; else as `replications.csv` has
    /// them; else as stored).
    pub(super) fn metric_names(&self) -> Vec<String> {
        if !self.summary.declared.metrics.is_empty() {
            return self.summary.metric_names();
        }
        match &self.reps {
            Ok(r) if !r.columns.is_empty() => r.columns.iter().map(|(n, _)| n.clone()).collect(),
            _ if !self.metric_order.is_empty() => self.metric_order.clone(),
            _ => self.summary.metric_names(),
        }
    }

    /// Every name a metric filter may give: metrics and model histograms.
    pub(super) fn names(&self) -> Vec<String> {
        let mut n = self.metric_names();
        if let Some(s) = &self.sweep {
            for m in &s.compare {
                if !n.contains(m) {
                    n.push(m.clone());
                }
            }
        }
        n.extend(self.hlogs.iter().map(|(h, _)| h.clone()));
        n
    }

    /// A metric's summary from `summary.json`.
    pub(super) fn metric_summary(&self, name: &str) -> Option<&Summary> {
        self.summary.metrics.get(name)
    }

    /// The confidence level of the run's intervals.
    pub(super) fn confidence(&self) -> f64 {
        self.summary.confidence
    }

    /// `name (unit)`, or the name alone for a metric without a unit.
    pub(super) fn label(&self, name: &str) -> String {
        match self.summary.unit(name) {
            "" => name.to_string(),
            unit => format!("{name} ({unit})"),
        }
    }
}

/// The confidence interval of `s` at level `confidence` that is shown: its `interval` (which
/// respects the metric's range), else its `ci`, or for a summary written before `ci` existed
/// (always at 95%), its `ci95`.
pub(super) fn interval(s: &Summary, confidence: f64) -> Option<[f64; 2]> {
    s.interval
        .map(|i| i.ends())
        .or_else(|| at_level(s.ci, s.ci95, confidence))
}

/// [`interval`] of a difference to the baseline.
pub(super) fn diff_interval(d: &Difference, confidence: f64) -> Option<[f64; 2]> {
    at_level(d.ci, d.ci95, confidence)
}

fn at_level(ci: Option<[f64; 2]>, ci95: Option<[f64; 2]>, confidence: f64) -> Option<[f64; 2]> {
    ci.or(if confidence == 0.95 { ci95 } else { None })
}

/// Replications of `steps.csv` read for the step charts: the first and 100 faint others.
pub(super) const STEP_REPLICATIONS: usize = 101;

/// Reads `dir`.
pub(super) fn load(dir: &Path) -> Result<SavedRun, PlotError> {
    let bad = |why: String| PlotError::NotAResultDir {
        dir: dir.to_path_buf(),
        why,
    };
    if !dir.is_dir() {
        return Err(bad(if dir.exists() {
            "not a directory".into()
        } else {
            "no such directory".into()
        }));
    }
    let rd = ResultDir::new(dir);
    let summary = rd.read_summary().map_err(|e| bad(e.to_string()))?;
    let sweep = summary
        .sweep
        .as_ref()
        .map(|s| rd.read_sweep().unwrap_or_else(|_| s.clone()));
    let is_sweep = sweep.is_some();
    let none = |f: &str| -> String {
        if is_sweep {
            format!(
                "a sweep keeps {f} in each {}/NNN directory",
                ResultDir::VARIANTS
            )
        } else {
            format!("{f} is missing")
        }
    };
    let reps = if rd.file(ResultDir::REPLICATIONS).is_file() {
        rd.read_replications()
            .map(|t| Replications::of(&t))
            .map_err(|e| e.to_string())
    } else {
        Err(none(ResultDir::REPLICATIONS))
    };
    let steps = if rd.file(ResultDir::STEPS).is_file() {
        // The step charts draw the first replication and at most 100 others.
        rd.read_steps_first(STEP_REPLICATIONS)
            .map_err(|e| e.to_string())
    } else {
        Err(none(ResultDir::STEPS))
    };
    let hlogs = rd
        .histogram_names(true)
        .into_iter()
        .map(|name| {
            let h = read_hlog(&rd.histogram(&name));
            (name, h)
        })
        .collect();
    // Without declarations, a sweep's metrics in the model's order: the header of a
    // variant's replications.csv.
    let metric_order = match &sweep {
        Some(sw) if summary.declared.metrics.is_empty() => sw
            .variants
            .iter()
            .find_map(|v| ResultDir::new(rd.file(&v.dir)).read_replications().ok())
            .map(|r| r.metrics)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Ok(SavedRun {
        dir: rd,
        summary,
        reps,
        steps,
        hlogs,
        sweep,
        metric_order,
    })
}
