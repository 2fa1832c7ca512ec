"""Reference layers (cs231n ``layers.py``): affine, ReLU, SVM and softmax losses, batch
normalization, layer normalization, inverted dropout, and the convolutional part (convolution,
max pooling, spatial batch normalization, spatial group normalization).

Readable, vectorized NumPy written from the assignment's semantics. Every forward returns
``(out, cache)`` and every backward takes ``(dout, cache)``. The caches fixed by cs231n's starter are
kept exactly: affine ``(x, w, b)``, ReLU ``x``, dropout ``(dropout_param, mask)``, convolution
``(x, w, b, conv_param)``, max pooling ``(x, pool_param)``. The normalization caches are opaque in
cs231n; here they are the 7-tuple ``(x, x_hat, mean, var, gamma, beta, eps)`` (spatial batchnorm
passes batchnorm's through; group norm adds G: ``(x, x_hat, mean, var, gamma, beta, G, eps)``).

The convolutional functions are defined in :mod:`cs231n_rs.reference._conv` and
:mod:`cs231n_rs.reference._pooling` and re-exported here, in cs231n's order.
"""

import numpy as np

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


# ---------------------------------------------------------------------------------------------
# Affine and ReLU
# ---------------------------------------------------------------------------------------------


def affine_forward(x, w, b):
    """Computes the forward pass for an affine (fully connected) layer.

    The input x has shape (N, d_1, ..., d_k) and contains a minibatch of N examples, where each
    example x[i] has shape (d_1, ..., d_k). Each input is reshaped to a vector of dimension
    D = d_1 * ... * d_k, and then transformed to an output vector of dimension M.

    Inputs:
    - x: A numpy array containing input data, of shape (N, d_1, ..., d_k)
    - w: A numpy array of weights, of shape (D, M)
    - b: A numpy array of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = x.reshape(x.shape[0], w.shape[0]).dot(w) + b
    cache = (x, w, b)
    return out, cache


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
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], w.shape[0]).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    """Computes the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: x
    """
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Computes the backward pass for a layer of rectified linear units (ReLUs).

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: Input x, of same shape as dout

    Returns:
    - dx: Gradient with respect to x
    """
    x = cache
    dx = dout * (x > 0)
    return dx


# ---------------------------------------------------------------------------------------------
# Losses (no regularization; averaged over the minibatch)
# ---------------------------------------------------------------------------------------------


def svm_loss(x, y):
    """Computes the loss and gradient using for multiclass SVM classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss (margin 1.0, mean over N, correct class excluded)
    - dx: Gradient of the loss with respect to x
    """
    N = x.shape[0]
    rows = np.arange(N)
    correct_class_scores = x[rows, y]
    margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
    margins[rows, y] = 0
    loss = np.sum(margins) / N
    # Every positive margin pushes its class up and the correct class down.
    dx = (margins > 0).astype(margins.dtype)
    dx[rows, y] = -np.sum(dx, axis=1)
    dx /= N
    return loss, dx


