//! Determinism is a contract: the same seed gives the same bytes at 1 and N threads and at
//! 1 and N shards; a different seed gives different results.

mod common;

use common::fingerprint::{engine_histograms, fingerprint as run_fingerprint, in_pool};
use microsim::models::musical_chairs::{self, MusicalChairs, Params};
use microsim::{Ending, Metric, Order, Settings, Simulation};

/// Settings with quantum 1: the knobs these tests turn.
fn settings(seed: u64, shards: usize, order: Order, max_steps: u32, histograms: bool) -> Settings {
    Settings::default()
        .seed(seed)
        .shards(shards)
        .order(order)
        .quantum(1)
        .max_steps(max_steps)
        .histograms(histograms)
}

/// Everything about a run that must not depend on threads or shards, as bytes.
fn fingerprint(
    model: &MusicalChairs,
    seed: u64,
    shards: usize,
    threads: usize,
    order: Order,
) -> Vec<u8> {
    fingerprint_after(model, seed, shards, threads, order, None)
}

/// [`fingerprint`] of a simulation that reuses the memory of one run before with `before`'s
/// seed (when given).
fn fingerprint_after(
    model: &MusicalChairs,
    seed: u64,
    shards: usize,
    threads: usize,
    order: Order,
    before: Option<u64>,
) -> Vec<u8> {
    in_pool(threads, || {
        let settings = settings(seed, shards, order, 1000, true);
        let mut sim = match before {
            None => Simulation::new(model, settings),
            Some(other) => {
                // A run cut short leaves mail in flight and tasks mid-way: all of it must go.
                let mut first = Simulation::new(model, settings.seed(other));
                first.run(|row| row.step < 2);
                Simulation::reuse(model, settings, first.into_spare())
            }
        };
        let ending = sim.run(|_| true);
        assert_eq!(ending, Ending::Finished);
        // The shared fingerprint, the engine's histograms and every robot's end state.
        let tasks: Vec<_> = sim.end().tasks().map(|(id, r)| (id, *r)).collect();
        format!(
            "{} {} {tasks:?}",
            run_fingerprint(&sim, ending),
            engine_histograms(&sim)
        )
        .into_bytes()
    })
}

fn crowded() -> MusicalChairs {
    // Crowded enough that many claims collide within a step, so the conflict rule matters.
    MusicalChairs::new(Params {
        robots: 3000,
        width: 50,
        height: 40,
        rounds: 6,
    })
}

#[test]
fn same_seed_same_bytes_at_any_thread_and_shard_count() {
    let model = crowded();
    for order in [Order::ById, Order::Shuffled] {
        let reference = fingerprint(&model, 11, 1, 1, order);
        for (shards, threads) in [(1, 2), (2, 1), (2, 2), (7, 2), (64, 1), (64, 2)] {
            assert!(
                fingerprint(&model, 11, shards, threads, order) == reference,
                "{order:?}: {shards} shards × {threads} threads differs from 1 × 1"
            );
        }
    }
}

#[test]
fn a_reused_simulation_gives_the_same_bytes_as_a_new_one() {
    for model in [
        crowded(),
        MusicalChairs::new(Params {
            robots: 500,
            width: 4000,
            height: 4000,
            rounds: 4,
        }),
    ] {
        for order in [Order::ById, Order::Shuffled] {
            let fresh = fingerprint(&model, 11, 4, 2, order);
            assert!(
                fingerprint_after(&model, 11, 4, 2, order, Some(99)) == fresh,
                "{order:?}: reusing a simulation changed the results"
            );
        }
    }
}

#[test]
fn a_different_seed_gives_different_results() {
    let model = crowded();
    assert_ne!(
        fingerprint(&model, 11, 4, 2, Order::ById),
        fingerprint(&model, 12, 4, 2, Order::ById)
    );
}

