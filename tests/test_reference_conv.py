"""The NumPy reference convolutional layers (cs231n_rs.reference: layers' conv/pool/spatial-norm part,
fast_layers, im2col, the conv sandwiches of layer_utils and cnn.ThreeLayerConvNet), checked against
plain-loop implementations written here, numeric gradients at the notebooks' tolerances and the values
the ConvolutionalNetworks notebook prints."""

import numpy as np
import pytest
from conftest import rel_error

from cs231n_rs.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from cs231n_rs.reference import cnn, fast_layers, im2col, layer_utils, layers
from cs231n_rs.reference.cnn import ThreeLayerConvNet
from cs231n_rs.reference.fast_layers import (
    conv_backward_fast,
    conv_backward_im2col,
    conv_backward_strides,
    conv_forward_fast,
    conv_forward_im2col,
    conv_forward_strides,
    max_pool_backward_fast,
    max_pool_backward_im2col,
    max_pool_backward_reshape,
    max_pool_forward_fast,
    max_pool_forward_im2col,
    max_pool_forward_reshape,
)
from cs231n_rs.reference.im2col import col2im_indices, get_im2col_indices, im2col_indices
from cs231n_rs.reference.layer_utils import (
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n_rs.reference.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

pytestmark = pytest.mark.usefixtures("np_seed")


@pytest.fixture(autouse=True)
def _seeded(np_seed):
    """Every test starts from the same global RNG state (np_seed restores the caller's afterwards)."""
    np.random.seed(231)


# ---------------------------------------------------------------------------------------------
# Plain-loop oracles
# ---------------------------------------------------------------------------------------------


def loop_conv(x, w, b, stride, pad, dout=None):
    """Convolution by explicit loops over (n, f, i, j). Returns out, or (dx, dw, db) given dout."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    dxp, dw, db = np.zeros(xp.shape), np.zeros(w.shape), np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    out[n, f, i, j] = np.sum(xp[n, :, rows, cols] * w[f]) + b[f]
                    if dout is not None:
                        d = dout[n, f, i, j]
                        db[f] += d
                        dw[f] += d * xp[n, :, rows, cols]
                        dxp[n, :, rows, cols] += d * w[f]
    if dout is None:
        return out
    return dxp[:, :, pad : pad + H, pad : pad + W], dw, db


def loop_pool(x, ph, pw, stride, dout=None, ties="first"):
    """Max pooling by explicit loops. Returns out, or dx given dout: ties="first" routes to the first
    maximum met in row-major order (strict >), ties="split" shares dout equally among tied maxima."""
    N, C, H, W = x.shape
    Ho = 1 + (H - ph) // stride
    Wo = 1 + (W - pw) // stride
    out = np.zeros((N, C, Ho, Wo))
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best = None
                    for u in range(ph):
                        for v in range(pw):
                            val = x[n, c, i * stride + u, j * stride + v]
                            if best is None or val > best[0]:
                                best = (val, u, v)
                    out[n, c, i, j] = best[0]
                    if dout is None:
                        continue
                    if ties == "first":
                        dx[n, c, i * stride + best[1], j * stride + best[2]] += dout[n, c, i, j]
                    else:
                        at = [(u, v) for u in range(ph) for v in range(pw)
                              if x[n, c, i * stride + u, j * stride + v] == best[0]]
                        for u, v in at:
                            dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j] / len(at)
    return out if dout is None else dx


def loop_groupnorm(x, gamma, beta, G, eps):
    """Group norm by loops over (n, group), with the plain mean / biased variance formulas."""
    N, C, H, W = x.shape
    out = np.zeros(x.shape)
    Cg = C // G
    for n in range(N):
        for g in range(G):
            block = x[n, g * Cg : (g + 1) * Cg]
            mu = block.sum() / block.size
            var = ((block - mu) ** 2).sum() / block.size
            out[n, g * Cg : (g + 1) * Cg] = (block - mu) / np.sqrt(var + eps)
    return out * gamma.reshape(1, C, 1, 1) + beta.reshape(1, C, 1, 1)


def num_grads(f, args, dout):
    """Numeric gradients of sum(f(*args) * dout) with respect to every array in args."""
    grads = []
    for k in range(len(args)):
        def fk(a, k=k):
            return f(*[a if m == k else args[m] for m in range(len(args))])
        grads.append(eval_numerical_gradient_array(fk, args[k], dout))
    return grads


# Shapes (N, C, H, W, F, HH, WW, stride, pad): odd sizes, stride 1/2/3, pad 0..3, non-square
# filters, C = 1, N = 1, sizes where the stride does not divide (floored output).
CONV_CASES = [
    (2, 3, 5, 5, 2, 3, 3, 1, 1),
    (1, 1, 7, 6, 3, 2, 3, 2, 0),
    (2, 2, 9, 7, 2, 3, 5, 3, 2),
    (3, 1, 4, 5, 1, 4, 1, 1, 3),
    (1, 2, 6, 8, 2, 1, 1, 2, 0),
    (2, 3, 8, 5, 4, 5, 2, 2, 1),
    (1, 2, 3, 3, 2, 3, 3, 3, 0),
]


def _conv_case(case):
    N, C, H, W, F, HH, WW, stride, pad = case
    x = np.random.randn(N, C, H, W)
    w = np.random.randn(F, C, HH, WW)
    b = np.random.randn(F)
    return x, w, b, {"stride": stride, "pad": pad}


# ---------------------------------------------------------------------------------------------
# Import surface
# ---------------------------------------------------------------------------------------------


def test_modules_and_names_exported():
    import cs231n_rs.reference as ref

    assert ref.cnn is cnn and ref.fast_layers is fast_layers and ref.im2col is im2col
    assert ref.ThreeLayerConvNet is ThreeLayerConvNet
    # cs231n's layers.py order (2021+ A2): the conv part follows dropout.
    assert layers.__all__[layers.__all__.index("dropout_backward") + 1 :] == [
        "conv_forward_naive",
        "conv_backward_naive",
        "max_pool_forward_naive",
        "max_pool_backward_naive",
        "spatial_batchnorm_forward",
        "spatial_batchnorm_backward",
        "spatial_groupnorm_forward",
        "spatial_groupnorm_backward",
    ]
    for mod in (layers, layer_utils, fast_layers, im2col, cnn):
        for name in mod.__all__:
            assert getattr(mod, name) is not None, (mod.__name__, name)
    assert {"conv_relu_forward", "conv_bn_relu_backward", "conv_relu_pool_forward"} <= set(layer_utils.__all__)
    assert fast_layers.conv_forward_fast is conv_forward_strides
    assert fast_layers.conv_backward_fast is conv_backward_strides
    assert fast_layers.max_pool_forward_fast is max_pool_forward_fast


# ---------------------------------------------------------------------------------------------
# Convolution: naive
# ---------------------------------------------------------------------------------------------


def test_conv_forward_naive_notebook_values():
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    # The notebook's correct_out (the second sample's filters 1 and 2 as the notebook prints them;
    # the same values come out of loop_conv).
    correct_out = np.array(
        [
            [
                [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
            ],
            [
                [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
            ],
        ]
    )
    assert rel_error(out, correct_out) < 1e-7  # "difference should be around e-8"
    assert rel_error(loop_conv(x, w, b, 2, 1), correct_out) < 1e-7
    assert cache[0] is x and cache[1] is w and cache[2] is b and cache[3] is conv_param and len(cache) == 4


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "N%dC%dH%dW%dF%dk%dx%ds%dp%d" % c)
def test_conv_naive_matches_loops(case):
    x, w, b, conv_param = _conv_case(case)
    x0, w0 = x.copy(), w.copy()
    out, cache = conv_forward_naive(x, w, b, conv_param)
    expected = loop_conv(x, w, b, conv_param["stride"], conv_param["pad"])
    assert out.shape == expected.shape and out.flags.c_contiguous
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)

    dout = np.random.randn(*out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    ex_dx, ex_dw, ex_db = loop_conv(x, w, b, conv_param["stride"], conv_param["pad"], dout)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    np.testing.assert_allclose(dx, ex_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ex_dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, ex_db, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, x0)  # "Be careful not to modify the original input x"
    np.testing.assert_array_equal(w, w0)


def test_conv_output_size_floors():
    # H + 2p - HH = 6 is not a multiple of stride 4: H' = 1 + 6 // 4 = 2, the last rows unreached.
    x = np.random.randn(1, 1, 6, 7)
    w = np.random.randn(1, 1, 2, 3)
    out, cache = conv_forward_naive(x, w, np.zeros(1), {"stride": 4, "pad": 1})
    assert out.shape == (1, 1, 2, 2)
    dx, _, _ = conv_backward_naive(np.ones(out.shape), cache)
    # Padded rows 0..7 (x rows 0..5); windows start at padded rows 0 and 4 and span 2 rows, so padded
    # rows 2, 3, 6, 7 (x rows 1, 2, 5) get no gradient.
    assert np.all(dx[0, 0, [1, 2, 5]] == 0) and np.all(dx[0, 0, [0, 3, 4]].any(axis=1))


def test_conv_backward_naive_numeric():
    np.random.seed(231)
    x = np.random.randn(4, 3, 5, 5)
    w = np.random.randn(2, 3, 3, 3)
    b = np.random.randn(2)
    dout = np.random.randn(4, 2, 5, 5)
    conv_param = {"stride": 1, "pad": 1}
    dx_num, dw_num, db_num = num_grads(lambda x, w, b: conv_forward_naive(x, w, b, conv_param)[0], [x, w, b], dout)
    _, cache = conv_forward_naive(x, w, b, conv_param)
    dx, dw, db = conv_backward_naive(dout, cache)
    # "Your errors should be around e-8 or less." (measured: dx 8e-9, dw 3e-10, db 4e-11; over 20
    # other seeds at most 2e-8, 5e-9, 5e-11)
    assert rel_error(dx, dx_num) < 5e-8
    assert rel_error(dw, dw_num) < 2e-8
    assert rel_error(db, db_num) < 1e-9


def test_conv_backward_numeric_strided_nonsquare():
    x, w, b, conv_param = _conv_case((2, 2, 7, 6, 3, 3, 2, 2, 1))
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = np.random.randn(*out.shape)
    numeric = num_grads(lambda x, w, b: conv_forward_naive(x, w, b, conv_param)[0], [x, w, b], dout)
    # Measured ~2e-10 each; over 20 other seeds at most dx 3e-8, dw 4e-9, db 2e-10.
    for got, num, tol in zip(conv_backward_naive(dout, cache), numeric, (1e-7, 2e-8, 1e-9)):
        assert rel_error(got, num) < tol


def test_conv_dtypes_and_layouts():
    x, w, b, conv_param = _conv_case((2, 3, 6, 5, 4, 3, 3, 1, 1))
    expected = loop_conv(x, w, b, 1, 1)
    # Non-contiguous views and an integer bias (the notebook's image demo passes b = np.array([0, 128])).
    xt = np.asfortranarray(x)[:, :, ::1]
    wt = np.ascontiguousarray(w[:, :, ::-1])[:, :, ::-1]
    bi = np.array([0, 128, -3, 7])
    out, _ = conv_forward_naive(xt, wt, bi, conv_param)
    np.testing.assert_allclose(out, loop_conv(x, w, bi.astype(float), 1, 1), rtol=1e-12, atol=1e-12)
    # float32 in, float32 out (for every implementation).
    for fwd in (conv_forward_naive, conv_forward_strides, conv_forward_im2col):
        out32, _ = fwd(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), conv_param)
        assert out32.dtype == np.float32, fwd.__name__
        np.testing.assert_allclose(out32, expected, rtol=1e-4, atol=1e-4)


BAD_CONV = [
    ("stride 0", (1, 2, 5, 5), (3, 2, 3, 3), 3, {"stride": 0, "pad": 1}, "stride"),
    ("stride -1", (1, 2, 5, 5), (3, 2, 3, 3), 3, {"stride": -1, "pad": 1}, "stride"),
    ("stride 1.5", (1, 2, 5, 5), (3, 2, 3, 3), 3, {"stride": 1.5, "pad": 1}, "stride"),
    ("pad -1", (1, 2, 5, 5), (3, 2, 3, 3), 3, {"stride": 1, "pad": -1}, "pad"),
    ("pad 0.5", (1, 2, 5, 5), (3, 2, 3, 3), 3, {"stride": 1, "pad": 0.5}, "pad"),
    ("no output", (1, 2, 3, 5), (3, 2, 6, 3), 3, {"stride": 1, "pad": 1}, "output size"),
    ("no output wide", (1, 2, 5, 2), (3, 2, 3, 5), 3, {"stride": 1, "pad": 1}, "output size"),
    ("C mismatch", (1, 2, 5, 5), (3, 4, 3, 3), 3, {"stride": 1, "pad": 1}, "channels"),
    ("b size", (1, 2, 5, 5), (3, 2, 3, 3), 2, {"stride": 1, "pad": 1}, "b must"),
    ("x 3-D", (2, 5, 5), (3, 2, 3, 3), 3, {"stride": 1, "pad": 1}, "x must"),
    ("w 3-D", (1, 2, 5, 5), (2, 3, 3), 2, {"stride": 1, "pad": 1}, "w must"),
]


@pytest.mark.parametrize("name,xs,ws,nb,conv_param,match", BAD_CONV, ids=[c[0] for c in BAD_CONV])
def test_conv_bad_arguments_raise_value_error(name, xs, ws, nb, conv_param, match):
    x, w, b = np.random.randn(*xs), np.random.randn(*ws), np.random.randn(nb)
    for fwd in (conv_forward_naive, conv_forward_strides, conv_forward_im2col):
        with pytest.raises(ValueError, match=match):
            fwd(x, w, b, conv_param)


def test_conv_missing_key_and_bad_dout():
    x, w, b, conv_param = _conv_case((1, 2, 5, 5, 3, 3, 3, 1, 1))
    with pytest.raises(KeyError):
        conv_forward_naive(x, w, b, {"stride": 1})
    out, cache = conv_forward_naive(x, w, b, conv_param)
    with pytest.raises(ValueError, match="dout"):
        conv_backward_naive(np.zeros((1, 3, 4, 5)), cache)
    _, cache = conv_forward_strides(x, w, b, conv_param)
    with pytest.raises(ValueError, match="dout"):
        conv_backward_strides(np.zeros((1, 3, 5)), cache)


# ---------------------------------------------------------------------------------------------
# im2col
# ---------------------------------------------------------------------------------------------


def _loop_im2col(x, fh, fw, pad, stride):
    """Columns (h', w', n), rows (c, i, j), by loops."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = 1 + (H + 2 * pad - fh) // stride, 1 + (W + 2 * pad - fw) // stride
    cols = np.zeros((C * fh * fw, Ho * Wo * N))
    for hh in range(Ho):
        for ww in range(Wo):
            for n in range(N):
                col = (hh * Wo + ww) * N + n
                for c in range(C):
                    for i in range(fh):
                        for j in range(fw):
                            cols[(c * fh + i) * fw + j, col] = xp[n, c, hh * stride + i, ww * stride + j]
    return cols


@pytest.mark.parametrize("xs,fh,fw,pad,stride", [((2, 3, 5, 5), 3, 3, 1, 1), ((3, 2, 6, 7), 2, 3, 0, 2),
                                                  ((1, 1, 8, 6), 3, 1, 2, 3)])
def test_im2col_layout_and_adjoint(xs, fh, fw, pad, stride):
    x = np.random.randn(*xs)
    cols = im2col_indices(x, fh, fw, pad, stride)
    np.testing.assert_array_equal(cols, _loop_im2col(x, fh, fw, pad, stride))
    k, i, j = get_im2col_indices(x.shape, fh, fw, pad, stride)
    assert k.shape == (xs[1] * fh * fw, 1) and i.shape == j.shape == (xs[1] * fh * fw, cols.shape[1] // xs[0])
    # col2im_indices is the adjoint of im2col_indices: <im2col(x), y> == <x, col2im(y)>.
    y = np.random.randn(*cols.shape)
    back = col2im_indices(y, x.shape, fh, fw, pad, stride)
    assert back.shape == x.shape
    assert abs(np.sum(cols * y) - np.sum(x * back)) < 1e-10 * np.sum(np.abs(cols * y))


def test_im2col_width_assert_uses_field_width():
    # cs231n's get_im2col_indices checks (W + 2p - field_height) % stride (quirk 5); here field_width.
    x = np.random.randn(1, 1, 5, 6)
    cols = im2col_indices(x, 3, 2, padding=0, stride=2)  # (6 - 2) % 2 == 0; cs231n: (6 - 3) % 2 != 0
    assert cols.shape == (6, 2 * 3)
    with pytest.raises(AssertionError):
        im2col_indices(np.random.randn(1, 1, 5, 5), 3, 2, padding=0, stride=2)  # (5 - 2) % 2 != 0
    with pytest.raises(AssertionError):
        get_im2col_indices((1, 1, 6, 5), 3, 3, padding=0, stride=2)  # height: (6 - 3) % 2 != 0


# ---------------------------------------------------------------------------------------------
# Convolution: fast layers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "N%dC%dH%dW%dF%dk%dx%ds%dp%d" % c)
def test_conv_fast_match_naive(case):
    x, w, b, conv_param = _conv_case(case)
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    dout = np.random.randn(*out_naive.shape)
    grads_naive = conv_backward_naive(dout, cache_naive)
    Ho, Wo = out_naive.shape[2:]

    out_s, cache_s = conv_forward_strides(x, w, b, conv_param)
    assert out_s.flags.c_contiguous and len(cache_s) == 5
    assert cache_s[0] is x and cache_s[1] is w and cache_s[2] is b and cache_s[3] is conv_param
    np.testing.assert_allclose(out_s, out_naive, rtol=1e-12, atol=1e-12)
    for got, want in zip(conv_backward_strides(dout, cache_s), grads_naive):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    x_cols_s = cache_s[4]
    assert x_cols_s.shape == (C * HH * WW, N * Ho * Wo)

    tiles = (W + 2 * pad - WW) % stride == 0 and (H + 2 * pad - HH) % stride == 0
    if not tiles:
        with pytest.raises(AssertionError):
            conv_forward_im2col(x, w, b, conv_param)
        return
    out_i, cache_i = conv_forward_im2col(x, w, b, conv_param)
    np.testing.assert_allclose(out_i, out_naive, rtol=1e-12, atol=1e-12)
    for got, want in zip(conv_backward_im2col(dout, cache_i), grads_naive):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    x_cols_i = cache_i[4]
    # im2col columns are (h', w', n), as im2col_indices lays them out; strides columns are (n, h', w').
    np.testing.assert_array_equal(x_cols_i, im2col_indices(x, HH, WW, pad, stride))
    np.testing.assert_array_equal(
        x_cols_s.reshape(-1, N, Ho, Wo), x_cols_i.reshape(-1, Ho, Wo, N).transpose(0, 3, 1, 2)
    )


def test_conv_fast_notebook_comparison():
    # The notebook's fast-vs-naive check, smaller: "Rel errors should be around e-9 or less."
    np.random.seed(231)
    x = np.random.randn(10, 3, 15, 15)
    w = np.random.randn(8, 3, 3, 3)
    b = np.random.randn(8)
    dout = np.random.randn(10, 8, 8, 8)
    conv_param = {"stride": 2, "pad": 1}
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
    assert rel_error(out_naive, out_fast) < 1e-12
    for got, want in zip(conv_backward_fast(dout, cache_fast), conv_backward_naive(dout, cache_naive)):
        assert rel_error(got, want) < 1e-12


def test_conv_im2col_asserts_and_output_layout():
    x, w, b, _ = _conv_case((2, 3, 6, 7, 4, 3, 3, 1, 1))
    # Width is checked first, with cs231n's messages.
    with pytest.raises(AssertionError, match="width does not work"):
        conv_forward_im2col(x[:, :, :, :6], w, b, {"stride": 2, "pad": 0})  # 6 - 3 odd, both ways
    with pytest.raises(AssertionError, match="height does not work"):
        conv_forward_im2col(x, w, b, {"stride": 2, "pad": 0})  # W: 7 - 3 even; H: 6 - 3 odd
    out, _ = conv_forward_im2col(x, w, b, {"stride": 1, "pad": 1})
    # Returned as cs231n does: the (F, H', W', N) product transposed, not C-contiguous.
    assert out.shape == (2, 4, 6, 7) and not out.flags.c_contiguous
    assert out.transpose(1, 2, 3, 0).flags.c_contiguous


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------


def test_max_pool_forward_naive_notebook_values():
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool_param)
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
    assert rel_error(out, correct_out) < 1e-7  # "on the order of e-8"
    assert cache[0] is x and cache[1] is pool_param and len(cache) == 2


# (N, C, H, W, pool_height, pool_width, stride): non-square, overlapping (stride < size), gaps
# (stride > size), non-divisible sizes, C = 1, N = 1.
POOL_CASES = [
    (2, 3, 4, 4, 2, 2, 2),
    (1, 1, 7, 5, 3, 2, 1),
    (2, 2, 9, 8, 3, 3, 2),
    (1, 2, 6, 7, 1, 2, 3),
    (3, 1, 5, 6, 2, 3, 2),
    (1, 2, 5, 5, 5, 5, 1),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: "N%dC%dH%dW%d_%dx%ds%d" % c)
def test_max_pool_naive_matches_loops(case):
    N, C, H, W, ph, pw, stride = case
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    x = np.random.randn(N, C, H, W)
    out, cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, loop_pool(x, ph, pw, stride))
    dout = np.random.randn(*out.shape)
    # Overlapping windows add up in another order than the loops: allow rounding.
    np.testing.assert_allclose(max_pool_backward_naive(dout, cache), loop_pool(x, ph, pw, stride, dout),
                               rtol=1e-12, atol=1e-12)
    # No ties in random data: the fast path (whichever it takes) agrees wherever it applies.
    tiles = (H - ph) % stride == 0 and (W - pw) % stride == 0
    square = ph == pw == stride and H % ph == 0 and W % pw == 0
    if tiles or square:
        out_f, cache_f = max_pool_forward_fast(x, pool_param)
        assert cache_f[0] == ("reshape" if square else "im2col")
        np.testing.assert_array_equal(out_f, out)
        np.testing.assert_array_equal(max_pool_backward_fast(dout, cache_f), max_pool_backward_naive(dout, cache))
    else:
        with pytest.raises(AssertionError):
            max_pool_forward_fast(x, pool_param)


