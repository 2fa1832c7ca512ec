"""``cs231n-rs check`` on ``net_visualization_pytorch.py``: the fixtures' correct, mistaken and stub
modules (with torch), each known mistake with its hint (in-process), and the ``not checked`` status
of a Python where torch cannot be imported."""

import os
import types

import numpy as np
import pytest

from cs231n_rs.check import _report, _specs, _worker
from cs231n_rs.check._run_spec import run_spec
from test_check import FIXTURES, _by_name, _check

NETVIS = ["net_visualization_pytorch.compute_saliency_maps", "net_visualization_pytorch.make_fooling_image",
          "net_visualization_pytorch.class_visualization_update_step"]


def _netvis(doc):
    results = _by_name(doc)
    return {n: results[n] for n in NETVIS}


# ---------------------------------------------------------------------------------------------
# With torch: the fixtures, as a user runs the check
# ---------------------------------------------------------------------------------------------


def test_correct_module_is_ok_and_timed():
    pytest.importorskip("torch")
    rc, out, doc = _check(os.path.join(FIXTURES, "good"), "--only", "net_visualization")
    results = _netvis(doc)
    assert rc == 0, out
    assert len(doc["functions"]) == 3
    for name, e in results.items():
        assert e["status"] == "ok", (name, e)
        assert e["hint"] is None
        assert e["max_rel_error"] is not None and 0 <= e["max_rel_error"] < 1e-3, e
        assert e["speedup"] is not None and e["speedup"] > 0 and e["speed_capped"] is False, e
        assert e["speed_case"], e
    assert "3 checked: 3 ok, 0 wrong, 0 not implemented, 0 error" in out
    assert results[NETVIS[0]]["speed_case"] == "X (5, 3, 64, 64) through a small conv net"


NETVIS_HINTS = {
    "net_visualization_pytorch.compute_saliency_maps": "not a sum or mean over the channels",
    "net_visualization_pytorch.make_fooling_image": "yours goes down the target score",
    "net_visualization_pytorch.class_visualization_update_step": "yours has the opposite sign",
}


def test_each_mistake_is_wrong_with_its_hint():
    pytest.importorskip("torch")
    rc, out, doc = _check(os.path.join(FIXTURES, "conventions"), "--no-speed", "--only", "net_visualization")
    results = _netvis(doc)
    assert rc == 1, out
    for name, hint in NETVIS_HINTS.items():
        assert results[name]["status"] == "wrong", (name, results[name])
        assert hint in (results[name]["hint"] or ""), (name, results[name]["hint"])
        assert results[name]["case"].startswith("f32 "), results[name]
    assert results[NETVIS[0]]["max_rel_error"] > 0.1
    assert "not target_y=" in results[NETVIS[1]]["message"]
    # The L2 sign is wrong in an unnormalized step, which is accepted: it is compared as such.
    assert "img step (unnormalized)" in results[NETVIS[2]]["case"]


def test_starter_stubs_are_not_implemented():
    pytest.importorskip("torch")
    rc, out, doc = _check(os.path.join(FIXTURES, "stubs"), "--no-speed", "--only", "net_visualization")
    assert rc == 0, out
    for name, e in _netvis(doc).items():
        assert e["status"] == "not implemented", (name, e)
        assert e["hint"] is None and e["max_rel_error"] is None


# ---------------------------------------------------------------------------------------------
# With torch: more mistakes, each with its hint, checked in-process
# ---------------------------------------------------------------------------------------------


def _torch():
    import torch

    return torch


def saliency_no_abs(X, y, model):
    X.requires_grad_()
    model(X).gather(1, y.view(-1, 1)).sum().backward()
    return X.grad.max(dim=1)[0]


def saliency_of_softmax(X, y, model):
    X.requires_grad_()
    _torch().softmax(model(X), dim=1).gather(1, y.view(-1, 1)).sum().backward()
    return X.grad.abs().max(dim=1)[0]


def saliency_of_loss(X, y, model):
    X.requires_grad_()
    _torch().nn.functional.cross_entropy(model(X), y).backward()
    return X.grad.abs().max(dim=1)[0]


def saliency_of_mean_score(X, y, model):
    X.requires_grad_()
    model(X).gather(1, y.view(-1, 1)).mean().backward()
    return X.grad.abs().max(dim=1)[0]


