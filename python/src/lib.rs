//! `microsim._microsim`: the `microsim` Python package's native module, with the built-in
//! models. The bindings are in `microsim-py`; `microsim/__init__.py` binds the Python API.

#[global_allocator]
static ALLOC: microsim::alloc::Allocator = microsim::alloc::Allocator;

use microsim_py::pyo3;
use pyo3::prelude::*;

#[pymodule]
#[pyo3(crate = "microsim_py::pyo3")]
fn _microsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    microsim_py::add_to(m, microsim::Registry::builtin())
}
