"""microsim from Python: run scenarios and sweeps, get DataFrames.

    import microsim
    r = microsim.run("scenarios/mamma_mia.toml", replications=100, threads=2)
    r.replications            # one row per replication (pandas, or polars)
    r.summary["metrics"]      # summary.json
    values, counts = r.histogram("copies_per_bin")

``run`` runs the built-in models; a model crate of its own gets a module with the same
``run`` for its models (``microsim_py::module!``, see docs/python.md).
"""

from . import _microsim
from ._api import make as _make, scenario_text, toml_value
from ._errors import Interrupted, MicrosimError, RunError, ScenarioError
from ._result import Histogram, Result, compare, load

run, check, models = _make(_microsim)

__version__ = _microsim.__microsim_version__

__all__ = ["run", "check", "models", "load", "compare", "Result", "Histogram",
           "MicrosimError", "ScenarioError", "RunError", "Interrupted", "scenario_text",
           "toml_value"]
