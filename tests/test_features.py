"""cs231n_rs.features against the reference (cs231n_rs.reference.features) and, where SciPy is
installed, against a transcription of cs231n's hog_feature that uses scipy.ndimage.uniform_filter."""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cs231n_rs
from cs231n_rs import _core
from cs231n_rs import features as F
from cs231n_rs.features import color_histogram_hsv, hog_feature
from cs231n_rs import reference as R
from conftest import assert_not_mutated

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: HOG values are means of magnitudes up to ~360: scipy's running sum and our per-cell sums differ
#: in the last bits, so agreement is absolute, far inside the issue's 1e-10.
HOG_ATOL = 1e-11


def _pixels(rng, shape, dtype=np.float64):
    return rng.integers(0, 256, shape).astype(dtype)


try:
    from scipy.ndimage import uniform_filter as _uniform_filter
except ImportError:  # CI's fresh environment: the reference's own reflect filter (tested against scipy here)
    _uniform_filter = R.uniform_filter


def cs231n_hog(im):
    """cs231n's hog_feature for 3-D images, with scipy's uniform_filter when installed."""
    image = np.dot(im[..., :3], [0.299, 0.587, 0.144])
    sx, sy = image.shape
    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    gx[:, :-1] = np.diff(image, n=1, axis=1)
    gy[:-1, :] = np.diff(image, n=1, axis=0)
    grad_mag = np.sqrt(gx**2 + gy**2)
    grad_ori = np.arctan2(gy, (gx + 1e-15)) * (180 / np.pi) + 90
    n_cellsx, n_cellsy = int(np.floor(sx / 8)), int(np.floor(sy / 8))
    hist = np.zeros((n_cellsx, n_cellsy, 9))
    for i in range(9):
        temp_ori = np.where(grad_ori < 20 * (i + 1), grad_ori, 0)
        temp_ori = np.where(grad_ori >= 20 * i, temp_ori, 0)
        temp_mag = np.where(temp_ori > 0, grad_mag, 0)
        hist[:, :, i] = _uniform_filter(temp_mag, size=(8, 8))[4::8, 4::8].T
    return hist.ravel()


# ---------------------------------------------------------------------------------------------
# rgb2gray
# ---------------------------------------------------------------------------------------------


def test_rgb2gray_keeps_cs231n_weight_and_offers_the_standard_one():
    rgb = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    np.testing.assert_array_equal(F.rgb2gray(rgb), [[0.299, 0.587, 0.144]])
    np.testing.assert_array_equal(F.rgb2gray(rgb, standard=True), [[0.299, 0.587, 0.114]])
    rgba = np.random.default_rng(0).uniform(0, 255, (4, 5, 4))
    np.testing.assert_array_equal(F.rgb2gray(rgba), np.dot(rgba[..., :3], [0.299, 0.587, 0.144]))


