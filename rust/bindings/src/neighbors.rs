//! Bindings of the k-nearest-neighbour kernels.

use crate::convert::{dtype_mismatch, ints, rows, run, Mat};
use cs231n_kernels::error::{checked_len, try_zeros};
use cs231n_kernels::{distances, gather, knn, Real};
use numpy::{
    Element, IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyAny;

fn l2_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    x_train: PyReadonlyArray2<'py, T>,
) -> PyResult<Bound<'py, PyAny>> {
    let (a, b) = (rows(&x)?, rows(&x_train)?);
    let (m, n) = (x.shape()[0], x_train.shape()[0]);
    let out = run(py, || {
        let mut out = try_zeros::<T>(checked_len(m, n, "the distance matrix")?, "the distance matrix")?;
        distances::l2_distances(a.rows(), b.rows(), &mut out)?;
        Ok(out)
    })?;
    Ok(out.into_pyarray(py).reshape([m, n])?.into_any())
}

/// dists (num_test, num_train): Euclidean distances between the rows of X and of X_train.
#[pyfunction]
fn l2_distances<'py>(py: Python<'py>, x: Mat<'py>, x_train: Mat<'py>) -> PyResult<Bound<'py, PyAny>> {
    match (x, x_train) {
        (Mat::F64(a), Mat::F64(b)) => l2_impl(py, a, b),
        (Mat::F32(a), Mat::F32(b)) => l2_impl(py, a, b),
        _ => Err(dtype_mismatch("X", "X_train")),
    }
}

fn vote_impl<'py, T: Real + Element>(
    py: Python<'py>,
    dists: PyReadonlyArray2<'py, T>,
    y: PyReadonlyArray1<'py, i64>,
    k: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let d = rows(&dists)?;
    let labels = ints(&y);
    let n = dists.shape()[0];
    let out = run(py, || {
        let mut out = try_zeros::<i64>(n, "the predictions")?;
        knn::knn_vote(d.rows(), &labels, k, &mut out)?;
        Ok(out)
    })?;
    Ok(out.into_pyarray(py))
}

/// y_pred (num_test,) int64: majority label of the k nearest training points (ties: smaller label).
#[pyfunction]
fn knn_vote<'py>(
    py: Python<'py>,
    dists: Mat<'py>,
    y_train: PyReadonlyArray1<'py, i64>,
    k: i64,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    if k < 1 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "k: k must be at least 1, got {k}"
        )));
    }
    match dists {
        Mat::F64(d) => vote_impl(py, d, y_train, k as usize),
        Mat::F32(d) => vote_impl(py, d, y_train, k as usize),
    }
}

fn gather_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    idx: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let xr = rows(&x)?;
    let ix = ints(&idx);
    let (m, d) = (ix.len(), x.shape()[1]);
    let out = run(py, || {
        let mut out = try_zeros::<T>(checked_len(m, d, "the gathered rows")?, "the gathered rows")?;
        gather::gather_rows(xr.rows(), &ix, &mut out)?;
        Ok(out)
    })?;
    Ok(out.into_pyarray(py).reshape([m, d])?.into_any())
}

/// X[idx] for a 2-D X and an int64 index vector.
#[pyfunction]
fn gather_rows<'py>(
    py: Python<'py>,
    x: Mat<'py>,
    idx: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyAny>> {
    match x {
        Mat::F64(a) => gather_impl(py, a, idx),
        Mat::F32(a) => gather_impl(py, a, idx),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(l2_distances, m)?)?;
    m.add_function(wrap_pyfunction!(knn_vote, m)?)?;
    m.add_function(wrap_pyfunction!(gather_rows, m)?)?;
    Ok(())
}
