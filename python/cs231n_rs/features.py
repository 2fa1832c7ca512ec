"""Image features (cs231n ``features.py``): HOG and HSV colour histograms, computed in Rust.

``extract_features`` keeps cs231n's signature, output and progress lines. When every feature
function is one of ours -- ``hog_feature``, ``color_histogram_hsv``, a ``functools.partial`` of
them, or a one-line forwarder such as the notebook's ``lambda img: color_histogram_hsv(img,
nbin=num_color_bins)`` -- the whole batch runs in Rust, in parallel over images; any other
function is called image by image, as cs231n does. How a forwarder is recognised, and why a wrong
guess cannot change a result, is described in :func:`extract_features`.

Differences from cs231n, all where cs231n's code fails:

* ``hog_feature`` accepts a 2-D (grayscale) image; cs231n's raises ``AttributeError``
  (``np.at_least_2d``). Integer gray images are differenced as floats (no uint8 wrap-around).
* ``hog_feature`` on an image whose cell counts differ (``H // 8 != W // 8``) returns the
  descriptor cs231n's transpose implies -- cells ordered column block first, then row block, 9 bins
  each, length ``(H // 8) * (W // 8) * 9`` -- where cs231n's raises a broadcasting ``ValueError``;
  pixels past the last whole cell are ignored, also when ``H % 8 >= 5`` (where cs231n's sampling
  yields an extra cell and fails).

Agreement: ``color_histogram_hsv`` is bit for bit matplotlib's ``rgb_to_hsv`` + ``np.histogram``.
HOG values agree with cs231n's to ~1e-13, not bit for bit (scipy's ``uniform_filter`` keeps a
running sum along each line; we sum each cell directly). The gray image, though, is rounded exactly
as ``np.dot`` rounds it on the running machine -- which depends on the BLAS and the CPU -- because two
different colours can have exactly equal gray values and a one-ulp difference would move a pixel
into another orientation bin (random 0..255 images hit such a pair about once in 500 images): the
kernel's rounding rule is chosen once per process by comparison with ``np.dot`` (see
:func:`_gray_rule`), and NumPy's own gray image is used when no rule matches or when ``np.dot``
would not hand unit-stride pixels to the BLAS. Non-finite pixels give non-finite cells; scipy's
running sum can also spread them into the following cells of cs231n's version.
"""

import dis
import functools
import threading
import types

import numpy as np

from . import _core
from ._validate import as_array, readable
from .reference import features as _ref

__all__ = [
    "extract_features",
    "rgb2gray",
    "hog_feature",
    "color_histogram_hsv",
    "CS231N_GRAY_WEIGHTS",
    "STANDARD_GRAY_WEIGHTS",
]

#: cs231n's ``rgb2gray`` weights: 0.144 for blue, not the usual 0.114 (kept in every year of cs231n).
CS231N_GRAY_WEIGHTS = _ref.CS231N_GRAY_WEIGHTS
#: The ITU-R BT.601 luma weights that 0.144 was presumably meant to be.
STANDARD_GRAY_WEIGHTS = _ref.STANDARD_GRAY_WEIGHTS

#: Images per Rust call in extract_features (cs231n prints its progress line every 1000 images).
_CHUNK = 1000

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_U8 = np.dtype(np.uint8)


