"""The generic builder: input, stem, stages, head, weights.

Every public builder is a row of `keras_resnets.architectures` passed to
`build_model`. The layers made here (stem and head) follow the names and
creation order of keras.applications, like the blocks do.

The architecture options of a row (`shortcut`, `residual`) are extra
keyword arguments of its builder. `build_model` rejects, with a TypeError,
an option that the row does not list, so `ResNet50(residual=False)` fails
instead of silently building a ResNet.
"""

import inspect

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


def _cifar_stem(x, *, preact, use_bias):
    """Apply the 3x3 convolution with 16 filters of the CIFAR-10 ResNets.

    The ResNet paper's CIFAR networks keep the full 32x32 resolution here:
    no stride and no pooling.
    """
    x = layers.Conv2D(16, 3, padding="same", use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(
            axis=blocks.batch_norm_axis(), epsilon=blocks.BN_EPSILON, name="conv1_bn"
        )(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    return x


STEMS = {"imagenet": _imagenet_stem, "cifar": _cifar_stem}


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
    # Keras 3 runs eagerly, so a backend tensor contains data, not a place in
    # a graph. It fixes the shape and dtype of a new model input, and the
    # caller gets its output with `model(input_tensor)`.
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


def _resolve_options(architecture, options):
    """Check the architecture options of a builder call and fill in defaults.

    Returns:
        The `shortcut` and `residual` keyword arguments of
        `blocks.stack_stage`, as a dict.

    Raises:
        TypeError: for an option the row does not accept, or a value of the
            wrong type.
        ValueError: for an unknown shortcut, or a shortcut given with
            `residual=False`.
    """
    for option, value in options.items():
        if option not in architecture.options:
            accepted = ", ".join(f"`{name}`" for name in architecture.options)
            raise TypeError(
                f"{architecture.builder}() got an unexpected keyword argument "
                f"{option!r}. Its architecture options are: {accepted or 'none'}. "
                f"Remove the argument. Received: {option}={value!r}"
            )

    residual = options.get("residual", True)
    if not isinstance(residual, bool):
        raise TypeError(
            "`residual` must be True (residual blocks) or False (the plain "
            f"network without shortcuts). Received: residual={residual!r}"
        )
    shortcut = options.get("shortcut", architecture.shortcut)
    if not isinstance(shortcut, str):
        raise TypeError(
            f"`shortcut` must be one of {blocks.SHORTCUTS}. Received: "
            f"shortcut={shortcut!r} of type {type(shortcut).__name__}"
        )
    if shortcut not in blocks.SHORTCUTS:
        raise ValueError(
            "`shortcut` must be 'projection' (1x1 convolution and BatchNorm "
            "where the shape changes) or 'zero_pad' (subsampled identity "
            f"padded with zero channels). Received: shortcut={shortcut!r}"
        )
    if not residual and "shortcut" in options:
        raise ValueError(
            "`shortcut` only applies to residual blocks, but residual=False "
            "builds a network without shortcuts. Pass one of them, not both. "
            f"Received: shortcut={shortcut!r}, residual=False"
        )
    return {"shortcut": shortcut, "residual": residual}


def build_model(
    architecture,
    *,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=None,
    classifier_activation="softmax",
    name=None,
    **options,
):
    """Build the Functional model of one row of the architecture table.

    Args:
        architecture: A `keras_resnets.architectures.Architecture`.
        include_top, weights, input_tensor, input_shape, pooling,
        classifier_activation: As in the public builders.
        classes: Number of classes; None for the row's default.
        name: Model name; None for the row's default name (its plain name
            with `residual=False`).
        **options: The architecture options that the row lists
            (`shortcut`, `residual`).

    Returns:
        A `keras.Model` made only of built-in Keras layers.
    """
    stage_options = _resolve_options(architecture, options)
    if classes is None:
        classes = architecture.default_classes
    if name is None:
        if stage_options["residual"]:
            name = architecture.default_name
        else:
            name = architecture.plain_name
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
    resnet_input = x

    family = blocks.FAMILIES[architecture.block]
    x = STEMS[architecture.stem](
        x, preact=architecture.preact, use_bias=architecture.use_bias
    )

    for stage in architecture.stages:
        x = blocks.stack_stage(
            x,
            stage,
            family=family,
            use_bias=architecture.use_bias,
            groups=architecture.groups,
            **stage_options,
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
        _load_into_model(
            model,
            resnet_input=resnet_input,
            outputs=outputs,
            architecture=architecture,
            weights=spec.weights,
            include_top=include_top,
        )
    return model


def _load_into_model(model, *, resnet_input, outputs, architecture, weights, include_top):
    """Load weights, skipping layers that come before `input_tensor`.

    Layers before `input_tensor` (an adapter, augmentation) are not in the
    official files, so those load into the ResNet part, which shares its
    layers with `model`. A file of one's own may contain the whole model, so
    a path is tried on the whole model first. Both loads check the entire
    file before assigning anything.
    """
    if model.inputs[0] is resnet_input:
        _load_requested_weights(model, architecture, weights, include_top)
        return

    from keras_resnets.weights import WeightsMismatchError

    resnet_part = keras.Model(resnet_input, outputs)
    if weights == "imagenet":
        _load_requested_weights(resnet_part, architecture, weights, include_top)
        return
    try:
        _load_requested_weights(model, architecture, weights, include_top)
    except WeightsMismatchError as whole_model_error:
        try:
            _load_requested_weights(resnet_part, architecture, weights, include_top)
        except WeightsMismatchError:
            raise whole_model_error from None


_BUILDER_DOC = """Instantiate the {builder} architecture{reference}.

{description}

Returns a plain Functional `keras.Model` made only of built-in Keras
layers, with layer names in the scheme of keras.applications
(`conv{{stage}}_block{{i}}_{{unit}}_{{conv,bn,relu}}`), so it saves to
`.keras`, round-trips through `get_config`/`from_config` and exports to a
SavedModel without custom objects.

{preprocessing}

Args:
    include_top: Whether to include the global average pooling and the
        fully connected classification layer. Default True.
    weights: {weights_doc}
    input_tensor: Optional Keras tensor (output of `keras.Input` or of a
        layer) or backend tensor to use as the image input. With a Keras
        tensor, the model's inputs are the sources of that tensor, and
        the ImageNet weights load into the layers after it only.
    input_shape: Optional shape tuple without the batch axis, such as
        `({size}, {size}, 3)` (or `(3, {size}, {size})` with channels_first).
        Height and width must be at least {min_size}. Without it, the shape
        is `({size}, {size}, 3)` with `include_top=True` and
        `(None, None, 3)` (any size) otherwise.
    pooling: With `include_top=False`: None for the 4-D output of the last
        stage, "avg" for global average pooling, "max" for global max
        pooling. Default None.
    classes: {classes_doc}
    classifier_activation: Activation of the top layer: a name, a callable
        or None for logits.{activation_doc} Default "softmax".
    name: {name_doc}{options_doc}

Returns:
    A `keras.Model`.

Raises:
    TypeError: for an argument of the wrong type or an unknown keyword
        argument.
    ValueError: for an invalid argument value or combination, such as an
        unknown `pooling` or a weights file that does not exist.{raises_doc}
"""

_OFFICIAL_WEIGHTS_DOCS = {
    "preprocessing": (
        'Preprocess inputs with `{preprocess}` (mode "{mode}");\n'
        "the weights expect that scaling."
    ),
    "weights_doc": (
        'None (random initialization), "imagenet" (the official Keras\n'
        "        ImageNet weights, found or downloaded as described in\n"
        "        `keras_resnets.weights`) or the path to a weights file (Keras 2.x\n"
        "        HDF5, Keras 3 `.weights.h5` or `.keras`). Default \"imagenet\"."
    ),
    "classes_doc": (
        "Number of classes of the top layer. Must be {classes} with\n"
        '        `weights="imagenet"` and `include_top=True`. Default {classes}.'
    ),
    "activation_doc": (
        ' With `weights="imagenet"` and\n'
        '        `include_top=True` only "softmax" and None are allowed.'
    ),
    "raises_doc": (
        "\n    keras_resnets.weights.WeightsUnavailableError: if the ImageNet\n"
        "        weights can be neither found nor downloaded."
    ),
}

_NO_OFFICIAL_WEIGHTS_DOCS = {
    "preprocessing": (
        'No official weights fix an input scaling for this model; `{preprocess}`\n'
        '(mode "{mode}") is the recommended one.'
    ),
    "weights_doc": (
        "None (random initialization) or the path to a weights file (Keras\n"
        "        2.x HDF5, Keras 3 `.weights.h5` or `.keras`). No official Keras\n"
        '        ImageNet weights exist for {builder}, so "imagenet" raises a\n'
        "        ValueError. Default None."
    ),
    "classes_doc": "Number of classes of the top layer. Default {classes}.",
    "activation_doc": "",
    "raises_doc": "",
}

_OPTION_DOCS = {
    "shortcut": (
        "\n    shortcut: Shortcut of the blocks that change shape: \"projection\"\n"
        "        (1x1 convolution and BatchNorm, option B of the ResNet paper) or\n"
        '        "zero_pad" (the input subsampled and padded with zero channels,\n'
        '        no weights; option A). Default "{shortcut}".'
    ),
    "residual": (
        "\n    residual: If False, build the plain counterpart: the same\n"
        "        convolutions without shortcuts or Add layers, as in the ResNet\n"
        "        paper's experiments on the degradation of deep plain networks.\n"
        "        Default True."
    ),
}


def _format_docstring(architecture, *, module, reference, description):
    row_docs = _OFFICIAL_WEIGHTS_DOCS if architecture.weights_key else _NO_OFFICIAL_WEIGHTS_DOCS
    values = {
        "builder": architecture.builder,
        "preprocess": f"{module}.preprocess_input",
        "mode": architecture.preprocessing,
        "classes": architecture.default_classes,
        "shortcut": architecture.shortcut,
    }
    if "residual" in architecture.options:
        name_doc = (
            f'Name of the model. Default None, which means "{architecture.default_name}",\n'
            f'        or "{architecture.plain_name}" with `residual=False`.'
        )
    else:
        name_doc = f'Name of the model. Default "{architecture.default_name}".'
    options_doc = "".join(
        _OPTION_DOCS[option].format(**values) for option in architecture.options
    )
    return _BUILDER_DOC.format(
        builder=architecture.builder,
        reference=reference,
        description=description,
        size=architecture.default_size,
        min_size=architecture.min_size,
        name_doc=name_doc,
        options_doc=options_doc,
        **{key: text.format(**values) for key, text in row_docs.items()},
    )


def _option_default(architecture, option):
    return architecture.shortcut if option == "shortcut" else True


def make_builder(architecture, *, module, reference="", description=""):
    """Create the public builder function of one row of the table.

    The builder has keras.applications' signature; its defaults for
    `weights`, `classes` and `name` come from the row. A row's architecture
    options become keyword-only arguments after those, and the builder's
    `__signature__` lists them.

    Args:
        architecture: A `keras_resnets.architectures.Architecture`.
        module: The `__module__` of the public function.
        reference: Citation appended to the docstring's summary line.
        description: Paragraph on the architecture for the docstring.

    Returns:
        The builder function.
    """
    weights_default = "imagenet" if architecture.weights_key else None
    # The plain variant has a name of its own, so None stands for "the
    # default of the chosen variant" (see `build_model`).
    name_default = None if "residual" in architecture.options else architecture.default_name

    def builder(
        include_top=True,
        weights=weights_default,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=architecture.default_classes,
        classifier_activation="softmax",
        name=name_default,
        **options,
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
            **options,
        )

    parameters = [
        parameter
        for parameter in inspect.signature(builder).parameters.values()
        if parameter.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    parameters += [
        inspect.Parameter(
            option,
            inspect.Parameter.KEYWORD_ONLY,
            default=_option_default(architecture, option),
        )
        for option in architecture.options
    ]
    builder.__signature__ = inspect.Signature(parameters)
    builder.__name__ = builder.__qualname__ = architecture.builder
    builder.__module__ = module
    builder.__doc__ = _format_docstring(
        architecture, module=module, reference=reference, description=description
    )
    return builder
