"""The tour's ThreeLayerConvNet stage (``cs231n_rs._tour_conv``), run once with ``--quick`` on the
embedded digits through ``cs231n-rs tour`` with :data:`cs231n_rs.tour.STAGES` cut down to this stage
(the whole tour runs in test_cli.py)."""

import contextlib
import io
import re

import numpy as np
import pytest
from matplotlib.image import imread

import cs231n_rs
from cs231n_rs import _tour_conv, tour
from cs231n_rs.classifiers.cnn import ThreeLayerConvNet
from cs231n_rs.cli import main

#: Measured: the quick run (2 epochs) reaches val 0.97 / test 0.96 with seed 0 (0.94-0.97 val over
#: seeds 0..2); chance is 0.1.
QUICK_MIN_ACC = 0.9


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``cs231n-rs tour --quick --no-progress`` with only the conv stage and a stage that keeps the
    shared ``data`` dict: (stdout, out folder, data)."""
    out = tmp_path_factory.mktemp("tour_conv")
    kept = {}

    def keep_data(data, out, progress, quick=False):
        kept.update(data)
        return []

    state, threads = np.random.get_state(), cs231n_rs.get_num_threads()
    stdout = io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
            mp.setattr(tour, "STAGES", [tour.stage_conv_net, keep_data])
            assert main(["tour", "--quick", "--no-progress", "--out", str(out)]) == 0
    finally:
        np.random.set_state(state)
        cs231n_rs.set_num_threads(threads)
    return stdout.getvalue(), out, kept


def _row(text):
    pattern = r"^ThreeLayerConvNet +adam lr=0\.001 h=100 ep=2 +(\d\.\d{3}) +(\d\.\d{3}) +\d+\.\d$"
    m = re.search(pattern, text, re.MULTILINE)
    assert m, text
    return float(m.group(1)), float(m.group(2))


def test_stage_follows_the_fully_connected_stage():
    assert tour.STAGES[tour.STAGES.index(tour.stage_fully_connected_nets) + 1] is tour.stage_conv_net
    assert tour.stage_conv_net is _tour_conv.stage_conv_net


def test_quick_run_prints_the_row_and_learns(quick_run):
    text, _, data = quick_run
    val_acc, test_acc = _row(text)
    assert QUICK_MIN_ACC <= val_acc <= 1 and QUICK_MIN_ACC <= test_acc <= 1, (val_acc, test_acc)
    assert data["conv_net"]["val_acc"] == pytest.approx(val_acc, abs=5e-4)  # the table rounds to 3 places
    header = next(line for line in text.splitlines() if line.startswith("pipeline"))
    assert header.index("best hyperparameters") == len("ThreeLayerConvNet") + 1  # the column fits the name


@pytest.mark.parametrize("name", ["conv_net_training.png", "conv_net_filters.png"])
def test_quick_run_writes_pngs(quick_run, name):
    _, out, _ = quick_run
    image = imread(out / name)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert min(image.shape[:2]) >= 200
    assert np.ptp(image[..., :3]) > 0.5  # not blank


def test_filters_png_shows_the_visualize_grid(quick_run, tmp_path):
    """conv_net_filters.png is W1 through visualize_grid: redraw it from the stored model."""
    _, out, data = quick_run
    W1 = data["conv_net"]["model"].params["W1"]
    _tour_conv.plot_conv_filters(W1, tmp_path / "again.png", "Three-layer convnet")
    np.testing.assert_array_equal(imread(tmp_path / "again.png"), imread(out / "conv_net_filters.png"))
    _tour_conv.plot_conv_filters(W1[::-1], tmp_path / "reversed.png", "Three-layer convnet")
    assert not np.array_equal(imread(tmp_path / "reversed.png"), imread(out / "conv_net_filters.png"))


def test_data_keeps_the_trained_model(quick_run):
    _, _, data = quick_run
    conv = data["conv_net"]
    assert set(conv) == {"model", "mean_image", "val_acc", "classes"}
    assert conv["classes"] == data["classes"] and len(conv["classes"]) == 10
    model = conv["model"]
    assert isinstance(model, ThreeLayerConvNet)
    assert model.params["W1"].shape == (32, 3, 7, 7)
    assert {v.dtype for v in model.params.values()} == {np.dtype(np.float32)}
    s = data["splits"]
    np.testing.assert_array_equal(conv["mean_image"], np.mean(s["X_train"], axis=0))
    assert conv["mean_image"].shape == (3, 32, 32)

    # loss(X) gives scores, and the stored (best) parameters have the reported val accuracy: the
    # Solver measured it on the same float32 images, in batches of 100
    X_val = (s["X_val"] - conv["mean_image"]).astype(np.float32)
    scores = np.concatenate([model.loss(X_val[i : i + 100]) for i in range(0, len(X_val), 100)])
    assert scores.shape == (len(X_val), 10)
    assert np.all(np.isfinite(scores))
    assert np.mean(np.argmax(scores, axis=1) == s["y_val"]) == conv["val_acc"]
    assert model.loss(X_val[:7]).shape == (7, 10)


def test_conv_net_data_subtracts_the_mean_image():
    splits = {"X_train": np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4) * 1.5,
              "y_train": np.array([0, 1]), "X_val": np.full((1, 3, 4, 4), 7.25), "y_val": np.array([1]),
              "X_test": np.zeros((3, 3, 4, 4)), "y_test": np.array([0, 1, 2])}
    before = {k: v.copy() for k, v in splits.items()}
    solver_data, X_test, y_test, mean_image = _tour_conv.conv_net_data({"splits": splits})
    mean = (splits["X_train"][0] + splits["X_train"][1]) / 2
    np.testing.assert_array_equal(mean_image, mean)
    pairs = [(solver_data["X_train"], splits["X_train"]), (solver_data["X_val"], splits["X_val"]),
             (X_test, splits["X_test"])]
    for got, X in pairs:
        assert got.dtype == np.float32 and got.shape == X.shape
        np.testing.assert_array_equal(got, (X - mean).astype(np.float32))
    np.testing.assert_array_equal(solver_data["y_train"], splits["y_train"])
    np.testing.assert_array_equal(solver_data["y_val"], splits["y_val"])
    np.testing.assert_array_equal(y_test, splits["y_test"])
    for k, v in before.items():
        np.testing.assert_array_equal(splits[k], v)
    assert _tour_conv.conv_net_data({"splits": splits}, np.float64)[0]["X_val"].dtype == np.float64
    # --quick on CIFAR-10: the first training images only, still centred on the whole split's mean
    first, _, _, first_mean = _tour_conv.conv_net_data({"splits": splits}, num_train=1)
    np.testing.assert_array_equal(first_mean, mean)
    np.testing.assert_array_equal(first["X_train"], (splits["X_train"][:1] - mean).astype(np.float32))
    np.testing.assert_array_equal(first["y_train"], [0])
    assert len(first["X_val"]) == 1
