"""cs231n ``net_visualization_pytorch.py``: saliency maps, fooling images and class visualization
for PyTorch models, with cs231n's signatures (torch tensors in, torch tensors out).

This module needs PyTorch (``pip install torch``); importing it without torch raises an ImportError
that says so. ``preprocess`` / ``deprocess`` also need torchvision (imported when they are called),
``blur_image`` needs SciPy. Nothing is downloaded: bring your own model (cs231n uses
``torchvision.models.squeezenet1_1(pretrained=True)`` with ``requires_grad = False`` on its
parameters).

The assignment's TODOs are filled in as the notebook describes them:

- ``compute_saliency_maps``: gradient of the unnormalized correct-class scores (summed over the
  batch) with respect to the images, absolute value, maximum over the 3 channels;
- ``make_fooling_image``: gradient ascent on the target score with normalized steps
  ``dX = learning_rate * g / ||g||_2`` (``learning_rate = 1``) until the model predicts the target
  class, at most 100 steps;
- ``class_visualization_update_step``: one normalized gradient-ascent step on
  ``s_y(I) - l2_reg * ||I||^2``, in place on ``img``.

Gradients are taken with ``torch.autograd.grad`` with respect to the image only, so the model's
parameters never accumulate a ``.grad``. ``create_class_visualization`` is the notebook's helper,
with an ``img_size`` keyword (default 224) and plotting that is off when ``show_every`` is 0/None.
"""

import random

try:
    import torch
except ImportError as _err:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "cs231n_rs.net_visualization_pytorch needs PyTorch: pip install torch "
        "(CPU wheels: https://download.pytorch.org/whl/cpu), or pip install 'cs231n-rs[torch]'"
    ) from _err

import numpy as np

from ._validate import as_int
from .image_utils import SQUEEZENET_MEAN, SQUEEZENET_STD

# cs231n's module has no __all__, so its star import also brings the SqueezeNet constants.
__all__ = [
    "SQUEEZENET_MEAN",
    "SQUEEZENET_STD",
    "blur_image",
    "class_visualization_update_step",
    "compute_saliency_maps",
    "create_class_visualization",
    "deprocess",
    "jitter",
    "make_fooling_image",
    "preprocess",
    "rescale",
]


# ---------------------------------------------------------------------------------------------
# Argument checks (clear TypeError / ValueError naming the argument)
# ---------------------------------------------------------------------------------------------


def _images(X, name):
    if not isinstance(X, torch.Tensor):
        raise TypeError("%s: expected a torch.Tensor of shape (N, C, H, W), got %s" % (name, type(X).__name__))
    if X.dim() != 4:
        raise ValueError("%s: expected a tensor of shape (N, C, H, W), got shape %s" % (name, tuple(X.shape)))
    if not X.is_floating_point():
        raise TypeError("%s: expected a floating-point tensor, got dtype %s" % (name, X.dtype))
    return X


def _real(value, name):
    if isinstance(value, (bool, str, bytes)):
        raise TypeError("%s: expected a real number, got %r" % (name, value))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError("%s: expected a real number, got %r" % (name, value)) from None


def _class_index(target_y, num_classes, name):
    if not 0 <= target_y < num_classes:
        raise ValueError("%s: class %d is out of range for a model with %d classes" % (name, target_y, num_classes))
    return target_y


def _scores(model, X):
    scores = model(X)
    if not isinstance(scores, torch.Tensor) or scores.dim() != 2 or scores.shape[0] != X.shape[0]:
        shape = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError("model: expected class scores of shape (N, num_classes), got %s" % (shape,))
    return scores


# ---------------------------------------------------------------------------------------------
# The assignment's functions
# ---------------------------------------------------------------------------------------------


