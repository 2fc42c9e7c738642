//! `import random_walkers`: examples/random_walkers.rs, the model written outside the crate,
//! as a Python module of its own. The model file is the example's; these lines are all it
//! takes (its `main` is the command line, unused here).

#[allow(dead_code)]
#[path = "../../../../examples/random_walkers.rs"]
mod walkers;

microsim_py::module!(random_walkers, walkers::registry());
