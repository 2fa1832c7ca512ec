"""Specs of the sandwich layers (``layer_utils``) and the networks: ``fc_net.TwoLayerNet``,
``fc_net.FullyConnectedNet`` (plain, batch / layer norm, dropout) and ``cnn.ThreeLayerConvNet``.

A network is checked on the reference's parameters: its initialization first (keys, shapes, biases
zero, gammas one, weights' std), then the reference's values are copied into its ``params`` and
its scores, loss and gradients are compared, with and without regularization (cs231n's nets use
``0.5 * reg * sum(W**2)``)."""

import copy
import inspect

import numpy as np

from .. import layer_utils as fast_lu
from ..classifiers import cnn as fast_cnn
from ..classifiers import fc_net as fast_fc
from ..reference import cnn as ref_cnn
from ..reference import fc_net as ref_fc
from ..reference import layer_utils as ref_lu
from ._context import fresh_dicts, shape_label
from ._layer_checks import check_backward, check_forward
from ._specs import spec

# ---------------------------------------------------------------------------------------------
# layer_utils
# ---------------------------------------------------------------------------------------------

LU = "layer_utils"


def _affine_relu_cases(c):
    out = []
    for dtype, N, dims, M in ((np.float64, 2, (3, 4), 5), (np.float64, 3, (7,), 1), (np.float32, 4, (6,), 3)):
        x = c.randn(N, *dims, dtype=dtype)
        w, b = c.randn(int(np.prod(dims)), M, dtype=dtype), c.randn(M, dtype=dtype)
        out.append((shape_label(dtype, x=x, w=w), [x, w, b]))
    return out


def _conv_cases(c, pool=False, bn=False):
    out = []
    for dtype, xs, ws in ((np.float64, (2, 3, 8, 8), (3, 3, 3, 3)), (np.float64, (1, 2, 6, 6), (2, 2, 3, 3)),
                          (np.float32, (2, 2, 4, 4), (3, 2, 3, 3))):
        x, w, b = c.randn(*xs, dtype=dtype), c.randn(*ws, dtype=dtype), c.randn(ws[0], dtype=dtype)
        args = [x, w, b]
        if bn:
            args += [c.randn(ws[0], dtype=dtype), c.randn(ws[0], dtype=dtype)]
        args.append({"stride": 1, "pad": 1})
        if pool:
            args.append({"pool_height": 2, "pool_width": 2, "stride": 2})
        if bn:
            args.append({"mode": "train"})
        out.append((shape_label(dtype, x=x, w=w), args))
    return out


_LU_SPECS = (
    ("affine_relu", _affine_relu_cases, ("dx", "dw", "db"), (0, 1, 2)),
    ("conv_relu", _conv_cases, ("dx", "dw", "db"), (0, 1, 2)),
    ("conv_relu_pool", lambda c: _conv_cases(c, pool=True), ("dx", "dw", "db"), (0, 1, 2)),
    ("conv_bn_relu", lambda c: _conv_cases(c, bn=True), ("dx", "dw", "db", "dgamma", "dbeta"), (0, 1, 2, 3, 4)),
)


def _lu_speed_args(c, name):
    if name == "affine_relu":
        return [c.randn(100, 3072), c.randn(3072, 100, scale=1e-2), c.randn(100)]
    x, w, b = c.randn(50, 3, 32, 32), c.randn(32, 3, 7, 7, scale=1e-2), c.randn(32)
    args = [x, w, b]
    if name == "conv_bn_relu":
        args += [c.randn(32), c.randn(32)]
    args.append({"stride": 1, "pad": 3})
    if name == "conv_relu_pool":
        args.append({"pool_height": 2, "pool_width": 2, "stride": 2})
    if name == "conv_bn_relu":
        args.append({"mode": "train"})
    return args


