"""Model statistics: parameters, depth and operation counts.

Operation counts are exact multiply-adds (MACs) computed from layer shapes:
a convolution or Dense layer performs one multiply-add per kernel weight per
output position. FLOPs are reported as 2 x MACs (one multiply and one add).

The ResNet paper (He et al., 2016, arXiv:1512.03385, table 1) calls
multiply-adds "FLOPs": its 3.8 x 10^9 for ResNet50 is a MAC count and
compares with `count_multiply_adds`, not with `count_flops`.

Only convolutions and Dense layers are counted. Bias additions,
normalization, activations, pooling and residual additions are left out,
as in the paper's table; they add about 1% to a ResNet's count.
"""

import dataclasses
from typing import Optional, Tuple

import keras
import numpy as np

from keras_resnets import _folding

__all__ = [
    "ModelSummary",
    "count_flops",
    "count_multiply_adds",
    "format_summary",
    "summarize",
    "summarize_architecture",
    "weighted_depth",
]

_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_DEPTHWISE_CONVOLUTIONS = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_SEPARABLE_CONVOLUTIONS = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
# Layers with a kernel: the layers whose multiply-adds are counted and that
# make up the depth of a network ("ResNet50" has 50 of them on its longest
# path).
_KERNEL_LAYERS = (
    _CONVOLUTIONS + _DEPTHWISE_CONVOLUTIONS + _SEPARABLE_CONVOLUTIONS + (keras.layers.Dense,)
)
# Layers with weights but without multiply-adds worth counting: per-element
# scale and shift, or a table lookup.
_UNCOUNTED_WEIGHTED_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.Embedding,
)


def _check_model(model, function_name):
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`{function_name}` needs a keras.Model. Received: model of type "
            f"{type(model).__name__}"
        )
    if not (isinstance(model, keras.Sequential) or isinstance(model, keras.Function)):
        raise TypeError(
            f"`{function_name}` reads layer shapes from the model graph, so it "
            "needs a Functional or Sequential model, not a subclassed one. "
            f"Received: model {model.name!r} of type {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            f"`{function_name}` needs a built model. Build it with a known "
            f"input shape first. Received: unbuilt model {model.name!r}"
        )


def _layer_calls(model):
    """Yield `(layer, input shapes, input layer names)` for every call of every layer.

    Functional models list each call of a layer as an inbound node in their
    config, with the shape of every input tensor. Sequential models call
    each layer once, on the output of the previous one.
    """
    if isinstance(model, keras.Sequential):
        shape = tuple(model.inputs[0].shape)
        previous = []
        for layer in model.layers:
            yield layer, [shape], previous
            shape = tuple(layer.compute_output_shape(shape))
            previous = [layer.name]
        return

    for entry in model.get_config()["layers"]:
        layer = model.get_layer(entry["name"])
        for node in entry["inbound_nodes"]:
            tensors = list(_folding._serialized_tensors(node))
            yield (
                layer,
                [tuple(tensor["shape"]) for tensor in tensors],
                [tensor["keras_history"][0] for tensor in tensors],
            )


def _output_layer_names(model):
    """Return the names of the layers whose outputs are the model's outputs."""
    if isinstance(model, keras.Sequential):
        return [model.layers[-1].name]
    references = model.get_config()["output_layers"]
    # A model with a single output may store one reference instead of a list.
    if references and isinstance(references[0], str):
        references = [references]
    return [reference[0] for reference in references]


