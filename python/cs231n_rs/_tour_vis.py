"""The tour's network-visualization stage (NetworkVisualization-PyTorch.ipynb, on the tour's
``ThreeLayerConvNet`` and NumPy arrays): saliency maps, a fooling image and class visualizations, as
PNGs (:mod:`cs231n_rs.net_visualization`).

Kept out of :mod:`cs231n_rs.tour` (which lists :func:`stage_net_visualization` in its ``STAGES``);
the tour's helpers (``_result``, ``_figure``) are imported from there when the stage runs.
"""

import random
import time

import numpy as np

from .reference.net_visualization import PIXELS_PER_UNIT

#: Validation images shown with their saliency maps.
SALIENCY_IMAGES = 5
#: Validation images the stage tries to fool (quick, full), each toward the next class.
FOOL_IMAGES = (4, 10)
#: make_fooling_image's step, in pixels (the nets see pixels minus the mean image): cs231n's learning
#: rate 1 on normalized images is PIXELS_PER_UNIT (about 57) pixels. Measured on the tour's digits
#: nets: every one of 20 validation images reaches its target within the 100 steps.
FOOL_LEARNING_RATE = PIXELS_PER_UNIT
#: Class visualizations: (classes drawn, iterations) quick and full.
CLASS_VIS = ((3, 50), (10, 100))
#: create_class_visualization's settings beyond its defaults (the notebook's l2_reg and learning rate
#: carried over to pixels, which on the tour's digits nets take every class's score to the top within
#: 100 iterations): a jitter of at most 4 pixels (the notebook's 16 is for 224-pixel images).
CLASS_VIS_KWARGS = {"max_jitter": 4}
#: The stage's own net when no earlier stage left ``data["conv_net"]``: ThreeLayerConvNet keyword
#: arguments and (epochs, quick epochs, training images when quick), Adam lr 1e-3, batch 100.
OWN_NET = {"num_filters": 16, "filter_size": 5, "hidden_dim": 100, "weight_scale": 1e-2, "reg": 1e-3}
OWN_TRAINING = (2, 1, 600)


def stage_net_visualization(data, out, progress, quick=False):
    """Saliency maps, fooling images and class visualizations of the tour's ThreeLayerConvNet
    (``data["conv_net"]``, left by the conv stage; without it the stage trains a small one on
    ``data["splits"]``). Writes ``saliency_maps.png``, ``fooling_image.png`` and
    ``class_visualization.png``. The table row: val acc is the fraction of the fooled validation
    images the net classifies as their target (test acc: not applicable, NaN)."""
    from .net_visualization import (
        compute_saliency_maps,
        create_class_visualization,
        make_fooling_image,
    )
    from .tour import _result

    np.random.seed(0)
    random.seed(0)
    start = time.perf_counter()
    net = data.get("conv_net") or _train_own_net(data, quick, progress)
    model, classes = net["model"], list(net.get("classes", data["classes"]))
    s = data["splits"]
    image_shape = s["X_val"].shape[1:]
    mean_image = np.asarray(net["mean_image"], dtype=np.float64).reshape(image_shape)
    dtype = np.dtype(getattr(model, "dtype", np.float64))

    def centred(X):
        return (np.asarray(X, dtype=np.float64) - mean_image).astype(dtype)

    # Saliency maps of the first validation images.
    X = centred(s["X_val"][:SALIENCY_IMAGES])
    y = np.asarray(s["y_val"][:SALIENCY_IMAGES])
    saliency = compute_saliency_maps(X, y, model)
    files = [plot_saliency(s["X_val"][:SALIENCY_IMAGES], saliency, [classes[c] for c in y],
                           out / "saliency_maps.png")]

    # Fooling images: each image toward the next class.
    n_fool = FOOL_IMAGES[0] if quick else FOOL_IMAGES[1]
    X = centred(s["X_val"][:n_fool])
    y = np.asarray(s["y_val"][:n_fool])
    target = (y + 1) % len(classes)
    X_fooling = make_fooling_image(X, target, model, learning_rate=FOOL_LEARNING_RATE)
    predicted = np.argmax(model.loss(X_fooling), axis=1)
    fooled = float(np.mean(predicted == target))
    before = int(np.argmax(model.loss(X[:1]), axis=1)[0])
    files.append(plot_fooling(X[0], X_fooling[0], mean_image, classes[before], classes[predicted[0]],
                              classes[target[0]], out / "fooling_image.png"))

    # Class visualizations.
    n_classes, iterations = CLASS_VIS[0] if quick else CLASS_VIS[1]
    shown = list(range(min(n_classes, len(classes))))
    images = [create_class_visualization(c, model, mean_image, num_iterations=iterations, dtype=dtype,
                                         **CLASS_VIS_KWARGS) for c in shown]
    files.append(plot_class_visualizations(images, [classes[c] for c in shown], iterations,
                                           out / "class_visualization.png"))
    params = "fooled %d/%d, %d classes" % (int(round(fooled * n_fool)), n_fool, len(shown))
    return _result("NetVisualization", params, fooled, float("nan"), start, files)


