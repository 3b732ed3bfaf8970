"""Export models as SavedModel, `.keras` or `.weights.h5`, and verify the result.

SavedModel serving signature, the contract for serving clients:

    serving_default(images) -> {"outputs": ...}

- Without in-graph preprocessing, `images` is a float32 batch in the
  model's input layout, already preprocessed (`preprocess_input`), such as
  `(None, 224, 224, 3)`.
- With `include_preprocessing=True`, `images` is a uint8 batch of raw RGB
  images of shape `(None, None, None, 3)` (channels last, any height and
  width, one size per batch). The graph center-crops and resizes them to
  the model's input size with the policy of `keras_resnets.images`, applies
  the model's preprocessing mode and transposes to channels first if the
  model uses that layout.

`outputs` is the model output, for example `(None, 1000)` class
probabilities. Reload with `tf.saved_model.load(path).signatures[
"serving_default"](images=...)` or
`keras.layers.TFSMLayer(path, call_endpoint="serving_default")`.

TensorFlow is imported only when a SavedModel is written or read, and
needs the TensorFlow backend of Keras.
"""

import dataclasses
import logging
import os
import pathlib
import shutil
import tempfile
from typing import Optional, Tuple

import keras
import numpy as np

from keras_resnets import imagenet_utils
from keras_resnets.images import DEFAULT_CROP_FRACTION, center_crop_box, check_crop_fraction

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "ExportMismatchError",
    "FORMATS",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "SERVING_SIGNATURE",
    "Verification",
    "check_output_path",
    "describe_signature",
    "export_keras",
    "export_model",
    "export_saved_model",
    "export_weights",
    "format_from_path",
    "verify_export",
]

logger = logging.getLogger(__name__)

SERVING_SIGNATURE = "serving_default"
INPUT_NAME = "images"
OUTPUT_NAME = "outputs"
FORMATS = ("savedmodel", "keras", "weights")

# A reloaded artifact matches when max |reloaded - model| <= DEFAULT_ATOL +
# DEFAULT_RTOL * max |model|. Reloaded float32 graphs may pick other
# convolution algorithms, which changes the last bits of each sum.
DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5

# Height and width of the verification sample along input axes of unknown
# size.
_SAMPLE_SIZE_FOR_UNKNOWN_AXES = 64
_SAMPLE_BATCH = 2
# Raw image shapes that the in-graph preprocessing must accept: one pixel,
# and an odd, elongated size.
_ODD_RAW_SHAPES = ((1, 1, 1, 3), (1, 37, 91, 3))

_KERAS_SUFFIX = ".keras"
_WEIGHTS_SUFFIX = ".weights.h5"


class ExportMismatchError(ValueError):
    """Raised when a reloaded artifact's outputs differ from the model's.

    Attributes:
        verification: the `Verification` with every difference measured, or
            None when an output had the wrong shape and could not be compared.
    """

    def __init__(self, message, *, verification):
        super().__init__(message)
        self.verification = verification


@dataclasses.dataclass(frozen=True)
class Verification:
    """Result of comparing a reloaded artifact with the in-memory model.

    Attributes:
        path: the artifact.
        export_format: `"savedmodel"`, `"keras"` or `"weights"`.
        differences: `(how the artifact was reloaded, max abs difference)`
            for each reload.
        tolerance: the largest accepted max abs difference.
        sample_shape: shape of the input batch fed to the artifact.
    """

    path: pathlib.Path
    export_format: str
    differences: Tuple[Tuple[str, float], ...]
    tolerance: float
    sample_shape: Tuple[int, ...]

    @property
    def max_abs_difference(self):
        """The largest difference over all reloads."""
        return max(difference for _, difference in self.differences)

    @property
    def passed(self):
        """Whether every difference is within the tolerance."""
        return self.max_abs_difference <= self.tolerance

    def describe(self):
        """Return one line per reload with its difference, and the tolerance."""
        lines = [
            f"{reloader}: max abs difference {difference:.3g}"
            for reloader, difference in self.differences
        ]
        lines.append(
            f"tolerance {self.tolerance:.3g} (atol + rtol * max |output|), "
            f"sample of shape {self.sample_shape}"
        )
        return "\n".join(lines)


def _import_tensorflow():
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "Writing and reading a SavedModel needs the TensorFlow backend of "
            "Keras. Set KERAS_BACKEND=tensorflow before importing keras. "
            f"Active backend: {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    return tf


