//! The agent-based models (Schelling, wolf–sheep, flocking, forest fire) and the engine
//! capabilities they stand on: neighbourhood reads, births and deaths, continuous space,
//! claims and kills settled in the step's order.
//!
//! 1. Determinism: the same seed gives the same bytes at any shard and thread count, for each
//!    model, and after a snapshot restored at another shard count.
//! 2. Validation against what is known of each model, with stated tolerances and fixed seeds.

mod common;

use common::fingerprint::{describe, in_pool};
use microsim::models::flocking::{self, Flocking};
use microsim::models::forest_fire::{self, ForestFire};
use microsim::models::schelling::{self, Schelling};
use microsim::models::wolf_sheep::{self, Animal, WolfSheep};
use microsim::{Ending, Model, Order, Settings, Simulation, replication_seed};

/// Everything about a run that must not depend on threads or shards: metrics, details and the
/// deterministic columns of every step row (series included), as text.
fn fingerprint<M: Model>(
    model: &M,
    seed: u64,
    shards: usize,
    threads: usize,
    order: Order,
) -> String {
    in_pool(threads, || {
        let settings = Settings::default().seed(seed).shards(shards).order(order);
        let mut sim = Simulation::new(model, settings);
        let ending = sim.run(|_| true);
        describe(ending, &sim.report(), sim.steps())
    })
}

/// Asserts that `model` gives the same bytes at 1 shard and 1 thread as at `shards` shards
/// and 2 threads, under both orders, for two seeds.
fn same_bytes_everywhere<M: Model>(model: &M, shards: &[usize]) {
    for order in [Order::ById, Order::Shuffled] {
        for seed in [1, replication_seed(7, 3)] {
            let one = fingerprint(model, seed, 1, 1, order);
            for &n in shards {
                let many = fingerprint(model, seed, n, 2, order);
                assert!(
                    one == many,
                    "{order:?} seed {seed}: 1 shard and {n} shards differ"
                );
            }
        }
    }
}

fn small_schelling() -> Schelling {
    Schelling::new(schelling::Params::default())
}

fn small_wolf_sheep() -> WolfSheep {
    WolfSheep::new(wolf_sheep::Params::default())
}

fn small_flocking() -> Flocking {
    Flocking::new(flocking::Params {
        steps: 40,
        ..Default::default()
    })
}

#[test]
fn every_model_gives_the_same_bytes_at_any_shard_and_thread_count() {
    same_bytes_everywhere(&small_schelling(), &[2, 7]);
    same_bytes_everywhere(&small_wolf_sheep(), &[3, 8]);
    same_bytes_everywhere(&small_flocking(), &[4, 9]);
    let fire = ForestFire::new(forest_fire::Params {
        size: 60,
        density: 0.65,
        steps: 200,
    });
    same_bytes_everywhere(&fire, &[2, 5]);
}

/// A snapshot taken mid-run and restored at another shard count goes on exactly as the
/// uninterrupted run: places, births, deaths, grass and sparks in flight included.
fn resumes_to_the_same_bytes<M: Model>(model: &M, at: u32) {
    let settings = Settings::default()
        .seed(11)
        .shards(3)
        .order(Order::Shuffled);
    let mut whole = Simulation::new(model, settings);
    let ending = whole.run(|_| true);
    let expected = describe(ending, &whole.report(), whole.steps());

    let mut first = Simulation::new(model, settings);
    assert_eq!(first.run_until(at, |_| true), None);
    let bytes = first.snapshot().expect("the model snapshots").to_bytes();
    for shards in [1, 5] {
        let snapshot = microsim::Snapshot::from_bytes(&bytes).unwrap();
        let mut again = Simulation::restore(model, &snapshot, shards).unwrap();
        let ending = again.run(|_| true);
        let got = describe(ending, &again.report(), again.steps());
        assert!(
            got == expected,
            "restored at {shards} shards, the run differs"
        );
    }
}

#[test]
fn a_snapshot_resumes_to_the_same_bytes_at_another_shard_count() {
    resumes_to_the_same_bytes(&small_schelling(), 5);
    resumes_to_the_same_bytes(&small_wolf_sheep(), 30);
    resumes_to_the_same_bytes(&small_flocking(), 17);
    let fire = ForestFire::new(forest_fire::Params {
        size: 50,
        density: 0.7,
        steps: 100,
    });
    resumes_to_the_same_bytes(&fire, 12);
}

