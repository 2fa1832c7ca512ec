"""cs231n_rs convolution layers (naive and fast variants, im2col / col2im), spatial batch and group
norm, and the conv sandwiches against the NumPy reference: values on random geometries, every
memory layout, dtypes, caches, thread-count invariance and the error contract."""

import numpy as np
import pytest
from conftest import assert_close, assert_not_mutated, layouts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cs231n_rs
from cs231n_rs import _core, fast_layers, layer_utils
from cs231n_rs import layers as L
from cs231n_rs.reference import fast_layers as RF
from cs231n_rs.reference import im2col as RI
from cs231n_rs.reference import layer_utils as RU
from cs231n_rs.reference import layers as R

pytestmark = pytest.mark.usefixtures("np_seed")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.float64, np.float32]


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(dtype)


def assert_all_close(ours, ref, atol=None):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
        tol = atol if atol is not None else (1e-12 if b.dtype == np.float64 else 1e-5) * scale
        assert_close(a, b, atol=tol)


def image_layouts(a):
    """4-D layout variants: each 2-D layout of ``a`` seen as (N*C, H*W), reshaped back where NumPy
    keeps it a view, plus channels-last, negative steps on H and W, and a strided crop."""
    n, c, h, w = a.shape
    for name, v in layouts(a.reshape(n * c, h * w)):
        yield name, v.reshape(n, c, h, w)
    yield "channels-last", np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    yield "negative-hw", np.ascontiguousarray(a[:, :, ::-1, ::-1])[:, :, ::-1, ::-1]
    big = np.zeros((n, c + 1, 2 * h + 1, 3 * w), dtype=a.dtype)
    big[:, 1:, 1::2, ::3] = a
    yield "strided-crop", big[:, 1:, 1::2, ::3]


# --------------------------------------------------------------------------------- convolution


@st.composite
def geometries(draw):
    hh, ww = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 3))
    h = draw(st.integers(max(1, hh - 2 * pad), 11))
    w = draw(st.integers(max(1, ww - 2 * pad), 11))
    return (draw(st.integers(1, 4)), draw(st.integers(1, 4)), h, w), (draw(st.integers(1, 5)), hh, ww), stride, pad


