"""A student's kNN whose vote breaks ties towards the LARGER label, and whose no-loop distances
are squared (no square root)."""

import numpy as np

from cs231n_rs.reference.k_nearest_neighbor import KNearestNeighbor as _Reference


class KNearestNeighbor(_Reference):
    def compute_distances_no_loops(self, X):
        return np.sum(X**2, axis=1)[:, None] + np.sum(self.X_train**2, axis=1) - 2 * X.dot(self.X_train.T)

    def predict_labels(self, dists, k=1):
        y_pred = np.zeros(dists.shape[0])
        for i in range(dists.shape[0]):
            counts = np.bincount(self.y_train[np.argsort(dists[i])[:k]])
            y_pred[i] = np.flatnonzero(counts == counts.max())[-1]
        return y_pred
