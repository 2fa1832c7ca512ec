"""Reference kNN: the expansion formula for distances and an argsort vote."""

import numpy as np


def compute_distances(X, X_train):
    """dists[i, j] = sqrt(max(0, |X[i]|^2 + |X_train[j]|^2 - 2 X[i] . X_train[j]))."""
    X = np.asarray(X)
    X_train = np.asarray(X_train)
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    if X_train.dtype.kind in "biu":
        X_train = X_train.astype(np.float64)
    test_sq = np.sum(X * X, axis=1)
    train_sq = np.sum(X_train * X_train, axis=1)
    d2 = test_sq[:, None] + train_sq[None, :] - 2 * X.dot(X_train.T)
    return np.sqrt(np.maximum(0, d2))


def predict_labels(dists, y_train, k=1):
    """Majority label among the k nearest (stable argsort: equal distances keep training order, NaN
    last); ties between labels go to the smaller label (np.argmax of a bincount). float64 result,
    as cs231n's ``y_pred = np.zeros(num_test)``."""
    num_test = dists.shape[0]
    y_pred = np.zeros(num_test)
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    closest_y = np.asarray(y_train)[nearest]
    for i in range(num_test):
        y_pred[i] = np.argmax(np.bincount(closest_y[i]))
    return y_pred


class KNearestNeighbor(object):
    """Reference twin of ``cs231n.classifiers.KNearestNeighbor``."""

    def train(self, X, y):
        self.X_train = X
        self.y_train = y

    def predict(self, X, k=1, num_loops=0):
        if num_loops not in (0, 1, 2):
            raise ValueError("Invalid value %d for num_loops" % num_loops)
        return self.predict_labels(self.compute_distances_no_loops(X), k=k)

    def compute_distances_two_loops(self, X):
        dists = np.zeros((X.shape[0], self.X_train.shape[0]))
        dists[:] = compute_distances(X, self.X_train)
        return dists

    compute_distances_one_loop = compute_distances_two_loops

    def compute_distances_no_loops(self, X):
        return compute_distances(X, self.X_train)

    def predict_labels(self, dists, k=1):
        return predict_labels(dists, self.y_train, k)
