"""The tour's convolutional-net stage (ConvolutionalNetworks.ipynb): a ``ThreeLayerConvNet`` trained by
the ``Solver`` with Adam; ``conv_net_training.png`` and ``conv_net_filters.png``.

Kept out of :mod:`cs231n_rs.tour` (which imports :func:`stage_conv_net` into its ``STAGES``); the
helpers shared with the other net stages (``_train_net``, ``_test_accuracy``, ``_result``,
``plot_solver_history``, ``_figure``) are imported from there when the stage runs.
"""

import time

import numpy as np

#: The conv stage's settings per dataset: ``solver`` is the tour's net settings tuple (update rule,
#: learning rate, lr_decay, epochs, quick epochs), ``model`` the ThreeLayerConvNet keyword arguments
#: (beyond input_dim and num_classes; num_filters=32, filter_size=7 and dtype=float32 are cs231n's
#: defaults), ``batch_size`` the Solver's, ``quick_num_train`` how many of the first training images
#: ``--quick`` trains on (None: all). CIFAR-10: ConvolutionalNetworks.ipynb's "Train the net" cell
#: (weight_scale 1e-3, hidden_dim 500, reg 1e-3, Adam lr 1e-3, batch 50, 1 epoch; the notebook
#: expects > 40% train accuracy), untested on the real data here (only on random images): 980
#: iterations, ~50 ms each on 2 cores, so about a minute; ``--quick`` trains on 1000 images (20
#: iterations) instead of its 4900, which took ~10 s. Digits
#: (measured on 2 cores, seeds 0..2): with weight_scale 1e-2, hidden_dim 100 and batch 100, val is
#: 0.94-0.97 after 2 epochs (~3 s) and 0.975-0.99 at its best within 6 epochs (~7 s); batch 50 or
#: weight_scale 1e-3 reach the same in 5-10 epochs, slower.
CONV_NET = {
    "digits": {"solver": ("adam", 1e-3, 0.95, 6, 2), "batch_size": 100, "quick_num_train": None,
               "model": {"hidden_dim": 100, "weight_scale": 1e-2, "reg": 1e-3}},
    "cifar10": {"solver": ("adam", 1e-3, 1.0, 1, 1), "batch_size": 50, "quick_num_train": 1000,
                "model": {"hidden_dim": 500, "weight_scale": 1e-3, "reg": 1e-3}},
}


def conv_net_data(data, dtype=np.float32, num_train=None):
    """The conv net's Solver data dict, (X_test, y_test) and the mean training image (3, 32, 32), as
    get_CIFAR10_data gives them to ConvolutionalNetworks.ipynb: images (N, 3, 32, 32) minus the mean
    training image (of the whole training split; ``num_train``: keep only the first training images,
    None: all). The differences are taken in float64 and stored in ``dtype`` (the model's): the
    starter does not cast X, and a float64 X would turn every conv product and, through Adam's updates,
    the weights float64 (about 2.5x slower here)."""
    s = data["splits"]
    mean_image = np.mean(s["X_train"], axis=0)

    def centred(X):
        out = np.empty(X.shape, dtype)
        np.subtract(X, mean_image, out=out, casting="same_kind")  # no float64 copy of a whole split
        return out

    solver_data = {"X_train": centred(s["X_train"][:num_train]), "y_train": s["y_train"][:num_train],
                   "X_val": centred(s["X_val"]), "y_val": s["y_val"]}
    return solver_data, centred(s["X_test"]), s["y_test"], mean_image


def stage_conv_net(data, out, progress, quick=False):
    """ConvolutionalNetworks.ipynb: a ThreeLayerConvNet (conv 7x7 x 32 - relu - 2x2 max pool - affine -
    relu - affine - softmax, float32) trained by the Solver with Adam; loss / accuracy plot and the
    first-layer filters. Stores ``data["conv_net"]`` = {``model``, ``mean_image`` (3, 32, 32),
    ``val_acc``, ``classes``} for later stages (the model holds the best validation parameters, as the
    Solver leaves it)."""
    from .classifiers.cnn import ThreeLayerConvNet
    from .tour import _result, _test_accuracy, _train_net, plot_solver_history

    np.random.seed(0)
    start = time.perf_counter()
    config = CONV_NET[data["dataset"]]
    model = ThreeLayerConvNet(input_dim=data["splits"]["X_train"].shape[1:], num_classes=len(data["classes"]),
                              **config["model"])
    num_train = config["quick_num_train"] if quick else None
    solver_data, X_test, y_test, mean_image = conv_net_data(data, model.dtype, num_train)
    solver = _train_net(model, solver_data, config["solver"], quick, progress, batch_size=config["batch_size"])
    test_acc = _test_accuracy(model, X_test, y_test)
    data["conv_net"] = {"model": model, "mean_image": mean_image, "val_acc": float(solver.best_val_acc),
                        "classes": data["classes"]}
    files = [plot_solver_history(solver, out / "conv_net_training.png", "Three-layer convnet"),
             plot_conv_filters(model.params["W1"], out / "conv_net_filters.png", "Three-layer convnet")]
    update_rule, learning_rate = config["solver"][:2]
    params = "%s lr=%.3g h=%d ep=%d" % (update_rule, learning_rate, model.params["W2"].shape[1], solver.num_epochs)
    return _result("ThreeLayerConvNet", params, solver.best_val_acc, test_acc, start, files)


def plot_conv_filters(W1, path, title):
    """The first-layer filters W1 (F, C, HH, WW) as ConvolutionalNetworks.ipynb shows them:
    ``visualize_grid(W1.transpose(0, 2, 3, 1))`` (each filter min-max scaled to 0..255 on its own),
    drawn as uint8."""
    from .tour import _figure
    from .vis_utils import visualize_grid

    with np.errstate(invalid="ignore", divide="ignore"):  # a constant filter: 0 / 0, as cs231n
        grid = np.nan_to_num(visualize_grid(np.asarray(W1).transpose(0, 2, 3, 1)))
    fig = _figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.imshow(grid.astype("uint8"), interpolation="nearest")
    ax.axis("off")
    ax.set_title("%s first-layer filters" % title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
