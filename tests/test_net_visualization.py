"""Network visualization (issue 7): the nets' input gradients against the reference and numeric
gradients, cs231n's saliency / fooling / class-visualization semantics, jitter and blur, the
image_utils helpers and the tour stage."""

import random

import numpy as np
import pytest
from conftest import assert_close

import cs231n_rs
from cs231n_rs import image_utils
from cs231n_rs import net_visualization as nv
from cs231n_rs.classifiers.cnn import ThreeLayerConvNet
from cs231n_rs.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from cs231n_rs.gradient_check import eval_numerical_gradient_array
from cs231n_rs.reference import net_visualization as ref

# ---------------------------------------------------------------------------------------- models


def _conv_net(dtype=np.float64, seed=0, input_dim=(3, 8, 8), num_filters=4, filter_size=3, num_classes=5):
    np.random.seed(seed)
    model = ThreeLayerConvNet(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size,
                              hidden_dim=12, num_classes=num_classes, weight_scale=0.3, dtype=dtype)
    for k in ("b1", "b2", "b3"):  # nonzero biases: fewer dead units, a real test of every term
        model.params[k] = (0.1 * np.random.randn(*model.params[k].shape)).astype(dtype)
    return model


def _fc_net(normalization=None, dropout=1, dtype=np.float64, seed=0):
    np.random.seed(seed)
    model = FullyConnectedNet([10, 8], input_dim=3 * 4 * 4, num_classes=5, dropout_keep_ratio=dropout,
                              normalization=normalization, weight_scale=0.3, dtype=dtype, seed=1)
    # a few training-mode passes: running statistics that are not the batch's
    X = np.random.randn(12, 3, 4, 4) * 2 + 0.5
    for _ in range(3):
        model.loss(X, np.random.randint(5, size=12))
    return model


def _two_layer_net(seed=0):
    np.random.seed(seed)
    model = TwoLayerNet(input_dim=3 * 4 * 4, hidden_dim=10, num_classes=5, weight_scale=0.3)
    model.params["b1"] = 0.1 * np.random.randn(10)
    return model


def _nets():
    return {
        "TwoLayerNet": (_two_layer_net(), (6, 3, 4, 4)),
        "FCNet": (_fc_net(dtype=np.float64), (6, 3, 4, 4)),
        "FCNet+BN+DO": (_fc_net("batchnorm", 0.7, np.float64), (6, 3, 4, 4)),
        "FCNet+LN": (_fc_net("layernorm", 1, np.float64), (6, 3, 4, 4)),
        "ThreeLayerConvNet": (_conv_net(), (6, 3, 8, 8)),
    }


NET_NAMES = list(_nets())


def _max_rel(a, b):
    """max |a - b| relative to max |b| (cs231n's elementwise rel_error is noise for entries near 0)."""
    return np.abs(np.asarray(a) - b).max() / np.abs(b).max()


@pytest.fixture(scope="module")
def nets():
    return _nets()


# ------------------------------------------------------------------------------ input gradients


@pytest.mark.parametrize("name", NET_NAMES)
def test_input_gradient_equals_the_reference_and_the_numeric_gradient(nets, name, np_seed):
    model, shape = nets[name]
    rng = np.random.default_rng(1)
    X = rng.standard_normal(shape)
    dscores = rng.standard_normal((shape[0], 5))
    y = rng.integers(0, 5, shape[0])
    scores, dX = model.input_gradient(X, dscores=dscores)
    want_scores, want = ref.input_gradient(model, X, dscores=dscores)
    assert dX.shape == X.shape and dX.dtype == np.float64
    assert_close(scores, model.loss(X))
    assert_close(scores, want_scores)
    assert_close(dX, want)
    # the one-hot gradient of the labels' scores
    _, dX_y = model.input_gradient(X, y=y)
    assert_close(dX_y, ref.input_gradient(model, X, y=y)[1])
    onehot = np.eye(5)[y]
    assert_close(dX_y, model.input_gradient(X, dscores=onehot)[1], rtol=1e-14)
    # numeric: d/dX of sum(dscores * scores(X)), scores from loss(X) (test mode)
    num = eval_numerical_gradient_array(lambda x: model.loss(x), X.copy(), dscores, h=1e-6)
    assert _max_rel(dX, num) < 1e-7, (name, _max_rel(dX, num))
    assert np.abs(dX).max() > 1e-3  # a real gradient, not all dead units


