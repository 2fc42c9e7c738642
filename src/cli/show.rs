//! What `run` and `resume` print when a run is done: the metrics table (a sweep's variants
//! and their differences), every number through [`crate::numbers`].

use std::io::Write;
use std::path::Path;

use crate::experiment::numbers::{
    Estimate, at_place, counted, estimate, percent, place_of, table_number,
};
use crate::experiment::results::{ResultDir, RunSummary};
use crate::experiment::scenario::Scenario;
use crate::experiment::stats::{Method, Summary};

use super::table::Table;

/// A confidence level as a percentage: `95%`, `99.5%`.
pub(crate) fn level(confidence: f64) -> String {
    format!("{}%", percent(confidence))
}

/// The methods whose intervals are marked, in the order their legends are printed.
const MARKED: [Method; 3] = [Method::Poisson, Method::ClopperPearson, Method::TClipped];

fn mark(s: &Summary) -> &'static str {
    s.interval.map_or("", |i| i.method.mark())
}

/// A metric's mean and interval, and `expected` at the same precision.
fn shown(s: &Summary, expected: Option<f64>) -> (Estimate, String) {
    let ci = s.shown();
    let e = estimate(s.mean, ci);
    let exp = expected.map_or(String::new(), |x| {
        match ci.and_then(|[lo, hi]| place_of(s.mean, lo, hi)) {
            Some(place) => at_place(x, place),
            None => table_number(x),
        }
    });
    (e, exp)
}

/// The header line of a finished run.
fn header(s: &Scenario, summary: &RunSummary) -> String {
    let shards = s.run.shards.unwrap_or(1);
    format!(
        "{} · model {} · seed {} · {} · {} · {} · {:.2} s",
        s.name,
        s.model_name(),
        s.seed(),
        counted(summary.replications, "replication"),
        counted(shards, "shard"),
        counted(s.threads() as u64, "thread"),
        summary.elapsed_seconds
    )
}

/// The metrics of a finished run: mean, interval, expected value, min, max and unit.
pub(crate) fn print_report(
    out: &mut impl Write,
    s: &Scenario,
    summary: &RunSummary,
    dir: &Path,
    plots_written: bool,
) -> std::io::Result<()> {
    writeln!(out, "{}", header(s, summary))?;
    let names = s.metric_names();
    let expected = |name: &str| summary.declared_metric(name).and_then(|q| q.expected);
    let with_expected = names.iter().any(|n| expected(n).is_some());
    let with_unit = names.iter().any(|n| !summary.unit(n).is_empty());
    let mut head = vec![
        "metric".to_string(),
        "mean".into(),
        format!("{} CI", level(summary.confidence)),
    ];
    if with_expected {
        head.push("expected".into());
    }
    head.extend(["min".into(), "max".into()]);
    if with_unit {
        head.push("unit".into());
    }
    let mut table = Table::new(head);
    if with_unit {
        table = table.left(if with_expected { 6 } else { 5 });
    }
    let mut used = Vec::new();
    for name in names {
        let Some(m) = summary.metrics.get(name) else {
            continue;
        };
        let (e, exp) = shown(m, expected(name));
        let mark = mark(m);
        if !mark.is_empty() && !used.contains(&mark) {
            used.push(mark);
        }
        let mut row = vec![
            name.to_string(),
            e.mean.clone(),
            format!("{}{mark}", e.interval_or("— (one replication)")),
        ];
        if with_expected {
            row.push(exp);
        }
        row.extend([table_number(m.min), table_number(m.max)]);
        if with_unit {
            row.push(summary.unit(name).to_string());
        }
        table.row(row);
    }
    table.write(out)?;
    for m in MARKED.iter().filter(|m| used.contains(&m.mark())) {
        writeln!(out, "{} {}", m.mark(), m.about())?;
    }
    print_details(out, dir)?;
    let report = if plots_written {
        "report.html: the plots and this table"
    } else {
        "the plots and report.html could not be written, see below"
    };
    writeln!(out, "results: {} ({report})", dir.display())
}

/// The first replication's model details (e.g. who won), one line each, but for what the
/// table shows already (`expected_…`). Only the first element of `details.json` is kept in
/// memory (the file grows with the replications).
fn print_details(out: &mut impl Write, dir: &Path) -> std::io::Result<()> {
    let Some(first) = first_details(&dir.join(ResultDir::DETAILS)) else {
        return Ok(());
    };
    let Some(details) = first["details"].as_object() else {
        return Ok(());
    };
    for (k, v) in details.iter().filter(|(k, _)| !k.starts_with("expected")) {
        let shown = match v {
            serde_json::Value::Number(n) => n.as_f64().map_or(n.to_string(), table_number),
            serde_json::Value::Array(a) if a.len() <= 12 => {
                let items: Vec<String> = a
                    .iter()
                    .map(|x| x.as_f64().map_or(x.to_string(), |v| v.to_string()))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            _ => continue,
        };
        writeln!(out, "{k} (replication {}): {shown}", first["replication"])?;
    }
    Ok(())
}

/// The first element of the JSON array in `path`, read without holding the others.
fn first_details(path: &Path) -> Option<serde_json::Value> {
    use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
    struct First;
    impl<'de> Visitor<'de> for First {
        type Value = Option<serde_json::Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element()?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    let file = std::fs::File::open(path).ok()?;
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(file));
    de.deserialize_seq(First).ok().flatten()
}

/// A sweep: per variant its parameters, then each compared metric's mean and its difference
/// to the baseline with an interval.
pub(crate) fn print_sweep(
    out: &mut impl Write,
    s: &Scenario,
    summary: &RunSummary,
    dir: &Path,
) -> std::io::Result<()> {
    let Some(table) = &summary.sweep else {
        return Ok(());
    };
    let crn = if table.common_random_numbers {
        "paired (common random numbers)"
    } else {
        "independent (Welch)"
    };
    writeln!(
        out,
        "{} · model {} · seed {} · sweep of {} variants × {} · differences vs variant {}: {}",
        s.name,
        s.model_name(),
        s.seed(),
        table.variants.len(),
        counted(s.montecarlo.replications, "replication"),
        table.baseline,
        crn
    )?;
    let ci = format!("{} CI", level(table.confidence));
    let mut t = Table::new([
        "variant".to_string(),
        "metric".into(),
        "mean".into(),
        ci.clone(),
        "Δ vs baseline".into(),
        format!("Δ {ci}"),
        String::new(),
    ])
    .left(1)
    .left(6);
    for v in &table.variants {
        let params: Vec<String> = v
            .parameters
            .iter()
            .map(|(k, x)| format!("{k}={x}"))
            .collect();
        writeln!(out, "variant {:03} · {}", v.variant, params.join(" "))?;
        for m in &table.compare {
            let Some(sm) = v.metrics.get(m) else { continue };
            let e = estimate(sm.mean, sm.shown());
            let (d, dci, sig) = match v.vs_baseline.get(m) {
                Some(d) => {
                    let de = estimate(d.mean, d.ci);
                    let sig = if d.significant { "*" } else { "" };
                    (de.mean.clone(), de.interval_or("—"), sig)
                }
                None => ("(baseline)".to_string(), String::new(), ""),
            };
            t.row([
                format!("{:03}", v.variant),
                m.clone(),
                e.mean.clone(),
                e.interval_or("—"),
                d,
                dci,
                sig.to_string(),
            ]);
        }
    }
    t.write(out)?;
    writeln!(
        out,
        "(* the {} CI of the difference excludes 0)\nresults: {}",
        level(table.confidence),
        dir.display()
    )
}
