"""Argument checks of the model builders and input-shape resolution.

Every check runs before the first layer is made, so a bad argument never
leaves a half-built model behind. Checks that keras.applications also makes
raise the same exception type (ValueError); the checks keras.applications
lacks raise ValueError for a bad value and TypeError for a bad type.
"""

import dataclasses
import os
import sys
import warnings
from typing import Optional, Tuple

import keras

__all__ = ["BuildSpec", "validate_build_arguments", "obtain_input_shape"]

_POOLING_CHOICES = (None, "avg", "max")
# Activations that keep the official ImageNet top layer meaningful: its
# logits were trained for a softmax.
_IMAGENET_ACTIVATIONS = (None, "softmax")


@dataclasses.dataclass(frozen=True)
class BuildSpec:
    """Arguments of a builder call after validation.

    Attributes:
        input_shape: Resolved input shape without the batch axis.
        weights: None, `"imagenet"` or a path string.
    """

    input_shape: Tuple[Optional[int], ...]
    weights: Optional[str]


def _caller_stacklevel():
    """Return the `warnings.warn` stacklevel of the first caller outside this package."""
    package_dir = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(
        os.path.abspath(frame.f_code.co_filename)
    ) == package_dir:
        frame = frame.f_back
        level += 1
    return level


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_weights(weights):
    if weights is None:
        return None
    # The type check comes first: `==` on an array compares elementwise.
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            "`weights` must be None (random initialization), 'imagenet' "
            "(pre-trained on ImageNet) or the path to a weights file as a "
            f"str or pathlib.Path. Received: weights={weights!r} of type "
            f"{type(weights).__name__}"
        )
    if weights == "imagenet":
        return weights
    path = os.fspath(weights)
    if not os.path.exists(path):
        raise ValueError(
            "`weights` must be None (random initialization), 'imagenet' "
            "(pre-trained on ImageNet) or the path to an existing weights "
            f"file, but no file exists at {path!r}. Check the path, or pass "
            f"weights=None for random initialization. Received: weights={weights!r}"
        )
    if os.path.isdir(path):
        raise ValueError(
            f"`weights` must be the path to a weights file, but {path!r} is a "
            "folder. Pass the path of the .h5, .weights.h5 or .keras file "
            f"inside it. Received: weights={weights!r}"
        )
    return path


def _check_classifier_activation(classifier_activation, *, include_top, weights):
    if classifier_activation is None or callable(classifier_activation):
        pass
    elif isinstance(classifier_activation, str):
        try:
            keras.activations.get(classifier_activation)
        except ValueError:
            raise ValueError(
                "`classifier_activation` must be None, a callable or the name "
                "of a Keras activation such as 'softmax' or 'sigmoid'. "
                f"Received: classifier_activation={classifier_activation!r}"
            ) from None
    else:
        raise TypeError(
            "`classifier_activation` must be None, a callable or the name of "
            "a Keras activation. Received: "
            f"classifier_activation={classifier_activation!r} of type "
            f"{type(classifier_activation).__name__}"
        )

    if not (include_top and weights == "imagenet"):
        return
    activation = keras.activations.get(classifier_activation)
    allowed = [keras.activations.get(name) for name in _IMAGENET_ACTIVATIONS]
    if activation not in allowed:
        raise ValueError(
            "Only None and 'softmax' are allowed for `classifier_activation` "
            "when loading the ImageNet weights with `include_top=True`, "
            "because the ImageNet top layer was trained for a softmax. Use "
            "one of them, or pass `include_top=False` and add your own head. "
            f"Received: classifier_activation={classifier_activation!r}"
        )


def _check_input_tensor(input_tensor):
    if input_tensor is None:
        return
    if not (keras.backend.is_keras_tensor(input_tensor) or keras.ops.is_tensor(input_tensor)):
        raise TypeError(
            "`input_tensor` must be a Keras tensor (such as the output of "
            "`keras.Input(shape=(224, 224, 3))` or of a layer) or a backend "
            "tensor. To feed data, build the model first and call it or its "
            "`predict` on the data. Received: "
            f"input_tensor of type {type(input_tensor).__name__}"
        )
    if len(input_tensor.shape) != 4:
        raise ValueError(
            "`input_tensor` must be a batch of images of rank 4 (batch, "
            "height, width, channels) or (batch, channels, height, width) for "
            f"channels_first. Received: input_tensor with shape {tuple(input_tensor.shape)}"
        )


