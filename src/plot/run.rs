//! The plots and report.html of a finished run or sweep, as `microsim run` draws them (and
//! the library run, and `merge`): a sweep's variants get theirs too (up to
//! [`MAX_VARIANT_PLOTS`]); what could not be drawn is a note, what could not be written a
//! failure.

use std::path::{Path, PathBuf};

use crate::experiment::results::ResultDir;
use crate::experiment::scenario::Scenario;
use crate::plot::{self, PlotError, PlotKind, PlotOptions};

/// The most sweep variants whose own plots are drawn after a sweep.
pub const MAX_VARIANT_PLOTS: usize = 20;

/// What drawing a run's plots did.
#[derive(Debug, Default)]
pub struct RunPlots {
    /// `report.html`, if written.
    pub report: Option<PathBuf>,
    /// Files that could not be written (I/O errors), with the reason: these fail the run.
    pub failed: Vec<String>,
}

impl RunPlots {
    /// Folds in what drawing `dir` did: an I/O error (a file that could not be written) is a
    /// failure; anything else that kept a plot from being drawn (too few replications, a
    /// constant metric, a damaged input file) is a note (for a sweep variant, only an error
    /// is, as its plots not drawn are listed in its own `plots.json`).
    fn add(
        &mut self,
        dir: &Path,
        drawn: Result<plot::PlotReport, PlotError>,
        variant: bool,
        note: &dyn Fn(&str),
    ) {
        let r = match drawn {
            Ok(r) => r,
            Err(e @ PlotError::Io { .. }) => return self.failed.push(e.to_string()),
            Err(e) if variant => {
                return note(&format!("plots of {} not drawn: {e}", dir.display()));
            }
            Err(e) => return note(&format!("plots not drawn: {e}")),
        };
        self.failed
            .extend(r.unwritten.iter().map(|s| s.reason.clone()));
        if r.unwritten.is_empty() && !variant {
            self.report = r.report;
        }
        let nothing_to_draw: Vec<_> = r
            .skipped
            .iter()
            .filter(|s| !r.unwritten.contains(s))
            .collect();
        match nothing_to_draw.as_slice() {
            _ if variant => {}
            [] => {}
            [one] => note(&format!("{} not drawn: {}", one.plot, one.reason)),
            many => {
                let names: Vec<&str> = many.iter().take(3).map(|s| s.plot.as_str()).collect();
                let more = if many.len() > 3 { ", …" } else { "" };
                note(&format!(
                    "{} plots not drawn ({}{more}); the reasons are in {}",
                    many.len(),
                    names.join("; "),
                    dir.join(ResultDir::PLOTS).join("plots.json").display()
                ));
            }
        }
    }
}

/// Draws the plots and report.html of the finished run in `dir` (a sweep's variants' too),
/// handing each note (a plot with nothing to draw, too many variants) to `note`. A plot with
/// nothing to draw never fails the run; a file that cannot be written (a full disk) is in
/// [`RunPlots::failed`].
pub fn draw_run(scenario: &Scenario, dir: &Path, note: &dyn Fn(&str)) -> RunPlots {
    let mut plots = RunPlots::default();
    let kinds = match &scenario.output.plots {
        Some(names) if names.is_empty() => return plots,
        Some(names) => match PlotKind::parse_list(names) {
            Ok(kinds) => Some(kinds),
            Err(_) => return plots,
        },
        None => None,
    };
    let opts = PlotOptions {
        kinds,
        ..Default::default()
    };
    if scenario.sweep.is_some() {
        let variants = dir.join(ResultDir::VARIANTS);
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&variants)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        if dirs.len() > MAX_VARIANT_PLOTS {
            note(&format!(
                "{} variants: their own plots are not drawn (run `microsim plot {}/NNN`)",
                dirs.len(),
                variants.display()
            ));
        } else {
            for d in dirs {
                plots.add(&d, plot::draw(&d, &opts), true, &note);
            }
        }
    }
    plots.add(dir, plot::draw(dir, &opts), false, &note);
    if !plots.failed.is_empty() {
        plots.report = None;
    }
    plots
}