def _make_lu(name, cases, grads, wrt):
    fwd, bwd = name + "_forward", name + "_backward"
    size = "x (100, 3072), w (3072, 100)" if name == "affine_relu" else "x (50, 3, 32, 32), w (32, 3, 7, 7), pad 3"

    def speed_fwd(c, fn):
        args = _lu_speed_args(c, name)
        return (lambda: fn(*fresh_dicts(*args))), (lambda: getattr(fast_lu, fwd)(*fresh_dicts(*args)))

    def speed_bwd(c, fn):
        args = _lu_speed_args(c, name)
        out, cache = getattr(fast_lu, fwd)(*copy.deepcopy(args))
        dout = c.randn(*out.shape)
        sfwd = c.sibling(fwd)
        if sfwd is None:
            raise RuntimeError("%s is needed for the cache" % fwd)
        scache = c.call(sfwd, *copy.deepcopy(args))[1]
        return (lambda: fn(dout, scache)), (lambda: getattr(fast_lu, bwd)(dout, cache))

    speed_fwd.__doc__ = speed_bwd.__doc__ = size

    def check_fwd(c, fn):
        check_forward(c, fn, getattr(ref_lu, fwd), cases(c))

    def check_bwd(c, fn):
        check_backward(c, fn, fwd, getattr(ref_lu, fwd), getattr(ref_lu, bwd), cases(c), wrt, grads,
                       fixed_cache=False, numeric=name != "conv_relu_pool")

    spec(LU, fwd, speed=speed_fwd)(check_fwd)
    spec(LU, bwd, speed=speed_bwd)(check_bwd)


for _args in _LU_SPECS:
    _make_lu(*_args)


# ---------------------------------------------------------------------------------------------
# networks
# ---------------------------------------------------------------------------------------------


def _check_init(c, model, reference, weight_scale):
    """Keys, shapes, zero biases and betas, unit gammas, weights' std within 10% (large ones)."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not params:
        c.fail("params", "model.params is %s after __init__" % ("empty" if isinstance(params, dict) else
                                                                type(params).__name__))
        return False
    want = reference.params
    if set(params) != set(want):
        c.fail("params", "params keys are %s, expected %s" % (sorted(params), sorted(want)))
        return False
    ok = True
    for k in sorted(want):
        shape = np.shape(params[k])
        if shape != want[k].shape:
            c.fail("params['%s']" % k, "params['%s'] has shape %s, expected %s" % (k, shape, want[k].shape))
            ok = False
            continue
        v = np.asarray(params[k], dtype=np.float64)
        if k.startswith(("b", "beta")) and np.any(v != 0):
            c.fail("params['%s']" % k, "params['%s'] is not initialized to zeros" % k)
        elif k.startswith("gamma") and np.any(v != 1):
            c.fail("params['%s']" % k, "params['%s'] is not initialized to ones" % k)
        elif k.startswith("W") and v.size >= 200 and abs(v.std() - weight_scale) >= weight_scale / 10:
            c.fail("params['%s']" % k, "params['%s'] has std %.3g, expected weight_scale = %g" % (k, v.std(),
                                                                                                 weight_scale))
    return ok


def _losses(c, model, X, y):
    out = c.result_of(model.loss, X.copy(), y.copy())
    if not isinstance(out, tuple) or len(out) != 2 or not isinstance(out[1], dict):
        c.fail("result", "loss(X, y) returns %s, expected (loss, grads)" % type(out).__name__)
        return None, None
    return out


def _compare_net(c, model, reference, X, y, label, regs=(0.0, 0.7), rollback_ok=False):
    """The student's model on the reference's params: scores, then loss and grads for each reg.

    Returns False when a comparison failed (and, with rollback_ok, removes those failures)."""
    start = len(c.records)
    for k, v in reference.params.items():
        model.params[k] = v.copy()
    c.set_case(label + ", scores (y=None)")
    c.compare("scores", c.result_of(model.loss, X.copy()), reference.loss(X.copy()))
    for reg in regs:
        model.reg = reference.reg = reg
        c.set_case("%s, reg=%g" % (label, reg))
        loss, grads = _losses(c, model, X, y)
        if loss is None:
            return False
        want_loss, want_grads = reference.loss(X.copy(), y.copy())
        loss_ok = c.compare("loss", loss, want_loss)
        if set(grads) != set(want_grads):
            c.fail("grads", "grads keys are %s, expected those of params %s" % (sorted(grads), sorted(want_grads)))
            continue
        # Gradients that are zero in theory (the biases before a batchnorm) are rounding noise:
        # the floor of rel_error follows the largest gradient of the network.
        scale = max(float(np.max(np.abs(np.asarray(g, dtype=np.float64)))) for g in want_grads.values())
        for k in sorted(want_grads):
            c.compare("grads['%s']" % k, grads[k], want_grads[k], scale=scale)
        if reg and not loss_ok:
            _reg_probe(c, model, reference, X, y, reg, loss)
    failed = any(r["err"] > r["tol"] for r in c.records[start:])
    if failed and rollback_ok:
        del c.records[start:]
    return not failed


def _reg_probe(c, model, reference, X, y, reg, loss):
    reference.reg = 2 * reg
    twice = reference.loss(X.copy(), y.copy())[0]
    reference.reg = 0.0
    none = reference.loss(X.copy(), y.copy())[0]
    reference.reg = reg
    if np.isclose(float(loss), twice, rtol=1e-7):
        c.hint("The L2 regularization of cs231n's networks includes a factor 0.5: loss += 0.5 * reg * sum(W**2) "
               "(gradient reg * W).")
    elif np.isclose(float(loss), none, rtol=1e-7):
        c.hint("The loss ignores self.reg: add 0.5 * self.reg * sum(W**2) over the weight matrices.")


def _self_consistent(c, model, X, y, key):
    """Whether the student's analytic gradient of ``key`` matches the numeric gradient of its loss."""
    _, grads = model.loss(X.copy(), y.copy())
    num = c.numeric_grad(lambda _: float(model.loss(X.copy(), y.copy())[0]), model.params[key])
    return np.allclose(grads[key], num, rtol=1e-4, atol=1e-7)


