"""``cs231n-rs bench`` rows of the convolutional layers and ThreeLayerConvNet (issue 4): each row times
a forward and a backward pass together, ours against :mod:`cs231n_rs.reference` (its fast layers:
the sliding-window im2col convolution and the reshape max pool), and PyTorch CPU when installed
(``conv2d`` / ``max_pool2d`` / ``batch_norm`` / ``group_norm`` forward and autograd backward)."""

import numpy as np

from . import bench as _b
from ._bench_layers import _calls, _case, _rand


def conv_cases(sizes):
    """Conv, pool and spatial norm rows (float64 then float32), then the ThreeLayerConvNet rows."""
    cases = []
    for dtype in ("float64", "float32"):
        cases += [
            _conv_case(sizes, dtype, sizes.conv_small, 3),
            _conv_case(sizes, dtype, sizes.conv_large, 3),
            _pool_case(sizes, dtype),
            _spatial_norm_case(sizes, dtype, "spatial_batchnorm"),
            _spatial_norm_case(sizes, dtype, "spatial_groupnorm"),
        ]
    cases += [_cnn_case(sizes, dtype) for dtype in ("float64", "float32")]
    return cases


def _torch_fwd_bwd(forward, inputs, dout):
    """A torch callable: ``forward(*tensors)`` then its backward with ``dout`` (None without torch)."""
    torch = _b._import_torch()
    if torch is None:
        return None
    ts = [torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(grad) for a, grad in inputs]
    d = torch.from_numpy(dout)

    def run():
        for t in ts:
            t.grad = None
        forward(torch, *ts).backward(d)

    return run


def _conv_case(sizes, dtype, shape, k):
    (n, c, h, w), f = shape
    pad = (k - 1) // 2
    cp = {"stride": 1, "pad": pad}

    def setup(pool):
        from . import fast_layers
        from .reference import fast_layers as ref

        x = _rand(pool, ("x", shape), (n, c, h, w), dtype)
        wt = _rand(pool, ("w", shape), (f, c, k, k), dtype, 0.1)
        b = _rand(pool, ("b", shape), (f,), dtype)
        dout = _rand(pool, ("dout", shape), (n, f, h, w), dtype)

        def fwd_bwd(mod):
            def run():
                _, cache = mod.conv_forward_fast(x, wt, b, cp)
                return mod.conv_backward_fast(dout, cache)

            return run

        torch_fn = _torch_fwd_bwd(
            lambda torch, x_, w_, b_: torch.nn.functional.conv2d(x_, w_, b_, stride=1, padding=pad),
            [(x, True), (wt, True), (b, True)], dout)
        return _b.Contenders(fwd_bwd(ref), fwd_bwd(fast_layers), torch_fn)

    desc = "x %dx%dx%dx%d, %d %dx%d filters, pad %d" % (n, c, h, w, f, k, k, pad)
    return _b.Case("conv_forward+backward_fast", desc, dtype, "conv-%s-%s" % (dtype, shape), setup)


def _pool_case(sizes, dtype):
    n, c, h, w = sizes.pool_shape
    pp = {"pool_height": 2, "pool_width": 2, "stride": 2}

    def setup(pool):
        from . import fast_layers
        from .reference import fast_layers as ref

        x = _rand(pool, "px", (n, c, h, w), dtype)
        dout = _rand(pool, "pdout", (n, c, h // 2, w // 2), dtype)

        def fwd_bwd(mod):
            def run():
                _, cache = mod.max_pool_forward_fast(x, pp)
                return mod.max_pool_backward_fast(dout, cache)

            return run

        torch_fn = _torch_fwd_bwd(lambda torch, x_: torch.nn.functional.max_pool2d(x_, 2, 2), [(x, True)], dout)
        return _b.Contenders(fwd_bwd(ref), fwd_bwd(fast_layers), torch_fn)

    return _case("max_pool_forward+backward_fast", "x %dx%dx%dx%d, 2x2 stride 2" % (n, c, h, w), dtype,
                 "pool-" + dtype, setup, calls=_calls(sizes, 200))


def _spatial_norm_case(sizes, dtype, which):
    n, c, h, w = sizes.spatial_norm_shape
    groups = 4

    def setup(pool):
        from . import layers
        from .reference import layers as ref

        x = _rand(pool, "sx", (n, c, h, w), dtype, 3.0)
        dout = _rand(pool, "sdout", (n, c, h, w), dtype)
        if which == "spatial_batchnorm":
            gamma, beta = _rand(pool, "sg", (c,), dtype), _rand(pool, "sb", (c,), dtype)
            args = ({"mode": "train"},)
            torch_forward = lambda torch, x_, g_, b_: torch.nn.functional.batch_norm(  # noqa: E731
                x_, None, None, g_, b_, training=True, eps=1e-5)
        else:
            gamma, beta = _rand(pool, "gg", (1, c, 1, 1), dtype), _rand(pool, "gb", (1, c, 1, 1), dtype)
            args = (groups, {})
            torch_forward = lambda torch, x_, g_, b_: torch.nn.functional.group_norm(  # noqa: E731
                x_, groups, g_.reshape(-1), b_.reshape(-1), eps=1e-5)

        def fwd_bwd(mod):
            forward, backward = getattr(mod, which + "_forward"), getattr(mod, which + "_backward")

            def run():
                _, cache = forward(x, gamma, beta, *args)
                return backward(dout, cache)

            return run

        torch_fn = _torch_fwd_bwd(torch_forward, [(x, True), (gamma, True), (beta, True)], dout)
        return _b.Contenders(fwd_bwd(ref), fwd_bwd(layers), torch_fn)

    desc = "x %dx%dx%dx%d, train" % (n, c, h, w) + (", G %d" % groups if which == "spatial_groupnorm" else "")
    return _case(which + "_forward+backward", desc, dtype, "snorm-" + dtype, setup, calls=_calls(sizes, 200))


def _cnn_case(sizes, dtype):
    n = sizes.cnn_batch

    def setup(pool):
        from .classifiers.cnn import ThreeLayerConvNet
        from .reference.cnn import ThreeLayerConvNet as Reference

        X = _rand(pool, "X", (n, 3, 32, 32), dtype, 50.0)
        y = np.random.default_rng(_b.DATA_SEED).integers(0, _b.NUM_CLASSES, n)

        def net(cls):
            np.random.seed(_b.TRAIN_SEED)
            model = cls(weight_scale=1e-2, reg=1e-3, dtype=np.dtype(dtype).type)
            return lambda: model.loss(X, y)

        return _b.Contenders(net(Reference), net(ThreeLayerConvNet), None)

    desc = "X %dx3x32x32 (net's dtype), 32 7x7 filters, hidden 100" % n
    return _b.Case("ThreeLayerConvNet.loss", desc, dtype, "cnn-" + dtype, setup)
