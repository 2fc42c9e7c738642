//! Python bindings of microsim: a [`Registry`] becomes a Python module that runs its models.
//!
//! The `microsim` Python package is one such module, of [`Registry::builtin`]. A crate with
//! models of its own gets its own module (and wheel, built by maturin) from the registry it
//! gives [`microsim::cli::main`]:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: microsim::alloc::Allocator = microsim::alloc::Allocator;
//!
//! microsim_py::module!(my_models, microsim::Registry::builtin().with::<MyParams>());
//! ```
//!
//! `import my_models` then has `run`, `check` and `models` for those models, and the
//! `microsim` package's `load`, `compare`, `Result` and errors (the wheel needs the `microsim`
//! package installed beside it). The dependency must be named `microsim-py` (the macro
//! reaches pyo3 as `::microsim_py::pyo3`).
//!
//! What the module holds, for the Python side (`microsim/_api.py`): `_models` (the registry),
//! `_run` (runs a scenario on a thread of its own, the GIL released; Ctrl-C stops it as the
//! command line's first Ctrl-C does), `_check`, `_model_list`, `_read_hlog` and
//! `_difference`.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use microsim::Registry;
use microsim::embed::{self, Control, Request};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

pub use microsim;
pub use pyo3;

/// A Python module named `$name` that runs the models of `$registry` (an expression giving a
/// [`Registry`]), with the `microsim` package's Python API bound to it.
#[macro_export]
macro_rules! module {
    ($name:ident, $registry:expr) => {
        #[$crate::pyo3::pymodule]
        #[pyo3(crate = "::microsim_py::pyo3")]
        fn $name(
            m: &$crate::pyo3::Bound<'_, $crate::pyo3::types::PyModule>,
        ) -> $crate::pyo3::PyResult<()> {
            $crate::init(m, $registry)
        }
    };
}

/// Fills module `m` for `registry` and binds the `microsim` package's Python API to it
/// (`run`, `check`, `models` for these models; `load`, `compare`, `Result`, the errors):
/// what [`module!`] does.
pub fn init(m: &Bound<'_, PyModule>, registry: Registry) -> PyResult<()> {
    add_to(m, registry)?;
    m.py()
        .import("microsim._api")?
        .getattr("bind")?
        .call1((m,))?;
    Ok(())
}

/// Fills module `m` with the native functions for `registry`, without the Python API (the
/// `microsim` package's own module: its `__init__.py` binds the API).
pub fn add_to(m: &Bound<'_, PyModule>, registry: Registry) -> PyResult<()> {
    microsim::alloc::keep_freed_pages();
    m.add("_models", Models { registry })?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(model_list, m)?)?;
    m.add_function(wrap_pyfunction!(read_hlog, m)?)?;
    m.add_function(wrap_pyfunction!(difference, m)?)?;
    m.add("__microsim_version__", microsim_version())?;
    Ok(())
}

fn microsim_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The models a module runs.
#[pyclass(frozen, name = "Models", module = "microsim")]
pub struct Models {
    registry: Registry,
}

#[pymethods]
impl Models {
    fn __repr__(&self) -> String {
        format!("<microsim models {:?}>", self.registry.names())
    }
}

/// A request as the Python side passes it (the command line's options, by name).
#[allow(clippy::too_many_arguments)]
fn request(
    file: PathBuf,
    text: Option<String>,
    set: Vec<String>,
    seed: Option<u64>,
    threads: Option<u64>,
    replications: Option<u64>,
    replication: Option<u64>,
    out: Option<PathBuf>,
    force: bool,
    max_memory: Option<String>,
    plots: bool,
    command_line: Vec<String>,
) -> Request {
    Request {
        file,
        text,
        set,
        seed,
        threads,
        replications,
        replication,
        out,
        force,
        max_memory,
        plots,
        command_line,
    }
}

/// The error as the `microsim` package's exception: `ScenarioError` for bad input (with
/// `kind`, `file`, `line`, `column`, `field`, `set` and `hint`), `RunError` for a failed run.
fn raise(py: Python<'_>, e: embed::Error) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let errors = py.import("microsim._errors")?;
        let class = errors.getattr(if e.is_input() {
            "ScenarioError"
        } else {
            "RunError"
        })?;
        let kw = PyDict::new(py);
        kw.set_item("kind", e.kind)?;
        kw.set_item("file", &e.file)?;
        kw.set_item("line", e.line)?;
        kw.set_item("column", e.column)?;
        kw.set_item("field", &e.field)?;
        kw.set_item("set", &e.set)?;
        kw.set_item("hint", &e.hint)?;
        let value = class.call((e.message.clone(),), Some(&kw))?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|err| err)
}

/// Where the run's thread leaves its outcome.
type Slot = Arc<(
    Mutex<Option<Result<embed::Finished, embed::Error>>>,
    Condvar,
)>;

