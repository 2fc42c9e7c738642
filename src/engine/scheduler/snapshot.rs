//! Snapshots: a whole simulation at a step boundary, as bytes, restored at any shard count.
//!
//! A [`Snapshot`] holds every task's state and wake step; every
//! shard's cells; the messages in flight (sent in the last step, to be handled in the next);
//! the step count, the model's counters, the kept step rows and the engine's histograms; and
//! the settings and seed. Nothing in it depends on the shard count it was taken at: tasks are
//! kept in id order, cells as blocks that are joined and cut again at the new boundaries
//! ([`crate::CellBlock`]), messages with their global destinations and keys, in delivery
//! order. So a simulation restored with any shard count (and stepped at any thread count)
//! goes on exactly as the original would have.
//!
//! The state is cut into pieces (up to [`TASKS_PER_PIECE`] tasks, one shard's cells, one
//! shard's mail), each written in postcard's format and compressed with zstd, in parallel.

use std::io::Read;
use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Order, Settings, Shard, Simulation, arena_cells, shard::Mover};
use crate::engine::arena::{MAX_SHARDS, Partition};
use crate::engine::channel::{Envelope, TaskEnvelope};
use crate::engine::codec::{Codec, from_bytes, to_bytes};
use crate::engine::model::{Counts, Model};
use crate::engine::stats::{EngineHistograms, StepRow, hist_bytes, hist_from};
use crate::engine::task::{DONE, Slot, TaskId, WAITING};

mod pieces;

use pieces::{Decoded, decode_piece, encode_mail, regroup};
pub(super) use pieces::{PlacedTask, Tasks, decode_slots};

/// The most tasks in one piece of a snapshot (pieces are written and read in parallel).
pub(super) const TASKS_PER_PIECE: usize = 1 << 18;

/// zstd's level for snapshots: its fastest regular level (about 0.5 GB/s per core), which
/// still shrinks task states several times.
const ZSTD_LEVEL: i32 = 1;

/// Why a snapshot could not be taken or restored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    /// The model did not opt in ([`crate::Model::codec`]).
    #[error(
        "the model `{model}` cannot be snapshotted: it does not implement `Model::codec` \
         (return `Some(Codec::new())` from it; its messages must be serde and its cells a \
         `CellBlock`)"
    )]
    NotSupported {
        /// The model's type.
        model: String,
    },
    /// The last step was cut short by the stop flag: the state is not at a step boundary.
    #[error("the last step was cut short: a snapshot is taken only at a step boundary")]
    MidStep,
    /// The model's state could not be written.
    #[error("the model's state could not be written: {0}")]
    Encode(String),
    /// The bytes are not a snapshot, or a damaged one.
    #[error("the snapshot is damaged: {0}")]
    Damaged(String),
    /// The snapshot is of another model, or of a model with another number of tasks or cells.
    #[error("the snapshot does not fit this model: {0}")]
    Mismatch(String),
    /// The ranks sharing the simulation could not exchange its parts.
    #[error("the ranks could not exchange the simulation's parts: {0}")]
    Exchange(String),
    /// The shard count cannot hold the arena.
    #[error("cannot restore with {shards} shards: {why}")]
    Shards {
        /// The shard count asked for.
        shards: usize,
        /// Why not.
        why: String,
    },
}

/// A whole [`Simulation`] at a step boundary: taken by [`Simulation::snapshot`], turned into a
/// simulation again (at any shard count) by [`Simulation::restore`], written as bytes by
/// [`Snapshot::to_bytes`]. Kept compressed in memory.
///
/// ```
/// use microsim::models::musical_chairs::{MusicalChairs, Params};
/// use microsim::{Settings, Simulation};
///
/// let model = MusicalChairs::new(Params { robots: 500, width: 40, height: 40, rounds: 6 });
/// let mut sim = Simulation::new(&model, Settings::default().seed(3).shards(2));
/// sim.run_until(3, |_| true);
/// let at_3 = sim.snapshot().unwrap(); // step 3
/// sim.run(|_| true);
/// let end = sim.report();
///
/// // Roll back to step 3, at another shard count, and run the rest again.
/// let mut again = Simulation::restore(&model, &at_3, 5).unwrap();
/// assert_eq!(again.step_count(), 3);
/// again.run(|_| true);
/// assert_eq!(again.report().metrics(), end.metrics());
/// ```
#[derive(Clone)]
pub struct Snapshot {
    meta: Meta,
    /// The compressed pieces, in the order of `meta.lengths`: tasks, cells, mail.
    pieces: Vec<Vec<u8>>,
}

