"""The NumPy reference layers, sandwiches and fully connected nets (cs231n_rs.reference.layers,
layer_utils, fc_net) checked against numeric gradients at the notebooks' tolerances and against the
values the cs231n notebooks print."""

import numpy as np
import pytest
from conftest import rel_error

from cs231n_rs.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from cs231n_rs.reference import fc_net, layer_utils, layers
from cs231n_rs.reference.fc_net import FullyConnectedNet, TwoLayerNet
from cs231n_rs.reference.layer_utils import (
    affine_bn_relu_backward,
    affine_bn_relu_forward,
    affine_ln_relu_backward,
    affine_ln_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)
from cs231n_rs.reference.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)
from cs231n_rs.reference.linear import softmax_loss_naive, svm_loss_naive

pytestmark = pytest.mark.usefixtures("np_seed")


# ---------------------------------------------------------------------------------------------
# Import surface
# ---------------------------------------------------------------------------------------------


def test_submodules_exported():
    import cs231n_rs.reference as ref

    assert ref.layers is layers and ref.layer_utils is layer_utils and ref.fc_net is fc_net
    assert ref.TwoLayerNet is TwoLayerNet and ref.FullyConnectedNet is FullyConnectedNet
    for name in layers.__all__:
        assert callable(getattr(layers, name))
    for name in layer_utils.__all__:
        assert callable(getattr(layer_utils, name))


# ---------------------------------------------------------------------------------------------
# Affine / ReLU
# ---------------------------------------------------------------------------------------------


def test_affine_forward_notebook_values():
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    input_size = num_inputs * np.prod(input_shape)
    weight_size = output_dim * np.prod(input_shape)
    x = np.linspace(-0.1, 0.5, num=input_size).reshape(num_inputs, *input_shape)
    w = np.linspace(-0.2, 0.3, num=weight_size).reshape(np.prod(input_shape), output_dim)
    b = np.linspace(-0.3, 0.1, num=output_dim)
    out, cache = affine_forward(x, w, b)
    correct_out = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    assert rel_error(out, correct_out) < 1e-8  # "around e-9 or less"
    assert cache[0] is x and cache[1] is w and cache[2] is b


def test_affine_backward_numeric():
    np.random.seed(231)
    x = np.random.randn(10, 2, 3)
    w = np.random.randn(6, 5)
    b = np.random.randn(5)
    dout = np.random.randn(10, 5)
    dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda w: affine_forward(x, w, b)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda b: affine_forward(x, w, b)[0], b, dout)
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert rel_error(dx_num, dx) < 1e-9
    assert rel_error(dw_num, dw) < 1e-9
    assert rel_error(db_num, db) < 1e-9


def test_relu_forward_notebook_values():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, cache = relu_forward(x)
    correct_out = np.array(
        [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.04545455, 0.13636364], [0.22727273, 0.31818182, 0.40909091, 0.5]]
    )
    assert rel_error(out, correct_out) < 1e-7  # "on the order of e-8"
    assert cache is x


def test_relu_backward_numeric():
    np.random.seed(231)
    x = np.random.randn(10, 10)
    dout = np.random.randn(*x.shape)
    dx_num = eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout)
    _, cache = relu_forward(x)
    assert rel_error(dx_num, relu_backward(dout, cache)) < 1e-11


def test_affine_relu_sandwich():
    np.random.seed(231)
    x = np.random.randn(2, 3, 4)
    w = np.random.randn(12, 10)
    b = np.random.randn(10)
    dout = np.random.randn(2, 10)
    out, cache = affine_relu_forward(x, w, b)
    (cx, cw, cb), a = cache
    assert cx is x and cw is w and cb is b
    np.testing.assert_array_equal(a, x.reshape(2, -1).dot(w) + b)
    np.testing.assert_array_equal(out, np.maximum(0, a))
    dx, dw, db = affine_relu_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda x: affine_relu_forward(x, w, b)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda w: affine_relu_forward(x, w, b)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda b: affine_relu_forward(x, w, b)[0], b, dout)
    assert rel_error(dx_num, dx) < 1e-9
    assert rel_error(dw_num, dw) < 1e-9
    assert rel_error(db_num, db) < 1e-9


