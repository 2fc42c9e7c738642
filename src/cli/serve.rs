//! `microsim serve RUN_DIR`: the live view of a result directory, finished or being written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::experiment::results::ResultDir;
use crate::experiment::safe_fs::refusal;
use crate::live::{Board, Server, parse_addr};

use super::Failure;
use super::run::{STOP, install_interrupt_handler};

/// Serve the live view of a result directory in the browser until Ctrl-C.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
A directory still being written (by a run in another process) is read again every second.

Examples:
  microsim serve outputs/mamma_mia
  microsim serve outputs/mamma_mia --addr 8080
  microsim serve outputs/mamma_mia --addr 0.0.0.0:8080   # reachable from the network")]
pub(super) struct Args {
    /// The result directory.
    dir: PathBuf,
    /// Where to listen: HOST:PORT or PORT (default: 127.0.0.1 at a free port). Another host
    /// than 127.0.0.1 makes the page reachable from the network.
    #[arg(long, value_name = "ADDR")]
    addr: Option<String>,
    /// Close a connection that sends and receives nothing for this many seconds (an open
    /// page is sent something every 15 s).
    #[arg(long, value_name = "SECS", default_value_t = crate::live::IDLE.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_timeout: u64,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    let dir = &args.dir;
    let rd = ResultDir::new(dir);
    let looks_like_one = [
        ResultDir::SUMMARY,
        ResultDir::INCOMPLETE,
        ResultDir::REPLICATIONS,
    ]
    .iter()
    .any(|f| rd.file(f).exists());
    if !dir.is_dir() || !looks_like_one {
        return Err(Failure::Input(format!(
            "{}: not a result directory (no summary.json, replications.csv or INCOMPLETE)\n  \
             hint: give a directory that `microsim run` wrote, e.g. outputs/NAME",
            dir.display()
        )));
    }
    // Files are served from a handle on the directory, never through a link: a directory
    // that is a link itself is refused here, before anything is served.
    crate::experiment::safe_fs::Dir::open(dir).map_err(|e| match refusal(&e) {
        Some(r) => Failure::Input(r.to_string()),
        None => Failure::Input(format!("{}: {e}", dir.display())),
    })?;
    let text = args.addr.as_deref();
    let addr = parse_addr(text).map_err(|e| Failure::Input(format!("--addr: {e}")))?;
    let listener = Server::bind(addr)
        .map_err(|e| Failure::Input(format!("--addr {addr}: cannot listen there: {e}")))?;
    let board = Arc::new(Board::from_dir(dir));
    let idle = Duration::from_secs(args.idle_timeout);
    let server = Server::start_with(board, listener, true, idle)?;
    install_interrupt_handler();
    eprintln!(
        "live view of {}: {} (Ctrl-C to stop)",
        dir.display(),
        server.url()
    );
    while !STOP.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();
    Ok(ExitCode::SUCCESS)
}
