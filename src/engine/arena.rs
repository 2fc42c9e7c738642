//! The arena: a grid of cells split into shards, and cell storage that fits the density.
//!
//! Cells are numbered row-major, `cell = y · width + x`; a `1 × N` grid serves as `N` bins.
//! The [`Partition`] gives each shard a contiguous block of cells and a contiguous block of task
//! ids, so a shard's tasks and cells are found by one division, and messages gathered from the
//! shards in shard order are already in task-id order.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// The arena's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Cells per row.
    pub width: u64,
    /// Rows.
    pub height: u64,
}

impl Grid {
    /// A `width × height` grid.
    pub const fn new(width: u64, height: u64) -> Self {
        Grid { width, height }
    }

    /// The number of cells (saturating: an absurd grid reads as `u64::MAX` cells, which every
    /// check refuses, rather than wrapping to a small number).
    pub const fn cells(&self) -> u64 {
        self.width.saturating_mul(self.height)
    }

    /// The cell at column `x`, row `y`.
    #[inline]
    pub const fn cell(&self, x: u64, y: u64) -> u64 {
        y * self.width + x
    }
}

/// The most cells one shard holds: 2³², so that a message names its cell as a 32-bit offset
/// into the destination shard's block.
pub(crate) const MAX_CELLS_PER_SHARD: u64 = 1 << 32;

/// The largest shard count (the exchange at a step boundary is quadratic in shards).
pub const MAX_SHARDS: u64 = 4096;
/// The most cells an arena may have: [`MAX_SHARDS`] shards of 2³² cells.
pub const MAX_CELLS: u64 = MAX_SHARDS * MAX_CELLS_PER_SHARD;

/// Which shard owns which cells and which tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    shards: usize,
    cells_per_shard: u64,
    tasks_per_shard: u64,
    by_cells: Divisor,
    by_tasks: Divisor,
}

impl Partition {
    /// Splits `cells` cells and `tasks` tasks into `shards` contiguous blocks (the last blocks
    /// may be short or empty).
    ///
    /// # Panics
    /// If `shards` is zero, or fewer than [`Partition::min_shards`] (validation refuses both
    /// before a run is built).
    pub fn new(shards: usize, cells: u64, tasks: u64) -> Self {
        assert!(shards > 0, "a partition needs at least one shard");
        let n = shards as u64;
        let cells_per_shard = cells.div_ceil(n).max(1);
        assert!(
            cells_per_shard <= MAX_CELLS_PER_SHARD,
            "{cells} cells need at least {} shards",
            Self::min_shards(cells)
        );
        let tasks_per_shard = tasks.div_ceil(n).max(1);
        Partition {
            shards,
            cells_per_shard,
            tasks_per_shard,
            by_cells: Divisor::new(cells_per_shard, cells),
            by_tasks: Divisor::new(tasks_per_shard, u32::MAX as u64 + 1),
        }
    }

    /// The fewest shards an arena of `cells` cells can be split into: a shard holds at most
    /// [`MAX_CELLS_PER_SHARD`] cells, so that a message names its cell in 32 bits.
    pub const fn min_shards(cells: u64) -> u64 {
        let n = cells.div_ceil(MAX_CELLS_PER_SHARD);
        if n == 0 { 1 } else { n }
    }

    /// The number of shards.
    pub const fn shards(&self) -> usize {
        self.shards
    }

    /// The shard that owns `cell`.
    #[inline]
    pub fn cell_shard(&self, cell: u64) -> usize {
        // The divisor would give 0 too; the branch is kept because it measured ~9% faster on
        // the 1-shard engine bench than the multiply it skips.
        if self.shards == 1 {
            0
        } else {
            self.by_cells.divide(cell) as usize
        }
    }

    /// The shard that owns `cell`, and the cell's offset into that shard's block.
    #[inline]
    pub fn locate_cell(&self, cell: u64) -> (usize, u32) {
        let shard = self.cell_shard(cell);
        (shard, (cell - shard as u64 * self.cells_per_shard) as u32)
    }