def test_max_pool_backward_naive_numeric():
    np.random.seed(231)
    x = np.random.randn(3, 2, 8, 7)
    dout = np.random.randn(3, 2, 4, 3)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
    _, cache = max_pool_forward_naive(x, pool_param)
    # "on the order of e-12" (measured 3e-12; over 20 other seeds at most 2e-11)
    assert rel_error(max_pool_backward_naive(dout, cache), dx_num) < 5e-11


def test_max_pool_tie_rules():
    # Windows full of ties: naive and im2col route to the first maximum (row-major), reshape splits.
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0], [3.0, 3.0, 5.0, 5.0], [3.0, 3.0, 5.0, 5.0]]]])
    dout = np.array([[[[6.0, 12.0], [4.0, 8.0]]]])
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    first = np.array([[[[6.0, 0, 0, 12.0], [0, 0, 0, 0], [4.0, 0, 8.0, 0], [0, 0, 0, 0]]]])
    split = np.array([[[[2.0, 2.0, 0, 4.0], [2.0, 0, 4.0, 4.0], [1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]])
    _, cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(max_pool_backward_naive(dout, cache), first)
    _, cache = max_pool_forward_im2col(x, pool_param)
    np.testing.assert_array_equal(max_pool_backward_im2col(dout, cache), first)
    _, cache = max_pool_forward_reshape(x, pool_param)
    np.testing.assert_array_equal(max_pool_backward_reshape(dout, cache), split)
    _, cache = max_pool_forward_fast(x, pool_param)
    assert cache[0] == "reshape"
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache), split)
    # Random ties, overlapping windows (stride 1): both rules against the loops.
    xi = np.random.randint(0, 3, size=(2, 2, 6, 5)).astype(np.float64)
    pp = {"pool_height": 3, "pool_width": 2, "stride": 1}
    out, cache = max_pool_forward_naive(xi, pp)
    d = np.random.randn(*out.shape)
    np.testing.assert_allclose(max_pool_backward_naive(d, cache), loop_pool(xi, 3, 2, 1, d), rtol=1e-12, atol=1e-12)
    _, cache = max_pool_forward_im2col(xi, pp)
    np.testing.assert_allclose(max_pool_backward_im2col(d, cache), loop_pool(xi, 3, 2, 1, d), rtol=1e-12, atol=1e-12)
    xr = np.random.randint(0, 2, size=(2, 3, 6, 4)).astype(np.float64)
    out, cache = max_pool_forward_reshape(xr, pool_param)
    d = np.random.randn(*out.shape)
    np.testing.assert_allclose(max_pool_backward_reshape(d, cache), loop_pool(xr, 2, 2, 2, d, ties="split"),
                               rtol=1e-12, atol=1e-12)