# ---------------------------------------------------------------------------------------------
# HOG
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(32, 32, 3), (36, 36, 3), (64, 64, 4), (8, 8, 3), (35, 35, 3), (16, 16, 3)])
def test_hog_matches_cs231n_with_scipy(shape):
    rng = np.random.default_rng(sum(shape))
    for dtype in (np.float64, np.float32, np.uint8):
        im = _pixels(rng, shape, dtype)
        want = cs231n_hog(im)
        got = F.hog_feature(im)
        assert got.dtype == np.float64 and got.shape == want.shape == ((shape[0] // 8) ** 2 * 9,)
        np.testing.assert_allclose(got, want, rtol=0, atol=HOG_ATOL)
        np.testing.assert_allclose(R.hog_feature(im), want, rtol=0, atol=HOG_ATOL)


def test_hog_many_random_images_no_bin_flips():
    """Two colours can have exactly equal gray values (e.g. (101, 238, 73) and (159, 180, 189));
    a gray value one ulp off then moves a pixel between orientation bins. Random 0..255 images hit
    such pairs about once in 500 images."""
    rng = np.random.default_rng(5)
    imgs = _pixels(rng, (1500, 32, 32, 3))
    got = F.extract_features(imgs, [F.hog_feature])
    want = np.stack([cs231n_hog(im) for im in imgs])
    np.testing.assert_allclose(got, want, rtol=0, atol=HOG_ATOL)


def test_hog_equal_gray_pair_is_excluded_like_cs231n():
    im = np.zeros((8, 8, 3))
    im[3, 3] = [101, 238, 73]
    im[3, 4] = [159, 180, 189]  # same gray: gx is exactly 0 in NumPy, orientation 0, left out
    want = cs231n_hog(im)
    np.testing.assert_allclose(F.hog_feature(im), want, rtol=0, atol=HOG_ATOL)
    np.testing.assert_allclose(F.hog_feature(im.astype(np.uint8)), want, rtol=0, atol=HOG_ATOL)


def test_hog_layouts_and_dtypes_agree():
    rng = np.random.default_rng(2)
    base = _pixels(rng, (32, 32, 3))
    want = F.hog_feature(base)
    big = np.zeros((64, 40, 5))
    big[::2, 3:35, 1:4] = base
    views = {
        "F-order": np.asfortranarray(base),
        "strided": big[::2, 3:35, 1:4],
        "negative": np.ascontiguousarray(base[::-1, ::-1, ::-1])[::-1, ::-1, ::-1],
        "channels-first transposed": np.ascontiguousarray(base.transpose(2, 0, 1)).transpose(1, 2, 0),
        "int64": base.astype(np.int64),
        "uint8": base.astype(np.uint8),
        "float32": base.astype(np.float32),
        "big-endian": base.astype(">f8"),
        "read-only": np.require(base.copy(), requirements="C"),
    }
    views["read-only"].setflags(write=False)
    raw = np.zeros(base.nbytes + 1, np.uint8)
    un = np.ndarray(base.shape, np.float64, buffer=raw, offset=1)
    un[...] = base
    views["unaligned"] = un
    for name, v in views.items():
        np.testing.assert_allclose(F.hog_feature(v), want, rtol=0, atol=HOG_ATOL, err_msg=name)
        assert_not_mutated(base, v.astype(np.float64), name)


def test_hog_grayscale_2d_works():
    rng = np.random.default_rng(3)
    gray = rng.uniform(0, 255, (32, 32))
    got = F.hog_feature(gray)
    np.testing.assert_allclose(got, R.hog_feature(gray), rtol=0, atol=HOG_ATOL)
    # a gray image equals an RGB image whose gray is it: (g, g, g) has gray g * 1.03
    rgb = np.repeat((gray / 1.03)[..., None], 3, axis=2)
    np.testing.assert_allclose(got, F.hog_feature(rgb), rtol=1e-9, atol=1e-9)
    # uint8 gray: differences as floats, no wrap-around
    g8 = rng.integers(0, 256, (16, 16)).astype(np.uint8)
    np.testing.assert_allclose(F.hog_feature(g8), R.hog_feature(g8.astype(np.float64)), rtol=0, atol=HOG_ATOL)


@pytest.mark.parametrize("shape", [(32, 16, 3), (16, 40, 3), (24, 8), (41, 19, 3)])
def test_hog_non_square_is_the_transpose_generalisation(shape):
    rng = np.random.default_rng(4)
    im = rng.uniform(0, 255, shape)
    got = F.hog_feature(im)
    ncx, ncy = shape[0] // 8, shape[1] // 8
    assert got.shape == (ncx * ncy * 9,)
    np.testing.assert_allclose(got, R.hog_feature(im), rtol=0, atol=HOG_ATOL)
    # cell (row block b, column block a) is at [a, b, :] of a (ncy, ncx, 9) array
    g = F.rgb2gray(im) if im.ndim == 3 else im
    hist = got.reshape(ncy, ncx, 9)
    a, b = ncy - 1, ncx - 1
    sub = g[8 * b : 8 * b + 9, 8 * a : 8 * a + 9]  # the cell plus one row/column for the differences
    if sub.shape == (9, 9):
        one = F.hog_feature(sub[:, :, None].repeat(3, axis=2) / 1.03)  # 9x9 -> one cell
        np.testing.assert_allclose(hist[a, b], one, rtol=1e-9, atol=1e-9)


def test_hog_constant_extreme_and_tiny_images():
    for value in (0, 255):
        im = np.full((32, 32, 3), value, np.uint8)
        np.testing.assert_array_equal(F.hog_feature(im), np.zeros(144))
    im = np.zeros((32, 32, 3))
    im[:, 16:] = 255  # one vertical edge at full contrast
    np.testing.assert_allclose(F.hog_feature(im), cs231n_hog(im), rtol=0, atol=HOG_ATOL)
    assert F.hog_feature(np.zeros((7, 7, 3))).shape == (0,)
    assert F.hog_feature(np.zeros((4, 30))).shape == (0,)


def test_hog_errors():
    with pytest.raises(ValueError, match="im"):
        F.hog_feature(np.zeros((8, 8, 2)))
    with pytest.raises(ValueError, match="im"):
        F.hog_feature(np.zeros(8))
    with pytest.raises(ValueError, match="im"):
        F.hog_feature(np.zeros((1, 8, 8, 3)))
    with pytest.raises(TypeError, match="im"):
        F.hog_feature(np.zeros((8, 8, 3), dtype=complex))
    with pytest.raises(TypeError, match="im"):
        F.hog_feature(np.array([["a"]]))


def test_hog_kernel_rejects_bad_arguments():
    with pytest.raises(ValueError, match="rule"):
        _core.hog_features(np.zeros((1, 8, 8, 3)), False, 7)
    with pytest.raises(ValueError, match="imgs"):
        _core.hog_features(np.zeros((1, 8, 8, 3)), True)
    with pytest.raises(TypeError):
        _core.hog_features(np.zeros((1, 8, 8, 3), dtype=np.int16))
    assert _core.hog_features(np.zeros((0, 32, 32, 3))).shape == (0, 144)


def test_gray_rule_reproduces_numpy_dot_when_one_is_chosen():
    rule = F._gray_rule()
    if rule is None:
        pytest.skip("no kernel rounding rule matches this BLAS; HOG uses NumPy's gray image")
    rng = np.random.RandomState(99)
    probe = rng.randint(0, 256, (20000, 3)).astype(np.float64)
    np.testing.assert_array_equal(_core.gray_probe(probe, rule), np.dot(probe[None], [0.299, 0.587, 0.144])[0])


def test_hog_without_a_gray_rule_uses_numpy_gray(monkeypatch):
    rng = np.random.default_rng(8)
    imgs = _pixels(rng, (40, 16, 16, 3))
    with_rule = F.extract_features(imgs, [F.hog_feature])
    monkeypatch.setattr(F, "_GRAY_RULE", [None])
    without = F.extract_features(imgs, [F.hog_feature])
    np.testing.assert_allclose(without, with_rule, rtol=0, atol=HOG_ATOL)
    np.testing.assert_allclose(without, np.stack([R.hog_feature(im) for im in imgs]), rtol=0, atol=HOG_ATOL)


# ---------------------------------------------------------------------------------------------
# Colour histogram
# ---------------------------------------------------------------------------------------------

HIST_ARGS = [
    {},
    {"nbin": 25},
    {"nbin": 7, "normalized": False},
    {"nbin": 5, "xmin": 30, "xmax": 255},
    {"nbin": 8, "xmin": 0, "xmax": 300},
    {"nbin": 3, "xmin": 0, "xmax": 255.0},
    {"nbin": 0},
    {"nbin": 1},
]


@pytest.mark.parametrize("kwargs", HIST_ARGS)
def test_hist_equals_reference_bit_for_bit(kwargs):
    rng = np.random.default_rng(11)
    for dtype in (np.uint8, np.float64, np.float32):
        im = _pixels(rng, (32, 32, 3), dtype)
        got = F.color_histogram_hsv(im, **kwargs)
        want = R.color_histogram_hsv(im, **kwargs)
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_array_equal(got, want, err_msg=str((dtype, kwargs)))


finite_pixels = st.floats(0, 255, allow_nan=False, width=32)


@SETTINGS
@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=12).map(lambda s: s[:2] + (3,)),
               elements=finite_pixels),
    st.integers(0, 30),
    st.booleans(),
    st.sampled_from([np.float32, np.float64, np.uint8]),
)
def test_hist_property_matches_reference(im, nbin, normalized, dtype):
    im = im.astype(dtype)
    with np.errstate(all="ignore"):  # all-outside histograms divide 0 by 0 in NumPy
        want = R.color_histogram_hsv(im, nbin=nbin, normalized=normalized)
    got = F.color_histogram_hsv(im, nbin=nbin, normalized=normalized)
    np.testing.assert_array_equal(got, want)


