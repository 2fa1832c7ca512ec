"""First-order update rules (cs231n ``optim.py``), each one fused Rust pass over the parameters.

Every rule has cs231n's interface::

    def update(w, dw, config=None):  ->  (next_w, config)

Hyper-parameters get their defaults with ``config.setdefault`` in the caller's dict, and the state
(``velocity``, ``cache``, ``m``, ``v``, ``t``) is kept in it, as in cs231n. ``sgd`` updates ``w`` in
place and returns it; the other rules return a new ``next_w`` and leave ``w`` alone, and update
their state arrays in place when they can (a state array they cannot write, or of another dtype, is
replaced by a new one, as cs231n always does).

Values are NumPy's: the kernels do cs231n's formula operation by operation in the precision NumPy
would use (float64 equal bit for bit), with the scalars (``1 - beta1``, ``1 - beta1**t``...) computed
in Python exactly as the formula does. The dtypes are NumPy's too, including mixed ones: float32
parameters with float64 gradients give float64 results. When NumPy would evaluate the formula in
more than one precision (an integer gradient squared as an integer, a float16 array, a float64
NumPy scalar meeting float32 arrays, a float32 state meeting a float64 gradient), the rule runs
NumPy's own formula instead, so the result is still exactly NumPy's.

Arrays whose shapes differ from ``w``'s raise ``ValueError`` naming the argument (cs231n's code
would broadcast or fail later); ``sgd`` on a read-only ``w`` raises NumPy's
``ValueError: output array is read-only``.
"""

import numpy as np

from . import _core

__all__ = ["sgd", "sgd_momentum", "rmsprop", "adam"]

_MISSING = object()
#: ``next_w`` of at least this many bytes comes from _core's recycling allocator: in a training loop
#: the previous ``w`` dies at every step, and reusing its pages avoids faulting in fresh ones.
_RECYCLE_BYTES = 1 << 20
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: NumPy >= 2 types Python scalars by kind only (NEP 50); older NumPy looks at their values.
_NEP50 = int(np.__version__.split(".")[0]) >= 2


# ----------------------------------------------------------------------------------------------
# cs231n's formulas, operation by operation. They are the fallback when the kernels cannot give
# NumPy's result, and, run on one-element arrays, they tell which dtype NumPy uses at each step.
# Each returns (next_w, new state arrays, every other array it computed).


def _sgd_formula(w, dw, lr):
    t = lr * dw
    return w - t, (), (t,)


def _momentum_formula(w, dw, v, lr, momentum):
    a = momentum * v
    b = lr * dw
    v = a - b
    return w + v, (v,), (a, b)


def _rmsprop_formula(w, dw, cache, lr, decay_rate, one_minus_decay, eps):
    a = decay_rate * cache
    b = dw**2
    c = one_minus_decay * b
    cache = a + c
    d = lr * dw
    e = np.sqrt(cache)
    f = e + eps
    g = d / f
    return w - g, (cache,), (a, b, c, d, e, f, g)


def _adam_formula(w, dw, m, v, lr, beta1, one_minus_beta1, bias1, beta2, one_minus_beta2, bias2, eps):
    a = beta1 * m
    c = one_minus_beta1 * dw
    m = a + c
    mt = m / bias1
    d = beta2 * v
    e = dw**2
    f = one_minus_beta2 * e
    v = d + f
    vt = v / bias2
    g = lr * mt
    h = np.sqrt(vt)
    i = h + eps
    j = g / i
    return w - j, (m, v), (a, c, mt, d, e, f, vt, g, h, i, j)


_FORMULAS = {
    "sgd": _sgd_formula,
    "sgd_momentum": _momentum_formula,
    "rmsprop": _rmsprop_formula,
    "adam": _adam_formula,
}

# ----------------------------------------------------------------------------------------------
# Which precision NumPy computes in: one probe per combination of dtypes and scalar types.

_PLANS = {}


def _scalar_key(x):
    t = type(x)
    if _NEP50:
        return t if t is float or t is int else (t, getattr(x, "dtype", None))
    return (t, getattr(x, "dtype", None), float(x))  # value-based casting: the value matters


