//! What the live view shows, kept up to date by the run at next to no cost.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use super::Progress;
use crate::engine::quantity::Support;
use crate::engine::stats::StepRow;
use crate::experiment::numbers::{estimate, table_number};
use crate::experiment::output::partial_pid;
use crate::experiment::results::{ReplicationsTable, ResultDir, RunSummary, StepsTable};
use crate::experiment::stats::interval::interval;
use crate::experiment::stats::{Moments, t_quantile};

/// The step series follows one replication at a time, every step of it; once that one has
/// ended, the next replication to step is followed, at most this often (nanoseconds).
const SWITCH_EVERY_NS: u64 = 200_000_000;
/// The most points of the step series; past it, every other one is dropped.
const MAX_POINTS: usize = 600;
/// The most points of a metric's running mean; past it, every other one is dropped.
const MAX_BAND: usize = 200;
/// The values of a metric kept for its histogram (a uniform sample of all so far).
const MAX_SAMPLE: usize = 2_000;
/// Bins of a metric's histogram.
const BINS: usize = 30;

/// The state of a run as the live view shows it. Fed through [`Progress`]; read with
/// [`Board::render`].
pub struct Board {
    scenario: String,
    model: String,
    metrics: Vec<String>,
    about: About,
    /// The run's interrupt flag, which the page's Stop button sets (`run --serve` only).
    stop: Option<&'static AtomicBool>,
    /// Replications planned (over all variants).
    planned: u64,
    dir: PathBuf,
    started: Instant,
    steps: AtomicU64,
    replications: AtomicU64,
    /// Bumped on every change worth showing.
    version: AtomicU64,
    /// The replication the step series follows, plus one (0: none yet).
    following: AtomicU64,
    /// Whether it has ended (the series may move on).
    followed_done: AtomicBool,
    last_switch: AtomicU64,
    finished: AtomicBool,
    inner: Mutex<Inner>,
}

/// What the page says of the run besides its progress: the seed, the model's parameters, the
/// scenario file, and how its intervals are found (the run's confidence level, each metric's
/// range).
#[derive(Clone, Debug)]
pub struct About {
    /// The scenario seed, as text.
    pub seed: String,
    /// The `[model]` table's fields and values, as the resolved scenario has them.
    pub parameters: Vec<(String, String)>,
    /// The scenario file's path.
    pub file: String,
    /// The level of the intervals (`[montecarlo] confidence`).
    pub confidence: f64,
    /// Each metric's range, in the order of the metrics (missing: any number).
    pub supports: Vec<Support>,
}

impl Default for About {
    fn default() -> Self {
        About {
            seed: String::new(),
            parameters: Vec::new(),
            file: String::new(),
            confidence: 0.95,
            supports: Vec::new(),
        }
    }
}

impl About {
    /// What a scenario says of itself.
    pub fn of(s: &crate::experiment::scenario::Scenario) -> Self {
        About {
            seed: s.seed().to_string(),
            parameters: model_table(s.resolved_toml()),
            file: s.path.display().to_string(),
            confidence: s.montecarlo.confidence,
            supports: s.model_info().metrics.iter().map(|q| q.support).collect(),
        }
    }

    /// What a result directory's summary says of its run.
    fn of_summary(summary: &RunSummary, toml_text: Option<&str>, file: &Path) -> Self {
        About {
            seed: summary.seed.to_string(),
            parameters: toml_text.map(model_table).unwrap_or_default(),
            file: file.display().to_string(),
            confidence: summary.confidence,
            supports: summary
                .metric_names()
                .iter()
                .map(|m| {
                    summary
                        .declared_metric(m)
                        .map_or(Support::Any, |q| q.support)
                })
                .collect(),
        }
    }
}

/// The `[model]` table of a scenario's TOML, each field as `name = value` text.
fn model_table(text: &str) -> Vec<(String, String)> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    doc.get("model")
        .and_then(|m| m.as_table())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
        .unwrap_or_default()
}

