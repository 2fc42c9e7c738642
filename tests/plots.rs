//! Pictures of the results: `microsim::plot::draw` and `microsim plot` on small real runs.
//!
//! Every test runs the binary into a fresh temporary directory, draws, and then looks at what
//! was drawn: PNGs decode, have the promised size and are not blank; SVGs are well-formed XML
//! and carry their title and axis labels; report.html refers only to files that exist and to
//! nothing on the network; runs too small for a plot skip it with a note instead of failing.

#[path = "plots/checks.rs"]
mod checks;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use checks::{assert_png_ok, assert_report_ok, check_xml};
use microsim::plot::{self, Format, PlotKind, PlotOptions};

const SIZE: (u32, u32) = (1000, 600);

fn repo(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .to_string_lossy()
        .into_owned()
}

fn microsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `scenario` with `extra` arguments into `out`.
fn run(scenario: &str, out: &Path, extra: &[&str]) {
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec!["run", scenario, "--out", &out_s, "--force"];
    args.extend_from_slice(extra);
    let o = microsim(&args);
    assert!(o.status.success(), "microsim run failed\n{}", text(&o));
    assert!(out.join("summary.json").is_file());
}

fn small_chairs(out: &Path, replications: &str) {
    run(
        &repo("scenarios/musical_chairs_small.toml"),
        out,
        &["--replications", replications],
    );
}

fn small_lottery(out: &Path, replications: &str) {
    run(
        &repo("scenarios/mamma_mia.toml"),
        out,
        &[
            "--replications",
            replications,
            "--set",
            "model.items=6000",
            "--set",
            "model.bins=20000",
        ],
    );
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|x| x.to_str()) == Some(ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn a_run_gets_every_kind_of_plot_and_each_png_is_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chairs");
    small_chairs(&dir, "6");
    let report = plot::draw(&dir, &PlotOptions::default()).expect("draws");
    assert_eq!(
        report.report.as_deref(),
        Some(dir.join("report.html").as_path())
    );
    let pngs = files(&dir.join("plots"), "png");
    let svgs = files(&dir.join("plots"), "svg");
    let names: Vec<String> = pngs.iter().map(|p| stem(p)).collect();
    for want in [
        "distribution_claims_granted",
        "cdf_claims_granted",
        "convergence_claims_granted",
        "histogram_points",
        "steps_tasks",
        "steps_messages",
        "steps_time",
        "steps_counters",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "no {want}.png in {names:?}"
        );
    }
    assert_eq!(
        svgs.iter().map(|p| stem(p)).collect::<Vec<_>>(),
        names,
        "every plot comes as PNG and SVG"
    );
    assert_eq!(report.written.len(), pngs.len() + svgs.len());
    for p in &pngs {
        assert_png_ok(p);
    }
    // The engine's own histograms are not model histograms.
    assert!(
        !names.iter().any(|n| n.contains("step_time_us")),
        "{names:?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("plots/plots.json")).unwrap()).unwrap();
    assert_eq!(manifest["plots"].as_array().unwrap().len(), pngs.len());
}

#[test]
fn svgs_are_well_formed_and_carry_title_and_axis_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lottery");
    small_lottery(&dir, "5");
    plot::draw(&dir, &PlotOptions::default()).expect("draws");
    let plots = dir.join("plots");
    let svgs = files(&plots, "svg");
    assert!(svgs.len() >= 8, "{svgs:?}");
    for p in &svgs {
        let doc = fs::read_to_string(p).unwrap();
        let content = check_xml(&doc).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            content.contains("mamma_mia"),
            "{}: no scenario in the title",
            p.display()
        );
    }
    let content = |name: &str| check_xml(&fs::read_to_string(plots.join(name)).unwrap()).unwrap();
    let d = content("distribution_bins_with_1.svg");
    for want in [
        "bins_with_1 over 5 replications",
        "bins_with_1 (bins)",
        "replications",
        "mean",
        "95% CI",
    ] {
        assert!(d.contains(want), "distribution SVG lacks `{want}`: {d}");
    }
    // Copies per bin: a log count axis so that the rare tail shows.
    let h = content("histogram_copies_per_bin.svg");
    for want in ["copies per bin", "bins (log scale)", "mamma_mia"] {
        assert!(h.contains(want), "copies-per-bin SVG lacks `{want}`: {h}");
    }
    let s = content("steps_messages.svg");
    for want in [
        "cross-shard",
        "local (same shard)",
        "step",
        "messages per step",
    ] {
        assert!(s.contains(want), "steps SVG lacks `{want}`: {s}");
    }
}

