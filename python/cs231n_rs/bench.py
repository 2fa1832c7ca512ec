"""``cs231n-rs bench``: time the Rust kernels against the NumPy reference, in the same run.

Every kernel runs at the size the assignment uses it (``--quick`` divides the sizes by about 10). Each
side is warmed up once, then the sides run ``--repeats`` times, alternating (reference, ours, torch,
reference, ours, ...), and the median is reported. Before every timing the benchmark sleeps
``PAUSE_S``: after a BLAS call OpenBLAS's worker threads busy-wait for about 0.1 s and slow down
whatever runs next, so without the pause the benchmark would measure that contention.

``--threads N`` gives both sides the same cores: the Rust kernels get ``set_num_threads(N)``, NumPy's
BLAS gets ``threadpool_limits(N, user_api="blas")`` and torch (when installed) ``torch.set_num_threads(N)``.
"""

import gc
import json
import os
import platform
import shlex
import statistics
import sys
import time
import timeit
from collections import namedtuple
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

#: Seconds to sleep before each timing (lets OpenBLAS's spinning worker threads go idle).
PAUSE_S = 0.2
#: The same pause under ``--quick``, whose numbers are a smoke test, not a measurement.
QUICK_PAUSE_S = 0.01
#: Seed of the ``np.random.default_rng`` that draws the benchmark data.
DATA_SEED = 231
#: Seed of NumPy's global RNG before each ``train`` call (both sides then draw the same minibatches).
TRAIN_SEED = 0
#: The call-overhead case reports the best of this many timeit repeats.
OVERHEAD_REPEATS = 5
#: Number of classes (CIFAR-10).
NUM_CLASSES = 10

LOOPS_FOOTNOTE = (
    "cs231n's two-loop and one-loop versions are impractically slow at this size (Python loops over "
    "every pair or row); the reference column times the reference no-loops version."
)

#: The three callables a case times; ``torch`` is None where torch is missing or has no natural equivalent.
Contenders = namedtuple("Contenders", "reference ours torch")


@dataclass(frozen=True)
class Sizes:
    """The problem sizes of one benchmark run."""

    knn_test: int = 500
    knn_train: int = 5000
    knn_dim: int = 3072
    knn_k: int = 10
    loss_small: int = 500
    loss_large: int = 49000
    linear_dim: int = 3073
    train_iters: int = 1500
    train_batch: int = 200
    overhead_number: int = 2000
    layer_batch: int = 128
    affine_dim: int = 3072
    affine_out: int = 1024
    norm_dim: int = 1024
    elem_dim: int = 4096
    loss_batch: int = 200
    fcn_batch: int = 200
    optim_params: int = 10_000_000
    solver_params: int = 10
    solver_number: int = 2000
    feature_images: int = 1000
    feature_side: int = 32
    conv_small: tuple = ((64, 3, 32, 32), 32)
    conv_large: tuple = ((64, 32, 16, 16), 64)
    pool_shape: tuple = (64, 32, 32, 32)
    spatial_norm_shape: tuple = (64, 32, 16, 16)
    cnn_batch: int = 50

    @classmethod
    def quick(cls):
        """About a tenth of the assignment sizes, for tests and CI."""
        return cls(
            knn_test=50,
            knn_train=500,
            loss_small=50,
            loss_large=4900,
            train_iters=100,
            overhead_number=200,
            layer_batch=16,
            affine_dim=300,
            affine_out=100,
            norm_dim=100,
            elem_dim=400,
            loss_batch=20,
            fcn_batch=20,
            optim_params=1_000_000,
            solver_number=200,
            feature_images=100,
            conv_small=((8, 3, 16, 16), 8),
            conv_large=((8, 8, 8, 8), 16),
            pool_shape=(8, 8, 16, 16),
            spatial_norm_shape=(8, 8, 8, 8),
            cnn_batch=5,
        )


