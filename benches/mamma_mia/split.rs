//! Where the time goes: a few replications split into phases with `Instant` and page-fault
//! counts, for the engine and the floor.

use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use microsim::internal::montecarlo::{self, Silent};
use microsim::internal::rng::{replication_seed, scale, step_rng};
use microsim::{Ending, Simulation};

use crate::floor::{check, draw_into, tally_and_clear};
use crate::{BINS, ITEMS, Metrics, SEED, model_of, scenario};

/// A point in time with the process's minor page faults so far.
#[derive(Clone, Copy)]
pub struct Mark {
    pub at: Instant,
    pub faults: u64,
    /// CPU time (user + system) of the process so far, in clock ticks.
    pub cpu_ticks: u64,
}

/// Clock ticks per second of `/proc/self/stat` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

impl Mark {
    /// Reads `/proc/self/stat` (fields 10, 14 and 15: minor faults, user and system time;
    /// zeros where it cannot be read), then the clock.
    pub fn now() -> Mark {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // The fields after the command name (which is in parentheses and may hold spaces),
        // from field 3 on.
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .map(|f| f.parse().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0);
        Mark {
            faults: field(10),
            cpu_ticks: field(14) + field(15),
            at: Instant::now(),
        }
    }

    /// CPU cores busy on average since `earlier` (CPU time / wall time).
    pub fn cores_since(&self, earlier: &Mark) -> f64 {
        let cpu = (self.cpu_ticks - earlier.cpu_ticks) as f64 / TICKS_PER_SECOND;
        cpu / (self.at - earlier.at).as_secs_f64()
    }
}

/// Time and minor page faults of one phase, summed over the split replications.
#[derive(Clone, Copy, Default)]
pub struct Phase {
    pub time: Duration,
    pub faults: u64,
}

impl Phase {
    fn add(&mut self, from: Mark, to: Mark) {
        self.time += to.at - from.at;
        self.faults += to.faults - from.faults;
    }
}

/// The engine's phases (`new`, step 0, step 1, report, drop), then the floor's (draws without
/// counting, draws with counting, histogram).
#[derive(Default)]
pub struct Split {
    pub engine: [Phase; 5],
    /// The same replications through `montecarlo::replicate`, unsplit.
    pub whole: Phase,
    pub floor: [Phase; 3],
}

/// Splits the engine at 1 thread (as `montecarlo::run` runs a replication inside a batch: 16
/// shards stepped one after another, histograms on) and the floor into phases. Each engine
/// replication is also run whole through `montecarlo::replicate`, interleaved, to show what
/// the split itself costs.
pub fn split(reps: u64, reference: &[Metrics]) -> Split {
    let scenario = scenario(1, reps, Some(crate::SHARDS));
    let model = model_of(&scenario);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a rayon pool");
    let mut s = Split::default();
    pool.install(|| {
        for r in 0..reps {
            let settings = scenario.settings(r);
            let m0 = Mark::now();
            let mut sim = Simulation::new(&model, settings);
            sim.set_parallel(false);
            let m1 = Mark::now();
            let mut marks = Vec::new();
            let ending = sim.run(|_| {
                marks.push(Mark::now());
                true
            });
            let report = sim.report();
            let m3 = Mark::now();
            drop(sim);
            let m4 = Mark::now();
            assert_eq!(ending, Ending::Finished);
            assert_eq!(marks.len(), 2, "the source notes' lottery takes two steps");
            check(
                "engine (split)",
                &[report.metrics().to_vec()],
                &reference[r as usize..=r as usize],
            );
            for (phase, (from, to)) in s.engine.iter_mut().zip([
                (m0, m1),
                (m1, marks[0]),
                (marks[0], marks[1]),
                (marks[1], m3),
                (m3, m4),
            ]) {
                phase.add(from, to);
            }
            // The same replication unsplit, interleaved so that both see the same heap.
            let m0 = Mark::now();
            let rep = montecarlo::replicate(
                &model,
                r,
                &scenario.plan(None),
                false,
                &AtomicBool::new(false),
                &Silent,
            );
            let m1 = Mark::now();
            check(
                "engine (replicate)",
                std::slice::from_ref(&rep.metrics),
                &reference[r as usize..=r as usize],
            );
            drop(rep);
            s.whole.add(m0, m1);
        }
    });
    let mut counts = vec![0u32; BINS as usize];
    for r in 0..reps {
        let rep_seed = replication_seed(SEED, r);
        let m0 = Mark::now();
        let mut acc = 0u64;
        for id in 0..ITEMS {
            acc = acc.wrapping_add(scale(step_rng(rep_seed, id as u32, 0).word(1), BINS).0);
        }
        black_box(acc);
        let m1 = Mark::now();
        draw_into(rep_seed, &mut counts);
        let m2 = Mark::now();
        let tally = tally_and_clear(&mut counts);
        let m3 = Mark::now();
        assert_eq!(tally.metrics(), reference[r as usize], "floor (split)");
        s.floor[0].add(m0, m1);
        s.floor[1].add(m1, m2);
        s.floor[2].add(m2, m3);
    }
    s
}
