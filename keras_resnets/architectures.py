"""The table of architectures: one record per public builder.

A public builder looks up its row here and hands it to
`keras_resnets.builder.build_model`, so depths, widths, strides and defaults
live in one place and the builders carry no numbers of their own.

Variants of one network that share its weights layout are keyword options
of its builder, not rows of their own: a row lists the options it accepts
in `Architecture.options` (see `OPTIONS`), and any other builder rejects
them with a TypeError. The plain counterpart of ResNet-20 is
`ResNet20(residual=False)`, for example.
"""

import dataclasses
from typing import Optional, Tuple

__all__ = ["Architecture", "OPTIONS", "Stage", "ARCHITECTURES", "get_architecture"]

# Architecture options a row may accept as extra builder keywords:
# `shortcut` ("projection" or "zero_pad") for the blocks that change shape,
# `residual` (False for the plain network without shortcuts).
OPTIONS = ("shortcut", "residual")


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of residual blocks that share a width.

    Attributes:
        name: Prefix of every layer in the stage, e.g. `"conv3"`.
        filters: Width of the inner convolutions. A block outputs
            `BlockFamily.expansion * filters` channels: 4 times for a
            bottleneck block, 2 times for a grouped (ResNeXt) bottleneck
            and 1 time for a basic block.
        blocks: Number of blocks in the stage.
        stride: Spatial stride of the stage. The block family decides which
            block applies it (see `keras_resnets.blocks.BlockFamily`).
    """

    name: str
    filters: int
    blocks: int
    stride: int


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A row of the architecture table.

    Attributes:
        builder: Name of the public builder function, e.g. `"ResNet50"`.
        default_name: Default Keras model name, e.g. `"resnet50"`.
        block: Key of the block family in `keras_resnets.blocks.FAMILIES`.
        stages: The residual stages in order.
        stem: Key of the stem in `keras_resnets.builder.STEMS`:
            `"imagenet"` (7x7/2 convolution and 3x3/2 max pooling) or
            `"cifar"` (one 3x3 convolution with 16 filters).
        use_bias: Whether convolutions followed by BatchNorm carry a bias.
            The Caffe-converted V1 weights have one; the torchvision
            layout does not.
        preprocessing: Mode of `imagenet_utils.preprocess_input` that the
            weights were trained with (or, for rows without official
            weights, that the builder's module recommends): `"caffe"`,
            `"tf"` or `"torch"`.
        weights_key: Key of the official weight files in
            `keras_resnets.weights`, or None where no official Keras
            weights exist.
        default_size: Default input height and width.
        min_size: Smallest input height and width the model accepts.
        default_classes: Default number of classes of the top layer.
        groups: Groups of the grouped 3x3 convolutions (the cardinality of
            a ResNeXt); 1 for the other families.
        shortcut: Default shortcut of the blocks that change shape:
            `"projection"` (1x1 convolution) or `"zero_pad"` (no weights).
        options: Names from `OPTIONS` that the row's builder accepts as
            keyword arguments.
    """

    builder: str
    default_name: str
    block: str
    stages: Tuple[Stage, ...]
    stem: str = "imagenet"
    use_bias: bool = True
    preprocessing: str = "caffe"
    weights_key: Optional[str] = None
    default_size: int = 224
    min_size: int = 32
    default_classes: int = 1000
    groups: int = 1
    shortcut: str = "projection"
    options: Tuple[str, ...] = ()

    def __post_init__(self):
        unknown = [option for option in self.options if option not in OPTIONS]
        if unknown:
            raise ValueError(
                f"Row {self.builder} lists unknown options {unknown}. Known "
                f"options: {OPTIONS}. Received: options={self.options}"
            )
        if "residual" in self.options and self.preact:
            raise ValueError(
                f"Row {self.builder} cannot offer `residual`: pre-activation "
                "blocks end on their Add, so they have no plain form. "
                f"Received: block={self.block!r}, options={self.options}"
            )

    @property
    def preact(self):
        """Whether the blocks are pre-activation (ResNet V2) blocks."""
        return self.block.startswith("preact_")

    @property
    def plain_name(self):
        """Default model name of the plain variant, e.g. `"plain20"`."""
        return self.default_name.replace("resnet", "plain", 1)


def _imagenet_stages(depths, *, strides, widths=(64, 128, 256, 512)):
    return tuple(
        Stage(name=f"conv{index + 2}", filters=width, blocks=depth, stride=stride)
        for index, (width, depth, stride) in enumerate(zip(widths, depths, strides))
    )


def _cifar_stages(blocks_per_stage):
    # The ResNet paper's CIFAR-10 networks (section 4.2): three stages of
    # 16, 32 and 64 filters on 32x32, 16x16 and 8x8 feature maps.
    return tuple(
        Stage(name=f"conv{index + 2}", filters=width, blocks=blocks_per_stage, stride=stride)
        for index, (width, stride) in enumerate(zip((16, 32, 64), (1, 2, 2)))
    )


# Keras' V1 and every family added here downsample in the first block of
# stages 3-5. Keras' V2, as published with the official Keras weights,
# downsamples in the last block of stages 2-4 instead. Both reach a total
# stride of 32.
_FIRST_BLOCK_STRIDES = (1, 2, 2, 2)
_LAST_BLOCK_STRIDES = (2, 2, 2, 1)

