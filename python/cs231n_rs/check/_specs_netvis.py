"""Specs of ``cs231n/net_visualization_pytorch.py`` (A2 2022, A3 2020/2021/2023): saliency maps,
fooling images and the class-visualization step, checked against
:mod:`cs231n_rs.net_visualization_pytorch` on a tiny deterministic float32 conv net (the notebook's
dtype; SqueezeNet is not needed).

These checks need torch (and the student's module imports torchvision): without them the
functions are reported as ``not checked`` (``Spec.needs``), never as the student's error. torch is
imported inside the checks only, so that the spec table loads in a Python without it.
"""

import numpy as np

from ._context import StudentError
from ._specs import spec

MODULE = "net_visualization_pytorch"
NEEDS = ("torch", "torchvision")
NUM_CLASSES = 10
#: float32 results against ours on the same float32 inputs (cs231n's rel_error).
TOL = 1e-3
#: A probed variant matches the student's result within this (it ran other float32 operations).
TOL_VARIANT = 1e-2

HINT_SAL_CHANNELS = ("Take the maximum over the 3 channels of the absolute gradient (dX.abs().max(dim=1)[0]), "
                     "not a sum or mean over the channels.")
HINT_SAL_ABS = "Take the absolute value of the gradient before the maximum over channels: dX.abs().max(dim=1)[0]."
HINT_SAL_SCORE = ("Differentiate the unnormalized score of the correct class (scores.gather(1, y.view(-1, 1)), "
                  "summed over the batch), not its softmax probability or the cross-entropy loss.")
HINT_SAL_SCALE = ("Your maps are right up to a factor: differentiate the sum over the batch of the raw correct-class "
                  "scores (not their mean, not a loss).")
HINT_SAL_DETACH = "The notebook calls saliency.numpy(): return a detached tensor (e.g. X.grad.abs().max(dim=1)[0])."
HINT_FOOL_DESCENT = ("Gradient ASCENT on the target score: X_fooling.data += dX with dX = learning_rate * g / ||g||; "
                     "yours goes down the target score.")
HINT_FOOL_NORM = "Normalize each step as the notebook says: dX = learning_rate * g / g.norm() (learning_rate = 1)."
HINT_FOOL_ZERO = ("Zero X_fooling.grad after each step (X_fooling.grad.zero_()): yours adds up the gradients of all "
                  "the iterations.")
HINT_FOOL_LOSS = ("Ascend the raw score of target_y (scores[0, target_y]), not a softmax probability or the "
                  "cross-entropy loss.")
HINT_FOOL_STOP = "Stop as soon as the model predicts target_y (check the prediction before each step)."
HINT_FOOL_CLONE = "Do not modify X: start from X_fooling = X.clone() as the starter does."
HINT_FOOL_HANG = ("make_fooling_image never reached target_y: check that it is gradient ASCENT on the target score "
                  "(descent never gets there) and that the loop stops after at most 100 steps.")
HINT_VIS_SIGN = ("The objective is s_y(img) - l2_reg * ||img||^2: the L2 term must pull img towards 0 (add "
                 "-2 * l2_reg * img to the score's gradient); yours has the opposite sign.")
HINT_VIS_FACTOR2 = ("The gradient of l2_reg * ||img||^2 is 2 * l2_reg * img: yours lacks the factor 2 (or let "
                    "autograd differentiate score - l2_reg * (img ** 2).sum()).")
HINT_VIS_SQUARE = "The regularizer is l2_reg * ||img||^2 (squared norm, e.g. (img ** 2).sum()), not l2_reg * ||img||."
HINT_VIS_NO_L2 = "Don't forget the L2 regularization: the objective is s_y(img) - l2_reg * ||img||^2."
HINT_VIS_DESCENT = "Gradient ASCENT on s_y(img) - l2_reg * ||img||^2: img.data += learning_rate * g (/ ||g||)."
HINT_VIS_ZERO = ("Zero img.grad after the step (img.grad.zero_()): the notebook calls the step 100 times on the same "
                 "img, and yours adds up the gradients of the previous calls.")
HINT_VIS_INPLACE = ("Update img in place (img.data += ..., or img += ... under torch.no_grad()): the notebook ignores "
                    "the return value.")


def _torch():
    import torch

    return torch


def _ours():
    from .. import net_visualization_pytorch

    return net_visualization_pytorch


