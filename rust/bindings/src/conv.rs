//! Bindings of the convolution kernels: forward, backward, and the image conversions im2col /
//! col2im. Python validates `conv_param` and owns the caches.

use crate::by_dtype;
use crate::convert::{empty, run, typed1, typed4, Arr4, Mat};
use cs231n_kernels::conv::{self, ConvGeom};
use cs231n_kernels::Real;
use numpy::ndarray::ArrayView4;
use numpy::{Element, PyReadonlyArray4, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyAny;
use std::borrow::Cow;

type Arr<'py> = Bound<'py, PyAny>;

fn dims4<T: Element>(a: &PyReadonlyArray4<'_, T>) -> [usize; 4] {
    let s = a.shape();
    [s[0], s[1], s[2], s[3]]
}

fn geom(x: [usize; 4], w: [usize; 4], stride: usize, pad: usize) -> PyResult<ConvGeom> {
    ConvGeom::new(x, w, stride, pad).map_err(crate::convert::to_pyerr)
}

/// The elements of a 4-D array in C order (borrowed when it already is C-contiguous).
fn c_order<'a, T: Real + Element>(v: ArrayView4<'a, T>) -> Cow<'a, [T]> {
    match v.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.iter().copied().collect()),
    }
}

fn forward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray4<'py, T>,
    w: &Arr<'py>,
    b: &Arr<'py>,
    stride: usize,
    pad: usize,
) -> PyResult<Arr<'py>> {
    let (w, b) = (typed4::<T>(w, "w")?, typed1::<T>(b, "b")?);
    let g = geom(dims4(&x), dims4(&w), stride, pad)?;
    let (wv, bv) = (c_order(w.as_array()), b.as_array().to_vec());
    let (arr, mut out) = empty::<T>(py, &[g.n, g.f, g.ho, g.wo])?;
    let xv = x.as_array();
    run(py, || conv::conv_forward(&g, xv, &wv, &bv, out.get()))?;
    Ok(arr)
}

/// out (N, F, H', W') = conv(x (N, C, H, W), w (F, C, HH, WW)) + b (F,); any strides.
#[pyfunction]
fn conv_forward<'py>(
    py: Python<'py>,
    x: Arr4<'py>,
    w: Arr<'py>,
    b: Arr<'py>,
    stride: usize,
    pad: usize,
) -> PyResult<Arr<'py>> {
    by_dtype!(Arr4, x, x => forward_impl(py, x, &w, &b, stride, pad))
}

type Grads3<'py> = (Option<Arr<'py>>, Option<Arr<'py>>, Option<Arr<'py>>);

#[allow(clippy::too_many_arguments)]
fn backward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    dout: PyReadonlyArray4<'py, T>,
    x: &Arr<'py>,
    w: &Arr<'py>,
    stride: usize,
    pad: usize,
    need_dx: bool,
    need_dw: bool,
) -> PyResult<Grads3<'py>> {
    let (x, w) = (typed4::<T>(x, "x")?, typed4::<T>(w, "w")?);
    let g = geom(dims4(&x), dims4(&w), stride, pad)?;
    let want = [g.n, g.f, g.ho, g.wo];
    if dims4(&dout) != want {
        return Err(crate::convert::to_pyerr(cs231n_kernels::KernelError::shape(
            "dout",
            format!("{:?} (the output's shape)", want),
            format!("{:?}", dims4(&dout)),
        )));
    }
    let (dv, wv) = (c_order(dout.as_array()), c_order(w.as_array()));
    let (dx_arr, mut dx) = match need_dx {
        true => {
            let (a, o) = empty::<T>(py, &[g.n, g.c, g.h, g.w])?;
            (Some(a), Some(o))
        }
        false => (None, None),
    };
    if !need_dw {
        // dx alone: x gives the geometry only (it is not read).
        if let Some(dx) = dx.as_mut() {
            run(py, || conv::conv_backward_dx(&g, &dv, &wv, dx.get()))?;
        }
        return Ok((dx_arr, None, None));
    }
    let xv = x.as_array();
    let (dw_arr, mut dw) = empty::<T>(py, &[g.f, g.c, g.kh, g.kw])?;
    let (db_arr, mut db) = empty::<T>(py, &[g.f])?;
    run(py, || {
        conv::conv_backward(&g, &dv, xv, &wv, dx.as_mut().map(|o| o.get()), dw.get(), db.get())
    })?;
    Ok((dx_arr, Some(dw_arr), Some(db_arr)))
}

