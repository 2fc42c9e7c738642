//! Step-level statistics and the engine's HDR histograms.
//!
//! Recording is kept off the hot path: a task's per-run numbers (messages sent, mailbox depth)
//! go into a shard-local array of small counts ([`SmallCounts`]), folded into the HDR
//! histograms once per step; times are recorded once per step and once per shard-step.

use hdrhistogram::Histogram;

/// How many times each value occurred, for values that are mostly small: an array of counts
/// for `0 .. 64`, and the rare larger values kept one by one.
///
/// Counting a task's messages, a cell's occupants or a bin's copies ("how many bins hold `k`
/// copies?") is a count of counts over millions of mostly tiny values. Written as
/// `tally[v] += 1`, each increment waits for the previous one to the same counter (a store,
/// then a load of the same address: several cycles), and long runs of zeros make that the
/// whole cost. [`SmallCounts::record_all`] counts blocks of values below 4 in registers
/// instead, and falls back to the array for blocks holding larger values; its memory does not
/// depend on the largest value.
#[derive(Clone, Debug)]
pub struct SmallCounts {
    small: [u64; SMALL],
    large: Vec<u64>,
}

const SMALL: usize = 64;
/// Values counted a block at a time by [`SmallCounts::record_all`].
const BLOCK: usize = 64;

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

    /// Counts `n` occurrences of `v`.
    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        match self.small.get_mut(v as usize) {
            Some(c) => *c += n,
            None => self.large.extend(std::iter::repeat_n(v, n as usize)),
        }
    }

    /// Counts every value of `values`, as [`SmallCounts::record`] on each would.
    pub fn record_all(&mut self, values: &[u32]) {
        let mut blocks = values.chunks_exact(BLOCK);
        let [mut zeros, mut ones, mut twos, mut threes] = [0u64; 4];
        for block in &mut blocks {
            if block.iter().fold(0, |m, &v| m.max(v)) < 4 {
                // Compare-and-add over the block, kept in registers (and vectorised).
                let count = |k: u32| block.iter().map(|&v| u32::from(v == k)).sum::<u32>();
                let (z, o, t) = (count(0), count(1), count(2));
                zeros += u64::from(z);
                ones += u64::from(o);
                twos += u64::from(t);
                threes += (BLOCK as u32 - z - o - t) as u64;
            } else {
                block.iter().for_each(|&v| self.record(u64::from(v)));
            }
        }
        blocks
            .remainder()
            .iter()
            .for_each(|&v| self.record(u64::from(v)));
        for (c, n) in self.small.iter_mut().zip([zeros, ones, twos, threes]) {
            *c += n;
        }
    }

    /// How many times `v` was counted.
    pub fn count(&self, v: u64) -> u64 {
        match self.small.get(v as usize) {
            Some(&c) => c,
            None => self.large.iter().filter(|&&l| l == v).count() as u64,
        }
    }

    /// How many values of at least `v` were counted.
    pub fn count_from(&self, v: u64) -> u64 {
        let small: u64 = self.small.iter().skip(v as usize).sum();
        small + self.large.iter().filter(|&&l| l >= v).count() as u64
    }

    /// The largest value counted (0 if none was).
    pub fn max(&self) -> u64 {
        let large = self.large.iter().copied().max();
        let small = self.small.iter().rposition(|&c| c > 0).map(|i| i as u64);
        large.or(small).unwrap_or(0)
    }

    /// Adds everything counted to `h`, keeping the counts.
    pub fn record_into(&self, h: &mut Histogram<u64>) {
        for (v, &c) in self.small.iter().enumerate() {
            if c > 0 {
                h.saturating_record_n(v as u64, c);
            }
        }
        for &v in &self.large {
            h.saturating_record(v);
        }
    }

    /// Adds everything counted to `h` and starts again from zero.
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        self.record_into(h);
        self.small = [0; SMALL];
        self.large.clear();
    }
}

/// A value being counted again and again (a task's messages sent, its mailbox depth: the same
/// for long runs of tasks), counted into [`SmallCounts`] once per run of equal values, so that
/// recording one is a compare and an add in a register.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Repeats {
    value: u64,
    n: u64,
}

impl Repeats {
    /// Counts one more `v`: flushes the run into `counts` when `v` differs from the last value.
    #[inline(always)]
    pub(crate) fn record(&mut self, v: u64, counts: &mut SmallCounts) {
        if v == self.value {
            self.n += 1;
        } else {
            self.flush(counts);
            *self = Repeats { value: v, n: 1 };
        }
    }

