"""cs231n_rs.vis_utils: the grids cs231n's vis_utils builds, checked against hand-built expectations."""

import numpy as np
import pytest

import cs231n_rs
from cs231n_rs import vis_utils as V


def _images(n, h=3, w=4, c=2, seed=0):
    return np.random.default_rng(seed).uniform(-5, 5, (n, h, w, c))


@pytest.mark.parametrize("n", [1, 2, 4, 5, 10])
@pytest.mark.parametrize("padding", [0, 1, 3])
def test_visualize_grid_layout_and_scaling(n, padding):
    Xs = _images(n)
    grid = V.visualize_grid(Xs, ubound=255.0, padding=padding)
    G = int(np.ceil(np.sqrt(n)))
    H, W, C = Xs.shape[1:]
    assert grid.shape == (G * H + padding * (G - 1), G * W + padding * (G - 1), C)
    assert grid.dtype == np.float64
    covered = np.zeros(grid.shape, bool)
    for i in range(n):
        r, c = divmod(i, G)
        tile = grid[r * (H + padding) : r * (H + padding) + H, c * (W + padding) : c * (W + padding) + W]
        img = Xs[i]
        np.testing.assert_allclose(tile, 255.0 * (img - img.min()) / (img.max() - img.min()), rtol=1e-15)
        assert tile.min() == 0.0 and tile.max() == pytest.approx(255.0, rel=1e-15)
        covered[r * (H + padding) : r * (H + padding) + H, c * (W + padding) : c * (W + padding) + W] = True
    assert np.all(grid[~covered] == 0.0)


def test_visualize_grid_ubound_and_uint8():
    Xs = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    grid = V.visualize_grid(Xs, ubound=1.0)
    assert grid.shape == (2 * 2 + 1, 2 * 2 + 1, 3)
    np.testing.assert_allclose(grid[:2, :2], (Xs[0] - 0.0) / 11.0)
    np.testing.assert_allclose(grid[:2, 3:5], (Xs[1] - 12.0) / 11.0)
    assert np.all(grid[3:] == 0)


def test_vis_grid_background_and_normalisation():
    Xs = np.array([[[[1.0]]], [[[3.0]]], [[[5.0]]]])  # three 1x1 gray images
    G = V.vis_grid(Xs)
    # A = 2: shape (2*1 + 2, 2*1 + 2, 1); background min = 1 -> 0 after scaling to [0, 1]
    expected = np.zeros((4, 4, 1))
    expected[0, 0] = 0.0
    expected[0, 2] = 0.5
    expected[2, 0] = 1.0
    np.testing.assert_array_equal(G, expected)


def test_vis_grid_keeps_the_dtype_before_scaling():
    Xs = np.array([[[[0.0]]], [[[2.0]]]], dtype=np.float32)
    G = V.vis_grid(Xs)
    assert G.dtype == np.float32
    assert G.shape == (4, 4, 1)
    np.testing.assert_array_equal(G[:, :, 0], [[0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])


def test_vis_nn_rows_of_images():
    a = np.full((2, 2, 3), 0.0)
    b = np.full((2, 2, 3), 4.0)
    c = np.full((2, 2, 3), 2.0)
    G = V.vis_nn([[a, b], [c, a]])
    assert G.shape == (2 * 2 + 2, 2 * 2 + 2, 3)
    # background is 1, then everything scaled by (x - 0) / (4 - 0)
    np.testing.assert_array_equal(G[0:2, 0:2], 0.0)
    np.testing.assert_array_equal(G[0:2, 3:5], 1.0)
    np.testing.assert_array_equal(G[3:5, 0:2], 0.5)
    np.testing.assert_array_equal(G[2, :], 0.25)
    np.testing.assert_array_equal(G[:, 5], 0.25)


def test_alias_import():
    cs231n_rs.install_as_cs231n()
    try:
        from cs231n.vis_utils import visualize_grid  # noqa: F401

        assert visualize_grid is V.visualize_grid
        from cs231n.features import extract_features, hog_feature  # noqa: F401

        assert hog_feature is cs231n_rs.features.hog_feature
    finally:
        cs231n_rs.uninstall_as_cs231n()
