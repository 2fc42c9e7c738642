//! Step-level series: tasks alive, messages, step time and shard imbalance.

use plotters::style::RGBColor;

use super::*;
use crate::plot::data::STEP_REPLICATIONS;

/// A step series: column, legend label, colour.
type Series<'a> = (usize, &'a str, RGBColor);

/// The four step charts of a run: tasks, messages, time and the model's counters.
pub(super) fn steps_plots(
    run: &SavedRun,
    steps: &StepsTable,
    p: &mut Vec<Planned>,
    s: &mut Vec<Skipped>,
) {
    let view = StepView::of(steps);
    let mut add = |stem: &str, title: &str, ylabel: &str, ser: Vec<Series>, extra: String| {
        if ser.is_empty() {
            return;
        }
        match view.chart(run, title, ylabel, &ser, &extra) {
            Some(chart) => p.push(Planned {
                kind: PlotKind::Steps,
                stem: stem.to_string(),
                metric: None,
                chart,
            }),
            None => s.push(skip(&format!("step series {stem}"), "no finite values")),
        }
    };
    add(
        "steps_tasks",
        "Tasks per step",
        "tasks",
        view.pick(&[
            ("tasks_alive", "tasks alive", BLUE),
            ("tasks_run", "tasks run", ORANGE),
            ("tasks_finished", "tasks finished", GREEN),
        ]),
        String::new(),
    );
    let mut msgs = view.pick(&[
        ("messages_local", "local (same shard)", BLUE),
        ("messages_cross", "cross-shard", ORANGE),
    ]);
    if view.any(steps.col("messages_dropped")) {
        msgs.extend(view.pick(&[("messages_dropped", "dropped", VERMILLION)]));
    }
    add(
        "steps_messages",
        "Messages per step: local vs cross-shard",
        "messages per step",
        msgs,
        String::new(),
    );
    add(
        "steps_time",
        "Step wall time and shard imbalance",
        "time per step (ms)",
        view.pick(&[
            ("wall_ms", "step wall time", INK),
            ("shard_ms_max", "slowest shard", VERMILLION),
            ("shard_ms_mean", "mean shard", BLUE),
        ]),
        imbalance(steps),
    );
    let declared = &run.summary.declared.series;
    let derived = |c: usize| declared.iter().any(|q| q.name == steps.header[c]);
    let counters: Vec<Series> = steps
        .counters()
        .into_iter()
        .filter(|&c| !derived(c) && view.any(Some(c)))
        .enumerate()
        .map(|(i, c)| (c, steps.header[c].as_str(), series(i)))
        .collect();
    let derived: Vec<Series> = steps
        .counters()
        .into_iter()
        .filter(|&c| derived(c))
        .enumerate()
        .map(|(i, c)| (c, steps.header[c].as_str(), series(i)))
        .collect();
    add(
        "steps_series",
        &format!("Model series per step ({})", run.summary.model),
        "value",
        derived,
        String::new(),
    );
    if counters.is_empty() {
        s.push(skip(
            "step series of model counters",
            "every counter is zero",
        ));
    } else {
        add(
            "steps_counters",
            &format!("Model counters per step ({})", run.summary.model),
            "count per step",
            counters,
            String::new(),
        );
    }
}

/// What a step chart shows of `steps.csv`: the first replication bold, some others faint.
struct StepView<'a> {
    steps: &'a StepsTable,
    /// The `step` column, if there is one (else the row index is the step).
    step_col: Option<usize>,
    /// The most steps a replication ran.
    nsteps: usize,
    /// How many other replications are drawn faint.
    faint: usize,
    /// `replication 0 bold, 19 others faint`, when there are others.
    note: String,
}

impl<'a> StepView<'a> {
    fn of(steps: &'a StepsTable) -> Self {
        let nsteps = steps.reps.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
        let others = steps.reps.len().saturating_sub(1);
        // Long runs get fewer faint replications, so that the files stay small.
        let faint = others.min(if nsteps > 200 {
            20
        } else {
            STEP_REPLICATIONS - 1
        });
        let note = if others > 0 {
            format!(
                "replication {} bold, {} faint",
                steps.reps[0].0,
                counted(faint as u64, "other")
            )
        } else {
            String::new()
        };
        StepView {
            steps,
            step_col: steps.col("step"),
            nsteps,
            faint,
            note,
        }
    }

    /// The series of the columns that are there.
    fn pick(&self, cols: &[(&'static str, &'static str, RGBColor)]) -> Vec<Series<'static>> {
        cols.iter()
            .filter_map(|&(c, l, colour)| self.steps.col(c).map(|i| (i, l, colour)))
            .collect()
    }

    /// Whether column `c` is there and has a value other than zero.
    fn any(&self, c: Option<usize>) -> bool {
        c.is_some_and(|c| {
            self.steps
                .reps
                .iter()
                .any(|(_, rows)| rows.iter().any(|r| r[c] != 0.0 && r[c].is_finite()))
        })
    }

    /// The chart of series `ser`; `None` if they have no finite value.
    fn chart(
        &self,
        run: &SavedRun,
        title: &str,
        ylabel: &str,
        ser: &[Series],
        extra: &str,
    ) -> Option<Chart> {
        let mut items = Vec::new();
        let x_of = |i: usize, row: &[f64]| self.step_col.map_or(i as f64, |c| row[c]);
        let (mut ymin, mut ymax) = (0.0f64, f64::NEG_INFINITY);
        let (mut xmin, mut xmax) = (f64::INFINITY, f64::NEG_INFINITY);
        for (k, (_, rows)) in self.steps.reps.iter().enumerate().take(self.faint + 1) {
            for &(c, label, colour) in ser {
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
                    markers: bold && self.nsteps <= 30,
                    label: bold.then(|| label.to_string()),
                });
            }
        }
        if !ymax.is_finite() || !xmax.is_finite() {
            return None;
        }
        // Draw the faint replications first, the bold one on top.
        items.sort_by_key(|it| matches!(it, Item::Line { width: 3, .. }));
        let yr = if ymax > ymin {
            0.0f64.min(ymin)..ymax * 1.08
        } else {
            padded(ymin, ymax, 0.1)
        };
        let note = [self.note.as_str(), extra]
            .iter()
            .filter(|x| !x.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · ");
        Some(Chart {
            title: format!("{title} — {}", run.summary.scenario),
            note: Some(run_note(run, &note)),
            x: Axis::linear("step", xmin - 0.3, xmax + 0.3).integer(),
            y: Axis::linear(ylabel, yr.start, yr.end),
            items,
        })
    }
}

/// Imbalance: slowest shard over mean shard, median over the steps of the first replication
/// (empty when the columns are not there).
fn imbalance(steps: &StepsTable) -> String {
    let (Some(a), Some(b)) = (steps.col("shard_ms_max"), steps.col("shard_ms_mean")) else {
        return String::new();
    };
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
