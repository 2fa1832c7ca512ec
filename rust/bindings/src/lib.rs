//! `cs231n_rs._core`: the thin PyO3 layer over `cs231n_kernels`.
//!
//! Every function here does four things and nothing else: borrow the NumPy arrays (any strides),
//! check what the kernel cannot (dtype agreement), run the kernel through [`run`] (which releases
//! the GIL and maps errors), and hand the result back to NumPy without a copy. The public API, with
//! its dtype promotion and cs231n's conventions, is the Python package on top.

mod convert;
mod linear;
mod neighbors;

use convert::run;
use pyo3::prelude::*;

/// Sets the number of threads the kernels use (at least 1).
#[pyfunction]
fn set_num_threads(py: Python<'_>, n: i64) -> PyResult<()> {
    if n < 1 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "n: the number of threads must be at least 1, got {n}"
        )));
    }
    run(py, || cs231n_kernels::threads::set_num_threads(n as usize))
}

/// The number of threads the kernels use.
#[pyfunction]
fn get_num_threads() -> usize {
    cs231n_kernels::threads::num_threads()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("NUM_THREADS_ENV_VAR", cs231n_kernels::threads::ENV_VAR)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    neighbors::register(m)?;
    linear::register(m)?;
    Ok(())
}
