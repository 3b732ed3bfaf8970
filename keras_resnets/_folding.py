"""Rebuild a Functional model with BatchNormalization folded into convolutions.

An inference-mode BatchNormalization is an affine map per channel,
``y = gamma * (x - mean) / sqrt(variance + epsilon) + beta``. When its only
input is the output of a convolution (and nothing else reads that output), the
map can be moved into the convolution's kernel and bias, which removes one
pass over the activations per block.

Public Keras API relied on:

- ``model.get_config()``: the serialized graph (the same format as ``.keras``
  files). Its ``inbound_nodes`` entries name, for every layer call, the layers
  whose outputs it reads, which gives the consumers of each tensor.
- ``keras.models.clone_model(model, clone_function=..., call_function=...)``:
  walks the graph in topological order. ``clone_function`` makes the new
  layers and ``call_function`` lets a folded BatchNormalization pass its input
  through unchanged, so the folded layer drops out of the new graph.
"""

import collections
import dataclasses

import keras
import numpy as np

# Exact classes only: a subclass may change what `call` computes, and the
# transposed convolutions store their kernel as (..., filters, channels).
_FOLDABLE_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


@dataclasses.dataclass(frozen=True)
class _GraphSummary:
    """Facts about a Functional model's graph, keyed by layer name."""

    # (layer name, node index, tensor index) -> how many layer calls or model
    # outputs read that tensor.
    reader_counts: collections.Counter
    # BatchNormalization name -> name of the convolution it can fold into.
    foldable: dict
    # Names of layers whose output (after folding) is a model output.
    output_producers: frozenset
    # Names of the InputLayers, in the order of `model.inputs`.
    input_names: tuple


def _serialized_tensors(structure):
    """Yield the serialized KerasTensors found in a nested args/kwargs structure."""
    if isinstance(structure, dict):
        if structure.get("class_name") == "__keras_tensor__":
            yield structure["config"]
            return
        for value in structure.values():
            yield from _serialized_tensors(value)
    elif isinstance(structure, (list, tuple)):
        for value in structure:
            yield from _serialized_tensors(value)


def _layer_references(references):
    """Return serialized (layer name, node index, tensor index) entries as a list of tuples.

    A model with a single input or output stores one entry, not a list of them.
    """
    if references and isinstance(references[0], str):
        references = [references]
    return [tuple(reference) for reference in references]


def _normalized_axis(axis, rank):
    """Return `axis` as a non-negative int, or None when it is not a single axis."""
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            return None
        axis = axis[0]
    return axis % rank


def _channel_axis(convolution):
    """Return the channel axis of the convolution's output tensor."""
    rank = len(convolution.kernel_size) + 2
    return 1 if convolution.data_format == "channels_first" else rank - 1


def _can_fold(convolution, batch_normalization, node):
    """Return whether this BatchNormalization call may be folded into the convolution."""
    if type(convolution) not in _FOLDABLE_CONVOLUTIONS:
        return False
    if not isinstance(batch_normalization, keras.layers.BatchNormalization):
        return False
    # A fused activation sits between the convolution and the normalization.
    if convolution.get_config()["activation"] != "linear":
        return False
    # Quantized kernels are integers and cannot absorb a float scale.
    if convolution.dtype_policy.quantization_mode is not None:
        return False
    # A call pinned to training=True normalizes with batch statistics, which
    # are not known until run time.
    if node["kwargs"].get("training"):
        return False
    rank = len(convolution.kernel_size) + 2
    return _normalized_axis(batch_normalization.axis, rank) == _channel_axis(convolution)


def summarize_graph(model):
    """Find the BatchNormalization layers of `model` that can be folded.

    A BatchNormalization is foldable when it is called once, its input is the
    output of a convolution that is called once with no activation, nothing
    else reads that output, and it normalizes the convolution's channel axis.
    """
    config = model.get_config()
    layer_configs = {entry["name"]: entry for entry in config["layers"]}

    reader_counts = collections.Counter()
    for entry in config["layers"]:
        for node in entry["inbound_nodes"]:
            for tensor in _serialized_tensors(node):
                reader_counts[tuple(tensor["keras_history"])] += 1
    outputs = _layer_references(config["output_layers"])
    for reference in outputs:
        reader_counts[reference] += 1

    foldable = {}
    for entry in config["layers"]:
        if len(entry["inbound_nodes"]) != 1:
            continue
        node = entry["inbound_nodes"][0]
        tensors = list(_serialized_tensors(node))
        if len(tensors) != 1:
            continue
        source = tuple(tensors[0]["keras_history"])
        source_name = source[0]
        if len(layer_configs[source_name]["inbound_nodes"]) != 1:
            continue
        if reader_counts[source] != 1:
            continue
        if _can_fold(model.get_layer(source_name), model.get_layer(entry["name"]), node):
            foldable[entry["name"]] = source_name

    # After folding, a folded normalization's output comes from its convolution.
    output_producers = frozenset(foldable.get(name, name) for name, _, _ in outputs)
    input_names = tuple(name for name, _, _ in _layer_references(config["input_layers"]))
    return _GraphSummary(reader_counts, foldable, output_producers, input_names)