def extract_features(imgs, feature_fns, verbose=False):
    """
    Given pixel data for images and several feature functions that can operate on
    single images, apply all feature functions to all images, concatenating the
    feature vectors for each image and storing the features for all images in
    a single matrix.

    Inputs:
    - imgs: N x H X W X C array of pixel data for N images.
    - feature_fns: List of k feature functions. The ith feature function should
      take as input an H x W x D array and return a (one-dimensional) array of
      length F_i.
    - verbose: Boolean; if true, print progress.

    Returns:
    An array of shape (N, F_1 + ... + F_k) where each row is the concatenation
    of all features for a single image (cs231n's docstring says "column").

    Fast path: a feature function is computed for the whole batch in Rust when it is
    ``hog_feature`` or ``color_histogram_hsv`` itself, a ``functools.partial`` of one with keyword
    arguments only, or a plain function of one argument whose code does nothing but call one of
    them with that argument and constants (from its literals, closure or module globals that are
    numbers). Such a forwarder is recognised by reading its bytecode (only loads, one call and a
    return are allowed; anything else is left alone) and by calling it on the first image -- as
    cs231n does anyway -- while our function records what it was called with: it must have been
    called exactly once, with the very image object, and its result returned unchanged. Anything
    else, and any function we do not recognise, runs image by image exactly as cs231n's loop, so a
    wrong guess can only cost speed. Progress lines are printed as cs231n prints them.
    """
    num_images = imgs.shape[0]
    if num_images == 0:
        return np.array([])

    batchable = isinstance(imgs, np.ndarray) and imgs.ndim == 4 and imgs.dtype.kind in "biuf"
    batch = imgs if batchable and imgs.shape[1] > 1 and imgs.shape[2] > 1 else None
    first = imgs[0].squeeze()
    feature_dims, plans, first_feats = [], [], []
    for feature_fn in feature_fns:
        plan, feats = _plan(feature_fn, first, batch)
        if plan is None:
            if feats is None:
                feats = feature_fn(first)
            assert len(feats.shape) == 1, "Feature functions must be one-dimensional"
        plans.append(plan)
        first_feats.append(feats)
        feature_dims.append(plan.dim if plan is not None else feats.size)

    imgs_features = np.zeros((num_images, sum(feature_dims)))
    offsets = np.concatenate([[0], np.cumsum(feature_dims)]).astype(int)
    for k, plan in enumerate(plans):
        if plan is None:
            imgs_features[0, offsets[k] : offsets[k + 1]] = first_feats[k]

    for start in range(0, num_images, _CHUNK):
        stop = min(start + _CHUNK, num_images)
        for k, plan in enumerate(plans):
            if plan is not None:
                imgs_features[start:stop, offsets[k] : offsets[k + 1]] = plan.run(batch[start:stop])
        loop_fns = [(k, fn) for k, fn in enumerate(feature_fns) if plans[k] is None]
        if loop_fns:
            for i in range(max(start, 1), stop):
                for k, fn in loop_fns:
                    imgs_features[i, offsets[k] : offsets[k + 1]] = fn(imgs[i].squeeze())
        if verbose and stop % 1000 == 0:  # cs231n: after image i when i % 1000 == 999
            print("Done extracting features for %d / %d images" % (stop, num_images))
    return imgs_features


def rgb2gray(rgb, standard=False):
    """Convert RGB image to grayscale

    Parameters:
      rgb : RGB image
      standard : False (default) keeps cs231n's weights (0.299, 0.587, 0.144) -- note 0.144 for
        blue, where the usual (ITU-R BT.601) weight is 0.114; HOG features match cs231n's only with
        these. True uses (0.299, 0.587, 0.114).

    Returns:
      gray : grayscale image ``np.dot(rgb[..., :3], weights)``
    """
    return _ref.rgb2gray(rgb, standard=standard)


def hog_feature(im):
    """Compute Histogram of Gradient (HOG) feature for an image

         Modified from skimage.feature.hog
         http://pydoc.net/Python/scikits-image/0.4.2/skimage.feature.hog

       Reference:
         Histograms of Oriented Gradients for Human Detection
         Navneet Dalal and Bill Triggs, CVPR 2005

      Parameters:
        im : an input grayscale (H, W) or rgb (H, W, C >= 3) image

      Returns:
        feat: Histogram of Gradient (HOG) feature, float64 of length (H // 8) * (W // 8) * 9

    The image is converted with rgb2gray (cs231n's weights); 9 orientation bins of 20 degrees over
    [0, 180) of ``arctan2(gy, gx + 1e-15)`` in degrees + 90, pixels at orientation exactly 0
    excluded; each 8x8 cell's mean magnitude per bin. See the module docstring for grayscale and
    non-square images, which cs231n's code cannot take.
    """
    arr = as_array(im, "im")
    if arr.ndim == 3:
        if arr.shape[2] < 3:
            raise ValueError("im: expected an RGB image of shape (H, W, C) with C >= 3, got shape %s" % (arr.shape,))
        batch, gray = arr[None], False
    elif arr.ndim == 2:
        batch, gray = arr[None, :, :, None], True
    else:
        raise ValueError("im: expected an image of shape (H, W) or (H, W, C), got shape %s" % (arr.shape,))
    out = _hog_batch(batch, gray)[0]
    _record(hog_feature, im, {}, out)
    return out


