"""The student's package, imported in isolation, and the detection of starter stubs.

The worker imports every cs231n_rs module it needs *before* the student's folder goes on
``sys.path``, so ``cs231n_rs`` (and numpy) can never resolve to a file of the student's; the
student's ``cs231n`` is then imported from that folder only. When a package ``__init__`` of the
student's fails (``cs231n/classifiers/__init__.py`` imports the classifiers), the module is imported
again under bare packages, so that one broken module does not hide the others.
"""

import ast
import importlib
import inspect
import os
import re
import sys
import textwrap
import traceback
import types

PACKAGE = "cs231n"

_START = re.compile(r"START OF YOUR CODE|TODO")
_END = re.compile(r"END OF YOUR CODE")


def forget_student_modules():
    for name in list(sys.modules):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            del sys.modules[name]


def put_first_on_path(folder):
    """``folder`` first on sys.path ('' and the folder itself removed from the rest)."""
    folder = os.path.abspath(folder)
    sys.path[:] = [folder] + [p for p in sys.path if p not in ("", ".", folder)]


def _bare_packages(folder):
    """Empty package modules for ``cs231n`` and ``cs231n.classifiers`` (their __init__ not run)."""
    for name, sub in ((PACKAGE, PACKAGE), (PACKAGE + ".classifiers", os.path.join(PACKAGE, "classifiers"))):
        path = os.path.join(folder, sub)
        module = types.ModuleType(name)
        module.__path__ = [path]
        module.__file__ = os.path.join(path, "__init__.py")
        module.__package__ = name
        sys.modules[name] = module
    sys.modules[PACKAGE].classifiers = sys.modules[PACKAGE + ".classifiers"]


def describe_exception(exc, folder=None):
    """``SyntaxError: invalid syntax (cs231n/layers.py, line 12)``: the exception and where it
    happened in the student's files (the innermost frame under ``folder``)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = exc.filename
        if folder:
            where = os.path.relpath(where, folder)
        return "%s: %s (%s, line %s)" % (type(exc).__name__, exc.msg, where, exc.lineno)
    text = "%s: %s" % (type(exc).__name__, exc)
    frames = traceback.extract_tb(exc.__traceback__)
    if folder:
        mine = [f for f in frames if os.path.abspath(f.filename).startswith(os.path.abspath(folder) + os.sep)]
        if mine:
            f = mine[-1]
            text += " (%s, line %s)" % (os.path.relpath(f.filename, folder), f.lineno)
    return text[:500]


def import_module(folder, dotted):
    """Imports ``cs231n.<dotted>`` from ``folder``; returns ``(module, note)`` or raises.

    ``note`` says when the package __init__ failed and the module was imported without it."""
    full = PACKAGE + "." + dotted
    forget_student_modules()
    importlib.invalidate_caches()
    try:
        return importlib.import_module(full), None
    except BaseException as exc:  # noqa: BLE001 - any failure of the student's import
        first = exc
    if isinstance(first, KeyboardInterrupt):
        raise first
    # Did the module itself fail, or a package __init__ on the way?
    forget_student_modules()
    _bare_packages(folder)
    try:
        module = importlib.import_module(full)
    except BaseException:  # noqa: BLE001
        raise first from None
    return module, "imported without the package __init__, which fails: %s" % describe_exception(first, folder)


def lookup(module, attrs):
    """``module.A.b`` for attrs ``["A", "b"]``, or None when missing."""
    obj = module
    for a in attrs:
        obj = getattr(obj, a, None)
        if obj is None:
            return None
    return obj


def _only_pass(lines):
    code = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    return all(c == "pass" for c in code)


def _regions(lines):
    """The starter's answer regions: from a TODO / START OF YOUR CODE comment to the next
    END OF YOUR CODE comment."""
    regions = []
    start = None
    for i, ln in enumerate(lines):
        s = ln.strip()
        if not s.startswith("#"):
            continue
        if start is None and _START.search(s) and not _END.search(s):
            start = i
        elif start is not None and _END.search(s):
            regions.append(lines[start + 1 : i])
            start = None
    return regions


def _trivial_body(func_node):
    """True when the body is only a docstring, ``pass``, assignments of None / zeros, and returns
    of names or None (the starter's skeleton with nothing written)."""
    body = list(func_node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    for node in body:
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Return):
            continue
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Tuple)):
            continue
        return False
    return True


def is_stub(fn):
    """True when ``fn`` (a function or method) still has the starter's empty body: every answer
    region holds only ``pass`` and comments, or, without markers, the body is a bare skeleton."""
    fn = getattr(fn, "__func__", fn)
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return False
    lines = source.splitlines()
    regions = _regions(lines)
    if regions:
        if all(_only_pass(r) for r in regions):
            return True
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    node = tree.body[0] if tree.body else None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _trivial_body(node) and any(isinstance(n, ast.Pass) for n in ast.walk(node))
    return False


def is_none_result(out):
    """None, or a tuple whose every item is None (``return None, None, None``)."""
    if out is None:
        return True
    if isinstance(out, tuple) and out and all(o is None for o in out):
        return True
    return False
