"""cs231n ``layers.py``: forward/backward pairs of the dense layers, computed in Rust.

Every function has cs231n's signature, return values and (where cs231n fixes it) cache:
affine ``(x, w, b)``, relu ``x``, dropout ``(dropout_param, mask)``. The normalization caches are
our own tuples; ``batchnorm_backward_alt`` accepts ``batchnorm_forward``'s. Parameter dicts are
mutated as cs231n's are (``bn_param['running_mean']`` / ``['running_var']``). Dtypes follow NumPy's
promotion of the inputs; float32 stays float32.
"""

import math

import numpy as np

from . import _core
from ._validate import as_array, compute_dtype, finish, labels, readable

__all__ = [
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "svm_loss",
    "softmax_loss",
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "layernorm_forward",
    "layernorm_backward",
    "dropout_forward",
    "dropout_backward",
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ------------------------------------------------------------------------------------------ helpers


def _work(a, dtype):
    """``a`` in the kernels' dtype, readable in place (no copy when it already is)."""
    return readable(a if a.dtype == dtype else a.astype(dtype))


def _flat(a):
    """A 1-D view of ``a`` (a C-ordered copy first when ``a`` is not contiguous)."""
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return a.reshape(-1)


def _vector(a, name, size, dtype):
    """A parameter of ``size`` elements (gamma, beta, b...) as a 1-D array of ``dtype``."""
    if a.size != size or (a.ndim > 1 and a.shape[-1] != size):
        raise ValueError("%s: expected shape (%d,), got %s" % (name, size, a.shape))
    return _work(a.reshape(size), dtype)


def _same_shape(a, a_name, b, b_name):
    if a.shape != b.shape:
        raise ValueError("%s: expected shape %s (the shape of %s), got %s" % (a_name, b.shape, b_name, a.shape))


def _rows(x, name):
    """``x`` (N, d_1, ..., d_k) as an (N, D) view (a copy only when NumPy's reshape needs one)."""
    if x.ndim == 2:
        return x
    if x.ndim < 1:
        raise ValueError("%s: expected an array of shape (N, d_1, ..., d_k), got a scalar" % name)
    return x.reshape(x.shape[0], math.prod(x.shape[1:]))


def _matrix(x, name, doc):
    if x.ndim != 2:
        raise ValueError("%s: expected a 2-D array of shape %s, got shape %s" % (name, doc, x.shape))
    return x


# ------------------------------------------------------------------------------------------ affine


def affine_forward(x, w, b):
    """Computes the forward pass for an affine (fully connected) layer.

    The input x has shape (N, d_1, ..., d_k) and contains a minibatch of N examples, where each
    example x[i] has shape (d_1, ..., d_k). We reshape each input into a vector of dimension
    D = d_1 * ... * d_k, and then transform it to an output vector of dimension M.

    Inputs:
    - x: A numpy array containing input data, of shape (N, d_1, ..., d_k)
    - w: A numpy array of weights, of shape (D, M)
    - b: A numpy array of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    xa, wa, ba = as_array(x, "x"), as_array(w, "w"), as_array(b, "b")
    work, result = compute_dtype(xa, wa, ba)
    _matrix(wa, "w", "(D, M)")
    x2 = _rows(xa, "x")
    if x2.shape[1] != wa.shape[0]:
        raise ValueError(
            "x: expected shape (N, d_1, ..., d_k) with d_1 * ... * d_k = %d (w has shape %s), got %s"
            % (wa.shape[0], wa.shape, xa.shape)
        )
    out = _core.affine_forward(_work(x2, work), _work(wa, work), _vector(ba, "b", wa.shape[1], work))
    return finish(out, result), (x, w, b)


def affine_backward(dout, cache):
    """Computes the backward pass for an affine (fully connected) layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M)
    - cache: Tuple of:
      - x: Input data, of shape (N, d_1, ... d_k)
      - w: Weights, of shape (D, M)
      - b: Biases, of shape (M,)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d1, ..., d_k)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    x, w, b = cache
    return _affine_backward(dout, as_array(x, "x"), as_array(w, "w"), need_dx=True)


