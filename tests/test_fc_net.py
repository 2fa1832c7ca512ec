"""cs231n_rs.classifiers.fc_net against the reference nets: identical initialisation (NumPy's global
RNG in cs231n's order), the same loss, gradients, scores, bn_param running statistics and RNG state
after a step, in float64 and float32, for every normalization and dropout setting."""

import numpy as np
import pytest
from conftest import assert_close

from cs231n_rs import layers
from cs231n_rs.classifiers import fc_net
from cs231n_rs.reference import fc_net as ref_fc_net

pytestmark = pytest.mark.usefixtures("np_seed")


def twin_nets(cls_name, init_seed=0, **kwargs):
    np.random.seed(init_seed)
    ours = getattr(fc_net, cls_name)(**kwargs)
    np.random.seed(init_seed)
    ref = getattr(ref_fc_net, cls_name)(**kwargs)
    return ours, ref


def assert_same_step(ours, ref, X, y, dtype):
    state = np.random.get_state()
    loss, grads = ours.loss(X, y)
    state_ours = np.random.get_state()
    np.random.set_state(state)
    ref_loss, ref_grads = ref.loss(X, y)
    state_ref = np.random.get_state()
    np.testing.assert_array_equal(state_ours[1], state_ref[1])
    assert state_ours[2:] == state_ref[2:]
    assert np.asarray(loss).dtype == np.asarray(ref_loss).dtype
    assert_close(loss, ref_loss, dtype=dtype)
    assert grads.keys() == ref_grads.keys() == ours.params.keys()
    # A bias right before batchnorm has a zero true gradient: both sides give rounding noise there,
    # so every gradient is compared relative to the largest gradient entry of the step (in float32
    # that noise reaches ~2e-5 of it: batch sums of the normalized upstream gradient cancel).
    top = max(np.abs(g).max() for g in ref_grads.values())
    for k in grads:
        assert grads[k].dtype == ref_grads[k].dtype and grads[k].shape == ref_grads[k].shape, k
        scale = max(np.abs(ref_grads[k]).max(), 1e-3 * top)
        atol = 1e-12 if dtype == np.float64 else 1e-4 * top / scale
        assert_close(grads[k] / scale, ref_grads[k] / scale, dtype=dtype, atol=atol, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.6])
@pytest.mark.parametrize("seed", [None, 7])
def test_fully_connected_net_matches_reference(dtype, normalization, keep, seed):
    kwargs = dict(hidden_dims=[20, 15, 12], input_dim=3 * 4 * 5, num_classes=7, dropout_keep_ratio=keep,
                  normalization=normalization, reg=0.3, weight_scale=5e-2, dtype=dtype, seed=seed)
    ours, ref = twin_nets("FullyConnectedNet", **kwargs)
    for k in ref.params:
        np.testing.assert_array_equal(ours.params[k], ref.params[k])
        assert ours.params[k].dtype == dtype
    rs = np.random.RandomState(3)
    X, y = rs.randn(16, 3, 4, 5) * 2, rs.randint(7, size=16)
    for _ in range(3):  # running statistics carry over between steps
        assert_same_step(ours, ref, X, y, dtype)
    for a, b in zip(ours.bn_params, ref.bn_params):
        assert a.keys() == b.keys()
        for k in a:
            if k != "mode":
                assert_close(a[k], b[k], dtype=dtype, atol=1e-14)
    scores = ours.loss(X)
    assert_close(scores, ref.loss(X), dtype=dtype, atol=1e-12 if dtype == np.float64 else 1e-5)
    assert scores.dtype == dtype
    if normalization == "batchnorm":
        assert all(p["mode"] == "test" for p in ours.bn_params)
    if keep != 1:
        assert ours.dropout_param["mode"] == "test"


def test_two_layer_net_matches_reference_and_reads_params_at_call_time():
    ours, ref = twin_nets("TwoLayerNet", input_dim=12, hidden_dim=9, num_classes=4, weight_scale=1e-1, reg=0.0)
    X, y = np.linspace(-1, 1, 12 * 5).reshape(12, 5).T, np.array([0, 3, 1, 2, 1])  # non-contiguous, as the notebook
    assert_same_step(ours, ref, X, y, np.float64)
    ours.reg = ref.reg = 1.5
    ours.params["W2"] = ref.params["W2"] = np.ones((9, 4))
    assert_same_step(ours, ref, X, y, np.float64)


def test_x_is_not_copied_when_it_has_the_net_dtype(monkeypatch):
    ours, _ = twin_nets("FullyConnectedNet", hidden_dims=[5], input_dim=6, num_classes=3, dtype=np.float64)
    seen = []
    real = fc_net.affine_relu_forward

    def spy(x, w, b):
        seen.append(x)
        return real(x, w, b)

    monkeypatch.setattr(fc_net, "affine_relu_forward", spy)
    X = np.random.randn(4, 6)
    ours.loss(X, np.array([0, 1, 2, 0]))
    assert seen[0] is X
    ours.loss(X.astype(np.float32), np.array([0, 1, 2, 0]))
    assert seen[1].dtype == np.float64


def test_dropout_without_the_live_generator_gives_the_same_masks(monkeypatch):
    """The get_state / set_state path (for NumPy builds without the generator's ctypes view)."""
    x = np.random.randn(30, 40)
    np.random.seed(11)
    live, (_, live_mask) = layers.dropout_forward(x, {"mode": "train", "p": 0.3})
    after_live = np.random.get_state()
    monkeypatch.setattr(layers, "_global_mt19937", lambda: None)
    np.random.seed(11)
    slow, (_, slow_mask) = layers.dropout_forward(x, {"mode": "train", "p": 0.3})
    np.testing.assert_array_equal(live_mask, slow_mask)
    np.testing.assert_array_equal(live, slow)
    np.testing.assert_array_equal(after_live[1], np.random.get_state()[1])
    assert after_live[2] == np.random.get_state()[2]
