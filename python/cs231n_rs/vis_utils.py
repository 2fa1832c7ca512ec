"""Image grids for visualisation (cs231n ``vis_utils.py``): same functions, arguments and results.

Plain NumPy (there is nothing here worth a kernel): the grids are a few copies of small images.
"""

from math import ceil, sqrt

import numpy as np

__all__ = ["visualize_grid", "vis_grid", "vis_nn"]


def visualize_grid(Xs, ubound=255.0, padding=1):
    """
    Reshape a 4D tensor of image data to a grid for easy visualization.

    Inputs:
    - Xs: Data of shape (N, H, W, C)
    - ubound: Output grid will have values scaled to the range [0, ubound]
    - padding: The number of blank pixels between elements of the grid

    Returns a float64 array of shape (G*H + padding*(G-1), G*W + padding*(G-1), C) with
    G = ceil(sqrt(N)): image n at row n // G, column n % G, each min-max scaled to [0, ubound] on its
    own (a constant image divides 0 by 0, as in cs231n), the padding and empty places 0.
    """
    (N, H, W, C) = Xs.shape
    G = int(ceil(sqrt(N)))
    grid = np.zeros((H * G + padding * (G - 1), W * G + padding * (G - 1), C))
    for n in range(N):
        row, col = divmod(n, G)
        top, left = row * (H + padding), col * (W + padding)
        img = Xs[n]
        low, high = np.min(img), np.max(img)
        grid[top : top + H, left : left + W] = ubound * (img - low) / (high - low)
    return grid


def vis_grid(Xs):
    """ visualize a grid of images

    ``Xs`` (N, H, W, C) -> (A*H + A, A*W + A, C) in Xs's dtype before the final scaling, A =
    ceil(sqrt(N)): image n at row n // A, column n % A with a 1-pixel separator after each, the
    background min(Xs); then the whole grid scaled to [0, 1].
    """
    (N, H, W, C) = Xs.shape
    A = int(ceil(sqrt(N)))
    G = np.ones((A * H + A, A * W + A, C), Xs.dtype)
    G *= np.min(Xs)
    for n in range(N):
        row, col = divmod(n, A)
        G[row * (H + 1) : row * (H + 1) + H, col * (W + 1) : col * (W + 1) + W, :] = Xs[n]
    maxg, ming = G.max(), G.min()
    return (G - ming) / (maxg - ming)


def vis_nn(rows):
    """ visualize array of arrays of images

    ``rows``: a list of N lists of D images (H, W, C) -> (N*H + N, D*W + D, C) in the first image's
    dtype (background 1, a 1-pixel separator after each image), then scaled to [0, 1].
    """
    N = len(rows)
    D = len(rows[0])
    H, W, C = rows[0][0].shape
    G = np.ones((N * H + N, D * W + D, C), rows[0][0].dtype)
    for y in range(N):
        for x in range(D):
            G[y * (H + 1) : y * (H + 1) + H, x * (W + 1) : x * (W + 1) + W, :] = rows[y][x]
    maxg, ming = G.max(), G.min()
    return (G - ming) / (maxg - ming)
