//! Bindings of the layer kernels (assignment 2's `layers.py`): affine, ReLU, loss layers, batch /
//! layer / group norm, dropout. The Python wrappers own the shapes, caches and parameter dicts.

use crate::by_dtype;
use crate::convert::{empty, flat, ints, run, typed1, typed2, Mat, Vec1};
use cs231n_kernels::error::checked_len;
use cs231n_kernels::linear_loss::{Hinge, SoftmaxCrossEntropy};
use cs231n_kernels::matmul::MatRef;
use cs231n_kernels::mt19937::{MtState, STATE_LEN};
use cs231n_kernels::norm::NormShape;
use cs231n_kernels::score_loss::score_loss as score_loss_kernel;
use cs231n_kernels::KernelError;
use cs231n_kernels::{dense, dropout, elementwise, norm, KResult, Real, Rows, RowsBuf};
use numpy::{Element, IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyAny;

type Arr<'py> = Bound<'py, PyAny>;
/// An elementwise kernel of two inputs.
type Binary<T> = fn(&[T], &[T], &mut [T]) -> cs231n_kernels::KResult<()>;

// ---------------------------------------------------------------- affine

fn affine_forward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    w: &Arr<'py>,
    b: &Arr<'py>,
) -> PyResult<Arr<'py>> {
    let (w, b) = (typed2::<T>(w, "w")?, typed1::<T>(b, "b")?);
    let (xm, wm, bs) = (
        MatRef::from_view(x.as_array()),
        MatRef::from_view(w.as_array()),
        flat(&b),
    );
    let (n, m) = (x.shape()[0], w.shape()[1]);
    let (arr, mut out) = empty::<T>(py, &[n, m])?;
    run(py, || dense::affine_forward(xm, wm, &bs, out.get()))?;
    Ok(arr)
}

/// out (N, M) = x (N, D) w (D, M) + b (M,); any strides.
#[pyfunction]
fn affine_forward<'py>(py: Python<'py>, x: Mat<'py>, w: Arr<'py>, b: Arr<'py>) -> PyResult<Arr<'py>> {
    by_dtype!(Mat, x, x => affine_forward_impl(py, x, &w, &b))
}

type Grads3<'py> = (Option<Arr<'py>>, Arr<'py>, Arr<'py>);

fn affine_backward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    dout: PyReadonlyArray2<'py, T>,
    x: &Arr<'py>,
    w: &Arr<'py>,
    need_dx: bool,
) -> PyResult<Grads3<'py>> {
    let (x, w) = (typed2::<T>(x, "x")?, typed2::<T>(w, "w")?);
    let (dm, xm, wm) = (
        MatRef::from_view(dout.as_array()),
        MatRef::from_view(x.as_array()),
        MatRef::from_view(w.as_array()),
    );
    let (n, d, m) = (x.shape()[0], x.shape()[1], w.shape()[1]);
    let (dx_arr, mut dx) = match need_dx {
        true => {
            let (a, o) = empty::<T>(py, &[n, d])?;
            (Some(a), Some(o))
        }
        false => (None, None),
    };
    let (dw_arr, mut dw) = empty::<T>(py, &[d, m])?;
    let (db_arr, mut db) = empty::<T>(py, &[m])?;
    run(py, || {
        dense::affine_backward(dm, xm, wm, dx.as_mut().map(|o| o.get()), dw.get(), db.get())
    })?;
    Ok((dx_arr, dw_arr, db_arr))
}

/// (dx (N, D) or None, dw (D, M), db (M,)) of the affine layer, given dout (N, M).
#[pyfunction]
#[pyo3(signature = (dout, x, w, need_dx=true))]
fn affine_backward<'py>(
    py: Python<'py>,
    dout: Mat<'py>,
    x: Arr<'py>,
    w: Arr<'py>,
    need_dx: bool,
) -> PyResult<Grads3<'py>> {
    by_dtype!(Mat, dout, d => affine_backward_impl(py, d, &x, &w, need_dx))
}

// ---------------------------------------------------------------- elementwise

fn relu_forward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, T>,
) -> PyResult<Arr<'py>> {
    let xs = flat(&x);
    let (arr, mut out) = empty::<T>(py, &[xs.len()])?;
    run(py, || elementwise::relu_forward(&xs, out.get()))?;
    Ok(arr)
}

