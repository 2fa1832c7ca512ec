"""cs231n ``fast_layers.py``: the fast convolution and max-pool layers, with no Cython build.

Every variant of cs231n's module is here with its signature and cache arity. The convolutions all
run the same Rust kernel (per-image im2col + GEMM); their caches are ``(x, w, b, conv_param, x)``
-- cs231n's first four entries, then ``x`` in the kernels' dtype where cs231n keeps its ``x_cols``
(so the caches of the im2col and strides variants are interchangeable here). Unlike cs231n's,
these work for non-square filters; ``conv_forward_im2col`` keeps cs231n's "width does not work" /
"height does not work" assertions, ``conv_forward_strides`` floors the output size as cs231n's does.
"""

from . import _conv
from ._pooling import (
    max_pool_backward_fast,
    max_pool_backward_im2col,
    max_pool_backward_reshape,
    max_pool_forward_fast,
    max_pool_forward_im2col,
    max_pool_forward_reshape,
)

__all__ = [
    "conv_forward_im2col",
    "conv_backward_im2col",
    "conv_forward_strides",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
    "max_pool_forward_reshape",
    "max_pool_backward_reshape",
    "max_pool_forward_im2col",
    "max_pool_backward_im2col",
]


def conv_forward_im2col(x, w, b, conv_param):
    """A fast implementation of the forward pass for a convolutional layer based on im2col.

    Inputs and outputs as conv_forward_naive; the output sizes must divide exactly (cs231n's
    assertion). Returns ``out, cache`` with cache ``(x, w, b, conv_param, x_work)``.
    """
    xa, wa = _conv.as_array(x, "x"), _conv.as_array(w, "w")
    stride, pad = _conv.conv_params(conv_param)
    if xa.ndim == 4 and wa.ndim == 4:
        H, W = xa.shape[2:]
        HH, WW = wa.shape[2:]
        assert (W + 2 * pad - WW) % stride == 0, "width does not work"
        assert (H + 2 * pad - HH) % stride == 0, "height does not work"
    out, xw = _conv.forward(x, w, b, conv_param)
    return out, (x, w, b, conv_param, xw)


def conv_forward_strides(x, w, b, conv_param):
    """A fast implementation of the forward pass for a convolutional layer (cs231n's strides version,
    which ``conv_forward_fast`` is): output sizes floor as in conv_forward_naive.

    Returns ``out, cache`` with cache ``(x, w, b, conv_param, x_work)``.
    """
    out, xw = _conv.forward(x, w, b, conv_param)
    return out, (x, w, b, conv_param, xw)


def conv_backward_strides(dout, cache):
    """Backward pass of conv_forward_strides / conv_forward_im2col: returns ``dx, dw, db``."""
    x, w, b, conv_param, xw = cache
    return _conv.backward(dout, xw, w, conv_param)


def conv_backward_im2col(dout, cache):
    """Backward pass of conv_forward_im2col: returns ``dx, dw, db``."""
    return conv_backward_strides(dout, cache)

conv_forward_fast = conv_forward_strides
conv_backward_fast = conv_backward_strides
