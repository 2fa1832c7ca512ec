//! Bindings of the update rules (`cs231n_rs.optim` and the Solver's fast path).
//!
//! The Python layer decides the dtype (NumPy's promotion), makes every array C-contiguous, checks
//! that nothing aliases, and computes the scalars; here the arrays are borrowed (rust-numpy's borrow
//! checker refuses overlapping writable borrows), their shapes and dtypes checked once more, and the
//! kernel run with the GIL released.

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
    if !a.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name}: expected a C-contiguous array"
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
    Ok(())
}
