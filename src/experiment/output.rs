//! Writing the result directory ([`crate::results`] has its names and types),
//! so that nothing is ever half-written.
//!
//! | file | what |
//! |---|---|
//! | `scenario.toml` | the resolved scenario: running it again reproduces the results |
//! | `summary.json` | per metric: mean, std, ci95, ci, min, p5, p50, p95, max; the run's manifest |
//! | `replications.csv` | one row per replication: replication, seed, ending, metrics |
//! | `results.csv` | the same rows for every variant of a sweep, its fields as columns (`output::tidy`) |
//! | `steps.csv` | one row per step of every replication |
//! | `details.json` | each replication's seed (a string) and model details (e.g. the winners' ids) |
//! | `histograms/*.hlog` | HdrHistogram interval logs (one interval, all replications merged) |
//!
//! Every file is written to a hidden temporary name in the same directory
//! (`.NAME.PID.partial`) and renamed into place when complete, so an interrupted or killed run
//! leaves either the whole file or none. A file abandoned on an error is removed; one left by a
//! killed process (`kill -9`) is removed by the next run into or next to its directory
//! ([`remove_stale_partials`]), once its process is gone.
//!
//! A result directory is claimed atomically ([`choose_dir`]) and carries an `INCOMPLETE`
//! marker from the moment it is claimed until its last file (`summary.json`) is in place, so a
//! directory is either complete or says that it is not ([`ResultDir::is_incomplete`]).
//!
//! Nothing that grows with the number of replications is kept in memory but each metric's
//! values (8 bytes per metric per replication, which the summaries' percentiles and the
//! sweeps' paired differences need) and each replication's ending (1 byte, which decides what
//! the summaries are made of): rows, steps and details are streamed to their files as each
//! replication arrives, and histograms are merged.
//! Columns and values that are deterministic come out as the same bytes for the same seed at
//! any thread and shard count; wall times, the manifest and `messages_local/cross` (which
//! depend on the shard count) are the exceptions, and are documented as such.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine::scheduler::Ending;
use crate::engine::stats::{EngineHistograms, StepRow, hist_bytes, hist_from};
use crate::experiment::montecarlo::{Replication, Sink};
use crate::experiment::params::ModelInfo;
use crate::experiment::results::{
    Endings, FileRecord, ReplicationRow, ReplicationsTable, ResultDir, RunManifest, RunSummary,
    SliceInfo, TargetOutcome, parse_ending,
};
use crate::experiment::safe_fs;
use crate::experiment::stats::Summary;

mod atomic;
mod claim;
pub(crate) mod tidy;

pub use atomic::{AtomicFile, JsonArrayWriter, hex, write_atomic};

pub use claim::{
    Claimed, MAX_NAME_BYTES, Taking, choose_dir, claim_dir, partial_pid, remove_stale_partials,
    unusable_dir,
};

/// What the caller knows about the run that the engine does not.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// The command line that started the run.
    pub command_line: Vec<String>,
    /// When the run started, RFC 3339.
    pub started_at: String,
    /// Worker threads used.
    pub threads: usize,
    /// The memory budget's estimate for this run, in bytes.
    pub memory_estimate_bytes: u64,
    /// The memory budget the estimate was checked against, in bytes.
    pub memory_limit_bytes: u64,
    /// Where the budget comes from (`--max-memory`, the machine, a cgroup).
    pub memory_limit_source: String,
}

impl Manifest {
    /// The manifest of a run that took `elapsed`.
    pub fn record(
        &self,
        shards: Option<u64>,
        variants: Option<u64>,
        elapsed: Duration,
        replication_seconds: f64,
    ) -> RunManifest {
        RunManifest {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: option_env!("MICROSIM_GIT_COMMIT")
                .unwrap_or("unknown")
                .to_string(),
            command_line: self.command_line.clone(),
            host_threads: crate::experiment::montecarlo::cores(),
            threads: self.threads,
            shards,
            variants,
            started_at: self.started_at.clone(),
            elapsed_seconds: elapsed.as_secs_f64(),
            replication_seconds_total: replication_seconds,
            memory_estimate_bytes: self.memory_estimate_bytes,
            memory_limit_bytes: self.memory_limit_bytes,
            memory_limit_source: self.memory_limit_source.clone(),
            peak_rss_bytes: peak_rss_bytes(),
        }
    }
}

