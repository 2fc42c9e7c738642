#!/usr/bin/env python3
"""Mamma Mia in numpy, the way a numerical user would write it, timed beside microsim.

Each replication: 600,000 gifts into 2,000,000 trees uniformly at random
(`rng.integers`), copies per tree (`np.bincount`), trees per copy count (`np.bincount` again).
microsim runs the same question (scenarios/mamma_mia.toml with plots off) for the same number
of replications at 1 thread and at all threads. The two use different random streams, so their
results agree in distribution, not in bytes: the script checks that the mean number of trees
with exactly one copy agrees within 5 standard errors.

    scripts/numpy_mamma_mia.sh [REPLICATIONS]     # creates .venv-bench with numpy, then runs this
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ITEMS, BINS = 600_000, 2_000_000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def numpy_run(reps, seed=2008):
    rng = np.random.default_rng(seed)
    singles = []
    start = time.perf_counter()
    for _ in range(reps):
        trees = rng.integers(0, BINS, size=ITEMS)
        copies = np.bincount(trees, minlength=BINS)
        profile = np.bincount(copies)
        singles.append(int(profile[1]))
    return time.perf_counter() - start, singles


def microsim_run(binary, reps, threads):
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "run", os.path.join(ROOT, "scenarios/mamma_mia.toml"), "--out", out,
               "--force", "--quiet", "--replications", str(reps), "--threads", str(threads),
               "--set", "output.plots=[]"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        elapsed = time.perf_counter() - start
        with open(os.path.join(out, "summary.json")) as f:
            m = json.load(f)["metrics"]["bins_with_1"]
    return elapsed, m


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    binary = os.path.join(ROOT, "target/release/microsim")
    np_time, singles = numpy_run(reps)
    one_time, one = microsim_run(binary, reps, 1)
    cores = os.cpu_count() or 1
    all_time, _ = microsim_run(binary, reps, cores)
    np_mean = float(np.mean(singles))
    se = float(np.hypot(np.std(singles, ddof=1) / np.sqrt(reps), (one["std"] or 0) / np.sqrt(reps)))
    print(f"Mamma Mia, {ITEMS} gifts into {BINS} trees, {reps} replications (whole process for microsim)")
    print(f"| program | threads | total (s) | ms/replication | numpy / it |")
    print(f"|---|---:|---:|---:|---:|")
    print(f"| numpy {np.__version__} (integers, bincount, bincount) | 1 | {np_time:.3f} | {1e3 * np_time / reps:.2f} | 1.00 |")
    print(f"| microsim | 1 | {one_time:.3f} | {1e3 * one_time / reps:.2f} | {np_time / one_time:.2f} |")
    print(f"| microsim | {cores} | {all_time:.3f} | {1e3 * all_time / reps:.2f} | {np_time / all_time:.2f} |")
    diff = one["mean"] - np_mean
    print(f"trees with one copy: numpy {np_mean:.1f}, microsim {one['mean']:.1f} (difference {diff:.1f}, {abs(diff) / se:.1f} SE)")
    if abs(diff) > 5 * se:
        print("the two disagree by more than 5 standard errors", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
