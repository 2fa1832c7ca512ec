//! Bindings of the image-feature kernels (HOG, HSV hue histogram) over a batch `(N, H, W, C)`.

use crate::convert::{run, to_pyerr};
use cs231n_kernels::error::{checked_len, try_zeros};
use cs231n_kernels::features::{gray_pixel, hog_batch, hog_len, hsv_hist_batch, GrayRule, Images, Pixel};
use numpy::ndarray::ArrayView4;
use numpy::{
    Element, IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray4,
};
use pyo3::prelude::*;
use pyo3::types::PyAny;

/// A 4-D image batch of any supported pixel dtype.
#[derive(FromPyObject)]
pub enum Batch<'py> {
    U8(PyReadonlyArray4<'py, u8>),
    F32(PyReadonlyArray4<'py, f32>),
    F64(PyReadonlyArray4<'py, f64>),
}

/// The kernel's strided view of `v` (any strides, borrowed: no copy).
fn images<'a, T: Pixel>(v: &ArrayView4<'a, T>) -> PyResult<Images<'a, T>> {
    let shape = [v.dim().0, v.dim().1, v.dim().2, v.dim().3];
    let st = v.strides();
    let strides = [st[0], st[1], st[2], st[3]];
    if shape.contains(&0) {
        return Images::new(&[], 0, shape, strides).map_err(to_pyerr);
    }
    let (mut lo, mut hi) = (0isize, 0isize);
    for (&d, &s) in shape.iter().zip(strides.iter()) {
        let span = (d as isize - 1) * s;
        if span < 0 {
            lo += span;
        } else {
            hi += span;
        }
    }
    // SAFETY: every element of the view lies between its lowest and highest element (one NumPy
    // buffer), `lo` and `hi` being their offsets from element [0, 0, 0, 0].
    let data = unsafe { std::slice::from_raw_parts(v.as_ptr().offset(lo), (hi - lo) as usize + 1) };
    Images::new(data, (-lo) as usize, shape, strides).map_err(to_pyerr)
}

fn hog_impl<'py, T: Pixel + Element>(
    py: Python<'py>,
    a: PyReadonlyArray4<'py, T>,
    gray: bool,
    rule: GrayRule,
) -> PyResult<Bound<'py, PyAny>> {
    let view = a.as_array();
    let imgs = images(&view)?;
    let [n, h, w, _] = imgs.shape;
    let len = hog_len(h, w);
    let out = run(py, || {
        let mut out = try_zeros::<f64>(checked_len(n, len, "the features")?, "the features")?;
        hog_batch(&imgs, gray, rule, &mut out)?;
        Ok(out)
    })?;
    Ok(out.into_pyarray(py).reshape([n, len])?.into_any())
}

/// (N, floor(H/8) * floor(W/8) * 9) float64: cs231n's hog_feature of every image of (N, H, W, C);
/// `gray=True` reads the single channel of (N, H, W, 1) as the gray image, else rgb2gray of C >= 3
/// rounded by gray rule `rule` (0 sequential, 1 fma green first, 2 fma in order).
#[pyfunction]
#[pyo3(signature = (imgs, gray=false, rule=0))]
fn hog_features<'py>(py: Python<'py>, imgs: Batch<'py>, gray: bool, rule: u8) -> PyResult<Bound<'py, PyAny>> {
    let rule = GrayRule::from_index(rule).map_err(to_pyerr)?;
    match imgs {
        Batch::U8(a) => hog_impl(py, a, gray, rule),
        Batch::F32(a) => hog_impl(py, a, gray, rule),
        Batch::F64(a) => hog_impl(py, a, gray, rule),
    }
}

/// (K,) float64: the gray value of each row (r, g, b) of `rgb` (K, 3) under gray rule `rule`.
#[pyfunction]
fn gray_probe<'py>(
    py: Python<'py>,
    rgb: PyReadonlyArray2<'py, f64>,
    rule: u8,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let rule = GrayRule::from_index(rule).map_err(to_pyerr)?;
    let a = rgb.as_array();
    if a.ncols() != 3 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "rgb: expected shape (K, 3), got ({}, {})",
            a.nrows(),
            a.ncols()
        )));
    }
    let out: Vec<f64> = a
        .rows()
        .into_iter()
        .map(|p| gray_pixel(rule, p[0], p[1], p[2]))
        .collect();
    Ok(out.into_pyarray(py))
}

fn hist_impl<'py, P: Pixel + Element>(
    py: Python<'py>,
    a: PyReadonlyArray4<'py, P>,
    xmax: f64,
    edges: &[f64],
    density: bool,
    compute_f32: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let view = a.as_array();
    let imgs = images(&view)?;
    let n = imgs.shape[0];
    let nbin = edges.len().saturating_sub(1);
    let out = run(py, || {
        let mut out = try_zeros::<f64>(checked_len(n, nbin, "the histograms")?, "the histograms")?;
        if compute_f32 {
            hsv_hist_batch::<P, f32>(&imgs, xmax, edges, density, &mut out)?;
        } else {
            hsv_hist_batch::<P, f64>(&imgs, xmax, edges, density, &mut out)?;
        }
        Ok(out)
    })?;
    Ok(out.into_pyarray(py).reshape([n, nbin])?.into_any())
}

/// (N, len(edges) - 1) float64: cs231n's color_histogram_hsv of every image of (N, H, W, 3), with
/// the hue computed in float32 when `compute_f32` (NumPy's dtype of `im / xmax`), else float64.
#[pyfunction]
#[pyo3(signature = (imgs, xmax, edges, density, compute_f32=false))]
fn hsv_histograms<'py>(
    py: Python<'py>,
    imgs: Batch<'py>,
    xmax: f64,
    edges: PyReadonlyArray1<'py, f64>,
    density: bool,
    compute_f32: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let e = edges.as_array().to_vec();
    match imgs {
        Batch::U8(a) => hist_impl(py, a, xmax, &e, density, compute_f32),
        Batch::F32(a) => hist_impl(py, a, xmax, &e, density, compute_f32),
        Batch::F64(a) => hist_impl(py, a, xmax, &e, density, compute_f32),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hog_features, m)?)?;
    m.add_function(wrap_pyfunction!(hsv_histograms, m)?)?;
    m.add_function(wrap_pyfunction!(gray_probe, m)?)?;
    Ok(())
}
