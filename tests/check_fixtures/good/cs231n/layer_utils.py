"""The provided sandwich layers (the reference's, re-exported)."""

from cs231n_rs.reference.layer_utils import *  # noqa: F403
