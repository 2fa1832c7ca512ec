"""A student's TwoLayerNet whose L2 regularization lacks the factor 0.5 (reg * sum(W**2))."""

from cs231n_rs.reference.fc_net import TwoLayerNet as _Reference


class TwoLayerNet(_Reference):
    def loss(self, X, y=None):
        reg = self.reg
        self.reg = 2 * reg  # the same as reg * sum(W**2) without the 0.5, with its gradient
        try:
            return super().loss(X, y)
        finally:
            self.reg = reg
