"""cs231n ``net_visualization_pytorch.py`` for NumPy arrays and the cs231n-rs nets: saliency maps,
fooling images and class visualization, with the notebook's ``create_class_visualization``.

cs231n gets the gradient with respect to the image from PyTorch's autograd on SqueezeNet; here it
comes from the net's ``input_gradient(X, dscores=None, y=None) -> (scores, dX)`` (``TwoLayerNet``,
``FullyConnectedNet``, ``ThreeLayerConvNet`` of :mod:`cs231n_rs.classifiers`, or any object with
that method): a test-mode forward pass and the backward pass down to X through the Rust kernels,
with no parameter gradient (the convolution's dx-only path). The reference classes of
:mod:`cs231n_rs.reference` are accepted too (through :func:`cs231n_rs.reference.net_visualization.input_gradient`).

Semantics are cs231n's:

* ``compute_saliency_maps(X, y, model)``: absolute gradient of the unnormalized correct-class scores
  (summed over the batch), max over the channels: (N, H, W), nonnegative.
* ``make_fooling_image(X, target_y, model)``: gradient ascent on the target score with the normalized
  step ``dX = learning_rate * g / ||g||_2``, stopping as soon as the prediction is the target, at most
  ``max_iter`` (100) steps. Returns a new array (X is not modified). Several images may be fooled
  at once (each stops on its own).
* ``class_visualization_update_step(img, model, target_y, l2_reg, learning_rate)``: one step of
  gradient ascent on ``s_y(img) - l2_reg * ||img||^2``, updating img in place.
* ``jitter`` (circular roll; negative offsets undo it), ``blur_image`` (Gaussian along H and W, in
  place; scipy's ``gaussian_filter1d`` when scipy is installed, else the same filter in NumPy),
  ``rescale``.
* ``preprocess(img, mean_image=None)`` / ``deprocess(img, mean_image=None, should_rescale=True)``:
  an (H, W, 3) image of pixels 0..255 to a (1, 3, H, W) batch and back to uint8 pixels. The nets of
  this package are trained (as in the assignments and the ``cs231n-rs tour``) on pixels minus the
  mean training image: pass that ``mean_image``. Without it, cs231n's SqueezeNet normalization.
* ``create_class_visualization(target_y, model, mean_image=None, **kwargs)``: the notebook's loop
  (random jitter, update step, un-jitter, clamp to the valid pixel range, blur every ``blur_every``
  iterations), drawing from NumPy's global RNG (the initial image) and ``random`` (the jitter).
"""

import numpy as np

from .reference import net_visualization as _ref
from .reference.net_visualization import (
    PIXELS_PER_UNIT,
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    _class_visualization,
    _images,
    _in_place_image,
    _targets,
    blur_image,
    deprocess,
    jitter,
    preprocess,
    rescale,
)

