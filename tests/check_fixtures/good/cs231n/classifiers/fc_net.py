"""A correct student's networks (the reference's, re-exported)."""

from cs231n_rs.reference.fc_net import FullyConnectedNet, TwoLayerNet  # noqa: F401
