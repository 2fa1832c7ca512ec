"""Specs of ``cs231n/layers.py``: affine, ReLU, the loss layers, batch / layer normalization,
dropout, and the naive convolutional layers with spatial batch / group normalization."""

import copy

import numpy as np

from .. import layers as fast
from ..reference import layers as ref
from ._context import StudentError, copies, fresh_dicts, shape_label
from ._layer_checks import as_tuple, check_backward, check_forward, check_loss_grad
from ._specs import spec

F64, F32 = np.float64, np.float32


# ---------------------------------------------------------------------------------------------
# speed helpers
# ---------------------------------------------------------------------------------------------


def _speed_forward(c, fn, ours, args):
    return (lambda: fn(*fresh_dicts(*args))), (lambda: ours(*fresh_dicts(*args)))


def _speed_backward(c, fn, fwd_name, ours_fwd, ours_bwd, args, fixed_cache=True):
    """Times ``fn(dout, cache)``; the cache from the student's forward when it works (the
    reference-shaped one for the starter's fixed caches)."""
    out, our_cache = ours_fwd(*copies(*args))
    dout = c.randn(*out.shape, dtype=out.dtype)
    cache = our_cache
    sfwd = c.sibling(fwd_name)
    if sfwd is not None and not fixed_cache:
        cache = c.call(sfwd, *copies(*args))[1]
    elif not fixed_cache:
        raise RuntimeError("%s is needed for the cache" % fwd_name)
    return (lambda: fn(dout, cache)), (lambda: ours_bwd(dout, our_cache))


# ---------------------------------------------------------------------------------------------
# affine and ReLU
# ---------------------------------------------------------------------------------------------


def _affine_cases(c):
    out = []
    for dtype, N, dims, M in ((F64, 2, (4, 5, 6), 3), (F64, 1, (7,), 5), (F64, 5, (3, 1, 3), 1), (F32, 6, (4, 3), 7)):
        x = c.randn(N, *dims, dtype=dtype)
        w = c.randn(int(np.prod(dims)), M, dtype=dtype)
        b = c.randn(M, dtype=dtype)
        out.append((shape_label(dtype, x=x, w=w, b=b), [x, w, b]))
    # The notebook's kind: x a transposed (non-contiguous) view of a linspace.
    x = np.linspace(-0.1, 0.5, num=4 * 6).reshape(6, 4).T
    w, b = np.linspace(-0.2, 0.3, num=6 * 3).reshape(6, 3), np.linspace(-0.3, 0.1, num=3)
    out.append((shape_label(F64, x=x, w=w, b=b) + " (x non-contiguous)", [x, w, b]))
    return out


def _affine_speed_args(c):
    return [c.randn(100, 3, 32, 32), c.randn(3072, 100, scale=1e-2), c.randn(100)]


def _speed_affine_forward(c, fn):
    """x (100, 3, 32, 32), w (3072, 100)"""
    return _speed_forward(c, fn, fast.affine_forward, _affine_speed_args(c))


@spec("layers", "affine_forward", speed=_speed_affine_forward)
def check_affine_forward(c, fn):
    check_forward(c, fn, ref.affine_forward, _affine_cases(c))


def _speed_affine_backward(c, fn):
    """dout (100, 100), x (100, 3, 32, 32), w (3072, 100)"""
    return _speed_backward(c, fn, "affine_forward", fast.affine_forward, fast.affine_backward, _affine_speed_args(c))


@spec("layers", "affine_backward", speed=_speed_affine_backward)
def check_affine_backward(c, fn):
    check_backward(c, fn, "affine_forward", ref.affine_forward, ref.affine_backward, _affine_cases(c), (0, 1, 2),
                   ("dx", "dw", "db"), fixed_cache=True)


def _relu_cases(c):
    return [(shape_label(d, x=x), [x]) for d, x in (
        (F64, c.randn(3, 4)), (F64, c.randn(2, 3, 5)), (F64, c.randn(1, 1)), (F32, c.randn(4, 7, dtype=F32)))]


def _speed_relu_forward(c, fn):
    """x (100, 3072)"""
    return _speed_forward(c, fn, fast.relu_forward, [c.randn(100, 3072)])


