"""Make ``import cs231n`` resolve to cs231n-rs, so an unmodified assignment notebook runs on it.

Nothing is shadowed until :func:`install_as_cs231n` is called. It installs a meta-path finder that
maps every ``cs231n`` / ``cs231n.X`` import to ``cs231n_rs`` / ``cs231n_rs.X`` (the same module
objects, so ``cs231n.optim is cs231n_rs.optim``). Modules already imported under the ``cs231n`` name
(a student's own package) are removed from ``sys.modules`` first, so later imports get ours.
"""

import importlib
import importlib.abc
import importlib.util
import sys

_ALIAS = "cs231n"
_TARGET = "cs231n_rs"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self._target = target

    def create_module(self, spec):
        return importlib.import_module(self._target)

    def exec_module(self, module):
        # The target module is already executed; keep it under both names.
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        real = _TARGET + fullname[len(_ALIAS):]
        if importlib.util.find_spec(real) is None:
            return None
        module = importlib.import_module(real)
        spec = importlib.util.spec_from_loader(fullname, _AliasLoader(real), is_package=hasattr(module, "__path__"))
        if hasattr(module, "__path__"):
            spec.submodule_search_locations = list(module.__path__)
        return spec


_finder = _AliasFinder()


def install_as_cs231n():
    """Makes ``import cs231n`` and ``from cs231n.X import ...`` resolve to cs231n-rs.

    Call it once at the top of a notebook, before the assignment's imports::

        import cs231n_rs; cs231n_rs.install_as_cs231n()
        from cs231n.classifiers import KNearestNeighbor   # cs231n_rs.classifiers.KNearestNeighbor
    """
    for name in [m for m in sys.modules if m == _ALIAS or m.startswith(_ALIAS + ".")]:
        mod = sys.modules[name]
        if not getattr(mod, "__name__", "").startswith(_TARGET):
            del sys.modules[name]
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall_as_cs231n():
    """Undoes :func:`install_as_cs231n`: ``import cs231n`` finds the student's own package again."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [m for m in sys.modules if m == _ALIAS or m.startswith(_ALIAS + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(_TARGET):
            del sys.modules[name]
