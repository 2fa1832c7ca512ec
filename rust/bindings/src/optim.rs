//! Bindings of the update rules (`cs231n_rs.optim` and the Solver's fast path).
//!
//! - `optim_step` / `optim_step_many`: the Python layer decides the dtype (NumPy's promotion), makes
//!   every array aligned and C-contiguous, checks that nothing aliases, and computes the scalars;
//!   here the arrays are borrowed (rust-numpy's borrow checker refuses overlapping writable
//!   borrows), their shapes and dtypes checked once more, and the kernel run with the GIL released.
//! - `solver_update`: the Solver's whole step for the common case (native float arrays, Python
//!   float hyper-parameters), config bookkeeping included, or False having changed nothing.
//! - `optim_out`: `next_w` arrays whose memory is recycled (NumPy's allocator hooks, NEP 49).

use crate::convert::{run, to_pyerr};
use cs231n_kernels::optim::{step, Rule, Weights};
use cs231n_kernels::{KernelError, Real};
use numpy::{
    Element, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyReadwriteArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

fn shape_str(s: &[usize]) -> String {
    match s {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn typed<'a, 'py, T: Element>(
    a: &'a Bound<'py, PyAny>,
    name: &str,
    dtype: &str,
) -> PyResult<&'a Bound<'py, PyArrayDyn<T>>> {
    a.cast::<PyArrayDyn<T>>()
        .map_err(|_| PyTypeError::new_err(format!("{name}: expected a C-contiguous {dtype} array like w")))
}

fn check_layout<T: Element>(
    a: &Bound<'_, PyArrayDyn<T>>,
    name: &'static str,
    shape: &[usize],
) -> PyResult<()> {
    if a.shape() != shape {
        let e = KernelError::shape(
            name,
            format!("{} (the shape of w)", shape_str(shape)),
            shape_str(a.shape()),
        );
        return Err(to_pyerr(e));
    }
    if !a.is_c_contiguous() || !aligned(a.as_untyped()) {
        return Err(PyValueError::new_err(format!(
            "{name}: expected an aligned C-contiguous array"
        )));
    }
    Ok(())
}

fn borrow_err(name: &str, e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{name}: cannot be updated in place ({e})"))
}

/// The borrows of one parameter update, held while the kernel runs.
struct Borrowed<'py, T: Element> {
    rule: Rule,
    w_mut: Option<PyReadwriteArrayDyn<'py, T>>,
    w_ro: Option<PyReadonlyArrayDyn<'py, T>>,
    out: Option<PyReadwriteArrayDyn<'py, T>>,
    dw: PyReadonlyArrayDyn<'py, T>,
    states: Vec<PyReadwriteArrayDyn<'py, T>>,
}

/// The slices of one update, ready to cross into the GIL-free kernel.
struct Job<'a, T> {
    rule: Rule,
    weights: Weights<'a, T>,
    dw: &'a [T],
    states: Vec<&'a mut [T]>,
}

impl<T: Real> Job<'_, T> {
    fn run(mut self) -> Result<(), KernelError> {
        step(&self.rule, self.weights, self.dw, &mut self.states)
    }
}

fn borrow<'py, T: Real + Element>(
    rule: Rule,
    dtype: &str,
    w: &Bound<'py, PyArrayDyn<T>>,
    dw: &Bound<'py, PyAny>,
    states: &[Bound<'py, PyAny>],
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Borrowed<'py, T>> {
    let shape = w.shape().to_vec();
    check_layout(w, "w", &shape)?;
    let dw = typed::<T>(dw, "dw", dtype)?;
    check_layout(dw, "dw", &shape)?;
    let names = rule.state_names();
    if states.len() != names.len() {
        return Err(PyValueError::new_err(format!(
            "states: expected {} state array(s), got {}",
            names.len(),
            states.len()
        )));
    }
    let mut borrowed_states = Vec::with_capacity(states.len());
    for (s, name) in states.iter().zip(names) {
        let s = typed::<T>(s, name, dtype)?;
        check_layout(s, name, &shape)?;
        borrowed_states.push(s.try_readwrite().map_err(|e| borrow_err(name, e))?);
    }
    let (w_mut, w_ro, out) = match out {
        None => (
            Some(w.try_readwrite().map_err(|e| borrow_err("w", e))?),
            None,
            None,
        ),
        Some(o) => {
            let o = typed::<T>(o, "out", dtype)?;
            check_layout(o, "out", &shape)?;
            let o = o.try_readwrite().map_err(|e| borrow_err("out", e))?;
            (
                None,
                Some(w.try_readonly().map_err(|e| borrow_err("w", e))?),
                Some(o),
            )
        }
    };
    let dw = dw.try_readonly().map_err(|e| borrow_err("dw", e))?;
    Ok(Borrowed {
        rule,
        w_mut,
        w_ro,
        out,
        dw,
        states: borrowed_states,
    })
}

