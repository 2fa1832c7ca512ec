"""cs231n ``classifiers/cnn.py``: ThreeLayerConvNet on the Rust layers.

conv - relu - 2x2 max pool - affine - relu - affine - softmax. The constructor (cs231n's arguments
and defaults, initialisation from NumPy's global RNG in cs231n's order), ``save`` and ``load`` are
inherited from :mod:`cs231n_rs.reference.cnn`; ``loss`` runs every layer in Rust and skips the
gradient with respect to the images. As in cs231n's starter, X is not cast to ``self.dtype``.
``input_gradient`` gives the gradient with respect to the images (for
:mod:`cs231n_rs.net_visualization`), with no parameter gradient: the convolution's dx comes from the
kernel's dx-only path (no columns of X, no dW product).
"""

from .. import _conv
from ..fast_layers import *
from ..layer_utils import _affine_relu_backward, _conv_relu_pool_backward
from ..layer_utils import *
from ..layers import *
from ..reference import cnn as _ref
from ..reference.net_visualization import upstream_scores_gradient
from .fc_net import _INPUT_GRADIENT_DOC, _add_reg, _dx_affine

__all__ = ["ThreeLayerConvNet"]


class ThreeLayerConvNet(_ref.ThreeLayerConvNet):
    __doc__ = (_ref.ThreeLayerConvNet.__doc__ or "").rstrip() + _INPUT_GRADIENT_DOC

    def input_gradient(self, X, dscores=None, y=None):
        """Scores of X and the gradient with respect to X of sum(dscores * scores).

        Inputs:
        - X: Array of input data of shape (N, C, H, W) (used as given, as loss does)
        - dscores: Upstream derivatives on the scores, of shape (N, num_classes); or
        - y: Array of labels, of shape (N,): dscores is then one-hot (the gradient of
          sum_i scores[i, y[i]]). Give exactly one of dscores and y.

        Returns a tuple of:
        - scores: Array of shape (N, num_classes), as loss(X) returns them
        - dX: Gradient with respect to X, of shape (N, C, H, W)
        """
        p = self.params
        conv_param, pool_param = self._layer_params()
        pooled, (conv_cache, conv_relu, pool_cache) = conv_relu_pool_forward(X, p["W1"], p["b1"], conv_param,
                                                                             pool_param)
        hidden, (_, hidden_relu) = affine_relu_forward(pooled, p["W2"], p["b2"])
        scores, _ = affine_forward(hidden, p["W3"], p["b3"])
        d = upstream_scores_gradient(scores, dscores, y)
        dhidden = relu_backward(_dx_affine(d, p["W3"]), hidden_relu)
        dpooled = _dx_affine(dhidden, p["W2"]).reshape(pooled.shape)
        da = relu_backward(max_pool_backward_fast(dpooled, pool_cache), conv_relu)
        _, w, _, conv_param, xw = conv_cache
        dX, _, _ = _conv.backward(da, xw, w, conv_param, need_dx=True, need_dw=False)
        return scores, dX

    def loss(self, X, y=None):
        """Evaluate loss and gradient for the three-layer convolutional network.

        Input / output: Same API as TwoLayerNet in fc_net.py.
        - X: Array of input data of shape (N, C, H, W)
        - y: Array of labels, of shape (N,), or None

        Returns scores of shape (N, num_classes) when y is None; otherwise (loss, grads) with loss
        = softmax data loss + 0.5 * reg * (sum W1^2 + sum W2^2 + sum W3^2) and grads a dictionary
        with the keys of self.params.
        """
        p = self.params
        conv_param, pool_param = self._layer_params()
        pooled, pool_cache = conv_relu_pool_forward(X, p["W1"], p["b1"], conv_param, pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])
        scores, scores_cache = affine_forward(hidden, p["W3"], p["b3"])
        if y is None:
            return scores

        grads = {}
        loss, dscores = softmax_loss(scores, y)
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = _affine_relu_backward(dhidden, hidden_cache, True)
        _, grads["W1"], grads["b1"] = _conv_relu_pool_backward(dpooled, pool_cache, False)
        loss = _add_reg(loss, grads, p, ("W1", "W2", "W3"), self.reg)
        return loss, grads
