"""The CIFAR-10 ResNets of the ResNet paper: ResNet-20, 32, 44, 56 and 110.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016 (arXiv:1512.03385), section 4.2.

A network of depth 6n + 2: a 3x3 convolution with 16 filters (no pooling),
three stages of n basic blocks with 16, 32 and 64 filters and strides 1, 2
and 2, global average pooling and a 10-way classifier. The defaults are a
32x32x3 input (3x32x32 with channels_first) and 10 classes; inputs down to
8x8 are accepted.

Builder options:

- `shortcut="zero_pad"` (the default, the paper's option A): where a block
  halves the resolution and doubles the width, the shortcut subsamples its
  input with a stride-2 1x1 max pooling and appends zero channels. It has
  no weights, so the parameter counts match the paper's (0.27M, 0.46M,
  0.66M, 0.85M, 1.7M).
- `shortcut="projection"` (option B): a 1x1 convolution and BatchNorm there.
- `residual=False`: the plain network of the same depth, without shortcuts
  (named "plain20" and so on).

There are no official weights. The recommended preprocessing is "tf" mode
(pixels scaled from [0, 255] to [-1, 1]), which needs no data set
statistics.
"""

from keras_resnets import imagenet_utils
from keras_resnets.architectures import ARCHITECTURES
from keras_resnets.builder import make_builder

__all__ = [
    "ResNet20",
    "ResNet32",
    "ResNet44",
    "ResNet56",
    "ResNet110",
    "preprocess_input",
]

_REFERENCE = " for CIFAR-10 (He et al., 2016, arXiv:1512.03385)"
_DESCRIPTION = (
    "A CIFAR-10 ResNet of basic blocks: a 3x3 stem with 16 filters, then\n"
    "three stages of 16, 32 and 64 filters at strides 1, 2 and 2."
)


def _make(builder):
    return make_builder(
        ARCHITECTURES[builder], module=__name__, reference=_REFERENCE, description=_DESCRIPTION
    )


ResNet20 = _make("ResNet20")
ResNet32 = _make("ResNet32")
ResNet44 = _make("ResNet44")
ResNet56 = _make("ResNet56")
ResNet110 = _make("ResNet110")


def preprocess_input(x, data_format=None):
    """Preprocess images for the CIFAR ResNets: `imagenet_utils.preprocess_input` in "tf" mode.

    Pixels are scaled from [0, 255] to [-1, 1]; the input is never modified
    in place. See `imagenet_utils.preprocess_input`.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")
