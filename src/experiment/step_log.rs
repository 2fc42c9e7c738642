//! A replication's step rows, in constant memory however many steps it runs.
//!
//! Rows are kept as flat words (no allocation per row). Past [`StepLog::IN_MEMORY`] rows they
//! are spilled to an unnamed temporary file in the spool directory (the result directory:
//! nothing is left behind even after `kill -9`, and a RAM-backed `/tmp` is not used), and read
//! back in order when the replication is written. So a run's memory does not grow with its
//! steps, and the budget counts a fixed amount per replication in flight.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::engine::stats::StepRow;

/// The step rows of one replication.
#[derive(Debug)]
pub struct StepLog {
    /// Counters per row.
    counters: usize,
    /// Series per row (after the counters, as `f64` bits).
    series: usize,
    /// Rows not yet spilled, [`StepLog::width`] words each.
    words: Vec<u64>,
    /// Where rows are spilled, once there are too many to keep.
    spool: Option<PathBuf>,
    file: Option<BufWriter<File>>,
    spilled: u64,
    /// Why spilling failed, if it did: the rows are lost, and reading them says so.
    error: Option<io::Error>,
}

/// Words of a row besides its counters.
const FIXED: usize = StepRow::FIXED_WORDS;

impl StepLog {
    /// Rows kept in memory before they are spilled.
    pub const IN_MEMORY: usize = 256;
    /// The write buffer of a spilled log.
    const BUFFER: usize = 64 << 10;

    /// An empty log for rows with `counters` counters; rows past [`StepLog::IN_MEMORY`] go to
    /// a temporary file in `spool` (without a spool directory, all rows stay in memory).
    pub fn new(counters: usize, spool: Option<&Path>) -> Self {
        StepLog {
            counters,
            series: 0,
            words: Vec::new(),
            spool: spool.map(Path::to_path_buf),
            file: None,
            spilled: 0,
            error: None,
        }
    }

    /// The same log for rows with `series` series besides the counters.
    pub fn with_series(mut self, series: usize) -> Self {
        self.series = series;
        self
    }

    /// The most bytes a log with `counters` counters holds in memory (for the memory budget).
    pub fn bytes_in_memory(counters: usize) -> u64 {
        ((Self::IN_MEMORY * (FIXED + counters) * 8) + Self::BUFFER) as u64
    }

    fn width(&self) -> usize {
        FIXED + self.counters + self.series
    }

    /// Rows logged.
    pub fn len(&self) -> u64 {
        self.spilled + (self.words.len() / self.width()) as u64
    }

    /// Whether no row is logged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the next row.
    pub fn push(&mut self, row: &StepRow) {
        debug_assert_eq!(row.counters.len(), self.counters);
        debug_assert_eq!(row.series.len(), self.series);
        if self.error.is_some() {
            self.spilled += 1;
            return;
        }
        row.to_words(&mut self.words);
        if self.words.len() >= Self::IN_MEMORY * self.width()
            && let Err(e) = self.spill()
        {
            // The rows cannot be kept (a full disk): count them, keep nothing, and fail when
            // they are read rather than grow without bound.
            self.spilled += (self.words.len() / self.width()) as u64;
            self.words = Vec::new();
            self.file = None;
            self.error = Some(e);
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        let Some(dir) = &self.spool else {
            return Ok(());
        };
        if self.file.is_none() {
            let f = tempfile::tempfile_in(dir)?;
            self.file = Some(BufWriter::with_capacity(Self::BUFFER, f));
        }
        let w = self.file.as_mut().expect("opened above");
        for word in &self.words {
            w.write_all(&word.to_le_bytes())?;
        }
        self.spilled += (self.words.len() / self.width()) as u64;
        self.words.clear();
        Ok(())
    }

    /// Calls `f` with every row in order.
    pub fn for_each(mut self, f: impl FnMut(&StepRow) -> io::Result<()>) -> io::Result<()> {
        self.visit(f)
    }

    /// Every row so far, in order, leaving the log as it is (for a checkpoint).
    pub fn rows(&mut self) -> io::Result<Vec<StepRow>> {
        let mut rows = Vec::with_capacity(self.len() as usize);
        self.visit(|r| {
            rows.push(r.clone());
            Ok(())
        })?;
        Ok(rows)
    }

    /// Hands each row to `f`, in order; the spilled rows are read through a second handle on
    /// the spill file, which is left at its end for further rows.
    fn visit(&mut self, mut f: impl FnMut(&StepRow) -> io::Result<()>) -> io::Result<()> {
        if let Some(e) = &self.error {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot keep the step rows in the spool directory: {e}"),
            ));
        }
        let width = self.width();
        let mut row = StepRow::zeroed(0, self.counters);
        let counters = self.counters;
        let mut decode = |w: &[u64]| {
            row.read_words(w, counters);
            f(&row)
        };
        if let Some(w) = self.file.as_mut() {
            w.flush()?;
            let mut file = w.get_ref().try_clone()?;
            file.rewind()?;
            let mut r = BufReader::with_capacity(Self::BUFFER, file);
            let mut bytes = vec![0u8; width * 8];
            let mut words = vec![0u64; width];
            for _ in 0..self.spilled {
                r.read_exact(&mut bytes)?;
                for (w, b) in words.iter_mut().zip(bytes.chunks_exact(8)) {
                    *w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
                }
                decode(&words)?;
            }
            r.into_inner().seek(io::SeekFrom::End(0))?;
        }
        for w in self.words.chunks_exact(width) {
            decode(w)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u32) -> StepRow {
        StepRow {
            step,
            tasks_run: step as u64 * 3,
            tasks_alive: 7,
            tasks_finished: 1,
            messages_local: u64::MAX - step as u64,
            messages_cross: 2,
            messages_dropped: 0,
            counters: vec![step as u64, 42],
            series: vec![step as f64 / 3.0],
            wall_ns: 5,
            shard_ns_max: 6,
            shard_ns_mean: 4,
        }
    }

    fn read(log: StepLog) -> Vec<StepRow> {
        let mut rows = Vec::new();
        log.for_each(|r| {
            rows.push(r.clone());
            Ok(())
        })
        .unwrap();
        rows
    }

    #[test]
    fn rows_come_back_in_order_whether_spilled_or_not() {
        let dir = tempfile::tempdir().unwrap();
        for (n, spool) in [(3, true), (2000, true), (700, false)] {
            let mut log = StepLog::new(2, spool.then_some(dir.path())).with_series(1);
            for s in 0..n {
                log.push(&row(s));
            }
            assert_eq!(log.len(), n as u64);
            let spilled = log.file.is_some();
            assert_eq!(spilled, spool && n as usize >= StepLog::IN_MEMORY, "{n}");
            assert!(log.words.len() <= StepLog::IN_MEMORY * log.width() || !spool);
            assert_eq!(read(log), (0..n).map(row).collect::<Vec<_>>(), "{n}");
        }
        // The spill file has no name: nothing is left in the spool directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
