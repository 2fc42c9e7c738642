//! Quick in-process timing of the ABM models (work in progress).
use std::time::Instant;

use microsim::models::schelling::{Params, Schelling};
use microsim::{Settings, Simulation, replication_seed};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<F: FnMut(u64)>(runs: u64, mut f: F) -> f64 {
    let mut t = Vec::new();
    for r in 0..runs {
        let start = Instant::now();
        f(replication_seed(42, r));
        t.push(start.elapsed().as_secs_f64() * 1e3);
    }
    median(t)
}

fn main() {
    let small = Schelling::new(Params::default());
    let large = Schelling::new(Params {
        width: 100,
        height: 100,
        agents: 8000,
        radius: 2,
        min_to_be_happy: 8,
        steps: 20,
    });
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let only = std::env::args().nth(2).unwrap_or_default();
    for (name, model) in [("small", &small), ("large", &large)] {
        if !name.contains(&only) {
            continue;
        }
        let ms = time(runs, |seed| {
            let mut sim = Simulation::new(model, Settings::default().seed(seed).histograms(false));
            sim.set_parallel(false);
            sim.run(|_| true);
        });
        println!("Schelling-{name}: {ms:.3} ms");
        let setup = time(runs, |seed| {
            let sim = Simulation::new(model, Settings::default().seed(seed).histograms(false));
            std::hint::black_box(&sim);
        });
        println!("  of which setup: {setup:.3} ms");
    }
}
