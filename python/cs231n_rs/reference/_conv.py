"""Reference convolutional layers (cs231n ``layers.py``, convolutional part): the "naive"
convolution, spatial batch normalization and spatial group normalization.

Despite cs231n's name, ``conv_forward_naive`` / ``conv_backward_naive`` are vectorized here: the
zero-padded input is viewed as its sliding windows (``np.lib.stride_tricks.sliding_window_view``,
no copy), the forward pass is one tensor contraction of those windows with the filters, and the
input gradient is a col2im scatter-add that loops over the HH * WW filter offsets only, never over
pixels. The convolution cache is cs231n's: ``(x, w, b, conv_param)``.

Geometry (cs231n's; ``conv_param`` holds ``stride`` and ``pad``)::

    H' = 1 + (H + 2 * pad - HH) // stride        W' = 1 + (W + 2 * pad - WW) // stride

Like cs231n's ``conv_forward_strides`` there is no divisibility requirement: rows and columns of
the padded input that no window reaches are ignored (and get a zero gradient). Any ``stride >= 1``,
``pad >= 0`` and non-square filters are accepted; bad geometry raises ``ValueError`` naming the
argument (cs231n's starter leaves this unchecked).
"""

import operator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "conv_forward_naive",
    "conv_backward_naive",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
]


# ---------------------------------------------------------------------------------------------
# Validation and geometry helpers (shared with fast_layers and _pooling)
# ---------------------------------------------------------------------------------------------


def _int_param(params, key, params_name, minimum):
    """``params[key]`` as a Python int, checked to be an integer ``>= minimum``.

    A missing key raises KeyError (as cs231n's ``conv_param["stride"]`` does); a non-integer or a
    too-small value raises ValueError naming ``params_name[key]``.
    """
    value = params[key]
    try:
        ivalue = operator.index(value)
    except TypeError:
        raise ValueError("%s['%s'] must be an integer, got %r" % (params_name, key, value)) from None
    if ivalue < minimum:
        raise ValueError("%s['%s'] must be >= %d, got %d" % (params_name, key, minimum, ivalue))
    return ivalue


def _check_4d(a, name, layout="(N, C, H, W)"):
    if np.ndim(a) != 4:
        raise ValueError("%s must be 4-D %s, got shape %s" % (name, layout, np.shape(a)))


def _conv_geometry(x, w, b, conv_param):
    """Validates a convolution's arguments and returns
    ``(N, C, H, W, F, HH, WW, stride, pad, H_out, W_out)``."""
    _check_4d(x, "x")
    _check_4d(w, "w", "(F, C, HH, WW)")
    N, C, H, W = np.shape(x)
    F, Cw, HH, WW = np.shape(w)
    if Cw != C:
        raise ValueError("w has %d input channels (w.shape[1]) but x has %d (x.shape[1])" % (Cw, C))
    if HH < 1 or WW < 1:
        raise ValueError("w must have a non-empty filter, got shape %s" % (np.shape(w),))
    if np.size(b) != F:
        raise ValueError("b must have F = %d entries (one per filter), got shape %s" % (F, np.shape(b)))
    stride = _int_param(conv_param, "stride", "conv_param", 1)
    pad = _int_param(conv_param, "pad", "conv_param", 0)
    if H + 2 * pad < HH or W + 2 * pad < WW:
        raise ValueError(
            "conv_param gives a non-positive output size: padded input %dx%d is smaller than the "
            "%dx%d filter (H=%d, W=%d, pad=%d)" % (H + 2 * pad, W + 2 * pad, HH, WW, H, W, pad)
        )
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    return N, C, H, W, F, HH, WW, stride, pad, H_out, W_out


def _check_dout(dout, expected):
    if np.shape(dout) != tuple(expected):
        raise ValueError("dout must have shape %s, got %s" % (tuple(expected), np.shape(dout)))


def _padded_windows(x, HH, WW, stride, pad):
    """A read-only view of shape (N, C, H', W', HH, WW) of the zero-padded x:
    ``windows[n, c, i, j, u, v] = x_padded[n, c, i * stride + u, j * stride + v]``."""
    x = np.asarray(x)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    return sliding_window_view(x, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]


