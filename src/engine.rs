//! The engine: tasks, the sharded arena, channels, the model trait, seeded streams, the
//! bulk-synchronous scheduler and its step statistics. It knows nothing of scenario files,
//! result directories or plots; [`crate::experiment`] builds on it, never the reverse.
//!
//! The modules form one-way stairs: `rng` ← `arena` ← `space` ← `board` ← `channel` ←
//! `quantity` ← `task` ← `codec` ← `model` ← `scheduler`, with `stats` (plain data) and
//! `prefetch` (one cache hint) beside them. What a modeller needs is re-exported at the crate
//! root.

pub(crate) mod arena;
pub(crate) mod board;
pub(crate) mod channel;
pub(crate) mod codec;
pub(crate) mod model;
pub(crate) mod prefetch;
pub(crate) mod quantity;
pub mod rng;
pub(crate) mod scheduler;
pub(crate) mod space;
pub(crate) mod stats;
pub(crate) mod task;
