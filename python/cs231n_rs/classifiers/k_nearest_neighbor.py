"""k-nearest-neighbour classifier (cs231n ``classifiers/k_nearest_neighbor.py``), computed in Rust."""

import numpy as np

from .. import _core
from .._validate import as_array, as_int, compute_dtype, finish, labels, matrix, matrix_pair

__all__ = ["KNearestNeighbor"]


class KNearestNeighbor(object):
    """ a kNN classifier with L2 distance """

    def __init__(self):
        pass

    def train(self, X, y):
        """
        Train the classifier. For k-nearest neighbors this is just
        memorizing the training data.

        Inputs:
        - X: A numpy array of shape (num_train, D) containing the training data
          consisting of num_train samples each of dimension D.
        - y: A numpy array of shape (N,) containing the training labels, where
             y[i] is the label for X[i].
        """
        self.X_train = X
        self.y_train = y

    def predict(self, X, k=1, num_loops=0):
        """
        Predict labels for test data using this classifier.

        Inputs:
        - X: A numpy array of shape (num_test, D) containing test data consisting
             of num_test samples each of dimension D.
        - k: The number of nearest neighbors that vote for the predicted labels.
        - num_loops: Determines which implementation to use to compute distances
          between training points and testing points.

        Returns:
        - y: A numpy array of shape (num_test,) containing predicted labels for the
          test data, where y[i] is the predicted label for the test point X[i].
        """
        if num_loops == 0:
            dists = self.compute_distances_no_loops(X)
        elif num_loops == 1:
            dists = self.compute_distances_one_loop(X)
        elif num_loops == 2:
            dists = self.compute_distances_two_loops(X)
        else:
            raise ValueError("Invalid value %d for num_loops" % num_loops)

        return self.predict_labels(dists, k=k)

    def _distances(self, X):
        X, X_train, _, result = matrix_pair(X, "X", "(num_test, D)", self.X_train, "X_train", "(num_train, D)", 1, 1)
        return finish(_core.l2_distances(X, X_train), result)

    def compute_distances_two_loops(self, X):
        """
        Compute the distance between each test point in X and each training point
        in self.X_train using a nested loop over both the training data and the
        test data.

        Inputs:
        - X: A numpy array of shape (num_test, D) containing test data.

        Returns:
        - dists: A numpy array of shape (num_test, num_train) where dists[i, j]
          is the Euclidean distance between the ith test point and the jth training
          point.

        Like cs231n's starter (which fills ``np.zeros((num_test, num_train))``) the result is float64.
        The values are those of the no-loop version: one blocked Rust kernel serves all three.
        """
        return self._distances(X).astype(np.float64, copy=False)

    def compute_distances_one_loop(self, X):
        """
        Compute the distance between each test point in X and each training point
        in self.X_train using a single loop over the test data.

        Input / Output: Same as compute_distances_two_loops
        """
        return self._distances(X).astype(np.float64, copy=False)

    def compute_distances_no_loops(self, X):
        """
        Compute the distance between each test point in X and each training point
        in self.X_train using no explicit loops.

        Input / Output: Same as compute_distances_two_loops

        dists = sqrt(max(0, |x|^2 + |x_train|^2 - 2 x . x_train)), in the dtype NumPy would give
        (float32 inputs give float32 distances).
        """
        return self._distances(X)

    def predict_labels(self, dists, k=1):
        """
        Given a matrix of distances between test points and training points,
        predict a label for each test point.

        Inputs:
        - dists: A numpy array of shape (num_test, num_train) where dists[i, j]
          gives the distance betwen the ith test point and the jth training point.

        Returns:
        - y: A numpy array of shape (num_test,) containing predicted labels for the
          test data, where y[i] is the predicted label for the test point X[i].

        The k nearest are the k smallest distances (equal distances: the earlier training point;
        NaN counts as farthest); the vote breaks ties by choosing the smaller label. As in cs231n's
        starter (``y_pred = np.zeros(num_test)``) the labels come back as float64.
        """
        dists = as_array(dists, "dists")
        work, _ = compute_dtype(dists)
        dists = matrix(dists, "dists", work, "(num_test, num_train)")
        y_train = labels(self.y_train, "y_train", dists.shape[1])
        k = _as_k(k)
        if k > dists.shape[1]:
            raise ValueError("k: k=%d is larger than the training set (%d examples)" % (k, dists.shape[1]))
        return _core.knn_vote(dists, y_train, k).astype(np.float64)


def _as_k(k):
    k = as_int(k, "k")
    if k < 1:
        raise ValueError("k: k must be at least 1, got %d" % k)
    return k
