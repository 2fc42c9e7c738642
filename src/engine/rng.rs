//! Re-creatable randomness: every random number in a run comes from a stream that is a pure
//! function of `(scenario seed, replication, task id, step)` (or, for a cell, of the step, the
//! cell and the message), as the project's source notes on re-creatable random data ask.
//!
//! # The derivation (stable; part of the output contract)
//!
//! A stream is counter-based: a 64-bit key and a position, and its word at position `k` is
//! `mix(key + k·γ)`, SplitMix64 (Steele, Lea & Flood 2014) started at `key`, with `γ` the
//! golden gamma `0x9E3779B97F4A7C15`. Words are independent of one another, so a stream costs
//! one mixing per word, nothing to seed but its key, and a model may skip words it does not
//! need ([`TaskRng::skip`]) without shifting the ones it does.
//!
//! A task draws from a fresh stream in every step it runs, keyed by its id and the step
//! ([`step_rng`]); its runs within one step (the quantum) go on along that step's stream. So
//! the engine keeps no stream state for a task at all (a task at rest costs it its wake step),
//! a task's draws in one step do not depend on how many it made before, and two variants of a
//! scenario that draw differently in one step still see the same numbers in the next (common
//! random numbers stay aligned across steps by construction). [`crate::Model::spawn`] draws
//! from the stream of the step [`SPAWN`], which no run reaches.
//!
//! ```text
//! replication_seed(seed, r)   = mix(seed ^ mix(r + 1))
//! step_rng(rep_seed, id, step)= key mix(mix(rep_seed ^ STEP_STREAM) ^ mix(id · 2³² + step))
//! task_rng(seed, id)          = key mix(mix(seed ^ TASK_STREAM) ^ mix(id))   (a keyed stream for models)
//! priority(rep_seed, step, id)= mix(mix(rep_seed ^ PRIORITY_STREAM) ^ mix(mix(step ^ 0xA5A5_A5A5_0000_0000) ^ mix(id)))
//! cell_rng(rep_seed, step, cell, key)
//!                             = key mix(mix(rep_seed ^ CELL_STREAM) ^ mix(c ^ mix(key)))
//!     where c = mix(step) ^ mix(cell ^ 0x5555_5555_5555_5555)
//! word k of a stream with key K = mix(K + k·γ)
//! ```
//!
//! `key` is the delivery key of the message being handled (`sender << 32 | sequence`), or
//! [`END_OF_STEP`] for the stream a cell draws from in [`crate::Model::end_step`].
//!
//! where `mix` is the SplitMix64 finaliser. `id · 2³² + step` is distinct for every (task,
//! step) and `mix` is a bijection, so no two (task, step) pairs of a replication share a key.
//! Two streams overlap only if their keys differ by a multiple `j·γ` with `j` shorter than the
//! words drawn; keys are full-avalanche hashes, so among 10¹¹ (task, step) streams of 10 words
//! each about 5·10³ pairs share a word out of 10²² pairs. Nothing here depends on the shard a
//! task lives on or on the thread that steps it, which is what makes results independent of
//! both.
//!
//! **Every derivation mixes its counter before it meets the replication's key**
//! (`keys ^ mix(counter)`, never `keys ^ counter`). Joined by a bare XOR, two replications
//! whose keys differ by `Δid · 2³² + Δstep` would share *every* stream, permuted (task `id`
//! of one drawing what task `id ^ Δid` of the other draws): not independent, with confidence
//! intervals too narrow. Such a pair is found by inverting `mix` (the test
//! `replications_never_share_their_streams` builds one), and by chance about 5 are expected
//! among 10⁵ replications of 2²⁰ tasks and 2¹⁴ steps. With the counter mixed, two
//! replications share a stream only where two full-avalanche hashes collide, one pair at a
//! time, never a whole replication.
//!
//! # Versions of the derivation
//!
//! [`DERIVATION`] names the one in force; results of the same seed differ between versions.
//!
//! | version | what changed |
//! |---|---|
//! | 1 | a task's stream was stored (seeded once, a position kept per task) |
//! | 2 | a task draws from a fresh stream per step, keyed by `(id, step)` (checkpoint format 2) |
//! | 3 | the counter is mixed before it meets the key in `step_rng`, `task_rng`, `cell_rng` and `priority` (checkpoint format 3) |