def test_max_pool_reshape_cache_and_asserts():
    x = np.random.randn(2, 3, 6, 4)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = max_pool_forward_reshape(x, pool_param)
    assert len(cache) == 3 and cache[0] is x and cache[2] is out
    np.testing.assert_array_equal(cache[1], x.reshape(2, 3, 3, 2, 2, 2))
    with pytest.raises(AssertionError, match="Invalid pool params"):
        max_pool_forward_reshape(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    with pytest.raises(AssertionError, match="Invalid pool params"):
        max_pool_forward_reshape(x, {"pool_height": 2, "pool_width": 1, "stride": 2})
    with pytest.raises(AssertionError):
        max_pool_forward_reshape(np.random.randn(1, 1, 5, 4), pool_param)  # H not a multiple of 2


def test_max_pool_im2col_cache_layout():
    N, C, H, W, ph, pw, s = 2, 3, 5, 8, 3, 2, 2
    x = np.random.randn(N, C, H, W)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": s}
    out, cache = max_pool_forward_im2col(x, pool_param)
    x_ref, x_cols, x_cols_argmax, pp = cache
    assert x_ref is x and pp is pool_param
    Ho, Wo = 2, 4
    assert out.shape == (N, C, Ho, Wo)
    assert x_cols.shape == (ph * pw, Ho * Wo * N * C) and x_cols_argmax.shape == (Ho * Wo * N * C,)
    # Column ((h' * W' + w') * N + n) * C + c holds the window of (n, c) at (h', w'), rows (i, j).
    for n, c, hh, ww in [(0, 0, 0, 0), (1, 2, 1, 3), (0, 1, 1, 0), (1, 0, 0, 2)]:
        col = ((hh * Wo + ww) * N + n) * C + c
        window = x[n, c, hh * s : hh * s + ph, ww * s : ww * s + pw].ravel()
        np.testing.assert_array_equal(x_cols[:, col], window)
        assert x_cols_argmax[col] == np.argmax(window)
    np.testing.assert_array_equal(out, loop_pool(x, ph, pw, s))
    with pytest.raises(AssertionError, match="Invalid height"):
        max_pool_forward_im2col(np.random.randn(1, 1, 6, 8), pool_param)
    with pytest.raises(AssertionError, match="Invalid width"):
        max_pool_forward_im2col(np.random.randn(1, 1, 5, 7), pool_param)


def test_max_pool_fast_dispatch_and_unknown_method():
    x = np.random.randn(2, 2, 8, 8)
    _, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert cache[0] == "reshape" and len(cache[1]) == 3
    _, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    assert cache[0] == "im2col" and len(cache[1]) == 4
    _, cache = max_pool_forward_fast(x, {"pool_height": 4, "pool_width": 2, "stride": 2})
    assert cache[0] == "im2col"
    with pytest.raises(ValueError, match='Unrecognized method "cython"'):
        max_pool_backward_fast(np.zeros((2, 2, 4, 4)), ("cython", cache[1]))


def test_max_pool_fast_notebook_comparison():
    # "Relative errors should be close to 0.0" (smaller than the notebook's (100, 3, 32, 32)).
    np.random.seed(231)
    x = np.random.randn(20, 3, 16, 16)
    dout = np.random.randn(20, 3, 8, 8)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    assert rel_error(out_naive, out_fast) == 0.0
    assert rel_error(max_pool_backward_naive(dout, cache_naive), max_pool_backward_fast(dout, cache_fast)) == 0.0


def test_max_pool_dtypes_and_integer_input():
    x = np.random.randn(2, 3, 6, 6)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    dout = np.random.randn(2, 3, 3, 3)
    expected = loop_pool(x, 2, 2, 2, dout)
    pairs = [
        (max_pool_forward_naive, max_pool_backward_naive),
        (max_pool_forward_reshape, max_pool_backward_reshape),
        (max_pool_forward_im2col, max_pool_backward_im2col),
        (max_pool_forward_fast, max_pool_backward_fast),
    ]
    for fwd, bwd in pairs:
        out, cache = fwd(x.astype(np.float32), pool_param)
        dx = bwd(dout.astype(np.float32), cache)
        assert out.dtype == np.float32 and dx.dtype == np.float32, fwd.__name__
        np.testing.assert_allclose(dx, expected, rtol=1e-6, err_msg=fwd.__name__)
    # Integer images (distinct values, so no ties) pool to integers and get a float gradient.
    xi = np.random.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6)
    for fwd, bwd in pairs:
        out, cache = fwd(xi, pool_param)
        assert out.dtype == xi.dtype, fwd.__name__
        np.testing.assert_array_equal(out, loop_pool(xi, 2, 2, 2))
        np.testing.assert_allclose(bwd(dout, cache), loop_pool(xi, 2, 2, 2, dout), rtol=1e-15, err_msg=fwd.__name__)


