"""Reference network visualization (cs231n ``net_visualization_pytorch.py`` and the notebook's
``create_class_visualization``), for NumPy arrays and the cs231n nets, on the reference layers.

cs231n computes every gradient with PyTorch's autograd on SqueezeNet. Here the gradient with respect
to the images comes from :func:`input_gradient`: a test-mode forward pass of a ``TwoLayerNet``,
``FullyConnectedNet`` or ``ThreeLayerConvNet`` (the reference classes or the fast package's, which
inherit them) through the reference layers, then the backward pass of an upstream gradient on the
scores down to X. Everything else follows cs231n:

* ``compute_saliency_maps``: absolute gradient of the unnormalized correct-class scores (summed over
  the batch), max over the channels -> (N, H, W).
* ``make_fooling_image``: normalized gradient ascent ``dX = learning_rate * g / ||g||_2`` on the target
  score, stopping as soon as the prediction is the target (at most ``max_iter`` = 100 steps).
* ``class_visualization_update_step``: one gradient-ascent step on ``s_y(I) - l2_reg * ||I||^2``, in
  place.
* ``jitter`` (circular roll), ``blur_image`` (Gaussian, in place), ``rescale``, ``preprocess`` /
  ``deprocess``, ``create_class_visualization``.

This module is the oracle of the tests and the baseline of ``cs231n-rs bench``; the jitter, blur,
rescale and pre/deprocessing helpers are plain NumPy and the fast package reuses them.
"""

import random

import numpy as np

from ..image_utils import SQUEEZENET_MEAN, SQUEEZENET_STD
from .cnn import ThreeLayerConvNet
from .fc_net import FullyConnectedNet, TwoLayerNet
from .layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from .layers import (
    affine_backward,
    affine_forward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
)

__all__ = [
    "input_gradient",
    "compute_saliency_maps",
    "make_fooling_image",
    "class_visualization_update_step",
    "create_class_visualization",
    "jitter",
    "blur_image",
    "rescale",
    "preprocess",
    "deprocess",
    "SQUEEZENET_MEAN",
    "SQUEEZENET_STD",
    "PIXELS_PER_UNIT",
]

#: Pixels per unit of a normalized image (255 * the mean of SQUEEZENET_STD, about 57.4): the scale
#: that carries the notebook's class-visualization settings over to mean-subtracted pixels.
PIXELS_PER_UNIT = 255.0 * float(np.mean(SQUEEZENET_STD))


# ----------------------------------------------------------------------------------- the gradient


def upstream_scores_gradient(scores, dscores=None, y=None):
    """The gradient on the scores (N, C) to propagate, in the scores' dtype: ``dscores`` itself, or
    the one-hot rows of ``y`` (the gradient of ``sum_i scores[i, y[i]]``)."""
    N, C = scores.shape
    if dscores is not None:
        if y is not None:
            raise ValueError("dscores and y: give one of them, not both")
        d = np.asarray(dscores)
        if d.dtype.kind not in "biuf":
            raise TypeError("dscores: expected a real numeric array, got dtype %s" % d.dtype)
        if d.shape != (N, C):
            raise ValueError("dscores: expected shape %s (the scores' shape), got %s" % ((N, C), d.shape))
        return d.astype(scores.dtype)
    if y is None:
        raise ValueError("dscores and y: give one of them (both are None)")
    y = np.asarray(y)
    if y.shape != (N,) or not (y.dtype.kind in "iu" or y.dtype == bool):
        raise ValueError("y: expected %d integer labels, got an array of shape %s and dtype %s" % (N, y.shape, y.dtype))
    if N and (y.min() < 0 or y.max() >= C):
        raise ValueError("y: labels must lie in [0, %d), got [%d, %d]" % (C, y.min(), y.max()))
    d = np.zeros((N, C), dtype=scores.dtype)
    d[np.arange(N), y] = 1
    return d