/// The burnt share of a `size`² forest at `density`, over `seeds` replications.
fn burnt_share(size: u64, density: f64, seeds: u64) -> f64 {
    let model = ForestFire::new(forest_fire::Params {
        size,
        density,
        steps: 100_000,
    });
    let total: f64 = (0..seeds)
        .map(|r| {
            let mut sim = Simulation::new(&model, Settings::default().seed(replication_seed(5, r)));
            assert_eq!(sim.run(|_| true), Ending::Finished);
            sim.report().metrics()[2]
        })
        .sum();
    total / seeds as f64
}

/// A fire lit along one side of a square lattice crosses it only above the site-percolation
/// threshold (p_c ≈ 0.5927): below it the burnt share is small, above it most of the forest
/// burns, and the change is steep around p_c. Tolerances for a 120² forest, 8 seeds each.
#[test]
fn forest_fire_burnt_share_jumps_at_the_percolation_threshold() {
    let low = burnt_share(120, 0.50, 8);
    let near_below = burnt_share(120, 0.56, 8);
    let near_above = burnt_share(120, 0.63, 8);
    let high = burnt_share(120, 0.70, 8);
    assert!(low < 0.08, "at 0.50 a small share burns: {low}");
    assert!(
        near_below < 0.25,
        "at 0.56 still below the threshold: {near_below}"
    );
    assert!(near_above > 0.45, "at 0.63 the fire crosses: {near_above}");
    assert!(high > 0.85, "at 0.70 nearly all burns: {high}");
    assert!(
        near_above - near_below > 0.3,
        "the jump across p_c ≈ 0.593 is steep: {near_below} → {near_above}"
    );
}

/// At the declared sizes Schelling's town ends with every agent happy, and more segregated
/// than it began (a random town has about half of each agent's neighbours in its group).
#[test]
fn schelling_reaches_all_happy_and_segregates() {
    let sizes = [
        schelling::Params {
            steps: 120,
            ..Default::default()
        },
        schelling::Params {
            width: 100,
            height: 100,
            agents: 8000,
            radius: 2,
            min_to_be_happy: 8,
            steps: 120,
        },
    ];
    for p in sizes {
        let model = Schelling::new(p.clone());
        for r in 0..4 {
            let settings = Settings::default()
                .seed(replication_seed(2008, r))
                .order(Order::Shuffled);
            let mut sim = Simulation::new(&model, settings);
            sim.run(|_| true);
            let first = &sim.steps()[0].series;
            let last = &sim.steps().last().unwrap().series;
            assert_eq!(
                last[0], 1.0,
                "{}x{} seed {r}: every agent happy",
                p.width, p.height
            );
            assert!(
                (first[1] - 0.5).abs() < 0.05,
                "a random start is about half alike: {}",
                first[1]
            );
            assert!(
                last[1] > first[1] + 0.2,
                "segregation rises: {} → {}",
                first[1],
                last[1]
            );
            assert_eq!(sim.report().metrics()[2], 1.0, "all_happy");
        }
    }
}

/// Birds start with random headings (local alignment about 0) and align with their neighbours
/// as they flock: by step 100 the mean agreement with the neighbours' heading passes 0.5.
#[test]
fn flocking_alignment_rises_from_its_random_start() {
    let model = Flocking::new(flocking::Params::default());
    for r in 0..3 {
        let mut sim = Simulation::new(&model, Settings::default().seed(replication_seed(9, r)));
        sim.run(|_| true);
        let at = |s: usize| sim.steps()[s].series[0];
        assert!(at(0).abs() < 0.25, "a random start: {}", at(0));
        assert!(at(99) > 0.5, "aligned by step 100: {}", at(99));
        assert!(at(99) > at(10) && at(10) > at(0), "rising");
    }
}

/// Births and deaths: the population the engine reports is the model's own count, ids are
/// never given twice, and the dead leave storage (what `End::placed` lists is exactly the
/// living).
#[test]
fn births_and_deaths_keep_the_books() {
    let model = small_wolf_sheep();
    let mut sim = Simulation::new(&model, Settings::default().seed(3).order(Order::Shuffled));
    sim.run(|_| true);
    let placed = sim.end().placed();
    let last = sim.steps().last().unwrap();
    assert_eq!(placed.len() as u64, last.tasks_alive);
    let mut ids: Vec<u32> = placed.iter().map(|p| p.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), placed.len(), "ids are unique and in order");
    let births: u64 = sim.steps().iter().map(|r| r.counters[3]).sum();
    assert!(births > 0, "animals were born");
    assert!(
        ids.iter().any(|&id| id as u64 >= model.tasks()),
        "born ids follow the first"
    );
    // The step rows count the living at each step's start by kind: sheep + wolves.
    assert_eq!(
        sim.steps()[0].counters[0] + sim.steps()[0].counters[1],
        model.tasks()
    );
    for w in sim.steps().windows(2) {
        let alive_after = w[0].tasks_alive;
        assert_eq!(w[1].counters[0] + w[1].counters[1], alive_after);
    }
    let (sheep, wolves) = placed.iter().fold((0, 0), |(s, w), p| match p.task {
        Animal::Sheep(_) => (s + 1, w),
        Animal::Wolf(_) => (s, w + 1),
    });
    assert_eq!(sim.report().metrics()[..2], [sheep as f64, wolves as f64]);
}