@spec("layers", "relu_forward", speed=_speed_relu_forward)
def check_relu_forward(c, fn):
    check_forward(c, fn, ref.relu_forward, _relu_cases(c))


def _speed_relu_backward(c, fn):
    """dout, x (100, 3072)"""
    return _speed_backward(c, fn, "relu_forward", fast.relu_forward, fast.relu_backward, [c.randn(100, 3072)])


@spec("layers", "relu_backward", speed=_speed_relu_backward)
def check_relu_backward(c, fn):
    check_backward(c, fn, "relu_forward", ref.relu_forward, ref.relu_backward, _relu_cases(c), (0,), ("dx",),
                   fixed_cache=True)


# ---------------------------------------------------------------------------------------------
# loss layers
# ---------------------------------------------------------------------------------------------


def _loss_cases(c):
    out = []
    for dtype, N, C, scale in ((F64, 50, 10, 1e-3), (F64, 7, 5, 1.0), (F64, 1, 3, 1.0), (F32, 9, 4, 1.0)):
        x = c.randn(N, C, dtype=dtype, scale=scale)
        y = c.labels(N, C)
        out.append((shape_label(dtype, x=x, y=y), (x, y)))
    return out


def _loss_probes(c, fn, reference, name):
    """Convention hints for the loss layers: the mean over N, and (softmax) the max shift."""
    x = c.randn(6, 4)
    y = c.labels(6, 4)
    c.set_case("f64 x(6, 4) y(6,) (convention probe)")
    got = as_tuple(c.call(fn, x.copy(), y.copy()))
    want = reference(x.copy(), y.copy())
    if got[0] is not None and np.isclose(float(np.asarray(got[0])), want[0] * 6, rtol=1e-6):
        c.hint("%s: the loss is summed over the minibatch; cs231n averages it (divide loss and dx by N)." % name)
    if name == "svm_loss" and got[0] is not None and np.isclose(float(np.asarray(got[0])), want[0] + 1, rtol=1e-6):
        c.hint("The correct class is counted in the hinge loss (its margin is always 1): skip j == y[i].")
    if name == "softmax_loss" or name.startswith("softmax"):
        big = x + 1000.0
        c.set_case("f64 x(6, 4) + 1000 (large scores)")
        got = as_tuple(c.call(fn, big.copy(), y.copy()))
        want = reference(big.copy(), y.copy())
        if not c.compare("loss", got[0], want[0]) or not np.isfinite(np.asarray(got[1], dtype=float)).all():
            c.hint("Large scores overflow exp(): subtract each row's max score before exponentiating.")


def _speed_loss(ours):
    def speed(c, fn):
        """x (500, 10)"""
        x, y = c.randn(500, 10), c.labels(500, 10)
        return (lambda: fn(x, y)), (lambda: ours(x, y))

    return speed


@spec("layers", "svm_loss", speed=_speed_loss(fast.svm_loss))
def check_svm_loss(c, fn):
    check_loss_grad(c, fn, ref.svm_loss, _loss_cases(c))
    _loss_probes(c, fn, ref.svm_loss, "svm_loss")


@spec("layers", "softmax_loss", speed=_speed_loss(fast.softmax_loss))
def check_softmax_loss(c, fn):
    check_loss_grad(c, fn, ref.softmax_loss, _loss_cases(c))
    _loss_probes(c, fn, ref.softmax_loss, "softmax_loss")


# ---------------------------------------------------------------------------------------------
# batch normalization
# ---------------------------------------------------------------------------------------------


def _bn_cases(c, mode="train"):
    out = []
    for dtype, N, D in ((F64, 4, 5), (F64, 7, 3), (F64, 2, 1), (F32, 8, 4)):
        x = c.randn(N, D, dtype=dtype, scale=2.0) + c.randn(D, dtype=dtype)
        gamma = c.randn(D, dtype=dtype)
        beta = c.randn(D, dtype=dtype)
        out.append((shape_label(dtype, x=x, gamma=gamma), [x, gamma, beta, {"mode": mode}]))
    return out


