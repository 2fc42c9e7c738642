"""A model crate's own module: examples/random_walkers.rs as `import random_walkers`
(python/examples/random_walkers), built by the same macro as microsim's own module."""

import pytest

import microsim

random_walkers = pytest.importorskip(
    "random_walkers", reason="pip install ./python/examples/random_walkers (or maturin develop)")


def test_the_module_runs_its_own_model_and_the_builtin_ones():
    names = [m["name"] for m in random_walkers.models()]
    assert "random_walkers" in names and "gift_lottery" in names
    assert "random_walkers" not in [m["name"] for m in microsim.models()]
    r = random_walkers.run(model="random_walkers",
                           params={"walkers": 500, "width": 40, "height": 40, "steps": 20},
                           montecarlo={"replications": 4}, out="walk", progress=False)
    assert isinstance(r, microsim.Result) and r.model == "random_walkers"
    reps = r.replications
    assert (reps["visits"] == 500 * 20).all()
    assert (reps["first_visits"] == reps["cells_visited"]).all()
    assert "first_visits" in r.histograms


def test_its_errors_are_microsim_errors():
    with pytest.raises(microsim.ScenarioError) as e:
        random_walkers.run(model="random_walkers", params={"walkers": "many"}, progress=False)
    assert e.value.field == "model.walkers"
    assert random_walkers.ScenarioError is microsim.ScenarioError


def test_the_shipped_scenario_writes_the_cli_bytes(cli):
    import subprocess

    from test_cli_bytes import same_bytes

    walkers_cli = cli.parent / "examples" / "random_walkers" if cli.name == "microsim" else cli
    if not walkers_cli.exists():
        pytest.skip("the random_walkers example is not built (cargo build --release --example "
                    "random_walkers)")
    subprocess.run([str(walkers_cli), "run", "scenarios/random_walkers.toml", "--replications",
                    "2", "--out", "cli", "-q"], check=True)
    r = random_walkers.run("scenarios/random_walkers.toml", replications=2, out="py",
                           progress=False)
    for v in sorted(p.name for p in (r.dir / "variants").iterdir()) or [None]:
        a = r.dir.parent / "cli" if v is None else r.dir.parent / "cli" / "variants" / v
        b = r.dir if v is None else r.dir / "variants" / v
        same_bytes(a, b)
