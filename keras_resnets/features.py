"""Multi-scale features: the output of each stage of a ResNet.

`feature_extractor(model)` returns a Functional model that maps images to a
dict `{stage name: feature map}`, and `stage_info(model)` returns the stride
and channel count of each stage. Both work on every model of this package
and on keras.applications' ResNets, because they find stages by the shared
layer-name scheme.

A stage is named after its layers' prefix: `"conv2"` to `"conv5"` for the
ImageNet models, `"conv2"` to `"conv4"` for the CIFAR ones. Its feature map
is the output of the layer `{stage}_block{last}_out`:

- in post-activation (V1, basic, ResNeXt, CIFAR) models, the ReLU after the
  last block's Add;
- in pre-activation (V2) models, the last block's Add itself, which is not
  normalized: V2 blocks normalize their input instead, and the model's
  final features pass through `post_bn` and `post_relu` after `conv5`.

In keras.applications' V2 layout a stage strides in its last block, so
`"conv2"` of ResNet50V2 has stride 8, not 4; `stage_info` reports the
strides that the model has.
"""

import dataclasses
import re
from typing import Optional

import keras

from keras_resnets import _folding

__all__ = ["StageInfo", "feature_extractor", "stage_info"]

_STAGE_OUTPUT = re.compile(r"^(?P<stage>conv(?P<number>\d+))_block(?P<block>\d+)_out$")

# Built-in layers that subsample by their `strides`.
_STRIDED_LAYERS = frozenset(
    {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D"}
)
# Built-in layers whose output has the sampling grid of their input.
_GRID_PRESERVING_LAYERS = frozenset(
    {
        "InputLayer",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "Normalization",
        "Rescaling",
        "ZeroPadding2D",
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "Identity",
    }
)


@dataclasses.dataclass(frozen=True)
class StageInfo:
    """The source layer, stride and width of one stage's feature map.

    Attributes:
        name: Stage name, e.g. `"conv3"`.
        layer_name: Name of the layer whose output is the feature map, e.g.
            `"conv3_block4_out"`.
        stride: Ratio of the model input's height (and width) to the
            feature map's, for inputs whose size is a multiple of the total
            stride. None when the model contains a layer before the stage
            whose effect on the resolution is not known (such as `Resizing`
            or a custom layer).
        channels: Number of channels of the feature map.
    """

    name: str
    layer_name: str
    stride: Optional[int]
    channels: int


def _stride_factor(layer_config):
    """Return how much a layer subsamples, or None if that is not known."""
    if not str(layer_config.get("module", "")).startswith("keras"):
        return None
    class_name = layer_config["class_name"]
    if class_name in _GRID_PRESERVING_LAYERS:
        return 1
    if class_name in _STRIDED_LAYERS:
        strides = layer_config["config"]["strides"]
        if isinstance(strides, int):
            return strides
        if len(set(strides)) == 1:
            return strides[0]
    return None


def _layer_strides(model):
    """Return the stride of each layer's (first) output, keyed by layer name.

    The stride is propagated through the serialized graph of
    `model.get_config()`, whose layers are in topological order, so no
    input of a particular size is needed. A Sequential config lists no
    inbound nodes: there each layer reads the output of the layer before.
    """
    node_strides = {}
    previous = None
    for layer_config in model.get_config()["layers"]:
        # Sequential configs keep the name only inside the layer's config.
        name = layer_config.get("name", layer_config["config"]["name"])
        factor = _stride_factor(layer_config)
        if "inbound_nodes" not in layer_config:
            sources = [previous] if previous is not None else []
            nodes = [sources] if sources else []
        else:
            nodes = [
                [tuple(tensor["keras_history"][:2]) for tensor in _folding._serialized_tensors(node)]
                for node in layer_config["inbound_nodes"]
            ]
        previous = (name, 0)

        if not nodes:
            node_strides[(name, 0)] = factor
            continue
        for node_index, sources in enumerate(nodes):
            inputs = {node_strides.get(source) for source in sources}
            if factor is None or None in inputs or len(inputs) != 1:
                node_strides[(name, node_index)] = None
            else:
                node_strides[(name, node_index)] = inputs.pop() * factor
    return {name: stride for (name, node), stride in node_strides.items() if node == 0}


def _channel_axis(model):
    for layer in model.layers:
        data_format = getattr(layer, "data_format", None)
        if data_format in ("channels_first", "channels_last"):
            return 1 if data_format == "channels_first" else -1
    raise ValueError(
        f"Model {model.name!r} has no layer with a `data_format` (such as "
        "Conv2D), so the channel axis of its features is not known. Pass a "
        "ResNet built by keras_resnets or keras.applications."
    )


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a Functional keras.Model, such as one built by "
            "keras_resnets.ResNet50. Received: model of type "
            f"{type(model).__name__}"
        )


