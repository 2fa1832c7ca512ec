"""One function's check in the worker: stub detection, the spec's check, the timing, the result."""

import numpy as np

from . import _student
from ._context import Check, NotImplementedResult, StudentError
from ._notebook import EXPECTS
from ._timing import TimeCap, compare_times


def _find(module, spec):
    fn = _student.lookup(module, spec.attrs)
    for alt in spec.aliases:
        if fn is not None:
            break
        fn = _student.lookup(module, alt)
    return fn


def _stubs(spec, fn):
    if spec.stub_methods:
        return [m for m in spec.stub_methods if getattr(fn, m, None) is not None and _student.is_stub(getattr(fn, m))]
    return ["body"] if _student.is_stub(fn) else []


def run_spec(spec, module, folder, job):
    """The result dict of ``spec`` against the student's ``module``."""
    result = {"function": spec.name, "status": None, "max_rel_error": None, "case": None, "hint": None,
              "speedup": None}
    fn = _find(module, spec)
    if fn is None:
        result["status"] = "absent"
        return result
    stubs = _stubs(spec, fn)
    c = Check(spec.name, module, folder, case_cap=job.get("case_cap", 30.0))
    message = None
    try:
        np.random.seed(0)
        spec.check(c, fn)
        status = "wrong" if c.failing else "ok"
    except NotImplementedResult:
        status = "not implemented"
    except StudentError as exc:
        status = "error"
        message = exc.message
        result["case"] = exc.case
    except Exception as exc:  # noqa: BLE001 - a result of an unexpected type, or a bug of the check
        status = "error"
        message = "the check could not use the result: %s" % _student.describe_exception(exc, folder)
        result["case"] = c.case
    if stubs and status != "ok":
        status = "not implemented"
        message = None if stubs == ["body"] else "starter stub: %s" % ", ".join(stubs)
        c.hints = []
    worst = c.worst()
    if status in ("ok", "wrong") and worst is not None:
        result["max_rel_error"] = worst["err"] if np.isfinite(worst["err"]) else None
        result["case"] = "%s: %s" % (worst["case"], worst["what"]) if worst["case"] else worst["what"]
        if status == "wrong":
            message = worst["message"] or "%s: rel error %.2e > %.0e" % (worst["what"], worst["err"], worst["tol"])
    result["status"] = status
    if c.hints and status in ("wrong", "error"):
        result["hint"] = c.hints[0]
    if message:
        result["message"] = message
    if c.notes:
        result["notes"] = list(c.notes)
    if spec.name in EXPECTS:
        result["notebook_expects"] = EXPECTS[spec.name]
    if status in ("ok", "wrong") and job.get("speed") and spec.speed is not None:
        result.update(_time(spec, c, fn, job["cap"]))
    return result


def _time(spec, c, fn, cap):
    c.set_case("speed")
    c.case_cap = max(5.0, 2 * cap)
    try:
        student_call, our_call = spec.speed(c, fn)
        theirs, ours, capped = compare_times(student_call, our_call, cap)
    except (StudentError, NotImplementedResult) as exc:
        return {"speed_error": getattr(exc, "message", "not implemented at assignment size")}
    except TimeCap:  # pragma: no cover - compare_times handles its own caps
        return {"speed_error": "the time cap expired outside the timed call"}
    except Exception as exc:  # noqa: BLE001 - a spec's speed input the student's code rejects
        return {"speed_error": "%s: %s" % (type(exc).__name__, exc)}
    return {"speedup": theirs / max(ours, 1e-9), "speed_capped": capped, "student_seconds": theirs,
            "ours_seconds": ours, "speed_case": spec.speed.__doc__.strip() if spec.speed.__doc__ else None}