def compute_saliency_maps(X, y, model):
    """
    Compute a class saliency map using the model for images X and labels y.

    Input:
    - X: Input images; Tensor of shape (N, 3, H, W)
    - y: Labels for X; LongTensor of shape (N,)
    - model: A pretrained CNN that will be used to compute the saliency map.

    Returns:
    - saliency: A Tensor of shape (N, H, W) giving the saliency maps for the input
    images (detached, on X's device).
    """
    X = _images(X, "X")
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y))
    if y.dim() != 1 or y.shape[0] != X.shape[0]:
        raise ValueError("y: expected labels of shape (%d,), got shape %s" % (X.shape[0], tuple(y.shape)))
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError("y: expected integer class labels, got dtype %s" % (y.dtype,))

    # Make sure the model is in "test" mode
    model.eval()

    # Make input tensor require gradient
    X.requires_grad_()

    with torch.enable_grad():  # also inside a caller's torch.no_grad()
        scores = _scores(model, X)
        y = y.to(device=scores.device, dtype=torch.long)
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= scores.shape[1]):
            raise ValueError("y: labels must lie in [0, %d)" % scores.shape[1])
        # Unnormalized scores of the correct classes, summed over the batch: the gradient of the
        # sum with respect to X holds every image's own gradient.
        correct_scores = scores.gather(1, y.view(-1, 1)).squeeze(1)
        (dX,) = torch.autograd.grad(correct_scores.sum(), X)
    saliency = dX.abs().max(dim=1)[0]
    return saliency.detach()


def make_fooling_image(X, target_y, model):
    """
    Generate a fooling image that is close to X, but that the model classifies
    as target_y.

    Inputs:
    - X: Input image; Tensor of shape (1, 3, 224, 224)
    - target_y: An integer in the range [0, 1000)
    - model: A pretrained CNN

    Returns:
    - X_fooling: An image that is close to X, but that is classifed as target_y
    by the model (a leaf tensor with requires_grad=True, as cs231n's).

    Gradient ascent on the target score: each step adds learning_rate * g / ||g||_2 (g the gradient
    of the target score with respect to the image, learning_rate = 1), stopping as soon as the model
    predicts target_y, after at most 100 steps. With a batch of N > 1 images each one takes its own
    normalized step until all of them are classified as target_y (an image that already is stays).
    """
    X = _images(X, "X")
    target_y = as_int(target_y, "target_y")

    # Initialize our fooling image to the input image, and enable gradients.
    X_fooling = X.clone()
    X_fooling = X_fooling.requires_grad_()

    learning_rate = 1
    for _ in range(100):
        with torch.enable_grad():  # also inside a caller's torch.no_grad()
            scores = _scores(model, X_fooling)
            _class_index(target_y, scores.shape[1], "target_y")
            pending = scores.detach().argmax(dim=1) != target_y
            if not bool(pending.any()):
                break
            (g,) = torch.autograd.grad(scores[:, target_y].sum(), X_fooling)
        norms = g.flatten(1).norm(dim=1)
        step = pending & (norms > 0)
        if not bool(step.any()):
            break  # a zero gradient: ascent cannot move the image any more
        dX = learning_rate * g / torch.where(step, norms, torch.ones_like(norms)).view(-1, 1, 1, 1)
        dX[~step] = 0
        with torch.no_grad():
            X_fooling += dX
    return X_fooling


def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
    """One gradient-ascent step on ``s_y(img) - l2_reg * ||img||^2``, in place on ``img``.

    Inputs:
    - img: Tensor of shape (1, 3, H, W) (cs231n's is a leaf with requires_grad=True); updated in
      place by learning_rate * g / ||g||_2, g the gradient of the objective. If ``img.grad`` exists
      it is zeroed afterwards. Returns nothing.
    - model: A pretrained CNN
    - target_y: Integer class to maximize
    - l2_reg: Strength of the L2 regularization on the image
    - learning_rate: Step size
    """
    img = _images(img, "img")
    target_y = as_int(target_y, "target_y")
    l2_reg = _real(l2_reg, "l2_reg")
    learning_rate = _real(learning_rate, "learning_rate")

    with torch.enable_grad():
        x = img.detach().requires_grad_()
        scores = _scores(model, x)
        _class_index(target_y, scores.shape[1], "target_y")
        objective = scores[:, target_y].sum() - l2_reg * (x * x).sum()
        (g,) = torch.autograd.grad(objective, x)
    norm = g.norm()
    with torch.no_grad():
        if float(norm) > 0:
            img.data += learning_rate * g / norm
        if img.grad is not None:
            img.grad.zero_()


