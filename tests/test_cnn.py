"""cs231n_rs.classifiers.cnn.ThreeLayerConvNet against the reference net: the same parameters from
the same seed, the same scores, loss and gradients (float32 and float64, with and without reg), the
sanity checks of the notebook, and a short Solver run."""

import numpy as np
import pytest
from conftest import assert_close

from cs231n_rs.classifiers.cnn import ThreeLayerConvNet
from cs231n_rs.reference import cnn as ref_cnn
from cs231n_rs.solver import Solver

pytestmark = pytest.mark.usefixtures("np_seed")


def pair(seed=0, **kw):
    np.random.seed(seed)
    ours = ThreeLayerConvNet(**kw)
    np.random.seed(seed)
    ref = ref_cnn.ThreeLayerConvNet(**kw)
    return ours, ref


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_loss_and_grads_match_reference(dtype, reg):
    kw = dict(input_dim=(3, 12, 10), num_filters=5, filter_size=3, hidden_dim=7, num_classes=4, weight_scale=0.1, reg=reg, dtype=dtype)
    ours, ref = pair(**kw)
    for k in ref.params:
        np.testing.assert_array_equal(ours.params[k], ref.params[k])
        assert ours.params[k].dtype == dtype
    rng = np.random.RandomState(1)
    X = rng.randn(6, 3, 12, 10).astype(dtype)
    y = rng.randint(4, size=6)
    assert_close(ours.loss(X), ref.loss(X), dtype=dtype)
    loss, grads = ours.loss(X, y)
    rloss, rgrads = ref.loss(X, y)
    assert_close(loss, rloss, dtype=dtype)
    assert set(grads) == set(rgrads)
    for k in rgrads:
        assert grads[k].shape == rgrads[k].shape and grads[k].dtype == rgrads[k].dtype, k
        assert_close(grads[k], rgrads[k], dtype=dtype, atol=1e-12 if dtype == np.float64 else 1e-6, err_msg=k)


def test_float64_images_with_float32_params_promote_as_numpy():
    ours, ref = pair(input_dim=(3, 8, 8), num_filters=4, filter_size=5, hidden_dim=6, num_classes=3)
    X = np.random.RandomState(2).randn(4, 3, 8, 8)  # not cast to self.dtype, as in cs231n
    y = np.array([0, 1, 2, 1])
    loss, grads = ours.loss(X, y)
    rloss, rgrads = ref.loss(X, y)
    assert_close(loss, rloss, dtype=np.float32)
    for k in rgrads:
        assert grads[k].dtype == rgrads[k].dtype, k


def test_notebook_sanity_checks():
    np.random.seed(231)
    model = ThreeLayerConvNet()
    N = 50
    X = np.random.randn(N, 3, 32, 32)
    y = np.random.randint(10, size=N)
    loss, _ = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.01  # "Initial loss (no regularization)" ~ log(C)
    model.reg = 0.5
    loss_reg, _ = model.loss(X, y)
    assert loss_reg > loss  # "Initial loss (with regularization)": goes up slightly


def test_odd_image_sizes_work():
    """cs231n's fast pool would fail on odd sizes (its im2col pool is broken); ours floors like the
    naive layer, and the net's W2 is sized for H // 2 * W // 2."""
    model = ThreeLayerConvNet(input_dim=(1, 9, 7), num_filters=2, filter_size=3, hidden_dim=5, num_classes=3)
    X = np.random.RandomState(3).randn(2, 1, 9, 7).astype(np.float32)
    loss, grads = model.loss(X, np.array([0, 2]))
    assert np.isfinite(loss) and grads["W2"].shape == (2 * 4 * 3, 5)


def test_solver_overfits_small_data():
    rng = np.random.RandomState(0)
    data = {
        "X_train": rng.randn(20, 3, 8, 8), "y_train": rng.randint(3, size=20),
        "X_val": rng.randn(10, 3, 8, 8), "y_val": rng.randint(3, size=10),
    }
    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=8, filter_size=3, hidden_dim=32, num_classes=3, weight_scale=0.05)
    solver = Solver(model, data, num_epochs=30, batch_size=10, update_rule="adam", optim_config={"learning_rate": 1e-2}, verbose=False)
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
