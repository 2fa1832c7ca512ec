"""Reusable checks of a layer: a forward pass against the reference, and a backward pass fed by the
student's own forward (its cache), against the reference's gradients and numeric gradients."""

import copy

import numpy as np

from ._context import NotImplementedResult, StudentError, copies

#: Exceptions that, raised by a backward pass given its forward's cache, point at the cache.
_CACHE_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError)


def as_tuple(v):
    return v if isinstance(v, tuple) else (v,)


def check_forward(c, fn, ref, cases, names=("out",), after=None):
    """For each ``(label, args)``: the student's ``fn(*args)`` against ``ref(*args)`` (the first
    ``len(names)`` items of the results; the cache is not compared). ``after(c, args_student,
    args_ref)`` compares side effects (parameter dicts)."""
    for label, args in cases:
        c.set_case(label)
        mine, theirs = copies(*args), copies(*args)
        got = as_tuple(c.result_of(fn, *theirs))
        want = as_tuple(ref(*mine))
        if len(names) > 1 and len(got) < len(names):
            c.fail("result", "returns %d values, expected %d" % (len(got), len(names)))
            continue
        for i, name in enumerate(names):
            c.compare(name, got[i], want[i])
        _unchanged(c, args, theirs)
        if after is not None:
            after(c, theirs, mine)


def _unchanged(c, originals, used):
    """The student's function must not modify its input arrays."""
    for a, b in zip(originals, used):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape:
            if not np.array_equal(a, b):
                c.fail("inputs", "modifies its input array in place")
                c.hint("Your function modifies its input array: work on a copy (e.g. np.pad returns a new array).")


def check_backward(c, fn, fwd_name, ref_fwd, ref_bwd, cases, wrt, grad_names, fixed_cache, numeric=True,
                   cache_hint=None):
    """For each ``(label, args)``: the gradients of ``fn(dout, cache)``, the cache coming from the
    student's own forward ``fwd_name`` (or, for the starter's fixed caches, the reference's when the
    student's forward is missing), against the reference's gradients and, for float64 cases, against
    the numeric gradients of that forward with respect to ``args[i] for i in wrt``."""
    student_fwd = c.sibling(fwd_name)
    for label, args in cases:
        c.set_case(label)
        ref_out, ref_cache = ref_fwd(*copies(*args))
        dout = c.randn(*np.shape(ref_out), dtype=np.asarray(ref_out).dtype)
        want = as_tuple(ref_bwd(dout.copy(), ref_cache))
        fwd = None
        cache = ref_cache
        if student_fwd is not None:
            try:
                out = c.call(student_fwd, *copies(*args))
                if isinstance(out, tuple) and len(out) == 2 and out[0] is not None:
                    fwd, cache = student_fwd, out[1]
            except StudentError:
                pass
        if fwd is None and not fixed_cache:
            raise StudentError(label, "cannot be checked without a working %s (its cache is the input)" % fwd_name)
        try:
            got = as_tuple(c.result_of(fn, dout.copy(), cache))
        except StudentError as exc:
            if fwd is not None and _cache_problem(c, fn, dout, ref_cache, fixed_cache, exc):
                c.fail("call", "raises on the cache %s returns: %s" % (fwd_name, exc.message))
                c.hint(cache_hint or ("%s cannot use the cache your %s returns: store in the cache exactly what "
                                      "the backward pass unpacks." % (c.name.split(".")[-1], fwd_name)))
                continue
            raise
        if len(got) < len(grad_names):
            c.fail("result", "returns %d values, expected %d (%s)" % (len(got), len(grad_names),
                                                                      ", ".join(grad_names)))
            continue
        # The floor of rel_error follows the largest gradient of the case: a gradient that is zero
        # in theory (db before a batchnorm) is all rounding noise.
        scale = max(float(np.max(np.abs(np.asarray(w, dtype=np.float64)))) for w in want if np.size(w))
        for i, name in enumerate(grad_names):
            if not c.compare(name, got[i], want[i], scale=scale):
                g = np.asarray(got[i]) if got[i] is not None else None
                if g is not None and g.shape != np.shape(want[i]) and g.size == np.size(want[i]):
                    c.hint("%s has the right number of values but the shape %s: reshape it to %s (the shape of "
                           "the input)." % (name, g.shape, np.shape(want[i])))
        if fwd is not None and c.failing and not _same_forward(out[0], ref_out):
            c.hint("Your %s is wrong too, and its cache feeds this backward pass: fix the forward pass first."
                   % fwd_name)
        if numeric and np.asarray(ref_out).dtype == np.float64:
            f = fwd or ref_fwd
            for i, name in zip(wrt, grad_names):
                num = c.numeric_grad(_perturbed(c, f, args, i), np.array(args[i], dtype=np.float64), dout)
                c.compare(name + " vs numeric", got[grad_names.index(name)], num, kind="numeric", scale=scale)


def _same_forward(out, ref_out):
    from ._compare import close

    return close(out, ref_out, 1e-6, 1e-6)


def _cache_problem(c, fn, dout, ref_cache, fixed_cache, exc):
    if fixed_cache:
        try:
            c.call(fn, dout.copy(), ref_cache)
            return True  # works on the starter's cache, fails on the student's own
        except StudentError:
            return False
    return exc.message.split(":")[0] in {e.__name__ for e in _CACHE_ERRORS}


def _perturbed(c, fwd, args, i):
    def f(a):
        call_args = [a if j == i else copy.deepcopy(v) for j, v in enumerate(args)]
        out = fwd(*call_args)
        if out is None or out[0] is None:
            raise NotImplementedResult()
        return np.asarray(out[0])

    return f


def check_loss_grad(c, fn, ref, cases, numeric=True):
    """Loss layers ``fn(x, y) -> (loss, dx)``: loss and dx against the reference and dx against the
    numeric gradient of the student's loss (float64 cases)."""
    for label, (x, y) in cases:
        c.set_case(label)
        got = as_tuple(c.result_of(fn, x.copy(), y.copy()))
        want = ref(x.copy(), y.copy())
        if len(got) < 2:
            c.fail("result", "returns %d values, expected (loss, dx)" % len(got))
            continue
        c.compare("loss", got[0], want[0])
        c.compare("dx", got[1], want[1])
        if numeric and x.dtype == np.float64:
            num = c.numeric_grad(lambda a: float(np.asarray(fn(a, y.copy())[0])), x.copy())
            c.compare("dx vs numeric", got[1], num, kind="numeric")
