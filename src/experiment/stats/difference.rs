//! Differences between two sets of replications, with confidence intervals.
//!
//! With common random numbers (both sides ran replication `r` with the same seed) the
//! difference is paired: the CI comes from the per-replication differences, whose spread is
//! small when both variants respond alike to the same luck. Without, the two means are compared
//! as independent samples (Welch's t, Welch–Satterthwaite degrees of freedom rounded down).

use serde::{Deserialize, Serialize};

use super::summary::{Summary, t_quantile};

/// `b − a` for one metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Mean of `b` minus mean of `a`.
    #[serde(deserialize_with = "super::summary::nan_if_null")]
    pub mean: f64,
    /// 95% confidence interval of the difference (none with too few replications).
    #[serde(deserialize_with = "super::summary::nan_interval")]
    pub ci95: Option<[f64; 2]>,
    /// The interval at the chosen confidence level (the same as `ci95` at 0.95).
    #[serde(default, deserialize_with = "super::summary::nan_interval")]
    pub ci: Option<[f64; 2]>,
    /// Whether `ci` excludes zero.
    pub significant: bool,
    /// "paired" or "welch".
    pub method: String,
}

impl Difference {
    fn new(mean: f64, half: impl Fn(f64) -> Option<f64>, confidence: f64, method: &str) -> Self {
        let interval = |level: f64| {
            half(level)
                .filter(|h| h.is_finite())
                .map(|h| [mean - h, mean + h])
        };
        let ci = interval(confidence);
        Difference {
            mean,
            ci95: interval(0.95),
            ci,
            significant: ci.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0),
            method: method.to_string(),
        }
    }

    /// The paired difference `b[r] − a[r]` over replications present in both.
    pub fn paired(a: &[f64], b: &[f64], confidence: f64) -> Self {
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        if d.is_empty() {
            return Difference::new(f64::NAN, |_| None, confidence, "paired");
        }
        let mean = Summary::of(&d).mean;
        let half = |level: f64| Summary::at(&d, level).ci_half_width();
        Difference::new(mean, half, confidence, "paired")
    }

    /// The difference of two independent means, from their summaries.
    pub fn welch(a: &Summary, b: &Summary, confidence: f64) -> Self {
        let mean = b.mean - a.mean;
        let half = |level: f64| match (a.std, b.std) {
            (Some(sa), Some(sb)) => {
                let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
                let se = (va + vb).sqrt();
                if se == 0.0 {
                    Some(0.0)
                } else {
                    let df = (va + vb).powi(2)
                        / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
                    Some(t_quantile(level, df.floor().max(1.0)) * se)
                }
            }
            _ => None,
        };
        Difference::new(mean, half, confidence, "welch")
    }

    /// Half the width of `ci`, if there is one.
    pub fn half_width(&self) -> Option<f64> {
        self.ci.map(|[lo, hi]| (hi - lo) / 2.0)
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
        let p = Difference::paired(&a, &b, 0.95);
        assert_eq!(
            (p.mean, p.ci95, p.significant),
            (1.0, Some([1.0, 1.0]), true)
        );
        let w = Difference::welch(&Summary::of(&a), &Summary::of(&b), 0.95);
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
            ci: None,
            min: 0.0,
            p5: 0.0,
            p50: 0.0,
            p95: 0.0,
            max: 0.0,
            interval: None,
        };
        let b = Summary {
            mean: 2.0,
            ..a.clone()
        };
        let w = Difference::welch(&a, &b, 0.95);
        assert!((w.half_width().unwrap() - 2.100922040 * 0.2f64.sqrt()).abs() < 1e-9);
        assert!(w.significant);
        // At 99.99% (t = 4.966, df 18) the interval is wider than the difference of 2 and
        // holds zero: not significant.
        let strict = Difference::welch(&a, &b, 0.9999);
        assert!((strict.half_width().unwrap() - 4.965707 * 0.2f64.sqrt()).abs() < 1e-5);
        assert!(!strict.significant);
    }
}