/// Runs a scenario; returns a dict (`dir`, `partial`, `interrupted`, `replications`,
/// `checkpoint`, `notes`). The run has a thread of its own and the GIL is released while it
/// runs; every 0.1 s this thread looks for signals (a first Ctrl-C stops the run as the
/// command line's does and its partial results are returned with `interrupted`; a second
/// raises KeyboardInterrupt at once, leaving the run to finish writing on its own) and calls
/// `progress(done, total, steps)` if the counts moved. The run never waits for either.
#[pyfunction]
#[pyo3(name = "_run", signature = (models, file, text, set, seed, threads, replications,
    replication, out, force, max_memory, plots, command_line, progress))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    models: &Bound<'_, Models>,
    file: PathBuf,
    text: Option<String>,
    set: Vec<String>,
    seed: Option<u64>,
    threads: Option<u64>,
    replications: Option<u64>,
    replication: Option<u64>,
    out: Option<PathBuf>,
    force: bool,
    max_memory: Option<String>,
    plots: bool,
    command_line: Vec<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyDict>> {
    let req = request(
        file,
        text,
        set,
        seed,
        threads,
        replications,
        replication,
        out,
        force,
        max_memory,
        plots,
        command_line,
    );
    let registry = models.get().registry.clone();
    let control = Arc::new(Control::new());
    let slot: Slot = Arc::new((Mutex::new(None), Condvar::new()));
    {
        let (control, slot) = (control.clone(), slot.clone());
        std::thread::Builder::new()
            .name("microsim-run".into())
            .spawn(move || {
                // A panic in the run is caught and told, not left to end the thread silently.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    embed::run(&registry, &req, &control)
                }))
                .unwrap_or_else(|p| {
                    let why = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "a panic".into());
                    Err(embed::Error::new("run", format!("the run failed: {why}")))
                });
                let (lock, cv) = &*slot;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                cv.notify_all();
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the run: {e}")))?;
    }
    let mut interrupted = false;
    let mut pending: Option<PyErr> = None;
    let mut shown = (u64::MAX, u64::MAX, u64::MAX);
    let mut progress = progress;
    let mut tell = |py: Python<'_>, progress: &mut Option<Py<PyAny>>| {
        let now = (
            control.replications_done(),
            control.total(),
            control.steps_done(),
        );
        if let Some(cb) = progress.as_ref()
            && now != shown
        {
            shown = now;
            if let Err(e) = cb.call1(py, now) {
                // A progress display that fails is dropped, and says why once.
                e.print(py);
                *progress = None;
            }
        }
    };
    let outcome = loop {
        let done = py.detach(|| {
            let (lock, cv) = &*slot;
            let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (mut guard, _) = cv
                .wait_timeout_while(guard, Duration::from_millis(100), |o| o.is_none())
                .unwrap_or_else(|e| e.into_inner());
            guard.take()
        });
        if let Some(outcome) = done {
            break outcome;
        }
        if let Err(e) = py.check_signals() {
            if interrupted || pending.is_some() {
                return Err(e);
            }
            // Ctrl-C: the partial result is returned (`interrupted`). Another exception from
            // a signal handler of the program's own is raised once the run has stopped.
            if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                interrupted = true;
            } else {
                pending = Some(e);
            }
            control.stop();
        }
        tell(py, &mut progress);
    };
    tell(py, &mut progress);
    let finished = outcome.map_err(|e| raise(py, e))?;
    if let Some(e) = pending {
        return Err(e);
    }
    let d = PyDict::new(py);
    d.set_item("dir", &finished.dir)?;
    d.set_item("partial", finished.partial)?;
    d.set_item("interrupted", interrupted)?;
    d.set_item("replications", finished.replications)?;
    d.set_item("checkpoint", &finished.checkpoint)?;
    d.set_item("notes", PyList::new(py, &finished.notes)?)?;
    Ok(d.unbind())
}

/// Reads and checks a scenario as `run` would, without running it; returns a dict (`name`,
/// `model`, `scenario` (the resolved TOML), `variants`, `replications`, `memory_estimate`,
/// `memory_limit`, `memory_limit_source`).
#[pyfunction]
#[pyo3(name = "_check", signature = (models, file, text, set, seed, threads, replications,
    replication, max_memory))]
#[allow(clippy::too_many_arguments)]
fn check(
    py: Python<'_>,
    models: &Bound<'_, Models>,
    file: PathBuf,
    text: Option<String>,
    set: Vec<String>,
    seed: Option<u64>,
    threads: Option<u64>,
    replications: Option<u64>,
    replication: Option<u64>,
    max_memory: Option<String>,
) -> PyResult<Py<PyDict>> {
    let req = request(
        file,
        text,
        set,
        seed,
        threads,
        replications,
        replication,
        None,
        false,
        max_memory,
        false,
        Vec::new(),
    );
    let checked = embed::check(&models.get().registry, &req).map_err(|e| raise(py, e))?;
    let d = PyDict::new(py);
    d.set_item("name", checked.name)?;
    d.set_item("model", checked.model)?;
    d.set_item("scenario", checked.resolved_toml)?;
    d.set_item("variants", checked.variants)?;
    d.set_item("replications", checked.replications)?;
    d.set_item("memory_estimate", checked.memory_estimate_bytes)?;
    d.set_item("memory_limit", checked.memory_limit_bytes)?;
    d.set_item("memory_limit_source", checked.memory_limit_source)?;
    Ok(d.unbind())
}

