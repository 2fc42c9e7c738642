//! `microsim run FILE`: run a scenario and write its results.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::experiment::output::{Manifest, choose_dir, now_rfc3339};
use crate::experiment::results::{ResultDir, RunSummary, fmt_num};
use crate::experiment::runner::{self, Options};
use crate::experiment::scenario::{Scenario, available_memory, parse_bytes};
use crate::plot::{self, PlotKind, PlotOptions};

use super::progress::Bar;
use super::{Failure, label};

/// Run a scenario; results go to outputs/<scenario name>/ unless --out is given.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  microsim run scenarios/musical_chairs.toml
  microsim run scenarios/musical_chairs.toml --set model.robots=1000000 --seed 7
  microsim run scenarios/musical_chairs_small.toml --replications 100 --json
  microsim run scenarios/musical_chairs_small.toml --replication 7   # re-create one replication

Exit codes: 0 ok, 1 the run failed, 2 bad input or usage, 130 interrupted (partial results kept).")]
pub struct Args {
    /// The scenario file.
    file: PathBuf,
    /// Result directory (default: [output] dir, else outputs/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a field: --set section.key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Shorthand for --set run.seed=N.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Shorthand for --set run.threads=N (0: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<u64>,
    /// Shorthand for --set montecarlo.replications=N.
    #[arg(long, value_name = "N")]
    replications: Option<u64>,
    /// Run only replication K (from 0), exactly as it ran among the others.
    #[arg(long, value_name = "K")]
    replication: Option<u64>,
    /// Write into the result directory even if it holds an earlier result.
    #[arg(long)]
    force: bool,
    /// Refuse scenarios estimated to need more than this (e.g. 4G; default 70% of available).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    /// No progress and no report; errors only.
    #[arg(long, short)]
    quiet: bool,
    /// Print summary.json on stdout (for scripts) instead of the report.
    #[arg(long)]
    json: bool,
    /// Open report.html in the browser afterwards.
    #[arg(long)]
    open: bool,
}