def _model(seed):
    """A tiny conv net (conv-ReLU-maxpool-conv-tanh-avgpool-linear), float32, eval mode, parameters
    without gradients (as the notebook's SqueezeNet)."""
    torch = _torch()
    nn = torch.nn
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 3, padding=1), nn.Tanh(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                              nn.Linear(64, NUM_CLASSES))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _images(c, n, h, w):
    return _torch().from_numpy(c.randn(n, 3, h, w, dtype=np.float32))


def _array(t):
    torch = _torch()
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def _label(X, name="X", **extra):
    text = "f32 %s%s" % (name, tuple(X.shape))
    for k, v in extra.items():
        text += " %s=%s" % (k, v)
    return text


def _tensor_result(c, got, what):
    """The student's result must be a torch Tensor (the notebook calls tensor methods on it)."""
    if not isinstance(got, _torch().Tensor):
        c.fail(what, "%s is %s, expected a torch Tensor" % (what, type(got).__name__))
        return False
    return True


def _same_up_to_scale(got, cand, tol=TOL_VARIANT):
    """True when each image's map equals the candidate's up to a positive factor."""
    got = np.asarray(got, dtype=np.float64)
    cand = np.asarray(cand, dtype=np.float64)
    if got.shape != cand.shape:
        return False
    for g, w in zip(got, cand):  # noqa: B905 - same shape
        gm, wm = np.abs(g).max(), np.abs(w).max()
        if wm == 0 or gm == 0:
            if gm != wm:
                return False
            continue
        a, b = g / gm, w / wm
        if np.max(np.abs(a - b)) > tol:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# compute_saliency_maps
# ---------------------------------------------------------------------------------------------


def _input_grad(model, X, y, objective):
    torch = _torch()
    x = X.detach().clone().requires_grad_()
    with torch.enable_grad():
        s = model(x)
        if objective == "score":
            f = s.gather(1, y.view(-1, 1)).sum()
        elif objective == "softmax":
            f = torch.softmax(s, dim=1).gather(1, y.view(-1, 1)).sum()
        else:  # the cross-entropy loss
            f = torch.nn.functional.cross_entropy(s, y, reduction="sum")
        (g,) = torch.autograd.grad(f, x)
    return g


def _probe_saliency(c, got, X, y, model):
    g = _input_grad(model, X, y, "score")
    variants = [
        (HINT_SAL_CHANNELS, [g.abs().sum(1), g.sum(1).abs()]),
        (HINT_SAL_ABS, [g.max(1)[0], (-g).max(1)[0]]),
        (HINT_SAL_SCORE, [_input_grad(model, X, y, "softmax").abs().max(1)[0],
                          _input_grad(model, X, y, "loss").abs().max(1)[0]]),
        (HINT_SAL_SCALE, [g.abs().max(1)[0]]),
    ]
    for hint, candidates in variants:
        if any(_same_up_to_scale(got, _array(cand)) for cand in candidates):
            c.hint(hint)
            return


def _speed_saliency(c, fn):
    """X (5, 3, 64, 64) through a small conv net"""
    torch = _torch()
    ours = _ours()
    model = _model(0)
    X = _images(c, 5, 64, 64)
    y = torch.from_numpy(c.labels(5, NUM_CLASSES)).long()
    return (lambda: fn(X.clone(), y, model)), (lambda: ours.compute_saliency_maps(X.clone(), y, model))


@spec(MODULE, "compute_saliency_maps", needs=NEEDS, speed=_speed_saliency)
def check_compute_saliency_maps(c, fn):
    torch = _torch()
    ours = _ours()
    model = _model(0)
    for n, h, w in ((4, 16, 16), (1, 12, 20), (3, 9, 9)):
        X = _images(c, n, h, w)
        y = torch.from_numpy(c.labels(n, NUM_CLASSES)).long()
        c.set_case(_label(X, y=tuple(y.tolist())))
        want = _array(ours.compute_saliency_maps(X.clone(), y.clone(), model))
        got = c.result_of(fn, X.clone(), y.clone(), model)
        if not _tensor_result(c, got, "saliency"):
            return
        if got.requires_grad:
            c.fail("saliency", "saliency requires grad: the notebook's saliency.numpy() raises on it")
            c.hint(HINT_SAL_DETACH)
            return
        g = _array(got)
        c.compare("saliency", g, want, kind="f32", tol=TOL)
        if g.shape == want.shape and (g < 0).any():
            c.fail("saliency", "saliency has negative entries (%.3g): saliency maps are absolute values" % g.min())
        if c.failing:
            if g.shape == want.shape:
                _probe_saliency(c, g, X, y, model)
            return