@pytest.mark.parametrize("norm", ["bn", "ln"])
def test_affine_norm_relu_sandwich(norm):
    np.random.seed(231)
    x = np.random.randn(4, 3, 2)
    w = np.random.randn(6, 5)
    b = np.random.randn(5)
    gamma = np.random.randn(5)
    beta = np.random.randn(5)
    dout = np.random.randn(4, 5)
    fwd, bwd = {
        "bn": (affine_bn_relu_forward, affine_bn_relu_backward),
        "ln": (affine_ln_relu_forward, affine_ln_relu_backward),
    }[norm]
    param = {"mode": "train"}
    out, cache = fwd(x, w, b, gamma, beta, param)
    assert len(cache) == 3
    grads = bwd(dout, cache)
    args = [x, w, b, gamma, beta]
    for i, g in enumerate(grads):

        def f(_, i=i):
            return fwd(*args, param)[0]

        num = eval_numerical_gradient_array(f, args[i], dout)
        assert g.shape == args[i].shape
        if norm == "bn" and i == 2:
            # A bias right before batchnorm cancels out: its true gradient is 0.
            np.testing.assert_allclose(g, 0.0, atol=1e-12)
            np.testing.assert_allclose(num, 0.0, atol=1e-8)
        else:
            assert rel_error(num, g) < 1e-7, i


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------


def test_svm_loss_notebook_check():
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    dx_num = eval_numerical_gradient(lambda x: svm_loss(x, y)[0], x, verbose=False)
    loss, dx = svm_loss(x, y)
    assert abs(loss - 9) < 0.1  # "Loss should be around 9"
    assert rel_error(dx_num, dx) < 1e-8  # "around the order of e-9"
    # Same as the linear classifier's loop version with X = I (scores = W = x) and reg = 0.
    loss_naive, dx_naive = svm_loss_naive(x, np.eye(num_inputs), y, 0.0)
    assert abs(loss - loss_naive) < 1e-12
    np.testing.assert_allclose(dx, dx_naive, rtol=1e-12, atol=1e-15)


def test_softmax_loss_notebook_check():
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    dx_num = eval_numerical_gradient(lambda x: softmax_loss(x, y)[0], x, verbose=False)
    loss, dx = softmax_loss(x, y)
    assert abs(loss - 2.3) < 0.05  # "Loss should be close to 2.3"
    assert rel_error(dx_num, dx) < 1e-7  # "around e-8"
    loss_naive, dx_naive = softmax_loss_naive(x, np.eye(num_inputs), y, 0.0)
    assert abs(loss - loss_naive) < 1e-12
    np.testing.assert_allclose(dx, dx_naive, rtol=1e-10, atol=1e-15)


def test_softmax_loss_large_scores_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 1e4, 0.0]])
    y = np.array([0, 2])
    loss, dx = softmax_loss(x, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert abs(loss - 1e4 / 2) < 1e-9
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-15)


def test_svm_loss_margin_and_exclusion():
    x = np.array([[0.0, 0.5, 2.0], [1.0, 1.0, 1.0]])
    y = np.array([0, 1])
    loss, dx = svm_loss(x, y)
    # Row 0: margins 1.5 and 3.0; row 1: margins 1 and 1 (correct class excluded).
    assert loss == pytest.approx((1.5 + 3.0 + 1.0 + 1.0) / 2)
    np.testing.assert_array_equal(dx, np.array([[-2.0, 1.0, 1.0], [1.0, -2.0, 1.0]]) / 2)


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------


def _bn_data(seed=231, N=200, D1=50, D2=60, D3=3):
    np.random.seed(seed)
    X = np.random.randn(N, D1)
    W1 = np.random.randn(D1, D2)
    W2 = np.random.randn(D2, D3)
    return np.maximum(0, X.dot(W1)).dot(W2)


