//! Everything deterministic about a finished run, as text: what tests compare between two
//! runs that must give the same bytes (at other thread or shard counts, after a snapshot, a
//! reuse, or across ranks).

use microsim::{Ending, Model, Report, Simulation, StepRow};

/// The run's ending and its [`results`].
pub fn describe(ending: Ending, report: &Report, steps: &[StepRow]) -> String {
    format!("{ending:?} {}", results(report, steps))
}

/// A run's metrics (as bits), details, model histograms and the deterministic columns of
/// every step row (messages as local + cross, which shards split differently; series as
/// bits).
pub fn results(report: &Report, steps: &[StepRow]) -> String {
    let rows: Vec<_> = steps
        .iter()
        .map(|r| {
            let sent = r.messages_local + r.messages_cross;
            let counts = (r.tasks_run, r.tasks_alive, r.tasks_finished, sent);
            let series: Vec<u64> = r.series.iter().map(|v| v.to_bits()).collect();
            (
                r.step,
                counts,
                r.messages_dropped,
                r.counters.clone(),
                series,
            )
        })
        .collect();
    let metrics: Vec<u64> = report.metrics().iter().map(|v| v.to_bits()).collect();
    let histograms: Vec<_> = report
        .histograms()
        .iter()
        .map(|(n, h)| (n.to_string(), recorded(h)))
        .collect();
    format!(
        "{metrics:?} {} {histograms:?} {rows:?}",
        report.details_json()
    )
}

/// [`describe`] of a finished simulation.
pub fn fingerprint<M: Model>(sim: &Simulation<'_, M>, ending: Ending) -> String {
    describe(ending, &sim.report(), sim.steps())
}

/// The engine's histograms of messages per task and mailbox depth, as (value, count) pairs.
pub fn engine_histograms<M: Model>(sim: &Simulation<'_, M>) -> String {
    let engine = sim.histograms();
    format!(
        "{:?} {:?}",
        recorded(&engine.messages_per_task),
        recorded(&engine.mailbox_depth)
    )
}

/// A histogram's recorded values and their counts.
pub fn recorded(h: &hdrhistogram::Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

/// `f`, run on a rayon pool of `threads` threads.
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
