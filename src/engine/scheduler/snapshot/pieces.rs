//! The pieces a snapshot is made of: tasks (in id order, with their places) and their mail,
//! encoded and decoded.

use super::*;

/// A piece of tasks, in id order: a run of one shard's slots, or (once tasks have moved)
/// slots gathered by id from wherever they live.
pub(in crate::engine::scheduler) enum Tasks<'a, T> {
    Block(&'a [Slot<T>]),
    Gathered(&'a [&'a Slot<T>]),
    /// Tasks with places.
    Placed(&'a [PlacedTask<'a, T>]),
}

/// A task with its place: (id, cell, point, slot).
pub(in crate::engine::scheduler) type PlacedTask<'a, T> = (TaskId, u64, [f64; 2], &'a Slot<T>);

impl<T: Serialize> Tasks<'_, T> {
    pub(super) fn len(&self) -> usize {
        match self {
            Tasks::Block(s) => s.len(),
            Tasks::Gathered(s) => s.len(),
            Tasks::Placed(s) => s.len(),
        }
    }

    /// The piece as written: its slots, and with places the ids and places too
    /// ([`PlacedPiece`]).
    pub(super) fn encode_piece(&self) -> Result<Vec<u8>, SnapshotError> {
        let Tasks::Placed(tasks) = self else {
            return self.encode();
        };
        let continuous = tasks.iter().any(|t| t.2 != [0.0; 2]);
        let piece = PlacedPiece {
            ids: tasks.iter().map(|t| t.0).collect(),
            cells: tasks.iter().map(|t| t.1).collect(),
            points: if continuous {
                tasks.iter().map(|t| t.2).collect()
            } else {
                Vec::new()
            },
            slots: self.encode()?,
        };
        to_bytes(&piece).map_err(SnapshotError::Encode)
    }

    /// Each slot as (state, wake step), one after another.
    pub(in crate::engine::scheduler) fn encode(&self) -> Result<Vec<u8>, SnapshotError> {
        let slots: Box<dyn Iterator<Item = &Slot<T>>> = match self {
            Tasks::Block(s) => Box::new(s.iter()),
            Tasks::Gathered(s) => Box::new(s.iter().copied()),
            Tasks::Placed(s) => Box::new(s.iter().map(|t| t.3)),
        };
        let mut out = Vec::with_capacity(self.len() * (std::mem::size_of::<T>() + 6));
        for s in slots {
            out = postcard::to_extend(&(&s.state, s.wake), out)
                .map_err(|e| SnapshotError::Encode(format!("a task: {e}")))?;
        }
        Ok(out)
    }
}

/// A task piece read back: slots of consecutive ids, or tasks with their ids and places.
pub(super) enum Decoded<T> {
    Slots(Vec<Slot<T>>),
    Placed(Vec<Mover<T>>),
}

/// A task piece of `count` tasks read back ([`Tasks::encode_piece`]).
pub(super) fn decode_piece<T: serde::de::DeserializeOwned>(
    raw: &[u8],
    count: u64,
    placed: bool,
) -> Result<Decoded<T>, SnapshotError> {
    if !placed {
        return decode_slots(raw, count).map(Decoded::Slots);
    }
    let piece: PlacedPiece =
        from_bytes(raw).map_err(|e| SnapshotError::Damaged(format!("tasks: {e}")))?;
    let n = piece.ids.len();
    if n as u64 != count
        || piece.cells.len() != n
        || !(piece.points.is_empty() || piece.points.len() == n)
    {
        return Err(SnapshotError::Damaged("a piece of tasks is uneven".into()));
    }
    let slots = decode_slots::<T>(&piece.slots, count)?;
    let movers = slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| Mover {
            id: piece.ids[i],
            slot,
            cell: piece.cells[i],
            point: piece.points.get(i).copied().unwrap_or_default(),
        })
        .collect();
    Ok(Decoded::Placed(movers))
}

pub(in crate::engine::scheduler) fn decode_slots<T: serde::de::DeserializeOwned>(
    mut bytes: &[u8],
    count: u64,
) -> Result<Vec<Slot<T>>, SnapshotError> {
    let mut out = Vec::with_capacity((count as usize).min(TASKS_PER_PIECE));
    for _ in 0..count {
        let ((state, wake), rest): ((T, u32), _) = postcard::take_from_bytes(bytes)
            .map_err(|e| SnapshotError::Damaged(format!("a task: {e}")))?;
        if wake != DONE && wake > WAITING {
            return Err(SnapshotError::Damaged("a task's wake step".into()));
        }
        out.push(Slot { state, wake });
        bytes = rest;
    }
    if !bytes.is_empty() {
        return Err(SnapshotError::Damaged("bytes after the last task".into()));
    }
    Ok(out)
}

