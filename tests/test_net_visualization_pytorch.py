"""cs231n_rs.net_visualization_pytorch: cs231n's PyTorch saliency maps, fooling images and class
visualization, checked on a tiny deterministic float64 model against independent autograd
computations, finite differences, SciPy and NumPy.

The torch tests are skipped (with the reason) when PyTorch is not installed; the test of the
ImportError message always runs (in a subprocess where ``import torch`` fails).
"""

import os
import random
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import cs231n_rs

try:
    import torch
except ImportError:
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch is not installed (pip install torch): the torch drop-ins are not tested"
)
TORCHVISION_REASON = "torchvision is not installed (pip install torchvision): preprocess/deprocess are not tested"

_PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(cs231n_rs.__file__)))


# ---------------------------------------------------------------------------------------------
# Without torch: a clear ImportError (always runs)
# ---------------------------------------------------------------------------------------------


def test_import_without_torch_raises_a_clear_importerror():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # makes "import torch" raise ImportError
        try:
            import cs231n_rs.net_visualization_pytorch
        except ImportError as e:
            print("MESSAGE:", e)
            print("CAUSE:", isinstance(e.__cause__, ImportError))
        else:
            print("IMPORTED")
        """
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = _PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "IMPORTED" not in out.stdout
    assert "MESSAGE: cs231n_rs.net_visualization_pytorch needs PyTorch: pip install torch" in out.stdout
    assert "https://download.pytorch.org/whl/cpu" in out.stdout
    assert "CAUSE: True" in out.stdout  # chained from the original error


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def N():
    if torch is None:
        pytest.skip("PyTorch is not installed (pip install torch): the torch drop-ins are not tested")
    from cs231n_rs import net_visualization_pytorch

    return net_visualization_pytorch


def tiny_model(seed=0, dtype=None, act=None):
    """Conv(3->4, 3x3) + activation + 2x2 adaptive average pool + Linear(16 -> 5), eval mode."""
    torch.manual_seed(seed)
    act = torch.nn.Tanh() if act is None else act
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        act,
        torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 5),
    )
    return model.to(torch.float64 if dtype is None else dtype).eval()


def images(n=2, h=16, w=16, seed=1, dtype=None):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, h, w, generator=g, dtype=torch.float64 if dtype is None else dtype)


class Recorder(torch.nn.Module if torch is not None else object):
    """Wraps a model and keeps a copy of every input it is called with."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return self.model(x)


# ---------------------------------------------------------------------------------------------
# compute_saliency_maps
# ---------------------------------------------------------------------------------------------


@requires_torch
def test_saliency_equals_independent_autograd_and_finite_differences(N):
    model = tiny_model()
    model.train()  # compute_saliency_maps puts it in eval mode, as cs231n's starter does
    X = images()
    y = torch.tensor([3, 0])
    saliency = N.compute_saliency_maps(X, y, model)

    assert not model.training
    assert X.requires_grad  # the starter's X.requires_grad_() mutates X
    assert X.is_leaf and X.grad is None  # ours uses autograd.grad: nothing accumulates
    assert all(p.grad is None for p in model.parameters())
    assert isinstance(saliency, torch.Tensor) and not saliency.requires_grad
    assert saliency.shape == (2, 16, 16) and saliency.dtype == torch.float64
    assert bool((saliency >= 0).all()) and float(saliency.max()) > 0

    # Independent: gradient of the gathered correct-class scores, abs, max over channels.
    X2 = X.detach().clone().requires_grad_()
    scores = model(X2)
    (g,) = torch.autograd.grad(scores[torch.arange(2), y].sum(), X2)
    expected = g.abs().amax(dim=1)
    np.testing.assert_allclose(saliency.numpy(), expected.numpy(), rtol=1e-12, atol=0)

    # Central finite differences on a few pixels (all 3 channels), float64.
    h = 1e-6
    with torch.no_grad():
        for i, r, c in [(0, 0, 0), (0, 7, 9), (1, 15, 15), (1, 3, 12)]:
            derivs = []
            for ch in range(3):
                Xp = X.detach().clone()
                Xm = X.detach().clone()
                Xp[i, ch, r, c] += h
                Xm[i, ch, r, c] -= h
                derivs.append((model(Xp)[i, y[i]] - model(Xm)[i, y[i]]).item() / (2 * h))
            np.testing.assert_allclose(saliency[i, r, c].item(), max(abs(d) for d in derivs), rtol=1e-6, atol=1e-10)


