"""The table of checked functions: one :class:`Spec` per function or class of the cs231n surface.

A spec names where the function lives in the student's package (``module`` under ``cs231n``, and
``attrs`` inside it), the function that checks it (``check(c, fn)``, given a :class:`~._context.Check`
and the student's object) and the one that times it against ours (``speed(c, fn)``, returning
``(student_call, our_call)`` on an assignment-size input). The specs themselves are in the
``_specs_*`` modules, one per part of the assignments.
"""

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple


@dataclass
class Spec:
    module: str
    attrs: Tuple[str, ...]
    check: Callable
    speed: Optional[Callable] = None
    #: for classes: the methods whose starter stubs mean "not implemented"
    stub_methods: Tuple[str, ...] = ()
    #: a second name the function may have in older years (looked up when the first is missing)
    aliases: Tuple[Tuple[str, ...], ...] = ()
    extra: dict = field(default_factory=dict)
    #: libraries the check needs in this Python (torch): where one cannot be imported the function is
    #: reported as "not checked", without importing the student's module
    needs: Tuple[str, ...] = ()

    @property
    def name(self):
        return self.module + "." + ".".join(self.attrs)


_TABLE: List[Spec] = []


def spec(module, attrs, speed=None, stub_methods=(), aliases=(), needs=()):
    """Decorator registering ``check`` as the spec of ``module.attrs``."""
    if isinstance(attrs, str):
        attrs = tuple(attrs.split("."))

    def register(check):
        _TABLE.append(Spec(module, tuple(attrs), check, speed, tuple(stub_methods), tuple(aliases), needs=tuple(needs)))
        return check

    return register


def all_specs():
    """Every spec, in the report's order (the assignments' order)."""
    if not _TABLE:
        from . import _specs_features, _specs_knn, _specs_layers, _specs_linear, _specs_nets, _specs_optim  # noqa: F401
        from . import _specs_netvis  # noqa: F401
    order = ["layers", "optim", "classifiers.k_nearest_neighbor", "classifiers.linear_svm", "classifiers.softmax",
             "classifiers.linear_classifier", "classifiers.neural_net", "layer_utils", "classifiers.fc_net",
             "classifiers.cnn", "features", "net_visualization_pytorch"]
    return sorted(_TABLE, key=lambda s: order.index(s.module) if s.module in order else len(order))


def modules():
    """The student's modules the table covers, in order, each with its specs."""
    out = {}
    for s in all_specs():
        out.setdefault(s.module, []).append(s)
    return out


def select(only):
    """The specs whose ``module.function`` name contains one of the substrings in ``only``."""
    specs = all_specs()
    if not only:
        return specs
    return [s for s in specs if any(o in s.name for o in only)]