def test_input_gradient_leaves_modes_rng_and_x_alone():
    model = _fc_net("batchnorm", 0.5)
    for bn_param in model.bn_params:
        bn_param["mode"] = "train"
    model.dropout_param["mode"] = "train"
    running = [bn["running_mean"].copy() for bn in model.bn_params]
    X = np.random.default_rng(2).standard_normal((4, 48))
    X_before = X.copy()
    state = np.random.get_state()
    model.input_gradient(X, y=[0, 1, 2, 3])
    assert np.array_equal(X, X_before)
    assert [bn["mode"] for bn in model.bn_params] == ["train", "train"]
    assert model.dropout_param["mode"] == "train"
    assert all(np.array_equal(r, bn["running_mean"]) for r, bn in zip(running, model.bn_params))
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]  # RNG untouched (no dropout seed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_net_dtypes_and_batch_of_50(dtype):
    model = _conv_net(dtype, input_dim=(3, 32, 32), num_filters=32, filter_size=7, num_classes=10)
    X = np.random.default_rng(3).standard_normal((50, 3, 32, 32)).astype(dtype)
    y = np.arange(50) % 10
    scores, dX = model.input_gradient(X, y=y)
    want_scores, want = ref.input_gradient(model, X, y=y)
    assert scores.dtype == dtype and dX.dtype == dtype
    # float32: scores of ~100 from cancelling sums; the floor is relative to the largest entry
    floor = 1e-5 if dtype == np.float32 else 0.0
    assert_close(scores, want_scores, atol=floor * np.abs(want_scores).max())
    assert_close(dX, want, atol=floor * np.abs(want).max())
    # X in float64 through a float32 net: NumPy's promotion, as loss(X)
    s64, d64 = model.input_gradient(X.astype(np.float64), y=y)
    assert d64.dtype == np.result_type(np.float64, dtype)


def test_fc_net_float32_casts_x_as_loss():
    model = _fc_net("batchnorm", 0.8, np.float32)
    X = np.random.default_rng(4).standard_normal((5, 3, 4, 4))
    scores, dX = model.input_gradient(X, y=[0, 1, 2, 3, 4])
    assert scores.dtype == np.float32 and dX.dtype == np.float32 and dX.shape == X.shape
    assert_close(scores, model.loss(X))
    assert_close(dX, ref.input_gradient(model, X, y=[0, 1, 2, 3, 4])[1], atol=1e-7)


def test_input_gradient_is_thread_count_invariant(restore_threads):
    model = _conv_net(input_dim=(3, 16, 16), num_filters=8, filter_size=5)
    X = np.random.default_rng(5).standard_normal((20, 3, 16, 16))
    y = np.arange(20) % 5
    results = []
    for threads in (1, 2, 3):
        cs231n_rs.set_num_threads(threads)
        results.append(model.input_gradient(X, y=y))
    for scores, dX in results[1:]:
        assert np.array_equal(scores, results[0][0]) and np.array_equal(dX, results[0][1])


def test_any_layout_of_x():
    model = _conv_net()
    X = np.random.default_rng(6).standard_normal((4, 3, 8, 8))
    want = model.input_gradient(X, y=[0, 1, 2, 3])[1]
    swapped = X.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)
    views = (np.asfortranarray(X), X[:, :, ::-1].copy()[:, :, ::-1], swapped)
    for view in views:
        assert_close(model.input_gradient(view, y=[0, 1, 2, 3])[1], want, rtol=1e-14)


