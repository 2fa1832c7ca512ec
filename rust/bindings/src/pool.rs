//! Bindings of the pool kernels (max pooling of (N, C, H, W) images). The Python wrappers in
//! `cs231n_rs._pooling` own `pool_param`, the caches and the dtype promotion.

use crate::by_dtype;
use crate::convert::{empty, run, typed4, Arr4};
use cs231n_kernels::pool::{self, PoolShape, Ties};
use cs231n_kernels::Real;
use numpy::{Element, PyReadonlyArray4, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

type Arr<'py> = Bound<'py, PyAny>;

/// The pool parameters as sizes (ValueError for negative values; the kernel refuses zeros).
fn pool_shape(pool_height: i64, pool_width: i64, stride: i64) -> PyResult<PoolShape> {
    let size = |name: &str, v: i64| {
        usize::try_from(v).map_err(|_| PyValueError::new_err(format!("{name}: must be at least 1, got {v}")))
    };
    Ok(PoolShape {
        pool_height: size("pool_height", pool_height)?,
        pool_width: size("pool_width", pool_width)?,
        stride: size("stride", stride)?,
    })
}

fn dims<T: Element>(a: &PyReadonlyArray4<'_, T>) -> [usize; 4] {
    let s = a.shape();
    [s[0], s[1], s[2], s[3]]
}

fn forward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray4<'py, T>,
    p: PoolShape,
) -> PyResult<Arr<'py>> {
    let shape = pool::output_shape(dims(&x), p).map_err(crate::convert::to_pyerr)?;
    let (arr, mut out) = empty::<T>(py, &shape)?;
    let xv = x.as_array();
    run(py, || pool::max_pool_forward(xv, p, out.get()))?;
    Ok(arr)
}

/// out (N, C, H', W'): the max of every pool_height x pool_width window of x (N, C, H, W), windows
/// `stride` apart (NaN propagates); any strides in, C order out.
#[pyfunction]
fn max_pool_forward<'py>(
    py: Python<'py>,
    x: Arr4<'py>,
    pool_height: i64,
    pool_width: i64,
    stride: i64,
) -> PyResult<Arr<'py>> {
    let p = pool_shape(pool_height, pool_width, stride)?;
    by_dtype!(Arr4, x, x => forward_impl(py, x, p))
}

fn backward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    dout: PyReadonlyArray4<'py, T>,
    x: &Arr<'py>,
    p: PoolShape,
    ties: Ties,
) -> PyResult<Arr<'py>> {
    let x = typed4::<T>(x, "x")?;
    let (arr, mut dx) = empty::<T>(py, &dims(&x))?;
    let (dv, xv) = (dout.as_array(), x.as_array());
    run(py, || pool::max_pool_backward(dv, xv, p, ties, dx.get()))?;
    Ok(arr)
}

/// dx (N, C, H, W) of max pooling, given dout (N, C, H', W') and x (the same dtype): each window's
/// gradient goes to its first maximum, or (split_ties) is shared equally by its tied maxima.
#[pyfunction]
fn max_pool_backward<'py>(
    py: Python<'py>,
    dout: Arr4<'py>,
    x: Arr<'py>,
    pool_height: i64,
    pool_width: i64,
    stride: i64,
    split_ties: bool,
) -> PyResult<Arr<'py>> {
    let p = pool_shape(pool_height, pool_width, stride)?;
    let ties = if split_ties {
        Ties::SplitTies
    } else {
        Ties::FirstMax
    };
    by_dtype!(Arr4, dout, d => backward_impl(py, d, &x, p, ties))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(max_pool_forward, m)?)?;
    m.add_function(wrap_pyfunction!(max_pool_backward, m)?)?;
    Ok(())
}