BAD_POOL = [
    ("height 0", (1, 1, 4, 4), {"pool_height": 0, "pool_width": 2, "stride": 2}, "pool_height"),
    ("width -1", (1, 1, 4, 4), {"pool_height": 2, "pool_width": -1, "stride": 2}, "pool_width"),
    ("stride 0", (1, 1, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 0}, "stride"),
    ("stride 2.0", (1, 1, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2.0}, "stride"),
    ("too tall", (1, 1, 2, 4), {"pool_height": 3, "pool_width": 2, "stride": 1}, "output size"),
    ("too wide", (1, 1, 4, 2), {"pool_height": 2, "pool_width": 3, "stride": 1}, "output size"),
    ("x 3-D", (1, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2}, "x must"),
]


@pytest.mark.parametrize("name,xs,pool_param,match", BAD_POOL, ids=[c[0] for c in BAD_POOL])
def test_max_pool_bad_arguments_raise_value_error(name, xs, pool_param, match):
    x = np.random.randn(*xs)
    for fwd in (max_pool_forward_naive, max_pool_forward_fast, max_pool_forward_reshape, max_pool_forward_im2col):
        with pytest.raises(ValueError, match=match):
            fwd(x, pool_param)


# ---------------------------------------------------------------------------------------------
# Spatial batch normalization
# ---------------------------------------------------------------------------------------------


