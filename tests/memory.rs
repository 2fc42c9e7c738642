//! The memory budget must be an upper bound: a run the check lets through must not use more
//! than the estimate (no run may drive the machine into swap). Each case runs the
//! real binary and compares the peak resident memory it reports (Linux `VmHWM`) with the
//! estimate it checked against.

use std::process::Command;

fn peak_and_estimate(args: &[&str]) -> (u64, u64) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args(["run", "-q", "--out", out.to_str().unwrap()])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "microsim run {args:?} failed");
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = &summary["manifest"];
    (
        m["peak_rss_bytes"].as_u64().unwrap_or(0),
        m["memory_estimate_bytes"].as_u64().unwrap(),
    )
}

#[test]
fn runs_stay_within_their_memory_estimate() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc: peak memory is not reported on this OS; nothing to compare");
        return;
    }
    let dir = env!("CARGO_MANIFEST_DIR");
    let chairs = format!("{dir}/scenarios/musical_chairs.toml");
    let mamma = format!("{dir}/scenarios/mamma_mia.toml");
    let whatif = format!("{dir}/scenarios/mamma_mia_whatif.toml");
    let pi = format!("{dir}/scenarios/pi.toml");
    let cases: Vec<Vec<&str>> = vec![
        // Dense chairs: 1M claims on 25M cells (a bitmap).
        vec![
            &chairs,
            "--set",
            "model.robots=200000",
            "--set",
            "model.width=5000",
            "--set",
            "model.height=5000",
            "--set",
            "model.rounds=5",
        ],
        // Sparse chairs: 1M claims on 900M cells (hash sets).
        vec![
            &chairs,
            "--set",
            "model.robots=200000",
            "--set",
            "model.width=30000",
            "--set",
            "model.height=30000",
            "--set",
            "model.rounds=5",
        ],
        // Replications in parallel, the source notes' lottery.
        vec![&mamma, "--replications", "6"],
        // A model that builds costly state on first use (a 4M-bin alias table): built once
        // per run, by the model that runs (a second model built at the end for what it
        // expects, as before, built the table again: 1.10x the estimate).
        vec![
            &mamma,
            "--replications",
            "1",
            "--set",
            "model.items=10",
            "--set",
            "model.bins=4000000",
            "--set",
            "model.weights=\"zipf\"",
            "--set",
            "output.plots=[]",
        ],
        // A sweep: variants one after another.
        vec![&whatif, "--replications", "2", "--set", "output.plots=[]"],
        // What grows with steps: one point per step over 300k steps (each step's row and
        // counters once stayed in memory: 8.5x the estimate at 1M steps).
        vec![
            &pi,
            "--replications",
            "2",
            "--set",
            "model.points=300000",
            "--set",
            "model.tasks=1",
            "--set",
            "model.points_per_step=1",
            "--set",
            "output.plots=[]",
        ],
        // Interaction: the bins' answers and the items' new offers are in flight at once
        // (peaked at 1.3x an estimate that counted one of them).
        vec![
            &mamma,
            "--replications",
            "1",
            "--set",
            "model.interaction=1.0",
            "--set",
            "model.bins=1000",
            "--set",
            "model.items=4200000",
            "--set",
            "output.plots=[]",
        ],
        // A retry storm: one gift, one bin that always has it, a retry every two steps.
        vec![
            &mamma,
            "--replications",
            "1",
            "--set",
            "model.items=1",
            "--set",
            "model.bins=1",
            "--set",
            "model.interaction=1",
            "--set",
            "model.max_retries=150000",
            "--set",
            "run.shards=1",
            "--set",
            "output.plots=[]",
        ],
    ];
    for args in cases {
        let (peak, estimate) = peak_and_estimate(&args);
        eprintln!(
            "{:>5.1}% of the estimate: {args:?}",
            100.0 * peak as f64 / estimate as f64
        );
        assert!(peak > 0, "{args:?}: no peak memory reported");
        assert!(
            peak <= estimate,
            "{args:?}: peak {peak} B exceeds the estimate {estimate} B"
        );
    }
}

/// `sh -c SCRIPT` with the binary's path in `$MICROSIM`.
fn sh(script: &str) -> std::process::Output {
    Command::new("sh")
        .args(["-c", script])
        .env("MICROSIM", env!("CARGO_BIN_EXE_microsim"))
        .output()
        .unwrap()
}

#[test]
fn the_budget_refuses_before_anything_is_allocated_in_proportion() {
    // A Zipf lottery over 4·10⁹ bins needs ~48 GiB (counts and the alias table). Checking it
    // must not build either: under a 2 GiB address-space limit the check still answers, with
    // the budget's refusal (exit 2), not an allocation failure (abort).
    let dir = env!("CARGO_MANIFEST_DIR");
    let script = format!(
        "ulimit -v 2097152 && \"$MICROSIM\" check {dir}/scenarios/mamma_mia.toml \
         --set model.weights=\"zipf\" --set model.bins=4000000000 --set model.items=1000"
    );
    let out = sh(&script);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("of memory, more than"), "{stderr}");
    assert!(!stderr.contains("allocation"), "{stderr}");
}