def test_conv_dx_only_path_equals_the_full_backward():
    from cs231n_rs import _conv

    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((6, 3, 9, 7)).astype(dtype)
        w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
        for cp in ({"stride": 1, "pad": 1}, {"stride": 2, "pad": 0}):
            out, _ = _conv.forward(x, w, np.zeros(4, dtype), cp)
            dout = rng.standard_normal(out.shape).astype(dtype)
            dx, dw, db = _conv.backward(dout, x, w, cp)
            dx_only, none_w, none_b = _conv.backward(dout, x, w, cp, need_dw=False)
            assert none_w is None and none_b is None
            assert dx_only.dtype == dx.dtype and np.array_equal(dx_only, dx)
            # x of another dtype (only its shape is used)
            assert np.array_equal(_conv.backward(dout, x.astype(np.float16), w, cp, need_dw=False)[0], dx)


def test_input_gradient_errors():
    model = _conv_net()
    X = np.zeros((2, 3, 8, 8))
    with pytest.raises(ValueError, match="dscores"):
        model.input_gradient(X)
    with pytest.raises(ValueError, match="dscores"):
        model.input_gradient(X, dscores=np.zeros((2, 5)), y=[0, 1])
    with pytest.raises(ValueError, match="dscores"):
        model.input_gradient(X, dscores=np.zeros((2, 4)))
    with pytest.raises(TypeError, match="dscores"):
        model.input_gradient(X, dscores=np.full((2, 5), "a"))
    with pytest.raises(ValueError, match="y"):
        model.input_gradient(X, y=[0, 5])
    with pytest.raises(ValueError, match="y"):
        model.input_gradient(X, y=[0])
    with pytest.raises(ValueError, match="y"):
        model.input_gradient(X, y=[0.5, 1.0])
    with pytest.raises(ValueError, match="x"):
        model.input_gradient(np.zeros((3, 8, 8)), y=[0, 1, 2])
    with pytest.raises(ValueError):
        _fc_net().input_gradient(np.zeros((2, 47)), y=[0, 1])
    with pytest.raises(TypeError, match="model"):
        nv.compute_saliency_maps(X, [0, 1], object())


# ------------------------------------------------------------------------------- saliency maps


def test_saliency_is_the_absolute_numeric_gradient_of_the_class_score_max_over_channels():
    model = _conv_net()
    X = np.random.default_rng(8).standard_normal((3, 3, 8, 8))
    y = np.array([4, 0, 2])
    saliency = nv.compute_saliency_maps(X, y, model)
    assert saliency.shape == (3, 8, 8) and (saliency >= 0).all()
    onehot = np.eye(5)[y]
    num = eval_numerical_gradient_array(lambda x: model.loss(x), X.copy(), onehot, h=1e-6)
    assert _max_rel(saliency, np.abs(num).max(axis=1)) < 1e-7
    assert_close(saliency, ref.compute_saliency_maps(X, y, model))
    # one image at a time gives the same maps (the batch sum does not mix images)
    for i in range(3):
        assert_close(nv.compute_saliency_maps(X[i : i + 1], y[i : i + 1], model)[0], saliency[i])


def test_saliency_of_reference_nets_and_fc_nets():
    from cs231n_rs.reference.cnn import ThreeLayerConvNet as RefConv

    np.random.seed(0)
    ref_model = RefConv(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=12, num_classes=5,
                        weight_scale=0.3, dtype=np.float64)
    X = np.random.default_rng(9).standard_normal((2, 3, 8, 8))
    assert_close(nv.compute_saliency_maps(X, [1, 2], ref_model), ref.compute_saliency_maps(X, [1, 2], ref_model))
    fc = _fc_net("batchnorm", 0.5)
    X = np.random.default_rng(10).standard_normal((2, 3, 4, 4))
    assert nv.compute_saliency_maps(X, [1, 2], fc).shape == (2, 4, 4)
    with pytest.raises(ValueError, match="X"):
        nv.compute_saliency_maps(X.reshape(2, -1), [1, 2], fc)


