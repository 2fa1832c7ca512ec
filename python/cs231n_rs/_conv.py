"""Convolution layers: cs231n's ``conv_forward_naive`` / ``conv_backward_naive`` and the fast
variants of ``fast_layers.py``, all on the same Rust kernel (per-image im2col + GEMM).

Caches: the naive pair keeps cs231n's ``(x, w, b, conv_param)``; the fast variants keep the same
four entries and, fifth, ``x`` in the dtype the kernels ran in (cs231n stores its ``x_cols`` there;
the Rust backward never needs the columns, it rebuilds them per image in cache).
"""

import numpy as np

from . import _core
from ._validate import as_array, as_int, compute_dtype, finish, readable

__all__ = ["conv_forward_naive", "conv_backward_naive"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _work(a, dtype):
    return readable(a if a.dtype == dtype else a.astype(dtype))


def conv_params(conv_param):
    """(stride, pad) of a ``conv_param`` dict, checked: stride >= 1, pad >= 0 (KeyError when missing,
    as cs231n)."""
    stride = as_int(conv_param["stride"], "conv_param['stride']")
    pad = as_int(conv_param["pad"], "conv_param['pad']")
    if stride < 1:
        raise ValueError("conv_param['stride']: expected a stride of at least 1, got %d" % stride)
    if pad < 0:
        raise ValueError("conv_param['pad']: expected a padding of at least 0, got %d" % pad)
    return stride, pad


def _image4(a, name, doc):
    if a.ndim != 4:
        raise ValueError("%s: expected a 4-D array of shape %s, got shape %s" % (name, doc, a.shape))
    return a


def _inputs(x, w, b):
    xa = _image4(as_array(x, "x"), "x", "(N, C, H, W)")
    wa = _image4(as_array(w, "w"), "w", "(F, C, HH, WW)")
    ba = as_array(b, "b")
    if ba.size != wa.shape[0] or ba.ndim > 1 and ba.shape[-1] != wa.shape[0]:
        raise ValueError("b: expected shape (%d,) (F of w), got %s" % (wa.shape[0], ba.shape))
    if wa.shape[1] != xa.shape[1]:
        raise ValueError(
            "w: expected shape (F, %d, HH, WW) (C of x, which has shape %s), got %s" % (xa.shape[1], xa.shape, wa.shape)
        )
    return xa, wa, ba


def forward(x, w, b, conv_param):
    """(out, x in the kernels' dtype) of the convolution; ``out`` in the dtype NumPy would give."""
    xa, wa, ba = _inputs(x, w, b)
    stride, pad = conv_params(conv_param)
    work, result = compute_dtype(xa, wa, ba)
    xw = _work(xa, work)
    out = _core.conv_forward(xw, _work(wa, work), _work(ba.reshape(-1), work), stride, pad)
    return finish(out, result), xw


def backward(dout, x, w, conv_param, need_dx=True, need_dw=True):
    """(dx or None, dw, db) of the convolution, each in the dtype NumPy's backward would give.

    ``need_dw=False`` returns (dx, None, None) through the kernels' dx-only path: no columns of x and
    no dw product (x then only gives the geometry); its dx has the same bits as the full path's."""
    da = _image4(as_array(dout, "dout"), "dout", "(N, F, H', W')")
    xa = _image4(as_array(x, "x"), "x", "(N, C, H, W)")
    wa = _image4(as_array(w, "w"), "w", "(F, C, HH, WW)")
    stride, pad = conv_params(conv_param)
    work, _ = compute_dtype(da, xa, wa)
    if not need_dw:
        # x is not read: a zero-strided array of its shape in the work dtype stands in (no cast).
        xs = xa if xa.dtype == work else np.broadcast_to(np.zeros((), work), xa.shape)
        dx, _, _ = _core.conv_backward(_work(da, work), xs, _work(wa, work), stride, pad, need_dx, False)
        return (None if dx is None else finish(dx, _promoted(work, da, wa))), None, None
    dx, dw, db = _core.conv_backward(_work(da, work), _work(xa, work), _work(wa, work), stride, pad, need_dx)
    if dx is not None:
        dx = finish(dx, _promoted(work, da, wa))
    dw = finish(dw, _promoted(work, da, xa))
    db = finish(db, da.dtype if da.dtype in _FLOATS else np.sum(da[:0], axis=(0, 2, 3)).dtype)
    return dx, dw, db


def _promoted(work, *arrays):
    rt = np.result_type(*arrays)
    return rt if rt.kind == "f" else work


def conv_forward_naive(x, w, b, conv_param):
    """A naive implementation of the forward pass for a convolutional layer.

    The input consists of N data points, each with C channels, height H and width W. We convolve
    each input with F different filters, where each filter spans all C channels and has height HH
    and width WW.

    Input:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases, of shape (F,)
    - conv_param: A dictionary with the following keys:
      - 'stride': The number of pixels between adjacent receptive fields in the horizontal and
        vertical directions.
      - 'pad': The number of pixels that will be used to zero-pad the input.

    During padding, 'pad' zeros are placed symmetrically (i.e equally on both sides) along the
    height and width axes of the input. The original input x is not modified.

    Returns a tuple of:
    - out: Output data, of shape (N, F, H', W') where H' and W' are given by
      H' = 1 + (H + 2 * pad - HH) // stride
      W' = 1 + (W + 2 * pad - WW) // stride
    - cache: (x, w, b, conv_param)
    """
    out, _ = forward(x, w, b, conv_param)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """A naive implementation of the backward pass for a convolutional layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W').
    - cache: A tuple of (x, w, b, conv_param) as in conv_forward_naive

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW)
    - db: Gradient with respect to b, of shape (F,)
    """
    x, w, b, conv_param = cache[:4]
    return backward(dout, x, w, conv_param)
