//! What a model provides to be snapshotted: its messages and cells as bytes, and its cells cut
//! and joined again, so that a snapshot taken at one shard count resumes at another.
//!
//! A model opts in by returning `Some(Codec::new())` from [`crate::Model::codec`]; that
//! compiles when its messages are serde and its cells a [`CellBlock`]. Task states are serde
//! for every model already.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// One shard's cell state, as a block of cells that can be cut in two and joined again
/// (a checkpoint taken with 16 shards resumes with 4: the blocks are joined, then cut at the
/// new boundaries). Offsets are counted from the block's first cell, as in
/// [`crate::Model::cells`].
///
/// `Vec<T>` (one element per cell) and `()` (no arena) implement it; a model whose cells are
/// a struct of per-cell vectors cuts and joins each, as the built-in models do:
///
/// ```
/// use microsim::CellBlock;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Cells { visits: Vec<u32>, owner: Vec<u64> }
///
/// impl CellBlock for Cells {
///     fn split_off(&mut self, _len: u64, at: u64) -> Self {
///         Cells {
///             visits: self.visits.split_off(at as usize),
///             owner: self.owner.split_off(at as usize),
///         }
///     }
///     fn append(&mut self, _len: u64, mut next: Self) {
///         self.visits.append(&mut next.visits);
///         self.owner.append(&mut next.owner);
///     }
/// }
/// ```
pub trait CellBlock: Serialize + DeserializeOwned {
    /// Cuts off the cells from offset `at` on (this block holds `len` cells, `at <= len`) and
    /// returns them as a block of their own, its offsets counted from 0.
    fn split_off(&mut self, len: u64, at: u64) -> Self;

    /// Joins `next`, the block of the cells right after this one's `len`, onto the end.
    fn append(&mut self, len: u64, next: Self);
}

impl CellBlock for () {
    fn split_off(&mut self, _len: u64, _at: u64) -> Self {}
    fn append(&mut self, _len: u64, _next: Self) {}
}

impl<T: Serialize + DeserializeOwned> CellBlock for Vec<T> {
    fn split_off(&mut self, _len: u64, at: u64) -> Self {
        let at = (at as usize).min(self.len());
        Vec::split_off(self, at)
    }
    fn append(&mut self, _len: u64, mut next: Self) {
        Vec::append(self, &mut next);
    }
}

impl CellBlock for crate::engine::arena::CellSet {
    fn split_off(&mut self, len: u64, at: u64) -> Self {
        self.split_block(len, at)
    }
    fn append(&mut self, len: u64, next: Self) {
        self.append_block(len, next)
    }
}

/// How the engine writes a model's messages and cells into a snapshot and reads them back:
/// built by [`Codec::new`] for a model whose messages are serde and whose cells are a
/// [`CellBlock`]; see [`crate::Model::codec`].
pub struct Codec<Msg, Cells> {
    pub(crate) msgs_to_bytes: fn(&[Msg]) -> Result<Vec<u8>, String>,
    pub(crate) msgs_from_bytes: fn(&[u8]) -> Result<Vec<Msg>, String>,
    pub(crate) cells_to_bytes: fn(&Cells) -> Result<Vec<u8>, String>,
    pub(crate) cells_from_bytes: fn(&[u8]) -> Result<Cells, String>,
    pub(crate) split_off: fn(&mut Cells, u64, u64) -> Cells,
    pub(crate) append: fn(&mut Cells, u64, Cells),
}

impl<Msg: Serialize + DeserializeOwned, Cells: CellBlock> Codec<Msg, Cells> {
    /// The codec of a model with these messages and cells (serde, in postcard's format).
    pub fn new() -> Self {
        Codec {
            msgs_to_bytes: |m| to_bytes(m),
            msgs_from_bytes: |b| from_bytes(b),
            cells_to_bytes: |c| to_bytes(c),
            cells_from_bytes: |b| from_bytes(b),
            split_off: |c, len, at| c.split_off(len, at),
            append: |c, len, next| c.append(len, next),
        }
    }
}

impl<Msg: Serialize + DeserializeOwned, Cells: CellBlock> Default for Codec<Msg, Cells> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Msg, Cells> std::fmt::Debug for Codec<Msg, Cells> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codec")
    }
}

/// `value` in postcard's format (an error names what serde could not write, e.g. a map whose
/// length is not known in advance).
pub(crate) fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_stdvec(value).map_err(|e| e.to_string())
}

/// A value read back from [`to_bytes`]; every byte must be used.
pub(crate) fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, rest) = postcard::take_from_bytes(bytes).map_err(|e| e.to_string())?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(format!("{} bytes left over", rest.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_cut_and_join_back_to_themselves() {
        let mut v: Vec<u32> = (0..10).collect();
        let tail = CellBlock::split_off(&mut v, 10, 4);
        assert_eq!((v.len(), tail[0]), (4, 4));
        CellBlock::append(&mut v, 4, tail);
        assert_eq!(v, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_codec_round_trips_messages_and_refuses_leftovers() {
        let codec = Codec::<(u8, i64), Vec<u16>>::new();
        let msgs = vec![(1u8, -5i64), (2, 7)];
        let bytes = (codec.msgs_to_bytes)(&msgs).unwrap();
        assert_eq!((codec.msgs_from_bytes)(&bytes).unwrap(), msgs);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!((codec.msgs_from_bytes)(&longer).is_err());
        assert!((codec.msgs_from_bytes)(&bytes[..bytes.len() - 1]).is_err());
    }
}