@SETTINGS
@given(geom=geometries(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_conv_matches_reference(geom, dtype, seed):
    (n, c, h, w), (f, hh, ww), stride, pad = geom
    x, wt, b = rand(n, c, h, w, dtype=dtype, seed=seed), rand(f, c, hh, ww, dtype=dtype, seed=seed + 1), rand(f, dtype=dtype, seed=seed + 2)
    cp = {"stride": stride, "pad": pad}
    out, cache = L.conv_forward_naive(x, wt, b, cp)
    ref, ref_cache = R.conv_forward_naive(x, wt, b, cp)
    assert_all_close([out], [ref])
    assert cache == (x, wt, b, cp) or all(a is b_ for a, b_ in zip(cache, (x, wt, b, cp)))
    dout = rand(*ref.shape, dtype=dtype, seed=seed + 3)
    assert_all_close(L.conv_backward_naive(dout, cache), R.conv_backward_naive(dout, ref_cache))
    fout, fcache = fast_layers.conv_forward_fast(x, wt, b, cp)
    assert_all_close([fout], [ref])
    assert len(fcache) == 5 and all(a is b_ for a, b_ in zip(fcache[:4], (x, wt, b, cp)))
    assert_all_close(fast_layers.conv_backward_fast(dout, fcache), R.conv_backward_naive(dout, ref_cache))


def test_notebook_conv_forward_naive():
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = L.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    # The notebook's correct_out; "difference should be around e-8"
    correct = np.array(
        [
            [[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]], [[0.21027089, 0.21661097], [0.22847626, 0.23004637]], [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
            [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]], [[0.69108355, 0.66880383], [0.59480972, 0.56776003]], [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]],
        ]
    )
    from conftest import rel_error

    assert rel_error(out, correct) < 1e-7


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_any_layout_same_bits(dtype):
    x, w, b = rand(5, 3, 9, 8, dtype=dtype), rand(4, 3, 3, 3, dtype=dtype, seed=1), rand(4, dtype=dtype, seed=2)
    cp = {"stride": 1, "pad": 1}
    base, cache = L.conv_forward_naive(x, w, b, cp)
    dout = rand(*base.shape, dtype=dtype, seed=3)
    grads = L.conv_backward_naive(dout, cache)
    for name, xv in image_layouts(x):
        before = xv.copy()
        out, c = L.conv_forward_naive(xv, w, b, cp)
        np.testing.assert_array_equal(out, base, err_msg=name)
        for got, want in zip(L.conv_backward_naive(dout, c), grads):
            np.testing.assert_array_equal(got, want, err_msg=name)
        assert_not_mutated(before, xv, name)
    for name, wv in image_layouts(w):
        np.testing.assert_array_equal(L.conv_forward_naive(x, wv, b, cp)[0], base, err_msg="w " + name)
    for name, dv in image_layouts(dout):
        for got, want in zip(L.conv_backward_naive(dv, cache), grads):
            np.testing.assert_array_equal(got, want, err_msg="dout " + name)


def test_conv_pointwise_and_layouts():
    """1x1 stride-1 pad-0 filters take the no-im2col path, also on views whose planes are not flat."""
    x, w, b = rand(3, 4, 6, 5), rand(7, 4, 1, 1, seed=1), rand(7, seed=2)
    cp = {"stride": 1, "pad": 0}
    ref, rc = R.conv_forward_naive(x, w, b, cp)
    dout = rand(*ref.shape, seed=3)
    want = R.conv_backward_naive(dout, rc)
    for name, xv in image_layouts(x):
        out, c = L.conv_forward_naive(xv, w, b, cp)
        assert_all_close([out], [ref])
        assert_all_close(L.conv_backward_naive(dout, c), want)


def test_conv_dtypes_follow_numpy():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)  # int64 images
    w = rand(2, 3, 3, 3, dtype=np.float32, seed=1)
    b = np.array([0, 128])  # the notebook's image-processing demo passes an int bias
    cp = {"stride": 1, "pad": 1}
    out, cache = L.conv_forward_naive(x, w, b, cp)
    ref, rc = R.conv_forward_naive(x, w, b, cp)
    assert out.dtype == ref.dtype
    assert_close(out, ref, dtype=ref.dtype)
    x16 = rand(2, 3, 5, 5, dtype=np.float16)
    w16 = rand(2, 3, 3, 3, dtype=np.float16, seed=1)
    out16, _ = L.conv_forward_naive(x16, w16, np.zeros(2, np.float16), cp)
    assert out16.dtype == np.float16
    xf = rand(2, 3, 5, 5, dtype=np.float32)
    out_f, cf = L.conv_forward_naive(xf, w, np.zeros(2, np.float32), cp)
    assert out_f.dtype == np.float32
    dx, dw, db = L.conv_backward_naive(np.ones_like(out_f), cf)
    assert dx.dtype == dw.dtype == db.dtype == np.float32


@pytest.mark.parametrize("variant", ["im2col", "strides"])
def test_fast_variants_and_caches(variant):
    x, w, b = rand(4, 3, 8, 8), rand(5, 3, 3, 3, seed=1), rand(5, seed=2)
    cp = {"stride": 1, "pad": 1}
    fwd, bwd = getattr(fast_layers, "conv_forward_" + variant), getattr(fast_layers, "conv_backward_" + variant)
    rfwd, rbwd = getattr(RF, "conv_forward_" + variant), getattr(RF, "conv_backward_" + variant)
    out, cache = fwd(x, w, b, cp)
    ref, rc = rfwd(x, w, b, cp)
    assert_all_close([out], [np.ascontiguousarray(ref)])
    assert cache[0] is x and cache[1] is w and cache[2] is b and cache[3] is cp and len(cache) == 5
    dout = rand(*ref.shape, seed=3)
    assert_all_close(bwd(dout, cache), rbwd(dout, rc))


