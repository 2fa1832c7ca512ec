"""cs231n ``im2col.py``: the image-to-columns conversion and its adjoint, computed in Rust.

``im2col_indices`` lays every receptive field of the zero-padded input out as a column: rows ordered
(c, i, j), columns ordered (h', w', n) with n fastest (cs231n's ``im2col_cython`` layout).
``col2im_indices`` sums columns back onto the input positions they were read from and crops the
padding. ``get_im2col_indices`` (the fancy-index arrays) is NumPy, as in cs231n. As in cs231n the
fields must tile the padded input (AssertionError otherwise; the width check uses field_width, not
cs231n's field_height).
"""

from . import _core
from ._conv import _work
from ._validate import as_array, as_int, compute_dtype, finish
from .reference.im2col import get_im2col_indices

__all__ = ["get_im2col_indices", "im2col_indices", "col2im_indices"]


def _geometry(x_shape, field_height, field_width, padding, stride):
    fh, fw = as_int(field_height, "field_height"), as_int(field_width, "field_width")
    padding, stride = as_int(padding, "padding"), as_int(stride, "stride")
    if stride < 1 or padding < 0 or fh < 1 or fw < 1:
        raise ValueError(
            "expected field sizes and stride of at least 1 and padding of at least 0, got field %dx%d, "
            "padding %d, stride %d" % (fh, fw, padding, stride)
        )
    if len(x_shape) != 4:
        raise ValueError("x: expected shape (N, C, H, W), got %s" % (tuple(x_shape),))
    N, C, H, W = (as_int(d, "x_shape") for d in x_shape)
    assert (H + 2 * padding - fh) % stride == 0, "field height does not tile the padded height"
    assert (W + 2 * padding - fw) % stride == 0, "field width does not tile the padded width"
    return (N, C, H, W), fh, fw, padding, stride


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """cols of shape (C * field_height * field_width, H' * W' * N) from x of shape (N, C, H, W)."""
    xa = as_array(x, "x")
    shape, fh, fw, padding, stride = _geometry(xa.shape, field_height, field_width, padding, stride)
    work, result = compute_dtype(xa)
    return finish(_core.im2col(_work(xa, work), fh, fw, stride, padding, True), result)


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """x of shape x_shape = (N, C, H, W) from cols laid out as im2col_indices returns them
    (overlapping fields summed, padding cropped)."""
    ca = as_array(cols, "cols")
    shape, fh, fw, padding, stride = _geometry(tuple(x_shape), field_height, field_width, padding, stride)
    if ca.ndim != 2:
        raise ValueError("cols: expected a 2-D array, got shape %s" % (ca.shape,))
    work, result = compute_dtype(ca)
    return finish(_core.col2im(_work(ca, work), shape, fh, fw, stride, padding, True), result)

