//! The result directory's CSV tables, read back: `replications.csv` and `steps.csv`.

use std::fs;
use std::path::Path;

use super::*;

/// One row of `replications.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationRow {
    /// The replication's index.
    pub replication: u64,
    /// Its seed.
    pub seed: u64,
    /// How it ended.
    pub ending: Ending,
    /// Steps it ran.
    pub steps: u64,
    /// Its metrics, in the table's order.
    pub metrics: Vec<f64>,
}

/// `replications.csv`: one row per replication.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReplicationsTable {
    /// The metric columns, in order.
    pub metrics: Vec<String>,
    /// The rows, in replication order.
    pub rows: Vec<ReplicationRow>,
}

/// The columns before the metrics.
const REPLICATION_COLUMNS: [&str; 4] = ["replication", "seed", "ending", "steps"];

impl ReplicationsTable {
    /// The header line's fields.
    pub fn header(metrics: &[&str]) -> Vec<String> {
        REPLICATION_COLUMNS
            .iter()
            .chain(metrics)
            .map(|s| s.to_string())
            .collect()
    }

    /// A row's fields, numbers formatted by [`fmt_num`].
    pub fn record(row: &ReplicationRow) -> Vec<String> {
        let mut r = vec![
            row.replication.to_string(),
            row.seed.to_string(),
            ending_name(row.ending).to_string(),
            row.steps.to_string(),
        ];
        r.extend(row.metrics.iter().map(|&v| fmt_num(v)));
        r
    }

    /// Reads a `replications.csv`.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let bad = |why: String| format_error(path, why);
        let (mut reader, header) = csv_reader(path)?;
        if header.len() < 4 || header[..4] != REPLICATION_COLUMNS {
            return Err(bad(format!(
                "the header must start with {}",
                REPLICATION_COLUMNS.join(",")
            )));
        }
        let mut table = ReplicationsTable {
            metrics: header[4..].to_vec(),
            rows: Vec::new(),
        };
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| bad(format!("line {line}: {e}")))?;
            let field = |k: usize| record.get(k).unwrap_or("").trim();
            let whole = |k: usize| {
                field(k).parse::<u64>().map_err(|_| {
                    bad(format!(
                        "line {line}: `{}` is not a whole number: {:?}",
                        header[k],
                        field(k)
                    ))
                })
            };
            let ending = parse_ending(field(2))
                .ok_or_else(|| bad(format!("line {line}: unknown ending {:?}", field(2))))?;
            let mut metrics = Vec::with_capacity(table.metrics.len());
            for (k, name) in header.iter().enumerate().skip(4) {
                let v = field(k).parse::<f64>().map_err(|_| {
                    bad(format!(
                        "line {line}: `{name}` is not a number: {:?}",
                        field(k)
                    ))
                })?;
                metrics.push(v);
            }
            table.rows.push(ReplicationRow {
                replication: whole(0)?,
                seed: whole(1)?,
                ending,
                steps: whole(3)?,
                metrics,
            });
        }
        Ok(table)
    }

    /// The column of metric `name`, one value per row.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.metrics.iter().position(|m| m == name)?;
        Some(self.rows.iter().map(|r| r.metrics[k]).collect())
    }

    /// The rows a summary is made of: those that ran to their end, or all if none did (as
    /// `summary.json` does).
    pub fn summarised(&self) -> Vec<&ReplicationRow> {
        let complete: Vec<&ReplicationRow> = self
            .rows
            .iter()
            .filter(|r| r.ending != Ending::Interrupted)
            .collect();
        if complete.is_empty() {
            self.rows.iter().collect()
        } else {
            complete
        }
    }
}

/// `steps.csv`: the header and, per replication in order, its rows (every column as a
/// number; the replication is the first).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StepsTable {
    /// The column names.
    pub header: Vec<String>,
    /// Per replication, its rows.
    pub reps: Vec<(u64, Vec<Vec<f64>>)>,
}

impl StepsTable {
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

    /// Reads a `steps.csv`.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        Self::read_first(path, usize::MAX)
    }

    /// Reads the rows of the first `reps` replications of a `steps.csv` (a plot draws a few;
    /// the file may hold millions).
    pub fn read_first(path: &Path, reps: usize) -> Result<Self, ReadError> {
        let bad = |why: String| format_error(path, why);
        let (mut reader, header) = csv_reader(path)?;
        if header.first().map(String::as_str) != Some("replication") {
            return Err(bad("the first column must be `replication`".into()));
        }
        let mut table = StepsTable {
            header,
            reps: Vec::new(),
        };
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| bad(format!("line {line}: {e}")))?;
            let rep: u64 = record
                .get(0)
                .and_then(|r| r.trim().parse().ok())
                .ok_or_else(|| bad(format!("line {line}: bad replication")))?;
            let row: Vec<f64> = record
                .iter()
                .map(|c| c.trim().parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            let n = table.reps.len();
            match table.reps.last_mut() {
                Some((r, rows)) if *r == rep => rows.push(row),
                _ if n == reps => break,
                _ => table.reps.push((rep, vec![row])),
            }
        }
        Ok(table)
    }
}

/// A CSV file of a result directory, opened, with its header read.
fn csv_reader(path: &Path) -> Result<(csv::Reader<fs::File>, Vec<String>), ReadError> {
    let file = crate::experiment::safe_fs::open_regular(path).map_err(|why| ReadError::Io {
        path: path.to_path_buf(),
        why,
    })?;
    let mut reader = csv::ReaderBuilder::new().from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| format_error(path, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    Ok((reader, header))
}

fn format_error(path: &Path, why: String) -> ReadError {
    ReadError::Format {
        path: path.to_path_buf(),
        why,
    }
}
