//! Re-creatable randomness: every random number in a run comes from a stream that is a pure
//! function of `(scenario seed, replication, task id)` (or, for a cell, of the step, the cell
//! and the message), as the project's source notes on re-creatable random data ask.
//!
//! # The derivation (stable; part of the output contract)
//!
//! ```text
//! replication_seed(seed, r)   = mix(seed ^ mix(r + 1))
//! task_rng(rep_seed, id)      = Pcg32::new(state = mix(rep_seed ^ mix(2·id + 1)),
//!                                          stream = mix(rep_seed ^ mix(2·id + 2)))
//! priority(rep_seed, step, id)= mix(rep_seed ^ mix(step ^ 0xA5A5_A5A5_0000_0000) ^ mix(id))
//! cell_rng(rep_seed, step, cell, key)
//!                             = Pcg32::new(state  = mix(c ^ mix(key)),
//!                                          stream = mix(c ^ mix(!key)))
//!     where c = mix(rep_seed ^ CELL_STREAM ^ mix(step)) ^ mix(cell ^ 0x5555_5555_5555_5555)
//! ```
//!
//! `key` is the delivery key of the message being handled (`sender << 32 | sequence`), or
//! [`END_OF_STEP`] for the stream a cell draws from in [`crate::Model::end_step`].
//!
//! where `mix` is the SplitMix64 finaliser (Steele, Lea & Flood 2014). PCG32 (O'Neill 2014)
//! takes a state and a stream selector; distinct selectors give distinct sequences, so every
//! task owns its own stream. Nothing here depends on the shard a task lives on or on the
//! thread that steps it, which is what makes results independent of both.

use rand_pcg::Pcg32;

/// The per-task random stream: PCG32, 16 bytes, serialisable with the task.
pub type TaskRng = Pcg32;

/// The SplitMix64 output function: a bijective 64-bit mixer with full avalanche.
#[inline]
pub const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `replication` of a scenario seeded with `seed`.
///
/// Replication seeds are what `replications.csv` records; a run with
/// `--replication K` uses exactly `replication_seed(seed, K)`.
#[inline]
pub const fn replication_seed(seed: u64, replication: u64) -> u64 {
    mix(seed ^ mix(replication.wrapping_add(1)))
}

/// The random stream of task `id` in the replication whose seed is `rep_seed`.
#[inline]
pub fn task_rng(rep_seed: u64, id: u64) -> TaskRng {
    let state = mix(rep_seed ^ mix(id.wrapping_mul(2).wrapping_add(1)));
    let stream = mix(rep_seed ^ mix(id.wrapping_mul(2).wrapping_add(2)));
    Pcg32::new(state, stream)
}

/// Mixed into every cell stream, so that cell streams and task streams never coincide.
pub const CELL_STREAM: u64 = 0xCE11_57EA_4D00_0000;

/// The `key` of a cell's end-of-step stream (no message has this key: a message's sequence
/// number is below 2³² − 1).
pub const END_OF_STEP: u64 = u64::MAX;

/// The random stream of `cell` while it handles the message with delivery key `key` at
/// `step`, in the replication whose seed is `rep_seed`. Nothing in it depends on the shard
/// that owns the cell.
#[inline]
pub fn cell_rng(rep_seed: u64, step: u32, cell: u64, key: u64) -> TaskRng {
    let c = mix(rep_seed ^ CELL_STREAM ^ mix(step as u64)) ^ mix(cell ^ 0x5555_5555_5555_5555);
    Pcg32::new(mix(c ^ mix(key)), mix(c ^ mix(!key)))
}

/// A seeded priority of task `id` at `step`, used by the `shuffled` scheduling order to settle
/// conflicts: a fresh, reproducible random permutation of the tasks every step.
#[inline]
pub const fn priority(rep_seed: u64, step: u32, id: u32) -> u64 {
    mix(rep_seed ^ mix((step as u64) ^ 0xA5A5_A5A5_0000_0000) ^ mix(id as u64))
}

/// Maps a uniform 64-bit word onto `0..n`: returns `(⌊r·n / 2⁶⁴⌋, r·n mod 2⁶⁴)`. The index is
/// uniform up to a bias below `n / 2⁶⁴`; the remainder is a nearly uniform word that can be
/// used for a second decision (Lemire 2019, without the rejection step, so that every draw
/// takes exactly one word and streams stay aligned across parameter changes).
#[inline]
pub const fn scale(r: u64, n: u64) -> (u64, u64) {
    let m = r as u128 * n as u128;
    ((m >> 64) as u64, m as u64)
}

/// A uniform `f64` in `[0, 1)` from the top 53 bits of a word.
#[inline]
pub fn unit(r: u64) -> f64 {
    (r >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn splitmix_matches_reference_values() {
        // First outputs of the reference SplitMix64 generator seeded with 0:
        // state advances by the golden gamma, the output is mix(state - gamma).
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(mix(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    /// The first eight outputs of task `id`'s stream in replication seed `seed`.
    fn first8(seed: u64, id: u64) -> Vec<u32> {
        let mut rng = task_rng(seed, id);
        (0..8).map(|_| rng.next_u32()).collect()
    }

    #[test]
    fn task_streams_are_reproducible_and_distinct() {
        let (a, b, c, d) = (first8(7, 3), first8(7, 3), first8(7, 4), first8(8, 3));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn scale_covers_the_range_evenly() {
        assert_eq!(scale(0, 10).0, 0);
        assert_eq!(scale(u64::MAX, 10).0, 9);
        let mut counts = [0u32; 7];
        let mut r = task_rng(1, 1);
        for _ in 0..70_000 {
            counts[scale(r.next_u64(), 7).0 as usize] += 1;
        }
        // Each count ~ Binomial(70000, 1/7): mean 10000, sd ≈ 92.6; allow 5 sd.
        assert!(
            counts.iter().all(|&c| c.abs_diff(10_000) < 463),
            "{counts:?}"
        );
        assert!(unit(u64::MAX) < 1.0 && unit(0) == 0.0);
    }

    #[test]
    fn replication_seeds_differ() {
        let seeds: std::collections::HashSet<u64> =
            (0..1000).map(|r| replication_seed(42, r)).collect();
        assert_eq!(seeds.len(), 1000);
    }
}