fn not_contiguous(name: &str) -> PyErr {
    PyValueError::new_err(format!("{name}: expected a C-contiguous array"))
}

impl<'py, T: Real + Element> Borrowed<'py, T> {
    fn job(&mut self) -> PyResult<Job<'_, T>> {
        let weights = match (&mut self.w_mut, &self.w_ro, &mut self.out) {
            (Some(w), _, _) => Weights::InPlace(w.as_slice_mut().map_err(|_| not_contiguous("w"))?),
            (None, Some(w), Some(out)) => Weights::Out {
                w: w.as_slice().map_err(|_| not_contiguous("w"))?,
                out: out.as_slice_mut().map_err(|_| not_contiguous("out"))?,
            },
            _ => unreachable!("borrow() sets w_mut, or w_ro and out"),
        };
        let mut states = Vec::with_capacity(self.states.len());
        for s in self.states.iter_mut() {
            states.push(s.as_slice_mut().map_err(|_| not_contiguous("state"))?);
        }
        Ok(Job {
            rule: self.rule,
            weights,
            dw: self.dw.as_slice().map_err(|_| not_contiguous("dw"))?,
            states,
        })
    }
}

enum AnyBorrowed<'py> {
    F64(Borrowed<'py, f64>),
    F32(Borrowed<'py, f32>),
}

enum AnyJob<'a> {
    F64(Job<'a, f64>),
    F32(Job<'a, f32>),
}

fn borrow_any<'py>(
    rule: &str,
    w: &Bound<'py, PyAny>,
    dw: &Bound<'py, PyAny>,
    states: &[Bound<'py, PyAny>],
    scalars: &[f64],
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<AnyBorrowed<'py>> {
    let rule = Rule::from_name(rule, scalars).map_err(to_pyerr)?;
    if let Ok(w) = w.cast::<PyArrayDyn<f64>>() {
        Ok(AnyBorrowed::F64(borrow(rule, "float64", w, dw, states, out)?))
    } else if let Ok(w) = w.cast::<PyArrayDyn<f32>>() {
        Ok(AnyBorrowed::F32(borrow(rule, "float32", w, dw, states, out)?))
    } else {
        Err(PyTypeError::new_err("w: expected a float32 or float64 array"))
    }
}

impl<'py> AnyBorrowed<'py> {
    fn job(&mut self) -> PyResult<AnyJob<'_>> {
        Ok(match self {
            AnyBorrowed::F64(b) => AnyJob::F64(b.job()?),
            AnyBorrowed::F32(b) => AnyJob::F32(b.job()?),
        })
    }
}

impl AnyJob<'_> {
    fn run(self) -> Result<(), KernelError> {
        match self {
            AnyJob::F64(j) => j.run(),
            AnyJob::F32(j) => j.run(),
        }
    }
}

/// One update: `rule` ('sgd', 'sgd_momentum', 'rmsprop', 'adam') with its `scalars`, on `w` (in
/// place, or into `out`), `dw` and the state arrays (updated in place). All arrays C-contiguous,
/// of w's shape and dtype.
#[pyfunction]
#[pyo3(signature = (rule, w, dw, states, scalars, out=None))]
fn optim_step<'py>(
    py: Python<'py>,
    rule: &str,
    w: &Bound<'py, PyAny>,
    dw: &Bound<'py, PyAny>,
    states: Vec<Bound<'py, PyAny>>,
    scalars: Vec<f64>,
    out: Option<Bound<'py, PyAny>>,
) -> PyResult<()> {
    let mut b = borrow_any(rule, w, dw, &states, &scalars, out.as_ref())?;
    let job = b.job()?;
    run(py, || job.run())
}