# ---------------------------------------------------------------------------------------------
# make_fooling_image
# ---------------------------------------------------------------------------------------------


def _fool_variant(X, target, model, sign=1.0, normalize=True, accumulate=False, objective="score", stop=True):
    """Our fooling loop with one of the known deviations (the default: cs231n's algorithm)."""
    torch = _torch()
    x = X.detach().clone()
    acc = torch.zeros_like(x)
    for _ in range(100):
        xr = x.clone().requires_grad_()
        with torch.enable_grad():
            s = model(xr)
            if stop and int(s.argmax(1)[0]) == target:
                break
            if objective == "score":
                f = s[0, target]
            else:
                f = -torch.nn.functional.cross_entropy(s, torch.tensor([target]))
            (g,) = torch.autograd.grad(f, xr)
        if accumulate:
            acc = acc + g
            g = acc
        step = g / g.norm() if normalize else g
        x = x + sign * step
    return x


def _target(model, X):
    """A class the model does not predict for X: the 4th-highest score (a few steps away)."""
    torch = _torch()
    with torch.no_grad():
        return int(model(X)[0].argsort(descending=True)[3])


def _probe_fooling(c, delta, X, target, model):
    variants = [
        (HINT_FOOL_DESCENT, dict(sign=-1.0)),
        (HINT_FOOL_DESCENT, dict(sign=-1.0, normalize=False)),
        (HINT_FOOL_NORM, dict(normalize=False)),
        (HINT_FOOL_ZERO, dict(accumulate=True)),
        (HINT_FOOL_ZERO, dict(accumulate=True, normalize=False)),
        (HINT_FOOL_LOSS, dict(objective="loss")),
        (HINT_FOOL_STOP, dict(stop=False)),
    ]
    from ._compare import rel_error

    Xd = X.detach()
    for hint, kw in variants:
        cand = _array(_fool_variant(Xd, target, model, **kw) - Xd)
        if rel_error(delta, cand, 1e-3) <= TOL_VARIANT:
            c.hint(hint)
            return


def _speed_fooling(c, fn):
    """X (1, 3, 64, 64), small conv net"""
    ours = _ours()
    model = _model(1)
    X = _images(c, 1, 64, 64)
    target = _target(model, X)
    return (lambda: fn(X.clone(), target, model)), (lambda: ours.make_fooling_image(X.clone(), target, model))


@spec(MODULE, "make_fooling_image", needs=NEEDS, speed=_speed_fooling)
def check_make_fooling_image(c, fn):
    torch = _torch()
    ours = _ours()
    model = _model(1)
    for h, w in ((16, 16), (12, 20)):
        X = _images(c, 1, h, w)
        target = _target(model, X)
        X0 = X.clone()
        c.set_case(_label(X, target_y=target))
        want = _array(ours.make_fooling_image(X.clone(), target, model).detach() - X0)
        try:
            got = c.result_of(fn, X, target, model)
        except StudentError as exc:
            if "took more than" in exc.message:
                c.hint(HINT_FOOL_HANG)
            raise
        if not torch.equal(X.detach(), X0):
            c.fail("X", "X was modified: make_fooling_image must leave its input alone")
            c.hint(HINT_FOOL_CLONE)
            return
        if not _tensor_result(c, got, "X_fooling"):
            return
        if tuple(got.shape) != tuple(X.shape):
            c.fail("X_fooling", "X_fooling has shape %s, expected %s" % (tuple(got.shape), tuple(X.shape)))
            return
        Xf = got.detach().to(torch.float32)
        with torch.no_grad():
            pred = int(model(Xf).argmax(1)[0])
        c.expect(pred == target, "prediction",
                 "the model predicts class %d for your X_fooling, not target_y=%d" % (pred, target))
        delta = _array(Xf - X0)
        c.compare("X_fooling - X", delta, want, kind="f32", tol=TOL)
        if c.failing:
            _probe_fooling(c, delta, X0, target, model)
            return



# ---------------------------------------------------------------------------------------------
# class_visualization_update_step
# ---------------------------------------------------------------------------------------------