/// The models: a list of dicts (`name`, `summary`, `metrics`, `counters`, `starter`).
#[pyfunction]
#[pyo3(name = "_model_list")]
fn model_list(py: Python<'_>, models: &Bound<'_, Models>) -> PyResult<Py<PyList>> {
    let list = PyList::empty(py);
    for info in models.get().registry.models() {
        let d = PyDict::new(py);
        d.set_item("name", info.name)?;
        d.set_item("summary", info.summary)?;
        d.set_item("starter", info.starter)?;
        let names = |qs: &[microsim::Quantity]| qs.iter().map(|q| q.name).collect::<Vec<_>>();
        d.set_item("metrics", names(info.metrics))?;
        d.set_item("counters", names(info.counters))?;
        list.append(d)?;
    }
    Ok(list.unbind())
}

/// Decodes an HdrHistogram interval log (`histograms/NAME.hlog`), adding up its intervals.
/// Returns `(values, counts, stats)`: the recorded values and their counts as little-endian
/// u64 bytes (for `numpy.frombuffer`), in increasing order, each value the highest one
/// equivalent to its bucket (exact below 2048 at 3 significant digits); and a dict of
/// `total`, `min`, `max`, `mean`, `stdev`, `significant_digits`.
#[pyfunction]
#[pyo3(name = "_read_hlog")]
fn read_hlog(py: Python<'_>, path: PathBuf) -> PyResult<(Py<PyBytes>, Py<PyBytes>, Py<PyDict>)> {
    let bytes = std::fs::read(&path).map_err(|e| {
        PyErr::new::<pyo3::exceptions::PyOSError, _>(format!("{}: {e}", path.display()))
    })?;
    let bad =
        |why: String| pyo3::exceptions::PyValueError::new_err(format!("{}: {why}", path.display()));
    let h = py.detach(|| decode_hlog(&bytes)).map_err(bad)?;
    let (mut values, mut counts) = (Vec::new(), Vec::new());
    for v in h.iter_recorded() {
        values.extend_from_slice(&v.value_iterated_to().to_le_bytes());
        counts.extend_from_slice(&v.count_at_value().to_le_bytes());
    }
    let stats = PyDict::new(py);
    stats.set_item("total", h.len())?;
    stats.set_item("min", h.min())?;
    stats.set_item("max", h.max())?;
    stats.set_item("mean", h.mean())?;
    stats.set_item("stdev", h.stdev())?;
    stats.set_item("significant_digits", h.sigfig())?;
    Ok((
        PyBytes::new(py, &values).unbind(),
        PyBytes::new(py, &counts).unbind(),
        stats.unbind(),
    ))
}

/// The histogram of an interval log, its intervals added up.
fn decode_hlog(bytes: &[u8]) -> Result<hdrhistogram::Histogram<u64>, String> {
    use base64::Engine as _;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let mut total: Option<hdrhistogram::Histogram<u64>> = None;
    let mut de = hdrhistogram::serialization::Deserializer::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|e| format!("not an interval log: {e:?}"))?;
        let LogEntry::Interval(iv) = entry else {
            continue;
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(iv.encoded_histogram())
            .map_err(|e| format!("bad base64 in an interval: {e}"))?;
        let h: hdrhistogram::Histogram<u64> = de
            .deserialize(&mut raw.as_slice())
            .map_err(|e| format!("cannot decode a histogram: {e:?}"))?;
        match &mut total {
            None => total = Some(h),
            Some(t) => t
                .add(&h)
                .map_err(|e| format!("cannot merge intervals: {e:?}"))?,
        }
    }
    total.ok_or_else(|| "the log has no interval".to_string())
}

/// `b − a` for one metric as `microsim compare` computes it: paired (replication by
/// replication) or Welch; a dict (`mean`, `ci`, `ci95`, `significant`, `method`).
#[pyfunction]
#[pyo3(name = "_difference")]
fn difference(
    py: Python<'_>,
    a: Vec<f64>,
    b: Vec<f64>,
    paired: bool,
    confidence: f64,
) -> PyResult<Py<PyDict>> {
    use microsim::results::{Difference, Summary};
    let d = if paired {
        Difference::paired(&a, &b, confidence)
    } else if a.is_empty() || b.is_empty() {
        Difference::paired(&[], &[], confidence)
    } else {
        Difference::welch(
            &Summary::at(&a, confidence),
            &Summary::at(&b, confidence),
            confidence,
        )
    };
    let out = PyDict::new(py);
    out.set_item("mean", d.mean)?;
    out.set_item("ci", d.ci.map(|[lo, hi]| (lo, hi)))?;
    out.set_item("ci95", d.ci95.map(|[lo, hi]| (lo, hi)))?;
    out.set_item("significant", d.significant)?;
    out.set_item("method", d.method)?;
    Ok(out.unbind())
}
