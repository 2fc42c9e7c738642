//! A model written outside the crate, against the public API only, gets the whole tool.
//!
//! The model is an SIR epidemic on a torus: every day each person steps to a neighbouring
//! cell and reports its health there; at the end of the day each cell infects each
//! susceptible visitor with probability `1 − (1 − beta)^k`, `k` the infectious visitors of
//! the day, drawing from the cell's own stream ([`microsim::StepEndCtx::rng`]); an infected
//! person recovers after `infectious_days`. The run ends itself when nobody is infectious
//! ([`microsim::Model::stop`]), and the epidemic's peak and its day come from the per-step
//! series of a counter ([`microsim::Tally::peak`]), not from per-person histories.
//!
//! Through the registry and the command line (in-process, [`microsim::cli::run`]) it gets
//! replications, a precision target, a grid sweep with common random numbers, `compare`,
//! plots and report.html, and the same bytes at 1 and 2 threads × 1 and 3 shards.

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use microsim::{
    CellBlock, CellCtx, Checks, Codec, Counter, Ctx, End, Grid, Mail, Metric, Model, ModelParams,
    Next, Quantity, Registry, Report, StepEndCtx, Tally, TaskId, TaskRng, histogram,
};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use common::files::summary;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SirParams {
    people: u64,
    width: u64,
    height: u64,
    beta: f64,
    infectious_days: u32,
    initial_infected: u64,
}

