"""Loading CIFAR-10 (cs231n ``data_utils.py``), pure Python and NumPy.

Same names, signatures and return values as the assignment's module, with three differences:

- a batch may hold any number of rows (cs231n hard-codes 10000), and its keys may be ``bytes``
  (``b"data"``, a file pickled by Python 3) or ``str`` (``"data"``, the official Python 2 files);
- a missing or malformed file is a ``FileNotFoundError`` / ``ValueError`` that names the file, what was
  wrong and the folder layout expected, instead of a bare ``KeyError`` or ``cannot reshape``;
- :func:`get_CIFAR10_data` takes the data folder as ``cifar10_dir`` (default: the environment variable
  ``CS231N_CIFAR10_DIR``, else ``cs231n/datasets/cifar-10-batches-py`` under the current directory),
  and ``imageio`` is not imported.

No download needed to try things out: :func:`cs231n_rs.datasets.get_digits_data` returns a small
embedded dataset in the same form.

Note: the batches are pickles; like any pickle, load only files you trust.
"""

import os
import pickle

import numpy as np

__all__ = ["load_pickle", "load_CIFAR_batch", "load_CIFAR10", "get_CIFAR10_data", "CIFAR10_DIR_ENV_VAR"]

#: Environment variable naming the ``cifar-10-batches-py`` folder for :func:`get_CIFAR10_data`.
CIFAR10_DIR_ENV_VAR = "CS231N_CIFAR10_DIR"

_DEFAULT_DIR = os.path.join("cs231n", "datasets", "cifar-10-batches-py")
_ROW = 3 * 32 * 32
_LAYOUT = (
    "expected the 'cifar-10-batches-py' folder of the CIFAR-10 python version, holding data_batch_1 .. "
    "data_batch_5 and test_batch (download cifar-10-python.tar.gz from "
    "https://www.cs.toronto.edu/~kriz/cifar.html and extract it; the assignment's "
    "cs231n/datasets/get_datasets.sh does this)"
)


def load_pickle(f):
    """Unpickles the open binary file ``f``; Python 2 strings are decoded as latin1 (as cs231n does)."""
    return pickle.load(f, encoding="latin1")


def _entry(datadict, key, filename):
    for k in (key, key.encode("ascii")):
        if k in datadict:
            return datadict[k]
    raise ValueError(
        "%s: not a CIFAR-10 batch: no %r entry (keys found: %s)"
        % (filename, key, ", ".join(sorted(repr(k) for k in datadict)) or "none")
    )


