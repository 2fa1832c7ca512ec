"""A student's layers with three classic mistakes, a wrong shape and an exception (the rest is the
reference's):

* dropout_forward takes p as the probability of DROPPING a unit;
* batchnorm_forward normalizes with the unbiased variance (ddof=1);
* batchnorm_backward_alt unpacks a cache that batchnorm_forward does not return;
* relu_backward returns dx flattened (the right values, not in x's shape);
* layernorm_forward uses a name it never defined (a NameError).
"""

import numpy as np

from cs231n_rs.reference.layers import *  # noqa: F403


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = x
    if mode == "train":
        mask = (np.random.rand(*x.shape) >= p) / (1 - p)
        out = x * mask
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0, ddof=1)
        x_hat = (x - mean) / np.sqrt(var + eps)
        cache = (x, x_hat, mean, var, gamma, beta, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        cache = (x, x_hat, running_mean, running_var, gamma, beta, eps)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return gamma * x_hat + beta, cache


def batchnorm_backward_alt(dout, cache):
    x, x_hat, inv_std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / N * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


def relu_backward(dout, cache):
    x = cache
    return (dout * (x > 0)).reshape(-1)


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, gamma, sigma)  # noqa: F821 - sigma was never defined
