//! Across-replication figures: each metric's distribution, empirical CDF and running mean
//! (convergence), with the mean and its confidence interval (at the run's level) marked.

use super::*;
use crate::experiment::numbers::{estimate, human_with, with_interval};
use crate::experiment::stats::t_quantile;

pub(super) fn replication_plots(
    run: &SavedRun,
    opts: &PlotOptions,
    only: &dyn Fn(&str) -> bool,
    p: &mut Vec<Planned>,
    s: &mut Vec<Skipped>,
) {
    let reps = match &run.reps {
        Err(why) if run.sweep.is_none() => return s.push(skip("across-replication plots", why)),
        Err(_) => return,
        Ok(reps) => reps,
    };
    let n = reps.columns.first().map_or(0, |(_, v)| v.len());
    if n < MIN_REPLICATIONS {
        s.push(skip(
            "across-replication plots (distribution, cdf, convergence)",
            &format!(
                "only {n} replication{}: a distribution needs at least {MIN_REPLICATIONS}",
                if n == 1 { "" } else { "s" }
            ),
        ));
        return;
    }
    for (name, values) in reps.columns.iter().filter(|(n, _)| only(n)) {
        metric_plots(run, opts, name, values, p, s);
    }
}

/// The across-replication plots of one metric, or why there are none.
fn metric_plots(
    run: &SavedRun,
    opts: &PlotOptions,
    name: &str,
    values: &[f64],
    p: &mut Vec<Planned>,
    s: &mut Vec<Skipped>,
) {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (lo, hi) = min_max(&v);
    if v.len() < MIN_REPLICATIONS {
        s.push(skip(
            &format!("plots of {name}"),
            "fewer than 3 finite values",
        ));
        return;
    }
    if lo == hi {
        s.push(skip(
            &format!("plots of {name}"),
            &format!("constant: every replication gave {}", table_number(lo)),
        ));
        return;
    }
    let mean = Mean::of(run, name, &v);
    if opts.wants(PlotKind::Distribution) {
        p.push(planned(
            PlotKind::Distribution,
            name,
            distribution(run, name, &v, &mean),
        ));
    }
    if opts.wants(PlotKind::Cdf) {
        p.push(planned(PlotKind::Cdf, name, cdf(run, name, &v, &mean)));
    }
    if opts.wants(PlotKind::Convergence) {
        p.push(planned(
            PlotKind::Convergence,
            name,
            convergence(run, name, &v),
        ));
    }
}

/// A metric's mean and its confidence interval, as the summary has them (else the mean of
/// the values, without an interval).
struct Mean {
    mean: f64,
    ci: Option<[f64; 2]>,
    confidence: f64,
}

impl Mean {
    fn of(run: &SavedRun, name: &str, v: &[f64]) -> Self {
        let confidence = run.confidence();
        let from_summary = |s: &Summary| Some((s.mean, interval(s, confidence)?));
        match run.metric_summary(name).and_then(from_summary) {
            Some((mean, ci)) => Mean {
                mean,
                ci: Some(ci),
                confidence,
            },
            None => Mean {
                mean: v.iter().sum::<f64>() / v.len() as f64,
                ci: None,
                confidence,
            },
        }
    }
}

/// The value the model declares the metric should have on average (π for `pi_estimate`), as
/// a dashed line, when it is in view.
fn reference(run: &SavedRun, name: &str, lo: f64, hi: f64) -> Option<Item> {
    let x = run.summary.declared_metric(name)?.expected?;
    (lo <= x && x <= hi).then(|| Item::VLine {
        x,
        colour: INK,
        dash: true,
        label: Some(format!("expected {}", human_with(x, 5))),
    })
}

fn mean_items(m: &Mean) -> Vec<Item> {
    let mut items = Vec::new();
    // The mean and its interval as the tables show them: to the precision the interval supports.
    let shown = estimate(m.mean, m.ci);
    if let Some([lo, hi]) = m.ci {
        // The span behind the data, its edges in front so that bars do not hide them.
        for x in [lo, hi] {
            items.push(Item::VLine {
                x,
                colour: VERMILLION,
                dash: true,
                label: None,
            });
        }
        items.push(Item::VSpan {
            x0: lo,
            x1: hi,
            colour: VERMILLION,
            alpha: 0.22,
            label: Some(format!(
                "{} of the mean {}",
                ci_name(m.confidence),
                shown.interval_or("")
            )),
        });
    }
    items.push(Item::VLine {
        x: m.mean,
        colour: VERMILLION,
        dash: false,
        label: Some(format!("mean {}", shown.mean)),
    });
    items
}

