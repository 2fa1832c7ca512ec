"""Numerical gradient checking (cs231n ``gradient_check.py``), pure Python.

Centered differences ``(f(x + h) - f(x - h)) / (2h)``, one element at a time. The input array is
perturbed **in place** and restored after each element, so the function under test must re-read its
argument (or the arrays it closes over) on every call. The same code is the reference
implementation: there is nothing to accelerate here, the cost is in ``f``.
"""

from random import randrange

import numpy as np

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "eval_numerical_gradient_blobs",
    "eval_numerical_gradient_net",
    "grad_check_sparse",
]


def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
    """A naive implementation of numerical gradient of f at x.

    - f should be a function that takes a single argument and returns a scalar
    - x is the point (numpy array) to evaluate the gradient at; it is perturbed in place and
      restored element by element

    Prints ``ix, grad[ix]`` for every element when verbose (the default). Returns grad, an array
    shaped like x.
    """
    fx = f(x)  # evaluate the function value at the original point (as cs231n does)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)  # f(x + h)
        x[ix] = old - h
        fxmh = f(x)  # f(x - h)
        x[ix] = old  # restore

        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Evaluate a numeric gradient for a function that accepts a numpy array and returns a numpy
    array: the gradient of sum(f(x) * df) with respect to x, df being the upstream gradient.

    x is perturbed in place and restored; each output of f is copied before the next call.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old

        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Compute numeric gradients for a function that operates on input and output blobs.

    We assume that f accepts several input blobs as arguments, followed by a blob where outputs
    will be written. For example, f might be called like:

    f(x, w, out)

    where x and w are input Blobs, and the result of f will be written to out.

    Inputs:
    - f: function
    - inputs: tuple of input blobs (objects with .vals and .diffs arrays)
    - output: output blob; output.diffs holds the upstream gradient
    - h: step size

    Returns a list with one array per input blob: the numeric gradient w.r.t. its vals.
    """
    numeric_diffs = []
    for input_blob in inputs:
        diff = np.zeros_like(input_blob.diffs)
        it = np.nditer(input_blob.vals, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            idx = it.multi_index
            orig = input_blob.vals[idx]

            input_blob.vals[idx] = orig + h
            f(*(tuple(inputs) + (output,)))
            pos = np.copy(output.vals)
            input_blob.vals[idx] = orig - h
            f(*(tuple(inputs) + (output,)))
            neg = np.copy(output.vals)
            input_blob.vals[idx] = orig

            diff[idx] = np.sum((pos - neg) * output.diffs) / (2.0 * h)
            it.iternext()
        numeric_diffs.append(diff)
    return numeric_diffs


def eval_numerical_gradient_net(net, inputs, output, h=1e-5):
    """eval_numerical_gradient_blobs applied to ``net.forward()`` (the inputs are ignored by the
    call, the net reads its own blobs)."""
    return eval_numerical_gradient_blobs(lambda *args: net.forward(), inputs, output, h=h)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """Sample a few random elements and only return numerical in these dimensions.

    For each of num_checks random indices (Python's random.randrange per dimension, not NumPy's
    RNG) prints "numerical: %f analytic: %f, relative error: %e" with relative error
    |num - ana| / (|num| + |ana|) (no floor: 0 / 0 gives nan). x is perturbed in place and restored.
    Returns None.
    """
    for i in range(num_checks):
        ix = tuple([randrange(m) for m in x.shape])

        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)  # f(x + h)
        x[ix] = oldval - h
        fxmh = f(x)  # f(x - h)
        x[ix] = oldval  # reset

        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        rel_error = abs(grad_numerical - grad_analytic) / (abs(grad_numerical) + abs(grad_analytic))
        print("numerical: %f analytic: %f, relative error: %e" % (grad_numerical, grad_analytic, rel_error))
