"""cs231n_rs.layers against the NumPy reference: values in every dtype and layout, dict side
effects, the dropout mask and NumPy's global RNG state, thread-count invariance and the error
contract. (The notebook checks run in test_layers_notebook.py.)"""

import numpy as np
import pytest
from conftest import assert_close, assert_not_mutated, layouts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cs231n_rs
from cs231n_rs import layers as L
from cs231n_rs.reference import layers as R

pytestmark = pytest.mark.usefixtures("np_seed")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.float64, np.float32]


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(dtype)


def assert_tuple_close(ours, ref, gemm=True):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        assert_close(a, b, gemm=gemm, atol=1e-12 if b.dtype == np.float64 else 1e-5)


# --------------------------------------------------------------------------------------- affine


@SETTINGS
@given(
    n=st.integers(0, 9),
    dims=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    m=st.integers(1, 7),
    dtype=st.sampled_from(DTYPES),
)
def test_affine_matches_reference(n, dims, m, dtype):
    x = rand(n, *dims, dtype=dtype)
    w = rand(int(np.prod(dims)), m, dtype=dtype, seed=1)
    b = rand(m, dtype=dtype, seed=2)
    out, cache = L.affine_forward(x, w, b)
    ref, ref_cache = R.affine_forward(x, w, b)
    assert_tuple_close([out], [ref])
    assert cache[0] is x and cache[1] is w and cache[2] is b
    dout = rand(n, m, dtype=dtype, seed=3)
    assert_tuple_close(L.affine_backward(dout, cache), R.affine_backward(dout, ref_cache))


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_any_layout_same_bits(dtype):
    x, w, b = rand(40, 30, dtype=dtype), rand(30, 20, dtype=dtype, seed=1), rand(20, dtype=dtype, seed=2)
    dout = rand(40, 20, dtype=dtype, seed=3)
    base_out, cache = L.affine_forward(x, w, b)
    base_grads = L.affine_backward(dout, cache)
    assert_close(base_out, R.affine_forward(x, w, b)[0])
    for name, xv in layouts(x):
        for wname, wv in [("C", w), ("F", np.asfortranarray(w)), ("neg", w[::-1][::-1].copy()[::-1][::-1])]:
            out, c = L.affine_forward(xv, wv, b)
            np.testing.assert_array_equal(out, base_out, err_msg=name + "/" + wname)
            for g, g0 in zip(L.affine_backward(dout, c), base_grads):
                assert_close(g, g0, rtol=1e-12, err_msg=name + "/" + wname)


def test_affine_integer_and_mixed_dtypes_follow_numpy():
    x = np.arange(12).reshape(3, 4)
    w = rand(4, 2)
    b = np.array([1, 2])
    out, cache = L.affine_forward(x, w, b)
    ref, _ = R.affine_forward(x, w, b)
    assert out.dtype == ref.dtype == np.float64
    assert_close(out, ref)
    x32 = rand(3, 4, dtype=np.float32)
    out, cache = L.affine_forward(x32, w, b)
    ref, ref_cache = R.affine_forward(x32, w, b)
    assert out.dtype == ref.dtype
    assert_close(out, ref, rtol=1e-6)
    dout = rand(3, 2, dtype=np.float32)
    for a, r in zip(L.affine_backward(dout, cache), R.affine_backward(dout, ref_cache)):
        assert a.dtype == r.dtype and a.shape == r.shape
        assert_close(a, r, rtol=1e-5, atol=1e-6)


def test_affine_large_is_thread_invariant(restore_threads):
    x, w, b = rand(600, 300), rand(300, 250, seed=1), rand(250, seed=2)  # 45M multiply-adds: 2 tiles
    dout = rand(600, 250, seed=3)
    results = []
    for t in (1, 2, 3):
        cs231n_rs.set_num_threads(t)
        out, cache = L.affine_forward(x, w, b)
        results.append([out, *L.affine_backward(dout, cache)])
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            np.testing.assert_array_equal(a, b_)
    assert_tuple_close(results[0][1:], R.affine_backward(dout, (x, w, b)))


