"""Specs of ``cs231n/classifiers/k_nearest_neighbor.py``: the three distance methods and
``predict_labels`` (majority vote, ties to the smaller label)."""

import numpy as np

from ..classifiers import KNearestNeighbor as Fast
from ..reference import k_nearest_neighbor as ref
from ._context import shape_label
from ._specs import spec

MODULE = "classifiers.k_nearest_neighbor"
CLASS = "KNearestNeighbor"


def _instance(c, X_train, y_train):
    cls = getattr(c.module, CLASS)
    knn = c.call(cls)
    c.call(knn.train, X_train, y_train)
    return knn


def _distance_cases(c):
    out = []
    for dtype, nt, ntr, D, kind in ((np.float64, 5, 13, 7, "gaussian"), (np.float64, 1, 4, 3, "gaussian"),
                                    (np.float64, 6, 9, 12, "pixels 0..255"), (np.float32, 4, 8, 5, "gaussian")):
        if kind == "gaussian":
            X, Xtr = c.randn(nt, D, dtype=dtype), c.randn(ntr, D, dtype=dtype)
        else:
            X = c.rng.randint(0, 256, size=(nt, D)).astype(dtype)
            Xtr = c.rng.randint(0, 256, size=(ntr, D)).astype(dtype)
        out.append(("%s (%s)" % (shape_label(dtype, X=X, X_train=Xtr), kind), X, Xtr))
    return out


def _check_distances(c, method):
    for label, X, Xtr in _distance_cases(c):
        c.set_case(label)
        knn = _instance(c, Xtr.copy(), c.labels(Xtr.shape[0], 3))
        got = c.result_of(getattr(knn, method), X.copy())
        want = ref.compute_distances(X.astype(np.float64), Xtr.astype(np.float64))
        kind = "f32" if X.dtype == np.float32 else "f64"
        if not c.compare("dists", got, want, kind=kind) and np.shape(got) == want.shape:
            if np.allclose(np.asarray(got, dtype=float), want**2, rtol=1e-6):
                c.hint("These are squared distances: cs231n's kNN uses the Euclidean (L2) distance, take the square "
                       "root.")


def _speed_distances(method):
    def speed(c, fn):
        """X (500, 3072) against X_train (5000, 3072), pixel values"""
        Xtr = c.rng.randint(0, 256, size=(5000, 3072)).astype(np.float64)
        X = c.rng.randint(0, 256, size=(500, 3072)).astype(np.float64)
        y = c.labels(5000, 10)
        knn = _instance(c, Xtr, y)
        ours = Fast()
        ours.train(Xtr, y)
        return (lambda: getattr(knn, method)(X)), (lambda: getattr(ours, method)(X))

    return speed


def _make_distance_spec(method):
    def check(c, fn):
        _check_distances(c, method)

    check.__name__ = "check_" + method
    spec(MODULE, (CLASS, method), speed=_speed_distances(method))(check)


for _m in ("compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops"):
    _make_distance_spec(_m)


def _tie_probe(c):
    """Row 0: nearest labels [3, 1]; row 1: [1, 3] (k = 2): a tie each time, cs231n's answer 1 and 1."""
    y_train = np.array([3, 1, 5, 5, 5, 5])
    dists = np.array([[0.1, 0.2, 1.0, 1.1, 1.2, 1.3], [0.2, 0.1, 1.0, 1.1, 1.2, 1.3]])
    c.set_case("f64 dists(2, 6) k=2, nearest labels [3, 1] and [1, 3] (tie probe)")
    knn = _instance(c, np.zeros((6, 2)), y_train)
    got = c.result_of(knn.predict_labels, dists, k=2)
    got = [float(v) for v in np.asarray(got).reshape(-1)[:2]]
    if got == [1.0, 1.0]:
        return
    c.fail("ties", "predicts %s for two ties between labels 1 and 3; cs231n breaks ties by the smaller label (1)"
           % [int(v) for v in got])
    if got == [3.0, 3.0]:
        c.hint("Ties in the vote go to the smaller label (np.argmax of np.bincount does it); yours picks the larger.")
    elif got == [3.0, 1.0]:
        c.hint("Ties in the vote go to the smaller label, not to the nearest neighbour's label (np.argmax of "
               "np.bincount does it).")
    else:
        c.hint("Ties in the vote go to the smaller label (np.argmax of np.bincount does it).")


def _speed_predict_labels(c, fn):
    """dists (500, 5000), k = 5"""
    y = c.labels(5000, 10)
    dists = np.abs(c.randn(500, 5000))
    knn = _instance(c, np.zeros((5000, 2)), y)
    ours = Fast()
    ours.train(np.zeros((5000, 2)), y)
    return (lambda: knn.predict_labels(dists, k=5)), (lambda: ours.predict_labels(dists, k=5))



@spec(MODULE, (CLASS, "predict_labels"), speed=_speed_predict_labels)
def check_predict_labels(c, fn):
    for num_test, num_train, C, k in ((6, 15, 3, 1), (6, 15, 3, 3), (9, 20, 4, 5), (1, 7, 10, 7), (4, 30, 2, 4)):
        y_train = c.labels(num_train, C)
        dists = np.abs(c.randn(num_test, num_train)) + 0.1
        c.set_case("f64 dists(%d, %d) k=%d, %d classes" % (num_test, num_train, k, C))
        knn = _instance(c, np.zeros((num_train, 2)), y_train)
        got = c.result_of(knn.predict_labels, dists.copy(), k=k)
        c.compare("y_pred", got, ref.predict_labels(dists, y_train, k))
    _tie_probe(c)

