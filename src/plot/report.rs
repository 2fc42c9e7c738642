//! `report.html`: one static page, inline CSS, no scripts and nothing fetched from the network;
//! images are the PNGs in `plots/` by relative path (SVG where no PNG was drawn).

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use super::data::Run;
use super::numfmt::table_number;
use super::{Entry, Format, PlotKind, Skipped};

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
pub fn esc(s: &str) -> String {
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

fn num(v: &Value) -> String {
    v.as_f64().map_or("—".into(), table_number)
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
fn scenario_toml(dir: &Path) -> Option<toml::Table> {
    std::fs::read_to_string(dir.join("scenario.toml"))
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

/// The report page.
pub fn html(run: &Run, entries: &[Entry], skipped: &[Skipped], dir: &Path) -> String {
    let s = &run.summary;
    let mut h = String::new();
    let title = format!("{} — microsim report", run.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&title)
    );
    let toml = scenario_toml(dir).unwrap_or_default();
    let desc = toml
        .get("scenario")
        .and_then(|s| s.get("description"))
        .and_then(|d| d.as_str());
    // Swept fields (`model.items`) are shown in the sweep table, not as parameters.
    let swept: Vec<String> = toml
        .get("sweep")
        .and_then(|s| s.get("grid"))
        .and_then(|g| g.as_table())
        .map(|g| g.keys().cloned().collect())
        .unwrap_or_default();
    let params: Vec<(String, String)> = toml
        .get("model")
        .and_then(|m| m.as_table())
        .map(|t| {
            t.iter()
                .filter(|(k, _)| !swept.contains(&format!("model.{k}")))
                .map(|(k, v)| (k.clone(), toml_text(v)))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(h, "<h1>{}</h1>", esc(&run.scenario));
    if let Some(d) = desc {
        let _ = writeln!(h, "<p class=\"lead\">{}</p>", esc(d));
    }
    if s["partial"].as_bool() == Some(true) {
        let _ = writeln!(
            h,
            "<p class=\"warn\">This run was interrupted: the results are partial.</p>"
        );
    }

    // The facts.
    let mut facts: Vec<(&str, String)> = vec![("model", esc(&run.model))];
    if !params.is_empty() {
        facts.push((
            "parameters",
            params
                .iter()
                .map(|(k, v)| format!("{} = {}", esc(k), esc(v)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if !swept.is_empty() {
        facts.push((
            "swept",
            format!("{} (see the sweep table)", esc(&swept.join(", "))),
        ));
    }
    if let Some(seed) = s["seed"].as_u64() {
        facts.push(("seed", seed.to_string()));
    }
    let reps = s["replications"].as_u64().unwrap_or(0);
    facts.push((
        "replications",
        if run.sweep.is_some() {
            format!("{} per variant", table_number(reps as f64))
        } else {
            table_number(reps as f64)
        },
    ));
    if let Some(e) = s["elapsed_seconds"].as_f64() {
        facts.push(("elapsed", seconds(e)));
    }
    let m = &s["manifest"];
    if let Some(t) = m["threads"].as_u64() {
        facts.push((
            "threads · shards",
            format!(
                "{t} · {}",
                m["shards"]
                    .as_u64()
                    .or_else(|| toml
                        .get("run")
                        .and_then(|r| r.get("shards"))
                        .and_then(|x| x.as_integer())
                        .map(|x| x as u64))
                    .map_or("—".to_string(), |x| x.to_string())
            ),
        ));
    }
    if let Some(at) = m["started_at"].as_str() {
        facts.push(("started", esc(at)));
    }
    if let Some(e) = s["endings"].as_object() {
        let parts: Vec<String> = e
            .iter()
            .filter(|(_, v)| v.as_u64().unwrap_or(0) > 0)
            .map(|(k, v)| format!("{} {}", v, esc(&k.replace('_', " "))))
            .collect();
        if !parts.is_empty() {
            facts.push(("endings", parts.join(", ")));
        }
    }
    if let Some(t) = s.get("target").filter(|t| t.is_object()) {
        facts.push((
            "target",
            format!(
                "{} CI half-width ≤ {}: {} (achieved {} after {} replications)",
                esc(t["metric"].as_str().unwrap_or("?")),
                num(&t["ci_half_width"]),
                if t["reached"].as_bool() == Some(true) {
                    "reached"
                } else {
                    "not reached"
                },
                num(&t["achieved_half_width"]),
                num(&t["replications"]),
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
    if let Some(v) = s["version"].as_str() {
        facts.push(("microsim", esc(v)));
    }
    h.push_str("<dl class=\"facts\">\n");
    for (k, v) in facts {
        let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
    }
    h.push_str("</dl>\n");

    if let Some(sw) = &run.sweep {
        sweep_table(&mut h, sw, dir);
    }
    metrics_table(&mut h, run);

    // The plots, by kind.
    let src = |e: &Entry| -> Option<(String, Option<String>)> {
        let img = if e.formats.contains(&Format::Png) {
            format!("plots/{}.png", e.stem)
        } else if e.formats.contains(&Format::Svg) {
            format!("plots/{}.svg", e.stem)
        } else {
            return None;
        };
        let svg = e
            .formats
            .contains(&Format::Svg)
            .then(|| format!("plots/{}.svg", e.stem));
        Some((img, svg))
    };
    let sections: [(&[PlotKind], &str, &str); 5] = [
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
    for (kinds, heading, class) in sections {
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
            let Some((img, svg)) = src(e) else { continue };
            let svg_link = svg.map_or(String::new(), |s| {
                format!(" · <a href=\"{}\">SVG</a>", esc(&s))
            });
            let _ = writeln!(
                h,
                "<figure><a href=\"{img}\"><img src=\"{img}\" alt=\"{alt}\" width=\"1000\" height=\"600\"></a>\
                 <figcaption>{alt}{svg_link}</figcaption></figure>",
                img = esc(&img),
                alt = esc(&e.title),
            );
        }
        h.push_str("</div>\n");
    }

    if !skipped.is_empty() {
        h.push_str("<h2 id=\"notes\">Plots not drawn</h2>\n<ul class=\"notes\">\n");
        for s in skipped {
            let _ = writeln!(h, "<li>{}: {}</li>", esc(&s.plot), esc(&s.reason));
        }
        h.push_str("</ul>\n");
    }
    let _ = writeln!(
        h,
        "<footer>Written by <code>microsim plot</code> from the files in this directory \
         (summary.json, replications.csv, steps.csv, histograms/); redraw with \
         <code>microsim plot {}</code>. Plots and their list: <a href=\"plots/plots.json\">plots/plots.json</a>.</footer>",
        esc(&dir.display().to_string())
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

fn metrics_table(h: &mut String, run: &Run) {
    let names = run.metric_names();
    if names.is_empty() {
        return;
    }
    let heading = if run.sweep.is_some() {
        let b = run
            .sweep
            .as_ref()
            .and_then(|s| s["baseline"].as_u64())
            .unwrap_or(0);
        format!("Metrics of the baseline (variant {b:03})")
    } else {
        "Metrics".to_string()
    };
    let _ = writeln!(
        h,
        "<h2 id=\"metrics\">{}</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>metric</th><th>mean</th>\
         <th>95% CI</th><th>std</th><th>min</th><th>p50</th><th>max</th></tr></thead>\n<tbody>",
        esc(&heading)
    );
    for name in names {
        let Some(m) = run.metric_summary(&name) else {
            continue;
        };
        let ci = m["ci95"]
            .as_array()
            .filter(|c| c.len() == 2)
            .map_or("—".into(), |c| {
                format!("[{}, {}]", num(&c[0]), num(&c[1]))
            });
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&name),
            num(&m["mean"]),
            ci,
            num(&m["std"]),
            num(&m["min"]),
            num(&m["p50"]),
            num(&m["max"])
        );
    }
    h.push_str("</tbody></table></div>\n");
}

fn sweep_table(h: &mut String, sw: &Value, dir: &Path) {
    let variants: Vec<&Value> = sw["variants"].as_array().into_iter().flatten().collect();
    if variants.is_empty() {
        return;
    }
    let fields: Vec<String> = variants[0]["parameters"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let compare: Vec<String> = sw["compare"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    let baseline = sw["baseline"].as_u64().unwrap_or(0);
    let paired = sw["common_random_numbers"].as_bool() == Some(true);
    let _ = writeln!(
        h,
        "<h2 id=\"sweep-table\">Sweep table</h2>\n<p class=\"lead\">{} variants; each metric's mean with its 95% CI, and the \
         difference to the baseline (variant {baseline:03}) with its 95% CI ({}); \
         <span class=\"sig\">*</span> marks a difference whose interval excludes 0.</p>",
        variants.len(),
        if paired {
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
    let reps_col = variants
        .iter()
        .any(|v| v["replications"] != variants[0]["replications"]);
    if reps_col {
        h.push_str("<th>replications</th>");
    }
    for m in &compare {
        let _ = write!(
            h,
            "<th>{}<br><small>mean [95% CI]<br>Δ vs baseline [95% CI]</small></th>",
            esc(m)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for v in variants {
        let idx = v["variant"].as_u64().unwrap_or(0);
        // The variant links to its own report when it has one.
        let vdir = v["dir"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("variants/{idx:03}"));
        let label = if dir.join(&vdir).join("report.html").is_file() {
            format!("<a href=\"{}/report.html\">{idx:03}</a>", esc(&vdir))
        } else {
            format!("{idx:03}")
        };
        let _ = write!(
            h,
            "<tr><td>{label}{}</td>",
            if idx == baseline { " (baseline)" } else { "" }
        );
        for f in &fields {
            let cell = match &v["parameters"][f.as_str()] {
                Value::String(s) => esc(s),
                Value::Number(n) => n.as_f64().map_or(n.to_string(), table_number),
                other => esc(&other.to_string()),
            };
            let _ = write!(h, "<td>{cell}</td>");
        }
        if reps_col {
            let _ = write!(h, "<td>{}</td>", num(&v["replications"]));
        }
        // One cell per metric: the mean, its CI, and the difference to the baseline.
        for m in &compare {
            let s = &v["metrics"][m.as_str()];
            let ci = |x: &Value| {
                x["ci95"]
                    .as_array()
                    .filter(|c| c.len() == 2)
                    .map_or(String::new(), |c| {
                        format!("<br><small>[{}, {}]</small>", num(&c[0]), num(&c[1]))
                    })
            };
            let d = &v["vs_baseline"][m.as_str()];
            let diff = if d.is_object() {
                let sig = d["significant"].as_bool() == Some(true);
                format!(
                    "<div class=\"diff{}\">Δ {}{}{}</div>",
                    if sig { " sig" } else { "" },
                    num(&d["mean"]),
                    if sig { " *" } else { "" },
                    ci(d)
                )
            } else {
                String::new()
            };
            let _ = write!(h, "<td><b>{}</b>{}{diff}</td>", num(&s["mean"]), ci(s));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    let _ = writeln!(
        h,
        "<p class=\"lead\">Each variant is a complete result directory of its own: \
         <code>variants/NNN/</code> (draw its plots with <code>microsim plot {}/variants/NNN</code>).</p>",
        esc(&dir.display().to_string())
    );
}
