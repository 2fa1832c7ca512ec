"""Max pooling (cs231n_rs._pooling) against a plain-loop oracle and the NumPy reference
(cs231n_rs.reference._pooling): random geometries (odd sizes, overlapping windows, stride > pool,
remainders), every memory layout, float32/float64/integer/float16 inputs, both tie rules with
planted ties, NaN, the notebook check, numeric gradients, thread-count invariance, caches, inputs
left unmodified and the error contract."""

import re

import numpy as np
import pytest
from conftest import assert_not_mutated, layouts, rel_error

import cs231n_rs
from cs231n_rs import _core
from cs231n_rs import _pooling as P
from cs231n_rs.gradient_check import eval_numerical_gradient_array
from cs231n_rs.reference import _pooling as R

pytestmark = pytest.mark.usefixtures("np_seed")

FIRST, SPLIT = "first", "split"


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(dtype)


def coarse(*shape, dtype=np.float64, seed=0):
    """Small integers as floats: windows hold many tied maxima."""
    return np.random.RandomState(seed).randint(-3, 4, size=shape).astype(dtype)


def pp(ph, pw, s):
    return {"pool_height": ph, "pool_width": pw, "stride": s}


# ------------------------------------------------------------------------------------------ oracle


def oracle_forward(x, ph, pw, s):
    x = np.asarray(x, dtype=np.float64)
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    out[n, c, i, j] = np.nan if np.isnan(win).any() else win.max()
    return out


def oracle_backward(dout, x, ph, pw, s, rule):
    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    N, C = x.shape[:2]
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        for n in range(N):
            for c in range(C):
                # windows in reverse order: overlapping contributions add in the reference's order
                for i in reversed(range(Ho)):
                    for j in reversed(range(Wo)):
                        cells = [(i * s + a, j * s + b) for a in range(ph) for b in range(pw)]
                        vals = [x[n, c, r, q] for r, q in cells]
                        m = np.nan if any(np.isnan(v) for v in vals) else max(vals)
                        g = dout[n, c, i, j]
                        if rule == FIRST:
                            k = next(k for k, v in enumerate(vals) if np.isnan(v) or v == m)
                            dx[n, c, cells[k][0], cells[k][1]] += g
                        else:
                            count = sum(v == m for v in vals)
                            for (r, q), v in zip(cells, vals):
                                dx[n, c, r, q] += (g if v == m else 0.0) / np.float64(count)
    return dx


def assert_same(a, b, msg=""):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape, msg)
    np.testing.assert_array_equal(a, b, err_msg=msg)


# Geometries: (N, C, H, W, ph, pw, stride) - tiling, odd sizes, overlap, stride > pool, remainders.
GEOMETRIES = [
    (2, 3, 4, 4, 2, 2, 2),
    (2, 3, 5, 7, 2, 2, 2),  # remainders on both axes
    (1, 2, 6, 6, 3, 3, 3),
    (2, 2, 7, 5, 3, 2, 1),  # overlapping
    (1, 3, 9, 8, 3, 3, 2),  # overlapping with remainder
    (2, 1, 9, 10, 2, 2, 3),  # stride > pool: gaps
    (1, 2, 5, 5, 5, 5, 1),  # one window covering everything
    (3, 2, 4, 6, 1, 1, 1),  # identity
    (1, 1, 8, 3, 4, 1, 2),
    (2, 2, 3, 11, 1, 4, 3),
]


@pytest.mark.parametrize("geom", GEOMETRIES)
@pytest.mark.parametrize("data", [rand, coarse])
def test_matches_the_loop_oracle(geom, data):
    N, C, H, W, ph, pw, s = geom
    x = data(N, C, H, W, seed=sum(geom))
    out, cache = P.max_pool_forward_naive(x, pp(ph, pw, s))
    assert_same(out, oracle_forward(x, ph, pw, s))
    dout = rand(*out.shape, seed=7)
    assert_same(P.max_pool_backward_naive(dout, cache), oracle_backward(dout, x, ph, pw, s, FIRST))
    out2, cache2 = P.max_pool_forward_im2col(x, pp(ph, pw, s))
    assert_same(out2, out)
    assert_same(P.max_pool_backward_im2col(dout, cache2), oracle_backward(dout, x, ph, pw, s, FIRST))
    dx = _core.max_pool_backward(dout, x, ph, pw, s, True)
    np.testing.assert_allclose(dx, oracle_backward(dout, x, ph, pw, s, SPLIT), rtol=1e-15, atol=0)


