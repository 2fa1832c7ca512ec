"""``cs231n-rs tour``: assignment 1's pipelines end to end, on the embedded digits or on CIFAR-10.

Stages (each a function ``stage_*(data, out, progress, quick)`` returning a result dict, listed in
:data:`STAGES`, so more can be appended):

* kNN: 5-fold cross-validation over cs231n's ``k_choices`` (folds by ``np.array_split``, as
  knn.ipynb), best k, test accuracy; ``knn_cross_validation.png``.
* SVM and softmax: rows flattened, the mean training image subtracted, a bias column of ones
  appended (as svm.ipynb and softmax.ipynb); a grid search over learning rate x regularisation
  strength picked on the validation split; ``svm_weights.png``, ``softmax_weights.png`` (the learned
  templates, one tile per class) and ``svm_loss_history.png``.
* Features (features.ipynb): HOG + HSV hue histogram of every image by ``extract_features`` (the
  batch runs in Rust), normalised by the training mean and standard deviation, a bias column, then a
  LinearSVM grid search; prints the extraction time.
* Two-layer net (two_layer_net.ipynb): ``TwoLayerNet`` trained by the ``Solver`` (SGD with learning
  rate decay) on the mean-subtracted rows; ``two_layer_net_training.png`` (loss history, train / val
  accuracy per epoch) and ``two_layer_net_weights.png`` (W1 as images, ``vis_utils.visualize_grid``).
* Fully connected nets (FullyConnectedNets.ipynb, BatchNormalization.ipynb, Dropout.ipynb): a
  ``FullyConnectedNet`` trained with Adam three ways (plain, batchnorm, batchnorm + dropout), all in
  cs231n's default float32; ``fully_connected_nets.png`` compares their loss and val accuracy. The
  net stages seed NumPy's global RNG with 0 first and return one table row per trained net.
* Convolutional net (ConvolutionalNetworks.ipynb, in :mod:`cs231n_rs._tour_conv`): a
  ``ThreeLayerConvNet`` (32 7x7 filters, float32) trained by the ``Solver`` with Adam on the images
  minus the mean training image; ``conv_net_training.png`` (loss history, train / val accuracy) and
  ``conv_net_filters.png`` (the first-layer filters by ``visualize_grid``, as the notebook). The
  trained model is left in ``data["conv_net"]`` (with the mean image) for later stages. On CIFAR-10
  the notebook's settings (one epoch, batch 50; ``--quick``: the first 1000 training images), untested
  on the real data.
* Network visualization (NetworkVisualization-PyTorch.ipynb on NumPy, in :mod:`cs231n_rs._tour_vis`):
  saliency maps, fooling images and class visualizations of that conv net, through
  :mod:`cs231n_rs.net_visualization`; ``saliency_maps.png``, ``fooling_image.png`` and
  ``class_visualization.png``.

The digits (8x8 images upsampled to 32x32x3, see :mod:`cs231n_rs.datasets`) need no download;
``--cifar-dir`` runs on real CIFAR-10 with the notebooks' subsampling (5000 train / 500 test for kNN,
49000 / 1000 / 1000 for the linear classifiers). NumPy's global RNG is seeded with 0 first, so a run
is reproducible. Plots are drawn with matplotlib's Agg renderer (no display needed).
"""

import itertools
import sys
import time
from pathlib import Path

import numpy as np

from ._tour_conv import CONV_NET, stage_conv_net  # noqa: F401 (CONV_NET: the conv stage's settings)
from ._tour_vis import stage_net_visualization

DEFAULT_OUT = "cs231n-rs-tour"

#: knn.ipynb's cross-validation settings.
NUM_FOLDS = 5
K_CHOICES = [1, 3, 5, 8, 10, 12, 15, 20, 50, 100]

CIFAR10_CLASSES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