def test_batchnorm_forward_train_statistics():
    a = _bn_data()
    for gamma, beta in [(np.ones(3), np.zeros(3)), (np.asarray([1.0, 2.0, 3.0]), np.asarray([11.0, 12.0, 13.0]))]:
        bn_param = {"mode": "train"}
        out, _ = batchnorm_forward(a, gamma, beta, bn_param)
        np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-9)
        var = a.var(axis=0)
        np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(var / (var + 1e-5)), rtol=1e-10)
        # The caller's dict gets the running statistics after one step from zeros.
        np.testing.assert_allclose(bn_param["running_mean"], 0.1 * a.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], 0.1 * var, rtol=1e-12)


def test_batchnorm_running_stats_and_test_mode_notebook_values():
    np.random.seed(231)
    N, D1, D2, D3 = 200, 50, 60, 3
    W1 = np.random.randn(D1, D2)
    W2 = np.random.randn(D2, D3)
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(D3), np.zeros(D3)
    rm, rv = np.zeros(D3), np.zeros(D3)
    for t in range(50):
        X = np.random.randn(N, D1)
        a = np.maximum(0, X.dot(W1)).dot(W2)
        batchnorm_forward(a, gamma, beta, bn_param)
        rm = 0.9 * rm + 0.1 * a.mean(axis=0)
        rv = 0.9 * rv + 0.1 * np.mean((a - a.mean(axis=0)) ** 2, axis=0)  # biased variance
    np.testing.assert_allclose(bn_param["running_mean"], rm, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], rv, rtol=1e-12)

    bn_param["mode"] = "test"
    X = np.random.randn(N, D1)
    a = np.maximum(0, X.dot(W1)).dot(W2)
    a_norm, _ = batchnorm_forward(a, gamma, beta, bn_param)
    np.testing.assert_allclose(a_norm, (a - rm) / np.sqrt(rv + 1e-5), rtol=1e-12, atol=1e-14)
    # What the BatchNormalization notebook prints after 50 training steps.
    np.testing.assert_allclose(a_norm.mean(axis=0), [-0.03927354, -0.04349152, -0.10452688], atol=1e-8)
    np.testing.assert_allclose(a_norm.std(axis=0), [1.01531428, 1.01238373, 0.97819988], atol=1e-8)
    # Test mode leaves the running statistics unchanged but still writes them back.
    np.testing.assert_allclose(bn_param["running_mean"], rm, rtol=1e-12)


def test_batchnorm_params_eps_momentum_and_defaults():
    np.random.seed(0)
    x = np.random.randn(8, 4)
    gamma, beta = np.random.randn(4), np.random.randn(4)
    bn_param = {"mode": "train", "eps": 1e-3, "momentum": 0.5, "running_mean": np.ones(4), "running_var": np.ones(4)}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    mu, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], 0.5 + 0.5 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.5 + 0.5 * var, rtol=1e-12)

    # Test mode with no running stats yet: zeros (normalizes by sqrt(eps)).
    bn_param = {"mode": "test"}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * x / np.sqrt(1e-5) + beta, rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], np.zeros(4))
    np.testing.assert_array_equal(bn_param["running_var"], np.zeros(4))

    # float32 data: the zero-initialized running stats are float32 and stay float32.
    bn_param = {"mode": "train"}
    out, _ = batchnorm_forward(x.astype(np.float32), gamma.astype(np.float32), beta.astype(np.float32), bn_param)
    assert out.dtype == np.float32
    assert bn_param["running_mean"].dtype == np.float32 and bn_param["running_var"].dtype == np.float32


def test_batchnorm_mode_errors():
    x = np.random.randn(3, 2)
    with pytest.raises(KeyError):
        batchnorm_forward(x, np.ones(2), np.zeros(2), {})
    with pytest.raises(ValueError, match='Invalid forward batchnorm mode "bogus"'):
        batchnorm_forward(x, np.ones(2), np.zeros(2), {"mode": "bogus"})


def test_batchnorm_backward_numeric():
    np.random.seed(231)
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    bn_param = {"mode": "train"}
    dx_num = eval_numerical_gradient_array(lambda x: batchnorm_forward(x, gamma, beta, bn_param)[0], x, dout)
    da_num = eval_numerical_gradient_array(lambda a: batchnorm_forward(x, a, beta, bn_param)[0], gamma.copy(), dout)
    db_num = eval_numerical_gradient_array(lambda b: batchnorm_forward(x, gamma, b, bn_param)[0], beta.copy(), dout)
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        dx, dgamma, dbeta = backward(dout, cache)
        # "You should expect to see relative errors between 1e-13 and 1e-8."
        assert rel_error(dx_num, dx) < 1e-8
        assert rel_error(da_num, dgamma) < 1e-8
        assert rel_error(db_num, dbeta) < 1e-8