/// More births than the model's bound on tasks: the run stops there, marked.
#[test]
fn a_population_past_its_bound_ends_the_run() {
    let model = WolfSheep::new(wolf_sheep::Params {
        wolves: 0,
        sheep: 200,
        sheep_reproduce: 1.0,
        max_animals: 300,
        ..Default::default()
    });
    let mut sim = Simulation::new(&model, Settings::default().seed(1));
    assert_eq!(sim.run(|_| true), Ending::PopulationLimit);
    assert!(sim.end().placed().len() <= 300);
}

/// Per step: the mean and the 2.5% and 97.5% quantiles of `values`.
fn band(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let q = |p: f64| values[(p * (values.len() - 1) as f64) as usize];
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (mean, q(0.025), q(0.975))
}

/// The comparison's Mesa WolfSheep (`tests/data/abm/wolf_sheep_mesa.csv`, written by
/// `scripts/mesa_reference.py`): per step, sheep and wolves of each seed.
fn mesa_wolf_sheep(size: &str) -> Vec<(Vec<f64>, Vec<f64>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/abm/wolf_sheep_mesa.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut steps: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); 101];
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[0] == size {
            let step: usize = f[2].parse().unwrap();
            steps[step].0.push(f[3].parse().unwrap());
            steps[step].1.push(f[4].parse().unwrap());
        }
    }
    steps
}

/// WolfSheep against the comparison's Mesa code, run with its walk (one of the 4 cells beside):
/// over `seeds` seeds, the mean sheep and wolves at every step from 15 to 100 lie within the
/// 95% band of Mesa's runs (200 seeds small, 147 large), and wolves die out by step 100 about
/// as often (within 12 points). The first steps differ a little by design: the declaration
/// starts an animal's energy between 1 and 2Δ, Mesa's code between 0 and 2Δ (a tenth of its
/// sheep starve in the first step).
#[test]
fn wolf_sheep_populations_fall_within_the_band_of_mesas_runs() {
    let large = wolf_sheep::Params {
        width: 100,
        height: 100,
        sheep: 1000,
        wolves: 500,
        sheep_reproduce: 0.4,
        wolf_reproduce: 0.2,
        grass_regrowth_time: 10,
        ..Default::default()
    };
    for (size, params, seeds) in [
        ("small", wolf_sheep::Params::default(), 100),
        ("large", large, 40),
    ] {
        let model = WolfSheep::new(wolf_sheep::Params {
            walk: wolf_sheep::Walk::VonNeumann,
            ..params
        });
        let mut ours: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); 100];
        let mut extinct = 0;
        for r in 0..seeds {
            let settings = Settings::default()
                .seed(replication_seed(2008, r))
                .order(Order::Shuffled);
            let mut sim = Simulation::new(&model, settings);
            sim.run(|_| true);
            for (row, (sheep, wolves)) in sim.steps().iter().zip(&mut ours) {
                sheep.push(row.counters[0] as f64);
                wolves.push(row.counters[1] as f64);
            }
            extinct += (sim.report().metrics()[1] == 0.0) as u32;
        }
        let mesa = mesa_wolf_sheep(size);
        for step in 15..100 {
            for (kind, got, theirs) in [
                ("sheep", &ours[step].0, &mesa[step].0),
                ("wolves", &ours[step].1, &mesa[step].1),
            ] {
                let (mean, _, _) = band(got.clone());
                let (_, lo, hi) = band(theirs.clone());
                assert!(
                    (lo..=hi).contains(&mean),
                    "{size} step {step}: {kind} {mean:.1} outside Mesa's band [{lo}, {hi}]"
                );
            }
        }
        let theirs =
            mesa[100].1.iter().filter(|&&w| w == 0.0).count() as f64 / mesa[100].1.len() as f64;
        let ours = extinct as f64 / seeds as f64;
        assert!(
            (ours - theirs).abs() < 0.12,
            "{size}: wolves die out in {ours:.2} of runs, Mesa {theirs:.2}"
        );
    }
}