def _layer_multiply_adds(layer, input_shape):
    """Return the multiply-adds of one call of a kernel layer on one example."""
    if any(size is None for size in input_shape[1:]):
        raise ValueError(
            "Counting operations needs fully known input shapes, but layer "
            f"{layer.name!r} gets an input of shape {input_shape}. Build the "
            "model with a fixed `input_shape`, for example (224, 224, 3)."
        )
    output_shape = tuple(layer.compute_output_shape(input_shape))
    output_elements = int(np.prod(output_shape[1:]))
    if isinstance(layer, keras.layers.Dense):
        return output_elements * input_shape[-1]

    window = int(np.prod(layer.kernel_size))
    channel_axis = 1 if layer.data_format == "channels_first" else -1
    input_channels = input_shape[channel_axis]
    if isinstance(layer, _DEPTHWISE_CONVOLUTIONS):
        return output_elements * window
    if isinstance(layer, _SEPARABLE_CONVOLUTIONS):
        # A depthwise pass at the output resolution, then a 1x1 convolution.
        positions = output_elements // layer.filters
        depthwise = positions * input_channels * layer.depth_multiplier * window
        pointwise = output_elements * input_channels * layer.depth_multiplier
        return depthwise + pointwise
    return output_elements * window * (input_channels // layer.groups)


def count_multiply_adds(model):
    """Count the multiply-adds (MACs) of one example through `model`.

    Every call of a convolution (Conv1D/2D/3D including grouped ones,
    DepthwiseConv1D/2D, SeparableConv1D/2D) or Dense layer is counted at the
    shape of that call; nested models are counted at the shape they were
    built with.

    Args:
        model: a built Functional or Sequential `keras.Model` whose input
            shape is fully known apart from the batch axis.

    Returns:
        The multiply-adds per example, as an int.

    Raises:
        TypeError: if `model` is not a Functional or Sequential `keras.Model`.
        ValueError: if a counted layer's input shape is not fully known, or
            the model contains a layer with weights whose operations this
            function cannot count (such as a transposed convolution).
    """
    _check_model(model, "count_multiply_adds")
    total = 0
    for layer, input_shapes, _ in _layer_calls(model):
        if isinstance(layer, keras.Model):
            # NOTE: a nested model is counted at the input shape it was built
            # with, which differs from the call's shape only when it was
            # built with unknown (None) height and width.
            total += count_multiply_adds(layer)
        elif isinstance(layer, _KERNEL_LAYERS):
            total += _layer_multiply_adds(layer, input_shapes[0])
        elif layer.weights and not isinstance(layer, _UNCOUNTED_WEIGHTED_LAYERS):
            raise ValueError(
                f"Cannot count the operations of layer {layer.name!r} of type "
                f"{type(layer).__name__}: only convolutions, Dense layers and "
                "layers without multiply-adds (normalization, embedding, "
                "activation, pooling, ...) are supported."
            )
    return total


def count_flops(model):
    """Count the floating-point operations of one example through `model`, as 2 x MACs.

    One multiply-add is 2 FLOPs. Note that the ResNet paper's "FLOPs" are
    multiply-adds, so compare its numbers with `count_multiply_adds`.

    Args:
        model: as in `count_multiply_adds`.

    Returns:
        The FLOPs per example, as an int.

    Raises:
        TypeError, ValueError: as in `count_multiply_adds`.
    """
    _check_model(model, "count_flops")
    return 2 * count_multiply_adds(model)


def weighted_depth(model):
    """Count the convolution and Dense layers on the longest input-to-output path.

    This is the depth in a ResNet's name: ResNet50 has 49 convolutions and
    the classifier on its longest path. Projection shortcuts are not on it.
    A nested model adds its own weighted depth.

    Args:
        model: a built Functional or Sequential `keras.Model`.

    Returns:
        The depth, as an int.

    Raises:
        TypeError: if `model` is not a Functional or Sequential `keras.Model`.
    """
    _check_model(model, "weighted_depth")
    depth_after = {}
    for layer, _, input_layers in _layer_calls(model):
        if isinstance(layer, keras.Model):
            own = weighted_depth(layer)
        else:
            own = 1 if isinstance(layer, _KERNEL_LAYERS) else 0
        before = max((depth_after.get(name, 0) for name in input_layers), default=0)
        depth_after[layer.name] = max(depth_after.get(layer.name, 0), before + own)
    output_layers = _output_layer_names(model)
    return max(depth_after.get(name, 0) for name in output_layers)


@dataclasses.dataclass(frozen=True)
class ModelSummary:
    """Statistics of one model.

    Attributes:
        name: model name.
        total_params: number of scalars in all weights.
        trainable_params: number of scalars in trainable weights.
        non_trainable_params: number of scalars in non-trainable weights,
            such as BatchNormalization moving statistics.
        layers: number of layers in `model.layers`, the input layer included.
        depth: convolutions and Dense layers on the longest path
            (`weighted_depth`).
        multiply_adds: multiply-adds per example (`count_multiply_adds`).
        flops: 2 x `multiply_adds`.
        input_shape: input shape without the batch axis.
        output_shape: output shape without the batch axis.
        preprocessing: the `preprocess_input` mode the weights expect, or
            None if unknown.
        weight_files: names of the registered ImageNet weight files.
    """

    name: str
    total_params: int
    trainable_params: int
    non_trainable_params: int
    layers: int
    depth: int
    multiply_adds: int
    flops: int
    input_shape: Tuple[Optional[int], ...]
    output_shape: Tuple[Optional[int], ...]
    preprocessing: Optional[str] = None
    weight_files: Tuple[str, ...] = ()

    def to_dict(self):
        """Return the fields as a dict of JSON-serializable values."""
        values = dataclasses.asdict(self)
        values["input_shape"] = list(self.input_shape)
        values["output_shape"] = list(self.output_shape)
        values["weight_files"] = list(self.weight_files)
        return values


def _count_params(weights):
    return int(sum(np.prod(weight.shape) for weight in weights))


def summarize(model, *, preprocessing=None, weight_files=()):
    """Collect the statistics of a built model.

    Args:
        model: a built Functional or Sequential `keras.Model` with one input
            and one output, whose input shape is fully known apart from the
            batch axis.
        preprocessing: the `preprocess_input` mode to report, or None.
        weight_files: weight file names to report.

    Returns:
        A `ModelSummary`.

    Raises:
        TypeError, ValueError: as in `count_multiply_adds`, or ValueError if
            the model has more than one input or output.
    """
    _check_model(model, "summarize")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            "`summarize` needs a model with one input and one output. "
            f"Received: model {model.name!r} with {len(model.inputs)} inputs "
            f"and {len(model.outputs)} outputs"
        )
    multiply_adds = count_multiply_adds(model)
    return ModelSummary(
        name=model.name,
        total_params=_count_params(model.weights),
        trainable_params=_count_params(model.trainable_weights),
        non_trainable_params=_count_params(model.non_trainable_weights),
        layers=len(model.layers),
        depth=weighted_depth(model),
        multiply_adds=multiply_adds,
        flops=2 * multiply_adds,
        input_shape=tuple(model.inputs[0].shape[1:]),
        output_shape=tuple(model.outputs[0].shape[1:]),
        preprocessing=preprocessing,
        weight_files=tuple(weight_files),
    )


