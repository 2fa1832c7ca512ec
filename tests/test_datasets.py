"""cs231n_rs.datasets: the embedded digits dataset."""

import numpy as np
import pytest

import cs231n_rs.datasets as ds
from cs231n_rs.datasets import DIGITS_CLASSES, get_digits_data, get_digits_raw, load_digits

KEYS = ["X_test", "X_train", "X_val", "y_test", "y_train", "y_val"]
SPLIT = {"train": 1297, "val": 200, "test": 300}


def test_load_digits():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    np.testing.assert_array_equal(images, np.round(images))
    np.testing.assert_array_equal(np.unique(labels), np.arange(10))
    assert np.bincount(labels).min() > 150
    assert DIGITS_CLASSES == [str(i) for i in range(10)]


def test_load_digits_first_image():
    # first row of digits.csv.gz: a zero
    images, labels = load_digits()
    assert labels[0] == 0
    np.testing.assert_array_equal(images[0, 0], [0, 0, 5, 13, 9, 1, 0, 0])


def test_cache_cannot_be_corrupted():
    images, labels = load_digits()
    keep_images, keep_labels = images.copy(), labels.copy()
    images[:] = -1
    labels[:] = 99
    images2, labels2 = load_digits()
    np.testing.assert_array_equal(images2, keep_images)
    np.testing.assert_array_equal(labels2, keep_labels)
    Xtr, Ytr, Xte, Yte = get_digits_raw()
    Xtr[:] = -5
    Ytr[:] = 7
    d = get_digits_data()
    d["X_train"][:] = 0
    d["y_train"][:] = 0
    np.testing.assert_array_equal(load_digits()[0], keep_images)
    np.testing.assert_array_equal(load_digits()[1], keep_labels)
    assert get_digits_raw()[0].max() == 255
    assert not ds._cache[0].flags.writeable and not ds._cache[1].flags.writeable


@pytest.mark.parametrize("size, shape", [("cifar", (3, 32, 32)), ("8x8", (64,))])
@pytest.mark.parametrize("subtract_mean", [True, False])
def test_get_digits_data_shapes(size, shape, subtract_mean):
    d = get_digits_data(size=size, subtract_mean=subtract_mean)
    assert sorted(d) == KEYS
    for split, n in SPLIT.items():
        X, y = d["X_" + split], d["y_" + split]
        assert X.shape == (n,) + shape and X.dtype == np.float64 and X.flags.c_contiguous
        assert y.shape == (n,) and y.dtype == np.int64
        np.testing.assert_array_equal(np.unique(y), np.arange(10))
    if subtract_mean:
        np.testing.assert_allclose(d["X_train"].mean(axis=0), 0, atol=1e-9)
    else:
        for split in SPLIT:
            X = d["X_" + split]
            assert X.min() == 0 and X.max() == 255
            np.testing.assert_array_equal(X % (255 / 16), 0)  # multiples of 255/16


def test_subtract_mean_is_the_training_mean():
    raw = get_digits_data(subtract_mean=False)
    d = get_digits_data()
    mean = raw["X_train"].mean(axis=0)
    for split in SPLIT:
        np.testing.assert_allclose(d["X_" + split], raw["X_" + split] - mean, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(d["y_" + split], raw["y_" + split])


def test_splits_are_disjoint_and_cover_the_data():
    images, labels = load_digits()
    d = get_digits_data(size="8x8", subtract_mean=False)
    flat = images.reshape(1797, 64) * 255 / 16
    # identify each returned row with its source index (rows can repeat, so match row+label sets)
    X = np.concatenate([d["X_train"], d["X_val"], d["X_test"]])
    y = np.concatenate([d["y_train"], d["y_val"], d["y_test"]])
    got = sorted(map(tuple, np.column_stack([X, y])))
    expect = sorted(map(tuple, np.column_stack([flat, labels])))
    assert got == expect


def test_deterministic_and_global_rng_untouched():
    np.random.seed(123)
    state = np.random.get_state()
    a = get_digits_data()
    b = get_digits_data()
    raw = get_digits_raw()
    after = np.random.get_state()
    assert state[0] == after[0] and state[2:] == after[2:]
    np.testing.assert_array_equal(state[1], after[1])
    for k in KEYS:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(raw[0], get_digits_raw()[0])


def test_seed_changes_the_split():
    a = get_digits_data(size="8x8", seed=0)
    b = get_digits_data(size="8x8", seed=1)
    assert not np.array_equal(a["y_train"], b["y_train"])


def test_cifar_upsampling_and_channels():
    images, labels = load_digits()
    Xtr, Ytr, Xte, Yte = get_digits_raw(size="cifar")
    X8tr, Y8tr, X8te, Y8te = get_digits_raw(size="8x8")
    assert Xtr.shape == (1497, 32, 32, 3) and Xte.shape == (300, 32, 32, 3)
    assert X8tr.shape == (1497, 8, 8) and X8te.shape == (300, 8, 8)
    np.testing.assert_array_equal(Ytr, Y8tr)
    np.testing.assert_array_equal(Yte, Y8te)
    for X, X8 in ((Xtr, X8tr), (Xte, X8te)):
        for c in (1, 2):
            np.testing.assert_array_equal(X[..., c], X[..., 0])
        blocks = X[..., 0].reshape(-1, 8, 4, 8, 4)  # (n, block row, 4, block col, 4)
        np.testing.assert_array_equal(blocks, np.broadcast_to(X8[:, :, None, :, None], blocks.shape))
    # the 8x8 images are the source images scaled by 255/16, in a fixed permutation
    order = np.random.RandomState(0).permutation(1797)
    np.testing.assert_array_equal(np.concatenate([X8tr, X8te]), images[order] * 255 / 16)
    np.testing.assert_array_equal(np.concatenate([Ytr, Yte]), labels[order])


def test_data_matches_raw_layout():
    Xtr, Ytr, Xte, Yte = get_digits_raw()
    d = get_digits_data(subtract_mean=False)
    np.testing.assert_array_equal(d["X_train"], Xtr[:1297].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(d["X_val"], Xtr[1297:].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(d["X_test"], Xte.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(d["y_val"], Ytr[1297:])
    for split in SPLIT:
        X = d["X_" + split]
        np.testing.assert_array_equal(X[:, 1], X[:, 0])
        np.testing.assert_array_equal(X[:, 2], X[:, 0])


def test_smaller_splits_are_prefixes():
    full = get_digits_data(size="8x8", subtract_mean=False)
    d = get_digits_data(size="8x8", num_training=100, num_validation=20, num_test=30, subtract_mean=False)
    for split, n in (("train", 100), ("val", 20), ("test", 30)):
        np.testing.assert_array_equal(d["X_" + split], full["X_" + split][:n])
        np.testing.assert_array_equal(d["y_" + split], full["y_" + split][:n])
    d = get_digits_data(size="8x8", num_training=100, num_validation=20, num_test=30)
    np.testing.assert_allclose(d["X_train"].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(d["X_val"], full["X_val"][:20] - full["X_train"][:100].mean(axis=0), atol=1e-9)


@pytest.mark.parametrize("kwargs, match", [
    ({"size": "64x64"}, "size"),
    ({"num_training": 1298}, "num_training"),
    ({"num_validation": 201}, "num_validation"),
    ({"num_test": -1}, "num_test"),
    ({"num_test": 2.5}, "num_test"),
    ({"num_training": True}, "num_training"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        get_digits_data(**kwargs)


def test_bad_size_raw():
    with pytest.raises(ValueError, match="size"):
        get_digits_raw(size="32x32")