def softmax_loss(x, y):
    """Computes the loss and gradient for softmax classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss (mean cross-entropy over N)
    - dx: Gradient of the loss with respect to x
    """
    N = x.shape[0]
    rows = np.arange(N)
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    loss = -np.sum(log_probs[rows, y]) / N
    dx = probs.copy()
    dx[rows, y] -= 1
    dx /= N
    return loss, dx


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass for batch normalization.

    During training the sample mean and (uncorrected, biased) sample variance are computed from
    minibatch statistics and used to normalize the incoming data. During training we also keep an
    exponentially decaying running mean of the mean and variance of each feature, and these
    averages are used to normalize data at test-time:

    running_mean = momentum * running_mean + (1 - momentum) * sample_mean
    running_var = momentum * running_var + (1 - momentum) * sample_var

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift paremeter of shape (D,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required (KeyError if absent)
      - eps: Constant for numeric stability (default 1e-5)
      - momentum: Constant for running mean / variance (default 0.9)
      - running_mean: Array of shape (D,) giving running mean of features (default zeros)
      - running_var Array of shape (D,) giving running variance of features (default zeros)
      running_mean and running_var are written back into bn_param on every call.

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: (x, x_hat, mean, var, gamma, beta, eps), where mean/var are the statistics used to
      normalize (the minibatch's in train mode, the running ones in test mode). Both
      batchnorm_backward and batchnorm_backward_alt accept it.

    Raises ValueError('Invalid forward batchnorm mode "%s"') for any other mode.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_hat + beta
        cache = (x, x_hat, sample_mean, sample_var, gamma, beta, eps)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == "test":
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
        cache = (x, x_hat, running_mean, running_var, gamma, beta, eps)
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass for batch normalization, walking the computation graph node by node.

    Graph: mu = mean(x); xmu = x - mu; var = mean(xmu**2); std = sqrt(var + eps);
    istd = 1 / std; x_hat = xmu * istd; out = gamma * x_hat + beta.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from batchnorm_forward.

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    x, x_hat, mean, var, gamma, beta, eps = cache
    N = dout.shape[0]
    xmu = x - mean
    std = np.sqrt(var + eps)
    istd = 1.0 / std

    # out = gamma * x_hat + beta
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    # x_hat = xmu * istd
    distd = np.sum(dx_hat * xmu, axis=0)
    dxmu = dx_hat * istd
    # istd = 1 / std
    dstd = -distd / std**2
    # std = sqrt(var + eps)
    dvar = 0.5 * dstd / std
    # var = mean(xmu ** 2)
    dxmu = dxmu + 2.0 * xmu * dvar / N
    # xmu = x - mu: x receives dxmu directly and, through mu = mean(x), -sum(dxmu) / N
    dmu = -np.sum(dxmu, axis=0)
    dx = dxmu + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Alternative backward pass for batch normalization: the simplified closed form

    dx = (gamma / std) / N * (N * dout - sum(dout) - x_hat * sum(dout * x_hat))

    Inputs / outputs: Same as batchnorm_backward (same cache; not all values are used).
    """
    x, x_hat, mean, var, gamma, beta, eps = cache
    N = dout.shape[0]
    std = np.sqrt(var + eps)
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx = (gamma / std) / N * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Layer normalization
# ---------------------------------------------------------------------------------------------


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass for layer normalization.

    Each data point (row of x) is normalized over its D features with its own mean and (biased)
    variance; the behaviour is the same at train and test time, so no running averages are kept.

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift paremeter of shape (D,)
    - ln_param: Dictionary with the following keys (other keys, e.g. 'mode', are ignored):
        - eps: Constant for numeric stability (default 1e-5)

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: (x, x_hat, mean, var, gamma, beta, eps) with per-row mean and var of shape (N,)
    """
    eps = ln_param.get("eps", 1e-5)
    mean = x.mean(axis=1)
    var = x.var(axis=1)
    x_hat = (x - mean[:, np.newaxis]) / np.sqrt(var + eps)[:, np.newaxis]
    out = gamma * x_hat + beta
    cache = (x, x_hat, mean, var, gamma, beta, eps)
    return out, cache


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
    x, x_hat, mean, var, gamma, beta, eps = cache
    D = dout.shape[1]
    std = np.sqrt(var + eps)[:, np.newaxis]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = (1.0 / std) / D * (
        D * dx_hat
        - np.sum(dx_hat, axis=1, keepdims=True)
        - x_hat * np.sum(dx_hat * x_hat, axis=1, keepdims=True)
    )
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def dropout_forward(x, dropout_param):
    """Forward pass for inverted dropout.

    Note that p is the probability of KEEPING a neuron output (the 2018+ convention).

    Inputs:
    - x: Input data, of any shape
    - dropout_param: A dictionary with the following keys:
      - p: Dropout parameter. We keep each neuron output with probability p.
      - mode: 'test' or 'train'. If the mode is train, then perform dropout;
        if the mode is test, then just return the input.
      - seed: Seed for the random number generator. Passing seed makes this function
        deterministic, which is needed for gradient checking but not in real networks.
        When present, np.random.seed(seed) is called on EVERY call (global RNG side effect).

    Outputs:
    - out: Array of the same shape and dtype as x.
    - cache: tuple (dropout_param, mask). In training mode, mask is the dropout mask that was used
      to multiply the input ((rand < p) / p, in x's float dtype, float64 for integer x); in test
      mode, mask is None.

    Any mode other than 'train'/'test' raises ValueError('Invalid forward dropout mode "%s"')
    (cs231n's starter crashes with an AttributeError on ``None.astype`` instead).
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    if mode == "train":
        fdtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        mask = ((np.random.rand(*x.shape) < p) / p).astype(fdtype, copy=False)
        out = x * mask
    elif mode == "test":
        out = x
    else:
        raise ValueError('Invalid forward dropout mode "%s"' % mode)

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass for inverted dropout.

    Inputs:
    - dout: Upstream derivatives, of any shape
    - cache: (dropout_param, mask) from dropout_forward.

    Returns dx: dout * mask in train mode, dout itself in test mode (the mode is read from
    dropout_param at call time). Any other mode raises ValueError('Invalid backward dropout
    mode "%s"') (cs231n's starter returns None).
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    if mode == "train":
        dx = dout * mask
    elif mode == "test":
        dx = dout
    else:
        raise ValueError('Invalid backward dropout mode "%s"' % mode)
    return dx


# ---------------------------------------------------------------------------------------------
# Convolutional layers (defined in _conv and _pooling; spatial batchnorm calls back into
# batchnorm_forward / batchnorm_backward above at call time)
# ---------------------------------------------------------------------------------------------

from ._conv import (  # noqa: E402
    conv_backward_naive,
    conv_forward_naive,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from ._pooling import max_pool_backward_naive, max_pool_forward_naive  # noqa: E402