/// The process's peak resident memory so far (`VmHWM`), where the OS reports it (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Writes the results of a run as replications arrive; [`RunWriter::finish`] completes it.
pub struct RunWriter {
    dir: ResultDir,
    info: ModelInfo,
    confidence: f64,
    replications_csv: csv::Writer<AtomicFile>,
    steps_csv: csv::Writer<AtomicFile>,
    values: Vec<Vec<f64>>,
    endings: Vec<Ending>,
    histograms: Vec<(&'static str, Histogram<u64>)>,
    engine: EngineHistograms,
    details: JsonArrayWriter,
    compute_seconds: f64,
    slice: Option<SliceInfo>,
    /// Whether an interrupted replication is written (a run of one) or left out.
    keep_interrupted: bool,
    /// Interrupted replications left out.
    left_out: u64,
}

/// What a [`RunWriter`] has written and gathered so far: what a checkpoint of a run of
/// several replications keeps, so that a resumed run does not run them again.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct WriterState {
    replications_csv: Vec<u8>,
    steps_csv: Vec<u8>,
    details: Vec<u8>,
    details_len: u64,
    values: Vec<Vec<f64>>,
    endings: Vec<Ending>,
    histograms: Vec<(String, Vec<u8>)>,
    engine: Vec<Vec<u8>>,
    compute_seconds: f64,
}

impl WriterState {
    /// Replications written.
    pub fn replications(&self) -> u64 {
        self.endings.len() as u64
    }

    /// Each metric's values, one per replication written.
    pub fn values(&self) -> &[Vec<f64>] {
        &self.values
    }

    /// What `replications.csv` holds so far.
    pub fn replications_csv(&self) -> &[u8] {
        &self.replications_csv
    }

    /// What `steps.csv` holds so far.
    pub fn steps_csv(&self) -> &[u8] {
        &self.steps_csv
    }

    /// What `details.json` holds so far (an array left open) and its elements.
    pub fn details(&self) -> (&[u8], u64) {
        (&self.details, self.details_len)
    }

    /// How each replication ended.
    pub fn endings(&self) -> &[Ending] {
        &self.endings
    }

    /// The step rows written (of every replication).
    pub fn steps(&self) -> u64 {
        let lines = self.steps_csv.iter().filter(|&&b| b == b'\n').count() as u64;
        lines.saturating_sub(1)
    }
}

/// Adds the histogram of `bytes` ([`hist_bytes`]) to `acc`, growing `acc` as one writer's
/// would be grown (a model's histogram may resize itself).
fn add_hist(acc: &mut Histogram<u64>, bytes: &[u8]) -> io::Result<()> {
    let h = hist_from(bytes).map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
    grow_add(acc, &h)
}

/// Adds `h` to `acc`, growing `acc` as one writer's would be grown.
fn grow_add(acc: &mut Histogram<u64>, h: &Histogram<u64>) -> io::Result<()> {
    acc.auto(true);
    acc.add(h)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}")))
}

