"""ImageNet preprocessing and decoding, compatible with keras.applications.

Differences from `keras.applications.imagenet_utils`:

- `preprocess_input` never modifies the caller's array in place; it always
  returns a new array or tensor.
- Integer inputs (uint8 included), NumPy arrays and backend tensors alike,
  are converted to float before any arithmetic, so uint8 tensors give the
  same values as their float equivalent.
- The result has the float dtype of the active Keras dtype policy's
  variables (float32 by default, also under `mixed_float16` and
  `mixed_bfloat16`, whose first layer casts it), also for float64 input,
  which keras.applications returns as float64.
"""

import json
import numbers
import threading

import keras
import numpy as np

from keras_resnets.validation import obtain_input_shape

__all__ = ["preprocess_input", "decode_predictions", "obtain_input_shape"]

# Per-channel means of the ImageNet training set in BGR order, 0-255 scale,
# as used by the Caffe models that the V1 weights were converted from.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# Per-channel mean and standard deviation in RGB order, 0-1 scale, as used by
# torchvision's ImageNet models.
TORCH_MEAN_RGB = (0.485, 0.456, 0.406)
TORCH_STD_RGB = (0.229, 0.224, 0.225)

MODES = ("caffe", "tf", "torch")
IMAGENET_CLASSES = 1000

_class_index = None
_class_index_lock = threading.Lock()


def _resolve_data_format(data_format):
    if data_format is None:
        return keras.config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "`data_format` must be 'channels_last', 'channels_first' or None "
            "(the global image data format). Received: "
            f"data_format={data_format!r}"
        )
    return data_format


def _output_dtype():
    # Variables of mixed policies stay float32; preprocessing in bfloat16
    # would round 0-255 pixel values by up to 1.
    return keras.config.dtype_policy().variable_dtype


def _channel_axis(ndim, data_format):
    if data_format == "channels_last":
        return ndim - 1
    return 0 if ndim == 3 else 1


def _broadcast_shape(ndim, channel_axis):
    shape = [1] * ndim
    shape[channel_axis] = 3
    return shape


def _check_rank_and_channels(shape, data_format, mode):
    ndim = len(shape)
    if ndim not in (3, 4):
        raise ValueError(
            "`preprocess_input` expects one image of rank 3 or a batch of "
            f"rank 4. Received: input with shape {tuple(shape)}"
        )
    channel_axis = _channel_axis(ndim, data_format)
    if mode != "tf" and shape[channel_axis] not in (None, 3):
        raise ValueError(
            f"Mode {mode!r} needs 3 color channels on axis {channel_axis} "
            f"({data_format}), but that axis has {shape[channel_axis]}. "
            "Check `data_format`, or convert the images to RGB. Received: "
            f"input with shape {tuple(shape)}"
        )
    return channel_axis


def _check_numeric_dtype(dtype, received):
    # Booleans, integers and floats: the dtypes keras.applications accepts.
    dtype = keras.backend.standardize_dtype(dtype)
    if not dtype.startswith(("bool", "int", "uint", "float", "bfloat")):
        raise TypeError(
            "`preprocess_input` expects images as numbers (an integer or float "
            "array or tensor of RGB values in [0, 255]). Load or decode the "
            f"images first. Received: {received} of dtype {dtype}"
        )


def _preprocess_numpy(x, data_format, mode):
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            "`preprocess_input` expects images as numbers (an integer or float "
            "array or tensor of RGB values in [0, 255]). Load or decode the "
            f"images first. Received: {type(x).__name__} with dtype {array.dtype}"
        )
    # np.array copies: the caller's array is never written to.
    x = np.array(array, dtype=_output_dtype())
    channel_axis = _check_rank_and_channels(x.shape, data_format, mode)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        shape = _broadcast_shape(x.ndim, channel_axis)
        x /= 255.0
        x -= np.reshape(np.array(TORCH_MEAN_RGB, dtype=x.dtype), shape)
        x /= np.reshape(np.array(TORCH_STD_RGB, dtype=x.dtype), shape)
        return x
    x = np.flip(x, axis=channel_axis)
    x = x - np.reshape(
        np.array(CAFFE_MEAN_BGR, dtype=x.dtype), _broadcast_shape(x.ndim, channel_axis)
    )
    return x