@dataclass
class Case:
    """One row of the table: a kernel at one shape and dtype.

    ``setup(pool)`` builds the :class:`Contenders`; arrays that several cases share are kept in
    ``pool`` (a dict), which is emptied whenever ``group`` changes, so large inputs are allocated once
    and freed as soon as their group is done.
    """

    kernel: str
    shape: str
    dtype: str
    group: str
    setup: Callable
    per_call: Optional[int] = None  # if set: calls per timeit repeat (best of OVERHEAD_REPEATS is reported)
    footnote: Optional[str] = None
    nbytes: Optional[int] = None  # if set: bytes a call must move; bandwidths are reported next to a NumPy copy's
    copy_elems: int = 0  # elements of the NumPy copy that gives the bandwidth to compare with


# ----------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser):
    """Adds the ``bench`` options to an argparse (sub)parser."""
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="SUBSTR",
        help="run only the kernels whose name contains one of these substrings (case-insensitive)",
    )
    parser.add_argument(
        "--threads", type=int, metavar="N", help="threads for both sides (default: cs231n_rs.get_num_threads())"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        metavar="R",
        help="timed runs per side, median reported (default 5; at least 5 unless --quick)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--no-torch", action="store_true", help="leave out the PyTorch CPU column even when torch is installed"
    )
    parser.add_argument(
        "--quick", action="store_true", help="sizes / 10, one repeat and short pauses: a smoke test, not a measurement"
    )


def run(args, argv=()):
    """Runs ``cs231n-rs bench`` for parsed ``args``; ``argv`` is recorded in the JSON. Returns the exit code."""
    import cs231n_rs

    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    if repeats < 1 or (repeats < 5 and not args.quick):
        least = 1 if args.quick else 5
        print("cs231n-rs bench: --repeats must be at least %d, got %d" % (least, repeats), file=sys.stderr)
        return 2
    threads = args.threads if args.threads is not None else cs231n_rs.get_num_threads()
    if threads < 1:
        print("cs231n-rs bench: --threads must be at least 1, got %d" % threads, file=sys.stderr)
        return 2
    sizes = Sizes.quick() if args.quick else Sizes()
    cases = select_cases(all_cases(sizes), args.only)
    if not cases:
        names = sorted({c.kernel for c in all_cases(sizes)})
        print(
            "cs231n-rs bench: no kernel matches --only %s; kernels: %s" % (" ".join(args.only), ", ".join(names)),
            file=sys.stderr,
        )
        return 2

    global _TORCH_DISABLED
    _TORCH_DISABLED = bool(getattr(args, "no_torch", False))
    torch = _import_torch()
    pause = QUICK_PAUSE_S if args.quick else PAUSE_S
    with _same_threads(threads, torch):
        results = run_cases(cases, repeats, pause, threads, torch is not None)
    print_footnotes(cases, results, repeats, pause, threads)
    if args.json:
        report = json_report(results, threads, "cs231n-rs " + shlex.join(list(argv)))
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print("wrote %s" % args.json)
    return 0


# ----------------------------------------------------------------------------------------------
# The kernels


def all_cases(sizes):
    """Every benchmark case, in running order (cases sharing arrays are adjacent)."""
    from ._bench_conv import conv_cases
    from ._bench_layers import layer_cases
    from ._bench_vis import vis_cases

    cases = _knn_cases(sizes, "float64") + _knn_cases(sizes, "float32")
    cases += _loss_cases(sizes, "float64")
    cases += [_train_case(sizes, name) for name in ("LinearSVM", "Softmax")]  # reuse the float64 rows
    cases += _loss_cases(sizes, "float32")
    cases += _feature_cases(sizes)
    cases.append(_overhead_case(sizes))
    cases += layer_cases(sizes)
    cases += conv_cases(sizes)
    cases += vis_cases(sizes)
    cases += _optim_cases(sizes, "float64") + _optim_cases(sizes, "float32")
    cases.append(_solver_overhead_case(sizes))
    return cases


