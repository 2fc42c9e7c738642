//! Fuzzing scenario loading: texts made by mutating the shipped scenarios (lines deleted,
//! duplicated, swapped or inserted; values replaced by numbers small, huge and negative,
//! strings, booleans, dates, arrays and inline tables nested past the parser's limit; random
//! bytes and invalid UTF-8; the text cut short), loaded with random `--set` overrides. Whatever
//! comes in:
//!
//! - loading never panics;
//! - every refusal names the file and a field (`field: ...`), as the bad-input corpus does;
//! - every accepted scenario has a memory estimate, and its resolved TOML loads again.
//!
//! CI runs the default number of cases (a few seconds in a debug build); a long campaign sets
//! `PROPTEST_CASES`, e.g. `PROPTEST_CASES=200000 cargo test --release --test fuzz_scenarios`.
//! A failing case is shrunk and saved in `tests/fuzz_scenarios.proptest-regressions`, and is
//! run first from then on.

use std::path::Path;

use microsim::Registry;
use microsim::internal::scenario::Override;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

/// The cases run when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 10_000;

/// The texts mutated: the shipped scenarios, and one with every sweep feature.
const SEEDS: &[&str] = &[
    include_str!("../scenarios/birthday.toml"),
    include_str!("../scenarios/mamma_mia.toml"),
    include_str!("../scenarios/mamma_mia_whatif.toml"),
    include_str!("../scenarios/musical_chairs.toml"),
    include_str!("../scenarios/musical_chairs_small.toml"),
    include_str!("../scenarios/pi.toml"),
    include_str!("../scenarios/random_walkers.toml"),
    "[scenario]\nname = \"sampled\"\nmodel = \"gift_lottery\"\n\n[model]\nitems = 100\nbins = 1000\n\
     weights = \"zipf\"\n\n[run]\nseed = 3\nshards = 4\n\n[montecarlo]\nreplications = 4\n\
     confidence = 0.9\n\n[output]\nplots = [\"sweep\"]\n\n[sweep]\nbaseline = 1\n\
     compare = [\"bins_empty\"]\ncommon_random_numbers = false\n\n[sweep.grid]\n\
     \"model.items\" = [100, 200]\n\"run.order\" = [\"by_id\", \"shuffled\"]\n\n\
     [sweep.sample]\nmethod = \"latin_hypercube\"\ncount = 3\n\
     ranges = { \"model.zipf_s\" = [0.5, 2.0], \"model.bins\" = [500, 2000] }\n",
];

/// The file name the texts are loaded as (with a space: the default name is made safe).
const FILE: &str = "fuzz case.toml";

const SECTIONS: &[&str] = &[
    "scenario",
    "model",
    "run",
    "montecarlo",
    "output",
    "sweep",
    "sweep.grid",
    "sweep.sample",
    "sweep.sample.ranges",
    "montecarlo.target",
    "modle",
];

const KEYS: &[&str] = &[
    "name",
    "description",
    "model",
    "robots",
    "width",
    "height",
    "rounds",
    "items",
    "bins",
    "weights",
    "zipf_s",
    "lognormal_sigma",
    "keep_fraction",
    "interaction",
    "max_retries",
    "points",
    "tasks",
    "points_per_step",
    "people",
    "days",
    "seed",
    "shards",
    "threads",
    "order",
    "quantum",
    "max_steps",
    "histograms",
    "replications",
    "confidence",
    "target",
    "metric",
    "ci_half_width",
    "batch",
    "max_replications",
    "dir",
    "plots",
    "grid",
    "sample",
    "baseline",
    "compare",
    "common_random_numbers",
    "method",
    "count",
    "ranges",
    "\"model.items\"",
    "\"model.robots\"",
    "\"model.zipf_s\"",
    "\"run.threads\"",
    "\"run.seed\"",
    "\"montecarlo.replications\"",
    "\"sweep.baseline\"",
    "\"output.dir\"",
    "\"scenario.model\"",
    "\"model\"",
    "\"model.items.x\"",
];

const WORDS: &[&str] = &[
    "\"\"",
    "\"/dev/null\"",
    "\"/etc/passwd\"",
    "\"../x\"",
    "\"out put\"",
    "\"all\"",
    "\"cdf\"",
    "\"uniform\"",
    "\"zipf\"",
    "\"lognormal\"",
    "\"by_id\"",
    "\"shuffled\"",
    "\"random\"",
    "\"latin_hypercube\"",
    "\"musical_chairs\"",
    "\"gift_lottery\"",
    "\"pi\"",
    "\"birthday\"",
    "\"bins_empty\"",
    "\"winners\"",
    "\"a\\u0000b\"",
    "1979-05-27T07:32:00Z",
];

