//! Sweeps: each compared metric against the swept parameter, with 95% CI error bars.

use super::*;

pub(super) fn sweep_plots(
    run: &Run,
    sweep: &Value,
    only: &dyn Fn(&str) -> bool,
    p: &mut Vec<Planned>,
    s: &mut Vec<Skipped>,
) {
    let variants: Vec<&Value> = sweep["variants"].as_array().into_iter().flatten().collect();
    if variants.len() < 2 {
        s.push(skip("sweep plots", "the sweep has fewer than 2 variants"));
        return;
    }
    let fields: Vec<String> = variants[0]["parameters"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if fields.is_empty() {
        s.push(skip("sweep plots", "sweep.json names no swept parameter"));
        return;
    }
    let value_of = |v: &Value, f: &str| v["parameters"][f].clone();
    let distinct = |f: &str| {
        let mut d: Vec<Value> = Vec::new();
        for v in &variants {
            let x = value_of(v, f);
            if !d.contains(&x) {
                d.push(x);
            }
        }
        d
    };
    // x: the parameter with the most values (the last such); lines: the others' combinations.
    let xf = fields
        .iter()
        .enumerate()
        .max_by_key(|(i, f)| (distinct(f).len(), *i))
        .map(|(_, f)| f.clone())
        .expect("fields is not empty");
    let xs = distinct(&xf);
    let numeric = xs.iter().all(Value::is_number);
    let pos = |x: &Value| -> f64 {
        if numeric {
            x.as_f64().unwrap_or(f64::NAN)
        } else {
            xs.iter()
                .position(|v| v == x)
                .map_or(f64::NAN, |i| i as f64)
        }
    };
    let others: Vec<&String> = fields.iter().filter(|f| **f != xf).collect();
    let short = |f: &str| f.rsplit('.').next().unwrap_or(f).to_string();
    let show = |v: &Value| match v {
        Value::Number(n) => n.as_f64().map_or(n.to_string(), human),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut groups: Vec<(String, Vec<&Value>)> = Vec::new();
    for v in &variants {
        let key = others
            .iter()
            .map(|f| format!("{} = {}", short(f), show(&value_of(v, f))))
            .collect::<Vec<_>>()
            .join(", ");
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(v),
            None => groups.push((key, vec![v])),
        }
    }
    let compare: Vec<String> = sweep["compare"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect()
        })
        .filter(|c: &Vec<String>| !c.is_empty())
        .unwrap_or_else(|| {
            variants[0]["metrics"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        });
    let (xlo, xhi) = min_max(&xs.iter().map(pos).collect::<Vec<_>>());
    let xspan = if numeric {
        (xhi - xlo).max(f64::MIN_POSITIVE)
    } else {
        1.0
    };
    let reps = variants[0]["replications"].as_u64().unwrap_or(0);
    for metric in compare.iter().filter(|m| only(m)) {
        let mut items = Vec::new();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let g_count = groups.len() as f64;
        for (gi, (key, vs)) in groups.iter().enumerate() {
            let dodge = (gi as f64 - (g_count - 1.0) / 2.0)
                * 0.012
                * xspan
                * if numeric { 1.0 } else { 6.0 };
            let mut pts = Vec::new();
            let mut bars = Vec::new();
            for v in vs {
                let m = &v["metrics"][metric.as_str()];
                let Some(mean) = m["mean"].as_f64() else {
                    continue;
                };
                let x = pos(&value_of(v, &xf)) + dodge;
                pts.push((x, mean));
                lo = lo.min(mean);
                hi = hi.max(mean);
                if let Some(ci) = m["ci95"].as_array()
                    && let (Some(a), Some(b)) = (
                        ci.first().and_then(Value::as_f64),
                        ci.get(1).and_then(Value::as_f64),
                    )
                {
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
                    metric.clone()
                } else {
                    key.clone()
                }),
            });
        }
        if !lo.is_finite() {
            s.push(skip(
                &format!("sweep plot of {metric}"),
                "no variant has this metric",
            ));
            continue;
        }
        let yr = padded(lo, hi, 0.08);
        let x = if numeric {
            let r = padded(xlo, xhi, 0.07);
            Axis::linear(xf.clone(), r.start, r.end)
        } else {
            Axis {
                label: xf.clone(),
                lo: -0.5,
                hi: xs.len() as f64 - 0.5,
                log: false,
                ticks: Ticks::Categories(xs.iter().map(show).collect()),
            }
        };
        let crn = if sweep["common_random_numbers"].as_bool() == Some(true) {
            "common random numbers"
        } else {
            "independent replications"
        };
        p.push(Planned {
            kind: PlotKind::Sweep,
            stem: stem(PlotKind::Sweep, metric),
            metric: Some(metric.clone()),
            chart: Chart {
                title: format!("{metric} vs {} — {}", short(&xf), run.scenario),
                note: Some(run_note(
                    run,
                    &format!(
                        "{} · {} per variant · {crn} · error bars: 95% CI",
                        plural(variants.len(), "variant"),
                        plural(reps as usize, "replication")
                    ),
                )),
                x,
                y: Axis::linear(format!("mean {}", metric_label(metric)), yr.start, yr.end),
                items,
            },
        });
    }
}