@pytest.mark.parametrize("seed", range(40))
def test_random_geometries_match_oracle_and_reference(seed):
    rs = np.random.RandomState(seed)
    ph, pw, s = rs.randint(1, 5, size=3)
    N, C = rs.randint(1, 4, size=2)
    H, W = ph + rs.randint(0, 8), pw + rs.randint(0, 8)
    x = (rs.randint(-2, 3, size=(N, C, H, W)) if seed % 2 else rs.randn(N, C, H, W)).astype(np.float64)
    param = pp(int(ph), int(pw), int(s))
    out, cache = P.max_pool_forward_naive(x, param)
    ref, ref_cache = R.max_pool_forward_naive(x, param)
    assert_same(out, ref)
    assert_same(out, oracle_forward(x, ph, pw, s))
    dout = rs.randn(*out.shape)
    dx = P.max_pool_backward_naive(dout, cache)
    assert_same(dx, R.max_pool_backward_naive(dout, ref_cache))
    assert_same(dx, oracle_backward(dout, x, ph, pw, s, FIRST))
    out, cache = P.max_pool_forward_fast(x, param)
    assert_same(out, ref)
    dx = P.max_pool_backward_fast(dout, cache)
    if cache[0] == "reshape":
        _, ref_cache = R.max_pool_forward_reshape(x, param)
        assert_same(dx, R.max_pool_backward_reshape(dout, ref_cache))
        assert_same(dx, oracle_backward(dout, x, ph, pw, s, SPLIT))
    else:
        assert_same(dx, oracle_backward(dout, x, ph, pw, s, FIRST))
        if (H - ph) % s == 0 and (W - pw) % s == 0:  # the reference keeps cs231n's asserts
            _, ref_cache = R.max_pool_forward_im2col(x, param)
            assert_same(dx, R.max_pool_backward_im2col(dout, ref_cache))


# ------------------------------------------------------------------------------------------ notebook


