"""Reference "fast" convolution and pooling layers (cs231n ``fast_layers.py``), in NumPy.

Two convolutions built on one big matrix multiply, differing only in the column order of the
``x_cols`` matrix (C*HH*WW, N*H'*W') they cache as the fifth entry of ``(x, w, b, conv_param,
x_cols)``; rows are ordered (c, u, v) in both:

* ``conv_forward_im2col``: columns ordered (h', w', n), n fastest, as cs231n's ``im2col_cython``
  (and :func:`cs231n_rs.reference.im2col.im2col_indices`). Like cs231n it asserts that the filter
  tiles the padded input ("width does not work" / "height does not work") and returns the output
  as a transposed, non-contiguous view.
* ``conv_forward_strides``: columns ordered (n, h', w'), built from a strided view of the padded
  input; floors the output size like ``conv_forward_naive`` and returns a contiguous output.

``conv_forward_fast`` / ``conv_backward_fast`` are the strides pair, as in cs231n. The max-pooling
layers live in :mod:`cs231n_rs.reference._pooling` and are re-exported here, as are the im2col
helpers (cs231n's ``fast_layers`` does ``from .im2col import *``). The caches of the two conv
variants are not interchangeable.
"""

import numpy as np

from ._conv import _check_dout, _col2im_6d, _conv_geometry, _padded_windows
from ._pooling import (
    max_pool_backward_fast,
    max_pool_backward_im2col,
    max_pool_backward_reshape,
    max_pool_forward_fast,
    max_pool_forward_im2col,
    max_pool_forward_reshape,
)
from .im2col import col2im_indices, get_im2col_indices, im2col_indices

__all__ = [
    "conv_forward_im2col",
    "conv_forward_strides",
    "conv_backward_strides",
    "conv_backward_im2col",
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
    "max_pool_forward_reshape",
    "max_pool_backward_reshape",
    "max_pool_forward_im2col",
    "max_pool_backward_im2col",
    "get_im2col_indices",
    "im2col_indices",
    "col2im_indices",
]


def conv_forward_im2col(x, w, b, conv_param):
    """A fast implementation of the forward pass for a convolutional layer based on im2col.

    Inputs and outputs as conv_forward_naive, except:
    - (W + 2 * pad - WW) and (H + 2 * pad - HH) must be multiples of stride (AssertionError
      "width does not work" / "height does not work", checked in that order);
    - out is the (F, H', W', N) product matrix transposed to (N, F, H', W') (not contiguous);
    - cache: (x, w, b, conv_param, x_cols), x_cols of shape (C*HH*WW, H'*W'*N), rows ordered
      (c, u, v), columns ordered (h', w', n).
    """
    N, C, H, W, F, HH, WW, stride, pad, H_out, W_out = _conv_geometry(x, w, b, conv_param)
    assert (W + 2 * pad - WW) % stride == 0, "width does not work"
    assert (H + 2 * pad - HH) % stride == 0, "height does not work"

    windows = _padded_windows(x, HH, WW, stride, pad)  # (N, C, H', W', HH, WW)
    x_cols = windows.transpose(1, 4, 5, 2, 3, 0).reshape(C * HH * WW, H_out * W_out * N)
    res = np.reshape(w, (F, -1)).dot(x_cols) + np.reshape(b, (-1, 1))
    out = res.reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    cache = (x, w, b, conv_param, x_cols)
    return out, cache


def conv_backward_im2col(dout, cache):
    """A fast implementation of the backward pass for a convolutional layer based on im2col.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: (x, w, b, conv_param, x_cols) from conv_forward_im2col

    Returns a tuple of (dx, dw, db) with the shapes of x, w and (F,).
    """
    x, w, b, conv_param, x_cols = cache
    N, C, H, W, F, HH, WW, stride, pad, H_out, W_out = _conv_geometry(x, w, b, conv_param)
    _check_dout(dout, (N, F, H_out, W_out))
    dout = np.asarray(dout)

    db = dout.sum(axis=(0, 2, 3))
    dout_reshaped = dout.transpose(1, 2, 3, 0).reshape(F, -1)  # columns (h', w', n)
    dw = dout_reshaped.dot(x_cols.T).reshape(np.shape(w))
    dx_cols = np.reshape(w, (F, -1)).T.dot(dout_reshaped)  # (C*HH*WW, H'*W'*N)
    dx_cols = dx_cols.reshape(C, HH, WW, H_out, W_out, N).transpose(0, 1, 2, 5, 3, 4)
    dx = _col2im_6d(dx_cols, (N, C, H, W), pad, stride)
    return dx, dw, db


def conv_forward_strides(x, w, b, conv_param):
    """A fast implementation of the forward pass for a convolutional layer: im2col by picking
    clever strides (a no-copy sliding-window view of the padded input), then one matrix multiply.

    Inputs and outputs as conv_forward_naive (output size floored, no divisibility needed), with
    - out: contiguous, of shape (N, F, H', W')
    - cache: (x, w, b, conv_param, x_cols), x_cols of shape (C*HH*WW, N*H'*W'), rows ordered
      (c, u, v), columns ordered (n, h', w').
    """
    N, C, H, W, F, HH, WW, stride, pad, H_out, W_out = _conv_geometry(x, w, b, conv_param)
    windows = _padded_windows(x, HH, WW, stride, pad)  # (N, C, H', W', HH, WW)
    x_cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * H_out * W_out)
    res = np.reshape(w, (F, -1)).dot(x_cols) + np.reshape(b, (-1, 1))
    out = np.ascontiguousarray(res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3))
    cache = (x, w, b, conv_param, x_cols)
    return out, cache


def conv_backward_strides(dout, cache):
    """Backward pass of conv_forward_strides.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: (x, w, b, conv_param, x_cols) from conv_forward_strides

    Returns a tuple of (dx, dw, db) with the shapes of x, w and (F,); dx is the col2im of
    w.T @ dout viewed as (C, HH, WW, N, H', W') (cs231n's col2im_6d layout).
    """
    x, w, b, conv_param, x_cols = cache
    N, C, H, W, F, HH, WW, stride, pad, H_out, W_out = _conv_geometry(x, w, b, conv_param)
    _check_dout(dout, (N, F, H_out, W_out))
    dout = np.asarray(dout)

    db = dout.sum(axis=(0, 2, 3))
    dout_reshaped = dout.transpose(1, 0, 2, 3).reshape(F, -1)  # columns (n, h', w')
    dw = dout_reshaped.dot(x_cols.T).reshape(np.shape(w))
    dx_cols = np.reshape(w, (F, -1)).T.dot(dout_reshaped).reshape(C, HH, WW, N, H_out, W_out)
    dx = _col2im_6d(dx_cols, (N, C, H, W), pad, stride)
    return dx, dw, db


conv_forward_fast = conv_forward_strides
conv_backward_fast = conv_backward_strides
