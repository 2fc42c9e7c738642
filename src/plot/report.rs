//! `report.html`: one static page, inline CSS, no scripts and nothing fetched from the network;
//! images are the PNGs in `plots/` by relative path (SVG where no PNG was drawn).

use std::fmt::Write;

use serde_json::Value;

use super::data::{SavedRun, diff_interval, interval};
use super::{Entry, Format, PlotKind, Skipped};
use crate::engine::scheduler::Ending;
use crate::experiment::numbers::{at_place, estimate, percent, place_of, table_number};
use crate::experiment::results::{ResultDir, SweepTable, SweepVariant, ending_name};
use crate::experiment::stats::Method;

const CSS: &str = "
:root { --ink: #1e1e1e; --muted: #5a5a5a; --line: #d9d9d9; --accent: #0072b2; --bg: #ffffff; --zebra: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Roboto, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 17px; margin: 20px 0 8px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
a { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 12px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.warn { background: #fff4e0; border-left: 4px solid #e69f00; padding: 8px 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 8px 0; }
th, td { padding: 5px 10px; vertical-align: top; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #eef2f6; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
tbody tr:nth-child(even) { background: var(--zebra); }
.diff { margin-top: 3px; }
.sig { color: #d55e00; font-weight: 600; }
td b { font-weight: 600; }
small { color: var(--muted); font-weight: 400; }
.sig small { color: #d55e00; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
.wide { display: grid; grid-template-columns: minmax(0, 1000px); gap: 18px; }
figure { margin: 0; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
ul.notes { color: var(--muted); }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
";

/// Escapes text for HTML.
pub(super) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A number for a table cell; `—` for one that is not there.
fn num(v: f64) -> String {
    if v.is_finite() {
        table_number(v)
    } else {
        "—".into()
    }
}

/// [`num`] of a number that may be absent.
fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), num)
}

fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.2} s")
    } else {
        let m = (s / 60.0).floor();
        format!("{m} min {:.0} s", s - m * 60.0)
    }
}

/// The saved scenario.toml, if readable.
fn scenario_toml(dir: &ResultDir) -> Option<toml::Table> {
    std::fs::read_to_string(dir.file(ResultDir::SCENARIO))
        .ok()?
        .parse::<toml::Table>()
        .ok()
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => table_number(*i as f64),
        other => other.to_string(),
    }
}

/// What the saved scenario says beyond the summary.
#[derive(Default)]
struct Scenario {
    description: Option<String>,
    /// The swept fields (`model.items`): shown in the sweep table, not as parameters.
    swept: Vec<String>,
    /// The model's other parameters.
    params: Vec<(String, String)>,
    /// `[run] shards`, for a summary that does not say.
    shards: Option<u64>,
}

impl Scenario {
    fn read(dir: &ResultDir) -> Self {
        let toml = scenario_toml(dir).unwrap_or_default();
        let description = toml
            .get("scenario")
            .and_then(|s| s.get("description"))
            .and_then(|d| d.as_str())
            .map(str::to_string);
        let swept: Vec<String> = toml
            .get("sweep")
            .and_then(|s| s.get("grid"))
            .and_then(|g| g.as_table())
            .map(|g| g.keys().cloned().collect())
            .unwrap_or_default();
        let params = toml
            .get("model")
            .and_then(|m| m.as_table())
            .map(|t| {
                t.iter()
                    .filter(|(k, _)| !swept.contains(&format!("model.{k}")))
                    .map(|(k, v)| (k.clone(), toml_text(v)))
                    .collect()
            })
            .unwrap_or_default();
        let shards = toml
            .get("run")
            .and_then(|r| r.get("shards"))
            .and_then(|x| x.as_integer())
            .map(|x| x as u64);
        Scenario {
            description,
            swept,
            params,
            shards,
        }
    }
}