/// Many in-place updates with the same rule in one call (the Solver's fast path): `items` is a
/// list of `(w, dw, states, scalars)`. Every array is borrowed before any is written, so
/// overlapping arrays are refused before anything changes.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn optim_step_many<'py>(
    py: Python<'py>,
    rule: &str,
    items: Vec<(
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        Vec<Bound<'py, PyAny>>,
        Vec<f64>,
    )>,
) -> PyResult<()> {
    let mut borrowed = Vec::with_capacity(items.len());
    for (w, dw, states, scalars) in &items {
        borrowed.push(borrow_any(rule, w, dw, states, scalars, None)?);
    }
    let mut jobs = Vec::with_capacity(borrowed.len());
    for b in borrowed.iter_mut() {
        jobs.push(b.job()?);
    }
    run(py, || jobs.into_iter().try_for_each(AnyJob::run))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(optim_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim_step_many, m)?)?;
    m.add_function(wrap_pyfunction!(solver_update, m)?)?;
    m.add_function(wrap_pyfunction!(optim_out, m)?)?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The Solver's whole update step in one call (its fast path): the per-parameter bookkeeping that
// costs microseconds in Python (defaults, state arrays, t, the scalars) done here, for the common
// case only; anything else returns False having changed nothing, and Python does the general path.

/// A rule's hyper-parameter defaults, in cs231n's `setdefault` order.
type Defaults = &'static [(&'static str, f64)];

/// Defaults of each rule's hyper-parameters and its state keys.
fn spec(rule: &str) -> Option<(Defaults, &'static [&'static str])> {
    Some(match rule {
        "sgd" => (&[("learning_rate", 1e-2)], &[]),
        "sgd_momentum" => (&[("learning_rate", 1e-2), ("momentum", 0.9)], &["velocity"]),
        "rmsprop" => (
            &[("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)],
            &["cache"],
        ),
        "adam" => (
            &[
                ("learning_rate", 1e-3),
                ("beta1", 0.9),
                ("beta2", 0.999),
                ("epsilon", 1e-8),
            ],
            &["m", "v"],
        ),
        _ => return None,
    })
}

/// An exact `numpy.ndarray` (no subclass) of native float64 (`Some(true)`) or float32 (`Some(false)`).
fn exact_float_array(a: &Bound<'_, PyAny>) -> Option<bool> {
    use numpy::{PyArrayDescrMethods, PyUntypedArray};
    // SAFETY: a valid object pointer, the GIL held.
    if unsafe { numpy::npyffi::PyArray_CheckExact(a.py(), a.as_ptr()) } == 0 {
        return None;
    }
    // SAFETY: just checked to be an ndarray.
    let dtype = unsafe { a.cast_unchecked::<PyUntypedArray>() }.dtype();
    if dtype.is_native_byteorder() == Some(false) {
        return None;
    }
    match dtype.num() {
        n if n == numpy::npyffi::NPY_TYPES::NPY_DOUBLE as i32 => Some(true),
        n if n == numpy::npyffi::NPY_TYPES::NPY_FLOAT as i32 => Some(false),
        _ => None,
    }
}

/// The dict keys of the rules, as interned Python strings (no new string per lookup).
fn dict_key<'py>(py: Python<'py>, name: &str) -> Bound<'py, pyo3::types::PyString> {
    use pyo3::intern;
    let k = match name {
        "learning_rate" => intern!(py, "learning_rate"),
        "momentum" => intern!(py, "momentum"),
        "decay_rate" => intern!(py, "decay_rate"),
        "epsilon" => intern!(py, "epsilon"),
        "beta1" => intern!(py, "beta1"),
        "beta2" => intern!(py, "beta2"),
        "velocity" => intern!(py, "velocity"),
        "cache" => intern!(py, "cache"),
        "m" => intern!(py, "m"),
        "v" => intern!(py, "v"),
        "t" => intern!(py, "t"),
        other => return pyo3::types::PyString::new(py, other),
    };
    k.clone()
}