def _preprocess_tensor(x, data_format, mode):
    ops = keras.ops
    _check_numeric_dtype(x.dtype, "a tensor")
    if x.shape is None or getattr(x.shape, "rank", 0) is None:
        raise ValueError(
            "`preprocess_input` needs the rank of the input tensor to be "
            "known (3 for one image, 4 for a batch). Give the tensor a static "
            "rank, for example with an `input_signature` of rank 4."
        )
    channel_axis = _check_rank_and_channels(tuple(x.shape), data_format, mode)
    ndim = len(x.shape)
    x = ops.cast(x, _output_dtype())
    if mode == "tf":
        return x / 127.5 - 1.0
    shape = _broadcast_shape(ndim, channel_axis)
    if mode == "torch":
        mean = ops.reshape(ops.convert_to_tensor(TORCH_MEAN_RGB, dtype=x.dtype), shape)
        std = ops.reshape(ops.convert_to_tensor(TORCH_STD_RGB, dtype=x.dtype), shape)
        return (x / 255.0 - mean) / std
    mean = ops.reshape(ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=x.dtype), shape)
    return ops.flip(x, axis=channel_axis) - mean


def preprocess_input(x, data_format=None, mode="caffe"):
    """Scale and normalize images the way a model's weights were trained.

    Modes:

    - `"caffe"`: converts RGB to BGR, then subtracts the ImageNet mean of
      each channel, without scaling (ResNet V1).
    - `"tf"`: scales pixels from [0, 255] to [-1, 1] (ResNet V2).
    - `"torch"`: scales pixels to [0, 1], then subtracts the ImageNet mean
      and divides by the standard deviation of each channel.

    Args:
        x: RGB images in [0, 255], one image of rank 3 or a batch of rank
            4: a NumPy array, a backend tensor or a symbolic Keras tensor
            (so it can be used inside a Functional model), of any integer
            or float dtype.
        data_format: `"channels_last"`, `"channels_first"`, or None for the
            global image data format.
        mode: `"caffe"`, `"tf"` or `"torch"`. Default `"caffe"`.

    Returns:
        A new array (for NumPy input) or tensor (otherwise) of the same
        shape, with the float dtype of the active dtype policy's variables
        (float32 by default). The input is never modified.

    Raises:
        TypeError: for input that is not numeric (strings, objects, None).
        ValueError: for an unknown `mode` or `data_format`, an input of rank
            other than 3 or 4, or (caffe and torch modes) a channel axis
            whose size is not 3.
    """
    if mode not in MODES:
        raise ValueError(
            "`mode` must be 'caffe' (ResNet V1), 'tf' (ResNet V2) or 'torch'. "
            f"Received: mode={mode!r}"
        )
    data_format = _resolve_data_format(data_format)
    if keras.backend.is_keras_tensor(x) or keras.ops.is_tensor(x):
        return _preprocess_tensor(x, data_format, mode)
    return _preprocess_numpy(x, data_format, mode)


def _load_class_index():
    global _class_index
    with _class_index_lock:
        if _class_index is None:
            # Imported here so that building a model never touches the
            # class index machinery.
            from keras_resnets import weights

            with open(weights.class_index_path(), encoding="utf-8") as file:
                index = json.load(file)
            _class_index = {
                int(key): (wnid, label) for key, (wnid, label) in index.items()
            }
        return _class_index


def decode_predictions(preds, top=5):
    """Turn ImageNet class scores into readable labels.

    The ImageNet class index is read once per process from the official
    file `imagenet_class_index.json`, found, verified and if needed
    downloaded like the weight files (see `keras_resnets.weights`).

    Args:
        preds: Scores of shape `(samples, 1000)`: a NumPy array or tensor.
        top: How many classes to return per sample. Default 5.

    Returns:
        One list per sample of `(wnid, class_name, score)` tuples, highest
        score first.

    Raises:
        TypeError: if `top` is not an integer.
        ValueError: if `preds` does not have shape `(samples, 1000)` or
            `top` is not positive.
    """
    if not isinstance(top, numbers.Integral) or isinstance(top, bool):
        raise TypeError(
            "`top` must be a positive integer, the number of classes to "
            f"return per sample. Received: top={top!r} of type {type(top).__name__}"
        )
    if top <= 0:
        raise ValueError(
            "`top` must be a positive integer, the number of classes to "
            f"return per sample. Received: top={top!r}"
        )
    top = int(top)
    if keras.ops.is_tensor(preds):
        preds = keras.ops.convert_to_numpy(preds)
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != IMAGENET_CLASSES:
        raise ValueError(
            "`decode_predictions` expects a batch of ImageNet predictions, "
            f"an array of shape (samples, {IMAGENET_CLASSES}). For a single "
            "sample, add the batch axis with `preds[None]`. Received: preds "
            f"with shape {preds.shape}"
        )

    class_index = _load_class_index()
    top = min(top, IMAGENET_CLASSES)
    results = []
    for sample in preds:
        # A stable sort keeps ties in class order.
        order = np.argsort(-sample, kind="stable")[:top]
        results.append(
            [(*class_index[int(i)], float(sample[i])) for i in order]
        )
    return results