def test_notebook_forward_check():
    x_shape = (2, 3, 4, 4)
    x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
    pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
    out, _ = P.max_pool_forward_naive(x, pool_param)
    correct_out = np.array(
        [
            [
                [[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]],
            ],
            [
                [[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                [[0.32631579, 0.34105263], [0.38526316, 0.4]],
            ],
        ]
    )
    assert rel_error(out, correct_out) < 1e-7
    for f in (P.max_pool_forward_fast, P.max_pool_forward_reshape, P.max_pool_forward_im2col):
        assert rel_error(f(x, pool_param)[0], correct_out) < 1e-7


def test_notebook_numeric_gradient():
    np.random.seed(231)
    x = np.random.randn(3, 2, 8, 8)
    dout = np.random.randn(3, 2, 4, 4)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dx_num = eval_numerical_gradient_array(lambda x: P.max_pool_forward_naive(x, pool_param)[0], x, dout)
    _, cache = P.max_pool_forward_naive(x, pool_param)
    assert rel_error(P.max_pool_backward_naive(dout, cache), dx_num) < 1e-8  # notebook: "around 1e-12"
    _, cache = P.max_pool_forward_fast(x, pool_param)
    assert rel_error(P.max_pool_backward_fast(dout, cache), dx_num) < 1e-8


def test_numeric_gradient_overlapping_windows():
    x = rand(2, 2, 7, 6, seed=3)
    param = pp(3, 2, 1)
    dout = rand(2, 2, 5, 5, seed=4)
    dx_num = eval_numerical_gradient_array(lambda x: P.max_pool_forward_naive(x, param)[0], x, dout)
    _, cache = P.max_pool_forward_naive(x, param)
    assert rel_error(P.max_pool_backward_naive(dout, cache), dx_num) < 1e-8
    _, cache = P.max_pool_forward_fast(x, param)
    assert cache[0] == "im2col"
    assert rel_error(P.max_pool_backward_fast(dout, cache), dx_num) < 1e-8


def test_notebook_fast_vs_naive():
    np.random.seed(231)
    x = np.random.randn(100, 3, 32, 32)
    dout = np.random.randn(100, 3, 16, 16)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_naive, cache_naive = P.max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = P.max_pool_forward_fast(x, pool_param)
    assert rel_error(out_naive, out_fast) == 0.0
    dx_naive = P.max_pool_backward_naive(dout, cache_naive)
    dx_fast = P.max_pool_backward_fast(dout, cache_fast)
    assert rel_error(dx_naive, dx_fast) == 0.0  # random data: no ties, both rules agree


# ------------------------------------------------------------------------------------------ ties, NaN


def test_planted_ties_split_or_go_first():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, :2, :2] = [[1, 5], [5, 5]]  # three tied maxima
    x[0, 0, :2, 2:] = [[7, 7], [7, 7]]  # four
    x[0, 0, 2:, :2] = [[-1, -2], [-3, -1]]  # two
    x[0, 0, 2:, 2:] = [[0, 0], [1, 0]]  # one
    dout = np.array([[[[3.0, 8.0], [5.0, 2.0]]]])
    param = pp(2, 2, 2)
    _, cache = P.max_pool_forward_naive(x, param)
    first = P.max_pool_backward_naive(dout, cache)
    expect_first = [[0, 3, 8, 0], [0, 0, 0, 0], [5, 0, 0, 0], [0, 0, 2, 0]]
    assert_same(first[0, 0], expect_first)
    _, cache = P.max_pool_forward_reshape(x, param)
    split = P.max_pool_backward_reshape(dout, cache)
    expect_split = [[0, 1, 2, 2], [1, 1, 2, 2], [2.5, 0, 0, 0], [0, 2.5, 2, 0]]
    assert_same(split[0, 0], expect_split)
    _, ref_cache = R.max_pool_forward_reshape(x, param)
    assert_same(split, R.max_pool_backward_reshape(dout, ref_cache))
    _, ref_cache = R.max_pool_forward_naive(x, param)
    assert_same(first, R.max_pool_backward_naive(dout, ref_cache))
    # the split shares follow the reference's division exactly (thirds)
    assert split[0, 0, 0, 1] == 3.0 / 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("geom", [(2, 3, 8, 8, 2, 2, 2), (2, 2, 7, 9, 3, 3, 2), (1, 2, 6, 6, 3, 3, 3)])
def test_nan_follows_the_reference(dtype, geom):
    N, C, H, W, ph, pw, s = geom
    x = coarse(N, C, H, W, dtype=dtype, seed=5)
    x[0, 0, 0, 0] = np.nan
    x[0, 1, 1, 1] = np.nan
    x[0, 1, 0, 1] = np.nan
    x[-1, -1, H - 1, W - 1] = np.nan
    param = pp(ph, pw, s)
    out, cache = P.max_pool_forward_naive(x, param)
    ref, ref_cache = R.max_pool_forward_naive(x, param)
    assert_same(out, ref)
    assert np.isnan(out[0, 0, 0, 0]) and out.dtype == dtype
    dout = rand(*out.shape, dtype=dtype, seed=6)
    with np.errstate(invalid="ignore"):
        assert_same(P.max_pool_backward_naive(dout, cache), R.max_pool_backward_naive(dout, ref_cache))
        dx = _core.max_pool_backward(dout, x, ph, pw, s, True)
        want = oracle_backward(dout, x, ph, pw, s, SPLIT)  # float64 sums of shares
        np.testing.assert_allclose(dx, want, rtol=0 if dtype == np.float64 else 1e-6)
        if ph == pw == s and H % ph == 0 and W % pw == 0:
            _, cache = P.max_pool_forward_reshape(x, param)
            _, ref_cache = R.max_pool_forward_reshape(x, param)
            dx = P.max_pool_backward_reshape(dout, cache)
            assert_same(dx, R.max_pool_backward_reshape(dout, ref_cache))
            # a window holding NaN: every element gets 0 / 0 = NaN
            assert np.isnan(dx[0, 0, :ph, :pw]).all()


# ------------------------------------------------------------------------------------------ layouts


def layouts4(x):
    """``(name, view)``: x (N, C, H, W) in many memory layouts (the 2-D ``layouts`` of its
    (N*C*H, W) matrix reshaped back, plus 4-D transposes and negative steps)."""
    N, C, H, W = x.shape
    for name, v in layouts(x.reshape(N * C * H, W)):
        yield name, v.reshape(N, C, H, W)
    yield "HW-transposed", x.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)
    yield "channels-last", x.transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)
    yield "all-reversed", x[::-1, ::-1, ::-1, ::-1].copy()[::-1, ::-1, ::-1, ::-1]
    yield "rows-reversed", x[:, :, ::-1].copy()[:, :, ::-1]
    big = np.zeros((N + 1, 2 * C, 2 * H + 1, 3 * W), dtype=x.dtype)
    big[1:, ::2, 1::2, ::3] = x
    yield "strided-4d", big[1:, ::2, 1::2, ::3]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("geom", [(2, 3, 8, 10, 2, 2, 2), (2, 3, 7, 9, 3, 2, 2)])
