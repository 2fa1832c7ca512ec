"""cs231n_rs.classifiers.LinearClassifier / LinearSVM / Softmax: SGD training, predict, save/load."""

import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import layouts
from cs231n_rs import reference as R
from cs231n_rs.classifiers import LinearClassifier, LinearSVM, Softmax, softmax_loss_vectorized

CLASSES = [(LinearSVM, R.LinearSVM), (Softmax, R.Softmax)]
CLASS_IDS = ["LinearSVM", "Softmax"]


def _toy(seed=0, N=120, D=15, C=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((N, D)) * 10).astype(dtype)
    y = rng.integers(0, C, N)
    y[0] = C - 1  # so that np.max(y) + 1 == C
    return X, y


def _states_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        if isinstance(u, np.ndarray):
            assert np.array_equal(u, v)
        else:
            assert u == v


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("classes", CLASSES, ids=CLASS_IDS)
@pytest.mark.parametrize("seed", [0, 231])
def test_train_reproduces_reference_rng_stream(np_seed, classes, dtype, seed):
    Ours, Ref = classes
    X, y = _toy(seed, dtype=dtype)
    np.random.seed(seed)
    ours = Ours()
    hist = ours.train(X, y, learning_rate=1e-3, reg=0.5, num_iters=50, batch_size=20)
    state_ours = np.random.get_state()
    np.random.seed(seed)
    ref = Ref()
    rhist = ref.train(X, y, learning_rate=1e-3, reg=0.5, num_iters=50, batch_size=20)
    state_ref = np.random.get_state()

    assert isinstance(hist, list) and len(hist) == 50
    np.testing.assert_allclose(np.array(hist, dtype=np.float64), np.array(rhist, dtype=np.float64), rtol=1e-10)
    assert ours.W.dtype == ref.W.dtype == np.float64
    assert ours.W.shape == ref.W.shape == (X.shape[1], 5)
    np.testing.assert_allclose(ours.W, ref.W, rtol=1e-10, atol=1e-15)
    _states_equal(state_ours, state_ref)
    # the loss values are numpy float64 scalars as the reference's
    assert all(isinstance(v, (float, np.floating)) for v in hist)
    # the loss went down (lr 1e-3 on scale-10 data)
    assert np.mean(hist[-10:]) < np.mean(hist[:10])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    N=st.integers(1, 90),
    D=st.integers(1, 40),
    C=st.integers(1, 12),
    batch_size=st.integers(1, 130),
    kind=st.sampled_from([0, 1]),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_train_matches_reference_random_shapes(np_seed, N, D, C, batch_size, kind, dtype, seed):
    Ours, Ref = CLASSES[kind]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(dtype)
    y = rng.integers(0, C, N)
    np.random.seed(seed)
    ours = Ours()
    hist = ours.train(X, y, learning_rate=1e-2, reg=0.1, num_iters=8, batch_size=batch_size)
    s1 = np.random.get_state()
    np.random.seed(seed)
    ref = Ref()
    rhist = ref.train(X, y, learning_rate=1e-2, reg=0.1, num_iters=8, batch_size=batch_size)
    _states_equal(s1, np.random.get_state())
    np.testing.assert_allclose(np.array(hist, np.float64), np.array(rhist, np.float64), rtol=1e-10, atol=1e-14)
    assert ours.W.shape == ref.W.shape and ours.W.dtype == ref.W.dtype
    np.testing.assert_allclose(ours.W, ref.W, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("classes", CLASSES, ids=CLASS_IDS)
def test_train_with_noncontiguous_and_int_inputs(np_seed, classes):
    Ours, Ref = classes
    X, y = _toy(3)
    Xf = np.asfortranarray(X)
    Xi = np.rint(X).astype(np.int64)
    for Xin, yin in [(Xf, y), (X[::-1][::-1], y.astype(np.int32)), (Xi, y)]:
        np.random.seed(7)
        ours = Ours()
        hist = ours.train(Xin, yin, learning_rate=1e-4, reg=1.0, num_iters=20, batch_size=10)
        np.random.seed(7)
        ref = Ref()
        rhist = ref.train(Xin, yin, learning_rate=1e-4, reg=1.0, num_iters=20, batch_size=10)
        np.testing.assert_allclose(hist, rhist, rtol=1e-10)
        np.testing.assert_allclose(ours.W, ref.W, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("classes", CLASSES, ids=CLASS_IDS)
def test_repeated_train_continues_from_current_W(np_seed, classes):
    Ours, Ref = classes
    X, y = _toy(1)
    np.random.seed(5)
    ours = Ours()
    ours.train(X, y, learning_rate=1e-3, reg=0.1, num_iters=10, batch_size=16)
    W1 = ours.W.copy()
    W1_obj = ours.W
    state = np.random.get_state()
    h2 = ours.train(X, y, learning_rate=1e-3, reg=0.1, num_iters=10, batch_size=16)
    # no re-initialisation: the second run started from W1 and drew only minibatches
    ref = Ref()
    ref.W = W1.copy()
    np.random.set_state(state)
    rh2 = ref.train(X, y, learning_rate=1e-3, reg=0.1, num_iters=10, batch_size=16)
    np.testing.assert_allclose(h2, rh2, rtol=1e-10)
    np.testing.assert_allclose(ours.W, ref.W, rtol=1e-10, atol=1e-15)
    assert not np.array_equal(ours.W, W1)
    # the update is in place (cs231n: self.W -= learning_rate * grad)
    assert ours.W is W1_obj


def test_preset_W_train_draws_only_minibatches(np_seed):
    X, y = _toy(2)
    c = Softmax()
    c.W = np.zeros((X.shape[1], 5))
    np.random.seed(11)
    c.train(X, y, num_iters=3, batch_size=4)
    after = np.random.get_state()
    np.random.seed(11)
    for _ in range(3):
        np.random.choice(X.shape[0], 4)
    _states_equal(after, np.random.get_state())


def test_float32_W_stays_float32_like_reference(np_seed):
    X, y = _toy(4, dtype=np.float32)
    W0 = (0.001 * np.random.default_rng(0).standard_normal((X.shape[1], 5))).astype(np.float32)
    ours, ref = Softmax(), R.Softmax()
    ours.W, ref.W = W0.copy(), W0.copy()
    np.random.seed(3)
    h = ours.train(X, y, learning_rate=1e-4, reg=0.1, num_iters=15, batch_size=8)
    np.random.seed(3)
    rh = ref.train(X, y, learning_rate=1e-4, reg=0.1, num_iters=15, batch_size=8)
    assert ours.W.dtype == ref.W.dtype == np.float32
    np.testing.assert_allclose(h, rh, rtol=1e-4)
    np.testing.assert_allclose(ours.W, ref.W, rtol=1e-4, atol=1e-6)


def test_user_subclass_loss_is_called_with_minibatch(np_seed):
    calls = []

    class MySoftmax(LinearClassifier):
        def loss(self, X_batch, y_batch, reg):
            calls.append((X_batch.shape, y_batch.shape, reg, X_batch.copy(), y_batch.copy()))
            return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)

    X, y = _toy(5)
    np.random.seed(9)
    mine = MySoftmax()
    hist = mine.train(X, y, learning_rate=1e-3, reg=0.2, num_iters=12, batch_size=7)
    assert len(calls) == 12
    for shape, yshape, reg, _, _ in calls:
        assert shape == (7, X.shape[1])
        assert yshape == (7,)
        assert reg == 0.2
    # the batches are X[idx], y[idx] for cs231n's idx draws
    np.random.seed(9)
    np.random.randn(X.shape[1], 5)
    for _, _, _, xb, yb in calls:
        idx = np.random.choice(X.shape[0], 7)
        np.testing.assert_array_equal(xb, X[idx])
        np.testing.assert_array_equal(yb, y[idx])
    # and it trains to the same result as the built-in Softmax
    np.random.seed(9)
    builtin = Softmax()
    bh = builtin.train(X, y, learning_rate=1e-3, reg=0.2, num_iters=12, batch_size=7)
    np.testing.assert_allclose(hist, bh, rtol=1e-12)
    np.testing.assert_allclose(mine.W, builtin.W, rtol=1e-12, atol=1e-16)


def test_subclass_of_softmax_overriding_loss_is_called(np_seed):
    seen = []

    class Counting(Softmax):
        def loss(self, X_batch, y_batch, reg):
            seen.append(X_batch.shape)
            return super().loss(X_batch, y_batch, reg)

    X, y = _toy(6)
    np.random.seed(0)
    Counting().train(X, y, num_iters=4, batch_size=5)
    assert seen == [(5, X.shape[1])] * 4


def test_base_class_loss_returns_none():
    assert LinearClassifier().loss(np.zeros((2, 3)), np.zeros(2, dtype=int), 0.0) is None
    assert LinearClassifier().W is None


def test_verbose_prints_every_100_iterations(np_seed, capsys):
    X, y = _toy(7)
    np.random.seed(1)
    Softmax().train(X, y, learning_rate=1e-4, reg=0.1, num_iters=250, batch_size=10, verbose=True)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 3
    for line, it in zip(lines, (0, 100, 200)):
        assert re.fullmatch(r"iteration %d / 250: loss \d+\.\d{6}" % it, line), line
    np.random.seed(1)
    R.Softmax().train(X, y, learning_rate=1e-4, reg=0.1, num_iters=250, batch_size=10, verbose=True)
    assert capsys.readouterr().out == out
    # not verbose: silent
    Softmax().train(X, y, num_iters=150, batch_size=10)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------------------------
# predict
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LinearSVM, Softmax, LinearClassifier])
def test_predict_is_argmax(cls):
    rng = np.random.default_rng(8)
    c = cls()
    c.W = rng.standard_normal((20, 7))
    X = rng.standard_normal((333, 20))
    p = c.predict(X)
    assert p.dtype == np.int64
    assert p.shape == (333,)
    np.testing.assert_array_equal(p, np.argmax(X.dot(c.W), axis=1))
    # float32 and int inputs
    np.testing.assert_array_equal(c.predict(X.astype(np.float32)), np.argmax(X.astype(np.float32).dot(c.W), axis=1))
    Xi = rng.integers(-5, 6, (40, 20))
    np.testing.assert_array_equal(c.predict(Xi), np.argmax(Xi.dot(c.W), axis=1))
    # layouts
    np.testing.assert_array_equal(c.predict(np.asfortranarray(X)), p)
    np.testing.assert_array_equal(c.predict(X[::-1])[::-1], p)