def test_conv_forward_im2col_keeps_cs231n_assertions_and_handles_non_square_filters():
    x, b = rand(2, 3, 8, 8), np.zeros(2)
    with pytest.raises(AssertionError, match="width does not work"):
        fast_layers.conv_forward_im2col(x, rand(2, 3, 2, 3), b, {"stride": 2, "pad": 1})
    with pytest.raises(AssertionError, match="height does not work"):
        fast_layers.conv_forward_im2col(x, rand(2, 3, 3, 2), b, {"stride": 2, "pad": 1})
    # cs231n's im2col_cython corrupts memory for non-square filters; ours is right
    w = rand(2, 3, 3, 1, seed=4)
    cp = {"stride": 1, "pad": 1}
    out, _ = fast_layers.conv_forward_im2col(x, w, b, cp)
    assert_all_close([out], [R.conv_forward_naive(x, w, b, cp)[0]])


@pytest.mark.parametrize("n_fastest", [False, True])
def test_im2col_col2im_bindings_match_cs231n_layouts(n_fastest):
    x = rand(3, 2, 7, 6)
    for fh, fw, stride, pad in [(3, 3, 1, 1), (2, 3, 2, 0), (3, 1, 1, 2)]:
        cols = _core.im2col(x, fh, fw, stride, pad, n_fastest)
        if n_fastest and (7 + 2 * pad - fh) % stride == 0 and (6 + 2 * pad - fw) % stride == 0:
            np.testing.assert_array_equal(cols, RI.im2col_indices(x, fh, fw, padding=pad, stride=stride))
        c = rand(*cols.shape, seed=5)
        back = _core.col2im(c, x.shape, fh, fw, stride, pad, n_fastest)
        # col2im is im2col's adjoint
        assert abs(np.sum(cols * c) - np.sum(x * back)) < 1e-10 * (1 + abs(np.sum(cols * c)))
        if n_fastest and (7 + 2 * pad - fh) % stride == 0 and (6 + 2 * pad - fw) % stride == 0:
            assert_close(back, RI.col2im_indices(c, x.shape, fh, fw, padding=pad, stride=stride))


def test_conv_threads_bit_identical(restore_threads):
    x, w, b = rand(33, 3, 12, 12), rand(8, 3, 3, 3, seed=1), rand(8, seed=2)
    cp = {"stride": 1, "pad": 1}
    results = []
    for threads in [1, 2, 3]:
        cs231n_rs.set_num_threads(threads)
        out, cache = L.conv_forward_naive(x, w, b, cp)
        results.append([out, *L.conv_backward_naive(np.cos(out), cache)])
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            np.testing.assert_array_equal(a, b_)


def test_conv_nan_propagates():
    x, w, b = rand(2, 2, 5, 5), rand(3, 2, 3, 3, seed=1), rand(3, seed=2)
    x[0, 1, 2, 2] = np.nan
    cp = {"stride": 1, "pad": 1}
    out, _ = L.conv_forward_naive(x, w, b, cp)
    ref, _ = R.conv_forward_naive(x, w, b, cp)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    assert np.isnan(out[0]).any() and not np.isnan(out[1]).any()


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, conv_param, exc, match",
    [
        ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 0, "pad": 1}, ValueError, "stride"),
        ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 1, "pad": -1}, ValueError, "pad"),
        ((2, 3, 5, 5), (4, 2, 3, 3), (4,), {"stride": 1, "pad": 1}, ValueError, "w: expected shape"),
        ((2, 3, 5, 5), (4, 3, 3, 3), (3,), {"stride": 1, "pad": 1}, ValueError, "b: expected shape"),
        ((2, 3, 2, 2), (4, 3, 5, 5), (4,), {"stride": 1, "pad": 0}, ValueError, "height"),
        ((2, 3, 5), (4, 3, 3, 3), (4,), {"stride": 1, "pad": 1}, ValueError, "x: expected a 4-D"),
        ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 1.5, "pad": 1}, TypeError, "stride"),
        ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"pad": 1}, KeyError, "stride"),
    ],
)
def test_conv_errors(x_shape, w_shape, b_shape, conv_param, exc, match):
    with pytest.raises(exc, match=match):
        L.conv_forward_naive(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), conv_param)