def test_every_layout_gives_the_same_bits(dtype, geom):
    N, C, H, W, ph, pw, s = geom
    x = coarse(N, C, H, W, dtype=dtype, seed=1) + rand(N, C, H, W, dtype=dtype, seed=2) * (dtype == np.float64)
    param = pp(ph, pw, s)
    out0, _ = P.max_pool_forward_naive(x, param)
    dout = rand(*out0.shape, dtype=dtype, seed=3)
    dx0 = P.max_pool_backward_naive(dout, (x, param))
    dxs0 = _core.max_pool_backward(dout, x, ph, pw, s, True)
    for name, xv in layouts4(x):
        before = xv.copy()
        out, cache = P.max_pool_forward_naive(xv, param)
        np.testing.assert_array_equal(out, out0, err_msg=name)
        assert out.flags.c_contiguous and out.dtype == dtype
        for dname, dv in [("C", dout), ("dout-reversed", dout[:, :, ::-1, ::-1].copy()[:, :, ::-1, ::-1])]:
            np.testing.assert_array_equal(P.max_pool_backward_naive(dv, cache), dx0, err_msg=name + dname)
            np.testing.assert_array_equal(P.max_pool_backward_im2col(dv, (xv, None, None, param)), dx0)
        out, cache = P.max_pool_forward_fast(xv, param)
        np.testing.assert_array_equal(out, out0, err_msg=name)
        if cache[0] == "reshape":
            np.testing.assert_array_equal(P.max_pool_backward_fast(dout, cache), dxs0, err_msg=name)
        assert_not_mutated(before, xv, name)


# ------------------------------------------------------------------------------------------ dtypes


def test_float32_stays_float32_and_agrees_with_float64():
    x64 = rand(4, 3, 9, 8, seed=8)
    x32 = x64.astype(np.float32)
    for param in (pp(2, 2, 2), pp(3, 3, 2)):
        out32, cache32 = P.max_pool_forward_fast(x32, param)
        out64, cache64 = P.max_pool_forward_fast(x64.astype(np.float32).astype(np.float64), param)
        assert out32.dtype == np.float32
        assert_same(out32, out64)
        dout = rand(*out32.shape, dtype=np.float32, seed=9)
        dx32 = P.max_pool_backward_fast(dout, cache32)
        assert dx32.dtype == np.float32
        dx64 = P.max_pool_backward_fast(dout.astype(np.float64), cache64)
        if param["stride"] == param["pool_height"]:
            assert_same(dx32, dx64)
        else:  # overlapping windows: sums rounded in float32
            np.testing.assert_allclose(dx32, dx64, rtol=1e-6)


def test_integer_input_computes_in_float64():
    x = np.random.RandomState(0).randint(-50, 50, size=(2, 3, 6, 6))
    for f in (P.max_pool_forward_naive, P.max_pool_forward_fast, P.max_pool_forward_reshape):
        out, cache = f(x, pp(2, 2, 2))
        assert out.dtype == np.float64
        assert_same(out, R.max_pool_forward_naive(x, pp(2, 2, 2))[0])
    dout = np.ones((2, 3, 3, 3), dtype=np.int64)
    dx = P.max_pool_backward_naive(dout, (x, pp(2, 2, 2)))
    assert dx.dtype == np.float64
    assert_same(dx, R.max_pool_backward_naive(dout, (x, pp(2, 2, 2))))
    _, cache = P.max_pool_forward_reshape(x, pp(2, 2, 2))
    _, ref_cache = R.max_pool_forward_reshape(x, pp(2, 2, 2))
    dx = P.max_pool_backward_reshape(dout, cache)
    assert dx.dtype == np.float64
    assert_same(dx, R.max_pool_backward_reshape(dout, ref_cache))


