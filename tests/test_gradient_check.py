"""cs231n_rs.gradient_check: cs231n's numeric gradient helpers (in-place perturbation and restore,
printing, Python's ``random`` for the sparse check, blob variants)."""

import random
import re

import numpy as np
import pytest

from cs231n_rs import gradient_check
from cs231n_rs.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    eval_numerical_gradient_net,
    grad_check_sparse,
)

pytestmark = pytest.mark.usefixtures("np_seed")


def test_public_names():
    assert set(gradient_check.__all__) == {
        "eval_numerical_gradient",
        "eval_numerical_gradient_array",
        "eval_numerical_gradient_blobs",
        "eval_numerical_gradient_net",
        "grad_check_sparse",
    }


def test_importable_as_cs231n():
    import cs231n_rs

    cs231n_rs.install_as_cs231n()
    try:
        from cs231n.gradient_check import eval_numerical_gradient as f1
        from cs231n.gradient_check import grad_check_sparse as f2

        assert f1 is eval_numerical_gradient and f2 is grad_check_sparse
    finally:
        cs231n_rs.uninstall_as_cs231n()


# ---------------------------------------------------------------------------------------------
# eval_numerical_gradient
# ---------------------------------------------------------------------------------------------


def test_eval_numerical_gradient_in_place_and_restored():
    np.random.seed(0)
    x = np.random.randn(3, 4)
    x0 = x.copy()
    seen = []

    def f(arg):
        assert arg is x  # the very same array, perturbed in place
        seen.append(arg.copy())
        return np.sum(arg**2)

    grad = eval_numerical_gradient(f, x, verbose=False)
    assert np.array_equal(x, x0)  # restored bit for bit
    assert grad.shape == x.shape and grad.dtype == x.dtype
    np.testing.assert_allclose(grad, 2 * x0, rtol=1e-8, atol=1e-10)
    # f(x) once first, then f(x + h) and f(x - h) per element, in C order.
    assert len(seen) == 1 + 2 * x.size
    np.testing.assert_array_equal(seen[0], x0)
    for k, ix in enumerate(np.ndindex(*x.shape)):
        plus, minus = seen[1 + 2 * k], seen[2 + 2 * k]
        assert plus[ix] == x0[ix] + 1e-5 and minus[ix] == x0[ix] - 1e-5
        other = np.ones(x.shape, dtype=bool)
        other[ix] = False
        np.testing.assert_array_equal(plus[other], x0[other])
        np.testing.assert_array_equal(minus[other], x0[other])


def test_eval_numerical_gradient_step_h():
    x = np.array([0.5, -1.0, 2.0])
    h = 1e-2
    grad = eval_numerical_gradient(lambda x: np.sum(x**3), x.copy(), verbose=False, h=h)
    # Centered difference of x^3: 3x^2 + h^2.
    np.testing.assert_allclose(grad, 3 * x**2 + h**2, rtol=1e-10)


def test_eval_numerical_gradient_verbose_prints(capsys):
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    grad = eval_numerical_gradient(lambda x: np.sum(x**2), x)  # verbose=True is the default
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == x.size
    for line, ix in zip(lines, np.ndindex(*x.shape)):
        assert line == "%s %s" % (ix, grad[ix])
    assert lines[0].startswith("(0, 0) ")
    eval_numerical_gradient(lambda x: np.sum(x**2), x, verbose=False)
    assert capsys.readouterr().out == ""


def test_eval_numerical_gradient_strided_view():
    base = np.random.randn(6, 8)
    base0 = base.copy()
    view = base[::2, 1::3]
    grad = eval_numerical_gradient(lambda v: np.sum(np.sin(v)), view, verbose=False)
    np.testing.assert_allclose(grad, np.cos(base0[::2, 1::3]), rtol=1e-8)
    assert np.array_equal(base, base0)