# ResNeXt-50/101 (32x4d): 32 groups of 4 channels in the first stage,
# doubling per stage (Xie et al., 2017, table 1).
_RESNEXT_GROUPS = 32
_RESNEXT_WIDTHS = (128, 256, 512, 1024)

_KERAS_ROWS = (
    Architecture(
        builder="ResNet50",
        default_name="resnet50",
        block="bottleneck",
        stages=_imagenet_stages((3, 4, 6, 3), strides=_FIRST_BLOCK_STRIDES),
        preprocessing="caffe",
        weights_key="resnet50",
    ),
    Architecture(
        builder="ResNet101",
        default_name="resnet101",
        block="bottleneck",
        stages=_imagenet_stages((3, 4, 23, 3), strides=_FIRST_BLOCK_STRIDES),
        preprocessing="caffe",
        weights_key="resnet101",
    ),
    Architecture(
        builder="ResNet152",
        default_name="resnet152",
        block="bottleneck",
        stages=_imagenet_stages((3, 8, 36, 3), strides=_FIRST_BLOCK_STRIDES),
        preprocessing="caffe",
        weights_key="resnet152",
    ),
    Architecture(
        builder="ResNet50V2",
        default_name="resnet50v2",
        block="preact_bottleneck",
        stages=_imagenet_stages((3, 4, 6, 3), strides=_LAST_BLOCK_STRIDES),
        preprocessing="tf",
        weights_key="resnet50v2",
    ),
    Architecture(
        builder="ResNet101V2",
        default_name="resnet101v2",
        block="preact_bottleneck",
        stages=_imagenet_stages((3, 4, 23, 3), strides=_LAST_BLOCK_STRIDES),
        preprocessing="tf",
        weights_key="resnet101v2",
    ),
    Architecture(
        builder="ResNet152V2",
        default_name="resnet152v2",
        block="preact_bottleneck",
        stages=_imagenet_stages((3, 8, 36, 3), strides=_LAST_BLOCK_STRIDES),
        preprocessing="tf",
        weights_key="resnet152v2",
    ),
)


def _basic_row(depth, depths, *, preact=False):
    # torchvision's layout, without official Keras weights, so the "torch"
    # preprocessing of torchvision's ImageNet models is the recommendation.
    suffix = "V2" if preact else ""
    return Architecture(
        builder=f"ResNet{depth}{suffix}",
        default_name=f"resnet{depth}{suffix.lower()}",
        block="preact_basic" if preact else "basic",
        stages=_imagenet_stages(depths, strides=_FIRST_BLOCK_STRIDES),
        use_bias=False,
        preprocessing="torch",
        options=() if preact else ("shortcut", "residual"),
    )


def _resnext_row(depth, depths):
    # NOTE: keras.applications (3.x) lists hashes of ResNeXt weight files,
    # but those files come from keras-applications 1.0.8, which stored
    # each grouped convolution as a DepthwiseConv2D (depth multiplier 4)
    # followed by a summing layer. That kernel has another shape than the
    # kernel of Conv2D(groups=32), so the files do not load here and the
    # rows have no weights key.
    return Architecture(
        builder=f"ResNeXt{depth}",
        default_name=f"resnext{depth}",
        block="grouped_bottleneck",
        stages=_imagenet_stages(
            depths, strides=_FIRST_BLOCK_STRIDES, widths=_RESNEXT_WIDTHS
        ),
        use_bias=False,
        preprocessing="torch",
        groups=_RESNEXT_GROUPS,
    )


def _cifar_row(depth):
    # 6n + 2 layers: the stem, 3 stages of n two-layer blocks, the top.
    return Architecture(
        builder=f"ResNet{depth}",
        default_name=f"resnet{depth}",
        block="basic",
        stages=_cifar_stages((depth - 2) // 6),
        stem="cifar",
        use_bias=False,
        preprocessing="tf",
        default_size=32,
        min_size=8,
        default_classes=10,
        shortcut="zero_pad",
        options=("shortcut", "residual"),
    )


_ROWS = (
    *_KERAS_ROWS,
    _basic_row(18, (2, 2, 2, 2)),
    _basic_row(34, (3, 4, 6, 3)),
    _basic_row(18, (2, 2, 2, 2), preact=True),
    _basic_row(34, (3, 4, 6, 3), preact=True),
    _resnext_row(50, (3, 4, 6, 3)),
    _resnext_row(101, (3, 4, 23, 3)),
    *(_cifar_row(depth) for depth in (20, 32, 44, 56, 110)),
)

ARCHITECTURES = {row.builder: row for row in _ROWS}


def get_architecture(name):
    """Look up a row by builder name (`"ResNet50"`) or model name (`"resnet50"`).

    Raises:
        ValueError: if no row has that name.
    """
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    for row in _ROWS:
        if isinstance(name, str) and row.default_name == name.lower():
            return row
    known = ", ".join(row.default_name for row in _ROWS)
    raise ValueError(
        f"Unknown architecture {name!r}. Known architectures: {known}. "
        f"Received: name={name!r}"
    )
