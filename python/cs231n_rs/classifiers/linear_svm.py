"""Structured SVM loss (cs231n ``classifiers/linear_svm.py``), computed in Rust."""

from ._linear_loss import linear_loss

__all__ = ["svm_loss_naive", "svm_loss_vectorized"]


def svm_loss_naive(W, X, y, reg):
    """
    Structured SVM loss function, naive implementation (with loops).

    Inputs have dimension D, there are C classes, and we operate on minibatches
    of N examples.

    Inputs:
    - W: A numpy array of shape (D, C) containing weights.
    - X: A numpy array of shape (N, D) containing a minibatch of data.
    - y: A numpy array of shape (N,) containing training labels; y[i] = c means
      that X[i] has label c, where 0 <= c < C.
    - reg: (float) regularization strength

    Returns a tuple of:
    - loss as single float
    - gradient with respect to weights W; an array of same shape as W

    The loss is (1/N) sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + 1) + reg * sum(W * W) (delta = 1,
    no 1/2 on the regularization). This drop-in returns the values the loop version computes, by
    the same fused Rust kernel as :func:`svm_loss_vectorized`, including the loop's handling of
    NaN: a NaN margin fails ``margin > 0`` and adds nothing, and a sample with no positive margin
    leaves dW untouched (the vectorized version propagates NaN instead, as NumPy's would).
    """
    return linear_loss("svm_naive", W, X, y, reg)


def svm_loss_vectorized(W, X, y, reg):
    """
    Structured SVM loss function, vectorized implementation.

    Inputs and outputs are the same as svm_loss_naive.
    """
    return linear_loss("svm", W, X, y, reg)