def format_from_path(path):
    """Return the export format implied by a path's suffix.

    `.keras` is `"keras"`, `.weights.h5` is `"weights"`, anything else is a
    SavedModel folder.
    """
    name = pathlib.Path(path).name
    if name.endswith(_KERAS_SUFFIX):
        return "keras"
    if name.endswith(_WEIGHTS_SUFFIX):
        return "weights"
    return "savedmodel"


def _check_export_format(export_format, path):
    if export_format not in FORMATS:
        raise ValueError(
            f"`export_format` must be one of {FORMATS}. Received: "
            f"export_format={export_format!r}"
        )
    suffix = {"keras": _KERAS_SUFFIX, "weights": _WEIGHTS_SUFFIX}.get(export_format)
    if suffix is not None and not pathlib.Path(path).name.endswith(suffix):
        raise ValueError(
            f"Keras writes the {export_format!r} format only to paths ending in "
            f"{suffix!r}. Rename the output, e.g. to '{pathlib.Path(path).name}{suffix}'. "
            f"Received: path={str(path)!r}"
        )


def _check_preprocessing_format(include_preprocessing, export_format):
    if include_preprocessing and export_format != "savedmodel":
        raise ValueError(
            "In-graph preprocessing exists only in SavedModels, because "
            "`.keras` and `.weights.h5` files store Keras layers only. Use "
            "export_format='savedmodel', or preprocess inputs with "
            "`preprocess_input` before calling the reloaded model. Received: "
            f"include_preprocessing=True with export_format={export_format!r}"
        )


def _check_single_io_model(model, function_name):
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`{function_name}` needs a keras.Model. Received: model of type "
            f"{type(model).__name__}"
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"`{function_name}` needs a model with one image input and one "
            f"output. Received: model {model.name!r} with {len(model.inputs)} "
            f"inputs and {len(model.outputs)} outputs"
        )


def _check_preprocessing_mode(preprocessing):
    if preprocessing not in imagenet_utils.MODES:
        raise ValueError(
            "In-graph preprocessing needs the model's `preprocessing` mode: "
            f"one of {imagenet_utils.MODES} ('caffe' for ResNet V1, 'tf' for "
            "ResNet V2; the architecture table's `preprocessing` field). "
            f"Received: preprocessing={preprocessing!r}"
        )


def _model_data_format(model):
    """Return the data format of the first layer that has one."""
    for layer in model.layers:
        data_format = getattr(layer, "data_format", None)
        if data_format in ("channels_last", "channels_first"):
            return data_format
    return keras.config.image_data_format()


def _spatial_size(model):
    """Return the model's input `(height, width)`; either may be None."""
    shape = tuple(model.inputs[0].shape[1:])
    if _model_data_format(model) == "channels_first":
        return shape[1], shape[2]
    return shape[0], shape[1]


def _resolve_image_size(model, image_size):
    height, width = _spatial_size(model)
    if height is not None and width is not None:
        if image_size is not None and tuple(image_size) != (height, width):
            raise ValueError(
                f"`image_size` must match the model's input size {(height, width)} "
                "or be None. Received: "
                f"image_size={image_size!r}"
            )
        return height, width
    if image_size is None:
        raise ValueError(
            f"Model {model.name!r} accepts any image size (input shape "
            f"{tuple(model.inputs[0].shape)}), so in-graph preprocessing needs "
            "the size to resize images to. Pass image_size=(height, width). "
            "Received: image_size=None"
        )
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(side, int) and side > 0 for side in image_size)
    ):
        raise ValueError(
            "`image_size` must be a (height, width) pair of positive ints. "
            f"Received: image_size={image_size!r}"
        )
    return tuple(image_size)


