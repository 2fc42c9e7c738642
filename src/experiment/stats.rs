//! Statistics over replications: summaries with confidence intervals, and differences
//! between two sets of replications.

mod difference;
pub(crate) mod interval;
mod summary;

pub use difference::Difference;
pub use interval::{Interval, Method, Moments};
pub use summary::Summary;
pub(crate) use summary::{quantile, t_quantile};