impl RunWriter {
    /// Appends `next`, what another writer holds of the replications that follow those
    /// written here (a later share of the same run, from another process), as if they had
    /// been handed to this writer one by one.
    pub fn append(&mut self, next: WriterState) -> io::Result<()> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
        if next.values.len() != self.values.len() || next.engine.len() != 4 {
            return Err(bad("the results appended are of another model"));
        }
        // The rows are read and written again: the same fields give the same bytes.
        for (bytes, out) in [
            (&next.replications_csv, &mut self.replications_csv),
            (&next.steps_csv, &mut self.steps_csv),
        ] {
            let mut rows = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(&bytes[..]);
            for row in rows.byte_records() {
                out.write_byte_record(&row.map_err(|e| bad(&e.to_string()))?)?;
            }
        }
        self.details.append(&next.details, next.details_len)?;
        for (acc, vals) in self.values.iter_mut().zip(next.values) {
            acc.extend(vals);
        }
        self.endings.extend(next.endings);
        if self.histograms.is_empty() {
            for (name, bytes) in &next.histograms {
                let name: &'static str = Box::leak(name.clone().into_boxed_str());
                self.histograms
                    .push((name, hist_from(bytes).map_err(|e| bad(&e))?));
            }
        } else {
            for ((name, acc), (other, bytes)) in self.histograms.iter_mut().zip(&next.histograms) {
                if name != other {
                    return Err(bad("the results appended have other histograms"));
                }
                add_hist(acc, bytes)?;
            }
        }
        for ((_, acc), bytes) in self.engine.named_mut().into_iter().zip(&next.engine) {
            add_hist(acc, bytes)?;
        }
        self.compute_seconds += next.compute_seconds;
        Ok(())
    }

    /// Appends the replications of `dir`, a finished result directory of the same model
    /// whose replications follow those written here (a later slice of the same run), streamed
    /// from its files: what a writer handed them one by one would have written. Returns how
    /// many there were. `compute_seconds` is what its summary.json records.
    pub fn append_dir(&mut self, dir: &ResultDir, compute_seconds: f64) -> io::Result<u64> {
        let bad = |path: &Path, why: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", path.display()),
            )
        };
        let open = |name: &str| -> io::Result<(csv::Reader<File>, PathBuf)> {
            let path = dir.file(name);
            let file = safe_fs::open_regular(&path).map_err(|e| bad(&path, e.to_string()))?;
            Ok((csv::ReaderBuilder::new().from_reader(file), path))
        };
        // replications.csv: the same columns; each row's ending and metrics kept.
        let (mut rows, path) = open(ResultDir::REPLICATIONS)?;
        let metrics: Vec<&str> = self.info.metrics.iter().map(|q| q.name).collect();
        let header = rows.byte_headers().map_err(|e| bad(&path, e.to_string()))?;
        if header.iter().ne(ReplicationsTable::header(&metrics)
            .iter()
            .map(|h| h.as_bytes()))
        {
            return Err(bad(&path, "its columns are not this model's".into()));
        }
        let mut n = 0u64;
        for (line, row) in rows.byte_records().enumerate() {
            let row = row.map_err(|e| bad(&path, e.to_string()))?;
            let field = |k: usize| std::str::from_utf8(row.get(k).unwrap_or(b"")).unwrap_or("");
            let at = |what: &str| bad(&path, format!("line {}: {what}", line + 2));
            let ending = parse_ending(field(2)).ok_or_else(|| at("an unknown ending"))?;
            for (k, vals) in self.values.iter_mut().enumerate() {
                vals.push(
                    field(4 + k)
                        .parse()
                        .map_err(|_| at("a metric is not a number"))?,
                );
            }
            self.endings.push(ending);
            self.replications_csv.write_byte_record(&row)?;
            n += 1;
        }
        // steps.csv: the same columns, every row.
        let (mut steps, path) = open(ResultDir::STEPS)?;
        let theirs = steps
            .byte_headers()
            .map_err(|e| bad(&path, e.to_string()))?
            .clone();
        let mut ours = vec!["replication".to_string()];
        ours.extend(StepRow::csv_header(&self.info.step_columns()));
        if theirs.iter().ne(ours.iter().map(|h| h.as_bytes())) {
            return Err(bad(&path, "its columns are not this model's".into()));
        }
        for row in steps.byte_records() {
            let row = row.map_err(|e| bad(&path, e.to_string()))?;
            self.steps_csv.write_byte_record(&row)?;
        }
        // details.json: its elements, copied as they are.
        let path = dir.file(ResultDir::DETAILS);
        let mut file = safe_fs::open_regular(&path).map_err(|e| bad(&path, e.to_string()))?;
        self.details
            .append_from(&mut file, n)
            .map_err(|e| bad(&path, e.to_string()))?;
        // The histograms, added.
        let names: Vec<&'static str> = self.info.histograms.iter().map(|q| q.name).collect();
        for name in names {
            let path = dir.histogram(name);
            if !path.exists() {
                continue;
            }
            let h = read_hlog(&path).map_err(|e| bad(&path, e))?;
            match self.histograms.iter_mut().find(|(n, _)| *n == name) {
                Some((_, acc)) => grow_add(acc, &h)?,
                None => self.histograms.push((name, h)),
            }
        }
        for (name, acc) in self.engine.named_mut() {
            let path = dir.histogram(name);
            let h = read_hlog(&path).map_err(|e| bad(&path, e))?;
            grow_add(acc, &h)?;
        }
        self.compute_seconds += compute_seconds;
        Ok(n)
    }

    /// What has been written and gathered so far (the streamed files are flushed and read
    /// back).
    pub fn state(&mut self) -> io::Result<WriterState> {
        self.replications_csv.flush()?;
        self.steps_csv.flush()?;
        let (details, details_len) = self.details.written()?;
        Ok(WriterState {
            replications_csv: self.replications_csv.get_ref().flushed()?,
            steps_csv: self.steps_csv.get_ref().flushed()?,
            details,
            details_len,
            values: self.values.clone(),
            endings: self.endings.clone(),
            histograms: self
                .histograms
                .iter()
                .map(|(n, h)| (n.to_string(), hist_bytes(h)))
                .collect(),
            engine: self
                .engine
                .named()
                .iter()
                .map(|(_, h)| hist_bytes(h))
                .collect(),
            compute_seconds: self.compute_seconds,
        })
    }

    /// A writer into `dir` (as [`RunWriter::create`]) that goes on from `state`, written by a
    /// run of the same scenario. Refuses a state that does not fit the model `info`.
    pub fn resume(
        dir: &ResultDir,
        info: ModelInfo,
        confidence: f64,
        state: WriterState,
    ) -> io::Result<Self> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
        let n = state.endings.len();
        if state.values.len() != info.metrics.len() || state.values.iter().any(|v| v.len() != n) {
            return Err(bad("the results kept do not fit the model's metrics"));
        }
        if state.engine.len() != 4 || state.details_len != n as u64 {
            return Err(bad("the results kept are damaged"));
        }
        let dir = dir.clone();
        dir.create_dirs()?;
        dir.mark_incomplete()?;
        let stream = |name: &str, bytes: &[u8]| -> io::Result<csv::Writer<AtomicFile>> {
            let mut f = dir.create_file(name)?;
            f.write_all(bytes)?;
            Ok(csv_writer(f))
        };
        let replications_csv = stream(ResultDir::REPLICATIONS, &state.replications_csv)?;
        let steps_csv = stream(ResultDir::STEPS, &state.steps_csv)?;
        let details = JsonArrayWriter::resume(
            dir.create_file(ResultDir::DETAILS)?,
            &state.details,
            state.details_len,
        )?;
        let mut histograms = Vec::new();
        for (name, bytes) in &state.histograms {
            // The names come back as the model's own (histogram names are static strings).
            let name: &'static str = Box::leak(name.clone().into_boxed_str());
            histograms.push((name, hist_from(bytes).map_err(|e| bad(&e))?));
        }
        let mut engine = EngineHistograms::new();
        for ((_, h), bytes) in engine.named_mut().into_iter().zip(&state.engine) {
            *h = hist_from(bytes).map_err(|e| bad(&e))?;
        }
        Ok(RunWriter {
            dir,
            info,
            confidence,
            replications_csv,
            steps_csv,
            values: state.values,
            endings: state.endings,
            histograms,
            engine,
            details,
            compute_seconds: state.compute_seconds,
            slice: None,
            keep_interrupted: false,
            left_out: 0,
        })
    }

    /// Creates `dir` (and `dir/histograms`), marks it incomplete, and starts the streamed
    /// files for a model that declares `info`, with intervals at `confidence`.
    pub fn create(dir: &ResultDir, info: ModelInfo, confidence: f64) -> io::Result<Self> {
        let dir = dir.clone();
        dir.create_dirs()?;
        dir.mark_incomplete()?;
        let metrics: Vec<&str> = info.metrics.iter().map(|q| q.name).collect();
        let mut replications_csv = csv_writer(dir.create_file(ResultDir::REPLICATIONS)?);
        replications_csv.write_record(ReplicationsTable::header(&metrics))?;
        let mut steps_csv = csv_writer(dir.create_file(ResultDir::STEPS)?);
        let mut header = vec!["replication".to_string()];
        header.extend(StepRow::csv_header(&info.step_columns()));
        steps_csv.write_record(header)?;
        let details = JsonArrayWriter::create(dir.create_file(ResultDir::DETAILS)?);
        Ok(RunWriter {
            dir,
            values: vec![Vec::new(); metrics.len()],
            info,
            confidence,
            replications_csv,
            steps_csv,
            endings: Vec::new(),
            histograms: Vec::new(),
            engine: EngineHistograms::new(),
            details,
            compute_seconds: 0.0,
            slice: None,
            keep_interrupted: false,
            left_out: 0,
        })
    }

    /// Whether a replication that was interrupted is written: only in a run of one
    /// replication (whose partial numbers are all there is). In a run of several, only
    /// complete replications are written, so that every row of `replications.csv` is a whole
    /// replication; those left out are counted as `interrupted` in the summary's `endings`.
    pub fn keep_interrupted(&mut self, keep: bool) {
        self.keep_interrupted = keep;
    }

    /// Marks the results as a slice of a run (recorded in `summary.json`).
    pub fn set_slice(&mut self, slice: SliceInfo) {
        self.slice = Some(slice);
    }

    /// The result directory.
    pub fn dir(&self) -> &ResultDir {
        &self.dir
    }

    /// Summaries of every metric over the replications that ran to their end (or over all, if
    /// none did).
    pub fn summaries(&self) -> BTreeMap<String, Summary> {
        let complete: Vec<bool> = self
            .endings
            .iter()
            .map(|e| *e != Ending::Interrupted)
            .collect();
        let use_all = !complete.iter().any(|&c| c);
        self.info
            .metrics
            .iter()
            .zip(&self.values)
            .filter_map(|(q, vals)| {
                let kept: Vec<f64> = vals
                    .iter()
                    .zip(&complete)
                    .filter(|(_, c)| use_all || **c)
                    .map(|(v, _)| *v)
                    .collect();
                // No replication kept (a run stopped before its first ended): no summary.
                (!kept.is_empty()).then(|| {
                    let summary = Summary::within(&kept, self.confidence, q.support);
                    (q.name.to_string(), summary)
                })
            })
            .collect()
    }

    /// Each metric's values, one per replication in order.
    pub fn values(&self) -> &[Vec<f64>] {
        &self.values
    }

    /// Completes every file, `summary.json` last, then removes the `INCOMPLETE` marker; returns
    /// what `summary.json` holds.
    pub fn finish(
        self,
        scenario: &crate::experiment::scenario::Scenario,
        manifest: &Manifest,
        elapsed: Duration,
        partial: bool,
        target: Option<TargetOutcome>,
    ) -> io::Result<RunSummary> {
        let mut endings = Endings::default();
        self.endings.iter().for_each(|e| endings.add(*e));
        endings.interrupted += self.left_out;
        let summary = RunSummary {
            scenario: scenario.name.clone(),
            model: self.info.name.to_string(),
            seed: scenario.seed(),
            replications: self.endings.len() as u64,
            partial,
            elapsed_seconds: elapsed.as_secs_f64(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            confidence: self.confidence,
            metrics: self.summaries(),
            endings,
            target,
            slice: self.slice,
            sweep: None,
            declared: scenario.declared(),
            manifest: manifest.record(scenario.run.shards, None, elapsed, self.compute_seconds),
            files: BTreeMap::new(),
        };
        let mut summary = summary;
        let files = &mut summary.files;
        let dir = &self.dir;
        files.insert(
            ResultDir::REPLICATIONS.into(),
            commit_csv(self.replications_csv)?,
        );
        files.insert(ResultDir::STEPS.into(), commit_csv(self.steps_csv)?);
        let own = tidy::Source {
            variant: None,
            parameters: Vec::new(),
            dir: dir.clone(),
        };
        files.insert(ResultDir::RESULTS.into(), tidy::write(dir, &[], &[own])?);
        let engine = self.engine.named();
        for (name, h) in self.histograms.iter().map(|(n, h)| (*n, h)).chain(engine) {
            let rel = ResultDir::histogram_file(name);
            files.insert(rel.clone(), dir.write_file(&rel, &hlog_bytes(name, h)?)?);
        }
        files.insert(ResultDir::DETAILS.into(), self.details.finish()?);
        files.insert(
            ResultDir::SCENARIO.into(),
            dir.write_file(ResultDir::SCENARIO, scenario.resolved_toml().as_bytes())?,
        );
        dir.write_json(ResultDir::SUMMARY, &summary)?;
        dir.mark_complete()?;
        Ok(summary)
    }
}