#: (learning rates, regularisation strengths) per dataset and classifier. CIFAR-10: the notebooks'
#: grids (svm.ipynb; softmax.ipynb 2024). Digits: found by a wider search (lr 1e-9..1e-6 x reg
#: 1..2.5e4, 1500 iterations): lr 1e-6 with reg 1e3 is best for both (val ~0.97, test ~0.96-0.98),
#: lr 1e-8 and below under-trains (< 0.85).
LINEAR_GRIDS = {
    "cifar10": {"LinearSVM": ([1e-7, 5e-5], [2.5e4, 5e4]), "Softmax": ([1e-7, 5e-7], [2.5e4, 5e4])},
    "digits": {"LinearSVM": ([1e-7, 1e-6], [1e3, 1e4]), "Softmax": ([1e-7, 1e-6], [1e3, 1e4])},
}
#: The features stage: features.ipynb's SVM grid on CIFAR-10; digits: from a search over lr
#: 1e-4..1e-2 x reg 1e-3..1 (1500 iterations): lr 1e-2 with reg <= 1e-2 is best (val ~0.88, test
#: ~0.90), lr 1e-4 reaches ~0.84. Hue-histogram bins as features.ipynb (<= 2024).
FEATURE_GRIDS = {"cifar10": ([1e-9, 1e-8, 1e-7], [5e4, 5e5, 5e6]), "digits": ([1e-3, 1e-2], [1e-3, 1e-1])}
NUM_COLOR_BINS = 10
NUM_ITERS, QUICK_NUM_ITERS = 1500, 200
BATCH_SIZE = 200

#: The net stages' Solver settings per dataset: (update rule, learning rate, lr_decay, epochs, quick
#: epochs). Digits (checked: val >= 0.97 with these): the two-layer net with SGD lr 3e-3 reaches val
#: ~0.985 in 5-10 epochs (lr 1e-4 under-trains, ~0.72); the 3 x 100 nets with Adam lr 1e-3 and
#: weight scale 1e-2 reach 0.97-0.985 in 5 epochs (lr 1e-4: 0.86-0.93). CIFAR-10: the notebooks'
#: hidden size 100 and learning rates, epochs so a stage stays under a minute on 2 cores (timed on
#: 49000 images: ~0.8 s an epoch for the two-layer net, ~1.5 s for each 3 x 100 net).
NET_BATCH_SIZE = 100
TWO_LAYER_NET = {"digits": ("sgd", 3e-3, 0.95, 10, 3), "cifar10": ("sgd", 1e-3, 0.95, 10, 1)}
FC_NETS = {"digits": ("adam", 1e-3, 0.95, 5, 2), "cifar10": ("adam", 1e-3, 0.95, 4, 1)}
HIDDEN_DIM, FC_HIDDEN_DIMS, FC_WEIGHT_SCALE = 100, [100, 100, 100], 1e-2
#: (table name, FullyConnectedNet keyword arguments) of the fully connected stage's nets.
FC_CONFIGS = [
    ("FCNet", {}),
    ("FCNet+BN", {"normalization": "batchnorm"}),
    ("FCNet+BN+DO", {"normalization": "batchnorm", "dropout_keep_ratio": 0.75}),
]