    /// The shard that runs task `task`.
    #[inline]
    pub fn task_shard(&self, task: u32) -> usize {
        if self.shards == 1 {
            0
        } else {
            self.by_tasks.divide(task as u64) as usize
        }
    }

    /// The cells of `shard`, clipped to `cells`.
    pub fn cell_range(&self, shard: usize, cells: u64) -> std::ops::Range<u64> {
        let lo = (shard as u64 * self.cells_per_shard).min(cells);
        lo..(lo + self.cells_per_shard).min(cells)
    }

    /// The task ids of `shard`, clipped to `tasks`.
    pub fn task_range(&self, shard: usize, tasks: u64) -> std::ops::Range<u64> {
        let lo = (shard as u64 * self.tasks_per_shard).min(tasks);
        lo..(lo + self.tasks_per_shard).min(tasks)
    }
}

/// Division by a fixed divisor, as a multiplication: finding a message's owner shard is a
/// division per message, and a hardware divide costs more than the rest of the lookup.
///
/// With `m = ⌈2⁶⁴/d⌉` (computed as `⌊(2⁶⁴ − 1)/d⌋ + 1`), the quotient `⌊n/d⌋` is the high
/// word of `m·n` whenever `n·d < 2⁶⁴`: the error `n·(m − 2⁶⁴/d)/2⁶⁴ < n/2⁶⁴` is then below
/// `1/d`, too small to reach the next multiple of `1/d` above `n/d`. [`Divisor::new`] checks that bound for the largest
/// numerator it will see and otherwise keeps the hardware divide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Divisor {
    d: u64,
    /// `⌈2⁶⁴/d⌉`, or 0 to divide in hardware.
    magic: u64,
}

impl Divisor {
    /// Divides numerators below `limit` by `d` (`d ≥ 1`).
    pub(crate) const fn new(d: u64, limit: u64) -> Self {
        let exact = d > 1 && limit.checked_mul(d).is_some();
        let magic = if exact { u64::MAX / d + 1 } else { 0 };
        Divisor { d, magic }
    }

    /// `⌊n/d⌋`, for `n` below the limit given to [`Divisor::new`].
    #[inline(always)]
    pub(crate) fn divide(self, n: u64) -> u64 {
        if self.magic != 0 {
            ((self.magic as u128 * n as u128) >> 64) as u64
        } else {
            n / self.d
        }
    }
}

/// A set of cells of one shard's block, named by their offsets in the block (as
/// [`crate::CellCtx::offset`] gives them), stored as a bitmap when dense and a hash set when
/// sparse.
///
/// The choice is made from the expected number of members: a bitmap costs one bit per cell,
/// a hash set about 18 bytes per member; the cheaper wins. The
/// 10000×10000 arena with 1M claims costs 12.5 MB as a bitmap, not 100 MB as a byte per cell.
#[derive(Clone, Debug)]
pub struct CellSet {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// One bit per cell. No running count: keeping one would make every insert wait for the
    /// previous one's cache miss (a read-modify-write chain through memory); `len` counts bits.
    Dense {
        words: Vec<u64>,
    },
    Sparse(HashSet<u64, BuildHasherDefault<MixHasher>>),
}

/// What a sparse [`CellSet`] member costs, on average, in bytes (8-byte key, control byte,
/// and the hash table's spare capacity at its worst load factor).
pub(crate) const SPARSE_BYTES_PER_MEMBER: u64 = 18;

impl CellSet {
    /// An empty set over a block of `size` cells, sized for about `expected` members.
    pub fn new(size: u64, expected: u64) -> Self {
        let repr = if Self::dense_bytes(size) <= Self::sparse_bytes(expected) {
            Repr::Dense {
                words: zeroed(size.div_ceil(64) as usize),
            }
        } else {
            Repr::Sparse(HashSet::with_capacity_and_hasher(
                expected as usize,
                Default::default(),
            ))
        };
        CellSet { repr }
    }

    /// Bytes a dense set over `cells` cells takes.
    pub const fn dense_bytes(cells: u64) -> u64 {
        cells.div_ceil(64) * 8
    }

