"""Type stubs of the compiled extension ``cs231n_rs._core`` (private: use the public modules)."""

from typing import Any, List, Literal, Mapping, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "conv_forward",
    "conv_backward",
    "im2col",
    "col2im",
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "mul",
    "score_loss",
    "channel_norm_forward",
    "channel_norm_backward",
    "group_norm_forward",
    "group_norm_backward",
    "dropout_forward",
    "dropout_forward_live",
    "l2_reg",
    "cast",
    "max_pool_forward",
    "max_pool_backward",
    "MAX_THREADS",
    "NUM_THREADS_ENV_VAR",
    "__version__",
    "gather_rows",
    "get_num_threads",
    "gray_probe",
    "hog_features",
    "hsv_histograms",
    "knn_vote",
    "l2_distances",
    "linear_loss",
    "linear_predict",
    "optim_step",
    "optim_out",
    "optim_step_many",
    "solver_update",
    "set_num_threads",
]
__version__: str
NUM_THREADS_ENV_VAR: str
MAX_THREADS: int

_Float = npt.NDArray[np.floating]
_Int = npt.NDArray[np.int64]

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def l2_distances(x: _Float, x_train: _Float) -> _Float: ...
def knn_vote(dists: _Float, y_train: _Int, k: int) -> _Int: ...
def gather_rows(x: _Float, idx: _Int) -> _Float: ...
def linear_loss(
    kind: Literal["svm", "svm_naive", "softmax"], w: _Float, x: _Float, y: _Int, reg: float, idx: Optional[_Int] = None
) -> Tuple[float, _Float]: ...
def linear_predict(w: _Float, x: _Float) -> _Int: ...

_Rule = Literal["sgd", "sgd_momentum", "rmsprop", "adam"]

def optim_step(
    rule: _Rule, w: _Float, dw: _Float, states: Sequence[_Float], scalars: Sequence[float], out: Optional[_Float] = None
) -> None: ...
def optim_step_many(
    rule: _Rule, items: List[Tuple[_Float, _Float, List[_Float], List[float]]]
) -> None: ...
def solver_update(
    rule: _Rule, params: Any, grads: Mapping[str, _Float], configs: Mapping[str, Any]
) -> bool: ...
def optim_out(shape: Tuple[int, ...], dtype: Any) -> _Float: ...
def hog_features(imgs: npt.NDArray[np.generic], gray: bool = False, rule: int = 0) -> npt.NDArray[np.float64]: ...
def hsv_histograms(
    imgs: npt.NDArray[np.generic], xmax: float, edges: npt.NDArray[np.float64], density: bool, compute_f32: bool = False
) -> npt.NDArray[np.float64]: ...
def gray_probe(rgb: npt.NDArray[np.float64], rule: int) -> npt.NDArray[np.float64]: ...

# layers (cs231n_rs.layers)
def affine_forward(x: _Float, w: _Float, b: _Float) -> _Float: ...
def affine_backward(
    dout: _Float, x: _Float, w: _Float, need_dx: bool = True
) -> Tuple[Optional[_Float], _Float, _Float]: ...
def relu_forward(x: _Float) -> _Float: ...
def relu_backward(dout: _Float, x: _Float) -> _Float: ...
def mul(x: _Float, mask: _Float) -> _Float: ...
def score_loss(kind: Literal["svm", "softmax"], x: _Float, y: _Int) -> Tuple[float, _Float]: ...
def channel_norm_forward(
    x: _Float,
    c: int,
    s: int,
    eps: float,
    gamma: _Float,
    beta: _Float,
    running_mean: Optional[_Float] = None,
    running_var: Optional[_Float] = None,
) -> Tuple[_Float, _Float, _Float]: ...
def channel_norm_backward(
    dout: _Float, x: _Float, c: int, s: int, mean: _Float, var: _Float, eps: float, gamma: _Float
) -> Tuple[_Float, _Float, _Float]: ...
def group_norm_forward(
    x: _Float, c: int, s: int, groups: int, eps: float, gamma: _Float, beta: _Float
) -> Tuple[_Float, _Float, _Float]: ...
def group_norm_backward(
    dout: _Float, x: _Float, c: int, s: int, groups: int, mean: _Float, var: _Float, eps: float, gamma: _Float
) -> Tuple[_Float, _Float, _Float]: ...
def dropout_forward(
    x: _Float, p: float, key: npt.NDArray[np.uint32], pos: int
) -> Tuple[_Float, _Float, npt.NDArray[np.uint32], int]: ...
def dropout_forward_live(x: _Float, p: float, address: int) -> Tuple[_Float, _Float]: ...
def l2_reg(w: _Float, dw: _Float, reg: float) -> float: ...
def cast(x: _Float, dtype: Literal["float32", "float64"]) -> _Float: ...

# pooling (cs231n_rs._pooling)
def max_pool_forward(x: _Float, pool_height: int, pool_width: int, stride: int) -> _Float: ...
def max_pool_backward(
    dout: _Float, x: _Float, pool_height: int, pool_width: int, stride: int, split_ties: bool
) -> _Float: ...

# convolution (cs231n_rs._conv, cs231n_rs.im2col)
def conv_forward(x: _Float, w: _Float, b: _Float, stride: int, pad: int) -> _Float: ...
def conv_backward(
    dout: _Float, x: _Float, w: _Float, stride: int, pad: int, need_dx: bool = True, need_dw: bool = True
) -> Tuple[Optional[_Float], Optional[_Float], Optional[_Float]]: ...
def im2col(x: _Float, field_height: int, field_width: int, stride: int, pad: int, n_fastest: bool) -> _Float: ...
def col2im(
    cols: _Float,
    x_shape: Tuple[int, int, int, int],
    field_height: int,
    field_width: int,
    stride: int,
    pad: int,
    n_fastest: bool,
) -> _Float: ...
