#!/usr/bin/env python3
"""Same seed, same bytes: hashes of the deterministic results of every shipped scenario.

    scripts/golden.py record BINARY...   # writes tests/golden/hashes.txt
    scripts/golden.py check BINARY...    # runs again, compares, exits 1 on any difference

Each `BINARY` is a microsim binary or any program with microsim's command line; a scenario runs
with the first that knows its model (CI gives the random_walkers example's binary, which knows
every built-in model and its own, and the gamblers_ruin example's); scenarios of models none
knows are skipped. Each scenario in `scenarios/` runs at 1 and at 2 threads
(and, where the scenario lets it, at another shard count), and both must agree with each other
and with the recorded hashes.

What is hashed is what the output contract calls deterministic: `replications.csv`,
`details.json`, the model's and the deterministic engine histograms (`histograms/*.hlog` except
the two wall-time ones), the deterministic columns of `steps.csv` (local and cross-shard
messages are summed, wall times dropped), and in `summary.json` each metric's
n, mean, std, ci95, min, p5, p50, p95 and max (fields added later do not change the hash).
A sweep hashes every variant.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden", "hashes.txt")
SUMMARY_FIELDS = ["n", "mean", "std", "ci95", "min", "p5", "p50", "p95", "max"]
TIMED_HLOGS = {"step_time_us.hlog", "shard_time_us.hlog"}
STEP_DROP = {"wall_ms", "shard_ms_max", "shard_ms_mean"}


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def steps_digest(path):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    header = lines[0].split(",")
    out = []
    for line in lines:
        cells = line.split(",")
        row = dict(zip(header, cells))
        if line is lines[0]:
            keep = [h for h in header if h not in STEP_DROP and h not in ("messages_local", "messages_cross")]
            out.append(",".join(keep + ["messages"]))
            continue
        keep = [row[h] for h in header if h not in STEP_DROP and h not in ("messages_local", "messages_cross")]
        keep.append(str(int(row["messages_local"]) + int(row["messages_cross"])))
        out.append(",".join(keep))
    return sha("\n".join(out).encode())


def summary_digest(path):
    with open(path) as f:
        metrics = json.load(f)["metrics"]
    kept = {m: {k: s.get(k) for k in SUMMARY_FIELDS} for m, s in metrics.items()}
    return sha(json.dumps(kept, sort_keys=True).encode())


def digest_run(run_dir, label):
    """(name, hash) pairs for one result directory."""
    rows = []
    for name in ("replications.csv", "details.json"):
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                rows.append((f"{label}/{name}", sha(f.read())))
        else:
            details = os.path.join(run_dir, "details.jsonl")
            if name == "details.json" and os.path.exists(details):
                rows.append((f"{label}/{name}", jsonl_as_json_digest(details)))
    rows.append((f"{label}/steps.csv", steps_digest(os.path.join(run_dir, "steps.csv"))))
    rows.append((f"{label}/summary.metrics", summary_digest(os.path.join(run_dir, "summary.json"))))
    hist_dir = os.path.join(run_dir, "histograms")
    for h in sorted(os.listdir(hist_dir)):
        if h.endswith(".hlog") and h not in TIMED_HLOGS:
            with open(os.path.join(hist_dir, h), "rb") as f:
                rows.append((f"{label}/histograms/{h}", sha(f.read())))
    return rows


def jsonl_as_json_digest(path):
    with open(path) as f:
        items = [json.loads(l) for l in f if l.strip()]
    return sha((json.dumps(items, indent=2) + "\n").encode())


def digest(out_dir, scenario):
    sweep = os.path.join(out_dir, "variants")
    if os.path.isdir(sweep):
        rows = []
        for v in sorted(os.listdir(sweep)):
            rows += digest_run(os.path.join(sweep, v), f"{scenario}/variants/{v}")
        return rows
    return digest_run(out_dir, scenario)


def run(binary, scenario_path, out_dir, threads, shards=None):
    cmd = binary.split() + ["run", scenario_path, "--out", out_dir, "--force", "--quiet",
                            "--threads", str(threads), "--set", "output.plots=[]"]
    if shards is not None:
        cmd += ["--set", f"run.shards={shards}"]
    subprocess.run(cmd, check=True, cwd=ROOT)


def known(binary, scenario_path):
    """Whether the binary knows the scenario's model (an example's model needs its own)."""
    cmd = binary.split() + ["check", scenario_path]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return "unknown model" not in p.stderr


def collect(binaries):
    scen_dir = os.path.join(ROOT, "scenarios")
    rows = []
    problems = []
    skipped = []
    tmp = tempfile.mkdtemp(prefix="microsim-golden-")
    try:
        for name in sorted(os.listdir(scen_dir)):
            if not name.endswith(".toml"):
                continue
            stem = name[:-5]
            path = os.path.join(scen_dir, name)
            binary = next((b for b in binaries if known(b, path)), None)
            if binary is None:
                print(f"golden: skipping {name}: its model is in none of {', '.join(binaries)}")
                skipped.append(stem)
                continue
            variants = [(1, None), (2, None), (2, 3)]
            seen = None
            for threads, shards in variants:
                out = os.path.join(tmp, f"{stem}-{threads}-{shards}")
                try:
                    run(binary, path, out, threads, shards)
                except subprocess.CalledProcessError:
                    if shards is None:
                        raise
                    continue  # a scenario whose arena cannot be split in 3 shards
                d = digest(out, stem)
                if seen is None:
                    seen = d
                elif d != seen:
                    diff = [a[0] for a, b in zip(seen, d) if a != b]
                    problems.append(f"{stem}: threads={threads} shards={shards} differs: {diff}")
                shutil.rmtree(out)
            rows += seen
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows, problems, skipped


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("record", "check"):
        print(__doc__)
        sys.exit(2)
    mode, binaries = sys.argv[1], sys.argv[2:]
    rows, problems, skipped = collect(binaries)
    for p in problems:
        print("DIFFERS across threads/shards:", p)
    if mode == "record":
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w") as f:
            f.write("# scripts/golden.py record: deterministic results of scenarios/*.toml\n")
            for k, v in rows:
                f.write(f"{v}  {k}\n")
        print(f"recorded {len(rows)} hashes in {GOLDEN}")
        sys.exit(1 if problems else 0)
    with open(GOLDEN) as f:
        want = dict(reversed(l.split()) for l in f if l.strip() and not l.startswith("#"))
    got = dict(rows)
    want = {k: v for k, v in want.items() if k.split("/")[0] not in skipped}
    bad = 0
    for k in sorted(want):
        if want[k] != got.get(k):
            bad += 1
            print(f"CHANGED {k}: recorded {want[k]}, now {got.get(k)}")
    new = sorted(set(got) - set(want))
    if new:
        print(f"golden: {len(new)} hashes of new scenarios not recorded yet (record to add them)")
    print(f"golden: {len(want) - bad} of {len(want)} recorded hashes unchanged")
    sys.exit(1 if bad or problems else 0)


if __name__ == "__main__":
    main()
