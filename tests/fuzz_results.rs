//! Fuzzing what `resume` and `merge` read: a real checkpoint (of a lone replication, and of a
//! run of several) and a real slice, their bytes mutated (bytes flipped, set to 0 or 0xFF,
//! ranges deleted, duplicated or inserted, the file cut short or grown; lengths in the
//! checkpoint's prefix set to huge values), with the checksum recomputed or the slice's
//! recorded lengths and hashes recomputed half the time, so that the mutation reaches the
//! decoders and the checks behind them. Whatever comes in:
//!
//! - reading a checkpoint never panics; what it accepts restores (or is refused) without a
//!   panic;
//! - checking slices for a merge never panics, and every refusal names a file of the slice;
//!   what it accepts merges (or is refused) without a panic.
//!
//! `cargo test` runs 150 cases of each; a long campaign sets `PROPTEST_CASES`, e.g.
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz_results`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use microsim::internal::checkpoint::Checkpoint;
use microsim::internal::scenario::Override;
use microsim::internal::{Manifest, Options, Silent, execute, merge};
use microsim::models::musical_chairs::{MusicalChairs, Params};
use microsim::{Registry, Simulation};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

/// The cases run when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 150;

/// What the fuzz cases start from, made once.
struct Seeds {
    _tmp: tempfile::TempDir,
    /// A lone replication's step checkpoint, and one of a run of several.
    checkpoints: Vec<Vec<u8>>,
    /// Two slices (0..3 and 3..6) of one run.
    slices: [PathBuf; 2],
}

/// `small` run in this process into `dir` with `sets` (`--set` texts) and `slice`.
fn run(dir: &Path, sets: &[&str], slice: Option<std::ops::Range<u64>>) {
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    let scenario = Registry::builtin()
        .load(Path::new(&common::small()), &overrides)
        .unwrap();
    let opts = Options {
        dir: dir.to_path_buf(),
        only: None,
        slice,
        manifest: Manifest::default(),
    };
    execute(&scenario, &opts, &AtomicBool::new(false), &Silent).unwrap();
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let keep = "run.checkpoint_keep=100";
        run(
            &t.join("lone"),
            &["montecarlo.replications=1", "run.checkpoint_every=2", keep],
            None,
        );
        run(
            &t.join("several"),
            &["montecarlo.replications=6", "run.checkpoint_every=3", keep],
            None,
        );
        let first = |d: &str| {
            let mut names: Vec<PathBuf> = fs::read_dir(t.join(d).join("checkpoints"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            fs::read(&names[0]).unwrap()
        };
        let checkpoints = vec![first("lone"), first("several")];
        let six = "montecarlo.replications=6";
        run(&t.join("a"), &[six], Some(0..3));
        run(&t.join("b"), &[six], Some(3..6));
        Seeds {
            checkpoints,
            slices: [t.join("a"), t.join("b")],
            _tmp: tmp,
        }
    })
}

/// One change to a file's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Set(prop::sample::Index, u8),
    Delete(prop::sample::Index, usize),
    Duplicate(prop::sample::Index, usize),
    Insert(prop::sample::Index, Vec<u8>),
    Cut(prop::sample::Index),
    Grow(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    use prop::sample::Index;
    prop_oneof![
        4 => (any::<Index>(), 1..=255u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => (any::<Index>(), prop_oneof![Just(0u8), Just(0xFF)]).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => any::<Index>().prop_map(Mutation::Cut),
        1 => (1..4096usize).prop_map(Mutation::Grow),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        if bytes.is_empty() {
            bytes.push(0);
        }
        let at = |i: &prop::sample::Index| i.index(bytes.len());
        match m {
            Mutation::Flip(i, b) => {
                let k = at(i);
                bytes[k] ^= b;
            }
            Mutation::Set(i, b) => {
                let k = at(i);
                bytes[k] = *b;
            }
            Mutation::Delete(i, n) => {
                let k = at(i);
                bytes.drain(k..(k + n).min(bytes.len()));
            }
            Mutation::Duplicate(i, n) => {
                let k = at(i);
                let piece = bytes[k..(k + n).min(bytes.len())].to_vec();
                bytes.splice(k..k, piece);
            }
            Mutation::Insert(i, v) => {
                let k = at(i);
                bytes.splice(k..k, v.iter().copied());
            }
            Mutation::Cut(i) => {
                let k = at(i);
                bytes.truncate(k);
            }
            Mutation::Grow(n) => bytes.extend(std::iter::repeat_n(0u8, *n)),
        }
    }
}

/// Recomputes a checkpoint's checksum (and body length) after its body was changed, as a copy
/// tool that rewrites checksums would: the mutation then reaches the body's decoders.
fn reseal_checkpoint(bytes: &mut [u8]) {
    if bytes.len() < 16 + 8 + 4 {
        return;
    }
    let header = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let start = 16 + header + 8;
    if start + 4 > bytes.len() {
        return;
    }
    let body_len = bytes.len() - start - 4;
    bytes[16 + header..start].copy_from_slice(&(body_len as u64).to_le_bytes());
    let crc = crc32fast::hash(&bytes[start..start + body_len]);
    let end = bytes.len();
    bytes[end - 4..].copy_from_slice(&crc.to_le_bytes());
}

fn config(file: &'static str) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

fn check_checkpoint(
    which: usize,
    mutations: &[Mutation],
    reseal: bool,
) -> Result<(), TestCaseError> {
    let mut bytes = seeds().checkpoints[which].clone();
    apply(&mut bytes, mutations);
    if reseal {
        reseal_checkpoint(&mut bytes);
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("step.ckpt");
    fs::write(&path, &bytes).unwrap();
    let Ok(c) = Checkpoint::read(&path) else {
        return Ok(());
    };
    if let Some(r) = &c.running {
        let model = MusicalChairs::new(Params {
            robots: 200,
            width: 30,
            height: 30,
            rounds: 5,
        });
        for shards in [1, 4, 7] {
            if let Ok(mut sim) = Simulation::restore(&model, &r.snapshot, shards) {
                sim.run(|_| true);
            }
        }
    }
    Ok(())
}

/// The files of a slice a mutation may hit.
const SLICE_FILES: &[&str] = &[
    "replications.csv",
    "steps.csv",
    "details.json",
    "summary.json",
    "scenario.toml",
    "histograms/points.hlog",
    "histograms/mailbox_depth.hlog",
];

/// Records `file`'s length and SHA-256 in the slice's summary.json again.
fn reseal_slice(dir: &Path, file: &str) {
    use sha2::{Digest, Sha256};
    let Ok(bytes) = fs::read(dir.join(file)) else {
        return;
    };
    let Ok(text) = fs::read_to_string(dir.join("summary.json")) else {
        return;
    };
    let Ok(mut s) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let hash: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if s["files"].is_object() {
        s["files"][file] = serde_json::json!({ "bytes": bytes.len(), "sha256": hash });
        fs::write(dir.join("summary.json"), s.to_string()).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn check_slices(file: usize, mutations: &[Mutation], reseal: bool) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b] = &seeds().slices;
    let (ta, tb) = (tmp.path().join("a"), tmp.path().join("b"));
    copy_dir(a, &ta);
    copy_dir(b, &tb);
    let name = SLICE_FILES[file];
    let mut bytes = fs::read(tb.join(name)).unwrap();
    apply(&mut bytes, mutations);
    fs::write(tb.join(name), &bytes).unwrap();
    if reseal && name != "summary.json" {
        reseal_slice(&tb, name);
    }
    let refused = |e: String| -> Result<(), TestCaseError> {
        let names_a_file = [&ta, &tb].iter().any(|d| e.contains(&*d.to_string_lossy()));
        prop_assert!(names_a_file, "the refusal names no slice: {e}");
        Ok(())
    };
    let mut slices = match merge::read_all(&[ta.clone(), tb.clone()]) {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    if let Err(e) = merge::check(&mut slices) {
        // A slice range that no longer fits is refused by what the summaries say.
        prop_assert!(!e.is_empty());
        return Ok(());
    }
    let source = tmp.path().join("scenario.toml");
    let Ok(scenario) = Registry::builtin().parse(slices[0].scenario.as_bytes(), &source, &[])
    else {
        return Ok(());
    };
    if let Err(e) = merge::verify_all(&scenario, &slices) {
        return refused(e);
    }
    let out = tmp.path().join("merged");
    let _ = merge::merge(&scenario, &slices, &out, &Manifest::default());
    Ok(())
}

proptest! {
    #![proptest_config(config("tests/fuzz_results.proptest-regressions"))]

    #[test]
    fn mutated_checkpoints_are_read_or_refused_never_a_panic(
        which in 0..2usize,
        mutations in prop::collection::vec(mutation(), 1..4),
        reseal in any::<bool>(),
    ) {
        check_checkpoint(which, &mutations, reseal)?;
    }

    #[test]
    fn mutated_slices_are_merged_or_refused_naming_the_file(
        file in 0..SLICE_FILES.len(),
        mutations in prop::collection::vec(mutation(), 1..4),
        reseal in any::<bool>(),
    ) {
        check_slices(file, &mutations, reseal)?;
    }
}

/// Unmutated, the seeds are read and merged.
#[test]
fn the_seeds_themselves_are_accepted() {
    let s = seeds();
    for bytes in &s.checkpoints {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.ckpt");
        fs::write(&path, bytes).unwrap();
        Checkpoint::read(&path).unwrap();
    }
    let mut slices = merge::read_all(&s.slices).unwrap();
    merge::check(&mut slices).unwrap();
    let scenario = Registry::builtin()
        .parse(slices[0].scenario.as_bytes(), Path::new("s.toml"), &[])
        .unwrap();
    merge::verify_all(&scenario, &slices).unwrap();
}
