"""Reference modular fully connected networks (cs231n ``classifiers/fc_net.py``): ``TwoLayerNet``
and ``FullyConnectedNet``, built from :mod:`cs231n_rs.reference.layers` and ``layer_utils``.

Initialisation draws from NumPy's global legacy RNG in cs231n's order (``weight_scale *
np.random.randn(in, out)`` for W1, W2, ... ; biases, gammas and betas draw nothing), so a seeded
model has cs231n's exact parameters. ``loss`` reads ``self.params`` and ``self.reg`` at call time.
"""

import os

import numpy as np

from .layer_utils import (
    affine_bn_relu_backward,
    affine_bn_relu_forward,
    affine_ln_relu_backward,
    affine_ln_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)
from .layers import affine_backward, affine_forward, dropout_backward, dropout_forward, softmax_loss

__all__ = ["TwoLayerNet", "FullyConnectedNet"]


def _save_params(params, fname):
    """np.save of the params dict to ``fname`` (resolved against the current directory, like the
    package's LinearClassifier.save; cs231n 2025 writes inside its package folder)."""
    np.save(os.path.abspath(fname), params)
    print(fname, "saved.")


def _load_params(fname):
    """The params dict saved by :func:`_save_params`, or None (with a message) if missing."""
    fpath = os.path.abspath(fname)
    if not os.path.exists(fpath):
        print(fname, "not available.")
        return None
    params = np.load(fpath, allow_pickle=True).item()
    print(fname, "loaded.")
    return params


