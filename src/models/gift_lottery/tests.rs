//! Tests of the gift lottery against analytic answers, with fixed seeds.

use super::*;
use crate::{Ending, Order, Settings, Simulation, replication_seed};

fn settings(seed: u64, shards: usize) -> Settings {
    Settings::default()
        .seed(seed)
        .shards(shards)
        .order(Order::ById)
        .quantum(1)
        .max_steps(10_000)
        .histograms(false)
}

/// Runs one replication; returns the report and the steps it took.
fn run(model: &GiftLottery, seed: u64, shards: usize) -> (Report, u32) {
    let mut sim = Simulation::new(model, settings(seed, shards));
    assert_eq!(sim.run(|_| true), Ending::Finished);
    (sim.report(), sim.step_count())
}

fn params(items: u64, bins: u64) -> Params {
    Params {
        items,
        bins,
        ..Params::default()
    }
}

/// Copies placed, from the `copies_per_bin` histogram (exact while no bin holds more than
/// 2047: the histogram keeps 3 significant digits).
fn copies(report: &Report) -> u64 {
    let (_, h) = &report.histograms()[0];
    h.iter_recorded()
        .map(|v| v.value_iterated_to() * v.count_at_value())
        .sum()
}

#[test]
fn expectations_match_the_seed() {
    let model = GiftLottery::new(Params::default());
    let e: Vec<f64> = (1..=5).map(|k| model.expected_bins_with(k)).collect();
    // Poisson(0.3) values times 2M, corrected to the exact binomial.
    for (got, want) in e.iter().zip([444_491.0, 66_674.0, 6_667.0, 500.0, 30.0]) {
        assert!((got - want).abs() < 1.0, "{got} vs {want}");
    }
    let all: f64 = (0..=40).map(|k| model.expected_bins_with(k)).sum();
    assert!((all - 2e6).abs() < 1e-3, "{all}");
    for (k, p) in model.expected_profile().iter().enumerate() {
        assert!((p - model.expected_bins_with(k as u32)).abs() < 1e-6);
    }
}

#[test]
fn seed_run_takes_two_steps_and_sends_one_message_per_item() {
    let model = GiftLottery::new(params(60_000, 200_000));
    let mut sim = Simulation::new(&model, settings(replication_seed(1, 0), 3));
    assert_eq!(sim.run(|_| true), Ending::Finished);
    assert_eq!(sim.step_count(), 2);
    let sent: u64 = sim
        .steps()
        .iter()
        .map(|r| r.messages_local + r.messages_cross)
        .sum();
    assert_eq!(sent, 60_000);
    assert_eq!(sim.steps()[0].tasks_finished, 60_000);
    assert_eq!(sim.tally().total(PLACED), 60_000);
}

/// Observed bins_with_k against the binomial expectation, 4σ with var ≈ E (the Poisson
/// approximation; the true variance of an occupancy count is smaller, so this is lenient
/// by a little, never strict). Each replication, and the mean of the replications at
/// 4σ/√reps.
fn check_profile(items: u64, bins: u64, seeds: &[u64], ks: &[u32]) {
    let model = GiftLottery::new(params(items, bins));
    let mut sums = vec![0.0; ks.len()];
    for &s in seeds {
        let (report, _) = run(&model, replication_seed(2008, s), 2);
        assert_eq!(copies(&report), items);
        for (j, &k) in ks.iter().enumerate() {
            let (got, want) = (
                report.metric(BINS_WITH[k as usize - 1]),
                model.expected_bins_with(k),
            );
            assert!(
                (got - want).abs() < 4.0 * want.sqrt(),
                "k={k}: {got} vs {want:.1} (seed {s})"
            );
            sums[j] += got;
        }
    }
    let reps = seeds.len() as f64;
    for (j, &k) in ks.iter().enumerate() {
        let (mean, want) = (sums[j] / reps, model.expected_bins_with(k));
        assert!(
            (mean - want).abs() < 4.0 * (want / reps).sqrt(),
            "k={k}: mean {mean} vs {want:.1}"
        );
    }
}

#[test]
fn profile_matches_binomial_at_full_size() {
    check_profile(600_000, 2_000_000, &[0, 1], &[1, 2, 3, 4]);
}

#[test]
fn profile_matches_binomial_at_a_tenth() {
    check_profile(60_000, 200_000, &(10..20).collect::<Vec<_>>(), &[1, 2, 3]);
}

