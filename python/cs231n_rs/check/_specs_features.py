"""Specs of ``cs231n/features.py`` (provided code, checked all the same): ``hog_feature`` (with
cs231n's 0.144 blue weight in rgb2gray) and ``color_histogram_hsv``."""

import numpy as np

from .. import features as fast
from ..reference import features as ref
from ._specs import spec


def _images(c):
    out = []
    for dtype, shape in ((np.float64, (32, 32, 3)), (np.float64, (16, 16, 3)), (np.float64, (40, 40, 3)),
                         (np.float32, (32, 32, 3))):
        im = c.rng.randint(0, 256, size=shape).astype(dtype)
        out.append(("%s im%s pixels 0..255" % ("f32" if dtype == np.float32 else "f64", shape), im))
    return out


def _speed(ours, **kwargs):
    def speed(c, fn):
        imgs = c.rng.randint(0, 256, size=(100, 32, 32, 3)).astype(np.float64)

        def run(f):
            return lambda: [f(im, **kwargs) for im in imgs]

        return run(fn), run(ours)

    speed.__doc__ = "100 images of 32 x 32 x 3, one call each"
    return speed


@spec("features", "hog_feature", speed=_speed(fast.hog_feature))
def check_hog_feature(c, fn):
    for label, im in _images(c):
        c.set_case(label)
        got = c.result_of(fn, im.copy())
        c.compare("features", got, ref.hog_feature(im.copy()))


@spec("features", "color_histogram_hsv", speed=_speed(fast.color_histogram_hsv, nbin=10))
def check_color_histogram_hsv(c, fn):
    for label, im in _images(c):
        for kwargs in ({}, {"nbin": 25}, {"nbin": 7, "normalized": False}):
            c.set_case("%s %s" % (label, kwargs or "defaults"))
            got = c.result_of(fn, im.copy(), **kwargs)
            c.compare("histogram", got, ref.color_histogram_hsv(im.copy(), **kwargs))
