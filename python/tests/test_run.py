"""microsim.run: files and dicts, overrides, replication=K, sweeps, results as DataFrames."""

import json
import math
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

import microsim
from conftest import SMALL_MM


def test_a_scenario_file_runs_and_reads_back():
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=6, threads=2,
                     out="mm", progress=False)
    assert r.dir.name == "mm" and (r.dir / "summary.json").is_file()
    assert r.model == "gift_lottery" and r.name == "mamma_mia" and r.seed == 2008
    assert not r.partial
    reps = r.replications
    assert isinstance(reps, pd.DataFrame) and len(reps) == 6
    assert list(reps["replication"]) == list(range(6))
    assert reps["seed"].dtype == np.uint64
    assert "model.items" not in r.scenario and "items = 60000" in r.scenario
    assert len(r.steps) > 0 and {"replication", "step", "tasks_run"} <= set(r.steps.columns)
    assert len(r.details) in (0, 6)


def test_dataframe_means_equal_summary_json():
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=7, out="mm",
                     progress=False)
    with open(r.dir / "summary.json") as f:
        summary = json.load(f)
    assert summary["metrics"], "the summary has metrics"
    for name, m in summary["metrics"].items():
        assert r.replications[name].mean() == pytest.approx(m["mean"], rel=1e-12, abs=1e-9)
        assert r.replications[name].min() == m["min"] and r.replications[name].max() == m["max"]
        assert r.metrics.loc[name, "mean"] == m["mean"]
        assert r.metrics.loc[name, "ci95_lo"] == m["ci95"][0]


def test_a_scenario_from_dicts_is_the_same_as_the_file():
    a = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=3, out="a",
                     progress=False)
    b = microsim.run(model="gift_lottery", name="mamma_mia",
                     params={"items": 60_000, "bins": 200_000, "weights": "uniform"},
                     run={"seed": 2008}, montecarlo={"replications": 3}, out="b",
                     progress=False)
    assert (a.dir / "replications.csv").read_bytes() == (b.dir / "replications.csv").read_bytes()
    assert a.summary["metrics"] == b.summary["metrics"]


def test_default_directory_is_numbered_like_the_cli():
    a = microsim.run(model="pi", params={"points": 1000, "tasks": 10}, progress=False)
    b = microsim.run(model="pi", params={"points": 1000, "tasks": 10}, progress=False)
    assert a.dir.as_posix() == "outputs/pi" and b.dir.as_posix() == "outputs/pi-2"


def test_replication_k_recreates_one_replication():
    full = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=5, out="all",
                        progress=False)
    one = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=5,
                       replication=3, out="one", progress=False)
    assert len(one.replications) == 1
    row_full = full.replications.iloc[3]
    row_one = one.replications.iloc[0]
    assert row_one["replication"] == 3
    assert list(row_one) == list(row_full)


def test_a_sweep_gives_a_table_with_paired_differences_and_variants():
    r = microsim.run(model="gift_lottery", params={"items": 20_000, "bins": 60_000},
                     montecarlo={"replications": 4},
                     sweep={"model.keep_fraction": [0.0, 0.02, 0.1],
                            "compare": ["bins_with_1", "items_kept"]},
                     out="sweep", progress=False)
    assert r.sweep is not None and len(r.sweep) == 3
    assert len(r.variants) == 3
    assert all(len(v.replications) == 4 for v in r.variants)
    assert r.summary["sweep"]["common_random_numbers"] is True
    cols = " ".join(r.sweep.columns)
    assert "items_kept" in cols and "bins_with_1" in cols
    # Common random numbers: every variant ran the same replication seeds.
    seeds = [list(v.replications["seed"]) for v in r.variants]
    assert seeds[0] == seeds[1] == seeds[2]
    kept = [v.replications["items_kept"].mean() for v in r.variants]
    assert kept[0] == 0 and kept[0] < kept[1] < kept[2]