def color_histogram_hsv(im, nbin=10, xmin=0, xmax=255, normalized=True):
    """
    Compute color histogram for an image using hue.

    Inputs:
    - im: H x W x C array of pixel data for an RGB image.
    - nbin: Number of histogram bins. (default: 10)
    - xmin: Minimum pixel value (default: 0)
    - xmax: Maximum pixel value (default: 255)
    - normalized: Whether to normalize the histogram (default: True)

    Returns:
      1D vector of length nbin giving the color histogram over the hue of the
      input image.

    The hue is matplotlib's ``rgb_to_hsv(im / xmax)[..., 0] * xmax`` (in the dtype of ``im /
    xmax``), binned as ``np.histogram(..., bins=np.linspace(xmin, xmax, nbin + 1),
    density=normalized)`` (the last bin closed on the right, values outside ignored) and multiplied
    by the bin widths, so a normalized histogram sums to 1. Unusual inputs (float16, edges that are
    not finite float64, shapes other than (H, W, 3)) take the NumPy route, with its errors.
    """
    bins = np.linspace(xmin, xmax, nbin + 1)
    how = None
    if isinstance(im, np.ndarray) and im.ndim == 3 and im.shape[2] == 3:
        how = _hist_dtype(im.dtype, xmax, bins)
    if how is None:
        out = _ref.color_histogram_hsv(im, nbin=nbin, xmin=xmin, xmax=xmax, normalized=normalized)
    else:
        arr = _hist_pixels(im, how[0])[None]
        out = _core.hsv_histograms(arr, float(xmax), bins, bool(normalized), how[1])[0]
        record = {"nbin": nbin, "xmin": xmin, "xmax": xmax, "normalized": normalized}
        _record(color_histogram_hsv, im, record, out)
    return out


# ----------------------------------------------------------------------------------------------
# Kernels


def _readable(a):
    """``readable(a)``, plus a copy when ``a`` is still unaligned (``np.ascontiguousarray`` returns
    an unaligned C-contiguous array unchanged)."""
    a = readable(a)
    return a if a.flags.aligned else a.copy()


def _pixels(a):
    """``a`` as a uint8, float32 or float64 array the kernels can read in place (other real dtypes
    are converted to float64, as ``np.dot`` with float weights does)."""
    if a.dtype == _U8 or a.dtype == _F32 or a.dtype == _F64:
        return _readable(a)
    return a.astype(np.float64)


def _hog_batch(batch, gray):
    """HOG descriptors (n, F) of a batch (n, H, W, C): C == 1 with ``gray``, else C >= 3."""
    if gray:
        return _core.hog_features(_pixels(batch), True)
    rule = _gray_rule()
    if rule is not None and _dot_is_unit_ddot(batch):
        return _core.hog_features(_pixels(batch), False, rule)
    # NumPy's own gray values, bit for bit cs231n's rgb2gray, then the kernel on them.
    return _core.hog_features(rgb2gray(batch)[..., None], True)


def _dot_is_unit_ddot(a):
    """True when ``np.dot(a[..., :3], w)`` hands each pixel to the BLAS ``ddot`` with unit strides:
    float64 input whose channels are adjacent, or another dtype (NumPy casts it to a float64 copy
    in the same memory order) whose channel axis is the innermost."""
    if a.dtype == _F64:
        return a.flags.aligned and a.strides[3] == a.itemsize
    inner = a.strides[3]
    return inner == a.itemsize and all(abs(st) >= inner * 3 or n == 1 for st, n in zip(a.strides[:3], a.shape[:3]))