/// The memory limit: `--max-memory`, else 70% of the memory available now.
pub fn memory_limit(arg: Option<&str>) -> Result<u64, Failure> {
    match arg {
        Some(text) => parse_bytes(text).ok_or_else(|| {
            Failure::Input(format!("--max-memory {text}: not a size\n  hint: use a number with an optional unit, e.g. 512M, 4G, 1.5GiB"))
        }),
        None => Ok(available_memory().map_or(4 << 30, |a| a / 10 * 7)),
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn run(
    args: Args,
    registry: &crate::Registry,
    command_line: Vec<String>,
) -> Result<ExitCode, Failure> {
    let overrides = super::overrides(
        &args.set,
        &[
            ("run.seed", args.seed),
            ("run.threads", args.threads),
            ("montecarlo.replications", args.replications),
        ],
    )?;
    let scenario = registry.load(&args.file, &overrides)?;
    if let Some(k) = args.replication {
        let n = scenario.plan(None).max();
        if k >= n {
            return Err(Failure::Input(format!(
                "--replication {k}: the scenario has {n} replication{} (0 to {})\n  hint: to re-create a replication of a longer run, also pass --replications N",
                if n == 1 { "" } else { "s" },
                n - 1
            )));
        }
    }
    let limit = memory_limit(args.max_memory.as_deref())?;
    let variants: Vec<Scenario> = match &scenario.sweep {
        Some(_) => scenario
            .variants()?
            .into_iter()
            .map(|v| v.scenario)
            .collect(),
        None => vec![scenario.clone()],
    };
    let mut estimate = 0;
    for mut sized in variants.iter().cloned() {
        if args.replication.is_some() {
            sized.montecarlo.replications = 1;
        }
        let e = sized.estimate_memory();
        e.check(&scenario, limit)?;
        estimate = estimate.max(e.total);
    }

    let base = match (&args.out, &scenario.output.dir) {
        (Some(out), _) => out.clone(),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => Path::new("outputs").join(&scenario.name),
    };
    let dir = choose_dir(&base, args.force)
        .map_err(|e| Failure::Run(format!("{}: {e}", base.display())))?;
    install_interrupt_handler();
    let opts = Options {
        dir: dir.clone(),
        only: args.replication,
        manifest: Manifest {
            command_line,
            started_at: now_rfc3339(),
            threads: scenario.threads(),
            memory_estimate_bytes: estimate,
        },
    };
    let per_variant = if args.replication.is_some() {
        1
    } else {
        scenario.plan(None).max()
    };
    let bar = Bar::new(variants.len() as u64 * per_variant, args.quiet || args.json);
    let outcome = runner::execute(&scenario, &opts, &STOP, &bar)
        .map_err(|e| Failure::Run(format!("{}: cannot write results: {e}", dir.display())))?;
    bar.finish();
    let (summary, partial) = (outcome.summary, outcome.partial);
    let report = draw_plots(&scenario, &dir, args.quiet || args.json);

    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&summary).expect("JSON serialises")
        )?;
    } else if !args.quiet && scenario.sweep.is_some() {
        print_sweep(&mut out, &scenario, &summary, &dir)?;
    } else if !args.quiet {
        print_report(&mut out, &scenario, &summary, &dir)?;
    }
    if let (Some(report), true) = (&report, args.open) {
        super::plot::open_in_browser(report, &mut out)?;
    }
    if partial {
        eprintln!(
            "{} interrupted: {} replication(s) written to {}, marked partial",
            label("note:"),
            outcome.replications,
            dir.display()
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// The most sweep variants whose own plots are drawn after a sweep.
const MAX_VARIANT_PLOTS: usize = 20;

/// Draws the plots and report.html of a finished run. Never fails the run: a plot that cannot
/// be drawn is a note on stderr. Returns the report's path.
fn draw_plots(scenario: &Scenario, dir: &Path, quiet: bool) -> Option<PathBuf> {
    let kinds = match &scenario.output.plots {
        Some(names) if names.is_empty() => return None,
        Some(names) => Some(PlotKind::parse_list(names).ok()?),
        None => None,
    };
    let opts = PlotOptions {
        kinds,
        ..Default::default()
    };
    let note = |what: &str| {
        if !quiet {
            eprintln!("{} {what}", label("note:"));
        }
    };
    if scenario.sweep.is_some() {
        let variants = dir.join("variants");
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
                if let Err(e) = plot::draw(&d, &opts) {
                    note(&format!("plots of {} not drawn: {e}", d.display()));
                }
            }
        }
    }
    match plot::draw(dir, &opts) {
        Ok(r) => {
            match r.skipped.as_slice() {
                [] => {}
                [one] => note(&format!("{} not drawn: {}", one.plot, one.reason)),
                many => {
                    let names: Vec<&str> = many.iter().take(3).map(|s| s.plot.as_str()).collect();
                    let more = if many.len() > 3 { ", …" } else { "" };
                    note(&format!(
                        "{} plots not drawn ({}{more}); the reasons are in {}",
                        many.len(),
                        names.join("; "),
                        dir.join("plots").join("plots.json").display()
                    ));
                }
            }
            r.report
        }
        Err(e) => {
            note(&format!("plots not drawn: {e}"));
            None
        }
    }
}

/// First Ctrl-C: finish the steps under way and write what is done. Second: leave at once.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

