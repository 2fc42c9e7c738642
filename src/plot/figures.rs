//! Which plots a run gets, and each one's chart.

use hdrhistogram::Histogram;
use serde_json::Value;

use super::chart::{
    Axis, BLUE, Bar, Chart, GREEN, INK, Item, ORANGE, Ticks, VERMILLION, padded, series,
};
use super::data::{Run, Steps};
use super::numfmt::{human, table_number};
use super::{Entry, Planned, PlotKind, PlotOptions, Skipped};

mod steps;
mod sweep;

use steps::steps_plots;
use sweep::sweep_plots;

/// The fewest replications an across-replication plot is drawn for.
pub const MIN_REPLICATIONS: usize = 3;

/// Plans every plot `opts` asks for that `run` supports; the rest are skipped with a reason.
pub fn plan(run: &Run, opts: &PlotOptions) -> (Vec<Planned>, Vec<Skipped>) {
    let mut p = Vec::new();
    let mut s = Vec::new();
    let only = |name: &str| opts.metric.as_deref().is_none_or(|m| m == name);

    if let Some(sweep) = &run.sweep
        && opts.wants(PlotKind::Sweep)
    {
        sweep_plots(run, sweep, &only, &mut p, &mut s);
    }

    let per_rep = [PlotKind::Distribution, PlotKind::Cdf, PlotKind::Convergence];
    if per_rep.iter().any(|k| opts.wants(*k)) {
        match &run.reps {
            Err(why) if run.sweep.is_none() => s.push(skip("across-replication plots", why)),
            Err(_) => {}
            Ok(reps) => {
                let n = reps.columns.first().map_or(0, |(_, v)| v.len());
                if n < MIN_REPLICATIONS {
                    s.push(skip(
                        "across-replication plots (distribution, cdf, convergence)",
                        &format!(
                            "only {n} replication{}: a distribution needs at least {MIN_REPLICATIONS}",
                            if n == 1 { "" } else { "s" }
                        ),
                    ));
                } else {
                    for (name, values) in reps.columns.iter().filter(|(n, _)| only(n)) {
                        let v: Vec<f64> =
                            values.iter().copied().filter(|x| x.is_finite()).collect();
                        let (lo, hi) = min_max(&v);
                        if v.len() < MIN_REPLICATIONS {
                            s.push(skip(
                                &format!("plots of {name}"),
                                "fewer than 3 finite values",
                            ));
                            continue;
                        }
                        if lo == hi {
                            s.push(skip(
                                &format!("plots of {name}"),
                                &format!("constant: every replication gave {}", table_number(lo)),
                            ));
                            continue;
                        }
                        let summary = run.metric_summary(name);
                        if opts.wants(PlotKind::Distribution) {
                            p.push(planned(
                                PlotKind::Distribution,
                                name,
                                distribution(run, name, &v, summary),
                            ));
                        }
                        if opts.wants(PlotKind::Cdf) {
                            p.push(planned(PlotKind::Cdf, name, cdf(run, name, &v, summary)));
                        }
                        if opts.wants(PlotKind::Convergence) {
                            p.push(planned(
                                PlotKind::Convergence,
                                name,
                                convergence(run, name, &v),
                            ));
                        }
                    }
                }
            }
        }
    }

    if opts.wants(PlotKind::Histograms) {
        for (name, h) in run.hlogs.iter().filter(|(n, _)| only(n)) {
            match h {
                Err(why) => s.push(skip(&format!("histogram {name}"), why)),
                Ok(h) if h.is_empty() => s.push(skip(&format!("histogram {name}"), "empty")),
                Ok(h) => p.push(planned(PlotKind::Histograms, name, hlog(run, name, h))),
            }
        }
    }

    if opts.wants(PlotKind::Steps) && opts.metric.is_none() {
        match &run.steps {
            Err(why) if run.sweep.is_none() => s.push(skip("step series", why)),
            Err(_) => {}
            Ok(steps) if steps.reps.iter().all(|(_, rows)| rows.len() < 2) => s.push(skip(
                "step series",
                "every replication ran a single step: nothing to draw over steps",
            )),
            Ok(steps) => steps_plots(run, steps, &mut p, &mut s),
        }
    }
    (p, s)
}

