//! How one replication is run: its seed, shards, message order, quantum and limits.

/// The order in which a step's messages are handled, which settles conflicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// By sender id, then by the order the sender sent them.
    #[default]
    ById,
    /// By a seeded per-step priority of the sender, then as `ById`.
    Shuffled,
}

/// How one replication is run. `Settings::default()` is one shard, ordered by id, quantum 1,
/// a million steps at most, histograms on, seed 0; the setters change one field each:
///
/// ```
/// use microsim::{Order, Settings};
/// let s = Settings::default().seed(7).shards(4).order(Order::Shuffled);
/// assert_eq!((s.seed, s.shards, s.quantum), (7, 4, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The replication's seed ([`crate::replication_seed`] of a scenario seed).
    pub seed: u64,
    /// The number of shards.
    pub shards: usize,
    /// Message order within a step.
    pub order: Order,
    /// How many times a task may run in a row within one step.
    pub quantum: u32,
    /// The run stops after this many steps even if tasks are still alive.
    pub max_steps: u32,
    /// Whether to record the per-task histograms (messages per task, mailbox depth).
    pub histograms: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 0,
            shards: 1,
            order: Order::ById,
            quantum: 1,
            max_steps: 1_000_000,
            histograms: true,
        }
    }
}

impl Settings {
    /// With this replication seed.
    pub fn seed(self, seed: u64) -> Self {
        Settings { seed, ..self }
    }
    /// With this many shards (at least 1).
    pub fn shards(self, shards: usize) -> Self {
        Settings { shards, ..self }
    }
    /// With this message order.
    pub fn order(self, order: Order) -> Self {
        Settings { order, ..self }
    }
    /// With this quantum (at least 1).
    pub fn quantum(self, quantum: u32) -> Self {
        Settings { quantum, ..self }
    }
    /// With this step limit.
    pub fn max_steps(self, max_steps: u32) -> Self {
        Settings { max_steps, ..self }
    }
    /// With the per-task histograms on or off.
    pub fn histograms(self, histograms: bool) -> Self {
        Settings { histograms, ..self }
    }
}
