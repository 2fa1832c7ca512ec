"""A correct student's SVM losses (the reference's, re-exported)."""

from cs231n_rs.reference.linear import svm_loss_naive, svm_loss_vectorized  # noqa: F401
