//! Bindings of the linear-classifier losses (SVM hinge, softmax cross-entropy).

use crate::convert::{dtype_mismatch, ints, rows, run, Mat};
use cs231n_kernels::error::{checked_len, try_zeros};
use cs231n_kernels::linear_loss::{linear_loss as kernel, Hinge, HingeLoop, ScoreLoss, SoftmaxCrossEntropy};
use cs231n_kernels::Real;
use numpy::{
    Element, IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyAny;

fn loss_impl<'py, T: Real + Element, L: ScoreLoss>(
    py: Python<'py>,
    w: PyReadonlyArray2<'py, T>,
    x: PyReadonlyArray2<'py, T>,
    y: PyReadonlyArray1<'py, i64>,
    reg: f64,
    idx: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<(f64, Bound<'py, PyAny>)> {
    let (wr, xr) = (rows(&w)?, rows(&x)?);
    let labels = ints(&y);
    let ix = idx.as_ref().map(ints);
    let (d, c) = (w.shape()[0], w.shape()[1]);
    let (loss, dw) = run(py, || {
        let mut dw = try_zeros::<T>(checked_len(d, c, "dW")?, "dW")?;
        let loss = kernel::<T, L>(wr.rows(), xr.rows(), &labels, ix.as_deref(), T::of(reg), &mut dw)?;
        Ok((loss, dw))
    })?;
    Ok((loss, dw.into_pyarray(py).reshape([d, c])?.into_any()))
}

/// (loss, dW) of the linear classifier `kind` ("svm" or "softmax") at W on X[idx] (or X), y.
#[pyfunction]
#[pyo3(signature = (kind, w, x, y, reg, idx=None))]
fn linear_loss<'py>(
    py: Python<'py>,
    kind: &str,
    w: Mat<'py>,
    x: Mat<'py>,
    y: PyReadonlyArray1<'py, i64>,
    reg: f64,
    idx: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<(f64, Bound<'py, PyAny>)> {
    macro_rules! with_loss {
        ($L:ty) => {
            match (w, x) {
                (Mat::F64(w), Mat::F64(x)) => loss_impl::<f64, $L>(py, w, x, y, reg, idx),
                (Mat::F32(w), Mat::F32(x)) => loss_impl::<f32, $L>(py, w, x, y, reg, idx),
                _ => Err(dtype_mismatch("W", "X")),
            }
        };
    }
    match kind {
        "svm" => with_loss!(Hinge),
        "svm_naive" => with_loss!(HingeLoop),
        "softmax" => with_loss!(SoftmaxCrossEntropy),
        other => Err(PyValueError::new_err(format!(
            "kind: expected 'svm', 'svm_naive' or 'softmax', got {other:?}"
        ))),
    }
}

fn predict_impl<'py, T: Real + Element>(
    py: Python<'py>,
    w: PyReadonlyArray2<'py, T>,
    x: PyReadonlyArray2<'py, T>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let (wr, xr) = (rows(&w)?, rows(&x)?);
    let n = x.shape()[0];
    let out = run(py, || {
        let mut out = try_zeros::<i64>(n, "the predictions")?;
        cs231n_kernels::linear_loss::linear_predict(wr.rows(), xr.rows(), &mut out)?;
        Ok(out)
    })?;
    Ok(out.into_pyarray(py))
}

/// y_pred (N,) int64 = argmax of X W per row.
#[pyfunction]
fn linear_predict<'py>(py: Python<'py>, w: Mat<'py>, x: Mat<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
    match (w, x) {
        (Mat::F64(w), Mat::F64(x)) => predict_impl(py, w, x),
        (Mat::F32(w), Mat::F32(x)) => predict_impl(py, w, x),
        _ => Err(dtype_mismatch("W", "X")),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(linear_loss, m)?)?;
    m.add_function(wrap_pyfunction!(linear_predict, m)?)?;
    Ok(())
}
