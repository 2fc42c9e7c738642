//! Sweeps: each compared metric against the swept parameter, with error bars at the sweep's
//! confidence level (points of several lines at one value are moved a little sideways, so
//! that their bars do not hide each other, and a dashed line marks the true value; a metric
//! whose values span more than two orders of magnitude gets a log axis); and each variant's
//! difference to the baseline with its interval — paired under common random numbers, the
//! point of them.

use serde_json::Value;

use super::*;
use crate::experiment::results::SweepVariant;
use crate::plot::data::diff_interval;

pub(super) fn sweep_plots(
    run: &SavedRun,
    sweep: &SweepTable,
    only: &dyn Fn(&str) -> bool,
    p: &mut Vec<Planned>,
    s: &mut Vec<Skipped>,
) {
    if sweep.variants.len() < 2 {
        s.push(skip("sweep plots", "the sweep has fewer than 2 variants"));
        return;
    }
    let Some(layout) = Layout::of(&sweep.variants) else {
        s.push(skip("sweep plots", "sweep.json names no swept parameter"));
        return;
    };
    let compare: Vec<String> = if sweep.compare.is_empty() {
        sweep.variants[0].metrics.keys().cloned().collect()
    } else {
        sweep.compare.clone()
    };
    for metric in compare.iter().filter(|m| only(m)) {
        if let Some(chart) = difference_chart(run, sweep, metric) {
            p.push(Planned {
                kind: PlotKind::Sweep,
                stem: stem(PlotKind::Sweep, &format!("difference_{metric}")),
                metric: Some(metric.clone()),
                chart,
            });
        }
        match metric_chart(run, sweep, &layout, metric) {
            Some(chart) => p.push(Planned {
                kind: PlotKind::Sweep,
                stem: stem(PlotKind::Sweep, metric),
                metric: Some(metric.clone()),
                chart,
            }),
            None => s.push(skip(
                &format!("sweep plot of {metric}"),
                "no variant has this metric",
            )),
        }
    }
}

/// Where the variants go: the swept parameter on x (the one with the most values, the last
/// such), and one line per combination of the others.
struct Layout<'a> {
    /// The parameter on x.
    field: String,
    /// Its values, in the order the variants first have them.
    xs: Vec<Value>,
    /// Whether they are all numbers (else they are categories at 0, 1, 2, …).
    numeric: bool,
    /// One line per combination of the other parameters: its legend key and its variants.
    groups: Vec<(String, Vec<&'a SweepVariant>)>,
}

fn value_of<'v>(v: &'v SweepVariant, field: &str) -> &'v Value {
    v.parameters.get(field).unwrap_or(&Value::Null)
}

/// The last part of a field's name: `model.items` → `items`.
fn short(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A parameter value for people.
fn show(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_f64().map_or(n.to_string(), human),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Layout<'a> {
    fn of(variants: &'a [SweepVariant]) -> Option<Self> {
        let fields: Vec<&String> = variants.first()?.parameters.keys().collect();
        let distinct = |f: &str| {
            let mut d: Vec<Value> = Vec::new();
            for v in variants {
                let x = value_of(v, f);
                if !d.contains(x) {
                    d.push(x.clone());
                }
            }
            d
        };
        let field = fields
            .iter()
            .enumerate()
            .max_by_key(|(i, f)| (distinct(f).len(), *i))
            .map(|(_, f)| f.to_string())?;
        let xs = distinct(&field);
        let numeric = xs.iter().all(Value::is_number);
        let others: Vec<&&String> = fields.iter().filter(|f| ***f != field).collect();
        let mut groups: Vec<(String, Vec<&SweepVariant>)> = Vec::new();
        for v in variants {
            let key = others
                .iter()
                .map(|f| format!("{} = {}", short(f), show(value_of(v, f))))
                .collect::<Vec<_>>()
                .join(", ");
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, g)) => g.push(v),
                None => groups.push((key, vec![v])),
            }
        }
        Some(Layout {
            field,
            xs,
            numeric,
            groups,
        })
    }

    /// Where value `x` sits on the x axis.
    fn pos(&self, x: &Value) -> f64 {
        if self.numeric {
            x.as_f64().unwrap_or(f64::NAN)
        } else {
            self.xs
                .iter()
                .position(|v| v == x)
                .map_or(f64::NAN, |i| i as f64)
        }
    }

    /// The range of the x positions.
    fn x_range(&self) -> (f64, f64) {
        min_max(&self.xs.iter().map(|x| self.pos(x)).collect::<Vec<_>>())
    }

    /// The x axis.
    fn axis(&self) -> Axis {
        if self.numeric {
            let (lo, hi) = self.x_range();
            let r = padded(lo, hi, 0.07);
            Axis::linear(self.field.clone(), r.start, r.end)
        } else {
            Axis {
                label: self.field.clone(),
                lo: -0.5,
                hi: self.xs.len() as f64 - 0.5,
                log: false,
                ticks: Ticks::Categories(self.xs.iter().map(show).collect()),
            }
        }
    }

    /// How far line `gi` is shifted sideways, so that error bars at the same x do not hide
    /// each other.
    fn dodge(&self, gi: usize) -> f64 {
        let (lo, hi) = self.x_range();
        let span = if self.numeric {
            (hi - lo).max(f64::MIN_POSITIVE)
        } else {
            1.0
        };
        let g_count = self.groups.len() as f64;
        (gi as f64 - (g_count - 1.0) / 2.0) * 0.012 * span * if self.numeric { 1.0 } else { 6.0 }
    }
}