def test_affine_errors():
    x, w, b = rand(4, 3), rand(5, 2), rand(2)
    with pytest.raises(ValueError, match=r"^x: .*\(5, 2\)"):
        L.affine_forward(x, w, b)
    with pytest.raises(ValueError, match="^b: expected shape \\(2,\\)"):
        L.affine_forward(rand(4, 5), w, rand(3))
    with pytest.raises(ValueError, match="^w: expected a 2-D"):
        L.affine_forward(x, rand(3), b)
    _, cache = L.affine_forward(rand(4, 5), w, b)
    with pytest.raises(ValueError, match="^dout: expected shape \\(4, 2\\)"):
        L.affine_backward(rand(4, 3), cache)
    with pytest.raises(TypeError, match="^x: "):
        L.affine_forward(np.array(["a"]), w, b)


# --------------------------------------------------------------------------------------- relu


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_matches_reference_with_nan_inf(dtype):
    x = rand(6, 7, 3, dtype=dtype)
    x[0, 0, 0], x[1, 1, 1], x[2, 2, 2], x[3, 3, 0] = np.nan, np.inf, -np.inf, 0.0
    out, cache = L.relu_forward(x)
    ref, _ = R.relu_forward(x)
    assert cache is x and out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)
    dout = rand(6, 7, 3, dtype=dtype, seed=4)
    dout[4, 4, 0] = np.inf
    np.testing.assert_array_equal(L.relu_backward(dout, cache), R.relu_backward(dout, x))


def test_relu_layouts_and_integers():
    x = rand(30, 20)
    for name, v in layouts(x):
        np.testing.assert_array_equal(L.relu_forward(v)[0], np.maximum(0, x), err_msg=name)
        np.testing.assert_array_equal(L.relu_backward(v, v), R.relu_backward(x, x), err_msg=name)
    xi = np.arange(-3, 3)
    out, _ = L.relu_forward(xi)
    assert out.dtype == xi.dtype and list(out) == [0, 0, 0, 0, 1, 2]
    with pytest.raises(ValueError, match="^dout: expected shape \\(6,\\)"):
        L.relu_backward(np.ones(5), xi)


# --------------------------------------------------------------------------------------- losses


@SETTINGS
@given(n=st.integers(1, 40), c=st.integers(1, 12), dtype=st.sampled_from(DTYPES), kind=st.sampled_from(["svm", "softmax"]))
def test_loss_layers_match_reference(n, c, dtype, kind):
    rs = np.random.RandomState(n * 100 + c)
    x = (rs.randn(n, c) * 3).astype(dtype)
    y = rs.randint(c, size=n)
    ours = getattr(L, kind + "_loss")(x, y)
    ref = getattr(R, kind + "_loss")(x, y)
    assert abs(float(ours[0]) - float(ref[0])) <= (1e-12 if dtype == np.float64 else 1e-5) * max(1.0, abs(float(ref[0])))
    assert ours[1].dtype == ref[1].dtype == dtype
    assert_close(ours[1], ref[1], gemm=False, atol=1e-15 if dtype == np.float64 else 1e-7)


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_loss_layers_layouts_and_errors(kind):
    f = getattr(L, kind + "_loss")
    x, y = rand(20, 10), np.random.RandomState(0).randint(10, size=20)
    base = f(x, y)
    for name, v in layouts(x):
        loss, dx = f(v, y)
        assert loss == base[0], name
        np.testing.assert_array_equal(dx, base[1], err_msg=name)
    with pytest.raises(ValueError, match="^y: labels must be in \\[0, 10\\)"):
        f(x, np.full(20, 10))
    with pytest.raises(ValueError, match="^y: "):
        f(x, y[:5])
    with pytest.raises(TypeError, match="^y: "):
        f(x, y.astype(float))
    with pytest.raises(ValueError, match="^x: expected a 2-D"):
        f(x[0], y[:1])


# --------------------------------------------------------------------------------------- batchnorm


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_train_then_test_matches_reference(dtype):
    x = (rand(64, 33, dtype=dtype) * 4 + 2).astype(dtype)
    gamma, beta = rand(33, dtype=dtype, seed=5), rand(33, dtype=dtype, seed=6)
    ours_p, ref_p = {"mode": "train", "momentum": 0.8}, {"mode": "train", "momentum": 0.8}
    for step in range(3):
        xs = (x + step).astype(dtype)
        out, cache = L.batchnorm_forward(xs, gamma, beta, ours_p)
        ref, ref_cache = R.batchnorm_forward(xs, gamma, beta, ref_p)
        assert_tuple_close([out], [ref], gemm=False)
        for k in ("running_mean", "running_var"):
            assert ours_p[k].dtype == ref_p[k].dtype
            assert_close(ours_p[k], ref_p[k], gemm=False)
        dout = rand(64, 33, dtype=dtype, seed=7 + step)
        ours_g = L.batchnorm_backward(dout, cache)
        assert_tuple_close(ours_g, R.batchnorm_backward(dout, ref_cache))
        assert_tuple_close(L.batchnorm_backward_alt(dout, cache), R.batchnorm_backward_alt(dout, ref_cache))
    ours_p["mode"] = ref_p["mode"] = "test"
    out, _ = L.batchnorm_forward(x, gamma, beta, ours_p)
    ref, _ = R.batchnorm_forward(x, gamma, beta, ref_p)
    assert_tuple_close([out], [ref], gemm=False)