/// Layers `data` between the spans of `marks` (behind) and its lines (in front).
fn layered(marks: Vec<Item>, data: Item) -> Vec<Item> {
    let (mut out, lines): (Vec<Item>, Vec<Item>) = marks
        .into_iter()
        .partition(|i| matches!(i, Item::VSpan { .. }));
    out.push(data);
    out.extend(lines);
    out
}

/// The x range covering the values and the mean's CI.
fn value_range(lo: f64, hi: f64, m: &Mean) -> (f64, f64) {
    match m.ci {
        Some([l, h]) => (lo.min(l), hi.max(h)),
        None => (lo, hi),
    }
}

fn is_integer(v: &[f64]) -> bool {
    v.iter().all(|x| x.fract() == 0.0)
}

fn distribution(run: &SavedRun, name: &str, v: &[f64], mean: &Mean) -> Chart {
    let n = v.len();
    let (lo, hi) = min_max(v);
    let integer = is_integer(v);
    // Bin edges: Sturges' rule; one bin per value when an integer metric takes few values.
    let sturges = ((n as f64).log2().ceil() as usize + 1).clamp(5, 40);
    let unit = integer && hi - lo < (2 * sturges) as f64;
    let (start, width, k) = if unit {
        (lo - 0.5, 1.0, (hi - lo) as usize + 1)
    } else {
        let k = sturges;
        let mut w = (hi - lo) / k as f64;
        let mut start = lo;
        if integer {
            w = w.ceil();
            start = lo - 0.5;
        }
        let k = (((hi - start) / w).floor() as usize + 1).min(k + 1);
        (start, w, k)
    };
    let mut counts = vec![0usize; k];
    for &x in v {
        let i = (((x - start) / width).floor().max(0.0) as usize).min(k - 1);
        counts[i] += 1;
    }
    let gap = if width == 1.0 && integer { 0.1 } else { 0.0 };
    let bars: Vec<Bar> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, &c)| Bar {
            x0: start + i as f64 * width + gap,
            x1: start + (i + 1) as f64 * width - gap,
            y: c as f64,
        })
        .collect();
    let top = *counts.iter().max().unwrap_or(&1) as f64;
    let (a, b) = value_range(start, start + k as f64 * width, mean);
    let xr = padded(a, b, 0.03);
    // Behind to front: the CI span, the bars, the mean.
    let mut items = layered(
        mean_items(mean),
        Item::Bars {
            bars,
            colour: BLUE,
            label: Some("replications per bin".into()),
            value_labels: false,
        },
    );
    items.extend(reference(run, name, xr.start, xr.end));
    let sorted = sorted(v);
    let mut x = Axis::linear(run.label(name), xr.start, xr.end);
    if unit {
        x = x.integer();
    }
    Chart {
        title: format!(
            "{name} over {} — {}",
            counted(n as u64, "replication"),
            run.summary.scenario
        ),
        note: Some(run_note(
            run,
            &format!(
                "min {} · median {} · max {}",
                table_number(lo),
                table_number(crate::experiment::stats::quantile(&sorted, 0.5)),
                table_number(hi)
            ),
        )),
        x,
        y: Axis::linear("replications", 0.0, top * 1.12 + 0.2).integer(),
        items,
    }
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

