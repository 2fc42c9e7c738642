//! Step-level series: tasks alive, messages, step time and shard imbalance.

use super::*;

/// A step series: column, legend label, colour.
type Series<'a> = (usize, &'a str, plotters::style::RGBColor);

pub(super) fn steps_plots(run: &Run, steps: &Steps, p: &mut Vec<Planned>, s: &mut Vec<Skipped>) {
    let col = |n: &str| steps.col(n);
    let step_col = col("step");
    let nsteps = steps.reps.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let others = steps.reps.len().saturating_sub(1);
    // Long runs get fewer faint replications, so that the files stay small.
    let faint = others.min(if nsteps > 200 { 20 } else { 100 });
    let note_extra = if others > 0 {
        format!(
            "replication {} bold, {} faint",
            steps.reps[0].0,
            plural(faint, "other")
        )
    } else {
        String::new()
    };
    let mut make = |stem: &str, title: &str, ylabel: &str, ser: Vec<Series>, extra: String| {
        if ser.is_empty() {
            return;
        }
        let mut items = Vec::new();
        let x_of = |i: usize, row: &[f64]| step_col.map_or(i as f64, |c| row[c]);
        let (mut ymin, mut ymax) = (0.0f64, f64::NEG_INFINITY);
        let (mut xmin, mut xmax) = (f64::INFINITY, f64::NEG_INFINITY);
        for (k, (_, rows)) in steps.reps.iter().enumerate().take(faint + 1) {
            for &(c, label, colour) in &ser {
                let pts: Vec<(f64, f64)> = rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (x_of(i, r), r[c]))
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                for &(x, y) in &pts {
                    ymin = ymin.min(y);
                    ymax = ymax.max(y);
                    xmin = xmin.min(x);
                    xmax = xmax.max(x);
                }
                let bold = k == 0;
                items.push(Item::Line {
                    pts: thin(pts, MAX_POINTS),
                    colour,
                    width: if bold { 3 } else { 1 },
                    alpha: if bold { 1.0 } else { 0.22 },
                    dash: false,
                    markers: bold && nsteps <= 30,
                    label: bold.then(|| label.to_string()),
                });
            }
        }
        if !ymax.is_finite() || !xmax.is_finite() {
            s.push(skip(&format!("step series {stem}"), "no finite values"));
            return;
        }
        // Draw the faint replications first, the bold one on top.
        items.sort_by_key(|it| matches!(it, Item::Line { width: 3, .. }));
        let yr = if ymax > ymin {
            0.0f64.min(ymin)..ymax * 1.08
        } else {
            padded(ymin, ymax, 0.1)
        };
        p.push(Planned {
            kind: PlotKind::Steps,
            stem: stem.to_string(),
            metric: None,
            chart: Chart {
                title: format!("{title} — {}", run.scenario),
                note: Some(run_note(
                    run,
                    &[note_extra.as_str(), extra.as_str()]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" · "),
                )),
                x: Axis::linear("step", xmin - 0.3, xmax + 0.3).integer(),
                y: Axis::linear(ylabel, yr.start, yr.end),
                items,
            },
        });
    };

    let pick =
        |cols: &[(&'static str, &'static str, plotters::style::RGBColor)]| -> Vec<Series<'static>> {
            cols.iter()
                .filter_map(|&(c, l, colour)| col(c).map(|i| (i, l, colour)))
                .collect()
        };
    make(
        "steps_tasks",
        "Tasks per step",
        "tasks",
        pick(&[
            ("tasks_alive", "tasks alive", BLUE),
            ("tasks_run", "tasks run", ORANGE),
            ("tasks_finished", "tasks finished", GREEN),
        ]),
        String::new(),
    );
    let any = |c: Option<usize>| {
        c.is_some_and(|c| {
            steps
                .reps
                .iter()
                .any(|(_, rows)| rows.iter().any(|r| r[c] != 0.0 && r[c].is_finite()))
        })
    };
    let mut msgs = pick(&[
        ("messages_local", "local (same shard)", BLUE),
        ("messages_cross", "cross-shard", ORANGE),
    ]);
    if any(col("messages_dropped")) {
        msgs.extend(pick(&[("messages_dropped", "dropped", VERMILLION)]));
    }
    make(
        "steps_messages",
        "Messages per step: local vs cross-shard",
        "messages per step",
        msgs,
        String::new(),
    );
    // Imbalance: slowest shard over mean shard, median over the steps of the first replication.
    let imbalance = match (col("shard_ms_max"), col("shard_ms_mean")) {
        (Some(a), Some(b)) => {
            let mut r: Vec<f64> = steps.reps[0]
                .1
                .iter()
                .filter(|row| row[b] > 0.0)
                .map(|row| row[a] / row[b])
                .filter(|x| x.is_finite())
                .collect();
            r.sort_by(f64::total_cmp);
            if r.is_empty() {
                String::new()
            } else {
                format!(
                    "imbalance slowest/mean shard: median {:.2}×",
                    crate::experiment::stats::quantile(&r, 0.5)
                )
            }
        }
        _ => String::new(),
    };
    make(
        "steps_time",
        "Step wall time and shard imbalance",
        "time per step (ms)",
        pick(&[
            ("wall_ms", "step wall time", INK),
            ("shard_ms_max", "slowest shard", VERMILLION),
            ("shard_ms_mean", "mean shard", BLUE),
        ]),
        imbalance,
    );
    let counters: Vec<Series> = steps
        .counters()
        .into_iter()
        .filter(|&c| any(Some(c)))
        .enumerate()
        .map(|(i, c)| (c, steps.header[c].as_str(), series(i)))
        .collect();
    if counters.is_empty() {
        s.push(skip(
            "step series of model counters",
            "every counter is zero",
        ));
    } else {
        make(
            "steps_counters",
            &format!("Model counters per step ({})", run.model),
            "count per step",
            counters,
            String::new(),
        );
    }
}