def _plan(rule, w, dw, states, scalars):
    """The dtype in which NumPy computes every step of ``rule``'s formula, or None when the steps
    use different dtypes (or not float32/float64), or the formula fails."""
    try:
        key = (rule, w.dtype, dw.dtype, tuple(s.dtype for s in states), tuple(map(_scalar_key, scalars)))
        return _PLANS[key]
    except KeyError:
        pass
    except (TypeError, ValueError):  # an unhashable or unconvertible scalar: NumPy's formula decides
        return None
    try:
        with np.errstate(all="ignore"):
            probe = [np.ones(1, dtype=a.dtype) for a in (w, dw) + tuple(states)]
            next_w, new_states, steps = _FORMULAS[rule](*probe, *scalars)
        dtype = next_w.dtype
        uniform = dtype in _KERNEL_DTYPES and all(
            isinstance(a, np.ndarray) and a.dtype == dtype for a in new_states + steps
        )
        plan = dtype if uniform else None
    except Exception:
        plan = None
    if len(_PLANS) >= 4096:  # only reachable with value-keyed scalars (NumPy < 2): stay bounded
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


# ----------------------------------------------------------------------------------------------
# Shared machinery


def _check_shape(name, a, shape):
    s = a.shape if isinstance(a, np.ndarray) else np.shape(a)
    if s != shape:
        raise ValueError("%s: expected shape %s (the shape of w), got %s" % (name, shape, s))


def _owns_apart(s, others):
    """True when ``s`` owns its memory and none of ``others`` is ``s`` or a view of it."""
    if s.base is not None:
        return False
    for o in others:
        if o is s or getattr(o, "base", None) is s:
            return False
    return True


def _as_kernel(a, dtype):
    """``a`` as an aligned C-contiguous array of ``dtype`` (no copy when it already is one)."""
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned:
        return a
    return np.array(a, dtype=dtype, order="C")  # a copy: asarray would keep an unaligned buffer


def _kernel_states(states, dtype, inputs):
    """The state arrays the kernel updates: each one itself when it can be written in place (it owns
    its memory, which none of ``inputs`` shares), else a new C-contiguous copy in ``dtype`` (which
    the caller then stores in ``config``)."""
    out = []
    for s in states:
        if (
            s.dtype == dtype
            and s.flags.c_contiguous
            and s.flags.aligned
            and s.flags.writeable
            and _owns_apart(s, inputs + tuple(out))
        ):
            out.append(s)
        else:
            out.append(np.array(s, dtype=dtype, order="C"))
    return out


def _update(rule, w, dw, states, scalars):
    """``(next_w, new_states)``: by the kernel when it gives NumPy's result, else by the formula."""
    if (
        type(w) is np.ndarray
        and type(dw) is np.ndarray
        and all(type(s) is np.ndarray for s in states)
        and w.ndim  # NumPy gives scalars, not 0-d arrays, for 0-d inputs
    ):
        dtype = _plan(rule, w, dw, states, scalars)
        if dtype is not None:
            wk = _as_kernel(w, dtype)
            dwk = _as_kernel(dw, dtype)
            ks = _kernel_states(states, dtype, (w, dw, wk, dwk))
            if w.size * dtype.itemsize >= _RECYCLE_BYTES:  # reuses the memory of a dead next_w
                out = _core.optim_out(w.shape, dtype)
            else:
                out = np.empty(w.shape, dtype=dtype)
            _core.optim_step(rule, wk, dwk, ks, [float(x) for x in scalars], out)
            return out, ks
    next_w, new_states, _ = _FORMULAS[rule](w, dw, *states, *scalars)
    return next_w, new_states


# ----------------------------------------------------------------------------------------------
# The update rules


