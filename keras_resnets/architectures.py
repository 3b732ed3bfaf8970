"""The table of architectures: one record per public builder.

A public builder looks up its row here and hands it to
`keras_resnets.builder.build_model`, so depths, widths, strides and defaults
live in one place and the builders carry no numbers of their own.
"""

import dataclasses
from typing import Optional, Tuple

__all__ = ["Architecture", "Stage", "ARCHITECTURES", "get_architecture"]


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of residual blocks that share a width.

    Attributes:
        name: Prefix of every layer in the stage, e.g. `"conv3"`.
        filters: Width of the inner convolutions. A bottleneck block outputs
            `4 * filters` channels, a basic block `filters`.
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
        stem: Key of the stem in `keras_resnets.builder` (`"imagenet"`).
        use_bias: Whether convolutions followed by BatchNorm carry a bias.
            The Caffe-converted V1 weights have one; the torchvision
            layout does not.
        preprocessing: Mode of `imagenet_utils.preprocess_input` that the
            weights were trained with: `"caffe"`, `"tf"` or `"torch"`.
        weights_key: Key of the official weight files in
            `keras_resnets.weights`, or None where no official Keras
            weights exist.
        default_size: Default input height and width.
        min_size: Smallest input height and width the model accepts.
        default_classes: Default number of classes of the top layer.
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

    @property
    def preact(self):
        """Whether the blocks are pre-activation (ResNet V2) blocks."""
        return self.block.startswith("preact_")


def _imagenet_stages(depths, *, strides):
    widths = (64, 128, 256, 512)
    return tuple(
        Stage(name=f"conv{index + 2}", filters=width, blocks=depth, stride=stride)
        for index, (width, depth, stride) in enumerate(zip(widths, depths, strides))
    )


# V1 downsamples in the first block of stages 3-5. V2, as published with the
# official Keras weights, downsamples in the last block of stages 2-4 instead;
# both reach the same total stride of 32.
_V1_STRIDES = (1, 2, 2, 2)
_V2_STRIDES = (2, 2, 2, 1)

_ROWS = (
    Architecture(
        builder="ResNet50",
        default_name="resnet50",
        block="bottleneck",
        stages=_imagenet_stages((3, 4, 6, 3), strides=_V1_STRIDES),
        preprocessing="caffe",
        weights_key="resnet50",
    ),
    Architecture(
        builder="ResNet101",
        default_name="resnet101",
        block="bottleneck",
        stages=_imagenet_stages((3, 4, 23, 3), strides=_V1_STRIDES),
        preprocessing="caffe",
        weights_key="resnet101",
    ),
    Architecture(
        builder="ResNet152",
        default_name="resnet152",
        block="bottleneck",
        stages=_imagenet_stages((3, 8, 36, 3), strides=_V1_STRIDES),
        preprocessing="caffe",
        weights_key="resnet152",
    ),
    Architecture(
        builder="ResNet50V2",
        default_name="resnet50v2",
        block="preact_bottleneck",
        stages=_imagenet_stages((3, 4, 6, 3), strides=_V2_STRIDES),
        preprocessing="tf",
        weights_key="resnet50v2",
    ),
    Architecture(
        builder="ResNet101V2",
        default_name="resnet101v2",
        block="preact_bottleneck",
        stages=_imagenet_stages((3, 4, 23, 3), strides=_V2_STRIDES),
        preprocessing="tf",
        weights_key="resnet101v2",
    ),
    Architecture(
        builder="ResNet152V2",
        default_name="resnet152v2",
        block="preact_bottleneck",
        stages=_imagenet_stages((3, 8, 36, 3), strides=_V2_STRIDES),
        preprocessing="tf",
        weights_key="resnet152v2",
    ),
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