def test_float16_and_mixed_dtypes():
    x16 = rand(2, 2, 6, 6, dtype=np.float16, seed=1)
    out, cache = P.max_pool_forward_naive(x16, pp(3, 3, 3))
    assert out.dtype == np.float16
    assert_same(out, R.max_pool_forward_naive(x16, pp(3, 3, 3))[0])
    dout16 = rand(2, 2, 2, 2, dtype=np.float16, seed=2)
    dx = P.max_pool_backward_naive(dout16, cache)
    assert dx.dtype == np.float16
    assert_same(dx, R.max_pool_backward_naive(dout16, cache))
    # x float32, dout float64: dx in the promoted dtype, as the reference
    x32 = rand(2, 2, 6, 6, dtype=np.float32, seed=3)
    dout64 = rand(2, 2, 3, 3, seed=4)
    dx = P.max_pool_backward_naive(dout64, (x32, pp(2, 2, 2)))
    ref = R.max_pool_backward_naive(dout64, (x32, pp(2, 2, 2)))
    assert dx.dtype == ref.dtype == np.float64
    assert_same(dx, ref)


def test_lists_are_accepted():
    x = rand(1, 1, 4, 4).tolist()
    out, cache = P.max_pool_forward_fast(x, pp(2, 2, 2))
    assert_same(out, oracle_forward(np.array(x), 2, 2, 2))
    P.max_pool_backward_fast(np.ones((1, 1, 2, 2)).tolist(), cache)


# ------------------------------------------------------------------------------------------ caches


def test_caches_are_cs231n_s():
    x = rand(2, 3, 8, 6, seed=1)
    param = pp(2, 2, 2)
    out, cache = P.max_pool_forward_naive(x, param)
    assert cache[0] is x and cache[1] is param and len(cache) == 2

    out, cache = P.max_pool_forward_reshape(x, param)
    cx, x_reshaped, cout = cache
    assert cx is x and cout is out
    assert x_reshaped.shape == (2, 3, 4, 2, 3, 2)
    assert np.shares_memory(x_reshaped, x)
    assert_same(x_reshaped, x.reshape(2, 3, 4, 2, 3, 2))

    out, cache = P.max_pool_forward_fast(x, param)
    assert cache[0] == "reshape" and cache[1][0] is x and len(cache[1]) == 3

    param = pp(3, 2, 2)  # not square: im2col
    x = rand(2, 3, 9, 6, seed=2)  # (9 - 3) % 2 == 0: the reference's asserts pass
    out, cache = P.max_pool_forward_fast(x, param)
    assert cache[0] == "im2col"
    cx, x_cols, x_cols_argmax, cparam = cache[1]
    assert cx is x and cparam is param
    _, ref_cache = R.max_pool_forward_im2col(x, param)
    assert_same(x_cols, ref_cache[1])
    np.testing.assert_array_equal(x_cols_argmax, ref_cache[2])
    # cs231n's layout of x_cols: (ph * pw, H' * W' * N * C), columns ordered (h', w', n*C + c)
    Ho, Wo = out.shape[2:]
    assert x_cols.shape == (6, Ho * Wo * 6)
    n, c, i, j = 1, 2, 1, 2
    col = (i * Wo + j) * 6 + n * 3 + c
    assert_same(x_cols[:, col], x[n, c, 2 * i : 2 * i + 3, 2 * j : 2 * j + 2].ravel())
    assert_same(x_cols[x_cols_argmax, np.arange(x_cols.shape[1])].reshape(Ho, Wo, 2, 3).transpose(2, 3, 0, 1), out)


def test_im2col_works_for_windows_that_do_not_tile():
    x = rand(2, 2, 9, 8, seed=4)
    param = pp(3, 3, 2)  # (8 - 3) % 2 != 0: cs231n asserted (and then failed with NameError)
    out, cache = P.max_pool_forward_im2col(x, param)
    assert_same(out, oracle_forward(x, 3, 3, 2))
    dout = rand(*out.shape, seed=5)
    assert_same(P.max_pool_backward_im2col(dout, cache), oracle_backward(dout, x, 3, 3, 2, FIRST))
    x_cols, argmax = cache[1], cache[2]
    assert x_cols.shape == (9, 4 * 3 * 4) and argmax.shape == (48,)