def test_batchnorm_backward_alt_matches_graph_version():
    np.random.seed(231)
    N, D = 100, 500
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx1, dgamma1, dbeta1 = batchnorm_backward(dout, cache)
    dx2, dgamma2, dbeta2 = batchnorm_backward_alt(dout, cache)
    assert rel_error(dx1, dx2) < 1e-10
    assert rel_error(dgamma1, dgamma2) < 1e-14
    assert rel_error(dbeta1, dbeta2) < 1e-14


# ---------------------------------------------------------------------------------------------
# Layer normalization
# ---------------------------------------------------------------------------------------------


def test_layernorm_forward():
    a = _bn_data(D3=4)
    gamma, beta = np.asarray([3.0, 3.0, 3.0, 3.0]), np.asarray([5.0, 5.0, 5.0, 5.0])
    for ln_param in ({}, {"mode": "train"}, {"mode": "test"}):
        out, cache = layernorm_forward(a, gamma, beta, ln_param)
        np.testing.assert_allclose(out.mean(axis=1), 5.0, rtol=1e-12)
        var = a.var(axis=1)
        np.testing.assert_allclose(out.std(axis=1), 3.0 * np.sqrt(var / (var + 1e-5)), rtol=1e-10)
    out, _ = layernorm_forward(a, gamma, beta, {"eps": 1e-2})
    mu, var = a.mean(axis=1, keepdims=True), a.var(axis=1, keepdims=True)
    np.testing.assert_allclose(out, gamma * (a - mu) / np.sqrt(var + 1e-2) + beta, rtol=1e-12)


def test_layernorm_backward_numeric():
    np.random.seed(231)
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    ln_param = {}
    dx_num = eval_numerical_gradient_array(lambda x: layernorm_forward(x, gamma, beta, ln_param)[0], x, dout)
    da_num = eval_numerical_gradient_array(lambda a: layernorm_forward(x, a, beta, ln_param)[0], gamma.copy(), dout)
    db_num = eval_numerical_gradient_array(lambda b: layernorm_forward(x, gamma, b, ln_param)[0], beta.copy(), dout)
    _, cache = layernorm_forward(x, gamma, beta, ln_param)
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    # "You should expect to see relative errors between 1e-12 and 1e-8."
    assert rel_error(dx_num, dx) < 1e-8
    assert rel_error(da_num, dgamma) < 1e-8
    assert rel_error(db_num, dbeta) < 1e-8


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def test_dropout_forward_keep_probability():
    np.random.seed(231)
    x = np.random.randn(500, 500) + 10
    for p in [0.25, 0.4, 0.7]:
        out, (param, mask) = dropout_forward(x, {"mode": "train", "p": p})
        out_test, (_, mask_test) = dropout_forward(x, {"mode": "test", "p": p})
        assert mask_test is None
        np.testing.assert_array_equal(out_test, x)
        assert abs(np.mean(mask != 0) - p) < 0.01  # fraction kept ~ p
        assert abs(np.mean(mask) - 1.0) < 0.02  # inverted dropout: E[mask] = 1
        assert set(np.unique(mask)) <= {0.0, 1.0 / p}
        np.testing.assert_array_equal(out, x * mask)
        assert abs(out.mean() - x.mean()) < 0.2


