//! # microsim — a lightweight-task microsimulation engine
//!
//! Hundreds of thousands to millions of green tasks (robots, lottery draws, walkers) exchange
//! messages across a sharded arena. A bulk-synchronous scheduler advances them step by step on
//! rayon, settles conflicts by a deterministic rule, and records step-level statistics and HDR
//! histograms. Results are bit-identical for the same seed at any thread count and any shard
//! count, and any replication can be re-created from its seed.
//!
//! ```
//! use microsim::models::musical_chairs::{MusicalChairs, Params, CLAIMS_DENIED, CLAIMS_GRANTED};
//! use microsim::{Ending, Settings, Simulation, replication_seed};
//!
//! let model = MusicalChairs::new(Params { robots: 1000, width: 100, height: 100, rounds: 10 });
//! let settings = Settings::default().seed(replication_seed(42, 0)).shards(4);
//! let mut sim = Simulation::new(&model, settings);
//! assert_eq!(sim.run(|_| true), Ending::Finished);
//! let report = sim.report();
//! let (granted, denied) = (report.metric(CLAIMS_GRANTED), report.metric(CLAIMS_DENIED));
//! assert_eq!(granted + denied, 10_000.0); // every claim is answered
//! ```
//!
//! # A guide
//!
//! **Write a model.** A model is a type implementing [`Model`]: its task state (a serde
//! struct), its message type, its per-shard cell state, and what a task does each step
//! ([`Model::step`], through a [`Ctx`]), what a cell does with a message ([`Model::on_cell`],
//! through a [`CellCtx`]), and what the run's results are ([`Model::report`]). Counters and
//! metrics are declared with names and units ([`Quantity`]) and addressed through typed
//! handles ([`Counter`], [`Metric`]) found by name at compile time.
//!
//! **Register it.** Its parameters (the scenario's `[model]` section) are a serde struct that
//! implements [`ModelParams`]: a name, a summary, a starter section, checks, and how to build
//! the model. [`Registry::builtin`] has the built-in models; [`Registry::with`] adds yours.
//!
//! **Run it.** [`cli::main`] is the whole `microsim` command line for a registry, so a crate
//! of your own gets `run`, `check`, `list`, `new`, `compare` and `plot` with its models:
//!
//! ```no_run
//! # type MyParams = microsim::models::pi::Params;
//! fn main() -> std::process::ExitCode {
//!     microsim::cli::main(microsim::Registry::builtin().with::<MyParams>())
//! }
//! ```
//!
//! Scenarios then give replications, confidence intervals, sweeps with common random
//! numbers, precision targets, plots and `report.html`. `examples/random_walkers.rs` is a
//! complete model written outside the crate; [`Simulation`] runs a model directly, without
//! files.
//!
//! **Run it on many machines.** Built with the `mpi` feature, the same command line run by
//! `mpirun` or `srun` shares the replications over the ranks, or one replication's shards
//! ([`Simulation::new_on`] with any [`Peers`]); `run --replications A..B` and `microsim merge`
//! share a study without MPI. Every way gives the bytes of one process.
//!
//! **Read the results.** A run writes a result directory (`summary.json`,
//! `replications.csv`, `steps.csv`, `details.json`, `histograms/*.hlog`, plots and
//! `report.html`), described in the README.
//!
//! # The layers
//! - `engine`: arena, channels, tasks, the model trait, seeded streams, the scheduler and its
//!   step statistics. No files, no TOML, no plots.
//! - `experiment`: scenario files and their checks, the registry, Monte Carlo, sweeps, the
//!   result directory.
//! - [`plot`]: pictures and `report.html` from a result directory.
//! - [`live`]: the live view in the browser (`run --serve`, `serve`).
//! - [`cli`]: the command line, as a library call; [`embed`]: its `run` for a program that
//!   embeds microsim (the Python package).
//! - [`models`]: the built-in models, ordinary users of the public API.

#![deny(unsafe_code)]
// audited exceptions: `prefetch_read`, the allocator option in `alloc`,
// `Send`/`Sync` of the MPI team (feature `mpi`)
#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub mod alloc;
pub mod cli;
pub mod embed;
mod engine;
mod experiment;
pub mod live;
pub mod models;
pub mod plot;

pub use engine::arena::MAX_CELLS;
pub use engine::arena::{CellSet, Grid};
pub use engine::board::{Near, Nearby, Neighbour, Within};
pub use engine::codec::{CellBlock, Codec};
pub use engine::model::{End, Expected, Model, Placed, Report, Tally};
pub use engine::prefetch::prefetch_read;
pub use engine::quantity::{Counter, Metric, Quantity, Support};
pub use engine::rng::{TaskRng, cell_rng, replication_seed, step_rng, task_rng};
pub use engine::scheduler::{
    Ending, Order, Peers, Settings, Simulation, Snapshot, SnapshotError, Spare, estimate_bytes,
};
pub use engine::space::{Hood, Permutation, Place, Setup, Space};
pub use engine::stats::{EngineHistograms, SmallCounts, StepRow, histogram};
pub use engine::task::{CellCtx, Ctx, Mail, Next, StepEndCtx, TaskId};
pub use experiment::params::{Checks, ModelInfo, ModelParams};
pub use experiment::registry::Registry;
/// Draws that take exactly one 64-bit word from a stream, whatever the parameters: what keeps
/// the streams of sweep variants aligned, so that common random numbers pair them.
pub mod draw {
    pub use crate::engine::rng::{scale, unit};
}

/// The `rand` crate microsim's streams implement (`use microsim::rand::RngExt` for
/// `random_range`, `random`), so a model's crate need not depend on a matching version.
pub use rand;
/// The `serde_json` crate of [`Report::details`].
pub use serde_json;

/// A run's results read back: [`results::ResultDir`] knows every file of a result directory
/// and reads each into its type; what `compare`, `plot` and the terminal table use.
pub mod results {
    pub use crate::experiment::results::{
        Declared, Endings, QuantityInfo, ReadError, ReplicationRow, ReplicationsTable, ResultDir,
        RunManifest, RunSummary, SliceInfo, StepsTable, SweepTable, SweepVariant, TargetOutcome,
        ending_name, fmt_num,
    };
    pub use crate::experiment::stats::interval::{clopper_pearson, interval, poisson};
    pub use crate::experiment::stats::{Difference, Interval, Method, Moments, Summary};
    pub use crate::experiment::step_log::StepLog;
}

pub use experiment::numbers;

/// Not part of the API: the crate's own integration tests and benchmarks reach internals
/// through here. Anything in it may change without notice.
#[doc(hidden)]
pub mod internal {
    pub use crate::engine::arena::Partition;
    pub use crate::engine::rng;
    pub use crate::experiment::checkpoint;
    pub use crate::experiment::montecarlo::{self, Plan, Replication, Silent, Sink};
    pub use crate::experiment::output::{self, Manifest};
    pub use crate::experiment::runner::{self, Options, execute};
    pub use crate::experiment::safe_fs;
    pub use crate::experiment::scenario::{self, Override, Scenario};
    pub use crate::experiment::stats::{Difference, Summary};
    pub use crate::experiment::step_log::StepLog;
    pub use crate::experiment::team::{self, Team, ThreadTeam};
    pub use crate::experiment::{merge, output::WriterState};
}