def test_hist_ties_and_greys_and_extremes():
    # red/green/blue ties, greys (hue 0), black, white, values at 0 and 255
    px = [[255, 255, 0], [0, 255, 255], [255, 0, 255], [255, 255, 255], [0, 0, 0], [128, 128, 128],
          [255, 0, 0], [0, 255, 0], [0, 0, 255], [1, 0, 0], [255, 254, 255]]
    im = np.array(px, dtype=np.uint8)[None]
    for nbin in (6, 10, 12, 360):
        for dtype in (np.uint8, np.float32, np.float64):
            np.testing.assert_array_equal(F.color_histogram_hsv(im.astype(dtype), nbin=nbin),
                                          R.color_histogram_hsv(im.astype(dtype), nbin=nbin))


def test_hist_layouts_and_broadcasts():
    rng = np.random.default_rng(14)
    base = _pixels(rng, (16, 12, 3))
    want = R.color_histogram_hsv(base, nbin=12)
    big = np.zeros((32, 30, 5))
    big[::2, 3:15, 1:4] = base
    views = [
        np.asfortranarray(base),
        big[::2, 3:15, 1:4],
        np.ascontiguousarray(base[::-1, ::-1, ::-1])[::-1, ::-1, ::-1],
        base.astype(">f8"),
        base.astype(np.uint8)[:, :, :],
    ]
    raw = np.zeros(base.nbytes + 1, np.uint8)
    un = np.ndarray(base.shape, np.float64, buffer=raw, offset=1)
    un[...] = base
    views.append(un)
    for v in views:
        np.testing.assert_array_equal(F.color_histogram_hsv(v, nbin=12), want)
    pixel = np.array([10.0, 200.0, 90.0])
    flat = np.broadcast_to(pixel, (16, 12, 3))  # zero strides
    np.testing.assert_array_equal(F.color_histogram_hsv(flat, nbin=12), R.color_histogram_hsv(flat, nbin=12))
    np.testing.assert_array_equal(F.hog_feature(flat), np.zeros(2 * 1 * 9))