def _make_preprocessing(tf, *, image_size, crop_fraction, mode, data_format):
    """Return a TensorFlow function from raw uint8 NHWC images to model inputs.

    It picks the same box as `keras_resnets.images.center_crop_box`, with
    the same float64 arithmetic and half-to-even rounding.
    """
    target_height, target_width = image_size

    def preprocess(images):
        shape = tf.shape(images)
        height = tf.cast(shape[1], tf.float64)
        width = tf.cast(shape[2], tf.float64)
        scale = tf.minimum(height / target_height, width / target_width) * crop_fraction
        box_height = tf.cast(tf.round(target_height * scale), tf.int32)
        box_width = tf.cast(tf.round(target_width * scale), tf.int32)
        box_height = tf.minimum(shape[1], tf.maximum(1, box_height))
        box_width = tf.minimum(shape[2], tf.maximum(1, box_width))

        images = tf.image.crop_to_bounding_box(
            images,
            (shape[1] - box_height) // 2,
            (shape[2] - box_width) // 2,
            box_height,
            box_width,
        )
        images = tf.image.resize(
            tf.cast(images, tf.float32), image_size, method="bilinear", antialias=True
        )
        images = imagenet_utils.preprocess_input(images, data_format="channels_last", mode=mode)
        if data_format == "channels_first":
            images = tf.transpose(images, (0, 3, 1, 2))
        return images

    return preprocess


def check_output_path(path, overwrite=False):
    """Check that an artifact may be written to `path`; return it as a `pathlib.Path`.

    Raises:
        FileNotFoundError: if the parent folder does not exist.
        FileExistsError: if `path` exists and `overwrite` is False, or is a
            folder that is neither empty nor a SavedModel.
    """
    path = pathlib.Path(path)
    if not path.exists():
        if not path.parent.is_dir():
            raise FileNotFoundError(
                f"Output folder {path.parent} does not exist. Create it first."
            )
        return path
    if not overwrite:
        raise FileExistsError(
            f"{path} already exists. Choose another path, or pass overwrite=True "
            "(--overwrite on the command line) to replace it."
        )
    if path.is_dir() and any(path.iterdir()) and not (path / "saved_model.pb").is_file():
        # Refusing here protects folders that are not SavedModels from being
        # deleted by a mistyped output path.
        raise FileExistsError(
            f"{path} is a folder that is not empty and not a SavedModel, so it "
            "is not replaced. Choose another output path."
        )
    return path