def _registered_weight_files(architecture):
    if architecture.weights_key is None:
        return ()
    # Imported here: the weights module pulls in HDF5 and download code.
    from keras_resnets import weights

    return tuple(
        weights.imagenet_weights_file(architecture.weights_key, include_top=include_top).file_name
        for include_top in (True, False)
    )


def summarize_architecture(name):
    """Build an architecture of the table with random weights and summarize it.

    The model is built at the row's default input size and number of
    classes, with the classifier (`include_top=True`), so operation counts
    are those of one default-size image.

    Args:
        name: builder name (`"ResNet50"`) or model name (`"resnet50"`).

    Returns:
        A `ModelSummary` with the row's preprocessing mode and weight files.

    Raises:
        ValueError: if no row of the table has that name.
    """
    from keras_resnets.architectures import get_architecture
    from keras_resnets.builder import build_model

    architecture = get_architecture(name)
    model = build_model(architecture, weights=None, classes=architecture.default_classes)
    return summarize(
        model,
        preprocessing=architecture.preprocessing,
        weight_files=_registered_weight_files(architecture),
    )


def _shape_text(shape):
    return "(" + ", ".join("None" if size is None else str(size) for size in shape) + ")"


def format_summary(summary):
    """Return a `ModelSummary` as an aligned two-column text table."""
    rows = [
        ("model", summary.name),
        ("parameters", f"{summary.total_params:,}"),
        ("  trainable", f"{summary.trainable_params:,}"),
        ("  non-trainable", f"{summary.non_trainable_params:,}"),
        ("layers", str(summary.layers)),
        ("depth (conv + dense)", str(summary.depth)),
        ("multiply-adds", f"{summary.multiply_adds:,} ({summary.multiply_adds / 1e9:.2f} G)"),
        ("FLOPs (2 x MACs)", f"{summary.flops:,} ({summary.flops / 1e9:.2f} G)"),
        ("input shape", _shape_text(summary.input_shape)),
        ("output shape", _shape_text(summary.output_shape)),
        ("preprocessing", summary.preprocessing or "unknown"),
        ("weight files", ", ".join(summary.weight_files) or "none registered"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