def test_batchnorm_integer_params_layouts_and_no_mutation():
    x = rand(20, 6) * 3
    gamma, beta = np.arange(1, 7), np.arange(6, 0, -1)
    ref, ref_cache = R.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rand(20, 6, seed=3)
    ref_g = R.batchnorm_backward(dout, ref_cache)
    for name, v in layouts(x):
        before = v.copy()
        p = {"mode": "train"}
        out, cache = L.batchnorm_forward(v, gamma, beta, p)
        assert_close(out, ref, gemm=False, atol=1e-13, err_msg=name)
        assert_tuple_close(L.batchnorm_backward(dout, cache), ref_g)
        assert_not_mutated(before, v, name)


def test_batchnorm_errors():
    x = rand(5, 3)
    with pytest.raises(ValueError, match='^Invalid forward batchnorm mode "val"$'):
        L.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "val"})
    with pytest.raises(KeyError):
        L.batchnorm_forward(x, np.ones(3), np.zeros(3), {})
    with pytest.raises(ValueError, match="^gamma: expected shape \\(3,\\)"):
        L.batchnorm_forward(x, np.ones(4), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="^x: expected a 2-D"):
        L.batchnorm_forward(x[0], np.ones(3), np.zeros(3), {"mode": "train"})
    _, cache = L.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="^dout: expected shape \\(5, 3\\)"):
        L.batchnorm_backward(rand(5, 4), cache)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm_matches_reference(dtype):
    x = (rand(17, 40, dtype=dtype) * 2 - 1).astype(dtype)
    gamma, beta = rand(40, dtype=dtype, seed=1), rand(40, dtype=dtype, seed=2)
    out, cache = L.layernorm_forward(x, gamma, beta, {"mode": "train"})
    ref, ref_cache = R.layernorm_forward(x, gamma, beta, {})
    assert_tuple_close([out], [ref])
    dout = rand(17, 40, dtype=dtype, seed=3)
    assert_tuple_close(L.layernorm_backward(dout, cache), R.layernorm_backward(dout, ref_cache))
    out2, _ = L.layernorm_forward(np.asfortranarray(x), gamma, beta, {"eps": 1e-5})
    np.testing.assert_array_equal(out, out2)


def test_norms_are_thread_invariant(restore_threads):
    x, dout = rand(128, 1024) * 2, rand(128, 1024, seed=9)
    gamma, beta = rand(1024, seed=1), rand(1024, seed=2)
    runs = []
    for t in (1, 2, 3):
        cs231n_rs.set_num_threads(t)
        o1, c1 = L.batchnorm_forward(x, gamma, beta, {"mode": "train"})
        o2, c2 = L.layernorm_forward(x, gamma, beta, {})
        runs.append([o1, o2, *L.batchnorm_backward(dout, c1), *L.layernorm_backward(dout, c2)])
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("dtype", DTYPES + [np.int64])
@pytest.mark.parametrize("seed", [None, 123])
@pytest.mark.parametrize("shape", [(7,), (50, 13), (3, 700, 2), (0, 4)])
def test_dropout_mask_and_global_rng_state_equal_reference(dtype, seed, shape):
    x = (rand(*shape) * 10).astype(dtype)
    param = {"mode": "train", "p": 0.37}
    if seed is not None:
        param["seed"] = seed
    np.random.seed(99)
    np.random.randn(3)  # leave a cached gaussian in the state, which must survive
    before = np.random.get_state()
    out, (p_ours, mask) = L.dropout_forward(x, param)
    after_ours = np.random.get_state()
    np.random.set_state(before)
    ref, (_, ref_mask) = R.dropout_forward(x, dict(param))
    after_ref = np.random.get_state()
    assert p_ours is param
    assert out.dtype == x.dtype and mask.dtype == ref_mask.dtype and mask.shape == x.shape
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(out, ref)
    assert after_ours[0] == after_ref[0]
    np.testing.assert_array_equal(after_ours[1], after_ref[1])
    assert after_ours[2:] == after_ref[2:]
    dout = rand(*shape, seed=4)
    np.testing.assert_array_equal(L.dropout_backward(dout, (param, mask)), R.dropout_backward(dout, (param, ref_mask)))


