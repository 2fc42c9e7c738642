//! Progress bars that never slow the run (an output window that re-renders every line
//! freezes): drawn at most 10 times a second, on stderr, only when stderr is a terminal and
//! `--quiet` is not given.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::stats::StepRow;
use crate::experiment::montecarlo::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress display for a run of `replications` replications: the scenario's name, how far,
/// how fast, and the phase after the replications (drawing the plots).
pub(super) struct Bar {
    bar: Option<ProgressBar>,
    single: bool,
    steps: AtomicU64,
}

impl Bar {
    pub(super) fn new(scenario: &str, replications: u64, quiet: bool) -> Self {
        let show = !quiet && std::io::stderr().is_terminal();
        let single = replications == 1;
        let bar = show.then(|| {
            let target = ProgressDrawTarget::stderr_with_hz(10);
            let (bar, template) = if single {
                (
                    ProgressBar::with_draw_target(None, target),
                    "{spinner} {prefix} · {elapsed_precise} · step {human_pos} ({per_sec}) · {msg}",
                )
            } else {
                (
                    ProgressBar::with_draw_target(Some(replications), target),
                    "{prefix} {bar:30} {human_pos}/{human_len} replications ({per_sec}) · {elapsed_precise} (eta {eta}) {msg}",
                )
            };
            bar.set_style(ProgressStyle::with_template(template).expect("the template is valid"));
            bar.set_prefix(scenario.to_string());
            bar
        });
        Bar {
            bar,
            single,
            steps: AtomicU64::new(0),
        }
    }

    /// The replications are done and `what` is under way (`drawing plots`): a spinner with
    /// the scenario's name and the time it has taken so far.
    pub(super) fn phase(&self, what: &str) {
        if let Some(b) = &self.bar {
            let style = ProgressStyle::with_template("{spinner} {prefix} · {msg} · {elapsed}")
                .expect("the template is valid");
            b.set_style(style);
            b.set_message(what.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(100));
        }
    }

    /// Runs `f` (which prints) with the bar out of the way.
    pub(super) fn suspend(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn step(&self, _replication: u64, row: &StepRow) {
        let Some(bar) = &self.bar else { return };
        let n = self.steps.fetch_add(1, Ordering::Relaxed) + 1;
        if self.single {
            bar.set_position(n);
            bar.set_message(format!("{} tasks alive", row.tasks_alive));
        }
    }

    fn replication_done(&self, _replication: u64) {
        if let Some(bar) = &self.bar
            && !self.single
        {
            bar.inc(1);
        }
    }
}
