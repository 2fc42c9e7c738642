//! What `merge` checks before it writes anything: each slice's files are the ones its run
//! wrote (their lengths and SHA-256, recorded in its `summary.json`), and the slice is
//! consistent with itself — its replications are exactly `from..to`, each with the seed the
//! scenario's seed gives it, `steps.csv` holds the rows the `steps` column counts, in order,
//! `details.json` one element per replication, every file it recorded is there.
//!
//! The hashes catch a file damaged, edited, swapped or copied from another slice by accident;
//! not a forger, who can recompute them.

use std::io::{self, BufReader, Read};
use std::path::Path;

use serde::de::{Deserializer, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use crate::engine::rng::replication_seed;
use crate::experiment::output::hex;
use crate::experiment::results::{ResultDir, RunSummary, SliceInfo};

/// Checks every file `summary` records of `dir` (length, then SHA-256), then the run's data
/// against itself for the replications `range`. Errors name the directory and the file.
pub(super) fn run(dir: &ResultDir, summary: &RunSummary, range: SliceInfo) -> Result<(), String> {
    files(dir, summary)?;
    let steps = replications(dir, summary.seed, range)?;
    step_rows(dir, &steps)?;
    details(dir, summary.seed, range)
}

/// The files a run must have recorded.
const REQUIRED: [&str; 4] = [
    ResultDir::REPLICATIONS,
    ResultDir::STEPS,
    ResultDir::DETAILS,
    ResultDir::SCENARIO,
];

/// Each file `summary` records is there (a regular file, not through a link), as long as
/// recorded, with the recorded SHA-256; every file a run writes is recorded.
pub(super) fn files(dir: &ResultDir, summary: &RunSummary) -> Result<(), String> {
    let at = |name: &str| dir.file(name).display().to_string();
    if summary.files.is_empty() {
        return Err(format!(
            "{}: records no lengths and hashes of its files (written by an older microsim?), so \
             they cannot be checked\n  hint: run that slice again with this microsim",
            at(ResultDir::SUMMARY)
        ));
    }
    let engine = ResultDir::ENGINE_HISTOGRAMS.map(ResultDir::histogram_file);
    let needed = REQUIRED.iter().map(|s| s.to_string()).chain(engine);
    if let Some(name) = needed
        .filter(|n| summary.sweep.is_none() || n == ResultDir::SCENARIO)
        .find(|n| !summary.files.contains_key(n))
    {
        return Err(format!(
            "{}: its summary.json does not record it",
            at(&name)
        ));
    }
    let handle = dir
        .handle()
        .map_err(|e| format!("{}: {e}", dir.path().display()))?;
    for (name, record) in &summary.files {
        let file = handle
            .open_file(Path::new(name))
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => format!(
                    "{}: is missing, though its run wrote it (summary.json records it)\n  hint: \
                 run that slice again",
                    at(name)
                ),
                _ => format!("{}: {e}", at(name)),
            })?;
        let len = file
            .metadata()
            .map_err(|e| format!("{}: {e}", at(name)))?
            .len();
        if len != record.bytes {
            return Err(format!(
                "{}: is {len} bytes long, but its run wrote {} (summary.json): damaged, \
                 edited or copied from elsewhere\n  hint: run that slice again",
                at(name),
                record.bytes
            ));
        }
        if sha256(file, len).map_err(|e| format!("{}: {e}", at(name)))? != record.sha256 {
            return Err(format!(
                "{}: its content is not what its run wrote (its SHA-256 differs from the one \
                 summary.json records): damaged, edited or copied from elsewhere\n  hint: run \
                 that slice again",
                at(name)
            ));
        }
    }
    Ok(())
}

/// The SHA-256 of the first `len` bytes of `file`, read in pieces.
fn sha256(file: std::fs::File, len: u64) -> io::Result<String> {
    let mut hash = Sha256::new();
    let mut file = file.take(len);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(hex(&hash.finalize())),
            n => hash.update(&buf[..n]),
        }
    }
}

