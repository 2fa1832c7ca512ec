"""Readable, vectorized NumPy implementations of every cs231n-rs function.

Written from the assignments' semantics, the way a strong student writes them. They are the oracle of
the test-suite and the baseline of ``cs231n-rs bench``; they are not used by the fast package.
"""

from .features import color_histogram_hsv, extract_features, hog_feature, rgb2gray, uniform_filter
from .k_nearest_neighbor import KNearestNeighbor, compute_distances, predict_labels
from .linear import (
    LinearClassifier,
    LinearSVM,
    Softmax,
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)

__all__ = [
    "KNearestNeighbor",
    "compute_distances",
    "predict_labels",
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "rgb2gray",
    "hog_feature",
    "color_histogram_hsv",
    "extract_features",
    "uniform_filter",
]
