"""Residual blocks and the stacking of blocks into stages.

Layer names are a public contract: the official weight files bind to them
(Keras 2 loads HDF5 weights by layer name, Keras 3 by topological order), so
every block creates its layers with the names and in the order that
keras.applications uses, `conv{stage}_block{i}_{unit}_{conv,bn,relu}` with
unit 0 for the projection shortcut.
"""

import dataclasses
from typing import Callable

import keras
from keras import layers

__all__ = [
    "BN_EPSILON",
    "BlockFamily",
    "FAMILIES",
    "batch_norm_axis",
    "bottleneck_block",
    "preact_bottleneck_block",
    "stack_stage",
]

# The epsilon of every BatchNormalization in the official ResNet weights;
# the stored moving variances were computed with it.
BN_EPSILON = 1.001e-5


def batch_norm_axis():
    """Return the channel axis of the global image data format."""
    return 1 if keras.config.image_data_format() == "channels_first" else 3


def _batch_norm(x, name):
    return layers.BatchNormalization(
        axis=batch_norm_axis(), epsilon=BN_EPSILON, name=name
    )(x)


def bottleneck_block(x, *, filters, stride, projection, use_bias, name):
    """Apply a ResNet V1 bottleneck block: 1x1, 3x3, 1x1 convolutions.

    The stride sits on the first 1x1 convolution, as in the original Caffe
    model that the official weights come from (torchvision's "v1.5" moves it
    to the 3x3 convolution).

    Args:
        x: Input tensor.
        filters: Width of the inner convolutions; the block outputs
            `4 * filters` channels.
        stride: Stride of the block.
        projection: If True, the shortcut is a strided 1x1 convolution and
            BatchNorm; if False, the identity.
        use_bias: Whether the convolutions carry a bias.
        name: Layer name prefix, e.g. `"conv3_block1"`.

    Returns:
        Output tensor.
    """
    if projection:
        shortcut = layers.Conv2D(
            4 * filters, 1, strides=stride, use_bias=use_bias, name=f"{name}_0_conv"
        )(x)
        shortcut = _batch_norm(shortcut, f"{name}_0_bn")
    else:
        shortcut = x

    x = layers.Conv2D(
        filters, 1, strides=stride, use_bias=use_bias, name=f"{name}_1_conv"
    )(x)
    x = _batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = layers.Conv2D(
        filters, 3, padding="same", use_bias=use_bias, name=f"{name}_2_conv"
    )(x)
    x = _batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)

    x = layers.Conv2D(4 * filters, 1, use_bias=use_bias, name=f"{name}_3_conv")(x)
    x = _batch_norm(x, f"{name}_3_bn")

    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def preact_bottleneck_block(x, *, filters, stride, projection, use_bias, name):
    """Apply a ResNet V2 (pre-activation) bottleneck block.

    The stride sits on the 3x3 convolution. A strided identity shortcut is
    subsampled with a 1x1 max pooling, which has no weights, so it is the only
    layer of the block without a fixed name (Keras names it).

    Args:
        x: Input tensor.
        filters: Width of the inner convolutions; the block outputs
            `4 * filters` channels.
        stride: Stride of the block.
        projection: If True, the shortcut is a 1x1 convolution of the
            pre-activated input; if False, the (subsampled) identity.
        use_bias: Whether the shortcut and last convolutions carry a bias.
            The convolutions followed by BatchNorm never do in V2.
        name: Layer name prefix, e.g. `"conv3_block1"`.

    Returns:
        Output tensor.
    """
    preact = _batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)

    if projection:
        shortcut = layers.Conv2D(
            4 * filters, 1, strides=stride, use_bias=use_bias, name=f"{name}_0_conv"
        )(preact)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x)
    else:
        shortcut = x

    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = _batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(
        filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv"
    )(x)
    x = _batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)

    x = layers.Conv2D(4 * filters, 1, use_bias=use_bias, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


@dataclasses.dataclass(frozen=True)
class BlockFamily:
    """How a kind of block is stacked into a stage.

    Attributes:
        block: The block function.
        stride_in_last_block: If True the stage's stride is applied by its
            last block (ResNet V2), otherwise by its first (ResNet V1).
    """

    block: Callable
    stride_in_last_block: bool


FAMILIES = {
    "bottleneck": BlockFamily(block=bottleneck_block, stride_in_last_block=False),
    "preact_bottleneck": BlockFamily(
        block=preact_bottleneck_block, stride_in_last_block=True
    ),
}


def stack_stage(x, stage, *, family, use_bias):
    """Apply the blocks of one stage.

    The first block of every stage has a projection shortcut because it
    changes the channel count (keras.applications' layout, which the official
    weights follow, projects even in the stride-1 first stage).

    Args:
        x: Input tensor.
        stage: A `keras_resnets.architectures.Stage`.
        family: A `BlockFamily`.
        use_bias: Passed to every block.

    Returns:
        Output tensor.
    """
    stride_block = stage.blocks if family.stride_in_last_block else 1
    for index in range(1, stage.blocks + 1):
        x = family.block(
            x,
            filters=stage.filters,
            stride=stage.stride if index == stride_block else 1,
            projection=index == 1,
            use_bias=use_bias,
            name=f"{stage.name}_block{index}",
        )
    return x
