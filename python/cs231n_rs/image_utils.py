"""cs231n ``image_utils.py``: SqueezeNet normalisation, blurring and image loading, with no download.

``blur_image`` runs cs231n's 3x3 per-channel blur through our convolution (``conv_forward_fast``);
``preprocess_image`` / ``deprocess_image`` are cs231n's formulas. ``image_from_url`` is kept for
notebooks that call it, and ``load_image`` reads a file with matplotlib (PIL resizes when ``size``
is given, as cs231n does).
"""

import os
import tempfile
import urllib.error
import urllib.request

import numpy as np

from .fast_layers import conv_forward_fast

__all__ = [
    "SQUEEZENET_MEAN",
    "SQUEEZENET_STD",
    "blur_image",
    "preprocess_image",
    "deprocess_image",
    "image_from_url",
    "load_image",
]

SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def blur_image(X):
    """A very gentle image blurring operation, to be used as a regularizer for image generation.

    Inputs:
    - X: Image data of shape (N, 3, H, W)

    Returns:
    - X_blur: Blurred version of X, of shape (N, 3, H, W)
    """
    X = np.asarray(X)
    if X.ndim != 4 or X.shape[1] != 3:
        raise ValueError("X: expected images of shape (N, 3, H, W), got shape %s" % (X.shape,))
    w_blur = np.zeros((3, 3, 3, 3))  # float64, as cs231n's (the output dtype follows NumPy's promotion)
    b_blur = np.zeros(3)
    blur_param = {"stride": 1, "pad": 1}
    for i in range(3):
        w_blur[i, i] = np.asarray([[1, 2, 1], [2, 188, 2], [1, 2, 1]], dtype=np.float32)
    w_blur /= 200.0
    return conv_forward_fast(X, w_blur, b_blur, blur_param)[0]


def preprocess_image(img):
    """Preprocess an image for squeezenet.

    Subtracts the pixel mean and divides by the standard deviation.
    """
    return (np.asarray(img).astype(np.float32) / 255.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD


def deprocess_image(img, rescale=False):
    """Undo preprocessing on an image and convert back to uint8."""
    img = np.asarray(img) * SQUEEZENET_STD + SQUEEZENET_MEAN
    if rescale:
        vmin, vmax = img.min(), img.max()
        img = (img - vmin) / (vmax - vmin)
    return np.clip(255 * img, 0.0, 255.0).astype(np.uint8)


def image_from_url(url):
    """Read an image from a URL. Returns a numpy array with the pixel data (None on an error, which
    is printed). We write the image to a temporary file then read it back. Kinda gross."""
    try:
        import matplotlib.pyplot as plt

        f = urllib.request.urlopen(url)
        fd, fname = tempfile.mkstemp()
        with os.fdopen(fd, "wb") as ff:
            ff.write(f.read())
        img = plt.imread(fname)
        os.remove(fname)
        return img
    except urllib.error.HTTPError as e:  # cs231n prints and returns None
        print("HTTP Error: ", e.code, url)
    except urllib.error.URLError as e:
        print("URL Error: ", e.reason, url)
    return None


def load_image(filename, size=None):
    """Load and resize an image from disk.

    Inputs:
    - filename: path to file
    - size: size of shortest dimension after rescaling
    """
    import matplotlib.pyplot as plt

    img = plt.imread(filename)
    if size is not None:
        from PIL import Image

        orig_shape = np.array(img.shape[:2])
        min_idx = np.argmin(orig_shape)
        scale_factor = float(size) / orig_shape[min_idx]
        new_shape = (orig_shape * scale_factor).astype(int)
        # TODO: the width, height values are currently flipped here, and we should
        # change the resampling method to BILINEAR to match the torch implementation
        img = np.array(Image.fromarray(img).resize(new_shape, resample=Image.NEAREST))
    return img
