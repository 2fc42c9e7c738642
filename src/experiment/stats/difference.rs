//! Differences between two sets of replications, with 95% confidence intervals.
//!
//! With common random numbers (both sides ran replication `r` with the same seed) the
//! difference is paired: the CI comes from the per-replication differences, whose spread is
//! small when both variants respond alike to the same luck. Without, the two means are compared
//! as independent samples (Welch's t, Welch–Satterthwaite degrees of freedom rounded down).

use serde::Serialize;

use super::{Summary, t_quantile_975};

/// `b − a` for one metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// Mean of `b` minus mean of `a`.
    pub mean: f64,
    /// 95% confidence interval of the difference (none with too few replications).
    pub ci95: Option<[f64; 2]>,
    /// Whether the interval excludes zero.
    pub significant: bool,
    /// "paired" or "welch".
    pub method: &'static str,
}

impl Difference {
    fn new(mean: f64, half: Option<f64>, method: &'static str) -> Self {
        let ci95 = half.filter(|h| h.is_finite()).map(|h| [mean - h, mean + h]);
        let significant = ci95.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0);
        Difference {
            mean,
            ci95,
            significant,
            method,
        }
    }

    /// The paired difference `b[r] − a[r]` over replications present in both.
    pub fn paired(a: &[f64], b: &[f64]) -> Self {
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        if d.is_empty() {
            return Difference::new(f64::NAN, None, "paired");
        }
        let s = Summary::of(&d);
        Difference::new(s.mean, s.ci_half_width(), "paired")
    }

    /// The difference of two independent means, from their summaries.
    pub fn welch(a: &Summary, b: &Summary) -> Self {
        let mean = b.mean - a.mean;
        let half = match (a.std, b.std) {
            (Some(sa), Some(sb)) => {
                let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
                let se = (va + vb).sqrt();
                if se == 0.0 {
                    Some(0.0)
                } else {
                    let df = (va + vb).powi(2)
                        / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
                    Some(t_quantile_975((df.floor() as u64).max(1)) * se)
                }
            }
            _ => None,
        };
        Difference::new(mean, half, "welch")
    }

    /// Half the CI's width, if there is one.
    pub fn half_width(&self) -> Option<f64> {
        self.ci95.map(|[lo, hi]| (hi - lo) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences_cancel_shared_noise() {
        // b = a + 1 exactly: the paired CI is a point, Welch's is wide.
        let a: Vec<f64> = (0..20).map(|i| (i * 37 % 11) as f64 * 10.0).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 1.0).collect();
        let p = Difference::paired(&a, &b);
        assert_eq!(
            (p.mean, p.ci95, p.significant),
            (1.0, Some([1.0, 1.0]), true)
        );
        let w = Difference::welch(&Summary::of(&a), &Summary::of(&b));
        assert!((w.mean - 1.0).abs() < 1e-9 && !w.significant && w.half_width().unwrap() > 10.0);
    }

    #[test]
    fn welch_matches_a_worked_example() {
        // Two samples with equal variance 1 and n = 10: se = sqrt(0.2), df = 18.
        let a = Summary {
            n: 10,
            mean: 0.0,
            std: Some(1.0),
            ci95: None,
            min: 0.0,
            p5: 0.0,
            p50: 0.0,
            p95: 0.0,
            max: 0.0,
        };
        let b = Summary {
            mean: 2.0,
            ..a.clone()
        };
        let w = Difference::welch(&a, &b);
        assert!((w.half_width().unwrap() - 2.100922040 * 0.2f64.sqrt()).abs() < 1e-9);
        assert!(w.significant);
    }
}
