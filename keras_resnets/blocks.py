"""Residual blocks and the stacking of blocks into stages.

Layer names are a public contract: the official weight files bind to them
(Keras 2 loads HDF5 weights by layer name, Keras 3 by topological order), so
every block creates its layers with the names and in the order that
keras.applications uses, `conv{stage}_block{i}_{unit}_{conv,bn,relu}` with
unit 0 for the shortcut, `_add` for the sum and `_out` for the block output.
The blocks that keras.applications lacks (basic, pre-activation basic,
grouped bottleneck) follow the same scheme.

Every block takes a `shortcut` keyword that `stack_stage` chooses:

- `"identity"`: the input itself, subsampled by a 1x1 max pooling when the
  block is strided (only ResNet V2 bottlenecks stride without changing
  width);
- `"projection"`: a strided 1x1 convolution, followed by BatchNorm in the
  post-activation (V1) blocks; option B of the ResNet paper;
- `"zero_pad"`: the input subsampled and padded with zero channels, which
  adds no weights; option A of the ResNet paper;
- None: no shortcut at all, which makes a plain network block.
"""

import dataclasses
from typing import Callable

import keras
from keras import layers

__all__ = [
    "BN_EPSILON",
    "SHORTCUTS",
    "BlockFamily",
    "FAMILIES",
    "basic_block",
    "batch_norm_axis",
    "bottleneck_block",
    "grouped_bottleneck_block",
    "preact_basic_block",
    "preact_bottleneck_block",
    "stack_stage",
]

# The epsilon of every BatchNormalization in the official ResNet weights;
# the stored moving variances were computed with it.
BN_EPSILON = 1.001e-5

# Shortcuts a row may choose for the blocks that change the shape.
SHORTCUTS = ("projection", "zero_pad")

# Output width of a block divided by the width of its inner convolutions.
_BOTTLENECK_EXPANSION = 4
_BASIC_EXPANSION = 1
# ResNeXt's bottleneck is twice as wide inside: 32 groups of 4 channels make
# 128 inner channels in the first stage, which outputs 256 like ResNet-50.
_GROUPED_BOTTLENECK_EXPANSION = 2


def batch_norm_axis():
    """Return the channel axis of the global image data format."""
    return 1 if keras.config.image_data_format() == "channels_first" else 3


def _batch_norm(x, name):
    return layers.BatchNormalization(
        axis=batch_norm_axis(), epsilon=BN_EPSILON, name=name
    )(x)