def _affine_backward(dout, xa, wa, need_dx):
    da = as_array(dout, "dout")
    work, _ = compute_dtype(da, xa, wa)
    _matrix(wa, "w", "(D, M)")
    x2 = _rows(xa, "x")
    _matrix(da, "dout", "(N, M)")
    if da.shape != (x2.shape[0], wa.shape[1]):
        raise ValueError(
            "dout: expected shape %s (N of x, M of w), got %s" % ((x2.shape[0], wa.shape[1]), da.shape)
        )
    if x2.shape[1] != wa.shape[0]:
        raise ValueError("x: expected d_1 * ... * d_k = %d (w has shape %s), got %s" % (wa.shape[0], wa.shape, xa.shape))
    dx, dw, db = _core.affine_backward(_work(da, work), _work(x2, work), _work(wa, work), need_dx)
    if dx is not None:
        dx = finish(dx, np.result_type(da, wa) if _floaty(da, wa) else work).reshape(xa.shape)
    dw = finish(dw, np.result_type(xa, da) if _floaty(xa, da) else work)
    db = finish(db, da.dtype if da.dtype in _FLOATS else np.sum(da[:0], axis=0).dtype)
    return dx, dw, db


def _floaty(*arrays):
    return np.result_type(*arrays).kind == "f"


# ------------------------------------------------------------------------------------------ relu


def relu_forward(x):
    """Computes the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x (``np.maximum(0, x)``: NaN propagates)
    - cache: x
    """
    xa = as_array(x, "x")
    if xa.dtype not in _FLOATS:  # integers and float16 keep NumPy's own result dtype
        return np.maximum(0, xa), x
    return _core.relu_forward(_flat(readable(xa))).reshape(xa.shape), x


def relu_backward(dout, cache):
    """Computes the backward pass for a layer of rectified linear units (ReLUs).

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: Input x, of same shape as dout

    Returns:
    - dx: Gradient with respect to x (``dout * (x > 0)``)
    """
    da, xa = as_array(dout, "dout"), as_array(cache, "x")
    _same_shape(da, "dout", xa, "x")
    if da.dtype not in _FLOATS:
        return da * (xa > 0)
    return _core.relu_backward(_flat(readable(da)), _flat(_work(xa, da.dtype))).reshape(da.shape)


# ------------------------------------------------------------------------------------------ losses


def _score_loss(kind, x, y):
    # The common case (a float32/float64 matrix of scores, int64 labels of the right length, both
    # readable in place) goes straight to the kernel, which checks the label range: at 200 x 10
    # the general path's checks cost as much as a third of the kernel.
    if (type(x) is np.ndarray and type(y) is np.ndarray and x.ndim == 2 and y.ndim == 1
            and x.dtype in _FLOATS and y.dtype == np.int64 and y.shape[0] == x.shape[0]
            and x.flags.c_contiguous and x.flags.aligned and y.flags.aligned):
        loss, dx = _core.score_loss(kind, x, y)
        return x.dtype.type(loss), dx
    xa = as_array(x, "x")
    _matrix(xa, "x", "(N, C)")
    work, result = compute_dtype(xa)
    ya = labels(y, "y", xa.shape[0])
    loss, dx = _core.score_loss(kind, _work(xa, work), ya)
    return result.type(loss), finish(dx, result)


def svm_loss(x, y):
    """Computes the loss and gradient using for multiclass SVM classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss (margin 1, averaged over N)
    - dx: Gradient of the loss with respect to x
    """
    return _score_loss("svm", x, y)


def softmax_loss(x, y):
    """Computes the loss and gradient for softmax classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss (cross-entropy averaged over N)
    - dx: Gradient of the loss with respect to x
    """
    return _score_loss("softmax", x, y)


# ------------------------------------------------------------------------------------------ norms