def test_spatial_batchnorm_forward_per_channel():
    np.random.seed(231)
    N, C, H, W = 2, 3, 4, 5
    x = 4 * np.random.randn(N, C, H, W) + 10
    gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])  # integer arrays, as the notebook
    bn_param = {"mode": "train"}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    assert out.shape == x.shape
    for c in range(C):
        vals = x[:, c].ravel()
        mu, var = vals.mean(), ((vals - vals.mean()) ** 2).mean()
        np.testing.assert_allclose(out[:, c], gamma[c] * (x[:, c] - mu) / np.sqrt(var + 1e-5) + beta[c], rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_mean"][c], 0.1 * mu, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"][c], 0.1 * var, rtol=1e-12)
    assert bn_param["running_mean"].shape == (C,) and bn_param["running_var"].shape == (C,)
    # The notebook's printed summary: means ~ beta, stds ~ gamma.
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, rtol=1e-5)
    # Test mode normalizes with the running statistics (and still writes them back).
    bn_param.update(mode="test", momentum=0.5)
    rm, rv = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    out_test, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma.reshape(1, C, 1, 1) * (x - rm.reshape(1, C, 1, 1)) / np.sqrt(rv.reshape(1, C, 1, 1) + 1e-5)
    np.testing.assert_allclose(out_test, expected + beta.reshape(1, C, 1, 1), rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], rm)
    with pytest.raises(ValueError, match="gamma"):
        spatial_batchnorm_forward(x, np.ones(4), np.zeros(3), {"mode": "train"})


