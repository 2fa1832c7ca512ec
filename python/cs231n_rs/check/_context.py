"""What a spec's check works with: :class:`Check` runs the student's calls (time-capped, with the
case recorded), compares results with the reference, runs numeric gradient checks, and collects
errors, hints and notes into one result line."""

import copy

import numpy as np

from ..gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from . import _compare, _student
from ._timing import TimeCap, call_capped

#: Tolerances on cs231n's rel_error. The notebooks print errors "around e-8 or less" for a
#: correct implementation checked against fixed vectors; against the reference on the same inputs a
#: correct float64 implementation lands near 1e-12, a wrong one near 1e-1.
TOL_F64 = 1e-7
#: float32 results against the reference run on the same float32 inputs.
TOL_F32 = 1e-3
#: Analytic gradient against a centred-difference numeric gradient (h = 1e-5, float64).
TOL_NUMERIC = 1e-5
#: The floor of rel_error, relative to the largest entry, for each kind of comparison.
SCALE_FLOOR = {"f64": 1e-10, "f32": 1e-4, "numeric": 1e-5}

#: Seconds a single correctness case may take before it counts as an error.
CASE_CAP_S = 30.0


class NotImplementedResult(Exception):
    """The student's function returned None (or only Nones): a stub."""


class StudentError(Exception):
    """The student's code raised; carries the case and a one-line description."""

    def __init__(self, case, message):
        super().__init__("%s [case: %s]" % (message, case))
        self.case = case
        self.message = message


class Check:
    """The state of one function's check."""

    def __init__(self, name, module, folder, rng_seed=231, case_cap=CASE_CAP_S):
        self.name = name
        #: the student's module the function lives in (for its sibling forward passes)
        self.module = module
        self.folder = folder
        self.rng = np.random.RandomState(rng_seed)
        self.case_cap = case_cap
        self.records = []
        self.hints = []
        self.notes = []
        self.case = None

    # -- calling the student's code ----------------------------------------------------------

    def call(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` for the current case, time-capped; exceptions become StudentError."""
        try:
            return call_capped(lambda: fn(*args, **kwargs), self.case_cap)
        except TimeCap:
            raise StudentError(self.case, "took more than %g s on this small case" % self.case_cap) from None
        except KeyboardInterrupt:
            raise
        except SystemExit as exc:
            raise StudentError(self.case, "calls sys.exit(%r)" % (exc.code,)) from None
        except Exception as exc:  # noqa: BLE001 - the student's code may raise anything
            raise StudentError(self.case, _student.describe_exception(exc, self.folder)) from None

    def result_of(self, fn, *args, **kwargs):
        """Like :meth:`call`, and a None result (or only Nones) means "not implemented"."""
        out = self.call(fn, *args, **kwargs)
        if _student.is_none_result(out):
            raise NotImplementedResult()
        return out

    def sibling(self, name):
        """The student's function ``name`` of the same module when implemented (not a stub), else None."""
        fn = getattr(self.module, name, None) if self.module is not None else None
        if fn is None or _student.is_stub(fn):
            return None
        return fn

    # -- comparisons --------------------------------------------------------------------------

    def compare(self, what, got, want, kind=None, tol=None, scale=None):
        """Records the rel_error of ``got`` against ``want`` (kind: 'f64', 'f32' or 'numeric');
        ``scale``: the magnitude the floor of rel_error is relative to (default max|want|).

        Returns True when within the tolerance."""
        if kind is None:
            f32 = _is_f32(want) or _is_f32(got) or (self.case or "").startswith("f32")
            kind = "f32" if f32 else "f64"
        if tol is None:
            tol = {"f64": TOL_F64, "f32": TOL_F32, "numeric": TOL_NUMERIC}[kind]
        if got is None and want is not None:
            raise NotImplementedResult()
        why = _compare.mismatch(got, want, what)
        if why is not None:
            self.records.append(dict(err=float("inf"), tol=tol, case=self.case, what=what, message=why))
            return False
        note = _compare.dtype_note(got, want, what)
        if note and kind == "f32":
            self.note(note)
        err = _compare.rel_error(got, want, SCALE_FLOOR[kind], scale)
        self.records.append(dict(err=err, tol=tol, case=self.case, what=what, message=None))
        return err <= tol

    def fail(self, what, message):
        """Records a failure that is not a numeric difference (a missing key, a wrong type)."""
        self.records.append(dict(err=float("inf"), tol=0.0, case=self.case, what=what, message=message))

    def expect(self, condition, what, message):
        if not condition:
            self.fail(what, message)
        return condition

    def hint(self, text):
        if text not in self.hints:
            self.hints.append(text)

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    @property
    def failing(self):
        return any(r["err"] > r["tol"] for r in self.records)

    def numeric_grad(self, f, x, df=None):
        """The centred-difference gradient (cs231n's eval_numerical_gradient[_array], h = 1e-5) of the
        student's function ``f`` (time-capped as one case)."""
        try:
            if df is None:
                return call_capped(lambda: eval_numerical_gradient(f, x, verbose=False), self.case_cap)
            return call_capped(lambda: eval_numerical_gradient_array(f, x, df), self.case_cap)
        except TimeCap:
            raise StudentError(self.case, "numeric gradient took more than %g s" % self.case_cap) from None
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001
            raise StudentError(self.case, _student.describe_exception(exc, self.folder)) from None

    # -- inputs --------------------------------------------------------------------------------

    def randn(self, *shape, dtype=np.float64, scale=1.0):
        return (scale * self.rng.randn(*shape)).astype(dtype)

    def labels(self, n, c):
        return self.rng.randint(c, size=n)

    def set_case(self, label):
        self.case = label

    # -- the result ----------------------------------------------------------------------------

    def worst(self):
        """The record to report: the failing one with the largest error relative to its
        tolerance, or, when none fails, the largest error."""
        if not self.records:
            return None
        failing = [r for r in self.records if r["err"] > r["tol"]]
        pool = failing or self.records
        return max(pool, key=lambda r: (r["err"] / r["tol"]) if r["tol"] else float("inf"))


def _is_f32(a):
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype == np.float32


def copies(*arrays):
    """Deep copies (each call gets its own inputs; parameter dicts included)."""
    return [copy.deepcopy(a) for a in arrays]


def fresh_dicts(*args):
    """The arguments with parameter dicts copied (arrays shared): what a timed call gets, so that
    state written into bn_param / config by one run does not leak into the next."""
    return [copy.deepcopy(a) if isinstance(a, dict) else a for a in args]


def shape_label(dtype, **arrays):
    """``f64 x(2, 4) w(4, 3)``: the case label of a set of inputs."""
    tag = "f32" if np.dtype(dtype) == np.float32 else "f64"
    parts = []
    for k, v in arrays.items():
        if isinstance(v, np.ndarray):
            parts.append("%s%s" % (k, tuple(v.shape)))
        else:
            parts.append("%s=%s" % (k, v))
    return tag + " " + " ".join(parts)
