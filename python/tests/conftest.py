"""Shared fixtures: the repository root, a CLI binary to compare with, small scenarios."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli_binary():
    """A microsim command line to compare with: $MICROSIM_BIN, else one built in the target
    directory (the `microsim` binary or the random_walkers example, which knows every model)."""
    env = os.environ.get("MICROSIM_BIN")
    if env:
        return Path(env).resolve()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve()
    for rel in ("release/microsim", "release/examples/random_walkers", "debug/microsim"):
        p = target / rel
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


CLI = cli_binary()  # resolved before any test changes directory


@pytest.fixture
def cli():
    b = CLI
    if b is None:
        pytest.skip("no microsim binary built (cargo build --release, or set MICROSIM_BIN)")
    return b


@pytest.fixture
def root():
    return ROOT


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own directory (default outputs/ land there), with the shipped
    scenarios at hand as scenarios/."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    return tmp_path


# A Mamma Mia small enough for tests: 60k gifts under 200k trees.
SMALL_MM = {"model.items": 60_000, "model.bins": 200_000}
