//! The memory budget: estimate before allocating, refuse what would not fit (the project's
//! source notes ask that memory-hungry runs never take the machine down).

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use super::Scenario;
use super::error::{ErrorKind, ScenarioError};
use crate::engine::stats::EngineHistograms;
use crate::experiment::step_log::StepLog;

/// What the process itself takes besides the run (binary, allocator, the main thread):
/// measured at about 21 MiB with mimalloc in a release build (8 MiB with the system
/// allocator) and 28 MiB in a debug build (its code is three times larger), counted as 28.
pub(super) const PROCESS_BYTES: u64 = 28 << 20;

/// What each worker thread adds: its stack and the allocator's per-thread pages, among them
/// the freed pages it keeps for the next replication (`microsim::alloc`), which a replication
/// running on another thread does not reuse. Measured at 2–5 MiB alone; a scan of every
/// built-in model's parameters (`tests/memory.rs`) found small runs of two threads up to
/// 8.4 MiB above an estimate that counted 6 per thread, and later (Mamma Mia, 1000 bins, 3
/// replications on 2 threads) within 5% of one that counted 12: 16 are counted.
pub(super) const THREAD_BYTES: u64 = 16 << 20;

/// With more than one worker thread, what the allocator holds beyond the replications
/// running, as a fraction of them (`1 / HEAP_SLACK`): each worker's heap keeps the pages it
/// freed for its own next allocations, and a replication's shards and buffers, freed on
/// one worker, are not reused by another. The scan of `tests/memory.rs` found two-thread
/// runs of Mamma Mia up to 1.4% above an estimate without it (2 million bins, 3
/// replications on 2 threads: 94.4 MiB against 93.1; twelve runs of it peaked anywhere from
/// 81 to 95 MiB); an eighth is counted.
pub(super) const HEAP_SLACK: u64 = 8;

/// What a scenario will need, about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// One replication while it runs.
    pub per_replication: u64,
    /// Replications running at once.
    pub concurrent: u64,
    /// What does not shrink when a replication ends: the results of finished replications
    /// waiting to be written in order, and the metric values kept for the summary (8 bytes
    /// per metric per replication).
    pub bookkeeping: u64,
    /// The total: `per_replication × concurrent + bookkeeping`, plus the process itself, its
    /// threads and (with several threads) the allocator's slack, an eighth of the replications running.
    pub total: u64,
}

impl MemoryEstimate {
    pub(super) fn of(s: &Scenario) -> Self {
        let info = s.model.info();
        // What a finished replication holds until it is written: its step rows (at most
        // StepLog::IN_MEMORY in memory), the engine's histograms, and its model histograms
        // (counted at the size of a histogram of values up to 2^32).
        let (engine, model_hist) = histogram_bytes();
        let result = StepLog::bytes_in_memory(info.counters.len() + info.series.len())
            .saturating_add(engine)
            .saturating_add(model_hist * info.histograms.len() as u64)
            .saturating_add(info.metrics.len() as u64 * 8 + 1024);
        let per_replication = s.model.estimate(&s.settings(0)).saturating_add(result);
        let plan = s.plan(None);
        let reps = plan.max();
        let concurrent = if reps > 1 {
            reps.min(s.threads() as u64)
        } else {
            1
        };
        let waiting = reps.min(plan.window()).saturating_sub(concurrent);
        let values = reps.saturating_mul(info.metrics.len() as u64 * 8 + 1);
        let bookkeeping = waiting.saturating_mul(result).saturating_add(values);
        let running = per_replication.saturating_mul(concurrent);
        let heaps = if s.threads() > 1 {
            running / HEAP_SLACK
        } else {
            0
        };
        MemoryEstimate {
            per_replication,
            concurrent,
            bookkeeping,
            total: running
                .saturating_add(heaps)
                .saturating_add(bookkeeping)
                .saturating_add(PROCESS_BYTES)
                .saturating_add(THREAD_BYTES.saturating_mul(s.threads() as u64)),
        }
    }

    /// Refuses the run if it needs more than `limit` bytes.
    pub fn check(&self, s: &Scenario, limit: u64) -> Result<(), ScenarioError> {
        if self.total <= limit {
            return Ok(());
        }
        let origin = s.origin_of("model");
        let msg = format!(
            "this scenario needs about {} of memory, more than the {} allowed",
            Bytes(self.total),
            Bytes(limit)
        );
        let hint = if self.concurrent > 1 {
            format!(
                "{} per replication × {} at once; use fewer threads, a smaller model, or --max-memory",
                Bytes(self.per_replication),
                self.concurrent
            )
        } else {
            "make the model smaller (fewer tasks or cells), or raise the limit with --max-memory SIZE".to_string()
        };
        Err(ScenarioError::new(ErrorKind::TooLarge, origin, msg)
            .field("model")
            .hint(hint))
    }
}

/// Bytes of the engine's histograms of one replication, and of one model histogram of values
/// up to 2³²: measured once (a sweep estimates every variant).
fn histogram_bytes() -> (u64, u64) {
    static BYTES: OnceLock<(u64, u64)> = OnceLock::new();
    *BYTES.get_or_init(|| {
        let bytes = |h: &hdrhistogram::Histogram<u64>| h.distinct_values() as u64 * 8;
        let engine = EngineHistograms::new()
            .named()
            .iter()
            .map(|(_, h)| bytes(h))
            .sum();
        (
            engine,
            bytes(&crate::engine::stats::histogram(u32::MAX as u64)),
        )
    })
}

