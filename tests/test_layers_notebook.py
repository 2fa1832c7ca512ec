"""The notebook checks of ``test_reference_layers.py`` (numeric gradients at the notebooks'
tolerances, the values the cs231n notebooks print, dict side effects, errors), run unchanged
against the Rust package: the module's source is executed with its imports pointed at
``cs231n_rs.layers``, ``cs231n_rs.layer_utils`` and ``cs231n_rs.classifiers.fc_net``.

The few tests that inspect the reference's own opaque caches or module layout are listed in
``REFERENCE_ONLY`` and not repeated here.
"""

import pathlib

import pytest

REFERENCE_ONLY = {
    "test_submodules_exported",  # the reference package's own exports
}

_REWRITES = [
    ("from cs231n_rs.reference import fc_net, layer_utils, layers",
     "from cs231n_rs import layer_utils, layers\nfrom cs231n_rs.classifiers import fc_net"),
    ("from cs231n_rs.reference.fc_net import", "from cs231n_rs.classifiers.fc_net import"),
    ("from cs231n_rs.reference.layer_utils import", "from cs231n_rs.layer_utils import"),
    ("from cs231n_rs.reference.layers import", "from cs231n_rs.layers import"),
]


def _load():
    path = pathlib.Path(__file__).with_name("test_reference_layers.py")
    source = path.read_text()
    for old, new in _REWRITES:
        assert old in source, "test_reference_layers.py changed its imports: update _REWRITES (%r)" % old
        source = source.replace(old, new)
    namespace = {"__name__": "test_layers_notebook_rust", "__file__": str(path)}
    exec(compile(source, str(path) + " [run against cs231n_rs]", "exec"), namespace)
    return namespace


_ns = _load()
pytestmark = _ns.get("pytestmark", [])
for _name, _obj in list(_ns.items()):
    if _name.startswith("test_") and callable(_obj) and _name not in REFERENCE_ONLY:
        globals()[_name] = _obj
    elif _name.startswith("_") and not _name.startswith("__"):
        globals().setdefault(_name, _obj)
del _name, _obj