def test_hist_nan_pixels_count_as_hue_zero_like_matplotlib():
    rng = np.random.default_rng(13)
    for dtype in (np.float64, np.float32):
        im = _pixels(rng, (6, 7, 3), dtype)
        im[1, 2, 0] = np.nan
        im[4, 4] = np.nan
        im[0, 0, 2] = -3.0  # below 0, but the image's minimum is NaN: matplotlib lets it pass
        for nbin in (4, 10):
            np.testing.assert_array_equal(F.color_histogram_hsv(im, nbin=nbin), R.color_histogram_hsv(im, nbin=nbin))


def _matplotlib_accepts(im):
    """Whether this matplotlib's rgb_to_hsv takes ``im`` without an error (older releases do not
    check the range, and fail on float16 under NumPy 2: ``np.array(copy=False)``)."""
    import matplotlib.colors

    try:
        matplotlib.colors.rgb_to_hsv(im)
        return True
    except ValueError:
        return False


def test_hist_range_errors_match_matplotlib():
    too_big = np.full((2, 2, 3), 300.0)
    negative = np.full((2, 2, 3), -1.0)
    for im in (too_big, negative):
        with pytest.raises(ValueError) as ours:
            F.color_histogram_hsv(im)
        if _matplotlib_accepts(im / 255):
            continue  # this matplotlib (< 3.8) does not check the range: nothing to compare with
        with pytest.raises(ValueError) as theirs:
            R.color_histogram_hsv(im)
        assert str(theirs.value) in str(ours.value)
    with pytest.raises(ValueError):
        F.color_histogram_hsv(np.zeros((4, 4, 4)))  # matplotlib: last dimension must be 3
    with pytest.raises(ValueError), np.errstate(all="ignore"):
        F.color_histogram_hsv(np.zeros((4, 4, 3)), xmin=10, xmax=0)  # decreasing bins