def _running_stats(c, got_param, want_param):
    for key in ("running_mean", "running_var"):
        if key not in got_param:
            c.fail(key, "bn_param has no %r after a training pass" % key)
            c.hint("Write the updated running_mean and running_var back into bn_param.")
            return
        c.compare(key, got_param[key], want_param[key])


def _bn_variants(x, gamma, beta, eps=1e-5, momentum=0.9):
    """Outputs and running stats of the known mistakes (after one training pass from zeros)."""
    mean = x.mean(axis=0)
    var_u = x.var(axis=0, ddof=1) if x.shape[0] > 1 else x.var(axis=0)
    out_u = gamma * (x - mean) / np.sqrt(var_u + eps) + beta
    return dict(out_unbiased=out_u, running_var_unbiased=(1 - momentum) * var_u,
                running_mean_swapped=momentum * mean, running_var_swapped=momentum * x.var(axis=0))


def _bn_probe(c, fn, spatial=False):
    """Unbiased variance; momentum the wrong way round."""
    rng = c.rng
    x = rng.randn(4, 3) * 2 + 1
    gamma, beta = rng.randn(3), rng.randn(3)
    param = {"mode": "train"}
    c.set_case("f64 x(4, 3) (convention probe)")
    out = as_tuple(c.call(fn, x.copy(), gamma.copy(), beta.copy(), param))[0]
    v = _bn_variants(x, gamma, beta)
    if out is not None and np.shape(out) == x.shape and np.allclose(out, v["out_unbiased"], rtol=1e-6):
        c.hint("Batch normalization uses the biased variance (np.var with ddof=0), not ddof=1.")
    rv = param.get("running_var")
    if rv is not None and np.shape(rv) == (3,):
        if np.allclose(rv, v["running_var_unbiased"], rtol=1e-6):
            c.hint("The running variance uses the biased sample variance (np.var with ddof=0), not ddof=1.")
        elif np.allclose(rv, v["running_var_swapped"], rtol=1e-6):
            c.hint("Momentum is the weight of the old value: running = momentum * running + (1 - momentum) * sample.")


def _check_bn_forward(c, fn, reference, cases, probe):
    for label, args in cases:
        x, gamma, beta, _ = args
        for step, mode in enumerate(("train", "train", "test")):
            c.set_case("%s, %s pass %d" % (label, mode, step + 1))
            if step == 0:
                mine, theirs = {"mode": "train"}, {"mode": "train"}
                if x.dtype == F32:
                    mine["momentum"] = theirs["momentum"] = 0.8
            mine["mode"] = theirs["mode"] = mode
            xs = x if step == 0 else x * 1.5 + 0.5
            got = as_tuple(c.result_of(fn, xs.copy(), gamma.copy(), beta.copy(), theirs))
            want = as_tuple(reference(xs.copy(), gamma.copy(), beta.copy(), mine))
            if not c.compare("out", got[0], want[0]) and mode == "test":
                batch = reference(xs.copy(), gamma.copy(), beta.copy(), {"mode": "train"})[0]
                if np.shape(got[0]) == batch.shape and np.allclose(got[0], batch, rtol=1e-5):
                    c.hint("At test time normalize with bn_param's running_mean and running_var, not the "
                           "minibatch's statistics.")
            if mode == "train":
                _running_stats(c, theirs, mine)
    if c.failing:
        probe(c, fn)


def _speed_bn(ours, shape, param):
    def speed(c, fn):
        x = c.randn(*shape)
        C = shape[1]
        gamma, beta = c.randn(C), c.randn(C)
        return (lambda: fn(x, gamma, beta, copy.deepcopy(param))), (lambda: ours(x, gamma, beta, copy.deepcopy(param)))

    speed.__doc__ = "x %s" % (shape,)
    return speed


@spec("layers", "batchnorm_forward", speed=_speed_bn(fast.batchnorm_forward, (200, 500), {"mode": "train"}))
def check_batchnorm_forward(c, fn):
    _check_bn_forward(c, fn, ref.batchnorm_forward, _bn_cases(c), _bn_probe)