/// max(0, x) of a flat array (NaN propagates).
#[pyfunction]
fn relu_forward<'py>(py: Python<'py>, x: Vec1<'py>) -> PyResult<Arr<'py>> {
    by_dtype!(Vec1, x, x => relu_forward_impl(py, x))
}

fn binary_impl<'py, T: Real + Element>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, T>,
    b: &Arr<'py>,
    b_name: &str,
    f: Binary<T>,
) -> PyResult<Arr<'py>> {
    let b = typed1::<T>(b, b_name)?;
    let (a, b) = (flat(&a), flat(&b));
    let (arr, mut out) = empty::<T>(py, &[a.len()])?;
    run(py, || f(&a, &b, out.get()))?;
    Ok(arr)
}

/// dout * (x > 0) of flat arrays.
#[pyfunction]
fn relu_backward<'py>(py: Python<'py>, dout: Vec1<'py>, x: Arr<'py>) -> PyResult<Arr<'py>> {
    by_dtype!(Vec1, dout, d => binary_impl(py, d, &x, "x", elementwise::relu_backward))
}

/// x * mask of flat arrays (dropout's backward).
#[pyfunction]
fn mul<'py>(py: Python<'py>, x: Vec1<'py>, mask: Arr<'py>) -> PyResult<Arr<'py>> {
    by_dtype!(Vec1, x, x => binary_impl(py, x, &mask, "mask", elementwise::mul))
}

// ---------------------------------------------------------------- loss layers

fn score_loss_impl<'py, T: Real + Element>(
    py: Python<'py>,
    kind: &str,
    x: PyReadonlyArray2<'py, T>,
    y: PyReadonlyArray1<'py, i64>,
) -> PyResult<(f64, Arr<'py>)> {
    let xb = RowsBuf::from_view(x.as_array()).map_err(crate::convert::to_pyerr)?;
    let labels = ints(&y);
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let f = match kind {
        "svm" => score_loss_kernel::<T, Hinge>,
        "softmax" => score_loss_kernel::<T, SoftmaxCrossEntropy>,
        other => {
            return Err(PyValueError::new_err(format!(
                "kind: expected 'svm' or 'softmax', got {other:?}"
            )))
        }
    };
    let (arr, mut dx) = empty::<T>(py, &[n, c])?;
    let loss = run(py, || f(xb.rows(), &labels, dx.get()))?;
    Ok((loss, arr))
}

/// (loss, dx) of the loss layer `kind` ('svm' or 'softmax') on scores x (N, C), labels y (N,).
#[pyfunction]
fn score_loss<'py>(
    py: Python<'py>,
    kind: &str,
    x: Mat<'py>,
    y: PyReadonlyArray1<'py, i64>,
) -> PyResult<(f64, Arr<'py>)> {
    by_dtype!(Mat, x, x => score_loss_impl(py, kind, x, y))
}

// ---------------------------------------------------------------- normalization

type Norm3<'py> = (Arr<'py>, Arr<'py>, Arr<'py>);

/// The forward pass of a norm layer: borrows x, gamma and beta, makes `out` (x's shape) and the
/// statistics (`stats` elements each), and runs `kernel(x, gamma, beta, out, mean, var)` on them.
#[allow(clippy::type_complexity)]
fn norm_forward<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    gamma: &Arr<'py>,
    beta: &Arr<'py>,
    stats: usize,
    kernel: impl FnOnce(Rows<'_, T>, &[T], &[T], &mut [T], &mut [T], &mut [T]) -> KResult<()> + Send,
) -> PyResult<Norm3<'py>> {
    let (gamma, beta) = (typed1::<T>(gamma, "gamma")?, typed1::<T>(beta, "beta")?);
    let xb = RowsBuf::from_view(x.as_array()).map_err(crate::convert::to_pyerr)?;
    let (g, b) = (flat(&gamma), flat(&beta));
    let (out_arr, mut out) = empty::<T>(py, &[x.shape()[0], x.shape()[1]])?;
    let (mean_arr, mut mean) = empty::<T>(py, &[stats])?;
    let (var_arr, mut var) = empty::<T>(py, &[stats])?;
    run(py, || kernel(xb.rows(), &g, &b, out.get(), mean.get(), var.get()))?;
    Ok((out_arr, mean_arr, var_arr))
}

