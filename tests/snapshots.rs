//! Snapshots in the library: a simulation snapshotted at step t and restored (at another
//! shard count, on another thread count) goes on exactly as the original; rolling back gives
//! exactly the state of step t; damaged bytes and the wrong model are refused.

mod common;

use common::fingerprint::{engine_histograms, fingerprint as run_fingerprint, in_pool};
use microsim::models::birthday::{self, Birthday};
use microsim::models::gift_lottery::{self, GiftLottery, Weights};
use microsim::models::musical_chairs::{self, MusicalChairs};
use microsim::models::pi::{self, Pi};
use microsim::{Ending, Model, Order, Settings, Simulation, Snapshot, SnapshotError};

/// Everything deterministic about a run (the shared fingerprint), with the engine's
/// histograms.
fn fingerprint<M: Model>(sim: &Simulation<'_, M>, ending: Ending) -> String {
    format!(
        "{} {}",
        run_fingerprint(sim, ending),
        engine_histograms(sim)
    )
}

/// Runs `model` straight through, and again with a snapshot at step `at` written to bytes,
/// read back and restored at each of `shards` (each on its own thread count); every resumed
/// run must match the straight one. Also: the original, run on after the snapshot, matches;
/// and a restore at the original shard count gives back the snapshot's exact bytes.
fn resumes_exactly<M: Model>(model: &M, settings: Settings, at: u32, shards: &[usize]) {
    let mut straight = Simulation::new(model, settings);
    let ending = straight.run(|_| true);
    let expected = fingerprint(&straight, ending);
    assert!(
        straight.step_count() > at + 1,
        "the run must go on past step {at}"
    );

    let mut sim = Simulation::new(model, settings);
    assert_eq!(sim.run_until(at, |_| true), None, "paused at step {at}");
    assert_eq!(sim.step_count(), at);
    let snapshot = sim.snapshot().expect("the built-in models opt in");
    assert_eq!(snapshot.step(), at);
    let bytes = snapshot.to_bytes();

    for (k, &n) in shards.iter().enumerate() {
        let threads = 1 + k % 3;
        let got = in_pool(threads, || {
            let read = Snapshot::from_bytes(&bytes).unwrap();
            let mut resumed = Simulation::restore(model, &read, n).unwrap();
            assert_eq!(resumed.step_count(), at);
            let ending = resumed.run(|_| true);
            fingerprint(&resumed, ending)
        });
        assert_eq!(got, expected, "resumed at {n} shards on {threads} threads");
    }

    // Rollback: the original goes on to its end, then step `at` comes back exactly.
    let ending = sim.run(|_| true);
    assert_eq!(fingerprint(&sim, ending), expected);
    let back = Simulation::restore(model, &snapshot, settings.shards).unwrap();
    assert!(
        back.snapshot().unwrap().to_bytes() == bytes,
        "a restored simulation is the snapshotted state, byte for byte"
    );
}

fn chairs() -> MusicalChairs {
    MusicalChairs::new(musical_chairs::Params {
        robots: 3000,
        width: 60,
        height: 60,
        rounds: 8,
    })
}

#[test]
fn musical_chairs_resumes_exactly_at_any_shard_count() {
    let s = Settings::default().seed(11).shards(3);
    resumes_exactly(&chairs(), s, 4, &[1, 3, 7]);
    resumes_exactly(&chairs(), s.order(Order::Shuffled), 5, &[2, 5]);
}

#[test]
fn a_sparse_arena_resumes_exactly() {
    // 10⁸ cells for 200 robots: the chairs are a hash set, not a bitmap.
    let model = MusicalChairs::new(musical_chairs::Params {
        robots: 200,
        width: 10_000,
        height: 10_000,
        rounds: 6,
    });
    resumes_exactly(&model, Settings::default().seed(4).shards(2), 3, &[1, 5]);
}

#[test]
fn gift_lottery_resumes_exactly_at_any_shard_count() {
    let model = GiftLottery::new(gift_lottery::Params {
        items: 3000,
        bins: 500,
        weights: Weights::Zipf,
        keep_fraction: 0.2,
        interaction: 0.5,
        max_retries: 6,
        ..Default::default()
    });
    resumes_exactly(&model, Settings::default().seed(8).shards(4), 2, &[1, 3, 9]);
}

#[test]
fn birthday_resumes_exactly_at_any_shard_count() {
    let model = Birthday::new(birthday::Params {
        people: 800,
        days: 365,
    });
    resumes_exactly(&model, Settings::default().seed(5).shards(2), 1, &[1, 6]);
}

#[test]
fn pi_resumes_exactly_at_any_shard_count() {
    let model = Pi::new(pi::Params {
        points: 200_000,
        tasks: 12,
        points_per_step: 2_000,
    });
    resumes_exactly(&model, Settings::default().seed(2).shards(3), 4, &[1, 5]);
}

#[test]
fn a_snapshot_of_another_model_or_size_is_refused() {
    let model = chairs();
    let mut sim = Simulation::new(&model, Settings::default().seed(1));
    sim.run_until(2, |_| true);
    let snap = sim.snapshot().unwrap();
    let pi = Pi::new(pi::Params {
        points: 1000,
        tasks: 3000,
        points_per_step: 10,
    });
    let err = Simulation::restore(&pi, &snap, 1).unwrap_err();
    assert!(matches!(err, SnapshotError::Mismatch(_)), "{err}");
    assert!(err.to_string().contains("MusicalChairs"), "{err}");

    let fewer = MusicalChairs::new(musical_chairs::Params {
        robots: 2999,
        ..model.params().clone()
    });
    let err = Simulation::restore(&fewer, &snap, 1).unwrap_err();
    assert!(err.to_string().contains("3000 tasks"), "{err}");
    let err = Simulation::restore(&model, &snap, 0).unwrap_err();
    assert!(matches!(err, SnapshotError::Shards { .. }), "{err}");
}

#[test]
fn damaged_bytes_are_refused_without_a_panic() {
    let model = chairs();
    let mut sim = Simulation::new(&model, Settings::default().seed(1).shards(2));
    sim.run_until(3, |_| true);
    let bytes = sim.snapshot().unwrap().to_bytes();
    // Every truncation, and a flipped byte every 97 bytes: an error or (for a flip that
    // leaves valid data behind) a simulation, never a panic.
    for cut in (0..bytes.len()).step_by(61) {
        assert!(Snapshot::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    for at in (0..bytes.len()).step_by(97) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        if let Ok(snap) = Snapshot::from_bytes(&bad) {
            let _ = Simulation::restore(&model, &snap, 3);
        }
    }
    assert!(Snapshot::from_bytes(b"not a snapshot at all").is_err());
}

#[test]
fn a_step_cut_short_is_not_snapshotted() {
    let model = chairs();
    let stop = std::sync::atomic::AtomicBool::new(true);
    let mut sim = Simulation::new(&model, Settings::default().seed(1));
    sim.set_stop(&stop);
    assert_eq!(sim.run(|_| true), Ending::Interrupted);
    assert_eq!(sim.snapshot().unwrap_err(), SnapshotError::MidStep);
}
