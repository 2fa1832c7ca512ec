"""Specs of the linear classifiers: ``linear_svm`` and ``softmax`` (naive and vectorized loss and
gradient, ``reg * sum(W * W)`` without 0.5) and ``linear_classifier.LinearClassifier`` (SGD training
with NumPy's global RNG, prediction)."""

import numpy as np

from ..classifiers import linear_classifier as fast_lc
from ..reference import linear as ref
from ._context import shape_label
from ._specs import spec


def _cases(c):
    out = []
    for dtype, N, D, C, reg, kind in ((np.float64, 7, 20, 4, 0.0, "gaussian"), (np.float64, 1, 11, 3, 0.3, "gaussian"),
                                      (np.float64, 50, 30, 10, 5e-2, "centred pixels, W ~ 1e-4"),
                                      (np.float32, 8, 10, 5, 0.1, "gaussian")):
        if kind == "gaussian":
            X, W = c.randn(N, D, dtype=dtype), c.randn(D, C, dtype=dtype, scale=0.5)
        else:
            X = (c.rng.randint(0, 256, size=(N, D)) - 128.0).astype(dtype)
            W = c.randn(D, C, dtype=dtype, scale=1e-4)
        y = c.labels(N, C)
        out.append(("%s reg=%g (%s)" % (shape_label(dtype, W=W, X=X), reg, kind), W, X, y, reg))
    return out


def _check_linear_loss(c, fn, reference, name):
    for label, W, X, y, reg in _cases(c):
        c.set_case(label)
        got = c.result_of(fn, W.copy(), X.copy(), y.copy(), reg)
        if not isinstance(got, tuple) or len(got) < 2:
            c.fail("result", "returns %s, expected (loss, dW)" % type(got).__name__)
            return
        want = reference(W.copy(), X.copy(), y.copy(), reg)
        c.compare("loss", got[0], want[0])
        c.compare("dW", got[1], want[1])
        if W.dtype == np.float64 and W.size <= 100:
            num = c.numeric_grad(lambda w: float(np.asarray(fn(w, X, y, reg)[0])), W.copy())
            c.compare("dW vs numeric", got[1], num, kind="numeric")
    if c.failing:
        _probe(c, fn, reference, name)


def _probe(c, fn, reference, name):
    W, X, y = c.randn(6, 3, scale=0.5), c.randn(5, 6), c.labels(5, 3)
    c.set_case("f64 W(6, 3) X(5, 6) reg=0.8 (convention probe)")
    got = c.call(fn, W.copy(), X.copy(), y.copy(), 0.8)
    loss = float(np.asarray(got[0])) if isinstance(got, tuple) and got[0] is not None else None
    if loss is None:
        return
    if np.isclose(loss, reference(W, X, y, 0.4)[0], rtol=1e-7):
        c.hint("cs231n's linear losses add reg * np.sum(W * W) (no factor 0.5; the gradient term is 2 * reg * W).")
    elif name.startswith("svm") and np.isclose(loss, reference(W, X, y, 0.8)[0] + 1, rtol=1e-7):
        c.hint("The correct class is counted in the hinge loss (its margin is always 1): skip j == y[i].")
    elif np.isclose(loss, 5 * reference(W, X, y, 0.0)[0] + 0.8 * np.sum(W * W), rtol=1e-7):
        c.hint("The data loss is averaged over the N training examples: divide the sum (and dW) by N.")
    if name.startswith("softmax"):
        c.set_case("f64 W(6, 3) X(5, 6), every score + 1000 (large scores)")
        big, Wb = X.copy(), W.copy()
        big[:, 0] = 1.0
        Wb[0, :] = 1000.0
        got = c.call(fn, Wb, big, y.copy(), 0.0)
        if not (isinstance(got, tuple) and got[0] is not None and np.isfinite(np.asarray(got[0], dtype=float)).all()):
            c.hint("Large scores overflow exp(): subtract each row's max score before exponentiating.")


def _speed(module, name):
    def speed(c, fn):
        """W (3073, 10) ~ 1e-4, X (500, 3073) pixels (the notebook's X_dev), reg 5e-6"""
        W = c.randn(3073, 10, scale=1e-4)
        X = (c.rng.randint(0, 256, size=(500, 3073)) - 128.0)
        y = c.labels(500, 10)
        ours = getattr(module, name)
        return (lambda: fn(W, X, y, 5e-6)), (lambda: ours(W, X, y, 5e-6))

    return speed


def _make(module_name, name):
    from .. import classifiers

    fast_module = getattr(classifiers, module_name)
    reference = getattr(ref, name)

    def check(c, fn):
        _check_linear_loss(c, fn, reference, name)

    check.__name__ = "check_" + name
    spec("classifiers." + module_name, name, speed=_speed(fast_module, name))(check)