def test_spatial_batchnorm_backward_numeric():
    np.random.seed(231)
    N, C, H, W = 2, 3, 4, 5
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma = np.random.randn(C)
    beta = np.random.randn(C)
    dout = np.random.randn(N, C, H, W)
    bn_param = {"mode": "train"}
    dx_num, dg_num, db_num = num_grads(
        lambda x, gamma, beta: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0], [x, gamma, beta], dout
    )
    _, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    assert dgamma.shape == (C,) and dbeta.shape == (C,)
    # "You should expect errors of magnitudes between 1e-12~1e-06" (measured: dx 3e-7, dgamma and
    # dbeta ~1e-11)
    assert rel_error(dx, dx_num) < 2e-6
    assert rel_error(dgamma, dg_num) < 1e-9
    assert rel_error(dbeta, db_num) < 1e-9


# ---------------------------------------------------------------------------------------------
# Spatial group normalization
# ---------------------------------------------------------------------------------------------


def test_spatial_groupnorm_forward_matches_loops():
    np.random.seed(231)
    N, C, H, W, G = 2, 6, 4, 5, 2
    x = 4 * np.random.randn(N, C, H, W) + 10
    gamma = np.ones((1, C, 1, 1))
    beta = np.zeros((1, C, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {"mode": "train"})
    np.testing.assert_allclose(out, loop_groupnorm(x, gamma, beta, G, 1e-5), rtol=1e-12, atol=1e-12)
    # The notebook's summary: each (sample, group) block has mean ~0 and std ~1.
    blocks = out.reshape(N, G, -1)
    np.testing.assert_allclose(blocks.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(blocks.std(axis=2), 1, rtol=1e-5)
    # Per-channel gamma / beta, several group counts, C = G and G = 1, tiny variance where eps matters.
    for G2 in (1, 3, 6):
        g2, b2 = np.random.randn(1, C, 1, 1), np.random.randn(1, C, 1, 1)
        xs = 3e-3 * np.random.randn(N, C, 3, 3)
        out2, _ = spatial_groupnorm_forward(xs, g2, b2, G2, {})
        np.testing.assert_allclose(out2, loop_groupnorm(xs, g2, b2, G2, 1e-5), rtol=1e-10, atol=1e-12)
        out3, _ = spatial_groupnorm_forward(xs, g2, b2, G2, {"eps": 1e-3})
        np.testing.assert_allclose(out3, loop_groupnorm(xs, g2, b2, G2, 1e-3), rtol=1e-10, atol=1e-12)
        assert np.max(np.abs(out3 - out2)) > 1e-3  # eps is really read from gn_param


def test_spatial_groupnorm_backward_numeric():
    np.random.seed(231)
    N, C, H, W, G = 2, 6, 4, 5, 2
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma = np.random.randn(1, C, 1, 1)
    beta = np.random.randn(1, C, 1, 1)
    dout = np.random.randn(N, C, H, W)
    gn_param = {}
    dx_num, dg_num, db_num = num_grads(
        lambda x, gamma, beta: spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0], [x, gamma, beta], dout
    )
    _, cache = spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    assert dx.shape == x.shape and dgamma.shape == (1, C, 1, 1) and dbeta.shape == (1, C, 1, 1)
    # "You should expect errors of magnitudes between 1e-12 and 1e-07." (measured: dx 7e-8, the
    # numeric side's rounding on inputs of mean 12; dgamma, dbeta ~1e-11)
    assert rel_error(dx, dx_num) < 5e-7
    assert rel_error(dgamma, dg_num) < 1e-8
    assert rel_error(dbeta, db_num) < 1e-8


@pytest.mark.parametrize("G", [4, 0, -2, 2.0])
def test_spatial_groupnorm_bad_groups(G):
    x = np.random.randn(1, 6, 2, 2)
    with pytest.raises(ValueError, match="G must"):
        spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), G, {})