def _col2im_6d(dcols, x_shape, pad, stride):
    """Scatter-add of window gradients back onto the input (the adjoint of _padded_windows).

    - dcols: array of shape (C, HH, WW, N, H', W'), the gradient of every window entry
      (the layout of cs231n's ``col2im_6d_cython``)
    - x_shape: (N, C, H, W) of the unpadded input

    Returns dx of shape (N, C, H, W): for each filter offset (u, v), the (H', W') grid of window
    gradients is added onto x_padded[:, :, u::stride, v::stride], then the padding is cropped.
    The loop runs over the HH * WW offsets; each step is one strided, vectorized add.
    """
    C, HH, WW, N, H_out, W_out = dcols.shape
    _, _, H, W = x_shape
    dx_padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    h_span = stride * (H_out - 1) + 1
    w_span = stride * (W_out - 1) + 1
    for u in range(HH):
        for v in range(WW):
            dx_padded[:, :, u : u + h_span : stride, v : v + w_span : stride] += dcols[:, u, v].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dx_padded[:, :, pad : pad + H, pad : pad + W])


# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------


def conv_forward_naive(x, w, b, conv_param):
    """A (vectorized) implementation of the forward pass for a convolutional layer.

    The input consists of N data points, each with C channels, height H and width W. We convolve
    each input with F different filters, where each filter spans all C channels and has height HH
    and width WW (cross-correlation, as in cs231n: the filter is not flipped).

    Input:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases, of shape (F,)
    - conv_param: A dictionary with the following keys:
      - 'stride': The number of pixels between adjacent receptive fields in the horizontal and
        vertical directions (integer >= 1).
      - 'pad': The number of pixels that will be used to zero-pad the input, symmetrically on
        both sides of H and W (integer >= 0). The input x itself is not modified.

    Returns a tuple of:
    - out: Output data, of shape (N, F, H', W') where H' and W' are given by
      H' = 1 + (H + 2 * pad - HH) // stride
      W' = 1 + (W + 2 * pad - WW) // stride
      out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * x_padded[n, c, i*stride + u, j*stride + v]
    - cache: (x, w, b, conv_param)

    Raises ValueError for a bad conv_param (stride < 1, pad < 0, non-integers), a non-positive
    output size, mismatched channels between x and w, or a b without F entries.
    """
    N, C, H, W, F, HH, WW, stride, pad, H_out, W_out = _conv_geometry(x, w, b, conv_param)
    windows = _padded_windows(x, HH, WW, stride, pad)  # (N, C, H', W', HH, WW)
    # Contract channels and filter offsets: (N, H', W', F).
    out = np.tensordot(windows, np.asarray(w), axes=([1, 4, 5], [1, 2, 3]))
    out = np.ascontiguousarray(out.transpose(0, 3, 1, 2) + np.reshape(b, (1, F, 1, 1)))
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """A (vectorized) implementation of the backward pass for a convolutional layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: A tuple of (x, w, b, conv_param) as in conv_forward_naive

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
      (pixels of the padding are dropped; padded rows/columns no window reached get zero)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW):
      dw[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j] * x_padded[n, c, i*stride + u, j*stride + v]
    - db: Gradient with respect to b, of shape (F,): db[f] = sum_{n, i, j} dout[n, f, i, j]
    """
    x, w, b, conv_param = cache
    N, C, H, W, F, HH, WW, stride, pad, H_out, W_out = _conv_geometry(x, w, b, conv_param)
    _check_dout(dout, (N, F, H_out, W_out))
    dout = np.asarray(dout)
    windows = _padded_windows(x, HH, WW, stride, pad)
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout, windows, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, HH, WW)
    dcols = np.tensordot(np.asarray(w), dout, axes=([0], [1]))  # (C, HH, WW, N, H', W')
    dx = _col2im_6d(dcols, (N, C, H, W), pad, stride)
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# Spatial batch normalization
# ---------------------------------------------------------------------------------------------


