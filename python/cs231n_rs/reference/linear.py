"""Reference linear classifiers: SVM and softmax losses (loops and vectorized) and SGD training."""

import numpy as np


def svm_loss_naive(W, X, y, reg):
    """Structured SVM loss with explicit loops (delta = 1, reg * sum(W^2))."""
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    """Structured SVM loss, vectorized."""
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W)
    correct = scores[rows, y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[rows, y] = 0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -np.sum(dscores, axis=1)
    dW = X.T.dot(dscores) / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss with explicit loops and the max shift."""
    dW = np.zeros(W.shape)
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        exp = np.exp(scores)
        total = np.sum(exp)
        loss += np.log(total) - scores[y[i]]
        p = exp / total
        p[y[i]] -= 1
        dW += np.outer(X[i], p)
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss, vectorized with log-sum-exp."""
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W)
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = np.sum(exp, axis=1, keepdims=True)
    loss = np.sum(np.log(total[:, 0]) - shifted[rows, y]) / num_train + reg * np.sum(W * W)
    probs = exp / total
    probs[rows, y] -= 1
    dW = X.T.dot(probs) / num_train + 2 * reg * W
    return loss, dW


class LinearClassifier(object):
    """Reference SGD trainer, drawing from NumPy's global RNG as cs231n does."""

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        num_train, dim = X.shape
        num_classes = np.max(y) + 1
        if self.W is None:
            self.W = 0.001 * np.random.randn(dim, num_classes)
        loss_history = []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)
            X_batch = X[idx]
            y_batch = y[idx]
            loss, grad = self.loss(X_batch, y_batch, reg)
            loss_history.append(loss)
            self.W -= learning_rate * grad
            if verbose and it % 100 == 0:
                print("iteration %d / %d: loss %f" % (it, num_iters, loss))
        return loss_history

    def predict(self, X):
        return np.argmax(X.dot(self.W), axis=1)

    def loss(self, X_batch, y_batch, reg):
        raise NotImplementedError


class LinearSVM(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
