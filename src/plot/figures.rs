//! Which plots a run gets, the helpers their charts share, and the model-histogram charts;
//! the other families are in `replications`, `steps` and `sweep`.

use hdrhistogram::Histogram;

use super::chart::{
    Axis, BLUE, Bar, Chart, GREEN, GREY, INK, Item, LIGHT, ORANGE, Ticks, VERMILLION, padded,
    series,
};
use super::data::{SavedRun, interval};
use super::{Entry, Planned, PlotKind, PlotOptions, Skipped};
use crate::experiment::numbers::{counted, human, percent, table_number};
use crate::experiment::results::{StepsTable, SweepTable};
use crate::experiment::stats::Summary;

mod replications;
mod steps;
mod sweep;

use replications::replication_plots;
use steps::steps_plots;
use sweep::sweep_plots;

/// The fewest replications an across-replication plot is drawn for.
pub(super) const MIN_REPLICATIONS: usize = 3;

/// Plans every plot `opts` asks for that `run` supports; the rest are skipped with a reason.
pub(super) fn plan(run: &SavedRun, opts: &PlotOptions) -> (Vec<Planned>, Vec<Skipped>) {
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
        replication_plots(run, opts, &only, &mut p, &mut s);
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
pub(super) fn stem(kind: PlotKind, name: &str) -> String {
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
pub(super) fn order_key(run: &SavedRun, e: &Entry) -> (usize, String) {
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

/// `95% CI`, at the run's confidence level.
fn ci_name(confidence: f64) -> String {
    format!("{}% CI", percent(confidence))
}

/// `model gift_lottery · seed 2008 · 10 replications`.
fn run_note(run: &SavedRun, extra: &str) -> String {
    let mut parts = vec![
        format!("model {}", run.summary.model),
        format!("seed {}", run.summary.seed),
    ];
    if !extra.is_empty() {
        parts.push(extra.to_string());
    }
    if run.summary.partial {
        parts.push("PARTIAL (interrupted)".into());
    }
    parts.join(" · ")
}

/// Words for a model histogram: what is on x and what is counted, as the model declares them
/// ([`crate::Model::HISTOGRAMS`]: `about` and `unit`), else from its name (`copies_per_bin`
/// counts bins by copies per bin).
fn hlog_words(run: &SavedRun, name: &str) -> (String, Option<String>) {
    if let Some(q) = run.summary.declared_histogram(name) {
        let about = if q.about.is_empty() {
            name.replace('_', " ")
        } else {
            q.about.clone()
        };
        let counted = (!q.unit.is_empty()).then(|| q.unit.clone());
        return (about, counted);
    }
    let words = name.replace('_', " ");
    let counted = name
        .rsplit_once("_per_")
        .map(|(_, per)| per)
        .filter(|per| !per.is_empty())
        .map(|per| plural_noun(&per.replace('_', " ")));
    (words, counted)
}

/// The plural of an English noun, by the regular rules (`bin` → `bins`, `day` → `days`,
/// `entry` → `entries`, `box` → `boxes`).
fn plural_noun(noun: &str) -> String {
    let consonant_y = noun.ends_with('y')
        && !noun
            .chars()
            .rev()
            .nth(1)
            .is_some_and(|c| "aeiou".contains(c));
    if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| noun.ends_with(e))
    {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

fn hlog(run: &SavedRun, name: &str, h: &Histogram<u64>) -> Chart {
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
    let (xword, counted) = hlog_words(run, name);
    let yword = counted.clone().unwrap_or_else(|| "count".into());
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
    // What the model expects (per replication, so times the replications merged here).
    if integer_axis && let Some(q) = run.summary.declared_histogram(name) {
        let reps = run.summary.replications.max(1) as f64;
        let floor = if log { 0.5 } else { f64::NEG_INFINITY };
        let pts: Vec<(f64, f64)> = q
            .expected_counts
            .iter()
            .map(|&[v, c]| (v, c * reps))
            .filter(|&(v, c)| v >= x0 - 0.4 && v <= x1 + 0.4 && c >= floor)
            .collect();
        if !pts.is_empty() {
            items.push(Item::Line {
                pts,
                colour: ORANGE,
                width: 2,
                alpha: 1.0,
                dash: true,
                markers: true,
                label: Some("expected (the model's)".into()),
            });
        }
    }
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
    let reps = if run.summary.replications > 1 {
        format!(", all {} replications merged", run.summary.replications)
    } else {
        String::new()
    };
    Chart {
        // The x axis says what is measured; the title stays short enough to fit.
        title: format!("{name}{reps} — {}", run.summary.scenario),
        note: Some(run_note(
            run,
            &format!(
                "{} {} · mean {} · max {}",
                human(h.len() as f64),
                counted.as_deref().unwrap_or("values"),
                table_number(h.mean()),
                table_number(h.max() as f64)
            ),
        )),
        x,
        y,
        items,
    }
}
