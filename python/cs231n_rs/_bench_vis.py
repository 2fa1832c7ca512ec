"""``cs231n-rs bench`` rows of network visualization (issue 7): ``compute_saliency_maps`` for a batch of
images through a ThreeLayerConvNet (cs231n's default 32 7x7 filters, hidden 100), ours (the net's
``input_gradient``: Rust layers, dx-only convolution backward) against
:mod:`cs231n_rs.reference.net_visualization` (the reference NumPy layers, full backward), and PyTorch
CPU autograd on the same weights when torch is installed."""

import numpy as np

from . import bench as _b
from ._bench_layers import _rand


def vis_cases(sizes):
    """The saliency rows, float64 then float32 (batch ``sizes.cnn_batch``: 50, quick 5)."""
    return [_saliency_case(sizes, dtype) for dtype in ("float64", "float32")]


def _saliency_case(sizes, dtype):
    n = sizes.cnn_batch

    def setup(pool):
        from . import net_visualization
        from .classifiers.cnn import ThreeLayerConvNet
        from .reference import net_visualization as ref

        X = _rand(pool, "X", (n, 3, 32, 32), dtype, 50.0)
        y = np.random.default_rng(_b.DATA_SEED).integers(0, _b.NUM_CLASSES, n)
        np.random.seed(_b.TRAIN_SEED)
        model = ThreeLayerConvNet(weight_scale=1e-2, dtype=np.dtype(dtype).type)

        def saliency(mod):
            return lambda: mod.compute_saliency_maps(X, y, model)

        return _b.Contenders(saliency(ref), saliency(net_visualization), _torch_saliency(model, X, y))

    desc = "X %dx3x32x32, 32 7x7, hidden 100" % n
    return _b.Case("compute_saliency_maps (ThreeLayerConvNet)", desc, dtype, "vis-" + dtype, setup)


def _torch_saliency(model, X, y):
    """The same saliency maps with torch autograd (None without torch)."""
    torch = _b._import_torch()
    if torch is None:
        return None
    F = torch.nn.functional
    p = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.params.items()}
    pad = (p["W1"].shape[2] - 1) // 2
    x0 = torch.from_numpy(np.ascontiguousarray(X))
    labels = torch.from_numpy(np.asarray(y))

    def run():
        x = x0.clone().requires_grad_()
        a = F.max_pool2d(F.relu(F.conv2d(x, p["W1"], p["b1"], padding=pad)), 2, 2)
        h = F.relu(a.reshape(a.shape[0], -1) @ p["W2"] + p["b2"])
        scores = h @ p["W3"] + p["b3"]
        scores.gather(1, labels.view(-1, 1)).sum().backward()
        return x.grad.abs().amax(dim=1)

    return run
