"""cs231n_rs.optim against the NumPy reference (cs231n's formulas) and cs231n's notebook checks."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import cs231n_rs
from cs231n_rs import _core, optim
from cs231n_rs.reference import optim as R
from conftest import layouts, rel_error

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = ["sgd", "sgd_momentum", "rmsprop", "adam"]
STATE_KEYS = {"sgd": (), "sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v")}


def _same(a, b):
    """Same dtype, shape and bits (NaN-aware)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _assert_same_config(ours, ref):
    assert list(ours) == list(ref)  # same keys, in the same (setdefault) order
    for k in ref:
        if isinstance(ref[k], np.ndarray):
            assert _same(ours[k], ref[k]), k
        else:
            assert type(ours[k]) is type(ref[k]) and ours[k] == ref[k], k


def _run(rule, module, w, grads, config):
    """Several steps of ``rule`` carrying ``config``; returns (the w after each step, config)."""
    fn = getattr(module, rule)
    out = []
    for dw in grads:
        w, config = fn(w, dw, config)
        out.append(w.copy())
    return out, config


# ---------------------------------------------------------------------------------------------
# Equivalence with the reference, state carried over several steps


@st.composite
def problems(draw):
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    seed = draw(st.integers(0, 2**32 - 1))
    steps = draw(st.integers(1, 4))
    rule = draw(st.sampled_from(RULES))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    hyper = {}
    if draw(st.booleans()):
        hyper["learning_rate"] = draw(st.floats(1e-6, 1.0))
    if rule == "sgd_momentum" and draw(st.booleans()):
        hyper["momentum"] = draw(st.floats(0.0, 0.999))
    if rule == "rmsprop" and draw(st.booleans()):
        hyper["decay_rate"] = draw(st.floats(0.0, 0.999))
    if rule == "adam" and draw(st.booleans()):
        hyper["beta1"] = draw(st.floats(0.0, 0.99))
        hyper["beta2"] = draw(st.floats(0.0, 0.9999))
    if rule in ("rmsprop", "adam") and draw(st.booleans()):
        hyper["epsilon"] = draw(st.floats(1e-12, 1e-2))
    return shape, seed, steps, rule, dtype, hyper


@SETTINGS
@given(problems())
def test_matches_reference_over_several_steps(p):
    shape, seed, steps, rule, dtype, hyper = p
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]
    ours, c_ours = _run(rule, optim, w.copy(), grads, dict(hyper))
    ref, c_ref = _run(rule, R, w.copy(), grads, dict(hyper))
    for a, b in zip(ours, ref):
        # the same operations in the same precision: equal bit for bit, in float32 too
        assert _same(a, b), (rule, dtype)
    _assert_same_config(c_ours, c_ref)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_arrays_any_thread_count(rule, dtype, restore_threads):
    n = 300_007  # several parallel chunks and a ragged tail
    rng = np.random.default_rng(5)
    w = rng.standard_normal(n).astype(dtype)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(2)]
    ref, c_ref = _run(rule, R, w.copy(), grads, {})
    for threads in (1, 2, 3):
        cs231n_rs.set_num_threads(threads)
        ours, c_ours = _run(rule, optim, w.copy(), grads, {})
        assert all(_same(a, b) for a, b in zip(ours, ref)), threads
        _assert_same_config(c_ours, c_ref)


def test_nan_and_inf_propagate_like_numpy():
    w = np.array([1.0, np.nan, 3.0, -2.0, 0.0])
    dw = np.array([np.inf, 1.0, np.nan, 0.0, -np.inf])
    for rule in RULES:
        with np.errstate(all="ignore"):
            ours, c_ours = _run(rule, optim, w.copy(), [dw, dw], {})
            ref, c_ref = _run(rule, R, w.copy(), [dw, dw], {})
        assert all(_same(a, b) for a, b in zip(ours, ref)), rule
        _assert_same_config(c_ours, c_ref)


# ---------------------------------------------------------------------------------------------
# cs231n's notebook checks (FullyConnectedNets.ipynb), values as printed there


def _notebook_inputs():
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return N, D, w, dw