def test_conv_backward_errors():
    x, w, b = rand(2, 3, 5, 5), rand(4, 3, 3, 3), np.zeros(4)
    out, cache = L.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="dout"):
        L.conv_backward_naive(np.zeros((2, 4, 5, 4)), cache)
    with pytest.raises(TypeError, match="dout"):
        L.conv_backward_naive(np.zeros(out.shape, dtype=complex), cache)
    with pytest.raises(ValueError):
        L.conv_forward_naive(np.zeros((2, 3, 5, 5)), w, b, {"stride": 1, "pad": 10**19})


# ----------------------------------------------------------------------------- spatial norms


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_batchnorm_matches_reference(dtype, mode):
    x = (4 * rand(5, 3, 4, 6, dtype=dtype) + 10).astype(dtype)
    gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])  # the notebook passes int arrays
    if dtype == np.float32:  # (float32 x with int64 gamma promotes to float64 in NumPy: keep float32)
        gamma, beta = gamma.astype(dtype), beta.astype(dtype)
    params = [{"mode": mode, "momentum": 0.8}, {"mode": mode, "momentum": 0.8}]
    if mode == "test":
        for p in params:
            p["running_mean"] = np.arange(3.0).astype(dtype)
            p["running_var"] = np.arange(1.0, 4.0).astype(dtype)
    out, cache = L.spatial_batchnorm_forward(x, gamma, beta, params[0])
    ref, rc = R.spatial_batchnorm_forward(x, gamma, beta, params[1])
    assert_all_close([out], [ref])
    assert_all_close([params[0]["running_mean"], params[0]["running_var"]], [params[1]["running_mean"], params[1]["running_var"]])
    if mode == "train":
        dout = rand(*x.shape, dtype=dtype, seed=1)
        assert_all_close(L.spatial_batchnorm_backward(dout, cache), R.spatial_batchnorm_backward(dout, rc))
    for name, xv in image_layouts(x):
        np.testing.assert_array_equal(L.spatial_batchnorm_forward(xv, gamma, beta, dict(params[0]))[0], out, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("G", [1, 2, 6])
def test_spatial_groupnorm_matches_reference(dtype, G):
    x = (4 * rand(2, 6, 4, 5, dtype=dtype) + 10).astype(dtype)
    gamma, beta = rand(1, 6, 1, 1, dtype=dtype, seed=1), rand(1, 6, 1, 1, dtype=dtype, seed=2)
    out, cache = L.spatial_groupnorm_forward(x, gamma, beta, G, {"mode": "train"})
    ref, rc = R.spatial_groupnorm_forward(x, gamma, beta, G, {"mode": "train"})
    assert_all_close([out], [ref])
    dout = rand(*x.shape, dtype=dtype, seed=3)
    got = L.spatial_groupnorm_backward(dout, cache)
    assert_all_close(got, R.spatial_groupnorm_backward(dout, rc))
    assert got[1].shape == got[2].shape == (1, 6, 1, 1)
    for name, xv in image_layouts(x):
        np.testing.assert_array_equal(L.spatial_groupnorm_forward(xv, gamma, beta, G, {})[0], out, err_msg=name)


def test_spatial_norm_errors():
    x = rand(2, 6, 3, 3)
    with pytest.raises(ValueError, match="G"):
        L.spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 4, {})
    with pytest.raises(ValueError, match="gamma"):
        L.spatial_groupnorm_forward(x, np.ones((1, 5, 1, 1)), np.zeros((1, 6, 1, 1)), 3, {})
    with pytest.raises(ValueError, match="gamma"):
        L.spatial_batchnorm_forward(x, np.ones(5), np.zeros(6), {"mode": "train"})
    with pytest.raises(ValueError, match='Invalid forward batchnorm mode "foo"'):
        L.spatial_batchnorm_forward(x, np.ones(6), np.zeros(6), {"mode": "foo"})
    with pytest.raises(ValueError, match="x: expected a 4-D"):
        L.spatial_batchnorm_forward(x[0], np.ones(6), np.zeros(6), {"mode": "train"})
    out, cache = L.spatial_batchnorm_forward(x, np.ones(6), np.zeros(6), {"mode": "train"})
    with pytest.raises(ValueError, match="dout"):
        L.spatial_batchnorm_backward(np.ones((2, 6, 3, 4)), cache)


