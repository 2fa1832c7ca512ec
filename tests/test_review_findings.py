"""Regression tests for the contract breaks found in review (each failed before its fix)."""

import numpy as np
import pytest

import cs231n_rs
from cs231n_rs import reference as R
from cs231n_rs.classifiers import KNearestNeighbor, LinearSVM
from cs231n_rs.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from cs231n_rs.classifiers.softmax import softmax_loss_vectorized


def _packed_field(values, other=("id", "i4")):
    """``values`` as a field of a packed structured array: byte strides not a multiple of 8."""
    rec = np.zeros(values.shape[0], [other, ("v", values.dtype, values.shape[1:])])
    rec["v"] = values
    view = rec["v"]
    assert any(st % view.itemsize for st in view.strides)
    return view


def test_byte_strides_not_multiple_of_itemsize():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 3))
    X = rng.standard_normal((6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    Xp = _packed_field(X)
    for ours, ref in [(svm_loss_vectorized, R.svm_loss_vectorized), (softmax_loss_vectorized, R.softmax_loss_vectorized)]:
        loss, dW = ours(W, Xp, y, 0.1)
        rloss, rdW = ref(W, X, y, 0.1)
        np.testing.assert_allclose(loss, rloss, rtol=1e-12)
        np.testing.assert_allclose(dW, rdW, rtol=1e-12)
    rec = np.zeros(6, [("x", "f4"), ("label", "i8")])
    rec["label"] = y
    loss, _ = svm_loss_vectorized(W, X, rec["label"], 0.1)
    np.testing.assert_allclose(loss, R.svm_loss_vectorized(W, X, y, 0.1)[0], rtol=1e-12)
    knn = KNearestNeighbor()
    knn.train(_packed_field(X), rec["label"])
    np.testing.assert_allclose(knn.compute_distances_no_loops(Xp), R.compute_distances(X, X), rtol=1e-10, atol=1e-7)
    np.testing.assert_array_equal(knn.predict(X, k=1), y.astype(np.float64))


def test_unaligned_buffer():
    X = np.arange(12.0).reshape(3, 4)
    buf = bytearray(X.nbytes + 1)
    Xu = np.ndarray(X.shape, dtype=np.float64, buffer=buf, offset=1)
    Xu[...] = X
    assert not Xu.flags.aligned
    W = np.ones((4, 2)) * 0.1
    np.testing.assert_allclose(svm_loss_vectorized(W, Xu, [0, 1, 0], 0.0)[0], R.svm_loss_vectorized(W, X, np.array([0, 1, 0]), 0.0)[0], rtol=1e-12)


@pytest.mark.parametrize("C", [3, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_features_from_column_slices(C, dtype):
    X = np.zeros((100, 3), dtype)[:, :0]
    W = np.zeros((0, C), dtype)
    y = np.arange(100) % C
    for ours, ref in [(svm_loss_vectorized, R.svm_loss_vectorized), (softmax_loss_vectorized, R.softmax_loss_vectorized)]:
        loss, dW = ours(W, X, y, 0.1)
        rloss, _ = ref(W, np.zeros((100, 0), dtype), y, 0.1)
        np.testing.assert_allclose(loss, rloss, rtol=1e-6)
        assert dW.shape == (0, C)
    clf = LinearSVM()
    clf.W = W
    np.testing.assert_array_equal(clf.predict(X), np.zeros(100, np.int64))
    knn = KNearestNeighbor()
    knn.train(np.zeros((7, 5), dtype)[:, :0], np.arange(7))
    np.testing.assert_array_equal(knn.compute_distances_no_loops(X), np.zeros((100, 7)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N", [2, 300])
@pytest.mark.parametrize("C", [3, 10, 40])
def test_svm_naive_handles_nan_as_the_loop(dtype, N, C):
    rng = np.random.default_rng(N + C)
    W = (rng.standard_normal((20, C)) * 0.1).astype(dtype)
    X = rng.standard_normal((N, 20)).astype(dtype)
    X[1, 3] = np.nan
    y = rng.integers(0, C, N)
    loss, dW = svm_loss_naive(W, X, y, 0.5)
    rloss, rdW = R.svm_loss_naive(W, X, y, 0.5)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(loss, rloss, rtol=rtol)
    np.testing.assert_allclose(dW, rdW, rtol=rtol, atol=rtol)
    assert np.isnan(svm_loss_vectorized(W, X, y, 0.5)[0])


def test_instance_level_loss_override_is_used_by_train():
    calls = []
    clf = LinearSVM()

    def my_loss(X_batch, y_batch, reg):
        calls.append(X_batch.shape)
        return 0.0, np.zeros_like(clf.W)

    clf.loss = my_loss
    X = np.random.default_rng(0).standard_normal((30, 5))
    clf.train(X, np.arange(30) % 3, num_iters=4, batch_size=7)
    assert calls == [(7, 5)] * 4


@pytest.mark.parametrize("n", [0, -1, 1025, 2**40, 2**64])
def test_thread_counts_out_of_range(n, restore_threads):
    with pytest.raises(ValueError, match="n:"):
        cs231n_rs.set_num_threads(n)


def test_label_errors_name_y_train():
    knn = KNearestNeighbor()
    knn.train(np.zeros((3, 2)), np.array([0, -1, 2]))
    with pytest.raises(ValueError, match="y_train"):
        knn.predict_labels(np.zeros((1, 3)), k=1)