    /// Bytes a sparse set with `members` members takes, about.
    pub const fn sparse_bytes(members: u64) -> u64 {
        members * SPARSE_BYTES_PER_MEMBER
    }

    /// What a set over `cells` cells with about `members` members will take.
    pub const fn estimate_bytes(cells: u64, members: u64) -> u64 {
        let (d, s) = (Self::dense_bytes(cells), Self::sparse_bytes(members));
        if d <= s { d } else { s }
    }

    /// Adds the cell at `offset`; true if it was not there before.
    #[inline]
    pub fn insert(&mut self, offset: usize) -> bool {
        let i = offset as u64;
        match &mut self.repr {
            Repr::Dense { words } => {
                let (w, bit) = ((i / 64) as usize, 1u64 << (i % 64));
                let fresh = words[w] & bit == 0;
                words[w] |= bit;
                fresh
            }
            Repr::Sparse(set) => set.insert(i),
        }
    }

    /// Hints that `cell` will be inserted or looked up soon: a dense set asks the CPU to
    /// fetch the cell's word now, so that handling a batch of messages overlaps the cache
    /// misses instead of paying them one after another. A sparse set does nothing.
    #[inline(always)]
    pub fn prefetch(&self, offset: usize) {
        if let Repr::Dense { words } = &self.repr
            && let Some(word) = words.get(offset / 64)
        {
            crate::engine::prefetch::prefetch_read(word);
        }
    }

    /// Whether the cell at `offset` is in the set.
    #[inline]
    pub fn contains(&self, offset: usize) -> bool {
        let i = offset as u64;
        match &self.repr {
            Repr::Dense { words, .. } => words[(i / 64) as usize] & (1 << (i % 64)) != 0,
            Repr::Sparse(set) => set.contains(&i),
        }
    }