fn channel_forward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    sh: NormShape,
    eps: f64,
    gamma: &Arr<'py>,
    beta: &Arr<'py>,
    stats: Option<(&Arr<'py>, &Arr<'py>)>,
) -> PyResult<Norm3<'py>> {
    let stats = match stats {
        Some((m, v)) => Some((typed1::<T>(m, "running_mean")?, typed1::<T>(v, "running_var")?)),
        None => None,
    };
    let given = stats.as_ref().map(|(m, v)| (flat(m), flat(v)));
    norm_forward(py, x, gamma, beta, sh.c, |x, g, b, out, m, v| {
        match given {
            Some((gm, gv)) => {
                for (arg, src) in [("running_mean", &gm), ("running_var", &gv)] {
                    if src.len() != sh.c {
                        let want = format!("({},)", sh.c);
                        return Err(KernelError::shape(arg, want, format!("({},)", src.len())));
                    }
                }
                m.copy_from_slice(&gm);
                v.copy_from_slice(&gv);
            }
            None => norm::channel_moments(sh, x, m, v)?,
        }
        norm::channel_normalize(sh, x, m, v, T::of(eps), g, b, out)
    })
}

/// (out, mean, var): x (N, C*S) normalized per channel with its batch statistics, or with the given
/// (running_mean, running_var).
#[pyfunction]
#[pyo3(signature = (x, c, s, eps, gamma, beta, running_mean=None, running_var=None))]
#[allow(clippy::too_many_arguments)]
fn channel_norm_forward<'py>(
    py: Python<'py>,
    x: Mat<'py>,
    c: usize,
    s: usize,
    eps: f64,
    gamma: Arr<'py>,
    beta: Arr<'py>,
    running_mean: Option<Arr<'py>>,
    running_var: Option<Arr<'py>>,
) -> PyResult<Norm3<'py>> {
    let n = match &x {
        Mat::F64(a) => a.shape()[0],
        Mat::F32(a) => a.shape()[0],
    };
    let sh = NormShape { n, c, s };
    let stats = running_mean.as_ref().zip(running_var.as_ref());
    by_dtype!(Mat, x, x => channel_forward_impl(py, x, sh, eps, &gamma, &beta, stats))
}

/// Shared argument handling of the two backward passes.
struct NormBackwardArgs<'a, 'py> {
    x: &'a Arr<'py>,
    mean: &'a Arr<'py>,
    var: &'a Arr<'py>,
    gamma: &'a Arr<'py>,
    c: usize,
    s: usize,
    groups: Option<usize>,
    eps: f64,
}

fn norm_backward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    dout: PyReadonlyArray2<'py, T>,
    a: NormBackwardArgs<'_, 'py>,
) -> PyResult<Norm3<'py>> {
    let x = typed2::<T>(a.x, "x")?;
    let (mean, var, gamma) = (
        typed1::<T>(a.mean, "mean")?,
        typed1::<T>(a.var, "var")?,
        typed1::<T>(a.gamma, "gamma")?,
    );
    let db = RowsBuf::from_view(dout.as_array()).map_err(crate::convert::to_pyerr)?;
    let xb = RowsBuf::from_view(x.as_array()).map_err(crate::convert::to_pyerr)?;
    let (m, v, g) = (flat(&mean), flat(&var), flat(&gamma));
    let sh = NormShape {
        n: x.shape()[0],
        c: a.c,
        s: a.s,
    };
    let (rows, cols) = (x.shape()[0], x.shape()[1]);
    let (eps, groups) = (T::of(a.eps), a.groups);
    let (dx_arr, mut dx) = empty::<T>(py, &[rows, cols])?;
    let (dg_arr, mut dgamma) = empty::<T>(py, &[sh.c])?;
    let (db_arr, mut dbeta) = empty::<T>(py, &[sh.c])?;
    run(py, || {
        let (dx, dg, dbt) = (dx.get(), dgamma.get(), dbeta.get());
        match groups {
            None => norm::channel_norm_backward(sh, db.rows(), xb.rows(), &m, &v, eps, &g, dx, dg, dbt),
            Some(gr) => norm::group_norm_backward(sh, gr, db.rows(), xb.rows(), &m, &v, eps, &g, dx, dg, dbt),
        }
    })?;
    Ok((dx_arr, dg_arr, db_arr))
}

/// (dx, dgamma, dbeta) of the channel norm, given dout, x (N, C*S) and the batch mean and var.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn channel_norm_backward<'py>(
    py: Python<'py>,
    dout: Mat<'py>,
    x: Arr<'py>,
    c: usize,
    s: usize,
    mean: Arr<'py>,
    var: Arr<'py>,
    eps: f64,
    gamma: Arr<'py>,
) -> PyResult<Norm3<'py>> {
    let args = NormBackwardArgs {
        x: &x,
        mean: &mean,
        var: &var,
        gamma: &gamma,
        c,
        s,
        groups: None,
        eps,
    };
    by_dtype!(Mat, dout, d => norm_backward_impl(py, d, args))
}