def _conv3x3(x, filters, *, stride, use_bias, name, groups=1):
    """Apply a 3x3 convolution that pads one pixel on every side.

    With stride 1, "same" padding does exactly that. With stride 2 on an even
    input, "same" would pad only the bottom and right edges (TensorFlow's
    rule), so the symmetric padding of the torchvision and ResNeXt models is
    made by an explicit `{name}_pad` layer instead.
    """
    if stride == 1:
        return layers.Conv2D(
            filters, 3, padding="same", groups=groups, use_bias=use_bias,
            name=f"{name}_conv",
        )(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_pad")(x)
    return layers.Conv2D(
        filters, 3, strides=stride, groups=groups, use_bias=use_bias,
        name=f"{name}_conv",
    )(x)


def _zero_pad_shortcut(x, *, out_channels, stride, name):
    """Subsample `x` and append zero channels up to `out_channels`.

    Only built-in layers are used, so the model saves and exports without
    custom objects: a 1x1 max pooling picks every `stride`-th pixel, and a
    `Rescaling(0.0)` of that tensor supplies the zeros to concatenate.
    """
    axis = batch_norm_axis()
    in_channels = x.shape[axis]
    if out_channels % in_channels:
        raise ValueError(
            "The zero_pad shortcut pads the input with whole copies of zero "
            f"channels, so the block width ({out_channels}) must be a "
            f"multiple of its input width ({in_channels}). Use "
            f"shortcut='projection' for this model. Received: block {name!r} "
            f"with {in_channels} input channels"
        )
    if stride > 1:
        x = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    if out_channels == in_channels:
        return x
    # NOTE: 0 * inf is NaN, so an infinite activation would turn its zero
    # channel into NaN; finite inputs give exact zeros.
    zeros = layers.Rescaling(0.0, name=f"{name}_0_zeros")(x)
    copies = out_channels // in_channels - 1
    return layers.Concatenate(axis=axis, name=f"{name}_0_pad")([x] + [zeros] * copies)


def _shortcut_branch(x, *, shortcut, out_channels, stride, use_bias, batch_norm, name):
    """Return the shortcut tensor of a block, or None for a plain block.

    Args:
        batch_norm: Whether a projection is followed by BatchNorm
            (post-activation blocks) or not (pre-activation blocks).
    """
    if shortcut is None:
        return None
    if shortcut == "identity":
        if stride == 1:
            return x
        # Unnamed, as in keras.applications' V2: the layer has no weights.
        return layers.MaxPooling2D(1, strides=stride)(x)
    if shortcut == "zero_pad":
        return _zero_pad_shortcut(
            x, out_channels=out_channels, stride=stride, name=name
        )
    if shortcut == "projection":
        x = layers.Conv2D(
            out_channels, 1, strides=stride, use_bias=use_bias, name=f"{name}_0_conv"
        )(x)
        if batch_norm:
            x = _batch_norm(x, f"{name}_0_bn")
        return x
    raise ValueError(
        f"Unknown shortcut {shortcut!r} for block {name!r}. Known shortcuts: "
        f"None, 'identity', {', '.join(repr(kind) for kind in SHORTCUTS)}. "
        f"Received: shortcut={shortcut!r}"
    )


def _merge_post_activation(shortcut, x, name):
    """Add the shortcut (if any) and apply the block's final ReLU."""
    if shortcut is not None:
        x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def bottleneck_block(x, *, filters, stride, shortcut, use_bias, name):
    """Apply a ResNet V1 bottleneck block: 1x1, 3x3, 1x1 convolutions.

    The stride sits on the first 1x1 convolution, as in the original Caffe
    model that the official weights come from (torchvision's "v1.5" moves it
    to the 3x3 convolution).

    Args:
        x: Input tensor.
        filters: Width of the inner convolutions; the block outputs
            `4 * filters` channels.
        stride: Stride of the block.
        shortcut: `"identity"`, `"projection"`, `"zero_pad"` or None (see
            the module docstring).
        use_bias: Whether the convolutions carry a bias.
        name: Layer name prefix, e.g. `"conv3_block1"`.

    Returns:
        Output tensor.
    """
    out_channels = _BOTTLENECK_EXPANSION * filters
    residual = _shortcut_branch(
        x, shortcut=shortcut, out_channels=out_channels, stride=stride,
        use_bias=use_bias, batch_norm=True, name=name,
    )

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

    x = layers.Conv2D(out_channels, 1, use_bias=use_bias, name=f"{name}_3_conv")(x)
    x = _batch_norm(x, f"{name}_3_bn")

    return _merge_post_activation(residual, x, name)


def grouped_bottleneck_block(x, *, filters, stride, shortcut, use_bias, name, groups):
    """Apply a ResNeXt bottleneck block: 1x1, grouped 3x3, 1x1 convolutions.

    The 3x3 convolution is a `Conv2D(groups=groups)`, which serializes and
    exports like any other convolution. As in the ResNeXt paper's models
    (and torchvision's), the stride sits on the 3x3 convolution.

    Args:
        x: Input tensor.
        filters: Width of the inner convolutions, `groups` times the width
            of a group; the block outputs `2 * filters` channels.
        stride: Stride of the block.
        shortcut: `"identity"`, `"projection"`, `"zero_pad"` or None.
        use_bias: Whether the convolutions carry a bias.
        name: Layer name prefix, e.g. `"conv3_block1"`.
        groups: Number of groups of the 3x3 convolution (the cardinality).

    Returns:
        Output tensor.
    """
    out_channels = _GROUPED_BOTTLENECK_EXPANSION * filters
    residual = _shortcut_branch(
        x, shortcut=shortcut, out_channels=out_channels, stride=stride,
        use_bias=use_bias, batch_norm=True, name=name,
    )

    x = layers.Conv2D(filters, 1, use_bias=use_bias, name=f"{name}_1_conv")(x)
    x = _batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = _conv3x3(
        x, filters, stride=stride, groups=groups, use_bias=use_bias, name=f"{name}_2"
    )
    x = _batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)

    x = layers.Conv2D(out_channels, 1, use_bias=use_bias, name=f"{name}_3_conv")(x)
    x = _batch_norm(x, f"{name}_3_bn")

    return _merge_post_activation(residual, x, name)


