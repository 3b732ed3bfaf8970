"""Fast inference for ResNet models: BatchNormalization folding, bfloat16, a batched predictor.

`optimize_for_inference` returns a new Functional model in which every
BatchNormalization that directly follows a convolution is folded into that
convolution's kernel and bias. `Predictor` runs such a model through one
compiled TensorFlow graph with a fixed batch shape and classifies raw images.
`count_flops` counts the multiply-adds of convolution and dense layers.

The model code here uses only the public Keras API, so it works on every
Keras backend. `Predictor` needs the TensorFlow backend and imports
TensorFlow only when it is created.
"""

import logging
import os
import warnings

import keras
import numpy as np

from keras_resnets import _folding, architectures

__all__ = ["optimize_for_inference", "Predictor", "count_flops", "configure_cpu_threads"]

logger = logging.getLogger(__name__)

# Precision name -> Keras dtype policy of the model body. Layers that produce
# a model output always compute in float32, so outputs are float32.
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16"}

PREPROCESSING_MODES = ("caffe", "tf", "torch")

_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def _check_functional(model, function_name):
    # keras.Function is the public base class of Functional models; Sequential
    # and subclassed models are not instances of it.
    if not (isinstance(model, keras.Model) and isinstance(model, keras.Function)):
        raise TypeError(
            f"`{function_name}` needs a Functional keras.Model, such as the models "
            "of keras_resnets or keras.applications. For a Sequential model, "
            "rebuild it with `keras.Model(inputs, outputs)`. Received: "
            f"model of type {type(model).__name__}"
        )


def _check_precision(precision):
    if precision not in PRECISIONS:
        raise ValueError(
            f"`precision` must be one of {sorted(PRECISIONS)}. Received: "
            f"precision={precision!r}"
        )


def optimize_for_inference(model, precision="float32"):
    """Build an inference copy of `model` with BatchNormalization folded into convolutions.

    A BatchNormalization is folded when its input is the output of a Conv1D,
    Conv2D or Conv3D layer without activation, that output has no other reader,
    both layers are called once, and the normalization runs over the
    convolution's channel axis. The convolution then gets
    ``kernel * gamma / sqrt(variance + epsilon)`` as kernel and
    ``beta + (bias - mean) * gamma / sqrt(variance + epsilon)`` as bias (a
    convolution without bias gets one). Every other layer is copied with its
    weights and keeps its name. So the V2 pre-activation BatchNormalizations
    (``*_preact_bn``, ``post_bn``) stay as they are, because they follow an
    addition or a pooling layer.

    With ``precision="bfloat16"``, the body computes under the
    ``mixed_bfloat16`` dtype policy (float32 variables, bfloat16 math) and
    the layers that produce the model outputs, such as the classifier, compute
    in float32, so the outputs are float32. Measured on ResNet50 and
    ResNet50V2 (64x64 inputs, random weights and BatchNormalization
    statistics), the largest bfloat16 logit differed from float32 by about
    5e-3 of the largest |logit|, and the top-1 class agreed on 64 of 64
    inputs; the tests allow 2e-2 and 60 of 64.

    Args:
        model: a Functional `keras.Model`. It is not modified.
        precision: `"float32"` (default) or `"bfloat16"`.

    Returns:
        A new Functional `keras.Model` of built-in Keras layers, with its own
        variables, that can be saved or exported like the original. Its layers
        run in inference mode as in the original.

    Raises:
        TypeError: if `model` is not a Functional `keras.Model`.
        ValueError: if `precision` is not one of the accepted names.
    """
    _check_functional(model, "optimize_for_inference")
    _check_precision(precision)
    # NOTE: layers that are themselves models are copied unchanged, with no
    # folding and no precision change inside them.
    return _folding.rebuild_folded(model, body_policy=PRECISIONS[precision])


def count_flops(model):
    """Count the floating-point operations of one example through `model`.

    Only the multiply-adds of Conv1D/2D/3D, DepthwiseConv2D and Dense layers
    are counted, one multiply-add (MAC) being 2 FLOPs. Bias additions,
    normalization, activations, pooling and additions are left out.

    Args:
        model: a Functional `keras.Model` whose input shape is fully known
            apart from the batch axis.

    Returns:
        The FLOPs per example, as an int.

    Raises:
        TypeError: if `model` is not a Functional `keras.Model`.
        ValueError: if a counted layer's input shape is not fully known.
    """
    # TODO: share one counter with keras_resnets.summary.count_flops, which
    # counts the same layers for the `summary` command.
    _check_functional(model, "count_flops")
    multiply_adds = 0
    for entry in model.get_config()["layers"]:
        layer = model.get_layer(entry["name"])
        # Each call of a shared layer is counted, with the shape of that call.
        for node in entry["inbound_nodes"]:
            for tensor in _folding._serialized_tensors(node):
                multiply_adds += _layer_multiply_adds(layer, tuple(tensor["shape"]))
        if isinstance(layer, keras.Model):
            multiply_adds += count_flops(layer) // 2 * len(entry["inbound_nodes"])
    return 2 * multiply_adds