/// (base pointer or 0, whether it owns its memory and is writeable and aligned) of an array.
fn base_and_writeable(a: &Bound<'_, numpy::PyUntypedArray>) -> (usize, bool) {
    use numpy::npyffi::{NPY_ARRAY_ALIGNED, NPY_ARRAY_OWNDATA, NPY_ARRAY_WRITEABLE};
    // SAFETY: `a` is a live ndarray; reading its struct fields under the GIL.
    unsafe {
        let p = a.as_array_ptr();
        let all = NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED | NPY_ARRAY_OWNDATA;
        ((*p).base as usize, (*p).flags & all == all)
    }
}

/// The array that owns the memory of `a`: `a` itself, or its base when that is an ndarray owning its
/// memory (a view of an ordinary array); None for memory that belongs to anything else.
fn memory_owner(a: &Bound<'_, numpy::PyUntypedArray>) -> Option<usize> {
    use numpy::npyffi::{PyArrayObject, NPY_ARRAY_OWNDATA};
    // SAFETY: reading the struct fields of live ndarrays under the GIL.
    unsafe {
        let p = a.as_array_ptr();
        if (*p).flags & NPY_ARRAY_OWNDATA != 0 {
            return Some(p as usize);
        }
        let base = (*p).base;
        if base.is_null() || numpy::npyffi::PyArray_Check(a.py(), base) == 0 {
            return None;
        }
        let b = base as *mut PyArrayObject;
        ((*b).flags & NPY_ARRAY_OWNDATA != 0).then_some(b as usize)
    }
}

/// Whether the array's data is aligned for its dtype (slices of it are then sound).
fn aligned(a: &Bound<'_, numpy::PyUntypedArray>) -> bool {
    // SAFETY: as in `base_and_writeable`.
    unsafe { (*a.as_array_ptr()).flags & numpy::npyffi::NPY_ARRAY_ALIGNED != 0 }
}

/// The elements of a validated array, written by the kernel.
///
/// # Safety
/// `a` is a live, aligned, C-contiguous ndarray of `T` with `n` elements, which nothing else reads
/// or writes while the slice lives (what `plan_step` checks: it owns its memory and appears once).
#[allow(clippy::mut_from_ref)]
unsafe fn raw_mut<'a, T>(a: &'a Bound<'_, PyAny>, n: usize) -> &'a mut [T] {
    if n == 0 {
        return &mut [];
    }
    let data = (*a.as_ptr().cast::<numpy::npyffi::PyArrayObject>()).data as *mut T;
    std::slice::from_raw_parts_mut(data, n)
}

/// The elements of a validated array, only read.
///
/// # Safety
/// As [`raw_mut`], except that other readers may share it (nothing writes it).
unsafe fn raw_ref<'a, T>(a: &'a Bound<'_, PyAny>, n: usize) -> &'a [T] {
    if n == 0 {
        return &[];
    }
    let data = (*a.as_ptr().cast::<numpy::npyffi::PyArrayObject>()).data as *const T;
    std::slice::from_raw_parts(data, n)
}

struct Planned<'py> {
    w: Bound<'py, PyAny>,
    dw: Bound<'py, PyAny>,
    config: Bound<'py, pyo3::types::PyDict>,
    /// Each state array, or None when the config has none yet (a zero array is made).
    states: Vec<Option<Bound<'py, PyAny>>>,
    /// Hyper-parameters missing from the config (set to their defaults).
    missing: Vec<(&'static str, f64)>,
    scalars: Vec<f64>,
    t: Option<(i64, bool)>, // adam: t after the increment, and whether the key was missing
    f64: bool,
}