def sgd(w, dw, config=None):
    """
    Performs vanilla stochastic gradient descent.

    config format:
    - learning_rate: Scalar learning rate.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    _check_shape("dw", dw, np.shape(w))
    lr = config["learning_rate"]

    if type(w) is np.ndarray and type(dw) is np.ndarray and w.flags.writeable:
        dtype = _plan("sgd", w, dw, (), (lr,))
        if dtype is not None and (w.dtype == dtype or np.can_cast(dtype, w.dtype, "same_kind")):
            dwk = _as_kernel(dw, dtype)
            if w.dtype == dtype and w.flags.c_contiguous and w.flags.aligned and not np.may_share_memory(w, dwk):
                _core.optim_step("sgd", w, dwk, [], [float(lr)])
            else:  # through a temporary: another dtype or layout, or dw overlapping w
                tmp = np.empty(w.shape, dtype=dtype)
                _core.optim_step("sgd", _as_kernel(w, dtype), dwk, [], [float(lr)], tmp)
                np.copyto(w, tmp, casting="same_kind")
            return w, config

    w -= lr * dw  # NumPy's own semantics (and errors: read-only w, integer w)
    return w, config


def sgd_momentum(w, dw, config=None):
    """
    Performs stochastic gradient descent with momentum.

    config format:
    - learning_rate: Scalar learning rate.
    - momentum: Scalar between 0 and 1 giving the momentum value.
      Setting momentum = 0 reduces to sgd.
    - velocity: A numpy array of the same shape as w and dw used to store a
      moving average of the gradients.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", _MISSING)
    if v is _MISSING:
        v = np.zeros_like(w)

    shape = np.shape(w)
    _check_shape("dw", dw, shape)
    if isinstance(v, np.ndarray):
        _check_shape("velocity", v, shape)
    next_w, (v,) = _update("sgd_momentum", w, dw, (v,), (config["learning_rate"], config["momentum"]))
    config["velocity"] = v

    return next_w, config


def rmsprop(w, dw, config=None):
    """
    Uses the RMSProp update rule, which uses a moving average of squared
    gradient values to set adaptive per-parameter learning rates.

    config format:
    - learning_rate: Scalar learning rate.
    - decay_rate: Scalar between 0 and 1 giving the decay rate for the squared
      gradient cache.
    - epsilon: Small scalar used for smoothing to avoid dividing by zero.
    - cache: Moving average of second moments of gradients.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    if "cache" not in config:  # setdefault, without allocating when the key is there
        config["cache"] = np.zeros_like(w)

    shape = np.shape(w)
    _check_shape("dw", dw, shape)
    cache = config["cache"]
    if isinstance(cache, np.ndarray):
        _check_shape("cache", cache, shape)
    decay_rate = config["decay_rate"]
    scalars = (config["learning_rate"], decay_rate, 1 - decay_rate, config["epsilon"])
    next_w, (config["cache"],) = _update("rmsprop", w, dw, (cache,), scalars)

    return next_w, config


def adam(w, dw, config=None):
    """
    Uses the Adam update rule, which incorporates moving averages of both the
    gradient and its square and a bias correction term.

    config format:
    - learning_rate: Scalar learning rate.
    - beta1: Decay rate for moving average of first moment of gradient.
    - beta2: Decay rate for moving average of second moment of gradient.
    - epsilon: Small scalar used for smoothing to avoid dividing by zero.
    - m: Moving average of gradient.
    - v: Moving average of squared gradient.
    - t: Iteration number (incremented before use).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    if "m" not in config:  # setdefault, without allocating when the key is there
        config["m"] = np.zeros_like(w)
    if "v" not in config:
        config["v"] = np.zeros_like(w)
    config.setdefault("t", 0)

    config["t"] += 1
    shape = np.shape(w)
    _check_shape("dw", dw, shape)
    m, v = config["m"], config["v"]
    for name, s in (("m", m), ("v", v)):
        if isinstance(s, np.ndarray):
            _check_shape(name, s, shape)
    next_w, (config["m"], config["v"]) = _update("adam", w, dw, (m, v), _adam_scalars(config))

    return next_w, config


def _adam_scalars(config):
    """The kernel's scalars, computed in Python exactly as cs231n's formula computes them."""
    t, beta1, beta2 = config["t"], config["beta1"], config["beta2"]
    return (
        config["learning_rate"],
        beta1,
        1 - beta1,
        1 - beta1**t,
        beta2,
        1 - beta2,
        1 - beta2**t,
        config["epsilon"],
    )


# ----------------------------------------------------------------------------------------------
# The Solver's fast path: every parameter of a model updated in place, in one Rust call.