def select_cases(cases, only):
    """The cases whose kernel name contains one of the ``only`` substrings (all when ``only`` is empty)."""
    if not only:
        return cases
    wanted = [s.lower() for s in only]
    return [c for c in cases if any(s in c.kernel.lower() for s in wanted)]


def _knn_data(pool, sizes, dtype):
    """Pixel-like test and training rows in [0, 255), with labels; shared by the kNN cases of a dtype."""
    if "knn" not in pool:
        rng = np.random.default_rng(DATA_SEED)
        X_test = rng.uniform(0, 255, (sizes.knn_test, sizes.knn_dim)).astype(dtype)
        X_train = rng.uniform(0, 255, (sizes.knn_train, sizes.knn_dim)).astype(dtype)
        y_train = rng.integers(0, NUM_CLASSES, sizes.knn_train)
        pool["knn"] = (X_test, X_train, y_train)
    return pool["knn"]


def _knn_cases(sizes, dtype):
    shape = "%dx%dx%d" % (sizes.knn_test, sizes.knn_train, sizes.knn_dim)
    group = "knn-" + dtype
    cases = []
    for method in ("compute_distances_no_loops", "compute_distances_two_loops", "compute_distances_one_loop"):
        note = None if method.endswith("no_loops") else LOOPS_FOOTNOTE
        setup = _knn_distances_setup(sizes, dtype, method)
        cases.append(Case("knn." + method, shape, dtype, group, setup, footnote=note))
    k = sizes.knn_k
    cases.append(Case("knn.predict k=%d" % k, shape, dtype, group, _knn_predict_setup(sizes, dtype, k)))
    return cases


def _knn_classifiers(pool, sizes, dtype):
    from . import reference
    from .classifiers import KNearestNeighbor

    X_test, X_train, y_train = _knn_data(pool, sizes, dtype)
    ref, ours = reference.KNearestNeighbor(), KNearestNeighbor()
    ref.train(X_train, y_train)
    ours.train(X_train, y_train)
    return ref, ours, X_test, X_train, y_train


def _knn_distances_setup(sizes, dtype, method):
    def setup(pool):
        ref, ours, X_test, X_train, _ = _knn_classifiers(pool, sizes, dtype)
        torch_fn = None
        torch = _import_torch()
        if torch is not None:
            te, tr = torch.from_numpy(X_test), torch.from_numpy(X_train)
            torch_fn = lambda: torch.cdist(te, tr)  # noqa: E731
        return Contenders(
            lambda: ref.compute_distances_no_loops(X_test), lambda: getattr(ours, method)(X_test), torch_fn
        )

    return setup


def _knn_predict_setup(sizes, dtype, k):
    def setup(pool):
        ref, ours, X_test, X_train, y_train = _knn_classifiers(pool, sizes, dtype)
        torch_fn = None
        torch = _import_torch()
        if torch is not None:
            te, tr, ytr = torch.from_numpy(X_test), torch.from_numpy(X_train), torch.from_numpy(y_train)

            def torch_fn():
                nearest = torch.cdist(te, tr).topk(k, dim=1, largest=False).indices
                votes = torch.nn.functional.one_hot(ytr[nearest], NUM_CLASSES).sum(dim=1)
                return votes.argmax(dim=1)  # first maximum: ties go to the smaller label

        return Contenders(lambda: ref.predict(X_test, k=k), lambda: ours.predict(X_test, k=k), torch_fn)

    return setup


def _linear_data(pool, sizes, dtype):
    """Mean-subtracted pixel-like rows with a bias column, labels and ``W = 1e-4 * randn``; the
    ``loss_large`` rows are allocated once per dtype and sliced for the smaller sizes."""
    key = ("linear", dtype)
    if key not in pool:
        rng = np.random.default_rng(DATA_SEED)
        n, d = sizes.loss_large, sizes.linear_dim
        X = np.empty((n, d), dtype=dtype)
        for start in range(0, n, 4096):  # in blocks: no float64 temporary of the whole matrix
            stop = min(start + 4096, n)
            X[start:stop, :-1] = rng.uniform(-127.5, 127.5, (stop - start, d - 1))
        X[:, -1] = 1.0
        y = rng.integers(0, NUM_CLASSES, n)
        W = (rng.standard_normal((d, NUM_CLASSES)) * 1e-4).astype(dtype)
        pool[key] = (X, y, W)
    return pool[key]


