"""Readable, vectorized NumPy implementations of every cs231n-rs function.

Written from the assignments' semantics, the way a strong student writes them. They are the oracle of
the test-suite and the baseline of ``cs231n-rs bench``. The fast package reuses only their pure-Python
bookkeeping: the nets' constructors, save and load (:mod:`cs231n_rs.classifiers.fc_net` inherits them;
the convolutional net of :mod:`.cnn` is laid out for the same reuse).
"""

from . import cnn, fast_layers, fc_net, im2col, layer_utils, layers, net_visualization, optim
from .cnn import ThreeLayerConvNet
from .fc_net import FullyConnectedNet, TwoLayerNet
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
from .solver import Solver

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
    "layers",
    "layer_utils",
    "fc_net",
    "TwoLayerNet",
    "FullyConnectedNet",
    "fast_layers",
    "im2col",
    "cnn",
    "ThreeLayerConvNet",
    "net_visualization",
    "optim",
    "Solver",
    "rgb2gray",
    "hog_feature",
    "color_histogram_hsv",
    "extract_features",
    "uniform_filter",
]