# ---------------------------------------------------------------------------------------------
# Sandwich layers
# ---------------------------------------------------------------------------------------------


def test_conv_relu_pool_sandwich():
    np.random.seed(231)
    x = np.random.randn(2, 3, 8, 8)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3)
    dout = np.random.randn(2, 3, 4, 4)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    conv_cache, relu_cache, pool_cache = cache
    a, _ = conv_forward_fast(x, w, b, conv_param)
    np.testing.assert_array_equal(conv_cache[4], conv_forward_strides(x, w, b, conv_param)[1][4])
    assert conv_cache[0] is x and conv_cache[1] is w and conv_cache[3] is conv_param
    np.testing.assert_array_equal(relu_cache, a)
    assert pool_cache[0] == "reshape"
    np.testing.assert_array_equal(out, max_pool_forward_naive(relu_forward(a)[0], pool_param)[0])
    dx, dw, db = conv_relu_pool_backward(dout, cache)
    dx_num, dw_num, db_num = num_grads(
        lambda x, w, b: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], [x, w, b], dout
    )
    # "Relative errors should be around e-8 or less" (measured: dx 7e-9, dw 2e-9, db 8e-12)
    assert rel_error(dx, dx_num) < 5e-8
    assert rel_error(dw, dw_num) < 2e-8
    assert rel_error(db, db_num) < 1e-9


def test_conv_relu_sandwich():
    np.random.seed(231)
    x = np.random.randn(2, 3, 7, 7)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3)
    dout = np.random.randn(2, 3, 7, 7)
    conv_param = {"stride": 1, "pad": 1}
    out, cache = conv_relu_forward(x, w, b, conv_param)
    conv_cache, relu_cache = cache
    assert len(conv_cache) == 5 and conv_cache[0] is x
    np.testing.assert_array_equal(out, np.maximum(0, relu_cache))
    np.testing.assert_array_equal(relu_cache, conv_forward_strides(x, w, b, conv_param)[0])
    dx, dw, db = conv_relu_backward(dout, cache)
    dx_num, dw_num, db_num = num_grads(lambda x, w, b: conv_relu_forward(x, w, b, conv_param)[0], [x, w, b], dout)
    assert rel_error(dx, dx_num) < 1e-8
    assert rel_error(dw, dw_num) < 1e-8
    assert rel_error(db, db_num) < 1e-8