# ----------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser):
    """Adds the ``tour`` options to an argparse (sub)parser."""
    parser.add_argument(
        "--cifar-dir", metavar="PATH", help="the cifar-10-batches-py folder (default: the embedded digits)"
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help="folder for the plots (default: ./%s)" % DEFAULT_OUT
    )
    parser.add_argument("--quick", action="store_true", help="fewer SGD iterations (and smaller CIFAR-10 subsets)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args, argv=()):
    """Runs ``cs231n-rs tour`` for parsed ``args``; returns the exit code."""
    start = time.perf_counter()
    np.random.seed(0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.no_progress and sys.stderr.isatty()
    try:
        data = load_data(args.cifar_dir, args.quick)
    except (OSError, ValueError) as exc:  # missing or malformed CIFAR-10 folder
        print("cs231n-rs tour: %s" % exc, file=sys.stderr)
        return 1
    print("cs231n-rs tour on %s" % data["description"])
    results = []
    for stage in STAGES:  # a stage returns a result dict or a list of them (one per trained net)
        result = stage(data, out, progress, args.quick)
        results.extend(result if isinstance(result, list) else [result])
    print()
    print_table(results)
    print()
    print("total %.1f s; plots in %s" % (time.perf_counter() - start, out.resolve()))
    return 0


# ----------------------------------------------------------------------------------------------
# Data


def load_data(cifar_dir=None, quick=False):
    """The splits the stages share, as a dict:

    - ``splits``: get_CIFAR10_data's dict (images (N, 3, 32, 32), pixels 0..255, no mean subtracted);
    - ``dataset`` ('digits' or 'cifar10'), ``description``, ``classes`` (names by label);
    - ``knn_sizes``: (training, test) images the kNN stage uses (the first of each split).
    """
    if cifar_dir is None:
        from .datasets import DIGITS_CLASSES, get_digits_data

        splits = get_digits_data(size="cifar", subtract_mean=False)
        knn_sizes = (len(splits["y_train"]), len(splits["y_test"]))
        description = "the embedded digits (8x8 upsampled to 3x32x32; %s train / val / test)" % _split_sizes(splits)
        return {"dataset": "digits", "classes": list(DIGITS_CLASSES), "splits": splits, "knn_sizes": knn_sizes,
                "description": description}
    from .data_utils import get_CIFAR10_data

    num = (4900, 500, 500) if quick else (49000, 1000, 1000)
    splits = get_CIFAR10_data(*num, subtract_mean=False, cifar10_dir=cifar_dir)
    knn_sizes = (1000, 100) if quick else (5000, 500)
    return {"dataset": "cifar10", "classes": CIFAR10_CLASSES, "splits": splits, "knn_sizes": knn_sizes,
            "description": "CIFAR-10 from %s (%s train / val / test)" % (cifar_dir, _split_sizes(splits))}


def _split_sizes(splits):
    return " / ".join(str(len(splits[k])) for k in ("y_train", "y_val", "y_test"))


def rows(X):
    """Images (N, ...) as float64 rows (N, D)."""
    return np.reshape(X, (X.shape[0], -1)).astype(np.float64, copy=False)


def linear_rows(data):
    """(X_train, y_train, X_val, y_val, X_test, y_test) for the linear classifiers, as svm.ipynb builds
    them: flattened rows, minus the mean training row, with a bias column of ones. Computed once per
    ``data`` (cached in it)."""
    if "linear_rows" not in data:
        s = data["splits"]
        X_train, X_val, X_test = rows(s["X_train"]), rows(s["X_val"]), rows(s["X_test"])
        mean_image = np.mean(X_train, axis=0)
        with_bias = [np.hstack([X - mean_image, np.ones((X.shape[0], 1))]) for X in (X_train, X_val, X_test)]
        data["linear_rows"] = (with_bias[0], s["y_train"], with_bias[1], s["y_val"], with_bias[2], s["y_test"])
    return data["linear_rows"]


# ----------------------------------------------------------------------------------------------
# Stages


def stage_knn(data, out, progress, quick=False):
    """kNN: cross-validate k on the training split, then test with the best k."""
    from .classifiers import KNearestNeighbor

    start = time.perf_counter()
    n_train, n_test = data["knn_sizes"]
    s = data["splits"]
    X_train, y_train = rows(s["X_train"][:n_train]), s["y_train"][:n_train]
    X_test, y_test = rows(s["X_test"][:n_test]), s["y_test"][:n_test]

    k_to_accuracies = cross_validate_knn(X_train, y_train, K_CHOICES, NUM_FOLDS, progress)
    means = {k: np.mean(acc) for k, acc in k_to_accuracies.items()}
    best_k = max(K_CHOICES, key=lambda k: means[k])  # ties: the smallest k
    classifier = KNearestNeighbor()
    classifier.train(X_train, y_train)
    test_acc = np.mean(classifier.predict(X_test, k=best_k) == y_test)
    png = plot_knn_cross_validation(k_to_accuracies, out / "knn_cross_validation.png")
    return _result("kNN", "k=%d" % best_k, means[best_k], test_acc, start, [png])


def stage_svm(data, out, progress, quick=False):
    """Multiclass SVM trained by SGD, hyperparameters chosen on the validation split."""
    from .classifiers import LinearSVM

    return _stage_linear("SVM", LinearSVM, data, out, progress, quick, "svm_weights.png", "svm_loss_history.png")


def stage_softmax(data, out, progress, quick=False):
    """Softmax classifier trained by SGD, hyperparameters chosen on the validation split."""
    from .classifiers import Softmax

    return _stage_linear("Softmax", Softmax, data, out, progress, quick, "softmax_weights.png")


def stage_features(data, out, progress, quick=False):
    """features.ipynb: HOG + HSV hue-histogram features, normalised, then a LinearSVM grid search."""
    from .classifiers import LinearSVM
    from .features import color_histogram_hsv, extract_features, hog_feature

    start = time.perf_counter()
    s = data["splits"]
    num_color_bins = NUM_COLOR_BINS
    feature_fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=num_color_bins)]
    # (N, 32, 32, 3) as load_CIFAR10 gives them to the notebook
    images = [np.ascontiguousarray(s[k].transpose(0, 2, 3, 1)) for k in ("X_train", "X_val", "X_test")]
    t0 = time.perf_counter()
    feats = [extract_features(X, feature_fns) for X in images]
    extract_s = time.perf_counter() - t0
    print("Features: HOG + HSV hue histogram (%d bins) of %d images in %.2f s (%d features each)"
          % (num_color_bins, sum(len(f) for f in feats), extract_s, feats[0].shape[1]))
    mean_feat = np.mean(feats[0], axis=0, keepdims=True)
    std_feat = np.std(feats[0], axis=0, keepdims=True)
    std_feat[std_feat == 0] = 1.0  # grey digits have a constant hue histogram: the notebook would divide by 0
    X_train, X_val, X_test = [np.hstack([(f - mean_feat) / std_feat, np.ones((f.shape[0], 1))]) for f in feats]
    learning_rates, regs = FEATURE_GRIDS[data["dataset"]]
    num_iters = QUICK_NUM_ITERS if quick else NUM_ITERS
    splits = (X_train, s["y_train"], X_val, s["y_val"])
    best = grid_search(LinearSVM, splits, learning_rates, regs, num_iters, progress, "HOG+HSV SVM")
    test_acc = np.mean(best["model"].predict(X_test) == s["y_test"])
    params = "lr=%.3g reg=%.3g" % (best["learning_rate"], best["reg"])
    return _result("HOG+HSV", params, best["val_acc"], test_acc, start, [])


