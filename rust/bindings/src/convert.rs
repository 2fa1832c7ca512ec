//! The one path from Python to a kernel: array borrowing, dtype dispatch, GIL release, error mapping.

use cs231n_kernels::{KernelError, Real, RowsBuf};
use numpy::{Element, PyArrayDescrMethods, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray4};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A 2-D float array of either supported dtype.
#[derive(FromPyObject)]
pub enum Mat<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// A 1-D float array of either supported dtype.
#[derive(FromPyObject)]
pub enum Vec1<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

/// A 4-D float array (images `(N, C, H, W)`, filters `(F, C, HH, WW)`) of either supported dtype.
#[derive(FromPyObject)]
pub enum Arr4<'py> {
    F64(PyReadonlyArray4<'py, f64>),
    F32(PyReadonlyArray4<'py, f32>),
}

/// Calls `$body` with `$a` bound to the typed array inside a [`Mat`] or [`Vec1`]; the body's other
/// arrays are then extracted with the same element type ([`typed1`], [`typed2`]).
#[macro_export]
macro_rules! by_dtype {
    ($kind:ident, $x:expr, $a:ident => $body:expr) => {
        match $x {
            $crate::convert::$kind::F64($a) => $body,
            $crate::convert::$kind::F32($a) => $body,
        }
    };
}

fn wrong_type(name: &str, ndim: usize, want: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    let got = obj
        .getattr("dtype")
        .map(|d| d.to_string())
        .unwrap_or_else(|_| obj.get_type().to_string());
    let shape = obj.getattr("shape").map(|d| d.to_string()).unwrap_or_default();
    PyTypeError::new_err(format!(
        "{name}: expected a {ndim}-D {want} array (the dtype of the first argument), got {got} {shape}"
    ))
}

/// `obj` as a 2-D array of `T` (TypeError naming `name` otherwise).
pub fn typed2<'py, T: Element + Real>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray2<'py, T>> {
    obj.extract().map_err(|_| wrong_type(name, 2, T::NAME, obj))
}

/// `obj` as a 4-D array of `T` (TypeError naming `name` otherwise).
pub fn typed4<'py, T: Element + Real>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray4<'py, T>> {
    obj.extract().map_err(|_| wrong_type(name, 4, T::NAME, obj))
}

/// `obj` as a 1-D array of `T` (TypeError naming `name` otherwise).
pub fn typed1<'py, T: Element + Real>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    obj.extract().map_err(|_| wrong_type(name, 1, T::NAME, obj))
}

/// The elements of a 1-D array as a slice (copied only when the array is not contiguous).
pub fn flat<'a, T: Element + Copy>(a: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().to_vec()),
    }
}

/// The data of a fresh array that a kernel fills with the GIL released.
pub struct OutSlice<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: the array it points into is kept alive by the caller and seen by no one else until the
// kernel is done (it has not been returned to Python yet).
unsafe impl<T: Send> Send for OutSlice<T> {}

impl<T> OutSlice<T> {
    /// The elements (uninitialized until the kernel writes them: kernels write every element).
    pub fn get(&mut self) -> &mut [T] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: `ptr` is the data of a C-ordered array of `len` elements that nothing else uses.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// A new C-ordered array of shape `dims`, like `np.empty` (NumPy's own allocator, so large outputs
/// get its huge-page advice; those of a megabyte or more come from [`crate::recycle`]), with the
/// handle its kernel writes it through. Too large a shape is NumPy's MemoryError / ValueError.
pub fn empty<'py, T: Element>(py: Python<'py>, dims: &[usize]) -> PyResult<(Bound<'py, PyAny>, OutSlice<T>)> {
    use numpy::npyffi::{self, npy_intp, PY_ARRAY_API};
    let mut shape: Vec<npy_intp> = Vec::with_capacity(dims.len());
    for &d in dims {
        shape.push(npy_intp::try_from(d).map_err(|_| PyMemoryError::new_err("array is too big"))?);
    }
    let len: usize = dims.iter().product();
    let mut make = || unsafe {
        // SAFETY: the arguments follow PyArray_NewFromDescr's contract; a NULL result sets an exception.
        PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            T::get_dtype(py).into_dtype_ptr(),
            shape.len() as std::os::raw::c_int,
            shape.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        )
    };
    let ptr = if len.saturating_mul(std::mem::size_of::<T>()) >= crate::recycle::MIN_BYTES {
        crate::recycle::with_handler(py, make)?
    } else {
        make()
    };
    if ptr.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new, C-ordered array of `len` elements of T that only this function has seen.
    unsafe {
        let data = (*(ptr as *mut npyffi::PyArrayObject)).data as *mut T;
        Ok((Bound::from_owned_ptr(py, ptr), OutSlice { ptr: data, len }))
    }
}

/// Converts a kernel error into the Python exception the contract promises.
pub fn to_pyerr(e: KernelError) -> PyErr {
    match e {
        KernelError::OutOfMemory { .. } => PyMemoryError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Runs `f` with the GIL released, turning kernel errors (and, defensively, panics) into exceptions.
pub fn run<R: Send>(py: Python<'_>, f: impl FnOnce() -> Result<R, KernelError> + Send) -> PyResult<R> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(r) => r.map_err(to_pyerr),
        Err(_) => Err(PyRuntimeError::new_err(
            "cs231n_rs internal error (a kernel panicked); please report it",
        )),
    }
}

/// The error for two arrays that should share a float dtype.
pub fn dtype_mismatch(a: &str, b: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{a} and {b} must have the same float dtype (float32 or float64)"
    ))
}

/// Row view of a borrowed array: borrowed when its rows are contiguous, copied otherwise.
pub fn rows<'a, T: Real + Element>(a: &'a PyReadonlyArray2<'_, T>) -> PyResult<RowsBuf<'a, T>> {
    RowsBuf::from_view(a.as_array()).map_err(to_pyerr)
}

/// An int64 vector as a slice (copied only when the array is not contiguous).
pub fn ints<'a>(a: &'a PyReadonlyArray1<'_, i64>) -> Cow<'a, [i64]> {
    flat(a)
}