def test_a_sweep_of_a_scenario_file_is_the_sweep_of_the_same_scenario_as_a_dict():
    sweep = {"model.keep_fraction": [0.0, 0.1], "compare": ["items_kept"]}
    a = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=3, sweep=sweep,
                     out="file_sweep", progress=False)
    assert a.sweep is not None and len(a.variants) == 2
    kept = [v.replications["items_kept"].mean() for v in a.variants]
    assert kept[0] == 0 < kept[1]
    # The command line's overrides say the same.
    b = microsim.run("scenarios/mamma_mia.toml", replications=3, out="cli_sweep", progress=False,
                     set=list(microsim._api._sets(SMALL_MM))
                     + ["sweep.grid.model.keep_fraction=[0.0, 0.1]",
                        'sweep.compare=["items_kept"]'])
    for va, vb in zip(a.variants, b.variants):
        assert va.replications.equals(vb.replications)


def test_histograms_are_numpy_arrays_decoded_from_the_hlog():
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=3, out="mm",
                     progress=False)
    assert "copies_per_bin" in r.histograms
    h = r.histogram("copies_per_bin")
    values, counts = h
    assert values.dtype == np.uint64 and counts.dtype == np.uint64
    assert len(values) == len(counts) > 2 and np.all(np.diff(values.astype(np.int64)) > 0)
    assert int(counts.sum()) == h.total
    assert h.min == values[0] and h.max == values[-1]
    assert h.mean == pytest.approx(float((values * counts).sum()) / float(counts.sum()),
                                   rel=1e-3)
    # Trees with k copies, over the replications, agree with replications.csv's counts.
    reps = r.replications
    for k in (1, 2, 3):
        if k in values:
            assert counts[list(values).index(k)] == reps[f"bins_with_{k}"].sum()
    with pytest.raises(KeyError, match="no histograms/nope.hlog"):
        r.histogram("nope")


def test_progress_is_told_and_ends_at_the_total():
    seen = []
    microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=12, out="mm",
                 progress=lambda done, total, steps: seen.append((done, total, steps)))
    assert seen and seen[-1][0] == seen[-1][1] == 12
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))


def test_a_tqdm_bar_can_be_asked_for():
    pytest.importorskip("tqdm")
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=3, out="mm",
                     progress=True)
    assert len(r.replications) == 3


def test_the_gil_is_released_while_it_runs():
    ticks = []
    box = {}

    def work():
        box["r"] = microsim.run(model="gift_lottery",
                                params={"items": 300_000, "bins": 1_000_000},
                                montecarlo={"replications": 40}, run={"threads": 1},
                                out="long", progress=False)

    t = threading.Thread(target=work)
    start = time.perf_counter()
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.005)
    t.join()
    took = time.perf_counter() - start
    assert len(box["r"].replications) == 40
    # Python ran beside the run, all the way through (a held GIL would stall it).
    assert took > 0.2, f"the run took {took:.3f} s, too short to tell"
    assert len(ticks) > took / 0.005 / 4


def test_load_reads_a_directory_written_by_the_cli(cli, tmp_path):
    import subprocess

    subprocess.run([str(cli), "run", "scenarios/pi.toml", "--set", "model.points=20000",
                    "--replications", "5", "--out", "cli_pi", "-q"], check=True)
    r = microsim.load("cli_pi")
    assert r.model == "pi" and len(r.replications) == 5
    pi = r.replications["pi_estimate"].mean()
    assert math.isclose(pi, r.summary["metrics"]["pi_estimate"]["mean"], rel_tol=1e-12)


def test_load_is_tolerant_of_seeds_as_strings_and_new_files(tmp_path):
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=3, out="mm",
                     progress=False)
    s = json.loads((r.dir / "summary.json").read_text())
    s["seed"] = str(s["seed"])
    (r.dir / "summary.json").write_text(json.dumps(s))
    (r.dir / "results.csv").write_text("metric,mean\nbins_with_1,1\n")
    again = microsim.load(r.dir)
    assert again.seed == 2008 and len(again.replications) == 3