#: rule name -> (hyper-parameter defaults in cs231n's setdefault order, state keys)
_SPECS = {
    "sgd": ((("learning_rate", 1e-2),), ()),
    "sgd_momentum": ((("learning_rate", 1e-2), ("momentum", 0.9)), ("velocity",)),
    "rmsprop": ((("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)), ("cache",)),
    "adam": ((("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)), ("m", "v")),
}


def _fast_scalars(rule, config):
    if rule == "sgd":
        return (config["learning_rate"],)
    if rule == "sgd_momentum":
        return (config["learning_rate"], config["momentum"])
    if rule == "rmsprop":
        decay_rate = config["decay_rate"]
        return (config["learning_rate"], decay_rate, 1 - decay_rate, config["epsilon"])
    t, beta1, beta2 = config["t"] + 1, config["beta1"], config["beta2"]
    return (config["learning_rate"], beta1, 1 - beta1, 1 - beta1**t, beta2, 1 - beta2, 1 - beta2**t, config["epsilon"])


def _prepare_in_place(rule, w, dw, config, params_ids, used):
    """The batch item updating ``w`` in place as ``rule(w, dw, config)`` would (mutating ``config``
    as the rule does), or None when only the rule itself gives its exact result (``config`` is then
    left as the rule will find it: defaults set, state created, ``t`` not yet incremented)."""
    if type(w) is not np.ndarray or type(dw) is not np.ndarray or type(config) is not dict:
        return None
    flags = w.flags
    if w.base is not None or not (flags.c_contiguous and flags.aligned and flags.writeable) or id(w) in params_ids[1]:
        return None
    defaults, keys = _SPECS[rule]
    for k, d in defaults:
        config.setdefault(k, d)
    shape = w.shape
    states = []
    for k in keys:
        s = config.get(k, _MISSING)
        if s is _MISSING:
            s = np.zeros_like(w)
            if rule != "sgd_momentum":  # velocity is stored only after the update
                config[k] = s
        if type(s) is not np.ndarray or s.shape != shape:
            return None
        states.append(s)
    if rule == "adam":
        config.setdefault("t", 0)
    if dw.shape != shape:
        return None
    try:
        scalars = _fast_scalars(rule, config)
        dtype = _plan(rule, w, dw, states, scalars)
        kscalars = [float(x) for x in scalars]
    except Exception:  # the rule will raise it
        return None
    if dtype != w.dtype:  # next_w would have another dtype: not in place
        return None
    dwk = _as_kernel(dw, dtype)
    if dwk is dw and (dw is w or dw.base is w):
        dwk = dw.copy()
    for i, s in enumerate(states):
        if not (
            s.dtype == dtype
            and s.flags.c_contiguous
            and s.flags.aligned
            and s.flags.writeable
            and s.base is None
            and s is not dwk
            and s is not dw
            and dwk.base is not s
            and dw.base is not s
            and id(s) not in used
        ):
            s = states[i] = np.array(s, dtype=dtype, order="C")
        used.add(id(s))
        config[keys[i]] = s
    if rule == "adam":
        config["t"] += 1
    return (w, dwk, states, kscalars)


def _update_all(fn, rule, params, grads, configs):
    """``for p, w in params.items(): params[p], configs[p] = fn(w, grads[p], configs[p])`` with
    ``fn`` cs231n_rs's own ``rule``: parameters that can be are updated in place, all in one Rust
    call, with the values, dtypes and config changes the loop would give."""
    ids = {id(w) for w in params.values()}
    bases = {id(w.base) for w in params.values() if getattr(w, "base", None) is not None}
    # Anything the loop reads that is (a view of) a parameter: in place would change what it reads.
    for p in params:
        dw = grads[p]
        config = configs[p]
        others = [dw] + (list(config.values()) if type(config) is dict else [])
        for a in others:
            if isinstance(a, np.ndarray) and (id(a) in ids or id(a.base) in ids):
                ids = None
                break
        if ids is None:
            break
    pending = []
    used = set()
    try:
        for p, w in params.items():
            dw = grads[p]
            config = configs[p]
            item = None if ids is None else _prepare_in_place(rule, w, dw, config, (ids, bases), used)
            if item is None:
                if pending:
                    _core.optim_step_many(rule, pending)
                    pending = []
                    used = set()
                next_w, next_config = fn(w, dw, config)
                params[p] = next_w
                configs[p] = next_config
            else:
                pending.append(item)
    finally:
        if pending:
            _core.optim_step_many(rule, pending)
