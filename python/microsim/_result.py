"""A result directory read back: ``Result``, ``load``, ``compare``.

Everything is read from the files the output contract names (``summary.json``,
``replications.csv``, ``steps.csv``, ``details.json``, ``histograms/*.hlog``, ``sweep.csv``,
``variants/NNN/``), lazily, once each. Readers are tolerant: a column or file added later is
kept, seeds may be JSON numbers or strings.
"""

import json
import os
from pathlib import Path

import numpy as np

from ._errors import ScenarioError

_FRAMES = ("pandas", "polars")


def _default_frames():
    env = os.environ.get("MICROSIM_FRAMES")
    if env:
        return env
    for name in _FRAMES:
        try:
            __import__(name)
            return name
        except ImportError:
            pass
    return None


def _seed(v):
    """A seed as an int, whether written as a JSON number or a string."""
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return v


def _read_csv(path, frames):
    if frames == "polars":
        import polars as pl

        head = path.open().readline().rstrip("\r\n").split(",")
        overrides = {"seed": pl.UInt64} if "seed" in head else None
        df = pl.read_csv(path, schema_overrides=overrides)
        return df
    if frames == "pandas":
        import pandas as pd

        df = pd.read_csv(path, dtype={"seed": str})
        if "seed" in df.columns:
            df["seed"] = df["seed"].map(lambda s: int(str(s).strip('"'))).astype("uint64")
        return df
    raise ImportError("microsim's tables are DataFrames: pip install pandas (or polars)")


class Histogram:
    """A histogram decoded from ``histograms/NAME.hlog``: ``values`` and ``counts`` (numpy
    uint64 arrays, values increasing; each value the highest one equivalent to its bucket,
    exact below 2048), with ``total``, ``min``, ``max``, ``mean``, ``stdev``.
    ``values, counts = h`` unpacks it."""

    def __init__(self, name, values, counts, stats):
        self.name = name
        self.values = values
        self.counts = counts
        self.total = stats["total"]
        self.min = stats["min"]
        self.max = stats["max"]
        self.mean = stats["mean"]
        self.stdev = stats["stdev"]
        self.significant_digits = stats["significant_digits"]

    def __iter__(self):
        return iter((self.values, self.counts))

    def __len__(self):
        return len(self.values)

    def quantile(self, q):
        """The smallest recorded value with at least a fraction ``q`` of the counts at or
        below it."""
        if not len(self.values):
            return None
        cum = np.cumsum(self.counts)
        i = int(np.searchsorted(cum, q * cum[-1], side="left"))
        return int(self.values[min(i, len(self.values) - 1)])

    def to_frame(self, frames=None):
        """``value``, ``count`` as a DataFrame."""
        frames = frames or _default_frames()
        if frames == "polars":
            import polars as pl

            return pl.DataFrame({"value": self.values, "count": self.counts})
        import pandas as pd

        return pd.DataFrame({"value": self.values, "count": self.counts})

    def __repr__(self):
        return (f"<Histogram {self.name}: {self.total} recorded, {len(self.values)} values "
                f"from {self.min} to {self.max}, mean {self.mean:.6g}>")


