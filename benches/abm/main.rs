//! The agent-based models of the ABM framework comparison (JuliaDynamics/ABMFrameworksComparison)
//! timed the way the comparison times them: in-process, model construction and every step,
//! the median of 100 runs with different seeds, one thread.
//!
//! ```text
//! cargo bench --bench abm                          # microsim's medians, lines of code
//! ABM_COMPARISON=/path/to/checkout cargo bench --bench abm
//!     # and, in the same run, the comparison's own Mesa code (scripts/abm_peers.sh: a venv
//!     # with mesa 3.2.0) with the ratios Mesa / microsim; ABM_FORESTFIRE=<its ForestFire
//!     # folder at commit ea70076> adds ForestFire
//! ABM_SCALE=1 cargo bench --bench abm              # Schelling and Flocking at 1M and 10M
//!     # agents, WolfSheep at 1M: time per agent-step, bytes per agent, 1 and 2 threads
//! cargo bench --bench abm -- 20 schelling          # 20 runs, models whose name has "schelling"
//! ```

mod peers;
mod scale;

use std::time::Instant;

use microsim::models::{flocking, forest_fire, schelling, wolf_sheep};
use microsim::{Model, Order, Settings, Simulation, replication_seed};

/// One model at one size: its name as the comparison writes it, and a timed run.
struct Case {
    name: &'static str,
    run: Box<dyn Fn(u64)>,
}

/// A run of `model` from construction to its last step, as a user writes it.
fn case<M: Model + 'static>(name: &'static str, model: M, order: Order) -> Case {
    Case {
        name,
        run: Box::new(move |seed| {
            let mut sim = Simulation::new(&model, Settings::default().seed(seed).order(order));
            sim.run(|_| true);
            std::hint::black_box(sim.report());
        }),
    }
}

fn cases() -> Vec<Case> {
    use Order::{ById, Shuffled};
    let wolf_sheep_large = wolf_sheep::Params {
        width: 100,
        height: 100,
        sheep: 1000,
        wolves: 500,
        sheep_reproduce: 0.4,
        wolf_reproduce: 0.2,
        grass_regrowth_time: 10,
        ..Default::default()
    };
    let flocking_large = flocking::Params {
        width: 150.0,
        height: 150.0,
        birds: 400,
        vision: 15.0,
        ..Default::default()
    };
    let schelling_large = schelling::Params {
        width: 100,
        height: 100,
        agents: 8000,
        radius: 2,
        min_to_be_happy: 8,
        steps: 20,
    };
    let fire = |size, density| forest_fire::Params {
        size,
        density,
        steps: 100,
    };
    vec![
        case(
            "WolfSheep-small",
            wolf_sheep::WolfSheep::new(Default::default()),
            Shuffled,
        ),
        case(
            "WolfSheep-large",
            wolf_sheep::WolfSheep::new(wolf_sheep_large),
            Shuffled,
        ),
        case(
            "Flocking-small",
            flocking::Flocking::new(Default::default()),
            ById,
        ),
        case(
            "Flocking-large",
            flocking::Flocking::new(flocking_large),
            ById,
        ),
        case(
            "Schelling-small",
            schelling::Schelling::new(Default::default()),
            Shuffled,
        ),
        case(
            "Schelling-large",
            schelling::Schelling::new(schelling_large),
            Shuffled,
        ),
        case(
            "ForestFire-small",
            forest_fire::ForestFire::new(fire(100, 0.7)),
            ById,
        ),
        case(
            "ForestFire-large",
            forest_fire::ForestFire::new(fire(500, 0.9)),
            ById,
        ),
    ]
}

/// The median of `runs` timed runs (milliseconds), each with its own seed.
fn median_ms(case: &Case, runs: u64) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|r| {
            let start = Instant::now();
            (case.run)(replication_seed(42, r));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let runs: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100);
    let only = args.get(1).cloned().unwrap_or_default().to_lowercase();
    println!("microsim, in-process, 1 thread, median of {runs} seeds (model built and run)");
    let mut ours = Vec::new();
    for case in cases() {
        if !case.name.to_lowercase().contains(&only) {
            continue;
        }
        let ms = median_ms(&case, runs);
        println!("microsim {} (ms): {ms:.4}", case.name);
        ours.push((case.name, ms));
    }
    println!();
    peers::lines_of_code();
    if let Ok(checkout) = std::env::var("ABM_COMPARISON") {
        peers::beside_mesa(&checkout, &ours);
    }
    if std::env::var("ABM_SCALE").is_ok_and(|v| v == "1") {
        scale::run();
    }
}