def net_data(data):
    """The Solver's data dict for the net stages (flattened float64 rows minus the mean training row,
    as get_CIFAR10_data gives them to the assignment 2 notebooks) and (X_test, y_test). Cached."""
    if "net_data" not in data:
        s = data["splits"]
        X_train, X_val, X_test = rows(s["X_train"]), rows(s["X_val"]), rows(s["X_test"])
        mean_image = np.mean(X_train, axis=0)
        solver_data = {"X_train": X_train - mean_image, "y_train": s["y_train"],
                       "X_val": X_val - mean_image, "y_val": s["y_val"]}
        data["net_data"] = (solver_data, X_test - mean_image, s["y_test"])
    return data["net_data"]


def _train_net(model, solver_data, settings, quick, progress, batch_size=NET_BATCH_SIZE):
    """Trains ``model`` with the Solver (no printed lines; its progress bar follows its own default
    unless the tour's progress display is off); returns the solver."""
    from .solver import Solver

    update_rule, learning_rate, lr_decay, epochs, quick_epochs = settings
    solver = Solver(model, solver_data, update_rule=update_rule, optim_config={"learning_rate": learning_rate},
                    lr_decay=lr_decay, num_epochs=quick_epochs if quick else epochs, batch_size=batch_size,
                    verbose=False, progress=None if progress else False)
    solver.train()
    return solver


def _test_accuracy(model, X_test, y_test):
    return float(np.mean(np.argmax(model.loss(X_test), axis=1) == y_test))