def _check_input_shape_type(input_shape):
    if input_shape is None:
        return None
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(
            "`input_shape` must be a tuple of three integers such as "
            "(224, 224, 3), or None. Received: "
            f"input_shape={input_shape!r} of type {type(input_shape).__name__}"
        )
    for size in input_shape:
        if size is not None and not _is_integer(size):
            raise TypeError(
                "`input_shape` must contain integers (or None for a variable "
                f"height or width). Received: input_shape={input_shape!r}"
            )
        if _is_integer(size) and size <= 0:
            raise ValueError(
                "`input_shape` must contain positive sizes. Received: "
                f"input_shape={input_shape!r}"
            )
    return tuple(input_shape)


def _check_channels_known(shape, data_format, argument):
    if len(shape) != 3:
        return  # obtain_input_shape reports the wrong length.
    channels = shape[0] if data_format == "channels_first" else shape[-1]
    if channels is None:
        raise ValueError(
            f"The channel count of `{argument}` must be known, because the "
            "first convolution's kernel depends on it; only height and width "
            f"may be None. The image data format is {data_format}. Received: "
            f"{argument} with shape {tuple(shape)}"
        )


def _check_tensor_shape(input_tensor, architecture, weights, data_format):
    """Apply the channel and size checks of `input_shape` to `input_tensor`."""
    shape = tuple(input_tensor.shape[1:])
    _check_channels_known(shape, data_format, "input_tensor")
    channels_first = data_format == "channels_first"
    channels = shape[0] if channels_first else shape[-1]
    spatial = shape[1:] if channels_first else shape[:2]
    if weights == "imagenet" and channels != 3:
        raise ValueError(
            "The ImageNet weights need inputs with 3 channels. Map the "
            "input to 3 channels before `input_tensor` (for example with a "
            "1x1 Conv2D), or pass weights=None. Received: input_tensor with "
            f"shape {tuple(input_tensor.shape)}"
        )
    if weights != "imagenet" and channels not in (1, 3):
        warnings.warn(
            "This model usually expects 1 or 3 input channels, but "
            f"`input_tensor` has {channels} channels. Check that the data "
            f"format ({data_format}) matches the tensor's layout.",
            stacklevel=_caller_stacklevel(),
        )
    min_size = architecture.min_size
    if any(size is not None and size < min_size for size in spatial):
        raise ValueError(
            f"Input height and width must be at least {min_size}x{min_size}. "
            "Resize the images before `input_tensor`. Received: input_tensor "
            f"with shape {tuple(input_tensor.shape)}"
        )