fn csv_writer(f: AtomicFile) -> csv::Writer<AtomicFile> {
    csv::WriterBuilder::new().from_writer(f)
}

fn commit_csv(w: csv::Writer<AtomicFile>) -> io::Result<FileRecord> {
    w.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?
        .commit()
}

impl Sink for RunWriter {
    fn replication(&mut self, r: Replication) -> io::Result<()> {
        if r.ending == Ending::Interrupted && !self.keep_interrupted {
            self.left_out += 1;
            return Ok(());
        }
        let row = ReplicationRow {
            replication: r.index,
            seed: r.seed,
            ending: r.ending,
            steps: r.steps.len(),
            metrics: r.metrics,
        };
        self.replications_csv
            .write_record(ReplicationsTable::record(&row))?;
        let (index, steps_csv) = (r.index.to_string(), &mut self.steps_csv);
        r.steps.for_each(|step| {
            steps_csv.write_field(&index)?;
            steps_csv.write_record(step.csv_record())?;
            Ok(())
        })?;
        for (vals, v) in self.values.iter_mut().zip(&row.metrics) {
            vals.push(*v);
        }
        self.endings.push(r.ending);
        if self.histograms.is_empty() {
            self.histograms = r.histograms;
        } else {
            for ((_, acc), (_, h)) in self.histograms.iter_mut().zip(&r.histograms) {
                acc.add(h).map_err(|e| io::Error::other(format!("{e:?}")))?;
            }
        }
        self.engine.merge(&r.engine);
        self.details.push(
            &json!({ "replication": r.index, "seed": r.seed.to_string(), "details": r.details }),
        )?;
        self.compute_seconds += r.elapsed.as_secs_f64();
        Ok(())
    }
}

