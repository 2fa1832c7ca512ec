"""Comparing a student's results with the reference: cs231n's ``rel_error`` and the checks of
shape, dtype and finiteness that come before it."""

import numbers

import numpy as np

#: Floor of cs231n's rel_error (``max(1e-8, |x| + |y|)``).
REL_FLOOR = 1e-8


def rel_error(x, y, scale_floor=0.0, scale=None):
    """cs231n's ``rel_error``: ``max(|x - y| / max(1e-8, |x| + |y|))``.

    ``scale_floor`` raises the floor to ``scale_floor * max|y|``, so that entries many orders of
    magnitude below the rest of the array (a float32 rounding, a numeric gradient's noise) do not
    dominate (``scale`` replaces ``max|y|`` when given); 0 gives cs231n's formula exactly."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return 0.0
    floor = REL_FLOOR
    if scale_floor:
        if scale is None:
            finite = np.abs(y[np.isfinite(y)])
            scale = float(finite.max()) if finite.size else 0.0
        floor = max(floor, scale_floor * scale)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(x - y) / np.maximum(floor, np.abs(x) + np.abs(y))
    if np.isnan(err).any():
        return float("inf")
    return float(np.max(err))


def is_scalar(v):
    return isinstance(v, numbers.Number) or (isinstance(v, np.ndarray) and v.ndim == 0) or isinstance(v, np.generic)


def describe(v):
    """A short description of a value for a message: ``array (3, 4) float32``, ``None``, ``float``."""
    if v is None:
        return "None"
    if isinstance(v, np.ndarray):
        return "array %s %s" % (tuple(v.shape), v.dtype)
    if isinstance(v, (tuple, list)):
        return "%s of %d" % (type(v).__name__, len(v))
    return type(v).__name__


def mismatch(got, want, what):
    """Why ``got`` cannot be compared with ``want`` (type, shape, non-finite values), or None."""
    if got is None:
        return "%s is None" % what
    if is_scalar(want):
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return "%s is %s, expected a number" % (what, describe(got))
        if g.size != 1:
            return "%s has shape %s, expected a scalar" % (what, tuple(g.shape))
        if not np.isfinite(g).all() and np.isfinite(want):
            return "%s is %s" % (what, float(g.reshape(-1)[0]))
        return None
    want = np.asarray(want)
    try:
        g = np.asarray(got)
    except (TypeError, ValueError):
        return "%s is %s, expected an array" % (what, describe(got))
    if g.dtype == object or g.dtype.kind not in "biuf":
        return "%s is %s, expected a numeric array" % (what, describe(got))
    if g.shape != want.shape:
        return "%s has shape %s, expected %s" % (what, tuple(g.shape), tuple(want.shape))
    if g.dtype.kind == "f" and not np.isfinite(g).all() and np.isfinite(want).all():
        return "%s holds nan or inf" % what
    return None


def dtype_note(got, want, what):
    """A note when a float result's dtype differs from the reference's (float32 in, float64 out)."""
    if isinstance(got, np.ndarray) and isinstance(want, np.ndarray):
        if got.dtype != want.dtype and got.dtype.kind == "f" and want.dtype.kind == "f":
            return "%s is %s where the reference returns %s" % (what, got.dtype, want.dtype)
    return None


def close(got, want, tol, scale_floor=0.0):
    """True when ``got`` matches ``want`` within ``tol`` (any mismatch of shape or type: False)."""
    if mismatch(got, want, "x") is not None:
        return False
    return rel_error(got, want, scale_floor) <= tol