@pytest.mark.parametrize("module", [optim, R], ids=["ours", "reference"])
def test_notebook_sgd_momentum(module):
    N, D, w, dw = _notebook_inputs()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = module.sgd_momentum(w, dw, config={"learning_rate": 1e-3, "velocity": v})
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    # "Should see relative errors around e-8 or less"
    assert rel_error(next_w, expected_next_w) < 1e-8
    assert rel_error(expected_velocity, config["velocity"]) < 1e-8


@pytest.mark.parametrize("module", [optim, R], ids=["ours", "reference"])
def test_notebook_rmsprop(module):
    N, D, w, dw = _notebook_inputs()
    cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = module.rmsprop(w, dw, config={"learning_rate": 1e-2, "cache": cache})
    expected_next_w = np.asarray([
        [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
        [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
        [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
        [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]])
    expected_cache = np.asarray([
        [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
        [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
        [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
        [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]])
    # "You should see relative errors around e-7 or less"
    assert rel_error(expected_next_w, next_w) < 1e-7
    assert rel_error(expected_cache, config["cache"]) < 1e-7


@pytest.mark.parametrize("module", [optim, R], ids=["ours", "reference"])
def test_notebook_adam(module):
    N, D, w, dw = _notebook_inputs()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    next_w, config = module.adam(w, dw, config={"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
    expected_next_w = np.asarray([
        [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
        [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
        [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
        [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
    expected_v = np.asarray([
        [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
        [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
        [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
        [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]])
    expected_m = np.asarray([
        [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
        [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
        [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
        [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]])
    # "You should see relative errors around e-7 or less"
    assert rel_error(expected_next_w, next_w) < 1e-6
    assert rel_error(expected_v, config["v"]) < 1e-7
    assert rel_error(expected_m, config["m"]) < 1e-7
    assert config["t"] == 6


def test_adam_increments_t_before_use():
    # with t used before the increment, the notebook check fails at about 1.5e-3 (spec 3.13)
    N, D, w, dw = _notebook_inputs()
    cfg = lambda: {"learning_rate": 1e-2, "m": np.full((N, D), 0.5), "v": np.full((N, D), 0.6), "t": 0}  # noqa: E731
    next_w, _ = optim.adam(w, dw, cfg())
    with np.errstate(divide="ignore", invalid="ignore"):
        late = w - 1e-2 * (0.9 * 0.5 + 0.1 * dw) / (1 - 0.9**0) / (np.sqrt((0.999 * 0.6 + 0.001 * dw**2) / (1 - 0.999**0)) + 1e-8)
    assert np.all(np.isfinite(next_w)) and not np.all(np.isfinite(late))
    assert _same(next_w, R.adam(w, dw, cfg())[0])


# ---------------------------------------------------------------------------------------------
# config semantics and aliasing


@pytest.mark.parametrize("rule", RULES)
def test_config_none_gives_defaults(rule):
    w = np.arange(6.0).reshape(2, 3)
    dw = np.ones((2, 3))
    _, c_ours = getattr(optim, rule)(w.copy(), dw)
    _, c_ref = getattr(R, rule)(w.copy(), dw)
    _assert_same_config(c_ours, c_ref)
    defaults = {"sgd": {"learning_rate": 1e-2}, "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
                "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
                "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 1}}[rule]
    for k, v in defaults.items():
        assert c_ours[k] == v, k


@pytest.mark.parametrize("rule", RULES)
def test_config_is_mutated_in_place_and_returned(rule):
    w = np.linspace(-1, 1, 12).reshape(3, 4)
    dw = np.linspace(1, -2, 12).reshape(3, 4)
    config = {"learning_rate": 0.5, "extra": "kept"}
    next_w, returned = getattr(optim, rule)(w.copy(), dw, config)
    assert returned is config
    assert config["learning_rate"] == 0.5 and config["extra"] == "kept"  # setdefault never overrides
    for k in STATE_KEYS[rule]:
        assert k in config and config[k].shape == w.shape
    ref_cfg = {"learning_rate": 0.5, "extra": "kept"}
    _, ref_cfg = getattr(R, rule)(w.copy(), dw, ref_cfg)
    _assert_same_config(config, ref_cfg)


@pytest.mark.parametrize("rule", RULES)
def test_aliasing(rule):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 5))
    dw = rng.standard_normal((3, 5))
    w0, dw0 = w.copy(), dw.copy()
    next_w, _ = getattr(optim, rule)(w, dw, {})
    assert _same(dw, dw0)
    if rule == "sgd":  # in place, like cs231n
        assert next_w is w and not _same(w, w0)
    else:
        assert next_w is not w and not np.shares_memory(next_w, w) and _same(w, w0)


def test_state_arrays_updated_with_the_right_values_even_when_foreign():
    # read-only, non-contiguous, other-dtype and aliased state arrays are replaced, never written through
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 6))
    dw = rng.standard_normal((4, 6))
    m = np.abs(rng.standard_normal((6, 4))).T  # non-contiguous
    v = np.abs(rng.standard_normal((4, 6)))
    v.setflags(write=False)
    m0, v0 = m.copy(), v.copy()
    cfg = {"m": m, "v": v, "t": 3}
    ours, _ = optim.adam(w, dw, cfg)
    ref_cfg = {"m": m0.copy(), "v": v0.copy(), "t": 3}
    ref, _ = R.adam(w, dw, ref_cfg)
    assert _same(ours, ref)
    _assert_same_config(cfg, ref_cfg)
    assert _same(v, v0) and _same(m, m0)
    # the same array as both states, and a state that is w itself
    shared = np.abs(rng.standard_normal((4, 6)))
    cfg = {"m": shared, "v": shared, "t": 0}
    ref_cfg = {"m": shared.copy(), "v": shared.copy(), "t": 0}
    assert _same(optim.adam(w, dw, cfg)[0], R.adam(w, dw, ref_cfg)[0])
    _assert_same_config(cfg, ref_cfg)
    big = np.abs(rng.standard_normal((4, 12)))  # w is a (non-contiguous) view of the state
    w_view = big[:, ::2]
    cfg = {"cache": big[:, ::2].copy()}
    cfg["cache"] = big  # shapes differ: a clear error, nothing written
    with pytest.raises(ValueError, match="cache"):
        optim.rmsprop(w_view, dw, cfg)
    state = np.abs(rng.standard_normal((4, 6)))
    w_of_state = state[::-1]
    w_before = w_of_state.copy()
    cfg, ref_cfg = {"cache": state}, {"cache": state.copy()}
    assert _same(optim.rmsprop(w_of_state, dw, cfg)[0], R.rmsprop(w_before, dw, ref_cfg)[0])
    assert _same(w_of_state, w_before)  # the state was not written through: w (its view) is unchanged
    _assert_same_config(cfg, ref_cfg)
    wc = w.copy()
    cfg = {"velocity": wc}
    ref_cfg = {"velocity": w.copy()}
    assert _same(optim.sgd_momentum(wc, dw, cfg)[0], R.sgd_momentum(w.copy(), dw, ref_cfg)[0])
    _assert_same_config(cfg, ref_cfg)


@pytest.mark.parametrize("rule", RULES)
def test_any_layout(rule):
    rng = np.random.default_rng(2)
    base_w = rng.standard_normal((7, 9))
    base_dw = rng.standard_normal((9, 7))
    for w, dw in [(base_w.T, base_dw), (base_w[::-1, ::2], base_dw.T[::-1, ::2]), (np.asfortranarray(base_w), base_dw.T)]:
        ours, c_ours = _run(rule, optim, w.copy(order="K"), [dw, dw * 0.5], {})
        ref, c_ref = _run(rule, R, w.copy(order="K"), [dw, dw * 0.5], {})
        assert all(_same(a, b) for a, b in zip(ours, ref))
        _assert_same_config(c_ours, c_ref)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_layout_of_w_dw_and_state(rule, dtype):
    """conftest's layouts (Fortran order, negative steps, strided, unaligned, read-only...) for w, dw
    and the state arrays: the reference's values, and sgd writes through (or raises NumPy's error)."""
    rng = np.random.default_rng(12)
    w0 = rng.standard_normal((5, 7)).astype(dtype)
    dw0 = rng.standard_normal((5, 7)).astype(dtype)
    s0 = np.abs(rng.standard_normal((5, 7))).astype(dtype)
    # built up front from copies: the rules may write the arrays (sgd's w, the state arrays)
    variants = zip(list(layouts(w0.copy())), list(layouts(dw0.copy())), list(layouts(s0.copy())))
    for (wname, w), (gname, dw), (sname, s) in variants:
        cfg = {k: s for k in STATE_KEYS[rule]}
        ref_cfg = {k: s0.copy() for k in STATE_KEYS[rule]}
        try:
            ref, ref_cfg = getattr(R, rule)(w.copy(), dw0, ref_cfg)
        except ValueError:
            raise AssertionError("the reference fails on a copy")
        if rule == "sgd" and not w.flags.writeable:
            with pytest.raises(ValueError, match="read-only"):
                optim.sgd(w, dw, cfg)
            continue
        ours, cfg = getattr(optim, rule)(w, dw, cfg)
        assert _same(ours, ref), (wname, gname, sname)
        if rule == "sgd":
            assert ours is w
        _assert_same_config(cfg, ref_cfg)


def test_sgd_writes_through_views_and_handles_w_as_dw():
    rng = np.random.default_rng(3)
    big = rng.standard_normal((6, 8))
    ref_big = big.copy()
    w_view = big[::2, 1::3]
    dw = rng.standard_normal(w_view.shape)
    out, _ = optim.sgd(w_view, dw, {"learning_rate": 0.1})
    R.sgd(ref_big[::2, 1::3], dw, {"learning_rate": 0.1})
    assert out is w_view and _same(big, ref_big)
    a = rng.standard_normal(10)
    b = a.copy()
    optim.sgd(a, a, {})  # dw is w
    R.sgd(b, b, {})
    assert _same(a, b)


# ---------------------------------------------------------------------------------------------
# dtypes: NumPy's promotion, as cs231n's code gets it


DTYPE_CASES = [
    ("f32 params, f64 grads (ThreeLayerConvNet)", np.float32, np.float64),
    ("f64 params, f32 grads", np.float64, np.float32),
    ("int params", np.int64, np.float64),
    ("int grads", np.float64, np.int64),
    ("float16", np.float16, np.float16),
]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("case", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_mixed_dtypes_follow_numpy(rule, case):
    _, wt, gt = case
    rng = np.random.default_rng(4)
    w = (rng.standard_normal((3, 4)) * 10).astype(wt)
    grads = [(rng.standard_normal((3, 4)) * 3).astype(gt) for _ in range(3)]
    try:
        ref, c_ref = _run(rule, R, w.copy(), grads, {})
    except Exception as exc:  # e.g. sgd on integer w: NumPy's casting error
        with pytest.raises(type(exc)):
            _run(rule, optim, w.copy(), grads, {})
        return
    ours, c_ours = _run(rule, optim, w.copy(), grads, {})
    assert all(_same(a, b) for a, b in zip(ours, ref))
    _assert_same_config(c_ours, c_ref)


@pytest.mark.parametrize("rule", RULES)
def test_numpy_scalar_hyperparameters(rule):
    # a float64 NumPy scalar learning rate (10 ** np.random.uniform(...)) is not a weak Python float
    rng = np.random.default_rng(6)
    for dtype in (np.float32, np.float64):
        w = rng.standard_normal(8).astype(dtype)
        grads = [rng.standard_normal(8).astype(dtype) for _ in range(2)]
        for lr in (np.float64(1e-2), np.float32(1e-2), 1, np.array(1e-2)):
            ours, c_ours = _run(rule, optim, w.copy(), grads, {"learning_rate": lr})
            ref, c_ref = _run(rule, R, w.copy(), grads, {"learning_rate": lr})
            assert all(_same(a, b) for a, b in zip(ours, ref)), (dtype, lr)
            _assert_same_config(c_ours, c_ref)
    if rule == "adam":
        w = rng.standard_normal(8).astype(np.float32)
        grads = [rng.standard_normal(8).astype(np.float32)]
        for cfg in ({"t": np.int64(3)}, {"beta1": np.float32(0.8), "beta2": np.float32(0.99)}):
            ours, c_ours = _run(rule, optim, w.copy(), grads, dict(cfg))
            ref, c_ref = _run(rule, R, w.copy(), grads, dict(cfg))
            assert all(_same(a, b) for a, b in zip(ours, ref)), cfg
            _assert_same_config(c_ours, c_ref)


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("rule", RULES)
def test_shape_mismatch_is_a_clear_value_error(rule):
    w = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"dw: expected shape \(3, 4\) \(the shape of w\), got \(4, 3\)"):
        getattr(optim, rule)(w, np.zeros((4, 3)), {})
    with pytest.raises(ValueError, match=r"dw: .*got \(4,\)"):
        getattr(optim, rule)(w, np.zeros(4), {})
    for key in STATE_KEYS[rule]:
        with pytest.raises(ValueError, match=r"%s: expected shape \(3, 4\) \(the shape of w\), got \(2, 6\)" % key):
            getattr(optim, rule)(w, np.zeros((3, 4)), {key: np.zeros((2, 6))})


def test_sgd_read_only_w_raises_numpys_error():
    w = np.ones(5)
    w.setflags(write=False)
    with pytest.raises(ValueError) as ours:
        optim.sgd(w, np.ones(5), {})
    with pytest.raises(ValueError) as ref:
        R.sgd(w, np.ones(5), {})
    assert str(ours.value) == str(ref.value) == "output array is read-only"
    assert np.all(w == 1)
    # the other rules never write w: read-only is fine
    for rule in RULES[1:]:
        next_w, _ = getattr(optim, rule)(w, np.ones(5), {})
        assert _same(next_w, getattr(R, rule)(w, np.ones(5), {})[0])


@pytest.mark.parametrize("rule", RULES)
def test_bad_inputs_raise_python_errors_not_panics(rule):
    fn = getattr(optim, rule)
    ref = getattr(R, rule)
    for w, dw, cfg in [
        (np.zeros(3), np.zeros(3), {"learning_rate": "fast"}),
        (np.zeros(3), np.array(["a", "b", "c"]), {}),
        (np.zeros(3, dtype=complex), np.zeros(3), {}),
    ]:
        try:
            ref(w.copy(), dw, dict(cfg))
        except Exception as exc:
            with pytest.raises(type(exc)):
                fn(w.copy(), dw, dict(cfg))
        else:
            a, ca = fn(w.copy(), dw, dict(cfg))
            b, cb = ref(w.copy(), dw, dict(cfg))
            assert _same(a, b)


def test_core_entry_points_validate():
    w = np.zeros((2, 3))
    with pytest.raises(ValueError, match="dw: expected shape"):
        _core.optim_step("sgd", w, np.zeros((3, 2)), [], [0.1])
    with pytest.raises(TypeError, match="dw"):
        _core.optim_step("sgd", w, np.zeros((2, 3), np.float32), [], [0.1])
    with pytest.raises(ValueError, match="scalars"):
        _core.optim_step("adam", w, np.zeros((2, 3)), [np.zeros((2, 3)), np.zeros((2, 3))], [0.1])
    with pytest.raises(ValueError, match="rule"):
        _core.optim_step("adagrad", w, np.zeros((2, 3)), [], [0.1])
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.optim_step("sgd", np.zeros((3, 2)).T, np.zeros((2, 3)), [], [0.1])
    raw = np.zeros(6 * 8 + 1, dtype=np.uint8)
    unaligned = np.ndarray((2, 3), dtype=np.float64, buffer=raw, offset=1)
    assert not unaligned.flags.aligned
    with pytest.raises(ValueError, match="aligned"):
        _core.optim_step("sgd", w, unaligned, [], [0.1])
    ro = np.zeros((2, 3))
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="w: cannot be updated in place"):
        _core.optim_step("sgd", ro, np.zeros((2, 3)), [], [0.1])
    m = np.zeros((2, 3))
    with pytest.raises(ValueError, match="cannot be updated in place"):  # the same array twice, written
        _core.optim_step("adam", w, np.zeros((2, 3)), [m, m], [1e-3, 0.9, 0.1, 0.1, 0.999, 0.001, 0.001, 1e-8])
    with pytest.raises(ValueError, match="cannot be updated in place"):
        _core.optim_step_many("sgd", [(w, np.zeros((2, 3)), [], [0.1]), (w, np.zeros((2, 3)), [], [0.1])])


# ---------------------------------------------------------------------------------------------
# next_w of large updates comes from the recycling allocator


def test_recycled_outputs_are_correct_and_independent():
    n = (1 << 20) // 8 + 3  # above the recycling threshold
    rng = np.random.default_rng(8)
    w = rng.standard_normal(n)
    grads = [rng.standard_normal(n) for _ in range(6)]
    kept = []
    c_ours, c_ref, w_ours, w_ref = {}, {}, w.copy(), w.copy()
    for i, dw in enumerate(grads):
        w_ours, c_ours = optim.adam(w_ours, dw, c_ours)
        w_ref, c_ref = R.adam(w_ref, dw, c_ref)
        assert _same(w_ours, w_ref)
        if i % 2:
            kept.append((w_ours, w_ref.copy()))  # live outputs must never be handed out again
        optim.rmsprop(w, dw, {})  # and outputs freed at once are reused
    for ours, ref in kept:
        assert _same(ours, ref)
    addresses = {a.__array_interface__["data"][0] for a, _ in kept}
    assert len(addresses) == len(kept)


def test_recycling_allocator_is_scoped_to_our_outputs():
    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    get_name = multiarray.get_handler_name
    before = get_name()
    out = _core.optim_out((1 << 18,), np.float64)
    assert get_name(out) == "cs231n_rs_recycling_allocator"
    assert get_name() == before  # NumPy's own allocations are untouched
    assert get_name(np.empty(1 << 18)) == before
    assert out.shape == (1 << 18,) and out.dtype == np.float64 and out.flags.c_contiguous and out.flags.owndata
    with pytest.raises((MemoryError, ValueError)):
        _core.optim_out((1 << 62, 1 << 62), np.float64)
    assert get_name() == before


def test_same_rule_from_several_python_threads():
    import threading

    rng = np.random.default_rng(9)
    w = rng.standard_normal(200_000)
    grads = [rng.standard_normal(200_000) for _ in range(3)]
    expected, _ = _run("adam", R, w.copy(), grads, {})
    results = [None] * 4

    def work(i):
        results[i] = _run("adam", optim, w.copy(), grads, {})[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert all(_same(a, b) for a, b in zip(r, expected))


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_memory_stays_flat_in_a_training_loop():
    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    rng = np.random.default_rng(10)
    w = rng.standard_normal(300_000)  # 2.4 MB: recycled
    dw = rng.standard_normal(300_000) * 1e-3
    small = rng.standard_normal(50)
    config, small_config = {}, {}
    for _ in range(50):
        w, config = optim.adam(w, dw, config)
        small, small_config = optim.rmsprop(small, small[::-1].copy(), small_config)
    before = rss_mb()
    for _ in range(1000):
        w, config = optim.adam(w, dw, config)
        small, small_config = optim.rmsprop(small, small[::-1].copy(), small_config)
    assert rss_mb() - before < 20


def test_bench_rows(tmp_path, capsys, np_seed, restore_threads):
    import json

    from cs231n_rs.bench import OPTIM_ARRAYS, Sizes
    from cs231n_rs.cli import main

    path = tmp_path / "b.json"
    assert main(["bench", "--quick", "--no-torch", "--only", "optim.adam", "optim.sgd_momentum", "Solver",
                 "--json", str(path)]) == 0
    out = capsys.readouterr().out
    rows = json.loads(path.read_text())["results"]
    n = Sizes.quick().optim_params
    got = {(r["kernel"], r["dtype"]) for r in rows}
    assert got == {("optim.adam", "float64"), ("optim.adam", "float32"), ("optim.sgd_momentum", "float64"),
                   ("optim.sgd_momentum", "float32"), ("Solver._step overhead (adam)", "float64")}
    for r in rows:
        if r["kernel"].startswith("optim."):
            rule = r["kernel"][len("optim."):]
            assert r["bytes_moved"] == OPTIM_ARRAYS[rule] * n * np.dtype(r["dtype"]).itemsize
            assert r["ours_gbs"] > 0 and r["reference_gbs"] > 0 and r["numpy_copy_gbs"] > 0
            assert "%s %s: %.0f MB moved per call" % (r["kernel"], r["dtype"], r["bytes_moved"] / 1e6) in out
    assert "Solver._step overhead (adam): reference" in out