/// The most points a line is drawn with.
const MAX_POINTS: usize = 2000;

/// At most about `max` points of a line ordered by x: each run of neighbours is represented by
/// its lowest and highest point (in x order), so peaks survive.
fn thin(pts: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if pts.len() <= max {
        return pts;
    }
    let bucket = pts.len().div_ceil(max / 2);
    let mut out = Vec::with_capacity(max + 2);
    for chunk in pts.chunks(bucket) {
        let lo = chunk.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied();
        let hi = chunk.iter().max_by(|a, b| a.1.total_cmp(&b.1)).copied();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo.0 <= hi.0 {
                out.extend([lo, hi]);
            } else {
                out.extend([hi, lo]);
            }
        }
    }
    if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
        out.insert(0, *first);
        out.push(*last);
    }
    out
}

fn skip(plot: &str, reason: &str) -> Skipped {
    Skipped {
        plot: plot.to_string(),
        reason: reason.to_string(),
    }
}

fn planned(kind: PlotKind, name: &str, chart: Chart) -> Planned {
    Planned {
        kind,
        stem: stem(kind, name),
        metric: Some(name.to_string()),
        chart,
    }
}

/// The file name (without extension) of a plot.
pub fn stem(kind: PlotKind, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let prefix = match kind {
        PlotKind::Histograms => "histogram",
        other => other.name(),
    };
    format!("{prefix}_{safe}")
}

/// Where an entry goes within its kind: metric order, then file name.
pub fn order_key(run: &Run, e: &Entry) -> (usize, String) {
    const STEPS: [&str; 4] = [
        "steps_tasks",
        "steps_messages",
        "steps_time",
        "steps_counters",
    ];
    let i = match (&e.metric, e.kind) {
        (Some(m), _) => run.names().iter().position(|n| n == m),
        (None, PlotKind::Steps) => STEPS.iter().position(|s| *s == e.stem),
        _ => None,
    };
    (i.unwrap_or(usize::MAX), e.stem.clone())
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// What a metric counts, for axis labels.
fn unit(metric: &str) -> Option<&'static str> {
    Some(match metric {
        m if m.starts_with("bins_") => "bins",
        "max_per_bin" => "copies",
        "items_kept" => "items",
        "offers_declined" => "offers",
        "claims_granted" | "claims_denied" => "claims",
        "cells_taken" => "cells",
        "max_points" => "points",
        "winners" => "robots",
        "inside" => "points",
        _ => return None,
    })
}

fn metric_label(metric: &str) -> String {
    match unit(metric) {
        Some(u) => format!("{metric} ({u})"),
        None => metric.to_string(),
    }
}

fn plural(n: usize, one: &str) -> String {
    format!(
        "{} {one}{}",
        table_number(n as f64),
        if n == 1 { "" } else { "s" }
    )
}

/// `gift_lottery · seed 2008 · 10 replications`.
fn run_note(run: &Run, extra: &str) -> String {
    let mut parts = vec![format!("model {}", run.model)];
    if let Some(seed) = run.summary["seed"].as_u64() {
        parts.push(format!("seed {seed}"));
    }
    if !extra.is_empty() {
        parts.push(extra.to_string());
    }
    if run.summary["partial"].as_bool() == Some(true) {
        parts.push("PARTIAL (interrupted)".into());
    }
    parts.join(" · ")
}

fn ci_of(summary: Option<&Value>) -> Option<(f64, f64, f64)> {
    let s = summary?;
    let mean = s["mean"].as_f64()?;
    let ci = s["ci95"].as_array()?;
    Some((mean, ci.first()?.as_f64()?, ci.get(1)?.as_f64()?))
}

fn mean_items(v: &[f64], summary: Option<&Value>) -> Vec<Item> {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let mut items = Vec::new();
    match ci_of(summary) {
        Some((m, lo, hi)) => {
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
                    "95% CI of the mean [{}, {}]",
                    table_number(lo),
                    table_number(hi)
                )),
            });
            items.push(Item::VLine {
                x: m,
                colour: VERMILLION,
                dash: false,
                label: Some(format!("mean {}", table_number(m))),
            });
        }
        None => items.push(Item::VLine {
            x: mean,
            colour: VERMILLION,
            dash: false,
            label: Some(format!("mean {}", table_number(mean))),
        }),
    }
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
fn value_range(lo: f64, hi: f64, summary: Option<&Value>) -> (f64, f64) {
    let (mut a, mut b) = (lo, hi);
    if let Some((_, l, h)) = ci_of(summary) {
        a = a.min(l);
        b = b.max(h);
    }
    (a, b)
}

