"""A correct student's layers: the reference's, re-exported (the check must find them right)."""

from cs231n_rs.reference.layers import *  # noqa: F403

# Students print things: it must not disturb the check.
print("hello from the student's layers.py")