use std::convert::Infallible;

use rand::TryRng;

/// The version of the derivation above (see the table there): a checkpoint records it, as
/// its format, and results of one seed are the same bytes only under one version.
pub const DERIVATION: u32 = 3;

/// The golden gamma: SplitMix64's increment between words.
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Mixed into every [`task_rng`] key.
pub const TASK_STREAM: u64 = 0x7A5C_0000_0000_0001;

/// Mixed into every task's per-step stream key ([`step_rng`]).
pub const STEP_STREAM: u64 = 0x57E9_0000_0000_0001;

/// The step whose stream [`crate::Model::spawn`] draws from: no run reaches it (wake steps end
/// below `u32::MAX - 1`).
pub const SPAWN: u32 = u32::MAX;

/// The per-task random stream: a key and a position (16 bytes, serialisable with the task).
/// It implements [`rand::Rng`], so `rng.random::<f64>()` and friends work; every draw takes
/// whole 64-bit words (`next_u32` is a word's upper half).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskRng {
    key: u64,
    position: u64,
}

impl TaskRng {
    /// The stream with this key, at position 0.
    #[inline]
    pub const fn from_key(key: u64) -> Self {
        TaskRng { key, position: 0 }
    }

    /// The stream's word at `position`, wherever the stream is now.
    #[inline(always)]
    pub const fn word(&self, position: u64) -> u64 {
        mix(self.key.wrapping_add(position.wrapping_mul(GAMMA)))
    }

    /// The next word.
    #[inline(always)]
    pub fn next_word(&mut self) -> u64 {
        let w = self.word(self.position);
        self.position = self.position.wrapping_add(1);
        w
    }

    /// Moves past `n` words without drawing them: the words after them are the same as if
    /// they had been drawn (what keeps a variant that needs fewer draws aligned with one that
    /// needs more).
    #[inline(always)]
    pub fn skip(&mut self, n: u64) {
        self.position = self.position.wrapping_add(n);
    }

    /// Words drawn or skipped so far.
    #[inline]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The stream's key.
    #[inline]
    pub fn key(&self) -> u64 {
        self.key
    }
}

impl TryRng for TaskRng {
    type Error = Infallible;

    #[inline(always)]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_word() >> 32) as u32)
    }

    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_word())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let w = self.next_word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

/// The SplitMix64 output function: a bijective 64-bit mixer with full avalanche.
#[inline]
pub const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(GAMMA);
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
/// A stream keyed by `(seed, id)`, for a model's own fixed randomness (a household's weight, a
/// sampler's draws). Tasks draw from [`step_rng`] streams, which never share its keys.
#[inline(always)]
pub fn task_rng(seed: u64, id: u64) -> TaskRng {
    TaskRng::from_key(mix(mix(seed ^ TASK_STREAM) ^ mix(id)))
}

/// Task `id`'s random stream in step `step` of the replication whose seed is `rep_seed` (in
/// step [`SPAWN`]: the stream it is spawned from). See the module docs.
#[inline(always)]
pub fn step_rng(rep_seed: u64, id: u32, step: u32) -> TaskRng {
    TaskRng::from_key(step_key(step_keys(rep_seed), id, step))
}

/// What every per-step task key of a replication shares: `mix(rep_seed ^ STEP_STREAM)`.
#[inline(always)]
pub const fn step_keys(rep_seed: u64) -> u64 {
    mix(rep_seed ^ STEP_STREAM)
}

/// Task `id`'s key in step `step`, from its replication's [`step_keys`]: derived when the
/// task runs (two mixings: the counter's, then the key's), never stored.
#[inline(always)]
pub const fn step_key(keys: u64, id: u32, step: u32) -> u64 {
    mix(keys ^ mix(((id as u64) << 32) | step as u64))
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
    let c = mix(step as u64) ^ mix(cell ^ 0x5555_5555_5555_5555);
    TaskRng::from_key(mix(mix(rep_seed ^ CELL_STREAM) ^ mix(c ^ mix(key))))
}