#[allow(clippy::too_many_arguments)]
fn group_forward_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    c: usize,
    s: usize,
    groups: usize,
    eps: f64,
    gamma: &Arr<'py>,
    beta: &Arr<'py>,
) -> PyResult<Norm3<'py>> {
    let sh = NormShape {
        n: x.shape()[0],
        c,
        s,
    };
    let stats = checked_len(sh.n, groups, "mean").map_err(crate::convert::to_pyerr)?;
    norm_forward(py, x, gamma, beta, stats, |x, g, b, out, m, v| {
        norm::group_norm_forward(sh, groups, x, T::of(eps), g, b, out, m, v)
    })
}

/// (out, mean (N*G,), var (N*G,)): x (N, C*S) normalized per sample over groups of C/G channels.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn group_norm_forward<'py>(
    py: Python<'py>,
    x: Mat<'py>,
    c: usize,
    s: usize,
    groups: usize,
    eps: f64,
    gamma: Arr<'py>,
    beta: Arr<'py>,
) -> PyResult<Norm3<'py>> {
    by_dtype!(Mat, x, x => group_forward_impl(py, x, c, s, groups, eps, &gamma, &beta))
}

/// (dx, dgamma, dbeta) of the group norm, given dout, x (N, C*S) and the forward's mean and var.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn group_norm_backward<'py>(
    py: Python<'py>,
    dout: Mat<'py>,
    x: Arr<'py>,
    c: usize,
    s: usize,
    groups: usize,
    mean: Arr<'py>,
    var: Arr<'py>,
    eps: f64,
    gamma: Arr<'py>,
) -> PyResult<Norm3<'py>> {
    let args = NormBackwardArgs {
        x: &x,
        mean: &mean,
        var: &var,
        gamma: &gamma,
        c,
        s,
        groups: Some(groups),
        eps,
    };
    by_dtype!(Mat, dout, d => norm_backward_impl(py, d, args))
}

// ---------------------------------------------------------------- dropout

type DropoutOut<'py> = (Arr<'py>, Arr<'py>, Bound<'py, PyArray1<u32>>, usize);

fn dropout_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, T>,
    p: f64,
    key: PyReadonlyArray1<'py, u32>,
    pos: usize,
) -> PyResult<DropoutOut<'py>> {
    let xs = flat(&x);
    let mut state = MtState::new(flat(&key).into_owned(), pos).map_err(crate::convert::to_pyerr)?;
    let (mask_arr, mut mask) = empty::<T>(py, &[xs.len()])?;
    let (out_arr, mut out) = empty::<T>(py, &[xs.len()])?;
    let state = run(py, || {
        dropout::dropout_forward(&mut state, p, &xs, mask.get(), out.get())?;
        Ok(state)
    })?;
    Ok((mask_arr, out_arr, state.key.into_pyarray(py), state.pos))
}

/// (mask, out, key, pos): inverted dropout of a flat x with keep probability p, drawing
/// `np.random.rand` from the MT19937 state (key, pos); returns the advanced state.
#[pyfunction]
fn dropout_forward<'py>(
    py: Python<'py>,
    x: Vec1<'py>,
    p: f64,
    key: PyReadonlyArray1<'py, u32>,
    pos: usize,
) -> PyResult<DropoutOut<'py>> {
    by_dtype!(Vec1, x, x => dropout_impl(py, x, p, key, pos))
}

fn l2_reg_impl<T: Real + Element>(
    py: Python<'_>,
    w: PyReadonlyArray1<'_, T>,
    dw: &Arr<'_>,
    reg: f64,
) -> PyResult<f64> {
    let mut dw = dw.extract::<numpy::PyReadwriteArray1<'_, T>>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!("dw: expected a writable 1-D {} array", T::NAME))
    })?;
    let ws = flat(&w);
    let dws = dw
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("dw: expected a contiguous array"))?;
    run(py, || Ok(elementwise::l2_reg(&ws, dws, T::of(reg))?.wide()))
}