def test_dropout_seed_reproducible_and_reseeds_every_call():
    x = np.random.randn(6, 7)
    param = {"mode": "train", "p": 0.3, "seed": 123}
    out1, (_, mask1) = dropout_forward(x, param)
    after1 = np.random.rand()
    np.random.rand(5)  # move the global RNG on
    out2, (_, mask2) = dropout_forward(x, param)
    after2 = np.random.rand()
    np.testing.assert_array_equal(out1, out2)
    # The mask is exactly (rand(*x.shape) < p) / p drawn right after np.random.seed(seed) ...
    rs = np.random.RandomState(123)
    expected = (rs.rand(*x.shape) < 0.3) / 0.3
    np.testing.assert_array_equal(mask1, expected)
    # ... and the global RNG is left just after that draw, on every call.
    assert after1 == after2 == rs.rand()
    # Test mode also reseeds (the seeding happens before the mode branch).
    dropout_forward(x, {"mode": "test", "p": 0.3, "seed": 7})
    assert np.random.rand() == np.random.RandomState(7).rand()


def test_dropout_dtypes():
    x32 = np.random.randn(4, 5).astype(np.float32)
    out, (_, mask) = dropout_forward(x32, {"mode": "train", "p": 0.5, "seed": 1})
    assert out.dtype == np.float32 and mask.dtype == np.float32
    np.testing.assert_array_equal(out, x32 * mask)
    out, (_, mask) = dropout_forward(x32, {"mode": "test", "p": 0.5})
    assert out.dtype == np.float32 and out is x32
    xi = np.arange(20).reshape(4, 5)
    out, (_, mask) = dropout_forward(xi, {"mode": "train", "p": 0.5, "seed": 1})
    assert out.dtype == xi.dtype and mask.dtype == np.float64
    np.testing.assert_array_equal(out, (xi * mask).astype(xi.dtype))


def test_dropout_invalid_mode():
    with pytest.raises(ValueError, match='Invalid forward dropout mode "eval"'):
        dropout_forward(np.ones(3), {"mode": "eval", "p": 0.5})
    with pytest.raises(KeyError):
        dropout_forward(np.ones(3), {"mode": "train"})
    with pytest.raises(ValueError, match="dropout mode"):
        dropout_backward(np.ones(3), ({"mode": "eval"}, None))


def test_dropout_backward_numeric():
    np.random.seed(231)
    x = np.random.randn(10, 10) + 10
    dout = np.random.randn(*x.shape)
    dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
    out, cache = dropout_forward(x, dropout_param)
    dx = dropout_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda xx: dropout_forward(xx, dropout_param)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-10  # "Error should be around e-10 or less."
    dropout_param = {"mode": "test", "p": 0.2}
    _, cache = dropout_forward(x, dropout_param)
    assert dropout_backward(dout, cache) is dout


# ---------------------------------------------------------------------------------------------
# TwoLayerNet
# ---------------------------------------------------------------------------------------------


def _notebook_two_layer_net():
    """The two_layer_net notebook's model: random init checked, then parameters and data overwritten
    with linspace values (X non-contiguous)."""
    np.random.seed(231)
    N, D, H, C = 3, 5, 50, 7
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    std = 1e-3
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)
    W1_std = abs(model.params["W1"].std() - std)
    W2_std = abs(model.params["W2"].std() - std)
    assert W1_std < std / 10 and W2_std < std / 10
    assert np.all(model.params["b1"] == 0) and np.all(model.params["b2"] == 0)
    assert model.params["W1"].shape == (D, H) and model.params["W2"].shape == (H, C)

    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    y = np.asarray([0, 5, 1])
    return model, X, y


def test_two_layer_net_init_and_notebook_values():
    model, X, y = _notebook_two_layer_net()
    assert not X.flags.c_contiguous
    scores = model.loss(X)
    correct_scores = np.asarray(
        [
            [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
            [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
            [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319],
        ]
    )
    assert np.abs(scores - correct_scores).sum() < 1e-6
    loss, grads = model.loss(X, y)
    assert abs(loss - 3.4702243556) < 1e-10
    model.reg = 1.0  # read at call time
    loss, grads = model.loss(X, y)
    assert abs(loss - 26.5948426952) < 1e-10


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradients(reg):
    model, X, y = _notebook_two_layer_net()
    model.reg = reg
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False)
        assert rel_error(grad_num, grads[name]) < 1e-6, name  # "around e-7 or less"


def test_two_layer_net_save_load(tmp_path, capsys):
    model = TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3)
    fname = str(tmp_path / "two.npy")
    model.save(fname)
    assert "saved." in capsys.readouterr().out
    other = TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3)
    assert other.load(fname) is True
    assert "loaded." in capsys.readouterr().out
    assert set(other.params) == set(model.params)
    for k in model.params:
        np.testing.assert_array_equal(other.params[k], model.params[k])
    assert other.load(str(tmp_path / "missing.npy")) is False
    assert "not available." in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# FullyConnectedNet