def test_dropout_long_stream_crosses_many_twists_and_layouts():
    x = rand(300, 500)
    np.random.seed(5)
    out, (_, mask) = L.dropout_forward(x.T, {"mode": "train", "p": 0.5})
    np.random.seed(5)
    ref_mask = (np.random.rand(500, 300) < 0.5) / 0.5
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(out, x.T * ref_mask)
    np.random.seed(5)
    np.random.rand(500 * 300)
    expected_next = np.random.rand(4)
    np.random.seed(5)
    L.dropout_forward(x.T, {"mode": "train", "p": 0.5})
    np.testing.assert_array_equal(np.random.rand(4), expected_next)


def test_dropout_test_mode_and_errors():
    x = rand(4, 5)
    out, (param, mask) = L.dropout_forward(x, {"mode": "test", "p": 0.3})
    assert mask is None and np.array_equal(out, x)
    assert L.dropout_backward(x, (param, mask)) is x
    for p in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="^dropout_param\\['p'\\]"):
            L.dropout_forward(x, {"mode": "train", "p": p})
    with pytest.raises(ValueError, match='^Invalid forward dropout mode "eval"$'):
        L.dropout_forward(x, {"mode": "eval", "p": 0.5})
    _, cache = L.dropout_forward(x, {"mode": "train", "p": 0.5})
    with pytest.raises(ValueError, match="^dout: expected shape"):
        L.dropout_backward(rand(3, 5), cache)


def test_dropout_is_thread_invariant(restore_threads):
    x = rand(128, 4096)
    masks = []
    for t in (1, 2, 3):
        cs231n_rs.set_num_threads(t)
        np.random.seed(0)
        masks.append(L.dropout_forward(x, {"mode": "train", "p": 0.5})[1][1])
    for m in masks[1:]:
        np.testing.assert_array_equal(masks[0], m)


# --------------------------------------------------------------------------------------- contract


def test_no_panic_exception_on_garbage():
    bad_inputs = [
        lambda: L.affine_forward(rand(0, 3), rand(3, 0), rand(0)),
        lambda: L.affine_backward(rand(0, 0), (rand(0, 3), rand(3, 0), rand(0))),
        lambda: L.batchnorm_forward(rand(0, 3), np.ones(3), np.zeros(3), {"mode": "train"}),
        lambda: L.layernorm_forward(rand(3, 0), np.ones(0), np.zeros(0), {}),
        lambda: L.softmax_loss(rand(0, 3), np.zeros(0, dtype=int)),
        lambda: L.dropout_forward(rand(0), {"mode": "train", "p": 1.0}),
    ]
    for f in bad_inputs:
        try:
            f()
        except (ValueError, TypeError):
            pass
        except BaseException as e:  # PanicException derives from BaseException
            raise AssertionError("unexpected %r" % e)


def test_private_helpers_refuse_bad_input():
    """The Rust helpers behind the nets (dtype cast, fused L2 term) give clear errors, not panics."""
    from cs231n_rs import _core

    with pytest.raises(ValueError, match="^dtype: expected 'float32' or 'float64'"):
        _core.cast(np.zeros(3), "int8")
    np.testing.assert_array_equal(_core.cast(np.arange(5.0), "float32"), np.arange(5.0).astype(np.float32))
    with pytest.raises(ValueError, match="^dw: "):
        _core.l2_reg(np.ones(4), np.ones(3), 0.5)
    with pytest.raises(TypeError, match="^dw: expected a writable"):
        _core.l2_reg(np.ones(4), np.ones(4, dtype=np.float32), 0.5)
    w, dw = np.arange(4.0), np.ones(4)
    assert _core.l2_reg(w, dw, 0.5) == 14.0
    np.testing.assert_array_equal(dw, 1 + 0.5 * w)