/// A known true value to compare with (π for `pi_estimate`), when it is in view.
fn reference(metric: &str, lo: f64, hi: f64) -> Option<Item> {
    let (x, label) = match metric {
        "pi_estimate" => (std::f64::consts::PI, "π = 3.14159…"),
        _ => return None,
    };
    (lo <= x && x <= hi).then(|| Item::VLine {
        x,
        colour: INK,
        dash: true,
        label: Some(label.into()),
    })
}

fn is_integer(v: &[f64]) -> bool {
    v.iter().all(|x| x.fract() == 0.0)
}

fn distribution(run: &Run, name: &str, v: &[f64], summary: Option<&Value>) -> Chart {
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
    let (a, b) = value_range(start, start + k as f64 * width, summary);
    let xr = padded(a, b, 0.03);
    // Behind to front: the CI span, the bars, the mean.
    let mut items = layered(
        mean_items(v, summary),
        Item::Bars {
            bars,
            colour: BLUE,
            label: Some("replications per bin".into()),
            value_labels: false,
        },
    );
    items.extend(reference(name, xr.start, xr.end));
    let sorted = sorted(v);
    let mut x = Axis::linear(metric_label(name), xr.start, xr.end);
    if unit {
        x = x.integer();
    }
    Chart {
        title: format!(
            "{name} over {} — {}",
            plural(n, "replication"),
            run.scenario
        ),
        note: Some(run_note(
            run,
            &format!(
                "min {} · median {} · max {}",
                table_number(lo),
                table_number(crate::stats::quantile(&sorted, 0.5)),
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

fn cdf(run: &Run, name: &str, v: &[f64], summary: Option<&Value>) -> Chart {
    let s = sorted(v);
    let n = s.len();
    let (lo, hi) = (s[0], s[n - 1]);
    let (a, b) = value_range(lo, hi, summary);
    let xr = padded(a, b, 0.05);
    let mut pts = vec![(xr.start, 0.0)];
    for (i, &x) in s.iter().enumerate() {
        pts.push((x, i as f64 / n as f64));
        pts.push((x, (i + 1) as f64 / n as f64));
    }
    pts.push((xr.end, 1.0));
    let pts = thin(pts, MAX_POINTS);
    let mut items = layered(
        mean_items(v, summary),
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
    items.extend(reference(name, xr.start, xr.end));
    Chart {
        title: format!(
            "{name}: cumulative distribution over {} — {}",
            plural(n, "replication"),
            run.scenario
        ),
        note: Some(run_note(run, "")),
        x: Axis::linear(metric_label(name), xr.start, xr.end),
        y: Axis::linear("fraction of replications ≤ x", 0.0, 1.02),
        items,
    }
}

fn convergence(run: &Run, name: &str, v: &[f64]) -> Chart {
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
            let half = crate::stats::t_quantile_975(i as u64) * sd / k.sqrt();
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
            run.scenario
        ),
        note: Some(run_note(
            run,
            &match last_half {
                Some(h) => format!(
                    "after {}: {} ± {}",
                    plural(n, "replication"),
                    table_number(mean),
                    table_number(h)
                ),
                None => String::new(),
            },
        )),
        x: Axis::linear("replications", 0.5, n as f64 + 0.5).integer(),
        y: Axis::linear(
            format!("running mean of {}", metric_label(name)),
            yr.start,
            yr.end,
        ),
        items: vec![
            Item::Band {
                pts: band,
                colour: BLUE,
                alpha: 0.2,
                label: Some("95% CI of the running mean".into()),
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
        ],
    }
}

/// Axis words for a model histogram: (what is on x, what is counted).
fn hlog_words(name: &str) -> (String, String) {
    match name {
        "points" => ("points per robot".into(), "robots".into()),
        "copies_per_bin" => ("copies per bin".into(), "bins".into()),
        "inside_per_task" => (
            "points inside the quarter circle, per task".into(),
            "tasks".into(),
        ),
        other => (other.replace('_', " "), "count".into()),
    }
}

fn hlog(run: &Run, name: &str, h: &Histogram<u64>) -> Chart {
    let recs: Vec<(f64, f64, f64)> = h
        .iter_recorded()
        .map(|v| {
            let value = v.value_iterated_to();
            (
                h.lowest_equivalent(value) as f64,
                h.highest_equivalent(value) as f64,
                v.count_at_value() as f64,
            )
        })
        .collect();
    let lo = recs.first().map_or(0.0, |r| r.0);
    let hi = recs.last().map_or(0.0, |r| r.1);
    let exact = recs.iter().all(|r| r.0 == r.1);
    let (bars, integer_axis) = if exact && hi - lo <= 60.0 {
        (
            recs.iter()
                .map(|&(v, _, c)| Bar {
                    x0: v - 0.4,
                    x1: v + 0.4,
                    y: c,
                })
                .collect::<Vec<_>>(),
            true,
        )
    } else {
        // About 50 bins; whole-number values get whole-number widths, so that every bin
        // holds as many possible values as the next (no saw-tooth).
        let mut width = ((hi - lo) / 50.0).max(f64::MIN_POSITIVE);
        if exact {
            width = width.ceil().max(1.0);
        }
        let k = (((hi - lo) / width).floor() as usize + 1).clamp(1, 64);
        let mut counts = vec![0f64; k];
        for &(a, b, c) in &recs {
            let mid = (a + b) / 2.0;
            let i = (((mid - lo) / width).floor().max(0.0) as usize).min(k - 1);
            counts[i] += c;
        }
        (
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0.0)
                .map(|(i, &c)| Bar {
                    x0: lo + i as f64 * width,
                    x1: lo + (i + 1) as f64 * width,
                    y: c,
                })
                .collect(),
            false,
        )
    };
    let (cmin, cmax) = min_max(&bars.iter().map(|b| b.y).collect::<Vec<_>>());
    // A log count axis for a one-sided tail (the mode at an end) spanning two decades or more,
    // so that the rare values (5, 6, 7 copies) show; a bell shape stays linear.
    let mode = bars
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.y.total_cmp(&b.1.y))
        .map_or(0, |(i, _)| i);
    let at_end = mode <= 1 || mode + 2 >= bars.len();
    let log = bars.len() >= 2 && at_end && cmax / cmin.max(1.0) >= 100.0;
    let (xword, yword) = hlog_words(name);
    let y = if log {
        Axis::linear(format!("{yword} (log scale)"), 0.5, cmax * 4.0).log()
    } else {
        Axis::linear(yword.clone(), 0.0, cmax * 1.15)
    };
    let (x0, x1) = (
        bars.first().map_or(0.0, |b| b.x0),
        bars.last().map_or(1.0, |b| b.x1),
    );
    let xr = if integer_axis {
        (x0 - 0.4)..(x1 + 0.4)
    } else {
        padded(x0, x1, 0.02)
    };
    let mut x = Axis::linear(xword.clone(), xr.start, xr.end);
    if integer_axis {
        x = x.integer();
    }
    let value_labels = bars.len() <= 24;
    let mut items = vec![Item::Bars {
        bars,
        colour: BLUE,
        label: Some(format!(
            "{yword} per {}",
            if integer_axis { "value" } else { "bin" }
        )),
        value_labels,
    }];
    // The mean marks the centre of a bell; at the foot of a one-sided tail it only gets in
    // the way (it is in the note).
    if !log {
        items.push(Item::VLine {
            x: h.mean(),
            colour: VERMILLION,
            dash: true,
            label: Some(format!("mean {}", table_number(h.mean()))),
        });
    }
    let reps = if run.replications > 1 {
        format!(", all {} replications merged", run.replications)
    } else {
        String::new()
    };
    Chart {
        title: format!("{}: {}{reps} — {}", name, xword, run.scenario),
        note: Some(run_note(
            run,
            &format!(
                "{} {yword} · mean {} · max {}",
                human(h.len() as f64),
                table_number(h.mean()),
                table_number(h.max() as f64)
            ),
        )),
        x,
        y,
        items,
    }
}