/// Writes `value` as pretty JSON (two-space indentation, a final newline), atomically.
pub fn write_json<T: serde::Serialize>(dest: &Path, value: &T) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)? + "\n";
    write_atomic(dest, text.as_bytes())
}

/// JSON with two-space indentation and a final newline.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values serialise") + "\n"
}

/// Writes `h` as an HdrHistogram interval log with one interval, readable by the standard
/// `HistogramLogProcessor` and by this crate's `IntervalLogIterator`.
pub fn write_hlog(dest: &Path, name: &str, h: &Histogram<u64>) -> io::Result<()> {
    write_atomic(dest, &hlog_bytes(name, h)?)
}

/// `h` as an HdrHistogram interval log with one interval (what [`write_hlog`] writes).
pub fn hlog_bytes(name: &str, h: &Histogram<u64>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(&format!("microsim {}: {name}", env!("CARGO_PKG_VERSION")))
            .with_base_time(std::time::UNIX_EPOCH)
            .begin_log_with(&mut buf, &mut serializer)?;
        log.write_histogram(h, Duration::ZERO, Duration::from_secs(1), Tag::new(name))
            .map_err(|e| io::Error::other(format!("cannot encode histogram {name}: {e:?}")))?;
    }
    Ok(buf)
}

/// The most bytes of a histogram log read (a log of one interval is a few kilobytes).
pub const MAX_HLOG_BYTES: u64 = 256 << 20;