/// Bytes, printed with a binary unit.
#[derive(Clone, Copy, Debug)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut v = self.0 as f64;
        let mut u = 0;
        while v >= 1024.0 && u + 1 < units.len() {
            v /= 1024.0;
            u += 1;
        }
        if u == 0 {
            write!(f, "{} B", self.0)
        } else {
            write!(f, "{v:.1} {}", units[u])
        }
    }
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Bytes(self.total))?;
        if self.concurrent > 1 {
            write!(
                f,
                " ({} per replication × {} at once)",
                Bytes(self.per_replication),
                self.concurrent
            )?;
        }
        Ok(())
    }
}

/// The memory the machine can give without swapping: `MemAvailable` from /proc/meminfo.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    meminfo_available(&info)
}

fn meminfo_available(info: &str) -> Option<u64> {
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Where the memory a run may use comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemorySource {
    /// `MemAvailable` in /proc/meminfo.
    Machine,
    /// A cgroup's limit less its usage (a container, a systemd slice, a batch job): the
    /// file it was read from.
    Cgroup(String),
}

impl fmt::Display for MemorySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemorySource::Machine => f.write_str("the machine's available memory (MemAvailable)"),
            MemorySource::Cgroup(file) => write!(f, "the cgroup's memory limit ({file})"),
        }
    }
}

/// The memory this process can use now, and where that figure comes from: the smaller of the
/// machine's `MemAvailable` and, inside a cgroup with a memory limit (cgroup v2 `memory.max`,
/// v1 `memory.limit_in_bytes`, the tightest of the process's cgroup and its ancestors), that
/// limit less the cgroup's current usage. `None` where neither can be read.
pub fn usable_memory() -> Option<(u64, MemorySource)> {
    let machine = available_memory().map(|m| (m, MemorySource::Machine));
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| cgroup_room(&text, Path::new("/sys/fs/cgroup")));
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(if c.0 < m.0 { c } else { m }),
        (m, c) => m.or(c),
    }
}

/// The room left under the tightest memory limit among the cgroups of `/proc/self/cgroup`'s
/// `text` (and their ancestors), mounted under `root`.
fn cgroup_room(text: &str, root: &Path) -> Option<(u64, MemorySource)> {
    let mut best: Option<(u64, MemorySource)> = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (dir, limit_file, usage_file) = if controllers.is_empty() {
            (root.to_path_buf(), "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                root.join("memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        let mut at = dir.join(path.trim_start_matches('/'));
        loop {
            let limit = read_number(&at.join(limit_file));
            // v1 reports "no limit" as a huge number near i64::MAX.
            if let Some(limit) = limit.filter(|&l| l < 1 << 60) {
                let used = read_number(&at.join(usage_file)).unwrap_or(0);
                let room = limit.saturating_sub(used);
                if best.as_ref().is_none_or(|b| room < b.0) {
                    let file = at.join(limit_file).display().to_string();
                    best = Some((room, MemorySource::Cgroup(file)));
                }
            }
            if at == dir || !at.pop() {
                break;
            }
        }
    }
    best
}

/// A file holding one number (`max` reads as none).
fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Parses a size such as `512M`, `4G`, `1.5GiB` or `1000000` (bytes).
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    (num.is_finite() && num >= 0.0).then_some((num * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_bytes("4G"), Some(4 << 30));
        assert_eq!(parse_bytes("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_bytes("100"), Some(100));
        assert_eq!(parse_bytes("12 parsecs"), None);
        assert_eq!(parse_bytes("-1G"), None);
    }

    #[test]
    fn a_cgroup_limit_is_found_in_v1_and_v2_layouts() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        // v2: the process's cgroup has no limit, its parent has 1 GiB with 256 MiB used.
        let v2 = root.join("user.slice/job");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        std::fs::write(root.join("user.slice/memory.max"), "1073741824\n").unwrap();
        std::fs::write(root.join("user.slice/memory.current"), "268435456\n").unwrap();
        let (room, source) = cgroup_room("0::/user.slice/job\n", root).unwrap();
        assert_eq!(room, 768 << 20);
        assert!(matches!(source, MemorySource::Cgroup(f) if f.ends_with("user.slice/memory.max")));
        // v1: "no limit" is a huge number; a limit below it counts.
        let v1 = root.join("memory/batch/42");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "9223372036854771712\n").unwrap();
        let text = "4:memory:/batch/42\n1:cpu:/\n";
        assert_eq!(cgroup_room(text, root), None);
        std::fs::write(v1.join("memory.limit_in_bytes"), "536870912\n").unwrap();
        std::fs::write(v1.join("memory.usage_in_bytes"), "0\n").unwrap();
        assert_eq!(cgroup_room(text, root).unwrap().0, 512 << 20);
    }

    #[test]
    fn mem_available_is_read_in_bytes() {
        let info = "MemTotal: 100 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(meminfo_available(info), Some(2 << 20));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn bytes_print_readably() {
        assert_eq!(Bytes(512).to_string(), "512 B");
        assert_eq!(Bytes(3 << 29).to_string(), "1.5 GiB");
    }
}
