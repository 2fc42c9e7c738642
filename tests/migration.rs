//! Tasks that move: a walker that moves to the shard owning the cell it is in
//! ([`microsim::Ctx::move_near`]) keeps its state and stream; every result is the same as
//! when it stays at home, at any shard and thread count and under either order, and the
//! cross-shard messages fall. A simulation whose tasks moved snapshots and resumes exactly.

mod common;

use common::fingerprint::results;
use microsim::Peers;
use microsim::internal::team::ThreadTeam;
use microsim::rand::RngExt;
use microsim::{
    CellCtx, Codec, Counter, Ctx, End, Grid, Mail, Metric, Model, Next, Order, Quantity, Report,
    Settings, Simulation, Snapshot, TaskId, TaskRng,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Walker {
    x: u32,
    y: u32,
    left: u32,
    awaiting: u32,
    firsts: u32,
    /// Greetings received from the walker before it (direct task mail, which must find a
    /// walker wherever it lives, also when it moved in the step the greeting was sent).
    greetings: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Msg {
    Visit,
    Seen(u32),
    Hello,
}

const COUNTERS: &[Quantity] = &[Quantity::new("new_cells", "cells")];
const NEW_CELLS: Counter = Counter::named(COUNTERS, "new_cells");
const METRICS: &[Quantity] = &[
    Quantity::new("cells_visited", "cells"),
    Quantity::new("first_visits", "visits"),
    Quantity::new("greetings", "messages"),
];
const CELLS_VISITED: Metric = Metric::named(METRICS, "cells_visited");
const FIRST_VISITS: Metric = Metric::named(METRICS, "first_visits");
const GREETINGS: Metric = Metric::named(METRICS, "greetings");

struct Walkers {
    walkers: u64,
    steps: u32,
    grid: Grid,
    /// Whether a walker moves to the shard of the cell it is in.
    settle: bool,
}

impl Model for Walkers {
    type Task = Walker;
    type Msg = Msg;
    type Cells = Vec<u32>;
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;

    fn tasks(&self) -> u64 {
        self.walkers
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn codec(&self) -> Option<Codec<Msg, Vec<u32>>> {
        Some(Codec::new())
    }

    fn spawn(&self, _id: TaskId, rng: &mut TaskRng) -> Walker {
        Walker {
            x: rng.random_range(0..self.grid.width) as u32,
            y: rng.random_range(0..self.grid.height) as u32,
            left: self.steps,
            ..Walker::default()
        }
    }

    fn cells(&self, range: std::ops::Range<u64>, _shards: usize) -> Vec<u32> {
        vec![0; (range.end - range.start) as usize]
    }

    fn step(&self, w: &mut Walker, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        for m in mail {
            match m.msg {
                Msg::Seen(n) => {
                    w.awaiting -= 1;
                    w.firsts += (n == 0) as u32;
                }
                Msg::Hello => w.greetings += 1,
                Msg::Visit => unreachable!("cells get visits"),
            }
        }
        if w.left == 0 {
            return if w.awaiting == 0 {
                Next::Done
            } else {
                Next::Wait
            };
        }
        let (width, height) = (self.grid.width as u32, self.grid.height as u32);
        match ctx.rng().random_range(0..4u8) {
            0 => w.x = (w.x + 1) % width,
            1 => w.x = (w.x + width - 1) % width,
            2 => w.y = (w.y + 1) % height,
            _ => w.y = (w.y + height - 1) % height,
        }
        w.left -= 1;
        w.awaiting += 1;
        let cell = self.grid.cell(w.x as u64, w.y as u64);
        ctx.send_to_cell(cell, Msg::Visit);
        if w.left > 1 {
            let next = (ctx.id() as u64 + 1) % self.walkers;
            ctx.send_to_task(next as TaskId, Msg::Hello);
        }
        if self.settle {
            ctx.move_near(cell);
        }
        Next::Continue
    }

    fn on_cell(&self, visits: &mut Vec<u32>, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        let n = &mut visits[ctx.offset()];
        ctx.send_to_task(mail.from, Msg::Seen(*n));
        ctx.count(NEW_CELLS, (*n == 0) as u64);
        *n += 1;
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let cells = end.cells().flatten().filter(|&&n| n > 0).count();
        let firsts: u64 = end.tasks().map(|(_, w)| w.firsts as u64).sum();
        let greetings: u64 = end.tasks().map(|(_, w)| w.greetings as u64).sum();
        // Every walker's state, in id order, as details: any mix-up of tasks shows here.
        let states: Vec<_> = end
            .tasks()
            .map(|(id, w)| (id, w.x, w.y, w.firsts, w.greetings))
            .collect();
        let mut report = end.report();
        report
            .set(CELLS_VISITED, cells as f64)
            .set(FIRST_VISITS, firsts as f64)
            .set(GREETINGS, greetings as f64)
            .details(serde_json::json!({ "walkers": states }));
        report
    }
}

fn walkers(settle: bool) -> Walkers {
    Walkers {
        walkers: 3000,
        steps: 12,
        grid: Grid::new(60, 60),
        settle,
    }
}

/// Everything deterministic about a run, and its cross-shard messages.
fn outcome(model: &Walkers, shards: usize, threads: usize, order: Order) -> (String, u64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let settings = Settings::default().seed(77).shards(shards).order(order);
        let mut sim = Simulation::new(model, settings);
        sim.run(|_| true);
        fingerprint(&sim)
    })
}

/// The shared fingerprint of the run's results, and the messages that crossed shards.
fn fingerprint(sim: &Simulation<'_, Walkers>) -> (String, u64) {
    let cross = sim.steps().iter().map(|r| r.messages_cross).sum();
    (results(&sim.report(), sim.steps()), cross)
}

#[test]
fn moving_tasks_changes_no_result_and_keeps_messages_local() {
    for order in [Order::ById, Order::Shuffled] {
        let (home, _) = outcome(&walkers(false), 1, 1, order);
        for (shards, threads) in [(4, 1), (4, 3), (9, 2)] {
            let (stay, cross_stay) = outcome(&walkers(false), shards, threads, order);
            let (moved, cross_moved) = outcome(&walkers(true), shards, threads, order);
            assert_eq!(stay, home, "{order:?}, {shards} shards at home");
            assert_eq!(moved, home, "{order:?}, {shards} shards, tasks moving");
            // Visits and their answers stay local once a walker lives with its cell; the
            // greetings to the next walker still cross.
            assert!(
                cross_moved * 2 < cross_stay,
                "{order:?}, {shards} shards: {cross_moved} cross-shard messages moving, \
                 {cross_stay} at home"
            );
        }
    }
}

#[test]
fn a_simulation_whose_tasks_moved_snapshots_and_resumes_exactly() {
    let model = walkers(true);
    let settings = Settings::default().seed(77).shards(5);
    let mut straight = Simulation::new(&model, settings);
    straight.run(|_| true);
    let expected = fingerprint(&straight).0;

    let mut sim = Simulation::new(&model, settings);
    sim.run_until(6, |_| true);
    let bytes = sim.snapshot().unwrap().to_bytes();
    for shards in [1, 5, 7] {
        let snap = Snapshot::from_bytes(&bytes).unwrap();
        let mut resumed = Simulation::restore(&model, &snap, shards).unwrap();
        resumed.run(|_| true);
        assert_eq!(fingerprint(&resumed).0, expected, "{shards} shards");
    }
}

/// One replication shared by `ranks` ranks (threads of this process, speaking what MPI
/// ranks speak), each stepping its own shards on `threads` threads: rank 0's fingerprint
/// once every shard was gathered to it, and the messages that crossed between ranks.
fn shared_outcome<M: Model + Sync>(
    model: &M,
    settings: Settings,
    ranks: usize,
    threads: usize,
    print: fn(&Simulation<'_, M>) -> String,
) -> (String, u64) {
    let team = ThreadTeam::new(ranks);
    std::thread::scope(|s| {
        let handles: Vec<_> = team
            .iter()
            .map(|member| {
                s.spawn(move || {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    pool.install(|| {
                        let mut sim = Simulation::new_on(model, settings, member).unwrap();
                        sim.run(|_| true);
                        let sent = sim.sent_to_ranks().0;
                        sim.gather_shards().unwrap();
                        ((member.rank() == 0).then(|| print(&sim)), sent)
                    })
                })
            })
            .collect();
        let mut sent = 0;
        let mut print = None;
        for h in handles {
            let (p, n) = h.join().unwrap();
            print = print.or(p);
            sent += n;
        }
        (print.unwrap(), sent)
    })
}

#[test]
fn a_replication_shared_by_ranks_is_one_process_with_tasks_moving_between_ranks() {
    for order in [Order::ById, Order::Shuffled] {
        for settle in [false, true] {
            let model = walkers(settle);
            let (home, _) = outcome(&model, 1, 1, order);
            for (ranks, shards, threads) in [(2, 4, 1), (3, 5, 2), (3, 9, 1), (4, 3, 1)] {
                let settings = Settings::default().seed(77).shards(shards).order(order);
                let (shared, between) =
                    shared_outcome(&model, settings, ranks, threads, |s| fingerprint(s).0);
                assert_eq!(
                    shared, home,
                    "{order:?}, settle {settle}: {ranks} ranks × {threads} threads, {shards} shards"
                );
                assert!(between > 0, "messages crossed between ranks");
            }
        }
    }
}

#[test]
fn robots_shared_by_ranks_are_one_process() {
    use microsim::models::musical_chairs::{MusicalChairs, Params};
    let model = MusicalChairs::new(Params {
        robots: 2000,
        width: 60,
        height: 60,
        rounds: 6,
    });
    let print = |sim: &Simulation<'_, MusicalChairs>| {
        let r = sim.report();
        let steps: Vec<_> = sim
            .steps()
            .iter()
            .map(|r| {
                (
                    r.tasks_run,
                    r.tasks_alive,
                    r.messages_local + r.messages_cross,
                    r.counters.clone(),
                )
            })
            .collect();
        format!("{:?} {} {steps:?}", r.metrics(), r.details_json())
    };
    for order in [Order::ById, Order::Shuffled] {
        let settings = Settings::default().seed(5).shards(6).order(order);
        let mut one = Simulation::new(&model, settings);
        one.run(|_| true);
        let expected = print(&one);
        for (ranks, threads) in [(2, 1), (2, 2), (3, 1), (3, 2)] {
            let (shared, _) = shared_outcome(&model, settings, ranks, threads, print);
            assert_eq!(
                shared, expected,
                "{order:?}: {ranks} ranks × {threads} threads"
            );
        }
    }
}

#[test]
fn a_replication_shared_by_ranks_snapshots_and_resumes_on_other_ranks_or_one_process() {
    let model = walkers(true);
    let settings = Settings::default().seed(77).shards(5);
    let (expected, _) = outcome(&model, 5, 1, Order::ById);
    // Three ranks run to step 6 and snapshot together; rank 0 holds the snapshot.
    let team = ThreadTeam::new(3);
    let bytes = std::thread::scope(|s| {
        let handles: Vec<_> = team
            .iter()
            .map(|member| {
                let model = &model;
                s.spawn(move || {
                    let mut sim = Simulation::new_on(model, settings, member).unwrap();
                    sim.run_until(6, |_| true);
                    let snap = sim.snapshot_shared().unwrap();
                    // The ranks go on after the snapshot as if nothing happened.
                    sim.run(|_| true);
                    sim.gather_shards().unwrap();
                    let done = (member.rank() == 0).then(|| fingerprint(&sim).0);
                    (snap.map(|s| s.to_bytes()), done)
                })
            })
            .collect();
        let mut bytes = None;
        for h in handles {
            let (snap, done) = h.join().unwrap();
            if let Some(done) = done {
                assert_eq!(done, expected, "the run that snapshotted went on unchanged");
            }
            bytes = bytes.or(snap);
        }
        bytes.expect("rank 0 has the snapshot")
    });
    // One process, at another shard count.
    let snap = Snapshot::from_bytes(&bytes).unwrap();
    let mut one = Simulation::restore(&model, &snap, 4).unwrap();
    one.run(|_| true);
    assert_eq!(fingerprint(&one).0, expected, "resumed in one process");
    // Two ranks, at another shard count.
    let team = ThreadTeam::new(2);
    let got = std::thread::scope(|s| {
        let handles: Vec<_> = team
            .iter()
            .map(|member| {
                let (model, snap) = (&model, &snap);
                s.spawn(move || {
                    let mut sim = Simulation::restore_on(model, snap, 7, member).unwrap();
                    sim.run(|_| true);
                    sim.gather_shards().unwrap();
                    (member.rank() == 0).then(|| fingerprint(&sim).0)
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .next()
            .unwrap()
    });
    assert_eq!(got, expected, "resumed on two ranks");
}

/// A rank whose exchanges go wrong from the `from`-th on, on every rank alike (each makes the
/// same exchanges in the same order): what arrives is cut in half, or the exchange fails.
struct Faulty<'a> {
    inner: &'a ThreadTeam,
    calls: std::sync::atomic::AtomicUsize,
    from: usize,
    fail: bool,
}

impl Peers for Faulty<'_> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn all_to_all(&self, out: Vec<Vec<u8>>) -> std::io::Result<Vec<Vec<u8>>> {
        let got = self.inner.all_to_all(out)?;
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < self.from {
            return Ok(got);
        }
        if self.fail {
            return Err(std::io::Error::other("the network went away"));
        }
        Ok(got.into_iter().map(|b| b[..b.len() / 2].to_vec()).collect())
    }
}

#[test]
fn a_failed_or_damaged_exchange_between_ranks_ends_the_run_with_an_error_not_a_panic() {
    let model = walkers(true);
    let settings = Settings::default().seed(77).shards(4);
    for (fail, want) in [
        (
            true,
            "could not exchange a step's data: the network went away",
        ),
        (false, "from another rank is damaged"),
    ] {
        let team = ThreadTeam::new(2);
        let outcomes: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = team
                .iter()
                .map(|member| {
                    let model = &model;
                    s.spawn(move || {
                        let faulty = Faulty {
                            inner: member,
                            calls: Default::default(),
                            from: 7,
                            fail,
                        };
                        let mut sim = Simulation::new_on(model, settings, &faulty).unwrap();
                        let ending = sim.run(|_| true);
                        let failure = sim.take_failure().map(|e| e.to_string());
                        (ending, sim.step_count(), failure)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (ending, steps, failure) in outcomes {
            assert_eq!(ending, microsim::Ending::Interrupted);
            assert!(
                steps < 7,
                "stopped at the failed exchange, not after {steps} steps"
            );
            let failure = failure.expect("the run says why it stopped");
            assert!(failure.contains(want), "{failure}");
        }
    }
}