impl Default for SirParams {
    fn default() -> Self {
        SirParams {
            people: 2000,
            width: 40,
            height: 40,
            beta: 0.3,
            infectious_days: 4,
            initial_infected: 5,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Health {
    Susceptible,
    Infectious { since: u32 },
    Recovered,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Person {
    x: u64,
    y: u64,
    health: Health,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Msg {
    /// "I am here today, and this is how I am."
    Here { infectious: bool },
    /// "You caught it."
    Infect,
}

/// One shard's cells: today's reports, kept for the end of the day.
#[derive(Serialize, Deserialize)]
struct Cells {
    reports: Vec<(usize, Mail<Msg>)>,
    infectious: Vec<u32>,
}

/// Cut and joined again when a checkpoint resumes at another shard count.
impl CellBlock for Cells {
    fn split_off(&mut self, _len: u64, at: u64) -> Self {
        let at = at as usize;
        let (mut kept, mut moved) = (Vec::new(), Vec::new());
        for (offset, mail) in self.reports.drain(..) {
            match offset.checked_sub(at) {
                Some(o) => moved.push((o, mail)),
                None => kept.push((offset, mail)),
            }
        }
        self.reports = kept;
        Cells {
            reports: moved,
            infectious: self.infectious.split_off(at),
        }
    }

    fn append(&mut self, len: u64, next: Self) {
        let len = len as usize;
        self.reports
            .extend(next.reports.into_iter().map(|(o, m)| (o + len, m)));
        self.infectious.extend(next.infectious);
    }
}

const COUNTERS: &[Quantity] = &[
    Quantity::new("new_infections", "people").about("people infected that day"),
    Quantity::new("infectious", "people").about("infectious people that day"),
];
const NEW: Counter = Counter::named(COUNTERS, "new_infections");
const INFECTIOUS: Counter = Counter::named(COUNTERS, "infectious");

const METRICS: &[Quantity] = &[
    Quantity::new("attack_rate", "").about("fraction of people ever infected"),
    Quantity::new("peak_infectious", "people"),
    Quantity::new("peak_day", "days"),
    Quantity::new("epidemic_days", "days"),
];
const ATTACK_RATE: Metric = Metric::named(METRICS, "attack_rate");
const PEAK: Metric = Metric::named(METRICS, "peak_infectious");
const PEAK_DAY: Metric = Metric::named(METRICS, "peak_day");
const DAYS: Metric = Metric::named(METRICS, "epidemic_days");

struct Sir {
    p: SirParams,
    grid: Grid,
}

impl Model for Sir {
    type Task = Person;
    type Msg = Msg;
    type Cells = Cells;
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;

    fn tasks(&self) -> u64 {
        self.p.people
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn spawn(&self, id: TaskId, rng: &mut TaskRng) -> Person {
        let health = if (id as u64) < self.p.initial_infected {
            Health::Infectious { since: 0 }
        } else {
            Health::Susceptible
        };
        Person {
            x: rng.random_range(0..self.p.width),
            y: rng.random_range(0..self.p.height),
            health,
        }
    }

    fn codec(&self) -> Option<Codec<Msg, Cells>> {
        Some(Codec::new())
    }

    fn cells(&self, range: std::ops::Range<u64>, _shards: usize) -> Cells {
        Cells {
            reports: Vec::new(),
            infectious: vec![0; (range.end - range.start) as usize],
        }
    }

    fn step(&self, p: &mut Person, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        let day = ctx.step();
        if p.health == Health::Susceptible && mail.iter().any(|m| m.msg == Msg::Infect) {
            p.health = Health::Infectious { since: day };
            ctx.count(NEW, 1);
        }
        if let Health::Infectious { since } = p.health
            && day >= since + self.p.infectious_days
        {
            p.health = Health::Recovered;
        }
        let (w, h) = (self.p.width, self.p.height);
        match ctx.rng().random_range(0..5u8) {
            0 => p.x = (p.x + 1) % w,
            1 => p.x = (p.x + w - 1) % w,
            2 => p.y = (p.y + 1) % h,
            3 => p.y = (p.y + h - 1) % h,
            _ => {}
        }
        let infectious = matches!(p.health, Health::Infectious { .. });
        ctx.count(INFECTIOUS, infectious as u64);
        if p.health != Health::Recovered {
            ctx.send_to_cell(self.grid.cell(p.x, p.y), Msg::Here { infectious });
        }
        Next::Continue
    }

    fn on_cell(&self, cells: &mut Cells, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        if let Msg::Here { infectious } = mail.msg {
            cells.infectious[ctx.offset()] += infectious as u32;
            cells.reports.push((ctx.offset(), mail));
        }
    }

    fn end_step(&self, cells: &mut Cells, ctx: &mut StepEndCtx<'_, Msg>) {
        // Each cell's visitors in delivery order; each cell draws from its own stream.
        cells.reports.sort_by_key(|(offset, _)| *offset);
        let mut i = 0;
        while i < cells.reports.len() {
            let offset = cells.reports[i].0;
            let end = i + cells.reports[i..].partition_point(|(o, _)| *o == offset);
            let k = cells.infectious[offset];
            if k > 0 {
                let p = 1.0 - (1.0 - self.p.beta).powi(k as i32);
                let mut rng = ctx.rng(offset);
                for (_, mail) in &cells.reports[i..end] {
                    if mail.msg == (Msg::Here { infectious: false }) && rng.random::<f64>() < p {
                        ctx.answer(mail, Msg::Infect);
                    }
                }
            }
            cells.infectious[offset] = 0;
            i = end;
        }
        cells.reports.clear();
    }

    fn stop(&self, tally: &Tally<'_>) -> bool {
        tally.steps() > 2 && tally.last(INFECTIOUS) == 0
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let ever = end
            .tasks()
            .filter(|(_, p)| p.health != Health::Susceptible)
            .count();
        let (peak_day, peak) = end.tally().peak(INFECTIOUS).unwrap_or((0, 0));
        let mut days = histogram(1000);
        for (_, p) in end.tasks() {
            if let Health::Infectious { since } = p.health {
                days.saturating_record(since as u64);
            }
        }
        let mut r = end.report();
        r.set(ATTACK_RATE, ever as f64 / self.p.people as f64)
            .set(PEAK, peak as f64)
            .set(PEAK_DAY, peak_day as f64)
            .set(DAYS, end.tally().steps() as f64)
            .histogram("infected_on_day", days)
            .details(serde_json::json!({ "new_infections": end.total(NEW) }));
        r
    }
}

impl ModelParams for SirParams {
    type Model = Sir;
    const NAME: &'static str = "sir";
    const SUMMARY: &'static str = "an SIR epidemic on a torus, contacts through cells";
    const STARTER: &'static str = "[model]\npeople = 2000\nwidth = 40\nheight = 40\nbeta = 0.3\ninfectious_days = 4\ninitial_infected = 5\n";

    fn check(&self, c: &mut Checks) {
        c.range("people", self.people, 1, 10_000_000);
        c.range("width", self.width, 1, 100_000);
        c.range("height", self.height, 1, 100_000);
        c.probability("beta", self.beta);
        c.range("infectious_days", self.infectious_days as u64, 1, 1000);
        c.range("initial_infected", self.initial_infected, 1, self.people);
    }

    fn build(&self) -> Sir {
        Sir {
            p: self.clone(),
            grid: Grid::new(self.width, self.height),
        }
    }
}

fn registry() -> Registry {
    Registry::builtin().with::<SirParams>()
}

fn microsim(args: &[&str]) -> ExitCode {
    let mut all = vec!["microsim"];
    all.extend(args);
    microsim::cli::run(registry(), all)
}

const SCENARIO: &str = r#"
[scenario]
name = "sir"
model = "sir"

[model]
people = 1500
width = 30
height = 30
beta = 0.3

[run]
seed = 11
shards = 3

[montecarlo]
replications = 8
"#;

fn scenario(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("sir.toml");
    std::fs::write(&path, format!("{SCENARIO}{extra}")).unwrap();
    path
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[test]
fn the_user_model_gives_the_same_bytes_at_any_thread_and_shard_count() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(tmp.path(), "\n[output]\nplots = []\n");
    let mut seen: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = None;
    for (threads, shards) in [("1", "1"), ("2", "1"), ("1", "3"), ("2", "3")] {
        let out = tmp.path().join(format!("t{threads}s{shards}"));
        let set = format!("run.shards={shards}");
        let code = microsim(&[
            "run",
            arg(&file),
            "--out",
            arg(&out),
            "--quiet",
            "--threads",
            threads,
            "--set",
            &set,
        ]);
        assert_eq!(code, ExitCode::SUCCESS);
        let got = (
            read(&out, "replications.csv"),
            read(&out, "details.json"),
            read(&out, "histograms/infected_on_day.hlog"),
        );
        match &seen {
            None => seen = Some(got),
            Some(first) => assert!(
                *first == got,
                "threads {threads}, shards {shards} differ from threads 1, shards 1"
            ),
        }
    }
    let s = summary(&tmp.path().join("t1s1"));
    // The model ended its runs itself (nobody infectious), recorded as finished.
    assert_eq!(s["endings"]["finished"], 8, "{s:#}");
    let attack = s["metrics"]["attack_rate"]["mean"].as_f64().unwrap();
    assert!(attack > 0.01 && attack <= 1.0, "attack rate {attack}");
    // Names and units come from the model's declarations.
    let declared = &s["declared"]["metrics"];
    assert_eq!(declared[1]["name"], "peak_infectious");
    assert_eq!(declared[1]["unit"], "people");
}

#[test]
fn the_user_model_resumes_from_a_checkpoint_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(tmp.path(), "\n[output]\nplots = []\n");
    let run = |name: &str, sets: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec!["run", arg(&file), "--out", arg(&out), "--quiet"];
        args.extend_from_slice(&["--replications", "1", "--threads", "1"]);
        for s in sets {
            args.extend_from_slice(&["--set", s]);
        }
        assert_eq!(microsim(&args), ExitCode::SUCCESS);
        out
    };
    let straight = run("straight", &[]);
    let checkpointed = run(
        "checkpointed",
        &["run.checkpoint_every=3", "run.checkpoint_keep=1000"],
    );
    let first = checkpointed.join("checkpoints/step-000003.ckpt");
    let resumed = tmp.path().join("resumed");
    let code = microsim(&[
        "resume",
        arg(&first),
        "--out",
        arg(&resumed),
        "--quiet",
        "--threads",
        "2",
        "--set",
        "run.shards=5",
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    for f in [
        "replications.csv",
        "details.json",
        "histograms/infected_on_day.hlog",
    ] {
        assert!(read(&straight, f) == read(&resumed, f), "{f} differs");
    }
    assert_eq!(summary(&straight)["metrics"], summary(&resumed)["metrics"]);
}

#[test]
fn a_precision_target_adds_replications_until_the_interval_is_tight() {
    let tmp = tempfile::tempdir().unwrap();
    let extra = "target = { metric = \"attack_rate\", ci_half_width = 0.03, batch = 8, \
                 max_replications = 200 }\n[output]\nplots = []\n";
    let file = scenario(tmp.path(), extra);
    let out = tmp.path().join("target");
    let code = microsim(&["run", arg(&file), "--out", arg(&out), "--quiet"]);
    assert_eq!(code, ExitCode::SUCCESS);
    let s = summary(&out);
    let t = &s["target"];
    assert_eq!(t["reached"], true, "{s:#}");
    let half = t["achieved_half_width"].as_f64().unwrap();
    assert!(half <= 0.03);
    let n = s["replications"].as_u64().unwrap();
    assert!(n >= 8 && n.is_multiple_of(8), "checks at 8, 16, 24 …: {n}");
    let ci = &s["metrics"]["attack_rate"]["ci"];
    let width = ci[1].as_f64().unwrap() - ci[0].as_f64().unwrap();
    assert!((width / 2.0 - half).abs() < 1e-12);
}

#[test]
fn a_sweep_with_common_random_numbers_compares_paired_and_compare_works() {
    let tmp = tempfile::tempdir().unwrap();
    let extra = "\n[sweep]\ncommon_random_numbers = true\n[sweep.grid]\n\"model.beta\" = [0.15, 0.45]\n\n[output]\nplots = [\"sweep\", \"distribution\"]\n";
    let file = scenario(tmp.path(), extra);
    let out = tmp.path().join("sweep");
    let code = microsim(&["run", arg(&file), "--out", arg(&out), "--quiet"]);
    assert_eq!(code, ExitCode::SUCCESS);
    let s = summary(&out);
    let v1 = &s["sweep"]["variants"][1];
    let d = &v1["vs_baseline"]["attack_rate"];
    assert_eq!(d["method"], "paired");
    assert!(
        d["mean"].as_f64().unwrap() > 0.0,
        "more infectious, more infected: {d}"
    );
    assert_eq!(d["significant"], true, "{d}");
    assert!(out.join("report.html").is_file() && out.join("sweep.csv").is_file());
    let plots: Vec<_> = std::fs::read_dir(out.join("plots")).unwrap().collect();
    assert!(!plots.is_empty());
    // compare: two variants of the same model compare (exit 0); a run of another model is
    // refused as bad input (exit 2).
    let (a, b) = (out.join("variants/000"), out.join("variants/001"));
    assert_eq!(
        microsim(&["compare", arg(&a), arg(&b), "--json"]),
        ExitCode::SUCCESS
    );
    let pi = tmp.path().join("pi");
    let pi_file = tmp.path().join("pi.toml");
    std::fs::write(
        &pi_file,
        "[scenario]\nmodel = \"pi\"\n[model]\npoints = 1000\ntasks = 10\n[output]\nplots = []\n",
    )
    .unwrap();
    let code = microsim(&["run", arg(&pi_file), "--out", arg(&pi), "--quiet"]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(microsim(&["compare", arg(&a), arg(&pi)]), ExitCode::from(2));
}

#[test]
fn list_new_and_check_know_the_user_model_and_its_errors_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(microsim(&["list"]), ExitCode::SUCCESS);
    let starter = tmp.path().join("starter.toml");
    assert_eq!(microsim(&["new", "sir", arg(&starter)]), ExitCode::SUCCESS);
    let text = std::fs::read_to_string(&starter).unwrap();
    assert!(text.contains("model = \"sir\"") && text.contains("infectious_days = 4"));
    assert_eq!(microsim(&["check", arg(&starter)]), ExitCode::SUCCESS);
    // A bad value is bad input, exit 2; the built-in binary does not know the model at all.
    let bad = scenario(tmp.path(), "");
    let code = microsim(&["check", arg(&bad), "--set", "model.beta=1.5"]);
    assert_eq!(code, ExitCode::from(2));
    let code = microsim::cli::run(Registry::builtin(), ["microsim", "check", arg(&bad)]);
    assert_eq!(code, ExitCode::from(2));
}