/// Phase 1: everything checked, nothing changed. None when any parameter needs the general path.
fn plan_step<'py>(
    rule: &str,
    params: &Bound<'py, pyo3::types::PyDict>,
    grads: &Bound<'py, PyAny>,
    configs: &Bound<'py, PyAny>,
) -> PyResult<Option<Vec<Planned<'py>>>> {
    use pyo3::types::{PyDict, PyFloat, PyInt};
    let py = params.py();
    use std::collections::HashSet;
    let Some((defaults, keys)) = spec(rule) else {
        return Ok(None);
    };
    let mut planned = Vec::with_capacity(params.len());
    let mut owned: HashSet<usize> = HashSet::new(); // every array that is written (params, states)
    let mut read: Vec<usize> = Vec::new(); // the arrays owning the gradients' memory
    for (key, w) in params.iter() {
        let Ok(dw) = grads.get_item(&key) else {
            return Ok(None);
        };
        let Ok(config) = configs.get_item(&key) else {
            return Ok(None);
        };
        let Ok(config) = config.cast_into::<PyDict>() else {
            return Ok(None);
        };
        if !config.is_exact_instance_of::<PyDict>() {
            return Ok(None);
        }
        let Some(is_f64) = exact_float_array(&w) else {
            return Ok(None);
        };
        if exact_float_array(&dw) != Some(is_f64) {
            return Ok(None);
        }
        let wu = w.cast::<numpy::PyUntypedArray>()?;
        let dwu = dw.cast::<numpy::PyUntypedArray>()?;
        let shape = wu.shape();
        let (w_base, w_writeable) = base_and_writeable(wu);
        if w_base != 0 || !w_writeable || !wu.is_c_contiguous() {
            return Ok(None);
        }
        if dwu.shape() != shape || !dwu.is_c_contiguous() || !aligned(dwu) {
            return Ok(None);
        }
        if !owned.insert(w.as_ptr() as usize) {
            return Ok(None);
        }
        let Some(dw_owner) = memory_owner(dwu) else {
            return Ok(None);
        };
        read.push(dw_owner);
        let mut missing = Vec::new();
        let mut values = Vec::with_capacity(defaults.len());
        for &(name, default) in defaults {
            match config.get_item(dict_key(py, name))? {
                None => {
                    missing.push((name, default));
                    values.push(default);
                }
                Some(v) if v.is_exact_instance_of::<PyFloat>() => values.push(v.extract::<f64>()?),
                Some(_) => return Ok(None), // ints, NumPy scalars...: NumPy's promotion decides in Python
            }
        }
        let mut states = Vec::with_capacity(keys.len());
        for &name in keys {
            match config.get_item(dict_key(py, name))? {
                None => states.push(None),
                Some(s) => {
                    if exact_float_array(&s) != Some(is_f64) {
                        return Ok(None);
                    }
                    let su = s.cast::<numpy::PyUntypedArray>()?;
                    let (base, writeable) = base_and_writeable(su);
                    if base != 0 || !writeable || !su.is_c_contiguous() || su.shape() != shape {
                        return Ok(None);
                    }
                    if !owned.insert(s.as_ptr() as usize) {
                        return Ok(None); // shared with another parameter or state
                    }
                    states.push(Some(s));
                }
            }
        }
        let mut t = None;
        let scalars = match rule {
            "sgd" | "sgd_momentum" => values,
            "rmsprop" => vec![values[0], values[1], 1.0 - values[1], values[2]],
            _ => {
                let (t0, was_missing) = match config.get_item(dict_key(py, "t"))? {
                    None => (0i64, true),
                    Some(v) if v.is_exact_instance_of::<PyInt>() => match v.extract::<i64>() {
                        Ok(t) if (0..1 << 52).contains(&t) => (t, false),
                        _ => return Ok(None),
                    },
                    Some(_) => return Ok(None),
                };
                let tn = t0 + 1;
                t = Some((tn, was_missing));
                // Python's float ** int is C's pow on doubles; it raises where the result overflows.
                let (b1t, b2t) = (values[1].powf(tn as f64), values[2].powf(tn as f64));
                if !b1t.is_finite() || !b2t.is_finite() {
                    return Ok(None);
                }
                let (b1, b2) = (values[1], values[2]);
                vec![
                    values[0],
                    b1,
                    1.0 - b1,
                    1.0 - b1t,
                    b2,
                    1.0 - b2,
                    1.0 - b2t,
                    values[3],
                ]
            }
        };
        planned.push(Planned {
            w,
            dw,
            config,
            states,
            missing,
            scalars,
            t,
            f64: is_f64,
        });
    }
    // A gradient that is (a view of) an array written by this step would be read after it changed.
    if read.iter().any(|o| owned.contains(o)) {
        return Ok(None);
    }
    Ok(Some(planned))
}

