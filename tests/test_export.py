"""Tests of keras_resnets.export: SavedModel, .keras and .weights.h5 round trips."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras
from keras_resnets import export, images
from keras_resnets.architectures import get_architecture
from keras_resnets.builder import build_model

SMALL_SIZE = 64
# round(64 / 0.875) = 73: the default 0.875 center crop of a 73 x 73 image
# is exactly 64 x 64, starting at pixel (73 - 64) // 2 = 4.
RAW_SIZE = 73
CROP_OFFSET = 4

# keras.applications' own preprocessing is the reference for each mode.
REFERENCE_PREPROCESSING = {
    "caffe": keras.applications.resnet50.preprocess_input,
    "tf": keras.applications.resnet_v2.preprocess_input,
}


def _small_model(name):
    return build_model(
        get_architecture(name),
        weights=None,
        include_top=False,
        pooling="avg",
        input_shape=(SMALL_SIZE, SMALL_SIZE, 3),
    )


def _tiny_model():
    """A small convolutional model for checks that need no ResNet."""
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


@pytest.fixture(scope="module", params=["resnet50", "resnet50v2"])
def small_model(request):
    """A ResNet V1 and a V2 without top at 64 x 64, with random weights."""
    return request.param, _small_model(request.param)


def _random_images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _tolerance(expected):
    return export.DEFAULT_ATOL + export.DEFAULT_RTOL * np.max(np.abs(expected))


def test_saved_model_round_trip(small_model, tmp_path):
    name, model = small_model
    path = export.export_saved_model(model, tmp_path / "model")
    inputs = REFERENCE_PREPROCESSING[get_architecture(name).preprocessing](
        _random_images((2, SMALL_SIZE, SMALL_SIZE, 3)).astype("float32")
    )
    expected = model.predict(inputs, verbose=0)

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    input_spec = signature.structured_input_signature[1]["images"]
    outputs = signature(images=tf.constant(inputs))["outputs"].numpy()
    layer_outputs = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default")(inputs)

    assert input_spec.dtype == tf.float32
    assert tuple(input_spec.shape) == (None, SMALL_SIZE, SMALL_SIZE, 3)
    assert outputs.shape == (2, 2048)
    assert np.max(np.abs(outputs - expected)) <= _tolerance(expected)
    assert np.max(np.abs(layer_outputs["outputs"].numpy() - expected)) <= _tolerance(expected)


def test_saved_model_with_preprocessing_round_trip(small_model, tmp_path):
    name, model = small_model
    mode = get_architecture(name).preprocessing
    path = export.export_saved_model(
        model, tmp_path / "model", include_preprocessing=True, preprocessing=mode
    )
    raw = _random_images((2, RAW_SIZE, RAW_SIZE, 3))
    crop = raw[:, CROP_OFFSET : CROP_OFFSET + SMALL_SIZE, CROP_OFFSET : CROP_OFFSET + SMALL_SIZE]
    expected = model.predict(REFERENCE_PREPROCESSING[mode](crop.astype("float32")), verbose=0)

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    input_spec = signature.structured_input_signature[1]["images"]
    outputs = signature(images=tf.constant(raw))["outputs"].numpy()
    other_size = signature(images=tf.constant(_random_images((1, 500, 300, 3))))["outputs"].numpy()

    assert input_spec.dtype == tf.uint8
    assert tuple(input_spec.shape) == (None, None, None, 3)
    assert np.max(np.abs(outputs - expected)) <= _tolerance(expected)
    assert other_size.shape == (1, 2048)
    assert np.all(np.isfinite(other_size))


def test_keras_round_trip(small_model, tmp_path):
    _, model = small_model
    path = export.export_keras(model, tmp_path / "model.keras")
    inputs = _random_images((2, SMALL_SIZE, SMALL_SIZE, 3)).astype("float32") / 127.5 - 1
    expected = model.predict(inputs, verbose=0)

    reloaded = keras.saving.load_model(path)

    np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), expected, rtol=0, atol=1e-6)


def test_weights_round_trip(tmp_path):
    model = _small_model("resnet50v2")
    path = export.export_weights(model, tmp_path / "model.weights.h5")
    inputs = _random_images((2, SMALL_SIZE, SMALL_SIZE, 3)).astype("float32") / 127.5 - 1
    fresh = _small_model("resnet50v2")

    fresh.load_weights(path)

    np.testing.assert_allclose(
        fresh.predict(inputs, verbose=0), model.predict(inputs, verbose=0), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("export_format, file_name", [("keras", "m.keras"), ("weights", "m.weights.h5")])
def test_export_model_verifies_files(export_format, file_name, tmp_path):
    verification = export.export_model(_tiny_model(), tmp_path / file_name, preprocessing="caffe")
    assert verification.export_format == export_format
    assert verification.passed
    assert verification.max_abs_difference <= verification.tolerance


def test_export_model_verifies_saved_model(tmp_path):
    verification = export.export_model(
        _tiny_model(), tmp_path / "model", include_preprocessing=True, preprocessing="tf"
    )
    reloaders = [reloader for reloader, _ in verification.differences]
    assert reloaders == ["tf.saved_model.load", "keras.layers.TFSMLayer"]
    # round(16 / 0.875) = 18.
    assert verification.sample_shape == (2, 18, 18, 3)
    assert verification.passed


def test_verify_detects_different_weights(tmp_path):
    exported = _tiny_model()
    other = _tiny_model()
    path = export.export_keras(exported, tmp_path / "model.keras")

    with pytest.raises(export.ExportMismatchError, match="does not reproduce the model") as caught:
        export.verify_export(other, path)
    assert caught.value.verification.max_abs_difference > caught.value.verification.tolerance


@pytest.mark.parametrize("image_shape", [(210, 330, 3), (30, 20, 3)])
def test_in_graph_resize_matches_pil(image_shape, tmp_path):
    # An identity model shows the preprocessed pixels: mode "tf" maps
    # p to p / 127.5 - 1. Random noise is the hardest case for two resize
    # implementations, and 30 x 20 to 48 x 64 upscales.
    inputs = keras.Input((48, 64, 3))
    identity = keras.Model(inputs, keras.layers.Identity()(inputs))
    path = export.export_saved_model(
        identity, tmp_path / "identity", include_preprocessing=True, preprocessing="tf"
    )
    noise = _random_images(image_shape, seed=3)
    image_path = tmp_path / "noise.png"
    Image.fromarray(noise).save(image_path)

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    in_graph = (signature(images=tf.constant(noise[None]))["outputs"].numpy() + 1) * 127.5
    with_pil = images.load_image(image_path, (48, 64)).astype(np.float32)

    assert in_graph.shape == (1, 48, 64, 3)
    # Pillow rounds to uint8 (up to 0.5) and its filter weights differ
    # slightly from TensorFlow's, so the two agree within one gray level.
    assert np.max(np.abs(in_graph[0] - with_pil)) <= 1.0


def test_overwrite_replaces_saved_model(tmp_path):
    path = tmp_path / "model"
    export.export_saved_model(_tiny_model(), path)
    replacement = _tiny_model()
    export.export_saved_model(replacement, path, overwrite=True)
    inputs = _random_images((1, 16, 16, 3)).astype("float32")

    outputs = tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant(inputs))

    np.testing.assert_allclose(
        outputs["outputs"].numpy(), replacement.predict(inputs, verbose=0), rtol=1e-4, atol=1e-5
    )
    assert sorted(child.name for child in tmp_path.iterdir()) == ["model"]


def test_existing_output_raises(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a model")
    with pytest.raises(FileExistsError, match="already exists.*overwrite=True"):
        export.export_keras(_tiny_model(), path)
    assert path.read_bytes() == b"not a model"


def test_overwrite_keeps_other_folders(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a SavedModel"):
        export.export_saved_model(_tiny_model(), folder, overwrite=True)
    assert (folder / "notes.txt").read_text() == "keep me"


def test_missing_output_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="Output folder .*missing.* does not exist"):
        export.export_keras(_tiny_model(), tmp_path / "missing" / "model.keras")


def test_wrong_suffix_raises(tmp_path):
    with pytest.raises(ValueError, match=r"ending in '\.keras'.*Received: path="):
        export.export_keras(_tiny_model(), tmp_path / "model.h5")
    with pytest.raises(ValueError, match=r"ending in '\.weights\.h5'"):
        export.export_weights(_tiny_model(), tmp_path / "model.h5")


def test_preprocessing_needs_mode(tmp_path):
    with pytest.raises(ValueError, match="Received: preprocessing=None"):
        export.export_saved_model(_tiny_model(), tmp_path / "m", include_preprocessing=True)


def test_preprocessing_needs_saved_model_format(tmp_path):
    with pytest.raises(ValueError, match="only in SavedModels.*export_format='keras'"):
        export.export_model(
            _tiny_model(), tmp_path / "m.keras", include_preprocessing=True, preprocessing="caffe"
        )
    assert not (tmp_path / "m.keras").exists()


def test_any_size_model_needs_image_size(tmp_path):
    model = build_model(
        get_architecture("resnet50"), weights=None, include_top=False, input_shape=(None, None, 3)
    )
    with pytest.raises(ValueError, match="Pass image_size=.*Received: image_size=None"):
        export.export_saved_model(model, tmp_path / "m", include_preprocessing=True, preprocessing="caffe")


def test_invalid_crop_fraction_raises(tmp_path):
    with pytest.raises(ValueError, match=r"crop_fraction.*\(0, 1\].*Received: crop_fraction=1.5"):
        export.export_saved_model(
            _tiny_model(),
            tmp_path / "m",
            include_preprocessing=True,
            preprocessing="caffe",
            crop_fraction=1.5,
        )


def test_two_output_model_raises(tmp_path):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, [keras.layers.Identity()(inputs), keras.layers.ReLU()(inputs)])
    with pytest.raises(ValueError, match="one image input and one output.*2 outputs"):
        export.export_saved_model(model, tmp_path / "m")


def test_unknown_format_raises(tmp_path):
    with pytest.raises(ValueError, match="export_format.*Received: export_format='onnx'"):
        export.export_model(_tiny_model(), tmp_path / "m", export_format="onnx")


def test_describe_signature():
    model = _tiny_model()
    assert export.describe_signature(model) == (
        "serving_default(images: float32 (None, 16, 16, 3)) -> {outputs: float32 (None, 3)}"
    )
    assert export.describe_signature(model, include_preprocessing=True) == (
        "serving_default(images: uint8 (None, None, None, 3)) -> {outputs: float32 (None, 3)}"
    )


@pytest.mark.slow
def test_full_size_saved_model_with_preprocessing(tmp_path):
    model = build_model(get_architecture("resnet50"), weights=None)
    verification = export.export_model(
        model, tmp_path / "resnet50", include_preprocessing=True, preprocessing="caffe"
    )
    signature = tf.saved_model.load(str(tmp_path / "resnet50")).signatures["serving_default"]
    outputs = signature(images=tf.constant(_random_images((1, 480, 640, 3))))["outputs"].numpy()

    assert verification.passed
    # round(224 / 0.875) = 256.
    assert verification.sample_shape == (2, 256, 256, 3)
    assert outputs.shape == (1, 1000)
    np.testing.assert_allclose(outputs.sum(), 1.0, rtol=1e-4)


def test_in_graph_preprocessing_channels_first(tmp_path):
    # ZeroPadding2D with no padding is an identity that carries a data
    # format, so the exported graph must transpose to channels first.
    inputs = keras.Input((3, 20, 30))
    padding = keras.layers.ZeroPadding2D(padding=0, data_format="channels_first")
    identity = keras.Model(inputs, padding(inputs))
    path = export.export_saved_model(
        identity, tmp_path / "identity", include_preprocessing=True, preprocessing="tf", crop_fraction=1.0
    )
    raw = _random_images((1, 20, 30, 3))

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    outputs = signature(images=tf.constant(raw))["outputs"].numpy()

    assert outputs.shape == (1, 3, 20, 30)
    np.testing.assert_allclose(outputs, np.transpose(raw / 127.5 - 1, (0, 3, 1, 2)), atol=1e-6)
