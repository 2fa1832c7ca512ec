from .k_nearest_neighbor import *  # noqa: F403
from .linear_classifier import *  # noqa: F403