def _write_replacing(path, write):
    """Call `write(temporary path)`, then move the result to `path`.

    The artifact is written next to `path` first, so an interrupted export
    never leaves a half-written artifact under the final name.
    """
    try:
        staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as error:
        raise OSError(
            f"Cannot write the export to {path}: {error.strerror or error}. "
            "Choose an output path in a folder that exists and is writable."
        ) from error
    try:
        staged = staging / path.name
        write(staged)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        os.replace(staged, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def export_saved_model(
    model,
    path,
    *,
    include_preprocessing=False,
    preprocessing=None,
    crop_fraction=DEFAULT_CROP_FRACTION,
    image_size=None,
    overwrite=False,
):
    """Write `model` as a TensorFlow SavedModel with a `serving_default` signature.

    The signature takes `images` and returns `{"outputs": ...}`; the module
    docstring describes both forms.

    Args:
        model: a `keras.Model` with one image input and one output.
        path: folder to write.
        include_preprocessing: if True, the signature takes raw uint8 RGB
            images of any size and resizes and preprocesses them in the
            graph. Default False.
        preprocessing: the model's `preprocess_input` mode (`"caffe"`,
            `"tf"` or `"torch"`); required with `include_preprocessing`.
        crop_fraction: with `include_preprocessing`, the fraction of the
            largest centered box that is resized to the input size, in
            (0, 1]. Default 0.875.
        image_size: with `include_preprocessing`, the `(height, width)` to
            resize to; only needed when the model accepts any size.
        overwrite: whether to replace an existing SavedModel at `path`.
            Default False.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        TypeError: if `model` is not a `keras.Model`.
        ValueError: for a model with several inputs or outputs, or a missing
            or invalid `preprocessing`, `crop_fraction` or `image_size`.
        FileExistsError: if `path` exists and `overwrite` is False, or is a
            folder that is not a SavedModel.
        RuntimeError: if the Keras backend is not TensorFlow.
    """
    _check_single_io_model(model, "export_saved_model")
    if include_preprocessing:
        _check_preprocessing_mode(preprocessing)
        crop_fraction = check_crop_fraction(crop_fraction)
        image_size = _resolve_image_size(model, image_size)
    path = check_output_path(path, overwrite)
    tf = _import_tensorflow()

    if include_preprocessing:
        preprocess = _make_preprocessing(
            tf,
            image_size=image_size,
            crop_fraction=crop_fraction,
            mode=preprocessing,
            data_format=_model_data_format(model),
        )
        input_spec = tf.TensorSpec((None, None, None, 3), tf.uint8, name=INPUT_NAME)

        def serve(images):
            return {OUTPUT_NAME: model(preprocess(images), training=False)}

    else:
        input_spec = tf.TensorSpec(
            tuple(model.inputs[0].shape), model.inputs[0].dtype, name=INPUT_NAME
        )

        def serve(images):
            return {OUTPUT_NAME: model(images, training=False)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name=SERVING_SIGNATURE, fn=serve, input_signature=[input_spec])
    _write_replacing(path, lambda staged: archive.write_out(str(staged), verbose=False))
    logger.info("Wrote SavedModel %s", path)
    return path


def describe_signature(model, *, include_preprocessing=False):
    """Return the serving signature that `export_saved_model` writes for `model`, as text.

    For example `serving_default(images: uint8 (None, None, None, 3)) ->
    {outputs: float32 (None, 1000)}`.
    """
    _check_single_io_model(model, "describe_signature")
    if include_preprocessing:
        input_text = "uint8 (None, None, None, 3)"
    else:
        input_text = f"{model.inputs[0].dtype} {_shape_text(model.inputs[0].shape)}"
    output = model.outputs[0]
    return (
        f"{SERVING_SIGNATURE}({INPUT_NAME}: {input_text}) -> "
        f"{{{OUTPUT_NAME}: {output.dtype} {_shape_text(output.shape)}}}"
    )


def _shape_text(shape):
    return "(" + ", ".join("None" if size is None else str(size) for size in shape) + ")"


def export_keras(model, path, *, overwrite=False):
    """Save `model` as a `.keras` archive (architecture and weights).

    Raises:
        ValueError: if `path` does not end in `.keras`.
        FileExistsError: if `path` exists and `overwrite` is False.
    """
    _check_export_format("keras", path)
    path = check_output_path(path, overwrite)
    return _write_replacing(path, model.save)


def export_weights(model, path, *, overwrite=False):
    """Save the weights of `model` as a Keras 3 `.weights.h5` file.

    Raises:
        ValueError: if `path` does not end in `.weights.h5`.
        FileExistsError: if `path` exists and `overwrite` is False.
    """
    _check_export_format("weights", path)
    path = check_output_path(path, overwrite)
    return _write_replacing(path, model.save_weights)


def _to_model_layout(images, data_format):
    if data_format == "channels_first":
        return np.transpose(images, (0, 3, 1, 2))
    return images


def _model_sample(model, rng, preprocessing):
    """Return a batch of random images in the model's input layout and scale."""
    data_format = _model_data_format(model)
    height, width = (
        size if size is not None else _SAMPLE_SIZE_FOR_UNKNOWN_AXES for size in _spatial_size(model)
    )
    raw = rng.integers(0, 256, size=(_SAMPLE_BATCH, height, width, 3), dtype=np.uint8)
    if preprocessing is None:
        images = raw.astype(np.float32) / 127.5 - 1.0
    else:
        images = imagenet_utils.preprocess_input(
            raw, data_format="channels_last", mode=preprocessing
        )
    return _to_model_layout(np.asarray(images, dtype=np.float32), data_format)


def _raw_sample(model, rng, image_size, crop_fraction, preprocessing):
    """Return (raw uint8 images, the model input they must become).

    The raw images are sized so that the crop box equals the model's input
    size, which makes the in-graph resize an identity; the expected model
    input is then the center crop, preprocessed with NumPy.
    """
    target_height, target_width = image_size
    # round(size / crop_fraction) gives a box of exactly the input size for
    # square inputs; elongated ones may need a pixel more or less.
    candidates = [
        (round(target_height / crop_fraction) + dh, round(target_width / crop_fraction) + dw)
        for dh in (0, -1, 1)
        for dw in (0, -1, 1)
    ]
    for raw_height, raw_width in candidates:
        top, left, height, width = center_crop_box(
            raw_height, raw_width, target_height, target_width, crop_fraction
        )
        if (height, width) == (target_height, target_width):
            break
    else:
        raise RuntimeError(
            "Cannot choose a verification image whose crop box is exactly "
            f"{image_size} for crop_fraction={crop_fraction}. Pass verify=False "
            "and check the SavedModel on your own images."
        )
    raw = rng.integers(0, 256, size=(_SAMPLE_BATCH, raw_height, raw_width, 3), dtype=np.uint8)
    cropped = raw[:, top : top + height, left : left + width]
    expected_input = imagenet_utils.preprocess_input(
        cropped, data_format="channels_last", mode=preprocessing
    )
    return raw, _to_model_layout(np.asarray(expected_input), _model_data_format(model))


def _as_numpy(outputs):
    if isinstance(outputs, dict):
        outputs = outputs[OUTPUT_NAME]
    return keras.ops.convert_to_numpy(outputs)


def _max_abs_difference(actual, expected, reloader):
    actual = np.asarray(actual)
    if actual.shape != expected.shape:
        raise ExportMismatchError(
            f"The artifact reloaded with {reloader} returned outputs of shape "
            f"{actual.shape}, but the model returns {expected.shape}.",
            verification=None,
        )
    return float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64))))


