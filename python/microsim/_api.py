"""``run``, ``check`` and ``models`` for a native module's models (the built-in ones, or a
model crate's own: ``bind`` gives a module made by ``microsim_py::module!`` the whole API)."""

import json
import math
import numbers
import os
import re
import sys
from pathlib import Path

from ._errors import Interrupted, ScenarioError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_SECTIONS = ("model", "run", "montecarlo", "output")


def _toml_key(key):
    key = str(key)
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(s):
    # JSON's escapes are TOML's, but for surrogates (kept out by ensure_ascii=False) and DEL.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(v):
    """A Python value (bool, int, float, str, path, list, dict, numpy scalar or array) as a
    TOML value, as ``--set section.key=VALUE`` reads it."""
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        v = v.tolist()  # numpy scalars and arrays
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple, range)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"{v!r} ({type(v).__name__}) has no TOML form: give a bool, number, "
                    "string, list or dict")


def _sets(set):
    """``set=`` as ``--set`` texts: a dict ``{"model.items": 900_000}`` or texts
    ``["model.items=900000"]``."""
    if set is None:
        return []
    if isinstance(set, str):
        return [set]
    if isinstance(set, dict):
        return [f"{k}={toml_value(v)}" for k, v in set.items()]
    return [str(s) for s in set]


def scenario_text(model, *, name=None, description=None, params=None, run=None,
                  montecarlo=None, output=None, sweep=None):
    """The TOML scenario that ``run(model=..., params=..., ...)`` runs. ``sweep`` takes the
    grid as its keys with a dot (``{"model.items": [600_000, 900_000]}``) and the ``[sweep]``
    fields as the others (``baseline``, ``compare``, ``common_random_numbers``, ``grid``,
    ``values``, …)."""
    lines = ["[scenario]", f"name = {_toml_string(name or model)}"]
    if description is not None:
        lines.append(f"description = {_toml_string(description)}")
    lines.append(f"model = {_toml_string(model)}")
    for section, fields in (("model", params), ("run", run), ("montecarlo", montecarlo),
                            ("output", output)):
        if fields is None:
            continue
        if not isinstance(fields, dict):
            raise TypeError(f"{'params' if section == 'model' else section}= takes a dict of "
                            f"[{section}] fields, not {type(fields).__name__}")
        lines += ["", f"[{section}]"]
        lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in fields.items()]
    if sweep is not None:
        if not isinstance(sweep, dict):
            raise TypeError(f"sweep= takes a dict, not {type(sweep).__name__}")
        grid = {k: v for k, v in sweep.items() if "." in str(k)}
        rest = {k: v for k, v in sweep.items() if "." not in str(k)}
        if grid and "grid" in rest:
            rest["grid"] = {**rest["grid"], **grid}
            grid = {}
        lines += ["", "[sweep]"]
        lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in rest.items()]
        if grid:
            lines += ["", "[sweep.grid]"]
            lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in grid.items()]
    return "\n".join(lines) + "\n"


def _whole(name, v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) < 0:
        raise ScenarioError(f"{name}={v!r}: not a whole number", kind="usage", field=None,
                            hint=f"give {name} as an int from 0")
    return int(v)


def _sweep_sets(sweep):
    """``sweep=`` for a scenario file, as the ``--set`` texts the command line takes: a key
    with a dot is a swept field (``sweep.grid.FIELD``), any other a ``[sweep]`` setting."""
    if sweep is None:
        return []
    if not isinstance(sweep, dict):
        raise TypeError(f"sweep= takes a dict, not {type(sweep).__name__}")
    return [f"sweep.grid.{k}={toml_value(v)}" if "." in str(k) else f"sweep.{k}={toml_value(v)}"
            for k, v in sweep.items()]


def _request(scenario, *, set, seed, replications, threads, replication, model, params, run,
             montecarlo, output, sweep, name, description):
    """(file, text, sets, command line) of a call."""
    sets = _sets(set)
    if model is not None:
        if scenario is not None:
            raise TypeError("give a scenario file or model=, not both")
        text = scenario_text(model, name=name, description=description, params=params,
                             run=run, montecarlo=montecarlo, output=output, sweep=sweep)
        file, line = "<dict>", [f"model={model}"]
    else:
        if scenario is None:
            raise TypeError("give a scenario file (microsim.run('scenarios/pi.toml')) or "
                            "model= (microsim.run(model='pi', params={...}))")
        for kw, v in (("params", params), ("run", run), ("montecarlo", montecarlo),
                      ("output", output), ("name", name), ("description", description)):
            if v is not None:
                raise TypeError(f"{kw}= goes with model=; with a scenario file, change fields "
                                f"with set={{'section.key': value}}")
        sets += _sweep_sets(sweep)
        text, file, line = None, os.fspath(scenario), [os.fspath(scenario)]
    for s in sets:
        line += ["--set", s]
    for flag, v in (("--seed", seed), ("--threads", threads), ("--replications", replications),
                    ("--replication", replication)):
        if v is not None:
            line += [flag, str(v)]
    return file, text, sets, line


def _in_notebook():
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and shell.get_ipython().__class__.__name__ == "ZMQInteractiveShell"
    except Exception:
        return False


