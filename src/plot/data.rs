//! Reading a saved result directory: what the plots are drawn from.
//!
//! Only `summary.json` is required. Every other file is optional: one that is missing or
//! unreadable leaves its plots out, with a note saying why.

use std::fs;
use std::path::Path;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use serde_json::Value;

use super::PlotError;

/// The histograms the engine writes for every model; the others are the model's own.
pub const ENGINE_HISTOGRAMS: [&str; 4] = [
    "messages_per_task",
    "mailbox_depth",
    "step_time_us",
    "shard_time_us",
];

/// A run's saved results.
pub struct Run {
    pub summary: Value,
    pub scenario: String,
    pub model: String,
    /// Replications in the run (for a sweep: per variant).
    pub replications: u64,
    /// `replications.csv`, or why it is not there.
    pub reps: Result<Replications, String>,
    /// `steps.csv`, or why it is not there.
    pub steps: Result<Steps, String>,
    /// Model histograms (`histograms/*.hlog` other than the engine's), sorted by name.
    pub hlogs: Vec<(String, Result<Histogram<u64>, String>)>,
    /// `sweep.json` (or `summary.json`'s `sweep`), for a sweep.
    pub sweep: Option<Value>,
    /// For a sweep: the metrics in file order (from the baseline variant's replications.csv).
    pub metric_order: Vec<String>,
}

/// Metric columns of `replications.csv`, over the replications that ran to their end (all of
/// them if none did), as `summary.json` summarises them.
pub struct Replications {
    pub columns: Vec<(String, Vec<f64>)>,
    /// Rows left out because the replication was interrupted.
    pub interrupted: usize,
}

/// `steps.csv`: the header and, per replication in order, its rows.
pub struct Steps {
    pub header: Vec<String>,
    pub reps: Vec<(u64, Vec<Vec<f64>>)>,
}

impl Steps {
    /// The index of a column.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The model's counter columns (between `messages_dropped` and `wall_ms`).
    pub fn counters(&self) -> Vec<usize> {
        match (self.col("messages_dropped"), self.col("wall_ms")) {
            (Some(a), Some(b)) if a < b => (a + 1..b).collect(),
            _ => Vec::new(),
        }
    }
}

