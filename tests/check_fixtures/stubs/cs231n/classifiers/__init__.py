from .k_nearest_neighbor import *  # noqa: F403
