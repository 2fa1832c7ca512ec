"""The ``cs231n-rs`` command: ``bench`` (JSON report), ``tour`` (plots and summary), ``--version``,
``python -m cs231n_rs`` and the console script. Everything runs with ``--quick``."""

import json
import os
import pickle
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import cs231n_rs
from cs231n_rs.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOUR_PNGS = ["knn_cross_validation.png", "svm_weights.png", "softmax_weights.png", "svm_loss_history.png",
             "two_layer_net_training.png", "two_layer_net_weights.png", "fully_connected_nets.png",
             "conv_net_training.png", "conv_net_filters.png", "saliency_maps.png", "fooling_image.png",
             "class_visualization.png"]
RESULT_KEYS = {"kernel", "shape", "dtype", "threads", "reference_ms", "ours_ms", "speedup", "torch_ms"}


@pytest.fixture(autouse=True)
def _isolate(np_seed, restore_threads):
    """The CLI seeds NumPy's global RNG and sets thread counts: restore both after each test."""
    yield


def _bench(tmp_path, *extra):
    path = tmp_path / "b.json"
    assert main(["bench", "--quick", "--json", str(path), *extra]) == 0
    with open(path) as f:
        return json.load(f)


def test_bench_json_report(tmp_path, capsys):
    report = _bench(tmp_path, "--only", "softmax")
    out = capsys.readouterr().out

    assert report["command"] == "cs231n-rs bench --quick --json %s --only softmax" % (tmp_path / "b.json")
    assert report["version"] == cs231n_rs.__version__
    assert report["numpy"] == np.__version__
    assert report["threads"] == cs231n_rs.get_num_threads()
    assert report["machine"]["cpu_count"] == os.cpu_count()
    assert report["machine"]["platform"]

    results = report["results"]
    kernels = [r["kernel"] for r in results]
    assert kernels and all("softmax" in k.lower() for k in kernels)
    assert "Softmax.train" in kernels and "softmax_loss_vectorized (call overhead)" in kernels
    assert {r["dtype"] for r in results if r["kernel"] == "softmax_loss_vectorized"} == {"float32", "float64"}
    for r in results:
        assert set(r) == RESULT_KEYS
        assert r["threads"] == report["threads"]
        assert r["reference_ms"] > 0 and r["ours_ms"] > 0
        assert r["speedup"] == pytest.approx(r["reference_ms"] / r["ours_ms"], rel=1e-12)
        assert r["torch_ms"] is None or r["torch_ms"] > 0
        assert r["kernel"] in out  # one table row per result

    assert "ref ms" in out and "ours ms" in out and "speed-up" in out
    assert re.search(r"ours - reference = [+-]\d+\.\d+ us", out)


def test_bench_threads_are_applied_and_restored(tmp_path):
    before = cs231n_rs.get_num_threads()
    report = _bench(tmp_path, "--only", "call overhead", "--threads", "1")
    assert report["threads"] == 1
    assert [r["threads"] for r in report["results"]] == [1]
    assert cs231n_rs.get_num_threads() == before


def test_bench_rejects_bad_options(capsys):
    assert main(["bench", "--repeats", "2"]) == 2  # at least 5 unless --quick
    assert "--repeats" in capsys.readouterr().err
    assert main(["bench", "--quick", "--only", "no-such-kernel"]) == 2
    assert "knn.predict" in capsys.readouterr().err  # lists the kernels


def _table_rows(out):
    """{pipeline: (val acc, test acc)} from the tour's summary table."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"(kNN|SVM|Softmax)\s+(.+?)\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d+\.\d)$", line)
        if m:
            rows[m.group(1)] = (float(m.group(3)), float(m.group(4)))
    return rows


def _assert_pngs(folder):
    for name in TOUR_PNGS:
        path = folder / name
        assert path.is_file(), name
        assert path.read_bytes()[:8] == PNG_MAGIC, name


def test_tour_on_digits(tmp_path, capsys):
    assert main(["tour", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    _assert_pngs(tmp_path)
    rows = _table_rows(out)
    assert set(rows) == {"kNN", "SVM", "Softmax"}
    for pipeline, (val_acc, test_acc) in rows.items():
        assert 0.85 < val_acc <= 1 and 0.85 < test_acc <= 1, (pipeline, val_acc, test_acc)
    assert str(tmp_path.resolve()) in out


def _fake_cifar(folder, per_batch=1100, num_test=500):
    """A CIFAR-10 folder of random images (enough for the quick CIFAR sizes)."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    for name, n in [("data_batch_%d" % b, per_batch) for b in range(1, 6)] + [("test_batch", num_test)]:
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": rng.integers(0, 10, n).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return folder


def test_tour_on_cifar_folder(tmp_path, capsys):
    cifar = _fake_cifar(tmp_path / "cifar-10-batches-py")
    out_dir = tmp_path / "out"
    assert main(["tour", "--quick", "--cifar-dir", str(cifar), "--out", str(out_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "CIFAR-10" in out
    _assert_pngs(out_dir)
    assert set(_table_rows(out)) == {"kNN", "SVM", "Softmax"}  # random labels: accuracies are chance


def test_tour_missing_cifar_folder(tmp_path, capsys):
    assert main(["tour", "--cifar-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    assert "nowhere" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == "cs231n-rs %s" % cs231n_rs.__version__


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "tour" in capsys.readouterr().out


def _run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_python_dash_m():
    proc = _run([sys.executable, "-m", "cs231n_rs", "--version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cs231n-rs %s" % cs231n_rs.__version__


def test_console_script():
    script = shutil.which("cs231n-rs", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the cs231n-rs console script is not installed next to %s" % sys.executable)
    proc = _run([script, "--version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cs231n-rs %s" % cs231n_rs.__version__
