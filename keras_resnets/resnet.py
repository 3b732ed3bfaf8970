"""ResNet V1 models, a drop-in for `keras.applications.resnet`.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016 (arXiv:1512.03385).

The V1 weights were converted from the original Caffe models: each block
downsamples with its first 1x1 convolution (not the 3x3 one, as the later
"v1.5" variant does), and inputs are preprocessed in "caffe" mode (BGR,
ImageNet mean subtracted, no scaling).
"""

from keras_resnets import imagenet_utils
from keras_resnets.architectures import ARCHITECTURES
from keras_resnets.builder import make_builder

__all__ = [
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "preprocess_input",
    "decode_predictions",
]

_REFERENCE = " (He et al., 2016, arXiv:1512.03385)"
_DESCRIPTION = (
    "A ResNet V1 of bottleneck blocks, with the stride on the first 1x1\n"
    "convolution of a block as in the original Caffe model."
)

ResNet50 = make_builder(
    ARCHITECTURES["ResNet50"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)
ResNet101 = make_builder(
    ARCHITECTURES["ResNet101"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)
ResNet152 = make_builder(
    ARCHITECTURES["ResNet152"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)


def preprocess_input(x, data_format=None):
    """Preprocess images for ResNet V1: `imagenet_utils.preprocess_input` in "caffe" mode.

    RGB becomes BGR and the ImageNet mean of each channel is subtracted; the
    input is never modified in place. See `imagenet_utils.preprocess_input`.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Turn ImageNet scores into `(wnid, class_name, score)` tuples.

    See `imagenet_utils.decode_predictions`.
    """
    return imagenet_utils.decode_predictions(preds, top=top)