#[derive(Default)]
struct Inner {
    /// The replication whose steps are shown (the newest one seen).
    series_of: Option<u64>,
    series: Vec<[f64; 5]>,
    tracks: Vec<Track>,
    variants: Vec<VariantRow>,
    partial: bool,
    /// Known when the run is not fed step by step (a result directory).
    elapsed: Option<f64>,
}

/// A metric over the replications so far: Welford's running mean and variance, the running
/// mean sampled for the band, a uniform sample of the values for the histogram.
#[derive(Clone)]
struct Track {
    n: u64,
    mean: f64,
    m2: f64,
    band: Vec<[f64; 3]>,
    /// A band point is taken every `every` replications (doubled when the band is thinned).
    every: u64,
    sample: Vec<f64>,
    /// Whether some value was neither 0 nor 1 (a 0/1 outcome gets the exact binomial
    /// interval).
    not_binary: bool,
    /// The interval's level.
    confidence: f64,
    /// The metric's range, which its interval respects.
    support: Support,
}

struct VariantRow {
    variant: u64,
    parameters: String,
    means: Option<Vec<f64>>,
}

impl Default for Track {
    fn default() -> Self {
        Track {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            band: Vec::new(),
            every: 0,
            sample: Vec::new(),
            not_binary: false,
            confidence: 0.95,
            support: Support::Any,
        }
    }
}

impl Track {
    fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.n += 1;
        self.not_binary |= v != 0.0 && v != 1.0;
        let d = v - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (v - self.mean);
        if self.sample.len() < MAX_SAMPLE {
            self.sample.push(v);
        } else {
            // A uniform sample of all the values so far (reservoir sampling).
            let j = (crate::engine::rng::mix(self.n) % self.n) as usize;
            if j < MAX_SAMPLE {
                self.sample[j] = v;
            }
        }
        self.every = self.every.max(1);
        if self.n.is_multiple_of(self.every) {
            self.band
                .push([self.n as f64, self.mean, self.half_width()]);
            if self.band.len() > MAX_BAND {
                let kept: Vec<[f64; 3]> = self.band.iter().skip(1).step_by(2).copied().collect();
                self.band = kept;
                self.every *= 2;
            }
        }
    }

    /// The half width of the Student t interval of the mean at the run's confidence (the
    /// band of the running mean).
    fn half_width(&self) -> f64 {
        if self.n < 2 {
            return f64::NAN;
        }
        let sd = (self.m2 / (self.n - 1) as f64).sqrt();
        t_quantile(self.confidence, (self.n - 1) as f64) * sd / (self.n as f64).sqrt()
    }

    fn moments(&self) -> Moments {
        Moments {
            n: self.n,
            mean: self.mean,
            std: (self.n > 1).then(|| (self.m2 / (self.n - 1) as f64).sqrt()),
            binary: !self.not_binary,
        }
    }

    /// The mean and its interval as the terminal and `report.html` show them: the interval
    /// respecting the metric's range, every part to the precision the interval supports.
    fn shown(&self) -> Value {
        let i = interval(&self.moments(), self.support, self.confidence);
        let e = estimate(self.mean, i.map(|i| i.ends()));
        json!({
            "mean": e.mean,
            "interval": e.interval,
            "mark": i.map_or("", |i| i.method.mark()),
            "method": i.map(|i| i.method.about()),
        })
    }

    fn render(&self, name: &str) -> Value {
        let (lo, hi) = self
            .sample
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let mut counts = vec![0u64; BINS];
        if lo.is_finite() {
            let width = (hi - lo).max(f64::MIN_POSITIVE);
            for v in &self.sample {
                let b = (((v - lo) / width) * BINS as f64) as usize;
                counts[b.min(BINS - 1)] += 1;
            }
        }
        json!({
            "name": name,
            "n": self.n,
            "mean": num(self.mean),
            "half_width": num(self.half_width()),
            "shown": self.shown(),
            "band": self.band.iter().map(|p| [num(p[0]), num(p[1]), num(p[2])]).collect::<Vec<_>>(),
            "histogram": { "lo": num(lo), "hi": num(hi), "counts": counts },
        })
    }
}

