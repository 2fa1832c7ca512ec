from .k_nearest_neighbor import *
from .linear_classifier import *
