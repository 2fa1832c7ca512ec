"""cs231n_rs.solver.Solver against the reference Solver (cs231n's code) on small models of our own."""

import os
import pickle

import numpy as np
import pytest

import cs231n_rs
from cs231n_rs import optim
from cs231n_rs import reference as R
from cs231n_rs.solver import Solver

RULES = ["sgd", "sgd_momentum", "rmsprop", "adam"]


class TwoLayerModel(object):
    """affine - relu - affine - softmax, with cs231n's model API (params dict, loss(X, y=None)).

    ``grad_dtype`` (default: the parameters') is the dtype of the gradients, e.g. float64 gradients
    for float32 parameters as ThreeLayerConvNet gets from float64 data."""

    def __init__(self, D=12, H=16, C=5, dtype=np.float64, reg=0.05, grad_dtype=None):
        # draws from the global RNG, as cs231n's models do
        self.params = {
            "W1": (1e-1 * np.random.randn(D, H)).astype(dtype),
            "b1": np.zeros(H, dtype=dtype),
            "W2": (1e-1 * np.random.randn(H, C)).astype(dtype),
            "b2": np.zeros(C, dtype=dtype),
        }
        self.reg = reg
        self.grad_dtype = grad_dtype

    def loss(self, X, y=None):
        p = self.params
        h = np.maximum(0, X.dot(p["W1"]) + p["b1"])
        scores = h.dot(p["W2"]) + p["b2"]
        if y is None:
            return scores
        N = X.shape[0]
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probs[np.arange(N), y])) + 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        ds = probs
        ds[np.arange(N), y] -= 1
        ds /= N
        grads = {"W2": h.T.dot(ds) + self.reg * p["W2"], "b2": ds.sum(axis=0)}
        dh = ds.dot(p["W2"].T) * (h > 0)
        grads["W1"] = X.T.dot(dh) + self.reg * p["W1"]
        grads["b1"] = dh.sum(axis=0)
        if self.grad_dtype is not None:
            grads = {k: v.astype(self.grad_dtype) for k, v in grads.items()}
        return loss, grads