def _layer_multiply_adds(layer, input_shape):
    """Return the multiply-adds of one call of `layer` on one example."""
    if not isinstance(layer, _CONVOLUTIONS + (keras.layers.DepthwiseConv2D, keras.layers.Dense)):
        return 0
    if any(size is None for size in input_shape[1:]):
        raise ValueError(
            f"`count_flops` needs fully known input shapes, but layer {layer.name!r} "
            f"gets an input of shape {input_shape}. Build the model with a fixed "
            "`input_shape`, for example (224, 224, 3)."
        )
    output_shape = layer.compute_output_shape(input_shape)
    output_elements = int(np.prod(output_shape[1:]))
    if isinstance(layer, keras.layers.Dense):
        return output_elements * input_shape[-1]
    window = int(np.prod(layer.kernel_size))
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return output_elements * window
    channel_axis = 1 if layer.data_format == "channels_first" else -1
    input_channels_per_group = input_shape[channel_axis] // layer.groups
    return output_elements * window * input_channels_per_group


def _import_tensorflow():
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "`Predictor` compiles the model with tf.function and needs the "
            "TensorFlow backend of Keras. Set KERAS_BACKEND=tensorflow before "
            f"importing keras. Active backend: {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    return tf


def _usable_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def configure_cpu_threads(intra_op_threads=None, inter_op_threads=None):
    """Set TensorFlow's CPU thread pools, if TensorFlow has not started its runtime yet.

    TensorFlow fixes its thread pools when it runs its first operation (building
    a model is enough), so call this first. By default the intra-op pool (the
    threads inside one convolution) gets one thread per usable core and the
    inter-op pool (independent operations run side by side) gets 1, because a
    ResNet's layers run one after another.

    Args:
        intra_op_threads: threads per operation, or None for one per usable core.
        inter_op_threads: operations run at once, or None for 1.

    Returns:
        True if the pools now have these sizes, False if TensorFlow had already
        started with other sizes and keeps them. That case is logged, and also
        warned about when a thread count was passed explicitly.

    Raises:
        ValueError: if a thread count is given and is not a positive int.
        RuntimeError: if the Keras backend is not TensorFlow.
    """
    for name, value in (("intra_op_threads", intra_op_threads), ("inter_op_threads", inter_op_threads)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError(
                f"`{name}` must be a positive int, or None for the default. "
                f"Received: {name}={value!r}"
            )
    tf = _import_tensorflow()
    intra = intra_op_threads if intra_op_threads is not None else _usable_cores()
    inter = inter_op_threads if inter_op_threads is not None else 1
    threading_config = tf.config.threading
    if (
        threading_config.get_intra_op_parallelism_threads() == intra
        and threading_config.get_inter_op_parallelism_threads() == inter
    ):
        return True
    try:
        threading_config.set_intra_op_parallelism_threads(intra)
        threading_config.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        message = (
            "TensorFlow's runtime has already started, so its CPU thread pools "
            f"stay as they are instead of intra_op_threads={intra}, "
            f"inter_op_threads={inter}. Call `configure_cpu_threads` before "
            "building or running any model."
        )
        if intra_op_threads is not None or inter_op_threads is not None:
            warnings.warn(message, stacklevel=2)
        logger.info(message)
        return False
    logger.info("TensorFlow CPU threads set: intra-op %d, inter-op %d", intra, inter)
    return True


def _image_data_format(model):
    """Return the data format of the first convolution or pooling layer of `model`."""
    for layer in model.layers:
        data_format = getattr(layer, "data_format", None)
        if data_format in ("channels_last", "channels_first"):
            return data_format
    return keras.config.image_data_format()


def _default_preprocessing(model):
    """Return the preprocessing mode of the table row named like `model`."""
    name = model.name.lower()
    for row in architectures.ARCHITECTURES.values():
        if name in (row.default_name, row.plain_name):
            return row.preprocessing
    raise ValueError(
        f"Cannot tell which preprocessing model {model.name!r} expects, because "
        "its name is not a default model name of keras_resnets or "
        "keras.applications. Pass preprocessing='caffe' (ResNet V1 ImageNet "
        "weights), 'tf' (ResNet V2) or 'torch'."
    )


class Predictor:
    """Run an optimized copy of a model through one compiled graph, in fixed-size batches.

    The model is folded (and cast, for bfloat16) by `optimize_for_inference`
    once, traced by `tf.function` for a fixed batch size and frozen (its
    weights become graph constants, so later changes to `self.model`'s
    weights do not reach the compiled graph). Every call of `predict` splits its input into batches of
    that size and zero-pads the last one, so one traced graph serves inputs of
    any length.

    Args:
        model: a Functional `keras.Model` with one image input of fully known
            shape (apart from the batch axis) and one output.
        precision: `"float32"` (default) or `"bfloat16"`, as in
            `optimize_for_inference`.
        batch_size: images per compiled call. Default 32.
        preprocessing: the `keras_resnets.imagenet_utils.preprocess_input`
            mode used by `classify`: `"caffe"`, `"tf"` or `"torch"`. Default
            None, which takes the mode of the architecture whose default
            model name the model has (e.g. "caffe" for "resnet50", "tf" for
            "resnet50v2"); a renamed model needs an explicit mode.
        configure_threads: whether to call `configure_cpu_threads()` with its
            defaults first. Default True.

    Raises:
        TypeError: if `model` is not a Functional `keras.Model`.
        ValueError: for an unknown `precision` or `preprocessing`, a model
            whose name matches no row of the architecture table (unless
            `preprocessing` is given), a
            `batch_size` that is not a positive int, or a model with more
            than one input or output or an input shape that is not fully known.
        RuntimeError: if the Keras backend is not TensorFlow.
    """

    def __init__(
        self, model, precision="float32", batch_size=32, preprocessing=None, configure_threads=True
    ):
        _check_functional(model, "Predictor")
        _check_precision(precision)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(
                "`batch_size` must be a positive int, the number of images per "
                f"compiled call. Received: batch_size={batch_size!r}"
            )
        if preprocessing is None:
            preprocessing = _default_preprocessing(model)
        if preprocessing not in PREPROCESSING_MODES:
            raise ValueError(
                f"`preprocessing` must be one of {PREPROCESSING_MODES} or None "
                "to pick it from the model name. Received: "
                f"preprocessing={preprocessing!r}"
            )
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ValueError(
                "`Predictor` needs a model with one input and one output. "
                f"Received: model {model.name!r} with {len(model.inputs)} inputs "
                f"and {len(model.outputs)} outputs"
            )
        input_shape = tuple(model.inputs[0].shape[1:])
        if any(size is None for size in input_shape):
            raise ValueError(
                "`Predictor` compiles one graph for a fixed input shape, so the "
                "model's input shape must be fully known. Build the model with "
                "an `input_shape` such as (224, 224, 3). Received: model input "
                f"shape {tuple(model.inputs[0].shape)}"
            )

        tf = _import_tensorflow()
        if configure_threads:
            configure_cpu_threads()

        self.precision = precision
        self.batch_size = batch_size
        self.preprocessing = preprocessing
        self.input_shape = input_shape
        self.data_format = _image_data_format(model)
        self.model = optimize_for_inference(model, precision=precision)
        self._input_dtype = model.inputs[0].dtype

        optimized = self.model

        def serve(images):
            return optimized(images, training=False)

        # jit_compile=False: XLA ran ResNet50 slower than TensorFlow's oneDNN
        # kernels on the benchmark CPU.
        traced = tf.function(serve, jit_compile=False).get_concrete_function(
            tf.TensorSpec(shape=(batch_size, *input_shape), dtype=self._input_dtype)
        )
        self._serve = _freeze_variables(traced)
        self._to_tensor = tf.convert_to_tensor

    def predict(self, x):
        """Return the model outputs for a batch of inputs, as a NumPy array.

        Args:
            x: an array of shape `(samples, *input_shape)` already preprocessed
                for the model; any number of samples, zero included.

        Returns:
            A NumPy array with one row per sample.

        Raises:
            ValueError: if `x` does not have the model's input shape.
        """
        x = np.asarray(x, dtype=self._input_dtype)
        if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"`x` must have shape (samples, {', '.join(map(str, self.input_shape))}) "
                "to match the model input. For one sample, add the batch axis "
                f"with `x[None]`. Received: x with shape {x.shape}"
            )
        samples = x.shape[0]
        if samples == 0:
            output_shape = tuple(self.model.outputs[0].shape[1:])
            return np.zeros((0, *output_shape), dtype=self.model.outputs[0].dtype)

        results = []
        for start in range(0, samples, self.batch_size):
            batch = x[start : start + self.batch_size]
            count = batch.shape[0]
            if count < self.batch_size:
                padding = np.zeros((self.batch_size - count, *self.input_shape), dtype=batch.dtype)
                batch = np.concatenate([batch, padding])
            (outputs,) = self._serve(self._to_tensor(batch))
            results.append(outputs.numpy()[:count])
        return np.concatenate(results)

    def classify(self, images, top=5):
        """Classify raw RGB images and return ImageNet labels.

        Each image is resized to the model's input size (bilinear
        interpolation), preprocessed with `self.preprocessing`, run through
        `predict` and decoded with
        `keras_resnets.imagenet_utils.decode_predictions`.

        Args:
            images: one image or a sequence of images. An image is a file path
                (`str` or `os.PathLike`), a PIL image, or an array of shape
                `(height, width, 3)` with RGB values in [0, 255] (uint8 or
                float). A 4-D array is a batch of such arrays.
            top: classes to return per image. Default 5.

        Returns:
            One list per image of `(wnid, class_name, score)` tuples, highest
            score first.

        Raises:
            ValueError: if an image array does not have shape
                `(height, width, 3)`, or the model does not output 1000
                ImageNet classes.
            TypeError: if an image is of an unsupported type.
        """
        from keras_resnets import imagenet_utils

        batch = self._prepare_images(images)
        batch = imagenet_utils.preprocess_input(batch, data_format="channels_last", mode=self.preprocessing)
        if self.data_format == "channels_first":
            batch = np.transpose(batch, (0, 3, 1, 2))
        return imagenet_utils.decode_predictions(self.predict(batch), top=top)

    def _image_size(self):
        if self.data_format == "channels_first":
            return self.input_shape[1:3]
        return self.input_shape[0:2]

    def _prepare_images(self, images):
        """Return the images as one float32 array of shape (samples, height, width, 3)."""
        if isinstance(images, np.ndarray) and images.ndim == 4:
            images = list(images)
        elif not isinstance(images, (list, tuple)):
            images = [images]
        height, width = self._image_size()
        resized = []
        for index, image in enumerate(images):
            array = _image_to_array(image, index)
            array = keras.ops.image.resize(
                array, (height, width), interpolation="bilinear", data_format="channels_last"
            )
            resized.append(keras.ops.convert_to_numpy(array))
        return np.stack(resized).astype(np.float32)