def test_hist_unusual_inputs_take_numpy_route():
    rng = np.random.default_rng(12)
    im = _pixels(rng, (8, 8, 3))
    for dtype in (np.float16, np.int16, np.int64, bool):
        a = im.astype(dtype) if dtype is not bool else im > 100
        if dtype is np.float16 and not _matplotlib_accepts(np.full((1, 1, 3), 0.5, np.float16)):
            continue  # an older matplotlib that fails on float16 under NumPy 2 (both sides use it)
        np.testing.assert_array_equal(F.color_histogram_hsv(a), R.color_histogram_hsv(a), err_msg=str(dtype))
    np.testing.assert_array_equal(F.color_histogram_hsv(im, xmax=np.float32(255)),
                                  R.color_histogram_hsv(im, xmax=np.float32(255)))
    np.testing.assert_array_equal(F.color_histogram_hsv(im.astype(np.float32), xmax=np.float64(255)),
                                  R.color_histogram_hsv(im.astype(np.float32), xmax=np.float64(255)))


def test_hist_kernel_errors():
    with pytest.raises(ValueError, match="bins"):
        _core.hsv_histograms(np.zeros((1, 2, 2, 3)), 255.0, np.array([1.0, 0.0]), True)
    with pytest.raises(ValueError, match="bins"):
        _core.hsv_histograms(np.zeros((1, 2, 2, 3)), 255.0, np.array([]), True)
    with pytest.raises(ValueError, match="bins"):
        _core.hsv_histograms(np.zeros((1, 2, 2, 3)), 255.0, np.array([0.0, np.nan]), True)
    with pytest.raises(ValueError, match="3"):
        _core.hsv_histograms(np.zeros((1, 2, 2, 4)), 255.0, np.array([0.0, 1.0]), True)
    assert _core.hsv_histograms(np.zeros((0, 2, 2, 3)), 255.0, np.linspace(0, 255, 11), True).shape == (0, 10)


# ---------------------------------------------------------------------------------------------
# extract_features
# ---------------------------------------------------------------------------------------------


def _ref_fns(nbin):
    return [R.hog_feature, lambda img: R.color_histogram_hsv(img, nbin=nbin)]


def test_extract_features_notebook_form_matches_reference(capsys):
    rng = np.random.default_rng(20)
    imgs = _pixels(rng, (2100, 32, 32, 3))
    num_color_bins = 25
    feature_fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=num_color_bins)]  # as the notebook
    assert F._recognise(feature_fns[1], imgs[0])[0] is color_histogram_hsv
    got = F.extract_features(imgs, feature_fns, verbose=True)
    out = capsys.readouterr().out
    assert out == ("Done extracting features for 1000 / 2100 images\n"
                   "Done extracting features for 2000 / 2100 images\n")
    sub = np.r_[0:50, 990:1010, 2050:2100]
    want = R.extract_features(imgs[sub], _ref_fns(num_color_bins))
    assert got.shape == (2100, 144 + 25) and got.dtype == np.float64
    np.testing.assert_allclose(got[sub], want, rtol=0, atol=HOG_ATOL)
    np.testing.assert_array_equal(got[sub, 144:], want[:, 144:])