    /// Counts the current run into `counts` and starts afresh.
    #[inline]
    pub(crate) fn flush(&mut self, counts: &mut SmallCounts) {
        if self.n > 0 {
            counts.record_n(self.value, self.n);
        }
        *self = Repeats::default();
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

/// The highest time the engine's time histograms hold, microseconds (an hour): longer times
/// are recorded as this.
pub(crate) const TIME_HIGH_US: u64 = 3_600_000_000;

impl EngineHistograms {
    /// Empty histograms, each over its whole range (times up to an hour, counts up to 2³²).
    pub fn new() -> Self {
        EngineHistograms {
            step_time_us: histogram(TIME_HIGH_US),
            shard_time_us: histogram(TIME_HIGH_US),
            messages_per_task: histogram(u32::MAX as u64),
            mailbox_depth: histogram(u32::MAX as u64),
        }
    }

    /// Empty histograms that grow with the values recorded: what a simulation keeps, since
    /// making the whole-range ones costs about 0.4 ms (their counts are zeroed), more than a
    /// small model's whole run. They hold the same values at the same precision, and merge
    /// into whole-range ones.
    pub(crate) fn compact() -> Self {
        let grows = || Histogram::new(3).expect("3 significant digits are valid");
        EngineHistograms {
            step_time_us: grows(),
            shard_time_us: grows(),
            messages_per_task: grows(),
            mailbox_depth: grows(),
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
    /// The model's series for this step, in [`crate::Model::SERIES`] order.
    #[serde(default)]
    pub series: Vec<f64>,
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
            series: Vec::new(),
            wall_ns: 0,
            shard_ns_max: 0,
            shard_ns_mean: 0,
        }
    }

    /// Words of [`StepRow::to_words`] before the counters.
    pub const FIXED_WORDS: usize = 10;
    /// Where [`StepRow::to_words`] puts the step.
    pub(crate) const STEP_WORD: usize = 0;
    /// Where [`StepRow::to_words`] puts the slowest shard's time.
    pub(crate) const SHARD_NS_MAX_WORD: usize = 8;

    /// Appends the row to `out` as [`StepRow::FIXED_WORDS`] words (step, tasks run, alive
    /// and finished, messages local, cross and dropped, wall time, slowest and mean shard
    /// time), then its counters, then its series as bits: the one packing of a row, read back
    /// by [`StepRow::read_words`].
    pub fn to_words(&self, out: &mut Vec<u64>) {
        out.extend_from_slice(&[
            self.step as u64,
            self.tasks_run,
            self.tasks_alive,
            self.tasks_finished,
            self.messages_local,
            self.messages_cross,
            self.messages_dropped,
            self.wall_ns,
            self.shard_ns_max,
            self.shard_ns_mean,
        ]);
        out.extend_from_slice(&self.counters);
        out.extend(self.series.iter().map(|v| v.to_bits()));
    }

    /// Sets this row from [`StepRow::to_words`]'s `words` of a row with `counters` counters
    /// (the words after them are its series), reusing its vectors.
    ///
    /// # Panics
    /// If `words` is shorter than [`StepRow::FIXED_WORDS`] + `counters`.
    pub fn read_words(&mut self, words: &[u64], counters: usize) {
        let (fixed, rest) = words.split_at(Self::FIXED_WORDS);
        let (own, series) = rest.split_at(counters);
        self.step = fixed[Self::STEP_WORD] as u32;
        self.tasks_run = fixed[1];
        self.tasks_alive = fixed[2];
        self.tasks_finished = fixed[3];
        self.messages_local = fixed[4];
        self.messages_cross = fixed[5];
        self.messages_dropped = fixed[6];
        self.wall_ns = fixed[7];
        self.shard_ns_max = fixed[Self::SHARD_NS_MAX_WORD];
        self.shard_ns_mean = fixed[9];
        self.counters.clear();
        self.counters.extend_from_slice(own);
        self.series.clear();
        self.series
            .extend(series.iter().map(|&b| f64::from_bits(b)));
    }

    /// The `steps.csv` columns for a model with these columns of its own (its counters, then
    /// its series).
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
        r.extend(self.series.iter().map(|v| v.to_string()));
        let ms = |ns: u64| format!("{:.3}", ns as f64 / 1e6);
        r.extend([
            ms(self.wall_ns),
            ms(self.shard_ns_max),
            ms(self.shard_ns_mean),
        ]);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_row_reads_back_from_its_words() {
        let row = StepRow {
            step: 7,
            tasks_run: 1,
            tasks_alive: 2,
            tasks_finished: 3,
            messages_local: 4,
            messages_cross: 5,
            messages_dropped: 6,
            counters: vec![8, 9],
            series: vec![0.5, -1e300],
            wall_ns: 10,
            shard_ns_max: 11,
            shard_ns_mean: 12,
        };
        let mut words = Vec::new();
        row.to_words(&mut words);
        assert_eq!(words.len(), StepRow::FIXED_WORDS + 4);
        assert_eq!(words[StepRow::STEP_WORD], 7);
        assert_eq!(words[StepRow::SHARD_NS_MAX_WORD], 11);
        let mut back = StepRow::zeroed(0, 0);
        back.read_words(&words, 2);
        assert_eq!(back, row);
    }
    use proptest::prelude::*;

    proptest! {
        /// Counting a slice at once is counting each value: whatever mix of small and large
        /// values, in blocks and in the remainder.
        #[test]
        fn record_all_counts_as_record_does(
            values in proptest::collection::vec(
                prop_oneof![8 => 0u32..4, 1 => 4u32..70, 1 => any::<u32>()],
                0..400,
            ),
        ) {
            let (mut all, mut each) = (SmallCounts::default(), SmallCounts::default());
            all.record_all(&values);
            values.iter().for_each(|&v| each.record(u64::from(v)));
            for v in (0..80).chain(values.iter().map(|&v| u64::from(v))) {
                prop_assert_eq!(all.count(v), each.count(v), "value {}", v);
                prop_assert_eq!(all.count_from(v), each.count_from(v), "from {}", v);
            }
            let want = values.iter().copied().max().map_or(0, u64::from);
            prop_assert_eq!(all.max(), want);
            let (mut a, mut b) = (histogram(u32::MAX as u64), histogram(u32::MAX as u64));
            all.record_into(&mut a);
            each.drain_into(&mut b);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn record_all_counts_long_blocks_of_small_values() {
        // 1000 values cycling 0, 1, 2, 3 (15 full blocks and a remainder of 40), the 0 at
        // index 500 made a 9 (so one block takes the slow path).
        let mut values: Vec<u32> = (0..1000).map(|i| (i % 4) as u32).collect();
        values[500] = 9;
        let mut c = SmallCounts::default();
        c.record_all(&values);
        assert_eq!([0, 1, 2, 3, 9].map(|v| c.count(v)), [249, 250, 250, 250, 1]);
        assert_eq!(c.max(), 9);
        assert_eq!(c.count_from(3), 251);
    }
}