def _speed_norm_backward(ours_fwd, ours_bwd, fwd_name, shape, extra):
    def speed(c, fn):
        x = c.randn(*shape)
        C = shape[1]
        gshape = (1, C, 1, 1) if "gn" in fwd_name else (C,)
        gamma, beta = c.randn(*gshape), c.randn(*gshape)
        args = [x, gamma, beta] + list(extra)
        return _speed_backward(c, fn, fwd_name, ours_fwd, ours_bwd, args, fixed_cache=False)

    speed.__doc__ = "dout, x %s" % (shape,)
    return speed


_CACHE_ALT = ("batchnorm_backward_alt cannot use the cache your batchnorm_forward returns: both backward passes "
              "must accept that same cache.")


@spec("layers", "batchnorm_backward",
      speed=_speed_norm_backward(fast.batchnorm_forward, fast.batchnorm_backward, "batchnorm_forward", (200, 500),
                                 [{"mode": "train"}]))
def check_batchnorm_backward(c, fn):
    check_backward(c, fn, "batchnorm_forward", ref.batchnorm_forward, ref.batchnorm_backward, _bn_cases(c), (0, 1, 2),
                   ("dx", "dgamma", "dbeta"), fixed_cache=False)


@spec("layers", "batchnorm_backward_alt",
      speed=_speed_norm_backward(fast.batchnorm_forward, fast.batchnorm_backward_alt, "batchnorm_forward",
                                 (200, 500), [{"mode": "train"}]))
def check_batchnorm_backward_alt(c, fn):
    check_backward(c, fn, "batchnorm_forward", ref.batchnorm_forward, ref.batchnorm_backward_alt, _bn_cases(c),
                   (0, 1, 2), ("dx", "dgamma", "dbeta"), fixed_cache=False, cache_hint=_CACHE_ALT)


# ---------------------------------------------------------------------------------------------
# layer normalization
# ---------------------------------------------------------------------------------------------


def _ln_cases(c):
    return [(label, [x, g, b, {} if i % 2 else {"mode": "train"}]) for i, (label, (x, g, b, _)) in
            enumerate(_bn_cases(c))]


def _ln_probe(c, fn):
    x = c.randn(4, 3, scale=2.0) + 1
    gamma, beta = c.randn(3), c.randn(3)
    c.set_case("f64 x(4, 3) (convention probe)")
    out = as_tuple(c.call(fn, x.copy(), gamma.copy(), beta.copy(), {}))[0]
    bn = ref.batchnorm_forward(x.copy(), gamma, beta, {"mode": "train"})[0]
    if out is not None and np.shape(out) == x.shape and np.allclose(out, bn, rtol=1e-6):
        c.hint("Layer normalization normalizes each data point (row) over its D features, not each feature over "
               "the minibatch.")


@spec("layers", "layernorm_forward", speed=_speed_bn(fast.layernorm_forward, (200, 500), {}))
def check_layernorm_forward(c, fn):
    check_forward(c, fn, ref.layernorm_forward, _ln_cases(c))
    if c.failing:
        _ln_probe(c, fn)


@spec("layers", "layernorm_backward",
      speed=_speed_norm_backward(fast.layernorm_forward, fast.layernorm_backward, "layernorm_forward", (200, 500),
                                 [{}]))
def check_layernorm_backward(c, fn):
    check_backward(c, fn, "layernorm_forward", ref.layernorm_forward, ref.layernorm_backward, _ln_cases(c),
                   (0, 1, 2), ("dx", "dgamma", "dbeta"), fixed_cache=False)


# ---------------------------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------------------------


def _dropout_stats(c, fn, p):
    """Kept fraction and scale of the student's mask on a large input of ones."""
    x = np.ones((200, 100))
    c.set_case("f64 x(200, 100) of ones, p=%g (convention probe)" % p)
    out = np.asarray(as_tuple(c.result_of(fn, x, {"mode": "train", "p": p}))[0], dtype=np.float64)
    kept = out != 0
    frac = float(kept.mean())
    scale = float(out[kept].mean()) if kept.any() else 0.0
    return frac, scale


def _speed_dropout(c, fn):
    """x (500, 500), p = 0.5"""
    return _speed_forward(c, fn, fast.dropout_forward, [c.randn(500, 500), {"mode": "train", "p": 0.5}])


