//! Summaries of a metric over replications: mean, standard deviation, 95% confidence interval
//! (Student's t) and quantiles.

use serde::Serialize;

/// A metric summarised over replications.
///
/// `std` and `ci95` are `None` (JSON `null`) with fewer than two replications: one value says
/// nothing about spread, and pretending otherwise would be dishonest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub std: Option<f64>,
    /// 95% confidence interval of the mean: mean ± t(0.975, n−1) · std / √n.
    pub ci95: Option<[f64; 2]>,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises `values`, which must not be empty.
    ///
    /// Quantiles interpolate linearly between order statistics (Hyndman & Fan type 7, the
    /// default of R and NumPy).
    pub fn of(values: &[f64]) -> Self {
        assert!(!values.is_empty(), "a summary needs at least one value");
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        let ci95 = std.map(|s| {
            let half = t_quantile_975((n - 1) as u64) * s / (n as f64).sqrt();
            [mean - half, mean + half]
        });
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            n,
            mean,
            std,
            ci95,
            min: sorted[0],
            p5: quantile(&sorted, 0.05),
            p50: quantile(&sorted, 0.5),
            p95: quantile(&sorted, 0.95),
            max: sorted[n - 1],
        }
    }

    /// Half the width of the confidence interval, if there is one.
    pub fn ci_half_width(&self) -> Option<f64> {
        self.ci95.map(|[lo, hi]| (hi - lo) / 2.0)
    }
}

/// The `q` quantile of sorted values, type 7.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    match sorted.get(lo + 1) {
        Some(next) => sorted[lo] + frac * (next - sorted[lo]),
        None => sorted[lo],
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
///
/// Exact to 9 digits from a table up to 30 degrees of freedom; beyond, the Cornish–Fisher
/// expansion (Abramowitz & Stegun 26.7.5), whose error is below 1e-6 there.
pub fn t_quantile_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706204736,
        4.302652730,
        3.182446305,
        2.776445105,
        2.570581836,
        2.446911851,
        2.364624252,
        2.306004135,
        2.262157163,
        2.228138852,
        2.200985160,
        2.178812830,
        2.160368656,
        2.144786688,
        2.131449546,
        2.119905299,
        2.109815578,
        2.100922040,
        2.093024054,
        2.085963447,
        2.079613845,
        2.073873068,
        2.068657610,
        2.063898562,
        2.059538553,
        2.055529439,
        2.051830516,
        2.048407142,
        2.045229642,
        2.042272456,
    ];
    assert!(df > 0, "Student's t needs at least one degree of freedom");
    if let Some(&t) = TABLE.get(df as usize - 1) {
        return t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    let g1 = (z3 + z) / 4.0;
    let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    let g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    z + g1 / v + g2 / (v * v) + g3 / v.powi(3) + g4 / v.powi(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_values() {
        // Published 0.975 quantiles (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
        for (df, t) in [
            (1, 12.706),
            (10, 2.228),
            (30, 2.042),
            (60, 2.000),
            (120, 1.980),
        ] {
            assert!((t_quantile_975(df) - t).abs() < 5e-4, "df {df}");
        }
        // The expansion joins the table smoothly at 30.
        assert!((t_quantile_975(31) - 2.039513446).abs() < 1e-6);
        assert!((t_quantile_975(1_000_000) - 1.959966).abs() < 1e-5);
    }

    #[test]
    fn summary_of_known_values() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        assert!((s.std.unwrap() - 2.138089935).abs() < 1e-9);
        let half = 2.364624252 * 2.138089935 / 8f64.sqrt();
        assert!((s.ci95.unwrap()[0] - (5.0 - half)).abs() < 1e-8);
        assert_eq!((s.min, s.p50, s.max), (2.0, 4.5, 9.0));
        assert!((s.p5 - 2.7).abs() < 1e-12);
    }

    #[test]
    fn one_value_has_no_spread() {
        let s = Summary::of(&[3.0]);
        assert_eq!(
            (s.mean, s.std, s.ci95, s.p5, s.p95),
            (3.0, None, None, 3.0, 3.0)
        );
    }
}
