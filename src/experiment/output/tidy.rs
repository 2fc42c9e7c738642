//! `results.csv`: a whole run, or a whole sweep, as one tidy table — one row per
//! (variant, replication), one column per variable — what `pandas.read_csv`, polars and R's
//! `read.csv` load in one line.
//!
//! Columns, in order:
//!
//! 1. for a sweep only: `variant`, then one column per swept field, named by its path
//!    (`model.robots`), with the variant's value;
//! 2. `replication`, `seed`, `ending`, `steps`, then one column per metric — each row of the
//!    variant's `replications.csv`, byte for byte.
//!
//! `seed` is the replication's seed as its decimal digits: read it as text
//! (`dtype={"seed": str}`, `colClasses = c(seed = "character")`) to keep all 64 bits in a
//! reader that would turn a large integer into a double. The file is written from the
//! finished `replications.csv` files, after them, so it always agrees with them.

use std::io;
use std::path::Path;

use super::AtomicFile;
use crate::experiment::results::{FileRecord, ResultDir};

/// Where the rows of `results.csv` come from: one variant's directory and the values of the
/// swept fields (none for a run that is not a sweep).
pub(crate) struct Source {
    /// The variant's index (`None`: not a sweep).
    pub variant: Option<u64>,
    /// The values of the swept fields, in the order of the columns.
    pub parameters: Vec<String>,
    /// The directory whose `replications.csv` holds its rows.
    pub dir: ResultDir,
}

/// Writes `dest/results.csv` from `sources` (in order); `fields` name the swept fields.
pub(crate) fn write(
    dest: &ResultDir,
    fields: &[String],
    sources: &[Source],
) -> io::Result<FileRecord> {
    let mut out = csv::Writer::from_writer(dest.create_file(ResultDir::RESULTS)?);
    let sweep = sources.iter().any(|s| s.variant.is_some());
    let mut header_written = false;
    for source in sources {
        let file = source
            .dir
            .handle()?
            .open_file(Path::new(ResultDir::REPLICATIONS))?;
        let mut rows = csv::Reader::from_reader(io::BufReader::new(file));
        if !header_written {
            let mut header: Vec<String> = Vec::new();
            if sweep {
                header.push("variant".into());
                header.extend(fields.iter().cloned());
            }
            header.extend(rows.headers()?.iter().map(str::to_string));
            out.write_record(&header)?;
            header_written = true;
        }
        let lead: Vec<String> = match source.variant {
            Some(v) => std::iter::once(v.to_string())
                .chain(source.parameters.iter().cloned())
                .collect(),
            None => Vec::new(),
        };
        for record in rows.records() {
            let record = record?;
            out.write_record(lead.iter().map(String::as_str).chain(record.iter()))?;
        }
    }
    commit(out)
}

fn commit(w: csv::Writer<AtomicFile>) -> io::Result<FileRecord> {
    w.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?
        .commit()
}
