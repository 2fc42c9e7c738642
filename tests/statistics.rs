//! Statistical tests against analytic answers, with fixed seeds and stated tolerances.
//!
//! Musical chairs: a cell is taken exactly when at least one of the `n` claims lands on it,
//! whatever the conflict rule, so `cells_taken` follows the classical occupancy distribution
//! of `n` balls in `C` urns:
//!   E = C·(1 − q^n),  q = 1 − 1/C,
//!   Var = C·q^n + C(C−1)·(1 − 2/C)^n − C²·q^{2n},
//! and `claims_denied = n − cells_taken`.

use microsim::models::musical_chairs::{CLAIMS_DENIED, MusicalChairs, Params};
use microsim::{Order, Settings, Simulation, replication_seed};

fn occupancy(cells: f64, claims: f64) -> (f64, f64) {
    let q = 1.0 - 1.0 / cells;
    let mean = cells * (1.0 - q.powf(claims));
    let var = cells * q.powf(claims) + cells * (cells - 1.0) * (1.0 - 2.0 / cells).powf(claims)
        - cells * cells * q.powf(2.0 * claims);
    (mean, var)
}

fn denied(model: &MusicalChairs, seed: u64, order: Order) -> f64 {
    let settings = Settings::default()
        .seed(seed)
        .shards(4)
        .order(order)
        .quantum(1)
        .max_steps(10_000)
        .histograms(false);
    let mut sim = Simulation::new(model, settings);
    sim.run(|_| true);
    sim.report().metric(CLAIMS_DENIED)
}

#[test]
fn claims_denied_matches_the_occupancy_expectation_on_small_arenas() {
    // Over R replications the mean of claims_denied has standard error sqrt(Var/R); we allow
    // 4 standard errors (a false alarm about once in 16,000 runs of this test per case).
    for (robots, width, height, rounds, order) in [
        (100, 10, 10, 3, Order::ById),
        (1000, 40, 25, 2, Order::Shuffled),
        (500, 100, 100, 10, Order::ById),
    ] {
        let model = MusicalChairs::new(Params {
            robots,
            width,
            height,
            rounds,
        });
        let (cells, claims) = ((width * height) as f64, (robots * rounds as u64) as f64);
        let (mean_taken, var) = occupancy(cells, claims);
        let expected = claims - mean_taken;
        let reps = 200;
        let observed: f64 = (0..reps)
            .map(|r| denied(&model, replication_seed(77, r), order))
            .sum::<f64>()
            / reps as f64;
        let se = (var / reps as f64).sqrt();
        assert!(
            (observed - expected).abs() < 4.0 * se,
            "{robots} robots on {width}×{height}, {rounds} rounds: mean denied {observed:.2}, expected {expected:.2} ± {:.2}",
            4.0 * se
        );
    }
}

#[test]
fn the_seed_scenario_denies_about_4983_claims() {
    // 100k robots, 10000×10000 cells, 10 rounds: E[denied] ≈ 4,983.4, sd ≈ 70.4.
    let model = MusicalChairs::new(Params::default());
    let (mean_taken, var) = occupancy(1e8, 1e6);
    let expected = 1e6 - mean_taken;
    assert!((expected - 4983.4).abs() < 0.5);
    let got = denied(&model, replication_seed(2008, 0), Order::ById);
    assert!(
        (got - expected).abs() < 4.0 * var.sqrt(),
        "denied {got}, expected {expected:.1} ± {:.1}",
        4.0 * var.sqrt()
    );
}