def _train_own_net(data, quick, progress):
    """A small ThreeLayerConvNet (float32, Adam) on the mean-subtracted splits, for a tour run without
    the conv stage: {"model", "mean_image", "val_acc", "classes"} as that stage leaves them."""
    from .classifiers.cnn import ThreeLayerConvNet
    from .solver import Solver

    s = data["splits"]
    epochs, quick_epochs, quick_images = OWN_TRAINING
    n = min(quick_images, len(s["y_train"])) if quick else len(s["y_train"])
    mean_image = np.mean(s["X_train"], axis=0)
    solver_data = {"X_train": (s["X_train"][:n] - mean_image).astype(np.float32), "y_train": s["y_train"][:n],
                   "X_val": (s["X_val"] - mean_image).astype(np.float32), "y_val": s["y_val"]}
    model = ThreeLayerConvNet(input_dim=s["X_train"].shape[1:], num_classes=len(data["classes"]), **OWN_NET)
    solver = Solver(model, solver_data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    num_epochs=quick_epochs if quick else epochs, batch_size=100, verbose=False,
                    progress=None if progress else False)
    solver.train()
    return {"model": model, "mean_image": mean_image, "val_acc": float(solver.best_val_acc),
            "classes": data["classes"]}


def _pixels(img):
    """(3, H, W) pixels 0..255 as a uint8 (H, W, 3) image."""
    return np.clip(np.asarray(img, dtype=np.float64), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def plot_saliency(images, saliency, labels, path):
    """The images (N, 3, H, W) in pixels above their saliency maps (N, H, W) (the notebook's
    show_saliency_maps, hot colormap)."""
    from .tour import _figure

    n = len(images)
    fig = _figure(figsize=(2 * n, 4.4))
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        axes[0, i].imshow(_pixels(images[i]), interpolation="nearest")
        axes[0, i].set_title(labels[i])
        axes[1, i].imshow(saliency[i], cmap="hot", interpolation="nearest")
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle("Saliency maps (|d score / d pixel|, max over channels)")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_fooling(X, X_fooling, mean_image, before, after, target, path):
    """Original, fooling image, and their difference magnified 10x (drawn around mid-gray: the
    notebook draws it around the mean color)."""
    from .net_visualization import deprocess
    from .tour import _figure

    fig = _figure(figsize=(8, 3.2))
    axes = fig.subplots(1, 3)
    axes[0].imshow(deprocess(X, mean_image, should_rescale=False), interpolation="nearest")
    axes[0].set_title("Original\n(%s)" % before)
    axes[1].imshow(deprocess(X_fooling, mean_image, should_rescale=False), interpolation="nearest")
    axes[1].set_title("Fooling image\n(%s; target %s)" % (after, target))
    diff = 10 * (np.asarray(X_fooling, dtype=np.float64) - np.asarray(X, dtype=np.float64))
    axes[2].imshow(_pixels(128 + diff), interpolation="nearest")
    axes[2].set_title("Difference\n(10x, around gray)")
    for ax in axes:
        ax.axis("off")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_class_visualizations(images, labels, iterations, path):
    """The class visualizations (uint8 (H, W, 3) images), one per class, titled."""
    from .tour import _figure

    n = len(images)
    cols = min(n, 5)
    rows = (n + cols - 1) // cols
    fig = _figure(figsize=(2 * cols, 2.3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, img, label in zip(axes, images, labels):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(label)
    fig.suptitle("Class visualizations (%d iterations)" % iterations)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