def basic_block(x, *, filters, stride, shortcut, use_bias, name):
    """Apply a basic block of two 3x3 convolutions (ResNet-18/34, CIFAR).

    The stride sits on the first 3x3 convolution, as in torchvision's
    ResNet-18/34 and the ResNet paper's CIFAR models.

    Args:
        x: Input tensor.
        filters: Width of both convolutions and of the output.
        stride: Stride of the block.
        shortcut: `"identity"`, `"projection"`, `"zero_pad"` or None.
        use_bias: Whether the convolutions carry a bias.
        name: Layer name prefix, e.g. `"conv3_block1"`.

    Returns:
        Output tensor.
    """
    residual = _shortcut_branch(
        x, shortcut=shortcut, out_channels=filters, stride=stride,
        use_bias=use_bias, batch_norm=True, name=name,
    )

    x = _conv3x3(x, filters, stride=stride, use_bias=use_bias, name=f"{name}_1")
    x = _batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = _conv3x3(x, filters, stride=1, use_bias=use_bias, name=f"{name}_2")
    x = _batch_norm(x, f"{name}_2_bn")

    return _merge_post_activation(residual, x, name)


def preact_bottleneck_block(x, *, filters, stride, shortcut, use_bias, name):
    """Apply a ResNet V2 (pre-activation) bottleneck block.

    The stride sits on the 3x3 convolution. A strided identity shortcut is
    subsampled with a 1x1 max pooling, which has no weights, so it is the only
    layer of the block without a fixed name (Keras names it).

    Args:
        x: Input tensor.
        filters: Width of the inner convolutions; the block outputs
            `4 * filters` channels.
        stride: Stride of the block.
        shortcut: `"identity"`, `"projection"` (a 1x1 convolution of the
            pre-activated input, without BatchNorm) or `"zero_pad"`.
            Pre-activation blocks end on their Add, so None is not allowed.
        use_bias: Whether the shortcut and last convolutions carry a bias.
            The convolutions followed by BatchNorm never do in V2.
        name: Layer name prefix, e.g. `"conv3_block1"`.

    Returns:
        Output tensor.
    """
    out_channels = _BOTTLENECK_EXPANSION * filters
    preact = _batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)

    # A projection reads the pre-activated input, the identity the raw one.
    residual = _shortcut_branch(
        preact if shortcut == "projection" else x,
        shortcut=shortcut, out_channels=out_channels, stride=stride,
        use_bias=use_bias, batch_norm=False, name=name,
    )

    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = _batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(
        filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv"
    )(x)
    x = _batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)

    x = layers.Conv2D(out_channels, 1, use_bias=use_bias, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([residual, x])


def preact_basic_block(x, *, filters, stride, shortcut, use_bias, name):
    """Apply a pre-activation basic block: BN, ReLU, 3x3, BN, ReLU, 3x3.

    The layout of the pre-activation ResNet paper: the stride sits on the
    first 3x3 convolution and a projection reads the pre-activated input.

    Args:
        x: Input tensor.
        filters: Width of both convolutions and of the output.
        stride: Stride of the block.
        shortcut: `"identity"`, `"projection"` (without BatchNorm) or
            `"zero_pad"`. None is not allowed, as in
            `preact_bottleneck_block`.
        use_bias: Whether the convolutions carry a bias.
        name: Layer name prefix, e.g. `"conv3_block1"`.

    Returns:
        Output tensor.
    """
    preact = _batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)

    residual = _shortcut_branch(
        preact if shortcut == "projection" else x,
        shortcut=shortcut, out_channels=filters, stride=stride,
        use_bias=use_bias, batch_norm=False, name=name,
    )

    x = _conv3x3(preact, filters, stride=stride, use_bias=use_bias, name=f"{name}_1")
    x = _batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = _conv3x3(x, filters, stride=1, use_bias=use_bias, name=f"{name}_2")
    return layers.Add(name=f"{name}_out")([residual, x])


