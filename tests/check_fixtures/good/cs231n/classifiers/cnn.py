"""A correct student's convolutional network (the reference's, re-exported)."""

from cs231n_rs.reference.cnn import ThreeLayerConvNet  # noqa: F401