# --------------------------------------------------------------------- a trained net (8x8 digits)


@pytest.fixture(scope="module")
def digits_net():
    """A ThreeLayerConvNet trained (0.2 s) on the 8x8 digits as 3x8x8 images minus the mean image."""
    from cs231n_rs.datasets import get_digits_data
    from cs231n_rs.solver import Solver

    d = get_digits_data(size="8x8", subtract_mean=False)

    def images(X):
        return np.repeat(X.reshape(-1, 1, 8, 8), 3, axis=1)

    X_train, X_val = images(d["X_train"]), images(d["X_val"])
    mean = X_train.mean(axis=0)
    data = {"X_train": X_train - mean, "y_train": d["y_train"], "X_val": X_val - mean, "y_val": d["y_val"]}
    state = np.random.get_state()
    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=8, filter_size=3, hidden_dim=32, weight_scale=1e-2,
                              dtype=np.float64)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3}, num_epochs=4,
                    batch_size=50, verbose=False, progress=False)
    solver.train()
    np.random.set_state(state)
    assert solver.best_val_acc > 0.85
    return model, mean, data


def test_fooling_images_reach_the_target_within_the_budget_and_stay_close(digits_net):
    model, mean, data = digits_net
    X, y = data["X_val"][:20], data["y_val"][:20]
    assert (np.argmax(model.loss(X), axis=1) == y).mean() > 0.8
    target = (y + 3) % 10
    X_before = X.copy()
    X_fooling = nv.make_fooling_image(X, target, model, learning_rate=10)
    assert np.array_equal(X, X_before) and X_fooling is not X and X_fooling.dtype == X.dtype
    assert (np.argmax(model.loss(X_fooling), axis=1) == target).all()
    # close: each moved at most 100 steps of 10, and much less than the way to any real image of
    # its target class
    dist = np.linalg.norm((X_fooling - X).reshape(20, -1), axis=1)
    nearest = np.array([np.linalg.norm((data["X_train"][data["y_train"] == t] - x).reshape(-1, 192), axis=1).min()
                        for x, t in zip(X, target)])
    assert (dist <= 100 * 10 + 1e-9).all()
    assert (dist < 0.7 * nearest).all(), (dist / nearest).max()
    # one image as cs231n (shape (1, 3, H, W), int target), against the reference
    one = nv.make_fooling_image(X[:1], int(target[0]), model, learning_rate=10)
    assert_close(one, ref.make_fooling_image(X[:1], int(target[0]), model, learning_rate=10))
    assert_close(one, X_fooling[:1], rtol=1e-9)


def test_fooling_stops_as_soon_as_the_prediction_is_the_target(digits_net):
    model, _, data = digits_net
    X = data["X_val"][:1]
    predicted = int(np.argmax(model.loss(X), axis=1)[0])
    assert np.array_equal(nv.make_fooling_image(X, predicted, model), X)  # already there: no step
    # the step budget: max_iter steps of learning_rate at most
    target = (predicted + 1) % 10
    X_f = nv.make_fooling_image(X, target, model, learning_rate=1, max_iter=3)
    assert np.linalg.norm(X_f - X) <= 3 + 1e-9
    assert np.linalg.norm(X_f - X) > 2.9  # three full normalized steps
    # integer images become float64
    assert nv.make_fooling_image(np.zeros((1, 3, 8, 8), dtype=np.int64), 1, model, max_iter=1).dtype == np.float64


