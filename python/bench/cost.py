"""What calling microsim from Python costs, beside the command line.

    python python/bench/cost.py [--cli target/release/microsim] [--replications 1000]
                                [--repeat 3] [--small-repeat 20]

Two measurements, each alternating CLI and Python runs of the same scenario into fresh
directories (plots and report.html drawn by both, as each does by default):

1. a 1000-replication Mamma Mia (scenarios/mamma_mia.toml, --replications 1000): wall time
   of `microsim run` (the process, start to exit) against `microsim.run(...)` in a warm
   Python process, with no progress display and with a progress callback;
2. a single small run (pi, 1000 points, 1 replication): the same, many times; the CLI's time
   includes starting its process, Python's is the call (``import microsim`` once, measured
   apart).

Prints medians and the Python/CLI difference. Numbers, not a test: they depend on the machine.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--cli", default=str(target / "release" / "microsim"))
    ap.add_argument("--replications", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--small-repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    import microsim
    import_s = time.perf_counter() - t0

    work = Path(tempfile.mkdtemp(prefix="microsim-cost-"))
    os.chdir(ROOT)
    n = 0

    def fresh():
        nonlocal n
        n += 1
        return work / f"r{n}"

    def cli(extra):
        out = fresh()
        t = time.perf_counter()
        subprocess.run([args.cli, "run", *extra, "--out", str(out), "-q"], check=True)
        return time.perf_counter() - t

    def py(scenario, **kw):
        out = fresh()
        t = time.perf_counter()
        microsim.run(scenario, out=out, **kw)
        return time.perf_counter() - t

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"import microsim: {import_s * 1000:.1f} ms (once)")

    # 1. The 1000-replication Mamma Mia.
    reps = args.replications
    big = ["scenarios/mamma_mia.toml", "--replications", str(reps), "--threads",
           str(args.threads)]
    times = {"cli": [], "python": [], "python+progress": []}
    calls = []
    for _ in range(args.repeat):
        times["cli"].append(cli(big))
        times["python"].append(py("scenarios/mamma_mia.toml", replications=reps,
                                  threads=args.threads, progress=False))
        times["python+progress"].append(py(
            "scenarios/mamma_mia.toml", replications=reps, threads=args.threads,
            progress=lambda d, t, s: calls.append(d)))
        shutil.rmtree(work)
        work.mkdir()
    c = statistics.median(times["cli"])
    print(f"\nMamma Mia, {reps} replications (median of {args.repeat}):")
    for k, v in times.items():
        m = statistics.median(v)
        extra = "" if k == "cli" else f"   {100 * (m - c) / c:+.2f}% vs the CLI"
        print(f"  {k:<16} {m:8.3f} s  (runs: {', '.join(f'{x:.3f}' for x in v)}){extra}")
    print(f"  progress callback calls: {len(calls) // max(args.repeat, 1)} per run")

    # 2. A single small run.
    small_cli = ["scenarios/pi.toml", "--set", "model.points=1000", "--set", "model.tasks=10",
                 "--replications", "1"]
    small = {"cli": [], "python": [], "python, no plots": []}
    for _ in range(args.small_repeat):
        small["cli"].append(cli(small_cli))
        small["python"].append(py("scenarios/pi.toml", set={"model.points": 1000,
                                                            "model.tasks": 10},
                                  replications=1, progress=False))
        small["python, no plots"].append(py("scenarios/pi.toml",
                                            set={"model.points": 1000, "model.tasks": 10},
                                            replications=1, progress=False, plots=False))
    c = statistics.median(small["cli"])
    print(f"\nsmall run (pi, 1000 points, 1 replication; median of {args.small_repeat}):")
    for k, v in small.items():
        m = statistics.median(v)
        extra = "" if k == "cli" else f"   {1000 * (m - c):+.1f} ms vs the CLI"
        print(f"  {k:<16} {1000 * m:8.1f} ms{extra}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
