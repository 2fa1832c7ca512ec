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
    feature_images: int = 1000
    feature_side: int = 32

    @classmethod
    def quick(cls):
        """About a tenth of the assignment sizes, for tests and CI."""
        return cls(knn_test=50, knn_train=500, loss_small=50, loss_large=4900, train_iters=100, overhead_number=200,
                   feature_images=100)


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
    cases = _knn_cases(sizes, "float64") + _knn_cases(sizes, "float32")
    cases += _loss_cases(sizes, "float64")
    cases += [_train_case(sizes, name) for name in ("LinearSVM", "Softmax")]  # reuse the float64 rows
    cases += _loss_cases(sizes, "float32")
    cases += _feature_cases(sizes)
    cases.append(_overhead_case(sizes))
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
    return [
        Case("extract_features %s" % name, shape, "float64", "features", _feature_setup(sizes, parts),
             footnote=FEATURES_FOOTNOTE)
        for name, parts in kinds
    ]


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
        if case.per_call:
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