@spec("layers", "dropout_forward", speed=_speed_dropout)
def check_dropout_forward(c, fn):
    cases = []
    for dtype, shape, p in ((F64, (50, 40), 0.3), (F64, (7, 3, 5), 0.6), (F32, (20, 30), 0.75)):
        x = c.randn(*shape, dtype=dtype) + 10
        cases.append((shape_label(dtype, x=x, p=p), x, p))
    exact = True
    for label, x, p in cases:
        for mode in ("train", "test"):
            c.set_case("%s, %s, seed 123" % (label, mode))
            theirs, mine = {"mode": mode, "p": p, "seed": 123}, {"mode": mode, "p": p, "seed": 123}
            got = as_tuple(c.result_of(fn, x.copy(), theirs))[0]
            want = ref.dropout_forward(x.copy(), mine)[0]
            if mode == "test":
                c.compare("out (test mode)", got, want)
            elif not (np.shape(got) == x.shape and np.allclose(np.asarray(got, dtype=float), want, rtol=1e-5)):
                exact = False
    # The notebook checks the kept fraction, not the exact mask: a mask drawn another way is fine.
    for p in (0.25, 0.7):
        frac, scale = _dropout_stats(c, fn, p)
        if abs(frac - p) > 0.03:
            c.fail("fraction kept", "keeps %.2f of the units for p=%g, expected about %g" % (frac, p, p))
            if abs(frac - (1 - p)) <= 0.03:
                c.hint("dropout_param['p'] is the probability of KEEPING a unit: mask = np.random.rand(*x.shape) < p.")
        elif abs(scale - 1 / p) > 1e-6 * (1 / p):
            c.fail("scale", "kept units are scaled by %.4g for p=%g, expected 1/p = %.4g" % (scale, p, 1 / p))
            c.hint("Inverted dropout divides the kept units by p at training time (and leaves test time alone).")
    if not exact and not c.failing:
        c.note("the mask is not cs231n's np.random.rand(*x.shape) < p, so seeded outputs differ from the "
               "notebook's (the fraction kept and the 1/p scale are right)")


def _speed_dropout_backward(c, fn):
    """dout, x (500, 500), p = 0.5"""
    return _speed_backward(c, fn, "dropout_forward", fast.dropout_forward, fast.dropout_backward,
                           [c.randn(500, 500), {"mode": "train", "p": 0.5}])


@spec("layers", "dropout_backward", speed=_speed_dropout_backward)
def check_dropout_backward(c, fn):
    student_fwd = c.sibling("dropout_forward")
    for dtype, shape, p in ((F64, (10, 12), 0.3), (F64, (3, 4, 5), 0.8), (F32, (6, 7), 0.5)):
        x = c.randn(*shape, dtype=dtype) + 5
        for mode in ("train", "test"):
            c.set_case("%s, %s" % (shape_label(dtype, x=x, p=p), mode))
            param = {"mode": mode, "p": p, "seed": 7}
            out = None
            if student_fwd is not None:  # the cache of the student's own forward, when it works
                try:
                    res = c.call(student_fwd, x.copy(), copy.deepcopy(param))
                    if isinstance(res, tuple) and len(res) == 2 and np.shape(res[0]) == x.shape:
                        out, cache = res
                except StudentError:
                    pass
            if out is None:
                out, cache = ref.dropout_forward(x.copy(), dict(param))
            dout = c.randn(*shape, dtype=dtype)
            got = c.result_of(fn, dout.copy(), cache)
            want = dout * (np.asarray(out, dtype=np.float64) / x).astype(dtype) if mode == "train" else dout
            c.compare("dx", got, want)


# ---------------------------------------------------------------------------------------------
# convolution and max pooling (naive)
# ---------------------------------------------------------------------------------------------


