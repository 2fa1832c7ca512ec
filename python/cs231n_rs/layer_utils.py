"""cs231n ``layer_utils.py``: "sandwich" layers that chain common forward/backward pairs, with
cs231n's nested caches: ``affine_relu_forward`` returns ``(fc_cache, relu_cache)`` =
``((x, w, b), a)``; ``conv_relu_forward`` ``(conv_cache, relu_cache)``; ``conv_bn_relu_forward``
``(conv_cache, bn_cache, relu_cache)``; ``conv_relu_pool_forward`` ``(conv_cache, relu_cache,
pool_cache)``, the convolutions and pools being the fast layers. The affine - batchnorm - relu and
affine - layernorm - relu sandwiches (which students add to cs231n's file) return
``(fc_cache, norm_cache, relu_cache)``.
"""

from .layers import (
    _affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from . import _conv
from .fast_layers import conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast

__all__ = [
    "affine_relu_forward",
    "affine_relu_backward",
    "affine_bn_relu_forward",
    "affine_bn_relu_backward",
    "affine_ln_relu_forward",
    "affine_ln_relu_backward",
    "conv_relu_forward",
    "conv_relu_backward",
    "conv_bn_relu_forward",
    "conv_bn_relu_backward",
    "conv_relu_pool_forward",
    "conv_relu_pool_backward",
]


def _fc_backward(da, fc_cache, need_dx):
    x, w, _ = fc_cache
    return _affine_backward(da, x, w, need_dx)


def affine_relu_forward(x, w, b):
    """Convenience layer that performs an affine transform followed by a ReLU.

    Inputs:
    - x: Input to the affine layer
    - w, b: Weights for the affine layer

    Returns a tuple of:
    - out: Output from the ReLU
    - cache: Object to give to the backward pass: (fc_cache, relu_cache)
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass for the affine-relu convenience layer: returns dx, dw, db."""
    return _affine_relu_backward(dout, cache, True)


def _affine_relu_backward(dout, cache, need_dx):
    fc_cache, relu_cache = cache
    return _fc_backward(relu_backward(dout, relu_cache), fc_cache, need_dx)


def _affine_norm_relu_forward(norm_forward, x, w, b, gamma, beta, norm_param):
    a, fc_cache = affine_forward(x, w, b)
    an, norm_cache = norm_forward(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(an)
    return out, (fc_cache, norm_cache, relu_cache)


def _affine_norm_relu_backward(norm_backward, dout, cache, need_dx=True):
    fc_cache, norm_cache, relu_cache = cache
    da, dgamma, dbeta = norm_backward(relu_backward(dout, relu_cache), norm_cache)
    dx, dw, db = _fc_backward(da, fc_cache, need_dx)
    return dx, dw, db, dgamma, dbeta


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    """affine - batchnorm - relu. Returns out, cache = (fc_cache, bn_cache, relu_cache)."""
    return _affine_norm_relu_forward(batchnorm_forward, x, w, b, gamma, beta, bn_param)


def affine_bn_relu_backward(dout, cache):
    """Backward of affine_bn_relu_forward: returns dx, dw, db, dgamma, dbeta."""
    return _affine_norm_relu_backward(batchnorm_backward, dout, cache)


def affine_ln_relu_forward(x, w, b, gamma, beta, ln_param):
    """affine - layernorm - relu. Returns out, cache = (fc_cache, ln_cache, relu_cache)."""
    return _affine_norm_relu_forward(layernorm_forward, x, w, b, gamma, beta, ln_param)


def affine_ln_relu_backward(dout, cache):
    """Backward of affine_ln_relu_forward: returns dx, dw, db, dgamma, dbeta."""
    return _affine_norm_relu_backward(layernorm_backward, dout, cache)


# ------------------------------------------------------------------------------------ convolutions


def _conv_backward(dout, conv_cache, need_dx=True):
    """conv_backward_fast, optionally without dx (a net's first layer needs no gradient for X)."""
    x, w, b, conv_param, xw = conv_cache
    return _conv.backward(dout, xw, w, conv_param, need_dx)


def conv_relu_forward(x, w, b, conv_param):
    """A convenience layer that performs a convolution followed by a ReLU.

    Inputs:
    - x: Input to the convolutional layer
    - w, b, conv_param: Weights and parameters for the convolutional layer

    Returns a tuple of:
    - out: Output from the ReLU
    - cache: Object to give to the backward pass: (conv_cache, relu_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Backward pass for the conv-relu convenience layer: returns dx, dw, db."""
    conv_cache, relu_cache = cache
    return _conv_backward(relu_backward(dout, relu_cache), conv_cache)


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Convenience layer that performs a convolution, a spatial batch normalization and a ReLU.

    Inputs:
    - x: Input to the convolutional layer
    - w, b, conv_param: Weights and parameters for the convolutional layer
    - gamma, beta: Arrays of shape (D2,) and (D2,) giving scale and shift parameters for batch
      normalization.
    - bn_param: Dictionary of parameters for batch normalization.

    Returns a tuple of:
    - out: Output from the ReLU
    - cache: Object to give to the backward pass: (conv_cache, bn_cache, relu_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache):
    """Backward pass for the conv-bn-relu convenience layer: returns dx, dw, db, dgamma, dbeta."""
    conv_cache, bn_cache, relu_cache = cache
    dan, dgamma, dbeta = spatial_batchnorm_backward(relu_backward(dout, relu_cache), bn_cache)
    dx, dw, db = _conv_backward(dan, conv_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convenience layer that performs a convolution, a ReLU, and a pool.

    Inputs:
    - x: Input to the convolutional layer
    - w, b, conv_param: Weights and parameters for the convolutional layer
    - pool_param: Parameters for the pooling layer

    Returns a tuple of:
    - out: Output from the pooling layer
    - cache: Object to give to the backward pass: (conv_cache, relu_cache, pool_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """Backward pass for the conv-relu-pool convenience layer: returns dx, dw, db."""
    return _conv_relu_pool_backward(dout, cache, True)


def _conv_relu_pool_backward(dout, cache, need_dx):
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    return _conv_backward(relu_backward(ds, relu_cache), conv_cache, need_dx)