def test_unknown_cache_tag():
    with pytest.raises(ValueError, match='^Unrecognized method "strides"$'):
        P.max_pool_backward_fast(np.ones((1, 1, 1, 1)), ("strides", None))


# ------------------------------------------------------------------------------------------ threads


@pytest.mark.parametrize("geom", [(16, 16, 32, 32, 2, 2, 2), (8, 16, 33, 31, 3, 3, 2)])
def test_results_do_not_depend_on_the_thread_count(restore_threads, geom):
    N, C, H, W, ph, pw, s = geom
    x = coarse(N, C, H, W, seed=11) + rand(N, C, H, W, seed=12) * 0.25
    param = pp(ph, pw, s)
    results = []
    for t in (1, 2, 3):
        cs231n_rs.set_num_threads(t)
        out, cache = P.max_pool_forward_fast(x, param)
        dout = rand(*out.shape, seed=13)
        dx = P.max_pool_backward_fast(dout, cache)
        dx1 = _core.max_pool_backward(dout, x, ph, pw, s, False)
        dx2 = _core.max_pool_backward(dout, x, ph, pw, s, True)
        results.append((out, dx, dx1, dx2))
    for r in results[1:]:
        for a, b in zip(r, results[0]):
            assert a.tobytes() == b.tobytes()


# ------------------------------------------------------------------------------------------ contract


def test_inputs_are_not_mutated():
    x = coarse(2, 3, 6, 6, seed=2)
    x[0, 0, 0, 0] = np.nan
    param = pp(2, 2, 2)
    x0, p0 = x.copy(), dict(param)
    for fwd, bwd in [
        (P.max_pool_forward_naive, P.max_pool_backward_naive),
        (P.max_pool_forward_fast, P.max_pool_backward_fast),
        (P.max_pool_forward_im2col, P.max_pool_backward_im2col),
    ]:
        out, cache = fwd(x, param)
        dout = rand(*out.shape, seed=3)
        d0 = dout.copy()
        with np.errstate(invalid="ignore"):
            bwd(dout, cache)
        assert_not_mutated(x0, x)
        assert_not_mutated(d0, dout)
        assert param == p0


def test_bad_pool_params():
    x = rand(2, 3, 4, 4)
    with pytest.raises(KeyError):
        P.max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2})
    with pytest.raises(KeyError):
        P.max_pool_forward_fast(x, {"pool_width": 2, "stride": 2})
    for key, value in [("pool_height", 0), ("pool_width", -1), ("stride", 0)]:
        param = dict(pp(2, 2, 2), **{key: value})
        for f in (P.max_pool_forward_naive, P.max_pool_forward_fast, P.max_pool_forward_im2col):
            with pytest.raises(ValueError, match=r"pool_param\['%s'\].*%s" % (key, value)):
                f(x, param)
    # non-integers are a TypeError naming the key, as conv_param's (and NumPy's np.zeros on a float size)
    for key, value, kind in [("stride", 2.5, "float"), ("stride", 2.0, "float"), ("pool_height", "2", "str"),
                             ("pool_width", True, "bool")]:
        param = dict(pp(2, 2, 2), **{key: value})
        for f in (P.max_pool_forward_naive, P.max_pool_forward_fast, P.max_pool_forward_im2col):
            with pytest.raises(TypeError, match=r"pool_param\['%s'\]: expected an int, got %s" % (key, kind)):
                f(x, param)
    with pytest.raises(ValueError, match="2x5 pool on a 4x4 input"):
        P.max_pool_forward_naive(x, pp(2, 5, 1))
    with pytest.raises(ValueError, match="5x2 pool on a 4x4 input"):
        P.max_pool_forward_fast(x, pp(5, 2, 1))
    # numpy integers are fine
    out, _ = P.max_pool_forward_naive(x, {"pool_height": np.int64(2), "pool_width": np.int32(2), "stride": 2})
    assert out.shape == (2, 3, 2, 2)