def _reload_saved_model(tf, path, sample, expected, include_preprocessing):
    loaded = tf.saved_model.load(str(path))
    if SERVING_SIGNATURE not in loaded.signatures:
        raise ExportMismatchError(
            f"SavedModel {path} has no {SERVING_SIGNATURE!r} signature "
            f"(signatures: {sorted(loaded.signatures)}). Export it with "
            "`export_saved_model`.",
            verification=None,
        )
    signature = loaded.signatures[SERVING_SIGNATURE]
    differences = [
        (
            "tf.saved_model.load",
            _max_abs_difference(
                _as_numpy(signature(**{INPUT_NAME: tf.constant(sample)})),
                expected,
                "tf.saved_model.load",
            ),
        )
    ]
    layer = keras.layers.TFSMLayer(str(path), call_endpoint=SERVING_SIGNATURE)
    differences.append(
        (
            "keras.layers.TFSMLayer",
            _max_abs_difference(_as_numpy(layer(sample)), expected, "keras.layers.TFSMLayer"),
        )
    )

    if include_preprocessing:
        # Images of other sizes have no exact reference, but they must run
        # and give one finite output row per image.
        for shape in _ODD_RAW_SHAPES:
            outputs = _as_numpy(signature(**{INPUT_NAME: tf.zeros(shape, tf.uint8)}))
            if outputs.shape != (shape[0], *expected.shape[1:]) or not np.all(np.isfinite(outputs)):
                raise ExportMismatchError(
                    f"SavedModel {path} returned outputs of shape {outputs.shape} "
                    f"(finite: {bool(np.all(np.isfinite(outputs)))}) for raw images "
                    f"of shape {shape}; expected finite outputs of shape "
                    f"{(shape[0], *expected.shape[1:])}.",
                    verification=None,
                )
    return differences