fn cdf(run: &SavedRun, name: &str, v: &[f64], mean: &Mean) -> Chart {
    let s = sorted(v);
    let n = s.len();
    let (lo, hi) = (s[0], s[n - 1]);
    let (a, b) = value_range(lo, hi, mean);
    let xr = padded(a, b, 0.05);
    let mut pts = vec![(xr.start, 0.0)];
    for (i, &x) in s.iter().enumerate() {
        pts.push((x, i as f64 / n as f64));
        pts.push((x, (i + 1) as f64 / n as f64));
    }
    pts.push((xr.end, 1.0));
    let pts = thin(pts, MAX_POINTS);
    let mut items = layered(
        mean_items(mean),
        Item::Line {
            pts,
            colour: BLUE,
            width: 2,
            alpha: 1.0,
            dash: false,
            markers: false,
            label: Some("empirical CDF".into()),
        },
    );
    items.extend(reference(run, name, xr.start, xr.end));
    Chart {
        title: format!(
            "{name}: cumulative distribution over {} — {}",
            counted(n as u64, "replication"),
            run.summary.scenario
        ),
        note: Some(run_note(run, "")),
        x: Axis::linear(run.label(name), xr.start, xr.end),
        y: Axis::linear("fraction of replications ≤ x", 0.0, 1.02),
        items,
    }
}

fn convergence(run: &SavedRun, name: &str, v: &[f64]) -> Chart {
    let n = v.len();
    let (mut mean, mut m2) = (0.0f64, 0.0f64);
    let mut line = Vec::with_capacity(n);
    let mut band = Vec::with_capacity(n);
    for (i, &x) in v.iter().enumerate() {
        let k = (i + 1) as f64;
        let d = x - mean;
        mean += d / k;
        m2 += d * (x - mean);
        line.push((k, mean));
        if i >= 1 {
            let sd = (m2 / (k - 1.0)).sqrt();
            let t = t_quantile(run.confidence(), i as f64);
            let half = t * sd / k.sqrt();
            band.push((k, mean - half, mean + half));
        }
    }
    // The y range: the running mean after the first, and the band once it has settled a little.
    let settle = (n / 10).max(MIN_REPLICATIONS).min(n) as f64;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(k, m) in line.iter().skip(1) {
        if k >= 2.0 {
            lo = lo.min(m);
            hi = hi.max(m);
        }
    }
    for &(k, l, h) in &band {
        if k >= settle {
            lo = lo.min(l);
            hi = hi.max(h);
        }
    }
    let yr = padded(lo, hi, 0.08);
    // The band of the first replications is wider than the plot: say where it is cut.
    let cut = band
        .iter()
        .filter(|&&(_, l, h)| l < yr.start || h > yr.end)
        .map(|&(k, _, _)| k)
        .fold(0.0f64, f64::max);
    let last_half = band.last().map(|&(_, l, h)| (h - l) / 2.0);
    let line = thin(line, MAX_POINTS);
    let stride = band.len().div_ceil(MAX_POINTS).max(1);
    let band: Vec<(f64, f64, f64)> = band
        .iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0 || i + 1 == band.len())
        .map(|(_, b)| *b)
        .collect();
    Chart {
        title: format!(
            "{name}: running mean as replications accumulate — {}",
            run.summary.scenario
        ),
        note: Some(run_note(
            run,
            &match last_half {
                Some(h) => {
                    let shown = with_interval(mean, Some([mean - h, mean + h]));
                    let clipped = if cut > 0.0 {
                        format!(" · band cut at the plot's edges up to replication {cut}")
                    } else {
                        String::new()
                    };
                    format!(
                        "after {}: {shown}{clipped}",
                        counted(n as u64, "replication")
                    )
                }
                None => String::new(),
            },
        )),
        x: Axis::linear("replications", 0.5, n as f64 + 0.5).integer(),
        y: Axis::linear(
            format!("running mean of {}", run.label(name)),
            yr.start,
            yr.end,
        ),
        items: vec![
            Item::Band {
                pts: band,
                colour: BLUE,
                alpha: 0.2,
                label: Some(format!("{} of the running mean", ci_name(run.confidence()))),
            },
            Item::Line {
                pts: line,
                colour: BLUE,
                width: 2,
                alpha: 1.0,
                dash: false,
                markers: n <= 40,
                label: Some("running mean".into()),
            },
            Item::HLine {
                y: mean,
                colour: INK,
                dash: true,
                label: Some(format!("final mean {}", table_number(mean))),
            },
        ]
        .into_iter()
        .chain((cut > 0.0).then(|| Item::VLine {
            x: cut,
            colour: GREY,
            dash: true,
            label: Some("band cut at the edges before this".into()),
        }))
        .collect(),
    }
}