def preprocess(img, size=224):
    """PIL image -> normalized Tensor of shape (1, 3, H, W) (shorter side resized to ``size``).

    Needs torchvision."""
    T = _transforms()
    transform = T.Compose(
        [
            T.Resize(size),
            T.ToTensor(),
            T.Normalize(mean=SQUEEZENET_MEAN.tolist(), std=SQUEEZENET_STD.tolist()),
            T.Lambda(lambda x: x[None]),
        ]
    )
    return transform(img)


def deprocess(img, should_rescale=True):
    """Tensor of shape (1, 3, H, W) -> PIL image: undoes the normalization, optionally rescales to
    [0, 1] (``rescale``), then ``T.ToPILImage()`` (as cs231n's, values outside [0, 1] are not clipped
    when ``should_rescale`` is False). Needs torchvision."""
    T = _transforms()
    if isinstance(img, torch.Tensor):
        img = img.detach()
    transform = T.Compose(
        [
            T.Lambda(lambda x: x[0]),
            T.Normalize(mean=[0, 0, 0], std=(1.0 / SQUEEZENET_STD).tolist()),
            T.Normalize(mean=(-SQUEEZENET_MEAN).tolist(), std=[1, 1, 1]),
            T.Lambda(rescale) if should_rescale else T.Lambda(lambda x: x),
            T.ToPILImage(),
        ]
    )
    return transform(img)


def rescale(x):
    """Min-max rescaling to [0, 1]: ``(x - x.min()) / (x.max() - x.min())``."""
    low, high = x.min(), x.max()
    x_rescaled = (x - low) / (high - low)
    return x_rescaled


def blur_image(X, sigma=1):
    """Gaussian blur of X (N, C, H, W) along H then W (``scipy.ndimage.gaussian_filter1d``), in place.

    Returns X. The blur runs on a CPU NumPy copy in X's dtype (cs231n's goes through a float32
    ``torch.Tensor``, which rounds float64 images)."""
    X = _images(X, "X")
    try:
        from scipy.ndimage import gaussian_filter1d
    except ImportError as err:  # pragma: no cover - scipy comes with the torch extra
        raise ImportError("cs231n_rs.net_visualization_pytorch.blur_image needs SciPy: pip install scipy") from err
    X_np = X.detach().cpu().numpy()
    X_np = gaussian_filter1d(X_np, sigma, axis=2)
    X_np = gaussian_filter1d(X_np, sigma, axis=3)
    with torch.no_grad():
        X.copy_(torch.from_numpy(X_np).to(device=X.device, dtype=X.dtype))
    return X


