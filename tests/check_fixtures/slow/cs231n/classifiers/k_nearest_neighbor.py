"""A correct but slow kNN: two_loops loops over the dimension too, in pure Python (hours at the
assignment's size; the check's time cap must cut it short)."""

import numpy as np

from cs231n_rs.reference.k_nearest_neighbor import KNearestNeighbor as _Reference


class KNearestNeighbor(_Reference):
    def compute_distances_two_loops(self, X):
        num_test, num_train = X.shape[0], self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        for i in range(num_test):
            for j in range(num_train):
                total = 0.0
                for d in range(X.shape[1]):
                    diff = float(X[i, d]) - float(self.X_train[j, d])
                    total += diff * diff
                dists[i, j] = total**0.5
        return dists
