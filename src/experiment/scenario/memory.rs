//! The memory budget: estimate before allocating, refuse what would not fit (the project's
//! source notes ask that memory-hungry runs never take the machine down).

use std::fmt;

use super::Scenario;
use super::error::{ErrorKind, ScenarioError};

/// What the process itself takes besides the run (binary, thread stacks, allocator): measured at
/// about 10 MiB, counted as 16 MiB to leave a margin.
pub const PROCESS_BYTES: u64 = 16 << 20;

/// What a scenario will need, about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// One replication.
    pub per_replication: u64,
    /// Replications in memory at once.
    pub concurrent: u64,
    /// The total: `per_replication × concurrent`, plus the process itself.
    pub total: u64,
}

impl MemoryEstimate {
    pub(super) fn of(s: &Scenario) -> Self {
        let per_replication = s.model.estimate(&s.settings(0));
        let reps = s.montecarlo.replications;
        let concurrent = if reps > 1 {
            reps.min(s.threads() as u64)
        } else {
            1
        };
        MemoryEstimate {
            per_replication,
            concurrent,
            total: per_replication
                .saturating_mul(concurrent)
                .saturating_add(PROCESS_BYTES),
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
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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
    fn bytes_print_readably() {
        assert_eq!(Bytes(512).to_string(), "512 B");
        assert_eq!(Bytes(3 << 29).to_string(), "1.5 GiB");
    }
}