/// `replications.csv`, row by row: exactly the replications of `range`, in order, each with
/// its seed. Returns each replication's index and step count.
fn replications(dir: &ResultDir, seed: u64, range: SliceInfo) -> Result<Vec<(u64, u64)>, String> {
    let path = dir.file(ResultDir::REPLICATIONS);
    let at = |line: usize, why: String| format!("{}: line {line}: {why}", path.display());
    let mut rows = csv_rows(&path)?;
    let mut out = Vec::new();
    for (i, row) in rows.byte_records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| at(line, e.to_string()))?;
        let index = range.from + i as u64;
        if index >= range.to {
            return Err(at(
                line,
                format!("a row past the slice's {range}, which its summary.json says it holds"),
            ));
        }
        let num = |k: usize| {
            std::str::from_utf8(row.get(k).unwrap_or(b""))
                .ok()
                .and_then(|f| f.parse::<u64>().ok())
        };
        if num(0) != Some(index) {
            return Err(at(
                line,
                format!(
                    "replication {:?} where {index} belongs (the slice is {range})",
                    num(0)
                ),
            ));
        }
        if num(1) != Some(replication_seed(seed, index)) {
            return Err(at(
                line,
                format!("the seed of replication {index} is not the one seed {seed} gives it"),
            ));
        }
        let steps = num(3).ok_or_else(|| at(line, "no step count".into()))?;
        out.push((index, steps));
    }
    if (out.len() as u64) < range.to - range.from {
        return Err(format!(
            "{}: holds {} replications, but its summary.json says it is the slice {range}",
            path.display(),
            out.len()
        ));
    }
    Ok(out)
}

/// `steps.csv`, row by row: each replication's `steps` rows, in order.
fn step_rows(dir: &ResultDir, per: &[(u64, u64)]) -> Result<(), String> {
    let path = dir.file(ResultDir::STEPS);
    let mut want = per
        .iter()
        .flat_map(|&(r, n)| std::iter::repeat_n(r, n as usize));
    let mut rows = csv_rows(&path)?;
    for (i, row) in rows.byte_records().enumerate() {
        let row = row.map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
        let rep = std::str::from_utf8(row.get(0).unwrap_or(b""))
            .ok()
            .and_then(|f| f.parse::<u64>().ok());
        let expected = want.next();
        if rep != expected {
            return Err(format!(
                "{}: line {}: a row of replication {rep:?} where replications.csv's step counts \
                 put {}",
                path.display(),
                i + 2,
                expected.map_or("no more rows".into(), |r| format!("one of replication {r}"))
            ));
        }
    }
    match want.next() {
        Some(r) => Err(format!(
            "{}: rows of replication {r} are missing (replications.csv counts more steps)",
            path.display()
        )),
        None => Ok(()),
    }
}

/// A CSV file of the slice, read a row at a time.
fn csv_rows(path: &Path) -> Result<csv::Reader<BufReader<std::fs::File>>, String> {
    let file = crate::experiment::safe_fs::open_regular(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(csv::Reader::from_reader(BufReader::new(file)))
}

/// `details.json`, one element at a time: one per replication of `range`, in order, each
/// naming its replication and seed.
fn details(dir: &ResultDir, seed: u64, range: SliceInfo) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Element {
        replication: u64,
        #[serde(with = "crate::experiment::results::seed_text")]
        seed: u64,
    }
    struct Each {
        seed: u64,
        range: SliceInfo,
    }
    impl<'de> Visitor<'de> for Each {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of each replication's details")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
            use serde::de::Error;
            let mut n = 0;
            while let Some(e) = seq.next_element::<Element>()? {
                let index = self.range.from + n;
                if index >= self.range.to || e.replication != index {
                    return Err(A::Error::custom(format!(
                        "element {} is replication {}, where {index} belongs",
                        n + 1,
                        e.replication
                    )));
                }
                if e.seed != replication_seed(self.seed, index) {
                    return Err(A::Error::custom(format!(
                        "element {} does not have replication {index}'s seed",
                        n + 1
                    )));
                }
                n += 1;
            }
            Ok(n)
        }
    }
    let path = dir.file(ResultDir::DETAILS);
    let file = crate::experiment::safe_fs::open_regular(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
    let n = de
        .deserialize_seq(Each { seed, range })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if n != range.to - range.from {
        return Err(format!(
            "{}: holds {n} replications' details, but the slice is {range}",
            path.display()
        ));
    }
    Ok(())
}
