"""SVM and softmax losses of cs231n_rs.classifiers against the NumPy reference."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cs231n_rs
from cs231n_rs import reference as R
from cs231n_rs.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from cs231n_rs.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from conftest import assert_not_mutated, layouts, rel_error

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OURS = {
    "svm_naive": svm_loss_naive,
    "svm_vectorized": svm_loss_vectorized,
    "softmax_naive": softmax_loss_naive,
    "softmax_vectorized": softmax_loss_vectorized,
}
REF = {
    "svm_naive": R.svm_loss_naive,
    "svm_vectorized": R.svm_loss_vectorized,
    "softmax_naive": R.softmax_loss_naive,
    "softmax_vectorized": R.softmax_loss_vectorized,
}
NAMES = sorted(OURS)
KIND = {name: name.split("_")[0] for name in NAMES}


def _data(seed, N, D, C, dtype=np.float64, mode="normal", scale=1.0):
    rng = np.random.default_rng(seed)
    if mode == "normal":
        W = rng.standard_normal((D, C)) * 0.1 * scale
        X = rng.standard_normal((N, D)) * scale
    elif mode == "exact":
        # small dyadic values: every product and sum is exact, so there are no rounding ties at kinks
        W = rng.integers(-4, 5, (D, C)) * 0.25
        X = rng.integers(-3, 4, (N, D)).astype(np.float64)
    else:  # "sparse": many exact zeros
        W = rng.standard_normal((D, C)) * 0.1 * scale
        X = rng.standard_normal((N, D)) * scale * (rng.random((N, D)) < 0.3)
    y = rng.integers(0, C, N)
    return W.astype(dtype), X.astype(dtype), y


def _grad_atol(W, X, reg, C, dtype):
    """Floor for dW entries that cancel: a few ulps of the largest term X[i, d] * dS[i, c]."""
    eps = np.finfo(dtype).eps
    big = float(np.max(np.abs(X), initial=0.0)) * max(C, 1) + 2 * reg * float(np.max(np.abs(W), initial=0.0))
    return 64 * eps * big + 1e-300


@st.composite
def problems(draw):
    N = draw(st.integers(1, 70))
    D = draw(st.integers(1, 50))
    C = draw(st.integers(1, 12))
    reg = draw(st.one_of(st.just(0.0), st.floats(0.0, 10.0)))
    mode = draw(st.sampled_from(["normal", "exact", "sparse"]))
    scale = draw(st.sampled_from([1.0, 1e-2, 10.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    return N, D, C, reg, mode, scale, seed


@SETTINGS
@given(problems())
def test_losses_match_reference_float64(p):
    N, D, C, reg, mode, scale, seed = p
    W, X, y = _data(seed, N, D, C, np.float64, mode, scale)
    for name in NAMES:
        loss, dW = OURS[name](W, X, y, reg)
        rloss, rdW = REF[name](W, X, y, reg)
        assert type(loss) is np.float64, (name, type(loss))
        assert dW.shape == W.shape and dW.dtype == np.float64, name
        np.testing.assert_allclose(loss, rloss, rtol=1e-10, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(dW, rdW, rtol=1e-10, atol=_grad_atol(W, X, reg, C, np.float64), err_msg=name)


@SETTINGS
@given(problems())
def test_losses_match_reference_float32(p):
    N, D, C, reg, mode, scale, seed = p
    W, X, y = _data(seed, N, D, C, np.float32, mode, scale)
    for name in NAMES:
        loss, dW = OURS[name](W, X, y, reg)
        assert type(loss) is np.float32, (name, type(loss))
        assert dW.shape == W.shape and dW.dtype == np.float32, name
        rloss, rdW = REF[name](W, X, y, reg)
        if name.endswith("vectorized"):
            assert np.asarray(rdW).dtype == np.float32
        np.testing.assert_allclose(loss, rloss, rtol=1e-4, atol=1e-6, err_msg=name)
        atol = 1e-6 * max(1.0, float(np.max(np.abs(X), initial=0.0)) * C) + 1e-6 * reg * float(np.max(np.abs(W)))
        np.testing.assert_allclose(dW, rdW, rtol=1e-4, atol=atol, err_msg=name)


@SETTINGS
@given(problems())
def test_reference_naive_and_vectorized_agree(p):
    N, D, C, reg, mode, scale, seed = p
    W, X, y = _data(seed, N, D, C, np.float64, mode, scale)
    for kind, naive, vec in (("svm", R.svm_loss_naive, R.svm_loss_vectorized), ("softmax", R.softmax_loss_naive, R.softmax_loss_vectorized)):
        l1, g1 = naive(W, X, y, reg)
        l2, g2 = vec(W, X, y, reg)
        np.testing.assert_allclose(l1, l2, rtol=1e-10, atol=1e-14, err_msg=kind)
        np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=_grad_atol(W, X, reg, C, np.float64), err_msg=kind)


def test_ours_naive_equals_vectorized_exactly():
    W, X, y = _data(0, 100, 30, 7)
    for kind in ("svm", "softmax"):
        l1, g1 = OURS[kind + "_naive"](W, X, y, 0.3)
        l2, g2 = OURS[kind + "_vectorized"](W, X, y, 0.3)
        assert l1 == l2
        assert np.array_equal(g1, g2)


def test_known_values():
    # two samples, two classes, hand computed
    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    X = np.array([[2.0, 0.5], [0.0, 1.0]])
    y = np.array([1, 0])
    # scores: [2, 0.5] (y=1): margin 2 - 0.5 + 1 = 2.5; [0, 1] (y=0): margin 1 - 0 + 1 = 2
    loss, dW = svm_loss_vectorized(W, X, y, 0.0)
    assert loss == pytest.approx(2.25, rel=1e-15)
    # dW[:, j] += X[i], dW[:, y_i] -= X[i], / N
    expected = np.array([[2.0 - 0.0, -2.0 + 0.0], [0.5 - 1.0, -0.5 + 1.0]]) / 2
    np.testing.assert_allclose(dW, expected, rtol=1e-15)
    loss, _ = svm_loss_vectorized(W, X, y, 0.5)
    assert loss == pytest.approx(2.25 + 0.5 * 2.0, rel=1e-15)
    # softmax
    s = X @ W
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    want = -np.mean(np.log(p[[0, 1], y]))
    loss, _ = softmax_loss_vectorized(W, X, y, 0.0)
    assert loss == pytest.approx(want, rel=1e-14)


def test_small_call_sanity():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 3))
    X = rng.standard_normal((2, 4))
    y = np.array([2, 0])
    for name in NAMES:
        loss, dW = OURS[name](W, X, y, 0.1)
        rloss, rdW = REF[name](W, X, y, 0.1)
        assert dW.shape == (4, 3)
        assert np.isfinite(loss)
        np.testing.assert_allclose(loss, rloss, rtol=1e-12)
        np.testing.assert_allclose(dW, rdW, rtol=1e-12, atol=1e-15)
        # reg accepts ints and numpy scalars
        np.testing.assert_allclose(OURS[name](W, X, y, 1)[0], REF[name](W, X, y, 1.0)[0], rtol=1e-12)
        np.testing.assert_allclose(OURS[name](W, X, y, np.float32(0.5))[0], REF[name](W, X, y, 0.5)[0], rtol=1e-12)


def test_single_class_and_single_sample():
    W = np.array([[0.5], [-1.0]])
    X = np.array([[1.0, 2.0]])
    y = np.array([0])
    l, g = svm_loss_vectorized(W, X, y, 0.0)
    assert l == 0.0
    np.testing.assert_array_equal(g, np.zeros((2, 1)))
    l, g = softmax_loss_vectorized(W, X, y, 0.0)
    assert l == 0.0
    np.testing.assert_array_equal(g, np.zeros((2, 1)))


# ---------------------------------------------------------------------------------------------
# Layouts and dtypes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_layouts_identical(name, dtype):
    W, X, y = _data(3, 45, 13, 6, dtype)
    f = OURS[name]
    base_loss, base_dW = f(W, X, y, 0.7)
    for wn, Wv in layouts(W):
        loss, dW = f(Wv, X, y, 0.7)
        assert loss == base_loss, wn
        assert np.array_equal(dW, base_dW), wn
        assert dW.flags.c_contiguous or dW.flags.f_contiguous
    for xn, Xv in layouts(X):
        loss, dW = f(W, Xv, y, 0.7)
        assert loss == base_loss, xn
        assert np.array_equal(dW, base_dW), xn
    for (wn, Wv), (xn, Xv) in zip(layouts(W), layouts(X)):
        loss, dW = f(Wv, Xv, y[::-1][::-1], 0.7)
        assert loss == base_loss, (wn, xn)
        assert np.array_equal(dW, base_dW), (wn, xn)
    # a strided y
    ybig = np.zeros(2 * len(y), dtype=np.int64)
    ybig[::2] = y
    loss, dW = f(W, X, ybig[::2], 0.7)
    assert loss == base_loss and np.array_equal(dW, base_dW)


@pytest.mark.parametrize("name", NAMES)
def test_mixed_dtypes(name):
    W, X, y = _data(4, 20, 7, 4)
    f, r = OURS[name], REF[name]
    # W float32 + X float64 -> float64
    W32 = W.astype(np.float32)
    loss, dW = f(W32, X, y, 0.0)
    rloss, rdW = r(W32, X, y, 0.0)
    assert type(loss) is np.float64 and dW.dtype == np.float64
    np.testing.assert_allclose(loss, rloss, rtol=1e-10)
    np.testing.assert_allclose(dW, rdW, rtol=1e-10, atol=1e-14)
    loss, dW = f(W32, X, y, 0.3)
    rloss, rdW = r(W32, X, y, 0.3)
    assert type(loss) is np.float64 and dW.dtype == np.float64
    # NumPy's reference sums W32 * W32 in float32; the package promotes W first (float64 sum).
    W32w = W32.astype(np.float64)
    np.testing.assert_allclose(loss, f(W32w, X, y, 0.3)[0], rtol=1e-12)
    np.testing.assert_allclose(loss, rloss, rtol=1e-10, atol=1e-6 * 0.3 * np.sum(W32w * W32w))
    # likewise 2 * reg * W32 is a float32 array in the reference
    np.testing.assert_allclose(dW, f(W32w, X, y, 0.3)[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dW, rdW, rtol=1e-10, atol=1e-6 * 2 * 0.3 * np.max(np.abs(W32w)))
    # W float64 + X float32 -> float64
    loss, dW = f(W, X.astype(np.float32), y, 0.3)
    assert type(loss) is np.float64 and dW.dtype == np.float64
    np.testing.assert_allclose(loss, r(W, X.astype(np.float32), y, 0.3)[0], rtol=1e-10)
    # integer X -> float64
    Xi = np.rint(X * 3).astype(np.int64)
    loss, dW = f(W, Xi, y, 0.3)
    assert type(loss) is np.float64 and dW.dtype == np.float64
    rloss, rdW = r(W, Xi, y, 0.3)
    np.testing.assert_allclose(loss, rloss, rtol=1e-10)
    np.testing.assert_allclose(dW, rdW, rtol=1e-10, atol=1e-13)
    # integer X with float32 W: np.result_type(float32, int64) is float64
    loss, dW = f(W32, Xi, y, 0.3)
    assert dW.dtype == np.float64
    # y as int32, uint8, uint64, int16 gives the same values
    base = f(W, X, y, 0.3)
    for ydt in (np.int32, np.uint8, np.uint64, np.int16):
        got = f(W, X, y.astype(ydt), 0.3)
        assert got[0] == base[0], ydt
        assert np.array_equal(got[1], base[1]), ydt
    # lists work
    got = f(W.tolist(), X.tolist(), y.tolist(), 0.3)
    assert got[0] == base[0] and np.array_equal(got[1], base[1])


# ---------------------------------------------------------------------------------------------
# Gradient checks and conventions
# ---------------------------------------------------------------------------------------------


def _numeric_grad(f, W, idx, h):
    out = []
    for ij in idx:
        old = W[ij]
        W[ij] = old + h
        fp = f(W)
        W[ij] = old - h
        fm = f(W)
        W[ij] = old
        out.append((fp - fm) / (2 * h))
    return np.array(out)


@pytest.mark.parametrize("reg", [0.0, 0.5, 50.0])
def test_softmax_numeric_gradient(reg):
    rng = np.random.default_rng(5)
    N, D, C = 30, 12, 5
    W = rng.standard_normal((D, C)) * 0.1
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    for f in (softmax_loss_naive, softmax_loss_vectorized):
        _, dW = f(W, X, y, reg)
        idx = [tuple(rng.integers(0, s) for s in W.shape) for _ in range(15)]
        num = _numeric_grad(lambda w: f(w, X, y, reg)[0], W, idx, 1e-5)
        ana = np.array([dW[ij] for ij in idx])
        assert rel_error(num, ana) < 1e-7, (rel_error(num, ana), num, ana)


@pytest.mark.parametrize("reg", [0.0, 0.5, 50.0])
def test_svm_numeric_gradient_away_from_kinks(reg):
    rng = np.random.default_rng(6)
    N, D, C = 20, 10, 5
    h = 1e-5
    while True:
        W = rng.standard_normal((D, C)) * 0.5
        X = rng.standard_normal((N, D))
        y = rng.integers(0, C, N)
        s = X @ W
        margins = s - s[np.arange(N), y][:, None] + 1
        margins[np.arange(N), y] = 10.0
        if np.min(np.abs(margins)) > 1e-2:
            break
    assert np.any(margins < 0) and np.any((margins > 0) & (margins < 10))  # both branches used
    for f in (svm_loss_naive, svm_loss_vectorized):
        _, dW = f(W, X, y, reg)
        idx = [tuple(rng.integers(0, s) for s in W.shape) for _ in range(15)]
        num = _numeric_grad(lambda w: f(w, X, y, reg)[0], W, idx, h)
        ana = np.array([dW[ij] for ij in idx])
        assert rel_error(num, ana) < 1e-6, (rel_error(num, ana), num, ana)


@pytest.mark.parametrize("name", NAMES)
def test_regularization_convention(name):
    W, X, y = _data(7, 40, 9, 6)
    f = OURS[name]
    l0, g0 = f(W, X, y, 0.0)
    for reg in (0.1, 2.5, 5e4):
        l1, g1 = f(W, X, y, reg)
        np.testing.assert_allclose(l1 - l0, reg * np.sum(W * W), rtol=1e-9)
        np.testing.assert_allclose(g1 - g0, 2 * reg * W, rtol=1e-9, atol=1e-12 * reg)


def test_softmax_zero_weights_gives_log_c():
    rng = np.random.default_rng(8)
    for C in (1, 2, 10, 37):
        W = np.zeros((6, C))
        X = rng.standard_normal((11, 6))
        y = rng.integers(0, C, 11)
        for f in (softmax_loss_naive, softmax_loss_vectorized):
            loss, dW = f(W, X, y, 3.0)
            assert abs(loss - np.log(C)) < 1e-14, (C, loss)
            onehot = np.eye(C)[y]
            np.testing.assert_allclose(dW, X.T @ (1.0 / C - onehot) / 11, rtol=1e-12, atol=1e-15)
    # cs231n notebook: W ~ 1e-4 randn gives a loss close to -log(0.1)
    W = rng.standard_normal((3073, 10)) * 0.0001
    X = rng.standard_normal((50, 3073))
    y = rng.integers(0, 10, 50)
    loss, _ = softmax_loss_vectorized(W, X, y, 0.0)
    assert abs(loss - np.log(10)) < 0.1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_huge_scores_stay_finite(dtype):
    W, X, y = _data(9, 25, 8, 5, dtype)
    X = (X * dtype(1e4)).astype(dtype)
    loss, dW = softmax_loss_vectorized(W, X, y, 0.1)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    rloss, rdW = R.softmax_loss_vectorized(W, X, y, 0.1)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(loss, rloss, rtol=rtol)
    np.testing.assert_allclose(dW, rdW, rtol=rtol, atol=rtol * float(np.max(np.abs(X))))
    l2, g2 = softmax_loss_naive(W, X, y, 0.1)
    assert np.isfinite(l2) and np.all(np.isfinite(g2))
    # even more extreme: scores around 1e300 (float64) do not overflow the shift
    if dtype == np.float64:
        W = np.array([[1.0, -1.0]])
        X = np.array([[1e300], [-1e300]])
        loss, dW = softmax_loss_vectorized(W, X, np.array([0, 0]), 0.0)
        rloss, rdW = R.softmax_loss_vectorized(W, X, np.array([0, 0]), 0.0)
        assert np.isfinite(loss)
        np.testing.assert_allclose(loss, rloss, rtol=1e-12)
        np.testing.assert_allclose(dW, rdW, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# NaN / inf
# ---------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["svm_vectorized", "softmax_vectorized"])
def test_nan_propagates_like_reference(name, dtype):
    W, X, y = _data(10, 12, 5, 4, dtype)
    X[3, 2] = np.nan
    loss, dW = OURS[name](W, X, y, 0.2)
    rloss, rdW = REF[name](W, X, y, 0.2)
    assert np.isnan(rloss)
    assert np.isnan(loss)
    np.testing.assert_array_equal(np.isnan(dW), np.isnan(rdW))
    assert np.isnan(dW).any()
    ok = ~np.isnan(rdW)
    np.testing.assert_allclose(dW[ok], rdW[ok], rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-6)
    # a NaN in W
    W2, X2, y2 = _data(10, 12, 5, 4, dtype)
    W2[1, 1] = np.nan
    loss, dW = OURS[name](W2, X2, y2, 0.2)
    rloss, rdW = REF[name](W2, X2, y2, 0.2)
    assert np.isnan(loss) and np.isnan(rloss)
    np.testing.assert_array_equal(np.isnan(dW), np.isnan(rdW))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["svm_vectorized", "softmax_vectorized"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_in_X_like_reference(name, value):
    W, X, y = _data(11, 12, 5, 4)
    X[4, 1] = value
    loss, dW = OURS[name](W, X, y, 0.2)
    rloss, rdW = REF[name](W, X, y, 0.2)
    assert np.isnan(loss) == np.isnan(rloss)
    assert np.isposinf(loss) == np.isposinf(rloss)
    if np.isfinite(rloss):
        np.testing.assert_allclose(loss, rloss, rtol=1e-10)
    np.testing.assert_array_equal(np.isnan(dW), np.isnan(rdW))
    np.testing.assert_array_equal(np.isposinf(dW), np.isposinf(rdW))
    np.testing.assert_array_equal(np.isneginf(dW), np.isneginf(rdW))
    ok = np.isfinite(rdW)
    np.testing.assert_allclose(dW[ok], rdW[ok], rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

CLEAN = (ValueError, TypeError)


@pytest.mark.parametrize("name", NAMES)
def test_errors(name):
    f = OURS[name]
    W, X, y = _data(12, 6, 4, 3)
    with pytest.raises(ValueError, match="y"):
        f(W, X, np.array([0, 1, 3, 0, 0, 0]), 0.1)  # label == C
    with pytest.raises(ValueError, match="y"):
        f(W, X, np.array([0, 1, 2**40, 0, 0, 0]), 0.1)
    with pytest.raises(ValueError, match="y"):
        f(W, X, np.array([0, 1, -1, 0, 0, 0]), 0.1)
    with pytest.raises(ValueError, match="y"):
        f(W, X, np.array([0, 1, 2, 0, 0, 2**64 - 1], dtype=np.uint64), 0.1)
    with pytest.raises(TypeError):
        f(W, X, y.astype(np.float64), 0.1)
    with pytest.raises(TypeError):
        f(W, X, y.astype(object), 0.1)
    with pytest.raises(ValueError):
        f(W, X, y[:5], 0.1)
    with pytest.raises(ValueError):
        f(W, X, np.concatenate([y, y]), 0.1)
    with pytest.raises(ValueError):
        f(W, X, y.reshape(2, 3), 0.1)
    with pytest.raises(ValueError, match="X"):
        f(W, np.zeros((6, 5)), y, 0.1)
    with pytest.raises(ValueError):
        f(W, np.zeros((0, 4)), np.zeros(0, dtype=np.int64), 0.1)  # N = 0
    with pytest.raises(ValueError):
        f(W.ravel(), X, y, 0.1)  # 1-D W
    with pytest.raises(ValueError):
        f(W, X.ravel(), y, 0.1)  # 1-D X
    with pytest.raises(ValueError):
        f(W[None], X, y, 0.1)  # 3-D W
    with pytest.raises(ValueError):
        f(np.zeros((4, 0)), X, np.zeros(6, dtype=np.int64), 0.1)  # C = 0
    with pytest.raises(TypeError):
        f(W, X, y, "abc")
    with pytest.raises(TypeError):
        f(W, X, y, None)
    with pytest.raises(TypeError):
        f(W, X, y, [0.1])
    with pytest.raises(TypeError):
        f(W.astype(np.complex128), X, y, 0.1)
    with pytest.raises(TypeError):
        f(W, X.astype(object), y, 0.1)


@pytest.mark.parametrize("name", NAMES)
def test_numeric_string_reg_is_a_type_error(name):
    # cs231n's NumPy code computes reg * np.sum(W * W): a str reg is a TypeError there, even "0.5".
    W, X, y = _data(13, 6, 4, 3)
    with pytest.raises(TypeError):
        REF[name](W, X, y, "0.5")
    with pytest.raises(TypeError):
        OURS[name](W, X, y, "0.5")


def test_errors_never_other_exception_types():
    W, X, y = _data(14, 6, 4, 3)
    bad_calls = [
        (W, X, np.array([0, 1, 3, 0, 0, 0]), 0.1),
        (W, X, np.array([0.0, 1, 2, 0, 0, 0]), 0.1),
        (W, X, np.array([0, 1, 2]), 0.1),
        (W, np.zeros((6, 5)), y, 0.1),
        (W, np.zeros((0, 4)), np.zeros(0, dtype=np.int64), 0.1),
        (W.ravel(), X, y, 0.1),
        (W, X, y, "x"),
        (W, X, np.array(["a"] * 6), 0.1),
        (W, X, np.ones(6, dtype=bool), 0.1),
        ("W", X, y, 0.1),
        (W, None, y, 0.1),
        (W, X, None, 0.1),
    ]
    for name in NAMES:
        for args in bad_calls:
            try:
                OURS[name](*args)
            except CLEAN:
                pass
            except BaseException as e:  # noqa: BLE001 - any other type (PanicException included) fails
                pytest.fail("%s%r raised %s: %s" % (name, tuple(type(a).__name__ for a in args), type(e).__name__, e))
            else:
                if args[2] is not None and np.asarray(args[2]).dtype == bool:
                    continue  # bool labels: accepting or refusing are both reasonable
                pytest.fail("%s accepted bad input %r" % (name, [type(a).__name__ for a in args]))


def test_zero_features_D0_matches_reference():
    # D = 0 (W (0, C), X (N, 0)): every score is 0, so softmax gives log(C) and the SVM C - 1.
    W = np.zeros((0, 3))
    X = np.zeros((5, 0))
    y = np.array([0, 1, 2, 0, 1])
    for name in NAMES:
        loss, dW = OURS[name](W, X, y, 0.1)
        rloss, rdW = REF[name](W, X, y, 0.1)
        assert dW.shape == (0, 3)
        np.testing.assert_allclose(loss, rloss, rtol=1e-14, err_msg=name)
    assert OURS["softmax_vectorized"](W, X, y, 0.0)[0] == pytest.approx(np.log(3), rel=1e-14)
    assert OURS["svm_vectorized"](W, X, y, 0.0)[0] == pytest.approx(2.0, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# Threads and mutation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bit_identical_for_1_and_2_threads(restore_threads, dtype):
    W, X, y = _data(15, 3000, 300, 10, dtype)
    out = {}
    for n in (1, 2, 3, 1):
        cs231n_rs.set_num_threads(n)
        res = {name: OURS[name](W, X, y, 0.25) for name in ("svm_vectorized", "softmax_vectorized")}
        if out:
            first = next(iter(out.values()))
            for name in res:
                assert res[name][0] == first[name][0], (n, name)
                assert np.array_equal(res[name][1], first[name][1]), (n, name)
        out[n] = res
    # and they are right
    for name in ("svm_vectorized", "softmax_vectorized"):
        rl, rg = REF[name](W, X, y, 0.25)
        rtol = 1e-10 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(out[1][name][0], rl, rtol=rtol)
        np.testing.assert_allclose(out[1][name][1], rg, rtol=rtol, atol=rtol * 10)


def test_inputs_are_not_mutated():
    W, X, y = _data(16, 70, 20, 6)
    X[0, 0] = np.nan
    Wc, Xc, yc = W.copy(), X.copy(), y.copy()
    for name in NAMES:
        for reg in (0.0, 1.5):
            OURS[name](W, X, y, reg)
            OURS[name](W.astype(np.float32), X, y.astype(np.int32), reg)
    assert_not_mutated(Wc, W, "W")
    assert_not_mutated(Xc, X, "X")
    assert_not_mutated(yc, y, "y")


def test_dW_is_a_fresh_array():
    W, X, y = _data(17, 10, 4, 3)
    for name in NAMES:
        _, dW = OURS[name](W, X, y, 0.0)
        assert not np.shares_memory(dW, W) and not np.shares_memory(dW, X)
        _, dW2 = OURS[name](W, X, y, 0.0)
        assert not np.shares_memory(dW, dW2)
        dW[...] = 0  # writable


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N", [1, 9, 200, 517])
@pytest.mark.parametrize("C", [10, 3])
def test_assignment_sizes_match_reference(dtype, N, C):
    """D = 3073 as in the notebooks: every kernel path (the f32 dot kernel with its D tiles and
    ragged tail, the padded f64 kernel, several sample groups) against the reference."""
    rng = np.random.default_rng(N * 100 + C)
    W = (rng.standard_normal((3073, C)) * 1e-3).astype(dtype)
    X = (rng.standard_normal((N, 3073)) * 50).astype(dtype)
    y = rng.integers(0, C, N)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    for ours, ref in [(svm_loss_vectorized, R.svm_loss_vectorized), (softmax_loss_vectorized, R.softmax_loss_vectorized)]:
        loss, dW = ours(W, X, y, 2.5e4)
        rloss, rdW = ref(W, X, y, 2.5e4)
        assert loss.dtype == dtype and dW.dtype == dtype
        np.testing.assert_allclose(loss, rloss, rtol=rtol)
        np.testing.assert_allclose(dW, rdW, rtol=rtol, atol=rtol * float(np.max(np.abs(rdW))))