def _norm_inputs(x, gamma, beta, extra=(), size=None):
    """x (N, D) in the kernels' dtype, gamma and beta as vectors of ``size`` (D) elements, and the
    dtype NumPy would give the output."""
    xa = as_array(x, "x")
    _matrix(xa, "x", "(N, D)")
    ga, ba = as_array(gamma, "gamma"), as_array(beta, "beta")
    work, result = compute_dtype(xa, ga, ba, *extra)
    d = xa.shape[1] if size is None else size
    return _work(xa, work), _vector(ga, "gamma", d, work), _vector(ba, "beta", d, work), result


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass for batch normalization.

    During training the sample mean and (uncorrected) sample variance are computed from minibatch
    statistics and used to normalize the incoming data. During training we also keep an
    exponentially decaying running mean of the mean and variance of each feature, and these
    averages are used to normalize data at test-time:

    running_mean = momentum * running_mean + (1 - momentum) * sample_mean
    running_var = momentum * running_var + (1 - momentum) * sample_var

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift paremeter of shape (D,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: Constant for numeric stability (default 1e-5)
      - momentum: Constant for running mean / variance (default 0.9)
      - running_mean: Array of shape (D,) giving running mean of features
      - running_var Array of shape (D,) giving running variance of features

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: A tuple of values needed in the backward pass
    """
    mode = bn_param["mode"]
    xa = as_array(x, "x")
    _matrix(xa, "x", "(N, D)")
    return channel_norm(xa, xa.shape[1], 1, gamma, beta, bn_param, mode)


def channel_norm(xa, C, S, gamma, beta, bn_param, mode):
    """Batch normalization of x (N, C * S) per channel (over N and the S positions of each channel):
    batchnorm_forward is S = 1, spatial_batchnorm_forward S = H * W. Returns ``(out, cache)`` with
    cache ``(x, gamma, mean, var, eps)`` in the kernels' dtype; updates bn_param's running stats."""
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean")
    if running_mean is None:
        running_mean = np.zeros(C, dtype=xa.dtype)
    running_var = bn_param.get("running_var")
    if running_var is None:
        running_var = np.zeros(C, dtype=xa.dtype)
    if mode == "train":
        xw, g, b, result = _norm_inputs(xa, gamma, beta, size=C)
        out, mean, var = _core.channel_norm_forward(xw, C, S, float(eps), g, b)
        mean, var = finish(mean, xa.dtype if xa.dtype in _FLOATS else result), finish(var, mean.dtype)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xw, g, mean, var, eps)
    elif mode == "test":
        rm, rv = as_array(running_mean, "running_mean"), as_array(running_var, "running_var")
        xw, g, b, result = _norm_inputs(xa, gamma, beta, (rm, rv), size=C)
        stats = _vector(rm, "running_mean", C, xw.dtype), _vector(rv, "running_var", C, xw.dtype)
        out, mean, var = _core.channel_norm_forward(xw, C, S, float(eps), g, b, *stats)
        cache = (xw, g, mean, var, eps)
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return finish(out, result), cache


def batchnorm_backward(dout, cache):
    """Backward pass for batch normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from batchnorm_forward.

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    return _norm_backward(dout, cache, lambda da, x, D, m, v, eps, g: _core.channel_norm_backward(
        da, x, D, 1, m, v, eps, g))


def batchnorm_backward_alt(dout, cache):
    """Alternative backward pass for batch normalization (the simplified closed form).

    Takes the same inputs and returns the same outputs as batchnorm_backward (with this
    package both are the same fused kernel: dx = gamma / std * (dout - mean(dout) - x_hat *
    mean(dout * x_hat))).
    """
    return batchnorm_backward(dout, cache)


def _norm_backward(dout, cache, kernel):
    """(dx, dgamma, dbeta) of a norm layer from its cache (x, gamma, mean, var, eps): ``kernel`` gets
    everything in dout's and x's common dtype."""
    x, g, mean, var, eps = cache
    da = _dout_like(dout, x)
    work = da.dtype
    return kernel(da, _work(x, work), x.shape[1], _work(mean, work), _work(var, work), float(eps), _work(g, work))


def _dout_like(dout, x):
    """dout checked against x's shape, in the common dtype of the two."""
    da = as_array(dout, "dout")
    _same_shape(da, "dout", x, "x")
    work, _ = compute_dtype(da, x)
    return _work(da, work)


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass for layer normalization.

    During both training and test-time, the incoming data is normalized per data-point, before
    being scaled by gamma and beta parameters identical to that of batch normalization.

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift paremeter of shape (D,)
    - ln_param: Dictionary with the following keys:
        - eps: Constant for numeric stability (default 1e-5)

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: A tuple of values needed in the backward pass
    """
    eps = ln_param.get("eps", 1e-5)
    xw, g, b, result = _norm_inputs(x, gamma, beta)
    D = xw.shape[1]
    out, mean, var = _core.group_norm_forward(xw, D, 1, 1, float(eps), g, b)
    return finish(out, result), (xw, g, mean, var, eps)


def layernorm_backward(dout, cache):
    """Backward pass for layer normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from layernorm_forward.

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    return _norm_backward(dout, cache, lambda da, x, D, m, v, eps, g: _core.group_norm_backward(
        da, x, D, 1, 1, m, v, eps, g))


# ------------------------------------------------------------------------------------------ dropout


def dropout_forward(x, dropout_param):
    """Forward pass for inverted dropout.

    Note that this is different from the vanilla version of dropout. Here, p is the probability of
    keeping a neuron output, as opposed to the probability of dropping a neuron output.

    Inputs:
    - x: Input data, of any shape
    - dropout_param: A dictionary with the following keys:
      - p: Dropout parameter. We keep each neuron output with probability p (0 < p <= 1).
      - mode: 'test' or 'train'. If the mode is train, then perform dropout; if the mode is test,
        then just return the input.
      - seed: Seed for the random number generator. Passing seed makes this function
        deterministic, which is needed for gradient checking but not in real networks. As in
        cs231n, it reseeds NumPy's global RNG (np.random.seed) on every call.

    The mask is exactly ``(np.random.rand(*x.shape) < p) / p`` drawn from NumPy's global RNG (the
    MT19937 stream is continued in Rust and the RNG is left where NumPy would leave it), in x's
    float dtype (float64 for integer x).

    Outputs:
    - out: Array of the same shape and dtype as x.
    - cache: tuple (dropout_param, mask). In training mode, mask is the dropout mask that was used
      to multiply the input; in test mode, mask is None.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    xa = as_array(x, "x")
    if mode == "train":
        pf = float(p)
        if not 0.0 < pf <= 1.0:
            raise ValueError("dropout_param['p']: the keep probability must be in (0, 1], got %r" % (p,))
        work = xa.dtype if xa.dtype in _FLOATS else np.dtype(np.float64)
        mask, out = _draw_mask(_flat(_work(xa, work)), pf)
        mask, out = mask.reshape(xa.shape), out.reshape(xa.shape)
    elif mode == "test":
        mask, out = None, xa
    else:
        raise ValueError('Invalid forward dropout mode "%s"' % mode)
    return out.astype(xa.dtype, copy=False), (dropout_param, mask)


def _global_mt19937():
    """(state address, lock) of NumPy's global legacy generator, or None where this NumPy does not
    expose them (then the state goes through get_state / set_state)."""
    try:
        bitgen = np.random.mtrand._rand._bit_generator
        if type(bitgen).__name__ != "MT19937":
            return None
        return bitgen.ctypes.state_address, bitgen.lock
    except Exception:
        return None


def _draw_mask(x_flat, p):
    """(mask, out) of inverted dropout on a flat float array, drawing from NumPy's global RNG.

    The MT19937 stream is continued in Rust on the generator's own state (under its lock, as
    NumPy's methods hold it), so the draws and the state afterwards are NumPy's exactly."""
    live = _global_mt19937()
    if live is not None:
        address, lock = live
        with lock:
            return _core.dropout_forward_live(x_flat, p, address)
    name, key, pos, has_gauss, cached = np.random.get_state()
    mask, out, key, pos = _core.dropout_forward(x_flat, p, key, pos)
    np.random.set_state((name, key, pos, has_gauss, cached))
    return mask, out


def dropout_backward(dout, cache):
    """Backward pass for inverted dropout.

    Inputs:
    - dout: Upstream derivatives, of any shape
    - cache: (dropout_param, mask) from dropout_forward.

    Returns dx: ``dout * mask`` in train mode, dout itself in test mode.
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    if mode == "train":
        da = as_array(dout, "dout")
        _same_shape(da, "dout", mask, "the mask")
        if da.dtype == mask.dtype:
            return _core.mul(_flat(readable(da)), _flat(mask)).reshape(da.shape)
        return da * mask
    if mode == "test":
        return dout
    raise ValueError('Invalid backward dropout mode "%s"' % mode)


# ------------------------------------------------------------------------------------------ images
# (their own modules; imported last because they build on the helpers above)

from ._conv import conv_backward_naive, conv_forward_naive  # noqa: E402
from ._pooling import max_pool_backward_naive, max_pool_forward_naive  # noqa: E402
from ._spatial_norm import (  # noqa: E402
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
