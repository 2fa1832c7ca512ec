"""cs231n ``classifiers/fc_net.py``: TwoLayerNet and FullyConnectedNet on the Rust layers.

The constructors, attributes, parameter names, initialisation (NumPy global RNG, cs231n's order),
``save`` and ``load`` are those of :mod:`cs231n_rs.reference.fc_net` (inherited, so the two cannot
drift apart); ``loss`` runs every layer through the Rust kernels, skips the gradient with respect to
the input images (nobody asks for it), and does not copy X when it already has the net's dtype.
"""

import numpy as np

from .. import _core

from ..layer_utils import _affine_norm_relu_backward, _affine_relu_backward
from ..layer_utils import *
from ..layers import *
from ..layers import _FLOATS, _affine_backward, _flat
from .._validate import readable
from ..reference import fc_net as _ref

__all__ = ["TwoLayerNet", "FullyConnectedNet"]


def _astype(X, dtype):
    """``X.astype(dtype)`` into memory recycled between calls (no page faults at every step); in
    Rust, in parallel, for float arrays."""
    dtype = np.dtype(dtype)
    if X.dtype in _FLOATS and dtype in _FLOATS:
        return _core.cast(_flat(readable(X)), dtype.name).reshape(X.shape)
    out = _core.optim_out(X.shape, dtype)
    np.copyto(out, X, casting="unsafe")
    return out


def _add_reg(loss, grads, params, names, reg):
    """loss + 0.5 * reg * sum ||W||^2 over ``names``; grads[W] += reg * W (one fused pass each)."""
    for name in names:
        w, dw = np.asarray(params[name]), grads[name]
        if w.dtype == dw.dtype and w.dtype in _FLOATS and w.shape == dw.shape and dw.flags.c_contiguous:
            loss += 0.5 * reg * w.dtype.type(_core.l2_reg(_flat(readable(w)), dw.reshape(-1), reg))
        else:
            loss += 0.5 * reg * np.sum(w * w)
            grads[name] = dw + reg * w
    return loss


class TwoLayerNet(_ref.TwoLayerNet):
    __doc__ = _ref.TwoLayerNet.__doc__

    def loss(self, X, y=None):
        """Compute loss and gradient for a minibatch of data.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None: scores, of shape (N, C).
        Else (loss, grads): softmax loss + 0.5 * reg * (sum W1^2 + sum W2^2), and a dict with the
        keys of self.params.
        """
        p = self.params
        hidden, hidden_cache = affine_relu_forward(X, p["W1"], p["b1"])
        scores, scores_cache = affine_forward(hidden, p["W2"], p["b2"])
        if y is None:
            return scores
        grads = {}
        loss, dscores = softmax_loss(scores, y)
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = _affine_relu_backward(dhidden, hidden_cache, False)
        loss = _add_reg(loss, grads, p, ("W1", "W2"), self.reg)
        return loss, grads


_NORMS = {
    "batchnorm": (affine_bn_relu_forward, batchnorm_backward),
    "layernorm": (affine_ln_relu_forward, layernorm_backward),
}


class FullyConnectedNet(_ref.FullyConnectedNet):
    __doc__ = _ref.FullyConnectedNet.__doc__

    def loss(self, X, y=None):
        """Compute loss and gradient for the fully connected net.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None: scores, of shape (N, C) (a test-time forward pass).
        Else (loss, grads): softmax loss + 0.5 * reg * sum of W_i^2, and a dict with the keys of
        self.params.
        """
        X = np.asarray(X)
        if X.dtype != self.dtype:
            X = _astype(X, self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        norm = _NORMS.get(self.normalization)
        p, L = self.params, self.num_layers

        caches = []
        out = X
        for layer in range(1, L):
            w, b = p["W%d" % layer], p["b%d" % layer]
            if norm is not None:
                gamma, beta = p["gamma%d" % layer], p["beta%d" % layer]
                out, cache = norm[0](out, w, b, gamma, beta, self.bn_params[layer - 1])
            else:
                out, cache = affine_relu_forward(out, w, b)
            dropout_cache = None
            if self.use_dropout:
                out, dropout_cache = dropout_forward(out, self.dropout_param)
            caches.append((cache, dropout_cache))
        scores, last_cache = affine_forward(out, p["W%d" % L], p["b%d" % L])
        if mode == "test":
            return scores

        grads = {}
        loss, dout = softmax_loss(scores, y)
        x_last, w_last, _ = last_cache
        dout, grads["W%d" % L], grads["b%d" % L] = _affine_backward(dout, x_last, w_last, L > 1)
        for layer in range(L - 1, 0, -1):
            cache, dropout_cache = caches[layer - 1]
            if self.use_dropout:
                dout = dropout_backward(dout, dropout_cache)
            need_dx = layer > 1
            if norm is not None:
                dout, dw, db, dgamma, dbeta = _affine_norm_relu_backward(norm[1], dout, cache, need_dx)
                grads["gamma%d" % layer], grads["beta%d" % layer] = dgamma, dbeta
            else:
                dout, dw, db = _affine_relu_backward(dout, cache, need_dx)
            grads["W%d" % layer], grads["b%d" % layer] = dw, db
        loss = _add_reg(loss, grads, p, ["W%d" % i for i in range(1, L + 1)], self.reg)
        return loss, grads