#[test]
fn the_conflict_rule_is_what_the_docs_say() {
    // One chair, five robots, one round: every claim lands on the chair in step 0.
    let model = MusicalChairs::new(Params {
        robots: 5,
        width: 1,
        height: 1,
        rounds: 1,
    });
    let winners = |order, seed, shards| {
        let settings = settings(seed, shards, order, 100, false);
        let mut sim = Simulation::new(&model, settings);
        sim.run(|_| true);
        sim.end()
            .tasks()
            .filter(|(_, r)| r.points == 1)
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    // By id: the lowest id wins, whatever the seed.
    for seed in 0..20 {
        assert_eq!(winners(Order::ById, seed, 1), vec![0]);
    }
    // Shuffled: exactly one winner, the same at any shard count, and over seeds every robot
    // wins sometimes (a seeded random permutation, not a fixed rule).
    let mut won = [0u32; 5];
    for seed in 0..200 {
        let w = winners(Order::Shuffled, seed, 1);
        assert_eq!(w.len(), 1);
        assert_eq!(winners(Order::Shuffled, seed, 1), w);
        won[w[0] as usize] += 1;
    }
    // Each robot should win ~40 of 200 times; below 15 would be a 5σ event.
    assert!(won.iter().all(|&n| n >= 15), "wins per robot: {won:?}");
}

#[test]
fn quantum_changes_the_schedule_not_the_draws() {
    // With quantum = rounds every claim goes out in step 0; the draws per robot are the same
    // stream, so the set of claimed cells is the same and cells_taken must agree.
    let model = crowded();
    let run = |quantum| {
        const CELLS_TAKEN: Metric = Metric::named(musical_chairs::METRICS, "cells_taken");
        let settings = Settings::default()
            .seed(5)
            .shards(3)
            .order(Order::ById)
            .quantum(quantum)
            .max_steps(100)
            .histograms(true);
        let mut sim = Simulation::new(&model, settings);
        sim.run(|_| true);
        (sim.report().metric(CELLS_TAKEN), sim.step_count())
    };
    let (taken1, steps1) = run(1);
    let (taken6, steps6) = run(6);
    assert_eq!(taken1, taken6);
    assert_eq!((steps1, steps6), (8, 3));
}

mod gossip {
    //! A model whose tasks remember the exact order of their mail: each step a task sends one
    //! message to a random task and one to a random cell, which answers. Mailboxes mix task
    //! messages and cell answers arriving from many shards, so any dependence of delivery order
    //! on the partition or on threads shows up in the tasks' order-sensitive digests.

    use microsim::internal::rng::{TaskRng, mix};
    use microsim::{CellCtx, Ctx, Mail, Next, TaskId};
    use microsim::{End, Grid, Metric, Model, Quantity, Report};
    use rand::RngExt;
    use serde::{Deserialize, Serialize};

    const METRICS: &[Quantity] =
        &[Quantity::new("received", "messages").about("mail received by all tasks")];
    const RECEIVED: Metric = Metric::named(METRICS, "received");

    #[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
    pub struct Gossip {
        pub digest: u64,
        pub received: u32,
        rounds: u32,
    }

    pub struct Model_ {
        pub tasks: u64,
    }

    impl Model for Model_ {
        type Task = Gossip;
        type Msg = u32;
        type Cells = ();
        const METRICS: &'static [Quantity] = METRICS;

        fn tasks(&self) -> u64 {
            self.tasks
        }
        fn grid(&self) -> Option<Grid> {
            Some(Grid::new(97, 1))
        }
        fn spawn(&self, _: TaskId, _: &mut TaskRng) -> Gossip {
            Gossip::default()
        }
        fn cells(&self, _: std::ops::Range<u64>, _: usize) {}
        fn step(&self, g: &mut Gossip, mail: &[Mail<u32>], ctx: &mut Ctx<'_, u32>) -> Next {
            for m in mail {
                g.digest = mix(g.digest ^ ((m.from as u64) << 32 | m.msg as u64));
                g.received += 1;
            }
            if g.rounds == 8 {
                return Next::Sleep(3);
            }
            g.rounds += 1;
            let to = ctx.rng().random_range(0..self.tasks as u32);
            let cell = ctx.rng().random_range(0..97u64);
            ctx.send_to_task(to, g.rounds);
            ctx.send_to_cell(cell, g.rounds * 1000);
            Next::Continue
        }
        fn on_cell(&self, _: &mut (), mail: Mail<u32>, ctx: &mut CellCtx<'_, u32>) {
            let cell = ctx.cell();
            ctx.send_to_task(mail.from, mail.msg + cell as u32);
        }
        fn report(&self, end: &End<'_, Self>) -> Report {
            let received: u64 = end.tasks().map(|(_, g)| g.received as u64).sum();
            let mut report = end.report();
            report.set(RECEIVED, received as f64);
            report
        }
    }
}

#[test]
fn mixed_mailboxes_are_delivered_in_the_same_order_at_any_partition() {
    let model = gossip::Model_ { tasks: 500 };
    let digests = |shards, threads, order| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let settings = settings(3, shards, order, 40, true);
            let mut sim = Simulation::new(&model, settings);
            sim.run(|_| true);
            sim.end()
                .tasks()
                .map(|(_, g)| (g.digest, g.received))
                .collect::<Vec<_>>()
        })
    };
    for order in [Order::ById, Order::Shuffled] {
        let reference = digests(1, 1, order);
        // Every task sent 8 messages and had 8 answered: 16 mail per task on average.
        let total: u32 = reference.iter().map(|d| d.1).sum();
        assert_eq!(total, 500 * 16);
        for (shards, threads) in [(2, 2), (7, 1), (64, 2)] {
            assert!(
                digests(shards, threads, order) == reference,
                "{order:?}: {shards} shards differ"
            );
        }
    }
}

