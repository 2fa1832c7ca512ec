"""cs231n ``classifiers/fc_net.py``: TwoLayerNet and FullyConnectedNet on the Rust layers.

The constructors, attributes, parameter names, initialisation (NumPy global RNG, cs231n's order),
``save`` and ``load`` are those of :mod:`cs231n_rs.reference.fc_net` (inherited, so the two cannot
drift apart); ``loss`` runs every layer through the Rust kernels, skips the gradient with respect to
the input images (training never needs it), and does not copy X when it already has the net's dtype.

``input_gradient(X, dscores=None, y=None) -> (scores, dX)`` (not in cs231n, which gets it from
PyTorch's autograd) is the one way to the gradient with respect to the images, for saliency maps,
fooling images and class visualization (:mod:`cs231n_rs.net_visualization`): a test-mode forward
pass, then the backward pass of ``dscores`` (or of the one-hot rows of ``y``) down to X, computing no
parameter gradient.
"""

import numpy as np

from .. import _core

from ..layer_utils import _affine_norm_relu_backward, _affine_relu_backward
from ..layer_utils import *
from ..layers import *
from ..layers import _FLOATS, _affine_backward, _flat
from .._validate import as_array, compute_dtype, finish, readable
from ..reference import fc_net as _ref
from ..reference.net_visualization import upstream_scores_gradient

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


def _dx_affine(dout, w):
    """dx (N, D) = dout (N, M) w^T of an affine layer, without dw and db: the Rust GEMM of
    affine_forward on w's transposed view with a zero bias (dout w^T + 0)."""
    da, wa = as_array(dout, "dout"), as_array(w, "w")
    work, result = compute_dtype(da, wa)
    wt = (wa if wa.dtype == work else wa.astype(work)).T
    out = _core.affine_forward(readable(da if da.dtype == work else da.astype(work)), readable(wt),
                               np.zeros(wt.shape[1], dtype=work))
    return finish(out, result)


_INPUT_GRADIENT_DOC = """

    input_gradient(X, dscores=None, y=None) -> (scores, dX): the gradient with respect to the input
    X of sum(dscores * scores) (with y instead of dscores: of sum_i scores[i, y[i]], the one-hot
    dscores), through the Rust backward kernels and without any parameter gradient. The forward pass
    is the test-time one of loss(X) (dropout off, batchnorm with its running statistics), but the
    net's bn_params / dropout_param are left as they are (modes included) and NumPy's RNG is not
    touched. scores (N, C) and dX (X's shape) are in the dtype the net computes in (as loss(X)'s
    scores); dscores is cast to it. Give exactly one of dscores and y (ValueError otherwise).
    """


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
    __doc__ = (_ref.TwoLayerNet.__doc__ or "").rstrip() + _INPUT_GRADIENT_DOC

    def input_gradient(self, X, dscores=None, y=None):
        """Scores of X and the gradient with respect to X of sum(dscores * scores), test mode.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - dscores: Upstream derivatives on the scores, of shape (N, C); or
        - y: Array of labels, of shape (N,): dscores is then one-hot (the gradient of
          sum_i scores[i, y[i]]). Give exactly one of dscores and y.

        Returns a tuple of:
        - scores: Array of shape (N, C), as loss(X) returns them
        - dX: Gradient with respect to X, of shape (N, d_1, ..., d_k)
        """
        p = self.params
        hidden, (_, relu_cache) = affine_relu_forward(X, p["W1"], p["b1"])
        scores, _ = affine_forward(hidden, p["W2"], p["b2"])
        d = upstream_scores_gradient(scores, dscores, y)
        dhidden = relu_backward(_dx_affine(d, p["W2"]), relu_cache)
        return scores, _dx_affine(dhidden, p["W1"]).reshape(np.shape(X))

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
    __doc__ = (_ref.FullyConnectedNet.__doc__ or "").rstrip() + _INPUT_GRADIENT_DOC

    def input_gradient(self, X, dscores=None, y=None):
        """Scores of X and the gradient with respect to X of sum(dscores * scores), test mode.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k) (cast to self.dtype, as loss does)
        - dscores: Upstream derivatives on the scores, of shape (N, C); or
        - y: Array of labels, of shape (N,): dscores is then one-hot (the gradient of
          sum_i scores[i, y[i]]). Give exactly one of dscores and y.

        Dropout is the identity and batchnorm the affine map gamma * (x - running_mean) /
        sqrt(running_var + eps) + beta (so its backward is dout * gamma / sqrt(running_var + eps));
        self.bn_params and self.dropout_param are not modified.

        Returns a tuple of:
        - scores: Array of shape (N, C), as loss(X) returns them
        - dX: Gradient with respect to X, of shape (N, d_1, ..., d_k), in self.dtype
        """
        X = as_array(X, "X")
        out = X if X.dtype == self.dtype else _astype(X, self.dtype)
        p, L = self.params, self.num_layers
        caches = []
        for layer in range(1, L):
            w = p["W%d" % layer]
            out, _ = affine_forward(out, w, p["b%d" % layer])
            norm = None
            if self.normalization == "batchnorm":
                gamma, beta = p["gamma%d" % layer], p["beta%d" % layer]
                bn_param = dict(self.bn_params[layer - 1], mode="test")  # a copy: the net's is untouched
                out, _ = batchnorm_forward(out, gamma, beta, bn_param)
                scale = np.asarray(gamma) / np.sqrt(bn_param["running_var"] + bn_param.get("eps", 1e-5))
                norm = ("scale", scale)
            elif self.normalization == "layernorm":
                gamma, beta = p["gamma%d" % layer], p["beta%d" % layer]
                out, ln_cache = layernorm_forward(out, gamma, beta, self.bn_params[layer - 1])
                norm = ("layernorm", ln_cache)
            out, relu_cache = relu_forward(out)
            caches.append((w, norm, relu_cache))  # test-time dropout is the identity
        scores, _ = affine_forward(out, p["W%d" % L], p["b%d" % L])
        dout = _dx_affine(upstream_scores_gradient(scores, dscores, y), p["W%d" % L])
        for w, norm, relu_cache in reversed(caches):
            dout = relu_backward(dout, relu_cache)
            if norm is not None and norm[0] == "scale":
                dout = dout * norm[1]
            elif norm is not None:
                dout, _, _ = layernorm_backward(dout, norm[1])
            dout = _dx_affine(dout, w)
        return scores, dout.reshape(X.shape)

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