class TwoLayerNet(object):
    """A two-layer fully-connected neural network with ReLU nonlinearity and softmax loss that uses
    a modular layer design. We assume an input dimension of D, a hidden dimension of H, and perform
    classification over C classes.

    The architecure should be affine - relu - affine - softmax.

    The learnable parameters of the model are stored in the dictionary self.params that maps
    parameter names to numpy arrays.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        """Initialize a new network.

        Inputs:
        - input_dim: An integer giving the size of the input
        - hidden_dim: An integer giving the size of the hidden layer
        - num_classes: An integer giving the number of classes to classify
        - weight_scale: Scalar giving the standard deviation for random initialization of the weights.
        - reg: Scalar giving L2 regularization strength.
        """
        self.params = {}
        self.reg = reg
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        """Compute loss and gradient for a minibatch of data.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores, where scores[i, c] is the
          classification score for X[i] and class c.

        If y is not None, then run a training-time forward and backward pass and return a tuple of:
        - loss: Scalar value giving the loss (softmax data loss + 0.5 * reg * (sum W1^2 + sum W2^2))
        - grads: Dictionary with the same keys as self.params, mapping parameter names to gradients
          of the loss with respect to those parameters.
        """
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        hidden, hidden_cache = affine_relu_forward(X, W1, b1)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        if y is None:
            return scores

        grads = {}
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        return loss, grads

    def save(self, fname):
        """Save model parameters (the self.params dict) with np.save."""
        _save_params(self.params, fname)

    def load(self, fname):
        """Load model parameters saved by save(); returns False (and prints) if the file is missing."""
        params = _load_params(fname)
        if params is None:
            return False
        self.params = params
        return True


class FullyConnectedNet(object):
    """Class for a multi-layer fully connected neural network.

    Network contains an arbitrary number of hidden layers, ReLU nonlinearities, and a softmax loss
    function. This will also implement dropout and batch/layer normalization as options. For a
    network with L layers, the architecture will be

    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where batch/layer normalization and dropout are optional and the {...} block is repeated L - 1
    times.

    Learnable parameters are stored in the self.params dictionary and will be learned using the
    Solver class.
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout_keep_ratio=1,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
    ):
        """Initialize a new FullyConnectedNet.

        Inputs:
        - hidden_dims: A list of integers giving the size of each hidden layer.
        - input_dim: An integer giving the size of the input.
        - num_classes: An integer giving the number of classes to classify.
        - dropout_keep_ratio: Scalar between 0 and 1 giving dropout strength.
          If dropout_keep_ratio=1 then the network should not use dropout at all.
        - normalization: What type of normalization the network should use. Valid values
          are "batchnorm", "layernorm", or None for no normalization (the default).
        - reg: Scalar giving L2 regularization strength.
        - weight_scale: Scalar giving the standard deviation for random initialization of the weights.
        - dtype: A numpy datatype object; all computations will be performed using this datatype.
          float32 is faster but less accurate, so you should use float64 for numeric gradient checking.
        - seed: If not None, then pass this random seed to the dropout layers.
          This will make the dropout layers deteriminstic so we can gradient check the model.
        """
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            layer = i + 1
            self.params["W%d" % layer] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params["b%d" % layer] = np.zeros(dims[i + 1])
            if self.normalization in ("batchnorm", "layernorm") and layer < self.num_layers:
                self.params["gamma%d" % layer] = np.ones(dims[i + 1])
                self.params["beta%d" % layer] = np.zeros(dims[i + 1])

        # When using dropout we need to pass a dropout_param dictionary to each dropout layer so
        # that the layer knows the dropout probability and the mode (train / test). The same
        # dictionary is shared by every dropout layer.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # With batch normalization we need to keep track of running means and variances, so we
        # pass a special bn_param object to each batch normalization layer.
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for i in range(self.num_layers - 1)]

        # Cast all parameters to the correct datatype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute loss and gradient for the fully connected net.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores, where scores[i, c] is the
          classification score for X[i] and class c.

        If y is not None, then run a training-time forward and backward pass and return a tuple of:
        - loss: Scalar value giving the loss (softmax data loss + 0.5 * reg * sum of W_i^2)
        - grads: Dictionary with the same keys as self.params, mapping parameter names to gradients
          of the loss with respect to those parameters.
        """
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"

        # Set train/test mode for batchnorm params and dropout param since they behave differently
        # during training and testing.
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        # Forward: {affine - [norm] - relu - [dropout]} x (L - 1), then the last affine.
        caches = []
        out = X
        for layer in range(1, self.num_layers):
            w, b = self.params["W%d" % layer], self.params["b%d" % layer]
            if self.normalization == "batchnorm":
                gamma, beta = self.params["gamma%d" % layer], self.params["beta%d" % layer]
                out, cache = affine_bn_relu_forward(out, w, b, gamma, beta, self.bn_params[layer - 1])
            elif self.normalization == "layernorm":
                gamma, beta = self.params["gamma%d" % layer], self.params["beta%d" % layer]
                out, cache = affine_ln_relu_forward(out, w, b, gamma, beta, self.bn_params[layer - 1])
            else:
                out, cache = affine_relu_forward(out, w, b)
            dropout_cache = None
            if self.use_dropout:
                out, dropout_cache = dropout_forward(out, self.dropout_param)
            caches.append((cache, dropout_cache))

        L = self.num_layers
        scores, last_cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])

        # If test mode return early.
        if mode == "test":
            return scores

        grads = {}
        loss, dscores = softmax_loss(scores, y)
        for layer in range(1, L + 1):
            w = self.params["W%d" % layer]
            loss += 0.5 * self.reg * np.sum(w * w)

        dout, grads["W%d" % L], grads["b%d" % L] = affine_backward(dscores, last_cache)
        for layer in range(L - 1, 0, -1):
            cache, dropout_cache = caches[layer - 1]
            if self.use_dropout:
                dout = dropout_backward(dout, dropout_cache)
            if self.normalization == "batchnorm":
                dout, dw, db, dgamma, dbeta = affine_bn_relu_backward(dout, cache)
            elif self.normalization == "layernorm":
                dout, dw, db, dgamma, dbeta = affine_ln_relu_backward(dout, cache)
            else:
                dout, dw, db = affine_relu_backward(dout, cache)
            grads["W%d" % layer], grads["b%d" % layer] = dw, db
            if self.normalization in ("batchnorm", "layernorm"):
                grads["gamma%d" % layer], grads["beta%d" % layer] = dgamma, dbeta

        for layer in range(1, L + 1):
            grads["W%d" % layer] = grads["W%d" % layer] + self.reg * self.params["W%d" % layer]
        return loss, grads

    def save(self, fname):
        """Save model parameters (the self.params dict) with np.save (cs231n A1 2025+)."""
        _save_params(self.params, fname)

    def load(self, fname):
        """Load model parameters saved by save(); returns False (and prints) if the file is missing."""
        params = _load_params(fname)
        if params is None:
            return False
        self.params = params
        return True
