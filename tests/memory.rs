//! The memory budget must be an upper bound: a run the check lets through must not use more
//! than the estimate (seed 002: no run may drive the machine into swap). Each case runs the
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
        // Replications in parallel, the seed's lottery.
        vec![&mamma, "--replications", "6"],
        // A sweep: variants one after another.
        vec![&whatif, "--replications", "2", "--set", "output.plots=[]"],
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