def jitter(X, ox, oy):
    """
    Helper function to randomly jitter an image.

    Inputs
    - X: PyTorch Tensor of shape (N, C, H, W)
    - ox, oy: Integers giving number of pixels to jitter along W and H axes

    Returns: A new PyTorch Tensor of shape (N, C, H, W)

    A circular shift (``torch.roll`` for |ox| < W and |oy| < H), so ``jitter(jitter(X, ox, oy), -ox, -oy)``
    is X.
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError("X: expected a torch.Tensor of shape (N, C, H, W), got %s" % type(X).__name__)
    if X.dim() != 4:
        raise ValueError("X: expected a tensor of shape (N, C, H, W), got shape %s" % (tuple(X.shape),))
    ox = as_int(ox, "ox")
    oy = as_int(oy, "oy")
    if ox != 0:
        left = X[:, :, :, :-ox]
        right = X[:, :, :, -ox:]
        X = torch.cat([right, left], dim=3)
    if oy != 0:
        top = X[:, :, :-oy]
        bottom = X[:, :, -oy:]
        X = torch.cat([bottom, top], dim=2)
    return X


# ---------------------------------------------------------------------------------------------
# The notebook's helper
# ---------------------------------------------------------------------------------------------

_CLASS_VIS_DEFAULTS = {
    "l2_reg": 1e-3,
    "learning_rate": 25,
    "num_iterations": 100,
    "blur_every": 10,
    "max_jitter": 16,
    "show_every": 25,
    "img_size": 224,
    "class_names": None,
}


def create_class_visualization(target_y, model, dtype, **kwargs):
    """
    Generate an image to maximize the score of target_y under a pretrained model.

    Inputs:
    - target_y: Integer in the range [0, 1000) giving the index of the class
    - model: A pretrained CNN that will be used to generate the image
    - dtype: Torch datatype to use for computations (e.g. torch.FloatTensor; ``model.type(dtype)``
      is called, as in the notebook)

    Keyword arguments:
    - l2_reg: Strength of L2 regularization on the image (1e-3)
    - learning_rate: How big of a step to take (25)
    - num_iterations: How many iterations to use (100)
    - blur_every: How often to blur the image as an implicit regularizer (10)
    - max_jitter: How much to jitter the image as an implicit regularizer (16)
    - show_every: How often to show the intermediate result (25); 0 or None: never plot
    - img_size: side of the square image (224)
    - class_names: optional sequence of class names for the plot titles

    Returns the final image, ``deprocess(img.data.cpu())`` (a PIL image; needs torchvision).
    The start image is ``torch.randn`` and the jitter offsets come from ``random.randint``: seed
    ``torch`` and ``random`` for a reproducible result.
    """
    unknown = sorted(set(kwargs) - set(_CLASS_VIS_DEFAULTS))
    if unknown:
        raise TypeError("create_class_visualization: unexpected keyword argument(s) %s" % ", ".join(unknown))
    opts = dict(_CLASS_VIS_DEFAULTS, **kwargs)
    target_y = as_int(target_y, "target_y")
    l2_reg = _real(opts["l2_reg"], "l2_reg")
    learning_rate = _real(opts["learning_rate"], "learning_rate")
    num_iterations = as_int(opts["num_iterations"], "num_iterations")
    blur_every = as_int(opts["blur_every"], "blur_every")
    max_jitter = as_int(opts["max_jitter"], "max_jitter")
    show_every = opts["show_every"]
    show_every = 0 if show_every is None else as_int(show_every, "show_every")
    img_size = as_int(opts["img_size"], "img_size")
    class_names = opts["class_names"]
    if blur_every <= 0:
        raise ValueError("blur_every: expected a positive int, got %d" % blur_every)
    if max_jitter < 0:
        raise ValueError("max_jitter: expected a nonnegative int, got %d" % max_jitter)
    if img_size <= 0:
        raise ValueError("img_size: expected a positive int, got %d" % img_size)

    model.type(dtype)

    # Randomly initialize the image as a PyTorch Tensor, and make it requires gradient.
    img = torch.randn(1, 3, img_size, img_size).mul_(1.0).type(dtype).requires_grad_()

    for t in range(num_iterations):
        # Randomly jitter the image a bit; this gives slightly nicer results
        ox, oy = random.randint(0, max_jitter), random.randint(0, max_jitter)
        img.data.copy_(jitter(img.data, ox, oy))
        class_visualization_update_step(img, model, target_y, l2_reg, learning_rate)
        # Undo the random jitter
        img.data.copy_(jitter(img.data, -ox, -oy))

        # As regularizer, clamp and periodically blur the image
        for c in range(3):
            lo = float(-SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c])
            hi = float((1.0 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c])
            img.data[:, c].clamp_(min=lo, max=hi)
        if t % blur_every == 0:
            blur_image(img.data, sigma=0.5)

        # Periodically show the image
        if show_every and (t == 0 or (t + 1) % show_every == 0 or t == num_iterations - 1):
            import matplotlib.pyplot as plt

            plt.imshow(deprocess(img.data.clone().cpu()))
            class_name = class_names[target_y] if class_names is not None else "class %d" % target_y
            plt.title("%s\nIteration %d / %d" % (class_name, t + 1, num_iterations))
            plt.gcf().set_size_inches(4, 4)
            plt.axis("off")
            plt.show()

    return deprocess(img.data.cpu())


def _transforms():
    try:
        import torchvision.transforms as T
    except ImportError as err:
        raise ImportError(
            "cs231n_rs.net_visualization_pytorch.preprocess/deprocess need torchvision: pip install torchvision"
        ) from err
    return T