def _loss_cases(sizes, dtype):
    losses = ("svm_loss_vectorized", "softmax_loss_vectorized")
    return [_loss_case(sizes, loss, n, dtype) for n in (sizes.loss_small, sizes.loss_large) for loss in losses]


def _loss_case(sizes, loss, n, dtype):
    reg = 5e-6
    shape = "W %dx%d, X %dx%d" % (sizes.linear_dim, NUM_CLASSES, n, sizes.linear_dim)

    def setup(pool):
        from . import reference
        from .classifiers import linear_svm, softmax

        X, y, W = _linear_data(pool, sizes, dtype)
        X, y = X[:n], y[:n]
        ours = getattr(linear_svm if loss.startswith("svm") else softmax, loss)
        ref = getattr(reference, loss)
        return Contenders(lambda: ref(W, X, y, reg), lambda: ours(W, X, y, reg), _torch_loss(loss, W, X, y, reg))

    return Case(loss, shape, dtype, "linear-" + dtype, setup)


def _torch_loss(loss, W, X, y, reg):
    """torch's loss + gradient by autograd at the same inputs, or None without torch."""
    torch = _import_torch()
    if torch is None:
        return None
    Wt = torch.from_numpy(W.copy()).requires_grad_(True)
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.asarray(y))

    def run():
        Wt.grad = None
        scores = Xt @ Wt
        if loss == "softmax_loss_vectorized":
            data_loss = torch.nn.functional.cross_entropy(scores, yt)
        else:  # the correct class contributes max(0, 1) = 1 per row: subtract it
            margins = torch.clamp(scores - scores.gather(1, yt[:, None]) + 1, min=0)
            data_loss = margins.sum() / Xt.shape[0] - 1
        total = data_loss + reg * (Wt * Wt).sum()
        total.backward()
        return total.item(), Wt.grad

    return run


def _train_case(sizes, name):
    lr, reg = 1e-7, 2.5e4
    n, d = sizes.loss_large, sizes.linear_dim
    shape = "X %dx%d, %d it x %d" % (n, d, sizes.train_iters, sizes.train_batch)

    def setup(pool):
        from . import classifiers, reference

        X, y, _ = _linear_data(pool, sizes, "float64")

        def trainer(cls):
            def train():
                np.random.seed(TRAIN_SEED)  # both sides draw the same W and minibatches
                cls().train(X, y, learning_rate=lr, reg=reg, num_iters=sizes.train_iters, batch_size=sizes.train_batch)

            return train

        return Contenders(trainer(getattr(reference, name)), trainer(getattr(classifiers, name)), None)

    return Case(name + ".train", shape, "float64", "linear-float64", setup)


FEATURES_FOOTNOTE = (
    "extract_features over the batch: the reference runs cs231n's per-image loop over the NumPy "
    "reference features (uniform filter written with NumPy, matplotlib's rgb_to_hsv, np.histogram)."
)