/// Everything but the pieces.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Meta {
    model: String,
    tasks: u64,
    cells: u64,
    seed: u64,
    order: Order,
    quantum: u32,
    max_steps: u32,
    histograms: bool,
    step: u32,
    counts: Counts,
    steps: Vec<StepRow>,
    /// The engine's histograms, in [`EngineHistograms::named`] order, V2-serialised.
    engine: Vec<Vec<u8>>,
    /// The id the next task born gets (the tasks so far are `0..next_id`, less those gone in a
    /// model with a space).
    next_id: u64,
    /// Whether the task pieces carry each task's id and place (a model with a space);
    /// otherwise they hold tasks `0..next_id` in order.
    placed: bool,
    /// Per task piece: its first task and how many (with places: its index and how many).
    task_pieces: Vec<(u64, u64)>,
    /// Per cell piece: the cells it holds.
    cell_pieces: Vec<(u64, u64)>,
    /// How many mail pieces follow.
    mail_pieces: u64,
    /// Per piece: its length raw and compressed.
    lengths: Vec<(u64, u64)>,
}

/// One shard's mail in flight, in delivery order, as columns (small numbers, which postcard
/// writes in few bytes): cells as offsets from the shard's first cell, keys as sender and
/// sequence number.
#[derive(Serialize, Deserialize)]
struct MailPiece {
    first_cell: u64,
    cell_to: Vec<u32>,
    cell_from: Vec<u32>,
    cell_seq: Vec<u32>,
    cell_msgs: Vec<u8>,
    task_to: Vec<u32>,
    task_from: Vec<u32>,
    task_seq: Vec<u32>,
    task_msgs: Vec<u8>,
    /// Messages cells sent to cells: destination offsets, keys (source cell and sequence).
    from_cell_to: Vec<u32>,
    from_cell_keys: Vec<u64>,
    from_cell_msgs: Vec<u8>,
}

/// A piece of the tasks of a model with a space: per task its id, cell, point (continuous
/// space only) and slot, in id order.
#[derive(Serialize, Deserialize)]
struct PlacedPiece {
    ids: Vec<u32>,
    cells: Vec<u64>,
    points: Vec<[f64; 2]>,
    slots: Vec<u8>,
}

/// A key from its halves.
fn key_of(from: u32, seq: u32) -> u64 {
    ((from as u64) << 32) | seq as u64
}

impl Snapshot {
    /// The step the simulation was at (the steps run so far).
    pub fn step(&self) -> u32 {
        self.meta.step
    }

    /// The replication seed.
    pub fn seed(&self) -> u64 {
        self.meta.seed
    }

    /// The settings the simulation ran with (its shard count is whatever it is restored with).
    pub fn settings(&self) -> Settings {
        Settings {
            seed: self.meta.seed,
            shards: 1,
            order: self.meta.order,
            quantum: self.meta.quantum,
            max_steps: self.meta.max_steps,
            histograms: self.meta.histograms,
        }
    }

    /// The model's type, as Rust names it.
    pub fn model(&self) -> &str {
        &self.meta.model
    }

    /// How many tasks.
    pub fn tasks(&self) -> u64 {
        self.meta.tasks
    }

    /// The state's size before compression, in bytes (about what restoring it reads into
    /// memory, besides the engine's own bookkeeping).
    pub fn raw_bytes(&self) -> u64 {
        self.meta.lengths.iter().map(|l| l.0).sum()
    }

    /// The length of [`Snapshot::to_bytes`].
    pub fn byte_len(&self) -> u64 {
        let pieces: u64 = self.pieces.iter().map(|p| p.len() as u64).sum();
        pieces + 8 + self.header().len() as u64
    }

    fn header(&self) -> Vec<u8> {
        to_bytes(&self.meta).expect("the header is plain data")
    }

