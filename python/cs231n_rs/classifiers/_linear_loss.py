"""The one entry point from the linear-classifier losses to the Rust kernel."""

from .. import _core
from .._validate import as_real, labels, matrix_pair


def linear_loss(kind, W, X, y, reg, idx=None):
    """(loss, dW) of ``kind`` ('svm' or 'softmax') at ``W`` on ``X[idx]`` (all of X when idx is None)."""
    X, W, work, result = matrix_pair(X, "X", "(N, D)", W, "W", "(D, C)", 1, 0)
    y = labels(y, "y", X.shape[0] if idx is None else len(idx))
    reg = as_real(reg, "reg")
    loss, dW = _core.linear_loss(kind, W, X, y, reg, idx)
    if result != work:
        dW = dW.astype(result)
    return result.type(loss), dW