# ------------------------------------------------------------------------------- sandwiches


def test_conv_sandwiches_match_reference():
    x, w, b = rand(3, 3, 8, 8), rand(4, 3, 3, 3, seed=1), rand(4, seed=2)
    cp, pp = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = layer_utils.conv_relu_forward(x, w, b, cp)
    ref, rc = RU.conv_relu_forward(x, w, b, cp)
    assert_all_close([out], [ref])
    dout = rand(*ref.shape, seed=3)
    assert_all_close(layer_utils.conv_relu_backward(dout, cache), RU.conv_relu_backward(dout, rc))

    out, cache = layer_utils.conv_relu_pool_forward(x, w, b, cp, pp)
    ref, rc = RU.conv_relu_pool_forward(x, w, b, cp, pp)
    assert_all_close([out], [ref])
    assert len(cache) == 3 and cache[2][0] == "reshape"
    dout = rand(*ref.shape, seed=4)
    assert_all_close(layer_utils.conv_relu_pool_backward(dout, cache), RU.conv_relu_pool_backward(dout, rc))

    gamma, beta = rand(4, seed=5), rand(4, seed=6)
    bp, rbp = {"mode": "train"}, {"mode": "train"}
    out, cache = layer_utils.conv_bn_relu_forward(x, w, b, gamma, beta, cp, bp)
    ref, rc = RU.conv_bn_relu_forward(x, w, b, gamma, beta, cp, rbp)
    assert_all_close([out], [ref])
    assert_all_close([bp["running_mean"], bp["running_var"]], [rbp["running_mean"], rbp["running_var"]])
    dout = rand(*ref.shape, seed=7)
    got = layer_utils.conv_bn_relu_backward(dout, cache)
    assert len(got) == 5
    assert_all_close(got, RU.conv_bn_relu_backward(dout, rc))


@pytest.mark.parametrize("dtype", DTYPES)
def test_im2col_module_matches_reference(dtype):
    from cs231n_rs import im2col

    x = rand(3, 2, 7, 6, dtype=dtype)
    for fh, fw, stride, pad in [(3, 3, 1, 1), (3, 2, 2, 0), (1, 1, 1, 0), (5, 4, 1, 2)]:
        cols = im2col.im2col_indices(x, fh, fw, padding=pad, stride=stride)
        ref = RI.im2col_indices(x, fh, fw, padding=pad, stride=stride)
        assert cols.dtype == ref.dtype
        np.testing.assert_array_equal(cols, ref)
        c = rand(*cols.shape, dtype=dtype, seed=1)
        back = im2col.col2im_indices(c, x.shape, fh, fw, padding=pad, stride=stride)
        assert_all_close([back], [RI.col2im_indices(c, x.shape, fh, fw, padding=pad, stride=stride)])
    with pytest.raises(AssertionError):
        im2col.im2col_indices(x, 2, 2, padding=0, stride=2)
    with pytest.raises(ValueError, match="stride"):
        im2col.im2col_indices(x, 3, 3, padding=1, stride=0)