def verify_export(
    model,
    path,
    *,
    export_format=None,
    include_preprocessing=False,
    preprocessing=None,
    crop_fraction=DEFAULT_CROP_FRACTION,
    image_size=None,
    reference_model=None,
    rtol=DEFAULT_RTOL,
    atol=DEFAULT_ATOL,
    seed=0,
):
    """Reload an exported artifact and check that it reproduces the model.

    A batch of random images goes through the reloaded artifact and through
    `reference_model` (default `model`); their outputs must agree within
    `atol + rtol * max |reference output|`.

    - SavedModel: reloaded with `tf.saved_model.load` (calling the
      `serving_default` signature) and with `keras.layers.TFSMLayer`. With
      in-graph preprocessing, the raw images are sized so that the resize is
      an identity, and the reference is the model on the NumPy-preprocessed
      center crop; raw images of other sizes (1 x 1, 37 x 91) must give
      finite outputs of the right shape.
    - `.keras`: reloaded with `keras.saving.load_model`.
    - `.weights.h5`: loaded into a `keras.models.clone_model` copy of
      `model`, whose weights start random.

    Args:
        model: the model that was exported.
        path: the artifact.
        export_format: `"savedmodel"`, `"keras"`, `"weights"`, or None to
            infer it from `path` (`format_from_path`).
        include_preprocessing, preprocessing, crop_fraction, image_size: as
            given to `export_saved_model`. Without in-graph preprocessing,
            `preprocessing` (if given) scales the random sample realistically.
        reference_model: the model whose outputs the artifact must
            reproduce, such as the original of an optimized copy; default
            `model`.
        rtol: relative tolerance, against the largest reference output.
        atol: absolute tolerance.
        seed: seed of the random sample.

    Returns:
        A `Verification` that passed.

    Raises:
        ExportMismatchError: if an output differs by more than the tolerance
            or has the wrong shape.
        ValueError: for an invalid argument.
        RuntimeError: if a SavedModel is verified without the TensorFlow
            backend.
    """
    _check_single_io_model(model, "verify_export")
    if reference_model is None:
        reference_model = model
    if export_format is None:
        export_format = format_from_path(path)
    _check_export_format(export_format, path)
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Exported artifact not found: {path}")
    _check_preprocessing_format(include_preprocessing, export_format)

    rng = np.random.default_rng(seed)
    if include_preprocessing:
        _check_preprocessing_mode(preprocessing)
        crop_fraction = check_crop_fraction(crop_fraction)
        image_size = _resolve_image_size(model, image_size)
        sample, reference_input = _raw_sample(model, rng, image_size, crop_fraction, preprocessing)
    else:
        sample = _model_sample(model, rng, preprocessing)
        reference_input = sample
    expected = _as_numpy(reference_model(reference_input, training=False))

    if export_format == "savedmodel":
        tf = _import_tensorflow()
        differences = _reload_saved_model(tf, path, sample, expected, include_preprocessing)
    elif export_format == "keras":
        reloaded = keras.saving.load_model(path)
        differences = [
            (
                "keras.saving.load_model",
                _max_abs_difference(
                    _as_numpy(reloaded(sample, training=False)), expected, "keras.saving.load_model"
                ),
            )
        ]
    else:
        clone = keras.models.clone_model(model)
        clone.load_weights(path)
        differences = [
            (
                "Model.load_weights",
                _max_abs_difference(
                    _as_numpy(clone(sample, training=False)), expected, "Model.load_weights"
                ),
            )
        ]

    verification = Verification(
        path=path,
        export_format=export_format,
        differences=tuple(differences),
        tolerance=atol + rtol * float(np.max(np.abs(expected))),
        sample_shape=tuple(sample.shape),
    )
    if not verification.passed:
        raise ExportMismatchError(
            f"The exported {export_format} artifact {path} does not reproduce "
            f"the model: max abs difference {verification.max_abs_difference:.3g} "
            f"exceeds the tolerance {verification.tolerance:.3g}.\n"
            f"{verification.describe()}",
            verification=verification,
        )
    return verification


def export_model(
    model,
    path,
    *,
    export_format=None,
    include_preprocessing=False,
    preprocessing=None,
    crop_fraction=DEFAULT_CROP_FRACTION,
    image_size=None,
    overwrite=False,
    verify=True,
    reference_model=None,
):
    """Export `model` in one of `FORMATS`, then verify the artifact.

    Args:
        model: the model to export.
        path: output path: a folder for a SavedModel, a file ending in
            `.keras` or `.weights.h5` otherwise.
        export_format: one of `FORMATS`, or None to infer it from `path`.
        include_preprocessing, preprocessing, crop_fraction, image_size: as
            in `export_saved_model`; `include_preprocessing` needs the
            SavedModel format.
        overwrite: whether to replace an existing artifact. Default False.
        verify: whether to run `verify_export`. Default True.
        reference_model: passed to `verify_export`.

    Returns:
        The `Verification`, or None if `verify` is False.

    Raises:
        ValueError, FileExistsError, RuntimeError: as in the export
            functions; ExportMismatchError: as in `verify_export`.
    """
    if export_format is None:
        export_format = format_from_path(path)
    _check_export_format(export_format, path)
    _check_preprocessing_format(include_preprocessing, export_format)

    if export_format == "savedmodel":
        export_saved_model(
            model,
            path,
            include_preprocessing=include_preprocessing,
            preprocessing=preprocessing,
            crop_fraction=crop_fraction,
            image_size=image_size,
            overwrite=overwrite,
        )
    elif export_format == "keras":
        export_keras(model, path, overwrite=overwrite)
    else:
        export_weights(model, path, overwrite=overwrite)

    if not verify:
        return None
    return verify_export(
        model,
        path,
        export_format=export_format,
        include_preprocessing=include_preprocessing,
        preprocessing=preprocessing,
        crop_fraction=crop_fraction,
        image_size=image_size,
        reference_model=reference_model,
    )