def test_reshape_asserts_like_cs231n():
    x = rand(2, 3, 6, 6)
    with pytest.raises(AssertionError, match="Invalid pool params"):
        P.max_pool_forward_reshape(x, pp(2, 3, 2))
    with pytest.raises(AssertionError, match="Invalid pool params"):
        P.max_pool_forward_reshape(x, pp(2, 2, 1))
    with pytest.raises(AssertionError):
        P.max_pool_forward_reshape(rand(2, 3, 5, 6), pp(2, 2, 2))
    with pytest.raises(AssertionError):
        P.max_pool_forward_reshape(rand(2, 3, 6, 5), pp(2, 2, 2))


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"x: expected a 4-D array.*\(3, 4, 4\)"):
        P.max_pool_forward_naive(rand(3, 4, 4), pp(2, 2, 2))
    with pytest.raises(ValueError, match=r"x: expected a 4-D"):
        P.max_pool_forward_fast(rand(1, 3, 4, 4, 1), pp(2, 2, 2))
    x = rand(2, 3, 4, 4)
    for fwd, bwd in [
        (P.max_pool_forward_naive, P.max_pool_backward_naive),
        (P.max_pool_forward_fast, P.max_pool_backward_fast),
        (P.max_pool_forward_reshape, P.max_pool_backward_reshape),
        (P.max_pool_forward_im2col, P.max_pool_backward_im2col),
    ]:
        _, cache = fwd(x, pp(2, 2, 2))
        with pytest.raises(ValueError, match=r"dout: expected shape \(2, 3, 2, 2\)"):
            bwd(np.ones((2, 3, 2, 3)), cache)
    with pytest.raises(TypeError, match="^x: "):
        P.max_pool_forward_naive(np.ones((1, 1, 2, 2), dtype=complex), pp(2, 2, 2))


def test_empty_batches():
    x = np.zeros((0, 3, 4, 4))
    for fwd, bwd in [(P.max_pool_forward_naive, P.max_pool_backward_naive), (P.max_pool_forward_fast, P.max_pool_backward_fast)]:
        out, cache = fwd(x, pp(2, 2, 2))
        assert out.shape == (0, 3, 2, 2)
        assert bwd(np.zeros((0, 3, 2, 2)), cache).shape == (0, 3, 4, 4)


def test_bindings_never_panic():
    x = rand(2, 3, 4, 4)
    x32 = x.astype(np.float32)
    calls = [
        (lambda: _core.max_pool_forward(x, 0, 2, 2), ValueError, "^pool_height: must be at least 1"),
        (lambda: _core.max_pool_forward(x, 2, -3, 2), ValueError, "^pool_width: must be at least 1, got -3"),
        (lambda: _core.max_pool_forward(x, 2, 2, 0), ValueError, "^stride: "),
        (lambda: _core.max_pool_forward(x, 5, 2, 2), ValueError, "^pool_height: the 5x2 pool window does not fit"),
        (lambda: _core.max_pool_forward(x, 2, 9, 2), ValueError, "^pool_width: .* W = 4"),
        (lambda: _core.max_pool_forward(x[0], 2, 2, 2), TypeError, ""),
        (lambda: _core.max_pool_forward(x.astype(int), 2, 2, 2), TypeError, ""),
        (lambda: _core.max_pool_forward(x, 2**62, 2, 2), ValueError, "^pool_height:"),
        (lambda: _core.max_pool_backward(np.ones((2, 3, 2, 2)), x32, 2, 2, 2, False), TypeError, "^x: expected a 4-D float64"),
        (lambda: _core.max_pool_backward(np.ones((2, 3, 2, 3)), x, 2, 2, 2, True), ValueError, "^dout: expected shape"),
        (lambda: _core.max_pool_backward(np.ones((2, 3, 2, 2)), x, 0, 2, 2, True), ValueError, "^pool_height:"),
        (lambda: _core.max_pool_backward(np.ones((2, 3, 2, 2)), x[..., :1], 2, 2, 2, True), ValueError, "^pool_width:"),
    ]
    for f, exc, pattern in calls:
        try:
            f()
        except exc as e:
            assert pattern == "" or re.search(pattern, str(e)), str(e)
        except BaseException as e:  # PanicException derives from BaseException
            raise AssertionError("unexpected %r" % e) from e
        else:
            raise AssertionError("no error from %r" % f)


def test_public_names():
    assert sorted(P.__all__) == sorted(R.__all__)
    for name in P.__all__:
        assert callable(getattr(P, name))