class Result:
    """A result directory (written by ``microsim.run``, the command line, ``merge`` or MPI
    ranks), read lazily.

    - ``dir``: the directory (a ``pathlib.Path``)
    - ``summary``: ``summary.json`` as a dict (``metrics``, ``manifest``, …)
    - ``metrics``: the summary's metrics as a DataFrame, one row per metric
    - ``replications``: ``replications.csv`` (one row per replication)
    - ``steps``: ``steps.csv`` (one row per step of every replication)
    - ``sweep``: ``sweep.csv`` for a sweep (variants, their means and the paired differences
      to the baseline), else None; ``variants``: each variant's ``Result``
    - ``details``: ``details.json`` (each replication's model details)
    - ``histogram(name)``: a :class:`Histogram`; ``histograms``: the names
    - ``partial``: whether the run was interrupted (or never finished)
    - ``scenario``: the resolved scenario (``scenario.toml``'s text)

    Tables are pandas DataFrames, or polars ones where pandas is not installed (or with
    ``frames="polars"``, or ``MICROSIM_FRAMES=polars``).
    """

    def __init__(self, dir, frames=None):
        self.dir = Path(dir)
        self.frames = frames or _default_frames()
        if self.frames is not None and self.frames not in _FRAMES:
            raise ValueError(f"frames={self.frames!r}: use 'pandas' or 'polars'")
        if not self.dir.is_dir():
            raise FileNotFoundError(f"{self.dir}: not a result directory (no such directory)")
        if not (self.dir / "summary.json").is_file():
            why = ("its run has not finished (INCOMPLETE is there)"
                   if (self.dir / "INCOMPLETE").exists() else "it has no summary.json")
            raise ScenarioError(f"{self.dir}: not a finished result directory: {why}",
                                kind="usage", hint="give a directory written by microsim run")
        self.notes = []
        self._cache = {}

    def _once(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _file(self, name):
        return self.dir / name

    @property
    def summary(self):
        def read():
            with self._file("summary.json").open() as f:
                s = json.load(f)
            if "seed" in s:
                s["seed"] = _seed(s["seed"])
            return s

        return self._once("summary", read)

    @property
    def partial(self):
        return bool(self.summary.get("partial")) or self._file("INCOMPLETE").exists()

    @property
    def model(self):
        return self.summary.get("model")

    @property
    def name(self):
        return self.summary.get("scenario")

    @property
    def seed(self):
        return self.summary.get("seed")

    @property
    def scenario(self):
        return self._once("scenario", lambda: self._file("scenario.toml").read_text())

    @property
    def metrics(self):
        def make():
            rows = []
            for name, m in self.summary.get("metrics", {}).items():
                row = {"metric": name}
                for k, v in m.items():
                    if isinstance(v, list) and len(v) == 2:
                        row[f"{k}_lo"], row[f"{k}_hi"] = v
                    elif not isinstance(v, (list, dict)):
                        row[k] = v
                rows.append(row)
            if self.frames == "polars":
                import polars as pl

                return pl.DataFrame(rows)
            import pandas as pd

            return pd.DataFrame(rows).set_index("metric") if rows else pd.DataFrame(rows)

        return self._once("metrics", make)

    def _table(self, name, attr):
        path = self._file(name)
        if not path.exists():
            if "sweep" in self.summary:
                raise FileNotFoundError(
                    f"{self.dir} is a sweep: its table is .sweep, and each variant has its own "
                    f".{attr} (.variants[i].{attr})")
            raise FileNotFoundError(f"{path}: not in the result directory")
        return self._once(attr, lambda: _read_csv(path, self.frames))

    @property
    def replications(self):
        return self._table("replications.csv", "replications")

    @property
    def steps(self):
        return self._table("steps.csv", "steps")

    @property
    def sweep(self):
        path = self._file("sweep.csv")
        return self._once("sweep", lambda: _read_csv(path, self.frames) if path.exists() else None)

    @property
    def variants(self):
        def make():
            d = self._file("variants")
            if not d.is_dir():
                return []
            return [Result(p, frames=self.frames) for p in sorted(d.iterdir()) if p.is_dir()]

        return self._once("variants", make)

    @property
    def details(self):
        def make():
            path = self._file("details.json")
            if path.exists():
                with path.open() as f:
                    return json.load(f)
            lines = self._file("details.jsonl")
            if lines.exists():
                with lines.open() as f:
                    return [json.loads(line) for line in f if line.strip()]
            return []

        return self._once("details", make)

    @property
    def histograms(self):
        d = self._file("histograms")
        return sorted(p.stem for p in d.glob("*.hlog")) if d.is_dir() else []

    def histogram(self, name):
        """The histogram ``histograms/NAME.hlog``, decoded (in Rust, with the hdrhistogram
        crate), as a :class:`Histogram`."""
        from . import _microsim

        path = self._file("histograms") / f"{name}.hlog"
        if not path.exists():
            raise KeyError(f"{name}: no histograms/{name}.hlog in {self.dir} (there are: "
                           f"{', '.join(self.histograms) or 'none'})")

        def make():
            values, counts, stats = _microsim._read_hlog(os.fspath(path))
            return Histogram(name, np.frombuffer(values, dtype="<u8"),
                             np.frombuffer(counts, dtype="<u8"), stats)

        return self._once(("histogram", name), make)

    def __repr__(self):
        s = self.summary
        n = s.get("replications")
        what = f"sweep of {len(self.variants)} variants" if "sweep" in s else \
            f"{n} replication{'' if n == 1 else 's'}"
        flag = ", partial" if self.partial else ""
        return f"<microsim.Result {s.get('scenario')} ({s.get('model')}, {what}{flag}) at {self.dir}>"

    def _repr_html_(self):
        try:
            table = self.metrics
            html = table.to_html() if hasattr(table, "to_html") else table._repr_html_()
        except Exception:
            return None
        from html import escape

        return f"<p>{escape(repr(self))}</p>{html}"


def load(dir, frames=None):
    """The result directory ``dir`` (any: written by ``microsim.run``, the command line,
    ``merge`` or MPI ranks) as a :class:`Result`."""
    return Result(dir, frames=frames)


def compare(a, b, confidence=None, frames=None):
    """Metrics of two runs side by side, as ``microsim compare A B`` computes them: one row
    per metric with ``a`` and ``b`` (the means), ``difference`` (b − a), ``ci_lo``,
    ``ci_hi`` (at A's confidence level unless given), ``significant`` (the interval excludes
    0) and ``method``: ``paired`` when both runs used the same replication seeds (common
    random numbers), else ``welch``. ``a`` and ``b`` are Results or directories."""
    from . import _microsim

    a = a if isinstance(a, Result) else Result(a, frames=frames)
    b = b if isinstance(b, Result) else Result(b, frames=frames)
    for r in (a, b):
        if "sweep" in r.summary:
            raise ScenarioError(f"{r.dir}: this is a sweep; compare two of its variants "
                                "(result.variants[i])", kind="usage")
    if a.model != b.model:
        raise ScenarioError(f"the runs are of different models: {a.model} and {b.model}",
                            kind="usage")
    conf = confidence if confidence is not None else a.summary.get("confidence", 0.95)
    if not 0.5 <= conf <= 0.9999:
        raise ValueError(f"confidence={conf}: use a level from 0.5 to 0.9999, e.g. 0.95")
    ra, rb = _columns(a), _columns(b)
    paired = ra["seed"] == rb["seed"]
    rows = []
    for name in ra["metrics"]:
        if name not in rb["metrics"]:
            continue
        xa, xb = ra["metrics"][name], rb["metrics"][name]
        d = _microsim._difference(xa, xb, paired, conf)
        lo, hi = d["ci"] if d["ci"] is not None else (float("nan"), float("nan"))
        rows.append({"metric": name, "a": _mean(xa), "b": _mean(xb), "difference": d["mean"],
                     "ci_lo": lo, "ci_hi": hi, "significant": d["significant"],
                     "method": d["method"]})
    frames = frames or a.frames
    if frames == "polars":
        import polars as pl

        return pl.DataFrame(rows)
    import pandas as pd

    return pd.DataFrame(rows).set_index("metric")


def _mean(x):
    return sum(x) / max(len(x), 1)


def _columns(r):
    """Seeds and metric columns of ``replications.csv``, read without a DataFrame library
    (the metrics are the columns after ``replication, seed, ending, steps``)."""
    import csv

    with r._file("replications.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    fixed = {"replication", "seed", "ending", "steps"}
    declared = [m for m in r.summary.get("metrics", {})]
    names = [h for h in head if h not in fixed and (not declared or h in declared)]
    cols = {h: i for i, h in enumerate(head)}

    def num(s):
        try:
            return float(s)
        except ValueError:
            return float("nan")

    return {
        "seed": [_seed(row[cols["seed"]].strip('"')) for row in body] if "seed" in cols else [],
        "metrics": {n: [num(row[cols[n]]) for row in body] for n in names},
    }