impl Run {
    /// The metric names in file order (replications.csv, else summary.json).
    pub fn metric_names(&self) -> Vec<String> {
        match &self.reps {
            Ok(r) if !r.columns.is_empty() => r.columns.iter().map(|(n, _)| n.clone()).collect(),
            _ if !self.metric_order.is_empty() => self.metric_order.clone(),
            _ => self.summary["metrics"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// Every name a metric filter may give: metrics and model histograms.
    pub fn names(&self) -> Vec<String> {
        let mut n = self.metric_names();
        if let Some(s) = &self.sweep {
            for m in s["compare"].as_array().into_iter().flatten() {
                if let Some(m) = m.as_str()
                    && !n.iter().any(|x| x == m)
                {
                    n.push(m.to_string());
                }
            }
        }
        n.extend(self.hlogs.iter().map(|(h, _)| h.clone()));
        n
    }

    /// A metric's summary from `summary.json`.
    pub fn metric_summary(&self, name: &str) -> Option<&Value> {
        self.summary["metrics"].get(name).filter(|v| v.is_object())
    }
}

/// Reads `dir`.
pub fn load(dir: &Path) -> Result<Run, PlotError> {
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
    let text = fs::read_to_string(dir.join("summary.json"))
        .map_err(|e| bad(format!("cannot read summary.json: {e}")))?;
    let summary: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("summary.json is not JSON: {e}")))?;
    if !summary.is_object() || summary.get("scenario").is_none() {
        return Err(bad("summary.json has no `scenario`".into()));
    }
    let sweep = summary.get("sweep").filter(|s| s.is_object()).map(|s| {
        fs::read_to_string(dir.join("sweep.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .filter(|v| v["variants"].is_array())
            .unwrap_or_else(|| s.clone())
    });
    let is_sweep = sweep.is_some();
    let none = |f: &str| -> String {
        if is_sweep {
            format!("a sweep keeps {f} in each variants/NNN directory")
        } else {
            format!("{f} is missing")
        }
    };
    let reps = if dir.join("replications.csv").is_file() {
        read_replications(&dir.join("replications.csv"))
    } else {
        Err(none("replications.csv"))
    };
    let steps = if dir.join("steps.csv").is_file() {
        read_steps(&dir.join("steps.csv"))
    } else {
        Err(none("steps.csv"))
    };
    let mut hlogs = Vec::new();
    if let Ok(entries) = fs::read_dir(dir.join("histograms")) {
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().and_then(|x| x.to_str()) != Some("hlog") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if ENGINE_HISTOGRAMS.contains(&name) {
                continue;
            }
            hlogs.push((name.to_string(), read_hlog(&path)));
        }
    }
    hlogs.sort_by(|a, b| a.0.cmp(&b.0));
    // A sweep's metrics in the model's order: the header of a variant's replications.csv.
    let metric_order = match &sweep {
        Some(sw) => sw["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["dir"].as_str())
            .find_map(|d| read_replications(&dir.join(d).join("replications.csv")).ok())
            .map(|r| r.columns.into_iter().map(|(n, _)| n).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Run {
        metric_order,
        scenario: summary["scenario"].as_str().unwrap_or("?").to_string(),
        model: summary["model"].as_str().unwrap_or("?").to_string(),
        replications: summary["replications"].as_u64().unwrap_or(0),
        summary,
        reps,
        steps,
        hlogs,
        sweep,
    })
}

fn read_replications(path: &Path) -> Result<Replications, String> {
    let table = crate::experiment::output::read_replications(path)?;
    let interrupted: Vec<bool> = table.endings.iter().map(|e| e == "interrupted").collect();
    // As summary.json does: only replications that ran to their end, unless none did.
    let use_all = interrupted.iter().all(|&i| i);
    let keep = |r: usize| use_all || !interrupted[r];
    let columns = table
        .columns
        .into_iter()
        .map(|(name, col)| {
            (
                name,
                col.into_iter()
                    .enumerate()
                    .filter(|(r, _)| keep(*r))
                    .map(|(_, v)| v)
                    .collect(),
            )
        })
        .collect();
    Ok(Replications {
        columns,
        interrupted: if use_all {
            0
        } else {
            interrupted.iter().filter(|&&i| i).count()
        },
    })
}

fn read_steps(path: &Path) -> Result<Steps, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read steps.csv: {e}"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    if header.first().map(String::as_str) != Some("replication") {
        return Err("steps.csv does not start with a `replication` column".into());
    }
    let mut reps: Vec<(u64, Vec<Vec<f64>>)> = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(format!(
                "steps.csv line {} has {} fields, not {}",
                n + 2,
                cells.len(),
                header.len()
            ));
        }
        let rep: u64 = cells[0]
            .parse()
            .map_err(|_| format!("steps.csv line {}: bad replication", n + 2))?;
        let row: Vec<f64> = cells
            .iter()
            .map(|c| c.trim().parse::<f64>().unwrap_or(f64::NAN))
            .collect();
        match reps.last_mut() {
            Some((r, rows)) if *r == rep => rows.push(row),
            _ => reps.push((rep, vec![row])),
        }
    }
    Ok(Steps { header, reps })
}

/// Reads an HdrHistogram interval log and adds up its intervals.
pub fn read_hlog(path: &Path) -> Result<Histogram<u64>, String> {
    use base64::Engine as _;
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut total: Option<Histogram<u64>> = None;
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| format!("not an interval log: {e:?}"))?;
        let LogEntry::Interval(iv) = entry else {
            continue;
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(iv.encoded_histogram())
            .map_err(|e| format!("bad base64 in an interval: {e}"))?;
        let h: Histogram<u64> = de
            .deserialize(&mut raw.as_slice())
            .map_err(|e| format!("cannot decode a histogram: {e:?}"))?;
        match &mut total {
            None => total = Some(h),
            Some(t) => t
                .add(&h)
                .map_err(|e| format!("cannot merge intervals: {e:?}"))?,
        }
    }
    total.ok_or_else(|| "the log has no interval".to_string())
}
