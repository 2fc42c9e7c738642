//! The engine: tasks, the sharded arena, channels, the model trait, seeded streams, the
//! bulk-synchronous scheduler and its step statistics. It knows nothing of scenario files,
//! result directories or plots; [`crate::experiment`] builds on it, never the reverse.
//!
//! The modules form one-way stairs: `rng` ← `arena` ← `space` ← `board` ← `channel` ←
//! `quantity` ← `task` ← `codec` ← `model` ← `scheduler`, with `stats` (plain data) and
//! `prefetch` (one cache hint) beside them. What a modeller needs is re-exported at the crate
//! root.

pub mod arena;
pub mod board;
pub mod channel;
pub mod codec;
pub mod model;
pub mod prefetch;
pub mod quantity;
pub mod rng;
pub mod scheduler;
pub mod space;
pub mod stats;
pub mod task;