/// The comparison's Mesa runs of a model: the rows of `tests/data/abm/NAME` as fields.
fn mesa_rows(name: &str) -> Vec<Vec<String>> {
    let path = format!("{}/tests/data/abm/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// Two means agree when they are within four standard errors of their difference (and a small
/// absolute slack for near-constant values).
fn agree(a: &[f64], b: &[f64], slack: f64) -> bool {
    let ((ma, sa), (mb, sb)) = (mean_sd(a), mean_sd(b));
    let se = (sa * sa / a.len() as f64 + sb * sb / b.len() as f64).sqrt();
    (ma - mb).abs() <= 4.0 * se + slack
}

/// The forest fire's final burnt share per density, 100x100, against the comparison's Mesa
/// ForestFire (50 seeds per density): the means agree within four standard errors.
#[test]
fn forest_fire_burns_as_much_as_mesas_at_every_density() {
    let rows = mesa_rows("forest_fire_mesa.csv");
    for density in [
        "0.40", "0.45", "0.50", "0.55", "0.60", "0.65", "0.70", "0.75", "0.80",
    ] {
        let d: f64 = density.parse().unwrap();
        let theirs: Vec<f64> = rows
            .iter()
            .filter(|r| (r[0].parse::<f64>().unwrap() - d).abs() < 1e-9)
            .map(|r| r[3].parse().unwrap())
            .collect();
        assert!(theirs.len() >= 40, "Mesa's runs at {density}");
        let model = ForestFire::new(forest_fire::Params {
            size: 100,
            density: d,
            steps: 100_000,
        });
        let ours: Vec<f64> = (0..30)
            .map(|r| {
                let mut sim =
                    Simulation::new(&model, Settings::default().seed(replication_seed(4, r)));
                sim.run(|_| true);
                sim.report().metrics()[2]
            })
            .collect();
        assert!(
            agree(&ours, &theirs, 0.01),
            "density {density}: ours {:?}, Mesa {:?}",
            mean_sd(&ours),
            mean_sd(&theirs)
        );
    }
}

/// Schelling after 20 steps (the declared length) against the comparison's Mesa runs: the
/// same kind of outcome. The share happy and the segregation agree within 0.08 at both sizes
/// (simultaneous moves settle a little more slowly than one-by-one ones).
#[test]
fn schelling_segregates_as_mesas_does() {
    let rows = mesa_rows("schelling_mesa.csv");
    let large = schelling::Params {
        width: 100,
        height: 100,
        agents: 8000,
        radius: 2,
        min_to_be_happy: 8,
        steps: 20,
    };
    for (size, p) in [("small", schelling::Params::default()), ("large", large)] {
        let at_20 = |col: usize| -> Vec<f64> {
            rows.iter()
                .filter(|r| r[0] == size && r[2] == "20")
                .map(|r| r[col].parse().unwrap())
                .collect()
        };
        let (happy, segregation) = (mean_sd(&at_20(3)).0, mean_sd(&at_20(4)).0);
        let model = Schelling::new(p);
        let (mut ours_happy, mut ours_seg) = (Vec::new(), Vec::new());
        for r in 0..10 {
            let settings = Settings::default()
                .seed(replication_seed(2008, r))
                .order(Order::Shuffled);
            let mut sim = Simulation::new(&model, settings);
            sim.run(|_| true);
            let report = sim.report();
            ours_happy.push(report.metrics()[0]);
            ours_seg.push(report.metrics()[1]);
        }
        let (h, s) = (mean_sd(&ours_happy).0, mean_sd(&ours_seg).0);
        assert!(
            (h - happy).abs() < 0.08,
            "{size}: happy {h:.3}, Mesa {happy:.3}"
        );
        assert!(
            (s - segregation).abs() < 0.08,
            "{size}: segregation {s:.3}, Mesa {segregation:.3}"
        );
    }
}

/// The step that `docs/abm.md` shows is Schelling's code, line for line (so the guide cannot
/// drift from the model it quotes).
#[test]
fn the_guides_schelling_excerpt_is_the_models_code() {
    let root = env!("CARGO_MANIFEST_DIR");
    let guide = std::fs::read_to_string(format!("{root}/docs/abm.md")).unwrap();
    let source = std::fs::read_to_string(format!("{root}/src/models/schelling.rs")).unwrap();
    let start = guide
        .find("```rust\n")
        .expect("a rust block in docs/abm.md")
        + 8;
    let excerpt = &guide[start..start + guide[start..].find("```").unwrap()];
    let indented: String = excerpt
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    assert!(
        excerpt.lines().count() > 10 && source.contains(&indented),
        "docs/abm.md's excerpt is not in src/models/schelling.rs:\n{indented}"
    );
}