/// (dx (N, C, H, W) or None, dw (F, C, HH, WW) or None, db (F,) or None) of the convolution, given
/// dout (N, F, H', W'). `need_dw = false` skips dw and db (and every read of x): (dx, None, None).
#[pyfunction]
#[pyo3(signature = (dout, x, w, stride, pad, need_dx=true, need_dw=true))]
#[allow(clippy::too_many_arguments)]
fn conv_backward<'py>(
    py: Python<'py>,
    dout: Arr4<'py>,
    x: Arr<'py>,
    w: Arr<'py>,
    stride: usize,
    pad: usize,
    need_dx: bool,
    need_dw: bool,
) -> PyResult<Grads3<'py>> {
    by_dtype!(Arr4, dout, d => backward_impl(py, d, &x, &w, stride, pad, need_dx, need_dw))
}

fn im2col_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray4<'py, T>,
    field: (usize, usize),
    stride: usize,
    pad: usize,
    n_fastest: bool,
) -> PyResult<Arr<'py>> {
    let xd = dims4(&x);
    let g = geom(xd, [1, xd[1], field.0, field.1], stride, pad)?;
    let (arr, mut cols) = empty::<T>(py, &[g.k(), g.n * g.p()])?;
    let xv = x.as_array();
    run(py, || conv::im2col(&g, xv, cols.get(), n_fastest))?;
    Ok(arr)
}

/// cols (C * HH * WW, N * H' * W'): rows ordered (c, i, j); columns (n, h', w'), or (h', w', n) when
/// `n_fastest` (cs231n's im2col_indices).
#[pyfunction]
#[pyo3(signature = (x, field_height, field_width, stride, pad, n_fastest))]
fn im2col<'py>(
    py: Python<'py>,
    x: Arr4<'py>,
    field_height: usize,
    field_width: usize,
    stride: usize,
    pad: usize,
    n_fastest: bool,
) -> PyResult<Arr<'py>> {
    by_dtype!(Arr4, x, x => im2col_impl(py, x, (field_height, field_width), stride, pad, n_fastest))
}

fn col2im_impl<'py, T: Real + Element>(
    py: Python<'py>,
    cols: numpy::PyReadonlyArray2<'py, T>,
    g: ConvGeom,
    n_fastest: bool,
) -> PyResult<Arr<'py>> {
    let cv = cols.as_array();
    let data: Cow<'_, [T]> = match cv.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(cv.iter().copied().collect()),
    };
    if cols.shape() != [g.k(), g.n * g.p()] {
        return Err(crate::convert::to_pyerr(cs231n_kernels::KernelError::shape(
            "cols",
            format!("({}, {})", g.k(), g.n * g.p()),
            format!("{:?}", cols.shape()),
        )));
    }
    let (arr, mut dx) = empty::<T>(py, &[g.n, g.c, g.h, g.w])?;
    run(py, || conv::col2im(&g, &data, dx.get(), n_fastest))?;
    Ok(arr)
}

/// x (N, C, H, W) from columns laid out as [`im2col`] makes them, overlapping entries summed.
#[pyfunction]
#[pyo3(signature = (cols, x_shape, field_height, field_width, stride, pad, n_fastest))]
#[allow(clippy::too_many_arguments)]
fn col2im<'py>(
    py: Python<'py>,
    cols: Mat<'py>,
    x_shape: (usize, usize, usize, usize),
    field_height: usize,
    field_width: usize,
    stride: usize,
    pad: usize,
    n_fastest: bool,
) -> PyResult<Arr<'py>> {
    let xd = [x_shape.0, x_shape.1, x_shape.2, x_shape.3];
    let g = geom(xd, [1, xd[1], field_height, field_width], stride, pad)?;
    by_dtype!(Mat, cols, c => col2im_impl(py, c, g, n_fastest))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(conv_forward, m)?)?;
    m.add_function(wrap_pyfunction!(conv_backward, m)?)?;
    m.add_function(wrap_pyfunction!(im2col, m)?)?;
    m.add_function(wrap_pyfunction!(col2im, m)?)?;
    Ok(())
}
