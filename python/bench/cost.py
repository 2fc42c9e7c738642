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
import resource
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

    cpu = {}

    def cpu_of(who):
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def cli(extra, key="cli"):
        out = fresh()
        c, t = cpu_of(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([args.cli, "run", *extra, "--out", str(out), "-q"], check=True)
        wall = time.perf_counter() - t
        cpu.setdefault(key, []).append(cpu_of(resource.RUSAGE_CHILDREN) - c)
        return wall

    def py(scenario, key="python", **kw):
        out = fresh()
        c, t = cpu_of(resource.RUSAGE_SELF), time.perf_counter()
        microsim.run(scenario, out=out, **kw)
        wall = time.perf_counter() - t
        cpu.setdefault(key, []).append(cpu_of(resource.RUSAGE_SELF) - c)
        return wall

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"import microsim: {import_s * 1000:.1f} ms (once)")

    # 1. The 1000-replication Mamma Mia.
    reps = args.replications
    big = ["scenarios/mamma_mia.toml", "--replications", str(reps), "--threads",
           str(args.threads)]
    times = {"cli": [], "python": [], "python+progress": []}
    calls = []
    runs = [
        ("cli", lambda: cli(big)),
        ("python", lambda: py("scenarios/mamma_mia.toml", replications=reps,
                              threads=args.threads, progress=False)),
        ("python+progress", lambda: py(
            "scenarios/mamma_mia.toml", key="python+progress", replications=reps,
            threads=args.threads, progress=lambda d, t, s: calls.append(d))),
    ]
    for i in range(args.repeat):
        # Each repeat starts with another of the three, so that none is always first.
        for k, f in runs[i % 3:] + runs[:i % 3]:
            times[k].append(f())
        shutil.rmtree(work)
        work.mkdir()
    c, cc = statistics.median(times["cli"]), statistics.median(cpu["cli"])
    print(f"\nMamma Mia, {reps} replications (median of {args.repeat}; wall, then CPU "
          "time of all threads):")
    for k, v in times.items():
        m, mc = statistics.median(v), statistics.median(cpu[k])
        extra = "" if k == "cli" else \
            f"   {100 * (m - c) / c:+.2f}% wall, {100 * (mc - cc) / cc:+.2f}% CPU vs the CLI"
        print(f"  {k:<16} {m:8.3f} s wall {mc:8.3f} s CPU  "
              f"(wall runs: {', '.join(f'{x:.2f}' for x in v)}){extra}")
    print(f"  progress callback calls: {len(calls) // max(args.repeat, 1)} per run")

    # 2. A single small run.
    small_cli = ["scenarios/pi.toml", "--set", "model.points=1000", "--set", "model.tasks=10",
                 "--replications", "1"]
    small = {"cli": [], "python": [], "python, no plots": []}
    small_set = {"model.points": 1000, "model.tasks": 10}
    for _ in range(args.small_repeat):
        small["cli"].append(cli(small_cli, key="small cli"))
        small["python"].append(py("scenarios/pi.toml", key="small python", set=small_set,
                                  replications=1, progress=False))
        small["python, no plots"].append(py("scenarios/pi.toml", key="small no plots",
                                            set=small_set, replications=1, progress=False,
                                            plots=False))
    c = statistics.median(small["cli"])
    print(f"\nsmall run (pi, 1000 points, 1 replication; median of {args.small_repeat}):")
    for k, v in small.items():
        m = statistics.median(v)
        extra = "" if k == "cli" else f"   {1000 * (m - c):+.1f} ms vs the CLI"
        print(f"  {k:<16} {1000 * m:8.1f} ms{extra}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