def _diagnose(c, model, X, y):
    """After a failed comparison: are the student's gradients those of their own loss?"""
    if c.hints or np.asarray(X).dtype != np.float64 or any(
            np.asarray(v).dtype != np.float64 for v in getattr(model, "params", {}).values()):
        return
    try:
        key = "W1"
        consistent = _self_consistent(c, model, X, y, key)
    except Exception:  # noqa: BLE001 - only a diagnosis
        return
    if consistent:
        c.hint("Your gradients match the numeric gradient of your own loss, so the forward pass (the loss) "
               "differs from cs231n's.")
    else:
        c.hint("Your gradients do not match the numeric gradient of your own loss: the backward pass is wrong.")


def _kwargs_for(cls, **kwargs):
    """Adapts the keyword names to the student's signature (``dropout`` in 2018-2020)."""
    try:
        names = set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return kwargs
    if "dropout_keep_ratio" in kwargs and "dropout_keep_ratio" not in names and "dropout" in names:
        kwargs["dropout"] = kwargs.pop("dropout_keep_ratio")
    return kwargs


FC = "classifiers.fc_net"


def _speed_two_layer(c, cls):
    """loss(X, y) with X (100, 3072), hidden_dim 100"""
    X, y = c.randn(100, 3072), c.labels(100, 10)
    model = c.call(cls, input_dim=3072, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.1)
    ours = fast_fc.TwoLayerNet(input_dim=3072, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.1)
    return (lambda: model.loss(X, y)), (lambda: ours.loss(X, y))


@spec(FC, "TwoLayerNet", stub_methods=("__init__", "loss"), speed=_speed_two_layer)
def check_two_layer_net(c, cls):
    c.set_case("f64 TwoLayerNet(input_dim=40, hidden_dim=30, num_classes=7, weight_scale=1e-2): init")
    np.random.seed(0)
    model = c.call(cls, input_dim=40, hidden_dim=30, num_classes=7, weight_scale=1e-2, reg=0.0)
    reference = ref_fc.TwoLayerNet(input_dim=40, hidden_dim=30, num_classes=7, weight_scale=1e-2)
    if not _check_init(c, model, reference, 1e-2):
        return
    N = 5
    # The notebook's kind: a non-contiguous X (a transposed linspace).
    X = np.linspace(-5.5, 4.5, num=N * 40).reshape(40, N).T
    y = c.labels(N, 7)
    for k in reference.params:
        reference.params[k] = c.randn(*reference.params[k].shape, scale=0.3)
    if not _compare_net(c, model, reference, X, y, "f64 X(5, 40) non-contiguous, H=30, C=7"):
        _diagnose(c, model, X, y)


