//! `cs231n_rs._core`: the thin PyO3 layer over `cs231n_kernels`.
//!
//! Every function here does four things and nothing else: borrow the NumPy arrays (any strides),
//! check what the kernel cannot (dtype agreement), run the kernel through [`run`] (which releases
//! the GIL and maps errors), and hand the result back to NumPy without a copy. The public API, with
//! its dtype promotion and cs231n's conventions, is the Python package on top.

mod conv;
mod convert;
mod features;
mod layers;
mod linear;
mod neighbors;
mod optim;
mod pool;
mod recycle;

use convert::run;
use pyo3::prelude::*;

/// Sets the number of threads the kernels use (at least 1).
#[pyfunction]
fn set_num_threads(py: Python<'_>, n: &Bound<'_, PyAny>) -> PyResult<()> {
    let max = cs231n_kernels::threads::MAX_THREADS;
    let n: usize = match n.extract::<i64>() {
        Ok(v) if v >= 1 && v as usize <= max => v as usize,
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "n: the number of threads must be an int between 1 and {max}, got {n}"
            )))
        }
    };
    run(py, || cs231n_kernels::threads::set_num_threads(n))
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
    m.add("MAX_THREADS", cs231n_kernels::threads::MAX_THREADS)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    neighbors::register(m)?;
    linear::register(m)?;
    layers::register(m)?;
    optim::register(m)?;
    features::register(m)?;
    conv::register(m)?;
    pool::register(m)?;
    Ok(())
}