#[test]
fn birthday_problem() {
    // P(some shared birthday among 23 in 365 days) = 1 − 365!/(342! 365^23).
    let p: f64 = 1.0 - (0..23).map(|i| (365 - i) as f64 / 365.0).product::<f64>();
    assert!((p - 0.507_297).abs() < 1e-6);
    let model = GiftLottery::new(params(23, 365));
    let reps = 2000;
    let some_bin_shared = |r| {
        let (report, _) = run(&model, replication_seed(23, r), 1);
        report.metric(MAX_PER_BIN) >= 2.0
    };
    let shared = (0..reps).filter(|&r| some_bin_shared(r)).count();
    let frac = shared as f64 / reps as f64;
    let half = 2.576 * (p * (1.0 - p) / reps as f64).sqrt(); // 99% binomial interval
    assert!((frac - p).abs() < half, "{frac} vs {p} ± {half}");
}

#[test]
fn same_results_at_any_shard_count() {
    for p in [
        params(60_000, 200_000),
        Params {
            items: 30_000,
            bins: 50_000,
            weights: Weights::Zipf,
            zipf_s: 0.8,
            keep_fraction: 0.2,
            interaction: 0.7,
            max_retries: 3,
            ..Params::default()
        },
        Params {
            items: 20_000,
            bins: 30_000,
            weights: Weights::Lognormal,
            interaction: 1.0,
            ..Params::default()
        },
    ] {
        let model = GiftLottery::new(p);
        let seed = replication_seed(7, 3);
        let (a, steps_a) = run(&model, seed, 1);
        let (b, steps_b) = run(&model, seed, 7);
        assert_eq!(a.metrics(), b.metrics());
        assert_eq!(steps_a, steps_b);
        assert_eq!(a.histograms()[0].1, b.histograms()[0].1);
    }
}

#[test]
fn zipf_skews_the_spread() {
    let seed = replication_seed(5, 0);
    let (uniform, _) = run(&GiftLottery::new(params(60_000, 200_000)), seed, 2);
    let zipf = GiftLottery::new(Params {
        weights: Weights::Zipf,
        zipf_s: 1.2,
        ..params(60_000, 200_000)
    });
    let (skewed, _) = run(&zipf, seed, 2);
    assert!(skewed.metric(BINS_EMPTY) > uniform.metric(BINS_EMPTY) + 10_000.0);
    assert!(skewed.metric(MAX_PER_BIN) > 10.0 * uniform.metric(MAX_PER_BIN));
    assert_eq!(skewed.details_json()["gifts_placed"], 60_000);
    // The sampler follows the weights: empty bins and singles against Σ_i P_i(k), 4σ.
    for k in [0, 1, 2] {
        let (got, want) = (
            skewed.metric(if k == 0 { BINS_EMPTY } else { BINS_WITH[k - 1] }),
            zipf.expected_profile()[k],
        );
        assert!(
            (got - want).abs() < 4.0 * want.sqrt(),
            "k={k}: {got} vs {want:.1}"
        );
    }
}

#[test]
fn lognormal_weights_are_fixed_and_skew() {
    let a = GiftLottery::lognormal_weights(1000, 1.5);
    assert_eq!(a[..500], GiftLottery::lognormal_weights(500, 1.5)[..]);
    // The deviates look standard normal: mean within 4σ/√n, variance within 10%.
    let z: Vec<f64> = (0..100_000).map(lognormal_z).collect();
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let var = z.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / z.len() as f64;
    assert!(mean.abs() < 4.0 / (z.len() as f64).sqrt(), "{mean}");
    assert!((var - 1.0).abs() < 0.02, "{var}");
    let seed = replication_seed(6, 0);
    let (uniform, _) = run(&GiftLottery::new(params(60_000, 200_000)), seed, 2);
    let model = GiftLottery::new(Params {
        weights: Weights::Lognormal,
        lognormal_sigma: 1.0,
        ..params(60_000, 200_000)
    });
    let (skewed, _) = run(&model, seed, 2);
    assert!(skewed.metric(BINS_EMPTY) > uniform.metric(BINS_EMPTY));
    let want = model.expected_profile()[0];
    let got = skewed.metric(BINS_EMPTY);
    assert!((got - want).abs() < 4.0 * want.sqrt(), "{got} vs {want:.1}");
}

#[test]
fn alias_table_is_exact() {
    let w = [1.0, 2.0, 0.0, 3.0, 4.0, 0.5, 10.0];
    let table = AliasTable::new(&w);
    let total: f64 = w.iter().sum();
    for (p, w) in table.probabilities().iter().zip(w) {
        assert!((p - w / total).abs() < 1e-9, "{p} vs {}", w / total);
    }
    let zipf = AliasTable::new(&GiftLottery::zipf_weights(100_000, 1.1));
    let zipf_total: f64 = GiftLottery::zipf_weights(100_000, 1.1).iter().sum();
    let p = zipf.probabilities();
    for i in [0usize, 1, 9, 999, 99_999] {
        let want = ((i + 1) as f64).powf(-1.1) / zipf_total;
        assert!(
            (p[i] - want).abs() < 1e-9 * want.max(1e-6),
            "{i}: {} vs {want}",
            p[i]
        );
    }
    // Draw frequencies: 700k draws, each count within 4σ of its binomial mean.
    let mut rng = task_rng(99, 0);
    let mut seen = [0u64; 7];
    let draws = 700_000;
    for _ in 0..draws {
        seen[table.draw(rng.next_u64()) as usize] += 1;
    }
    assert_eq!(seen[2], 0);
    for (got, w) in seen.iter().zip(w) {
        let q = w / total;
        let (mean, sd) = (draws as f64 * q, (draws as f64 * q * (1.0 - q)).sqrt());
        assert!((*got as f64 - mean).abs() <= 4.0 * sd, "{got} vs {mean}");
    }
}

