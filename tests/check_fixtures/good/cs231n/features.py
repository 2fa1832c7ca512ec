"""The provided feature extractors (the reference's, re-exported)."""

from cs231n_rs.reference.features import color_histogram_hsv, hog_feature  # noqa: F401