/// Numbers past what TOML or the fields hold.
const HUGE: &[&str] = &[
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "99999999999999999999",
    "4294967296",
    "17592186044417",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "16",
    "100",
    "-1",
    "-0",
    "1_000_000",
    "0x10",
    "0.0",
    "-0.0",
    "0.5",
    "1.5",
    "1e308",
    "1e-320",
    "inf",
    "-inf",
    "nan",
];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_string)
}

/// A TOML key: a known field, a quoted sweep field, or a random word.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => pick(KEYS), 1 => "[a-z_]{1,8}"]
}

/// A TOML value, as text.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => pick(NUMBERS),
        1 => pick(HUGE),
        2 => (-10i64..2000).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|f| format!("{f:?}")),
        2 => pick(WORDS),
        1 => "[ -~]{0,12}".prop_map(|s| format!("{s:?}")),
        1 => any::<bool>().prop_map(|b| b.to_string()),
    ];
    let nested = leaf.clone().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kv| {
                let kv: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", kv.join(", "))
            }),
        ]
    });
    prop_oneof![
        16 => leaf,
        4 => nested,
        1 => (60usize..120).prop_map(|d| format!("{}1{}", "[".repeat(d), "]".repeat(d))),
        1 => (60usize..120).prop_map(|d| format!("{}1{}", "{ a = ".repeat(d), " }".repeat(d))),
    ]
}

/// A line to insert: a `key = value`, a dotted key, or a section header.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (key(), value()).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => (pick(SECTIONS), key(), value()).prop_map(|(s, k, v)| format!("{s}.{k} = {v}")),
        2 => pick(SECTIONS).prop_map(|s| format!("[{s}]")),
        1 => pick(SECTIONS).prop_map(|s| format!("[[{s}]]")),
        1 => (70usize..110).prop_map(|n| format!("[model.{}]", vec!["a"; n].join("."))),
        1 => "[ -~]{0,20}",
    ]
}

/// Fields a sweep may vary, and some it may not.
const SWEPT: &[&str] = &[
    "model.items",
    "model.bins",
    "model.zipf_s",
    "model.keep_fraction",
    "model.robots",
    "model.width",
    "model.rounds",
    "model.points",
    "model.people",
    "model.days",
    "model.itmes",
    "model.items.x",
    "run.shards",
    "run.threads",
    "run.order",
    "run.quantum",
    "run.max_steps",
    "run.histograms",
    "run.seed",
    "montecarlo.replications",
    "montecarlo.confidence",
    "scenario.name",
    "scenario.model",
    "output.dir",
    "sweep.baseline",
    "sweep.grid",
    "model",
    "modle.items",
];

/// A `[sweep]` with a grid and/or sampled ranges of the fields above.
fn sweep() -> impl Strategy<Value = String> {
    let grid = prop::collection::vec(
        (
            pick(SWEPT),
            prop::collection::vec(prop_oneof![3 => pick(NUMBERS), 1 => value()], 0..4),
        ),
        0..4,
    );
    let ranges = prop::collection::vec(
        (
            pick(SWEPT),
            prop::collection::vec(prop_oneof![3 => pick(NUMBERS), 1 => value()], 1..4),
        ),
        0..3,
    );
    let head = (
        prop::option::of(0u64..8),
        any::<bool>(),
        prop::option::of(prop::collection::vec(pick(WORDS), 0..3)),
    );
    (
        head,
        grid,
        prop::option::of((0u64..40, any::<bool>(), ranges)),
    )
        .prop_map(|((baseline, crn, compare), grid, sample)| {
            let list = |v: &[String]| v.join(", ");
            let mut t = String::from("[sweep]\n");
            if let Some(b) = baseline {
                t += &format!("baseline = {b}\n");
            }
            t += &format!("common_random_numbers = {crn}\n");
            if let Some(c) = compare {
                t += &format!("compare = [{}]\n", list(&c));
            }
            t += "[sweep.grid]\n";
            for (k, v) in grid {
                t += &format!("\"{k}\" = [{}]\n", list(&v));
            }
            if let Some((count, lhs, ranges)) = sample {
                let method = if lhs { "latin_hypercube" } else { "random" };
                t += &format!("[sweep.sample]\nmethod = \"{method}\"\ncount = {count}\n");
                let r: Vec<String> = ranges
                    .iter()
                    .map(|(k, v)| format!("\"{k}\" = [{}]", list(v)))
                    .collect();
                t += &format!("ranges = {{ {} }}\n", r.join(", "));
            }
            t
        })
}

