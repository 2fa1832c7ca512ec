"""Softmax (cross-entropy) loss (cs231n ``classifiers/softmax.py``), computed in Rust."""

from ._linear_loss import linear_loss

__all__ = ["softmax_loss_naive", "softmax_loss_vectorized"]


def softmax_loss_naive(W, X, y, reg):
    """
    Softmax loss function, naive implementation (with loops)

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

    The loss is the mean cross-entropy of softmax(X W) plus reg * sum(W * W), computed with the
    max shift (log-sum-exp) so large scores do not overflow.
    """
    return linear_loss("softmax", W, X, y, reg)


def softmax_loss_vectorized(W, X, y, reg):
    """
    Softmax loss function, vectorized version.

    Inputs and outputs are the same as softmax_loss_naive.
    """
    return linear_loss("softmax", W, X, y, reg)