class _Bar:
    """A tqdm progress bar fed from the run's counts (at most 10 times a second, by the
    thread that waits for the run: never by the run)."""

    def __init__(self, tqdm):
        self.tqdm = tqdm
        self.bar = None

    def __call__(self, done, total, steps):
        if self.bar is None:
            one = total == 1
            self.bar = self.tqdm(total=None if one else total, unit="step" if one else "rep",
                                 desc="microsim", leave=False, mininterval=0.1)
            self.one = one
        if self.one:
            self.bar.n = steps
        else:
            self.bar.total = total
            self.bar.n = done
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _progress(progress):
    """(callback, closer) for ``progress=``: None (a tqdm bar in a notebook or on a
    terminal, when tqdm is installed), False, True (tqdm), or a callable(done, total, steps)."""
    if progress is False:
        return None, None
    if callable(progress) and progress is not True:
        return progress, None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress is True:
            raise ImportError("progress=True needs tqdm: pip install tqdm") from None
        return None, None
    if progress is None and not (_in_notebook() or sys.stderr.isatty()):
        return None, None
    bar = _Bar(tqdm)
    return bar, bar.close


def make(native):
    """``run``, ``check`` and ``models`` for the models of the native module ``native``."""
    from ._result import Result

    def run(scenario=None, *, set=None, seed=None, replications=None, threads=None,
            replication=None, out=None, force=False, max_memory=None, model=None, params=None,
            run=None, montecarlo=None, output=None, sweep=None, name=None, description=None,
            plots=True, progress=None, frames=None):
        """Runs a scenario as ``microsim run`` does and returns its :class:`Result`.

        A scenario file with the command line's options::

            run("scenarios/mamma_mia.toml", set={"model.items": 900_000},
                replications=100, threads=2, out="outputs/mm")

        or a scenario made of dicts (checked as a file is; errors name the field)::

            run(model="gift_lottery", params={"items": 600_000, "bins": 2_000_000},
                run={"seed": 2008}, montecarlo={"replications": 20},
                sweep={"model.keep_fraction": [0.0, 0.02, 0.1]})

        ``sweep=`` also sweeps a scenario file (as ``--set sweep.grid.FIELD=...`` does).
        ``replication=K`` re-creates replication K alone. ``out`` defaults to ``[output] dir``,
        else ``outputs/<scenario name>`` (``-2``, ``-3``, … if taken); a named ``out`` that
        holds a result is refused unless ``force=True``. The result directory holds the bytes
        the command line writes (plots and report.html too, unless ``plots=False``).

        The GIL is released while it runs. Ctrl-C (a notebook's interrupt) stops it as the
        command line's first Ctrl-C does and raises :class:`~microsim.Interrupted`, whose
        ``result`` is the partial result; a second Ctrl-C leaves at once. ``progress``: None
        (a tqdm bar in a notebook or on a terminal, if tqdm is installed), False, True, or a
        callable ``(done, total, steps)`` called at most 10 times a second.

        Raises :class:`~microsim.ScenarioError` for a scenario that cannot run (with
        ``file``, ``line``, ``column``, ``field``, ``hint``) and :class:`~microsim.RunError`
        for a run that failed.
        """
        file, text, sets, line = _request(
            scenario, set=set, seed=seed, replications=replications, threads=threads,
            replication=replication, model=model, params=params, run=run,
            montecarlo=montecarlo, output=output, sweep=sweep, name=name,
            description=description)
        if out is not None:
            line += ["--out", os.fspath(out)]
        if force:
            line.append("--force")
        callback, close = _progress(progress)
        try:
            done = native._run(
                native._models, file, text, sets, _whole("seed", seed),
                _whole("threads", threads), _whole("replications", replications),
                _whole("replication", replication),
                None if out is None else os.fspath(out), bool(force), max_memory, bool(plots),
                ["microsim.run"] + line, callback)
        finally:
            if close is not None:
                close()
        result = Result(done["dir"], frames=frames)
        result.notes = list(done["notes"])
        if done["interrupted"]:
            raise Interrupted(result)
        return result

    def check(scenario=None, *, set=None, seed=None, replications=None, threads=None,
              replication=None, max_memory=None, model=None, params=None, run=None,
              montecarlo=None, output=None, sweep=None, name=None, description=None):
        """Reads and checks a scenario as ``run`` would, without running it. Returns a dict:
        ``name``, ``model``, ``scenario`` (the resolved TOML, as ``scenario.toml`` would hold
        it), ``variants``, ``replications``, ``memory_estimate``, ``memory_limit``,
        ``memory_limit_source``. Raises :class:`~microsim.ScenarioError` as ``run`` does."""
        file, text, sets, _ = _request(
            scenario, set=set, seed=seed, replications=replications, threads=threads,
            replication=replication, model=model, params=params, run=run,
            montecarlo=montecarlo, output=output, sweep=sweep, name=name,
            description=description)
        return native._check(native._models, file, text, sets, _whole("seed", seed),
                             _whole("threads", threads), _whole("replications", replications),
                             _whole("replication", replication), max_memory)

    def models():
        """The models these functions run: a list of dicts (``name``, ``summary``,
        ``metrics``, ``counters``, ``starter``: the commented ``[model]`` section)."""
        return native._model_list(native._models)

    return run, check, models


def bind(module):
    """Gives a native module made by ``microsim_py::module!`` the microsim Python API, for
    its own models: ``run``, ``check``, ``models``; and ``load``, ``compare``, ``Result``,
    ``Histogram`` and the errors."""
    import microsim

    module.run, module.check, module.models = make(module)
    for name in ("load", "compare", "Result", "Histogram", "MicrosimError", "ScenarioError",
                 "RunError", "Interrupted"):
        setattr(module, name, getattr(microsim, name))
    module.__all__ = ["run", "check", "models", "load", "compare", "Result", "Histogram",
                      "MicrosimError", "ScenarioError", "RunError", "Interrupted"]
