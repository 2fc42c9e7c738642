//! Step-level statistics and the engine's HDR histograms.
//!
//! Recording is kept off the hot path: a task's per-run numbers (messages sent, mailbox depth)
//! go into a shard-local array of small counts ([`SmallCounts`]), folded into the HDR
//! histograms once per step; times are recorded once per step and once per shard-step.

use hdrhistogram::Histogram;

/// Counts of small values, with an HDR histogram for the rare large ones.
#[derive(Clone, Debug)]
pub struct SmallCounts {
    small: [u64; SMALL],
    large: Vec<u64>,
}

const SMALL: usize = 64;

impl Default for SmallCounts {
    fn default() -> Self {
        SmallCounts {
            small: [0; SMALL],
            large: Vec::new(),
        }
    }
}

impl SmallCounts {
    /// Counts one occurrence of `v`.
    #[inline]
    pub fn record(&mut self, v: u64) {
        match self.small.get_mut(v as usize) {
            Some(c) => *c += 1,
            None => self.large.push(v),
        }
    }

    /// Adds everything counted to `h` and starts again from zero.
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        for (v, c) in self.small.iter_mut().enumerate() {
            if *c > 0 {
                h.saturating_record_n(v as u64, *c);
                *c = 0;
            }
        }
        for v in self.large.drain(..) {
            h.saturating_record(v);
        }
    }
}

/// A histogram for values from 0 up to `high`, to 3 significant digits: what a model's
/// report needs for counts per task, per cell, per bin.
pub fn histogram(high: u64) -> Histogram<u64> {
    Histogram::new_with_bounds(1, high.max(2), 3).expect("bounds 1..high with 3 digits are valid")
}

/// `h` in HdrHistogram's V2 format (for snapshots and checkpoints).
pub(crate) fn hist_bytes(h: &Histogram<u64>) -> Vec<u8> {
    use hdrhistogram::serialization::{Serializer, V2Serializer};
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("a histogram serialises into memory");
    out
}

/// A histogram read back from [`hist_bytes`].
pub(crate) fn hist_from(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("{e:?}"))
}

/// The engine's histograms of one run.
#[derive(Clone, Debug)]
pub struct EngineHistograms {
    /// Wall time of each step, microseconds.
    pub step_time_us: Histogram<u64>,
    /// Wall time of each shard in each step, microseconds (load imbalance shows as spread).
    pub shard_time_us: Histogram<u64>,
    /// Messages a task sent each time it ran.
    pub messages_per_task: Histogram<u64>,
    /// Mail waiting for a task each time it ran.
    pub mailbox_depth: Histogram<u64>,
}

impl EngineHistograms {
    /// Empty histograms.
    pub fn new() -> Self {
        EngineHistograms {
            step_time_us: histogram(3_600_000_000),
            shard_time_us: histogram(3_600_000_000),
            messages_per_task: histogram(u32::MAX as u64),
            mailbox_depth: histogram(u32::MAX as u64),
        }
    }

    /// The histograms by file name, deterministic ones first.
    pub fn named(&self) -> [(&'static str, &Histogram<u64>); 4] {
        [
            ("messages_per_task", &self.messages_per_task),
            ("mailbox_depth", &self.mailbox_depth),
            ("step_time_us", &self.step_time_us),
            ("shard_time_us", &self.shard_time_us),
        ]
    }

    /// The same, to change.
    pub(crate) fn named_mut(&mut self) -> [(&'static str, &mut Histogram<u64>); 4] {
        [
            ("messages_per_task", &mut self.messages_per_task),
            ("mailbox_depth", &mut self.mailbox_depth),
            ("step_time_us", &mut self.step_time_us),
            ("shard_time_us", &mut self.shard_time_us),
        ]
    }

    /// Empties every histogram (keeping its memory).
    pub fn clear(&mut self) {
        for h in [
            &mut self.step_time_us,
            &mut self.shard_time_us,
            &mut self.messages_per_task,
            &mut self.mailbox_depth,
        ] {
            h.reset();
        }
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &EngineHistograms) {
        for (a, b) in [
            (&mut self.step_time_us, &other.step_time_us),
            (&mut self.shard_time_us, &other.shard_time_us),
            (&mut self.messages_per_task, &other.messages_per_task),
            (&mut self.mailbox_depth, &other.mailbox_depth),
        ] {
            a.add(b).expect("histograms with the same bounds merge");
        }
    }
}

impl Default for EngineHistograms {
    fn default() -> Self {
        Self::new()
    }
}

/// The statistics of one step, one row of `steps.csv`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepRow {
    /// The step, from 0.
    pub step: u32,
    /// Tasks that ran.
    pub tasks_run: u64,
    /// Tasks not finished after the step.
    pub tasks_alive: u64,
    /// Tasks that finished in the step.
    pub tasks_finished: u64,
    /// Messages sent whose destination is on the sender's shard.
    pub messages_local: u64,
    /// Messages sent to another shard.
    pub messages_cross: u64,
    /// Mail that reached a finished task and was dropped.
    pub messages_dropped: u64,
    /// The model's counters for this step, in [`crate::Model::COUNTERS`] order.
    pub counters: Vec<u64>,
    /// Wall time of the step, nanoseconds (not deterministic).
    pub wall_ns: u64,
    /// The slowest shard's time, nanoseconds (not deterministic).
    pub shard_ns_max: u64,
    /// The mean shard time, nanoseconds (not deterministic).
    pub shard_ns_mean: u64,
}

impl StepRow {
    /// Step `step`'s row with every number 0 and `counters` counters.
    pub fn zeroed(step: u32, counters: usize) -> Self {
        StepRow {
            step,
            tasks_run: 0,
            tasks_alive: 0,
            tasks_finished: 0,
            messages_local: 0,
            messages_cross: 0,
            messages_dropped: 0,
            counters: vec![0; counters],
            wall_ns: 0,
            shard_ns_max: 0,
            shard_ns_mean: 0,
        }
    }

    /// The `steps.csv` columns for a model with these counters.
    pub fn csv_header(counters: &[&str]) -> Vec<String> {
        let mut h: Vec<String> = [
            "step",
            "tasks_run",
            "tasks_alive",
            "tasks_finished",
            "messages_local",
            "messages_cross",
            "messages_dropped",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        h.extend(counters.iter().map(|c| c.to_string()));
        h.extend(["wall_ms", "shard_ms_max", "shard_ms_mean"].map(String::from));
        h
    }

    /// This row's fields, matching [`StepRow::csv_header`]. Columns up to the counters are
    /// deterministic; the last three are timings (milliseconds, three decimals).
    pub fn csv_record(&self) -> Vec<String> {
        let mut r: Vec<String> = [
            self.step as u64,
            self.tasks_run,
            self.tasks_alive,
            self.tasks_finished,
            self.messages_local,
            self.messages_cross,
            self.messages_dropped,
        ]
        .iter()
        .chain(&self.counters)
        .map(u64::to_string)
        .collect();
        let ms = |ns: u64| format!("{:.3}", ns as f64 / 1e6);
        r.extend([
            ms(self.wall_ns),
            ms(self.shard_ns_max),
            ms(self.shard_ns_mean),
        ]);
        r
    }
}