def obtain_input_shape(
    input_shape,
    default_size,
    min_size,
    data_format,
    require_flatten,
    weights=None,
):
    """Resolve and check the input shape of a model.

    Args:
        input_shape: None for the default shape, or a tuple of three
            entries (height, width, channels) in the order of
            `data_format`. Height and width may be None.
        default_size: Default height and width.
        min_size: Smallest height and width accepted.
        data_format: `"channels_last"` or `"channels_first"`.
        require_flatten: True when the model has its classification top.
            With ImageNet weights the shape must then be the default one;
            in every case the shape must be fully known.
        weights: None, `"imagenet"` or a path. ImageNet weights need three
            input channels.

    Returns:
        The input shape as a tuple.

    Raises:
        ValueError: if the shape does not fit these rules.

    Warns:
        UserWarning: for a channel count other than 1 or 3 without
            ImageNet weights.
    """
    channels_first = data_format == "channels_first"
    channel_axis = 0 if channels_first else -1
    if channels_first:
        default_shape = (3, default_size, default_size)
    else:
        default_shape = (default_size, default_size, 3)

    if input_shape is not None and len(input_shape) != 3:
        example = "(3, 224, 224)" if channels_first else "(224, 224, 3)"
        raise ValueError(
            "`input_shape` must be a tuple of three integers (height, width, "
            f"channels in {data_format} order), such as {example}. "
            f"Received: input_shape={input_shape}"
        )

    if weights != "imagenet" and input_shape is not None:
        channels = input_shape[channel_axis]
        if channels not in (1, 3):
            warnings.warn(
                "This model usually expects 1 or 3 input channels, but "
                f"input_shape={input_shape} has {channels} channels. Check "
                f"that the data format ({data_format}) matches the order of "
                "`input_shape`.",
                stacklevel=_caller_stacklevel(),
            )
        if channels_first:
            default_shape = (channels, default_size, default_size)
        else:
            default_shape = (default_size, default_size, channels)

    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                "With `include_top=True` and `weights='imagenet'`, "
                f"`input_shape` must be {default_shape}, the shape the "
                "ImageNet top was trained on. Pass that shape, or pass "
                "`include_top=False` to use another input size. Received: "
                f"input_shape={input_shape}"
            )
        return default_shape

    if input_shape is None:
        if require_flatten:
            return default_shape
        return (3, None, None) if channels_first else (None, None, 3)

    input_shape = tuple(input_shape)
    if weights == "imagenet" and input_shape[channel_axis] != 3:
        raise ValueError(
            "The ImageNet weights need inputs with 3 channels. Pass a shape "
            "with 3 channels, or pass weights=None to train from scratch. "
            f"Received: input_shape={input_shape}"
        )
    spatial = input_shape[1:] if channels_first else input_shape[:2]
    if any(size is not None and size < min_size for size in spatial):
        order = "(channels, height, width)" if channels_first else "(height, width, channels)"
        raise ValueError(
            f"Input height and width must be at least {min_size}x{min_size}. "
            f"The image data format is {data_format}, so `input_shape` is "
            f"read as {order}. Resize the images, or pass a larger "
            f"`input_shape` in that order. Received: input_shape={input_shape}"
        )
    if require_flatten and None in input_shape:
        raise ValueError(
            "With `include_top=True` the input shape must be fully known. "
            "Pass a static `input_shape`, or pass `include_top=False`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def validate_build_arguments(
    architecture,
    *,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
):
    """Check every argument of a builder call.

    Args:
        architecture: The `keras_resnets.architectures.Architecture` row.
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: The builder's arguments.

    Returns:
        A `BuildSpec`.

    Raises:
        TypeError: for an argument of the wrong type.
        ValueError: for an argument of the right type and a wrong value.
    """
    if not isinstance(include_top, bool):
        raise TypeError(
            "`include_top` must be True (with the classification top) or "
            f"False (without it). Received: include_top={include_top!r}"
        )
    weights = _check_weights(weights)
    if weights == "imagenet" and architecture.weights_key is None:
        raise ValueError(
            f"No official Keras ImageNet weights exist for "
            f"{architecture.builder}. Pass weights=None to train from "
            "scratch, or the path to a weights file of your own. Received: "
            "weights='imagenet'"
        )
    if not _is_integer(classes):
        raise TypeError(
            "`classes` must be a positive integer, the number of classes of "
            f"the top layer. Received: classes={classes!r}"
        )
    if classes <= 0:
        raise ValueError(
            "`classes` must be a positive integer, the number of classes of "
            f"the top layer. Received: classes={classes}"
        )
    if weights == "imagenet" and include_top and classes != architecture.default_classes:
        raise ValueError(
            "With `weights='imagenet'` and `include_top=True`, `classes` must "
            f"be {architecture.default_classes}, the number of ImageNet "
            "classes. For another number of classes pass `include_top=False` "
            "and add your own top. Received: "
            f"classes={classes}"
        )
    if pooling not in _POOLING_CHOICES:
        raise ValueError(
            "`pooling` must be None (4-D feature map output), 'avg' (global "
            "average pooling) or 'max' (global max pooling). Received: "
            f"pooling={pooling!r}"
        )
    _check_classifier_activation(
        classifier_activation, include_top=include_top, weights=weights
    )
    _check_input_tensor(input_tensor)
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"`name` must be a non-empty string. Received: name={name!r}"
        )
    if "/" in name:
        # Keras uses "/" to separate the parts of variable paths.
        raise ValueError(
            "`name` must not contain '/'. Use another separator such as '_'. "
            f"Received: name={name!r}"
        )

    input_shape = _check_input_shape_type(input_shape)
    if input_tensor is not None and input_shape is not None:
        tensor_shape = tuple(input_tensor.shape[1:])
        conflict = len(tensor_shape) != len(input_shape) or any(
            given is not None and actual is not None and given != actual
            for given, actual in zip(input_shape, tensor_shape)
        )
        if conflict:
            raise ValueError(
                "`input_shape` does not match the shape of `input_tensor` "
                f"{tuple(input_tensor.shape)} (without its batch axis). Pass "
                "only `input_tensor`, or a matching `input_shape`. Received: "
                f"input_shape={input_shape}"
            )
    data_format = keras.config.image_data_format()
    if input_shape is not None:
        _check_channels_known(input_shape, data_format, "input_shape")
    if input_tensor is not None:
        _check_tensor_shape(input_tensor, architecture, weights, data_format)
    input_shape = obtain_input_shape(
        input_shape,
        default_size=architecture.default_size,
        min_size=architecture.min_size,
        data_format=data_format,
        require_flatten=include_top,
        weights=weights,
    )
    return BuildSpec(input_shape=input_shape, weights=weights)
