"""Reference max pooling: cs231n's "naive" layer (``layers.py``) and the three fast variants of
``fast_layers.py`` (reshape, im2col and the dispatching ``_fast`` pair), with cs231n's caches.

Geometry (``pool_param`` holds ``pool_height``, ``pool_width`` and ``stride``; no padding)::

    H' = 1 + (H - pool_height) // stride        W' = 1 + (W - pool_width) // stride

Tie rules differ between the variants, as in cs231n:

* ``max_pool_backward_naive`` and ``max_pool_backward_im2col`` route each window's gradient to the
  FIRST maximum of the window in row-major order (what ``np.argmax`` of the flattened window picks,
  and what a naive double loop with ``>`` picks);
* ``max_pool_backward_reshape`` gives every tied maximum an equal share ``dout / (number of ties)``.

Bad pool parameters (non-integers, ``pool_height``/``pool_width``/``stride`` < 1, a pool larger than
the input) raise ``ValueError``; the fast variants then keep cs231n's assertions on the layouts they
support. Unlike cs231n's, whose ``max_pool_forward_im2col`` calls an undefined ``im2col`` (spec quirk
3), the im2col variant works.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._conv import _check_4d, _check_dout, _int_param
from .im2col import col2im_indices, im2col_indices

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


def _pool_geometry(x, pool_param):
    """Validates a pooling layer's arguments; returns (N, C, H, W, ph, pw, stride, H_out, W_out)."""
    _check_4d(x, "x")
    N, C, H, W = np.shape(x)
    ph = _int_param(pool_param, "pool_height", "pool_param", 1)
    pw = _int_param(pool_param, "pool_width", "pool_param", 1)
    stride = _int_param(pool_param, "stride", "pool_param", 1)
    if ph > H or pw > W:
        raise ValueError(
            "pool_param gives a non-positive output size: %dx%d pool on a %dx%d input" % (ph, pw, H, W)
        )
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    return N, C, H, W, ph, pw, stride, H_out, W_out


def _grad_dtype(x, dout):
    """Floating dtype of a pooling gradient: dout's and x's promoted (float64 for integers)."""
    return np.result_type(np.asarray(x).dtype, np.asarray(dout).dtype, np.float16)


# ---------------------------------------------------------------------------------------------
# Naive (layers.py)
# ---------------------------------------------------------------------------------------------