def _count_calls(monkeypatch):
    """Counts the per-image calls of our features (the fast path makes none after the first image)."""
    calls = {"n": 0}
    real = F._core.hsv_histograms

    def counting(batch, *a):
        calls["n"] += 1
        return real(batch, *a)

    monkeypatch.setattr(F._core, "hsv_histograms", counting)
    return calls


NBIN = 6


def test_extract_features_recognises_our_functions(monkeypatch):
    rng = np.random.default_rng(21)
    imgs = _pixels(rng, (30, 16, 16, 3))
    nbin = NBIN
    hsv = F.color_histogram_hsv

    def forwarder(img):
        return hsv(img, nbin=nbin)  # closure over a function and a number

    want = R.extract_features(imgs, _ref_fns(nbin))
    fast = [
        [hog_feature, lambda img: color_histogram_hsv(img, nbin=nbin)],
        [hog_feature, lambda img: color_histogram_hsv(img, nbin=NBIN)],
        [hog_feature, lambda img: color_histogram_hsv(img, nbin)],
        [lambda im: hog_feature(im), functools.partial(F.color_histogram_hsv, nbin=nbin)],
        [hog_feature, forwarder],
        [lambda img: F.hog_feature(img), lambda img: F.color_histogram_hsv(img, nbin=nbin)],  # module attributes
    ]
    for fns in fast:
        for fn in fns:
            assert F._recognise(fn, imgs[0])[0] in (hog_feature, color_histogram_hsv)
        calls = _count_calls(monkeypatch)
        got = F.extract_features(imgs, fns)
        np.testing.assert_allclose(got, want, rtol=0, atol=HOG_ATOL)
        assert calls["n"] <= 2, "expected the batch path"  # the first-image trace + one batch
        monkeypatch.undo()


def test_functions_that_are_not_forwarders_are_not_recognised():
    im = _pixels(np.random.default_rng(29), (16, 16, 3))
    counter = {"n": 0}

    def stateful(img):  # its argument changes from call to call
        counter["n"] += 1
        return color_histogram_hsv(img, nbin=counter["n"])

    others = [
        lambda img: color_histogram_hsv(img * 0.5, nbin=5),  # arithmetic on the image
        lambda img: color_histogram_hsv(img[::-1], nbin=5),  # a different image
        lambda img: F.np.mean(img),  # a module attribute that is not ours
        lambda img: color_histogram_hsv(img, nbin=5) + 0,  # result changed
        lambda img: color_histogram_hsv(img, nbin=int(img.max()) % 7 + 1),  # depends on the image
        lambda img, k=5: color_histogram_hsv(img, nbin=k),  # two parameters
        functools.partial(color_histogram_hsv, im),  # positional image
        functools.partial(color_histogram_hsv, nbin=np.array(5)),  # not a plain number
        stateful,
        np.mean,
        R.hog_feature,
    ]
    for fn in others:
        assert F._recognise(fn, im)[0] is None, fn


def test_extract_features_other_functions_use_the_loop():
    rng = np.random.default_rng(22)
    imgs = _pixels(rng, (12, 16, 16, 3))
    seen = []

    def mean_feature(img):
        seen.append(img.shape)
        return np.array([img.mean()])

    fns = [hog_feature, mean_feature, lambda img: color_histogram_hsv(img * 0.5, nbin=5)]
    got = F.extract_features(imgs, fns)
    want = R.extract_features(imgs, [R.hog_feature, mean_feature, lambda img: R.color_histogram_hsv(img * 0.5, nbin=5)])
    np.testing.assert_allclose(got, want, rtol=0, atol=HOG_ATOL)
    assert len(seen) == 2 * 12 and seen[0] == (16, 16, 3)


