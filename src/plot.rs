//! Pictures of the results: plots and an HTML report drawn from a saved result directory.
//!
//! [`draw`] reads what `microsim run` wrote (`summary.json`, `replications.csv`, `steps.csv`,
//! `histograms/*.hlog`, and for a sweep `sweep.json`) and writes, in the same directory:
//!
//! | file | what |
//! |---|---|
//! | `plots/distribution_<metric>.{png,svg}` | histogram of a metric over replications, mean and its CI marked |
//! | `plots/cdf_<metric>.{png,svg}` | the metric's empirical CDF over replications |
//! | `plots/convergence_<metric>.{png,svg}` | running mean and its CI band as replications accumulate |
//! | `plots/histogram_<name>.{png,svg}` | a model histogram (`histograms/<name>.hlog`, all replications merged) |
//! | `plots/steps_{tasks,messages,time,counters}.{png,svg}` | step-level series from `steps.csv` |
//! | `plots/sweep_<metric>.{png,svg}` | a sweep: the metric against the swept parameter, CI error bars |
//! | `plots/plots.json` | the list of plots (file stem, kind, metric, title, formats) and the skipped ones |
//! | `report.html` | one self-contained page: summary, metrics table, sweep table, the plots |
//!
//! Every interval is at the run's confidence level (`confidence` in `summary.json`, 95% unless
//! the scenario chose another) and is labelled with it. Names and units come from what the
//! model declares (`declared` in `summary.json`): an axis reads `claims_denied (claims)`.
//!
//! Which plots are drawn depends on what the run has: a run of one replication gets no
//! across-replication plots, a constant metric gets none, a run of one step per replication gets
//! no step series. Each plot that is not drawn is listed in [`PlotReport::skipped`] with the
//! reason, and in the report. Drawing never panics and a plot that cannot be drawn never fails
//! the others; [`draw`] returns an error only when the directory is not a result directory (or
//! its run did not finish), the metric filter names nothing in it, or `plots/`, `plots.json`
//! or `report.html` cannot be written. An image that was drawn but could not be written (an
//! I/O error, e.g. a full disk) is listed in [`PlotReport::unwritten`] as well as in
//! [`PlotReport::skipped`], so that a caller can tell a failure to write from a plot that had
//! nothing to draw.
//!
//! Text is rendered with a bundled font (DejaVu Sans, `fonts/`), so no system font libraries
//! are needed; SVGs name `sans-serif` and are rendered by the viewer.

mod chart;
mod data;
mod figures;
mod report;
mod run;
mod text;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::experiment::output::write_json;
use crate::experiment::results::ResultDir;

pub use crate::experiment::numbers::{human, table_number};

/// The list of plots, in [`ResultDir::PLOTS`].
const PLOT_LIST: &str = "plots.json";

/// An image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// A 1000×600 PNG (what `report.html` shows).
    Png,
    /// An SVG of the same plot (vector; text is rendered by the viewer).
    Svg,
}

impl Format {
    /// Both formats, the default.
    pub const ALL: [Format; 2] = [Format::Png, Format::Svg];

    /// The file extension, also the name accepted by [`Format::from_str`].
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

impl FromStr for Format {
    type Err = PlotError;
    fn from_str(s: &str) -> Result<Self, PlotError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            other => Err(PlotError::Invalid(format!(
                "unknown plot format `{other}` (expected png or svg)"
            ))),
        }
    }
}

pub use crate::experiment::scenario::PlotKind;
pub use run::{MAX_VARIANT_PLOTS, RunPlots, draw_run};

/// What to draw.
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// Image formats to write (default: PNG and SVG). Empty means PNG and SVG too.
    pub formats: Vec<Format>,
    /// Draw only the plots of this metric (or model histogram); step series are not
    /// drawn when a metric is given.
    pub metric: Option<String>,
    /// Which kinds to draw; `None` draws every kind that applies to the run.
    pub kinds: Option<Vec<PlotKind>>,
    /// Write `report.html` (default true).
    pub report: bool,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            formats: Format::ALL.to_vec(),
            metric: None,
            kinds: None,
            report: true,
        }
    }
}

impl PlotOptions {
    fn wants(&self, kind: PlotKind) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }

    fn formats(&self) -> Vec<Format> {
        let mut f: Vec<Format> = if self.formats.is_empty() {
            Format::ALL.to_vec()
        } else {
            self.formats.clone()
        };
        f.sort();
        f.dedup();
        f
    }

    /// A draw of everything: files in `plots/` that it does not write are stale and removed.
    fn is_full(&self) -> bool {
        self.metric.is_none() && self.kinds.is_none()
    }
}

/// A plot that was not drawn, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// What would have been drawn (`distribution of winners`, `steps`, …).
    pub plot: String,
    /// Why it was not.
    pub reason: String,
}