#[test]
fn keeping_half() {
    let model = GiftLottery::new(Params {
        keep_fraction: 0.5,
        ..params(60_000, 200_000)
    });
    let (report, steps) = run(&model, replication_seed(9, 0), 4);
    let kept = report.metric(ITEMS_KEPT);
    let sd = (60_000.0f64 * 0.25).sqrt();
    assert!((kept - 30_000.0).abs() < 4.0 * sd, "{kept}");
    assert_eq!(copies(&report) as f64, 60_000.0 - kept);
    assert_eq!(steps, 2);
    // Thinning: a bin's copies are Binomial(items, 0.5/bins).
    let (got, want) = (report.metric(BINS_WITH[0]), model.expected_bins_with(1));
    assert!((got - want).abs() < 4.0 * want.sqrt(), "{got} vs {want}");
}

#[test]
fn interaction_avoids_duplicates_and_places_every_item() {
    let seed = replication_seed(11, 0);
    let base = Params {
        keep_fraction: 0.1,
        ..params(60_000, 200_000)
    };
    let (alone, _) = run(&GiftLottery::new(base.clone()), seed, 3);
    let model = GiftLottery::new(Params {
        interaction: 1.0,
        max_retries: 3,
        ..base
    });
    let mut sim = Simulation::new(&model, settings(seed, 3));
    assert_eq!(sim.run(|_| true), Ending::Finished);
    let together = sim.report();
    assert!(sim.step_count() <= 8, "{}", sim.step_count());
    let dup = |r: &Report| -> f64 {
        (2..=10).map(|k| r.metric(BINS_WITH[k - 1])).sum::<f64>() + r.metric(OVER_10)
    };
    assert!(
        dup(&together) < 0.1 * dup(&alone),
        "{} vs {}",
        dup(&together),
        dup(&alone)
    );
    assert!(together.metric(OFFERS_DECLINED) > 0.0);
    for r in [&alone, &together] {
        let placed: f64 = (1..=10)
            .map(|k| k as f64 * r.metric(BINS_WITH[k - 1]))
            .sum();
        assert_eq!(r.metric(OVER_10), 0.0);
        assert_eq!(placed, 60_000.0 - r.metric(ITEMS_KEPT));
        assert_eq!(copies(r) as f64, placed);
    }
    assert_eq!(
        sim.tally().total(PLACED) as f64,
        60_000.0 - together.metric(ITEMS_KEPT)
    );
    // Every item ended placed or kept, and none retried more than allowed.
    assert!(
        sim.end()
            .tasks()
            .all(|(_, g)| matches!(g.status, Status::Placed | Status::Kept) && g.retries <= 3)
    );
}

#[test]
fn validation_names_the_field() {
    assert!(Params::default().validate().is_ok());
    let bad = [
        Params {
            bins: 0,
            ..Params::default()
        },
        Params {
            items: MAX_ITEMS + 1,
            ..Params::default()
        },
        // Refused by a scenario's checks, once accepted by the constructor's own.
        Params {
            items: 0,
            ..Params::default()
        },
        Params {
            keep_fraction: 1.5,
            ..Params::default()
        },
        Params {
            interaction: -0.1,
            ..Params::default()
        },
        Params {
            zipf_s: 0.0,
            ..Params::default()
        },
        Params {
            lognormal_sigma: f64::NAN,
            ..Params::default()
        },
    ];
    for (p, field) in bad.iter().zip([
        "bins",
        "items",
        "items",
        "keep_fraction",
        "interaction",
        "zipf_s",
        "lognormal_sigma",
    ]) {
        let e = p.validate().unwrap_err();
        assert!(e.starts_with(field), "{e}");
    }
    let p: Params = toml::from_str("weights = \"zipf\"\nzipf_s = 1.1\nitems = 10").unwrap();
    assert_eq!(
        (p.weights, p.zipf_s, p.items, p.bins),
        (Weights::Zipf, 1.1, 10, 2_000_000)
    );
    assert!(toml::from_str::<Params>("weight = \"zipf\"").is_err());
    assert!(toml::from_str::<Params>("weights = \"pareto\"").is_err());
}