def _conv_cases(c):
    out = []
    for dtype, xs, ws, stride, pad in (
        (F64, (2, 3, 4, 4), (3, 3, 4, 4), 2, 1),
        (F64, (2, 3, 5, 7), (2, 3, 3, 3), 1, 1),
        (F64, (1, 2, 5, 5), (4, 2, 3, 1), 2, 0),
        (F32, (2, 2, 6, 6), (3, 2, 3, 3), 1, 1),
    ):
        x, w, b = c.randn(*xs, dtype=dtype), c.randn(*ws, dtype=dtype), c.randn(ws[0], dtype=dtype)
        param = {"stride": stride, "pad": pad}
        out.append((shape_label(dtype, x=x, w=w, stride=stride, pad=pad), [x, w, b, param]))
    return out


def _conv_speed_args(c):
    return [c.randn(100, 3, 31, 31), c.randn(25, 3, 3, 3), c.randn(25), {"stride": 2, "pad": 1}]


def _speed_conv_forward(c, fn):
    """x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1 (the notebook's timing)"""
    return _speed_forward(c, fn, fast.conv_forward_naive, _conv_speed_args(c))


@spec("layers", "conv_forward_naive", speed=_speed_conv_forward)
def check_conv_forward_naive(c, fn):
    check_forward(c, fn, ref.conv_forward_naive, _conv_cases(c))


def _speed_conv_backward(c, fn):
    """dout (100, 25, 16, 16), x (100, 3, 31, 31), w (25, 3, 3, 3)"""
    return _speed_backward(c, fn, "conv_forward_naive", fast.conv_forward_naive, fast.conv_backward_naive,
                           _conv_speed_args(c))


@spec("layers", "conv_backward_naive", speed=_speed_conv_backward)
def check_conv_backward_naive(c, fn):
    cases = _conv_cases(c)
    check_backward(c, fn, "conv_forward_naive", ref.conv_forward_naive, ref.conv_backward_naive, cases, (0, 1, 2),
                   ("dx", "dw", "db"), fixed_cache=True)


def _pool_cases(c):
    out = []
    for dtype, xs, ph, pw, s in ((F64, (2, 3, 4, 4), 2, 2, 2), (F64, (2, 2, 7, 9), 3, 3, 2),
                                 (F64, (1, 1, 5, 6), 1, 2, 1), (F32, (3, 2, 6, 6), 2, 2, 2)):
        x = c.randn(*xs, dtype=dtype)
        param = {"pool_height": ph, "pool_width": pw, "stride": s}
        out.append((shape_label(dtype, x=x, pool="%dx%d" % (ph, pw), stride=s), [x, param]))
    return out


def _pool_speed_args(c):
    return [c.randn(100, 3, 32, 32), {"pool_height": 2, "pool_width": 2, "stride": 2}]


def _speed_pool_forward(c, fn):
    """x (100, 3, 32, 32), 2x2 pool, stride 2"""
    return _speed_forward(c, fn, fast.max_pool_forward_naive, _pool_speed_args(c))


@spec("layers", "max_pool_forward_naive", speed=_speed_pool_forward)
def check_max_pool_forward_naive(c, fn):
    check_forward(c, fn, ref.max_pool_forward_naive, _pool_cases(c))


def _speed_pool_backward(c, fn):
    """dout (100, 3, 16, 16), x (100, 3, 32, 32), 2x2 pool, stride 2"""
    return _speed_backward(c, fn, "max_pool_forward_naive", fast.max_pool_forward_naive, fast.max_pool_backward_naive,
                           _pool_speed_args(c))


@spec("layers", "max_pool_backward_naive", speed=_speed_pool_backward)
def check_max_pool_backward_naive(c, fn):
    check_backward(c, fn, "max_pool_forward_naive", ref.max_pool_forward_naive, ref.max_pool_backward_naive,
                   _pool_cases(c), (0,), ("dx",), fixed_cache=True)


# ---------------------------------------------------------------------------------------------
# spatial batch normalization, spatial group normalization
# ---------------------------------------------------------------------------------------------