def folded_weights(convolution, batch_normalization):
    """Return the [kernel, bias] of `convolution` with `batch_normalization` folded in.

    The arithmetic runs in float64 and the result is cast back to the
    convolution's variable dtype, so folding adds no rounding of its own
    beyond that final cast.
    """
    kernel = np.asarray(keras.ops.convert_to_numpy(convolution.kernel), dtype=np.float64)
    filters = kernel.shape[-1]
    if convolution.use_bias:
        bias = np.asarray(keras.ops.convert_to_numpy(convolution.bias), dtype=np.float64)
    else:
        bias = np.zeros(filters)

    def to_numpy(variable, default):
        if variable is None:
            return np.full(filters, default, dtype=np.float64)
        return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64)

    gamma = to_numpy(batch_normalization.gamma, 1.0)
    beta = to_numpy(batch_normalization.beta, 0.0)
    mean = to_numpy(batch_normalization.moving_mean, 0.0)
    variance = to_numpy(batch_normalization.moving_variance, 1.0)

    scale = gamma / np.sqrt(variance + batch_normalization.epsilon)
    # The kernel's last axis is the output channel for Conv1D/2D/3D, so the
    # per-channel scale broadcasts over it.
    new_kernel = kernel * scale
    new_bias = beta + (bias - mean) * scale
    dtype = convolution.variable_dtype
    return [new_kernel.astype(dtype), new_bias.astype(dtype)]


def rebuild_folded(model, body_policy):
    """Return a new Functional model equal to `model` with foldable BatchNormalizations folded.

    Args:
        model: a built Functional `keras.Model`; it is not modified.
        body_policy: the dtype policy name for every floating-point layer
            except those that produce a model output, which compute in
            float32 so the model's outputs are float32.

    Returns:
        A new `keras.Model` with its own variables.
    """
    summary = summarize_graph(model)
    folded_convolutions = {conv: bn for bn, conv in summary.foldable.items()}

    new_layers = {}
    sources = {}

    def clone_layer(layer):
        # clone_model calls this once per call of a layer. A shared layer must
        # stay shared, so each source layer maps to one new layer.
        if id(layer) in new_layers:
            return new_layers[id(layer)]
        if layer.name in summary.foldable:
            # Never called: `call_layer` passes its input through instead.
            return layer
        config = layer.get_config()
        if layer.name in folded_convolutions:
            config["use_bias"] = True
        # A nested model keeps the dtype policies of its own layers.
        if _has_float_compute_dtype(layer) and not isinstance(layer, keras.Model):
            if layer.name in summary.output_producers:
                config["dtype"] = "float32"
            else:
                config["dtype"] = body_policy
        new_layer = layer.__class__.from_config(config)
        new_layers[id(layer)] = new_layer
        sources[id(new_layer)] = layer
        return new_layer

    def call_layer(layer, *args, **kwargs):
        if layer.name in summary.foldable and id(layer) not in sources:
            return args[0]
        outputs = layer(*args, **kwargs)
        # The call built the layer, so its variables now exist to be filled.
        source = sources[id(layer)]
        if layer.name in folded_convolutions:
            batch_normalization = model.get_layer(folded_convolutions[layer.name])
            layer.set_weights(folded_weights(source, batch_normalization))
        else:
            layer.set_weights(source.get_weights())
        return outputs

    # clone_model would name the new inputs after their tensors; passing
    # inputs named after the source InputLayers keeps every layer name.
    inputs = [
        keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=name)
        for tensor, name in zip(model.inputs, summary.input_names, strict=True)
    ]
    return keras.models.clone_model(
        model,
        input_tensors=keras.tree.pack_sequence_as(model.input, inputs),
        clone_function=clone_layer,
        call_function=call_layer,
    )


def _has_float_compute_dtype(layer):
    """Return whether the layer computes in a floating-point dtype."""
    return "float" in layer.dtype_policy.compute_dtype