@dataclasses.dataclass(frozen=True)
class BlockFamily:
    """The stacking rules of one kind of block.

    Attributes:
        block: The block function.
        expansion: Output width of a block divided by `Stage.filters`.
        stride_in_last_block: If True the stage's stride is applied by its
            last block (keras.applications' ResNet V2), otherwise by its
            first.
        subsample_identity: If True, a strided block that keeps its width
            keeps an identity shortcut subsampled by a 1x1 max pooling
            (keras.applications' ResNet V2). Otherwise such a block gets
            the row's shortcut like any block that changes shape.
        preact: Whether the blocks are pre-activation blocks, which end on
            their Add and so cannot drop the shortcut.
        grouped: Whether the block function takes a `groups` argument.
    """

    block: Callable
    expansion: int
    stride_in_last_block: bool = False
    subsample_identity: bool = False
    preact: bool = False
    grouped: bool = False


FAMILIES = {
    "bottleneck": BlockFamily(
        block=bottleneck_block, expansion=_BOTTLENECK_EXPANSION
    ),
    "preact_bottleneck": BlockFamily(
        block=preact_bottleneck_block,
        expansion=_BOTTLENECK_EXPANSION,
        stride_in_last_block=True,
        subsample_identity=True,
        preact=True,
    ),
    "basic": BlockFamily(block=basic_block, expansion=_BASIC_EXPANSION),
    "preact_basic": BlockFamily(
        block=preact_basic_block, expansion=_BASIC_EXPANSION, preact=True
    ),
    "grouped_bottleneck": BlockFamily(
        block=grouped_bottleneck_block,
        expansion=_GROUPED_BOTTLENECK_EXPANSION,
        grouped=True,
    ),
}


def _block_shortcut(*, in_channels, out_channels, stride, family, shortcut, residual):
    """Choose the shortcut of one block from the shape change it makes."""
    if not residual:
        return None
    if in_channels != out_channels:
        return shortcut
    if stride != 1 and not family.subsample_identity:
        return shortcut
    return "identity"


def stack_stage(x, stage, *, family, use_bias, shortcut="projection", residual=True, groups=1):
    """Apply the blocks of one stage.

    A block whose output shape differs from its input shape gets the
    `shortcut` kind; the other blocks get the identity. In every bottleneck
    model that makes the first block of each stage a projection, as in
    keras.applications (whose layout the official weights follow), which
    projects even in the stride-1 first stage because the width grows from
    64 to 256.

    Args:
        x: Input tensor.
        stage: A `keras_resnets.architectures.Stage`.
        family: A `BlockFamily`.
        use_bias: Passed to every block.
        shortcut: `"projection"` or `"zero_pad"`, for the blocks that change
            the shape.
        residual: If False, no block has a shortcut (a plain network).
        groups: Groups of the grouped convolutions; only for families with
            `grouped=True`.

    Returns:
        Output tensor.
    """
    out_channels = family.expansion * stage.filters
    extra_arguments = {"groups": groups} if family.grouped else {}
    stride_block = stage.blocks if family.stride_in_last_block else 1
    for index in range(1, stage.blocks + 1):
        stride = stage.stride if index == stride_block else 1
        block_shortcut = _block_shortcut(
            in_channels=x.shape[batch_norm_axis()],
            out_channels=out_channels,
            stride=stride,
            family=family,
            shortcut=shortcut,
            residual=residual,
        )
        x = family.block(
            x,
            filters=stage.filters,
            stride=stride,
            shortcut=block_shortcut,
            use_bias=use_bias,
            name=f"{stage.name}_block{index}",
            **extra_arguments,
        )
    return x
