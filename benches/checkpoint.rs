//! Checkpoint size and speed: 10M robots (musical chairs on a 10,000 × 10,000 arena) snapshotted
//! after 3 steps, with a round of claims in flight.
//!
//! Measured, best of 3 each:
//! - **snapshot**: `Simulation::snapshot` (every task's state, stream and wake step; the
//!   cells; the messages in flight; cut into pieces, postcard, zstd, on every thread);
//! - **write**: the checkpoint file (`checkpoint::Parts::write`: header, body, CRC-32, synced
//!   and renamed into place);
//! - **restore**: `Simulation::restore` at the same and at another shard count;
//! - **floor**: the fastest hand-written program that saves the same state: the engine's
//!   task slots and the chair bitmap dumped as raw bytes (no format, no compression), with the
//!   in-flight claims as 12-byte records, written and synced.
//!
//! Raw state is what the simulation holds in memory for it (tasks with their 12 bytes of
//! stream and wake, the bitmap, the messages); rates are raw state over time. Targets:
//! ≥ 500 MB/s of raw state, ≤ 40 bytes per task in the file.
//!
//! ```sh
//! cargo bench --bench checkpoint            # 10M robots
//! cargo bench --bench checkpoint -- 1000000 # or another count
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use microsim::internal::checkpoint::{self, Parts};
use microsim::models::musical_chairs::{MusicalChairs, Params, Robot};
use microsim::{Settings, Simulation};

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn mb_s(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn main() {
    let robots: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = threads.max(16);
    let model = MusicalChairs::new(Params {
        robots,
        width: 10_000,
        height: 10_000,
        rounds: 10,
    });
    let settings = Settings::default().seed(2008).shards(shards);
    let mut sim = Simulation::new(&model, settings);
    sim.run_until(3, |_| true);
    let in_flight = robots; // every robot's claim of step 2 waits for its answer
    let raw_state =
        robots * (std::mem::size_of::<Robot>() as u64 + 12) + 100_000_000 / 8 + in_flight * 13;
    println!(
        "checkpoint of {robots} robots after 3 steps ({shards} shards, {threads} threads): \
         raw state {:.0} MB",
        raw_state as f64 / 1e6
    );

    let (t_snap, snapshot) = best(3, || sim.snapshot().expect("musical chairs opts in"));
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dest = tmp.path().join("step-000003.ckpt");
    let header = checkpoint::header("musical_chairs", "bench", "", 2008, 0, Some((0, 3)));
    let (t_write, ()) = best(3, || {
        Parts {
            header: &header,
            scenario: "",
            only: None,
            done: 0,
            writer: None,
            running: Some((0, &snapshot, &[])),
        }
        .write(microsim::internal::output::AtomicFile::create(&dest).expect("a file"))
        .expect("the checkpoint is written")
    });
    let file = std::fs::metadata(&dest).expect("written").len();
    let (t_same, _) = best(3, || {
        Simulation::restore(&model, &snapshot, shards).unwrap()
    });
    let (t_other, _) = best(3, || Simulation::restore(&model, &snapshot, 3).unwrap());

    // The floor: the same state as raw bytes.
    let slots: Vec<u8> = vec![7u8; robots as usize * (std::mem::size_of::<Robot>() + 12)];
    let bitmap = vec![1u8; 100_000_000 / 8];
    let mail = vec![3u8; in_flight as usize * 12];
    let raw = tmp.path().join("raw.bin");
    let (t_floor, ()) = best(3, || {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&raw).unwrap());
        for part in [&slots, &bitmap, &mail] {
            f.write_all(part).unwrap();
        }
        f.into_inner().unwrap().sync_all().unwrap();
    });

    let total = t_snap + t_write;
    println!("| step | time | raw state rate | note |");
    println!("|---|---:|---:|---|");
    let row = |what: &str, t: Duration, note: String| {
        println!(
            "| {what} | {:.0} ms | {:.0} MB/s | {note} |",
            t.as_secs_f64() * 1e3,
            mb_s(raw_state, t)
        );
    };
    row(
        "snapshot",
        t_snap,
        format!(
            "{:.0} MB serialised before zstd",
            snapshot.raw_bytes() as f64 / 1e6
        ),
    );
    row(
        "write file",
        t_write,
        format!(
            "{:.1} MB, {:.1} B/task",
            file as f64 / 1e6,
            file as f64 / robots as f64
        ),
    );
    row("snapshot + write", total, "target ≥ 500 MB/s".into());
    row("restore, same shards", t_same, String::new());
    row("restore, 3 shards", t_other, "cells joined and cut".into());
    row(
        "floor: raw dump + sync",
        t_floor,
        format!(
            "{:.0} MB, no format",
            std::fs::metadata(&raw).unwrap().len() as f64 / 1e6
        ),
    );
    println!(
        "\nsnapshot + write / floor: {:.2}×; file {:.1} B/task (target ≤ 40)",
        total.as_secs_f64() / t_floor.as_secs_f64(),
        file as f64 / robots as f64
    );
}