/// Runs `sh -c SCRIPT` (with `$MICROSIM`) inside a memory cgroup of its own limited to 256
/// MiB, where the machine lets this process make one (`None`: it does not).
fn in_cgroup(script: &str) -> Option<std::process::Output> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let (base, limit_file) = own.lines().find_map(|l| {
        let mut p = l.splitn(3, ':');
        let (_, ctl, path) = (p.next()?, p.next()?, p.next()?);
        if ctl.split(',').any(|c| c == "memory") {
            Some((
                format!("/sys/fs/cgroup/memory{path}"),
                "memory.limit_in_bytes",
            ))
        } else if ctl.is_empty()
            && std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        {
            Some((format!("/sys/fs/cgroup{path}"), "memory.max"))
        } else {
            None
        }
    })?;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let group = format!(
        "{}/microsim-test-{}-{}",
        base.trim_end_matches('/'),
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    if std::fs::create_dir(&group).is_err()
        || std::fs::write(format!("{group}/{limit_file}"), "268435456").is_err()
    {
        let _ = std::fs::remove_dir(&group);
        eprintln!("skipped: cannot create a memory cgroup under {base} (not root, or delegated)");
        return None;
    }
    let out = sh(&format!("echo $$ > {group}/cgroup.procs && {script}"));
    let _ = std::fs::remove_dir(&group);
    Some(out)
}

#[test]
fn a_cgroup_memory_limit_is_the_budget_inside_it() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let Some(out) = in_cgroup(&format!(
        "exec \"$MICROSIM\" check {dir}/scenarios/musical_chairs_small.toml"
    )) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("memory estimate"))
        .unwrap_or_else(|| panic!("no memory estimate in {stdout}"));
    assert!(
        line.contains("cgroup"),
        "the limit should come from the cgroup: {line}"
    );
    // 70% of at most 256 MiB.
    assert!(line.contains("MiB"), "{line}");
}

#[test]
fn max_memory_above_a_cgroup_limit_is_refused_with_a_message() {
    // Asked for 8 GiB inside 256 MiB, a run of 1.3 GiB passed the budget and was killed by the
    // kernel (exit 137, no message); now --max-memory is refused, naming the limit.
    let dir = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let Some(out) = in_cgroup(&format!(
        "exec \"$MICROSIM\" run {dir}/scenarios/musical_chairs.toml --max-memory 8G --out {}/x \
         --set model.robots=5000000 --set output.plots=[]",
        tmp.path().display()
    )) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--max-memory 8G") && stderr.contains("cgroup"),
        "{stderr}"
    );
    assert!(!tmp.path().join("x").exists(), "nothing ran");
}

/// Every combination of `axes` (field, values), as `--set field=value` arguments.
fn grid(axes: &[(&str, &[&str])]) -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    for (field, values) in axes {
        all = all
            .into_iter()
            .flat_map(|done: Vec<String>| {
                values.iter().map(move |v| {
                    let mut next = done.clone();
                    next.extend(["--set".to_string(), format!("{field}={v}")]);
                    next
                })
            })
            .collect();
    }
    all
}

#[test]
#[ignore = "minutes: CI runs it (cargo test -- --ignored)"]
fn the_estimate_bounds_the_peak_over_a_grid_of_every_models_parameters() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc: peak memory is not reported on this OS; nothing to compare");
        return;
    }
    let dir = env!("CARGO_MANIFEST_DIR");
    type Axes<'a> = Vec<(&'a str, &'a [&'a str])>;
    let models: Vec<(String, Axes)> = vec![
        (
            format!("{dir}/scenarios/musical_chairs.toml"),
            vec![
                ("model.robots", &["20000", "400000"][..]),
                ("model.width", &["700", "20000"][..]),
                ("model.height", &["700", "20000"][..]),
                ("model.rounds", &["2", "6"][..]),
                ("montecarlo.replications", &["1", "4"][..]),
            ],
        ),
        (
            format!("{dir}/scenarios/mamma_mia.toml"),
            vec![
                ("model.items", &["100000", "2000000"][..]),
                ("model.bins", &["1000", "2000000"][..]),
                ("model.interaction", &["0.0", "1.0"][..]),
                ("model.weights", &["\"uniform\"", "\"zipf\""][..]),
                ("montecarlo.replications", &["1", "3"][..]),
            ],
        ),
        (
            format!("{dir}/scenarios/pi.toml"),
            vec![
                ("model.points", &["1000000", "20000000"][..]),
                ("model.tasks", &["1", "1000"][..]),
                ("model.points_per_step", &["0", "1000"][..]),
                ("montecarlo.replications", &["1", "4"][..]),
            ],
        ),
        (
            format!("{dir}/scenarios/birthday.toml"),
            vec![
                ("model.people", &["23", "200000"][..]),
                ("model.days", &["365", "1000000"][..]),
                ("montecarlo.replications", &["1", "50"][..]),
            ],
        ),
    ];
    let mut worst = (0.0, String::new());
    let mut over = Vec::new();
    for (scenario, axes) in &models {
        for sets in grid(axes) {
            let mut args: Vec<&str> = vec![scenario, "--set", "output.plots=[]"];
            args.extend(sets.iter().map(String::as_str));
            let (peak, estimate) = peak_and_estimate(&args);
            let ratio = peak as f64 / estimate as f64;
            eprintln!(
                "{:>5.1}% of the estimate: {}",
                100.0 * ratio,
                args[1..].join(" ")
            );
            if ratio > worst.0 {
                worst = (ratio, args.join(" "));
            }
            if peak > estimate {
                over.push(format!("{:.2}x: {}", ratio, args.join(" ")));
            }
        }
    }
    eprintln!("highest: {:.1}% ({})", 100.0 * worst.0, worst.1);
    assert!(
        over.is_empty(),
        "peaks above the estimate:\n{}",
        over.join("\n")
    );
}