@requires_torch
def test_saliency_of_a_batch_is_each_image_on_its_own(N):
    model = tiny_model()
    X = images(n=3, h=10, w=12, seed=5)
    y = torch.tensor([4, 4, 1])
    batch = N.compute_saliency_maps(X.clone(), y, model)
    for i in range(3):
        one = N.compute_saliency_maps(X[i : i + 1].clone(), y[i : i + 1], model)
        np.testing.assert_allclose(batch[i].numpy(), one[0].numpy(), rtol=1e-12, atol=0)
    # numpy labels are accepted too
    np.testing.assert_array_equal(N.compute_saliency_maps(X.clone(), np.array([4, 4, 1]), model).numpy(), batch.numpy())


@requires_torch
def test_gradients_are_taken_inside_a_callers_no_grad(N):
    model = tiny_model()
    X = images()
    with torch.no_grad():
        s = N.compute_saliency_maps(X.clone(), torch.tensor([3, 0]), model)
        f = N.make_fooling_image(X[:1], 0, model)
        img = X[:1].clone()
        N.class_visualization_update_step(img, model, 0, 1e-3, 0.1)
    np.testing.assert_array_equal(s.numpy(), N.compute_saliency_maps(X.clone(), torch.tensor([3, 0]), model).numpy())
    np.testing.assert_array_equal(f.detach().numpy(), N.make_fooling_image(X[:1], 0, model).detach().numpy())
    assert model(f).argmax(1).item() == 0 and not torch.equal(img, X[:1])


@requires_torch
def test_saliency_float32_agrees_with_float64(N):
    model64 = tiny_model()
    model32 = tiny_model(dtype=torch.float32)
    X = images()
    y = torch.tensor([1, 2])
    s64 = N.compute_saliency_maps(X.clone(), y, model64)
    s32 = N.compute_saliency_maps(X.float(), y, model32)
    assert s32.dtype == torch.float32
    np.testing.assert_allclose(s32.numpy(), s64.numpy(), rtol=1e-4, atol=1e-6)


@requires_torch
def test_saliency_bad_input(N):
    model = tiny_model()
    X = images()
    with pytest.raises(TypeError, match="X"):
        N.compute_saliency_maps(X.numpy(), torch.tensor([0, 1]), model)
    with pytest.raises(ValueError, match="X"):
        N.compute_saliency_maps(X[0], torch.tensor([0, 1]), model)
    with pytest.raises(ValueError, match="y"):
        N.compute_saliency_maps(X, torch.tensor([0, 1, 2]), model)
    assert not X.requires_grad  # checked before anything is mutated
    with pytest.raises(TypeError, match="y"):
        N.compute_saliency_maps(X.clone(), torch.tensor([0.0, 1.0]), model)
    with pytest.raises(ValueError, match="y"):
        N.compute_saliency_maps(X.clone(), torch.tensor([0, 5]), model)


# ---------------------------------------------------------------------------------------------
# make_fooling_image
# ---------------------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("target_y", [0, 2, 3, 4])
def test_fooling_image_reaches_the_target_with_unit_normalized_steps(N, target_y):
    model = tiny_model()
    X = images(n=1)
    assert model(X).argmax(1).item() == 1  # the original class, different from every target
    rec = Recorder(model)
    X_before = X.clone()
    X_fooling = N.make_fooling_image(X, target_y, rec)

    torch.testing.assert_close(X, X_before, rtol=0, atol=0)  # X is not mutated
    assert X_fooling.shape == X.shape and X_fooling.requires_grad and X_fooling.is_leaf
    assert model(X_fooling).argmax(1).item() == target_y
    steps = len(rec.inputs) - 1
    assert 1 <= steps < 100
    # Every call but the last sees an image not yet classified as target_y (stop as soon as fooled).
    for x in rec.inputs[:-1]:
        assert model(x).argmax(1).item() != target_y
    torch.testing.assert_close(rec.inputs[-1], X_fooling.detach(), rtol=0, atol=0)
    # Each step is learning_rate * g / ||g||_2 with learning_rate = 1, g the target score's gradient.
    for a, b in zip(rec.inputs[:-1], rec.inputs[1:]):
        a = a.clone().requires_grad_()
        (g,) = torch.autograd.grad(model(a)[0, target_y], a)
        np.testing.assert_allclose((b - a.detach()).numpy(), (g / g.norm()).numpy(), rtol=1e-12, atol=1e-15)
    # Close to the original: at most one unit of L2 distance per step.
    dist = float((X_fooling.detach() - X).norm())
    assert dist <= steps * (1 + 1e-12)
    max_abs_diff = float((X_fooling.detach() - X).abs().max())
    assert max_abs_diff < 1.0  # observed: 0.63 to 0.97 for these targets, for pixels of std 1