def _freeze_variables(concrete_function):
    """Return `concrete_function` with its captured variables turned into constants.

    Constant weights let TensorFlow's graph optimizer fold the weight casts
    of the bfloat16 model and let the oneDNN convolutions treat their filters
    as constant. Side by side on the benchmark CPU (2-core AMD EPYC,
    TensorFlow 2.21), ResNet50 at batch 1 ran about 5% faster in float32 and
    about 1.5x faster in bfloat16 than with variables.
    """
    # TensorFlow has no public API for this; its own model converters use
    # this function.
    from tensorflow.python.framework import convert_to_constants

    return convert_to_constants.convert_variables_to_constants_v2(concrete_function)


def _image_to_array(image, index):
    """Return one image as a float32 array of shape (height, width, 3)."""
    if isinstance(image, (str, os.PathLike)):
        image = keras.utils.load_img(image, color_mode="rgb")
    elif not isinstance(image, np.ndarray) and hasattr(image, "convert"):
        # A PIL image; checked by its method so PIL stays an optional import.
        image = image.convert("RGB")
    elif not isinstance(image, np.ndarray):
        raise TypeError(
            "Each image must be a file path, a PIL image or a NumPy array of "
            f"shape (height, width, 3). Received: images[{index}] of type "
            f"{type(image).__name__}"
        )
    array = np.asarray(image, dtype=np.float32)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(
            "Each image array must have shape (height, width, 3) with RGB "
            "values in [0, 255]; convert grayscale or RGBA images to RGB "
            f"first. Received: images[{index}] with shape {array.shape}"
        )
    return array