/// The report page.
pub(super) fn html(run: &SavedRun, entries: &[Entry], skipped: &[Skipped]) -> String {
    let scenario = Scenario::read(&run.dir);
    let mut h = String::new();
    head(
        &mut h,
        &format!("{} — microsim report", run.summary.scenario),
    );
    intro(&mut h, run, &scenario);
    write_facts(&mut h, &facts(run, &scenario));
    if let Some(sw) = &run.sweep {
        sweep_table(&mut h, sw, &run.dir);
    }
    metrics_table(&mut h, run);
    plot_sections(&mut h, entries, &run.dir);
    notes(&mut h, skipped);
    footer(&mut h, &run.dir);
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// The document's head and the start of its body.
fn head(h: &mut String, title: &str) {
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(title)
    );
}

/// The heading, the scenario's description and a warning for a partial run.
fn intro(h: &mut String, run: &SavedRun, scenario: &Scenario) {
    let _ = writeln!(h, "<h1>{}</h1>", esc(&run.summary.scenario));
    if let Some(d) = &scenario.description {
        let _ = writeln!(h, "<p class=\"lead\">{}</p>", esc(d));
    }
    if run.summary.partial {
        let _ = writeln!(
            h,
            "<p class=\"warn\">This run was interrupted: the results are partial.</p>"
        );
    }
}

