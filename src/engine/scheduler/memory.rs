//! What a replication needs in memory, estimated before anything is allocated (the memory
//! budget refuses a run that would not fit).

use super::*;

/// What one replication of `model` needs in memory, about: the model's own state, the engine's
/// bookkeeping per task, a busy step's message buffers, and each shard's fixed costs.
///
/// Counted as an upper bound, but not a loose one (it decides what may run): a message is held
/// once in its buffer (a consumed incoming buffer becomes the outgoing one, so a shard pair
/// keeps one buffer per kind), which may have grown to twice its contents; a message to a task
/// ([`Model::mail_per_step`] of them) is grouped once more as mail (again with room to grow);
/// and a seeded order gathers cell messages into one more buffer.
pub fn estimate_bytes<M: Model>(model: &M, settings: &Settings) -> u64 {
    use std::mem::size_of;
    let slot = size_of::<Slot<M::Task>>().saturating_sub(size_of::<M::Task>()) as u64 + 4;
    let envelope = size_of::<Envelope<M::Msg>>().max(size_of::<TaskEnvelope<M::Msg>>()) as u64;
    let gathered = match settings.order {
        Order::ById => 0,
        Order::Shuffled => 2 * envelope,
    };
    let per_message = 2 * envelope + gathered;
    let per_mail = 2 * size_of::<Mail<M::Msg>>() as u64;
    let messages = model.messages_per_step(settings.quantum);
    let mail = model.mail_per_step(settings.quantum).min(messages);
    let shards = settings.shards as u64;
    let tasks = model.tasks().max(model.max_tasks());
    model
        .estimate_bytes(settings.shards)
        .saturating_add(tasks.saturating_mul(slot))
        .saturating_add(places_bytes(model, tasks))
        .saturating_add(messages.saturating_mul(per_message))
        .saturating_add(mail.saturating_mul(per_mail))
        .saturating_add(shards * shards * 3 * 48 + shards * 4096)
}

/// What places cost a model with a space, about: per task its id, cell, point and order key,
/// the arrangement's scratch, its board entry and (with births) a birth record and a directory
/// entry; per cell the board's offsets and the arrangement's counts. Nothing without a space
/// (births are then counted with the tasks).
fn places_bytes<M: Model>(model: &M, tasks: u64) -> u64 {
    let Some(space) = model.space() else {
        return if model.max_tasks() > model.tasks() {
            tasks.saturating_mul(8 + std::mem::size_of::<M::Task>() as u64)
        } else {
            0
        };
    };
    let continuous = space.is_continuous();
    let (per_cell, entry) = Board::<M::Msg>::bytes_per(continuous);
    let point = if continuous { 16 } else { 0 };
    // id, cell, key, point; their gathered copies and the order while arranging; a directory
    // entry and a birth (state and record).
    let column = 4 + 8 + 8 + point;
    let per_task = 2 * column + 4 + entry + 8 + std::mem::size_of::<M::Task>() as u64 + 48;
    tasks
        .saturating_mul(per_task)
        .saturating_add(space.cells().cells().saturating_mul(2 * per_cell))
}
