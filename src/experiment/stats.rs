//! Statistics over replications: summaries with confidence intervals, and differences
//! between two sets of replications.

mod difference;
mod summary;

pub use difference::Difference;
pub use summary::{Summary, quantile, t_quantile};