def _check_affine_param(p, name, C):
    if np.size(p) != C:
        raise ValueError("%s must have C = %d entries, got shape %s" % (name, C, np.shape(p)))


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Computes the forward pass for spatial batch normalization.

    Every channel is normalized with statistics over the N * H * W values it has in the minibatch:
    x is transposed to (N * H * W, C) and handed to the vanilla batchnorm_forward.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - gamma: Scale parameter, of shape (C,)
    - beta: Shift parameter, of shape (C,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: Constant for numeric stability (default 1e-5)
      - momentum: Constant for running mean / variance. momentum=0 means that old information is
        discarded completely at every time step, while momentum=1 means that new information is
        never incorporated. The default of momentum=0.9 should work well in most situations.
      - running_mean: Array of shape (C,) giving running mean of features (cs231n's docstring
        says (D,); it is per channel)
      - running_var: Array of shape (C,) giving running variance of features
      running_mean and running_var are written back into bn_param, as batchnorm_forward does.

    Returns a tuple of:
    - out: Output data, of shape (N, C, H, W)
    - cache: the batchnorm_forward cache of the (N * H * W, C) matrix
    """
    from .layers import batchnorm_forward  # deferred: layers re-exports this module

    _check_4d(x, "x")
    N, C, H, W = np.shape(x)
    _check_affine_param(gamma, "gamma", C)
    _check_affine_param(beta, "beta", C)
    x_flat = np.asarray(x).transpose(0, 2, 3, 1).reshape(N * H * W, C)
    out_flat, cache = batchnorm_forward(x_flat, np.reshape(gamma, C), np.reshape(beta, C), bn_param)
    out = np.ascontiguousarray(out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2))
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Computes the backward pass for spatial batch normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H, W)
    - cache: Values from the forward pass

    Returns a tuple of:
    - dx: Gradient with respect to inputs, of shape (N, C, H, W)
    - dgamma: Gradient with respect to scale parameter, of shape (C,)
    - dbeta: Gradient with respect to shift parameter, of shape (C,)
    """
    from .layers import batchnorm_backward

    _check_4d(dout, "dout")
    N, C, H, W = np.shape(dout)
    dout_flat = np.asarray(dout).transpose(0, 2, 3, 1).reshape(N * H * W, C)
    dx_flat, dgamma, dbeta = batchnorm_backward(dout_flat, cache)
    dx = np.ascontiguousarray(dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2))
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Spatial group normalization
# ---------------------------------------------------------------------------------------------


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Computes the forward pass for spatial group normalization.

    In contrast to layer normalization, group normalization splits each entry in the data into G
    contiguous pieces (channels [0, C/G), [C/G, 2C/G), ...), which it then normalizes
    independently: for every sample n and group g, the mean and the biased variance are taken over
    the (C/G, H, W) values of that group. Per-channel gamma and beta are then applied. The
    behaviour is the same at train and test time (no running statistics).

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - gamma: Scale parameter, of shape (1, C, 1, 1)
    - beta: Shift parameter, of shape (1, C, 1, 1)
    - G: Integer number of groups to split into, should be a divisor of C
    - gn_param: Dictionary with the following keys (others, e.g. 'mode', are ignored):
      - eps: Constant for numeric stability (default 1e-5)

    Returns a tuple of:
    - out: Output data, of shape (N, C, H, W)
    - cache: (x, x_hat, mean, var, gamma, beta, G, eps) with mean and var of shape (N, G)

    Raises ValueError when G is not a positive integer dividing C, or gamma/beta lack C entries.
    """
    eps = gn_param.get("eps", 1e-5)
    _check_4d(x, "x")
    N, C, H, W = np.shape(x)
    try:
        G = operator.index(G)
    except TypeError:
        raise ValueError("G must be an integer, got %r" % (G,)) from None
    if G < 1 or C % G != 0:
        raise ValueError("G must be a positive divisor of C = %d, got %d" % (C, G))
    _check_affine_param(gamma, "gamma", C)
    _check_affine_param(beta, "beta", C)

    x_groups = np.asarray(x).reshape(N, G, -1)  # (N, G, C/G * H * W)
    mean = x_groups.mean(axis=2)
    var = x_groups.var(axis=2)
    x_hat = ((x_groups - mean[:, :, None]) / np.sqrt(var + eps)[:, :, None]).reshape(N, C, H, W)
    out = np.reshape(gamma, (1, C, 1, 1)) * x_hat + np.reshape(beta, (1, C, 1, 1))
    cache = (x, x_hat, mean, var, gamma, beta, G, eps)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Computes the backward pass for spatial group normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H, W)
    - cache: Values from the forward pass

    Returns a tuple of:
    - dx: Gradient with respect to inputs, of shape (N, C, H, W)
    - dgamma: Gradient with respect to scale parameter, of shape (1, C, 1, 1)
    - dbeta: Gradient with respect to shift parameter, of shape (1, C, 1, 1)

    With M = C/G * H * W values per group and x_hat the normalized input, per group:
    dx = 1 / (M * std) * (M * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
    dx_hat = dout * gamma.
    """
    x, x_hat, mean, var, gamma, beta, G, eps = cache
    _check_dout(dout, np.shape(x))
    dout = np.asarray(dout)
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * np.reshape(gamma, (1, C, 1, 1))).reshape(N, G, -1)
    x_hat_groups = x_hat.reshape(N, G, -1)
    M = x_hat_groups.shape[2]
    inv_std = 1.0 / np.sqrt(var + eps)[:, :, None]
    dx = (inv_std / M) * (
        M * dx_hat
        - dx_hat.sum(axis=2, keepdims=True)
        - x_hat_groups * (dx_hat * x_hat_groups).sum(axis=2, keepdims=True)
    )
    return dx.reshape(N, C, H, W), dgamma, dbeta
