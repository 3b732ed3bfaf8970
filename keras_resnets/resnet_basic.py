"""ResNet-18 and ResNet-34: ResNets of basic blocks, V1 and V2.

References: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016 (arXiv:1512.03385), and "Identity Mappings in Deep
Residual Networks", ECCV 2016 (arXiv:1603.05027).

A basic block is two 3x3 convolutions. The V1 models follow torchvision's
layout: no convolution bias before BatchNorm, the stride on the first 3x3
convolution of a stage's first block, and a projection shortcut (1x1
convolution and BatchNorm) only where the shape changes. Their trainable
parameter counts equal torchvision's (11,689,512 and 21,797,672 with the
1000-class top).

The V2 models use the pre-activation basic blocks of the pre-activation
paper and a final BatchNorm and ReLU before the head. A stage strides in
its first block, whereas keras.applications' bottleneck V2 models stride
in the last block.

keras.applications has none of these models, so no official Keras weights
exist: `weights="imagenet"` raises, and `weights` takes a file path. The
recommended preprocessing is torchvision's ("torch" mode).
"""

from keras_resnets import imagenet_utils
from keras_resnets.architectures import ARCHITECTURES
from keras_resnets.builder import make_builder

__all__ = [
    "ResNet18",
    "ResNet34",
    "ResNet18V2",
    "ResNet34V2",
    "preprocess_input",
    "decode_predictions",
]

_V1_REFERENCE = " (He et al., 2016, arXiv:1512.03385)"
_V1_DESCRIPTION = (
    "A ResNet V1 of basic blocks (two 3x3 convolutions) in torchvision's\n"
    "layout, with the stride on the first 3x3 convolution of a block."
)
_V2_REFERENCE = " (He et al., 2016, arXiv:1603.05027)"
_V2_DESCRIPTION = (
    "A ResNet V2 of pre-activation basic blocks; each stage strides in its\n"
    "first block, on the first 3x3 convolution."
)


def _make(builder, reference, description):
    return make_builder(
        ARCHITECTURES[builder], module=__name__, reference=reference, description=description
    )


ResNet18 = _make("ResNet18", _V1_REFERENCE, _V1_DESCRIPTION)
ResNet34 = _make("ResNet34", _V1_REFERENCE, _V1_DESCRIPTION)
ResNet18V2 = _make("ResNet18V2", _V2_REFERENCE, _V2_DESCRIPTION)
ResNet34V2 = _make("ResNet34V2", _V2_REFERENCE, _V2_DESCRIPTION)


def preprocess_input(x, data_format=None):
    """Preprocess images for these models: `imagenet_utils.preprocess_input` in "torch" mode.

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