    /// Writes [`Snapshot::to_bytes`] to `w`, piece by piece (nothing is gathered in memory).
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let meta = self.header();
        w.write_all(&(meta.len() as u64).to_le_bytes())?;
        w.write_all(&meta)?;
        for p in &self.pieces {
            w.write_all(p)?;
        }
        Ok(())
    }

    /// The snapshot as bytes: the length of the header, the header (postcard), the pieces.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.byte_len() as usize);
        self.write_to(&mut out).expect("writing to memory");
        out
    }

    /// A snapshot read back from [`Snapshot::to_bytes`]. Only the header is checked here (the
    /// pieces must fill the rest exactly); the pieces are checked as they are restored.
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let damaged = |why: &str| SnapshotError::Damaged(why.to_string());
        let (len, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or_else(|| damaged("shorter than its header"))?;
        let len = u64::from_le_bytes(*len);
        if len > rest.len() as u64 {
            return Err(damaged("the header runs past the end"));
        }
        let (head, mut rest) = rest.split_at(len as usize);
        let meta: Meta = from_bytes(head).map_err(|e| damaged(&format!("header: {e}")))?;
        let pieces = meta.task_pieces.len() as u64 + meta.cell_pieces.len() as u64;
        if pieces.checked_add(meta.mail_pieces) != Some(meta.lengths.len() as u64) {
            return Err(damaged("the header counts its pieces wrong"));
        }
        let mut out = Vec::with_capacity(meta.lengths.len());
        for &(_, packed) in &meta.lengths {
            if packed > rest.len() as u64 {
                return Err(damaged("a piece runs past the end"));
            }
            let (piece, tail) = rest.split_at(packed as usize);
            out.push(piece.to_vec());
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(damaged("bytes after the last piece"));
        }
        Ok(Snapshot { meta, pieces: out })
    }
}