/// A number for JSON (NaN and infinities are `null`).
fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

impl Board {
    /// A board for a run of `scenario` (model `model`, these metrics) of `planned`
    /// replications, writing into `dir`.
    pub fn new(scenario: &str, model: &str, metrics: &[&str], planned: u64, dir: &Path) -> Self {
        Board {
            scenario: scenario.to_string(),
            model: model.to_string(),
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            about: About::default(),
            stop: None,
            planned,
            dir: dir.to_path_buf(),
            started: Instant::now(),
            steps: AtomicU64::new(0),
            replications: AtomicU64::new(0),
            version: AtomicU64::new(0),
            following: AtomicU64::new(0),
            followed_done: AtomicBool::new(false),
            last_switch: AtomicU64::new(0),
            finished: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                tracks: vec![Track::default(); metrics.len()],
                ..Inner::default()
            }),
        }
        .about(About::default())
    }

    /// The board with what the page says of the run (its intervals at `about.confidence`,
    /// each respecting its metric's range).
    pub fn about(mut self, about: About) -> Self {
        let fresh = self.fresh_tracks_of(&about);
        self.inner
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .tracks = fresh;
        self.about = about;
        self
    }

    /// The board of a run that the page may stop, by setting `flag` (what Ctrl-C sets).
    pub fn stoppable(mut self, flag: &'static AtomicBool) -> Self {
        self.stop = Some(flag);
        self
    }

    /// The flag the page's Stop button sets, if it may stop the run.
    pub fn stop_flag(&self) -> Option<&'static AtomicBool> {
        self.stop
    }

    fn fresh_tracks_of(&self, about: &About) -> Vec<Track> {
        (0..self.metrics.len())
            .map(|k| Track {
                confidence: about.confidence,
                support: about.supports.get(k).copied().unwrap_or_default(),
                ..Track::default()
            })
            .collect()
    }

    /// The result directory the board's files come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A number that changes whenever the state does.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }

    /// The run ended (`partial`: interrupted).
    pub fn finish(&self, partial: bool) {
        self.lock().partial = partial;
        self.finished.store(true, Ordering::Relaxed);
        self.bump();
    }

    fn bump(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state as JSON (what `/state` and `/events` send).
    pub fn render(&self) -> String {
        let inner = self.lock();
        let elapsed = inner
            .elapsed
            .unwrap_or_else(|| self.started.elapsed().as_secs_f64());
        let done = self.replications.load(Ordering::Relaxed);
        let finished = self.is_finished();
        let eta = (!finished && done > 0 && self.planned > done)
            .then(|| elapsed / done as f64 * (self.planned - done) as f64);
        let report = self.dir.join(ResultDir::REPORT).exists();
        let state = json!({
            "scenario": self.scenario,
            "model": self.model,
            "seed": self.about.seed,
            "parameters": self.about.parameters,
            "file": self.about.file,
            "confidence": self.about.confidence,
            "can_stop": self.stop.is_some() && !finished,
            "elapsed_s": elapsed,
            "eta_s": eta,
            "steps_done": self.steps.load(Ordering::Relaxed),
            "replications": { "done": done, "planned": self.planned },
            "series": {
                "replication": inner.series_of,
                "columns": ["step", "tasks_alive", "messages", "wall_ms", "slowest_shard_ms"],
                "points": inner.series,
            },
            "metrics": inner
                .tracks
                .iter()
                .zip(&self.metrics)
                .map(|(t, name)| t.render(name))
                .collect::<Vec<_>>(),
            "variants": inner.variants.iter().map(|v| json!({
                "variant": v.variant,
                "parameters": v.parameters,
                "means": v.means.as_ref().map(|m| m.iter().map(|x| num(*x)).collect::<Vec<_>>()),
                "shown": v.means.as_ref().map(|m| m.iter().map(|x| table_number(*x)).collect::<Vec<_>>()),
            })).collect::<Vec<_>>(),
            "finished": finished.then(|| json!({
                "partial": inner.partial,
                "report": report.then_some("/files/report.html"),
            })),
        });
        state.to_string()
    }

    /// A board showing the result directory `dir` as it is now (finished, or still being
    /// written: then its temporary files are read as far as they go).
    pub fn from_dir(dir: &Path) -> Self {
        let rd = ResultDir::new(dir);
        let summary: Option<Value> = crate::experiment::safe_fs::read_bounded(
            &rd.file(ResultDir::SUMMARY),
            crate::experiment::results::MAX_JSON_BYTES,
        )
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
        let name = |key: &str| {
            summary
                .as_ref()
                .and_then(|s| s[key].as_str().map(String::from))
        };
        let scenario = name("scenario").unwrap_or_else(|| {
            dir.file_name()
                .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned())
        });
        let model = name("model").unwrap_or_default();
        // A sweep shows the variant written last (the one under way, or at the end the last
        // one) and counts the replications of all.
        let variant_dirs = variant_dirs(dir);
        let shown = variant_dirs.last().map_or(dir, PathBuf::as_path);
        let table = newest(shown, ResultDir::REPLICATIONS)
            .and_then(|p| ReplicationsTable::read(&p).ok())
            .unwrap_or_default();
        let mut done = table.rows.len() as u64;
        for v in variant_dirs.iter().rev().skip(1) {
            done += newest(v, ResultDir::REPLICATIONS)
                .and_then(|p| ReplicationsTable::read(&p).ok())
                .map_or(0, |t| t.rows.len() as u64);
        }
        let metrics: Vec<&str> = table.metrics.iter().map(String::as_str).collect();
        let variants_planned = summary
            .as_ref()
            .and_then(|s| s["sweep"]["variants"].as_array().map(|v| v.len() as u64))
            .unwrap_or(1);
        let planned = summary
            .as_ref()
            .and_then(|s| s["replications"].as_u64())
            .map_or(done, |r| r * variants_planned);
        let typed: Option<RunSummary> = summary
            .as_ref()
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        let about = typed.as_ref().map_or_else(About::default, |s| {
            let text = std::fs::read_to_string(rd.file(ResultDir::SCENARIO)).ok();
            About::of_summary(s, text.as_deref(), &rd.file(ResultDir::SCENARIO))
        });
        let board = Board::new(&scenario, &model, &metrics, planned, dir).about(about);
        {
            let mut inner = board.lock();
            for row in &table.rows {
                for (t, v) in inner.tracks.iter_mut().zip(&row.metrics) {
                    t.add(*v);
                }
            }
            if let Some(steps) = newest(shown, ResultDir::STEPS)
                .and_then(|p| StepsTable::read(&p).ok())
                .filter(|t| !t.reps.is_empty())
            {
                let cols = [
                    "step",
                    "tasks_alive",
                    "messages_local",
                    "messages_cross",
                    "wall_ms",
                ];
                let at: Vec<Option<usize>> = cols.iter().map(|c| steps.col(c)).collect();
                let max = steps.col("shard_ms_max");
                let (rep, rows) = steps.reps.last().expect("not empty");
                inner.series_of = Some(*rep);
                for r in rows {
                    let get = |i: Option<usize>| i.and_then(|i| r.get(i).copied()).unwrap_or(0.0);
                    inner.series.push([
                        get(at[0]),
                        get(at[1]),
                        get(at[2]) + get(at[3]),
                        get(at[4]),
                        get(max),
                    ]);
                }
                thin(&mut inner.series);
                board.steps.store(
                    steps.reps.iter().map(|r| r.1.len() as u64).sum(),
                    Ordering::Relaxed,
                );
            }
            if let Some(sweep) = summary
                .as_ref()
                .and_then(|s| s["sweep"]["variants"].as_array())
            {
                for v in sweep {
                    inner.variants.push(VariantRow {
                        variant: v["variant"].as_u64().unwrap_or(0),
                        parameters: v["parameters"]
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(k, x)| format!("{k} = {x}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default(),
                        means: Some(
                            board
                                .metrics
                                .iter()
                                .map(|m| v["metrics"][m]["mean"].as_f64().unwrap_or(f64::NAN))
                                .collect(),
                        ),
                    });
                }
            }
            inner.elapsed = summary.as_ref().and_then(|s| s["elapsed_seconds"].as_f64());
            inner.partial = summary
                .as_ref()
                .is_some_and(|s| s["partial"].as_bool() == Some(true));
        }
        board.replications.store(done, Ordering::Relaxed);
        if summary.is_some() && rd.is_incomplete().is_none() {
            board.finished.store(true, Ordering::Relaxed);
        }
        board
    }
}

