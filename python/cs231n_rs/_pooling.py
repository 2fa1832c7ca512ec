"""Max pooling, computed in Rust: cs231n's naive layer (``layers.py``) and the fast variants of
``fast_layers.py`` (reshape, im2col and the dispatching ``_fast`` pair), with cs231n's caches.

Geometry (``pool_param`` holds ``pool_height``, ``pool_width`` and ``stride``; no padding)::

    H' = 1 + (H - pool_height) // stride        W' = 1 + (W - pool_width) // stride

Rows and columns that no window reaches are ignored (their gradient is 0); windows may overlap
(stride < pool size), and their gradients then add. A window holding NaN has max NaN (as
``np.max``).

Tie rules, as in cs231n:

* ``max_pool_backward_naive`` and ``max_pool_backward_im2col`` send each window's gradient to the
  first maximum of the window in row-major order (``np.argmax``; the first NaN when there is one);
* ``max_pool_backward_reshape`` gives every tied maximum an equal share ``dout / (number of ties)``;
  a window holding NaN has no maximum equal to its max, and every element of it gets 0 / 0 = NaN,
  as in cs231n's code.

Dtypes: float32 stays float32 and float64 stays float64; integer inputs compute in float64 and give
float64 (cs231n's naive starter fills ``np.zeros``, a float64 array); float16 computes in float32
and is cast back. ``dx`` has the promoted dtype of ``dout`` and ``x``. Inputs are never modified.

Unlike cs231n's ``max_pool_forward_im2col``, which calls an undefined ``im2col`` (NameError), the
im2col variant works for any window and stride.
"""


import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import _core
from ._validate import as_array, as_int, compute_dtype, finish, readable

__all__ = [
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
    "max_pool_forward_reshape",
    "max_pool_backward_reshape",
    "max_pool_forward_im2col",
    "max_pool_backward_im2col",
]

_KEYS = ("pool_height", "pool_width", "stride")


# ------------------------------------------------------------------------------------------ helpers


def _pool_sizes(pool_param):
    """(pool_height, pool_width, stride) as ints >= 1; KeyError for a missing key (as cs231n's
    ``pool_param['stride']``), TypeError for a non-integer, ValueError for a size below 1."""
    sizes = []
    for key in _KEYS:
        size = as_int(pool_param[key], "pool_param[%r]" % key)  # a float is a TypeError, as for conv_param
        if size < 1:
            raise ValueError("pool_param['%s'] must be >= 1, got %d" % (key, size))
        sizes.append(size)
    return tuple(sizes)


def _images(x):
    """``x`` as a 4-D (N, C, H, W) array (ValueError with the shape otherwise)."""
    xa = as_array(x, "x")
    if xa.ndim != 4:
        raise ValueError("x: expected a 4-D array of shape (N, C, H, W), got shape %s" % (xa.shape,))
    return xa


def _geometry(xa, pool_param):
    """(ph, pw, stride, out_shape) of pooling ``xa``; ValueError when the window does not fit."""
    ph, pw, stride = _pool_sizes(pool_param)
    N, C, H, W = xa.shape
    if ph > H or pw > W:
        raise ValueError(
            "pool_param gives a non-positive output size: %dx%d pool on a %dx%d input" % (ph, pw, H, W)
        )
    return ph, pw, stride, (N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride)


def _work(a, dtype):
    return readable(a if a.dtype == dtype else a.astype(dtype))


def _forward(xa, ph, pw, stride):
    work, result = compute_dtype(xa)
    return finish(_core.max_pool_forward(_work(xa, work), ph, pw, stride), result)


def _backward(dout, xa, ph, pw, stride, out_shape, split_ties):
    da = as_array(dout, "dout")
    if da.shape != tuple(out_shape):
        raise ValueError("dout: expected shape %s (N, C, H', W'), got %s" % (tuple(out_shape), da.shape))
    work, result = compute_dtype(da, xa)
    dx = _core.max_pool_backward(_work(da, work), _work(xa, work), ph, pw, stride, split_ties)
    return finish(dx, result)


# ------------------------------------------------------------------------------------------ naive


