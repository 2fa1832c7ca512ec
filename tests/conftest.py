"""Shared helpers for the cs231n_rs test-suite: cs231n's ``rel_error``, memory-layout variants of an
array, and the tolerances the package is held to against the NumPy reference."""

import numpy as np
import pytest

import cs231n_rs

# ---------------------------------------------------------------------------------------------
# Tolerances
# ---------------------------------------------------------------------------------------------

#: float64, elementwise work in the same order as the reference.
RTOL_F64_ELEMENTWISE = 1e-12
#: float64, where the summation order differs from NumPy's (GEMM, blocked reductions).
RTOL_F64_GEMM = 1e-10
#: float32, any kernel.
RTOL_F32 = 1e-4


def rtol_for(dtype, gemm=True):
    """The relative tolerance for results of ``dtype`` (GEMM-like work unless ``gemm=False``)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32 or dtype == np.float16:
        return RTOL_F32
    return RTOL_F64_GEMM if gemm else RTOL_F64_ELEMENTWISE


def eps_of(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    return float(np.finfo(dtype).eps)


def assert_close(actual, desired, dtype=None, gemm=True, atol=0.0, rtol=None, err_msg=""):
    """``np.testing.assert_allclose`` with the suite's relative tolerance for ``dtype`` (default: the
    dtype of ``desired``) plus a small absolute floor ``atol`` (for values that cancel to ~0)."""
    desired_arr = np.asarray(desired)
    if dtype is None:
        dtype = desired_arr.dtype if desired_arr.dtype.kind == "f" else np.float64
    if rtol is None:
        rtol = rtol_for(dtype, gemm=gemm)
    np.testing.assert_allclose(np.asarray(actual), desired_arr, rtol=rtol, atol=atol, err_msg=err_msg)


def rel_error(x, y):
    """cs231n's helper: max |x - y| / max(1e-8, |x| + |y|)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


# ---------------------------------------------------------------------------------------------
# Memory layouts
# ---------------------------------------------------------------------------------------------


def layouts(a):
    """Yields ``(name, view)`` pairs: the same values as the 2-D array ``a`` in different memory
    layouts (C order, Fortran order, transposed copies, negative steps, strided views of a bigger
    array, rows spaced apart, an unaligned buffer...). Every view compares equal to ``a``."""
    a = np.asarray(a)
    assert a.ndim == 2
    n, m = a.shape
    out = []
    out.append(("C", np.ascontiguousarray(a)))
    out.append(("F", np.asfortranarray(a)))
    out.append(("T.copy().T", a.T.copy().T))
    out.append(("negative-row-step", np.ascontiguousarray(a[::-1])[::-1]))
    out.append(("negative-col-step", np.ascontiguousarray(a[:, ::-1])[:, ::-1]))
    out.append(("negative-both", np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]))
    big = np.full((2 * n + 1, 3 * m + 2), 12345, dtype=a.dtype)
    big[::2, ::3][:n, :m] = a
    out.append(("big[::2, ::3]", big[::2, ::3][:n, :m]))
    wide = np.full((n, m + 7), 54321, dtype=a.dtype)
    wide[:, 3 : 3 + m] = a
    out.append(("rows-spaced (wide[:, 3:3+m])", wide[:, 3 : 3 + m]))
    tall = np.full((3 * n + 2, m), 777, dtype=a.dtype)
    tall[1::3][:n] = a
    out.append(("every-third-row", tall[1::3][:n]))
    fbig = np.asfortranarray(np.full((n + 4, m + 5), 99, dtype=a.dtype))
    fbig[2 : 2 + n, 1 : 1 + m] = a
    out.append(("F-order sub-block", fbig[2 : 2 + n, 1 : 1 + m]))
    # Unaligned: the data starts one byte into a buffer.
    if a.size and a.dtype.itemsize > 1:
        raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
        un = np.ndarray((n, m), dtype=a.dtype, buffer=raw, offset=1)
        un[...] = a
        assert not un.flags.aligned
        out.append(("unaligned", un))
    ro = a.copy()
    ro.setflags(write=False)
    out.append(("read-only", ro))
    for name, v in out:
        assert v.shape == a.shape, name
        assert np.array_equal(v, a, equal_nan=(a.dtype.kind in "fc")), name
        yield name, v


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def restore_threads():
    """Restores cs231n_rs's thread count after the test."""
    before = cs231n_rs.get_num_threads()
    yield before
    cs231n_rs.set_num_threads(before)


@pytest.fixture
def np_seed():
    """Restores NumPy's global RNG state after the test."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def assert_not_mutated(before, after, name=""):
    """Checks an input is unchanged (values, dtype and shape), NaN-aware."""
    before = np.asarray(before)
    after = np.asarray(after)
    assert before.dtype == after.dtype, name
    assert before.shape == after.shape, name
    assert np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"), name