    /// The number of members.
    pub fn len(&self) -> u64 {
        match &self.repr {
            Repr::Dense { words } => words.iter().map(|w| w.count_ones() as u64).sum(),
            Repr::Sparse(set) => set.len() as u64,
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every member, keeping the memory (what a model's
    /// [`crate::Model::reset_cells`] does to reuse a set in the next replication). The set is
    /// then the same as [`CellSet::new`] with the same arguments made it.
    pub fn clear(&mut self) {
        match &mut self.repr {
            Repr::Dense { words } => words.fill(0),
            Repr::Sparse(set) => set.clear(),
        }
    }

    /// Whether this set chose the bitmap.
    pub fn is_dense(&self) -> bool {
        matches!(self.repr, Repr::Dense { .. })
    }
}

/// How a [`CellSet`] is written: its words, or its members in increasing order (so that the
/// same set gives the same bytes whatever the history of its hash table).
#[derive(serde::Serialize)]
enum SavedRef<'a> {
    Dense(&'a [u64]),
    Sparse(Vec<u64>),
}

/// [`SavedRef`], read back.
#[derive(serde::Deserialize)]
enum Saved {
    Dense(Vec<u64>),
    Sparse(Vec<u64>),
}

impl serde::Serialize for CellSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.repr {
            Repr::Dense { words } => SavedRef::Dense(words),
            Repr::Sparse(set) => {
                let mut members: Vec<u64> = set.iter().copied().collect();
                members.sort_unstable();
                SavedRef::Sparse(members)
            }
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for CellSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = match Saved::deserialize(d)? {
            Saved::Dense(words) => Repr::Dense { words },
            Saved::Sparse(members) => Repr::Sparse(members.into_iter().collect()),
        };
        Ok(CellSet { repr })
    }
}

impl CellSet {
    /// Every member, as offsets (in no particular order for a sparse set).
    fn members(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match &self.repr {
            Repr::Dense { words } => Box::new(words.iter().enumerate().flat_map(|(w, &bits)| {
                let mut bits = bits;
                std::iter::from_fn(move || {
                    (bits != 0).then(|| {
                        let b = bits.trailing_zeros() as u64;
                        bits &= bits - 1;
                        w as u64 * 64 + b
                    })
                })
            })),
            Repr::Sparse(set) => Box::new(set.iter().copied()),
        }
    }

    /// Cuts off the cells from offset `at` on of a block of `len` (see [`crate::CellBlock`]);
    /// a dense set keeps exactly the words its cells need, the tail is as dense as the head.
    pub(crate) fn split_block(&mut self, len: u64, at: u64) -> CellSet {
        let at = at.min(len);
        match &mut self.repr {
            Repr::Dense { words } => {
                let mut tail = vec![0u64; (len - at).div_ceil(64) as usize];
                let first = (at / 64) as usize;
                for (w, &bits) in words.iter().enumerate().skip(first) {
                    let mut bits = bits;
                    while bits != 0 {
                        let i = w as u64 * 64 + bits.trailing_zeros() as u64;
                        bits &= bits - 1;
                        if i >= at && i < len {
                            let o = i - at;
                            tail[(o / 64) as usize] |= 1 << (o % 64);
                        }
                    }
                }
                words.resize(at.div_ceil(64) as usize, 0);
                if !at.is_multiple_of(64)
                    && let Some(last) = words.last_mut()
                {
                    *last &= (1u64 << (at % 64)) - 1;
                }
                CellSet {
                    repr: Repr::Dense { words: tail },
                }
            }
            Repr::Sparse(set) => {
                let moved: Vec<u64> = set.iter().copied().filter(|&i| i >= at).collect();
                let mut tail = HashSet::with_capacity_and_hasher(moved.len(), Default::default());
                for i in moved {
                    set.remove(&i);
                    tail.insert(i - at);
                }
                CellSet {
                    repr: Repr::Sparse(tail),
                }
            }
        }
    }

    /// Joins `next` (the cells after this block's `len`) onto the end.
    pub(crate) fn append_block(&mut self, len: u64, next: CellSet) {
        let next_words = match &next.repr {
            Repr::Dense { words } => words.len() as u64,
            Repr::Sparse(_) => 0,
        };
        if let Repr::Dense { words } = &mut self.repr {
            let need = (len.div_ceil(64) * 64 + next_words * 64).div_ceil(64) as usize;
            if words.len() < need {
                words.resize(need, 0);
            }
        }
        for m in next.members() {
            let i = len + m;
            if let Repr::Dense { words } = &mut self.repr {
                let w = (i / 64) as usize;
                if w >= words.len() {
                    words.resize(w + 1, 0);
                }
            }
            self.insert(i as usize);
        }
    }
}

/// `n` zero words, written rather than mapped: `vec![0; n]` gets lazily-zeroed pages from the
/// kernel, and a bitmap that is read before it is written then faults twice per page (a read
/// fault maps the shared zero page, the first write faults again to copy it).
#[allow(clippy::slow_vector_initialization)] // writing the zeros is the point
fn zeroed(n: usize) -> Vec<u64> {
    let mut words = Vec::with_capacity(n);
    words.resize(n, 0);
    words
}

/// A fast hasher for cell offsets: one SplitMix64 round. Keys are not attacker-controlled.
#[derive(Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = crate::engine::rng::mix(self.0 ^ b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = crate::engine::rng::mix(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn partition_covers_every_cell_and_task_once() {
        for shards in [1, 2, 7, 64] {
            let p = Partition::new(shards, 1000, 333);
            let cells: u64 = (0..shards)
                .map(|s| p.cell_range(s, 1000).count() as u64)
                .sum();
            let tasks: u64 = (0..shards)
                .map(|s| p.task_range(s, 333).count() as u64)
                .sum();
            assert_eq!((cells, tasks), (1000, 333));
            for c in 0..1000 {
                assert!(p.cell_range(p.cell_shard(c), 1000).contains(&c));
            }
            for t in 0..333u32 {
                assert!(p.task_range(p.task_shard(t), 333).contains(&(t as u64)));
            }
        }
    }