def test_extract_features_edge_cases():
    empty = F.extract_features(np.zeros((0, 32, 32, 3)), [F.hog_feature])
    assert empty.shape == (0,) and isinstance(empty, np.ndarray)
    gray = np.random.default_rng(24).uniform(0, 255, (5, 16, 16, 1))  # squeezed to (16, 16)
    np.testing.assert_allclose(F.extract_features(gray, [F.hog_feature]),
                               R.extract_features(gray, [R.hog_feature]), rtol=0, atol=HOG_ATOL)
    with pytest.raises(AssertionError, match="one-dimensional"):
        F.extract_features(np.zeros((2, 8, 8, 3)), [lambda img: img])
    bad = np.zeros((3, 8, 8, 3))
    bad[2, 0, 0, 0] = 400.0
    with pytest.raises(ValueError, match="range"):
        F.extract_features(bad, [F.color_histogram_hsv])
    u8 = np.random.default_rng(25).integers(0, 256, (9, 24, 24, 3)).astype(np.uint8)
    np.testing.assert_allclose(F.extract_features(u8, [F.hog_feature, F.color_histogram_hsv]),
                               R.extract_features(u8, [R.hog_feature, R.color_histogram_hsv]), rtol=0, atol=HOG_ATOL)
    strided = np.zeros((10, 40, 40, 4))
    strided[:, 2:34, 3:35, :3] = np.random.default_rng(26).integers(0, 256, (10, 32, 32, 3))
    view = strided[::2, 2:34, 3:35, :3]
    np.testing.assert_allclose(F.extract_features(view, [F.hog_feature, F.color_histogram_hsv]),
                               R.extract_features(view, [R.hog_feature, R.color_histogram_hsv]), rtol=0, atol=HOG_ATOL)


def test_extract_features_same_bits_for_any_thread_count(restore_threads):
    imgs = _pixels(np.random.default_rng(27), (200, 32, 32, 3))
    fns = [F.hog_feature, F.color_histogram_hsv]
    results = []
    for n in (1, 2, 3):
        cs231n_rs.set_num_threads(n)
        results.append(F.extract_features(imgs, fns))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_reference_uniform_filter_matches_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(28)
    for shape in [(5, 3), (32, 32), (11, 40), (1, 9)]:
        x = rng.standard_normal(shape)
        np.testing.assert_allclose(R.uniform_filter(x, (8, 8)), ndimage.uniform_filter(x, size=(8, 8)),
                                   rtol=0, atol=1e-14)


def test_tour_features_stage_on_digits(tmp_path, capsys, np_seed):
    from cs231n_rs import tour

    assert tour.stage_features in tour.STAGES
    np.random.seed(0)
    data = tour.load_data()
    result = tour.stage_features(data, tmp_path, False, quick=True)
    out = capsys.readouterr().out
    assert "Features: HOG + HSV hue histogram (10 bins) of 1797 images in" in out
    assert result["pipeline"] == "HOG+HSV"
    # HOG of 4x-upsampled 8x8 digits: ~0.88 val / ~0.90 test after 1500 iterations, a bit less quick
    assert 0.7 < result["val_acc"] <= 1 and 0.7 < result["test_acc"] <= 1, result


def test_bench_has_feature_rows(tmp_path, capsys):
    import json

    from cs231n_rs.cli import main

    path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--only", "extract_features", "--json", str(path)]) == 0
    rows = json.loads(path.read_text())["results"]
    assert [r["kernel"] for r in rows] == [
        "extract_features hog", "extract_features hsv nbin=10", "extract_features hog + hsv"
    ]
    for r in rows:
        assert r["shape"] == "100x32x32x3" and r["reference_ms"] > 0 and r["ours_ms"] > 0
    assert "per-image loop" in capsys.readouterr().out