def _feature_cases(sizes):
    """extract_features with HOG, the HSV hue histogram, and both (features.ipynb's list)."""
    n, side = sizes.feature_images, sizes.feature_side
    shape = "%dx%dx%dx3" % (n, side, side)
    kinds = (("hog", ("hog",)), ("hsv nbin=10", ("hsv",)), ("hog + hsv", ("hog", "hsv")))
    cases = [
        Case("extract_features %s" % name, shape, "float64", "features", _feature_setup(sizes, parts),
             footnote=FEATURES_FOOTNOTE)
        for name, parts in kinds
    ]
    cases.append(Case("hog_feature (one image)", "%dx%dx3" % (side, side), "float64", "features",
                      _hog_one_setup(sizes), per_call=max(2, sizes.overhead_number // 10)))
    return cases


def _hog_one_setup(sizes):
    def setup(pool):
        from . import features, reference

        img = np.random.default_rng(DATA_SEED).integers(0, 256, (sizes.feature_side, sizes.feature_side, 3))
        img = img.astype(np.float64)
        return Contenders(lambda: reference.hog_feature(img), lambda: features.hog_feature(img), None)

    return setup


def _feature_setup(sizes, parts):
    def setup(pool):
        from . import features, reference

        if "imgs" not in pool:
            rng = np.random.default_rng(DATA_SEED)
            side = sizes.feature_side
            pool["imgs"] = rng.integers(0, 256, (sizes.feature_images, side, side, 3)).astype(np.float64)
        imgs = pool["imgs"]
        nbin = 10
        ours = {"hog": features.hog_feature, "hsv": lambda img: features.color_histogram_hsv(img, nbin=nbin)}
        ref = {"hog": reference.hog_feature, "hsv": lambda img: reference.color_histogram_hsv(img, nbin=nbin)}
        ours_fns, ref_fns = [ours[p] for p in parts], [ref[p] for p in parts]
        return Contenders(lambda: reference.extract_features(imgs, ref_fns),
                          lambda: features.extract_features(imgs, ours_fns), None)

    return setup


def _overhead_case(sizes):
    def setup(pool):
        from . import reference
        from .classifiers.softmax import softmax_loss_vectorized

        rng = np.random.default_rng(DATA_SEED)
        W, X, y = rng.standard_normal((4, 3)), rng.standard_normal((2, 4)), np.array([0, 2])
        return Contenders(
            lambda: reference.softmax_loss_vectorized(W, X, y, 0.1),
            lambda: softmax_loss_vectorized(W, X, y, 0.1),
            _torch_loss("softmax_loss_vectorized", W, X, y, 0.1),
        )

    kernel = "softmax_loss_vectorized (call overhead)"
    return Case(kernel, "W 4x3, X 2x4", "float64", "overhead", setup, per_call=sizes.overhead_number)


#: Arrays each update rule must read and write (w, dw, state in; state, next_w out; sgd in place).
OPTIM_ARRAYS = {"sgd": 3, "sgd_momentum": 5, "rmsprop": 5, "adam": 7}

#: The learning rates of the optimizer rows (small: parameters stay finite over many steps).
OPTIM_LR = {"sgd": 1e-6, "sgd_momentum": 1e-6, "rmsprop": 1e-6, "adam": 1e-6}


def _optim_data(pool, sizes, dtype):
    """Parameters and a gradient of ``optim_params`` elements (shared by the optimizer rows of a dtype)."""
    if "optim" not in pool:
        rng = np.random.default_rng(DATA_SEED)
        n = sizes.optim_params
        w = rng.standard_normal(n, dtype=np.float64).astype(dtype, copy=False)
        dw = rng.standard_normal(n, dtype=np.float64).astype(dtype, copy=False)
        pool["optim"] = (w, dw)
    return pool["optim"]


def _optim_cases(sizes, dtype):
    n = sizes.optim_params
    item = np.dtype(dtype).itemsize
    return [
        Case(
            "optim." + rule,
            "%d params" % n,
            dtype,
            "optim-" + dtype,
            _optim_setup(sizes, dtype, rule),
            nbytes=OPTIM_ARRAYS[rule] * n * item,
            copy_elems=n,
        )
        for rule in ("sgd", "sgd_momentum", "rmsprop", "adam")
    ]


def _optim_setup(sizes, dtype, rule):
    def setup(pool):
        from . import optim
        from .reference import optim as ref_optim

        w, dw = _optim_data(pool, sizes, dtype)
        ours_fn, ref_fn = getattr(optim, rule), getattr(ref_optim, rule)
        # each side carries its own config (state), as a training loop does; sgd updates w in place
        w_ref, w_ours = w.copy(), w.copy()
        c_ref, c_ours = {"learning_rate": OPTIM_LR[rule]}, {"learning_rate": OPTIM_LR[rule]}
        return Contenders(
            lambda: ref_fn(w_ref, dw, c_ref), lambda: ours_fn(w_ours, dw, c_ours), _torch_optim(rule, w, dw)
        )

    return setup


def _torch_optim(rule, w, dw):
    """One step of torch.optim's counterpart (fused Adam where torch has it), or None without torch."""
    torch = _import_torch()
    if torch is None:
        return None
    p = torch.nn.Parameter(torch.from_numpy(w.copy()))
    p.grad = torch.from_numpy(dw)
    lr = OPTIM_LR[rule]
    try:
        if rule == "adam":
            opt = torch.optim.Adam([p], lr=lr, fused=True)
        elif rule == "rmsprop":
            opt = torch.optim.RMSprop([p], lr=lr, alpha=0.99, eps=1e-8)
        else:
            opt = torch.optim.SGD([p], lr=lr, momentum=0.9 if rule == "sgd_momentum" else 0.0)
    except Exception:  # an older torch without fused CPU Adam
        return None
    return opt.step


def _copy_bandwidth(pool, dtype, n, repeats, pause):
    """GB/s of ``np.copyto`` between two preallocated arrays of ``n`` elements (bytes read + written),
    measured like the kernels (median of ``repeats`` after one warm-up, each after ``pause``)."""
    key = ("copy_gbs", dtype, n)
    if key not in pool:
        src = np.ones(n, dtype=dtype)
        dst = np.empty_like(src)
        np.copyto(dst, src)
        times = []
        for _ in range(repeats):
            time.sleep(pause)
            start = time.perf_counter()
            np.copyto(dst, src)
            times.append(time.perf_counter() - start)
        pool[key] = 2 * src.nbytes / statistics.median(times) / 1e9
    return pool[key]


class _TinyModel(object):
    """A model with ``k`` small parameter arrays whose ``loss`` costs nothing (cached gradients), so
    that timing the Solver's step times everything but the model."""

    def __init__(self, k):
        rng = np.random.default_rng(DATA_SEED)
        shapes = [(4, 3), (3,)]
        self.params = {"p%d" % i: rng.standard_normal(shapes[i % 2]) for i in range(k)}
        self.grads = {name: 1e-3 * rng.standard_normal(v.shape) for name, v in self.params.items()}
        self.loss_result = (1.0, self.grads)

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((X.shape[0], 3))
        return self.loss_result


def _solver_overhead_case(sizes):
    k = sizes.solver_params

    def setup(pool):
        from . import reference
        from .solver import Solver

        data = {"X_train": np.zeros((1000, 4)), "y_train": np.zeros(1000, dtype=np.int64),
                "X_val": np.zeros((10, 4)), "y_val": np.zeros(10, dtype=np.int64)}
        kw = dict(update_rule="adam", optim_config={"learning_rate": 1e-3}, batch_size=100, verbose=False)
        ref = reference.Solver(_TinyModel(k), data, **kw)
        ours = Solver(_TinyModel(k), data, progress=False, **kw)
        return Contenders(ref._step, ours._step, None)

    kernel = "Solver._step overhead (adam)"
    return Case(kernel, "%d param arrays, batch 100" % k, "float64", "solver", setup, per_call=sizes.solver_number)


# ----------------------------------------------------------------------------------------------
# Timing


def measure(contenders, repeats, pause):
    """Median milliseconds of each contender: one warm-up each, then ``repeats`` alternating runs,
    sleeping ``pause`` seconds before every timing. Returns ``(reference_ms, ours_ms, torch_ms or None)``."""
    fns = [f for f in contenders if f is not None]
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times):
            time.sleep(pause)
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    medians = [1e3 * statistics.median(t) for t in times]
    return _with_torch_slot(contenders, medians)


def measure_per_call(contenders, number, repeats, pause):
    """Best-of-``repeats`` milliseconds per call, each repeat timing ``number`` calls with timeit;
    the sides alternate as in :func:`measure`."""
    fns = [f for f in contenders if f is not None]
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            time.sleep(pause)
            best[i] = min(best[i], timeit.Timer(fn).timeit(number) / number)
    return _with_torch_slot(contenders, [1e3 * b for b in best])


def _with_torch_slot(contenders, values):
    if contenders.torch is None:
        values = values + [None]
    return tuple(values)


def run_cases(cases, repeats, pause, threads, with_torch):
    """Times every case, printing its table row as soon as it is done; returns the result dicts."""
    from tqdm import tqdm

    table = Table(with_torch)
    markers = footnote_markers(cases)
    print(table.header())
    results = []
    pool, group = {}, None
    bar = tqdm(cases, desc="bench", unit="kernel", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)
    try:
        for case in bar:
            bar.set_postfix_str(case.kernel, refresh=True)
            if case.group != group:
                pool.clear()
                gc.collect()
                group = case.group
            contenders = case.setup(pool)
            if case.per_call:
                ref_ms, ours_ms, torch_ms = measure_per_call(contenders, case.per_call, OVERHEAD_REPEATS, pause)
            else:
                ref_ms, ours_ms, torch_ms = measure(contenders, repeats, pause)
            del contenders
            result = {
                "kernel": case.kernel,
                "shape": case.shape,
                "dtype": case.dtype,
                "threads": threads,
                "reference_ms": ref_ms,
                "ours_ms": ours_ms,
                "speedup": ref_ms / ours_ms,
                "torch_ms": torch_ms,
            }
            if case.nbytes:
                copy_gbs = _copy_bandwidth(pool, case.dtype, case.copy_elems, repeats, pause)
                result.update(
                    bytes_moved=case.nbytes,
                    reference_gbs=case.nbytes / ref_ms / 1e6,
                    ours_gbs=case.nbytes / ours_ms / 1e6,
                    numpy_copy_gbs=copy_gbs,
                )
            results.append(result)
            bar.write(table.row(result, markers.get(case.footnote, "")), file=sys.stdout)
    finally:
        bar.close()
        pool.clear()
        gc.collect()
    return results


# ----------------------------------------------------------------------------------------------
# Output


class Table:
    """Fixed-width text table, printed one row at a time."""

    COLUMNS = [
        ("kernel", 44), ("shape", 30), ("dtype", 8), ("threads", 7), ("ref ms", 10), ("ours ms", 10), ("speed-up", 9)
    ]

    def __init__(self, with_torch):
        self.columns = self.COLUMNS + ([("torch ms", 10)] if with_torch else [])

    def header(self):
        head = self._line([name for name, _ in self.columns])
        return head + "\n" + "-" * len(head)

    def row(self, r, marker=""):
        """The line of result dict ``r``; ``marker`` (e.g. "[a]") is appended to the kernel name."""
        cells = [(r["kernel"] + " " + marker).strip(), r["shape"], r["dtype"], str(r["threads"])]
        cells += [format_ms(r["reference_ms"]), format_ms(r["ours_ms"]), "%.2fx" % r["speedup"]]
        if len(self.columns) > len(self.COLUMNS):
            cells.append(format_ms(r["torch_ms"]))
        return self._line(cells)

    def _line(self, cells):
        out = []
        for i, (cell, (_, width)) in enumerate(zip(cells, self.columns)):
            out.append(cell.ljust(width) if i < 3 else cell.rjust(width))
        return " ".join(out).rstrip()


def format_ms(ms):
    """Three significant digits (no exponent); '-' for a missing value."""
    if ms is None:
        return "-"
    if ms >= 100:
        return "%.0f" % ms
    return "%.3g" % ms if ms >= 1e-3 else "%.2e" % ms


def footnote_markers(cases):
    """{footnote text: "[a]", ...} for the distinct footnotes of ``cases``, in order."""
    notes = dict.fromkeys(c.footnote for c in cases if c.footnote)
    return {note: "[%s]" % chr(ord("a") + i) for i, note in enumerate(notes)}


def print_footnotes(cases, results, repeats, pause, threads):
    """The notes under the table: method, the loop versions' reference, the call-overhead difference."""
    print()
    print(
        "Median of %d alternating run(s) per side after one warm-up, %.2f s pause before each timing; "
        "%d thread(s) for every side." % (repeats, pause, threads)
    )
    for note, marker in footnote_markers(cases).items():
        print(marker, note)
    for case, r in zip(cases, results):
        if case.nbytes:
            print(
                "%s %s: %.0f MB moved per call; ours %.1f GB/s, reference %.1f GB/s, NumPy copy %.1f GB/s in this "
                "run (ours = %.0f%% of the copy)."
                % (case.kernel, case.dtype, case.nbytes / 1e6, r["ours_gbs"], r["reference_gbs"],
                   r["numpy_copy_gbs"], 100 * r["ours_gbs"] / r["numpy_copy_gbs"])
            )
        if case.per_call and case.group == "solver":
            print(
                "%s: reference %.1f us, ours %.1f us per iteration (best of %d x %d steps; the model's loss "
                "returns cached gradients: this is everything but the model)."
                % (case.kernel, 1e3 * r["reference_ms"], 1e3 * r["ours_ms"], OVERHEAD_REPEATS, case.per_call)
            )
        elif case.per_call and case.group == "overhead":
            ref_us, ours_us = 1e3 * r["reference_ms"], 1e3 * r["ours_ms"]
            print(
                "%s: reference %.2f us, ours %.2f us per call (best of %d x %d calls); "
                "ours - reference = %+.2f us (target: within 3 us)."
                % (case.kernel, ref_us, ours_us, OVERHEAD_REPEATS, case.per_call, ours_us - ref_us)
            )


def json_report(results, threads, command):
    """The ``--json`` document."""
    import cs231n_rs

    return {
        "command": command,
        "version": cs231n_rs.__version__,
        "numpy": np.__version__,
        "threads": threads,
        "machine": machine_info(),
        "results": results,
    }


def machine_info():
    """Platform and CPU facts recorded with the results."""
    torch = _import_torch()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch": None if torch is None else torch.__version__,
    }


def _cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# ----------------------------------------------------------------------------------------------
# Threads and optional dependencies


class _same_threads:
    """Context manager: ``threads`` threads for the Rust kernels, NumPy's BLAS and torch; restores them on exit."""

    def __init__(self, threads, torch):
        self.threads, self.torch = threads, torch

    def __enter__(self):
        import cs231n_rs

        self.saved = cs231n_rs.get_num_threads(), (self.torch.get_num_threads() if self.torch else None)
        cs231n_rs.set_num_threads(self.threads)
        if self.torch is not None:
            self.torch.set_num_threads(self.threads)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            print("cs231n-rs bench: threadpoolctl is not installed; NumPy's BLAS threads are not limited",
                  file=sys.stderr)
            self.limits = None
        else:
            self.limits = threadpool_limits(self.threads, user_api="blas")
        return self

    def __exit__(self, *exc):
        import cs231n_rs

        if self.limits is not None:
            self.limits.restore_original_limits()
        cs231n_rs.set_num_threads(self.saved[0])
        if self.torch is not None:
            self.torch.set_num_threads(self.saved[1])
        return False


#: Set by ``--no-torch``.
_TORCH_DISABLED = False


def _import_torch():
    """The torch module, or None when it is not installed (or fails to import, or ``--no-torch``).

    Its OpenMP threads are asked to sleep as soon as they are idle (``OMP_WAIT_POLICY=PASSIVE``,
    unless the user set it): spinning ones would slow the reference timing that follows them.
    """
    if _TORCH_DISABLED:
        return None
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except Exception:
        return None
    return torch