@requires_torch
def test_fooling_image_already_fooled_is_returned_unchanged(N):
    model = tiny_model()
    X = images(n=1)
    rec = Recorder(model)
    X_fooling = N.make_fooling_image(X, 1, rec)  # already classified as 1
    assert len(rec.inputs) == 1
    torch.testing.assert_close(X_fooling.detach(), X, rtol=0, atol=0)
    assert X_fooling is not X


@requires_torch
def test_fooling_image_stops_after_100_steps(N):
    # A model that never predicts class 1: the loop gives up after 100 forward/steps.
    class Stuck(torch.nn.Module):
        def forward(self, x):
            s = x.flatten(1).sum(1, keepdim=True)
            return torch.cat([s + 1e6, s], dim=1)

    rec = Recorder(Stuck())
    X = images(n=1, h=4, w=4)
    X_fooling = N.make_fooling_image(X, 1, rec)
    assert len(rec.inputs) == 100
    # 100 unit steps along the same direction (the all-ones gradient)
    d = X_fooling.detach() - X
    np.testing.assert_allclose(d.numpy(), np.full(d.shape, 100 / np.sqrt(d.numel())), rtol=1e-12)


@requires_torch
def test_fooling_image_batch_fools_every_image(N):
    model = tiny_model()
    X = images(n=3, seed=7)
    X_fooling = N.make_fooling_image(X, 4, model)
    assert model(X_fooling).argmax(1).tolist() == [4, 4, 4]


@requires_torch
def test_fooling_image_bad_input(N):
    model = tiny_model()
    X = images(n=1)
    with pytest.raises(ValueError, match="target_y"):
        N.make_fooling_image(X, 5, model)
    with pytest.raises(TypeError, match="target_y"):
        N.make_fooling_image(X, 1.5, model)
    with pytest.raises(TypeError, match="X"):
        N.make_fooling_image(X.numpy(), 0, model)


# ---------------------------------------------------------------------------------------------
# class_visualization_update_step
# ---------------------------------------------------------------------------------------------


def _objective(model, img, target_y, l2_reg):
    with torch.no_grad():
        return float(model(img)[0, target_y] - l2_reg * (img * img).sum())


@requires_torch
def test_class_visualization_update_step_is_a_normalized_ascent_step_in_place(N):
    model = tiny_model()
    img = images(n=1, seed=3).requires_grad_()
    img.grad = torch.full_like(img, 7.0)  # a stale gradient: zeroed afterwards
    before = img.detach().clone()
    target_y, l2_reg, lr = 2, 1e-3, 0.05
    data_ptr = img.data_ptr()

    a = before.clone().requires_grad_()
    (g,) = torch.autograd.grad(model(a)[0, target_y] - l2_reg * (a * a).sum(), a)
    expected = before + lr * g / g.norm()

    out = N.class_visualization_update_step(img, model, target_y, l2_reg, lr)
    assert out is None
    assert img.data_ptr() == data_ptr and img.is_leaf and img.requires_grad  # same tensor, updated in place
    assert not torch.equal(img.detach(), before)
    np.testing.assert_allclose(img.detach().numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)
    assert torch.equal(img.grad, torch.zeros_like(img))
    assert all(p.grad is None for p in model.parameters())
    assert _objective(model, img, target_y, l2_reg) > _objective(model, before, target_y, l2_reg)