/// The mail in flight to shard `s`, with global destinations, in delivery order (cell mail by
/// key; task mail by destination, then key, answers to one message in the order they were
/// sent), as the restored shards hold it.
pub(super) fn encode_mail<M: Model>(
    s: &Shard<M>,
    codec: &Codec<M::Msg, M::Cells>,
) -> Result<Vec<u8>, SnapshotError> {
    let encode = |msgs: &[M::Msg]| {
        (codec.msgs_to_bytes)(msgs).map_err(|e| SnapshotError::Encode(format!("a message: {e}")))
    };
    // Cell mail arrives in key order (each source shard's run is, and runs come in shard
    // order, which is task order); a seeded order sorts it when it is handled, not here.
    let cell = || s.in_cells.iter().flatten();
    let sorted = cell().map(|e| e.key).is_sorted();
    let mut cells: Vec<&Envelope<M::Msg>> = cell().collect();
    if !sorted {
        cells.sort_by_key(|e| e.key);
    }
    let mut tasks: Vec<&TaskEnvelope<M::Msg>> = s.in_tasks.iter().flatten().collect();
    if !tasks.iter().map(|e| (e.to, e.key)).is_sorted() {
        tasks.sort_by_key(|e| (e.to, e.key));
    }
    let mut from_cells: Vec<&Envelope<M::Msg>> = s.in_from_cells.iter().flatten().collect();
    from_cells.sort_by_key(|e| e.key);
    let cell_msgs: Vec<M::Msg> = cells.iter().map(|e| e.msg).collect();
    let task_msgs: Vec<M::Msg> = tasks.iter().map(|e| e.msg).collect();
    let from_cell_msgs: Vec<M::Msg> = from_cells.iter().map(|e| e.msg).collect();
    let piece = MailPiece {
        first_cell: s.first_cell(),
        cell_to: cells.iter().map(|e| e.to).collect(),
        cell_from: cells.iter().map(|e| (e.key >> 32) as u32).collect(),
        cell_seq: cells.iter().map(|e| e.key as u32).collect(),
        cell_msgs: encode(&cell_msgs)?,
        task_to: tasks.iter().map(|e| e.to).collect(),
        task_from: tasks.iter().map(|e| (e.key >> 32) as u32).collect(),
        task_seq: tasks.iter().map(|e| e.key as u32).collect(),
        task_msgs: encode(&task_msgs)?,
        from_cell_to: from_cells.iter().map(|e| e.to).collect(),
        from_cell_keys: from_cells.iter().map(|e| e.key).collect(),
        from_cell_msgs: encode(&from_cell_msgs)?,
    };
    to_bytes(&piece).map_err(SnapshotError::Encode)
}

/// The cells of `blocks` (which must cover `0..cells` in order) as one block per range of
/// `ranges`: as they are if the boundaries match, else joined and cut again.
pub(super) fn regroup<Msg, Cells>(
    blocks: Vec<(Range<u64>, Cells)>,
    ranges: &[Range<u64>],
    cells: u64,
    codec: &Codec<Msg, Cells>,
) -> Result<Vec<Cells>, SnapshotError> {
    let mut end = 0;
    for (r, _) in &blocks {
        if r.start != end || r.end < r.start {
            return Err(SnapshotError::Damaged(
                "the cell blocks do not follow on".into(),
            ));
        }
        end = r.end;
    }
    if end != cells || blocks.is_empty() {
        return Err(SnapshotError::Damaged(
            "the cell blocks do not cover the arena".into(),
        ));
    }
    if blocks.len() == ranges.len() && blocks.iter().zip(ranges).all(|((r, _), n)| r == n) {
        return Ok(blocks.into_iter().map(|(_, b)| b).collect());
    }
    let mut parts = blocks.into_iter();
    let (first, mut all) = parts.next().expect("checked above");
    let mut len = first.end - first.start;
    for (r, block) in parts {
        (codec.append)(&mut all, len, block);
        len += r.end - r.start;
    }
    // Trim to exactly the arena (joining may leave room beyond its end).
    let _ = (codec.split_off)(&mut all, cells, cells);
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges.iter().skip(1).rev() {
        out.push((codec.split_off)(&mut all, r.end, r.start));
    }
    out.push(all);
    out.reverse();
    Ok(out)
}
