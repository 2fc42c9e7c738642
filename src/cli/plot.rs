//! `microsim plot RUN_DIR`: draws the plots and `report.html` of a saved result directory.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::experiment::results::ResultDir;
use crate::plot::{self, Format, PlotError, PlotKind, PlotOptions};

use super::Failure;

/// Draw the plots and report.html of a result directory.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  microsim plot outputs/mamma_mia
  microsim plot outputs/mamma_mia --format svg
  microsim plot outputs/pi --metric pi_estimate
  microsim plot outputs/mamma_mia_whatif --open

Writes RUN_DIR/plots/*.png and *.svg and RUN_DIR/report.html from the saved results.
Plot kinds: sweep, distribution, cdf, histograms, convergence, steps.")]
pub(super) struct Args {
    /// A result directory written by `microsim run`.
    #[arg(value_name = "RUN_DIR")]
    dir: PathBuf,
    /// Image format to write (repeat or comma-separate for both; default: png and svg).
    #[arg(long, value_name = "png|svg", value_delimiter = ',', value_parser = ["png", "svg"])]
    format: Vec<String>,
    /// Draw only the plots of this metric (or model histogram).
    #[arg(long, value_name = "NAME")]
    metric: Option<String>,
    /// Draw only these kinds of plot (repeat or comma-separate; default: all that apply).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    kind: Vec<String>,
    /// Open report.html in the browser (xdg-open) afterwards.
    #[arg(long)]
    open: bool,
}

fn failure(e: PlotError) -> Failure {
    match e {
        // A link where the plots would be written is bad input, not a failed write.
        PlotError::Io { ref source, .. }
            if crate::experiment::safe_fs::refusal(source).is_some() =>
        {
            Failure::Input(e.to_string())
        }
        PlotError::Io { .. } | PlotError::Internal(_) => Failure::Run(e.to_string()),
        _ => Failure::Input(e.to_string()),
    }
}

/// The refusal of a result directory whose run did not finish (`why`: how that shows).
pub(crate) fn unfinished(dir: &std::path::Path, why: &str) -> Failure {
    Failure::Input(format!(
        "{}: this run did not finish (killed? out of disk space? still running?), so its results are \
         incomplete ({why})\n  hint: run the scenario again (a new run goes to a new \
         directory), or delete this one",
        dir.display()
    ))
}

pub(super) fn run(args: Args) -> Result<ExitCode, Failure> {
    if let Some(why) = ResultDir::new(&args.dir).is_incomplete() {
        return Err(unfinished(&args.dir, &why));
    }
    crate::experiment::output::remove_stale_partials(&args.dir);
    let formats = args
        .format
        .iter()
        .map(|f| f.parse::<Format>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(failure)?;
    let kinds = if args.kind.is_empty() {
        None
    } else {
        Some(PlotKind::parse_list(&args.kind).map_err(Failure::Input)?)
    };
    let opts = PlotOptions {
        formats,
        metric: args.metric,
        kinds,
        report: true,
    };
    let report = plot::draw(&args.dir, &opts).map_err(failure)?;
    let mut out = std::io::stdout().lock();
    let images = report.written.len();
    writeln!(
        out,
        "{} image{} in {}",
        images,
        if images == 1 { "" } else { "s" },
        args.dir.join("plots").display()
    )?;
    for s in report
        .skipped
        .iter()
        .filter(|s| !report.unwritten.contains(s))
    {
        writeln!(out, "  not drawn: {}: {}", s.plot, s.reason)?;
    }
    if let Some(first) = report.unwritten.first() {
        let more = match report.unwritten.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(Failure::Run(format!(
            "{}: not every plot could be written: {}{more}\n  hint: free some space (or fix \
             what the message names) and run `microsim plot` again",
            args.dir.display(),
            first.reason
        )));
    }
    if let Some(r) = &report.report {
        writeln!(out, "report: {}", r.display())?;
        if args.open {
            open_in_browser(r, &mut out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens `file` with `xdg-open` in the background; says so if it cannot.
pub(super) fn open_in_browser(file: &std::path::Path, out: &mut impl Write) -> std::io::Result<()> {
    let spawned = std::process::Command::new("xdg-open")
        .arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(_) => Ok(()),
        Err(e) => writeln!(
            out,
            "  (cannot open it: xdg-open: {e}; open the file in a browser)"
        ),
    }
}
