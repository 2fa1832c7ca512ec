"""Argument checks and NumPy-style dtype promotion shared by every public function.

Rules: the compute dtype is ``np.result_type`` of the float inputs, as the NumPy code would get;
integer and bool inputs compute in float64; float16 computes in float32 and is cast back; complex,
object and string arrays are a TypeError naming the argument.
"""

import operator

import numpy as np

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_F16 = np.dtype(np.float16)


def as_array(a, name):
    """``np.asarray`` with a TypeError naming ``name`` for non-numeric input."""
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError("%s: expected a numeric array, got %s (%s)" % (name, type(a).__name__, exc)) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError("%s: expected a real numeric array (float32, float64 or integer), got dtype %s" % (name, arr.dtype))
    return arr


def compute_dtype(*arrays):
    """(dtype the kernels run in, dtype of the result NumPy would give)."""
    rt = np.result_type(*arrays)
    if rt.kind in "biu":
        return _F64, _F64
    if rt == _F16:
        return _F32, _F16
    if rt == _F32 or rt == _F64:
        return rt, rt
    # longdouble and friends: compute in float64, report float64
    return _F64, _F64


def matrix(a, name, dtype, shape_doc):
    """A 2-D array of ``dtype`` (no copy when it already is one); ValueError naming ``shape_doc`` otherwise."""
    if a.ndim != 2:
        raise ValueError("%s: expected a 2-D array of shape %s, got shape %s" % (name, shape_doc, a.shape))
    return readable(a if a.dtype == dtype else a.astype(dtype))


def readable(a):
    """``a`` itself when the kernels can read it in place, else an aligned C-ordered copy.

    Views can have byte strides that are not a multiple of the item size (a field of a packed
    structured array) or start at an unaligned address; the kernels need whole-element strides.
    """
    flags = a.flags
    if flags.aligned and (flags.c_contiguous or all(st % a.itemsize == 0 for st in a.strides)):
        return a
    # np.ascontiguousarray returns an unaligned C-contiguous array unchanged: always copy
    return np.array(a, order="C", copy=True)


def matrix_pair(a, a_name, a_doc, b, b_name, b_doc, a_axis, b_axis):
    """Two 2-D arrays in their common compute dtype whose axes ``a_axis`` and ``b_axis`` agree.

    Returns ``(a, b, work_dtype, result_dtype)``; ValueError naming ``a`` when the sizes differ.
    """
    a = as_array(a, a_name)
    b = as_array(b, b_name)
    work, result = compute_dtype(a, b)
    b = matrix(b, b_name, work, b_doc)
    a = matrix(a, a_name, work, a_doc)
    if a.shape[a_axis] != b.shape[b_axis]:
        raise ValueError(
            "%s: expected %s with %d along axis %d to match %s of shape %s, got shape %s"
            % (a_name, a_doc, b.shape[b_axis], a_axis, b_name, b.shape, a.shape)
        )
    return a, b, work, result


def as_int(value, name):
    """``operator.index(value)``, refusing bools and non-integers with a TypeError naming ``name``."""
    if isinstance(value, bool):
        raise TypeError("%s: expected an int, got bool" % name)
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s: expected an int, got %s" % (name, type(value).__name__)) from None


def as_real(value, name):
    """A real scalar as a Python float; TypeError for strings, arrays and the like."""
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return float(value)
    r = np.asarray(value)
    if r.ndim != 0 or r.dtype.kind not in "biuf":
        raise TypeError("%s: expected a real number, got %r" % (name, value))
    return float(r)


def labels(y, name, n=None):
    """An int64 vector of labels; TypeError for non-integer dtypes, ValueError for a wrong length."""
    y = as_array(y, name)
    if y.dtype.kind not in "iu":
        raise TypeError("%s: expected an integer array of class labels, got dtype %s" % (name, y.dtype))
    if y.ndim != 1:
        raise ValueError("%s: expected a 1-D array of labels of shape (N,), got shape %s" % (name, y.shape))
    if n is not None and y.shape[0] != n:
        raise ValueError("%s: expected shape (%d,), one label per sample, got %s" % (name, n, y.shape))
    if y.dtype != np.int64:
        if y.dtype.kind == "u" and y.size and y.max() > np.iinfo(np.int64).max:
            raise ValueError("%s: label %d is too large" % (name, y.max()))
        y = y.astype(np.int64)
    return readable(y)


def finish(out, result_dtype):
    """Casts a kernel result to the dtype NumPy would have produced (a no-op in the common case)."""
    return out if out.dtype == result_dtype else out.astype(result_dtype)