def input_gradient(model, X, dscores=None, y=None):
    """Scores of X and the gradient of ``sum(dscores * scores)`` with respect to X, in test mode.

    Inputs:
    - model: a TwoLayerNet, FullyConnectedNet or ThreeLayerConvNet (reference or fast classes). A
      FullyConnectedNet runs as ``loss(X)`` does (X cast to model.dtype, dropout off, batchnorm with
      its running statistics), without touching ``bn_params``, ``dropout_param`` or NumPy's RNG.
    - X: Input data of shape (N, d_1, ..., d_k) (the conv net: (N, C, H, W)).
    - dscores: Upstream gradient on the scores, of shape (N, num_classes); or
    - y: Labels of shape (N,): dscores is then one-hot (the gradient of sum_i scores[i, y[i]]).

    Returns a tuple of:
    - scores: Array of shape (N, num_classes)
    - dX: Gradient with respect to X, of X's shape
    """
    if isinstance(model, ThreeLayerConvNet):
        return _conv_net_gradient(model, X, dscores, y)
    if isinstance(model, FullyConnectedNet):
        return _fc_net_gradient(model, X, dscores, y)
    if isinstance(model, TwoLayerNet):
        p = model.params
        hidden, hidden_cache = affine_relu_forward(X, p["W1"], p["b1"])
        scores, scores_cache = affine_forward(hidden, p["W2"], p["b2"])
        dscores = upstream_scores_gradient(scores, dscores, y)
        dhidden, _, _ = affine_backward(dscores, scores_cache)
        dX, _, _ = affine_relu_backward(dhidden, hidden_cache)
        return scores, dX
    raise TypeError(
        "model: expected a TwoLayerNet, FullyConnectedNet or ThreeLayerConvNet, got %s" % type(model).__name__
    )


def _conv_net_gradient(model, X, dscores, y):
    p = model.params
    filter_size = p["W1"].shape[2]
    conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    pooled, pool_cache = conv_relu_pool_forward(X, p["W1"], p["b1"], conv_param, pool_param)
    hidden, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])
    scores, scores_cache = affine_forward(hidden, p["W3"], p["b3"])
    dscores = upstream_scores_gradient(scores, dscores, y)
    dhidden, _, _ = affine_backward(dscores, scores_cache)
    dpooled, _, _ = affine_relu_backward(dhidden, hidden_cache)
    dX, _, _ = conv_relu_pool_backward(dpooled, pool_cache)
    return scores, dX


def _fc_net_gradient(model, X, dscores, y):
    X = np.asarray(X)
    x = X.astype(model.dtype)
    p, L = model.params, model.num_layers
    caches = []
    out = x
    for layer in range(1, L):
        out, fc_cache = affine_forward(out, p["W%d" % layer], p["b%d" % layer])
        norm = None
        if model.normalization == "batchnorm":
            # Test mode on a copy of bn_param: the running statistics normalize, so the layer is
            # the affine map gamma * (x - running_mean) / sqrt(running_var + eps) + beta.
            bn_param = dict(model.bn_params[layer - 1], mode="test")
            gamma = p["gamma%d" % layer]
            out, _ = batchnorm_forward(out, gamma, p["beta%d" % layer], bn_param)
            norm = ("batchnorm", gamma / np.sqrt(bn_param["running_var"] + bn_param.get("eps", 1e-5)))
        elif model.normalization == "layernorm":
            gamma, beta = p["gamma%d" % layer], p["beta%d" % layer]
            out, ln_cache = layernorm_forward(out, gamma, beta, model.bn_params[layer - 1])
            norm = ("layernorm", ln_cache)
        out, relu_cache = relu_forward(out)
        # Dropout is the identity in test mode (and its backward too).
        caches.append((fc_cache, norm, relu_cache))
    scores, last_cache = affine_forward(out, p["W%d" % L], p["b%d" % L])
    dscores = upstream_scores_gradient(scores, dscores, y)
    dout, _, _ = affine_backward(dscores, last_cache)
    for layer in range(L - 1, 0, -1):
        fc_cache, norm, relu_cache = caches[layer - 1]
        dout = relu_backward(dout, relu_cache)
        if norm is not None and norm[0] == "batchnorm":
            dout = dout * norm[1]
        elif norm is not None:
            dout, _, _ = layernorm_backward(dout, norm[1])
        dout, _, _ = affine_backward(dout, fc_cache)
    return scores, dout.reshape(X.shape)


