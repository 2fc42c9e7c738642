"""Ctrl-C: a Python process running a scenario, sent SIGINT, stops as the command line's first
Ctrl-C does: the replications done are written, the directory is marked partial (not left
INCOMPLETE), and microsim.Interrupted (a KeyboardInterrupt) carries the partial result."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import microsim

LONG = """
import json, sys
import microsim
print("ready", flush=True)
try:
    microsim.run(model="gift_lottery", params={"items": 200_000, "bins": 600_000},
                 montecarlo={"replications": 100_000}, run={"threads": 1}, out="long",
                 progress=False)
    print(json.dumps({"finished": True}), flush=True)
except microsim.Interrupted as e:
    r = e.result
    print(json.dumps({"dir": str(r.dir), "partial": r.partial, "rows": len(r.replications),
                      "summary_replications": r.summary["replications"]}), flush=True)
    if sys.argv[-1] == "raise":
        raise
"""

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")


def start(*args):
    p = subprocess.Popen([sys.executable, "-c", LONG, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # well into the run
    assert p.poll() is None, p.stderr.read()
    p.send_signal(signal.SIGINT)
    return p


def test_sigint_stops_the_run_and_marks_it_partial():
    p = start()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    got = json.loads(out.strip().splitlines()[-1])
    assert got.get("partial") is True, got
    assert 0 < got["rows"] < 100_000
    assert got["summary_replications"] == got["rows"]
    r = microsim.load(got["dir"])
    assert r.partial and r.summary["partial"] is True
    assert not (r.dir / "INCOMPLETE").exists()
    # What was written is what a run of that many replications writes.
    m = r.summary["metrics"]["bins_with_1"]["mean"]
    assert r.replications["bins_with_1"].mean() == pytest.approx(m)


def test_an_uncaught_interrupt_ends_the_program_as_ctrl_c_does():
    p = start("raise")
    out, err = p.communicate(timeout=120)
    assert p.returncode in (-signal.SIGINT, 130, 1), (p.returncode, err)
    assert "Interrupted" in err and "partial results in" in err
    assert json.loads(out.strip().splitlines()[-1])["partial"] is True
