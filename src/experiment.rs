//! The experiment layer: scenario files and their checks, the open model registry, Monte
//! Carlo replications, sweeps with common random numbers, and the result directory that both
//! writes and reads the results. It builds on [`crate::engine`] and knows nothing of plots.

pub mod checkpoint;
pub mod merge;
pub mod montecarlo;
pub mod numbers;
pub mod output;
pub(crate) mod params;
pub(crate) mod registry;
pub(crate) mod results;
pub mod runner;
pub mod safe_fs;
pub mod scenario;
pub(crate) mod stats;
pub(crate) mod step_log;
pub mod team;

#[cfg(test)]
mod doc_numbers;