def test_class_visualization_update_step_is_in_place_gradient_ascent(digits_net):
    model, _, _ = digits_net
    img = np.random.default_rng(11).standard_normal((1, 3, 8, 8)) * 50
    before = img.copy()
    target, l2_reg, lr = 3, 1e-4, 500.0
    result = nv.class_visualization_update_step(img, model, target, l2_reg, lr)
    assert result is None and not np.array_equal(img, before)
    _, g = ref.input_gradient(model, before, y=[target])
    assert_close(img, before + lr * (g - 2 * l2_reg * before))

    def objective(x):
        return model.loss(x)[0, target] - l2_reg * np.sum(x * x)

    assert objective(img) > objective(before)
    with pytest.raises(TypeError, match="img"):
        nv.class_visualization_update_step(np.zeros((1, 3, 8, 8), dtype=int), model, 0, 0.0, 1.0)
    frozen = np.zeros((1, 3, 8, 8))
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match="img"):
        nv.class_visualization_update_step(frozen, model, 0, 0.0, 1.0)


def test_class_visualization_raises_the_target_score(digits_net, np_seed):
    model, mean, _ = digits_net
    kwargs = {"learning_rate": 25 * nv.PIXELS_PER_UNIT**2 / 10, "max_jitter": 2, "deprocess_result": False}
    for target in (0, 3, 7):
        np.random.seed(target)
        random.seed(target)
        start = nv.create_class_visualization(target, model, mean, num_iterations=0, **kwargs)
        np.random.seed(target)
        random.seed(target)
        img = nv.create_class_visualization(target, model, mean, num_iterations=60, **kwargs)
        s0, s1 = model.loss(start)[0], model.loss(img)[0]
        assert s1[target] > s0[target] + 3
        assert (img >= -mean - 1e-9).all() and (img <= 255 - mean + 1e-9).all()  # clamped to pixels
        # the reference gives the same image
        np.random.seed(target)
        random.seed(target)
        assert_close(img, ref.create_class_visualization(target, model, mean, num_iterations=60, **kwargs), atol=1e-9)
    # the notebook's result: a uint8 image; the SqueezeNet-normalized path (no mean image)
    np.random.seed(0)
    random.seed(0)
    shown = []
    out = nv.create_class_visualization(1, model, num_iterations=3, show_every=1,
                                        show=lambda t, im, y: shown.append((t, y, im.shape)))
    assert out.dtype == np.uint8 and out.shape == (8, 8, 3)
    assert shown == [(0, 1, (1, 3, 8, 8)), (1, 1, (1, 3, 8, 8)), (2, 1, (1, 3, 8, 8))]


# --------------------------------------------------------------------------------------- helpers


def test_jitter_is_a_circular_roll_that_undoes_itself():
    X = np.arange(2 * 3 * 5 * 7, dtype=np.float64).reshape(2, 3, 5, 7)
    for ox, oy in ((0, 0), (2, 0), (0, 3), (3, 4), (6, 1), (7, 5)):
        J = nv.jitter(X, ox, oy)
        assert np.array_equal(J, np.roll(X, (oy, ox), axis=(2, 3)))
        assert np.array_equal(nv.jitter(J, -ox, -oy), X)
    before = X.copy()
    nv.jitter(X, 1, 1)
    assert np.array_equal(X, before)


def test_blur_image_is_scipys_gaussian_in_place_and_the_numpy_fallback_matches():
    scipy_ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(12)
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((2, 3, 9, 6)).astype(dtype)
        want = scipy_ndimage.gaussian_filter1d(scipy_ndimage.gaussian_filter1d(X, 0.5, axis=2), 0.5, axis=3)
        out = nv.blur_image(X, sigma=0.5)
        assert out is X and X.dtype == dtype
        assert_close(X, want)
    for sigma in (0.5, 1, 2.5):
        for axis in (2, 3):
            x = rng.standard_normal((2, 3, 5, 4))  # a radius larger than the side: 'reflect' folds
            want = scipy_ndimage.gaussian_filter1d(x, sigma, axis=axis)
            assert_close(ref.gaussian_filter1d_numpy(x, sigma, axis), want, rtol=1e-12, atol=1e-15)