def _data(seed=0, N=230, Nv=60, D=12, C=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((C, D)) * 2
    y = rng.integers(0, C, N + Nv)
    X = (centers[y] + rng.standard_normal((N + Nv, D))).astype(dtype)
    return {"X_train": X[:N], "y_train": y[:N], "X_val": X[N:], "y_val": y[N:], "X_test": X[:5]}


def _train(cls, seed=231, model_kw=None, data=None, **kw):
    """Seeded model + solver + train(); returns (solver, model, RNG draw after training)."""
    np.random.seed(seed)
    model = TwoLayerModel(**(model_kw or {}))
    if cls is Solver:
        kw.setdefault("progress", False)
    solver = cls(model, data if data is not None else _data(), **kw)
    solver.train()
    return solver, model, np.random.rand()


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _assert_same_run(ours, ref):
    s1, m1, r1 = ours
    s2, m2, r2 = ref
    assert r1 == r2  # the same number of RNG draws
    assert s1.loss_history == s2.loss_history
    assert s1.train_acc_history == s2.train_acc_history
    assert s1.val_acc_history == s2.val_acc_history
    assert s1.best_val_acc == s2.best_val_acc
    assert s1.epoch == s2.epoch
    assert list(m1.params) == list(m2.params)
    for k in m2.params:
        assert _same(m1.params[k], m2.params[k]), k
    assert list(s1.optim_configs) == list(s2.optim_configs)
    for p in s2.optim_configs:
        c1, c2 = s1.optim_configs[p], s2.optim_configs[p]
        assert list(c1) == list(c2), p
        for k in c2:
            if isinstance(c2[k], np.ndarray):
                assert _same(c1[k], c2[k]), (p, k)
            else:
                assert type(c1[k]) is type(c2[k]) and c1[k] == c2[k], (p, k)


# ---------------------------------------------------------------------------------------------
# Exact reproduction of a reference training run


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reproduces_reference_training_run(rule, dtype, np_seed):
    kw = dict(update_rule=rule, optim_config={"learning_rate": 5e-3}, lr_decay=0.9, num_epochs=3, batch_size=40,
              num_train_samples=100, num_val_samples=50, verbose=False, model_kw={"dtype": dtype})
    _assert_same_run(_train(Solver, **kw), _train(R.Solver, **kw))


@pytest.mark.parametrize("rule", RULES)
def test_fast_path_equals_slow_path(rule, np_seed):
    fast = getattr(optim, rule)

    def slow(w, dw, config=None):  # not cs231n_rs's own function object: the Solver's plain loop
        return fast(w, dw, config)

    kw = dict(optim_config={"learning_rate": 1e-2}, num_epochs=2, batch_size=50, verbose=False)
    for dtype in (np.float64, np.float32):
        _assert_same_run(
            _train(Solver, update_rule=rule, model_kw={"dtype": dtype}, **kw),
            _train(Solver, update_rule=slow, model_kw={"dtype": dtype}, **kw),
        )


FALLBACK_CASES = ["f32 params, f64 grads", "numpy scalar lr", "int lr", "view param", "grad is non-contiguous"]


@pytest.mark.parametrize(
    "rule,case", [(r, c) for r in RULES for c in FALLBACK_CASES] + [("adam", "numpy int t")]
)
def test_fast_path_fallbacks_still_match_reference(rule, case, np_seed):
    """Cases the all-Rust step leaves to Python: the values must still be the reference's."""
    model_kw, optim_config = {}, {"learning_rate": 1e-2}
    if case == "f32 params, f64 grads":  # ThreeLayerConvNet with float64 data
        model_kw = {"dtype": np.float32, "grad_dtype": np.float64}
    elif case == "numpy scalar lr":
        optim_config = {"learning_rate": np.float64(1e-2)}
        model_kw = {"dtype": np.float32}
    elif case == "int lr":
        optim_config = {"learning_rate": 0}
    elif case == "numpy int t":
        optim_config = {"learning_rate": 1e-2, "t": np.int64(2)}

    def run(cls):
        np.random.seed(7)
        model = TwoLayerModel(**model_kw)
        if case == "view param":  # b2 is a view of a bigger array; W2 a transposed view
            big = np.zeros(2 * model.params["b2"].size)
            big[::2] = model.params["b2"]
            model.params["b2"] = big[::2]
            model.params["W2"] = np.ascontiguousarray(model.params["W2"].T).T
        if case == "grad is non-contiguous":
            orig = model.loss

            def loss(X, y=None):
                out = orig(X, y)
                if y is None:
                    return out
                return out[0], {k: np.asfortranarray(v) for k, v in out[1].items()}

            model.loss = loss
        kw = {"progress": False} if cls is Solver else {}
        solver = cls(model, _data(), update_rule=rule, optim_config=optim_config, num_epochs=2, batch_size=50,
                     verbose=False, **kw)
        solver.train()
        return solver, model, np.random.rand()

    _assert_same_run(run(Solver), run(R.Solver))


def test_best_params_are_copies_not_touched_by_in_place_updates(np_seed):
    solver, model, _ = _train(Solver, update_rule="adam", optim_config={"learning_rate": 1e-2}, num_epochs=3,
                              batch_size=50, verbose=False)
    assert model.params is solver.best_params
    ref, ref_model, _ = _train(R.Solver, update_rule="adam", optim_config={"learning_rate": 1e-2}, num_epochs=3,
                               batch_size=50, verbose=False)
    for k in ref_model.params:
        assert _same(model.params[k], ref_model.params[k])


def test_best_params_restored_from_best_epoch(np_seed):
    """model.params at the end are the parameters of the epoch with the best (strictly greater) val_acc."""
    snapshots = []

    class Recording(Solver):
        def check_accuracy(self, X, y, num_samples=None, batch_size=100):
            acc = super().check_accuracy(X, y, num_samples, batch_size)
            if X is self.X_val:
                snapshots.append(({k: v.copy() for k, v in self.model.params.items()}, acc))
            return acc

    np.random.seed(3)
    model = TwoLayerModel()
    solver = Recording(model, _data(), update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=4,
                       batch_size=50, verbose=False, progress=False)
    solver.train()
    accs = [a for _, a in snapshots]
    assert accs == solver.val_acc_history and len(accs) == 4 + 1
    best = max(range(len(accs)), key=lambda i: (accs[i], -i))  # first maximum: strict '>'
    assert solver.best_val_acc == accs[best]
    for k, v in snapshots[best][0].items():
        assert _same(model.params[k], v)


def test_params_become_empty_when_val_acc_never_positive(np_seed):
    data = _data()
    data["y_val"] = np.full_like(data["y_val"], 99)  # no prediction can be right
    solver, model, _ = _train(Solver, data=data, num_epochs=1, batch_size=100, verbose=False)
    assert model.params == {} and solver.best_params == {}


# ---------------------------------------------------------------------------------------------
# Constructor, attributes, errors


def test_constructor_defaults_and_attributes():
    np.random.seed(0)
    model = TwoLayerModel()
    data = _data()
    cfg = {"learning_rate": 1e-3}
    s = Solver(model, data, optim_config=cfg, progress=False)
    assert s.model is model and s.X_train is data["X_train"] and s.y_val is data["y_val"]
    assert s.update_rule is optim.sgd
    assert (s.lr_decay, s.batch_size, s.num_epochs, s.num_train_samples) == (1.0, 100, 10, 1000)
    assert (s.num_val_samples, s.checkpoint_name, s.print_every, s.verbose) == (None, None, 10, True)
    assert s.epoch == 0 and s.best_val_acc == 0 and s.best_params == {}
    assert s.loss_history == [] and s.train_acc_history == [] and s.val_acc_history == []
    assert list(s.optim_configs) == list(model.params)
    for c in s.optim_configs.values():
        assert c == cfg and c is not cfg
    assert len({id(c) for c in s.optim_configs.values()}) == len(model.params)
    assert Solver(model, data, update_rule="adam", progress=False).update_rule is optim.adam


def test_update_rule_as_function():
    calls = []

    def rule(w, dw, config=None):
        calls.append(w.shape)
        return optim.sgd(w, dw, config)

    np.random.seed(0)
    s = Solver(TwoLayerModel(), _data(), update_rule=rule, num_epochs=1, batch_size=200, verbose=False,
               progress=False)
    assert s.update_rule is rule
    s.train()
    assert len(calls) == 4  # one iteration, four parameters


def test_errors_as_cs231n():
    np.random.seed(0)
    model, data = TwoLayerModel(), _data()
    for cls in (Solver, R.Solver):
        with pytest.raises(ValueError) as e:
            cls(model, data, foo=1, bar=2)
        assert str(e.value) == 'Unrecognized arguments "foo", "bar"'
        with pytest.raises(ValueError) as e:
            cls(model, data, update_rule="adagrad")
        assert str(e.value) == 'Invalid update_rule "adagrad"'
        with pytest.raises(KeyError):
            cls(model, {"X_train": data["X_train"]})


# ---------------------------------------------------------------------------------------------
# train(): lr decay, histories, prints, checkpoints, check_accuracy


def test_lr_decay_applies_to_every_config_each_epoch(np_seed):
    solver, model, _ = _train(Solver, update_rule="sgd_momentum", optim_config={"learning_rate": 0.1}, lr_decay=0.5,
                              num_epochs=3, batch_size=100, verbose=False)
    expected = 0.1
    for _ in range(3):
        expected *= 0.5
    for c in solver.optim_configs.values():
        assert c["learning_rate"] == expected
    # histories: first iteration, and each epoch end (the last iteration is one)
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 3 + 1
    assert len(solver.loss_history) == 3 * (230 // 100)


def test_verbose_lines_identical_to_reference(capsys, np_seed):
    kw = dict(update_rule="adam", optim_config={"learning_rate": 1e-3}, num_epochs=2, batch_size=25, print_every=3,
              verbose=True)
    _train(Solver, **kw)
    ours = capsys.readouterr()
    _train(R.Solver, **kw)
    ref = capsys.readouterr()
    assert ours.out == ref.out
    lines = ours.out.splitlines()
    assert lines[0].startswith("(Iteration 1 / 18) loss: ")
    assert lines[1].startswith("(Epoch 0 / 2) train acc: ") and "; val_acc: " in lines[1]
    assert ours.err == ""  # no progress bar when stdout is not a terminal


def test_progress_bar_changes_no_printed_line_or_draw(capsys, np_seed):
    kw = dict(update_rule="rmsprop", optim_config={"learning_rate": 1e-3}, num_epochs=2, batch_size=25,
              print_every=4, verbose=True)
    with_bar = _train(Solver, progress=True, **kw)
    out_bar = capsys.readouterr()
    without = _train(Solver, progress=False, **kw)
    out_plain = capsys.readouterr()
    assert out_bar.out == out_plain.out
    assert "train" in out_bar.err and "loss" in out_bar.err  # tqdm writes to stderr
    assert out_plain.err == ""
    _assert_same_run(with_bar, without)


def test_progress_default_follows_the_terminal(monkeypatch):
    np.random.seed(0)
    model, data = TwoLayerModel(), _data()
    assert Solver(model, data).progress is False  # pytest captures stdout: not a terminal

    class Tty:
        def isatty(self):
            return True

        def write(self, s):
            return len(s)

        def flush(self):
            pass

    monkeypatch.setattr("sys.stdout", Tty())
    assert Solver(model, data).progress is True
    assert Solver(model, data, progress=False).progress is False


def test_checkpoints_named_as_cs231n(tmp_path, monkeypatch, capsys, np_seed):
    monkeypatch.chdir(tmp_path)
    solver, model, _ = _train(Solver, update_rule="sgd", optim_config={"learning_rate": 1e-2}, num_epochs=2,
                              batch_size=100, checkpoint_name="ckpt", verbose=True)
    names = sorted(os.listdir(tmp_path))
    assert names == ["ckpt_epoch_0.pkl", "ckpt_epoch_1.pkl", "ckpt_epoch_2.pkl"]
    out = capsys.readouterr().out
    assert 'Saving checkpoint to "ckpt_epoch_0.pkl"' in out and 'Saving checkpoint to "ckpt_epoch_2.pkl"' in out
    with open(tmp_path / "ckpt_epoch_2.pkl", "rb") as f:
        ck = pickle.load(f)
    assert sorted(ck) == sorted(["model", "update_rule", "lr_decay", "optim_config", "batch_size", "num_train_samples",
                                 "num_val_samples", "epoch", "loss_history", "train_acc_history", "val_acc_history"])
    assert ck["epoch"] == 2 and ck["update_rule"] is optim.sgd
    assert ck["loss_history"] == solver.loss_history
    assert isinstance(ck["model"], TwoLayerModel)


def test_check_accuracy_samples_like_reference(np_seed):
    np.random.seed(0)
    model, data = TwoLayerModel(), _data()
    ours = Solver(model, data, progress=False)
    ref = R.Solver(model, data)
    for num_samples, batch_size in [(None, 100), (50, 100), (100, 7), (1000, 30)]:
        np.random.seed(11)
        a = ours.check_accuracy(data["X_train"], data["y_train"], num_samples=num_samples, batch_size=batch_size)
        ra = np.random.rand()
        np.random.seed(11)
        b = ref.check_accuracy(data["X_train"], data["y_train"], num_samples=num_samples, batch_size=batch_size)
        assert a == b and ra == np.random.rand()


def test_works_through_the_cs231n_alias():
    cs231n_rs.install_as_cs231n()
    try:
        from cs231n.solver import Solver as Aliased
        from cs231n import optim as aliased_optim

        assert Aliased is Solver and aliased_optim is optim
    finally:
        cs231n_rs.uninstall_as_cs231n()


def test_all_rust_step_changes_nothing_when_it_declines():
    """_core.solver_update returns False, leaving params and configs untouched, for what it leaves to
    Python; then the Python path gives the reference's values (checked above)."""
    import copy

    from cs231n_rs import _core

    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    declined = [
        {"a": {"learning_rate": 1}, "b": {}},  # an int hyper-parameter
        {"a": {}, "b": {"learning_rate": np.float64(0.1)}},  # a NumPy scalar
        {"a": {"m": np.zeros((4, 3))}, "b": {}},  # a state of the wrong shape
        {"a": {"m": np.zeros((3, 4), np.float32)}, "b": {}},  # of another dtype
        {"a": {"t": np.int64(1)}, "b": {}},
    ]
    for configs in declined:
        before_params = copy.deepcopy(params)
        before_configs = copy.deepcopy(configs)
        assert _core.solver_update("adam", params, grads, configs) is False
        for k in params:
            assert _same(params[k], before_params[k])
        assert list(configs) == list(before_configs)
        for p in configs:
            assert list(configs[p]) == list(before_configs[p])
    f32 = {k: v.astype(np.float32) for k, v in params.items()}
    assert _core.solver_update("sgd", f32, grads, {"a": {}, "b": {}}) is False  # f32 params, f64 grads
    shared = np.zeros(4)
    assert _core.solver_update("adam", params, grads, {"a": {}, "b": {"m": shared, "v": shared}}) is False
    foreign = dict(grads, a=np.frombuffer(bytearray(grads["a"].tobytes())).reshape(3, 4))  # memory of a bytearray
    assert _core.solver_update("adam", params, foreign, {"a": {}, "b": {}}) is False
    aliased = dict(grads, b=params["a"][0])  # a gradient viewing a parameter
    assert _core.solver_update("adam", params, aliased, {"a": {}, "b": {}}) is False
    as_state = {"a": {}, "b": {"m": grads["b"]}}  # a gradient that is a state
    assert _core.solver_update("adam", params, grads, as_state) is False
    # a gradient that views an ordinary array is fine (e.g. a reshape)
    viewed = dict(grads, a=grads["a"].ravel().copy().reshape(3, 4))
    assert viewed["a"].base is not None
    before = {k: v.copy() for k, v in params.items()}
    assert _core.solver_update("sgd", params, viewed, {"a": {}, "b": {}}) is True
    assert _same(params["a"], before["a"] - 1e-2 * grads["a"])
    params = {k: v.copy() for k, v in before.items()}
    # and a case it takes: the update is the rule's, config included
    configs = {"a": {}, "b": {}}
    expect = {k: R.optim.adam(v.copy(), grads[k], {})[0] for k, v in params.items()}
    assert _core.solver_update("adam", params, grads, configs) is True
    for k in params:
        assert _same(params[k], expect[k])
        assert list(configs[k]) == ["learning_rate", "beta1", "beta2", "epsilon", "m", "v", "t"]
        assert configs[k]["t"] == 1


def test_unhashable_callable_update_rule(np_seed):
    class Rule(object):
        __hash__ = None  # defines __eq__ semantics without hashing

        def __eq__(self, other):
            return False

        def __call__(self, w, dw, config=None):
            return R.optim.sgd(w, dw, config)

    np.random.seed(0)
    s = Solver(TwoLayerModel(), _data(), update_rule=Rule(), num_epochs=1, batch_size=200, verbose=False,
               progress=False)
    s.train()
    assert len(s.loss_history) == 1