def saliency_not_detached(X, y, model):
    from cs231n_rs import net_visualization_pytorch as ours

    return ours.compute_saliency_maps(X, y, model) + 0 * X.sum()


def _fooling(step, stop=True, zero=True, objective="score", clone=True):
    def make_fooling_image(X, target_y, model):
        torch = _torch()
        X_fooling = (X.clone() if clone else X).requires_grad_()
        for _ in range(100):
            scores = model(X_fooling)
            if stop and scores.argmax(dim=1).item() == target_y:
                break
            if objective == "score":
                f = scores[0, target_y]
            else:
                f = -torch.nn.functional.cross_entropy(scores, torch.tensor([target_y]))
            f.backward()
            X_fooling.data += step(X_fooling.grad)
            if zero:
                X_fooling.grad.zero_()
        return X_fooling

    return make_fooling_image


def _normalized(g):
    return g / g.norm()


def _vis(grad, normalized=True, zero=True, in_place=True):
    def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
        model(img)[0, target_y].backward()
        g = grad(img.grad, img.detach(), l2_reg)
        step = learning_rate * (g / g.norm() if normalized else g)
        if zero:
            img.grad.zero_()
        if not in_place:
            return img.detach() + step
        img.data += step

    return class_visualization_update_step


def vis_autograd_unnormalized(img, model, target_y, l2_reg, learning_rate):
    torch = _torch()
    x = img.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(model(x)[0, target_y] - l2_reg * (x**2).sum(), x)
    with torch.no_grad():
        img += learning_rate * g


MISTAKES = [
    ("compute_saliency_maps", saliency_no_abs, "Take the absolute value"),
    ("compute_saliency_maps", saliency_of_softmax, "not its softmax probability"),
    ("compute_saliency_maps", saliency_of_loss, "not its softmax probability"),
    ("compute_saliency_maps", saliency_of_mean_score, "right up to a factor"),
    ("compute_saliency_maps", saliency_not_detached, "return a detached tensor"),
    ("make_fooling_image", _fooling(lambda g: g), "Normalize each step"),
    ("make_fooling_image", _fooling(_normalized, zero=False), "Zero X_fooling.grad"),
    ("make_fooling_image", _fooling(_normalized, objective="loss"), "Ascend the raw score"),
    ("make_fooling_image", _fooling(_normalized, stop=False), "Stop as soon as"),
    ("make_fooling_image", _fooling(_normalized, clone=False), "Do not modify X"),
    ("class_visualization_update_step", _vis(lambda g, x, r: g - r * x), "lacks the factor 2"),
    ("class_visualization_update_step", _vis(lambda g, x, r: g), "Don't forget the L2"),
    ("class_visualization_update_step", _vis(lambda g, x, r: g - r * x / x.norm()), "squared norm"),
    ("class_visualization_update_step", _vis(lambda g, x, r: -(g - 2 * r * x), normalized=False),
     "Gradient ASCENT on s_y"),
    ("class_visualization_update_step", _vis(lambda g, x, r: g - 2 * r * x, zero=False), "Zero img.grad"),
    ("class_visualization_update_step", _vis(lambda g, x, r: g - 2 * r * x, in_place=False), "in place"),
]