def test_conv_bn_relu_sandwich():
    np.random.seed(231)
    x = np.random.randn(2, 3, 5, 5)
    w = np.random.randn(4, 3, 3, 3)
    b = np.random.randn(4)
    gamma = np.random.randn(4)
    beta = np.random.randn(4)
    dout = np.random.randn(2, 4, 5, 5)
    conv_param = {"stride": 1, "pad": 1}
    bn_param = {"mode": "train"}
    out, cache = conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)
    assert len(cache) == 3 and len(cache[0]) == 5
    assert bn_param["running_mean"].shape == (4,)
    a, _ = conv_forward_naive(x, w, b, conv_param)
    an, _ = spatial_batchnorm_forward(a, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out, np.maximum(0, an), rtol=1e-12, atol=1e-12)
    grads = conv_bn_relu_backward(dout, cache)
    assert len(grads) == 5
    numeric = num_grads(
        lambda x, w, b, gamma, beta: conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, {"mode": "train"})[0],
        [x, w, b, gamma, beta],
        dout,
    )
    for name, got, num in zip(["dx", "dw", "db", "dgamma", "dbeta"], grads, numeric):
        assert got.shape == num.shape, name
        # db cancels through the batchnorm (it is ~0 up to rounding): absolute check there.
        if name == "db":
            assert np.max(np.abs(got)) < 1e-12 and np.max(np.abs(num)) < 1e-8
        else:
            assert rel_error(got, num) < 2e-7, name  # measured: dx 1e-8, dw 2e-9, dgamma/dbeta 1e-11


# ---------------------------------------------------------------------------------------------
# ThreeLayerConvNet
# ---------------------------------------------------------------------------------------------


def test_three_layer_convnet_init_shapes_dtype_and_rng_order():
    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(3, 10, 12), num_filters=4, filter_size=5, hidden_dim=6, num_classes=7,
                              weight_scale=0.1, reg=0.25)
    np.random.seed(0)
    W1 = 0.1 * np.random.randn(4, 3, 5, 5)
    W2 = 0.1 * np.random.randn(4 * 5 * 6, 6)
    W3 = 0.1 * np.random.randn(6, 7)
    expected = {"W1": W1, "b1": np.zeros(4), "W2": W2, "b2": np.zeros(6), "W3": W3, "b3": np.zeros(7)}
    assert sorted(model.params) == sorted(expected)
    for k, v in expected.items():
        assert model.params[k].dtype == np.float32, k
        np.testing.assert_array_equal(model.params[k], v.astype(np.float32), err_msg=k)
    assert model.reg == 0.25 and model.dtype == np.float32
    # Default arguments: the notebook's net.
    model = ThreeLayerConvNet(dtype=np.float64)
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {"W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,), "W3": (100, 10),
                      "b3": (10,)}
    assert abs(model.params["W2"].std() - 1e-3) < 1e-4 and model.params["W1"].dtype == np.float64


def test_three_layer_convnet_initial_loss_and_reg():
    np.random.seed(231)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, hidden_dim=20)
    N = 10
    X = np.random.randn(N, 3, 16, 16)
    y = np.random.randint(10, size=N)
    loss, grads = model.loss(X, y)
    assert abs(loss - np.log(10)) < 1e-4  # "Initial loss (no regularization)" ~ log(C)
    assert set(grads) == set(model.params)
    for k in grads:
        assert grads[k].shape == model.params[k].shape, k
    model.reg = 0.5  # read at call time
    loss_reg, _ = model.loss(X, y)
    W = [model.params[k].astype(np.float64) for k in ("W1", "W2", "W3")]
    assert loss_reg > loss  # "go up slightly"
    assert abs(loss_reg - loss - 0.25 * sum(np.sum(w * w) for w in W)) < 1e-6
    # Scores at test time; X is used as given (float64 here), not cast to the model's float32.
    scores = model.loss(X)
    assert scores.shape == (N, 10) and scores.dtype == np.float64
    assert model.loss(X.astype(np.float32)).dtype == np.float32


def test_three_layer_convnet_gradient_check():
    # The notebook's check (num_inputs=2, input_dim=(3, 16, 16), 3 filters of 3x3, hidden 7, float64,
    # h=1e-6), shrunk to 8x8 inputs, with and without regularization.
    np.random.seed(231)
    X = np.random.randn(2, 3, 8, 8)
    y = np.random.randint(10, size=2)
    model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=(3, 8, 8), hidden_dim=7, dtype=np.float64,
                              weight_scale=1e-1)
    for reg in (0.0, 0.7):
        model.reg = reg
        loss, grads = model.loss(X, y)
        for name in sorted(grads):
            num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-6)
            # The notebook allows "up to the order of e-2" (its weight_scale 1e-3 leaves gradients
            # near h's rounding); with weight_scale 0.1 this net measures 1e-9 .. 1.4e-6 (over 20 other
            # seeds at most 2.3e-5).
            assert rel_error(num, grads[name]) < 1e-4, (reg, name, rel_error(num, grads[name]))


def test_three_layer_convnet_save_load(tmp_path, capsys):
    model = ThreeLayerConvNet(input_dim=(1, 4, 4), num_filters=2, filter_size=3, hidden_dim=3, num_classes=2)
    fname = str(tmp_path / "convnet.npy")
    model.save(fname)
    other = ThreeLayerConvNet(input_dim=(1, 4, 4), num_filters=2, filter_size=3, hidden_dim=3, num_classes=2)
    assert other.load(fname) is True
    for k in model.params:
        np.testing.assert_array_equal(other.params[k], model.params[k])
    assert other.load(str(tmp_path / "missing.npy")) is False
    assert "not available" in capsys.readouterr().out
