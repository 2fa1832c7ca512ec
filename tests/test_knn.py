"""cs231n_rs.classifiers.KNearestNeighbor against the NumPy reference (cs231n_rs.reference)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cs231n_rs
from cs231n_rs import reference as R
from cs231n_rs.classifiers import KNearestNeighbor
from conftest import assert_close, assert_not_mutated, eps_of, layouts, rtol_for

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DIST_METHODS = ["compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops"]


def _pair(X_train, y_train=None):
    if y_train is None:
        y_train = np.zeros(np.asarray(X_train).shape[0], dtype=np.int64)
    ours, ref = KNearestNeighbor(), R.KNearestNeighbor()
    ours.train(X_train, y_train)
    ref.train(X_train, y_train)
    return ours, ref


def _dist_atol(X, X_train, dtype):
    """Absolute floor for distances: the expansion |a|^2 + |b|^2 - 2 a.b cancels, so a distance
    near 0 carries an error of about sqrt(eps) * (|a| + |b|) in either implementation."""
    Xf = np.asarray(X, dtype=np.float64)
    Tf = np.asarray(X_train, dtype=np.float64)
    norms = 0.0
    if Xf.size:
        norms += np.max(np.sqrt(np.sum(Xf * Xf, axis=1)))
    if Tf.size:
        norms += np.max(np.sqrt(np.sum(Tf * Tf, axis=1)))
    return 8.0 * np.sqrt(eps_of(dtype)) * norms + 1e-300


def _check_dists(actual, desired, X, X_train, dtype, method):
    assert actual.shape == desired.shape, method
    assert_close(actual, desired, dtype=dtype, atol=_dist_atol(X, X_train, dtype), err_msg=method)


# ---------------------------------------------------------------------------------------------
# Distances against the reference
# ---------------------------------------------------------------------------------------------

finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def knn_inputs(draw, dtype):
    num_test = draw(st.integers(1, 20))
    num_train = draw(st.integers(1, 30))
    D = draw(st.integers(1, 40))
    bound = 1e3
    elems = st.floats(-bound, bound, width=32 if dtype == np.float32 else 64, **finite)
    X = draw(hnp.arrays(dtype, (num_test, D), elements=elems))
    X_train = draw(hnp.arrays(dtype, (num_train, D), elements=elems))
    # Sometimes make test rows copies of training rows (distance ~0).
    if draw(st.booleans()):
        for i in range(num_test):
            X[i] = X_train[draw(st.integers(0, num_train - 1))]
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    return (X * dtype(scale)).astype(dtype), (X_train * dtype(scale)).astype(dtype)


@SETTINGS
@given(knn_inputs(np.float64))
def test_distances_match_reference_float64(inp):
    X, X_train = inp
    ours, ref = _pair(X_train)
    expected = ref.compute_distances_no_loops(X)
    for method in DIST_METHODS:
        d = getattr(ours, method)(X)
        assert d.dtype == np.float64, method
        assert d.shape == (X.shape[0], X_train.shape[0])
        _check_dists(d, expected, X, X_train, np.float64, method)
        assert np.all(d >= 0), method


@SETTINGS
@given(knn_inputs(np.float32))
def test_distances_match_reference_float32(inp):
    X, X_train = inp
    ours, ref = _pair(X_train)
    expected = ref.compute_distances_no_loops(X)
    assert expected.dtype == np.float32
    d0 = ours.compute_distances_no_loops(X)
    assert d0.dtype == np.float32, "no_loops must follow the input dtype"
    _check_dists(d0, expected, X, X_train, np.float32, "no_loops")
    for method in ["compute_distances_two_loops", "compute_distances_one_loop"]:
        d = getattr(ours, method)(X)
        # cs231n's loop versions fill np.zeros((num_test, num_train)): float64.
        assert d.dtype == np.float64, method
        assert d.dtype == getattr(ref, method)(X).dtype
        _check_dists(d, expected.astype(np.float64), X, X_train, np.float32, method)
        # The loop versions hold the float32 values, widened.
        np.testing.assert_array_equal(d, d0.astype(np.float64))


def test_distances_simple_known_values():
    X_train = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    X = np.array([[0.0, 0.0], [6.0, 8.0]])
    ours, _ = _pair(X_train)
    expected = np.array([[0.0, 5.0, np.sqrt(2.0)], [10.0, 5.0, np.sqrt(25.0 + 49.0)]])
    for method in DIST_METHODS:
        np.testing.assert_allclose(getattr(ours, method)(X), expected, rtol=1e-15, atol=0)


def test_distances_large_random_against_direct_differences():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 257))
    X_train = rng.standard_normal((90, 257))
    ours, ref = _pair(X_train)
    direct = np.sqrt(((X[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2))
    for method in DIST_METHODS:
        d = getattr(ours, method)(X)
        np.testing.assert_allclose(d, direct, rtol=1e-10)
        np.testing.assert_allclose(d, ref.compute_distances_no_loops(X), rtol=1e-10)
        # cs231n's notebook check
        assert np.linalg.norm(d - direct, ord="fro") < 0.001


# ---------------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layouts_give_identical_distances(dtype):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((13, 37)).astype(dtype)
    X_train = rng.standard_normal((21, 37)).astype(dtype)
    ours, _ = _pair(X_train)
    base = {m: getattr(ours, m)(X) for m in DIST_METHODS}
    for name, Xv in layouts(X):
        for m in DIST_METHODS:
            got = getattr(ours, m)(Xv)
            assert got.dtype == base[m].dtype, (name, m)
            assert np.array_equal(got, base[m]), (name, m)
    for name, Tv in layouts(X_train):
        o2, _ = _pair(Tv)
        for m in DIST_METHODS:
            assert np.array_equal(getattr(o2, m)(X), base[m]), (name, m)
    # both at once, every pairing of one layout
    for (n1, Xv), (n2, Tv) in zip(layouts(X), layouts(X_train)):
        o2, _ = _pair(Tv)
        assert np.array_equal(o2.compute_distances_no_loops(Xv), base["compute_distances_no_loops"]), (n1, n2)


def test_layouts_single_row_and_single_column():
    rng = np.random.default_rng(3)
    for shape_test, shape_train in [((1, 9), (7, 9)), ((5, 1), (8, 1)), ((1, 1), (1, 1))]:
        X = rng.standard_normal(shape_test)
        X_train = rng.standard_normal(shape_train)
        ours, ref = _pair(X_train)
        base = ours.compute_distances_no_loops(X)
        np.testing.assert_allclose(base, ref.compute_distances_no_loops(X), rtol=1e-10, atol=_dist_atol(X, X_train, np.float64))
        for name, Xv in layouts(X):
            assert np.array_equal(ours.compute_distances_no_loops(Xv), base), name


# ---------------------------------------------------------------------------------------------
# Dtypes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.int8, np.bool_])
def test_integer_inputs_give_float64(dtype):
    rng = np.random.default_rng(4)
    hi = 2 if dtype == np.bool_ else 20
    X = rng.integers(0, hi, size=(6, 11)).astype(dtype)
    X_train = rng.integers(0, hi, size=(9, 11)).astype(dtype)
    ours, ref = _pair(X_train)
    # exact arithmetic on small integers: equal to the direct formula
    Xf, Tf = X.astype(np.float64), X_train.astype(np.float64)
    direct = np.sqrt(((Xf[:, None, :] - Tf[None, :, :]) ** 2).sum(axis=2))
    for m in DIST_METHODS:
        d = getattr(ours, m)(X)
        assert d.dtype == np.float64, m
        r = getattr(ref, m)(X) if dtype != np.bool_ else ref.compute_distances_no_loops(X)
        np.testing.assert_allclose(d, r, rtol=1e-12, atol=0)
        np.testing.assert_allclose(d, direct, rtol=1e-12, atol=0)


def test_uint8_does_not_wrap_around():
    # 0 - 255 in uint8 arithmetic would wrap; the distance must be 255.
    X_train = np.array([[255, 0]], dtype=np.uint8)
    X = np.array([[0, 0], [255, 255]], dtype=np.uint8)
    ours, _ = _pair(X_train)
    for m in DIST_METHODS:
        np.testing.assert_array_equal(getattr(ours, m)(X), [[255.0], [255.0]])


def test_mixed_float32_float64_promotes_to_float64():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 6)).astype(np.float32)
    X_train = rng.standard_normal((5, 6))
    ours, ref = _pair(X_train)
    expected = ref.compute_distances_no_loops(X)
    assert expected.dtype == np.float64
    for m in DIST_METHODS:
        d = getattr(ours, m)(X)
        assert d.dtype == np.float64, m
        np.testing.assert_allclose(d, expected, rtol=1e-10, atol=_dist_atol(X, X_train, np.float64))
    # and the other way round
    ours2, ref2 = _pair(X_train.astype(np.float32))
    d = ours2.compute_distances_no_loops(X.astype(np.float64))
    assert d.dtype == np.float64
    # int X with float32 X_train: NumPy's result_type(int64, float32) is float64
    ours3, _ = _pair(X_train.astype(np.float32))
    assert ours3.compute_distances_no_loops(np.ones((2, 6), dtype=np.int64)).dtype == np.float64


def test_list_inputs_work():
    ours, ref = _pair([[0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(ours.compute_distances_no_loops([[0.0, 1.0]]), [[1.0, np.sqrt(2.0)]], rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# Self distance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_self_distance_is_exactly_zero_on_exact_data(dtype):
    # Integer-valued data whose squares and sums are exact in the dtype: the expansion cancels exactly.
    rng = np.random.default_rng(6)
    hi = 2**20 if dtype == np.float64 else 2**8
    X = rng.integers(-hi, hi, size=(10, 12)).astype(dtype)
    X[0] = 0
    ours, _ = _pair(X)
    for m in DIST_METHODS:
        d = getattr(ours, m)(X)
        assert not np.isnan(d).any(), m
        np.testing.assert_array_equal(np.diag(d), np.zeros(10), err_msg=m)


def test_self_distance_large_values_is_zero_not_nan():
    X = np.array([[1e8, 3.0, -7.5], [-1e8, 1e8, 2.0], [1e150, 0.0, 0.0]])
    ours, _ = _pair(X)
    for m in DIST_METHODS:
        d = getattr(ours, m)(X)
        assert not np.isnan(d[:2, :2]).any(), m
        assert d[0, 0] == 0.0 and d[1, 1] == 0.0, (m, np.diag(d))


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e8])
def test_self_distance_general_floats_is_tiny_and_finite(scale):
    # For arbitrary floats the expansion leaves a rounding residue (the reference's too); it must be
    # finite, non-negative and at the sqrt(eps) * |x| level, never NaN.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((30, 300)) * scale
    ours, ref = _pair(X)
    d = np.diag(ours.compute_distances_no_loops(X))
    norms = np.linalg.norm(X, axis=1)
    assert np.all(np.isfinite(d)) and np.all(d >= 0)
    assert np.all(d <= 1e-6 * norms), np.max(d / norms)


# ---------------------------------------------------------------------------------------------
# predict_labels / predict
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(
    st.integers(1, 15),
    st.integers(1, 25),
    st.integers(1, 5),
    st.data(),
)
def test_predict_labels_matches_reference_with_ties(num_test, num_train, num_labels, data):
    k = data.draw(st.integers(1, num_train))
    dists = data.draw(hnp.arrays(np.float64, (num_test, num_train), elements=st.integers(0, 4).map(float)))
    y_train = data.draw(hnp.arrays(np.int64, (num_train,), elements=st.integers(0, num_labels - 1)))
    ours, ref = KNearestNeighbor(), R.KNearestNeighbor()
    ours.train(np.zeros((num_train, 1)), y_train)
    ref.train(np.zeros((num_train, 1)), y_train)
    got = ours.predict_labels(dists, k=k)
    want = ref.predict_labels(dists, k=k)
    assert got.dtype == np.float64
    assert got.shape == (num_test,)
    np.testing.assert_array_equal(got, want)
    # float32 distances give the same votes
    np.testing.assert_array_equal(ours.predict_labels(dists.astype(np.float32), k=k), want)


@SETTINGS
@given(st.integers(1, 10), st.integers(1, 20), st.data())
def test_predict_labels_with_nan_and_inf_matches_reference(num_test, num_train, data):
    k = data.draw(st.integers(1, num_train))
    elems = st.sampled_from([0.0, 1.0, 2.0, np.nan, np.inf, -np.inf, 0.5])
    dists = data.draw(hnp.arrays(np.float64, (num_test, num_train), elements=elems))
    y_train = data.draw(hnp.arrays(np.int64, (num_train,), elements=st.integers(0, 3)))
    ours, ref = KNearestNeighbor(), R.KNearestNeighbor()
    ours.train(np.zeros((num_train, 1)), y_train)
    ref.train(np.zeros((num_train, 1)), y_train)
    np.testing.assert_array_equal(ours.predict_labels(dists, k=k), ref.predict_labels(dists, k=k))


def test_predict_labels_explicit_ties():
    knn = KNearestNeighbor()
    knn.train(np.zeros((2, 1)), np.array([3, 1]))
    # k=2: one vote each for 3 and 1 -> the smaller label
    np.testing.assert_array_equal(knn.predict_labels(np.array([[0.1, 0.2]]), k=2), [1.0])
    np.testing.assert_array_equal(knn.predict_labels(np.array([[0.2, 0.1]]), k=2), [1.0])
    # k=1: the nearest wins
    np.testing.assert_array_equal(knn.predict_labels(np.array([[0.1, 0.2], [0.2, 0.1]]), k=1), [3.0, 1.0])
    # equal distances: the earlier training point is nearer (stable argsort)
    np.testing.assert_array_equal(knn.predict_labels(np.array([[0.5, 0.5]]), k=1), [3.0])

    knn.train(np.zeros((6, 1)), np.array([5, 2, 2, 5, 9, 9]))
    # row 0: labels 5, 2, 2, 5 -> 2-2 tie -> 2; row 1: indices 2, 3, 4 then the earliest of the
    # equal 9.0s (index 0): labels 2, 5, 9, 5 -> 5
    d = np.array([[0.1, 0.2, 0.3, 0.4, 9.0, 9.0], [9.0, 9.0, 0.1, 0.2, 0.3, 9.0]])
    np.testing.assert_array_equal(knn.predict_labels(d, k=4), [2.0, 5.0])
    # majority beats smaller label
    knn.train(np.zeros((3, 1)), np.array([7, 7, 0]))
    np.testing.assert_array_equal(knn.predict_labels(np.array([[0.0, 0.1, 0.05]]), k=3), [7.0])


def test_predict_labels_nan_counts_as_farthest():
    knn = KNearestNeighbor()
    knn.train(np.zeros((4, 1)), np.array([0, 1, 2, 3]))
    d = np.array([[np.nan, 1.0, 1.0, 0.5], [np.nan, np.nan, np.nan, 7.0], [np.nan, np.nan, np.nan, np.nan]])
    ref = R.KNearestNeighbor()
    ref.train(np.zeros((4, 1)), np.array([0, 1, 2, 3]))
    for k in (1, 2, 3, 4):
        np.testing.assert_array_equal(knn.predict_labels(d, k=k), ref.predict_labels(d, k=k), err_msg="k=%d" % k)
    np.testing.assert_array_equal(knn.predict_labels(d, k=1), [3.0, 3.0, 0.0])
    np.testing.assert_array_equal(knn.predict_labels(d, k=2), [1.0, 0.0, 0.0])


def test_predict_labels_large_labels_and_int_dtypes():
    knn = KNearestNeighbor()
    for ydt in (np.int64, np.int32, np.uint8, np.uint64, np.int16):
        y = np.array([200, 7, 7, 100], dtype=ydt)
        knn.train(np.zeros((4, 1)), y)
        np.testing.assert_array_equal(knn.predict_labels(np.array([[0.0, 1.0, 2.0, 0.5]]), k=1), [200.0])
        np.testing.assert_array_equal(knn.predict_labels(np.array([[0.0, 1.0, 2.0, 0.5]]), k=3), [7.0])


def test_predict_dispatch_and_k_as_numpy_int():
    rng = np.random.default_rng(8)
    X_train = rng.standard_normal((50, 8))
    y_train = rng.integers(0, 4, 50)
    X = rng.standard_normal((17, 8))
    ours, ref = _pair(X_train, y_train)
    for k in [1, 3, 5, np.int64(7), 50]:
        want = ref.predict(X, k=k)
        results = [ours.predict(X, k=k, num_loops=n) for n in (0, 1, 2)]
        for n, r in enumerate(results):
            assert r.dtype == np.float64
            np.testing.assert_array_equal(r, want, err_msg="num_loops=%d k=%s" % (n, k))
    # defaults: k=1, num_loops=0
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X, k=1))


def test_predict_invalid_num_loops():
    ours, _ = _pair(np.zeros((3, 2)))
    for bad in (3, -1):
        with pytest.raises(ValueError, match="Invalid value %d for num_loops" % bad):
            ours.predict(np.zeros((1, 2)), num_loops=bad)
    with pytest.raises(ValueError) as ei:
        ours.predict(np.zeros((1, 2)), num_loops=3)
    assert str(ei.value) == "Invalid value 3 for num_loops"


def test_knn_accuracy_on_clusters():
    rng = np.random.default_rng(9)
    centers = rng.standard_normal((4, 10)) * 10
    y_train = rng.integers(0, 4, 200)
    X_train = centers[y_train] + rng.standard_normal((200, 10))
    y_test = rng.integers(0, 4, 50)
    X_test = centers[y_test] + rng.standard_normal((50, 10))
    ours, _ = _pair(X_train, y_train)
    for k in (1, 5):
        assert np.mean(ours.predict(X_test, k=k) == y_test) > 0.95


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

CLEAN = (ValueError, TypeError)


def _trained(num_train=5, D=3, y=None):
    knn = KNearestNeighbor()
    knn.train(np.arange(num_train * D, dtype=np.float64).reshape(num_train, D), np.arange(num_train) if y is None else y)
    return knn


def test_bad_k():
    knn = _trained()
    d = np.ones((2, 5))
    with pytest.raises(ValueError):
        knn.predict_labels(d, k=0)
    with pytest.raises(ValueError):
        knn.predict_labels(d, k=-3)
    with pytest.raises(ValueError):
        knn.predict_labels(d, k=6)
    with pytest.raises(ValueError):
        knn.predict(np.zeros((2, 3)), k=6)
    for bad in (2.0, 1.5, "2", None, True):
        with pytest.raises(CLEAN):
            knn.predict_labels(d, k=bad)
    with pytest.raises(CLEAN):
        knn.predict_labels(d, k=2**70)
    with pytest.raises(CLEAN):
        knn.predict_labels(d, k=-(2**70))


def test_bad_X():
    knn = _trained(D=3)
    for m in DIST_METHODS:
        with pytest.raises(ValueError, match="X"):
            getattr(knn, m)(np.zeros((2, 4)))
        with pytest.raises(ValueError):
            getattr(knn, m)(np.zeros(3))
        with pytest.raises(ValueError):
            getattr(knn, m)(np.zeros((2, 3, 1)))
        with pytest.raises(ValueError):
            getattr(knn, m)(np.float64(1.0))
        with pytest.raises(TypeError):
            getattr(knn, m)(np.zeros((2, 3), dtype=np.complex128))
        with pytest.raises(TypeError):
            getattr(knn, m)(np.zeros((2, 3), dtype=object))
        with pytest.raises(TypeError):
            getattr(knn, m)(np.array([["a", "b", "c"]]))
        with pytest.raises(CLEAN):
            getattr(knn, m)([[1.0, 2.0], [1.0]])  # ragged
    with pytest.raises(ValueError, match="X"):
        knn.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError):
        knn.predict(np.zeros(3))


def test_bad_X_train():
    knn = KNearestNeighbor()
    knn.train(np.zeros(5), np.arange(5))
    with pytest.raises(ValueError):
        knn.compute_distances_no_loops(np.zeros((2, 5)))
    knn.train(np.zeros((5, 3), dtype=np.complex64), np.arange(5))
    with pytest.raises(TypeError):
        knn.compute_distances_no_loops(np.zeros((2, 3)))


def test_bad_y_train():
    d = np.ones((2, 5))
    with pytest.raises(TypeError):
        _trained(y=np.arange(5, dtype=np.float64)).predict_labels(d, k=1)
    with pytest.raises(TypeError):
        _trained(y=np.arange(5).astype(object)).predict_labels(d, k=1)
    with pytest.raises(ValueError):
        _trained(y=np.array([0, 1, -1, 2, 3])).predict_labels(d, k=1)
    with pytest.raises(ValueError):
        _trained(y=np.array([0, 1, -1, 2, 3])).predict(np.zeros((2, 3)), k=5)
    with pytest.raises(ValueError):
        _trained(y=np.arange(4)).predict_labels(d, k=1)  # wrong length
    with pytest.raises(ValueError):
        _trained(y=np.arange(10).reshape(5, 2)).predict_labels(d, k=1)


def test_bad_dists():
    knn = _trained()
    with pytest.raises(ValueError):
        knn.predict_labels(np.ones(5), k=1)
    with pytest.raises(ValueError):
        knn.predict_labels(np.ones((2, 4)), k=1)  # 4 columns, 5 training labels
    with pytest.raises(TypeError):
        knn.predict_labels(np.ones((2, 5), dtype=np.complex128), k=1)


def test_empty_X():
    knn = _trained(num_train=5, D=3)
    X = np.zeros((0, 3))
    for m in DIST_METHODS:
        d = getattr(knn, m)(X)
        assert d.shape == (0, 5), m
        assert d.dtype == np.float64
    pred = knn.predict(X, k=2)
    assert pred.shape == (0,)
    assert pred.dtype == np.float64
    d32 = _trained(num_train=5, D=3).compute_distances_no_loops(np.zeros((0, 3), np.float32))
    assert d32.shape == (0, 5)


def test_zero_dimensional_features():
    # D = 0: all distances are 0
    knn = KNearestNeighbor()
    knn.train(np.zeros((4, 0)), np.array([1, 0, 1, 1]))
    ref = R.KNearestNeighbor()
    ref.train(np.zeros((4, 0)), np.array([1, 0, 1, 1]))
    X = np.zeros((3, 0))
    for m in DIST_METHODS:
        np.testing.assert_array_equal(getattr(knn, m)(X), np.zeros((3, 4)))
    np.testing.assert_array_equal(knn.predict(X, k=3), ref.predict(X, k=3))


# ---------------------------------------------------------------------------------------------
# NaN / inf
# ---------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_and_inf_propagate_like_reference(dtype):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((8, 5)).astype(dtype)
    X_train = rng.standard_normal((9, 5)).astype(dtype)
    X[1, 2] = np.nan
    X[3, 0] = np.inf
    X[4, 4] = -np.inf
    X[5, :] = 0.0
    X[5, 1] = np.inf
    X_train[2, 3] = np.nan
    X_train[6, 1] = np.inf
    X_train[7, 0] = -np.inf
    ours, ref = _pair(X_train)
    want = ref.compute_distances_no_loops(X)
    for m in DIST_METHODS:
        got = getattr(ours, m)(X)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=m)
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want), err_msg=m)
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=rtol_for(dtype), atol=_dist_atol(X[np.isfinite(X).all(1)], X_train[np.isfinite(X_train).all(1)], dtype))
    # the NaN row of X and the NaN column of X_train are all NaN
    d = ours.compute_distances_no_loops(X)
    assert np.isnan(d[1]).all()
    assert np.isnan(d[:, 2]).all()
    # a NaN-free row against finite training rows stays finite
    assert np.isfinite(d[0, [0, 1, 3, 4, 5]]).all()


# ---------------------------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bit_identical_for_1_and_2_threads(restore_threads, dtype):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((200, 500)).astype(dtype)
    X_train = rng.standard_normal((300, 500)).astype(dtype)
    y_train = rng.integers(0, 10, 300)
    ours, _ = _pair(X_train, y_train)
    results = {}
    for n in (1, 2, 1, 3):
        cs231n_rs.set_num_threads(n)
        assert cs231n_rs.get_num_threads() == n
        d = ours.compute_distances_no_loops(X)
        p = ours.predict(X, k=5)
        p2 = ours.predict_labels(d, k=7)
        if results:
            d0, p0, p20 = results[next(iter(results))]
            assert np.array_equal(d, d0), n
            assert np.array_equal(p, p0), n
            assert np.array_equal(p2, p20), n
        results[n] = (d, p, p2)


# ---------------------------------------------------------------------------------------------
# No mutation, no copies kept
# ---------------------------------------------------------------------------------------------


def test_inputs_are_not_mutated():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((7, 4))
    X_train = rng.standard_normal((9, 4))
    X_train[0, 0] = np.nan
    y_train = rng.integers(0, 3, 9)
    copies = [a.copy() for a in (X, X_train, y_train)]
    ours, _ = _pair(X_train, y_train)
    for m in DIST_METHODS:
        d = getattr(ours, m)(X)
    dcopy = d.copy()
    ours.predict_labels(d, k=3)
    ours.predict(X, k=2, num_loops=1)
    for name, a, b in zip(("X", "X_train", "y_train"), copies, (X, X_train, y_train)):
        assert_not_mutated(a, b, name)
    assert_not_mutated(dcopy, d, "dists")
    # train stores the arrays themselves (cs231n: no copy)
    assert ours.X_train is X_train and ours.y_train is y_train


def test_reads_training_data_on_every_call():
    # cs231n stores a reference to X_train; changing it in place changes later distances.
    X_train = np.zeros((2, 2))
    ours, _ = _pair(X_train)
    np.testing.assert_array_equal(ours.compute_distances_no_loops(np.array([[3.0, 4.0]])), [[5.0, 5.0]])
    X_train[1] = [3.0, 4.0]
    np.testing.assert_array_equal(ours.compute_distances_no_loops(np.array([[3.0, 4.0]])), [[5.0, 0.0]])
