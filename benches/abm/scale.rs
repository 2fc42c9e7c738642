//! The models past the comparison's sizes: Schelling and Flocking at 1M and 10M agents,
//! WolfSheep at 1M, with the densities of the comparison's large models, a few steps each;
//! time per agent-step at 1 and 2 threads and bytes per agent (the engine's estimate, and the
//! resident memory the run added).

use std::time::Instant;

use microsim::models::{flocking, schelling, wolf_sheep};
use microsim::{Model, Order, Settings, Simulation, estimate_bytes};

/// Resident memory of this process, bytes (Linux).
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Times `steps` steps of `model` at `threads` threads (shards: 8 per thread), after building
/// it; returns nanoseconds per agent-step and resident bytes per agent.
fn measure<M: Model>(model: &M, agents: u64, threads: usize, order: Order) -> (f64, f64, f64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        let settings = Settings::default()
            .seed(1)
            .shards(8 * threads)
            .order(order)
            .histograms(false);
        let before = resident();
        let mut sim = Simulation::new(model, settings);
        sim.keep_steps(false);
        sim.advance(); // first touch of every page, outside the timing
        let start = Instant::now();
        let steps = 3;
        for _ in 0..steps {
            sim.advance();
        }
        let ns = start.elapsed().as_nanos() as f64 / (steps as f64 * agents as f64);
        let bytes = resident().saturating_sub(before) as f64 / agents as f64;
        let estimate = estimate_bytes(model, &settings) as f64 / agents as f64;
        (ns, bytes, estimate)
    })
}

fn report<M: Model>(name: &str, model: &M, agents: u64, order: Order) {
    let (one, bytes, estimate) = measure(model, agents, 1, order);
    let (two, _, _) = measure(model, agents, 2, order);
    println!(
        "{name:<22} {agents:>11} agents: {one:>7.1} ns/agent-step at 1 thread, {two:>7.1} at 2 \
         ({:.2}x); {bytes:.0} bytes/agent resident ({estimate:.0} estimated)",
        one / two
    );
}

pub fn run() {
    println!("Beyond the comparison's sizes (3 steps after a first, 8 shards per thread):");
    for agents in [1_000_000u64, 10_000_000] {
        let side = ((agents as f64 / 0.8).sqrt()).ceil() as u64;
        let model = schelling::Schelling::new(schelling::Params {
            width: side,
            height: side,
            agents,
            radius: 2,
            min_to_be_happy: 8,
            steps: 1000,
        });
        report("Schelling (large's)", &model, agents, Order::Shuffled);
        let side = (agents as f64 / (400.0 / 150.0 / 150.0)).sqrt();
        let model = flocking::Flocking::new(flocking::Params {
            width: side,
            height: side,
            birds: agents,
            vision: 15.0,
            steps: 1000,
            ..Default::default()
        });
        report("Flocking (large's)", &model, agents, Order::ById);
    }
    let agents = 1_000_000u64;
    let side = ((agents as f64 / 0.15).sqrt()).ceil() as u64;
    let model = wolf_sheep::WolfSheep::new(wolf_sheep::Params {
        width: side,
        height: side,
        sheep: agents * 2 / 3,
        wolves: agents / 3,
        sheep_reproduce: 0.4,
        wolf_reproduce: 0.2,
        grass_regrowth_time: 10,
        steps: 1000,
        max_animals: 8 * agents,
        ..Default::default()
    });
    report(
        "WolfSheep (large's)",
        &model,
        model.tasks(),
        Order::Shuffled,
    );
}