/// A sweep's variant directories (`variants/NNN`), in order; none for a run that is not a
/// sweep.
fn variant_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(ResultDir::VARIANTS)) else {
        return Vec::new();
    };
    let mut dirs: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse::<u64>().ok()?;
            e.file_type().ok()?.is_dir().then(|| (n, e.path()))
        })
        .collect();
    dirs.sort();
    dirs.into_iter().map(|(_, p)| p).collect()
}

/// `name` in `dir`, or while it is being written, the newest of its temporary files.
fn newest(dir: &Path, name: &str) -> Option<PathBuf> {
    let done = dir.join(name);
    if done.exists() {
        return Some(done);
    }
    let prefix = format!(".{name}.");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && partial_pid(&n).is_some()
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// Drops every other point once there are too many.
fn thin(series: &mut Vec<[f64; 5]>) {
    while series.len() > MAX_POINTS {
        let kept: Vec<[f64; 5]> = series.iter().step_by(2).copied().collect();
        *series = kept;
    }
}

impl Progress for Board {
    fn step(&self, replication: u64, row: &StepRow) {
        self.steps.fetch_add(1, Ordering::Relaxed);
        let me = replication + 1;
        let followed = self.following.load(Ordering::Relaxed);
        if followed != me {
            // Another replication is followed: move on only once it has ended, and not more
            // often than every SWITCH_EVERY_NS (a run of many short replications).
            let free = followed == 0 || self.followed_done.load(Ordering::Relaxed);
            let now = self.started.elapsed().as_nanos() as u64;
            let last = self.last_switch.load(Ordering::Relaxed);
            if !free
                || (followed != 0 && now.saturating_sub(last) < SWITCH_EVERY_NS)
                || self
                    .following
                    .compare_exchange(followed, me, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                return;
            }
            self.last_switch.store(now, Ordering::Relaxed);
            self.followed_done.store(false, Ordering::Relaxed);
        }
        let mut inner = self.lock();
        if inner.series_of != Some(replication) {
            if followed == me {
                return; // a switch away from this replication happened meanwhile
            }
            inner.series_of = Some(replication);
            inner.series.clear();
        }
        inner.series.push([
            row.step as f64,
            row.tasks_alive as f64,
            (row.messages_local + row.messages_cross) as f64,
            row.wall_ns as f64 / 1e6,
            row.shard_ns_max as f64 / 1e6,
        ]);
        if inner.series.len() > MAX_POINTS {
            thin(&mut inner.series);
        }
        drop(inner);
        self.bump();
    }

    fn replication_done(&self, replication: u64) {
        if self.following.load(Ordering::Relaxed) == replication + 1 {
            self.followed_done.store(true, Ordering::Relaxed);
        }
        self.replications.fetch_add(1, Ordering::Relaxed);
        self.bump();
    }
    fn metrics(&self, _replication: u64, values: &[f64]) {
        let mut inner = self.lock();
        for (t, v) in inner.tracks.iter_mut().zip(values) {
            t.add(*v);
        }
        drop(inner);
        self.bump();
    }

    fn variant(&self, variant: u64, parameters: &str) {
        let mut inner = self.lock();
        inner.variants.push(VariantRow {
            variant,
            parameters: parameters.to_string(),
            means: None,
        });
        // The page follows the variant under way.
        inner.tracks = self.fresh_tracks_of(&self.about);
        drop(inner);
        self.bump();
    }

    fn variant_done(&self, variant: u64, means: &[f64]) {
        let mut inner = self.lock();
        if let Some(v) = inner.variants.iter_mut().find(|v| v.variant == variant) {
            v.means = Some(means.to_vec());
        }
        drop(inner);
        self.bump();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_keeps_the_running_mean_and_a_bounded_band() {
        let mut t = Track::default();
        for i in 0..10_000 {
            t.add((i % 10) as f64);
        }
        assert_eq!(t.n, 10_000);
        assert!((t.mean - 4.5).abs() < 1e-9);
        assert!(t.band.len() <= MAX_BAND);
        let sd = (t.m2 / 9999.0).sqrt();
        assert!((sd - 2.8724).abs() < 1e-3, "{sd}");
        t.add(f64::NAN);
        assert_eq!(t.n, 10_000, "NaN is not counted");
    }

    #[test]
    fn the_state_is_json_with_what_the_page_reads() {
        let b = Board::new("s", "m", &["a", "b"], 10, Path::new("/nonexistent"));
        b.metrics(0, &[1.0, 2.0]);
        b.replication_done(0);
        let v: Value = serde_json::from_str(&b.render()).unwrap();
        assert_eq!(v["replications"]["done"], 1);
        assert_eq!(v["metrics"][1]["name"], "b");
        assert_eq!(v["metrics"][1]["mean"], 2.0);
        assert!(v["finished"].is_null());
        b.finish(false);
        let v: Value = serde_json::from_str(&b.render()).unwrap();
        assert_eq!(v["finished"]["partial"], false);
        assert!(v["finished"]["report"].is_null(), "no report.html there");
    }

    #[test]
    fn the_page_shows_intervals_as_the_terminal_does() {
        let about = About {
            seed: "7".into(),
            confidence: 0.9,
            supports: vec![Support::Count, Support::Any],
            ..About::default()
        };
        let b = Board::new("s", "m", &["rare", "x"], 10, Path::new("/nonexistent")).about(about);
        for (i, v) in [0.0, 0.0, 1.0, 0.0, 0.0].into_iter().enumerate() {
            b.metrics(i as u64, &[v, 10.0 + i as f64]);
        }
        let v: Value = serde_json::from_str(&b.render()).unwrap();
        assert_eq!(v["seed"], "7");
        let rare = &v["metrics"][0]["shown"];
        assert_eq!(
            rare["mark"], "†",
            "a rare count: the exact Poisson interval {rare}"
        );
        assert!(
            !rare["interval"][0].as_str().unwrap().starts_with('-'),
            "{rare}"
        );
        // Student t at the run's 90%, not a normal 95% band: 12 ± t(0.95, 4) · s / √5.
        let x = &v["metrics"][1];
        let half = x["half_width"].as_f64().unwrap();
        let want = 2.131_846_786 * (2.5f64).sqrt() / 5f64.sqrt();
        assert!((half - want).abs() < 1e-6, "{half} vs {want}");
        assert_eq!(x["shown"]["mean"], "12.0");
    }

    #[test]
    fn sweep_variants_fill_in_and_each_starts_its_own_metrics() {
        let b = Board::new("s", "m", &["a"], 4, Path::new("/nonexistent"));
        b.variant(0, "model.x = 1");
        b.metrics(0, &[5.0]);
        b.variant_done(0, &[5.0]);
        b.variant(1, "model.x = 2");
        let v: Value = serde_json::from_str(&b.render()).unwrap();
        assert_eq!(v["variants"][0]["means"][0], 5.0);
        assert_eq!(v["variants"][1]["parameters"], "model.x = 2");
        assert!(v["variants"][1]["means"].is_null(), "still running");
        assert_eq!(
            v["metrics"][0]["n"], 0,
            "the page follows the variant under way"
        );
    }
}
