#!/usr/bin/env python3
"""results.csv loads in one line, and agrees with summary.json.

    scripts/tidy_check.py BINARY

Makes a virtual environment in target/tidy-venv (once) with pandas in it, runs a sweep
(scenarios/mamma_mia_whatif.toml) and a plain run (scenarios/pi.toml) with BINARY, and checks
what an analyst would rely on:

- `pandas.read_csv("results.csv", dtype={"seed": str})` reads the whole study in one line:
  one row per (variant, replication), the swept fields as columns;
- each variant's means of every metric (a pandas groupby) equal its `summary.json`'s;
- every seed reads back exactly as text and is the seed `details.json` names (a string there
  too), and `summary.json`'s seed is a string.

Exits 1 on any difference. Needs python3 with venv (Debian: python3-venv) and pip's index.
"""

import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "tidy-venv")
OUT = os.path.join(ROOT, "target", "ci", "tidy")


def in_venv():
    """Re-runs this script under the venv's python (made, with pandas, when missing)."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "pandas"], check=True)
    os.execv(python, [python] + sys.argv)


def run(binary, scenario, out):
    cmd = binary.split() + ["run", scenario, "--out", out, "--force", "--quiet",
                            "--set", "output.plots=[]"]
    subprocess.run(cmd, check=True, cwd=ROOT)


def close(a, b):
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def check_means(frame, summary, label, problems):
    for metric, s in summary["metrics"].items():
        got = float(frame[metric].mean())
        if not close(got, s["mean"]):
            problems.append(f"{label}: mean of {metric} is {got} in results.csv, "
                            f"{s['mean']} in summary.json")


def check_seeds(frame, run_dir, label, problems):
    with open(os.path.join(run_dir, "details.json")) as f:
        details = json.load(f)
    with open(os.path.join(run_dir, "summary.json")) as f:
        if not isinstance(json.load(f)["seed"], str):
            problems.append(f"{label}: summary.json's seed is not a string")
    named = {d["replication"]: d["seed"] for d in details}
    for rep, seed in zip(frame["replication"], frame["seed"]):
        if not isinstance(named.get(rep), str) or named[rep] != seed:
            problems.append(f"{label}: replication {rep}: seed {seed!r} in results.csv, "
                            f"{named.get(rep)!r} in details.json")
        elif str(int(seed)) != seed:
            problems.append(f"{label}: seed {seed!r} is not plain digits")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    in_venv()
    import pandas as pd

    binary = sys.argv[1]
    problems = []

    sweep_dir = os.path.join(OUT, "mamma_mia_whatif")
    run(binary, "scenarios/mamma_mia_whatif.toml", sweep_dir)
    study = pd.read_csv(os.path.join(sweep_dir, "results.csv"), dtype={"seed": str})
    with open(os.path.join(sweep_dir, "sweep.json")) as f:
        variants = json.load(f)["variants"]
    fields = sorted(variants[0]["parameters"])
    missing = [c for c in ["variant", *fields, "replication", "seed", "ending", "steps"]
               if c not in study.columns]
    if missing:
        problems.append(f"sweep: results.csv lacks the columns {missing}")
    reps = sum(v["replications"] for v in variants)
    if len(study) != reps:
        problems.append(f"sweep: results.csv has {len(study)} rows, the variants {reps}")
    for v in variants:
        rows = study[study["variant"] == v["variant"]]
        label = f"sweep variant {v['variant']}"
        for field, value in v["parameters"].items():
            if not (rows[field] == value).all():
                problems.append(f"{label}: column {field} is not {value} in every row")
        run_dir = os.path.join(sweep_dir, v["dir"])
        with open(os.path.join(run_dir, "summary.json")) as f:
            check_means(rows, json.load(f), label, problems)
        check_seeds(rows, run_dir, label, problems)

    pi_dir = os.path.join(OUT, "pi")
    run(binary, "scenarios/pi.toml", pi_dir)
    single = pd.read_csv(os.path.join(pi_dir, "results.csv"), dtype={"seed": str})
    with open(os.path.join(pi_dir, "summary.json")) as f:
        check_means(single, json.load(f), "pi", problems)
    check_seeds(single, pi_dir, "pi", problems)

    for p in problems:
        print("tidy:", p)
    print(f"tidy: pandas {pd.__version__} read {len(study)} + {len(single)} rows; "
          f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