/// What [`draw`] did.
#[derive(Clone, Debug, Default)]
pub struct PlotReport {
    /// The result directory.
    pub dir: PathBuf,
    /// Every image written, in report order.
    pub written: Vec<PathBuf>,
    /// Plots not drawn, with the reason.
    pub skipped: Vec<Skipped>,
    /// Plots that were drawn but whose image could not be written (an I/O error: the disk is
    /// full, a permission, a directory in the way); they are in `skipped` too. Unlike a plot
    /// with nothing to draw, this is a failure: the caller should say so.
    pub unwritten: Vec<Skipped>,
    /// `report.html`, if written.
    pub report: Option<PathBuf>,
}

/// Why [`draw`] could not draw at all.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The directory is missing or was not written by `microsim run`.
    #[error("{dir}: {why}\n  hint: give a result directory written by `microsim run`")]
    NotAResultDir {
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The metric filter names no metric or histogram of the run.
    #[error("no metric or histogram named `{name}` in this run (it has: {known})")]
    UnknownMetric {
        /// The name asked for.
        name: String,
        /// The names the run has.
        known: String,
    },
    /// A bad option value (format or kind name).
    #[error("{0}")]
    Invalid(String),
    /// A bug: drawing failed unexpectedly (the results themselves are untouched).
    #[error("drawing failed unexpectedly: {0}")]
    Internal(String),
    /// Writing `plots/` or `report.html` failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// One planned plot.
pub(crate) struct Planned {
    pub kind: PlotKind,
    /// The file name without extension (`distribution_winners`).
    pub stem: String,
    /// The metric or histogram name it is about, if any.
    pub metric: Option<String>,
    pub chart: chart::Chart,
}

/// One plot in `plots/plots.json`.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub kind: PlotKind,
    pub stem: String,
    pub metric: Option<String>,
    pub title: String,
    pub formats: Vec<Format>,
}

/// `plots/plots.json` (fields in the order the file has always had them).
#[derive(Serialize, Deserialize)]
struct PlotList {
    plots: Vec<ListedPlot>,
    scenario: String,
    skipped: Vec<ListedSkip>,
}

/// One plot in `plots/plots.json`.
#[derive(Serialize, Deserialize)]
struct ListedPlot {
    file: String,
    formats: Vec<String>,
    kind: String,
    metric: Option<String>,
    #[serde(default)]
    title: String,
}

/// One plot not drawn, in `plots/plots.json`.
#[derive(Serialize, Deserialize)]
struct ListedSkip {
    plot: String,
    reason: String,
}

impl Entry {
    fn listed(&self) -> ListedPlot {
        ListedPlot {
            file: self.stem.clone(),
            formats: self.formats.iter().map(|f| f.ext().to_string()).collect(),
            kind: self.kind.name().to_string(),
            metric: self.metric.clone(),
            title: self.title.clone(),
        }
    }

    fn from_listed(p: ListedPlot) -> Option<Entry> {
        Some(Entry {
            kind: p.kind.parse().ok()?,
            stem: p.file,
            metric: p.metric,
            title: p.title,
            formats: p.formats.iter().filter_map(|f| f.parse().ok()).collect(),
        })
    }
}

/// Draws the plots of the result directory `dir` into `dir/plots/` and writes
/// `dir/report.html`; see the [module documentation](self).
///
/// Call it after `microsim run` has written its results, or at any later time: it reads only
/// the saved files. It never panics; plots that cannot be drawn are skipped with a reason.
pub fn draw(dir: &Path, opts: &PlotOptions) -> Result<PlotReport, PlotError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| draw_inner(dir, opts))).unwrap_or_else(
        |panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(PlotError::Internal(msg))
        },
    )
}