def test_closure_over_perturbed_array():
    # The notebooks' lambdas ignore their argument and close over the array being perturbed.
    w = np.random.randn(4)
    grad = eval_numerical_gradient(lambda _: float(np.sum(w**2)), w, verbose=False)
    np.testing.assert_allclose(grad, 2 * w, rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# eval_numerical_gradient_array
# ---------------------------------------------------------------------------------------------


def test_eval_numerical_gradient_array():
    np.random.seed(1)
    x = np.random.randn(3, 2)
    w = np.random.randn(2, 4)
    df = np.random.randn(3, 4)
    x0 = x.copy()
    grad = eval_numerical_gradient_array(lambda x: x.dot(w), x, df)
    np.testing.assert_allclose(grad, df.dot(w.T), rtol=1e-8)
    assert np.array_equal(x, x0)
    # Default h = 1e-5 and the centered formula on a cubic.
    grad = eval_numerical_gradient_array(lambda x: x**3, x, np.ones_like(x))
    np.testing.assert_allclose(grad, 3 * x0**2 + 1e-10, rtol=1e-6)
    grad = eval_numerical_gradient_array(lambda x: x**3, x, np.ones_like(x), h=1e-2)
    np.testing.assert_allclose(grad, 3 * x0**2 + 1e-4, rtol=1e-10)


def test_eval_numerical_gradient_array_copies_outputs():
    # f returns the same buffer every call: without the copy, f(x + h) would be overwritten by f(x - h).
    x = np.array([1.0, 2.0, 3.0])
    buf = np.empty(3)

    def f(x):
        np.multiply(x, x, out=buf)
        return buf

    grad = eval_numerical_gradient_array(f, x, np.ones(3))
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# grad_check_sparse
# ---------------------------------------------------------------------------------------------

_LINE = re.compile(r"^numerical: -?\d+\.\d{6} analytic: -?\d+\.\d{6}, relative error: (\d\.\d{6}e[+-]\d\d|nan)$")


def test_grad_check_sparse_prints_and_returns_none(capsys):
    np.random.seed(0)
    x = np.random.randn(5, 7)
    x0 = x.copy()
    f = lambda x: np.sum(x**3)
    random.seed(42)
    state = np.random.get_state()
    result = grad_check_sparse(f, x, 3 * x**2, num_checks=7)
    assert result is None
    assert np.array_equal(x, x0)
    # NumPy's global RNG is not used ...
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    # ... Python's random.randrange is, once per dimension per check.
    random.seed(42)
    for line in lines:
        assert _LINE.match(line), line
        ix = (random.randrange(5), random.randrange(7))
        num = (f(_bump(x0, ix, 1e-5)) - f(_bump(x0, ix, -1e-5))) / 2e-5
        ana = 3 * x0[ix] ** 2
        rel = abs(num - ana) / (abs(num) + abs(ana))
        assert line == "numerical: %f analytic: %f, relative error: %e" % (num, ana, rel)


def _bump(x, ix, d):
    y = x.copy()
    y[ix] = x[ix] + d
    return y


def test_grad_check_sparse_default_count_and_h(capsys):
    x = np.random.randn(4)
    random.seed(0)
    grad_check_sparse(lambda x: np.sum(x**3), x, 3 * x**2, h=1e-3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    random.seed(0)
    for line in lines:
        i = random.randrange(4)
        num = 3 * x[i] ** 2 + 1e-6
        assert line.startswith("numerical: %f analytic: %f" % (num, 3 * x[i] ** 2))


def test_grad_check_sparse_zero_over_zero_is_nan(capsys):
    x = np.zeros((2, 2))
    with np.errstate(invalid="ignore"):
        grad_check_sparse(lambda x: 0.0, x, np.zeros((2, 2)), num_checks=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["numerical: 0.000000 analytic: 0.000000, relative error: nan"] * 2


# ---------------------------------------------------------------------------------------------
# Blob variants
# ---------------------------------------------------------------------------------------------


class Blob(object):
    def __init__(self, vals, diffs=None):
        self.vals = vals
        self.diffs = np.zeros_like(vals) if diffs is None else diffs


def _matmul_into(x, w, out):
    # Writes into the output blob's buffer (the helper must copy it between calls).
    np.dot(x.vals, w.vals, out=out.vals)


def test_eval_numerical_gradient_blobs():
    np.random.seed(2)
    x = Blob(np.random.randn(3, 4))
    w = Blob(np.random.randn(4, 2))
    out = Blob(np.zeros((3, 2)), np.random.randn(3, 2))
    x0, w0 = x.vals.copy(), w.vals.copy()
    for inputs in [(x, w), [x, w]]:
        dx, dw = eval_numerical_gradient_blobs(_matmul_into, inputs, out)
        np.testing.assert_allclose(dx, out.diffs.dot(w0.T), rtol=1e-7)
        np.testing.assert_allclose(dw, x0.T.dot(out.diffs), rtol=1e-7)
        assert np.array_equal(x.vals, x0) and np.array_equal(w.vals, w0)


def test_eval_numerical_gradient_net():
    np.random.seed(3)
    x = Blob(np.random.randn(2, 3))
    w = Blob(np.random.randn(3, 3))
    out = Blob(np.zeros((2, 3)), np.random.randn(2, 3))

    class Net(object):
        calls = 0

        def forward(self):
            Net.calls += 1
            out.vals[...] = np.tanh(x.vals.dot(w.vals))

    net = Net()
    dx, dw = eval_numerical_gradient_net(net, (x, w), out, h=1e-6)
    dpre = out.diffs * (1 - np.tanh(x.vals.dot(w.vals)) ** 2)
    np.testing.assert_allclose(dx, dpre.dot(w.vals.T), rtol=1e-6)
    np.testing.assert_allclose(dw, x.vals.T.dot(dpre), rtol=1e-6)
    assert Net.calls == 2 * (x.vals.size + w.vals.size)
