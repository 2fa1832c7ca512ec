"""A student's old monolithic TwoLayerNet that regularizes with 0.5 * reg (the old API has no 0.5)."""

import numpy as np

from cs231n_rs.reference.fc_net import TwoLayerNet as _Modular


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        net = _Modular(X.shape[1], self.params["W1"].shape[1], self.params["W2"].shape[1], reg=reg)
        net.params = self.params
        return net.loss(X, y)