# ---------------------------------------------------------------------------------------------

N_, D_, H1_, H2_, C_ = 2, 15, 20, 30, 10


def _fcn_data():
    np.random.seed(231)
    X = np.random.randn(N_, D_)
    y = np.random.randint(C_, size=(N_,))
    return X, y


def _check_fcn_grads(model, X, y, tol, loose=()):
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name in sorted(grads):
        assert grads[name].shape == model.params[name].shape, name
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        err = rel_error(grad_num, grads[name])
        assert err < (1e-2 if name in loose else tol), (name, err)
    return loss


def test_fcn_init_draws_and_attributes():
    np.random.seed(0)
    model = FullyConnectedNet([H1_, H2_], input_dim=D_, num_classes=C_, weight_scale=5e-2)
    np.random.seed(0)
    W1 = 5e-2 * np.random.randn(D_, H1_)
    W2 = 5e-2 * np.random.randn(H1_, H2_)
    W3 = 5e-2 * np.random.randn(H2_, C_)
    assert sorted(model.params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for k, v in model.params.items():
        assert v.dtype == np.float32, k
    np.testing.assert_array_equal(model.params["W1"], W1.astype(np.float32))
    np.testing.assert_array_equal(model.params["W2"], W2.astype(np.float32))
    np.testing.assert_array_equal(model.params["W3"], W3.astype(np.float32))
    for k in ("b1", "b2", "b3"):
        assert np.all(model.params[k] == 0)
    assert model.num_layers == 3 and model.reg == 0.0 and model.dtype == np.float32
    assert model.normalization is None and model.use_dropout is False
    assert model.dropout_param == {} and model.bn_params == []

    np.random.seed(0)
    model = FullyConnectedNet(
        [H1_, H2_], input_dim=D_, num_classes=C_, weight_scale=5e-2, normalization="batchnorm",
        dropout_keep_ratio=0.5, seed=3, dtype=np.float64,
    )
    np.testing.assert_array_equal(model.params["W3"], W3)  # gamma/beta draw nothing
    assert sorted(model.params) == sorted(
        ["W1", "W2", "W3", "b1", "b2", "b3", "gamma1", "gamma2", "beta1", "beta2"]
    )
    np.testing.assert_array_equal(model.params["gamma2"], np.ones(H2_))
    np.testing.assert_array_equal(model.params["beta1"], np.zeros(H1_))
    assert model.dropout_param == {"mode": "train", "p": 0.5, "seed": 3}
    assert model.bn_params == [{"mode": "train"}, {"mode": "train"}]
    model = FullyConnectedNet([H1_], input_dim=D_, num_classes=C_, normalization="layernorm", dropout_keep_ratio=0.5)
    assert model.bn_params == [{}] and model.dropout_param == {"mode": "train", "p": 0.5}


def test_fcn_notebook_gradient_check():
    X, y = _fcn_data()
    expected = {0: 2.3004790897684924, 3.14: 7.052114776533016}  # FullyConnectedNets notebook
    for reg in [0, 3.14]:  # one seed for both models, as in the notebook
        model = FullyConnectedNet(
            [H1_, H2_], input_dim=D_, num_classes=C_, reg=reg, weight_scale=5e-2, dtype=np.float64
        )
        # "It is fine however to see an error for W2 on the order of e-5 for the check when reg = 0.0"
        loss = _check_fcn_grads(model, X, y, tol=1e-6, loose=("W2",) if reg == 0 else ())
        assert abs(loss - expected[reg]) < 1e-10


def test_fcn_batchnorm_notebook_gradient_check():
    X, y = _fcn_data()
    expected = {0: 2.2611955101340957, 3.14: 6.996533220108303}  # BatchNormalization notebook
    for reg in [0, 3.14]:
        model = FullyConnectedNet(
            [H1_, H2_], input_dim=D_, num_classes=C_, reg=reg, weight_scale=5e-2, dtype=np.float64,
            normalization="batchnorm",
        )
        # With N = 2 the bias before batchnorm has a ~0 gradient and W1/W2 are noisy:
        # "losses between 1e-4~1e-10 for W".
        loss = _check_fcn_grads(model, X, y, tol=1e-5, loose=("W1", "W2", "b1"))
        assert abs(loss - expected[reg]) < 1e-10


def test_fcn_layernorm_gradient_check():
    X, y = _fcn_data()
    for reg in [0, 3.14]:
        model = FullyConnectedNet(
            [H1_, H2_], input_dim=D_, num_classes=C_, reg=reg, weight_scale=5e-2, dtype=np.float64,
            normalization="layernorm",
        )
        _check_fcn_grads(model, X, y, tol=1e-5)


def test_fcn_dropout_notebook_gradient_check():
    X, y = _fcn_data()
    expected = {1: 2.3004790897684924, 0.75: 2.302371489704412, 0.5: 2.3042759220785896}  # Dropout notebook
    for keep in [1, 0.75, 0.5]:
        model = FullyConnectedNet(
            [H1_, H2_], input_dim=D_, num_classes=C_, weight_scale=5e-2, dtype=np.float64,
            dropout_keep_ratio=keep, seed=123,
        )
        # "Relative errors should be around e-6 or less ... fine if for dropout_keep_ratio=1 you
        # have W2 error be on the order of e-5."
        loss = _check_fcn_grads(model, X, y, tol=1e-5, loose=("W2",) if keep == 1 else ())
        assert abs(loss - expected[keep]) < 1e-10


def test_fcn_loss_modes_dtype_and_call_time_params():
    X, y = _fcn_data()
    model = FullyConnectedNet(
        [H1_, H2_], input_dim=D_, num_classes=C_, normalization="batchnorm", dropout_keep_ratio=0.5, seed=1,
    )
    scores = model.loss(X)
    assert scores.shape == (N_, C_) and scores.dtype == np.float32
    assert model.dropout_param["mode"] == "test"
    assert all(p["mode"] == "test" for p in model.bn_params)
    loss, grads = model.loss(X, y)
    assert model.dropout_param["mode"] == "train"
    assert all(p["mode"] == "train" for p in model.bn_params)
    assert all("running_mean" in p for p in model.bn_params)
    assert all(g.dtype == np.float32 for g in grads.values())

    # Multi-dimensional inputs are flattened; reg and params are read at call time.
    model = FullyConnectedNet([4], input_dim=6, num_classes=3, dtype=np.float64)
    X = np.random.randn(5, 2, 3)
    y = np.array([0, 1, 2, 0, 1])
    loss0, grads0 = model.loss(X, y)
    model.reg = 2.0
    loss1, grads1 = model.loss(X, y)
    w_sq = np.sum(model.params["W1"] ** 2) + np.sum(model.params["W2"] ** 2)
    assert loss1 == pytest.approx(loss0 + 0.5 * 2.0 * w_sq, rel=1e-12)
    np.testing.assert_allclose(grads1["W1"], grads0["W1"] + 2.0 * model.params["W1"], rtol=1e-12)
    np.testing.assert_array_equal(grads1["b1"], grads0["b1"])  # biases are not regularized
    model.params["W2"] = np.zeros((4, 3))
    np.testing.assert_array_equal(model.loss(X), np.zeros((5, 3)))


def test_fcn_save_load(tmp_path, capsys):
    model = FullyConnectedNet([4], input_dim=6, num_classes=3, normalization="batchnorm")
    fname = str(tmp_path / "fcn.npy")
    model.save(fname)
    other = FullyConnectedNet([4], input_dim=6, num_classes=3, normalization="batchnorm")
    assert other.load(fname) is True
    for k in model.params:
        np.testing.assert_array_equal(other.params[k], model.params[k])
    assert other.load(str(tmp_path / "nope.npy")) is False
    assert "nope.npy not available." in capsys.readouterr().out
