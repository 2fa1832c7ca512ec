"""The worker process: imports one module of the student's package in isolation and checks the
requested functions, writing one JSON line per event to the protocol stream.

Started by the parent as ``python -c BOOT JOB`` with the student's folder as working directory;
BOOT puts cs231n_rs's own folder first on sys.path, imports everything of ours, and only then puts
the student's folder first (see :mod:`._student`). The student's prints go to stderr.
"""

import json
import os
import sys
import time

#: Prefix of the protocol lines (the parent ignores anything else).
MARK = "@@cs231n-rs-check@@ "


def _preimport():
    """Everything of ours (and the libraries the specs use) before the student's folder is on
    sys.path: afterwards these names can only resolve to the modules already loaded."""
    import numpy  # noqa: F401

    import cs231n_rs  # noqa: F401
    import cs231n_rs.classifiers  # noqa: F401
    import cs231n_rs.classifiers.cnn  # noqa: F401
    import cs231n_rs.classifiers.fc_net  # noqa: F401
    import cs231n_rs.features  # noqa: F401
    import cs231n_rs.gradient_check  # noqa: F401
    import cs231n_rs.layer_utils  # noqa: F401
    import cs231n_rs.layers  # noqa: F401
    import cs231n_rs.optim  # noqa: F401
    import cs231n_rs.reference  # noqa: F401
    import cs231n_rs.reference.features  # noqa: F401

    from . import _specs

    _specs.all_specs()


def _unavailable(specs):
    """``{spec name: why}`` for the specs whose check needs a library (``Spec.needs``: torch) that this
    Python cannot import. Imported here, before the student's folder goes on sys.path."""
    import importlib

    why, out = {}, {}
    for s in specs:
        for lib in s.needs:
            if lib not in why:
                try:
                    importlib.import_module(lib)
                    why[lib] = None
                except Exception as exc:  # noqa: BLE001 - a missing or broken install
                    why[lib] = "%s: %s" % (type(exc).__name__, exc)
            if why[lib] and s.name not in out:
                out[s.name] = (lib, why[lib], s.needs)
    return out


def not_checked_result(name, lib, why, needs=()):
    """The result of a function whose check needs ``lib`` (of ``needs``), which this Python cannot import."""
    libs = " and ".join(needs or (lib,))
    return {"function": name, "status": "not checked", "max_rel_error": None, "case": None,
            "hint": "Install %s in this Python (%s) to check this function." % (libs, sys.executable),
            "speedup": None, "message": "needs %s, which this Python cannot import (%s)" % (lib, why)}


class _Protocol:
    def __init__(self):
        # Our own copy of the real stdout; fd 1 then points at stderr, so that whatever the
        # student's code prints (even from C) cannot corrupt the protocol.
        self._out = os.fdopen(os.dup(1), "w", buffering=1)
        sys.stdout.flush()
        os.dup2(2, 1)

    def send(self, **event):
        self._out.write(MARK + json.dumps(event, default=_jsonable) + "\n")
        self._out.flush()


def _jsonable(v):
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def main(job_json):
    job = json.loads(job_json)
    proto = _Protocol()
    _preimport()
    from . import _specs, _student

    specs = {s.name: s for s in _specs.all_specs()}
    # Without torch the student's net_visualization_pytorch.py cannot even be imported: not their fault.
    missing = _unavailable([specs[n] for n in job["functions"]])
    for name, (lib, why, needs) in missing.items():
        proto.send(event="start", function=name)
        proto.send(event="result", result=not_checked_result(name, lib, why, needs))
    job["functions"] = [n for n in job["functions"] if n not in missing]
    if not job["functions"]:
        proto.send(event="done")
        return
    folder = job["folder"]
    _limit_memory(job.get("memory_bytes", 0))
    _student.put_first_on_path(folder)
    _student.forget_student_modules()
    try:
        module, note = _student.import_module(folder, job["module"])
    except BaseException as exc:  # noqa: BLE001 - the student's import may raise anything
        proto.send(event="module_error", error=_student.describe_exception(exc, folder))
        return
    _check_isolation(proto)
    from ._run_spec import run_spec

    for name in job["functions"]:
        proto.send(event="start", function=name)
        started = time.perf_counter()
        result = run_spec(specs[name], module, folder, job)
        if note:
            result.setdefault("notes", []).append(note)
        result["check_seconds"] = round(time.perf_counter() - started, 3)
        proto.send(event="result", result=result)
    proto.send(event="done")


def _limit_memory(nbytes):
    """Caps the data this process may allocate (RLIMIT_DATA: heap and anonymous mappings, where
    NumPy's arrays live; not the shared libraries), so that a blow-up is a MemoryError of the
    function that asked, not the machine's. Not available on Windows (no limit there)."""
    if nbytes <= 0:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            nbytes = min(nbytes, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (nbytes, hard))
    except (ImportError, AttributeError, ValueError, OSError):  # pragma: no cover - no such limit here
        pass


def _check_isolation(proto):
    """The student's folder must not have replaced any of our modules."""
    import cs231n_rs

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.dirname(os.path.abspath(cs231n_rs.__file__)) != here:  # pragma: no cover - defensive
        proto.send(event="module_error", error="cs231n_rs resolved to %s" % cs231n_rs.__file__)
        sys.exit(3)


def boot_code(root):
    """The ``python -c`` program of a worker whose cs231n_rs lives in ``root``."""
    return "import sys; sys.path.insert(0, %r); from cs231n_rs.check._worker import main; main(sys.argv[1])" % root