def load_CIFAR_batch(filename):
    """ load single batch of cifar

    Inputs:
    - filename: Path of one batch file of the CIFAR-10 python version (data_batch_1, test_batch, ...):
      a pickled dict with "data", a uint8 array of shape (N, 3072) holding each image's red, green and
      blue 32x32 planes, and "labels", a list of N ints.

    Returns a tuple of:
    - X: float64 array of shape (N, 32, 32, 3), channels last, values 0..255.
    - Y: int64 array of shape (N,).

    Raises FileNotFoundError when the file is missing and ValueError when it is not a CIFAR-10 batch.
    """
    filename = os.fspath(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError("%s: no such CIFAR-10 batch file; %s" % (filename, _LAYOUT))
    with open(filename, "rb") as f:
        try:
            datadict = load_pickle(f)
        except Exception as exc:
            raise ValueError(
                "%s: not a CIFAR-10 batch: cannot unpickle it (%s: %s)" % (filename, type(exc).__name__, exc)
            ) from None
    if not isinstance(datadict, dict):
        raise ValueError("%s: not a CIFAR-10 batch: expected a pickled dict, got %s" % (filename, type(datadict).__name__))
    X = np.asarray(_entry(datadict, "data", filename))
    Y = np.asarray(_entry(datadict, "labels", filename))
    if X.ndim != 2 or X.shape[1] != _ROW or X.dtype.kind not in "biuf":
        raise ValueError(
            "%s: 'data' must be a numeric array of shape (N, %d), one 3x32x32 image per row, got %s of shape %s"
            % (filename, _ROW, X.dtype, X.shape)
        )
    if Y.ndim != 1 or Y.shape[0] != X.shape[0]:
        raise ValueError(
            "%s: 'labels' must hold one label per image (%d), got shape %s" % (filename, X.shape[0], Y.shape)
        )
    if Y.size and Y.dtype.kind not in "iu":
        raise ValueError("%s: 'labels' must be integers, got dtype %s" % (filename, Y.dtype))
    X = X.reshape(X.shape[0], 3, 32, 32).transpose(0, 2, 3, 1).astype("float")
    Y = Y.astype(np.int64)
    return X, Y


def load_CIFAR10(ROOT):
    """ load all of cifar

    Inputs:
    - ROOT: Path of the 'cifar-10-batches-py' folder.

    Returns a tuple of:
    - Xtr: float64 array of shape (50000, 32, 32, 3), data_batch_1 .. data_batch_5 in order.
    - Ytr: int64 array of shape (50000,).
    - Xte: float64 array of shape (10000, 32, 32, 3), test_batch.
    - Yte: int64 array of shape (10000,).

    Raises FileNotFoundError when ROOT or a batch is missing, ValueError for a malformed batch.
    """
    ROOT = os.fspath(ROOT)
    if not os.path.isdir(ROOT):
        raise FileNotFoundError("%s: no such CIFAR-10 folder; %s" % (ROOT, _LAYOUT))
    xs = []
    ys = []
    for b in range(1, 6):
        f = os.path.join(ROOT, "data_batch_%d" % (b,))
        X, Y = load_CIFAR_batch(f)
        xs.append(X)
        ys.append(Y)
    Xtr = np.concatenate(xs)
    Ytr = np.concatenate(ys)
    del X, Y
    Xte, Yte = load_CIFAR_batch(os.path.join(ROOT, "test_batch"))
    return Xtr, Ytr, Xte, Yte


def _default_cifar10_dir():
    """The folder get_CIFAR10_data reads when not given one; FileNotFoundError when it is missing."""
    env = os.environ.get(CIFAR10_DIR_ENV_VAR)
    cifar10_dir = env if env else _DEFAULT_DIR
    if os.path.isdir(cifar10_dir):
        return cifar10_dir
    if env:
        tried = "the environment variable %s=%r, which is not a folder" % (CIFAR10_DIR_ENV_VAR, env)
    else:
        tried = "the environment variable %s (not set), then the default %r under the current directory %r" % (
            CIFAR10_DIR_ENV_VAR, _DEFAULT_DIR, os.getcwd())
    raise FileNotFoundError(
        "CIFAR-10 not found: tried %s. Pass cifar10_dir=..., set %s, or run from the assignment folder "
        "(where %s exists); %s. For a small dataset that needs no download, use "
        "cs231n_rs.datasets.get_digits_data()." % (tried, CIFAR10_DIR_ENV_VAR, _DEFAULT_DIR, _LAYOUT)
    )


def _split(X_train, y_train, X_test, y_test, num_training, num_validation, num_test, subtract_mean):
    """Subsample, subtract the training mean, go channels first (shared with cs231n_rs.datasets)."""
    for name, n in (("num_training", num_training), ("num_validation", num_validation), ("num_test", num_test)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError("%s: expected a non-negative int, got %r" % (name, n))
    if num_training + num_validation > X_train.shape[0] or num_test > X_test.shape[0]:
        raise ValueError(
            "asked for %d training + %d validation images of %d and %d test images of %d"
            % (num_training, num_validation, X_train.shape[0], num_test, X_test.shape[0])
        )

    # Subsample the data
    mask = list(range(num_training, num_training + num_validation))
    X_val = X_train[mask]
    y_val = y_train[mask]
    mask = list(range(num_training))
    X_train = X_train[mask]
    y_train = y_train[mask]
    mask = list(range(num_test))
    X_test = X_test[mask]
    y_test = y_test[mask]

    # Normalize the data: subtract the mean image
    if subtract_mean and num_training > 0:
        mean_image = np.mean(X_train, axis=0)
        X_train -= mean_image
        X_val -= mean_image
        X_test -= mean_image

    # Transpose so that channels come first
    if X_train.ndim == 4:
        X_train = X_train.transpose(0, 3, 1, 2).copy()
        X_val = X_val.transpose(0, 3, 1, 2).copy()
        X_test = X_test.transpose(0, 3, 1, 2).copy()

    # Package data into a dictionary
    return {
        "X_train": X_train,
        "y_train": y_train,
        "X_val": X_val,
        "y_val": y_val,
        "X_test": X_test,
        "y_test": y_test,
    }


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True, cifar10_dir=None):
    """
    Load the CIFAR-10 dataset from disk and perform preprocessing to prepare
    it for classifiers. These are the same steps as we used for the SVM, but
    condensed to a single function.

    Inputs:
    - num_training: Training images: the first num_training of the training batches.
    - num_validation: Validation images: the next num_validation after those.
    - num_test: Test images: the first num_test of test_batch.
    - subtract_mean: Whether to subtract the mean training image from every split.
    - cifar10_dir: The 'cifar-10-batches-py' folder. Default: the environment variable
      CS231N_CIFAR10_DIR when set, else cs231n/datasets/cifar-10-batches-py under the current directory.

    Returns a dictionary with keys "X_train", "y_train", "X_val", "y_val", "X_test", "y_test": the
    images as float64 arrays of shape (N, 3, 32, 32) (channels first), the labels as int64 arrays (N,).

    Raises FileNotFoundError when the data is missing (naming the places tried) and ValueError for a
    malformed batch or more images asked for than there are.
    """
    if cifar10_dir is None:
        cifar10_dir = _default_cifar10_dir()
    # Load the raw CIFAR-10 data
    X_train, y_train, X_test, y_test = load_CIFAR10(cifar10_dir)
    return _split(X_train, y_train, X_test, y_test, num_training, num_validation, num_test, subtract_mean)