fn draw_inner(dir: &Path, opts: &PlotOptions) -> Result<PlotReport, PlotError> {
    chart::register_fonts();
    let run = data::load(dir)?;
    if let Some(name) = &opts.metric {
        check_metric(&run, name)?;
    }
    let formats = opts.formats();
    let plots_dir = run.dir.file(ResultDir::PLOTS);
    // Created from a handle on the run's directory: a `plots` that is a link is refused.
    crate::experiment::safe_fs::Dir::open(run.dir.path())
        .and_then(|d| d.create_dir_all(Path::new(ResultDir::PLOTS)))
        .map_err(|source| PlotError::Io {
            path: plots_dir.clone(),
            source,
        })?;

    let (planned, mut skipped) = figures::plan(&run, opts);
    let mut unwritten = Vec::new();
    let (written, mut entries) =
        render_all(&planned, &formats, &plots_dir, &mut skipped, &mut unwritten);

    // Keep what an earlier, fuller draw left (a partial draw must not lose it); a full draw
    // removes images it did not write, so nothing stale from an earlier run stays behind.
    let list_path = plots_dir.join(PLOT_LIST);
    if opts.is_full() {
        remove_stale(&plots_dir, &written);
    } else {
        keep_earlier(&list_path, &plots_dir, &mut entries);
    }
    entries.sort_by_key(|e| (e.kind, figures::order_key(&run, e)));
    let list = PlotList {
        plots: entries.iter().map(Entry::listed).collect(),
        scenario: run.summary.scenario.clone(),
        skipped: skipped
            .iter()
            .map(|s| ListedSkip {
                plot: s.plot.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    };
    write_json(&list_path, &list).map_err(|source| PlotError::Io {
        path: list_path.clone(),
        source,
    })?;

    let report_path = if opts.report {
        let path = run.dir.file(ResultDir::REPORT);
        let html = report::html(&run, &entries, &skipped);
        crate::experiment::output::write_atomic(&path, html.as_bytes()).map_err(|source| {
            PlotError::Io {
                path: path.clone(),
                source,
            }
        })?;
        Some(path)
    } else {
        None
    };
    Ok(PlotReport {
        dir: dir.to_path_buf(),
        written,
        skipped,
        unwritten,
        report: report_path,
    })
}

/// Refuses a metric filter that names nothing in the run.
fn check_metric(run: &data::SavedRun, name: &str) -> Result<(), PlotError> {
    let known = run.names();
    if known.iter().any(|k| k == name) {
        return Ok(());
    }
    Err(PlotError::UnknownMetric {
        name: name.to_string(),
        known: if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        },
    })
}

/// The image of plot `stem` in `format`.
fn image(plots_dir: &Path, stem: &str, format: Format) -> PathBuf {
    plots_dir.join(format!("{stem}.{}", format.ext()))
}

/// Whether a failure of [`chart::render`] came from writing the file rather than from
/// drawing: rendering happens in memory, and the only system calls are those of the atomic
/// write at the end, whose errors read as the system's (`… (os error N)`). Drawing errors
/// come from the drawing library and never do.
fn is_write_failure(why: &str) -> bool {
    why.contains("(os error ")
}

/// Renders every planned plot in every format, in parallel; a failure skips that plot (and
/// a failure to write its file is also listed in `unwritten`). Returns the files written and
/// the entries of the plots drawn.
fn render_all(
    planned: &[Planned],
    formats: &[Format],
    plots_dir: &Path,
    skipped: &mut Vec<Skipped>,
    unwritten: &mut Vec<Skipped>,
) -> (Vec<PathBuf>, Vec<Entry>) {
    let rendered: Vec<Result<Vec<PathBuf>, String>> = planned
        .par_iter()
        .map(|p| {
            let mut files = Vec::new();
            for f in formats {
                let path = image(plots_dir, &p.stem, *f);
                chart::render_guarded(&p.chart, *f, &path).map_err(|why| {
                    if is_write_failure(&why) {
                        format!("cannot write {}: {why}", path.display())
                    } else {
                        why
                    }
                })?;
                files.push(path);
            }
            Ok(files)
        })
        .collect();
    let mut written = Vec::new();
    let mut entries = Vec::new();
    for (p, r) in planned.iter().zip(rendered) {
        match r {
            Ok(files) => {
                written.extend(files);
                entries.push(Entry {
                    kind: p.kind,
                    stem: p.stem.clone(),
                    metric: p.metric.clone(),
                    title: p.chart.title.clone(),
                    formats: formats.to_vec(),
                });
            }
            Err(why) => {
                for f in formats {
                    let _ = fs::remove_file(image(plots_dir, &p.stem, *f));
                }
                let skip = Skipped {
                    plot: format!("{} {}", p.kind, p.stem),
                    reason: format!("could not be drawn: {why}"),
                };
                if is_write_failure(&why) {
                    unwritten.push(skip.clone());
                }
                skipped.push(skip);
            }
        }
    }
    (written, entries)
}

/// Adds to `entries` the plots an earlier draw listed that are still there and were not
/// drawn again.
fn keep_earlier(list_path: &Path, plots_dir: &Path, entries: &mut Vec<Entry>) {
    /// The earlier list, read one entry at a time so that a damaged entry loses only itself.
    #[derive(Deserialize)]
    struct Earlier {
        plots: Vec<serde_json::Value>,
    }
    let Some(old) = fs::read_to_string(list_path)
        .ok()
        .and_then(|t| serde_json::from_str::<Earlier>(&t).ok())
    else {
        return;
    };
    for p in old.plots {
        let Some(mut e) = serde_json::from_value(p).ok().and_then(Entry::from_listed) else {
            continue;
        };
        if entries.iter().any(|n| n.stem == e.stem) {
            continue;
        }
        e.formats
            .retain(|f| image(plots_dir, &e.stem, *f).is_file());
        if !e.formats.is_empty() {
            entries.push(e);
        }
    }
}

/// Removes the images (`*.png`, `*.svg`) in `plots_dir` that are not in `keep`.
fn remove_stale(plots_dir: &Path, keep: &[PathBuf]) {
    let Ok(entries) = fs::read_dir(plots_dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let ext = path.extension().and_then(|x| x.to_str());
        let ours = Format::ALL.iter().any(|f| Some(f.ext()) == ext);
        if ours && path.is_file() && !keep.contains(&path) {
            let _ = fs::remove_file(&path);
        }
    }
}
