//! A checkpoint that decodes is still checked before it is trusted: what its header says
//! against its body, what it kept of finished replications against itself (rows, seeds,
//! metric values, step rows, details that parse), and the snapshot of the replication under
//! way against its step rows and its own partition (`Snapshot::validate`). A damaged file
//! whose checksum was recomputed is refused here rather than resumed into wrong results.

use serde_json::Value;

use super::{Checkpoint, Running};
use crate::engine::rng::replication_seed;
use crate::experiment::output::WriterState;
use crate::experiment::results::{ReplicationsTable, ending_name, seed_text};

/// Why `c` cannot be trusted, if it cannot.
pub(super) fn check(c: &Checkpoint) -> Result<(), String> {
    let scenario: toml::Table = c
        .scenario
        .parse()
        .map_err(|_| "its scenario is not TOML".to_string())?;
    let field = |section: &str, key: &str| scenario.get(section).and_then(|s| s.get(key)).cloned();
    let text = |section: &str, key: &str| {
        field(section, key).map_or(String::new(), |v| v.as_str().unwrap_or("").to_string())
    };
    let h = &c.header;
    let name = text("scenario", "name");
    if name != h.scenario {
        return Err(format!(
            "its header names the scenario `{}`, another scenario than its body holds (`{name}`)",
            h.scenario
        ));
    }
    let model = text("scenario", "model");
    if model != h.model {
        return Err(format!(
            "its header names the model `{}`, another model than its scenario's (`{model}`)",
            h.model
        ));
    }
    let seed = field("run", "seed")
        .and_then(|v| v.as_integer())
        .map(|s| s as u64);
    if seed != Some(h.seed) {
        return Err(format!(
            "its header's seed {} is not its scenario's ({})",
            h.seed,
            seed.map_or("none".into(), |s| s.to_string())
        ));
    }
    let first = c.only.unwrap_or(0);
    if let Some(r) = &c.running {
        running(c, r, first)?;
    }
    match &c.writer {
        Some(w) => writer(w, c.done, first, h.seed),
        None if c.done == 0 => Ok(()),
        None => Err("it says replications are done but keeps none of them".into()),
    }
}

/// The replication under way: where the header says, seeded as its index says, its snapshot
/// consistent with its step rows.
fn running(c: &Checkpoint, r: &Running, first: u64) -> Result<(), String> {
    if c.header.running != Some((r.index, r.snapshot.step())) {
        return Err("its header's step is not its snapshot's".into());
    }
    if r.index != first + c.done {
        return Err("the replication under way is not the one after those done".into());
    }
    if r.snapshot.seed() != replication_seed(c.header.seed, r.index) {
        return Err("its snapshot is not seeded as its replication".into());
    }
    r.snapshot.validate(&r.steps).map_err(|e| e.to_string())
}

/// What a run of several kept of its `done` replications (from `first`): each row of
/// `replications.csv` is the next replication, seeded as its index says, with the values and
/// ending kept beside it; `steps.csv` holds the rows the `steps` column counts, in order;
/// `details.json` parses, one element per replication.
fn writer(w: &WriterState, done: u64, first: u64, seed: u64) -> Result<(), String> {
    if w.replications() != done {
        return Err("its results hold another number of replications than it says".into());
    }
    let mut rows = csv::Reader::from_reader(w.replications_csv());
    let header = rows
        .headers()
        .map_err(|e| format!("its replications: {e}"))?
        .clone();
    let metrics: Vec<&str> = header.iter().skip(4).collect();
    if header.iter().ne(ReplicationsTable::header(&metrics)
        .iter()
        .map(String::as_str))
        || metrics.len() != w.values().len()
    {
        return Err("its replications have other columns than its values".into());
    }
    let mut steps_per = Vec::new();
    for (i, row) in rows.records().enumerate() {
        let row = row.map_err(|e| format!("its replications: {e}"))?;
        let (index, at) = (first + i as u64, format!("replication row {}", i + 1));
        let num = |k: usize| row.get(k).and_then(|f| f.parse::<u64>().ok());
        if num(0) != Some(index) || num(1) != Some(replication_seed(seed, index)) {
            return Err(format!("{at} is not replication {index} with its seed"));
        }
        if w.endings().get(i).map(|e| ending_name(*e)) != row.get(2) {
            return Err(format!("{at}: its ending is not the one kept"));
        }
        for (m, vals) in w.values().iter().enumerate() {
            let v = row.get(4 + m).and_then(|f| f.parse::<f64>().ok());
            if v.is_none_or(|v| vals.get(i).is_none_or(|k| k.to_bits() != v.to_bits())) {
                return Err(format!("{at}: a metric is not the value kept"));
            }
        }
        steps_per.push((index, num(3).ok_or_else(|| format!("{at}: no step count"))?));
    }
    if steps_per.len() as u64 != done {
        return Err(format!(
            "{} replication rows where {done} are done",
            steps_per.len()
        ));
    }
    step_rows(w.steps_csv(), &steps_per)?;
    details(w, first, seed)
}

/// `steps.csv` holds each replication's `steps` rows, in order.
fn step_rows(bytes: &[u8], per: &[(u64, u64)]) -> Result<(), String> {
    let mut rows = csv::Reader::from_reader(bytes);
    let mut want = per
        .iter()
        .flat_map(|&(r, n)| std::iter::repeat_n(r, n as usize));
    for row in rows.records() {
        let row = row.map_err(|e| format!("its step rows: {e}"))?;
        let rep = row.get(0).and_then(|f| f.parse::<u64>().ok());
        if rep != want.next() {
            return Err("its step rows are not those of its replications".into());
        }
    }
    match want.next() {
        Some(_) => Err("step rows are missing".into()),
        None => Ok(()),
    }
}

/// `details.json` so far parses as an array of one element per replication, each naming its
/// replication and seed.
fn details(w: &WriterState, first: u64, seed: u64) -> Result<(), String> {
    let (bytes, len) = w.details();
    let closed = match len {
        0 if bytes.is_empty() => b"[]".to_vec(),
        _ => [bytes, b"\n]\n"].concat(),
    };
    let all: Vec<Value> =
        serde_json::from_slice(&closed).map_err(|e| format!("its details are not JSON: {e}"))?;
    if all.len() as u64 != len {
        return Err(format!("{} details where {len} are kept", all.len()));
    }
    for (i, d) in all.iter().enumerate() {
        let index = first + i as u64;
        if d["replication"].as_u64() != Some(index)
            || seed_text::of_value(&d["seed"]) != Some(replication_seed(seed, index))
        {
            return Err(format!(
                "details element {} is not replication {index}",
                i + 1
            ));
        }
    }
    Ok(())
}
