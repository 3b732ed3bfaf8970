"""Load image files as RGB arrays of a model's input size.

Resize policy (`center_crop_box`), shared by the `keras-resnets predict`
command and by SavedModels exported with in-graph preprocessing. Take the
largest centered box with the target's aspect ratio and shrink it to
`crop_fraction` of that size: 0.875 by default, the 224-of-256 center crop
of the usual ImageNet evaluation. Then crop that box and resize it to the
target size with antialiased bilinear interpolation. Cropping before
resizing keeps memory bounded for very large or very elongated images.

Color handling: EXIF orientation is applied; grayscale, palette, CMYK and
16-bit images are converted to 8-bit RGB; transparent pixels are
composited onto a white background.
"""

import os
import pathlib

import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "DEFAULT_CROP_FRACTION",
    "ImageLoadError",
    "center_crop_box",
    "check_crop_fraction",
    "load_image",
    "sample_image_path",
    "to_rgb",
]

# The usual ImageNet evaluation crop: a 224 x 224 center crop of an image
# whose shorter side was resized to 256.
DEFAULT_CROP_FRACTION = 0.875

# Pillow modes whose integer pixels span 16 bits (PNG stores 16-bit
# grayscale as one of these, depending on the Pillow version).
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


class ImageLoadError(ValueError):
    """Raised when a file cannot be read as an image.

    Attributes:
        path: the file.
    """

    def __init__(self, message, *, path):
        super().__init__(message)
        self.path = path


def check_crop_fraction(crop_fraction):
    """Check that `crop_fraction` is a number in (0, 1] and return it as a float.

    Raises:
        TypeError: if it is not a number.
        ValueError: if it is outside (0, 1].
    """
    if isinstance(crop_fraction, bool) or not isinstance(crop_fraction, (int, float)):
        raise TypeError(
            "`crop_fraction` must be a number in (0, 1]. Received: "
            f"crop_fraction={crop_fraction!r} of type {type(crop_fraction).__name__}"
        )
    if not 0 < crop_fraction <= 1:
        raise ValueError(
            "`crop_fraction` must be in (0, 1]: the fraction of the largest "
            "centered box that is kept, 0.875 for the usual ImageNet center "
            f"crop or 1 to keep the whole box. Received: crop_fraction={crop_fraction!r}"
        )
    return float(crop_fraction)


def center_crop_box(image_height, image_width, target_height, target_width, crop_fraction):
    """Return the `(top, left, height, width)` of the centered box to resize.

    The box has the target's aspect ratio, is `crop_fraction` of the largest
    such box that fits the image, and is at least one pixel on each side.
    Sizes are rounded half to even, like `tf.round`, so the in-graph
    preprocessing of `keras_resnets.export` picks the same box.
    """
    scale = min(image_height / target_height, image_width / target_width) * crop_fraction
    height = min(image_height, max(1, round(target_height * scale)))
    width = min(image_width, max(1, round(target_width * scale)))
    return (image_height - height) // 2, (image_width - width) // 2, height, width


def to_rgb(image):
    """Convert a Pillow image of any mode to 8-bit RGB.

    Grayscale and palette images are expanded to three channels, 16-bit
    images are scaled from [0, 65535] to [0, 255], and images with an alpha
    channel (or a transparent palette entry) are composited onto white.

    Raises:
        ValueError: for floating-point images (mode "F"), whose value range
            is not defined by the format.
    """
    if image.mode == "RGB":
        return image
    if image.mode == "F":
        raise ValueError(
            "Floating-point images (Pillow mode 'F') have no standard value "
            "range, so they cannot be mapped to 8-bit RGB. Convert the image "
            "to 8-bit RGB first."
        )
    if image.mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image, dtype=np.float64)
        values = np.clip(np.round(values * (255.0 / 65535.0)), 0, 255).astype(np.uint8)
        return Image.fromarray(values, mode="L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")


def _open_image(path):
    try:
        with Image.open(path) as image:
            # `load` reads the pixels now, so a truncated file fails here
            # rather than later; the context manager then closes the file.
            image.load()
            return ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        raise ImageLoadError(
            f"Image {path} is too large to load safely ({error}). Downscale it "
            "before classifying it.",
            path=path,
        ) from error
    except Image.UnidentifiedImageError as error:
        raise ImageLoadError(
            f"Cannot read {path}: it is not an image file that Pillow can "
            "decode. Pass a JPEG, PNG, GIF, BMP, TIFF or WebP file.",
            path=path,
        ) from error
    except (OSError, SyntaxError) as error:
        # Pillow raises OSError for truncated or corrupt data and SyntaxError
        # for some malformed headers.
        raise ImageLoadError(
            f"Cannot read image {path}: the file is truncated or corrupt "
            f"({error}). Replace it with a complete copy.",
            path=path,
        ) from error


def load_image(path, size, *, crop_fraction=DEFAULT_CROP_FRACTION):
    """Load an image file as an RGB array of the given size.

    Args:
        path: `str` or `os.PathLike` of an image file in any format and mode
            that Pillow reads.
        size: `(height, width)` of the result.
        crop_fraction: fraction of the largest centered box with the
            target's aspect ratio that is resized to `size`, in (0, 1].
            Default 0.875; 1 keeps the whole box.

    Returns:
        A uint8 NumPy array of shape `(height, width, 3)`, RGB.

    Raises:
        FileNotFoundError: if `path` does not exist.
        ImageLoadError: if `path` is a folder or not a readable image (not an
            image format, truncated, too large to load safely, or floating
            point).
        TypeError, ValueError: for an invalid `size` or `crop_fraction`.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`path` must be a str or os.PathLike. Received: path={path!r} of "
            f"type {type(path).__name__}"
        )
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in size)
    ):
        raise ValueError(
            "`size` must be a (height, width) pair of positive ints. "
            f"Received: size={size!r}"
        )
    crop_fraction = check_crop_fraction(crop_fraction)
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Image file not found: {path}. Check the path.")
    if path.is_dir():
        raise ImageLoadError(
            f"{path} is a folder, not an image file. Pass the image files in "
            "it, for example with a shell glob such as 'folder/*.jpg'.",
            path=path,
        )

    image = _open_image(path)
    try:
        image = to_rgb(image)
    except ValueError as error:
        raise ImageLoadError(f"Cannot use image {path}: {error}", path=path) from error

    target_height, target_width = size
    top, left, height, width = center_crop_box(
        image.height, image.width, target_height, target_width, crop_fraction
    )
    # Cropping first keeps pixels outside the box out of the filter at its
    # edges, as in the in-graph preprocessing of `keras_resnets.export`.
    box = image.crop((left, top, left + width, top + height))
    resized = box.resize((target_width, target_height), resample=Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def sample_image_path():
    """Return the path of matplotlib's sample photo `grace_hopper.jpg`.

    It ships with matplotlib (a dependency of this package), so it is
    available offline.

    Raises:
        FileNotFoundError: if the installed matplotlib lacks the file.
    """
    import matplotlib.cbook

    path = pathlib.Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    if not path.is_file():
        raise FileNotFoundError(
            f"matplotlib's sample photo is missing at {path}. Reinstall "
            "matplotlib, or pass an image path."
        )
    return path