/// Mixed into every [`priority`].
pub const PRIORITY_STREAM: u64 = 0x9121_0000_0000_0001;

/// A seeded priority of task `id` at `step`, used by the `shuffled` scheduling order to settle
/// conflicts: a fresh, reproducible random permutation of the tasks every step.
#[inline]
pub const fn priority(rep_seed: u64, step: u32, id: u32) -> u64 {
    let counter = mix(mix((step as u64) ^ 0xA5A5_A5A5_0000_0000) ^ mix(id as u64));
    mix(mix(rep_seed ^ PRIORITY_STREAM) ^ counter)
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
    fn first8(seed: u64, id: u64) -> Vec<u64> {
        let mut rng = task_rng(seed, id);
        (0..8).map(|_| rng.next_u64()).collect()
    }

    #[test]
    fn a_stream_is_splitmix64_from_its_key() {
        // SplitMix64 seeded with 0 gives these first outputs (reference values).
        let mut r = TaskRng::from_key(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        // Words are addressable: skipping and drawing agree, and u32 is the upper half.
        let mut a = task_rng(5, 9);
        let mut b = a.clone();
        let drawn: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        b.skip(3);
        assert_eq!(b.next_u64(), drawn[3]);
        assert_eq!(b.position(), 4);
        assert_eq!(b.next_u32() as u64, drawn[4] >> 32);
        assert_eq!(task_rng(5, 9).word(2), drawn[2]);
        let mut bytes = [0u8; 12];
        task_rng(5, 9).fill_bytes(&mut bytes);
        assert_eq!(bytes[..8], drawn[0].to_le_bytes());
        assert_eq!(bytes[8..], drawn[1].to_le_bytes()[..4]);
    }

    #[test]
    fn neighbouring_streams_are_uncorrelated() {
        // The first words of tasks 0..20000: each bit is set about half the time, and the
        // correlation of neighbours' words (as uniforms) is near 0 (sd 1/sqrt(n) ≈ 0.007).
        let n = 20_000u64;
        let words: Vec<u64> = (0..n).map(|id| task_rng(3, id).next_u64()).collect();
        for bit in 0..64 {
            let ones = words.iter().filter(|w| (*w >> bit) & 1 == 1).count() as f64;
            assert!((ones / n as f64 - 0.5).abs() < 0.02, "bit {bit}: {ones}");
        }
        let u: Vec<f64> = words.iter().map(|&w| unit(w) - 0.5).collect();
        let corr: f64 = u.windows(2).map(|p| p[0] * p[1]).sum::<f64>() / (n as f64 / 12.0);
        assert!(corr.abs() < 0.035, "correlation {corr}");
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

    /// The inverse of [`mix`]: what builds a pair of replications that collide.
    fn unmix(mut z: u64) -> u64 {
        fn unshift(z: u64, s: u32) -> u64 {
            let mut x = z;
            for _ in 0..64 / s {
                x = z ^ (x >> s);
            }
            x
        }
        fn inverse(a: u64) -> u64 {
            // Newton's iteration for the inverse of an odd number modulo 2⁶⁴.
            let mut x = a;
            for _ in 0..6 {
                x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
            }
            x
        }
        z = unshift(z, 31);
        z = unshift(z.wrapping_mul(inverse(0x94D0_49BB_1331_11EB)), 27);
        z = unshift(z.wrapping_mul(inverse(0xBF58_476D_1CE4_E5B9)), 30);
        z.wrapping_sub(GAMMA)
    }

    /// The keys of a replication's streams over a block of (task, step) counters.
    fn keys_of(keys: u64, ids: std::ops::Range<u32>, steps: u32) -> HashSet<u64> {
        ids.flat_map(|id| (0..steps).map(move |s| step_key(keys, id, s)))
            .collect()
    }

    use std::collections::HashSet;

    #[test]
    fn mix_is_inverted() {
        for z in [0, 1, 42, u64::MAX, GAMMA, 0x1234_5678_9ABC_DEF0] {
            assert_eq!(unmix(mix(z)), z);
        }
    }

    #[test]
    fn replications_never_share_their_streams() {
        // Under derivation 2 (`mix(keys ^ (id << 32 | step))`) a scenario seed can be built
        // whose replication 0 draws exactly what seed 1's does, task `id ^ 1` for task `id`:
        // pick the other replication's keys as ours XOR 2³², and invert `mix` back to a seed.
        let old = |keys: u64, id: u32, step: u32| mix(keys ^ (((id as u64) << 32) | step as u64));
        let ours = step_keys(replication_seed(1, 0));
        let theirs = ours ^ (1 << 32);
        let rep_seed = unmix(theirs) ^ STEP_STREAM;
        let seed = unmix(rep_seed) ^ mix(1);
        assert_eq!(step_keys(replication_seed(seed, 0)), theirs);
        for (id, step) in [(0, 0), (1, 5), (1000, 9), (77, SPAWN)] {
            assert_eq!(old(ours, id, step), old(theirs, id ^ 1, step));
        }
        // Mixed before it meets the key, the counter leaves no stream in common.
        let a = keys_of(ours, 0..2000, 20);
        let b = keys_of(theirs, 0..2000, 20);
        assert_eq!(a.len(), 40_000);
        assert!(
            a.is_disjoint(&b),
            "{} streams shared",
            a.intersection(&b).count()
        );

        // The same for the model's keyed streams: seeds whose `mix(seed ^ TASK_STREAM)` differ
        // by 1 gave task `id` of one the stream of task `id ^ 1` of the other.
        let base = mix(5 ^ TASK_STREAM);
        let other = unmix(base ^ 1) ^ TASK_STREAM;
        let old_task = |seed: u64, id: u64| mix(mix(seed ^ TASK_STREAM) ^ id);
        assert_eq!(old_task(5, 8), old_task(other, 9));
        let a: HashSet<u64> = (0..5000).map(|id| task_rng(5, id).key()).collect();
        let b: HashSet<u64> = (0..5000).map(|id| task_rng(other, id).key()).collect();
        assert!(a.is_disjoint(&b));

        // Cells: replication seeds that differed by `mix(3) ^ mix(4)` shared every cell
        // stream of step 3 with step 4 of the other; priorities likewise.
        let rs = replication_seed(1, 0);
        let rs2 = rs ^ mix(3) ^ mix(4);
        let old_cell = |rs: u64, step: u32, cell: u64, key: u64| {
            let c = mix(rs ^ CELL_STREAM ^ mix(step as u64)) ^ mix(cell ^ 0x5555_5555_5555_5555);
            mix(c ^ mix(key))
        };
        assert_eq!(old_cell(rs, 3, 10, 7), old_cell(rs2, 4, 10, 7));
        let cells = |rs: u64| -> HashSet<u64> {
            (0..8u32)
                .flat_map(|s| (0..200u64).map(move |c| cell_rng(rs, s, c, 7).key()))
                .collect()
        };
        assert!(cells(rs).is_disjoint(&cells(rs2)));
        let rs3 = rs ^ mix(3 ^ 0xA5A5_A5A5_0000_0000) ^ mix(4 ^ 0xA5A5_A5A5_0000_0000);
        let ranks = |rs: u64| -> HashSet<u64> {
            (0..8u32)
                .flat_map(|s| (0..200u32).map(move |id| priority(rs, s, id)))
                .collect()
        };
        assert!(ranks(rs).is_disjoint(&ranks(rs3)));
    }

    #[test]
    fn a_replication_never_repeats_a_key() {
        // One-to-one within a replication: the counter's mix and the key's are bijections.
        assert_eq!(keys_of(step_keys(9), 0..3000, 30).len(), 90_000);
        let ranks: HashSet<u64> = (0..50_000).map(|id| priority(9, 3, id)).collect();
        assert_eq!(ranks.len(), 50_000);
    }

    #[test]
    fn replication_seeds_differ() {
        let seeds: std::collections::HashSet<u64> =
            (0..1000).map(|r| replication_seed(42, r)).collect();
        assert_eq!(seeds.len(), 1000);
    }
}