def test_predict_ties_go_to_first_max():
    c = Softmax()
    # identical columns 1 and 3 -> equal scores; exact integer arithmetic
    c.W = np.array([[0.0, 2.0, 1.0, 2.0], [0.0, 1.0, 1.0, 1.0]])
    X = np.array([[1.0, 1.0], [0.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    expected = np.argmax(X.dot(c.W), axis=1)
    np.testing.assert_array_equal(expected, [1, 0, 0, 1])
    np.testing.assert_array_equal(c.predict(X), expected)


def test_predict_nan_picks_first_nan_like_argmax():
    c = LinearSVM()
    W = np.array([[1.0, 5.0, np.inf, 0.0], [0.0, 1.0, 1.0, 1.0]])
    c.W = W
    X = np.array(
        [
            [0.0, 1.0],  # column 2: 0 * inf = NaN
            [1.0, 1.0],  # column 2: inf
            [np.nan, 1.0],  # all NaN
            [-1.0, 0.0],  # column 2: -inf, column 0: -1, column 1: -5, column 3: 0
        ]
    )
    with np.errstate(invalid="ignore"):
        expected = np.argmax(X.dot(W), axis=1)
    np.testing.assert_array_equal(expected, [2, 2, 0, 3])
    np.testing.assert_array_equal(c.predict(X), expected)
    c.W = np.array([[1.0, np.nan, 3.0, np.nan]])
    np.testing.assert_array_equal(c.predict(np.array([[1.0], [-2.0]])), [1, 1])


def test_predict_errors():
    c = Softmax()
    c.W = np.zeros((3, 2))
    with pytest.raises(ValueError, match="X"):
        c.predict(np.zeros((4, 5)))
    with pytest.raises(ValueError):
        c.predict(np.zeros(3))
    with pytest.raises(TypeError):
        c.predict(np.zeros((4, 3), dtype=complex))
    assert c.predict(np.zeros((0, 3))).shape == (0,)


def test_star_import():
    ns = {}
    exec("from cs231n_rs.classifiers import *", ns)
    for name in [
        "KNearestNeighbor",
        "LinearClassifier",
        "LinearSVM",
        "Softmax",
        "svm_loss_naive",
        "svm_loss_vectorized",
        "softmax_loss_naive",
        "softmax_loss_vectorized",
    ]:
        assert name in ns, name
    import cs231n_rs.classifiers as C

    assert ns["Softmax"] is C.Softmax and ns["svm_loss_naive"] is C.linear_svm.svm_loss_naive
    # cs231n's module layout
    from cs231n_rs.classifiers.k_nearest_neighbor import KNearestNeighbor
    from cs231n_rs.classifiers.linear_classifier import LinearSVM as L2, Softmax as S2

    assert KNearestNeighbor is ns["KNearestNeighbor"] and L2 is ns["LinearSVM"] and S2 is ns["Softmax"]


# ---------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------


def test_save_and_load(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    c = Softmax()
    c.W = np.random.default_rng(0).standard_normal((6, 3))
    c.save("model.npy")
    assert capsys.readouterr().out == "model.npy saved.\n"
    assert (tmp_path / "model.npy").is_file()
    assert sorted(os.listdir(tmp_path)) == ["model.npy"]
    d = np.load(tmp_path / "model.npy", allow_pickle=True).item()
    np.testing.assert_array_equal(d["W"], c.W)

    fresh = Softmax()
    assert fresh.load("model.npy") is True
    assert capsys.readouterr().out == "model.npy loaded.\n"
    np.testing.assert_array_equal(fresh.W, c.W)
    assert fresh.W.dtype == c.W.dtype
    np.testing.assert_array_equal(fresh.predict(np.ones((2, 6))), c.predict(np.ones((2, 6))))

    other = LinearSVM()
    assert other.load("missing.npy") is False
    out = capsys.readouterr().out
    assert "not available." in out and "missing.npy" in out
    assert other.W is None


def test_save_relative_subdirectory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "saved").mkdir()
    c = LinearSVM()
    c.W = np.arange(6.0).reshape(3, 2)
    c.save(os.path.join("saved", "svm.npy"))
    capsys.readouterr()
    assert (tmp_path / "saved" / "svm.npy").is_file()
    d = LinearSVM()
    assert d.load(os.path.join("saved", "svm.npy"))
    np.testing.assert_array_equal(d.W, c.W)


# ---------------------------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LinearSVM, Softmax])
def test_separable_toy_problem(np_seed, cls):
    rng = np.random.default_rng(12)
    C, D = 4, 6
    centers = rng.standard_normal((C, D)) * 6
    y = rng.integers(0, C, 400)
    y[:C] = np.arange(C)
    X = centers[y] + rng.standard_normal((400, D))
    X = np.hstack([X, np.ones((400, 1))])  # bias trick
    np.random.seed(0)
    clf = cls()
    hist = clf.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=50)
    assert np.mean(clf.predict(X) == y) > 0.9
    assert hist[-1] < hist[0]
    y_test = rng.integers(0, C, 100)
    X_test = np.hstack([centers[y_test] + rng.standard_normal((100, D)), np.ones((100, 1))])
    assert np.mean(clf.predict(X_test) == y_test) > 0.9


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatch_gather_equals_fancy_indexing(dtype):
    """The Rust gather behind a custom ``loss`` subclass's minibatches is ``X[idx]`` in any layout."""
    from cs231n_rs.classifiers.linear_classifier import _gather

    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 13)).astype(dtype)
    idx = np.concatenate([rng.integers(0, 40, 300), [-1, -40, 0, 39]])
    for name, view in layouts(X):
        out = _gather(view, idx)
        assert out.dtype == dtype and out.shape == (idx.size, 13), name
        np.testing.assert_array_equal(out, X[idx], err_msg=name)
    with pytest.raises(ValueError, match="idx"):
        _gather(X, np.array([40]))
    with pytest.raises(ValueError, match="idx"):
        _gather(X, np.array([-41]))
    assert _gather(X, np.array([], dtype=np.int64)).shape == (0, 13)
