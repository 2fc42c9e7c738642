//! `microsim run FILE`: run a scenario and write its results.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::experiment::checkpoint::Checkpoint;
use crate::experiment::output::{Manifest, now_rfc3339};
use crate::experiment::results::{ResultDir, RunSummary};
use crate::experiment::runner::{self, Options};
use crate::experiment::scenario::{Bytes, MemorySource, Scenario, parse_bytes, usable_memory};
use crate::experiment::team::{Command, Team, encode};
use crate::live::{Board, Server};
use crate::plot::{self, RunPlots};
use std::sync::Arc;

use super::out::Out;
use super::progress::Bar;
use super::{Failure, note_label, own_name};

/// Run a scenario; results go to outputs/<scenario name>/ unless --out is given.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  microsim run scenarios/musical_chairs.toml
  microsim run scenarios/musical_chairs.toml --set model.robots=1000000 --seed 7
  microsim run scenarios/musical_chairs_small.toml --replications 100 --json
  microsim run scenarios/musical_chairs_small.toml --replication 7   # re-create one replication

Exit codes: 0 ok, 1 the run failed, 2 bad input or usage, 130 interrupted (partial results kept).")]
pub(super) struct Args {
    /// The scenario file.
    file: PathBuf,
    /// Result directory (default: [output] dir, else outputs/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a field: --set section.key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Sweep a field over values: --sweep model.robots=1000,2000 (repeatable: a grid of
    /// every combination); adds to the file's [sweep.grid].
    #[arg(long = "sweep", value_name = "KEY=V1,V2,…")]
    sweep: Vec<String>,
    /// Shorthand for --set run.seed=N.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Shorthand for --set run.threads=N (0: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<u64>,
    /// N: shorthand for --set montecarlo.replications=N. A..B: run only replications A to
    /// B-1 of the scenario's, into a slice that `microsim merge` puts together with the
    /// others (for job arrays: Slurm, GNU parallel, Kubernetes).
    #[arg(long, value_name = "N|A..B", value_parser = parse_replications)]
    replications: Option<Replications>,
    /// Run only replication K (from 0), exactly as it ran among the others.
    #[arg(long, value_name = "K")]
    replication: Option<u64>,
    /// Write into the result directory even if it holds an earlier result.
    #[arg(long)]
    force: bool,
    /// Refuse scenarios estimated to need more than this (e.g. 4G; default 70% of available).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    #[command(flatten)]
    view: View,
}

/// What `--replications` asks for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Replications {
    /// `N`: the scenario's replications.
    Count(u64),
    /// `A..B`: a slice of them.
    Slice(std::ops::Range<u64>),
}