@requires_torch
def test_class_visualization_update_step_l2_sign(N):
    # With a huge l2_reg the step shrinks the image (ascent on -l2_reg * ||I||^2).
    model = tiny_model()
    img = images(n=1, seed=4)
    norm0 = float(img.norm())
    N.class_visualization_update_step(img, model, 0, 1e3, 0.1)
    assert float(img.norm()) < norm0
    np.testing.assert_allclose(float(img.norm()), norm0 - 0.1, rtol=1e-3)  # nearly along -img


@requires_torch
def test_class_visualization_update_step_bad_input(N):
    model = tiny_model()
    img = images(n=1).requires_grad_()
    with pytest.raises(ValueError, match="target_y"):
        N.class_visualization_update_step(img, model, 7, 1e-3, 1.0)
    with pytest.raises(TypeError, match="l2_reg"):
        N.class_visualization_update_step(img, model, 0, "a", 1.0)
    with pytest.raises(TypeError, match="img"):
        N.class_visualization_update_step(img.detach().numpy(), model, 0, 1e-3, 1.0)


# ---------------------------------------------------------------------------------------------
# jitter, blur_image, rescale
# ---------------------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("ox, oy", [(0, 0), (3, 0), (0, 5), (4, 2), (-3, 6), (-7, -1), (11, 9)])
def test_jitter_is_a_circular_roll_and_undoes_itself(N, ox, oy):
    X = images(n=2, h=10, w=12, seed=9)
    before = X.clone()
    J = N.jitter(X, ox, oy)
    torch.testing.assert_close(X, before, rtol=0, atol=0)
    np.testing.assert_array_equal(J.numpy(), np.roll(X.numpy(), shift=(oy, ox), axis=(2, 3)))
    np.testing.assert_array_equal(N.jitter(J, -ox, -oy).numpy(), X.numpy())


@requires_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sigma", [1, 0.5])
def test_blur_image_in_place_equals_scipy(N, dtype, sigma):
    from scipy.ndimage import gaussian_filter1d

    X = images(n=2, h=9, w=11, seed=2, dtype=getattr(torch, dtype))
    X_np = X.numpy().copy()
    expected = gaussian_filter1d(gaussian_filter1d(X_np, sigma, axis=2), sigma, axis=3)
    ptr = X.data_ptr()
    out = N.blur_image(X, sigma=sigma)
    assert out is X and X.data_ptr() == ptr and X.dtype == getattr(torch, dtype)
    np.testing.assert_array_equal(X.numpy(), expected)
    assert not np.array_equal(X_np, expected)


@requires_torch
def test_blur_image_default_sigma_is_1(N):
    from scipy.ndimage import gaussian_filter1d

    X = images(n=1, h=6, w=7)
    expected = gaussian_filter1d(gaussian_filter1d(X.numpy(), 1, axis=2), 1, axis=3)
    np.testing.assert_array_equal(N.blur_image(X).numpy(), expected)


@requires_torch
def test_rescale(N):
    x = images(n=1, h=5, w=5, seed=8) * 3 + 2
    r = N.rescale(x)
    xn = x.numpy()
    np.testing.assert_allclose(r.numpy(), (xn - xn.min()) / (xn.max() - xn.min()), rtol=1e-15)
    assert float(r.min()) == 0.0 and float(r.max()) == 1.0


# ---------------------------------------------------------------------------------------------
# preprocess / deprocess (torchvision)
# ---------------------------------------------------------------------------------------------


@requires_torch
def test_preprocess_deprocess_round_trip(N):
    pytest.importorskip("torchvision", reason=TORCHVISION_REASON)
    from PIL import Image

    from cs231n_rs.image_utils import SQUEEZENET_MEAN, SQUEEZENET_STD

    arr = np.random.default_rng(0).integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    pil = Image.fromarray(arr)
    x = N.preprocess(pil, size=20)
    assert x.shape == (1, 3, 20, 30) and x.dtype == torch.float32
    expected = (arr.astype(np.float32) / 255.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(), expected, rtol=1e-5, atol=1e-5)

    back = N.deprocess(x.clone().requires_grad_(), should_rescale=False)  # grad-requiring input is fine
    assert isinstance(back, Image.Image) and back.size == (30, 20)
    diff = np.abs(np.asarray(back).astype(int) - arr.astype(int))
    assert diff.max() <= 1  # ToPILImage truncates 255 * x

    rescaled = np.asarray(N.deprocess(x))  # should_rescale=True: the full [0, 255] range
    assert rescaled.min() == 0 and rescaled.max() == 255

    small = N.preprocess(pil, size=10)  # shorter side to 10
    assert small.shape == (1, 3, 10, 15)


