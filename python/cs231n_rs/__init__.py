"""cs231n-rs: the CS231n assignment code, computed in Rust.

Every ``cs231n.X`` module has a twin ``cs231n_rs.X`` with the same names, signatures, return values
and caches. The heavy loops run in the compiled extension ``cs231n_rs._core``; a readable NumPy
implementation of everything lives in :mod:`cs231n_rs.reference` and is what the tests compare with.

Threads: ``set_num_threads(n)`` / ``get_num_threads()``, or the environment variable
``CS231N_RS_NUM_THREADS`` read at import. Results are bit-identical for any thread count.

Notebooks: ``install_as_cs231n()`` makes ``import cs231n`` resolve to this package.
"""

from . import _core
from ._compat import install_as_cs231n, uninstall_as_cs231n
from ._validate import as_int

__version__: str = _core.__version__
NUM_THREADS_ENV_VAR: str = _core.NUM_THREADS_ENV_VAR


def set_num_threads(n: int) -> None:
    """Sets the number of threads the Rust kernels use (``n >= 1``). Results do not depend on it."""
    _core.set_num_threads(as_int(n, "n"))


def get_num_threads() -> int:
    """The number of threads the Rust kernels use."""
    return _core.get_num_threads()


__all__ = [
    "__version__",
    "set_num_threads",
    "get_num_threads",
    "install_as_cs231n",
    "uninstall_as_cs231n",
    "NUM_THREADS_ENV_VAR",
]