@pytest.fixture
def global_rng_restored():
    """run_spec seeds NumPy's global RNG: give the rest of the suite its state back."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def _run(function, fn):
    spec = {s.name: s for s in _specs.all_specs()}["net_visualization_pytorch." + function]
    module = types.ModuleType("cs231n.net_visualization_pytorch")
    setattr(module, function, fn)
    return run_spec(spec, module, FIXTURES, {"speed": False, "case_cap": 20.0})


@pytest.mark.parametrize("function, fn, hint", MISTAKES, ids=[m[2] for m in MISTAKES])
def test_more_mistakes_have_their_hint(function, fn, hint, global_rng_restored):
    pytest.importorskip("torch")
    result = _run(function, fn)
    assert result["status"] == "wrong", result
    assert hint in (result["hint"] or ""), result


@pytest.mark.parametrize("function", ["compute_saliency_maps", "make_fooling_image",
                                      "class_visualization_update_step"])
def test_ours_and_the_accepted_forms_pass(function, global_rng_restored):
    pytest.importorskip("torch")
    from cs231n_rs import net_visualization_pytorch as ours

    result = _run(function, getattr(ours, function))
    assert result["status"] == "ok" and result["max_rel_error"] < 1e-5, result
    if function == "class_visualization_update_step":
        # Both the normalized and the plain step are accepted, by autograd or by hand.
        for fn in (vis_autograd_unnormalized, _vis(lambda g, x, r: g - 2 * r * x, normalized=False)):
            result = _run(function, fn)
            assert result["status"] == "ok", result
            assert "unnormalized" in result["case"]


def test_a_fooling_loop_that_never_ends_is_an_error_with_its_hint(global_rng_restored):
    pytest.importorskip("torch")

    def descent_until_fooled(X, target_y, model):
        X_fooling = X.clone().requires_grad_()
        while model(X_fooling).argmax(dim=1).item() != target_y:
            model(X_fooling)[0, target_y].backward()
            X_fooling.data -= X_fooling.grad / X_fooling.grad.norm()
            X_fooling.grad.zero_()
        return X_fooling

    spec = {s.name: s for s in _specs.all_specs()}["net_visualization_pytorch.make_fooling_image"]
    module = types.ModuleType("cs231n.net_visualization_pytorch")
    module.make_fooling_image = descent_until_fooled
    result = run_spec(spec, module, FIXTURES, {"speed": False, "case_cap": 1.0})
    assert result["status"] == "error" and "took more than" in result["message"], result
    assert "never reached target_y" in result["hint"]


# ---------------------------------------------------------------------------------------------
# Without torch: "not checked", never the student's error
# ---------------------------------------------------------------------------------------------


def test_without_torch_the_functions_are_not_checked(tmp_path):
    """A Python where ``import torch`` fails (sys.modules['torch'] = None from a sitecustomize, in
    the parent and in the workers): the three functions are 'not checked' with the reason, the exit
    status stays 0, the other modules are checked as usual."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    path = os.pathsep.join([str(site)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    rc, out, doc = _check(os.path.join(FIXTURES, "good"), "--no-speed", "--only", "net_visualization",
                          "--only", "optim", env={"PYTHONPATH": path})
    assert rc == 0, out
    results = _by_name(doc)
    for name in NETVIS:
        e = results.pop(name)
        assert e["status"] == "not checked", e
        assert "needs torch" in e["message"] and "Install torch and torchvision" in e["hint"], e
        assert e["max_rel_error"] is None and e["speedup"] is None
    assert {e["status"] for e in results.values()} == {"ok"} and len(results) == 4
    assert doc["summary"]["not checked"] == 3 and doc["summary"]["ok"] == 4
    assert "4 checked: 4 ok, 0 wrong, 0 not implemented, 0 error; 3 not checked" in out
    assert "needs torch, which this Python cannot import" in out
    # The stubs too: without torch nothing can be said about them.
    rc, out, doc = _check(os.path.join(FIXTURES, "stubs"), "--no-speed", "--only", "net_visualization",
                          env={"PYTHONPATH": path})
    assert rc == 0 and doc["functions"] == [] and len(doc["not_checked"]) == 3, out


def test_the_decision_and_the_summary():
    specs = [s for s in _specs.all_specs() if s.module == "net_visualization_pytorch"]
    assert [s.name for s in specs] == NETVIS and all(s.needs == ("torch", "torchvision") for s in specs)
    assert all(not s.needs for s in _specs.all_specs() if s.module != "net_visualization_pytorch")
    fake = [types.SimpleNamespace(name="a", needs=("a_module_that_is_not_installed",)),
            types.SimpleNamespace(name="b", needs=("numpy",))]
    missing = _worker._unavailable(fake)
    assert list(missing) == ["a"] and missing["a"][0] == "a_module_that_is_not_installed"
    result = _worker.not_checked_result("a", *missing["a"])
    assert set(_report.REQUIRED_KEYS) <= set(result) and result["status"] == "not checked"
    results = [result, {"function": "b", "status": "ok", "max_rel_error": 0.0}]
    assert _report.summary_line(results) == ("1 checked: 1 ok, 0 wrong, 0 not implemented, 0 error; "
                                             "1 not checked (a library this Python lacks)")
    assert _report.counts(results)["not checked"] == 1