/// The facts of the run: what ran, how, and how it ended (values are HTML).
fn facts(run: &SavedRun, scenario: &Scenario) -> Vec<(&'static str, String)> {
    let s = &run.summary;
    let mut facts: Vec<(&str, String)> = vec![("model", esc(&s.model))];
    if !scenario.params.is_empty() {
        facts.push((
            "parameters",
            scenario
                .params
                .iter()
                .map(|(k, v)| format!("{} = {}", esc(k), esc(v)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if !scenario.swept.is_empty() {
        facts.push((
            "swept",
            format!("{} (see the sweep table)", esc(&scenario.swept.join(", "))),
        ));
    }
    facts.push(("seed", s.seed.to_string()));
    let reps = table_number(s.replications as f64);
    facts.push((
        "replications",
        if run.sweep.is_some() {
            format!("{reps} per variant")
        } else {
            reps
        },
    ));
    facts.push(("elapsed", seconds(s.elapsed_seconds)));
    let shards = s.manifest.shards.or(scenario.shards);
    facts.push((
        "threads · shards",
        format!(
            "{} · {}",
            s.manifest.threads,
            shards.map_or("—".to_string(), |x| x.to_string())
        ),
    ));
    if !s.manifest.started_at.is_empty() {
        facts.push(("started", esc(&s.manifest.started_at)));
    }
    if let Some(e) = endings(run) {
        facts.push(("endings", e));
    }
    if let Some(t) = &s.target {
        facts.push((
            "target",
            format!(
                "{} CI half-width ≤ {}: {} (achieved {} after {} replications)",
                esc(&t.metric),
                num(t.ci_half_width),
                if t.reached { "reached" } else { "not reached" },
                opt(t.achieved_half_width),
                num(t.replications as f64),
            ),
        ));
    }
    if let Ok(r) = &run.reps
        && r.interrupted > 0
    {
        facts.push((
            "left out",
            format!(
                "{} interrupted replication{} (not in the plots or the summary)",
                r.interrupted,
                if r.interrupted == 1 { "" } else { "s" }
            ),
        ));
    }
    if !s.version.is_empty() {
        facts.push(("microsim", esc(&s.version)));
    }
    facts
}

/// `9 finished, 1 interrupted`: the endings that happened (none if none is counted).
fn endings(run: &SavedRun) -> Option<String> {
    let e = &run.summary.endings;
    let parts: Vec<String> = [
        (Ending::Finished, e.finished),
        (Ending::Interrupted, e.interrupted),
        (Ending::Stalled, e.stalled),
        (Ending::StepLimit, e.step_limit),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(ending, n)| format!("{n} {}", esc(&ending_name(ending).replace('_', " "))))
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn write_facts(h: &mut String, facts: &[(&str, String)]) {
    h.push_str("<dl class=\"facts\">\n");
    for (k, v) in facts {
        let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
    }
    h.push_str("</dl>\n");
}

/// The report's sections of plots: heading, the kinds shown, the grid's class.
const SECTIONS: [(&[PlotKind], &str, &str); 5] = [
    (&[PlotKind::Sweep], "Sweep plots", "wide"),
    (
        &[PlotKind::Histograms],
        "Model histograms (all replications merged)",
        "wide",
    ),
    (
        &[PlotKind::Distribution, PlotKind::Cdf],
        "Distributions over replications (histogram · cumulative)",
        "grid",
    ),
    (&[PlotKind::Convergence], "Convergence of the mean", "grid"),
    (&[PlotKind::Steps], "Step-level series", "grid"),
];

/// An image of plot `e` in `plots/`, relative to the result directory.
fn plot_file(e: &Entry, format: Format) -> String {
    format!("{}/{}.{}", ResultDir::PLOTS, e.stem, format.ext())
}

/// The image a plot shows (its PNG, else its SVG) and its SVG to link, if any.
fn src(e: &Entry) -> Option<(String, Option<String>)> {
    let img = [Format::Png, Format::Svg]
        .into_iter()
        .find(|f| e.formats.contains(f))
        .map(|f| plot_file(e, f))?;
    let svg = e
        .formats
        .contains(&Format::Svg)
        .then(|| plot_file(e, Format::Svg));
    Some((img, svg))
}

/// The plots, by kind.
fn plot_sections(h: &mut String, entries: &[Entry], dir: &ResultDir) {
    for (kinds, heading, class) in SECTIONS {
        // Entries come sorted by kind, then metric; a section of two kinds pairs them by metric.
        let mut these: Vec<(usize, &Entry)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| kinds.contains(&e.kind))
            .collect();
        if these.is_empty() {
            continue;
        }
        these.sort_by_key(|(i, e)| {
            let rank = entries
                .iter()
                .filter(|x| x.kind == e.kind)
                .position(|x| x.stem == e.stem)
                .unwrap_or(*i);
            (rank, e.kind)
        });
        let _ = writeln!(
            h,
            "<h2 id=\"{}\">{}</h2>\n<div class=\"{class}\">",
            kinds[0].name(),
            esc(heading)
        );
        for (_, e) in these {
            figure(h, e, dir);
        }
        h.push_str("</div>\n");
    }
}

/// One plot, inlined (its SVG, else its PNG, as a `data:` URI) so that `report.html` is whole
/// when copied alone; its title links the files in `plots/` for when they are there.
fn figure(h: &mut String, e: &Entry, dir: &ResultDir) {
    let Some((img, svg)) = src(e) else { return };
    let mime = if img.ends_with(".svg") {
        "image/svg+xml"
    } else {
        "image/png"
    };
    let inlined = svg
        .as_ref()
        .and_then(|s| {
            std::fs::read(dir.file(s))
                .ok()
                .map(|b| ("image/svg+xml", b))
        })
        .or_else(|| std::fs::read(dir.file(&img)).ok().map(|b| (mime, b)));
    let shown = match inlined {
        Some((mime, bytes)) => {
            use base64::Engine;
            format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        }
        None => esc(&img),
    };
    let svg_link = svg.map_or(String::new(), |s| {
        format!(" · <a href=\"{}\">SVG</a>", esc(&s))
    });
    let _ = writeln!(
        h,
        "<figure><img src=\"{shown}\" alt=\"{alt}\" width=\"1000\" height=\"600\">\
         <figcaption>{alt} · <a href=\"{img}\">{kind}</a>{svg_link}</figcaption></figure>",
        img = esc(&img),
        alt = esc(&e.title),
        kind = if img.ends_with(".svg") { "SVG" } else { "PNG" },
    );
}

/// The plots not drawn, with the reasons.
fn notes(h: &mut String, skipped: &[Skipped]) {
    if skipped.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"notes\">Plots not drawn</h2>\n<ul class=\"notes\">\n");
    for s in skipped {
        let _ = writeln!(h, "<li>{}: {}</li>", esc(&s.plot), esc(&s.reason));
    }
    h.push_str("</ul>\n");
}

fn footer(h: &mut String, dir: &ResultDir) {
    let list = format!("{}/{}", ResultDir::PLOTS, super::PLOT_LIST);
    let _ = writeln!(
        h,
        "<footer>Written by <code>microsim plot</code> from the files in this directory \
         ({}, {}, {}, {}/); redraw with <code>microsim plot {}</code>. \
         Plots and their list: <a href=\"{list}\">{list}</a>.</footer>",
        ResultDir::SUMMARY,
        ResultDir::REPLICATIONS,
        ResultDir::STEPS,
        ResultDir::HISTOGRAMS,
        esc(&dir.to_string())
    );
}

fn metrics_table(h: &mut String, run: &SavedRun) {
    let names = run.metric_names();
    if names.is_empty() {
        return;
    }
    let heading = match &run.sweep {
        Some(sw) => format!("Metrics of the baseline (variant {:03})", sw.baseline),
        None => "Metrics".to_string(),
    };
    let confidence = run.confidence();
    let expected = |name: &str| run.summary.declared_metric(name).and_then(|q| q.expected);
    let with_expected = names.iter().any(|n| expected(n).is_some());
    let _ = writeln!(
        h,
        "<h2 id=\"metrics\">{}</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>metric</th><th>mean</th>\
         <th>{}% CI</th>{}<th>std</th><th>min</th><th>p50</th><th>max</th><th>unit</th></tr></thead>\n<tbody>",
        esc(&heading),
        percent(confidence),
        if with_expected {
            "<th>expected</th>"
        } else {
            ""
        }
    );
    let mut methods = Vec::new();
    for name in names {
        let Some(m) = run.metric_summary(&name) else {
            continue;
        };
        let ci = interval(m, confidence);
        let e = estimate(m.mean, ci);
        let method = m.interval.map(|i| i.method).filter(|&k| k != Method::T);
        if let Some(k) = method.filter(|k| !methods.contains(k)) {
            methods.push(k);
        }
        let mark = method.map_or(String::new(), |k| {
            format!("<sup title=\"{}\">{}</sup>", esc(k.about()), k.mark())
        });
        let exp = if with_expected {
            let x = expected(&name).map_or("—".into(), |x| same_place(x, m.mean, ci));
            format!("<td>{x}</td>")
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}{mark}</td>{exp}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&name),
            e.mean,
            e.interval_or("—"),
            opt(m.std),
            num(m.min),
            num(m.p50),
            num(m.max),
            esc(run.summary.unit(&name))
        );
    }
    h.push_str("</tbody></table></div>\n");
    for k in methods {
        let _ = writeln!(
            h,
            "<p class=\"lead\"><sup>{}</sup> {}</p>",
            k.mark(),
            esc(k.about())
        );
    }
}

/// `x` to the decimal place that an estimate of `mean` with interval `ci` is shown to.
fn same_place(x: f64, mean: f64, ci: Option<[f64; 2]>) -> String {
    match ci.and_then(|[lo, hi]| place_of(mean, lo, hi)) {
        Some(place) => at_place(x, place),
        None => num(x),
    }
}

fn sweep_table(h: &mut String, sw: &SweepTable, dir: &ResultDir) {
    let Some(first) = sw.variants.first() else {
        return;
    };
    let fields: Vec<&String> = first.parameters.keys().collect();
    let level = percent(sw.confidence);
    let _ = writeln!(
        h,
        "<h2 id=\"sweep-table\">Sweep table</h2>\n<p class=\"lead\">{} variants; each metric's mean with its {level}% CI, and the \
         difference to the baseline (variant {:03}) with its {level}% CI ({}); \
         <span class=\"sig\">*</span> marks a difference whose interval excludes 0.</p>",
        sw.variants.len(),
        sw.baseline,
        if sw.common_random_numbers {
            "paired: common random numbers"
        } else {
            "Welch: independent replications"
        }
    );
    h.push_str("<div class=\"scroll\"><table>\n<thead><tr><th>variant</th>");
    for f in &fields {
        let _ = write!(h, "<th>{}</th>", esc(f));
    }
    // Replications per variant: a column only when they differ (else the facts say it).
    let reps_col = sw
        .variants
        .iter()
        .any(|v| v.replications != first.replications);
    if reps_col {
        h.push_str("<th>replications</th>");
    }
    for m in &sw.compare {
        let _ = write!(
            h,
            "<th>{}<br><small>mean [{level}% CI]<br>Δ vs baseline [{level}% CI]</small></th>",
            esc(m)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for v in &sw.variants {
        sweep_row(h, sw, v, &fields, reps_col, dir);
    }
    h.push_str("</tbody></table></div>\n");
    let _ = writeln!(
        h,
        "<p class=\"lead\">Each variant is a complete result directory of its own: \
         <code>{variants}/NNN/</code> (draw its plots with <code>microsim plot {}/{variants}/NNN</code>).</p>",
        esc(&dir.to_string()),
        variants = ResultDir::VARIANTS,
    );
}

/// One variant's row of the sweep table.
fn sweep_row(
    h: &mut String,
    sw: &SweepTable,
    v: &SweepVariant,
    fields: &[&String],
    reps_col: bool,
    dir: &ResultDir,
) {
    // The variant links to its own report when it has one.
    let vdir = if v.dir.is_empty() {
        ResultDir::variant_path(v.variant)
    } else {
        v.dir.clone()
    };
    let label = if ResultDir::new(dir.file(&vdir))
        .file(ResultDir::REPORT)
        .is_file()
    {
        format!(
            "<a href=\"{}/{}\">{:03}</a>",
            esc(&vdir),
            ResultDir::REPORT,
            v.variant
        )
    } else {
        format!("{:03}", v.variant)
    };
    let _ = write!(
        h,
        "<tr><td>{label}{}</td>",
        if v.variant == sw.baseline {
            " (baseline)"
        } else {
            ""
        }
    );
    for f in fields {
        let cell = match v.parameters.get(f.as_str()).unwrap_or(&Value::Null) {
            Value::String(s) => esc(s),
            Value::Number(n) => n.as_f64().map_or(n.to_string(), table_number),
            other => esc(&other.to_string()),
        };
        let _ = write!(h, "<td>{cell}</td>");
    }
    if reps_col {
        let _ = write!(h, "<td>{}</td>", num(v.replications as f64));
    }
    for m in &sw.compare {
        sweep_cell(h, sw.confidence, v, m);
    }
    h.push_str("</tr>\n");
}

/// One metric's cell of a variant: the mean, its CI, and the difference to the baseline.
fn sweep_cell(h: &mut String, confidence: f64, v: &SweepVariant, metric: &str) {
    let shown = |mean: f64, c: Option<[f64; 2]>| {
        let e = estimate(mean, c);
        let ci = e.interval.as_ref().map_or(String::new(), |[lo, hi]| {
            format!("<br><small>[{lo}, {hi}]</small>")
        });
        (e.mean, ci)
    };
    let diff = match v.vs_baseline.get(metric) {
        Some(d) => {
            let sig = d.significant;
            let (mean, ci) = shown(d.mean, diff_interval(d, confidence));
            format!(
                "<div class=\"diff{}\">Δ {mean}{}{ci}</div>",
                if sig { " sig" } else { "" },
                if sig { " *" } else { "" },
            )
        }
        None => String::new(),
    };
    let (mean, m_ci) = match v.metrics.get(metric) {
        Some(s) => shown(s.mean, interval(s, confidence)),
        None => ("—".into(), String::new()),
    };
    let _ = write!(h, "<td><b>{mean}</b>{m_ci}{diff}</td>");
}