    #[test]
    fn the_seed_arena_is_a_bitmap_of_12_5_megabytes() {
        let set = CellSet::new(100_000_000, 1_000_000);
        assert!(set.is_dense());
        assert_eq!(CellSet::estimate_bytes(100_000_000, 1_000_000), 12_500_000);
    }

    #[test]
    fn a_huge_sparse_arena_uses_a_hash_set() {
        let set = CellSet::new(10_000_000_000, 1000);
        assert!(!set.is_dense());
    }

    #[test]
    fn divisor_is_exact_at_the_edges() {
        for d in [
            1u64,
            2,
            3,
            7,
            64,
            625_000,
            6_250_001,
            (1 << 32) - 1,
            1 << 32,
        ] {
            let limit = 1u64 << 32;
            let div = Divisor::new(d, limit);
            let edges = [0, 1, d - 1, d, d + 1, 2 * d - 1, limit - 1, limit / 2];
            for n in edges.into_iter().filter(|&n| n < limit) {
                assert_eq!(div.divide(n), n / d, "{n} / {d}");
            }
        }
        // Past the bound the hardware divide is kept.
        let div = Divisor::new(3, u64::MAX);
        assert_eq!(div.magic, 0);
        assert_eq!(div.divide(u64::MAX), u64::MAX / 3);
    }

    #[test]
    fn a_shard_holds_at_most_2_to_the_32_cells() {
        assert_eq!(Partition::min_shards(0), 1);
        assert_eq!(Partition::min_shards(MAX_CELLS_PER_SHARD), 1);
        assert_eq!(Partition::min_shards(MAX_CELLS_PER_SHARD + 1), 2);
        assert_eq!(Partition::min_shards(10_000_000_000), 3);
        let p = Partition::new(3, 10_000_000_000, 10);
        assert_eq!(p.locate_cell(9_999_999_999), (2, 3_333_333_331));
    }

    #[test]
    #[should_panic(expected = "need at least 3 shards")]
    fn too_few_shards_for_the_arena_is_refused() {
        Partition::new(2, 10_000_000_000, 10);
    }

    proptest! {
        /// A cell's owner and offset locate it: the owner's block starts `offset` cells before it.
        #[test]
        fn locate_cell_round_trips(cells in 1u64..100_000_000_000, shards in 1usize..4096, r in any::<u64>()) {
            let shards = shards.max(Partition::min_shards(cells) as usize);
            let p = Partition::new(shards, cells, 1);
            let cell = r % cells;
            let (shard, offset) = p.locate_cell(cell);
            prop_assert_eq!(p.cell_range(shard, cells).start + offset as u64, cell);
            prop_assert!(p.cell_range(shard, cells).contains(&cell));
        }

        /// The multiply-shift quotient equals the hardware quotient for every numerator below
        /// the limit, on arenas up to 10¹² cells and any shard count.
        #[test]
        fn divisor_agrees_with_division(cells in 1u64..1_000_000_000_000, shards in 1u64..4096, r in any::<u64>()) {
            let d = cells.div_ceil(shards);
            let div = Divisor::new(d, cells);
            let n = r % cells;
            prop_assert_eq!(div.divide(n), n / d);
        }

        /// Dense and sparse sets agree with a reference set on any sequence of inserts.
        #[test]
        fn dense_and_sparse_agree(cells in proptest::collection::vec(0u64..500, 0..300)) {
            let mut dense = CellSet::new(500, 1_000_000);
            let mut sparse = CellSet::new(500, 1);
            prop_assert!(dense.is_dense() && !sparse.is_dense());
            let mut reference = std::collections::BTreeSet::new();
            for c in cells {
                let fresh = reference.insert(c);
                let c = c as usize;
                prop_assert_eq!(dense.insert(c), fresh);
                prop_assert_eq!(sparse.insert(c), fresh);
                prop_assert!(dense.contains(c) && sparse.contains(c));
            }
            prop_assert_eq!(dense.len(), reference.len() as u64);
            prop_assert_eq!(sparse.len(), reference.len() as u64);
        }
    }
}