def stage_info(model):
    """Describe the stages of a ResNet: feature layer, stride, channels.

    Args:
        model: A Functional `keras.Model` with layers named in the
            keras.applications scheme (`conv{n}_block{i}_out`): any model of
            this package or a keras.applications ResNet.

    Returns:
        A dict from stage name (`"conv2"`, ...) to `StageInfo`, in the order
        of the stages.

    Raises:
        TypeError: if `model` is not a `keras.Model`.
        ValueError: if the model has no layer named like a stage output.
    """
    _check_model(model)
    last_blocks = {}
    for layer in model.layers:
        match = _STAGE_OUTPUT.match(layer.name)
        if match is None:
            continue
        stage = match["stage"]
        number, block = int(match["number"]), int(match["block"])
        if stage not in last_blocks or block > last_blocks[stage][1]:
            last_blocks[stage] = (number, block)
    if not last_blocks:
        raise ValueError(
            f"Model {model.name!r} has no stage output layers (named like "
            "'conv2_block3_out'), so it has no ResNet stages to extract. "
            "Pass a ResNet built by keras_resnets or keras.applications."
        )

    strides = _layer_strides(model)
    channel_axis = _channel_axis(model)
    infos = {}
    for stage, (_, block) in sorted(last_blocks.items(), key=lambda item: item[1][0]):
        layer_name = f"{stage}_block{block}_out"
        infos[stage] = StageInfo(
            name=stage,
            layer_name=layer_name,
            stride=strides.get(layer_name),
            channels=model.get_layer(layer_name).output.shape[channel_axis],
        )
    return infos


def _check_stages(stages, infos, model_name):
    if isinstance(stages, str) or not isinstance(stages, (tuple, list)):
        raise TypeError(
            "`stages` must be None (every stage) or a tuple or list of stage "
            "names such as ('conv3', 'conv4'); for one stage pass "
            f"({stages!r},). Received: stages={stages!r}"
        )
    available = ", ".join(repr(name) for name in infos)
    if not stages:
        raise ValueError(
            "`stages` must name at least one stage. Available stages of "
            f"model {model_name!r}: {available}. Received: stages={stages!r}"
        )
    for stage in stages:
        if stage not in infos:
            raise ValueError(
                f"Unknown stage {stage!r}. Available stages of model "
                f"{model_name!r}: {available}. Received: stages={stages!r}"
            )
    if len(set(stages)) != len(stages):
        raise ValueError(
            "`stages` must not name a stage twice, because the outputs are a "
            f"dict keyed by stage name. Received: stages={stages!r}"
        )


def feature_extractor(model, stages=None):
    """Build a model that returns the feature map of each requested stage.

    The new model shares the layers, and so the variables, of `model`:
    training one trains the other, and no weight is copied. It has the
    inputs of `model` (the sources of its `input_tensor`, if it was built on
    one), so it accepts any input size that `model` accepts.

    Args:
        model: A Functional `keras.Model` with layers named in the
            keras.applications scheme: any model of this package or a
            keras.applications ResNet.
        stages: Tuple or list of stage names, such as `("conv3", "conv4",
            "conv5")`, or None for every stage of the model (`"conv2"` to
            `"conv5"` for ImageNet ResNets, `"conv2"` to `"conv4"` for the
            CIFAR ones). Default None.

    Returns:
        A Functional `keras.Model` named `"{model.name}_features"` whose
        output is a dict from stage name to feature map. `stage_info(model)`
        gives the stride and channel count of each stage.

    Raises:
        TypeError: if `model` is not a `keras.Model` or `stages` is not a
            tuple, a list or None.
        ValueError: for an unknown or repeated stage name, or a model without
            stages.
    """
    infos = stage_info(model)
    if stages is None:
        stages = tuple(infos)
    _check_stages(stages, infos, model.name)

    outputs = {stage: model.get_layer(infos[stage].layer_name).output for stage in stages}
    # `model.inputs`, not `model.input`: a Sequential model has only the former.
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, outputs, name=f"{model.name}_features")
