"""Reference im2col by fancy indexing (cs231n ``im2col.py``).

``im2col_indices`` lays every receptive field of the zero-padded input out as a column:

* rows are ordered (c, i, j): channel, then the row i and column j inside the field
  (row index ``c * field_height * field_width + i * field_width + j``);
* columns are ordered (h', w', n): output row, output column, then the sample, n varying fastest
  (column index ``(h' * W' + w') * N + n``).

This is the layout of cs231n's ``im2col_cython`` and of the ``x_cols`` cached by
``conv_forward_im2col``. ``col2im_indices`` is its adjoint: it sums every column entry back onto the
input position it came from (overlapping fields add up) and crops the padding.

Like cs231n, the field must tile the padded input exactly: ``(H + 2 * padding - field_height)`` and
``(W + 2 * padding - field_width)`` must be multiples of ``stride`` (AssertionError otherwise).
cs231n's width assert tests ``field_height`` instead of ``field_width`` (spec quirk 5); here it uses
``field_width``.
"""

import numpy as np

__all__ = ["get_im2col_indices", "im2col_indices", "col2im_indices"]


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """Fancy-index arrays that pick the receptive fields out of the padded input.

    Inputs:
    - x_shape: (N, C, H, W) of the unpadded input
    - field_height, field_width: size of a receptive field
    - padding: zero padding on each side of H and W
    - stride: step between neighbouring fields

    Returns a tuple (k, i, j) such that ``x_padded[:, k, i, j]`` has shape (N, C*fh*fw, H'*W'):
    - k: channel indices, shape (C*fh*fw, 1)
    - i: row indices into x_padded, shape (C*fh*fw, H'*W')
    - j: column indices into x_padded, shape (C*fh*fw, H'*W')
    where H' = (H + 2*padding - field_height) // stride + 1 and likewise W'.
    """
    N, C, H, W = x_shape
    assert (H + 2 * padding - field_height) % stride == 0, "field height does not tile the padded height"
    assert (W + 2 * padding - field_width) % stride == 0, "field width does not tile the padded width"
    out_height = (H + 2 * padding - field_height) // stride + 1
    out_width = (W + 2 * padding - field_width) // stride + 1

    # Offsets inside the field, rows ordered (c, i, j).
    field_i = np.tile(np.repeat(np.arange(field_height), field_width), C)
    field_j = np.tile(np.arange(field_width), field_height * C)
    # Top-left corner of each field, columns ordered (h', w').
    corner_i = stride * np.repeat(np.arange(out_height), out_width)
    corner_j = stride * np.tile(np.arange(out_width), out_height)

    i = field_i.reshape(-1, 1) + corner_i.reshape(1, -1)
    j = field_j.reshape(-1, 1) + corner_j.reshape(1, -1)
    k = np.repeat(np.arange(C), field_height * field_width).reshape(-1, 1)
    return (k, i, j)


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """An implementation of im2col based on fancy indexing.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - field_height, field_width, padding, stride: as in get_im2col_indices

    Returns cols of shape (C * field_height * field_width, H' * W' * N), rows ordered (c, i, j),
    columns ordered (h', w', n).
    """
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    k, i, j = get_im2col_indices(x.shape, field_height, field_width, padding, stride)
    cols = x_padded[:, k, i, j]  # (N, C*fh*fw, H'*W')
    C = x.shape[1]
    return cols.transpose(1, 2, 0).reshape(field_height * field_width * C, -1)


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """An implementation of col2im based on fancy indexing and np.add.at (the adjoint of
    im2col_indices).

    Inputs:
    - cols: array of shape (C * field_height * field_width, H' * W' * N) laid out as
      im2col_indices returns it
    - x_shape: (N, C, H, W) of the image to rebuild
    - field_height, field_width, padding, stride: as in get_im2col_indices

    Returns x of shape (N, C, H, W) and dtype of cols: each entry of cols is added onto the input
    position it was read from (overlaps are summed); the padding is cropped.
    """
    N, C, H, W = x_shape
    H_padded, W_padded = H + 2 * padding, W + 2 * padding
    x_padded = np.zeros((N, C, H_padded, W_padded), dtype=cols.dtype)
    k, i, j = get_im2col_indices(x_shape, field_height, field_width, padding, stride)
    cols_reshaped = cols.reshape(C * field_height * field_width, -1, N).transpose(2, 0, 1)
    np.add.at(x_padded, (slice(None), k, i, j), cols_reshaped)
    if padding == 0:
        return x_padded
    return x_padded[:, :, padding:-padding, padding:-padding]
