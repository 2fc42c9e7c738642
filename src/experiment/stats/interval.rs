//! The interval a metric is shown with: Student's t, unless the metric's declared support
//! ([`Support`]) says the t interval would claim values it cannot take.
//!
//! | support | method |
//! |---|---|
//! | any | Student's t: `mean ± t(1 − α/2, n − 1) · s / √n` |
//! | non-negative | t, its lower end clipped at 0 where it reaches below (`t_clipped`) |
//! | count | t; where t reaches 0 or below (a rare event) and the counts are not overdispersed (variance ≤ 2 × mean), the exact Poisson interval (Garwood) of the total over the replications, divided by their number (`poisson`); overdispersed counts get t clipped at 0 |
//! | probability | values all 0 or 1 (an outcome per replication): the exact binomial interval (Clopper–Pearson) of the successes in n (`clopper_pearson`); other shares: t clipped to [0, 1] |
//!
//! Garwood: `[χ²(α/2; 2k)/2, χ²(1 − α/2; 2k + 2)/2]` for a total `k` (the lower end 0 when
//! `k = 0`), computed as Gamma quantiles. Clopper–Pearson: `[B(α/2; k, n − k + 1),
//! B(1 − α/2; k + 1, n − k)]` (0 when `k = 0`, 1 when `k = n`). Both are exact (they cover at
//! least the nominal level), and both are the textbook choices for counts of rare events and
//! for proportions (Brown, Cai & DasGupta 2001). Every interval is at the run's `confidence`.
//!
//! `summary.json` keeps `ci` and `ci95` as the plain t intervals (scripts rely on them) and
//! writes this one as `interval` beside them: what the terminal, `report.html`, the plots and
//! the live view show.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, Gamma};

use super::summary::t_quantile;
pub(crate) use crate::engine::quantity::Support;

/// How an [`Interval`] was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Student's t.
    T,
    /// Student's t, clipped to the support.
    TClipped,
    /// The exact Poisson interval of the total (Garwood), divided by the replications.
    Poisson,
    /// The exact binomial interval (Clopper–Pearson) of the share of replications at 1.
    ClopperPearson,
}

impl Method {
    /// Its name in files and on pages (`t`, `t_clipped`, `poisson`, `clopper_pearson`).
    pub fn name(self) -> &'static str {
        match self {
            Method::T => "t",
            Method::TClipped => "t_clipped",
            Method::Poisson => "poisson",
            Method::ClopperPearson => "clopper_pearson",
        }
    }

    /// The mark a table puts after an interval found this way (none for Student's t).
    pub fn mark(self) -> &'static str {
        match self {
            Method::T => "",
            Method::Poisson => "†",
            Method::ClopperPearson => "‡",
            Method::TClipped => "°",
        }
    }

    /// What the method is, in a line (the legend of its [`Method::mark`]).
    pub fn about(self) -> &'static str {
        match self {
            Method::T => "Student's t interval",
            Method::Poisson => "exact Poisson interval (a rare count)",
            Method::ClopperPearson => "exact binomial interval (Clopper–Pearson)",
            Method::TClipped => "t interval clipped to the metric's range",
        }
    }
}

/// A confidence interval of a mean, and how it was found.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Its lower end.
    #[serde(deserialize_with = "super::summary::nan_if_null")]
    pub lo: f64,
    /// Its upper end.
    #[serde(deserialize_with = "super::summary::nan_if_null")]
    pub hi: f64,
    /// How.
    pub method: Method,
}

impl Interval {
    /// `[lo, hi]`.
    pub fn ends(&self) -> [f64; 2] {
        [self.lo, self.hi]
    }
}

/// What an interval is computed from: enough to compute it without the values (the live
/// view keeps running moments, not every value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// Values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (`n − 1`), with two values or more.
    pub std: Option<f64>,
    /// Whether every value is 0 or 1.
    pub binary: bool,
}

impl Moments {
    /// The moments of `values`.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let std = (n > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Moments {
            n: n as u64,
            mean,
            std,
            binary: values.iter().all(|&v| v == 0.0 || v == 1.0),
        }
    }
}

/// The interval of the mean at `confidence` (in (0, 1)) that respects `support`, by the
/// method the module documentation gives; `None` with fewer than two values or a
/// mean that is not a number.
pub fn interval(m: &Moments, support: Support, confidence: f64) -> Option<Interval> {
    let std = m.std?;
    if m.n < 2 || !m.mean.is_finite() || !std.is_finite() {
        return None;
    }
    let n = m.n as f64;
    let half = t_quantile(confidence, n - 1.0) * std / n.sqrt();
    let t = Interval {
        lo: m.mean - half,
        hi: m.mean + half,
        method: Method::T,
    };
    let clip = |lo: f64, hi: f64| {
        let (a, b) = (t.lo.max(lo), t.hi.min(hi));
        if (a, b) == (t.lo, t.hi) {
            t
        } else {
            Interval {
                lo: a,
                hi: b.max(a),
                method: Method::TClipped,
            }
        }
    };
    Some(match support {
        Support::Any => t,
        Support::NonNegative => clip(0.0, f64::INFINITY),
        Support::Count if t.lo <= 0.0 && std * std <= 2.0 * m.mean.max(0.0) + 1e-12 => {
            let total = (m.mean * n).round().max(0.0);
            let [lo, hi] = poisson(total, confidence);
            Interval {
                lo: lo / n,
                hi: hi / n,
                method: Method::Poisson,
            }
        }
        Support::Count => clip(0.0, f64::INFINITY),
        Support::Probability if m.binary => {
            let k = (m.mean * n).round().clamp(0.0, n);
            let [lo, hi] = clopper_pearson(k, n, confidence);
            Interval {
                lo,
                hi,
                method: Method::ClopperPearson,
            }
        }
        Support::Probability => clip(0.0, 1.0),
    })
}