/// The Solver's update of every parameter in place with `rule` (cs231n_rs.optim's own rules), with
/// the config changes the rule makes. Returns False, having changed nothing, when some parameter
/// needs the general path (other dtypes or layouts, NumPy scalars, shared or foreign arrays).
#[pyfunction]
fn solver_update<'py>(
    py: Python<'py>,
    rule: &str,
    params: &Bound<'py, PyAny>,
    grads: &Bound<'py, PyAny>,
    configs: &Bound<'py, PyAny>,
) -> PyResult<bool> {
    use pyo3::types::PyDict;
    let Ok(params) = params.cast::<PyDict>() else {
        return Ok(false);
    };
    let Some(planned) = plan_step(rule, params, grads, configs)? else {
        return Ok(false);
    };
    let (_, keys) = spec(rule).expect("plan_step checked the rule");
    // Phase 2: the config changes, in the order cs231n's rule makes them.
    let mut items = Vec::with_capacity(planned.len());
    for p in planned {
        for (name, default) in &p.missing {
            p.config.set_item(dict_key(py, name), default)?;
        }
        let shape = p.w.cast::<numpy::PyUntypedArray>()?.shape().to_vec();
        let mut states = Vec::with_capacity(keys.len());
        for (s, &name) in p.states.into_iter().zip(keys) {
            let s = match s {
                Some(s) => s,
                None => {
                    let z = if p.f64 {
                        PyArrayDyn::<f64>::zeros(py, shape.as_slice(), false).into_any()
                    } else {
                        PyArrayDyn::<f32>::zeros(py, shape.as_slice(), false).into_any()
                    };
                    p.config.set_item(dict_key(py, name), &z)?;
                    z
                }
            };
            states.push(s);
        }
        if let Some((t, was_missing)) = p.t {
            if was_missing {
                p.config.set_item(dict_key(py, "t"), 0)?;
            }
            p.config.set_item(dict_key(py, "t"), t)?;
        }
        items.push((p.w, p.dw, states, p.scalars, p.f64));
    }
    // Every array was checked by plan_step (exact ndarrays of one native float dtype, aligned,
    // C-contiguous, of w's shape; parameters and states writeable, owning their memory and each
    // seen once; no gradient is or views any of them), which is what rust-numpy's borrow registry
    // would check, at about a microsecond per array: the kernel takes their memory directly.
    let mut jobs = Vec::with_capacity(items.len());
    for (w, dw, states, scalars, f64) in &items {
        let rule = Rule::from_name(rule, scalars).map_err(to_pyerr)?;
        let n = w.cast::<numpy::PyUntypedArray>()?.len();
        // SAFETY: as above; the arrays live in `items` until the kernel has returned.
        jobs.push(unsafe {
            if *f64 {
                AnyJob::F64(Job {
                    rule,
                    weights: Weights::InPlace(raw_mut(w, n)),
                    dw: raw_ref(dw, n),
                    states: states.iter().map(|s| raw_mut(s, n)).collect(),
                })
            } else {
                AnyJob::F32(Job {
                    rule,
                    weights: Weights::InPlace(raw_mut(w, n)),
                    dw: raw_ref(dw, n),
                    states: states.iter().map(|s| raw_mut(s, n)).collect(),
                })
            }
        });
    }
    run(py, || jobs.into_iter().try_for_each(AnyJob::run))?;
    Ok(true)
}

/// `numpy.empty(shape, dtype)`, allocated by the recycling allocator (for the kernels to fill).
#[pyfunction]
fn optim_out<'py>(
    py: Python<'py>,
    shape: &Bound<'py, PyAny>,
    dtype: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let empty = py.import("numpy")?.getattr("empty")?;
    crate::recycle::with_handler(py, || empty.call1((shape, dtype)))?
}