fn parse_replications(text: &str) -> Result<Replications, String> {
    let whole = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{t}` is not a whole number (use N, or A..B for a slice)"))
    };
    match text.split_once("..") {
        None => whole(text).map(Replications::Count),
        Some((a, b)) => {
            let (a, b) = (whole(a)?, whole(b)?);
            if a >= b {
                return Err(format!(
                    "{a}..{b} is an empty slice: A..B runs replications A to B-1, so B must be \
                     greater than A"
                ));
            }
            Ok(Replications::Slice(a..b))
        }
    }
}

/// The memory limit: `--max-memory`, else 70% of the memory this process can use now: the
/// machine's available memory, or the room under its cgroup's limit where that is smaller.
pub(super) fn memory_limit(arg: Option<&str>) -> Result<MemoryLimit, Failure> {
    match arg {
        Some(text) => {
            let bytes = parse_bytes(text).ok_or_else(|| {
                Failure::Input(format!("--max-memory {text}: not a size\n  hint: use a number with an optional unit, e.g. 512M, 4G, 1.5GiB"))
            })?;
            // Above a cgroup's limit, a run the budget lets through is killed by the kernel
            // (exit 137, no message): refused here instead, saying the limit.
            if let Some((room, source @ MemorySource::Cgroup(_))) = usable_memory()
                && bytes > room
            {
                return Err(Failure::Input(format!(
                    "--max-memory {text}: more than this process may use: {} under {source}, \
                     past which the kernel would kill the run\n  hint: give at most {}, or run \
                     where the limit is higher",
                    Bytes(room),
                    Bytes(room)
                )));
            }
            Ok(MemoryLimit {
                bytes,
                source: "--max-memory".into(),
            })
        }
        None => Ok(match usable_memory() {
            Some((room, source)) => MemoryLimit {
                bytes: room / 10 * 7,
                source: format!("70% of {source}"),
            },
            None => MemoryLimit {
                bytes: 4 << 30,
                source: "a default of 4 GiB (this system reports no available memory)".into(),
            },
        }),
    }
}

/// The memory budget of a run, and where it comes from.
#[derive(Clone, Debug)]
pub(super) struct MemoryLimit {
    /// Bytes a run may be estimated to need.
    pub bytes: u64,
    /// `--max-memory`, the machine's available memory, or a cgroup's limit.
    pub source: String,
}

pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn run(
    args: Args,
    registry: &crate::Registry,
    command_line: Vec<String>,
    team: &dyn Team,
) -> Result<ExitCode, Failure> {
    let (count, slice) = match args.replications.clone() {
        Some(Replications::Count(n)) => (Some(n), None),
        Some(Replications::Slice(r)) => (None, Some(r)),
        None => (None, None),
    };
    let mut overrides = super::overrides(
        &args.set,
        &[
            ("run.seed", args.seed),
            ("run.threads", args.threads),
            ("montecarlo.replications", count),
        ],
    )?;
    for text in &args.sweep {
        overrides.push(crate::experiment::scenario::Override::sweep(text)?);
    }
    let scenario = registry.load(&args.file, &overrides)?;
    scenario.check_checkpoints()?;
    if let Some(s) = &slice {
        check_slice(&scenario, s, args.replication)?;
    }
    let branch = branch_point(&scenario)?;
    if team.rank() != 0 {
        return work(team, &scenario, branch.as_ref());
    }
    let leader = Leader::new(team);
    let live = listen(args.view.serve.as_deref())?;
    let lone = match (&args.replication, &slice) {
        (Some(_), _) => true,
        (None, Some(s)) => s.end - s.start == 1,
        (None, None) => scenario.plan(None).max() == 1,
    };
    note_alone(&scenario, team, lone || branch.is_some(), &args.view);
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
    let (variants, estimate) = scenario.sized_runs(args.replication.is_some(), limit.bytes)?;

    let dir = Out::choose(
        args.out.as_deref(),
        scenario.output.dir.as_deref(),
        Path::new("outputs").join(&scenario.name),
    )
    .claim(args.force)?;
    let opts = Options {
        dir,
        only: args.replication,
        slice,
        manifest: Manifest {
            command_line,
            started_at: now_rfc3339(),
            threads: scenario.threads(),
            memory_estimate_bytes: estimate,
            memory_limit_bytes: limit.bytes,
            memory_limit_source: limit.source.clone(),
        },
    };
    launch(
        &scenario,
        &opts,
        variants.len() as u64,
        args.view,
        branch,
        live,
        &leader,
    )
}

/// A rank other than 0: runs the shares rank 0 orders until the run is over
/// ([`runner::work`]); rank 0 writes the results and says how the run went.
pub(crate) fn work(
    team: &dyn Team,
    scenario: &Scenario,
    from: Option<&Checkpoint>,
) -> Result<ExitCode, Failure> {
    let scratch = std::env::temp_dir();
    runner::work(team, scenario, from, &scratch, &STOP)
        .map(|_| ExitCode::SUCCESS)
        .map_err(|e| Failure::Run(e.to_string()))
}

/// Under MPI, says when a lone replication cannot be shared by the ranks and runs on rank 0
/// alone while the others wait: a model without a codec.
pub(crate) fn note_alone(scenario: &Scenario, team: &dyn Team, lone: bool, view: &View) {
    if team.size() < 2 || !lone || view.quiet || view.json {
        return;
    }
    let why = if !scenario.snapshots() {
        format!(
            "its model `{}` has no codec (`Model::codec`), so its tasks cannot cross between \
             processes",
            scenario.model_name()
        )
    } else if !scenario.shares_a_replication() {
        format!(
            "its model `{}` gives its tasks places (`Model::space`), and a replication of such \
             a model is not yet shared by ranks (replications are)",
            scenario.model_name()
        )
    } else {
        return;
    };
    eprintln!(
        "{} the replication runs on rank 0 alone: {why}",
        note_label()
    );
}

/// Rank 0's word to the other ranks that the run is over: [`Command::Done`] when
/// [`Leader::finish`] is called after a run that went well, [`Command::Abort`] otherwise (also
/// when rank 0 gives up before running, dropping it). Nothing to say without other ranks.
pub(crate) struct Leader<'a> {
    team: &'a dyn Team,
    told: std::cell::Cell<bool>,
}

impl<'a> Leader<'a> {
    pub(crate) fn new(team: &'a dyn Team) -> Self {
        Leader {
            team,
            told: std::cell::Cell::new(false),
        }
    }

    /// Tells the other ranks that the run ended, well or not (once).
    pub(crate) fn finish(&self, ok: bool) {
        if self.told.replace(true) || self.team.size() < 2 {
            return;
        }
        let order = if ok { Command::Done } else { Command::Abort };
        if let Ok(bytes) = encode(&order) {
            let _ = self.team.broadcast(&bytes);
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        self.finish(false);
    }
}

/// Refuses a slice (`--replications A..B`) the scenario cannot be cut into: beyond its
/// replications, with a precision target (how many run depends on all of them), with
/// `--replication K`, with checkpoints, or in a sweep that branches from a checkpoint.
fn check_slice(
    scenario: &Scenario,
    slice: &std::ops::Range<u64>,
    only: Option<u64>,
) -> Result<(), Failure> {
    let n = scenario.montecarlo.replications;
    let at = format!("--replications {}..{}", slice.start, slice.end);
    let refuse =
        |why: String, hint: &str| Err(Failure::Input(format!("{at}: {why}\n  hint: {hint}")));
    if slice.end > n {
        return refuse(
            format!(
                "the scenario has {n} replication{} (0..{n})",
                if n == 1 { "" } else { "s" }
            ),
            "slices cut the scenario's montecarlo.replications; set it with --set montecarlo.replications=N",
        );
    }
    if scenario.montecarlo.target.is_some() {
        return refuse(
            "the scenario has a precision target ([montecarlo.target]): how many replications \
             run depends on all of them, so it cannot be cut into slices"
                .into(),
            "remove the target and set montecarlo.replications, or run it whole (under mpirun it \
             is split over the ranks)",
        );
    }
    if only.is_some() {
        return refuse(
            "--replication K runs one replication; it does not go with a slice".into(),
            "give one of the two",
        );
    }
    if scenario.run.checkpoint_every > 0 {
        return refuse(
            "a slice does not write checkpoints (run.checkpoint_every is set)".into(),
            "remove run.checkpoint_every, or make the slices smaller",
        );
    }
    if scenario.sweep.as_ref().is_some_and(|s| s.from.is_some()) {
        return refuse(
            "a sweep that branches from a checkpoint (sweep.from) runs one replication".into(),
            "run it whole",
        );
    }
    Ok(())
}

/// The live view's socket, bound now (a bad address or a port in use is refused before
/// anything runs), if `--serve` was given.
pub(crate) fn listen(serve: Option<&str>) -> Result<Option<std::net::TcpListener>, Failure> {
    let Some(text) = serve else {
        return Ok(None);
    };
    let addr = crate::live::parse_addr(Some(text))
        .map_err(|e| Failure::Input(format!("--serve {text}: {e}")))?;
    let listener = crate::live::Server::bind(addr)
        .map_err(|e| Failure::Input(format!("--serve {addr}: cannot listen there: {e}")))?;
    Ok(Some(listener))
}

/// The checkpoint a sweep branches from (`[sweep] from`), read and checked against the
/// scenario: a lone replication of the same model, seed and run settings.
fn branch_point(scenario: &Scenario) -> Result<Option<Checkpoint>, Failure> {
    let Some(from) = scenario.sweep.as_ref().and_then(|s| s.from.as_ref()) else {
        return Ok(None);
    };
    let base = scenario.path.parent().unwrap_or(Path::new(""));
    let path = base.join(from);
    let at = format!("{}: `sweep.from`", scenario.path.display());
    let c = Checkpoint::read(&path).map_err(|e| Failure::Input(format!("{at}: {e}")))?;
    let refuse =
        |why: String, hint: &str| Err(Failure::Input(format!("{at}: {why}\n  hint: {hint}")));
    let Some(r) = &c.running else {
        return refuse(
            format!(
                "{} records finished replications, not one under way",
                path.display()
            ),
            "branch from a checkpoint of a run of one replication (step-NNNNNN.ckpt)",
        );
    };
    if c.header.model != scenario.model_name() {
        return refuse(
            format!(
                "{} is of the model `{}`, the sweep's is `{}`",
                path.display(),
                c.header.model,
                scenario.model_name()
            ),
            "branch from a checkpoint of the same model",
        );
    }
    if c.header.seed != scenario.seed() {
        return refuse(
            format!(
                "{} was run with seed {}, the sweep has {}",
                path.display(),
                c.header.seed,
                scenario.seed()
            ),
            &format!(
                "set run.seed = {} (the variants run its replication)",
                c.header.seed
            ),
        );
    }
    let (mut ours, theirs) = (scenario.settings(r.index), r.snapshot.settings());
    ours.shards = theirs.shards;
    if ours != theirs {
        return refuse(
            format!(
                "{} was run with other [run] settings (order, quantum, max_steps or \
                 histograms) than the sweep",
                path.display()
            ),
            "give the sweep the [run] section of the run the checkpoint came from",
        );
    }
    Ok(Some(c))
}

/// How the outcome is shown (the options `run` and `resume` share).
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct View {
    /// No progress and no report; errors only.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Print summary.json on stdout (for scripts) instead of the report, with `dir`: where
    /// the results are.
    #[arg(long)]
    pub(crate) json: bool,
    /// Open report.html in the browser afterwards.
    #[arg(long)]
    pub(crate) open: bool,
    /// Serve a live view of the run in the browser: at ADDR (HOST:PORT or PORT), else on
    /// 127.0.0.1 at a free port; the address is printed. Another host than 127.0.0.1 makes
    /// the page reachable from the network.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
    pub(crate) serve: Option<String>,
}

/// Runs `scenario` (`variants` of it) into `opts.dir` (claimed), from `resume` if given;
/// draws the plots and shows the outcome.
pub(crate) fn launch(
    scenario: &Scenario,
    opts: &Options,
    variants: u64,
    view: View,
    resume: Option<crate::experiment::checkpoint::Checkpoint>,
    live: Option<std::net::TcpListener>,
    leader: &Leader<'_>,
) -> Result<ExitCode, Failure> {
    install_interrupt_handler();
    let dir = opts.dir.clone();
    let per_variant = match (&opts.only, &opts.slice) {
        (Some(_), _) => 1,
        (None, Some(s)) => s.end - s.start,
        (None, None) => scenario.plan(None).max(),
    };
    let quiet = view.quiet || view.json;
    let bar = Bar::new(&scenario.name, variants * per_variant, quiet);
    let resuming = resume.is_some();
    let board = live.is_some().then(|| {
        Arc::new(
            Board::new(
                &scenario.name,
                scenario.model_name(),
                &scenario.metric_names(),
                variants * per_variant,
                &dir,
            )
            .about(crate::live::About::of(scenario))
            .stoppable(&STOP),
        )
    });
    let server = match (live, &board) {
        (Some(listener), Some(board)) => {
            let s = Server::start(board.clone(), listener, false)?;
            eprintln!("live view: {}", s.url());
            Some(s)
        }
        _ => None,
    };
    let both;
    let progress: &dyn crate::experiment::montecarlo::Progress = match &board {
        Some(b) => {
            both = crate::experiment::montecarlo::Both(&bar, &**b);
            &both
        }
        None => &bar,
    };
    let outcome = runner::execute_on(leader.team, scenario, opts, &STOP, progress, resume);
    leader.finish(outcome.is_ok());
    let outcome = outcome.map_err(|e| {
        if resuming && e.kind() == std::io::ErrorKind::InvalidData {
            return Failure::Input(format!("the checkpoint cannot be resumed: {e}"));
        }
        Failure::Run(format!(
            "{}: cannot write results: {e}\n  the directory is marked incomplete ({}); what \
             was written there is partial\n  hint: free some space (or fix what the message \
             names) and run again",
            dir.display(),
            ResultDir::INCOMPLETE
        ))
    })?;
    let (summary, partial) = (outcome.summary, outcome.partial);
    bar.phase("drawing plots and report.html");
    let plots = plot::draw_run(scenario, &dir, &|what: &str| {
        if !quiet {
            bar.suspend(|| eprintln!("{} {}", note_label(), own_name(what)));
        }
    });
    bar.finish();
    if let Some(b) = &board {
        b.finish(partial);
    }
    show(scenario, &dir, &summary, &plots, &view)?;
    if partial {
        eprintln!(
            "{} interrupted: {} replication(s) written to {}, marked partial",
            note_label(),
            outcome.replications,
            dir.display()
        );
        if let Some(c) = &outcome.checkpoint {
            eprintln!(
                "{} checkpoint written: go on with `{} resume {}`",
                note_label(),
                super::bin(),
                c.display()
            );
        }
    }
    if let Some(server) = server {
        linger(&server);
        server.stop();
    }
    if !plots.failed.is_empty() {
        return Err(Failure::Run(plots_failure(&plots, &dir)));
    }
    if partial {
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows a finished run as `view` asks: its summary.json (`--json`), else its report (a
/// sweep's table); opens report.html (`--open`).
pub(crate) fn show(
    scenario: &Scenario,
    dir: &Path,
    summary: &RunSummary,
    plots: &RunPlots,
    view: &View,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if view.json {
        // summary.json, and where it is: `dir`, the result directory.
        let mut json = serde_json::to_value(summary).expect("JSON serialises");
        if let Some(fields) = json.as_object_mut() {
            let dir = serde_json::Value::String(dir.display().to_string());
            fields.insert("dir".into(), dir);
        }
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json).expect("JSON serialises")
        )?;
    } else if !view.quiet && scenario.sweep.is_some() {
        super::show::print_sweep(&mut out, scenario, summary, dir)?;
    } else if !view.quiet {
        super::show::print_report(&mut out, scenario, summary, dir, plots.failed.is_empty())?;
    }
    if let (Some(report), true) = (&plots.report, view.open) {
        super::plot::open_in_browser(report, &mut out)?;
    }
    Ok(())
}

/// After a run with a live view: on a terminal, keeps the page up until Enter (or Ctrl-C), so
/// that the final state and report.html can be looked at; elsewhere, stops at once.
fn linger(server: &Server) {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || STOP.load(Ordering::Relaxed) {
        return;
    }
    eprintln!(
        "the live view stays at {} (report.html linked there); press Enter to stop",
        server.url()
    );
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

/// The error of a run whose results are complete but whose plots could not all be written.
pub(crate) fn plots_failure(plots: &RunPlots, dir: &Path) -> String {
    let more = match plots.failed.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    format!(
        "{}: the results are complete, but the plots could not all be written: {}{more}\n  \
         hint: free some space (or fix what the message names), then draw them again with \
         `microsim plot {}`",
        dir.display(),
        plots.failed[0],
        dir.display()
    )
}

/// Draws the plots and report.html of a finished run ([`plot::draw_run`]), its notes on
/// stderr unless `quiet`.
pub(crate) fn draw_plots(scenario: &Scenario, dir: &Path, quiet: bool) -> RunPlots {
    plot::draw_run(scenario, dir, &|what: &str| {
        if !quiet {
            eprintln!("{} {}", note_label(), own_name(what));
        }
    })
}

/// First Ctrl-C: finish the steps under way and write what is done. Second: leave at once.
pub(crate) fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}