@requires_torch
def test_preprocess_without_torchvision_says_so(N, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.transforms", None)
    with pytest.raises(ImportError, match="need torchvision: pip install torchvision"):
        N.deprocess(images(n=1, h=4, w=4))


# ---------------------------------------------------------------------------------------------
# create_class_visualization (the notebook's helper)
# ---------------------------------------------------------------------------------------------


@requires_torch
def test_create_class_visualization_raises_the_target_score(N, monkeypatch):
    model = tiny_model()
    target_y = 3
    captured = []
    monkeypatch.setattr(N, "deprocess", lambda img, should_rescale=True: captured.append(img.clone()) or img)
    torch.manual_seed(0)
    random.seed(0)
    start = torch.randn(1, 3, 16, 16).double()  # what the helper starts from with these seeds
    torch.manual_seed(0)
    random.seed(0)
    kw = {"num_iterations": 12, "max_jitter": 3, "show_every": 0, "img_size": 16, "learning_rate": 2.0}
    out = N.create_class_visualization(target_y, model, torch.DoubleTensor, **kw)
    assert len(captured) == 1 and out.shape == (1, 3, 16, 16) and out.dtype == torch.float64

    def score(img):
        with torch.no_grad():
            return float(model(img)[0, target_y])

    assert score(out) > score(start) + 0.2  # observed: -0.056 -> 0.193
    # clamped to the range of valid normalized pixels
    from cs231n_rs.image_utils import SQUEEZENET_MEAN, SQUEEZENET_STD

    for c in range(3):
        assert float(out[0, c].min()) >= -SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c] - 1e-12
        assert float(out[0, c].max()) <= (1 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c] + 1e-12

    # Same seeds, same result.
    torch.manual_seed(0)
    random.seed(0)
    again = N.create_class_visualization(target_y, model, torch.DoubleTensor, **kw)
    torch.testing.assert_close(again, out, rtol=0, atol=0)

    # The notebook's loop, written independently (np.roll, scipy, autograd) from the same seeds.
    from scipy.ndimage import gaussian_filter1d

    torch.manual_seed(0)
    random.seed(0)
    img = torch.randn(1, 3, 16, 16).double().numpy()
    for t in range(kw["num_iterations"]):
        ox, oy = random.randint(0, kw["max_jitter"]), random.randint(0, kw["max_jitter"])
        img = np.roll(img, (oy, ox), axis=(2, 3))
        a = torch.from_numpy(img).requires_grad_()
        (g,) = torch.autograd.grad(model(a)[0, target_y] - 1e-3 * (a * a).sum(), a)
        img = img + kw["learning_rate"] * (g / g.norm()).numpy()
        img = np.roll(img, (-oy, -ox), axis=(2, 3))
        for c in range(3):
            lo = float(-SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c])
            hi = float((1.0 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c])
            img[:, c] = np.clip(img[:, c], lo, hi)
        if t % 10 == 0:
            img = gaussian_filter1d(gaussian_filter1d(img, 0.5, axis=2), 0.5, axis=3)
    np.testing.assert_allclose(out.numpy(), img, rtol=1e-12, atol=1e-14)


@requires_torch
def test_create_class_visualization_returns_a_pil_image_and_plots(N):
    pytest.importorskip("torchvision", reason=TORCHVISION_REASON)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    model = tiny_model()
    torch.manual_seed(1)
    random.seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # plt.show() on Agg
        img = N.create_class_visualization(
            1, model, torch.DoubleTensor, num_iterations=3, show_every=2, img_size=12, max_jitter=2
        )
    try:
        assert isinstance(img, Image.Image) and img.size == (12, 12)
        assert plt.gca().get_title() == "class 1\nIteration 3 / 3"
    finally:
        plt.close("all")


@requires_torch
def test_create_class_visualization_rejects_unknown_kwargs(N):
    with pytest.raises(TypeError, match="num_iteration"):
        N.create_class_visualization(0, tiny_model(), torch.DoubleTensor, num_iteration=3)
