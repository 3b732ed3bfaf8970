"""ResNet V2 models, a drop-in for `keras.applications.resnet_v2`.

Reference: He, Zhang, Ren and Sun, "Identity Mappings in Deep Residual
Networks", ECCV 2016 (arXiv:1603.05027).

Pre-activation blocks (BatchNorm and ReLU before each convolution). As in
the official Keras weights, a stage downsamples in its last block, with the
stride on the 3x3 convolution and a 1x1 max pooling on the identity path;
the stem convolution has no BatchNorm or ReLU of its own. Inputs are
preprocessed in "tf" mode (scaled to [-1, 1]).
"""

from keras_resnets import imagenet_utils
from keras_resnets.architectures import ARCHITECTURES
from keras_resnets.builder import make_builder

__all__ = [
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "preprocess_input",
    "decode_predictions",
]

_REFERENCE = " (He et al., 2016, arXiv:1603.05027)"
_DESCRIPTION = (
    "A ResNet V2 of pre-activation bottleneck blocks; each stage strides in\n"
    "its last block."
)

ResNet50V2 = make_builder(
    ARCHITECTURES["ResNet50V2"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)
ResNet101V2 = make_builder(
    ARCHITECTURES["ResNet101V2"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)
ResNet152V2 = make_builder(
    ARCHITECTURES["ResNet152V2"], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
)


def preprocess_input(x, data_format=None):
    """Preprocess images for ResNet V2: `imagenet_utils.preprocess_input` in "tf" mode.

    Pixels are scaled from [0, 255] to [-1, 1]; the input is never modified
    in place. See `imagenet_utils.preprocess_input`.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Turn ImageNet scores into `(wnid, class_name, score)` tuples.

    See `imagenet_utils.decode_predictions`.
    """
    return imagenet_utils.decode_predictions(preds, top=top)