#[test]
fn tick_labels_of_large_counts_are_short() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lottery");
    small_lottery(&dir, "4");
    plot::draw(
        &dir,
        &PlotOptions {
            formats: vec![Format::Svg],
            ..Default::default()
        },
    )
    .unwrap();
    let doc = fs::read_to_string(dir.join("plots/histogram_copies_per_bin.svg")).unwrap();
    let content = check_xml(&doc).unwrap();
    // 80,000 bins over 4 replications: the count axis says 10k, not 10000.
    assert!(content.contains("10k"), "{content}");
    assert!(!content.contains("10000 "), "{content}");
}

#[test]
fn the_report_refers_only_to_files_that_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chairs");
    small_chairs(&dir, "4");
    plot::draw(&dir, &PlotOptions::default()).unwrap();
    let html = assert_report_ok(&dir);
    for want in [
        "musical_chairs_small",
        "musical_chairs",
        "claims_granted",
        "95% CI",
        "plots/histogram_points.png",
        "replications",
        "elapsed",
        "seed",
    ] {
        assert!(html.contains(want), "report.html lacks `{want}`");
    }
}

#[test]
fn one_replication_skips_the_across_replication_plots_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("one");
    small_chairs(&dir, "1");
    let report = plot::draw(&dir, &PlotOptions::default()).expect("a 1-replication run draws");
    let names: Vec<String> = files(&dir.join("plots"), "png")
        .iter()
        .map(|p| stem(p))
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("distribution_")
            || n.starts_with("cdf_")
            || n.starts_with("convergence_")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "histogram_points"), "{names:?}");
    assert!(names.iter().any(|n| n == "steps_tasks"), "{names:?}");
    let note = report
        .skipped
        .iter()
        .find(|s| s.reason.contains("only 1 replication"))
        .unwrap_or_else(|| panic!("no note in {:?}", report.skipped));
    let html = assert_report_ok(&dir);
    assert!(html.contains(&note.reason), "the report shows the note");
}

#[test]
fn constant_metrics_and_single_step_runs_are_skipped_not_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pi");
    run(
        &repo("scenarios/pi.toml"),
        &dir,
        &[
            "--replications",
            "5",
            "--set",
            "model.points=20000",
            "--set",
            "model.tasks=20",
        ],
    );
    let report = plot::draw(&dir, &PlotOptions::default()).unwrap();
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.plot == "step series" && s.reason.contains("single step")),
        "{:?}",
        report.skipped
    );
    assert!(dir.join("plots/histogram_inside_per_task.png").is_file());
    assert!(dir.join("plots/distribution_pi_estimate.png").is_file());
    assert_report_ok(&dir);

    let lot = tmp.path().join("lottery");
    small_lottery(&lot, "3");
    let report = plot::draw(&lot, &PlotOptions::default()).unwrap();
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.plot.contains("bins_with_10") && s.reason.contains("constant")),
        "{:?}",
        report.skipped
    );
    assert!(!lot.join("plots/distribution_bins_with_10.png").exists());
}

#[test]
fn a_sweep_gets_one_plot_per_compared_metric_and_the_sweep_table() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("sweep.toml");
    fs::write(
        &scenario,
        r#"
[scenario]
name = "tiny_whatif"
model = "gift_lottery"

[model]
items = 3000
bins = 10000
weights = "zipf"

[run]
seed = 7
shards = 2

[montecarlo]
replications = 4

[sweep]
baseline = 0
compare = ["bins_with_1", "max_per_bin"]
common_random_numbers = true

[sweep.grid]
"model.items" = [3000, 4000]
"model.zipf_s" = [0.01, 0.5, 0.9]
"#,
    )
    .unwrap();
    let dir = tmp.path().join("sweep");
    run(&scenario.to_string_lossy(), &dir, &[]);
    let report = plot::draw(&dir, &PlotOptions::default()).unwrap();
    let names: Vec<String> = files(&dir.join("plots"), "png")
        .iter()
        .map(|p| stem(p))
        .collect();
    assert_eq!(
        names,
        [
            "sweep_bins_with_1",
            "sweep_difference_bins_with_1",
            "sweep_difference_max_per_bin",
            "sweep_max_per_bin"
        ],
        "{:?}",
        report.skipped
    );
    for p in files(&dir.join("plots"), "png") {
        assert_png_ok(&p);
    }
    let svg =
        check_xml(&fs::read_to_string(dir.join("plots/sweep_bins_with_1.svg")).unwrap()).unwrap();
    for want in [
        "bins_with_1 vs zipf_s",
        "model.zipf_s",
        "items = 3k",
        "items = 4k",
    ] {
        assert!(svg.contains(want), "sweep SVG lacks `{want}`: {svg}");
    }
    let html = assert_report_ok(&dir);
    for want in [
        "Sweep",
        "(baseline)",
        "model.zipf_s",
        "Δ vs baseline",
        // `microsim run` draws every variant's own report, and the sweep table links to it.
        "variants/005/report.html",
    ] {
        assert!(html.contains(want), "report.html lacks `{want}`");
    }

    // A variant is a result directory of its own; once drawn, the sweep report links to it.
    plot::draw(&dir.join("variants/001"), &PlotOptions::default()).unwrap();
    assert!(
        dir.join("variants/001/plots/distribution_bins_with_1.png")
            .is_file()
    );
    plot::draw(&dir, &PlotOptions::default()).unwrap();
    let html = assert_report_ok(&dir);
    assert!(
        html.contains("href=\"variants/001/report.html\""),
        "no link to the variant"
    );
}