# ------------------------------------------------------------------------ cs231n's visualizations


def compute_saliency_maps(X, y, model):
    """Compute a class saliency map using the model for images X and labels y.

    Input:
    - X: Input images; array of shape (N, 3, H, W)
    - y: Labels for X; integer array of shape (N,)
    - model: A pretrained net (TwoLayerNet, FullyConnectedNet or ThreeLayerConvNet) that will be
      used to compute the saliency map.

    Returns:
    - saliency: Array of shape (N, H, W) giving the saliency maps for the input images: the absolute
      gradient of the unnormalized correct-class score, max over the channels.
    """
    X = _images(X, "X")
    _, dX = input_gradient(model, X, y=y)
    return np.abs(dX).max(axis=1)


def make_fooling_image(X, target_y, model, learning_rate=1, max_iter=100):
    """Generate a fooling image that is close to X, but that the model classifies as target_y.

    Inputs:
    - X: Input image; array of shape (1, 3, H, W) (or N images, each fooled on its own)
    - target_y: An integer in the range [0, num_classes) (or N of them)
    - model: A pretrained net
    - learning_rate, max_iter: step size of the normalized gradient ascent and most steps taken

    Returns:
    - X_fooling: An image that is close to X, but that is classified as target_y by the model
      (a new array, in X's float dtype; X is not modified).
    """
    X = _images(X, "X")
    X_fooling = X.astype(np.result_type(X.dtype, np.float32), copy=True)
    target = _targets(target_y, X.shape[0])
    active = np.arange(X.shape[0])
    for _ in range(max_iter):
        scores, g = input_gradient(model, X_fooling[active], y=target[active])
        keep = np.argmax(scores, axis=1) != target[active]
        norms = np.sqrt(np.sum(g.reshape(len(g), -1).astype(np.float64) ** 2, axis=1))
        keep &= norms > 0  # a zero gradient cannot move the image any further
        active, g, norms = active[keep], g[keep], norms[keep]
        if active.size == 0:
            break
        X_fooling[active] += (learning_rate * g / norms.reshape(-1, 1, 1, 1)).astype(X_fooling.dtype)
    return X_fooling


def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
    """One step of gradient ascent on ``s_y(img) - l2_reg * ||img||^2``, updating img in place.

    Inputs:
    - img: Image, a writeable float array of shape (1, 3, H, W)
    - model, target_y: the net and the class whose score to maximize
    - l2_reg, learning_rate: strength of the L2 penalty and the step size
    """
    img = _in_place_image(img)
    _, g = input_gradient(model, img, y=_targets(target_y, img.shape[0]))
    img += learning_rate * (g - 2 * l2_reg * img)


def create_class_visualization(target_y, model, mean_image=None, **kwargs):
    """Generate an image to maximize the score of target_y under a pretrained model (the notebook's
    helper; see :func:`cs231n_rs.net_visualization.create_class_visualization` for the arguments)."""
    return _class_visualization(class_visualization_update_step, target_y, model, mean_image, **kwargs)