/// The chart of `metric` against the swept parameter; `None` if no variant has the metric.
fn metric_chart(
    run: &SavedRun,
    sweep: &SweepTable,
    layout: &Layout,
    metric: &str,
) -> Option<Chart> {
    let mut items = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (gi, (key, vs)) in layout.groups.iter().enumerate() {
        let dodge = layout.dodge(gi);
        let mut pts = Vec::new();
        let mut bars = Vec::new();
        for v in vs {
            let Some(m) = v.metrics.get(metric) else {
                continue;
            };
            let x = layout.pos(value_of(v, &layout.field)) + dodge;
            pts.push((x, m.mean));
            lo = lo.min(m.mean);
            hi = hi.max(m.mean);
            if let Some([a, b]) = interval(m, sweep.confidence) {
                bars.push((x, a, b));
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let colour = series(gi);
        items.push(Item::ErrorBars { pts: bars, colour });
        items.push(Item::Line {
            pts,
            colour,
            width: 2,
            alpha: 1.0,
            dash: false,
            markers: true,
            label: Some(if key.is_empty() {
                metric.to_string()
            } else {
                key.clone()
            }),
        });
    }
    if !lo.is_finite() {
        return None;
    }
    if layout.numeric && layout.groups.len() > 1 {
        for x in &layout.xs {
            items.insert(
                0,
                Item::VLine {
                    x: layout.pos(x),
                    colour: LIGHT,
                    dash: true,
                    label: None,
                },
            );
        }
    }
    let y = if lo > 0.0 && hi / lo > 100.0 {
        Axis::linear(
            format!("mean {} (log)", run.label(metric)),
            lo / 1.3,
            hi * 1.3,
        )
        .log()
    } else {
        let yr = padded(lo, hi, 0.08);
        Axis::linear(format!("mean {}", run.label(metric)), yr.start, yr.end)
    };
    Some(Chart {
        title: format!(
            "{metric} vs {} — {}",
            short(&layout.field),
            run.summary.scenario
        ),
        note: Some(run_note(run, &sweep_note(sweep))),
        x: layout.axis(),
        y,
        items,
    })
}

/// Each variant's difference to the baseline in `metric`, with its interval, and 0 marked;
/// `None` when no variant has one.
fn difference_chart(run: &SavedRun, sweep: &SweepTable, metric: &str) -> Option<Chart> {
    let mut names = Vec::new();
    let (mut pts, mut bars) = (Vec::new(), Vec::new());
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in &sweep.variants {
        let x = names.len() as f64;
        let params: Vec<String> = v
            .parameters
            .iter()
            .map(|(k, x)| format!("{}={}", short(k), show(x)))
            .collect();
        names.push((format!("{:03}", v.variant), params.join(" ")));
        if v.variant == sweep.baseline {
            pts.push((x, 0.0));
            continue;
        }
        let Some(d) = v.vs_baseline.get(metric) else {
            continue;
        };
        pts.push((x, d.mean));
        (lo, hi) = (lo.min(d.mean), hi.max(d.mean));
        if let Some([a, b]) = diff_interval(d, sweep.confidence) {
            bars.push((x, a, b));
            (lo, hi) = (lo.min(a), hi.max(b));
        }
    }
    if pts.len() < 2 || !(lo.is_finite() && hi.is_finite()) {
        return None;
    }
    let yr = padded(lo, hi, 0.08);
    // Parameters under each variant where they fit; else the variant numbers of sweep.csv.
    let fit = names.len() <= 4 && names.iter().all(|(_, p)| p.chars().count() <= 22);
    let names: Vec<String> = names
        .into_iter()
        .map(|(n, p)| if fit { format!("{n} {p}") } else { n })
        .collect();
    let how = if sweep.common_random_numbers {
        "paired (common random numbers)"
    } else {
        "Welch (independent replications)"
    };
    Some(Chart {
        title: format!(
            "{metric}: each variant − baseline {:03} — {}",
            sweep.baseline, run.summary.scenario
        ),
        note: Some(run_note(
            run,
            &format!("{how} · error bars: {}", ci_name(sweep.confidence)),
        )),
        x: Axis {
            label: "variant".into(),
            lo: -0.5,
            hi: names.len() as f64 - 0.5,
            log: false,
            ticks: Ticks::Categories(names),
        },
        y: Axis::linear(format!("Δ mean {}", run.label(metric)), yr.start, yr.end),
        items: [
            Item::HLine {
                y: 0.0,
                colour: GREY,
                dash: true,
                label: Some("no difference".into()),
            },
            Item::ErrorBars {
                pts: bars,
                colour: BLUE,
            },
        ]
        .into_iter()
        .chain(pts.into_iter().enumerate().map(|(i, pt)| Item::Line {
            pts: vec![pt],
            colour: BLUE,
            width: 2,
            alpha: 1.0,
            dash: false,
            markers: true,
            label: (i == 0).then(|| format!("Δ {metric} vs the baseline")),
        }))
        .collect(),
    })
}

/// `6 variants · 3 replications per variant · common random numbers · error bars: 95% CI`.
fn sweep_note(sweep: &SweepTable) -> String {
    let crn = if sweep.common_random_numbers {
        "common random numbers"
    } else {
        "independent replications"
    };
    let reps = sweep.variants.first().map_or(0, |v| v.replications);
    format!(
        "{} · {} per variant · {crn} · error bars: {}",
        counted(sweep.variants.len() as u64, "variant"),
        counted(reps, "replication"),
        ci_name(sweep.confidence)
    )
}