/// Reads an HdrHistogram interval log and adds up its intervals.
pub fn read_hlog(path: &Path) -> Result<Histogram<u64>, String> {
    use base64::Engine as _;
    let bytes =
        safe_fs::read_bounded(path, MAX_HLOG_BYTES).map_err(|e| format!("cannot read: {e}"))?;
    let mut total: Option<Histogram<u64>> = None;
    let mut de = hdrhistogram::serialization::Deserializer::new();
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

/// Now, as RFC 3339 UTC (`2026-11-22T01:49:59Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn an_abandoned_atomic_file_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create(&tmp.path().join("x.csv")).unwrap();
        f.write_all(b"a,b\n").unwrap();
        drop(f);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_streamed_json_array_is_the_pretty_array_byte_for_byte() {
        let elements = [
            json!({ "replication": 0, "seed": 17, "details": {
                "winner_ids": [1, 2, 3], "empty": [], "nothing": {}, "x": 1.5,
                "note": "a \"quoted\"\nline\tand \\ more", "nested": [[1, [2, {"a": []}]], {"b": null}],
            }}),
            json!({ "replication": 1, "seed": 18, "details": null }),
            json!([]),
            json!("text"),
            json!(3),
            json!({}),
        ];
        let tmp = tempfile::tempdir().unwrap();
        for n in 0..=elements.len() {
            let dest = tmp.path().join(format!("d{n}.json"));
            let mut w = JsonArrayWriter::create(AtomicFile::create(&dest).unwrap());
            for e in &elements[..n] {
                w.push(e).unwrap();
            }
            w.finish().unwrap();
            let want = pretty(&Value::Array(elements[..n].to_vec()));
            assert_eq!(fs::read_to_string(&dest).unwrap(), want, "{n} elements");
        }
    }

    #[test]
    fn atomic_files_appear_only_when_committed() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("x.csv");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"a,b\n").unwrap();
        assert!(!dest.exists());
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&dest).unwrap(), "a,b\n");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn hlogs_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let mut h = crate::engine::stats::histogram(1000);
        h.record_n(7, 3).unwrap();
        let p = tmp.path().join("h.hlog");
        write_hlog(&p, "h", &h).unwrap();
        let bytes = fs::read(&p).unwrap();
        let entries: Vec<_> =
            hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&bytes).collect();
        assert!(entries.iter().any(|e| matches!(
            e,
            Ok(hdrhistogram::serialization::interval_log::LogEntry::Interval(_))
        )));
    }
}
