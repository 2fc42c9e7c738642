//! Summaries of a metric over replications: mean, standard deviation, confidence intervals
//! (Student's t, from statrs) and quantiles.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::interval::{Interval, Moments, Support, interval as bounded};

/// A metric summarised over replications.
///
/// `std`, `ci95` and `ci` are `None` (JSON `null`) with fewer than two replications: one value
/// says nothing about spread, and pretending otherwise would be dishonest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    #[serde(deserialize_with = "nan_if_null")]
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub std: Option<f64>,
    /// 95% confidence interval of the mean: mean ± t(0.975, n−1) · std / √n.
    #[serde(deserialize_with = "nan_interval")]
    pub ci95: Option<[f64; 2]>,
    /// The confidence interval of the mean at the run's confidence level (`confidence` in
    /// `summary.json`; the same as `ci95` at the default 0.95).
    #[serde(default, deserialize_with = "nan_interval")]
    pub ci: Option<[f64; 2]>,
    /// Smallest value.
    #[serde(deserialize_with = "nan_if_null")]
    pub min: f64,
    /// 5th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p5: f64,
    /// Median.
    #[serde(deserialize_with = "nan_if_null")]
    pub p50: f64,
    /// 95th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p95: f64,
    /// Largest value.
    #[serde(deserialize_with = "nan_if_null")]
    pub max: f64,
    /// The interval shown for the mean, at the run's confidence level: `ci`, unless the
    /// metric's declared support says `ci` would claim values it cannot take (a negative
    /// count); see [`crate::results::Interval`] for the methods. `None` where `ci` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

impl Summary {
    /// Summarises `values`, which must not be empty, with intervals at 95%.
    pub fn of(values: &[f64]) -> Self {
        Self::at(values, 0.95)
    }

    /// Summarises `values`, which must not be empty, with `ci` at `confidence` (in (0, 1)).
    ///
    /// Quantiles interpolate linearly between order statistics (Hyndman & Fan type 7, the
    /// default of R and NumPy).
    pub fn at(values: &[f64], confidence: f64) -> Self {
        Self::within(values, confidence, Support::Any)
    }

    /// [`Summary::at`], with the shown [`Summary::interval`] respecting `support`.
    pub fn within(values: &[f64], confidence: f64, support: Support) -> Self {
        assert!(!values.is_empty(), "a summary needs at least one value");
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        let interval = |level: f64| {
            std.map(|s| {
                let half = t_quantile(level, (n - 1) as f64) * s / (n as f64).sqrt();
                [mean - half, mean + half]
            })
        };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            n,
            mean,
            std,
            ci95: interval(0.95),
            ci: interval(confidence),
            min: sorted[0],
            p5: quantile(&sorted, 0.05),
            p50: quantile(&sorted, 0.5),
            p95: quantile(&sorted, 0.95),
            max: sorted[n - 1],
            interval: bounded(&Moments::of(values), support, confidence),
        }
    }

    /// The interval to show: [`Summary::interval`], else `ci` (a summary written before
    /// intervals respected supports).
    pub fn shown(&self) -> Option<[f64; 2]> {
        self.interval.map(|i| i.ends()).or(self.ci)
    }

    /// Half the width of the confidence interval `ci`, if there is one.
    pub fn ci_half_width(&self) -> Option<f64> {
        self.ci.map(|[lo, hi]| (hi - lo) / 2.0)
    }
}

/// Reads a number that JSON may hold as `null`: serde_json writes NaN (a metric a model left
/// unset, a mean of NaNs) as `null`, and it reads back as NaN.
pub(crate) fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Reads an interval whose ends JSON may hold as `null` (NaN), as [`nan_if_null`] does.
pub(crate) fn nan_interval<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<[f64; 2]>, D::Error> {
    let ends = Option::<[Option<f64>; 2]>::deserialize(d)?;
    Ok(ends.map(|[lo, hi]| [lo.unwrap_or(f64::NAN), hi.unwrap_or(f64::NAN)]))
}

/// The `q` quantile of sorted values, type 7.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    match sorted.get(lo + 1) {
        Some(next) => sorted[lo] + frac * (next - sorted[lo]),
        None => sorted[lo],
    }
}

/// The two-sided critical value of Student's t for `confidence` (e.g. 0.95 → the 0.975
/// quantile) with `df` degrees of freedom (at least 1; fractional for Welch).
pub(crate) fn t_quantile(confidence: f64, df: f64) -> f64 {
    assert!(df > 0.0, "Student's t needs a positive degree of freedom");
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "a confidence level is in (0, 1)"
    );
    let t = StudentsT::new(0.0, 1.0, df).expect("df > 0 gives a valid Student's t");
    t.inverse_cdf(0.5 + confidence / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_values() {
        // Published quantiles (NIST/SEMATECH e-Handbook, table 1.3.6.7.2): 0.975, 0.95, 0.995.
        for (df, t) in [
            (1.0, 12.706),
            (10.0, 2.228),
            (30.0, 2.042),
            (60.0, 2.000),
            (120.0, 1.980),
        ] {
            assert!((t_quantile(0.95, df) - t).abs() < 5e-4, "df {df}");
        }
        assert!((t_quantile(0.95, 1.0) - 12.706204736).abs() < 1e-8);
        assert!((t_quantile(0.90, 10.0) - 1.812).abs() < 5e-4);
        assert!((t_quantile(0.99, 10.0) - 3.169).abs() < 5e-4);
        assert!((t_quantile(0.99, 1e6) - 2.5758).abs() < 1e-4);
    }

    #[test]
    fn the_interval_widens_with_the_confidence() {
        let v = [1.0, 2.0, 4.0, 8.0];
        let (a, b, c) = (
            Summary::at(&v, 0.9),
            Summary::at(&v, 0.95),
            Summary::at(&v, 0.99),
        );
        let (ha, hb, hc) = (
            a.ci_half_width().unwrap(),
            b.ci_half_width().unwrap(),
            c.ci_half_width().unwrap(),
        );
        assert!(ha < hb && hb < hc, "{ha} {hb} {hc}");
        assert_eq!(b.ci, b.ci95);
        assert_eq!(a.ci95, b.ci95);
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
    fn a_nan_summary_reads_back() {
        let s = Summary::of(&[f64::NAN, 1.0]);
        let text = serde_json::to_string(&s).unwrap();
        let back: Summary = serde_json::from_str(&text).unwrap();
        assert!(back.mean.is_nan() && back.ci95.is_some_and(|[lo, _]| lo.is_nan()));
        assert_eq!(back.n, 2);
        assert_eq!(Summary::at(&[1.0, 2.0], 0.9).ci, {
            let text = serde_json::to_string(&Summary::at(&[1.0, 2.0], 0.9)).unwrap();
            serde_json::from_str::<Summary>(&text).unwrap().ci
        });
    }

    #[test]
    fn one_value_has_no_spread() {
        let s = Summary::of(&[3.0]);
        assert_eq!(
            (s.mean, s.std, s.ci95, s.ci, s.p5, s.p95),
            (3.0, None, None, None, 3.0, 3.0)
        );
    }
}
