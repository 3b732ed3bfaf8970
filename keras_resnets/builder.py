"""The generic builder: input, stem, stages, head, weights.

Every public builder is a row of `keras_resnets.architectures` passed to
`build_model`. The layers made here (stem and head) follow the names and
creation order of keras.applications, like the blocks do.
"""

import keras
from keras import layers

from keras_resnets import blocks
from keras_resnets.validation import validate_build_arguments

__all__ = ["build_model", "make_builder", "STEMS"]


def _imagenet_stem(x, *, preact, use_bias):
    """Apply the 7x7/2 convolution and 3x3/2 max pooling of ImageNet ResNets.

    V2 applies no BatchNorm or ReLU here: the first block pre-activates its
    input.
    """
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(
            axis=blocks.batch_norm_axis(), epsilon=blocks.BN_EPSILON, name="conv1_bn"
        )(x)
        x = layers.Activation("relu", name="conv1_relu")(x)

    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


STEMS = {"imagenet": _imagenet_stem}


def _head(x, *, preact, include_top, pooling, classes, classifier_activation):
    if preact:
        # Pre-activation blocks end on an Add, so the last block's output
        # still needs its BatchNorm and ReLU.
        x = layers.BatchNormalization(
            axis=blocks.batch_norm_axis(), epsilon=blocks.BN_EPSILON, name="post_bn"
        )(x)
        x = layers.Activation("relu", name="post_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return layers.Dense(
            classes, activation=classifier_activation, name="predictions"
        )(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def _model_input(input_tensor, input_shape):
    """Return (tensor to build on, model inputs)."""
    if input_tensor is None:
        image_input = layers.Input(shape=input_shape)
        return image_input, image_input
    if keras.backend.is_keras_tensor(input_tensor):
        # The model starts at the sources of `input_tensor`, so layers
        # before it (preprocessing, augmentation) become part of the model.
        return input_tensor, keras.utils.get_source_inputs(input_tensor)
    # Keras 3 runs eagerly, so a backend tensor holds data rather than a
    # graph position: it fixes the shape and dtype of a new model input,
    # and the caller gets its output with `model(input_tensor)`.
    dtype = input_tensor.dtype if _is_float(input_tensor.dtype) else None
    image_input = layers.Input(shape=tuple(input_tensor.shape[1:]), dtype=dtype)
    return image_input, image_input


def _is_float(dtype):
    return keras.backend.standardize_dtype(dtype).startswith(("float", "bfloat"))


def _load_requested_weights(model, architecture, weights, include_top):
    # Imported here: the weights module pulls in HDF5 and download code
    # that a model built with weights=None never needs.
    from keras_resnets import weights as weights_lib

    if weights == "imagenet":
        entry = weights_lib.imagenet_weights_file(
            architecture.weights_key, include_top=include_top
        )
        weights = weights_lib.get_weights_file(entry)
    weights_lib.load_weights(model, weights)


def build_model(
    architecture,
    *,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """Build the Functional model of one row of the architecture table.

    Args:
        architecture: A `keras_resnets.architectures.Architecture`.
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation: As in the public builders.
        name: Model name; None for the row's default name.

    Returns:
        A `keras.Model` made only of built-in Keras layers.
    """
    if name is None:
        name = architecture.default_name
    spec = validate_build_arguments(
        architecture,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name,
    )

    x, inputs = _model_input(input_tensor, spec.input_shape)

    family = blocks.FAMILIES[architecture.block]
    x = STEMS[architecture.stem](
        x, preact=architecture.preact, use_bias=architecture.use_bias
    )

    for stage in architecture.stages:
        x = blocks.stack_stage(
            x, stage, family=family, use_bias=architecture.use_bias
        )

    outputs = _head(
        x,
        preact=architecture.preact,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )
    model = keras.Model(inputs, outputs, name=name)

    if spec.weights is not None:
        _load_requested_weights(model, architecture, spec.weights, include_top)
    return model


_BUILDER_DOC = """Instantiate the {builder} architecture{reference}.

{description}

Returns a plain Functional `keras.Model` made only of built-in Keras
layers, with the layer names of keras.applications, so it saves to
`.keras`, round-trips through `get_config`/`from_config` and exports to a
SavedModel without custom objects.

Preprocess inputs with `{preprocess}` (mode "{mode}"); the weights expect
that scaling.

Args:
    include_top: Whether to include the global average pooling and the
        fully connected classification layer. Default True.
    weights: None (random initialization), "imagenet" (the official Keras
        ImageNet weights, found or downloaded as described in
        `keras_resnets.weights`) or the path to a weights file (Keras 2.x
        HDF5, Keras 3 `.weights.h5` or `.keras`). Default {weights_default}.
    input_tensor: Optional Keras tensor (output of `keras.Input` or of a
        layer) or backend tensor to use as the image input. With a Keras
        tensor, the model's inputs are the sources of that tensor.
    input_shape: Optional shape tuple without the batch axis, such as
        `({size}, {size}, 3)` (or `(3, {size}, {size})` with channels_first).
        Height and width must be at least {min_size}. Only needed with
        `include_top=False` or without ImageNet weights.
    pooling: With `include_top=False`: None for the 4-D output of the last
        stage, "avg" for global average pooling, "max" for global max
        pooling. Default None.
    classes: Number of classes of the top layer. Must be {classes} with
        `weights="imagenet"` and `include_top=True`. Default {classes}.
    classifier_activation: Activation of the top layer: a name, a callable
        or None for logits. With `weights="imagenet"` and `include_top=True`
        only "softmax" and None are allowed. Default "softmax".
    name: Name of the model. Default "{name}".

Returns:
    A `keras.Model`.

Raises:
    TypeError: for an argument of the wrong type.
    ValueError: for an invalid argument value or combination, such as an
        unknown `pooling` or a weights file that does not exist.
    keras_resnets.weights.WeightsUnavailableError: if the ImageNet
        weights can be neither found nor downloaded.
"""


def make_builder(architecture, *, module, reference="", description=""):
    """Create the public builder function of one row of the table.

    The builder has keras.applications' signature; its defaults for
    `weights`, `classes` and `name` come from the row.

    Args:
        architecture: A `keras_resnets.architectures.Architecture`.
        module: The `__module__` of the public function.
        reference: Citation appended to the docstring's summary line.
        description: Paragraph on the architecture for the docstring.

    Returns:
        The builder function.
    """
    weights_default = "imagenet" if architecture.weights_key else None

    def builder(
        include_top=True,
        weights=weights_default,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=architecture.default_classes,
        classifier_activation="softmax",
        name=architecture.default_name,
    ):
        return build_model(
            architecture,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            name=name,
        )

    builder.__name__ = builder.__qualname__ = architecture.builder
    builder.__module__ = module
    builder.__doc__ = _BUILDER_DOC.format(
        builder=architecture.builder,
        reference=reference,
        description=description,
        preprocess=f"{module}.preprocess_input",
        mode=architecture.preprocessing,
        weights_default=repr(weights_default),
        size=architecture.default_size,
        min_size=architecture.min_size,
        classes=architecture.default_classes,
        name=architecture.default_name,
    )
    return builder