_FCN_CONFIGS = (
    dict(normalization=None, dropout_keep_ratio=1),
    dict(normalization="batchnorm", dropout_keep_ratio=1),
    dict(normalization="layernorm", dropout_keep_ratio=1),
    dict(normalization=None, dropout_keep_ratio=0.5, seed=123),
    dict(normalization="batchnorm", dropout_keep_ratio=1, dtype=np.float32),
)


def _speed_fcn(c, cls):
    """loss(X, y) with X (100, 3072), hidden [100, 100, 100], batchnorm, float64"""
    X, y = c.randn(100, 3072), c.labels(100, 10)
    kwargs = dict(hidden_dims=[100, 100, 100], input_dim=3072, num_classes=10, normalization="batchnorm",
                  reg=0.1, weight_scale=1e-2, dtype=np.float64)
    model = c.call(cls, **_kwargs_for(cls, **kwargs))
    ours = fast_fc.FullyConnectedNet(**kwargs)
    return (lambda: model.loss(X, y)), (lambda: ours.loss(X, y))


@spec(FC, "FullyConnectedNet", stub_methods=("__init__", "loss"), speed=_speed_fcn)
def check_fully_connected_net(c, cls):
    D, H, C, N = 15, [20, 30], 6, 4
    for config in _FCN_CONFIGS:
        config = dict(config)
        dtype = config.pop("dtype", np.float64)
        tag = ", ".join("%s=%r" % kv for kv in config.items() if kv[0] != "seed")
        prefix = "f32" if dtype == np.float32 else "f64"
        c.set_case("%s FullyConnectedNet(%s, %s): init" % (prefix, H, tag))
        np.random.seed(0)
        kwargs = _kwargs_for(cls, hidden_dims=H, input_dim=D, num_classes=C, reg=0.0, weight_scale=5e-2,
                             dtype=dtype, **config)
        model = c.call(cls, **kwargs)
        reference = ref_fc.FullyConnectedNet(H, input_dim=D, num_classes=C, reg=0.0, weight_scale=5e-2,
                                             dtype=dtype, **config)
        if not _check_init(c, model, reference, 5e-2):
            return
        for k in reference.params:
            if k.startswith(("W", "b")):
                reference.params[k] = c.randn(*reference.params[k].shape, scale=0.4).astype(dtype)
            elif k.startswith("gamma"):
                reference.params[k] = (1 + c.randn(*reference.params[k].shape, scale=0.2)).astype(dtype)
        X, y = c.randn(N, D), c.labels(N, C)
        label = "%s X(%d, %d) hidden %s, %s" % (prefix, N, D, H, tag)
        dropout = config.get("dropout_keep_ratio", 1) != 1
        if not _compare_net(c, model, reference, X, y, label, rollback_ok=dropout):
            if dropout:
                c.note("with dropout the network's results differ from the reference's for the same seed (another "
                       "way of drawing the mask?); its gradients were checked against its own numeric gradient")
                c.set_case(label + ", numeric gradient of your loss")
                model.reg = 0.0
                _, grads = _losses(c, model, X, y)
                if grads is not None:
                    num = c.numeric_grad(lambda _: float(model.loss(X.copy(), y.copy())[0]), model.params["W1"])
                    c.compare("grads['W1'] vs numeric", grads.get("W1"), num, kind="numeric", tol=1e-4)
            else:
                _diagnose(c, model, X, y)
                return


CNN = "classifiers.cnn"


