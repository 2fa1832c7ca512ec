"""Linear classifiers trained by minibatch SGD (cs231n ``classifiers/linear_classifier.py``).

``train`` draws from NumPy's global RNG exactly as cs231n's does (a lazy
``0.001 * np.random.randn(dim, num_classes)`` initialisation, then one
``np.random.choice(num_train, batch_size)`` per iteration), so a seeded run gives cs231n's
``loss_history``. For :class:`LinearSVM` and :class:`Softmax` each step is one Rust call that reads
the minibatch rows in place (no gathered copy); a subclass with its own ``loss`` gets
``X[idx], y[idx]`` as in cs231n.
"""

import os

import numpy as np

from .. import _core
from .._validate import as_array, compute_dtype, matrix, matrix_pair, readable
from ._linear_loss import linear_loss
from .linear_svm import *
from .softmax import *

__all__ = [
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
]


class LinearClassifier(object):
    #: The fused Rust loss used by ``train`` ('svm' / 'softmax'), or None for a subclass's own ``loss``.
    _kernel = None

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        """
        Train this linear classifier using stochastic gradient descent.

        Inputs:
        - X: A numpy array of shape (N, D) containing training data; there are N
          training samples each of dimension D.
        - y: A numpy array of shape (N,) containing training labels; y[i] = c
          means that X[i] has label 0 <= c < C for C classes.
        - learning_rate: (float) learning rate for optimization.
        - reg: (float) regularization strength.
        - num_iters: (integer) number of steps to take when optimizing
        - batch_size: (integer) number of training examples to use at each step.
        - verbose: (boolean) If true, print progress during optimization.

        Outputs:
        A list containing the value of the loss function at each training iteration.
        """
        num_train, dim = X.shape
        num_classes = np.max(y) + 1  # assume y takes values 0...K-1 where K is number of classes
        if self.W is None:
            # lazily initialize W
            self.W = 0.001 * np.random.randn(dim, num_classes)

        # The fused kernel only when ``self.loss`` is our own (not a subclass's or an instance's).
        fused = (
            self._kernel is not None
            and type(self).loss is _KERNEL_LOSS.get(self._kernel)
            and "loss" not in vars(self)
        )
        if fused:
            X_arr = as_array(X, "X")
            work, _ = compute_dtype(self.W, X_arr)
            X_arr = matrix(X_arr, "X", work, "(N, D)")
            y_arr = np.asarray(y)

        # Run stochastic gradient descent to optimize W
        loss_history = []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)
            if fused:
                loss, grad = linear_loss(self._kernel, self.W, X_arr, y_arr[idx], reg, idx)
            else:
                loss, grad = self.loss(_gather(X, idx), y[idx], reg)
            loss_history.append(loss)

            # perform parameter update
            self.W -= learning_rate * grad

            if verbose and it % 100 == 0:
                print("iteration %d / %d: loss %f" % (it, num_iters, loss))

        return loss_history

    def predict(self, X):
        """
        Use the trained weights of this linear classifier to predict labels for
        data points.

        Inputs:
        - X: A numpy array of shape (N, D) containing training data; there are N
          training samples each of dimension D.

        Returns:
        - y_pred: Predicted labels for the data in X. y_pred is a 1-dimensional
          array of length N, and each element is an integer giving the predicted
          class (int64, the argmax of X.dot(W); ties go to the smaller class).
        """
        X, W, _, _ = matrix_pair(X, "X", "(N, D)", self.W, "W", "(D, C)", 1, 0)
        return _core.linear_predict(W, X)

    def loss(self, X_batch, y_batch, reg):
        """
        Compute the loss function and its derivative.
        Subclasses will override this.

        Inputs:
        - X_batch: A numpy array of shape (N, D) containing a minibatch of N
          data points; each point has dimension D.
        - y_batch: A numpy array of shape (N,) containing labels for the minibatch.
        - reg: (float) regularization strength.

        Returns: A tuple containing:
        - loss as a single float
        - gradient with respect to self.W; an array of the same shape as W
        """
        pass

    def save(self, fname):
        """Save model parameters (``{"W": W}``) with ``np.save`` to ``fname``, resolved against the
        current directory (cs231n 2025 writes inside its package folder; we never do)."""
        fpath = os.path.abspath(fname)
        params = {"W": self.W}
        np.save(fpath, params)
        print(fname, "saved.")

    def load(self, fname):
        """Load model parameters saved by :meth:`save`; returns False (and prints) if the file is missing."""
        fpath = os.path.abspath(fname)
        if not os.path.exists(fpath):
            print(fname, "not available.")
            return False
        params = np.load(fpath, allow_pickle=True).item()
        self.W = params["W"]
        print(fname, "loaded.")
        return True


class LinearSVM(LinearClassifier):
    """ A subclass that uses the Multiclass SVM loss function """

    _kernel = "svm"

    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """ A subclass that uses the Softmax + Cross-entropy loss function """

    _kernel = "softmax"

    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)


def _gather(X, idx):
    """``X[idx]`` for the minibatch: the parallel Rust gather for float matrices, NumPy otherwise."""
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype in (np.float32, np.float64):
        return _core.gather_rows(readable(X), idx.astype(np.int64, copy=False))
    return X[idx]


_KERNEL_LOSS = {"svm": LinearSVM.loss, "softmax": Softmax.loss}
