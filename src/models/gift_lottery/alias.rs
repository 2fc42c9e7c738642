//! The alias table behind weighted bins (Vose 1991).

/// A Vose alias table: draws index `i` with probability `w_i / Σw` in O(1).
///
/// Entry `i` holds a threshold and an alias: draw a column `i` uniformly, then a 32-bit coin
/// `c`; the result is `i` if `c < threshold_i`, else `alias_i`. Thresholds are probabilities
/// scaled by 2³² and rounded, so each draw's probability is exact to about 2⁻³³ per column.
/// Full columns have `threshold = u32::MAX` and alias themselves. Every draw uses exactly one
/// 64-bit word of the task's stream: the high half of `word · n` picks the column, the top of
/// the low half tosses the coin (see [`AliasTable::draw`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasTable {
    entries: Vec<AliasEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AliasEntry {
    threshold: u32,
    alias: u32,
}

impl AliasTable {
    /// A table for these non-negative, finite weights (at least one positive, at most
    /// `u32::MAX` of them).
    ///
    /// # Panics
    /// If the weights are empty, too many, negative, not finite or all zero.
    pub fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        assert!(
            n > 0 && n as u64 <= u32::MAX as u64,
            "an alias table needs 1 to 2^32-1 weights"
        );
        assert!(
            weights.iter().all(|w| w.is_finite() && *w >= 0.0),
            "weights must be finite and ≥ 0"
        );
        let total: f64 = weights.iter().sum();
        assert!(
            total > 0.0 && total.is_finite(),
            "weights must not all be zero"
        );
        let scale = n as f64 / total;
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * scale).collect();
        // Two stacks in one array of n (an index is on at most one of them): the small
        // columns grow up from the front, the large ones down from the back.
        let mut work = vec![0u32; n];
        let (mut small, mut large) = (0usize, n);
        for (i, &p) in scaled.iter().enumerate() {
            if p < 1.0 {
                work[small] = i as u32;
                small += 1;
            } else {
                large -= 1;
                work[large] = i as u32;
            }
        }
        let full = |i: u32| AliasEntry {
            threshold: u32::MAX,
            alias: i,
        };
        let mut entries: Vec<AliasEntry> = (0..n as u32).map(full).collect();
        while small > 0 && large < n {
            small -= 1;
            let s = work[small];
            let l = work[large];
            large += 1;
            let p = scaled[s as usize];
            let threshold = (p * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
            entries[s as usize] = AliasEntry {
                threshold,
                alias: l,
            };
            // Vose: (p_l + p_s) − 1 loses less than p_l − (1 − p_s).
            scaled[l as usize] = (scaled[l as usize] + p) - 1.0;
            if scaled[l as usize] < 1.0 {
                work[small] = l;
                small += 1;
            } else {
                large -= 1;
                work[large] = l;
            }
        }
        // Whatever is left (large ones, or small ones short of 1 by rounding) is full.
        AliasTable { entries }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Draws one index from one uniform 64-bit word `r`: the high half of `r · n` picks the
    /// entry, the top 32 bits of the low half toss its coin. One word per draw, always, so
    /// the stream stays aligned across variants (see [`super::GiftLottery`]).
    #[inline]
    pub fn draw(&self, r: u64) -> u32 {
        let (i, frac) = crate::draw::scale(r, self.entries.len() as u64);
        let e = self.entries[i as usize];
        if ((frac >> 32) as u32) < e.threshold {
            i as u32
        } else {
            e.alias
        }
    }

    /// The exact probability of each index under this table (for checks), `O(n)`.
    pub fn probabilities(&self) -> Vec<f64> {
        let n = self.entries.len() as f64;
        let mut p = vec![0.0; self.entries.len()];
        for (i, e) in self.entries.iter().enumerate() {
            let keep = e.threshold as f64 / 4_294_967_296.0;
            p[i] += keep / n;
            p[e.alias as usize] += (1.0 - keep) / n;
        }
        p
    }

    /// Bytes a table of `n` columns takes.
    pub const fn bytes(n: u64) -> u64 {
        n * std::mem::size_of::<AliasEntry>() as u64
    }

    /// The most bytes building a table of `n` columns from `n` weights holds at once: the
    /// weights (8 bytes each), their scaled copy (8), the work stacks (4) and the table.
    pub const fn build_bytes(n: u64) -> u64 {
        n.saturating_mul(20).saturating_add(Self::bytes(n))
    }
}