impl Snapshot {
    /// Checks a snapshot read back from bytes against itself and against `rows`, the step
    /// rows kept beside it (a checkpoint's): the counters' totals, last values and peaks are
    /// those of the rows; the step is within `max_steps`; the task pieces cover the tasks in
    /// order; the cell pieces are the blocks of a partition of the arena, one per shard, and
    /// each shard's mail goes to cells of that shard and to tasks that exist, from tasks that
    /// exist. What a damaged
    /// checkpoint whose checksum was recomputed could still get past `from_bytes`. The
    /// pieces' contents are checked again when restored.
    pub(crate) fn validate(&self, rows: &[StepRow]) -> Result<(), SnapshotError> {
        let damaged = |why: String| Err(SnapshotError::Damaged(why));
        let meta = &self.meta;
        if meta.step > meta.max_steps {
            return damaged(format!(
                "step {} is past max_steps {}",
                meta.step, meta.max_steps
            ));
        }
        let mut counts = Counts::new(meta.counts.width());
        for row in rows {
            if row.counters.len() != meta.counts.width() {
                return damaged("a step row has other counters than the snapshot".into());
            }
            counts.add(&row.counters);
        }
        if counts != meta.counts {
            return damaged("its counters are not the sum of its step rows".into());
        }
        let mut next = 0u64;
        for &(first, count) in &meta.task_pieces {
            if first != next || count == 0 {
                return damaged("the task pieces do not follow on".into());
            }
            next = first.saturating_add(count);
        }
        let whole = if meta.placed {
            next <= meta.next_id
        } else {
            next == meta.next_id
        };
        if meta.next_id < meta.tasks || !whole {
            return damaged(format!("{next} tasks where {} were written", meta.next_id));
        }
        let shards = meta.cell_pieces.len();
        if shards == 0 || shards as u64 > MAX_SHARDS || meta.mail_pieces != shards as u64 {
            return damaged("its shards do not add up (cells and mail)".into());
        }
        let part = Partition::new(shards, meta.cells, meta.tasks);
        for (s, &(lo, hi)) in meta.cell_pieces.iter().enumerate() {
            if part.cell_range(s, meta.cells) != (lo..hi) {
                return damaged(format!("cell piece {s} is not its shard's cells"));
            }
        }
        let first_mail = meta.task_pieces.len() + shards;
        let mail = self.pieces[first_mail..]
            .iter()
            .zip(&meta.lengths[first_mail..]);
        for (s, (packed, len)) in mail.enumerate() {
            let piece: MailPiece = from_bytes(&unpack(packed, len.0, "mail")?)
                .map_err(|e| SnapshotError::Damaged(format!("mail: {e}")))?;
            let (lo, hi) = meta.cell_pieces[s];
            let outside = |&c: &u32| c as u64 >= hi - lo;
            if piece.first_cell != lo
                || piece.cell_to.iter().any(outside)
                || piece.from_cell_to.iter().any(outside)
            {
                return damaged(format!("shard {s}'s mail goes to cells of another shard"));
            }
            let task = |&t: &u32| t as u64 >= meta.next_id;
            if piece.task_to.iter().any(task) {
                return damaged(format!(
                    "shard {s}'s mail goes to a task that does not exist"
                ));
            }
            // Every key names the task that sent the message (an answer inherits its key; an
            // answer to a message from a cell names no task).
            let sender = |t: &u32| *t != crate::engine::task::Mail::<()>::FROM_CELL && task(t);
            if piece.cell_from.iter().any(task) || piece.task_from.iter().any(sender) {
                return damaged(format!(
                    "shard {s}'s mail is from a task that does not exist"
                ));
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("model", &self.meta.model)
            .field("step", &self.meta.step)
            .field("tasks", &self.meta.tasks)
            .field("pieces", &self.pieces.len())
            .finish()
    }
}

/// `raw`, compressed: (raw length, compressed bytes).
fn pack(raw: Vec<u8>) -> Result<(u64, Vec<u8>), SnapshotError> {
    let packed = zstd::bulk::compress(&raw, ZSTD_LEVEL)
        .map_err(|e| SnapshotError::Encode(format!("compression: {e}")))?;
    Ok((raw.len() as u64, packed))
}

/// A piece decompressed: exactly `raw` bytes, read as they come (nothing is allocated for a
/// length the piece does not hold).
fn unpack(packed: &[u8], raw: u64, what: &str) -> Result<Vec<u8>, SnapshotError> {
    let damaged = |why: String| SnapshotError::Damaged(format!("{what}: {why}"));
    let decoder =
        zstd::stream::read::Decoder::with_buffer(packed).map_err(|e| damaged(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(raw.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| damaged(e.to_string()))?;
    if out.len() as u64 != raw {
        return Err(damaged(format!(
            "{} bytes where {raw} were written",
            out.len()
        )));
    }
    Ok(out)
}

impl<'m, M: Model> Simulation<'m, M> {
    /// The whole simulation as it is now, at a step boundary (see [`Snapshot`]). The model
    /// must have opted in ([`Model::codec`]).
    pub fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        let codec = codec_of(self.model)?;
        if self.cut_short {
            return Err(SnapshotError::MidStep);
        }
        if self.shared.is_some() {
            return Err(SnapshotError::Encode(
                "a replication shared by ranks is snapshotted by all of them together \
                 (`Simulation::snapshot_shared`)"
                    .into(),
            ));
        }
        let cells = arena_cells(self.model);
        // Tasks in id order: each shard's block, or (once tasks have moved or been born)
        // gathered by id; with places, each with its id and place.
        let placed = self.space.is_some();
        let mut all: Vec<PlacedTask<'_, M::Task>> = Vec::new();
        if placed {
            for s in &self.shards {
                for (i, slot) in s.slots.iter().enumerate() {
                    let point = s.points.get(i).copied().unwrap_or_default();
                    all.push((s.ids[i], s.spots[i], point, slot));
                }
            }
            all.sort_unstable_by_key(|t| t.0);
        }
        let moved: Vec<&Slot<M::Task>> = match (&self.places, placed) {
            (Some(places), false) => places
                .iter()
                .map(|p| &self.shards[p.shard as usize].slots[p.slot as usize])
                .collect(),
            _ => Vec::new(),
        };
        let tasks: Vec<(u64, Tasks<'_, M::Task>)> = if placed {
            all.chunks(TASKS_PER_PIECE)
                .enumerate()
                .map(|(k, c)| ((k * TASKS_PER_PIECE) as u64, Tasks::Placed(c)))
                .collect()
        } else if self.places.is_some() {
            moved
                .chunks(TASKS_PER_PIECE)
                .enumerate()
                .map(|(k, c)| ((k * TASKS_PER_PIECE) as u64, Tasks::Gathered(c)))
                .collect()
        } else {
            self.shards
                .iter()
                .flat_map(|s| {
                    s.slots.chunks(TASKS_PER_PIECE).enumerate().map(|(k, c)| {
                        let first = s.first_task as u64 + (k * TASKS_PER_PIECE) as u64;
                        (first, Tasks::Block(c))
                    })
                })
                .collect()
        };
        let task_pieces: Vec<_> = tasks
            .par_iter()
            .map(|(_, slots)| slots.encode_piece().and_then(pack))
            .collect::<Result<_, _>>()?;
        let cell_pieces: Vec<_> = self
            .cells
            .par_iter()
            .map(|c| {
                (codec.cells_to_bytes)(c)
                    .map_err(|e| SnapshotError::Encode(format!("cells: {e}")))
                    .and_then(pack)
            })
            .collect::<Result<_, _>>()?;
        let mail_pieces: Vec<_> = self
            .shards
            .par_iter()
            .map(|s| encode_mail(s, &codec).and_then(pack))
            .collect::<Result<_, _>>()?;
        let mut lengths = Vec::new();
        let mut pieces = Vec::new();
        for (raw, packed) in task_pieces
            .into_iter()
            .chain(cell_pieces)
            .chain(mail_pieces)
        {
            lengths.push((raw, packed.len() as u64));
            pieces.push(packed);
        }
        let meta = Meta {
            model: std::any::type_name::<M>().to_string(),
            tasks: self.model.tasks(),
            cells,
            seed: self.settings.seed,
            order: self.settings.order,
            quantum: self.settings.quantum,
            max_steps: self.settings.max_steps,
            histograms: self.settings.histograms,
            step: self.step,
            next_id: self.next_id,
            placed,
            counts: self.counts.clone(),
            steps: self.steps.clone(),
            engine: self
                .histograms
                .named()
                .iter()
                .map(|(_, h)| hist_bytes(h))
                .collect(),
            task_pieces: tasks
                .iter()
                .map(|(first, s)| (*first, s.len() as u64))
                .collect(),
            cell_pieces: self
                .shards
                .iter()
                .map(|s| (s.first_cell(), s.first_cell() + s.cell_count()))
                .collect(),
            mail_pieces: self.shards.len() as u64,
            lengths,
        };
        Ok(Snapshot { meta, pieces })
    }

    /// The simulation `snapshot` holds, over `shards` shards (any count that holds the
    /// arena), with the settings it ran with; it goes on exactly as the snapshotted one
    /// would have. `model` must be the same model type with the same number of tasks and
    /// cells; its parameters may differ (what a branched what-if changes), and the run then
    /// goes on under the new ones from this step.
    pub fn restore(
        model: &'m M,
        snapshot: &Snapshot,
        shards: usize,
    ) -> Result<Self, SnapshotError> {
        let codec = codec_of(model)?;
        let meta = &snapshot.meta;
        check_fits(model, meta)?;
        let cells = meta.cells;
        let min = Partition::min_shards(cells);
        if shards == 0 || shards as u64 > MAX_SHARDS || (shards as u64) < min {
            return Err(SnapshotError::Shards {
                shards,
                why: format!("use from {min} to {MAX_SHARDS}"),
            });
        }
        let part = Partition::new(shards, cells, meta.tasks);
        let nt = meta.task_pieces.len();
        let nc = meta.cell_pieces.len();
        let (task_packed, rest) = snapshot.pieces.split_at(nt);
        let (cell_packed, mail_packed) = rest.split_at(nc);
        let lengths = &meta.lengths;

        // Tasks, into the shard that now owns each.
        let decoded: Vec<Decoded<M::Task>> = task_packed
            .par_iter()
            .zip(&lengths[..nt])
            .zip(&meta.task_pieces)
            .map(|((p, len), &(_, count))| {
                let raw = unpack(p, len.0, "tasks")?;
                decode_piece::<M::Task>(&raw, count, meta.placed)
            })
            .collect::<Result<_, _>>()?;
        let mut next = 0u64;
        for &(first, count) in &meta.task_pieces {
            if first != next {
                return Err(SnapshotError::Damaged(
                    "the task pieces do not follow on".into(),
                ));
            }
            next = first.saturating_add(count);
        }
        let born = meta.next_id.saturating_sub(meta.tasks);
        if meta.next_id < meta.tasks
            || next > meta.next_id
            || (!meta.placed && next != meta.next_id)
        {
            return Err(SnapshotError::Damaged(format!(
                "{next} tasks where {} were written",
                meta.next_id
            )));
        }
        let mut slots: Vec<Vec<Slot<M::Task>>> = (0..shards)
            .map(|s| {
                let r = part.task_range(s, meta.tasks);
                Vec::with_capacity((r.end - r.start) as usize)
            })
            .collect();
        // Tasks born during the run (no home block: they go to the last shard, found through
        // the directory), and in a model with a space every task with its place.
        let mut extra: Vec<Vec<Mover<M::Task>>> = (0..shards).map(|_| Vec::new()).collect();
        let mut id = 0u64;
        let mut last_id = None;
        for piece in decoded {
            match piece {
                Decoded::Slots(piece) => {
                    for slot in piece {
                        let mover = Mover {
                            id: id as TaskId,
                            slot,
                            cell: 0,
                            point: [0.0; 2],
                        };
                        if id < meta.tasks {
                            slots[part.task_shard(id as u32)].push(mover.slot);
                        } else {
                            extra[shards - 1].push(mover);
                        }
                        id += 1;
                    }
                }
                Decoded::Placed(piece) => {
                    for m in piece {
                        if m.cell >= cells || m.id as u64 >= meta.next_id || Some(m.id) <= last_id {
                            return Err(SnapshotError::Damaged(format!(
                                "task {} with cell {} of {cells}",
                                m.id, m.cell
                            )));
                        }
                        last_id = Some(m.id);
                        extra[part.cell_shard(m.cell)].push(m);
                    }
                }
            }
        }
        let _ = born;

        // Cells: the saved blocks as they are, or joined and cut at the new boundaries.
        let blocks: Vec<(Range<u64>, M::Cells)> = cell_packed
            .par_iter()
            .zip(&lengths[nt..nt + nc])
            .zip(&meta.cell_pieces)
            .map(|((p, len), &(lo, hi))| {
                let raw = unpack(p, len.0, "cells")?;
                let block = (codec.cells_from_bytes)(&raw)
                    .map_err(|e| SnapshotError::Damaged(format!("cells: {e}")))?;
                Ok((lo..hi, block))
            })
            .collect::<Result<_, SnapshotError>>()?;
        let ranges: Vec<Range<u64>> = (0..shards).map(|s| part.cell_range(s, cells)).collect();
        let cell_blocks = regroup(blocks, &ranges, cells, &codec)?;

        // Mail, in delivery order, to the shards that now own its destinations.
        let mail: Vec<MailPiece> = mail_packed
            .par_iter()
            .zip(&lengths[nt + nc..])
            .map(|(p, len)| {
                from_bytes(&unpack(p, len.0, "mail")?)
                    .map_err(|e| SnapshotError::Damaged(format!("mail: {e}")))
            })
            .collect::<Result<_, SnapshotError>>()?;
        let mut to_cells = Vec::new();
        let mut to_tasks = Vec::new();
        let mut from_cells = Vec::new();
        for m in mail {
            let damaged = |e: String| SnapshotError::Damaged(format!("mail: {e}"));
            let cell_msgs = (codec.msgs_from_bytes)(&m.cell_msgs).map_err(damaged)?;
            let task_msgs = (codec.msgs_from_bytes)(&m.task_msgs).map_err(damaged)?;
            let from_msgs = (codec.msgs_from_bytes)(&m.from_cell_msgs).map_err(damaged)?;
            let n = m.cell_to.len();
            let k = m.task_to.len();
            let f = m.from_cell_to.len();
            if [m.cell_from.len(), m.cell_seq.len(), cell_msgs.len()] != [n; 3]
                || [m.task_from.len(), m.task_seq.len(), task_msgs.len()] != [k; 3]
                || [m.from_cell_keys.len(), from_msgs.len()] != [f; 2]
            {
                return Err(damaged("its columns differ in length".into()));
            }
            for (i, msg) in from_msgs.into_iter().enumerate() {
                let to = m.first_cell.saturating_add(m.from_cell_to[i] as u64);
                if to >= cells {
                    return Err(damaged(format!("a message to cell {to} of {cells}")));
                }
                from_cells.push((m.from_cell_keys[i], to, msg));
            }
            for (i, msg) in cell_msgs.into_iter().enumerate() {
                let to = m.first_cell.saturating_add(m.cell_to[i] as u64);
                if to >= cells {
                    return Err(damaged(format!("a message to cell {to} of {cells}")));
                }
                to_cells.push((key_of(m.cell_from[i], m.cell_seq[i]), to, msg));
            }
            for (i, msg) in task_msgs.into_iter().enumerate() {
                let to = m.task_to[i];
                if to as u64 >= meta.next_id {
                    return Err(damaged(format!(
                        "a message to task {to} of {}",
                        meta.next_id
                    )));
                }
                to_tasks.push((to, key_of(m.task_from[i], m.task_seq[i]), msg));
            }
        }
        if !to_cells.is_sorted_by_key(|m| m.0) {
            to_cells.sort_by_key(|m| m.0);
        }
        if !to_tasks.is_sorted_by_key(|m| (m.0, m.1)) {
            to_tasks.sort_by_key(|m| (m.0, m.1));
        }

        let continuous = model.space().is_some_and(|s| s.is_continuous());
        let mut built: Vec<Shard<M>> = slots
            .into_par_iter()
            .zip(extra)
            .enumerate()
            .map(|(s, (slots, extra))| {
                let mut shard = Shard::assemble(model, s, part, slots);
                if !extra.is_empty() && !meta.placed {
                    shard.ids = (0..shard.slots.len() as TaskId)
                        .map(|i| shard.first_task + i)
                        .collect();
                }
                for m in extra {
                    if meta.placed {
                        shard.push_placed(m, continuous);
                    } else {
                        shard.take_in(m.id, m.slot);
                    }
                }
                shard
            })
            .collect();
        for (key, cell, msg) in to_cells {
            let (shard, to) = part.locate_cell(cell);
            built[shard].in_cells[0].push(Envelope { key, to, msg });
        }
        for (key, cell, msg) in from_cells {
            let (shard, to) = part.locate_cell(cell);
            built[shard].in_from_cells[0].push(Envelope { key, to, msg });
        }
        let mut engine = EngineHistograms::new();
        for ((_, h), bytes) in engine.named_mut().into_iter().zip(&meta.engine) {
            *h = hist_from(bytes)
                .map_err(|e| SnapshotError::Damaged(format!("an engine histogram: {e}")))?;
        }
        let settings = snapshot.settings().shards(shards);
        let mut sim = Self::with_shards(model, settings, built, cell_blocks, engine);
        sim.step = meta.step;
        sim.next_id = meta.next_id;
        sim.counts = meta.counts.clone();
        sim.steps = meta.steps.clone();
        // Where every task lives: arranged for the step to come (with places), or found
        // through the directory once tasks were born; then the mail goes to its task.
        sim.settle_places(meta.step);
        if meta.next_id > meta.tasks && !meta.placed {
            sim.rebuild_places();
        }
        for (to, key, msg) in to_tasks {
            sim.shards[0].in_tasks[0].push(TaskEnvelope { key, to, msg });
        }
        sim.deliver_restored_mail(part);
        Ok(sim)
    }
}

/// The model's codec, or why there is none.
pub(super) fn codec_of<M: Model>(model: &M) -> Result<Codec<M::Msg, M::Cells>, SnapshotError> {
    model.codec().ok_or_else(|| SnapshotError::NotSupported {
        model: std::any::type_name::<M>().to_string(),
    })
}

/// Whether the snapshot's header fits `model`.
fn check_fits<M: Model>(model: &M, meta: &Meta) -> Result<(), SnapshotError> {
    let mismatch = |why: String| Err(SnapshotError::Mismatch(why));
    let name = std::any::type_name::<M>();
    if meta.model != name {
        return mismatch(format!("it is of the model `{}`, not `{name}`", meta.model));
    }
    if meta.tasks != model.tasks() {
        return mismatch(format!(
            "it has {} tasks, the model {}",
            meta.tasks,
            model.tasks()
        ));
    }
    let cells = arena_cells(model);
    if meta.cells != cells {
        return mismatch(format!("it has {} cells, the model {cells}", meta.cells));
    }
    let width = M::COUNTERS.len();
    if meta.counts.width() != width || meta.steps.iter().any(|r| r.counters.len() != width) {
        return mismatch(format!("its counters are not the model's {width}"));
    }
    if meta.engine.len() != 4 {
        return Err(SnapshotError::Damaged(
            "the engine histograms are missing".into(),
        ));
    }
    Ok(())
}