def test_preprocess_deprocess_round_trip_and_rescale():
    rng = np.random.default_rng(13)
    img = rng.integers(0, 256, (6, 5, 3)).astype(np.uint8)
    mean = rng.uniform(50, 200, (3, 6, 5))
    x = nv.preprocess(img, mean)
    assert x.shape == (1, 3, 6, 5)
    assert_close(x[0], img.transpose(2, 0, 1) - mean, rtol=1e-15)
    assert np.array_equal(nv.deprocess(x, mean, should_rescale=False), img)
    assert np.array_equal(nv.deprocess(nv.preprocess(img), should_rescale=False), img)  # SqueezeNet normalization
    z = nv.preprocess(img)
    assert_close(z[0], (img.transpose(2, 0, 1) / 255.0 - nv.SQUEEZENET_MEAN[:, None, None])
                 / nv.SQUEEZENET_STD[:, None, None], rtol=1e-6)
    stretched = nv.deprocess(x, mean)  # should_rescale: the full 0..255 range
    assert stretched.min() == 0 and stretched.max() == 255
    r = nv.rescale(np.array([2.0, 4.0, 3.0]))
    assert np.array_equal(r, [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="img"):
        nv.preprocess(np.zeros((4, 4)))


def test_image_utils_blur_is_the_3x3_kernel_with_zero_padding():
    rng = np.random.default_rng(14)
    X = rng.standard_normal((2, 3, 6, 5))
    k = np.array([[1, 2, 1], [2, 188, 2], [1, 2, 1]], dtype=np.float64) / 200.0
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros_like(X)
    for u in range(3):
        for v in range(3):
            want += k[u, v] * padded[:, :, u : u + 6, v : v + 5]
    got = image_utils.blur_image(X)
    assert_close(got, want, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="X"):
        image_utils.blur_image(np.zeros((2, 4, 5, 5)))


def test_image_utils_preprocess_deprocess_round_trip():
    img = np.random.default_rng(15).integers(0, 256, (4, 7, 3)).astype(np.uint8)
    x = image_utils.preprocess_image(img)
    assert x.dtype == np.float32
    back = image_utils.deprocess_image(x)
    assert back.dtype == np.uint8
    assert np.abs(back.astype(int) - img.astype(int)).max() <= 1  # cs231n truncates: off by at most one


# ------------------------------------------------------------------------------------ tour stage


def test_tour_stage_quick_writes_the_pngs(tmp_path, np_seed):
    from cs231n_rs import tour
    from cs231n_rs._tour_vis import stage_net_visualization

    data = tour.load_data(quick=True)
    result = stage_net_visualization(data, tmp_path, False, quick=True)
    assert result["pipeline"] == "NetVisualization"
    names = sorted(p.rsplit("/", 1)[-1] for p in result["files"])
    assert names == ["class_visualization.png", "fooling_image.png", "saliency_maps.png"]
    for name in names:
        assert (tmp_path / name).stat().st_size > 1000
    assert result["val_acc"] == 1.0  # every fooled image reached its target
    assert np.isnan(result["test_acc"]) and result["seconds"] < 30


def test_tour_stage_uses_the_conv_stage_net(tmp_path, digits_net, np_seed):
    from cs231n_rs._tour_vis import stage_net_visualization

    model, mean, data = digits_net
    classes = [str(c) for c in range(10)]
    splits = {"X_val": data["X_val"][:12] + mean, "y_val": data["y_val"][:12]}  # pixels, as load_data gives
    shared = {"splits": splits, "classes": classes,
              "conv_net": {"model": model, "mean_image": mean.reshape(-1), "val_acc": 0.9, "classes": classes}}
    params_before = {k: v.copy() for k, v in model.params.items()}
    result = stage_net_visualization(shared, tmp_path, False, quick=True)
    assert all(np.array_equal(v, model.params[k]) for k, v in params_before.items())  # the same net, untouched
    assert result["params"].startswith("fooled") and 0.0 <= result["val_acc"] <= 1.0
    for name in ("saliency_maps.png", "fooling_image.png", "class_visualization.png"):
        assert (tmp_path / name).stat().st_size > 1000