def _sbn_cases(c, mode="train"):
    out = []
    for dtype, shape in ((F64, (2, 3, 4, 5)), (F64, (3, 1, 2, 3)), (F32, (4, 2, 3, 3))):
        x = c.randn(*shape, dtype=dtype, scale=2.0) + 1
        C = shape[1]
        gamma, beta = c.randn(C, dtype=dtype), c.randn(C, dtype=dtype)
        out.append((shape_label(dtype, x=x, gamma=gamma), [x, gamma, beta, {"mode": mode}]))
    # The notebook's kind: integer gamma and beta.
    x = c.randn(4, 3, 5, 5, scale=4.0) + 10
    out.append(("f64 x(4, 3, 5, 5) gamma=[3, 4, 5] beta=[6, 7, 8] (integer arrays)",
                [x, np.asarray([3, 4, 5]), np.asarray([6, 7, 8]), {"mode": mode}]))
    return out


def _sbn_probe(c, fn):
    x = c.randn(2, 3, 2, 2, scale=2.0) + c.randn(1, 3, 1, 1) * 3
    gamma, beta = np.ones(3), np.zeros(3)
    c.set_case("f64 x(2, 3, 2, 2) (convention probe)")
    out = as_tuple(c.call(fn, x.copy(), gamma, beta, {"mode": "train"}))[0]
    flat = x.reshape(-1, 3)
    wrong = ((flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-5)).reshape(x.shape)
    if out is not None and np.shape(out) == x.shape and np.allclose(out, wrong, rtol=1e-6):
        c.hint("Move the channels last before reshaping: x.transpose(0, 2, 3, 1).reshape(-1, C) gives per-channel "
               "statistics over (N, H, W); x.reshape(-1, C) mixes channels.")


@spec("layers", "spatial_batchnorm_forward",
      speed=_speed_bn(fast.spatial_batchnorm_forward, (50, 32, 16, 16), {"mode": "train"}))
def check_spatial_batchnorm_forward(c, fn):
    _check_bn_forward(c, fn, ref.spatial_batchnorm_forward, _sbn_cases(c), _sbn_probe)


@spec("layers", "spatial_batchnorm_backward",
      speed=_speed_norm_backward(fast.spatial_batchnorm_forward, fast.spatial_batchnorm_backward,
                                 "spatial_batchnorm_forward", (50, 32, 16, 16), [{"mode": "train"}]))
def check_spatial_batchnorm_backward(c, fn):
    check_backward(c, fn, "spatial_batchnorm_forward", ref.spatial_batchnorm_forward, ref.spatial_batchnorm_backward,
                   _sbn_cases(c), (0, 1, 2), ("dx", "dgamma", "dbeta"), fixed_cache=False)


def _gn_cases(c):
    out = []
    for dtype, shape, G in ((F64, (2, 6, 4, 5), 2), (F64, (3, 4, 2, 3), 4), (F64, (2, 3, 3, 3), 1),
                            (F32, (2, 6, 3, 3), 3)):
        x = c.randn(*shape, dtype=dtype, scale=2.0) + 1
        C = shape[1]
        gamma, beta = c.randn(1, C, 1, 1, dtype=dtype), c.randn(1, C, 1, 1, dtype=dtype)
        out.append((shape_label(dtype, x=x, G=G), [x, gamma, beta, G, {"mode": "train"}]))
    return out


def _speed_gn_forward(c, fn):
    """x (50, 32, 16, 16), G = 4"""
    args = [c.randn(50, 32, 16, 16), c.randn(1, 32, 1, 1), c.randn(1, 32, 1, 1), 4, {}]
    return _speed_forward(c, fn, fast.spatial_groupnorm_forward, args)


@spec("layers", "spatial_groupnorm_forward", speed=_speed_gn_forward)
def check_spatial_groupnorm_forward(c, fn):
    check_forward(c, fn, ref.spatial_groupnorm_forward, _gn_cases(c))


@spec("layers", "spatial_groupnorm_backward",
      speed=_speed_norm_backward(fast.spatial_groupnorm_forward, fast.spatial_groupnorm_backward,
                                 "spatial_groupnorm_forward", (50, 32, 16, 16), [4, {}]))
def check_spatial_groupnorm_backward(c, fn):
    check_backward(c, fn, "spatial_groupnorm_forward", ref.spatial_groupnorm_forward, ref.spatial_groupnorm_backward,
                   _gn_cases(c), (0, 1, 2), ("dx", "dgamma", "dbeta"), fixed_cache=False)