__all__ = [
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


def _gradient(model):
    """The model's ``input_gradient(X, dscores=None, y=None) -> (scores, dX)``."""
    method = getattr(model, "input_gradient", None)
    if method is not None:
        return method
    if isinstance(model, (_ref.TwoLayerNet, _ref.FullyConnectedNet, _ref.ThreeLayerConvNet)):
        return lambda X, dscores=None, y=None: _ref.input_gradient(model, X, dscores, y)
    raise TypeError(
        "model: expected a TwoLayerNet, FullyConnectedNet, ThreeLayerConvNet or an object with "
        "input_gradient(X, dscores=None, y=None), got %s" % type(model).__name__
    )


def compute_saliency_maps(X, y, model):
    """Compute a class saliency map using the model for images X and labels y.

    Input:
    - X: Input images; array of shape (N, 3, H, W)
    - y: Labels for X; integer array of shape (N,)
    - model: A pretrained net (TwoLayerNet, FullyConnectedNet, ThreeLayerConvNet, or any object
      with input_gradient) that will be used to compute the saliency map.

    Returns:
    - saliency: Array of shape (N, H, W) giving the saliency maps for the input images: the absolute
      gradient of the unnormalized correct-class score with respect to each pixel, max over the
      channels (in the dtype the net computes in).
    """
    X = _images(X, "X")
    _, dX = _gradient(model)(X, y=y)
    return np.abs(dX).max(axis=1)


def make_fooling_image(X, target_y, model, learning_rate=1, max_iter=100):
    """Generate a fooling image that is close to X, but that the model classifies as target_y.

    Inputs:
    - X: Input image; array of shape (1, 3, H, W) (or N images, each fooled on its own)
    - target_y: An integer in the range [0, num_classes) (or one per image)
    - model: A pretrained net
    - learning_rate: step size of the normalized gradient ascent (cs231n: 1)
    - max_iter: most steps taken (cs231n: 100)

    Returns:
    - X_fooling: An image that is close to X, but that is classified as target_y by the model (when
      it got there within max_iter steps; check with the model). A new array in X's float dtype
      (float64 for integer X); X is not modified. An image whose gradient vanishes stops moving.
    """
    X = _images(X, "X")
    target = _targets(target_y, X.shape[0])
    gradient = _gradient(model)
    X_fooling = X.astype(np.result_type(X.dtype, np.float32), copy=True)
    active = np.arange(X.shape[0])
    for _ in range(max_iter):
        # X_fooling itself while every image is still moving (no copy for the usual single image).
        batch = X_fooling if active.size == X.shape[0] else X_fooling[active]
        scores, g = gradient(batch, y=target[active])
        keep = np.argmax(scores, axis=1) != target[active]
        norms = np.sqrt(np.sum(g.reshape(len(g), -1).astype(np.float64) ** 2, axis=1))
        keep &= norms > 0
        if not keep.any():
            break
        step = learning_rate * g[keep] / norms[keep].reshape(-1, *(1,) * (g.ndim - 1))
        X_fooling[active[keep]] += step.astype(X_fooling.dtype, copy=False)
        active = active[keep]
    return X_fooling


def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
    """One step of gradient ascent on ``s_y(img) - l2_reg * ||img||^2``, updating img in place:
    ``img += learning_rate * (ds_y/dimg - 2 * l2_reg * img)``.

    Inputs:
    - img: Image, a writeable float array of shape (1, 3, H, W) (updated in place; returns None)
    - model: A pretrained net
    - target_y: Integer in the range [0, num_classes) giving the index of the class to maximize
    - l2_reg: Strength of L2 regularization on the image
    - learning_rate: How big of a step to take
    """
    img = _in_place_image(img)
    _, g = _gradient(model)(img, y=_targets(target_y, img.shape[0]))
    img += learning_rate * (g - 2 * l2_reg * img)


def create_class_visualization(target_y, model, mean_image=None, **kwargs):
    """Generate an image to maximize the score of target_y under a pretrained model.

    Inputs:
    - target_y: Integer in the range [0, num_classes) giving the index of the class
    - model: A pretrained net that will be used to generate the image
    - mean_image: the mean training image the net's inputs had subtracted ((C, H, W) or flat);
      None: cs231n's SqueezeNet normalization

    Keyword arguments:
    - l2_reg: Strength of L2 regularization on the image (default: 1e-3, the notebook's; with a
      mean_image 1e-3 / s^2, where s = PIXELS_PER_UNIT = 255 * mean(SQUEEZENET_STD), about 57.4)
    - learning_rate: How big of a step to take (default: 25; with a mean_image 25 * s^2: the
      notebook's dynamics carried over from normalized units to pixels)
    - num_iterations: How many iterations to use (100)
    - blur_every: How often to blur the image as an implicit regularizer (10)
    - max_jitter: How much to jitter the image as an implicit regularizer (16)
    - show_every: How often to call ``show`` (25)
    - show: None (default: nothing is shown or printed), or ``show(t, img, target_y)``
    - image_shape: (C, H, W); default from mean_image, else from the net's parameters (square)
    - init_std: standard deviation of the random initial image (default 1, cs231n's randn; with a
      mean_image, s: the same spread in pixels)
    - dtype: of the image (float64)
    - deprocess_result: True (default): return deprocess(img, mean_image) as uint8 (H, W, 3)
      pixels, as the notebook; False: the (1, C, H, W) image itself

    Every iteration jitters by random.randint(0, max_jitter) pixels on each axis, takes an update
    step, undoes the jitter, clamps the pixels to the valid range ([-mean_image, 255 - mean_image],
    or cs231n's [-MEAN / STD, (1 - MEAN) / STD]) and blurs (sigma 0.5) every blur_every iterations.
    """
    return _class_visualization(class_visualization_update_step, target_y, model, mean_image, **kwargs)
