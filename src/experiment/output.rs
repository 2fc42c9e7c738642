//! Writing the result directory ([`crate::results`] has its names and types),
//! so that nothing is ever half-written.
//!
//! | file | what |
//! |---|---|
//! | `scenario.toml` | the resolved scenario: running it again reproduces the results |
//! | `summary.json` | per metric: mean, std, ci95, ci, min, p5, p50, p95, max; the run's manifest |
//! | `replications.csv` | one row per replication: replication, seed, ending, metrics |
//! | `steps.csv` | one row per step of every replication |
//! | `details.json` | each replication's model details (e.g. the winners' ids) |
//! | `histograms/*.hlog` | HdrHistogram interval logs (one interval, all replications merged) |
//!
//! Every file is written to a hidden temporary name in the same directory and renamed into
//! place when complete, so an interrupted or killed run leaves either the whole file or none.
//! Columns and values that are deterministic come out as the same bytes for the same seed at
//! any thread and shard count; wall times, the manifest and `messages_local/cross` (which
//! depend on the shard count) are the exceptions, and are documented as such.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine::scheduler::Ending;
use crate::engine::stats::{EngineHistograms, StepRow};
use crate::experiment::montecarlo::{Replication, Sink};
use crate::experiment::params::ModelInfo;
use crate::experiment::results::{
    Declared, Endings, QuantityInfo, ReplicationRow, ReplicationsTable, ResultDir, RunManifest,
    RunSummary, TargetOutcome,
};
use crate::experiment::stats::Summary;

/// A file being written under a temporary name, renamed into place by [`AtomicFile::commit`].
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    out: BufWriter<File>,
}

impl AtomicFile {
    /// Starts writing `dest`.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        let out = BufWriter::new(File::create(&tmp)?);
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            out,
        })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        fs::rename(&self.tmp, &self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Picks the result directory: `base` if it is new or empty (or `force`), else the first free
/// `base-2`, `base-3`, … so an earlier result is never silently overwritten.
pub fn choose_dir(base: &Path, force: bool) -> io::Result<PathBuf> {
    let free = |p: &Path| -> io::Result<bool> {
        match fs::read_dir(p) {
            Ok(mut entries) => Ok(entries.next().is_none()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(e),
        }
    };
    if force || free(base)? {
        return Ok(base.to_path_buf());
    }
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    for i in 2.. {
        let candidate = base.with_file_name(format!("{name}-{i}"));
        if free(&candidate)? {
            return Ok(candidate);
        }
    }
    unreachable!("some numbered directory is free")
}

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
            host_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads: self.threads,
            shards,
            variants,
            started_at: self.started_at.clone(),
            elapsed_seconds: elapsed.as_secs_f64(),
            replication_seconds_total: replication_seconds,
            memory_estimate_bytes: self.memory_estimate_bytes,
            peak_rss_bytes: peak_rss_bytes(),
        }
    }
}

/// The process's peak resident memory so far (`VmHWM`), where the OS reports it (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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
    details: Vec<Value>,
    compute_seconds: f64,
}

impl RunWriter {
    /// Creates `dir` (and `dir/histograms`) and starts the streamed files for a model that
    /// declares `info`, with intervals at `confidence`.
    pub fn create(dir: &Path, info: ModelInfo, confidence: f64) -> io::Result<Self> {
        let dir = ResultDir::new(dir);
        fs::create_dir_all(dir.file(ResultDir::HISTOGRAMS))?;
        let metrics: Vec<&str> = info.metrics.iter().map(|q| q.name).collect();
        let counters: Vec<&str> = info.counters.iter().map(|q| q.name).collect();
        let mut replications_csv =
            csv_writer(AtomicFile::create(&dir.file(ResultDir::REPLICATIONS))?);
        replications_csv.write_record(ReplicationsTable::header(&metrics))?;
        let mut steps_csv = csv_writer(AtomicFile::create(&dir.file(ResultDir::STEPS))?);
        let mut header = vec!["replication".to_string()];
        header.extend(StepRow::csv_header(&counters));
        steps_csv.write_record(header)?;
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
            details: Vec::new(),
            compute_seconds: 0.0,
        })
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
                let summary = Summary::at(&kept, self.confidence);
                (!kept.is_empty()).then(|| (q.name.to_string(), summary))
            })
            .collect()
    }

    /// Each metric's values, one per replication in order.
    pub fn values(&self) -> &[Vec<f64>] {
        &self.values
    }

    /// Completes every file and returns what `summary.json` holds.
    pub fn finish(
        mut self,
        scenario: &crate::experiment::scenario::Scenario,
        manifest: &Manifest,
        elapsed: Duration,
        partial: bool,
        target: Option<TargetOutcome>,
    ) -> io::Result<RunSummary> {
        let mut endings = Endings::default();
        self.endings.iter().for_each(|e| endings.add(*e));
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
            sweep: None,
            declared: declared(&self.info),
            manifest: manifest.record(scenario.run.shards, None, elapsed, self.compute_seconds),
        };
        commit_csv(self.replications_csv)?;
        commit_csv(self.steps_csv)?;
        for (name, h) in &self.histograms {
            write_hlog(&self.dir.histogram(name), name, h)?;
        }
        for (name, h) in self.engine.named() {
            write_hlog(&self.dir.histogram(name), name, h)?;
        }
        write_atomic(
            &self.dir.file(ResultDir::DETAILS),
            pretty(&Value::Array(std::mem::take(&mut self.details))).as_bytes(),
        )?;
        write_atomic(
            &self.dir.file(ResultDir::SCENARIO),
            scenario.resolved_toml().as_bytes(),
        )?;
        write_json(&self.dir.file(ResultDir::SUMMARY), &summary)?;
        Ok(summary)
    }
}

/// What `info` declares, for `summary.json`.
pub fn declared(info: &ModelInfo) -> Declared {
    Declared {
        metrics: info.metrics.iter().map(QuantityInfo::from).collect(),
        counters: info.counters.iter().map(QuantityInfo::from).collect(),
        histograms: info.histograms.iter().map(QuantityInfo::from).collect(),
    }
}

fn csv_writer(f: AtomicFile) -> csv::Writer<AtomicFile> {
    csv::WriterBuilder::new().from_writer(f)
}

fn commit_csv(w: csv::Writer<AtomicFile>) -> io::Result<()> {
    w.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?
        .commit()
}

impl Sink for RunWriter {
    fn replication(&mut self, r: Replication) -> io::Result<()> {
        let row = ReplicationRow {
            replication: r.index,
            seed: r.seed,
            ending: r.ending,
            steps: r.steps.len() as u64,
            metrics: r.metrics,
        };
        self.replications_csv
            .write_record(ReplicationsTable::record(&row))?;
        for step in &r.steps {
            let mut record = vec![r.index.to_string()];
            record.extend(step.csv_record());
            self.steps_csv.write_record(record)?;
        }
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
        self.details
            .push(json!({ "replication": r.index, "seed": r.seed, "details": r.details }));
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
    write_atomic(dest, &buf)
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

    #[test]
    fn an_existing_result_is_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("run");
        assert_eq!(choose_dir(&base, false).unwrap(), base);
        fs::create_dir_all(&base).unwrap();
        fs::write(base.join("summary.json"), "{}").unwrap();
        assert_eq!(choose_dir(&base, false).unwrap(), tmp.path().join("run-2"));
        assert_eq!(choose_dir(&base, true).unwrap(), base);
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