def stage_two_layer_net(data, out, progress, quick=False):
    """two_layer_net.ipynb: a TwoLayerNet trained by the Solver; loss / accuracy and W1 plots."""
    from .classifiers.fc_net import TwoLayerNet

    np.random.seed(0)
    start = time.perf_counter()
    solver_data, X_test, y_test = net_data(data)
    settings = TWO_LAYER_NET[data["dataset"]]
    model = TwoLayerNet(input_dim=solver_data["X_train"].shape[1], hidden_dim=HIDDEN_DIM,
                        num_classes=len(data["classes"]))
    solver = _train_net(model, solver_data, settings, quick, progress)
    test_acc = _test_accuracy(model, X_test, y_test)
    image_shape = data["splits"]["X_train"].shape[1:]
    files = [plot_solver_history(solver, out / "two_layer_net_training.png", "Two-layer net"),
             plot_first_layer(model.params["W1"], image_shape, out / "two_layer_net_weights.png", "Two-layer net")]
    params = "%s lr=%.3g h=%d ep=%d" % (settings[0], settings[1], HIDDEN_DIM, solver.num_epochs)
    return _result("TwoLayerNet", params, solver.best_val_acc, test_acc, start, files)


def stage_fully_connected_nets(data, out, progress, quick=False):
    """FullyConnectedNet with Adam: plain, batchnorm, batchnorm + dropout; a comparison plot."""
    from .classifiers.fc_net import FullyConnectedNet

    np.random.seed(0)
    solver_data, X_test, y_test = net_data(data)
    settings = FC_NETS[data["dataset"]]
    results, solvers = [], {}
    for name, kwargs in FC_CONFIGS:
        start = time.perf_counter()
        model = FullyConnectedNet(FC_HIDDEN_DIMS, input_dim=solver_data["X_train"].shape[1],
                                  num_classes=len(data["classes"]), weight_scale=FC_WEIGHT_SCALE, **kwargs)
        solver = _train_net(model, solver_data, settings, quick, progress)
        solvers[name] = solver
        params = "%s lr=%.3g f%d ep=%d" % (settings[0], settings[1], 8 * np.dtype(model.dtype).itemsize, solver.num_epochs)
        results.append(_result(name, params, solver.best_val_acc, _test_accuracy(model, X_test, y_test), start, []))
    png = plot_solver_comparison(solvers, out / "fully_connected_nets.png",
                                 "FullyConnectedNet %s" % "x".join(map(str, FC_HIDDEN_DIMS)))
    results[-1]["files"].append(str(png))
    return results


#: The tour, in order; each stage is ``stage(data, out, progress, quick) -> result dict`` (or a list
#: of result dicts, one table row each).
STAGES = [stage_knn, stage_svm, stage_softmax, stage_features, stage_two_layer_net, stage_fully_connected_nets,
          stage_conv_net, stage_net_visualization]


def _stage_linear(pipeline, cls, data, out, progress, quick, weights_png, history_png=None):
    """The shared body of the SVM and softmax stages: grid search, test accuracy, plots."""
    start = time.perf_counter()
    X_train, y_train, X_val, y_val, X_test, y_test = linear_rows(data)
    learning_rates, regs = LINEAR_GRIDS[data["dataset"]][cls.__name__]
    num_iters = QUICK_NUM_ITERS if quick else NUM_ITERS
    best = grid_search(cls, (X_train, y_train, X_val, y_val), learning_rates, regs, num_iters, progress, pipeline)
    test_acc = np.mean(best["model"].predict(X_test) == y_test)
    image_shape = data["splits"]["X_train"].shape[1:]
    files = [plot_weights(best["model"].W, image_shape, data["classes"], out / weights_png, pipeline)]
    if history_png:
        files.append(plot_loss_history(best["history"], out / history_png, pipeline))
    params = "lr=%.3g reg=%.3g" % (best["learning_rate"], best["reg"])
    return _result(pipeline, params, best["val_acc"], test_acc, start, files)


def _result(pipeline, params, val_acc, test_acc, start, files):
    return {"pipeline": pipeline, "params": params, "val_acc": float(val_acc), "test_acc": float(test_acc),
            "seconds": time.perf_counter() - start, "files": [str(f) for f in files]}


