"""Reference image features: cs231n's ``features.py`` semantics in NumPy (and matplotlib's rgb_to_hsv).

No SciPy: :func:`uniform_filter` reimplements ``scipy.ndimage.uniform_filter`` (mode ``'reflect'``,
origin 0) with reflect-padding and cumulative sums. This module is the oracle of the tests and the
per-image baseline of ``cs231n-rs bench``.
"""

import numpy as np

CS231N_GRAY_WEIGHTS = (0.299, 0.587, 0.144)
STANDARD_GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def rgb2gray(rgb, standard=False):
    """``np.dot(rgb[..., :3], [0.299, 0.587, 0.144])`` (cs231n's 0.144 unless ``standard``)."""
    return np.dot(rgb[..., :3], list(STANDARD_GRAY_WEIGHTS if standard else CS231N_GRAY_WEIGHTS))


def uniform_filter1d(x, size, axis):
    """Mean over a window of ``size`` along ``axis``, covering offsets ``-(size // 2) .. size - size // 2 - 1``
    (scipy's window for origin 0), the input extended by reflection (``d c b a | a b c d | d c b a``)."""
    x = np.asarray(x, dtype=np.float64)
    left = size // 2
    right = size - left - 1
    pad = [(0, 0)] * x.ndim
    pad[axis] = (left, right)
    # numpy's 'symmetric' mode is scipy's 'reflect' (the edge value repeated), periodic beyond one length.
    xp = np.pad(x, pad, mode="symmetric")
    c = np.cumsum(xp, axis=axis)
    zero_shape = list(c.shape)
    zero_shape[axis] = 1
    c = np.concatenate([np.zeros(zero_shape), c], axis=axis)
    n = x.shape[axis]
    hi = np.take(c, np.arange(size, size + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return (hi - lo) / size


def uniform_filter(x, size):
    """``scipy.ndimage.uniform_filter(x, size)`` for a 2-D ``x`` and ``size = (s0, s1)``: one 1-D
    filter per axis, axis 0 first."""
    s0, s1 = size
    return uniform_filter1d(uniform_filter1d(x, s0, 0), s1, 1)


def hog_feature(im):
    """cs231n's HOG: 9 orientation bins of 20 degrees, 8x8 cells, gradient magnitudes averaged per cell.

    Differences from cs231n's code (which only works for 3-D images whose cell counts are equal):
    a 2-D image is used as the gray image (cs231n fails on ``np.at_least_2d``); the cells are the
    ``floor(H/8) x floor(W/8)`` whole cells (cs231n's ``[4::8]`` sampling yields one sample more
    when ``H % 8 >= 5`` and then fails to broadcast); non-square images give the transpose's
    natural generalisation, shape ``(floor(W/8), floor(H/8), 9)`` before ``ravel``.
    """
    im = np.asarray(im)
    if im.ndim == 3:
        image = rgb2gray(im)
    else:
        image = np.atleast_2d(im).astype(np.float64)
    sx, sy = image.shape
    orientations = 9
    cx, cy = (8, 8)

    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    gx[:, :-1] = np.diff(image, n=1, axis=1)
    gy[:-1, :] = np.diff(image, n=1, axis=0)
    grad_mag = np.sqrt(gx**2 + gy**2)
    grad_ori = np.arctan2(gy, (gx + 1e-15)) * (180 / np.pi) + 90

    n_cellsx = int(np.floor(sx / cx))
    n_cellsy = int(np.floor(sy / cy))
    temp_mag = np.empty((orientations,) + image.shape)
    for i in range(orientations):
        temp_ori = np.where(grad_ori < 180 / orientations * (i + 1), grad_ori, 0)
        temp_ori = np.where(grad_ori >= 180 / orientations * i, temp_ori, 0)
        cond2 = temp_ori > 0  # orientation exactly 0 is left out, as in cs231n
        temp_mag[i] = np.where(cond2, grad_mag, 0)
    # uniform_filter of every bin at once (axis 1 then axis 2), sampled at the cell centres [4::8, 4::8]
    filtered = uniform_filter1d(uniform_filter1d(temp_mag, cx, axis=1), cy, axis=2)
    sampled = filtered[:, round(cx / 2) :: cx, round(cy / 2) :: cy][:, :n_cellsx, :n_cellsy]
    # cs231n assigns sampled.T to orientation_histogram[:, :, i]: shape (n_cellsy, n_cellsx, 9)
    orientation_histogram = sampled.transpose(2, 1, 0)
    return orientation_histogram.ravel()


def color_histogram_hsv(im, nbin=10, xmin=0, xmax=255, normalized=True):
    """Histogram of the hue of ``im`` (H, W, 3) over ``nbin`` bins of ``[xmin, xmax]``: matplotlib's
    ``rgb_to_hsv(im / xmax) * xmax`` binned by ``np.histogram``, times the bin widths."""
    import matplotlib.colors

    bins = np.linspace(xmin, xmax, nbin + 1)
    hsv = matplotlib.colors.rgb_to_hsv(im / xmax) * xmax
    imhist, bin_edges = np.histogram(hsv[:, :, 0], bins=bins, density=normalized)
    return imhist * np.diff(bin_edges)


def extract_features(imgs, feature_fns, verbose=False):
    """cs231n's per-image loop: row i is the concatenation of every ``fn(imgs[i].squeeze())``."""
    num_images = imgs.shape[0]
    if num_images == 0:
        return np.array([])
    feature_dims = []
    first_image_features = []
    for feature_fn in feature_fns:
        feats = feature_fn(imgs[0].squeeze())
        assert len(feats.shape) == 1, "Feature functions must be one-dimensional"
        feature_dims.append(feats.size)
        first_image_features.append(feats)
    imgs_features = np.zeros((num_images, sum(feature_dims)))
    imgs_features[0] = np.hstack(first_image_features).T
    for i in range(1, num_images):
        idx = 0
        for feature_fn, feature_dim in zip(feature_fns, feature_dims):
            next_idx = idx + feature_dim
            imgs_features[i, idx:next_idx] = feature_fn(imgs[i].squeeze())
            idx = next_idx
        if verbose and i % 1000 == 999:
            print("Done extracting features for %d / %d images" % (i + 1, num_images))
    return imgs_features
