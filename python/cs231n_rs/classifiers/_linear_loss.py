"""The one entry point from the linear-classifier losses to the Rust kernel."""

import numpy as np

from .. import _core
from .._validate import as_array, compute_dtype, labels, matrix


def linear_loss(kind, W, X, y, reg, idx=None):
    """(loss, dW) of ``kind`` ('svm' or 'softmax') at ``W`` on ``X[idx]`` (all of X when idx is None)."""
    W = as_array(W, "W")
    X = as_array(X, "X")
    work, result = compute_dtype(W, X)
    W = matrix(W, "W", work, "(D, C)")
    X = matrix(X, "X", work, "(N, D)")
    if X.shape[1] != W.shape[0]:
        raise ValueError("X: expected shape (N, %d) to match W of shape %s, got %s" % (W.shape[0], W.shape, X.shape))
    y = labels(y, "y", X.shape[0] if idx is None else len(idx))
    reg = _as_reg(reg)
    loss, dW = _core.linear_loss(kind, W, X, y, reg, idx)
    if result != work:
        dW = dW.astype(result)
    return result.type(loss), dW


def _as_reg(reg):
    """The regularization strength as a Python float; TypeError for strings, arrays and the like."""
    if isinstance(reg, (float, int)) and not isinstance(reg, bool):
        return float(reg)
    r = np.asarray(reg)
    if r.ndim != 0 or r.dtype.kind not in "biuf":
        raise TypeError("reg: expected a real number, got %r" % (reg,))
    return float(r)