# ----------------------------------------------------------------------------------------------
# Training


def cross_validate_knn(X_train, y_train, k_choices, num_folds, progress):
    """{k: [accuracy on fold i for i in range(num_folds)]}, folds from ``np.array_split`` as in knn.ipynb.
    The distances to a held-out fold are computed once and reused for every k."""
    from tqdm import tqdm

    from .classifiers import KNearestNeighbor

    X_folds, y_folds = np.array_split(X_train, num_folds), np.array_split(y_train, num_folds)
    k_to_accuracies = {k: [] for k in k_choices}
    total = num_folds * len(k_choices)
    with tqdm(total=total, desc="kNN folds x k", disable=not progress, file=sys.stderr, leave=False) as bar:
        for i in range(num_folds):
            X_rest = np.concatenate(X_folds[:i] + X_folds[i + 1:])
            y_rest = np.concatenate(y_folds[:i] + y_folds[i + 1:])
            classifier = KNearestNeighbor()
            classifier.train(X_rest, y_rest)
            dists = classifier.compute_distances_no_loops(X_folds[i])
            for k in k_choices:
                k_to_accuracies[k].append(float(np.mean(classifier.predict_labels(dists, k=k) == y_folds[i])))
                bar.update()
    return k_to_accuracies


def grid_search(cls, splits, learning_rates, regs, num_iters, progress, desc):
    """Trains ``cls`` for every (learning rate, reg) and keeps the best on validation (a run whose
    weights overflowed to inf/NaN, like svm.ipynb's lr=5e-5 on CIFAR-10, is never the best unless all
    are). Returns a dict with ``model``, ``history``, ``learning_rate``, ``reg``, ``val_acc`` and
    ``results`` ({(lr, reg): (train accuracy, val accuracy)}, as the notebooks' ``results``)."""
    from tqdm import tqdm

    X_train, y_train, X_val, y_val = splits
    best, results = None, {}
    grid = list(itertools.product(learning_rates, regs))
    for lr, reg in tqdm(grid, desc=desc + " grid", disable=not progress, file=sys.stderr, leave=False):
        model = cls()
        history = model.train(X_train, y_train, learning_rate=lr, reg=reg, num_iters=num_iters, batch_size=BATCH_SIZE)
        train_acc = float(np.mean(model.predict(X_train) == y_train))
        val_acc = float(np.mean(model.predict(X_val) == y_val))
        results[(lr, reg)] = (train_acc, val_acc)
        score = (bool(np.all(np.isfinite(model.W))), val_acc)
        if best is None or score > best["score"]:
            best = {"model": model, "history": history, "learning_rate": lr, "reg": reg, "val_acc": val_acc}
            best["score"] = score
    best["results"] = results
    del best["score"]
    return best


