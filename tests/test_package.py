"""Package-level behaviour: version, thread control, fork safety, the ``cs231n`` import alias."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cs231n_rs

TIMEOUT = 120


def _run_py(code, cwd, env_extra=None, env_drop=()):
    env = dict(os.environ)
    for k in env_drop:
        env.pop(k, None)
    env.pop("PYTHONPATH", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _ok(proc):
    assert proc.returncode == 0, "rc=%d\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def test_version():
    assert isinstance(cs231n_rs.__version__, str)
    assert cs231n_rs.__version__
    assert cs231n_rs.NUM_THREADS_ENV_VAR == "CS231N_RS_NUM_THREADS"


def test_thread_count_round_trip(restore_threads):
    for n in (1, 2, 3, 7, 1):
        cs231n_rs.set_num_threads(n)
        assert cs231n_rs.get_num_threads() == n
        assert isinstance(cs231n_rs.get_num_threads(), int)
    cs231n_rs.set_num_threads(np.int64(2))
    assert cs231n_rs.get_num_threads() == 2


def test_thread_count_errors(restore_threads):
    cs231n_rs.set_num_threads(2)
    for bad in (0, -1, -(2**40)):
        with pytest.raises(ValueError):
            cs231n_rs.set_num_threads(bad)
    for bad in ("2", 2.0, None, 1.5, [2]):
        with pytest.raises(TypeError):
            cs231n_rs.set_num_threads(bad)
    with pytest.raises((ValueError, OverflowError)):
        cs231n_rs.set_num_threads(2**80)
    # failed calls leave the count alone
    assert cs231n_rs.get_num_threads() == 2


def test_env_var_sets_default_thread_count(tmp_path):
    code = "import cs231n_rs; print(cs231n_rs.get_num_threads())"
    for n in ("1", "3", "5"):
        out = _ok(_run_py(code, tmp_path, {"CS231N_RS_NUM_THREADS": n}))
        assert out.strip() == n
    # without it: at least one thread
    out = _ok(_run_py(code, tmp_path, env_drop=("CS231N_RS_NUM_THREADS",)))
    assert int(out.strip()) >= 1
    # set_num_threads overrides the variable
    out = _ok(_run_py("import cs231n_rs; cs231n_rs.set_num_threads(2); print(cs231n_rs.get_num_threads())", tmp_path, {"CS231N_RS_NUM_THREADS": "4"}))
    assert out.strip() == "2"


def test_env_var_thread_count_gives_same_results(tmp_path):
    code = """
        import numpy as np, cs231n_rs
        from cs231n_rs.classifiers import KNearestNeighbor, softmax_loss_vectorized
        rng = np.random.default_rng(0)
        X = rng.standard_normal((150, 300)); Xt = rng.standard_normal((170, 300))
        k = KNearestNeighbor(); k.train(Xt, rng.integers(0, 5, 170))
        d = k.compute_distances_no_loops(X)
        W = rng.standard_normal((300, 10)) * 0.01; y = rng.integers(0, 10, 150)
        loss, dW = softmax_loss_vectorized(W, X, y, 0.1)
        import hashlib
        h = lambda a: hashlib.sha256(a.tobytes()).hexdigest()
        print(cs231n_rs.get_num_threads(), h(d), h(dW), repr(float(loss)))
    """
    outs = [_ok(_run_py(code, tmp_path, {"CS231N_RS_NUM_THREADS": n})).split() for n in ("1", "2", "4")]
    assert [o[0] for o in outs] == ["1", "2", "4"]
    assert outs[0][1:] == outs[1][1:] == outs[2][1:]


def test_results_identical_in_forked_child(tmp_path):
    # Run in a subprocess so a broken pool (a hang) cannot take the test session down.
    code = """
        import os, sys, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        import numpy as np, cs231n_rs
        from cs231n_rs.classifiers import KNearestNeighbor, svm_loss_vectorized
        cs231n_rs.set_num_threads(2)
        rng = np.random.default_rng(1)
        X = rng.standard_normal((200, 400)); Xt = rng.standard_normal((300, 400))
        k = KNearestNeighbor(); k.train(Xt, rng.integers(0, 7, 300))
        W = rng.standard_normal((400, 10)) * 0.01; y = rng.integers(0, 10, 200)
        def work():
            d = k.compute_distances_no_loops(X)
            p = k.predict_labels(d, k=5)
            loss, dW = svm_loss_vectorized(W, X, y, 0.1)
            return d.tobytes() + p.tobytes() + dW.tobytes() + np.float64(loss).tobytes()
        parent = work()          # the pool exists before the fork
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                data = work()
                data2 = (cs231n_rs.set_num_threads(1), work())[1]
                with os.fdopen(w, "wb") as f:
                    f.write(bytes([data == data2]) + data)
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            child = f.read()
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        assert child[:1] == b"\\x01", "child: 1 thread differs from 2 threads"
        assert child[1:] == parent, "child result differs from the parent's"
        assert work() == parent  # the parent's pool still works after the fork
        print("ok", len(parent))
    """
    out = _ok(_run_py(code, tmp_path))
    assert out.startswith("ok ")


def test_forked_multiprocessing_pool(tmp_path):
    code = """
        import multiprocessing as mp, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        import numpy as np, cs231n_rs
        from cs231n_rs.classifiers import KNearestNeighbor
        cs231n_rs.set_num_threads(2)
        rng = np.random.default_rng(2)
        X = rng.standard_normal((100, 200)); Xt = rng.standard_normal((120, 200))
        k = KNearestNeighbor(); k.train(Xt, np.zeros(120, dtype=np.int64))
        def work(i):
            return k.compute_distances_no_loops(X).tobytes()
        parent = work(0)
        with mp.get_context("fork").Pool(2) as pool:
            res = pool.map(work, range(4))
        assert all(r == parent for r in res)
        print("ok")
    """
    assert _ok(_run_py(code, tmp_path)).strip() == "ok"


def test_install_as_cs231n(tmp_path):
    code = """
        import sys
        import cs231n_rs
        try:
            import cs231n
        except ModuleNotFoundError:
            pass
        else:
            raise SystemExit("cs231n importable before install: %r" % cs231n)
        cs231n_rs.install_as_cs231n()
        cs231n_rs.install_as_cs231n()  # idempotent
        from cs231n.classifiers import KNearestNeighbor, LinearSVM, Softmax
        import cs231n_rs.classifiers as C
        assert KNearestNeighbor is C.KNearestNeighbor
        assert LinearSVM is C.LinearSVM and Softmax is C.Softmax
        import cs231n.classifiers.linear_svm
        import cs231n.classifiers.softmax as sm
        from cs231n.classifiers.linear_svm import svm_loss_naive
        assert svm_loss_naive is C.linear_svm.svm_loss_naive
        assert sm is C.softmax
        import cs231n
        assert cs231n is cs231n_rs
        assert cs231n.classifiers.linear_svm is C.linear_svm
        # the alias does not swallow missing modules
        try:
            import cs231n.no_such_module
        except ModuleNotFoundError:
            pass
        else:
            raise SystemExit("cs231n.no_such_module imported")
        cs231n_rs.uninstall_as_cs231n()
        assert not any(m == "cs231n" or m.startswith("cs231n.") for m in sys.modules), [m for m in sys.modules if m.startswith("cs231n.")]
        try:
            import cs231n
        except ModuleNotFoundError:
            pass
        else:
            raise SystemExit("cs231n still importable after uninstall")
        try:
            from cs231n.classifiers import KNearestNeighbor
        except ModuleNotFoundError:
            pass
        else:
            raise SystemExit("cs231n.classifiers still importable after uninstall")
        print("ok")
    """
    assert _ok(_run_py(code, tmp_path)).strip() == "ok"


def test_without_install_cs231n_is_not_importable(tmp_path):
    proc = _run_py("import cs231n_rs, cs231n", tmp_path)
    assert proc.returncode != 0
    assert "ModuleNotFoundError" in proc.stderr and "cs231n" in proc.stderr
    proc = _run_py("import cs231n_rs\nfrom cs231n.classifiers import KNearestNeighbor", tmp_path)
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr


def test_install_shadows_and_uninstall_restores_a_student_package(tmp_path):
    pkg = tmp_path / "cs231n"
    (pkg / "classifiers").mkdir(parents=True)
    (pkg / "__init__.py").write_text("STUDENT = True\n")
    (pkg / "classifiers" / "__init__.py").write_text("STUDENT_CLASSIFIERS = True\n")
    code = """
        import sys
        import cs231n_rs
        import cs231n.classifiers
        assert getattr(cs231n, "STUDENT", False)
        cs231n_rs.install_as_cs231n()
        import cs231n
        assert cs231n is cs231n_rs, cs231n
        from cs231n.classifiers import KNearestNeighbor
        assert KNearestNeighbor is cs231n_rs.classifiers.KNearestNeighbor
        cs231n_rs.uninstall_as_cs231n()
        import cs231n
        import cs231n.classifiers
        assert getattr(cs231n, "STUDENT", False), cs231n
        assert getattr(cs231n.classifiers, "STUDENT_CLASSIFIERS", False)
        assert not hasattr(cs231n.classifiers, "KNearestNeighbor")
        print("ok")
    """
    assert _ok(_run_py(code, tmp_path)).strip() == "ok"


def test_install_does_not_leak_into_this_process():
    # the in-process test session is untouched by the subprocess tests above
    assert "cs231n" not in sys.modules
