"""ResNeXt-50 and ResNeXt-101 (32x4d).

Reference: Xie, Girshick, Dollar, Tu and He, "Aggregated Residual
Transformations for Deep Neural Networks", CVPR 2017 (arXiv:1611.05431).

A ResNeXt block is a bottleneck whose 3x3 convolution is split into 32
groups. A group has 4 channels in the first stage, and the width doubles
with each stage. The
grouped convolution is a built-in `Conv2D(groups=32)`, so the models save
and export without custom objects. The layout follows the paper's models
and torchvision's: no convolution bias before BatchNorm, the stride on the
grouped 3x3 convolution, and a projection shortcut where the shape changes.
Layer names follow the ResNet V1 scheme.

No official Keras weights are registered (see the note in
`keras_resnets.architectures`): `weights="imagenet"` raises, and `weights`
takes a file path. The recommended preprocessing is torchvision's ("torch"
mode).
"""

from keras_resnets import imagenet_utils
from keras_resnets.architectures import ARCHITECTURES
from keras_resnets.builder import make_builder

__all__ = ["ResNeXt50", "ResNeXt101", "preprocess_input", "decode_predictions"]

_REFERENCE = " (Xie et al., 2017, arXiv:1611.05431)"
_DESCRIPTION = (
    "A ResNeXt of bottleneck blocks whose 3x3 convolution has 32 groups of\n"
    "4 channels in the first stage (32x4d), with the stride on that\n"
    "convolution."
)

ResNeXt50 = make_builder(
    ARCHITECTURES["ResNeXt50"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)
ResNeXt101 = make_builder(
    ARCHITECTURES["ResNeXt101"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)


def preprocess_input(x, data_format=None):
    """Preprocess images for ResNeXt: `imagenet_utils.preprocess_input` in "torch" mode.

    Pixels are scaled to [0, 1], then normalized with the ImageNet mean and
    standard deviation of each channel; the input is never modified in
    place. See `imagenet_utils.preprocess_input`.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """Turn ImageNet scores into `(wnid, class_name, score)` tuples.

    See `imagenet_utils.decode_predictions`.
    """
    return imagenet_utils.decode_predictions(preds, top=top)