_GRAY_RULE = []


def _gray_rule():
    """Which of the kernel's ways of rounding ``0.299 r + 0.587 g + 0.144 b`` gives exactly what
    ``np.dot`` gives on this machine (it depends on the BLAS and CPU), or None (then HOG uses NumPy's
    gray image). Two different colours can have mathematically equal gray values; one ulp of
    difference then moves a pixel into another orientation bin, so close is not enough. Decided
    once per process on 45000 probe pixels (integers 0..255 and random floats) in two memory layouts."""
    if not _GRAY_RULE:
        _GRAY_RULE.append(_calibrate_gray_rule())
    return _GRAY_RULE[0]


def _calibrate_gray_rule():
    rng = np.random.RandomState(231)  # a private generator: NumPy's global state is not touched
    probe = np.concatenate(
        [
            rng.randint(0, 256, (30000, 3)).astype(np.float64),
            rng.uniform(0, 1, (5000, 3)),
            rng.uniform(0, 255, (5000, 3)),
            rng.standard_normal((5000, 3)) * 1e3,
        ]
    )
    rgba = np.zeros((1, probe.shape[0], 4))
    rgba[0, :, :3] = probe
    want = rgb2gray(probe[None])[0]  # 3-D, as an image: one ddot per pixel
    if not np.array_equal(rgb2gray(rgba)[0], want):
        return None
    for rule in (1, 2, 0):
        if np.array_equal(_core.gray_probe(probe, rule), want):
            return rule
    return None


def _hist_dtype(dtype, xmax, bins):
    """How the Rust histogram reads images of ``dtype``: ``(convert_to or None, compute_f32)``, or
    None where NumPy's route must be taken (odd dtypes, edges that are not finite float64)."""
    if dtype.kind not in "biuf":
        return None
    if bins.dtype != _F64 or bins.ndim != 1 or not np.all(np.isfinite(bins)) or np.any(bins[:-1] > bins[1:]):
        return None
    if isinstance(xmax, (bool, np.bool_)) or not isinstance(xmax, (int, float, np.integer, np.floating)):
        return None
    if isinstance(xmax, (int, np.integer)) and abs(int(xmax)) > 2**53:
        return None
    with np.errstate(all="ignore"):
        work = (np.empty(0, dtype) / xmax).dtype  # NumPy's dtype of im / xmax
        if work not in (_F32, _F64) or (np.empty(0, work) * xmax).dtype != work:
            return None  # float16 and longdouble hues: leave them to NumPy
    as_is = dtype == _U8 or (dtype.isnative and (dtype == _F32 or dtype == work))
    return (None if as_is else work), work == _F32


def _hist_pixels(a, convert_to):
    return _readable(a) if convert_to is None else a.astype(convert_to)


# ----------------------------------------------------------------------------------------------
# Recognising our functions inside extract_features

_TRACE = threading.local()


def _record(fn, im, kwargs, out):
    calls = getattr(_TRACE, "calls", None)
    if calls is not None:
        calls.append((fn, im, kwargs, out))


class _Plan:
    """A feature function computed for a batch in Rust: ``run(batch) -> (n, dim)``."""

    def __init__(self, dim, run):
        self.dim = dim
        self.run = run