def max_pool_forward_naive(x, pool_param):
    """A (vectorized) implementation of the forward pass for a max-pooling layer.

    Inputs:
    - x: Input data, of shape (N, C, H, W)
    - pool_param: dictionary with the following keys:
      - 'pool_height': The height of each pooling region
      - 'pool_width': The width of each pooling region
      - 'stride': The distance between adjacent pooling regions

    No padding is necessary here, and (unlike cs231n's assumption) H - pool_height and
    W - pool_width need not be multiples of stride: trailing rows/columns no window reaches are
    ignored.

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W') where H' and W' are given by
      H' = 1 + (H - pool_height) // stride
      W' = 1 + (W - pool_width) // stride
      out[n, c, i, j] = max of x[n, c, i*stride : i*stride + pool_height,
                                  j*stride : j*stride + pool_width]
    - cache: (x, pool_param)
    """
    N, C, H, W, ph, pw, stride, H_out, W_out = _pool_geometry(x, pool_param)
    windows = sliding_window_view(np.asarray(x), (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    out = windows.max(axis=(4, 5))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """A (vectorized) implementation of the backward pass for a max-pooling layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: A tuple of (x, pool_param) as in the forward pass.

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W). Each dout[n, c, i, j] goes to the
      first maximum of its window in row-major order; overlapping windows (stride < pool size)
      add up.
    """
    x, pool_param = cache
    N, C, H, W, ph, pw, stride, H_out, W_out = _pool_geometry(x, pool_param)
    _check_dout(dout, (N, C, H_out, W_out))
    windows = sliding_window_view(np.asarray(x), (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    first_max = windows.reshape(N, C, H_out, W_out, ph * pw).argmax(axis=4)
    dx = np.zeros((N, C, H, W), dtype=_grad_dtype(x, dout))
    h_span = stride * (H_out - 1) + 1
    w_span = stride * (W_out - 1) + 1
    for u in range(ph):
        for v in range(pw):
            dx[:, :, u : u + h_span : stride, v : v + w_span : stride] += np.where(first_max == u * pw + v, dout, 0)
    return dx


# ---------------------------------------------------------------------------------------------
# Reshape (fast_layers.py): square, tiling pools with stride == size
# ---------------------------------------------------------------------------------------------


def max_pool_forward_reshape(x, pool_param):
    """A fast implementation of the forward pass for the max pooling layer that uses some clever
    reshaping.

    This can only be used for square pooling regions that tile the input:
    pool_height == pool_width == stride (AssertionError "Invalid pool params" otherwise), and H, W
    multiples of the pool size (AssertionError otherwise).

    Returns a tuple of:
    - out: of shape (N, C, H / pool_height, W / pool_width)
    - cache: (x, x_reshaped, out), x_reshaped = x.reshape(N, C, H/ph, ph, W/pw, pw)
    """
    N, C, H, W, ph, pw, stride, H_out, W_out = _pool_geometry(x, pool_param)
    assert ph == pw == stride, "Invalid pool params"
    assert H % ph == 0, "Invalid pool params: H not a multiple of pool_height"
    assert W % pw == 0, "Invalid pool params: W not a multiple of pool_width"
    x_reshaped = np.asarray(x).reshape(N, C, H // ph, ph, W // pw, pw)
    out = x_reshaped.max(axis=3).max(axis=4)
    cache = (x, x_reshaped, out)
    return out, cache


def max_pool_backward_reshape(dout, cache):
    """A fast implementation of the backward pass for the max pooling layer that uses some clever
    broadcasting and reshaping.

    Every position equal to its window's maximum receives dout, divided by the number of such
    positions: tied maxima split the gradient equally (cs231n's behaviour).

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: (x, x_reshaped, out) from max_pool_forward_reshape

    Returns dx of shape (N, C, H, W).
    """
    x, x_reshaped, out = cache
    _check_dout(dout, np.shape(out))
    dout = np.asarray(dout)
    mask = x_reshaped == out[:, :, :, np.newaxis, :, np.newaxis]
    ties = np.sum(mask, axis=(3, 5), keepdims=True)
    dx_reshaped = np.where(mask, dout[:, :, :, np.newaxis, :, np.newaxis], 0).astype(_grad_dtype(x, dout))
    dx_reshaped /= ties
    return dx_reshaped.reshape(np.shape(x))


# ---------------------------------------------------------------------------------------------
# im2col (fast_layers.py): any pool that tiles the input exactly
# ---------------------------------------------------------------------------------------------


def max_pool_forward_im2col(x, pool_param):
    """An implementation of the forward pass for max pooling based on im2col.

    Every (sample, channel) plane is treated as a one-channel image: x is reshaped to
    (N*C, 1, H, W) and laid out with im2col_indices (padding 0), so x_cols has shape
    (pool_height * pool_width, H' * W' * N * C) with rows ordered (i, j) inside the window and
    columns ordered (h', w', n*C + c). The max is taken over axis 0.

    (H - pool_height) and (W - pool_width) must be multiples of stride (AssertionError "Invalid
    height" / "Invalid width", as in cs231n).

    Returns a tuple of:
    - out: of shape (N, C, H', W')
    - cache: (x, x_cols, x_cols_argmax, pool_param), x_cols_argmax of shape (H'*W'*N*C,) giving
      the first maximal row of every column
    """
    N, C, H, W, ph, pw, stride, H_out, W_out = _pool_geometry(x, pool_param)
    assert (H - ph) % stride == 0, "Invalid height"
    assert (W - pw) % stride == 0, "Invalid width"
    x_split = np.asarray(x).reshape(N * C, 1, H, W)
    x_cols = im2col_indices(x_split, ph, pw, padding=0, stride=stride)
    x_cols_argmax = np.argmax(x_cols, axis=0)
    x_cols_max = x_cols[x_cols_argmax, np.arange(x_cols.shape[1])]
    out = x_cols_max.reshape(H_out, W_out, N, C).transpose(2, 3, 0, 1)
    cache = (x, x_cols, x_cols_argmax, pool_param)
    return out, cache


def max_pool_backward_im2col(dout, cache):
    """An implementation of the backward pass for max pooling based on im2col.

    Each dout entry is written into its column of a zero dx_cols at the row x_cols_argmax chose
    (the first maximum), then col2im_indices sums the columns back onto the (N*C, 1, H, W) planes.

    Returns dx of shape (N, C, H, W).
    """
    x, x_cols, x_cols_argmax, pool_param = cache
    N, C, H, W, ph, pw, stride, H_out, W_out = _pool_geometry(x, pool_param)
    _check_dout(dout, (N, C, H_out, W_out))
    dout_reshaped = np.asarray(dout).transpose(2, 3, 0, 1).flatten()  # columns ordered (h', w', n, c)
    dx_cols = np.zeros(x_cols.shape, dtype=_grad_dtype(x, dout))
    dx_cols[x_cols_argmax, np.arange(dx_cols.shape[1])] = dout_reshaped
    dx = col2im_indices(dx_cols, (N * C, 1, H, W), ph, pw, padding=0, stride=stride)
    return dx.reshape(N, C, H, W)


# ---------------------------------------------------------------------------------------------
# Dispatch (fast_layers.py)
# ---------------------------------------------------------------------------------------------


def max_pool_forward_fast(x, pool_param):
    """A fast implementation of the forward pass for a max pooling layer.

    This chooses between the reshape method and the im2col method. If the pooling regions are
    square and tile the input image (pool_height == pool_width == stride, H and W multiples of the
    pool size), then we can use the reshape method; otherwise the im2col method.

    Returns a tuple of:
    - out: of shape (N, C, H', W')
    - cache: ("reshape", reshape_cache) or ("im2col", im2col_cache)
    """
    N, C, H, W, ph, pw, stride, H_out, W_out = _pool_geometry(x, pool_param)
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
    used to generate the cache. Any other tag raises ValueError('Unrecognized method "%s"').
    """
    method, real_cache = cache
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    elif method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    else:
        raise ValueError('Unrecognized method "%s"' % method)