def _class_visualization(
    update_step,
    target_y,
    model,
    mean_image=None,
    l2_reg=None,
    learning_rate=None,
    num_iterations=100,
    blur_every=10,
    max_jitter=16,
    show_every=25,
    image_shape=None,
    init_std=None,
    dtype=np.float64,
    show=None,
    deprocess_result=True,
):
    C, H, W = _image_shape(model, mean_image, image_shape)
    lo, hi = _clamp_range(mean_image, (C, H, W))
    # The notebook's settings are for normalized images; in pixels (s = 255 * mean(STD) pixels per
    # normalized unit) the same dynamics take learning_rate * s^2 and l2_reg / s^2.
    s = 1.0 if mean_image is None else PIXELS_PER_UNIT
    learning_rate = 25.0 * s * s if learning_rate is None else learning_rate
    l2_reg = 1e-3 / (s * s) if l2_reg is None else l2_reg
    init_std = s if init_std is None else init_std
    img = (init_std * np.random.randn(1, C, H, W)).astype(dtype)
    for t in range(num_iterations):
        # Randomly jitter the image a bit; this gives slightly nicer results
        ox, oy = random.randint(0, max_jitter), random.randint(0, max_jitter)
        img = jitter(img, ox, oy)
        update_step(img, model, target_y, l2_reg, learning_rate)
        # Undo the random jitter
        img = jitter(img, -ox, -oy)
        # As regularizer, clamp and periodically blur the image
        np.clip(img, lo, hi, out=img)
        if t % blur_every == 0:
            blur_image(img, sigma=0.5)
        if show is not None and (t % show_every == 0 or t == num_iterations - 1):
            show(t, img, target_y)
    return deprocess(img[0], mean_image) if deprocess_result else img


def _image_shape(model, mean_image, image_shape):
    """(C, H, W) of the images the model takes: given, or mean_image's, or the model's (square)."""
    if image_shape is not None:
        return tuple(int(s) for s in image_shape)
    if mean_image is not None and np.ndim(mean_image) == 3:
        return tuple(np.shape(mean_image))
    p = model.params
    if p["W1"].ndim == 4:  # conv net: W2 has F * (H // 2) * (W // 2) rows
        F, C = p["W1"].shape[:2]
        side = 2 * int(round(np.sqrt(p["W2"].shape[0] / F)))
        return C, side, side
    side = int(round(np.sqrt(p["W1"].shape[0] / 3)))
    if 3 * side * side != p["W1"].shape[0]:
        raise ValueError("model: input dimension %d is not 3 x H x H; pass image_shape" % p["W1"].shape[0])
    return 3, side, side


def _clamp_range(mean_image, shape):
    """The pixel range of a preprocessed image: [-mean, 255 - mean] for mean-subtracted pixels, else
    cs231n's [-MEAN / STD, (1 - MEAN) / STD] per channel."""
    if mean_image is not None:
        m = np.asarray(mean_image, dtype=np.float64).reshape(shape)
        return -m, 255.0 - m
    mean = SQUEEZENET_MEAN.astype(np.float64).reshape(3, 1, 1)
    std = SQUEEZENET_STD.astype(np.float64).reshape(3, 1, 1)
    return -mean / std, (1.0 - mean) / std


# --------------------------------------------------------------------------------------- helpers


def jitter(X, ox, oy):
    """Helper function to randomly jitter an image.

    Inputs
    - X: array of shape (N, C, H, W)
    - ox, oy: Integers giving number of pixels to jitter along W and H axes

    Returns: A new array of shape (N, C, H, W): X rolled circularly by ox columns and oy rows
    (cs231n's ``torch.cat([X[:, :, :, -ox:], X[:, :, :, :-ox]], dim=3)``; negative offsets undo it;
    as with cs231n's slices, an offset of at least the size leaves that axis as it is).
    """
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError("X: expected an array of shape (N, C, H, W), got shape %s" % (X.shape,))
    if ox != 0:
        X = np.concatenate([X[:, :, :, -ox:], X[:, :, :, :-ox]], axis=3)
    if oy != 0:
        X = np.concatenate([X[:, :, -oy:], X[:, :, :-oy]], axis=2)
    return X


def blur_image(X, sigma=1):
    """Gaussian blur of X (N, C, H, W) along H then W, in place (cs231n: ``gaussian_filter1d`` on axes
    2 and 3, scipy's 'reflect' edges, truncated at 4 sigma); returns X.

    Uses scipy.ndimage when installed, else the same filter in NumPy."""
    X = _in_place_image(X)
    blurred = _gaussian_filter1d(X, sigma, axis=2)
    blurred = _gaussian_filter1d(blurred, sigma, axis=3)
    X[...] = blurred
    return X


