//! # microsim — a lightweight-task microsimulation engine
//!
//! Hundreds of thousands to millions of green tasks (robots, lottery draws, walkers) exchange
//! messages across a sharded arena. A bulk-synchronous scheduler advances them step by step on
//! rayon, settles conflicts by a deterministic rule, and records step-level statistics and HDR
//! histograms. Results are bit-identical for the same seed at any thread count and any shard
//! count, and any replication can be re-created from its seed.
//!
//! ```
//! use microsim::models::musical_chairs::{MusicalChairs, Params};
//! use microsim::scheduler::{Ending, Order, Settings, Simulation};
//!
//! let model = MusicalChairs::new(Params { robots: 1000, width: 100, height: 100, rounds: 10 });
//! let settings = Settings {
//!     seed: microsim::rng::replication_seed(42, 0),
//!     shards: 4,
//!     order: Order::ById,
//!     quantum: 1,
//!     max_steps: 1000,
//!     histograms: true,
//! };
//! let mut sim = Simulation::new(&model, settings);
//! assert_eq!(sim.run(|_| true), Ending::Finished);
//! let report = sim.report();
//! let (granted, denied) = (report.metrics[0], report.metrics[1]);
//! assert_eq!(granted + denied, 10_000.0); // every claim is answered
//! ```
//!
//! ## The pieces
//! - [`task`]: a task is a state machine stepped by the scheduler ([`task::Next`]).
//! - [`model`]: the [`Model`] trait that a simulation implements; [`models`] has the built-ins.
//! - [`arena`]: the grid of cells, its partition into shards, density-aware cell sets.
//! - [`channel`]: outboxes and delivery in a fixed key order.
//! - [`scheduler`]: the step loop, parallel over shards.
//! - [`rng`]: the documented seed derivation behind every random number.
//! - [`stats`]: step statistics, HDR histograms, summaries with confidence intervals.
//! - [`scenario`]: scenario files in two stages, with errors that name file, line and field;
//!   [`catalog`]: the built-in models by name.
//! - [`montecarlo`]: replications in parallel, in order; precision targets.
//! - [`runner`]: a run or a sweep into a result directory; [`output`]: the files, atomically.
//! - [`plot`]: plots and `report.html` from a saved result directory.

#![deny(unsafe_code)] // one audited exception: `prefetch::prefetch_read`
#![warn(missing_docs)]

pub mod arena;
pub mod catalog;
pub mod channel;
pub mod model;
pub mod models;
pub mod montecarlo;
pub mod output;
pub mod plot;
pub mod prefetch;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod scheduler;
pub mod stats;
pub mod task;

pub use model::Model;
