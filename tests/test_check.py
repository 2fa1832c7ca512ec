"""``cs231n-rs check PATH`` on fake student folders (tests/check_fixtures): a correct package, one
with each known convention mistake, the untouched starter stubs, broken modules, and slow code."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

import numpy as np
import pytest

from cs231n_rs.check import _compare, _report, _specs
from cs231n_rs.check._run_spec import run_spec
from cs231n_rs.reference import layers as ref_layers
from cs231n_rs.reference import optim as ref_optim

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_fixtures")

try:  # the net_visualization_pytorch specs need torch; without it they are "not checked"
    import torch  # noqa: F401

    HAVE_TORCH = True
except Exception:  # noqa: BLE001 - missing, or an install that fails to import: the check says "not checked"
    HAVE_TORCH = False
#: the functions of the fixtures' net_visualization_pytorch.py (good, conventions, stubs)
NETVIS = 3
NOT_CHECKED = "ok" if HAVE_TORCH else "not checked"


def _check(folder, *args, env=None, timeout=180):
    """Runs ``python -m cs231n_rs check`` as a user would; returns (exit status, output, JSON report)."""
    fd, out_json = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("NO_COLOR", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "cs231n_rs", "check", str(folder), "--json", out_json, *args],
                              capture_output=True, text=True, env=full_env, timeout=timeout)
        with open(out_json) as f:
            doc = json.load(f)
    finally:
        os.unlink(out_json)
    return proc.returncode, proc.stdout + proc.stderr, doc


def _by_name(doc):
    """The report's entries by function name: ``functions`` (the issue's schema: four statuses) and
    the ``not_checked`` list (a library this Python lacks), given status "not checked" here."""
    for entry in doc["functions"]:
        assert set(_report.REQUIRED_KEYS) <= set(entry), entry
        assert entry["status"] in ("ok", "wrong", "not implemented", "error")
    found = {e["function"]: e for e in doc["functions"]}
    for e in doc["not_checked"]:
        assert e["function"] not in found and e["message"] and e["hint"], e
        found[e["function"]] = dict(e, status="not checked", max_rel_error=None, speedup=None)
    return found


def test_correct_package_is_all_ok_and_isolated():
    """Every function of the surface found and right; the decoy cs231n_rs in the student's folder
    (which raises on import) is never imported."""
    rc, out, doc = _check(os.path.join(FIXTURES, "good"), "--no-speed")
    results = _by_name(doc)
    assert rc == 0, out
    assert len(results) == len(_specs.all_specs()) == 49 + NETVIS
    checked = 49 + (NETVIS if HAVE_TORCH else 0)
    assert {e["status"] for e in results.values()} == {"ok", NOT_CHECKED}, out
    for e in results.values():
        if e["status"] == "not checked":
            continue
        assert e["max_rel_error"] is not None and 0 <= e["max_rel_error"] < 1e-4
        assert e["hint"] is None and e["speedup"] is None
    assert doc["summary"]["ok"] == checked and doc["not_found"] == []
    assert "%d checked: %d ok, 0 wrong, 0 not implemented, 0 error" % (checked, checked) in out
    assert "hello from the student" not in out.split("function")[-1]  # the print went to the worker's log
    assert "\033[" not in out  # not a terminal: no colours


#: function -> a piece of the hint its mistake must produce
CONVENTION_HINTS = {
    "layers.dropout_forward": "probability of KEEPING a unit",
    "layers.batchnorm_forward": "biased variance",
    "layers.batchnorm_backward_alt": "must accept that same cache",
    "optim.adam": "Increment t before using it",
    "classifiers.k_nearest_neighbor.KNearestNeighbor.predict_labels": "yours picks the larger",
    "classifiers.k_nearest_neighbor.KNearestNeighbor.compute_distances_no_loops": "take the square root",
    "classifiers.linear_svm.svm_loss_vectorized": "no factor 0.5",
    "classifiers.fc_net.TwoLayerNet": "includes a factor 0.5",
    "classifiers.neural_net.TwoLayerNet": "without the 0.5",
}


def test_each_convention_mistake_is_wrong_with_its_hint():
    rc, out, doc = _check(os.path.join(FIXTURES, "conventions"), "--no-speed")
    results = _by_name(doc)
    assert rc == 1, out
    for name, hint in CONVENTION_HINTS.items():
        assert results[name]["status"] == "wrong", (name, results[name])
        assert hint in (results[name]["hint"] or ""), (name, results[name]["hint"])
        assert results[name]["case"], name
    # Each hint is its own: no two mistakes share one.
    assert len({results[n]["hint"] for n in CONVENTION_HINTS}) == len(CONVENTION_HINTS)
    # The failure's largest error and its case are reported.
    assert results["classifiers.linear_svm.svm_loss_vectorized"]["max_rel_error"] > 1e-3
    assert "reg=" in results["classifiers.linear_svm.svm_loss_vectorized"]["case"]
    # The untouched functions next to them are right.
    for name in ("layers.affine_forward", "layers.affine_backward", "layers.dropout_backward", "optim.sgd",
                 "optim.rmsprop", "classifiers.linear_svm.svm_loss_naive",
                 "classifiers.k_nearest_neighbor.KNearestNeighbor.compute_distances_two_loops"):
        assert results[name]["status"] == "ok", (name, results[name])
    # batchnorm_backward is fed by the wrong forward's cache: wrong, and it says why.
    assert results["layers.batchnorm_backward"]["status"] == "wrong"
    assert "batchnorm_forward is wrong too" in results["layers.batchnorm_backward"]["hint"]
    assert "hint: Ties in the vote go to the smaller label" in out
    # A wrong shape and an exception, planted too.
    relu = results["layers.relu_backward"]
    assert relu["status"] == "wrong" and "the right number of values but the shape" in relu["hint"], relu
    ln = results["layers.layernorm_forward"]
    assert ln["status"] == "error" and "NameError" in ln["message"] and "layers.py" in ln["message"], ln


def test_starter_stubs_are_not_implemented_and_do_not_fail():
    rc, out, doc = _check(os.path.join(FIXTURES, "stubs"), "--no-speed")
    results = _by_name(doc)
    assert rc == 0, out
    assert results.pop("layers.relu_forward")["status"] == "ok"
    assert results.pop("optim.sgd")["status"] == "ok"
    assert set(results) == {"layers.affine_forward", "layers.affine_backward", "layers.batchnorm_forward",
                            "layers.batchnorm_backward", "optim.adam",
                            "classifiers.k_nearest_neighbor.KNearestNeighbor.compute_distances_two_loops",
                            "classifiers.k_nearest_neighbor.KNearestNeighbor.predict_labels",
                            "classifiers.fc_net.TwoLayerNet", "net_visualization_pytorch.compute_saliency_maps",
                            "net_visualization_pytorch.make_fooling_image",
                            "net_visualization_pytorch.class_visualization_update_step"}
    for name, e in results.items():
        if not HAVE_TORCH and name.startswith("net_visualization_pytorch."):
            assert e["status"] == "not checked", (name, e)
            continue
        assert e["status"] == "not implemented", (name, e)
        assert e["hint"] is None and e["max_rel_error"] is None


def test_broken_modules_are_errors_of_their_own(tmp_path):
    """A syntax error in layers.py, a missing import in optim.py and a syntax error in the kNN (which
    classifiers/__init__.py imports): errors for those modules (and layer_utils, which imports
    layers) only, every other module checked."""
    folder = tmp_path / "assignment"
    shutil.copytree(os.path.join(FIXTURES, "good"), str(folder))
    pkg = folder / "cs231n"
    (pkg / "layers.py").write_text("def affine_forward(x, w, b)\n    return x\n")
    (pkg / "optim.py").write_text("import numpy as np\nimport a_module_that_is_not_installed\n")
    (pkg / "classifiers" / "k_nearest_neighbor.py").write_text("class KNearestNeighbor(object):\n    def (self):\n")
    rc, out, doc = _check(folder, "--no-speed")
    results = _by_name(doc)
    assert rc == 1, out
    for name, e in results.items():
        if name.startswith("layers."):
            assert e["status"] == "error" and "SyntaxError" in e["message"] and "layers.py" in e["message"], e
            assert "cannot parse" in e["hint"]
        elif name.startswith("optim."):
            assert e["status"] == "error" and "a_module_that_is_not_installed" in e["message"], e
            assert "imports a_module_that_is_not_installed, which is not installed" in e["hint"]
        elif name.startswith("classifiers.k_nearest_neighbor."):
            assert e["status"] == "error" and "k_nearest_neighbor.py" in e["message"], e
        elif name.startswith("layer_utils."):
            # layer_utils imports the broken layers: an error too, naming the file at fault.
            assert e["status"] == "error" and "SyntaxError" in e["message"] and "layers.py" in e["message"], e
        elif name.startswith("net_visualization_pytorch."):
            assert e["status"] == NOT_CHECKED, (name, e)
        else:
            assert e["status"] == "ok", (name, e)
    assert len([n for n in results if n.startswith("layers.")]) == 21
    # linear_svm was imported without the failing classifiers/__init__.py, and says so.
    svm = results["classifiers.linear_svm.svm_loss_naive"]
    assert any("package __init__" in n for n in svm.get("notes", [])), svm


def test_slow_code_is_capped_and_a_hang_is_killed():
    """A pure-Python two-loop kNN (hours at the assignment's size) is timed up to the cap and reported
    as '>'; an sgd that ignores the alarm is killed by the backstop; the others are still checked."""
    start = time.perf_counter()
    rc, out, doc = _check(os.path.join(FIXTURES, "slow"), "--cap", "0.3", "--only", "two_loops", "--only", "optim",
                          env={"CS231N_RS_CHECK_BACKSTOP_S": "4"})
    elapsed = time.perf_counter() - start
    results = _by_name(doc)
    assert rc == 1, out
    two = results["classifiers.k_nearest_neighbor.KNearestNeighbor.compute_distances_two_loops"]
    assert two["status"] == "ok"  # correct on the small cases
    assert two["speed_capped"] is True and two["student_seconds"] == pytest.approx(0.3)
    assert two["speedup"] > 0 and two["ours_seconds"] > 0
    assert ">" in out
    assert results["optim.sgd"]["status"] == "error" and "killed" in results["optim.sgd"]["message"]
    momentum = results["optim.sgd_momentum"]
    assert momentum["status"] == "ok" and momentum["speedup"] > 0 and momentum["speed_capped"] is False
    assert elapsed < 60


def test_only_list_and_bad_path(tmp_path):
    rc, out, doc = _check(os.path.join(FIXTURES, "conventions"), "--no-speed", "--only", "layers.affine")
    assert rc == 0, out
    assert sorted(e["function"] for e in doc["functions"]) == ["layers.affine_backward", "layers.affine_forward"]
    proc = subprocess.run([sys.executable, "-m", "cs231n_rs", "check", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "no cs231n package" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "cs231n_rs", "check", "--list"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.split() == [s.name for s in _specs.all_specs()]


def test_colours_only_when_asked():
    results = [{"function": "layers.relu_forward", "status": "ok", "max_rel_error": 0.0, "speedup": 2.0},
               {"function": "optim.adam", "status": "wrong", "max_rel_error": 1.0, "speedup": 40.0,
                "speed_capped": True, "case": "c", "hint": "h", "message": "m"}]
    plain = _report.table(results, "/x", colour=False)
    painted = _report.table(results, "/x", colour=True)
    assert "\033[" not in plain and "\033[31;1m" in painted and "\033[32m" in painted
    assert ">40.0x" in plain and "2.0x" in plain and "hint: h" in plain and "case: c" in plain
    assert "2 checked: 1 ok, 1 wrong, 0 not implemented, 0 error" in plain


def test_rel_error_is_cs231ns():
    x = np.array([1.0, 2.0, 0.0])
    y = np.array([1.0, 2.5, 1e-9])
    assert _compare.rel_error(x, y) == pytest.approx(max(0.5 / 4.5, 1e-9 / 1e-8))
    assert _compare.rel_error(x, x) == 0.0
    assert _compare.rel_error(np.array([np.nan]), np.array([1.0])) == float("inf")
    # The scale floor only lifts entries far below the array's largest.
    assert _compare.rel_error(np.array([1.0, 1e-9]), np.array([1.0, 2e-9]), scale_floor=1e-6) < 1e-2


# ---------------------------------------------------------------------------------------------
# More mistakes, each with its hint, checked in-process (the spec functions themselves)
# ---------------------------------------------------------------------------------------------

def svm_loss_counts_correct_class(x, y):
    loss, dx = ref_layers.svm_loss(x, y)
    return loss + 1.0, dx


def batchnorm_test_with_batch_stats(x, gamma, beta, bn_param):
    if bn_param["mode"] == "test":
        return ref_layers.batchnorm_forward(x, gamma, beta, dict(bn_param, mode="train"))
    return ref_layers.batchnorm_forward(x, gamma, beta, bn_param)


def affine_backward_flat_dx(dout, cache):
    dx, dw, db = ref_layers.affine_backward(dout, cache)
    return dx.reshape(dx.shape[0], -1), dw, db


def softmax_loss_without_shift(x, y):
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1
    return loss, p / n


def sgd_momentum_opposite_velocity(w, dw, config=None):
    next_w, config = ref_optim.sgd_momentum(w, dw, config)
    config["velocity"] = -config["velocity"]
    return next_w, config


def sgd_momentum_forgets_velocity(w, dw, config=None):
    next_w, config = ref_optim.sgd_momentum(w, dw, config)
    del config["velocity"]
    return next_w, config


def affine_forward_short_cache(x, w, b):
    out, _ = ref_layers.affine_forward(x, w, b)
    return out, (x, w)


def layernorm_over_the_batch(x, gamma, beta, ln_param):
    return ref_layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})


def spatial_batchnorm_mixing_channels(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out, cache = ref_layers.batchnorm_forward(x.reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(x.shape), cache


def dropout_not_inverted(x, dropout_param):
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if dropout_param["mode"] == "train":
        mask = np.random.rand(*x.shape) < dropout_param["p"]
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, None)


MORE_MISTAKES = [
    ("layers.svm_loss", {"svm_loss": svm_loss_counts_correct_class}, "correct class is counted"),
    ("layers.batchnorm_forward", {"batchnorm_forward": batchnorm_test_with_batch_stats}, "At test time"),
    ("layers.affine_backward",
     {"affine_forward": ref_layers.affine_forward, "affine_backward": affine_backward_flat_dx}, "reshape it to"),
    ("layers.softmax_loss", {"softmax_loss": softmax_loss_without_shift}, "subtract each row's max"),
    ("layers.affine_backward",
     {"affine_forward": affine_forward_short_cache, "affine_backward": ref_layers.affine_backward},
     "cannot use the cache your affine_forward returns"),
    ("optim.sgd_momentum", {"sgd_momentum": sgd_momentum_opposite_velocity}, "opposite sign"),
    ("optim.sgd_momentum", {"sgd_momentum": sgd_momentum_forgets_velocity}, "Store the updated state"),
    ("layers.layernorm_forward", {"layernorm_forward": layernorm_over_the_batch}, "each data point (row)"),
    ("layers.spatial_batchnorm_forward", {"spatial_batchnorm_forward": spatial_batchnorm_mixing_channels},
     "Move the channels last"),
    ("layers.dropout_forward", {"dropout_forward": dropout_not_inverted}, "divides the kept units by p"),
]


@pytest.fixture
def global_rng_restored():
    """run_spec seeds NumPy's global RNG: give the rest of the suite its state back."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


@pytest.mark.parametrize("name, functions, hint", MORE_MISTAKES, ids=[m[2] for m in MORE_MISTAKES])
def test_more_mistakes_have_their_hint(name, functions, hint, global_rng_restored):

    spec = {s.name: s for s in _specs.all_specs()}[name]
    module = types.ModuleType("cs231n." + spec.module)
    for k, v in functions.items():
        setattr(module, k, v)
    result = run_spec(spec, module, FIXTURES, {"speed": False, "case_cap": 20.0})
    assert result["status"] == "wrong", result
    assert hint in (result["hint"] or ""), result
    # The reference itself passes the same spec.
    ok = types.ModuleType("cs231n." + spec.module)
    source = ref_optim if spec.module == "optim" else ref_layers
    for k in functions:
        setattr(ok, k, getattr(source, k))
    assert run_spec(spec, ok, FIXTURES, {"speed": False, "case_cap": 20.0})["status"] == "ok"


def test_blow_up_crash_and_files_stay_in_the_workers(tmp_path):
    """A memory blow-up is a MemoryError of that function (the worker's memory limit), a crash of
    the process is an error of the function that crashed it, the others are still checked, and a
    file the student's code writes lands in the worker's temporary folder, not the assignment's."""
    folder = tmp_path / "assignment"
    shutil.copytree(os.path.join(FIXTURES, "good"), str(folder))
    (folder / "cs231n" / "layers.py").write_text(
        "import os\n"
        "import numpy as np\n"
        "from cs231n_rs.reference.layers import *  # noqa: F403\n"
        "def relu_forward(x):\n"
        "    junk = np.ones((4 * 2**30 // 8,))  # 4 GB\n"
        "    return np.maximum(x, 0) + 0 * junk[0], x\n"
        "def relu_backward(dout, cache):\n"
        "    os.abort()\n"
        "def svm_loss(x, y):\n"
        "    open('written_by_student.txt', 'w').write('x')\n"
        "    from cs231n_rs.reference.layers import svm_loss as ref\n"
        "    return ref(x, y)\n"
    )
    rc, out, doc = _check(folder, "--no-speed", "--memory-limit", "1", "--only", "layers.")
    results = _by_name(doc)
    assert rc == 1, out
    relu = results["layers.relu_forward"]
    assert relu["status"] == "error" and "MemoryError" in relu["message"], relu
    back = results["layers.relu_backward"]
    assert back["status"] == "error" and "died" in back["message"], back
    assert results["layers.svm_loss"]["status"] == "ok"
    assert not (folder / "written_by_student.txt").exists()
    others = [n for n in results if n not in ("layers.relu_forward", "layers.relu_backward")]
    assert len(others) == 19 and all(results[n]["status"] == "ok" for n in others), out
    assert doc["options"]["memory_limit_gb"] == 1.0
