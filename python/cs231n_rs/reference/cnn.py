"""Reference three-layer convolutional network (cs231n ``classifiers/cnn.py``):
conv - relu - 2x2 max pool - affine - relu - affine - softmax, built from the reference sandwich
layers (:mod:`cs231n_rs.reference.layer_utils`, which use the reference fast layers).

Initialisation draws from NumPy's global legacy RNG in cs231n's order (``weight_scale *
np.random.randn(...)`` for W1, W2, W3; biases draw nothing), so a seeded model has cs231n's exact
parameters; every parameter is then cast to ``dtype``. ``loss`` reads ``self.params`` and
``self.reg`` at call time and, like cs231n's starter, does NOT cast X to ``self.dtype``. The fast
package's ``ThreeLayerConvNet`` inherits ``__init__``, ``save`` and ``load`` and overrides ``loss``.
"""

import numpy as np

from .fc_net import _load_params, _save_params
from .layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from .layers import affine_backward, affine_forward, softmax_loss

__all__ = ["ThreeLayerConvNet"]


class ThreeLayerConvNet(object):
    """A three-layer convolutional network with the following architecture:

    conv - relu - 2x2 max pool - affine - relu - affine - softmax

    The network operates on minibatches of data that have shape (N, C, H, W) consisting of N
    images, each with height H and width W and with C input channels.

    The learnable parameters of the model are stored in the dictionary self.params that maps
    parameter names to numpy arrays.
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=32,
        filter_size=7,
        hidden_dim=100,
        num_classes=10,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float32,
    ):
        """Initialize a new network.

        Inputs:
        - input_dim: Tuple (C, H, W) giving size of input data
        - num_filters: Number of filters to use in the convolutional layer
        - filter_size: Width/height of filters to use in the convolutional layer
        - hidden_dim: Number of units to use in the fully-connected hidden layer
        - num_classes: Number of scores to produce from the final affine layer.
        - weight_scale: Scalar giving standard deviation for random initialization of weights.
        - reg: Scalar giving L2 regularization strength
        - dtype: numpy datatype to use for computation.

        Parameters (drawn in this order; the convolution is assumed to preserve H and W, and the
        2x2 pool halves them):
        - W1: (num_filters, C, filter_size, filter_size), b1: (num_filters,)
        - W2: (num_filters * (H // 2) * (W // 2), hidden_dim), b2: (hidden_dim,)
        - W3: (hidden_dim, num_classes), b3: (num_classes,)
        """
        self.params = {}
        self.reg = reg
        self.dtype = dtype

        C, H, W = input_dim
        self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = weight_scale * np.random.randn(num_filters * (H // 2) * (W // 2), hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def _layer_params(self):
        """(conv_param, pool_param) of the forward pass, as cs231n's starter sets them: stride 1
        and the padding (filter_size - 1) // 2 that keeps H and W for odd filters; 2x2 pool with
        stride 2."""
        filter_size = self.params["W1"].shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        return conv_param, pool_param

    def loss(self, X, y=None):
        """Evaluate loss and gradient for the three-layer convolutional network.

        Input / output: Same API as TwoLayerNet in fc_net.py.
        - X: Array of input data of shape (N, C, H, W) (used as given: not cast to self.dtype)
        - y: Array of labels, of shape (N,), or None

        Returns scores of shape (N, num_classes) when y is None; otherwise (loss, grads) with loss
        = softmax data loss + 0.5 * reg * (sum W1^2 + sum W2^2 + sum W3^2) and grads a dictionary
        with the keys of self.params.
        """
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        conv_param, pool_param = self._layer_params()

        pooled, pool_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
        scores, scores_cache = affine_forward(hidden, W3, b3)
        if y is None:
            return scores

        grads = {}
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))

        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache)
        grads["W1"] = grads["W1"] + self.reg * W1
        grads["W2"] = grads["W2"] + self.reg * W2
        grads["W3"] = grads["W3"] + self.reg * W3
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