def max_pool_forward_naive(x, pool_param):
    """A naive implementation of the forward pass for a max-pooling layer.

    Inputs:
    - x: Input data, of shape (N, C, H, W)
    - pool_param: dictionary with the following keys:
      - 'pool_height': The height of each pooling region
      - 'pool_width': The width of each pooling region
      - 'stride': The distance between adjacent pooling regions

    No padding is necessary here. H - pool_height and W - pool_width need not be multiples of
    stride: rows and columns no window reaches are ignored.

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W') where H' and W' are given by
      H' = 1 + (H - pool_height) // stride
      W' = 1 + (W - pool_width) // stride
    - cache: (x, pool_param)
    """
    xa = _images(x)
    ph, pw, stride, _ = _geometry(xa, pool_param)
    return _forward(xa, ph, pw, stride), (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """A naive implementation of the backward pass for a max-pooling layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: A tuple of (x, pool_param) as in the forward pass.

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W). Each dout[n, c, i, j] goes to the
      first maximum of its window (row-major order); overlapping windows add up.
    """
    x, pool_param = cache
    xa = _images(x)
    ph, pw, stride, out_shape = _geometry(xa, pool_param)
    return _backward(dout, xa, ph, pw, stride, out_shape, split_ties=False)


# ------------------------------------------------------------------------------------------ reshape


def max_pool_forward_reshape(x, pool_param):
    """A fast implementation of the forward pass for the max pooling layer that uses some clever
    reshaping.

    This can only be used for square pooling regions that tile the input:
    pool_height == pool_width == stride (AssertionError "Invalid pool params" otherwise), and H and
    W multiples of the pool size (AssertionError otherwise).

    Returns a tuple of:
    - out: Output data, of shape (N, C, H / pool_height, W / pool_width)
    - cache: (x, x_reshaped, out), x_reshaped = x.reshape(N, C, H / ph, ph, W / pw, pw)
    """
    xa = _images(x)
    N, C, H, W = xa.shape
    ph, pw, stride = _pool_sizes(pool_param)
    if not ph == pw == stride:
        raise AssertionError("Invalid pool params")
    if H % ph != 0:
        raise AssertionError("Invalid pool params: H = %d is not a multiple of pool_height = %d" % (H, ph))
    if W % pw != 0:
        raise AssertionError("Invalid pool params: W = %d is not a multiple of pool_width = %d" % (W, pw))
    _geometry(xa, pool_param)
    x_reshaped = xa.reshape(N, C, H // ph, ph, W // pw, pw)
    out = _forward(xa, ph, pw, stride)
    return out, (x, x_reshaped, out)


def max_pool_backward_reshape(dout, cache):
    """A fast implementation of the backward pass for the max pooling layer that uses some clever
    broadcasting and reshaping.

    Every position equal to its window's maximum receives dout, divided by the number of such
    positions: tied maxima split the gradient equally (cs231n's behaviour). The maxima are
    recomputed from x.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: (x, x_reshaped, out) from max_pool_forward_reshape

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    """
    x, x_reshaped, _ = cache
    xa = _images(x)
    shape6 = np.shape(x_reshaped)
    if len(shape6) != 6:
        raise ValueError("cache: expected x_reshaped of shape (N, C, H/ph, ph, W/pw, pw), got %s" % (shape6,))
    ph, pw = shape6[3], shape6[5]
    if ph != pw:
        raise AssertionError("Invalid pool params")
    N, C, H, W = xa.shape
    if shape6 != (N, C, H // ph, ph, W // pw, pw) or H % ph or W % pw:
        raise ValueError("cache: x_reshaped of shape %s does not match x of shape %s" % (shape6, xa.shape))
    return _backward(dout, xa, ph, pw, ph, (N, C, H // ph, W // pw), split_ties=True)


# ------------------------------------------------------------------------------------------ im2col


def _im2col_columns(xa, ph, pw, stride, out_shape):
    """cs231n's x_cols (ph * pw, H' * W' * N * C) of x seen as (N*C, 1, H, W): rows ordered (i, j)
    inside the window, columns ordered (h', w', n*C + c); and its argmax over axis 0."""
    N, C, H, W = xa.shape
    _, _, Ho, Wo = out_shape
    planes = xa.reshape(N * C, H, W)
    windows = sliding_window_view(planes, (ph, pw), axis=(1, 2))[:, ::stride, ::stride]
    x_cols = np.ascontiguousarray(windows.transpose(3, 4, 1, 2, 0)).reshape(ph * pw, Ho * Wo * N * C)
    return x_cols, np.argmax(x_cols, axis=0)


def max_pool_forward_im2col(x, pool_param):
    """An implementation of the forward pass for max pooling based on im2col.

    Every (sample, channel) plane is treated as a one-channel image: x is seen as (N*C, 1, H, W)
    and laid out in columns (padding 0), so x_cols has shape (pool_height * pool_width,
    H' * W' * N * C) with rows ordered (i, j) inside the window and columns ordered
    (h', w', n*C + c). This is not restricted to any window or stride (cs231n's version only ran
    for windows that tile the input, and in fact not at all).

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W')
    - cache: (x, x_cols, x_cols_argmax, pool_param), x_cols_argmax of shape (H' * W' * N * C,)
      giving the first maximal row of every column
    """
    xa = _images(x)
    ph, pw, stride, out_shape = _geometry(xa, pool_param)
    x_cols, x_cols_argmax = _im2col_columns(xa, ph, pw, stride, out_shape)
    out = _forward(xa, ph, pw, stride)
    return out, (x, x_cols, x_cols_argmax, pool_param)


def max_pool_backward_im2col(dout, cache):
    """An implementation of the backward pass for max pooling based on im2col.

    Each dout entry goes to the row x_cols_argmax chose for its column (the first maximum of the
    window, recomputed from x); overlapping windows add up.

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    """
    x, _, _, pool_param = cache
    xa = _images(x)
    ph, pw, stride, out_shape = _geometry(xa, pool_param)
    return _backward(dout, xa, ph, pw, stride, out_shape, split_ties=False)


# ------------------------------------------------------------------------------------------ dispatch


def max_pool_forward_fast(x, pool_param):
    """A fast implementation of the forward pass for a max pooling layer.

    This chooses between the reshape method and the im2col method. If the pooling regions are
    square and tile the input image (pool_height == pool_width == stride, H and W multiples of the
    pool size), then we can use the reshape method; otherwise the im2col method.

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W')
    - cache: ("reshape", reshape_cache) or ("im2col", im2col_cache)
    """
    xa = _images(x)
    ph, pw, stride = _pool_sizes(pool_param)
    H, W = xa.shape[2:]
    same_size = ph == pw == stride
    tiles = H % ph == 0 and W % pw == 0
    if same_size and tiles:
        out, reshape_cache = max_pool_forward_reshape(x, pool_param)
        cache = ("reshape", reshape_cache)
    else:
        out, im2col_cache = max_pool_forward_im2col(x, pool_param)
        cache = ("im2col", im2col_cache)
    return out, cache


def max_pool_backward_fast(dout, cache):
    """A fast implementation of the backward pass for a max pooling layer.

    This switches between the reshape method and the im2col method depending on which method was
    used to generate the cache.
    """
    method, real_cache = cache
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    elif method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    else:
        raise ValueError('Unrecognized method "%s"' % method)