def _gaussian_filter1d(x, sigma, axis):
    try:
        from scipy.ndimage import gaussian_filter1d  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return gaussian_filter1d_numpy(x, sigma, axis)
    return gaussian_filter1d(x, sigma, axis=axis)


def gaussian_filter1d_numpy(x, sigma, axis, truncate=4.0):
    """scipy.ndimage.gaussian_filter1d(x, sigma, axis) (mode 'reflect', order 0) in NumPy."""
    radius = int(truncate * float(sigma) + 0.5)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 / (float(sigma) * float(sigma)) * t * t)
    weights /= weights.sum()
    x = np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    # 'reflect' (d c b a | a b c d | d c b a): the indices of the padded line, folded back in.
    idx = np.arange(-radius, n + radius)
    period = 2 * n
    idx = np.mod(idx, period)
    idx = np.where(idx >= n, period - 1 - idx, idx)
    padded = x[..., idx].astype(np.float64)
    out = np.zeros(x.shape, dtype=np.float64)
    for k, wk in enumerate(weights):
        out += wk * padded[..., k : k + n]
    return np.moveaxis(out.astype(x.dtype if x.dtype.kind == "f" else np.float64), -1, axis)


def rescale(x):
    """(x - min) / (max - min)."""
    low, high = x.min(), x.max()
    return (x - low) / (high - low)


def preprocess(img, mean_image=None):
    """An image (H, W, 3) of pixels in [0, 255] as a batch of one (1, 3, H, W), float64.

    With ``mean_image`` (the mean training image, (3, H, W) or flattened, as the cs231n-rs tour and
    get_CIFAR10_data subtract it): ``img - mean_image``, the inputs our nets are trained on. Without:
    cs231n's SqueezeNet normalization ``(img / 255 - SQUEEZENET_MEAN) / SQUEEZENET_STD``."""
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError("img: expected an image of shape (H, W, 3), got shape %s" % (img.shape,))
    x = img.astype(np.float64).transpose(2, 0, 1)
    if mean_image is not None:
        x = x - np.asarray(mean_image, dtype=np.float64).reshape(x.shape)
    else:
        x = (x / 255.0 - SQUEEZENET_MEAN.reshape(3, 1, 1)) / SQUEEZENET_STD.reshape(3, 1, 1)
    return x[None]


def deprocess(img, mean_image=None, should_rescale=True):
    """Undo :func:`preprocess`: an image (3, H, W) or (1, 3, H, W) back to uint8 pixels (H, W, 3);
    with ``should_rescale`` the pixels are first stretched to the full range ((x - min) / (max - min)),
    else clipped to [0, 255]; rounded to the nearest integer."""
    x = np.asarray(img, dtype=np.float64)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError("img: expected an image of shape (3, H, W) or (1, 3, H, W), got shape %s" % (np.shape(img),))
    if mean_image is not None:
        x = (x + np.asarray(mean_image, dtype=np.float64).reshape(x.shape)) / 255.0
    else:
        x = x * SQUEEZENET_STD.reshape(3, 1, 1) + SQUEEZENET_MEAN.reshape(3, 1, 1)
    if should_rescale:
        x = rescale(x)
    return np.clip(np.round(255.0 * x), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def _images(X, name):
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError("%s: expected images of shape (N, C, H, W), got shape %s" % (name, X.shape))
    return X


def _in_place_image(img):
    if not isinstance(img, np.ndarray) or img.dtype.kind != "f":
        raise TypeError("img: expected a float NumPy array (it is updated in place), got %r" % type(img).__name__)
    if not img.flags.writeable:
        raise ValueError("img: the array is read-only (it is updated in place)")
    return _images(img, "img")


def _targets(target_y, n):
    t = np.asarray(target_y)
    if t.ndim == 0:
        t = np.full(n, int(t))
    if t.shape != (n,):
        raise ValueError("target_y: expected a class index or %d of them, got shape %s" % (n, t.shape))
    return t.astype(np.int64)
