"""Spatial batch normalization and spatial group normalization of images (N, C, H, W).

Both run the dense layers' norm kernels on x seen as (N, C * H * W): spatial batchnorm is the
channel norm with S = H * W positions per channel (statistics per channel over N, H, W), spatial
groupnorm the group norm with G groups of C / G contiguous channels (statistics per sample and
group over C / G, H, W). No transposes: the kernels walk the channels in place.
"""

from . import _core
from ._validate import as_array, as_int, compute_dtype, finish, readable
from .layers import _dout_like, _work, channel_norm

__all__ = [
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
]


def _images(x):
    xa = as_array(x, "x")
    if xa.ndim != 4:
        raise ValueError("x: expected a 4-D array of shape (N, C, H, W), got shape %s" % (xa.shape,))
    return xa


def _flat_images(a):
    """(N, C, H, W) as (N, C * H * W) (a copy only when NumPy's reshape needs one)."""
    return readable(a.reshape(a.shape[0], -1))


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Computes the forward pass for spatial batch normalization.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - gamma: Scale parameter, of shape (C,)
    - beta: Shift parameter, of shape (C,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: Constant for numeric stability
      - momentum: Constant for running mean / variance. momentum=0 means that old information is
        discarded completely at every time step, while momentum=1 means that new information is
        never incorporated. The default of momentum=0.9 should work well in most situations.
      - running_mean: Array of shape (C,) giving running mean of features
      - running_var Array of shape (C,) giving running variance of features

    Returns a tuple of:
    - out: Output data, of shape (N, C, H, W)
    - cache: Values needed for the backward pass
    """
    mode = bn_param["mode"]
    xa = _images(x)
    N, C, H, W = xa.shape
    out, cache = channel_norm(_flat_images(xa), C, H * W, gamma, beta, bn_param, mode)
    return out.reshape(xa.shape), (cache, xa.shape)


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
    (x, g, mean, var, eps), shape = cache
    da = _dout_images(dout, shape, x)
    work = da.dtype
    C = shape[1]
    dx, dgamma, dbeta = _core.channel_norm_backward(
        da, _work(x, work), C, x.shape[1] // max(C, 1), _work(mean, work), _work(var, work), float(eps), _work(g, work)
    )
    return dx.reshape(shape), dgamma, dbeta


def _dout_images(dout, shape, x2):
    da = as_array(dout, "dout")
    if da.shape != tuple(shape):
        raise ValueError("dout: expected shape %s (the shape of x), got %s" % (tuple(shape), da.shape))
    return _dout_like(_flat_images(da), x2)


def _channel_param(a, name, C, dtype):
    """gamma / beta of shape (1, C, 1, 1) (cs231n 2021+) or (C,) as a vector of ``dtype``."""
    if a.size != C or a.shape not in ((1, C, 1, 1), (C,)):
        raise ValueError("%s: expected shape (1, %d, 1, 1), got %s" % (name, C, a.shape))
    return _work(a.reshape(C), dtype)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Computes the forward pass for spatial group normalization.

    In contrast to layer normalization, group normalization splits each entry in the data into G
    contiguous pieces, which it then normalizes independently. Per-feature shifting and scaling are
    then applied to the data, in a manner identical to that of batch normalization and layer
    normalization.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - gamma: Scale parameter, of shape (1, C, 1, 1)
    - beta: Shift parameter, of shape (1, C, 1, 1)
    - G: Integer number of groups to split into, should be a divisor of C
    - gn_param: Dictionary with the following keys:
      - eps: Constant for numeric stability

    Returns a tuple of:
    - out: Output data, of shape (N, C, H, W)
    - cache: Values needed for the backward pass
    """
    eps = gn_param.get("eps", 1e-5)
    xa = _images(x)
    N, C, H, W = xa.shape
    G = as_int(G, "G")
    if G < 1 or C % G:
        raise ValueError("G: expected a number of groups that divides C = %d, got %d" % (C, G))
    ga, ba = as_array(gamma, "gamma"), as_array(beta, "beta")
    work, result = compute_dtype(xa, ga, ba)
    xw = _work(_flat_images(xa), work)
    g, b = _channel_param(ga, "gamma", C, work), _channel_param(ba, "beta", C, work)
    out, mean, var = _core.group_norm_forward(xw, C, H * W, G, float(eps), g, b)
    return finish(out, result).reshape(xa.shape), (xw, g, mean, var, eps, G, xa.shape)


def spatial_groupnorm_backward(dout, cache):
    """Computes the backward pass for spatial group normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H, W)
    - cache: Values from the forward pass

    Returns a tuple of:
    - dx: Gradient with respect to inputs, of shape (N, C, H, W)
    - dgamma: Gradient with respect to scale parameter, of shape (1, C, 1, 1)
    - dbeta: Gradient with respect to shift parameter, of shape (1, C, 1, 1)
    """
    x, g, mean, var, eps, G, shape = cache
    da = _dout_images(dout, shape, x)
    work = da.dtype
    C = shape[1]
    dx, dgamma, dbeta = _core.group_norm_backward(
        da, _work(x, work), C, x.shape[1] // max(C, 1), G, _work(mean, work), _work(var, work), float(eps),
        _work(g, work),
    )
    return dx.reshape(shape), dgamma.reshape(1, C, 1, 1), dbeta.reshape(1, C, 1, 1)