def test_polars_when_asked():
    pl = pytest.importorskip("polars")
    r = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=3, out="mm",
                     progress=False, frames="polars")
    assert isinstance(r.replications, pl.DataFrame)
    assert r.replications["seed"].dtype == pl.UInt64
    m = r.summary["metrics"]["bins_with_2"]["mean"]
    assert r.replications["bins_with_2"].mean() == pytest.approx(m)
    assert isinstance(microsim.load(r.dir, frames="polars").steps, pl.DataFrame)


def test_compare_pairs_runs_with_the_same_seeds():
    a = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=6, out="a",
                     progress=False)
    b = microsim.run("scenarios/mamma_mia.toml",
                     set={**SMALL_MM, "model.keep_fraction": 0.1}, replications=6, out="b",
                     progress=False)
    c = microsim.compare(a, b)
    assert set(c["method"]) == {"paired"}
    row = c.loc["items_kept"]
    assert row["a"] == 0 and row["b"] > 0 and row["significant"]
    assert row["ci_lo"] <= row["difference"] <= row["ci_hi"]
    other = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=6, seed=9,
                         out="c", progress=False)
    assert set(microsim.compare(a, other)["method"]) == {"welch"}


def test_compare_agrees_with_the_cli(cli):
    import subprocess

    a = microsim.run("scenarios/mamma_mia.toml", set=SMALL_MM, replications=6, out="a",
                     progress=False)
    b = microsim.run("scenarios/mamma_mia.toml",
                     set={**SMALL_MM, "model.interaction": 0.5}, replications=6, out="b",
                     progress=False)
    out = subprocess.run([str(cli), "compare", "a", "b", "--json"], check=True,
                         capture_output=True, text=True).stdout
    theirs = {m["metric"]: m for m in json.loads(out)["metrics"]}
    ours = microsim.compare(a, b)
    for name, m in theirs.items():
        assert ours.loc[name, "difference"] == pytest.approx(m["difference"]["mean"], nan_ok=True)
        if m["difference"]["ci"] is not None:
            assert ours.loc[name, "ci_lo"] == pytest.approx(m["difference"]["ci"][0])


def test_check_validates_without_running():
    c = microsim.check("scenarios/mamma_mia.toml", set=SMALL_MM)
    assert c["model"] == "gift_lottery" and c["replications"] == 10 and c["variants"] == 1
    assert "items = 60000" in c["scenario"]
    assert not os.path.exists("outputs")


def test_models_lists_the_builtin_models():
    names = [m["name"] for m in microsim.models()]
    assert {"gift_lottery", "musical_chairs", "pi", "birthday"} <= set(names)
    gl = next(m for m in microsim.models() if m["name"] == "gift_lottery")
    assert "bins_with_1" in gl["metrics"]


def test_a_precision_target_runs_until_the_interval_is_narrow_enough():
    r = microsim.run(model="pi", params={"points": 2000, "tasks": 10},
                     montecarlo={"target": {"metric": "pi_estimate", "ci_half_width": 0.05,
                                            "batch": 10, "max_replications": 2000}},
                     out="target", progress=False)
    t = r.summary["target"]
    assert t["reached"] is True, t
    n = len(r.replications)
    assert 10 <= n < 2000 and t["replications"] == n
    ci = r.summary["metrics"]["pi_estimate"]["ci95"]
    assert (ci[1] - ci[0]) / 2 <= 0.05


def test_a_sweep_says_where_its_tables_are():
    r = microsim.run(model="pi", params={"points": 1000, "tasks": 10},
                     montecarlo={"replications": 2}, sweep={"model.points": [1000, 2000]},
                     out="s", progress=False, plots=False)
    with pytest.raises(FileNotFoundError, match=r"variants\[i\].replications"):
        r.replications
    assert len(r.variants[1].replications) == 2
    assert not (r.dir / "report.html").exists()