def _vis_grad(model, img, target, l2_reg, kind="right"):
    """The gradient of the class-visualization objective at img (``kind``: a known deviation)."""
    torch = _torch()
    x = img.detach().clone().requires_grad_()
    with torch.enable_grad():
        s = model(x)[0, target]
        (ds,) = torch.autograd.grad(s, x)
    x = x.detach()
    return {"right": ds - 2 * l2_reg * x, "sign": ds + 2 * l2_reg * x, "factor2": ds - l2_reg * x,
            "square": ds - l2_reg * x / x.norm(), "no_l2": ds, "descent": -(ds - 2 * l2_reg * x)}[kind]


def _objective(model, img, target, l2_reg):
    torch = _torch()
    with torch.no_grad():
        x = img.detach().double()
        return float(model.double()(x)[0, target]) - l2_reg * float((x * x).sum())


def _steps(g, lr):
    """The two accepted forms of a step along g: normalized and plain."""
    return {"normalized": lr * g / g.norm(), "unnormalized": lr * g}


def _closest(d, steps):
    """The form whose size is closest to the student's step ``d``."""
    n = float(np.linalg.norm(d))
    return min(steps, key=lambda k: abs(np.log(max(n, 1e-30) / max(float(steps[k].norm()), 1e-30))))


def _matches(d, g, lr):
    from ._compare import rel_error

    return any(rel_error(d, _array(s), 1e-3) <= TOL_VARIANT for s in _steps(g, lr).values())


def _probe_vis(c, d, model, img0, target, l2_reg, lr):
    for kind, hint in (("sign", HINT_VIS_SIGN), ("descent", HINT_VIS_DESCENT), ("factor2", HINT_VIS_FACTOR2),
                       ("square", HINT_VIS_SQUARE), ("no_l2", HINT_VIS_NO_L2)):
        if _matches(d, _vis_grad(model, img0, target, l2_reg, kind), lr):
            c.hint(hint)
            return


def _speed_vis(c, fn):
    """img (1, 3, 64, 64), small conv net, one step"""
    ours = _ours()
    model = _model(2)
    img0 = _images(c, 1, 64, 64)

    def run(step):
        return lambda: step(img0.clone().requires_grad_(), model, 3, 1e-3, 25)

    return run(fn), run(ours.class_visualization_update_step)


@spec(MODULE, "class_visualization_update_step", needs=NEEDS, speed=_speed_vis)
def check_class_visualization_update_step(c, fn):
    torch = _torch()
    model = _model(2)
    for (h, w), target, l2_reg, lr in (((16, 16), 3, 0.05, 0.5), ((12, 20), 7, 0.02, 2.0)):
        img0 = _images(c, 1, h, w)
        img = img0.clone().requires_grad_()
        c.set_case(_label(img0, "img", target_y=target, l2_reg=l2_reg, learning_rate=lr) + ", step 1")
        # The notebook ignores the return value: a correct step returns None.
        c.call(fn, img, model, target, l2_reg, lr)
        after = img.detach().clone()
        if torch.equal(after, img0):
            c.fail("img", "img is unchanged after the step")
            c.hint(HINT_VIS_INPLACE)
            return
        d = _array(after - img0)
        steps = _steps(_vis_grad(model, img0, target, l2_reg), lr)
        form = _closest(d, steps)
        c.compare("img step (%s)" % form, d, _array(steps[form]), kind="f32", tol=TOL)
        if c.failing:
            _probe_vis(c, d, model, img0, target, l2_reg, lr)
            return
        c.expect(_objective(_model(2), after, target, l2_reg) > _objective(_model(2), img0, target, l2_reg),
                 "objective", "s_y(img) - l2_reg * ||img||^2 went down")
        # A second step on the same img (as in the notebook's loop): gradients must not add up.
        c.set_case(_label(img0, "img", target_y=target, l2_reg=l2_reg, learning_rate=lr) + ", step 2")
        c.call(fn, img, model, target, l2_reg, lr)
        d2 = _array(img.detach() - after)
        g2 = _vis_grad(model, after, target, l2_reg)
        c.compare("img step (%s)" % form, d2, _array(_steps(g2, lr)[form]), kind="f32", tol=TOL)
        if c.failing:
            # img.grad kept from step 1: the objective's gradient, or the score's alone (the L2 term
            # added by hand).
            for g1 in (_vis_grad(model, img0, target, l2_reg), _vis_grad(model, img0, target, l2_reg, "no_l2")):
                if _matches(d2, g1 + g2, lr):
                    c.hint(HINT_VIS_ZERO)
                    break
            return