def _plan(fn, first, batch):
    """``(plan or None, first-image features or None)`` for one feature function."""
    if batch is None:
        return None, None
    target, kwargs, feats = _recognise(fn, first)
    if target is None:
        return None, feats
    n, h, w, c = batch.shape
    if target is hog_feature and not kwargs:
        if c == 2:
            return None, feats
        gray = c == 1
        return _Plan((h // 8) * (w // 8) * 9, lambda b: _hog_batch(b, gray)), feats
    if target is color_histogram_hsv and c == 3:
        params = {"nbin": 10, "xmin": 0, "xmax": 255, "normalized": True}
        if set(kwargs) - set(params):
            return None, feats
        params.update(kwargs)
        try:
            bins = np.linspace(params["xmin"], params["xmax"], params["nbin"] + 1)
        except Exception:
            return None, feats
        how = _hist_dtype(batch.dtype, params["xmax"], bins)
        if how is None:
            return None, feats
        xmax, density = float(params["xmax"]), bool(params["normalized"])
        return _Plan(len(bins) - 1, lambda b: _core.hsv_histograms(_hist_pixels(b, how[0]), xmax, bins, density, how[1])), feats
    return None, feats


def _recognise(fn, first):
    """``(our function, its keyword arguments, first-image features or None)``, or ``(None, None,
    feats)`` when ``fn`` is not one of ours (``feats``: its result on ``first`` when it was called)."""
    if fn is hog_feature or fn is color_histogram_hsv:
        return fn, {}, None
    if isinstance(fn, functools.partial):
        if (fn.func is hog_feature or fn.func is color_histogram_hsv) and not fn.args and _plain(fn.keywords.values()):
            return fn.func, dict(fn.keywords), None
        return None, None, None
    if not _is_forwarder(fn):
        return None, None, None
    outer = getattr(_TRACE, "calls", None)
    _TRACE.calls = []
    try:
        feats = fn(first)
        calls = _TRACE.calls
    finally:
        _TRACE.calls = outer
    if len(calls) == 1:
        target, im, kwargs, out = calls[0]
        if im is first and out is feats and _plain(kwargs.values()):
            return target, kwargs, feats
    return None, None, feats


#: Bytecode allowed in a forwarder: loads, one call, a return (names across CPython 3.9-3.14).
_FORWARDER_OPS = frozenset(
    {
        "RESUME", "NOP", "CACHE", "EXTENDED_ARG", "COPY_FREE_VARS", "PUSH_NULL", "PRECALL", "KW_NAMES",
        "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_FAST", "LOAD_FAST_BORROW", "LOAD_FAST_CHECK", "LOAD_CONST",
        "LOAD_SMALL_INT", "LOAD_ATTR", "LOAD_METHOD", "CALL", "CALL_KW", "CALL_FUNCTION", "CALL_FUNCTION_KW",
        "CALL_METHOD", "RETURN_VALUE",
    }
)
_CALL_OPS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_METHOD"})


def _plain(values):
    """True when every value is a plain number (the arguments a forwarder may pass on)."""
    return all(isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in values)


def _ours(value):
    return value is hog_feature or value is color_histogram_hsv


def _is_forwarder(fn):
    """True when ``fn`` is a Python function of exactly one argument whose body only loads its
    argument, constants, numbers and one of our functions (from globals, closure cells, or as an
    attribute of a module), and makes exactly one call: then every call does what the first did."""
    if not isinstance(fn, types.FunctionType):
        return False
    code = fn.__code__
    if code.co_argcount != 1 or code.co_kwonlyargcount or code.co_flags & 0x0C:  # *args / **kwargs
        return False
    cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
    calls = 0
    module = None  # the module just loaded: only an attribute load may follow it
    for ins in dis.get_instructions(code):
        op = ins.opname
        if op not in _FORWARDER_OPS or (module is not None and op not in ("LOAD_ATTR", "LOAD_METHOD", "CACHE")):
            return False
        calls += op in _CALL_OPS
        if op in ("LOAD_GLOBAL", "LOAD_DEREF"):
            if op == "LOAD_GLOBAL":
                if ins.argval not in fn.__globals__:
                    return False
                value = fn.__globals__[ins.argval]
            else:
                try:
                    value = cells[ins.argval].cell_contents
                except (KeyError, ValueError):  # not a free variable, or an empty cell
                    return False
            if isinstance(value, types.ModuleType):
                module = value
            elif not (_ours(value) or _plain([value])):
                return False
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            if module is None or not _ours(module.__dict__.get(ins.argval)):
                return False
            module = None
        elif op == "LOAD_CONST":
            c = ins.argval
            if not (c is None or isinstance(c, (str, tuple)) or _plain([c])):
                return False
    return calls == 1 and module is None