/// One change to a text, held as lines of bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    /// The value of a `key = value` line (or the line, if it has none).
    Replace(Index, String),
    Insert(Index, String),
    /// Raw bytes (invalid UTF-8, NUL, controls) inside a line.
    Bytes(Index, Index, Vec<u8>),
    Truncate(Index),
    /// A `[sweep]` put in place of the text's own, at the end.
    Sweep(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<Index>;
    prop_oneof![
        2 => i().prop_map(Mutation::Delete),
        1 => i().prop_map(Mutation::Duplicate),
        1 => (i(), i()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        12 => (i(), value()).prop_map(|(a, v)| Mutation::Replace(a, v)),
        4 => (i(), line()).prop_map(|(a, l)| Mutation::Insert(a, l)),
        1 => (i(), i(), prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(a, b, v)| Mutation::Bytes(a, b, v)),
        1 => i().prop_map(Mutation::Truncate),
        2 => sweep().prop_map(Mutation::Sweep),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    for m in mutations {
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let n = lines.len();
        match m {
            Mutation::Delete(i) => {
                lines.remove(i.index(n));
            }
            Mutation::Duplicate(i) => {
                let l = lines[i.index(n)].clone();
                lines.insert(i.index(n), l);
            }
            Mutation::Swap(a, b) => lines.swap(a.index(n), b.index(n)),
            Mutation::Replace(i, v) => {
                // The first `key = value` line from the chosen one on (wrapping around).
                let start = i.index(n);
                let at = (0..n)
                    .map(|k| (start + k) % n)
                    .find(|&k| lines[k].contains(&b'=') && !lines[k].starts_with(b"#"))
                    .unwrap_or(start);
                let l = &mut lines[at];
                match l.iter().position(|&b| b == b'=') {
                    Some(eq) => {
                        l.truncate(eq + 1);
                        l.push(b' ');
                        l.extend_from_slice(v.as_bytes());
                    }
                    None => *l = v.as_bytes().to_vec(),
                }
            }
            Mutation::Insert(i, l) => lines.insert(i.index(n + 1), l.as_bytes().to_vec()),
            Mutation::Bytes(i, at, bytes) => {
                let l = &mut lines[i.index(n)];
                let at = at.index(l.len() + 1);
                l.splice(at..at, bytes.iter().copied());
            }
            Mutation::Truncate(i) => lines.truncate(i.index(n + 1)),
            Mutation::Sweep(text) => {
                if let Some(at) = lines.iter().position(|l| l.starts_with(b"[sweep")) {
                    lines.truncate(at);
                }
                lines.extend(text.lines().map(|l| l.as_bytes().to_vec()));
            }
        }
    }
    lines.join(&b'\n').into_iter().chain([b'\n']).collect()
}

/// A `--set` text: mostly `section.key=value`, sometimes garbage.
fn set() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (pick(SECTIONS), key(), value()).prop_map(|(s, k, v)| format!("{s}.{k}={v}")),
        2 => (pick(SWEPT), value()).prop_map(|(f, v)| format!("{f}={v}")),
        1 => "[ -~]{0,16}",
    ]
}

/// Loads `text` with `sets` and checks the properties above.
fn check(text: &[u8], sets: &[String]) -> Result<(), TestCaseError> {
    let mut overrides = Vec::new();
    for s in sets {
        match s.parse::<Override>() {
            Ok(o) => overrides.push(o),
            // A malformed --set is refused before any file is read.
            Err(e) => prop_assert!(e.to_string().contains("--set"), "{e}"),
        }
    }
    let registry = Registry::builtin();
    match registry.parse(text, Path::new(FILE), &overrides) {
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.contains(FILE), "no file name in:\n{msg}");
            prop_assert!(msg.contains("\n  field: "), "no field in:\n{msg}");
        }
        Ok(scenario) => {
            let estimate = scenario.estimate_memory();
            prop_assert!(estimate.total >= estimate.per_replication);
            let resolved = scenario.resolved_toml();
            let again = registry.parse(resolved.as_bytes(), Path::new(FILE), &[]);
            prop_assert!(
                again.is_ok(),
                "the resolved scenario does not load again: {}\n{resolved}",
                again.unwrap_err()
            );
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/fuzz_scenarios.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_scenarios_are_loaded_or_refused_with_a_place_and_a_field(
        seed in 0..SEEDS.len(),
        mutations in prop::collection::vec(mutation(), 0..5),
        sets in prop::collection::vec(set(), 0..3),
    ) {
        check(&apply(SEEDS[seed], &mutations), &sets)?;
    }
}

/// The properties hold for the shipped scenarios themselves, unmutated.
#[test]
fn the_shipped_scenarios_load() {
    for text in &SEEDS[..SEEDS.len() - 1] {
        check(text.as_bytes(), &[]).unwrap();
    }
}