for _mod, _name in (("linear_svm", "svm_loss_naive"), ("linear_svm", "svm_loss_vectorized"),
                    ("softmax", "softmax_loss_naive"), ("softmax", "softmax_loss_vectorized")):
    _make(_mod, _name)


# ---------------------------------------------------------------------------------------------
# LinearClassifier: train and predict, with a loss of ours plugged in
# ---------------------------------------------------------------------------------------------

MODULE = "classifiers.linear_classifier"


def _with_loss(cls):
    """The student's LinearClassifier with the reference softmax loss (train is checked alone)."""

    class Checked(cls):
        def loss(self, X_batch, y_batch, reg):
            return ref.softmax_loss_vectorized(self.W, X_batch, y_batch, reg)

    return Checked


class _Reference(ref.LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return ref.softmax_loss_vectorized(self.W, X_batch, y_batch, reg)


def _speed_train(c, fn):
    """Softmax.train on X (1000, 3073), 100 iterations of batch 200"""
    X = c.randn(1000, 3073)
    y = c.labels(1000, 10)
    cls = getattr(c.module, "Softmax", None) or _with_loss(c.module.LinearClassifier)

    def theirs():
        np.random.seed(0)
        cls().train(X, y, learning_rate=1e-7, reg=2.5e4, num_iters=100, batch_size=200)

    def ours():
        np.random.seed(0)
        fast_lc.Softmax().train(X, y, learning_rate=1e-7, reg=2.5e4, num_iters=100, batch_size=200)

    return theirs, ours



@spec(MODULE, ("LinearClassifier", "train"), speed=_speed_train)
def check_train(c, fn):
    cls = _with_loss(c.module.LinearClassifier)
    X = c.randn(60, 8)
    y = np.argmax(X.dot(c.randn(8, 4)), axis=1)  # learnable labels: the loss must go down
    c.set_case("f64 X(60, 8), 4 classes, 30 iterations, batch 16, seed 0")
    np.random.seed(0)
    mine = _Reference()
    want_hist = mine.train(X, y, learning_rate=0.5, reg=1e-3, num_iters=30, batch_size=16)
    np.random.seed(0)
    theirs = c.call(cls)
    hist = c.result_of(theirs.train, X, y, learning_rate=0.5, reg=1e-3, num_iters=30, batch_size=16)
    if not c.expect(np.shape(getattr(theirs, "W", None)) == (8, 4), "W", "W has shape %s after training, expected "
                    "(8, 4)" % (np.shape(getattr(theirs, "W", None)),)):
        return
    if not c.expect(len(hist) == 30, "loss_history", "loss_history has %d entries, expected 30" % len(hist)):
        return
    n = len(c.records)
    c.compare("W", theirs.W, mine.W)
    c.compare("loss_history", np.asarray(hist, dtype=float), np.asarray(want_hist))
    if any(r["err"] > r["tol"] for r in c.records[n:]):
        del c.records[n:]
        # Another way of drawing minibatches is allowed; the training itself must work.
        c.expect(hist[0] > 1.2 and np.mean(hist[-5:]) < 0.8 * hist[0], "loss_history",
                 "the loss does not go down (first %.3f, last %.3f)" % (hist[0], hist[-1]))
        c.note("minibatches are not drawn as np.random.choice(num_train, batch_size), so runs differ from "
               "the reference's for the same seed")
    # W must be initialized lazily: a second call continues from the current W.
    c.set_case("f64 X(60, 8), train again with learning_rate=0")
    W0 = np.array(theirs.W, copy=True)
    c.result_of(theirs.train, X, y, learning_rate=0.0, reg=1e-3, num_iters=2, batch_size=16)
    if not np.array_equal(theirs.W, W0):
        c.fail("W", "a second call to train re-initializes W")
        c.hint("Initialize self.W only when it is None, so that a second call to train continues from it.")


def _speed_predict(c, fn):
    """predict on X (1000, 3073), W (3073, 10)"""
    X, W = c.randn(1000, 3073), c.randn(3073, 10, scale=1e-3)
    clf = c.call(c.module.LinearClassifier)
    clf.W = W
    ours = fast_lc.LinearClassifier()
    ours.W = W
    return (lambda: clf.predict(X)), (lambda: ours.predict(X))


@spec(MODULE, ("LinearClassifier", "predict"), speed=_speed_predict)
def check_predict(c, fn):
    for N, D, C in ((9, 5, 3), (1, 4, 10), (30, 7, 2)):
        X, W = c.randn(N, D), c.randn(D, C)
        c.set_case("f64 X(%d, %d) W(%d, %d)" % (N, D, D, C))
        clf = c.call(c.module.LinearClassifier)
        clf.W = W.copy()
        got = c.result_of(clf.predict, X.copy())
        c.compare("y_pred", got, np.argmax(X.dot(W), axis=1).astype(np.float64))
