"""microsim.run writes the bytes `microsim run` writes: every deterministic file (what
scripts/golden.py hashes: replications.csv, details.json, the deterministic histograms and
steps.csv columns, summary.json's metrics) and the resolved scenario.toml, byte for byte."""

import importlib.util
import json
import subprocess

import pytest

import microsim
from conftest import ROOT, SMALL_MM


def golden():
    spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def same_bytes(a, b):
    g = golden()
    assert g.digest_run(str(a), "run") == g.digest_run(str(b), "run")
    for name in ("scenario.toml", "replications.csv", "results.csv", "details.json"):
        if (a / name).exists() or (b / name).exists():
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    for key in ("scenario", "model", "seed", "replications", "partial", "metrics", "endings",
                "declared", "sweep"):
        assert sa.get(key) == sb.get(key), key
    assert sorted(p.name for p in (a / "histograms").iterdir()) == \
        sorted(p.name for p in (b / "histograms").iterdir())


@pytest.mark.parametrize("threads", [1, 2])
def test_a_run_writes_the_cli_bytes(cli, threads):
    sets = [f"{k}={v}" for k, v in SMALL_MM.items()]
    args = [str(cli), "run", "scenarios/mamma_mia.toml", "--replications", "5", "--threads",
            str(threads), "--out", "cli", "-q"]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True)
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=5,
                     threads=threads, out="py", progress=False)
    same_bytes(r.dir.resolve().parent / "cli", r.dir)
    # The plots too: the same files drawn.
    assert sorted(p.name for p in (r.dir / "plots").iterdir()) == \
        sorted(p.name for p in (r.dir.parent / "cli" / "plots").iterdir())
    assert (r.dir / "report.html").is_file()
    # The manifest says how it was asked, as the CLI's says its command line.
    line = r.summary["manifest"]["command_line"]
    assert line[0] == "microsim.run" and "--replications" in line


def test_a_sweep_writes_the_cli_bytes(cli):
    subprocess.run([str(cli), "run", "scenarios/mamma_mia_whatif.toml", "--replications", "3",
                    "--set", "model.bins=100000", "--out", "cli", "-q"], check=True)
    r = microsim.run("scenarios/mamma_mia_whatif.toml", replications=3,
                     set={"model.bins": 100_000}, out="py", progress=False)
    a, b = r.dir.parent / "cli", r.dir
    assert (a / "sweep.csv").read_bytes() == (b / "sweep.csv").read_bytes()
    variants = sorted(p.name for p in (a / "variants").iterdir())
    assert variants == sorted(p.name for p in (b / "variants").iterdir()) and len(variants) == 6
    for v in variants:
        same_bytes(a / "variants" / v, b / "variants" / v)


def test_one_replication_writes_the_cli_bytes(cli):
    subprocess.run([str(cli), "run", "scenarios/musical_chairs_small.toml", "--replication",
                    "2", "--replications", "4", "--out", "cli", "-q"], check=True)
    r = microsim.run("scenarios/musical_chairs_small.toml", replication=2, replications=4,
                     out="py", progress=False)
    same_bytes(r.dir.parent / "cli", r.dir)


def test_a_merged_run_reads_back_as_the_python_run(cli):
    """Slices run by the CLI (`--replications A..B`) and merged read back through
    microsim.load as the run microsim.run makes of all the replications at once."""
    base = [str(cli), "run", "scenarios/mamma_mia.toml", "--set", "model.items=60000",
            "--set", "model.bins=200000", "--set", "montecarlo.replications=6", "-q"]
    subprocess.run(base + ["--replications", "0..4", "--out", "s1"], check=True)
    subprocess.run(base + ["--replications", "4..6", "--out", "s2"], check=True)
    subprocess.run([str(cli), "merge", "s2", "s1", "--out", "merged", "-q"], check=True)
    merged = microsim.load("merged")
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=6, out="py",
                     progress=False)
    same_bytes(merged.dir.resolve(), r.dir)
    assert merged.replications.equals(r.replications)