fn print_report(
    out: &mut impl Write,
    s: &Scenario,
    summary: &RunSummary,
    dir: &Path,
) -> std::io::Result<()> {
    let reps = summary.replications;
    writeln!(
        out,
        "{} · model {} · seed {} · {} replication{} · {} shards · {} threads · {:.2} s",
        s.name,
        s.model_name(),
        s.seed(),
        reps,
        if reps == 1 { "" } else { "s" },
        s.run.shards.unwrap_or(1),
        s.threads(),
        summary.elapsed_seconds
    )?;
    writeln!(
        out,
        "{:<16} {:>14} {:>30} {:>12} {:>12}",
        "metric",
        "mean",
        format!("{} CI", level(summary.confidence)),
        "min",
        "max"
    )?;
    for name in s.metric_names() {
        let Some(m) = summary.metrics.get(name) else {
            continue;
        };
        let ci = match m.ci {
            Some([lo, hi]) => format!("[{}, {}]", short(lo), short(hi)),
            None => "— (one replication)".to_string(),
        };
        writeln!(
            out,
            "{:<16} {:>14} {:>30} {:>12} {:>12}",
            name,
            short(m.mean),
            ci,
            short(m.min),
            short(m.max)
        )?;
    }
    print_details(out, dir)?;
    writeln!(
        out,
        "results: {} (report.html: the plots and this table)",
        dir.display()
    )
}

/// A confidence level as a percentage: `95%`, `99.5%`.
pub fn level(confidence: f64) -> String {
    format!("{}%", short(confidence * 100.0))
}

/// The first replication's model details (e.g. who won), one line each.
fn print_details(out: &mut impl Write, dir: &Path) -> std::io::Result<()> {
    let Ok(text) = std::fs::read_to_string(dir.join(ResultDir::DETAILS)) else {
        return Ok(());
    };
    let Ok(all) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(());
    };
    let first = &all[0];
    let Some(details) = first["details"].as_object() else {
        return Ok(());
    };
    for (k, v) in details {
        let shown = match v {
            serde_json::Value::Number(n) => n.as_f64().map_or(n.to_string(), short),
            serde_json::Value::Array(a) if a.len() <= 12 => {
                let items: Vec<String> = a
                    .iter()
                    .map(|x| x.as_f64().map_or(x.to_string(), short))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            _ => continue,
        };
        writeln!(out, "{k} (replication {}): {shown}", first["replication"])?;
    }
    Ok(())
}

/// A number for people: integers whole, others to about six significant digits, without
/// trailing zeros.
pub fn short(x: f64) -> String {
    if x.fract() == 0.0 || !x.is_finite() {
        return fmt_num(x);
    }
    let decimals = (5 - x.abs().log10().floor() as i32).clamp(1, 6) as usize;
    let s = format!("{x:.decimals$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn print_sweep(
    out: &mut impl Write,
    s: &Scenario,
    summary: &RunSummary,
    dir: &Path,
) -> std::io::Result<()> {
    let Some(table) = &summary.sweep else {
        return Ok(());
    };
    let crn = if table.common_random_numbers {
        "paired (common random numbers)"
    } else {
        "independent (Welch)"
    };
    writeln!(
        out,
        "{} · model {} · seed {} · sweep of {} variants × {} replications · differences vs variant {}: {}",
        s.name,
        s.model_name(),
        s.seed(),
        table.variants.len(),
        s.montecarlo.replications,
        table.baseline,
        crn
    )?;
    for v in &table.variants {
        let params: Vec<String> = v
            .parameters
            .iter()
            .map(|(k, x)| format!("{k}={x}"))
            .collect();
        writeln!(out, "variant {} · {}", v.variant, params.join(" "))?;
        for m in &table.compare {
            let diff = match v.vs_baseline.get(m) {
                Some(d) => {
                    let ci = d.ci.map_or("—".to_string(), |[lo, hi]| {
                        format!("[{}, {}]", short(lo), short(hi))
                    });
                    let sig = if d.significant { " *" } else { "" };
                    format!("Δ {} {ci}{sig}", short(d.mean))
                }
                None => "(baseline)".to_string(),
            };
            let mean = v.metrics.get(m).map_or("-".to_string(), |x| short(x.mean));
            writeln!(out, "  {m:<18} mean {mean:>14}   {diff}")?;
        }
    }
    writeln!(
        out,
        "(* the {} CI of the difference excludes 0)\nresults: {}",
        level(table.confidence),
        dir.display()
    )
}