def _speed_cnn(c, cls):
    """loss(X, y) with X (50, 3, 32, 32), the default ThreeLayerConvNet (float32)"""
    X, y = c.randn(50, 3, 32, 32).astype(np.float32), c.labels(50, 10)
    model = c.call(cls, reg=0.1)
    ours = fast_cnn.ThreeLayerConvNet(reg=0.1)
    return (lambda: model.loss(X, y)), (lambda: ours.loss(X, y))


@spec(CNN, "ThreeLayerConvNet", stub_methods=("__init__", "loss"), speed=_speed_cnn)
def check_three_layer_convnet(c, cls):
    kwargs = dict(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=7, num_classes=4, weight_scale=1e-2,
                  dtype=np.float64)
    c.set_case("f64 ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=7): init")
    np.random.seed(0)
    model = c.call(cls, **kwargs)
    reference = ref_cnn.ThreeLayerConvNet(**kwargs)
    if not _check_init(c, model, reference, 1e-2):
        return
    for k in reference.params:
        reference.params[k] = c.randn(*reference.params[k].shape, scale=0.3)
    X, y = c.randn(2, 3, 8, 8), c.labels(2, 4)
    if not _compare_net(c, model, reference, X, y, "f64 X(2, 3, 8, 8)", regs=(0.0, 0.5)):
        _diagnose(c, model, X, y)


# ---------------------------------------------------------------------------------------------
# the monolithic TwoLayerNet of assignment 1, 2016-2020 (classifiers/neural_net.py)
# ---------------------------------------------------------------------------------------------

NN = "classifiers.neural_net"


def _speed_neural_net(c, cls):
    """loss(X, y, reg=0.1) with X (100, 3072), hidden_size 100"""
    X, y = c.randn(100, 3072), c.labels(100, 10)
    model = c.call(cls, 3072, 100, 10)
    ours = fast_fc.TwoLayerNet(input_dim=3072, hidden_dim=100, num_classes=10, reg=0.2)
    return (lambda: model.loss(X, y, reg=0.1)), (lambda: ours.loss(X, y))


@spec(NN, "TwoLayerNet", stub_methods=("loss",), speed=_speed_neural_net)
def check_neural_net(c, cls):
    """The old API: TwoLayerNet(input_size, hidden_size, output_size, std=1e-4), loss(X, y=None,
    reg=0.0) with reg * (sum W1^2 + sum W2^2), no 0.5 (the reference's 0.5 * (2 reg))."""
    D, H, C, N = 12, 10, 4, 5
    c.set_case("f64 TwoLayerNet(12, 10, 4): init")
    np.random.seed(0)
    model = c.call(cls, D, H, C, std=1e-1)
    reference = ref_fc.TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-1)
    if not _check_init(c, model, reference, 1e-1):
        return
    for k in reference.params:
        reference.params[k] = c.randn(*reference.params[k].shape, scale=0.3)
        model.params[k] = reference.params[k].copy()
    X = np.linspace(-0.2, 0.5, num=N * D).reshape(N, D) + c.randn(N, D, scale=0.1)
    y = c.labels(N, C)
    c.set_case("f64 X(5, 12), scores (y=None)")
    c.compare("scores", c.result_of(model.loss, X.copy()), reference.loss(X.copy()))
    for reg in (0.0, 0.05):
        c.set_case("f64 X(5, 12), reg=%g" % reg)
        out = c.result_of(model.loss, X.copy(), y.copy(), reg=reg)
        if not isinstance(out, tuple) or len(out) != 2 or not isinstance(out[1], dict):
            c.fail("result", "loss(X, y, reg) returns %s, expected (loss, grads)" % type(out).__name__)
            return
        reference.reg = 2 * reg
        want_loss, want_grads = reference.loss(X.copy(), y.copy())
        if not c.compare("loss", out[0], want_loss) and reg:
            reference.reg = reg
            if np.isclose(float(out[0]), reference.loss(X.copy(), y.copy())[0], rtol=1e-7):
                c.hint("The old neural_net.TwoLayerNet adds reg * (sum W1^2 + sum W2^2), without the 0.5 of "
                       "fc_net's networks.")
        for k in sorted(want_grads):
            c.compare("grads['%s']" % k, out[1].get(k), want_grads[k])