# ----------------------------------------------------------------------------------------------
# Plots (matplotlib's object API with the Agg canvas: no pyplot state, no display)


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def plot_knn_cross_validation(k_to_accuracies, path):
    """Every fold's accuracy per k, and the mean with a standard-deviation error bar (knn.ipynb)."""
    fig = _figure(figsize=(7, 4.5))
    ax = fig.subplots()
    ks = sorted(k_to_accuracies)
    for k in ks:
        ax.scatter([k] * len(k_to_accuracies[k]), k_to_accuracies[k], color="tab:blue", s=12)
    means = [np.mean(k_to_accuracies[k]) for k in ks]
    stds = [np.std(k_to_accuracies[k]) for k in ks]
    ax.errorbar(ks, means, yerr=stds, color="tab:orange", capsize=3)
    ax.set_title("Cross-validation on k")
    ax.set_xlabel("k")
    ax.set_ylabel("Cross-validation accuracy")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_weights(W, image_shape, classes, path, title):
    """The learned weights without the bias row, one image per class, rescaled to 0..255 over all
    classes (svm.ipynb). ``image_shape`` is (3, H, W) (channels first, as the splits)."""
    images = W[:-1, :].T.reshape((W.shape[1],) + tuple(image_shape)).transpose(0, 2, 3, 1)
    images = np.nan_to_num(images)  # a diverged run still gets a (meaningless) picture
    w_min, w_max = np.min(images), np.max(images)
    images = 255.0 * (images - w_min) / max(w_max - w_min, 1e-12)
    fig = _figure(figsize=(10, 4.5))
    axes = fig.subplots(2, (len(classes) + 1) // 2).ravel()
    for ax, image, name in zip(axes, images, classes):
        ax.imshow(image.astype("uint8"))
        ax.set_title(name)
        ax.axis("off")
    fig.suptitle("%s weights" % title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_loss_history(history, path, title):
    """The minibatch loss per SGD iteration (svm.ipynb)."""
    fig = _figure(figsize=(7, 4.5))
    ax = fig.subplots()
    ax.plot(history)
    ax.set_title("%s loss history" % title)
    ax.set_xlabel("Iteration number")
    ax.set_ylabel("Loss value")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_solver_history(solver, path, title):
    """The minibatch loss per iteration, and train / val accuracy per epoch (two_layer_net.ipynb)."""
    fig = _figure(figsize=(8, 7))
    ax_loss, ax_acc = fig.subplots(2, 1)
    ax_loss.plot(solver.loss_history)
    ax_loss.set_title("Loss history")
    ax_loss.set_xlabel("Iteration")
    ax_loss.set_ylabel("Loss")
    ax_acc.plot(solver.train_acc_history, label="train")
    ax_acc.plot(solver.val_acc_history, label="val")
    ax_acc.set_title("Classification accuracy history")
    ax_acc.set_xlabel("Epoch")
    ax_acc.set_ylabel("Classification accuracy")
    ax_acc.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_first_layer(W1, image_shape, path, title):
    """The first-layer weights, one image per hidden unit, by ``visualize_grid`` (two_layer_net.ipynb's
    show_net_weights). ``image_shape`` is (3, H, W) (channels first, as the splits)."""
    from .vis_utils import visualize_grid

    images = np.asarray(W1, dtype=np.float64).T.reshape((W1.shape[1],) + tuple(image_shape)).transpose(0, 2, 3, 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant (dead) unit: 0 / 0, as cs231n
        grid = np.nan_to_num(visualize_grid(images, padding=3))
    fig = _figure(figsize=(7, 7))
    ax = fig.subplots()
    ax.imshow(grid.astype("uint8"))
    ax.axis("off")
    ax.set_title("%s first-layer weights" % title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_solver_comparison(solvers, path, title):
    """Loss per iteration and val accuracy per epoch of several solvers ({label: solver})."""
    fig = _figure(figsize=(8, 7))
    ax_loss, ax_acc = fig.subplots(2, 1)
    for label, solver in solvers.items():
        ax_loss.plot(solver.loss_history, label=label, alpha=0.7)
        ax_acc.plot(solver.val_acc_history, "-o", label=label)
    ax_loss.set_title("Training loss")
    ax_loss.set_xlabel("Iteration")
    ax_loss.set_ylabel("Loss")
    ax_loss.legend()
    ax_acc.set_title("Validation accuracy")
    ax_acc.set_xlabel("Epoch")
    ax_acc.set_ylabel("Accuracy")
    ax_acc.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


# ----------------------------------------------------------------------------------------------
# Report


def print_table(results):
    """The summary table: one row per stage."""
    width = max([11] + [len(r["pipeline"]) for r in results])  # ThreeLayerConvNet is wider than 11
    header = "%-*s %-24s %8s %9s %8s" % (width, "pipeline", "best hyperparameters", "val acc", "test acc", "seconds")
    print(header)
    print("-" * len(header))
    for r in results:
        print("%-*s %-24s %8.3f %9.3f %8.1f"
              % (width, r["pipeline"], r["params"], r["val_acc"], r["test_acc"], r["seconds"]))
    print("(kNN: val acc is the mean %d-fold cross-validation accuracy of the best k)" % NUM_FOLDS)
