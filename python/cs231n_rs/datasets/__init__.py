"""A small embedded dataset that needs no download: 1797 hand-written digits, 8x8 pixels, 10 classes.

:func:`get_digits_data` returns it in the form of :func:`cs231n_rs.data_utils.get_CIFAR10_data` (a
dict of train / val / test splits, images (N, 3, 32, 32) channels first), and :func:`get_digits_raw`
in the form of :func:`cs231n_rs.data_utils.load_CIFAR10` (images (N, 32, 32, 3)), so the assignment
pipelines run unchanged on it. Each 8x8 image is upsampled 4x by pixel repetition to 32x32, its
values 0..16 scaled to 0..255, and copied to 3 identical channels; ``size="8x8"`` keeps the 64 pixels.

The split is fixed: a permutation drawn from ``np.random.RandomState(seed)`` (NumPy's global random
state is never touched) gives 1297 training, 200 validation and 300 test images.

Attribution: the data is the UCI ML hand-written digits dataset (Optical Recognition of Handwritten
Digits, E. Alpaydin and C. Kaynak, UCI Machine Learning Repository), in the copy distributed with
scikit-learn (``sklearn/datasets/data/digits.csv.gz``, BSD-3-Clause). scikit-learn is not needed.
"""

import gzip
from importlib import resources

import numpy as np

from ..data_utils import _split

__all__ = ["DIGITS_CLASSES", "load_digits", "get_digits_raw", "get_digits_data"]

#: Class names, indexed by label.
DIGITS_CLASSES = [str(i) for i in range(10)]

_NUM_IMAGES = 1797
_NUM_TRAIN, _NUM_VAL, _NUM_TEST = 1297, 200, 300
_SIZES = ("cifar", "8x8")
_cache = None  # (images, labels), read-only


def load_digits():
    """
    Load the embedded digits dataset (parsed once, then cached).

    Returns a tuple of:
    - images: float64 array of shape (1797, 8, 8), values 0..16.
    - labels: int64 array of shape (1797,), values 0..9.

    The arrays are fresh copies: changing them does not change later results.
    """
    global _cache
    if _cache is None:
        text = gzip.decompress(resources.files(__name__).joinpath("digits.csv.gz").read_bytes())
        data = np.loadtxt(text.decode("ascii").splitlines(), delimiter=",", dtype=np.float64)
        if data.shape != (_NUM_IMAGES, 65):
            raise RuntimeError("digits.csv.gz: expected %d rows of 65 values, got shape %s (corrupt install?)"
                               % (_NUM_IMAGES, data.shape))
        images = np.ascontiguousarray(data[:, :64]).reshape(-1, 8, 8)
        labels = data[:, 64].astype(np.int64)
        images.setflags(write=False)
        labels.setflags(write=False)
        _cache = (images, labels)
    return _cache[0].copy(), _cache[1].copy()


def get_digits_raw(size="cifar", seed=0):
    """
    The digits in the raw layout of load_CIFAR10, for pipelines that split and flatten themselves
    (kNN, SVM, softmax notebooks). No mean is subtracted.

    Inputs:
    - size: "cifar" for images of shape (32, 32, 3) (each pixel repeated 4x4, the 3 channels equal),
      "8x8" for the original (8, 8) images.
    - seed: Seed of the fixed permutation that defines the split.

    Returns a tuple of:
    - Xtr: float64 array of shape (1497, 32, 32, 3) (or (1497, 8, 8)), values 0..255: the 1297
      training images then the 200 validation images, so that slicing it as get_CIFAR10_data does
      (train = Xtr[:1297], val = Xtr[1297:1497]) gives the fixed split.
    - Ytr: int64 array of shape (1497,).
    - Xte: float64 array of shape (300, 32, 32, 3) (or (300, 8, 8)), the test images.
    - Yte: int64 array of shape (300,).
    """
    if size not in _SIZES:
        raise ValueError("size: expected one of %s, got %r" % (", ".join(repr(s) for s in _SIZES), size))
    images, labels = _cache_or_load()
    order = np.random.RandomState(seed).permutation(_NUM_IMAGES)
    X = images[order] * (255.0 / 16.0)
    y = labels[order]
    if size == "cifar":
        X = X.repeat(4, axis=1).repeat(4, axis=2)  # (N, 32, 32): each pixel becomes a 4x4 block
        X = np.repeat(X[:, :, :, None], 3, axis=3)  # (N, 32, 32, 3)
    n_tv = _NUM_TRAIN + _NUM_VAL
    return X[:n_tv], y[:n_tv], X[n_tv:], y[n_tv:]


def get_digits_data(size="cifar", num_training=None, num_validation=None, num_test=None, subtract_mean=True, seed=0):
    """
    The digits split and preprocessed like get_CIFAR10_data.

    Inputs:
    - size: "cifar" for images of shape (3, 32, 32), "8x8" for flat rows of 64 pixels.
    - num_training: Training images, at most 1297 (default 1297): the first of the training split.
    - num_validation: Validation images, at most 200 (default 200): the first of the validation split.
    - num_test: Test images, at most 300 (default 300): the first of the test split.
    - subtract_mean: Whether to subtract the mean training image from every split.
    - seed: Seed of the fixed permutation that defines the split.

    Returns a dictionary with keys "X_train", "y_train", "X_val", "y_val", "X_test", "y_test": the
    images as float64 arrays of shape (N, 3, 32, 32) or (N, 64), pixel values 0..255 before the mean
    is subtracted, the labels as int64 arrays of shape (N,). The three splits never share an image,
    and a smaller num_* takes a prefix of the same split.
    """
    sizes = []
    for name, n, most in (("num_training", num_training, _NUM_TRAIN), ("num_validation", num_validation, _NUM_VAL),
                          ("num_test", num_test, _NUM_TEST)):
        n = most if n is None else n
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= most:
            raise ValueError("%s: expected an int from 0 to %d, got %r" % (name, most, n))
        sizes.append(int(n))
    num_training, num_validation, num_test = sizes
    Xtr, Ytr, Xte, Yte = get_digits_raw(size, seed)
    if size == "8x8":
        Xtr, Xte = Xtr.reshape(Xtr.shape[0], -1), Xte.reshape(Xte.shape[0], -1)
    keep = np.r_[0:num_training, _NUM_TRAIN:_NUM_TRAIN + num_validation]
    return _split(Xtr[keep], Ytr[keep], Xte, Yte, num_training, num_validation, num_test, subtract_mean)


def _cache_or_load():
    """The cached read-only (images, labels), without the copies load_digits makes."""
    if _cache is None:
        load_digits()
    return _cache
