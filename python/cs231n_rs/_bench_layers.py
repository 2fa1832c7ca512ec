"""``cs231n-rs bench`` rows of the layers and nets (issue 3): each row times a forward and a
backward pass together, ours against :mod:`cs231n_rs.reference`, at the sizes the issue names.

Layers that take well under a millisecond are timed back to back (``per_call``: the best of five
timeit runs of many calls), as a training loop calls them; a single call after the bench's pause
would measure a cold CPU and cold caches on both sides instead."""

import numpy as np

from . import bench as _b


def layer_cases(sizes):
    """Layer rows (float64 then float32), then the whole FullyConnectedNet.loss rows."""
    cases = []
    for dtype in ("float64", "float32"):
        cases += [
            _affine_case(sizes, dtype),
            _norm_case(sizes, dtype, "batchnorm"),
            _norm_case(sizes, dtype, "layernorm"),
            _relu_case(sizes, dtype),
            _dropout_case(sizes, dtype),
            _score_loss_case(sizes, dtype, "softmax_loss"),
            _score_loss_case(sizes, dtype, "svm_loss"),
        ]
    cases += [_fcn_case(sizes, dtype) for dtype in ("float64", "float32")]
    return cases


BACK_TO_BACK = (
    "timed back to back, as a training loop calls it: best of 5 timeit runs of many calls per side "
    "(a single call after a pause would time a cold CPU)."
)


def _case(*args, calls=None, **kwargs):
    """A bench Case; with ``calls`` it is timed back to back (and footnoted so)."""
    if calls is not None:
        kwargs.update(per_call=calls, footnote=BACK_TO_BACK)
    return _b.Case(*args, **kwargs)


def _calls(sizes, slower):
    """Calls per timeit run for a row about ``slower`` times slower than the call-overhead row."""
    return max(2, sizes.overhead_number // slower)


def _rand(pool, key, shape, dtype, scale=1.0):
    if key not in pool:
        rng = np.random.default_rng(_b.DATA_SEED + len(pool))
        pool[key] = (rng.standard_normal(shape) * scale).astype(dtype)
    return pool[key]


def _both(fwd_bwd):
    """Contenders from ``fwd_bwd(module)`` run on the reference and on our layers."""
    from . import layers
    from .reference import layers as ref

    return _b.Contenders(fwd_bwd(ref), fwd_bwd(layers), None)


def _affine_case(sizes, dtype):
    n, d, m = sizes.layer_batch, sizes.affine_dim, sizes.affine_out

    def setup(pool):
        x = _rand(pool, "x", (n, d), dtype)
        w = _rand(pool, "w", (d, m), dtype, 1e-2)
        b = _rand(pool, "b", (m,), dtype)
        dout = _rand(pool, "dout", (n, m), dtype)

        def fwd_bwd(mod):
            def run():
                _, cache = mod.affine_forward(x, w, b)
                return mod.affine_backward(dout, cache)

            return run

        return _both(fwd_bwd)

    return _b.Case("affine_forward+backward", "x %dx%d, w %dx%d" % (n, d, d, m), dtype, "affine-" + dtype, setup)


def _norm_case(sizes, dtype, which):
    n, d = sizes.layer_batch, sizes.norm_dim

    def setup(pool):
        x = _rand(pool, "x", (n, d), dtype, 3.0)
        gamma, beta = _rand(pool, "g", (d,), dtype), _rand(pool, "bt", (d,), dtype)
        dout = _rand(pool, "dout", (n, d), dtype)

        def fwd_bwd(mod):
            forward, backward = getattr(mod, which + "_forward"), getattr(mod, which + "_backward")

            def run():
                _, cache = forward(x, gamma, beta, {"mode": "train"})
                return backward(dout, cache)

            return run

        return _both(fwd_bwd)

    return _case(which + "_forward+backward", "x %dx%d, train" % (n, d), dtype, "norm-" + dtype, setup,
                   calls=_calls(sizes, 10))


def _relu_case(sizes, dtype):
    n, d = sizes.layer_batch, sizes.elem_dim

    def setup(pool):
        x, dout = _rand(pool, "x", (n, d), dtype), _rand(pool, "dout", (n, d), dtype)

        def fwd_bwd(mod):
            def run():
                _, cache = mod.relu_forward(x)
                return mod.relu_backward(dout, cache)

            return run

        return _both(fwd_bwd)

    return _case("relu_forward+backward", "x %dx%d" % (n, d), dtype, "elem-" + dtype, setup, calls=_calls(sizes, 20))


def _dropout_case(sizes, dtype):
    n, d = sizes.layer_batch, sizes.elem_dim

    def setup(pool):
        x, dout = _rand(pool, "x", (n, d), dtype), _rand(pool, "dout", (n, d), dtype)

        def fwd_bwd(mod):
            def run():
                _, cache = mod.dropout_forward(x, {"mode": "train", "p": 0.5})
                return mod.dropout_backward(dout, cache)

            return run

        return _both(fwd_bwd)

    return _case("dropout_forward+backward", "x %dx%d, p 0.5" % (n, d), dtype, "elem-" + dtype, setup,
                   calls=_calls(sizes, 40))


def _score_loss_case(sizes, dtype, which):
    n, c = sizes.loss_batch, _b.NUM_CLASSES

    def setup(pool):
        x = _rand(pool, "scores", (n, c), dtype, 2.0)
        y = np.random.default_rng(_b.DATA_SEED).integers(0, c, n)
        return _both(lambda mod: lambda: getattr(mod, which)(x, y))

    return _case(which, "x %dx%d" % (n, c), dtype, "score-" + dtype, setup, calls=_calls(sizes, 1))


def _fcn_case(sizes, dtype):
    n, d, hidden = sizes.fcn_batch, sizes.affine_dim, [100] * 4

    def setup(pool):
        from .classifiers.fc_net import FullyConnectedNet
        from .reference.fc_net import FullyConnectedNet as Reference

        X = _rand(pool, "X", (n, d), "float64", 50.0)  # float64 data, as get_CIFAR10_data gives
        y = np.random.default_rng(_b.DATA_SEED).integers(0, _b.NUM_CLASSES, n)

        def net(cls):
            np.random.seed(_b.TRAIN_SEED)
            model = cls(hidden, input_dim=d, normalization="batchnorm", dropout_keep_ratio=0.5, reg=1e-2,
                        weight_scale=5e-2, dtype=np.dtype(dtype).type)
            return lambda: model.loss(X, y)

        return _b.Contenders(net(Reference), net(FullyConnectedNet), None)

    shape = "[100]*4, batchnorm, dropout 0.5, X %dx%d" % (n, d)
    return _case("FullyConnectedNet.loss", shape, dtype, "fcn-" + dtype, setup, calls=_calls(sizes, 100))