/// sum(w * w), doing dw += reg * w in place (flat arrays; dw contiguous and writable).
#[pyfunction]
fn l2_reg<'py>(py: Python<'py>, w: Vec1<'py>, dw: Arr<'py>, reg: f64) -> PyResult<f64> {
    by_dtype!(Vec1, w, w => l2_reg_impl(py, w, &dw, reg))
}

fn cast_impl<'py, S: Real + Element, D: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, S>,
) -> PyResult<Arr<'py>> {
    let xs = flat(&x);
    let (arr, mut out) = empty::<D>(py, &[xs.len()])?;
    run(py, || elementwise::convert(&xs, out.get()))?;
    Ok(arr)
}

/// `x.astype(dtype)` of a flat array ('float32' or 'float64'), in parallel, into recycled memory.
#[pyfunction]
fn cast<'py>(py: Python<'py>, x: Vec1<'py>, dtype: &str) -> PyResult<Arr<'py>> {
    match (x, dtype) {
        (Vec1::F64(x), "float32") => cast_impl::<f64, f32>(py, x),
        (Vec1::F64(x), "float64") => cast_impl::<f64, f64>(py, x),
        (Vec1::F32(x), "float32") => cast_impl::<f32, f32>(py, x),
        (Vec1::F32(x), "float64") => cast_impl::<f32, f64>(py, x),
        (_, other) => Err(PyValueError::new_err(format!(
            "dtype: expected 'float32' or 'float64', got {other:?}"
        ))),
    }
}

/// NumPy's `mt19937_state` (numpy/random/src/mt19937/mt19937.h): the key and the position.
#[repr(C)]
struct NumpyMtState {
    key: [u32; STATE_LEN],
    pos: std::os::raw::c_int,
}

fn dropout_live_impl<'py, T: Real + Element>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, T>,
    p: f64,
    address: usize,
) -> PyResult<(Arr<'py>, Arr<'py>)> {
    let xs = flat(&x);
    let (mask_arr, mut mask) = empty::<T>(py, &[xs.len()])?;
    let (out_arr, mut out) = empty::<T>(py, &[xs.len()])?;
    let live = address as *mut NumpyMtState;
    // SAFETY: the caller passes `MT19937.ctypes.state_address` of a live generator and holds its
    // lock; the struct is read here and written back below, nowhere else meanwhile.
    let (key, pos) = unsafe { ((*live).key.to_vec(), (*live).pos) };
    let pos = usize::try_from(pos)
        .map_err(|_| PyValueError::new_err("the MT19937 state has a negative position"))?;
    let mut state = MtState::new(key, pos).map_err(crate::convert::to_pyerr)?;
    let state = run(py, || {
        dropout::dropout_forward(&mut state, p, &xs, mask.get(), out.get())?;
        Ok(state)
    })?;
    // SAFETY: as above.
    unsafe {
        (*live).key.copy_from_slice(&state.key);
        (*live).pos = state.pos as std::os::raw::c_int;
    }
    Ok((mask_arr, out_arr))
}

/// (mask, out) of inverted dropout of a flat x, drawing `np.random.rand` from a live MT19937 state
/// (`address` = its `ctypes.state_address`; the caller holds the generator's lock) and advancing it.
#[pyfunction]
fn dropout_forward_live<'py>(
    py: Python<'py>,
    x: Vec1<'py>,
    p: f64,
    address: usize,
) -> PyResult<(Arr<'py>, Arr<'py>)> {
    if address == 0 {
        return Err(PyValueError::new_err(
            "address: expected the address of an MT19937 state, got 0",
        ));
    }
    by_dtype!(Vec1, x, x => dropout_live_impl(py, x, p, address))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dropout_forward_live, m)?)?;
    m.add_function(wrap_pyfunction!(l2_reg, m)?)?;
    m.add_function(wrap_pyfunction!(cast, m)?)?;
    m.add_function(wrap_pyfunction!(affine_forward, m)?)?;
    m.add_function(wrap_pyfunction!(affine_backward, m)?)?;
    m.add_function(wrap_pyfunction!(relu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(relu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(mul, m)?)?;
    m.add_function(wrap_pyfunction!(score_loss, m)?)?;
    m.add_function(wrap_pyfunction!(channel_norm_forward, m)?)?;
    m.add_function(wrap_pyfunction!(channel_norm_backward, m)?)?;
    m.add_function(wrap_pyfunction!(group_norm_forward, m)?)?;
    m.add_function(wrap_pyfunction!(group_norm_backward, m)?)?;
    m.add_function(wrap_pyfunction!(dropout_forward, m)?)?;
    Ok(())
}