#[test]
fn microsim_plot_redraws_with_a_format_and_a_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chairs");
    small_chairs(&dir, "4");
    let d = dir.to_string_lossy().into_owned();
    let o = microsim(&["plot", &d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("report.html"),
        "{}",
        text(&o)
    );
    let before = files(&dir.join("plots"), "png").len();
    assert!(before > 5);

    // Only the SVG of one metric is redrawn; the rest stays and the report still shows it.
    fs::remove_file(dir.join("plots/distribution_winners.svg")).unwrap();
    let o = microsim(&["plot", &d, "--format", "svg", "--metric", "winners"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.join("plots/distribution_winners.svg").is_file());
    assert_eq!(files(&dir.join("plots"), "png").len(), before);
    let html = assert_report_ok(&dir);
    assert!(html.contains("plots/histogram_points.png"));

    // Kinds can be chosen.
    let o = microsim(&["plot", &d, "--kind", "histograms,steps", "--format", "png"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_report_ok(&dir);
}

#[test]
fn microsim_plot_refuses_what_is_not_a_result_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let o = microsim(&["plot", &missing.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no such directory") && err.contains("microsim run"),
        "{}",
        text(&o)
    );

    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let o = microsim(&["plot", &empty.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("summary.json"),
        "{}",
        text(&o)
    );
    assert!(!empty.join("plots").exists(), "nothing is written");

    let dir = tmp.path().join("chairs");
    small_chairs(&dir, "3");
    let o = microsim(&["plot", &dir.to_string_lossy(), "--metric", "no_such_metric"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("winners"),
        "names the metrics\n{}",
        text(&o)
    );

    let o = microsim(&["plot", &dir.to_string_lossy(), "--format", "jpeg"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_full_draw_removes_stale_images_and_the_library_reports_bad_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chairs");
    small_chairs(&dir, "3");
    fs::create_dir_all(dir.join("plots")).unwrap();
    fs::write(dir.join("plots/left_over.png"), b"not a png").unwrap();
    plot::draw(&dir, &PlotOptions::default()).unwrap();
    assert!(!dir.join("plots/left_over.png").exists());

    let err = plot::draw(&tmp.path().join("missing"), &PlotOptions::default()).unwrap_err();
    assert!(
        matches!(err, plot::PlotError::NotAResultDir { .. }),
        "{err}"
    );
    assert_eq!(
        PlotKind::parse_list(&["all"]).unwrap(),
        PlotKind::ALL.to_vec()
    );
    assert!(PlotKind::parse_list(&["pie"]).is_err());
}

#[test]
fn damaged_files_skip_their_plots_and_the_rest_is_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chairs");
    small_chairs(&dir, "3");
    fs::write(
        dir.join("histograms/points.hlog"),
        "#[not a log]\nTag=x,1,2,3,@@@\n",
    )
    .unwrap();
    fs::write(dir.join("steps.csv"), "replication,step\n0,0,1\n").unwrap();
    let report = plot::draw(&dir, &PlotOptions::default()).expect("draws what it can");
    let skipped = |what: &str| report.skipped.iter().any(|s| s.plot.contains(what));
    assert!(skipped("histogram points"), "{:?}", report.skipped);
    assert!(skipped("step series"), "{:?}", report.skipped);
    assert!(dir.join("plots/distribution_winners.png").is_file());
    assert_report_ok(&dir);
}

#[test]
fn the_xml_check_rejects_broken_documents() {
    assert!(check_xml("<svg><text>a &amp; b</text></svg>").is_ok());
    for bad in [
        "<svg><text>a</svg>",
        "<svg><text x=1>a</text></svg>",
        "<svg>a & b</svg>",
        "<svg></svg><svg></svg>",
        "<svg><g></svg></g>",
        "<svg",
    ] {
        assert!(check_xml(bad).is_err(), "accepted {bad}");
    }
}