/// A model where one mailbox receives, in the same step, a cell's answer and a direct message
/// with the same sender and the same sequence number: task `i` claims a cell in step 0 (its
/// first message that step) and the cell forwards the answer to task `i + 1`; in step 1 task
/// `i` messages task `i + 1` directly (again its first message). Both arrive in step 2.
mod relay {
    use microsim::internal::rng::{TaskRng, mix};
    use microsim::{CellCtx, Ctx, Mail, Next, TaskId};
    use microsim::{End, Grid, Model, Quantity, Report};
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
    pub struct Relay {
        pub digest: u64,
        steps: u32,
    }

    pub struct Model_ {
        pub tasks: u32,
    }

    impl Model_ {
        fn next(&self, id: TaskId) -> TaskId {
            (id + 1) % self.tasks
        }
    }

    impl Model for Model_ {
        type Task = Relay;
        type Msg = u32;
        type Cells = ();
        const METRICS: &'static [Quantity] = &[];

        fn tasks(&self) -> u64 {
            self.tasks as u64
        }
        fn grid(&self) -> Option<Grid> {
            Some(Grid::new(self.tasks as u64, 1))
        }
        fn spawn(&self, _: TaskId, _: &mut TaskRng) -> Relay {
            Relay::default()
        }
        fn cells(&self, _: std::ops::Range<u64>, _: usize) {}
        fn step(&self, r: &mut Relay, mail: &[Mail<u32>], ctx: &mut Ctx<'_, u32>) -> Next {
            for m in mail {
                r.digest = mix(r.digest ^ m.msg as u64);
            }
            r.steps += 1;
            match r.steps {
                // The cell "behind" the next task, so cells and tasks sit on different shards.
                1 => ctx.send_to_cell((ctx.id() as u64 * 7) % self.tasks as u64, 1),
                2 => ctx.send_to_task(self.next(ctx.id()), 2),
                _ => return Next::Done,
            }
            Next::Continue
        }
        fn on_cell(&self, _: &mut (), mail: Mail<u32>, ctx: &mut CellCtx<'_, u32>) {
            ctx.send_to_task(self.next(mail.from), mail.msg);
        }
        fn report(&self, end: &End<'_, Self>) -> Report {
            end.report()
        }
    }
}

#[test]
fn an_answer_and_a_message_with_equal_sender_and_sequence_keep_one_order() {
    let model = relay::Model_ { tasks: 60 };
    let digests = |shards, order| {
        let mut sim = Simulation::new(&model, settings(9, shards, order, 10, false));
        sim.run(|_| true);
        sim.end().tasks().map(|(_, r)| r.digest).collect::<Vec<_>>()
    };
    for order in [Order::ById, Order::Shuffled] {
        let reference = digests(1, order);
        // The answer (older: its key was made a step before the message's) comes first.
        let expected = microsim::internal::rng::mix(microsim::internal::rng::mix(1) ^ 2);
        assert!(reference.iter().all(|&d| d == expected), "{order:?}");
        for shards in [2, 3, 7, 60] {
            let differ = (digests(shards, order).iter())
                .zip(&reference)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(
                differ, 0,
                "{order:?}, {shards} shards: {differ} mailboxes differ"
            );
        }
    }
}