/// The exact (Garwood) interval of a Poisson mean from one observed total `k`.
pub fn poisson(k: f64, confidence: f64) -> [f64; 2] {
    let alpha = 1.0 - confidence;
    let lo = if k <= 0.0 {
        0.0
    } else {
        gamma_quantile(k, alpha / 2.0)
    };
    [lo, gamma_quantile(k + 1.0, 1.0 - alpha / 2.0)]
}

/// The exact (Clopper–Pearson) interval of a binomial proportion, `k` successes in `n`.
pub fn clopper_pearson(k: f64, n: f64, confidence: f64) -> [f64; 2] {
    let alpha = 1.0 - confidence;
    let lo = if k <= 0.0 {
        0.0
    } else {
        beta_quantile(k, n - k + 1.0, alpha / 2.0)
    };
    let hi = if k >= n {
        1.0
    } else {
        beta_quantile(k + 1.0, n - k, 1.0 - alpha / 2.0)
    };
    [lo, hi]
}

fn gamma_quantile(shape: f64, p: f64) -> f64 {
    Gamma::new(shape, 1.0)
        .map(|g| g.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    Beta::new(a, b)
        .map(|d| d.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn exact_intervals_match_published_values() {
        // Garwood 95%: k = 0 → [0, 3.689]; k = 1 → [0.0253, 5.572]; k = 10 → [4.795, 18.39].
        let [lo, hi] = poisson(0.0, 0.95);
        assert!(lo == 0.0 && close(hi, 3.688879, 1e-5), "{hi}");
        let [lo, hi] = poisson(1.0, 0.95);
        assert!(
            close(lo, 0.025318, 1e-5) && close(hi, 5.571643, 1e-5),
            "{lo} {hi}"
        );
        let [lo, hi] = poisson(10.0, 0.95);
        assert!(
            close(lo, 4.795389, 1e-4) && close(hi, 18.390356, 1e-4),
            "{lo} {hi}"
        );
        // Clopper–Pearson 95%: 0 of 10 → [0, 0.3085]; 5 of 10 → [0.1871, 0.8129].
        let [lo, hi] = clopper_pearson(0.0, 10.0, 0.95);
        assert!(lo == 0.0 && close(hi, 0.308497, 1e-5), "{hi}");
        let [lo, hi] = clopper_pearson(5.0, 10.0, 0.95);
        assert!(
            close(lo, 0.187086, 1e-5) && close(hi, 0.812914, 1e-5),
            "{lo} {hi}"
        );
        assert_eq!(clopper_pearson(10.0, 10.0, 0.95)[1], 1.0);
    }

    #[test]
    fn a_rare_count_never_gets_a_negative_end() {
        // bins_with_7 of ten Mamma Mia replications: one tree in one replication.
        let mut v = vec![0.0; 10];
        v[3] = 1.0;
        let m = Moments::of(&v);
        let any = interval(&m, Support::Any, 0.95).unwrap();
        assert!(any.lo < 0.0, "the t interval reaches below 0: {any:?}");
        let count = interval(&m, Support::Count, 0.95).unwrap();
        assert_eq!(count.method, Method::Poisson);
        assert!(close(count.lo, 0.0025318, 1e-6) && close(count.hi, 0.5571643, 1e-6));
        // Never seen: not [0, 0], but up to what ten zeros cannot rule out.
        let zeros = interval(&Moments::of(&[0.0; 10]), Support::Count, 0.95).unwrap();
        assert!(
            zeros.lo == 0.0 && close(zeros.hi, 0.3688879, 1e-6),
            "{zeros:?}"
        );
        // A large count keeps its t interval.
        let big = Moments::of(&[440.0, 450.0, 445.0]);
        assert_eq!(
            interval(&big, Support::Count, 0.95).unwrap().method,
            Method::T
        );
        // Overdispersed: clipped, not a Poisson interval far too narrow.
        let wild = Moments::of(&[0.0, 0.0, 0.0, 1000.0]);
        let w = interval(&wild, Support::Count, 0.95).unwrap();
        assert_eq!((w.method, w.lo), (Method::TClipped, 0.0));
    }

    #[test]
    fn shares_stay_in_the_unit_interval() {
        let outcomes = [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let i = interval(&Moments::of(&outcomes), Support::Probability, 0.95).unwrap();
        assert_eq!(i.method, Method::ClopperPearson);
        assert!(i.hi <= 1.0 && i.lo > 0.5, "{i:?}");
        let shares = [0.99, 0.999, 0.95, 1.0];
        let s = interval(&Moments::of(&shares), Support::Probability, 0.95).unwrap();
        assert!(s.hi <= 1.0 && s.method == Method::TClipped, "{s:?}");
        let pos = interval(&Moments::of(&[0.1, 5.0, 0.2]), Support::NonNegative, 0.95).unwrap();
        assert_eq!((pos.lo, pos.method), (0.0, Method::TClipped));
        assert!(interval(&Moments::of(&[1.0]), Support::Count, 0.95).is_none());
    }
}
